/*
 * codec.c — descriptors, HEADER and END, the strict loader and the encoder.
 *
 * Error messages name the record (counted from 1, the HEADER being record 1),
 * its type and instance, and the byte offset of its descriptor:
 *   record 3 (RTC, instance 0) at byte 48: length 32, expected at most 24
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "saverestore/sr.h"

uint16_t sr_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t sr_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t sr_get64(const uint8_t *p)
{
	return (uint64_t)sr_get32(p) | (uint64_t)sr_get32(p + 4) << 32;
}

void sr_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void sr_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void sr_put64(uint8_t *p, uint64_t v)
{
	sr_put32(p, (uint32_t)v);
	sr_put32(p + 4, (uint32_t)(v >> 32));
}

void sr_image_init(struct sr_image *img)
{
	memset(img, 0, sizeof(*img));
	img->header.magic = SR_HVM_MAGIC;
	img->header.version = SR_HVM_VERSION;
	img->header.changeset = SR_CHANGESET_UNKNOWN;
}

bool sr_looks_like_image(const uint8_t *buf, size_t len)
{
	return len >= SR_DESC_SIZE + 4 && sr_get16(buf) == SR_TC_HEADER &&
	       sr_get32(buf + 4) == SR_HEADER_LEN && sr_get32(buf + 8) == SR_HVM_MAGIC;
}

/* Parsing context: where we are, for messages. */
struct cursor {
	const uint8_t *buf;
	size_t len, pos;
	unsigned recno;
	uint16_t typecode, instance;
	uint32_t length;
	bool have_desc;
	char *err;
	size_t errlen;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int refuse(struct cursor *c, const char *fmt, ...)
{
	char what[SR_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!c->err || !c->errlen)
		return -1;
	if (!c->have_desc) {
		snprintf(c->err, c->errlen, "record %u at byte %zu: %s", c->recno, c->pos, what);
		return -1;
	}
	const char *name = sr_typecode_name(c->typecode);
	char tname[32];
	if (!name) {
		snprintf(tname, sizeof(tname), "typecode 0x%04x", c->typecode);
		name = tname;
	}
	snprintf(c->err, c->errlen, "record %u (%s, instance %u) at byte %zu: %s", c->recno, name,
	         c->instance, c->pos, what);
	return -1;
}

/* Read the next descriptor; checks that the body fits. */
static int next_desc(struct cursor *c)
{
	c->have_desc = false;
	size_t left = c->len - c->pos;
	if (left == 0)
		return refuse(c, "image ends without an END record");
	if (left < SR_DESC_SIZE)
		return refuse(c, "truncated descriptor (%zu bytes left, need %u)", left,
		              SR_DESC_SIZE);
	const uint8_t *d = c->buf + c->pos;
	c->typecode = sr_get16(d);
	c->instance = sr_get16(d + 2);
	c->length = sr_get32(d + 4);
	c->have_desc = true;
	return 0;
}

static int body_fits(struct cursor *c)
{
	size_t left = c->len - c->pos - SR_DESC_SIZE;
	if (c->length > left)
		return refuse(c, "length %" PRIu32 ", but only %zu bytes left (truncated)",
		              c->length, left);
	return 0;
}

static int load_header(struct cursor *c, struct sr_image *st)
{
	if (next_desc(c))
		return -1;
	if (c->typecode != SR_TC_HEADER)
		return refuse(c, "first record must be HEADER (typecode 1)");
	if (c->instance != 0)
		return refuse(c, "instance %u, expected 0", c->instance);
	if (c->length != SR_HEADER_LEN)
		return refuse(c, "length %" PRIu32 ", expected %u", c->length, SR_HEADER_LEN);
	if (body_fits(c))
		return -1;
	const uint8_t *b = c->buf + c->pos + SR_DESC_SIZE;
	st->header.magic = sr_get32(b);
	st->header.version = sr_get32(b + 4);
	st->header.changeset = sr_get64(b + 8);
	st->header.cpuid = sr_get32(b + 16);
	st->header.gtsc_khz = sr_get32(b + 20);
	if (st->header.magic != SR_HVM_MAGIC)
		return refuse(c, "magic 0x%08" PRIx32 ", expected 0x%08x", st->header.magic,
		              SR_HVM_MAGIC);
	if (st->header.version != SR_HVM_VERSION)
		return refuse(c, "version %" PRIu32 ", expected %u", st->header.version,
		              SR_HVM_VERSION);
	st->header_where = (struct sr_where){c->recno, c->pos, c->length};
	c->pos += SR_DESC_SIZE + c->length;
	return 0;
}

/* "expected 24 or 16", "expected 114" */
static void expected_lengths(const struct sr_record_type *t, char *buf, size_t n)
{
	int w = snprintf(buf, n, "%" PRIu32, t->length);
	for (size_t i = 0; i < t->n_older && w > 0 && (size_t)w < n; i++)
		w += snprintf(buf + w, n - (size_t)w, "%s%" PRIu32,
		              i + 1 == t->n_older ? " or " : ", ", t->older[i]);
}

static bool length_known(const struct sr_record_type *t, uint32_t len)
{
	if (len == t->length)
		return true;
	for (size_t i = 0; i < t->n_older; i++)
		if (t->older[i] == len)
			return true;
	return false;
}

static int load_record(struct cursor *c, struct sr_image *st)
{
	const struct sr_record_type *t = sr_record_by_typecode(c->typecode);
	if (!t) {
		if (c->typecode == SR_TC_HEADER)
			return refuse(c, "HEADER may only be the first record");
		if (!(c->typecode & SR_TC_OPTIONAL)) {
			if (sr_typecode_name(c->typecode))
				return refuse(c, "typecode %u is not part of an rtcdm image",
				              c->typecode);
			return refuse(c, "unknown typecode, not marked optional (bit 15)");
		}
		if (body_fits(c))
			return -1;
		st->skipped_optional++;
		return 0;
	}
	enum sr_rec r = (enum sr_rec)(t - sr_records);
	if (c->instance >= t->max_instances)
		return refuse(c, "instance %u, expected below %u", c->instance, t->max_instances);
	if (c->length > t->length)
		return refuse(c, "length %" PRIu32 ", expected at most %" PRIu32, c->length,
		              t->length);
	if (!length_known(t, c->length)) {
		char exp[64];
		expected_lengths(t, exp, sizeof(exp));
		return refuse(c, "length %" PRIu32 ", expected %s", c->length, exp);
	}
	if (body_fits(c))
		return -1;
	if (sr_has(st, r))
		return refuse(c, "duplicate instance %u (first at record %u, byte %zu)", c->instance,
		              st->where[r].recno, st->where[r].offset);
	uint8_t body[128];
	_Static_assert(SR_NVRAM_LEN <= sizeof(body), "record body buffer too small");
	memset(body, 0, sizeof(body));
	memcpy(body, c->buf + c->pos + SR_DESC_SIZE, c->length);
	char why[160];
	if (t->validate(body, why, sizeof(why)))
		return refuse(c, "%s", why);
	t->load(body, st);
	st->present |= 1u << r;
	st->where[r] = (struct sr_where){c->recno, c->pos, c->length};
	return 0;
}

int sr_load(const uint8_t *buf, size_t len, struct sr_image *out, char *err, size_t errlen)
{
	struct sr_image st;
	struct cursor c = {.buf = buf, .len = buf ? len : 0, .recno = 1, .err = err,
	                   .errlen = errlen};
	sr_image_init(&st);
	if (load_header(&c, &st))
		return -1;
	for (;;) {
		c.recno++;
		if (next_desc(&c))
			return -1;
		if (c.typecode == SR_TC_END) {
			if (c.instance != 0)
				return refuse(&c, "instance %u, expected 0", c.instance);
			if (c.length != 0)
				return refuse(&c, "length %" PRIu32 ", expected 0", c.length);
			size_t after = c.len - c.pos - SR_DESC_SIZE;
			if (after)
				return refuse(&c, "%zu bytes after END", after);
			if (!sr_has(&st, SR_REC_RTC))
				return refuse(&c, "no RTC record (typecode 11) before END");
			st.end_where = (struct sr_where){c.recno, c.pos, 0};
			st.size = c.len;
			*out = st;
			return 0;
		}
		if (load_record(&c, &st))
			return -1;
		c.pos += SR_DESC_SIZE + c.length;
	}
}

static size_t put_desc(uint8_t *buf, size_t cap, size_t pos, uint16_t tc, uint32_t len)
{
	if (pos + SR_DESC_SIZE + len <= cap) {
		sr_put16(buf + pos, tc);
		sr_put16(buf + pos + 2, 0);
		sr_put32(buf + pos + 4, len);
		memset(buf + pos + SR_DESC_SIZE, 0, len);
	}
	return pos + SR_DESC_SIZE;
}

size_t sr_encode(const struct sr_image *img, uint8_t *buf, size_t cap)
{
	size_t need = SR_DESC_SIZE + SR_HEADER_LEN + SR_DESC_SIZE;
	for (size_t i = 0; i < SR_REC_COUNT; i++)
		if (sr_has(img, (enum sr_rec)i))
			need += SR_DESC_SIZE + sr_records[i].length;
	if (!buf || cap < need)
		return need;

	size_t pos = put_desc(buf, cap, 0, SR_TC_HEADER, SR_HEADER_LEN);
	sr_put32(buf + pos, img->header.magic);
	sr_put32(buf + pos + 4, img->header.version);
	sr_put64(buf + pos + 8, img->header.changeset);
	sr_put32(buf + pos + 16, img->header.cpuid);
	sr_put32(buf + pos + 20, img->header.gtsc_khz);
	pos += SR_HEADER_LEN;
	for (size_t i = 0; i < SR_REC_COUNT; i++) {
		const struct sr_record_type *t = &sr_records[i];
		if (!sr_has(img, (enum sr_rec)i))
			continue;
		pos = put_desc(buf, cap, pos, t->typecode, t->length);
		t->save(img, buf + pos);
		pos += t->length;
	}
	pos = put_desc(buf, cap, pos, SR_TC_END, 0);
	return pos;
}
