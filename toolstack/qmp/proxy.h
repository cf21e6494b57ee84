/*
 * proxy.h — QMP pass-through: libxl's monitors (libxl-cmd, libxenstat-cmd)
 * are served by rtcdm and relayed to QEMU's (companion mode, see
 * dm/companion.h).
 *
 * A link joins a listening socket that libxl connects to (its -chardev path,
 * or the descriptor libxl pre-opened for dm_restrict) and the path of the
 * matching QEMU monitor.  Every client libxl connects gets its own
 * connection to QEMU's monitor; bytes go both ways unchanged: the greeting
 * with QEMU's version, replies with their ids, events.  Descriptors a
 * client passes with SCM_RIGHTS go to QEMU with the same bytes they came
 * with.  Either side closing closes the other.
 *
 * rtcdm looks at the traffic without changing it: the client's JSON stream
 * is parsed into commands, QEMU's lines (one message each) into replies,
 * matched to commands by id and order (libxl does not use out-of-band
 * commands; a reply that matches no command is relayed and nothing else).
 * Two things it does with that:
 *  - descriptor sets: for each add-fd QEMU accepts, rtcdm keeps its own copy
 *    of the descriptor under QEMU's fdset-id (qmp_proxy_fdset_fd), dropped
 *    on remove-fd of the set;
 *  - hooks: a command named by the hooks is reported before it goes to
 *    QEMU, and QEMU's reply to it is shown to the hook before the client
 *    gets it; the hook may replace that reply with an error or an answer
 *    of its own.  This is where rtcdm steps in for save and for its own
 *    commands.
 */
#ifndef RTCDM_QMP_PROXY_H
#define RTCDM_QMP_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/log.h"
#include "base/loop.h"

struct json_object;
struct qmp_proxy;

#define QMP_PROXY_MAX_LINKS 4
#define QMP_PROXY_MAX_CONNS 8         /* clients at once, all links */
#define QMP_PROXY_MAX_LINE (16u << 20) /* a line from QEMU (query-qmp-schema is large) */
#define QMP_PROXY_MAX_FDS 8           /* descriptors in flight on one connection */
#define QMP_PROXY_MAX_FDSETS 16
#define QMP_PROXY_MAX_PENDING 32      /* commands awaiting QEMU's reply, per client */

/* What a hook does with a command. */
enum qmp_proxy_verdict {
	QMP_PROXY_PASS = 0,  /* not interested */
	QMP_PROXY_AFTER = 1, /* show me QEMU's reply before the client sees it */
	QMP_PROXY_HOLD = 2,  /* as AFTER, and QEMU gets the command (and what
	                      * follows on its connection) only at
	                      * qmp_proxy_release(): rtcdm first brings QEMU
	                      * up to date */
};

struct qmp_proxy_hooks {
	/* A client's command (name = "execute", args = "arguments" or NULL),
	 * before it is relayed. */
	enum qmp_proxy_verdict (*command)(void *opaque, const char *name,
	                                  struct json_object *args);
	/* QEMU's reply (an object with "return" or "error") to a command marked
	 * AFTER.  Return 0 to relay it unchanged; 1 with *answer (a reply
	 * object, {"return": ...} or {"error": ...}, given to the proxy) to
	 * give the client that instead, with the command's id: rtcdm's own
	 * commands travel to QEMU like any other, so replies keep their
	 * order, and QEMU's "CommandNotFound" is replaced; -1 with a one-line
	 * reason in err to give the client {"error": {"class":
	 * "GenericError", "desc": err}} (with the command's id). */
	int (*reply)(void *opaque, struct qmp_proxy *p, const char *name,
	             struct json_object *args, struct json_object *reply,
	             struct json_object **answer, char *err, size_t errlen);
	void *opaque;
};

/* hooks may be NULL (pure pass-through).  NULL on allocation failure. */
struct qmp_proxy *qmp_proxy_new(struct dm_loop *loop, const struct dm_log *log,
                                const struct qmp_proxy_hooks *hooks);
/* Close every connection and listener; drop the kept descriptors.  NULL is
 * fine. */
void qmp_proxy_free(struct qmp_proxy *p);

/* Relay clients of listen_fd (a listening unix stream socket, owned from now
 * on, made non-blocking and close-on-exec) to the monitor at upstream_path.
 * name (e.g. "libxl-cmd") is for the log.  0, or -1 with err (listen_fd is
 * then the caller's to close). */
int qmp_proxy_add_link(struct qmp_proxy *p, const char *name, int listen_fd,
                       const char *upstream_path, char *err, size_t errlen);

/* Send QEMU what HOLD kept back, on every connection. */
void qmp_proxy_release(struct qmp_proxy *p);

/* rtcdm's copy of the descriptor QEMU holds in fdset `id`, or -1.  Still
 * owned by the proxy. */
int qmp_proxy_fdset_fd(const struct qmp_proxy *p, long long id);

/* Connections open now (tests, diagnostics). */
size_t qmp_proxy_conns(const struct qmp_proxy *p);

#endif
