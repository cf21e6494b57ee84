/*
 * store.h — the small store interface the toolstack protocol uses.
 *
 * Three implementations: store_mem_new() (store_mem.c), an in-memory tree
 * with xenstored's watch semantics for tests; store_dir_open()
 * (store_dir.c), a directory tree for the simulated platform; and
 * store_xs_open() (store_xenstored.c), xenstored itself.
 *
 * Paths are absolute ("/local/domain/0/...").  Values are NUL-terminated
 * strings.  Watch semantics (as xenstored): a watch on W fires for a write
 * or removal of W or of any node below W, reports the changed path, and
 * fires once right after it is registered (reporting W).  Events are
 * queued and delivered by store_dispatch(); store_fd() becomes readable
 * when some may be pending.
 */
#ifndef RTCDM_XS_H
#define RTCDM_XS_H

#include <stddef.h>

struct store;

typedef void store_watch_cb(void *arg, const char *path, const char *token);

struct store_ops {
	char *(*read)(struct store *s, const char *path);
	int (*write)(struct store *s, const char *path, const char *value);
	int (*rm)(struct store *s, const char *path);
	int (*watch)(struct store *s, const char *path, const char *token);
	int (*unwatch)(struct store *s, const char *path, const char *token);
	int (*fd)(struct store *s);
	int (*dispatch)(struct store *s, store_watch_cb *cb, void *arg);
	void (*close)(struct store *s);
};

struct store {
	const struct store_ops *ops;
};

/* The value at path, malloc'ed (caller frees), or NULL with errno set
 * (ENOENT: no such node). */
static inline char *store_read(struct store *s, const char *path)
{
	return s->ops->read(s, path);
}
/* Create or replace a node (parents are created as needed).  0 or -1/errno. */
static inline int store_write(struct store *s, const char *path, const char *value)
{
	return s->ops->write(s, path, value);
}
/* Remove a node and everything below it; removing a missing node is not an
 * error (as xenstored).  0 or -1/errno. */
static inline int store_rm(struct store *s, const char *path)
{
	return s->ops->rm(s, path);
}
static inline int store_watch(struct store *s, const char *path, const char *token)
{
	return s->ops->watch(s, path, token);
}
static inline int store_unwatch(struct store *s, const char *path, const char *token)
{
	return s->ops->unwatch(s, path, token);
}
/* A descriptor to poll for POLLIN: watch events may be pending. */
static inline int store_fd(struct store *s)
{
	return s->ops->fd(s);
}
/* Deliver every pending watch event to cb (without blocking).  Returns the
 * number delivered or -1/errno.  cb may read, write and remove nodes;
 * events it causes are delivered by a later call. */
static inline int store_dispatch(struct store *s, store_watch_cb *cb, void *arg)
{
	return s->ops->dispatch(s, cb, arg);
}
static inline void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

/* In-memory store (xs_mem.c).  NULL on allocation failure. */
struct store *store_mem_new(void);
/* Number of events queued and not yet dispatched (tests). */
size_t store_mem_pending(struct store *s);

/* Upper bounds of the in-memory store (further writes/watches fail with
 * ENOSPC; events beyond the queue bound are dropped, oldest kept). */
#define STORE_MEM_MAX_NODES 4096u
#define STORE_MEM_MAX_WATCHES 128u
#define STORE_MEM_MAX_EVENTS 1024u
#define STORE_MAX_PATH 3072u  /* xenstored's XENSTORE_ABS_PATH_MAX */
#define STORE_MAX_VALUE 4096u /* xenstored's XENSTORE_PAYLOAD_MAX */

/* xenstored over its wire protocol (store_xenstored.c): its socket
 * ($XENSTORED_PATH, else ${XENSTORED_RUNDIR:-/var/run/xenstored}/socket),
 * else the kernel's xenbus device, as libxenstore finds them.  NULL with a
 * one-line reason in err when xenstored cannot be reached. */
struct store *store_xs_open(char *err, size_t errlen);
/* The same on a connection already open (a socket or device speaking
 * xenstored's protocol; the store owns fd from now on, also on failure). */
struct store *store_xs_attach(int fd, char *err, size_t errlen);
/* Watch events held between dispatches; more are dropped, the oldest kept. */
#define STORE_XS_MAX_EVENTS 256u

#endif
