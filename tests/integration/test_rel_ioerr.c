/*
 * I/O errors while saving.  A save into a descriptor that fails (/dev/full,
 * a pipe, which is refused, a descriptor open only for reading) gets a
 * QMP error reply naming the cause;
 * rtcdm keeps running, the guest keeps running and an image saved before
 * is intact.  The xenstore command protocol's save into a file system that
 * is full (RLIMIT_FSIZE inherited) leaves the state node at "running", the
 * guest resumed and the previous image at the save path intact.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>

#include "tests/support/rel_util.h"
#include "toolstack/xenstore/store_dir.h"

void suite_rel_ioerr(void);

#define DOMID "11"
#define DMP "/local/domain/0/device-model/" DOMID

static const char running[] =
	"{\"return\":{\"status\":\"running\",\"singlestep\":false,\"running\":true},\"id\":9}\r\n";

/* Save into `fd` passed with add-fd as fdset `set`; the reply goes to buf. */
static const char *save_to_fd(const char *qmp, int fd, int set, char *buf, size_t len)
{
	return rel_fdset_op(qmp, "xen-save-devices-state", "\"live\":false,", fd, set, buf, len);
}

static void test_failing_descriptors(void)
{
	char dir[64], qmp[96], cd[160], prev[96], msg[256], buf[1024];
	struct qtest q;
	struct sr_image img;
	char err[SR_ERR_MAX + 64];

	CU_ASSERT_EQUAL_FATAL(support_tmpdir(dir, sizeof(dir)), 0);
	snprintf(qmp, sizeof(qmp), "%s/qmp", dir);
	snprintf(prev, sizeof(prev), "%s/previous", dir);
	snprintf(cd, sizeof(cd), "socket,id=qmp,path=%s,server=on,wait=off", qmp);
	const char *const args[] = {"-chardev", cd, "-mon", "chardev=qmp,mode=control", NULL};
	if (qtest_start(&q, "1700000000", args) < 0) {
		CU_FAIL("start");
		support_rmtree(dir);
		return;
	}
	/* An image saved before the failures. */
	cmos_write(&q, 0x40, 0x5a);
	snprintf(msg, sizeof(msg),
	         "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"%s\"},\"id\":2}",
	         prev);
	CU_ASSERT_STRING_EQUAL(support_qmp_once(qmp, msg, buf, sizeof(buf)), "{\"return\":{},\"id\":2}\r\n");
	cmos_write(&q, 0x40, 0x77);

	/* /dev/full: ENOSPC. */
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	CU_ASSERT_TRUE_FATAL(full >= 0);
	CU_ASSERT_STRING_EQUAL(save_to_fd(qmp, full, 1, buf, sizeof(buf)),
	                       "{\"error\":{\"class\":\"GenericError\",\"desc\":\"saving the device "
	                       "state: write: No space left on device\"},\"id\":2}\r\n");
	close(full);
	/* A pipe nobody reads any more: refused before any write (a pipe
	 * could stall rtcdm, see test_rel_block.c), no SIGPIPE. */
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	CU_ASSERT_STRING_EQUAL(save_to_fd(qmp, p[1], 2, buf, sizeof(buf)),
	                       "{\"error\":{\"class\":\"GenericError\",\"desc\":\"saving the device "
	                       "state: refusing a pipe (a reader that stalls would stall rtcdm)\"},"
	                       "\"id\":2}\r\n");
	close(p[1]);
	/* A descriptor opened read-only is refused before any write. */
	int ro = open(prev, O_RDONLY | O_CLOEXEC);
	CU_ASSERT_STRING_EQUAL(save_to_fd(qmp, ro, 3, buf, sizeof(buf)),
	                       "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Could not open "
	                       "'/dev/fdset/3': no descriptor open for writing\"},\"id\":2}\r\n");
	close(ro);

	/* Still there, still running, the guest's state unchanged, the old image intact. */
	CU_ASSERT_STRING_EQUAL(
		support_qmp_once(qmp, "{\"execute\":\"query-status\",\"id\":9}", buf, sizeof(buf)), running);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x40), 0x77);
	CU_ASSERT_EQUAL(rel_load_image(prev, &img, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(img.nvram[0x40 - RTC_NVRAM_FIRST], 0x5a);
	CU_ASSERT_EQUAL(q.proc.reaped, false);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	support_rmtree(dir);
}

static void test_xenstore_save_full_filesystem(void)
{
	char dir[64], xs[96], save[96], sock[96], err[256], buf[1024];
	struct qtest q;
	struct sr_image img;
	uint8_t image[512];
	struct rlimit old, tiny = {.rlim_cur = 64};

	CU_ASSERT_EQUAL_FATAL(support_tmpdir(dir, sizeof(dir)), 0);
	snprintf(xs, sizeof(xs), "%s/xs", dir);
	snprintf(sock, sizeof(sock), "%s/qtest", dir);
	snprintf(save, sizeof(save), "%s/qemu-save." DOMID, dir);
	struct store *tool = store_dir_open(xs, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tool);
	/* The previous image at the save path (NVRAM byte 0x40 = 0x11). */
	sr_image_init(&img);
	img.present = (1u << SR_REC_RTC) | (1u << SR_REC_NVRAM);
	img.rtc.cmos[RTC_REG_A] = 0x26;
	img.rtc.cmos[RTC_REG_B] = 0x02;
	img.rtc.cmos[RTC_REG_D] = 0x80;
	img.nvram[0x40 - RTC_NVRAM_FIRST] = 0x11;
	size_t n = sr_encode(&img, image, sizeof(image));
	CU_ASSERT_TRUE_FATAL(n > 64 && n <= sizeof(image));
	CU_ASSERT_EQUAL_FATAL(sr_write_file_atomic(save, image, n, err, sizeof(err)), 0);

	const char *const args[] = {"--domid", DOMID, "--sim-xenstore", xs, "--save-path", save, NULL};
	getrlimit(RLIMIT_FSIZE, &old);
	tiny.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_FSIZE, &tiny);
	int rc = rel_dm_start(&q, sock, args);
	setrlimit(RLIMIT_FSIZE, &old);
	if (rc < 0) {
		CU_FAIL("start");
		qtest_quit(&q);
		store_close(tool);
		support_rmtree(dir);
		return;
	}
	char *st = NULL;
	for (int i = 0; i < SUPPORT_TIMEOUT_MS / 5 && !(st && !strcmp(st, "running")); i++) {
		free(st);
		usleep(5000);
		st = store_read(tool, DMP "/state");
	}
	CU_ASSERT_PTR_NOT_NULL(st);
	free(st);
	cmos_write(&q, 0x40, 0x22);
	CU_ASSERT_EQUAL(store_write(tool, DMP "/command", "save"), 0);
	snprintf(buf, sizeof(buf), "dm-command save: saving the device state: %s: write: File too large",
	         save);
	CU_ASSERT_TRUE(support_stderr_wait(&q.proc, buf, SUPPORT_TIMEOUT_MS));
	/* The command is consumed, the state stays "running", the guest runs. */
	char *cmd = store_read(tool, DMP "/command");
	CU_ASSERT_PTR_NULL(cmd);
	free(cmd);
	st = store_read(tool, DMP "/state");
	CU_ASSERT_PTR_NOT_NULL(st);
	if (st)
		CU_ASSERT_STRING_EQUAL(st, "running");
	free(st);
	CU_ASSERT_EQUAL(cmos_read(&q, 0x40), 0x22);
	CU_ASSERT_PTR_NOT_NULL(strstr(support_stderr(&q.proc), "guest running"));
	/* The previous image is intact; no temporary left behind. */
	CU_ASSERT_EQUAL(rel_load_image(save, &img, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(img.nvram[0x40 - RTC_NVRAM_FIRST], 0x11);
	snprintf(buf, sizeof(buf), "%s/.qemu-save." DOMID ".tmp", dir);
	CU_ASSERT_EQUAL(access(buf, F_OK), -1);
	CU_ASSERT_EQUAL(qtest_quit(&q), 0);
	store_close(tool);
	support_rmtree(dir);
}

void suite_rel_ioerr(void)
{
	CU_pSuite s = CU_add_suite("rel_ioerr (I/O errors while saving)", NULL, NULL);
	CU_add_test(s, "QMP save into /dev/full, a broken pipe, a read-only fd: errors, still running",
	            test_failing_descriptors);
	CU_add_test(s, "xenstore save into a full file system: state stays running, image intact",
	            test_xenstore_save_full_filesystem);
}
