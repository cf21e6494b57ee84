/* toolstack.c — the xenstore device-model protocol (see toolstack.h). */
#include "toolstack/xenstore/protocol.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_COMMAND "rtcdm-command"
#define TOKEN_SETOFFSET "rtcdm-settimeoffset"
#define PATH_MAX_TS 256
#define DMP "/local/domain/0/device-model/%u"

struct toolstack {
	struct store *st;
	struct toolstack_config cfg;
	char dm[PATH_MAX_TS];        /* /local/domain/0/device-model/<domid> */
	char command[PATH_MAX_TS];
	char state[PATH_MAX_TS];
	char setoffset[PATH_MAX_TS];
	char offset_dm[PATH_MAX_TS];
	char offset_vm[PATH_MAX_TS]; /* empty when the UUID is unknown */
	char save_path[PATH_MAX_TS];
	bool published;
	int64_t last_published;
	bool watching_command, watching_setoffset;
	bool watch_lost; /* its watch events could not be read: given up */
};

#define ts_log(ts, ...) dm_logf((ts)->cfg.ops, (ts)->cfg.opaque, __VA_ARGS__)

/* A UUID as xenstore paths hold it: hex digits and dashes only. */
static bool uuid_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = u[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == '-'))
			return false;
	}
	return true;
}

struct toolstack *toolstack_new(struct store *st, const struct toolstack_config *cfg, char *err,
                                size_t errlen)
{
	if (!st || !cfg || !cfg->ops || !cfg->ops->run_state) {
		snprintf(err, errlen, "toolstack: no store or device-model operations given");
		return NULL;
	}
	if (cfg->uuid && !uuid_ok(cfg->uuid)) {
		snprintf(err, errlen, "toolstack: invalid domain UUID '%.64s'", cfg->uuid);
		return NULL;
	}
	if (cfg->save_path && (!cfg->save_path[0] || strlen(cfg->save_path) >= PATH_MAX_TS)) {
		snprintf(err, errlen, "toolstack: save path empty or too long");
		return NULL;
	}
	struct toolstack *ts = calloc(1, sizeof(*ts));
	if (!ts) {
		snprintf(err, errlen, "toolstack: out of memory");
		return NULL;
	}
	ts->st = st;
	ts->cfg = *cfg;
	snprintf(ts->dm, sizeof(ts->dm), DMP, cfg->domid);
	snprintf(ts->command, sizeof(ts->command), DMP "/command", cfg->domid);
	snprintf(ts->state, sizeof(ts->state), DMP "/state", cfg->domid);
	snprintf(ts->setoffset, sizeof(ts->setoffset), DMP "/rtc/settimeoffset", cfg->domid);
	snprintf(ts->offset_dm, sizeof(ts->offset_dm), DMP "/rtc/timeoffset", cfg->domid);
	if (cfg->uuid)
		snprintf(ts->offset_vm, sizeof(ts->offset_vm), "/vm/%s/rtc/timeoffset", cfg->uuid);
	if (cfg->save_path)
		snprintf(ts->save_path, sizeof(ts->save_path), "%s", cfg->save_path);
	else
		snprintf(ts->save_path, sizeof(ts->save_path), "/var/lib/xen/qemu-save.%u",
		         cfg->domid);
	ts->cfg.uuid = NULL;      /* copied into offset_vm */
	ts->cfg.save_path = NULL; /* copied into save_path */

	if (!cfg->rtc_nodes_only && store_watch(st, ts->command, TOKEN_COMMAND) < 0) {
		snprintf(err, errlen, "toolstack: cannot watch %s: %s", ts->command, strerror(errno));
		free(ts);
		return NULL;
	}
	ts->watching_command = !cfg->rtc_nodes_only;
	if (store_watch(st, ts->setoffset, TOKEN_SETOFFSET) < 0) {
		snprintf(err, errlen, "toolstack: cannot watch %s: %s", ts->setoffset,
		         strerror(errno));
		toolstack_free(ts);
		return NULL;
	}
	ts->watching_setoffset = true;
	return ts;
}

void toolstack_free(struct toolstack *ts)
{
	if (!ts)
		return;
	if (ts->watching_command)
		store_unwatch(ts->st, ts->command, TOKEN_COMMAND);
	if (ts->watching_setoffset)
		store_unwatch(ts->st, ts->setoffset, TOKEN_SETOFFSET);
	free(ts);
}

int toolstack_fd(const struct toolstack *ts)
{
	return store_fd(ts->st);
}

const char *toolstack_dm_path(const struct toolstack *ts)
{
	return ts->dm;
}

static int write_state(struct toolstack *ts, const char *state)
{
	if (store_write(ts->st, ts->state, state) < 0) {
		ts_log(ts, "xenstore: cannot write %s: %s", ts->state, strerror(errno));
		return -1;
	}
	return 0;
}

static int publish(struct toolstack *ts, int64_t seconds, bool force)
{
	char val[32];
	int rc = 0;

	if (!force && ts->published && ts->last_published == seconds)
		return 0;
	snprintf(val, sizeof(val), "%" PRId64, seconds);
	if (store_write(ts->st, ts->offset_dm, val) < 0) {
		ts_log(ts, "xenstore: cannot write %s: %s", ts->offset_dm, strerror(errno));
		rc = -1;
	}
	if (ts->offset_vm[0] && store_write(ts->st, ts->offset_vm, val) < 0) {
		ts_log(ts, "xenstore: cannot write %s: %s", ts->offset_vm, strerror(errno));
		rc = -1;
	}
	if (rc == 0) {
		ts->published = true;
		ts->last_published = seconds;
	}
	return rc;
}

int toolstack_publish_offset(struct toolstack *ts, int64_t seconds)
{
	return publish(ts, seconds, false);
}

static void publish_current(struct toolstack *ts, bool force)
{
	struct rtc_offset off = {0};

	if (!ts->cfg.ops->get_offset)
		return;
	ts->cfg.ops->get_offset(ts->cfg.opaque, &off);
	publish(ts, off.seconds, force);
}

int toolstack_ready(struct toolstack *ts, char *err, size_t errlen)
{
	publish_current(ts, true);
	if (ts->cfg.rtc_nodes_only)
		return 0;
	if (store_write(ts->st, ts->state, "running") < 0) {
		snprintf(err, errlen, "xenstore: cannot write %s: %s", ts->state, strerror(errno));
		return -1;
	}
	return 0;
}

static void do_save(struct toolstack *ts)
{
	const struct dm_ops *o = ts->cfg.ops;
	char err[256] = "";

	if (!o->stop || !o->save_path) {
		ts_log(ts, "dm-command save: %s", "saving is not supported by this device model");
		return;
	}
	enum dm_run_state before = o->run_state(ts->cfg.opaque);
	if (o->stop(ts->cfg.opaque, err, sizeof(err)) < 0) {
		ts_log(ts, "dm-command save: cannot stop the guest: %s", err);
		return;
	}
	if (o->save_path(ts->cfg.opaque, ts->save_path, false, err, sizeof(err)) < 0) {
		ts_log(ts, "dm-command save: %s", err);
		/* Leave the guest as it was; state stays "running". */
		if (before == DM_RUN_RUNNING && o->cont) {
			char err2[256] = "";
			if (o->cont(ts->cfg.opaque, err2, sizeof(err2)) < 0)
				ts_log(ts, "dm-command save: cannot resume the guest: %s", err2);
		}
		return;
	}
	write_state(ts, "paused");
}

static void do_continue(struct toolstack *ts)
{
	const struct dm_ops *o = ts->cfg.ops;
	char err[256] = "";

	if (!o->cont) {
		ts_log(ts, "dm-command continue: %s", "not supported by this device model");
		return;
	}
	if (o->cont(ts->cfg.opaque, err, sizeof(err)) < 0) {
		ts_log(ts, "dm-command continue: %s", err);
		return;
	}
	write_state(ts, "running");
}

static void on_command(struct toolstack *ts)
{
	char *cmd = store_read(ts->st, ts->command);

	if (!cmd)
		return; /* removed (by us) or never written */
	store_rm(ts->st, ts->command);
	if (strcmp(cmd, "save") == 0)
		do_save(ts);
	else if (strcmp(cmd, "continue") == 0)
		do_continue(ts);
	else
		ts_log(ts, "dm-command: unknown command '%.64s' ignored", cmd);
	free(cmd);
}

static void on_setoffset(struct toolstack *ts)
{
	const struct dm_ops *o = ts->cfg.ops;
	char *val = store_read(ts->st, ts->setoffset);
	char err[256] = "";
	int64_t secs;

	if (!val)
		return;
	if (dm_parse_offset(val, &secs, err, sizeof(err)) < 0) {
		ts_log(ts, "settimeoffset refused: %s", err);
	} else if (!o->set_offset) {
		ts_log(ts, "settimeoffset refused: %s", "not supported by this device model");
	} else if (o->set_offset(ts->cfg.opaque, secs, err, sizeof(err)) < 0) {
		ts_log(ts, "settimeoffset refused: %s", err);
	} else {
		publish_current(ts, false);
	}
	/* Acknowledge (or drop a refused value): the node goes either way. */
	store_rm(ts->st, ts->setoffset);
	free(val);
}

static void on_watch(void *arg, const char *path, const char *token)
{
	struct toolstack *ts = arg;

	if (ts->watching_command && strcmp(token, TOKEN_COMMAND) == 0 &&
	    strcmp(path, ts->command) == 0)
		on_command(ts);
	else if (strcmp(token, TOKEN_SETOFFSET) == 0 && strcmp(path, ts->setoffset) == 0)
		on_setoffset(ts);
}

int toolstack_handle(struct toolstack *ts)
{
	if (ts->watch_lost)
		return -1;
	if (store_dispatch(ts->st, on_watch, ts) < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		/* A connection that fails once (xenstored gone) fails on every
		 * wake-up: said once, then the caller stops watching. */
		ts->watch_lost = true;
		ts_log(ts, "xenstore: reading watch events: %s; the toolstack's commands and "
		           "settimeoffset are no longer followed", strerror(errno));
		return -1;
	}
	return 0;
}
