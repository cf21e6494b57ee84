/*
 * conring — print the whole Xen console ring (what `xl dmesg` shows).
 *
 * `xl dmesg` in Xen 4.17 copies at most one 16 KiB chunk from the oldest
 * end of the ring, so with a large ring (conring_size=1M) it never shows
 * recent lines.  This reads the ring in one call with a buffer larger than
 * the ring, without clearing it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

enum { RING_MAX = 16 * 1024 * 1024 };

int main(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: conring (no arguments)\n");
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
	uint32_t index = 0;
	int rc = xc_readconsolering(xch, buf, &count, 0, 0, &index);
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
	return 0;
}
