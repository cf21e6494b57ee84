/* qmp.c — UNIX sockets and a QMP client as a toolstack speaks it. */
#include "tests/support/support.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* path into sa; false when it does not fit. */
static bool sun_path_set(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return (size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path) <
	       sizeof(sa->sun_path);
}

int support_unix_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (!sun_path_set(&sa, path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int support_unix_listen(const char *path, int backlog)
{
	struct sockaddr_un sa;
	int fd;

	if (!sun_path_set(&sa, path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

bool support_read_line(int fd, char *buf, size_t len, int timeout_ms)
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

int support_send_fds(int fd, const char *msg, const int *fds, size_t n)
{
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = strlen(msg)};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (n > 8)
		return -1;
	if (n) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 : -1;
}

int support_send_fd(int fd, const char *msg, int pass_fd)
{
	return support_send_fds(fd, msg, &pass_fd, pass_fd >= 0 ? 1 : 0);
}

int support_qmp_open(const char *path)
{
	char line[4096];
	int fd = support_unix_connect(path);

	if (fd < 0)
		return -1;
	if (!support_read_line(fd, line, sizeof(line), SUPPORT_TIMEOUT_MS) ||
	    !strstr(line, "\"QMP\"") ||
	    support_send_fd(fd, "{\"execute\":\"qmp_capabilities\",\"id\":0}", -1) < 0 ||
	    !support_read_line(fd, line, sizeof(line), SUPPORT_TIMEOUT_MS) ||
	    strcmp(line, "{\"return\":{},\"id\":0}\r\n") != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

const char *support_qmp_cmd(int fd, const char *msg, int pass_fd, char *buf, size_t len)
{
	if (fd < 0 || support_send_fd(fd, msg, pass_fd) < 0) {
		snprintf(buf, len, "<no connection>");
		return buf;
	}
	for (int i = 0; i < 64; i++) {
		if (!support_read_line(fd, buf, len, SUPPORT_TIMEOUT_MS))
			break;
		if (!strstr(buf, "\"event\""))
			return buf;
	}
	snprintf(buf, len, "<no reply>");
	return buf;
}

const char *support_qmp_once(const char *path, const char *msg, char *buf, size_t len)
{
	int fd = support_qmp_open(path);
	const char *r = support_qmp_cmd(fd, msg, -1, buf, len);

	if (fd >= 0)
		close(fd);
	return r;
}
