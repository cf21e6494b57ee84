/*
 * platform/sim/qtest.c: port-access lines at the edges of the in-place parser.  Each
 * line either is a valid access in the usual number forms or gets exactly
 * the reply the general parser gives (C numbers as strtoull base 0 reads
 * them: octal, hex, decimal; one FAIL line for anything else).
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "platform/sim/qtest.h"

void suite_dm_qtest_parse(void);

struct target {
	uint16_t port;
	unsigned size, reads, writes;
	uint32_t val;
};

static uint32_t t_read(void *o, uint16_t port, unsigned size)
{
	struct target *t = o;
	t->port = port;
	t->size = size;
	t->reads++;
	return 0xa5u;
}

static void t_write(void *o, uint16_t port, unsigned size, uint32_t val)
{
	struct target *t = o;
	t->port = port;
	t->size = size;
	t->val = val;
	t->writes++;
}

static uint64_t t_now(void *o)
{
	(void)o;
	return 0;
}

static uint64_t t_deadline(void *o)
{
	(void)o;
	return RTC_NO_DEADLINE;
}

static int t_warp(void *o, uint64_t target)
{
	(void)o;
	(void)target;
	return 0;
}

static int t_irq(void *o, unsigned irq)
{
	(void)o;
	(void)irq;
	return 0;
}

static const struct dm_qtest_target_ops ops = {t_read, t_write, t_now, t_deadline, t_warp, t_irq};

struct fixture {
	struct dm_qtest q;
	struct target t;
	struct dm_log log;
};

static void setup(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	dm_log_init(&x->log, -1);
	dm_qtest_init(&x->q, &ops, &x->t, &x->log);
}

/* Feed `len` bytes; return everything emitted (NUL-terminated in place). */
static const char *feed(struct fixture *x, const char *bytes, size_t len)
{
	x->q.out_len = 0;
	dm_qtest_feed(&x->q, bytes, len);
	if (x->q.out_len >= sizeof(x->q.out))
		return "(output overflow)";
	x->q.out[x->q.out_len] = '\0';
	return x->q.out;
}

static const char *line(struct fixture *x, const char *text)
{
	return feed(x, text, strlen(text));
}

static void test_numbers(void)
{
	struct fixture x;
	setup(&x);
	/* 16 hex digits with leading zeros: valid; 17 digits: still C, still valid. */
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 0x0000000000000071\n"), "OK 0x00a5\n");
	CU_ASSERT_EQUAL(x.t.port, 0x71);
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 0x00000000000000070\n"), "OK 0x00a5\n");
	CU_ASSERT_EQUAL(x.t.port, 0x70);
	CU_ASSERT_STRING_EQUAL(line(&x, "inw 0X7F\n"), "OK 0x00a5\n");
	CU_ASSERT_EQUAL(x.t.port, 0x7f);
	CU_ASSERT_EQUAL(x.t.size, 2);
	/* Octal as C reads it; 08 is no number. */
	CU_ASSERT_STRING_EQUAL(line(&x, "inl 0161\n"), "OK 0x00a5\n");
	CU_ASSERT_EQUAL(x.t.port, 0x71);
	CU_ASSERT_EQUAL(x.t.size, 4);
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 08\n"), "FAIL invalid port '08'\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 00\n"), "OK 0x00a5\n");
	CU_ASSERT_EQUAL(x.t.port, 0);
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 0x\n"), "FAIL invalid port '0x'\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 0x7g\n"), "FAIL invalid port '0x7g'\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inb -1\n"), "FAIL invalid port '-1'\n");
	/* Largest 64-bit values and one past them. */
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 18446744073709551615\n"),
	                       "FAIL port '18446744073709551615' out of range (max 0xffff)\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 18446744073709551616\n"),
	                       "FAIL invalid port '18446744073709551616'\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 0x10000000000000000\n"),
	                       "FAIL invalid port '0x10000000000000000'\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 65535\n"), "OK 0x00a5\n");
	CU_ASSERT_EQUAL(x.t.port, 0xffff);
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 65536\n"), "FAIL port '65536' out of range (max 0xffff)\n");
	/* Values: the limit of each size. */
	CU_ASSERT_STRING_EQUAL(line(&x, "outb 0x70 255\n"), "OK\n");
	CU_ASSERT_EQUAL(x.t.val, 255);
	CU_ASSERT_STRING_EQUAL(line(&x, "outb 0x70 0x100\n"),
	                       "FAIL value '0x100' out of range (max 0xff)\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "outw 0x70 0xffff\n"), "OK\n");
	CU_ASSERT_EQUAL(x.t.val, 0xffff);
	CU_ASSERT_EQUAL(x.t.writes, 2);
	CU_ASSERT_EQUAL(x.t.reads, 6);
}

static void test_blanks_and_words(void)
{
	struct fixture x;
	setup(&x);
	CU_ASSERT_STRING_EQUAL(line(&x, " \tinb \t 0x71\t \n"), "OK 0x00a5\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 0x71\r\n"), "OK 0x00a5\n");
	/* Only one '\r' is a line end; another is part of the word. */
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 0x71\r\r\n"), "FAIL invalid port '0x71\r'\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inb\v0x71\n"), "FAIL Unknown command 'inb\v0x71'\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inb 0x71 0\n"), "FAIL inb takes 1 argument, 2 given\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "outb 0x70\n"), "FAIL outb takes 2 arguments, 1 given\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "in 0x71\n"), "FAIL Unknown command 'in'\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "inq 0x71\n"), "FAIL Unknown command 'inq'\n");
	CU_ASSERT_STRING_EQUAL(line(&x, "outbb 0x71 1\n"), "FAIL Unknown command 'outbb'\n");
	CU_ASSERT_EQUAL(x.t.reads, 2);
	CU_ASSERT_EQUAL(x.t.writes, 0);
}

/* Lines cut anywhere between feeds, several lines per feed. */
static void test_pieces(void)
{
	struct fixture x;
	static const char text[] = "outb 0x70 0x0a\ninb 0x71\noutb 0x70 0x32\ninb 0x71\n";
	static const char want[] = "OK\nOK 0x00a5\nOK\nOK 0x00a5\n";
	for (size_t cut = 0; cut <= sizeof(text) - 1; cut++) {
		char got[64];
		size_t n = 0;
		setup(&x);
		feed(&x, text, cut);
		if (x.q.out_len > sizeof(got)) {
			CU_FAIL("more output than the whole answer");
			return;
		}
		memcpy(got, x.q.out, x.q.out_len);
		n = x.q.out_len;
		feed(&x, text + cut, sizeof(text) - 1 - cut);
		if (x.q.out_len > sizeof(got) - n) {
			CU_FAIL("more output than the whole answer");
			return;
		}
		memcpy(got + n, x.q.out, x.q.out_len);
		n += x.q.out_len;
		CU_ASSERT_EQUAL(n, sizeof(want) - 1);
		CU_ASSERT_EQUAL(memcmp(got, want, sizeof(want) - 1), 0);
		CU_ASSERT_EQUAL(x.t.writes, 2);
		CU_ASSERT_EQUAL(x.t.val, 0x32);
		CU_ASSERT_EQUAL(x.t.reads, 2);
	}
}

/* A line of exactly DM_QTEST_MAX_LINE bytes is served; one more byte is not. */
static void test_line_length(void)
{
	struct fixture x;
	char buf[DM_QTEST_MAX_LINE + 2];
	setup(&x);
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "inb 0x71", 8);
	buf[DM_QTEST_MAX_LINE] = '\n';
	CU_ASSERT_STRING_EQUAL(feed(&x, buf, DM_QTEST_MAX_LINE + 1), "OK 0x00a5\n");
	buf[DM_QTEST_MAX_LINE] = ' ';
	buf[DM_QTEST_MAX_LINE + 1] = '\n';
	/* In two pieces, so the line is assembled in the buffer. */
	feed(&x, buf, 100);
	CU_ASSERT_EQUAL(x.q.out_len, 0);
	CU_ASSERT_STRING_EQUAL(feed(&x, buf + 100, DM_QTEST_MAX_LINE + 2 - 100),
	                       "FAIL line longer than 4096 bytes\n");
	CU_ASSERT_EQUAL(x.t.reads, 1);
}

void suite_dm_qtest_parse(void)
{
	CU_pSuite s = CU_add_suite("dm_qtest_parse", NULL, NULL);
	CU_add_test(s, "numbers: hex, octal, decimal, limits, invalid forms", test_numbers);
	CU_add_test(s, "blanks, carriage returns, argument counts, near-miss commands",
	            test_blanks_and_words);
	CU_add_test(s, "lines cut at every byte between two feeds", test_pieces);
	CU_add_test(s, "line length limit, whole and assembled", test_line_length);
}
