/*
 * fuzz_rtc_io — arbitrary guest port I/O, clock steps and toolstack calls
 * against the RTC model, with its invariants checked after every step:
 * index <= 127, registers in range, REG_C only valid bits with IRQF = B & C,
 * REG_D = VRT, no timer armed when nothing can fire or while the line is
 * raised, no deadline in the past, set_irq/arm_timer only on change, offset
 * within range (UBSan catches any arithmetic overflow).
 *
 * Input: a sequence of operations, one opcode byte followed by its operands.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/rtc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake {
	uint64_t now, deadline;
	int irq;
	unsigned bad_calls;
};

static uint64_t fk_clock(void *o)
{
	return ((struct fake *)o)->now;
}

static void fk_arm(void *o, uint64_t d)
{
	struct fake *f = o;
	if (d == f->deadline || (d != RTC_NO_DEADLINE && d <= f->now))
		f->bad_calls++;
	f->deadline = d;
}

static void fk_irq(void *o, int level)
{
	struct fake *f = o;
	if (level == f->irq || (level != 0 && level != 1))
		f->bad_calls++;
	f->irq = level;
}

static void fk_offset(void *o, int64_t delta, const struct rtc_offset *now)
{
	(void)o;
	if (!rtc_offset_valid(now->seconds) || !rtc_offset_valid(delta / 2) ||
	    now->phase_ns >= 1000000000u)
		abort();
}

static const struct rtc_platform_ops fk_ops = {fk_clock, fk_arm, fk_irq, fk_offset};

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static void advance(struct rtc *rtc, struct fake *f, uint64_t ns)
{
	uint64_t t = f->now + ns;
	unsigned guard = 0;
	while (f->deadline != RTC_NO_DEADLINE && f->deadline <= t) {
		f->now = f->deadline;
		rtc_timer_expired(rtc);
		/* Without a C read the line stays up after one firing (or a slew
		 * delivery), so only a handful of expiries can happen per step. */
		CHECK(++guard < 8);
	}
	f->now = t;
}

static unsigned dec(uint8_t b, uint8_t regb)
{
	return (regb & RTC_B_DM_BINARY) ? b : (unsigned)(b >> 4) * 10u + (b & 15u);
}

static bool valid_enc(uint8_t b, uint8_t regb)
{
	return (regb & RTC_B_DM_BINARY) || ((b >> 4) <= 9 && (b & 15) <= 9);
}

static void check(struct rtc *rtc, struct fake *f)
{
	struct rtc_snapshot s;
	rtc_snapshot(rtc, &s);
	uint8_t a = s.cmos[RTC_REG_A], b = s.cmos[RTC_REG_B], c = s.cmos[RTC_REG_C];
	CHECK(s.index <= 127);
	CHECK(!(a & RTC_A_UIP));
	CHECK(!(c & 0x0f));
	CHECK(((c & RTC_C_IRQF) != 0) == ((b & c & 0x70) != 0));
	CHECK(s.cmos[RTC_REG_D] == RTC_D_VRT);
	CHECK(s.irq_level == (f->irq == 1));
	CHECK(rtc_offset_valid(s.offset.seconds) && s.offset.phase_ns < 1000000000u);
	CHECK(s.lost_ticks <= RTC_MAX_LOST_TICKS);
	CHECK(f->bad_calls == 0);
	CHECK(f->deadline == rtc_next_deadline(rtc));
	CHECK(f->deadline == RTC_NO_DEADLINE || f->deadline > f->now);
	if (!(b & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE)) || f->irq)
		CHECK(f->deadline == RTC_NO_DEADLINE);
	/* Running time registers are always valid encodings in range. */
	bool running = (a & RTC_A_DV_MASK) <= RTC_A_DV_32KHZ && !(b & RTC_B_SET);
	if (running) {
		static const struct {
			uint8_t idx;
			unsigned lo, hi;
		} r[] = {{RTC_SECONDS, 0, 59}, {RTC_MINUTES, 0, 59}, {RTC_DAY_OF_WEEK, 1, 7},
		         {RTC_DAY_OF_MONTH, 1, 31}, {RTC_MONTH, 1, 12}, {RTC_YEAR, 0, 99}};
		for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
			uint8_t v = s.cmos[r[i].idx];
			CHECK(valid_enc(v, b) && dec(v, b) >= r[i].lo && dec(v, b) <= r[i].hi);
		}
		uint8_t h = s.cmos[RTC_HOURS];
		if (b & RTC_B_24H) {
			CHECK(valid_enc(h, b) && dec(h, b) <= 23);
		} else {
			CHECK(valid_enc(h & 0x7f, b) && dec(h & 0x7f, b) >= 1 && dec(h & 0x7f, b) <= 12);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake f = {.now = 0, .deadline = RTC_NO_DEADLINE};
	struct input in = {data, size};
	struct rtc_config cfg = {
		.ops = &fk_ops,
		.opaque = &f,
		.host_wallclock_ns = (int64_t)take(&in, 8),
		.lost_tick_policy = RTC_LOST_TICKS_SLEW,
	};
	struct rtc *rtc = rtc_new(&cfg);
	if (!rtc)
		return 0;
	unsigned steps = 0;
	while (in.n && steps++ < 4096) {
		uint8_t op = (uint8_t)take(&in, 1);
		switch (op % 14) {
		case 0:
			rtc_ioport_write(rtc, 0x70, (uint8_t)take(&in, 1));
			break;
		case 1:
			rtc_ioport_write(rtc, 0x71, (uint8_t)take(&in, 1));
			break;
		case 2: {
			uint8_t v = rtc_ioport_read(rtc, 0x71);
			struct rtc_snapshot s;
			rtc_snapshot(rtc, &s);
			if (s.index == RTC_REG_C)
				CHECK(!(v & 0x0f) && !f.irq);
			if (s.index == RTC_REG_D)
				CHECK(v == RTC_D_VRT);
			break;
		}
		case 3:
			advance(rtc, &f, take(&in, 4));
			break;
		case 4:
			advance(rtc, &f, take(&in, 4) << 12);
			break;
		case 5:
			rtc_timer_expired(rtc);
			break;
		case 6:
			rtc_set_offset(rtc, (int64_t)take(&in, 8));
			break;
		case 7:
			rtc_adjust_offset(rtc, (int64_t)take(&in, 8));
			break;
		case 8: {
			struct rtc_offset o = {(int64_t)take(&in, 8), (uint32_t)take(&in, 4), op & 0x80};
			rtc_load_offset(rtc, &o);
			break;
		}
		case 9: {
			struct rtc_snapshot s;
			rtc_snapshot(rtc, &s);
			rtc_restore(rtc, &s);
			break;
		}
		case 10:
			rtc_set_lost_tick_policy(rtc, (op & 0x80) ? RTC_LOST_TICKS_SLEW : RTC_LOST_TICKS_DISCARD);
			break;
		case 11: {
			uint16_t port = (uint16_t)take(&in, 2);
			if (op & 0x80)
				(void)rtc_ioport_read(rtc, port);
			else
				rtc_ioport_write(rtc, port, (uint8_t)take(&in, 1));
			break;
		}
		case 12: {
			uint8_t idx = (uint8_t)take(&in, 1);
			rtc_cmos_write(rtc, idx, (uint8_t)take(&in, 1));
			break;
		}
		default:
			(void)rtc_cmos_read(rtc, (uint8_t)take(&in, 1));
			break;
		}
		check(rtc, &f);
	}
	rtc_free(rtc);
	return 0;
}
