/*
 * The RTC core's short paths: NVRAM accesses that evaluate nothing, reads
 * served while no flag can change, the encoded time registers kept for the
 * current guest second.  Each is checked against what the datasheet and the
 * documented model say (flags from the divider phase, registers from the
 * calendar), computed here independently; no timing is measured.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "rtc/rtc.h"

void suite_rtc_perf_paths(void);

/* 2024-01-01 00:00:00 UTC, a Monday. */
#define WALL_NS (INT64_C(1704067200) * RTC_NS_PER_SEC)
#define MS INT64_C(1000000)

/* A fake platform that also counts clock reads. */
struct pf {
	uint64_t now, deadline;
	unsigned clock_calls, arm_calls, irq_calls;
	int irq;
	struct rtc *rtc;
};

static uint64_t pf_clock(void *o)
{
	struct pf *f = o;
	f->clock_calls++;
	return f->now;
}

static void pf_arm(void *o, uint64_t d)
{
	struct pf *f = o;
	f->arm_calls++;
	f->deadline = d;
}

static void pf_irq(void *o, int level)
{
	struct pf *f = o;
	f->irq_calls++;
	f->irq = level;
}

static const struct rtc_platform_ops pf_ops = {pf_clock, pf_arm, pf_irq, NULL};

static void pf_init(struct pf *f, enum rtc_lost_tick_policy p)
{
	*f = (struct pf){.deadline = RTC_NO_DEADLINE};
	struct rtc_config cfg = {&pf_ops, f, WALL_NS, p};
	f->rtc = rtc_new(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->rtc);
}

static uint8_t rd(struct pf *f, uint8_t idx)
{
	rtc_ioport_write(f->rtc, 0x70, idx);
	return rtc_ioport_read(f->rtc, 0x71);
}

static void wr(struct pf *f, uint8_t idx, uint8_t v)
{
	rtc_ioport_write(f->rtc, 0x70, idx);
	rtc_ioport_write(f->rtc, 0x71, v);
}

/* Move the clock to t, firing the timer at each deadline on the way. */
static void run_until(struct pf *f, uint64_t t)
{
	while (f->deadline != RTC_NO_DEADLINE && f->deadline <= t) {
		f->now = f->deadline;
		rtc_timer_expired(f->rtc);
	}
	f->now = t;
}

/* ---- NVRAM accesses ------------------------------------------------------------------ */

static void test_nvram_touches_nothing(void)
{
	struct pf f;
	pf_init(&f, RTC_LOST_TICKS_DISCARD);
	wr(&f, RTC_REG_A, 0x26);                  /* 1024 Hz */
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_PIE); /* timer armed for the first tick */
	uint64_t first_tick = f.deadline;
	CU_ASSERT_EQUAL(first_tick, 976563); /* ceil(32 cycles * 1e9 / 32768) */

	unsigned clock0 = f.clock_calls, arm0 = f.arm_calls, irq0 = f.irq_calls;
	for (unsigned i = RTC_NVRAM_FIRST; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			wr(&f, (uint8_t)i, (uint8_t)(i * 7 + 1));
	for (unsigned i = RTC_NVRAM_FIRST; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			CU_ASSERT_EQUAL(rd(&f, (uint8_t)i), (uint8_t)(i * 7 + 1));
	/* The alarm bytes and REG_D are plain storage too. */
	wr(&f, RTC_SECONDS_ALARM, 0x45);
	unsigned clock1 = f.clock_calls, arm1 = f.arm_calls;
	CU_ASSERT_EQUAL(rd(&f, RTC_SECONDS_ALARM), 0x45);
	CU_ASSERT_EQUAL(rd(&f, RTC_MINUTES_ALARM), 0x00);
	CU_ASSERT_EQUAL(rd(&f, RTC_REG_D), RTC_D_VRT);
	CU_ASSERT_EQUAL(f.clock_calls, clock1);
	CU_ASSERT_EQUAL(f.arm_calls, arm1);
	/* NVRAM writes and reads: no clock, no timer, no line. */
	CU_ASSERT_EQUAL(clock1 - clock0, 1u); /* the alarm-byte write only */
	CU_ASSERT_EQUAL(arm1, arm0);
	CU_ASSERT_EQUAL(f.irq_calls, irq0);

	/* The tick falls due but the platform has not delivered it yet: an
	 * NVRAM access does not evaluate it; the next clock-derived access does. */
	f.now = first_tick + 10;
	wr(&f, 0x40, 0x99);
	CU_ASSERT_EQUAL(rd(&f, 0x40), 0x99);
	CU_ASSERT_EQUAL(f.irq, 0);
	CU_ASSERT_EQUAL(f.irq_calls, irq0);
	CU_ASSERT_EQUAL(rd(&f, RTC_REG_A), 0x26);
	CU_ASSERT_EQUAL(f.irq, 1);
	CU_ASSERT_EQUAL(f.deadline, RTC_NO_DEADLINE); /* line raised: no timer */
	CU_ASSERT_EQUAL(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
	CU_ASSERT_EQUAL(f.irq, 0);
	CU_ASSERT_EQUAL(f.deadline, 1953125); /* the second tick: 64 cycles */
	rtc_free(f.rtc);
}

/* A restored line that disagrees with the flags is corrected at the next
 * access, an NVRAM access included. */
static void test_nvram_after_inconsistent_restore(void)
{
	struct pf f;
	pf_init(&f, RTC_LOST_TICKS_DISCARD);
	struct rtc_snapshot s;
	rtc_snapshot(f.rtc, &s);
	s.irq_level = true; /* no flag pending, no interrupt enabled */
	rtc_restore(f.rtc, &s);
	CU_ASSERT_EQUAL(f.irq, 1);
	CU_ASSERT_EQUAL(rd(&f, 0x20), 0x00);
	CU_ASSERT_EQUAL(f.irq, 0);
	/* From then on NVRAM accesses are plain again. */
	unsigned clock0 = f.clock_calls;
	CU_ASSERT_EQUAL(rd(&f, 0x21), 0x00);
	CU_ASSERT_EQUAL(f.clock_calls, clock0);
	rtc_free(f.rtc);
}

/*
 * Slew policy, 1024 Hz, the guest ignores IRQ 8 for 100 ms and then
 * acknowledges every raise until 300 ms.  Every tick of (0, 300 ms] reaches
 * it exactly once: floor(0.3 s * 32768 / 32) = 307 ticks.  NVRAM traffic
 * between the events changes nothing, to the nanosecond.
 */
struct delivery {
	uint64_t at;
	uint8_t c;
};

static unsigned slew_run(bool nvram_traffic, struct delivery *log, unsigned max)
{
	struct pf f;
	unsigned n = 0;
	pf_init(&f, RTC_LOST_TICKS_SLEW);
	wr(&f, RTC_REG_A, 0x26);
	wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	uint64_t t = 0;
	while (t < 300 * MS) {
		t += 97 * 1000; /* a step that is no multiple of the period */
		if (t > 300 * MS)
			t = 300 * MS;
		while (f.deadline != RTC_NO_DEADLINE && f.deadline <= t) {
			f.now = f.deadline;
			rtc_timer_expired(f.rtc);
			if (nvram_traffic) {
				wr(&f, 0x30, (uint8_t)f.now);
				(void)rd(&f, 0x31);
			}
			if (f.now >= (uint64_t)(100 * MS) && f.irq) {
				uint8_t c = rd(&f, RTC_REG_C);
				if (n < max)
					log[n] = (struct delivery){f.now, c};
				n++;
			}
		}
		f.now = t;
		if (nvram_traffic)
			wr(&f, 0x30, (uint8_t)(t >> 10));
		if (t >= (uint64_t)(100 * MS) && f.irq) {
			uint8_t c = rd(&f, RTC_REG_C);
			if (n < max)
				log[n] = (struct delivery){f.now, c};
			n++;
		}
	}
	rtc_free(f.rtc);
	return n;
}

static void test_slew_with_nvram_traffic(void)
{
	struct delivery quiet[512], busy[512];
	unsigned nq = slew_run(false, quiet, 512);
	unsigned nb = slew_run(true, busy, 512);
	CU_ASSERT_EQUAL(nq, 307u);
	CU_ASSERT_EQUAL(nb, 307u);
	for (unsigned i = 0; i < nq && i < 512; i++) {
		CU_ASSERT_EQUAL(quiet[i].c, RTC_C_IRQF | RTC_C_PF);
		CU_ASSERT_EQUAL(busy[i].at, quiet[i].at);
		CU_ASSERT_EQUAL(busy[i].c, quiet[i].c);
	}
}

/* ---- random sequences against a reference -------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static int64_t floor_div(int64_t n, int64_t d)
{
	int64_t q = n / d;
	return (n % d != 0 && n < 0) ? q - 1 : q;
}

/* Guest instant -> absolute 32768 Hz cycle (the documented divider phase). */
static int64_t cycles(int64_t sec, uint32_t ns)
{
	return sec * 32768 + (int64_t)((uint64_t)ns * 32768u / 1000000000u);
}

static uint8_t enc(unsigned v, uint8_t regb)
{
	return (regb & RTC_B_DM_BINARY) ? (uint8_t)v : (uint8_t)(((v % 100) / 10) << 4 | (v % 10));
}

/* Expected register `idx` for guest second `s` in mode `regb` (datasheet). */
static uint8_t expected_time_reg(uint8_t idx, int64_t s, uint8_t regb)
{
	int64_t days = floor_div(s, 86400), sod = s - days * 86400;
	int64_t y;
	unsigned m, d;
	rtc_civil_from_days(days, &y, &m, &d);
	unsigned h = (unsigned)(sod / 3600);
	switch (idx) {
	case RTC_SECONDS:
		return enc((unsigned)(sod % 60), regb);
	case RTC_MINUTES:
		return enc((unsigned)(sod / 60 % 60), regb);
	case RTC_HOURS:
		if (regb & RTC_B_24H)
			return enc(h, regb);
		return (uint8_t)(enc(h % 12 ? h % 12 : 12, regb) | (h >= 12 ? RTC_HOUR_PM : 0));
	case RTC_DAY_OF_WEEK:
		return enc((unsigned)((days % 7 + 7 + 4) % 7) + 1, regb); /* 1970-01-01: Thursday */
	case RTC_DAY_OF_MONTH:
		return enc(d, regb);
	case RTC_MONTH:
		return enc(m, regb);
	case RTC_YEAR:
		return enc((unsigned)(y % 100), regb);
	default: /* century */
		return enc((unsigned)(y / 100), regb);
	}
}

struct ref {
	uint8_t flags; /* PF/AF/UF accumulated since the last REG_C read */
	int alarm_sec; /* alarm: this second of every minute and hour */
	uint32_t period;
};

/* What the flags do while guest time goes from a to b (same offset). */
static void ref_advance(struct ref *r, int64_t as, uint32_t ans, int64_t bs, uint32_t bns)
{
	if (r->period && floor_div(cycles(bs, bns), r->period) > floor_div(cycles(as, ans), r->period))
		r->flags |= RTC_C_PF;
	if (bs > as) {
		r->flags |= RTC_C_UF;
		/* a second boundary s in (as, bs] with s % 60 == alarm_sec */
		int64_t first = as + 1 + ((r->alarm_sec - (as + 1)) % 60 + 60) % 60;
		if (first <= bs)
			r->flags |= RTC_C_AF;
	}
}

static const uint8_t rate_codes[] = {0, 1, 2, 3, 6, 9, 13, 15};

static void random_run(uint64_t seed, unsigned steps)
{
	struct pf f;
	struct ref r = {0, 0, 0};
	unsigned bad_time = 0, bad_a = 0, bad_c = 0, bad_line = 0, bad_nv = 0;
	uint8_t nv[RTC_CMOS_SIZE] = {0};
	uint8_t regb = RTC_B_24H, rega = RTC_RESET_REG_A;
	pf_init(&f, RTC_LOST_TICKS_DISCARD);
	r.alarm_sec = (int)(xorshift(&seed) % 60);
	wr(&f, RTC_SECONDS_ALARM, enc((unsigned)r.alarm_sec, regb));
	wr(&f, RTC_MINUTES_ALARM, RTC_ALARM_DONT_CARE);
	wr(&f, RTC_HOURS_ALARM, RTC_ALARM_DONT_CARE);
	wr(&f, RTC_REG_B, regb);
	r.period = 32; /* power-on A = 0x26 */
	(void)rd(&f, RTC_REG_C);
	r.flags = 0;

	for (unsigned i = 0; i < steps; i++) {
		uint64_t x = xorshift(&seed);
		switch (x % 8) {
		case 0:
		case 1: { /* clock step: mostly within a second, sometimes days */
			static const uint64_t span[] = {1000, 300000, 2000000, 400 * MS,
			                                3000 * MS, 200000 * MS};
			uint64_t step = (x >> 8) % span[(x >> 3) % 6] + 1;
			int64_t as, bs;
			uint32_t ans, bns;
			rtc_guest_time(f.rtc, &as, &ans);
			run_until(&f, f.now + step);
			rtc_guest_time(f.rtc, &bs, &bns);
			ref_advance(&r, as, ans, bs, bns);
			break;
		}
		case 2: { /* NVRAM */
			uint8_t idx = (uint8_t)(RTC_NVRAM_FIRST + (x >> 8) % (RTC_CMOS_SIZE - RTC_NVRAM_FIRST));
			if (idx == RTC_CENTURY)
				break;
			if (x & 0x80) {
				nv[idx] = (uint8_t)(x >> 20);
				wr(&f, idx, nv[idx]);
			} else if (rd(&f, idx) != nv[idx]) {
				bad_nv++;
			}
			break;
		}
		case 3:
		case 4: { /* a time register */
			static const uint8_t regs[] = {RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
			                               RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY};
			uint8_t idx = regs[(x >> 8) % 8];
			int64_t s1, s2;
			rtc_guest_time(f.rtc, &s1, NULL);
			uint8_t v = rd(&f, idx);
			rtc_guest_time(f.rtc, &s2, NULL);
			if (s1 != s2 || v != expected_time_reg(idx, s1, regb))
				bad_time++;
			break;
		}
		case 5: { /* REG_A: UIP in the last 8 cycles before each update */
			uint32_t ns;
			rtc_guest_time(f.rtc, NULL, &ns);
			uint8_t a = rd(&f, RTC_REG_A);
			bool uip = (uint64_t)ns * 32768u / 1000000000u >= 32760u;
			if (a != (uint8_t)(rega | (uip ? RTC_A_UIP : 0)))
				bad_a++;
			break;
		}
		case 6: { /* REG_C */
			uint8_t c = rd(&f, RTC_REG_C);
			uint8_t want = r.flags | ((r.flags & regb & 0x70) ? RTC_C_IRQF : 0);
			if (c != want)
				bad_c++;
			r.flags = 0;
			break;
		}
		default: /* mode, interrupt enables or rate */
			if (x & 0x100) {
				regb = (uint8_t)((x >> 12) & (RTC_B_DM_BINARY | RTC_B_24H | RTC_B_PIE |
				                               RTC_B_AIE | RTC_B_UIE));
				wr(&f, RTC_SECONDS_ALARM, enc((unsigned)r.alarm_sec, regb));
				wr(&f, RTC_REG_B, regb);
			} else {
				uint8_t code = rate_codes[(x >> 12) % sizeof(rate_codes)];
				rega = (uint8_t)(RTC_A_DV_32KHZ | code);
				wr(&f, RTC_REG_A, rega);
				r.period = code == 0 ? 0 : code <= 2 ? 1u << (code + 6) : 1u << (code - 1);
			}
			break;
		}
		/* The line follows IRQF = (flags & enables) at every instant. */
		if (f.irq != ((r.flags & regb & 0x70) != 0))
			bad_line++;
	}
	CU_ASSERT_EQUAL(bad_time, 0);
	CU_ASSERT_EQUAL(bad_a, 0);
	CU_ASSERT_EQUAL(bad_c, 0);
	CU_ASSERT_EQUAL(bad_line, 0);
	CU_ASSERT_EQUAL(bad_nv, 0);
	rtc_free(f.rtc);
}

static void test_random_against_reference(void)
{
	for (uint64_t seed = 1; seed <= 8; seed++)
		random_run(seed * UINT64_C(0x9e3779b97f4a7c15), 40000);
}

/* The kept encoding follows a mode change within the same second and the
 * change of day at midnight. */
static void test_time_registers_same_second(void)
{
	struct pf f;
	pf_init(&f, RTC_LOST_TICKS_DISCARD);
	/* 2024-01-01 00:00:00.000 + 23:59:59.5 */
	run_until(&f, (uint64_t)(86399 * 1000 + 500) * MS);
	CU_ASSERT_EQUAL(rd(&f, RTC_HOURS), 0x23);
	wr(&f, RTC_REG_B, 0); /* 12 h, BCD */
	CU_ASSERT_EQUAL(rd(&f, RTC_HOURS), 0x91); /* 11 PM */
	wr(&f, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H);
	CU_ASSERT_EQUAL(rd(&f, RTC_HOURS), 23);
	CU_ASSERT_EQUAL(rd(&f, RTC_SECONDS), 59);
	CU_ASSERT_EQUAL(rd(&f, RTC_DAY_OF_MONTH), 1);
	CU_ASSERT_EQUAL(rd(&f, RTC_DAY_OF_WEEK), 2); /* Monday */
	run_until(&f, (uint64_t)86400 * 1000 * MS);
	CU_ASSERT_EQUAL(rd(&f, RTC_SECONDS), 0);
	CU_ASSERT_EQUAL(rd(&f, RTC_HOURS), 0);
	CU_ASSERT_EQUAL(rd(&f, RTC_DAY_OF_MONTH), 2);
	CU_ASSERT_EQUAL(rd(&f, RTC_DAY_OF_WEEK), 3);
	/* The toolstack moves the offset back one year within the second. */
	rtc_set_offset(f.rtc, -365 * 86400);
	CU_ASSERT_EQUAL(rd(&f, RTC_YEAR), 23);
	CU_ASSERT_EQUAL(rd(&f, RTC_MONTH), 1);
	CU_ASSERT_EQUAL(rd(&f, RTC_DAY_OF_MONTH), 2);
	CU_ASSERT_EQUAL(rd(&f, RTC_CENTURY), 20);
	rtc_free(f.rtc);
}

void suite_rtc_perf_paths(void)
{
	CU_pSuite s = CU_add_suite("rtc_perf_paths", NULL, NULL);
	CU_add_test(s, "NVRAM accesses read no clock, arm no timer, move no line",
	            test_nvram_touches_nothing);
	CU_add_test(s, "a restored line is corrected at the next NVRAM access",
	            test_nvram_after_inconsistent_restore);
	CU_add_test(s, "slew: 307 ticks in 300 ms, with or without NVRAM traffic",
	            test_slew_with_nvram_traffic);
	CU_add_test(s, "random accesses against the datasheet reference",
	            test_random_against_reference);
	CU_add_test(s, "time registers within one second: mode, day and offset changes",
	            test_time_registers_same_second);
}
