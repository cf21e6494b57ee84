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

void dm_clock_arm(struct dm_clock *c, uint64_t deadline_ns)
{
	c->deadline = deadline_ns;
	if (c->is_virtual)
		return; /* fired by dm_clock_warp() */
	if (deadline_ns == RTC_NO_DEADLINE) {
		dm_timer_disarm(&c->timer);
		return;
	}
	/* Saturate instead of wrapping for deadlines centuries away. */
	uint64_t mono = deadline_ns > UINT64_MAX / 2 - c->mono_base ? UINT64_MAX / 2
	                                                              : c->mono_base + deadline_ns;
	int err = dm_timer_arm(&c->timer, mono);

	if (err < 0)
		dm_err(c->log, "cannot arm the RTC timer: %s", strerror(-err));
}

int dm_clock_warp(struct dm_clock *c, uint64_t target)
{
	unsigned repeats = 0;

	if (!c->is_virtual || target < c->vnow)
		return -EINVAL;
	c->in_warp = true;
	while (c->deadline != RTC_NO_DEADLINE && c->deadline <= target) {
		uint64_t due = c->deadline;

		/* A deadline already behind the clock fires at the current time. */
		if (due > c->vnow)
			c->vnow = due;
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
