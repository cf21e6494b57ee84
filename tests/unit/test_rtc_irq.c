/* RTC interrupts: periodic, update-ended, alarm, IRQF/line, timers, lost ticks. */
#include <CUnit/CUnit.h>

#include "tests/support/rtc.h"

void suite_rtc_irq(void);

#define S(x) ((uint64_t)(x) * 1000000000u)

/* First ns of 32768 Hz cycle k (k < 2^34): ceil(k * 1e9 / 32768). */
static uint64_t cycle_ns(uint64_t k)
{
	return (k * 1000000000u + 32767u) / 32768u;
}

/* Nothing enabled: no timer across hours, flags still set lazily. */
static void test_no_timer_when_disabled(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	for (uint64_t t = 0; t <= S(5 * 3600); t += S(60) + 123456789) {
		rtc_fake_run_until(&f, t);
		(void)rtc_fake_rd(&f, RTC_SECONDS);
		(void)rtc_fake_rd(&f, RTC_REG_A);
		CU_ASSERT_EQUAL(f.deadline, RTC_NO_DEADLINE);
	}
	CU_ASSERT_EQUAL(f.arm_calls, 0);
	CU_ASSERT_EQUAL(rtc_next_deadline(f.rtc), RTC_NO_DEADLINE);
	/* PF (1024 Hz) and UF were set without PIE/UIE; no IRQF, no line. */
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x50);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x00);
	CU_ASSERT_EQUAL(f.irq_raises, 0);
	rtc_fake_fini(&f);
}

static void test_update_interrupt(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_wr(&f, RTC_REG_A, 0x20); /* no periodic rate */
	rtc_fake_wr(&f, RTC_REG_B, 0x12);
	CU_ASSERT_EQUAL(f.deadline, S(1));
	rtc_fake_run_until(&f, S(1) - 1);
	CU_ASSERT_EQUAL(f.irq, 0);
	rtc_fake_run_until(&f, S(1));
	CU_ASSERT_EQUAL(f.irq, 1);
	CU_ASSERT_EQUAL(f.deadline, RTC_NO_DEADLINE); /* line raised: no timer */
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x01);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x90);
	CU_ASSERT_EQUAL(f.irq, 0);
	CU_ASSERT_EQUAL(f.deadline, S(2));
	/* Guest ignores it for 3.5 s: one raise, UF coalesced. */
	rtc_fake_run_until(&f, S(5) + 500 * MS_NS);
	CU_ASSERT_EQUAL(f.irq_raises, 2);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x90);
	CU_ASSERT_EQUAL(f.deadline, S(6));
	CU_ASSERT_EQUAL(f.irq_same, 0);
	CU_ASSERT_EQUAL(f.arm_same, 0);
	rtc_fake_fini(&f);
}

/* Enabling an interrupt whose flag is pending raises the line at once;
 * disabling it lowers the line (IRQF follows B & C). */
static void test_enable_pending(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_wr(&f, RTC_REG_A, 0x20);
	rtc_fake_advance(&f, 1500 * MS_NS);
	CU_ASSERT_EQUAL(f.irq, 0);
	rtc_fake_wr(&f, RTC_REG_B, 0x12);
	CU_ASSERT_EQUAL(f.irq, 1);
	CU_ASSERT_EQUAL(f.irq_raises, 1);
	CU_ASSERT_EQUAL(f.deadline, RTC_NO_DEADLINE);
	rtc_fake_wr(&f, RTC_REG_B, 0x02);
	CU_ASSERT_EQUAL(f.irq, 0);
	rtc_fake_wr(&f, RTC_REG_B, 0x12);
	CU_ASSERT_EQUAL(f.irq, 1);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x90);
	CU_ASSERT_EQUAL(f.irq, 0);
	CU_ASSERT_EQUAL(f.deadline, S(2));
	/* Writes to C and D are ignored. */
	rtc_fake_run_until(&f, S(2) - 1);
	rtc_fake_wr(&f, RTC_REG_C, 0xff);
	rtc_fake_wr(&f, RTC_REG_D, 0x00);
	CU_ASSERT_EQUAL(f.irq, 0);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_D), 0x80);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x00);
	rtc_fake_fini(&f);
}

/* 8192 Hz: exactly 81 920 ticks in 10 s, each at ceil(4k * 1e9 / 32768). */
static void test_periodic_8192(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_wr(&f, RTC_REG_A, 0x23);
	rtc_fake_wr(&f, RTC_REG_B, 0x42);
	unsigned ticks = 0, bad = 0;
	while (f.deadline <= S(10)) {
		if (f.deadline != cycle_ns(4u * (ticks + 1u)))
			bad++;
		f.now = f.deadline;
		rtc_timer_expired(f.rtc);
		/* Every 8192nd tick is also a second boundary: UF (not enabled) is set too. */
		uint8_t want = (ticks + 1) % 8192 == 0 ? 0xd0 : 0xc0;
		if (f.irq != 1 || rtc_fake_rd(&f, RTC_REG_C) != want)
			bad++;
		ticks++;
	}
	CU_ASSERT_EQUAL(ticks, 81920);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(f.irq_raises, 81920);
	CU_ASSERT_EQUAL(f.deadline, S(10) + 122071); /* cycle 327684: 10 s + 122 070.3 ns */
	rtc_fake_fini(&f);
}

/* Rate codes: 1 and 2 alias 8 and 9 at 32 kHz; other DVs keep them. */
static void test_rates(void)
{
	static const struct {
		uint8_t a;
		uint64_t first;
	} cases[] = {
		{0x21, 3906250}, {0x22, 7812500}, {0x23, 122071}, {0x26, 976563},
		{0x28, 3906250}, {0x2f, 500000000}, {0x01, 30518}, {0x12, 61036},
		{0x20, RTC_NO_DEADLINE}, {0x66, RTC_NO_DEADLINE}, {0x36, RTC_NO_DEADLINE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rtc_fake f;
		rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
		rtc_fake_wr(&f, RTC_REG_A, cases[i].a);
		rtc_fake_wr(&f, RTC_REG_B, 0x42);
		CU_ASSERT_EQUAL(f.deadline, cases[i].first);
		rtc_fake_fini(&f);
	}
}

/* Ticks are in phase with guest time, PF set without PIE, no drift. */
static void test_periodic_phase(void)
{
	struct rtc_fake f;
	/* Guest ns at clock 0 is 300 ms: the 2 Hz tick at guest .5 s is at clock 200 ms. */
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS + 300 * MS_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_wr(&f, RTC_REG_A, 0x2f);
	rtc_fake_run_until(&f, 200 * MS_NS - 1);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x00);
	rtc_fake_run_until(&f, 200 * MS_NS);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x40);
	CU_ASSERT_EQUAL(f.deadline, RTC_NO_DEADLINE);
	rtc_fake_wr(&f, RTC_REG_B, 0x42);
	CU_ASSERT_EQUAL(f.deadline, 700 * MS_NS);
	/* After 5 h 123 456 789 ns the next 1024 Hz tick is still on the grid. */
	rtc_fake_wr(&f, RTC_REG_A, 0x26);
	rtc_fake_run_until(&f, S(5 * 3600) + 123456789);
	(void)rtc_fake_rd(&f, RTC_REG_C);
	/* guest = clock + 0.3 s: cycles = 18000.423456789 s * 32768 = 589837876.0 -> next multiple of 32 */
	uint64_t guest_cyc = (uint64_t)((S(18000) + 423456789) * 32768 / S(1));
	uint64_t next = (guest_cyc / 32 + 1) * 32;
	CU_ASSERT_EQUAL(f.deadline, cycle_ns(next) - 300 * MS_NS);
	rtc_fake_fini(&f);
}

/* Alarm with all don't-care bytes fires every second. */
static void test_alarm_every_second(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_wr(&f, RTC_REG_A, 0x20);
	rtc_fake_wr(&f, RTC_SECONDS_ALARM, 0xc0);
	rtc_fake_wr(&f, RTC_MINUTES_ALARM, 0xff);
	rtc_fake_wr(&f, RTC_HOURS_ALARM, 0xd5);
	rtc_fake_wr(&f, RTC_REG_B, 0x22);
	for (unsigned i = 1; i <= 5; i++) {
		CU_ASSERT_EQUAL(f.deadline, S(i));
		rtc_fake_run_until(&f, S(i));
		CU_ASSERT_EQUAL(f.irq, 1);
		CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0xb0); /* IRQF | AF | UF */
	}
	CU_ASSERT_EQUAL(f.irq_raises, 5);
	rtc_fake_fini(&f);
}

/* A specific alarm fires once per day; the timer sleeps in between. */
static void test_alarm_daily(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_wr(&f, RTC_REG_A, 0x20);
	rtc_fake_wr(&f, RTC_SECONDS_ALARM, 0x05);
	rtc_fake_wr(&f, RTC_MINUTES_ALARM, 0x00);
	rtc_fake_wr(&f, RTC_HOURS_ALARM, 0x00);
	rtc_fake_wr(&f, RTC_REG_B, 0x22);
	unsigned fired = 0;
	while (f.deadline <= S(3 * 86400)) {
		CU_ASSERT_EQUAL(f.deadline, S(5) + S(86400) * fired);
		f.now = f.deadline;
		rtc_timer_expired(f.rtc);
		CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x05);
		CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0xb0);
		fired++;
	}
	CU_ASSERT_EQUAL(fired, 3);
	CU_ASSERT_EQUAL(f.arm_calls, 7); /* first arm, then per firing: disarm at raise, re-arm at C read */
	/* Minute don't-care: every minute at :30. */
	rtc_fake_wr(&f, RTC_SECONDS_ALARM, 0x30);
	rtc_fake_wr(&f, RTC_MINUTES_ALARM, 0xc5);
	rtc_fake_wr(&f, RTC_HOURS_ALARM, 0x00);
	CU_ASSERT_EQUAL(f.deadline, S(2 * 86400 + 30));
	rtc_fake_fini(&f);
}

/* 12 h alarm hours are AM/PM aware; impossible values never fire. */
static void test_alarm_12h(void)
{
	static const struct {
		uint8_t regb, hour;
		uint64_t deadline;
	} cases[] = {
		{0x20, 0x81, S(13 * 3600)},   /* 1 PM */
		{0x20, 0x01, S(1 * 3600)},    /* 1 AM */
		{0x20, 0x12, S(86400)},       /* 12 AM: next midnight */
		{0x20, 0x92, S(12 * 3600)},   /* 12 PM: noon */
		{0x20, 0x00, RTC_NO_DEADLINE}, /* hour 0 does not exist in 12 h */
		{0x20, 0x13, RTC_NO_DEADLINE},
		{0x20, 0x1a, RTC_NO_DEADLINE}, /* invalid BCD */
		{0x24, 0x8d, RTC_NO_DEADLINE}, /* binary 13 PM */
		{0x24, 0x8b, S(23 * 3600)},   /* binary 11 PM */
		{0x22, 0x13, S(13 * 3600)},   /* 24 h BCD 13 */
		{0x22, 0x24, RTC_NO_DEADLINE},
		{0x26, 0x17, S(23 * 3600)},   /* 24 h binary 23 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rtc_fake f;
		rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
		rtc_fake_wr(&f, RTC_REG_A, 0x20);
		rtc_fake_wr(&f, RTC_SECONDS_ALARM, 0x00);
		rtc_fake_wr(&f, RTC_MINUTES_ALARM, 0x00);
		rtc_fake_wr(&f, RTC_HOURS_ALARM, cases[i].hour);
		rtc_fake_wr(&f, RTC_REG_B, cases[i].regb);
		CU_ASSERT_EQUAL(f.deadline, cases[i].deadline);
		if (cases[i].deadline != RTC_NO_DEADLINE) {
			rtc_fake_run_until(&f, cases[i].deadline);
			CU_ASSERT_EQUAL(f.irq, 1);
			CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_HOURS), cases[i].hour == 0x12 ? 0x12 : cases[i].hour);
		}
		rtc_fake_fini(&f);
	}
}

/* SET stops UF and AF, the divider keeps running so PF continues. */
static void test_set_stops_updates(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_wr(&f, RTC_SECONDS_ALARM, 0xc0);
	rtc_fake_wr(&f, RTC_MINUTES_ALARM, 0xc0);
	rtc_fake_wr(&f, RTC_HOURS_ALARM, 0xc0);
	rtc_fake_wr(&f, RTC_REG_B, 0xa2); /* SET | AIE */
	CU_ASSERT_EQUAL(f.deadline, RTC_NO_DEADLINE);
	rtc_fake_advance(&f, S(3));
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x40);
	CU_ASSERT_EQUAL(f.irq, 0);
	rtc_fake_wr(&f, RTC_REG_B, 0xc2); /* SET | PIE: periodic timer only */
	CU_ASSERT_EQUAL(f.deadline, S(3) + 976563);
	/* Divider reset: no periodic either. */
	rtc_fake_wr(&f, RTC_REG_A, 0x66);
	CU_ASSERT_EQUAL(f.deadline, RTC_NO_DEADLINE);
	rtc_fake_advance(&f, S(2));
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x00);
	rtc_fake_fini(&f);
}

/* Guest answers every interrupt at once; returns raises. */
static unsigned run_acking(struct rtc_fake *f, uint64_t until)
{
	unsigned before = f->irq_raises;
	while (f->deadline <= until) {
		f->now = f->deadline;
		rtc_timer_expired(f->rtc);
		if (f->irq)
			(void)rtc_fake_rd(f, RTC_REG_C);
	}
	f->now = until;
	return f->irq_raises - before;
}

/* Ticks in (0, t] at 1024 Hz from guest second 0. */
static uint64_t ticks_1024(uint64_t t)
{
	return t * 32768 / S(1) / 32;
}

static void test_lost_ticks(void)
{
	for (int slew = 0; slew <= 1; slew++) {
		struct rtc_fake f;
		rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS,
		              slew ? RTC_LOST_TICKS_SLEW : RTC_LOST_TICKS_DISCARD);
		rtc_fake_wr(&f, RTC_REG_B, 0x42); /* 1024 Hz, PIE */
		/* Guest does not answer for 100 ms: 102 ticks, one raise. */
		rtc_fake_run_until(&f, 100 * MS_NS);
		CU_ASSERT_EQUAL(ticks_1024(100 * MS_NS), 102);
		CU_ASSERT_EQUAL(f.irq_raises, 1);
		struct rtc_snapshot snap;
		rtc_snapshot(f.rtc, &snap);
		CU_ASSERT_EQUAL(snap.lost_ticks, slew ? 101u : 0u);
		CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0xc0);
		/* Slew: next delivery P/4 = 976562 / 4 ns later; discard: next regular tick. */
		CU_ASSERT_EQUAL(f.deadline, slew ? 100 * MS_NS + 244140 : cycle_ns(103 * 32));
		unsigned raises = 1 + run_acking(&f, S(1));
		rtc_snapshot(f.rtc, &snap);
		if (slew) {
			/* Every tick is delivered: raises + still-lost == ticks. */
			CU_ASSERT_EQUAL(raises + snap.lost_ticks, ticks_1024(S(1)));
			CU_ASSERT_EQUAL(snap.lost_ticks, 0);
		} else {
			CU_ASSERT_EQUAL(raises, ticks_1024(S(1)) - 101);
		}
		/* Clearing PIE forgets the count. */
		rtc_fake_run_until(&f, S(1) + 50 * MS_NS);
		rtc_fake_wr(&f, RTC_REG_B, 0x02);
		rtc_snapshot(f.rtc, &snap);
		CU_ASSERT_EQUAL(snap.lost_ticks, 0);
		CU_ASSERT_EQUAL(f.deadline, RTC_NO_DEADLINE);
		rtc_fake_fini(&f);
	}
}

/* Lost ticks are capped. */
static void test_lost_ticks_cap(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_SLEW);
	rtc_fake_wr(&f, RTC_REG_A, 0x23);
	rtc_fake_wr(&f, RTC_REG_B, 0x42);
	rtc_fake_run_until(&f, S(60));
	struct rtc_snapshot snap;
	rtc_snapshot(f.rtc, &snap);
	CU_ASSERT_EQUAL(snap.lost_ticks, RTC_MAX_LOST_TICKS);
	rtc_set_lost_tick_policy(f.rtc, RTC_LOST_TICKS_DISCARD);
	rtc_snapshot(f.rtc, &snap);
	CU_ASSERT_EQUAL(snap.lost_ticks, 0);
	rtc_fake_fini(&f);
}

void suite_rtc_irq(void)
{
	CU_pSuite s = CU_add_suite("rtc_irq", NULL, NULL);
	CU_add_test(s, "no timer while nothing is enabled", test_no_timer_when_disabled);
	CU_add_test(s, "update-ended interrupt", test_update_interrupt);
	CU_add_test(s, "enabling a pending flag raises at once", test_enable_pending);
	CU_add_test(s, "8192 Hz: 81 920 ticks in 10 s", test_periodic_8192);
	CU_add_test(s, "rate codes and aliases", test_rates);
	CU_add_test(s, "periodic phase and no drift", test_periodic_phase);
	CU_add_test(s, "alarm with don't-cares every second", test_alarm_every_second);
	CU_add_test(s, "alarm once per day", test_alarm_daily);
	CU_add_test(s, "12 h alarm AM/PM", test_alarm_12h);
	CU_add_test(s, "SET stops UF/AF, not PF", test_set_stops_updates);
	CU_add_test(s, "lost ticks: slew vs discard", test_lost_ticks);
	CU_add_test(s, "lost ticks are capped", test_lost_ticks_cap);
}
