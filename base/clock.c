/* clock.c — real (CLOCK_MONOTONIC + timerfd) and virtual (warped) clocks. */
#include "base/clock.h"

#include <errno.h>
#include <string.h>

/* A callback may re-arm the deadline it is handling this many times in a row
 * before the warp gives up (a model bug, not a guest action). */
#define WARP_MAX_REPEATS 1000u

static void real_timer_fired(void *opaque)
{
	struct dm_clock *c = opaque;

	c->deadline = RTC_NO_DEADLINE;
	if (c->expired)
		c->expired(c->opaque);
}

int dm_clock_init_real(struct dm_clock *c, struct dm_loop *loop, const struct dm_log *log)
{
	memset(c, 0, sizeof(*c));
	c->log = log;
	c->deadline = RTC_NO_DEADLINE;
	c->mono_base = dm_monotonic_ns();
	c->loop = loop;
	return dm_timer_init(&c->timer, loop, real_timer_fired, c);
}

void dm_clock_init_virtual(struct dm_clock *c, const struct dm_log *log)
{
	memset(c, 0, sizeof(*c));
	c->log = log;
	c->is_virtual = true;
	c->deadline = RTC_NO_DEADLINE;
	c->timer.fd = -1;
}

void dm_clock_fini(struct dm_clock *c)
{
	for (int i = 0; i < DM_CLOCK_MAX_ALARMS; i++)
		dm_clock_alarm_free(c, i);
	if (!c->is_virtual)
		dm_timer_fini(&c->timer);
	c->deadline = RTC_NO_DEADLINE;
}

void dm_clock_set_expired_cb(struct dm_clock *c, dm_clock_expired_cb cb, void *opaque)
{
	c->expired = cb;
	c->opaque = opaque;
}

uint64_t dm_clock_now(const struct dm_clock *c)
{
	if (c->is_virtual)
		return c->vnow;
	return dm_monotonic_ns() - c->mono_base;
}

uint64_t dm_clock_deadline(const struct dm_clock *c)
{
	return c->deadline;
}

/* A clock deadline as an absolute CLOCK_MONOTONIC time (saturated, not
 * wrapped, for deadlines centuries away). */
static uint64_t to_monotonic(const struct dm_clock *c, uint64_t deadline_ns)
{
	return deadline_ns > UINT64_MAX / 2 - c->mono_base ? UINT64_MAX / 2
	                                                   : c->mono_base + deadline_ns;
}

/* Real mode: set timer t for a clock deadline (RTC_NO_DEADLINE:
 * disarm).  Virtual mode: nothing, dm_clock_warp() fires the deadlines. */
static void arm_real_timer(struct dm_clock *c, struct dm_timer *t, uint64_t deadline_ns,
                           const char *what)
{
	if (c->is_virtual)
		return;
	if (deadline_ns == RTC_NO_DEADLINE) {
		dm_timer_disarm(t);
		return;
	}
	int err = dm_timer_arm(t, to_monotonic(c, deadline_ns));
	if (err < 0)
		dm_err(c->log, "cannot arm %s: %s", what, strerror(-err));
}

void dm_clock_arm(struct dm_clock *c, uint64_t deadline_ns)
{
	c->deadline = deadline_ns;
	arm_real_timer(c, &c->timer, deadline_ns, "the RTC timer");
}

/* ---- alarms -------------------------------------------------------------- */

static void real_alarm_fired(void *opaque)
{
	struct dm_clock_alarm *a = opaque;

	a->deadline = RTC_NO_DEADLINE;
	a->cb(a->opaque);
}

int dm_clock_alarm_new(struct dm_clock *c, dm_clock_expired_cb cb, void *opaque)
{
	for (int i = 0; i < DM_CLOCK_MAX_ALARMS; i++) {
		struct dm_clock_alarm *a = &c->alarms[i];

		if (a->used)
			continue;
		memset(a, 0, sizeof(*a));
		a->deadline = RTC_NO_DEADLINE;
		a->cb = cb;
		a->opaque = opaque;
		a->timer.fd = -1;
		if (!c->is_virtual) {
			int rc = dm_timer_init(&a->timer, c->loop, real_alarm_fired, a);
			if (rc < 0)
				return rc;
		}
		a->used = true;
		return i;
	}
	return -ENOSPC;
}

void dm_clock_alarm_arm(struct dm_clock *c, int alarm, uint64_t deadline_ns)
{
	struct dm_clock_alarm *a = &c->alarms[alarm];

	a->deadline = deadline_ns;
	arm_real_timer(c, &a->timer, deadline_ns, "a clock alarm");
}

void dm_clock_alarm_free(struct dm_clock *c, int alarm)
{
	struct dm_clock_alarm *a;

	if (alarm < 0 || alarm >= DM_CLOCK_MAX_ALARMS || !c->alarms[alarm].used)
		return;
	a = &c->alarms[alarm];
	if (!c->is_virtual)
		dm_timer_fini(&a->timer);
	a->used = false;
	a->deadline = RTC_NO_DEADLINE;
}

/* ---- virtual time ----------------------------------------------------------- */

/* The earliest deadline: the timer's (-1) or an alarm's (its number), or
 * RTC_NO_DEADLINE in *due when none is armed. */
static int earliest(const struct dm_clock *c, uint64_t *due)
{
	int which = -1;

	*due = c->deadline;
	for (int i = 0; i < DM_CLOCK_MAX_ALARMS; i++) {
		if (c->alarms[i].used && c->alarms[i].deadline < *due) {
			*due = c->alarms[i].deadline;
			which = i;
		}
	}
	return which;
}

int dm_clock_warp(struct dm_clock *c, uint64_t target)
{
	unsigned repeats = 0;
	uint64_t due;

	if (!c->is_virtual || target < c->vnow)
		return -EINVAL;
	c->in_warp = true;
	for (;;) {
		int which = earliest(c, &due);

		if (due == RTC_NO_DEADLINE || due > target)
			break;
		/* A deadline already behind the clock fires at the current time. */
		if (due > c->vnow)
			c->vnow = due;
		if (which >= 0) { /* an alarm re-arms only for later: no repeat check */
			c->alarms[which].deadline = RTC_NO_DEADLINE;
			c->alarms[which].cb(c->alarms[which].opaque);
			continue;
		}
		c->deadline = RTC_NO_DEADLINE;
		if (c->expired)
			c->expired(c->opaque);
		if (c->deadline != RTC_NO_DEADLINE && c->deadline <= c->vnow) {
			if (++repeats >= WARP_MAX_REPEATS) {
				dm_err(c->log, "timer re-armed at %llu ns %u times without progress",
				       (unsigned long long)c->deadline, repeats);
				c->in_warp = false;
				return -ELOOP;
			}
		} else {
			repeats = 0;
		}
	}
	c->vnow = target;
	c->in_warp = false;
	return 0;
}
