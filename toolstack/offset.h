/*
 * offset.h — the one range of a toolstack time offset, and its parser.
 *
 * The range is that of libxc's xc_domain_set_time_offset() and of xl's
 * rtc_timeoffset (int32), about +/- 68 years.  Every input path (the
 * --time-offset option, xenstore settimeoffset, QMP rtcdm-set-time-offset)
 * refuses a value outside it through dm_offset_in_range().
 */
#ifndef RTCDM_TOOLSTACK_OFFSET_H
#define RTCDM_TOOLSTACK_OFFSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DM_OFFSET_MIN INT32_MIN
#define DM_OFFSET_MAX INT32_MAX

static inline bool dm_offset_in_range(int64_t seconds)
{
	return seconds >= DM_OFFSET_MIN && seconds <= DM_OFFSET_MAX;
}

/*
 * Strict decimal parse of a toolstack offset: optional '-' or '+', then
 * digits only (no spaces, no trailing characters, no empty string), value in
 * range.  Returns 0 and stores it in *out, or -1 with a one-line reason in
 * err (and *out untouched).
 */
int dm_parse_offset(const char *s, int64_t *out, char *err, size_t errlen);

#endif
