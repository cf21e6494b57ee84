/*
 * qmp_server.c — QMP listening sockets, connections and message framing.
 * Commands live in qmp_commands.c, descriptor sets in fdset.c.
 */
#include "toolstack/qmp/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct qmp_server *qmp_server_new(const struct qmp_server_config *cfg, char *err, size_t errlen)
{
	if (!cfg || !cfg->ops || !cfg->ops->run_state) {
		snprintf(err, errlen, "QMP: no device-model operations given");
		return NULL;
	}
	if (!cfg->hooks.watch || !cfg->hooks.unwatch) {
		snprintf(err, errlen, "QMP: no event loop to watch the sockets");
		return NULL;
	}
	struct qmp_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "QMP: out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->alarm_ns = RTC_NO_DEADLINE;
	fdsets_init(&s->fdsets);
	return s;
}

static bool idle_limit_on(const struct qmp_server *s)
{
	return s->cfg.idle_timeout_ns && s->cfg.hooks.now_ns && s->cfg.hooks.arm_alarm;
}

/* Arm the idle alarm (RTC_NO_DEADLINE: cancel); nothing when it already is. */
static void set_alarm(struct qmp_server *s, uint64_t deadline_ns)
{
	if (s->alarm_ns == deadline_ns || !idle_limit_on(s))
		return;
	s->alarm_ns = deadline_ns;
	s->cfg.hooks.arm_alarm(s->cfg.hooks.opaque, deadline_ns);
}

static void conn_free(struct qmp_server *s, struct qmp_conn *c)
{
	s->cfg.hooks.unwatch(s->cfg.hooks.opaque, c->fd);
	close(c->fd);
	for (size_t i = 0; i < c->n_pending; i++)
		close(c->pending_fds[i]);
	if (c->tok)
		json_tokener_free(c->tok);
	free(c->out);
	free(c);
}

void qmp_server_free(struct qmp_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_conns; i++)
		conn_free(s, s->conns[i]);
	set_alarm(s, RTC_NO_DEADLINE);
	for (size_t i = 0; i < s->n_listeners; i++) {
		struct qmp_listener *l = &s->listeners[i];
		struct stat st;

		s->cfg.hooks.unwatch(s->cfg.hooks.opaque, l->fd);
		/* Unlink only the socket we made (not one put there since). */
		if (l->path && lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    (unsigned long long)st.st_dev == l->dev && (unsigned long long)st.st_ino == l->ino)
			unlink(l->path);
		free(l->path);
		close(l->fd);
	}
	fdsets_clear(&s->fdsets);
	free(s);
}

#define log_msg(s, ...) dm_logf((s)->cfg.ops, (s)->cfg.opaque, __VA_ARGS__)

/* Hand a new listener to the loop.  0, or -1 with err (fd stays open). */
static int listener_watch(struct qmp_server *s, int fd, const char *what, char *err,
                          size_t errlen)
{
	int rc = s->cfg.hooks.watch(s->cfg.hooks.opaque, fd);

	if (rc < 0) {
		snprintf(err, errlen, "QMP %.200s: cannot watch the socket: %s", what, strerror(-rc));
		return -1;
	}
	return 0;
}

int qmp_server_listen_path(struct qmp_server *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;

	if (s->n_listeners >= QMP_MAX_LISTENERS) {
		snprintf(err, errlen, "QMP socket %.200s: too many QMP sockets (at most %d)", path,
		         QMP_MAX_LISTENERS);
		return -1;
	}
	if (!path[0]) {
		snprintf(err, errlen, "QMP socket path is empty");
		return -1;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "QMP socket path too long (%zu bytes, at most %zu): %.200s",
		         strlen(path), sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	char dirbuf[sizeof(sa.sun_path)];
	strcpy(dirbuf, path);
	const char *dir = dirname(dirbuf);
	if (stat(dir, &st) < 0) {
		snprintf(err, errlen, "QMP socket %.200s: directory %.200s: %s", path, dir,
		         strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "QMP socket %.200s: %.200s is not a directory", path, dir);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
			         "QMP socket %.200s: path exists and is not a socket; not replacing it",
			         path);
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "QMP socket %.200s: %s", path, strerror(errno));
		return -1;
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "QMP socket %.200s: socket: %s", path, strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	/* A stale socket from an earlier run (checked above to be a socket). */
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "QMP socket %.200s: cannot remove stale socket: %s", path,
		         strerror(errno));
		close(fd);
		return -1;
	}
	/* Only the owner may connect, whatever umask we inherited: a socket's
	 * mode comes from the umask at bind() (a chmod after it leaves a window). */
	mode_t old_mask = umask(S_IRWXG | S_IRWXO | S_IXUSR);
	int bound = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int bind_errno = errno;
	umask(old_mask);
	if (bound < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "QMP socket %.200s: %s", path,
		         strerror(bound < 0 ? bind_errno : errno));
		close(fd);
		return -1;
	}
	char *copy = strdup(path);
	bool ok = copy && lstat(path, &st) == 0;
	if (!ok)
		snprintf(err, errlen, "QMP socket %.200s: %s", path, strerror(errno ? errno : ENOMEM));
	if (!ok || listener_watch(s, fd, path, err, errlen) < 0) {
		free(copy);
		unlink(path);
		close(fd);
		return -1;
	}
	struct qmp_listener *l = &s->listeners[s->n_listeners++];
	l->fd = fd;
	l->path = copy;
	l->dev = (unsigned long long)st.st_dev;
	l->ino = (unsigned long long)st.st_ino;
	return 0;
}

int qmp_server_listen_fd(struct qmp_server *s, int fd, char *err, size_t errlen)
{
	int val = 0;
	socklen_t len = sizeof(val);
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);

	if (s->n_listeners >= QMP_MAX_LISTENERS) {
		snprintf(err, errlen, "QMP fd=%d: too many QMP sockets (at most %d)", fd,
		         QMP_MAX_LISTENERS);
		return -1;
	}
	if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
		snprintf(err, errlen, "QMP fd=%d: not an open descriptor", fd);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &slen) < 0 || ss.ss_family != AF_UNIX) {
		snprintf(err, errlen, "QMP fd=%d: not a unix socket", fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &val, &len) < 0 || val != SOCK_STREAM) {
		snprintf(err, errlen, "QMP fd=%d: not a stream socket", fd);
		return -1;
	}
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 || !val) {
		snprintf(err, errlen, "QMP fd=%d: socket is not listening", fd);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "QMP fd=%d: %s", fd, strerror(errno));
		return -1;
	}
	char what[32];
	snprintf(what, sizeof(what), "fd=%d", fd);
	if (listener_watch(s, fd, what, err, errlen) < 0)
		return -1;
	struct qmp_listener *l = &s->listeners[s->n_listeners++];
	l->fd = fd;
	l->path = NULL;
	return 0;
}

/* ---- output ------------------------------------------------------------- */

static void conn_flush(struct qmp_conn *c)
{
	while (c->out_len > 0 && !c->dead) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
}

void qmp_conn_send(struct qmp_conn *c, struct json_object *msg)
{
	size_t len = 0;
	const char *txt;

	if (c->dead || !msg)
		return;
	txt = json_object_to_json_string_length(
	    msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!txt) {
		c->dead = true;
		return;
	}
	size_t need = c->out_len + len + 2;
	if (need > QMP_OUT_MAX) {
		/* The client does not read what it asked for. */
		c->dead = true;
		return;
	}
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		while (cap < need)
			cap *= 2;
		char *o = realloc(c->out, cap);
		if (!o) {
			c->dead = true;
			return;
		}
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, txt, len);
	memcpy(c->out + c->out_len + len, "\r\n", 2);
	c->out_len = need;
	conn_flush(c);
}

int qmp_conn_take_fd(struct qmp_conn *c)
{
	if (c->n_pending == 0)
		return -1;
	int fd = c->pending_fds[0];
	memmove(&c->pending_fds[0], &c->pending_fds[1], (c->n_pending - 1) * sizeof(int));
	c->n_pending--;
	return fd;
}

/* ---- clients ------------------------------------------------------------ */

static uint64_t now_ns(const struct qmp_server *s)
{
	return idle_limit_on(s) ? s->cfg.hooks.now_ns(s->cfg.hooks.opaque) : 0;
}

static int conn_add(struct qmp_server *s, int fd, char *err, size_t errlen)
{
	if (s->n_conns >= QMP_MAX_CLIENTS) {
		snprintf(err, errlen, "too many QMP clients (at most %d)", QMP_MAX_CLIENTS);
		return -1;
	}
	struct qmp_conn *c = calloc(1, sizeof(*c));
	if (!c || !(c->tok = json_tokener_new_ex(QMP_MAX_DEPTH))) {
		free(c);
		snprintf(err, errlen, "QMP: out of memory");
		return -1;
	}
	int rc = s->cfg.hooks.watch(s->cfg.hooks.opaque, fd);
	if (rc < 0) {
		json_tokener_free(c->tok);
		free(c);
		snprintf(err, errlen, "QMP: cannot watch the connection: %s", strerror(-rc));
		return -1;
	}
	json_tokener_set_flags(c->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
	                                   JSON_TOKENER_VALIDATE_UTF8);
	c->fd = fd;
	c->last_message_ns = now_ns(s);
	s->conns[s->n_conns++] = c;
	/* Every connection has the same limit: the earliest deadline is that
	 * of the oldest, so an armed alarm stays right. */
	if (s->alarm_ns == RTC_NO_DEADLINE)
		set_alarm(s, c->last_message_ns + s->cfg.idle_timeout_ns);
	struct json_object *g = qmp_greeting();
	qmp_conn_send(c, g);
	json_object_put(g);
	return 0;
}

int qmp_server_add_client(struct qmp_server *s, int fd, char *err, size_t errlen)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "QMP client fd=%d: %s", fd, strerror(errno));
		return -1;
	}
	return conn_add(s, fd, err, errlen);
}

/* Tell a client we cannot serve why before hanging up. */
static void refuse_client(struct qmp_server *s, int fd, const char *why)
{
	struct json_object *e = qmp_error_reply("GenericError", why);
	const char *txt = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\r\n", txt);

	if (n > 0 && (size_t)n < sizeof(line) &&
	    send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* The client is gone already. */
	}
	json_object_put(e);
	close(fd);
	log_msg(s, "QMP: refused a client: %s", why);
}

/* Accept every pending connection (the listener is edge-triggered). */
static void accept_all(struct qmp_server *s, int lfd)
{
	char err[160];

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_msg(s, "QMP accept: %s", strerror(errno));
			return;
		}
		if (conn_add(s, fd, err, sizeof(err)) < 0)
			refuse_client(s, fd, err);
	}
}

/* Handle one complete message. */
static void conn_message(struct qmp_server *s, struct qmp_conn *c, struct json_object *obj)
{
	c->last_message_ns = now_ns(s);
	c->msg_below_int64_min = c->scan.too_low;
	memset(&c->scan, 0, sizeof(c->scan));
	struct json_object *reply = qmp_execute(s, c, obj);

	if (!reply) {
		c->dead = true;
		return;
	}
	qmp_conn_send(c, reply);
	json_object_put(reply);
}

static void conn_parse_error(struct qmp_conn *c, enum json_tokener_error jerr)
{
	char desc[160];

	memset(&c->scan, 0, sizeof(c->scan));
	snprintf(desc, sizeof(desc), "JSON parse error, %s", json_tokener_error_desc(jerr));
	struct json_object *e = qmp_error_reply("GenericError", desc);
	qmp_conn_send(c, e);
	json_object_put(e);
}

/* A number literal ended: was it an integer below INT64_MIN? */
static void int_scan_end_number(struct qmp_int_scan *sc)
{
	if (sc->negative && sc->integral && sc->magnitude > (uint64_t)INT64_MAX + 1)
		sc->too_low = true;
	sc->in_number = false;
}

/* Follow n more bytes of the message's JSON text (see struct qmp_int_scan). */
static void int_scan_feed(struct qmp_int_scan *sc, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (sc->in_string) {
			if (sc->escaped)
				sc->escaped = false;
			else if (ch == '\\')
				sc->escaped = true;
			else if (ch == '"')
				sc->in_string = false;
			continue;
		}
		if (sc->in_number) {
			if (ch >= '0' && ch <= '9') {
				uint64_t d = (uint64_t)(ch - '0');
				if (sc->magnitude > (UINT64_MAX - d) / 10)
					sc->magnitude = UINT64_MAX; /* saturate: far below anyway */
				else
					sc->magnitude = sc->magnitude * 10 + d;
				continue;
			}
			if (ch == '.' || ch == 'e' || ch == 'E' || ch == '+' || ch == '-') {
				sc->integral = false;
				continue;
			}
			int_scan_end_number(sc);
		}
		if (ch == '"') {
			sc->in_string = true;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			sc->in_number = true;
			sc->negative = ch == '-';
			sc->integral = true;
			sc->magnitude = ch == '-' ? 0 : (uint64_t)(ch - '0');
		}
	}
}

/* Skip whitespace before a message: true when there is none left in the
 * buffer. */
static bool skip_to_message(struct qmp_conn *c)
{
	const char *p = c->in + c->in_pos;
	size_t avail = c->in_len - c->in_pos, ws = 0;

	while (ws < avail && (p[ws] == ' ' || p[ws] == '\t' || p[ws] == '\r' || p[ws] == '\n'))
		ws++;
	c->in_pos += ws;
	if (ws == avail)
		return true;
	c->in_msg = true;
	c->msg_bytes = 0;
	return false;
}

/* After a syntax error: drop input up to the next newline. */
static void discard_to_newline(struct qmp_conn *c)
{
	const char *p = c->in + c->in_pos;
	const char *nl = memchr(p, '\n', c->in_len - c->in_pos);

	if (nl) {
		c->in_pos += (size_t)(nl - p) + 1;
		c->discarding = false;
	} else {
		c->in_pos = c->in_len;
	}
}

static void refuse_oversized(struct qmp_server *s, struct qmp_conn *c)
{
	char desc[128];

	snprintf(desc, sizeof(desc), "QMP message longer than %d bytes; closing the connection",
	         QMP_MAX_MESSAGE);
	struct json_object *e = qmp_error_reply("GenericError", desc);
	qmp_conn_send(c, e);
	json_object_put(e);
	log_msg(s, "QMP: %s", desc);
	c->closing = true;
	c->in_pos = c->in_len;
}

/* Feed buffered input to the tokener while the client reads our replies. */
static void conn_process(struct qmp_server *s, struct qmp_conn *c)
{
	while (c->in_pos < c->in_len && !c->dead && c->out_len < QMP_OUT_HIGH) {
		if (c->discarding) {
			discard_to_newline(c);
			continue;
		}
		if (!c->in_msg && skip_to_message(c))
			break;
		const char *p = c->in + c->in_pos;
		size_t avail = c->in_len - c->in_pos;
		size_t room = QMP_MAX_MESSAGE - c->msg_bytes;
		size_t feed = avail < room ? avail : room;
		struct json_object *obj = json_tokener_parse_ex(c->tok, p, (int)feed);
		enum json_tokener_error jerr = json_tokener_get_error(c->tok);
		size_t used = obj || jerr != json_tokener_continue ? json_tokener_get_parse_end(c->tok)
		                                                    : feed;

		if (used > feed || (obj && used == 0))
			used = feed;
		int_scan_feed(&c->scan, p, used);
		c->in_pos += used;
		if (obj) {
			c->in_msg = false;
			json_tokener_reset(c->tok);
			conn_message(s, c, obj);
			json_object_put(obj);
		} else if (jerr == json_tokener_continue) {
			c->msg_bytes += feed;
			if (c->msg_bytes >= QMP_MAX_MESSAGE)
				refuse_oversized(s, c);
		} else {
			/* A syntax error: report it, resynchronise at the next newline. */
			c->in_msg = false;
			c->discarding = true;
			json_tokener_reset(c->tok);
			conn_parse_error(c, jerr);
		}
	}
}

/* Read one chunk (and any descriptors passed with it).  1 when bytes came,
 * 0 otherwise (nothing to read, end of input or an error). */
static int conn_read(struct qmp_server *s, struct qmp_conn *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * QMP_MAX_PENDING_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = c->in, .iov_len = sizeof(c->in)};
	struct msghdr mh = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = ctl.buf,
	    .msg_controllen = sizeof(ctl.buf),
	};

	ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EINTR)
			return 1; /* try again */
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			c->dead = true;
		return 0;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(cm);
		for (size_t i = 0; i < nfds; i++) {
			int fd;
			memcpy(&fd, data + i * sizeof(int), sizeof(int));
			if (c->n_pending < QMP_MAX_PENDING_FDS) {
				c->pending_fds[c->n_pending++] = fd;
			} else {
				close(fd);
				log_msg(s, "QMP: %s", "client passed too many descriptors; extra ones closed");
			}
		}
	}
	if (mh.msg_flags & MSG_CTRUNC)
		log_msg(s, "QMP: %s", "client passed too many descriptors; extra ones dropped");
	if (n == 0) {
		c->closing = true; /* EOF: answer what came, then close */
		return 0;
	}
	c->in_pos = 0;
	c->in_len = (size_t)n;
	return 1;
}

/* Answer buffered input, then read until the socket is empty, the client
 * is done, or it must first read our replies (then the next "writable"
 * brings us back here). */
static void conn_take_input(struct qmp_server *s, struct qmp_conn *c)
{
	for (;;) {
		conn_process(s, c);
		if (c->dead || c->closing || c->in_pos < c->in_len || c->out_len >= QMP_OUT_HIGH)
			return;
		if (!conn_read(s, c))
			return;
	}
}

static void reap(struct qmp_server *s)
{
	size_t j = 0;
	bool closed = false;

	for (size_t i = 0; i < s->n_conns; i++) {
		struct qmp_conn *c = s->conns[i];
		if (c->dead || (c->closing && c->out_len == 0)) {
			conn_free(s, c);
			closed = true;
		} else {
			s->conns[j++] = c;
		}
	}
	s->n_conns = j;
	if (s->n_conns == 0)
		set_alarm(s, RTC_NO_DEADLINE);
	/* As QEMU: with no client left and the guest running, nobody can use
	 * the descriptor sets any more; close them. */
	if (closed && s->n_conns == 0 && s->fdsets.n_sets > 0 &&
	    s->cfg.ops->run_state(s->cfg.opaque) == DM_RUN_RUNNING)
		fdsets_clear(&s->fdsets);
}

/* Entry points nest (a command sends an event): connections are closed
 * only when the outermost one returns. */
static void enter(struct qmp_server *s)
{
	s->depth++;
}

static void leave(struct qmp_server *s)
{
	if (--s->depth == 0)
		reap(s);
}

static void conn_ready(struct qmp_server *s, struct qmp_conn *c, short revents)
{
	if (revents & (POLLERR | POLLNVAL)) {
		c->dead = true;
		return;
	}
	conn_flush(c);
	conn_take_input(s, c);
}

void qmp_server_handle(struct qmp_server *s, int fd, short revents)
{
	enter(s);
	for (size_t i = 0; i < s->n_listeners; i++)
		if (s->listeners[i].fd == fd)
			accept_all(s, fd);
	for (size_t i = 0; i < s->n_conns; i++) {
		if (s->conns[i]->fd == fd) {
			conn_ready(s, s->conns[i], revents);
			break;
		}
	}
	leave(s);
}

void qmp_server_expire(struct qmp_server *s)
{
	uint64_t now, next = RTC_NO_DEADLINE;

	if (!idle_limit_on(s))
		return;
	enter(s);
	now = now_ns(s);
	for (size_t i = 0; i < s->n_conns; i++) {
		struct qmp_conn *c = s->conns[i];
		uint64_t due = c->last_message_ns + s->cfg.idle_timeout_ns;

		if (c->dead || c->closing)
			continue;
		if (due <= now) {
			log_msg(s, "QMP: closing a connection that sent no complete command for %llu ms",
			        (unsigned long long)((now - c->last_message_ns) / 1000000u));
			c->dead = true;
		} else if (due < next) {
			next = due;
		}
	}
	/* It rang: the next deadline (or none) is passed on as it is. */
	s->alarm_ns = next;
	s->cfg.hooks.arm_alarm(s->cfg.hooks.opaque, next);
	leave(s);
}

void qmp_server_flush(struct qmp_server *s)
{
	for (size_t i = 0; i < s->n_conns; i++)
		conn_flush(s->conns[i]);
}

void qmp_server_event(struct qmp_server *s, const char *name, struct json_object *data)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	struct json_object *ev = json_object_new_object();
	struct json_object *stamp = json_object_new_object();
	json_object_object_add(stamp, "seconds", json_object_new_int64((int64_t)ts.tv_sec));
	json_object_object_add(stamp, "microseconds",
	                       json_object_new_int64((int64_t)(ts.tv_nsec / 1000)));
	json_object_object_add(ev, "timestamp", stamp);
	json_object_object_add(ev, "event", json_object_new_string(name));
	if (data)
		json_object_object_add(ev, "data", data);
	enter(s);
	for (size_t i = 0; i < s->n_conns; i++)
		if (s->conns[i]->negotiated && !s->conns[i]->closing)
			qmp_conn_send(s->conns[i], ev);
	leave(s);
	json_object_put(ev);
}

size_t qmp_server_clients(const struct qmp_server *s)
{
	return s->n_conns;
}
