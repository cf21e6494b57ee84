/* platform/sim/qtest.c: the qtest line protocol against a recording fake target. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "platform/sim/qtest.h"

void suite_dm_qtest(void);

struct fake {
	struct dm_qtest *q;
	uint64_t now;
	uint64_t deadline;    /* RTC_NO_DEADLINE when none */
	uint64_t period;      /* re-arm period when fired (0: one-shot) */
	uint64_t fired_at[8];
	unsigned fired;
	int irq;
	uint16_t last_port;
	unsigned last_size;
	uint32_t last_val;
	unsigned writes;
	int log_fd_unused;
};

static uint32_t f_read(void *t, uint16_t port, unsigned size)
{
	struct fake *f = t;

	f->last_port = port;
	f->last_size = size;
	return 0x12345678u & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
}

static void f_write(void *t, uint16_t port, unsigned size, uint32_t val)
{
	struct fake *f = t;

	f->last_port = port;
	f->last_size = size;
	f->last_val = val;
	f->writes++;
	/* Writing 1 to port 0x71 raises the line, 0 lowers it. */
	if (port == 0x71) {
		f->irq = (int)val;
		dm_qtest_irq(f->q, 8, (int)val);
	}
}

static uint64_t f_now(void *t)
{
	return ((struct fake *)t)->now;
}

static uint64_t f_deadline(void *t)
{
	return ((struct fake *)t)->deadline;
}

static int f_warp(void *t, uint64_t target)
{
	struct fake *f = t;

	while (f->deadline != RTC_NO_DEADLINE && f->deadline <= target) {
		f->now = f->deadline;
		if (f->fired < 8)
			f->fired_at[f->fired] = f->now;
		f->fired++;
		f->irq = !f->irq;
		dm_qtest_irq(f->q, 8, f->irq);
		f->deadline = f->period ? f->deadline + f->period : RTC_NO_DEADLINE;
	}
	f->now = target;
	return 0;
}

static int f_irq_level(void *t, unsigned irq)
{
	return irq == 8 ? ((struct fake *)t)->irq : 0;
}

static const struct dm_qtest_target_ops fake_ops = {f_read, f_write, f_now, f_deadline, f_warp,
                                                    f_irq_level};

static void setup(struct dm_qtest *q, struct fake *f, struct dm_log *log)
{
	memset(f, 0, sizeof(*f));
	f->q = q;
	f->deadline = RTC_NO_DEADLINE;
	dm_log_init(log, -1);
	dm_qtest_init(q, &fake_ops, f, log);
}

/* Handle one line; return everything emitted for it (NUL-terminated in place). */
static const char *run(struct dm_qtest *q, const char *line)
{
	q->out_len = 0;
	dm_qtest_handle_line(q, line);
	if (q->out_len >= sizeof(q->out))
		return "(output overflow)";
	q->out[q->out_len] = '\0';
	return q->out;
}

static void test_port_io(void)
{
	struct dm_qtest q;
	struct fake f;
	struct dm_log log;

	setup(&q, &f, &log);
	CU_ASSERT_STRING_EQUAL(run(&q, "inb 0x71"), "OK 0x0078\n");
	CU_ASSERT_EQUAL(f.last_port, 0x71);
	CU_ASSERT_EQUAL(f.last_size, 1);
	CU_ASSERT_STRING_EQUAL(run(&q, "inw 112"), "OK 0x5678\n");
	CU_ASSERT_EQUAL(f.last_port, 112);
	CU_ASSERT_STRING_EQUAL(run(&q, "inl 0x70"), "OK 0x12345678\n");
	CU_ASSERT_EQUAL(f.last_size, 4);
	CU_ASSERT_STRING_EQUAL(run(&q, "outw 0x70 0xbeef"), "OK\n");
	CU_ASSERT_EQUAL(f.last_val, 0xbeef);
	CU_ASSERT_EQUAL(f.last_size, 2);
	CU_ASSERT_STRING_EQUAL(run(&q, "outl 0x70 0xffffffff"), "OK\n");
	CU_ASSERT_EQUAL(f.last_val, 0xffffffffu);
	CU_ASSERT_STRING_EQUAL(run(&q, "outb\t0x70   010"), "OK\n"); /* octal, blanks */
	CU_ASSERT_EQUAL(f.last_val, 8);
	CU_ASSERT_EQUAL(f.writes, 3);
	/* Rejected lines reach nothing. */
	CU_ASSERT_STRING_EQUAL(run(&q, "outl 0x70 0x100000000"),
	                       "FAIL value '0x100000000' out of range (max 0xffffffff)\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "outw 0x70 65536"),
	                       "FAIL value '65536' out of range (max 0xffff)\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "outb 0x70 +1"), "FAIL invalid value '+1'\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "outb 0x70 1 2"), "FAIL outb takes 2 arguments, 3 given\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "inb"), "FAIL inb takes 1 argument, 0 given\n");
	CU_ASSERT_EQUAL(f.writes, 3);
}

static void test_clock(void)
{
	struct dm_qtest q;
	struct fake f;
	struct dm_log log;

	setup(&q, &f, &log);
	CU_ASSERT_STRING_EQUAL(run(&q, "clock_step"),
	                       "FAIL cannot advance clock to the next deadline because there is no "
	                       "pending deadline\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "clock_step 10"), "OK 10\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "clock_set 1000"), "OK 1000\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "clock_set 999"),
	                       "FAIL cannot set the clock back from 1000 to 999 ns\n");
	CU_ASSERT_EQUAL(f.now, 1000);
	f.deadline = 1500;
	CU_ASSERT_STRING_EQUAL(run(&q, "clock_step"), "OK 1500\n");
	CU_ASSERT_EQUAL(f.fired, 1);
	/* Periodic deadlines inside one step: each fires at its own time. */
	f.deadline = 2000;
	f.period = 300;
	CU_ASSERT_STRING_EQUAL(run(&q, "clock_step 1000"), "OK 2500\n");
	CU_ASSERT_EQUAL(f.fired, 3);
	CU_ASSERT_EQUAL(f.fired_at[1], 2000);
	CU_ASSERT_EQUAL(f.fired_at[2], 2300);
	CU_ASSERT_STRING_EQUAL(run(&q, "clock_step 9223372036854775807"),
	                       "FAIL could not advance time: the clock would pass 2^63 ns\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "clock_step 9223372036854775808"),
	                       "FAIL step '9223372036854775808' out of range (max 0x7fffffffffffffff)\n");
	CU_ASSERT_EQUAL(f.now, 2500);
}

static void test_irq_lines(void)
{
	struct dm_qtest q;
	struct fake f;
	struct dm_log log;

	setup(&q, &f, &log);
	/* Before an intercept, level changes are not reported. */
	CU_ASSERT_STRING_EQUAL(run(&q, "outb 0x71 1"), "OK\n");
	/* Line already up when intercepting: reported at once. */
	CU_ASSERT_STRING_EQUAL(run(&q, "irq_intercept_in ioapic"), "IRQ raise 8\nOK\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "irq_intercept_out /machine/ioapic"),
	                       "FAIL IRQ intercept already enabled\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "outb 0x71 0"), "IRQ lower 8\nOK\n");
	/* Lines caused by a step come before its reply, in order. */
	f.deadline = 100;
	f.period = 100;
	CU_ASSERT_STRING_EQUAL(run(&q, "clock_step 250"), "IRQ raise 8\nIRQ lower 8\nOK 250\n");
}

static void test_other_commands(void)
{
	struct dm_qtest q;
	struct fake f;
	struct dm_log log;

	setup(&q, &f, &log);
	CU_ASSERT_STRING_EQUAL(run(&q, "endianness"), "OK little\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "irq_intercept_in"),
	                       "FAIL irq_intercept_in takes a device path (and an optional name)\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "irq_intercept_in /machine/pic"), "FAIL Unknown device\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "writeq 0x1000 1"),
	                       "FAIL writeq: no guest memory (rtcdm emulates ports 0x70-0x71 only)\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "set_irq_in ioapic x 8 1"),
	                       "FAIL set_irq_in: IRQ 8 is driven by the RTC only\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "module_load a b"), "FAIL Unknown command 'module_load'\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "INB 0x71"), "FAIL Unknown command 'INB'\n");
	CU_ASSERT_STRING_EQUAL(run(&q, ""), "FAIL empty command\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "a b c d e f g h i"), "FAIL too many words in 'a b c d e f g h i'\n");
	CU_ASSERT_STRING_EQUAL(run(&q, "endianness\r"), "OK little\n");
}

static void test_feed_framing(void)
{
	struct dm_qtest q;
	struct fake f;
	struct dm_log log;
	char big[DM_QTEST_MAX_LINE + 10];

	setup(&q, &f, &log);
	q.out_len = 0;
	dm_qtest_feed(&q, "endi", 4);
	CU_ASSERT_EQUAL(q.out_len, 0);
	dm_qtest_feed(&q, "anness\ninb 0x70\nclock_", 22);
	CU_ASSERT_EQUAL(q.out_len, strlen("OK little\nOK 0x0078\n"));
	CU_ASSERT_EQUAL(memcmp(q.out, "OK little\nOK 0x0078\n", q.out_len), 0);
	q.out_len = 0;
	dm_qtest_feed(&q, "step 5\n", 7);
	CU_ASSERT_EQUAL(memcmp(q.out, "OK 5\n", 5), 0);
	/* Over-long line: one FAIL, the next line is served. */
	q.out_len = 0;
	memset(big, 'a', sizeof(big));
	dm_qtest_feed(&q, big, sizeof(big));
	dm_qtest_feed(&q, "\nendianness\n", 12);
	CU_ASSERT_EQUAL(q.out_len, strlen("FAIL line longer than 4096 bytes\nOK little\n"));
	CU_ASSERT_EQUAL(memcmp(q.out, "FAIL line longer than 4096 bytes\nOK little\n", q.out_len), 0);
	/* A NUL byte spoils its line only. */
	q.out_len = 0;
	dm_qtest_feed(&q, "inb\0 0x70\nendianness\n", 21);
	CU_ASSERT_EQUAL(memcmp(q.out, "FAIL line longer than 4096 bytes\nOK little\n", q.out_len), 0);
}

void suite_dm_qtest(void)
{
	CU_pSuite s = CU_add_suite("dm_qtest (qtest protocol)", NULL, NULL);

	CU_add_test(s, "port I/O commands", test_port_io);
	CU_add_test(s, "clock_step / clock_set", test_clock);
	CU_add_test(s, "IRQ lines before replies", test_irq_lines);
	CU_add_test(s, "other commands, unknown, empty", test_other_commands);
	CU_add_test(s, "framing: partial, pipelined, over-long", test_feed_framing);
}
