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
	OPT_VERBOSE,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
	OPT_COMPANION,
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
	{"verbose", false, OPT_VERBOSE},
	{"quiet", false, OPT_QUIET},
	{"help", false, OPT_HELP},
	{"version", false, OPT_VERSION},
	{"companion", false, OPT_COMPANION},
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
_Static_assert(N_QEMU_OPTS <= 8 * sizeof(((struct dm_config *)0)->ignored_logged),
               "ignored_logged too small for the QEMU option table");

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
	       "  --companion               start qemu-xen as a child with this argument list\n"
	       "                            (in progress: no RTC of rtcdm's own yet)\n"
	       "  --qemu PATH               the qemu-xen --companion starts\n"
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

static int parse_domid(struct parse_ctx *ctx, const char *opt, const char *v)
{
	uint64_t d;

	if (dm_parse_u64(v, &d) < 0 || d > DM_DOMID_MAX)
		FAIL(ctx, "%s: '%s' is not a domain id (0..%u)", opt, v, DM_DOMID_MAX);
	ctx->cfg->domid = (int)d;
	ctx->log->domid = (int)d;
	return 0;
}

/* Next "key=value" or bare "key" of a QEMU option string; ",," is not
 * treated specially (no value rtcdm uses contains a comma). */
static bool next_kv(const char **p, const char **key, size_t *klen, const char **val,
                    size_t *vlen)
{
	const char *s = *p, *end, *eq;

	if (!*s)
		return false;
	end = strchr(s, ',');
	if (!end)
		end = s + strlen(s);
	eq = memchr(s, '=', (size_t)(end - s));
	*key = s;
	if (eq) {
		*klen = (size_t)(eq - s);
		*val = eq + 1;
		*vlen = (size_t)(end - eq - 1);
	} else {
		*klen = (size_t)(end - s);
		*val = NULL;
		*vlen = 0;
	}
	*p = *end ? end + 1 : end;
	return true;
}

static bool key_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && strncmp(key, name, klen) == 0;
}

/* QEMU booleans: on/off, yes/no, true/false; a bare key means on. */
static int parse_bool(const char *val, size_t vlen, bool *out)
{
	static const char *const yes[] = {"on", "yes", "true"};
	static const char *const no[] = {"off", "no", "false"};

	if (!val) {
		*out = true;
		return 0;
	}
	for (size_t i = 0; i < 3; i++) {
		if (strlen(yes[i]) == vlen && strncmp(val, yes[i], vlen) == 0) {
			*out = true;
			return 0;
		}
		if (strlen(no[i]) == vlen && strncmp(val, no[i], vlen) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int parse_fd_number(const char *val, size_t vlen, int *out)
{
	char buf[16];
	uint64_t v;

	if (vlen == 0 || vlen >= sizeof(buf))
		return -1;
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	for (size_t i = 0; i < vlen; i++)
		if (!isdigit((unsigned char)buf[i]))
			return -1;
	if (dm_parse_u64(buf, &v) < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_chardev(struct parse_ctx *ctx, const char *v)
{
	struct dm_config *cfg = ctx->cfg;
	struct dm_chardev cd = {.fd = -1, .backend = DM_CHARDEV_OTHER};
	const char *p = v, *key, *val;
	size_t klen, vlen;
	bool first = true;
	int rc = 2;

	if (cfg->n_chardevs >= DM_MAX_CHARDEVS)
		FAIL(ctx, "-chardev: more than %d character devices", DM_MAX_CHARDEVS);
	while (next_kv(&p, &key, &klen, &val, &vlen)) {
		if (first) {
			first = false;
			if (val)
				goto bad_backend;
			if (key_is(key, klen, "socket"))
				cd.backend = DM_CHARDEV_SOCKET;
			else if (klen == 0)
				goto bad_backend;
			continue;
		}
		if (key_is(key, klen, "id")) {
			if (!val || vlen == 0) {
				snprintf(ctx->err, ctx->errlen, "-chardev '%s': empty id", v);
				goto out;
			}
			if (set_str(&cd.id, val, vlen) < 0)
				goto nomem;
		} else if (cd.backend != DM_CHARDEV_SOCKET) {
			continue; /* options of other backends are not ours to judge */
		} else if (key_is(key, klen, "path")) {
			if (!val || vlen == 0) {
				snprintf(ctx->err, ctx->errlen, "-chardev '%s': empty path", v);
				goto out;
			}
			if (set_str(&cd.path, val, vlen) < 0)
				goto nomem;
		} else if (key_is(key, klen, "fd")) {
			if (!val || parse_fd_number(val, vlen, &cd.fd) < 0) {
				snprintf(ctx->err, ctx->errlen,
				         "-chardev '%s': fd must be a descriptor number", v);
				goto out;
			}
		} else if (key_is(key, klen, "server")) {
			if (parse_bool(val, vlen, &cd.server) < 0) {
				snprintf(ctx->err, ctx->errlen, "-chardev '%s': server must be on or off", v);
				goto out;
			}
		} else if (key_is(key, klen, "wait")) {
			if (parse_bool(val, vlen, &cd.wait) < 0) {
				snprintf(ctx->err, ctx->errlen, "-chardev '%s': wait must be on or off", v);
				goto out;
			}
		} else if (key_is(key, klen, "nowait") && !val) {
			cd.wait = false;
		} else {
			dm_info(ctx->log, "-chardev: ignoring socket option '%.*s'", (int)klen, key);
		}
	}
	if (first)
		goto bad_backend;
	if (!cd.id) {
		snprintf(ctx->err, ctx->errlen, "-chardev '%s': missing id=", v);
		goto out;
	}
	if (dm_config_chardev(cfg, cd.id)) {
		snprintf(ctx->err, ctx->errlen, "-chardev: duplicate id '%s'", cd.id);
		goto out;
	}
	if (cd.backend == DM_CHARDEV_SOCKET && (cd.path != NULL) == (cd.fd >= 0)) {
		snprintf(ctx->err, ctx->errlen, "-chardev '%s': a socket needs exactly one of path= and fd=",
		         v);
		goto out;
	}
	cfg->chardevs[cfg->n_chardevs++] = cd;
	return 0;
bad_backend:
	snprintf(ctx->err, ctx->errlen, "-chardev '%s': expected BACKEND,id=ID,...", v);
	goto out;
nomem:
	snprintf(ctx->err, ctx->errlen, "out of memory");
out:
	free(cd.id);
	free(cd.path);
	return rc;
}

static int parse_mon(struct parse_ctx *ctx, const char *v)
{
	struct dm_config *cfg = ctx->cfg;
	struct dm_monitor mon = {0};
	const char *p = v, *key, *val;
	size_t klen, vlen;

	if (cfg->n_monitors >= DM_MAX_MONITORS)
		FAIL(ctx, "-mon: more than %d monitors", DM_MAX_MONITORS);
	while (next_kv(&p, &key, &klen, &val, &vlen)) {
		if (key_is(key, klen, "chardev") && val && vlen) {
			if (set_str(&mon.chardev, val, vlen) < 0) {
				free(mon.chardev);
				return oom(ctx);
			}
		} else if (key_is(key, klen, "mode") && val) {
			if (key_is(val, vlen, "control")) {
				mon.control = true;
			} else if (key_is(val, vlen, "readline")) {
				mon.control = false;
			} else {
				free(mon.chardev);
				FAIL(ctx, "-mon '%s': mode must be control or readline", v);
			}
		} else if (key_is(key, klen, "pretty")) {
			if (parse_bool(val, vlen, &mon.pretty) < 0) {
				free(mon.chardev);
				FAIL(ctx, "-mon '%s': pretty must be on or off", v);
			}
		} else {
			dm_info(ctx->log, "-mon: ignoring '%.*s'", (int)(val ? klen + 1 + vlen : klen), key);
		}
	}
	if (!mon.chardev)
		FAIL(ctx, "-mon '%s': missing chardev=", v);
	cfg->monitors[cfg->n_monitors++] = mon;
	return 0;
}

static int parse_incoming(struct parse_ctx *ctx, const char *v)
{
	int fd;

	if (strncmp(v, "fd:", 3) != 0)
		FAIL(ctx, "-incoming '%s': only fd:N is supported", v);
	if (parse_fd_number(v + 3, strlen(v + 3), &fd) < 0)
		FAIL(ctx, "-incoming '%s': fd:N needs a descriptor number", v);
	ctx->cfg->incoming_fd = fd;
	return 0;
}

static int parse_rtc(struct parse_ctx *ctx, const char *v)
{
	struct dm_config *cfg = ctx->cfg;
	const char *p = v, *key, *val;
	size_t klen, vlen;

	while (next_kv(&p, &key, &klen, &val, &vlen)) {
		if (key_is(key, klen, "base") && val) {
			char date[32];
			struct tm tm;
			const char *end;

			if (key_is(val, vlen, "utc")) {
				cfg->rtc_base = DM_RTC_BASE_UTC;
				continue;
			}
			if (key_is(val, vlen, "localtime")) {
				cfg->rtc_base = DM_RTC_BASE_LOCALTIME;
				continue;
			}
			/* base=YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC) */
			if (vlen >= sizeof(date))
				FAIL(ctx, "-rtc '%s': base must be utc, localtime or a date", v);
			memcpy(date, val, vlen);
			date[vlen] = '\0';
			memset(&tm, 0, sizeof(tm));
			end = strptime(date, "%Y-%m-%dT%H:%M:%S", &tm);
			if (!end || *end) {
				memset(&tm, 0, sizeof(tm));
				end = strptime(date, "%Y-%m-%d", &tm);
			}
			if (!end || *end || tm.tm_year < 70)
				FAIL(ctx, "-rtc '%s': base must be utc, localtime or a date", v);
			cfg->rtc_base = DM_RTC_BASE_DATE;
			cfg->rtc_base_date = (int64_t)timegm(&tm);
		} else if (key_is(key, klen, "driftfix") && val) {
			if (key_is(val, vlen, "slew"))
				cfg->lost_ticks = RTC_LOST_TICKS_SLEW;
			else if (key_is(val, vlen, "none"))
				cfg->lost_ticks = RTC_LOST_TICKS_DISCARD;
			else
				FAIL(ctx, "-rtc '%s': driftfix must be none or slew", v);
		} else if (key_is(key, klen, "clock") && val) {
			if (!key_is(val, vlen, "host") && !key_is(val, vlen, "rt") &&
			    !key_is(val, vlen, "vm"))
				FAIL(ctx, "-rtc '%s': clock must be host, rt or vm", v);
			/* The clock is the platform's; accepted for compatibility. */
		} else {
			FAIL(ctx, "-rtc '%s': unknown parameter '%.*s'", v, (int)klen, key);
		}
	}
	return 0;
}

static int parse_qtest(struct parse_ctx *ctx, const char *opt, const char *v)
{
	const char *path;

	if (strncmp(v, "unix:", 5) != 0 || !v[5])
		FAIL(ctx, "%s '%s': expected unix:PATH", opt, v);
	path = v + 5;
	if (strlen(path) >= 108) /* sizeof(sun_path) */
		FAIL(ctx, "%s: socket path longer than 107 bytes", opt);
	return set_str(&ctx->cfg->qtest_path, path, strlen(path)) < 0 ? oom(ctx) : 0;
}

static int parse_machine(struct parse_ctx *ctx, const char *v)
{
	const char *p = v, *key, *val;
	size_t klen, vlen;

	if (set_str(&ctx->cfg->machine, v, strlen(v)) < 0)
		return oom(ctx);
	while (next_kv(&p, &key, &klen, &val, &vlen))
		if (key_is(key, klen, "accel") && val && set_str(&ctx->cfg->accel, val, vlen) < 0)
			return oom(ctx);
	return 0;
}

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

static int apply(struct parse_ctx *ctx, const struct opt *o, const char *opt, const char *v)
{
	struct dm_config *cfg = ctx->cfg;
	int64_t i64;
	int rc;

	switch (o->id) {
	case OPT_IGNORE: {
		size_t idx = (size_t)(o - qemu_opts);

		if (!(cfg->ignored_logged[idx / 8] & (1u << (idx % 8)))) {
			cfg->ignored_logged[idx / 8] |= (uint8_t)(1u << (idx % 8));
			dm_info(ctx->log, "ignoring option -%s", o->name);
		}
		return 0;
	}
	case OPT_DOMID:
	case OPT_XEN_DOMID:
		return parse_domid(ctx, opt, v);
	case OPT_PLATFORM:
		if (strcmp(v, "sim") == 0)
			cfg->platform = DM_PLATFORM_SIM;
		else if (strcmp(v, "xen") == 0)
			cfg->platform = DM_PLATFORM_XEN;
		else
			FAIL(ctx, "%s '%s': expected sim or xen", opt, v);
		cfg->platform_given = true;
		return 0;
	case OPT_TIME_OFFSET:
		if (dm_parse_i64(v, &i64) < 0 || !dm_offset_in_range(i64))
			FAIL(ctx, "%s '%s': expected whole seconds in %lld..%lld", opt, v,
			     (long long)DM_OFFSET_MIN, (long long)DM_OFFSET_MAX);
		cfg->time_offset = i64;
		cfg->time_offset_given = true;
		return 0;
	case OPT_STATE_DIR:
		rc = need_existing(ctx, opt, v, true);
		return rc ? rc : set_str(&cfg->state_dir, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_RESTORE:
		rc = need_existing(ctx, opt, v, false);
		return rc ? rc : set_str(&cfg->restore_file, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_LOADVM:
		rc = need_existing(ctx, opt, v, false);
		return rc ? rc : set_str(&cfg->loadvm, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_SIM_SHINFO:
		if (!*v)
			FAIL(ctx, "%s: empty path", opt);
		return set_str(&cfg->sim_shared_info, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_SIM_XENSTORE:
		if (!*v)
			FAIL(ctx, "%s: empty path", opt);
		return set_str(&cfg->sim_xenstore, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_SAVE_PATH:
		if (!*v)
			FAIL(ctx, "%s: empty path", opt);
		return set_str(&cfg->save_path, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_SIM_WALLCLOCK:
		if (dm_parse_wallclock(v, &cfg->sim_wallclock_ns) < 0)
			FAIL(ctx, "%s '%s': expected UNIX_SECONDS[.FRACTION]", opt, v);
		cfg->sim_wallclock_given = true;
		return 0;
	case OPT_LOST_TICKS:
		if (strcmp(v, "discard") == 0)
			cfg->lost_ticks = RTC_LOST_TICKS_DISCARD;
		else if (strcmp(v, "slew") == 0)
			cfg->lost_ticks = RTC_LOST_TICKS_SLEW;
		else
			FAIL(ctx, "%s '%s': expected discard or slew", opt, v);
		cfg->lost_ticks_given = true;
		return 0;
	case OPT_VERBOSE:
		cfg->verbosity++;
		return 0;
	case OPT_QUIET:
		cfg->verbosity--;
		return 0;
	case OPT_HELP:
		cfg->help = true;
		return 0;
	case OPT_VERSION:
		cfg->version = true;
		return 0;
	case OPT_COMPANION:
		cfg->companion = true;
		return 0;
	case OPT_QEMU:
		if (v[0] != '/')
			FAIL(ctx, "%s '%s': expected an absolute path", opt, v);
		return set_str(&cfg->qemu_path, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_CHARDEV:
		return parse_chardev(ctx, v);
	case OPT_MON:
		return parse_mon(ctx, v);
	case OPT_NAME: {
		/* NAME[,process=...][,debug-threads=...]: rtcdm keeps NAME. */
		size_t len = strcspn(v, ",");

		if (len == 0)
			FAIL(ctx, "%s: empty name", opt);
		return set_str(&cfg->name, v, len) < 0 ? oom(ctx) : 0;
	}
	case OPT_UUID:
		if (dm_parse_uuid(v, cfg->uuid) < 0)
			FAIL(ctx, "%s '%s': expected a UUID (8-4-4-4-12 hex digits)", opt, v);
		cfg->uuid_set = true;
		return 0;
	case OPT_INCOMING:
		return parse_incoming(ctx, v);
	case OPT_S:
		cfg->start_paused = true;
		return 0;
	case OPT_RUNAS:
		if (!*v)
			FAIL(ctx, "%s: empty user", opt);
		return set_str(&cfg->runas, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_CHROOT:
		if (!*v)
			FAIL(ctx, "%s: empty directory", opt);
		return set_str(&cfg->chroot_dir, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_DOMID_RESTRICT:
		cfg->domid_restrict = true;
		return 0;
	case OPT_RTC:
		return parse_rtc(ctx, v);
	case OPT_QTEST:
		return parse_qtest(ctx, opt, v);
	case OPT_QTEST_LOG:
		if (!*v)
			FAIL(ctx, "%s: empty path", opt);
		return set_str(&cfg->qtest_log, v, strlen(v)) < 0 ? oom(ctx) : 0;
	case OPT_MACHINE:
		return parse_machine(ctx, v);
	case OPT_ACCEL: {
		size_t len = strcspn(v, ",");

		return set_str(&cfg->accel, v, len) < 0 ? oom(ctx) : 0;
	}
	case OPT_NO_SHUTDOWN:
		cfg->no_shutdown = true;
		return 0;
	}
	FAIL(ctx, "%s: internal error", opt);
}

int dm_cli_parse(struct dm_config *cfg, int argc, char *const argv[], struct dm_log *log,
                 char *err, size_t errlen)
{
	struct parse_ctx ctx = {cfg, log, err, errlen};
	bool xen_domid_seen = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *inline_val = NULL;
		const struct opt *o = NULL;
		size_t len;
		int rc;

		if (arg[0] != '-' || arg[1] == '\0')
			FAIL(&ctx, "unexpected argument '%s' (options start with '-')", arg);
		if (strcmp(arg, "-v") == 0 || strcmp(arg, "-q") == 0) {
			cfg->verbosity += arg[1] == 'v' ? 1 : -1;
			continue;
		}
		if (arg[1] == '-') {
			/* --opt or --opt=VALUE: ours first, then QEMU's (it accepts --opt too). */
			name = arg + 2;
			len = strcspn(name, "=");
			if (name[len] == '=')
				inline_val = name + len + 1;
			o = lookup(own_opts, sizeof(own_opts) / sizeof(own_opts[0]), name, len);
			if (!o)
				o = lookup(qemu_opts, N_QEMU_OPTS, name, len);
		} else {
			name = arg + 1;
			len = strlen(name);
			o = lookup(qemu_opts, N_QEMU_OPTS, name, len);
		}
		if (!o) {
			/* Unknown: skip the next word too unless it looks like an option. */
			if (!inline_val && i + 1 < argc && argv[i + 1][0] != '-') {
				dm_info(log, "ignoring unknown option %s %s", arg, argv[i + 1]);
				i++;
			} else {
				dm_info(log, "ignoring unknown option %s", arg);
			}
			continue;
		}
		if (!o->has_arg) {
			if (inline_val)
				FAIL(&ctx, "%.*s takes no value", (int)(name - arg + len), arg);
			rc = apply(&ctx, o, arg, NULL);
		} else {
			const char *v = inline_val;

			if (!v) {
				if (i + 1 >= argc)
					FAIL(&ctx, "%s needs an argument", arg);
				v = argv[++i];
			}
			rc = apply(&ctx, o, arg, v);
		}
		if (rc)
			return rc;
		if (o->id == OPT_XEN_DOMID)
			xen_domid_seen = true;
	}

	/* Consistency. */
	for (size_t m = 0; m < cfg->n_monitors; m++)
		if (!dm_config_chardev(cfg, cfg->monitors[m].chardev))
			FAIL(&ctx, "-mon: no -chardev with id '%s'", cfg->monitors[m].chardev);
	if (!cfg->platform_given)
		cfg->platform = xen_domid_seen && !cfg->qtest_path ? DM_PLATFORM_XEN : DM_PLATFORM_SIM;
	if (cfg->platform == DM_PLATFORM_XEN && cfg->domid < 0 && !cfg->help && !cfg->version)
		FAIL(&ctx, "--platform xen needs a domain id (--domid or -xen-domid)");
	if (cfg->platform == DM_PLATFORM_XEN && cfg->qtest_path)
		FAIL(&ctx, "-qtest needs --platform sim");
	if (cfg->platform == DM_PLATFORM_XEN && cfg->sim_xenstore)
		FAIL(&ctx, "--sim-xenstore needs --platform sim");
	if ((cfg->restore_file != NULL) + (cfg->loadvm != NULL) + (cfg->incoming_fd >= 0) > 1)
		FAIL(&ctx, "--restore, -loadvm and -incoming are exclusive");
	if (cfg->qemu_path && !cfg->companion)
		FAIL(&ctx, "--qemu needs --companion");
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
