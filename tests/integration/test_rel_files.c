/*
 * What rtcdm writes, and where it refuses to write.
 *
 *  - With umask 0 inherited, nothing rtcdm creates is world-writable: the
 *    battery file and saved images are 0600, the QMP socket admits its
 *    owner only, the simulated xenstore tree is 0700/0600, and the
 *    shared_info file is not writable by others.
 *  - Symbolic links are never written through: a battery file that is a
 *    link (at start or planted while running), a QMP save path or the
 *    xenstore protocol's save path that is a link, and a link planted at
 *    the name of a save's temporary file all leave the link's target as it
 *    was.  A world-writable state directory is refused.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "tests/support/rel_util.h"
#include "toolstack/xenstore/store_dir.h"

void suite_rel_files(void);

#define UUID "7a1c9e52-3b8d-4e6f-a012-5c3d9e8f7b61"
#define DOMID "9"
#define DMP "/local/domain/0/device-model/" DOMID
#define VICTIM "precious contents\n"

struct env {
	char dir[64], state[96], bat[160], qmp[96], qmp_arg[160], xs[96], save[96], victim[96];
	struct qtest q;
};

static bool env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	if (support_tmpdir(e->dir, sizeof(e->dir)) < 0)
		return false;
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	snprintf(e->bat, sizeof(e->bat), "%s/" UUID ".cmos", e->state);
	snprintf(e->qmp, sizeof(e->qmp), "%s/qmp", e->dir);
	snprintf(e->qmp_arg, sizeof(e->qmp_arg), "socket,id=qmp,path=%s,server=on,wait=off", e->qmp);
	snprintf(e->xs, sizeof(e->xs), "%s/xs", e->dir);
	snprintf(e->save, sizeof(e->save), "%s/save", e->dir);
	snprintf(e->victim, sizeof(e->victim), "%s/victim", e->dir);
	FILE *f = fopen(e->victim, "w");
	if (!f)
		return false;
	fputs(VICTIM, f);
	fclose(f);
	return mkdir(e->state, 0700) == 0;
}

static bool victim_intact(const struct env *e)
{
	char buf[64] = "";
	FILE *f = fopen(e->victim, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return strcmp(buf, VICTIM) == 0;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode : 0;
}

static void guest_nvram(struct qtest *q, uint8_t v)
{
	cmos_write(q, 0x40, v);
}

/* ---- modes with umask 0 ------------------------------------------------------------------ */

struct walk {
	const char *skip;
	unsigned files, bad;
};

static void walk_dir(struct walk *w, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;

	while (d && (ent = readdir(d))) {
		char path[512];
		struct stat st;

		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
		if (!strcmp(path, w->skip) || lstat(path, &st) < 0)
			continue;
		w->files++;
		if (st.st_mode & S_IWOTH) {
			fprintf(stderr, "\n  %s is world-writable (%04o)", path, st.st_mode & 07777);
			w->bad++;
		}
		if (S_ISDIR(st.st_mode))
			walk_dir(w, path);
	}
	if (d)
		closedir(d);
}

static void test_modes_with_umask_0(void)
{
	struct env e;
	char buf[1024], msg[512], vnode[64];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	/* The toolstack's side of the simulated xenstore: /local/domain/9/vm. */
	char err[256];
	struct store *tool = store_dir_open(e.xs, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tool);
	CU_ASSERT_EQUAL(store_write(tool, "/local/domain/" DOMID "/vm", "/vm/" UUID), 0);

	const char *const args[] = {"--domid", DOMID, "--sim-xenstore", e.xs, "--state-dir", e.state,
	                            "--save-path", e.save, "-chardev", e.qmp_arg, "-mon",
	                            "chardev=qmp,mode=control", NULL};
	mode_t old = umask(0);
	int rc = qtest_start(&e.q, "1700000000", args);
	umask(old);
	if (rc < 0) {
		CU_FAIL("start");
		store_close(tool);
		support_rmtree(e.dir);
		return;
	}
	/* Battery file, a QMP save to a path, a xenstore-protocol save. */
	guest_nvram(&e.q, 0x5a);
	char qsave[128];
	snprintf(qsave, sizeof(qsave), "%s/qmp-save", e.dir);
	snprintf(msg, sizeof(msg),
	         "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"%s\"},"
	         "\"id\":2}",
	         qsave);
	CU_ASSERT_STRING_EQUAL(support_qmp_once(e.qmp, msg, buf, sizeof(buf)),
	                       "{\"return\":{},\"id\":2}\r\n");
	CU_ASSERT_EQUAL(store_write(tool, DMP "/command", "save"), 0);
	for (int i = 0; i < SUPPORT_TIMEOUT_MS / 5; i++) {
		char *v = store_read(tool, DMP "/state");
		snprintf(vnode, sizeof(vnode), "%s", v ? v : "");
		free(v);
		if (!strcmp(vnode, "paused"))
			break;
		usleep(5000);
	}
	CU_ASSERT_STRING_EQUAL(vnode, "paused");
	CU_ASSERT_EQUAL(store_write(tool, DMP "/command", "continue"), 0);
	support_signal(&e.q.proc, SIGTERM); /* the battery file is written at exit */
	CU_ASSERT_EQUAL(support_wait(&e.q.proc, SUPPORT_TIMEOUT_MS), 0);

	CU_ASSERT_EQUAL(mode_of(e.bat) & 07777, 0600);
	CU_ASSERT_EQUAL(mode_of(qsave) & 07777, 0600);
	CU_ASSERT_EQUAL(mode_of(e.save) & 07777, 0600);
	CU_ASSERT_EQUAL(mode_of(e.state) & 07777, 0700);
	CU_ASSERT_FALSE(mode_of(e.q.shinfo_path) & S_IWOTH);
	CU_ASSERT_TRUE(S_ISREG(mode_of(e.q.shinfo_path)));
	/* The socket outlives a SIGKILL: look at it while rtcdm runs. */
	qtest_quit(&e.q);
	umask(0);
	rc = qtest_start(&e.q, "1700000000", args);
	umask(old);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_TRUE(S_ISSOCK(mode_of(e.qmp)));
	CU_ASSERT_EQUAL(mode_of(e.qmp) & 0777 & ~(mode_t)0700, 0);
	if (mode_of(e.qmp) & 077)
		fprintf(stderr, "\n  QMP socket mode %04o", mode_of(e.qmp) & 07777);
	struct walk w = {.skip = e.victim};
	walk_dir(&w, e.dir);
	CU_ASSERT_TRUE(w.files >= 8); /* state, battery, saves, socket, xenstore nodes */
	CU_ASSERT_EQUAL(w.bad, 0);
	CU_ASSERT_EQUAL(qtest_quit(&e.q), 0);
	store_close(tool);
	support_rmtree(e.dir);
}

/* ---- symbolic links ------------------------------------------------------------------------ */

static void test_battery_symlink_at_start(void)
{
	struct env e;
	struct support_proc p;
	char want[512];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	CU_ASSERT_EQUAL_FATAL(symlink(e.victim, e.bat), 0);
	const char *const args[] = {"--platform", "sim", "-uuid", UUID, "--state-dir", e.state, NULL};
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args, SUPPORT_TIMEOUT_MS), 1);
	snprintf(want, sizeof(want), "error: battery file '%s': refusing a symbolic link\n", e.bat);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
	CU_ASSERT_TRUE(S_ISLNK(mode_of(e.bat)));
	CU_ASSERT_TRUE(victim_intact(&e));

	/* A world-writable state directory is refused as well. */
	unlink(e.bat);
	CU_ASSERT_EQUAL(chmod(e.state, 0777), 0);
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args, SUPPORT_TIMEOUT_MS), 1);
	snprintf(want, sizeof(want),
	         "error: state directory '%s': refusing a world-writable directory\n", e.state);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
	support_rmtree(e.dir);
}

/* --sim-shared-info empties and maps its file: a symbolic link (or a file
 * with another name) there is refused, its target left as it was. */
static void test_sim_shared_info_symlink(void)
{
	struct env e;
	struct support_proc p;
	char shinfo[192], want[512];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	snprintf(shinfo, sizeof(shinfo), "%s/shared_info", e.dir);
	CU_ASSERT_EQUAL_FATAL(symlink(e.victim, shinfo), 0);
	const char *const args[] = {"--platform", "sim", "--sim-shared-info", shinfo, NULL};
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args, SUPPORT_TIMEOUT_MS), 1);
	snprintf(want, sizeof(want),
	         "error: cannot create shared_info file '%s': refusing a symbolic link\n", shinfo);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
	CU_ASSERT_TRUE(S_ISLNK(mode_of(shinfo)));
	CU_ASSERT_TRUE(victim_intact(&e));

	unlink(shinfo);
	CU_ASSERT_EQUAL_FATAL(link(e.victim, shinfo), 0);
	CU_ASSERT_EQUAL(support_run(&p, "rtcdm", args, SUPPORT_TIMEOUT_MS), 1);
	snprintf(want, sizeof(want),
	         "error: shared_info file '%s': refusing a file with other hard links\n", shinfo);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
	CU_ASSERT_TRUE(victim_intact(&e));
	support_rmtree(e.dir);
}

static void test_battery_symlink_planted(void)
{
	struct env e;
	struct sr_image img;
	char err[SR_ERR_MAX + 64];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	const char *const args[] = {"-uuid", UUID, "--state-dir", e.state, NULL};
	if (qtest_start(&e.q, "1700000000", args) < 0) {
		CU_FAIL("start");
		support_rmtree(e.dir);
		return;
	}
	guest_nvram(&e.q, 0x11);
	for (int i = 0; i < SUPPORT_TIMEOUT_MS / 5; i++) {
		if (rel_load_image(e.bat, &img, err, sizeof(err)) == 0 &&
		    img.nvram[0x40 - RTC_NVRAM_FIRST] == 0x11)
			break;
		usleep(5000);
	}
	CU_ASSERT_EQUAL(img.nvram[0x40 - RTC_NVRAM_FIRST], 0x11);
	/* Someone swaps the file for a link; the next update must not follow it. */
	CU_ASSERT_EQUAL(unlink(e.bat), 0);
	CU_ASSERT_EQUAL(symlink(e.victim, e.bat), 0);
	guest_nvram(&e.q, 0x22);
	char want[512];
	snprintf(want, sizeof(want),
	         "error: battery file not updated: %s: refusing to write through a symbolic link\n",
	         e.bat);
	CU_ASSERT_TRUE(support_stderr_wait(&e.q.proc, want, SUPPORT_TIMEOUT_MS));
	CU_ASSERT_TRUE(S_ISLNK(mode_of(e.bat)));
	CU_ASSERT_TRUE(victim_intact(&e));
	/* The guest goes on. */
	CU_ASSERT_EQUAL(cmos_read(&e.q, 0x40), 0x22);
	CU_ASSERT_EQUAL(qtest_quit(&e.q), 0);
	CU_ASSERT_TRUE(victim_intact(&e));
	support_rmtree(e.dir);
}

static void test_save_path_symlinks(void)
{
	struct env e;
	char buf[1024], msg[512], lnk[128], tmpname[128], ok_path[128];
	struct sr_image img;
	char err[SR_ERR_MAX + 64];

	if (!env_init(&e)) {
		CU_FAIL("environment");
		return;
	}
	char errstore[256];
	struct store *tool = store_dir_open(e.xs, errstore, sizeof(errstore));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tool);
	snprintf(lnk, sizeof(lnk), "%s/link", e.dir);
	CU_ASSERT_EQUAL_FATAL(symlink(e.victim, lnk), 0);
	/* --save-path is the link too (the xenstore protocol's save). */
	const char *const args[] = {"--domid", DOMID, "--sim-xenstore", e.xs, "--save-path", lnk,
	                            "-chardev", e.qmp_arg, "-mon", "chardev=qmp,mode=control", NULL};
	if (qtest_start(&e.q, "1700000000", args) < 0) {
		CU_FAIL("start");
		store_close(tool);
		support_rmtree(e.dir);
		return;
	}
	guest_nvram(&e.q, 0x33);
	/* QMP save to the link: an error reply, the target untouched. */
	snprintf(msg, sizeof(msg),
	         "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"%s\"},"
	         "\"id\":3}",
	         lnk);
	snprintf(buf, sizeof(buf),
	         "{\"error\":{\"class\":\"GenericError\",\"desc\":\"saving the device state: %s: "
	         "refusing to write through a symbolic link\"},\"id\":3}\r\n",
	         lnk);
	char reply[1024];
	CU_ASSERT_STRING_EQUAL(support_qmp_once(e.qmp, msg, reply, sizeof(reply)), buf);
	CU_ASSERT_TRUE(victim_intact(&e));
	CU_ASSERT_TRUE(S_ISLNK(mode_of(lnk)));

	/* The xenstore protocol: logged, the guest resumed, state "running". */
	CU_ASSERT_EQUAL(store_write(tool, DMP "/command", "save"), 0);
	CU_ASSERT_TRUE(support_stderr_wait(&e.q.proc, "dm-command save: saving the device state: ",
	                                   SUPPORT_TIMEOUT_MS));
	char *st = store_read(tool, DMP "/state");
	CU_ASSERT_PTR_NOT_NULL(st);
	if (st)
		CU_ASSERT_STRING_EQUAL(st, "running");
	free(st);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.q.proc.err, "refusing to write through a symbolic link"));
	CU_ASSERT_TRUE(victim_intact(&e));
	CU_ASSERT_STRING_EQUAL(
		support_qmp_once(e.qmp, "{\"execute\":\"query-status\",\"id\":4}", reply, sizeof(reply)),
		"{\"return\":{\"status\":\"running\",\"singlestep\":false,\"running\":true},\"id\":4}\r\n");

	/* A link planted at the name of the temporary is replaced, not followed. */
	snprintf(ok_path, sizeof(ok_path), "%s/image", e.dir);
	snprintf(tmpname, sizeof(tmpname), "%s/.image.tmp", e.dir);
	CU_ASSERT_EQUAL(symlink(e.victim, tmpname), 0);
	snprintf(msg, sizeof(msg),
	         "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"%s\"},"
	         "\"id\":5}",
	         ok_path);
	CU_ASSERT_STRING_EQUAL(support_qmp_once(e.qmp, msg, reply, sizeof(reply)),
	                       "{\"return\":{},\"id\":5}\r\n");
	CU_ASSERT_TRUE(victim_intact(&e));
	CU_ASSERT_EQUAL(mode_of(tmpname), 0); /* gone: renamed into place */
	CU_ASSERT_EQUAL(rel_load_image(ok_path, &img, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(img.nvram[0x40 - RTC_NVRAM_FIRST], 0x33);
	CU_ASSERT_EQUAL(mode_of(ok_path) & 07777, 0600);
	/* A hard link to the victim planted there: the victim keeps its bytes. */
	CU_ASSERT_EQUAL(link(e.victim, tmpname), 0);
	CU_ASSERT_STRING_EQUAL(support_qmp_once(e.qmp, msg, reply, sizeof(reply)),
	                       "{\"return\":{},\"id\":5}\r\n");
	CU_ASSERT_TRUE(victim_intact(&e));
	CU_ASSERT_EQUAL(rel_load_image(ok_path, &img, err, sizeof(err)), 0);

	CU_ASSERT_EQUAL(qtest_quit(&e.q), 0);
	store_close(tool);
	support_rmtree(e.dir);
}

void suite_rel_files(void)
{
	CU_pSuite s = CU_add_suite("rel_files (file modes, symbolic links)", NULL, NULL);
	CU_add_test(s, "umask 0: nothing rtcdm creates is world-writable", test_modes_with_umask_0);
	CU_add_test(s, "battery file that is a symlink, world-writable state dir: exit 1",
	            test_battery_symlink_at_start);
	CU_add_test(s, "battery file swapped for a symlink while running: not followed",
	            test_battery_symlink_planted);
	CU_add_test(s, "--sim-shared-info: a link or a second name is refused",
	            test_sim_shared_info_symlink);
	CU_add_test(s, "save paths and a planted temporary that are links: not followed",
	            test_save_path_symlinks);
}
