/* loop.c — epoll + timerfd + signalfd event loop. */
#include "base/loop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

uint64_t dm_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct dm_loop_watch *find_watch(struct dm_loop *loop, int fd)
{
	for (size_t i = 0; i < DM_LOOP_MAX_FDS; i++)
		if (loop->watches[i].fd == fd)
			return &loop->watches[i];
	return NULL;
}

static void signal_ready(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct signalfd_siginfo si;
	ssize_t n;

	(void)events;
	(void)opaque;
	n = read(fd, &si, sizeof(si));
	if (n != (ssize_t)sizeof(si))
		return;
	if (loop->on_signal) {
		loop->on_signal(loop, (int)si.ssi_signo, loop->signal_opaque);
		return;
	}
	dm_info(loop->log, "received %s, exiting", strsignal((int)si.ssi_signo));
	dm_loop_stop(loop, 0);
}

int dm_loop_init(struct dm_loop *loop, const struct dm_log *log)
{
	sigset_t set;
	int err;

	memset(loop, 0, sizeof(*loop));
	loop->log = log;
	loop->sigfd = -1;
	for (size_t i = 0; i < DM_LOOP_MAX_FDS; i++)
		loop->watches[i].fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return -errno;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &loop->old_mask) < 0)
		goto fail;
	loop->mask_saved = true;
	loop->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (loop->sigfd < 0)
		goto fail;
	err = dm_loop_add_fd(loop, loop->sigfd, EPOLLIN, signal_ready, NULL);
	if (err < 0) {
		errno = -err;
		goto fail;
	}
	return 0;
fail:
	err = -errno;
	dm_loop_fini(loop);
	return err;
}

/*
 * A stop signal that arrived after the loop stopped reading the signalfd is
 * still pending: consume it before the old mask is restored, or its default
 * action would kill the process on the way out (SIGHUP -> status 129).
 */
static void drain_stop_signals(void)
{
	const struct timespec zero = {0, 0};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

void dm_loop_fini(struct dm_loop *loop)
{
	if (loop->mask_saved)
		drain_stop_signals();
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->sigfd = -1;
	loop->epfd = -1;
	if (loop->mask_saved)
		sigprocmask(SIG_SETMASK, &loop->old_mask, NULL);
	loop->mask_saved = false;
}

int dm_loop_add_fd(struct dm_loop *loop, int fd, uint32_t events, dm_fd_cb cb, void *opaque)
{
	struct epoll_event ev;
	struct dm_loop_watch *w;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (find_watch(loop, fd))
		return -EEXIST;
	w = find_watch(loop, -1);
	if (!w)
		return -ENOSPC;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	w->fd = fd;
	w->cb = cb;
	w->opaque = opaque;
	w->events = events;
	return 0;
}

int dm_loop_mod_fd(struct dm_loop *loop, int fd, uint32_t events)
{
	struct dm_loop_watch *w = fd >= 0 ? find_watch(loop, fd) : NULL;
	struct epoll_event ev;

	if (!w)
		return -ENOENT;
	if (w->events == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	loop->mods++;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

void dm_loop_del_fd(struct dm_loop *loop, int fd)
{
	struct dm_loop_watch *w = fd >= 0 ? find_watch(loop, fd) : NULL;

	if (!w)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->fd = -1;
	w->cb = NULL;
	w->opaque = NULL;
}

void dm_loop_set_signal_handler(struct dm_loop *loop, dm_signal_cb cb, void *opaque)
{
	loop->on_signal = cb;
	loop->signal_opaque = opaque;
}

void dm_loop_stop(struct dm_loop *loop, int status)
{
	if (!loop->stop)
		loop->exit_status = status;
	loop->stop = true;
}

int dm_loop_once(struct dm_loop *loop, int timeout_ms)
{
	struct epoll_event evs[16];
	int n;

	n = epoll_wait(loop->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n > 0)
		loop->wakeups++;
	for (int i = 0; i < n && !loop->stop; i++) {
		/* Looked up per event: an earlier callback may have removed it. */
		struct dm_loop_watch *w = find_watch(loop, evs[i].data.fd);

		if (w)
			w->cb(loop, w->fd, evs[i].events, w->opaque);
	}
	return n;
}

int dm_loop_run(struct dm_loop *loop)
{
	while (!loop->stop) {
		int n = dm_loop_once(loop, -1);

		if (n < 0) {
			dm_err(loop->log, "event loop: epoll_wait: %s", strerror(-n));
			return 1;
		}
	}
	return loop->exit_status;
}

/* ---- timers --------------------------------------------------------------- */

static void timer_ready(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct dm_timer *t = opaque;
	uint64_t expirations;

	(void)loop;
	(void)events;
	if (read(fd, &expirations, sizeof(expirations)) != (ssize_t)sizeof(expirations))
		return; /* re-armed or disarmed since it fired */
	t->armed = false;
	t->cb(t->opaque);
}

int dm_timer_init(struct dm_timer *t, struct dm_loop *loop, dm_timer_cb cb, void *opaque)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->loop = loop;
	t->cb = cb;
	t->opaque = opaque;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0)
		return -errno;
	err = dm_loop_add_fd(loop, t->fd, EPOLLIN, timer_ready, t);
	if (err < 0) {
		close(t->fd);
		t->fd = -1;
	}
	return err;
}

void dm_timer_fini(struct dm_timer *t)
{
	if (t->fd < 0)
		return;
	dm_loop_del_fd(t->loop, t->fd);
	close(t->fd);
	t->fd = -1;
	t->armed = false;
}

int dm_timer_arm(struct dm_timer *t, uint64_t deadline_ns)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	/* An all-zero it_value would disarm: the earliest real deadline is 1 ns. */
	if (deadline_ns == 0)
		deadline_ns = 1;
	its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
	if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	t->armed = true;
	t->deadline = deadline_ns;
	return 0;
}

void dm_timer_disarm(struct dm_timer *t)
{
	struct itimerspec its;

	if (t->fd < 0)
		return;
	memset(&its, 0, sizeof(its));
	timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL);
	t->armed = false;
}
