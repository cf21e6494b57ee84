/*
 * xl_older.h — rewrite an `xl save` image of an HVM domain as Xen 4.13 or
 * older, with a device model without rtcdm's records, would have written it
 * (16-byte Xen RTC record, 64-byte emulator image with a 16-byte RTC record
 * only): `rtcdm-ctx xl-older IN OUT`, for testing restores of older images.
 */
#ifndef RTCDM_SR_XL_OLDER_H
#define RTCDM_SR_XL_OLDER_H

#include <stddef.h>
#include <stdint.h>

/* in/len: a whole xl save image.  0 with a malloc'd *out (caller frees), or
 * -1 with one line in err (no RTC record, RTC record already 16 bytes, no
 * EMULATOR_CONTEXT, or a stream that does not walk). */
int sr_xl_make_older(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen, char *err,
                     size_t errlen);

/* argv[0] "rtcdm-ctx", argv[1] "xl-older", argv[2] IN, argv[3] OUT.  Exit
 * status 0, 1 (refused image or I/O error, one line on stderr), 2 usage. */
int sr_ctx_xl_older(int argc, char **argv);

#endif
