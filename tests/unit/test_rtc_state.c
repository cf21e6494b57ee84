/* RTC ports, NVRAM, offset API and snapshot/restore. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "tests/support/rtc.h"

void suite_rtc_state(void);

#define S(x) ((uint64_t)(x) * 1000000000u)

static void test_ports(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	/* Index with the NMI bit: index 0x0e, NMI masked. */
	rtc_ioport_write(f.rtc, 0x70, 0x8e);
	rtc_ioport_write(f.rtc, 0x71, 0x5a);
	CU_ASSERT_EQUAL(rtc_ioport_read(f.rtc, 0x70), 0xff);
	CU_ASSERT_EQUAL(rtc_ioport_read(f.rtc, 0x71), 0x5a);
	CU_ASSERT_EQUAL(rtc_cmos_read(f.rtc, 0x0e), 0x5a);
	struct rtc_snapshot snap;
	rtc_snapshot(f.rtc, &snap);
	CU_ASSERT_EQUAL(snap.index, 0x0e);
	CU_ASSERT_TRUE(snap.nmi_masked);
	rtc_ioport_write(f.rtc, 0x70, 0x7f);
	rtc_snapshot(f.rtc, &snap);
	CU_ASSERT_EQUAL(snap.index, 0x7f);
	CU_ASSERT_FALSE(snap.nmi_masked);
	/* Other ports: reads 0xff, writes ignored. */
	rtc_ioport_write(f.rtc, 0x72, 0x0e);
	rtc_ioport_write(f.rtc, 0x73, 0x11);
	CU_ASSERT_EQUAL(rtc_ioport_read(f.rtc, 0x72), 0xff);
	CU_ASSERT_EQUAL(rtc_ioport_read(f.rtc, 0x80), 0xff);
	CU_ASSERT_EQUAL(rtc_cmos_read(f.rtc, 0x0e), 0x5a);
	/* Every NVRAM byte but the century holds what is written. */
	int bad = 0;
	for (unsigned i = RTC_NVRAM_FIRST; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			rtc_cmos_write(f.rtc, (uint8_t)i, (uint8_t)(i * 7 + 3));
	for (unsigned i = RTC_NVRAM_FIRST; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY && rtc_cmos_read(f.rtc, (uint8_t)i) != (uint8_t)(i * 7 + 3))
			bad++;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(rtc_cmos_read(f.rtc, RTC_CENTURY), 0x20);
	/* rtc_cmos_* leave the index alone; alarm bytes are plain storage. */
	rtc_cmos_write(f.rtc, RTC_HOURS_ALARM, 0xc3);
	CU_ASSERT_EQUAL(rtc_cmos_read(f.rtc, RTC_HOURS_ALARM), 0xc3);
	rtc_snapshot(f.rtc, &snap);
	CU_ASSERT_EQUAL(snap.index, 0x7f);
	rtc_fake_fini(&f);
}

static void test_offset_api(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	struct rtc_offset off;
	rtc_get_offset(f.rtc, &off);
	CU_ASSERT(off.seconds == 0 && off.phase_ns == 0 && !off.set);
	rtc_set_offset(f.rtc, 3600 + 120);
	rtc_get_offset(f.rtc, &off);
	CU_ASSERT(off.seconds == 3720 && off.phase_ns == 0 && off.set);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_HOURS), 0x01);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_MINUTES), 0x02);
	CU_ASSERT_EQUAL(f.offset_calls, 0);
	rtc_adjust_offset(f.rtc, -60);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_MINUTES), 0x01);
	rtc_get_offset(f.rtc, &off);
	CU_ASSERT(off.seconds == 3660 && off.set);
	/* Whole offset with a phase. */
	struct rtc_offset in = {.seconds = -86400, .phase_ns = 750000000, .set = false};
	rtc_load_offset(f.rtc, &in);
	rtc_fake_advance(&f, 250 * MS_NS);
	int64_t sec;
	uint32_t ns;
	rtc_guest_time(f.rtc, &sec, &ns);
	CU_ASSERT_EQUAL(sec, 1704067200 - 86400 + 1);
	CU_ASSERT_EQUAL(ns, 0);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_DAY_OF_MONTH), 0x31);
	CU_ASSERT_EQUAL(rtc_fake_rd(&f, RTC_YEAR), 0x23);
	/* Out of range: ignored, nothing changes. */
	CU_ASSERT_FALSE(rtc_offset_valid(RTC_OFFSET_MAX_S + 1));
	CU_ASSERT_TRUE(rtc_offset_valid(-RTC_OFFSET_MAX_S));
	rtc_set_offset(f.rtc, INT64_MAX);
	rtc_adjust_offset(f.rtc, INT64_MIN);
	rtc_adjust_offset(f.rtc, -RTC_OFFSET_MAX_S); /* -86400 - 2^40: out of range */
	struct rtc_offset bad_phase = {.seconds = 0, .phase_ns = 1000000000u};
	rtc_load_offset(f.rtc, &bad_phase);
	rtc_get_offset(f.rtc, &off);
	CU_ASSERT(off.seconds == -86400 && off.phase_ns == 750000000 && !off.set);
	/* set_offset keeps the phase. */
	rtc_set_offset(f.rtc, 10);
	rtc_get_offset(f.rtc, &off);
	CU_ASSERT(off.seconds == 10 && off.phase_ns == 750000000 && off.set);
	CU_ASSERT_EQUAL(f.offset_calls, 0);
	rtc_fake_fini(&f);
}

/* Offset changes move pending timers: an alarm follows the new time. */
static void test_offset_moves_alarm(void)
{
	struct rtc_fake f;
	rtc_fake_init(&f, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_wr(&f, RTC_REG_A, 0x20);
	rtc_fake_wr(&f, RTC_SECONDS_ALARM, 0x00);
	rtc_fake_wr(&f, RTC_MINUTES_ALARM, 0x00);
	rtc_fake_wr(&f, RTC_HOURS_ALARM, 0x02);
	rtc_fake_wr(&f, RTC_REG_B, 0x22);
	CU_ASSERT_EQUAL(f.deadline, S(7200));
	rtc_set_offset(f.rtc, 3600);
	CU_ASSERT_EQUAL(f.deadline, S(3600));
	rtc_fake_fini(&f);
}

static void compare_all(struct rtc_fake *a, struct rtc_fake *b, int *bad)
{
	for (unsigned i = 0; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_REG_C && rtc_cmos_read(a->rtc, (uint8_t)i) != rtc_cmos_read(b->rtc, (uint8_t)i))
			(*bad)++;
	if (rtc_cmos_read(a->rtc, RTC_REG_C) != rtc_cmos_read(b->rtc, RTC_REG_C))
		(*bad)++;
	if (a->deadline != b->deadline || a->irq != b->irq)
		(*bad)++;
}

/* Snapshot mid-second and restore into a fresh model at the same clock:
 * identical registers, flags, deadlines and guest time afterwards. */
static void test_snapshot_round_trip(void)
{
	struct rtc_fake a, b;
	rtc_fake_init(&a, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_SLEW);
	rtc_fake_init(&b, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_SLEW);
	rtc_fake_set_fields(&a, 0x00, 0x20, 0x25, 0x06, 0x15, 0x91, 0x30, 0x00);
	rtc_fake_wr(&a, RTC_SECONDS_ALARM, 0x05);
	rtc_fake_wr(&a, RTC_MINUTES_ALARM, 0xc0);
	rtc_fake_wr(&a, RTC_HOURS_ALARM, 0xc0);
	rtc_fake_wr(&a, 0x40, 0x99);
	rtc_fake_wr(&a, RTC_REG_A, 0x2f);
	rtc_fake_wr(&a, RTC_REG_B, 0x60); /* PIE | AIE, 12 h BCD */
	rtc_fake_run_until(&a, S(12) + 345678901);
	(void)rtc_fake_rd(&a, RTC_REG_C);
	rtc_ioport_write(a.rtc, 0x70, 0x8d);
	struct rtc_snapshot snap;
	rtc_snapshot(a.rtc, &snap);
	CU_ASSERT_EQUAL(snap.cmos[RTC_SECONDS], 0x12);
	CU_ASSERT_EQUAL(snap.cmos[RTC_HOURS], 0x91);
	CU_ASSERT_EQUAL(snap.cmos[RTC_CENTURY], 0x20);
	CU_ASSERT_EQUAL(snap.cmos[0x40], 0x99);
	CU_ASSERT_EQUAL(snap.cmos[RTC_REG_D], 0x80);
	CU_ASSERT_EQUAL(snap.index, 0x0d);
	CU_ASSERT_TRUE(snap.nmi_masked);
	/* 2 Hz ticks: the last one was at guest 12.0 s, 345 678 901 ns ago. */
	CU_ASSERT_EQUAL(snap.period_elapsed_ns, 345678901);
	unsigned raises_at_snapshot = a.irq_raises;
	b.now = a.now;
	rtc_restore(b.rtc, &snap);
	int bad = 0;
	compare_all(&a, &b, &bad);
	CU_ASSERT_EQUAL(bad, 0);
	for (uint64_t t = a.now; t < S(60); t += 98765431) {
		rtc_fake_run_until(&a, t);
		rtc_fake_run_until(&b, t);
		compare_all(&a, &b, &bad);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_TRUE(a.irq_raises > 20);
	CU_ASSERT_EQUAL(a.irq_raises - raises_at_snapshot, b.irq_raises);
	int64_t sa, sb;
	uint32_t na, nb;
	rtc_guest_time(a.rtc, &sa, &na);
	rtc_guest_time(b.rtc, &sb, &nb);
	CU_ASSERT(sa == sb && na == nb);
	rtc_fake_fini(&a);
	rtc_fake_fini(&b);
}

/* A frozen snapshot keeps the entered fields; a raised line is restored. */
static void test_snapshot_frozen(void)
{
	struct rtc_fake a, b;
	rtc_fake_init(&a, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_init(&b, RTC_FAKE_WALLCLOCK_NS + S(999), RTC_LOST_TICKS_DISCARD);
	rtc_fake_wr(&a, RTC_REG_A, 0x20);
	rtc_fake_advance(&a, S(2));
	rtc_fake_wr(&a, RTC_REG_B, 0x12); /* UF pending: line raised */
	CU_ASSERT_EQUAL(a.irq, 1);
	rtc_fake_wr(&a, RTC_REG_A, 0x70);
	rtc_fake_wr(&a, RTC_MINUTES, 0x42);
	struct rtc_snapshot snap;
	rtc_snapshot(a.rtc, &snap);
	CU_ASSERT_EQUAL(snap.cmos[RTC_REG_C], 0x90);
	CU_ASSERT_TRUE(snap.irq_level);
	b.now = S(5);
	rtc_restore(b.rtc, &snap);
	CU_ASSERT_EQUAL(b.irq, 1);
	CU_ASSERT_EQUAL(rtc_fake_rd(&b, RTC_MINUTES), 0x42);
	CU_ASSERT_EQUAL(rtc_fake_rd(&b, RTC_SECONDS), 0x02);
	CU_ASSERT_EQUAL(rtc_fake_rd(&b, RTC_REG_C), 0x90);
	CU_ASSERT_EQUAL(b.irq, 0);
	/* Leaving divider reset: 00:42:02.5. */
	rtc_fake_wr(&b, RTC_REG_A, 0x26);
	rtc_fake_advance(&b, 500 * MS_NS);
	CU_ASSERT_EQUAL(rtc_fake_rd(&b, RTC_SECONDS), 0x03);
	CU_ASSERT_EQUAL(rtc_fake_rd(&b, RTC_MINUTES), 0x42);
	rtc_fake_fini(&a);
	rtc_fake_fini(&b);
}

void suite_rtc_state(void)
{
	CU_pSuite s = CU_add_suite("rtc_state", NULL, NULL);
	CU_add_test(s, "ports, index, NMI bit, NVRAM", test_ports);
	CU_add_test(s, "offset API", test_offset_api);
	CU_add_test(s, "offset change moves the alarm timer", test_offset_moves_alarm);
	CU_add_test(s, "snapshot/restore round trip mid-second", test_snapshot_round_trip);
	CU_add_test(s, "snapshot/restore while frozen", test_snapshot_frozen);
}
