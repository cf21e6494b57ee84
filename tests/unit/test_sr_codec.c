/* Save format codec: exact encoding, round trips, older lengths, every
 * refusal with its exact message and an untouched staging copy. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "saverestore/sr.h"

void suite_sr_codec(void);

/* Byte offsets of the descriptors in the fixture image. */
enum {
	AT_HEADER = 0,
	AT_RTC = 32,
	AT_NVRAM = 64,
	AT_OFFSET = 186,
	AT_TIMER = 210,
	AT_PORT = 234,
	AT_END = 250,
	FULL_SIZE = 258,
};

static void fixture(struct sr_image *img)
{
	sr_image_init(img);
	static const uint8_t regs[14] = {0x09, 0x00, 0x07, 0x00, 0x14, 0x00, 0x03,
	                                 0x05, 0x03, 0x24, 0x26, 0x02, 0x00, 0x80};
	memcpy(img->rtc.cmos, regs, sizeof(regs));
	img->rtc.index = 0x0b;
	img->rtc.rtc_offset = -19800;
	for (unsigned i = 0; i < SR_NVRAM_LEN; i++)
		img->nvram[i] = (uint8_t)(0x0e + i);
	img->nvram[RTC_CENTURY - RTC_NVRAM_FIRST] = 0x20;
	img->offset.seconds = -19800;
	img->offset.set = 0;
	img->offset.phase_ns = 250000000;
	img->timer.pending = RTC_C_IRQF | RTC_C_PF;
	img->timer.irq_level = 1;
	img->timer.lost_ticks = 3;
	img->timer.period_elapsed_ns = 976562;
	img->port.index = 0x32;
	img->port.nmi_masked = 1;
	img->present = (1u << SR_REC_COUNT) - 1;
}

static size_t full(uint8_t *buf, size_t cap)
{
	struct sr_image img;
	fixture(&img);
	size_t n = sr_encode(&img, buf, cap);
	CU_ASSERT_EQUAL_FATAL(n, FULL_SIZE);
	return n;
}

/* Load must fail with exactly msg and leave the output untouched. */
static void expect_refused(const uint8_t *buf, size_t len, const char *msg)
{
	struct sr_image out, ref;
	char err[SR_ERR_MAX] = "";
	memset(&out, 0xa5, sizeof(out));
	memcpy(&ref, &out, sizeof(out));
	CU_ASSERT_EQUAL(sr_load(buf, len, &out, err, sizeof(err)), -1);
	if (strcmp(err, msg) != 0)
		fprintf(stderr, "\n  expected: %s\n  got:      %s\n", msg, err);
	CU_ASSERT_STRING_EQUAL(err, msg);
	CU_ASSERT_EQUAL(memcmp(&out, &ref, sizeof(out)), 0);
}

static void test_encode_bytes(void)
{
	uint8_t b[512];
	full(b, sizeof(b));
	/* HEADER: descriptor {1, 0, 24}, magic, version, changeset -1, cpuid 0, gtsc 0. */
	static const uint8_t hdr[32] = {1, 0, 0, 0, 24, 0, 0, 0, 0x86, 0x12, 0x38, 0x54, 1, 0, 0, 0,
	                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                0, 0, 0, 0, 0, 0, 0, 0};
	CU_ASSERT_EQUAL(memcmp(b, hdr, 32), 0);
	/* RTC: {11, 0, 24}, regs, index 0x0b, pad 0, rtc_offset -19800 LE. */
	static const uint8_t rtc[32] = {11, 0, 0, 0, 24, 0, 0, 0,
	                                0x09, 0x00, 0x07, 0x00, 0x14, 0x00, 0x03, 0x05,
	                                0x03, 0x24, 0x26, 0x02, 0x00, 0x80, 0x0b, 0x00,
	                                0xa8, 0xb2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	CU_ASSERT_EQUAL(memcmp(b + AT_RTC, rtc, 32), 0);
	static const uint8_t nv[8] = {0x01, 0x52, 0, 0, 114, 0, 0, 0};
	CU_ASSERT_EQUAL(memcmp(b + AT_NVRAM, nv, 8), 0);
	CU_ASSERT_EQUAL(b[AT_NVRAM + 8], 0x0e);
	CU_ASSERT_EQUAL(b[AT_NVRAM + 8 + 113], 0x7f);
	static const uint8_t off[24] = {0x02, 0x52, 0, 0, 16, 0, 0, 0,
	                                0xa8, 0xb2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                0, 0, 0, 0, 0x80, 0xb2, 0xe6, 0x0e};
	CU_ASSERT_EQUAL(memcmp(b + AT_OFFSET, off, 24), 0);
	static const uint8_t tim[24] = {0x03, 0x52, 0, 0, 16, 0, 0, 0,
	                                0xc0, 1, 0, 0, 3, 0, 0, 0,
	                                0xb2, 0xe6, 0x0e, 0, 0, 0, 0, 0};
	CU_ASSERT_EQUAL(memcmp(b + AT_TIMER, tim, 24), 0);
	static const uint8_t port[16] = {0x04, 0x52, 0, 0, 8, 0, 0, 0, 0x32, 1, 0, 0, 0, 0, 0, 0};
	CU_ASSERT_EQUAL(memcmp(b + AT_PORT, port, 16), 0);
	static const uint8_t end[8] = {0};
	CU_ASSERT_EQUAL(memcmp(b + AT_END, end, 8), 0);
	/* Too small a buffer: size reported, nothing written. */
	uint8_t small[16];
	memset(small, 0x5a, sizeof(small));
	struct sr_image img;
	fixture(&img);
	CU_ASSERT_EQUAL(sr_encode(&img, small, sizeof(small)), FULL_SIZE);
	CU_ASSERT_EQUAL(small[0], 0x5a);
	CU_ASSERT_EQUAL(sr_encode(&img, NULL, 0), FULL_SIZE);
}

static void test_round_trip_all(void)
{
	uint8_t b[512], b2[512];
	size_t n = full(b, sizeof(b));
	struct sr_image in, out;
	char err[SR_ERR_MAX] = "";
	fixture(&in);
	CU_ASSERT_EQUAL_FATAL(sr_load(b, n, &out, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(out.present, in.present);
	CU_ASSERT_EQUAL(out.header.magic, SR_HVM_MAGIC);
	CU_ASSERT_EQUAL(out.header.version, 1);
	CU_ASSERT_EQUAL(out.header.changeset, UINT64_MAX);
	CU_ASSERT_EQUAL(memcmp(&out.rtc, &in.rtc, sizeof(in.rtc)), 0);
	CU_ASSERT_EQUAL(out.rtc.rtc_offset, -19800);
	CU_ASSERT_EQUAL(memcmp(out.nvram, in.nvram, SR_NVRAM_LEN), 0);
	CU_ASSERT_EQUAL(out.offset.seconds, -19800);
	CU_ASSERT_EQUAL(out.offset.set, 0);
	CU_ASSERT_EQUAL(out.offset.phase_ns, 250000000);
	CU_ASSERT_EQUAL(out.timer.pending, 0xc0);
	CU_ASSERT_EQUAL(out.timer.irq_level, 1);
	CU_ASSERT_EQUAL(out.timer.lost_ticks, 3);
	CU_ASSERT_EQUAL(out.timer.period_elapsed_ns, 976562);
	CU_ASSERT_EQUAL(out.port.index, 0x32);
	CU_ASSERT_EQUAL(out.port.nmi_masked, 1);
	CU_ASSERT_EQUAL(out.size, FULL_SIZE);
	CU_ASSERT_EQUAL(out.skipped_optional, 0);
	/* Where each record was found. */
	CU_ASSERT_EQUAL(out.where[SR_REC_RTC].recno, 2);
	CU_ASSERT_EQUAL(out.where[SR_REC_RTC].offset, AT_RTC);
	CU_ASSERT_EQUAL(out.where[SR_REC_RTC].length, 24);
	CU_ASSERT_EQUAL(out.where[SR_REC_PORT].recno, 6);
	CU_ASSERT_EQUAL(out.where[SR_REC_PORT].offset, AT_PORT);
	CU_ASSERT_EQUAL(out.end_where.recno, 7);
	CU_ASSERT_EQUAL(out.end_where.offset, AT_END);
	/* Encoding what was loaded gives the same bytes. */
	CU_ASSERT_EQUAL(sr_encode(&out, b2, sizeof(b2)), n);
	CU_ASSERT_EQUAL(memcmp(b, b2, n), 0);
}

/* Each record alone with the RTC record: loads back with the same fields. */
static void test_round_trip_each(void)
{
	static const size_t body[SR_REC_COUNT] = {24, 114, 16, 16, 8};
	for (unsigned r = SR_REC_NVRAM; r < SR_REC_COUNT; r++) {
		struct sr_image in, out;
		uint8_t b[512];
		char err[SR_ERR_MAX];
		fixture(&in);
		in.present = 1u << SR_REC_RTC | 1u << r;
		size_t n = sr_encode(&in, b, sizeof(b));
		CU_ASSERT_EQUAL(n, 32 + 32 + 8 + body[r] + 8);
		CU_ASSERT_EQUAL_FATAL(sr_load(b, n, &out, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(out.present, in.present);
		CU_ASSERT_EQUAL(out.where[r].recno, 3);
		CU_ASSERT_EQUAL(out.where[r].length, sr_records[r].length);
		switch (r) {
		case SR_REC_NVRAM:
			CU_ASSERT_EQUAL(memcmp(out.nvram, in.nvram, SR_NVRAM_LEN), 0);
			break;
		case SR_REC_OFFSET:
			CU_ASSERT_EQUAL(memcmp(&out.offset, &in.offset, sizeof(in.offset)), 0);
			break;
		case SR_REC_TIMER:
			CU_ASSERT_EQUAL(memcmp(&out.timer, &in.timer, sizeof(in.timer)), 0);
			break;
		case SR_REC_PORT:
			CU_ASSERT_EQUAL(memcmp(&out.port, &in.port, sizeof(in.port)), 0);
			break;
		}
	}
}

/* Raw CMOS bytes are kept whatever they are. */
static void test_raw_cmos_kept(void)
{
	struct sr_image in, out;
	uint8_t b[512];
	char err[SR_ERR_MAX];
	fixture(&in);
	memset(in.rtc.cmos, 0xff, sizeof(in.rtc.cmos));
	memset(in.nvram, 0xff, sizeof(in.nvram));
	in.rtc.pad0 = 0x77;
	size_t n = sr_encode(&in, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(sr_load(b, n, &out, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 14; i++)
		CU_ASSERT_EQUAL(out.rtc.cmos[i], 0xff);
	for (unsigned i = 0; i < SR_NVRAM_LEN; i++)
		CU_ASSERT_EQUAL(out.nvram[i], 0xff);
	CU_ASSERT_EQUAL(out.rtc.pad0, 0x77);
}

/* Xen's 16-byte RTC record: loads zero-extended (rtc_offset 0). */
static void test_old_rtc_record(void)
{
	uint8_t b[128];
	struct sr_image in, out;
	char err[SR_ERR_MAX];
	fixture(&in);
	in.present = 1u << SR_REC_RTC;
	size_t n = sr_encode(&in, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(n, 72);
	/* Shorten the record to 16 bytes: drop rtc_offset. */
	sr_put32(b + AT_RTC + 4, 16);
	memmove(b + AT_RTC + 8 + 16, b + AT_RTC + 8 + 24, 8);
	n -= 8;
	memset(&out, 0x5a, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(sr_load(b, n, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(out.rtc.rtc_offset, 0);
	CU_ASSERT_EQUAL(memcmp(out.rtc.cmos, in.rtc.cmos, 14), 0);
	CU_ASSERT_EQUAL(out.rtc.index, 0x0b);
	CU_ASSERT_EQUAL(out.where[SR_REC_RTC].length, 16);
	struct rtc_offset got;
	CU_ASSERT_EQUAL(sr_image_offset(&out, &got), SR_OFFSET_OLD_RECORD_ZERO);
	CU_ASSERT_EQUAL(got.seconds, 0);
	/* Re-encoding writes the current 24-byte form with offset 0. */
	uint8_t up[128];
	CU_ASSERT_EQUAL(sr_encode(&out, up, sizeof(up)), 72);
	CU_ASSERT_EQUAL(sr_get32(up + AT_RTC + 4), 24);
	CU_ASSERT_EQUAL(sr_get64(up + AT_RTC + 8 + 16), 0);
}

static void test_optional_unknown_skipped(void)
{
	uint8_t b[600];
	size_t n = full(b, sizeof(b));
	/* Insert an unknown optional record {0xd2ff, 0, 5} before END. */
	uint8_t ext[13] = {0xff, 0xd2, 0, 0, 5, 0, 0, 0, 1, 2, 3, 4, 5};
	memmove(b + AT_END + sizeof(ext), b + AT_END, 8);
	memcpy(b + AT_END, ext, sizeof(ext));
	n += sizeof(ext);
	struct sr_image out;
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL_FATAL(sr_load(b, n, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(out.skipped_optional, 1);
	CU_ASSERT_EQUAL(out.present, (1u << SR_REC_COUNT) - 1);
	CU_ASSERT_EQUAL(out.end_where.recno, 8);
	CU_ASSERT_EQUAL(out.offset.phase_ns, 250000000);
	/* The same record truncated is refused. */
	sr_put32(b + AT_END + 4, 100);
	expect_refused(b, n, "record 7 (typecode 0xd2ff, instance 0) at byte 250: length 100, "
	                     "but only 13 bytes left (truncated)");
}

static void test_refuse_structure(void)
{
	uint8_t b[600], m[600];
	size_t n = full(b, sizeof(b));

	expect_refused(b, 0, "record 1 at byte 0: image ends without an END record");
	expect_refused(NULL, 10, "record 1 at byte 0: image ends without an END record");
	expect_refused(b, 5, "record 1 at byte 0: truncated descriptor (5 bytes left, need 8)");
	expect_refused(b, 20, "record 1 (HEADER, instance 0) at byte 0: length 24, but only 12 "
	                      "bytes left (truncated)");
	expect_refused(b + AT_RTC, n - AT_RTC, "record 1 (RTC, instance 0) at byte 0: first "
	                                       "record must be HEADER (typecode 1)");
	memcpy(m, b, n);
	sr_put32(m + 4, 16);
	expect_refused(m, n, "record 1 (HEADER, instance 0) at byte 0: length 16, expected 24");
	memcpy(m, b, n);
	sr_put32(m + 8, 0x12345678);
	expect_refused(m, n, "record 1 (HEADER, instance 0) at byte 0: magic 0x12345678, "
	                     "expected 0x54381286");
	memcpy(m, b, n);
	sr_put32(m + 12, 2);
	expect_refused(m, n, "record 1 (HEADER, instance 0) at byte 0: version 2, expected 1");
	memcpy(m, b, n);
	sr_put16(m + 2, 1);
	expect_refused(m, n, "record 1 (HEADER, instance 1) at byte 0: instance 1, expected 0");

	/* Missing END, truncated descriptor, trailing bytes, END with a body. */
	expect_refused(b, AT_END, "record 7 at byte 250: image ends without an END record");
	expect_refused(b, AT_END + 4, "record 7 at byte 250: truncated descriptor (4 bytes left, "
	                              "need 8)");
	memcpy(m, b, n);
	memset(m + n, 0, 3);
	expect_refused(m, n + 3, "record 7 (END, instance 0) at byte 250: 3 bytes after END");
	memcpy(m, b, n);
	sr_put32(m + AT_END + 4, 4);
	memset(m + n, 0, 4);
	expect_refused(m, n + 4, "record 7 (END, instance 0) at byte 250: length 4, expected 0");
	memcpy(m, b, n);
	sr_put16(m + AT_END + 2, 2);
	expect_refused(m, n, "record 7 (END, instance 2) at byte 250: instance 2, expected 0");

	/* Truncated record body (cut inside NVRAM). */
	expect_refused(b, AT_NVRAM + 8 + 50, "record 3 (NVRAM, instance 0) at byte 64: length "
	                                     "114, but only 50 bytes left (truncated)");
}

static void test_refuse_lengths(void)
{
	uint8_t b[600], m[700];
	size_t n = full(b, sizeof(b));

	/* The example of the specification: PORT first, then a 32-byte RTC record
	 * as record 3 at byte 48. */
	struct sr_image img;
	fixture(&img);
	size_t k = 0;
	memcpy(m, b, 32);
	k = 32;
	memcpy(m + k, b + AT_PORT, 16);
	k += 16;
	sr_put16(m + k, 11);
	sr_put16(m + k + 2, 0);
	sr_put32(m + k + 4, 32);
	memset(m + k + 8, 0, 32);
	k += 40;
	memset(m + k, 0, 8);
	k += 8;
	expect_refused(m, k, "record 3 (RTC, instance 0) at byte 48: length 32, expected at most "
	                     "24");

	memcpy(m, b, n);
	sr_put32(m + AT_RTC + 4, 20);
	expect_refused(m, n, "record 2 (RTC, instance 0) at byte 32: length 20, expected 24 or "
	                     "16");
	memcpy(m, b, n);
	sr_put32(m + AT_NVRAM + 4, 100);
	expect_refused(m, n, "record 3 (NVRAM, instance 0) at byte 64: length 100, expected 114");
	memcpy(m, b, n);
	sr_put32(m + AT_OFFSET + 4, 12);
	expect_refused(m, n, "record 4 (OFFSET, instance 0) at byte 186: length 12, expected 16");
	memcpy(m, b, n);
	sr_put32(m + AT_TIMER + 4, 0);
	expect_refused(m, n, "record 5 (TIMER, instance 0) at byte 210: length 0, expected 16");
	memcpy(m, b, n);
	sr_put32(m + AT_PORT + 4, 0xffffffffu);
	expect_refused(m, n, "record 6 (PORT, instance 0) at byte 234: length 4294967295, "
	                     "expected at most 8");
}

static void test_refuse_records(void)
{
	uint8_t b[600], m[700];
	size_t n = full(b, sizeof(b));

	/* Duplicate: a second RTC record (copy of record 2) before END. */
	memcpy(m, b, AT_END);
	memcpy(m + AT_END, b + AT_RTC, 32);
	memset(m + AT_END + 32, 0, 8);
	expect_refused(m, n + 32, "record 7 (RTC, instance 0) at byte 250: duplicate instance 0 "
	                          "(first at record 2, byte 32)");
	memcpy(m, b, n);
	sr_put16(m + AT_NVRAM + 2, 1);
	expect_refused(m, n, "record 3 (NVRAM, instance 1) at byte 64: instance 1, expected "
	                     "below 1");
	memcpy(m, b, n);
	sr_put16(m + AT_NVRAM, 0x5299);
	expect_refused(m, n, "record 3 (typecode 0x5299, instance 0) at byte 64: unknown "
	                     "typecode, not marked optional (bit 15)");
	memcpy(m, b, n);
	sr_put16(m + AT_RTC, 2);
	expect_refused(m, n, "record 2 (CPU, instance 0) at byte 32: typecode 2 is not part of "
	                     "an rtcdm image");
	memcpy(m, b, n);
	sr_put16(m + AT_RTC, 1);
	expect_refused(m, n, "record 2 (HEADER, instance 0) at byte 32: HEADER may only be the "
	                     "first record");
	/* No RTC record at all. */
	struct sr_image img;
	fixture(&img);
	img.present = 1u << SR_REC_NVRAM;
	size_t k = sr_encode(&img, m, sizeof(m));
	expect_refused(m, k, "record 3 (END, instance 0) at byte 154: no RTC record (typecode "
	                     "11) before END");
}

static void test_refuse_values(void)
{
	uint8_t b[600], m[600];
	size_t n = full(b, sizeof(b));
	struct {
		size_t at;
		int width; /* bytes: 1, 4 or 8 */
		uint64_t val;
		const char *msg;
	} cases[] = {
		{AT_RTC + 8 + 14, 1, 128,
		 "record 2 (RTC, instance 0) at byte 32: cmos_index 128, expected 0..127"},
		{AT_RTC + 8 + 16, 8, (uint64_t)(SR_OFFSET_LIMIT + 1),
		 "record 2 (RTC, instance 0) at byte 32: rtc_offset 1099511627777, expected within "
		 "+-1099511627776"},
		{AT_OFFSET + 8, 8, (uint64_t)(-SR_OFFSET_LIMIT - 1),
		 "record 4 (OFFSET, instance 0) at byte 186: seconds -1099511627777, expected "
		 "within +-1099511627776"},
		{AT_OFFSET + 8 + 8, 1, 2,
		 "record 4 (OFFSET, instance 0) at byte 186: set 2, expected 0 or 1"},
		{AT_OFFSET + 8 + 10, 1, 1,
		 "record 4 (OFFSET, instance 0) at byte 186: padding byte 10 is 0x01, expected 0"},
		{AT_OFFSET + 8 + 12, 4, 1000000000,
		 "record 4 (OFFSET, instance 0) at byte 186: phase_ns 1000000000, expected below "
		 "1000000000"},
		{AT_TIMER + 8, 1, 0x08,
		 "record 5 (TIMER, instance 0) at byte 210: pending 0x08 has bits outside 0xf0"},
		{AT_TIMER + 8 + 1, 1, 2,
		 "record 5 (TIMER, instance 0) at byte 210: irq_level 2, expected 0 or 1"},
		{AT_TIMER + 8 + 4, 4, RTC_MAX_LOST_TICKS + 1,
		 "record 5 (TIMER, instance 0) at byte 210: lost_ticks 65537, expected at most "
		 "65536"},
		{AT_TIMER + 8 + 8, 4, 1000000000,
		 "record 5 (TIMER, instance 0) at byte 210: period_elapsed_ns 1000000000, expected "
		 "below 1000000000"},
		{AT_TIMER + 8 + 15, 1, 0x80,
		 "record 5 (TIMER, instance 0) at byte 210: padding byte 15 is 0x80, expected 0"},
		{AT_PORT + 8, 1, 200,
		 "record 6 (PORT, instance 0) at byte 234: index 200, expected 0..127"},
		{AT_PORT + 8 + 1, 1, 2,
		 "record 6 (PORT, instance 0) at byte 234: nmi_masked 2, expected 0 or 1"},
		{AT_PORT + 8 + 7, 1, 9,
		 "record 6 (PORT, instance 0) at byte 234: padding byte 7 is 0x09, expected 0"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(m, b, n);
		if (cases[i].width == 1)
			m[cases[i].at] = (uint8_t)cases[i].val;
		else if (cases[i].width == 4)
			sr_put32(m + cases[i].at, (uint32_t)cases[i].val);
		else
			sr_put64(m + cases[i].at, cases[i].val);
		expect_refused(m, n, cases[i].msg);
	}
	/* The limits themselves are accepted. */
	memcpy(m, b, n);
	sr_put64(m + AT_OFFSET + 8, (uint64_t)(-SR_OFFSET_LIMIT));
	sr_put32(m + AT_OFFSET + 8 + 12, 999999999);
	sr_put32(m + AT_TIMER + 8 + 4, RTC_MAX_LOST_TICKS);
	m[AT_PORT + 8] = 127;
	struct sr_image out;
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL(sr_load(m, n, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(out.offset.seconds, -SR_OFFSET_LIMIT);
	CU_ASSERT_EQUAL(out.offset.phase_ns, 999999999);
	CU_ASSERT_EQUAL(out.timer.lost_ticks, RTC_MAX_LOST_TICKS);
	CU_ASSERT_EQUAL(out.port.index, 127);
}

/* A short error buffer truncates the message but never overflows. */
static void test_error_buffer(void)
{
	uint8_t b[600];
	size_t n = full(b, sizeof(b));
	b[AT_PORT + 8] = 200;
	char err[12];
	memset(err, 'x', sizeof(err));
	struct sr_image out;
	CU_ASSERT_EQUAL(sr_load(b, n, &out, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "record 6 (P");
	CU_ASSERT_EQUAL(sr_load(b, n, &out, NULL, 0), -1);
}

#if RTCDM_HAVE_XEN && defined(__has_include)
#if __has_include(<xen/arch-x86/hvm/save.h>)
#define HAVE_XEN_SAVE_H 1
#endif
#endif

#ifdef HAVE_XEN_SAVE_H
#include <stddef.h>
/* Xen's header insists on GNU C for anonymous unions elsewhere in the file;
 * the structures we compare need nothing beyond C11. */
#undef __STRICT_ANSI__
#include <xen/xen.h>
#include <xen/hvm/save.h>

static void test_xen_struct(void)
{
	CU_ASSERT_EQUAL(sizeof(struct hvm_hw_rtc), SR_RTC_LEN);
	CU_ASSERT_EQUAL(offsetof(struct hvm_hw_rtc, cmos_data), 0);
	CU_ASSERT_EQUAL(offsetof(struct hvm_hw_rtc, cmos_index), 14);
	CU_ASSERT_EQUAL(offsetof(struct hvm_hw_rtc, pad0), 15);
	CU_ASSERT_EQUAL(offsetof(struct hvm_hw_rtc, rtc_offset), 16);
	CU_ASSERT_EQUAL(HVM_SAVE_CODE(RTC), SR_TC_RTC);
	CU_ASSERT_EQUAL(HVM_SAVE_LENGTH(RTC), SR_RTC_LEN);
	CU_ASSERT_EQUAL(HVM_SAVE_CODE(HEADER), SR_TC_HEADER);
	CU_ASSERT_EQUAL(HVM_SAVE_CODE(END), SR_TC_END);
	CU_ASSERT_EQUAL(sizeof(struct hvm_save_descriptor), SR_DESC_SIZE);
	CU_ASSERT_EQUAL(sizeof(struct hvm_save_header), SR_HEADER_LEN);
	CU_ASSERT_EQUAL(HVM_FILE_MAGIC, SR_HVM_MAGIC);
	CU_ASSERT_EQUAL(HVM_FILE_VERSION, SR_HVM_VERSION);

	/* Our encoded RTC record is byte-identical to Xen's struct. */
	struct hvm_hw_rtc x;
	memset(&x, 0, sizeof(x));
	for (unsigned i = 0; i < RTC_CMOS_SIZE; i++)
		x.cmos_data[i] = (uint8_t)(0x30 + i);
	x.cmos_index = 0x0c;
	x.rtc_offset = -123456789012;
	struct sr_image img;
	sr_image_init(&img);
	memcpy(img.rtc.cmos, x.cmos_data, 14);
	img.rtc.index = 0x0c;
	img.rtc.rtc_offset = -123456789012;
	img.present = 1u << SR_REC_RTC;
	uint8_t b[128];
	CU_ASSERT_EQUAL_FATAL(sr_encode(&img, b, sizeof(b)), 72);
	struct hvm_save_descriptor d;
	memcpy(&d, b + AT_RTC, sizeof(d));
	CU_ASSERT_EQUAL(d.typecode, HVM_SAVE_CODE(RTC));
	CU_ASSERT_EQUAL(d.instance, 0);
	CU_ASSERT_EQUAL(d.length, HVM_SAVE_LENGTH(RTC));
	CU_ASSERT_EQUAL(memcmp(b + AT_RTC + 8, &x, sizeof(x)), 0);
	struct hvm_save_header h;
	memcpy(&h, b + 8, sizeof(h));
	CU_ASSERT_EQUAL(h.magic, HVM_FILE_MAGIC);
	CU_ASSERT_EQUAL(h.version, HVM_FILE_VERSION);

	/* And Xen's bytes load into the same values. */
	memcpy(b + AT_RTC + 8, &x, sizeof(x));
	struct sr_image out;
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL_FATAL(sr_load(b, 72, &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(out.rtc.rtc_offset, x.rtc_offset);
	CU_ASSERT_EQUAL(memcmp(out.rtc.cmos, x.cmos_data, 14), 0);
}
#endif

static void test_image_offset(void)
{
	struct sr_image img;
	struct rtc_offset got;
	fixture(&img);
	/* Both records: OFFSET wins over RTC.rtc_offset. */
	img.rtc.rtc_offset = 42;
	img.where[SR_REC_RTC].length = 24;
	CU_ASSERT_EQUAL(sr_image_offset(&img, &got), SR_OFFSET_APPLIED);
	CU_ASSERT_EQUAL(got.seconds, -19800);
	CU_ASSERT_EQUAL(got.phase_ns, 250000000);
	CU_ASSERT_EQUAL(got.set, false);
	/* A saved set flag is part of what the image holds. */
	img.offset.set = 1;
	CU_ASSERT_EQUAL(sr_image_offset(&img, &got), SR_OFFSET_APPLIED);
	CU_ASSERT_EQUAL(got.set, true);
	CU_ASSERT_EQUAL(got.seconds, -19800);
	/* No OFFSET record: Xen's rtc_offset, not set, phase 0. */
	img.present &= ~(1u << SR_REC_OFFSET);
	CU_ASSERT_EQUAL(sr_image_offset(&img, &got), SR_OFFSET_FROM_XEN_RECORD);
	CU_ASSERT_EQUAL(got.seconds, 42);
	CU_ASSERT_EQUAL(got.phase_ns, 0);
	CU_ASSERT_EQUAL(got.set, false);
	/* Old record: offset 0, whatever lies beyond its 16 bytes. */
	img.where[SR_REC_RTC].length = 16;
	CU_ASSERT_EQUAL(sr_image_offset(&img, &got), SR_OFFSET_OLD_RECORD_ZERO);
	CU_ASSERT_EQUAL(got.seconds, 0);
	CU_ASSERT_EQUAL(got.phase_ns, 0);
	CU_ASSERT_EQUAL(got.set, false);
	CU_ASSERT_STRING_EQUAL(sr_offset_outcome_str(SR_OFFSET_OLD_RECORD_ZERO),
	                       "old 16-byte RTC record without offset: offset 0");
}

static void test_snapshot_mapping(void)
{
	struct rtc_snapshot s;
	memset(&s, 0, sizeof(s));
	for (unsigned i = 0; i < RTC_CMOS_SIZE; i++)
		s.cmos[i] = (uint8_t)(i * 3);
	s.cmos[RTC_REG_C] = 0xd0; /* IRQF|PF|UF */
	s.index = 0x40;
	s.nmi_masked = true;
	s.offset = (struct rtc_offset){86400, 123, true};
	s.irq_level = true;
	s.lost_ticks = 17;
	s.period_elapsed_ns = 5000;
	struct sr_image img;
	sr_image_from_snapshot(&img, &s, NULL);
	CU_ASSERT_EQUAL(img.present, (1u << SR_REC_COUNT) - 1);
	CU_ASSERT_EQUAL(memcmp(img.rtc.cmos, s.cmos, 14), 0);
	CU_ASSERT_EQUAL(img.rtc.index, 0x40);
	CU_ASSERT_EQUAL(img.rtc.rtc_offset, 86400);
	CU_ASSERT_EQUAL(memcmp(img.nvram, s.cmos + 14, SR_NVRAM_LEN), 0);
	CU_ASSERT_EQUAL(img.offset.set, 1);
	CU_ASSERT_EQUAL(img.offset.phase_ns, 123);
	CU_ASSERT_EQUAL(img.timer.pending, 0xd0);
	CU_ASSERT_EQUAL(img.timer.lost_ticks, 17);
	CU_ASSERT_EQUAL(img.port.nmi_masked, 1);

	/* Xen's record (HVM mode) is stored verbatim. */
	struct sr_xen_rtc x = {{0}, 0x05, 0, -7200};
	x.cmos[RTC_REG_B] = 0x06;
	sr_image_from_snapshot(&img, &s, &x);
	CU_ASSERT_EQUAL(memcmp(&img.rtc, &x, sizeof(x)), 0);
	CU_ASSERT_EQUAL(img.offset.seconds, 86400);

	/* Back: round trip through the encoder gives the snapshot again. */
	uint8_t b[512];
	struct sr_image out;
	struct rtc_snapshot back;
	char err[SR_ERR_MAX];
	sr_image_from_snapshot(&img, &s, NULL);
	size_t n = sr_encode(&img, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(sr_load(b, n, &out, err, sizeof(err)), 0);
	sr_image_to_snapshot(&out, NULL, &back);
	CU_ASSERT_EQUAL(memcmp(back.cmos, s.cmos, RTC_CMOS_SIZE), 0);
	CU_ASSERT_EQUAL(back.index, s.index);
	CU_ASSERT_EQUAL(back.nmi_masked, s.nmi_masked);
	CU_ASSERT_EQUAL(back.offset.seconds, 86400);
	CU_ASSERT_EQUAL(back.offset.phase_ns, 123);
	CU_ASSERT_EQUAL(back.offset.set, true);
	CU_ASSERT_EQUAL(back.irq_level, true);
	struct rtc_offset decided = {-3600, 9, false};
	struct rtc_snapshot with;
	sr_image_to_snapshot(&out, &decided, &with);
	CU_ASSERT_EQUAL(with.offset.seconds, -3600);
	CU_ASSERT_EQUAL(with.offset.phase_ns, 9);
	CU_ASSERT_EQUAL(with.offset.set, false);
	CU_ASSERT_EQUAL(memcmp(with.cmos, s.cmos, RTC_CMOS_SIZE), 0);
	CU_ASSERT_EQUAL(back.lost_ticks, 17);
	CU_ASSERT_EQUAL(back.period_elapsed_ns, 5000);

	/* RTC record alone: NVRAM zero, index from the RTC record, REG_C raw. */
	out.present = 1u << SR_REC_RTC;
	out.rtc.cmos[RTC_REG_C] = 0x0f;
	sr_image_to_snapshot(&out, NULL, &back);
	CU_ASSERT_EQUAL(back.offset.phase_ns, 0);
	CU_ASSERT_EQUAL(back.offset.set, false);
	CU_ASSERT_EQUAL(back.cmos[RTC_REG_C], 0x0f);
	CU_ASSERT_EQUAL(back.cmos[0x40], 0);
	CU_ASSERT_EQUAL(back.index, 0x40);
	CU_ASSERT_EQUAL(back.nmi_masked, false);
	CU_ASSERT_EQUAL(back.irq_level, false);
	CU_ASSERT_EQUAL(back.offset.seconds, 86400);
}

static void test_format(void)
{
	char b[64];
	sr_format_offset(7200, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "+02:00");
	sr_format_offset(-19800, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "-05:30");
	sr_format_offset(31536000, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "+8760:00");
	sr_format_offset(0, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "+00:00");
	sr_format_offset(-30, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "-00:00:30");
	sr_format_offset(INT64_MIN, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "-2562047788015215:30:08");

	/* BCD, 24 h: 2024-03-05 14:07:09 */
	uint8_t r[14] = {0x09, 0, 0x07, 0, 0x14, 0, 3, 0x05, 0x03, 0x24, 0x26, 0x02, 0, 0x80};
	CU_ASSERT_EQUAL(sr_format_cmos_time(r, 0x20, b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "2024-03-05 14:07:09");
	CU_ASSERT_EQUAL(sr_format_cmos_time(r, 0x19, b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "1924-03-05 14:07:09");
	CU_ASSERT_EQUAL(sr_format_cmos_time(r, -1, b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "2024-03-05 14:07:09");
	/* BCD, 12 h: 0x82 = 2 PM; 0x92 = 12 PM (noon); 0x12 = 12 AM (midnight). */
	r[RTC_REG_B] = 0x00;
	r[RTC_HOURS] = 0x82;
	CU_ASSERT_EQUAL(sr_format_cmos_time(r, 0x20, b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "2024-03-05 14:07:09");
	r[RTC_HOURS] = 0x92;
	sr_format_cmos_time(r, 0x20, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "2024-03-05 12:07:09");
	r[RTC_HOURS] = 0x12;
	sr_format_cmos_time(r, 0x20, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "2024-03-05 00:07:09");
	/* Binary, 24 h, leap day. */
	uint8_t bin[14] = {59, 0, 59, 0, 23, 0, 5, 29, 2, 24, 0x26, 0x06, 0, 0x80};
	CU_ASSERT_EQUAL(sr_format_cmos_time(bin, 20, b, sizeof(b)), 0);
	CU_ASSERT_STRING_EQUAL(b, "2024-02-29 23:59:59");
	bin[RTC_YEAR] = 23; /* 2023 has no 29 February */
	CU_ASSERT_EQUAL(sr_format_cmos_time(bin, 20, b, sizeof(b)), -1);
	CU_ASSERT_STRING_EQUAL(b, "not a valid date (raw 17-02-1d 17:3b:3b)");
	/* Invalid BCD digit. */
	r[RTC_REG_B] = 0x02;
	r[RTC_HOURS] = 0x14;
	r[RTC_SECONDS] = 0x5a;
	CU_ASSERT_EQUAL(sr_format_cmos_time(r, 0x20, b, sizeof(b)), -1);
}

static void test_dump_text(void)
{
	uint8_t b[600];
	size_t n = full(b, sizeof(b));
	struct sr_image img;
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL_FATAL(sr_load(b, n, &img, err, sizeof(err)), 0);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	sr_dump_image_text(f, &img);
	fclose(f);
	static const char *const lines[] = {
		"rtcdm image, 258 bytes\n",
		"record 1 (HEADER, instance 0) at byte 0, length 24\n"
		"  magic 0x54381286, version 1, changeset unknown, cpuid 0x00000000, gtsc_khz 0\n"
		"record 2 (RTC, instance 0) at byte 32, length 24\n"
		"  guest time  2024-03-05 14:07:09 (BCD, 24-hour)\n"
		"  registers   A=0x26 B=0x02 C=0x00 D=0x80, index 11\n",
		"  rtc_offset  -19800 s (-05:30)\n"
		"record 3 (NVRAM, instance 0) at byte 64, length 114\n"
		"  0e: 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d\n",
		"  7e: 7e 7f\n"
		"record 4 (OFFSET, instance 0) at byte 186, length 16\n"
		"  seconds     -19800 (-05:30)\n"
		"  set         0 (not set by the toolstack)\n"
		"  phase_ns    250000000\n"
		"record 5 (TIMER, instance 0) at byte 210, length 16\n"
		"  pending     0xc0 (IRQF PF)\n"
		"  irq_level   1\n"
		"  lost_ticks  3\n"
		"  period_elapsed_ns 976562\n"
		"record 6 (PORT, instance 0) at byte 234, length 8\n"
		"  index       50\n"
		"  nmi_masked  1\n"
		"record 7 (END, instance 0) at byte 250\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!strstr(text, lines[i]))
			fprintf(stderr, "\n  missing:\n%s  in:\n%s", lines[i], text);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, lines[i]));
	}
	free(text);

	char *json = sr_dump_image_json(&img);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"guest_time\":\"2024-03-05 14:07:09\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"hhmm\":\"-05:30\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"set\":false"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"phase_ns\":250000000"));
	free(json);
}

void suite_sr_codec(void)
{
	CU_pSuite s = CU_add_suite("saverestore codec", NULL, NULL);
	CU_add_test(s, "exact bytes of every record", test_encode_bytes);
	CU_add_test(s, "round trip of a full image", test_round_trip_all);
	CU_add_test(s, "round trip of each record", test_round_trip_each);
	CU_add_test(s, "raw CMOS bytes kept", test_raw_cmos_kept);
	CU_add_test(s, "16-byte RTC record zero-extended", test_old_rtc_record);
	CU_add_test(s, "unknown optional record skipped", test_optional_unknown_skipped);
	CU_add_test(s, "refused: structure", test_refuse_structure);
	CU_add_test(s, "refused: lengths", test_refuse_lengths);
	CU_add_test(s, "refused: records", test_refuse_records);
	CU_add_test(s, "refused: values", test_refuse_values);
	CU_add_test(s, "short error buffer", test_error_buffer);
#ifdef HAVE_XEN_SAVE_H
	CU_add_test(s, "RTC record is Xen's struct hvm_hw_rtc", test_xen_struct);
#endif
	CU_add_test(s, "the offset an image holds", test_image_offset);
	CU_add_test(s, "snapshot <-> image", test_snapshot_mapping);
	CU_add_test(s, "offset and date formatting", test_format);
	CU_add_test(s, "text and JSON dump", test_dump_text);
}
