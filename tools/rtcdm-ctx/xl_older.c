/*
 * xl_older.c — `rtcdm-ctx xl-older IN OUT`: rewrite an `xl save` image of an
 * HVM domain as Xen 4.13 or older, with a device model that knows nothing
 * of rtcdm's records, would have written it, to test restores of such
 * images on the current hypervisor:
 *
 *   - Xen's RTC record in HVM_CONTEXT in its 16-byte form (no rtc_offset:
 *     Xen loads it with offset 0, unless the toolstack set one);
 *   - the EMULATOR_CONTEXT blob replaced by a 64-byte image: HEADER, a
 *     16-byte RTC record holding the same CMOS registers, END.
 *
 * Everything else (xl header, libxl and libxc records, page data) is copied
 * unchanged; the HVM_CONTEXT and EMULATOR_CONTEXT record lengths are
 * adjusted.  The result is walked again before it is written (atomically).
 */
#include "tools/rtcdm-ctx/xl_older.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saverestore/sr.h"

#define LIBXL_EMULATOR_CONTEXT 3u
#define OLD_BLOB_LEN 64u

static size_t pad8(size_t n)
{
	return (8 - (n & 7)) & 7;
}

static int walk(const uint8_t *buf, size_t len, struct sr_xl_info *info, char *err,
                size_t errlen)
{
	struct sr_mem_source src;
	struct sr_reader r;

	memset(info, 0, sizeof(*info));
	sr_reader_mem(&r, &src, buf, len);
	return sr_walk_xl(&r, info, err, errlen);
}

/* HEADER, a 16-byte RTC record with Xen's registers, END. */
static void old_blob(const struct sr_xen_rtc *rtc, uint8_t out[OLD_BLOB_LEN])
{
	uint8_t *p = out;

	memset(out, 0, OLD_BLOB_LEN);
	sr_put16(p, SR_TC_HEADER);
	sr_put32(p + 4, SR_HEADER_LEN);
	sr_put32(p + 8, SR_HVM_MAGIC);
	sr_put32(p + 12, SR_HVM_VERSION);
	sr_put64(p + 16, SR_CHANGESET_UNKNOWN);
	p += SR_DESC_SIZE + SR_HEADER_LEN;
	sr_put16(p, SR_TC_RTC);
	sr_put32(p + 4, SR_RTC_LEN_OLD);
	memcpy(p + SR_DESC_SIZE, rtc->cmos, RTC_XEN_CMOS_SIZE);
	p[SR_DESC_SIZE + 14] = rtc->index;
	p[SR_DESC_SIZE + 15] = rtc->pad0;
	/* END: typecode 0, length 0 (already zero). */
}

int sr_xl_make_older(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen, char *err,
                     size_t errlen)
{
	struct sr_xl_info *info = malloc(sizeof(*info));
	uint8_t blob[OLD_BLOB_LEN];
	uint8_t *o = NULL;
	size_t n = 0;

	*out = NULL;
	*outlen = 0;
	if (!info) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (walk(in, len, info, err, errlen) < 0)
		goto fail;
	if (!info->have_xen_rtc || !info->have_hvm_context) {
		snprintf(err, errlen, "no RTC record in HVM_CONTEXT: not an HVM domain's image");
		goto fail;
	}
	if (info->xen_rtc_len != SR_RTC_LEN) {
		snprintf(err, errlen, "Xen's RTC record is already %" PRIu32 " bytes long",
		         info->xen_rtc_len);
		goto fail;
	}
	if (!info->have_emulator) {
		snprintf(err, errlen, "no EMULATOR_CONTEXT record");
		goto fail;
	}

	/* Positions in the input.  HVM_CONTEXT: the libxc record header's
	 * length is the 4 bytes before the body.  EMULATOR_CONTEXT: the
	 * libxl record header (type, length) and the sub-header (emulator
	 * id, index) are the 16 bytes before the blob. */
	size_t hvm_len_at = (size_t)info->hvm_context_at - 4;
	size_t rtc_at = (size_t)info->xen_rtc_at;
	size_t rtc_end = rtc_at + SR_DESC_SIZE + SR_RTC_LEN;
	size_t emu_hdr = (size_t)info->emulator_at - 16;
	size_t emu_end = emu_hdr + 8 + 8 + info->emulator_len + pad8(8 + info->emulator_len);

	if (sr_get32(in + hvm_len_at) != info->hvm_context_len ||
	    sr_get32(in + emu_hdr) != LIBXL_EMULATOR_CONTEXT ||
	    sr_get32(in + emu_hdr + 4) != 8 + info->emulator_len || emu_end > len ||
	    !(hvm_len_at < rtc_at && rtc_end <= emu_hdr)) {
		snprintf(err, errlen, "unexpected record layout around HVM_CONTEXT or "
		                      "EMULATOR_CONTEXT");
		goto fail;
	}

	old_blob(&info->xen_rtc, blob);
	o = malloc(len);
	if (!o) {
		snprintf(err, errlen, "out of memory for %zu bytes", len);
		goto fail;
	}
	/* Up to the RTC descriptor, HVM_CONTEXT 8 bytes shorter (its padding
	 * stays: the length keeps its remainder modulo 8). */
	memcpy(o, in, rtc_at);
	sr_put32(o + hvm_len_at, info->hvm_context_len - (SR_RTC_LEN - SR_RTC_LEN_OLD));
	n = rtc_at;
	/* The RTC record without rtc_offset. */
	memcpy(o + n, in + rtc_at, SR_DESC_SIZE + SR_RTC_LEN_OLD);
	sr_put32(o + n + 4, SR_RTC_LEN_OLD);
	n += SR_DESC_SIZE + SR_RTC_LEN_OLD;
	/* Up to EMULATOR_CONTEXT. */
	memcpy(o + n, in + rtc_end, emu_hdr - rtc_end);
	n += emu_hdr - rtc_end;
	/* EMULATOR_CONTEXT with the old blob (8 + 64 bytes: no padding). */
	sr_put32(o + n, LIBXL_EMULATOR_CONTEXT);
	sr_put32(o + n + 4, 8 + OLD_BLOB_LEN);
	memcpy(o + n + 8, in + emu_hdr + 8, 8);
	memcpy(o + n + 16, blob, OLD_BLOB_LEN);
	n += 16 + OLD_BLOB_LEN;
	/* The rest (libxl END) unchanged. */
	memcpy(o + n, in + emu_end, len - emu_end);
	n += len - emu_end;

	/* The result must walk, with the old forms in place. */
	if (walk(o, n, info, err, errlen) < 0)
		goto fail;
	if (info->xen_rtc_len != SR_RTC_LEN_OLD || info->emulator_kind != SR_EMU_RTCDM ||
	    info->emulator_len != OLD_BLOB_LEN) {
		snprintf(err, errlen, "the rewritten image does not walk as intended");
		goto fail;
	}
	free(info);
	*out = o;
	*outlen = n;
	return 0;
fail:
	free(o);
	free(info);
	return -1;
}

/* The whole file, in a buffer of its size. */
static int read_whole(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		snprintf(err, errlen, "not a non-empty regular file");
		close(fd);
		return -1;
	}
	b = malloc((size_t)st.st_size);
	if (!b) {
		snprintf(err, errlen, "out of memory for %lld bytes", (long long)st.st_size);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s", n < 0 ? strerror(errno) : "file shrank while read");
			free(b);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
}

int sr_ctx_xl_older(int argc, char **argv)
{
	char err[SR_ERR_MAX + 64];
	uint8_t *in = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "rtcdm-ctx: xl-older needs IN and OUT (usage: rtcdm-ctx xl-older "
		                "IN OUT)\n");
		return 2;
	}
	if (read_whole(argv[2], &in, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "rtcdm-ctx: %s: %s\n", argv[2], err);
		return 1;
	}
	rc = sr_xl_make_older(in, len, &out, &outlen, err, sizeof(err));
	free(in);
	if (rc < 0) {
		fprintf(stderr, "rtcdm-ctx: %s: %s\n", argv[2], err);
		return 1;
	}
	rc = sr_write_file_atomic(argv[3], out, outlen, err, sizeof(err));
	free(out);
	if (rc < 0) {
		fprintf(stderr, "rtcdm-ctx: %s\n", err);
		return 1;
	}
	printf("%s: Xen RTC record 16 bytes (no rtc_offset), EMULATOR_CONTEXT %u bytes "
	       "(HEADER, 16-byte RTC record, END)\n",
	       argv[3], OLD_BLOB_LEN);
	return 0;
}
