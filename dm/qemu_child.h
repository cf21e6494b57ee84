/*
 * qemu_child.h — companion mode: rtcdm runs qemu-xen as its child
 * (docs/design.md, "Companion mode").
 *
 * The child gets libxl's argument list without rtcdm's own options
 * (dm_cli_option_words) and, at its end, a QMP monitor for rtcdm:
 *   -chardev socket,id=rtcdm-qmp,fd=N,server=on,wait=off
 *   -mon chardev=rtcdm-qmp,mode=control
 * where N is a listening socket rtcdm created in a private directory
 * ($TMPDIR or /tmp, rtcdm-qemu.XXXXXX, mode 0700) and is already connected
 * to, so there is no start-up race.  With -chroot the directory is
 * CHROOT/rtcdm-qemu instead (one per domain: a stale one is removed), so
 * that rtcdm still reaches QEMU's monitors after its own chroot (it makes
 * the directory its working directory: libxl makes the chroot itself mode
 * 0000, so nothing is reached through it); with -runas the directory and
 * its sockets belong to the run-as user.  Its stdin, stdout and stderr are
 * rtcdm's (libxl's log gets QEMU's messages), as are the descriptors libxl
 * handed over (-incoming fd:N, a pre-opened QMP socket); its signal mask is
 * empty and SIGPIPE, SIGXFSZ, SIGTERM, SIGINT and SIGHUP are at their
 * defaults.
 *
 * Everything runs in the event loop: the child's end is seen through a
 * pidfd, the monitor is read when readable.  On the monitor rtcdm waits for
 * the greeting and sends qmp_capabilities; the answer makes QEMU "ready"
 * (logged with QEMU's version and run state) and calls on_ready, if set.
 * QEMU answers commands from its main loop only, so it has built its
 * machine by then (its ioreq server exists, its CMOS holds the
 * configuration bytes).  Its run state is the one rtcdm started it in,
 * with no question asked: "inmigrate" with -incoming, else "prelaunch"
 * (-S, libxl's or rtcdm's own: hold).
 * SIGTERM, SIGINT and SIGHUP that reach rtcdm are passed on to QEMU; when
 * QEMU ends, the loop stops with QEMU's exit status (128 + N after signal
 * N).  QEMU that cannot be started, or ends before it is ready, is one
 * error line, and the status is never 0 then.
 */
#ifndef RTCDM_DM_QEMU_CHILD_H
#define RTCDM_DM_QEMU_CHILD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/log.h"
#include "base/loop.h"
#include "dm/privs.h"
#include "toolstack/qmp/client.h"

struct json_object;

#define DM_QEMU_MON_ID "rtcdm-qmp"
#define DM_QEMU_MAX_SWAPS 4

/* A -chardev of libxl's that QEMU gets in another form: the value of the
 * -chardev whose id= is `id` becomes `value`. */
struct dm_qemu_swap {
	char id[64];
	char value[128];
};

/* The child's argument list: argv[0] = the program. */
struct dm_qemu_argv {
	char **argv;        /* NULL-terminated; strings borrowed or in chardev/ */
	size_t argc;
	char chardev[64];   /* "socket,id=rtcdm-qmp,fd=N,server=on,wait=off" */
	char add_fd[64];    /* "fd=N,set=S" */
};

/* The fdset QEMU is given at start for its device state (-add-fd): an id
 * libxl's own add-fd, which takes the lowest free one, does not reach. */
#define DM_QEMU_STATE_FDSET 127

/*
 * qemu, then argv[1..argc-1] without rtcdm's own options (and with the
 * -chardev values in swaps replaced), then rtcdm's monitor on descriptor
 * mon_fd, then (state_fd >= 0) "-add-fd fd=STATE_FD,set=DM_QEMU_STATE_FDSET",
 * then (hold) "-S".  0 or -ENOMEM.
 */
int dm_qemu_argv_build(struct dm_qemu_argv *out, const char *qemu, int argc,
                       char *const argv[], int mon_fd, int state_fd, bool hold,
                       const struct dm_qemu_swap *swaps, size_t n_swaps);
void dm_qemu_argv_free(struct dm_qemu_argv *a);

enum dm_qemu_phase {
	DM_QEMU_GREETING = 0, /* waiting for {"QMP": ...} */
	DM_QEMU_CAPS = 1,     /* qmp_capabilities sent */
	DM_QEMU_READY = 2,
};

struct dm_qemu_child {
	struct dm_loop *loop;
	const struct dm_log *log;
	int dir_fd;              /* with -chroot: dir, entered once in the chroot */
	bool in_root;            /* rtcdm is in the chroot: dir is seen from inside */
	bool have_owner;
	struct dm_runas owner;   /* -runas: owner of dir and its sockets */
	pid_t pid;               /* -1 when none or reaped */
	int pidfd;
	int mon_fd;
	enum dm_qemu_phase phase;
	char version[32];        /* "7.2.0" from the greeting */
	char status[32];         /* its run state at readiness (see above) */
	bool signalled;          /* a signal was passed on to QEMU */
	bool exited;
	int exit_status;         /* 0..255, or 128 + signal */
	int mon_lfd;             /* the listening socket QEMU inherits, until spawned */
	/* A memory file QEMU saves its device state into (fdset
	 * DM_QEMU_STATE_FDSET, "/dev/fdset/127"): rtcdm's descriptor, -1 when
	 * there is none; and the write-only one QEMU inherits, until spawned. */
	int state_fd;
	int state_wfd;
	/* Set before the spawn: QEMU starts with its machine stopped ("-S"
	 * added), for rtcdm to let it run ("cont") once rtcdm's RTC holds the
	 * ports (dm/companion.c). */
	bool hold;
	/* Set before the spawn: QEMU loads an incoming stream (-incoming). */
	bool incoming;
	struct dm_qemu_swap swaps[DM_QEMU_MAX_SWAPS];
	int swap_fds[DM_QEMU_MAX_SWAPS]; /* listening sockets QEMU inherits */
	size_t n_swaps;
	/* Called once when QEMU is ready; may stop the loop. */
	void (*on_ready)(void *opaque);
	void *ready_opaque;
	/* The command asked with dm_qemu_child_ask(), awaiting its reply. */
	void (*ask_cb)(void *opaque, struct json_object *reply);
	void *ask_opaque;
	/* The large buffers last (about 80 KiB): dm_qemu_child_prepare()
	 * clears the fields above and only the first bytes of these, so the
	 * pages of a calloc'ed block that are never used stay untouched. */
	char program[PATH_MAX];
	char dir[PATH_MAX];      /* private directory, "" when none */
	char mon_path[PATH_MAX]; /* rtcdm's monitor socket in dir */
	char root[PATH_MAX];     /* -chroot directory, "" when none */
	struct qmp_client qmp;
};

/*
 * The private directory and rtcdm's monitor socket.  0, or -1 with a
 * one-line reason in err (call dm_qemu_child_fini() either way).
 */
int dm_qemu_child_prepare(struct dm_qemu_child *c, struct dm_loop *loop,
                          const struct dm_log *log, const char *chroot_dir,
                          const struct dm_runas *owner, char *err, size_t errlen);

/* rtcdm has entered the chroot given to prepare (and left root): the
 * private directory becomes its working directory, reached through a
 * descriptor opened before. */
void dm_qemu_child_entered_root(struct dm_qemu_child *c);

/*
 * Give QEMU the monitor of chardev `id` on a listening socket of rtcdm's,
 * DIR/ID.sock (its path as rtcdm reaches it once it has left root into
 * path: with -chroot "ID.sock", in the working directory), instead of what
 * libxl gave: the
 * -chardev with that id becomes "socket,id=ID,fd=N,server=on,wait=off".
 * 0 or -1 with err.
 */
int dm_qemu_child_add_monitor(struct dm_qemu_child *c, const char *id, char *path,
                              size_t pathlen, char *err, size_t errlen);

/*
 * Start `qemu` with the list above and watch it in the loop; takes over the
 * loop's signal handling.  0, or -1 with a one-line reason in err.
 */
int dm_qemu_child_spawn(struct dm_qemu_child *c, const char *qemu, int argc, char *const argv[],
                        char *err, size_t errlen);

/*
 * Once QEMU is ready: send one command (JSON text) on rtcdm's monitor; cb
 * gets QEMU's reply (the message with "return" or "error"; events are not
 * replies) and may ask the next.  One command at a time.  0, or -1 (not
 * ready, one pending, or the monitor cannot take it).
 */
int dm_qemu_child_ask(struct dm_qemu_child *c, const char *json,
                      void (*cb)(void *opaque, struct json_object *reply), void *opaque);

/* QEMU is ending (a signal passed on to it, its monitor closed, or its
 * exit seen): what is not asked of it any more its exit answers, as it
 * ends rtcdm with its status. */
bool dm_qemu_child_ending(const struct dm_qemu_child *c);

/* Stop watching, close the monitor, remove the private directory; a child
 * still running (an error path of rtcdm) is killed and reaped.  A zeroed
 * struct (never prepared) is left alone. */
void dm_qemu_child_fini(struct dm_qemu_child *c);

#endif
