/*
 * xs_mem.c — in-memory store with xenstored's watch semantics (xs.h).
 *
 * A flat array of nodes is plenty for the handful of nodes the protocol
 * touches.  Watch events are queued and an eventfd signals them.
 */
#include "xenstore/xs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct mem_node {
	char *path;
	char *value;
};

struct mem_watch {
	char *path;
	char *token;
};

struct mem_event {
	char *path;
	char *token;
};

struct store_mem {
	struct store base;
	int efd;
	struct mem_node *nodes;
	size_t n_nodes, cap_nodes;
	struct mem_watch *watches;
	size_t n_watches;
	struct mem_event *events;
	size_t n_events;
};

static struct store_mem *mem_of(struct store *s)
{
	return (struct store_mem *)s;
}

/* xenstored's path rules: absolute, [A-Za-z0-9_@/-], no empty component,
 * no trailing slash (except the root itself). */
static bool path_ok(const char *path)
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

/* Is `path` equal to `top` or below it? */
static bool is_under(const char *path, const char *top)
{
	size_t n = strlen(top);

	if (strcmp(top, "/") == 0)
		return true;
	return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static struct mem_node *find_node(struct store_mem *m, const char *path)
{
	for (size_t i = 0; i < m->n_nodes; i++)
		if (strcmp(m->nodes[i].path, path) == 0)
			return &m->nodes[i];
	return NULL;
}

static void queue_event(struct store_mem *m, const char *path, const char *token)
{
	uint64_t one = 1;

	if (m->n_events >= STORE_MEM_MAX_EVENTS)
		return;
	char *p = strdup(path);
	char *t = strdup(token);
	if (!p || !t) {
		free(p);
		free(t);
		return;
	}
	m->events[m->n_events].path = p;
	m->events[m->n_events].token = t;
	m->n_events++;
	if (write(m->efd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow with a bounded queue; nothing to do. */
	}
}

/* A change at `path`: fire watches on it and above it with `path`, and
 * (when `subtree`, i.e. a removal) watches below it with their own path. */
static void fire(struct store_mem *m, const char *path, bool subtree)
{
	for (size_t i = 0; i < m->n_watches; i++) {
		const struct mem_watch *w = &m->watches[i];
		if (is_under(path, w->path))
			queue_event(m, path, w->token);
		else if (subtree && is_under(w->path, path))
			queue_event(m, w->path, w->token);
	}
}

static int add_node(struct store_mem *m, const char *path, const char *value)
{
	if (m->n_nodes >= STORE_MEM_MAX_NODES) {
		errno = ENOSPC;
		return -1;
	}
	if (m->n_nodes == m->cap_nodes) {
		size_t cap = m->cap_nodes ? m->cap_nodes * 2 : 16;
		struct mem_node *n = realloc(m->nodes, cap * sizeof(*n));
		if (!n)
			return -1;
		m->nodes = n;
		m->cap_nodes = cap;
	}
	char *p = strdup(path);
	char *v = strdup(value);
	if (!p || !v) {
		free(p);
		free(v);
		errno = ENOMEM;
		return -1;
	}
	m->nodes[m->n_nodes].path = p;
	m->nodes[m->n_nodes].value = v;
	m->n_nodes++;
	return 0;
}

static char *mem_read(struct store *s, const char *path)
{
	struct store_mem *m = mem_of(s);

	if (!path_ok(path)) {
		errno = EINVAL;
		return NULL;
	}
	struct mem_node *n = find_node(m, path);
	if (!n) {
		errno = ENOENT;
		return NULL;
	}
	return strdup(n->value);
}

static int mem_write(struct store *s, const char *path, const char *value)
{
	struct store_mem *m = mem_of(s);

	if (!path_ok(path) || strcmp(path, "/") == 0 || strlen(value) > STORE_MAX_VALUE) {
		errno = EINVAL;
		return -1;
	}
	struct mem_node *n = find_node(m, path);
	if (n) {
		char *v = strdup(value);
		if (!v)
			return -1;
		free(n->value);
		n->value = v;
	} else {
		/* Missing parents are created empty, as xenstored does. */
		char buf[STORE_MAX_PATH + 1];
		strcpy(buf, path);
		for (char *slash = strchr(buf + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			if (!find_node(m, buf) && add_node(m, buf, "") < 0)
				return -1;
			*slash = '/';
		}
		if (add_node(m, path, value) < 0)
			return -1;
	}
	fire(m, path, false);
	return 0;
}

static int mem_rm(struct store *s, const char *path)
{
	struct store_mem *m = mem_of(s);

	if (!path_ok(path) || strcmp(path, "/") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (!find_node(m, path))
		return 0;
	size_t j = 0;
	for (size_t i = 0; i < m->n_nodes; i++) {
		if (is_under(m->nodes[i].path, path)) {
			free(m->nodes[i].path);
			free(m->nodes[i].value);
		} else {
			m->nodes[j++] = m->nodes[i];
		}
	}
	m->n_nodes = j;
	fire(m, path, true);
	return 0;
}

static int mem_watch(struct store *s, const char *path, const char *token)
{
	struct store_mem *m = mem_of(s);

	if (!path_ok(path) || !token[0] || strlen(token) > STORE_MAX_PATH) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < m->n_watches; i++) {
		if (strcmp(m->watches[i].path, path) == 0 &&
		    strcmp(m->watches[i].token, token) == 0) {
			errno = EEXIST;
			return -1;
		}
	}
	if (m->n_watches >= STORE_MEM_MAX_WATCHES) {
		errno = ENOSPC;
		return -1;
	}
	char *p = strdup(path);
	char *t = strdup(token);
	if (!p || !t) {
		free(p);
		free(t);
		errno = ENOMEM;
		return -1;
	}
	m->watches[m->n_watches].path = p;
	m->watches[m->n_watches].token = t;
	m->n_watches++;
	queue_event(m, path, token); /* the initial event */
	return 0;
}

static int mem_unwatch(struct store *s, const char *path, const char *token)
{
	struct store_mem *m = mem_of(s);

	for (size_t i = 0; i < m->n_watches; i++) {
		if (strcmp(m->watches[i].path, path) == 0 &&
		    strcmp(m->watches[i].token, token) == 0) {
			free(m->watches[i].path);
			free(m->watches[i].token);
			m->watches[i] = m->watches[--m->n_watches];
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

static int mem_fd(struct store *s)
{
	return mem_of(s)->efd;
}

static int mem_dispatch(struct store *s, store_watch_cb *cb, void *arg)
{
	struct store_mem *m = mem_of(s);
	uint64_t count;

	if (read(m->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -1;
	/* Deliver what is queued now; events the callbacks cause are queued
	 * behind and signalled again. */
	size_t n = m->n_events;
	struct mem_event *batch = malloc((n ? n : 1) * sizeof(*batch));
	if (!batch)
		return -1;
	memcpy(batch, m->events, n * sizeof(*batch));
	m->n_events = 0;
	for (size_t i = 0; i < n; i++) {
		cb(arg, batch[i].path, batch[i].token);
		free(batch[i].path);
		free(batch[i].token);
	}
	free(batch);
	return (int)n;
}

static void mem_close(struct store *s)
{
	struct store_mem *m = mem_of(s);

	for (size_t i = 0; i < m->n_nodes; i++) {
		free(m->nodes[i].path);
		free(m->nodes[i].value);
	}
	for (size_t i = 0; i < m->n_watches; i++) {
		free(m->watches[i].path);
		free(m->watches[i].token);
	}
	for (size_t i = 0; i < m->n_events; i++) {
		free(m->events[i].path);
		free(m->events[i].token);
	}
	free(m->nodes);
	free(m->watches);
	free(m->events);
	close(m->efd);
	free(m);
}

static const struct store_ops mem_ops = {
	.read = mem_read,
	.write = mem_write,
	.rm = mem_rm,
	.watch = mem_watch,
	.unwatch = mem_unwatch,
	.fd = mem_fd,
	.dispatch = mem_dispatch,
	.close = mem_close,
};

struct store *store_mem_new(void)
{
	struct store_mem *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->base.ops = &mem_ops;
	m->watches = calloc(STORE_MEM_MAX_WATCHES, sizeof(*m->watches));
	m->events = calloc(STORE_MEM_MAX_EVENTS, sizeof(*m->events));
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!m->watches || !m->events || m->efd < 0) {
		if (m->efd >= 0)
			close(m->efd);
		free(m->watches);
		free(m->events);
		free(m);
		return NULL;
	}
	return &m->base;
}

size_t store_mem_pending(struct store *s)
{
	return mem_of(s)->n_events;
}
