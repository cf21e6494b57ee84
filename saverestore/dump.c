/*
 * dump.c — validated images and walked xl images, in words and as JSON.
 */
#include <inttypes.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saverestore/sr.h"

void sr_format_offset(int64_t seconds, char *buf, size_t len)
{
	/* Magnitude as unsigned so INT64_MIN needs no special case. */
	uint64_t mag = seconds < 0 ? 0 - (uint64_t)seconds : (uint64_t)seconds;
	char sign = seconds < 0 ? '-' : '+';
	uint64_t h = mag / 3600, m = mag / 60 % 60, s = mag % 60;
	if (s)
		snprintf(buf, len, "%c%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, sign, h, m, s);
	else
		snprintf(buf, len, "%c%02" PRIu64 ":%02" PRIu64, sign, h, m);
}

static int dec(uint8_t v, bool binary)
{
	if (binary)
		return v;
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0f);
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int sr_format_cmos_time(const uint8_t *regs, int century, char *buf, size_t len)
{
	bool bin = regs[RTC_REG_B] & RTC_B_DM_BINARY;
	bool h24 = regs[RTC_REG_B] & RTC_B_24H;
	int sec = dec(regs[RTC_SECONDS], bin), min = dec(regs[RTC_MINUTES], bin);
	int day = dec(regs[RTC_DAY_OF_MONTH], bin), mon = dec(regs[RTC_MONTH], bin);
	int yy = dec(regs[RTC_YEAR], bin);
	uint8_t hraw = regs[RTC_HOURS];
	int hour;
	if (h24) {
		hour = dec(hraw, bin);
	} else {
		hour = dec(hraw & 0x7f, bin);
		if (hour < 1 || hour > 12)
			hour = -1;
		else
			hour = hour % 12 + ((hraw & RTC_HOUR_PM) ? 12 : 0);
	}
	int cent = century >= 0 ? dec((uint8_t)century, bin) : -1;
	if (cent <= 0 || cent > 99)
		cent = 20; /* Xen's rule: two-digit years are 20yy */
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int year = cent * 100 + yy;
	bool ok = sec >= 0 && sec < 60 && min >= 0 && min < 60 && hour >= 0 && hour < 24 &&
	          yy >= 0 && yy < 100 && mon >= 1 && mon <= 12 && day >= 1 &&
	          day <= mdays[mon - 1] + (mon == 2 && leap(year));
	if (!ok) {
		snprintf(buf, len, "not a valid date (raw %02x-%02x-%02x %02x:%02x:%02x)",
		         regs[RTC_YEAR], regs[RTC_MONTH], regs[RTC_DAY_OF_MONTH], hraw,
		         regs[RTC_MINUTES], regs[RTC_SECONDS]);
		return -1;
	}
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", year, mon, day, hour, min, sec);
	return 0;
}

static int century_of(const struct sr_image *img)
{
	if (!sr_has(img, SR_REC_NVRAM))
		return -1;
	return img->nvram[RTC_CENTURY - RTC_NVRAM_FIRST];
}

static const char *mode_str(uint8_t reg_b)
{
	static const char *const m[] = {"BCD, 12-hour", "BCD, 24-hour", "binary, 12-hour",
	                                "binary, 24-hour"};
	return m[((reg_b & RTC_B_DM_BINARY) ? 2 : 0) + ((reg_b & RTC_B_24H) ? 1 : 0)];
}

static void flags_str(uint8_t c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", c & RTC_C_IRQF ? " IRQF" : "", c & RTC_C_PF ? " PF" : "",
	         c & RTC_C_AF ? " AF" : "", c & RTC_C_UF ? " UF" : "");
	if (!*buf)
		snprintf(buf, len, " none");
}

static void print_xen_rtc(FILE *out, const struct sr_xen_rtc *r, uint32_t len, int century)
{
	char t[96], off[40];
	sr_format_cmos_time(r->cmos, century, t, sizeof(t));
	fprintf(out, "  guest time  %s (%s)\n", t, mode_str(r->cmos[RTC_REG_B]));
	fprintf(out, "  registers   A=0x%02x B=0x%02x C=0x%02x D=0x%02x, index %u\n",
	        r->cmos[RTC_REG_A], r->cmos[RTC_REG_B], r->cmos[RTC_REG_C], r->cmos[RTC_REG_D],
	        r->index);
	fprintf(out, "  alarm       %02x:%02x:%02x (raw hours:minutes:seconds)\n",
	        r->cmos[RTC_HOURS_ALARM], r->cmos[RTC_MINUTES_ALARM], r->cmos[RTC_SECONDS_ALARM]);
	if (len == SR_RTC_LEN_OLD) {
		fprintf(out, "  rtc_offset  none (16-byte record from before Xen 4.14: loads as 0)\n");
	} else {
		sr_format_offset(r->rtc_offset, off, sizeof(off));
		fprintf(out, "  rtc_offset  %" PRId64 " s (%s)\n", r->rtc_offset, off);
	}
}

static void print_record(FILE *out, const struct sr_image *img, enum sr_rec r)
{
	const struct sr_record_type *t = &sr_records[r];
	const struct sr_where *w = &img->where[r];
	char buf[96];
	fprintf(out, "record %u (%s, instance 0) at byte %zu, length %" PRIu32 "%s\n", w->recno,
	        t->name, w->offset, w->length,
	        w->length == t->length ? "" : " (older form, zero-extended)");
	switch (r) {
	case SR_REC_RTC:
		print_xen_rtc(out, &img->rtc, w->length, century_of(img));
		break;
	case SR_REC_NVRAM:
		for (unsigned i = 0; i < SR_NVRAM_LEN; i += 16) {
			fprintf(out, "  %02x:", RTC_NVRAM_FIRST + i);
			for (unsigned j = i; j < i + 16 && j < SR_NVRAM_LEN; j++)
				fprintf(out, " %02x", img->nvram[j]);
			fputc('\n', out);
		}
		break;
	case SR_REC_OFFSET:
		sr_format_offset(img->offset.seconds, buf, sizeof(buf));
		fprintf(out, "  seconds     %" PRId64 " (%s)\n", img->offset.seconds, buf);
		fprintf(out, "  set         %u (%s)\n", img->offset.set,
		        img->offset.set ? "set by the toolstack: wins on restore"
		                        : "not set by the toolstack");
		fprintf(out, "  phase_ns    %" PRIu32 "\n", img->offset.phase_ns);
		break;
	case SR_REC_TIMER:
		flags_str(img->timer.pending, buf, sizeof(buf));
		fprintf(out, "  pending     0x%02x (%s)\n", img->timer.pending, buf + 1);
		fprintf(out, "  irq_level   %u\n", img->timer.irq_level);
		fprintf(out, "  lost_ticks  %" PRIu32 "\n", img->timer.lost_ticks);
		fprintf(out, "  period_elapsed_ns %" PRIu32 "\n", img->timer.period_elapsed_ns);
		break;
	case SR_REC_PORT:
		fprintf(out, "  index       %u\n", img->port.index);
		fprintf(out, "  nmi_masked  %u\n", img->port.nmi_masked);
		break;
	case SR_REC_COUNT:
		break;
	}
}

/* Present records in the order they appear in the image. */
static size_t image_order(const struct sr_image *img, enum sr_rec *order)
{
	size_t n = 0;
	for (size_t i = 0; i < SR_REC_COUNT; i++)
		if (sr_has(img, (enum sr_rec)i))
			order[n++] = (enum sr_rec)i;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && img->where[order[j]].recno < img->where[order[j - 1]].recno; j--) {
			enum sr_rec tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	return n;
}

void sr_dump_image_text(FILE *out, const struct sr_image *img)
{
	const struct sr_header *h = &img->header;
	fprintf(out, "rtcdm image, %zu bytes\n", img->size);
	fprintf(out, "record 1 (HEADER, instance 0) at byte 0, length 24\n");
	fprintf(out, "  magic 0x%08" PRIx32 ", version %" PRIu32 ", changeset ", h->magic, h->version);
	if (h->changeset == SR_CHANGESET_UNKNOWN)
		fprintf(out, "unknown");
	else
		fprintf(out, "0x%016" PRIx64, h->changeset);
	fprintf(out, ", cpuid 0x%08" PRIx32 ", gtsc_khz %" PRIu32 "\n", h->cpuid, h->gtsc_khz);
	enum sr_rec order[SR_REC_COUNT];
	size_t n = image_order(img, order);
	for (size_t i = 0; i < n; i++)
		print_record(out, img, order[i]);
	if (img->skipped_optional)
		fprintf(out, "(%u unknown optional records skipped)\n", img->skipped_optional);
	fprintf(out, "record %u (END, instance 0) at byte %zu\n", img->end_where.recno,
	        img->end_where.offset);
}

void sr_dump_xl_text(FILE *out, const struct sr_xl_info *x)
{
	fprintf(out, "xl save image: mandatory flags 0x%" PRIx32 ", optional data %" PRIu32
	             " bytes\n", x->xl_mandatory_flags, x->xl_optional_len);
	fprintf(out, "libxl stream version %" PRIu32 "\n", x->libxl_version);
	if (x->have_libxc)
		fprintf(out, "libxc stream version %" PRIu32 ", domain type %" PRIu32
		             " (%s), Xen %" PRIu32 ".%" PRIu32 ", %u records, %u PAGE_DATA\n",
		        x->libxc_version, x->domain_type,
		        x->domain_type == 2 ? "x86 HVM" : x->domain_type == 1 ? "x86 PV" : "other",
		        x->xen_major, x->xen_minor, x->libxc_records, x->page_data_records);
	if (!x->have_hvm_context)
		fprintf(out, "no HVM_CONTEXT record\n");
	else if (!x->have_xen_rtc)
		fprintf(out, "HVM_CONTEXT at byte %" PRIu64 " (%" PRIu32 " bytes): no RTC record\n",
		        x->hvm_context_at, x->hvm_context_len);
	else {
		fprintf(out, "Xen RTC record (HVM_CONTEXT) at byte %" PRIu64 ", length %" PRIu32 "\n",
		        x->xen_rtc_at, x->xen_rtc_len);
		int century = x->emulator_kind == SR_EMU_RTCDM && sr_has(&x->emu_image, SR_REC_NVRAM)
		                      ? x->emu_image.nvram[RTC_CENTURY - RTC_NVRAM_FIRST]
		                      : -1;
		print_xen_rtc(out, &x->xen_rtc, x->xen_rtc_len, century);
	}
	if (!x->have_emulator) {
		fprintf(out, "no EMULATOR_CONTEXT record\n");
		return;
	}
	fprintf(out, "EMULATOR_CONTEXT at byte %" PRIu64 ": emulator id %" PRIu32 ", %" PRIu32
	             " bytes, %s\n", x->emulator_at, x->emulator_id, x->emulator_len,
	        x->emulator_kind == SR_EMU_RTCDM    ? "rtcdm image"
	        : x->emulator_kind == SR_EMU_INVALID ? "rtcdm image, refused"
	                                             : "not an rtcdm image");
	if (x->emulator_kind == SR_EMU_QEMU)
		fprintf(out, "  (a QEMU savevm stream)\n");
	if (x->emulator_kind == SR_EMU_INVALID)
		fprintf(out, "  %s\n", x->emu_error);
	if (x->emulator_kind == SR_EMU_RTCDM)
		sr_dump_image_text(out, &x->emu_image);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void jadd(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

static json_object *jint(int64_t v)
{
	return json_object_new_int64(v);
}

static json_object *xen_rtc_json(const struct sr_xen_rtc *r, uint32_t len, int century)
{
	json_object *o = json_object_new_object();
	char t[96], off[40];
	bool ok = sr_format_cmos_time(r->cmos, century, t, sizeof(t)) == 0;
	jadd(o, "guest_time", ok ? jstr(t) : NULL);
	jadd(o, "mode", jstr(mode_str(r->cmos[RTC_REG_B])));
	json_object *regs = json_object_new_array();
	for (unsigned i = 0; i < RTC_XEN_CMOS_SIZE; i++)
		json_object_array_add(regs, jint(r->cmos[i]));
	jadd(o, "cmos", regs);
	jadd(o, "index", jint(r->index));
	if (len == SR_RTC_LEN_OLD) {
		jadd(o, "rtc_offset", NULL);
	} else {
		sr_format_offset(r->rtc_offset, off, sizeof(off));
		jadd(o, "rtc_offset", jint(r->rtc_offset));
		jadd(o, "rtc_offset_hhmm", jstr(off));
	}
	return o;
}

static json_object *image_json(const struct sr_image *img)
{
	json_object *o = json_object_new_object();
	jadd(o, "format", jstr("rtcdm"));
	jadd(o, "size", jint((int64_t)img->size));
	json_object *h = json_object_new_object();
	jadd(h, "magic", jint(img->header.magic));
	jadd(h, "version", jint(img->header.version));
	jadd(h, "changeset", img->header.changeset == SR_CHANGESET_UNKNOWN
	                             ? NULL
	                             : json_object_new_uint64(img->header.changeset));
	jadd(h, "cpuid", jint(img->header.cpuid));
	jadd(h, "gtsc_khz", jint(img->header.gtsc_khz));
	jadd(o, "header", h);
	json_object *recs = json_object_new_array();
	enum sr_rec order[SR_REC_COUNT];
	size_t n = image_order(img, order);
	char buf[64];
	for (size_t i = 0; i < n; i++) {
		enum sr_rec r = order[i];
		const struct sr_where *w = &img->where[r];
		json_object *e = json_object_new_object();
		jadd(e, "record", jint(w->recno));
		jadd(e, "name", jstr(sr_records[r].name));
		jadd(e, "typecode", jint(sr_records[r].typecode));
		jadd(e, "instance", jint(0));
		jadd(e, "byte", jint((int64_t)w->offset));
		jadd(e, "length", jint(w->length));
		jadd(e, "current_length", jint(sr_records[r].length));
		json_object *body = NULL;
		switch (r) {
		case SR_REC_RTC:
			body = xen_rtc_json(&img->rtc, w->length, century_of(img));
			break;
		case SR_REC_NVRAM:
			body = json_object_new_object();
			{
				char hex[SR_NVRAM_LEN * 2 + 1];
				for (unsigned k = 0; k < SR_NVRAM_LEN; k++)
					snprintf(hex + 2 * k, 3, "%02x", img->nvram[k]);
				jadd(body, "hex", jstr(hex));
			}
			break;
		case SR_REC_OFFSET:
			body = json_object_new_object();
			sr_format_offset(img->offset.seconds, buf, sizeof(buf));
			jadd(body, "seconds", jint(img->offset.seconds));
			jadd(body, "hhmm", jstr(buf));
			jadd(body, "set", json_object_new_boolean(img->offset.set));
			jadd(body, "phase_ns", jint(img->offset.phase_ns));
			break;
		case SR_REC_TIMER:
			body = json_object_new_object();
			jadd(body, "pending", jint(img->timer.pending));
			jadd(body, "irq_level", jint(img->timer.irq_level));
			jadd(body, "lost_ticks", jint(img->timer.lost_ticks));
			jadd(body, "period_elapsed_ns", jint(img->timer.period_elapsed_ns));
			break;
		case SR_REC_PORT:
			body = json_object_new_object();
			jadd(body, "index", jint(img->port.index));
			jadd(body, "nmi_masked", json_object_new_boolean(img->port.nmi_masked));
			break;
		case SR_REC_COUNT:
			break;
		}
		jadd(e, "fields", body);
		json_object_array_add(recs, e);
	}
	jadd(o, "records", recs);
	jadd(o, "skipped_optional", jint(img->skipped_optional));
	return o;
}

static char *to_text(json_object *o)
{
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

char *sr_dump_image_json(const struct sr_image *img)
{
	return to_text(image_json(img));
}

char *sr_dump_xl_json(const struct sr_xl_info *x)
{
	json_object *o = json_object_new_object();
	jadd(o, "format", jstr("xl"));
	jadd(o, "xl_mandatory_flags", jint(x->xl_mandatory_flags));
	jadd(o, "libxl_version", jint(x->libxl_version));
	if (x->have_libxc) {
		json_object *c = json_object_new_object();
		jadd(c, "version", jint(x->libxc_version));
		jadd(c, "domain_type", jint(x->domain_type));
		jadd(c, "xen_major", jint(x->xen_major));
		jadd(c, "xen_minor", jint(x->xen_minor));
		jadd(c, "records", jint(x->libxc_records));
		jadd(c, "page_data_records", jint(x->page_data_records));
		jadd(o, "libxc", c);
	}
	if (x->have_xen_rtc) {
		int century = x->emulator_kind == SR_EMU_RTCDM && sr_has(&x->emu_image, SR_REC_NVRAM)
		                      ? x->emu_image.nvram[RTC_CENTURY - RTC_NVRAM_FIRST]
		                      : -1;
		json_object *r = xen_rtc_json(&x->xen_rtc, x->xen_rtc_len, century);
		jadd(r, "byte", jint((int64_t)x->xen_rtc_at));
		jadd(r, "length", jint(x->xen_rtc_len));
		jadd(o, "xen_rtc", r);
	} else {
		jadd(o, "xen_rtc", NULL);
	}
	if (x->have_emulator) {
		json_object *e = json_object_new_object();
		jadd(e, "emulator_id", jint(x->emulator_id));
		jadd(e, "byte", jint((int64_t)x->emulator_at));
		jadd(e, "length", jint(x->emulator_len));
		jadd(e, "kind", jstr(sr_emulator_kind_str(x->emulator_kind)));
		if (x->emulator_kind == SR_EMU_RTCDM)
			jadd(e, "image", image_json(&x->emu_image));
		if (x->emulator_kind == SR_EMU_INVALID)
			jadd(e, "error", jstr(x->emu_error));
		jadd(o, "emulator", e);
	} else {
		jadd(o, "emulator", NULL);
	}
	return to_text(o);
}
