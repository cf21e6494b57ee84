/*
 * periodic.c — the divider chain: 32768 Hz cycles, periodic rates, ticks.
 *
 * The divider is in phase with guest time: cycle k of a guest second starts
 * at ns ceil(k * 1e9 / 32768) within that second, i.e. the cycle count of an
 * instant (s, ns) is s * 32768 + floor(ns * 32768 / 1e9).  A periodic tick
 * falls where that absolute cycle count is a multiple of the period P, so a
 * second holds exactly 32768 / P ticks and counting ticks over an interval
 * is a difference of two floor divisions — exact, no drift, no float.
 *
 * Rates (REG_A bits 0-3, RS): 0 = off, else P = 2^(RS-1) cycles.  With the
 * 32 kHz time base (DV = 010) the chip cannot produce the two fastest rates,
 * so codes 1 and 2 act as 8 and 9 (256 Hz and 128 Hz).  The other running
 * DV values (000, 001) keep codes 1 and 2 as 1 and 2 cycles.
 *
 * Time runs iff (REG_A & 0x70) <= 0x20 (QEMU's rule); other DV values,
 * including the divider reset 110/111, stop the chain, so no periodic ticks.
 */
#include "rtc/rtc_internal.h"

uint64_t rtc_period_ns(uint32_t cycles)
{
	uint64_t ns = (uint64_t)cycles * (uint64_t)RTC_NS_PER_SEC / RTC_CYCLES_PER_SEC;
	return ns ? ns : 1;
}

struct rtc_time rtc_cycle_start(int64_t c)
{
	struct rtc_time t;
	t.sec = rtc_floor_div(c, RTC_CYCLES_PER_SEC);
	uint64_t k = (uint64_t)(c - t.sec * (int64_t)RTC_CYCLES_PER_SEC);
	/* ceil(k * 1e9 / 32768): the first ns whose cycle count reaches k. */
	t.ns = (uint32_t)((k * (uint64_t)RTC_NS_PER_SEC + RTC_CYCLES_PER_SEC - 1) / RTC_CYCLES_PER_SEC);
	return t;
}

int64_t rtc_ticks_between(struct rtc_time a, struct rtc_time b, uint32_t period)
{
	return rtc_floor_div(rtc_cycles_at(b), period) - rtc_floor_div(rtc_cycles_at(a), period);
}

struct rtc_time rtc_next_tick(struct rtc_time t, uint32_t period)
{
	int64_t k = (rtc_floor_div(rtc_cycles_at(t), period) + 1) * (int64_t)period;
	return rtc_cycle_start(k);
}
