/*
 * fdset.h — QMP descriptor sets (add-fd / remove-fd / query-fdsets and
 * filenames "/dev/fdset/N"), with QEMU's numbering: without an explicit id
 * a new set gets the lowest id not in use (0 first, then counting up); an
 * explicit id adds to that set or creates it.  Fixed capacity, no
 * allocation besides the optional "opaque" strings.
 */
#ifndef RTCDM_FDSET_H
#define RTCDM_FDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QMP_MAX_FDSETS 16
#define QMP_MAX_FDS_PER_SET 8

struct fdset_fd {
	int fd;
	char *opaque; /* NULL when none was given */
};

struct fdset {
	int64_t id;
	size_t n_fds;
	struct fdset_fd fds[QMP_MAX_FDS_PER_SET]; /* in the order added */
};

struct fdsets {
	size_t n_sets;
	struct fdset sets[QMP_MAX_FDSETS]; /* ordered by id */
};

void fdsets_init(struct fdsets *fs);
/* Close every descriptor and forget every set. */
void fdsets_clear(struct fdsets *fs);
/* Add fd (owned by the sets on success; untouched on failure) to set `id`
 * (or a new set when !has_id).  Stores the set id in *out_id. */
int fdsets_add(struct fdsets *fs, int fd, bool has_id, int64_t id, const char *opaque,
               int64_t *out_id, char *err, size_t errlen);
/* Close and remove one descriptor of a set (has_fd) or the whole set; an
 * emptied set disappears. */
int fdsets_remove(struct fdsets *fs, int64_t id, bool has_fd, int64_t fd, char *err,
                  size_t errlen);
/* A new descriptor (dup, close-on-exec) of the first descriptor in set `id`
 * that can be written (want_write) or read; the caller closes it. */
int fdsets_dup(const struct fdsets *fs, int64_t id, bool want_write, char *err, size_t errlen);
/* Parse "/dev/fdset/N" (N a non-negative decimal without sign or leading
 * garbage): 1 and *id when it is such a name, 0 when the name is an
 * ordinary path, -1 with err when it starts with /dev/fdset/ but N is bad. */
int fdsets_parse_name(const char *name, int64_t *id, char *err, size_t errlen);

#endif
