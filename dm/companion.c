/* companion.c — companion mode: QEMU as a child, libxl's QMP relayed. */
#include "dm/companion.h"
#include "dm/handover.h"
#include "dm/privs.h"
#include "dm/qemu_child.h"
#include "dm/serving.h"
#include "saverestore/sr.h"
#include "platform/platform.h"
#include "saverestore/companion.h"
#include "toolstack/qmp/fdset.h"
#include "toolstack/qmp/proxy.h"
#include "toolstack/qmp/server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"

#define DM_COMPANION_INCOMING_POLL_MS 50u

struct companion {
	const struct dm_log *log;
	const struct dm_config *cfg;
	struct dm_loop *loop;
	struct dm_qemu_child child;
	struct qmp_proxy *proxy;
	char libxl_paths[DM_MAX_MONITORS][PATH_MAX]; /* sockets rtcdm created for libxl */
	size_t n_paths;
	/* libxl's monitors, relayed only once rtcdm serves the guest's ports:
	 * libxl lets the guest run only after its QMP commands are answered. */
	struct {
		char id[64];
		char up[PATH_MAX];
		int lfd;
	} links[DM_MAX_MONITORS];
	size_t n_links;
	/* rtcdm's part of an incoming context, kept until the RTC exists. */
	struct sr_companion *in;
	bool in_found;
	/* rtcdm's RTC: the serving part, a process of its own (dm/serving.h),
	 * started once QEMU is ready; the rescue of its ioreq server should
	 * it end unexpectedly (rescue_handles). */
	struct dm_serving srv;
	bool have_srv;
	bool rtc_lost;          /* it ended: the ports are QEMU's again */
	bool rescue_after_sync; /* its server is rescued once QEMU's CMOS is synced */
	struct dm_rescue *rescue;
	bool rescue_opened; /* open_rescue ran (rescue may still be NULL) */
	/* With -incoming: QEMU is asked for its status until it has loaded its
	 * stream (its CMOS then holds the guest's bytes). */
	struct dm_timer incoming_timer;
	bool incoming_timer_ready;
	/* QEMU's CMOS as rtcdm knows it: read byte by byte before rtcdm takes
	 * the ports over, then what rtcdm wrote into it before a save. */
	uint8_t qemu_cmos[128];
	unsigned cmos_index;   /* the byte being read */
	bool cmos_selecting;   /* its index written, the read not yet asked */
	bool have_qemu_cmos;
	/* Before QEMU saves, the NVRAM bytes where rtcdm's differ from QEMU's
	 * are written into QEMU's CMOS (HMP 'o'), so that stock qemu-xen
	 * restores the image with the guest's NVRAM; the save command waits
	 * (QMP_PROXY_HOLD). */
	uint8_t want[128];      /* rtcdm's NVRAM, as QEMU's CMOS should hold it */
	unsigned sync_index;
	bool sync_selecting;
	unsigned sync_count;
	const char *sync_why;   /* "before its save", or after the fall-back */
	bool sync_holds;        /* a save waits for it */
};

/* ---- hooks ------------------------------------------------------------------------------ */

static bool sync_next(struct companion *co);

/* rtcdm's NVRAM from an image of the serving part into co->want.  0 or -1. */
static int want_from_image(struct companion *co, const uint8_t *image, size_t n)
{
	struct sr_image img;
	char why[SR_ERR_MAX];

	if (!n || sr_load(image, n, &img, why, sizeof(why)) < 0 || !sr_has(&img, SR_REC_NVRAM))
		return -1;
	memcpy(co->want + RTC_NVRAM_FIRST, img.nvram, SR_NVRAM_LEN);
	return 0;
}

/* Bring QEMU's CMOS to co->want (HMP 'o', the differing bytes).  true when
 * it is under way (sync_done ends it). */
static bool sync_start(struct companion *co, const char *why, bool holds)
{
	co->sync_index = RTC_NVRAM_FIRST;
	co->sync_count = 0;
	co->sync_selecting = false;
	co->sync_why = why;
	co->sync_holds = holds;
	return sync_next(co);
}

/* Commands rtcdm steps in for: save (QEMU's CMOS brought up to date first,
 * rtcdm's image after QEMU's stream) and its own commands (QEMU answers
 * CommandNotFound; rtcdm replaces it). */
static enum qmp_proxy_verdict on_command(void *opaque, const char *name,
                                         struct json_object *args)
{
	struct companion *co = opaque;
	uint8_t image[DM_SERVING_IMAGE_MAX];
	char err[256];
	size_t n;

	(void)args;
	if (strcmp(name, "xen-save-devices-state") == 0) {
		if (co->have_srv && !co->rtc_lost && co->have_qemu_cmos) {
			n = dm_serving_image(&co->srv, image, sizeof(image), err, sizeof(err));
			if (!n || want_from_image(co, image, n) < 0)
				dm_warn(co->log, "QEMU's CMOS not brought up to date before its save: %s",
				        n ? "rtcdm's image has no NVRAM" : err);
			else if (sync_start(co, "before its save", true))
				return QMP_PROXY_HOLD;
		}
		return QMP_PROXY_AFTER;
	}
	return strncmp(name, "rtcdm-", 6) == 0 ? QMP_PROXY_AFTER : QMP_PROXY_PASS;
}

/* What saves the guest should the serving part end (platform.h:
 * dm_rescue), opened once the serving part is forked: Xen's libraries
 * keep a list of every open handle in the process (xentoolcore), and a
 * child forked after the opening would inherit entries for descriptors it
 * has closed, which its own restriction (-xen-domid-restrict) would then
 * fail on. */
static void open_rescue(struct companion *co)
{
	struct plat_config pcfg;
	char err[PATH_MAX + 256] = "";

	co->rescue_opened = true;
	dm_config_platform(co->cfg, &pcfg);
	if (dm_rescue_open(&pcfg, co->log, &co->rescue, err, sizeof(err)) < 0)
		dm_warn(co->log, "%s: should rtcdm's RTC end, vCPUs waiting on it would wait", err);
}

/* Opened as soon as the serving part runs when rtcdm gives its root rights
 * up or restricts its Xen handles (-runas, -chroot, -xen-domid-restrict:
 * it could not open them later); otherwise only when a rescue needs them,
 * which spares every domain's start the three handles. */
static bool rescue_opened_early(const struct dm_config *cfg)
{
	return cfg->runas || cfg->chroot_dir || cfg->domid_restrict;
}

static struct dm_rescue *rescue_handles(struct companion *co)
{
	if (!co->rescue_opened)
		open_rescue(co);
	return co->rescue;
}

static void on_sync_reply(void *opaque, struct json_object *reply);

/* The dead serving part's server: the waiting vCPUs answered, the server
 * destroyed, QEMU's answers the ports from now on. */
static void rescue(struct companion *co)
{
	struct dm_rescue *r = rescue_handles(co);
	char err[256];
	unsigned answered = 0;

	co->rescue_after_sync = false;
	if (dm_rescue_server(r, co->srv.server_id, &answered, err, sizeof(err)) < 0)
		dm_err(co->log, "%s", err);
	else if (co->srv.server_id >= 0)
		dm_info(co->log, "ioreq server %d disabled and destroyed, %u waiting vCPU request%s "
		                 "answered as by an absent device: ports 0x70-0x71 fall back to QEMU",
		        co->srv.server_id, answered, answered == 1 ? "" : "s");
}

/* The save (if one waits) goes on. */
static void sync_done(struct companion *co, const char *failed)
{
	if (failed)
		dm_warn(co->log, "QEMU's CMOS not brought up to date %s (byte 0x%02x: %s): it misses "
		                 "some of the guest's NVRAM bytes",
		        co->sync_why, co->sync_index, failed);
	else
		dm_info(co->log, "QEMU's CMOS brought up to date %s: %u NVRAM byte%s", co->sync_why,
		        co->sync_count, co->sync_count == 1 ? "" : "s");
	if (co->sync_holds)
		qmp_proxy_release(co->proxy);
	co->sync_holds = false;
	if (co->rescue_after_sync)
		rescue(co);
}

/* Ask QEMU to select the next differing byte from sync_index on, or to
 * write it.  false when nothing (more) differs or QEMU cannot be asked. */
static bool sync_next(struct companion *co)
{
	char cmd[160];

	if (!co->sync_selecting) {
		while (co->sync_index < 128 && co->want[co->sync_index] == co->qemu_cmos[co->sync_index])
			co->sync_index++;
		if (co->sync_index == 128)
			return false;
		snprintf(cmd, sizeof(cmd),
		         "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":"
		         "\"o /b 0x70 0x%02x\"}}",
		         co->sync_index);
	} else {
		snprintf(cmd, sizeof(cmd),
		         "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":"
		         "\"o /b 0x71 0x%02x\"}}",
		         co->want[co->sync_index]);
	}
	if (dm_qemu_child_ask(&co->child, cmd, on_sync_reply, co) < 0) {
		co->sync_selecting = false;
		return false;
	}
	return true;
}

static void on_sync_reply(void *opaque, struct json_object *reply)
{
	struct companion *co = opaque;
	struct json_object *ret;
	const char *text;

	/* HMP answers "" to 'o'; anything else is its complaint */
	if (!json_object_object_get_ex(reply, "return", &ret) ||
	    !(text = json_object_get_string(ret)) || text[0]) {
		co->sync_selecting = false;
		sync_done(co, "QEMU's HMP refused 'o'");
		return;
	}
	if (co->sync_selecting) {
		co->qemu_cmos[co->sync_index] = co->want[co->sync_index];
		co->sync_count++;
		co->sync_index++;
	}
	co->sync_selecting = !co->sync_selecting;
	if (!sync_next(co))
		sync_done(co, co->sync_index < 128 ? "cannot ask QEMU" : NULL);
}

/* QEMU saved its device state to `filename`: rtcdm's image goes after it.
 * A save that cannot carry rtcdm's part fails (libxl is told). */
static int append_image(struct companion *co, struct qmp_proxy *p, const char *filename,
                        char *err, size_t errlen)
{
	uint8_t image[DM_SERVING_IMAGE_MAX];
	size_t n = dm_serving_image(&co->srv, image, sizeof(image), err, errlen); /* with Xen's record */
	int64_t set;
	int fd, own = 0, rc;

	if (!n)
		return -1;
	rc = fdsets_parse_name(filename, &set, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		fd = qmp_proxy_fdset_fd(p, (long long)set);
		if (fd < 0) {
			snprintf(err, errlen, "cannot append rtcdm's image: no descriptor of fdset %" PRId64,
			         set);
			return -1;
		}
	} else {
		fd = open(filename, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			snprintf(err, errlen, "cannot append rtcdm's image to %.200s: %s", filename,
			         strerror(errno));
			return -1;
		}
		own = 1;
	}
	rc = sr_companion_append(fd, image, n, err, errlen);
	if (own)
		close(fd);
	if (rc == 0)
		dm_info(co->log, "saved: QEMU's device state, then rtcdm's image (%zu bytes) in %s", n,
		        filename);
	return rc;
}

static int on_reply(void *opaque, struct qmp_proxy *p, const char *name,
                    struct json_object *args, struct json_object *reply,
                    struct json_object **answer, char *err, size_t errlen)
{
	struct companion *co = opaque;
	struct json_object *v;

	if (strncmp(name, "rtcdm-", 6) == 0) {
		if (!co->have_srv || co->rtc_lost) {
			snprintf(err, errlen, "rtcdm's RTC is not running%s",
			         co->rtc_lost ? " (it ended; QEMU serves the RTC ports)" : "");
			return -1;
		}
		*answer = dm_serving_command(&co->srv, name, args, err, errlen);
		return *answer ? 1 : -1;
	}
	if (!json_object_object_get_ex(reply, "return", NULL))
		return 0; /* QEMU's own error goes to libxl as it is */
	if (strcmp(name, "xen-save-devices-state") != 0 || !co->have_srv)
		return 0;
	if (co->rtc_lost) {
		dm_warn(co->log, "saved: QEMU's device state alone (rtcdm's RTC ended; the guest's "
		                 "offset is in Xen's record, its NVRAM in QEMU's CMOS)");
		return 0;
	}
	if (!args || !json_object_object_get_ex(args, "filename", &v)) {
		snprintf(err, errlen, "xen-save-devices-state without a filename");
		return -1;
	}
	return append_image(co, p, json_object_get_string(v), err, errlen);
}

/* ---- rtcdm's RTC ------------------------------------------------------------------------------ */

/* rtcdm's part of the incoming context, found with pread before QEMU starts
 * (QEMU reads the same descriptor from its start).  0 or -1 with err. */
static int read_incoming(struct companion *co, const struct dm_config *cfg, char *err,
                         size_t errlen)
{
	struct stat st;
	int found;

	if (cfg->incoming_fd < 0)
		return 0;
	co->in = malloc(sizeof(*co->in));
	if (!co->in || fstat(cfg->incoming_fd, &st) < 0) {
		snprintf(err, errlen, "-incoming fd:%d: %s", cfg->incoming_fd,
		         co->in ? strerror(errno) : "out of memory");
		return -1;
	}
	found = sr_companion_find(cfg->incoming_fd, 0, (uint64_t)st.st_size, co->in, err, errlen);
	if (found < 0)
		return -1;
	co->in_found = found == 1;
	if (found)
		dm_info(co->log, "incoming: QEMU's stream (%" PRIu64 " bytes), then rtcdm's "
		                 "image (%" PRIu32 " bytes)", co->in->qemu_len, co->in->image_len);
	else
		dm_info(co->log, "incoming: a stock qemu-xen context, no rtcdm part");
	return 0;
}

/* -chroot and -runas (dm_restrict) apply to rtcdm as to QEMU, once its
 * server exists and its files are open.  0 or -1 (logged). */
static int leave_root(struct companion *co)
{
	if (dm_privs_leave_root(co->cfg, co->log))
		return -1;
	if (co->cfg->chroot_dir)
		dm_qemu_child_entered_root(&co->child);
	return 0;
}

/* ---- libxl's sockets ---------------------------------------------------------------------- */

/* A listening socket at path for libxl (a stale socket there is replaced;
 * only the owner may connect).  The fd, or -1 with err. */
static int listen_for_libxl(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "QMP socket %.200s: path too long", path);
		return -1;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "QMP socket %.200s: exists and is not a socket", path);
		return -1;
	}
	unlink(path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "QMP socket %.200s: %s", path, strerror(errno));
		return -1;
	}
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "QMP socket %.200s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Relay every control monitor libxl asked for. */
static int relay_monitors(struct companion *co, const struct dm_config *cfg, char *err,
                          size_t errlen)
{
	for (size_t i = 0; i < cfg->n_monitors; i++) {
		const struct dm_monitor *m = &cfg->monitors[i];
		const struct dm_chardev *cd = dm_config_chardev(cfg, m->chardev);
		char up[PATH_MAX];
		int lfd;

		if (!m->control || !cd || cd->backend != DM_CHARDEV_SOCKET || !cd->server)
			continue; /* QEMU serves it as libxl asked */
		if (dm_qemu_child_add_monitor(&co->child, cd->id, up, sizeof(up), err, errlen) < 0)
			return -1;
		if (cd->fd >= 0) {
			lfd = cd->fd;
		} else {
			lfd = listen_for_libxl(cd->path, err, errlen);
			if (lfd < 0)
				return -1;
			snprintf(co->libxl_paths[co->n_paths++], PATH_MAX, "%s", cd->path);
		}
		snprintf(co->links[co->n_links].id, sizeof(co->links[0].id), "%s", cd->id);
		snprintf(co->links[co->n_links].up, sizeof(co->links[0].up), "%s", up);
		co->links[co->n_links++].lfd = lfd;
	}
	return 0;
}

/* libxl's monitors go live.  0 or -1 with err. */
static int open_links(struct companion *co, char *err, size_t errlen)
{
	for (size_t i = 0; i < co->n_links; i++) {
		int lfd = co->links[i].lfd;

		co->links[i].lfd = -1;
		if (qmp_proxy_add_link(co->proxy, co->links[i].id, lfd, co->links[i].up, err,
		                       errlen) < 0) {
			close(lfd);
			return -1;
		}
		dm_debug(co->log, "QMP %s relayed to QEMU at %s", co->links[i].id, co->links[i].up);
	}
	return 0;
}

/* The serving part ended without being asked to: its server is rescued
 * (the waiting vCPUs answered, the server destroyed: QEMU's answers the
 * ports again) and QEMU's CMOS gets the guest's NVRAM as last reported. */
static void serving_gone(void *opaque, const char *how)
{
	struct companion *co = opaque;

	co->rtc_lost = true;
	dm_err(co->log, "rtcdm's RTC (process %d) ended unexpectedly (%s): the guest keeps "
	                "running, QEMU serves the RTC ports from now on",
	       (int)co->srv.ended_pid, how);
	/* QEMU's CMOS first: until the rescue the dead server still holds the
	 * ports, so no access of the guest moves QEMU's index meanwhile. */
	co->rescue_after_sync = true;
	if (!co->have_qemu_cmos || want_from_image(co, co->srv.state, co->srv.state_len) < 0) {
		dm_warn(co->log, "QEMU's CMOS keeps its own bytes: no state of rtcdm's RTC to give it");
		rescue(co);
		return;
	}
	if (!sync_start(co, "for the fall-back, from rtcdm's last state", false))
		sync_done(co, co->sync_index < 128 ? "cannot ask QEMU" : NULL);
}

/* Why QEMU refused a command: its reply's error "desc". */
static const char *refusal(struct json_object *reply)
{
	struct json_object *e = NULL, *desc = NULL;

	if (json_object_object_get_ex(reply, "error", &e))
		json_object_object_get_ex(e, "desc", &desc);
	return desc ? json_object_get_string(desc) : "no reason given";
}

/* rtcdm leaves root as QEMU did, then libxl gets its monitors.  On a
 * failure rtcdm stops (QEMU with it) and xl create fails. */
static void relay_to_libxl(struct companion *co)
{
	char err[PATH_MAX + 256] = "";

	if (leave_root(co) < 0) {
		dm_loop_stop(co->loop, 1);
		return;
	}
	if (open_links(co, err, sizeof(err)) < 0) {
		dm_err(co->log, "%s", err);
		dm_loop_stop(co->loop, 1);
		return;
	}
	dm_info(co->log, "libxl's monitors relayed to QEMU");
	dm_debug_cpu(co->log, "libxl's monitors relayed");
}

/* QEMU's machine runs (cont answered), as libxl started it: then libxl's
 * monitors. */
static void on_cont(void *opaque, struct json_object *reply)
{
	struct companion *co = opaque;

	if (!json_object_object_get_ex(reply, "return", NULL)) {
		dm_err(co->log, "QEMU did not start its machine (cont): %.200s", refusal(reply));
		dm_loop_stop(co->loop, 1);
		return;
	}
	dm_debug(co->log, "QEMU's machine started (cont), as libxl asked for it");
	relay_to_libxl(co);
}

/* The serving part is ready (or failed).  A QEMU rtcdm held stopped
 * (dm_qemu_child.hold) starts its machine now, before libxl hears of it;
 * then libxl gets its monitors.  On a failure rtcdm stops (QEMU with it)
 * and xl create fails. */
static void serving_ready(void *opaque, const char *error)
{
	struct companion *co = opaque;

	if (error) {
		dm_err(co->log, "%s", error);
		dm_loop_stop(co->loop, 1);
		return;
	}
	if (!co->child.hold) {
		relay_to_libxl(co);
		return;
	}
	if (dm_qemu_child_ask(&co->child, "{\"execute\":\"cont\"}", on_cont, co) == 0)
		return;
	if (dm_qemu_child_ending(&co->child)) {
		dm_debug(co->log, "QEMU's machine not started: QEMU is ending");
		return;
	}
	dm_err(co->log, "cannot ask QEMU to start its machine (cont)");
	dm_loop_stop(co->loop, 1);
}

/* rtcdm's RTC takes the ports over in a process of its own, started as
 * soon as QEMU is ready: it sets itself up while QEMU's CMOS is read. */
static void take_over(struct companion *co)
{
	struct dm_serving_start st = {
		.cfg = co->cfg,
		.image = co->in_found ? &co->in->image : NULL,
	};
	char err[PATH_MAX + 256] = "";

	co->srv.on_ready = serving_ready;
	co->srv.on_gone = serving_gone;
	co->srv.opaque = co;
	co->have_srv = true;
	if (dm_serving_start(&co->srv, co->loop, co->log, &st, err, sizeof(err)) < 0) {
		dm_err(co->log, "%s", err);
		dm_loop_stop(co->loop, 1);
	}
}

/* QEMU's CMOS is read (or could not be): the serving part ends its set-up
 * with it. */
static void give_cmos(struct companion *co)
{
	if (dm_serving_give_cmos(&co->srv, co->have_qemu_cmos ? co->qemu_cmos : NULL) < 0)
		dm_debug(co->log, "QEMU's CMOS not passed on: rtcdm's RTC has ended");
}

static void on_cmos_reply(void *opaque, struct json_object *reply);

/* Ask QEMU (HMP through QMP) to select CMOS byte cmos_index, or to read it. */
static int ask_cmos(struct companion *co)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd),
	         "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"%s",
	         co->cmos_selecting ? "i /b 0x71\"}}" : "o /b 0x70 ");
	if (!co->cmos_selecting)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "0x%02x\"}}", co->cmos_index);
	return dm_qemu_child_ask(&co->child, cmd, on_cmos_reply, co);
}

static void cmos_read_failed(struct companion *co, const char *why)
{
	dm_warn(co->log, "QEMU's CMOS not read (byte 0x%02x: %s): rtcdm's NVRAM starts without "
	                 "QEMU's configuration bytes",
	        co->cmos_index, why);
	give_cmos(co);
}

static void on_cmos_reply(void *opaque, struct json_object *reply)
{
	struct companion *co = opaque;
	struct json_object *ret;
	int v;

	if (!json_object_object_get_ex(reply, "return", &ret)) {
		cmos_read_failed(co, "human-monitor-command refused");
		return;
	}
	if (!co->cmos_selecting) {
		co->cmos_selecting = true;
	} else {
		v = dm_handover_parse_inb(json_object_get_string(ret), RTC_PORT_DATA);
		if (v < 0) {
			cmos_read_failed(co, "unexpected answer to 'i /b 0x71'");
			return;
		}
		co->qemu_cmos[co->cmos_index++] = (uint8_t)v;
		co->cmos_selecting = false;
		if (co->cmos_index == 128) {
			co->have_qemu_cmos = true;
			give_cmos(co);
			return;
		}
	}
	if (ask_cmos(co) < 0)
		cmos_read_failed(co, "cannot ask QEMU");
}

/* QEMU's CMOS byte by byte (HMP), from the first NVRAM byte, then the
 * take-over: 228 commands, when QEMU's device state could not be read. */
static void read_qemu_cmos_bytes(struct companion *co)
{
	co->cmos_index = RTC_NVRAM_FIRST;
	co->cmos_selecting = false;
	if (ask_cmos(co) < 0)
		cmos_read_failed(co, "cannot ask QEMU");
}

#define QEMU_STATE_MAX (16u << 20)

/* QEMU wrote its device state into the memory file it was given at start
 * (dm/qemu_child.h): its CMOS is the RTC's section of it.  The file is
 * emptied afterwards (QEMU keeps its descriptor of it); then the take-over,
 * or the byte-by-byte read. */
static void on_state_saved(void *opaque, struct json_object *reply)
{
	struct companion *co = opaque;
	int fd = co->child.state_fd;
	char why[256] = "";
	uint8_t *state = NULL;
	size_t len = 0;

	if (!json_object_object_get_ex(reply, "return", NULL)) {
		snprintf(why, sizeof(why), "xen-save-devices-state refused: %.200s", refusal(reply));
	} else if (lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(why, sizeof(why), "its memory file: %s", strerror(errno));
	} else if (sr_read_fd(fd, "QEMU's device state", QEMU_STATE_MAX, &state, &len, why,
	                      sizeof(why)) == 0 &&
	           dm_handover_cmos_from_state(state, len, co->qemu_cmos, why, sizeof(why)) == 0) {
		co->have_qemu_cmos = true;
	}
	free(state);
	if (ftruncate(fd, 0) < 0)
		dm_debug(co->log, "QEMU's device state kept in memory: %s", strerror(errno));
	if (!co->have_qemu_cmos) {
		dm_warn(co->log, "QEMU's CMOS not in its device state (%s): read byte by byte", why);
		read_qemu_cmos_bytes(co);
		return;
	}
	dm_info(co->log, "QEMU's CMOS read from its device state (%zu bytes)", len);
	give_cmos(co);
}

/* QEMU's CMOS, read from its device state: one xen-save-devices-state into
 * the memory file QEMU holds as fdset DM_QEMU_STATE_FDSET (a machine not
 * running, as rtcdm or libxl started it, stays as it is; QEMU would stop
 * and restart a running one around it),
 * then the take-over. */
static void read_qemu_cmos(struct companion *co)
{
	char cmd[160];

	if (co->child.state_fd < 0) {
		read_qemu_cmos_bytes(co);
		return;
	}
	/* "live": false, or QEMU (whose default is true) would hand the disks
	 * of a machine not running (-S, a loaded -incoming stream) over to a
	 * migration's other side (bdrv_inactivate_all). */
	snprintf(cmd, sizeof(cmd),
	         "{\"execute\":\"xen-save-devices-state\",\"arguments\":"
	         "{\"filename\":\"/dev/fdset/%d\",\"live\":false}}",
	         DM_QEMU_STATE_FDSET);
	if (dm_qemu_child_ask(&co->child, cmd, on_state_saved, co) < 0)
		read_qemu_cmos_bytes(co);
}

static void on_incoming_status(void *opaque, struct json_object *reply);

static void ask_incoming_status(void *opaque)
{
	struct companion *co = opaque;

	if (dm_qemu_child_ask(&co->child, "{\"execute\":\"query-status\"}", on_incoming_status,
	                      co) < 0)
		cmos_read_failed(co, "cannot ask QEMU for its status");
}

/* QEMU's status while it loads its incoming stream ("inmigrate"): asked
 * again every DM_COMPANION_INCOMING_POLL_MS until it has loaded it. */
static void on_incoming_status(void *opaque, struct json_object *reply)
{
	struct companion *co = opaque;
	struct json_object *ret, *st;
	const char *status;
	int rc;

	if (!json_object_object_get_ex(reply, "return", &ret) ||
	    !json_object_object_get_ex(ret, "status", &st)) {
		cmos_read_failed(co, "query-status refused");
		return;
	}
	status = json_object_get_string(st);
	if (strcmp(status, "inmigrate") != 0) {
		dm_info(co->log, "QEMU loaded its incoming stream (status %s)", status);
		read_qemu_cmos(co);
		return;
	}
	rc = dm_timer_arm(&co->incoming_timer,
	                  dm_monotonic_ns() + DM_COMPANION_INCOMING_POLL_MS * 1000000ull);
	if (rc < 0)
		cmos_read_failed(co, "cannot arm a timer");
}

/* QEMU has built its machine (its ioreq server exists, its CMOS holds the
 * configuration bytes): read its NVRAM, then take the ports over.  With
 * -incoming QEMU's CMOS holds the guest's bytes only once QEMU has loaded
 * its stream, which it does after its monitor answers: wait for that. */
static void on_qemu_ready(void *opaque)
{
	struct companion *co = opaque;
	int rc;

	dm_debug_cpu(co->log, "QEMU ready");
	take_over(co);
	if (rescue_opened_early(co->cfg))
		open_rescue(co);
	if (strcmp(co->child.status, "inmigrate") != 0) {
		read_qemu_cmos(co);
		return;
	}
	dm_info(co->log, "QEMU is loading its incoming stream; its CMOS is read once it has");
	rc = dm_timer_init(&co->incoming_timer, co->loop, ask_incoming_status, co);
	if (rc < 0) {
		cmos_read_failed(co, "cannot create a timer");
		return;
	}
	co->incoming_timer_ready = true;
	ask_incoming_status(co);
}

/* At rtcdm's end: the serving part ends in order (its server torn down);
 * one that had to be killed leaves its server to the rescue. */
static void stop_serving(struct companion *co)
{
	int status;
	unsigned answered;
	char err[256];

	if (co->rtc_lost)
		return;
	status = dm_serving_stop(&co->srv);
	if (status < 128 || co->srv.server_id < 0)
		return;
	if (dm_rescue_server(rescue_handles(co), co->srv.server_id, &answered, err, sizeof(err)) < 0)
		dm_err(co->log, "%s", err);
}

/* Companion mode in co (log, cfg and loop set): QEMU, the relay, the serving
 * part, until QEMU ends. */
static int run(struct companion *co, int argc, char *const argv[])
{
	const struct dm_config *cfg = co->cfg;
	const struct dm_log *log = co->log;
	struct dm_loop *loop = co->loop;
	const struct qmp_proxy_hooks hooks = {
		.command = on_command,
		.reply = on_reply,
		.opaque = co,
	};
	const char *qemu = cfg->qemu_path ? cfg->qemu_path : RTCDM_QEMU_PATH;
	char err[PATH_MAX + 256] = "";
	struct dm_runas owner;
	bool have_owner = false;
	int rc = 1;

	co->proxy = qmp_proxy_new(loop, log, &hooks);
	if (!co->proxy) {
		dm_err(log, "out of memory");
		return 1;
	}
	if (cfg->runas) {
		if (dm_runas_lookup(cfg->runas, &owner, err, sizeof(err)) < 0) {
			dm_err(log, "%s", err);
			qmp_proxy_free(co->proxy);
			return 1;
		}
		have_owner = true;
	}
	if (read_incoming(co, cfg, err, sizeof(err)) < 0 ||
	    dm_qemu_child_prepare(&co->child, loop, log, cfg->chroot_dir,
	                          have_owner ? &owner : NULL, err, sizeof(err)) < 0 ||
	    relay_monitors(co, cfg, err, sizeof(err)) < 0) {
		dm_err(log, "%s", err);
	} else {
		co->child.on_ready = on_qemu_ready;
		co->child.ready_opaque = co;
		/* Without libxl's -S (dm_restrict) or -incoming, QEMU would start
		 * its machine as soon as it is built, and stop and restart it to
		 * save its device state for rtcdm: held stopped instead, it saves
		 * it as it is and starts once, when rtcdm's RTC is ready. */
		co->child.hold = !cfg->start_paused && cfg->incoming_fd < 0;
		co->child.incoming = cfg->incoming_fd >= 0;
		if (dm_qemu_child_spawn(&co->child, qemu, argc, argv, err, sizeof(err)) < 0)
			dm_err(log, "%s", err);
		else
			rc = dm_loop_run(loop);
	}
	qmp_proxy_free(co->proxy);
	dm_qemu_child_fini(&co->child);
	for (size_t i = 0; i < co->n_links; i++)
		if (co->links[i].lfd >= 0)
			close(co->links[i].lfd);
	free(co->in);
	if (co->incoming_timer_ready)
		dm_timer_fini(&co->incoming_timer);
	if (co->have_srv)
		stop_serving(co);
	dm_rescue_close(co->rescue);
	for (size_t i = 0; i < co->n_paths; i++)
		unlink(co->libxl_paths[i]);
	return rc;
}

int dm_companion_run(struct dm_loop *loop, const struct dm_log *log,
                     const struct dm_config *cfg, int argc, char *const argv[])
{
	/* On the heap: its buffers (paths, QMP lines) are mostly never
	 * touched, and calloc gives a block this large untouched pages. */
	struct companion *co = calloc(1, sizeof(*co));
	int rc;

	if (!co) {
		dm_err(log, "out of memory");
		return 1;
	}
	co->log = log;
	co->cfg = cfg;
	co->loop = loop;
	rc = run(co, argc, argv);
	free(co);
	return rc;
}
