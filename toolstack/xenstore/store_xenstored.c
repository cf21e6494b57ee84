/*
 * store_xs.c — the store interface (xs.h) on libxenstore.  Built only with
 * Xen; exercised by the Xen end-to-end tests.
 */
#include "toolstack/xenstore/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

struct store_xs {
	struct store base;
	struct xs_handle *h;
};

static struct xs_handle *h_of(struct store *s)
{
	return ((struct store_xs *)s)->h;
}

static char *sx_read(struct store *s, const char *path)
{
	unsigned int len = 0;
	char *raw = xs_read(h_of(s), XBT_NULL, path, &len);

	if (!raw)
		return NULL;
	/* libxenstore NUL-terminates, but a value may hold a NUL itself: cut
	 * there, the protocol's values are text. */
	char *v = strndup(raw, len);
	free(raw);
	return v;
}

static int sx_write(struct store *s, const char *path, const char *value)
{
	return xs_write(h_of(s), XBT_NULL, path, value, (unsigned int)strlen(value)) ? 0 : -1;
}

static int sx_rm(struct store *s, const char *path)
{
	if (xs_rm(h_of(s), XBT_NULL, path))
		return 0;
	return errno == ENOENT ? 0 : -1;
}

static int sx_watch(struct store *s, const char *path, const char *token)
{
	return xs_watch(h_of(s), path, token) ? 0 : -1;
}

static int sx_unwatch(struct store *s, const char *path, const char *token)
{
	return xs_unwatch(h_of(s), path, token) ? 0 : -1;
}

static int sx_fd(struct store *s)
{
	return xs_fileno(h_of(s));
}

static int sx_dispatch(struct store *s, store_watch_cb *cb, void *arg)
{
	int n = 0;
	char **vec;

	while ((vec = xs_check_watch(h_of(s))) != NULL) {
		cb(arg, vec[XS_WATCH_PATH], vec[XS_WATCH_TOKEN]);
		free(vec);
		n++;
	}
	return errno == EAGAIN ? n : -1;
}

static void sx_close(struct store *s)
{
	xs_close(h_of(s));
	free(s);
}

static const struct store_ops xs_store_ops = {
	.read = sx_read,
	.write = sx_write,
	.rm = sx_rm,
	.watch = sx_watch,
	.unwatch = sx_unwatch,
	.fd = sx_fd,
	.dispatch = sx_dispatch,
	.close = sx_close,
};

struct store *store_xs_open(char *err, size_t errlen)
{
	struct store_xs *x = calloc(1, sizeof(*x));

	if (!x) {
		snprintf(err, errlen, "xenstore: out of memory");
		return NULL;
	}
	x->h = xs_open(0);
	if (!x->h) {
		snprintf(err, errlen, "cannot connect to xenstore: %s", strerror(errno));
		free(x);
		return NULL;
	}
	x->base.ops = &xs_store_ops;
	return &x->base;
}
