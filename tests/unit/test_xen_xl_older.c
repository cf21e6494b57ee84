/* `rtcdm-ctx xl-older`: an xl save image rewritten as Xen <= 4.13 wrote it
 * (16-byte Xen RTC record, emulator blob HEADER + 16-byte RTC + END), checked
 * byte for byte on a synthetic image built here, and its refusals. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "saverestore/sr.h"
#include "tools/rtcdm-ctx/xl_older.h"
#include "tests/support/support.h"

void suite_xen_xl_older(void);

static void desc(struct support_bytes *o, uint16_t tc, uint32_t len)
{
	uint8_t d[8];
	sr_put16(d, tc);
	sr_put16(d + 2, 0);
	sr_put32(d + 4, len);
	support_bytes_put(o, d, 8);
}

static const uint8_t rtc_regs[16] = {0x30, 0, 0x59, 0, 0x23, 0, 0x07, 0x31,
                                     0x12, 0x27, 0x26, 0x02, 0, 0x80, 0x0b, 0};
#define RTC_OFFSET_S INT64_C(31536000)
#define EMU_BLOB_LEN 258u

/* xl header, libxl v2, libxc v3 (one page, HVM_CONTEXT with a 24-byte RTC
 * record between CPU and HPET, HVM_PARAMS), EMULATOR_CONTEXT with a blob of
 * EMU_BLOB_LEN bytes (an rtcdm image with every record), libxl END.  The
 * positions of the RTC descriptor and of the blob go to rtc_at, emu_at. */
static void xl_image(struct support_bytes *o, size_t *rtc_at, size_t *emu_at)
{
	static const char magic[32] = "Xen saved domain, xl format\n \0 \r";
	static const char config[] = "{\"c_info\":{\"type\":\"hvm\",\"name\":\"g\"}}";
	static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	o->n = 0;
	support_bytes_put(o, magic, 32);
	support_bytes_le32(o, 0x01020304);
	support_bytes_le32(o, 3);
	support_bytes_le32(o, 0);
	support_bytes_le32(o, 4 + sizeof(config));
	support_bytes_le32(o, sizeof(config));
	support_bytes_put(o, config, sizeof(config));
	support_bytes_put(o, "LibxlFmt", 8);
	support_bytes_be32(o, 2);
	support_bytes_be32(o, 0);
	support_bytes_rec(o, 1, NULL, 0); /* LIBXC_CONTEXT */
	support_bytes_put(o, ff, 8);
	support_bytes_put(o, "XENF", 4);
	support_bytes_be32(o, 3);
	support_bytes_zeros(o, 8);
	support_bytes_le32(o, 2);           /* x86 HVM */
	support_bytes_le32(o, 12);          /* page shift */
	support_bytes_le32(o, 4);
	support_bytes_le32(o, 17);
	{
		struct support_bytes pd = {0};
		support_bytes_le32(&pd, 1);
		support_bytes_le32(&pd, 0);
		uint8_t pfn[8] = {0x10};
		support_bytes_put(&pd, pfn, 8);
		uint8_t page[4096];
		for (unsigned i = 0; i < sizeof(page); i++)
			page[i] = (uint8_t)(i * 13);
		support_bytes_put(&pd, page, sizeof(page));
		support_bytes_rec(o, 1, pd.b, pd.n); /* PAGE_DATA */
		support_bytes_free(&pd);
	}
	{
		struct support_bytes h = {0};
		desc(&h, SR_TC_HEADER, SR_HEADER_LEN);
		support_bytes_le32(&h, SR_HVM_MAGIC);
		support_bytes_le32(&h, 1);
		support_bytes_zeros(&h, 16);
		desc(&h, 2, 1024); /* CPU, opaque */
		support_bytes_zeros(&h, 1024);
		size_t at = h.n;
		desc(&h, SR_TC_RTC, SR_RTC_LEN);
		support_bytes_put(&h, rtc_regs, 16);
		uint8_t off[8];
		sr_put64(off, (uint64_t)RTC_OFFSET_S);
		support_bytes_put(&h, off, 8);
		desc(&h, 12, 8); /* HPET, opaque */
		support_bytes_zeros(&h, 8);
		desc(&h, SR_TC_END, 0);
		*rtc_at = o->n + 8 + at;
		support_bytes_rec(o, 9, h.b, h.n); /* HVM_CONTEXT */
		support_bytes_free(&h);
	}
	uint8_t params[24] = {1, 0, 0, 0, 0, 0, 0, 0, 2};
	support_bytes_rec(o, 0xa, params, sizeof(params));
	support_bytes_rec(o, 0, NULL, 0); /* libxc END */
	{
		uint8_t blob[8 + EMU_BLOB_LEN];
		struct sr_image img;

		sr_put32(blob, 2);
		sr_put32(blob + 4, 0);
		sr_image_init(&img);
		memcpy(img.rtc.cmos, rtc_regs, 14);
		img.rtc.rtc_offset = RTC_OFFSET_S;
		img.offset.seconds = RTC_OFFSET_S;
		img.present = (1u << SR_REC_COUNT) - 1;
		size_t n = sr_encode(&img, blob + 8, EMU_BLOB_LEN);
		CU_ASSERT_FATAL(n == EMU_BLOB_LEN);
		*emu_at = o->n + 16;
		support_bytes_rec(o, 3, blob, 8 + n); /* EMULATOR_CONTEXT */
	}
	support_bytes_rec(o, 0, NULL, 0); /* libxl END */
}

static void test_rewrite(void)
{
	size_t rtc_at, emu_at, outlen;
	uint8_t *out;
	char err[SR_ERR_MAX + 64];
	struct sr_xl_info *info = calloc(1, sizeof(*info));
	struct sr_mem_source src;
	struct sr_reader r;

	struct support_bytes in = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(info);
	xl_image(&in, &rtc_at, &emu_at);
	CU_ASSERT_EQUAL_FATAL(sr_xl_make_older(in.b, in.n, &out, &outlen, err, sizeof(err)), 0);

	/* 8 bytes fewer in the RTC record; blob 258 -> 64 bytes and its
	 * padding 6 -> 0. */
	CU_ASSERT_EQUAL(outlen, in.n - 8 - (EMU_BLOB_LEN + 6 - 64));
	/* Unchanged up to the RTC descriptor, except HVM_CONTEXT's length. */
	size_t hvm_len_at = rtc_at - 32 - 1032 - 4; /* body: HEADER, CPU, RTC... */
	CU_ASSERT_EQUAL(sr_get32(in.b + hvm_len_at - 4), 9);
	CU_ASSERT_EQUAL(sr_get32(out + hvm_len_at), sr_get32(in.b + hvm_len_at) - 8);
	CU_ASSERT_EQUAL(memcmp(out, in.b, hvm_len_at), 0);
	CU_ASSERT_EQUAL(memcmp(out + hvm_len_at + 4, in.b + hvm_len_at + 4,
	                       rtc_at - hvm_len_at - 4), 0);
	/* The RTC record: same registers, length 16, HPET right after. */
	CU_ASSERT_EQUAL(sr_get16(out + rtc_at), SR_TC_RTC);
	CU_ASSERT_EQUAL(sr_get32(out + rtc_at + 4), 16);
	CU_ASSERT_EQUAL(memcmp(out + rtc_at + 8, rtc_regs, 16), 0);
	CU_ASSERT_EQUAL(sr_get16(out + rtc_at + 24), 12);
	/* EMULATOR_CONTEXT: type 3, length 72, sub-header kept, old blob. */
	size_t e = emu_at - 8 - 16;
	CU_ASSERT_EQUAL(sr_get32(out + e), 3);
	CU_ASSERT_EQUAL(sr_get32(out + e + 4), 72);
	CU_ASSERT_EQUAL(sr_get32(out + e + 8), 2);
	const uint8_t *blob = out + e + 16;
	CU_ASSERT_EQUAL(sr_get16(blob), SR_TC_HEADER);
	CU_ASSERT_EQUAL(sr_get32(blob + 4), 24);
	CU_ASSERT_EQUAL(sr_get32(blob + 8), SR_HVM_MAGIC);
	CU_ASSERT_EQUAL(sr_get16(blob + 32), SR_TC_RTC);
	CU_ASSERT_EQUAL(sr_get32(blob + 36), 16);
	CU_ASSERT_EQUAL(memcmp(blob + 40, rtc_regs, 16), 0);
	CU_ASSERT_EQUAL(sr_get16(blob + 56), SR_TC_END);
	CU_ASSERT_EQUAL(sr_get32(blob + 60), 0);
	/* libxl END last. */
	CU_ASSERT_EQUAL(sr_get32(out + outlen - 8), 0);
	CU_ASSERT_EQUAL(sr_get32(out + outlen - 4), 0);

	/* It walks: Xen's record loads as offset 0, the blob as an rtcdm
	 * image with only the old RTC record, offset 0 from it. */
	sr_reader_mem(&r, &src, out, outlen);
	CU_ASSERT_EQUAL_FATAL(sr_walk_xl(&r, info, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(info->xen_rtc_len, 16);
	CU_ASSERT_EQUAL(info->xen_rtc.rtc_offset, 0);
	CU_ASSERT_EQUAL(info->emulator_kind, SR_EMU_RTCDM);
	CU_ASSERT_EQUAL(info->emulator_len, 64);
	CU_ASSERT_FALSE(sr_has(&info->emu_image, SR_REC_NVRAM));
	CU_ASSERT_FALSE(sr_has(&info->emu_image, SR_REC_OFFSET));
	struct rtc_offset off = {123, 0, true};
	CU_ASSERT_EQUAL(sr_image_offset(&info->emu_image, &off), SR_OFFSET_OLD_RECORD_ZERO);
	CU_ASSERT_EQUAL(off.seconds, 0);

	/* A second pass refuses: the record is already 16 bytes. */
	uint8_t *again;
	size_t againlen;
	CU_ASSERT_EQUAL(sr_xl_make_older(out, outlen, &again, &againlen, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "Xen's RTC record is already 16 bytes long");
	CU_ASSERT_PTR_NULL(again);
	free(out);
	free(info);
	support_bytes_free(&in);
}

static void test_refusals(void)
{
	size_t rtc_at, emu_at, outlen;
	uint8_t *out = (uint8_t *)1;
	char err[SR_ERR_MAX + 64];
	struct support_bytes in = {0};

	xl_image(&in, &rtc_at, &emu_at);
	/* Truncated: the walker's reason, nothing produced. */
	CU_ASSERT_EQUAL(sr_xl_make_older(in.b, in.n - 8, &out, &outlen, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "xl image at byte"));
	/* Not an xl image at all. */
	CU_ASSERT_EQUAL(sr_xl_make_older(in.b + 1, 100, &out, &outlen, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(out);
	/* No EMULATOR_CONTEXT: cut it out, keep the libxl END. */
	size_t e = emu_at - 16;
	uint8_t *cut = calloc(1, e + 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
	memcpy(cut, in.b, e);
	CU_ASSERT_EQUAL(sr_xl_make_older(cut, e + 8, &out, &outlen, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "no EMULATOR_CONTEXT record");
	CU_ASSERT_PTR_NULL(out);
	free(cut);
	support_bytes_free(&in);
}

void suite_xen_xl_older(void)
{
	CU_pSuite s = CU_add_suite("xen_xl_older (rtcdm-ctx xl-older: an image as Xen <= 4.13 "
	                           "wrote it)",
	                           NULL, NULL);
	CU_add_test(s, "rewrite: byte layout and walk", test_rewrite);
	CU_add_test(s, "refused images produce nothing", test_refusals);
}
