/* rtcdm-ctx, run as a program from $RTCDM_BUILD: output, exit status
 * (0 ok, 1 refused file, 2 usage) and the files it writes. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "saverestore/sr.h"

void suite_sr_ctx(void);

static char dir[64];
static char prog[512];

static int setup(void)
{
	const char *b = getenv("RTCDM_BUILD");
	snprintf(prog, sizeof(prog), "%s/rtcdm-ctx", b ? b : "build");
	snprintf(dir, sizeof(dir), "/tmp/rtcdm-sr-ctx-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Run rtcdm-ctx with args; stdout and stderr into malloc'd strings. */
static int run(char **out, char **err, const char *a1, const char *a2, const char *a3,
               const char *a4)
{
	char po[128], pe[128];
	snprintf(po, sizeof(po), "%s/stdout", dir);
	snprintf(pe, sizeof(pe), "%s/stderr", dir);
	pid_t pid = fork();
	if (pid == 0) {
		int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(127);
		execl(prog, "rtcdm-ctx", a1, a2, a3, a4, (char *)NULL);
		_exit(126);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	uint8_t *b;
	size_t len;
	char e[SR_ERR_MAX];
	const char *paths[2] = {po, pe};
	char **dst[2] = {out, err};
	for (int i = 0; i < 2; i++) {
		if (sr_read_file(paths[i], 1 << 20, &b, &len, e, sizeof(e)) == 0) {
			b[len] = 0; /* sr_read_file leaves room for one more byte */
			*dst[i] = (char *)b;
		} else {
			*dst[i] = strdup("");
		}
	}
	unlink(po);
	unlink(pe);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_image(const char *path, uint32_t rtc_len)
{
	struct sr_image img;
	sr_image_init(&img);
	static const uint8_t regs[14] = {0x00, 0, 0x30, 0, 0x08, 0, 2, 0x01, 0x01, 0x25, 0x26,
	                                 0x02, 0, 0x80};
	memcpy(img.rtc.cmos, regs, 14);
	img.rtc.rtc_offset = 3600;
	img.offset.seconds = 3600;
	img.offset.phase_ns = 123456789;
	img.present = 1u << SR_REC_RTC | 1u << SR_REC_NVRAM | 1u << SR_REC_OFFSET;
	uint8_t b[512];
	size_t n = sr_encode(&img, b, sizeof(b));
	if (rtc_len == 16) {
		sr_put32(b + 36, 16);
		memmove(b + 56, b + 64, n - 64);
		n -= 8;
	}
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL_FATAL(sr_write_file_atomic(path, b, n, err, sizeof(err)), 0);
}

static void load(const char *path, struct sr_image *img)
{
	uint8_t *b;
	size_t len;
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL_FATAL(sr_read_file(path, SR_IMAGE_MAX, &b, &len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sr_load(b, len, img, err, sizeof(err)), 0);
	free(b);
}

static void test_usage(void)
{
	char *o, *e;
	if (access(prog, X_OK)) {
		fprintf(stderr, "\n  %s not built (set RTCDM_BUILD)\n", prog);
		CU_FAIL_FATAL("rtcdm-ctx not found");
	}
	CU_ASSERT_EQUAL(run(&o, &e, NULL, NULL, NULL, NULL), 2);
	CU_ASSERT_STRING_EQUAL(e, "rtcdm-ctx: missing COMMAND (see rtcdm-ctx --help)\n");
	free(o), free(e);
	CU_ASSERT_EQUAL(run(&o, &e, "--help", NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(strncmp(o, "Usage: rtcdm-ctx COMMAND [ARGS]\n", 32), 0);
	CU_ASSERT_STRING_EQUAL(e, "");
	free(o), free(e);
	CU_ASSERT_EQUAL(run(&o, &e, "--version", NULL, NULL, NULL), 0);
	CU_ASSERT_STRING_EQUAL(o, "rtcdm-ctx " RTCDM_VERSION "\n");
	free(o), free(e);
	CU_ASSERT_EQUAL(run(&o, &e, "frobnicate", NULL, NULL, NULL), 2);
	CU_ASSERT_STRING_EQUAL(e, "rtcdm-ctx: unknown command 'frobnicate' (see rtcdm-ctx "
	                          "--help)\n");
	free(o), free(e);
	CU_ASSERT_EQUAL(run(&o, &e, "dump", NULL, NULL, NULL), 2);
	CU_ASSERT_STRING_EQUAL(e, "rtcdm-ctx: dump needs exactly one FILE (see rtcdm-ctx "
	                          "--help)\n");
	free(o), free(e);
	CU_ASSERT_EQUAL(run(&o, &e, "dump", "x", "--yaml", NULL), 2);
	CU_ASSERT_STRING_EQUAL(e, "rtcdm-ctx: unknown option '--yaml' (see rtcdm-ctx --help)\n");
	free(o), free(e);
	CU_ASSERT_EQUAL(run(&o, &e, "upgrade", "x", NULL, NULL), 2);
	free(o), free(e);
}

static void test_dump(void)
{
	char p[128], want[512];
	char *o, *e;
	snprintf(p, sizeof(p), "%s/img", dir);
	write_image(p, 24);
	CU_ASSERT_EQUAL(run(&o, &e, "dump", p, NULL, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "  guest time  2025-01-01 08:30:00 (BCD, 24-hour)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "  seconds     3600 (+01:00)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "  phase_ns    123456789\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "record 5 (END, instance 0) at byte 210\n"));
	CU_ASSERT_STRING_EQUAL(e, "");
	free(o), free(e);

	CU_ASSERT_EQUAL(run(&o, &e, "dump", "--json", p, NULL), 0);
	json_object *j = json_tokener_parse(o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	json_object *recs, *r, *f, *v;
	CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(j, "records", &recs));
	CU_ASSERT_EQUAL(json_object_array_length(recs), 3);
	r = json_object_array_get_idx(recs, 2);
	CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(r, "fields", &f));
	CU_ASSERT_TRUE(json_object_object_get_ex(f, "seconds", &v) &&
	               json_object_get_int64(v) == 3600);
	CU_ASSERT_TRUE(json_object_object_get_ex(f, "hhmm", &v) &&
	               strcmp(json_object_get_string(v), "+01:00") == 0);
	json_object_put(j);
	free(o), free(e);

	/* A refused file: exit 1 and the loader's message. */
	uint8_t *b;
	size_t len;
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL_FATAL(sr_read_file(p, 1024, &b, &len, err, sizeof(err)), 0);
	sr_put32(b + 36, 32);
	CU_ASSERT_EQUAL(sr_write_file_atomic(p, b, len, err, sizeof(err)), 0);
	free(b);
	CU_ASSERT_EQUAL(run(&o, &e, "dump", p, NULL, NULL), 1);
	snprintf(want, sizeof(want), "rtcdm-ctx: %s: record 2 (RTC, instance 0) at byte 32: length "
	         "32, expected at most 24\n", p);
	CU_ASSERT_STRING_EQUAL(e, want);
	CU_ASSERT_STRING_EQUAL(o, "");
	free(o), free(e);
	snprintf(p, sizeof(p), "%s/none", dir);
	CU_ASSERT_EQUAL(run(&o, &e, "dump", p, NULL, NULL), 1);
	snprintf(want, sizeof(want), "rtcdm-ctx: %s: No such file or directory\n", p);
	CU_ASSERT_STRING_EQUAL(e, want);
	free(o), free(e);
}

/* xl save images (the fuzz seeds, built by test_sr_image.c). */
static void test_dump_xl(void)
{
	char *o, *e;
	const char *good = "tests/fuzz/corpus/fuzz_sr_image/xl-rtcdm.bin";
	CU_ASSERT_EQUAL(run(&o, &e, "dump", good, NULL, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "Xen RTC record (HVM_CONTEXT) at byte 9494, length 24\n"
	                                 "  guest time  2099-12-31 23:59:30 (BCD, 24-hour)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "EMULATOR_CONTEXT at byte 9638: emulator id 2, 258 bytes, "
	                                 "rtcdm image\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "  seconds     7200 (+02:00)\n"));
	free(o), free(e);
	CU_ASSERT_EQUAL(run(&o, &e, "dump", "tests/fuzz/corpus/fuzz_sr_image/xl-qemu-rtc16.bin",
	                    NULL, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "not an rtcdm image\n  (a QEMU savevm stream)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "  rtc_offset  none (16-byte record"));
	free(o), free(e);
	const char *bad = "tests/fuzz/corpus/fuzz_sr_image/xl-rtcdm-refused.bin";
	CU_ASSERT_EQUAL(run(&o, &e, "dump", bad, NULL, NULL), 1);
	CU_ASSERT_STRING_EQUAL(e, "rtcdm-ctx: tests/fuzz/corpus/fuzz_sr_image/xl-rtcdm-refused.bin: "
	                          "EMULATOR_CONTEXT: record 4 (OFFSET, instance 0) at byte 186: "
	                          "set 2, expected 0 or 1\n");
	CU_ASSERT_PTR_NOT_NULL(strstr(o, "Xen RTC record")); /* the Xen part is still shown */
	free(o), free(e);
}

static void test_upgrade(void)
{
	char in[128], out[128], want[512];
	char *o, *e;
	snprintf(in, sizeof(in), "%s/old", dir);
	snprintf(out, sizeof(out), "%s/new", dir);
	write_image(in, 16);
	CU_ASSERT_EQUAL(run(&o, &e, "upgrade", in, out, NULL), 0);
	free(o), free(e);
	struct sr_image img;
	load(out, &img);
	CU_ASSERT_EQUAL(img.where[SR_REC_RTC].length, 24);
	CU_ASSERT_EQUAL(img.rtc.rtc_offset, 0);
	CU_ASSERT_EQUAL(img.rtc.cmos[RTC_HOURS], 0x08);
	CU_ASSERT_EQUAL(img.size, 218);
	CU_ASSERT_EQUAL(img.offset.seconds, 3600); /* the OFFSET record still rules */
	/* A refused input writes nothing. */
	unlink(out);
	CU_ASSERT_EQUAL(truncate(in, 40), 0);
	CU_ASSERT_EQUAL(run(&o, &e, "upgrade", in, out, NULL), 1);
	snprintf(want, sizeof(want), "rtcdm-ctx: %s: record 2 (RTC, instance 0) at byte 32: length "
	         "16, but only 0 bytes left (truncated)\n", in);
	CU_ASSERT_STRING_EQUAL(e, want);
	CU_ASSERT_EQUAL(access(out, F_OK), -1);
	free(o), free(e);
}

static void test_set_offset(void)
{
	char p[128], l[128], want[512];
	char *o, *e;
	snprintf(p, sizeof(p), "%s/so", dir);
	write_image(p, 24);
	CU_ASSERT_EQUAL(run(&o, &e, "set-offset", p, "-19800", "--set"), 0);
	free(o), free(e);
	struct sr_image img;
	load(p, &img);
	CU_ASSERT_EQUAL(img.offset.seconds, -19800);
	CU_ASSERT_EQUAL(img.offset.set, 1);
	CU_ASSERT_EQUAL(img.offset.phase_ns, 123456789);
	CU_ASSERT_EQUAL(img.rtc.rtc_offset, -19800);
	CU_ASSERT_EQUAL(run(&o, &e, "set-offset", p, "60", NULL), 0);
	free(o), free(e);
	load(p, &img);
	CU_ASSERT_EQUAL(img.offset.seconds, 60);
	CU_ASSERT_EQUAL(img.offset.set, 0);

	/* Bad SECONDS: usage error, file unchanged. */
	CU_ASSERT_EQUAL(run(&o, &e, "set-offset", p, "12abc", NULL), 2);
	CU_ASSERT_STRING_EQUAL(e, "rtcdm-ctx: SECONDS '12abc' is not a whole number of seconds "
	                          "within +-1099511627776 (see rtcdm-ctx --help)\n");
	free(o), free(e);
	CU_ASSERT_EQUAL(run(&o, &e, "set-offset", p, "1099511627777", NULL), 2);
	free(o), free(e);
	load(p, &img);
	CU_ASSERT_EQUAL(img.offset.seconds, 60);

	/* Through a symlink: refused, target unchanged. */
	snprintf(l, sizeof(l), "%s/link", dir);
	CU_ASSERT_EQUAL_FATAL(symlink(p, l), 0);
	CU_ASSERT_EQUAL(run(&o, &e, "set-offset", l, "5", NULL), 1);
	snprintf(want, sizeof(want), "rtcdm-ctx: %s: %s: refusing to write through a symbolic "
	         "link\n", l, l);
	CU_ASSERT_STRING_EQUAL(e, want);
	free(o), free(e);
	load(p, &img);
	CU_ASSERT_EQUAL(img.offset.seconds, 60);
}

void suite_sr_ctx(void)
{
	CU_pSuite s = CU_add_suite("rtcdm-ctx", setup, teardown);
	CU_add_test(s, "usage and exit status 2", test_usage);
	CU_add_test(s, "dump, --json, refused files", test_dump);
	CU_add_test(s, "dump of xl save images", test_dump_xl);
	CU_add_test(s, "upgrade", test_upgrade);
	CU_add_test(s, "set-offset", test_set_offset);
}
