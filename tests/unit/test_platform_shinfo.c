/* platform/shinfo.c: reading the PV wallclock from a shared_info page laid
 * out byte by byte as Xen's native x86_64 struct shared_info (wc_version
 * 0xc00, wc_sec 0xc04, wc_nsec 0xc08, wc_sec_hi 0xc0c), with the seqlock
 * rule.  The one reader of the Xen platform, the simulator and the tests. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "platform/shinfo.h"

void suite_platform_shinfo(void);

static void put32(uint8_t *page, unsigned off, uint32_t v)
{
	page[off] = (uint8_t)v;
	page[off + 1] = (uint8_t)(v >> 8);
	page[off + 2] = (uint8_t)(v >> 16);
	page[off + 3] = (uint8_t)(v >> 24);
}

static void test_native_layout(void)
{
	static uint8_t page[4096];
	struct dm_shinfo_wallclock wc;

	memset(page, 0xee, sizeof(page));
	put32(page, 0xc00, 6);          /* even: consistent */
	put32(page, 0xc04, 0x6b0a1f25); /* 2026-11-22T... low word */
	put32(page, 0xc08, 123456789);
	put32(page, 0xc0c, 0);
	CU_ASSERT_EQUAL_FATAL(dm_shinfo_read_wallclock(page, &wc), 0);
	CU_ASSERT_EQUAL(wc.version, 6);
	CU_ASSERT_EQUAL(wc.sec, INT64_C(0x6b0a1f25));
	CU_ASSERT_EQUAL(wc.nsec, 123456789);

	/* wc_sec_hi carries bits 32.. (after 2106). */
	put32(page, 0xc0c, 1);
	CU_ASSERT_EQUAL_FATAL(dm_shinfo_read_wallclock(page, &wc), 0);
	CU_ASSERT_EQUAL(wc.sec, INT64_C(0x16b0a1f25));

	/* Version 0: a page Xen never wrote reads as such. */
	memset(page, 0, sizeof(page));
	CU_ASSERT_EQUAL_FATAL(dm_shinfo_read_wallclock(page, &wc), 0);
	CU_ASSERT_EQUAL(wc.version, 0);
	CU_ASSERT_EQUAL(wc.sec, 0);
}

static void test_update_in_progress(void)
{
	static uint8_t page[4096];
	struct dm_shinfo_wallclock wc = {77, 77, 77};

	/* An odd version is an update in progress: never taken; a writer
	 * that never finishes makes the read fail and leaves out alone. */
	memset(page, 0, sizeof(page));
	put32(page, 0xc00, 7);
	put32(page, 0xc04, 1000);
	CU_ASSERT_EQUAL(dm_shinfo_read_wallclock(page, &wc), -1);
	CU_ASSERT_EQUAL(wc.version, 77);
	CU_ASSERT_EQUAL(wc.sec, 77);
	CU_ASSERT_EQUAL(wc.nsec, 77);
}

void suite_platform_shinfo(void)
{
	CU_pSuite s = CU_add_suite("platform_shinfo (PV wallclock in shared_info, native layout)",
	                           NULL, NULL);
	CU_add_test(s, "native x86_64 offsets, wc_sec_hi, never written", test_native_layout);
	CU_add_test(s, "odd version: update in progress, refused", test_update_in_progress);
}
