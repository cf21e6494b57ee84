/*
 * log.h — the device model's log: one line per message on a file descriptor
 * (stderr; libxl captures it into /var/log/xen/qemu-dm-NAME.log).
 *
 *   2024-05-01 12:00:00.123 rtcdm[7] info: message
 *
 * The logger is a plain value owned by the program and passed around; there
 * is no global logger.
 */
#ifndef RTCDM_DM_LOG_H
#define RTCDM_DM_LOG_H

#include <stdarg.h>

enum dm_log_level {
	DM_LOG_ERROR = 0,
	DM_LOG_WARN = 1,
	DM_LOG_INFO = 2,
	DM_LOG_DEBUG = 3,
};

struct dm_log {
	int fd;                  /* where lines go (2 = stderr) */
	enum dm_log_level level; /* messages above this level are dropped */
	int domid;               /* shown as rtcdm[DOMID]; -1 shows rtcdm[-] */
};

/* Defaults: fd, level info, no domain id. */
void dm_log_init(struct dm_log *log, int fd);
/* -v raises the level, -q lowers it; the result is clamped to error..debug. */
void dm_log_set_verbosity(struct dm_log *log, int verbosity);
const char *dm_log_level_name(enum dm_log_level level);

void dm_log_vprintf(const struct dm_log *log, enum dm_log_level level, const char *fmt,
                    va_list ap) __attribute__((format(printf, 3, 0)));
void dm_log_printf(const struct dm_log *log, enum dm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What the process has used since it started (all its threads; a forked
 * child starts from 0): CPU time in ms and page faults (in a PV dom0 each
 * fault is a trip through Xen).  The figures of the debug lines that say
 * where a start-up's work goes; one getrusage() call. */
struct dm_process_use {
	double cpu_ms;
	long faults;
};
void dm_process_use(struct dm_process_use *u);
/* At debug level, the message and " (N ms of CPU, M page faults)" from
 * dm_process_use(); at any other level nothing, not even the system call. */
void dm_debug_cpu(const struct dm_log *log, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define dm_err(log, ...) dm_log_printf((log), DM_LOG_ERROR, __VA_ARGS__)
#define dm_warn(log, ...) dm_log_printf((log), DM_LOG_WARN, __VA_ARGS__)
#define dm_info(log, ...) dm_log_printf((log), DM_LOG_INFO, __VA_ARGS__)
#define dm_debug(log, ...) dm_log_printf((log), DM_LOG_DEBUG, __VA_ARGS__)

#endif
