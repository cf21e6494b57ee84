/*
 * sr.h — rtcdm's save format: Xen's HVM save layout extended with rtcdm's
 * own records (docs/save-format.md is the byte-level specification).
 *
 * An image is   HEADER (typecode 1, 24 bytes)
 *               records, each an 8-byte descriptor {u16 typecode, u16 instance,
 *               u32 length} followed by `length` bytes, little-endian, packed
 *               END (typecode 0, instance 0, length 0)
 *
 * Loading is two-phase: sr_load() parses and validates a whole image into a
 * struct sr_image (the staging copy) and refuses it with one message if
 * anything is wrong; sr_apply() then moves a validated image into a running
 * RTC.  Nothing is applied from an image that was refused.
 */
#ifndef RTCDM_SR_H
#define RTCDM_SR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rtc/rtc.h"

#define SR_HVM_MAGIC 0x54381286u
#define SR_HVM_VERSION 1u
#define SR_DESC_SIZE 8u
#define SR_HEADER_LEN 24u
#define SR_CHANGESET_UNKNOWN UINT64_MAX

/* Typecodes.  Xen uses 0..20 and reserves 22..34; rtcdm's own records live
 * in the block 0x5200..0x52ff ('R'), bit 15 marks a record a loader that
 * does not know it may skip. */
enum {
	SR_TC_END = 0,
	SR_TC_HEADER = 1,
	SR_TC_RTC = 11, /* Xen's struct hvm_hw_rtc */
	SR_TC_OPTIONAL = 0x8000,
	SR_TC_OWN_FIRST = 0x5200,
	SR_TC_OWN_LAST = 0x52ff,
	SR_TC_NVRAM = 0x5201,
	SR_TC_OFFSET = 0x5202,
	SR_TC_TIMER = 0x5203,
	SR_TC_PORT = 0x5204,
};

/* Current body lengths. */
#define SR_RTC_LEN 24u
#define SR_RTC_LEN_OLD 16u /* before Xen 4.14: no rtc_offset */
#define SR_NVRAM_LEN 114u  /* CMOS bytes 14..127 */
#define SR_OFFSET_LEN 16u
#define SR_TIMER_LEN 16u
#define SR_PORT_LEN 8u

/* Largest |offset seconds| accepted: the RTC core's own limit (2^40 s). */
#define SR_OFFSET_LIMIT RTC_OFFSET_MAX_S

/* Largest image of our own format rtcdm reads (ours are < 256 bytes). */
#define SR_IMAGE_MAX 65536u

/* Room for any error message. */
#define SR_ERR_MAX 256u

/* Index of each known record kind in the record table. */
enum sr_rec {
	SR_REC_RTC,
	SR_REC_NVRAM,
	SR_REC_OFFSET,
	SR_REC_TIMER,
	SR_REC_PORT,
	SR_REC_COUNT,
};

struct sr_header {
	uint32_t magic;
	uint32_t version;
	uint64_t changeset;
	uint32_t cpuid;
	uint32_t gtsc_khz;
};

/* Xen's RTC record (struct hvm_hw_rtc), decoded. */
struct sr_xen_rtc {
	uint8_t cmos[RTC_XEN_CMOS_SIZE];
	uint8_t index;
	uint8_t pad0;
	int64_t rtc_offset;
};

struct sr_offset_rec {
	int64_t seconds;
	uint8_t set;       /* 0 or 1 */
	uint32_t phase_ns; /* < 1e9 */
};

struct sr_timer_rec {
	uint8_t pending;            /* REG_C flags: IRQF|PF|AF|UF only */
	uint8_t irq_level;          /* 0 or 1 */
	uint32_t lost_ticks;        /* <= RTC_MAX_LOST_TICKS */
	uint32_t period_elapsed_ns; /* < 1e9 */
};

struct sr_port_rec {
	uint8_t index;      /* 0..127 */
	uint8_t nmi_masked; /* 0 or 1 */
};

/* Where a record was found in a loaded image. */
struct sr_where {
	unsigned recno;  /* counted from 1; the HEADER is record 1 */
	size_t offset;   /* byte offset of the descriptor */
	uint32_t length; /* body length found (may be an older form) */
};

/* A whole image, decoded: the staging copy of a load, the input of a save. */
struct sr_image {
	struct sr_header header;
	unsigned present; /* bit (1u << enum sr_rec) per record present */
	struct sr_xen_rtc rtc;
	uint8_t nvram[SR_NVRAM_LEN];
	struct sr_offset_rec offset;
	struct sr_timer_rec timer;
	struct sr_port_rec port;
	/* Filled by sr_load(), ignored by sr_encode(). */
	struct sr_where where[SR_REC_COUNT];
	struct sr_where header_where, end_where;
	unsigned skipped_optional; /* unknown records marked optional */
	size_t size;               /* image bytes, END included */
};

static inline bool sr_has(const struct sr_image *img, enum sr_rec r)
{
	return (img->present >> r) & 1u;
}

/* ---- record table (records.c) ---------------------------------------------- */

struct sr_record_type {
	uint16_t typecode;
	const char *name;
	uint32_t length;           /* current length */
	const uint32_t *older;     /* accepted older lengths, ascending */
	size_t n_older;
	uint16_t max_instances;    /* instances 0 .. max_instances-1 */
	/* Check a body (already zero-extended to `length`).  0 or -1 with a
	 * reason ("set 2, expected 0 or 1") in why. */
	int (*validate)(const uint8_t *body, char *why, size_t whylen);
	/* Decode a validated body into the staging image. */
	void (*load)(const uint8_t *body, struct sr_image *img);
	/* Encode the image's record into body[length]. */
	void (*save)(const struct sr_image *img, uint8_t *body);
};

extern const struct sr_record_type sr_records[SR_REC_COUNT];

/* Table entry for a typecode, or NULL. */
const struct sr_record_type *sr_record_by_typecode(uint16_t typecode);
/* Name of a typecode: ours, Xen's x86 names, or NULL when unknown. */
const char *sr_typecode_name(uint16_t typecode);

/* ---- codec (codec.c) ---------------------------------------------------------- */

/* A fresh image: header {magic, version 1, changeset unknown, cpuid 0,
 * gtsc_khz 0}, no records. */
void sr_image_init(struct sr_image *img);

/* Parse and validate a whole image.  On success fills *out and returns 0.
 * On failure returns -1, writes one line (no newline) to err and leaves
 * *out untouched. */
int sr_load(const uint8_t *buf, size_t len, struct sr_image *out, char *err, size_t errlen);

/* Encode img (HEADER, present records in table order, END) into buf.
 * Returns the image size; writes nothing and still returns the size when
 * cap is too small. */
size_t sr_encode(const struct sr_image *img, uint8_t *buf, size_t cap);

/* True when buf starts like one of our images (HEADER descriptor + magic). */
bool sr_looks_like_image(const uint8_t *buf, size_t len);

/* Little-endian helpers shared by the codec and the walker. */
uint16_t sr_get16(const uint8_t *p);
uint32_t sr_get32(const uint8_t *p);
uint64_t sr_get64(const uint8_t *p);
void sr_put16(uint8_t *p, uint16_t v);
void sr_put32(uint8_t *p, uint32_t v);
void sr_put64(uint8_t *p, uint64_t v);

/* ---- staging <-> RTC snapshot (stage.c) --------------------------------------- */

/* Build an image from a snapshot.  xen_rtc, when not NULL, is Xen's own RTC
 * record (HVM mode) and is stored verbatim instead of one synthesized from
 * the snapshot. */
void sr_image_from_snapshot(struct sr_image *img, const struct rtc_snapshot *snap,
                            const struct sr_xen_rtc *xen_rtc);

/* Where an image's offset comes from. */
enum sr_offset_outcome {
	SR_OFFSET_APPLIED,         /* OFFSET record (with its set flag) */
	SR_OFFSET_FROM_XEN_RECORD, /* no OFFSET: RTC.rtc_offset, set 0 */
	SR_OFFSET_OLD_RECORD_ZERO, /* only a 16-byte RTC record: offset 0 */
};
const char *sr_offset_outcome_str(enum sr_offset_outcome o);

/* The offset a validated image holds, as Xen's format defines it (an older
 * record zero-filled).  No authority here: which offset the domain runs with
 * is decided by the process (dm/authority.h). */
enum sr_offset_outcome sr_image_offset(const struct sr_image *img, struct rtc_offset *out);

/* The snapshot a validated image restores, with `offset` (NULL: the image's
 * own).  The RTC record is required (sr_load() guarantees it). */
void sr_image_to_snapshot(const struct sr_image *img, const struct rtc_offset *offset,
                          struct rtc_snapshot *snap);

/* ---- live RTC (apply.c) ----------------------------------------------------- */

/* Restore a validated image into rtc, running with `offset` (NULL: the
 * image's own). */
void sr_apply(struct rtc *rtc, const struct sr_image *img, const struct rtc_offset *offset);
/* Load + apply with the image's own offset: nothing is changed in rtc unless
 * the whole image is valid.  Returns 0 (where the offset came from in
 * *outcome when not NULL) or -1 with a message. */
int sr_load_into(struct rtc *rtc, const uint8_t *buf, size_t len,
                 enum sr_offset_outcome *outcome, char *err, size_t errlen);
/* Save rtc into buf (see sr_encode for the return value). */
size_t sr_save_rtc(struct rtc *rtc, const struct sr_xen_rtc *xen_rtc, uint8_t *buf, size_t cap);

/* ---- files (atomic_file.c) ----------------------------------------------------- */

/* Write len bytes to path atomically: temporary file in the same directory,
 * fsync, rename over path, fsync the directory.  Refuses a path that is a
 * symlink or not a regular file.  On failure the old file is intact, the
 * temporary removed, and err holds one line.  Never waits for a lock: a
 * temporary another writer holds fails the write (see atomic_file.c). */
int sr_write_file_atomic(const char *path, const void *buf, size_t len, char *err, size_t errlen);
/* The same for the file `name` (no '/') in the open directory dirfd (opened
 * O_RDONLY | O_DIRECTORY, so that it can be fsynced); `what` names the file
 * in messages.  Works after a chroot or a user switch as long as dirfd's
 * directory is writable by the caller. */
int sr_write_file_at(int dirfd, const char *name, const char *what, const void *buf, size_t len,
                     char *err, size_t errlen);
/* Write all of buf to an open descriptor (retrying short writes and EINTR). */
int sr_write_fd(int fd, const void *buf, size_t len, char *err, size_t errlen);
/* Read a descriptor to its end, at most max bytes, into a malloc'd buffer
 * (one spare byte after the data); `what` names it in messages.  Only a
 * regular file is read: a pipe, FIFO, socket or device is refused, since a
 * read could wait for a peer for ever.  0, or -1 with one line in err
 * (errno kept from a failed read). */
int sr_read_fd(int fd, const char *what, size_t max, uint8_t **buf, size_t *len, char *err,
               size_t errlen);
/* Read a whole file of at most max bytes into a malloc'd buffer (errno is
 * ENOENT when it does not exist). */
int sr_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, char *err, size_t errlen);

/* ---- xl save image walker (image.c) ------------------------------------------- */

/* A source of bytes the walker streams through. */
struct sr_reader {
	/* Read exactly n bytes; 0, or -1 at end of data or on error. */
	int (*read)(void *ctx, void *buf, size_t n);
	/* Skip n bytes; 0 or -1. */
	int (*skip)(void *ctx, uint64_t n);
	void *ctx;
};

struct sr_mem_source {
	const uint8_t *data;
	size_t len, pos;
};
void sr_reader_mem(struct sr_reader *r, struct sr_mem_source *src, const void *data, size_t len);

struct sr_fd_source {
	int fd;
	bool seekable;
};
void sr_reader_fd(struct sr_reader *r, struct sr_fd_source *src, int fd);

#define SR_XL_REC_LENGTH_MAX (128u << 20)

enum sr_emulator_kind {
	SR_EMU_NONE,    /* no EMULATOR_CONTEXT record */
	SR_EMU_RTCDM,   /* an rtcdm image, valid (emu_image) */
	SR_EMU_INVALID, /* an rtcdm image that sr_load() refused (emu_error) */
	SR_EMU_QEMU,    /* a QEMU savevm stream ("QEVM") */
	SR_EMU_UNKNOWN, /* something else */
};
const char *sr_emulator_kind_str(enum sr_emulator_kind k);

struct sr_xl_info {
	uint32_t xl_mandatory_flags, xl_optional_flags, xl_optional_len;
	uint32_t libxl_version, libxl_options;
	bool have_libxc;
	uint32_t libxc_version, domain_type, xen_major, xen_minor;
	uint16_t page_shift;
	unsigned libxc_records, page_data_records;
	bool have_hvm_context;
	uint64_t hvm_context_at; /* offset of the HVM_CONTEXT body */
	uint32_t hvm_context_len;
	bool have_xen_rtc;
	uint64_t xen_rtc_at; /* offset of the RTC descriptor in the file */
	uint32_t xen_rtc_len;
	struct sr_xen_rtc xen_rtc; /* zero-extended as Xen loads it */
	bool have_emulator;
	uint32_t emulator_id;
	uint64_t emulator_at; /* offset of the device model's blob */
	uint32_t emulator_len;
	enum sr_emulator_kind emulator_kind;
	struct sr_image emu_image;
	char emu_error[SR_ERR_MAX];
};

/* True when the first bytes are an xl save header. */
bool sr_looks_like_xl(const uint8_t *buf, size_t len);
/* Walk an xl save image.  0, or -1 with one line in err naming the byte. */
int sr_walk_xl(struct sr_reader *r, struct sr_xl_info *info, char *err, size_t errlen);

/* ---- dumps (dump.c) ------------------------------------------------------------ */

/* Text and JSON dumps of a validated image and of a walked xl image. */
void sr_dump_image_text(FILE *out, const struct sr_image *img);
void sr_dump_xl_text(FILE *out, const struct sr_xl_info *info);
/* JSON text (malloc'd, caller frees), pretty-printed. */
char *sr_dump_image_json(const struct sr_image *img);
char *sr_dump_xl_json(const struct sr_xl_info *info);

/* Offset as +HH:MM (or +HH:MM:SS when not whole minutes) into buf. */
void sr_format_offset(int64_t seconds, char *buf, size_t len);
/* Date and time shown by CMOS registers 0..13 (+ century byte, or -1). */
int sr_format_cmos_time(const uint8_t *regs, int century, char *buf, size_t len);

#endif
