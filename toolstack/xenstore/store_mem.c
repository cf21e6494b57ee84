/*
 * xs_mem.c — in-memory store with xenstored's watch semantics (xs.h).
 *
 * A flat array of nodes is plenty for the handful of nodes the protocol
 * touches.  Watches and their event queue are xs_watch.c's.
 */
#include "toolstack/xenstore/store.h"
#include "toolstack/xenstore/watch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct mem_node {
	char *path;
	char *value;
};

struct store_mem {
	struct store base;
	struct mem_node *nodes;
	size_t n_nodes, cap_nodes;
	struct xs_watches w;
};

static struct store_mem *mem_of(struct store *s)
{
	return (struct store_mem *)s;
}

static struct mem_node *find_node(struct store_mem *m, const char *path)
{
	for (size_t i = 0; i < m->n_nodes; i++)
		if (strcmp(m->nodes[i].path, path) == 0)
			return &m->nodes[i];
	return NULL;
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

	if (!xs_path_ok(path)) {
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

	if (!xs_path_ok(path) || strcmp(path, "/") == 0 || strlen(value) > STORE_MAX_VALUE) {
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
	xs_watches_fire(&m->w, path, false);
	return 0;
}

static int mem_rm(struct store *s, const char *path)
{
	struct store_mem *m = mem_of(s);

	if (!xs_path_ok(path) || strcmp(path, "/") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (!find_node(m, path))
		return 0;
	size_t j = 0;
	for (size_t i = 0; i < m->n_nodes; i++) {
		if (xs_path_under(m->nodes[i].path, path)) {
			free(m->nodes[i].path);
			free(m->nodes[i].value);
		} else {
			m->nodes[j++] = m->nodes[i];
		}
	}
	m->n_nodes = j;
	xs_watches_fire(&m->w, path, true);
	return 0;
}

static int mem_watch(struct store *s, const char *path, const char *token)
{
	if (!xs_path_ok(path)) {
		errno = EINVAL;
		return -1;
	}
	return xs_watches_add(&mem_of(s)->w, path, token);
}

static int mem_unwatch(struct store *s, const char *path, const char *token)
{
	return xs_watches_remove(&mem_of(s)->w, path, token);
}

static int mem_fd(struct store *s)
{
	return mem_of(s)->w.efd;
}

static int mem_dispatch(struct store *s, store_watch_cb *cb, void *arg)
{
	struct store_mem *m = mem_of(s);

	if (xs_watches_clear_fd(&m->w) < 0)
		return -1;
	return xs_watches_deliver(&m->w, cb, arg);
}

static void mem_close(struct store *s)
{
	struct store_mem *m = mem_of(s);

	for (size_t i = 0; i < m->n_nodes; i++) {
		free(m->nodes[i].path);
		free(m->nodes[i].value);
	}
	free(m->nodes);
	xs_watches_free(&m->w);
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
	if (xs_watches_init(&m->w, STORE_MEM_MAX_WATCHES, STORE_MEM_MAX_EVENTS, false) < 0) {
		free(m);
		return NULL;
	}
	return &m->base;
}

size_t store_mem_pending(struct store *s)
{
	return mem_of(s)->w.n_events;
}
