/* serving.c — companion mode's serving part (see serving.h). */
#include "dm/serving.h"
#include "dm/control.h"
#include "dm/device.h"
#include "dm/exit_status.h"
#include "dm/handover.h"
#include "dm/privs.h"
#include "platform/platform.h"
#include "toolstack/qmp/server.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX (DM_SERVING_IMAGE_MAX + 8192)

/* One packet: kind, then data. 0 or -1 (errno). */
static int send_msg(int sock, char kind, const void *data, size_t len)
{
	struct iovec iov[2] = {{.iov_base = &kind, .iov_len = 1},
	                       {.iov_base = (void *)data, .iov_len = len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};

	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* ---- the child -------------------------------------------------------------------------- */

struct child {
	const struct dm_serving_start *st;
	const struct dm_log *log;
	struct dm_loop loop;
	bool have_loop;
	struct dm_platform *plat;
	struct dm_device dev;
	bool have_dev;
	struct dm_ctl ctl;
	bool have_ctl;
	bool kept;     /* rtcdm's image or the battery file restored */
	bool attached; /* QEMU's CMOS merged in, serving, 'R' sent */
	int sock;
	int32_t server_id;
};

/* rtcdm's NVRAM from QEMU's CMOS and what was kept (kept: rtcdm's image or
 * the battery file, NULL: nothing): the rule of dm_handover_merge_nvram. */
static void seed_nvram(struct child *ch, const uint8_t *qemu_cmos, const char *kept)
{
	uint8_t cur[128], out[128];
	unsigned n = 0;

	for (unsigned i = RTC_NVRAM_FIRST; i < 128; i++)
		cur[i] = rtc_cmos_read(ch->dev.rtc, (uint8_t)i);
	memcpy(out, cur, sizeof(out));
	dm_handover_merge_nvram(out, qemu_cmos, kept ? cur : NULL);
	for (unsigned i = RTC_NVRAM_FIRST; i < 128; i++) {
		if (out[i] == cur[i])
			continue;
		rtc_cmos_write(ch->dev.rtc, (uint8_t)i, out[i]);
		n++;
	}
	dm_info(ch->log, "NVRAM from QEMU's CMOS%s%s%s: %u byte%s changed (memory above 16 MiB "
	                 "0x34-0x35 = %02x %02x)",
	        kept ? " (its configuration bytes) and " : "", kept ? kept : "",
	        kept ? " (the rest)" : "", n, n == 1 ? "" : "s", out[0x34], out[0x35]);
}

/* The first half of the set-up, while the supervisor reads QEMU's CMOS: the
 * platform rtcdm was started for (Xen: an ioreq server for 0x70-0x71,
 * created now, after QEMU's), the check that its server wins, the device
 * and its control layer, then the start-up restore of the RTC-only mode
 * with rtcdm's part of the incoming context (or the battery file).  The
 * guest is paused until rtcdm reports ready, so no access reaches the
 * server meanwhile.  0 or -1 with err. */
static int attach(struct child *ch, char *err, size_t errlen)
{
	const struct dm_config *cfg = ch->st->cfg;
	struct plat_config pcfg;
	int id;

	dm_config_platform(cfg, &pcfg);
	if (dm_platform_create(&pcfg, &ch->loop, ch->log, &ch->plat, err, errlen))
		return -1;
	id = ch->plat->ops->ioreq_server_id ? ch->plat->ops->ioreq_server_id(ch->plat) : -1;
	ch->server_id = id;
	if (dm_handover_check_order(id, err, errlen) < 0)
		return -1;
	if (id >= 0)
		dm_info(ch->log, "rtcdm's ioreq server %d serves ports 0x70-0x71 ahead of QEMU's "
		                 "(created after it)", id);
	if (dm_device_init(&ch->dev, ch->plat, ch->log, cfg->lost_ticks) < 0) {
		snprintf(err, errlen, "cannot create rtcdm's RTC");
		return -1;
	}
	ch->have_dev = true;
	ch->have_ctl = true; /* dm_ctl_fini undoes a partial dm_ctl_init */
	if (dm_ctl_init(&ch->ctl, cfg, &ch->loop, ch->plat, &ch->dev, ch->log, err, errlen) ||
	    dm_ctl_restore_image(&ch->ctl, ch->st->image, "rtcdm's part of the incoming context",
	                         &ch->kept, err, errlen))
		return -1;
	return 0;
}

/* The second half, with QEMU's CMOS (NULL: it could not be read): its
 * configuration bytes merged in, the device started, the xenstore rtc/
 * nodes.  0 or -1 with err. */
static int attach_cmos(struct child *ch, const uint8_t *qemu_cmos, char *err, size_t errlen)
{
	if (qemu_cmos) {
		seed_nvram(ch, qemu_cmos,
		           !ch->kept ? NULL : ch->st->image ? "rtcdm's image" : "the battery file");
		/* After a restore or migration the guest's bytes go to the battery
		 * file within 100 ms (it may hold an older life's).  On a fresh
		 * boot the merge changed configuration bytes only, which QEMU sets
		 * again at every start: the file already holds everything else,
		 * and is written at the guest's first change or at exit. */
		if (ch->st->image || ch->st->cfg->incoming_fd >= 0)
			dm_battery_changed(&ch->ctl.battery);
	}
	if (dm_device_start(&ch->dev) < 0) {
		snprintf(err, errlen, "cannot start rtcdm's RTC");
		return -1;
	}
	if (dm_ctl_serve(&ch->ctl, err, errlen) || dm_ctl_ready(&ch->ctl, err, errlen))
		return -1;
	return 0;
}

/* The battery file was written: the supervisor keeps the same state. */
static void push_state(void *opaque, const uint8_t *image, size_t len)
{
	struct child *ch = opaque;

	send_msg(ch->sock, 'S', image, len);
}

static void answer_command(struct child *ch, const char *text)
{
	struct json_object *req = json_tokener_parse(text), *name = NULL, *args = NULL, *reply;
	const char *out;

	if (req)
		json_object_object_get_ex(req, "name", &name);
	if (req)
		json_object_object_get_ex(req, "arguments", &args);
	reply = name ? qmp_rtcdm_command(&dm_ctl_ops, &ch->ctl, json_object_get_string(name), args)
	             : NULL;
	if (!reply) {
		reply = json_object_new_object();
		json_object_object_add(reply, "error", json_object_new_string("not a command of rtcdm"));
	}
	out = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	send_msg(ch->sock, 'Q', out, strlen(out));
	json_object_put(reply);
	json_object_put(req);
}

static void finish_attach(struct child *ch, const uint8_t *qemu_cmos);

/* A request of the supervisor, or its end (then this process ends). */
static void on_request(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct child *ch = opaque;
	char msg[MSG_MAX + 1];
	uint8_t image[DM_SERVING_IMAGE_MAX];
	ssize_t r;
	size_t n;

	(void)events;
	r = recv(fd, msg, MSG_MAX, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		dm_debug(ch->log, "the supervisor closed its end: rtcdm's RTC ends");
		dm_loop_del_fd(loop, fd);
		dm_loop_stop(loop, 0);
		return;
	}
	msg[r] = '\0';
	if (!ch->attached) {
		/* QEMU's CMOS (128 bytes, or none) before anything else */
		if (msg[0] == 'C')
			finish_attach(ch, r == 1 + 128 ? (const uint8_t *)msg + 1 : NULL);
		else
			dm_warn(ch->log, "rtcdm's RTC: request '%c' before QEMU's CMOS ignored", msg[0]);
		return;
	}
	switch (msg[0]) {
	case 'I':
		n = dm_device_save_state(&ch->dev, image, sizeof(image));
		send_msg(ch->sock, 'I', image, n <= sizeof(image) ? n : 0);
		break;
	case 'Q':
		answer_command(ch, msg + 1);
		break;
	default:
		dm_warn(ch->log, "rtcdm's RTC: unknown request '%c' from the supervisor", msg[0]);
		break;
	}
}

/* SIGTERM, SIGINT, SIGHUP (a signal to the process group, or libxl's to
 * every process of the domain's user): the serving part ends with the
 * supervisor, which passes the signal on to QEMU and then closes its end. */
static void on_child_signal(struct dm_loop *loop, int signo, void *opaque)
{
	struct child *ch = opaque;

	(void)loop;
	dm_debug(ch->log, "rtcdm's RTC: signal %d left to the supervisor", signo);
}

/* Every descriptor but 0-2 and keep. */
static void close_inherited(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0u, 0);
}

static void child_teardown(struct child *ch)
{
	if (ch->have_ctl)
		dm_ctl_fini(&ch->ctl);
	if (ch->have_dev)
		dm_device_fini(&ch->dev);
	if (ch->plat)
		ch->plat->ops->destroy(ch->plat);
	if (ch->have_loop)
		dm_loop_fini(&ch->loop);
}

/* The set-up failed: the supervisor is told why, and this process ends. */
static _Noreturn void child_fail(struct child *ch, const char *err)
{
	const char *why = err[0] ? err : "cannot attach rtcdm's RTC";

	send_msg(ch->sock, 'E', why, strlen(why));
	child_teardown(ch);
	_exit(1);
}

/* QEMU's CMOS arrived: the set-up ends, rtcdm leaves root, reports its
 * state and then its readiness. */
static void finish_attach(struct child *ch, const uint8_t *qemu_cmos)
{
	uint8_t image[DM_SERVING_IMAGE_MAX];
	char err[PATH_MAX + 256] = "";
	size_t n;

	ch->attached = true;
	if (attach_cmos(ch, qemu_cmos, err, sizeof(err)) < 0)
		child_fail(ch, err);
	if (dm_privs_leave_root(ch->st->cfg, ch->log))
		child_fail(ch, "rtcdm's RTC cannot leave root");
	ch->ctl.battery.on_written = push_state;
	ch->ctl.battery.on_written_opaque = ch;
	/* its state first: the supervisor has it as soon as it knows it ready */
	n = dm_device_save_state(&ch->dev, image, sizeof(image));
	if (n <= sizeof(image))
		send_msg(ch->sock, 'S', image, n);
	dm_debug_cpu(ch->log, "rtcdm's RTC: ready");
	if (send_msg(ch->sock, 'R', &ch->server_id, sizeof(ch->server_id)) < 0) {
		child_teardown(ch);
		_exit(1);
	}
}

static _Noreturn void child_main(const struct dm_serving_start *st, const struct dm_log *log,
                                 int sock)
{
	struct child ch = {.st = st, .log = log, .sock = sock, .server_id = -1};
	char err[PATH_MAX + 256] = "";
	int rc;

	prctl(PR_SET_NAME, "rtcdm-rtc");
	close_inherited(sock);
	rc = dm_loop_init(&ch.loop, log);
	if (rc < 0) {
		snprintf(err, sizeof(err), "rtcdm's RTC: cannot create its loop: %s", strerror(-rc));
		child_fail(&ch, err);
	}
	ch.have_loop = true;
	dm_loop_set_signal_handler(&ch.loop, on_child_signal, &ch);
	if (attach(&ch, err, sizeof(err)) < 0)
		child_fail(&ch, err);
	dm_debug_cpu(log, "rtcdm's RTC: platform, device and restore set up");
	rc = dm_loop_add_fd(&ch.loop, sock, EPOLLIN, on_request, &ch);
	if (rc < 0) {
		snprintf(err, sizeof(err), "rtcdm's RTC cannot watch the supervisor: %s",
		         strerror(-rc));
		child_fail(&ch, err);
	}
	rc = dm_loop_run(&ch.loop);
	child_teardown(&ch);
	_exit(rc);
}

/* ---- the supervisor's side ---------------------------------------------------------------- */

static void unwatch(struct dm_serving *s, int *fd)
{
	if (*fd < 0)
		return;
	dm_loop_del_fd(s->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* A packet from the child that nobody waits for: its state, or its
 * readiness.  Returns the kind, 0 at its end. */
static char take_packet(struct dm_serving *s, const char *msg, ssize_t r)
{
	char kind = msg[0];

	if (kind == 'S' && r > 1 && (size_t)(r - 1) <= sizeof(s->state)) {
		memcpy(s->state, msg + 1, (size_t)(r - 1));
		s->state_len = (size_t)(r - 1);
	} else if (kind == 'R' && r == 1 + (ssize_t)sizeof(int32_t) && !s->ready) {
		int32_t id;

		memcpy(&id, msg + 1, sizeof(id));
		s->server_id = id;
		s->ready = true;
		if (s->on_ready)
			s->on_ready(s->opaque, NULL);
	} else if (kind == 'E' && !s->ready) {
		s->ready = true; /* reported: its end is no surprise */
		s->stopping = true;
		if (s->on_ready)
			s->on_ready(s->opaque, msg + 1);
	}
	return kind;
}

/* Every packet the child sent and nobody took yet. */
static void drain(struct dm_serving *s)
{
	char msg[MSG_MAX + 1];
	ssize_t r;

	while (s->sock >= 0) {
		r = recv(s->sock, msg, MSG_MAX, MSG_DONTWAIT);
		/* ECONNRESET: the child ended with a request unread; what it
		 * sent before (its 'E') is still queued behind that error */
		if (r < 0 && (errno == EINTR || errno == ECONNRESET))
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			unwatch(s, &s->sock); /* its end: the pidfd tells how */
			return;
		}
		msg[r] = '\0';
		take_packet(s, msg, r);
	}
}

static void on_child_msg(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	(void)loop;
	(void)fd;
	(void)events;
	drain(opaque);
}

static void describe(char *buf, size_t len, int status)
{
	if (status > 128)
		snprintf(buf, len, "signal %d", status - 128);
	else
		snprintf(buf, len, "status %d", status);
}

static void on_child_exit(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct dm_serving *s = opaque;
	char what[32];
	int st;

	(void)loop;
	(void)fd;
	(void)events;
	if (waitpid(s->pid, &st, WNOHANG) <= 0)
		return;
	drain(s); /* what it said before it ended (its last state) */
	s->status = dm_exit_status(st);
	s->ended_pid = s->pid;
	s->pid = -1;
	unwatch(s, &s->pidfd);
	if (s->stopping)
		return;
	describe(what, sizeof(what), s->status);
	if (!s->ready) {
		s->ready = true;
		if (s->on_ready) {
			char err[128];

			snprintf(err, sizeof(err), "rtcdm's RTC ended during its set-up (%s)", what);
			s->on_ready(s->opaque, err);
		}
		return;
	}
	if (s->on_gone)
		s->on_gone(s->opaque, what);
}

int dm_serving_start(struct dm_serving *s, struct dm_loop *loop, const struct dm_log *log,
                     const struct dm_serving_start *st, char *err, size_t errlen)
{
	int sv[2];

	s->loop = loop;
	s->log = log;
	s->pid = -1;
	s->pidfd = s->sock = -1;
	s->server_id = -1;
	s->status = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "rtcdm's RTC: socketpair: %s", strerror(errno));
		return -1;
	}
	s->pid = fork();
	if (s->pid < 0) {
		snprintf(err, errlen, "rtcdm's RTC: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (s->pid == 0) {
		close(sv[0]);
		child_main(st, log, sv[1]);
	}
	close(sv[1]);
	s->sock = sv[0];
	s->pidfd = pidfd_open(s->pid, 0);
	if (s->pidfd < 0 || dm_loop_add_fd(loop, s->pidfd, EPOLLIN, on_child_exit, s) < 0 ||
	    dm_loop_add_fd(loop, s->sock, EPOLLIN, on_child_msg, s) < 0) {
		snprintf(err, errlen, "rtcdm's RTC: cannot watch process %d", (int)s->pid);
		return -1;
	}
	dm_info(log, "rtcdm's RTC runs in process %d", (int)s->pid);
	return 0;
}

/* CLOCK_MONOTONIC in ms (base/loop.h). */
static uint64_t now_ms(void)
{
	return dm_monotonic_ns() / 1000000u;
}

/* Send a request and wait for the packet of kind `want` (state packets on
 * the way are kept).  Its length (without the kind) into *len, 0; or -1
 * with err. */
static int request(struct dm_serving *s, char kind, const void *data, size_t len, char want,
                   char *msg, size_t cap, size_t *got, char *err, size_t errlen)
{
	uint64_t end = now_ms() + DM_SERVING_WAIT_MS;

	if (s->sock < 0 || s->pid < 0 || !s->ready) {
		snprintf(err, errlen, "rtcdm's RTC is not running");
		return -1;
	}
	if (send_msg(s->sock, kind, data, len) < 0) {
		snprintf(err, errlen, "rtcdm's RTC does not listen: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		struct pollfd p = {.fd = s->sock, .events = POLLIN};
		uint64_t now = now_ms();
		ssize_t r;

		if (now >= end || poll(&p, 1, (int)(end - now)) == 0) {
			snprintf(err, errlen, "rtcdm's RTC did not answer within %d ms",
			         DM_SERVING_WAIT_MS);
			return -1;
		}
		r = recv(s->sock, msg, cap - 1, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "rtcdm's RTC ended");
			return -1;
		}
		msg[r] = '\0';
		if (take_packet(s, msg, r) == want) {
			*got = (size_t)(r - 1);
			return 0;
		}
	}
}

int dm_serving_give_cmos(struct dm_serving *s, const uint8_t *qemu_cmos)
{
	if (s->sock < 0 || send_msg(s->sock, 'C', qemu_cmos, qemu_cmos ? 128 : 0) < 0)
		return -1;
	return 0;
}

size_t dm_serving_image(struct dm_serving *s, uint8_t *buf, size_t cap, char *err,
                        size_t errlen)
{
	char msg[MSG_MAX + 1];
	size_t n;

	if (request(s, 'I', NULL, 0, 'I', msg, sizeof(msg), &n, err, errlen) < 0)
		return 0;
	if (n == 0 || n > cap) {
		snprintf(err, errlen, "rtcdm's RTC sent no image");
		return 0;
	}
	memcpy(buf, msg + 1, n);
	return n;
}

struct json_object *dm_serving_command(struct dm_serving *s, const char *name,
                                       struct json_object *args, char *err, size_t errlen)
{
	struct json_object *req = json_object_new_object(), *reply = NULL;
	char msg[MSG_MAX + 1];
	const char *text;
	size_t n;

	json_object_object_add(req, "name", json_object_new_string(name));
	if (args)
		json_object_object_add(req, "arguments", json_object_get(args));
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (strlen(text) > MSG_MAX - 1)
		snprintf(err, errlen, "arguments too long");
	else if (request(s, 'Q', text, strlen(text), 'Q', msg, sizeof(msg), &n, err, errlen) == 0 &&
	         !(reply = json_tokener_parse(msg + 1)))
		snprintf(err, errlen, "rtcdm's RTC sent no reply");
	json_object_put(req);
	return reply;
}

int dm_serving_stop(struct dm_serving *s)
{
	uint64_t end = now_ms() + DM_SERVING_WAIT_MS;
	int st;

	s->stopping = true;
	if (s->sock >= 0)
		unwatch(s, &s->sock); /* its end: the child tears down and exits */
	if (s->pidfd >= 0)
		unwatch(s, &s->pidfd);
	if (s->pid < 0)
		return s->status;
	for (;;) {
		pid_t r = waitpid(s->pid, &st, WNOHANG);

		if (r == s->pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= end) {
			dm_warn(s->log, "rtcdm's RTC (process %d) did not end within %d ms: killed",
			        (int)s->pid, DM_SERVING_WAIT_MS);
			kill(s->pid, SIGKILL);
			while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
				;
			break;
		}
		struct timespec ts = {0, 10000000L};
		nanosleep(&ts, NULL);
	}
	s->pid = -1;
	s->status = dm_exit_status(st);
	return s->status;
}
