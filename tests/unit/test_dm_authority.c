/* The offset authority (dm/authority.c): each source alone and each pair,
 * ranked toolstack > image > battery > -rtc base. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "dm/authority.h"

void suite_dm_authority(void);

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

static void test_table(void)
{
	struct sr_image img, img_set, bat;
	image(&img, -7200, 250000000, false);
	image(&img_set, 86400, 500000000, true);
	image(&bat, 600, 750000000, true); /* a battery's set flag carries nothing */
	enum { T = 1, I = 2, S = 4, B = 8, R = 16 };
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
		{T, DM_ORIGIN_TOOLSTACK, 42, 0, true, "offset 42 s from the toolstack"},
		{I, DM_ORIGIN_IMAGE, -7200, 250000000, false,
		 "offset -7200 s from the image (saved offset applied)"},
		{S, DM_ORIGIN_TOOLSTACK, 86400, 500000000, true,
		 "offset 86400 s from the image, set by the toolstack before the save (saved offset "
		 "applied)"},
		{B, DM_ORIGIN_BATTERY, 600, 750000000, false,
		 "offset 600 s from the battery-backed CMOS"},
		{T | I, DM_ORIGIN_TOOLSTACK, 42, 250000000, true,
		 "offset 42 s from the toolstack (offset set by the toolstack kept, saved seconds "
		 "ignored)"},
		{T | S, DM_ORIGIN_TOOLSTACK, 42, 500000000, true,
		 "offset 42 s from the toolstack (offset set by the toolstack kept, saved seconds "
		 "ignored)"},
		{T | B, DM_ORIGIN_TOOLSTACK, 42, 750000000, true,
		 "offset 42 s from the toolstack (battery offset ignored)"},
		{T | R, DM_ORIGIN_TOOLSTACK, 42, 0, true, "offset 42 s from the toolstack"},
		{I | B, DM_ORIGIN_IMAGE, -7200, 250000000, false,
		 "offset -7200 s from the image (saved offset applied)"},
		{I | R, DM_ORIGIN_IMAGE, -7200, 250000000, false,
		 "offset -7200 s from the image (saved offset applied)"},
		{S | B, DM_ORIGIN_TOOLSTACK, 86400, 500000000, true,
		 "offset 86400 s from the image, set by the toolstack before the save (saved offset "
		 "applied)"},
		{B | R, DM_ORIGIN_BATTERY, 600, 750000000, false,
		 "offset 600 s from the battery-backed CMOS"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dm_offset_sources in = {0};
		struct dm_offset_decision d;
		unsigned s = cases[i].src;

		in.toolstack = s & T;
		in.toolstack_seconds = 42;
		in.image = s & I ? &img : s & S ? &img_set : NULL;
		in.battery = s & B ? &bat : NULL;
		in.base_seconds = s & R ? 3600 : 0;
		dm_offset_resolve(&in, &d);
		CU_ASSERT_EQUAL(d.origin, cases[i].origin);
		CU_ASSERT_EQUAL(d.offset.seconds, cases[i].seconds);
		CU_ASSERT_EQUAL(d.offset.phase_ns, cases[i].phase);
		CU_ASSERT_EQUAL(d.offset.set, cases[i].set);
		CU_ASSERT_STRING_EQUAL(d.why, cases[i].why);
	}
}

/* An old 16-byte RTC record has no offset: 0, and the log says why. */
static void test_old_record(void)
{
	struct sr_image old;
	struct dm_offset_sources in = {0};
	struct dm_offset_decision d;

	sr_image_init(&old);
	old.present = 1u << SR_REC_RTC;
	old.where[SR_REC_RTC].length = SR_RTC_LEN_OLD;
	in.image = &old;
	in.base_seconds = 3600;
	dm_offset_resolve(&in, &d);
	CU_ASSERT_EQUAL(d.origin, DM_ORIGIN_IMAGE);
	CU_ASSERT_EQUAL(d.offset.seconds, 0);
	CU_ASSERT_EQUAL(d.offset.set, false);
	CU_ASSERT_STRING_EQUAL(
		d.why, "offset 0 s from the image (old 16-byte RTC record without offset: offset 0)");
	CU_ASSERT_STRING_EQUAL(dm_offset_origin_name(DM_ORIGIN_BATTERY), "battery");
}

void suite_dm_authority(void)
{
	CU_pSuite s = CU_add_suite("dm_authority (time-offset sources ranked)", NULL, NULL);
	CU_add_test(s, "each source and each pair", test_table);
	CU_add_test(s, "an image without an offset", test_old_record);
}
