/*
 * calendar.c — date arithmetic and the MC146818 byte encodings.
 *
 * Dates are UTC in the proleptic Gregorian calendar.  Days are counted from
 * 1970-01-01 with the era-based algorithm (eras of 400 years = 146 097 days
 * starting on March 1st, so the leap day is the last day of a year-of-era).
 *
 * Decoding rule for guest-written time registers (documented behaviour):
 *   - a byte decodes as binary (DM=1) or as two nibbles hi*10 + lo (DM=0);
 *     invalid BCD such as 0x9A therefore decodes as 9*10 + 10 = 100;
 *   - hours: 24 h mode uses the whole byte; 12 h mode uses
 *     (value of the low 7 bits) % 12, plus 12 when bit 7 (PM) is set;
 *   - the resulting fields are folded mktime-like: seconds, minutes and
 *     hours are added as durations, the month is folded into the year
 *     (month 0 = December of the year before, 13 = January of the next),
 *     and the day is added as (day - 1) days to the 1st of that month
 *     (day 0 = last day of the month before, day 45 = 14 days into the
 *     next month).
 *   - full year = century * 100 + year register.
 * Every field is at most 255 after decoding, so nothing can overflow.
 */
#include "rtc/rtc_internal.h"

/* Days since 1970-01-01 of y-m-d; m is first folded into the year (1..12),
 * d is added as (d - 1) days to the 1st of the month. */
static int64_t days_from_ymd(int64_t y, int64_t m, int64_t d)
{
	y += rtc_floor_div(m - 1, 12);
	m = rtc_floor_mod(m - 1, 12) + 1;
	/* Shift the year to start in March: Jan and Feb belong to the year before. */
	if (m <= 2)
		y--;
	int64_t era = rtc_floor_div(y, 400);
	int64_t yoe = y - era * 400;                           /* 0..399 */
	int64_t mp = (m + 9) % 12;                             /* March = 0 */
	int64_t doy = (153 * mp + 2) / 5;                      /* 0..365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;   /* 0..146096 */
	return era * 146097 + doe - 719468 + (d - 1);
}

int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	return days_from_ymd(y, (int64_t)m, (int64_t)d);
}

void rtc_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468; /* days since 0000-03-01 */
	int64_t era = rtc_floor_div(z, 146097);
	int64_t doe = z - era * 146097;                                     /* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* 0..365 */
	int64_t mp = (5 * doy + 2) / 153;                                   /* 0..11 */
	unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	unsigned mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	int64_t year = yoe + era * 400 + (mon <= 2 ? 1 : 0);
	if (y)
		*y = year;
	if (m)
		*m = mon;
	if (d)
		*d = day;
}

void rtc_tm_from_seconds(int64_t secs, struct rtc_tm *tm)
{
	int64_t days = rtc_floor_div(secs, RTC_SECS_PER_DAY);
	int64_t sod = secs - days * RTC_SECS_PER_DAY;
	unsigned m, d;
	rtc_civil_from_days(days, &tm->year, &m, &d);
	tm->mon = m;
	tm->mday = d;
	tm->hour = sod / 3600;
	tm->min = sod / 60 % 60;
	tm->sec = sod % 60;
	/* 1970-01-01 was a Thursday (4). */
	tm->wday = (unsigned)rtc_floor_mod(days + 4, 7);
}

int64_t rtc_tm_to_seconds(const struct rtc_tm *tm)
{
	int64_t days = days_from_ymd(tm->year, tm->mon, tm->mday);
	return days * RTC_SECS_PER_DAY + tm->hour * 3600 + tm->min * 60 + tm->sec;
}

uint8_t rtc_encode_hour(unsigned h24, uint8_t regb)
{
	if (regb & RTC_B_24H)
		return rtc_encode(h24, regb);
	/* 12 h: 0 -> 12 AM, 12 -> 12 PM, 13 -> 1 PM. */
	unsigned h12 = h24 % 12 == 0 ? 12 : h24 % 12;
	return (uint8_t)(rtc_encode(h12, regb) | (h24 >= 12 ? RTC_HOUR_PM : 0));
}

unsigned rtc_decode_hour(uint8_t b, uint8_t regb)
{
	if (regb & RTC_B_24H)
		return rtc_decode(b, regb);
	return rtc_decode(b & 0x7f, regb) % 12 + ((b & RTC_HOUR_PM) ? 12 : 0);
}

/*
 * Century byte: year / 100 (floored), encoded per DM.  BCD can only hold
 * 0..99 and binary 0..255, so the century is taken modulo that range.
 */
uint8_t rtc_encode_century(int64_t year, uint8_t regb)
{
	int64_t c = rtc_floor_div(year, 100);
	if (regb & RTC_B_DM_BINARY)
		return (uint8_t)rtc_floor_mod(c, 256);
	return rtc_encode((unsigned)rtc_floor_mod(c, 100), regb);
}

void rtc_encode_time(int64_t secs, uint8_t regb, uint8_t *cmos)
{
	struct rtc_tm tm;
	rtc_tm_from_seconds(secs, &tm);
	cmos[RTC_SECONDS] = rtc_encode((unsigned)tm.sec, regb);
	cmos[RTC_MINUTES] = rtc_encode((unsigned)tm.min, regb);
	cmos[RTC_HOURS] = rtc_encode_hour((unsigned)tm.hour, regb);
	cmos[RTC_DAY_OF_WEEK] = rtc_encode(tm.wday + 1, regb);
	cmos[RTC_DAY_OF_MONTH] = rtc_encode((unsigned)tm.mday, regb);
	cmos[RTC_MONTH] = rtc_encode((unsigned)tm.mon, regb);
	cmos[RTC_YEAR] = rtc_encode((unsigned)rtc_floor_mod(tm.year, 100), regb);
	cmos[RTC_CENTURY] = rtc_encode_century(tm.year, regb);
}

int64_t rtc_decode_time(const uint8_t *cmos, uint8_t regb)
{
	struct rtc_tm tm = {
		.year = (int64_t)rtc_decode(cmos[RTC_CENTURY], regb) * 100 +
		        rtc_decode(cmos[RTC_YEAR], regb),
		.mon = rtc_decode(cmos[RTC_MONTH], regb),
		.mday = rtc_decode(cmos[RTC_DAY_OF_MONTH], regb),
		.hour = rtc_decode_hour(cmos[RTC_HOURS], regb),
		.min = rtc_decode(cmos[RTC_MINUTES], regb),
		.sec = rtc_decode(cmos[RTC_SECONDS], regb),
	};
	return rtc_tm_to_seconds(&tm);
}
