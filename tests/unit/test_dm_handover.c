/* dm/handover.c: the rules for rtcdm taking ports 0x70-0x71 over from QEMU
 * in companion mode. */
#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dm/handover.h"

/* A device state as QEMU lays it out: header, a device before the RTC, the
 * RTC's section with cmos_data first, the end marker. */
static size_t qemu_state(uint8_t *out, uint8_t reg_a, size_t cut)
{
	static const uint8_t head[] = {'Q', 'E', 'V', 'M', 0, 0, 0, 3,
	                               /* another device: its id string, then fields */
	                               0x04, 0, 0, 0, 1, 4, 'i', '8', '2', '5', 0, 0, 0, 0,
	                               0, 0, 0, 1, 0x04, 0x0b, 0x7e, 0, 0, 0, 1,
	                               /* the RTC */
	                               0x04, 0, 0, 0, 2, 11, 'm', 'c', '1', '4', '6', '8', '1',
	                               '8', 'r', 't', 'c', 0, 0, 0, 0, 0, 0, 0, 3};
	size_t n = sizeof(head);

	memcpy(out, head, n);
	for (unsigned i = 0; i < 128; i++)
		out[n + i] = (uint8_t)(i ^ 0x55);
	out[n + 0x0a] = reg_a;
	out[n + 0x34] = 0x00;
	out[n + 0x35] = 0x3f;
	n += 128;
	out[n++] = 0x32; /* cmos_index, and more fields */
	out[n++] = 0x7e;
	memset(out + n, 0, 4);
	n += 4;
	out[n++] = 0x00; /* QEMU_VM_EOF */
	return cut ? cut : n;
}

static void test_cmos_from_state(void)
{
	uint8_t st[512], cmos[128], want[128];
	char why[128] = "";
	size_t n = qemu_state(st, 0x26, 0);

	for (unsigned i = 0; i < 128; i++)
		want[i] = (uint8_t)(i ^ 0x55);
	want[0x0a] = 0x26;
	want[0x34] = 0x00;
	want[0x35] = 0x3f;
	CU_ASSERT_EQUAL(dm_handover_cmos_from_state(st, n, cmos, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(memcmp(cmos, want, 128), 0);
	/* cut inside cmos_data */
	n = qemu_state(st, 0x26, 8 + 23 + 1 + 4 + 1 + 11 + 8 + 100);
	CU_ASSERT_EQUAL(dm_handover_cmos_from_state(st, n, cmos, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "the mc146818rtc section is cut short");
	/* a divider that is not running: not QEMU's RTC state */
	n = qemu_state(st, 0x70, 0);
	CU_ASSERT_EQUAL(dm_handover_cmos_from_state(st, n, cmos, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "the mc146818rtc section's register A is 0x70, not a running "
	                            "32.768 kHz divider");
	/* no RTC section, not a device state */
	n = qemu_state(st, 0x26, 8 + 23);
	CU_ASSERT_EQUAL(dm_handover_cmos_from_state(st, n, cmos, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "no mc146818rtc section");
	CU_ASSERT_EQUAL(dm_handover_cmos_from_state((const uint8_t *)"QEV", 3, cmos, why, sizeof(why)),
	                -1);
	CU_ASSERT_STRING_EQUAL(why, "not a QEMU device state");
}

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

/* QEMU's configuration bytes against the kept NVRAM: QEMU's win where it
 * set them, the guest's come back elsewhere, the century stays rtcdm's
 * clock's (out's own byte, 0x11 here). */
static void test_merge_table(void)
{
	static const struct {
		unsigned index;
		bool qemu_sets;
		uint8_t want_kept;  /* with a kept NVRAM */
		uint8_t want_fresh; /* without one */
	} cases[] = {
		{0x0e, false, 0xbb, 0xaa}, /* diagnostic status: the guest's */
		{0x0f, false, 0xbb, 0xaa}, /* shutdown status: the guest's */
		{0x10, true, 0xaa, 0xaa},  /* floppy types */
		{0x11, false, 0xbb, 0xaa},
		{0x12, true, 0xaa, 0xaa},  /* disk types */
		{0x13, false, 0xbb, 0xaa},
		{0x14, true, 0xaa, 0xaa},  /* equipment */
		{0x15, true, 0xaa, 0xaa},  /* base memory */
		{0x18, true, 0xaa, 0xaa},  /* extended memory */
		{0x19, true, 0xaa, 0xaa},  /* extended disk type 0 */
		{0x1a, true, 0xaa, 0xaa},  /* extended disk type 1 */
		{0x1b, true, 0xaa, 0xaa},  /* disk 0 geometry */
		{0x2c, true, 0xaa, 0xaa},  /* disk 1 geometry, last byte */
		{0x2d, false, 0xbb, 0xaa},
		{0x2e, false, 0xbb, 0xaa}, /* checksum: QEMU leaves it */
		{0x2f, false, 0xbb, 0xaa},
		{0x30, true, 0xaa, 0xaa},  /* extended memory (again) */
		{0x31, true, 0xaa, 0xaa},
		{0x32, false, 0x11, 0x11}, /* century: the clock's, untouched */
		{0x33, false, 0xbb, 0xaa},
		{0x34, true, 0xaa, 0xaa},  /* memory above 16 MiB */
		{0x35, true, 0xaa, 0xaa},
		{0x36, false, 0xbb, 0xaa},
		{0x37, false, 0xbb, 0xaa},
		{0x38, true, 0xaa, 0xaa},  /* boot order 3, floppy check */
		{0x39, true, 0xaa, 0xaa},  /* disk translation */
		{0x3a, false, 0xbb, 0xaa},
		{0x3c, false, 0xbb, 0xaa},
		{0x3d, true, 0xaa, 0xaa},  /* boot order 1 and 2 */
		{0x3e, false, 0xbb, 0xaa},
		{0x40, false, 0xbb, 0xaa}, /* a guest's scratch byte */
		{0x5a, false, 0xbb, 0xaa},
		{0x5b, true, 0xaa, 0xaa},  /* memory above 4 GiB */
		{0x5c, true, 0xaa, 0xaa},
		{0x5d, true, 0xaa, 0xaa},
		{0x5e, false, 0xbb, 0xaa},
		{0x5f, true, 0xaa, 0xaa},  /* CPU count */
		{0x60, false, 0xbb, 0xaa},
		{0x7f, false, 0xbb, 0xaa},
	};
	uint8_t qemu[128], kept[128], out[128];
	unsigned n_sets = 0;

	memset(qemu, 0xaa, sizeof(qemu));
	memset(kept, 0xbb, sizeof(kept));
	for (unsigned i = 0; i < 128; i++)
		n_sets += dm_handover_qemu_sets(i);
	/* 0x10 0x12 0x14-0x2c 0x30 0x31 0x34 0x35 0x38 0x39 0x3d 0x5b-0x5d 0x5f */
	CU_ASSERT_EQUAL(n_sets, 2 + 25 + 2 + 2 + 3 + 3 + 1);
	memset(out, 0x11, sizeof(out));
	dm_handover_merge_nvram(out, qemu, kept);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(dm_handover_qemu_sets(cases[i].index), cases[i].qemu_sets);
		CU_ASSERT_EQUAL(out[cases[i].index], cases[i].want_kept);
	}
	CU_ASSERT_EQUAL(out[0], 0x11); /* registers 0-13 are not NVRAM */
	CU_ASSERT_EQUAL(out[13], 0x11);
	memset(out, 0x11, sizeof(out));
	dm_handover_merge_nvram(out, qemu, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(out[cases[i].index], cases[i].want_fresh);
	CU_ASSERT_EQUAL(out[13], 0x11);
}

/* QEMU 7.2's "i /b PORT": monitor_printf "port%c[0x%04x] = 0x%0*x\n", which
 * a QMP human-monitor-command returns with "\r\n". */
struct inb_case {
	const char *reply;
	unsigned port;
	int want;
};

static const struct inb_case inb_cases[] = {
	{"portb[0x0071] = 0x5a\r\n", 0x71, 0x5a},
	{"portb[0x0071] = 0x00\n", 0x71, 0x00},
	{"portb[0x0071] = 0xff", 0x71, 0xff},
	{"portb[0x0071] = 0xFF\r\n", 0x71, 0xff},
	{"portb[0x0070] = 0x5a\r\n", 0x71, -1},  /* another port */
	{"portw[0x0071] = 0x005a\r\n", 0x71, -1}, /* another width */
	{"portb[0x0071] = 0x5\r\n", 0x71, -1},   /* one digit */
	{"portb[0x0071] = 0x5a5\r\n", 0x71, -1}, /* three */
	{"portb[0x0071] = 0x+5\r\n", 0x71, -1},
	{"portb[0x0071] = 0x 5a\r\n", 0x71, -1},
	{"portb[0x0071] = 0x5a trailing\r\n", 0x71, -1},
	{"portb[0x0071] = 0x5a\r\r\n", 0x71, -1},
	{"unknown command: 'i'\r\n", 0x71, -1},
	{"", 0x71, -1},
};

static void test_parse_inb(void)
{
	for (size_t i = 0; i < sizeof(inb_cases) / sizeof(inb_cases[0]); i++)
		CU_ASSERT_EQUAL(dm_handover_parse_inb(inb_cases[i].reply, inb_cases[i].port),
		                inb_cases[i].want);
}

void suite_dm_handover(void)
{
	CU_pSuite s = CU_add_suite("dm_handover (companion mode: taking 0x70-0x71 over)", NULL,
	                           NULL);

	CU_add_test(s, "rtcdm's ioreq server id must be above QEMU's", test_order_check);
	CU_add_test(s, "QEMU's configuration bytes win, the guest's come back", test_merge_table);
	CU_add_test(s, "HMP 'i /b' replies", test_parse_inb);
	CU_add_test(s, "QEMU's CMOS from its device state", test_cmos_from_state);
}
