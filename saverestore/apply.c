/*
 * apply.c — a validated image into a running RTC, and a running RTC into an
 * image.  The only part of saverestore/ that touches a live struct rtc.
 */
#include "saverestore/sr.h"

void sr_apply(struct rtc *rtc, const struct sr_image *img, const struct rtc_offset *offset)
{
	struct rtc_snapshot snap;

	sr_image_to_snapshot(img, offset, &snap);
	rtc_restore(rtc, &snap);
}

int sr_load_into(struct rtc *rtc, const uint8_t *buf, size_t len,
                 enum sr_offset_outcome *outcome, char *err, size_t errlen)
{
	struct sr_image img;
	if (sr_load(buf, len, &img, err, errlen))
		return -1;
	struct rtc_offset own;
	enum sr_offset_outcome o = sr_image_offset(&img, &own);
	sr_apply(rtc, &img, &own);
	if (outcome)
		*outcome = o;
	return 0;
}

size_t sr_save_rtc(struct rtc *rtc, const struct sr_xen_rtc *xen_rtc, uint8_t *buf, size_t cap)
{
	struct rtc_snapshot snap;
	struct sr_image img;

	rtc_snapshot(rtc, &snap);
	sr_image_from_snapshot(&img, &snap, xen_rtc);
	return sr_encode(&img, buf, cap);
}
