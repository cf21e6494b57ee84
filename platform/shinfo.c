/* shinfo.c — reading the PV wallclock of a shared_info page. */
#include "platform/shinfo.h"

static uint32_t load32(const volatile void *page, unsigned off, int order)
{
	const volatile uint8_t *p = (const volatile uint8_t *)page + off;

	return __atomic_load_n((const volatile uint32_t *)(const volatile void *)p, order);
}

int dm_shinfo_read_wallclock(const volatile void *page, struct dm_shinfo_wallclock *out)
{
	for (unsigned tries = 0; tries < DM_SHINFO_READ_TRIES; tries++) {
		uint32_t v1 = load32(page, DM_SHINFO_WC_VERSION, __ATOMIC_ACQUIRE);
		uint32_t sec = load32(page, DM_SHINFO_WC_SEC, __ATOMIC_RELAXED);
		uint32_t nsec = load32(page, DM_SHINFO_WC_NSEC, __ATOMIC_RELAXED);
		uint32_t hi = load32(page, DM_SHINFO_WC_SEC_HI, __ATOMIC_RELAXED);

		/* The fields are read before the version is read again. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if ((v1 & 1) || load32(page, DM_SHINFO_WC_VERSION, __ATOMIC_RELAXED) != v1)
			continue;
		out->version = v1;
		out->sec = (int64_t)(((uint64_t)hi << 32) | sec);
		out->nsec = nsec;
		return 0;
	}
	return -1;
}
