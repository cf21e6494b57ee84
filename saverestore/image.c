/*
 * image.c — walk an `xl save` image as a stream: xl header, libxl stream v2,
 * the libxc stream v3 inline after LIBXC_CONTEXT (HVM_CONTEXT walked for
 * Xen's RTC record), then EMULATOR_CONTEXT whose body is the device model's
 * blob.  Every length is checked before use; page data is skipped, never
 * read into memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saverestore/sr.h"

/* ---- readers ------------------------------------------------------------------- */

static int mem_read(void *ctx, void *buf, size_t n)
{
	struct sr_mem_source *m = ctx;
	if (n > m->len - m->pos)
		return -1;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return 0;
}

static int mem_skip(void *ctx, uint64_t n)
{
	struct sr_mem_source *m = ctx;
	if (n > m->len - m->pos)
		return -1;
	m->pos += (size_t)n;
	return 0;
}

void sr_reader_mem(struct sr_reader *r, struct sr_mem_source *src, const void *data, size_t len)
{
	src->data = data;
	src->len = data ? len : 0;
	src->pos = 0;
	r->read = mem_read;
	r->skip = mem_skip;
	r->ctx = src;
}

static int fd_read(void *ctx, void *buf, size_t n)
{
	struct sr_fd_source *f = ctx;
	uint8_t *p = buf;
	while (n) {
		ssize_t got = read(f->fd, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static int fd_skip(void *ctx, uint64_t n)
{
	struct sr_fd_source *f = ctx;
	if (f->seekable) {
		off_t cur = lseek(f->fd, 0, SEEK_CUR);
		struct stat st;
		if (cur < 0 || fstat(f->fd, &st))
			return -1;
		if (n > (uint64_t)(st.st_size - cur))
			return -1; /* would skip past the end: truncated */
		return lseek(f->fd, (off_t)n, SEEK_CUR) < 0 ? -1 : 0;
	}
	uint8_t chunk[4096];
	while (n) {
		size_t k = n < sizeof(chunk) ? (size_t)n : sizeof(chunk);
		if (fd_read(ctx, chunk, k))
			return -1;
		n -= k;
	}
	return 0;
}

void sr_reader_fd(struct sr_reader *r, struct sr_fd_source *src, int fd)
{
	struct stat st;
	src->fd = fd;
	src->seekable = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) >= 0;
	r->read = fd_read;
	r->skip = fd_skip;
	r->ctx = src;
}

/* ---- walker -------------------------------------------------------------------- */

static const char xl_magic[32] = "Xen saved domain, xl format\n \0 \r";
#define XL_BYTEORDER 0x01020304u
#define XL_MANDATORY_CONFIG_JSON 1u
#define XL_MANDATORY_STREAMV2 2u

#define LIBXL_IDENT UINT64_C(0x4c6962786c466d74) /* "LibxlFmt" */
#define LIBXC_MARKER UINT64_MAX
#define LIBXC_ID 0x58454e46u /* "XENF" */

enum { LIBXL_END = 0, LIBXL_LIBXC_CONTEXT = 1, LIBXL_EMULATOR_CONTEXT = 3 };
enum { LIBXC_END = 0, LIBXC_PAGE_DATA = 1, LIBXC_HVM_CONTEXT = 9 };

struct walk {
	struct sr_reader *r;
	uint64_t pos;
	char *err;
	size_t errlen;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(struct walk *w, uint64_t at, const char *fmt, ...)
{
	char what[SR_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(w->err, w->errlen, "xl image at byte %" PRIu64 ": %s", at, what);
	return -1;
}

static int rd(struct walk *w, void *buf, size_t n, const char *what)
{
	if (w->r->read(w->r->ctx, buf, n))
		return fail(w, w->pos, "truncated %s (need %zu bytes)", what, n);
	w->pos += n;
	return 0;
}

static int skip(struct walk *w, uint64_t n, const char *what)
{
	if (n && w->r->skip(w->r->ctx, n))
		return fail(w, w->pos, "truncated %s (need %" PRIu64 " bytes)", what, n);
	w->pos += n;
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint64_t pad8(uint64_t n)
{
	return (8 - (n & 7)) & 7;
}

bool sr_looks_like_xl(const uint8_t *buf, size_t len)
{
	return len >= sizeof(xl_magic) && memcmp(buf, xl_magic, sizeof(xl_magic)) == 0;
}

const char *sr_emulator_kind_str(enum sr_emulator_kind k)
{
	switch (k) {
	case SR_EMU_NONE:
		return "none";
	case SR_EMU_RTCDM:
		return "rtcdm";
	case SR_EMU_INVALID:
		return "rtcdm (refused)";
	case SR_EMU_QEMU:
		return "qemu";
	case SR_EMU_UNKNOWN:
		return "unknown";
	}
	return "?";
}

/* Walk the HVM save descriptors of an HVM_CONTEXT body of len bytes. */
static int walk_hvm_context(struct walk *w, struct sr_xl_info *info, uint32_t len)
{
	uint64_t end = w->pos + len;
	info->have_hvm_context = true;
	info->hvm_context_at = w->pos;
	info->hvm_context_len = len;
	while (w->pos < end) {
		uint8_t d[SR_DESC_SIZE];
		uint64_t at = w->pos;
		if (end - w->pos < SR_DESC_SIZE)
			return fail(w, at, "HVM_CONTEXT: truncated descriptor (%" PRIu64
			                   " bytes left, need 8)", end - w->pos);
		if (rd(w, d, sizeof(d), "HVM descriptor"))
			return -1;
		uint16_t tc = sr_get16(d), inst = sr_get16(d + 2);
		uint32_t blen = sr_get32(d + 4);
		if (blen > end - w->pos)
			return fail(w, at, "HVM_CONTEXT: record typecode %u length %" PRIu32
			                   ", but only %" PRIu64 " bytes left", tc, blen, end - w->pos);
		if (tc == SR_TC_END)
			return skip(w, end - w->pos, "HVM_CONTEXT");
		if (tc == SR_TC_RTC && inst == 0) {
			if (info->have_xen_rtc)
				return fail(w, at, "HVM_CONTEXT: duplicate RTC record");
			if (blen > SR_RTC_LEN || (blen != SR_RTC_LEN && blen != SR_RTC_LEN_OLD))
				return fail(w, at, "HVM_CONTEXT: RTC record length %" PRIu32
				                   ", expected 24 or 16", blen);
			uint8_t b[SR_RTC_LEN] = {0};
			if (rd(w, b, blen, "RTC record"))
				return -1;
			info->have_xen_rtc = true;
			info->xen_rtc_at = at;
			info->xen_rtc_len = blen;
			memcpy(info->xen_rtc.cmos, b, RTC_XEN_CMOS_SIZE);
			info->xen_rtc.index = b[14];
			info->xen_rtc.pad0 = b[15];
			info->xen_rtc.rtc_offset = (int64_t)sr_get64(b + 16);
			continue;
		}
		if (skip(w, blen, "HVM record"))
			return -1;
	}
	return fail(w, end, "HVM_CONTEXT: no END record");
}

static int walk_libxc(struct walk *w, struct sr_xl_info *info)
{
	uint8_t h[24], dh[16];
	uint64_t at = w->pos;
	if (rd(w, h, sizeof(h), "libxc header"))
		return -1;
	if (be64(h) != LIBXC_MARKER || be32(h + 8) != LIBXC_ID)
		return fail(w, at, "not a libxc stream (marker/id mismatch)");
	info->libxc_version = be32(h + 12);
	if (info->libxc_version < 2 || info->libxc_version > 3)
		return fail(w, at, "libxc stream version %" PRIu32 ", expected 2 or 3",
		            info->libxc_version);
	if (h[17] & 1) /* options, big-endian u16: bit 0 = big-endian records */
		return fail(w, at, "big-endian libxc stream not supported");
	if (rd(w, dh, sizeof(dh), "libxc domain header"))
		return -1;
	info->have_libxc = true;
	info->domain_type = sr_get32(dh);
	info->page_shift = sr_get16(dh + 4);
	info->xen_major = sr_get32(dh + 8);
	info->xen_minor = sr_get32(dh + 12);
	for (;;) {
		uint8_t rh[8];
		at = w->pos;
		if (rd(w, rh, sizeof(rh), "libxc record header"))
			return -1;
		uint32_t type = sr_get32(rh), len = sr_get32(rh + 4);
		if (len > SR_XL_REC_LENGTH_MAX)
			return fail(w, at, "libxc record type 0x%" PRIx32 " length %" PRIu32
			                   " exceeds %u", type, len, SR_XL_REC_LENGTH_MAX);
		info->libxc_records++;
		if (type == LIBXC_END) {
			if (len)
				return fail(w, at, "libxc END with length %" PRIu32, len);
			return 0;
		}
		if (type == LIBXC_PAGE_DATA)
			info->page_data_records++;
		if (type == LIBXC_HVM_CONTEXT) {
			if (info->have_hvm_context)
				return fail(w, at, "second HVM_CONTEXT record");
			if (walk_hvm_context(w, info, len))
				return -1;
		} else if (skip(w, len, "libxc record")) {
			return -1;
		}
		if (skip(w, pad8(len), "libxc record padding"))
			return -1;
	}
}

static int walk_emulator(struct walk *w, struct sr_xl_info *info, uint32_t len)
{
	uint8_t sub[8];
	uint64_t at = w->pos;
	if (info->have_emulator)
		return fail(w, at, "second EMULATOR_CONTEXT record");
	if (len < sizeof(sub))
		return fail(w, at, "EMULATOR_CONTEXT length %" PRIu32 ", need at least 8", len);
	if (rd(w, sub, sizeof(sub), "emulator sub-header"))
		return -1;
	info->have_emulator = true;
	info->emulator_id = sr_get32(sub);
	info->emulator_at = w->pos;
	info->emulator_len = len - 8;
	uint32_t blen = len - 8;
	if (blen <= SR_IMAGE_MAX) {
		uint8_t *blob = malloc(blen ? blen : 1);
		if (!blob)
			return fail(w, w->pos, "out of memory");
		if (rd(w, blob, blen, "emulator blob")) {
			free(blob);
			return -1;
		}
		if (sr_looks_like_image(blob, blen)) {
			if (sr_load(blob, blen, &info->emu_image, info->emu_error,
			            sizeof(info->emu_error)) == 0)
				info->emulator_kind = SR_EMU_RTCDM;
			else
				info->emulator_kind = SR_EMU_INVALID;
		} else if (blen >= 4 && memcmp(blob, "QEVM", 4) == 0) {
			info->emulator_kind = SR_EMU_QEMU;
		} else {
			info->emulator_kind = SR_EMU_UNKNOWN;
		}
		free(blob);
		return 0;
	}
	/* Too large to be ours: identify by its first bytes, skip the rest. */
	uint8_t magic[4];
	if (rd(w, magic, sizeof(magic), "emulator blob"))
		return -1;
	info->emulator_kind = memcmp(magic, "QEVM", 4) == 0 ? SR_EMU_QEMU : SR_EMU_UNKNOWN;
	return skip(w, blen - sizeof(magic), "emulator blob");
}

int sr_walk_xl(struct sr_reader *r, struct sr_xl_info *info, char *err, size_t errlen)
{
	struct walk w = {.r = r, .pos = 0, .err = err, .errlen = errlen};
	uint8_t h[48];
	memset(info, 0, sizeof(*info));

	if (rd(&w, h, sizeof(h), "xl header"))
		return -1;
	if (memcmp(h, xl_magic, sizeof(xl_magic)))
		return fail(&w, 0, "not an xl save image (magic mismatch)");
	if (sr_get32(h + 32) != XL_BYTEORDER)
		return fail(&w, 32, "byte order 0x%08" PRIx32 ", only little-endian images supported",
		            sr_get32(h + 32));
	info->xl_mandatory_flags = sr_get32(h + 36);
	info->xl_optional_flags = sr_get32(h + 40);
	info->xl_optional_len = sr_get32(h + 44);
	uint32_t unknown = info->xl_mandatory_flags &
	                   ~(XL_MANDATORY_CONFIG_JSON | XL_MANDATORY_STREAMV2);
	if (unknown)
		return fail(&w, 36, "unknown mandatory flags 0x%08" PRIx32, unknown);
	if (!(info->xl_mandatory_flags & XL_MANDATORY_STREAMV2))
		return fail(&w, 36, "legacy (v1) save stream not supported");
	if (skip(&w, info->xl_optional_len, "xl optional data"))
		return -1;

	uint8_t lh[16];
	uint64_t at = w.pos;
	if (rd(&w, lh, sizeof(lh), "libxl header"))
		return -1;
	if (be64(lh) != LIBXL_IDENT)
		return fail(&w, at, "not a libxl stream (ident mismatch)");
	info->libxl_version = be32(lh + 8);
	info->libxl_options = be32(lh + 12);
	if (info->libxl_version != 2)
		return fail(&w, at, "libxl stream version %" PRIu32 ", expected 2",
		            info->libxl_version);
	if (info->libxl_options & 1)
		return fail(&w, at, "big-endian libxl stream not supported");

	for (;;) {
		uint8_t rh[8];
		at = w.pos;
		if (rd(&w, rh, sizeof(rh), "libxl record header"))
			return -1;
		uint32_t type = sr_get32(rh), len = sr_get32(rh + 4);
		if (len > SR_XL_REC_LENGTH_MAX)
			return fail(&w, at, "libxl record type 0x%" PRIx32 " length %" PRIu32
			                    " exceeds %u", type, len, SR_XL_REC_LENGTH_MAX);
		if (type == LIBXL_END) {
			if (len)
				return fail(&w, at, "libxl END with length %" PRIu32, len);
			return 0;
		}
		if (type == LIBXL_LIBXC_CONTEXT) {
			if (len)
				return fail(&w, at, "LIBXC_CONTEXT length %" PRIu32 ", expected 0", len);
			if (info->have_libxc)
				return fail(&w, at, "second LIBXC_CONTEXT record");
			if (walk_libxc(&w, info))
				return -1;
			continue;
		}
		if (type == LIBXL_EMULATOR_CONTEXT) {
			if (walk_emulator(&w, info, len))
				return -1;
		} else if (skip(&w, len, "libxl record")) {
			return -1;
		}
		if (skip(&w, pad8(len), "libxl record padding"))
			return -1;
	}
}
