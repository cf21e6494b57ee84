/* The rate-limit rule: one at once per interval, the rest as one, on a test clock. */
#include <CUnit/CUnit.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/throttle.h"

void suite_base_throttle(void);

#define MS 1000000ull

/* A burst of 100,000 changes within 1 s at 100 ms: the first at once, then
 * one message per interval, the last at most one interval after the burst. */
static void test_burst(void)
{
	struct dm_throttle t;
	unsigned at_once = 0, released = 0;
	uint64_t held_total = 0, deadline = DM_THROTTLE_NONE;

	dm_throttle_init(&t, 100 * MS);
	for (uint64_t i = 0; i < 100000; i++) {
		uint64_t now = 1000 * MS + i * 10000; /* every 10 us, 0..1 s */
		if (deadline != DM_THROTTLE_NONE && now >= deadline) {
			uint64_t n = dm_throttle_release(&t, now);
			released += n > 0;
			held_total += n;
		}
		if (dm_throttle_offer(&t, now))
			at_once++;
		deadline = dm_throttle_deadline(&t);
	}
	/* The burst ended at 1999.99 ms: what is held goes out at the deadline. */
	CU_ASSERT_EQUAL(deadline, 2000 * MS);
	CU_ASSERT_EQUAL(dm_throttle_release(&t, deadline - 1), 0);
	uint64_t n = dm_throttle_release(&t, deadline);
	released += n > 0;
	held_total += n;
	CU_ASSERT_EQUAL(at_once, 1);
	CU_ASSERT_EQUAL(released, 10);
	CU_ASSERT_EQUAL(at_once + held_total, 100000);
	CU_ASSERT_EQUAL(dm_throttle_deadline(&t), DM_THROTTLE_NONE);
}

/* Step by step: what goes out when. */
static void test_steps(void)
{
	static const struct {
		char op;       /* 'o' offer, 'r' release */
		uint64_t now;  /* ms */
		uint64_t want; /* offer: 1 at once, 0 held; release: count */
		uint64_t deadline; /* ms after the step, or 0 for none */
	} steps[] = {
	    {'o', 5000, 1, 0},    /* the first goes out */
	    {'o', 6000, 1, 0},    /* a whole interval later: at once too */
	    {'o', 6100, 0, 7000}, /* too soon: held until 7000 */
	    {'o', 6900, 0, 7000},
	    {'r', 6999, 0, 7000}, /* not yet */
	    {'r', 7200, 2, 0},    /* late timer: both as one; interval restarts at 7200 */
	    {'o', 7300, 0, 8200}, /* within the new interval */
	    {'r', 8200, 1, 0},
	    {'r', 9000, 0, 0},    /* nothing held */
	    {'o', 9100, 0, 9200}, /* 900 ms after the release at 8200: held */
	    {'r', 9200, 1, 0},
	    {'o', 10200, 1, 0},
	};
	struct dm_throttle t;

	dm_throttle_init(&t, 1000 * MS);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint64_t got = steps[i].op == 'o' ? dm_throttle_offer(&t, steps[i].now * MS)
		                                  : dm_throttle_release(&t, steps[i].now * MS);
		uint64_t dl = dm_throttle_deadline(&t);
		CU_ASSERT_EQUAL(got, steps[i].want);
		CU_ASSERT_EQUAL(dl, steps[i].deadline ? steps[i].deadline * MS : DM_THROTTLE_NONE);
		if (got != steps[i].want)
			fprintf(stderr, "\nstep %zu: got %llu", i, (unsigned long long)got);
	}
}

struct sink {
	unsigned calls;
	uint64_t held[4];
};

static void record(void *opaque, uint64_t held)
{
	struct sink *k = opaque;
	if (k->calls < 4)
		k->held[k->calls] = held;
	k->calls++;
}

/* Without a clock nothing is held back. */
static void test_ratelimit_without_clock(void)
{
	struct dm_ratelimit r;
	struct sink k = {0};

	CU_ASSERT_EQUAL(dm_ratelimit_init(&r, NULL, 1000 * MS, record, &k), 0);
	dm_ratelimit_offer(&r);
	dm_ratelimit_offer(&r);
	CU_ASSERT_EQUAL(k.calls, 2);
	CU_ASSERT_EQUAL(k.held[0], 0);
	CU_ASSERT_EQUAL(k.held[1], 0);
	dm_ratelimit_fini(&r);
	CU_ASSERT_EQUAL(k.calls, 2);
}

/* On a virtual clock: the first at once, the rest held until the clock
 * passes the end of the interval, then sent as one; fini sends the rest. */
static void test_ratelimit_on_virtual_clock(void)
{
	struct dm_clock clock;
	struct dm_ratelimit r;
	struct sink k = {0};

	dm_clock_init_virtual(&clock, NULL);
	CU_ASSERT_EQUAL_FATAL(dm_ratelimit_init(&r, &clock, 1000 * MS, record, &k), 0);
	for (int i = 0; i < 5; i++)
		dm_ratelimit_offer(&r);
	CU_ASSERT_EQUAL(k.calls, 1);
	CU_ASSERT_EQUAL(k.held[0], 0);
	/* The RTC's timer is not this alarm: qtest's next deadline is unchanged. */
	CU_ASSERT_EQUAL(dm_clock_deadline(&clock), RTC_NO_DEADLINE);
	CU_ASSERT_EQUAL(dm_clock_warp(&clock, 999 * MS), 0);
	CU_ASSERT_EQUAL(k.calls, 1);
	CU_ASSERT_EQUAL(dm_clock_warp(&clock, 1000 * MS), 0);
	CU_ASSERT_EQUAL(k.calls, 2);
	CU_ASSERT_EQUAL(k.held[1], 4);
	/* Held again, then the process ends: sent at fini. */
	dm_ratelimit_offer(&r);
	dm_ratelimit_offer(&r);
	CU_ASSERT_EQUAL(k.calls, 2);
	dm_ratelimit_fini(&r);
	CU_ASSERT_EQUAL(k.calls, 3);
	CU_ASSERT_EQUAL(k.held[2], 2);
	CU_ASSERT_EQUAL(dm_clock_warp(&clock, 5000 * MS), 0); /* the alarm is gone */
	CU_ASSERT_EQUAL(k.calls, 3);
	dm_clock_fini(&clock);
}

struct order {
	struct dm_clock clock;
	char seen[64];
};

static void note(struct order *o, const char *who)
{
	size_t n = strlen(o->seen);
	snprintf(o->seen + n, sizeof(o->seen) - n, "%s@%llu;", who,
	         (unsigned long long)(dm_clock_now(&o->clock) / MS));
}

static void note_a(void *opaque)
{
	note(opaque, "a");
}

static void note_b(void *opaque)
{
	note(opaque, "b");
}

static void note_rtc(void *opaque)
{
	note(opaque, "rtc");
}

/* Alarms and the RTC's timer ring in deadline order, each at its time. */
static void test_alarms_in_order(void)
{
	struct order o = {.seen = ""};

	dm_clock_init_virtual(&o.clock, NULL);
	dm_clock_set_expired_cb(&o.clock, note_rtc, &o);
	int a = dm_clock_alarm_new(&o.clock, note_a, &o);
	int b = dm_clock_alarm_new(&o.clock, note_b, &o);
	CU_ASSERT(a >= 0 && b >= 0 && a != b);
	dm_clock_alarm_arm(&o.clock, a, 300 * MS);
	dm_clock_alarm_arm(&o.clock, b, 100 * MS);
	dm_clock_arm(&o.clock, 200 * MS);
	CU_ASSERT_EQUAL(dm_clock_deadline(&o.clock), 200 * MS);
	CU_ASSERT_EQUAL(dm_clock_warp(&o.clock, 250 * MS), 0);
	CU_ASSERT_STRING_EQUAL(o.seen, "b@100;rtc@200;");
	CU_ASSERT_EQUAL(dm_clock_now(&o.clock), 250 * MS);
	dm_clock_alarm_arm(&o.clock, b, RTC_NO_DEADLINE);
	CU_ASSERT_EQUAL(dm_clock_warp(&o.clock, 1000 * MS), 0);
	CU_ASSERT_STRING_EQUAL(o.seen, "b@100;rtc@200;a@300;");
	for (int i = 2; i < DM_CLOCK_MAX_ALARMS; i++)
		CU_ASSERT(dm_clock_alarm_new(&o.clock, note_a, &o) >= 0);
	CU_ASSERT_EQUAL(dm_clock_alarm_new(&o.clock, note_a, &o), -ENOSPC);
	dm_clock_alarm_free(&o.clock, a);
	CU_ASSERT_EQUAL(dm_clock_alarm_new(&o.clock, note_a, &o), a);
	dm_clock_fini(&o.clock);
}

void suite_base_throttle(void)
{
	CU_pSuite s = CU_add_suite("base_throttle", NULL, NULL);
	CU_add_test(s, "a burst of 100,000: one at once, then one per interval", test_burst);
	CU_add_test(s, "what goes out when", test_steps);
	CU_add_test(s, "no clock: nothing held back", test_ratelimit_without_clock);
	CU_add_test(s, "on a virtual clock: held until the clock passes, rest at fini",
	            test_ratelimit_on_virtual_clock);
	CU_add_test(s, "clock alarms and the RTC timer ring in deadline order", test_alarms_in_order);
}
