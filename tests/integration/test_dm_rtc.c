/*
 * rtcdm on the sim platform, driven over qtest as a guest would drive the
 * RTC: exact register values, interrupt timing to the nanosecond, IRQ lines
 * and the PV wallclock in the shared_info file.
 *
 * Host wallclock 1700000000 (2023-11-14 22:13:20 UTC, a Tuesday) at clock 0.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "tests/support/support.h"

void suite_dm_rtc(void);

#define W 1700000000ull
#define W_STR "1700000000"
#define T2030 1893456000ull /* 2030-01-01 00:00:00 UTC, a Tuesday */
#define S(x) ((uint64_t)(x) * 1000000000ull)

static bool start(struct qtest *q)
{
	if (qtest_start(q, W_STR, NULL) < 0) {
		CU_FAIL("cannot start rtcdm with qtest");
		return false;
	}
	return true;
}

static void finish(struct qtest *q)
{
	CU_ASSERT_FALSE(q->broken);
	CU_ASSERT_EQUAL(qtest_quit(q), 0);
}

static uint64_t wc_sec(struct qtest *q, uint32_t *version)
{
	struct dm_shinfo_wallclock wc;

	if (shinfo_read(q->shinfo_path, &wc) < 0) {
		CU_FAIL("cannot read shared_info");
		return 0;
	}
	if (version)
		*version = wc.version;
	CU_ASSERT_EQUAL(wc.nsec, 0);
	return (uint64_t)wc.sec;
}

/* Enter SET, write the seven time registers, leave SET with B = b_after. */
static void set_time(struct qtest *q, uint8_t b_set, uint8_t b_after, const uint8_t regs[7])
{
	static const uint8_t idx[7] = {0, 2, 4, 6, 7, 8, 9};

	cmos_write(q, 0x0b, b_set | 0x80);
	for (int i = 0; i < 7; i++)
		cmos_write(q, idx[i], regs[i]);
	cmos_write(q, 0x0b, b_after);
}

static void test_power_on(void)
{
	struct qtest q;
	uint32_t v;

	if (!start(&q))
		return;
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0x26);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0b), 0x02);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0c), 0x00);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0d), 0x80);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x20);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x02), 0x13);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x22);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x06), 0x03);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x07), 0x14);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x08), 0x11);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x09), 0x23);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x32), 0x20);
	/* Nothing enabled: no timer is armed at all. */
	CU_ASSERT_STRING_EQUAL(qtest_cmd(&q, "clock_step"),
	                       "FAIL cannot advance clock to the next deadline because there is "
	                       "no pending deadline");
	CU_ASSERT_EQUAL(qtest_clock_step(&q, S(41)), S(41));
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x01);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x02), 0x14);
	/* The domain was built with offset 0: wallclock written once. */
	CU_ASSERT_EQUAL(wc_sec(&q, &v), W);
	CU_ASSERT_EQUAL(v, 2);
	finish(&q);
}

static void test_set_time_bcd_24h(void)
{
	static const uint8_t t[7] = {0x00, 0x00, 0x00, 0x03, 0x01, 0x01, 0x30};
	struct qtest q;
	uint32_t v;

	if (!start(&q))
		return;
	set_time(&q, 0x02, 0x02, t);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x09), 0x30);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x08), 0x01);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x07), 0x01);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x06), 0x03);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x00);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x32), 0x20);
	/* Set at clock 0 with host phase 0: wallclock = new guest time. */
	CU_ASSERT_EQUAL(wc_sec(&q, &v), T2030);
	CU_ASSERT_EQUAL(v, 4);
	CU_ASSERT_EQUAL(qtest_clock_step(&q, S(3661) + 1), S(3661) + 1);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x01);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x02), 0x01);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x01);
	finish(&q);
}

static void test_set_time_binary_rollover(void)
{
	/* 2029-12-31 23:59:59, Monday, binary 24 h. */
	static const uint8_t t[7] = {59, 59, 23, 2, 31, 12, 29};
	struct qtest q;

	if (!start(&q))
		return;
	CU_ASSERT_EQUAL(qtest_clock_step(&q, S(2)), S(2));
	set_time(&q, 0x06, 0x06, t);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 59);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 23);
	/* Set at clock 2 s: the PV wallclock is the guest time at clock 0. */
	CU_ASSERT_EQUAL(wc_sec(&q, NULL), T2030 - 1 - 2);
	CU_ASSERT_EQUAL(qtest_clock_step(&q, S(1)), S(3));
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x02), 0);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x06), 3);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x07), 1);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x08), 1);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x09), 30);
	finish(&q);
}

static void test_12h_mode(void)
{
	/* 11 PM in 12 h BCD: 0x91.  2030-01-01 23:00:00. */
	static const uint8_t pm[7] = {0x00, 0x00, 0x91, 0x03, 0x01, 0x01, 0x30};
	static const uint8_t midnight[7] = {0x00, 0x00, 0x12, 0x03, 0x01, 0x01, 0x30};
	static const uint8_t noon[7] = {0x00, 0x00, 0x92, 0x03, 0x01, 0x01, 0x30};
	struct qtest q;

	if (!start(&q))
		return;
	set_time(&q, 0x00, 0x00, pm);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x91);
	CU_ASSERT_EQUAL(wc_sec(&q, NULL), T2030 + 23 * 3600);
	cmos_write(&q, 0x0b, 0x02); /* 24 h: the same time re-encoded */
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x23);
	cmos_write(&q, 0x0b, 0x04); /* 12 h binary: 11 | PM */
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x8b);
	set_time(&q, 0x00, 0x02, midnight);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x00);
	CU_ASSERT_EQUAL(wc_sec(&q, NULL), T2030);
	set_time(&q, 0x00, 0x02, noon);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x12);
	CU_ASSERT_EQUAL(wc_sec(&q, NULL), T2030 + 12 * 3600);
	finish(&q);
}

static void test_wallclock_follows_each_change(void)
{
	struct qtest q;
	uint32_t v;

	if (!start(&q))
		return;
	/* One field written outside SET changes the offset at once. */
	cmos_write(&q, 0x02, 0x14);
	CU_ASSERT_EQUAL(wc_sec(&q, &v), W + 60);
	CU_ASSERT_EQUAL(v, 4);
	cmos_write(&q, 0x04, 0x20);
	CU_ASSERT_EQUAL(wc_sec(&q, &v), W + 60 - 2 * 3600);
	CU_ASSERT_EQUAL(v, 6);
	cmos_write(&q, 0x09, 0x22);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x09), 0x22);
	CU_ASSERT_EQUAL(wc_sec(&q, &v), W + 60 - 2 * 3600 - 365ull * 86400);
	CU_ASSERT_EQUAL(v, 8);
	/* Reads change nothing. */
	CU_ASSERT_EQUAL(cmos_read(&q, 0x02), 0x14);
	CU_ASSERT_EQUAL(wc_sec(&q, &v), W + 60 - 2 * 3600 - 365ull * 86400);
	CU_ASSERT_EQUAL(v, 8);
	finish(&q);
}

static void test_alarm(void)
{
	/* 2030-01-01 12:00:00 */
	static const uint8_t t[7] = {0x00, 0x00, 0x12, 0x03, 0x01, 0x01, 0x30};
	struct qtest q;

	if (!start(&q))
		return;
	cmos_write(&q, 0x0a, 0x20); /* no periodic rate */
	set_time(&q, 0x02, 0x02, t);
	cmos_write(&q, 0x01, 0x05);
	cmos_write(&q, 0x03, 0x00);
	cmos_write(&q, 0x05, 0x12);
	cmos_write(&q, 0x0b, 0x22); /* AIE */
	CU_ASSERT_EQUAL(qtest_clock_step(&q, S(5) - 1), S(5) - 1);
	CU_ASSERT_FALSE(qtest_get_irq(&q, 8));
	CU_ASSERT_EQUAL(qtest_clock_step_next(&q), S(5));
	CU_ASSERT_TRUE(qtest_get_irq(&q, 8));
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x05);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0c), 0xb0); /* IRQF | AF | UF */
	CU_ASSERT_FALSE(qtest_get_irq(&q, 8));
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0c), 0x00);

	/* Don't-care minutes and hours: every minute at :30. */
	cmos_write(&q, 0x01, 0x30);
	cmos_write(&q, 0x03, 0xc0);
	cmos_write(&q, 0x05, 0xc0);
	CU_ASSERT_EQUAL(qtest_clock_step_next(&q), S(30));
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0c), 0xb0);
	CU_ASSERT_EQUAL(qtest_clock_step_next(&q), S(90));
	CU_ASSERT_EQUAL(cmos_read(&q, 0x02), 0x01);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0c), 0xb0);
	CU_ASSERT_EQUAL(q.irq_raises[8], 3);
	finish(&q);
}

static void test_periodic_lines(void)
{
	struct qtest q;

	if (!start(&q))
		return;
	cmos_write(&q, 0x0a, 0x2f); /* 2 Hz */
	cmos_write(&q, 0x0b, 0x42); /* PIE */
	CU_ASSERT_EQUAL(qtest_clock_step_next(&q), S(1) / 2);
	CU_ASSERT_TRUE(qtest_get_irq(&q, 8));
	/* Line stays up, no timer while it is raised. */
	CU_ASSERT_STRING_EQUAL(qtest_cmd(&q, "clock_step"),
	                       "FAIL cannot advance clock to the next deadline because there is "
	                       "no pending deadline");
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0c), 0xc0);
	CU_ASSERT_FALSE(qtest_get_irq(&q, 8));
	CU_ASSERT_EQUAL(qtest_clock_step_next(&q), S(1));
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0c), 0xd0); /* PF and the update at 1 s */
	CU_ASSERT_EQUAL(q.irq_raises[8], 2);
	/* PIE off: PF still set lazily, no line, no timer. */
	cmos_write(&q, 0x0b, 0x02);
	CU_ASSERT_EQUAL(qtest_clock_step(&q, S(1) / 4), S(5) / 4);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0c), 0x00);
	CU_ASSERT_EQUAL(qtest_clock_step(&q, S(1) / 4), S(3) / 2);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0c), 0x40);
	CU_ASSERT_EQUAL(q.irq_raises[8], 2);
	finish(&q);
}

/* 1024 Hz for exactly one second: 1024 ticks, each acknowledged. */
static void test_periodic_count(void)
{
	struct qtest q;
	unsigned ticks = 0;
	uint64_t t = 0, second = 0;

	if (!start(&q))
		return;
	cmos_write(&q, 0x0a, 0x20); /* stop, then 1024 Hz with PIE */
	cmos_write(&q, 0x0b, 0x42);
	cmos_write(&q, 0x0a, 0x26);
	while (!q.broken) {
		t = qtest_clock_step_next(&q);
		if (t > S(1))
			break;
		if (ticks == 1)
			second = t;
		CU_ASSERT_TRUE(qtest_get_irq(&q, 8));
		if ((cmos_read(&q, 0x0c) & 0xc0) == 0xc0)
			ticks++;
	}
	CU_ASSERT_EQUAL(ticks, 1024);
	CU_ASSERT_EQUAL(second, 1953125); /* tick 2: 64 cycles of 32768 Hz exactly */
	CU_ASSERT_EQUAL(t, 1000976563); /* next: first tick of the next second */
	CU_ASSERT_EQUAL(q.irq_raises[8], 1025); /* the 1024 and that one */
	finish(&q);
}

static void test_uip_to_the_ns(void)
{
	struct qtest q;

	if (!start(&q))
		return;
	/* UIP covers 8 cycles of 32768 Hz before the update: from 999 755 859.375 ns. */
	CU_ASSERT_EQUAL(qtest_clock_set(&q, 999755859), 999755859);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0x26);
	CU_ASSERT_EQUAL(qtest_clock_set(&q, 999755860), 999755860);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0xa6);
	CU_ASSERT_EQUAL(qtest_clock_set(&q, S(1) - 1), S(1) - 1);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0xa6);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x20);
	CU_ASSERT_EQUAL(qtest_clock_set(&q, S(1)), S(1));
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0x26);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x21);
	finish(&q);
}

static void test_divider_reset(void)
{
	struct qtest q;
	uint32_t v;

	if (!start(&q))
		return;
	CU_ASSERT_EQUAL(qtest_clock_set(&q, S(3) / 10), S(3) / 10);
	cmos_write(&q, 0x0a, 0x70); /* divider reset: the clock stops */
	CU_ASSERT_EQUAL(qtest_clock_set(&q, S(2)), S(2));
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x20);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0x70);
	cmos_write(&q, 0x0a, 0x26); /* released: first update 500 ms later */
	CU_ASSERT_EQUAL(qtest_clock_set(&q, S(5) / 2 - 244141), S(5) / 2 - 244141);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0x26);
	CU_ASSERT_EQUAL(qtest_clock_set(&q, S(5) / 2 - 244140), S(5) / 2 - 244140);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0xa6);
	CU_ASSERT_EQUAL(qtest_clock_set(&q, S(5) / 2 - 1), S(5) / 2 - 1);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x20);
	CU_ASSERT_EQUAL(qtest_clock_set(&q, S(5) / 2), S(5) / 2);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x21);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0x26);
	/* Guest time is 1.5 s behind the host: offset -2 s + 0.5 s phase. */
	CU_ASSERT_EQUAL(wc_sec(&q, &v), W - 2);
	CU_ASSERT_EQUAL(v, 4);
	finish(&q);
}

static void test_port_widths(void)
{
	struct qtest q;

	if (!start(&q))
		return;
	qtest_outb(&q, 0x70, 0x0a);
	/* Byte lanes: 0x70 reads 0xff, 0x71 the data, 0x72/0x73 unmapped. */
	CU_ASSERT_EQUAL(qtest_inw(&q, 0x70), 0x26ff);
	CU_ASSERT_EQUAL(qtest_inl(&q, 0x70), 0xffff26ff);
	CU_ASSERT_EQUAL(qtest_inb(&q, 0x80), 0xff);
	CU_ASSERT_STRING_EQUAL(qtest_cmd(&q, "inb 0x70"), "OK 0x00ff");
	/* outw: index in the low byte, data in the high byte. */
	CU_ASSERT_STRING_EQUAL(qtest_cmd(&q, "outw 0x70 0x550e"), "OK");
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0e), 0x55);
	CU_ASSERT_STRING_EQUAL(qtest_cmd(&q, "outl 0x70 0x00aa7f"), "OK");
	CU_ASSERT_EQUAL(cmos_read(&q, 0x7f), 0xaa);
	/* NMI mask bit selects the same register. */
	qtest_outb(&q, 0x70, 0x8e);
	CU_ASSERT_EQUAL(qtest_inb(&q, 0x71), 0x55);
	finish(&q);
}

static void test_bad_lines(void)
{
	static const struct {
		const char *line, *reply;
	} cases[] = {
		{"bogus 1", "FAIL Unknown command 'bogus'"},
		{"outb 0x70", "FAIL outb takes 2 arguments, 1 given"},
		{"outb 0x70 0x100", "FAIL value '0x100' out of range (max 0xff)"},
		{"outw 0x10000 1", "FAIL port '0x10000' out of range (max 0xffff)"},
		{"inb zz", "FAIL invalid port 'zz'"},
		{"inb -1", "FAIL invalid port '-1'"},
		{"inb 0x71 0", "FAIL inb takes 1 argument, 2 given"},
		{"clock_step 1x", "FAIL invalid step '1x'"},
		{"clock_set 0", "OK 0"},
		{"readb 0x1000", "FAIL readb: no guest memory (rtcdm emulates ports 0x70-0x71 only)"},
		{"irq_intercept_in /machine/nothing", "FAIL Unknown device"},
		{"irq_intercept_in ioapic", "FAIL IRQ intercept already enabled"},
		{"endianness", "OK little"},
		{"   ", "FAIL empty command"},
	};
	struct qtest q;
	char big[5000];

	if (!start(&q))
		return;
	cmos_write(&q, 0x0e, 0x42);
	qtest_outb(&q, 0x70, 0x0e);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *r = qtest_cmd(&q, "%s", cases[i].line);

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_STRING_EQUAL(r, cases[i].reply);
	}
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(qtest_send_raw(&q, big, strlen(big)), 0);
	CU_ASSERT_STRING_EQUAL(qtest_read_reply(&q), "FAIL line longer than 4096 bytes");
	/* Still serving, nothing changed: index and NVRAM as before. */
	CU_ASSERT_EQUAL(qtest_inb(&q, 0x71), 0x42);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0x26);
	/* Two commands in one write, CRLF line ends. */
	CU_ASSERT_EQUAL(qtest_send_raw(&q, "inb 0x71\r\nendianness\r\n", 22), 0);
	CU_ASSERT_STRING_EQUAL(qtest_read_reply(&q), "OK 0x0026");
	CU_ASSERT_STRING_EQUAL(qtest_read_reply(&q), "OK little");
	finish(&q);
}

void suite_dm_rtc(void)
{
	CU_pSuite s = CU_add_suite("dm_rtc (rtcdm over qtest)", NULL, NULL);

	CU_add_test(s, "power-on registers, no timer when idle", test_power_on);
	CU_add_test(s, "set time BCD 24h, PV wallclock", test_set_time_bcd_24h);
	CU_add_test(s, "set time binary, year rollover", test_set_time_binary_rollover);
	CU_add_test(s, "12 h mode and re-encoding", test_12h_mode);
	CU_add_test(s, "PV wallclock follows every change", test_wallclock_follows_each_change);
	CU_add_test(s, "alarm and don't-care alarm", test_alarm);
	CU_add_test(s, "periodic interrupt and IRQ lines", test_periodic_lines);
	CU_add_test(s, "1024 Hz: exact tick count", test_periodic_count);
	CU_add_test(s, "UIP to the nanosecond", test_uip_to_the_ns);
	CU_add_test(s, "divider reset: first update 500 ms later", test_divider_reset);
	CU_add_test(s, "inw/inl/outw byte lanes", test_port_widths);
	CU_add_test(s, "bad qtest lines: FAIL, still serving", test_bad_lines);
}
