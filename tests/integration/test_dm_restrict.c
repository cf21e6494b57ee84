/*
 * -xen-domid-restrict and xenstore: Xen's restriction (xentoolcore) covers
 * only the handles open when it is made, and rtcdm opens the store after
 * it, so a restricted rtcdm closes the store once set-up has read the
 * domain's UUID: no state node, no published offset, the guest still
 * served.  The same run without the option writes both, so the checks can
 * tell the two apart.
 *
 * The battery-backed CMOS under -chroot and -runas: the state directory
 * lies outside the chroot and belongs to root; the file is kept through the
 * per-domain directory rtcdm gives the run-as user before leaving root, and
 * the next (restricted) run finds the guest's NVRAM and clock.
 *
 * Every run has its own state directory (hermetic: nothing under
 * /var/lib/xen).
 */
#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/support.h"
#include "toolstack/xenstore/store_dir.h"
#include "toolstack/xenstore/store.h"

void suite_dm_restrict(void);

#define DOMID "7"
#define UUID "5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#define DMP "/local/domain/0/device-model/" DOMID
/* 2023-11-14T22:13:20Z; the year register steps 23 -> 24 across 29 Feb. */
#define WALLCLOCK "1700000000"
#define YEAR_STEP "31622400"

struct run {
	char dir[64], xs[128], state_dir[128];
	struct store *tool; /* the toolstack's view */
	char state[64], offset[64], vm_offset[64];
	char log[8192];
	unsigned nvram;
};

/* Start rtcdm on the sim platform with a directory store holding the
 * domain's vm node, step the guest's year by one, record what reached the
 * store and the log. */
static bool run_dm(struct run *r, bool restrict_opt)
{
	struct qtest q;
	char err[256];
	const char *args[8] = {"--domid", DOMID, "--sim-xenstore", r->xs, "--state-dir", r->state_dir};
	size_t n = 6;

	memset(r, 0, sizeof(*r));
	if (support_tmpdir(r->dir, sizeof(r->dir)) < 0)
		return false;
	snprintf(r->xs, sizeof(r->xs), "%s/xs", r->dir);
	snprintf(r->state_dir, sizeof(r->state_dir), "%s/state", r->dir);
	if (mkdir(r->state_dir, 0700) < 0)
		return false;
	r->tool = store_dir_open(r->xs, err, sizeof(err));
	if (!r->tool || store_write(r->tool, "/local/domain/" DOMID "/vm", "/vm/" UUID) != 0)
		return false;
	if (restrict_opt)
		args[n++] = "-xen-domid-restrict";
	args[n] = NULL;
	if (qtest_start(&q, WALLCLOCK, args) < 0)
		return false;
	/* NVRAM, then year +1 in BCD with SET held. */
	cmos_write(&q, 0x41, 0xa5);
	r->nvram = cmos_read(&q, 0x41);
	uint8_t b = cmos_read(&q, 0x0b);
	cmos_write(&q, 0x0b, (uint8_t)(b | 0x80));
	cmos_write(&q, 0x09, 0x24);
	cmos_write(&q, 0x0b, b);
	(void)cmos_read(&q, 0x09); /* a round trip: the change is handled */
	support_store_val(r->tool, DMP "/state", r->state, sizeof(r->state));
	support_store_val(r->tool, DMP "/rtc/timeoffset", r->offset, sizeof(r->offset));
	support_store_val(r->tool, "/vm/" UUID "/rtc/timeoffset", r->vm_offset,
	                  sizeof(r->vm_offset));
	snprintf(r->log, sizeof(r->log), "%s", support_stderr(&q.proc));
	int rc = qtest_quit(&q);
	CU_ASSERT_EQUAL(rc, 0);
	return true;
}

static void run_fini(struct run *r)
{
	if (r->tool)
		store_close(r->tool);
	support_rmtree(r->dir);
}

static void test_unrestricted_uses_store(void)
{
	struct run r;

	CU_ASSERT_TRUE_FATAL(run_dm(&r, false));
	CU_ASSERT_EQUAL(r.nvram, 0xa5);
	CU_ASSERT_STRING_EQUAL(r.state, "running");
	CU_ASSERT_STRING_EQUAL(r.offset, YEAR_STEP);
	CU_ASSERT_STRING_EQUAL(r.vm_offset, YEAR_STEP);
	CU_ASSERT_PTR_NULL(strstr(r.log, "xenstore closed"));
	run_fini(&r);
}

static void test_restricted_closes_store(void)
{
	struct run r;

	CU_ASSERT_TRUE_FATAL(run_dm(&r, true));
	CU_ASSERT_EQUAL(r.nvram, 0xa5);
	/* Set-up still read the UUID from the store... */
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(r.log, "domain UUID " UUID " (from xenstore /local/domain/" DOMID "/vm)\n"));
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(r.log, "-xen-domid-restrict: xenstore closed after set-up, QMP only\n"));
	/* ...and nothing was written after it. */
	CU_ASSERT_STRING_EQUAL(r.state, "<ENOENT>");
	CU_ASSERT_STRING_EQUAL(r.offset, "<ENOENT>");
	CU_ASSERT_STRING_EQUAL(r.vm_offset, "<ENOENT>");
	CU_ASSERT_PTR_NULL(strstr(r.log, "xenstore: state running"));
	run_fini(&r);
}

/* ---- the battery-backed CMOS under -chroot, -runas, -xen-domid-restrict ---------- */

struct life {
	char log[8192];
	unsigned nvram, year;
	int status;
};

/* One restricted run of domain UUID with state directory `state` and chroot
 * `root`: read NVRAM 0x41 and the year, then (when `set`) write NVRAM 0x41
 * = 0xa5 and step the year to 24. */
static bool restricted_life(const char *state, const char *root, bool set, struct life *l)
{
	struct qtest q;
	const char *args[] = {"-uuid", UUID, "--state-dir", state, "-xen-domid-restrict",
	                      "-chroot", root, "-runas", "nobody", NULL};
	/* LeakSanitizer needs /proc, which the chroot lacks. */
	const char *asan = getenv("ASAN_OPTIONS");
	char *saved = asan ? strdup(asan) : NULL;
	bool started;

	memset(l, 0, sizeof(*l));
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	started = qtest_start(&q, WALLCLOCK, args) == 0;
	if (saved)
		setenv("ASAN_OPTIONS", saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(saved);
	if (!started)
		return false;
	/* Wait until the process runs as nobody: the writes below are then
	 * kept by the restricted process. */
	support_stderr_wait(&q.proc, "running in chroot", SUPPORT_TIMEOUT_MS);
	l->nvram = cmos_read(&q, 0x41);
	l->year = cmos_read(&q, 0x09);
	if (set) {
		uint8_t b = cmos_read(&q, 0x0b);

		cmos_write(&q, 0x41, 0xa5);
		cmos_write(&q, 0x0b, (uint8_t)(b | 0x80));
		cmos_write(&q, 0x09, 0x24);
		cmos_write(&q, 0x0b, b);
		(void)cmos_read(&q, 0x09);
	}
	snprintf(l->log, sizeof(l->log), "%s", support_stderr(&q.proc));
	l->status = qtest_quit(&q);
	return true;
}

/* A temporary directory with state/ (0700) and the chroot qemu-root-N/;
 * false (and a CUnit failure) without root: -runas needs it. */
static bool restricted_dirs(char dir[64], char state[128], char root[128])
{
	if (geteuid() != 0) {
		CU_FAIL("-runas needs root (CI runs as root)");
		return false;
	}
	if (support_tmpdir(dir, 64) < 0)
		return false;
	snprintf(state, 128, "%s/state", dir);
	snprintf(root, 128, "%s/qemu-root-" DOMID, dir);
	return mkdir(state, 0700) == 0 && mkdir(root, 0755) == 0;
}

static void test_restricted_battery_survives(void)
{
	char dir[64], state[128], root[128], dom[192], file[256], want[512];
	struct life l;
	struct stat st;

	if (!restricted_dirs(dir, state, root))
		return;
	snprintf(dom, sizeof(dom), "%s/" UUID, state);
	snprintf(file, sizeof(file), "%s/" UUID ".cmos", dom);

	/* First life: a fresh battery; the guest sets NVRAM and its year. */
	CU_ASSERT_TRUE_FATAL(restricted_life(state, root, true, &l));
	CU_ASSERT_EQUAL(l.status, 0);
	CU_ASSERT_EQUAL(l.nvram, 0x00);
	CU_ASSERT_EQUAL(l.year, 0x23);
	CU_ASSERT_PTR_NULL(strstr(l.log, "battery-backed CMOS disabled"));
	CU_ASSERT_PTR_NULL(strstr(l.log, "battery file not updated"));
	/* The state directory stays root's; the domain's directory and file
	 * belong to the run-as user (nobody: 65534). */
	CU_ASSERT_EQUAL(stat(state, &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	CU_ASSERT_EQUAL(stat(dom, &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, 65534);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	CU_ASSERT_EQUAL(lstat(file, &st), 0);
	CU_ASSERT_TRUE(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_uid, 65534);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);

	/* Second life (destroy + create): the guest finds both. */
	CU_ASSERT_TRUE_FATAL(restricted_life(state, root, false, &l));
	CU_ASSERT_EQUAL(l.status, 0);
	CU_ASSERT_EQUAL(l.nvram, 0xa5);
	CU_ASSERT_EQUAL(l.year, 0x24);
	snprintf(want, sizeof(want), "restored the battery-backed CMOS from %s\n", file);
	CU_ASSERT_PTR_NOT_NULL(strstr(l.log, want));
	if (!strstr(l.log, want))
		fprintf(stderr, "\n  second life: %s", l.log);
	support_rmtree(dir);
}

/* A battery file of an unrestricted run is moved into the per-domain
 * directory when the domain first runs with -runas. */
static void test_runas_adopts_earlier_battery(void)
{
	char dir[64], state[128], root[128], old[256], file[256];
	struct life l;
	struct qtest q;
	struct stat st;

	if (!restricted_dirs(dir, state, root))
		return;
	snprintf(old, sizeof(old), "%s/" UUID ".cmos", state);
	snprintf(file, sizeof(file), "%s/" UUID "/" UUID ".cmos", state);
	const char *const args[] = {"-uuid", UUID, "--state-dir", state, NULL};
	CU_ASSERT_FATAL(qtest_start(&q, WALLCLOCK, args) == 0);
	cmos_write(&q, 0x41, 0x3c);
	(void)cmos_read(&q, 0x41);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	CU_ASSERT_EQUAL(lstat(old, &st), 0);

	CU_ASSERT_TRUE_FATAL(restricted_life(state, root, false, &l));
	CU_ASSERT_EQUAL(l.status, 0);
	CU_ASSERT_EQUAL(l.nvram, 0x3c);
	CU_ASSERT_EQUAL(lstat(old, &st), -1);
	CU_ASSERT_EQUAL(lstat(file, &st), 0);
	support_rmtree(dir);
}

void suite_dm_restrict(void)
{
	CU_pSuite s = CU_add_suite("dm_restrict (-xen-domid-restrict and xenstore)", NULL, NULL);

	CU_add_test(s, "without -xen-domid-restrict: state and offset reach xenstore",
	            test_unrestricted_uses_store);
	CU_add_test(s, "-xen-domid-restrict: UUID read at set-up, then no xenstore",
	            test_restricted_closes_store);
	CU_add_test(s, "-chroot -runas: the battery-backed CMOS survives destroy and create",
	            test_restricted_battery_survives);
	CU_add_test(s, "-runas: an earlier battery file moves into the domain's directory",
	            test_runas_adopts_earlier_battery);
}
