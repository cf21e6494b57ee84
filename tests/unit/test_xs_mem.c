/* The in-memory store: xenstored's node and watch semantics. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/support.h"
#include "toolstack/xenstore/store.h"

void suite_xs_mem(void);

static void test_nodes(void)
{
	struct store *s = store_mem_new();
	char b[64];

	CU_ASSERT_STRING_EQUAL(support_store_val(s, "/a", b, sizeof(b)), "<ENOENT>");
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/3/state", "running"), 0);
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(s, "/local/domain/0/device-model/3/state", b, sizeof(b)),
	        "running");
	/* Parents exist, empty. */
	CU_ASSERT_STRING_EQUAL(support_store_val(s, "/local/domain/0/device-model/3", b, sizeof(b)),
	                       "");
	CU_ASSERT_STRING_EQUAL(support_store_val(s, "/local", b, sizeof(b)), "");
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/3/state", "paused"), 0);
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(s, "/local/domain/0/device-model/3/state", b, sizeof(b)),
	        "paused");
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/3/rtc/timeoffset", "-3600"),
	                0);
	/* rm takes the subtree; a sibling prefix is not below. */
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/30", "x"), 0);
	CU_ASSERT_EQUAL(store_rm(s, "/local/domain/0/device-model/3"), 0);
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(s, "/local/domain/0/device-model/3/rtc/timeoffset", b, sizeof(b)),
	        "<ENOENT>");
	CU_ASSERT_STRING_EQUAL(support_store_val(s, "/local/domain/0/device-model/3", b, sizeof(b)),
	                       "<ENOENT>");
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(s, "/local/domain/0/device-model/30", b, sizeof(b)), "x");
	CU_ASSERT_EQUAL(store_rm(s, "/not/there"), 0);
	/* Bad paths. */
	CU_ASSERT_EQUAL(store_write(s, "relative", "v"), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(store_write(s, "/a//b", "v"), -1);
	CU_ASSERT_EQUAL(store_write(s, "/a/", "v"), -1);
	CU_ASSERT_EQUAL(store_write(s, "/a b", "v"), -1);
	CU_ASSERT_STRING_EQUAL(support_store_val(s, "/a b", b, sizeof(b)), "<EINVAL>");
	CU_ASSERT_EQUAL(store_rm(s, "/"), -1);
	store_close(s);
}

static void test_watches(void)
{
	struct store *s = store_mem_new();
	struct support_events e;
	const char *dm = "/local/domain/0/device-model/5";

	CU_ASSERT(!support_store_readable(s, 0));
	CU_ASSERT_EQUAL(store_watch(s, "/local/domain/0/device-model/5/command", "cmd"), 0);
	/* Fires once at registration. */
	CU_ASSERT(support_store_readable(s, 0));
	CU_ASSERT_EQUAL(store_mem_pending(s), 1);
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e),
	                       "/local/domain/0/device-model/5/command|cmd;");
	CU_ASSERT(!support_store_readable(s, 0));
	CU_ASSERT_EQUAL(store_watch(s, "/local/domain/0/device-model/5/command", "cmd"), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	CU_ASSERT_EQUAL(store_watch(s, dm, "dm"), 0);
	support_store_drain(s, &e);

	/* A write below fires both, with the changed path; elsewhere nothing. */
	store_write(s, "/local/domain/0/device-model/5/command", "save");
	store_write(s, "/local/domain/0/device-model/6/command", "save");
	store_write(s, "/local/domain/0/device-model/5/state", "x");
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e),
	                       "/local/domain/0/device-model/5/command|cmd;"
	                       "/local/domain/0/device-model/5/command|dm;"
	                       "/local/domain/0/device-model/5/state|dm;");
	/* Removing an ancestor fires watches below it with their own path. */
	store_rm(s, dm);
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e),
	                       "/local/domain/0/device-model/5/command|cmd;"
	                       "/local/domain/0/device-model/5|dm;");
	/* Removing what does not exist fires nothing. */
	store_rm(s, dm);
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e), "");
	CU_ASSERT_EQUAL(store_unwatch(s, dm, "dm"), 0);
	CU_ASSERT_EQUAL(store_unwatch(s, dm, "dm"), -1);
	store_write(s, "/local/domain/0/device-model/5/state", "y");
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e), "");
	store_close(s);
}

/* A callback that writes: its events come with the next dispatch. */
static void test_events_from_callbacks(void)
{
	struct store *s = store_mem_new();
	struct support_write_once c = {.s = s, .path = "/w/x", .value = "again"};

	store_watch(s, "/w", "t");
	CU_ASSERT_EQUAL(store_dispatch(s, support_store_write_once, &c), 1);
	CU_ASSERT_EQUAL(c.calls, 1);
	CU_ASSERT(support_store_readable(s, 0));
	CU_ASSERT_EQUAL(store_dispatch(s, support_store_write_once, &c), 1);
	CU_ASSERT_EQUAL(c.calls, 2);
	CU_ASSERT_EQUAL(store_dispatch(s, support_store_write_once, &c), 0);
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
