/* hv.c — simulated hypervisor: domain time offset and PV wallclock. */
#include "platform/sim/hv.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint32_t *shinfo_u32(uint8_t *page, unsigned off)
{
	return (uint32_t *)(void *)(page + off);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Xen's update_domain_wallclock_time(). */
static void update_wallclock(struct dm_sim_hv *hv)
{
	uint32_t *version = shinfo_u32(hv->shinfo, DM_SHINFO_WC_VERSION);
	int64_t host_sec = floor_div(hv->host_wallclock_ns, 1000000000);
	uint32_t host_nsec = (uint32_t)(hv->host_wallclock_ns - host_sec * 1000000000);
	/* Unsigned arithmetic: wraps like Xen's u64 instead of overflowing. */
	uint64_t sec = (uint64_t)host_sec + (uint64_t)hv->offset_seconds;
	uint32_t v = __atomic_load_n(version, __ATOMIC_RELAXED);

	__atomic_store_n(version, (v + 1) | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(shinfo_u32(hv->shinfo, DM_SHINFO_WC_SEC), (uint32_t)sec, __ATOMIC_RELAXED);
	__atomic_store_n(shinfo_u32(hv->shinfo, DM_SHINFO_WC_NSEC), host_nsec, __ATOMIC_RELAXED);
	__atomic_store_n(shinfo_u32(hv->shinfo, DM_SHINFO_WC_SEC_HI), (uint32_t)(sec >> 32),
	                 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(version, ((v + 1) | 1) + 1, __ATOMIC_RELAXED);
	if (hv->fd >= 0)
		msync(hv->shinfo, DM_SHINFO_SIZE, MS_ASYNC);
	hv->wallclock_updates++;
}

int dm_sim_hv_init(struct dm_sim_hv *hv, int64_t host_wallclock_ns, const char *shinfo_path,
                   char *err, size_t errlen)
{
	void *page;

	memset(hv, 0, sizeof(*hv));
	hv->fd = -1;
	hv->host_wallclock_ns = host_wallclock_ns;
	if (shinfo_path) {
		struct stat st = {0};

		/* Never through a symbolic link, never into a FIFO, a device or a
		 * file with other names: it is emptied below. */
		hv->fd = open(shinfo_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		                                   O_CLOEXEC,
		              0644);
		if (hv->fd < 0) {
			snprintf(err, errlen, "cannot create shared_info file '%s': %s", shinfo_path,
			         errno == ELOOP ? "refusing a symbolic link" : strerror(errno));
			return -1;
		}
		if (fstat(hv->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
			snprintf(err, errlen, "shared_info file '%s': %s", shinfo_path,
			         !S_ISREG(st.st_mode) ? "not a regular file"
			                              : "refusing a file with other hard links");
			close(hv->fd);
			hv->fd = -1;
			return -1;
		}
		if (ftruncate(hv->fd, 0) < 0 || ftruncate(hv->fd, DM_SHINFO_SIZE) < 0) {
			snprintf(err, errlen, "cannot size shared_info file '%s': %s", shinfo_path,
			         strerror(errno));
			close(hv->fd);
			hv->fd = -1;
			return -1;
		}
		page = mmap(NULL, DM_SHINFO_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, hv->fd, 0);
	} else {
		page = mmap(NULL, DM_SHINFO_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		            -1, 0);
	}
	if (page == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the shared_info page: %s", strerror(errno));
		if (hv->fd >= 0)
			close(hv->fd);
		hv->fd = -1;
		return -1;
	}
	hv->shinfo = page;
	update_wallclock(hv);
	return 0;
}

void dm_sim_hv_fini(struct dm_sim_hv *hv)
{
	if (hv->shinfo)
		munmap(hv->shinfo, DM_SHINFO_SIZE);
	if (hv->fd >= 0)
		close(hv->fd);
	hv->shinfo = NULL;
	hv->fd = -1;
}

void dm_sim_hv_settimeoffset(struct dm_sim_hv *hv, int64_t seconds)
{
	hv->offset_seconds = seconds;
	hv->offset_set = true;
	update_wallclock(hv);
}

void dm_sim_hv_adjust_offset(struct dm_sim_hv *hv, int64_t delta_s)
{
	hv->offset_seconds = (int64_t)((uint64_t)hv->offset_seconds + (uint64_t)delta_s);
	update_wallclock(hv);
}
