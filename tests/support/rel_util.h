/*
 * test_rel_util.h — small helpers shared by the reliability and security
 * process tests (tests/integration/test_rel_*.c): decoding an image file
 * starting rtcdm with its qtest socket in the test's own directory, and a
 * save or load through a descriptor passed with add-fd.
 * (The QMP client, recursive removal and /proc figures are support.h's.)
 */
#ifndef RTCDM_TESTS_REL_UTIL_H
#define RTCDM_TESTS_REL_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "saverestore/sr.h"
#include "tests/support/support.h"

/* Read and decode an image file (at most SR_IMAGE_MAX bytes).  0, or -1
 * with the reason in err (errno ENOENT kept when the file is missing). */
static inline int rel_load_image(const char *path, struct sr_image *img, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (sr_read_file(path, SR_IMAGE_MAX, &buf, &len, err, errlen) < 0)
		return -1;
	rc = sr_load(buf, len, img, err, errlen);
	free(buf);
	return rc < 0 ? -1 : 0;
}

/*
 * qtest_spawn() without a shared_info file and with the qtest socket at
 * sock (in a directory of the caller's): start
 *   rtcdm --platform sim -qtest unix:SOCK -qtest-log /dev/null
 *         --sim-wallclock 1700000000 [extra...]
 * and accept its connection.  On failure the process is left for
 * qtest_quit() (q->dir is empty: nothing is removed).  0 or -1.
 */
static inline int rel_dm_start(struct qtest *q, const char *sock, const char *const extra[])
{
	const char *args[48] = {"--sim-wallclock", "1700000000"};
	size_t n = 2;

	qtest_init(q);
	for (size_t i = 0; extra && extra[i] && n < 47; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	return qtest_spawn(q, sock, args, NULL, 0);
}

/*
 * On a QMP connection of its own, as libxl: add-fd `fd` as fdset `set`,
 * then `cmd` (xen-save-devices-state or xen-load-devices-state) with
 * {ARGS"filename":"/dev/fdset/SET"} (args: "" or members ending in a
 * comma).  The last reply (or the add-fd error) goes to buf; returns buf.
 */
static inline const char *rel_fdset_op(const char *qmp, const char *cmd, const char *args, int fd,
                                       int set, char *buf, size_t len)
{
	char msg[256], want[64];
	int c = support_qmp_open(qmp);

	snprintf(msg, sizeof(msg), "{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":%d},\"id\":1}",
	         set);
	snprintf(want, sizeof(want), "\"fdset-id\":%d", set);
	support_qmp_cmd(c, msg, fd, buf, len);
	if (strstr(buf, want)) {
		snprintf(msg, sizeof(msg),
		         "{\"execute\":\"%s\",\"arguments\":{%s\"filename\":\"/dev/fdset/%d\"},"
		         "\"id\":2}",
		         cmd, args, set);
		support_qmp_cmd(c, msg, -1, buf, len);
	}
	if (c >= 0)
		close(c);
	return buf;
}

#endif
