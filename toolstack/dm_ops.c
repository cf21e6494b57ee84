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
