/*
 * client.h — the client side of QMP, for rtcdm's own monitor on the QEMU it
 * starts in companion mode (dm/qemu_child.h).
 *
 * QEMU writes every message as one line of JSON ending in CRLF (a monitor
 * without pretty=on).  The client reads what a non-blocking socket has,
 * keeps an incomplete line for later and hands out whole messages one by
 * one.  A line longer than QMP_CLIENT_MAX_LINE or one that is not a JSON
 * object is an error.
 */
#ifndef RTCDM_QMP_CLIENT_H
#define RTCDM_QMP_CLIENT_H

#include <stddef.h>

struct json_object;

#define QMP_CLIENT_MAX_LINE 65536

struct qmp_client {
	int fd;
	size_t len;
	char buf[QMP_CLIENT_MAX_LINE];
};

/* fd: a connected stream socket, owned by the caller. */
void qmp_client_init(struct qmp_client *c, int fd);

/* Take what the socket has now (one read, unless it filled the buffer: a
 * level-triggered poll reports what is left).  1: more may come, 0: the
 * peer closed, -errno on a read error. */
int qmp_client_fill(struct qmp_client *c);

/* The next whole message (the caller puts it), or NULL when there is none
 * yet or the buffered bytes are malformed: then err says why (err[0] is
 * '\0' when there is simply nothing yet). */
struct json_object *qmp_client_next(struct qmp_client *c, char *err, size_t errlen);

/* Write one message (text, at most 1 KiB) as it is: QEMU's parser takes a
 * command when its JSON object closes, and QEMU 7.2 reads its monitors one
 * byte at a time (a poll, a recvmsg and eventfd writes per byte in its
 * monitor thread), so no line end is sent.  0 or -errno; -EAGAIN when the
 * socket cannot take it now (a peer that stopped reading: commands are a
 * few dozen bytes). */
int qmp_client_send(struct qmp_client *c, const char *json);

#endif
