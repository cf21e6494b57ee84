/* 1 M random guest register accesses, clock steps and toolstack calls with
 * the model's invariants checked after every step (deterministic seed). */
#include <CUnit/CUnit.h>

#include "tests/support/rtc.h"

void suite_rtc_random(void);

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

struct counts {
	unsigned index, c_bits, irqf, d, a, deadline, idle_timer, raised_timer, line, calls, offset;
};

static void check(struct rtc_fake *f, uint8_t last_a, struct counts *bad)
{
	struct rtc_snapshot snap;
	rtc_snapshot(f->rtc, &snap);
	if (snap.index > 127)
		bad->index++;
	uint8_t b = snap.cmos[RTC_REG_B];
	uint8_t c = snap.cmos[RTC_REG_C];
	if (c & 0x0f)
		bad->c_bits++;
	if (((c & RTC_C_IRQF) != 0) != ((b & c & 0x70) != 0))
		bad->irqf++;
	if (snap.cmos[RTC_REG_D] != RTC_D_VRT)
		bad->d++;
	if ((snap.cmos[RTC_REG_A] & 0x7f) != (last_a & 0x7f) || (snap.cmos[RTC_REG_A] & 0x80))
		bad->a++;
	if (f->deadline != RTC_NO_DEADLINE && f->deadline <= f->now)
		bad->deadline++;
	if (f->deadline != rtc_next_deadline(f->rtc))
		bad->deadline++;
	/* No interrupt enabled: nothing can raise the line, so no timer. */
	if (!(b & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE)) && f->deadline != RTC_NO_DEADLINE)
		bad->idle_timer++;
	if (f->irq && f->deadline != RTC_NO_DEADLINE)
		bad->raised_timer++;
	if (snap.irq_level != (f->irq == 1) || snap.irq_level != ((c & RTC_C_IRQF) != 0))
		bad->line++;
	if (f->irq_same || f->arm_same || f->arm_past)
		bad->calls++;
	if (!rtc_offset_valid(snap.offset.seconds) || snap.offset.phase_ns >= 1000000000u ||
	    snap.lost_ticks > RTC_MAX_LOST_TICKS)
		bad->offset++;
}

static uint8_t pick_index(uint64_t r)
{
	static const uint8_t hot[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 12, 12, 13, 0x32};
	if (r & 0x100)
		return hot[(r >> 9) % sizeof(hot)];
	return (uint8_t)(r >> 16);
}

static void test_random(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_SLEW);
	uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
	uint8_t last_a = RTC_RESET_REG_A;
	struct counts bad = {0};
	unsigned reads_c = 0;
	for (unsigned i = 0; i < 1000000; i++) {
		uint64_t r = next_rand(&seed);
		unsigned op = r % 100;
		uint8_t v = (uint8_t)(r >> 40);
		if (op < 30) {
			rtc_ioport_write(f.rtc, 0x70, pick_index(r));
		} else if (op < 55) {
			uint8_t idx = pick_index(r);
			/* Keep the divider running most of the time. */
			if ((idx & 0x7f) == RTC_REG_A && (r & 0x3000))
				v = (uint8_t)(0x20 | (v & 0x0f));
			rtc_ioport_write(f.rtc, 0x70, idx);
			rtc_ioport_write(f.rtc, 0x71, v);
			if ((idx & 0x7f) == RTC_REG_A) /* the index port drops bit 7 */
				last_a = v;
		} else if (op < 80) {
			uint8_t got = rtc_ioport_read(f.rtc, 0x71);
			struct rtc_snapshot s;
			rtc_snapshot(f.rtc, &s);
			if (s.index == RTC_REG_C) {
				reads_c++;
				if (got & 0x0f)
					bad.c_bits++;
			}
			if (s.index == RTC_REG_D && got != RTC_D_VRT)
				bad.d++;
		} else if (op < 96) {
			rtc_fake_advance(&f, (r >> 20) & 0x3fffff);
		} else if (op < 99) {
			rtc_fake_advance(&f, (r >> 20) & 0xfffffffffULL);
		} else {
			switch ((r >> 8) % 5) {
			case 0:
				rtc_set_offset(f.rtc, (int64_t)(r >> 20) % (INT64_C(1) << 36));
				break;
			case 1:
				rtc_adjust_offset(f.rtc, (int64_t)v - 128);
				break;
			case 2:
				rtc_set_lost_tick_policy(f.rtc, (r >> 12) & 1 ? RTC_LOST_TICKS_SLEW
				                                               : RTC_LOST_TICKS_DISCARD);
				break;
			case 3: {
				struct rtc_snapshot s;
				rtc_snapshot(f.rtc, &s);
				rtc_restore(f.rtc, &s);
				break;
			}
			default:
				rtc_set_offset(f.rtc, INT64_MIN + (int64_t)v); /* refused */
				break;
			}
		}
		check(&f, last_a, &bad);
	}
	CU_ASSERT_EQUAL(bad.index, 0);
	CU_ASSERT_EQUAL(bad.c_bits, 0);
	CU_ASSERT_EQUAL(bad.irqf, 0);
	CU_ASSERT_EQUAL(bad.d, 0);
	CU_ASSERT_EQUAL(bad.a, 0);
	CU_ASSERT_EQUAL(bad.deadline, 0);
	CU_ASSERT_EQUAL(bad.idle_timer, 0);
	CU_ASSERT_EQUAL(bad.raised_timer, 0);
	CU_ASSERT_EQUAL(bad.line, 0);
	CU_ASSERT_EQUAL(bad.calls, 0);
	CU_ASSERT_EQUAL(bad.offset, 0);
	/* The run did exercise interrupts and C reads. */
	CU_ASSERT_TRUE(f.irq_raises > 1000);
	CU_ASSERT_TRUE(f.arm_calls > 1000);
	CU_ASSERT_TRUE(reads_c > 1000);
	CU_ASSERT_TRUE(f.offset_calls > 100);
	rtc_fake_fini(&f);
}

void suite_rtc_random(void)
{
	CU_pSuite s = CU_add_suite("rtc_random", NULL, NULL);
	CU_add_test(s, "1 M random accesses keep the invariants", test_random);
}
