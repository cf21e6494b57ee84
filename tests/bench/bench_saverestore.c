/* bench_saverestore — save and load time per image (mean ns over many
 * iterations) and the image size, for each kind of image rtcdm handles. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "saverestore/sr.h"

#define ITERATIONS 200000

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fill(struct sr_image *img, unsigned present)
{
	sr_image_init(img);
	for (unsigned i = 0; i < RTC_XEN_CMOS_SIZE; i++)
		img->rtc.cmos[i] = (uint8_t)(0x10 + i);
	img->rtc.rtc_offset = 7200;
	for (unsigned i = 0; i < SR_NVRAM_LEN; i++)
		img->nvram[i] = (uint8_t)i;
	img->offset = (struct sr_offset_rec){7200, 1, 250000000};
	img->timer = (struct sr_timer_rec){RTC_C_PF, 0, 12, 4000};
	img->port = (struct sr_port_rec){0x0e, 0};
	img->present = present;
}

static void row(const char *name, unsigned present)
{
	struct sr_image img, out;
	uint8_t buf[1024];
	char err[SR_ERR_MAX];
	volatile size_t sink = 0;
	fill(&img, present);

	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < ITERATIONS; i++) {
		img.offset.phase_ns = i; /* keep the work from being hoisted */
		sink += sr_encode(&img, buf, sizeof(buf));
	}
	uint64_t t1 = now_ns();
	size_t n = sr_encode(&img, buf, sizeof(buf));
	for (unsigned i = 0; i < ITERATIONS; i++) {
		if (sr_load(buf, n, &out, err, sizeof(err))) {
			fprintf(stderr, "bench_saverestore: %s\n", err);
			exit(1);
		}
		sink += out.size;
	}
	uint64_t t2 = now_ns();
	(void)sink;
	printf("%-28s %8zu %12.1f %12.1f\n", name, n, (double)(t1 - t0) / ITERATIONS,
	       (double)(t2 - t1) / ITERATIONS);
}

int main(void)
{
	printf("%-28s %8s %12s %12s\n", "image", "bytes", "save ns", "load ns");
	row("RTC record only (Xen)", 1u << SR_REC_RTC);
	row("RTC + NVRAM + OFFSET", 1u << SR_REC_RTC | 1u << SR_REC_NVRAM | 1u << SR_REC_OFFSET);
	row("full (all records)", (1u << SR_REC_COUNT) - 1);
	printf("(mean of %d iterations each; save = encode into memory, load = parse + validate)\n",
	       ITERATIONS);
	return 0;
}
