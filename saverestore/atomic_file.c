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
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a temporary file in %s: %s", path, dir,
		         strerror(errno));
		return -1;
	}
	char why[SR_ERR_MAX];
	const char *step = NULL;
	if (sr_write_fd(fd, buf, len, why, sizeof(why)))
		step = why;
	else if (fsync(fd))
		step = "fsync";
	int saved = errno;
	if (close(fd) && !step) {
		step = "close";
		saved = errno;
	}
	if (!step && rename(tmp, path)) {
		step = "rename";
		saved = errno;
	}
	if (step) {
		unlink(tmp);
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
