/* client.c — QMP client: one JSON object per line (see client.h). */
#include "toolstack/qmp/client.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void qmp_client_init(struct qmp_client *c, int fd)
{
	c->fd = fd;
	c->len = 0;
}

int qmp_client_fill(struct qmp_client *c)
{
	for (;;) {
		size_t room = sizeof(c->buf) - c->len;
		ssize_t r;

		if (!room)
			return 1; /* qmp_client_next() reports the overlong line */
		r = read(c->fd, c->buf + c->len, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -errno;
		if (r == 0)
			return 0;
		c->len += (size_t)r;
		/* Less than room: the socket is empty now, or the rest wakes the
		 * caller's (level-triggered) poll again; no read to see EAGAIN. */
		if ((size_t)r < room)
			return 1;
	}
}

struct json_object *qmp_client_next(struct qmp_client *c, char *err, size_t errlen)
{
	char *nl;

	err[0] = '\0';
	for (;;) {
		struct json_object *obj;
		size_t line;

		nl = memchr(c->buf, '\n', c->len);
		if (!nl) {
			if (c->len == sizeof(c->buf))
				snprintf(err, errlen, "QMP message longer than %d bytes",
				         QMP_CLIENT_MAX_LINE);
			return NULL;
		}
		line = (size_t)(nl - c->buf);
		*nl = '\0';
		if (line > 0 && c->buf[line - 1] == '\r')
			c->buf[line - 1] = '\0';
		obj = c->buf[0] ? json_tokener_parse(c->buf) : NULL;
		if (c->buf[0] && !json_object_is_type(obj, json_type_object)) {
			snprintf(err, errlen, "QMP message is not a JSON object: %.80s", c->buf);
			json_object_put(obj);
		}
		memmove(c->buf, nl + 1, c->len - line - 1);
		c->len -= line + 1;
		if (err[0])
			return NULL;
		if (obj)
			return obj;
	}
}

int qmp_client_send(struct qmp_client *c, const char *json)
{
	size_t len = strlen(json), off = 0;

	if (len >= 1024)
		return -EMSGSIZE;
	while (off < len) {
		ssize_t w = write(c->fd, json + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	return 0;
}
