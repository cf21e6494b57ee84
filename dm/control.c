/* control.c — the device model towards the toolstack (see control.h). */
#include "dm/control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dm/authority.h"
#include "toolstack/xenstore/store_dir.h"

#define SAVE_MAX 512 /* our images are < 256 bytes */

static struct dm_ctl *ctl_of(void *opaque)
{
	return opaque;
}

/* ---- QMP descriptors in the event loop ---------------------------------------------- */

/* Each QMP descriptor is registered once, edge-triggered for input and
 * output, from its open to its close (see qmp/server.h). */
static void qmp_ready(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct dm_ctl *c = opaque;
	short rev = 0;

	(void)loop;
	if (events & EPOLLIN)
		rev |= POLLIN;
	if (events & EPOLLOUT)
		rev |= POLLOUT;
	if (events & (EPOLLHUP | EPOLLRDHUP))
		rev |= POLLHUP;
	if (events & EPOLLERR)
		rev |= POLLERR;
	qmp_server_handle(c->qmp, fd, rev);
}

static int qmp_watch(void *opaque, int fd)
{
	struct dm_ctl *c = opaque;

	return dm_loop_add_fd(c->loop, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, qmp_ready, c);
}

static void qmp_unwatch(void *opaque, int fd)
{
	dm_loop_del_fd(ctl_of(opaque)->loop, fd);
}

static uint64_t qmp_now_ns(void *opaque)
{
	(void)opaque;
	return dm_monotonic_ns();
}

static void qmp_arm_alarm(void *opaque, uint64_t deadline_ns)
{
	struct dm_ctl *c = opaque;
	int rc;

	if (deadline_ns == RTC_NO_DEADLINE) {
		dm_timer_disarm(&c->qmp_alarm);
		return;
	}
	rc = dm_timer_arm(&c->qmp_alarm, deadline_ns);
	if (rc < 0)
		dm_warn(c->log, "QMP: cannot arm the idle-connection timer: %s", strerror(-rc));
}

static void qmp_alarm_rang(void *opaque)
{
	qmp_server_expire(ctl_of(opaque)->qmp);
}

/* ---- announcing readiness ---------------------------------------------------------- */

static int announce(struct dm_ctl *c, char *err, size_t errlen)
{
	if (c->announced || !c->ts)
		return 0;
	if (toolstack_ready(c->ts, err, errlen) < 0)
		return -1;
	c->announced = true;
	if (c->cfg->companion)
		dm_info(c->log, "xenstore: offset published (QEMU writes the state)");
	else
		dm_info(c->log, "xenstore: state running");
	return 0;
}

/* ---- struct dm_ops -------------------------------------------------------------------- */

static enum dm_run_state op_run_state(void *opaque)
{
	return ctl_of(opaque)->state;
}

static int op_stop(void *opaque, char *err, size_t errlen)
{
	struct dm_ctl *c = ctl_of(opaque);

	(void)err;
	(void)errlen;
	if (c->state == DM_RUN_RUNNING) {
		c->state = DM_RUN_PAUSED;
		dm_info(c->log, "guest paused");
	}
	return 0;
}

static int op_cont(void *opaque, char *err, size_t errlen)
{
	struct dm_ctl *c = ctl_of(opaque);

	if (c->state != DM_RUN_RUNNING) {
		c->state = DM_RUN_RUNNING;
		dm_info(c->log, "guest running");
	}
	return announce(c, err, errlen);
}

static size_t encode_state(struct dm_ctl *c, uint8_t *buf, char *err, size_t errlen)
{
	size_t n = dm_device_save_state(c->dev, buf, SAVE_MAX);

	if (n > SAVE_MAX) {
		snprintf(err, errlen, "device state of %zu bytes does not fit the save buffer", n);
		return 0;
	}
	return n;
}

/* A pipe or socket waits for its reader: a write to one that is full, or
 * whose reader never reads, would stall the whole process.  Regular files
 * and devices are written. */
static int refuse_stalling_fd(struct dm_ctl *c, int fd, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "saving the device state: %s", strerror(errno));
	} else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
		         "saving the device state: refusing a %s (a reader that stalls would stall rtcdm)",
		         S_ISFIFO(st.st_mode) ? "pipe" : "socket");
	} else {
		return 0;
	}
	dm_err(c->log, "%s", err);
	return -1;
}

static int op_save_fd(void *opaque, int fd, bool live, char *err, size_t errlen)
{
	struct dm_ctl *c = ctl_of(opaque);
	uint8_t buf[SAVE_MAX];
	char why[SR_ERR_MAX];
	size_t n;

	(void)live;
	if (refuse_stalling_fd(c, fd, err, errlen) < 0)
		return -1;
	n = encode_state(c, buf, err, errlen);
	if (!n)
		return -1;
	if (sr_write_fd(fd, buf, n, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "saving the device state: %s", why);
		dm_err(c->log, "%s", err);
		return -1;
	}
	dm_info(c->log, "device state saved to a descriptor (%zu bytes)", n);
	return 0;
}

static int op_save_path(void *opaque, const char *path, bool live, char *err, size_t errlen)
{
	struct dm_ctl *c = ctl_of(opaque);
	uint8_t buf[SAVE_MAX];
	char why[SR_ERR_MAX + 64];
	size_t n;

	(void)live;
	n = encode_state(c, buf, err, errlen);
	if (!n)
		return -1;
	if (sr_write_file_atomic(path, buf, n, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "saving the device state: %s", why);
		dm_err(c->log, "%s", err);
		return -1;
	}
	dm_info(c->log, "device state saved to %s (%zu bytes)", path, n);
	return 0;
}

/*
 * The restore flow, one for start-up and for QMP loads: load (the bytes
 * validated whole, or the battery already in *in), resolve (one decision),
 * apply.  A refused image changes nothing: -1 with one line in err.
 */
static int restore(struct dm_ctl *c, const uint8_t *buf, size_t len, const char *what,
                   struct dm_offset_inputs *in, char *err, size_t errlen)
{
	struct dm_offset_decision d;
	char why[SR_ERR_MAX];
	struct sr_image img;

	if (buf) {
		if (sr_load(buf, len, &img, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", what, why);
			return -1;
		}
		in->image = &img;
	}
	if (in->image)
		dm_info(c->log, "restored device state from %s", what);
	else if (in->battery)
		dm_info(c->log, "restored the battery-backed CMOS from %s", c->battery.path);
	dm_device_restore(c->dev, in, &d);
	in->image = NULL; /* img lives in this frame only */
	return 0;
}

static int load_fd_named(struct dm_ctl *c, int fd, const char *what, char *err, size_t errlen)
{
	struct dm_offset_inputs in = {.moment = DM_DECIDE_AT_LOAD};
	uint8_t *buf;
	size_t len;
	int rc;

	if (sr_read_fd(fd, what, SR_IMAGE_MAX, &buf, &len, err, errlen) < 0) {
		dm_err(c->log, "%s", err);
		return -1;
	}
	rc = restore(c, buf, len, what, &in, err, errlen);
	free(buf);
	if (rc < 0) {
		dm_err(c->log, "%s", err);
		return -1;
	}
	dm_battery_changed(&c->battery);
	return 0;
}

static int op_load_fd(void *opaque, int fd, char *err, size_t errlen)
{
	return load_fd_named(ctl_of(opaque), fd, "descriptor", err, errlen);
}

static int op_load_path(void *opaque, const char *path, char *err, size_t errlen)
{
	struct dm_ctl *c = ctl_of(opaque);
	/* O_NONBLOCK: opening a FIFO with no writer must not wait for one
	 * (the loader then refuses anything but a regular file). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int rc;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = load_fd_named(c, fd, path, err, errlen);
	close(fd);
	return rc;
}

static int op_set_offset(void *opaque, int64_t seconds, char *err, size_t errlen)
{
	struct dm_ctl *c = ctl_of(opaque);

	if (dm_device_set_time_offset(c->dev, seconds) < 0) {
		snprintf(err, errlen, "the hypervisor refused offset %" PRId64 " s", seconds);
		return -1;
	}
	return 0;
}

static void op_get_offset(void *opaque, struct rtc_offset *out)
{
	rtc_get_offset(ctl_of(opaque)->dev->rtc, out);
}

static void op_quit(void *opaque)
{
	struct dm_ctl *c = ctl_of(opaque);

	dm_info(c->log, "quit requested, exiting");
	dm_loop_stop(c->loop, 0);
}

static void op_log(void *opaque, const char *msg)
{
	dm_info(ctl_of(opaque)->log, "%s", msg);
}

const struct dm_ops dm_ctl_ops = {
	.run_state = op_run_state,
	.stop = op_stop,
	.cont = op_cont,
	.save_fd = op_save_fd,
	.save_path = op_save_path,
	.load_fd = op_load_fd,
	.load_path = op_load_path,
	.set_offset = op_set_offset,
	.get_offset = op_get_offset,
	.quit = op_quit,
	.log = op_log,
};

/* ---- device listeners ------------------------------------------------------------------ */

/* The offset in force goes to xenstore: at once for the first change of a
 * burst, then at most every DM_CTL_PUBLISH_INTERVAL_NS (the latest value). */
static void publish_offset(void *opaque, uint64_t held)
{
	struct dm_ctl *c = opaque;
	struct rtc_offset now;

	(void)held;
	rtc_get_offset(c->dev->rtc, &now);
	if (c->ts)
		toolstack_publish_offset(c->ts, now.seconds);
}

/* RTC_CHANGE {"offset": N}, throttled as QEMU does (one a second, the
 * latest offset always delivered). */
static void send_rtc_change(void *opaque, uint64_t held)
{
	struct dm_ctl *c = opaque;
	struct rtc_offset now;
	struct json_object *data;

	(void)held;
	if (!c->qmp || !(data = json_object_new_object()))
		return;
	rtc_get_offset(c->dev->rtc, &now);
	json_object_object_add(data, "offset", json_object_new_int64(now.seconds));
	qmp_server_event(c->qmp, "RTC_CHANGE", data);
}

static void offset_changed(void *opaque, enum dm_offset_source src, const struct rtc_offset *now)
{
	struct dm_ctl *c = opaque;

	(void)now;
	if (src == DM_OFFSET_TOOLSTACK) {
		/* The toolstack's own setting is written at once (and replaces
		 * whatever a guest burst still held back). */
		dm_ratelimit_flush(&c->publish_limit);
		publish_offset(c, 0);
	} else {
		dm_ratelimit_offer(&c->publish_limit);
		dm_ratelimit_offer(&c->rtc_change_limit);
	}
	dm_battery_changed(&c->battery);
}

static void cmos_written(void *opaque, uint8_t index)
{
	struct dm_ctl *c = opaque;

	(void)index;
	dm_battery_changed(&c->battery);
}

/* ---- set-up ------------------------------------------------------------------------------ */

static void format_uuid(const uint8_t u[16], char out[DM_UUID_STR_LEN + 1])
{
	snprintf(out, DM_UUID_STR_LEN + 1,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
	         u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
	         u[15]);
}

/* /local/domain/<domid>/vm holds "/vm/<uuid>". */
static void uuid_from_store(struct dm_ctl *c)
{
	char path[64];
	uint8_t u[16];

	snprintf(path, sizeof(path), "/local/domain/%d/vm", c->cfg->domid);
	char *vm = store_read(c->store, path);
	if (!vm)
		return;
	const char *last = strrchr(vm, '/');
	if (strncmp(vm, "/vm/", 4) == 0 && last == vm + 3 && dm_parse_uuid(last + 1, u) == 0) {
		format_uuid(u, c->uuid);
		c->have_uuid = true;
		dm_info(c->log, "domain UUID %s (from xenstore %s)", c->uuid, path);
	} else {
		dm_warn(c->log, "xenstore %s: '%.64s' is not /vm/<uuid>: UUID unknown", path, vm);
	}
	free(vm);
}

static int open_store(struct dm_ctl *c, char *err, size_t errlen)
{
	const struct dm_config *cfg = c->cfg;

	if (cfg->sim_xenstore) {
		c->store = store_dir_open(cfg->sim_xenstore, err, errlen);
		if (!c->store)
			return 1;
	} else if (cfg->platform == DM_PLATFORM_XEN) {
#if RTCDM_HAVE_XEN
		c->store = store_xs_open(err, errlen);
		if (!c->store)
			return 1;
#else
		snprintf(err, errlen, "xenstore: rtcdm was built without Xen support");
		return 1;
#endif
	} else {
		return 0;
	}
	if (cfg->domid < 0) {
		snprintf(err, errlen, "xenstore: a domain id is needed (--domid or -xen-domid)");
		return 1;
	}
	return 0;
}

int dm_ctl_init(struct dm_ctl *c, const struct dm_config *cfg, struct dm_loop *loop,
                struct dm_platform *plat, struct dm_device *dev, const struct dm_log *log,
                char *err, size_t errlen)
{
	struct dm_runas owner;

	memset(c, 0, sizeof(*c));
	c->battery.dirfd = -1;
	c->cfg = cfg;
	c->loop = loop;
	c->plat = plat;
	c->dev = dev;
	c->log = log;
	c->state = DM_RUN_PRELAUNCH;
	if (open_store(c, err, errlen))
		return 1;
	if (cfg->uuid_set) {
		format_uuid(cfg->uuid, c->uuid);
		c->have_uuid = true;
	} else if (c->store) {
		uuid_from_store(c);
	}
	/* Xen's restriction (made when the platform starts, see
	 * platform/xen/platform.c) does not cover the xenstore connection: a
	 * restricted device model keeps none past set-up (libxl, knowing that,
	 * waits for no xenstore state and speaks QMP only). */
	if (cfg->domid_restrict && c->store) {
		store_close(c->store);
		c->store = NULL;
		dm_info(log, "-xen-domid-restrict: xenstore closed after set-up, QMP only");
	}
	if (cfg->runas && dm_runas_lookup(cfg->runas, &owner, err, errlen) < 0)
		return 1;
	if (dm_battery_init(&c->battery, cfg->state_dir, c->have_uuid ? c->uuid : NULL,
	                    cfg->runas ? &owner : NULL, dev, loop, log, err, errlen) < 0)
		return 1;
	int rc = dm_ratelimit_init(&c->publish_limit, dm_platform_clock(plat),
	                           DM_CTL_PUBLISH_INTERVAL_NS, publish_offset, c);
	if (rc == 0)
		rc = dm_ratelimit_init(&c->rtc_change_limit, dm_platform_clock(plat),
		                       DM_CTL_RTC_CHANGE_INTERVAL_NS, send_rtc_change, c);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create the rate-limit alarms: %s", strerror(-rc));
		return 1;
	}
	c->limits_ready = true;
	if (dm_device_add_offset_listener(dev, offset_changed, c) < 0) {
		snprintf(err, errlen, "no room for another offset listener");
		return 1;
	}
	dm_device_set_cmos_listener(dev, cmos_written, c);
	return 0;
}

/* The image named on the command line (--restore, -loadvm, -incoming):
 * 0 with *buf NULL when there is none, 0 with the bytes, or -1 with err. */
static int read_startup_image(struct dm_ctl *c, uint8_t **buf, size_t *len, char *what,
                              size_t whatlen, char *err, size_t errlen)
{
	const struct dm_config *cfg = c->cfg;
	const char *file = cfg->restore_file ? cfg->restore_file : cfg->loadvm;
	int rc;

	*buf = NULL;
	if (file) {
		int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);

		snprintf(what, whatlen, "%s", file);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open saved state '%s': %s", file, strerror(errno));
			return -1;
		}
		rc = sr_read_fd(fd, what, SR_IMAGE_MAX, buf, len, err, errlen);
		close(fd);
		return rc;
	}
	if (cfg->incoming_fd >= 0) {
		c->state = DM_RUN_INMIGRATE;
		snprintf(what, whatlen, "-incoming fd:%d", cfg->incoming_fd);
		rc = sr_read_fd(cfg->incoming_fd, what, SR_IMAGE_MAX, buf, len, err, errlen);
		close(cfg->incoming_fd);
		return rc;
	}
	return 0;
}

int64_t dm_ctl_base_offset(const struct dm_config *cfg, struct dm_platform *plat)
{
	int64_t host_sec = plat->ops->host_wallclock_ns(plat) / 1000000000;

	if (cfg->rtc_base == DM_RTC_BASE_LOCALTIME) {
		time_t t = (time_t)host_sec;
		struct tm tm;

		localtime_r(&t, &tm);
		return tm.tm_gmtoff;
	}
	if (cfg->rtc_base == DM_RTC_BASE_DATE)
		return cfg->rtc_base_date - host_sec;
	return 0;
}

/* The start-up restore once the image is known (buf/len, or image already
 * loaded, or neither): the battery file when there is no image, then the
 * one restore flow.  *kept: the NVRAM came from an image or the battery.
 * 0 or 1 with err. */
static int restore_at_start(struct dm_ctl *c, const uint8_t *buf, size_t len,
                            const struct sr_image *image, const char *what, bool *kept,
                            char *err, size_t errlen)
{
	const struct dm_config *cfg = c->cfg;
	struct dm_offset_inputs in = {.moment = DM_DECIDE_AT_START, .image = image};
	struct sr_image bat;
	int rc;

	/* An incoming domain's state is what it brought (companion mode: a
	 * stock qemu-xen context carries the NVRAM in QEMU's stream), never
	 * the battery of an earlier life. */
	if (!buf && !image && cfg->incoming_fd < 0) {
		rc = dm_battery_load(&c->battery, &bat, err, errlen);
		if (rc < 0)
			dm_warn(c->log, "%s; starting without it", err);
		else if (rc > 0)
			in.battery = &bat;
	}
	*kept = buf || image || in.battery;
	bool from_image = buf || image;
	in.toolstack = cfg->time_offset_given;
	in.toolstack_seconds = cfg->time_offset;
	in.base_seconds = dm_ctl_base_offset(cfg, c->plat);
	dm_device_hypervisor_offset(c->dev, &in.hv);
	if (restore(c, buf, len, what, &in, err, errlen) < 0)
		return 1;
	if (cfg->start_paused && !cfg->companion)
		c->state = from_image ? DM_RUN_PAUSED : DM_RUN_PRELAUNCH;
	else
		c->state = DM_RUN_RUNNING;
	return 0;
}

int dm_ctl_restore(struct dm_ctl *c, char *err, size_t errlen)
{
	char what[PATH_MAX + 16];
	uint8_t *buf;
	size_t len = 0;
	bool kept;
	int rc;

	if (read_startup_image(c, &buf, &len, what, sizeof(what), err, errlen) < 0)
		return 1;
	rc = restore_at_start(c, buf, len, NULL, what, &kept, err, errlen);
	free(buf);
	return rc;
}

int dm_ctl_restore_image(struct dm_ctl *c, const struct sr_image *image, const char *what,
                         bool *kept, char *err, size_t errlen)
{
	return restore_at_start(c, NULL, 0, image, what, kept, err, errlen);
}

static void ts_ready(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct dm_ctl *c = opaque;

	(void)events;
	if (toolstack_handle(c->ts) < 0 && c->store_watched) {
		dm_loop_del_fd(loop, fd); /* logged: nothing more comes from it */
		c->store_watched = false;
	}
}

static int open_qmp(struct dm_ctl *c, char *err, size_t errlen)
{
	const struct dm_config *cfg = c->cfg;
	struct qmp_server_config qc = {0};
	size_t n_listen = 0;

	for (size_t i = 0; i < cfg->n_chardevs; i++) {
		const struct dm_chardev *cd = &cfg->chardevs[i];

		if (cd->backend != DM_CHARDEV_SOCKET)
			snprintf(c->chardev_names[i], sizeof(c->chardev_names[i]), "unknown");
		else if (cd->path)
			snprintf(c->chardev_names[i], sizeof(c->chardev_names[i]), "unix:%s%s", cd->path,
			         cd->server ? ",server=on" : "");
		else
			snprintf(c->chardev_names[i], sizeof(c->chardev_names[i]), "unix:fd=%d%s", cd->fd,
			         cd->server ? ",server=on" : "");
		c->chardevs[i].label = cd->id;
		c->chardevs[i].filename = c->chardev_names[i];
	}
	qc.ops = &dm_ctl_ops;
	qc.opaque = c;
	qc.hooks.watch = qmp_watch;
	qc.hooks.unwatch = qmp_unwatch;
	qc.hooks.now_ns = qmp_now_ns;
	qc.hooks.arm_alarm = qmp_arm_alarm;
	qc.hooks.opaque = c;
	qc.idle_timeout_ns = QMP_IDLE_TIMEOUT_NS;
	qc.vcpus = 1;
	qc.chardevs = c->chardevs;
	qc.n_chardevs = cfg->n_chardevs;
	for (size_t m = 0; m < cfg->n_monitors; m++) {
		const struct dm_monitor *mon = &cfg->monitors[m];
		const struct dm_chardev *cd = dm_config_chardev(cfg, mon->chardev);

		if (!mon->control) {
			dm_info(c->log, "-mon chardev=%s: only mode=control (QMP) is served", mon->chardev);
			continue;
		}
		if (!cd || cd->backend != DM_CHARDEV_SOCKET || !cd->server) {
			dm_info(c->log, "-mon chardev=%s: QMP is served on server sockets only",
			        mon->chardev);
			continue;
		}
		if (n_listen == QMP_MAX_LISTENERS) {
			snprintf(err, errlen, "QMP: more than %d monitors", QMP_MAX_LISTENERS);
			return 1;
		}
		if (!c->qmp) {
			int rc = dm_timer_init(&c->qmp_alarm, c->loop, qmp_alarm_rang, c);

			if (rc < 0) {
				snprintf(err, errlen, "QMP: cannot create a timer: %s", strerror(-rc));
				return 1;
			}
			c->qmp_alarm_ready = true;
			c->qmp = qmp_server_new(&qc, err, errlen);
			if (!c->qmp)
				return 1;
		}
		if (cd->path) {
			if (qmp_server_listen_path(c->qmp, cd->path, err, errlen) < 0)
				return 1;
			dm_info(c->log, "QMP on %s", cd->path);
		} else {
			if (qmp_server_listen_fd(c->qmp, cd->fd, err, errlen) < 0) {
				close(cd->fd);
				return 1;
			}
			dm_info(c->log, "QMP on inherited descriptor %d", cd->fd);
		}
		n_listen++;
	}
	return 0;
}

int dm_ctl_serve(struct dm_ctl *c, char *err, size_t errlen)
{
	/* In companion mode the monitors are QEMU's, relayed (dm/companion.c). */
	if (!c->cfg->companion && open_qmp(c, err, errlen))
		return 1;
	if (c->store) {
		struct toolstack_config tc = {
			.domid = (unsigned)c->cfg->domid,
			.uuid = c->have_uuid ? c->uuid : NULL,
			.save_path = c->cfg->save_path,
			.ops = &dm_ctl_ops,
			.opaque = c,
			.rtc_nodes_only = c->cfg->companion,
		};
		int rc;

		c->ts = toolstack_new(c->store, &tc, err, errlen);
		if (!c->ts)
			return 1;
		rc = dm_loop_add_fd(c->loop, toolstack_fd(c->ts), EPOLLIN, ts_ready, c);
		if (rc < 0) {
			snprintf(err, errlen, "xenstore: cannot watch its descriptor: %s", strerror(-rc));
			return 1;
		}
		c->store_watched = true;
	}
	return 0;
}

int dm_ctl_ready(struct dm_ctl *c, char *err, size_t errlen)
{
	dm_info(c->log, "run state %s", dm_run_state_name(c->state));
	if (c->state == DM_RUN_RUNNING && announce(c, err, errlen) < 0)
		return 1;
	return 0;
}

void dm_ctl_fini(struct dm_ctl *c)
{
	dm_battery_fini(&c->battery);
	if (c->limits_ready) {
		/* What a burst still held back goes out before the channels close. */
		dm_ratelimit_fini(&c->rtc_change_limit);
		dm_ratelimit_fini(&c->publish_limit);
		c->limits_ready = false;
	}
	if (c->qmp) {
		/* Replies still queued (e.g. to "quit") get one non-blocking try. */
		qmp_server_flush(c->qmp);
		qmp_server_free(c->qmp);
		c->qmp = NULL;
	}
	if (c->qmp_alarm_ready)
		dm_timer_fini(&c->qmp_alarm);
	c->qmp_alarm_ready = false;
	if (c->store_watched)
		dm_loop_del_fd(c->loop, toolstack_fd(c->ts));
	toolstack_free(c->ts);
	c->ts = NULL;
	store_close(c->store);
	c->store = NULL;
}
