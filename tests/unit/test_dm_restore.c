/* The one restore flow (dm_device_restore): the offset is decided once and
 * the device runs with exactly that answer — registers and NVRAM from the
 * image, one notification, one word to the hypervisor — on a platform that
 * records what it is told. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "dm/device.h"

void suite_dm_restore(void);

struct rec_platform {
	struct dm_platform base;
	struct plat_hv_offset hv;
	unsigned set_calls, changed_calls;
	int64_t last_set, last_delta;
};

static struct rec_platform *rec_of(struct dm_platform *p)
{
	return (struct rec_platform *)p;
}

static int rec_start(struct dm_platform *p, const struct dm_device_ops *ops, void *dev)
{
	(void)p;
	(void)ops;
	(void)dev;
	return 0;
}

static uint64_t rec_clock(struct dm_platform *p)
{
	(void)p;
	return 0;
}

static int64_t rec_wallclock(struct dm_platform *p)
{
	(void)p;
	return INT64_C(1704067200) * RTC_NS_PER_SEC;
}

static void rec_arm(struct dm_platform *p, uint64_t deadline)
{
	(void)p;
	(void)deadline;
}

static void rec_irq(struct dm_platform *p, int level)
{
	(void)p;
	(void)level;
}

static int rec_changed(struct dm_platform *p, int64_t delta, const struct rtc_offset *now)
{
	(void)now;
	rec_of(p)->changed_calls++;
	rec_of(p)->last_delta = delta;
	return 0;
}

static int rec_set(struct dm_platform *p, int64_t seconds)
{
	rec_of(p)->set_calls++;
	rec_of(p)->last_set = seconds;
	return 0;
}

static void rec_hv(struct dm_platform *p, struct plat_hv_offset *out)
{
	*out = rec_of(p)->hv;
}

static const struct dm_platform_ops rec_ops = {
	.name = "recording",
	.start = rec_start,
	.clock_ns = rec_clock,
	.host_wallclock_ns = rec_wallclock,
	.arm_timer = rec_arm,
	.set_irq = rec_irq,
	.offset_changed = rec_changed,
	.set_time_offset = rec_set,
	.hypervisor_offset = rec_hv,
};

struct heard {
	unsigned calls;
	enum dm_offset_source src;
	struct rtc_offset offset;
};

static void listener(void *opaque, enum dm_offset_source src, const struct rtc_offset *now)
{
	struct heard *h = opaque;

	h->calls++;
	h->src = src;
	h->offset = *now;
}

struct rig {
	struct rec_platform plat;
	struct dm_log log;
	struct dm_device dev;
	struct heard heard;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->plat.base.ops = &rec_ops;
	dm_log_init(&r->log, -1);
	r->plat.base.log = &r->log;
	CU_ASSERT_EQUAL_FATAL(dm_device_init(&r->dev, &r->plat.base, &r->log, RTC_LOST_TICKS_DISCARD), 0);
	CU_ASSERT_EQUAL_FATAL(dm_device_add_offset_listener(&r->dev, listener, &r->heard), 0);
}

/* An image holding -7200 s (phase 0.25 s), NVRAM byte 0x40 = 0x99. */
static void saved_image(struct sr_image *img)
{
	sr_image_init(img);
	img->present = (1u << SR_REC_RTC) | (1u << SR_REC_OFFSET) | (1u << SR_REC_NVRAM);
	img->where[SR_REC_RTC].length = SR_RTC_LEN;
	img->rtc.cmos[RTC_REG_A] = 0x26;
	img->rtc.cmos[RTC_REG_B] = 0x02;
	img->rtc.rtc_offset = -7200;
	img->offset.seconds = -7200;
	img->offset.phase_ns = 250000000;
	img->nvram[0x40 - RTC_NVRAM_FIRST] = 0x99;
}

/* The device runs with `want` and was heard of it once, from `src`. */
static void ran_with(struct rig *r, struct rtc_offset want, enum dm_offset_source src)
{
	struct rtc_offset now;

	rtc_get_offset(r->dev.rtc, &now);
	CU_ASSERT_EQUAL(now.seconds, want.seconds);
	CU_ASSERT_EQUAL(now.phase_ns, want.phase_ns);
	CU_ASSERT_EQUAL(now.set, want.set);
	CU_ASSERT_EQUAL(r->heard.calls, 1);
	CU_ASSERT_EQUAL(r->heard.src, src);
	CU_ASSERT_EQUAL(r->heard.offset.seconds, want.seconds);
	CU_ASSERT_EQUAL(rtc_cmos_read(r->dev.rtc, 0x40), 0x99); /* the image's NVRAM */
}

/* The toolstack set 3600 s in the running process, then an image is loaded:
 * the toolstack's seconds, the image's phase, the image's NVRAM — and the
 * world hears of it once. */
static void test_live_load_once(void)
{
	struct rig r;
	struct sr_image img;
	struct dm_offset_inputs in = {.moment = DM_DECIDE_AT_LOAD};
	struct dm_offset_decision d;

	rig_init(&r);
	CU_ASSERT_EQUAL(dm_device_set_time_offset(&r.dev, 3600), 0);
	r.heard.calls = 0;
	r.plat.set_calls = 0;
	saved_image(&img);
	in.image = &img;
	dm_device_restore(&r.dev, &in, &d);
	CU_ASSERT_EQUAL(d.origin, DM_ORIGIN_TOOLSTACK);
	ran_with(&r, (struct rtc_offset){3600, 250000000, true}, DM_OFFSET_TOOLSTACK);
	CU_ASSERT_EQUAL(r.plat.set_calls, 1);
	CU_ASSERT_EQUAL(r.plat.last_set, 3600);
	CU_ASSERT_EQUAL(r.plat.changed_calls, 0);
	dm_device_fini(&r.dev);
}

/* Start-up on HVM after Xen restored the domain at 900 s: Xen's offset, the
 * image's phase and NVRAM; Xen is not told its own value back. */
static void test_start_hvm_restored(void)
{
	struct rig r;
	struct sr_image img;
	struct dm_offset_inputs in = {.moment = DM_DECIDE_AT_START};
	struct dm_offset_decision d;

	rig_init(&r);
	r.plat.hv = (struct plat_hv_offset){PLAT_HV_XEN_HVM, true, 900, false, true};
	saved_image(&img);
	in.image = &img;
	dm_device_hypervisor_offset(&r.dev, &in.hv);
	dm_device_restore(&r.dev, &in, &d);
	CU_ASSERT_EQUAL(d.origin, DM_ORIGIN_HYPERVISOR);
	ran_with(&r, (struct rtc_offset){900, 250000000, false}, DM_OFFSET_HYPERVISOR);
	CU_ASSERT_EQUAL(r.plat.set_calls + r.plat.changed_calls, 0);
	dm_device_fini(&r.dev);
}

/* Nothing saved, UTC: nothing changes, nobody is told. */
static void test_start_nothing(void)
{
	struct rig r;
	struct dm_offset_inputs in = {.moment = DM_DECIDE_AT_START};
	struct dm_offset_decision d;

	rig_init(&r);
	dm_device_hypervisor_offset(&r.dev, &in.hv);
	CU_ASSERT_EQUAL(in.hv.kind, PLAT_HV_NONE); /* the recording platform says none */
	dm_device_restore(&r.dev, &in, &d);
	CU_ASSERT_EQUAL(d.origin, DM_ORIGIN_BASE);
	CU_ASSERT_EQUAL(d.changed, false);
	CU_ASSERT_EQUAL(r.heard.calls, 0);
	CU_ASSERT_EQUAL(r.plat.set_calls + r.plat.changed_calls, 0);
	dm_device_fini(&r.dev);
}

void suite_dm_restore(void)
{
	CU_pSuite s = CU_add_suite("dm_restore (load, decide once, apply)", NULL, NULL);
	CU_add_test(s, "a live load under a toolstack offset", test_live_load_once);
	CU_add_test(s, "start-up on HVM after Xen restored the domain", test_start_hvm_restored);
	CU_add_test(s, "start-up with nothing saved", test_start_nothing);
}
