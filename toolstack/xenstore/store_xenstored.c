/*
 * store_xenstored.c — the store interface (store.h) on xenstored's own
 * wire protocol: one connection (xenstored's Unix socket, or the kernel's
 * xenbus device), one request at a time, no thread.
 *
 * Every message is a header {type, req_id, tx_id, len} in host order and
 * len bytes of payload (at most 4096).  A request is answered by a message
 * of its type (or XS_ERROR with an errno name) carrying its req_id; watch
 * events (XS_WATCH_EVENT: "path\0token\0") may come at any time, also
 * between a request and its answer: they are queued, and an eventfd says
 * so.  store_fd() is an epoll set of the connection and that eventfd, so a
 * caller's loop wakes for events the connection still holds and for events
 * already read while waiting for an answer.
 */
#include "toolstack/xenstore/store.h"
#include "base/unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* xenstored's message types (Xen's public io/xs_wire.h) used here. */
enum {
	XS_READ = 2,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_WRITE = 11,
	XS_RM = 13,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
};

#define XS_HEADER 16u

struct xs_event {
	char *path, *token;
};

struct store_xs {
	struct store base;
	int fd;  /* the connection, non-blocking */
	int efd; /* eventfd: events are queued */
	int pfd; /* epoll set of fd and efd: store_fd() */
	bool broken;
	uint32_t next_id;
	uint8_t in[XS_HEADER + STORE_MAX_VALUE];
	size_t in_len;
	struct xs_event queue[STORE_XS_MAX_EVENTS];
	size_t q_head, q_len;
};

static struct store_xs *xs_of(struct store *s)
{
	return (struct store_xs *)s;
}

static void set_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The connection cannot be trusted any more (closed, or a message that
 * breaks the protocol): every later request fails with the same errno. */
static int broken(struct store_xs *x, int err)
{
	x->broken = true;
	errno = err;
	return -1;
}

/* ---- watch events ------------------------------------------------------------------------ */

static void signal_events(struct store_xs *x)
{
	uint64_t one = 1;

	if (write(x->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return; /* a full counter is still readable */
}

static void clear_signal(struct store_xs *x)
{
	uint64_t v;

	if (read(x->efd, &v, sizeof(v)) < 0)
		return; /* EAGAIN: not signalled */
}

/* "path\0token\0" onto the queue (beyond STORE_XS_MAX_EVENTS: dropped,
 * the oldest kept, as the in-memory store).  0, or -1 when malformed. */
static int queue_event(struct store_xs *x, const uint8_t *p, size_t len)
{
	const char *path = (const char *)p;
	size_t plen = strnlen(path, len);
	const char *token = path + plen + 1;

	if (plen == len || plen + 1 == len || strnlen(token, len - plen - 1) == len - plen - 1)
		return -1;
	if (x->q_len == STORE_XS_MAX_EVENTS)
		return 0;
	struct xs_event *e = &x->queue[(x->q_head + x->q_len) % STORE_XS_MAX_EVENTS];
	e->path = strdup(path);
	e->token = strdup(token);
	if (!e->path || !e->token) {
		free(e->path);
		free(e->token);
		return 0;
	}
	x->q_len++;
	signal_events(x);
	return 0;
}

/* ---- messages ---------------------------------------------------------------------------- */

/* How next_message() gets a message that x->in does not hold whole yet. */
enum xs_take {
	TAKE_BUFFERED, /* it does not: what the connection holds wakes store_fd() */
	TAKE_READ,     /* it reads what the connection holds */
	TAKE_WAIT,     /* it reads, and waits until the message is whole */
};

/* The next whole message into x->in (header, payload).  1 with a message,
 * 0 (TAKE_BUFFERED, TAKE_READ) when none is complete yet, -1/errno. */
static int next_message(struct store_xs *x, enum xs_take how)
{
	for (;;) {
		if (x->in_len >= XS_HEADER) {
			uint32_t len = get_u32(x->in + 12);

			if (len > STORE_MAX_VALUE)
				return broken(x, EPROTO);
			if (x->in_len >= XS_HEADER + len)
				return 1;
		}
		if (how == TAKE_BUFFERED)
			return 0;
		ssize_t n = read(x->fd, x->in + x->in_len, sizeof(x->in) - x->in_len);
		if (n > 0) {
			x->in_len += (size_t)n;
			continue;
		}
		if (n == 0)
			return broken(x, ECONNRESET);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return broken(x, errno);
		if (how != TAKE_WAIT)
			return 0;
		struct pollfd pf = {.fd = x->fd, .events = POLLIN};
		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			return broken(x, errno);
	}
}

/* The message in x->in is used up. */
static void consume(struct store_xs *x)
{
	size_t used = XS_HEADER + get_u32(x->in + 12);

	memmove(x->in, x->in + used, x->in_len - used);
	x->in_len -= used;
}

static int write_all(struct store_xs *x, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(x->fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return broken(x, errno);
			struct pollfd pf = {.fd = x->fd, .events = POLLOUT};
			if (poll(&pf, 1, -1) < 0 && errno != EINTR)
				return broken(x, errno);
			continue;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* The messages nobody waits for (how: those already read, or also what the
 * connection holds now): events queued, anything else (an answer to a
 * request given up) dropped.  0 or -1/errno. */
static int take_unasked(struct store_xs *x, enum xs_take how)
{
	int rc;

	while ((rc = next_message(x, how)) == 1) {
		int bad = get_u32(x->in) == XS_WATCH_EVENT
		                  ? queue_event(x, x->in + XS_HEADER, get_u32(x->in + 12))
		                  : 0;

		consume(x);
		if (bad < 0)
			return broken(x, EPROTO);
	}
	return rc;
}

static const struct {
	const char *name;
	int err;
} xs_errors[] = {
        {"EINVAL", EINVAL}, {"EACCES", EACCES}, {"EEXIST", EEXIST},       {"EISDIR", EISDIR},
        {"ENOENT", ENOENT}, {"ENOMEM", ENOMEM}, {"ENOSPC", ENOSPC},       {"EIO", EIO},
        {"ENOTEMPTY", ENOTEMPTY}, {"ENOSYS", ENOSYS}, {"EROFS", EROFS},   {"EBUSY", EBUSY},
        {"EAGAIN", EAGAIN}, {"EISCONN", EISCONN}, {"E2BIG", E2BIG},       {"EPERM", EPERM},
};

static int error_of(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++) {
		size_t n = strlen(xs_errors[i].name);

		if (len >= n && memcmp(p, xs_errors[i].name, n) == 0 && (len == n || p[n] == '\0'))
			return xs_errors[i].err;
	}
	return EIO;
}

/* One request: its payload is a with its NUL, then b (may be NULL), with
 * its NUL when nul_b.  The answer's payload goes, NUL-terminated and
 * malloc'ed, to *reply (NULL: not wanted).  Events met on the way are
 * queued.  0 or -1/errno. */
static int request(struct store_xs *x, uint32_t type, const char *a, const char *b, bool nul_b,
                   char **reply)
{
	uint8_t h[XS_HEADER];
	size_t alen = strlen(a) + 1, blen = b ? strlen(b) + (nul_b ? 1 : 0) : 0;
	uint32_t id = ++x->next_id;
	struct iovec iov[3] = {
	        {.iov_base = h, .iov_len = sizeof(h)},
	        {.iov_base = (void *)a, .iov_len = alen},
	        {.iov_base = (void *)(b ? b : ""), .iov_len = blen},
	};

	if (x->broken) {
		errno = EIO;
		return -1;
	}
	if (alen > STORE_MAX_PATH + 1 || alen + blen > STORE_MAX_VALUE) {
		errno = E2BIG;
		return -1;
	}
	set_u32(h, type);
	set_u32(h + 4, id);
	set_u32(h + 8, 0);
	set_u32(h + 12, (uint32_t)(alen + blen));
	if (write_all(x, iov, blen ? 3 : 2) < 0)
		return -1;
	for (;;) {
		if (next_message(x, TAKE_WAIT) < 0)
			return -1;
		uint32_t mtype = get_u32(x->in), mid = get_u32(x->in + 4), len = get_u32(x->in + 12);
		const uint8_t *p = x->in + XS_HEADER;

		if (mtype == XS_WATCH_EVENT) {
			int rc = queue_event(x, p, len);

			consume(x);
			if (rc < 0)
				return broken(x, EPROTO);
			continue;
		}
		if (mid != id) { /* an answer to nothing asked now */
			consume(x);
			continue;
		}
		if (mtype == XS_ERROR) {
			int err = error_of(p, len);

			consume(x);
			errno = err;
			return -1;
		}
		if (mtype != type) {
			consume(x);
			return broken(x, EPROTO);
		}
		if (reply) {
			*reply = strndup((const char *)p, len);
			if (!*reply) {
				consume(x);
				errno = ENOMEM;
				return -1;
			}
		}
		consume(x);
		/* Events read with the answer would wake no one: queue them.
		 * What is still unread wakes store_fd() itself. */
		take_unasked(x, TAKE_BUFFERED);
		return 0;
	}
}

/* ---- struct store_ops ------------------------------------------------------------------- */

static char *xs_read(struct store *s, const char *path)
{
	char *v = NULL;

	/* A value may hold a NUL: cut there, the protocol's values are text. */
	return request(xs_of(s), XS_READ, path, NULL, false, &v) < 0 ? NULL : v;
}

static int xs_write(struct store *s, const char *path, const char *value)
{
	return request(xs_of(s), XS_WRITE, path, value, false, NULL);
}

static int xs_rm(struct store *s, const char *path)
{
	if (request(xs_of(s), XS_RM, path, NULL, false, NULL) == 0)
		return 0;
	return errno == ENOENT ? 0 : -1;
}

static int xs_watch(struct store *s, const char *path, const char *token)
{
	return request(xs_of(s), XS_WATCH, path, token, true, NULL);
}

static int xs_unwatch(struct store *s, const char *path, const char *token)
{
	return request(xs_of(s), XS_UNWATCH, path, token, true, NULL);
}

static int xs_fd(struct store *s)
{
	return xs_of(s)->pfd;
}

static int xs_dispatch(struct store *s, store_watch_cb *cb, void *arg)
{
	struct store_xs *x = xs_of(s);
	size_t n;

	if (!x->broken)
		take_unasked(x, TAKE_READ);
	clear_signal(x);
	/* Events a callback causes come with the next call. */
	n = x->q_len;
	for (size_t i = 0; i < n; i++) {
		struct xs_event e = x->queue[x->q_head];

		x->q_head = (x->q_head + 1) % STORE_XS_MAX_EVENTS;
		x->q_len--;
		cb(arg, e.path, e.token);
		free(e.path);
		free(e.token);
	}
	if (x->q_len)
		signal_events(x);
	if (x->broken && n == 0) {
		errno = EIO;
		return -1;
	}
	return (int)n;
}

static void xs_close(struct store *s)
{
	struct store_xs *x = xs_of(s);

	while (x->q_len) {
		free(x->queue[x->q_head].path);
		free(x->queue[x->q_head].token);
		x->q_head = (x->q_head + 1) % STORE_XS_MAX_EVENTS;
		x->q_len--;
	}
	if (x->pfd >= 0)
		close(x->pfd);
	if (x->efd >= 0)
		close(x->efd);
	if (x->fd >= 0)
		close(x->fd);
	free(x);
}

static const struct store_ops xs_store_ops = {
	.read = xs_read,
	.write = xs_write,
	.rm = xs_rm,
	.watch = xs_watch,
	.unwatch = xs_unwatch,
	.fd = xs_fd,
	.dispatch = xs_dispatch,
	.close = xs_close,
};

/* ---- opening ----------------------------------------------------------------------------- */

struct store *store_xs_attach(int fd, char *err, size_t errlen)
{
	struct store_xs *x = calloc(1, sizeof(*x));
	struct epoll_event ev = {.events = EPOLLIN};
	int fl = fcntl(fd, F_GETFL);

	if (!x) {
		snprintf(err, errlen, "xenstore: out of memory");
		close(fd);
		return NULL;
	}
	x->base.ops = &xs_store_ops;
	x->fd = fd;
	x->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	x->pfd = epoll_create1(EPOLL_CLOEXEC);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || x->efd < 0 || x->pfd < 0 ||
	    epoll_ctl(x->pfd, EPOLL_CTL_ADD, x->fd, &ev) < 0 ||
	    epoll_ctl(x->pfd, EPOLL_CTL_ADD, x->efd, &ev) < 0) {
		snprintf(err, errlen, "xenstore: cannot set up its connection: %s", strerror(errno));
		xs_close(&x->base);
		return NULL;
	}
	return &x->base;
}

/* xenstored's socket, as libxenstore finds it: $XENSTORED_PATH, else
 * ${XENSTORED_RUNDIR:-/var/run/xenstored}/socket. */
static void socket_path(char *buf, size_t len)
{
	const char *p = getenv("XENSTORED_PATH"), *dir = getenv("XENSTORED_RUNDIR");

	if (p)
		snprintf(buf, len, "%s", p);
	else
		snprintf(buf, len, "%s/socket", dir ? dir : "/var/run/xenstored");
}

/* A connection to path: a Unix socket (xenstored in dom0) or a device
 * (the kernel's xenbus, which relays to a xenstored elsewhere).  fd or -1. */
static int connect_to(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISSOCK(st.st_mode))
		return open(path, O_RDWR | O_CLOEXEC);
	return dm_unix_connect(path, 0);
}

struct store *store_xs_open(char *err, size_t errlen)
{
	char sock[STORE_MAX_PATH];
	const char *dev = getenv("XENSTORED_PATH");
	int fd, sock_err;

	socket_path(sock, sizeof(sock));
	fd = connect_to(sock);
	sock_err = errno;
	if (fd < 0) {
		if (!dev)
			dev = access("/dev/xen/xenbus", F_OK) == 0 ? "/dev/xen/xenbus"
			                                          : "/proc/xen/xenbus";
		fd = connect_to(dev);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to xenstore (%s: %s; %s: %s)", sock,
		         strerror(sock_err), dev, strerror(errno));
		return NULL;
	}
	return store_xs_attach(fd, err, errlen);
}
