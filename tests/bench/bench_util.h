/*
 * bench_util.h — small helpers shared by the benchmark programs: a
 * monotonic clock, spawning a server with its stderr sent somewhere, a
 * buffered qtest client on a listening UNIX socket, /proc/PID/status
 * fields and stopping a child with its resource usage.
 *
 * Everything is static inline and works on caller-owned structures.
 *
 * The benchmarks link librtcdm.a only, not the test support files
 * (tests/unit/support_*.c), on purpose: what they measure must not include
 * the test client's costs.  The test qtest client polls with a timeout
 * before every read and copies each line out of a small buffer; this one
 * reads 64 KiB at a time and blocks, so a port access costs the client one
 * memchr.  support_spawn() captures stderr in a pipe that the caller must
 * drain, and a server logging during a long run would block on it;
 * bench_spawn() sends stderr to a descriptor of the caller's (a log file or
 * /dev/null).  bench_reap() also returns the child's rusage, which
 * support_wait() does not.
 */
#ifndef RTCDM_BENCH_UTIL_H
#define RTCDM_BENCH_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_TIMEOUT_MS 20000

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void bench_sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Parse a positive decimal count; exits with a one-line error otherwise. */
static inline unsigned long bench_count(const char *prog, const char *what, const char *s,
                                        unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "%s: invalid %s '%s' (expected %lu..%lu)\n", prog, what, s, min, max);
		exit(2);
	}
	return v;
}

/*
 * fork + exec argv[0] with stdin and stdout on /dev/null and stderr on
 * err_fd (-1: /dev/null).  Returns the pid or -1.
 */
static inline pid_t bench_spawn(char *const argv[], int err_fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	{
		sigset_t none;
		int devnull = open("/dev/null", O_RDWR);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
		    dup2(err_fd >= 0 ? err_fd : devnull, 2) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
}

/*
 * Wait up to timeout_ms for pid to exit, then SIGTERM, then SIGKILL.
 * Returns the wait status (or -1) and the child's resource usage in *ru.
 */
static inline int bench_reap(pid_t pid, int timeout_ms, struct rusage *ru)
{
	static const int sigs[] = {0, SIGTERM, SIGKILL};
	int st = -1;

	memset(ru, 0, sizeof(*ru));
	for (size_t s = 0; s < sizeof(sigs) / sizeof(sigs[0]); s++) {
		if (sigs[s])
			kill(pid, sigs[s]);
		for (int waited = 0; waited <= timeout_ms; waited += 5) {
			pid_t r = wait4(pid, &st, WNOHANG, ru);

			if (r == pid)
				return st;
			if (r < 0 && errno != EINTR)
				return -1;
			bench_sleep_ms(5);
		}
	}
	return -1;
}

/* A numeric field ("VmHWM:", "voluntary_ctxt_switches:") of /proc/PID/status, or -1. */
static inline long bench_status_field(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, flen) == 0) {
			v = strtol(line + flen, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Voluntary + involuntary context switches of pid so far, or -1. */
static inline long bench_ctxt_switches(pid_t pid)
{
	long v = bench_status_field(pid, "voluntary_ctxt_switches:");
	long nv = bench_status_field(pid, "nonvoluntary_ctxt_switches:");

	return v < 0 || nv < 0 ? -1 : v + nv;
}

/*
 * Nanoseconds pid (0: this process) has spent running on a CPU, all its
 * threads together (/proc/PID/task/TID/schedstat, first field), or 0 when
 * unavailable.  Unlike wall time it does not grow while other processes
 * hold the CPU.
 */
static inline uint64_t bench_cpu_ns(pid_t pid)
{
	char dir[64], path[96];
	uint64_t sum = 0;
	struct dirent *de;
	DIR *d;

	if (pid)
		snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	else
		snprintf(dir, sizeof(dir), "/proc/self/task");
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		unsigned long long ns;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%.20s/schedstat", dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

/* ---- qtest client: we listen, the server under test connects ------------------------ */

struct bench_qt {
	char dir[64];
	char sock_path[108];
	int listen_fd;
	int fd;
	char in[65536];
	size_t in_off, in_len;
	char line[4096]; /* last line read, without newline */
};

/* Create a private directory with a listening socket in it.  0 or -1. */
static inline int bench_qt_listen(struct bench_qt *q, const char *prog)
{
	struct sockaddr_un sa;

	memset(q, 0, sizeof(*q));
	q->listen_fd = -1;
	q->fd = -1;
	snprintf(q->dir, sizeof(q->dir), "/tmp/rtcdm-bench-XXXXXX");
	if (!mkdtemp(q->dir)) {
		fprintf(stderr, "%s: mkdtemp: %s\n", prog, strerror(errno));
		q->dir[0] = '\0';
		return -1;
	}
	snprintf(q->sock_path, sizeof(q->sock_path), "%s/qtest.sock", q->dir);
	q->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", q->sock_path);
	if (q->listen_fd < 0 || bind(q->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(q->listen_fd, 1) < 0) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, q->sock_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Accept the server's connection within timeout_ms.  0 or -1. */
static inline int bench_qt_accept(struct bench_qt *q, int timeout_ms)
{
	struct pollfd pfd = {q->listen_fd, POLLIN, 0};

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	q->fd = accept4(q->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	return q->fd < 0 ? -1 : 0;
}

static inline int bench_qt_send(struct bench_qt *q, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(q->fd, buf + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Next line into q->line.  Blocks (the caller has a live peer); false on EOF/error. */
static inline bool bench_qt_readline(struct bench_qt *q)
{
	for (;;) {
		char *nl = memchr(q->in + q->in_off, '\n', q->in_len - q->in_off);

		if (nl) {
			size_t n = (size_t)(nl - (q->in + q->in_off));

			if (n >= sizeof(q->line))
				n = sizeof(q->line) - 1;
			memcpy(q->line, q->in + q->in_off, n);
			q->line[n] = '\0';
			q->in_off += (size_t)(nl - (q->in + q->in_off)) + 1;
			return true;
		}
		if (q->in_off) {
			memmove(q->in, q->in + q->in_off, q->in_len - q->in_off);
			q->in_len -= q->in_off;
			q->in_off = 0;
		}
		if (q->in_len == sizeof(q->in))
			return false;
		ssize_t r = recv(q->fd, q->in + q->in_len, sizeof(q->in) - q->in_len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		q->in_len += (size_t)r;
	}
}

/* Wait up to timeout_ms for something to read (used before the first answer). */
static inline bool bench_qt_wait(struct bench_qt *q, int timeout_ms)
{
	struct pollfd pfd = {q->fd, POLLIN, 0};

	if (q->in_len > q->in_off)
		return true;
	return poll(&pfd, 1, timeout_ms) == 1;
}

static inline void bench_qt_close(struct bench_qt *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	if (q->listen_fd >= 0)
		close(q->listen_fd);
	q->listen_fd = -1;
	if (q->sock_path[0])
		unlink(q->sock_path);
	if (q->dir[0])
		rmdir(q->dir);
	q->dir[0] = '\0';
}

#endif
