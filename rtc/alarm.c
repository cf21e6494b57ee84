/*
 * alarm.c — the next second at which the alarm registers match.
 *
 * The chip compares each alarm byte with the corresponding time byte once per
 * update.  A byte with both top bits set (>= 0xC0) matches any value.  Since
 * the time bytes are always valid encodings, an alarm byte that is not a
 * valid encoding in the current mode (invalid BCD digit, seconds >= 60,
 * hour 0 or > 12 in 12 h mode, ...) can never match: the alarm never fires.
 * In 12 h mode the hour is compared with its PM bit, so 0x11 (11 AM) and
 * 0x91 (11 PM) are different hours.
 *
 * The search is arithmetic: it walks candidate hours and minutes of the day
 * (at most 24 x 60 O(1) steps, plus one step into the next day) and never
 * loops per second.
 */
#include "rtc/rtc_internal.h"

/* Value of a plain (non-hour) alarm byte, `max` exclusive. */
static int alarm_value(uint8_t b, uint8_t regb, unsigned max)
{
	if ((b & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE)
		return RTC_ALARM_ANY;
	if (!(regb & RTC_B_DM_BINARY) && ((b >> 4) > 9 || (b & 0x0f) > 9))
		return RTC_ALARM_NEVER;
	unsigned v = rtc_decode(b, regb);
	return v < max ? (int)v : RTC_ALARM_NEVER;
}

static int alarm_hour(uint8_t b, uint8_t regb)
{
	if ((b & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE)
		return RTC_ALARM_ANY;
	if (regb & RTC_B_24H)
		return alarm_value(b, regb, 24);
	int h12 = alarm_value(b & 0x7f, regb, 13);
	if (h12 == RTC_ALARM_NEVER || h12 == 0)
		return RTC_ALARM_NEVER;
	return h12 % 12 + ((b & RTC_HOUR_PM) ? 12 : 0);
}

void rtc_alarm_parse(const uint8_t *cmos, struct rtc_alarm *out)
{
	uint8_t regb = cmos[RTC_REG_B];
	out->sec = alarm_value(cmos[RTC_SECONDS_ALARM], regb, 60);
	out->min = alarm_value(cmos[RTC_MINUTES_ALARM], regb, 60);
	out->hour = alarm_hour(cmos[RTC_HOURS_ALARM], regb);
}

static bool field_matches(int want, int64_t v)
{
	return want == RTC_ALARM_ANY || want == v;
}

/* First value >= from that a field accepts, or -1 (limit exclusive). */
static int64_t field_first(int want, int64_t from, int64_t limit)
{
	if (want == RTC_ALARM_ANY)
		return from < limit ? from : -1;
	return want >= from ? want : -1;
}

/* Smallest matching second of the day >= tod, or -1. */
static int64_t next_in_day(const struct rtc_alarm *a, int64_t tod)
{
	int64_t h0 = tod / 3600, m0 = tod / 60 % 60, s0 = tod % 60;
	for (int64_t h = field_first(a->hour, h0, 24); h >= 0 && h < 24; h++) {
		if (!field_matches(a->hour, h))
			return -1; /* a fixed hour was tried and failed */
		int64_t mfrom = h == h0 ? m0 : 0;
		for (int64_t m = field_first(a->min, mfrom, 60); m >= 0 && m < 60; m++) {
			if (!field_matches(a->min, m))
				break;
			int64_t sfrom = (h == h0 && m == m0) ? s0 : 0;
			int64_t s = field_first(a->sec, sfrom, 60);
			if (s >= 0)
				return h * 3600 + m * 60 + s;
		}
	}
	return -1;
}

bool rtc_alarm_next(const struct rtc_alarm *a, int64_t after, int64_t *next)
{
	if (a->sec == RTC_ALARM_NEVER || a->min == RTC_ALARM_NEVER || a->hour == RTC_ALARM_NEVER)
		return false;
	int64_t from = after + 1;
	int64_t tod = rtc_floor_mod(from, RTC_SECS_PER_DAY);
	int64_t day = from - tod;
	int64_t t = next_in_day(a, tod);
	if (t < 0) {
		/* Every field is satisfiable, so the next day's first match exists. */
		day += RTC_SECS_PER_DAY;
		t = next_in_day(a, 0);
		if (t < 0)
			return false;
	}
	*next = day + t;
	return true;
}
