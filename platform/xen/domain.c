/* domain.c — reading a domain's time state from Xen. */
#include "platform/xen/domain.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <xen/hvm/save.h>

int dm_xen_domain_get(xc_interface *xch, uint32_t domid, struct dm_xen_domain *out, char *err,
                      size_t errlen)
{
	xc_dominfo_t info;
	int n;

	memset(&info, 0, sizeof(info));
	n = xc_domain_getinfo(xch, domid, 1, &info);
	if (n < 0) {
		snprintf(err, errlen, "cannot get information on domain %" PRIu32 ": %s", domid,
		         strerror(errno));
		return -1;
	}
	if (n != 1 || info.domid != domid) {
		snprintf(err, errlen, "domain %" PRIu32 " does not exist", domid);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->domid = domid;
	out->hvm = info.hvm;
	out->paused = info.paused;
	out->dying = info.dying;
	out->emulation_flags = info.arch_config.emulation_flags;
	out->vrtc = info.hvm && (info.arch_config.emulation_flags & XEN_X86_EMU_RTC);
	out->max_vcpu_id = info.max_vcpu_id;
	out->shared_info_frame = info.shared_info_frame;
	out->cpu_time_ns = info.cpu_time;
	return 0;
}

const char *dm_xen_guest_has_run(const struct dm_xen_domain *d)
{
	if (!d->paused)
		return "it is not paused";
	if (d->cpu_time_ns != 0)
		return "its vCPUs have run";
	return NULL;
}

/* Map one frame of `domid` (dom0: DOMID_SELF) read-only and read the
 * wallclock from it. */
static int read_frame(xenforeignmemory_handle *fmem, uint32_t domid, xen_pfn_t frame,
                      struct dm_shinfo_wallclock *out, char *err, size_t errlen)
{
	int map_err = 0;
	void *page;
	int rc;

	page = xenforeignmemory_map(fmem, domid == 0 ? DOMID_SELF : domid, PROT_READ, 1, &frame,
	                            &map_err);
	if (!page || map_err) {
		int e = page ? -map_err : errno;

		if (page)
			xenforeignmemory_unmap(fmem, page, 1);
		snprintf(err, errlen, "cannot map the shared_info page (frame 0x%lx) of domain %" PRIu32
		                      ": %s",
		         (unsigned long)frame, domid, strerror(e > 0 ? e : EIO));
		return -1;
	}
	rc = dm_shinfo_read_wallclock(page, out);
	xenforeignmemory_unmap(fmem, page, 1);
	if (rc < 0) {
		snprintf(err, errlen, "the PV wallclock of domain %" PRIu32 " never settled", domid);
		return -1;
	}
	return 0;
}

/* INVALID_M2P_ENTRY (~0) or SHARED_M2P_ENTRY (~0 - 1): no guest frame. */
static bool has_frame(const struct dm_xen_domain *d)
{
	return d->shared_info_frame < ~0UL - 1;
}

int dm_xen_wallclock_read(xc_interface *xch, xenforeignmemory_handle *fmem, uint32_t domid,
                          struct dm_shinfo_wallclock *out, char *err, size_t errlen)
{
	struct dm_xen_domain d;

	if (dm_xen_domain_get(xch, domid, &d, err, errlen) < 0)
		return -1;
	if (!has_frame(&d)) {
		snprintf(err, errlen,
		         "domain %" PRIu32 " has not placed its shared_info page in its memory: "
		         "no PV wallclock to read",
		         domid);
		return -1;
	}
	return read_frame(fmem, domid, d.shared_info_frame, out, err, errlen);
}

int dm_xen_wallclock_read_paused(xc_interface *xch, xenforeignmemory_handle *fmem,
                                 uint32_t domid, struct dm_shinfo_wallclock *out, char *err,
                                 size_t errlen)
{
	struct dm_xen_domain d;
	xen_pfn_t max = 0, gpfn;
	char why[256];
	int rc;

	if (dm_xen_domain_get(xch, domid, &d, err, errlen) < 0)
		return -1;
	if (has_frame(&d))
		return read_frame(fmem, domid, d.shared_info_frame, out, err, errlen);
	if (!d.paused) {
		snprintf(err, errlen,
		         "domain %" PRIu32 " runs and has not placed its shared_info page in its "
		         "memory: no PV wallclock to read",
		         domid);
		return -1;
	}
	if (xc_domain_maximum_gpfn(xch, domid, &max) < 0) {
		snprintf(err, errlen, "cannot read the highest frame of domain %" PRIu32 ": %s", domid,
		         strerror(errno));
		return -1;
	}
	gpfn = max + 1;
	if (xc_domain_add_to_physmap(xch, domid, XENMAPSPACE_shared_info, 0, gpfn) < 0) {
		snprintf(err, errlen, "cannot place the shared_info page of domain %" PRIu32
		                      " at frame 0x%lx: %s",
		         domid, (unsigned long)gpfn, strerror(errno));
		return -1;
	}
	rc = read_frame(fmem, domid, gpfn, out, err, errlen);
	if (xc_domain_remove_from_physmap(xch, domid, gpfn) < 0) {
		snprintf(why, sizeof(why), "%s", rc == 0 ? "" : err);
		snprintf(err, errlen, "%s%scannot remove the shared_info page of domain %" PRIu32
		                      " from frame 0x%lx again: %s",
		         why, why[0] ? "; " : "", domid, (unsigned long)gpfn, strerror(errno));
		return -1;
	}
	return rc;
}

int dm_xen_rtc_record(xc_interface *xch, uint32_t domid, struct sr_xen_rtc *out, char *err,
                      size_t errlen)
{
	struct dm_xen_domain d;
	struct hvm_hw_rtc rec;

	if (dm_xen_domain_get(xch, domid, &d, err, errlen) < 0)
		return -1;
	if (!d.vrtc)
		return 1;
	memset(&rec, 0, sizeof(rec));
	if (xc_domain_hvm_getcontext_partial(xch, domid, HVM_SAVE_CODE(RTC), 0, &rec,
	                                     sizeof(rec)) != 0) {
		snprintf(err, errlen, "cannot read Xen's RTC record of domain %" PRIu32 ": %s", domid,
		         strerror(errno));
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->cmos, rec.cmos_data, sizeof(out->cmos));
	out->index = rec.cmos_index;
	out->pad0 = rec.pad0;
	out->rtc_offset = rec.rtc_offset;
	return 0;
}
