/*
 * cli.h — rtcdm's command line: its own options and the argument list libxl
 * gives a qemu-xen device model.
 *
 * Own options (also accepted as --opt=VALUE):
 *   --domid N, --platform sim|xen, --time-offset SECONDS, --state-dir DIR,
 *   --restore FILE, --qtest unix:PATH, --sim-shared-info FILE,
 *   --sim-wallclock UNIX_SECONDS[.NS], --sim-xenstore DIR, --save-path FILE,
 *   --lost-ticks discard|slew, --companion, --rtc-only, --qemu PATH, -v, -q,
 *   --help, --version.
 * The mode (companion or RTC-only) is decided once all options are read
 * (choose_mode() in cli.c): companion mode with --companion, or by default
 * for libxl's HVM argument list on --platform xen; RTC-only otherwise.
 * QEMU options are looked up in a table with their arity.  Those that matter
 * here are parsed and validated (-xen-domid, -chardev, -mon, -name, -uuid,
 * -incoming, -loadvm, -S, -runas, -chroot, -xen-domid-restrict, -rtc,
 * -qtest, -qtest-log, -machine, -accel, -no-shutdown); the others are
 * logged once ("ignoring option -vnc") and skipped with their argument.
 * An option in neither table is logged and skipped; the next word is taken
 * as its argument unless it starts with '-'.
 */
#ifndef RTCDM_DM_CLI_H
#define RTCDM_DM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "base/parse.h"
#include "platform/platform.h"
#include "rtc/rtc.h"
#include "toolstack/dm_ops.h" /* DM_DOMID_MAX */

#define DM_MAX_CHARDEVS 8
#define DM_MAX_MONITORS 8
/* --index-wait-us: how long the Xen platform waits for the data access
 * that follows an index write (platform/xen/platform.c). */
#define DM_INDEX_WAIT_US_DEFAULT 200
#define DM_INDEX_WAIT_US_MAX 10000u
#define DM_STR_(x) #x
#define DM_STR(x) DM_STR_(x)

enum dm_platform_kind {
	DM_PLATFORM_SIM = 0,
	DM_PLATFORM_XEN = 1,
};

enum dm_chardev_backend {
	DM_CHARDEV_SOCKET = 0, /* unix socket by path or pre-opened fd */
	DM_CHARDEV_OTHER = 1,  /* any other backend: recorded, not used */
};

struct dm_chardev {
	char *id;
	enum dm_chardev_backend backend;
	char *path;  /* socket path, or NULL when fd is used */
	int fd;      /* pre-opened listening socket (dm_restrict), or -1 */
	bool server; /* server=on */
	bool wait;   /* wait=on */
};

struct dm_monitor {
	char *chardev;  /* id of a struct dm_chardev */
	bool control;   /* mode=control (QMP) rather than readline */
	bool pretty;
};

enum dm_rtc_base {
	DM_RTC_BASE_UTC = 0,
	DM_RTC_BASE_LOCALTIME = 1,
	DM_RTC_BASE_DATE = 2, /* rtc_base_date holds the guest's start time */
};

struct dm_config {
	/* identity */
	int domid;          /* -1 when not given */
	char *name;         /* -name (first field) */
	uint8_t uuid[16];
	bool uuid_set;
	/* platform and time */
	enum dm_platform_kind platform;
	bool platform_given;
	bool time_offset_given; /* --time-offset: toolstack offset, set flag */
	int64_t time_offset;
	enum rtc_lost_tick_policy lost_ticks;
	bool lost_ticks_given;
	unsigned index_wait_us;    /* --index-wait-us (Xen platform) */
	enum dm_rtc_base rtc_base; /* -rtc base= */
	int64_t rtc_base_date;     /* UTC seconds, with DM_RTC_BASE_DATE */
	/* state */
	char *state_dir;    /* --state-dir, NULL: default */
	char *restore_file; /* --restore */
	char *loadvm;       /* -loadvm (qemu-xen-traditional restore file) */
	int incoming_fd;    /* -incoming fd:N, or -1 */
	/* qtest and the simulated platform */
	char *qtest_path;   /* -qtest / --qtest unix:PATH */
	char *qtest_log;    /* -qtest-log FILE */
	char *sim_shared_info;
	char *sim_xenstore;  /* --sim-xenstore DIR: store over a directory tree */
	char *save_path;     /* --save-path: xenstore "save" target (default
	                      * /var/lib/xen/qemu-save.<domid>) */
	bool sim_wallclock_given;
	int64_t sim_wallclock_ns;
	/* toolstack protocol */
	struct dm_chardev chardevs[DM_MAX_CHARDEVS];
	size_t n_chardevs;
	struct dm_monitor monitors[DM_MAX_MONITORS];
	size_t n_monitors;
	bool start_paused;  /* -S */
	bool no_shutdown;   /* -no-shutdown */
	bool domid_restrict; /* -xen-domid-restrict */
	char *runas;
	char *chroot_dir;
	char *machine;      /* -machine / -M, the whole value */
	char *machine_type; /* its type (the implied key), e.g. "xenfv" */
	char *accel;        /* -accel, or accel= of -machine */
	/* companion mode (dm/qemu_child.h) */
	bool companion;       /* the mode chosen: run qemu-xen as a child */
	bool companion_given; /* --companion */
	bool rtc_only;        /* --rtc-only */
	const char *mode_reason; /* "companion mode (...)" / "RTC-only mode (...)", static */
	char *qemu_path;    /* --qemu PATH, NULL: RTCDM_QEMU_PATH */
	/* process */
	int verbosity;      /* -v: +1, -q: -1 */
	bool help;
	bool version;
};

/* Defaults: domid -1, sim platform, discard, no fds. */
void dm_config_init(struct dm_config *cfg);
void dm_config_free(struct dm_config *cfg);

/*
 * Parse argv[1..argc-1] into cfg (initialised with dm_config_init).
 * The mode chosen and why (cfg->mode_reason), then the ignored and unknown
 * options, are logged to log (info level); once a domain id is parsed,
 * log->domid is set so later lines carry it.
 * Returns 0, or 2 with a one-line message in err (malformed value of an
 * option rtcdm uses, missing argument, inconsistent options).
 */
int dm_cli_parse(struct dm_config *cfg, int argc, char *const argv[], struct dm_log *log,
                 char *err, size_t errlen);

/* The option at arg (next: the word after it, or NULL) as dm_cli_parse()
 * reads it: how many words it takes (1 or 2: a value in the next word), and
 * in *own whether it is one of rtcdm's own (--NAME, -v, -q).  Companion mode
 * gives QEMU the list without rtcdm's own options. */
int dm_cli_option_words(const char *arg, const char *next, bool *own);

/* The --help text. */
const char *dm_cli_usage(void);

/* The part of the command line a platform reads (platform/platform.h): the
 * process and companion mode create their platform from it. */
void dm_config_platform(const struct dm_config *cfg, struct plat_config *out);

/* Find a chardev by id; NULL if none. */
const struct dm_chardev *dm_config_chardev(const struct dm_config *cfg, const char *id);

/* UNIX_SECONDS[.FRACTION] (up to 9 fraction digits) to ns.  0 or -1. */
int dm_parse_wallclock(const char *s, int64_t *ns);
/* 8-4-4-4-12 hex digits.  0 or -1. */
int dm_parse_uuid(const char *s, uint8_t uuid[16]);

#endif
