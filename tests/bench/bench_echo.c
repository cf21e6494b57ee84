/*
 * bench_echo — the smallest possible qtest "server": it connects to the
 * client's UNIX socket as QEMU and rtcdm do (-qtest unix:PATH) and answers
 * "OK" to every line it receives, nothing else.  Its round-trip rate is the
 * limit of the transport itself, the yardstick for rtcdm's qtest server.
 *
 *   bench_echo -qtest unix:PATH
 *
 * Exits 0 when the client closes the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define OK_LINE "OK\n"
#define OK_LEN (sizeof(OK_LINE) - 1)

static int usage(void)
{
	fprintf(stderr, "usage: bench_echo -qtest unix:PATH\n");
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
	int fd;

	if (argc != 3 || strcmp(argv[1], "-qtest") != 0 || strncmp(argv[2], "unix:", 5) != 0)
		return usage();
	fd = connect_to(argv[2] + 5);
	if (fd < 0)
		return 1;
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		size_t lines = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			lines += buf[i] == '\n';
		if (lines && answer(fd, lines) < 0)
			break;
	}
	close(fd);
	return 0;
}
