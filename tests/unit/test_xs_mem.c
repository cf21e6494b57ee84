/* The in-memory store: xenstored's node and watch semantics. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/xs.h"

void suite_xs_mem(void);

/* Value at path, or "<ENOENT>" / "<EINVAL>"; the result is static per call site. */
static const char *val(struct store *s, const char *path, char *out, size_t size)
{
	char *v = store_read(s, path);
	if (!v) {
		snprintf(out, size, "<%s>", errno == ENOENT ? "ENOENT" : errno == EINVAL ? "EINVAL" : "?");
		return out;
	}
	snprintf(out, size, "%s", v);
	free(v);
	return out;
}

struct events {
	char text[2048]; /* "path|token;" each */
};

static void collect(void *arg, const char *path, const char *token)
{
	struct events *e = arg;
	size_t n = strlen(e->text);
	snprintf(e->text + n, sizeof(e->text) - n, "%s|%s;", path, token);
}

static const char *drain(struct store *s, struct events *e)
{
	e->text[0] = '\0';
	store_dispatch(s, collect, e);
	return e->text;
}

static bool readable(struct store *s)
{
	struct pollfd p = {.fd = store_fd(s), .events = POLLIN};
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_nodes(void)
{
	struct store *s = store_mem_new();
	char b[64];

	CU_ASSERT_STRING_EQUAL(val(s, "/a", b, sizeof(b)), "<ENOENT>");
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/3/state", "running"), 0);
	CU_ASSERT_STRING_EQUAL(val(s, "/local/domain/0/device-model/3/state", b, sizeof(b)), "running");
	/* Parents exist, empty. */
	CU_ASSERT_STRING_EQUAL(val(s, "/local/domain/0/device-model/3", b, sizeof(b)), "");
	CU_ASSERT_STRING_EQUAL(val(s, "/local", b, sizeof(b)), "");
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/3/state", "paused"), 0);
	CU_ASSERT_STRING_EQUAL(val(s, "/local/domain/0/device-model/3/state", b, sizeof(b)), "paused");
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/3/rtc/timeoffset", "-3600"), 0);
	/* rm takes the subtree; a sibling prefix is not below. */
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/30", "x"), 0);
	CU_ASSERT_EQUAL(store_rm(s, "/local/domain/0/device-model/3"), 0);
	CU_ASSERT_STRING_EQUAL(val(s, "/local/domain/0/device-model/3/rtc/timeoffset", b, sizeof(b)),
	                       "<ENOENT>");
	CU_ASSERT_STRING_EQUAL(val(s, "/local/domain/0/device-model/3", b, sizeof(b)), "<ENOENT>");
	CU_ASSERT_STRING_EQUAL(val(s, "/local/domain/0/device-model/30", b, sizeof(b)), "x");
	CU_ASSERT_EQUAL(store_rm(s, "/not/there"), 0);
	/* Bad paths. */
	CU_ASSERT_EQUAL(store_write(s, "relative", "v"), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(store_write(s, "/a//b", "v"), -1);
	CU_ASSERT_EQUAL(store_write(s, "/a/", "v"), -1);
	CU_ASSERT_EQUAL(store_write(s, "/a b", "v"), -1);
	CU_ASSERT_STRING_EQUAL(val(s, "/a b", b, sizeof(b)), "<EINVAL>");
	CU_ASSERT_EQUAL(store_rm(s, "/"), -1);
	store_close(s);
}

static void test_watches(void)
{
	struct store *s = store_mem_new();
	struct events e;
	const char *dm = "/local/domain/0/device-model/5";

	CU_ASSERT(!readable(s));
	CU_ASSERT_EQUAL(store_watch(s, "/local/domain/0/device-model/5/command", "cmd"), 0);
	/* Fires once at registration. */
	CU_ASSERT(readable(s));
	CU_ASSERT_EQUAL(store_mem_pending(s), 1);
	CU_ASSERT_STRING_EQUAL(drain(s, &e), "/local/domain/0/device-model/5/command|cmd;");
	CU_ASSERT(!readable(s));
	CU_ASSERT_EQUAL(store_watch(s, "/local/domain/0/device-model/5/command", "cmd"), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	CU_ASSERT_EQUAL(store_watch(s, dm, "dm"), 0);
	drain(s, &e);

	/* A write below fires both, with the changed path; elsewhere nothing. */
	store_write(s, "/local/domain/0/device-model/5/command", "save");
	store_write(s, "/local/domain/0/device-model/6/command", "save");
	store_write(s, "/local/domain/0/device-model/5/state", "x");
	CU_ASSERT_STRING_EQUAL(drain(s, &e), "/local/domain/0/device-model/5/command|cmd;"
	                                     "/local/domain/0/device-model/5/command|dm;"
	                                     "/local/domain/0/device-model/5/state|dm;");
	/* Removing an ancestor fires watches below it with their own path. */
	store_rm(s, dm);
	CU_ASSERT_STRING_EQUAL(drain(s, &e), "/local/domain/0/device-model/5/command|cmd;"
	                                     "/local/domain/0/device-model/5|dm;");
	/* Removing what does not exist fires nothing. */
	store_rm(s, dm);
	CU_ASSERT_STRING_EQUAL(drain(s, &e), "");
	CU_ASSERT_EQUAL(store_unwatch(s, dm, "dm"), 0);
	CU_ASSERT_EQUAL(store_unwatch(s, dm, "dm"), -1);
	store_write(s, "/local/domain/0/device-model/5/state", "y");
	CU_ASSERT_STRING_EQUAL(drain(s, &e), "");
	store_close(s);
}

/* A callback that writes: its events come with the next dispatch. */
struct chain {
	struct store *s;
	int calls;
};

static void writer(void *arg, const char *path, const char *token)
{
	struct chain *c = arg;
	(void)path;
	(void)token;
	if (c->calls++ == 0)
		store_write(c->s, "/w/x", "again");
}

static void test_events_from_callbacks(void)
{
	struct store *s = store_mem_new();
	struct chain c = {.s = s};

	store_watch(s, "/w", "t");
	CU_ASSERT_EQUAL(store_dispatch(s, writer, &c), 1);
	CU_ASSERT_EQUAL(c.calls, 1);
	CU_ASSERT(readable(s));
	CU_ASSERT_EQUAL(store_dispatch(s, writer, &c), 1);
	CU_ASSERT_EQUAL(c.calls, 2);
	CU_ASSERT_EQUAL(store_dispatch(s, writer, &c), 0);
	/* The queue is bounded. */
	for (unsigned i = 0; i < STORE_MEM_MAX_EVENTS + 10; i++)
		store_write(s, "/w/y", "v");
	CU_ASSERT_EQUAL(store_mem_pending(s), STORE_MEM_MAX_EVENTS);
	store_close(s);
}

void suite_xs_mem(void)
{
	CU_pSuite s = CU_add_suite("xs_mem", NULL, NULL);
	CU_add_test(s, "nodes: write, read, parents, rm, bad paths", test_nodes);
	CU_add_test(s, "watches: initial event, subtree, rm, unwatch", test_watches);
	CU_add_test(s, "events caused by callbacks, bounded queue", test_events_from_callbacks);
}
