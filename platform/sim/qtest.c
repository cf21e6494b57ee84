/* qtest.c — QEMU's qtest line protocol over a UNIX socket. */
#include "platform/sim/qtest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/parse.h"

#define MAX_WORDS 8

void dm_qtest_init(struct dm_qtest *q, const struct dm_qtest_target_ops *ops, void *target,
                   const struct dm_log *log)
{
	memset(q, 0, sizeof(*q));
	q->ops = ops;
	q->target = target;
	q->log = log;
	q->fd = -1;
	q->log_fd = -1;
}

static __attribute__((noinline)) void write_dialogue(struct dm_qtest *q, char dir, const char *text,
                                                     size_t len)
{
	char buf[DM_QTEST_MAX_LINE + 64];
	double t;
	int n;

	if (q->log_fd < 0) {
		dm_debug(q->log, "qtest %s %.*s", dir == 'R' ? "<" : ">", (int)len, text);
		return;
	}
	t = (double)(dm_monotonic_ns() - q->log_start_ns) / 1e9;
	n = snprintf(buf, sizeof(buf), "[%c +%f] %.*s\n", dir, t, (int)len, text);
	if (n > 0 && write(q->log_fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
		dm_debug(q->log, "qtest log: %s", strerror(errno));
}

static void dialogue_log(struct dm_qtest *q, char dir, const char *text, size_t len)
{
	/* Without -qtest-log the dialogue goes to the debug log: skip the call
	 * (and its large buffer) when dm_log_printf() would drop the line. */
	if (q->log_fd < 0 && (q->log->level < DM_LOG_DEBUG || q->log->fd < 0))
		return;
	write_dialogue(q, dir, text, len);
}

static void disconnected(struct dm_qtest *q)
{
	if (q->fd < 0)
		return;
	if (q->loop)
		dm_loop_del_fd(q->loop, q->fd);
	close(q->fd);
	q->fd = -1;
	q->out_len = 0;
	if (q->on_disconnect)
		q->on_disconnect(q->disconnect_opaque);
}

static void flush(struct dm_qtest *q)
{
	size_t off = 0;

	if (q->fd < 0)
		return;
	while (off < q->out_len) {
		ssize_t n = send(q->fd, q->out + off, q->out_len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			dm_info(q->log, "qtest: write to the client failed: %s",
			        n < 0 ? strerror(errno) : "nothing written");
			disconnected(q);
			return;
		}
		off += (size_t)n;
	}
	q->out_len = 0;
}

/* Queue one reply line (text without its newline, len <= 510). */
static void emit_line(struct dm_qtest *q, char *line, size_t n)
{
	dialogue_log(q, 'S', line, n);
	line[n++] = '\n';
	if (q->out_len + n > sizeof(q->out))
		flush(q);
	if (q->out_len + n > sizeof(q->out)) {
		/* No connection to drain into (unit tests): keep the newest. */
		q->out_len = 0;
	}
	memcpy(q->out + q->out_len, line, n);
	q->out_len += n;
}

static void emit(struct dm_qtest *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct dm_qtest *q, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	emit_line(q, line, (size_t)n);
}

/* "OK" and "OK 0x%04x" without printf: the replies of every port access. */
static void emit_ok(struct dm_qtest *q)
{
	char line[4] = "OK";

	emit_line(q, line, 2);
}

static void emit_ok_hex(struct dm_qtest *q, uint32_t val)
{
	static const char hex[] = "0123456789abcdef";
	char line[16] = "OK 0x";
	size_t digits = 4, n = 5;

	while (digits < 8 && (val >> (4 * digits)) != 0)
		digits++;
	while (digits--)
		line[n++] = hex[(val >> (4 * digits)) & 0xf];
	emit_line(q, line, n);
}

void dm_qtest_irq(struct dm_qtest *q, unsigned irq, int level)
{
	if (!q->irq_intercepted)
		return;
	emit(q, "IRQ %s %u", level ? "raise" : "lower", irq);
	if (!q->in_command)
		flush(q);
}

/* ---- commands --------------------------------------------------------------------- */

/*
 * Port accesses are nearly every line a client sends, so they are parsed in
 * place first: blanks, one of in[bwl]/out[bwl], and numbers written the
 * way clients write them (0x and 1 to 16 hex digits, or decimal without a
 * leading zero).  A line this does not take exactly as a valid access, with
 * the right number of arguments in range, goes to the general parser
 * below, which gives every reply, FAIL included, its wording.
 */
static unsigned size_of(char suffix)
{
	return suffix == 'b' ? 1 : suffix == 'w' ? 2 : 4;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The word at p as a number in the usual forms: the position after it
 * (a blank or the end), or NULL to leave the line to the general parser. */
static const char *quick_number(const char *p, const char *end, uint64_t *out)
{
	const char *first;
	uint64_t v = 0;

	if (end - p >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		first = p += 2;
		for (; p < end && !is_blank(*p); p++) {
			int d = hex_digit(*p);

			if (d < 0 || p - first == 16)
				return NULL;
			v = v << 4 | (uint64_t)d;
		}
	} else {
		first = p;
		/* No leading zero: 0 alone is fine, 010 is octal. */
		if (p < end && *p == '0' && p + 1 < end && !is_blank(p[1]))
			return NULL;
		for (; p < end && !is_blank(*p); p++) {
			if (*p < '0' || *p > '9' || p - first == 19)
				return NULL;
			v = v * 10 + (uint64_t)(*p - '0');
		}
	}
	if (p == first)
		return NULL;
	*out = v;
	return p;
}

static bool quick_port_access(struct dm_qtest *q, const char *line, size_t len)
{
	const char *end = line + len;
	const char *w = skip_blanks(line, end);
	uint64_t port, val = 0;
	bool out;
	char suffix;

	if (end - w >= 3 && w[0] == 'i' && w[1] == 'n') {
		out = false;
		suffix = w[2];
		w += 3;
	} else if (end - w >= 4 && w[0] == 'o' && w[1] == 'u' && w[2] == 't') {
		out = true;
		suffix = w[3];
		w += 4;
	} else {
		return false;
	}
	if ((suffix != 'b' && suffix != 'w' && suffix != 'l') || w == end || !is_blank(*w))
		return false;
	unsigned size = size_of(suffix);
	w = quick_number(skip_blanks(w, end), end, &port);
	if (!w || port > 0xffff)
		return false;
	if (out) {
		w = quick_number(skip_blanks(w, end), end, &val);
		if (!w || val > (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1))
			return false;
	}
	if (skip_blanks(w, end) != end)
		return false;
	if (out) {
		q->ops->pio_write(q->target, (uint16_t)port, size, (uint32_t)val);
		emit_ok(q);
	} else {
		emit_ok_hex(q, q->ops->pio_read(q->target, (uint16_t)port, size));
	}
	return true;
}

static int split(char *line, char *words[], int max)
{
	int n = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		words[n++] = w;
	}
	return n;
}

static bool parse_num(struct dm_qtest *q, const char *what, const char *s, uint64_t max,
                      uint64_t *out)
{
	if (dm_parse_u64(s, out) < 0) {
		emit(q, "FAIL invalid %s '%s'", what, s);
		return false;
	}
	if (*out > max) {
		emit(q, "FAIL %s '%s' out of range (max 0x%" PRIx64 ")", what, s, max);
		return false;
	}
	return true;
}

static bool want_args(struct dm_qtest *q, const char *cmd, int nargs, int want)
{
	if (nargs == want)
		return true;
	emit(q, "FAIL %s takes %d argument%s, %d given", cmd, want, want == 1 ? "" : "s", nargs);
	return false;
}

static void cmd_out(struct dm_qtest *q, char *w[], int n)
{
	unsigned size = size_of(w[0][3]);
	uint64_t port, val;

	if (!want_args(q, w[0], n - 1, 2) || !parse_num(q, "port", w[1], 0xffff, &port) ||
	    !parse_num(q, "value", w[2], size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1, &val))
		return;
	q->ops->pio_write(q->target, (uint16_t)port, size, (uint32_t)val);
	emit_ok(q);
}

static void cmd_in(struct dm_qtest *q, char *w[], int n)
{
	unsigned size = size_of(w[0][2]);
	uint64_t port;
	uint32_t val;

	if (!want_args(q, w[0], n - 1, 1) || !parse_num(q, "port", w[1], 0xffff, &port))
		return;
	val = q->ops->pio_read(q->target, (uint16_t)port, size);
	emit_ok_hex(q, val);
}

static void warp_to(struct dm_qtest *q, uint64_t target)
{
	int err = q->ops->clock_warp(q->target, target);

	if (err < 0) {
		emit(q, "FAIL could not advance time: %s", strerror(-err));
		return;
	}
	emit(q, "OK %" PRIu64, q->ops->clock_now(q->target));
}

static void cmd_clock_step(struct dm_qtest *q, char *w[], int n)
{
	uint64_t now = q->ops->clock_now(q->target), step;

	if (n == 1) {
		uint64_t dl = q->ops->next_deadline(q->target);

		if (dl == RTC_NO_DEADLINE) {
			emit(q, "FAIL cannot advance clock to the next deadline because there is no "
			        "pending deadline");
			return;
		}
		warp_to(q, dl > now ? dl : now);
		return;
	}
	if (!want_args(q, w[0], n - 1, 1) || !parse_num(q, "step", w[1], INT64_MAX, &step))
		return;
	if (step > (uint64_t)INT64_MAX - now) {
		emit(q, "FAIL could not advance time: the clock would pass 2^63 ns");
		return;
	}
	warp_to(q, now + step);
}

static void cmd_clock_set(struct dm_qtest *q, char *w[], int n)
{
	uint64_t now = q->ops->clock_now(q->target), target;

	if (!want_args(q, w[0], n - 1, 1) || !parse_num(q, "time", w[1], INT64_MAX, &target))
		return;
	if (target < now) {
		emit(q, "FAIL cannot set the clock back from %" PRIu64 " to %" PRIu64 " ns", now,
		     target);
		return;
	}
	warp_to(q, target);
}

static void cmd_irq_intercept(struct dm_qtest *q, char *w[], int n)
{
	if (n < 2 || n > 3) {
		emit(q, "FAIL %s takes a device path (and an optional name)", w[0]);
		return;
	}
	if (strcmp(w[1], "ioapic") != 0 && strcmp(w[1], "/machine/ioapic") != 0) {
		emit(q, "FAIL Unknown device");
		return;
	}
	if (q->irq_intercepted) {
		emit(q, "FAIL IRQ intercept already enabled");
		return;
	}
	q->irq_intercepted = true;
	if (q->ops->irq_level(q->target, 8))
		emit(q, "IRQ raise 8");
	emit(q, "OK");
}

static bool is_memory_command(const char *c)
{
	static const char *const mem[] = {"readb", "readw",  "readl",  "readq",  "writeb",
	                                  "writew", "writel", "writeq", "read",   "write",
	                                  "memset", "b64read", "b64write"};

	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++)
		if (strcmp(c, mem[i]) == 0)
			return true;
	return false;
}

static void dispatch(struct dm_qtest *q, char *w[], int n)
{
	const char *c = w[0];

	if (strcmp(c, "outb") == 0 || strcmp(c, "outw") == 0 || strcmp(c, "outl") == 0)
		cmd_out(q, w, n);
	else if (strcmp(c, "inb") == 0 || strcmp(c, "inw") == 0 || strcmp(c, "inl") == 0)
		cmd_in(q, w, n);
	else if (strcmp(c, "clock_step") == 0)
		cmd_clock_step(q, w, n);
	else if (strcmp(c, "clock_set") == 0)
		cmd_clock_set(q, w, n);
	else if (strcmp(c, "irq_intercept_in") == 0 || strcmp(c, "irq_intercept_out") == 0)
		cmd_irq_intercept(q, w, n);
	else if (strcmp(c, "endianness") == 0)
		emit(q, "OK little");
	else if (strcmp(c, "set_irq_in") == 0)
		emit(q, "FAIL set_irq_in: IRQ 8 is driven by the RTC only");
	else if (is_memory_command(c))
		emit(q, "FAIL %s: no guest memory (rtcdm emulates ports 0x70-0x71 only)", c);
	else
		emit(q, "FAIL Unknown command '%s'", c);
}

/* Any command, split into words (`len` bytes without the '\r', `full` with). */
static __attribute__((noinline)) void handle_general(struct dm_qtest *q, const char *line,
                                                     size_t len, size_t full)
{
	char buf[DM_QTEST_MAX_LINE + 1];
	char *words[MAX_WORDS];
	int n;

	memcpy(buf, line, len);
	buf[len] = '\0';
	n = split(buf, words, MAX_WORDS);
	if (n == 0)
		emit(q, "FAIL empty command");
	else if (n > MAX_WORDS)
		emit(q, "FAIL too many words in '%.*s'", (int)(full < 40 ? full : 40), line);
	else
		dispatch(q, words, n);
}

/* One line of `full` bytes (no NUL among them, none needed after them). */
static void handle_line(struct dm_qtest *q, const char *line, size_t full)
{
	size_t len = full;

	if (len && line[len - 1] == '\r')
		len--;
	dialogue_log(q, 'R', line, len);
	q->in_command = true;
	if (len > DM_QTEST_MAX_LINE)
		emit(q, "FAIL line longer than %u bytes", DM_QTEST_MAX_LINE);
	else if (!quick_port_access(q, line, len))
		handle_general(q, line, len, full);
	q->in_command = false;
	flush(q);
}

void dm_qtest_handle_line(struct dm_qtest *q, const char *line)
{
	handle_line(q, line, strlen(line));
}

void dm_qtest_feed(struct dm_qtest *q, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	/* Stop as soon as the connection is gone (a failed reply). */
	while (p < end && (q->fd >= 0 || !q->loop)) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		bool handled = false;

		if (!q->discarding) {
			/* NUL bytes cannot be part of a command: like an over-long line. */
			if (memchr(p, '\0', n) || q->in_len + n > DM_QTEST_MAX_LINE) {
				q->discarding = true;
				q->in_len = 0;
			} else if (q->in_len == 0 && nl) {
				handle_line(q, p, n); /* a whole line in the buffer: no copy */
				handled = true;
			} else {
				memcpy(q->in + q->in_len, p, n);
				q->in_len += n;
			}
		}
		if (!nl)
			break;
		if (q->discarding) {
			q->discarding = false;
			q->in_command = true;
			emit(q, "FAIL line longer than %u bytes", DM_QTEST_MAX_LINE);
			q->in_command = false;
			flush(q);
		} else if (!handled) {
			q->in[q->in_len] = '\0';
			handle_line(q, q->in, q->in_len);
		}
		q->in_len = 0;
		p = nl + 1;
	}
}

/* ---- connection ------------------------------------------------------------------- */

static void readable(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct dm_qtest *q = opaque;
	char buf[4096];
	ssize_t n;

	(void)loop;
	(void)events;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		dm_info(q->log, "qtest: the client closed the connection");
		disconnected(q);
		return;
	}
	dm_qtest_feed(q, buf, (size_t)n);
}

int dm_qtest_connect(struct dm_qtest *q, const char *path, const char *log_path, char *err,
                     size_t errlen)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "qtest socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "qtest: socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot connect to the qtest socket '%s': %s", path,
		         strerror(errno));
		close(fd);
		return -1;
	}
	if (log_path) {
		q->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (q->log_fd < 0) {
			snprintf(err, errlen, "cannot open the qtest log '%s': %s", log_path,
			         strerror(errno));
			close(fd);
			return -1;
		}
	}
	q->log_start_ns = dm_monotonic_ns();
	q->fd = fd;
	return 0;
}

int dm_qtest_attach(struct dm_qtest *q, struct dm_loop *loop)
{
	int err;

	if (q->fd < 0)
		return -ENOTCONN;
	err = dm_loop_add_fd(loop, q->fd, EPOLLIN, readable, q);
	if (err == 0)
		q->loop = loop;
	return err;
}

void dm_qtest_close(struct dm_qtest *q)
{
	if (q->fd >= 0) {
		if (q->loop)
			dm_loop_del_fd(q->loop, q->fd);
		close(q->fd);
		q->fd = -1;
	}
	if (q->log_fd >= 0)
		close(q->log_fd);
	q->log_fd = -1;
	q->loop = NULL;
}
