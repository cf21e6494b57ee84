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

static void release_held(struct dm_ratelimit *r, uint64_t now_ns)
{
	uint64_t n = dm_throttle_release(&r->rule, now_ns);

	if (n)
		r->send(r->opaque, n);
}

static void timer_rang(void *opaque)
{
	struct dm_ratelimit *r = opaque;

	release_held(r, dm_monotonic_ns());
	if (r->rule.held) /* rang early: try again at the deadline */
		dm_timer_arm(&r->timer, dm_throttle_deadline(&r->rule));
}

int dm_ratelimit_init(struct dm_ratelimit *r, struct dm_loop *loop, uint64_t interval_ns,
                      dm_ratelimit_cb send, void *opaque)
{
	int rc = 0;

	memset(r, 0, sizeof(*r));
	dm_throttle_init(&r->rule, interval_ns);
	r->send = send;
	r->opaque = opaque;
	r->timer.fd = -1;
	if (loop) {
		rc = dm_timer_init(&r->timer, loop, timer_rang, r);
		r->has_timer = rc == 0;
	}
	return rc;
}

void dm_ratelimit_fini(struct dm_ratelimit *r)
{
	dm_ratelimit_flush(r);
	if (r->has_timer)
		dm_timer_fini(&r->timer);
	r->has_timer = false;
}

void dm_ratelimit_offer(struct dm_ratelimit *r)
{
	if (!r->has_timer) {
		r->send(r->opaque, 0);
		return;
	}
	bool first_held = r->rule.held == 0;
	if (dm_throttle_offer(&r->rule, dm_monotonic_ns()))
		r->send(r->opaque, 0);
	else if (first_held)
		dm_timer_arm(&r->timer, dm_throttle_deadline(&r->rule));
}

void dm_ratelimit_flush(struct dm_ratelimit *r)
{
	uint64_t n = r->rule.held;

	if (!n)
		return;
	r->rule.held = 0;
	r->rule.last_ns = r->has_timer ? dm_monotonic_ns() : r->rule.last_ns;
	if (r->has_timer)
		dm_timer_disarm(&r->timer);
	r->send(r->opaque, n);
}
