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

int dm_parse_domid(const char *s, uint32_t *out)
{
	unsigned base = 10;
	uint32_t v = 0;

	if (!s)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		v = v * base + (uint32_t)d;
		if (v > DM_DOMID_MAX)
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
