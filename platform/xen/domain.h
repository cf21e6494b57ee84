/*
 * domain.h — what rtcdm reads from Xen about a domain's time: its type
 * and emulation flags, the PV wallclock in its shared_info page, the host
 * wallclock at Xen system time 0, and Xen's RTC save record.
 *
 * Used by the Xen platform and by `rtcdm-ctx wallclock`.  Built only with
 * the Xen libraries.
 *
 * The host wallclock at Xen system time 0 is Xen's own wc_sec/wc_nsec.
 * Xen writes into every domain's shared_info wc = that wallclock + the
 * domain's time offset (update_domain_wallclock_time), and dom0's offset
 * is 0, so dom0's own shared_info holds it exactly.  rtcdm maps that page
 * read-only through a foreign mapping with DOMID_SELF (Xen refuses dom0's
 * own id as a foreign domain); the frame is dom0's shared_info_frame from
 * XEN_DOMCTL_getdomaininfo, a machine frame since dom0 is PV.
 *
 * Layout: rtcdm reads the native x86_64 shared_info (wc_version at 0xc00,
 * wc_sec 0xc04, wc_nsec 0xc08, wc_sec_hi 0xc0c).  Xen writes that layout
 * for every HVM and PVH domain (and for dom0, a 64-bit PV domain) unless a
 * guest latched the 32-bit one, which happens only when it sets up its
 * hypercall page or its event-channel callback from 32-bit code; a 64-bit
 * kernel never does.  There is no domctl to ask which layout Xen latched.
 *
 * An HVM or PVH guest's shared_info has a guest frame only once the guest
 * placed it with XENMEM_add_to_physmap (XENMAPSPACE_shared_info): before
 * that getdomaininfo reports no frame and there is nothing to map.  Xen
 * writes the wallclock into it on settimeoffset, on a guest RTC write and
 * when a guest latches its layout; a page Xen never wrote has version 0.
 */
#ifndef RTCDM_DM_XENHV_XEN_H
#define RTCDM_DM_XENHV_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* rtc/rtc.h (through sr.h) first: Xen's public headers #define
 * RTC_CMOS_SIZE (14), which would clash with the RTC core's enum. */
#include "saverestore/sr.h"
#include "platform/shinfo.h"

#include <xenctrl.h>
#include <xenforeignmemory.h>

/* A domain as rtcdm needs it. */
struct dm_xen_domain {
	uint32_t domid;
	bool hvm;          /* HVM-class (HVM or PVH); false: PV */
	bool vrtc;         /* Xen emulates the RTC (XEN_X86_EMU_RTC): HVM */
	bool paused, dying;
	uint32_t emulation_flags;
	unsigned max_vcpu_id;
	unsigned long shared_info_frame;
	uint64_t cpu_time_ns; /* running time of all its vCPUs so far */
};

/* XEN_DOMCTL_getdomaininfo for exactly `domid`.  0 or -1 (reason in err). */
int dm_xen_domain_get(xc_interface *xch, uint32_t domid, struct dm_xen_domain *out, char *err,
                      size_t errlen);

/* Whether the guest of `d` may have run, and so may have written its own
 * shared_info page (a guest can write the PV wallclock there): NULL when it
 * never ran (created paused, never unpaused: XEN_DOMINF_paused and no vCPU
 * running time), else why it may have ("it is not paused", "its vCPUs have
 * run").  Pure: decides on `d` alone. */
const char *dm_xen_guest_has_run(const struct dm_xen_domain *d);

/* The domain's PV wallclock through a read-only mapping of its shared_info
 * (domid 0: dom0's own page, i.e. the host wallclock at system time 0).
 * 0 or -1 (reason in err: an HVM/PVH guest that has not placed its
 * shared_info in its memory has no frame to map). */
int dm_xen_wallclock_read(xc_interface *xch, xenforeignmemory_handle *fmem, uint32_t domid,
                          struct dm_shinfo_wallclock *out, char *err, size_t errlen);

/* Like dm_xen_wallclock_read, and for a paused domain whose guest has not
 * placed its shared_info yet (a PVH domain before it first runs): place the
 * page for the time of the read at the frame after the domain's highest one
 * (XENMEM_add_to_physmap, as libxc seeds grant tables), map it read-only,
 * and remove it again (XENMEM_remove_from_physmap).  A running domain's
 * memory map is never touched.  0 or -1 (reason in err). */
int dm_xen_wallclock_read_paused(xc_interface *xch, xenforeignmemory_handle *fmem,
                                 uint32_t domid, struct dm_shinfo_wallclock *out, char *err,
                                 size_t errlen);

/* Xen's RTC save record (typecode 11, instance 0).  0 filled; 1 when the
 * domain has no vRTC (PVH: no record); -1 error (reason in err).  A 16-byte
 * record of an older hypervisor is zero-extended (rtc_offset 0). */
int dm_xen_rtc_record(xc_interface *xch, uint32_t domid, struct sr_xen_rtc *out, char *err,
                      size_t errlen);

#endif
