/* Atomic image files: the old file survives every failure, no temporary is
 * left behind, symlinked targets are refused. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "saverestore/sr.h"

void suite_sr_file(void);

static char dir[64];

static int setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/rtcdm-sr-file-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	char p[512];
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	return rmdir(dir);
}

static unsigned entries(void)
{
	DIR *d = opendir(dir);
	unsigned n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void path_of(char *p, size_t n, const char *name)
{
	snprintf(p, n, "%s/%s", dir, name);
}

static void expect_content(const char *path, const char *want)
{
	uint8_t *b = NULL;
	size_t len = 0;
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL_FATAL(sr_read_file(path, 1 << 20, &b, &len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(len, strlen(want));
	CU_ASSERT_TRUE(len == strlen(want) && memcmp(b, want, len) == 0);
	free(b);
}

static void test_write_and_replace(void)
{
	char p[256], err[SR_ERR_MAX];
	path_of(p, sizeof(p), "img");
	CU_ASSERT_EQUAL(sr_write_file_atomic(p, "first", 5, err, sizeof(err)), 0);
	expect_content(p, "first");
	struct stat st;
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600); /* never group/world accessible */
	CU_ASSERT_EQUAL(sr_write_file_atomic(p, "second!", 7, err, sizeof(err)), 0);
	expect_content(p, "second!");
	CU_ASSERT_EQUAL(entries(), 1); /* no temporary left */
	CU_ASSERT_EQUAL(sr_write_file_atomic(p, "", 0, err, sizeof(err)), 0);
	expect_content(p, "");
	unlink(p);
}

static void test_refusals(void)
{
	char p[256], t[256], want[600], err[SR_ERR_MAX];
	path_of(t, sizeof(t), "target");
	path_of(p, sizeof(p), "link");
	CU_ASSERT_EQUAL(sr_write_file_atomic(t, "old", 3, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(symlink(t, p), 0);
	CU_ASSERT_EQUAL(sr_write_file_atomic(p, "new", 3, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: refusing to write through a symbolic link", p);
	CU_ASSERT_STRING_EQUAL(err, want);
	expect_content(t, "old");
	struct stat st;
	CU_ASSERT_EQUAL(lstat(p, &st), 0);
	CU_ASSERT_TRUE(S_ISLNK(st.st_mode));
	CU_ASSERT_EQUAL(entries(), 2);
	unlink(p);

	/* A directory as the target. */
	CU_ASSERT_EQUAL(sr_write_file_atomic(dir, "x", 1, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	CU_ASSERT_STRING_EQUAL(err, want);

	/* A directory that does not exist. */
	path_of(p, sizeof(p), "missing/img");
	CU_ASSERT_EQUAL(sr_write_file_atomic(p, "x", 1, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot create a temporary file in %s/missing: No such "
	         "file or directory", p, dir);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(entries(), 1);
	CU_ASSERT_EQUAL(sr_write_file_atomic("", "x", 1, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, ": invalid path");
	unlink(t);
}

/* A write that fails half-way (file size limit): old image intact, no
 * temporary file, one message.  Runs in a child: the limit is per process. */
static void test_write_failure_keeps_old(void)
{
	char p[256], err[SR_ERR_MAX];
	path_of(p, sizeof(p), "img");
	CU_ASSERT_EQUAL_FATAL(sr_write_file_atomic(p, "old image", 9, err, sizeof(err)), 0);
	pid_t pid = fork();
	CU_ASSERT_TRUE_FATAL(pid >= 0);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = {100, 100};
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(3);
		static uint8_t big[4096];
		memset(big, 0x42, sizeof(big));
		if (sr_write_file_atomic(p, big, sizeof(big), err, sizeof(err)) != -1)
			_exit(4);
		char want[512];
		snprintf(want, sizeof(want), "%s: write: File too large", p);
		_exit(strcmp(err, want) == 0 ? 0 : 5);
	}
	int status = 0;
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
	expect_content(p, "old image");
	CU_ASSERT_EQUAL(entries(), 1);
	unlink(p);
}

static void test_fd_and_read(void)
{
	int fds[2];
	char err[SR_ERR_MAX];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	CU_ASSERT_EQUAL(sr_write_fd(fds[1], "abc", 3, err, sizeof(err)), 0);
	char got[4] = "";
	CU_ASSERT_EQUAL(read(fds[0], got, 3), 3);
	CU_ASSERT_STRING_EQUAL(got, "abc");
	close(fds[0]);
	close(fds[1]);
	CU_ASSERT_EQUAL(sr_write_fd(fds[1], "abc", 3, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "write: Bad file descriptor");

	char p[256], want[512];
	path_of(p, sizeof(p), "big");
	CU_ASSERT_EQUAL(sr_write_file_atomic(p, "0123456789", 10, err, sizeof(err)), 0);
	uint8_t *b = NULL;
	size_t len = 0;
	CU_ASSERT_EQUAL(sr_read_file(p, 9, &b, &len, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than 9 bytes", p);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(sr_read_file(p, 10, &b, &len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(len, 10);
	free(b);
	unlink(p);
	CU_ASSERT_EQUAL(sr_read_file(p, 10, &b, &len, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", p);
	CU_ASSERT_STRING_EQUAL(err, want);

	/* A file larger than fstat says (procfs: size 0) is read whole, with
	 * room for one byte more, and still refused beyond max. */
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(stat("/proc/self/status", &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 0);
	CU_ASSERT_EQUAL(sr_read_file("/proc/self/status", 1 << 20, &b, &len, err, sizeof(err)), 0);
	CU_ASSERT_TRUE_FATAL(len > 100);
	b[len] = '\0';
	CU_ASSERT_EQUAL(strncmp((const char *)b, "Name:\t", 6), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)b, "\nPid:\t"));
	free(b);
	CU_ASSERT_EQUAL(sr_read_file("/proc/self/status", 8, &b, &len, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "/proc/self/status: larger than 8 bytes");
}

/* Run sr_write_file_atomic(p, "new") in a child that is killed after 5 s:
 * returns what the child reported (0 written, 1 refused with `want` in err
 * (when want is not NULL), 2 refused otherwise), or -1 when it hung. */
static int write_in_child(const char *p, const char *want)
{
	pid_t pid = fork();
	if (pid < 0)
		return -3;
	if (pid == 0) {
		char err[SR_ERR_MAX];
		if (sr_write_file_atomic(p, "new", 3, err, sizeof(err)) == 0)
			_exit(0);
		_exit(want && strcmp(err, want) == 0 ? 1 : 2);
	}
	for (int i = 0; i < 500; i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Another writer holds the temporary's lock: the write fails at once with
 * one line instead of waiting; the old image stays. */
static void test_locked_temporary_fails_at_once(void)
{
	char p[256], t[256], want[600], err[SR_ERR_MAX];
	path_of(p, sizeof(p), "img");
	path_of(t, sizeof(t), ".img.tmp");
	CU_ASSERT_EQUAL_FATAL(sr_write_file_atomic(p, "old", 3, err, sizeof(err)), 0);
	int fd = open(t, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(flock(fd, LOCK_SH), 0);
	snprintf(want, sizeof(want), "%s: the temporary file .img.tmp is locked by another writer",
	         p);
	CU_ASSERT_EQUAL(write_in_child(p, want), 1);
	expect_content(p, "old");
	close(fd);
	/* Once the lock is gone the stale temporary is taken over. */
	CU_ASSERT_EQUAL(write_in_child(p, NULL), 0);
	expect_content(p, "new");
	CU_ASSERT_EQUAL(entries(), 1);
	unlink(p);
}

/* A temporary planted by another user, with a shared lock held on it, is
 * judged by its owner before any lock: removed, never waited for. */
static void test_foreign_temporary_removed_before_locking(void)
{
	char p[256], t[256], err[SR_ERR_MAX];
	if (geteuid() != 0) {
		CU_FAIL("needs root to plant another user's file (CI runs as root)");
		return;
	}
	path_of(p, sizeof(p), "img");
	path_of(t, sizeof(t), ".img.tmp");
	CU_ASSERT_EQUAL_FATAL(sr_write_file_atomic(p, "old", 3, err, sizeof(err)), 0);
	int fd = open(t, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(fchown(fd, 65534, 65534), 0);
	CU_ASSERT_EQUAL_FATAL(flock(fd, LOCK_SH), 0);
	CU_ASSERT_EQUAL(write_in_child(p, NULL), 0);
	expect_content(p, "new");
	CU_ASSERT_EQUAL(entries(), 1);
	close(fd);
	unlink(p);
}


void suite_sr_file(void)
{
	CU_pSuite s = CU_add_suite("saverestore files", setup, teardown);
	CU_add_test(s, "write and replace atomically", test_write_and_replace);
	CU_add_test(s, "symlink, directory, missing directory refused", test_refusals);
	CU_add_test(s, "failed write keeps the old image", test_write_failure_keeps_old);
	CU_add_test(s, "descriptor writes and bounded reads", test_fd_and_read);
	CU_add_test(s, "a temporary locked by another writer: refused at once",
	            test_locked_temporary_fails_at_once);
	CU_add_test(s, "another user's locked temporary: removed before any lock",
	            test_foreign_temporary_removed_before_locking);
}
