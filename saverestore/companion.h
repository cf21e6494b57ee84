/*
 * companion.h — the device-model context in companion mode: QEMU's stream,
 * then rtcdm's image, then a trailer that says where each part is
 * (docs/save-format.md, "Companion mode: QEMU's stream and rtcdm's image").
 *
 *   QEMU's stream (qemu_len bytes, "QEVM" ... QEMU_VM_EOF = 0x00)
 *   rtcdm's image (image_len bytes: HEADER, records, END as in sr.h)
 *   trailer, 32 bytes, little-endian:
 *     0  magic "RTCDMCMP"
 *     8  u32 version (1)
 *    12  u32 image_len
 *    16  u64 qemu_len
 *    24  u64 reserved (0)
 *
 * QEMU reads its stream from the start and stops at QEMU_VM_EOF (with
 * -machine suppress-vmdesc=on, as libxl starts it, nothing after it is
 * interpreted), so a stock qemu-xen restores such a context.  rtcdm finds
 * its part from the end, with pread only: the descriptor's position, which
 * QEMU reads from, is not moved.
 */
#ifndef RTCDM_SR_COMPANION_H
#define RTCDM_SR_COMPANION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "saverestore/sr.h"

#define SR_COMPANION_MAGIC "RTCDMCMP"
#define SR_COMPANION_VERSION 1u
#define SR_COMPANION_TRAILER_LEN 32u
#define SR_QEMU_VM_EOF 0x00

struct sr_companion {
	uint64_t qemu_len;   /* QEMU's stream, from the start of the context */
	uint32_t image_len;  /* rtcdm's image, right after it */
	struct sr_image image; /* rtcdm's image, validated */
};

/* The trailer for the two lengths. */
void sr_companion_trailer(uint8_t out[SR_COMPANION_TRAILER_LEN], uint64_t qemu_len,
                          uint32_t image_len);

/*
 * Look for rtcdm's part in the context that is `len` bytes of fd from
 * offset `base` (pread only).  1: found and valid (*out filled); 0: no
 * trailer, a stock qemu-xen context; -1: a trailer that is wrong in any way
 * (lengths, version, QEMU's stream not ending in QEMU_VM_EOF, an image
 * sr_load() refuses), one line in err, *out untouched.
 */
int sr_companion_find(int fd, uint64_t base, uint64_t len, struct sr_companion *out, char *err,
                      size_t errlen);

/*
 * Append rtcdm's image and the trailer to the context QEMU just wrote to fd
 * (QEMU's stream is the whole file now).  With pwrite at the file's end, so
 * the descriptor's position does not matter.  On failure the file is cut
 * back to QEMU's stream and err holds one line.  0 or -1.
 */
int sr_companion_append(int fd, const uint8_t *image, size_t image_len, char *err, size_t errlen);

/* In words: QEMU's part, rtcdm's part and its records (found = the result
 * of sr_companion_find, 1 or 0; len = the context's length). */
void sr_companion_dump_text(FILE *out, int found, uint64_t len, const struct sr_companion *c);

/* As JSON (malloc'd, caller frees): {"context_bytes", "qemu_stream_bytes"
 * (the whole context when there is no rtcdm part), "rtcdm_image_bytes" (or
 * null), "rtcdm": image or null}. */
char *sr_companion_dump_json(int found, uint64_t len, const struct sr_companion *c);

#endif
