/*
 * bench_rtc — in-process costs of the RTC core on a fake platform.
 *
 *   bench_rtc ioport MIX COUNT   COUNT port accesses (COUNT/2 index-write +
 *                                data pairs) of one kind; prints
 *                                "ioport.MIX.ns_per_access X"
 *   bench_rtc ioport all COUNT   every kind in turn
 *   bench_rtc sr COUNT           live save (snapshot + encode) and restore
 *                                (parse + validate + apply) of a whole
 *                                image, COUNT times each; prints the image
 *                                size and the mean ns of each
 *
 *   bench_rtc qtest COUNT        COUNT "inb 0x71" lines through the qtest
 *                                protocol handler (parse, dispatch, RTC
 *                                read, reply formatting) with no socket:
 *                                rtcdm's user-space work per round trip
 *
 * Kinds (MIX):
 *   nvram   outb 0x70 <NVRAM index>; inb 0x71
 *   nvwrite outb 0x70 <NVRAM index>; outb 0x71 <value>
 *   seconds outb 0x70 0x00; inb 0x71     (guest time computed from the clock)
 *   rega    outb 0x70 0x0a; inb 0x71     (UIP derived from the clock)
 *   regc    outb 0x70 0x0c; inb 0x71     (1024 Hz periodic interrupt on:
 *                                         flags evaluated, line lowered, timer
 *                                         re-armed when a tick passed)
 *
 * The fake clock advances 1 µs per clock_ns() call, so time-dependent
 * registers really change.  With COUNT 0 the program does everything except
 * the accesses: running it under callgrind with COUNT N and with 0 and
 * dividing the difference by N gives instructions per access.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "platform/sim/qtest.h"
#include "rtc/rtc.h"
#include "saverestore/sr.h"
#include "tests/bench/bench_util.h"

#define PROG "bench_rtc"
#define FAKE_STEP_NS 1000u
#define FAKE_WALLCLOCK_NS (1700000000LL * RTC_NS_PER_SEC)

struct fake_platform {
	uint64_t now;
	uint64_t deadline;
	int irq;
	unsigned long timer_arms;
};

static uint64_t fake_clock_ns(void *opaque)
{
	struct fake_platform *f = opaque;

	f->now += FAKE_STEP_NS;
	return f->now;
}

static void fake_arm_timer(void *opaque, uint64_t deadline_ns)
{
	struct fake_platform *f = opaque;

	f->deadline = deadline_ns;
	f->timer_arms++;
}

static void fake_set_irq(void *opaque, int level)
{
	struct fake_platform *f = opaque;

	f->irq = level;
}

static const struct rtc_platform_ops fake_ops = {
	.clock_ns = fake_clock_ns,
	.arm_timer = fake_arm_timer,
	.set_irq = fake_set_irq,
	.offset_changed = NULL,
};

static struct rtc *new_rtc(struct fake_platform *f)
{
	struct rtc_config cfg = {
		.ops = &fake_ops,
		.opaque = f,
		.host_wallclock_ns = FAKE_WALLCLOCK_NS,
		.lost_tick_policy = RTC_LOST_TICKS_DISCARD,
	};
	struct rtc *rtc;

	memset(f, 0, sizeof(*f));
	f->deadline = RTC_NO_DEADLINE;
	rtc = rtc_new(&cfg);
	if (!rtc) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	return rtc;
}

enum mix { MIX_NVRAM, MIX_NVWRITE, MIX_SECONDS, MIX_REGA, MIX_REGC, MIX_COUNT };

static const char *const mix_names[MIX_COUNT] = {"nvram", "nvwrite", "seconds", "rega", "regc"};

/* COUNT accesses of one kind; returns a value derived from every read so
 * the compiler cannot drop them. */
static unsigned run_accesses(struct rtc *rtc, enum mix m, unsigned long count)
{
	unsigned acc = 0;

	for (unsigned long i = 0; i < count / 2; i++) {
		switch (m) {
		case MIX_NVRAM:
			rtc_ioport_write(rtc, 0x70, (uint8_t)(RTC_NVRAM_FIRST + (i & 0x3f)));
			acc += rtc_ioport_read(rtc, 0x71);
			break;
		case MIX_NVWRITE:
			rtc_ioport_write(rtc, 0x70, (uint8_t)(RTC_NVRAM_FIRST + 0x20 + (i & 0x3f)));
			rtc_ioport_write(rtc, 0x71, (uint8_t)i);
			break;
		case MIX_SECONDS:
			rtc_ioport_write(rtc, 0x70, RTC_SECONDS);
			acc += rtc_ioport_read(rtc, 0x71);
			break;
		case MIX_REGA:
			rtc_ioport_write(rtc, 0x70, RTC_REG_A);
			acc += rtc_ioport_read(rtc, 0x71);
			break;
		case MIX_REGC:
		case MIX_COUNT:
			rtc_ioport_write(rtc, 0x70, RTC_REG_C);
			acc += rtc_ioport_read(rtc, 0x71);
			break;
		}
	}
	return acc;
}

static void bench_ioport(enum mix m, unsigned long count)
{
	struct fake_platform f;
	struct rtc *rtc = new_rtc(&f);
	uint64_t t0, t1;
	unsigned acc;

	for (unsigned i = 0; i < 64; i++)
		rtc_cmos_write(rtc, (uint8_t)(RTC_NVRAM_FIRST + i), (uint8_t)(i * 3));
	if (m == MIX_REGC) {
		rtc_cmos_write(rtc, RTC_REG_A, RTC_A_DV_32KHZ | 0x06); /* 1024 Hz */
		rtc_cmos_write(rtc, RTC_REG_B, RTC_RESET_REG_B | RTC_B_PIE);
	}
	t0 = bench_now_ns();
	acc = run_accesses(rtc, m, count);
	t1 = bench_now_ns();
	if (count) {
		printf("ioport.%s.ns_per_access %.2f\n", mix_names[m],
		       (double)(t1 - t0) / (double)(count / 2 * 2));
		/* The regc kind must have seen periodic ticks: the fake clock ran
		 * count/2 * 1 µs or more, one tick per 976.5625 µs. */
		if (m == MIX_REGC && count >= 10000 && f.timer_arms == 0) {
			fprintf(stderr, PROG ": regc: no periodic timer was armed\n");
			exit(1);
		}
	}
	printf("ioport.%s.checksum %u\n", mix_names[m], acc);
	rtc_free(rtc);
}

static void bench_sr(unsigned long count)
{
	struct fake_platform fa, fb;
	struct rtc *a = new_rtc(&fa), *b = new_rtc(&fb);
	struct rtc_offset off;
	uint8_t img[1024];
	char err[SR_ERR_MAX];
	size_t n = 0;
	uint64_t t0, t1, t2;

	rtc_set_offset(a, 7200);
	for (unsigned i = RTC_NVRAM_FIRST; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			rtc_cmos_write(a, (uint8_t)i, (uint8_t)(i ^ 0x5a));
	rtc_cmos_write(a, RTC_REG_A, RTC_A_DV_32KHZ | 0x06);
	rtc_cmos_write(a, RTC_REG_B, RTC_RESET_REG_B | RTC_B_PIE);

	t0 = bench_now_ns();
	for (unsigned long i = 0; i < count; i++)
		n = sr_save_rtc(a, NULL, img, sizeof(img));
	t1 = bench_now_ns();
	if (n == 0 || n > sizeof(img)) {
		fprintf(stderr, PROG ": save produced %zu bytes\n", n);
		exit(1);
	}
	for (unsigned long i = 0; i < count; i++) {
		if (sr_load_into(b, img, n, NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": restore refused the image: %s\n", err);
			exit(1);
		}
	}
	t2 = bench_now_ns();
	/* What was restored must be what was saved. */
	rtc_get_offset(b, &off);
	if (off.seconds != 7200 || !off.set || rtc_cmos_read(b, 0x40) != (0x40 ^ 0x5a) ||
	    (rtc_cmos_read(b, RTC_REG_B) & RTC_B_PIE) == 0) {
		fprintf(stderr, PROG ": the restored RTC differs from the saved one\n");
		exit(1);
	}
	printf("sr.image_bytes %zu\n", n);
	printf("sr.save_ns %.1f\n", count ? (double)(t1 - t0) / (double)count : 0.0);
	printf("sr.restore_ns %.1f\n", count ? (double)(t2 - t1) / (double)count : 0.0);
	rtc_free(a);
	rtc_free(b);
}

/* ---- the qtest protocol handler on the RTC core, no socket ------------------------- */

static uint32_t qt_pio_read(void *t, uint16_t port, unsigned size)
{
	(void)size;
	return rtc_ioport_read(t, port);
}

static void qt_pio_write(void *t, uint16_t port, unsigned size, uint32_t val)
{
	(void)size;
	rtc_ioport_write(t, port, (uint8_t)val);
}

static uint64_t qt_clock_now(void *t)
{
	(void)t;
	return 0;
}

static uint64_t qt_next_deadline(void *t)
{
	return rtc_next_deadline(t);
}

static int qt_clock_warp(void *t, uint64_t target_ns)
{
	(void)t;
	(void)target_ns;
	return -1;
}

static int qt_irq_level(void *t, unsigned irq)
{
	(void)t;
	(void)irq;
	return 0;
}

static const struct dm_qtest_target_ops qt_ops = {
	.pio_read = qt_pio_read,
	.pio_write = qt_pio_write,
	.clock_now = qt_clock_now,
	.next_deadline = qt_next_deadline,
	.clock_warp = qt_clock_warp,
	.irq_level = qt_irq_level,
};

static void bench_qtest_lines(unsigned long count)
{
	static const char line[] = "inb 0x71\n";
	struct fake_platform f;
	struct rtc *rtc = new_rtc(&f);
	struct dm_qtest *q = malloc(sizeof(*q));
	struct dm_log log;
	uint64_t t0, t1;

	if (!q) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	dm_log_init(&log, -1);
	dm_qtest_init(q, &qt_ops, rtc, &log);
	t0 = bench_now_ns();
	for (unsigned long i = 0; i < count; i++) {
		dm_qtest_feed(q, line, sizeof(line) - 1);
		q->out_len = 0; /* the reply would have been sent here */
	}
	t1 = bench_now_ns();
	dm_qtest_feed(q, line, sizeof(line) - 1);
	if (strncmp(q->out, "OK 0x00", 7) != 0) {
		fprintf(stderr, PROG ": qtest: unexpected reply '%.*s'\n", (int)q->out_len, q->out);
		exit(1);
	}
	printf("qtest.ns_per_line %.1f\n", (double)(t1 - t0) / (double)count);
	free(q);
	rtc_free(rtc);
}

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " ioport nvram|nvwrite|seconds|rega|regc|all COUNT\n"
	                "       " PROG " sr COUNT\n"
	                "       " PROG " qtest COUNT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "ioport") == 0) {
		bool all = strcmp(argv[2], "all") == 0, known = all;
		unsigned long count;

		for (int m = 0; m < MIX_COUNT; m++)
			known |= strcmp(argv[2], mix_names[m]) == 0;
		if (!known) {
			fprintf(stderr, PROG ": unknown access kind '%s'\n", argv[2]);
			usage();
		}
		count = bench_count(PROG, "count", argv[3], 0, 4000000000ul);
		for (int m = 0; m < MIX_COUNT; m++)
			if (all || strcmp(argv[2], mix_names[m]) == 0)
				bench_ioport((enum mix)m, count);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "qtest") == 0) {
		bench_qtest_lines(bench_count(PROG, "count", argv[2], 1, 100000000));
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "sr") == 0) {
		bench_sr(bench_count(PROG, "count", argv[2], 1, 100000000));
		return 0;
	}
	usage();
	return 2;
}
