/*
 * A guest changing its clock in a loop: the running process rate-limits
 * the log lines, the xenstore writes and the RTC_CHANGE events on the
 * guest's clock (virtual under qtest, so the test steps it), and the latest
 * offset still reaches each of them.  (The rule itself is tested in
 * tests/unit/test_base_throttle.c; figures for a 100,000 change burst come
 * from bench_flood.)
 */
#include <CUnit/CUnit.h>

#include "tests/support/rel_util.h"
#include "toolstack/xenstore/store.h"
#include "toolstack/xenstore/store_dir.h"

void suite_rel_flood(void);

#define DOMID "12"
#define OFFSET_NODE "/local/domain/0/device-model/" DOMID "/rtc/timeoffset"
#define CHANGES 1000

/* Wait until the store holds `want` at path. */
static bool store_wait(struct store *st, const char *path, const char *want)
{
	for (int i = 0; i < SUPPORT_TIMEOUT_MS / 5; i++) {
		char *v = store_read(st, path);
		bool ok = v && strcmp(v, want) == 0;
		free(v);
		if (ok)
			return true;
		usleep(5000);
	}
	return false;
}

/* Send query-status on fd and read up to its reply: the RTC_CHANGE events
 * that came first (in order on the socket), and the last one's offset. */
static int events_before_reply(int fd, long long *last_offset)
{
	char line[4096];
	int n = 0;

	if (support_send_fd(fd, "{\"execute\":\"query-status\",\"id\":7}", -1) < 0)
		return -1;
	while (support_read_line(fd, line, sizeof(line), SUPPORT_TIMEOUT_MS)) {
		const char *off = strstr(line, "\"offset\":");
		if (strstr(line, "\"id\":7"))
			return n;
		if (strstr(line, "\"event\":\"RTC_CHANGE\"") && off) {
			n++;
			*last_offset = strtoll(off + 9, NULL, 10);
		}
	}
	return -1;
}

static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The offset in force, asked on a connection of its own. */
static long long offset_now(const char *qmp)
{
	char buf[512];
	const char *s;

	support_qmp_once(qmp, "{\"execute\":\"rtcdm-query-time-offset\",\"id\":1}", buf, sizeof(buf));
	s = strstr(buf, "\"seconds\":");
	return s ? strtoll(s + 10, NULL, 10) : -1;
}

/* 1000 guest clock changes at one instant of the virtual clock: the first
 * goes out at once everywhere, the rest wait for the clock; one clock step
 * of a second brings exactly one summary line, one event and the latest
 * offset in xenstore. */
static void test_clock_change_flood(void)
{
	char dir[64], xs[96], sock[96], qmp[96], cd[160], err[256], want[128];
	struct qtest q;
	long long ev_offset = 0;

	CU_ASSERT_EQUAL_FATAL(support_tmpdir(dir, sizeof(dir)), 0);
	snprintf(xs, sizeof(xs), "%s/xs", dir);
	snprintf(sock, sizeof(sock), "%s/qtest", dir);
	snprintf(qmp, sizeof(qmp), "%s/qmp", dir);
	snprintf(cd, sizeof(cd), "socket,id=qmp,path=%s,server=on,wait=off", qmp);
	struct store *tool = store_dir_open(xs, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tool);
	const char *const args[] = {"--domid", DOMID, "--sim-xenstore", xs, "-chardev", cd,
	                            "-mon", "chardev=qmp,mode=control", NULL};
	if (rel_dm_start(&q, sock, args) < 0) {
		CU_FAIL("start");
		qtest_quit(&q);
		store_close(tool);
		support_rmtree(dir);
		return;
	}
	CU_ASSERT_TRUE(store_wait(tool, "/local/domain/0/device-model/" DOMID "/state", "running"));
	int c = support_qmp_open(qmp);
	CU_ASSERT_FATAL(c >= 0);

	/* Each write a new seconds value: 1000 clock changes. */
	for (unsigned i = 0; i < CHANGES && !q.broken; i++) {
		unsigned v = (21 + i) % 60;
		qtest_outb(&q, 0x70, 0x00);
		qtest_outb(&q, 0x71, (uint8_t)((v / 10) << 4 | (v % 10)));
		if (i == 0) {
			CU_ASSERT_EQUAL(events_before_reply(c, &ev_offset), 1);
			CU_ASSERT_EQUAL(ev_offset, offset_now(qmp));
		}
		if (i % 64 == 0)
			support_stderr(&q.proc); /* keep its log pipe flowing */
	}
	CU_ASSERT_FALSE(q.broken);
	long long first = ev_offset, last = offset_now(qmp);
	CU_ASSERT_NOT_EQUAL(first, last);
	/* The clock has not moved: nothing more went out. */
	CU_ASSERT_EQUAL(events_before_reply(c, &ev_offset), 0);
	snprintf(want, sizeof(want), "%lld", first);
	CU_ASSERT_TRUE(store_wait(tool, OFFSET_NODE, want));
	CU_ASSERT_EQUAL(occurrences(support_stderr(&q.proc), "guest changed its clock"), 1);

	/* One second later: the rest, as one, with the latest offset. */
	qtest_clock_step(&q, 1000000000ull);
	CU_ASSERT_EQUAL(events_before_reply(c, &ev_offset), 1);
	CU_ASSERT_EQUAL(ev_offset, last);
	snprintf(want, sizeof(want), "%lld", last);
	CU_ASSERT_TRUE(store_wait(tool, OFFSET_NODE, want));
	snprintf(want, sizeof(want), "guest changed its clock %d more times: offset %lld s",
	         CHANGES - 1, last);
	CU_ASSERT_TRUE(support_stderr_wait(&q.proc, want, SUPPORT_TIMEOUT_MS));
	CU_ASSERT_EQUAL(occurrences(support_stderr(&q.proc), "guest changed its clock"), 2);
	/* Another second: nothing was held, nothing more. */
	qtest_clock_step(&q, 1000000000ull);
	CU_ASSERT_EQUAL(events_before_reply(c, &ev_offset), 0);

	close(c);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	CU_ASSERT_EQUAL(occurrences(support_stderr(&q.proc), "guest changed its clock"), 2);
	store_close(tool);
	support_rmtree(dir);
}

void suite_rel_flood(void)
{
	CU_pSuite s = CU_add_suite("rel_flood", NULL, NULL);
	CU_add_test(s, "a guest changing its clock 1000 times: log, xenstore and RTC_CHANGE "
	               "rate-limited on the guest clock, the latest offset delivered",
	            test_clock_change_flood);
}
