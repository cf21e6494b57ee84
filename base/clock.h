/*
 * clock.h — the device's clock, its timer and a few alarms.
 *
 * Real mode: clock_ns() is CLOCK_MONOTONIC minus the monotonic time at
 * start, and the timer is a timerfd armed at the absolute monotonic time of
 * the deadline.
 *
 * Virtual mode (a qtest client owns time): the clock stands still except in
 * dm_clock_warp(), which moves it forward and fires every deadline it
 * passes, in order, each with the clock set to that deadline exactly.  No
 * timerfd is involved.
 *
 * The timer belongs to the RTC (dm_clock_deadline() is what a qtest
 * "clock_step" without argument steps to).  Alarms are further one-shot
 * deadlines on the same clock for the process's own use (rate limits): a
 * timerfd each in real mode, fired by dm_clock_warp() in virtual mode.
 */
#ifndef RTCDM_DM_CLOCK_H
#define RTCDM_DM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/loop.h"
#include "rtc/rtc.h" /* RTC_NO_DEADLINE */

typedef void (*dm_clock_expired_cb)(void *opaque);

#define DM_CLOCK_MAX_ALARMS 4

struct dm_clock_alarm {
	bool used;
	uint64_t deadline; /* RTC_NO_DEADLINE when disarmed */
	dm_clock_expired_cb cb;
	void *opaque;
	struct dm_timer timer; /* real mode only */
};

struct dm_clock {
	bool is_virtual;
	uint64_t mono_base; /* real mode: CLOCK_MONOTONIC at clock 0 */
	uint64_t vnow;      /* virtual mode: the clock */
	uint64_t deadline;  /* RTC_NO_DEADLINE when disarmed */
	bool in_warp;
	dm_clock_expired_cb expired;
	void *opaque;
	struct dm_timer timer; /* real mode only */
	struct dm_loop *loop;  /* real mode only */
	const struct dm_log *log;
	struct dm_clock_alarm alarms[DM_CLOCK_MAX_ALARMS];
};

/* Real clock starting now; registers a timerfd in loop.  0 or -errno. */
int dm_clock_init_real(struct dm_clock *c, struct dm_loop *loop, const struct dm_log *log);
/* Virtual clock at 0. */
void dm_clock_init_virtual(struct dm_clock *c, const struct dm_log *log);
void dm_clock_fini(struct dm_clock *c);

/* Who is told when the deadline passes. */
void dm_clock_set_expired_cb(struct dm_clock *c, dm_clock_expired_cb cb, void *opaque);

uint64_t dm_clock_now(const struct dm_clock *c);
/* Arm for an absolute clock deadline, or disarm with RTC_NO_DEADLINE. */
void dm_clock_arm(struct dm_clock *c, uint64_t deadline_ns);
uint64_t dm_clock_deadline(const struct dm_clock *c);

/* A new alarm (disarmed) calling cb(opaque) when it rings: its number, or
 * -ENOSPC / -errno. */
int dm_clock_alarm_new(struct dm_clock *c, dm_clock_expired_cb cb, void *opaque);
/* Ring at the absolute clock time deadline_ns (RTC_NO_DEADLINE: not). */
void dm_clock_alarm_arm(struct dm_clock *c, int alarm, uint64_t deadline_ns);
void dm_clock_alarm_free(struct dm_clock *c, int alarm);

/*
 * Virtual mode: advance to `target`, firing each deadline <= target (the
 * timer's and the alarms') at its own time.  0 on success; -EINVAL if target is behind the clock or the clock
 * is real; -ELOOP if a callback keeps re-arming the deadline it is handling
 * (the clock then stays at that deadline).
 */
int dm_clock_warp(struct dm_clock *c, uint64_t target);

#endif
