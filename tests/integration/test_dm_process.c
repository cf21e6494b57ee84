/*
 * The rtcdm process: signals, the qtest peer leaving, libxl's argument
 * list, malformed option values, platform selection, the toolstack offset
 * and an idle process that never wakes up.
 */
#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "tests/support/support.h"

void suite_dm_process(void);

#define W 1700000000ull
#define T2030 1893456000ull

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static unsigned count_substr(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void exit_on_signal(int sig)
{
	struct qtest q;

	if (qtest_start(&q, "1700000000", NULL) < 0) {
		CU_FAIL("cannot start rtcdm");
		return;
	}
	CU_ASSERT_STRING_EQUAL(qtest_cmd(&q, "endianness"), "OK little");
	support_signal(&q.proc, sig);
	CU_ASSERT_EQUAL(support_wait(&q.proc, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(q.proc.err, "exiting"));
	qtest_quit(&q);
}

static void test_sigterm(void)
{
	exit_on_signal(SIGTERM);
}

static void test_sighup(void)
{
	exit_on_signal(SIGHUP);
}

static void test_sigint(void)
{
	exit_on_signal(SIGINT);
}

static void test_qtest_peer_leaves(void)
{
	struct qtest q;

	if (qtest_start(&q, "1700000000", NULL) < 0) {
		CU_FAIL("cannot start rtcdm");
		return;
	}
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(q.proc.err, "qtest client gone, exiting"));
}

/* The 28 words libxl 4.17 passes on create, plus the restore-free extras a
 * config may add; all must be accepted next to our sim options. */
static void test_libxl_argv(void)
{
	/* The QMP sockets are served: they need a directory that exists. */
	char libxl_cmd[128], libxenstat_cmd[128];
	snprintf(libxl_cmd, sizeof(libxl_cmd),
	         "socket,id=libxl-cmd,path=/tmp/rtcdm-qmp-libxl-%d,server=on,wait=off", (int)getpid());
	snprintf(libxenstat_cmd, sizeof(libxenstat_cmd),
	         "socket,id=libxenstat-cmd,path=/tmp/rtcdm-qmp-libxenstat-%d,server=on,wait=off",
	         (int)getpid());
	const char *const extra[] = {
		"-xen-domid", "7", "-no-shutdown",
		"-chardev", libxl_cmd,
		"-mon", "chardev=libxl-cmd,mode=control",
		"-chardev", libxenstat_cmd,
		"-mon", "chardev=libxenstat-cmd,mode=control",
		"-nodefaults", "-no-user-config", "-name", "guest7", "-vnc", "none",
		"-display", "none", "-boot", "order=cda", "-net", "none",
		"-machine", "xenfv,suppress-vmdesc=on", "-m", "128",
		"-device", "rtl8139,netdev=net0", "-device", "cirrus-vga",
		"-frobnicate", "hard", "--twiddle",
		NULL};
	struct qtest q;
	const char *err;

	if (qtest_start(&q, "1700000000", extra) < 0) {
		CU_FAIL("rtcdm did not start with libxl's argv");
		return;
	}
	CU_ASSERT_EQUAL(cmos_read(&q, 0x0a), 0x26);
	CU_ASSERT_TRUE(support_stderr_wait(&q.proc, "running", SUPPORT_TIMEOUT_MS));
	err = support_stderr(&q.proc);
	/* One line names what is ignored, each once (-device is given twice). */
	CU_ASSERT_EQUAL(count_substr(err, " rtcdm[7] info: RTC only, ignoring options -nodefaults, "
	                                  "-no-user-config, -vnc, -display, -boot, -net, -m, "
	                                  "-device, -frobnicate hard (unknown), --twiddle (unknown); "
	                                  "keys -machine suppress-vmdesc\n"),
	                1);
	CU_ASSERT_EQUAL(count_substr(err, "ignoring"), 1);
	CU_ASSERT_EQUAL(count_substr(err, " rtcdm[7] "), count_lines(err) - 0);
	CU_ASSERT_EQUAL(count_substr(err, "error"), 0);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
}

/* Malformed values of options rtcdm uses: one line, exit status 2. */
static void test_bad_values(void)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
		{{"-xen-domid", "abc"}, "error: -xen-domid: 'abc' is not a domain id (0..32751)\n"},
		{{"--domid", "32752"}, "error: --domid: '32752' is not a domain id (0..32751)\n"},
		{{"--time-offset", "1x"},
		 "error: --time-offset '1x': expected whole seconds in -2147483648..2147483647\n"},
		{{"--time-offset", "2147483648"},
		 "error: --time-offset '2147483648': expected whole seconds in -2147483648..2147483647\n"},
		{{"-incoming", "tcp:127.0.0.1:4444"},
		 "error: -incoming 'tcp:127.0.0.1:4444': only fd:N is supported\n"},
		{{"-incoming", "fd:x"}, "error: -incoming 'fd:x': fd:N needs a descriptor number\n"},
		{{"-chardev", "socket,path=/tmp/x,server=on"},
		 "error: -chardev 'socket,path=/tmp/x,server=on': missing id=\n"},
		{{"-chardev", "socket,id=a,server=on"},
		 "error: -chardev 'socket,id=a,server=on': a socket needs exactly one of path= and fd=\n"},
		{{"-mon", "chardev=nope,mode=control"}, "error: -mon: no -chardev with id 'nope'\n"},
		{{"--platform", "kvm"}, "error: --platform 'kvm': expected sim or xen\n"},
		{{"--sim-wallclock", "12.x"},
		 "error: --sim-wallclock '12.x': expected UNIX_SECONDS[.FRACTION]\n"},
		{{"--lost-ticks", "keep"}, "error: --lost-ticks 'keep': expected discard or slew\n"},
		{{"-uuid", "1234"},
		 "error: -uuid '1234': expected a UUID (8-4-4-4-12 hex digits)\n"},
		{{"-rtc", "base=yesterday"},
		 "error: -rtc 'base=yesterday': base must be utc, localtime or a date\n"},
		{{"--qtest", "tcp:1"}, "error: --qtest 'tcp:1': expected unix:PATH\n"},
		{{"--state-dir", "/nonexistent/rtcdm"},
		 "error: --state-dir '/nonexistent/rtcdm': No such file or directory\n"},
		{{"-xen-domid"}, "error: -xen-domid needs an argument\n"},
		{{"stray"}, "error: unexpected argument 'stray' (options start with '-')\n"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct support_proc p;
		const char *args[8] = {"--platform", "sim"};
		size_t n = 2;

		for (size_t a = 0; a < 4 && cases[i].args[a]; a++)
			args[n++] = cases[i].args[a];
		args[n] = NULL;
		CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args, SUPPORT_TIMEOUT_MS), 2);
		CU_ASSERT_EQUAL(count_lines(p.err), 1);
		if (!strstr(p.err, cases[i].msg)) {
			fprintf(stderr, "\n  expected '%s', got '%s'", cases[i].msg, p.err);
			CU_FAIL("message");
		}
	}
}

/* The end of the one error line rtcdm prints for --platform xen where it
 * cannot work: a build without the Xen libraries, or no privcmd device (not
 * a Xen dom0: libxenctrl finds neither /dev/xen/privcmd nor
 * /proc/xen/privcmd).  NULL on a dom0 (not testable here). */
static const char *xen_unavailable_reason(void)
{
#if RTCDM_HAVE_XEN
	if (access("/dev/xen/privcmd", F_OK) == 0 || access("/proc/xen/privcmd", F_OK) == 0)
		return NULL;
	return "error: platform 'xen': cannot open the Xen control interface: No such file or "
	       "directory (not in dom0 with xenfs and privcmd?)\n";
#else
	return "error: platform 'xen': rtcdm was built without Xen support\n";
#endif
}

static void test_platform_xen_unavailable(void)
{
	static const char *const args[] = {"--platform", "xen", "--domid", "3", NULL};
	static const char *const no_domid[] = {"--platform", "xen", NULL};
	const char *want = xen_unavailable_reason();
	struct support_proc p;
	size_t n;

	/* Without a domain id the command line is refused (status 2) before
	 * anything touches Xen, in every build. */
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", no_domid, SUPPORT_TIMEOUT_MS), 2);
	CU_ASSERT_EQUAL(count_lines(p.err), 1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p.err, "error: --platform xen needs a domain id (--domid or -xen-domid)\n"));
	if (!want)
		return;
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args, SUPPORT_TIMEOUT_MS), 1);
	/* the mode (no -machine: not libxl's HVM list), then the one error line */
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p.err, "info: RTC-only mode (not libxl's HVM argument list)\n"));
	CU_ASSERT_EQUAL(count_lines(p.err), 2);
	n = strlen(want);
	CU_ASSERT_FATAL(p.err_len >= n);
	CU_ASSERT_STRING_EQUAL(p.err + p.err_len - n, want);
}

static void test_qtest_connect_fails(void)
{
	static const char *const args[] = {"--platform", "sim", "-qtest",
	                                   "unix:/nonexistent/rtcdm-qtest.sock", NULL};
	struct support_proc p;

	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args, SUPPORT_TIMEOUT_MS), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(
		p.err, "error: cannot connect to the qtest socket '/nonexistent/rtcdm-qtest.sock': "
		       "No such file or directory\n"));
}

static void test_help_version(void)
{
	static const char *const help[] = {"--help", NULL};
	static const char *const version[] = {"--version", NULL};
	struct support_proc p;

	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", help, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(p.err_len, 0);
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", version, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(p.err_len, 0);
}

static void test_toolstack_offset(void)
{
	static const char *const extra[] = {"--time-offset", "3600", NULL};
	struct qtest q;
	struct dm_shinfo_wallclock wc;

	if (qtest_start(&q, "1700000000.25", extra) < 0) {
		CU_FAIL("cannot start rtcdm");
		return;
	}
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x23); /* 22:13:20 + 1 h */
	CU_ASSERT_EQUAL(cmos_read(&q, 0x02), 0x13);
	CU_ASSERT_EQUAL(shinfo_read(q.shinfo_path, &wc), 0);
	CU_ASSERT_EQUAL(wc.sec, (int64_t)W + 3600);
	CU_ASSERT_EQUAL(wc.nsec, 250000000);
	CU_ASSERT_EQUAL(wc.version, 4);
	/* Host phase 0.25 s: the first update comes 0.75 s after clock 0. */
	CU_ASSERT_EQUAL(qtest_clock_set(&q, 749999999), 749999999);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x20);
	CU_ASSERT_EQUAL(qtest_clock_set(&q, 750000000), 750000000);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x00), 0x21);
	CU_ASSERT_FALSE(q.broken);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
}

static void test_rtc_base_date(void)
{
	static const char *const extra[] = {"-rtc", "base=2030-01-01T00:00:00,driftfix=slew", NULL};
	struct qtest q;
	struct dm_shinfo_wallclock wc;

	if (qtest_start(&q, "1700000000", extra) < 0) {
		CU_FAIL("cannot start rtcdm");
		return;
	}
	CU_ASSERT_EQUAL(cmos_read(&q, 0x09), 0x30);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x08), 0x01);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x07), 0x01);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x04), 0x00);
	CU_ASSERT_EQUAL(shinfo_read(q.shinfo_path, &wc), 0);
	CU_ASSERT_EQUAL(wc.sec, (int64_t)T2030);
	CU_ASSERT_FALSE(q.broken);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
}

/* Real clock, no interrupt enabled: the process sleeps in epoll_wait and
 * is never woken.  (A behavioural check, not a speed measurement.) */
static void test_idle_no_wakeups(void)
{
	static const char *const args[] = {"--platform", "sim", "--domid", "4", NULL};
	struct support_proc p;
	struct timespec pause = {0, 300000000};
	long before, after;

	if (support_spawn(&p, "rtcdm", args, NULL, 0) < 0) {
		CU_FAIL("spawn");
		return;
	}
	CU_ASSERT_TRUE(support_stderr_wait(&p, "running", SUPPORT_TIMEOUT_MS));
	/* Let it reach epoll_wait after logging. */
	nanosleep(&(struct timespec){0, 50000000}, NULL);
	before = support_proc_status(p.pid, "voluntary_ctxt_switches");
	nanosleep(&pause, NULL);
	after = support_proc_status(p.pid, "voluntary_ctxt_switches");
	CU_ASSERT_TRUE(before >= 0);
	CU_ASSERT_EQUAL(after, before);
	support_signal(&p, SIGTERM);
	CU_ASSERT_EQUAL(support_wait(&p, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, "rtcdm[4] info: received Terminated, exiting"));
	support_proc_cleanup(&p);
}

void suite_dm_process(void)
{
	CU_pSuite s = CU_add_suite("dm_process (rtcdm process and command line)", NULL, NULL);

	CU_add_test(s, "SIGTERM: exit 0", test_sigterm);
	CU_add_test(s, "SIGHUP: exit 0", test_sighup);
	CU_add_test(s, "SIGINT: exit 0", test_sigint);
	CU_add_test(s, "qtest peer leaves: exit 0", test_qtest_peer_leaves);
	CU_add_test(s, "libxl argv and unknown options", test_libxl_argv);
	CU_add_test(s, "bad option values: one line, exit 2", test_bad_values);
	CU_add_test(s, "--platform xen unavailable: exit 1", test_platform_xen_unavailable);
	CU_add_test(s, "qtest socket missing: exit 1", test_qtest_connect_fails);
	CU_add_test(s, "--help and --version", test_help_version);
	CU_add_test(s, "--time-offset: RTC and PV wallclock", test_toolstack_offset);
	CU_add_test(s, "-rtc base=DATE", test_rtc_base_date);
	CU_add_test(s, "idle: no wakeups", test_idle_no_wakeups);
}
