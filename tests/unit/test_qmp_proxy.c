/* toolstack/qmp/proxy.c in one process: the test is libxl on one side and
 * QEMU on the other, the loop is pumped by hand. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop.h"
#include "tests/support/support.h"
#include "toolstack/qmp/proxy.h"

void suite_qmp_proxy(void);

struct rig {
	char dir[64];
	char libxl_path[128], qemu_path[128];
	struct dm_log log;
	struct dm_loop loop;
	struct qmp_proxy *p;
	int qemu_listen; /* the test as QEMU */
	int client;      /* the test as libxl */
	int qemu;        /* QEMU's end of the relayed connection */
	/* hook state */
	char commands[256];
	char replies[256];
	const char *fail; /* reply hook refuses with this */
	const char *answer; /* reply hook answers with this object instead */
	bool hold;          /* command hook holds the save */
	char buf[4096];
};

static enum qmp_proxy_verdict hook_command(void *opaque, const char *name,
                                           struct json_object *args)
{
	struct rig *r = opaque;
	size_t n = strlen(r->commands);

	(void)args;
	snprintf(r->commands + n, sizeof(r->commands) - n, "%s;", name);
	if (r->hold && strcmp(name, "xen-save-devices-state") == 0)
		return QMP_PROXY_HOLD;
	return strcmp(name, "xen-save-devices-state") == 0 || strncmp(name, "rtcdm-", 6) == 0
	           ? QMP_PROXY_AFTER
	           : QMP_PROXY_PASS;
}

static int hook_reply(void *opaque, struct qmp_proxy *p, const char *name,
                      struct json_object *args, struct json_object *reply,
                      struct json_object **answer, char *err, size_t errlen)
{
	struct rig *r = opaque;
	size_t n = strlen(r->replies);

	(void)p;
	snprintf(r->replies + n, sizeof(r->replies) - n, "%s %s %s;", name,
	         json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	         json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
	if (r->fail) {
		snprintf(err, errlen, "%s", r->fail);
		return -1;
	}
	if (r->answer) {
		*answer = json_tokener_parse(r->answer);
		return 1;
	}
	return 0;
}

static void pump(struct rig *r)
{
	for (int i = 0; i < 8; i++)
		dm_loop_once(&r->loop, 10);
}

/* Exactly what is readable on fd now (after pumping). */
static const char *drain(struct rig *r, int fd, char *buf, size_t len)
{
	size_t got = 0;

	pump(r);
	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (got + 1 >= len || poll(&pf, 1, 50) != 1)
			break;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		pump(r);
	}
	buf[got] = '\0';
	return buf;
}

static int rig_setup(struct rig *r)
{
	struct qmp_proxy_hooks hooks;
	char err[256];
	int lfd;

	memset(r, 0, sizeof(*r));
	hooks = (struct qmp_proxy_hooks){hook_command, hook_reply, r};
	if (support_tmpdir(r->dir, sizeof(r->dir)) < 0)
		return -1;
	snprintf(r->libxl_path, sizeof(r->libxl_path), "%s/libxl", r->dir);
	snprintf(r->qemu_path, sizeof(r->qemu_path), "%s/qemu", r->dir);
	dm_log_init(&r->log, open("/dev/null", O_WRONLY | O_CLOEXEC));
	if (dm_loop_init(&r->loop, &r->log) < 0)
		return -1;
	r->p = qmp_proxy_new(&r->loop, &r->log, &hooks);
	r->qemu_listen = support_unix_listen(r->qemu_path, 4);
	lfd = support_unix_listen(r->libxl_path, 4);
	if (!r->p || r->qemu_listen < 0 || lfd < 0 ||
	    qmp_proxy_add_link(r->p, "libxl-cmd", lfd, r->qemu_path, err, sizeof(err)) < 0)
		return -1;
	r->client = support_unix_connect(r->libxl_path);
	pump(r);
	r->qemu = accept4(r->qemu_listen, NULL, NULL, SOCK_CLOEXEC);
	return r->client >= 0 && r->qemu >= 0 ? 0 : -1;
}

static void rig_cleanup(struct rig *r)
{
	close(r->client);
	close(r->qemu);
	close(r->qemu_listen);
	qmp_proxy_free(r->p);
	dm_loop_fini(&r->loop);
	close(r->log.fd);
	support_rmtree(r->dir);
}

static void say(int fd, const char *s)
{
	CU_ASSERT_EQUAL(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_bytes_unchanged(void)
{
	static const char greeting[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
		"\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";
	struct rig r;

	CU_ASSERT_EQUAL_FATAL(rig_setup(&r), 0);
	CU_ASSERT_EQUAL(qmp_proxy_conns(r.p), 1);
	say(r.qemu, greeting);
	CU_ASSERT_STRING_EQUAL(drain(&r, r.client, r.buf, sizeof(r.buf)), greeting);
	/* a command split over two writes, no line end, an id of any kind */
	say(r.client, "{\"execute\": \"qmp_capa");
	pump(&r);
	say(r.client, "bilities\", \"id\": {\"x\": [1]}}{\"execute\":\"query-status\",\"id\":\"s\"}");
	CU_ASSERT_STRING_EQUAL(drain(&r, r.qemu, r.buf, sizeof(r.buf)),
	                       "{\"execute\": \"qmp_capabilities\", \"id\": {\"x\": [1]}}"
	                       "{\"execute\":\"query-status\",\"id\":\"s\"}");
	CU_ASSERT_STRING_EQUAL(r.commands, "qmp_capabilities;query-status;");
	/* replies and an event in between, byte for byte */
	say(r.qemu, "{\"return\": {}, \"id\": {\"x\": [1]}}\r\n{\"timestamp\": {\"seconds\": 1, "
	            "\"microseconds\": 2}, \"event\": \"STOP\"}\r\n{\"return\": {\"status\": "
	            "\"paused\", \"singlestep\": false, \"running\": false}, \"id\": \"s\"}\r\n");
	CU_ASSERT_STRING_EQUAL(drain(&r, r.client, r.buf, sizeof(r.buf)),
	                       "{\"return\": {}, \"id\": {\"x\": [1]}}\r\n{\"timestamp\": {\"seconds\": 1, "
	                       "\"microseconds\": 2}, \"event\": \"STOP\"}\r\n{\"return\": {\"status\": "
	                       "\"paused\", \"singlestep\": false, \"running\": false}, \"id\": \"s\"}\r\n");
	CU_ASSERT_STRING_EQUAL(r.replies, "");
	/* QEMU leaves: the client is closed too */
	close(r.qemu);
	r.qemu = -1;
	pump(&r);
	CU_ASSERT_EQUAL(read(r.client, r.buf, sizeof(r.buf)), 0);
	CU_ASSERT_EQUAL(qmp_proxy_conns(r.p), 0);
	rig_cleanup(&r);
}

/* libxl's save command. */
static const char save[] =
	"{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"/dev/fdset/1\","
	"\"live\":false},\"id\":5}";

static void test_hook_sees_and_replaces_reply(void)
{
	struct rig r;

	CU_ASSERT_EQUAL_FATAL(rig_setup(&r), 0);
	say(r.client, save);
	CU_ASSERT_STRING_EQUAL(drain(&r, r.qemu, r.buf, sizeof(r.buf)), save);
	/* an event before the reply passes; the reply goes through the hook */
	say(r.qemu, "{\"event\": \"X\"}\r\n{\"return\": {}, \"id\": 5}\r\n");
	CU_ASSERT_STRING_EQUAL(drain(&r, r.client, r.buf, sizeof(r.buf)),
	                       "{\"event\": \"X\"}\r\n{\"return\": {}, \"id\": 5}\r\n");
	CU_ASSERT_STRING_EQUAL(r.replies, "xen-save-devices-state "
	                                  "{\"filename\":\"/dev/fdset/1\",\"live\":false} "
	                                  "{\"return\":{},\"id\":5};");
	/* the hook refuses: the client gets an error with the command's id */
	r.fail = "cannot append rtcdm's part: No space left on device";
	say(r.client, save);
	drain(&r, r.qemu, r.buf, sizeof(r.buf));
	say(r.qemu, "{\"return\": {}, \"id\": 5}\r\n");
	CU_ASSERT_STRING_EQUAL(drain(&r, r.client, r.buf, sizeof(r.buf)),
	                       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"cannot append "
	                       "rtcdm's part: No space left on device\"}, \"id\": 5}\r\n");
	rig_cleanup(&r);
}

/* A command of rtcdm's own goes to QEMU like any other (so replies keep
 * their order); QEMU's CommandNotFound is replaced by the hook's answer,
 * with the command's id, and a reply before it is relayed as it is. */
static void test_hook_answers_own_command(void)
{
	struct rig r;
	const char *cmds = "{\"execute\":\"query-status\",\"id\":1}"
	                   "{\"execute\":\"rtcdm-query-time-offset\",\"id\":\"t\"}";

	CU_ASSERT_EQUAL_FATAL(rig_setup(&r), 0);
	r.answer = "{\"return\":{\"seconds\":-3600,\"phase-ns\":0,\"set\":true}}";
	say(r.client, cmds);
	CU_ASSERT_STRING_EQUAL(drain(&r, r.qemu, r.buf, sizeof(r.buf)), cmds);
	say(r.qemu, "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 1}\r\n"
	            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
	            "rtcdm-query-time-offset has not been found\"}, \"id\": \"t\"}\r\n");
	CU_ASSERT_STRING_EQUAL(drain(&r, r.client, r.buf, sizeof(r.buf)),
	                       "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 1}\r\n"
	                       "{\"return\":{\"seconds\":-3600,\"phase-ns\":0,\"set\":true},"
	                       "\"id\":\"t\"}\r\n");
	CU_ASSERT_STRING_EQUAL(r.commands, "query-status;rtcdm-query-time-offset;");
	rig_cleanup(&r);
}

/* A held command reaches QEMU only at qmp_proxy_release(), with what the
 * client sent after it; its reply still goes through the hook. */
static void test_hold_until_release(void)
{
	struct rig r;

	CU_ASSERT_EQUAL_FATAL(rig_setup(&r), 0);
	r.hold = true;
	say(r.client, save);
	say(r.client, "{\"execute\":\"query-status\",\"id\":6}");
	CU_ASSERT_STRING_EQUAL(drain(&r, r.qemu, r.buf, sizeof(r.buf)), "");
	CU_ASSERT_STRING_EQUAL(r.commands, "xen-save-devices-state;query-status;");
	qmp_proxy_release(r.p);
	pump(&r);
	CU_ASSERT_STRING_EQUAL(drain(&r, r.qemu, r.buf, sizeof(r.buf)),
	                       "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":"
	                       "\"/dev/fdset/1\",\"live\":false},\"id\":5}"
	                       "{\"execute\":\"query-status\",\"id\":6}");
	say(r.qemu, "{\"return\": {}, \"id\": 5}\r\n");
	drain(&r, r.client, r.buf, sizeof(r.buf));
	CU_ASSERT_STRING_EQUAL(r.replies, "xen-save-devices-state "
	                                  "{\"filename\":\"/dev/fdset/1\",\"live\":false} "
	                                  "{\"return\":{},\"id\":5};");
	/* nothing held: a release changes nothing */
	qmp_proxy_release(r.p);
	CU_ASSERT_STRING_EQUAL(drain(&r, r.qemu, r.buf, sizeof(r.buf)), "");
	rig_cleanup(&r);
}

/* Replies are matched to commands by id: input QEMU cannot parse (answered
 * without an id) and a command answered out of the hook's sight do not make
 * the hook see the wrong reply. */
static void test_reply_matching(void)
{
	struct rig r;

	CU_ASSERT_EQUAL_FATAL(rig_setup(&r), 0);
	say(r.client, "{\"execute\":\"stop\",\"id\":4}");
	say(r.client, save);
	drain(&r, r.qemu, r.buf, sizeof(r.buf));
	/* QEMU's parse error without an id matches nothing: both stay pending */
	say(r.qemu, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\r\n");
	drain(&r, r.client, r.buf, sizeof(r.buf));
	CU_ASSERT_STRING_EQUAL(r.replies, "");
	/* the answer to id 5 comes first: stop's is dropped, the hook sees id 5 */
	say(r.qemu, "{\"return\": {}, \"id\": 5}\r\n");
	drain(&r, r.client, r.buf, sizeof(r.buf));
	CU_ASSERT_STRING_EQUAL(r.replies, "xen-save-devices-state "
	                                  "{\"filename\":\"/dev/fdset/1\",\"live\":false} "
	                                  "{\"return\":{},\"id\":5};");
	/* a late reply with id 4 finds no command: relayed, no hook */
	r.replies[0] = '\0';
	say(r.qemu, "{\"return\": {}, \"id\": 4}\r\n");
	CU_ASSERT_STRING_EQUAL(drain(&r, r.client, r.buf, sizeof(r.buf)),
	                       "{\"return\": {}, \"id\": 4}\r\n");
	CU_ASSERT_STRING_EQUAL(r.replies, "");
	rig_cleanup(&r);
}

/* A descriptor with add-fd reaches QEMU with the command's bytes; rtcdm keeps
 * a copy under QEMU's fdset-id until remove-fd. */
static void test_descriptors(void)
{
	static const char add[] = "{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":3},\"id\":1}";
	struct rig r;
	char buf[4096], file[128];
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
	                    .msg_controllen = sizeof(u.b)};
	struct stat a, b, c;
	int fd, got = -1;
	ssize_t n;

	CU_ASSERT_EQUAL_FATAL(rig_setup(&r), 0);
	snprintf(file, sizeof(file), "%s/qemu-save", r.dir);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CU_ASSERT_EQUAL(support_send_fd(r.client, add, fd), 0);
	pump(&r);
	n = recvmsg(r.qemu, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	CU_ASSERT_EQUAL(n, (ssize_t)strlen(add));
	buf[n > 0 ? n : 0] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, add);
	if (CMSG_FIRSTHDR(&mh))
		memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	CU_ASSERT_TRUE_FATAL(got >= 0);
	CU_ASSERT_EQUAL(fstat(fd, &a), 0);
	CU_ASSERT_EQUAL(fstat(got, &b), 0);
	CU_ASSERT_EQUAL(a.st_ino, b.st_ino);
	CU_ASSERT_EQUAL(qmp_proxy_fdset_fd(r.p, 3), -1); /* not before QEMU accepts */
	say(r.qemu, "{\"return\": {\"fdset-id\": 3, \"fd\": 42}, \"id\": 1}\r\n");
	CU_ASSERT_STRING_EQUAL(drain(&r, r.client, buf, sizeof(buf)),
	                       "{\"return\": {\"fdset-id\": 3, \"fd\": 42}, \"id\": 1}\r\n");
	CU_ASSERT_TRUE(qmp_proxy_fdset_fd(r.p, 3) >= 0);
	CU_ASSERT_EQUAL(fstat(qmp_proxy_fdset_fd(r.p, 3), &c), 0);
	CU_ASSERT_EQUAL(a.st_ino, c.st_ino);
	/* a refused add-fd keeps nothing */
	CU_ASSERT_EQUAL(support_send_fd(r.client, "{\"execute\":\"add-fd\",\"id\":2}", fd), 0);
	drain(&r, r.qemu, buf, sizeof(buf));
	say(r.qemu, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": 2}\r\n");
	drain(&r, r.client, buf, sizeof(buf));
	CU_ASSERT_EQUAL(qmp_proxy_fdset_fd(r.p, 0), -1);
	/* remove-fd of the set drops the copy */
	say(r.client, "{\"execute\":\"remove-fd\",\"arguments\":{\"fdset-id\":3},\"id\":3}");
	drain(&r, r.qemu, buf, sizeof(buf));
	say(r.qemu, "{\"return\": {}, \"id\": 3}\r\n");
	drain(&r, r.client, buf, sizeof(buf));
	CU_ASSERT_EQUAL(qmp_proxy_fdset_fd(r.p, 3), -1);
	close(got);
	close(fd);
	rig_cleanup(&r);
}

void suite_qmp_proxy(void)
{
	CU_pSuite s = CU_add_suite("QMP pass-through (proxy)", NULL, NULL);

	CU_add_test(s, "bytes both ways unchanged, split commands, close", test_bytes_unchanged);
	CU_add_test(s, "the hook sees a reply and may replace it", test_hook_sees_and_replaces_reply);
	CU_add_test(s, "rtcdm's own command answered by the hook, in order",
	            test_hook_answers_own_command);
	CU_add_test(s, "a held command waits for the release", test_hold_until_release);
	CU_add_test(s, "replies matched to commands by id", test_reply_matching);
	CU_add_test(s, "SCM_RIGHTS descriptors and fdsets", test_descriptors);
}
