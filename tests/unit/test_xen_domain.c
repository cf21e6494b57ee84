/*
 * platform/xen/domain.c: whether a PVH guest may have written its own
 * shared_info page, the rule that decides whether rtcdm reads the
 * toolstack's offset from the PV wallclock there.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "config.h"

void suite_xen_domain(void);

#if RTCDM_HAVE_XEN
#include "platform/xen/domain.h"

static void test_guest_has_run(void)
{
	static const struct {
		bool paused;
		uint64_t cpu_time_ns;
		const char *why; /* NULL: never ran, the page is Xen's alone */
	} rows[] = {
		{ true, 0, NULL },                         /* created paused, never unpaused */
		{ true, 1, "its vCPUs have run" },         /* unpaused once, paused again */
		{ true, 5000000000ull, "its vCPUs have run" },
		{ false, 0, "it is not paused" },          /* unpaused, not scheduled yet */
		{ false, 42, "it is not paused" },         /* running */
	};

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct dm_xen_domain d;
		const char *why;

		memset(&d, 0, sizeof(d));
		d.domid = 7;
		d.hvm = true;
		d.paused = rows[i].paused;
		d.cpu_time_ns = rows[i].cpu_time_ns;
		why = dm_xen_guest_has_run(&d);
		if (!rows[i].why) {
			CU_ASSERT_PTR_NULL(why);
		} else {
			CU_ASSERT_PTR_NOT_NULL_FATAL(why);
			CU_ASSERT_STRING_EQUAL(why, rows[i].why);
		}
	}
}

void suite_xen_domain(void)
{
	CU_pSuite s = CU_add_suite("xen_domain (domain facts rtcdm decides on)", NULL, NULL);

	CU_add_test(s, "the guest never ran only while paused with no vCPU time",
	            test_guest_has_run);
}
#else
void suite_xen_domain(void)
{
}
#endif
