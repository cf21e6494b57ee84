/*
 * test_rel_util.h — small helpers shared by the reliability and security
 * process tests (tests/integration/test_rel_*.c): a QMP client as a
 * toolstack speaks it, recursive removal of a scratch tree, decoding an
 * image file, the memory figures of a process.
 */
#ifndef RTCDM_TESTS_REL_UTIL_H
#define RTCDM_TESTS_REL_UTIL_H

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "saverestore/sr.h"
#include "tests/unit/support.h"

static inline int rel_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf dir (does not follow symbolic links). */
static inline void rel_rm_tree(const char *dir)
{
	nftw(dir, rel_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* One CRLF-terminated line from fd into buf (NUL-terminated, CRLF kept).
 * false on timeout, EOF or a line longer than len - 1. */
static inline bool rel_read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got + 1 < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) != 1)
			return false;
		ssize_t r = read(fd, buf + got, 1);
		if (r <= 0)
			return false;
		got++;
		if (got >= 2 && buf[got - 2] == '\r' && buf[got - 1] == '\n') {
			buf[got] = '\0';
			return true;
		}
	}
	return false;
}

/* Send msg, with pass_fd (>= 0) attached as SCM_RIGHTS.  0 or -1. */
static inline int rel_send(int fd, const char *msg, int pass_fd)
{
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = strlen(msg)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (pass_fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 : -1;
}

/* Connect to a unix socket.  fd or -1. */
static inline int rel_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path) >= sizeof(sa.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect, read the greeting, negotiate capabilities.  fd or -1. */
static inline int rel_qmp_open(const char *path)
{
	char line[4096];
	int fd = rel_connect(path);

	if (fd < 0)
		return -1;
	if (!rel_read_line(fd, line, sizeof(line), SUPPORT_TIMEOUT_MS) || !strstr(line, "\"QMP\"") ||
	    rel_send(fd, "{\"execute\":\"qmp_capabilities\",\"id\":0}", -1) < 0 ||
	    !rel_read_line(fd, line, sizeof(line), SUPPORT_TIMEOUT_MS) ||
	    strcmp(line, "{\"return\":{},\"id\":0}\r\n") != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send one command; the reply (events skipped) goes to buf, or "<no reply>". */
static inline const char *rel_qmp_cmd(int fd, const char *msg, int pass_fd, char *buf, size_t len)
{
	if (fd < 0 || rel_send(fd, msg, pass_fd) < 0) {
		snprintf(buf, len, "<no connection>");
		return buf;
	}
	for (int i = 0; i < 64; i++) {
		if (!rel_read_line(fd, buf, len, SUPPORT_TIMEOUT_MS))
			break;
		if (!strstr(buf, "\"event\""))
			return buf;
	}
	snprintf(buf, len, "<no reply>");
	return buf;
}

/* A fresh connection for one command, as libxl does. */
static inline const char *rel_qmp_once(const char *path, const char *msg, char *buf, size_t len)
{
	int fd = rel_qmp_open(path);
	const char *r = rel_qmp_cmd(fd, msg, -1, buf, len);

	if (fd >= 0)
		close(fd);
	return r;
}

/* Read and decode an image file (at most SR_IMAGE_MAX bytes).  0, or -1
 * with the reason in err (errno ENOENT kept when the file is missing). */
static inline int rel_load_image(const char *path, struct sr_image *img, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (sr_read_file(path, SR_IMAGE_MAX, &buf, &len, err, errlen) < 0)
		return -1;
	rc = sr_load(buf, len, img, err, errlen);
	free(buf);
	return rc < 0 ? -1 : 0;
}

/* A "Vm...:" figure of /proc/PID/status in KiB, or -1. */
static inline long rel_proc_kib(pid_t pid, const char *field)
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

/*
 * As qtest_start(), without a shared_info file and with the qtest socket
 * at sock (in a directory of the caller's): start
 *   rtcdm --platform sim -qtest unix:SOCK -qtest-log /dev/null
 *         --sim-wallclock 1700000000 [extra...]
 * and accept its connection.  On failure the process is left for
 * qtest_quit() (q->dir is empty: nothing is removed).  0 or -1.
 */
static inline int rel_dm_start(struct qtest *q, const char *sock, const char *const extra[])
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char arg[128];
	const char *args[48] = {"--platform", "sim", "-qtest", arg, "-qtest-log", "/dev/null",
	                        "--sim-wallclock", "1700000000"};
	size_t n = 8;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->proc.pid = -1;
	q->proc.err_fd = -1;
	for (size_t i = 0; extra && extra[i] && n < 47; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	snprintf(arg, sizeof(arg), "unix:%s", sock);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	unlink(sock);
	q->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->listen_fd < 0 || bind(q->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(q->listen_fd, 1) < 0 || support_spawn(&q->proc, "rtcdm", args, NULL, 0) < 0)
		return -1;
	struct pollfd pfd = {.fd = q->listen_fd, .events = POLLIN};
	if (poll(&pfd, 1, SUPPORT_TIMEOUT_MS) != 1)
		return -1;
	q->fd = accept4(q->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	const char *r = q->fd >= 0 ? qtest_cmd(q, "irq_intercept_in ioapic") : NULL;
	return r && strcmp(r, "OK") == 0 ? 0 : -1;
}

#endif
