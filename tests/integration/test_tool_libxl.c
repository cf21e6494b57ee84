/*
 * rtcdm driven as libxl drives a qemu-xen device model, on the simulated
 * platform: libxl's argument list, QMP with a fresh connection per command,
 * the xenstore nodes (a directory store shared with the test), save to a
 * descriptor passed with SCM_RIGHTS, restore with -incoming fd:N, the older
 * xenstore command protocol with -loadvm, refused images, the offset
 * authority table, the battery-backed CMOS across a restart, settimeoffset,
 * dm_restrict (-S, pre-opened socket, -chroot, -runas) and a save into a
 * file system that is full.
 *
 * The guest runs over qtest with a virtual clock at 0 and host wallclock W:
 * guest time = W + offset.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saverestore/sr.h"
#include "tests/support/support.h"
#include "toolstack/xenstore/store_dir.h"

void suite_tool_libxl(void);

#define W 1700000000ll
#define T2030 1893456000ll /* 2030-01-01 00:00:00 UTC, a Tuesday */
#define OFF2030 (T2030 - W)
#define DOMID "7"
#define UUID "0b3c1a5e-29f4-4d8c-9a1e-7f00aa55cc01"
#define DMP "/local/domain/0/device-model/" DOMID

/* ---- files ---------------------------------------------------------------------------- */

struct env {
	char dir[64];
	char xs[128], state[128], qmp[128], qmp2[128], save[128];
	struct store *tool; /* the toolstack's view of xenstore */
};

static bool env_init(struct env *e)
{
	char err[256];

	memset(e, 0, sizeof(*e));
	if (support_tmpdir(e->dir, sizeof(e->dir)) < 0)
		return false;
	snprintf(e->xs, sizeof(e->xs), "%s/xs", e->dir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	snprintf(e->qmp, sizeof(e->qmp), "%s/qmp-libxl-" DOMID, e->dir);
	snprintf(e->qmp2, sizeof(e->qmp2), "%s/qmp-libxenstat-" DOMID, e->dir);
	snprintf(e->save, sizeof(e->save), "%s/qemu-save." DOMID, e->dir);
	mkdir(e->state, 0700);
	e->tool = store_dir_open(e->xs, err, sizeof(err));
	if (!e->tool)
		return false;
	return store_write(e->tool, "/local/domain/" DOMID "/vm", "/vm/" UUID) == 0;
}

static void env_fini(struct env *e)
{
	store_close(e->tool);
	support_rmtree(e->dir);
}

/* Value of a node into buf ("<none>" when missing). */
static const char *node(struct env *e, const char *path, char *buf, size_t len)
{
	char *v = store_read(e->tool, path);

	snprintf(buf, len, "%s", v ? v : "<none>");
	free(v);
	return buf;
}

/* Wait until node == want (bounded). */
static bool wait_node(struct env *e, const char *path, const char *want)
{
	char buf[256];

	for (int i = 0; i < SUPPORT_TIMEOUT_MS / 5; i++) {
		if (strcmp(node(e, path, buf, sizeof(buf)), want) == 0)
			return true;
		usleep(5000);
	}
	fprintf(stderr, "\n  %s: '%s', expected '%s'", path, buf, want);
	return false;
}

static bool wait_file(const char *path)
{
	struct stat st;

	for (int i = 0; i < SUPPORT_TIMEOUT_MS / 5; i++) {
		if (stat(path, &st) == 0)
			return true;
		usleep(5000);
	}
	return false;
}

static bool load_image_file(const char *path, struct sr_image *img)
{
	uint8_t *buf;
	size_t len;
	char err[256];

	if (sr_read_file(path, SR_IMAGE_MAX, &buf, &len, err, sizeof(err)) < 0)
		return false;
	int rc = sr_load(buf, len, img, err, sizeof(err));
	free(buf);
	return rc == 0;
}

/* ---- rtcdm with a qtest guest ----------------------------------------------------------- */

/* As qtest_start(), with descriptors the child inherits and no shared_info
 * file (so that RLIMIT_FSIZE only meets the files rtcdm saves). */
static bool dm_start(struct qtest *q, const char *wallclock, const char *const extra[],
                     const int *keep, size_t n_keep)
{
	char sock[sizeof(q->sock_path)];
	const char *args[64] = {"--sim-wallclock", wallclock};
	size_t n = 2;

	qtest_init(q);
	if (support_tmpdir(q->dir, sizeof(q->dir)) < 0)
		return false;
	snprintf(sock, sizeof(sock), "%s/qtest.sock", q->dir);
	for (size_t i = 0; extra && extra[i] && n < 57; i++) /* qtest_spawn adds 6 */
		args[n++] = extra[i];
	args[n] = NULL;
	if (qtest_spawn(q, sock, args, keep, n_keep) == 0)
		return true;
	fprintf(stderr, "\n  rtcdm did not start: %s", support_stderr(&q->proc));
	qtest_quit(q);
	return false;
}

/* libxl 4.17's qemu-xen argument list (xen-testbed.md), then `more`. */
static size_t libxl_args(const struct env *e, const char **out, char *cd1, char *cd2,
                         size_t cdlen, const char *const more[])
{
	size_t n = 0;

	snprintf(cd1, cdlen, "socket,id=libxl-cmd,path=%s,server=on,wait=off", e->qmp);
	snprintf(cd2, cdlen, "socket,id=libxenstat-cmd,path=%s,server=on,wait=off", e->qmp2);
	const char *const base[] = {
		"-xen-domid", DOMID, "-no-shutdown", "-chardev", cd1,
		"-mon", "chardev=libxl-cmd,mode=control", "-chardev", cd2,
		"-mon", "chardev=libxenstat-cmd,mode=control", "-nodefaults", "-no-user-config",
		"-name", "guest" DOMID, "-vnc", "none", "-display", "none", "-boot", "order=cda",
		"-net", "none"};
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		out[n++] = base[i];
	for (size_t i = 0; more && more[i]; i++)
		out[n++] = more[i];
	out[n++] = "-machine";
	out[n++] = "xenfv,suppress-vmdesc=on";
	out[n++] = "-m";
	out[n++] = "128";
	out[n++] = "--sim-xenstore";
	out[n++] = e->xs;
	out[n++] = "--state-dir";
	out[n++] = e->state;
	out[n] = NULL;
	return n;
}

/* ---- QMP as libxl speaks it: support_qmp_once() (a fresh connection per command) ---------- */

static bool qmp_offset(const char *path, int64_t *seconds, bool *set)
{
	char buf[512];
	struct json_object *o, *r, *v;
	bool ok = false;

	o = json_tokener_parse(support_qmp_once(
	        path, "{\"execute\":\"rtcdm-query-time-offset\",\"id\":2}", buf, sizeof(buf)));
	if (o && json_object_object_get_ex(o, "return", &r)) {
		if (json_object_object_get_ex(r, "seconds", &v)) {
			*seconds = json_object_get_int64(v);
			ok = true;
		}
		if (json_object_object_get_ex(r, "set", &v))
			*set = json_object_get_boolean(v);
	}
	json_object_put(o);
	return ok;
}

/* ---- the guest ---------------------------------------------------------------------------------- */

/* The guest sets its clock to 2030-01-01 00:00:00 (BCD, 24 h). */
static void guest_set_2030(struct qtest *q)
{
	static const uint8_t idx[7] = {0, 2, 4, 6, 7, 8, 9};
	static const uint8_t val[7] = {0x00, 0x00, 0x00, 0x03, 0x01, 0x01, 0x30};

	cmos_write(q, 0x0b, 0x82);
	for (int i = 0; i < 7; i++)
		cmos_write(q, idx[i], val[i]);
	cmos_write(q, 0x0b, 0x02);
}

/* Seconds since 2030-01-01 00:00:00 the guest reads (same hour, day,
 * month, year), or -1. */
static int guest_secs_into_2030(struct qtest *q)
{
	uint8_t s = cmos_read(q, 0), m = cmos_read(q, 2), h = cmos_read(q, 4);

	if (cmos_read(q, 7) != 0x01 || cmos_read(q, 8) != 0x01 || cmos_read(q, 9) != 0x30)
		return -1;
	return ((h >> 4) * 10 + (h & 15)) * 3600 + ((m >> 4) * 10 + (m & 15)) * 60 +
	       (s >> 4) * 10 + (s & 15);
}

static void guest_write_nvram(struct qtest *q)
{
	cmos_write(q, 0x40, 0x5a);
	cmos_write(q, 0x7f, 0xa5);
}

/* ---- libxl: create, save to a descriptor, restore with -incoming fd:N ----------------------- */

static void test_qmp_save_restore(void)
{
	struct env e;
	struct qtest q;
	const char *args[64];
	char cd1[256], cd2[256], buf[1024], want[1024];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	libxl_args(&e, args, cd1, cd2, sizeof(cd1), NULL);
	if (!dm_start(&q, "1700000000", args, NULL, 0)) {
		CU_FAIL("start");
		env_fini(&e);
		return;
	}
	/* Readiness, then what libxl sends after create. */
	CU_ASSERT_TRUE(wait_node(&e, DMP "/state", "running"));
	snprintf(want, sizeof(want),
	         "{\"return\":[{\"frontend-open\":true,\"filename\":\"unix:%s,server=on\","
	         "\"label\":\"libxl-cmd\"},{\"frontend-open\":true,\"filename\":"
	         "\"unix:%s,server=on\",\"label\":\"libxenstat-cmd\"}],\"id\":2}\r\n",
	         e.qmp, e.qmp2);
	support_qmp_once(e.qmp, "{\"execute\":\"query-chardev\",\"id\":2}", buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, want);
	if (strcmp(buf, want))
		fprintf(stderr, "\n  query-chardev: %s", buf);
	CU_ASSERT_STRING_EQUAL(
	        support_qmp_once(e.qmp, "{\"execute\":\"cont\",\"id\":3}", buf, sizeof(buf)),
	        "{\"return\":{},\"id\":3}\r\n");
	CU_ASSERT_STRING_EQUAL(support_qmp_once(e.qmp, "{\"execute\":\"query-status\",\"id\":4}",
	                                        buf, sizeof(buf)),
	                       "{\"return\":{\"status\":\"running\",\"singlestep\":false,"
	                       "\"running\":true},\"id\":4}\r\n");
	/* The guest sets its clock and NVRAM; the offset is published. */
	guest_set_2030(&q);
	guest_write_nvram(&q);
	snprintf(want, sizeof(want), "%lld", OFF2030);
	CU_ASSERT_TRUE(wait_node(&e, DMP "/rtc/timeoffset", want));
	CU_ASSERT_TRUE(wait_node(&e, "/vm/" UUID "/rtc/timeoffset", want));

	/* xl save. */
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(support_qmp_once(e.qmp, "{\"execute\":\"query-cpus-fast\",\"id\":5}", buf,
	                                sizeof(buf)),
	               "\"cpu-index\":0"));
	CU_ASSERT_STRING_EQUAL(
		support_qmp_once(e.qmp,
		         "{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true},"
		         "\"id\":6}",
		         buf, sizeof(buf)),
		"{\"return\":{},\"id\":6}\r\n");
	CU_ASSERT_STRING_EQUAL(
	        support_qmp_once(e.qmp, "{\"execute\":\"stop\",\"id\":7}", buf, sizeof(buf)),
	        "{\"return\":{},\"id\":7}\r\n");
	int sfd = open(e.save, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int c = support_qmp_open(e.qmp);
	CU_ASSERT_TRUE(sfd >= 0 && c >= 0);
	support_qmp_cmd(c, "{\"execute\":\"add-fd\",\"id\":8}", sfd, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "{\"return\":{\"fdset-id\":0,"));
	CU_ASSERT_STRING_EQUAL(
		support_qmp_cmd(c,
		        "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"live\":false,"
		        "\"filename\":\"/dev/fdset/0\"},\"id\":9}",
		        -1, buf, sizeof(buf)),
		"{\"return\":{},\"id\":9}\r\n");
	close(c);
	close(sfd);
	CU_ASSERT_STRING_EQUAL(
		support_qmp_once(e.qmp,
		         "{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":false},"
		         "\"id\":10}",
		         buf, sizeof(buf)),
		"{\"return\":{},\"id\":10}\r\n");
	support_signal(&q.proc, SIGHUP);
	CU_ASSERT_EQUAL(support_wait(&q.proc, SUPPORT_TIMEOUT_MS), 0);
	qtest_quit(&q);

	struct sr_image img;
	CU_ASSERT_TRUE_FATAL(load_image_file(e.save, &img));
	CU_ASSERT_EQUAL(img.offset.seconds, OFF2030);
	CU_ASSERT_EQUAL(img.offset.set, 0);
	CU_ASSERT_EQUAL(img.nvram[0x40 - RTC_NVRAM_FIRST], 0x5a);
	CU_ASSERT_EQUAL(img.nvram[0x7f - RTC_NVRAM_FIRST], 0xa5);

	/* xl restore: a new process, 100 s later, the image on fd:N. */
	CU_ASSERT_EQUAL(store_rm(e.tool, DMP "/state"), 0);
	int rfd = open(e.save, O_RDONLY);
	int in = fcntl(rfd, F_DUPFD_CLOEXEC, 15);
	close(rfd);
	char incoming[32];
	snprintf(incoming, sizeof(incoming), "fd:%d", in);
	const char *const more[] = {"-incoming", incoming, NULL};
	libxl_args(&e, args, cd1, cd2, sizeof(cd1), more);
	if (!dm_start(&q, "1700000100", args, &in, 1)) {
		CU_FAIL("restart");
		close(in);
		env_fini(&e);
		return;
	}
	close(in);
	CU_ASSERT_TRUE(wait_node(&e, DMP "/state", "running"));
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(support_stderr(&q.proc),
	               "time offset: offset 193456000 s from the image (saved offset "
	               "applied) [image]"));
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(support_qmp_once(e.qmp, "{\"execute\":\"query-chardev\",\"id\":2}", buf,
	                                sizeof(buf)),
	               "\"label\":\"libxl-cmd\""));
	CU_ASSERT_STRING_EQUAL(
	        support_qmp_once(e.qmp, "{\"execute\":\"cont\",\"id\":3}", buf, sizeof(buf)),
	        "{\"return\":{},\"id\":3}\r\n");
	CU_ASSERT_EQUAL(guest_secs_into_2030(&q), 100);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x40), 0x5a);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x7f), 0xa5);
	snprintf(want, sizeof(want), "%lld", OFF2030);
	CU_ASSERT_TRUE(wait_node(&e, DMP "/rtc/timeoffset", want));
	support_signal(&q.proc, SIGHUP);
	CU_ASSERT_EQUAL(support_wait(&q.proc, SUPPORT_TIMEOUT_MS), 0);
	qtest_quit(&q);
	env_fini(&e);
}

/* ---- the xenstore command protocol, then -loadvm ------------------------------------------------ */

static void test_xenstore_save_loadvm(void)
{
	struct env e;
	struct qtest q;
	const char *args[64];
	char cd1[256], cd2[256], buf[256], want[64];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	const char *const more[] = {"--save-path", e.save, NULL};
	libxl_args(&e, args, cd1, cd2, sizeof(cd1), more);
	if (!dm_start(&q, "1700000000", args, NULL, 0)) {
		CU_FAIL("start");
		env_fini(&e);
		return;
	}
	CU_ASSERT_TRUE(wait_node(&e, DMP "/state", "running"));
	guest_set_2030(&q);
	guest_write_nvram(&q);
	CU_ASSERT_EQUAL(store_write(e.tool, DMP "/command", "save"), 0);
	CU_ASSERT_TRUE(wait_node(&e, DMP "/state", "paused"));
	CU_ASSERT_STRING_EQUAL(node(&e, DMP "/command", buf, sizeof(buf)), "<none>");
	CU_ASSERT_STRING_EQUAL(support_qmp_once(e.qmp, "{\"execute\":\"query-status\",\"id\":2}",
	                                        buf, sizeof(buf)),
	                       "{\"return\":{\"status\":\"paused\",\"singlestep\":false,"
	                       "\"running\":false},\"id\":2}\r\n");
	struct sr_image img;
	CU_ASSERT_TRUE(load_image_file(e.save, &img));
	CU_ASSERT_EQUAL(img.offset.seconds, OFF2030);
	CU_ASSERT_EQUAL(img.nvram[0x40 - RTC_NVRAM_FIRST], 0x5a);
	struct stat st;
	CU_ASSERT_EQUAL(stat(e.save, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(store_write(e.tool, DMP "/command", "continue"), 0);
	CU_ASSERT_TRUE(wait_node(&e, DMP "/state", "running"));
	support_signal(&q.proc, SIGTERM);
	CU_ASSERT_EQUAL(support_wait(&q.proc, SUPPORT_TIMEOUT_MS), 0);
	qtest_quit(&q);

	/* qemu-xen-traditional's restore: -loadvm PATH, 60 s later. */
	CU_ASSERT_EQUAL(store_rm(e.tool, DMP "/state"), 0);
	const char *const more2[] = {"-loadvm", e.save, NULL};
	libxl_args(&e, args, cd1, cd2, sizeof(cd1), more2);
	if (!dm_start(&q, "1700000060", args, NULL, 0)) {
		CU_FAIL("restart");
		env_fini(&e);
		return;
	}
	CU_ASSERT_TRUE(wait_node(&e, DMP "/state", "running"));
	CU_ASSERT_EQUAL(guest_secs_into_2030(&q), 60);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x40), 0x5a);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x7f), 0xa5);
	snprintf(want, sizeof(want), "%lld", OFF2030);
	CU_ASSERT_TRUE(wait_node(&e, "/vm/" UUID "/rtc/timeoffset", want));
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	env_fini(&e);
}

/* ---- refused images end the process with the loader's message ----------------------------------- */

static void test_refused_image(void)
{
	struct env e;
	struct support_proc p;
	char path[192], arg[32], want[512], why[256];
	struct sr_image img;
	uint8_t buf[512];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	/* A valid image with one byte cut off the end. */
	sr_image_init(&img);
	img.present = 1u << SR_REC_RTC;
	img.rtc.cmos[RTC_REG_A] = 0x26;
	img.rtc.cmos[RTC_REG_B] = 0x02;
	img.rtc.cmos[RTC_REG_D] = 0x80;
	size_t n = sr_encode(&img, buf, sizeof(buf));
	CU_ASSERT_NOT_EQUAL(sr_load(buf, n - 1, &img, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/bad", e.dir);
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(buf, 1, n - 1, f);
	fclose(f);
	int fd = open(path, O_RDONLY);
	int in = fcntl(fd, F_DUPFD_CLOEXEC, 15);
	close(fd);
	snprintf(arg, sizeof(arg), "fd:%d", in);
	const char *const args[] = {"--platform", "sim", "--domid", DOMID, "--sim-xenstore", e.xs,
	                            "--state-dir", e.state, "-incoming", arg, NULL};
	CU_ASSERT_EQUAL(support_spawn(&p, "rtcdm", args, &in, 1), 0);
	close(in);
	CU_ASSERT_EQUAL(support_wait(&p, SUPPORT_TIMEOUT_MS), 1);
	support_stderr(&p);
	snprintf(want, sizeof(want), "error: -incoming %s: %s\n", arg, why);
	if (!strstr(p.err, want)) {
		fprintf(stderr, "\n  expected '%s' in '%s'", want, p.err);
		CU_FAIL("loader's message");
	}
	/* Never announced, and the battery file was not written. */
	char st[64];
	CU_ASSERT_STRING_EQUAL(node(&e, DMP "/state", st, sizeof(st)), "<none>");
	support_proc_cleanup(&p);
	/* The same through -loadvm. */
	const char *const args2[] = {"--platform", "sim", "-loadvm", path, NULL};
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args2, SUPPORT_TIMEOUT_MS), 1);
	snprintf(want, sizeof(want), "error: %s: %s\n", path, why);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
	env_fini(&e);
}

/* ---- the authority table -------------------------------------------------------------------------- */

/* An image with offset `seconds` (set flag `set`) and NVRAM byte 0x40 = tag. */
static bool write_image(const char *path, int64_t seconds, bool set, uint8_t tag)
{
	struct sr_image img;
	uint8_t buf[512];
	char err[256];

	sr_image_init(&img);
	img.present = (1u << SR_REC_RTC) | (1u << SR_REC_NVRAM) | (1u << SR_REC_OFFSET);
	img.rtc.cmos[RTC_REG_A] = 0x26;
	img.rtc.cmos[RTC_REG_B] = 0x02;
	img.rtc.cmos[RTC_REG_D] = 0x80;
	img.rtc.rtc_offset = seconds;
	img.nvram[0x40 - RTC_NVRAM_FIRST] = tag;
	img.offset.seconds = seconds;
	img.offset.set = set;
	size_t n = sr_encode(&img, buf, sizeof(buf));
	return sr_write_file_atomic(path, buf, n, err, sizeof(err)) == 0;
}

enum { SRC_TOOL = 1, SRC_IMAGE = 2, SRC_IMAGE_SET = 4, SRC_BATTERY = 8 };
#define OFF_TOOL 3600
#define OFF_IMAGE (-7200)
#define OFF_IMAGE_SET 86400
#define OFF_BATTERY 600

static void test_authority_table(void)
{
	static const struct {
		unsigned sources;
		int64_t seconds;
		bool set;
		uint8_t nvram; /* byte 0x40 the guest reads */
		const char *origin;
	} cases[] = {
		{0, 0, false, 0x00, "[base]"},
		{SRC_TOOL, OFF_TOOL, true, 0x00, "[toolstack]"},
		{SRC_IMAGE, OFF_IMAGE, false, 0x11, "[image]"},
		{SRC_IMAGE_SET, OFF_IMAGE_SET, true, 0x22, "[toolstack]"},
		{SRC_BATTERY, OFF_BATTERY, false, 0x33, "[battery]"},
		{SRC_TOOL | SRC_IMAGE, OFF_TOOL, true, 0x11, "[toolstack]"},
		{SRC_TOOL | SRC_IMAGE_SET, OFF_TOOL, true, 0x22, "[toolstack]"},
		{SRC_TOOL | SRC_BATTERY, OFF_TOOL, true, 0x33, "[toolstack]"},
		{SRC_IMAGE | SRC_BATTERY, OFF_IMAGE, false, 0x11, "[image]"},
		{SRC_IMAGE_SET | SRC_BATTERY, OFF_IMAGE_SET, true, 0x22, "[toolstack]"},
	};
	struct env e;
	char img_path[192], img_set_path[192], bat_path[192], cd[256], tool[32];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	snprintf(img_path, sizeof(img_path), "%s/image", e.dir);
	snprintf(img_set_path, sizeof(img_set_path), "%s/image-set", e.dir);
	snprintf(bat_path, sizeof(bat_path), "%s/%s.cmos", e.state, UUID);
	CU_ASSERT_TRUE_FATAL(write_image(img_path, OFF_IMAGE, false, 0x11));
	CU_ASSERT_TRUE_FATAL(write_image(img_set_path, OFF_IMAGE_SET, true, 0x22));
	snprintf(cd, sizeof(cd), "socket,id=libxl-cmd,path=%s,server=on,wait=off", e.qmp);
	snprintf(tool, sizeof(tool), "%d", OFF_TOOL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[32];
		size_t n = 0;
		struct qtest q;

		unlink(bat_path);
		if (cases[i].sources & SRC_BATTERY)
			CU_ASSERT_TRUE_FATAL(write_image(bat_path, OFF_BATTERY, false, 0x33));
		args[n++] = "-uuid";
		args[n++] = UUID;
		args[n++] = "--state-dir";
		args[n++] = e.state;
		args[n++] = "-chardev";
		args[n++] = cd;
		args[n++] = "-mon";
		args[n++] = "chardev=libxl-cmd,mode=control";
		if (cases[i].sources & SRC_TOOL) {
			args[n++] = "--time-offset";
			args[n++] = tool;
		}
		if (cases[i].sources & (SRC_IMAGE | SRC_IMAGE_SET)) {
			args[n++] = "--restore";
			args[n++] = cases[i].sources & SRC_IMAGE ? img_path : img_set_path;
		}
		args[n] = NULL;
		if (!dm_start(&q, "1700000000", args, NULL, 0)) {
			CU_FAIL("start");
			continue;
		}
		int64_t secs = -1;
		bool set = !cases[i].set;
		CU_ASSERT_TRUE(qmp_offset(e.qmp, &secs, &set));
		CU_ASSERT_EQUAL(secs, cases[i].seconds);
		CU_ASSERT_EQUAL(set, cases[i].set);
		CU_ASSERT_EQUAL(cmos_read(&q, 0x40), cases[i].nvram);
		CU_ASSERT_PTR_NOT_NULL(strstr(support_stderr(&q.proc), cases[i].origin));
		if (secs != cases[i].seconds)
			fprintf(stderr, "\n  case %zu: offset %" PRId64 "\n%s", i, secs, q.proc.err);
		CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	}
	env_fini(&e);
}

/* ---- battery-backed CMOS across a restart ------------------------------------------------------------ */

static void test_battery_restart(void)
{
	struct env e;
	struct qtest q;
	char bat[192];
	struct sr_image img;
	struct stat st;

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	snprintf(bat, sizeof(bat), "%s/%s.cmos", e.state, UUID);
	/* The UUID comes from xenstore (/local/domain/7/vm). */
	const char *const args[] = {"--domid", DOMID, "--sim-xenstore", e.xs, "--state-dir",
	                            e.state, NULL};
	if (!dm_start(&q, "1700000000", args, NULL, 0)) {
		CU_FAIL("start");
		env_fini(&e);
		return;
	}
	CU_ASSERT_TRUE(wait_node(&e, DMP "/state", "running"));
	guest_set_2030(&q);
	guest_write_nvram(&q);
	/* Written within the coalescing delay, while the guest runs. */
	CU_ASSERT_TRUE(wait_file(bat));
	for (int i = 0; i < SUPPORT_TIMEOUT_MS / 5; i++) {
		if (load_image_file(bat, &img) && img.nvram[0x7f - RTC_NVRAM_FIRST] == 0xa5)
			break;
		usleep(5000);
	}
	CU_ASSERT_EQUAL(img.offset.seconds, OFF2030);
	CU_ASSERT_EQUAL(img.offset.set, 0);
	CU_ASSERT_EQUAL(img.nvram[0x40 - RTC_NVRAM_FIRST], 0x5a);
	CU_ASSERT_EQUAL(img.nvram[0x7f - RTC_NVRAM_FIRST], 0xa5);
	CU_ASSERT_FALSE(sr_has(&img, SR_REC_TIMER));
	CU_ASSERT_EQUAL(stat(bat, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	/* The guest changes a byte and leaves at once: written at exit. */
	cmos_write(&q, 0x41, 0x77);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	CU_ASSERT_TRUE(load_image_file(bat, &img));
	CU_ASSERT_EQUAL(img.nvram[0x41 - RTC_NVRAM_FIRST], 0x77);

	/* Power on again an hour later: clock and NVRAM come back. */
	if (!dm_start(&q, "1700003600", args, NULL, 0)) {
		CU_FAIL("restart");
		env_fini(&e);
		return;
	}
	CU_ASSERT_EQUAL(guest_secs_into_2030(&q), 3600);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x40), 0x5a);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x41), 0x77);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x7f), 0xa5);
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(support_stderr(&q.proc), "from the battery-backed CMOS [battery]"));
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);

	/* A state directory that is a symbolic link is refused. */
	char link[192];
	struct support_proc p;
	snprintf(link, sizeof(link), "%s/link", e.dir);
	CU_ASSERT_EQUAL(symlink(e.state, link), 0);
	char want[512];
	const char *const args2[] = {"--platform", "sim", "-uuid", UUID, "--state-dir", link, NULL};
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args2, SUPPORT_TIMEOUT_MS), 1);
	snprintf(want, sizeof(want), "error: state directory '%s': refusing a symbolic link\n", link);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
	support_proc_cleanup(&p);
	/* However it is spelled: a trailing '/' or '/.' does not hide the link,
	 * and nothing is written through it. */
	static const char *const tails[] = {"/", "/.", "//./"};
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		char spelled[256];
		const char *const args3[] = {"--platform", "sim", "-uuid", UUID,
		                             "--state-dir", spelled, NULL};

		snprintf(spelled, sizeof(spelled), "%s%s", link, tails[i]);
		CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args3, SUPPORT_TIMEOUT_MS), 1);
		snprintf(want, sizeof(want),
		         "error: state directory '%s': refusing a symbolic link\n", spelled);
		CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
		if (!strstr(p.err, want))
			fprintf(stderr, "\n  --state-dir %s: %s", spelled, p.err);
		support_proc_cleanup(&p);
	}
	/* '..' is refused outright. */
	char dotdot[256];
	snprintf(dotdot, sizeof(dotdot), "%s/../%s", e.state, strrchr(e.state, '/') + 1);
	const char *const args4[] = {"--platform", "sim", "-uuid", UUID, "--state-dir", dotdot, NULL};
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args4, SUPPORT_TIMEOUT_MS), 1);
	snprintf(want, sizeof(want), "error: state directory '%s': '..' is not accepted\n", dotdot);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
	support_proc_cleanup(&p);
	env_fini(&e);
}

/* ---- settimeoffset and the published offset -------------------------------------------------------------- */

static void test_settimeoffset(void)
{
	struct env e;
	struct qtest q;
	char buf[64];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	const char *const args[] = {"--domid", DOMID, "--sim-xenstore", e.xs, "--state-dir", e.state,
	                            NULL};
	if (!dm_start(&q, "1700000000", args, NULL, 0)) {
		CU_FAIL("start");
		env_fini(&e);
		return;
	}
	CU_ASSERT_TRUE(wait_node(&e, DMP "/state", "running"));
	CU_ASSERT_STRING_EQUAL(node(&e, DMP "/rtc/timeoffset", buf, sizeof(buf)), "0");
	CU_ASSERT_STRING_EQUAL(node(&e, "/vm/" UUID "/rtc/timeoffset", buf, sizeof(buf)), "0");
	/* Applied at once, acknowledged by removal, published. */
	CU_ASSERT_EQUAL(store_write(e.tool, DMP "/rtc/settimeoffset", "-3600"), 0);
	CU_ASSERT_TRUE(wait_node(&e, DMP "/rtc/settimeoffset", "<none>"));
	CU_ASSERT_TRUE(wait_node(&e, DMP "/rtc/timeoffset", "-3600"));
	CU_ASSERT_TRUE(wait_node(&e, "/vm/" UUID "/rtc/timeoffset", "-3600"));
	/* 1700000000 - 3600 = 2023-11-14 21:13:20 UTC. */
	CU_ASSERT_EQUAL(cmos_read(&q, 4), 0x21);
	CU_ASSERT_EQUAL(cmos_read(&q, 2), 0x13);
	CU_ASSERT_EQUAL(cmos_read(&q, 0), 0x20);
	/* Out of range: refused in the log, removed, nothing changed. */
	CU_ASSERT_EQUAL(store_write(e.tool, DMP "/rtc/settimeoffset", "2147483648"), 0);
	CU_ASSERT_TRUE(wait_node(&e, DMP "/rtc/settimeoffset", "<none>"));
	CU_ASSERT_TRUE(support_stderr_wait(&q.proc, "settimeoffset refused", SUPPORT_TIMEOUT_MS));
	CU_ASSERT_STRING_EQUAL(node(&e, DMP "/rtc/timeoffset", buf, sizeof(buf)), "-3600");
	CU_ASSERT_EQUAL(cmos_read(&q, 4), 0x21);
	/* The guest's own change is published too. */
	guest_set_2030(&q);
	snprintf(buf, sizeof(buf), "%lld", OFF2030);
	CU_ASSERT_TRUE(wait_node(&e, DMP "/rtc/timeoffset", buf));
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	env_fini(&e);
}

/* ---- dm_restrict: pre-opened socket, -S, -chroot, -runas ------------------------------------------------ */

static void restrict_case(bool restoring)
{
	struct env e;
	struct qtest q;
	char cd[128], buf[512], root[192], img[192], arg[32], status[160];
	int keep[2], nkeep = 0;

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	snprintf(root, sizeof(root), "%s/qemu-root-" DOMID, e.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(root, 0755), 0);
	int lfd = support_unix_listen(e.qmp, 4);
	CU_ASSERT_TRUE_FATAL(lfd >= 0);
	keep[nkeep++] = lfd;
	snprintf(cd, sizeof(cd), "socket,id=libxl-cmd,fd=%d,server=on,wait=off", lfd);
	const char *args[24] = {"-xen-domid", DOMID, "-chardev", cd, "-mon",
	                        "chardev=libxl-cmd,mode=control", "-S", "-xen-domid-restrict",
	                        "-chroot", root, "-runas", "nobody"};
	size_t n = 12;
	if (restoring) {
		snprintf(img, sizeof(img), "%s/resume", e.dir);
		CU_ASSERT_TRUE_FATAL(write_image(img, OFF_IMAGE, false, 0x11));
		int fd = open(img, O_RDONLY);
		keep[nkeep] = fcntl(fd, F_DUPFD_CLOEXEC, 15);
		close(fd);
		snprintf(arg, sizeof(arg), "fd:%d", keep[nkeep]);
		nkeep++;
		args[n++] = "-incoming";
		args[n++] = arg;
	}
	args[n] = NULL;
	/* LeakSanitizer (sanitizer build) needs /proc, which the chroot lacks;
	 * leaks are checked by every other test of the process. */
	const char *asan = getenv("ASAN_OPTIONS");
	char *saved = asan ? strdup(asan) : NULL;
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	bool started = dm_start(&q, "1700000000", args, keep, (size_t)nkeep);
	if (saved)
		setenv("ASAN_OPTIONS", saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(saved);
	for (int i = 0; i < nkeep; i++)
		close(keep[i]);
	if (!started) {
		CU_FAIL("start");
		env_fini(&e);
		return;
	}
	snprintf(status, sizeof(status),
	         "{\"return\":{\"status\":\"%s\",\"singlestep\":false,\"running\":false},\"id\":2}\r\n",
	         restoring ? "paused" : "prelaunch");
	CU_ASSERT_STRING_EQUAL(support_qmp_once(e.qmp, "{\"execute\":\"query-status\",\"id\":2}",
	                                        buf, sizeof(buf)),
	                       status);
	/* No user, no root: nobody, in the chroot. */
	char proc[64], link[PATH_MAX];
	snprintf(proc, sizeof(proc), "/proc/%d/status", (int)q.proc.pid);
	FILE *f = fopen(proc, "r");
	bool uid_ok = false, gid_ok = false, groups_ok = false;
	while (f && fgets(buf, sizeof(buf), f)) {
		if (strncmp(buf, "Uid:", 4) == 0)
			uid_ok = strcmp(buf, "Uid:\t65534\t65534\t65534\t65534\n") == 0;
		if (strncmp(buf, "Gid:", 4) == 0)
			gid_ok = strcmp(buf, "Gid:\t65534\t65534\t65534\t65534\n") == 0;
		if (strncmp(buf, "Groups:", 7) == 0)
			groups_ok = strspn(buf + 7, " \t\n") == strlen(buf + 7);
	}
	if (f)
		fclose(f);
	CU_ASSERT_TRUE(uid_ok);
	CU_ASSERT_TRUE(gid_ok);
	CU_ASSERT_TRUE(groups_ok);
	snprintf(proc, sizeof(proc), "/proc/%d/root", (int)q.proc.pid);
	ssize_t ln = readlink(proc, link, sizeof(link) - 1);
	link[ln > 0 ? ln : 0] = '\0';
	CU_ASSERT_STRING_EQUAL(link, root);
	CU_ASSERT_STRING_EQUAL(
	        support_qmp_once(e.qmp, "{\"execute\":\"cont\",\"id\":3}", buf, sizeof(buf)),
	        "{\"return\":{},\"id\":3}\r\n");
	CU_ASSERT_STRING_EQUAL(support_qmp_once(e.qmp, "{\"execute\":\"query-status\",\"id\":4}",
	                                        buf, sizeof(buf)),
	                       "{\"return\":{\"status\":\"running\",\"singlestep\":false,"
	                       "\"running\":true},\"id\":4}\r\n");
	if (restoring) {
		int64_t secs = 0;
		bool set = true;
		CU_ASSERT_TRUE(qmp_offset(e.qmp, &secs, &set));
		CU_ASSERT_EQUAL(secs, OFF_IMAGE);
		CU_ASSERT_EQUAL(cmos_read(&q, 0x40), 0x11);
	}
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	env_fini(&e);
}

static void test_dm_restrict_create(void)
{
	restrict_case(false);
}

static void test_dm_restrict_restore(void)
{
	restrict_case(true);
}

/* ---- saving into a full file system ------------------------------------------------------------------------- */

static void test_save_full_filesystem(void)
{
	struct env e;
	struct qtest q;
	char cd[256], buf[512], prev[192], msg[512];
	struct rlimit old, tiny = {.rlim_cur = 64, .rlim_max = RLIM_INFINITY};

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	snprintf(prev, sizeof(prev), "%s/previous", e.dir);
	CU_ASSERT_TRUE_FATAL(write_image(prev, OFF_IMAGE, false, 0x11));
	snprintf(cd, sizeof(cd), "socket,id=libxl-cmd,path=%s,server=on,wait=off", e.qmp);
	const char *const args[] = {"-chardev", cd, "-mon", "chardev=libxl-cmd,mode=control", NULL};
	/* The child inherits a file size limit smaller than any image. */
	getrlimit(RLIMIT_FSIZE, &old);
	tiny.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_FSIZE, &tiny);
	bool started = dm_start(&q, "1700000000", args, NULL, 0);
	setrlimit(RLIMIT_FSIZE, &old);
	if (!started) {
		CU_FAIL("start");
		env_fini(&e);
		return;
	}
	guest_set_2030(&q);
	CU_ASSERT_STRING_EQUAL(
	        support_qmp_once(e.qmp, "{\"execute\":\"stop\",\"id\":2}", buf, sizeof(buf)),
	        "{\"return\":{},\"id\":2}\r\n");
	snprintf(msg, sizeof(msg),
	         "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"live\":false,"
	         "\"filename\":\"%s\"},\"id\":3}",
	         prev);
	char reply[512];
	support_qmp_once(e.qmp, msg, reply, sizeof(reply));
	snprintf(buf, sizeof(buf), "%s", reply);
	if (!strstr(buf, "File too large"))
		fprintf(stderr, "\n  reply: %s\n%s", buf, support_stderr(&q.proc));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "{\"error\":{\"class\":\"GenericError\",\"desc\":"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "File too large"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"id\":3}\r\n"));
	/* Still there, the previous image intact, no temporary left. */
	CU_ASSERT_STRING_EQUAL(
	        support_qmp_once(e.qmp, "{\"execute\":\"cont\",\"id\":4}", buf, sizeof(buf)),
	        "{\"return\":{},\"id\":4}\r\n");
	struct sr_image img;
	CU_ASSERT_TRUE(load_image_file(prev, &img));
	CU_ASSERT_EQUAL(img.offset.seconds, OFF_IMAGE);
	CU_ASSERT_EQUAL(guest_secs_into_2030(&q), 0);
	/* The same into a descriptor. */
	int fd = open(prev, O_WRONLY | O_APPEND);
	int c = support_qmp_open(e.qmp);
	support_qmp_cmd(c, "{\"execute\":\"add-fd\",\"id\":5}", fd, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"fdset-id\":0"));
	support_qmp_cmd(c,
	        "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"live\":false,"
	        "\"filename\":\"/dev/fdset/0\"},\"id\":6}",
	        -1, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "File too large"));
	close(c);
	close(fd);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	env_fini(&e);
}

void suite_tool_libxl(void)
{
	CU_pSuite s = CU_add_suite("tool_libxl (rtcdm driven as libxl drives qemu-xen)", NULL, NULL);
	CU_add_test(s, "create, save to an SCM_RIGHTS descriptor, restore with -incoming fd:N",
	            test_qmp_save_restore);
	CU_add_test(s, "xenstore command save/continue, restore with -loadvm",
	            test_xenstore_save_loadvm);
	CU_add_test(s, "refused image: exit 1 with the loader's message", test_refused_image);
	CU_add_test(s, "offset authority: each source and each pair", test_authority_table);
	CU_add_test(s, "battery-backed CMOS across a restart; symlinked state dir refused",
	            test_battery_restart);
	CU_add_test(s, "settimeoffset applied and removed, offset published", test_settimeoffset);
	CU_add_test(s, "dm_restrict: fd socket, -S prelaunch, -chroot, -runas", test_dm_restrict_create);
	CU_add_test(s, "dm_restrict restoring: -S paused until cont", test_dm_restrict_restore);
	CU_add_test(s, "save into a full file system: error reply, still running, old image intact",
	            test_save_full_filesystem);
}
