/* log.c — time-stamped, levelled log lines, each written with one write(2). */
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

void dm_log_init(struct dm_log *log, int fd)
{
	log->fd = fd;
	log->level = DM_LOG_INFO;
	log->domid = -1;
}

void dm_log_set_verbosity(struct dm_log *log, int verbosity)
{
	int level = DM_LOG_INFO + verbosity;

	if (level < DM_LOG_ERROR)
		level = DM_LOG_ERROR;
	if (level > DM_LOG_DEBUG)
		level = DM_LOG_DEBUG;
	log->level = (enum dm_log_level)level;
}

const char *dm_log_level_name(enum dm_log_level level)
{
	switch (level) {
	case DM_LOG_ERROR:
		return "error";
	case DM_LOG_WARN:
		return "warning";
	case DM_LOG_INFO:
		return "info";
	case DM_LOG_DEBUG:
		return "debug";
	}
	return "?";
}

void dm_log_vprintf(const struct dm_log *log, enum dm_log_level level, const char *fmt,
                    va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	if (level > log->level || log->fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	if (log->domid >= 0)
		r = snprintf(line + n, sizeof(line) - n, ".%03ld rtcdm[%d] %s: ",
		             ts.tv_nsec / 1000000L, log->domid, dm_log_level_name(level));
	else
		r = snprintf(line + n, sizeof(line) - n, ".%03ld rtcdm[-] %s: ",
		             ts.tv_nsec / 1000000L, dm_log_level_name(level));
	if (r > 0)
		n += (size_t)r;
	if (n < sizeof(line) - 1) {
		r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
		if (r > 0)
			n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	}
	/* One message, one line: a newline inside the text would split it, and
	 * other control characters (terminal escapes from a path or an
	 * argument) must not reach whoever reads the log. */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == '\n' || ch == '\r' || ch == '\t')
			line[i] = ' ';
		else if (ch < 0x20 || ch == 0x7f)
			line[i] = '?';
	}
	line[n++] = '\n';
	for (size_t off = 0; off < n;) {
		ssize_t w = write(log->fd, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

void dm_log_printf(const struct dm_log *log, enum dm_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dm_log_vprintf(log, level, fmt, ap);
	va_end(ap);
}

void dm_process_use(struct dm_process_use *u)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0) {
		u->cpu_ms = 0;
		u->faults = 0;
		return;
	}
	u->cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	            (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	u->faults = ru.ru_minflt + ru.ru_majflt;
}

void dm_debug_cpu(const struct dm_log *log, const char *fmt, ...)
{
	struct dm_process_use u;
	char what[512];
	va_list ap;

	if (log->level < DM_LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	dm_process_use(&u);
	dm_debug(log, "%s (%.1f ms of CPU, %ld page faults)", what, u.cpu_ms, u.faults);
}
