/*
 * bench_flood — a guest that changes its clock as fast as it can, and what
 * reaches dom0.  rtcdm runs on the simulated platform (qtest, xenstore in a
 * directory, one QMP socket); the guest writes the RTC seconds register
 * WRITES times, counting 0..59 round, so every write is a clock change,
 * while its (virtual) clock moves 10 us per write: 100,000 writes take one
 * second of guest time.  One QMP client reads its events, CLIENTS - 1
 * others never read.
 *
 * Reported (after the burst and one more guest second for what is held
 * back):
 *   flood.writes, flood.burst_ms     guest writes and how long they took
 *   flood.log_lines, flood.log_bytes rtcdm's stderr
 *   flood.xs_writes                  values written to rtc/timeoffset
 *   flood.qmp_events                 RTC_CHANGE events the reader got
 *   flood.qmp_dropped                non-reading clients hung up on
 *   flood.hwm_kb                     peak RSS (VmHWM)
 *   flood.offset_ok                  1 when the last event and xenstore
 *                                    carry the offset in force
 *
 *   bench_flood RTCDM [WRITES] [CLIENTS]
 */
#include <ftw.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "tests/bench/bench_util.h"

#define PROG "bench_flood"
#define SETTLE_MS 500
#define NS_PER_WRITE 10000ull /* guest time per write */
#define CHUNK 500 /* guest writes sent before their answers are read */

static unsigned long bcd(unsigned long v)
{
	return (v / 10) << 4 | (v % 10);
}

static int qmp_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path) >= sizeof(sa.sun_path) ||
	    fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Everything readable within timeout_ms of quiet, appended to buf (NUL-ended). */
static size_t drain(int fd, char *buf, size_t cap, size_t len, int timeout_ms, bool *eof)
{
	struct pollfd p = {fd, POLLIN, 0};

	while (len + 1 < cap && poll(&p, 1, timeout_ms) == 1) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0) {
			if (eof)
				*eof = n == 0 || errno == ECONNRESET;
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

/* Read until buf holds needle (within timeout_ms).  true when it does. */
static bool read_until(int fd, char *buf, size_t cap, const char *needle, int timeout_ms)
{
	size_t len = 0;
	struct pollfd p = {fd, POLLIN, 0};

	buf[0] = '\0';
	while (!strstr(buf, needle) && len + 1 < cap && poll(&p, 1, timeout_ms) == 1) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return strstr(buf, needle) != NULL;
}

/* Greeting, capabilities, its answer.  fd or -1. */
static int qmp_open(const char *path)
{
	char buf[4096];
	int fd = -1;

	for (int i = 0; i < 400 && fd < 0; i++) {
		fd = qmp_connect(path);
		if (fd < 0)
			bench_sleep_ms(5);
	}
	if (fd < 0)
		return -1;
	const char *caps = "{\"execute\":\"qmp_capabilities\"}\r\n";
	if (!read_until(fd, buf, sizeof(buf), "\r\n", BENCH_TIMEOUT_MS) ||
	    send(fd, caps, strlen(caps), MSG_NOSIGNAL) < 0 ||
	    !read_until(fd, buf, sizeof(buf), "{\"return\":{}}\r\n", BENCH_TIMEOUT_MS)) {
		close(fd);
		return -1;
	}
	return fd;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Count the temporary files the directory store creates, one per write
 * (".value.XXXXXX", unique names: inotify merges identical events). */
static unsigned xs_count(int ino)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	unsigned n = 0;
	ssize_t len;

	while ((len = read(ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			if ((e->mask & IN_CREATE) && e->len && strncmp(e->name, ".value.", 7) == 0)
				n++;
			p += sizeof(*e) + e->len;
		}
	}
	return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? 0 : -1;
}

struct run {
	struct bench_qt q;
	char xs[128], qmp[128], logp[128], node[256];
	pid_t pid;
	int logfd, ino;
	int readers[16];
	unsigned long clients;
	char *events; /* what the reading client got, NUL-terminated */
	size_t ev_cap;
};

/* rtcdm on the sim platform with qtest, a directory xenstore and one QMP
 * socket, its stderr in a file; then the QMP clients.  0 or -1. */
static int start(struct run *r, const char *rtcdm)
{
	char chardev[200], qarg[160];

	if (bench_qt_listen(&r->q, PROG) < 0)
		return -1;
	snprintf(r->xs, sizeof(r->xs), "%s/xs", r->q.dir);
	snprintf(r->qmp, sizeof(r->qmp), "%s/qmp", r->q.dir);
	snprintf(r->logp, sizeof(r->logp), "%s/log", r->q.dir);
	snprintf(chardev, sizeof(chardev), "socket,id=qmp,path=%s,server=on,wait=off", r->qmp);
	snprintf(qarg, sizeof(qarg), "unix:%s", r->q.sock_path);
	r->logfd = open(r->logp, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	if (mkdir(r->xs, 0700) < 0 || r->logfd < 0)
		return -1;
	char *args[] = {(char *)rtcdm, "--platform", "sim", "-qtest", qarg, "-qtest-log", "/dev/null",
	                "--sim-wallclock", "1700000000", "--domid", "5", "--sim-xenstore", r->xs,
	                "-chardev", chardev, "-mon", "chardev=qmp,mode=control", NULL};
	r->pid = bench_spawn(args, r->logfd);
	if (r->pid < 0 || bench_qt_accept(&r->q, BENCH_TIMEOUT_MS) < 0) {
		fprintf(stderr, "%s: rtcdm did not connect\n", PROG);
		return -1;
	}
	for (unsigned long i = 0; i < r->clients; i++) {
		r->readers[i] = qmp_open(r->qmp);
		if (r->readers[i] < 0) {
			fprintf(stderr, "%s: QMP client %lu: cannot connect\n", PROG, i);
			return -1;
		}
	}
	/* The offset node exists once rtcdm announced itself. */
	snprintf(r->node, sizeof(r->node), "%s/local/domain/0/device-model/5/rtc/timeoffset", r->xs);
	r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->ino < 0 || inotify_add_watch(r->ino, r->node, IN_CREATE) < 0) {
		fprintf(stderr, "%s: cannot watch %s: %s\n", PROG, r->node, strerror(errno));
		return -1;
	}
	return 0;
}

/* The guest writes the seconds register `writes` times; the first client
 * reads its events all along.  Returns the time taken (ns), 0 on failure. */
static uint64_t guest_burst(struct run *r, unsigned long writes)
{
	char cmd[64 * CHUNK + 64];
	uint64_t t0 = bench_now_ns();

	for (unsigned long done = 0; done < writes;) {
		size_t len = 0;
		unsigned long n = writes - done < CHUNK ? writes - done : CHUNK;
		for (unsigned long i = 0; i < n; i++)
			len += (size_t)snprintf(cmd + len, sizeof(cmd) - len,
			                        "outb 0x70 0x00\noutb 0x71 0x%02lx\n",
			                        bcd((done + i) % 60));
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "clock_step %llu\n",
		                        n * NS_PER_WRITE);
		if (bench_qt_send(&r->q, cmd, len) < 0)
			return 0;
		for (unsigned long i = 0; i < 2 * n + 1; i++)
			if (!bench_qt_readline(&r->q))
				return 0;
		drain(r->readers[0], r->events, r->ev_cap, strlen(r->events), 0, NULL);
		done += n;
	}
	return bench_now_ns() - t0;
}

/* Clients that never read and were hung up on. */
static unsigned dropped_clients(const struct run *r, char *sink, size_t sink_cap)
{
	unsigned dropped = 0;

	for (unsigned long i = 1; i < r->clients; i++) {
		bool eof = false;
		int fl = fcntl(r->readers[i], F_GETFL);
		fcntl(r->readers[i], F_SETFL, fl | O_NONBLOCK);
		drain(r->readers[i], sink, sink_cap, 0, 100, &eof);
		dropped += eof;
	}
	return dropped;
}

/* Lines and bytes of the log between two sizes. */
static void log_figures(const char *path, off_t from, off_t to, size_t *lines, long long *bytes)
{
	char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*lines = 0;
	*bytes = 0;
	if (fd < 0 || lseek(fd, from, SEEK_SET) < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (*bytes < (long long)(to - from)) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (*bytes + n > (long long)(to - from))
			n = (ssize_t)((long long)(to - from) - *bytes);
		for (ssize_t i = 0; i < n; i++)
			*lines += buf[i] == '\n';
		*bytes += n;
	}
	close(fd);
}

/* The last event and xenstore carry the same offset. */
static bool same_offset(const struct run *r)
{
	char path[300], val[64];
	const char *last = NULL;

	snprintf(path, sizeof(path), "%s/.value", r->node);
	if (read_file(path, val, sizeof(val)) < 0)
		return false;
	for (const char *p = r->events; (p = strstr(p, "\"offset\":")) != NULL; p++)
		last = p + 9;
	return last && strtoll(last, NULL, 10) == strtoll(val, NULL, 10);
}

static void stop(struct run *r)
{
	struct rusage ru;

	if (r->pid > 0)
		bench_reap(r->pid, 2000, &ru);
	for (unsigned long i = 0; i < r->clients; i++)
		if (r->readers[i] >= 0)
			close(r->readers[i]);
	if (r->ino >= 0)
		close(r->ino);
	if (r->logfd >= 0)
		close(r->logfd);
	unlink(r->logp);
	nftw(r->xs, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	bench_qt_close(&r->q);
}

static int flood(struct run *r, const char *rtcdm, unsigned long writes, char *sink,
                 size_t sink_cap)
{
	struct stat st;

	if (start(r, rtcdm) < 0)
		return 1;
	off_t log_before = fstat(r->logfd, &st) == 0 ? st.st_size : 0;
	uint64_t burst_ns = guest_burst(r, writes);
	if (!burst_ns)
		return 1;
	/* What is held back comes within a second of guest time. */
	if (bench_qt_send(&r->q, "clock_step 1000000000\n", 22) < 0 || !bench_qt_readline(&r->q))
		return 1;
	drain(r->readers[0], r->events, r->ev_cap, strlen(r->events), SETTLE_MS, NULL);
	bench_sleep_ms(200);
	unsigned dropped = dropped_clients(r, sink, sink_cap);
	long hwm = bench_status_field(r->pid, "VmHWM:");
	unsigned xs_writes = xs_count(r->ino);
	size_t lines;
	long long bytes;
	/* The log of the burst (the exit lines come after). */
	log_figures(r->logp, log_before, fstat(r->logfd, &st) == 0 ? st.st_size : log_before,
	            &lines, &bytes);

	printf("flood.writes %lu\n", writes);
	printf("flood.burst_ms %.0f\n", (double)burst_ns / 1e6);
	printf("flood.log_lines %zu\n", lines);
	printf("flood.log_bytes %lld\n", bytes);
	printf("flood.xs_writes %u\n", xs_writes);
	printf("flood.qmp_events %zu\n", count(r->events, "\"RTC_CHANGE\""));
	printf("flood.qmp_dropped %u\n", dropped);
	printf("flood.hwm_kb %ld\n", hwm);
	printf("flood.offset_ok %d\n", same_offset(r));
	return 0;
}

int main(int argc, char **argv)
{
	const size_t ev_cap = 64u << 20, sink_cap = 8u << 20;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s RTCDM [WRITES] [CLIENTS]\n", PROG);
		return 2;
	}
	unsigned long writes = argc > 2 ? bench_count(PROG, "writes", argv[2], 2, 10000000) : 100000;
	unsigned long clients = argc > 3 ? bench_count(PROG, "clients", argv[3], 1, 16) : 16;
	struct run r = {.pid = -1, .logfd = -1, .ino = -1, .clients = clients, .ev_cap = ev_cap};
	char *sink = malloc(sink_cap);
	int rc = 1;

	for (size_t i = 0; i < 16; i++)
		r.readers[i] = -1;
	r.q.fd = r.q.listen_fd = -1;
	r.events = calloc(1, ev_cap);
	if (r.events && sink)
		rc = flood(&r, argv[1], writes, sink, sink_cap);
	stop(&r);
	free(r.events);
	free(sink);
	return rc;
}
