/*
 * shinfo_xen.h — the PV wallclock as it sits in a shared_info page, read
 * without the Xen libraries' headers (platform/xen/domain.h maps the page).
 *
 * Native x86_64 layout of struct shared_info: wc_version at 0xc00, wc_sec
 * 0xc04, wc_nsec 0xc08, wc_sec_hi 0xc0c (platform/sim/hv.h names the offsets).
 */
#ifndef RTCDM_DM_SHINFO_XEN_H
#define RTCDM_DM_SHINFO_XEN_H

#include <stdint.h>

/* The PV wallclock as read from a shared_info page (seqlock-consistent). */
struct dm_xen_wallclock {
	uint32_t version; /* even; 0: Xen never wrote it */
	int64_t sec;      /* wc_sec | wc_sec_hi << 32 */
	uint32_t nsec;
};

/* Read the wallclock fields of a mapped shared_info page (x86_64 layout)
 * with the reader side of Xen's seqlock: retry while the version is odd or
 * changes.  0, or -1 when it never settles (1000 tries; out untouched). */
int dm_xen_wallclock_from_page(const volatile void *page, struct dm_xen_wallclock *out);

#endif
