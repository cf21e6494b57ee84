/*
 * stage.c — between a validated image (the staging copy) and an RTC
 * snapshot, and the offset an image holds.  Pure: no live RTC here.
 */
#include <string.h>

#include "saverestore/sr.h"

void sr_image_from_snapshot(struct sr_image *img, const struct rtc_snapshot *snap,
                            const struct sr_xen_rtc *xen_rtc)
{
	sr_image_init(img);
	if (xen_rtc) {
		img->rtc = *xen_rtc;
	} else {
		memcpy(img->rtc.cmos, snap->cmos, RTC_XEN_CMOS_SIZE);
		img->rtc.index = snap->index & 0x7f;
		img->rtc.pad0 = 0;
		img->rtc.rtc_offset = snap->offset.seconds;
	}
	memcpy(img->nvram, snap->cmos + RTC_NVRAM_FIRST, SR_NVRAM_LEN);
	img->offset.seconds = snap->offset.seconds;
	img->offset.set = snap->offset.set ? 1 : 0;
	img->offset.phase_ns = snap->offset.phase_ns;
	img->timer.pending = snap->cmos[RTC_REG_C] & (RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF);
	img->timer.irq_level = snap->irq_level ? 1 : 0;
	img->timer.lost_ticks = snap->lost_ticks;
	img->timer.period_elapsed_ns = snap->period_elapsed_ns;
	img->port.index = snap->index & 0x7f;
	img->port.nmi_masked = snap->nmi_masked ? 1 : 0;
	img->present = (1u << SR_REC_RTC) | (1u << SR_REC_NVRAM) | (1u << SR_REC_OFFSET) |
	               (1u << SR_REC_TIMER) | (1u << SR_REC_PORT);
}

const char *sr_offset_outcome_str(enum sr_offset_outcome o)
{
	switch (o) {
	case SR_OFFSET_APPLIED:
		return "saved offset applied";
	case SR_OFFSET_FROM_XEN_RECORD:
		return "offset taken from the RTC record (no OFFSET record)";
	case SR_OFFSET_OLD_RECORD_ZERO:
		return "old 16-byte RTC record without offset: offset 0";
	}
	return "?";
}

enum sr_offset_outcome sr_image_offset(const struct sr_image *img, struct rtc_offset *out)
{
	*out = (struct rtc_offset){0, 0, false};
	if (sr_has(img, SR_REC_OFFSET)) {
		out->seconds = img->offset.seconds;
		out->phase_ns = img->offset.phase_ns;
		out->set = img->offset.set != 0;
		return SR_OFFSET_APPLIED;
	}
	if (img->where[SR_REC_RTC].length == SR_RTC_LEN_OLD)
		return SR_OFFSET_OLD_RECORD_ZERO; /* zero-filled, as Xen loads it */
	out->seconds = img->rtc.rtc_offset;
	return SR_OFFSET_FROM_XEN_RECORD;
}

void sr_image_to_snapshot(const struct sr_image *img, const struct rtc_offset *offset,
                          struct rtc_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	memcpy(snap->cmos, img->rtc.cmos, RTC_XEN_CMOS_SIZE);
	if (sr_has(img, SR_REC_NVRAM))
		memcpy(snap->cmos + RTC_NVRAM_FIRST, img->nvram, SR_NVRAM_LEN);
	snap->index = img->rtc.index;
	if (sr_has(img, SR_REC_PORT)) {
		snap->index = img->port.index;
		snap->nmi_masked = img->port.nmi_masked != 0;
	}
	if (sr_has(img, SR_REC_TIMER)) {
		snap->cmos[RTC_REG_C] = img->timer.pending;
		snap->irq_level = img->timer.irq_level != 0;
		snap->lost_ticks = img->timer.lost_ticks;
		snap->period_elapsed_ns = img->timer.period_elapsed_ns;
	}
	if (offset)
		snap->offset = *offset;
	else
		sr_image_offset(img, &snap->offset);
}
