/* offset.c — the toolstack offset parser (see offset.h). */
#include "toolstack/offset.h"

#include <stdio.h>

int dm_parse_offset(const char *s, int64_t *out, char *err, size_t errlen)
{
	const char *p = s;
	bool neg = false;
	int64_t v = 0;

	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if (*p < '0' || *p > '9') {
		snprintf(err, errlen, "'%.40s' is not a decimal integer", s);
		return -1;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(err, errlen, "'%.40s' is not a decimal integer", s);
			return -1;
		}
		/* Saturate well above the int32 range: no overflow possible. */
		if (v < (int64_t)1 << 40)
			v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (!dm_offset_in_range(v)) {
		snprintf(err, errlen, "offset '%.40s' out of range [%d, %d] seconds", s,
		         (int)DM_OFFSET_MIN, (int)DM_OFFSET_MAX);
		return -1;
	}
	*out = v;
	return 0;
}
