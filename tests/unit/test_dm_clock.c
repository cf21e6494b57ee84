/* base/clock.c (virtual clock warp) and platform/sim/hv.c (PV wallclock). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "platform/sim/hv.h"
#include "tests/support/support.h"

void suite_dm_clock(void);

struct rec {
	struct dm_clock *c;
	uint64_t seen[16];
	unsigned n;
	uint64_t period;
	uint64_t rearm_same; /* re-arm at the same time this many times */
};

static void expired(void *opaque)
{
	struct rec *r = opaque;
	uint64_t now = dm_clock_now(r->c);

	if (r->n < 16)
		r->seen[r->n] = now;
	r->n++;
	if (r->rearm_same) {
		r->rearm_same--;
		dm_clock_arm(r->c, now);
	} else if (r->period) {
		dm_clock_arm(r->c, now + r->period);
	}
}

static void test_warp_fires_in_order(void)
{
	struct dm_clock c;
	struct dm_log log;
	struct rec r = {.c = &c, .period = 300};

	dm_log_init(&log, -1);
	dm_clock_init_virtual(&c, &log);
	dm_clock_set_expired_cb(&c, expired, &r);
	CU_ASSERT_EQUAL(dm_clock_now(&c), 0);
	CU_ASSERT_EQUAL(dm_clock_warp(&c, 50), 0);
	CU_ASSERT_EQUAL(r.n, 0);
	dm_clock_arm(&c, 100);
	CU_ASSERT_EQUAL(dm_clock_warp(&c, 99), 0);
	CU_ASSERT_EQUAL(r.n, 0);
	CU_ASSERT_EQUAL(dm_clock_warp(&c, 1000), 0);
	CU_ASSERT_EQUAL(r.n, 4);
	CU_ASSERT_EQUAL(r.seen[0], 100);
	CU_ASSERT_EQUAL(r.seen[1], 400);
	CU_ASSERT_EQUAL(r.seen[2], 700);
	CU_ASSERT_EQUAL(r.seen[3], 1000);
	CU_ASSERT_EQUAL(dm_clock_now(&c), 1000);
	CU_ASSERT_EQUAL(dm_clock_deadline(&c), 1300);
	CU_ASSERT_EQUAL(dm_clock_warp(&c, 999), -EINVAL);
	CU_ASSERT_EQUAL(dm_clock_now(&c), 1000);
	dm_clock_arm(&c, RTC_NO_DEADLINE);
	CU_ASSERT_EQUAL(dm_clock_warp(&c, 5000), 0);
	CU_ASSERT_EQUAL(r.n, 4);
	dm_clock_fini(&c);
}

static void test_warp_stuck_timer(void)
{
	struct dm_clock c;
	struct dm_log log;
	struct rec r = {.c = &c, .rearm_same = 5000};

	dm_log_init(&log, -1);
	dm_clock_init_virtual(&c, &log);
	dm_clock_set_expired_cb(&c, expired, &r);
	dm_clock_arm(&c, 10);
	CU_ASSERT_EQUAL(dm_clock_warp(&c, 20), -ELOOP);
	CU_ASSERT_EQUAL(dm_clock_now(&c), 10);
	CU_ASSERT_EQUAL(r.n, 1000);
	dm_clock_fini(&c);
}

static void test_real_clock_timer(void)
{
	struct dm_loop loop;
	struct dm_clock c;
	struct dm_log log;
	struct rec r = {.c = &c};
	int rounds = 0;

	dm_log_init(&log, -1);
	CU_ASSERT_EQUAL_FATAL(dm_loop_init(&loop, &log), 0);
	CU_ASSERT_EQUAL_FATAL(dm_clock_init_real(&c, &loop, &log), 0);
	dm_clock_set_expired_cb(&c, expired, &r);
	dm_clock_arm(&c, dm_clock_now(&c) + 1000000); /* 1 ms */
	while (r.n == 0 && rounds++ < 100)
		dm_loop_once(&loop, SUPPORT_TIMEOUT_MS);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_TRUE(r.seen[0] >= 1000000);
	CU_ASSERT_EQUAL(dm_clock_deadline(&c), RTC_NO_DEADLINE);
	/* Disarmed: nothing fires. */
	dm_clock_arm(&c, dm_clock_now(&c) + 1000000);
	dm_clock_arm(&c, RTC_NO_DEADLINE);
	CU_ASSERT_EQUAL(dm_loop_once(&loop, 20), 0);
	CU_ASSERT_EQUAL(r.n, 1);
	dm_clock_fini(&c);
	dm_loop_fini(&loop);
}

static void test_sim_hv_wallclock(void)
{
	struct dm_sim_hv hv;
	char err[256], dir[64], path[128];
	struct dm_shinfo_wallclock wc, mem;

	CU_ASSERT_EQUAL_FATAL(support_tmpdir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/si", dir);
	CU_ASSERT_EQUAL_FATAL(dm_sim_hv_init(&hv, 1700000000123456789LL, path, err, sizeof(err)), 0);
	CU_ASSERT_FALSE(hv.offset_set);
	CU_ASSERT_EQUAL(shinfo_read(path, &wc), 0);
	CU_ASSERT_EQUAL(wc.version, 2);
	CU_ASSERT_EQUAL(wc.sec, 1700000000);
	CU_ASSERT_EQUAL(wc.nsec, 123456789);
	/* Guest change in the hypervisor: delta, set unchanged. */
	dm_sim_hv_adjust_offset(&hv, -7200);
	CU_ASSERT_FALSE(hv.offset_set);
	CU_ASSERT_EQUAL(shinfo_read(path, &wc), 0);
	CU_ASSERT_EQUAL(wc.version, 4);
	CU_ASSERT_EQUAL(wc.sec, 1700000000 - 7200);
	/* settimeoffset: replaced, set. */
	dm_sim_hv_settimeoffset(&hv, 3000000000LL); /* past 2^32 - 1: wc_sec_hi used */
	CU_ASSERT_TRUE(hv.offset_set);
	CU_ASSERT_EQUAL(hv.offset_seconds, 3000000000LL);
	CU_ASSERT_EQUAL(shinfo_read(path, &wc), 0);
	CU_ASSERT_EQUAL(wc.version, 6);
	CU_ASSERT_EQUAL(wc.sec, 4700000000LL);
	CU_ASSERT_EQUAL_FATAL(dm_shinfo_read_wallclock(hv.shinfo, &mem), 0);
	CU_ASSERT_EQUAL(mem.version, 6);
	CU_ASSERT_EQUAL(mem.sec, 4700000000LL);
	CU_ASSERT_EQUAL(mem.nsec, 123456789);
	/* Raw layout: wc_sec low 32 bits @0xC04, high @0xC0C. */
	CU_ASSERT_EQUAL(*(uint32_t *)(void *)(hv.shinfo + 0xC04), (uint32_t)4700000000ull);
	CU_ASSERT_EQUAL(*(uint32_t *)(void *)(hv.shinfo + 0xC0C), 1);
	dm_sim_hv_adjust_offset(&hv, 0);
	CU_ASSERT_TRUE(hv.offset_set); /* never cleared */
	dm_sim_hv_fini(&hv);
	support_rmtree(dir);
}

static void test_sim_hv_errors(void)
{
	struct dm_sim_hv hv;
	char err[256];

	CU_ASSERT_EQUAL(dm_sim_hv_init(&hv, 0, "/nonexistent/dir/si", err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "cannot create shared_info file '/nonexistent/dir/si': No such "
	                            "file or directory");
	/* Private page, host wallclock before the epoch's second boundary. */
	CU_ASSERT_EQUAL_FATAL(dm_sim_hv_init(&hv, -1500000000LL, NULL, err, sizeof(err)), 0);
	{
		struct dm_shinfo_wallclock wc;

		CU_ASSERT_EQUAL_FATAL(dm_shinfo_read_wallclock(hv.shinfo, &wc), 0);
		CU_ASSERT_EQUAL(wc.sec, -2);
		CU_ASSERT_EQUAL(wc.nsec, 500000000);
	}
	dm_sim_hv_fini(&hv);
}

void suite_dm_clock(void)
{
	CU_pSuite s = CU_add_suite("dm_clock (clocks and simulated hypervisor)", NULL, NULL);

	CU_add_test(s, "virtual warp fires each deadline at its time", test_warp_fires_in_order);
	CU_add_test(s, "virtual warp: a stuck timer is stopped", test_warp_stuck_timer);
	CU_add_test(s, "real clock: timerfd deadline", test_real_clock_timer);
	CU_add_test(s, "sim hypervisor: PV wallclock protocol", test_sim_hv_wallclock);
	CU_add_test(s, "sim hypervisor: errors, negative wallclock", test_sim_hv_errors);
}
