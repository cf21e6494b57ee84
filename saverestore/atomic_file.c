/*
 * atomic_file.c — write an image so that a crash or an error leaves either
 * the old complete file or the new complete one, never a mixture.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saverestore/sr.h"

int sr_write_fd(int fd, const void *buf, size_t len, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "write: %s", n < 0 ? strerror(errno) : "no progress");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Directory and base name of path, in buffers of PATH_MAX-ish size. */
static int split_path(const char *path, char *dir, char *base, size_t n)
{
	if (strlen(path) >= n || !*path)
		return -1;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, n, "%s", dirname(tmp));
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(base, n, "%s", basename(tmp));
	return 0;
}

/*
 * The temporary of path is DIR/.BASE.tmp, one name per target: a writer
 * killed before its rename leaves it behind and the next write of the same
 * target takes it over, so stale temporaries never pile up.  Writers of one
 * target take turns with an exclusive flock() on the temporary, held until
 * the rename; a writer whose locked file is no longer the one at the
 * temporary's name (a previous holder renamed it into place) starts over.
 * Anything at the name that is not a regular file of ours with one link (a
 * symbolic link, a hard link, a FIFO planted there) is removed, never
 * written through.  Returns the descriptor, emptied and locked, or -1.
 */
static int open_temp(const char *path, const char *dir, const char *tmp, char *err,
                     size_t errlen)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		struct stat fs, ls;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
		              0600);

		if (fd < 0) {
			int e = errno;

			if ((e == ELOOP || e == EACCES || e == ENXIO || e == EISDIR) &&
			    (unlink(tmp) == 0 || rmdir(tmp) == 0))
				continue;
			snprintf(err, errlen, "%s: cannot create a temporary file in %s: %s", path, dir,
			         strerror(e));
			return -1;
		}
		/* Where flock() is not supported the write goes ahead unlocked. */
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
		if (fstat(fd, &fs) < 0 || lstat(tmp, &ls) < 0 || fs.st_dev != ls.st_dev ||
		    fs.st_ino != ls.st_ino) {
			close(fd); /* renamed into place or removed meanwhile: again */
			continue;
		}
		if (!S_ISREG(fs.st_mode) || fs.st_nlink != 1 || fs.st_uid != geteuid()) {
			unlink(tmp);
			close(fd);
			continue;
		}
		if (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0) {
			snprintf(err, errlen, "%s: cannot reset the temporary file %s: %s", path, tmp,
			         strerror(errno));
			close(fd);
			return -1;
		}
		return fd;
	}
	snprintf(err, errlen, "%s: the temporary file %s keeps changing", path, tmp);
	return -1;
}

int sr_write_file_atomic(const char *path, const void *buf, size_t len, char *err, size_t errlen)
{
	char dir[4096], base[4096], tmp[4096 + 16];
	struct stat st;

	if (!path || split_path(path, dir, base, sizeof(dir))) {
		snprintf(err, errlen, "%s: invalid path", path ? path : "(null)");
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "%s: refusing to write through a symbolic link", path);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", path);
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, base) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int fd = open_temp(path, dir, tmp, err, errlen);
	if (fd < 0)
		return -1;
	char why[SR_ERR_MAX];
	const char *step = NULL;
	int saved = 0;
	if (sr_write_fd(fd, buf, len, why, sizeof(why)))
		step = why;
	else if (fsync(fd)) {
		step = "fsync";
		saved = errno;
	}
	if (!step && rename(tmp, path)) {
		step = "rename";
		saved = errno;
	}
	if (step)
		unlink(tmp);
	close(fd); /* drops the lock; the data were synced before the rename */
	if (step) {
		if (step == why)
			snprintf(err, errlen, "%s: %s", path, why);
		else
			snprintf(err, errlen, "%s: %s: %s", path, step, strerror(saved));
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		snprintf(err, errlen, "%s: fsync of directory %s: %s", path, dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1; /* the new file is in place; its durability is not known */
	}
	close(dfd);
	return 0;
}

int sr_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	uint8_t *b = malloc(max + 1);
	if (!b) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, b + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
fail:
	close(fd);
	free(b);
	return -1;
}
