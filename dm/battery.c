/* battery.c — the battery-backed CMOS file (see battery.h). */
#include "dm/battery.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static void timer_fired(void *opaque)
{
	dm_battery_flush(opaque);
}

/* One path component of at most NAME_MAX bytes, copied into name. */
static const char *next_component(const char *p, char *name, size_t *len)
{
	while (*p == '/')
		p++;
	*len = strcspn(p, "/");
	if (*len > NAME_MAX)
		*len = NAME_MAX + 1;
	else
		memcpy(name, p, *len);
	name[*len <= NAME_MAX ? *len : 0] = '\0';
	return p + strcspn(p, "/");
}

/* Is the rest of the path only '/' and '.' components? */
static bool last_component(const char *p)
{
	for (;;) {
		while (*p == '/')
			p++;
		if (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
			p++;
		else
			return *p == '\0';
	}
}

/* Why opening `name` in fd failed, as the state directory's error. */
static void dir_error(int fd, const char *name, const char *dir, bool created, int e, char *err,
                      size_t errlen)
{
	struct stat st;

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		snprintf(err, errlen, "state directory '%s': refusing a symbolic link", dir);
	else if (e == ENOTDIR)
		snprintf(err, errlen, "state directory '%s': not a directory", dir);
	else if (created)
		snprintf(err, errlen, "state directory '%s': cannot create it: %s", dir, strerror(e));
	else
		snprintf(err, errlen, "state directory '%s': %s", dir, strerror(e));
}

/*
 * Open the state directory the way it is used: component by component from
 * / (or the working directory), so that the directory checked is the one
 * written to.  The components leading to it may be symbolic links (a
 * distribution's /var/run -> /run); the directory itself may not, however
 * the path spells it (a trailing '/' or '/.' does not hide a link); '..' is
 * refused.  With `create`, missing components are made: 0755, the
 * directory itself 0700.  The directory must not be world-writable.
 * Returns the descriptor (O_RDONLY | O_DIRECTORY), or -1 with err set.
 */
static int open_state_dir(const char *dir, bool create, char *err, size_t errlen)
{
	char name[NAME_MAX + 1];
	const char *p = dir;
	struct stat st;
	int fd = open(*dir == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	while (fd >= 0 && !last_component(p)) {
		size_t len;
		bool made = false;
		int next;

		p = next_component(p, name, &len);
		if (len > NAME_MAX || strcmp(name, "..") == 0) {
			snprintf(err, errlen, "state directory '%s': %s", dir,
			         len > NAME_MAX ? "a component is too long" : "'..' is not accepted");
			close(fd);
			return -1;
		}
		if (strcmp(name, ".") == 0)
			continue;
		bool last = last_component(p);
		int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (last ? O_NOFOLLOW : 0);

		next = openat(fd, name, flags);
		if (next < 0 && errno == ENOENT && create) {
			made = true;
			if (mkdirat(fd, name, last ? 0700 : 0755) == 0 || errno == EEXIST)
				next = openat(fd, name, flags);
		}
		if (next < 0) {
			dir_error(fd, name, dir, made, errno, err, errlen);
			close(fd);
			return -1;
		}
		close(fd);
		fd = next;
	}
	if (fd < 0) {
		snprintf(err, errlen, "state directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & S_IWOTH)) {
		snprintf(err, errlen, "state directory '%s': refusing a world-writable directory",
		         dir);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * With -runas: the per-domain directory STATE_DIR/<uuid>/, made (0700) and
 * given to the run-as user while rtcdm is still root, so that the file can
 * be replaced after the user switch through the descriptor kept of it.  A
 * file left in STATE_DIR by a run without -runas is moved into it.  Returns
 * the directory's descriptor or -1 with err set; closes statefd.
 */
static int open_domain_dir(struct dm_battery *b, int statefd, const char *uuid,
                           const struct dm_runas *owner, char *err, size_t errlen)
{
	struct stat st;
	int fd = -1;

	if (mkdirat(statefd, uuid, 0700) < 0 && errno != EEXIST)
		snprintf(err, errlen, "battery directory '%s': cannot create it: %s", b->dir,
		         strerror(errno));
	else if ((fd = openat(statefd, uuid, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		snprintf(err, errlen, "battery directory '%s': %s", b->dir,
		         errno == ELOOP ? "refusing a symbolic link" : strerror(errno));
	else if (fstat(fd, &st) < 0 || fchown(fd, owner->uid, owner->gid) < 0 ||
	         fchmod(fd, 0700) < 0) {
		snprintf(err, errlen, "battery directory '%s': cannot give it to uid %lu: %s", b->dir,
		         (unsigned long)owner->uid, strerror(errno));
		close(fd);
		fd = -1;
	} else if (fstatat(fd, b->name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
	           fstatat(statefd, b->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	           renameat(statefd, b->name, fd, b->name) == 0) {
		dm_info(b->log, "battery file moved into %s for -runas", b->dir);
	}
	close(statefd);
	return fd;
}

int dm_battery_init(struct dm_battery *b, const char *state_dir, const char *uuid,
                    const struct dm_runas *owner, struct dm_device *dev, struct dm_loop *loop,
                    const struct dm_log *log, char *err, size_t errlen)
{
	const char *dir = state_dir ? state_dir : RTCDM_STATE_DIR;
	struct stat st;
	int rc, fd;

	memset(b, 0, sizeof(*b));
	b->dirfd = -1;
	b->dev = dev;
	b->log = log;
	if (!uuid) {
		dm_info(log, "battery-backed CMOS disabled: the domain's UUID is not known");
		return 0;
	}
	snprintf(b->name, sizeof(b->name), "%s.cmos", uuid);
	if ((size_t)snprintf(b->dir, sizeof(b->dir), "%s%s%s", dir, owner ? "/" : "",
	                     owner ? uuid : "") >= sizeof(b->dir) ||
	    (size_t)snprintf(b->path, sizeof(b->path), "%s/%s", b->dir, b->name) >=
	            sizeof(b->path)) {
		snprintf(err, errlen, "state directory '%s': path too long", dir);
		return -1;
	}
	fd = open_state_dir(dir, state_dir == NULL, err, errlen);
	if (fd >= 0 && owner)
		fd = open_domain_dir(b, fd, uuid, owner, err, errlen);
	if (fd < 0)
		return -1;
	b->dirfd = fd;
	if (fstatat(fd, b->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
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
	if (b->dirfd >= 0)
		close(b->dirfd);
	b->dirfd = -1;
}

int dm_battery_load(struct dm_battery *b, struct sr_image *img, char *err, size_t errlen)
{
	char why[SR_ERR_MAX];
	struct stat st;
	uint8_t *buf;
	size_t len;
	int fd, rc;

	if (!b->enabled)
		return 0;
	fd = openat(b->dirfd, b->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "battery file %s: %s", b->path,
		         fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rc = sr_read_fd(fd, b->path, SR_IMAGE_MAX, &buf, &len, why, sizeof(why));
	close(fd);
	if (rc < 0) {
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
	if (sr_write_file_at(b->dirfd, b->name, b->path, buf, n, err, sizeof(err)) < 0) {
		dm_err(b->log, "battery file not updated: %s", err);
		return -1;
	}
	memcpy(&b->key, &key, sizeof(key));
	b->written = true;
	b->writes++;
	dm_debug(b->log, "battery file %s updated", b->path);
	if (b->on_written)
		b->on_written(b->on_written_opaque, buf, n);
	return 0;
}
