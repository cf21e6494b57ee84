/* libFuzzer target: the companion-mode trailer reader (saverestore/companion.h).
 * Never crashes; a found part adds up to the context, ends QEMU's stream at
 * QEMU_VM_EOF and leaves the descriptor's position alone; a refusal is one
 * line; no trailer says nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "saverestore/companion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sr_companion c;
	char err[SR_ERR_MAX];
	int fd = memfd_create("ctx", MFD_CLOEXEC);
	int rc;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 3, SEEK_SET) != 3)
		abort();
	rc = sr_companion_find(fd, 0, size, &c, err, sizeof(err));
	if (lseek(fd, 0, SEEK_CUR) != 3)
		abort();
	if (rc == 1 && (c.qemu_len + c.image_len + SR_COMPANION_TRAILER_LEN != size ||
	                data[c.qemu_len - 1] != SR_QEMU_VM_EOF || memcmp(data, "QEVM", 4) != 0))
		abort();
	if (rc == 0 && err[0])
		abort();
	if (rc < 0 && (!err[0] || strchr(err, '\n')))
		abort();
	close(fd);
	return 0;
}
