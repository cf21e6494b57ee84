/* throttle.c — one occurrence per interval, the rest as one (see throttle.h). */
#include "base/throttle.h"

#include <string.h>

void dm_throttle_init(struct dm_throttle *t, uint64_t interval_ns)
{
	memset(t, 0, sizeof(*t));
	t->interval_ns = interval_ns;
}

bool dm_throttle_offer(struct dm_throttle *t, uint64_t now_ns)
{
	if (t->held == 0 && (!t->sent_once || now_ns - t->last_ns >= t->interval_ns)) {
		t->sent_once = true;
		t->last_ns = now_ns;
		return true;
	}
	t->held++;
	return false;
}

uint64_t dm_throttle_deadline(const struct dm_throttle *t)
{
	return t->held ? t->last_ns + t->interval_ns : DM_THROTTLE_NONE;
}

uint64_t dm_throttle_release(struct dm_throttle *t, uint64_t now_ns)
{
	uint64_t n = t->held;

	if (n == 0 || now_ns < dm_throttle_deadline(t))
		return 0;
	t->held = 0;
	t->last_ns = now_ns;
	return n;
}

static void alarm_rang(void *opaque)
{
	struct dm_ratelimit *r = opaque;
	uint64_t n = dm_throttle_release(&r->rule, dm_clock_now(r->clock));

	if (n)
		r->send(r->opaque, n);
	else if (r->rule.held) /* rang early: again at the deadline */
		dm_clock_alarm_arm(r->clock, r->alarm, dm_throttle_deadline(&r->rule));
}

int dm_ratelimit_init(struct dm_ratelimit *r, struct dm_clock *clock, uint64_t interval_ns,
                      dm_ratelimit_cb send, void *opaque)
{
	memset(r, 0, sizeof(*r));
	dm_throttle_init(&r->rule, interval_ns);
	r->send = send;
	r->opaque = opaque;
	r->alarm = -1;
	if (!clock)
		return 0;
	r->alarm = dm_clock_alarm_new(clock, alarm_rang, r);
	if (r->alarm < 0)
		return r->alarm;
	r->clock = clock;
	return 0;
}

void dm_ratelimit_fini(struct dm_ratelimit *r)
{
	dm_ratelimit_flush(r);
	if (r->clock)
		dm_clock_alarm_free(r->clock, r->alarm);
	r->clock = NULL;
}

void dm_ratelimit_offer(struct dm_ratelimit *r)
{
	if (!r->clock) {
		r->send(r->opaque, 0);
		return;
	}
	bool first_held = r->rule.held == 0;
	if (dm_throttle_offer(&r->rule, dm_clock_now(r->clock)))
		r->send(r->opaque, 0);
	else if (first_held)
		dm_clock_alarm_arm(r->clock, r->alarm, dm_throttle_deadline(&r->rule));
}

void dm_ratelimit_flush(struct dm_ratelimit *r)
{
	uint64_t n = r->rule.held;

	if (!n)
		return;
	r->rule.held = 0;
	if (r->clock) {
		r->rule.last_ns = dm_clock_now(r->clock);
		dm_clock_alarm_arm(r->clock, r->alarm, RTC_NO_DEADLINE);
	}
	r->send(r->opaque, n);
}
