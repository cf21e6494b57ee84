/* companion.c — companion mode: QEMU as a child, libxl's QMP relayed. */
#include "dm/companion.h"
#include "dm/qemu_child.h"
#include "toolstack/qmp/proxy.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"

struct companion {
	const struct dm_log *log;
	struct dm_qemu_child child;
	struct qmp_proxy *proxy;
	char libxl_paths[DM_MAX_MONITORS][PATH_MAX]; /* sockets rtcdm created for libxl */
	size_t n_paths;
};

/* ---- hooks ------------------------------------------------------------------------------ */

/* Commands rtcdm will step in for.  Save is the one with a use today (its
 * reply is logged); restore and readiness go through the same points. */
static enum qmp_proxy_verdict on_command(void *opaque, const char *name,
                                         struct json_object *args)
{
	(void)opaque;
	(void)args;
	return strcmp(name, "xen-save-devices-state") == 0 ? QMP_PROXY_AFTER : QMP_PROXY_PASS;
}

static int on_reply(void *opaque, struct qmp_proxy *p, const char *name,
                    struct json_object *args, struct json_object *reply, char *err,
                    size_t errlen)
{
	struct companion *co = opaque;
	struct json_object *v;

	(void)p;
	(void)err;
	(void)errlen;
	if (!json_object_object_get_ex(reply, "return", NULL))
		return 0; /* QEMU's own error goes to libxl as it is */
	if (args && json_object_object_get_ex(args, "filename", &v))
		dm_info(co->log, "QEMU saved its device state (%s to %s)", name,
		        json_object_get_string(v));
	return 0;
}

/* ---- libxl's sockets ---------------------------------------------------------------------- */

/* A listening socket at path for libxl (a stale socket there is replaced;
 * only the owner may connect).  The fd, or -1 with err. */
static int listen_for_libxl(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "QMP socket %.200s: path too long", path);
		return -1;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "QMP socket %.200s: exists and is not a socket", path);
		return -1;
	}
	unlink(path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "QMP socket %.200s: %s", path, strerror(errno));
		return -1;
	}
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "QMP socket %.200s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Relay every control monitor libxl asked for. */
static int relay_monitors(struct companion *co, const struct dm_config *cfg, char *err,
                          size_t errlen)
{
	for (size_t i = 0; i < cfg->n_monitors; i++) {
		const struct dm_monitor *m = &cfg->monitors[i];
		const struct dm_chardev *cd = dm_config_chardev(cfg, m->chardev);
		char up[PATH_MAX];
		int lfd;

		if (!m->control || !cd || cd->backend != DM_CHARDEV_SOCKET || !cd->server)
			continue; /* QEMU serves it as libxl asked */
		if (dm_qemu_child_add_monitor(&co->child, cd->id, up, sizeof(up), err, errlen) < 0)
			return -1;
		if (cd->fd >= 0) {
			lfd = cd->fd;
		} else {
			lfd = listen_for_libxl(cd->path, err, errlen);
			if (lfd < 0)
				return -1;
			snprintf(co->libxl_paths[co->n_paths++], PATH_MAX, "%s", cd->path);
		}
		if (qmp_proxy_add_link(co->proxy, cd->id, lfd, up, err, errlen) < 0) {
			close(lfd);
			return -1;
		}
		dm_debug(co->log, "QMP %s relayed to QEMU at %s", cd->id, up);
	}
	return 0;
}

int dm_companion_run(struct dm_loop *loop, const struct dm_log *log,
                     const struct dm_config *cfg, int argc, char *const argv[])
{
	struct companion co = {.log = log};
	const struct qmp_proxy_hooks hooks = {
		.command = on_command,
		.reply = on_reply,
		.opaque = &co,
	};
	const char *qemu = cfg->qemu_path ? cfg->qemu_path : RTCDM_QEMU_PATH;
	char err[PATH_MAX + 256];
	int rc = 1;

	co.proxy = qmp_proxy_new(loop, log, &hooks);
	if (!co.proxy) {
		dm_err(log, "out of memory");
		return 1;
	}
	if (dm_qemu_child_prepare(&co.child, loop, log, err, sizeof(err)) < 0 ||
	    relay_monitors(&co, cfg, err, sizeof(err)) < 0 ||
	    dm_qemu_child_spawn(&co.child, qemu, argc, argv, err, sizeof(err)) < 0)
		dm_err(log, "%s", err);
	else
		rc = dm_loop_run(loop);
	qmp_proxy_free(co.proxy);
	dm_qemu_child_fini(&co.child);
	for (size_t i = 0; i < co.n_paths; i++)
		unlink(co.libxl_paths[i]);
	return rc;
}
