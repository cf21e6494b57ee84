/* shinfo.c — read the PV wallclock from a shared_info file. */
#include "tests/support/support.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int shinfo_read(const char *path, struct dm_shinfo_wallclock *wc)
{
	struct stat st;
	void *page;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)DM_SHINFO_SIZE) {
		close(fd);
		return -1;
	}
	page = mmap(NULL, DM_SHINFO_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (page == MAP_FAILED)
		return -1;
	rc = dm_shinfo_read_wallclock(page, wc);
	munmap(page, DM_SHINFO_SIZE);
	return rc;
}
