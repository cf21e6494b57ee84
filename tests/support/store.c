/* support_store.c — reading a store (xs.h) and collecting its watch events. */
#include "tests/support/support.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack/xenstore/store.h"

const char *support_store_val(struct store *s, const char *path, char *out, size_t size)
{
	char *v = store_read(s, path);

	if (!v) {
		snprintf(out, size, "<%s>",
		         errno == ENOENT ? "ENOENT" : errno == EINVAL ? "EINVAL" : "?");
		return out;
	}
	snprintf(out, size, "%s", v);
	free(v);
	return out;
}

static void collect(void *arg, const char *path, const char *token)
{
	struct support_events *e = arg;
	size_t n = strlen(e->text);

	snprintf(e->text + n, sizeof(e->text) - n, "%s|%s;", path, token);
}

const char *support_store_drain(struct store *s, struct support_events *e)
{
	e->text[0] = '\0';
	store_dispatch(s, collect, e);
	return e->text;
}

bool support_store_readable(struct store *s, int timeout_ms)
{
	struct pollfd p = {.fd = store_fd(s), .events = POLLIN};

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

void support_store_write_once(void *arg, const char *path, const char *token)
{
	struct support_write_once *w = arg;

	(void)path;
	(void)token;
	if (w->calls++ == 0)
		store_write(w->s, w->path, w->value);
}
