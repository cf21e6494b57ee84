/* qemu_child.c — qemu-xen as rtcdm's child (see qemu_child.h). */
#include "dm/qemu_child.h"
#include "dm/cli.h"
#include "dm/exit_status.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- the argument list ------------------------------------------------------------ */

/* The id= of a -chardev value, or NULL (len in *len). */
static const char *chardev_id(const char *v, size_t *len)
{
	for (const char *p = v; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, "id=", 3) == 0) {
			*len = strcspn(p + 3, ",");
			return p + 3;
		}
	return NULL;
}

static const char *swapped(const char *v, const struct dm_qemu_swap *swaps, size_t n)
{
	size_t len;
	const char *id = chardev_id(v, &len);

	for (size_t i = 0; id && i < n; i++)
		if (strlen(swaps[i].id) == len && strncmp(swaps[i].id, id, len) == 0)
			return swaps[i].value;
	return v;
}

int dm_qemu_argv_build(struct dm_qemu_argv *out, const char *qemu, int argc,
                       char *const argv[], int mon_fd, int state_fd, bool hold,
                       const struct dm_qemu_swap *swaps, size_t n_swaps)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	/* program + argv[1..] + 7 of ours + NULL */
	out->argv = calloc((size_t)(argc > 0 ? argc : 1) + 8, sizeof(char *));
	if (!out->argv)
		return -ENOMEM;
	snprintf(out->chardev, sizeof(out->chardev),
	         "socket,id=" DM_QEMU_MON_ID ",fd=%d,server=on,wait=off", mon_fd);
	out->argv[n++] = (char *)qemu;
	for (int i = 1; i < argc; i++) {
		bool own;
		int words = dm_cli_option_words(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &own);

		if (!own) {
			out->argv[n++] = argv[i];
			if (words == 2)
				out->argv[n++] = strcmp(argv[i], "-chardev") == 0
				                         ? (char *)swapped(argv[i + 1], swaps, n_swaps)
				                         : argv[i + 1];
		}
		i += words - 1;
	}
	out->argv[n++] = (char *)"-chardev";
	out->argv[n++] = out->chardev;
	out->argv[n++] = (char *)"-mon";
	out->argv[n++] = (char *)"chardev=" DM_QEMU_MON_ID ",mode=control";
	if (state_fd >= 0) {
		snprintf(out->add_fd, sizeof(out->add_fd), "fd=%d,set=%d", state_fd,
		         DM_QEMU_STATE_FDSET);
		out->argv[n++] = (char *)"-add-fd";
		out->argv[n++] = out->add_fd;
	}
	if (hold)
		out->argv[n++] = (char *)"-S";
	out->argv[n] = NULL;
	out->argc = n;
	return 0;
}

void dm_qemu_argv_free(struct dm_qemu_argv *a)
{
	free(a->argv);
	a->argv = NULL;
	a->argc = 0;
}

/* ---- exit status ---------------------------------------------------------------- */

static void describe(char *buf, size_t len, int status)
{
	if (status > 128 && status < 128 + NSIG && sigabbrev_np(status - 128))
		snprintf(buf, len, "killed by SIG%s", sigabbrev_np(status - 128));
	else
		snprintf(buf, len, "status %d", status);
}

static void unwatch(struct dm_qemu_child *c, int *fd)
{
	if (*fd < 0)
		return;
	dm_loop_del_fd(c->loop, *fd);
	close(*fd);
	*fd = -1;
}

static void on_exit_fd(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct dm_qemu_child *c = opaque;
	char what[64];
	int st;
	pid_t r;

	(void)fd;
	(void)events;
	r = waitpid(c->pid, &st, WNOHANG);
	if (r == 0 || (r < 0 && errno == EINTR))
		return;
	c->exited = true;
	c->exit_status = r < 0 ? 1 : dm_exit_status(st);
	c->pid = -1;
	unwatch(c, &c->pidfd);
	describe(what, sizeof(what), c->exit_status);
	if (c->phase != DM_QEMU_READY) {
		dm_err(c->log, "QEMU %s ended before it was ready (%s)", c->program, what);
		dm_loop_stop(loop, c->exit_status ? c->exit_status : 1);
		return;
	}
	dm_info(c->log, "QEMU ended (%s), exiting with its status", what);
	dm_loop_stop(loop, c->exit_status);
}

static void on_signal(struct dm_loop *loop, int signo, void *opaque)
{
	struct dm_qemu_child *c = opaque;

	(void)loop;
	if (c->pid < 0)
		return;
	dm_info(c->log, "passing SIG%s on to QEMU (pid %d)", sigabbrev_np(signo), (int)c->pid);
	c->signalled = true;
	kill(c->pid, signo);
}

/* ---- rtcdm's monitor ------------------------------------------------------------------ */

/* Give up on the monitor: QEMU is asked to end, its exit ends rtcdm. */
static void monitor_failed(struct dm_qemu_child *c, const char *why)
{
	dm_err(c->log, "rtcdm's QMP monitor on QEMU: %s; stopping QEMU", why);
	unwatch(c, &c->mon_fd);
	if (c->pid > 0)
		kill(c->pid, SIGTERM);
}

/* One message from QEMU. 0, or -1 after monitor_failed(). */
static int monitor_message(struct dm_qemu_child *c, struct json_object *msg)
{
	struct json_object *v, *ret;

	if (json_object_object_get_ex(msg, "event", &v)) {
		dm_debug(c->log, "QEMU event %s", json_object_get_string(v));
		return 0;
	}
	switch (c->phase) {
	case DM_QEMU_GREETING:
		if (!json_object_object_get_ex(msg, "QMP", &v)) {
			monitor_failed(c, "no greeting");
			return -1;
		}
		if (json_object_object_get_ex(v, "version", &v) &&
		    json_object_object_get_ex(v, "qemu", &v)) {
			struct json_object *ma = json_object_object_get(v, "major");
			struct json_object *mi = json_object_object_get(v, "minor");
			struct json_object *mc = json_object_object_get(v, "micro");

			snprintf(c->version, sizeof(c->version), "%d.%d.%d", json_object_get_int(ma),
			         json_object_get_int(mi), json_object_get_int(mc));
		}
		if (qmp_client_send(&c->qmp, "{\"execute\":\"qmp_capabilities\"}") < 0) {
			monitor_failed(c, "cannot send qmp_capabilities");
			return -1;
		}
		c->phase = DM_QEMU_CAPS;
		return 0;
	case DM_QEMU_CAPS:
		if (!json_object_object_get_ex(msg, "return", &ret)) {
			char why[160];

			json_object_object_get_ex(msg, "error", &v);
			snprintf(why, sizeof(why), "qmp_capabilities refused: %s",
			         v ? json_object_to_json_string(v) : "no return");
			monitor_failed(c, why);
			return -1;
		}
		snprintf(c->status, sizeof(c->status), "%s", c->incoming ? "inmigrate" : "prelaunch");
		c->phase = DM_QEMU_READY;
		dm_info(c->log, "QEMU %s ready (pid %d, status %s)", c->version, (int)c->pid,
		        c->status);
		if (c->on_ready)
			c->on_ready(c->ready_opaque);
		return 0;
	case DM_QEMU_READY:
		if (c->ask_cb) {
			void (*cb)(void *, struct json_object *) = c->ask_cb;

			c->ask_cb = NULL;
			cb(c->ask_opaque, msg);
		}
		return 0;
	}
	return 0;
}

int dm_qemu_child_ask(struct dm_qemu_child *c, const char *json,
                      void (*cb)(void *opaque, struct json_object *reply), void *opaque)
{
	if (c->phase != DM_QEMU_READY || c->ask_cb || c->mon_fd < 0 ||
	    qmp_client_send(&c->qmp, json) < 0)
		return -1;
	c->ask_cb = cb;
	c->ask_opaque = opaque;
	return 0;
}

bool dm_qemu_child_ending(const struct dm_qemu_child *c)
{
	return c->signalled || c->mon_fd < 0 || c->exited;
}

static void on_monitor(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct dm_qemu_child *c = opaque;
	struct json_object *msg;
	char err[160];
	int more;

	(void)loop;
	(void)fd;
	(void)events;
	more = qmp_client_fill(&c->qmp);
	while ((msg = qmp_client_next(&c->qmp, err, sizeof(err)))) {
		int rc = monitor_message(c, msg);

		json_object_put(msg);
		if (rc < 0)
			return;
	}
	if (err[0]) {
		monitor_failed(c, err);
		return;
	}
	if (more <= 0) {
		/* QEMU is ending (or closed the monitor): its exit says the rest. */
		if (c->phase != DM_QEMU_READY)
			dm_debug(c->log, "QEMU closed rtcdm's monitor before it was ready");
		unwatch(c, &c->mon_fd);
	}
}

/* ---- start and stop ---------------------------------------------------------------------- */

/* A listening socket at c->mon_path (inherited by the child) and rtcdm's
 * connection to it.  Returns the listening fd, or -1 with err. */
static int make_monitor(struct dm_qemu_child *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd;

	if (strlen(c->mon_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "companion: monitor path %s is too long", c->mon_path);
		return -1;
	}
	memcpy(sa.sun_path, c->mon_path, strlen(c->mon_path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0); /* no CLOEXEC: QEMU inherits it */
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		snprintf(err, errlen, "companion: monitor socket %s: %s", c->mon_path,
		         strerror(errno));
		goto fail;
	}
	c->mon_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->mon_fd < 0 || connect(c->mon_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "companion: connecting to %s: %s", c->mon_path,
		         strerror(errno));
		goto fail;
	}
	return lfd;
fail:
	if (lfd >= 0)
		close(lfd);
	return -1;
}

/* QEMU's process: vfork and exec, with the signals rtcdm ignores
 * (SIGPIPE, SIGXFSZ: an ignored signal stays ignored across exec) and
 * those it takes from its signalfd back to their default, and no signal
 * blocked.  rtcdm installs no signal handler, so nothing else needs
 * resetting: posix_spawn() would ask the kernel about every one of the 64
 * signals in the child first, which in a PV dom0 costs each domain's start
 * a few ms.  The child only calls signal(), sigprocmask() and execve();
 * a failed exec leaves its errno in exec_errno (the memory is shared until
 * the exec) and ends the child with 127.  0 or -1 with err. */
static int spawn(struct dm_qemu_child *c, const struct dm_qemu_argv *a, char *err,
                 size_t errlen)
{
	static const int defaults[] = {SIGPIPE, SIGXFSZ, SIGTERM, SIGINT, SIGHUP};
	volatile int exec_errno = 0;
	sigset_t none;
	pid_t pid;

	sigemptyset(&none);
	pid = vfork();
	if (pid == 0) {
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			signal(defaults[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(c->program, a->argv, environ);
		exec_errno = errno;
		_exit(127);
	}
	if (pid < 0 || exec_errno) {
		int e = pid < 0 ? errno : exec_errno;

		if (pid > 0)
			waitpid(pid, NULL, 0);
		c->pid = -1;
		snprintf(err, errlen, "cannot start QEMU %s: %s", c->program, strerror(e));
		return -1;
	}
	c->pid = pid;
	return 0;
}

/* path to the run-as user (-runas), or nothing.  0 or -1 with err. */
static int give(struct dm_qemu_child *c, const char *path, char *err, size_t errlen)
{
	if (!c->have_owner || chown(path, c->owner.uid, c->owner.gid) == 0)
		return 0;
	snprintf(err, errlen, "companion: cannot give %s to the -runas user: %s", path,
	         strerror(errno));
	return -1;
}

/* Every file in dir (rtcdm's private directory: its sockets, and a device
 * state QEMU was writing when it was stopped), then dir itself. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(dir);
}

/* CHROOT/rtcdm-qemu, made afresh (what an earlier run left is removed). */
static int make_dir_in_root(struct dm_qemu_child *c, char *err, size_t errlen)
{
	if (snprintf(c->dir, sizeof(c->dir), "%s/rtcdm-qemu", c->root) >= (int)sizeof(c->dir)) {
		snprintf(err, errlen, "companion: -chroot %s is too long a path", c->root);
		c->dir[0] = '\0';
		return -1;
	}
	remove_dir(c->dir);
	if (mkdir(c->dir, 0700) < 0) {
		snprintf(err, errlen, "companion: cannot create %s: %s", c->dir, strerror(errno));
		c->dir[0] = '\0';
		return -1;
	}
	return 0;
}

/* The memory file for QEMU's device state: QEMU needs no path it can
 * open, which under dm_restrict (its chroot of mode 0000, -runas) it could
 * not.  QEMU matches an fdset's descriptor to the access mode it opens
 * with (write-only), so it inherits the file opened again write-only.
 * Without it, QEMU's CMOS is read byte by byte (the caller's choice). */
static void make_state_file(struct dm_qemu_child *c)
{
	char self[64];

	c->state_fd = memfd_create("rtcdm-qemu-state", MFD_CLOEXEC);
	if (c->state_fd >= 0) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", c->state_fd);
		c->state_wfd = open(self, O_WRONLY); /* no CLOEXEC: QEMU inherits it */
	}
	if (c->state_wfd >= 0)
		return;
	dm_warn(c->log, "companion: no memory file for QEMU's device state: %s", strerror(errno));
	if (c->state_fd >= 0)
		close(c->state_fd);
	c->state_fd = -1;
}

int dm_qemu_child_prepare(struct dm_qemu_child *c, struct dm_loop *loop,
                          const struct dm_log *log, const char *chroot_dir,
                          const struct dm_runas *owner, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");

	memset(c, 0, offsetof(struct dm_qemu_child, program));
	c->program[0] = c->dir[0] = c->mon_path[0] = c->root[0] = '\0';
	qmp_client_init(&c->qmp, -1);
	c->loop = loop;
	c->log = log;
	c->pid = -1;
	c->pidfd = -1;
	c->mon_fd = -1;
	c->mon_lfd = -1;
	c->state_fd = c->state_wfd = -1;
	c->dir_fd = -1;
	if (owner) {
		c->owner = *owner;
		c->have_owner = true;
	}
	if (chroot_dir) {
		size_t n = strlen(chroot_dir);

		while (n > 1 && chroot_dir[n - 1] == '/')
			n--;
		if (n >= sizeof(c->root)) {
			snprintf(err, errlen, "companion: -chroot path too long");
			return -1;
		}
		memcpy(c->root, chroot_dir, n);
		c->root[n] = '\0';
		if (make_dir_in_root(c, err, errlen) < 0)
			return -1;
		c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (c->dir_fd < 0) {
			snprintf(err, errlen, "companion: cannot open %s: %s", c->dir, strerror(errno));
			return -1;
		}
	} else {
		if (!tmp || !*tmp)
			tmp = "/tmp";
		snprintf(c->dir, sizeof(c->dir), "%s/rtcdm-qemu.XXXXXX", tmp);
		if (!mkdtemp(c->dir)) {
			snprintf(err, errlen, "companion: cannot create a directory in %s: %s", tmp,
			         strerror(errno));
			c->dir[0] = '\0';
			return -1;
		}
	}
	if (give(c, c->dir, err, errlen) < 0)
		return -1;
	if (snprintf(c->mon_path, sizeof(c->mon_path), "%s/%s.sock", c->dir, DM_QEMU_MON_ID) >=
	    (int)sizeof(c->mon_path)) {
		snprintf(err, errlen, "companion: %s is too long a directory", c->dir);
		return -1;
	}
	c->mon_lfd = make_monitor(c, err, errlen);
	if (c->mon_lfd >= 0 && give(c, c->mon_path, err, errlen) < 0)
		return -1;
	if (c->mon_lfd < 0)
		return -1;
	make_state_file(c);
	return 0;
}

void dm_qemu_child_entered_root(struct dm_qemu_child *c)
{
	if (!c->root[0] || c->in_root || c->dir_fd < 0)
		return;
	if (fchdir(c->dir_fd) < 0) {
		dm_warn(c->log, "companion: cannot enter %s: %s", c->dir, strerror(errno));
		return;
	}
	snprintf(c->dir, sizeof(c->dir), ".");
	snprintf(c->mon_path, sizeof(c->mon_path), "%s.sock", DM_QEMU_MON_ID);
	c->in_root = true;
}

int dm_qemu_child_add_monitor(struct dm_qemu_child *c, const char *id, char *path,
                              size_t pathlen, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct dm_qemu_swap *sw = &c->swaps[c->n_swaps];
	int fd;

	if (c->n_swaps == DM_QEMU_MAX_SWAPS || strlen(id) >= sizeof(sw->id)) {
		snprintf(err, errlen, "companion: cannot relay monitor '%s'", id);
		return -1;
	}
	if (snprintf(path, pathlen, "%s/%s.sock", c->dir, id) >= (int)pathlen ||
	    strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "companion: monitor path for '%s' is too long", id);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0); /* no CLOEXEC: QEMU inherits it */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "companion: monitor socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(sw->id, sizeof(sw->id), "%s", id);
	snprintf(sw->value, sizeof(sw->value), "socket,id=%s,fd=%d,server=on,wait=off", id, fd);
	c->swap_fds[c->n_swaps++] = fd;
	if (give(c, path, err, errlen) < 0)
		return -1;
	if (c->root[0])
		snprintf(path, pathlen, "%s.sock", id);
	return 0;
}

static void close_inherited(struct dm_qemu_child *c)
{
	if (c->mon_lfd >= 0)
		close(c->mon_lfd);
	c->mon_lfd = -1;
	if (c->state_wfd >= 0)
		close(c->state_wfd);
	c->state_wfd = -1;
	for (size_t i = 0; i < c->n_swaps; i++)
		if (c->swap_fds[i] >= 0)
			close(c->swap_fds[i]);
	for (size_t i = 0; i < c->n_swaps; i++)
		c->swap_fds[i] = -1;
}

int dm_qemu_child_spawn(struct dm_qemu_child *c, const char *qemu, int argc, char *const argv[],
                        char *err, size_t errlen)
{
	struct dm_qemu_argv a = {0};

	snprintf(c->program, sizeof(c->program), "%s", qemu);
	if (dm_qemu_argv_build(&a, qemu, argc, argv, c->mon_lfd, c->state_wfd, c->hold, c->swaps,
	                       c->n_swaps) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (spawn(c, &a, err, errlen) < 0) {
		dm_qemu_argv_free(&a);
		return -1;
	}
	dm_qemu_argv_free(&a);
	close_inherited(c);
	c->pidfd = pidfd_open(c->pid, 0);
	if (c->pidfd < 0 || dm_loop_add_fd(c->loop, c->pidfd, EPOLLIN, on_exit_fd, c) < 0) {
		snprintf(err, errlen, "companion: cannot watch QEMU (pid %d): %s", (int)c->pid,
		         strerror(errno));
		if (c->pidfd >= 0)
			close(c->pidfd);
		c->pidfd = -1;
		return -1;
	}
	qmp_client_init(&c->qmp, c->mon_fd);
	if (dm_loop_add_fd(c->loop, c->mon_fd, EPOLLIN, on_monitor, c) < 0) {
		snprintf(err, errlen, "companion: cannot watch rtcdm's monitor");
		return -1;
	}
	dm_loop_set_signal_handler(c->loop, on_signal, c);
	dm_info(c->log, "started QEMU %s (pid %d)", c->program, (int)c->pid);
	dm_debug_cpu(c->log, "QEMU started");
	return 0;
}

void dm_qemu_child_fini(struct dm_qemu_child *c)
{
	if (!c->loop)
		return; /* never prepared */
	unwatch(c, &c->pidfd);
	unwatch(c, &c->mon_fd);
	close_inherited(c);
	if (c->state_fd >= 0)
		close(c->state_fd);
	c->state_fd = -1;
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = -1;
	}
	if (c->mon_path[0])
		unlink(c->mon_path);
	for (size_t i = 0; i < c->n_swaps; i++) {
		char path[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/%s.sock", c->dir, c->swaps[i].id) <
		    (int)sizeof(path))
			unlink(path);
	}
	c->n_swaps = 0;
	if (c->dir[0] && !c->in_root)
		remove_dir(c->dir);
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	c->dir_fd = -1;
	c->mon_path[0] = c->dir[0] = '\0';
}
