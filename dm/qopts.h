/*
 * qopts.h — a QEMU option string split as QEMU's QemuOpts splits it.
 *
 * KEY=VALUE items separated by ','; inside a value ",," stands for one ','
 * (libxl writes paths that way: "path=/a,,b" is the path "/a,b"); the first
 * item may be a bare value of the option's implied key (-chardev's
 * backend, -mon's chardev, -machine's type...); any other bare item is a
 * flag (val NULL, meaning "on").  Keys are not unescaped (QEMU's are not
 * either).
 */
#ifndef RTCDM_DM_QOPTS_H
#define RTCDM_DM_QOPTS_H

#include <stddef.h>

struct qopt {
	const char *key;
	const char *val; /* NULL: a bare flag */
};

struct qopts {
	char *buf;         /* keys and values, NUL-terminated, one allocation */
	struct qopt *item; /* in order of appearance */
	size_t n;
};

/* Split s; implied names the key of a bare first item (NULL: none, the
 * first item is a flag like the others).  0, or -1 when out of memory
 * (nothing to free). */
int qopts_split(struct qopts *q, const char *s, const char *implied);
void qopts_free(struct qopts *q);
/* The item with this key (the last one, as in QEMU), or NULL. */
const struct qopt *qopts_get(const struct qopts *q, const char *key);

#endif
