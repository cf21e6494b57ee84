/*
 * rtc_internal.h — helpers shared by the files of the MC146818 model.
 * Not part of the public API (see rtc.h).
 */
#ifndef RTCDM_RTC_INTERNAL_H
#define RTCDM_RTC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "rtc/rtc.h"

#define RTC_SECS_PER_DAY 86400

/*
 * The smallest helpers are defined here, static inline, so that the port
 * access paths in rtc.c compile without calls into the other files.
 */

/* Floor division and the matching non-negative remainder (d > 0). */
static inline int64_t rtc_floor_div(int64_t n, int64_t d)
{
	int64_t q = n / d;
	if ((n % d != 0) && ((n < 0) != (d < 0)))
		q--;
	return q;
}

static inline int64_t rtc_floor_mod(int64_t n, int64_t d)
{
	int64_t r = n % d; /* no multiplication: safe for n near INT64_MIN */
	return r < 0 ? r + d : r;
}

/* A point in guest time: whole seconds since the epoch and ns within the second. */
struct rtc_time {
	int64_t sec;
	uint32_t ns; /* 0 .. 999 999 999 */
};

/*
 * Broken-down guest time.  All fields are wide signed integers so that a
 * guest-written value of any size can be held before normalisation.
 */
struct rtc_tm {
	int64_t year; /* full year, e.g. 2024 */
	int64_t mon;  /* 1..12 once normalised */
	int64_t mday; /* 1..31 once normalised */
	int64_t hour; /* 0..23 */
	int64_t min;
	int64_t sec;
	unsigned wday; /* 0 = Sunday .. 6 = Saturday (output only) */
};

/* ---- calendar.c ---------------------------------------------------------- */
void rtc_tm_from_seconds(int64_t secs, struct rtc_tm *tm);
/* mktime-like: any field value is accepted and folded into the larger units. */
int64_t rtc_tm_to_seconds(const struct rtc_tm *tm);

/* Byte encoding of a value per REG_B (DM bit); decoding never overflows. */
static inline uint8_t rtc_encode(unsigned v, uint8_t regb)
{
	if (regb & RTC_B_DM_BINARY)
		return (uint8_t)v;
	v %= 100;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static inline unsigned rtc_decode(uint8_t b, uint8_t regb)
{
	if (regb & RTC_B_DM_BINARY)
		return b;
	return (unsigned)(b >> 4) * 10u + (b & 0x0fu);
}
uint8_t rtc_encode_hour(unsigned h24, uint8_t regb);
unsigned rtc_decode_hour(uint8_t b, uint8_t regb);
uint8_t rtc_encode_century(int64_t year, uint8_t regb);

/* Encode `secs` into the time registers 0x00,0x02,0x04,0x06..0x09 and the
 * century byte 0x32 of `cmos` (alarm and other bytes untouched). */
void rtc_encode_time(int64_t secs, uint8_t regb, uint8_t *cmos);
/* Decode the stored time registers and century of `cmos` into seconds. */
int64_t rtc_decode_time(const uint8_t *cmos, uint8_t regb);

/* ---- alarm.c ------------------------------------------------------------ */
#define RTC_ALARM_ANY (-1)
#define RTC_ALARM_NEVER (-2)

struct rtc_alarm {
	int sec, min, hour; /* value, RTC_ALARM_ANY or RTC_ALARM_NEVER */
};

void rtc_alarm_parse(const uint8_t *cmos, struct rtc_alarm *out);
/* Smallest second > after whose time of day matches; false if none ever does. */
bool rtc_alarm_next(const struct rtc_alarm *a, int64_t after, int64_t *next);

/* ---- periodic.c ---------------------------------------------------------- */
/* The divider chain runs (time advances) for this REG_A value. */
static inline bool rtc_divider_running(uint8_t rega)
{
	return (rega & RTC_A_DV_MASK) <= RTC_A_DV_32KHZ;
}

/* Periodic period in 32768 Hz cycles, 0 when no periodic ticks happen. */
static inline uint32_t rtc_period_cycles(uint8_t rega)
{
	unsigned code = rega & RTC_A_RS_MASK;
	if (code == 0 || !rtc_divider_running(rega))
		return 0;
	if ((rega & RTC_A_DV_MASK) == RTC_A_DV_32KHZ && code <= 2)
		code += 7;
	return 1u << (code - 1);
}
/* Period in ns, rounded down (at least 1) — used for the slew timer. */
uint64_t rtc_period_ns(uint32_t cycles);
/* 32768 Hz cycles elapsed within its second at `ns` ns into it (0..32767). */
static inline uint32_t rtc_cycles_in_second(uint32_t ns)
{
	return (uint32_t)((uint64_t)ns * RTC_CYCLES_PER_SEC / (uint64_t)RTC_NS_PER_SEC);
}

/* Absolute 32768 Hz cycle count of a guest instant. */
static inline int64_t rtc_cycles_at(struct rtc_time t)
{
	return t.sec * (int64_t)RTC_CYCLES_PER_SEC + (int64_t)rtc_cycles_in_second(t.ns);
}
/* The guest instant at which absolute cycle `c` starts. */
struct rtc_time rtc_cycle_start(int64_t c);
/* Number of period boundaries in (a, b] for a <= b. */
int64_t rtc_ticks_between(struct rtc_time a, struct rtc_time b, uint32_t period);
/* The instant of the first period boundary strictly after `t`. */
struct rtc_time rtc_next_tick(struct rtc_time t, uint32_t period);
/* Signed ns from a to b; callers keep |b - a| below ~292 years. */
static inline int64_t rtc_time_diff_ns(struct rtc_time a, struct rtc_time b)
{
	return (b.sec - a.sec) * RTC_NS_PER_SEC + ((int64_t)b.ns - (int64_t)a.ns);
}

#endif
