/* support_shinfo.c — read the PV wallclock from a shared_info file. */
#include "tests/support/support.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* x86_64 struct shared_info offsets. */
#define WC_VERSION 0xC00u
#define WC_SEC 0xC04u
#define WC_NSEC 0xC08u
#define WC_SEC_HI 0xC0Cu
#define SHINFO_SIZE 4096u
#define MAX_TRIES 1000000u

static uint32_t ld(const uint8_t *page, unsigned off, int order)
{
	return __atomic_load_n((const uint32_t *)(const void *)(page + off), order);
}

int shinfo_read(const char *path, struct shinfo_wallclock *wc)
{
	struct stat st;
	const uint8_t *page;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)SHINFO_SIZE) {
		close(fd);
		return -1;
	}
	page = mmap(NULL, SHINFO_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (page == MAP_FAILED)
		return -1;
	for (unsigned i = 0; i < MAX_TRIES; i++) {
		uint32_t v1 = ld(page, WC_VERSION, __ATOMIC_ACQUIRE);
		uint32_t lo = ld(page, WC_SEC, __ATOMIC_RELAXED);
		uint32_t ns = ld(page, WC_NSEC, __ATOMIC_RELAXED);
		uint32_t hi = ld(page, WC_SEC_HI, __ATOMIC_RELAXED);

		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if ((v1 & 1) || ld(page, WC_VERSION, __ATOMIC_RELAXED) != v1)
			continue;
		wc->version = v1;
		wc->sec = (uint64_t)hi << 32 | lo;
		wc->nsec = ns;
		rc = 0;
		break;
	}
	munmap((void *)(uintptr_t)page, SHINFO_SIZE);
	return rc;
}
