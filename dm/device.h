/*
 * device.h — the RTC core wired to a platform.
 *
 * The device owns the struct rtc, gives it the platform's clock, timer and
 * IRQ line, answers the platform's port I/O (ports 0x70-0x71; wider
 * accesses are split into byte lanes as an ISA chipset does), and passes
 * offset changes on to the platform (PV wallclock) and to listeners that
 * later subsystems register (xenstore publication, battery-backed CMOS).
 */
#ifndef RTCDM_DM_DEVICE_H
#define RTCDM_DM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/authority.h"
#include "base/log.h"
#include "base/throttle.h"
#include "platform/platform.h"
#include "rtc/rtc.h"
#include "saverestore/sr.h"

#define DM_MAX_OFFSET_LISTENERS 4
#define DM_CHANGE_LOG_INTERVAL_NS 1000000000ull /* one log line a second for a burst */

/* Why the offset changed. */
enum dm_offset_source {
	DM_OFFSET_GUEST = 0,     /* the guest wrote its RTC here */
	DM_OFFSET_HYPERVISOR = 1, /* the guest's change reported by the hypervisor */
	DM_OFFSET_TOOLSTACK = 2, /* settimeoffset (option, xenstore, QMP) */
};

typedef void (*dm_offset_listener)(void *opaque, enum dm_offset_source src,
                                   const struct rtc_offset *now);
/* The guest wrote a battery-backed CMOS byte (register A, B or NVRAM). */
typedef void (*dm_cmos_listener)(void *opaque, uint8_t index);

struct dm_device {
	struct rtc *rtc;
	struct dm_platform *plat;
	const struct dm_log *log;
	struct {
		dm_offset_listener cb;
		void *opaque;
	} listeners[DM_MAX_OFFSET_LISTENERS];
	size_t n_listeners;
	dm_cmos_listener cmos_cb;
	void *cmos_opaque;
	uint8_t index; /* last index written to port 0x70 (bits 0-6) */
	struct dm_ratelimit change_log; /* guest clock changes in the log */
	int64_t change_delta_s;         /* the latest one */
	bool change_from_hypervisor;
};

/* Create the RTC (power-on state) on plat.  0 or -1 (logged). */
int dm_device_init(struct dm_device *dev, struct dm_platform *plat, const struct dm_log *log,
                   enum rtc_lost_tick_policy lost_ticks);
void dm_device_fini(struct dm_device *dev);

/* Let the platform deliver I/O and timer expiries.  0 or -1. */
int dm_device_start(struct dm_device *dev);

/* Guest port access of size 1, 2 or 4: byte lane i goes to port+i; ports
 * other than 0x70/0x71 read 0xff and ignore writes. */
uint32_t dm_device_pio_read(struct dm_device *dev, uint16_t port, unsigned size);
void dm_device_pio_write(struct dm_device *dev, uint16_t port, unsigned size, uint32_t val);

/* The toolstack sets the offset: RTC (seconds replaced, phase kept, set),
 * hypervisor (settimeoffset), listeners.  0 or -1 (logged). */
int dm_device_set_time_offset(struct dm_device *dev, int64_t seconds);

/* Be told of every offset change.  0 or -1 when full. */
int dm_device_add_offset_listener(struct dm_device *dev, dm_offset_listener cb, void *opaque);

/* Be told of guest writes to battery-backed CMOS bytes (one listener). */
void dm_device_set_cmos_listener(struct dm_device *dev, dm_cmos_listener cb, void *opaque);

/*
 * The one restore flow, for every path (start-up image or battery,
 * -incoming, a QMP load): in->running is filled in with the device's offset,
 * the offset is decided once (dm_offset_decide, into *d), then applied:
 * registers, NVRAM and timer state from in->image (else in->battery), the
 * decided offset, the hypervisor told when the decision says so, listeners
 * told of a change, and the decision logged ("time offset: WHY [ORIGIN]").
 * Images are validated before (sr_load): nothing here can fail.
 */
void dm_device_restore(struct dm_device *dev, struct dm_offset_inputs *in,
                       struct dm_offset_decision *d);

/* What the platform's hypervisor holds of the offset (kind NONE: nothing). */
void dm_device_hypervisor_offset(struct dm_device *dev, struct plat_hv_offset *out);


/* Encode the current state (our save format) into buf; returns the size
 * (nothing written when cap is too small, see sr_encode).  On Xen HVM the
 * hypervisor's RTC record is stored verbatim and the offset follows it
 * where the rule says so (DM_DECIDE_BEFORE_SAVE). */
size_t dm_device_save_state(struct dm_device *dev, uint8_t *buf, size_t cap);

#endif
