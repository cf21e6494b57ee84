/*
 * conring [FROM NEXT_FILE] — print the Xen console ring (what `xl dmesg`
 * shows), without clearing it.
 *
 * `xl dmesg` in Xen 4.17 copies at most one 16 KiB chunk from the oldest
 * end of the ring, so with a large ring (conring_size=1M) it never shows
 * recent lines.  This reads it in one call with a buffer larger than the
 * ring.  With no argument: the whole ring.  With FROM (an absolute ring
 * position, 0 for the start) and NEXT_FILE: only what was written since
 * FROM (or all the ring still holds, if FROM is older), and the position
 * to pass next time is written to NEXT_FILE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

enum { RING_MAX = 16 * 1024 * 1024 };

static int parse_pos(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t index = 0;
	int incremental = argc == 3;
	if ((argc != 1 && argc != 3) || (incremental && parse_pos(argv[1], &index))) {
		fprintf(stderr, "usage: conring [FROM NEXT_FILE] (FROM: a ring position, 0..4294967295)\n");
		return 2;
	}
	char *buf = malloc(RING_MAX);
	if (!buf) {
		fprintf(stderr, "conring: out of memory\n");
		return 1;
	}
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		fprintf(stderr, "conring: cannot open the Xen control interface: %s\n",
			strerror(errno));
		free(buf);
		return 1;
	}
	unsigned int count = RING_MAX;
	int rc = xc_readconsolering(xch, buf, &count, 0, incremental, &index);
	int err = errno;
	xc_interface_close(xch);
	if (rc) {
		fprintf(stderr, "conring: reading the console ring failed: %s\n", strerror(err));
		free(buf);
		return 1;
	}
	size_t done = fwrite(buf, 1, count, stdout);
	free(buf);
	if (done != count || fflush(stdout)) {
		fprintf(stderr, "conring: write error\n");
		return 1;
	}
	if (incremental) {
		FILE *f = fopen(argv[2], "w");
		if (!f || fprintf(f, "%u\n", (unsigned)index) < 0 || fclose(f)) {
			fprintf(stderr, "conring: cannot write '%s'\n", argv[2]);
			return 1;
		}
	}
	return 0;
}
