/*
 * Companion mode, first part: rtcdm --companion runs a QEMU (here the
 * stand-in tests/fake-qemu) as its child: the argument list it gets, its
 * readiness, signals passed on, its exit status, failures to start or early
 * exits, its stderr in rtcdm's, the private directory; libxl's QMP
 * monitors relayed to QEMU's (greeting, ids, events, descriptors, dm_restrict's
 * pre-opened socket).
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dm/battery.h"
#include "saverestore/companion.h"
#include "saverestore/sr.h"
#include "toolstack/xenstore/store_dir.h"
#include "tests/support/support.h"

void suite_companion(void);

struct comp {
	char dir[64];
	char fake[PATH_MAX];
	char argv_file[PATH_MAX];
	struct support_proc proc;
	char last_err[32768]; /* stderr of the last life of one_life() */
};

/* A temporary directory (also TMPDIR for rtcdm) and the stand-in's path. */
static int comp_setup(struct comp *c)
{
	char rel[PATH_MAX];

	memset(c, 0, sizeof(*c));
	c->proc.pid = -1;
	c->proc.err_fd = -1;
	snprintf(rel, sizeof(rel), "%s/fake-qemu", support_build_dir());
	if (support_tmpdir(c->dir, sizeof(c->dir)) < 0 || !realpath(rel, c->fake))
		return -1;
	snprintf(c->argv_file, sizeof(c->argv_file), "%s/argv", c->dir);
	setenv("TMPDIR", c->dir, 1);
	setenv("FAKE_QEMU_ARGV", c->argv_file, 1);
	return 0;
}

/* rtcdm --companion --qemu FAKE args... */
static int comp_start(struct comp *c, const char *const args[])
{
	const char *argv[40];
	size_t n = 0;

	argv[n++] = "--companion";
	argv[n++] = "--qemu";
	argv[n++] = c->fake;
	argv[n++] = "--platform";
	argv[n++] = "sim";
	for (size_t i = 0; args[i] && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return support_spawn(&c->proc, "rtcdm", argv, NULL, 0);
}

static void comp_cleanup(struct comp *c)
{
	support_proc_cleanup(&c->proc);
	support_rmtree(c->dir);
	unsetenv("TMPDIR");
	unsetenv("FAKE_QEMU_ARGV");
	unsetenv("FAKE_QEMU_EXIT");
	unsetenv("FAKE_QEMU_DIE_BY_SIGNAL");
	unsetenv("FAKE_QEMU_NO_HMP");
	unsetenv("FAKE_QEMU_REFUSE");
	unsetenv("FAKE_QEMU_SIGNALS");
}

static unsigned count_substr(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Entries of dir whose name starts with prefix. */
static unsigned count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* libxl's argv (with dm_restrict's -S) and rtcdm's own options in between:
 * QEMU gets libxl's words in order, none of rtcdm's, and rtcdm's monitor at
 * the end on an inherited descriptor, then the memory file for its device
 * state (-add-fd). */
static void test_argv_and_ready(void)
{
	static const char *const args[] = {
		"-xen-domid", "7", "-no-shutdown", "--time-offset", "3600", "-v",
		"-name", "guest", "--lost-ticks=slew", "-m", "1024", "-S",
		"-machine", "xenfv,suppress-vmdesc=on", NULL};
	struct comp c;
	char got[4096], want[PATH_MAX + 512];
	int fd = -1, sfd = -1;
	const char *add;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	CU_ASSERT_EQUAL_FATAL(comp_start(&c, args), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU 7.2.0 ready", SUPPORT_TIMEOUT_MS));
	read_file(c.argv_file, got, sizeof(got));
	CU_ASSERT_EQUAL(sscanf(strstr(got, "fd=") ? strstr(got, "fd=") : "", "fd=%d", &fd), 1);
	add = strstr(got, "-add-fd\nfd=");
	CU_ASSERT_EQUAL(sscanf(add ? add : "", "-add-fd\nfd=%d", &sfd), 1);
	snprintf(want, sizeof(want),
	         "%s\n-xen-domid\n7\n-no-shutdown\n-name\nguest\n-m\n1024\n-S\n-machine\n"
	         "xenfv,suppress-vmdesc=on\n-chardev\nsocket,id=rtcdm-qmp,fd=%d,server=on,wait=off\n"
	         "-mon\nchardev=rtcdm-qmp,mode=control\n-add-fd\nfd=%d,set=127\n",
	         c.fake, fd, sfd);
	CU_ASSERT_STRING_EQUAL(got, want);
	CU_ASSERT_TRUE(fd > 2);
	CU_ASSERT_TRUE(sfd > 2 && sfd != fd);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "status prelaunch)"));
	/* QEMU's CMOS from its device state; the save is not live, so QEMU,
	 * whose machine is not running (-S), keeps its disks */
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "NVRAM from QEMU's CMOS", SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "QEMU's CMOS read from its device state"));
	CU_ASSERT_PTR_NULL(strstr(c.proc.err, "block devices inactivated"));
	/* -m and -machine are QEMU's here, not ignored */
	CU_ASSERT_PTR_NULL(strstr(c.proc.err, "ignoring"));
	/* the private directory with rtcdm's socket exists while QEMU runs */
	CU_ASSERT_EQUAL(count_entries(c.dir, "rtcdm-qemu."), 1);
	support_signal(&c.proc, SIGHUP);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(count_substr(c.proc.err, "passing SIGHUP on to QEMU"), 1);
	/* QEMU's stderr is rtcdm's */
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "fake-qemu: terminating on signal 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "QEMU ended (status 0), exiting with its status"));
	CU_ASSERT_EQUAL(count_entries(c.dir, "rtcdm-qemu."), 0);
	comp_cleanup(&c);
}

/* QEMU starts as libxl would start it: no signal blocked, and neither the
 * signals rtcdm ignores (SIGPIPE, SIGXFSZ) nor those its loop takes
 * (SIGTERM, SIGINT, SIGHUP, blocked in rtcdm) ignored. */
static void test_qemu_signals(void)
{
	static const char *const args[] = {"-xen-domid", "7", NULL};
	const unsigned long long reset = 1ull << (SIGPIPE - 1) | 1ull << (SIGXFSZ - 1) |
	                                 1ull << (SIGTERM - 1) | 1ull << (SIGINT - 1) |
	                                 1ull << (SIGHUP - 1);
	unsigned long long blk = ~0ull, ign = ~0ull;
	char path[PATH_MAX], got[512];
	struct comp c;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	snprintf(path, sizeof(path), "%s/signals", c.dir);
	setenv("FAKE_QEMU_SIGNALS", path, 1);
	CU_ASSERT_EQUAL_FATAL(comp_start(&c, args), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU 7.2.0 ready", SUPPORT_TIMEOUT_MS));
	read_file(path, got, sizeof(got));
	CU_ASSERT_EQUAL(sscanf(got, "SigBlk: %llx SigIgn: %llx", &blk, &ign), 2);
	CU_ASSERT_EQUAL(blk, 0);
	CU_ASSERT_EQUAL(ign & reset, 0);
	support_signal(&c.proc, SIGTERM);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	comp_cleanup(&c);
}

static void signal_passed_on(int sig, const char *name, bool die, int status)
{
	static const char *const args[] = {"-xen-domid", "7", NULL};
	struct comp c;
	char line[128];

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	if (die)
		setenv("FAKE_QEMU_DIE_BY_SIGNAL", "1", 1);
	CU_ASSERT_EQUAL_FATAL(comp_start(&c, args), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU 7.2.0 ready", SUPPORT_TIMEOUT_MS));
	/* held stopped by rtcdm (no -S from libxl) */
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "status prelaunch)"));
	support_signal(&c.proc, sig);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), status);
	snprintf(line, sizeof(line), "passing %s on to QEMU", name);
	CU_ASSERT_EQUAL(count_substr(c.proc.err, line), 1);
	snprintf(line, sizeof(line), "fake-qemu: terminating on signal %d\n", sig);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, line));
	if (die) {
		snprintf(line, sizeof(line), "QEMU ended (killed by %s), exiting with its status",
		         name);
		CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, line));
	}
	CU_ASSERT_EQUAL(count_entries(c.dir, "rtcdm-qemu."), 0);
	comp_cleanup(&c);
}

static void test_sigterm(void)
{
	signal_passed_on(SIGTERM, "SIGTERM", false, 0);
}

static void test_sigint(void)
{
	signal_passed_on(SIGINT, "SIGINT", false, 0);
}

/* QEMU killed by the signal: rtcdm exits 128 + N. */
static void test_killed_status(void)
{
	signal_passed_on(SIGTERM, "SIGTERM", true, 128 + SIGTERM);
	signal_passed_on(SIGHUP, "SIGHUP", true, 128 + SIGHUP);
}

static void test_missing_program(void)
{
	static const char *const args[] = {"--companion", "--qemu", "/nonexistent/qemu",
	                                   "-xen-domid", "7", NULL};
	struct comp c;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	CU_ASSERT_EQUAL(support_run(&c.proc, "rtcdm", args, SUPPORT_TIMEOUT_MS), 1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(c.proc.err, "error: cannot start QEMU /nonexistent/qemu: No such file or directory\n"));
	/* the mode, then the one error line */
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "info: companion mode (--companion)\n"));
	CU_ASSERT_EQUAL(count_substr(c.proc.err, "\n"), 2);
	CU_ASSERT_EQUAL(count_entries(c.dir, "rtcdm-qemu."), 0);
	comp_cleanup(&c);
}

/* QEMU that ends before its monitor answered: one line, status not 0. */
static void early_exit(const char *code, int status)
{
	static const char *const args[] = {"-xen-domid", "7", NULL};
	struct comp c;
	char line[PATH_MAX + 128];

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	setenv("FAKE_QEMU_EXIT", code, 1);
	CU_ASSERT_EQUAL_FATAL(comp_start(&c, args), 0);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), status);
	snprintf(line, sizeof(line), "error: QEMU %s ended before it was ready (status %s)\n",
	         c.fake, code);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, line));
	CU_ASSERT_EQUAL(count_substr(c.proc.err, "error:"), 1);
	CU_ASSERT_EQUAL(count_substr(c.proc.err, "QEMU 7.2.0 ready"), 0);
	CU_ASSERT_EQUAL(count_entries(c.dir, "rtcdm-qemu."), 0);
	comp_cleanup(&c);
}

static void test_early_exit(void)
{
	early_exit("3", 3);
	early_exit("0", 1);
}

/* rtcdm's RTC cannot take the ports over once QEMU is ready (here: no Xen
 * to create its ioreq server on): one error line, QEMU stopped, status 1,
 * so that xl create fails rather than QEMU answering alone. */
static void test_attach_refused(void)
{
	struct comp c;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	const char *const args[] = {"--companion", "--qemu", c.fake, "--platform", "xen",
	                            "-xen-domid", "7", NULL};
	CU_ASSERT_EQUAL(support_run(&c.proc, "rtcdm", args, SUPPORT_TIMEOUT_MS), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "QEMU 7.2.0 ready"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "error: platform 'xen': "));
	CU_ASSERT_EQUAL(count_substr(c.proc.err, "error:"), 1);
	CU_ASSERT_EQUAL(count_entries(c.dir, "rtcdm-qemu."), 0);
	comp_cleanup(&c);
}

/* QEMU refuses the device-state save: its CMOS is read byte by byte
 * (HMP), with QEMU's reason in the log.  QEMU refuses to start the
 * machine rtcdm held stopped: one error line with QEMU's reason, QEMU
 * stopped, status 1 (xl create fails). */
static void test_qemu_refuses(void)
{
	static const char *const args[] = {"-xen-domid", "7", NULL};
	struct comp c;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	setenv("FAKE_QEMU_REFUSE", "xen-save-devices-state", 1);
	CU_ASSERT_EQUAL_FATAL(comp_start(&c, args), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "libxl's monitors relayed to QEMU",
	                                   SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err,
	                              "warning: QEMU's CMOS not in its device state "
	                              "(xen-save-devices-state refused: xen-save-devices-state "
	                              "refused by the stand-in): read byte by byte\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "NVRAM from QEMU's CMOS: 2 bytes changed"));
	support_signal(&c.proc, SIGTERM);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	comp_cleanup(&c);

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	setenv("FAKE_QEMU_REFUSE", "cont", 1);
	CU_ASSERT_EQUAL_FATAL(comp_start(&c, args), 0);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "error: QEMU did not start its machine (cont): "
	                                          "cont refused by the stand-in\n"));
	CU_ASSERT_EQUAL(count_substr(c.proc.err, "error:"), 1);
	CU_ASSERT_PTR_NULL(strstr(c.proc.err, "libxl's monitors relayed"));
	CU_ASSERT_EQUAL(count_entries(c.dir, "rtcdm-qemu."), 0);
	comp_cleanup(&c);
}

static void test_bad_options(void)
{
	static const char *const no_companion[] = {"--qemu", "/usr/bin/true", NULL};
	static const char *const relative[] = {"--companion", "--qemu", "qemu", NULL};
	struct support_proc p;

	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", no_companion, SUPPORT_TIMEOUT_MS), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, "error: --qemu needs --companion\n"));
	CU_ASSERT_EQUAL(count_substr(p.err, "\n"), 1);
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", relative, SUPPORT_TIMEOUT_MS), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, "error: --qemu 'qemu': expected an absolute path\n"));
	CU_ASSERT_EQUAL(count_substr(p.err, "\n"), 1);
}

/* libxl's monitor, relayed: a client there talks to QEMU, and quit ends
 * both processes.  Without libxl's -S, QEMU's machine is held stopped
 * until rtcdm's RTC is ready. */
static void test_libxl_monitor_reaches_qemu(void)
{
	struct comp c;
	char chardev[256], path[128], buf[1024];
	const char *cont, *relayed;
	int fd;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	snprintf(path, sizeof(path), "%s/qmp-libxl-7", c.dir);
	snprintf(chardev, sizeof(chardev), "socket,id=libxl-cmd,path=%s,server=on,wait=off", path);
	const char *const args[] = {"-xen-domid", "7", "-v", "-chardev", chardev,
	                            "-mon", "chardev=libxl-cmd,mode=control", NULL};
	CU_ASSERT_EQUAL_FATAL(comp_start(&c, args), 0);
	/* libxl gave no -S: rtcdm holds QEMU's machine stopped ("-S", last)
	 * while it reads QEMU's CMOS, which QEMU then saves without stopping
	 * and restarting it */
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU 7.2.0 ready (pid", SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, ", status prelaunch)"));
	read_file(c.argv_file, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n-add-fd\nfd="));
	CU_ASSERT_EQUAL(strlen(buf) > 4 ? strcmp(buf + strlen(buf) - 4, "\n-S\n") : -1, 0);
	fd = support_unix_connect(path);
	CU_ASSERT_TRUE(support_read_line(fd, buf, sizeof(buf), SUPPORT_TIMEOUT_MS));
	CU_ASSERT_STRING_EQUAL(buf, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
	                            "\"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u1\"}, "
	                            "\"capabilities\": [\"oob\"]}}\r\n");
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"qmp_capabilities\",\"id\":1}", -1,
	                                       buf, sizeof(buf)),
	                       "{\"return\": {}, \"id\": 1}\r\n");
	/* libxl meets a running machine, as without rtcdm; rtcdm started it
	 * once its RTC was ready */
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"query-status\",\"id\":3}", -1,
	                                       buf, sizeof(buf)),
	                       "{\"return\": {\"status\": \"running\", \"singlestep\": false, "
	                       "\"running\": true}, \"id\": 3}\r\n");
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "libxl's monitors relayed to QEMU",
	                                   SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "QEMU's CMOS read from its device state"));
	CU_ASSERT_PTR_NULL(strstr(c.proc.err, "stopped and started again"));
	CU_ASSERT_PTR_NULL(strstr(c.proc.err, "block devices inactivated"));
	cont = strstr(c.proc.err, "QEMU's machine started (cont)");
	relayed = strstr(c.proc.err, "libxl's monitors relayed to QEMU");
	CU_ASSERT_TRUE(cont && relayed && cont < relayed);
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"quit\",\"id\":2}", -1, buf,
	                                       sizeof(buf)),
	                       "{\"return\": {}, \"id\": 2}\r\n");
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "QEMU ended (status 0), exiting with its status"));
	if (fd >= 0)
		close(fd);
	comp_cleanup(&c);
}

/* Read one line (a QMP message) or "<none>". */
static const char *line(int fd, char *buf, size_t len)
{
	if (!support_read_line(fd, buf, len, SUPPORT_TIMEOUT_MS))
		snprintf(buf, len, "<none>");
	return buf;
}

#define GREETING                                                                              \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "        \
	"\"package\": \"Debian 1:7.2+dfsg-7+deb12u1\"}, \"capabilities\": [\"oob\"]}}\r\n"

/* The stand-in's device state: 209 bytes (tests/fake-qemu/fake_qemu.c). */
#define FAKE_STREAM 209

/* A context as companion mode saves it: the stand-in's stream,
 * rtcdm's image, the trailer; rtcdm-ctx dump shows both parts. */
static uint8_t saved_nvram(const char *file, unsigned index);

static void check_saved(const char *file, long long offset)
{
	char out[16384], want[256];
	const char *args[] = {"dump", file, NULL};
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct sr_companion found;
	struct stat st;
	char err[256];

	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fstat(fd, &st), 0);
	CU_ASSERT_EQUAL(sr_companion_find(fd, 0, (uint64_t)st.st_size, &found, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(found.qemu_len, FAKE_STREAM);
	CU_ASSERT_EQUAL(st.st_size, FAKE_STREAM + (off_t)found.image_len + 32);
	CU_ASSERT_TRUE(sr_has(&found.image, SR_REC_OFFSET));
	CU_ASSERT_EQUAL(found.image.offset.seconds, offset);
	CU_ASSERT_EQUAL(found.image.offset.set, 1);
	close(fd);
	CU_ASSERT_EQUAL(support_capture("rtcdm-ctx", args, true, SUPPORT_TIMEOUT_MS, out, sizeof(out)), 0);
	snprintf(want, sizeof(want),
	         "device-model context: %lld bytes in companion mode\n"
	         "  QEMU's stream: bytes 0..%d (%d bytes, ends with QEMU_VM_EOF)\n"
	         "  rtcdm's image: bytes %d..%u (%u bytes)\n",
	         (long long)st.st_size, FAKE_STREAM - 1, FAKE_STREAM, FAKE_STREAM,
	         FAKE_STREAM + found.image_len - 1, found.image_len);
	CU_ASSERT_EQUAL(strncmp(out, want, strlen(want)), 0);
}

/* Both of libxl's monitors, as libxl 4.17 lays them out. */
static void test_passthrough(void)
{
	struct comp c;
	char cmd_path[128], stat_path[128], cd1[256], cd2[256], buf[1024], file[128], want[256];
	struct stat st;
	int fd1, fd2, save_fd;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	snprintf(cmd_path, sizeof(cmd_path), "%s/qmp-libxl-7", c.dir);
	snprintf(stat_path, sizeof(stat_path), "%s/qmp-libxenstat-7", c.dir);
	snprintf(cd1, sizeof(cd1), "socket,id=libxl-cmd,path=%s,server=on,wait=off", cmd_path);
	snprintf(cd2, sizeof(cd2), "socket,id=libxenstat-cmd,path=%s,server=on,wait=off", stat_path);
	const char *const args[] = {"-xen-domid", "7", "--time-offset", "3600", "-chardev", cd1,
	                            "-mon", "chardev=libxl-cmd,mode=control",
	                            "-chardev", cd2,
	                            "-mon", "chardev=libxenstat-cmd,mode=control", "-S", NULL};
	CU_ASSERT_EQUAL_FATAL(comp_start(&c, args), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU 7.2.0 ready", SUPPORT_TIMEOUT_MS));
	/* QEMU got its monitors on rtcdm's sockets, not libxl's paths */
	read_file(c.argv_file, buf, sizeof(buf));
	CU_ASSERT_PTR_NULL(strstr(buf, cmd_path));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nsocket,id=libxl-cmd,fd="));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nsocket,id=libxenstat-cmd,fd="));

	fd1 = support_unix_connect(cmd_path);
	fd2 = support_unix_connect(stat_path);
	CU_ASSERT_STRING_EQUAL(line(fd1, buf, sizeof(buf)), GREETING);
	CU_ASSERT_STRING_EQUAL(line(fd2, buf, sizeof(buf)), GREETING);
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd1, "{\"execute\":\"qmp_capabilities\",\"id\":\"a\"}",
	                                       -1, buf, sizeof(buf)),
	                       "{\"return\": {}, \"id\": \"a\"}\r\n");
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd2, "{\"execute\":\"qmp_capabilities\"}", -1, buf,
	                                       sizeof(buf)),
	                       "{\"return\": {}}\r\n");
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd1, "{\"execute\":\"query-status\",\"id\":7}", -1, buf,
	                                       sizeof(buf)),
	                       "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, "
	                       "\"running\": false}, \"id\": 7}\r\n");
	/* cont on one monitor: the event reaches the other */
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd1, "{\"execute\":\"cont\",\"id\":8}", -1, buf,
	                                       sizeof(buf)),
	                       "{\"return\": {}, \"id\": 8}\r\n");
	CU_ASSERT_STRING_EQUAL(line(fd2, buf, sizeof(buf)),
	                       "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 0}, "
	                       "\"event\": \"RESUME\"}\r\n");
	/* libxl's save: stop, add-fd with the file, xen-save-devices-state */
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd1, "{\"execute\":\"stop\",\"id\":9}", -1, buf,
	                                       sizeof(buf)),
	                       "{\"return\": {}, \"id\": 9}\r\n");
	snprintf(file, sizeof(file), "%s/qemu-save.7", c.dir);
	save_fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CU_ASSERT_EQUAL(strncmp(support_qmp_cmd(fd1, "{\"execute\":\"add-fd\",\"id\":10}", save_fd,
	                                        buf, sizeof(buf)),
	                        "{\"return\": {\"fdset-id\": 0, \"fd\": ",
	                        strlen("{\"return\": {\"fdset-id\": 0, \"fd\": ")),
	                0);
	close(save_fd);
	CU_ASSERT_STRING_EQUAL(
		support_qmp_cmd(fd1,
		                "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":"
		                "\"/dev/fdset/0\",\"live\":false},\"id\":11}",
		                -1, buf, sizeof(buf)),
		"{\"return\": {}, \"id\": 11}\r\n");
	CU_ASSERT_EQUAL(stat(file, &st), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "saved: QEMU's device state, then rtcdm's image",
	                                   SUPPORT_TIMEOUT_MS));
	check_saved(file, 3600);
	/* unknown commands come back with QEMU's own error */
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd2, "{\"execute\":\"query-nothing\",\"id\":1}", -1,
	                                       buf, sizeof(buf)),
	                       "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
	                       "query-nothing has not been found\"}, \"id\": 1}\r\n");
	/* one operation per connection, as libxl does: a new one works */
	close(fd1);
	fd1 = support_unix_connect(cmd_path);
	CU_ASSERT_STRING_EQUAL(line(fd1, buf, sizeof(buf)), GREETING);
	snprintf(want, sizeof(want), "{\"return\": {}, \"id\": 1}\r\n");
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd1, "{\"execute\":\"qmp_capabilities\",\"id\":1}", -1,
	                                       buf, sizeof(buf)), want);
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd1, "{\"execute\":\"quit\",\"id\":2}", -1, buf,
	                                       sizeof(buf)),
	                       "{\"return\": {}, \"id\": 2}\r\n");
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	/* rtcdm removes the sockets it made for libxl */
	CU_ASSERT_EQUAL(access(cmd_path, F_OK), -1);
	CU_ASSERT_EQUAL(access(stat_path, F_OK), -1);
	CU_ASSERT_EQUAL(count_entries(c.dir, "rtcdm-qemu."), 0);
	close(fd1);
	close(fd2);
	comp_cleanup(&c);
}

/* dm_restrict: libxl pre-opens the listening socket and passes -S; it
 * reads the run state over QMP.  QEMU does not inherit libxl's socket. */
static void test_restrict_preopened(void)
{
	struct comp c;
	char path[128], chardev[128], buf[1024], orig[32];
	int lfd, fd;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	snprintf(path, sizeof(path), "%s/qmp-libxl-9", c.dir);
	lfd = support_unix_listen(path, 4);
	CU_ASSERT_TRUE_FATAL(lfd >= 0);
	snprintf(chardev, sizeof(chardev), "socket,id=libxl-cmd,fd=%d,server=on,wait=off", lfd);
	snprintf(orig, sizeof(orig), "fd=%d,", lfd);
	const char *const args[] = {"--companion", "--qemu", c.fake, "--platform", "sim", "-xen-domid", "9",
	                            "-chardev", chardev, "-mon", "chardev=libxl-cmd,mode=control",
	                            "-S", "-xen-domid-restrict", NULL};
	CU_ASSERT_EQUAL_FATAL(support_spawn(&c.proc, "rtcdm", args, &lfd, 1), 0);
	close(lfd);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU 7.2.0 ready", SUPPORT_TIMEOUT_MS));
	read_file(c.argv_file, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nsocket,id=libxl-cmd,fd="));
	CU_ASSERT_PTR_NULL(strstr(buf, chardev));
	fd = support_unix_connect(path);
	CU_ASSERT_STRING_EQUAL(line(fd, buf, sizeof(buf)), GREETING);
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"qmp_capabilities\",\"id\":1}", -1,
	                                       buf, sizeof(buf)),
	                       "{\"return\": {}, \"id\": 1}\r\n");
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"query-status\",\"id\":2}", -1, buf,
	                                       sizeof(buf)),
	                       "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, "
	                       "\"running\": false}, \"id\": 2}\r\n");
	close(fd);
	support_signal(&c.proc, SIGHUP);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	comp_cleanup(&c);
}

/* libxl's save over a fresh connection to sock: stop, add-fd, save; then quit. */
static void save_and_quit(const char *sock, const char *file)
{
	char buf[1024];
	int fd = support_unix_connect(sock);
	int out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	line(fd, buf, sizeof(buf));
	support_qmp_cmd(fd, "{\"execute\":\"qmp_capabilities\"}", -1, buf, sizeof(buf));
	support_qmp_cmd(fd, "{\"execute\":\"stop\"}", -1, buf, sizeof(buf));
	support_qmp_cmd(fd, "{\"execute\":\"add-fd\"}", out, buf, sizeof(buf));
	close(out);
	CU_ASSERT_STRING_EQUAL(
		support_qmp_cmd(fd, "{\"execute\":\"xen-save-devices-state\",\"arguments\":"
		                    "{\"filename\":\"/dev/fdset/0\"}}",
		                -1, buf, sizeof(buf)),
		"{\"return\": {}}\r\n");
	support_qmp_cmd(fd, "{\"execute\":\"quit\"}", -1, buf, sizeof(buf));
	close(fd);
}

/* rtcdm --companion with libxl's monitor at sock and more args (extra, then
 * the NULL-terminated `more`); -incoming fd:N when `incoming` is a file. */
static int start_dm_args(struct comp *c, const char *sock, const char *incoming,
                         const char *extra, const char *mem_mb, const char *const *more)
{
	char chardev[256], in[32];
	const char *args[32];
	int fd = -1, rc;
	size_t n = 0;

	snprintf(chardev, sizeof(chardev), "socket,id=libxl-cmd,path=%s,server=on,wait=off", sock);
	if (incoming)
		fd = open(incoming, O_RDONLY); /* inherited, as libxl's qemu-resume file */
	snprintf(in, sizeof(in), "fd:%d", fd);
	const char *const fixed[] = {"--companion", "--qemu", c->fake, "--platform", "sim",
	                             "-xen-domid", "7", "-chardev", chardev,
	                             "-mon", "chardev=libxl-cmd,mode=control"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		args[n++] = fixed[i];
	if (incoming) {
		args[n++] = "-incoming";
		args[n++] = in;
	}
	if (extra)
		args[n++] = extra;
	if (mem_mb) {
		args[n++] = "-m";
		args[n++] = mem_mb;
	}
	for (size_t i = 0; more && more[i] && n < 31; i++)
		args[n++] = more[i];
	args[n] = NULL;
	rc = support_spawn(&c->proc, "rtcdm", args, &fd, fd >= 0);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int start_dm_mem(struct comp *c, const char *sock, const char *incoming,
                        const char *extra, const char *mem_mb)
{
	return start_dm_args(c, sock, incoming, extra, mem_mb, NULL);
}

static int start_dm(struct comp *c, const char *sock, const char *incoming, const char *extra)
{
	return start_dm_mem(c, sock, incoming, extra, NULL);
}

static void copy_prefix(const char *from, const char *to, off_t len, off_t patch_at, uint8_t v)
{
	char data[4096];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = read(in, data, sizeof(data));

	if (len < 0)
		len = n;
	if (patch_at >= 0 && patch_at < n)
		data[patch_at] = (char)v;
	CU_ASSERT_EQUAL(write(out, data, (size_t)len), (ssize_t)len);
	close(in);
	close(out);
}

/* A saved context restores: QEMU reads its stream from the start (the
 * stand-in checks every byte up to QEMU_VM_EOF) and rtcdm takes its part,
 * which the next save carries on; a stock context has no rtcdm part; a
 * malformed trailer is refused before QEMU starts. */
static void test_restore(void)
{
	struct comp c;
	char sock[128], a[128], b[128], bad[128], d[128], e[128];
	struct stat st;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	snprintf(sock, sizeof(sock), "%s/qmp-libxl-7", c.dir);
	snprintf(a, sizeof(a), "%s/saved", c.dir);
	snprintf(b, sizeof(b), "%s/stock", c.dir);
	snprintf(bad, sizeof(bad), "%s/bad", c.dir);
	snprintf(d, sizeof(d), "%s/again", c.dir);
	snprintf(e, sizeof(e), "%s/from-stock", c.dir);
	CU_ASSERT_EQUAL_FATAL(start_dm(&c, sock, NULL, "--time-offset=7200"), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU 7.2.0 ready", SUPPORT_TIMEOUT_MS));
	save_and_quit(sock, a);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	support_proc_cleanup(&c.proc);
	check_saved(a, 7200);

	/* restore, no toolstack offset: rtcdm's part comes back and is saved again */
	CU_ASSERT_EQUAL_FATAL(start_dm(&c, sock, a, NULL), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU loaded its incoming stream",
	                                   SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "info: incoming: QEMU's stream (209 bytes), then rtcdm's image ("));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "fake-qemu: loaded 209 bytes of device state, stopped at QEMU_VM_EOF\n"));
	save_and_quit(sock, d);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	support_proc_cleanup(&c.proc);
	check_saved(d, 7200);

	/* stock qemu-xen context: QEMU's stream alone */
	copy_prefix(a, b, FAKE_STREAM, -1, 0);
	{
		const char *dump[] = {"dump", b, "--json", NULL};
		char out[1024];

		CU_ASSERT_EQUAL(support_capture("rtcdm-ctx", dump, false, SUPPORT_TIMEOUT_MS, out,
		                                sizeof(out)), 0);
		CU_ASSERT_STRING_EQUAL(out, "{\n  \"context_bytes\":209,\n  \"qemu_stream_bytes\":209,\n"
		                            "  \"rtcdm_image_bytes\":null,\n  \"rtcdm\":null\n}\n");
	}
	/* QEMU's stream holds the guest's NVRAM (byte 0x40 = 0x5a in QEMU's RTC
	 * state): rtcdm reads QEMU's CMOS only once QEMU has loaded it */
	setenv("FAKE_QEMU_LOADED_CMOS", "40=5a", 1);
	CU_ASSERT_EQUAL_FATAL(start_dm(&c, sock, b, NULL), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "NVRAM from QEMU's CMOS", SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "info: incoming: a stock qemu-xen context, no rtcdm part\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "info: QEMU is loading its incoming stream; its "
	                                          "CMOS is read once it has\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "fake-qemu: loaded 209 bytes of device state"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "info: QEMU loaded its incoming stream (status running)\n"));
	/* all of QEMU's bytes (nothing of rtcdm's kept): the size, the boot order, the guest's byte */
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "info: NVRAM from QEMU's CMOS: 3 bytes changed"));
	save_and_quit(sock, e);
	unsetenv("FAKE_QEMU_LOADED_CMOS");
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	support_proc_cleanup(&c.proc);
	CU_ASSERT_EQUAL(saved_nvram(e, 0x40), 0x5a);
	CU_ASSERT_EQUAL(saved_nvram(e, 0x3d), 0x02);

	/* trailer version 2: refused, QEMU never started */
	CU_ASSERT_EQUAL(stat(a, &st), 0);
	copy_prefix(a, bad, -1, st.st_size - 24, 2);
	unlink(c.argv_file);
	CU_ASSERT_EQUAL_FATAL(start_dm(&c, sock, bad, NULL), 0);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "error: rtcdm trailer: version 2 (this rtcdm reads 1)\n"));
	CU_ASSERT_EQUAL(count_substr(c.proc.err, "\n"), 2); /* the mode, then the error */
	CU_ASSERT_EQUAL(access(c.argv_file, F_OK), -1);
	comp_cleanup(&c);
}

/* rtcdm's NVRAM in the image of a context: byte index. */
static uint8_t saved_nvram(const char *file, unsigned index)
{
	struct sr_companion found;
	struct stat st;
	char err[256];
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	uint8_t v = 0xee;

	if (fd >= 0 && fstat(fd, &st) == 0 &&
	    sr_companion_find(fd, 0, (uint64_t)st.st_size, &found, err, sizeof(err)) == 1 &&
	    sr_has(&found.image, SR_REC_NVRAM))
		v = found.image.nvram[index - 14];
	if (fd >= 0)
		close(fd);
	return v;
}

/* A copy of the context `from` (companion mode's) as `to`, its rtcdm image
 * changed by edit. */
static void edit_context(const char *from, const char *to, void (*edit)(struct sr_image *))
{
	struct sr_companion found;
	uint8_t stream[FAKE_STREAM], image[1024];
	struct stat st;
	char err[256];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n;

	CU_ASSERT_TRUE_FATAL(in >= 0 && out >= 0);
	CU_ASSERT_EQUAL(fstat(in, &st), 0);
	CU_ASSERT_EQUAL_FATAL(sr_companion_find(in, 0, (uint64_t)st.st_size, &found, err,
	                                        sizeof(err)), 1);
	CU_ASSERT_EQUAL(pread(in, stream, sizeof(stream), 0), (ssize_t)sizeof(stream));
	edit(&found.image);
	n = sr_encode(&found.image, image, sizeof(image));
	CU_ASSERT_TRUE_FATAL(n > 0 && n <= sizeof(image));
	CU_ASSERT_EQUAL(write(out, stream, sizeof(stream)), (ssize_t)sizeof(stream));
	CU_ASSERT_EQUAL(sr_companion_append(out, image, n, err, sizeof(err)), 0);
	close(in);
	close(out);
}

/* Guest byte 0x40 = 0x5a and an old memory size at 0x34-0x35 (0xff 0xff). */
static void guest_bytes(struct sr_image *img)
{
	img->nvram[0x40 - 14] = 0x5a;
	img->nvram[0x34 - 14] = 0xff;
	img->nvram[0x35 - 14] = 0xff;
}

/* Offset 0, not the toolstack's: restoring it changes no offset. */
static void offset_zero(struct sr_image *img)
{
	CU_ASSERT_TRUE_FATAL(sr_has(img, SR_REC_OFFSET));
	img->offset.seconds = 0;
	img->offset.set = 0;
}

/* One life of the domain: rtcdm and the stand-in with -m mem_mb (restoring
 * `incoming` when not NULL), its NVRAM line as `want_log`, then libxl's
 * save to `save_to`; then the saved NVRAM bytes 0x34 0x35 0x3d 0x40. */
static void one_life(struct comp *c, const char *sock, const char *incoming,
                     const char *mem_mb, const char *want_log, const char *save_to,
                     const uint8_t want[4])
{
	CU_ASSERT_EQUAL_FATAL(start_dm_mem(c, sock, incoming, NULL, mem_mb), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c->proc, "NVRAM from QEMU's CMOS", SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c->proc.err, want_log));
	save_and_quit(sock, save_to);
	CU_ASSERT_EQUAL(support_wait(&c->proc, SUPPORT_TIMEOUT_MS), 0);
	snprintf(c->last_err, sizeof(c->last_err), "%s", c->proc.err);
	support_proc_cleanup(&c->proc);
	CU_ASSERT_EQUAL(saved_nvram(save_to, 0x34), want[0]);
	CU_ASSERT_EQUAL(saved_nvram(save_to, 0x35), want[1]);
	CU_ASSERT_EQUAL(saved_nvram(save_to, 0x3d), want[2]);
	CU_ASSERT_EQUAL(saved_nvram(save_to, 0x40), want[3]);
}

/* rtcdm's NVRAM starts from QEMU's CMOS (read from QEMU's device state,
 * which QEMU writes into rtcdm's directory); on a restore QEMU's
 * configuration bytes (as QEMU loaded them from its stream) win over the
 * image's, the guest's bytes come back, and before QEMU saves again the
 * guest's byte goes into QEMU's CMOS. */
static void test_cmos_from_qemu(void)
{
	/* (MiB - 16) / 64 KiB at 0x34-0x35, boot order "c" at 0x3d, guest byte 0x40 */
	static const uint8_t fresh[4] = {0x00, 0x3f, 0x02, 0x00};
	static const uint8_t restored[4] = {0x00, 0x3f, 0x02, 0x5a};
	struct comp c;
	char sock[128], a[128], b[128], d[128];

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	snprintf(sock, sizeof(sock), "%s/qmp-libxl-7", c.dir);
	snprintf(a, sizeof(a), "%s/first", c.dir);
	snprintf(b, sizeof(b), "%s/guest", c.dir);
	snprintf(d, sizeof(d), "%s/second", c.dir);
	one_life(&c, sock, NULL, "1024",
	         "info: NVRAM from QEMU's CMOS: 2 bytes changed (memory above 16 MiB "
	         "0x34-0x35 = 00 3f)\n", a, fresh);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.last_err, "info: QEMU's CMOS read from its device state "
	                                          "(209 bytes)\n"));
	/* the first save brought rtcdm's century into QEMU's CMOS */
	CU_ASSERT_PTR_NOT_NULL(strstr(c.last_err, "fake-qemu: saved; NVRAM bytes not 0: 32=20 35=3f "
	                                          "3d=02\n"));
	/* rtcdm's image with a guest byte and a wrong size, restored */
	edit_context(a, b, guest_bytes);
	CU_ASSERT_EQUAL(saved_nvram(b, 0x40), 0x5a);
	CU_ASSERT_EQUAL(saved_nvram(b, 0x35), 0xff);
	one_life(&c, sock, b, "1024",
	         "info: NVRAM from QEMU's CMOS (its configuration bytes) and rtcdm's image "
	         "(the rest): 2 bytes changed (memory above 16 MiB 0x34-0x35 = 00 3f)\n", d,
	         restored);
	/* before QEMU saved, the guest's byte went into QEMU's CMOS (a stock
	 * qemu-xen restore of the image finds it in QEMU's stream) */
	CU_ASSERT_PTR_NOT_NULL(strstr(c.last_err, "info: QEMU's CMOS brought up to date before its "
	                                          "save: 1 NVRAM byte\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.last_err, "fake-qemu: saved; NVRAM bytes not 0: 32=20 35=3f "
	                                          "3d=02 40=5a\n"));
	comp_cleanup(&c);
}

#define CTL_UUID "5b0e1c2d-3f4a-4b5c-8d6e-7f8091a2b3c4"
#define CTL_DMP "/local/domain/0/device-model/7"

/* The battery file at path, loaded into img. */
static void read_battery(const char *path, struct sr_image *img)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	char err[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(sr_read_fd(fd, path, SR_IMAGE_MAX, &bytes, &len, err, sizeof(err)),
	                      0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(sr_load(bytes, len, img, err, sizeof(err)), 0);
	free(bytes);
}

/* img as the battery file at path (replaced in place). */
static void write_battery(const char *path, const struct sr_image *img)
{
	uint8_t out[1024];
	size_t n = sr_encode(img, out, sizeof(out));
	int fd;

	CU_ASSERT_TRUE_FATAL(n > 0 && n <= sizeof(out));
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	CU_ASSERT_EQUAL(write(fd, out, n), (ssize_t)n);
	close(fd);
}


/* Companion mode keeps rtcdm's control layer.  Its own QMP commands reach it
 * through libxl's relayed monitor (QEMU's CommandNotFound replaced); the
 * offset goes to xenstore's rtc/ nodes, and D/state stays QEMU's; the
 * battery-backed CMOS carries the guest's bytes and offset into the next
 * life, where QEMU's configuration bytes for the new boot (a new memory
 * size) win over the battery's. */
static void test_control_and_battery(void)
{
	struct comp c;
	char sock[128], state[128], xs[128], bat[256], saved[128], restored[128], buf[1024],
		val[64], err[256];
	const char *const more[] = {"-uuid", CTL_UUID, "--state-dir", state, "--sim-xenstore", xs,
	                            NULL};
	struct store *tool;
	struct sr_image img;
	int fd;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	snprintf(sock, sizeof(sock), "%s/qmp-libxl-7", c.dir);
	snprintf(state, sizeof(state), "%s/state", c.dir);
	snprintf(xs, sizeof(xs), "%s/xs", c.dir);
	snprintf(bat, sizeof(bat), "%s/%s.cmos", state, CTL_UUID);
	snprintf(saved, sizeof(saved), "%s/saved", c.dir);
	snprintf(restored, sizeof(restored), "%s/restored", c.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(state, 0700), 0);

	/* first life, 1024 MiB: the toolstack's offset through rtcdm's own command */
	CU_ASSERT_EQUAL_FATAL(start_dm_args(&c, sock, NULL, NULL, "1024", more), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "NVRAM from QEMU's CMOS", SUPPORT_TIMEOUT_MS));
	/* a fresh boot's merge (QEMU's configuration bytes) writes no battery
	 * file: three times the battery's delay later there is still none */
	usleep(3 * DM_BATTERY_DELAY_MS * 1000);
	CU_ASSERT_EQUAL(access(bat, F_OK), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	fd = support_unix_connect(sock);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	line(fd, buf, sizeof(buf)); /* QEMU's greeting */
	support_qmp_cmd(fd, "{\"execute\":\"qmp_capabilities\"}", -1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"rtcdm-set-time-offset\","
	                                           "\"arguments\":{\"seconds\":-3600},\"id\":1}",
	                                       -1, buf, sizeof(buf)),
	                       "{\"return\":{},\"id\":1}\r\n");
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"rtcdm-query-time-offset\"}", -1,
	                                       buf, sizeof(buf)),
	                       "{\"return\":{\"seconds\":-3600,\"phase-ns\":0,\"set\":true}}\r\n");
	/* QEMU's own commands still answered by QEMU */
	CU_ASSERT_PTR_NOT_NULL(strstr(support_qmp_cmd(fd, "{\"execute\":\"query-version\"}", -1,
	                                              buf, sizeof(buf)),
	                              "\"package\": \"fake-qemu\""));
	tool = store_dir_open(xs, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tool);
	CU_ASSERT_STRING_EQUAL(support_store_val(tool, CTL_DMP "/rtc/timeoffset", val, sizeof(val)),
	                       "-3600");
	CU_ASSERT_STRING_EQUAL(support_store_val(tool, "/vm/" CTL_UUID "/rtc/timeoffset", val,
	                                         sizeof(val)),
	                       "-3600");
	CU_ASSERT_STRING_EQUAL(support_store_val(tool, CTL_DMP "/state", val, sizeof(val)),
	                       "<ENOENT>");
	support_qmp_cmd(fd, "{\"execute\":\"quit\"}", -1, buf, sizeof(buf));
	close(fd);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	support_proc_cleanup(&c.proc);

	/* the battery file: the guest wrote byte 0x40, the old size is in it */
	read_battery(bat, &img);
	CU_ASSERT_EQUAL(img.nvram[0x35 - 14], 0x3f);
	CU_ASSERT_EQUAL(img.offset.seconds, -3600);
	img.nvram[0x40 - 14] = 0x5a;
	write_battery(bat, &img);

	/* second life, 2048 MiB: the new size, the guest's byte and offset */
	CU_ASSERT_EQUAL_FATAL(start_dm_args(&c, sock, NULL, NULL, "2048", more), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "NVRAM from QEMU's CMOS", SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "info: NVRAM from QEMU's CMOS (its configuration "
	                                          "bytes) and the battery file (the rest): 1 byte "
	                                          "changed (memory above 16 MiB 0x34-0x35 = 00 7f)\n"));
	fd = support_unix_connect(sock);
	line(fd, buf, sizeof(buf));
	support_qmp_cmd(fd, "{\"execute\":\"qmp_capabilities\"}", -1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"rtcdm-query-time-offset\"}", -1,
	                                       buf, sizeof(buf)),
	                       "{\"return\":{\"seconds\":-3600,\"phase-ns\":0,\"set\":false}}\r\n");
	close(fd);
	save_and_quit(sock, saved);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(saved_nvram(saved, 0x34), 0x00);
	CU_ASSERT_EQUAL(saved_nvram(saved, 0x35), 0x7f);
	CU_ASSERT_EQUAL(saved_nvram(saved, 0x40), 0x5a);

	/* third life, restored from that image (its offset made 0, so that no
	 * offset change writes the file) over an older battery file (byte 0x40
	 * = 0x11): the image's bytes reach the file at start, not only at exit */
	edit_context(saved, restored, offset_zero);
	img.nvram[0x40 - 14] = 0x11;
	write_battery(bat, &img);
	CU_ASSERT_EQUAL_FATAL(start_dm_args(&c, sock, restored, NULL, "2048", more), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "NVRAM from QEMU's CMOS", SUPPORT_TIMEOUT_MS));
	usleep(3 * DM_BATTERY_DELAY_MS * 1000);
	read_battery(bat, &img);
	CU_ASSERT_EQUAL(img.nvram[0x40 - 14], 0x5a);
	CU_ASSERT_EQUAL(img.nvram[0x35 - 14], 0x7f);
	kill(c.proc.pid, SIGTERM);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	store_close(tool);
	comp_cleanup(&c);
}

/* dm_restrict in companion mode: rtcdm leaves root as QEMU does (-chroot,
 * -runas), once its RTC is attached.  It still relays libxl's monitor
 * (QEMU's sockets lie in CHROOT/rtcdm-qemu, the run-as user's), answers its
 * own commands, appends its image to QEMU's at a save, and keeps the
 * battery file in the run-as user's directory. */
static void test_restricted(void)
{
	struct comp c;
	char sock[128], state[128], root[128], qdir[160], bat[320], saved[128], buf[1024];
	char status[1024];
	const char *const more[] = {"-uuid", CTL_UUID, "--state-dir", state, "-chroot", root,
	                            "-runas", "nobody", NULL};
	const char *asan = getenv("ASAN_OPTIONS");
	char *asan_saved = asan ? strdup(asan) : NULL;
	const char *at;
	struct stat st;
	FILE *f;
	int fd, rc;

	if (geteuid() != 0) {
		CU_FAIL("-runas needs root (CI runs as root)");
		free(asan_saved);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	snprintf(sock, sizeof(sock), "%s/qmp-libxl-7", c.dir);
	snprintf(state, sizeof(state), "%s/state", c.dir);
	snprintf(root, sizeof(root), "%s/qemu-root-7", c.dir);
	snprintf(qdir, sizeof(qdir), "%s/rtcdm-qemu", root);
	snprintf(bat, sizeof(bat), "%s/%s/%s.cmos", state, CTL_UUID, CTL_UUID);
	snprintf(saved, sizeof(saved), "%s/saved", c.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(state, 0700), 0);
	/* libxl makes the chroot mode 0000: nothing is reached through it */
	CU_ASSERT_EQUAL_FATAL(mkdir(root, 0000), 0);
	/* what an earlier run left in the chroot is replaced */
	CU_ASSERT_EQUAL_FATAL(mkdir(qdir, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(mknod(strcat(strcpy(buf, qdir), "/stale.sock"), S_IFREG | 0600, 0), 0);
	/* LeakSanitizer needs /proc, which the chroot lacks. */
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	rc = start_dm_args(&c, sock, NULL, NULL, "1024", more);
	if (asan_saved)
		setenv("ASAN_OPTIONS", asan_saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(asan_saved);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	/* the serving part and the supervisor both leave root, the latter
	 * before it relays libxl's monitors */
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "libxl's monitors relayed", SUPPORT_TIMEOUT_MS));
	snprintf(buf, sizeof(buf), "info: running in chroot %s as nobody\n", root);
	CU_ASSERT_EQUAL(count_substr(c.proc.err, buf), 2);
	/* QEMU, in a chroot it cannot look into, saved its device state into
	 * the descriptor it inherited (-add-fd), not to a path */
	at = strstr(c.proc.err, "fake-qemu: saved; NVRAM bytes not 0: 35=3f 3d=02\n");
	CU_ASSERT_PTR_NOT_NULL(at);
	CU_ASSERT_PTR_NOT_NULL(at ? strstr(at, "info: QEMU's CMOS read from its device state "
	                                       "(209 bytes)\n")
	                          : NULL);
	CU_ASSERT_PTR_NULL(strstr(c.proc.err, "byte by byte"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, buf));
	/* rtcdm's process: nobody (65534) for real, effective, saved and fs ids */
	snprintf(buf, sizeof(buf), "/proc/%d/status", (int)c.proc.pid);
	f = fopen(buf, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	status[0] = '\0';
	while (fgets(buf, sizeof(buf), f))
		if (strncmp(buf, "Uid:", 4) == 0)
			snprintf(status, sizeof(status), "%s", buf);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(status, "Uid:\t65534\t65534\t65534\t65534\n");
	/* QEMU's monitors: in the chroot, the run-as user's, nothing stale */
	CU_ASSERT_EQUAL(stat(qdir, &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, 65534);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	CU_ASSERT_EQUAL(access(strcat(strcpy(buf, qdir), "/stale.sock"), F_OK), -1);
	CU_ASSERT_EQUAL(stat(strcat(strcpy(buf, qdir), "/libxl-cmd.sock"), &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, 65534);

	fd = support_unix_connect(sock);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	line(fd, buf, sizeof(buf)); /* QEMU's greeting, through the chroot */
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"QMP\""));
	support_qmp_cmd(fd, "{\"execute\":\"qmp_capabilities\"}", -1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"rtcdm-set-time-offset\","
	                                           "\"arguments\":{\"seconds\":-60}}",
	                                       -1, buf, sizeof(buf)),
	                       "{\"return\":{}}\r\n");
	close(fd);
	save_and_quit(sock, saved);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(count_substr(c.proc.err, "error:"), 0);
	check_saved(saved, -60);
	CU_ASSERT_EQUAL(stat(bat, &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, 65534);
	comp_cleanup(&c);
}

/* kill -9 of the serving part: the supervisor, QEMU and libxl's monitor
 * live on; QEMU's CMOS gets the guest's NVRAM as the serving part last
 * reported it (here a byte from the restored image);
 * rtcdm's own commands say the RTC is gone; a save is QEMU's stream
 * alone, which rtcdm restores later as a stock context. */
static void test_serving_part_killed(void)
{
	struct comp c;
	char sock[128], a[128], b[128], d[128], buf[1024], want[256];
	const char *at;
	struct stat st;
	int pid = -1, fd;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	snprintf(sock, sizeof(sock), "%s/qmp-libxl-7", c.dir);
	snprintf(a, sizeof(a), "%s/first", c.dir);
	snprintf(b, sizeof(b), "%s/guest", c.dir);
	snprintf(d, sizeof(d), "%s/after", c.dir);
	CU_ASSERT_EQUAL_FATAL(start_dm(&c, sock, NULL, NULL), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "libxl's monitors relayed", SUPPORT_TIMEOUT_MS));
	save_and_quit(sock, a);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	support_proc_cleanup(&c.proc);
	edit_context(a, b, guest_bytes);

	CU_ASSERT_EQUAL_FATAL(start_dm_mem(&c, sock, b, NULL, "1024"), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "libxl's monitors relayed", SUPPORT_TIMEOUT_MS));
	at = strstr(c.proc.err, "rtcdm's RTC runs in process ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	CU_ASSERT_EQUAL_FATAL(sscanf(at, "rtcdm's RTC runs in process %d", &pid), 1);
	CU_ASSERT_TRUE_FATAL(pid > 0 && pid != c.proc.pid);
	CU_ASSERT_EQUAL(kill(pid, SIGKILL), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU's CMOS brought up to date for",
	                                   SUPPORT_TIMEOUT_MS));
	snprintf(want, sizeof(want), "error: rtcdm's RTC (process %d) ended unexpectedly "
	                             "(signal 9): the guest keeps running, QEMU serves the RTC "
	                             "ports from now on\n", pid);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "info: QEMU's CMOS brought up to date for the "
	                                          "fall-back, from rtcdm's last state: 1 NVRAM "
	                                          "byte\n"));
	/* libxl's monitor: QEMU's commands work, rtcdm's say why they cannot */
	fd = support_unix_connect(sock);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	line(fd, buf, sizeof(buf));
	support_qmp_cmd(fd, "{\"execute\":\"qmp_capabilities\"}", -1, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(support_qmp_cmd(fd, "{\"execute\":\"query-version\"}", -1,
	                                              buf, sizeof(buf)),
	                              "\"package\": \"fake-qemu\""));
	CU_ASSERT_STRING_EQUAL(support_qmp_cmd(fd, "{\"execute\":\"rtcdm-query-time-offset\"}", -1,
	                                       buf, sizeof(buf)),
	                       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"rtcdm's RTC "
	                       "is not running (it ended; QEMU serves the RTC ports)\"}}\r\n");
	close(fd);
	save_and_quit(sock, d);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	/* (the restored stream's size: the first life ran with QEMU's 128 MiB) */
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "fake-qemu: saved; NVRAM bytes not 0: 32=20 35=07 "
	                                          "3d=02 40=5a\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "warning: saved: QEMU's device state alone"));
	CU_ASSERT_EQUAL(stat(d, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, FAKE_STREAM);
	comp_cleanup(&c);
}

/* QEMU's device state without a usable RTC section (here: register A not
 * QEMU's): rtcdm reads the CMOS byte by byte with HMP instead; and when
 * HMP does not answer the port commands either (HMP is no stable
 * interface): one warning, rtcdm serves without QEMU's bytes and libxl's
 * monitor still works. */
static void test_cmos_not_read(void)
{
	struct comp c;
	char sock[128], a[128];

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	setenv("FAKE_QEMU_REG_A", "70", 1);
	snprintf(sock, sizeof(sock), "%s/qmp-libxl-7", c.dir);
	snprintf(a, sizeof(a), "%s/saved", c.dir);
	CU_ASSERT_EQUAL_FATAL(start_dm_mem(&c, sock, NULL, NULL, "1024"), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "NVRAM from QEMU's CMOS", SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "warning: QEMU's CMOS not in its device state (the "
	                                          "mc146818rtc section's register A is 0x70, not a "
	                                          "running 32.768 kHz divider): read byte by "
	                                          "byte\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "info: NVRAM from QEMU's CMOS: 2 bytes changed "
	                                          "(memory above 16 MiB 0x34-0x35 = 00 3f)\n"));
	save_and_quit(sock, a);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	support_proc_cleanup(&c.proc);
	CU_ASSERT_EQUAL(saved_nvram(a, 0x35), 0x3f);

	setenv("FAKE_QEMU_NO_HMP", "1", 1);
	CU_ASSERT_EQUAL_FATAL(start_dm_mem(&c, sock, NULL, NULL, "1024"), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "QEMU's CMOS not read", SUPPORT_TIMEOUT_MS));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.proc.err, "warning: QEMU's CMOS not read (byte 0x0e: "
	                                          "human-monitor-command refused): rtcdm's NVRAM "
	                                          "starts without QEMU's configuration bytes\n"));
	save_and_quit(sock, a);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(count_substr(c.proc.err, "error:"), 0);
	CU_ASSERT_EQUAL(saved_nvram(a, 0x34), 0x00); /* not QEMU's 00 3f */
	CU_ASSERT_EQUAL(saved_nvram(a, 0x35), 0x00);
	unsetenv("FAKE_QEMU_REG_A");
	comp_cleanup(&c);
}

/* The serving part sets itself up (its platform, the device, the restore)
 * while QEMU writes its device state; QEMU's configuration bytes still go
 * into the NVRAM before rtcdm runs the device and libxl gets its monitors. */
static void test_setup_during_cmos_read(void)
{
	static const char *const order[] = {
		"info: rtcdm's RTC runs in process ",
		"info: platform sim: host wallclock ",
		"info: time offset: offset 0 s (nothing saved: UTC) [base]\n",
		"fake-qemu: saved; NVRAM bytes not 0: 35=3f 3d=02\n",
		"info: QEMU's CMOS read from its device state (209 bytes)\n",
		"info: NVRAM from QEMU's CMOS: 2 bytes changed (memory above 16 MiB 0x34-0x35 = 00 3f)\n",
		"info: run state running\n",
		"info: libxl's monitors relayed to QEMU\n",
	};
	struct comp c;
	char sock[128], a[128];
	const char *at;

	CU_ASSERT_EQUAL_FATAL(comp_setup(&c), 0);
	setenv("FAKE_QEMU_SAVE_DELAY_MS", "300", 1);
	snprintf(sock, sizeof(sock), "%s/qmp-libxl-7", c.dir);
	snprintf(a, sizeof(a), "%s/saved", c.dir);
	CU_ASSERT_EQUAL_FATAL(start_dm_mem(&c, sock, NULL, NULL, "1024"), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&c.proc, "libxl's monitors relayed", SUPPORT_TIMEOUT_MS));
	at = c.proc.err;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *next = at ? strstr(at, order[i]) : NULL;

		CU_ASSERT_PTR_NOT_NULL(next);
		if (!next)
			fprintf(stderr, "not in order: %s\n", order[i]);
		at = next;
	}
	save_and_quit(sock, a);
	CU_ASSERT_EQUAL(support_wait(&c.proc, SUPPORT_TIMEOUT_MS), 0);
	unsetenv("FAKE_QEMU_SAVE_DELAY_MS");
	CU_ASSERT_EQUAL(saved_nvram(a, 0x34), 0x00);
	CU_ASSERT_EQUAL(saved_nvram(a, 0x35), 0x3f);
	CU_ASSERT_EQUAL(saved_nvram(a, 0x3d), 0x02);
	comp_cleanup(&c);
}

void suite_companion(void)
{
	CU_pSuite s = CU_add_suite("companion: QEMU as a child", NULL, NULL);

	CU_add_test(s, "argv, readiness, SIGHUP, stderr, private dir", test_argv_and_ready);
	CU_add_test(s, "SIGTERM passed on", test_sigterm);
	CU_add_test(s, "QEMU starts with no signal blocked or ignored by rtcdm", test_qemu_signals);
	CU_add_test(s, "own QMP commands, xenstore, battery-backed CMOS", test_control_and_battery);
	CU_add_test(s, "-chroot -runas (dm_restrict): rtcdm leaves root too", test_restricted);
	CU_add_test(s, "kill -9 of the serving part: QEMU takes the ports back",
	            test_serving_part_killed);
	CU_add_test(s, "SIGINT passed on", test_sigint);
	CU_add_test(s, "QEMU killed by a signal: 128+N", test_killed_status);
	CU_add_test(s, "missing program: one line, status 1", test_missing_program);
	CU_add_test(s, "QEMU ends before it is ready", test_early_exit);
	CU_add_test(s, "QEMU refuses the save, then the start of its machine", test_qemu_refuses);
	CU_add_test(s, "--qemu without --companion, relative path", test_bad_options);
	CU_add_test(s, "rtcdm's RTC cannot take the ports: QEMU stopped, status 1",
	            test_attach_refused);
	CU_add_test(s, "libxl's monitor reaches QEMU", test_libxl_monitor_reaches_qemu);

	s = CU_add_suite("companion: QMP pass-through", NULL, NULL);
	CU_add_test(s, "libxl-cmd and libxenstat-cmd relayed", test_passthrough);
	CU_add_test(s, "dm_restrict: pre-opened socket, -S", test_restrict_preopened);

	s = CU_add_suite("companion: save and restore framing", NULL, NULL);
	CU_add_test(s, "save, restore, stock context, bad trailer", test_restore);
	CU_add_test(s, "NVRAM from QEMU's CMOS; its configuration bytes win over the image's",
	            test_cmos_from_qemu);
	CU_add_test(s, "the serving part sets itself up while QEMU's CMOS is read",
	            test_setup_during_cmos_read);
	CU_add_test(s, "QEMU's HMP refuses the port commands: a warning, no QEMU bytes",
	            test_cmos_not_read);
}
