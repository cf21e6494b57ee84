/*
 * `make demo` must keep telling the truth: run $RTCDM_BUILD/demo/rtcdm-demo
 * (which drives the real rtcdm and rtcdm-ctx) and check its key lines, in
 * order, with the exact values the story promises:
 *   host wallclock 1700000000 = 2023-11-14 22:13:20 UTC, virtual clock at 0;
 *   the guest sets local time UTC+02:00 (offset 7200 s), 10 s pass, save;
 *   restore 100 s later: 00:15:00 on the 15th, offset 7200 s;
 *   a 16-byte Xen <= 4.13 RTC record 200 s later: offset 0, 22:16:40;
 *   --time-offset 3600 over the +02:00 image 300 s later: 23:18:20, then
 *   settimeoffset -18000: 17:18:20;
 *   battery-backed CMOS an hour later: 01:13:20 on the 15th, NVRAM kept;
 *   rtcdm-ctx dump of the 258-byte image.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/support.h"

void suite_demo(void);

#define DEMO_TIMEOUT_MS 60000
#define DEMO_OUT_MAX 32768

/* Every line of want appears in out, in this order. */
static bool in_order(const char *out, const char *const want[], size_t n)
{
	const char *at = out;

	for (size_t i = 0; i < n; i++) {
		const char *hit = strstr(at, want[i]);

		if (!hit) {
			fprintf(stderr, "\n  demo output lacks (after the previous key line): %s", want[i]);
			return false;
		}
		at = hit + strlen(want[i]);
	}
	return true;
}

static void test_demo_story(void)
{
	static const char *const want[] = {
		"1. A Windows-style guest keeps local time (UTC+02:00) in its CMOS clock\n",
		"host wallclock 2023-11-14 22:13:20 UTC (fixed), virtual clock at 0\n",
		"xenstore /local/domain/0/device-model/7/state = running\n",
		"guest reads its RTC:  2023-11-14 22:13:20   (host +0 s, +00:00)\n",
		"guest reads its RTC:  2023-11-15 00:13:20   (host +7200 s, +02:00)\n",
		"xenstore /local/domain/0/device-model/7/rtc/timeoffset = 7200\n",
		"PV wallclock (shared_info, read with the version seqlock): "
		"1700007200.000000000 = 2023-11-15 00:13:20\n",
		"guest reads its RTC:  2023-11-15 00:13:30   (host +7200 s, +02:00)\n",
		"2. xl save",
		"<- {\"return\":{},\"id\":1}\n",
		"<- {\"return\":{\"fdset-id\":0,",
		"<- {\"return\":{},\"id\":3}\n",
		"rtcdm stopped with SIGHUP (as libxl does): exit status 0\n",
		"image qemu-save.7: 258 bytes\n",
		"3. xl restore, 100 s later",
		"rtcdm log: time offset: offset 7200 s from the image (saved offset applied) [image]\n",
		"guest reads its RTC:  2023-11-15 00:15:00   (host +7200 s, +02:00)\n",
		"guest reads NVRAM byte 0x40 = 0x5a\n",
		"1700007300.000000000 = 2023-11-15 00:15:00\n",
		"4. An image from Xen <= 4.13",
		"xen-4.13-rtc.img: 64 bytes (HEADER, RTC length 16, END)\n",
		"rtcdm log: time offset: offset 0 s from the image (old 16-byte RTC record without "
		"offset: offset 0) [image]\n",
		"guest reads its RTC:  2023-11-14 22:16:40   (host +0 s, +00:00)\n",
		"5. The toolstack's offset wins over the saved one\n",
		"rtcdm log: time offset: offset 3600 s from the toolstack (offset set by the toolstack "
		"kept, saved seconds ignored) [toolstack]\n",
		"guest reads its RTC:  2023-11-14 23:18:20   (host +3600 s, +01:00)\n",
		"<- {\"return\":{\"seconds\":3600,\"phase-ns\":0,\"set\":true},\"id\":5}\n",
		"rtcdm removes the node (acknowledged); "
		"/local/domain/0/device-model/7/rtc/timeoffset = -18000\n",
		"guest reads its RTC:  2023-11-14 17:18:20   (host -18000 s, -05:00)\n",
		"1699982300.000000000 = 2023-11-14 17:18:20\n",
		"6. Battery-backed CMOS",
		"guest reads its RTC:  2023-11-15 00:13:20   (host +7200 s, +02:00)\n",
		"rtcdm stopped (domain destroyed): exit status 0\n",
		".cmos: 218 bytes, mode 600\n",
		"a new rtcdm, no image: time offset: offset 7200 s from the battery-backed CMOS "
		"[battery]\n",
		"guest reads its RTC:  2023-11-15 01:13:20   (host +7200 s, +02:00)\n",
		"guest reads NVRAM byte 0x40 = 0x5a\n",
		"7. rtcdm-ctx dump qemu-save.7",
		"| rtcdm image, 258 bytes\n",
		"|   guest time  2023-11-15 00:13:30 (BCD, 24-hour)\n",
		"|   rtc_offset  7200 s (+02:00)\n",
		"|   3e: 00 00 5a 00",
		"|   seconds     7200 (+02:00)\n",
		"|   set         0 (not set by the toolstack)\n",
		"| record 7 (END, instance 0) at byte 250\n",
		"demo: every step behaved as described\n",
	};
	char *out = malloc(DEMO_OUT_MAX), dir[64];
	const char *w;
	struct stat st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	int status =
	        support_capture("demo/rtcdm-demo", NULL, true, DEMO_TIMEOUT_MS, out, DEMO_OUT_MAX);
	CU_ASSERT_EQUAL(status, 0);
	CU_ASSERT_TRUE(in_order(out, want, sizeof(want) / sizeof(want[0])));
	CU_ASSERT_PTR_NULL(strstr(out, "MISMATCH"));
	/* Every rtcdm it started exited 0 (SIGHUP, or the guest leaving). */
	for (const char *s = strstr(out, "exit status "); s; s = strstr(s + 1, "exit status "))
		CU_ASSERT_EQUAL(strncmp(s, "exit status 0\n", 14), 0);
	/* Its work directory is gone. */
	w = strstr(out, "(work directory ");
	CU_ASSERT_PTR_NOT_NULL(w);
	if (w && sscanf(w, "(work directory %63[^,],", dir) == 1) {
		CU_ASSERT_EQUAL(strncmp(dir, "/tmp/rtcdm-demo-", 16), 0);
		CU_ASSERT_EQUAL(stat(dir, &st), -1);
	} else {
		CU_FAIL("no work directory line");
	}
	if (status != 0 || strstr(out, "MISMATCH"))
		fprintf(stderr, "\n%s", out);
	free(out);
}

void suite_demo(void)
{
	CU_pSuite s = CU_add_suite("demo (make demo's story against the built rtcdm)", NULL, NULL);
	CU_add_test(s, "the whole lifecycle prints the promised values, exit 0, nothing left",
	            test_demo_story);
}
