/* The offset rule (dm/authority.c) as tables: every combination of the
 * device's sources (toolstack option, image with or without the set flag,
 * an old image, battery, -rtc base), each of them against every state of
 * the hypervisor at start-up (Xen HVM and PVH), a live load against the
 * running offset, and the check before a save. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "dm/authority.h"

void suite_dm_authority(void);

#define PH_I 250000000u /* the image's phase */
#define PH_S 500000000u /* the toolstack-set image's phase */
#define PH_B 750000000u /* the battery's phase */

static void image(struct sr_image *img, int64_t seconds, uint32_t phase, bool set)
{
	sr_image_init(img);
	img->present = (1u << SR_REC_RTC) | (1u << SR_REC_OFFSET);
	img->where[SR_REC_RTC].length = SR_RTC_LEN;
	img->rtc.rtc_offset = seconds;
	img->offset.seconds = seconds;
	img->offset.phase_ns = phase;
	img->offset.set = set;
}

static void old_image(struct sr_image *img)
{
	sr_image_init(img);
	img->present = 1u << SR_REC_RTC;
	img->where[SR_REC_RTC].length = SR_RTC_LEN_OLD;
	img->rtc.rtc_offset = 1234; /* beyond the 16 bytes: never read */
}

struct fixtures {
	struct sr_image img, img_set, old, bat;
};

static void fixtures(struct fixtures *f)
{
	image(&f->img, -7200, PH_I, false);
	image(&f->img_set, 86400, PH_S, true);
	old_image(&f->old);
	image(&f->bat, 600, PH_B, true); /* a battery's set flag carries nothing */
}

enum { T = 1, I = 2, S = 4, O = 8, B = 16, R = 32 };

static void sources(const struct fixtures *f, unsigned src, struct dm_offset_inputs *in)
{
	in->toolstack = src & T;
	in->toolstack_seconds = 42;
	in->image = src & I ? &f->img : src & S ? &f->img_set : src & O ? &f->old : NULL;
	in->battery = src & B ? &f->bat : NULL;
	in->base_seconds = src & R ? 3600 : 0;
}

#define KEPT "offset 42 s from the toolstack (offset set by the toolstack kept, saved seconds ignored)"
#define FROM_I "offset -7200 s from the image (saved offset applied)"
#define FROM_S                                                                                  \
	"offset 86400 s from the image, set by the toolstack before the save (saved offset applied)"
#define FROM_O "offset 0 s from the image (old 16-byte RTC record without offset: offset 0)"
#define FROM_B "offset 600 s from the battery-backed CMOS"

/* Start-up with a hypervisor that keeps no offset (simulated platform): the
 * device's sources alone, ranked toolstack > image > battery > base; the
 * hypervisor is told of every change. */
static void test_device_sources(void)
{
	struct fixtures f;
	fixtures(&f);
	static const struct {
		unsigned src;
		enum dm_offset_origin origin;
		int64_t seconds;
		uint32_t phase;
		bool set;
		const char *why;
	} cases[] = {
		{0, DM_ORIGIN_BASE, 0, 0, false, "offset 0 s (nothing saved: UTC)"},
		{R, DM_ORIGIN_BASE, 3600, 0, false, "offset 3600 s (-rtc base)"},
		{B, DM_ORIGIN_BATTERY, 600, PH_B, false, FROM_B},
		{B | R, DM_ORIGIN_BATTERY, 600, PH_B, false, FROM_B},
		{T, DM_ORIGIN_TOOLSTACK, 42, 0, true, "offset 42 s from the toolstack"},
		{T | R, DM_ORIGIN_TOOLSTACK, 42, 0, true, "offset 42 s from the toolstack"},
		{T | B, DM_ORIGIN_TOOLSTACK, 42, PH_B, true,
		 "offset 42 s from the toolstack (battery offset ignored)"},
		{T | B | R, DM_ORIGIN_TOOLSTACK, 42, PH_B, true,
		 "offset 42 s from the toolstack (battery offset ignored)"},
		{I, DM_ORIGIN_IMAGE, -7200, PH_I, false, FROM_I},
		{I | R, DM_ORIGIN_IMAGE, -7200, PH_I, false, FROM_I},
		{I | B, DM_ORIGIN_IMAGE, -7200, PH_I, false, FROM_I},
		{I | B | R, DM_ORIGIN_IMAGE, -7200, PH_I, false, FROM_I},
		{T | I, DM_ORIGIN_TOOLSTACK, 42, PH_I, true, KEPT},
		{T | I | R, DM_ORIGIN_TOOLSTACK, 42, PH_I, true, KEPT},
		{T | I | B, DM_ORIGIN_TOOLSTACK, 42, PH_I, true, KEPT},
		{T | I | B | R, DM_ORIGIN_TOOLSTACK, 42, PH_I, true, KEPT},
		{S, DM_ORIGIN_TOOLSTACK, 86400, PH_S, true, FROM_S},
		{S | R, DM_ORIGIN_TOOLSTACK, 86400, PH_S, true, FROM_S},
		{S | B, DM_ORIGIN_TOOLSTACK, 86400, PH_S, true, FROM_S},
		{S | B | R, DM_ORIGIN_TOOLSTACK, 86400, PH_S, true, FROM_S},
		{T | S, DM_ORIGIN_TOOLSTACK, 42, PH_S, true, KEPT},
		{T | S | R, DM_ORIGIN_TOOLSTACK, 42, PH_S, true, KEPT},
		{T | S | B, DM_ORIGIN_TOOLSTACK, 42, PH_S, true, KEPT},
		{T | S | B | R, DM_ORIGIN_TOOLSTACK, 42, PH_S, true, KEPT},
		{O, DM_ORIGIN_IMAGE, 0, 0, false, FROM_O},
		{O | R, DM_ORIGIN_IMAGE, 0, 0, false, FROM_O},
		{O | B, DM_ORIGIN_IMAGE, 0, 0, false, FROM_O},
		{O | B | R, DM_ORIGIN_IMAGE, 0, 0, false, FROM_O},
		{T | O, DM_ORIGIN_TOOLSTACK, 42, 0, true, KEPT},
		{T | O | R, DM_ORIGIN_TOOLSTACK, 42, 0, true, KEPT},
		{T | O | B, DM_ORIGIN_TOOLSTACK, 42, 0, true, KEPT},
		{T | O | B | R, DM_ORIGIN_TOOLSTACK, 42, 0, true, KEPT},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dm_offset_inputs in = {.moment = DM_DECIDE_AT_START};
		struct dm_offset_decision d;
		bool changed = cases[i].seconds || cases[i].phase || cases[i].set;

		sources(&f, cases[i].src, &in);
		dm_offset_decide(&in, &d);
		CU_ASSERT_EQUAL(d.origin, cases[i].origin);
		CU_ASSERT_EQUAL(d.offset.seconds, cases[i].seconds);
		CU_ASSERT_EQUAL(d.offset.phase_ns, cases[i].phase);
		CU_ASSERT_EQUAL(d.offset.set, cases[i].set);
		CU_ASSERT_EQUAL(d.changed, changed);
		CU_ASSERT_EQUAL(d.tell_hypervisor, changed);
		CU_ASSERT_STRING_EQUAL(d.why, cases[i].why);
	}
}

/* Start-up on Xen: each state of the hypervisor against four answers of
 * the device's sources (nothing, the battery, the toolstack option, an image
 * whose offset the toolstack had set). */
static void test_hypervisor_at_start(void)
{
	struct fixtures f;
	fixtures(&f);
	enum hv { HVM_UNKNOWN, HVM_FRESH_0, HVM_FRESH_TS, HVM_RESTORED, PVH_UNKNOWN, PVH_0, PVH_TS };
	static const struct plat_hv_offset hvs[] = {
		[HVM_UNKNOWN] = {PLAT_HV_XEN_HVM, false, 0, false, false},
		[HVM_FRESH_0] = {PLAT_HV_XEN_HVM, true, 0, false, false},
		[HVM_FRESH_TS] = {PLAT_HV_XEN_HVM, true, 500, true, false},
		[HVM_RESTORED] = {PLAT_HV_XEN_HVM, true, 900, false, true},
		[PVH_UNKNOWN] = {PLAT_HV_XEN_PVH, false, 0, false, false},
		[PVH_0] = {PLAT_HV_XEN_PVH, true, 0, false, false},
		[PVH_TS] = {PLAT_HV_XEN_PVH, true, 500, true, false},
	};
#define HV_TS_HVM "given to Xen by the toolstack before the domain ran"
#define HV_TS_PVH "given to Xen by the toolstack before the guest ran"
#define HV_REST "Xen's RTC record of the restored domain"
	static const struct {
		enum hv hv;
		unsigned src;
		enum dm_offset_origin origin;
		int64_t seconds;
		uint32_t phase;
		bool set;
		bool tell;
		const char *why;
	} cases[] = {
		{HVM_UNKNOWN, 0, DM_ORIGIN_BASE, 0, 0, false, false, "offset 0 s (nothing saved: UTC)"},
		{HVM_UNKNOWN, B, DM_ORIGIN_BATTERY, 600, PH_B, false, true, FROM_B},
		{HVM_UNKNOWN, T, DM_ORIGIN_TOOLSTACK, 42, 0, true, true, "offset 42 s from the toolstack"},
		{HVM_UNKNOWN, S, DM_ORIGIN_TOOLSTACK, 86400, PH_S, true, true, FROM_S},
		{HVM_FRESH_0, 0, DM_ORIGIN_BASE, 0, 0, false, false, "offset 0 s (nothing saved: UTC)"},
		{HVM_FRESH_0, B, DM_ORIGIN_BATTERY, 600, PH_B, false, true, FROM_B},
		{HVM_FRESH_0, T, DM_ORIGIN_TOOLSTACK, 42, 0, true, true, "offset 42 s from the toolstack"},
		{HVM_FRESH_0, S, DM_ORIGIN_TOOLSTACK, 86400, PH_S, true, true, FROM_S},
		{HVM_FRESH_TS, 0, DM_ORIGIN_TOOLSTACK, 500, 0, true, false,
		 "offset 500 s from the hypervisor (" HV_TS_HVM "), not the device's 0 s"},
		{HVM_FRESH_TS, B, DM_ORIGIN_TOOLSTACK, 500, PH_B, true, false,
		 "offset 500 s from the hypervisor (" HV_TS_HVM "), not the device's 600 s"},
		{HVM_FRESH_TS, T, DM_ORIGIN_TOOLSTACK, 500, 0, true, false,
		 "offset 500 s from the hypervisor (" HV_TS_HVM "), not the device's 42 s"},
		{HVM_FRESH_TS, S, DM_ORIGIN_TOOLSTACK, 500, PH_S, true, false,
		 "offset 500 s from the hypervisor (" HV_TS_HVM "), not the device's 86400 s"},
		{HVM_RESTORED, 0, DM_ORIGIN_HYPERVISOR, 900, 0, false, false,
		 "offset 900 s from the hypervisor (" HV_REST "), not the device's 0 s"},
		{HVM_RESTORED, B, DM_ORIGIN_HYPERVISOR, 900, PH_B, false, false,
		 "offset 900 s from the hypervisor (" HV_REST "), not the device's 600 s"},
		{HVM_RESTORED, T, DM_ORIGIN_HYPERVISOR, 900, 0, true, false,
		 "offset 900 s from the hypervisor (" HV_REST "), not the device's 42 s"},
		{HVM_RESTORED, S, DM_ORIGIN_HYPERVISOR, 900, PH_S, true, false,
		 "offset 900 s from the hypervisor (" HV_REST "), not the device's 86400 s"},
		{PVH_UNKNOWN, 0, DM_ORIGIN_BASE, 0, 0, false, false, "offset 0 s (nothing saved: UTC)"},
		{PVH_UNKNOWN, B, DM_ORIGIN_BATTERY, 600, PH_B, false, true, FROM_B},
		{PVH_UNKNOWN, T, DM_ORIGIN_TOOLSTACK, 42, 0, true, true, "offset 42 s from the toolstack"},
		{PVH_UNKNOWN, S, DM_ORIGIN_TOOLSTACK, 86400, PH_S, true, true, FROM_S},
		{PVH_0, 0, DM_ORIGIN_BASE, 0, 0, false, false, "offset 0 s (nothing saved: UTC)"},
		{PVH_0, B, DM_ORIGIN_BATTERY, 600, PH_B, false, true, FROM_B},
		{PVH_0, T, DM_ORIGIN_TOOLSTACK, 42, 0, true, true, "offset 42 s from the toolstack"},
		{PVH_0, S, DM_ORIGIN_TOOLSTACK, 86400, PH_S, true, true, FROM_S},
		{PVH_TS, 0, DM_ORIGIN_TOOLSTACK, 500, 0, true, false,
		 "offset 500 s from the hypervisor (" HV_TS_PVH "), not the device's 0 s"},
		{PVH_TS, B, DM_ORIGIN_TOOLSTACK, 500, PH_B, true, false,
		 "offset 500 s from the hypervisor (" HV_TS_PVH "), not the device's 600 s"},
		/* An offset the toolstack set through rtcdm is Xen's to follow. */
		{PVH_TS, T, DM_ORIGIN_TOOLSTACK, 42, 0, true, true, "offset 42 s from the toolstack"},
		{PVH_TS, S, DM_ORIGIN_TOOLSTACK, 86400, PH_S, true, true, FROM_S},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dm_offset_inputs in = {.moment = DM_DECIDE_AT_START};
		struct dm_offset_decision d;

		sources(&f, cases[i].src, &in);
		in.hv = hvs[cases[i].hv];
		dm_offset_decide(&in, &d);
		CU_ASSERT_EQUAL(d.origin, cases[i].origin);
		CU_ASSERT_EQUAL(d.offset.seconds, cases[i].seconds);
		CU_ASSERT_EQUAL(d.offset.phase_ns, cases[i].phase);
		CU_ASSERT_EQUAL(d.offset.set, cases[i].set);
		CU_ASSERT_EQUAL(d.tell_hypervisor, cases[i].tell);
		CU_ASSERT_STRING_EQUAL(d.why, cases[i].why);
	}

	/* Xen restored the offset the image holds: the image stays the reason. */
	struct dm_offset_inputs in = {.moment = DM_DECIDE_AT_START, .image = &f.img};
	struct dm_offset_decision d;
	in.hv = (struct plat_hv_offset){PLAT_HV_XEN_HVM, true, -7200, false, true};
	dm_offset_decide(&in, &d);
	CU_ASSERT_EQUAL(d.origin, DM_ORIGIN_IMAGE);
	CU_ASSERT_EQUAL(d.offset.seconds, -7200);
	CU_ASSERT_EQUAL(d.tell_hypervisor, false);
	CU_ASSERT_STRING_EQUAL(d.why, FROM_I);
}

/* A device state loaded into the running process: the running offset's set
 * flag is the toolstack's authority; the hypervisor is told of a change. */
static void test_live_load(void)
{
	struct fixtures f;
	fixtures(&f);
	static const struct {
		struct rtc_offset running;
		unsigned src;
		enum dm_offset_origin origin;
		struct rtc_offset want;
		bool changed;
		const char *why;
	} cases[] = {
		{{3600, 7, true}, I, DM_ORIGIN_TOOLSTACK, {3600, PH_I, true}, true,
		 "offset 3600 s from the toolstack (offset set by the toolstack kept, saved seconds "
		 "ignored)"},
		{{99, 5, false}, I, DM_ORIGIN_IMAGE, {-7200, PH_I, false}, true, FROM_I},
		{{99, 5, false}, S, DM_ORIGIN_TOOLSTACK, {86400, PH_S, true}, true, FROM_S},
		{{99, 5, false}, O, DM_ORIGIN_IMAGE, {0, 0, false}, true, FROM_O},
		{{-7200, PH_I, false}, I, DM_ORIGIN_IMAGE, {-7200, PH_I, false}, false, FROM_I},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dm_offset_inputs in = {.moment = DM_DECIDE_AT_LOAD};
		struct dm_offset_decision d;

		sources(&f, cases[i].src, &in);
		in.toolstack = false; /* an option counts at start-up only */
		in.running = cases[i].running;
		/* Xen's state is not an input of a live load. */
		in.hv = (struct plat_hv_offset){PLAT_HV_XEN_HVM, true, 900, true, true};
		dm_offset_decide(&in, &d);
		CU_ASSERT_EQUAL(d.origin, cases[i].origin);
		CU_ASSERT_EQUAL(d.offset.seconds, cases[i].want.seconds);
		CU_ASSERT_EQUAL(d.offset.phase_ns, cases[i].want.phase_ns);
		CU_ASSERT_EQUAL(d.offset.set, cases[i].want.set);
		CU_ASSERT_EQUAL(d.changed, cases[i].changed);
		CU_ASSERT_EQUAL(d.tell_hypervisor, cases[i].changed);
		CU_ASSERT_STRING_EQUAL(d.why, cases[i].why);
	}
}

/* Before a save on HVM, Xen's RTC record is the truth: a different offset
 * follows it, phase and set kept, Xen not told (it already knows). */
static void test_before_save(void)
{
	static const struct {
		struct plat_hv_offset hv;
		struct rtc_offset running;
		enum dm_offset_origin origin;
		int64_t seconds;
		bool changed;
		const char *why;
	} cases[] = {
		{{PLAT_HV_XEN_HVM, true, 100, false, false}, {100, 5, true}, DM_ORIGIN_RUNNING, 100,
		 false, "offset 100 s in force"},
		{{PLAT_HV_XEN_HVM, true, 100, false, false}, {50, 5, true}, DM_ORIGIN_HYPERVISOR, 100,
		 true, "offset 100 s from Xen's RTC record, not the device's 50 s: following Xen"},
		{{PLAT_HV_XEN_HVM, false, 100, false, false}, {50, 5, false}, DM_ORIGIN_RUNNING, 50,
		 false, "offset 50 s in force"},
		{{PLAT_HV_XEN_PVH, true, 100, false, false}, {50, 5, false}, DM_ORIGIN_RUNNING, 50,
		 false, "offset 50 s in force"},
		{{PLAT_HV_NONE, false, 0, false, false}, {50, 5, false}, DM_ORIGIN_RUNNING, 50, false,
		 "offset 50 s in force"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dm_offset_inputs in = {.moment = DM_DECIDE_BEFORE_SAVE};
		struct dm_offset_decision d;

		in.hv = cases[i].hv;
		in.running = cases[i].running;
		dm_offset_decide(&in, &d);
		CU_ASSERT_EQUAL(d.origin, cases[i].origin);
		CU_ASSERT_EQUAL(d.offset.seconds, cases[i].seconds);
		CU_ASSERT_EQUAL(d.offset.phase_ns, 5);
		CU_ASSERT_EQUAL(d.offset.set, cases[i].running.set);
		CU_ASSERT_EQUAL(d.changed, cases[i].changed);
		CU_ASSERT_EQUAL(d.tell_hypervisor, false);
		CU_ASSERT_STRING_EQUAL(d.why, cases[i].why);
	}
	CU_ASSERT_STRING_EQUAL(dm_offset_origin_name(DM_ORIGIN_BATTERY), "battery");
	CU_ASSERT_STRING_EQUAL(dm_offset_origin_name(DM_ORIGIN_HYPERVISOR), "hypervisor");
}

void suite_dm_authority(void)
{
	CU_pSuite s = CU_add_suite("dm_authority (the time-offset rule)", NULL, NULL);
	CU_add_test(s, "start-up: every combination of the device's sources", test_device_sources);
	CU_add_test(s, "start-up: each hypervisor state against the device's answer",
	            test_hypervisor_at_start);
	CU_add_test(s, "a live load against the running offset", test_live_load);
	CU_add_test(s, "before a save: Xen's record", test_before_save);
}
