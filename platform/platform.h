/*
 * platform.h — what connects the RTC device to the world.
 *
 * A platform delivers the guest's port I/O and timer expiries to the device
 * (struct dm_device_ops, given to start()), and gives the device the clock,
 * the host wallclock at clock 0, a one-shot timer, IRQ 8, and a way to push
 * a time-offset change to the hypervisor (PV wallclock).
 *
 * Platforms: "sim" (platform/sim/platform.c: simulated hypervisor, guest I/O and
 * virtual time from a qtest client) and "xen" (platform/xen/platform.c, built only
 * with the Xen libraries).
 */
#ifndef RTCDM_DM_PLATFORM_H
#define RTCDM_DM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "base/log.h"
#include "base/loop.h"
#include "rtc/rtc.h"

/* Which platform, and the part of the command line platforms read. */
enum plat_kind {
	PLAT_SIM = 0,
	PLAT_XEN = 1,
};

struct plat_config {
	enum plat_kind kind;
	/* xen */
	int domid;
	bool domid_restrict; /* -xen-domid-restrict */
	bool restoring;      /* a saved state is loaded at start-up */
	unsigned index_wait_us; /* the wait for the data access after an index write, 0: none */
	/* sim */
	const char *qtest_path; /* unix socket of the qtest client, or NULL */
	const char *qtest_log;
	const char *shared_info; /* file standing in for the shared_info page */
	bool wallclock_given;
	int64_t wallclock_ns;
};

/* What the hypervisor holds of the guest's time offset at start-up (or, for
 * HVM, in its RTC record before a save): an input of the offset rule
 * (dm/authority.h), never a decision. */
enum plat_hv_kind {
	PLAT_HV_NONE = 0,    /* keeps no offset of its own (simulated platform) */
	PLAT_HV_XEN_HVM = 1, /* Xen's vRTC owns registers 0-13 and the offset */
	PLAT_HV_XEN_PVH = 2, /* no vRTC: the offset lives in the PV wallclock */
};

struct plat_hv_offset {
	enum plat_hv_kind kind;
	bool known;      /* the hypervisor's offset could be read */
	int64_t seconds; /* its offset, whole seconds */
	bool toolstack;  /* the toolstack gave it to Xen before the guest ran */
	bool restored;   /* HVM: Xen restored the domain's RTC record */
};

/* What the platform calls into (the device).  All get `dev`. */
struct dm_device_ops {
	/* Guest port read of `size` bytes (1, 2 or 4) at `port`. */
	uint32_t (*pio_read)(void *dev, uint16_t port, unsigned size);
	/* Guest port write; only the low `size` bytes of val matter. */
	void (*pio_write)(void *dev, uint16_t port, unsigned size, uint32_t val);
	/* The deadline given to arm_timer() has passed. */
	void (*timer_expired)(void *dev);
	/* The hypervisor reports that the guest changed its clock there by
	 * delta_s seconds (Xen's TIMEOFFSET ioreq).  May be NULL. */
	void (*time_offset_delta)(void *dev, int64_t delta_s);
};

struct sr_xen_rtc;
struct dm_clock;

struct dm_platform;

struct dm_platform_ops {
	const char *name;
	/* Begin delivering guest I/O and timer expiries to `dev`. 0 or -1 (logged). */
	int (*start)(struct dm_platform *p, const struct dm_device_ops *dev_ops, void *dev);
	/* Monotonic clock of the guest, ns. */
	uint64_t (*clock_ns)(struct dm_platform *p);
	/* Host wallclock (UTC ns since the epoch) at clock_ns() == 0. */
	int64_t (*host_wallclock_ns)(struct dm_platform *p);
	/* One-shot timer at an absolute clock_ns() deadline; RTC_NO_DEADLINE disarms. */
	void (*arm_timer)(struct dm_platform *p, uint64_t deadline_ns);
	/* The clock behind clock_ns() and arm_timer(), for the process's own
	 * alarms on guest time (rate limits; base/clock.h).  May be NULL. */
	struct dm_clock *(*clock)(struct dm_platform *p);
	/* Drive IRQ 8: 1 raised, 0 lowered. */
	void (*set_irq)(struct dm_platform *p, int level);
	/* The guest's offset changed (delta_s seconds, new offset `now`): tell
	 * the hypervisor so the PV wallclock follows.  0 or -1 (logged). */
	int (*offset_changed)(struct dm_platform *p, int64_t delta_s, const struct rtc_offset *now);
	/* The toolstack set the offset (settimeoffset semantics). 0 or -1 (logged). */
	int (*set_time_offset)(struct dm_platform *p, int64_t seconds);
	/* Optional (NULL: kind PLAT_HV_NONE).  What the hypervisor held of the
	 * guest's offset when the platform was created. */
	void (*hypervisor_offset)(struct dm_platform *p, struct plat_hv_offset *out);
	/* Optional (NULL: the hypervisor keeps no RTC state of its own).  Read
	 * the hypervisor's RTC record, which the image stores verbatim (Xen
	 * HVM), after delivering the guest's pending requests.  Changes nothing
	 * of the device.  0 filled, 1 no record here, -1 error (logged). */
	int (*read_hypervisor_rtc)(struct dm_platform *p, struct sr_xen_rtc *rec);
	/* Optional (NULL: no ioreq server).  The id of the platform's ioreq
	 * server in the hypervisor, for companion mode's order check
	 * (dm/handover.h). */
	int (*ioreq_server_id)(struct dm_platform *p);
	/* Undo everything create and start did; frees p. */
	void (*destroy)(struct dm_platform *p);
};

struct dm_platform {
	const struct dm_platform_ops *ops;
	struct dm_loop *loop;
	const struct dm_log *log;
};

/*
 * Create the platform cfg->kind names.  Returns 0, or 1 with a one-line
 * reason in err (unavailable platform, set-up failure).
 */
int dm_platform_create(const struct plat_config *cfg, struct dm_loop *loop, const struct dm_log *log,
                       struct dm_platform **out, char *err, size_t errlen);

/* The simulated platform (platform/sim/platform.c). */
int dm_platform_sim_create(const struct plat_config *cfg, struct dm_loop *loop,
                           const struct dm_log *log, struct dm_platform **out, char *err,
                           size_t errlen);

#if RTCDM_HAVE_XEN
/* The Xen platform (platform/xen/platform.c, only built with Xen). */
int dm_platform_xen_create(const struct plat_config *cfg, struct dm_loop *loop,
                           const struct dm_log *log, struct dm_platform **out, char *err,
                           size_t errlen);
#endif

/*
 * Rescue of an ioreq server whose serving process ended without tearing it
 * down (companion mode's serving part, killed): vCPUs waiting on it would
 * wait for ever.  Opened beforehand, while the process still may (root,
 * before -chroot; its handles are restricted to the domain with
 * -xen-domid-restrict).  dm_rescue_server() maps the server's pages,
 * disables it (new accesses go to the servers below it: QEMU's), answers
 * every request still pending as an absent device does (ioreq.h:
 * dm_ioreq_abandon), notifies those vCPUs, waits (up to
 * DM_RESCUE_WAIT_MS) until they have taken the answers, and destroys the
 * server.  On the simulated platform nothing can wait: *out is NULL and a
 * rescue does nothing.
 */
#define DM_RESCUE_WAIT_MS 2000
struct dm_rescue;
int dm_rescue_open(const struct plat_config *cfg, const struct dm_log *log,
                   struct dm_rescue **out, char *err, size_t errlen);
/* 0 with *answered (requests completed), or -1 with err. */
int dm_rescue_server(struct dm_rescue *r, int server_id, unsigned *answered, char *err,
                     size_t errlen);
void dm_rescue_close(struct dm_rescue *r);

#if RTCDM_HAVE_XEN
int dm_rescue_xen_open(const struct plat_config *cfg, const struct dm_log *log,
                       struct dm_rescue **out, char *err, size_t errlen);
int dm_rescue_xen_server(struct dm_rescue *r, int server_id, unsigned *answered, char *err,
                         size_t errlen);
void dm_rescue_xen_close(struct dm_rescue *r);
#endif

/* Convenience wrappers. */
static inline uint64_t dm_platform_clock_ns(struct dm_platform *p)
{
	return p->ops->clock_ns(p);
}

/* The guest's clock for alarms, or NULL when the platform has none. */
static inline struct dm_clock *dm_platform_clock(struct dm_platform *p)
{
	return p->ops->clock ? p->ops->clock(p) : NULL;
}

#endif
