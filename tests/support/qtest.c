/* support_qtest.c — a qtest client that starts rtcdm on the sim platform. */
#include "tests/support/support.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void qtest_init(struct qtest *q)
{
	memset(q, 0, sizeof(*q));
	q->listen_fd = -1;
	q->fd = -1;
	q->proc.pid = -1;
	q->proc.err_fd = -1;
}

int qtest_spawn(struct qtest *q, const char *sock, const char *const args[],
                const int *keep_fds, size_t n_keep)
{
	char qtest_arg[128];
	const char *argv[64] = {"--platform", "sim", "-qtest", qtest_arg, "-qtest-log", "/dev/null"};
	size_t n = 6;

	if ((size_t)snprintf(q->sock_path, sizeof(q->sock_path), "%s", sock) >= sizeof(q->sock_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(qtest_arg, sizeof(qtest_arg), "unix:%s", sock);
	for (size_t i = 0; args && args[i]; i++) {
		if (n == sizeof(argv) / sizeof(argv[0]) - 1) {
			errno = E2BIG;
			return -1;
		}
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	unlink(sock);
	q->listen_fd = support_unix_listen(sock, 1);
	if (q->listen_fd < 0 || support_spawn(&q->proc, "rtcdm", argv, keep_fds, n_keep) < 0)
		return -1;

	struct pollfd pfd = {.fd = q->listen_fd, .events = POLLIN};
	if (poll(&pfd, 1, SUPPORT_TIMEOUT_MS) != 1)
		return -1;
	q->fd = accept4(q->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (q->fd < 0)
		return -1;
	const char *r = qtest_cmd(q, "irq_intercept_in ioapic");
	return r && strcmp(r, "OK") == 0 ? 0 : -1;
}

int qtest_start(struct qtest *q, const char *wallclock, const char *const extra[])
{
	char sock[sizeof(q->sock_path)];
	const char *args[64];
	size_t n = 0;

	qtest_init(q);
	if (support_tmpdir(q->dir, sizeof(q->dir)) < 0)
		return -1;
	snprintf(sock, sizeof(sock), "%s/qtest.sock", q->dir);
	snprintf(q->shinfo_path, sizeof(q->shinfo_path), "%s/shared_info", q->dir);
	args[n++] = "--sim-shared-info";
	args[n++] = q->shinfo_path;
	args[n++] = "--sim-wallclock";
	args[n++] = wallclock;
	for (size_t i = 0; extra && extra[i] && n < sizeof(args) / sizeof(args[0]) - 1; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	if (qtest_spawn(q, sock, args, NULL, 0) == 0)
		return 0;
	fprintf(stderr, "qtest_start failed: %s\n%s", strerror(errno), support_stderr(&q->proc));
	qtest_quit(q);
	return -1;
}

int qtest_quit(struct qtest *q)
{
	int st = -1;

	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	if (q->listen_fd >= 0)
		close(q->listen_fd);
	q->listen_fd = -1;
	if (q->proc.pid > 0) {
		st = support_wait(&q->proc, SUPPORT_TIMEOUT_MS);
		support_proc_cleanup(&q->proc);
	}
	if (q->dir[0])
		support_rmtree(q->dir);
	q->dir[0] = '\0';
	return st;
}

int qtest_send_raw(struct qtest *q, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(q->fd, buf + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			q->broken = true;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* Next line from the connection into q->reply; false on timeout/EOF. */
static bool read_line(struct qtest *q)
{
	for (;;) {
		char *nl = memchr(q->in, '\n', q->in_len);
		struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
		ssize_t r;

		if (nl) {
			size_t len = (size_t)(nl - q->in);
			size_t copy = len < sizeof(q->reply) - 1 ? len : sizeof(q->reply) - 1;

			memcpy(q->reply, q->in, copy);
			q->reply[copy] = '\0';
			memmove(q->in, nl + 1, q->in_len - len - 1);
			q->in_len -= len + 1;
			return true;
		}
		if (q->in_len == sizeof(q->in) || q->fd < 0)
			return false;
		if (poll(&pfd, 1, SUPPORT_TIMEOUT_MS) != 1)
			return false;
		r = recv(q->fd, q->in + q->in_len, sizeof(q->in) - q->in_len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		q->in_len += (size_t)r;
	}
}

const char *qtest_read_reply(struct qtest *q)
{
	while (read_line(q)) {
		unsigned irq;

		if (sscanf(q->reply, "IRQ raise %u", &irq) == 1 && irq < 16) {
			q->irq[irq] = 1;
			q->irq_raises[irq]++;
			continue;
		}
		if (sscanf(q->reply, "IRQ lower %u", &irq) == 1 && irq < 16) {
			q->irq[irq] = 0;
			continue;
		}
		return q->reply;
	}
	q->broken = true;
	return NULL;
}

const char *qtest_cmd(struct qtest *q, const char *fmt, ...)
{
	char line[4200];
	va_list ap;
	int n;

	if (q->fd < 0) {
		q->broken = true;
		return NULL;
	}
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1) {
		q->broken = true;
		return NULL;
	}
	line[n++] = '\n';
	if (qtest_send_raw(q, line, (size_t)n) < 0)
		return NULL;
	return qtest_read_reply(q);
}

static uint64_t reply_value(struct qtest *q, const char *r)
{
	uint64_t v;
	char *end;

	if (!r || strncmp(r, "OK ", 3) != 0) {
		q->broken = true;
		return UINT64_MAX;
	}
	errno = 0;
	v = strtoull(r + 3, &end, 0);
	if (errno || *end) {
		q->broken = true;
		return UINT64_MAX;
	}
	return v;
}

void qtest_outb(struct qtest *q, uint16_t port, uint8_t val)
{
	const char *r = qtest_cmd(q, "outb 0x%x 0x%x", port, val);

	if (!r || strcmp(r, "OK") != 0)
		q->broken = true;
}

uint8_t qtest_inb(struct qtest *q, uint16_t port)
{
	return (uint8_t)reply_value(q, qtest_cmd(q, "inb 0x%x", port));
}

uint16_t qtest_inw(struct qtest *q, uint16_t port)
{
	return (uint16_t)reply_value(q, qtest_cmd(q, "inw 0x%x", port));
}

uint32_t qtest_inl(struct qtest *q, uint16_t port)
{
	return (uint32_t)reply_value(q, qtest_cmd(q, "inl 0x%x", port));
}

uint64_t qtest_clock_step(struct qtest *q, uint64_t ns)
{
	return reply_value(q, qtest_cmd(q, "clock_step %" PRIu64, ns));
}

uint64_t qtest_clock_step_next(struct qtest *q)
{
	return reply_value(q, qtest_cmd(q, "clock_step"));
}

uint64_t qtest_clock_set(struct qtest *q, uint64_t ns)
{
	return reply_value(q, qtest_cmd(q, "clock_set %" PRIu64, ns));
}

bool qtest_get_irq(const struct qtest *q, unsigned irq)
{
	return irq < 16 && q->irq[irq];
}

uint8_t cmos_read(struct qtest *q, uint8_t index)
{
	qtest_outb(q, 0x70, index);
	return qtest_inb(q, 0x71);
}

void cmos_write(struct qtest *q, uint8_t index, uint8_t val)
{
	qtest_outb(q, 0x70, index);
	qtest_outb(q, 0x71, val);
}
