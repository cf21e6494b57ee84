/* QMP server: framing, negotiation, replies and errors, sockets, clients. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "config.h"
#include "tests/support/qmp_fake.h"

/* ---- the event loop ------------------------------------------------------ */

/* The loop is given each descriptor once, at open, and told at close:
 * replies, events, a client that does not read (the server holds back) and
 * one that reads again change nothing in between. */
static void test_loop_registrations_follow_open_close(void)
{
	char buf[70000], dir[256], path[300], err[256];
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 64);

	CU_ASSERT_FATAL(support_tmpdir(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/qmp", dir);
	CU_ASSERT_EQUAL_FATAL(qmp_server_listen_path(s, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(f.watch_calls, 1);
	int a = support_unix_connect(path), b = support_unix_connect(path);
	CU_ASSERT_FATAL(a >= 0 && b >= 0);
	pump(&f, s);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 2);
	CU_ASSERT_EQUAL(f.watch_calls, 3);
	recv_text(a, buf, sizeof(buf), NULL);
	recv_text(b, buf, sizeof(buf), NULL);
	xchg(&f, s, a, "{\"execute\":\"qmp_capabilities\"}\n", buf, sizeof(buf));
	xchg(&f, s, b, "{\"execute\":\"qmp_capabilities\"}\n", buf, sizeof(buf));
	for (int i = 0; i < 50; i++) {
		CU_ASSERT_STRING_EQUAL(xchg(&f, s, a, "{\"execute\":\"query-vnc\"}\n", buf, sizeof(buf)),
		                       "{\"return\":{\"enabled\":false}}\r\n");
		qmp_server_event(s, "RTC_CHANGE", NULL);
		pump(&f, s);
		CU_ASSERT(strstr(recv_text(a, buf, sizeof(buf), NULL), "\"event\":\"RTC_CHANGE\"") != NULL);
	}
	/* b reads nothing while a thousand large replies pile up. */
	static const char req[] = "{\"execute\":\"query-cpus-fast\"}\n";
	char burst[1000 * (sizeof(req) - 1) + 1];
	burst[sizeof(burst) - 1] = '\0';
	for (int i = 0; i < 1000; i++)
		memcpy(burst + (size_t)i * (sizeof(req) - 1), req, sizeof(req) - 1);
	CU_ASSERT_EQUAL(support_send_fd(b, burst, -1), 0);
	pump(&f, s);
	/* Then it reads everything: every reply arrives. */
	size_t replies = 0;
	for (int round = 0; round < 100000 && replies < 1000; round++) {
		pump(&f, s);
		recv_text(b, buf, sizeof(buf), NULL);
		for (const char *p = buf; (p = strstr(p, "\"return\"")) != NULL; p++)
			replies++;
	}
	CU_ASSERT_EQUAL(replies, 1000);
	CU_ASSERT_EQUAL(f.watch_calls, 3);
	CU_ASSERT_EQUAL(f.unwatch_calls, 0);
	close(a);
	pump(&f, s);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 1);
	CU_ASSERT_EQUAL(f.unwatch_calls, 1);
	CU_ASSERT_EQUAL(f.watch_calls, 3);
	qmp_server_free(s);
	CU_ASSERT_EQUAL(f.unwatch_calls, 3);
	CU_ASSERT_EQUAL(f.n_watched, 0);
	close(b);
	rmdir(dir);
}

#define SEC 1000000000ull

/* A connection that sends no complete command for the idle limit is closed
 * (and the log says so); a busy one is not; the clock is the test's. */
static void test_idle_connections_closed(void)
{
	char buf[70000];
	bool eof = false;
	struct fake_dm f = {.state = DM_RUN_RUNNING, .idle_timeout_ns = 30 * SEC, .now_ns = 1000 * SEC};
	struct qmp_server *s = fake_server(&f, 1);
	int idle = pair_client(&f, s);

	CU_ASSERT_EQUAL(f.alarm_ns, 1030 * SEC);
	fake_advance(&f, s, 1010 * SEC);
	int busy = ready_client(&f, s);
	CU_ASSERT_EQUAL(f.alarm_ns, 1030 * SEC); /* the oldest decides */
	/* Half a command is not a command. */
	CU_ASSERT_EQUAL(support_send_fd(idle, "{\"execute\":", -1), 0);
	pump(&f, s);
	fake_advance(&f, s, 1029 * SEC);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, busy, "{\"execute\":\"query-vnc\"}\n", buf, sizeof(buf)),
	                       "{\"return\":{\"enabled\":false}}\r\n");
	CU_ASSERT_EQUAL(qmp_server_clients(s), 2);
	fake_advance(&f, s, 1030 * SEC);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 1);
	recv_text(idle, buf, sizeof(buf), &eof);
	CU_ASSERT(eof);
	CU_ASSERT_STRING_EQUAL(f.logs, "QMP: closing a connection that sent no complete command "
	                               "for 30000 ms\n");
	/* The busy one spoke at 1029 s: its turn comes at 1059 s, not before. */
	CU_ASSERT_EQUAL(f.alarm_ns, 1059 * SEC);
	fake_advance(&f, s, 1058 * SEC);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 1);
	CU_ASSERT_EQUAL(f.alarm_ns, 1059 * SEC);
	fake_advance(&f, s, 1059 * SEC);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 0);
	CU_ASSERT_EQUAL(f.alarm_ns, RTC_NO_DEADLINE);
	/* Sixteen idle clients no longer lock the toolstack out for good. */
	int cs[QMP_MAX_CLIENTS];
	for (int i = 0; i < QMP_MAX_CLIENTS; i++)
		cs[i] = pair_client(&f, s);
	CU_ASSERT_EQUAL(qmp_server_clients(s), QMP_MAX_CLIENTS);
	CU_ASSERT_EQUAL(pair_client(&f, s), -1);
	fake_advance(&f, s, 1089 * SEC);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 0);
	int late = ready_client(&f, s);
	CU_ASSERT(late >= 0);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, late, "{\"execute\":\"query-vnc\"}\n", buf, sizeof(buf)),
	                       "{\"return\":{\"enabled\":false}}\r\n");
	for (int i = 0; i < QMP_MAX_CLIENTS; i++)
		close(cs[i]);
	close(late);
	close(busy);
	close(idle);
	qmp_server_free(s);
}

void suite_qmp_server(void);

#define GREETING                                                                               \
	"{\"QMP\":{\"version\":{\"qemu\":{\"micro\":0,\"minor\":2,\"major\":7},\"package\":"       \
	"\"rtcdm-" RTCDM_VERSION "\"},\"capabilities\":[]}}\r\n"
#define NEED_CAPS                                                                              \
	"{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting capabilities negotiation " \
	"with 'qmp_capabilities'\"}"

static void test_greeting_and_negotiation(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 1);
	int sv[2];
	char err[128];

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_FATAL(qmp_server_add_client(s, sv[1], err, sizeof(err)) == 0);
	CU_ASSERT_STRING_EQUAL(recv_text(sv[0], buf, sizeof(buf), NULL), GREETING);
	/* Any command before negotiation, known or not. */
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, sv[0], "{\"execute\":\"query-status\",\"id\":7}\n", buf,
	                            sizeof(buf)),
	                       NEED_CAPS ",\"id\":7}\r\n");
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, sv[0], "{\"execute\":\"no-such\"}\n", buf, sizeof(buf)),
	                       NEED_CAPS "}\r\n");
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, sv[0], "{\"execute\":\"stop\",\"id\":1}\n", buf, sizeof(buf)),
	                       NEED_CAPS ",\"id\":1}\r\n");
	CU_ASSERT_STRING_EQUAL(f.calls, ""); /* stop was not carried out */
	/* A capability we do not offer. */
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, sv[0], "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}}\n",
	         buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Capability 'oob' not available\"}}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, sv[0], "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n", buf, sizeof(buf)),
	    "{\"return\":{},\"id\":1}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, sv[0], "{\"execute\":\"qmp_capabilities\",\"id\":2}\r\n", buf, sizeof(buf)),
	    "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Capabilities negotiation is "
	    "already complete, command ignored\"},\"id\":2}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, sv[0], "{\"execute\":\"query-status\",\"id\":3}\n", buf, sizeof(buf)),
	    "{\"return\":{\"status\":\"running\",\"singlestep\":false,\"running\":true},\"id\":3}\r\n");
	close(sv[0]);
	pump(&f, s);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 0);
	qmp_server_free(s);
}

static void test_query_status_states(void)
{
	char buf[70000];
	static const struct {
		enum dm_run_state st;
		const char *reply;
	} cases[] = {
	    {DM_RUN_PRELAUNCH, "{\"return\":{\"status\":\"prelaunch\",\"singlestep\":false,"
	                       "\"running\":false}}\r\n"},
	    {DM_RUN_RUNNING, "{\"return\":{\"status\":\"running\",\"singlestep\":false,"
	                     "\"running\":true}}\r\n"},
	    {DM_RUN_PAUSED, "{\"return\":{\"status\":\"paused\",\"singlestep\":false,"
	                    "\"running\":false}}\r\n"},
	    {DM_RUN_INMIGRATE, "{\"return\":{\"status\":\"inmigrate\",\"singlestep\":false,"
	                       "\"running\":false}}\r\n"},
	};
	struct fake_dm f = {0};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f.state = cases[i].st;
		CU_ASSERT_STRING_EQUAL(
		    xchg(&f, s, c, "{\"execute\":\"query-status\"}\n", buf, sizeof(buf)), cases[i].reply);
	}
	close(c);
	qmp_server_free(s);
}

/* The reply line after an event line, and the event checked by name. */
static const char *after_event(const char *text, const char *event)
{
	const char *nl = strstr(text, "\r\n");
	if (!nl)
		return "";
	struct json_object *ev = json_tokener_parse(text);
	struct json_object *name, *ts, *sec, *usec;
	bool ok = ev && json_object_object_get_ex(ev, "event", &name) &&
	          strcmp(json_object_get_string(name), event) == 0 &&
	          json_object_object_get_ex(ev, "timestamp", &ts) &&
	          json_object_object_get_ex(ts, "seconds", &sec) &&
	          json_object_object_get_ex(ts, "microseconds", &usec) &&
	          json_object_get_int64(sec) > 1600000000 && json_object_get_int64(usec) >= 0 &&
	          json_object_get_int64(usec) < 1000000;
	json_object_put(ev);
	return ok ? nl + 2 : "";
}

static void test_stop_cont_events(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_PRELAUNCH};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);
	int other = pair_client(&f, s); /* not negotiated: gets no events */

	xchg(&f, s, c, "{\"execute\":\"cont\",\"id\":1}\n", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(after_event(buf, "RESUME"), "{\"return\":{},\"id\":1}\r\n");
	CU_ASSERT_EQUAL(f.state, DM_RUN_RUNNING);
	xchg(&f, s, c, "{\"execute\":\"stop\",\"id\":2}\n", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(after_event(buf, "STOP"), "{\"return\":{},\"id\":2}\r\n");
	CU_ASSERT_EQUAL(f.state, DM_RUN_PAUSED);
	/* Already paused: no event. */
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"stop\",\"id\":3}\n", buf, sizeof(buf)),
	                       "{\"return\":{},\"id\":3}\r\n");
	CU_ASSERT_STRING_EQUAL(f.calls, "cont;stop;stop;");
	CU_ASSERT_STRING_EQUAL(recv_text(other, buf, sizeof(buf), NULL), "");
	/* A failing stop is a GenericError with the reason. */
	f.fail_stop = "cannot pause: hypervisor said no";
	f.state = DM_RUN_RUNNING;
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"stop\"}\n", buf, sizeof(buf)),
	                       "{\"error\":{\"class\":\"GenericError\",\"desc\":\"cannot pause: "
	                       "hypervisor said no\"}}\r\n");
	/* Events from the process. */
	qmp_server_event(s, "RTC_CHANGE", json_tokener_parse("{\"offset\":-3600}"));
	recv_text(c, buf, sizeof(buf), NULL);
	struct json_object *ev = json_tokener_parse(buf), *data, *off;
	CU_ASSERT_FATAL(ev != NULL);
	CU_ASSERT(json_object_object_get_ex(ev, "data", &data) &&
	          json_object_object_get_ex(data, "offset", &off) &&
	          json_object_get_int64(off) == -3600);
	json_object_put(ev);
	CU_ASSERT_STRING_EQUAL(recv_text(other, buf, sizeof(buf), NULL), "");
	close(c);
	close(other);
	qmp_server_free(s);
}

static void test_queries(void)
{
	char buf[70000];
	static const struct qmp_chardev_info cds[] = {{"serial0", "pty:/dev/pts/3"}};
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	char err[128], expect[1024];
	struct qmp_server_config cfg = fake_config(&f, 2);
	cfg.chardevs = cds;
	cfg.n_chardevs = 1;
	struct qmp_server *s = qmp_server_new(&cfg, err, sizeof(err));
	int c = ready_client(&f, s);

	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-vnc\",\"id\":1}\n", buf, sizeof(buf)),
	                       "{\"return\":{\"enabled\":false},\"id\":1}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"query-version\"}\n", buf, sizeof(buf)),
	    "{\"return\":{\"qemu\":{\"micro\":0,\"minor\":2,\"major\":7},\"package\":\"rtcdm-" RTCDM_VERSION
	    "\"}}\r\n");
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-chardev\"}\n", buf, sizeof(buf)),
	                       "{\"return\":[{\"frontend-open\":true,\"filename\":\"pty:/dev/pts/3\","
	                       "\"label\":\"serial0\"}]}\r\n");
	snprintf(expect, sizeof(expect),
	         "{\"return\":["
	         "{\"cpu-index\":0,\"qom-path\":\"/machine/unattached/device[0]\",\"thread-id\":%d,"
	         "\"props\":{\"core-id\":0,\"thread-id\":0,\"node-id\":0,\"socket-id\":0},"
	         "\"target\":\"x86_64\"},"
	         "{\"cpu-index\":1,\"qom-path\":\"/machine/unattached/device[1]\",\"thread-id\":%d,"
	         "\"props\":{\"core-id\":0,\"thread-id\":0,\"node-id\":0,\"socket-id\":1},"
	         "\"target\":\"x86_64\"}],\"id\":5}\r\n",
	         (int)getpid(), (int)getpid());
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"query-cpus-fast\",\"id\":5}\n", buf, sizeof(buf)), expect);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c,
	                            "{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":"
	                            "{\"enable\":true}}\n",
	                            buf, sizeof(buf)),
	                       "{\"return\":{}}\r\n");
	/* query-commands lists what we serve. */
	xchg(&f, s, c, "{\"execute\":\"query-commands\"}\n", buf, sizeof(buf));
	CU_ASSERT(strstr(buf, "{\"name\":\"xen-save-devices-state\"}") != NULL);
	CU_ASSERT(strstr(buf, "{\"name\":\"add-fd\"}") != NULL);
	close(c);
	qmp_server_free(s);

	/* No chardevs: an empty list (enough for libxl). */
	s = fake_server(&f, 1);
	c = ready_client(&f, s);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-chardev\"}\n", buf, sizeof(buf)),
	                       "{\"return\":[]}\r\n");
	close(c);
	qmp_server_free(s);
}

static void test_ids_echoed(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);

	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"id\":\"libxl-17\",\"execute\":\"query-vnc\"}\n", buf, sizeof(buf)),
	    "{\"return\":{\"enabled\":false},\"id\":\"libxl-17\"}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"query-vnc\",\"id\":{\"a\":[1,null]}}\n", buf, sizeof(buf)),
	    "{\"return\":{\"enabled\":false},\"id\":{\"a\":[1,null]}}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"query-vnc\",\"id\":4294967295}\n", buf, sizeof(buf)),
	    "{\"return\":{\"enabled\":false},\"id\":4294967295}\r\n");
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-vnc\",\"id\":-2.5}\n",
	                            buf, sizeof(buf)),
	                       "{\"return\":{\"enabled\":false},\"id\":-2.5}\r\n");
	/* Well-formed UTF-8 up to four bytes is echoed as it came. */
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c,
	                            "{\"execute\":\"query-vnc\",\"id\":\"\xc3\xa9\xe2\x82\xac"
	                            "\xf0\x9f\x95\x90\xf4\x8f\xbf\xbf\"}\n",
	                            buf, sizeof(buf)),
	                       "{\"return\":{\"enabled\":false},\"id\":\"\xc3\xa9\xe2\x82\xac"
	                       "\xf0\x9f\x95\x90\xf4\x8f\xbf\xbf\"}\r\n");
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"nope\",\"id\":9}\n", buf, sizeof(buf)),
	                       "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command nope "
	                       "has not been found\"},\"id\":9}\r\n");
	close(c);
	qmp_server_free(s);
}

static void test_malformed_requests(void)
{
	char buf[70000];
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"[1,2]\n", "{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input must be a JSON "
	                "object\"}}\r\n"},
	    {"\"text\"\n", "{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input must be a "
	                   "JSON object\"}}\r\n"},
	    {"{\"id\":1}\n", "{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input lacks "
	                     "member 'execute'\"},\"id\":1}\r\n"},
	    {"{\"execute\":5}\n", "{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input "
	                          "member 'execute' must be a string\"}}\r\n"},
	    {"{\"execute\":\"stop\",\"arguments\":[]}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input member 'arguments' must "
	     "be an object\"}}\r\n"},
	    {"{\"execute\":\"stop\",\"bogus\":1}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input member 'bogus' is "
	     "unexpected\"}}\r\n"},
	    {"{\"execute\":\"xen-set-global-dirty-log\"}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'enable' is "
	     "missing\"}}\r\n"},
	    {"{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":\"yes\"}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for "
	     "'enable', expected: boolean\"}}\r\n"},
	    {"{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true,\"x\":1}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'x' is "
	     "unexpected\"}}\r\n"},
	    {"{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":7}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for "
	     "'filename', expected: string\"}}\r\n"},
	    {"{\"execute\":\"rtcdm-set-time-offset\",\"arguments\":{\"seconds\":1.5}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for "
	     "'seconds', expected: integer\"}}\r\n"},
	    {"{\"execute\":\"rtcdm-set-time-offset\",\"arguments\":{\"seconds\":"
	     "18446744073709551615}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for "
	     "'seconds', expected: integer\"}}\r\n"},
	    /* Below INT64_MIN: json-c clamps it, we must not report the clamped value. */
	    {"{\"execute\":\"rtcdm-set-time-offset\",\"arguments\":{\"seconds\":"
	     "-9223372036854775809}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for "
	     "'seconds', expected: integer\"}}\r\n"},
	    {"{\"execute\":\"rtcdm-set-time-offset\",\"arguments\":{\"seconds\":"
	     "-99999999999999999999999}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for "
	     "'seconds', expected: integer\"}}\r\n"},
	    /* INT64_MIN itself is an integer (out of range), also with a long
	     * negative number inside a string of the same message. */
	    {"{\"execute\":\"rtcdm-set-time-offset\",\"arguments\":{\"seconds\":"
	     "-9223372036854775808},\"id\":\"-99999999999999999999\"}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'seconds' out of range "
	     "[-2147483648, 2147483647]: -9223372036854775808\"},\"id\":\"-99999999999999999999\"}\r\n"},
	    {"{\"execute\":\"rtcdm-set-time-offset\",\"arguments\":{\"seconds\":-1e30}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for "
	     "'seconds', expected: integer\"}}\r\n"},
	    /* Ill-formed UTF-8 (json-c lets these through): refused, not echoed. */
	    {"{\"execute\":\"query-vnc\",\"id\":\"\xc0\xaf\"}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, invalid UTF-8 "
	     "sequence in string\"}}\r\n"},
	    {"{\"execute\":\"query-vnc\",\"id\":[\"\xe0\x80\xaf\"]}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, invalid UTF-8 "
	     "sequence in string\"}}\r\n"},
	    {"{\"execute\":\"query-vnc\",\"id\":{\"\xed\xa0\x80\":1}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, invalid UTF-8 "
	     "sequence in string\"}}\r\n"},
	    {"{\"execute\":\"query-vnc\",\"id\":\"\xf4\x90\x80\x80\"}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, invalid UTF-8 "
	     "sequence in string\"}}\r\n"},
	    {"{\"execute\":\"query-vnc\",\"id\":\"\xf0\x80\x80\xaf\"}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, invalid UTF-8 "
	     "sequence in string\"}}\r\n"},
	    {"{\"execute\":\"rtcdm-set-time-offset\",\"arguments\":{\"seconds\":2147483648}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'seconds' out of range "
	     "[-2147483648, 2147483647]: 2147483648\"}}\r\n"},
	    {"{\"execute\":\"remove-fd\",\"arguments\":{\"fdset-id\":true}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for "
	     "'fdset-id', expected: integer\"}}\r\n"},
	    {"{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"a\\u0000b\"}}\n",
	     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'filename' contains a "
	     "NUL character\"}}\r\n"},
	};
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xchg(&f, s, c, cases[i].in, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].out);
		if (strcmp(buf, cases[i].out) != 0)
			fprintf(stderr, "\ncase %zu: got %s", i, buf);
	}
	/* Nothing reached the process, and the connection still works. */
	CU_ASSERT_STRING_EQUAL(f.calls, "");
	CU_ASSERT_EQUAL(f.offset.seconds, 0);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-vnc\"}\n", buf, sizeof(buf)),
	                       "{\"return\":{\"enabled\":false}}\r\n");
	close(c);
	qmp_server_free(s);
}

static void test_bad_json_resyncs(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);

	/* A syntax error is reported and the rest of that line dropped. */
	xchg(&f, s, c, "{\"execute\": nonsense, \"id\": 1}\r\n{\"execute\":\"query-vnc\",\"id\":2}\r\n",
	     buf, sizeof(buf));
	const char *pfx = "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, ";
	CU_ASSERT_EQUAL(strncmp(buf, pfx, strlen(pfx)), 0);
	const char *second = strstr(buf, "}}\r\n");
	CU_ASSERT_FATAL(second != NULL);
	CU_ASSERT_STRING_EQUAL(second + 4, "{\"return\":{\"enabled\":false},\"id\":2}\r\n");
	/* Single quotes, trailing commas, bare words: refused (strict JSON). */
	xchg(&f, s, c, "{'execute':'query-vnc'}\n", buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf, pfx, strlen(pfx)), 0);
	xchg(&f, s, c, "{\"execute\":\"query-vnc\",}\n", buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf, pfx, strlen(pfx)), 0);
	/* Too deep. */
	char deep[200] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	strcat(deep, "\n");
	xchg(&f, s, c, deep, buf, sizeof(buf));
	CU_ASSERT_EQUAL(strncmp(buf, pfx, strlen(pfx)), 0);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-vnc\"}\n", buf, sizeof(buf)),
	                       "{\"return\":{\"enabled\":false}}\r\n");
	CU_ASSERT_EQUAL(qmp_server_clients(s), 1);
	close(c);
	qmp_server_free(s);
}

static void test_framing(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);

	/* A message split across writes and lines, byte by byte. */
	const char *msg = "{\"execute\":\n  \"query-vnc\",\r\n \"id\": 12}";
	for (const char *p = msg; p[1]; p++) {
		char one[2] = {*p, 0};
		CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, one, buf, sizeof(buf)), "");
	}
	/* Complete at its closing brace. */
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "}", buf, sizeof(buf)),
	                       "{\"return\":{\"enabled\":false},\"id\":12}\r\n");
	/* Two in one write, no separator; answered in order. */
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"query-vnc\",\"id\":1}{\"execute\":\"nope\",\"id\":2}", buf,
	         sizeof(buf)),
	    "{\"return\":{\"enabled\":false},\"id\":1}\r\n{\"error\":{\"class\":\"CommandNotFound\","
	    "\"desc\":\"The command nope has not been found\"},\"id\":2}\r\n");
	/* Blank lines are nothing. */
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "\r\n\r\n   \n", buf, sizeof(buf)), "");
	close(c);
	qmp_server_free(s);
}

static void test_huge_message_closes(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);
	char big[QMP_MAX_MESSAGE + 4096];
	bool eof = false;

	/* An endless string: refused once it passes the bound. */
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "{\"execute\":\"", 12);
	big[sizeof(big) - 1] = '\0';
	size_t off = 0, len = strlen(big);
	while (off < len && !eof) {
		ssize_t n = send(c, big + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		pump(&f, s);
		if (n <= 0)
			break;
	}
	pump(&f, s);
	recv_text(c, buf, sizeof(buf), &eof);
	CU_ASSERT_STRING_EQUAL(buf, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP message "
	                            "longer than 65536 bytes; closing the connection\"}}\r\n");
	if (!eof)
		recv_text(c, buf + strlen(buf), 16, &eof);
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 0);
	CU_ASSERT(strstr(f.logs, "longer than 65536 bytes") != NULL);
	close(c);

	/* Just under the bound is fine: a 60 KiB id is echoed. */
	c = ready_client(&f, s);
	char msg[QMP_MAX_MESSAGE];
	int n = snprintf(msg, sizeof(msg), "{\"execute\":\"query-vnc\",\"id\":\"");
	memset(msg + n, 'x', 60000);
	strcpy(msg + n + 60000, "\"}\n");
	CU_ASSERT_EQUAL(support_send_fd(c, msg, -1), 0);
	pump(&f, s);
	recv_text(c, buf, sizeof(buf), &eof);
	CU_ASSERT_EQUAL(strlen(buf), strlen("{\"return\":{\"enabled\":false},\"id\":\"\"}\r\n") + 60000);
	CU_ASSERT(!eof);
	close(c);
	qmp_server_free(s);
}

static void test_quit_and_offset_commands(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);

	f.offset.phase_ns = 250000000;
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c, "{\"execute\":\"rtcdm-set-time-offset\",\"arguments\":{\"seconds\":-7200}}\n",
	         buf, sizeof(buf)),
	    "{\"return\":{}}\r\n");
	CU_ASSERT_STRING_EQUAL(f.calls, "set_offset -7200;");
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"rtcdm-query-time-offset\"}\n",
	                            buf, sizeof(buf)),
	                       "{\"return\":{\"seconds\":-7200,\"phase-ns\":250000000,\"set\":true}}\r\n");
	CU_ASSERT_STRING_EQUAL(
	    xchg(&f, s, c,
	         "{\"execute\":\"rtcdm-set-time-offset\",\"arguments\":{\"seconds\":-2147483648}}\n",
	         buf, sizeof(buf)),
	    "{\"return\":{}}\r\n");
	CU_ASSERT_EQUAL(f.offset.seconds, INT32_MIN);
	CU_ASSERT(!f.quit);
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"quit\",\"id\":1}\n", buf, sizeof(buf)),
	                       "{\"return\":{},\"id\":1}\r\n");
	CU_ASSERT(f.quit);
	close(c);
	qmp_server_free(s);
}

static void test_eof_after_request(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_PAUSED};
	struct qmp_server *s = fake_server(&f, 1);
	int c = ready_client(&f, s);
	bool eof = false;

	/* The client writes and half-closes: it still gets its answer. */
	CU_ASSERT_EQUAL(support_send_fd(c, "{\"execute\":\"cont\",\"id\":5}\n", -1), 0);
	shutdown(c, SHUT_WR);
	pump(&f, s);
	recv_text(c, buf, sizeof(buf), &eof);
	CU_ASSERT_STRING_EQUAL(after_event(buf, "RESUME"), "{\"return\":{},\"id\":5}\r\n");
	if (!eof) {
		pump(&f, s);
		recv_text(c, buf, sizeof(buf), &eof);
	}
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 0);
	close(c);
	qmp_server_free(s);
}

/* Backpressure: a client that writes many requests before reading gets
 * every answer, in order, while the server's buffer stays bounded. */
static void test_many_requests_unread(void)
{
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 64);
	int c = ready_client(&f, s);
	const int total = 400; /* ~400 x 9 KiB of replies: far above QMP_OUT_HIGH */
	int sent = 0, got = 0;
	char req[64];
	size_t req_off = 0;
	char rx[1 << 16];
	size_t rx_len = 0;
	bool order_ok = true;

	int fl = fcntl(c, F_GETFL);
	fcntl(c, F_SETFL, fl | O_NONBLOCK);
	snprintf(req, sizeof(req), "{\"execute\":\"query-cpus-fast\",\"id\":%d}\n", sent);
	for (int iter = 0; iter < 200000 && got < total; iter++) {
		/* Write as much as the socket takes. */
		while (sent < total) {
			size_t len = strlen(req);
			ssize_t n = send(c, req + req_off, len - req_off, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			req_off += (size_t)n;
			if (req_off == len) {
				sent++;
				req_off = 0;
				snprintf(req, sizeof(req), "{\"execute\":\"query-cpus-fast\",\"id\":%d}\n", sent);
			}
		}
		pump(&f, s);
		/* Read only every 8th round: the server must hold back. */
		if (iter % 8)
			continue;
		ssize_t n = recv(c, rx + rx_len, sizeof(rx) - 1 - rx_len, 0);
		if (n > 0)
			rx_len += (size_t)n;
		rx[rx_len] = '\0';
		char *line;
		while ((line = strstr(rx, "\r\n")) != NULL) {
			*line = '\0';
			struct json_object *o = json_tokener_parse(rx), *id;
			if (!o || !json_object_object_get_ex(o, "id", &id) || json_object_get_int(id) != got)
				order_ok = false;
			json_object_put(o);
			got++;
			size_t used = (size_t)(line + 2 - rx);
			memmove(rx, line + 2, rx_len - used + 1);
			rx_len -= used;
		}
	}
	CU_ASSERT_EQUAL(got, total);
	CU_ASSERT(order_ok);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 1);
	close(c);
	qmp_server_free(s);
}

/* ---- sockets ------------------------------------------------------------- */

static void test_listen_path_errors(void)
{
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 1);
	char dir[256], path[512], err[512];
	struct stat st;

	CU_ASSERT_FATAL(support_tmpdir(dir, sizeof(dir)) == 0);
	CU_ASSERT_FATAL(dir[0] != '\0');

	/* Too long for sun_path (108 bytes with the NUL). */
	char longp[200];
	memset(longp, 'p', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	CU_ASSERT_EQUAL(qmp_server_listen_path(s, longp, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(strncmp(err, "QMP socket path too long (199 bytes, at most 107): /ppp", 55),
	                0);

	/* Parent is a regular file. */
	snprintf(path, sizeof(path), "%s/file", dir);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/file/qmp", dir);
	CU_ASSERT_EQUAL(qmp_server_listen_path(s, path, err, sizeof(err)), -1);
	char expect[1024];
	snprintf(expect, sizeof(expect), "QMP socket %s/file/qmp: %s/file is not a directory", dir,
	         dir);
	CU_ASSERT_STRING_EQUAL(err, expect);

	/* Missing parent. */
	snprintf(path, sizeof(path), "%s/nodir/qmp", dir);
	CU_ASSERT_EQUAL(qmp_server_listen_path(s, path, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "QMP socket %s/nodir/qmp: directory %s/nodir: %s", dir, dir,
	         strerror(ENOENT));
	CU_ASSERT_STRING_EQUAL(err, expect);

	/* A regular file at the path is not replaced. */
	snprintf(path, sizeof(path), "%s/file", dir);
	CU_ASSERT_EQUAL(qmp_server_listen_path(s, path, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect),
	         "QMP socket %s/file: path exists and is not a socket; not replacing it", dir);
	CU_ASSERT_STRING_EQUAL(err, expect);
	CU_ASSERT(stat(path, &st) == 0 && S_ISREG(st.st_mode));

	CU_ASSERT_EQUAL(qmp_server_listen_path(s, "", err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "QMP socket path is empty");
	CU_ASSERT_EQUAL(f.watch_calls, 0); /* nothing changed */
	qmp_server_free(s);
	unlink(path);
	rmdir(dir);
}

static void test_sequential_and_concurrent_clients(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct qmp_server *s = fake_server(&f, 1);
	char dir[256], path[512], err[512];
	struct stat st;

	CU_ASSERT_FATAL(support_tmpdir(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/qmp-libxl-3", dir);
	/* A stale socket from an earlier run is replaced. */
	int stale = support_unix_listen(path, 1);
	CU_ASSERT_FATAL(stale >= 0);
	close(stale);
	CU_ASSERT_EQUAL_FATAL(qmp_server_listen_path(s, path, err, sizeof(err)), 0);

	/* libxl: a new connection per command, each negotiating again. */
	for (int i = 0; i < 3; i++) {
		int c = support_unix_connect(path);
		CU_ASSERT_FATAL(c >= 0);
		pump(&f, s);
		CU_ASSERT_STRING_EQUAL(recv_text(c, buf, sizeof(buf), NULL), GREETING);
		CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-vnc\",\"id\":0}\r\n",
		                            buf, sizeof(buf)),
		                       NEED_CAPS ",\"id\":0}\r\n");
		CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n", buf,
		                            sizeof(buf)),
		                       "{\"return\":{},\"id\":1}\r\n");
		CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"cont\",\"id\":2}\r\n", buf, sizeof(buf)),
		                       "{\"return\":{},\"id\":2}\r\n");
		close(c);
		pump(&f, s);
		CU_ASSERT_EQUAL(qmp_server_clients(s), 0);
	}
	CU_ASSERT_STRING_EQUAL(f.calls, "cont;cont;cont;");

	/* Two at once: negotiation is per connection. */
	int a = support_unix_connect(path), b = support_unix_connect(path);
	pump(&f, s);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 2);
	recv_text(a, buf, sizeof(buf), NULL);
	recv_text(b, buf, sizeof(buf), NULL);
	xchg(&f, s, a, "{\"execute\":\"qmp_capabilities\"}\n", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, b, "{\"execute\":\"query-vnc\"}\n", buf, sizeof(buf)),
	                       NEED_CAPS "}\r\n");
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, a, "{\"execute\":\"query-vnc\"}\n", buf, sizeof(buf)),
	                       "{\"return\":{\"enabled\":false}}\r\n");
	close(a);
	close(b);

	/* At most QMP_MAX_CLIENTS; the next one is told why and hung up on. */
	int cs[QMP_MAX_CLIENTS + 1];
	for (int i = 0; i < QMP_MAX_CLIENTS; i++) {
		cs[i] = support_unix_connect(path);
		pump(&f, s);
	}
	CU_ASSERT_EQUAL(qmp_server_clients(s), QMP_MAX_CLIENTS);
	cs[QMP_MAX_CLIENTS] = support_unix_connect(path);
	pump(&f, s);
	bool eof = false;
	recv_text(cs[QMP_MAX_CLIENTS], buf, sizeof(buf), &eof);
	CU_ASSERT_STRING_EQUAL(buf, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"too many QMP "
	                            "clients (at most 16)\"}}\r\n");
	CU_ASSERT(eof);
	for (int i = 0; i <= QMP_MAX_CLIENTS; i++)
		close(cs[i]);
	pump(&f, s);
	CU_ASSERT_EQUAL(qmp_server_clients(s), 0);

	/* The socket is removed at exit. */
	CU_ASSERT(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	qmp_server_free(s);
	CU_ASSERT(lstat(path, &st) < 0 && errno == ENOENT);
	rmdir(dir);
}

static void test_listen_fd(void)
{
	char buf[70000];
	struct fake_dm f = {.state = DM_RUN_PRELAUNCH};
	struct qmp_server *s = fake_server(&f, 1);
	char dir[256], path[512], err[256];

	CU_ASSERT_FATAL(support_tmpdir(dir, sizeof(dir)) == 0);
	snprintf(path, sizeof(path), "%s/qmp", dir);
	/* As dm_restrict: the toolstack binds and listens, we get fd=N. */
	int l = support_unix_listen(path, 4);
	CU_ASSERT_FATAL(l >= 0);
	CU_ASSERT_EQUAL_FATAL(qmp_server_listen_fd(s, l, err, sizeof(err)), 0);
	CU_ASSERT(fcntl(l, F_GETFL) & O_NONBLOCK);
	CU_ASSERT(fcntl(l, F_GETFD) & FD_CLOEXEC);
	int c = support_unix_connect(path);
	pump(&f, s);
	CU_ASSERT_STRING_EQUAL(recv_text(c, buf, sizeof(buf), NULL), GREETING);
	xchg(&f, s, c, "{\"execute\":\"qmp_capabilities\"}\n", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(xchg(&f, s, c, "{\"execute\":\"query-status\"}\n", buf, sizeof(buf)),
	                       "{\"return\":{\"status\":\"prelaunch\",\"singlestep\":false,"
	                       "\"running\":false}}\r\n");
	close(c);

	/* Refused: not listening, not a socket, not open. */
	int sv[2];
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_EQUAL(qmp_server_listen_fd(s, sv[0], err, sizeof(err)), -1);
	char expect[128];
	snprintf(expect, sizeof(expect), "QMP fd=%d: socket is not listening", sv[0]);
	CU_ASSERT_STRING_EQUAL(err, expect);
	int nf = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CU_ASSERT_EQUAL(qmp_server_listen_fd(s, nf, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "QMP fd=%d: not a unix socket", nf);
	CU_ASSERT_STRING_EQUAL(err, expect);
	close(nf);
	CU_ASSERT_EQUAL(qmp_server_listen_fd(s, nf, err, sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "QMP fd=%d: not an open descriptor", nf);
	CU_ASSERT_STRING_EQUAL(err, expect);
	close(sv[0]);
	close(sv[1]);
	qmp_server_free(s);
	/* Not our path: the toolstack's socket file stays. */
	struct stat st;
	CU_ASSERT(lstat(path, &st) == 0);
	unlink(path);
	rmdir(dir);
}

void suite_qmp_server(void)
{
	CU_pSuite s = CU_add_suite("qmp_server", NULL, NULL);
	CU_add_test(s, "greeting and capabilities negotiation", test_greeting_and_negotiation);
	CU_add_test(s, "query-status in every run state", test_query_status_states);
	CU_add_test(s, "stop/cont with STOP/RESUME events", test_stop_cont_events);
	CU_add_test(s, "queries: vnc, version, chardev, cpus", test_queries);
	CU_add_test(s, "ids are echoed verbatim", test_ids_echoed);
	CU_add_test(s, "malformed requests get QEMU's errors", test_malformed_requests);
	CU_add_test(s, "bad JSON is reported and skipped", test_bad_json_resyncs);
	CU_add_test(s, "messages split and joined", test_framing);
	CU_add_test(s, "oversized message closes the connection", test_huge_message_closes);
	CU_add_test(s, "quit and time-offset commands", test_quit_and_offset_commands);
	CU_add_test(s, "answer after the client half-closes", test_eof_after_request);
	CU_add_test(s, "many requests, client slow to read", test_many_requests_unread);
	CU_add_test(s, "listen path errors", test_listen_path_errors);
	CU_add_test(s, "sequential, concurrent and too many clients",
	            test_sequential_and_concurrent_clients);
	CU_add_test(s, "pre-opened listening descriptor", test_listen_fd);
	CU_add_test(s, "loop registrations change only on open and close",
	            test_loop_registrations_follow_open_close);
	CU_add_test(s, "idle connections are closed", test_idle_connections_closed);
}
