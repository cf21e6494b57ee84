/* The store on xenstored's wire protocol (store_xenstored.c), against a
 * stand-in xenstored: a child process that answers over a socketpair with
 * the in-memory store's node and watch semantics, and misbehaves on a few
 * paths. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/support.h"
#include "toolstack/xenstore/store.h"

void suite_xs_wire(void);

/* xenstored's message types (Xen's io/xs_wire.h). */
enum { T_READ = 2, T_WATCH = 4, T_UNWATCH = 5, T_WRITE = 11, T_RM = 13, T_EVENT = 15, T_ERROR = 16 };

static int send_msg(int fd, uint32_t type, uint32_t id, const void *p, uint32_t len)
{
	uint32_t h[4] = {type, id, 0, len};
	struct iovec iov[2] = {{h, sizeof(h)}, {(void *)p, len}};

	return writev(fd, iov, 2) == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

static int read_full(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

struct fake {
	int fd;
	struct store *mem;
	uint8_t events[8192]; /* XS_WATCH_EVENT messages not sent yet */
	size_t ev_len;
};

static void collect(void *arg, const char *path, const char *token)
{
	struct fake *f = arg;
	uint32_t h[4] = {T_EVENT, 0, 0, (uint32_t)(strlen(path) + strlen(token) + 2)};

	if (f->ev_len + sizeof(h) + h[3] > sizeof(f->events))
		return;
	memcpy(f->events + f->ev_len, h, sizeof(h));
	f->ev_len += sizeof(h);
	memcpy(f->events + f->ev_len, path, strlen(path) + 1);
	f->ev_len += strlen(path) + 1;
	memcpy(f->events + f->ev_len, token, strlen(token) + 1);
	f->ev_len += strlen(token) + 1;
}

/* The answer and the events it caused, in one write (events first when
 * events_first), as a busy xenstored may deliver them. */
static void answer(struct fake *f, uint32_t type, uint32_t id, const void *p, uint32_t len,
                   bool events_first)
{
	uint8_t out[16384];
	uint32_t h[4] = {type, id, 0, len};
	size_t n = 0;

	store_dispatch(f->mem, collect, f);
	if (events_first) {
		memcpy(out, f->events, f->ev_len);
		n = f->ev_len;
	}
	memcpy(out + n, h, sizeof(h));
	memcpy(out + n + sizeof(h), p, len);
	n += sizeof(h) + len;
	if (!events_first) {
		memcpy(out + n, f->events, f->ev_len);
		n += f->ev_len;
	}
	f->ev_len = 0;
	/* A client that gave the connection up may have closed it already. */
	if (write(f->fd, out, n) != (ssize_t)n && errno != EPIPE)
		_exit(3);
}

static void error(struct fake *f, uint32_t id, const char *name)
{
	answer(f, T_ERROR, id, name, (uint32_t)strlen(name) + 1, false);
}

/* Paths with a meaning of their own:
 *   /fail/eacces   read answered EACCES
 *   /bad/len       read answered with a length beyond 4096
 *   /bad/type      read answered with another request's type
 *   /bad/event     read answered, after an event without its token
 *   /stale         read answered first with another id, then properly
 *   /hangup        the connection closes
 *   /early...      a watch's own event comes before its "OK" */
static void serve(int fd)
{
	struct fake f = {.fd = fd, .mem = store_mem_new()};
	uint32_t h[4];
	char p[4097];

	while (read_full(fd, h, sizeof(h)) == 0 && h[3] <= 4096 && read_full(fd, p, h[3]) == 0) {
		uint32_t id = h[1];
		const char *path = p, *second = p + strlen(p) + 1;

		p[h[3]] = '\0';
		if (h[0] == T_READ && strcmp(path, "/fail/eacces") == 0) {
			error(&f, id, "EACCES");
		} else if (h[0] == T_READ && strcmp(path, "/bad/len") == 0) {
			uint32_t bad[4] = {T_READ, id, 0, 5000};

			if (write(fd, bad, sizeof(bad)) < 0)
				break;
		} else if (h[0] == T_READ && strcmp(path, "/bad/type") == 0) {
			answer(&f, T_WRITE, id, "OK", 3, false);
		} else if (h[0] == T_READ && strcmp(path, "/bad/event") == 0) {
			send_msg(fd, T_EVENT, 0, "/x", 3);
			answer(&f, T_READ, id, "v", 1, false);
		} else if (h[0] == T_READ && strcmp(path, "/stale") == 0) {
			send_msg(fd, T_READ, id + 1000, "old", 3);
			answer(&f, T_READ, id, "fresh", 5, false);
		} else if (strcmp(path, "/hangup") == 0) {
			break;
		} else if (h[0] == T_READ) {
			char *v = store_read(f.mem, path);

			if (v)
				answer(&f, T_READ, id, v, (uint32_t)strlen(v), false);
			else
				error(&f, id, "ENOENT");
			free(v);
		} else if (h[0] == T_WRITE) {
			char v[4097];

			/* the value has no NUL of its own */
			snprintf(v, sizeof(v), "%.*s", (int)(h[3] - strlen(path) - 1), second);
			if (store_write(f.mem, path, v) < 0)
				error(&f, id, "EINVAL");
			else
				answer(&f, T_WRITE, id, "OK", 3, false);
		} else if (h[0] == T_RM) {
			char *v = store_read(f.mem, path);

			if (!v) {
				error(&f, id, "ENOENT");
			} else {
				store_rm(f.mem, path);
				answer(&f, T_RM, id, "OK", 3, false);
			}
			free(v);
		} else if (h[0] == T_WATCH || h[0] == T_UNWATCH) {
			int rc = h[0] == T_WATCH ? store_watch(f.mem, path, second)
			                         : store_unwatch(f.mem, path, second);

			if (rc < 0)
				error(&f, id, "ENOENT");
			else
				answer(&f, h[0], id, "OK", 3, strncmp(path, "/early", 6) == 0);
		} else {
			error(&f, id, "ENOSYS");
		}
	}
	store_close(f.mem);
	close(fd);
}

struct conn {
	struct store *s;
	pid_t pid;
	int other; /* the stand-in's end, to inject events */
};

static void conn_open(struct conn *c)
{
	int sv[2];
	char err[256];

	c->s = NULL;
	c->pid = -1;
	c->other = -1;
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	c->pid = fork();
	CU_ASSERT_FATAL(c->pid >= 0);
	if (c->pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		close(sv[0]);
		serve(sv[1]);
		_exit(0);
	}
	c->other = sv[1];
	c->s = store_xs_attach(sv[0], err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->s);
}

/* The stand-in's exit status (0: it saw the connection close). */
static int conn_close(struct conn *c)
{
	int status = -1;

	store_close(c->s);
	if (c->other >= 0)
		close(c->other);
	if (waitpid(c->pid, &status, 0) != c->pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_nodes(void)
{
	struct conn c;
	char b[64];

	conn_open(&c);
	CU_ASSERT_EQUAL(store_write(c.s, "/local/domain/0/device-model/3/rtc/timeoffset", "-3600"),
	                0);
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(c.s, "/local/domain/0/device-model/3/rtc/timeoffset", b, sizeof(b)),
	        "-3600");
	CU_ASSERT_STRING_EQUAL(support_store_val(c.s, "/local/domain/3/vm", b, sizeof(b)),
	                       "<ENOENT>");
	CU_ASSERT_EQUAL(store_write(c.s, "/e", ""), 0);
	CU_ASSERT_STRING_EQUAL(support_store_val(c.s, "/e", b, sizeof(b)), "");
	/* rm: a missing node is no error (xenstored says ENOENT). */
	CU_ASSERT_EQUAL(store_rm(c.s, "/local/domain/0/device-model/3"), 0);
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(c.s, "/local/domain/0/device-model/3/rtc/timeoffset", b, sizeof(b)),
	        "<ENOENT>");
	CU_ASSERT_EQUAL(store_rm(c.s, "/not/there"), 0);
	/* xenstored's errors by name; an answer to an earlier request is skipped. */
	errno = 0;
	CU_ASSERT_PTR_NULL(store_read(c.s, "/fail/eacces"));
	CU_ASSERT_EQUAL(errno, EACCES);
	CU_ASSERT_EQUAL(store_write(c.s, "relative", "v"), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_STRING_EQUAL(support_store_val(c.s, "/stale", b, sizeof(b)), "fresh");
	/* Larger than xenstored takes: refused here, nothing sent. */
	char big[5000];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(store_write(c.s, "/big", big), -1);
	CU_ASSERT_EQUAL(errno, E2BIG);
	CU_ASSERT_STRING_EQUAL(support_store_val(c.s, "/e", b, sizeof(b)), "");
	CU_ASSERT_EQUAL(conn_close(&c), 0);
}

static void test_watch_events(void)
{
	struct conn c;
	struct support_events e;

	conn_open(&c);
	CU_ASSERT_FALSE(support_store_readable(c.s, 0));
	/* The watch's own event came with its "OK": queued, and the store's
	 * descriptor says so although the connection holds nothing more. */
	CU_ASSERT_EQUAL(store_watch(c.s, "/local/domain/0/device-model/3/rtc/settimeoffset", "s"),
	                0);
	CU_ASSERT(support_store_readable(c.s, 0));
	CU_ASSERT_STRING_EQUAL(support_store_drain(c.s, &e),
	                       "/local/domain/0/device-model/3/rtc/settimeoffset|s;");
	CU_ASSERT_FALSE(support_store_readable(c.s, 0));
	CU_ASSERT_STRING_EQUAL(support_store_drain(c.s, &e), "");
	/* Events before the answer are kept too, in order. */
	CU_ASSERT_EQUAL(store_watch(c.s, "/early", "e"), 0);
	CU_ASSERT_EQUAL(store_write(c.s, "/local/domain/0/device-model/3/rtc/settimeoffset", "7"),
	                0);
	CU_ASSERT_STRING_EQUAL(support_store_drain(c.s, &e),
	                       "/early|e;/local/domain/0/device-model/3/rtc/settimeoffset|s;");
	/* An event xenstored sends unasked (another client's write). */
	CU_ASSERT_EQUAL(send_msg(c.other, 15, 0, "/early/x\0e", 11), 0);
	CU_ASSERT(support_store_readable(c.s, 1000));
	CU_ASSERT_STRING_EQUAL(support_store_drain(c.s, &e), "/early/x|e;");
	/* A callback's own requests: their events come with the next dispatch. */
	struct support_write_once w = {.s = c.s, .path = "/early/y", .value = "1"};
	CU_ASSERT_EQUAL(send_msg(c.other, 15, 0, "/early/x\0e", 11), 0);
	CU_ASSERT(support_store_readable(c.s, 1000));
	CU_ASSERT_EQUAL(store_dispatch(c.s, support_store_write_once, &w), 1);
	CU_ASSERT_EQUAL(w.calls, 1);
	CU_ASSERT(support_store_readable(c.s, 0));
	CU_ASSERT_STRING_EQUAL(support_store_drain(c.s, &e), "/early/y|e;");
	CU_ASSERT_EQUAL(store_unwatch(c.s, "/early", "e"), 0);
	CU_ASSERT_EQUAL(store_write(c.s, "/early/z", "2"), 0);
	CU_ASSERT_STRING_EQUAL(support_store_drain(c.s, &e), "");
	CU_ASSERT_EQUAL(store_unwatch(c.s, "/never", "n"), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_EQUAL(conn_close(&c), 0);
}

/* A connection that breaks the protocol is given up: the request fails,
 * every later one too, without waiting. */
static void test_broken(void)
{
	static const char *const bad[] = {"/bad/len", "/bad/type", "/bad/event", "/hangup"};
	static const int want[] = {EPROTO, EPROTO, EPROTO, ECONNRESET};
	char b[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct conn c;

		conn_open(&c);
		close(c.other); /* the stand-in's close is the connection's end */
		c.other = -1;
		CU_ASSERT_STRING_EQUAL(support_store_val(c.s, "/e", b, sizeof(b)), "<ENOENT>");
		errno = 0;
		CU_ASSERT_PTR_NULL(store_read(c.s, bad[i]));
		CU_ASSERT_EQUAL(errno, want[i]);
		CU_ASSERT_EQUAL(store_write(c.s, "/e", "v"), -1);
		CU_ASSERT_EQUAL(errno, EIO);
		CU_ASSERT_EQUAL(store_watch(c.s, "/e", "t"), -1);
		CU_ASSERT_EQUAL(conn_close(&c), 0);
	}
}

/* No xenstored: one line naming both places looked at. */
static void test_open_without_xenstored(void)
{
	char dir[256], sock[300], err[1024] = "";
	const char *old = getenv("XENSTORED_PATH");
	char *saved = old ? strdup(old) : NULL;

	CU_ASSERT_FATAL(support_tmpdir(dir, sizeof(dir)) == 0);
	snprintf(sock, sizeof(sock), "%s/socket", dir);
	setenv("XENSTORED_PATH", sock, 1);
	CU_ASSERT_PTR_NULL(store_xs_open(err, sizeof(err)));
	char want[1024];
	snprintf(want, sizeof(want),
	         "cannot connect to xenstore (%s: No such file or directory; %s: No such file or "
	         "directory)",
	         sock, sock);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (saved)
		setenv("XENSTORED_PATH", saved, 1);
	else
		unsetenv("XENSTORED_PATH");
	free(saved);
	support_rmtree(dir);
}

void suite_xs_wire(void)
{
	CU_pSuite s = CU_add_suite("xs_wire", NULL, NULL);
	CU_add_test(s, "nodes: write, read, rm, errors by name, a stale answer", test_nodes);
	CU_add_test(s, "watch events: with, before and without an answer", test_watch_events);
	CU_add_test(s, "a connection breaking the protocol is given up", test_broken);
	CU_add_test(s, "no xenstored: one line", test_open_without_xenstored);
}
