/* dm/cli.c: rtcdm's options and libxl's qemu-xen argument lists. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dm/cli.h"

void suite_dm_cli(void);

/* Parse a NULL-terminated list; log lines go into a pipe read back into logbuf. */
static int parse(struct dm_config *cfg, const char *const *words, char *err, size_t errlen,
                 char *logbuf, size_t loglen)
{
	char *argv[80];
	int argc = 0, pfd[2], rc;
	struct dm_log log;

	argv[argc++] = (char *)"rtcdm";
	for (size_t i = 0; words[i]; i++)
		argv[argc++] = (char *)words[i];
	argv[argc] = NULL;
	if (pipe2(pfd, O_NONBLOCK) < 0)
		return -1;
	dm_log_init(&log, pfd[1]);
	dm_config_init(cfg);
	err[0] = '\0';
	rc = dm_cli_parse(cfg, argc, argv, &log, err, errlen);
	ssize_t n = read(pfd[0], logbuf, loglen - 1);
	logbuf[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	close(pfd[1]);
	return rc;
}

static unsigned count(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* libxl's qemu-xen argument list for an HVM domain, ending in -machine xenfv
 * (libxl puts device_model_args_hvm after it). */
#define LIBXL_HVM_ARGV                                                                        \
	"-xen-domid", "12", "-no-shutdown",                                                   \
	"-chardev", "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-12,server=on,wait=off",  \
	"-mon", "chardev=libxl-cmd,mode=control",                                             \
	"-chardev", "socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-12,server=on," \
	"wait=off",                                                                           \
	"-mon", "chardev=libxenstat-cmd,mode=control",                                        \
	"-nodefaults", "-no-user-config", "-name", "win10,debug-threads=on", "-vnc", "none",  \
	"-display", "none", "-boot", "order=cda", "-net", "none",                             \
	"-machine", "xenfv,suppress-vmdesc=on", "-m", "1024"

static void test_libxl_create(void)
{
	static const char *const argv[] = {LIBXL_HVM_ARGV, NULL};
	struct dm_config cfg;
	char err[256], log[4096];

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, argv, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_EQUAL(cfg.domid, 12);
	CU_ASSERT_EQUAL(cfg.platform, DM_PLATFORM_XEN); /* -xen-domid without --platform */
	CU_ASSERT_TRUE(cfg.no_shutdown);
	CU_ASSERT_STRING_EQUAL(cfg.name, "win10");
	CU_ASSERT_STRING_EQUAL(cfg.machine, "xenfv,suppress-vmdesc=on");
	CU_ASSERT_PTR_NULL(cfg.accel);
	CU_ASSERT_EQUAL_FATAL(cfg.n_chardevs, 2);
	CU_ASSERT_STRING_EQUAL(cfg.chardevs[0].id, "libxl-cmd");
	CU_ASSERT_EQUAL(cfg.chardevs[0].backend, DM_CHARDEV_SOCKET);
	CU_ASSERT_STRING_EQUAL(cfg.chardevs[0].path, "/var/run/xen/qmp-libxl-12");
	CU_ASSERT_EQUAL(cfg.chardevs[0].fd, -1);
	CU_ASSERT_TRUE(cfg.chardevs[0].server);
	CU_ASSERT_FALSE(cfg.chardevs[0].wait);
	CU_ASSERT_STRING_EQUAL(cfg.chardevs[1].path, "/var/run/xen/qmp-libxenstat-12");
	CU_ASSERT_EQUAL_FATAL(cfg.n_monitors, 2);
	CU_ASSERT_STRING_EQUAL(cfg.monitors[0].chardev, "libxl-cmd");
	CU_ASSERT_TRUE(cfg.monitors[0].control);
	CU_ASSERT_STRING_EQUAL(cfg.monitors[1].chardev, "libxenstat-cmd");
	CU_ASSERT_EQUAL(cfg.incoming_fd, -1);
	CU_ASSERT_FALSE(cfg.start_paused);
	/* Companion mode by default: what rtcdm does not use is QEMU's, not ignored. */
	CU_ASSERT_TRUE(cfg.companion);
	CU_ASSERT_STRING_EQUAL(cfg.machine_type, "xenfv");
	CU_ASSERT_STRING_EQUAL(strstr(log, "rtcdm["),
	                       "rtcdm[12] info: companion mode (HVM domain started by libxl)\n");
	CU_ASSERT_EQUAL(count(log, "\n"), 1);
	dm_config_free(&cfg);
}

/* The same list with device_model_args_hvm = [ "--rtc-only" ]: RTC-only
 * mode, which names what it ignores. */
static void test_libxl_create_rtc_only(void)
{
	static const char *const argv[] = {LIBXL_HVM_ARGV, "--rtc-only", NULL};
	struct dm_config cfg;
	char err[256], log[4096];

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, argv, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_EQUAL(cfg.platform, DM_PLATFORM_XEN);
	CU_ASSERT_FALSE(cfg.companion);
	CU_ASSERT_TRUE(cfg.rtc_only);
	/* The mode first, then what is ignored. */
	CU_ASSERT_EQUAL(strncmp(strstr(log, "rtcdm["), "rtcdm[12] info: RTC-only mode (--rtc-only)\n",
	                        strlen("rtcdm[12] info: RTC-only mode (--rtc-only)\n")),
	                0);
	CU_ASSERT_EQUAL(count(log, "rtcdm[12] info: RTC only, ignoring options -nodefaults, "
	                           "-no-user-config, -vnc, -display, -boot, -net, -m; keys -name "
	                           "debug-threads, -machine suppress-vmdesc\n"),
	                1);
	CU_ASSERT_EQUAL(count(log, "\n"), 2);
	dm_config_free(&cfg);
}

/* Each branch of the mode rule (choose_mode() in dm/cli.c): the mode and
 * the line that says why. */
static void test_mode_rule(void)
{
	static const struct {
		const char *argv[12];
		bool companion;
		const char *line; /* from "rtcdm[" to the end of the log */
	} cases[] = {
		/* --companion wins everywhere, the simulated platform included */
		{{"--companion", "--platform", "sim"}, true,
		 "rtcdm[-] info: companion mode (--companion)\n"},
		{{"-xen-domid", "4", "-machine", "xenpv", "--companion"}, true,
		 "rtcdm[4] info: companion mode (--companion)\n"},
		/* libxl's HVM list on Xen: xenfv, or pc with the xen accelerator */
		{{"-xen-domid", "4", "-machine", "xenfv,suppress-vmdesc=on"}, true,
		 "rtcdm[4] info: companion mode (HVM domain started by libxl)\n"},
		{{"-xen-domid", "4", "-machine", "pc,accel=xen,suppress-vmdesc=on"}, true,
		 "rtcdm[4] info: companion mode (HVM domain started by libxl)\n"},
		{{"--platform", "xen", "--domid", "4", "-machine", "type=pc", "-accel", "xen"}, true,
		 "rtcdm[4] info: companion mode (HVM domain started by libxl)\n"},
		/* --rtc-only keeps the RTC-only mode on that list */
		{{"-xen-domid", "4", "-machine", "xenfv", "--rtc-only"}, false,
		 "rtcdm[4] info: RTC-only mode (--rtc-only)\n"},
		{{"--rtc-only", "--platform", "sim"}, false, "rtcdm[-] info: RTC-only mode (--rtc-only)\n"},
		/* the simulated platform: tests, the demo */
		{{"--platform", "sim", "-xen-domid", "4", "-machine", "xenfv"}, false,
		 "rtcdm[4] info: RTC-only mode (simulated platform)\n"},
		{{"-xen-domid", "4", "-machine", "xenfv", "-qtest", "unix:/tmp/q"}, false,
		 "rtcdm[4] info: RTC-only mode (simulated platform)\n"},
		{{NULL}, false, "rtcdm[-] info: RTC-only mode (simulated platform)\n"},
		/* Xen without libxl's HVM list: PVH (rtcdm-attach), QEMU as a PVH backend */
		{{"--platform", "xen", "--domid", "4"}, false,
		 "rtcdm[4] info: RTC-only mode (not libxl's HVM argument list)\n"},
		{{"-xen-domid", "4", "-machine", "xenpv"}, false,
		 "rtcdm[4] info: RTC-only mode (not libxl's HVM argument list)\n"},
		{{"-xen-domid", "4", "-machine", "pc,accel=tcg"}, false,
		 "rtcdm[4] info: RTC-only mode (not libxl's HVM argument list)\n"},
		{{"-xen-domid", "4", "-machine", "pc"}, false,
		 "rtcdm[4] info: RTC-only mode (not libxl's HVM argument list)\n"},
		{{"-xen-domid", "4", "-machine", "xenfvx"}, false,
		 "rtcdm[4] info: RTC-only mode (not libxl's HVM argument list)\n"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dm_config cfg;
		char err[256], log[1024];
		const char *line;

		CU_ASSERT_EQUAL_FATAL(parse(&cfg, cases[i].argv, err, sizeof(err), log, sizeof(log)), 0);
		line = strstr(log, "rtcdm[");
		CU_ASSERT_EQUAL(cfg.companion, cases[i].companion);
		CU_ASSERT_PTR_NOT_NULL_FATAL(line);
		CU_ASSERT_STRING_EQUAL(line, cases[i].line);
		if (cfg.companion != cases[i].companion || strcmp(line, cases[i].line) != 0)
			fprintf(stderr, "\n  case %zu: companion %d, log '%s'", i, cfg.companion, line);
		dm_config_free(&cfg);
	}
}

/* --qemu in companion mode, whichever way it was chosen; --help and
 * --version log no mode. */
static void test_mode_qemu_help(void)
{
	static const char *const by_default[] = {"-xen-domid", "4", "-machine", "xenfv",
	                                         "--qemu", "/opt/qemu", NULL};
	static const char *const help[] = {"-xen-domid", "4", "-machine", "xenfv", "--help", NULL};
	struct dm_config cfg;
	char err[256], log[1024];

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, by_default, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_TRUE(cfg.companion);
	CU_ASSERT_FALSE(cfg.companion_given);
	CU_ASSERT_STRING_EQUAL(cfg.qemu_path, "/opt/qemu");
	dm_config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(parse(&cfg, help, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_TRUE(cfg.help);
	CU_ASSERT_STRING_EQUAL(log, "");
	dm_config_free(&cfg);
}

static void test_libxl_restrict_restore(void)
{
	static const char *const argv[] = {
		"-xen-domid", "3", "-chardev", "socket,id=libxl-cmd,fd=14,server=on,wait=off", "-S",
		"-mon", "chardev=libxl-cmd,mode=control", "-xen-domid-restrict",
		"-chroot", "/var/run/xen/qemu-root-3", "-runas", "xen-qemuuser-shared",
		"-uuid", "0b3C1a5e-29f4-4d8c-9a1e-7f00aa55cc01", "-incoming", "fd:15",
		"-machine", "pc,accel=xen", "--platform=sim", NULL};
	static const uint8_t uuid[16] = {0x0b, 0x3c, 0x1a, 0x5e, 0x29, 0xf4, 0x4d, 0x8c,
	                                 0x9a, 0x1e, 0x7f, 0x00, 0xaa, 0x55, 0xcc, 0x01};
	struct dm_config cfg;
	char err[256], log[4096];

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, argv, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_EQUAL(cfg.platform, DM_PLATFORM_SIM);
	CU_ASSERT_EQUAL(cfg.chardevs[0].fd, 14);
	CU_ASSERT_PTR_NULL(cfg.chardevs[0].path);
	CU_ASSERT_TRUE(cfg.start_paused);
	CU_ASSERT_TRUE(cfg.domid_restrict);
	CU_ASSERT_STRING_EQUAL(cfg.chroot_dir, "/var/run/xen/qemu-root-3");
	CU_ASSERT_STRING_EQUAL(cfg.runas, "xen-qemuuser-shared");
	CU_ASSERT_TRUE(cfg.uuid_set);
	CU_ASSERT_EQUAL(memcmp(cfg.uuid, uuid, 16), 0);
	CU_ASSERT_EQUAL(cfg.incoming_fd, 15);
	CU_ASSERT_STRING_EQUAL(cfg.accel, "xen");
	CU_ASSERT_FALSE(cfg.companion); /* --platform=sim */
	CU_ASSERT_STRING_EQUAL(strstr(log, "rtcdm["),
	                       "rtcdm[3] info: RTC-only mode (simulated platform)\n");
	dm_config_free(&cfg);
}

static void test_own_options(void)
{
	static const char *const argv[] = {
		"--domid", "0x10", "--platform", "sim", "--time-offset", "-3600", "--qtest",
		"unix:/tmp/q.sock", "-qtest-log", "/dev/null", "--sim-shared-info", "/tmp/si",
		"--sim-wallclock", "1700000000.5", "--lost-ticks=slew", "--index-wait-us", "0",
		"-v", "-v", "-q", NULL};
	struct dm_config cfg;
	char err[256], log[256];

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, argv, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_EQUAL(cfg.domid, 16);
	CU_ASSERT_TRUE(cfg.time_offset_given);
	CU_ASSERT_EQUAL(cfg.time_offset, -3600);
	CU_ASSERT_STRING_EQUAL(cfg.qtest_path, "/tmp/q.sock");
	CU_ASSERT_STRING_EQUAL(cfg.qtest_log, "/dev/null");
	CU_ASSERT_STRING_EQUAL(cfg.sim_shared_info, "/tmp/si");
	CU_ASSERT_TRUE(cfg.sim_wallclock_given);
	CU_ASSERT_EQUAL(cfg.sim_wallclock_ns, 1700000000500000000LL);
	CU_ASSERT_EQUAL(cfg.lost_ticks, RTC_LOST_TICKS_SLEW);
	CU_ASSERT_EQUAL(cfg.index_wait_us, 0);
	CU_ASSERT_EQUAL(cfg.verbosity, 1);
	dm_config_free(&cfg);
}

static void test_rtc_option(void)
{
	static const char *const a1[] = {"-rtc", "base=localtime,clock=vm,driftfix=slew", NULL};
	static const char *const a2[] = {"-rtc", "base=2006-06-17T16:01:21", NULL};
	static const char *const a3[] = {"-rtc", "base=2006-06-17", NULL};
	struct dm_config cfg;
	char err[256], log[256];

	CU_ASSERT_EQUAL(parse(&cfg, a1, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_EQUAL(cfg.index_wait_us, 200); /* the default */
	CU_ASSERT_EQUAL(cfg.rtc_base, DM_RTC_BASE_LOCALTIME);
	CU_ASSERT_EQUAL(cfg.lost_ticks, RTC_LOST_TICKS_SLEW);
	dm_config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, a2, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_EQUAL(cfg.rtc_base, DM_RTC_BASE_DATE);
	CU_ASSERT_EQUAL(cfg.rtc_base_date, 1150560081);
	dm_config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, a3, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_EQUAL(cfg.rtc_base_date, 1150502400);
	dm_config_free(&cfg);
}

/* Unknown options: the next word is their argument unless it starts with '-'. */
static void test_unknown_options(void)
{
	static const char *const argv[] = {"-newfangled", "x,y", "-flag", "-xen-domid", "5",
	                                   "--whatever=1", "-device", "a", "-device", "b", NULL};
	struct dm_config cfg;
	char err[256], log[2048];

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, argv, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_EQUAL(cfg.domid, 5);
	CU_ASSERT_STRING_EQUAL(strstr(log, "rtcdm[5] info: RTC only"),
	                       "rtcdm[5] info: RTC only, ignoring options -newfangled x,y (unknown), "
	                       "-flag (unknown), --whatever=1 (unknown), -device\n");
	dm_config_free(&cfg);
}

static void test_errors(void)
{
	static const struct {
		const char *argv[8];
		const char *err;
	} cases[] = {
		{{"-xen-domid", "abc"}, "-xen-domid: 'abc' is not a domain id (0..32751)"},
		{{"-xen-domid", "-1"}, "-xen-domid: '-1' is not a domain id (0..32751)"},
		{{"-xen-domid", "32752"}, "-xen-domid: '32752' is not a domain id (0..32751)"},
		{{"-xen-domid", "0x7ff0"}, "-xen-domid: '0x7ff0' is not a domain id (0..32751)"},
		{{"-xen-domid", " 1"}, "-xen-domid: ' 1' is not a domain id (0..32751)"},
		{{"-xen-domid", "0x"}, "-xen-domid: '0x' is not a domain id (0..32751)"},
		{{"--domid", "99999999999999999999"},
		 "--domid: '99999999999999999999' is not a domain id (0..32751)"},
		{{"--time-offset", "1x"},
		 "--time-offset '1x': expected whole seconds in -2147483648..2147483647"},
		{{"--time-offset", " 5"},
		 "--time-offset ' 5': expected whole seconds in -2147483648..2147483647"},
		{{"-incoming", "defer"}, "-incoming 'defer': only fd:N is supported"},
		{{"-chardev", "socket"}, "-chardev 'socket': missing id="},
		{{"-chardev", "socket,id=a,path=/x,fd=3"},
		 "-chardev 'socket,id=a,path=/x,fd=3': a socket needs exactly one of path= and fd="},
		{{"-chardev", "socket,id=a,path=/x,server=maybe"},
		 "-chardev 'socket,id=a,path=/x,server=maybe': server must be on or off"},
		{{"-chardev", "socket,id=a,path=/x", "-chardev", "socket,id=a,path=/y"},
		 "-chardev: duplicate id 'a'"},
		{{"-mon", "mode=control"}, "-mon 'mode=control': missing chardev="},
		{{"-mon", "chardev=x,mode=qmp"}, "-mon 'chardev=x,mode=qmp': mode must be control or readline"},
		{{"-rtc", "driftfix=fast"}, "-rtc 'driftfix=fast': driftfix must be none or slew"},
		{{"-rtc", "speed=2"}, "-rtc 'speed=2': unknown parameter 'speed'"},
		{{"-qtest", "unix:"}, "-qtest 'unix:': expected unix:PATH"},
		{{"--restore", "/nonexistent/img"}, "--restore '/nonexistent/img': No such file or directory"},
		{{"--state-dir", "/dev/null"}, "--state-dir '/dev/null': not a directory"},
		{{"--help=1"}, "--help takes no value"},
		{{"--platform", "xen"}, "--platform xen needs a domain id (--domid or -xen-domid)"},
		{{"--platform", "xen", "--domid", "1", "-qtest", "unix:/x"}, "-qtest needs --platform sim"},
		{{"-incoming", "fd:3", "-loadvm", "/dev/null"}, "-loadvm '/dev/null': not a regular file"},
		{{"-name", ",process=x"}, "-name: empty name"},
		{{"--companion", "--rtc-only"}, "--companion and --rtc-only are exclusive"},
		{{"-xen-domid", "1", "-machine", "xenfv", "--rtc-only", "--companion"},
		 "--companion and --rtc-only are exclusive"},
		{{"--rtc-only", "--qemu", "/q"}, "--qemu and --rtc-only are exclusive"},
		{{"-xen-domid", "1", "-machine", "xenfv", "--rtc-only", "--qemu", "/q"},
		 "--qemu and --rtc-only are exclusive"},
		{{"--qemu", "/q"}, "--qemu needs --companion"},
		{{"--platform", "sim", "-xen-domid", "1", "-machine", "xenfv", "--qemu", "/q"},
		 "--qemu needs --companion"},
		{{"-xen-domid", "1", "-machine", "xenpv", "--qemu", "/q"}, "--qemu needs --companion"},
		{{"--rtc-only=1"}, "--rtc-only takes no value"},
		{{"--index-wait-us", "10001"}, "--index-wait-us '10001': expected microseconds in 0..10000"},
		{{"--index-wait-us", "-5"}, "--index-wait-us '-5': expected microseconds in 0..10000"},
		{{"--index-wait-us", "1e3"}, "--index-wait-us '1e3': expected microseconds in 0..10000"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dm_config cfg;
		char err[256], log[512];

		CU_ASSERT_EQUAL(parse(&cfg, cases[i].argv, err, sizeof(err), log, sizeof(log)), 2);
		CU_ASSERT_STRING_EQUAL(err, cases[i].err);
		if (strcmp(err, cases[i].err) != 0)
			fprintf(stderr, "\n  case %zu: got '%s'", i, err);
		dm_config_free(&cfg);
	}
}

static void test_number_parsers(void)
{
	uint64_t u;
	int64_t i, ns;
	uint8_t uuid[16];

	CU_ASSERT_EQUAL(dm_parse_u64("0x7f", &u), 0);
	CU_ASSERT_EQUAL(u, 0x7f);
	CU_ASSERT_EQUAL(dm_parse_u64("18446744073709551615", &u), 0);
	CU_ASSERT_EQUAL(u, UINT64_MAX);
	CU_ASSERT_EQUAL(dm_parse_u64("18446744073709551616", &u), -1);
	CU_ASSERT_EQUAL(dm_parse_u64("-1", &u), -1);
	CU_ASSERT_EQUAL(dm_parse_u64("", &u), -1);
	CU_ASSERT_EQUAL(dm_parse_u64("12 ", &u), -1);
	CU_ASSERT_EQUAL(dm_parse_i64("-9223372036854775808", &i), 0);
	CU_ASSERT_EQUAL(i, INT64_MIN);
	CU_ASSERT_EQUAL(dm_parse_i64("0x10", &i), -1);
	CU_ASSERT_EQUAL(dm_parse_wallclock("1.000000001", &ns), 0);
	CU_ASSERT_EQUAL(ns, 1000000001);
	CU_ASSERT_EQUAL(dm_parse_wallclock("5", &ns), 0);
	CU_ASSERT_EQUAL(ns, 5000000000LL);
	CU_ASSERT_EQUAL(dm_parse_wallclock("1.0000000001", &ns), -1);
	CU_ASSERT_EQUAL(dm_parse_wallclock("1.", &ns), -1);
	CU_ASSERT_EQUAL(dm_parse_wallclock("-1", &ns), -1);
	CU_ASSERT_EQUAL(dm_parse_wallclock("99999999999999999999", &ns), -1);
	CU_ASSERT_EQUAL(dm_parse_uuid("00112233-4455-6677-8899-aabbccddeeff", uuid), 0);
	CU_ASSERT_EQUAL(uuid[0], 0x00);
	CU_ASSERT_EQUAL(uuid[15], 0xff);
	CU_ASSERT_EQUAL(dm_parse_uuid("00112233-4455-6677-8899_aabbccddeeff", uuid), -1);
	CU_ASSERT_EQUAL(dm_parse_uuid("0011223-44556-6677-8899-aabbccddeeff", uuid), -1);
	CU_ASSERT_EQUAL(dm_parse_uuid("00112233-4455-6677-8899-aabbccddeefg", uuid), -1);
}

/* One domain-id parser for rtcdm and rtcdm-ctx: decimal (a leading zero is
 * not octal) or 0x hex, 0..32751, nothing around it. */
static void test_domid_parser(void)
{
	static const struct {
		const char *s;
		int rc;
		uint32_t v;
	} cases[] = {
		{"0", 0, 0},         {"7", 0, 7},          {"010", 0, 10},      {"32751", 0, 32751},
		{"0x7fef", 0, 32751}, {"0X1A", 0, 26},     {"32752", -1, 0},    {"0x7ff0", -1, 0},
		{"", -1, 0},         {"0x", -1, 0},        {"+1", -1, 0},       {"-0", -1, 0},
		{" 1", -1, 0},       {"1 ", -1, 0},        {"1e3", -1, 0},      {"4294967303", -1, 0},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		uint32_t v = 12345;
		int rc = dm_parse_domid(cases[k].s, &v);

		CU_ASSERT_EQUAL(rc, cases[k].rc);
		CU_ASSERT_EQUAL(v, rc == 0 ? cases[k].v : 12345u);
		if (rc != cases[k].rc)
			fprintf(stderr, "dm_parse_domid(\"%s\") = %d\n", cases[k].s, rc);
	}
	CU_ASSERT_EQUAL(dm_parse_domid(NULL, NULL), -1);
}

/* QEMU's ",," (a literal comma inside a value) in every option rtcdm reads,
 * with QEMU's documented examples: "-chardev socket,id=x,path=/a,,b,
 * server=on" gives the path "/a,b"; "string=a,,b" gives "a,b"; "file=
 * my,,file" gives "my,file" (docs/system/invocation.rst). */
static void test_qemu_commas(void)
{
	static const char *const argv[] = {
		"-chardev", "socket,id=x,path=/a,,b,server=on",
		"-chardev", "socket,id=a,,b,path=my,,file,,,wait=off,server=on",
		"-mon", "chardev=a,,b,mode=control",
		"-mon", "x,mode=control",
		"-name", "guest=a,,b,debug-threads=on",
		"-qtest", "unix:/tmp/q,,s",
		"-accel", "kvm,,tcg,thread=single",
		NULL};
	static const char *const bad_rtc[] = {"-rtc", "base=2006-06-17,,driftfix=slew", NULL};
	static const char *const name_implied[] = {"-name", "my,,vm,process=x", NULL};
	struct dm_config cfg;
	char err[256], log[1024];

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, argv, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg.n_chardevs, 2);
	CU_ASSERT_STRING_EQUAL(cfg.chardevs[0].id, "x");
	CU_ASSERT_STRING_EQUAL(cfg.chardevs[0].path, "/a,b");
	CU_ASSERT_TRUE(cfg.chardevs[0].server);
	CU_ASSERT_STRING_EQUAL(cfg.chardevs[1].id, "a,b");
	CU_ASSERT_STRING_EQUAL(cfg.chardevs[1].path, "my,file,");
	CU_ASSERT_FALSE(cfg.chardevs[1].wait);
	CU_ASSERT_TRUE(cfg.chardevs[1].server);
	CU_ASSERT_EQUAL_FATAL(cfg.n_monitors, 2);
	CU_ASSERT_STRING_EQUAL(cfg.monitors[0].chardev, "a,b");
	CU_ASSERT_STRING_EQUAL(cfg.monitors[1].chardev, "x"); /* implied chardev= */
	CU_ASSERT_TRUE(cfg.monitors[1].control);
	CU_ASSERT_STRING_EQUAL(cfg.name, "a,b");
	CU_ASSERT_STRING_EQUAL(cfg.qtest_path, "/tmp/q,s");
	CU_ASSERT_STRING_EQUAL(cfg.accel, "kvm,tcg");
	CU_ASSERT_STRING_EQUAL(strstr(log, "rtcdm[-] info: RTC only"),
	                       "rtcdm[-] info: RTC only, ignoring keys -name debug-threads, "
	                       "-accel thread\n");
	dm_config_free(&cfg);

	CU_ASSERT_EQUAL(parse(&cfg, name_implied, err, sizeof(err), log, sizeof(log)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.name, "my,vm");
	dm_config_free(&cfg);

	/* A list that would not fit ends in "..." and stays one line. */
	{
		const char *many[130];
		char names[64][24];
		size_t n = 0;

		for (int i = 0; i < 64; i++) {
			snprintf(names[i], sizeof(names[i]), "-unknown%02d", i);
			many[n++] = names[i];
		}
		many[n] = NULL;
		CU_ASSERT_EQUAL(parse(&cfg, many, err, sizeof(err), log, sizeof(log)), 0);
		CU_ASSERT_EQUAL(count(log, "\n"), 2); /* the mode, then what is ignored */
		CU_ASSERT_PTR_NOT_NULL(strstr(log, "-unknown00 (unknown), -unknown01 (unknown)"));
		CU_ASSERT_PTR_NOT_NULL(strstr(log, ", ...\n"));
		dm_config_free(&cfg);
	}

	/* ",," keeps the rest inside the value: not a second key. */
	CU_ASSERT_EQUAL(parse(&cfg, bad_rtc, err, sizeof(err), log, sizeof(log)), 2);
	CU_ASSERT_STRING_EQUAL(err, "-rtc 'base=2006-06-17,,driftfix=slew': base must be utc, "
	                            "localtime or a date");
	dm_config_free(&cfg);
}

void suite_dm_cli(void)
{
	CU_pSuite s = CU_add_suite("dm_cli (command line)", NULL, NULL);

	CU_add_test(s, "libxl create argv: companion mode by default", test_libxl_create);
	CU_add_test(s, "libxl create argv with --rtc-only", test_libxl_create_rtc_only);
	CU_add_test(s, "the mode rule: companion or RTC-only, and why", test_mode_rule);
	CU_add_test(s, "--qemu in the default companion mode; --help logs no mode",
	            test_mode_qemu_help);
	CU_add_test(s, "libxl dm_restrict + restore argv", test_libxl_restrict_restore);
	CU_add_test(s, "own options", test_own_options);
	CU_add_test(s, "-rtc", test_rtc_option);
	CU_add_test(s, "unknown options", test_unknown_options);
	CU_add_test(s, "errors: exact messages, status 2", test_errors);
	CU_add_test(s, "number, wallclock and UUID parsers", test_number_parsers);
	CU_add_test(s, "domain id parser", test_domid_parser);
	CU_add_test(s, "QEMU's ',,' in option values", test_qemu_commas);
}
