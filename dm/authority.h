/*
 * authority.h — which time offset a domain runs with: the one place where
 * the sources are ranked.  Everything else only gathers the inputs and
 * applies the answer (dm_device_restore, dm_device_follow_hypervisor).
 *
 * The device's own sources, in order:
 *   1. set by the toolstack: --time-offset, xenstore settimeoffset, the QMP
 *      command rtcdm-set-time-offset (a live load sees it as the running
 *      offset's `set` flag); its whole seconds win, the sub-second phase is
 *      the guest's (the image's or the battery's);
 *   2. restored from an image (--restore, -loadvm, -incoming, QMP
 *      xen-load-devices-state); an image whose offset the toolstack had set
 *      keeps that authority (its `set` flag), so a later image does not
 *      replace it.  Without an OFFSET record: Xen's RTC record rtc_offset,
 *      and 0 for an old 16-byte record (as Xen loads it);
 *   3. the battery-backed CMOS file of the domain (read only when no image
 *      is restored); its `set` flag carries nothing;
 *   4. the -rtc base the domain was started with (0: UTC).
 * Then, at start-up, the hypervisor's offset for the domain:
 *   HVM  Xen owns the offset.  A restored domain runs with what Xen's
 *        rtc_load chose (the saved offset, or the toolstack's when libxl set
 *        one); a fresh domain with a non-zero offset got it from the
 *        toolstack.  Both win.  Only a fresh domain at offset 0 takes the
 *        device's offset, which Xen is then told.
 *   PVH  rtcdm owns the offset.  One set by the toolstack through rtcdm (or
 *        carried as such by an image) is Xen's to follow; else an offset the
 *        toolstack gave Xen before the guest ran wins; else Xen is told the
 *        device's offset.
 * Before a save (HVM): Xen's RTC record is the truth for registers 0-13; an
 * offset that differs from it follows it (phase and `set` kept).
 */
#ifndef RTCDM_DM_AUTHORITY_H
#define RTCDM_DM_AUTHORITY_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/platform.h"
#include "rtc/rtc.h"
#include "saverestore/sr.h"

enum dm_offset_origin {
	DM_ORIGIN_BASE = 0,       /* nothing saved: -rtc base, 0 for UTC */
	DM_ORIGIN_BATTERY = 1,    /* the battery-backed CMOS file */
	DM_ORIGIN_IMAGE = 2,      /* a restored image */
	DM_ORIGIN_TOOLSTACK = 3,  /* set by the toolstack (now or, via an image, before) */
	DM_ORIGIN_HYPERVISOR = 4, /* the hypervisor's own record of the guest's offset */
	DM_ORIGIN_RUNNING = 5,    /* nothing to change: the offset in force stays */
};

/* When the decision is taken. */
enum dm_offset_moment {
	DM_DECIDE_AT_START = 0, /* process start: option, image or battery, base, hypervisor */
	DM_DECIDE_AT_LOAD = 1,  /* a device state loaded into the running process */
	DM_DECIDE_BEFORE_SAVE = 2, /* the hypervisor's record is about to be saved */
};

struct dm_offset_inputs {
	enum dm_offset_moment moment;
	struct rtc_offset running;      /* the device's offset now (set: the toolstack's) */
	bool toolstack;                 /* --time-offset was given (start) */
	int64_t toolstack_seconds;
	const struct sr_image *image;   /* validated image being restored, or NULL */
	const struct sr_image *battery; /* validated battery file, or NULL */
	int64_t base_seconds;           /* -rtc base offset (0: UTC) */
	struct plat_hv_offset hv;       /* what the hypervisor holds (kind NONE: nothing) */
};

struct dm_offset_decision {
	enum dm_offset_origin origin;
	struct rtc_offset offset; /* what to run with */
	bool changed;             /* offset differs from inputs.running */
	bool tell_hypervisor;     /* push offset to the hypervisor (PV wallclock) */
	char why[200];            /* one line for the log */
};

/* Rank the sources (pure: no I/O, no RTC).  Called once per decision. */
void dm_offset_decide(const struct dm_offset_inputs *in, struct dm_offset_decision *out);

/* "toolstack", "image", "battery", "base", "hypervisor", "running". */
const char *dm_offset_origin_name(enum dm_offset_origin o);

#endif
