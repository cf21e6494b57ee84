/* battery.c — the battery-backed CMOS file (see battery.h). */
#include "dm/battery.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"

static void timer_fired(void *opaque)
{
	dm_battery_flush(opaque);
}

/* The directory must be a real directory, not a symlink, not writable by
 * others.  Created 0700 when missing and `create`. */
static int check_dir(const char *dir, bool create, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		if (errno != ENOENT || !create) {
			snprintf(err, errlen, "state directory '%s': %s", dir, strerror(errno));
			return -1;
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "state directory '%s': cannot create it: %s", dir,
			         strerror(errno));
			return -1;
		}
		if (lstat(dir, &st) < 0) {
			snprintf(err, errlen, "state directory '%s': %s", dir, strerror(errno));
			return -1;
		}
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "state directory '%s': refusing a symbolic link", dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state directory '%s': not a directory", dir);
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(err, errlen, "state directory '%s': refusing a world-writable directory",
		         dir);
		return -1;
	}
	return 0;
}

int dm_battery_init(struct dm_battery *b, const char *state_dir, const char *uuid,
                    struct dm_device *dev, struct dm_loop *loop, const struct dm_log *log,
                    char *err, size_t errlen)
{
	const char *dir = state_dir ? state_dir : RTCDM_STATE_DIR;
	struct stat st;
	int rc;

	memset(b, 0, sizeof(*b));
	b->dev = dev;
	b->log = log;
	if (!uuid) {
		dm_info(log, "battery-backed CMOS disabled: the domain's UUID is not known");
		return 0;
	}
	if (check_dir(dir, state_dir == NULL, err, errlen) < 0)
		return -1;
	if ((size_t)snprintf(b->path, sizeof(b->path), "%s/%s.cmos", dir, uuid) >= sizeof(b->path)) {
		snprintf(err, errlen, "state directory '%s': path too long", dir);
		return -1;
	}
	if (lstat(b->path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "battery file '%s': %s", b->path,
		         S_ISLNK(st.st_mode) ? "refusing a symbolic link" : "not a regular file");
		return -1;
	}
	rc = dm_timer_init(&b->timer, loop, timer_fired, b);
	if (rc < 0) {
		snprintf(err, errlen, "battery: cannot create its timer: %s", strerror(-rc));
		return -1;
	}
	b->timer_ready = true;
	b->enabled = true;
	return 0;
}

void dm_battery_fini(struct dm_battery *b)
{
	if (b->enabled)
		dm_battery_flush(b);
	if (b->timer_ready)
		dm_timer_fini(&b->timer);
	b->timer_ready = false;
	b->enabled = false;
}

int dm_battery_load(struct dm_battery *b, struct sr_image *img, char *err, size_t errlen)
{
	char why[SR_ERR_MAX];
	uint8_t *buf;
	size_t len;

	if (!b->enabled)
		return 0;
	if (sr_read_file(b->path, SR_IMAGE_MAX, &buf, &len, why, sizeof(why)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "battery file %s", why);
		return -1;
	}
	if (sr_load(buf, len, img, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "battery file %s: %s", b->path, why);
		free(buf);
		return -1;
	}
	free(buf);
	return 1;
}

void dm_battery_changed(struct dm_battery *b)
{
	if (!b->enabled || b->timer.armed)
		return;
	dm_timer_arm(&b->timer, dm_monotonic_ns() + (uint64_t)DM_BATTERY_DELAY_MS * 1000000u);
}

size_t dm_battery_encode(struct rtc *rtc, uint8_t *buf, size_t cap, struct dm_battery_key *key)
{
	struct rtc_snapshot snap;
	struct sr_image img;

	rtc_snapshot(rtc, &snap);
	/* What a power-on reset leaves (MC146818 RESET). */
	snap.cmos[RTC_REG_B] &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
	snap.cmos[RTC_REG_C] = 0;
	snap.irq_level = false;
	snap.lost_ticks = 0;
	snap.period_elapsed_ns = 0;
	snap.index = 0;
	snap.nmi_masked = false;
	snap.offset.set = false;
	sr_image_from_snapshot(&img, &snap, NULL);
	img.present &= ~((1u << SR_REC_TIMER) | (1u << SR_REC_PORT));
	if (key) {
		memset(key, 0, sizeof(*key));
		memcpy(key->nvram, img.nvram, sizeof(key->nvram));
		key->reg_a = snap.cmos[RTC_REG_A];
		key->reg_b = snap.cmos[RTC_REG_B];
		key->seconds = snap.offset.seconds;
		key->phase_ns = snap.offset.phase_ns;
	}
	return sr_encode(&img, buf, cap);
}

int dm_battery_flush(struct dm_battery *b)
{
	struct dm_battery_key key;
	uint8_t buf[512];
	char err[SR_ERR_MAX + 64];
	size_t n;

	if (!b->enabled)
		return 0;
	if (b->timer.armed)
		dm_timer_disarm(&b->timer);
	n = dm_battery_encode(b->dev->rtc, buf, sizeof(buf), &key);
	if (n > sizeof(buf)) {
		dm_err(b->log, "battery file %s: image too large", b->path);
		return -1;
	}
	if (b->written && memcmp(&key, &b->key, sizeof(key)) == 0)
		return 0;
	if (sr_write_file_atomic(b->path, buf, n, err, sizeof(err)) < 0) {
		dm_err(b->log, "battery file not updated: %s", err);
		return -1;
	}
	memcpy(&b->key, &key, sizeof(key));
	b->written = true;
	b->writes++;
	dm_debug(b->log, "battery file %s updated", b->path);
	return 0;
}

int dm_battery_rebase(struct dm_battery *b, const char *root)
{
	size_t n = strlen(root);

	if (!b->enabled)
		return 0;
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strncmp(b->path, root, n) == 0 && b->path[n] == '/') {
		memmove(b->path, b->path + n, strlen(b->path + n) + 1);
		return 0;
	}
	dm_info(b->log, "battery-backed CMOS disabled: %s is outside the chroot %s", b->path, root);
	b->enabled = false;
	return -1;
}
