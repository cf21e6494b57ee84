/* proxy.c — QMP pass-through between libxl and QEMU (see proxy.h). */
#include "toolstack/qmp/proxy.h"
#include "base/unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CHUNK 65536

struct pending {
	char *name;               /* NULL: not a command (QEMU answers with an error) */
	struct json_object *args; /* reference, or NULL */
	struct json_object *id;   /* reference, or NULL */
	bool after;               /* the hook wants QEMU's reply */
	int fd;                   /* add-fd: rtcdm's copy of the descriptor, or -1 */
};

struct buf {
	char *data;
	size_t len, cap;
};

struct link {
	struct qmp_proxy *p;
	char name[32];
	int lfd;
	char upstream[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct conn {
	struct qmp_proxy *p;
	struct link *link;
	bool used;
	int client, up;
	struct json_tokener *tok;
	struct pending pend[QMP_PROXY_MAX_PENDING]; /* FIFO, oldest first */
	size_t n_pend;
	int fds[QMP_PROXY_MAX_FDS]; /* copies of received descriptors, for add-fd */
	size_t n_fds;
	struct buf to_up;
	int up_fds[QMP_PROXY_MAX_FDS]; /* go to QEMU with the first byte of to_up */
	size_t n_up_fds;
	struct buf from_up; /* QEMU's incomplete line */
	struct buf to_client;
	bool held;          /* to_up waits for qmp_proxy_release() */
};

struct kept_fd {
	long long id;
	int fd;
};

struct qmp_proxy {
	struct dm_loop *loop;
	const struct dm_log *log;
	struct qmp_proxy_hooks hooks;
	bool has_hooks;
	struct link links[QMP_PROXY_MAX_LINKS];
	size_t n_links;
	struct conn conns[QMP_PROXY_MAX_CONNS];
	struct kept_fd kept[QMP_PROXY_MAX_FDSETS];
	size_t n_kept;
};

/* ---- small helpers ------------------------------------------------------------------ */

static int buf_add(struct buf *b, const void *data, size_t len, size_t max)
{
	if (b->len + len > max)
		return -1;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *n;

		while (cap < b->len + len)
			cap *= 2;
		n = realloc(b->data, cap);
		if (!n)
			return -1;
		b->data = n;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static void buf_drop(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

static void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static void close_fds(int *fds, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		close(fds[i]);
	*n = 0;
}

static void pending_clear(struct pending *pd)
{
	free(pd->name);
	json_object_put(pd->args);
	json_object_put(pd->id);
	if (pd->fd >= 0)
		close(pd->fd);
}

/* ---- kept descriptors ---------------------------------------------------------------- */

static void keep_fd(struct qmp_proxy *p, long long id, int fd)
{
	for (size_t i = 0; i < p->n_kept; i++)
		if (p->kept[i].id == id) {
			/* another descriptor in the same set: the first one stays */
			close(fd);
			return;
		}
	if (p->n_kept == QMP_PROXY_MAX_FDSETS) {
		/* the oldest set goes */
		close(p->kept[0].fd);
		memmove(p->kept, p->kept + 1, (p->n_kept - 1) * sizeof(p->kept[0]));
		p->n_kept--;
	}
	p->kept[p->n_kept++] = (struct kept_fd){.id = id, .fd = fd};
}

static void drop_fdset(struct qmp_proxy *p, long long id)
{
	for (size_t i = 0; i < p->n_kept; i++)
		if (p->kept[i].id == id) {
			close(p->kept[i].fd);
			memmove(p->kept + i, p->kept + i + 1, (p->n_kept - i - 1) * sizeof(p->kept[0]));
			p->n_kept--;
			return;
		}
}

int qmp_proxy_fdset_fd(const struct qmp_proxy *p, long long id)
{
	for (size_t i = 0; i < p->n_kept; i++)
		if (p->kept[i].id == id)
			return p->kept[i].fd;
	return -1;
}

size_t qmp_proxy_conns(const struct qmp_proxy *p)
{
	size_t n = 0;

	for (size_t i = 0; i < QMP_PROXY_MAX_CONNS; i++)
		n += p->conns[i].used;
	return n;
}

/* ---- connections ------------------------------------------------------------------------ */

static void conn_close(struct conn *c)
{
	if (!c->used)
		return;
	dm_loop_del_fd(c->p->loop, c->client);
	close(c->client);
	if (c->up >= 0) {
		dm_loop_del_fd(c->p->loop, c->up);
		close(c->up);
	}
	json_tokener_free(c->tok);
	for (size_t i = 0; i < c->n_pend; i++)
		pending_clear(&c->pend[i]);
	close_fds(c->fds, &c->n_fds);
	close_fds(c->up_fds, &c->n_up_fds);
	buf_free(&c->to_up);
	buf_free(&c->from_up);
	buf_free(&c->to_client);
	dm_debug(c->p->log, "QMP %s: client gone", c->link->name);
	memset(c, 0, sizeof(*c));
}

/* Read from `from` only while `to` has nothing waiting; `to` wants EPOLLOUT
 * while it has. */
static void update_events(struct conn *c)
{
	dm_loop_mod_fd(c->p->loop, c->client,
	               (c->to_up.len ? 0 : EPOLLIN) | (c->to_client.len ? EPOLLOUT : 0));
	dm_loop_mod_fd(c->p->loop, c->up,
	               (c->to_client.len ? 0 : EPOLLIN) | (c->to_up.len && !c->held ? EPOLLOUT : 0));
}

/* Send what waits for one side; to QEMU, the descriptors go with the first
 * byte.  0 or -1 (connection to close). */
static int flush(struct conn *c, bool to_qemu)
{
	struct buf *b = to_qemu ? &c->to_up : &c->to_client;

	if (to_qemu && c->held)
		return 0;
	while (b->len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * QMP_PROXY_MAX_FDS)];
			struct cmsghdr align;
		} u;
		struct iovec iov = {.iov_base = b->data, .iov_len = b->len};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t w;

		if (to_qemu && c->n_up_fds) {
			struct cmsghdr *cm;

			memset(&u, 0, sizeof(u));
			mh.msg_control = u.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * c->n_up_fds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * c->n_up_fds);
			memcpy(CMSG_DATA(cm), c->up_fds, sizeof(int) * c->n_up_fds);
		}
		w = sendmsg(to_qemu ? c->up : c->client, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w < 0)
			return -1;
		if (to_qemu)
			close_fds(c->up_fds, &c->n_up_fds);
		buf_drop(b, (size_t)w);
	}
	return 0;
}

/* Events on one side (the client's or QEMU's): send what waits for it;
 * then 1 when it is to be read now, 0 when not (what it would send still
 * waits on the other side), -1 when the connection is to be closed. */
static int side_ready(struct conn *c, uint32_t events, bool client)
{
	if (events & EPOLLOUT && flush(c, !client) < 0)
		return -1;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || (client ? c->to_up.len : c->to_client.len))
		return 0;
	return 1;
}

static int push_pending(struct conn *c, struct json_object *msg)
{
	struct qmp_proxy *p = c->p;
	struct pending pd = {.fd = -1};
	struct json_object *exe;

	if (c->n_pend == QMP_PROXY_MAX_PENDING) {
		dm_warn(p->log, "QMP %s: more than %d commands unanswered; closing", c->link->name,
		        QMP_PROXY_MAX_PENDING);
		return -1;
	}
	if (json_object_is_type(msg, json_type_object) &&
	    json_object_object_get_ex(msg, "execute", &exe) &&
	    json_object_is_type(exe, json_type_string)) {
		struct json_object *v;

		pd.name = strdup(json_object_get_string(exe));
		if (!pd.name)
			return -1;
		if (json_object_object_get_ex(msg, "arguments", &v))
			pd.args = json_object_get(v);
		if (json_object_object_get_ex(msg, "id", &v))
			pd.id = json_object_get(v);
		if (p->has_hooks && p->hooks.command) {
			enum qmp_proxy_verdict verdict =
				p->hooks.command(p->hooks.opaque, pd.name, pd.args);

			pd.after = verdict != QMP_PROXY_PASS;
			if (verdict == QMP_PROXY_HOLD) {
				c->held = true;
				dm_debug(p->log, "QMP %s: %s held back", c->link->name, pd.name);
			}
		}
		if (strcmp(pd.name, "add-fd") == 0 && c->n_fds) {
			pd.fd = c->fds[0];
			memmove(c->fds, c->fds + 1, (c->n_fds - 1) * sizeof(int));
			c->n_fds--;
		}
	}
	c->pend[c->n_pend++] = pd;
	return 0;
}

/* Commands in the client's bytes (they go to QEMU as they are). */
static int parse_commands(struct conn *c, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		struct json_object *msg;
		enum json_tokener_error e;

		while (off < len && strchr(" \t\r\n", data[off]))
			off++;
		if (off == len)
			break;
		msg = json_tokener_parse_ex(c->tok, data + off, (int)(len - off));
		e = json_tokener_get_error(c->tok);
		if (e == json_tokener_continue)
			break;
		if (e != json_tokener_success) {
			/* QEMU answers malformed input with an error of its own */
			json_tokener_reset(c->tok);
			return push_pending(c, NULL);
		}
		off += json_tokener_get_parse_end(c->tok);
		json_tokener_reset(c->tok);
		if (push_pending(c, msg) < 0) {
			json_object_put(msg);
			return -1;
		}
		json_object_put(msg);
	}
	return 0;
}

/* The client has bytes: relay them (and descriptors) to QEMU.  0 or -1
 * (connection to close). */
static int read_client(struct conn *c)
{
	char data[CHUNK];
	union {
		char buf[CMSG_SPACE(sizeof(int) * QMP_PROXY_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
	                    .msg_controllen = sizeof(u.buf)};
	ssize_t r;

	r = recvmsg(c->client, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); r >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < n; i++) {
			int got, copy;

			memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			copy = fcntl(got, F_DUPFD_CLOEXEC, 3);
			if (c->n_up_fds < QMP_PROXY_MAX_FDS && copy >= 0 &&
			    c->n_fds < QMP_PROXY_MAX_FDS) {
				c->up_fds[c->n_up_fds++] = got;
				c->fds[c->n_fds++] = copy;
			} else {
				dm_warn(c->p->log, "QMP %s: too many descriptors in flight, one dropped",
				        c->link->name);
				close(got);
				if (copy >= 0)
					close(copy);
			}
		}
	}
	if (r <= 0 || parse_commands(c, data, (size_t)r) < 0 ||
	    buf_add(&c->to_up, data, (size_t)r, (size_t)-1) < 0)
		return -1;
	return flush(c, true);
}

/* The command a reply answers, out of the FIFO into *pd.  Replies come in
 * order; a reply with an id answers the oldest command with an equal id
 * (older ones without an answer, e.g. input QEMU could not parse, are
 * dropped), a reply without one answers the oldest command only if that has
 * no id either.  -1: the reply matches no command (left alone). */
static int take_pending(struct conn *c, struct json_object *reply, struct pending *pd)
{
	struct json_object *id = NULL;
	size_t i = 0;

	json_object_object_get_ex(reply, "id", &id);
	if (id) {
		while (i < c->n_pend && !(c->pend[i].id && json_object_equal(c->pend[i].id, id)))
			i++;
	} else if (c->n_pend && c->pend[0].id) {
		return -1;
	}
	if (i >= c->n_pend)
		return -1;
	for (size_t k = 0; k < i; k++)
		pending_clear(&c->pend[k]);
	*pd = c->pend[i];
	memmove(c->pend, c->pend + i + 1, (c->n_pend - i - 1) * sizeof(*pd));
	c->n_pend -= i + 1;
	return 0;
}

static const int JSON_FLAGS = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

/* {"error": {"class": "GenericError", "desc": err}, "id": id} as QEMU lays
 * it out (malloc'd), or NULL. */
static char *error_line(struct json_object *id, const char *err)
{
	struct json_object *desc = json_object_new_string(err);
	char *d = desc ? strdup(json_object_to_json_string_ext(desc, JSON_FLAGS)) : NULL;
	const char *i = id ? json_object_to_json_string_ext(id, JSON_FLAGS) : NULL;
	size_t len = (d ? strlen(d) : 0) + (i ? strlen(i) : 0) + 64;
	char *line = d ? malloc(len) : NULL;

	if (line)
		snprintf(line, len, "{\"error\": {\"class\": \"GenericError\", \"desc\": %s}%s%s}", d,
		         i ? ", \"id\": " : "", i ? i : "");
	free(d);
	json_object_put(desc);
	return line;
}

/* The hook's own reply object, with the command's id (malloc'd), or NULL. */
static char *answer_line(struct json_object *id, struct json_object *answer)
{
	char *line;

	if (id)
		json_object_object_add(answer, "id", json_object_get(id));
	line = strdup(json_object_to_json_string_ext(answer, JSON_FLAGS));
	return line;
}

/* A reply of QEMU's to the oldest pending command: the proxy's own
 * bookkeeping, then the hook.  Returns a replacement line (malloc'd) or
 * NULL to relay the line as it is. */
static char *on_reply(struct conn *c, struct json_object *reply)
{
	struct qmp_proxy *p = c->p;
	struct pending pd;
	struct json_object *ret = NULL, *v;
	char err[256] = "";
	char *line = NULL;

	if (take_pending(c, reply, &pd) < 0)
		return NULL;
	json_object_object_get_ex(reply, "return", &ret);
	if (pd.name && ret && strcmp(pd.name, "add-fd") == 0 && pd.fd >= 0 &&
	    json_object_object_get_ex(ret, "fdset-id", &v)) {
		keep_fd(p, (long long)json_object_get_int64(v), pd.fd);
		pd.fd = -1;
	}
	if (pd.name && ret && strcmp(pd.name, "remove-fd") == 0 && pd.args &&
	    json_object_object_get_ex(pd.args, "fdset-id", &v))
		drop_fdset(p, (long long)json_object_get_int64(v));
	if (pd.after && p->has_hooks && p->hooks.reply) {
		struct json_object *answer = NULL;
		int rc = p->hooks.reply(p->hooks.opaque, p, pd.name, pd.args, reply, &answer, err,
		                        sizeof(err));

		if (rc < 0) {
			line = error_line(pd.id, err);
			dm_info(p->log, "QMP %s: %s answered with an error: %s", c->link->name, pd.name,
			        err);
		} else if (rc > 0 && answer) {
			line = answer_line(pd.id, answer);
			json_object_put(answer);
		}
	}
	pending_clear(&pd);
	return line;
}

/* QEMU has bytes: relay them line by line, replies through on_reply().
 * 0 or -1 (connection to close). */
static int read_up(struct conn *c)
{
	char data[CHUNK];
	ssize_t r;
	char *nl;

	r = read(c->up, data, sizeof(data));
	if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (r <= 0)
		return -1;
	if (buf_add(&c->from_up, data, (size_t)r, QMP_PROXY_MAX_LINE) < 0) {
		dm_warn(c->p->log, "QMP %s: a message from QEMU longer than %u bytes; closing",
		        c->link->name, QMP_PROXY_MAX_LINE);
		return -1;
	}
	while ((nl = memchr(c->from_up.data, '\n', c->from_up.len))) {
		size_t len = (size_t)(nl - c->from_up.data) + 1;
		struct json_object *msg;
		char *repl = NULL;

		*nl = '\0';
		msg = json_tokener_parse(c->from_up.data);
		*nl = '\n';
		if (msg && (json_object_object_get_ex(msg, "return", NULL) ||
		            json_object_object_get_ex(msg, "error", NULL)))
			repl = on_reply(c, msg);
		json_object_put(msg);
		if (repl) {
			int rc = buf_add(&c->to_client, repl, strlen(repl), (size_t)-1);

			free(repl);
			if (rc < 0 || buf_add(&c->to_client, "\r\n", 2, (size_t)-1) < 0)
				return -1;
		} else if (buf_add(&c->to_client, c->from_up.data, len, (size_t)-1) < 0) {
			return -1;
		}
		buf_drop(&c->from_up, len);
	}
	return flush(c, false);
}

/* Either side of a connection. */
static void on_conn(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct conn *c = opaque;
	bool client = fd == c->client;
	int rc;

	(void)loop;
	rc = side_ready(c, events, client);
	if (rc > 0)
		rc = client ? read_client(c) : read_up(c);
	if (rc < 0)
		conn_close(c);
	else
		update_events(c);
}

static void on_accept(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct link *l = opaque;
	struct qmp_proxy *p = l->p;
	struct conn *c = NULL;
	int client, up;

	(void)events;
	client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (client < 0)
		return;
	for (size_t i = 0; i < QMP_PROXY_MAX_CONNS && !c; i++)
		if (!p->conns[i].used)
			c = &p->conns[i];
	if (!c) {
		dm_warn(p->log, "QMP %s: %d clients already, one refused", l->name,
		        QMP_PROXY_MAX_CONNS);
		close(client);
		return;
	}
	up = dm_unix_connect(l->upstream, SOCK_NONBLOCK);
	if (up < 0) {
		dm_warn(p->log, "QMP %s: cannot reach QEMU's monitor %s: %s", l->name, l->upstream,
		        strerror(errno));
		close(client);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->link = l;
	c->client = client;
	c->up = up;
	c->tok = json_tokener_new();
	c->used = true;
	if (!c->tok || dm_loop_add_fd(loop, client, EPOLLIN, on_conn, c) < 0) {
		c->up = -1;
		close(up);
		dm_warn(p->log, "QMP %s: cannot watch a client", l->name);
		if (c->tok)
			json_tokener_free(c->tok);
		close(client);
		memset(c, 0, sizeof(*c));
		return;
	}
	if (dm_loop_add_fd(loop, up, EPOLLIN, on_conn, c) < 0) {
		dm_warn(p->log, "QMP %s: cannot watch QEMU's monitor", l->name);
		dm_loop_del_fd(loop, up);
		c->up = -1;
		close(up);
		conn_close(c);
		return;
	}
	dm_debug(p->log, "QMP %s: client connected, relayed to %s", l->name, l->upstream);
}

/* ---- proxy ------------------------------------------------------------------------------ */

struct qmp_proxy *qmp_proxy_new(struct dm_loop *loop, const struct dm_log *log,
                                const struct qmp_proxy_hooks *hooks)
{
	struct qmp_proxy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->loop = loop;
	p->log = log;
	if (hooks) {
		p->hooks = *hooks;
		p->has_hooks = true;
	}
	return p;
}

void qmp_proxy_free(struct qmp_proxy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < QMP_PROXY_MAX_CONNS; i++)
		conn_close(&p->conns[i]);
	for (size_t i = 0; i < p->n_links; i++) {
		dm_loop_del_fd(p->loop, p->links[i].lfd);
		close(p->links[i].lfd);
	}
	for (size_t i = 0; i < p->n_kept; i++)
		close(p->kept[i].fd);
	free(p);
}

int qmp_proxy_add_link(struct qmp_proxy *p, const char *name, int listen_fd,
                       const char *upstream_path, char *err, size_t errlen)
{
	struct link *l;
	int fl;

	if (p->n_links == QMP_PROXY_MAX_LINKS) {
		snprintf(err, errlen, "QMP %s: more than %d monitors to relay", name,
		         QMP_PROXY_MAX_LINKS);
		return -1;
	}
	if (strlen(upstream_path) >= sizeof(l->upstream)) {
		snprintf(err, errlen, "QMP %s: QEMU's monitor path is too long", name);
		return -1;
	}
	fl = fcntl(listen_fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) ||
	    fcntl(listen_fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "QMP %s: fd %d: %s", name, listen_fd, strerror(errno));
		return -1;
	}
	l = &p->links[p->n_links];
	memset(l, 0, sizeof(*l));
	l->p = p;
	l->lfd = listen_fd;
	snprintf(l->name, sizeof(l->name), "%s", name);
	memcpy(l->upstream, upstream_path, strlen(upstream_path) + 1);
	if (dm_loop_add_fd(p->loop, listen_fd, EPOLLIN, on_accept, l) < 0) {
		snprintf(err, errlen, "QMP %s: cannot watch its socket", name);
		return -1;
	}
	p->n_links++;
	return 0;
}

void qmp_proxy_release(struct qmp_proxy *p)
{
	for (size_t i = 0; i < QMP_PROXY_MAX_CONNS; i++) {
		struct conn *c = &p->conns[i];

		if (!c->used || !c->held)
			continue;
		c->held = false;
		if (flush(c, true) < 0)
			conn_close(c);
		else
			update_events(c);
	}
}
