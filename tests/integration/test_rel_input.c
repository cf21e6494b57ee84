/*
 * Hostile toolstack input at the process level.
 *
 *  - Command lines: -chardev paths that are too long, under a regular
 *    file, an existing file, directory or symbolic link, a missing
 *    directory, bad descriptors, 100 KiB arguments, too many character
 *    devices, control characters: exit status 1 or 2, exactly one error
 *    line, every line in the log format, nothing at the path replaced.
 *  - QMP: 16 clients each sending a 10 MB JSON string are cut off after
 *    QMP_MAX_MESSAGE bytes; a 10 MB line of garbage is reported once and
 *    skipped; a client that sends requests and never reads is no longer
 *    read; through all of it rtcdm's peak resident memory grows by less
 *    than 16 MiB (VmHWM), and it keeps serving QMP and the guest.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/support/rel_util.h"
#include "toolstack/qmp/server.h"

void suite_rel_input(void);

/* ---- command lines ---------------------------------------------------------------------- */

/* Runs rtcdm --platform sim ARGS; checks status, one error line holding
 * `msg`, every line a log line without control characters. */
static void run_case(const char *const args[], int status, const char *msg)
{
	const char *all[40] = {"--platform", "sim"};
	size_t n = 2;
	struct support_proc p;
	unsigned lines = 0, errors = 0, foreign = 0;

	for (size_t i = 0; args[i] && n < 39; i++)
		all[n++] = args[i];
	all[n] = NULL;
	int st = support_run(&p, "rtcdm", all, SUPPORT_TIMEOUT_MS);
	for (const char *l = p.err; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)(len < 511 ? len : 511), l);
		lines++;
		if (strstr(line, "] error: "))
			errors++;
		if (!strstr(line, " rtcdm["))
			foreign++;
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)l[i] < 0x20 || l[i] == 0x7f)
				foreign++;
		l += len + (nl ? 1 : 0);
	}
	CU_ASSERT_EQUAL(st, status);
	CU_ASSERT_EQUAL(errors, 1);
	CU_ASSERT_EQUAL(foreign, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, msg));
	if (st != status || errors != 1 || foreign || !strstr(p.err, msg))
		fprintf(stderr, "\n  expected %d '%s', got %d:\n%s", status, msg, st, p.err);
	(void)lines;
}

static void test_hostile_chardev_paths(void)
{
	char dir[64], file[96], sub[128], dirp[96], lnk[96], nodir[128], longp[256];
	char cd[16][320], want[16][512];
	int k = 0;

	CU_ASSERT_EQUAL_FATAL(support_tmpdir(dir, sizeof(dir)), 0);
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(sub, sizeof(sub), "%s/file/qmp", dir);
	snprintf(dirp, sizeof(dirp), "%s/dir", dir);
	snprintf(lnk, sizeof(lnk), "%s/link", dir);
	snprintf(nodir, sizeof(nodir), "%s/missing/qmp", dir);
	FILE *f = fopen(file, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("keep", f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(mkdir(dirp, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(symlink(file, lnk), 0);
	memset(longp, 'p', 200);
	memcpy(longp, "/tmp/", 5);
	longp[200] = '\0';

#define CASE(path, fmt, ...)                                                                       \
	do {                                                                                       \
		snprintf(cd[k], sizeof(cd[k]), "socket,id=m,path=%s,server=on,wait=off", path);    \
		snprintf(want[k], sizeof(want[k]), fmt, __VA_ARGS__);                              \
		const char *const a[] = {"-chardev", cd[k], "-mon", "chardev=m,mode=control",      \
		                         NULL};                                                    \
		run_case(a, 1, want[k]);                                                           \
		k++;                                                                               \
	} while (0)

	CASE(longp, "error: QMP socket path too long (%zu bytes, at most 107): /tmp/ppp",
	     strlen(longp));
	CASE(sub, "error: QMP socket %s: %s is not a directory\n", sub, file);
	CASE(file, "error: QMP socket %s: path exists and is not a socket; not replacing it\n", file);
	CASE(dirp, "error: QMP socket %s: path exists and is not a socket; not replacing it\n", dirp);
	CASE(lnk, "error: QMP socket %s: path exists and is not a socket; not replacing it\n", lnk);
	CASE(nodir, "error: QMP socket %s: directory %s/missing: No such file or directory\n", nodir,
	     dir);
#undef CASE
	/* Nothing was replaced. */
	struct stat st;
	CU_ASSERT(lstat(file, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4);
	CU_ASSERT(lstat(dirp, &st) == 0 && S_ISDIR(st.st_mode));
	CU_ASSERT(lstat(lnk, &st) == 0 && S_ISLNK(st.st_mode));

	/* Descriptors that are not listening unix sockets. */
	const char *const fd50[] = {"-chardev", "socket,id=m,fd=50,server=on", "-mon",
	                            "chardev=m,mode=control", NULL};
	run_case(fd50, 1, "error: QMP fd=50: not an open descriptor\n");
	const char *const fd0[] = {"-chardev", "socket,id=m,fd=0,server=on", "-mon",
	                           "chardev=m,mode=control", NULL};
	run_case(fd0, 1, "error: QMP fd=0: not a unix socket\n");
	const char *const fdbig[] = {"-chardev", "socket,id=m,fd=99999999999,server=on", NULL};
	run_case(fdbig, 2,
	         "error: -chardev 'socket,id=m,fd=99999999999,server=on': fd must be a descriptor "
	         "number\n");
	const char *const empty[] = {"-chardev", "socket,id=m,path=,server=on", NULL};
	run_case(empty, 2, "error: -chardev 'socket,id=m,path=,server=on': empty path\n");
	support_rmtree(dir);
}

static void test_malformed_command_lines(void)
{
	size_t big = 100 * 1024;
	char *huge = malloc(big + 1);
	char *arg = malloc(big + 64);
	char cds[9][64];
	const char *args[24];

	CU_ASSERT_FATAL(huge && arg);
	memset(huge, 'x', big);
	huge[big] = '\0';
	/* 100 KiB values: refused on one line of bounded length. */
	const char *const a1[] = {"-chardev", huge, NULL};
	run_case(a1, 2, "error: -chardev 'xxxxxxxx");
	const char *const a2[] = {"-uuid", huge, NULL};
	run_case(a2, 2, "error: -uuid 'xxxxxxxx");
	snprintf(arg, big + 64, "socket,id=m,path=/tmp/%s,server=on", huge);
	const char *const a3[] = {"-chardev", arg, "-mon", "chardev=m,mode=control", NULL};
	run_case(a3, 1, "error: QMP socket path too long (102405 bytes, at most 107): /tmp/xxxx");
	/* Control characters do not break the line. */
	const char *const a4[] = {"-uuid", "ab\ncd\033[2Jx", NULL};
	run_case(a4, 2, "error: -uuid 'ab cd?[2Jx': expected a UUID (8-4-4-4-12 hex digits)\n");
	const char *const a5[] = {"-chardev", "socket,id=m,path=/nonexistent\n/dir\r/q,server=on",
	                          "-mon", "chardev=m,mode=control", NULL};
	run_case(a5, 1, ": No such file or directory\n");
	/* More character devices than rtcdm holds. */
	size_t n = 0;
	for (int i = 0; i < 9; i++) {
		snprintf(cds[i], sizeof(cds[i]), "socket,id=m%d,path=/tmp/rtcdm-none-%d", i, i);
		args[n++] = "-chardev";
		args[n++] = cds[i];
	}
	args[n] = NULL;
	run_case(args, 2, "error: -chardev: more than 8 character devices\n");
	/* An option without its value, a value without an option. */
	const char *const a6[] = {"-chardev", NULL};
	run_case(a6, 2, "error: -chardev needs an argument\n");
	const char *const a7[] = {"-mon", "chardev=m,mode=control", NULL};
	run_case(a7, 2, "error: -mon: no -chardev with id 'm'\n");
	free(huge);
	free(arg);
}

/* ---- QMP memory per connection ---------------------------------------------------------------- */

#define CLIENTS 14 /* plus the flooder and the garbage client: QMP_MAX_CLIENTS in all */
#define TEN_MB (10u << 20)

struct sender {
	int fd;
	size_t sent;
	bool done;
	const char *head;
	char fill;
};

/* Send head then `fill` up to TEN_MB, without blocking; done at EPIPE or end. */
static void push(struct sender *s, const char *chunk, size_t chunk_len)
{
	while (!s->done) {
		const char *p;
		size_t len;
		size_t hl = strlen(s->head);

		if (s->sent < hl) {
			p = s->head + s->sent;
			len = hl - s->sent;
		} else {
			p = chunk;
			len = TEN_MB - s->sent < chunk_len ? TEN_MB - s->sent : chunk_len;
		}
		if (len == 0) {
			s->done = true;
			break;
		}
		ssize_t w = send(s->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			s->done = true; /* cut off */
			break;
		}
		s->sent += (size_t)w;
	}
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_qmp_memory_bounded(void)
{
	char dir[64], qmp[96], cd[160], buf[4096];
	struct qtest q;
	struct sender s[CLIENTS + 1];
	static const char chunk_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	char *chunk = malloc(65536), *garbage = malloc(65536);

	CU_ASSERT_FATAL(chunk && garbage);
	for (size_t i = 0; i < 65536; i += sizeof(chunk_a) - 1)
		memcpy(chunk + i, chunk_a, sizeof(chunk_a) - 1);
	memset(garbage, 'x', 65536);
	CU_ASSERT_EQUAL_FATAL(support_tmpdir(dir, sizeof(dir)), 0);
	snprintf(qmp, sizeof(qmp), "%s/qmp", dir);
	snprintf(cd, sizeof(cd), "socket,id=qmp,path=%s,server=on,wait=off", qmp);
	const char *const args[] = {"-chardev", cd, "-mon", "chardev=qmp,mode=control", NULL};
	if (qtest_start(&q, "1700000000", args) < 0) {
		CU_FAIL("start");
		support_rmtree(dir);
		free(chunk);
		free(garbage);
		return;
	}
	/* Warm up: one full exchange, so that the baseline holds what every run needs. */
	support_qmp_once(qmp, "{\"execute\":\"query-status\",\"id\":1}", buf, sizeof(buf));
	long base = support_proc_status(q.proc.pid, "VmHWM");
	CU_ASSERT_TRUE_FATAL(base > 0);

	/* The flooder: requests, never a read (32-byte requests fill a chunk). */
	struct sender flood = {.fd = support_qmp_open(qmp), .head = ""};
	char *reqs = malloc(65536);
	CU_ASSERT_FATAL(reqs != NULL);
	for (size_t i = 0; i < 65536; i += 32)
		memcpy(reqs + i, "{\"execute\":\"query-version\"}    \n", 32);
	CU_ASSERT_TRUE(flood.fd >= 0);
	flood.done = flood.fd < 0;
	/* Endless strings, one endless line of garbage. */
	for (int i = 0; i < CLIENTS + 1; i++) {
		s[i].fd = support_qmp_open(qmp);
		s[i].sent = 0;
		s[i].done = s[i].fd < 0;
		s[i].head = i < CLIENTS ? "{\"execute\":\"" : "";
		CU_ASSERT_TRUE(s[i].fd >= 0);
	}
	int64_t end = ms_now() + 4 * SUPPORT_TIMEOUT_MS;
	bool all;
	do {
		all = true;
		for (int i = 0; i < CLIENTS + 1; i++) {
			push(&s[i], i < CLIENTS ? chunk : garbage, 65536);
			all &= s[i].done;
		}
		push(&flood, reqs, 65536);
		if (!all)
			usleep(200);
	} while (!all && ms_now() < end);
	CU_ASSERT_TRUE(all);

	/* The strings were cut off: an error line, then EOF, after ~64 KiB. */
	for (int i = 0; i < CLIENTS; i++) {
		CU_ASSERT_TRUE(s[i].sent < TEN_MB);
		CU_ASSERT_TRUE(support_read_line(s[i].fd, buf, sizeof(buf), SUPPORT_TIMEOUT_MS));
		CU_ASSERT_STRING_EQUAL(buf, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP message "
		                            "longer than 65536 bytes; closing the connection\"}}\r\n");
		CU_ASSERT_FALSE(support_read_line(s[i].fd, buf, sizeof(buf), SUPPORT_TIMEOUT_MS));
		close(s[i].fd);
	}
	/* The garbage line went through whole; one error, then the connection works. */
	int g = s[CLIENTS].fd;
	CU_ASSERT_EQUAL(s[CLIENTS].sent, TEN_MB);
	support_qmp_cmd(g, "\n{\"execute\":\"query-status\",\"id\":7}", -1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
		"{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, unexpected "
		"character\"}}\r\n");
	CU_ASSERT_TRUE(support_read_line(g, buf, sizeof(buf), SUPPORT_TIMEOUT_MS));
	CU_ASSERT_STRING_EQUAL(buf, "{\"return\":{\"status\":\"running\",\"singlestep\":false,"
	                            "\"running\":true},\"id\":7}\r\n");
	close(g);

	long peak = support_proc_status(q.proc.pid, "VmHWM");
	CU_ASSERT_TRUE(peak - base < 16 * 1024);
	CU_ASSERT_TRUE(flood.sent > 32 * 1024);
	if (peak - base >= 16 * 1024)
		fprintf(stderr, "\n  VmHWM %ld kB -> %ld kB", base, peak);
	/* rtcdm stopped reading the flooder instead of queuing its answers. */
	push(&flood, reqs, 65536);
	CU_ASSERT_FALSE(flood.done);
	CU_ASSERT_TRUE(flood.sent < TEN_MB);
	close(flood.fd);
	free(reqs);
	/* Still serving QMP and the guest. */
	CU_ASSERT_STRING_EQUAL(
		support_qmp_once(qmp, "{\"execute\":\"query-status\",\"id\":8}", buf, sizeof(buf)),
		"{\"return\":{\"status\":\"running\",\"singlestep\":false,\"running\":true},\"id\":8}\r\n");
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0x26);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	support_rmtree(dir);
	free(chunk);
	free(garbage);
}

void suite_rel_input(void)
{
	CU_pSuite s = CU_add_suite("rel_input (hostile command lines, QMP memory)", NULL, NULL);
	CU_add_test(s, "hostile -chardev paths and descriptors: one error line, exit 1 or 2",
	            test_hostile_chardev_paths);
	CU_add_test(s, "huge, control-character and surplus arguments: one error line",
	            test_malformed_command_lines);
	CU_add_test(s, "10 MB messages on 16 connections: cut off, VmHWM bounded, still serving",
	            test_qmp_memory_bounded);
}
