/*
 * battery.h — the battery-backed CMOS of a domain: a PC keeps its clock and
 * NVRAM across power cycles, so rtcdm keeps them across device-model runs
 * (reboot = a new device model for the same domain UUID).
 *
 * The file is STATE_DIR/<uuid>.cmos, an image in rtcdm's save format
 * (docs/save-format.md) holding what a battery keeps: the RTC record (time
 * registers and registers A-D), the NVRAM (bytes 14..127) and the offset.
 * Interrupt state is what a power-on reset leaves (datasheet: RESET clears
 * PIE, AIE, UIE, SQWE and the flags of register C); the offset never carries
 * the toolstack's authority (the toolstack passes its offset at every start).
 *
 * Updates: every change (guest offset change, toolstack offset, guest write
 * of register A, B or an NVRAM byte) arms a short timer
 * (DM_BATTERY_DELAY_MS); when it fires the file is rewritten atomically
 * (temporary file, fsync, rename, directory fsync) if what a battery keeps
 * differs from the last file written.  A guest writing NVRAM in a loop thus
 * costs at most one fsync per DM_BATTERY_DELAY_MS.  The file is written once
 * more at exit.  A SIGKILL loses at most the last DM_BATTERY_DELAY_MS of
 * changes; the file on disk is always a complete old or new image.  (In
 * companion mode the start-up merge of QEMU's configuration bytes counts as
 * a change only after a restore or migration: on a fresh boot the file
 * already holds every byte QEMU does not set again; dm/serving.c.)
 *
 * The state directory (default RTCDM_STATE_DIR) is opened component by
 * component; the default is created when missing, with its missing parents
 * (0755, the state directory itself 0700).  A state directory that is a
 * symbolic link (however spelled: "DIR/", "DIR/."), a battery file that is
 * one, and a world-writable state directory are refused.  Files are 0600.
 *
 * The directory is kept open: every later access goes through that
 * descriptor (openat, renameat, fsync), so the file stays reachable after
 * -chroot.  With -runas, the file lives in STATE_DIR/<uuid>/, made 0700 and
 * given to the run-as user at start (while rtcdm is root), so that the user
 * can replace it after the switch; STATE_DIR itself stays root's, and the
 * user reaches nothing else of it.
 */
#ifndef RTCDM_DM_BATTERY_H
#define RTCDM_DM_BATTERY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/device.h"
#include "dm/privs.h"
#include "base/log.h"
#include "base/loop.h"
#include "saverestore/sr.h"

#define DM_BATTERY_DELAY_MS 100u

/* What a battery keeps, compared to decide whether to rewrite the file. */
struct dm_battery_key {
	uint8_t nvram[SR_NVRAM_LEN];
	uint8_t reg_a, reg_b;
	int64_t seconds;
	uint32_t phase_ns;
};

struct dm_battery {
	bool enabled;
	int dirfd;           /* the directory holding the file, or -1 */
	char name[NAME_MAX + 1]; /* <uuid>.cmos */
	char dir[PATH_MAX];  /* STATE_DIR, or STATE_DIR/<uuid> with -runas (messages) */
	char path[PATH_MAX]; /* dir/name (messages) */
	struct dm_device *dev;
	const struct dm_log *log;
	struct dm_timer timer;
	bool timer_ready;
	bool written;               /* key below is what the file holds */
	struct dm_battery_key key;
	unsigned writes;            /* files written (log, tests) */
	/* Called after each file written, with its bytes (companion mode's
	 * serving part tells the supervisor its last state); NULL: none. */
	void (*on_written)(void *opaque, const uint8_t *image, size_t len);
	void *on_written_opaque;
};

/*
 * Set up the battery for domain `uuid` (36-character text form) in
 * state_dir (NULL: RTCDM_STATE_DIR, created with its missing parents when
 * missing).  owner: the -runas user, who gets the per-domain directory, or
 * NULL.  uuid NULL: disabled (b->enabled false, 0 returned).  -1 with a
 * one-line reason naming the path in err when the directory or the file
 * cannot be used: the device model then does not start (rtcdm(8)).
 */
int dm_battery_init(struct dm_battery *b, const char *state_dir, const char *uuid,
                    const struct dm_runas *owner, struct dm_device *dev, struct dm_loop *loop, const struct dm_log *log,
                    char *err, size_t errlen);
void dm_battery_fini(struct dm_battery *b);

/* Read the file into img.  1 when loaded, 0 when there is none (or the
 * battery is disabled), -1 with a reason in err when it is refused (the
 * device model then starts as with no file; the file is rewritten at the
 * next change). */
int dm_battery_load(struct dm_battery *b, struct sr_image *img, char *err, size_t errlen);

/* Something a battery keeps may have changed: write within
 * DM_BATTERY_DELAY_MS. */
void dm_battery_changed(struct dm_battery *b);

/* Write now when the content differs from the file.  0 or -1 (logged). */
int dm_battery_flush(struct dm_battery *b);

/* The image a battery keeps for the running RTC (see above), encoded into
 * buf; returns its size (see sr_encode). */
size_t dm_battery_encode(struct rtc *rtc, uint8_t *buf, size_t cap, struct dm_battery_key *key);

#endif
