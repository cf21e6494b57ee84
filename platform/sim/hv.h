/*
 * hv.h — a simulated hypervisor for one domain: the host wallclock at
 * clock 0, the domain's time offset {seconds, set} and its shared_info page
 * with the PV wallclock, kept as Xen keeps them.
 *
 * shared_info: the layout of platform/shinfo.h, read with
 * dm_shinfo_read_wallclock().  Every offset change rewrites the wallclock
 * with Xen's protocol: version becomes odd, barrier, sec/nsec written,
 * barrier, version even again.
 * wallclock sec = host wallclock seconds at clock 0 + offset seconds;
 * nsec = host wallclock ns within that second.
 */
#ifndef RTCDM_DM_SIM_HV_H
#define RTCDM_DM_SIM_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "platform/shinfo.h"

struct dm_sim_hv {
	int64_t host_wallclock_ns; /* UTC ns since the epoch at clock 0 */
	int64_t offset_seconds;    /* the domain's time_offset.seconds */
	bool offset_set;           /* time_offset.set: true once settimeoffset ran */
	uint8_t *shinfo;           /* DM_SHINFO_SIZE bytes, shared when file-backed */
	int fd;                    /* backing file or -1 */
	uint64_t wallclock_updates;
};

/*
 * host_wallclock_ns: UTC ns at clock 0.  shinfo_path: NULL for a private
 * page, else a file created (or truncated) to 4096 bytes and mapped shared,
 * so another process can read it as a guest would.  The wallclock is
 * written once (version 2), as Xen does when it builds a domain.
 * 0 or -1 with a one-line reason in err.
 */
int dm_sim_hv_init(struct dm_sim_hv *hv, int64_t host_wallclock_ns, const char *shinfo_path,
                   char *err, size_t errlen);
void dm_sim_hv_fini(struct dm_sim_hv *hv);

/* XEN_DOMCTL_settimeoffset: seconds replaced, set becomes true (never
 * cleared), PV wallclock rewritten. */
void dm_sim_hv_settimeoffset(struct dm_sim_hv *hv, int64_t seconds);
/* The guest changed its RTC in the hypervisor (Xen's rtc_set_time):
 * seconds += delta, set unchanged, PV wallclock rewritten. */
void dm_sim_hv_adjust_offset(struct dm_sim_hv *hv, int64_t delta_s);

#endif
