/*
 * bench_echo — the smallest possible qtest "server": it connects to the
 * client's UNIX socket as QEMU and rtcdm do (-qtest unix:PATH) and answers
 * "OK" to every line it receives, nothing else.  Its round-trip rate is the
 * limit of the transport itself, the yardstick for rtcdm's qtest server.
 *
 *   bench_echo [--epoll] -qtest unix:PATH
 *
 * With --epoll it waits in epoll_wait() before each recv(), as an
 * event-loop server does: the difference to the plain echo is the cost of
 * that one extra system call per line.
 *
 * Exits 0 when the client closes the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define OK_LINE "OK\n"
#define OK_LEN (sizeof(OK_LINE) - 1)

static int usage(void)
{
	fprintf(stderr, "usage: bench_echo [--epoll] -qtest unix:PATH\n");
	return 2;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "bench_echo: socket path '%s' is too long\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "bench_echo: cannot connect to '%s': %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Write n "OK" lines with as few writes as possible.  0 or -1. */
static int answer(int fd, size_t n)
{
	char out[4096];
	size_t per = sizeof(out) / OK_LEN;

	while (n) {
		size_t k = n < per ? n : per, len = k * OK_LEN, off = 0;

		for (size_t i = 0; i < k; i++)
			memcpy(out + i * OK_LEN, OK_LINE, OK_LEN);
		while (off < len) {
			ssize_t w = send(fd, out + off, len - off, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			off += (size_t)w;
		}
		n -= k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char buf[4096];
	int fd, ep = -1, i = 1;

	if (argc == 4 && strcmp(argv[1], "--epoll") == 0)
		i = 2;
	if (argc != i + 2 || strcmp(argv[i], "-qtest") != 0 || strncmp(argv[i + 1], "unix:", 5) != 0)
		return usage();
	fd = connect_to(argv[i + 1] + 5);
	if (fd < 0)
		return 1;
	if (i == 2) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			fprintf(stderr, "bench_echo: epoll: %s\n", strerror(errno));
			return 1;
		}
	}
	for (;;) {
		ssize_t r;
		size_t lines = 0;

		if (ep >= 0) {
			struct epoll_event ev;
			int n = epoll_wait(ep, &ev, 1, -1);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
		}
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t k = 0; k < r; k++)
			lines += buf[k] == '\n';
		if (lines && answer(fd, lines) < 0)
			break;
	}
	if (ep >= 0)
		close(ep);
	close(fd);
	return 0;
}
