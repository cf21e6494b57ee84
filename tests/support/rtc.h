/* support_rtc.h — a fake platform for the RTC model tests: a clock the test
 * moves by hand, a recorded timer deadline, IRQ line and offset callbacks. */
#ifndef RTCDM_TESTS_SUPPORT_RTC_H
#define RTCDM_TESTS_SUPPORT_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "rtc/rtc.h"

struct rtc_fake {
	uint64_t now;           /* clock_ns() */
	uint64_t deadline;      /* last arm_timer() value */
	unsigned arm_calls;
	unsigned arm_same;      /* arm_timer() calls that did not change the deadline */
	unsigned arm_past;      /* deadlines armed at or before the clock */
	int irq;                /* line level */
	unsigned irq_raises, irq_lowers, irq_same;
	unsigned offset_calls;
	int64_t last_delta, sum_delta;
	struct rtc_offset last_offset;
	struct rtc *rtc;
};

/* 2024-01-01 00:00:00 UTC in ns: the default host wallclock at clock 0. */
#define RTC_FAKE_WALLCLOCK_NS (INT64_C(1704067200) * RTC_NS_PER_SEC)
#define MS_NS INT64_C(1000000)

void rtc_fake_init(struct rtc_fake *f, int64_t wallclock_ns, enum rtc_lost_tick_policy p);
void rtc_fake_fini(struct rtc_fake *f);
/* Move the clock to t, firing the timer at every deadline passed on the way. */
void rtc_fake_run_until(struct rtc_fake *f, uint64_t t);
void rtc_fake_advance(struct rtc_fake *f, uint64_t ns);
/* Register access through the ports 0x70/0x71. */
uint8_t rtc_fake_rd(struct rtc_fake *f, uint8_t idx);
void rtc_fake_wr(struct rtc_fake *f, uint8_t idx, uint8_t v);
/* Enter a time through SET in mode `regb` (bits DM/24H; SET is added);
 * bytes as the guest writes them. Leaves B = regb. */
void rtc_fake_set_fields(struct rtc_fake *f, uint8_t regb, uint8_t century, uint8_t year,
                         uint8_t mon, uint8_t mday, uint8_t hour, uint8_t min, uint8_t sec);
/* Seconds since the epoch of a UTC date/time. */
int64_t rtc_fake_epoch(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s);

#endif
