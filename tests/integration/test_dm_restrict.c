/*
 * -xen-domid-restrict and xenstore: Xen's restriction (xentoolcore) covers
 * only the handles open when it is made, and rtcdm opens the store after
 * it, so a restricted rtcdm closes the store once set-up has read the
 * domain's UUID: no state node, no published offset, the guest still
 * served.  The same run without the option writes both, so the checks can
 * tell the two apart.
 */
#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/support/support.h"
#include "toolstack/xenstore/store_dir.h"
#include "toolstack/xenstore/store.h"

void suite_dm_restrict(void);

#define DOMID "7"
#define UUID "5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#define DMP "/local/domain/0/device-model/" DOMID
/* 2023-11-14T22:13:20Z; the year register steps 23 -> 24 across 29 Feb. */
#define WALLCLOCK "1700000000"
#define YEAR_STEP "31622400"

struct run {
	char dir[64], xs[128];
	struct store *tool; /* the toolstack's view */
	char state[64], offset[64], vm_offset[64];
	char log[8192];
	unsigned nvram;
};

/* Start rtcdm on the sim platform with a directory store holding the
 * domain's vm node, step the guest's year by one, record what reached the
 * store and the log. */
static bool run_dm(struct run *r, bool restrict_opt)
{
	struct qtest q;
	char err[256];
	const char *args[8] = {"--domid", DOMID, "--sim-xenstore", r->xs};
	size_t n = 4;

	memset(r, 0, sizeof(*r));
	if (support_tmpdir(r->dir, sizeof(r->dir)) < 0)
		return false;
	snprintf(r->xs, sizeof(r->xs), "%s/xs", r->dir);
	args[3] = r->xs;
	r->tool = store_dir_open(r->xs, err, sizeof(err));
	if (!r->tool || store_write(r->tool, "/local/domain/" DOMID "/vm", "/vm/" UUID) != 0)
		return false;
	if (restrict_opt)
		args[n++] = "-xen-domid-restrict";
	args[n] = NULL;
	if (qtest_start(&q, WALLCLOCK, args) < 0)
		return false;
	/* NVRAM, then year +1 in BCD with SET held. */
	cmos_write(&q, 0x41, 0xa5);
	r->nvram = cmos_read(&q, 0x41);
	uint8_t b = cmos_read(&q, 0x0b);
	cmos_write(&q, 0x0b, (uint8_t)(b | 0x80));
	cmos_write(&q, 0x09, 0x24);
	cmos_write(&q, 0x0b, b);
	(void)cmos_read(&q, 0x09); /* a round trip: the change is handled */
	support_store_val(r->tool, DMP "/state", r->state, sizeof(r->state));
	support_store_val(r->tool, DMP "/rtc/timeoffset", r->offset, sizeof(r->offset));
	support_store_val(r->tool, "/vm/" UUID "/rtc/timeoffset", r->vm_offset,
	                  sizeof(r->vm_offset));
	snprintf(r->log, sizeof(r->log), "%s", support_stderr(&q.proc));
	int rc = qtest_quit(&q);
	CU_ASSERT_EQUAL(rc, 0);
	return true;
}

static void run_fini(struct run *r)
{
	if (r->tool)
		store_close(r->tool);
	support_rmtree(r->dir);
}

static void test_unrestricted_uses_store(void)
{
	struct run r;

	CU_ASSERT_TRUE_FATAL(run_dm(&r, false));
	CU_ASSERT_EQUAL(r.nvram, 0xa5);
	CU_ASSERT_STRING_EQUAL(r.state, "running");
	CU_ASSERT_STRING_EQUAL(r.offset, YEAR_STEP);
	CU_ASSERT_STRING_EQUAL(r.vm_offset, YEAR_STEP);
	CU_ASSERT_PTR_NULL(strstr(r.log, "xenstore closed"));
	run_fini(&r);
}

static void test_restricted_closes_store(void)
{
	struct run r;

	CU_ASSERT_TRUE_FATAL(run_dm(&r, true));
	CU_ASSERT_EQUAL(r.nvram, 0xa5);
	/* Set-up still read the UUID from the store... */
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(r.log, "domain UUID " UUID " (from xenstore /local/domain/" DOMID "/vm)\n"));
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(r.log, "-xen-domid-restrict: xenstore closed after set-up, QMP only\n"));
	/* ...and nothing was written after it. */
	CU_ASSERT_STRING_EQUAL(r.state, "<ENOENT>");
	CU_ASSERT_STRING_EQUAL(r.offset, "<ENOENT>");
	CU_ASSERT_STRING_EQUAL(r.vm_offset, "<ENOENT>");
	CU_ASSERT_PTR_NULL(strstr(r.log, "xenstore: state running"));
	run_fini(&r);
}

void suite_dm_restrict(void)
{
	CU_pSuite s = CU_add_suite("dm_restrict (-xen-domid-restrict and xenstore)", NULL, NULL);

	CU_add_test(s, "without -xen-domid-restrict: state and offset reach xenstore",
	            test_unrestricted_uses_store);
	CU_add_test(s, "-xen-domid-restrict: UUID read at set-up, then no xenstore",
	            test_restricted_closes_store);
}
