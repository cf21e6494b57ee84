/*
 * records.c — the record table: every record rtcdm reads or writes, declared
 * once with its typecode, current length, older lengths and codec functions.
 * Adding a field to a record = append it to the body, raise `length`, add
 * the previous length to `older`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "saverestore/sr.h"

/* ---- RTC (Xen's struct hvm_hw_rtc, typecode 11) -------------------------------- */
/* @0 cmos_data[14], @14 cmos_index, @15 pad0, @16 int64 rtc_offset */

static int rtc_validate(const uint8_t *b, char *why, size_t n)
{
	if (b[14] > 127) {
		snprintf(why, n, "cmos_index %u, expected 0..127", b[14]);
		return -1;
	}
	int64_t off = (int64_t)sr_get64(b + 16);
	if (off > SR_OFFSET_LIMIT || off < -SR_OFFSET_LIMIT) {
		snprintf(why, n, "rtc_offset %" PRId64 ", expected within +-%" PRId64, off,
		         SR_OFFSET_LIMIT);
		return -1;
	}
	return 0;
}

static void rtc_load(const uint8_t *b, struct sr_image *img)
{
	memcpy(img->rtc.cmos, b, RTC_XEN_CMOS_SIZE);
	img->rtc.index = b[14];
	img->rtc.pad0 = b[15];
	img->rtc.rtc_offset = (int64_t)sr_get64(b + 16);
}

static void rtc_save(const struct sr_image *img, uint8_t *b)
{
	memcpy(b, img->rtc.cmos, RTC_XEN_CMOS_SIZE);
	b[14] = img->rtc.index;
	b[15] = img->rtc.pad0;
	sr_put64(b + 16, (uint64_t)img->rtc.rtc_offset);
}

/* ---- NVRAM: CMOS bytes 14..127, raw ------------------------------------------ */

static int nvram_validate(const uint8_t *b, char *why, size_t n)
{
	(void)b;
	(void)why;
	(void)n;
	return 0; /* whatever the guest wrote */
}

static void nvram_load(const uint8_t *b, struct sr_image *img)
{
	memcpy(img->nvram, b, SR_NVRAM_LEN);
}

static void nvram_save(const struct sr_image *img, uint8_t *b)
{
	memcpy(b, img->nvram, SR_NVRAM_LEN);
}

/* ---- OFFSET: @0 int64 seconds, @8 u8 set, @9 pad[3], @12 u32 phase_ns --------- */

static int zero_pad(const uint8_t *b, size_t from, size_t to, char *why, size_t n)
{
	for (size_t i = from; i < to; i++)
		if (b[i]) {
			snprintf(why, n, "padding byte %zu is 0x%02x, expected 0", i, b[i]);
			return -1;
		}
	return 0;
}

static int offset_validate(const uint8_t *b, char *why, size_t n)
{
	int64_t s = (int64_t)sr_get64(b);
	if (s > SR_OFFSET_LIMIT || s < -SR_OFFSET_LIMIT) {
		snprintf(why, n, "seconds %" PRId64 ", expected within +-%" PRId64, s,
		         SR_OFFSET_LIMIT);
		return -1;
	}
	if (b[8] > 1) {
		snprintf(why, n, "set %u, expected 0 or 1", b[8]);
		return -1;
	}
	uint32_t phase = sr_get32(b + 12);
	if (phase >= 1000000000u) {
		snprintf(why, n, "phase_ns %" PRIu32 ", expected below 1000000000", phase);
		return -1;
	}
	return zero_pad(b, 9, 12, why, n);
}

static void offset_load(const uint8_t *b, struct sr_image *img)
{
	img->offset.seconds = (int64_t)sr_get64(b);
	img->offset.set = b[8];
	img->offset.phase_ns = sr_get32(b + 12);
}

static void offset_save(const struct sr_image *img, uint8_t *b)
{
	sr_put64(b, (uint64_t)img->offset.seconds);
	b[8] = img->offset.set;
	sr_put32(b + 12, img->offset.phase_ns);
}

/* ---- TIMER: @0 u8 pending, @1 u8 irq_level, @2 pad[2], @4 u32 lost_ticks,
 *             @8 u32 period_elapsed_ns, @12 pad[4] ------------------------------ */

#define SR_REG_C_VALID (RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF)

static int timer_validate(const uint8_t *b, char *why, size_t n)
{
	if (b[0] & ~SR_REG_C_VALID & 0xff) {
		snprintf(why, n, "pending 0x%02x has bits outside 0x%02x", b[0], SR_REG_C_VALID);
		return -1;
	}
	if (b[1] > 1) {
		snprintf(why, n, "irq_level %u, expected 0 or 1", b[1]);
		return -1;
	}
	uint32_t lost = sr_get32(b + 4);
	if (lost > RTC_MAX_LOST_TICKS) {
		snprintf(why, n, "lost_ticks %" PRIu32 ", expected at most %u", lost,
		         RTC_MAX_LOST_TICKS);
		return -1;
	}
	uint32_t el = sr_get32(b + 8);
	if (el >= 1000000000u) {
		snprintf(why, n, "period_elapsed_ns %" PRIu32 ", expected below 1000000000", el);
		return -1;
	}
	if (zero_pad(b, 2, 4, why, n))
		return -1;
	return zero_pad(b, 12, 16, why, n);
}

static void timer_load(const uint8_t *b, struct sr_image *img)
{
	img->timer.pending = b[0];
	img->timer.irq_level = b[1];
	img->timer.lost_ticks = sr_get32(b + 4);
	img->timer.period_elapsed_ns = sr_get32(b + 8);
}

static void timer_save(const struct sr_image *img, uint8_t *b)
{
	b[0] = img->timer.pending;
	b[1] = img->timer.irq_level;
	sr_put32(b + 4, img->timer.lost_ticks);
	sr_put32(b + 8, img->timer.period_elapsed_ns);
}

/* ---- PORT: @0 u8 index, @1 u8 nmi_masked, @2 pad[6] ------------------------------ */

static int port_validate(const uint8_t *b, char *why, size_t n)
{
	if (b[0] > 127) {
		snprintf(why, n, "index %u, expected 0..127", b[0]);
		return -1;
	}
	if (b[1] > 1) {
		snprintf(why, n, "nmi_masked %u, expected 0 or 1", b[1]);
		return -1;
	}
	return zero_pad(b, 2, 8, why, n);
}

static void port_load(const uint8_t *b, struct sr_image *img)
{
	img->port.index = b[0];
	img->port.nmi_masked = b[1];
}

static void port_save(const struct sr_image *img, uint8_t *b)
{
	b[0] = img->port.index;
	b[1] = img->port.nmi_masked;
}

/* ---- the table ---------------------------------------------------------------- */

static const uint32_t rtc_older[] = {SR_RTC_LEN_OLD};

const struct sr_record_type sr_records[SR_REC_COUNT] = {
	[SR_REC_RTC] = {SR_TC_RTC, "RTC", SR_RTC_LEN, rtc_older, 1, 1, rtc_validate, rtc_load,
	                rtc_save},
	[SR_REC_NVRAM] = {SR_TC_NVRAM, "NVRAM", SR_NVRAM_LEN, NULL, 0, 1, nvram_validate,
	                  nvram_load, nvram_save},
	[SR_REC_OFFSET] = {SR_TC_OFFSET, "OFFSET", SR_OFFSET_LEN, NULL, 0, 1, offset_validate,
	                   offset_load, offset_save},
	[SR_REC_TIMER] = {SR_TC_TIMER, "TIMER", SR_TIMER_LEN, NULL, 0, 1, timer_validate,
	                  timer_load, timer_save},
	[SR_REC_PORT] = {SR_TC_PORT, "PORT", SR_PORT_LEN, NULL, 0, 1, port_validate, port_load,
	                 port_save},
};

const struct sr_record_type *sr_record_by_typecode(uint16_t typecode)
{
	for (size_t i = 0; i < SR_REC_COUNT; i++)
		if (sr_records[i].typecode == typecode)
			return &sr_records[i];
	return NULL;
}

/* Xen's x86 HVM typecodes (public/arch-x86/hvm/save.h, 4.17). */
static const char *const xen_names[] = {
	"END",       "HEADER",   "CPU",     "PIC",        "IOAPIC",          "LAPIC",
	"LAPIC_REGS", "PCI_IRQ", "ISA_IRQ", "PCI_LINK",   "PIT",             "RTC",
	"HPET",      "PMTIMER",  "MTRR",    "VIRIDIAN_DOMAIN", "CPU_XSAVE", "VIRIDIAN_VCPU",
	"VMCE_VCPU", "TSC_ADJUST", "CPU_MSR",
};

const char *sr_typecode_name(uint16_t typecode)
{
	const struct sr_record_type *t = sr_record_by_typecode(typecode);
	if (t)
		return t->name;
	if (typecode < sizeof(xen_names) / sizeof(xen_names[0]))
		return xen_names[typecode];
	return NULL;
}
