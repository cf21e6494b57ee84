/* dm/qemu_child.c's argument list, dm/cli.c's own-option recogniser and the
 * QMP client's framing (toolstack/qmp/client.c). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm/cli.h"
#include "dm/qemu_child.h"
#include "toolstack/qmp/client.h"

void suite_dm_qemu_argv(void);

static void test_own_words(void)
{
	static const struct {
		const char *arg, *next;
		int words;
		bool own;
	} cases[] = {
		{"--time-offset", "5", 2, true}, {"--time-offset=5", "-m", 1, true},
		{"--companion", "-m", 1, true}, {"--rtc-only", "-m", 1, true}, {"--qemu", "/q", 2, true},
		{"-v", "-m", 1, true}, {"-q", NULL, 1, true},
		/* QEMU's, with and without a value, also spelled with two dashes */
		{"-xen-domid", "3", 2, false}, {"--xen-domid", "3", 2, false}, {"-S", "-m", 1, false},
		/* a value that looks like one of ours stays QEMU's */
		{"-append", "-v", 2, false},
		/* unknown: the next word is its value unless it starts with '-' */
		{"-time-offset", "5", 2, false}, {"--time-offsetX", "-m", 1, false},
		{"1024", NULL, 1, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool own = !cases[i].own;

		CU_ASSERT_EQUAL(dm_cli_option_words(cases[i].arg, cases[i].next, &own), cases[i].words);
		CU_ASSERT_EQUAL(own, cases[i].own);
	}
}

static void check_argv(const struct dm_qemu_argv *a, const char *const *want, size_t n)
{
	CU_ASSERT_EQUAL(a->argc, n);
	for (size_t i = 0; i < a->argc && i < n; i++)
		CU_ASSERT_STRING_EQUAL(a->argv[i], want[i]);
	CU_ASSERT_PTR_NULL(a->argv[a->argc]);
}

static void test_argv(void)
{
	char *const argv[] = {"rtcdm", "--companion", "-xen-domid", "3", "--qemu", "/q",
	                      "-m", "512", "--state-dir=/s", "-v", "-S", "--restore", "/r",
	                      "-append", "-v", "--index-wait-us", "50", NULL};
	static const char *const want[] = {
		"/usr/bin/qemu", "-xen-domid", "3", "-m", "512", "-S", "-append", "-v", "-chardev",
		"socket,id=rtcdm-qmp,fd=9,server=on,wait=off", "-mon",
		"chardev=rtcdm-qmp,mode=control"};
	struct dm_qemu_argv a;

	CU_ASSERT_EQUAL_FATAL(dm_qemu_argv_build(&a, "/usr/bin/qemu", 17, argv, 9, -1, false, NULL, 0),
	                      0);
	check_argv(&a, want, sizeof(want) / sizeof(want[0]));
	dm_qemu_argv_free(&a);
	/* nothing but the program; the memory file for QEMU's device state
	 * as fdset 127 */
	CU_ASSERT_EQUAL_FATAL(dm_qemu_argv_build(&a, "/q", 1, argv, 4, 6, false, NULL, 0), 0);
	CU_ASSERT_EQUAL(a.argc, 7);
	CU_ASSERT_STRING_EQUAL(a.argv[2], "socket,id=rtcdm-qmp,fd=4,server=on,wait=off");
	CU_ASSERT_STRING_EQUAL(a.argv[5], "-add-fd");
	CU_ASSERT_STRING_EQUAL(a.argv[6], "fd=6,set=127");
	CU_ASSERT_PTR_NULL(a.argv[7]);
	dm_qemu_argv_free(&a);
	/* held: -S last, after rtcdm's own words */
	CU_ASSERT_EQUAL_FATAL(dm_qemu_argv_build(&a, "/q", 1, argv, 4, 6, true, NULL, 0), 0);
	CU_ASSERT_EQUAL(a.argc, 8);
	CU_ASSERT_STRING_EQUAL(a.argv[6], "fd=6,set=127");
	CU_ASSERT_STRING_EQUAL(a.argv[7], "-S");
	CU_ASSERT_PTR_NULL(a.argv[8]);
	dm_qemu_argv_free(&a);
}

/* libxl's monitors go to QEMU on rtcdm's sockets; other chardevs as given. */
static void test_argv_swaps(void)
{
	char *const argv[] = {"rtcdm",
	                      "-chardev", "socket,id=libxl-cmd,path=/run/xen/qmp-libxl-3,server=on,wait=off",
	                      "-mon", "chardev=libxl-cmd,mode=control",
	                      "-chardev", "socket,path=/x,id=libxenstat-cmd,server=on",
	                      "-chardev", "pty,id=serial0",
	                      "-chardev", "socket,id=libxl-cmd2,path=/y", NULL};
	const struct dm_qemu_swap swaps[] = {
		{"libxl-cmd", "socket,id=libxl-cmd,fd=11,server=on,wait=off"},
		{"libxenstat-cmd", "socket,id=libxenstat-cmd,fd=12,server=on,wait=off"}};
	static const char *const want[] = {
		"/q", "-chardev", "socket,id=libxl-cmd,fd=11,server=on,wait=off",
		"-mon", "chardev=libxl-cmd,mode=control",
		"-chardev", "socket,id=libxenstat-cmd,fd=12,server=on,wait=off",
		"-chardev", "pty,id=serial0",
		"-chardev", "socket,id=libxl-cmd2,path=/y",
		"-chardev", "socket,id=rtcdm-qmp,fd=10,server=on,wait=off", "-mon",
		"chardev=rtcdm-qmp,mode=control"};
	struct dm_qemu_argv a;

	CU_ASSERT_EQUAL_FATAL(dm_qemu_argv_build(&a, "/q", 11, argv, 10, -1, false, swaps, 2), 0);
	check_argv(&a, want, sizeof(want) / sizeof(want[0]));
	dm_qemu_argv_free(&a);
}

static void test_client_framing(void)
{
	static const char in[] = "{\"QMP\": {\"version\": {}}}\r\n\r\n{\"return\": {}, \"id\": 1}\r\n{\"ev";
	struct qmp_client c;
	struct json_object *m;
	char err[128];
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	qmp_client_init(&c, sv[0]);
	CU_ASSERT_EQUAL(write(sv[1], in, strlen(in)), (ssize_t)strlen(in));
	CU_ASSERT_EQUAL(qmp_client_fill(&c), 1);
	m = qmp_client_next(&c, err, sizeof(err));
	CU_ASSERT_TRUE(m && json_object_object_get_ex(m, "QMP", NULL));
	json_object_put(m);
	m = qmp_client_next(&c, err, sizeof(err));
	CU_ASSERT_TRUE(m && json_object_get_int(json_object_object_get(m, "id")) == 1);
	json_object_put(m);
	/* the rest is incomplete */
	CU_ASSERT_PTR_NULL(qmp_client_next(&c, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(c.len, 4);
	CU_ASSERT_EQUAL(write(sv[1], "ent\": \"STOP\"}\r\n[1]\r\n", 20), 20);
	CU_ASSERT_EQUAL(qmp_client_fill(&c), 1);
	m = qmp_client_next(&c, err, sizeof(err));
	CU_ASSERT_STRING_EQUAL(m ? json_object_get_string(json_object_object_get(m, "event")) : "",
	                       "STOP");
	json_object_put(m);
	/* not an object */
	CU_ASSERT_PTR_NULL(qmp_client_next(&c, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "QMP message is not a JSON object: [1]");
	/* send writes the command as it is, no line end (QEMU reads its
	 * monitors a byte at a time) */
	CU_ASSERT_EQUAL(qmp_client_send(&c, "{\"execute\":\"stop\"}"), 0);
	char out[64] = "";
	CU_ASSERT_EQUAL(read(sv[1], out, sizeof(out) - 1), 18);
	CU_ASSERT_STRING_EQUAL(out, "{\"execute\":\"stop\"}");
	close(sv[1]);
	CU_ASSERT_EQUAL(qmp_client_fill(&c), 0);
	close(sv[0]);
}

static void test_client_overlong(void)
{
	struct qmp_client c;
	char err[128], chunk[4096];
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	fcntl(sv[1], F_SETFL, 0);
	qmp_client_init(&c, sv[0]);
	memset(chunk, 'x', sizeof(chunk));
	for (size_t sent = 0; sent < QMP_CLIENT_MAX_LINE;) {
		CU_ASSERT_EQUAL_FATAL(write(sv[1], chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
		sent += sizeof(chunk);
		CU_ASSERT_EQUAL(qmp_client_fill(&c), 1);
	}
	CU_ASSERT_EQUAL(c.len, QMP_CLIENT_MAX_LINE);
	CU_ASSERT_PTR_NULL(qmp_client_next(&c, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "QMP message longer than 65536 bytes");
	for (int i = 0; i < 2; i++)
		close(sv[i]);
}

void suite_dm_qemu_argv(void)
{
	CU_pSuite s = CU_add_suite("companion: QEMU's argv, QMP client", NULL, NULL);

	CU_add_test(s, "rtcdm's own options are recognised", test_own_words);
	CU_add_test(s, "argv: libxl's words, ours removed, monitor added", test_argv);
	CU_add_test(s, "argv: libxl's monitors on rtcdm's sockets", test_argv_swaps);
	CU_add_test(s, "QMP client: lines, partial, not an object, send", test_client_framing);
	CU_add_test(s, "QMP client: overlong message", test_client_overlong);
}
