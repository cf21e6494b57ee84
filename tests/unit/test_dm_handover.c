/* dm/handover.c: the rules for rtcdm taking ports 0x70-0x71 over from QEMU
 * in companion mode. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "dm/handover.h"

void suite_dm_handover(void);

/* Xen gives the lowest free id and favours the highest: rtcdm's server,
 * created after QEMU's, must not have id 0 (nothing below it). */
static void test_order_check(void)
{
	static const struct {
		int id;
		int want;
		const char *why;
	} cases[] = {
		{-1, 0, ""}, /* simulated platform: no servers to order */
		{0, -1, "rtcdm's ioreq server got id 0: QEMU holds no server below it, so "
		        "QEMU's (if any) would answer ports 0x70-0x71; refusing to run the guest"},
		{1, 0, ""}, /* QEMU holds 0: rtcdm wins */
		{2, 0, ""},
		{7, 0, ""},
		{8, -1, "rtcdm's ioreq server has id 8, outside Xen's 0-7"},
		{65535, -1, "rtcdm's ioreq server has id 65535, outside Xen's 0-7"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[256] = "";

		CU_ASSERT_EQUAL(dm_handover_check_order(cases[i].id, why, sizeof(why)),
		                cases[i].want);
		CU_ASSERT_STRING_EQUAL(why, cases[i].why);
	}
}

void suite_dm_handover(void)
{
	CU_pSuite s = CU_add_suite("dm_handover (companion mode: taking 0x70-0x71 over)", NULL,
	                           NULL);

	CU_add_test(s, "rtcdm's ioreq server id must be above QEMU's", test_order_check);
}
