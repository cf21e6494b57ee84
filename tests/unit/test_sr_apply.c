/* Save format against a live RTC: save, restore, refusal leaves the RTC
 * untouched, time-offset authority. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "saverestore/sr.h"
#include "tests/support/rtc.h"

void suite_sr_apply(void);

/* A guest that set 2030-06-15 10:20:30 (BCD, 24 h), wrote NVRAM and left
 * index 0x41 selected with NMI masked. */
static void make_source(struct rtc_fake *a)
{
	rtc_fake_init(a, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_advance(a, 1500 * MS_NS);
	rtc_fake_set_fields(a, 0x02, 0x20, 0x30, 0x06, 0x15, 0x10, 0x20, 0x30);
	rtc_fake_advance(a, 250 * MS_NS);
	rtc_cmos_write(a->rtc, 0x40, 0x99);
	rtc_cmos_write(a->rtc, 0x7f, 0x5a);
	rtc_ioport_write(a->rtc, 0x70, 0x80 | 0x41);
}

static void same_snapshot(struct rtc *x, struct rtc *y)
{
	struct rtc_snapshot sx, sy;
	rtc_snapshot(x, &sx);
	rtc_snapshot(y, &sy);
	CU_ASSERT_EQUAL(memcmp(sx.cmos, sy.cmos, sizeof(sx.cmos)), 0);
	CU_ASSERT_EQUAL(sx.index, sy.index);
	CU_ASSERT_EQUAL(sx.nmi_masked, sy.nmi_masked);
	CU_ASSERT_EQUAL(sx.offset.seconds, sy.offset.seconds);
	CU_ASSERT_EQUAL(sx.offset.phase_ns, sy.offset.phase_ns);
	CU_ASSERT_EQUAL(sx.offset.set, sy.offset.set);
	CU_ASSERT_EQUAL(sx.irq_level, sy.irq_level);
	CU_ASSERT_EQUAL(sx.lost_ticks, sy.lost_ticks);
	CU_ASSERT_EQUAL(sx.period_elapsed_ns, sy.period_elapsed_ns);
}

static void test_save_restore(void)
{
	struct rtc_fake a, b;
	make_source(&a);
	uint8_t buf[512];
	size_t n = sr_save_rtc(a.rtc, NULL, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(n, 258);

	rtc_fake_init(&b, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	b.now = a.now;
	enum sr_offset_outcome o = SR_OFFSET_OLD_RECORD_ZERO;
	char err[SR_ERR_MAX] = "";
	CU_ASSERT_EQUAL_FATAL(sr_load_into(b.rtc, buf, n, &o, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(o, SR_OFFSET_APPLIED);
	same_snapshot(a.rtc, b.rtc);
	/* The guest reads its own date and NVRAM. */
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, RTC_YEAR), 0x30);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, RTC_MONTH), 0x06);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, RTC_DAY_OF_MONTH), 0x15);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, RTC_HOURS), 0x10);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, RTC_MINUTES), 0x20);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, RTC_SECONDS), 0x30);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, 0x40), 0x99);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, 0x7f), 0x5a);
	/* The saved offset is the guest's: 2030-06-15 10:20:30 minus the host time then. */
	struct rtc_offset off;
	rtc_get_offset(b.rtc, &off);
	int64_t host_s = RTC_FAKE_WALLCLOCK_NS / RTC_NS_PER_SEC + 1; /* 1.5 s after clock 0 */
	CU_ASSERT_EQUAL(off.seconds + host_s, rtc_fake_epoch(2030, 6, 15, 10, 20, 30));
	CU_ASSERT_EQUAL(off.set, false);
	/* Ten seconds later both clocks still agree. */
	rtc_fake_advance(&a, 10 * RTC_NS_PER_SEC);
	rtc_fake_advance(&b, 10 * RTC_NS_PER_SEC);
	same_snapshot(a.rtc, b.rtc);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, RTC_SECONDS), 0x40);
	rtc_fake_fini(&a);
	rtc_fake_fini(&b);
}

/* A refused image changes nothing in the running RTC. */
static void test_refused_changes_nothing(void)
{
	struct rtc_fake a, b;
	make_source(&a);
	uint8_t buf[512];
	size_t n = sr_save_rtc(a.rtc, NULL, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(n, 258);

	rtc_fake_init(&b, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	rtc_fake_advance(&b, 3 * RTC_NS_PER_SEC);
	rtc_cmos_write(b.rtc, 0x20, 0x11);
	rtc_set_offset(b.rtc, 777);
	struct rtc_snapshot before, after;
	rtc_snapshot(b.rtc, &before);
	struct rtc_fake counters = b;

	/* The last record (PORT) is invalid: everything before it was valid
	 * and staged, yet nothing may reach the RTC. */
	buf[242] = 0xc8;
	enum sr_offset_outcome o = SR_OFFSET_APPLIED;
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL(sr_load_into(b.rtc, buf, n, &o, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "record 6 (PORT, instance 0) at byte 234: index 200, expected "
	                            "0..127");
	CU_ASSERT_EQUAL(o, SR_OFFSET_APPLIED); /* not written */
	rtc_snapshot(b.rtc, &after);
	CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof(before)), 0);
	CU_ASSERT_EQUAL(b.irq_raises, counters.irq_raises);
	CU_ASSERT_EQUAL(b.irq_lowers, counters.irq_lowers);
	CU_ASSERT_EQUAL(b.offset_calls, counters.offset_calls);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, 0x20), 0x11);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, 0x40), 0x00);
	/* Truncated: same. */
	buf[242] = 0x41;
	CU_ASSERT_EQUAL(sr_load_into(b.rtc, buf, n - 1, &o, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "record 7 at byte 250: truncated descriptor (7 bytes left, "
	                            "need 8)");
	rtc_snapshot(b.rtc, &after);
	CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof(before)), 0);
	rtc_fake_fini(&a);
	rtc_fake_fini(&b);
}

static void test_authority_live(void)
{
	struct rtc_fake a, b;
	make_source(&a);
	struct rtc_offset saved;
	rtc_get_offset(a.rtc, &saved);
	uint8_t buf[512];
	size_t n = sr_save_rtc(a.rtc, NULL, buf, sizeof(buf));
	enum sr_offset_outcome o;
	char err[SR_ERR_MAX];
	struct rtc_offset off;

	/* The save format carries no authority: whatever offset the RTC ran
	 * with, even one the toolstack set, the image's own replaces it (the
	 * process ranks them: dm/authority.c). */
	rtc_fake_init(&b, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	b.now = a.now;
	rtc_set_offset(b.rtc, 3600);
	CU_ASSERT_EQUAL_FATAL(sr_load_into(b.rtc, buf, n, &o, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(o, SR_OFFSET_APPLIED);
	rtc_get_offset(b.rtc, &off);
	CU_ASSERT_EQUAL(off.seconds, saved.seconds);
	CU_ASSERT_EQUAL(off.set, false);
	CU_ASSERT_EQUAL(off.phase_ns, saved.phase_ns);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, 0x40), 0x99); /* the rest is restored */
	rtc_fake_fini(&b);

	/* An offset given explicitly is the one the RTC runs with. */
	struct sr_image given;
	struct rtc_offset decided = {3600, 5, true};
	CU_ASSERT_EQUAL_FATAL(sr_load(buf, n, &given, err, sizeof(err)), 0);
	rtc_fake_init(&b, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	b.now = a.now;
	sr_apply(b.rtc, &given, &decided);
	rtc_get_offset(b.rtc, &off);
	CU_ASSERT_EQUAL(off.seconds, 3600);
	CU_ASSERT_EQUAL(off.phase_ns, 5);
	CU_ASSERT_EQUAL(off.set, true);
	CU_ASSERT_EQUAL(rtc_cmos_read(b.rtc, 0x40), 0x99);
	rtc_fake_fini(&b);

	/* A saved set flag carries the authority into the next run. */
	struct sr_image img;
	CU_ASSERT_EQUAL_FATAL(sr_load(buf, n, &img, err, sizeof(err)), 0);
	img.offset.set = 1;
	n = sr_encode(&img, buf, sizeof(buf));
	rtc_fake_init(&b, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	b.now = a.now;
	CU_ASSERT_EQUAL_FATAL(sr_load_into(b.rtc, buf, n, &o, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(o, SR_OFFSET_APPLIED);
	rtc_get_offset(b.rtc, &off);
	CU_ASSERT_EQUAL(off.seconds, saved.seconds);
	CU_ASSERT_EQUAL(off.set, true);
	rtc_fake_fini(&b);

	/* Only Xen's record: its rtc_offset, whole seconds, not set. */
	img.present = 1u << SR_REC_RTC;
	img.rtc.rtc_offset = -7200;
	n = sr_encode(&img, buf, sizeof(buf));
	rtc_fake_init(&b, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	b.now = a.now;
	CU_ASSERT_EQUAL_FATAL(sr_load_into(b.rtc, buf, n, &o, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(o, SR_OFFSET_FROM_XEN_RECORD);
	rtc_get_offset(b.rtc, &off);
	CU_ASSERT_EQUAL(off.seconds, -7200);
	CU_ASSERT_EQUAL(off.phase_ns, 0);
	CU_ASSERT_EQUAL(off.set, false);
	rtc_fake_fini(&b);

	/* Xen's old 16-byte record: offset 0, as Xen loads it. */
	sr_put32(buf + 36, 16);
	memmove(buf + 56, buf + 64, 8);
	rtc_fake_init(&b, RTC_FAKE_WALLCLOCK_NS, RTC_LOST_TICKS_DISCARD);
	b.now = a.now;
	CU_ASSERT_EQUAL_FATAL(sr_load_into(b.rtc, buf, n - 8, &o, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(o, SR_OFFSET_OLD_RECORD_ZERO);
	rtc_get_offset(b.rtc, &off);
	CU_ASSERT_EQUAL(off.seconds, 0);
	CU_ASSERT_EQUAL(off.set, false);
	rtc_fake_fini(&b);
	rtc_fake_fini(&a);
}

/* HVM mode: Xen's own record is written verbatim next to ours. */
static void test_hvm_mode_save(void)
{
	struct rtc_fake a;
	make_source(&a);
	struct sr_xen_rtc x = {{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x26,
	                        0x02, 0x00, 0x80},
	                       0x0d, 0, 86400};
	uint8_t buf[512];
	size_t n = sr_save_rtc(a.rtc, &x, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(n, 258);
	CU_ASSERT_EQUAL(memcmp(buf + 40, x.cmos, 14), 0);
	CU_ASSERT_EQUAL(buf[54], 0x0d);
	CU_ASSERT_EQUAL(sr_get64(buf + 56), 86400);
	struct sr_image img;
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL_FATAL(sr_load(buf, n, &img, err, sizeof(err)), 0);
	struct rtc_offset own;
	rtc_get_offset(a.rtc, &own);
	CU_ASSERT_EQUAL(img.offset.seconds, own.seconds); /* rtcdm's own offset kept too */
	CU_ASSERT_EQUAL(img.port.index, 0x41);
	CU_ASSERT_EQUAL(img.port.nmi_masked, 1);
	rtc_fake_fini(&a);
}

void suite_sr_apply(void)
{
	CU_pSuite s = CU_add_suite("saverestore apply", NULL, NULL);
	CU_add_test(s, "save and restore a live RTC", test_save_restore);
	CU_add_test(s, "refused image changes nothing", test_refused_changes_nothing);
	CU_add_test(s, "offset authority on a live RTC", test_authority_live);
	CU_add_test(s, "HVM mode keeps Xen's record verbatim", test_hvm_mode_save);
}
