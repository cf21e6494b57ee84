/*
 * atomic_file.c — write an image so that a crash or an error leaves either
 * the old complete file or the new complete one, never a mixture.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
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

/* Open an existing temporary left at `tmp` and check, before any lock, that
 * it is a regular file of ours with one link: a file planted there by
 * someone else is removed (when the directory lets us) and never opened for
 * writing.  Returns the descriptor, -1 to try again (removed or changed
 * meanwhile), or -2 with err set. */
static int reuse_temp(int dirfd, const char *tmp, const char *what, char *err, size_t errlen)
{
	struct stat ls, fs;
	int fd;

	if (fstatat(dirfd, tmp, &ls, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return -1;
		snprintf(err, errlen, "%s: temporary file %s: %s", what, tmp, strerror(errno));
		return -2;
	}
	if (!S_ISREG(ls.st_mode) || ls.st_nlink != 1 || ls.st_uid != geteuid()) {
		if (unlinkat(dirfd, tmp, S_ISDIR(ls.st_mode) ? AT_REMOVEDIR : 0) == 0 ||
		    errno == ENOENT)
			return -1;
		snprintf(err, errlen,
		         "%s: temporary file %s is not a file of ours and cannot be removed: %s", what,
		         tmp, strerror(errno));
		return -2;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP)
			return -1;
		snprintf(err, errlen, "%s: temporary file %s: %s", what, tmp, strerror(errno));
		return -2;
	}
	if (fstat(fd, &fs) < 0 || fs.st_dev != ls.st_dev || fs.st_ino != ls.st_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The temporary of NAME is .NAME.tmp in the same directory, one name per
 * target: a writer killed before its rename leaves it behind and the next
 * write of the same target takes it over, so stale temporaries never pile
 * up.  A new temporary is created with O_EXCL; one found at the name is
 * checked (regular, ours, one link) before it is opened, and anything else
 * (a symbolic link, a hard link, a FIFO, another user's file) is removed,
 * never written through.  Writers of one target take turns with flock(),
 * taken without waiting: a temporary locked by another writer fails this
 * write with one line, rtcdm never blocks on it.  A writer whose locked
 * file is no longer the one at the name (a previous holder renamed it into
 * place) starts over.  Returns the descriptor, emptied and locked, or -1.
 */
static int open_temp(int dirfd, const char *tmp, const char *what, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		struct stat fs, ls;
		int fd = openat(dirfd, tmp,
		                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		                        O_CLOEXEC,
		                0600);

		if (fd < 0 && errno == EEXIST)
			fd = reuse_temp(dirfd, tmp, what, err, errlen);
		else if (fd < 0) {
			snprintf(err, errlen, "%s: cannot create the temporary file %s: %s", what, tmp,
			         strerror(errno));
			return -1;
		}
		if (fd == -2)
			return -1;
		if (fd < 0)
			continue;
		/* Where flock() is not supported the write goes ahead unlocked. */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno != EINVAL && errno != ENOLCK) {
			snprintf(err, errlen, "%s: the temporary file %s is locked by another writer",
			         what, tmp);
			close(fd);
			return -1;
		}
		if (fstat(fd, &fs) < 0 || fstatat(dirfd, tmp, &ls, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fs.st_dev != ls.st_dev || fs.st_ino != ls.st_ino) {
			close(fd); /* renamed into place or removed meanwhile: again */
			continue;
		}
		if (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0) {
			snprintf(err, errlen, "%s: cannot reset the temporary file %s: %s", what, tmp,
			         strerror(errno));
			close(fd);
			return -1;
		}
		return fd;
	}
	snprintf(err, errlen, "%s: the temporary file %s keeps changing", what, tmp);
	return -1;
}

/* Write, fsync and rename the temporary over the target; on failure the
 * temporary is removed.  Closes fd (which drops the lock). */
static int commit_temp(int dirfd, int fd, const char *tmp, const char *name, const char *what,
                       const void *buf, size_t len, char *err, size_t errlen)
{
	char why[SR_ERR_MAX];
	const char *step = NULL;
	int saved = 0;

	if (sr_write_fd(fd, buf, len, why, sizeof(why)))
		step = why;
	else if (fsync(fd)) {
		step = "fsync";
		saved = errno;
	}
	if (!step && renameat(dirfd, tmp, dirfd, name)) {
		step = "rename";
		saved = errno;
	}
	if (step)
		unlinkat(dirfd, tmp, 0);
	close(fd); /* the data were synced before the rename */
	if (!step)
		return 0;
	if (step == why)
		snprintf(err, errlen, "%s: %s", what, why);
	else
		snprintf(err, errlen, "%s: %s: %s", what, step, strerror(saved));
	return -1;
}

int sr_write_file_at(int dirfd, const char *name, const char *what, const void *buf, size_t len,
                     char *err, size_t errlen)
{
	char tmp[NAME_MAX + 1];
	struct stat st;
	int fd;

	if (!*name || strchr(name, '/') ||
	    (size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: invalid file name", what);
		return -1;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "%s: refusing to write through a symbolic link", what);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", what);
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		return -1;
	}
	fd = open_temp(dirfd, tmp, what, err, errlen);
	if (fd < 0)
		return -1;
	if (commit_temp(dirfd, fd, tmp, name, what, buf, len, err, errlen) < 0)
		return -1;
	if (fsync(dirfd)) {
		snprintf(err, errlen, "%s: fsync of its directory: %s", what, strerror(errno));
		return -1; /* the new file is in place; its durability is not known */
	}
	return 0;
}

int sr_write_file_atomic(const char *path, const void *buf, size_t len, char *err, size_t errlen)
{
	char dir[4096], base[4096];
	int dfd, rc;

	if (!path || split_path(path, dir, base, sizeof(dir))) {
		snprintf(err, errlen, "%s: invalid path", path ? path : "(null)");
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(err, errlen, "%s: cannot create a temporary file in %s: %s", path, dir,
		         strerror(errno));
		return -1;
	}
	rc = sr_write_file_at(dfd, base, path, buf, len, err, errlen);
	close(dfd);
	return rc;
}

int sr_read_fd(int fd, const char *what, size_t max, uint8_t **buf, size_t *len, char *err,
               size_t errlen)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0, cap;

	/* A pipe, FIFO, socket or device can make read() wait for a peer for
	 * ever, and the whole process with it: only a regular file is read. */
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		snprintf(err, errlen, "%s: not a regular file (a pipe or device could stall rtcdm)",
		         what);
		return -1;
	}
	/* Room for the size fstat gives and one byte more (the end is then seen
	 * without a larger buffer); grown for a file that is larger than it
	 * says (/proc) or grows meanwhile. */
	cap = (uint64_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	b = malloc(cap);
	for (;;) {
		ssize_t n;

		if (b && got == cap && cap <= max) {
			size_t more = cap <= (max + 1) / 2 ? cap * 2 : max + 1;
			uint8_t *nb = realloc(b, more);

			if (!nb)
				free(b);
			b = nb;
			cap = more;
		}
		if (!b) {
			snprintf(err, errlen, "%s: out of memory", what);
			return -1;
		}
		n = read(fd, b + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", what, strerror(errno));
			break;
		}
		if (n == 0) {
			*buf = b;
			*len = got;
			return 0;
		}
		got += (size_t)n;
		if (got > max) {
			snprintf(err, errlen, "%s: larger than %zu bytes", what, max);
			break;
		}
	}
	int saved = errno;

	free(b);
	errno = saved;
	return -1;
}

int sr_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int rc, saved;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = sr_read_fd(fd, path, max, buf, len, err, errlen);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
