/* scripts/check-layers (part of make lint) on a copy of the source tree:
 * the tree as it is passes; an include planted against the direction
 * rtc <- saverestore <- toolstack <- platform <- dm fails with the file, the
 * line and the include named. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/support/support.h"

void suite_layers(void);

/* Run the checker on root; its output (stdout and stderr) into out.
 * Returns its exit status, or -1. */
static int check(const char *root, char *out, size_t len)
{
	char cmd[512];
	size_t got = 0;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "sh scripts/check-layers '%s' 2>&1", root);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	got = fread(out, 1, len - 1, f);
	out[got] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void plant(const char *tmp, const char *file, const char *include, int want_status,
                  const char *want_line)
{
	char out[2048];

	char cmd[1024];

	/* A fresh copy of the layers, one include appended to one file. */
	snprintf(cmd, sizeof(cmd),
	         "rm -rf '%s/t' && mkdir '%s/t' && "
	         "cp -r rtc base saverestore toolstack platform dm tools '%s/t/' && "
	         "printf '#include \"%s\"\\n' >> '%s/t/%s'",
	         tmp, tmp, tmp, include, tmp, file);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	char root[300];
	snprintf(root, sizeof(root), "%s/t", tmp);
	CU_ASSERT_EQUAL(check(root, out, sizeof(out)), want_status);
	if (want_line) {
		CU_ASSERT_PTR_NOT_NULL(strstr(out, want_line));
	} else {
		CU_ASSERT_STRING_EQUAL(out, "");
	}
}

static void test_tree_and_plants(void)
{
	char tmp[256], out[2048];

	CU_ASSERT_EQUAL_FATAL(support_tmpdir(tmp, sizeof(tmp)), 0);
	/* The real tree is clean. */
	CU_ASSERT_EQUAL(check(".", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	/* Upwards: the pure model may not see the process. */
	plant(tmp, "rtc/rtc.c", "dm/cli.h", 1,
	      "layers: rtc/rtc.c:");
	plant(tmp, "rtc/rtc.c", "dm/cli.h", 1,
	      "includes \"dm/cli.h\", which its layer must not use (see docs/design.md, Layers)\n");
	/* The save format may not see the toolstack, nor the toolstack a platform. */
	plant(tmp, "saverestore/codec.c", "toolstack/offset.h", 1, "saverestore/codec.c:");
	plant(tmp, "toolstack/offset.c", "platform/platform.h", 1, "toolstack/offset.c:");
	/* A platform may not see the process, nor another platform. */
	plant(tmp, "platform/platform.h", "dm/cli.h", 1, "platform/platform.h:");
	plant(tmp, "platform/sim/hv.c", "platform/xen/ioreq.h", 1, "platform/sim/hv.c:");
	plant(tmp, "platform/xen/ioreq.c", "platform/sim/hv.h", 1, "platform/xen/ioreq.c:");
	/* Downwards is fine, and tools may use anything. */
	plant(tmp, "dm/cli.c", "platform/sim/qtest.h", 0, NULL);
	plant(tmp, "platform/sim/hv.c", "toolstack/offset.h", 0, NULL);
	plant(tmp, "tools/rtcdm-ctx/main.c", "dm/cli.h", 0, NULL);
	support_rmtree(tmp);
}

void suite_layers(void)
{
	CU_pSuite s = CU_add_suite("layers (make lint: include direction)", NULL, NULL);
	CU_add_test(s, "the tree passes, a planted include fails", test_tree_and_plants);
}
