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
	}
	return "?";
}

void dm_offset_resolve(const struct dm_offset_sources *in, struct dm_offset_decision *out)
{
	struct rtc_offset running = {in->toolstack_seconds, in->toolstack_phase_ns, true};

	if (in->image) {
		enum sr_offset_outcome o =
			sr_resolve_offset(in->image, in->toolstack ? &running : NULL, &out->offset);
		if (o == SR_OFFSET_KEPT_TOOLSTACK) {
			out->origin = DM_ORIGIN_TOOLSTACK;
			snprintf(out->why, sizeof(out->why),
			         "offset %" PRId64 " s from the toolstack (%s)", out->offset.seconds,
			         sr_offset_outcome_str(o));
		} else if (out->offset.set) {
			out->origin = DM_ORIGIN_TOOLSTACK;
			snprintf(out->why, sizeof(out->why),
			         "offset %" PRId64 " s from the image, set by the toolstack before the "
			         "save (%s)",
			         out->offset.seconds, sr_offset_outcome_str(o));
		} else {
			out->origin = DM_ORIGIN_IMAGE;
			snprintf(out->why, sizeof(out->why), "offset %" PRId64 " s from the image (%s)",
			         out->offset.seconds, sr_offset_outcome_str(o));
		}
		return;
	}
	if (in->toolstack) {
		out->origin = DM_ORIGIN_TOOLSTACK;
		out->offset = running;
		if (in->battery) {
			struct rtc_offset b;
			sr_resolve_offset(in->battery, NULL, &b);
			out->offset.phase_ns = b.phase_ns;
		}
		snprintf(out->why, sizeof(out->why), "offset %" PRId64 " s from the toolstack%s",
		         out->offset.seconds, in->battery ? " (battery offset ignored)" : "");
		return;
	}
	if (in->battery) {
		sr_resolve_offset(in->battery, NULL, &out->offset);
		out->offset.set = false; /* the battery never carries the toolstack's authority */
		out->origin = DM_ORIGIN_BATTERY;
		snprintf(out->why, sizeof(out->why), "offset %" PRId64 " s from the battery-backed CMOS",
		         out->offset.seconds);
		return;
	}
	out->origin = DM_ORIGIN_BASE;
	out->offset.seconds = in->base_seconds;
	out->offset.phase_ns = 0;
	out->offset.set = false;
	snprintf(out->why, sizeof(out->why), "offset %" PRId64 " s (%s)", in->base_seconds,
	         in->base_seconds ? "-rtc base" : "nothing saved: UTC");
}
