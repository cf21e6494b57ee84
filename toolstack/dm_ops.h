/*
 * dm_ops.h — what the device-model process does for the toolstack protocols.
 *
 * The QMP server (qmp_server.h) and the xenstore device-model protocol
 * (toolstack.h) parse and answer requests; every action on the guest goes
 * through these callbacks, which the process implements (and tests fake).
 * All callbacks get `opaque`.  Operations that can fail return 0 on success,
 * or -1 after writing a one-line reason (no trailing newline) into
 * err[0..errlen-1]; the reason is passed to the toolstack as is.
 */
#ifndef RTCDM_DM_OPS_H
#define RTCDM_DM_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtc/rtc.h"
#include "toolstack/offset.h"

/* The run states QMP reports (query-status "status"). */
enum dm_run_state {
	DM_RUN_PRELAUNCH = 0, /* started with -S, never run yet */
	DM_RUN_RUNNING = 1,
	DM_RUN_PAUSED = 2,
	DM_RUN_INMIGRATE = 3, /* waiting for an incoming state (-incoming) */
};

/* QMP spelling of a run state ("prelaunch", "running", ...); "unknown" for
 * a value outside the enum. */
const char *dm_run_state_name(enum dm_run_state st);

/* Highest domain id a device model serves (DOMID_FIRST_RESERVED - 1). */
#define DM_DOMID_MAX 0x7fefu

/*
 * Parse a domain id: decimal digits, or 0x and hex digits; nothing else (no
 * sign, no spaces, no trailing characters), value in 0..DM_DOMID_MAX.
 * 0 with *out set, or -1 (*out untouched).
 */
int dm_parse_domid(const char *s, uint32_t *out);

struct dm_ops {
	/* Current run state. */
	enum dm_run_state (*run_state)(void *opaque);
	/* Pause the guest (no-op when already paused). */
	int (*stop)(void *opaque, char *err, size_t errlen);
	/* Let the guest run (no-op when already running). */
	int (*cont)(void *opaque, char *err, size_t errlen);
	/* Write the device state (our save format) into descriptor fd, from its
	 * current position.  The descriptor stays owned by the caller. */
	int (*save_fd)(void *opaque, int fd, bool live, char *err, size_t errlen);
	/* Write the device state to a file (the process decides how: e.g. a
	 * temporary file renamed into place). */
	int (*save_path)(void *opaque, const char *path, bool live, char *err, size_t errlen);
	/* Load a device state from a descriptor / a file.  A refused image
	 * changes nothing. */
	int (*load_fd)(void *opaque, int fd, char *err, size_t errlen);
	int (*load_path)(void *opaque, const char *path, char *err, size_t errlen);
	/* The toolstack sets the offset (whole seconds, already range-checked):
	 * applied at once with `set` (rtc_set_offset semantics). */
	int (*set_offset)(void *opaque, int64_t seconds, char *err, size_t errlen);
	/* The offset in force now. */
	void (*get_offset)(void *opaque, struct rtc_offset *out);
	/* Leave the process after the current iteration of the event loop. */
	void (*quit)(void *opaque);
	/* One line of log (no trailing newline).  May be NULL: stderr. */
	void (*log)(void *opaque, const char *msg);
};

/* Log one formatted line through ops->log (stderr when NULL). */
void dm_logf(const struct dm_ops *ops, void *opaque, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
