/*
 * qmp_fake.h — a fake device-model process for the QMP and xenstore
 * protocol tests: dm_ops that record every call, an event loop of its own
 * (an epoll set, edge-triggered as the process's) with a clock the test
 * sets, and helpers that drive a QMP server from the test without threads.
 * Sockets and descriptor passing come from tests/support/support.h.
 */
#ifndef RTCDM_TEST_QMP_FAKE_H
#define RTCDM_TEST_QMP_FAKE_H

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/support.h"
#include "toolstack/dm_ops.h"
#include "toolstack/qmp/server.h"

struct fake_dm {
	enum dm_run_state state;
	struct rtc_offset offset;
	char calls[2048];      /* "stop;cont;save_fd live=0;..." */
	char logs[4096];       /* log lines, each ending in '\n' */
	const char *fail_save; /* save fails with this reason */
	const char *fail_load;
	const char *fail_stop;
	const char *payload;   /* what save_fd writes */
	char loaded[256];      /* what load_fd read */
	char path[256];        /* last save_path / load_path */
	int set_offset_calls;
	bool quit;
	/* The loop the server is given. */
	int epfd;
	bool ep_open;
	size_t n_watched;
	unsigned watch_calls, unwatch_calls; /* registrations made and removed */
	uint64_t now_ns;                      /* the clock: moved by the test */
	uint64_t alarm_ns;                    /* armed deadline, or RTC_NO_DEADLINE */
	unsigned alarm_calls;
	uint64_t idle_timeout_ns;             /* given to the server; 0: none */
};

__attribute__((format(printf, 2, 3))) static inline void fake_call(struct fake_dm *f,
                                                                   const char *fmt, ...)
{
	size_t n = strlen(f->calls);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->calls + n, sizeof(f->calls) - n, fmt, ap);
	va_end(ap);
}

static inline enum dm_run_state fake_run_state(void *o)
{
	return ((struct fake_dm *)o)->state;
}

static inline int fake_stop(void *o, char *err, size_t errlen)
{
	struct fake_dm *f = o;
	fake_call(f, "stop;");
	if (f->fail_stop) {
		snprintf(err, errlen, "%s", f->fail_stop);
		return -1;
	}
	f->state = DM_RUN_PAUSED;
	return 0;
}

static inline int fake_cont(void *o, char *err, size_t errlen)
{
	struct fake_dm *f = o;
	(void)err;
	(void)errlen;
	fake_call(f, "cont;");
	f->state = DM_RUN_RUNNING;
	return 0;
}

static inline int fake_save_fd(void *o, int fd, bool live, char *err, size_t errlen)
{
	struct fake_dm *f = o;
	fake_call(f, "save_fd live=%d;", live);
	if (f->fail_save) {
		snprintf(err, errlen, "%s", f->fail_save);
		return -1;
	}
	const char *p = f->payload ? f->payload : "";
	if (write(fd, p, strlen(p)) != (ssize_t)strlen(p)) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static inline int fake_save_path(void *o, const char *path, bool live, char *err, size_t errlen)
{
	struct fake_dm *f = o;
	fake_call(f, "save_path %s live=%d;", path, live);
	snprintf(f->path, sizeof(f->path), "%s", path);
	if (f->fail_save) {
		snprintf(err, errlen, "%s", f->fail_save);
		return -1;
	}
	return 0;
}

static inline int fake_load_fd(void *o, int fd, char *err, size_t errlen)
{
	struct fake_dm *f = o;
	fake_call(f, "load_fd;");
	if (f->fail_load) {
		snprintf(err, errlen, "%s", f->fail_load);
		return -1;
	}
	ssize_t n = read(fd, f->loaded, sizeof(f->loaded) - 1);
	f->loaded[n > 0 ? n : 0] = '\0';
	return 0;
}

static inline int fake_load_path(void *o, const char *path, char *err, size_t errlen)
{
	struct fake_dm *f = o;
	fake_call(f, "load_path %s;", path);
	if (f->fail_load) {
		snprintf(err, errlen, "%s", f->fail_load);
		return -1;
	}
	return 0;
}

static inline int fake_set_offset(void *o, int64_t seconds, char *err, size_t errlen)
{
	struct fake_dm *f = o;
	(void)err;
	(void)errlen;
	fake_call(f, "set_offset %lld;", (long long)seconds);
	f->set_offset_calls++;
	f->offset.seconds = seconds;
	f->offset.set = true;
	return 0;
}

static inline void fake_get_offset(void *o, struct rtc_offset *out)
{
	*out = ((struct fake_dm *)o)->offset;
}

static inline void fake_quit(void *o)
{
	struct fake_dm *f = o;
	fake_call(f, "quit;");
	f->quit = true;
}

static inline void fake_log(void *o, const char *msg)
{
	struct fake_dm *f = o;
	size_t n = strlen(f->logs);
	snprintf(f->logs + n, sizeof(f->logs) - n, "%s\n", msg);
}

static const struct dm_ops fake_ops = {
	.run_state = fake_run_state,
	.stop = fake_stop,
	.cont = fake_cont,
	.save_fd = fake_save_fd,
	.save_path = fake_save_path,
	.load_fd = fake_load_fd,
	.load_path = fake_load_path,
	.set_offset = fake_set_offset,
	.get_offset = fake_get_offset,
	.quit = fake_quit,
	.log = fake_log,
};

static inline int fake_watch(void *o, int fd)
{
	struct fake_dm *f = o;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd};

	if (!f->ep_open) {
		f->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (f->epfd < 0)
			return -errno;
		f->ep_open = true;
	}
	if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	f->n_watched++;
	f->watch_calls++;
	return 0;
}

static inline void fake_unwatch(void *o, int fd)
{
	struct fake_dm *f = o;

	if (!f->ep_open || epoll_ctl(f->epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
		return;
	f->unwatch_calls++;
	if (--f->n_watched == 0) {
		close(f->epfd);
		f->ep_open = false;
	}
}

static inline uint64_t fake_now(void *o)
{
	return ((struct fake_dm *)o)->now_ns;
}

static inline void fake_arm_alarm(void *o, uint64_t deadline_ns)
{
	struct fake_dm *f = o;
	f->alarm_ns = deadline_ns;
	f->alarm_calls++;
}

/* A server configuration on the fake process and its loop. */
static inline struct qmp_server_config fake_config(struct fake_dm *f, unsigned vcpus)
{
	struct qmp_server_config cfg = {
	    .ops = &fake_ops,
	    .opaque = f,
	    .vcpus = vcpus,
	    .hooks = {fake_watch, fake_unwatch, fake_now, fake_arm_alarm, f},
	    .idle_timeout_ns = f->idle_timeout_ns,
	};
	f->alarm_ns = RTC_NO_DEADLINE;
	return cfg;
}

static inline struct qmp_server *fake_server(struct fake_dm *f, unsigned vcpus)
{
	char err[256];
	struct qmp_server_config cfg = fake_config(f, vcpus);
	return qmp_server_new(&cfg, err, sizeof(err));
}

/* Let the server handle everything that is ready, until nothing is. */
static inline void pump(struct fake_dm *f, struct qmp_server *s)
{
	for (int round = 0; round < 1000 && f->ep_open; round++) {
		struct epoll_event evs[QMP_MAX_FDS];
		int n = epoll_wait(f->epfd, evs, QMP_MAX_FDS, 0);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			short rev = 0;
			if (evs[i].events & EPOLLIN)
				rev |= POLLIN;
			if (evs[i].events & EPOLLOUT)
				rev |= POLLOUT;
			if (evs[i].events & (EPOLLHUP | EPOLLRDHUP))
				rev |= POLLHUP;
			if (evs[i].events & EPOLLERR)
				rev |= POLLERR;
			qmp_server_handle(s, evs[i].data.fd, rev);
		}
	}
}

/* Move the clock to now_ns and ring the alarm if it is due. */
static inline void fake_advance(struct fake_dm *f, struct qmp_server *s, uint64_t now_ns)
{
	f->now_ns = now_ns;
	if (f->alarm_ns != RTC_NO_DEADLINE && f->alarm_ns <= now_ns)
		qmp_server_expire(s);
}

/* What the server sent so far (without blocking); "" when nothing.  Returns
 * a pointer into buf.  *eof is set when the server closed the connection. */
static inline char *recv_text(int fd, char *buf, size_t size, bool *eof)
{
	size_t len = 0;
	if (eof)
		*eof = false;
	while (len + 1 < size) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);
		if (n == 0 && eof)
			*eof = true;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/* Send txt, let the server run, return its answer. */
static inline char *xchg(struct fake_dm *f, struct qmp_server *s, int fd, const char *txt,
                         char *buf, size_t size)
{
	if (support_send_fd(fd, txt, -1) < 0)
		perror("send");
	pump(f, s);
	return recv_text(fd, buf, size, NULL);
}

/* A client on a socketpair, served by s; the greeting is consumed. */
static inline int pair_client(struct fake_dm *f, struct qmp_server *s)
{
	int sv[2];
	char err[256], buf[512];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (qmp_server_add_client(s, sv[1], err, sizeof(err)) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	pump(f, s);
	recv_text(sv[0], buf, sizeof(buf), NULL);
	return sv[0];
}

/* As pair_client, and past qmp_capabilities. */
static inline int ready_client(struct fake_dm *f, struct qmp_server *s)
{
	char buf[512];
	int fd = pair_client(f, s);
	if (fd >= 0)
		xchg(f, s, fd, "{\"execute\":\"qmp_capabilities\"}\r\n", buf, sizeof(buf));
	return fd;
}

#endif
