/* Calendar helpers: days <-> civil dates (UTC, proleptic Gregorian). */
#include <CUnit/CUnit.h>

#include "rtc/rtc.h"

void suite_rtc_calendar(void);

static void test_known_days(void)
{
	CU_ASSERT_EQUAL(rtc_days_from_civil(1970, 1, 1), 0);
	CU_ASSERT_EQUAL(rtc_days_from_civil(1969, 12, 31), -1);
	CU_ASSERT_EQUAL(rtc_days_from_civil(2000, 1, 1), 10957);
	CU_ASSERT_EQUAL(rtc_days_from_civil(2000, 3, 1), 11017);
	CU_ASSERT_EQUAL(rtc_days_from_civil(2024, 2, 29), 19782);
	CU_ASSERT_EQUAL(rtc_days_from_civil(1900, 1, 1), -25567);
	CU_ASSERT_EQUAL(rtc_days_from_civil(1924, 1, 1), -16802);
	CU_ASSERT_EQUAL(rtc_days_from_civil(2100, 1, 1), 47482);
	CU_ASSERT_EQUAL(rtc_days_from_civil(9999, 12, 31), 2932896);
	CU_ASSERT_EQUAL(rtc_days_from_civil(1, 1, 1), -719162);
	/* 2024-01-01 00:00:00 UTC = 1704067200 s. */
	CU_ASSERT_EQUAL(rtc_days_from_civil(2024, 1, 1) * 86400, 1704067200);
}

static void test_leap_years(void)
{
	/* Days in February: 2000 leap (div 400), 1900/2100 not (div 100), 2024 leap. */
	CU_ASSERT_EQUAL(rtc_days_from_civil(2000, 3, 1) - rtc_days_from_civil(2000, 2, 1), 29);
	CU_ASSERT_EQUAL(rtc_days_from_civil(1900, 3, 1) - rtc_days_from_civil(1900, 2, 1), 28);
	CU_ASSERT_EQUAL(rtc_days_from_civil(2100, 3, 1) - rtc_days_from_civil(2100, 2, 1), 28);
	CU_ASSERT_EQUAL(rtc_days_from_civil(2024, 3, 1) - rtc_days_from_civil(2024, 2, 1), 29);
	CU_ASSERT_EQUAL(rtc_days_from_civil(2023, 3, 1) - rtc_days_from_civil(2023, 2, 1), 28);
	/* 400 years hold exactly 146097 days. */
	CU_ASSERT_EQUAL(rtc_days_from_civil(2400, 1, 1) - rtc_days_from_civil(2000, 1, 1), 146097);
	CU_ASSERT_EQUAL(rtc_days_from_civil(-400, 1, 1) - rtc_days_from_civil(-800, 1, 1), 146097);
}

static void test_civil_from_days(void)
{
	int64_t y;
	unsigned m, d;
	rtc_civil_from_days(0, &y, &m, &d);
	CU_ASSERT(y == 1970 && m == 1 && d == 1);
	rtc_civil_from_days(-1, &y, &m, &d);
	CU_ASSERT(y == 1969 && m == 12 && d == 31);
	rtc_civil_from_days(19782, &y, &m, &d);
	CU_ASSERT(y == 2024 && m == 2 && d == 29);
	rtc_civil_from_days(47481, &y, &m, &d);
	CU_ASSERT(y == 2099 && m == 12 && d == 31);
	rtc_civil_from_days(2932896, &y, &m, &d);
	CU_ASSERT(y == 9999 && m == 12 && d == 31);
	rtc_civil_from_days(-719162, &y, &m, &d);
	CU_ASSERT(y == 1 && m == 1 && d == 1);
}

/* Consecutive days walk the calendar one day at a time, both ways round trip. */
static void test_round_trip(void)
{
	int64_t py;
	unsigned pm, pd;
	int bad = 0;
	rtc_civil_from_days(-800001, &py, &pm, &pd);
	for (int64_t day = -800000; day <= 3000000; day++) {
		int64_t y;
		unsigned m, d;
		rtc_civil_from_days(day, &y, &m, &d);
		if (rtc_days_from_civil(y, m, d) != day)
			bad++;
		/* Successor: next day of the month, or the 1st of the next month. */
		bool next_day = y == py && m == pm && d == pd + 1;
		bool next_month = d == 1 && ((y == py && m == pm + 1) || (y == py + 1 && m == 1 && pm == 12));
		if (!next_day && !next_month)
			bad++;
		if (m < 1 || m > 12 || d < 1 || d > 31)
			bad++;
		py = y;
		pm = m;
		pd = d;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Out-of-range months fold into the year, days count from the 1st. */
static void test_normalisation(void)
{
	CU_ASSERT_EQUAL(rtc_days_from_civil(2023, 13, 1), rtc_days_from_civil(2024, 1, 1));
	CU_ASSERT_EQUAL(rtc_days_from_civil(2024, 0, 1), rtc_days_from_civil(2023, 12, 1));
	CU_ASSERT_EQUAL(rtc_days_from_civil(2024, 3, 0), 19782);
	CU_ASSERT_EQUAL(rtc_days_from_civil(2024, 1, 45), rtc_days_from_civil(2024, 2, 14));
	CU_ASSERT_EQUAL(rtc_days_from_civil(2024, 25, 1), rtc_days_from_civil(2026, 1, 1));
}

void suite_rtc_calendar(void)
{
	CU_pSuite s = CU_add_suite("rtc_calendar", NULL, NULL);
	CU_add_test(s, "known day numbers", test_known_days);
	CU_add_test(s, "leap years", test_leap_years);
	CU_add_test(s, "civil from days", test_civil_from_days);
	CU_add_test(s, "round trip over 10 000 years", test_round_trip);
	CU_add_test(s, "month and day normalisation", test_normalisation);
}
