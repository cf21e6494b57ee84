/* authority.c — rank the time-offset sources (see authority.h). */
#include "dm/authority.h"

#include <inttypes.h>
#include <stdio.h>

const char *dm_offset_origin_name(enum dm_offset_origin o)
{
	switch (o) {
	case DM_ORIGIN_BASE:
		return "base";
	case DM_ORIGIN_BATTERY:
		return "battery";
	case DM_ORIGIN_IMAGE:
		return "image";
	case DM_ORIGIN_TOOLSTACK:
		return "toolstack";
	case DM_ORIGIN_HYPERVISOR:
		return "hypervisor";
	case DM_ORIGIN_RUNNING:
		return "running";
	}
	return "?";
}

static void decide(struct dm_offset_decision *out, enum dm_offset_origin origin,
                   struct rtc_offset offset)
{
	out->origin = origin;
	out->offset = offset;
}

/* An image: the toolstack's seconds when it set the offset in force, else
 * what the image says (its `set` flag carrying the toolstack's authority). */
static void from_image(const struct sr_image *img, bool toolstack, int64_t toolstack_seconds,
                       struct dm_offset_decision *out)
{
	struct rtc_offset saved;
	enum sr_offset_outcome o = sr_image_offset(img, &saved);

	if (toolstack) {
		decide(out, DM_ORIGIN_TOOLSTACK, (struct rtc_offset){toolstack_seconds, saved.phase_ns, true});
		snprintf(out->why, sizeof(out->why),
		         "offset %" PRId64 " s from the toolstack (offset set by the toolstack kept, "
		         "saved seconds ignored)",
		         toolstack_seconds);
	} else if (saved.set) {
		decide(out, DM_ORIGIN_TOOLSTACK, saved);
		snprintf(out->why, sizeof(out->why),
		         "offset %" PRId64 " s from the image, set by the toolstack before the save (%s)",
		         saved.seconds, sr_offset_outcome_str(o));
	} else {
		decide(out, DM_ORIGIN_IMAGE, saved);
		snprintf(out->why, sizeof(out->why), "offset %" PRId64 " s from the image (%s)",
		         saved.seconds, sr_offset_outcome_str(o));
	}
}

/* The device's own sources: toolstack > image > battery > base. */
static void from_device_sources(const struct dm_offset_inputs *in, struct dm_offset_decision *out)
{
	bool at_start = in->moment == DM_DECIDE_AT_START;
	bool toolstack = at_start ? in->toolstack : in->running.set;
	int64_t ts_seconds = at_start ? in->toolstack_seconds : in->running.seconds;
	uint32_t ts_phase = at_start ? 0 : in->running.phase_ns;

	if (in->image) {
		from_image(in->image, toolstack, ts_seconds, out);
		return;
	}
	if (toolstack) {
		struct rtc_offset off = {ts_seconds, ts_phase, true};

		if (in->battery) {
			struct rtc_offset b;

			sr_image_offset(in->battery, &b);
			off.phase_ns = b.phase_ns;
		}
		decide(out, DM_ORIGIN_TOOLSTACK, off);
		snprintf(out->why, sizeof(out->why), "offset %" PRId64 " s from the toolstack%s",
		         ts_seconds, in->battery ? " (battery offset ignored)" : "");
		return;
	}
	if (in->battery) {
		struct rtc_offset b;

		sr_image_offset(in->battery, &b);
		b.set = false; /* the battery never carries the toolstack's authority */
		decide(out, DM_ORIGIN_BATTERY, b);
		snprintf(out->why, sizeof(out->why), "offset %" PRId64 " s from the battery-backed CMOS",
		         b.seconds);
		return;
	}
	decide(out, DM_ORIGIN_BASE, (struct rtc_offset){in->base_seconds, 0, false});
	snprintf(out->why, sizeof(out->why), "offset %" PRId64 " s (%s)", in->base_seconds,
	         in->base_seconds ? "-rtc base" : "nothing saved: UTC");
}

/* Whether the hypervisor's offset wins at start-up, and why (NULL: it does not). */
static const char *hypervisor_wins_at_start(const struct plat_hv_offset *hv,
                                            const struct rtc_offset *device)
{
	if (!hv->known)
		return NULL;
	if (hv->kind == PLAT_HV_XEN_HVM) {
		if (hv->restored)
			return "Xen's RTC record of the restored domain";
		if (hv->seconds != 0)
			return "given to Xen by the toolstack before the domain ran";
		return NULL;
	}
	if (hv->kind == PLAT_HV_XEN_PVH && hv->toolstack && !device->set)
		return "given to Xen by the toolstack before the guest ran";
	return NULL;
}

static void hypervisor_at_start(const struct plat_hv_offset *hv, struct dm_offset_decision *out)
{
	const char *why = hypervisor_wins_at_start(hv, &out->offset);

	if (!why) {
		/* The device's offset stands: Xen is told when it holds another. */
		out->tell_hypervisor = hv->known ? out->offset.seconds != hv->seconds
		                                 : out->offset.seconds != 0;
		return;
	}
	out->tell_hypervisor = false;
	struct rtc_offset x = {hv->seconds, out->offset.phase_ns, out->offset.set || hv->toolstack};
	if (x.seconds == out->offset.seconds && x.set == out->offset.set)
		return; /* the same answer: the device's source stays the reason */
	int64_t device_seconds = out->offset.seconds;
	decide(out, hv->toolstack ? DM_ORIGIN_TOOLSTACK : DM_ORIGIN_HYPERVISOR, x);
	snprintf(out->why, sizeof(out->why),
	         "offset %" PRId64 " s from the hypervisor (%s), not the device's %" PRId64 " s",
	         x.seconds, why, device_seconds);
}

static void before_save(const struct dm_offset_inputs *in, struct dm_offset_decision *out)
{
	const struct plat_hv_offset *hv = &in->hv;

	decide(out, DM_ORIGIN_RUNNING, in->running);
	snprintf(out->why, sizeof(out->why), "offset %" PRId64 " s in force", in->running.seconds);
	if (hv->kind != PLAT_HV_XEN_HVM || !hv->known || hv->seconds == in->running.seconds)
		return;
	decide(out, DM_ORIGIN_HYPERVISOR,
	       (struct rtc_offset){hv->seconds, in->running.phase_ns, in->running.set});
	snprintf(out->why, sizeof(out->why),
	         "offset %" PRId64 " s from Xen's RTC record, not the device's %" PRId64
	         " s: following Xen",
	         hv->seconds, in->running.seconds);
}

static bool same_offset(const struct rtc_offset *a, const struct rtc_offset *b)
{
	return a->seconds == b->seconds && a->phase_ns == b->phase_ns && a->set == b->set;
}

void dm_offset_decide(const struct dm_offset_inputs *in, struct dm_offset_decision *out)
{
	out->tell_hypervisor = false;
	switch (in->moment) {
	case DM_DECIDE_AT_START:
		from_device_sources(in, out);
		hypervisor_at_start(&in->hv, out);
		break;
	case DM_DECIDE_AT_LOAD:
		from_device_sources(in, out);
		break;
	case DM_DECIDE_BEFORE_SAVE:
		before_save(in, out);
		break;
	}
	out->changed = !same_offset(&out->offset, &in->running);
	/* A live load, or a hypervisor that keeps no offset of its own: it is
	 * told of every change. */
	if (in->moment == DM_DECIDE_AT_LOAD ||
	    (in->moment == DM_DECIDE_AT_START && in->hv.kind == PLAT_HV_NONE))
		out->tell_hypervisor = out->changed;
}
