/*
 * authority.h — which time offset a domain runs with: the one place where
 * the sources are ranked.
 *
 * In order:
 *   1. set by the toolstack: --time-offset, xenstore settimeoffset, the QMP
 *      command rtcdm-set-time-offset;
 *   2. restored from an image (--restore, -loadvm, -incoming, QMP
 *      xen-load-devices-state); an image whose offset the toolstack had set
 *      keeps that authority (its `set` flag), so a later image does not
 *      replace it;
 *   3. the battery-backed CMOS file of the domain (read only when no image
 *      is restored);
 *   4. the -rtc base the domain was started with (0: UTC).
 * The rule between an image and a toolstack offset is the save format's
 * (sr_resolve_offset): the toolstack's whole seconds, the image's phase.
 */
#ifndef RTCDM_DM_AUTHORITY_H
#define RTCDM_DM_AUTHORITY_H

#include <stdbool.h>
#include <stdint.h>

#include "rtc/rtc.h"
#include "saverestore/sr.h"

enum dm_offset_origin {
	DM_ORIGIN_BASE = 0,      /* nothing saved: -rtc base, 0 for UTC */
	DM_ORIGIN_BATTERY = 1,   /* the battery-backed CMOS file */
	DM_ORIGIN_IMAGE = 2,     /* a restored image */
	DM_ORIGIN_TOOLSTACK = 3, /* set by the toolstack (now or, via an image, before) */
};

struct dm_offset_sources {
	bool toolstack;                 /* an offset set by the toolstack is in force */
	int64_t toolstack_seconds;
	uint32_t toolstack_phase_ns;    /* phase in force with it */
	const struct sr_image *image;   /* validated image being restored, or NULL */
	const struct sr_image *battery; /* validated battery file, or NULL */
	int64_t base_seconds;           /* -rtc base offset (0: UTC) */
};

struct dm_offset_decision {
	enum dm_offset_origin origin;
	struct rtc_offset offset; /* what to run with */
	char why[160];            /* one line for the log */
};

/* Rank the sources (pure: no I/O, no RTC). */
void dm_offset_resolve(const struct dm_offset_sources *in, struct dm_offset_decision *out);

/* "toolstack", "image", "battery", "base". */
const char *dm_offset_origin_name(enum dm_offset_origin o);

#endif
