/*
 * support.h — helpers shared by the unit and integration tests.
 *
 *  - processes: start a built program ($RTCDM_BUILD/NAME) with its stderr
 *    captured, wait for it with a timeout, send signals;
 *  - a qtest client: listen on a UNIX socket, start rtcdm on the sim
 *    platform connected to it, send commands and track the IRQ lines from
 *    the asynchronous "IRQ raise/lower N" lines;
 *  - the simulated shared_info page: read the PV wallclock from the file
 *    with the guest's seqlock protocol;
 *  - UNIX sockets and a QMP client as a toolstack speaks it (CRLF lines,
 *    capabilities negotiation, a descriptor passed with SCM_RIGHTS);
 *  - a store (xs.h) read and its watch events collected as text.
 * Only the store helpers need librtcdm; nothing here needs CUnit, so the
 * demo links the files it uses.
 * Every wait has a timeout; nothing here sleeps for a fixed time.
 */
#ifndef RTCDM_TESTS_SUPPORT_H
#define RTCDM_TESTS_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "platform/shinfo.h"

#define SUPPORT_TIMEOUT_MS 5000

/* ---- processes ---------------------------------------------------------------------- */

struct support_proc {
	pid_t pid;     /* -1 when not running */
	int err_fd;    /* read end of the child's stderr, or -1 */
	char err[32768]; /* stderr captured so far, NUL-terminated */
	size_t err_len;
	int status;    /* after support_wait: exit status, or 128 + signal */
	bool reaped;
};

/* $RTCDM_BUILD, or "build" when unset. */
const char *support_build_dir(void);

/*
 * Start $RTCDM_BUILD/prog with args (NULL-terminated, without argv[0]).
 * stdin and stdout are /dev/null, stderr is captured.  keep_fds (n_keep
 * entries, may be NULL) stay open in the child under the same numbers.
 * The child starts with no blocked signals.  0 or -1.
 */
int support_spawn(struct support_proc *p, const char *prog, const char *const args[],
                  const int *keep_fds, size_t n_keep);

/* Wait up to timeout_ms for the process to exit.  Returns its exit status
 * (128 + signal number if killed), or -1 on timeout (the process is left
 * running). */
int support_wait(struct support_proc *p, int timeout_ms);

/* Send a signal (no-op when already reaped). */
void support_signal(struct support_proc *p, int sig);

/* Read whatever the child wrote to stderr so far; returns p->err. */
const char *support_stderr(struct support_proc *p);

/* Wait up to timeout_ms until needle appears in the child's stderr. */
bool support_stderr_wait(struct support_proc *p, const char *needle, int timeout_ms);

/* Kill (SIGKILL) if still running, reap, close descriptors. */
void support_proc_cleanup(struct support_proc *p);

/* A numeric field of /proc/PID/status ("VmHWM", "voluntary_ctxt_switches";
 * name without the colon, matched whole), or -1. */
long support_proc_status(pid_t pid, const char *field);

/* Run a program to completion (timeout_ms) and return its exit status
 * (-1 on timeout: then it is killed).  Its stderr is left in p->err. */
int support_run(struct support_proc *p, const char *prog, const char *const args[],
                int timeout_ms);

/* Run $RTCDM_BUILD/prog with args (NULL-terminated, without argv[0]) and
 * its stdout (and stderr, with_stderr) into out, NUL-terminated; the child
 * is killed after timeout_ms.  Its exit status (128 + signal number if
 * killed), or -1 (a missing program is named in out). */
int support_capture(const char *prog, const char *const args[], bool with_stderr,
                    int timeout_ms, char *out, size_t len);

/* ---- temporary directories ------------------------------------------------------------ */

/* Create /tmp/rtcdm-test-XXXXXX; the path goes to buf.  0 or -1. */
int support_tmpdir(char *buf, size_t len);
/* rm -rf dir (symbolic links are removed, not followed). */
void support_rmtree(const char *dir);

/* ---- qtest client ----------------------------------------------------------------------- */

struct qtest {
	struct support_proc proc;
	char dir[64];
	char sock_path[108];
	char shinfo_path[128];
	int listen_fd;
	int fd;          /* connection from rtcdm, or -1 */
	char in[8192];   /* received, not yet consumed */
	size_t in_len;
	char reply[4096]; /* last reply line, without newline */
	int irq[16];     /* levels as reported by IRQ lines (after irq_intercept_in) */
	unsigned irq_raises[16];
	bool broken;     /* a timeout or EOF happened */
};

/* An idle client: no process, no sockets (for qtest_spawn). */
void qtest_init(struct qtest *q);

/*
 * Listen on sock (removed first; its path is kept in q->sock_path), start
 *   rtcdm --platform sim -qtest unix:SOCK -qtest-log /dev/null [args...]
 * with keep_fds (n_keep entries, may be NULL) inherited, accept its
 * connection and intercept IRQs.  q comes from qtest_init(), q->dir may
 * already name a directory for qtest_quit() to remove.  0, or -1 with what
 * was started left for qtest_quit().
 */
int qtest_spawn(struct qtest *q, const char *sock, const char *const args[],
                const int *keep_fds, size_t n_keep);

/*
 * In a fresh temporary directory, qtest_spawn() with
 *   --sim-shared-info FILE --sim-wallclock WALLCLOCK [extra...]
 * wallclock is "UNIX_SECONDS[.FRACTION]".  0 or -1 (then everything is
 * cleaned up and the reason printed).
 */
int qtest_start(struct qtest *q, const char *wallclock, const char *const extra[]);

/* Close the connection and wait for rtcdm to exit; returns its exit status
 * (-1 on timeout).  Removes the temporary directory. */
int qtest_quit(struct qtest *q);

/* Send one line (printf format, newline added) and return the reply line
 * (IRQ lines before it are consumed and tracked), or NULL on timeout/EOF.
 * The reply stays valid until the next command. */
const char *qtest_cmd(struct qtest *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Send raw bytes (may contain several lines or partial ones). 0 or -1. */
int qtest_send_raw(struct qtest *q, const char *buf, size_t len);
/* Read one reply line (tracking IRQ lines first).  NULL on timeout/EOF. */
const char *qtest_read_reply(struct qtest *q);

/* Typed commands; on an unexpected reply they return all-ones and mark the
 * client broken (check q->broken). */
void qtest_outb(struct qtest *q, uint16_t port, uint8_t val);
uint8_t qtest_inb(struct qtest *q, uint16_t port);
uint16_t qtest_inw(struct qtest *q, uint16_t port);
uint32_t qtest_inl(struct qtest *q, uint16_t port);
/* clock_step NS / clock_step (to the next deadline) / clock_set NS:
 * the new clock value, or UINT64_MAX on FAIL or error. */
uint64_t qtest_clock_step(struct qtest *q, uint64_t ns);
uint64_t qtest_clock_step_next(struct qtest *q);
uint64_t qtest_clock_set(struct qtest *q, uint64_t ns);
bool qtest_get_irq(const struct qtest *q, unsigned irq);

/* CMOS through ports 0x70/0x71. */
uint8_t cmos_read(struct qtest *q, uint8_t index);
void cmos_write(struct qtest *q, uint8_t index, uint8_t val);

/* ---- shared_info -------------------------------------------------------------------------- */

/* Read the PV wallclock from a shared_info file as a guest does
 * (dm_shinfo_read_wallclock on the mapped file).  0 or -1. */
int shinfo_read(const char *path, struct dm_shinfo_wallclock *wc);

/* ---- UNIX sockets and QMP (support_qmp.c) ------------------------------------------------- */

/* Connect to a UNIX stream socket.  fd or -1. */
int support_unix_connect(const char *path);
/* Bind and listen on a UNIX stream socket at path.  fd or -1. */
int support_unix_listen(const char *path, int backlog);
/* One CRLF-terminated line from fd into buf (NUL-terminated, CRLF kept).
 * false on timeout, EOF or a line longer than len - 1. */
bool support_read_line(int fd, char *buf, size_t len, int timeout_ms);
/* Send msg, with pass_fd (>= 0) attached as SCM_RIGHTS.  0 or -1. */
int support_send_fd(int fd, const char *msg, int pass_fd);
/* Send msg with fds[0..n-1] attached (at most 8), as libxl does.  0 or -1. */
int support_send_fds(int fd, const char *msg, const int *fds, size_t n);
/* Connect, read the greeting, negotiate capabilities (id 0).  fd or -1. */
int support_qmp_open(const char *path);
/* Send one command; its reply (CRLF kept, events skipped) goes to buf, or
 * "<no connection>" / "<no reply>".  Returns buf. */
const char *support_qmp_cmd(int fd, const char *msg, int pass_fd, char *buf, size_t len);
/* libxl's way: a fresh connection for one command. */
const char *support_qmp_once(const char *path, const char *msg, char *buf, size_t len);

/* ---- a store and its watch events (support_store.c) ------------------------------------- */

struct store;

/* The value at path into out, or "<ENOENT>", "<EINVAL>", "<?>".  Returns out. */
const char *support_store_val(struct store *s, const char *path, char *out, size_t size);

struct support_events {
	char text[4096]; /* "path|token;" for each event */
};
/* Dispatch the pending events into e->text.  Returns e->text. */
const char *support_store_drain(struct store *s, struct support_events *e);
/* Does store_fd() become readable within timeout_ms? */
bool support_store_readable(struct store *s, int timeout_ms);

/* A watch callback that writes value at path on its first call only. */
struct support_write_once {
	struct store *s;
	const char *path, *value;
	int calls;
};
void support_store_write_once(void *arg, const char *path, const char *token);

/* ---- byte buffers (support_bytes.c): synthetic images for the save-format tests ---- */

/* A growing buffer; start from {0}, release with support_bytes_free(). */
struct support_bytes {
	uint8_t *b;
	size_t n, cap;
};
void support_bytes_put(struct support_bytes *o, const void *p, size_t n);
void support_bytes_le32(struct support_bytes *o, uint32_t v);
void support_bytes_be32(struct support_bytes *o, uint32_t v);
void support_bytes_zeros(struct support_bytes *o, size_t n);
/* A libxl/libxc stream record: u32 type, u32 length, body, zero padding to 8. */
void support_bytes_rec(struct support_bytes *o, uint32_t type, const void *body, size_t len);
void support_bytes_free(struct support_bytes *o);

#endif
