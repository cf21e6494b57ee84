/* The xl save image walker on synthetic images built here (xl header, libxl
 * stream, libxc stream with PAGE_DATA and HVM_CONTEXT, EMULATOR_CONTEXT), and
 * the fuzz seed corpora, which this file generates and checks. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saverestore/companion.h"
#include "saverestore/sr.h"
#include "tests/support/support.h"

void suite_sr_image(void);

/* One of our images (the fixture of the codec tests, offset +02:00). */
static size_t our_image(uint8_t *buf, size_t cap, unsigned present, uint32_t rtc_len)
{
	struct sr_image img;
	sr_image_init(&img);
	static const uint8_t regs[14] = {0x09, 0x00, 0x07, 0x00, 0x14, 0x00, 0x03,
	                                 0x05, 0x03, 0x24, 0x26, 0x02, 0x00, 0x80};
	memcpy(img.rtc.cmos, regs, sizeof(regs));
	img.rtc.index = 0x0b;
	img.rtc.rtc_offset = 7200;
	img.nvram[RTC_CENTURY - RTC_NVRAM_FIRST] = 0x20;
	img.offset.seconds = 7200;
	img.offset.phase_ns = 500000000;
	img.port.index = 0x0e;
	img.present = present;
	size_t n = sr_encode(&img, buf, cap);
	if (rtc_len == SR_RTC_LEN_OLD && n <= cap) {
		sr_put32(buf + 36, 16);
		memmove(buf + 56, buf + 64, n - 64);
		n -= 8;
	}
	return n;
}

#define ALL ((1u << SR_REC_COUNT) - 1)

enum emu { EMU_RTCDM, EMU_QEMU, EMU_BROKEN, EMU_NONE, EMU_COMPANION };

/* A whole xl save image.  rtc_len: 24, 16 or 0 (no RTC record). */
static void xl_image(struct support_bytes *o, enum emu emu, uint32_t rtc_len)
{
	static const char magic[32] = "Xen saved domain, xl format\n \0 \r";
	static const char config[] = "{\"c_info\":{\"type\":\"hvm\",\"name\":\"guest1\"}}";
	support_bytes_put(o, magic, 32);
	support_bytes_le32(o, 0x01020304);
	support_bytes_le32(o, 3); /* JSON config, stream v2 */
	support_bytes_le32(o, 0);
	support_bytes_le32(o, 4 + sizeof(config));
	support_bytes_le32(o, sizeof(config));
	support_bytes_put(o, config, sizeof(config));

	/* libxl header, big-endian. */
	support_bytes_put(o, "LibxlFmt", 8);
	support_bytes_be32(o, 2);
	support_bytes_be32(o, 0);
	support_bytes_rec(o, 1, NULL, 0); /* LIBXC_CONTEXT: the libxc stream follows inline */

	/* libxc image header (big-endian) + domain header (x86 HVM, Xen 4.17). */
	static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	support_bytes_put(o, ff, 8);
	support_bytes_put(o, "XENF", 4);
	support_bytes_be32(o, 3);
	support_bytes_zeros(o, 8);
	support_bytes_le32(o, 2);
	uint8_t ps[4] = {12, 0, 0, 0};
	support_bytes_put(o, ps, 4);
	support_bytes_le32(o, 4);
	support_bytes_le32(o, 17);

	/* PAGE_DATA: 2 pages. */
	struct support_bytes pd = {0};
	support_bytes_le32(&pd, 2);
	support_bytes_le32(&pd, 0);
	uint8_t pfn[8] = {0x10};
	support_bytes_put(&pd, pfn, 8);
	pfn[0] = 0x11;
	support_bytes_put(&pd, pfn, 8);
	for (unsigned i = 0; i < 2 * 4096; i++) {
		uint8_t v = (uint8_t)(i * 7);
		support_bytes_put(&pd, &v, 1);
	}
	support_bytes_rec(o, 1, pd.b, pd.n);
	support_bytes_free(&pd);

	/* HVM_CONTEXT: HEADER, CPU (opaque here), PIT, RTC, HPET, END. */
	struct support_bytes h = {0};
	uint8_t d[8];
	sr_put16(d, 1), sr_put16(d + 2, 0), sr_put32(d + 4, 24);
	support_bytes_put(&h, d, 8);
	support_bytes_le32(&h, SR_HVM_MAGIC);
	support_bytes_le32(&h, 1);
	support_bytes_zeros(&h, 16);
	sr_put16(d, 2), sr_put32(d + 4, 1024);
	support_bytes_put(&h, d, 8);
	support_bytes_zeros(&h, 1024);
	sr_put16(d, 10), sr_put32(d + 4, 32);
	support_bytes_put(&h, d, 8);
	support_bytes_zeros(&h, 32);
	if (rtc_len) {
		uint8_t r[24] = {0x30, 0, 0x59, 0, 0x23, 0, 0x07, 0x31, 0x12, 0x99, 0x26, 0x02,
		                 0, 0x80, 0x0c, 0};
		sr_put64(r + 16, (uint64_t)INT64_C(-19800));
		sr_put16(d, 11), sr_put32(d + 4, rtc_len);
		support_bytes_put(&h, d, 8);
		support_bytes_put(&h, r, rtc_len);
	}
	sr_put16(d, 12), sr_put32(d + 4, 8);
	support_bytes_put(&h, d, 8);
	support_bytes_zeros(&h, 8);
	sr_put16(d, 0), sr_put32(d + 4, 0);
	support_bytes_put(&h, d, 8);
	support_bytes_rec(o, 9, h.b, h.n);
	support_bytes_free(&h);
	uint8_t params[24] = {1, 0, 0, 0, 0, 0, 0, 0, 2};
	support_bytes_rec(o, 0xa, params, sizeof(params)); /* HVM_PARAMS */
	support_bytes_rec(o, 0, NULL, 0);                  /* libxc END */

	/* EMULATOR_XENSTORE_DATA, then EMULATOR_CONTEXT. */
	uint8_t xs[24] = {2, 0, 0, 0, 0, 0, 0, 0, 'p', 'h', 'y', 's', 'm', 'a', 'p', 0, '1', 0};
	support_bytes_rec(o, 2, xs, 18);
	if (emu != EMU_NONE) {
		uint8_t blob[8 + 512];
		sr_put32(blob, 2);
		sr_put32(blob + 4, 0);
		size_t n;
		if (emu == EMU_QEMU) {
			memcpy(blob + 8, "QEVM\0\0\0\3", 8);
			memset(blob + 16, 0x33, 100);
			n = 108;
		} else if (emu == EMU_COMPANION) {
			/* QEMU's stream ending in QEMU_VM_EOF, rtcdm's image, trailer */
			memcpy(blob + 8, "QEVM\0\0\0\3", 8);
			memset(blob + 16, 0x33, 99);
			blob[8 + 107] = 0x00;
			size_t img = our_image(blob + 8 + 108, sizeof(blob) - 8 - 108 - 32, ALL, 24);
			sr_companion_trailer(blob + 8 + 108 + img, 108, (uint32_t)img);
			n = 108 + img + 32;
		} else {
			n = our_image(blob + 8, sizeof(blob) - 8, ALL, 24);
			if (emu == EMU_BROKEN)
				blob[8 + 186 + 8 + 8] = 2; /* OFFSET.set = 2 */
		}
		support_bytes_rec(o, 3, blob, 8 + n);
	}
	support_bytes_rec(o, 0, NULL, 0); /* libxl END */
}

static int walk_mem(const uint8_t *b, size_t n, struct sr_xl_info *info, char *err)
{
	struct sr_reader r;
	struct sr_mem_source m;
	sr_reader_mem(&r, &m, b, n);
	return sr_walk_xl(&r, info, err, SR_ERR_MAX);
}

static struct sr_xl_info info; /* large: keep it off the stack */

static void test_walk(void)
{
	struct support_bytes o = {0};
	xl_image(&o, EMU_RTCDM, 24);
	char err[SR_ERR_MAX] = "";
	CU_ASSERT_TRUE(sr_looks_like_xl(o.b, o.n));
	CU_ASSERT_EQUAL_FATAL(walk_mem(o.b, o.n, &info, err), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(info.xl_mandatory_flags, 3);
	CU_ASSERT_EQUAL(info.libxl_version, 2);
	CU_ASSERT_TRUE(info.have_libxc);
	CU_ASSERT_EQUAL(info.libxc_version, 3);
	CU_ASSERT_EQUAL(info.domain_type, 2);
	CU_ASSERT_EQUAL(info.page_shift, 12);
	CU_ASSERT_EQUAL(info.xen_major, 4);
	CU_ASSERT_EQUAL(info.xen_minor, 17);
	CU_ASSERT_EQUAL(info.libxc_records, 4); /* PAGE_DATA, HVM_CONTEXT, HVM_PARAMS, END */
	CU_ASSERT_EQUAL(info.page_data_records, 1);
	CU_ASSERT_TRUE(info.have_hvm_context);
	CU_ASSERT_TRUE_FATAL(info.have_xen_rtc);
	CU_ASSERT_EQUAL(info.xen_rtc_len, 24);
	CU_ASSERT_EQUAL(info.xen_rtc.cmos[RTC_YEAR], 0x99);
	CU_ASSERT_EQUAL(info.xen_rtc.index, 0x0c);
	CU_ASSERT_EQUAL(info.xen_rtc.rtc_offset, -19800);
	/* Byte positions: xl header 48 + 4 + config 42 = 94; libxl header 16 -> 110;
	 * LIBXC_CONTEXT 8 -> 118; libxc headers 40 -> 158; PAGE_DATA 8 + 8216 -> 8382;
	 * HVM_CONTEXT body at 8390; RTC after HEADER 32, CPU 1032, PIT 40. */
	CU_ASSERT_EQUAL(info.hvm_context_at, 8390);
	CU_ASSERT_EQUAL(info.hvm_context_len, 32 + 1032 + 40 + 32 + 16 + 8);
	CU_ASSERT_EQUAL(info.xen_rtc_at, 8390 + 32 + 1032 + 40);
	CU_ASSERT_TRUE(info.have_emulator);
	CU_ASSERT_EQUAL(info.emulator_id, 2);
	CU_ASSERT_EQUAL(info.emulator_len, 258);
	CU_ASSERT_EQUAL_FATAL(info.emulator_kind, SR_EMU_RTCDM);
	CU_ASSERT_EQUAL(info.emu_image.offset.seconds, 7200);
	CU_ASSERT_EQUAL(info.emu_image.offset.phase_ns, 500000000);

	/* The text dump names both parts. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	sr_dump_xl_text(f, &info);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "Xen RTC record (HVM_CONTEXT) at byte 9494, length 24\n"
	                                    "  guest time  2099-12-31 23:59:30 (BCD, 24-hour)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "  rtc_offset  -19800 s (-05:30)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "EMULATOR_CONTEXT at byte "));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "  seconds     7200 (+02:00)\n"));
	free(text);
	char *json = sr_dump_xl_json(&info);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"rtc_offset_hhmm\":\"-05:30\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"kind\":\"rtcdm\""));
	free(json);
	support_bytes_free(&o);
}

static void test_walk_variants(void)
{
	char err[SR_ERR_MAX];
	struct support_bytes o = {0};
	xl_image(&o, EMU_QEMU, 16);
	CU_ASSERT_EQUAL_FATAL(walk_mem(o.b, o.n, &info, err), 0);
	CU_ASSERT_EQUAL(info.emulator_kind, SR_EMU_QEMU); /* not ours, Xen part intact */
	CU_ASSERT_EQUAL(info.xen_rtc_len, 16);
	CU_ASSERT_EQUAL(info.xen_rtc.rtc_offset, 0); /* zero-extended */
	support_bytes_free(&o);

	o = (struct support_bytes){0};
	xl_image(&o, EMU_BROKEN, 24);
	CU_ASSERT_EQUAL_FATAL(walk_mem(o.b, o.n, &info, err), 0);
	CU_ASSERT_EQUAL(info.emulator_kind, SR_EMU_INVALID);
	CU_ASSERT_STRING_EQUAL(info.emu_error, "record 4 (OFFSET, instance 0) at byte 186: set 2, "
	                                       "expected 0 or 1");
	CU_ASSERT_EQUAL(info.xen_rtc.rtc_offset, -19800);
	support_bytes_free(&o);

	o = (struct support_bytes){0};
	xl_image(&o, EMU_NONE, 0);
	CU_ASSERT_EQUAL_FATAL(walk_mem(o.b, o.n, &info, err), 0);
	CU_ASSERT_FALSE(info.have_emulator);
	CU_ASSERT_TRUE(info.have_hvm_context);
	CU_ASSERT_FALSE(info.have_xen_rtc);
	support_bytes_free(&o);
}

static void expect_walk_error(const uint8_t *b, size_t n, const char *msg)
{
	char err[SR_ERR_MAX] = "";
	CU_ASSERT_EQUAL(walk_mem(b, n, &info, err), -1);
	if (strcmp(err, msg))
		fprintf(stderr, "\n  expected: %s\n  got:      %s\n", msg, err);
	CU_ASSERT_STRING_EQUAL(err, msg);
}

static void test_walk_errors(void)
{
	struct support_bytes o = {0};
	xl_image(&o, EMU_RTCDM, 24);
	uint8_t *m = malloc(o.n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);

	expect_walk_error(o.b, 20, "xl image at byte 0: truncated xl header (need 48 bytes)");
	memcpy(m, o.b, o.n);
	m[0] = 'x';
	expect_walk_error(m, o.n, "xl image at byte 0: not an xl save image (magic mismatch)");
	memcpy(m, o.b, o.n);
	sr_put32(m + 32, 0x04030201);
	expect_walk_error(m, o.n, "xl image at byte 32: byte order 0x04030201, only little-endian "
	                          "images supported");
	memcpy(m, o.b, o.n);
	sr_put32(m + 36, 0x13);
	expect_walk_error(m, o.n, "xl image at byte 36: unknown mandatory flags 0x00000010");
	memcpy(m, o.b, o.n);
	sr_put32(m + 36, 1);
	expect_walk_error(m, o.n, "xl image at byte 36: legacy (v1) save stream not supported");
	memcpy(m, o.b, o.n);
	sr_put32(m + 44, 0x7fffffff);
	expect_walk_error(m, o.n, "xl image at byte 48: truncated xl optional data (need "
	                          "2147483647 bytes)");
	memcpy(m, o.b, o.n);
	m[94] = 'l';
	expect_walk_error(m, o.n, "xl image at byte 94: not a libxl stream (ident mismatch)");
	/* A libxc record longer than REC_LENGTH_MAX (the PAGE_DATA at 158). */
	memcpy(m, o.b, o.n);
	sr_put32(m + 162, SR_XL_REC_LENGTH_MAX + 1);
	expect_walk_error(m, o.n, "xl image at byte 158: libxc record type 0x1 length 134217729 "
	                          "exceeds 134217728");
	/* PAGE_DATA claims more than the file holds. */
	memcpy(m, o.b, o.n);
	sr_put32(m + 162, SR_XL_REC_LENGTH_MAX);
	expect_walk_error(m, o.n, "xl image at byte 166: truncated libxc record (need 134217728 "
	                          "bytes)");
	/* An HVM record running past the end of HVM_CONTEXT. */
	memcpy(m, o.b, o.n);
	sr_put32(m + 8390 + 32 + 4, 5000);
	expect_walk_error(m, o.n, "xl image at byte 8422: HVM_CONTEXT: record typecode 2 length "
	                          "5000, but only 1120 bytes left");
	/* Xen's RTC record longer than 24. */
	memcpy(m, o.b, o.n);
	sr_put32(m + 9494 + 4, 32);
	expect_walk_error(m, o.n, "xl image at byte 9494: HVM_CONTEXT: RTC record length 32, "
	                          "expected 24 or 16");

	/* Every prefix fails cleanly (no crash, one message). */
	unsigned failures = 0;
	for (size_t n = 0; n < o.n; n++) {
		char err[SR_ERR_MAX] = "";
		if (walk_mem(o.b, n, &info, err) == -1 && strncmp(err, "xl image at byte ", 17) == 0)
			failures++;
	}
	CU_ASSERT_EQUAL(failures, o.n);
	free(m);
	support_bytes_free(&o);
}

/* The same walk from a file descriptor: a seekable file and a pipe. */
static void test_walk_fd(void)
{
	struct support_bytes o = {0};
	xl_image(&o, EMU_RTCDM, 24);
	char path[] = "/tmp/rtcdm-sr-image-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, o.b, o.n), (ssize_t)o.n);
	lseek(fd, 0, SEEK_SET);
	struct sr_reader r;
	struct sr_fd_source src;
	char err[SR_ERR_MAX];
	sr_reader_fd(&r, &src, fd);
	CU_ASSERT_TRUE(src.seekable);
	CU_ASSERT_EQUAL(sr_walk_xl(&r, &info, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(info.xen_rtc.rtc_offset, -19800);
	CU_ASSERT_EQUAL(info.emulator_kind, SR_EMU_RTCDM);
	/* Truncated file: skipping the page data past the end is an error. */
	CU_ASSERT_EQUAL(ftruncate(fd, 4000), 0);
	lseek(fd, 0, SEEK_SET);
	sr_reader_fd(&r, &src, fd);
	CU_ASSERT_EQUAL(sr_walk_xl(&r, &info, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "xl image at byte 166: truncated libxc record (need 8216 "
	                            "bytes)");
	close(fd);
	unlink(path);

	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT_TRUE_FATAL(o.n < 65536); /* fits in the pipe buffer */
	CU_ASSERT_EQUAL(write(p[1], o.b, o.n), (ssize_t)o.n);
	close(p[1]);
	sr_reader_fd(&r, &src, p[0]);
	CU_ASSERT_FALSE(src.seekable);
	CU_ASSERT_EQUAL(sr_walk_xl(&r, &info, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(info.page_data_records, 1);
	CU_ASSERT_EQUAL(info.emu_image.offset.seconds, 7200);
	close(p[0]);
	support_bytes_free(&o);
}

/* ---- fuzz seed corpora ------------------------------------------------------ */

struct seed {
	const char *dir, *name;
	struct support_bytes data;
};

static size_t make_seeds(struct seed *s)
{
	size_t n = 0;
	uint8_t b[1024];
	static const struct {
		const char *name;
		unsigned present;
		uint32_t rtc_len;
	} loads[] = {
		{"v1-full.bin", ALL, 24},
		{"v1-rtc-nvram-offset.bin", 1u << SR_REC_RTC | 1u << SR_REC_NVRAM | 1u << SR_REC_OFFSET,
		 24},
		{"xen-rtc24-only.bin", 1u << SR_REC_RTC, 24},
		{"xen-rtc16-only.bin", 1u << SR_REC_RTC, 16},
		{"xen-rtc16-with-nvram.bin", 1u << SR_REC_RTC | 1u << SR_REC_NVRAM, 16},
	};
	for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++, n++) {
		s[n] = (struct seed){"tests/fuzz/corpus/fuzz_sr_load", loads[i].name, {0}};
		support_bytes_put(&s[n].data, b, our_image(b, sizeof(b), loads[i].present, loads[i].rtc_len));
	}
	/* An image with an unknown optional record. */
	size_t k = our_image(b, sizeof(b), ALL, 24);
	s[n] = (struct seed){"tests/fuzz/corpus/fuzz_sr_load", "v1-optional-extra.bin", {0}};
	support_bytes_put(&s[n].data, b, k - 8);
	uint8_t ext[12] = {0x10, 0xd2, 0, 0, 4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef};
	support_bytes_put(&s[n].data, ext, sizeof(ext));
	support_bytes_put(&s[n].data, b + k - 8, 8);
	n++;
	static const struct {
		const char *name;
		enum emu emu;
		uint32_t rtc_len;
	} xls[] = {
		{"xl-rtcdm.bin", EMU_RTCDM, 24},
		{"xl-qemu-rtc16.bin", EMU_QEMU, 16},
		{"xl-rtcdm-refused.bin", EMU_BROKEN, 24},
	};
	for (size_t i = 0; i < sizeof(xls) / sizeof(xls[0]); i++, n++) {
		s[n] = (struct seed){"tests/fuzz/corpus/fuzz_sr_image", xls[i].name, {0}};
		xl_image(&s[n].data, xls[i].emu, xls[i].rtc_len);
	}
	return n;
}

/* The committed seeds are exactly what this file generates (set
 * RTCDM_WRITE_SEEDS=1 to rewrite them), and every load seed is valid. */
/* The EMULATOR_CONTEXT of a companion-mode save: rtcdm's part is found
 * inside the xl image by offset and length; a stock QEMU blob has none. */
static void test_walk_companion(void)
{
	char dir[64], path[128], err[SR_ERR_MAX];
	static struct sr_companion c;
	enum emu kinds[2] = {EMU_COMPANION, EMU_QEMU};
	int want[2] = {1, 0};

	CU_ASSERT_EQUAL_FATAL(support_tmpdir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/xl", dir);
	for (int k = 0; k < 2; k++) {
		struct support_bytes o = {0};
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		xl_image(&o, kinds[k], 24);
		CU_ASSERT_EQUAL_FATAL(walk_mem(o.b, o.n, &info, err), 0);
		CU_ASSERT_EQUAL(info.emulator_kind, SR_EMU_QEMU);
		CU_ASSERT_EQUAL(write(fd, o.b, o.n), (ssize_t)o.n);
		CU_ASSERT_EQUAL(sr_companion_find(fd, info.emulator_at, info.emulator_len, &c, err,
		                                  sizeof(err)),
		                want[k]);
		if (want[k]) {
			CU_ASSERT_EQUAL(c.qemu_len, 108);
			CU_ASSERT_EQUAL(c.image_len, info.emulator_len - 108 - 32);
			CU_ASSERT_EQUAL(c.image.offset.seconds, 7200);
		}
		close(fd);
		support_bytes_free(&o);
	}
	support_rmtree(dir);
}

static void test_seeds(void)
{
	struct seed s[16];
	size_t n = make_seeds(s);
	bool write = getenv("RTCDM_WRITE_SEEDS") != NULL;
	for (size_t i = 0; i < n; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", s[i].dir, s[i].name);
		if (write) {
			mkdir("tests/fuzz/corpus", 0755);
			mkdir(s[i].dir, 0755);
			char err[SR_ERR_MAX];
			CU_ASSERT_EQUAL(sr_write_file_atomic(path, s[i].data.b, s[i].data.n, err,
			                                     sizeof(err)), 0);
		}
		uint8_t *buf = NULL;
		size_t len = 0;
		char err[SR_ERR_MAX];
		int rc = sr_read_file(path, 1 << 20, &buf, &len, err, sizeof(err));
		if (rc)
			fprintf(stderr, "\n  %s (run from the source tree)\n", err);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		CU_ASSERT_EQUAL(len, s[i].data.n);
		CU_ASSERT_TRUE(len == s[i].data.n && memcmp(buf, s[i].data.b, len) == 0);
		if (strstr(s[i].dir, "fuzz_sr_load")) {
			struct sr_image img;
			CU_ASSERT_EQUAL(sr_load(buf, len, &img, err, sizeof(err)), 0);
		} else {
			CU_ASSERT_EQUAL(walk_mem(buf, len, &info, err), 0);
		}
		free(buf);
		free(s[i].data.b);
	}
}

void suite_sr_image(void)
{
	CU_pSuite s = CU_add_suite("saverestore xl image walker", NULL, NULL);
	CU_add_test(s, "walk a synthetic xl save image", test_walk);
	CU_add_test(s, "QEMU blob, refused blob, no RTC", test_walk_variants);
	CU_add_test(s, "refused xl images and every prefix", test_walk_errors);
	CU_add_test(s, "walk from a file and a pipe", test_walk_fd);
	CU_add_test(s, "companion-mode EMULATOR_CONTEXT", test_walk_companion);
	CU_add_test(s, "fuzz seed corpora", test_seeds);
}
