/*
 * xs_watch.h — watch bookkeeping shared by the store implementations
 * (xs_mem.c, store_dir.c): xenstored's path rules, the registered
 * (path, token) pairs, the queue of pending events and the eventfd that
 * signals it.
 *
 * Matching follows xs.h: a change at P fires every watch on P or above it,
 * reporting P; a removal of P also fires every watch below P, reporting the
 * watch's own path.  A new watch queues its initial event.  The queue is
 * bounded (further events are dropped, the oldest kept); with `coalesce`,
 * an event already pending for the same path and token is not queued again.
 */
#ifndef RTCDM_XS_WATCH_H
#define RTCDM_XS_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "toolstack/xenstore/store.h"

struct xs_watch_pair {
	char *path;
	char *token;
};

struct xs_watches {
	int efd; /* eventfd, readable while events may be pending */
	bool coalesce;
	size_t max_watches, max_events;
	struct xs_watch_pair *watches;
	size_t n_watches;
	struct xs_watch_pair *events;
	size_t n_events;
};

/* xenstored's path rules: absolute, [A-Za-z0-9_@/.-], no empty component,
 * no trailing slash (except the root itself), at most STORE_MAX_PATH. */
bool xs_path_ok(const char *path);
/* Is `path` equal to `top` or below it? */
bool xs_path_under(const char *path, const char *top);

/* Allocate the tables and the eventfd.  0, or -1/errno (nothing to free). */
int xs_watches_init(struct xs_watches *w, size_t max_watches, size_t max_events, bool coalesce);
/* Free every watch and pending event, close the eventfd. */
void xs_watches_free(struct xs_watches *w);

/* Would xs_watches_add() accept this token and pair?  (The caller checks
 * the path with its own rules.)  0, or -1 with errno EINVAL (empty or too
 * long token), EEXIST (already registered) or ENOSPC (table full). */
int xs_watches_check(const struct xs_watches *w, const char *path, const char *token);
/* Register a watch (after the checks above) and queue its initial event.
 * 0 or -1/errno; nothing changes on failure. */
int xs_watches_add(struct xs_watches *w, const char *path, const char *token);
/* Unregister a watch.  0, or -1/ENOENT when there is no such pair. */
int xs_watches_remove(struct xs_watches *w, const char *path, const char *token);

/* Queue one event and signal the eventfd. */
void xs_watches_queue(struct xs_watches *w, const char *path, const char *token);
/* A change at `path` (`subtree`: a removal of `path` and what is below). */
void xs_watches_fire(struct xs_watches *w, const char *path, bool subtree);

/* Reset the eventfd counter.  0 or -1/errno. */
int xs_watches_clear_fd(struct xs_watches *w);
/* Deliver the events queued now to cb; events cb causes are queued behind
 * for a later call.  Returns the number delivered or -1/errno. */
int xs_watches_deliver(struct xs_watches *w, store_watch_cb *cb, void *arg);

#endif
