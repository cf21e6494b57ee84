/*
 * loop.h — the device model's event loop: epoll over registered descriptors,
 * timerfd timers (CLOCK_MONOTONIC, absolute deadlines) and a signalfd for
 * SIGTERM, SIGINT and SIGHUP.  Nothing polls: with no armed timer and no
 * traffic the process sleeps in epoll_wait().
 *
 * Later subsystems (QMP sockets, the xenstore watch descriptor, Xen event
 * channels) register their descriptors with dm_loop_add_fd().
 */
#ifndef RTCDM_DM_LOOP_H
#define RTCDM_DM_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"

struct dm_loop;

/* Called with the epoll events (EPOLLIN, EPOLLHUP, ...) that fired. */
typedef void (*dm_fd_cb)(struct dm_loop *loop, int fd, uint32_t events, void *opaque);
/* A signal arrived (SIGTERM, SIGINT or SIGHUP). */
typedef void (*dm_signal_cb)(struct dm_loop *loop, int signo, void *opaque);

#define DM_LOOP_MAX_FDS 64

struct dm_loop_watch {
	int fd; /* -1: free slot */
	dm_fd_cb cb;
	void *opaque;
	uint32_t events; /* as epoll has them: a change to the same is no call */
};

struct dm_loop {
	int epfd;
	int sigfd;
	bool stop;
	int exit_status;
	const struct dm_log *log;
	dm_signal_cb on_signal; /* NULL: log and stop with status 0 */
	void *signal_opaque;
	struct dm_loop_watch watches[DM_LOOP_MAX_FDS];
	uint64_t wakeups; /* epoll_wait returns that delivered events */
	uint64_t mods;    /* EPOLL_CTL_MOD calls made (dm_loop_mod_fd) */
	sigset_t old_mask; /* restored by dm_loop_fini() */
	bool mask_saved;
};

/*
 * Create the epoll set and the signalfd; blocks SIGTERM, SIGINT and SIGHUP
 * for the calling thread (they arrive through the signalfd) and ignores
 * SIGPIPE (a closed peer is seen as EPIPE).  0 or -errno.
 */
int dm_loop_init(struct dm_loop *loop, const struct dm_log *log);
/* Close the loop's descriptors and restore the signal mask. */
void dm_loop_fini(struct dm_loop *loop);

/* Watch fd for events (EPOLLIN, EPOLLOUT, ...).  0, -EEXIST, -ENOSPC or -errno. */
int dm_loop_add_fd(struct dm_loop *loop, int fd, uint32_t events, dm_fd_cb cb, void *opaque);
/* Watch fd for events instead: no system call when they are the ones
 * watched already (a relay asks for its masks after every message).  0,
 * -ENOENT or -errno. */
int dm_loop_mod_fd(struct dm_loop *loop, int fd, uint32_t events);
/* Stop watching fd (does not close it).  Safe from inside a callback. */
void dm_loop_del_fd(struct dm_loop *loop, int fd);

/* Replace the default signal handling (log + clean stop with status 0). */
void dm_loop_set_signal_handler(struct dm_loop *loop, dm_signal_cb cb, void *opaque);

/* Ask dm_loop_run() to return `status` after the current callback. */
void dm_loop_stop(struct dm_loop *loop, int status);

/* Dispatch events until dm_loop_stop().  Returns the status given to it, or
 * 1 when epoll fails. */
int dm_loop_run(struct dm_loop *loop);

/* Dispatch whatever is ready within timeout_ms (-1: wait forever, 0: do not
 * wait).  Returns the number of events dispatched or -errno. */
int dm_loop_once(struct dm_loop *loop, int timeout_ms);

/* A one-shot timer on its own timerfd, armed with absolute CLOCK_MONOTONIC
 * deadlines. */
typedef void (*dm_timer_cb)(void *opaque);
struct dm_timer {
	struct dm_loop *loop;
	int fd;
	bool armed;
	uint64_t deadline; /* CLOCK_MONOTONIC ns, when armed */
	dm_timer_cb cb;
	void *opaque;
};

int dm_timer_init(struct dm_timer *t, struct dm_loop *loop, dm_timer_cb cb, void *opaque);
void dm_timer_fini(struct dm_timer *t);
/* Fire once at the absolute CLOCK_MONOTONIC time `deadline_ns` (at once if
 * it has passed).  Replaces an earlier deadline.  0 or -errno. */
int dm_timer_arm(struct dm_timer *t, uint64_t deadline_ns);
void dm_timer_disarm(struct dm_timer *t);

/* CLOCK_MONOTONIC now, in ns. */
uint64_t dm_monotonic_ns(void);

#endif
