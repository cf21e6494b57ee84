/* fdset.c — QMP descriptor sets (see fdset.h). */
#include "toolstack/qmp/fdset.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FDSET_PREFIX "/dev/fdset/"

void fdsets_init(struct fdsets *fs)
{
	fs->n_sets = 0;
}

static void fdset_close_all(struct fdset *set)
{
	for (size_t i = 0; i < set->n_fds; i++) {
		close(set->fds[i].fd);
		free(set->fds[i].opaque);
	}
	set->n_fds = 0;
}

void fdsets_clear(struct fdsets *fs)
{
	for (size_t i = 0; i < fs->n_sets; i++)
		fdset_close_all(&fs->sets[i]);
	fs->n_sets = 0;
}

static struct fdset *find_set(struct fdsets *fs, int64_t id)
{
	for (size_t i = 0; i < fs->n_sets; i++)
		if (fs->sets[i].id == id)
			return &fs->sets[i];
	return NULL;
}

int fdsets_add(struct fdsets *fs, int fd, bool has_id, int64_t id, const char *opaque,
               int64_t *out_id, char *err, size_t errlen)
{
	struct fdset *set = NULL;

	if (has_id) {
		if (id < 0) {
			snprintf(err, errlen, "Parameter 'fdset-id' expects a non-negative value");
			return -1;
		}
		set = find_set(fs, id);
	} else {
		/* Lowest id not in use; the sets are ordered by id. */
		id = 0;
		for (size_t i = 0; i < fs->n_sets && fs->sets[i].id == id; i++)
			id++;
	}
	if (set && set->n_fds >= QMP_MAX_FDS_PER_SET) {
		snprintf(err, errlen, "fdset %" PRId64 " is full (at most %d descriptors)", id,
		         QMP_MAX_FDS_PER_SET);
		return -1;
	}
	if (!set && fs->n_sets >= QMP_MAX_FDSETS) {
		snprintf(err, errlen, "too many fdsets (at most %d)", QMP_MAX_FDSETS);
		return -1;
	}
	char *op = NULL;
	if (opaque && !(op = strdup(opaque))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!set) {
		size_t pos = 0;
		while (pos < fs->n_sets && fs->sets[pos].id < id)
			pos++;
		memmove(&fs->sets[pos + 1], &fs->sets[pos], (fs->n_sets - pos) * sizeof(fs->sets[0]));
		fs->n_sets++;
		set = &fs->sets[pos];
		set->id = id;
		set->n_fds = 0;
	}
	set->fds[set->n_fds].fd = fd;
	set->fds[set->n_fds].opaque = op;
	set->n_fds++;
	*out_id = id;
	return 0;
}

static void drop_set(struct fdsets *fs, struct fdset *set)
{
	size_t pos = (size_t)(set - fs->sets);

	fdset_close_all(set);
	memmove(&fs->sets[pos], &fs->sets[pos + 1], (fs->n_sets - pos - 1) * sizeof(fs->sets[0]));
	fs->n_sets--;
}

int fdsets_remove(struct fdsets *fs, int64_t id, bool has_fd, int64_t fd, char *err,
                  size_t errlen)
{
	struct fdset *set = find_set(fs, id);

	if (!set) {
		if (has_fd)
			snprintf(err, errlen,
			         "File descriptor named 'fdset-id:%" PRId64 ", fd:%" PRId64 "' not found",
			         id, fd);
		else
			snprintf(err, errlen, "File descriptor named 'fdset-id:%" PRId64 "' not found",
			         id);
		return -1;
	}
	if (!has_fd) {
		drop_set(fs, set);
		return 0;
	}
	for (size_t i = 0; i < set->n_fds; i++) {
		if (set->fds[i].fd == fd) {
			close(set->fds[i].fd);
			free(set->fds[i].opaque);
			memmove(&set->fds[i], &set->fds[i + 1], (set->n_fds - i - 1) * sizeof(set->fds[0]));
			set->n_fds--;
			if (set->n_fds == 0)
				drop_set(fs, set);
			return 0;
		}
	}
	snprintf(err, errlen,
	         "File descriptor named 'fdset-id:%" PRId64 ", fd:%" PRId64 "' not found", id, fd);
	return -1;
}

int fdsets_dup(const struct fdsets *fs, int64_t id, bool want_write, char *err, size_t errlen)
{
	const struct fdset *set = NULL;

	for (size_t i = 0; i < fs->n_sets; i++)
		if (fs->sets[i].id == id)
			set = &fs->sets[i];
	if (!set) {
		snprintf(err, errlen, "Could not open '" FDSET_PREFIX "%" PRId64 "': no such fdset",
		         id);
		return -1;
	}
	for (size_t i = 0; i < set->n_fds; i++) {
		int fl = fcntl(set->fds[i].fd, F_GETFL);
		if (fl < 0)
			continue;
		int acc = fl & O_ACCMODE;
		bool ok = want_write ? (acc == O_WRONLY || acc == O_RDWR)
		                     : (acc == O_RDONLY || acc == O_RDWR);
		if (!ok)
			continue;
		int d = fcntl(set->fds[i].fd, F_DUPFD_CLOEXEC, 3);
		if (d < 0) {
			snprintf(err, errlen, "Could not open '" FDSET_PREFIX "%" PRId64 "': %s", id,
			         strerror(errno));
			return -1;
		}
		return d;
	}
	snprintf(err, errlen, "Could not open '" FDSET_PREFIX "%" PRId64 "': no descriptor open for %s",
	         id, want_write ? "writing" : "reading");
	return -1;
}

int fdsets_parse_name(const char *name, int64_t *id, char *err, size_t errlen)
{
	size_t plen = strlen(FDSET_PREFIX);

	if (strncmp(name, FDSET_PREFIX, plen) != 0)
		return 0;
	const char *p = name + plen;
	int64_t v = 0;
	if (!*p)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
			goto bad;
		v = v * 10 + (*p - '0');
	}
	*id = v;
	return 1;
bad:
	snprintf(err, errlen, "Could not open '%.80s': not a valid fdset name", name);
	return -1;
}
