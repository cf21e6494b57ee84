/*
 * qmp_commands.c — the QMP command table: request validation with QEMU's
 * error classes and wording, and one handler per command.
 */
#include "toolstack/qmp/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* The QEMU version we report: >= 2.11, so libxl sends "live" with
 * xen-save-devices-state. */
#define QMP_QEMU_MAJOR 7
#define QMP_QEMU_MINOR 2
#define QMP_QEMU_MICRO 0

#define ERRLEN 256

enum arg_type { ARG_INT, ARG_BOOL, ARG_STRING, ARG_ARRAY };

struct arg_spec {
	const char *name;
	enum arg_type type;
	bool required;
};

#define MAX_ARGS 3

struct cmd_ctx {
	struct qmp_server *s;
	struct qmp_conn *c;
	struct json_object *args; /* never NULL: {} when absent */
	char err[ERRLEN];
};

/* Returns the "return" value, or NULL with ctx->err set (GenericError). */
typedef struct json_object *cmd_fn(struct cmd_ctx *ctx);

struct cmd {
	const char *name;
	cmd_fn *fn;
	struct arg_spec args[MAX_ARGS];
};

static const struct dm_ops *ops_of(const struct cmd_ctx *ctx)
{
	return ctx->s->cfg.ops;
}

static void *dm_opaque(const struct cmd_ctx *ctx)
{
	return ctx->s->cfg.opaque;
}

/* ---- argument access (types already checked) ----------------------------- */

static bool has_arg(const struct cmd_ctx *ctx, const char *name)
{
	return json_object_object_get_ex(ctx->args, name, NULL);
}

static int64_t arg_int(const struct cmd_ctx *ctx, const char *name, int64_t dflt)
{
	struct json_object *v;
	return json_object_object_get_ex(ctx->args, name, &v) ? json_object_get_int64(v) : dflt;
}

static bool arg_bool(const struct cmd_ctx *ctx, const char *name, bool dflt)
{
	struct json_object *v;
	return json_object_object_get_ex(ctx->args, name, &v) ? json_object_get_boolean(v) : dflt;
}

static const char *arg_str(const struct cmd_ctx *ctx, const char *name)
{
	struct json_object *v;
	return json_object_object_get_ex(ctx->args, name, &v) ? json_object_get_string(v) : NULL;
}

static struct json_object *empty_return(void)
{
	return json_object_new_object();
}

/* An operation that needs a callback the process did not provide. */
static struct json_object *unsupported(struct cmd_ctx *ctx, const char *what)
{
	snprintf(ctx->err, sizeof(ctx->err), "%s is not supported by this device model", what);
	return NULL;
}

/* ---- commands ----------------------------------------------------------- */

static struct json_object *cmd_capabilities(struct cmd_ctx *ctx)
{
	struct json_object *en;

	/* We offer no capability: any one asked for is refused. */
	if (json_object_object_get_ex(ctx->args, "enable", &en) && json_object_array_length(en) > 0) {
		struct json_object *first = json_object_array_get_idx(en, 0);
		if (json_object_is_type(first, json_type_string))
			snprintf(ctx->err, sizeof(ctx->err), "Capability '%.64s' not available",
			         json_object_get_string(first));
		else
			snprintf(ctx->err, sizeof(ctx->err),
			         "Invalid parameter type for 'enable[0]', expected: string");
		return NULL;
	}
	ctx->c->negotiated = true;
	return empty_return();
}

static struct json_object *cmd_query_status(struct cmd_ctx *ctx)
{
	enum dm_run_state st = ops_of(ctx)->run_state(dm_opaque(ctx));
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "status", json_object_new_string(dm_run_state_name(st)));
	json_object_object_add(r, "singlestep", json_object_new_boolean(0));
	json_object_object_add(r, "running", json_object_new_boolean(st == DM_RUN_RUNNING));
	return r;
}

static struct json_object *cmd_stop(struct cmd_ctx *ctx)
{
	const struct dm_ops *o = ops_of(ctx);

	if (!o->stop)
		return unsupported(ctx, "stop");
	enum dm_run_state before = o->run_state(dm_opaque(ctx));
	if (o->stop(dm_opaque(ctx), ctx->err, sizeof(ctx->err)) < 0)
		return NULL;
	if (before != DM_RUN_PAUSED && o->run_state(dm_opaque(ctx)) == DM_RUN_PAUSED)
		qmp_server_event(ctx->s, "STOP", NULL);
	return empty_return();
}

static struct json_object *cmd_cont(struct cmd_ctx *ctx)
{
	const struct dm_ops *o = ops_of(ctx);

	if (!o->cont)
		return unsupported(ctx, "cont");
	enum dm_run_state before = o->run_state(dm_opaque(ctx));
	if (o->cont(dm_opaque(ctx), ctx->err, sizeof(ctx->err)) < 0)
		return NULL;
	if (before != DM_RUN_RUNNING && o->run_state(dm_opaque(ctx)) == DM_RUN_RUNNING)
		qmp_server_event(ctx->s, "RESUME", NULL);
	return empty_return();
}

static struct json_object *cmd_query_chardev(struct cmd_ctx *ctx)
{
	struct json_object *r = json_object_new_array();

	for (size_t i = 0; i < ctx->s->cfg.n_chardevs; i++) {
		const struct qmp_chardev_info *cd = &ctx->s->cfg.chardevs[i];
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "frontend-open", json_object_new_boolean(1));
		json_object_object_add(e, "filename", json_object_new_string(cd->filename));
		json_object_object_add(e, "label", json_object_new_string(cd->label));
		json_object_array_add(r, e);
	}
	return r;
}

static struct json_object *cmd_query_cpus_fast(struct cmd_ctx *ctx)
{
	struct json_object *r = json_object_new_array();
	char qom[64];

	for (unsigned i = 0; i < ctx->s->cfg.vcpus; i++) {
		struct json_object *e = json_object_new_object();
		struct json_object *props = json_object_new_object();
		snprintf(qom, sizeof(qom), "/machine/unattached/device[%u]", i);
		json_object_object_add(e, "cpu-index", json_object_new_int64(i));
		json_object_object_add(e, "qom-path", json_object_new_string(qom));
		json_object_object_add(e, "thread-id", json_object_new_int64(getpid()));
		json_object_object_add(props, "core-id", json_object_new_int64(0));
		json_object_object_add(props, "thread-id", json_object_new_int64(0));
		json_object_object_add(props, "node-id", json_object_new_int64(0));
		json_object_object_add(props, "socket-id", json_object_new_int64(i));
		json_object_object_add(e, "props", props);
		json_object_object_add(e, "target", json_object_new_string("x86_64"));
		json_object_array_add(r, e);
	}
	return r;
}

static struct json_object *cmd_query_vnc(struct cmd_ctx *ctx)
{
	(void)ctx;
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "enabled", json_object_new_boolean(0));
	return r;
}

static struct json_object *version_object(void)
{
	struct json_object *r = json_object_new_object();
	struct json_object *q = json_object_new_object();

	json_object_object_add(q, "micro", json_object_new_int(QMP_QEMU_MICRO));
	json_object_object_add(q, "minor", json_object_new_int(QMP_QEMU_MINOR));
	json_object_object_add(q, "major", json_object_new_int(QMP_QEMU_MAJOR));
	json_object_object_add(r, "qemu", q);
	json_object_object_add(r, "package", json_object_new_string("rtcdm-" RTCDM_VERSION));
	return r;
}

static struct json_object *cmd_query_version(struct cmd_ctx *ctx)
{
	(void)ctx;
	return version_object();
}

static struct json_object *cmd_query_commands(struct cmd_ctx *ctx);

static struct json_object *cmd_add_fd(struct cmd_ctx *ctx)
{
	int fd = qmp_conn_take_fd(ctx->c);
	int64_t id = -1;

	if (fd < 0) {
		snprintf(ctx->err, sizeof(ctx->err), "No file descriptor supplied via SCM_RIGHTS");
		return NULL;
	}
	if (fdsets_add(&ctx->s->fdsets, fd, has_arg(ctx, "fdset-id"), arg_int(ctx, "fdset-id", 0),
	               arg_str(ctx, "opaque"), &id, ctx->err, sizeof(ctx->err)) < 0) {
		close(fd);
		return NULL;
	}
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "fdset-id", json_object_new_int64(id));
	json_object_object_add(r, "fd", json_object_new_int64(fd));
	return r;
}

static struct json_object *cmd_remove_fd(struct cmd_ctx *ctx)
{
	if (fdsets_remove(&ctx->s->fdsets, arg_int(ctx, "fdset-id", 0), has_arg(ctx, "fd"),
	                  arg_int(ctx, "fd", -1), ctx->err, sizeof(ctx->err)) < 0)
		return NULL;
	return empty_return();
}

static struct json_object *cmd_query_fdsets(struct cmd_ctx *ctx)
{
	struct json_object *r = json_object_new_array();
	const struct fdsets *fs = &ctx->s->fdsets;

	for (size_t i = 0; i < fs->n_sets; i++) {
		struct json_object *set = json_object_new_object();
		struct json_object *fds = json_object_new_array();
		for (size_t j = 0; j < fs->sets[i].n_fds; j++) {
			struct json_object *e = json_object_new_object();
			json_object_object_add(e, "fd", json_object_new_int64(fs->sets[i].fds[j].fd));
			if (fs->sets[i].fds[j].opaque)
				json_object_object_add(e, "opaque",
				                       json_object_new_string(fs->sets[i].fds[j].opaque));
			json_object_array_add(fds, e);
		}
		json_object_object_add(set, "fdset-id", json_object_new_int64(fs->sets[i].id));
		json_object_object_add(set, "fds", fds);
		json_object_array_add(r, set);
	}
	return r;
}

static struct json_object *cmd_save(struct cmd_ctx *ctx)
{
	const struct dm_ops *o = ops_of(ctx);
	const char *name = arg_str(ctx, "filename");
	/* QEMU's default when "live" is absent. */
	bool live = arg_bool(ctx, "live", true);
	int64_t id;
	int rc;

	int kind = fdsets_parse_name(name, &id, ctx->err, sizeof(ctx->err));
	if (kind < 0)
		return NULL;
	if (kind == 1) {
		if (!o->save_fd)
			return unsupported(ctx, "saving to a descriptor");
		int fd = fdsets_dup(&ctx->s->fdsets, id, true, ctx->err, sizeof(ctx->err));
		if (fd < 0)
			return NULL;
		rc = o->save_fd(dm_opaque(ctx), fd, live, ctx->err, sizeof(ctx->err));
		close(fd);
	} else {
		if (!name[0]) {
			snprintf(ctx->err, sizeof(ctx->err), "Parameter 'filename' is empty");
			return NULL;
		}
		if (!o->save_path)
			return unsupported(ctx, "saving to a file");
		rc = o->save_path(dm_opaque(ctx), name, live, ctx->err, sizeof(ctx->err));
	}
	return rc < 0 ? NULL : empty_return();
}

static struct json_object *cmd_load(struct cmd_ctx *ctx)
{
	const struct dm_ops *o = ops_of(ctx);
	const char *name = arg_str(ctx, "filename");
	int64_t id;
	int rc;

	if (o->run_state(dm_opaque(ctx)) == DM_RUN_RUNNING) {
		snprintf(ctx->err, sizeof(ctx->err),
		         "Cannot load device state while the guest is running: stop it first");
		return NULL;
	}
	int kind = fdsets_parse_name(name, &id, ctx->err, sizeof(ctx->err));
	if (kind < 0)
		return NULL;
	if (kind == 1) {
		if (!o->load_fd)
			return unsupported(ctx, "loading from a descriptor");
		int fd = fdsets_dup(&ctx->s->fdsets, id, false, ctx->err, sizeof(ctx->err));
		if (fd < 0)
			return NULL;
		rc = o->load_fd(dm_opaque(ctx), fd, ctx->err, sizeof(ctx->err));
		close(fd);
	} else {
		if (!name[0]) {
			snprintf(ctx->err, sizeof(ctx->err), "Parameter 'filename' is empty");
			return NULL;
		}
		if (!o->load_path)
			return unsupported(ctx, "loading from a file");
		rc = o->load_path(dm_opaque(ctx), name, ctx->err, sizeof(ctx->err));
	}
	return rc < 0 ? NULL : empty_return();
}

/* Log-dirty tracking is for guest RAM, which this device model does not
 * map: there is nothing to track, so enabling or disabling it succeeds. */
static struct json_object *cmd_dirty_log(struct cmd_ctx *ctx)
{
	(void)ctx;
	return empty_return();
}

static struct json_object *cmd_quit(struct cmd_ctx *ctx)
{
	if (!ops_of(ctx)->quit)
		return unsupported(ctx, "quit");
	ops_of(ctx)->quit(dm_opaque(ctx));
	return empty_return();
}

static struct json_object *cmd_set_offset(struct cmd_ctx *ctx)
{
	const struct dm_ops *o = ops_of(ctx);
	int64_t secs = arg_int(ctx, "seconds", 0);

	if (!dm_offset_in_range(secs)) {
		snprintf(ctx->err, sizeof(ctx->err),
		         "Parameter 'seconds' out of range [%d, %d]: %" PRId64, (int)DM_OFFSET_MIN,
		         (int)DM_OFFSET_MAX, secs);
		return NULL;
	}
	if (!o->set_offset)
		return unsupported(ctx, "setting the time offset");
	if (o->set_offset(dm_opaque(ctx), secs, ctx->err, sizeof(ctx->err)) < 0)
		return NULL;
	return empty_return();
}

static struct json_object *cmd_query_offset(struct cmd_ctx *ctx)
{
	const struct dm_ops *o = ops_of(ctx);
	struct rtc_offset off = {0};

	if (!o->get_offset)
		return unsupported(ctx, "querying the time offset");
	o->get_offset(dm_opaque(ctx), &off);
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "seconds", json_object_new_int64(off.seconds));
	json_object_object_add(r, "phase-ns", json_object_new_int64(off.phase_ns));
	json_object_object_add(r, "set", json_object_new_boolean(off.set));
	return r;
}

static const struct cmd commands[] = {
    {"qmp_capabilities", cmd_capabilities, {{"enable", ARG_ARRAY, false}}},
    {"query-status", cmd_query_status, {{0}}},
    {"stop", cmd_stop, {{0}}},
    {"cont", cmd_cont, {{0}}},
    {"query-chardev", cmd_query_chardev, {{0}}},
    {"query-cpus-fast", cmd_query_cpus_fast, {{0}}},
    {"query-vnc", cmd_query_vnc, {{0}}},
    {"query-version", cmd_query_version, {{0}}},
    {"query-commands", cmd_query_commands, {{0}}},
    {"add-fd", cmd_add_fd, {{"fdset-id", ARG_INT, false}, {"opaque", ARG_STRING, false}}},
    {"remove-fd", cmd_remove_fd, {{"fdset-id", ARG_INT, true}, {"fd", ARG_INT, false}}},
    {"query-fdsets", cmd_query_fdsets, {{0}}},
    {"xen-save-devices-state", cmd_save,
     {{"filename", ARG_STRING, true}, {"live", ARG_BOOL, false}}},
    {"xen-load-devices-state", cmd_load, {{"filename", ARG_STRING, true}}},
    {"xen-set-global-dirty-log", cmd_dirty_log, {{"enable", ARG_BOOL, true}}},
    {"quit", cmd_quit, {{0}}},
    {"rtcdm-set-time-offset", cmd_set_offset, {{"seconds", ARG_INT, true}}},
    {"rtcdm-query-time-offset", cmd_query_offset, {{0}}},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static struct json_object *cmd_query_commands(struct cmd_ctx *ctx)
{
	(void)ctx;
	struct json_object *r = json_object_new_array();

	for (size_t i = 0; i < N_COMMANDS; i++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "name", json_object_new_string(commands[i].name));
		json_object_array_add(r, e);
	}
	return r;
}

/* ---- dispatch ----------------------------------------------------------- */

struct json_object *qmp_error_reply(const char *cls, const char *desc)
{
	struct json_object *r = json_object_new_object();
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "class", json_object_new_string(cls));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(r, "error", e);
	return r;
}

struct json_object *qmp_greeting(void)
{
	struct json_object *r = json_object_new_object();
	struct json_object *q = json_object_new_object();

	json_object_object_add(q, "version", version_object());
	json_object_object_add(q, "capabilities", json_object_new_array());
	json_object_object_add(r, "QMP", q);
	return r;
}

static const char *type_name(enum arg_type t)
{
	switch (t) {
	case ARG_INT:
		return "integer";
	case ARG_BOOL:
		return "boolean";
	case ARG_STRING:
		return "string";
	case ARG_ARRAY:
		return "array";
	}
	return "?";
}

/* An integer json-c holds as int64: not a double, not above INT64_MAX (json-c
 * then keeps it as uint64, or clamps it to UINT64_MAX) and not below
 * INT64_MIN (json-c clamps it to INT64_MIN; the framing tells us when the
 * message had such a literal). */
static bool is_int64(const struct cmd_ctx *ctx, struct json_object *v)
{
	if (!json_object_is_type(v, json_type_int))
		return false;
	int64_t n = json_object_get_int64(v);
	if (n == INT64_MIN)
		return !ctx->c->msg_below_int64_min;
	return n != INT64_MAX || json_object_get_uint64(v) == INT64_MAX;
}

static bool type_ok(const struct cmd_ctx *ctx, struct json_object *v, enum arg_type t)
{
	switch (t) {
	case ARG_INT:
		return is_int64(ctx, v);
	case ARG_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case ARG_STRING:
		return json_object_is_type(v, json_type_string);
	case ARG_ARRAY:
		return json_object_is_type(v, json_type_array);
	}
	return false;
}

/* QEMU's argument errors for the arguments the command knows: missing or of
 * the wrong type. */
static bool check_known_args(struct cmd_ctx *ctx, const struct cmd *cmd)
{
	for (size_t i = 0; i < MAX_ARGS && cmd->args[i].name; i++) {
		const struct arg_spec *a = &cmd->args[i];
		struct json_object *v;
		if (!json_object_object_get_ex(ctx->args, a->name, &v)) {
			if (a->required) {
				snprintf(ctx->err, sizeof(ctx->err), "Parameter '%s' is missing", a->name);
				return false;
			}
			continue;
		}
		if (!type_ok(ctx, v, a->type)) {
			snprintf(ctx->err, sizeof(ctx->err),
			         "Invalid parameter type for '%s', expected: %s", a->name,
			         type_name(a->type));
			return false;
		}
		if (a->type == ARG_STRING && strlen(json_object_get_string(v)) !=
		                                 (size_t)json_object_get_string_len(v)) {
			snprintf(ctx->err, sizeof(ctx->err), "Parameter '%s' contains a NUL character",
			         a->name);
			return false;
		}
	}
	return true;
}

/* QEMU's error for an argument the command does not take. */
static bool check_no_unknown_args(struct cmd_ctx *ctx, const struct cmd *cmd)
{
	json_object_object_foreach(ctx->args, key, val) {
		(void)val;
		bool known = false;
		for (size_t i = 0; i < MAX_ARGS && cmd->args[i].name; i++)
			if (strcmp(cmd->args[i].name, key) == 0)
				known = true;
		if (!known) {
			snprintf(ctx->err, sizeof(ctx->err), "Parameter '%.64s' is unexpected", key);
			return false;
		}
	}
	return true;
}

/* ---- strict UTF-8 ------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_sequence_len(const unsigned char *p, size_t avail)
{
	unsigned char b = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		len = 2;
	else if (b >= 0xe0 && b <= 0xef)
		len = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		len = 4;
	else
		return 0;
	if (b == 0xe0)
		lo = 0xa0; /* overlong three-byte form */
	else if (b == 0xed)
		hi = 0x9f; /* UTF-16 surrogates */
	else if (b == 0xf0)
		lo = 0x90; /* overlong four-byte form */
	else if (b == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (avail < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence_len(p + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

/* Every string and member name in v is strict UTF-8 (json-c lets overlong
 * forms and surrogates through). */
static bool strings_valid_utf8(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return utf8_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!strings_valid_utf8(json_object_array_get_idx(v, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			if (!utf8_valid(key, strlen(key)) || !strings_valid_utf8(val))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

/* ---- the request envelope ----------------------------------------------- */

static struct json_object *with_id(struct json_object *reply, struct json_object *id)
{
	if (id)
		json_object_object_add(reply, "id", json_object_get(id));
	return reply;
}

static struct json_object *generic_error(const char *desc)
{
	return qmp_error_reply("GenericError", desc);
}

/* {"execute": STRING, "arguments": OBJECT (optional), "id": ANY (optional)}
 * and nothing else.  NULL with *exe and *args set, or the error reply. */
static struct json_object *check_envelope(struct json_object *req, struct json_object **exe,
                                          struct json_object **args)
{
	char err[ERRLEN];

	*args = NULL;
	json_object_object_foreach(req, key, val) {
		(void)val;
		if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id")) {
			snprintf(err, sizeof(err), "QMP input member '%.64s' is unexpected", key);
			return generic_error(err);
		}
	}
	if (!json_object_object_get_ex(req, "execute", exe))
		return generic_error("QMP input lacks member 'execute'");
	if (!json_object_is_type(*exe, json_type_string))
		return generic_error("QMP input member 'execute' must be a string");
	if (json_object_object_get_ex(req, "arguments", args) &&
	    !json_object_is_type(*args, json_type_object))
		return generic_error("QMP input member 'arguments' must be an object");
	return NULL;
}

static const struct cmd *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Before qmp_capabilities only qmp_capabilities is known, and after it
 * qmp_capabilities is not.  NULL when cmd may run, or the error reply. */
static struct json_object *check_negotiation(const struct qmp_conn *c, const struct cmd *cmd,
                                             const char *name)
{
	char err[ERRLEN];
	bool is_caps = cmd && cmd->fn == cmd_capabilities;

	if (!c->negotiated && !is_caps)
		return qmp_error_reply("CommandNotFound",
		                       "Expecting capabilities negotiation with 'qmp_capabilities'");
	if (!cmd) {
		snprintf(err, sizeof(err), "The command %.100s has not been found", name);
		return qmp_error_reply("CommandNotFound", err);
	}
	if (c->negotiated && is_caps)
		return qmp_error_reply("CommandNotFound",
		                       "Capabilities negotiation is already complete, command ignored");
	return NULL;
}

/* Check the arguments and run the handler: {"return": ...} or the error. */
static struct json_object *run_command(struct qmp_server *s, struct qmp_conn *c,
                                       const struct cmd *cmd, struct json_object *args)
{
	struct cmd_ctx ctx = {.s = s, .c = c};
	struct json_object *empty = NULL, *ret = NULL;

	if (!args)
		args = empty = json_object_new_object();
	ctx.args = args;
	if (check_known_args(&ctx, cmd) && check_no_unknown_args(&ctx, cmd)) {
		ret = cmd->fn(&ctx);
		if (!ret && !ctx.err[0])
			snprintf(ctx.err, sizeof(ctx.err), "command failed");
	}
	json_object_put(empty);
	if (!ret)
		return generic_error(ctx.err);
	struct json_object *reply = json_object_new_object();
	json_object_object_add(reply, "return", ret);
	return reply;
}

struct json_object *qmp_rtcdm_command(const struct dm_ops *ops, void *opaque, const char *name,
                                      struct json_object *args)
{
	struct qmp_server s = {.cfg = {.ops = ops, .opaque = opaque}};
	struct qmp_conn c = {.fd = -1, .negotiated = true};
	const struct cmd *cmd;

	if (strncmp(name, "rtcdm-", 6) != 0 || !(cmd = find_command(name)))
		return NULL;
	if (args && !json_object_is_type(args, json_type_object))
		return generic_error("QMP input member 'arguments' must be an object");
	if (args && !strings_valid_utf8(args))
		return generic_error("JSON parse error, invalid UTF-8 sequence in string");
	return run_command(&s, &c, cmd, args);
}

struct json_object *qmp_execute(struct qmp_server *s, struct qmp_conn *c, struct json_object *req)
{
	struct json_object *id = NULL, *exe, *args, *reply;

	if (!json_object_is_type(req, json_type_object))
		return generic_error("QMP input must be a JSON object");
	/* Checked before anything is echoed back (the id included). */
	if (!strings_valid_utf8(req))
		return generic_error("JSON parse error, invalid UTF-8 sequence in string");
	json_object_object_get_ex(req, "id", &id);
	reply = check_envelope(req, &exe, &args);
	if (reply)
		return with_id(reply, id);
	const char *name = json_object_get_string(exe);
	const struct cmd *cmd = find_command(name);
	reply = check_negotiation(c, cmd, name);
	if (!reply)
		reply = run_command(s, c, cmd, args);
	return with_id(reply, id);
}
