/* dm_ops.c — helpers shared by the toolstack protocols. */
#include "toolstack/dm_ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *dm_run_state_name(enum dm_run_state st)
{
	switch (st) {
	case DM_RUN_PRELAUNCH:
		return "prelaunch";
	case DM_RUN_RUNNING:
		return "running";
	case DM_RUN_PAUSED:
		return "paused";
	case DM_RUN_INMIGRATE:
		return "inmigrate";
	}
	return "unknown";
}

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
	if (v < DM_OFFSET_MIN || v > DM_OFFSET_MAX) {
		snprintf(err, errlen, "offset '%.40s' out of range [%d, %d] seconds", s,
		         (int)DM_OFFSET_MIN, (int)DM_OFFSET_MAX);
		return -1;
	}
	*out = v;
	return 0;
}

void dm_logf(const struct dm_ops *ops, void *opaque, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (ops && ops->log)
		ops->log(opaque, line);
	else
		fprintf(stderr, "rtcdm: %s\n", line);
}
