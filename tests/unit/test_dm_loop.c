/* base/loop.c (fds, signals) and base/log.c (line format). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop.h"

void suite_dm_loop(void);

struct ctx {
	int calls;
	char last;
	int other_fd;
	int signo;
};

static void on_read(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct ctx *c = opaque;

	CU_ASSERT_TRUE(events & EPOLLIN);
	if (read(fd, &c->last, 1) == 1)
		c->calls++;
	if (c->last == 'q')
		dm_loop_stop(loop, 7);
	if (c->last == 'd')
		dm_loop_del_fd(loop, c->other_fd); /* removing another fd from a callback */
}

static void test_fds_and_stop(void)
{
	struct dm_loop loop;
	struct dm_log log;
	struct ctx a = {0}, b = {0};
	int p1[2], p2[2];

	dm_log_init(&log, -1);
	CU_ASSERT_EQUAL_FATAL(dm_loop_init(&loop, &log), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(p1), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(p2), 0);
	CU_ASSERT_EQUAL(dm_loop_add_fd(&loop, p1[0], EPOLLIN, on_read, &a), 0);
	CU_ASSERT_EQUAL(dm_loop_add_fd(&loop, p1[0], EPOLLIN, on_read, &a), -EEXIST);
	CU_ASSERT_EQUAL(dm_loop_add_fd(&loop, p2[0], EPOLLIN, on_read, &b), 0);
	CU_ASSERT_EQUAL(dm_loop_once(&loop, 0), 0); /* nothing ready */
	CU_ASSERT_EQUAL(write(p1[1], "x", 1), 1);
	CU_ASSERT_EQUAL(dm_loop_once(&loop, 1000), 1);
	CU_ASSERT_EQUAL(a.calls, 1);
	CU_ASSERT_EQUAL(a.last, 'x');
	/* 'd' removes p2 before its event is dispatched in the same round. */
	a.other_fd = p2[0];
	CU_ASSERT_EQUAL(write(p2[1], "y", 1), 1);
	CU_ASSERT_EQUAL(write(p1[1], "d", 1), 1);
	dm_loop_once(&loop, 1000);
	CU_ASSERT_EQUAL(a.calls, 2);
	CU_ASSERT_EQUAL(dm_loop_once(&loop, 0), 0);
	CU_ASSERT_EQUAL(write(p1[1], "q", 1), 1);
	CU_ASSERT_EQUAL(dm_loop_run(&loop), 7);
	dm_loop_fini(&loop);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

static void on_events(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	uint32_t *got = opaque;

	(void)loop;
	(void)fd;
	*got = events;
}

/* A change of the watched events reaches epoll; asking for the ones already
 * watched makes no call, and the next real change still does. */
static void test_mod_only_on_change(void)
{
	struct dm_loop loop;
	struct dm_log log;
	int sv[2];
	uint32_t got = 0;

	dm_log_init(&log, -1);
	CU_ASSERT_EQUAL_FATAL(dm_loop_init(&loop, &log), 0);
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	CU_ASSERT_EQUAL(dm_loop_add_fd(&loop, sv[0], EPOLLIN, on_events, &got), 0);
	CU_ASSERT_EQUAL(dm_loop_mod_fd(&loop, sv[0], EPOLLIN), 0);
	CU_ASSERT_EQUAL(loop.mods, 0); /* as added: no call */
	CU_ASSERT_EQUAL(dm_loop_once(&loop, 0), 0); /* nothing to read */

	CU_ASSERT_EQUAL(dm_loop_mod_fd(&loop, sv[0], EPOLLIN | EPOLLOUT), 0);
	CU_ASSERT_EQUAL(loop.mods, 1);
	CU_ASSERT_EQUAL(dm_loop_once(&loop, 0), 1);
	CU_ASSERT_EQUAL(got, EPOLLOUT); /* writable, nothing to read */
	CU_ASSERT_EQUAL(dm_loop_mod_fd(&loop, sv[0], EPOLLIN | EPOLLOUT), 0);
	CU_ASSERT_EQUAL(loop.mods, 1);

	CU_ASSERT_EQUAL(dm_loop_mod_fd(&loop, sv[0], EPOLLIN), 0);
	CU_ASSERT_EQUAL(loop.mods, 2);
	got = 0;
	CU_ASSERT_EQUAL(dm_loop_once(&loop, 0), 0); /* EPOLLOUT no longer watched */
	CU_ASSERT_EQUAL(write(sv[1], "x", 1), 1);
	CU_ASSERT_EQUAL(dm_loop_once(&loop, 0), 1);
	CU_ASSERT_EQUAL(got, EPOLLIN);

	CU_ASSERT_EQUAL(dm_loop_mod_fd(&loop, sv[1], EPOLLIN), -ENOENT);
	dm_loop_del_fd(&loop, sv[0]);
	CU_ASSERT_EQUAL(dm_loop_mod_fd(&loop, sv[0], EPOLLIN), -ENOENT);
	close(sv[0]);
	close(sv[1]);
	dm_loop_fini(&loop);
}

static void on_signal(struct dm_loop *loop, int signo, void *opaque)
{
	struct ctx *c = opaque;

	c->signo = signo;
	dm_loop_stop(loop, 0);
}

static void test_signals(void)
{
	struct dm_loop loop;
	struct dm_log log;
	struct ctx c = {0};
	int pfd[2];
	char buf[512];
	ssize_t n;

	CU_ASSERT_EQUAL_FATAL(pipe2(pfd, O_NONBLOCK), 0);
	dm_log_init(&log, pfd[1]);
	/* Default handling: log line, stop with status 0. */
	CU_ASSERT_EQUAL_FATAL(dm_loop_init(&loop, &log), 0);
	raise(SIGHUP);
	CU_ASSERT_EQUAL(dm_loop_run(&loop), 0);
	dm_loop_fini(&loop);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "info: received Hangup, exiting\n"));
	/* A handler of our own sees the signal number. */
	CU_ASSERT_EQUAL_FATAL(dm_loop_init(&loop, &log), 0);
	dm_loop_set_signal_handler(&loop, on_signal, &c);
	raise(SIGTERM);
	CU_ASSERT_EQUAL(dm_loop_run(&loop), 0);
	CU_ASSERT_EQUAL(c.signo, SIGTERM);
	dm_loop_fini(&loop);
	close(pfd[0]);
	close(pfd[1]);
}

/* A stop signal still pending when the loop is torn down must not kill the
 * process with its default action (libxl's SIGHUP racing a clean exit). */
static void test_pending_signal_at_fini(void)
{
	int status = -1;
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct dm_loop loop;
		struct dm_log log;

		dm_log_init(&log, -1);
		if (dm_loop_init(&loop, &log) != 0)
			_exit(3);
		raise(SIGHUP); /* blocked: stays pending, nobody reads the signalfd */
		dm_loop_fini(&loop);
		_exit(0);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status));
	CU_ASSERT_EQUAL(WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), 0);
}

static void test_log_format(void)
{
	struct dm_log log;
	int pfd[2];
	char buf[2048];
	regex_t re;
	ssize_t n;

	CU_ASSERT_EQUAL_FATAL(pipe2(pfd, O_NONBLOCK), 0);
	dm_log_init(&log, pfd[1]);
	log.domid = 9;
	dm_info(&log, "hello %d", 42);
	dm_debug(&log, "hidden");
	dm_log_set_verbosity(&log, 1);
	dm_debug(&log, "two\nlines");
	dm_log_set_verbosity(&log, -5);
	dm_warn(&log, "hidden too");
	dm_err(&log, "bad");
	n = read(pfd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CU_ASSERT_EQUAL_FATAL(regcomp(&re,
	                              "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "
	                              "rtcdm\\[9\\] info: hello 42\n"
	                              "[0-9-]{10} [0-9:]{8}\\.[0-9]{3} rtcdm\\[9\\] debug: two lines\n"
	                              "[0-9-]{10} [0-9:]{8}\\.[0-9]{3} rtcdm\\[9\\] error: bad\n$",
	                              REG_EXTENDED),
	                      0);
	CU_ASSERT_EQUAL(regexec(&re, buf, 0, NULL, 0), 0);
	regfree(&re);
	close(pfd[0]);
	close(pfd[1]);
}

void suite_dm_loop(void)
{
	CU_pSuite s = CU_add_suite("dm_loop (event loop and log)", NULL, NULL);

	CU_add_test(s, "fd callbacks, removal, stop status", test_fds_and_stop);
	CU_add_test(s, "a watch changed only when its events change", test_mod_only_on_change);
	CU_add_test(s, "signals through signalfd", test_signals);
	CU_add_test(s, "pending stop signal at teardown is consumed", test_pending_signal_at_fini);
	CU_add_test(s, "log line format and levels", test_log_format);
}
