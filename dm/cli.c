/* cli.c — rtcdm's own options and libxl's qemu-xen argument list. */
#include "dm/cli.h"
#include "base/parse.h"
#include "toolstack/offset.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dm/qopts.h"

/* ---- number parsing ------------------------------------------------------------ */

int dm_parse_wallclock(const char *s, int64_t *ns)
{
	int64_t sec = 0, frac = 0;
	unsigned digits = 0;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (sec > (INT64_MAX / 1000000000 - 9) / 10)
			return -1;
		sec = sec * 10 + (*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			if (++digits > 9)
				return -1;
			frac = frac * 10 + (*p - '0');
		}
		for (unsigned i = digits; i < 9; i++)
			frac *= 10;
	}
	if (*p)
		return -1;
	*ns = sec * 1000000000 + frac;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int dm_parse_uuid(const char *s, uint8_t uuid[16])
{
	static const unsigned dash_at[] = {8, 13, 18, 23};
	uint8_t out[16];
	size_t n = 0, di = 0;

	if (!s || strlen(s) != 36)
		return -1;
	for (size_t i = 0; i < 36;) {
		if (di < 4 && i == dash_at[di]) {
			if (s[i] != '-')
				return -1;
			di++;
			i++;
			continue;
		}
		int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	memcpy(uuid, out, 16);
	return 0;
}

/* ---- config ---------------------------------------------------------------------- */

void dm_config_init(struct dm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->domid = -1;
	cfg->platform = DM_PLATFORM_SIM;
	cfg->lost_ticks = RTC_LOST_TICKS_DISCARD;
	cfg->index_wait_us = DM_INDEX_WAIT_US_DEFAULT;
	cfg->incoming_fd = -1;
}

void dm_config_free(struct dm_config *cfg)
{
	for (size_t i = 0; i < cfg->n_chardevs; i++) {
		free(cfg->chardevs[i].id);
		free(cfg->chardevs[i].path);
	}
	for (size_t i = 0; i < cfg->n_monitors; i++)
		free(cfg->monitors[i].chardev);
	free(cfg->name);
	free(cfg->state_dir);
	free(cfg->restore_file);
	free(cfg->loadvm);
	free(cfg->qtest_path);
	free(cfg->qtest_log);
	free(cfg->sim_shared_info);
	free(cfg->sim_xenstore);
	free(cfg->save_path);
	free(cfg->runas);
	free(cfg->chroot_dir);
	free(cfg->machine);
	free(cfg->machine_type);
	free(cfg->accel);
	free(cfg->qemu_path);
	dm_config_init(cfg);
}

const struct dm_chardev *dm_config_chardev(const struct dm_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_chardevs; i++)
		if (strcmp(cfg->chardevs[i].id, id) == 0)
			return &cfg->chardevs[i];
	return NULL;
}

/* Replace *slot with a copy of s. */
static int set_str(char **slot, const char *s, size_t len)
{
	char *copy = strndup(s, len);

	if (!copy)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* ---- option tables ------------------------------------------------------------- */

enum opt_id {
	OPT_IGNORE = 0,
	/* ours */
	OPT_DOMID,
	OPT_PLATFORM,
	OPT_TIME_OFFSET,
	OPT_STATE_DIR,
	OPT_RESTORE,
	OPT_SIM_SHINFO,
	OPT_SIM_WALLCLOCK,
	OPT_SIM_XENSTORE,
	OPT_SAVE_PATH,
	OPT_LOST_TICKS,
	OPT_INDEX_WAIT,
	OPT_VERBOSE,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
	OPT_COMPANION,
	OPT_RTC_ONLY,
	OPT_QEMU,
	/* QEMU options rtcdm uses */
	OPT_XEN_DOMID,
	OPT_CHARDEV,
	OPT_MON,
	OPT_NAME,
	OPT_UUID,
	OPT_INCOMING,
	OPT_LOADVM,
	OPT_S,
	OPT_RUNAS,
	OPT_CHROOT,
	OPT_DOMID_RESTRICT,
	OPT_RTC,
	OPT_QTEST,
	OPT_QTEST_LOG,
	OPT_MACHINE,
	OPT_ACCEL,
	OPT_NO_SHUTDOWN,
};

struct opt {
	const char *name; /* without leading dashes */
	bool has_arg;
	enum opt_id id;
};

/* Options spelled with two dashes. */
static const struct opt own_opts[] = {
	{"domid", true, OPT_DOMID},
	{"platform", true, OPT_PLATFORM},
	{"time-offset", true, OPT_TIME_OFFSET},
	{"state-dir", true, OPT_STATE_DIR},
	{"restore", true, OPT_RESTORE},
	{"qtest", true, OPT_QTEST},
	{"sim-shared-info", true, OPT_SIM_SHINFO},
	{"sim-wallclock", true, OPT_SIM_WALLCLOCK},
	{"sim-xenstore", true, OPT_SIM_XENSTORE},
	{"save-path", true, OPT_SAVE_PATH},
	{"lost-ticks", true, OPT_LOST_TICKS},
	{"index-wait-us", true, OPT_INDEX_WAIT},
	{"verbose", false, OPT_VERBOSE},
	{"quiet", false, OPT_QUIET},
	{"help", false, OPT_HELP},
	{"version", false, OPT_VERSION},
	{"companion", false, OPT_COMPANION},
	{"rtc-only", false, OPT_RTC_ONLY},
	{"qemu", true, OPT_QEMU},
};

/* QEMU's options (qemu-options.hx) with their arity.  OPT_IGNORE entries do
 * not concern an RTC device model. */
static const struct opt qemu_opts[] = {
	{"xen-domid", true, OPT_XEN_DOMID},
	{"chardev", true, OPT_CHARDEV},
	{"mon", true, OPT_MON},
	{"name", true, OPT_NAME},
	{"uuid", true, OPT_UUID},
	{"incoming", true, OPT_INCOMING},
	{"loadvm", true, OPT_LOADVM},
	{"S", false, OPT_S},
	{"runas", true, OPT_RUNAS},
	{"chroot", true, OPT_CHROOT},
	{"xen-domid-restrict", false, OPT_DOMID_RESTRICT},
	{"rtc", true, OPT_RTC},
	{"qtest", true, OPT_QTEST},
	{"qtest-log", true, OPT_QTEST_LOG},
	{"machine", true, OPT_MACHINE},
	{"M", true, OPT_MACHINE},
	{"accel", true, OPT_ACCEL},
	{"no-shutdown", false, OPT_NO_SHUTDOWN},
	{"h", false, OPT_HELP},
	{"help", false, OPT_HELP},
	{"version", false, OPT_VERSION},
	/* ignored, with an argument */
	{"acpitable", true, OPT_IGNORE},
	{"action", true, OPT_IGNORE},
	{"add-fd", true, OPT_IGNORE},
	{"append", true, OPT_IGNORE},
	{"audio", true, OPT_IGNORE},
	{"audiodev", true, OPT_IGNORE},
	{"balloon", true, OPT_IGNORE},
	{"bios", true, OPT_IGNORE},
	{"blockdev", true, OPT_IGNORE},
	{"boot", true, OPT_IGNORE},
	{"cdrom", true, OPT_IGNORE},
	{"compat", true, OPT_IGNORE},
	{"cpu", true, OPT_IGNORE},
	{"D", true, OPT_IGNORE},
	{"d", true, OPT_IGNORE},
	{"debugcon", true, OPT_IGNORE},
	{"device", true, OPT_IGNORE},
	{"dfilter", true, OPT_IGNORE},
	{"display", true, OPT_IGNORE},
	{"drive", true, OPT_IGNORE},
	{"dtb", true, OPT_IGNORE},
	{"echr", true, OPT_IGNORE},
	{"fda", true, OPT_IGNORE},
	{"fdb", true, OPT_IGNORE},
	{"fsdev", true, OPT_IGNORE},
	{"fw_cfg", true, OPT_IGNORE},
	{"g", true, OPT_IGNORE},
	{"gdb", true, OPT_IGNORE},
	{"global", true, OPT_IGNORE},
	{"hda", true, OPT_IGNORE},
	{"hdb", true, OPT_IGNORE},
	{"hdc", true, OPT_IGNORE},
	{"hdd", true, OPT_IGNORE},
	{"icount", true, OPT_IGNORE},
	{"initrd", true, OPT_IGNORE},
	{"iscsi", true, OPT_IGNORE},
	{"k", true, OPT_IGNORE},
	{"kernel", true, OPT_IGNORE},
	{"L", true, OPT_IGNORE},
	{"m", true, OPT_IGNORE},
	{"mem-path", true, OPT_IGNORE},
	{"monitor", true, OPT_IGNORE},
	{"msg", true, OPT_IGNORE},
	{"mtdblock", true, OPT_IGNORE},
	{"net", true, OPT_IGNORE},
	{"netdev", true, OPT_IGNORE},
	{"nic", true, OPT_IGNORE},
	{"numa", true, OPT_IGNORE},
	{"object", true, OPT_IGNORE},
	{"option-rom", true, OPT_IGNORE},
	{"overcommit", true, OPT_IGNORE},
	{"parallel", true, OPT_IGNORE},
	{"pflash", true, OPT_IGNORE},
	{"pidfile", true, OPT_IGNORE},
	{"plugin", true, OPT_IGNORE},
	{"qmp", true, OPT_IGNORE},
	{"qmp-pretty", true, OPT_IGNORE},
	{"readconfig", true, OPT_IGNORE},
	{"rotate", true, OPT_IGNORE},
	{"sandbox", true, OPT_IGNORE},
	{"sd", true, OPT_IGNORE},
	{"seed", true, OPT_IGNORE},
	{"semihosting-config", true, OPT_IGNORE},
	{"serial", true, OPT_IGNORE},
	{"smbios", true, OPT_IGNORE},
	{"smp", true, OPT_IGNORE},
	{"soundhw", true, OPT_IGNORE},
	{"spice", true, OPT_IGNORE},
	{"tpmdev", true, OPT_IGNORE},
	{"trace", true, OPT_IGNORE},
	{"usbdevice", true, OPT_IGNORE},
	{"vga", true, OPT_IGNORE},
	{"virtfs", true, OPT_IGNORE},
	{"vnc", true, OPT_IGNORE},
	{"watchdog", true, OPT_IGNORE},
	{"watchdog-action", true, OPT_IGNORE},
	{"writeconfig", true, OPT_IGNORE},
	/* ignored, without an argument */
	{"alt-grab", false, OPT_IGNORE},
	{"ctrl-grab", false, OPT_IGNORE},
	{"curses", false, OPT_IGNORE},
	{"daemonize", false, OPT_IGNORE},
	{"enable-fips", false, OPT_IGNORE},
	{"enable-kvm", false, OPT_IGNORE},
	{"enable-sync-profile", false, OPT_IGNORE},
	{"full-screen", false, OPT_IGNORE},
	{"mem-prealloc", false, OPT_IGNORE},
	{"no-acpi", false, OPT_IGNORE},
	{"no-fd-bootchk", false, OPT_IGNORE},
	{"no-hpet", false, OPT_IGNORE},
	{"no-quit", false, OPT_IGNORE},
	{"no-reboot", false, OPT_IGNORE},
	{"no-user-config", false, OPT_IGNORE},
	{"nodefaults", false, OPT_IGNORE},
	{"nodefconfig", false, OPT_IGNORE},
	{"nographic", false, OPT_IGNORE},
	{"only-migratable", false, OPT_IGNORE},
	{"portrait", false, OPT_IGNORE},
	{"preconfig", false, OPT_IGNORE},
	{"s", false, OPT_IGNORE},
	{"sdl", false, OPT_IGNORE},
	{"semihosting", false, OPT_IGNORE},
	{"singlestep", false, OPT_IGNORE},
	{"snapshot", false, OPT_IGNORE},
	{"usb", false, OPT_IGNORE},
	{"win2k-hack", false, OPT_IGNORE},
	{"xen-attach", false, OPT_IGNORE},
};

#define N_QEMU_OPTS (sizeof(qemu_opts) / sizeof(qemu_opts[0]))

static const struct opt *lookup(const struct opt *tab, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(tab[i].name) == len && strncmp(tab[i].name, name, len) == 0)
			return &tab[i];
	return NULL;
}

const char *dm_cli_usage(void)
{
	return "Usage: rtcdm [OPTION]...\n"
	       "MC146818 RTC/CMOS device model for Xen domains.\n"
	       "\n"
	       "  --domid N                 domain id (also -xen-domid N)\n"
	       "  --platform sim|xen        where guest I/O comes from (default: xen when\n"
	       "                            -xen-domid is given, sim otherwise)\n"
	       "  --time-offset SECONDS     toolstack time offset (wins over saved ones)\n"
	       "  --state-dir DIR           battery-backed CMOS files (default " RTCDM_STATE_DIR ")\n"
	       "  --restore FILE            load a saved device state before starting\n"
	       "  --qtest unix:PATH         connect to a qtest client at PATH (also -qtest)\n"
	       "  --sim-shared-info FILE    sim: map the shared_info page to FILE\n"
	       "  --sim-wallclock SEC[.NS]  sim: host wallclock at clock 0 (default: now)\n"
	       "  --sim-xenstore DIR        sim: xenstore nodes as files under DIR\n"
	       "  --save-path FILE          where the xenstore \"save\" command writes\n"
	       "                            (default /var/lib/xen/qemu-save.DOMID)\n"
	       "  --lost-ticks discard|slew periodic interrupts the guest missed\n"
	       "  --index-wait-us N         xen: after an index write, wait up to N us for the\n"
	       "                            data access (0..10000, default "
	       DM_STR(DM_INDEX_WAIT_US_DEFAULT) "; 0: never)\n"
	       "  --companion               companion mode: start qemu-xen as a child with this\n"
	       "                            argument list and serve its RTC (the default for\n"
	       "                            libxl's HVM argument list on --platform xen)\n"
	       "  --rtc-only                RTC-only mode: no QEMU (the default otherwise)\n"
	       "  --qemu PATH               the qemu-xen companion mode starts\n"
	       "                            (default " RTCDM_QEMU_PATH ")\n"
	       "  -v, --verbose             more log output (repeatable)\n"
	       "  -q, --quiet               less log output\n"
	       "  --help, --version\n"
	       "\n"
	       "The argument list libxl passes to a qemu-xen device model is accepted:\n"
	       "-xen-domid, -chardev, -mon, -name, -uuid, -incoming fd:N, -loadvm, -S,\n"
	       "-runas, -chroot, -xen-domid-restrict, -rtc, -qtest, -qtest-log, -machine,\n"
	       "-accel and -no-shutdown are used; other QEMU options are logged and ignored.\n";
}

/* ---- value parsers for the options rtcdm uses -------------------------------------- */

struct parse_ctx {
	struct dm_config *cfg;
	struct dm_log *log;
	char *err;
	size_t errlen;
	/* What rtcdm does not use, named once each in one line at the end:
	 * whole options ("-vnc"), then option keys ("-machine usb"). */
	char ignored_opts[512];
	char ignored_keys[512];
};

#define FAIL(ctx, ...)                                          \
	do {                                                    \
		snprintf((ctx)->err, (ctx)->errlen, __VA_ARGS__); \
		return 2;                                       \
	} while (0)

static int oom(struct parse_ctx *ctx)
{
	FAIL(ctx, "out of memory");
}

/* Add "what" to a ", "-separated list unless it is there already; a list
 * that is full ends in "...". */
static void note_ignored(char *list, size_t cap, const char *what)
{
	size_t n = strlen(list), w = strlen(what);

	for (const char *p = list; (p = strstr(p, what)) != NULL; p++)
		if ((p == list || p[-1] == ' ') && (p[w] == ',' || p[w] == '\0'))
			return;
	if (n >= 3 && strcmp(list + n - 3, "...") == 0)
		return;
	if (n + 2 + w + 4 >= cap) {
		snprintf(list + n, cap - n, "%s...", n ? ", " : "");
		return;
	}
	snprintf(list + n, cap - n, "%s%s", n ? ", " : "", what);
}

static void ignore_key(struct parse_ctx *ctx, const char *opt, const char *key)
{
	char what[128];

	snprintf(what, sizeof(what), "%s %.64s", opt, *key ? key : "''");
	note_ignored(ctx->ignored_keys, sizeof(ctx->ignored_keys), what);
}

/* Split v, or fail with "out of memory". */
static int split_or_fail(struct parse_ctx *ctx, struct qopts *q, const char *v,
                         const char *implied)
{
	return qopts_split(q, v, implied) < 0 ? oom(ctx) : 0;
}

static int parse_domid(struct parse_ctx *ctx, const char *opt, const char *v)
{
	uint32_t d;

	if (dm_parse_domid(v, &d) < 0)
		FAIL(ctx, "%s: '%s' is not a domain id (0..%u)", opt, v, DM_DOMID_MAX);
	ctx->cfg->domid = (int)d;
	ctx->log->domid = (int)d;
	return 0;
}

/* QEMU booleans: on/off, yes/no, true/false; a bare key (NULL) means on. */
static int parse_bool(const char *val, bool *out)
{
	static const char *const yes[] = {"on", "yes", "true"};
	static const char *const no[] = {"off", "no", "false"};

	if (!val) {
		*out = true;
		return 0;
	}
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(val, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(val, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int parse_fd_number(const char *val, int *out)
{
	uint64_t v;

	if (!*val || strspn(val, "0123456789") != strlen(val) || strlen(val) > 10 ||
	    dm_parse_u64(val, &v) < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* ---- -chardev ---------------------------------------------------------------------- */

/* The backend: "socket" is ours; any other is recorded, its keys ignored. */
static int chardev_backend(struct parse_ctx *ctx, const struct qopts *q, const char *v,
                           struct dm_chardev *cd)
{
	const struct qopt *b = q->n ? qopts_get(q, "backend") : NULL;
	char what[96];

	if (!b || !b->val || !*b->val)
		FAIL(ctx, "-chardev '%s': expected BACKEND,id=ID,...", v);
	if (strcmp(b->val, "socket") == 0) {
		cd->backend = DM_CHARDEV_SOCKET;
		return 0;
	}
	cd->backend = DM_CHARDEV_OTHER;
	snprintf(what, sizeof(what), "-chardev %.64s", b->val);
	note_ignored(ctx->ignored_opts, sizeof(ctx->ignored_opts), what);
	return 0;
}

/* One KEY[=VALUE] of a socket chardev. */
static int chardev_socket_key(struct parse_ctx *ctx, const struct qopt *it, const char *v,
                              struct dm_chardev *cd)
{
	if (strcmp(it->key, "path") == 0) {
		if (!it->val || !*it->val)
			FAIL(ctx, "-chardev '%s': empty path", v);
		return set_str(&cd->path, it->val, strlen(it->val)) < 0 ? oom(ctx) : 0;
	}
	if (strcmp(it->key, "fd") == 0) {
		if (!it->val || parse_fd_number(it->val, &cd->fd) < 0)
			FAIL(ctx, "-chardev '%s': fd must be a descriptor number", v);
		return 0;
	}
	if (strcmp(it->key, "server") == 0 || strcmp(it->key, "wait") == 0) {
		bool *flag = it->key[0] == 's' ? &cd->server : &cd->wait;

		if (parse_bool(it->val, flag) < 0)
			FAIL(ctx, "-chardev '%s': %s must be on or off", v, it->key);
		return 0;
	}
	if (strcmp(it->key, "nowait") == 0 && !it->val) {
		cd->wait = false;
		return 0;
	}
	ignore_key(ctx, "-chardev socket", it->key);
	return 0;
}

/* Every item after the backend: id for all, the rest for sockets only. */
static int chardev_keys(struct parse_ctx *ctx, const struct qopts *q, const char *v,
                        struct dm_chardev *cd)
{
	for (size_t i = 0; i < q->n; i++) {
		const struct qopt *it = &q->item[i];
		int rc = 0;

		if (strcmp(it->key, "backend") == 0)
			continue;
		if (strcmp(it->key, "id") == 0) {
			if (!it->val || !*it->val)
				FAIL(ctx, "-chardev '%s': empty id", v);
			rc = set_str(&cd->id, it->val, strlen(it->val)) < 0 ? oom(ctx) : 0;
		} else if (cd->backend == DM_CHARDEV_SOCKET) {
			rc = chardev_socket_key(ctx, it, v, cd);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* A complete chardev: an id not used before; a socket by path or by fd. */
static int chardev_check(struct parse_ctx *ctx, const char *v, const struct dm_chardev *cd)
{
	if (!cd->id)
		FAIL(ctx, "-chardev '%s': missing id=", v);
	if (dm_config_chardev(ctx->cfg, cd->id))
		FAIL(ctx, "-chardev: duplicate id '%s'", cd->id);
	if (cd->backend == DM_CHARDEV_SOCKET && (cd->path != NULL) == (cd->fd >= 0))
		FAIL(ctx, "-chardev '%s': a socket needs exactly one of path= and fd=", v);
	return 0;
}

static int parse_chardev(struct parse_ctx *ctx, const char *v)
{
	struct dm_config *cfg = ctx->cfg;
	struct dm_chardev cd = {.fd = -1, .backend = DM_CHARDEV_OTHER};
	struct qopts q;
	int rc;

	if (cfg->n_chardevs >= DM_MAX_CHARDEVS)
		FAIL(ctx, "-chardev: more than %d character devices", DM_MAX_CHARDEVS);
	rc = split_or_fail(ctx, &q, v, "backend");
	if (rc)
		return rc;
	rc = chardev_backend(ctx, &q, v, &cd);
	if (!rc)
		rc = chardev_keys(ctx, &q, v, &cd);
	if (!rc)
		rc = chardev_check(ctx, v, &cd);
	qopts_free(&q);
	if (rc) {
		free(cd.id);
		free(cd.path);
		return rc;
	}
	cfg->chardevs[cfg->n_chardevs++] = cd;
	return 0;
}

/* ---- -mon, -incoming, -rtc, -qtest, -machine, -name, -accel ----------------------------- */

static int mon_key(struct parse_ctx *ctx, const struct qopt *it, const char *v,
                   struct dm_monitor *mon)
{
	if (strcmp(it->key, "chardev") == 0 && it->val && *it->val)
		return set_str(&mon->chardev, it->val, strlen(it->val)) < 0 ? oom(ctx) : 0;
	if (strcmp(it->key, "mode") == 0 && it->val) {
		if (strcmp(it->val, "control") != 0 && strcmp(it->val, "readline") != 0)
			FAIL(ctx, "-mon '%s': mode must be control or readline", v);
		mon->control = strcmp(it->val, "control") == 0;
		return 0;
	}
	if (strcmp(it->key, "pretty") == 0) {
		if (parse_bool(it->val, &mon->pretty) < 0)
			FAIL(ctx, "-mon '%s': pretty must be on or off", v);
		return 0;
	}
	ignore_key(ctx, "-mon", it->key);
	return 0;
}

static int parse_mon(struct parse_ctx *ctx, const char *v)
{
	struct dm_config *cfg = ctx->cfg;
	struct dm_monitor mon = {0};
	struct qopts q;
	int rc;

	if (cfg->n_monitors >= DM_MAX_MONITORS)
		FAIL(ctx, "-mon: more than %d monitors", DM_MAX_MONITORS);
	rc = split_or_fail(ctx, &q, v, "chardev");
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < q.n; i++)
		rc = mon_key(ctx, &q.item[i], v, &mon);
	qopts_free(&q);
	if (!rc && !mon.chardev) {
		snprintf(ctx->err, ctx->errlen, "-mon '%s': missing chardev=", v);
		rc = 2;
	}
	if (rc) {
		free(mon.chardev);
		return rc;
	}
	cfg->monitors[cfg->n_monitors++] = mon;
	return 0;
}

static int parse_incoming(struct parse_ctx *ctx, const char *v)
{
	int fd;

	if (strncmp(v, "fd:", 3) != 0)
		FAIL(ctx, "-incoming '%s': only fd:N is supported", v);
	if (parse_fd_number(v + 3, &fd) < 0)
		FAIL(ctx, "-incoming '%s': fd:N needs a descriptor number", v);
	ctx->cfg->incoming_fd = fd;
	return 0;
}

/* base=utc|localtime|YYYY-MM-DD[THH:MM:SS] (UTC). */
static int rtc_base(struct parse_ctx *ctx, const char *val, const char *v)
{
	struct dm_config *cfg = ctx->cfg;
	struct tm tm;
	const char *end;

	if (strcmp(val, "utc") == 0) {
		cfg->rtc_base = DM_RTC_BASE_UTC;
		return 0;
	}
	if (strcmp(val, "localtime") == 0) {
		cfg->rtc_base = DM_RTC_BASE_LOCALTIME;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(val, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(val, "%Y-%m-%d", &tm);
	}
	if (!end || *end || tm.tm_year < 70)
		FAIL(ctx, "-rtc '%s': base must be utc, localtime or a date", v);
	cfg->rtc_base = DM_RTC_BASE_DATE;
	cfg->rtc_base_date = (int64_t)timegm(&tm);
	return 0;
}

static int rtc_key(struct parse_ctx *ctx, const struct qopt *it, const char *v)
{
	if (strcmp(it->key, "base") == 0 && it->val)
		return rtc_base(ctx, it->val, v);
	if (strcmp(it->key, "driftfix") == 0 && it->val) {
		if (strcmp(it->val, "slew") != 0 && strcmp(it->val, "none") != 0)
			FAIL(ctx, "-rtc '%s': driftfix must be none or slew", v);
		ctx->cfg->lost_ticks =
		        strcmp(it->val, "slew") == 0 ? RTC_LOST_TICKS_SLEW : RTC_LOST_TICKS_DISCARD;
		return 0;
	}
	if (strcmp(it->key, "clock") == 0 && it->val) {
		/* The clock is the platform's; accepted for compatibility. */
		if (strcmp(it->val, "host") != 0 && strcmp(it->val, "rt") != 0 &&
		    strcmp(it->val, "vm") != 0)
			FAIL(ctx, "-rtc '%s': clock must be host, rt or vm", v);
		return 0;
	}
	FAIL(ctx, "-rtc '%s': unknown parameter '%s'", v, it->key);
}

static int parse_rtc(struct parse_ctx *ctx, const char *v)
{
	struct qopts q;
	int rc = split_or_fail(ctx, &q, v, NULL);

	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < q.n; i++)
		rc = rtc_key(ctx, &q.item[i], v);
	qopts_free(&q);
	return rc;
}

/* *slot = a copy of val; a bare flag (val NULL) keeps nothing. */
static int keep_value(struct parse_ctx *ctx, char **slot, const char *val)
{
	return val && set_str(slot, val, strlen(val)) < 0 ? oom(ctx) : 0;
}

/* Keep the value of the implied key of v in *slot and that of `also` (may
 * be NULL) in *also_slot; every other key is named as ignored. */
static int keep_implied(struct parse_ctx *ctx, const char *opt, const char *v, const char *implied,
                        char **slot, const char *also, char **also_slot)
{
	struct qopts q;
	int rc = split_or_fail(ctx, &q, v, implied);

	for (size_t i = 0; !rc && i < q.n; i++) {
		const struct qopt *it = &q.item[i];

		if (strcmp(it->key, implied) == 0)
			rc = keep_value(ctx, slot, it->val);
		else if (also && strcmp(it->key, also) == 0)
			rc = keep_value(ctx, also_slot, it->val);
		else
			ignore_key(ctx, opt, it->key);
	}
	if (q.buf)
		qopts_free(&q);
	return rc;
}

static int parse_qtest(struct parse_ctx *ctx, const char *opt, const char *v)
{
	char *path = NULL;
	int rc;

	if (strncmp(v, "unix:", 5) != 0 || !v[5] || v[5] == ',')
		FAIL(ctx, "%s '%s': expected unix:PATH", opt, v);
	rc = keep_implied(ctx, opt, v + 5, "path", &path, NULL, NULL);
	if (!rc && strlen(path) >= 108) { /* sizeof(sun_path) */
		snprintf(ctx->err, ctx->errlen, "%s: socket path longer than 107 bytes", opt);
		rc = 2;
	}
	if (rc) {
		free(path);
		return rc;
	}
	free(ctx->cfg->qtest_path);
	ctx->cfg->qtest_path = path;
	return 0;
}

static int parse_machine(struct parse_ctx *ctx, const char *v)
{
	if (set_str(&ctx->cfg->machine, v, strlen(v)) < 0)
		return oom(ctx);
	return keep_implied(ctx, "-machine", v, "type", &ctx->cfg->machine_type, "accel",
	                    &ctx->cfg->accel);
}

static int parse_name(struct parse_ctx *ctx, const char *opt, const char *v)
{
	char *name = NULL;
	int rc = keep_implied(ctx, opt, v, "guest", &name, NULL, NULL);

	if (!rc && (!name || !*name)) {
		snprintf(ctx->err, ctx->errlen, "%s: empty name", opt);
		rc = 2;
	}
	if (rc) {
		free(name);
		return rc;
	}
	free(ctx->cfg->name);
	ctx->cfg->name = name;
	return 0;
}

static int parse_accel(struct parse_ctx *ctx, const char *opt, const char *v)
{
	return keep_implied(ctx, opt, v, "accel", &ctx->cfg->accel, NULL, NULL);
}

/* ---- applying one option ---------------------------------------------------------------- */

static int need_existing(struct parse_ctx *ctx, const char *opt, const char *v, bool dir)
{
	struct stat st;

	if (!*v)
		FAIL(ctx, "%s: empty path", opt);
	if (stat(v, &st) < 0)
		FAIL(ctx, "%s '%s': %s", opt, v, strerror(errno));
	if (dir && !S_ISDIR(st.st_mode))
		FAIL(ctx, "%s '%s': not a directory", opt, v);
	if (!dir && !S_ISREG(st.st_mode))
		FAIL(ctx, "%s '%s': not a regular file", opt, v);
	if (access(v, dir ? (R_OK | W_OK | X_OK) : R_OK) < 0)
		FAIL(ctx, "%s '%s': %s", opt, v, strerror(errno));
	return 0;
}

/* A path (or name) option kept as given; `existing`: 'd' an existing
 * directory, 'f' an existing regular file, 0 any non-empty string. */
static int keep_path(struct parse_ctx *ctx, const char *opt, const char *v, char existing,
                     const char *empty, char **slot)
{
	int rc = existing ? need_existing(ctx, opt, v, existing == 'd') : 0;

	if (rc)
		return rc;
	if (!*v)
		FAIL(ctx, "%s: empty %s", opt, empty);
	return set_str(slot, v, strlen(v)) < 0 ? oom(ctx) : 0;
}

/* Options without a value: switches and counters. */
static int apply_switch(struct parse_ctx *ctx, enum opt_id id)
{
	struct dm_config *cfg = ctx->cfg;

	switch (id) {
	case OPT_VERBOSE:
	case OPT_QUIET:
		cfg->verbosity += id == OPT_VERBOSE ? 1 : -1;
		return 0;
	case OPT_HELP:
		cfg->help = true;
		return 0;
	case OPT_VERSION:
		cfg->version = true;
		return 0;
	case OPT_S:
		cfg->start_paused = true;
		return 0;
	case OPT_DOMID_RESTRICT:
		cfg->domid_restrict = true;
		return 0;
	case OPT_NO_SHUTDOWN:
		cfg->no_shutdown = true;
		return 0;
	case OPT_COMPANION:
		cfg->companion_given = true;
		return 0;
	case OPT_RTC_ONLY:
		cfg->rtc_only = true;
		return 0;
	default:
		FAIL(ctx, "internal error: option %d is not a switch", (int)id);
	}
}

/* Options whose value is one word of a fixed set or a number. */
static int apply_choice(struct parse_ctx *ctx, enum opt_id id, const char *opt, const char *v)
{
	struct dm_config *cfg = ctx->cfg;
	int64_t i64;

	switch (id) {
	case OPT_PLATFORM:
		if (strcmp(v, "sim") != 0 && strcmp(v, "xen") != 0)
			FAIL(ctx, "%s '%s': expected sim or xen", opt, v);
		cfg->platform = strcmp(v, "sim") == 0 ? DM_PLATFORM_SIM : DM_PLATFORM_XEN;
		cfg->platform_given = true;
		return 0;
	case OPT_TIME_OFFSET:
		if (dm_parse_i64(v, &i64) < 0 || !dm_offset_in_range(i64))
			FAIL(ctx, "%s '%s': expected whole seconds in %lld..%lld", opt, v,
			     (long long)DM_OFFSET_MIN, (long long)DM_OFFSET_MAX);
		cfg->time_offset = i64;
		cfg->time_offset_given = true;
		return 0;
	case OPT_SIM_WALLCLOCK:
		if (dm_parse_wallclock(v, &cfg->sim_wallclock_ns) < 0)
			FAIL(ctx, "%s '%s': expected UNIX_SECONDS[.FRACTION]", opt, v);
		cfg->sim_wallclock_given = true;
		return 0;
	case OPT_LOST_TICKS:
		if (strcmp(v, "discard") != 0 && strcmp(v, "slew") != 0)
			FAIL(ctx, "%s '%s': expected discard or slew", opt, v);
		cfg->lost_ticks = strcmp(v, "slew") == 0 ? RTC_LOST_TICKS_SLEW : RTC_LOST_TICKS_DISCARD;
		cfg->lost_ticks_given = true;
		return 0;
	case OPT_INDEX_WAIT: {
		uint64_t us;

		if (dm_parse_u64(v, &us) < 0 || us > DM_INDEX_WAIT_US_MAX)
			FAIL(ctx, "%s '%s': expected microseconds in 0..%u", opt, v,
			     DM_INDEX_WAIT_US_MAX);
		cfg->index_wait_us = (unsigned)us;
		return 0;
	}
	case OPT_UUID:
		if (dm_parse_uuid(v, cfg->uuid) < 0)
			FAIL(ctx, "%s '%s': expected a UUID (8-4-4-4-12 hex digits)", opt, v);
		cfg->uuid_set = true;
		return 0;
	default:
		FAIL(ctx, "internal error: option %d is not a choice", (int)id);
	}
}

/* Options whose value is a path or a name, kept as given. */
static int apply_path(struct parse_ctx *ctx, enum opt_id id, const char *opt, const char *v)
{
	struct dm_config *cfg = ctx->cfg;

	switch (id) {
	case OPT_STATE_DIR:
		return keep_path(ctx, opt, v, 'd', "path", &cfg->state_dir);
	case OPT_RESTORE:
		return keep_path(ctx, opt, v, 'f', "path", &cfg->restore_file);
	case OPT_LOADVM:
		return keep_path(ctx, opt, v, 'f', "path", &cfg->loadvm);
	case OPT_SIM_SHINFO:
		return keep_path(ctx, opt, v, 0, "path", &cfg->sim_shared_info);
	case OPT_SIM_XENSTORE:
		return keep_path(ctx, opt, v, 0, "path", &cfg->sim_xenstore);
	case OPT_SAVE_PATH:
		return keep_path(ctx, opt, v, 0, "path", &cfg->save_path);
	case OPT_QTEST_LOG:
		return keep_path(ctx, opt, v, 0, "path", &cfg->qtest_log);
	case OPT_RUNAS:
		return keep_path(ctx, opt, v, 0, "user", &cfg->runas);
	case OPT_CHROOT:
		return keep_path(ctx, opt, v, 0, "directory", &cfg->chroot_dir);
	case OPT_QEMU:
		if (v[0] != '/')
			FAIL(ctx, "%s '%s': expected an absolute path", opt, v);
		return keep_path(ctx, opt, v, 0, "path", &cfg->qemu_path);
	default:
		FAIL(ctx, "internal error: option %d is not a path", (int)id);
	}
}

/* QEMU options whose value is a QEMU option string (KEY=VALUE,...). */
static int apply_option_string(struct parse_ctx *ctx, enum opt_id id, const char *opt,
                               const char *v)
{
	switch (id) {
	case OPT_CHARDEV:
		return parse_chardev(ctx, v);
	case OPT_MON:
		return parse_mon(ctx, v);
	case OPT_NAME:
		return parse_name(ctx, opt, v);
	case OPT_RTC:
		return parse_rtc(ctx, v);
	case OPT_QTEST:
		return parse_qtest(ctx, opt, v);
	case OPT_MACHINE:
		return parse_machine(ctx, v);
	case OPT_ACCEL:
		return parse_accel(ctx, opt, v);
	default:
		FAIL(ctx, "internal error: option %d is not an option string", (int)id);
	}
}

static int apply(struct parse_ctx *ctx, const struct opt *o, const char *opt, const char *v)
{
	char what[64];

	switch (o->id) {
	case OPT_IGNORE:
		snprintf(what, sizeof(what), "-%s", o->name);
		note_ignored(ctx->ignored_opts, sizeof(ctx->ignored_opts), what);
		return 0;
	case OPT_DOMID:
	case OPT_XEN_DOMID:
		return parse_domid(ctx, opt, v);
	case OPT_INCOMING:
		return parse_incoming(ctx, v);
	case OPT_VERBOSE: case OPT_QUIET: case OPT_HELP: case OPT_VERSION:
	case OPT_S: case OPT_DOMID_RESTRICT: case OPT_NO_SHUTDOWN: case OPT_COMPANION:
	case OPT_RTC_ONLY:
		return apply_switch(ctx, o->id);
	case OPT_PLATFORM: case OPT_TIME_OFFSET: case OPT_SIM_WALLCLOCK:
	case OPT_LOST_TICKS: case OPT_INDEX_WAIT: case OPT_UUID:
		return apply_choice(ctx, o->id, opt, v);
	case OPT_STATE_DIR: case OPT_RESTORE: case OPT_LOADVM: case OPT_SIM_SHINFO:
	case OPT_SIM_XENSTORE: case OPT_SAVE_PATH: case OPT_QTEST_LOG: case OPT_RUNAS:
	case OPT_CHROOT: case OPT_QEMU:
		return apply_path(ctx, o->id, opt, v);
	case OPT_CHARDEV: case OPT_MON: case OPT_NAME: case OPT_RTC: case OPT_QTEST:
	case OPT_MACHINE: case OPT_ACCEL:
		return apply_option_string(ctx, o->id, opt, v);
	}
	FAIL(ctx, "%s: internal error", opt);
}

/* An option in neither table: skip the next word too unless it looks like
 * an option (both are named).  Returns how many words it took. */
static int skip_unknown(struct parse_ctx *ctx, int argc, char *const argv[], int i,
                        bool inline_val)
{
	bool takes_next = !inline_val && i + 1 < argc && argv[i + 1][0] != '-';
	char what[160];

	snprintf(what, sizeof(what), "%.70s%s%.70s (unknown)", argv[i], takes_next ? " " : "",
	         takes_next ? argv[i + 1] : "");
	note_ignored(ctx->ignored_opts, sizeof(ctx->ignored_opts), what);
	return takes_next ? 2 : 1;
}

/* Whether the argument list is the one libxl gives qemu-xen for an HVM
 * domain: its machine is "xenfv", or "pc" with the xen accelerator (libxl's
 * choice when xen_platform_pci = 0).  For PVH libxl starts QEMU only as a
 * backend, with "-machine xenpv", and rtcdm-attach passes no -machine. */
static bool libxl_hvm_cmdline(const struct dm_config *cfg)
{
	const char *type = cfg->machine_type;

	if (!type)
		return false;
	return strcmp(type, "xenfv") == 0 ||
	       (strcmp(type, "pc") == 0 && cfg->accel && strcmp(cfg->accel, "xen") == 0);
}

/* The mode, in this one place: companion mode (QEMU as rtcdm's child) when
 * --companion is given, or by default when libxl starts rtcdm as the device
 * model of an HVM domain (--platform xen and libxl's HVM argument list) and
 * --rtc-only is not given; RTC-only mode otherwise (the simulated platform,
 * tests and the demo, a PVH domain where rtcdm is the whole RTC, or
 * --rtc-only).  --companion with --rtc-only is refused before this. */
static void choose_mode(struct dm_config *cfg)
{
	if (cfg->companion_given) {
		cfg->companion = true;
		cfg->mode_reason = "companion mode (--companion)";
	} else if (cfg->rtc_only) {
		cfg->companion = false;
		cfg->mode_reason = "RTC-only mode (--rtc-only)";
	} else if (cfg->platform != DM_PLATFORM_XEN) {
		cfg->companion = false;
		cfg->mode_reason = "RTC-only mode (simulated platform)";
	} else if (libxl_hvm_cmdline(cfg)) {
		cfg->companion = true;
		cfg->mode_reason = "companion mode (HVM domain started by libxl)";
	} else {
		cfg->companion = false;
		cfg->mode_reason = "RTC-only mode (not libxl's HVM argument list)";
	}
}

/* Checks across options, once all are read. */
static int check_consistency(struct parse_ctx *ctx, bool xen_domid_seen)
{
	struct dm_config *cfg = ctx->cfg;

	for (size_t m = 0; m < cfg->n_monitors; m++)
		if (!dm_config_chardev(cfg, cfg->monitors[m].chardev))
			FAIL(ctx, "-mon: no -chardev with id '%s'", cfg->monitors[m].chardev);
	if (!cfg->platform_given)
		cfg->platform = xen_domid_seen && !cfg->qtest_path ? DM_PLATFORM_XEN : DM_PLATFORM_SIM;
	if (cfg->platform == DM_PLATFORM_XEN && cfg->domid < 0 && !cfg->help && !cfg->version)
		FAIL(ctx, "--platform xen needs a domain id (--domid or -xen-domid)");
	if (cfg->platform == DM_PLATFORM_XEN && cfg->qtest_path)
		FAIL(ctx, "-qtest needs --platform sim");
	if (cfg->platform == DM_PLATFORM_XEN && cfg->sim_xenstore)
		FAIL(ctx, "--sim-xenstore needs --platform sim");
	if ((cfg->restore_file != NULL) + (cfg->loadvm != NULL) + (cfg->incoming_fd >= 0) > 1)
		FAIL(ctx, "--restore, -loadvm and -incoming are exclusive");
	if (cfg->companion_given && cfg->rtc_only)
		FAIL(ctx, "--companion and --rtc-only are exclusive");
	choose_mode(cfg);
	if (cfg->qemu_path && cfg->rtc_only)
		FAIL(ctx, "--qemu and --rtc-only are exclusive");
	if (cfg->qemu_path && !cfg->companion)
		FAIL(ctx, "--qemu needs --companion");
	return 0;
}

/* Look argv[i] up: ours first for --opt, then QEMU's (it accepts --opt
 * too); *inline_val is the VALUE of --opt=VALUE. */
static const struct opt *find_option(const char *arg, const char **inline_val, size_t *shown)
{
	const char *name = arg + 1 + (arg[1] == '-');
	size_t len = arg[1] == '-' ? strcspn(name, "=") : strlen(name);
	const struct opt *o = NULL;

	*inline_val = arg[1] == '-' && name[len] == '=' ? name + len + 1 : NULL;
	*shown = (size_t)(name - arg) + len;
	if (arg[1] == '-')
		o = lookup(own_opts, sizeof(own_opts) / sizeof(own_opts[0]), name, len);
	return o ? o : lookup(qemu_opts, N_QEMU_OPTS, name, len);
}

int dm_cli_parse(struct dm_config *cfg, int argc, char *const argv[], struct dm_log *log,
                 char *err, size_t errlen)
{
	struct parse_ctx ctx = {.cfg = cfg, .log = log, .err = err, .errlen = errlen};
	bool xen_domid_seen = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		const struct opt *o;
		size_t shown;

		if (arg[0] != '-' || arg[1] == '\0')
			FAIL(&ctx, "unexpected argument '%s' (options start with '-')", arg);
		if (strcmp(arg, "-v") == 0 || strcmp(arg, "-q") == 0) {
			cfg->verbosity += arg[1] == 'v' ? 1 : -1;
			continue;
		}
		o = find_option(arg, &v, &shown);
		if (!o) {
			i += skip_unknown(&ctx, argc, argv, i, v != NULL) - 1;
			continue;
		}
		if (!o->has_arg && v)
			FAIL(&ctx, "%.*s takes no value", (int)shown, arg);
		if (o->has_arg && !v) {
			if (i + 1 >= argc)
				FAIL(&ctx, "%s needs an argument", arg);
			v = argv[++i];
		}
		rc = apply(&ctx, o, arg, v);
		if (rc)
			return rc;
		xen_domid_seen |= o->id == OPT_XEN_DOMID;
	}
	rc = check_consistency(&ctx, xen_domid_seen);
	if (rc)
		return rc;
	if (!cfg->help && !cfg->version)
		dm_info(log, "%s", cfg->mode_reason);
	/* In companion mode what rtcdm does not use is QEMU's, not ignored. */
	if (!cfg->companion && (ctx.ignored_opts[0] || ctx.ignored_keys[0]))
		dm_info(log, "RTC only, ignoring%s%s%s%s%s", ctx.ignored_opts[0] ? " options " : "",
		        ctx.ignored_opts, ctx.ignored_opts[0] && ctx.ignored_keys[0] ? ";" : "",
		        ctx.ignored_keys[0] ? " keys " : "", ctx.ignored_keys);
	return 0;
}

int dm_cli_option_words(const char *arg, const char *next, bool *own)
{
	const struct opt *o = NULL;
	const char *name;
	size_t len;
	bool inline_val = false;

	*own = false;
	if (strcmp(arg, "-v") == 0 || strcmp(arg, "-q") == 0) {
		*own = true;
		return 1;
	}
	if (arg[0] != '-' || arg[1] == '\0')
		return 1;
	if (arg[1] == '-') {
		name = arg + 2;
		len = strcspn(name, "=");
		inline_val = name[len] == '=';
		o = lookup(own_opts, sizeof(own_opts) / sizeof(own_opts[0]), name, len);
		*own = o != NULL;
		if (!o)
			o = lookup(qemu_opts, N_QEMU_OPTS, name, len);
	} else {
		o = lookup(qemu_opts, N_QEMU_OPTS, arg + 1, strlen(arg + 1));
	}
	if (!o) /* as dm_cli_parse(): an unknown option takes a word not starting with '-' */
		return !inline_val && next && next[0] != '-' ? 2 : 1;
	return o->has_arg && !inline_val && next ? 2 : 1;
}

void dm_config_platform(const struct dm_config *cfg, struct plat_config *out)
{
	*out = (struct plat_config){
		.kind = cfg->platform == DM_PLATFORM_XEN ? PLAT_XEN : PLAT_SIM,
		.domid = cfg->domid,
		.domid_restrict = cfg->domid_restrict,
		.restoring = cfg->incoming_fd >= 0 || cfg->loadvm || cfg->restore_file,
		.qtest_path = cfg->qtest_path,
		.qtest_log = cfg->qtest_log,
		.shared_info = cfg->sim_shared_info,
		.wallclock_given = cfg->sim_wallclock_given,
		.wallclock_ns = cfg->sim_wallclock_ns,
		.index_wait_us = cfg->index_wait_us,
	};
}
