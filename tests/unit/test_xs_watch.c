/* The watch bookkeeping both stores share: path rules, matching, the
 * bounded queue, coalescing, and the checks that change nothing. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "toolstack/xenstore/watch.h"

void suite_xs_watch(void);

struct text {
	char s[1024];
};

static void collect(void *arg, const char *path, const char *token)
{
	struct text *t = arg;
	size_t n = strlen(t->s);
	snprintf(t->s + n, sizeof(t->s) - n, "%s|%s;", path, token);
}

static const char *deliver(struct xs_watches *w, struct text *t)
{
	t->s[0] = '\0';
	CU_ASSERT_EQUAL(xs_watches_clear_fd(w), 0);
	xs_watches_deliver(w, collect, t);
	return t->s;
}

static bool signalled(const struct xs_watches *w)
{
	struct pollfd p = {.fd = w->efd, .events = POLLIN};
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_paths(void)
{
	CU_ASSERT(xs_path_ok("/"));
	CU_ASSERT(xs_path_ok("/local/domain/0/device-model/3/state"));
	CU_ASSERT(xs_path_ok("/vm/00000000-0000-0000-0000-000000000001/rtc/timeoffset"));
	CU_ASSERT(xs_path_ok("/a/@b_c.d"));
	CU_ASSERT(!xs_path_ok(""));
	CU_ASSERT(!xs_path_ok("relative"));
	CU_ASSERT(!xs_path_ok("/a/"));
	CU_ASSERT(!xs_path_ok("/a//b"));
	CU_ASSERT(!xs_path_ok("/a b"));
	CU_ASSERT(!xs_path_ok("/a\nb"));
	char longest[STORE_MAX_PATH + 2];
	memset(longest, 'x', sizeof(longest));
	longest[0] = '/';
	longest[STORE_MAX_PATH] = '\0';
	CU_ASSERT(xs_path_ok(longest));
	longest[STORE_MAX_PATH] = 'x';
	longest[STORE_MAX_PATH + 1] = '\0';
	CU_ASSERT(!xs_path_ok(longest));

	CU_ASSERT(xs_path_under("/a/b", "/a"));
	CU_ASSERT(xs_path_under("/a", "/a"));
	CU_ASSERT(xs_path_under("/a", "/"));
	CU_ASSERT(!xs_path_under("/ab", "/a"));
	CU_ASSERT(!xs_path_under("/a", "/a/b"));
}

static void test_matching(void)
{
	struct xs_watches w;
	struct text t;

	CU_ASSERT_EQUAL_FATAL(xs_watches_init(&w, 4, 16, false), 0);
	CU_ASSERT(!signalled(&w));
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/d/5/command", "cmd"), 0);
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/d/5", "dm"), 0);
	CU_ASSERT(signalled(&w));
	CU_ASSERT_STRING_EQUAL(deliver(&w, &t), "/d/5/command|cmd;/d/5|dm;");
	CU_ASSERT(!signalled(&w));
	/* A change fires watches on it and above it with the changed path. */
	xs_watches_fire(&w, "/d/5/command", false);
	xs_watches_fire(&w, "/d/50", false);
	xs_watches_fire(&w, "/d/5/state", false);
	CU_ASSERT_STRING_EQUAL(deliver(&w, &t), "/d/5/command|cmd;/d/5/command|dm;/d/5/state|dm;");
	/* A removal also fires watches below it, with their own path. */
	xs_watches_fire(&w, "/d", true);
	CU_ASSERT_STRING_EQUAL(deliver(&w, &t), "/d/5/command|cmd;/d/5|dm;");
	/* Without coalescing, the same event twice is queued twice. */
	xs_watches_fire(&w, "/d/5/command", false);
	xs_watches_fire(&w, "/d/5/command", false);
	CU_ASSERT_EQUAL(w.n_events, 4);
	CU_ASSERT_EQUAL(xs_watches_remove(&w, "/d/5", "dm"), 0);
	CU_ASSERT_EQUAL(xs_watches_remove(&w, "/d/5", "dm"), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	xs_watches_fire(&w, "/d/5/state", false);
	CU_ASSERT_STRING_EQUAL(deliver(&w, &t),
	                       "/d/5/command|cmd;/d/5/command|dm;/d/5/command|cmd;/d/5/command|dm;");
	xs_watches_free(&w);
}

static void test_refusals_change_nothing(void)
{
	struct xs_watches w;
	struct text t;
	char token[STORE_MAX_PATH + 2];

	CU_ASSERT_EQUAL_FATAL(xs_watches_init(&w, 2, 16, false), 0);
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/a", ""), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	memset(token, 't', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/a", token), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	token[STORE_MAX_PATH] = '\0';
	CU_ASSERT_EQUAL(xs_watches_check(&w, "/a", token), 0);
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/a", "t"), 0);
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/a", "t"), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/a", "u"), 0);
	CU_ASSERT_EQUAL(xs_watches_check(&w, "/b", "t"), -1);
	CU_ASSERT_EQUAL(errno, ENOSPC);
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/b", "t"), -1);
	CU_ASSERT_EQUAL(errno, ENOSPC);
	/* Only the two accepted watches, each with its initial event. */
	CU_ASSERT_EQUAL(w.n_watches, 2);
	CU_ASSERT_STRING_EQUAL(deliver(&w, &t), "/a|t;/a|u;");
	xs_watches_free(&w);
}

static void test_bound_and_coalescing(void)
{
	struct xs_watches w;
	struct text t;

	/* Bounded: further events are dropped, the oldest kept. */
	CU_ASSERT_EQUAL_FATAL(xs_watches_init(&w, 4, 3, false), 0);
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/w", "t"), 0);
	xs_watches_fire(&w, "/w/1", false);
	xs_watches_fire(&w, "/w/2", false);
	xs_watches_fire(&w, "/w/3", false);
	CU_ASSERT_EQUAL(w.n_events, 3);
	CU_ASSERT_STRING_EQUAL(deliver(&w, &t), "/w|t;/w/1|t;/w/2|t;");
	xs_watches_free(&w);

	/* Coalescing: one pending event per (path, token). */
	CU_ASSERT_EQUAL_FATAL(xs_watches_init(&w, 4, 16, true), 0);
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/w", "t"), 0);
	CU_ASSERT_EQUAL(xs_watches_add(&w, "/w", "u"), 0);
	xs_watches_fire(&w, "/w", true);
	xs_watches_fire(&w, "/w/x", false);
	xs_watches_fire(&w, "/w/x", false);
	CU_ASSERT_STRING_EQUAL(deliver(&w, &t), "/w|t;/w|u;/w/x|t;/w/x|u;");
	/* Once delivered, the same event is queued again. */
	xs_watches_fire(&w, "/w/x", false);
	CU_ASSERT_STRING_EQUAL(deliver(&w, &t), "/w/x|t;/w/x|u;");
	/* Pending events are freed with the set. */
	xs_watches_fire(&w, "/w/y", false);
	xs_watches_free(&w);
	CU_ASSERT_EQUAL(w.efd, -1);
	CU_ASSERT_EQUAL(w.n_events, 0);
}

void suite_xs_watch(void)
{
	CU_pSuite s = CU_add_suite("xs_watch", NULL, NULL);
	CU_add_test(s, "xenstored path rules and the subtree relation", test_paths);
	CU_add_test(s, "matching: changes, removals, unwatch", test_matching);
	CU_add_test(s, "refused watches change nothing", test_refusals_change_nothing);
	CU_add_test(s, "bounded queue, coalescing of pending events", test_bound_and_coalescing);
}
