/* libFuzzer target: the save-image loader.  Never crashes; a refused image
 * leaves the staging copy and a live RTC untouched; an accepted image
 * re-encodes to a stable canonical form and applies. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saverestore/sr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake {
	uint64_t now;
	int irq;
};

static uint64_t clk(void *o)
{
	return ((struct fake *)o)->now;
}

static void arm(void *o, uint64_t d)
{
	(void)o;
	(void)d;
}

static void irq(void *o, int level)
{
	((struct fake *)o)->irq = level;
}

static const struct rtc_platform_ops ops = {clk, arm, irq, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sr_image img, ref;
	char err[SR_ERR_MAX];
	memset(&img, 0xa5, sizeof(img));
	memcpy(&ref, &img, sizeof(img));
	err[0] = 0;
	int rc = sr_load(data, size, &img, err, sizeof(err));
	if (rc != 0) {
		if (memcmp(&img, &ref, sizeof(img)) != 0 || strncmp(err, "record ", 7) != 0)
			abort(); /* a refused image changed the staging copy */
	} else {
		uint8_t a[1024], b[1024];
		size_t n = sr_encode(&img, a, sizeof(a));
		struct sr_image again;
		if (n > sizeof(a) || sr_load(a, n, &again, err, sizeof(err)) != 0)
			abort(); /* what we load we can write and read back */
		if (sr_encode(&again, b, sizeof(b)) != n || memcmp(a, b, n) != 0)
			abort(); /* canonical form is stable */
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (f) {
			sr_dump_image_text(f, &img);
			fclose(f);
		}
		free(text);
		free(sr_dump_image_json(&img));
	}

	/* The same bytes against a live RTC. */
	struct fake fk = {123456789, 0};
	struct rtc_config cfg = {&ops, &fk, INT64_C(1704067200) * RTC_NS_PER_SEC,
	                         RTC_LOST_TICKS_SLEW};
	struct rtc *rtc = rtc_new(&cfg);
	if (!rtc)
		return 0;
	rtc_cmos_write(rtc, 0x20, 0x42);
	struct rtc_snapshot before, after;
	rtc_snapshot(rtc, &before);
	enum sr_offset_outcome o;
	int rc2 = sr_load_into(rtc, data, size, &o, err, sizeof(err));
	if (rc2 != rc)
		abort();
	rtc_snapshot(rtc, &after);
	if (rc2 != 0 && memcmp(&before, &after, sizeof(before)) != 0)
		abort(); /* a refused image changed the RTC */
	rtc_free(rtc);
	return 0;
}
