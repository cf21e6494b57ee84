/*
 * qmp_server.h — QMP (QEMU Machine Protocol) server for the toolstack.
 *
 * Listens on unix sockets (paths it creates, or listening descriptors it is
 * handed, as with dm_restrict's `-chardev socket,...,fd=N`), serves any
 * number of clients up to QMP_MAX_CLIENTS at once, each with its own
 * capabilities negotiation, and carries out commands through struct
 * dm_ops.  It has no loop and no threads: it hands every descriptor it
 * owns (listeners and connections) to the process's event loop through
 * struct qmp_server_hooks once, when it opens it, and takes it back when it
 * closes it; the loop calls qmp_server_handle() when one is ready.  The
 * loop watches each for input and output, edge-triggered: the server reads
 * and writes until the kernel says EAGAIN, and remembers what it held back
 * (a client that does not read its replies is not read from), so the set
 * the loop watches never changes between an open and a close.  Every socket
 * is non-blocking.
 *
 * A connection that sends no complete message for idle_timeout_ns (on the
 * hooks' clock) is closed and the log says so: libxl connects per
 * operation, and QMP_MAX_CLIENTS idle connections would otherwise lock the
 * toolstack out.
 *
 * Protocol (as QEMU 7.2 towards libxl): greeting
 *   {"QMP":{"version":{"qemu":{"micro":0,"minor":2,"major":7},"package":"rtcdm-V"},"capabilities":[]}}
 * then JSON objects {"execute": NAME, "arguments": {...}, "id": ANY};
 * replies {"return": ..., "id": ...} or {"error": {"class", "desc"}, "id"},
 * each ending in CRLF.  Messages may span lines; one message is at most
 * QMP_MAX_MESSAGE bytes, a longer one closes the connection after an error.
 * Commands: qmp_capabilities, query-status, stop, cont, query-chardev,
 * query-cpus-fast, query-vnc, query-version, query-commands, add-fd,
 * remove-fd, query-fdsets, xen-save-devices-state, xen-load-devices-state,
 * xen-set-global-dirty-log, quit, rtcdm-set-time-offset {"seconds": N},
 * rtcdm-query-time-offset.
 */
#ifndef RTCDM_QMP_SERVER_H
#define RTCDM_QMP_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolstack/dm_ops.h"

struct json_object;
struct qmp_server;

#define QMP_MAX_LISTENERS 4
#define QMP_MAX_CLIENTS 16
#define QMP_MAX_FDS (QMP_MAX_LISTENERS + QMP_MAX_CLIENTS) /* handed to the loop at once */
#define QMP_MAX_MESSAGE 65536         /* bytes of one JSON message */
#define QMP_MAX_DEPTH 32              /* JSON nesting */
#define QMP_MAX_PENDING_FDS 4         /* SCM_RIGHTS descriptors awaiting add-fd */
#define QMP_OUT_HIGH (64u * 1024)     /* stop reading a client while more is unsent */
#define QMP_OUT_MAX (1024u * 1024)    /* unsent bytes that close a client */
#define QMP_IDLE_TIMEOUT_NS (30ull * 1000000000ull) /* the process's idle limit */

/* A character device reported by query-chardev. */
struct qmp_chardev_info {
	const char *label;
	const char *filename;
};

/* What the server needs from the process's event loop (opaque is theirs). */
struct qmp_server_hooks {
	/* Watch fd for input and output (edge-triggered) until unwatch(), and
	 * call qmp_server_handle() with what fired.  0 or -errno. */
	int (*watch)(void *opaque, int fd);
	void (*unwatch)(void *opaque, int fd);
	/* The clock for idle connections (ns, only differences matter), and a
	 * one-shot alarm on it: call qmp_server_expire() once the clock reaches
	 * deadline_ns (RTC_NO_DEADLINE: cancel).  Either NULL: nobody is
	 * dropped for being idle. */
	uint64_t (*now_ns)(void *opaque);
	void (*arm_alarm)(void *opaque, uint64_t deadline_ns);
	void *opaque;
};

struct qmp_server_config {
	const struct dm_ops *ops;
	void *opaque;
	struct qmp_server_hooks hooks;
	uint64_t idle_timeout_ns;                  /* 0: never close an idle client */
	unsigned vcpus;                            /* query-cpus-fast: one entry each */
	const struct qmp_chardev_info *chardevs;   /* must outlive the server */
	size_t n_chardevs;
};

/* One of rtcdm's own commands (rtcdm-set-time-offset, rtcdm-query-time-offset)
 * run outside a server, on ops: companion mode answers them for libxl's
 * monitors, which QEMU serves.  The reply ({"return": ...} or {"error":
 * ...}, without an id), or NULL when name is not one of them. */
struct json_object *qmp_rtcdm_command(const struct dm_ops *ops, void *opaque, const char *name,
                                      struct json_object *args);

/* NULL with a reason in err on failure. */
struct qmp_server *qmp_server_new(const struct qmp_server_config *cfg, char *err, size_t errlen);
/* Close every client, listener and fdset; unlink the socket paths the server
 * created (when they still are our sockets).  NULL is fine.  Not from within
 * a dm_ops callback. */
void qmp_server_free(struct qmp_server *s);

/* Create a unix socket at path and listen on it.  A stale socket at path is
 * removed first; anything else there (a file, a directory) is refused, as
 * are a path longer than a sockaddr_un can hold and a missing parent
 * directory.  0, or -1 with a one-line reason in err (nothing changed). */
int qmp_server_listen_path(struct qmp_server *s, const char *path, char *err, size_t errlen);
/* Use an inherited descriptor that must be a listening unix stream socket;
 * the server owns it from now on (also on failure it is left open: the
 * caller closes it).  Made non-blocking and close-on-exec. */
int qmp_server_listen_fd(struct qmp_server *s, int fd, char *err, size_t errlen);
/* Serve an already connected stream socket (owned from now on); the
 * greeting is sent at once.  Fails when QMP_MAX_CLIENTS are connected. */
int qmp_server_add_client(struct qmp_server *s, int fd, char *err, size_t errlen);

/* fd (one handed to hooks.watch) is ready with revents (POLLIN, POLLOUT,
 * POLLHUP, POLLERR): accept, read and answer, write what is pending, close
 * finished clients.  Unknown fds are ignored. */
void qmp_server_handle(struct qmp_server *s, int fd, short revents);
/* The alarm rang: close the connections idle for too long, re-arm. */
void qmp_server_expire(struct qmp_server *s);
/* One non-blocking try to send what clients still wait for (at exit). */
void qmp_server_flush(struct qmp_server *s);

/* Send an event {"timestamp":{"seconds","microseconds"},"event":name[,"data"]}
 * to every client past capabilities negotiation.  data (may be NULL) is
 * consumed.  The server itself sends STOP and RESUME when its stop/cont
 * commands change the run state; the process sends the others (e.g.
 * RTC_CHANGE {"offset": N}). */
void qmp_server_event(struct qmp_server *s, const char *name, struct json_object *data);

/* Connected clients (tests, diagnostics). */
size_t qmp_server_clients(const struct qmp_server *s);

#endif
