/* The directory-tree store: node layout on disk, xenstored's watch semantics,
 * and changes made by another opener of the same tree. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/support.h"
#include "toolstack/xenstore/store_dir.h"

void suite_xs_store_dir(void);

static void test_nodes_on_disk(void)
{
	char dir[64], root[128], b[64], file[256];
	if (support_tmpdir(dir, sizeof(dir)) < 0) {
		CU_FAIL("tmpdir");
		return;
	}
	snprintf(root, sizeof(root), "%s/xs", dir);
	char err[256] = "";
	struct store *s = store_dir_open(root, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct stat st;
	CU_ASSERT_EQUAL(stat(root, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);

	CU_ASSERT_STRING_EQUAL(support_store_val(s, "/a", b, sizeof(b)), "<ENOENT>");
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/3/state", "running"), 0);
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(s, "/local/domain/0/device-model/3/state", b, sizeof(b)),
	        "running");
	CU_ASSERT_STRING_EQUAL(support_store_val(s, "/local/domain/0/device-model/3", b, sizeof(b)),
	                       "");
	/* The value is a plain file in the node's directory, mode 0600. */
	snprintf(file, sizeof(file), "%s/local/domain/0/device-model/3/state/.value", root);
	FILE *f = fopen(file, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL(fgets(b, sizeof(b), f));
	fclose(f);
	CU_ASSERT_STRING_EQUAL(b, "running");
	CU_ASSERT_EQUAL(stat(file, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/3/state", ""), 0);
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(s, "/local/domain/0/device-model/3/state", b, sizeof(b)), "");
	/* rm takes the subtree; a sibling with the same prefix stays. */
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/3/rtc/timeoffset", "-3600"),
	                0);
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/30", "x"), 0);
	CU_ASSERT_EQUAL(store_rm(s, "/local/domain/0/device-model/3"), 0);
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(s, "/local/domain/0/device-model/3/rtc/timeoffset", b, sizeof(b)),
	        "<ENOENT>");
	CU_ASSERT_STRING_EQUAL(
	        support_store_val(s, "/local/domain/0/device-model/30", b, sizeof(b)), "x");
	CU_ASSERT_EQUAL(store_rm(s, "/not/there"), 0);
	/* Bad paths, and the store's own name space. */
	CU_ASSERT_EQUAL(store_write(s, "relative", "v"), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(store_write(s, "/a/../b", "v"), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(store_write(s, "/a/.value", "v"), -1);
	CU_ASSERT_EQUAL(store_write(s, "/a//b", "v"), -1);
	CU_ASSERT_EQUAL(store_write(s, "/a b", "v"), -1);
	CU_ASSERT_STRING_EQUAL(support_store_val(s, "/..", b, sizeof(b)), "<EINVAL>");
	CU_ASSERT_EQUAL(store_rm(s, "/"), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	/* A value of the largest size; one byte more is refused. */
	char *big = malloc(STORE_MAX_VALUE + 2);
	memset(big, 'v', STORE_MAX_VALUE + 1);
	big[STORE_MAX_VALUE + 1] = '\0';
	CU_ASSERT_EQUAL(store_write(s, "/big", big), -1);
	big[STORE_MAX_VALUE] = '\0';
	CU_ASSERT_EQUAL(store_write(s, "/big", big), 0);
	char *back = store_read(s, "/big");
	CU_ASSERT_PTR_NOT_NULL(back);
	CU_ASSERT_EQUAL(back ? strlen(back) : 0, STORE_MAX_VALUE);
	free(back);
	free(big);
	store_close(s);

	/* Opening a regular file as the root is refused with the reason. */
	snprintf(file, sizeof(file), "%s/plain", dir);
	f = fopen(file, "w");
	if (f)
		fclose(f);
	CU_ASSERT_PTR_NULL(store_dir_open(file, err, sizeof(err)));
	char want[512];
	snprintf(want, sizeof(want), "simulated xenstore '%s': not a directory", file);
	CU_ASSERT_STRING_EQUAL(err, want);
	support_rmtree(dir);
}

static void test_watches(void)
{
	char dir[64], b[64];
	char err[256] = "";
	struct support_events e;
	if (support_tmpdir(dir, sizeof(dir)) < 0) {
		CU_FAIL("tmpdir");
		return;
	}
	struct store *s = store_dir_open(dir, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	const char *cmd = "/local/domain/0/device-model/5/command";

	CU_ASSERT(!support_store_readable(s, 0));
	CU_ASSERT_EQUAL(store_watch(s, cmd, "cmd"), 0);
	CU_ASSERT(support_store_readable(s, 0));
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e),
	                       "/local/domain/0/device-model/5/command|cmd;");
	CU_ASSERT(!support_store_readable(s, 0));
	CU_ASSERT_EQUAL(store_watch(s, cmd, "cmd"), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);

	/* A write of the node (its parents created on the way) fires once. */
	CU_ASSERT_EQUAL(store_write(s, cmd, "save"), 0);
	CU_ASSERT(support_store_readable(s, 1000));
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e),
	                       "/local/domain/0/device-model/5/command|cmd;");
	/* Elsewhere: nothing. */
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/6/command", "save"), 0);
	CU_ASSERT_EQUAL(store_write(s, "/local/domain/0/device-model/5/state", "x"), 0);
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e), "");
	/* Removal fires, then nothing more. */
	CU_ASSERT_EQUAL(store_rm(s, cmd), 0);
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e),
	                       "/local/domain/0/device-model/5/command|cmd;");
	CU_ASSERT_STRING_EQUAL(support_store_val(s, cmd, b, sizeof(b)), "<ENOENT>");
	/* Removing an ancestor fires the watch below with its own path. */
	CU_ASSERT_EQUAL(store_write(s, cmd, "continue"), 0);
	support_store_drain(s, &e);
	CU_ASSERT_EQUAL(store_rm(s, "/local/domain/0/device-model/5"), 0);
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e),
	                       "/local/domain/0/device-model/5/command|cmd;");
	CU_ASSERT_EQUAL(store_unwatch(s, cmd, "cmd"), 0);
	CU_ASSERT_EQUAL(store_unwatch(s, cmd, "cmd"), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_EQUAL(store_write(s, cmd, "save"), 0);
	CU_ASSERT_STRING_EQUAL(support_store_drain(s, &e), "");
	store_close(s);
	support_rmtree(dir);
}

/* Two openers of one tree: what one writes, the other reads and is told of. */
static void test_two_openers(void)
{
	char dir[64], b[64];
	char err[256] = "";
	struct support_events e;
	if (support_tmpdir(dir, sizeof(dir)) < 0) {
		CU_FAIL("tmpdir");
		return;
	}
	struct store *dm = store_dir_open(dir, err, sizeof(err));
	struct store *tool = store_dir_open(dir, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(dm);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tool);
	const char *set = "/local/domain/0/device-model/9/rtc/settimeoffset";
	const char *state = "/local/domain/0/device-model/9/state";

	CU_ASSERT_EQUAL(store_watch(dm, set, "set"), 0);
	CU_ASSERT_EQUAL(store_watch(tool, state, "state"), 0);
	support_store_drain(dm, &e);
	support_store_drain(tool, &e);
	/* Directories created on the way fire nothing; the value does. */
	CU_ASSERT_EQUAL(store_write(tool, set, "3600"), 0);
	CU_ASSERT(support_store_readable(dm, 2000));
	CU_ASSERT_STRING_EQUAL(support_store_drain(dm, &e),
	                       "/local/domain/0/device-model/9/rtc/settimeoffset|set;");
	CU_ASSERT_STRING_EQUAL(support_store_val(dm, set, b, sizeof(b)), "3600");
	CU_ASSERT_EQUAL(store_rm(dm, set), 0);
	CU_ASSERT_STRING_EQUAL(support_store_val(tool, set, b, sizeof(b)), "<ENOENT>");
	/* The other way round. */
	CU_ASSERT_EQUAL(store_write(dm, state, "running"), 0);
	CU_ASSERT(support_store_readable(tool, 2000));
	CU_ASSERT_STRING_EQUAL(support_store_drain(tool, &e),
	                       "/local/domain/0/device-model/9/state|state;");
	CU_ASSERT_STRING_EQUAL(support_store_val(tool, state, b, sizeof(b)), "running");
	/* A second value replaces the first and fires again. */
	CU_ASSERT_EQUAL(store_write(tool, set, "-60"), 0);
	CU_ASSERT(support_store_readable(dm, 2000));
	CU_ASSERT_STRING_EQUAL(support_store_drain(dm, &e),
	                       "/local/domain/0/device-model/9/rtc/settimeoffset|set;");
	CU_ASSERT_STRING_EQUAL(support_store_val(dm, set, b, sizeof(b)), "-60");
	store_close(tool);
	store_close(dm);
	support_rmtree(dir);
}

/*
 * A node appears with its value: while a toolstack writes a fresh
 * settimeoffset again and again, the device model reading and removing it
 * (its acknowledgement) never sees the node empty, and no write fails.
 */
static void test_new_node_never_empty(void)
{
	char dir[64];
	char err[256] = "";
	const char *set = "/local/domain/0/device-model/9/rtc/settimeoffset";
	enum { WRITES = 2000 };

	if (support_tmpdir(dir, sizeof(dir)) < 0) {
		CU_FAIL("tmpdir");
		return;
	}
	struct store *dm = store_dir_open(dir, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(dm);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct store *tool = store_dir_open(dir, err, sizeof(err));
		int failed = 0;
		for (int i = 0; tool && i < WRITES; i++)
			if (store_write(tool, set, "3600") < 0)
				failed++;
		_exit(!tool ? 100 : failed > 99 ? 99 : failed);
	}
	int status = 0, empties = 0, values = 0;
	for (;;) {
		char *v = store_read(dm, set);
		if (v) {
			if (v[0] == '\0')
				empties++;
			else if (strcmp(v, "3600") == 0 && store_rm(dm, set) == 0)
				values++;
			free(v);
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	CU_ASSERT_TRUE(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0); /* writes that failed */
	CU_ASSERT_EQUAL(empties, 0);
	CU_ASSERT_TRUE(values > 0);
	store_close(dm);
	support_rmtree(dir);
}

/* A callback that writes: its events come with the next dispatch. */
static void test_events_from_callbacks(void)
{
	char dir[64], err[256] = "";
	if (support_tmpdir(dir, sizeof(dir)) < 0) {
		CU_FAIL("tmpdir");
		return;
	}
	struct store *s = store_dir_open(dir, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct support_write_once c = {.s = s, .path = "/w/x", .value = "again"};

	store_watch(s, "/w", "t");
	CU_ASSERT_EQUAL(store_dispatch(s, support_store_write_once, &c), 1);
	CU_ASSERT_EQUAL(c.calls, 1);
	CU_ASSERT(support_store_readable(s, 1000));
	CU_ASSERT_EQUAL(store_dispatch(s, support_store_write_once, &c), 1);
	CU_ASSERT_EQUAL(c.calls, 2);
	CU_ASSERT_EQUAL(store_dispatch(s, support_store_write_once, &c), 0);
	store_close(s);
	support_rmtree(dir);
}

void suite_xs_store_dir(void)
{
	CU_pSuite s = CU_add_suite("xs_store_dir", NULL, NULL);
	CU_add_test(s, "nodes as directories with a .value file", test_nodes_on_disk);
	CU_add_test(s, "watches: initial event, write, rm, ancestor rm, unwatch", test_watches);
	CU_add_test(s, "two openers of one tree see each other's changes", test_two_openers);
	CU_add_test(s, "a new node appears with its value, never empty", test_new_node_never_empty);
	CU_add_test(s, "events caused by callbacks come with the next dispatch",
	            test_events_from_callbacks);
}
