/* The xenstore device-model protocol over the in-memory store. */
#include <CUnit/CUnit.h>
#include <limits.h>

#include "tests/support/qmp_fake.h"
#include "toolstack/xenstore/protocol.h"
#include "toolstack/xenstore/store.h"

void suite_xs_toolstack(void);

#define DM "/local/domain/0/device-model/4"
#define UUID "0e6b5c2a-8b7e-4d7b-9d0c-1f2e3d4c5b6a"

/* The value at path, or "<none>", in the caller's vbuf. */
#define val(s, path) node_value(s, path, vbuf, sizeof(vbuf))

static const char *node_value(struct store *s, const char *path, char *out, size_t size)
{
	char *v = store_read(s, path);
	snprintf(out, size, "%s", v ? v : "<none>");
	free(v);
	return out;
}

static struct toolstack *mk(struct store *st, struct fake_dm *f, const char *uuid,
                            const char *save)
{
	char err[256];
	struct toolstack_config cfg = {
	    .domid = 4, .uuid = uuid, .save_path = save, .ops = &fake_ops, .opaque = f};
	struct toolstack *ts = toolstack_new(st, &cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(ts);
	if (ts)
		toolstack_handle(ts); /* initial watch events: nothing pending */
	return ts;
}

static void test_ready_and_publish(void)
{
	char vbuf[128];
	struct store *st = store_mem_new();
	struct fake_dm f = {.state = DM_RUN_RUNNING, .offset = {.seconds = -3600}};
	struct toolstack *ts = mk(st, &f, UUID, NULL);
	char err[128];

	CU_ASSERT_STRING_EQUAL(toolstack_dm_path(ts), DM);
	CU_ASSERT_STRING_EQUAL(val(st, DM "/state"), "<none>");
	CU_ASSERT_EQUAL(toolstack_ready(ts, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(val(st, DM "/state"), "running");
	CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/timeoffset"), "-3600");
	CU_ASSERT_STRING_EQUAL(val(st, "/vm/" UUID "/rtc/timeoffset"), "-3600");
	/* Published only on change. */
	store_write(st, DM "/rtc/timeoffset", "stale");
	CU_ASSERT_EQUAL(toolstack_publish_offset(ts, -3600), 0);
	CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/timeoffset"), "stale");
	CU_ASSERT_EQUAL(toolstack_publish_offset(ts, 86400), 0);
	CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/timeoffset"), "86400");
	CU_ASSERT_STRING_EQUAL(val(st, "/vm/" UUID "/rtc/timeoffset"), "86400");
	CU_ASSERT_EQUAL(toolstack_publish_offset(ts, INT64_MIN), 0);
	CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/timeoffset"), "-9223372036854775808");
	toolstack_free(ts);
	store_close(st);

	/* Without a UUID only the device-model node. */
	st = store_mem_new();
	ts = mk(st, &f, NULL, NULL);
	CU_ASSERT_EQUAL(toolstack_ready(ts, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/timeoffset"), "-3600");
	CU_ASSERT_STRING_EQUAL(val(st, "/vm"), "<none>");
	toolstack_free(ts);
	store_close(st);
}

/* A store whose watch events cannot be read any more (here: its
 * descriptor closed, as when xenstored has gone): one log line, then -1 at
 * once without another, so that the caller stops polling rather than spin. */
static void test_watch_lost(void)
{
	struct store *st = store_mem_new();
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct toolstack *ts = mk(st, &f, UUID, NULL);

	CU_ASSERT_EQUAL_FATAL(close(store_fd(st)), 0);
	f.logs[0] = '\0';
	CU_ASSERT_EQUAL(toolstack_handle(ts), -1);
	CU_ASSERT_STRING_EQUAL(f.logs, "xenstore: reading watch events: Bad file descriptor; the "
	                               "toolstack's commands and settimeoffset are no longer "
	                               "followed\n");
	CU_ASSERT_EQUAL(toolstack_handle(ts), -1);
	CU_ASSERT_EQUAL(toolstack_handle(ts), -1);
	CU_ASSERT_STRING_EQUAL(f.logs, "xenstore: reading watch events: Bad file descriptor; the "
	                               "toolstack's commands and settimeoffset are no longer "
	                               "followed\n");
	toolstack_free(ts);
	store_close(st); /* (its descriptor is already closed: EBADF, ignored) */
}

static void test_bad_config(void)
{
	struct store *st = store_mem_new();
	struct fake_dm f = {0};
	char err[256];
	struct toolstack_config cfg = {.domid = 4, .uuid = "../../x", .ops = &fake_ops, .opaque = &f};

	CU_ASSERT_PTR_NULL(toolstack_new(st, &cfg, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "toolstack: invalid domain UUID '../../x'");
	cfg.uuid = NULL;
	cfg.ops = NULL;
	CU_ASSERT_PTR_NULL(toolstack_new(st, &cfg, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "toolstack: no store or device-model operations given");
	CU_ASSERT_EQUAL(store_mem_pending(st), 0); /* no watch was left behind */
	store_close(st);
}

static void test_command_protocol(void)
{
	char vbuf[128];
	struct store *st = store_mem_new();
	struct fake_dm f = {.state = DM_RUN_RUNNING};
	struct toolstack *ts = mk(st, &f, UUID, "/tmp/rtcdm-test-save.4");
	char err[128];

	toolstack_ready(ts, err, sizeof(err));
	/* libxl (traditional): command "save", wait for state "paused". */
	store_write(st, DM "/command", "save");
	CU_ASSERT_EQUAL(toolstack_handle(ts), 0);
	CU_ASSERT_STRING_EQUAL(f.calls, "stop;save_path /tmp/rtcdm-test-save.4 live=0;");
	CU_ASSERT_STRING_EQUAL(val(st, DM "/state"), "paused");
	CU_ASSERT_STRING_EQUAL(val(st, DM "/command"), "<none>");
	CU_ASSERT_EQUAL(f.state, DM_RUN_PAUSED);
	/* The removal's own watch event is harmless. */
	CU_ASSERT_EQUAL(toolstack_handle(ts), 0);
	CU_ASSERT_STRING_EQUAL(f.calls, "stop;save_path /tmp/rtcdm-test-save.4 live=0;");
	/* "continue" -> "running". */
	store_write(st, DM "/command", "continue");
	toolstack_handle(ts);
	toolstack_handle(ts);
	CU_ASSERT_STRING_EQUAL(f.calls, "stop;save_path /tmp/rtcdm-test-save.4 live=0;cont;");
	CU_ASSERT_STRING_EQUAL(val(st, DM "/state"), "running");
	CU_ASSERT_EQUAL(f.state, DM_RUN_RUNNING);
	/* Unknown commands: logged, removed, nothing done. */
	f.calls[0] = '\0';
	store_write(st, DM "/command", "pci-ins");
	toolstack_handle(ts);
	CU_ASSERT_STRING_EQUAL(f.calls, "");
	CU_ASSERT_STRING_EQUAL(f.logs, "dm-command: unknown command 'pci-ins' ignored\n");
	CU_ASSERT_STRING_EQUAL(val(st, DM "/command"), "<none>");
	CU_ASSERT_STRING_EQUAL(val(st, DM "/state"), "running");
	toolstack_free(ts);
	store_close(st);
}

/* Companion mode (rtc_nodes_only): QEMU owns D/state and libxl speaks QMP
 * to it, so rtcdm writes no state and leaves D/command alone; the offset
 * nodes and settimeoffset are still rtcdm's. */
static void test_rtc_nodes_only(void)
{
	char vbuf[128], err[256];
	struct store *st = store_mem_new();
	struct fake_dm f = {.state = DM_RUN_RUNNING, .offset = {.seconds = 7200}};
	struct toolstack_config cfg = {.domid = 4, .uuid = UUID, .ops = &fake_ops, .opaque = &f,
	                               .rtc_nodes_only = true};
	struct toolstack *ts = toolstack_new(st, &cfg, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(ts);
	toolstack_handle(ts);
	CU_ASSERT_EQUAL(toolstack_ready(ts, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(val(st, DM "/state"), "<none>");
	CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/timeoffset"), "7200");
	CU_ASSERT_STRING_EQUAL(val(st, "/vm/" UUID "/rtc/timeoffset"), "7200");
	store_write(st, DM "/command", "save");
	toolstack_handle(ts);
	CU_ASSERT_STRING_EQUAL(f.calls, "");
	CU_ASSERT_STRING_EQUAL(val(st, DM "/command"), "save"); /* not taken: not rtcdm's */
	store_write(st, DM "/rtc/settimeoffset", "-60");
	toolstack_handle(ts);
	CU_ASSERT_STRING_EQUAL(f.calls, "set_offset -60;");
	toolstack_free(ts);
	store_close(st);
}

static void test_save_default_path_and_failure(void)
{
	char vbuf[128];
	struct store *st = store_mem_new();
	struct fake_dm f = {.state = DM_RUN_RUNNING, .fail_save = "no space left on device"};
	struct toolstack *ts = mk(st, &f, NULL, NULL);
	char err[128];

	toolstack_ready(ts, err, sizeof(err));
	store_write(st, DM "/command", "save");
	toolstack_handle(ts);
	/* Xen's path; the failure is logged, the guest resumed, state sane. */
	CU_ASSERT_STRING_EQUAL(f.calls, "stop;save_path /var/lib/xen/qemu-save.4 live=0;cont;");
	CU_ASSERT_STRING_EQUAL(f.logs, "dm-command save: no space left on device\n");
	CU_ASSERT_STRING_EQUAL(val(st, DM "/state"), "running");
	CU_ASSERT_EQUAL(f.state, DM_RUN_RUNNING);
	toolstack_free(ts);
	store_close(st);
}

static void test_settimeoffset(void)
{
	char vbuf[128];
	static const struct {
		const char *in;
		long long applied; /* or LLONG_MIN: refused */
		const char *log;
	} cases[] = {
	    {"7200", 7200, ""},
	    {"-25200", -25200, ""},
	    {"+60", 60, ""},
	    {"0", 0, ""},
	    {"2147483647", 2147483647LL, ""},
	    {"-2147483648", -2147483648LL, ""},
	    {"2147483648", LLONG_MIN,
	     "settimeoffset refused: offset '2147483648' out of range [-2147483648, 2147483647] "
	     "seconds\n"},
	    {"-2147483649", LLONG_MIN,
	     "settimeoffset refused: offset '-2147483649' out of range [-2147483648, 2147483647] "
	     "seconds\n"},
	    {"99999999999999999999999999", LLONG_MIN,
	     "settimeoffset refused: offset '99999999999999999999999999' out of range "
	     "[-2147483648, 2147483647] seconds\n"},
	    {"12abc", LLONG_MIN, "settimeoffset refused: '12abc' is not a decimal integer\n"},
	    {"", LLONG_MIN, "settimeoffset refused: '' is not a decimal integer\n"},
	    {" 5", LLONG_MIN, "settimeoffset refused: ' 5' is not a decimal integer\n"},
	    {"5 ", LLONG_MIN, "settimeoffset refused: '5 ' is not a decimal integer\n"},
	    {"-", LLONG_MIN, "settimeoffset refused: '-' is not a decimal integer\n"},
	    {"0x10", LLONG_MIN, "settimeoffset refused: '0x10' is not a decimal integer\n"},
	    {"1e3", LLONG_MIN, "settimeoffset refused: '1e3' is not a decimal integer\n"},
	    {"--1", LLONG_MIN, "settimeoffset refused: '--1' is not a decimal integer\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store *st = store_mem_new();
		struct fake_dm f = {.state = DM_RUN_RUNNING, .offset = {.seconds = 111}};
		struct toolstack *ts = mk(st, &f, UUID, NULL);
		char err[128];

		toolstack_ready(ts, err, sizeof(err));
		store_write(st, DM "/rtc/settimeoffset", cases[i].in);
		toolstack_handle(ts);
		/* Acknowledged by removal either way. */
		CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/settimeoffset"), "<none>");
		CU_ASSERT_STRING_EQUAL(f.logs, cases[i].log);
		if (cases[i].applied != LLONG_MIN) {
			char pub[32];
			snprintf(pub, sizeof(pub), "%lld", cases[i].applied);
			CU_ASSERT_EQUAL(f.set_offset_calls, 1);
			CU_ASSERT_EQUAL(f.offset.seconds, cases[i].applied);
			CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/timeoffset"), pub);
			CU_ASSERT_STRING_EQUAL(val(st, "/vm/" UUID "/rtc/timeoffset"), pub);
		} else {
			/* Nothing changed. */
			CU_ASSERT_EQUAL(f.set_offset_calls, 0);
			CU_ASSERT_EQUAL(f.offset.seconds, 111);
			CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/timeoffset"), "111");
		}
		if (strcmp(f.logs, cases[i].log) != 0)
			fprintf(stderr, "\ncase %zu: log %s", i, f.logs);
		toolstack_free(ts);
		store_close(st);
	}
}

static void ignore_event(void *arg, const char *path, const char *token)
{
	(void)arg;
	(void)path;
	(void)token;
}

static void test_settimeoffset_written_before_start(void)
{
	char vbuf[128];
	struct store *st = store_mem_new();
	struct fake_dm f = {.state = DM_RUN_PRELAUNCH};
	char err[128];

	/* The toolstack wrote it before we watched: applied on the first
	 * dispatch (xenstored fires a new watch once). */
	store_write(st, DM "/rtc/settimeoffset", "3600");
	struct toolstack_config cfg = {.domid = 4, .ops = &fake_ops, .opaque = &f};
	struct toolstack *ts = toolstack_new(st, &cfg, err, sizeof(err));
	CU_ASSERT_EQUAL(f.set_offset_calls, 0);
	CU_ASSERT_EQUAL(toolstack_fd(ts), store_fd(st));
	toolstack_handle(ts);
	CU_ASSERT_EQUAL(f.set_offset_calls, 1);
	CU_ASSERT_EQUAL(f.offset.seconds, 3600);
	CU_ASSERT_STRING_EQUAL(val(st, DM "/rtc/settimeoffset"), "<none>");
	/* After toolstack_free nothing is watched any more. */
	toolstack_free(ts);
	store_dispatch(st, ignore_event, NULL); /* what was queued before */
	store_write(st, DM "/rtc/settimeoffset", "5");
	CU_ASSERT_EQUAL(store_mem_pending(st), 0);
	store_close(st);
}

static void test_parse_offset(void)
{
	int64_t v = 42;
	char err[128];

	CU_ASSERT_EQUAL(dm_parse_offset("-0", &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(dm_parse_offset("00012", &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v, 12);
	v = 42;
	CU_ASSERT_EQUAL(dm_parse_offset("+-1", &v, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(v, 42);
	CU_ASSERT_STRING_EQUAL(err, "'+-1' is not a decimal integer");
	CU_ASSERT_STRING_EQUAL(dm_run_state_name(DM_RUN_INMIGRATE), "inmigrate");
	CU_ASSERT_STRING_EQUAL(dm_run_state_name((enum dm_run_state)9), "unknown");
}

void suite_xs_toolstack(void)
{
	CU_pSuite s = CU_add_suite("xs_toolstack", NULL, NULL);
	CU_add_test(s, "ready: state and offset nodes", test_ready_and_publish);
	CU_add_test(s, "configuration refused", test_bad_config);
	CU_add_test(s, "watch events lost: said once, then given up", test_watch_lost);
	CU_add_test(s, "command protocol: save, continue, unknown", test_command_protocol);
	CU_add_test(s, "companion mode: rtc/ nodes only", test_rtc_nodes_only);
	CU_add_test(s, "save: default path, failure", test_save_default_path_and_failure);
	CU_add_test(s, "settimeoffset: applied or refused", test_settimeoffset);
	CU_add_test(s, "settimeoffset written before start", test_settimeoffset_written_before_start);
	CU_add_test(s, "strict offset parsing", test_parse_offset);
}
