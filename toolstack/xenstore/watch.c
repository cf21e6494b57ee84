/* xs_watch.c — watch bookkeeping shared by the store implementations. */
#include "toolstack/xenstore/watch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

bool xs_path_ok(const char *path)
{
	size_t len = strlen(path);

	if (len == 0 || len > STORE_MAX_PATH || path[0] != '/')
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = path[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '@' ||
		          c == '/' || c == '.';
		if (!ok || (c == '/' && i > 0 && path[i - 1] == '/'))
			return false;
	}
	return true;
}

bool xs_path_under(const char *path, const char *top)
{
	size_t n = strlen(top);

	if (strcmp(top, "/") == 0)
		return true;
	return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int xs_watches_init(struct xs_watches *w, size_t max_watches, size_t max_events, bool coalesce)
{
	memset(w, 0, sizeof(*w));
	w->coalesce = coalesce;
	w->max_watches = max_watches;
	w->max_events = max_events;
	w->watches = calloc(max_watches, sizeof(*w->watches));
	w->events = calloc(max_events, sizeof(*w->events));
	w->efd = -1;
	if (w->watches && w->events)
		w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		int e = w->watches && w->events ? errno : ENOMEM;
		free(w->watches);
		free(w->events);
		w->watches = w->events = NULL;
		errno = e;
		return -1;
	}
	return 0;
}

static void free_pairs(struct xs_watch_pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].path);
		free(p[i].token);
	}
	free(p);
}

void xs_watches_free(struct xs_watches *w)
{
	free_pairs(w->watches, w->n_watches);
	free_pairs(w->events, w->n_events);
	w->watches = w->events = NULL;
	w->n_watches = w->n_events = 0;
	if (w->efd >= 0)
		close(w->efd);
	w->efd = -1;
}

static bool same(const struct xs_watch_pair *p, const char *path, const char *token)
{
	return strcmp(p->path, path) == 0 && strcmp(p->token, token) == 0;
}

/* Both strings copied into *p, or -1/ENOMEM with nothing allocated. */
static int pair_set(struct xs_watch_pair *p, const char *path, const char *token)
{
	char *cp = strdup(path);
	char *ct = strdup(token);

	if (!cp || !ct) {
		free(cp);
		free(ct);
		errno = ENOMEM;
		return -1;
	}
	p->path = cp;
	p->token = ct;
	return 0;
}

int xs_watches_check(const struct xs_watches *w, const char *path, const char *token)
{
	if (!token[0] || strlen(token) > STORE_MAX_PATH) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < w->n_watches; i++) {
		if (same(&w->watches[i], path, token)) {
			errno = EEXIST;
			return -1;
		}
	}
	if (w->n_watches >= w->max_watches) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

int xs_watches_add(struct xs_watches *w, const char *path, const char *token)
{
	if (xs_watches_check(w, path, token) < 0 ||
	    pair_set(&w->watches[w->n_watches], path, token) < 0)
		return -1;
	w->n_watches++;
	xs_watches_queue(w, path, token); /* the initial event */
	return 0;
}

int xs_watches_remove(struct xs_watches *w, const char *path, const char *token)
{
	for (size_t i = 0; i < w->n_watches; i++) {
		if (same(&w->watches[i], path, token)) {
			free(w->watches[i].path);
			free(w->watches[i].token);
			w->watches[i] = w->watches[--w->n_watches];
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

void xs_watches_queue(struct xs_watches *w, const char *path, const char *token)
{
	uint64_t one = 1;

	if (w->n_events >= w->max_events)
		return;
	if (w->coalesce)
		for (size_t i = 0; i < w->n_events; i++)
			if (same(&w->events[i], path, token))
				return;
	if (pair_set(&w->events[w->n_events], path, token) < 0)
		return;
	w->n_events++;
	if (write(w->efd, &one, sizeof(one)) < 0) {
		/* A bounded queue cannot overflow the counter; nothing to do. */
	}
}

void xs_watches_fire(struct xs_watches *w, const char *path, bool subtree)
{
	for (size_t i = 0; i < w->n_watches; i++) {
		const struct xs_watch_pair *p = &w->watches[i];
		if (xs_path_under(path, p->path))
			xs_watches_queue(w, path, p->token);
		else if (subtree && xs_path_under(p->path, path))
			xs_watches_queue(w, p->path, p->token);
	}
}

int xs_watches_clear_fd(struct xs_watches *w)
{
	uint64_t count;

	if (read(w->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -1;
	return 0;
}

int xs_watches_deliver(struct xs_watches *w, store_watch_cb *cb, void *arg)
{
	size_t n = w->n_events;
	struct xs_watch_pair *batch = malloc((n ? n : 1) * sizeof(*batch));

	if (!batch)
		return -1;
	memcpy(batch, w->events, n * sizeof(*batch));
	w->n_events = 0;
	for (size_t i = 0; i < n; i++) {
		cb(arg, batch[i].path, batch[i].token);
		free(batch[i].path);
		free(batch[i].token);
	}
	free(batch);
	return (int)n;
}
