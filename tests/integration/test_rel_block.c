/*
 * Blocking I/O.  A load from a pipe, a FIFO or any descriptor that is not a
 * regular file, and a save into a pipe or socket, could wait for a peer for
 * ever and freeze the guest, QMP and the signal handling with them: they
 * are refused with one line, at once, the process keeps answering, and
 * SIGHUP/SIGTERM still end it cleanly.  -incoming fd:N on a pipe that never
 * ends is refused at start-up.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "tests/support/rel_util.h"

void suite_rel_block(void);

#define LOAD_REFUSED(what)                                                                        \
	"{\"error\":{\"class\":\"GenericError\",\"desc\":\"" what                                   \
	": not a regular file (a pipe or device could stall rtcdm)\"},\"id\":2}\r\n"
#define SAVE_REFUSED(kind)                                                                        \
	"{\"error\":{\"class\":\"GenericError\",\"desc\":\"saving the device state: refusing a " kind \
	" (a reader that stalls would stall rtcdm)\"},\"id\":2}\r\n"

static void test_qmp_refuses_what_could_block(void)
{
	char dir[64], sock[96], qmp[96], fifo[96], cd[160], msg[256], buf[1024];
	struct qtest q;

	CU_ASSERT_EQUAL_FATAL(support_tmpdir(dir, sizeof(dir)), 0);
	snprintf(sock, sizeof(sock), "%s/qtest", dir);
	snprintf(qmp, sizeof(qmp), "%s/qmp", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(cd, sizeof(cd), "socket,id=qmp,path=%s,server=on,wait=off", qmp);
	const char *const args[] = {"-chardev", cd, "-mon", "chardev=qmp,mode=control", NULL};
	if (rel_dm_start(&q, sock, args) < 0) {
		CU_FAIL("start");
		qtest_quit(&q);
		support_rmtree(dir);
		return;
	}
	cmos_write(&q, 0x40, 0x5a);
	CU_ASSERT_STRING_EQUAL(support_qmp_once(qmp, "{\"execute\":\"stop\",\"id\":1}", buf, sizeof(buf)),
	                       "{\"return\":{},\"id\":1}\r\n");

	/* A FIFO nobody writes: not even opening it may wait. */
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	snprintf(msg, sizeof(msg),
	         "{\"execute\":\"xen-load-devices-state\",\"arguments\":{\"filename\":\"%s\"},\"id\":2}",
	         fifo);
	char want[256];
	snprintf(want, sizeof(want), LOAD_REFUSED("%s"), fifo);
	CU_ASSERT_STRING_EQUAL(support_qmp_once(qmp, msg, buf, sizeof(buf)), want);

	/* A pipe that never ends (its writer stays open, silent). */
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe2(p, O_CLOEXEC), 0);
	CU_ASSERT_STRING_EQUAL(rel_fdset_op(qmp, "xen-load-devices-state", "", p[0], 1, buf, sizeof(buf)),
	                       LOAD_REFUSED("descriptor"));
	/* A full pipe nobody reads. */
	int fl = fcntl(p[1], F_GETFL);
	CU_ASSERT_EQUAL(fcntl(p[1], F_SETFL, fl | O_NONBLOCK), 0);
	char fill[4096];
	memset(fill, 'x', sizeof(fill));
	while (write(p[1], fill, sizeof(fill)) > 0)
		;
	CU_ASSERT_EQUAL(fcntl(p[1], F_SETFL, fl), 0); /* blocking again, as libxl's would be */
	CU_ASSERT_STRING_EQUAL(rel_fdset_op(qmp, "xen-save-devices-state", "", p[1], 2, buf, sizeof(buf)),
	                       SAVE_REFUSED("pipe"));
	/* A socket whose peer never reads. */
	int sv[2];
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	CU_ASSERT_STRING_EQUAL(rel_fdset_op(qmp, "xen-save-devices-state", "", sv[0], 3, buf, sizeof(buf)),
	                       SAVE_REFUSED("socket"));

	/* Still answering the toolstack and the guest, state unchanged. */
	CU_ASSERT_STRING_EQUAL(
	    support_qmp_once(qmp, "{\"execute\":\"query-status\",\"id\":9}", buf, sizeof(buf)),
	    "{\"return\":{\"status\":\"paused\",\"singlestep\":false,\"running\":false},\"id\":9}\r\n");
	CU_ASSERT_EQUAL(cmos_read(&q, 0x40), 0x5a);
	/* And the signal libxl stops a device model with still works. */
	support_signal(&q.proc, SIGHUP);
	CU_ASSERT_EQUAL(support_wait(&q.proc, SUPPORT_TIMEOUT_MS), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(support_stderr(&q.proc), "received Hangup, exiting"));
	qtest_quit(&q);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	support_rmtree(dir);
}

/* -incoming fd:N on a pipe whose writer never finishes: refused at once
 * (before, rtcdm read it for ever and ignored SIGHUP). */
static void test_incoming_pipe_refused(void)
{
	struct support_proc p;
	char arg[32], want[160];
	int pp[2];

	CU_ASSERT_EQUAL_FATAL(pipe2(pp, O_CLOEXEC), 0);
	CU_ASSERT_EQUAL(write(pp[1], "RTCDM", 5), 5);
	int in = fcntl(pp[0], F_DUPFD_CLOEXEC, 15);
	close(pp[0]);
	snprintf(arg, sizeof(arg), "fd:%d", in);
	const char *const args[] = {"--platform", "sim", "-incoming", arg, NULL};
	CU_ASSERT_EQUAL_FATAL(support_spawn(&p, "rtcdm", args, &in, 1), 0);
	close(in);
	int status = support_wait(&p, SUPPORT_TIMEOUT_MS);
	if (status < 0) {
		/* Stuck reading: the stop signal must still end it. */
		support_signal(&p, SIGHUP);
		support_wait(&p, SUPPORT_TIMEOUT_MS);
	}
	CU_ASSERT_EQUAL(status, 1);
	snprintf(want, sizeof(want),
	         "error: -incoming %s: not a regular file (a pipe or device could stall rtcdm)\n", arg);
	CU_ASSERT_PTR_NOT_NULL(strstr(support_stderr(&p), want));
	support_proc_cleanup(&p);
	close(pp[1]);
}

void suite_rel_block(void)
{
	CU_pSuite s = CU_add_suite("rel_block", NULL, NULL);
	CU_add_test(s, "QMP load from a FIFO or pipe, save into a full pipe or socket: refused",
	            test_qmp_refuses_what_could_block);
	CU_add_test(s, "-incoming fd:N on a never-ending pipe: refused at start-up",
	            test_incoming_pipe_refused);
}
