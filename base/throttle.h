/*
 * throttle.h — at most one occurrence per interval goes out at once; those
 * that come sooner are held back, and when the interval ends one message
 * stands for all of them (QEMU throttles its RTC_CHANGE event this way: the
 * latest value always arrives, late by at most one interval).
 *
 * struct dm_throttle is the rule alone, on a time the caller passes in.
 * struct dm_ratelimit runs it on a struct dm_clock (the guest's clock: real
 * on Xen, virtual under qtest, so tests step it) with one of its alarms for
 * the held-back message.
 */
#ifndef RTCDM_BASE_THROTTLE_H
#define RTCDM_BASE_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"

#define DM_THROTTLE_NONE UINT64_MAX

struct dm_throttle {
	uint64_t interval_ns;
	uint64_t last_ns;  /* when something last went out */
	bool sent_once;
	uint64_t held;     /* occurrences held back since then */
};

void dm_throttle_init(struct dm_throttle *t, uint64_t interval_ns);
/* An occurrence at now_ns: true when it goes out now, false when it is
 * held back (for dm_throttle_release). */
bool dm_throttle_offer(struct dm_throttle *t, uint64_t now_ns);
/* When the held-back occurrences are due, or DM_THROTTLE_NONE. */
uint64_t dm_throttle_deadline(const struct dm_throttle *t);
/* At now_ns: how many held-back occurrences go out now, as one (0: none,
 * or not yet due).  The next interval starts now when some do. */
uint64_t dm_throttle_release(struct dm_throttle *t, uint64_t now_ns);

/* send(opaque, 0): an occurrence goes out as it happens; send(opaque, n):
 * n were held back and go out as one (the caller sends the latest value). */
typedef void (*dm_ratelimit_cb)(void *opaque, uint64_t held);

struct dm_ratelimit {
	struct dm_throttle rule;
	struct dm_clock *clock; /* NULL: nothing is held back */
	int alarm;
	dm_ratelimit_cb send;
	void *opaque;
};

/* clock may be NULL (then every occurrence goes out at once).  0 or
 * -errno (then too). */
int dm_ratelimit_init(struct dm_ratelimit *r, struct dm_clock *clock, uint64_t interval_ns,
                      dm_ratelimit_cb send, void *opaque);
/* Sends what is still held back, then frees the alarm. */
void dm_ratelimit_fini(struct dm_ratelimit *r);
void dm_ratelimit_offer(struct dm_ratelimit *r);
/* Send what is held back now (e.g. before a value must be exact). */
void dm_ratelimit_flush(struct dm_ratelimit *r);

#endif
