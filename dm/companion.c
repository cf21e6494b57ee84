/* companion.c — companion mode: QEMU as a child, libxl's QMP relayed. */
#include "dm/companion.h"
#include "dm/device.h"
#include "dm/qemu_child.h"
#include "platform/platform.h"
#include "saverestore/companion.h"
#include "toolstack/qmp/fdset.h"
#include "toolstack/qmp/proxy.h"

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

struct companion {
	const struct dm_log *log;
	struct dm_qemu_child child;
	struct qmp_proxy *proxy;
	char libxl_paths[DM_MAX_MONITORS][PATH_MAX]; /* sockets rtcdm created for libxl */
	size_t n_paths;
	/* rtcdm's RTC: not yet serving the guest (no ioreq server of its own
	 * yet), it holds what rtcdm saves after QEMU's stream. */
	struct dm_platform *plat;
	struct dm_device dev;
	bool have_dev;
	struct dm_log rtc_log; /* its platform's start-up lines are not the user's concern */
};

/* ---- hooks ------------------------------------------------------------------------------ */

/* Commands rtcdm steps in for.  Save is the one with a use today; restore
 * and readiness will go through the same points. */
static enum qmp_proxy_verdict on_command(void *opaque, const char *name,
                                         struct json_object *args)
{
	(void)opaque;
	(void)args;
	return strcmp(name, "xen-save-devices-state") == 0 ? QMP_PROXY_AFTER : QMP_PROXY_PASS;
}

/* QEMU saved its device state to `filename`: rtcdm's image goes after it.
 * A save that cannot carry rtcdm's part fails (libxl is told). */
static int append_image(struct companion *co, struct qmp_proxy *p, const char *filename,
                        char *err, size_t errlen)
{
	uint8_t image[1024];
	size_t n = sr_save_rtc(co->dev.rtc, NULL, image, sizeof(image));
	int64_t set;
	int fd, own = 0, rc;

	if (n > sizeof(image)) {
		snprintf(err, errlen, "rtcdm's image does not fit");
		return -1;
	}
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
                    struct json_object *args, struct json_object *reply, char *err,
                    size_t errlen)
{
	struct companion *co = opaque;
	struct json_object *v;

	if (!json_object_object_get_ex(reply, "return", NULL))
		return 0; /* QEMU's own error goes to libxl as it is */
	if (strcmp(name, "xen-save-devices-state") != 0 || !co->have_dev)
		return 0;
	if (!args || !json_object_object_get_ex(args, "filename", &v)) {
		snprintf(err, errlen, "xen-save-devices-state without a filename");
		return -1;
	}
	return append_image(co, p, json_object_get_string(v), err, errlen);
}

/* ---- rtcdm's RTC ------------------------------------------------------------------------------ */

/* The RTC whose state rtcdm saves: power-on state, or rtcdm's part of the
 * incoming context (found with pread: QEMU reads the same descriptor from
 * its start), then the toolstack's offset.  0 or -1 with err. */
static int setup_rtc(struct companion *co, const struct dm_config *cfg, struct dm_loop *loop,
                     char *err, size_t errlen)
{
	const struct plat_config pcfg = {.kind = PLAT_SIM, .domid = cfg->domid};
	struct sr_companion *in = NULL;
	struct stat st;
	int found = 0;

	if (cfg->incoming_fd >= 0) {
		in = malloc(sizeof(*in));
		if (!in || fstat(cfg->incoming_fd, &st) < 0) {
			snprintf(err, errlen, "-incoming fd:%d: %s", cfg->incoming_fd,
			         in ? strerror(errno) : "out of memory");
			free(in);
			return -1;
		}
		found = sr_companion_find(cfg->incoming_fd, 0, (uint64_t)st.st_size, in, err, errlen);
		if (found < 0) {
			free(in);
			return -1;
		}
		if (found)
			dm_info(co->log, "incoming: QEMU's stream (%" PRIu64 " bytes), then rtcdm's "
			                 "image (%" PRIu32 " bytes)", in->qemu_len, in->image_len);
		else
			dm_info(co->log, "incoming: a stock qemu-xen context, no rtcdm part");
	}
	co->rtc_log = *co->log;
	if (co->rtc_log.level < DM_LOG_DEBUG)
		co->rtc_log.level = DM_LOG_WARN;
	if (dm_platform_create(&pcfg, loop, &co->rtc_log, &co->plat, err, errlen) ||
	    dm_device_init(&co->dev, co->plat, &co->rtc_log, cfg->lost_ticks) < 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot create rtcdm's RTC");
		free(in);
		return -1;
	}
	co->have_dev = true;
	if (found)
		sr_apply(co->dev.rtc, &in->image, NULL);
	free(in);
	if (cfg->time_offset_given && dm_device_set_time_offset(&co->dev, cfg->time_offset) < 0) {
		snprintf(err, errlen, "cannot set the time offset");
		return -1;
	}
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
		if (qmp_proxy_add_link(co->proxy, cd->id, lfd, up, err, errlen) < 0) {
			close(lfd);
			return -1;
		}
		dm_debug(co->log, "QMP %s relayed to QEMU at %s", cd->id, up);
	}
	return 0;
}

int dm_companion_run(struct dm_loop *loop, const struct dm_log *log,
                     const struct dm_config *cfg, int argc, char *const argv[])
{
	struct companion co = {.log = log};
	const struct qmp_proxy_hooks hooks = {
		.command = on_command,
		.reply = on_reply,
		.opaque = &co,
	};
	const char *qemu = cfg->qemu_path ? cfg->qemu_path : RTCDM_QEMU_PATH;
	char err[PATH_MAX + 256] = "";
	int rc = 1;

	co.proxy = qmp_proxy_new(loop, log, &hooks);
	if (!co.proxy) {
		dm_err(log, "out of memory");
		return 1;
	}
	if (setup_rtc(&co, cfg, loop, err, sizeof(err)) < 0 ||
	    dm_qemu_child_prepare(&co.child, loop, log, err, sizeof(err)) < 0 ||
	    relay_monitors(&co, cfg, err, sizeof(err)) < 0 ||
	    dm_qemu_child_spawn(&co.child, qemu, argc, argv, err, sizeof(err)) < 0)
		dm_err(log, "%s", err);
	else
		rc = dm_loop_run(loop);
	qmp_proxy_free(co.proxy);
	dm_qemu_child_fini(&co.child);
	if (co.have_dev)
		dm_device_fini(&co.dev);
	if (co.plat)
		co.plat->ops->destroy(co.plat);
	for (size_t i = 0; i < co.n_paths; i++)
		unlink(co.libxl_paths[i]);
	return rc;
}
