/*
 * A guest changing its clock in a loop: the running process rate-limits
 * the log lines, the xenstore writes and the RTC_CHANGE events, and the
 * latest offset still reaches each of them.  (The rule itself is tested on
 * a test clock in tests/unit/test_base_throttle.c; figures for a 100,000
 * change burst come from bench_flood.)
 */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <time.h>

#include "tests/support/rel_util.h"
#include "toolstack/xenstore/store.h"
#include "toolstack/xenstore/store_dir.h"

void suite_rel_flood(void);

#define DOMID "12"
#define OFFSET_NODE "/local/domain/0/device-model/" DOMID "/rtc/timeoffset"
#define CHANGES 1000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

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

/* Read RTC_CHANGE events until one carries `offset`; how many came, or -1. */
static int events_until(int fd, long long offset)
{
	char line[4096], want[64];
	int n = 0;

	snprintf(want, sizeof(want), "\"data\":{\"offset\":%lld}", offset);
	while (support_read_line(fd, line, sizeof(line), SUPPORT_TIMEOUT_MS)) {
		if (!strstr(line, "\"event\":\"RTC_CHANGE\""))
			continue;
		n++;
		if (strstr(line, want))
			return n;
	}
	return -1;
}

/* Sum of N over the log's "changed its clock N more times" lines. */
static unsigned long held_in_log(const char *log, unsigned *lines)
{
	unsigned long sum = 0;

	*lines = 0;
	for (const char *p = log; (p = strstr(p, "guest changed its clock ")) != NULL; p++) {
		char *end;
		unsigned long n = strtoul(p + strlen("guest changed its clock "), &end, 10);
		if (end != p + strlen("guest changed its clock ") && strncmp(end, " more times", 11) == 0) {
			sum += n;
			(*lines)++;
		}
	}
	return sum;
}

static void test_clock_change_flood(void)
{
	char dir[64], xs[96], sock[96], qmp[96], cd[160], err[256], buf[512], want[128];
	struct qtest q;

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

	/* 1000 writes of the seconds register, each a new value (the virtual
	 * clock stands still): 1000 clock changes. */
	uint64_t t0 = now_ms();
	for (unsigned i = 0; i < CHANGES && !q.broken; i++) {
		unsigned v = (21 + i) % 60;
		qtest_outb(&q, 0x70, 0x00);
		qtest_outb(&q, 0x71, (uint8_t)((v / 10) << 4 | (v % 10)));
		if (i % 64 == 0)
			support_stderr(&q.proc); /* keep its log pipe flowing */
	}
	CU_ASSERT_FALSE(q.broken);
	/* The offset in force, asked on a connection of its own. */
	support_qmp_once(qmp, "{\"execute\":\"rtcdm-query-time-offset\",\"id\":1}", buf,
	                 sizeof(buf));
	const char *s = strstr(buf, "\"seconds\":");
	long long offset = s ? strtoll(s + 10, NULL, 10) : 0;
	CU_ASSERT_PTR_NOT_NULL(s);

	/* The latest offset reaches xenstore, the log and the QMP client. */
	snprintf(want, sizeof(want), "%lld", offset);
	CU_ASSERT_TRUE(store_wait(tool, OFFSET_NODE, want));
	snprintf(want, sizeof(want), "more times: offset %lld s", offset);
	CU_ASSERT_TRUE(support_stderr_wait(&q.proc, want, SUPPORT_TIMEOUT_MS));
	int events = events_until(c, offset);
	uint64_t seconds = (now_ms() - t0) / 1000 + 1;

	/* Every change is counted in the log exactly once; lines and events
	 * come at most once a second (plus the first). */
	const char *log = support_stderr(&q.proc);
	unsigned summaries;
	unsigned long held = held_in_log(log, &summaries);
	size_t firsts = 0;
	for (const char *p = log; (p = strstr(p, "guest changed its clock by ")) != NULL; p++)
		firsts++;
	CU_ASSERT_EQUAL(firsts + held, CHANGES);
	CU_ASSERT(firsts >= 1 && firsts + summaries <= 1 + seconds + 1);
	CU_ASSERT(events >= 1 && (uint64_t)events <= 1 + seconds + 1);
	if (events > (int)seconds + 2 || firsts + held != CHANGES)
		fprintf(stderr, "\n  %d events, %zu + %lu changes logged in %" PRIu64 " s", events,
		        firsts, held, seconds);

	close(c);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	store_close(tool);
	support_rmtree(dir);
}

void suite_rel_flood(void)
{
	CU_pSuite s = CU_add_suite("rel_flood", NULL, NULL);
	CU_add_test(s, "a guest changing its clock 1000 times: log, xenstore and RTC_CHANGE "
	               "rate-limited, the latest offset delivered",
	            test_clock_change_flood);
}
