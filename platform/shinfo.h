/*
 * shinfo.h — the PV wallclock in a shared_info page: where it sits and how
 * it is read.  No Xen headers: the simulated hypervisor writes this layout,
 * the Xen platform and `rtcdm-ctx wallclock` read Xen's page with it, the
 * tests read the simulator's page.
 *
 * Native x86_64 struct shared_info, 4096 bytes: wc_version u32 @0xC00,
 * wc_sec u32 @0xC04, wc_nsec u32 @0xC08, wc_sec_hi u32 @0xC0C.
 *
 * Writer (Xen's update_domain_wallclock_time): version becomes odd,
 * barrier, sec/nsec/sec_hi written, barrier, version even again.
 */
#ifndef RTCDM_PLATFORM_SHINFO_H
#define RTCDM_PLATFORM_SHINFO_H

#include <stdint.h>

#define DM_SHINFO_SIZE 4096u
#define DM_SHINFO_WC_VERSION 0xC00u
#define DM_SHINFO_WC_SEC 0xC04u
#define DM_SHINFO_WC_NSEC 0xC08u
#define DM_SHINFO_WC_SEC_HI 0xC0Cu

/* The PV wallclock as read from a shared_info page (seqlock-consistent). */
struct dm_shinfo_wallclock {
	uint32_t version; /* even; 0: never written */
	int64_t sec;      /* wc_sec | wc_sec_hi << 32 */
	uint32_t nsec;
};

/* Read the wallclock of a mapped shared_info page with the reader side of
 * the seqlock: retry while the version is odd or changes during the read.
 * 0, or -1 when it never settles (DM_SHINFO_READ_TRIES reads; out left
 * untouched). */
#define DM_SHINFO_READ_TRIES 1000000u
int dm_shinfo_read_wallclock(const volatile void *page, struct dm_shinfo_wallclock *out);

#endif
