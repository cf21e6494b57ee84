/* qmp_internal.h — shared between qmp_server.c and qmp_commands.c. */
#ifndef RTCDM_QMP_INTERNAL_H
#define RTCDM_QMP_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolstack/qmp/fdset.h"
#include "toolstack/qmp/server.h"

#define QMP_READ_CHUNK 4096

/* Follows the JSON text of one message as the tokener consumes it, to tell
 * a negative integer literal below INT64_MIN (json-c clamps it to INT64_MIN
 * without saying so). */
struct qmp_int_scan {
	bool in_string, escaped;
	bool in_number, negative, integral, too_low;
	uint64_t magnitude;
};

struct qmp_conn {
	int fd;
	bool negotiated;   /* qmp_capabilities done */
	bool closing;      /* no more input: close once the output is sent */
	bool dead;         /* close now */
	json_tokener *tok;
	bool in_msg;       /* the tokener holds part of a message */
	size_t msg_bytes;  /* bytes of the current message so far */
	bool discarding;   /* after a parse error: skip to the next newline */
	struct qmp_int_scan scan;  /* over the current message */
	bool msg_below_int64_min;  /* the message being executed had such a literal */
	uint64_t last_message_ns;  /* when it connected or last sent a whole message */
	char in[QMP_READ_CHUNK];
	size_t in_pos, in_len;
	char *out;
	size_t out_len, out_cap;
	int pending_fds[QMP_MAX_PENDING_FDS];
	size_t n_pending;
};

struct qmp_listener {
	int fd;
	char *path; /* created by us (unlinked at exit), or NULL */
	unsigned long long dev, ino;
};

struct qmp_server {
	struct qmp_server_config cfg;
	struct qmp_listener listeners[QMP_MAX_LISTENERS];
	size_t n_listeners;
	struct qmp_conn *conns[QMP_MAX_CLIENTS];
	size_t n_conns;
	struct fdsets fdsets;
	unsigned depth;        /* entry points in progress: reap only at the outermost */
	uint64_t alarm_ns;     /* armed idle alarm, or RTC_NO_DEADLINE */
};

/* qmp_commands.c: answer one parsed message; returns the reply (never NULL
 * unless out of memory). */
struct json_object *qmp_execute(struct qmp_server *s, struct qmp_conn *c, struct json_object *req);
/* {"error": {"class": cls, "desc": desc}} */
struct json_object *qmp_error_reply(const char *cls, const char *desc);
/* The greeting object. */
struct json_object *qmp_greeting(void);

/* qmp_server.c: queue a message (serialised + CRLF) and try to send it. */
void qmp_conn_send(struct qmp_conn *c, struct json_object *msg);
/* Take the oldest descriptor received by SCM_RIGHTS, or -1. */
int qmp_conn_take_fd(struct qmp_conn *c);

#endif
