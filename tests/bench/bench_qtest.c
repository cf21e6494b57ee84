/*
 * bench_qtest — one C qtest client against several servers in one run:
 * rtcdm, QEMU (qemu-system-x86_64 -machine pc -accel tcg -S) and the echo
 * server (bench_echo, the transport's limit).
 *
 * For each server it measures
 *   - time to ready: fork+exec -> connection accepted -> first answer to
 *     "inb 0x71" (median of --starts spawns);
 *   - peak RSS: the child's ru_maxrss from wait4() and its VmHWM read from
 *     /proc/PID/status just before it is stopped (median over the spawns);
 * Servers: rtcdm (and rtcdm with -qtest-log /dev/null), QEMU, bench_echo
 * and bench_echo --epoll (the echo behind an epoll_wait per line).
 *
 *   - qtest round trips per second: --count "inb 0x71" lines, one at a
 *     time, each answer awaited; --rounds rounds, servers interleaved, the
 *     best and the median round reported; and the rate the CPU time
 *     allows: round trips / (client + server CPU time over all rounds),
 *     which other processes competing for the CPU do not distort.
 *
 * Pinning: with --cpu N the client pins itself (and so every server it
 * spawns) to CPU N before anything starts.
 *
 * Output: "NAME.KEY VALUE" lines on stdout, for tests/bench/run to tabulate.
 *
 *   bench_qtest --rtcdm PATH [--echo PATH] [--qemu PATH] [--count N]
 *               [--rounds R] [--starts K] [--cpu N]
 */
#include <sched.h>

#include "tests/bench/bench_util.h"

#define PROG "bench_qtest"
#define MAX_STARTS 15
#define MAX_ROUNDS 100
#define WARMUP 2000u
#define READY_TIMEOUT_MS 30000

enum server_kind { SRV_RTCDM, SRV_RTCDM_LOG, SRV_QEMU, SRV_ECHO, SRV_ECHO_EPOLL, SRV_COUNT };

struct server {
	const char *name;
	const char *path; /* NULL: not measured */
	pid_t pid;
	struct bench_qt qt;
	double ready_us[MAX_STARTS];
	double maxrss_kb[MAX_STARTS];
	double hwm_kb[MAX_STARTS];
	double rate[MAX_ROUNDS];
	uint64_t cpu_ns;   /* client + server CPU time over all timed rounds */
	uint64_t rt_total; /* round trips in the timed rounds */
	unsigned n_starts;
};

struct opts {
	unsigned long count, rounds, starts;
	long cpu;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void build_argv(const struct server *s, enum server_kind k, char *qarg, size_t qlen,
                       char *argv[], size_t max)
{
	size_t n = 0;

	snprintf(qarg, qlen, "unix:%s", s->qt.sock_path);
	argv[n++] = (char *)s->path;
	switch (k) {
	case SRV_RTCDM:
	case SRV_RTCDM_LOG:
		argv[n++] = "--platform";
		argv[n++] = "sim";
		argv[n++] = "-qtest";
		argv[n++] = qarg;
		if (k == SRV_RTCDM_LOG) {
			argv[n++] = "-qtest-log";
			argv[n++] = "/dev/null";
		}
		break;
	case SRV_QEMU:
		argv[n++] = "-machine";
		argv[n++] = "pc";
		argv[n++] = "-accel";
		argv[n++] = "tcg";
		argv[n++] = "-S";
		argv[n++] = "-qtest";
		argv[n++] = qarg;
		argv[n++] = "-qtest-log";
		argv[n++] = "/dev/null";
		argv[n++] = "-display";
		argv[n++] = "none";
		argv[n++] = "-nodefaults";
		break;
	case SRV_ECHO_EPOLL:
		argv[n++] = "--epoll";
		/* fall through */
	case SRV_ECHO:
	case SRV_COUNT:
		argv[n++] = "-qtest";
		argv[n++] = qarg;
		break;
	}
	if (n >= max)
		abort();
	argv[n] = NULL;
}

/* One "inb 0x71" round trip; false (with a message) on a wrong or missing answer. */
static bool round_trip(struct server *s)
{
	static const char cmd[] = "inb 0x71\n";

	if (bench_qt_send(&s->qt, cmd, sizeof(cmd) - 1) < 0 || !bench_qt_readline(&s->qt)) {
		fprintf(stderr, PROG ": %s: no answer to 'inb 0x71'\n", s->name);
		return false;
	}
	if (strncmp(s->qt.line, "OK", 2) != 0) {
		fprintf(stderr, PROG ": %s: unexpected answer '%s' to 'inb 0x71'\n", s->name,
		        s->qt.line);
		return false;
	}
	return true;
}

/* Spawn the server and wait for its first answer.  0 or -1. */
static int start(struct server *s, enum server_kind k)
{
	char qarg[160];
	char *argv[24];
	struct timeval tv = {10, 0};
	uint64_t t0;

	if (bench_qt_listen(&s->qt, PROG) < 0)
		return -1;
	build_argv(s, k, qarg, sizeof(qarg), argv, sizeof(argv) / sizeof(argv[0]));
	t0 = bench_now_ns();
	s->pid = bench_spawn(argv, -1);
	if (s->pid < 0) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return -1;
	}
	if (bench_qt_accept(&s->qt, READY_TIMEOUT_MS) < 0) {
		fprintf(stderr, PROG ": %s (%s) did not connect within %d ms\n", s->name, s->path,
		        READY_TIMEOUT_MS);
		return -1;
	}
	setsockopt(s->qt.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!round_trip(s))
		return -1;
	s->ready_us[s->n_starts] = (double)(bench_now_ns() - t0) / 1e3;
	return 0;
}

/* Close the connection, read the peak RSS, reap.  0 or -1. */
static int stop(struct server *s)
{
	struct rusage ru;
	long hwm = bench_status_field(s->pid, "VmHWM:");
	int st;

	bench_qt_close(&s->qt);
	st = bench_reap(s->pid, 300, &ru);
	s->pid = -1;
	if (st < 0) {
		fprintf(stderr, PROG ": %s could not be reaped\n", s->name);
		return -1;
	}
	s->hwm_kb[s->n_starts] = (double)hwm;
	s->maxrss_kb[s->n_starts] = (double)ru.ru_maxrss;
	s->n_starts++;
	return 0;
}

static int timed_round(struct server *s, unsigned long count, double *rate)
{
	uint64_t t0, t1, c0, c1;

	for (unsigned i = 0; i < WARMUP; i++)
		if (!round_trip(s))
			return -1;
	c0 = bench_cpu_ns(0) + bench_cpu_ns(s->pid);
	t0 = bench_now_ns();
	for (unsigned long i = 0; i < count; i++)
		if (!round_trip(s))
			return -1;
	t1 = bench_now_ns();
	c1 = bench_cpu_ns(0) + bench_cpu_ns(s->pid);
	*rate = (double)count * 1e9 / (double)(t1 - t0);
	s->cpu_ns += c1 - c0;
	s->rt_total += count;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " --rtcdm PATH [--echo PATH] [--qemu PATH] [--count N]\n"
	                "       [--rounds R] [--starts K] [--cpu N]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o, struct server srv[SRV_COUNT])
{
	o->count = 20000;
	o->rounds = 10;
	o->starts = 5;
	o->cpu = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (strcmp(a, "--rtcdm") == 0) {
			srv[SRV_RTCDM].path = v;
			srv[SRV_RTCDM_LOG].path = v;
		} else if (strcmp(a, "--qemu") == 0) {
			srv[SRV_QEMU].path = v;
		} else if (strcmp(a, "--echo") == 0) {
			srv[SRV_ECHO].path = v;
			srv[SRV_ECHO_EPOLL].path = v;
		} else if (strcmp(a, "--count") == 0) {
			o->count = bench_count(PROG, "count", v, 1, 100000000);
		} else if (strcmp(a, "--rounds") == 0) {
			o->rounds = bench_count(PROG, "rounds", v, 1, MAX_ROUNDS);
		} else if (strcmp(a, "--starts") == 0) {
			o->starts = bench_count(PROG, "starts", v, 1, MAX_STARTS);
		} else if (strcmp(a, "--cpu") == 0) {
			o->cpu = (long)bench_count(PROG, "cpu", v, 0, CPU_SETSIZE - 1);
		} else {
			fprintf(stderr, PROG ": unknown option '%s'\n", a);
			usage();
		}
	}
	if (!srv[SRV_RTCDM].path)
		usage();
}

int main(int argc, char **argv)
{
	struct server srv[SRV_COUNT] = {
		[SRV_RTCDM] = {.name = "rtcdm", .pid = -1},
		[SRV_RTCDM_LOG] = {.name = "rtcdm_log", .pid = -1},
		[SRV_QEMU] = {.name = "qemu", .pid = -1},
		[SRV_ECHO] = {.name = "echo", .pid = -1},
		[SRV_ECHO_EPOLL] = {.name = "echo_epoll", .pid = -1},
	};
	struct opts o;
	int rc = 1;

	parse(argc, argv, &o, srv);
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, PROG ": cannot pin to CPU %ld: %s\n", o.cpu, strerror(errno));
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);

	/* Time to ready and peak RSS: --starts spawns each; the last stays up. */
	for (int k = 0; k < SRV_COUNT; k++) {
		if (!srv[k].path)
			continue;
		for (unsigned long i = 0; i < o.starts; i++) {
			if (start(&srv[k], (enum server_kind)k) < 0)
				goto out;
			if (i + 1 < o.starts && stop(&srv[k]) < 0)
				goto out;
		}
	}
	/* Round trips: servers interleaved round by round. */
	for (unsigned long r = 0; r < o.rounds; r++)
		for (int k = 0; k < SRV_COUNT; k++)
			if (srv[k].path && timed_round(&srv[k], o.count, &srv[k].rate[r]) < 0)
				goto out;
	for (int k = 0; k < SRV_COUNT; k++)
		if (srv[k].path && stop(&srv[k]) < 0)
			goto out;

	printf("count %lu\nrounds %lu\nstarts %lu\ncpu %ld\n", o.count, o.rounds, o.starts, o.cpu);
	for (int k = 0; k < SRV_COUNT; k++) {
		struct server *s = &srv[k];
		double best = 0;

		if (!s->path)
			continue;
		for (unsigned long r = 0; r < o.rounds; r++)
			best = s->rate[r] > best ? s->rate[r] : best;
		printf("%s.ready_us %.1f\n", s->name, median(s->ready_us, s->n_starts));
		printf("%s.maxrss_kb %.0f\n", s->name, median(s->maxrss_kb, s->n_starts));
		printf("%s.hwm_kb %.0f\n", s->name, median(s->hwm_kb, s->n_starts));
		printf("%s.rtt_best %.0f\n", s->name, best);
		printf("%s.rtt_median %.0f\n", s->name, median(s->rate, o.rounds));
		if (s->cpu_ns)
			printf("%s.rtt_cpu %.0f\n", s->name, (double)s->rt_total * 1e9 / (double)s->cpu_ns);
	}
	rc = 0;
out:
	for (int k = 0; k < SRV_COUNT; k++) {
		if (srv[k].pid > 0) {
			struct rusage ru;

			bench_qt_close(&srv[k].qt);
			bench_reap(srv[k].pid, 300, &ru);
		}
	}
	return rc;
}
