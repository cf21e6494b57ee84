/* support_proc.c — starting built programs, capturing stderr, temp dirs. */
#include "tests/support/support.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *support_build_dir(void)
{
	const char *b = getenv("RTCDM_BUILD");

	return b && *b ? b : "build";
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* path = $RTCDM_BUILD/prog; argv = path, args..., NULL (at most cap
 * entries).  0 or -1. */
static int build_argv(const char *prog, const char *const args[], char *path, size_t pathlen,
                      const char **argv, size_t cap)
{
	size_t n = 0;

	snprintf(path, pathlen, "%s/%s", support_build_dir(), prog);
	argv[n++] = path;
	for (size_t i = 0; args && args[i]; i++) {
		if (n == cap - 1)
			return -1;
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return 0;
}

int support_spawn(struct support_proc *p, const char *prog, const char *const args[],
                  const int *keep_fds, size_t n_keep)
{
	char path[PATH_MAX];
	const char *argv[64];
	int pipefd[2];

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->err_fd = -1;
	if (build_argv(prog, args, path, sizeof(path), argv, sizeof(argv) / sizeof(argv[0])) < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	p->pid = fork();
	if (p->pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (p->pid == 0) {
		sigset_t none;
		int devnull = open("/dev/null", O_RDWR);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
		    dup2(pipefd[1], 2) < 0)
			_exit(126);
		for (size_t i = 0; i < n_keep; i++) {
			int fl = fcntl(keep_fds[i], F_GETFD);

			if (fl < 0 || fcntl(keep_fds[i], F_SETFD, fl & ~FD_CLOEXEC) < 0)
				_exit(126);
		}
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	p->err_fd = pipefd[0];
	fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Append what is readable now; returns false at EOF. */
static bool drain_stderr(struct support_proc *p)
{
	for (;;) {
		char buf[4096];
		ssize_t r;

		if (p->err_fd < 0)
			return false;
		r = read(p->err_fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return true; /* EAGAIN */
		if (r == 0) {
			close(p->err_fd);
			p->err_fd = -1;
			return false;
		}
		size_t room = sizeof(p->err) - 1 - p->err_len;
		size_t take = (size_t)r < room ? (size_t)r : room;

		memcpy(p->err + p->err_len, buf, take);
		p->err_len += take;
		p->err[p->err_len] = '\0';
	}
}

const char *support_stderr(struct support_proc *p)
{
	drain_stderr(p);
	return p->err;
}

bool support_stderr_wait(struct support_proc *p, const char *needle, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	for (;;) {
		bool open_ = drain_stderr(p);
		int64_t left = end - now_ms();
		struct pollfd pfd;

		if (strstr(p->err, needle))
			return true;
		if (!open_ || left <= 0)
			return false;
		pfd.fd = p->err_fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return false;
	}
}

int support_wait(struct support_proc *p, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	if (p->reaped)
		return p->status;
	if (p->pid < 0)
		return -1;
	for (;;) {
		int st;
		pid_t r = waitpid(p->pid, &st, WNOHANG);

		if (r == p->pid) {
			p->reaped = true;
			p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			/* The write end is closed: collect the rest of stderr. */
			while (drain_stderr(p)) {
				struct pollfd pfd = {.fd = p->err_fd, .events = POLLIN};

				if (poll(&pfd, 1, 1000) <= 0)
					break;
			}
			return p->status;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		int64_t left = end - now_ms();

		if (left <= 0)
			return -1;
		/* Wake on stderr output or every 5 ms to check for exit. */
		if (p->err_fd >= 0) {
			struct pollfd pfd = {.fd = p->err_fd, .events = POLLIN};

			if (poll(&pfd, 1, left < 5 ? (int)left : 5) > 0)
				drain_stderr(p);
		} else {
			struct timespec ts = {0, 2000000};

			nanosleep(&ts, NULL);
		}
	}
}

void support_signal(struct support_proc *p, int sig)
{
	if (p->pid > 0 && !p->reaped)
		kill(p->pid, sig);
}

void support_proc_cleanup(struct support_proc *p)
{
	if (p->pid > 0 && !p->reaped) {
		kill(p->pid, SIGKILL);
		support_wait(p, SUPPORT_TIMEOUT_MS);
	}
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->err_fd = -1;
}

int support_run(struct support_proc *p, const char *prog, const char *const args[],
                int timeout_ms)
{
	int st;

	if (support_spawn(p, prog, args, NULL, 0) < 0)
		return -1;
	st = support_wait(p, timeout_ms);
	support_proc_cleanup(p);
	return st;
}

int support_capture(const char *prog, const char *const args[], bool with_stderr,
                    int timeout_ms, char *out, size_t len)
{
	char path[PATH_MAX];
	const char *argv[64];
	size_t got = 0;
	int pfd[2], st;
	int64_t deadline = now_ms() + timeout_ms;
	pid_t pid;

	out[0] = '\0';
	if (build_argv(prog, args, path, sizeof(path), argv, sizeof(argv) / sizeof(argv[0])) < 0)
		return -1;
	if (access(path, X_OK) < 0) {
		snprintf(out, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(pfd[1], 1) < 0 || (with_stderr && dup2(pfd[1], 2) < 0))
			_exit(126);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while (got < len - 1) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int64_t left = deadline - now_ms();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			break;
		r = read(pfd[0], out + got, len - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	out[got] = '\0';
	close(pfd[0]);
	kill(pid, SIGKILL); /* only matters when it overran the timeout */
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int support_tmpdir(char *buf, size_t len)
{
	if (snprintf(buf, len, "/tmp/rtcdm-test-XXXXXX") >= (int)len)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void support_rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

long support_proc_status(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			v = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}
