/*
 * The default state directory (RTCDM_STATE_DIR, /var/lib/xen/rtcdm) on a
 * host where its parents are missing, and an explicit --state-dir.
 *
 * The default is tested in a private mount namespace (a child process that
 * unshares its mounts and puts a fresh tmpfs over the default's
 * grandparent), so no test touches the host's /var/lib: creating the
 * namespace needs root, and the tests say so and fail otherwise (CI runs as
 * root).
 *   - writable: rtcdm creates the missing parents (0755) and the directory
 *     (0700), and keeps the battery file there;
 *   - read-only: rtcdm does not start; the one-line error names the path
 *     and the reason (the rule of rtcdm(8)).
 * An explicit --state-dir must exist and is never created.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "tests/support/support.h"

void suite_dm_state_dir(void);

#define UUID "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"

/* dirname(dirname(RTCDM_STATE_DIR)): the tmpfs goes there. */
static void mount_point(char *buf, size_t len)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s", RTCDM_STATE_DIR);
	snprintf(buf, len, "%s", dirname(dirname(tmp)));
}

static void mode_line(char *out, size_t len, const char *path)
{
	struct stat st;
	size_t n = strlen(out);

	if (lstat(path, &st) < 0)
		snprintf(out + n, len - n, "%s: %s\n", path, strerror(errno));
	else
		snprintf(out + n, len - n, "%s: %o\n", path, (unsigned)(st.st_mode & 07777));
}

/* In the child: a private namespace with a tmpfs (read-only when ro) over
 * the default's grandparent, then one run of rtcdm with no --state-dir.
 * What it saw goes to `out`: rtcdm's status and error line, the modes of
 * what exists afterwards.  Returns 0, or 1 with the reason in out. */
static int default_dir_run(bool ro, char *out, size_t len)
{
	char mnt[256], parent[256], file[384];
	struct support_proc p;
	const char *const args[] = {"--platform", "sim", "-uuid", UUID, NULL};

	out[0] = '\0';
	mount_point(mnt, sizeof(mnt));
	snprintf(parent, sizeof(parent), "%s", RTCDM_STATE_DIR);
	*strrchr(parent, '/') = '\0';
	snprintf(file, sizeof(file), "%s/%s.cmos", RTCDM_STATE_DIR, UUID);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", mnt, "tmpfs", ro ? MS_RDONLY : 0, "mode=0755") < 0) {
		snprintf(out, len, "private mount namespace with a tmpfs on %.200s: %s", mnt,
		         strerror(errno));
		return 1;
	}
	if (ro) {
		int st = support_run(&p, "rtcdm", args, SUPPORT_TIMEOUT_MS);
		const char *line = strstr(p.err, "error: ");

		snprintf(out, len, "status %d: %.*s\n", st, line ? (int)strcspn(line, "\n") : 0,
		         line ? line : "");
	} else {
		if (support_spawn(&p, "rtcdm", args, NULL, 0) < 0) {
			snprintf(out, len, "cannot start rtcdm");
			return 1;
		}
		bool up = support_stderr_wait(&p, "running: platform sim", SUPPORT_TIMEOUT_MS);
		support_signal(&p, SIGTERM);
		int st = support_wait(&p, SUPPORT_TIMEOUT_MS);

		snprintf(out, len, "status %d%s\n", st, up ? "" : " (never ran)");
		if (!up || st != 0)
			snprintf(out + strlen(out), len - strlen(out), "%s", support_stderr(&p));
		support_proc_cleanup(&p);
	}
	mode_line(out, len, parent);
	mode_line(out, len, RTCDM_STATE_DIR);
	mode_line(out, len, file);
	return 0;
}

/* Run default_dir_run in a child (the namespace is the child's) and bring
 * back its report.  false when the test cannot run (not root). */
static bool in_private_namespace(bool ro, char *out, size_t len)
{
	int fds[2];
	pid_t pid;
	size_t got = 0;

	if (geteuid() != 0) {
		CU_FAIL("a private mount namespace needs root (CI runs as root)");
		return false;
	}
	if (pipe(fds) < 0)
		return false;
	pid = fork();
	if (pid == 0) {
		char buf[4096];
		int rc;

		close(fds[0]);
		rc = default_dir_run(ro, buf, sizeof(buf));
		if (write(fds[1], buf, strlen(buf)) < 0)
			rc = 2;
		_exit(rc);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], out + got, len - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || got + (size_t)n >= len - 1) {
			got += n > 0 ? (size_t)n : 0;
			break;
		}
		got += (size_t)n;
	}
	out[got] = '\0';
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The report of one run in a private namespace, and the state directory's
 * parent (for the expected text).  false when it could not run. */
static bool default_dir_report(bool ro, char *out, size_t len, char *parent, size_t plen)
{
	if (!in_private_namespace(ro, out, len)) {
		fprintf(stderr, "\n  %s", out);
		return false;
	}
	snprintf(parent, plen, "%s", RTCDM_STATE_DIR);
	*strrchr(parent, '/') = '\0';
	return true;
}

static void test_default_created_with_parents(void)
{
	char out[4096], want[8192], parent[256];

	if (!default_dir_report(false, out, sizeof(out), parent, sizeof(parent)))
		return;
	snprintf(want, sizeof(want), "status 0\n%s: 755\n%s: 700\n%s/%s.cmos: 600\n", parent,
	         RTCDM_STATE_DIR, RTCDM_STATE_DIR, UUID);
	CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_default_unusable_fails_start(void)
{
	char out[4096], want[8192], parent[256];

	if (!default_dir_report(true, out, sizeof(out), parent, sizeof(parent)))
		return;
	snprintf(want, sizeof(want),
	         "status 1: error: state directory '%s': cannot create it: Read-only file system\n"
	         "%s: No such file or directory\n%s: No such file or directory\n"
	         "%s/%s.cmos: No such file or directory\n",
	         RTCDM_STATE_DIR, parent, RTCDM_STATE_DIR, RTCDM_STATE_DIR, UUID);
	CU_ASSERT_STRING_EQUAL(out, want);
}

/* An explicit --state-dir is the operator's: it must exist, and nothing is
 * created for it. */
static void test_explicit_never_created(void)
{
	char dir[64], missing[128], state[192], want[512];
	struct support_proc p;
	struct stat st;

	CU_ASSERT_FATAL(support_tmpdir(dir, sizeof(dir)) == 0);
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	snprintf(state, sizeof(state), "%s/state", missing);
	const char *const args[] = {"--platform", "sim", "-uuid", UUID, "--state-dir", state, NULL};
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args, SUPPORT_TIMEOUT_MS), 2);
	snprintf(want, sizeof(want), "error: --state-dir '%s': No such file or directory\n", state);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
	CU_ASSERT_EQUAL(lstat(missing, &st), -1);
	support_rmtree(dir);
}

void suite_dm_state_dir(void)
{
	CU_pSuite s = CU_add_suite("dm_state_dir (default and explicit state directory)", NULL, NULL);

	CU_add_test(s, "default: missing parents created (0755, the directory 0700)",
	            test_default_created_with_parents);
	CU_add_test(s, "default on a read-only file system: start fails, one line",
	            test_default_unusable_fails_start);
	CU_add_test(s, "explicit --state-dir: must exist, never created", test_explicit_never_created);
}
