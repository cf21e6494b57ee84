/* RTC time registers: encodings, rollovers, SET, divider reset, UIP, guest writes. */
#include <CUnit/CUnit.h>

#include "tests/support/rtc.h"

void suite_rtc_time(void);

#define S(x) ((uint64_t)(x) * 1000000000u)

struct want {
	uint8_t sec, min, hour, dow, mday, mon, year, century;
};

static int time_matches(struct rtc_fake *f, struct want w)
{
	uint8_t got[8] = {rtc_fake_rd(f, RTC_SECONDS), rtc_fake_rd(f, RTC_MINUTES),
	                  rtc_fake_rd(f, RTC_HOURS), rtc_fake_rd(f, RTC_DAY_OF_WEEK),
	                  rtc_fake_rd(f, RTC_DAY_OF_MONTH), rtc_fake_rd(f, RTC_MONTH),
	                  rtc_fake_rd(f, RTC_YEAR), rtc_fake_rd(f, RTC_CENTURY)};
	uint8_t exp[8] = {w.sec, w.min, w.hour, w.dow, w.mday, w.mon, w.year, w.century};
	for (int i = 0; i < 8; i++)
		if (got[i] != exp[i])
			return 0;
	return 1;
}

static void test_power_on(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0x26);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_B), 0x02);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_C), 0x00);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_D), 0x80);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, 0x0e), 0x00);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, 0x7f), 0x00);
	/* 2024-01-01 00:00:00, a Monday (2), BCD 24 h. */
	CU_ASSERT(time_matches(&f, (struct want){0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x24, 0x20}));
	/* 1 h 2 min 3.5 s later. */
	rtc_fake_advance(&f, S(3723) + 500 * MS_NS);
	CU_ASSERT(time_matches(&f, (struct want){0x03, 0x02, 0x01, 0x02, 0x01, 0x01, 0x24, 0x20}));
	/* Binary mode re-encodes the running time: 01:02:03 -> 1, 2, 3; year 24 = 0x18. */
	rtc_fake_wr(&f, RTC_REG_B, 0x06);
	CU_ASSERT(time_matches(&f, (struct want){3, 2, 1, 2, 1, 1, 24, 20}));
	CU_ASSERT_EQUAL(f.deadline, RTC_NO_DEADLINE);
	CU_ASSERT_EQUAL(f.offset_calls, 0);
	rtc_fake_fini(&f);
}

/* The time changes exactly at the guest second boundary, not a ns earlier. */
static void test_second_boundary(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS + 250 * MS_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_run_until(&f, 750 * MS_NS - 1);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x00);
	rtc_fake_run_until(&f, 750 * MS_NS);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x01);
	rtc_fake_fini(&f);
}

/* 12 h BCD: 11:59:59 PM -> 12:00:00 AM next day (hour byte 0x12). */
static void test_12h_midnight(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_set_fields(&f, 0x00, 0x20, 0x24, 0x01, 0x31, 0x91, 0x59, 0x59);
	CU_ASSERT(time_matches(&f, (struct want){0x59, 0x59, 0x91, 0x04, 0x31, 0x01, 0x24, 0x20}));
	rtc_fake_run_until(&f, S(1) - 1);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x59);
	rtc_fake_run_until(&f, S(1));
	/* 2024-02-01 is a Thursday (5). */
	CU_ASSERT(time_matches(&f, (struct want){0x00, 0x00, 0x12, 0x05, 0x01, 0x02, 0x24, 0x20}));
	rtc_fake_fini(&f);
}

/* 12 h edges: 11:59:59 AM -> 12 PM (0x92), 12:59:59 PM -> 1 PM (0x81),
 * 12:59:59 AM -> 1 AM (0x01); binary 12 h: 11 PM (0x8b) -> 12 AM (0x0c). */
static void test_12h_edges(void)
{
	static const struct {
		uint8_t regb, hour_in, hour_out;
	} cases[] = {
		{0x00, 0x11, 0x92}, {0x00, 0x92, 0x81}, {0x00, 0x12, 0x01}, {0x00, 0x91, 0x12},
		{0x04, 0x0b, 0x8c}, {0x04, 0x8b, 0x0c}, {0x04, 0x8c, 0x81}, {0x04, 0x0c, 0x01},
		{0x02, 0x23, 0x00}, {0x06, 23, 0},      {0x02, 0x11, 0x12}, {0x06, 12, 13},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rtc_fake f;
		rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
		uint8_t v59 = (cases[i].regb & RTC_B_DM_BINARY) ? 59 : 0x59;
		rtc_fake_set_fields(&f, cases[i].regb, 0x20, 0x24, 0x03, 0x10, cases[i].hour_in, v59, v59);
		CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_HOURS), cases[i].hour_in);
		rtc_fake_advance(&f, S(1));
		CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_HOURS), cases[i].hour_out);
		CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_MINUTES), 0);
		CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0);
		rtc_fake_fini(&f);
	}
}

/* Month, year, leap-day and century rollovers, BCD. */
static void test_date_rollovers(void)
{
	static const struct {
		uint8_t century, year, mon, mday;
		struct want after;
	} cases[] = {
		{0x20, 0x24, 0x02, 0x28, {0, 0, 0, 0x05, 0x29, 0x02, 0x24, 0x20}}, /* Thu Feb 29 2024 */
		{0x20, 0x24, 0x02, 0x29, {0, 0, 0, 0x06, 0x01, 0x03, 0x24, 0x20}}, /* Fri Mar 1 2024 */
		{0x20, 0x23, 0x02, 0x28, {0, 0, 0, 0x04, 0x01, 0x03, 0x23, 0x20}}, /* Wed Mar 1 2023 */
		{0x21, 0x00, 0x02, 0x28, {0, 0, 0, 0x02, 0x01, 0x03, 0x00, 0x21}}, /* Mon Mar 1 2100 */
		{0x20, 0x00, 0x02, 0x28, {0, 0, 0, 0x03, 0x29, 0x02, 0x00, 0x20}}, /* Tue Feb 29 2000 */
		{0x20, 0x24, 0x04, 0x30, {0, 0, 0, 0x04, 0x01, 0x05, 0x24, 0x20}}, /* Wed May 1 2024 */
		{0x20, 0x99, 0x12, 0x31, {0, 0, 0, 0x06, 0x01, 0x01, 0x00, 0x21}}, /* Fri Jan 1 2100 */
		{0x19, 0x99, 0x12, 0x31, {0, 0, 0, 0x07, 0x01, 0x01, 0x00, 0x20}}, /* Sat Jan 1 2000 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rtc_fake f;
		rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
		rtc_fake_set_fields(&f, 0x02, cases[i].century, cases[i].year, cases[i].mon,
		                    cases[i].mday, 0x23, 0x59, 0x59);
		rtc_fake_advance(&f, S(1));
		CU_ASSERT(time_matches(&f, cases[i].after));
		rtc_fake_fini(&f);
	}
}

/* Binary mode: Dec 31 2099 23:59:59 -> Jan 1 2100, century 21 (0x15). */
static void test_binary_century(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_set_fields(&f, 0x06, 20, 99, 12, 31, 23, 59, 59);
	CU_ASSERT(time_matches(&f, (struct want){59, 59, 23, 5, 31, 12, 99, 20}));
	rtc_fake_advance(&f, S(1));
	CU_ASSERT(time_matches(&f, (struct want){0, 0, 0, 6, 1, 1, 0, 21}));
	rtc_fake_fini(&f);
}

/* SET freezes the fields; clearing it commits them, keeping the phase. */
static void test_set_freeze_commit(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_advance(&f, S(10) + 250 * MS_NS);
	rtc_fake_wr(&f, RTC_REG_B, 0x82);
	rtc_fake_advance(&f, S(2));
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x10); /* frozen at 00:00:10 */
	rtc_fake_wr(&f, RTC_HOURS, 0x05);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_HOURS), 0x05);
	CU_ASSERT_EQUAL(f.offset_calls, 0);
	/* Guest time is 00:00:12.25 now; 05:00:10 is 17998 s later. */
	rtc_fake_wr(&f, RTC_REG_B, 0x02);
	CU_ASSERT_EQUAL(f.offset_calls, 1);
	CU_ASSERT_EQUAL(f.last_delta, 17998);
	CU_ASSERT_EQUAL(f.last_offset.seconds, 17998);
	CU_ASSERT_EQUAL(f.last_offset.phase_ns, 0);
	CU_ASSERT_FALSE(f.last_offset.set);
	CU_ASSERT(time_matches(&f, (struct want){0x10, 0x00, 0x05, 0x02, 0x01, 0x01, 0x24, 0x20}));
	rtc_fake_run_until(&f, S(13) - 1);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x10);
	rtc_fake_run_until(&f, S(13));
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x11);
	/* Entering SET clears UIE (datasheet); committing unchanged fields reports nothing. */
	rtc_fake_wr(&f, RTC_REG_B, 0x92);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_B), 0x82);
	rtc_fake_wr(&f, RTC_REG_B, 0x02);
	CU_ASSERT_EQUAL(f.offset_calls, 1);
	rtc_fake_fini(&f);
}

/* A single field written while running moves the offset by exactly the change. */
static void test_single_field_writes(void)
{
	static const struct {
		uint8_t idx, val;
		int64_t delta;
	} cases[] = {
		{RTC_MINUTES, 0x30, 1800},
		{RTC_HOURS, 0x23, 82800},
		{RTC_SECONDS, 0x59, 49},
		{RTC_DAY_OF_MONTH, 0x02, 86400},
		{RTC_MONTH, 0x02, 31 * 86400},
		{RTC_YEAR, 0x25, 31622400},
		{RTC_CENTURY, 0x19, -3155760000},
		{RTC_DAY_OF_WEEK, 0x05, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rtc_fake f;
		rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
		rtc_fake_advance(&f, S(10) + 250 * MS_NS);
		rtc_fake_wr(&f, cases[i].idx, cases[i].val);
		struct rtc_offset off;
		rtc_get_offset(f.rtc, &off);
		CU_ASSERT_EQUAL(off.seconds, cases[i].delta);
		CU_ASSERT_EQUAL(off.phase_ns, 0);
		CU_ASSERT_EQUAL(f.offset_calls, cases[i].delta ? 1u : 0u);
		CU_ASSERT_EQUAL(f.last_delta, cases[i].delta);
		/* Day of week is derived from the date: still Monday (2). */
		uint8_t want = cases[i].idx == RTC_DAY_OF_WEEK ? 0x02 : cases[i].val;
		CU_ASSERT_EQUAL(rtc_fake_rd(&f, cases[i].idx), want);
		rtc_fake_fini(&f);
	}
}

/* The century byte lets the guest set 19xx; reads follow it. */
static void test_century_19xx(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_set_fields(&f, 0x02, 0x19, 0x99, 0x12, 0x31, 0x23, 0x59, 0x58);
	int64_t sec;
	uint32_t ns;
	rtc_guest_time(f.rtc, &sec, &ns);
	CU_ASSERT_EQUAL(sec, 946684798); /* 1999-12-31 23:59:58 UTC */
	CU_ASSERT_EQUAL(ns, 0);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_DAY_OF_WEEK), 0x06); /* Friday */
	rtc_fake_advance(&f, S(2));
	CU_ASSERT(time_matches(&f, (struct want){0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20}));
	rtc_fake_fini(&f);
}

/* Bad bytes are normalised mktime-like (rule in rtc/calendar.c), never overflow. */
static void test_invalid_fields(void)
{
	static const struct {
		uint8_t regb, century, year, mon, mday, hour, min, sec;
		struct want w;
	} cases[] = {
		/* month 13 -> January of the next year */
		{0x02, 0x20, 0x24, 0x13, 0x01, 0x00, 0x00, 0x00, {0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x25, 0x20}},
		/* month 0 -> December of the year before */
		{0x02, 0x20, 0x24, 0x00, 0x01, 0x00, 0x00, 0x00, {0x00, 0x00, 0x00, 0x06, 0x01, 0x12, 0x23, 0x20}},
		/* day 45 of January -> Feb 14; day 0 of March -> Feb 29 */
		{0x02, 0x20, 0x24, 0x01, 0x45, 0x00, 0x00, 0x00, {0x00, 0x00, 0x00, 0x04, 0x14, 0x02, 0x24, 0x20}},
		{0x02, 0x20, 0x24, 0x03, 0x00, 0x00, 0x00, 0x00, {0x00, 0x00, 0x00, 0x05, 0x29, 0x02, 0x24, 0x20}},
		/* hour 25 -> 01:00 the next day */
		{0x02, 0x20, 0x24, 0x01, 0x01, 0x25, 0x00, 0x00, {0x00, 0x00, 0x01, 0x03, 0x02, 0x01, 0x24, 0x20}},
		/* invalid BCD seconds 0x9A = 100 s -> 00:01:40 */
		{0x02, 0x20, 0x24, 0x01, 0x01, 0x00, 0x00, 0x9a, {0x40, 0x01, 0x00, 0x02, 0x01, 0x01, 0x24, 0x20}},
		/* 12 h: hour 0 AM -> 12 AM; 13 PM -> 1 PM */
		{0x00, 0x20, 0x24, 0x01, 0x01, 0x00, 0x00, 0x00, {0x00, 0x00, 0x12, 0x02, 0x01, 0x01, 0x24, 0x20}},
		{0x00, 0x20, 0x24, 0x01, 0x01, 0x93, 0x00, 0x00, {0x00, 0x00, 0x81, 0x02, 0x01, 0x01, 0x24, 0x20}},
		/* all 0xff in BCD (165 each): year 16665 + month 165 -> Sep 16678, + 164 d 165 h 165 min 165 s
		 * = Tue 16679-02-18 23:47:45 (century shown modulo 100) */
		{0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, {0x45, 0x47, 0x23, 0x03, 0x18, 0x02, 0x79, 0x66}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rtc_fake f;
		rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
		rtc_fake_set_fields(&f, cases[i].regb, cases[i].century, cases[i].year, cases[i].mon,
		                    cases[i].mday, cases[i].hour, cases[i].min, cases[i].sec);
		CU_ASSERT(time_matches(&f, cases[i].w));
		rtc_fake_fini(&f);
	}
}

/* Divider reset freezes; leaving it gives the first update 500 ms later,
 * with UIP for the last 8 cycles (244 140.625 ns) before it. */
static void test_divider_reset_and_uip(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_advance(&f, S(10) + 250 * MS_NS);
	rtc_fake_wr(&f, RTC_REG_A, 0x70);
	rtc_fake_advance(&f, S(5));
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x10);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0x70);
	rtc_fake_wr(&f, RTC_SECONDS, 0x30);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x30);
	CU_ASSERT_EQUAL(f.offset_calls, 0);
	/* Release at T0 = 15.25 s: guest time := 00:00:30.5, offset 15.25 s. */
	uint64_t t0 = f.now;
	rtc_fake_wr(&f, RTC_REG_A, 0x26);
	CU_ASSERT_EQUAL(f.offset_calls, 1);
	CU_ASSERT_EQUAL(f.last_delta, 15);
	CU_ASSERT_EQUAL(f.last_offset.seconds, 15);
	CU_ASSERT_EQUAL(f.last_offset.phase_ns, 250000000);
	/* UIP: guest ns >= 32760e9/32768 = 999 755 859.375 -> first ns 999 755 860. */
	rtc_fake_run_until(&f, t0 + 499755859);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0x26);
	rtc_fake_run_until(&f, t0 + 499755860);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0xa6);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x30);
	rtc_fake_run_until(&f, t0 + 499999999);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0xa6);
	rtc_fake_run_until(&f, t0 + 500000000);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0x26);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x31);
	/* UIP is read-only: writing it changes nothing. */
	rtc_fake_wr(&f, RTC_REG_A, 0xa6);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0x26);
	/* Other stopped DV values freeze too; 4 MHz / 1 MHz time bases run. */
	rtc_fake_wr(&f, RTC_REG_A, 0x56);
	rtc_fake_advance(&f, S(3));
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x31);
	rtc_fake_wr(&f, RTC_REG_A, 0x06);
	rtc_fake_advance(&f, 500 * MS_NS);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_SECONDS), 0x32);
	rtc_fake_fini(&f);
}

/* UIP and SET: no UIP while SET; UIP window while running from power-on. */
static void test_uip_window(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_run_until(&f, 999755859);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0x26);
	rtc_fake_run_until(&f, 999755860);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0xa6);
	rtc_fake_wr(&f, RTC_REG_B, 0x82);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0x26);
	rtc_fake_wr(&f, RTC_REG_B, 0x02);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0xa6);
	rtc_fake_run_until(&f, S(1));
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_REG_A), 0x26);
	rtc_fake_fini(&f);
}

void suite_rtc_time(void)
{
	CU_pSuite s = CU_add_suite("rtc_time", NULL, NULL);
	CU_add_test(s, "power-on registers and running time", test_power_on);
	CU_add_test(s, "update exactly at the second boundary", test_second_boundary);
	CU_add_test(s, "12 h 11:59:59 PM -> 12 AM next day", test_12h_midnight);
	CU_add_test(s, "12 h AM/PM edges, BCD and binary", test_12h_edges);
	CU_add_test(s, "month, leap-day, year and century rollovers", test_date_rollovers);
	CU_add_test(s, "binary Dec 31 2099 -> 2100", test_binary_century);
	CU_add_test(s, "SET freeze and commit", test_set_freeze_commit);
	CU_add_test(s, "single field writes change the offset", test_single_field_writes);
	CU_add_test(s, "century byte sets 19xx", test_century_19xx);
	CU_add_test(s, "invalid fields are normalised", test_invalid_fields);
	CU_add_test(s, "divider reset, first update 500 ms later, UIP", test_divider_reset_and_uip);
	CU_add_test(s, "UIP window and SET", test_uip_window);
}
