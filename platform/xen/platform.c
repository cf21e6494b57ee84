/*
 * platform.c — the Xen platform: an ioreq server for ports 0x70-0x71 of
 * one HVM or PVH domain.
 *
 * Set-up is one table of named steps (xen_steps below), each with the
 * function that undoes it.  The steps run in order; xen_destroy() undoes the
 * ones that succeeded in reverse order, on a failure half-way as on a normal
 * exit (SIGTERM/SIGINT/SIGHUP stop the event loop, main() then destroys the
 * platform).
 *
 * Mode, from the domain (not from a flag):
 *   HVM  Xen emulates the RTC (emulation flag RTC): it handles registers
 *        0-13 and keeps the offset; rtcdm sees only the CMOS NVRAM (index
 *        writes >= 14 and data accesses while Xen's index is >= 14) and
 *        Xen's TIMEOFFSET deltas, which it follows.  Xen's offset is read
 *        from its RTC record at start and before a save.
 *   PVH  no vRTC: rtcdm emulates the whole RTC and owns the offset; every
 *        change is pushed with settimeoffset, which rewrites the PV
 *        wallclock the guest reads.
 *
 * Clock: CLOCK_MONOTONIC since start; the host wallclock at clock 0 is
 * CLOCK_REALTIME - (CLOCK_MONOTONIC - start), taken once.
 */
#include "platform/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>

#include "base/clock.h"
#include "platform/xen/ioreq.h"
#include "platform/xen/domain.h"
#include "saverestore/sr.h"

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xentoolcore.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

#define RTC_ISA_IRQ 8

struct xen_platform {
	struct dm_platform base;
	unsigned steps_done; /* xen_steps[0 .. steps_done - 1] are set up */
	uint32_t domid;
	struct dm_xen_domain dom; /* as found at set-up */
	bool vrtc; /* HVM mode: Xen emulates registers 0-13 */
	bool restoring;
	bool restrict_at_start; /* -xen-domid-restrict: restrict in start() */
	bool restricted;

	xentoollog_logger *xtl; /* the libraries' own messages: critical only */
	xc_interface *xch;
	xenevtchn_handle *xce;
	xenforeignmemory_handle *fmem;
	xendevicemodel_handle *dmod;

	unsigned nr_vcpus;
	ioservid_t ioservid;
	xenforeignmemory_resource_handle *res;
	void *pages;           /* frame 0 buffered, frames 1.. synchronous */
	unsigned nr_frames;
	void *buf_page, *sync_pages;
	evtchn_port_t buf_remote;
	xenevtchn_port_or_error_t buf_local;
	xenevtchn_port_or_error_t *vcpu_local; /* nr_vcpus, -1 when unbound */
	int evtchn_fd;

	struct dm_clock clock;
	int64_t host_wallclock_ns;

	/* Read at set-up, applied at start(). */
	bool have_xen_offset;
	int64_t xen_offset;       /* HVM: Xen's RTC record; PVH: from the wallclock */
	bool toolstack_offset;    /* Xen's offset was set before the guest ran */

	const struct dm_device_ops *dev_ops;
	void *dev;
	int irq_level;
	struct dm_ioreq_stats stats;
	bool noted_ptr, noted_size, noted_type, noted_restricted, noted_ring;
	uint64_t index_wait_ns; /* --index-wait-us, 0: no wait */
	struct dm_index_wait index_wait;
};

static struct xen_platform *xen_of(struct dm_platform *p)
{
	return (struct xen_platform *)(void *)((char *)p - offsetof(struct xen_platform, base));
}

/* ---- serving requests ---------------------------------------------------------------- */

static void note_once(struct xen_platform *x, enum dm_ioreq_note n, unsigned vcpu)
{
	const struct dm_log *log = x->base.log;

	switch (n) {
	case DM_IOREQ_REFUSED_PTR:
		if (!x->noted_ptr)
			dm_warn(log, "vCPU %u: string port I/O through guest memory on the RTC "
			             "ports is not supported: completed without effect (reads ~0)",
			        vcpu);
		x->noted_ptr = true;
		break;
	case DM_IOREQ_REFUSED_SIZE:
		if (!x->noted_size)
			dm_warn(log, "vCPU %u: RTC port access of an unsupported size: reads ~0, "
			             "writes dropped",
			        vcpu);
		x->noted_size = true;
		break;
	case DM_IOREQ_IGNORED_TYPE:
		if (!x->noted_type)
			dm_warn(log, "vCPU %u: request of a type a port device does not serve: "
			             "completed without effect",
			        vcpu);
		x->noted_type = true;
		break;
	default:
		break;
	}
}

static void drain_buffered(struct xen_platform *x)
{
	enum dm_bufioreq_end end = dm_bufioreq_drain(x->buf_page, x->dev_ops, x->dev, &x->stats);

	if (end == DM_BUFIOREQ_BAD_POINTERS && !x->noted_ring)
		dm_err(x->base.log, "buffered ring of ioreq server %u: write pointer more than "
		                    "%u slots ahead of the read pointer: not consumed",
		       (unsigned)x->ioservid, DM_BUFIOREQ_SLOTS);
	x->noted_ring = x->noted_ring || end == DM_BUFIOREQ_BAD_POINTERS;
}

/* vCPU `vcpu`'s request served and the vCPU notified; false when its slot
 * held none. */
static bool serve_one(struct xen_platform *x, unsigned vcpu)
{
	enum dm_ioreq_note n = dm_ioreq_serve(x->sync_pages, vcpu, x->dev_ops, x->dev, &x->stats);

	if (n == DM_IOREQ_NOT_READY)
		return false;
	note_once(x, n, vcpu);
	if (xenevtchn_notify(x->xce, (evtchn_port_t)x->vcpu_local[vcpu]) < 0)
		dm_err(x->base.log, "cannot notify vCPU %u's event channel: %m", vcpu);
	return true;
}

/* After an index write the guest accesses the data port at once: rtcdm
 * waits for that request (up to --index-wait-us) instead of going back to
 * sleep, which saves waking up for it (and, on a dom0 vCPU with nothing
 * else to run, waking the vCPU up); when it waits is dm_index_wait's.  One
 * wait per event: a guest writing the index over and over cannot keep
 * rtcdm from its loop (its signals, other vCPUs, QMP). */
static void serve_vcpu(struct xen_platform *x, unsigned vcpu)
{
	bool index = dm_ioreq_is_write_to(x->sync_pages, vcpu, RTC_PORT_INDEX);
	bool caught;

	if (!serve_one(x, vcpu) || !index || !x->index_wait_ns ||
	    !dm_index_wait_due(&x->index_wait))
		return;
	caught = dm_ioreq_wait_ready(x->sync_pages, vcpu, dm_monotonic_ns() + x->index_wait_ns);
	dm_index_wait_done(&x->index_wait, caught);
	if (!caught) {
		x->stats.wait_missed++;
		return;
	}
	x->stats.wait_caught++;
	/* as for any synchronous request: what Xen buffered before it first */
	drain_buffered(x);
	serve_one(x, vcpu);
}

static void evtchn_ready(struct dm_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct xen_platform *x = opaque;
	xenevtchn_port_or_error_t port;

	(void)loop;
	(void)fd;
	(void)events;
	port = xenevtchn_pending(x->xce);
	if (port < 0) {
		if (errno != EAGAIN && errno != EINTR)
			dm_err(x->base.log, "reading pending event channels failed: %m");
		return;
	}
	if (xenevtchn_unmask(x->xce, (evtchn_port_t)port) < 0)
		dm_err(x->base.log, "cannot unmask event channel %d: %m", port);
	if (!x->dev_ops)
		return;
	/* Buffered writes were issued before any synchronous request that
	 * follows them: consume the ring first, whatever port fired. */
	drain_buffered(x);
	if (port == x->buf_local)
		return;
	for (unsigned i = 0; i < x->nr_vcpus; i++) {
		if (x->vcpu_local[i] == port) {
			serve_vcpu(x, i);
			return;
		}
	}
	dm_debug(x->base.log, "event on unexpected port %d", port);
}

/* ---- offsets ------------------------------------------------------------------------- */

static int push_offset(struct xen_platform *x, int64_t seconds)
{
	if (seconds < INT32_MIN || seconds > INT32_MAX) {
		dm_err(x->base.log, "offset %" PRId64 " s is outside what Xen's settimeoffset "
		                    "accepts (int32): the PV wallclock keeps its old value",
		       seconds);
		return -1;
	}
	if (x->restricted) {
		if (!x->noted_restricted)
			dm_warn(x->base.log, "restricted to device-model operations: cannot "
			                     "tell Xen the new offset (PV wallclock not updated)");
		x->noted_restricted = true;
		return -1;
	}
	if (xc_domain_set_time_offset(x->xch, x->domid, (int32_t)seconds) != 0) {
		dm_err(x->base.log, "settimeoffset %" PRId64 " s for domain %" PRIu32 " failed: %m",
		       seconds, x->domid);
		return -1;
	}
	dm_debug(x->base.log, "Xen time offset of domain %" PRIu32 " set to %" PRId64 " s",
	         x->domid, seconds);
	return 0;
}

/* HVM: Xen's offset is in its RTC record (a domctl: out of the guest's
 * reach). */
static void read_hvm_record_offset(struct xen_platform *x)
{
	const struct dm_log *log = x->base.log;
	struct sr_xen_rtc rec;
	char err[256];

	if (dm_xen_rtc_record(x->xch, x->domid, &rec, err, sizeof(err)) != 0) {
		dm_warn(log, "%s: offset left as it is", err);
		return;
	}
	x->have_xen_offset = true;
	x->xen_offset = rec.rtc_offset;
	/* A fresh HVM domain has offset 0 unless the toolstack set one
	 * (rtc_timeoffset, localtime); a restored one has whatever Xen's own
	 * rules chose. */
	x->toolstack_offset = !x->restoring && rec.rtc_offset != 0;
	dm_info(log, "Xen's RTC record: offset %" PRId64 " s%s", rec.rtc_offset,
	        x->restoring ? " (restored domain)"
	                     : (x->toolstack_offset ? " (set by the toolstack)" : ""));
}

/* PVH: whether the guest has never run, so that its shared_info page holds
 * only what Xen wrote.  false (and a log line saying the offset was not
 * read) otherwise. */
static bool pvh_guest_never_ran(struct xen_platform *x)
{
	struct dm_xen_domain d;
	const char *why;
	char err[256];

	if (dm_xen_domain_get(x->xch, x->domid, &d, err, sizeof(err)) != 0) {
		dm_warn(x->base.log, "%s; a toolstack offset cannot be detected, assuming none", err);
		return false;
	}
	why = dm_xen_guest_has_run(&d);
	if (why)
		dm_warn(x->base.log, "toolstack offset not read from the PV wallclock: domain %" PRIu32
		                     " has run (%s), so its guest may have written it; assuming none",
		        x->domid, why);
	return why == NULL;
}

/* PVH: a toolstack offset is only in the domain's PV wallclock: that minus
 * the host wallclock at Xen system time 0 (dom0's wallclock).  The page is
 * the guest's to write once it runs: read only while it never ran, checked
 * before the read and again after it. */
static void read_pvh_wallclock_offset(struct xen_platform *x)
{
	const struct dm_log *log = x->base.log;
	struct dm_shinfo_wallclock host, dom;
	char err[256];

	if (!pvh_guest_never_ran(x))
		return;
	if (dm_xen_wallclock_read(x->xch, x->fmem, 0, &host, err, sizeof(err)) != 0) {
		dm_warn(log, "host wallclock at Xen system time 0: %s; a toolstack offset cannot "
		             "be detected",
		        err);
		return;
	}
	if (dm_xen_wallclock_read_paused(x->xch, x->fmem, x->domid, &dom, err, sizeof(err)) != 0) {
		dm_info(log, "%s; a toolstack offset cannot be detected, assuming none", err);
		return;
	}
	if (!pvh_guest_never_ran(x))
		return;
	x->have_xen_offset = true;
	if (dom.version == 0) {
		/* Xen never wrote this wallclock: nobody gave the domain an
		 * offset (settimeoffset writes it). */
		x->xen_offset = 0;
		x->toolstack_offset = false;
		dm_info(log, "PV wallclock never written by Xen: no toolstack offset");
		return;
	}
	x->xen_offset = dom.sec - host.sec;
	x->toolstack_offset = x->xen_offset != 0;
	dm_info(log, "PV wallclock %" PRId64 ".%09" PRIu32 ", host %" PRId64 ".%09" PRIu32
	             ": offset %" PRId64 " s%s",
	        dom.sec, dom.nsec, host.sec, host.nsec, x->xen_offset,
	        x->toolstack_offset ? " (set by the toolstack)" : "");
}

/* What Xen's offset is before the guest runs, and whether a toolstack set
 * it. */
static void read_initial_offset(struct xen_platform *x)
{
	if (x->vrtc)
		read_hvm_record_offset(x);
	else
		read_pvh_wallclock_offset(x);
}

/* What Xen held of the guest's offset when rtcdm started: an input of the
 * offset rule (dm/authority.h), which decides. */
static void xen_hypervisor_offset(struct dm_platform *p, struct plat_hv_offset *out)
{
	struct xen_platform *x = xen_of(p);

	out->kind = x->vrtc ? PLAT_HV_XEN_HVM : PLAT_HV_XEN_PVH;
	out->known = x->have_xen_offset;
	out->seconds = x->xen_offset;
	out->toolstack = x->toolstack_offset;
	out->restored = x->restoring;
}

/* ---- platform ops -------------------------------------------------------------------- */

static void clock_expired(void *opaque)
{
	struct xen_platform *x = opaque;

	if (x->dev_ops)
		x->dev_ops->timer_expired(x->dev);
}

/*
 * Drop what the device model no longer needs: only device-model operations
 * on this domain from now on (libxl's dm_restrict).  Done in start(), once
 * the offset decided at set-up (a restored image, the battery-backed CMOS)
 * has been given to Xen with settimeoffset, which a restricted handle can
 * no longer do, and before any request of the guest is served.  0 or -1
 * (logged).
 */
static int restrict_handles(struct xen_platform *x)
{
	if (xendevicemodel_restrict(x->dmod, x->domid) < 0) {
		dm_err(x->base.log, "cannot restrict device-model operations to domain %" PRIu32 ": %s",
		       x->domid, strerror(errno));
		return -1;
	}
	if (xentoolcore_restrict_all(x->domid) < 0) {
		dm_err(x->base.log, "cannot restrict the Xen handles to domain %" PRIu32 ": %s",
		       x->domid, strerror(errno));
		return -1;
	}
	x->restricted = true;
	dm_info(x->base.log, "Xen handles restricted to domain %" PRIu32, x->domid);
	return 0;
}

static int xen_start(struct dm_platform *p, const struct dm_device_ops *dev_ops, void *dev)
{
	struct xen_platform *x = xen_of(p);

	x->dev_ops = dev_ops;
	x->dev = dev;
	if (x->restrict_at_start && restrict_handles(x) < 0)
		return -1;
	/* Requests that arrived before the channels were bound. */
	drain_buffered(x);
	for (unsigned i = 0; i < x->nr_vcpus; i++)
		serve_vcpu(x, i);
	dm_info(p->log, "platform xen: domain %" PRIu32 ", %s mode (%s), %u vCPU%s, ioreq server %u",
	        x->domid, x->vrtc ? "HVM" : "PVH",
	        x->vrtc ? "Xen emulates registers 0-13, rtcdm the CMOS NVRAM"
	                : "rtcdm emulates the whole RTC",
	        x->nr_vcpus, x->nr_vcpus == 1 ? "" : "s", (unsigned)x->ioservid);
	return 0;
}

static uint64_t xen_clock_ns(struct dm_platform *p)
{
	return dm_clock_now(&xen_of(p)->clock);
}

static struct dm_clock *xen_clock(struct dm_platform *p)
{
	return &xen_of(p)->clock;
}

static int64_t xen_host_wallclock_ns(struct dm_platform *p)
{
	return xen_of(p)->host_wallclock_ns;
}

static void xen_arm_timer(struct dm_platform *p, uint64_t deadline_ns)
{
	dm_clock_arm(&xen_of(p)->clock,
	             deadline_ns);
}

static void xen_set_irq(struct dm_platform *p, int level)
{
	struct xen_platform *x = xen_of(p);

	level = level ? 1 : 0;
	if (level == x->irq_level)
		return;
	x->irq_level = level;
	if (x->vrtc) {
		/* Xen's vRTC drives IRQ 8 of an HVM domain. */
		return;
	}
	if (xendevicemodel_set_isa_irq_level(x->dmod, x->domid, RTC_ISA_IRQ, (unsigned)level) < 0)
		dm_err(p->log, "cannot %s ISA IRQ %d: %m", level ? "raise" : "lower", RTC_ISA_IRQ);
	else
		dm_debug(p->log, "IRQ %d %s", RTC_ISA_IRQ, level ? "raised" : "lowered");
}

static int xen_offset_changed(struct dm_platform *p, int64_t delta_s, const struct rtc_offset *now)
{
	(void)delta_s;
	return push_offset(xen_of(p), now->seconds);
}

static int xen_set_time_offset(struct dm_platform *p, int64_t seconds)
{
	return push_offset(xen_of(p), seconds);
}

static int xen_read_hypervisor_rtc(struct dm_platform *p, struct sr_xen_rtc *rec)
{
	struct xen_platform *x = xen_of(p);
	char err[256];
	int rc;

	if (!x->vrtc)
		return 1;
	if (x->dev_ops)
		drain_buffered(x);
	if (x->restricted) {
		if (!x->noted_restricted)
			dm_warn(p->log, "restricted to device-model operations: cannot read "
			                "Xen's RTC record");
		x->noted_restricted = true;
		return -1;
	}
	rc = dm_xen_rtc_record(x->xch, x->domid, rec, err, sizeof(err));
	if (rc < 0) {
		dm_err(p->log, "%s", err);
		return -1;
	}
	return rc > 0 ? 1 : 0;
}

static int xen_ioreq_server_id(struct dm_platform *p)
{
	return (int)xen_of(p)->ioservid;
}

static void undo_steps(struct xen_platform *x);

static void xen_destroy(struct dm_platform *p)
{
	struct xen_platform *x = xen_of(p);

	undo_steps(x);
	free(x);
}

static const struct dm_platform_ops xen_ops = {
	.name = "xen",
	.start = xen_start,
	.clock_ns = xen_clock_ns,
	.clock = xen_clock,
	.host_wallclock_ns = xen_host_wallclock_ns,
	.arm_timer = xen_arm_timer,
	.set_irq = xen_set_irq,
	.offset_changed = xen_offset_changed,
	.set_time_offset = xen_set_time_offset,
	.hypervisor_offset = xen_hypervisor_offset,
	.read_hypervisor_rtc = xen_read_hypervisor_rtc,
	.ioreq_server_id = xen_ioreq_server_id,
	.destroy = xen_destroy,
};

/* ---- set-up: the steps ------------------------------------------------------------------ */

/* Each step returns 0, or -1 with a one-line reason in err; a step that
 * fails leaves nothing of itself behind. */
__attribute__((format(printf, 3, 4))) static int refuse(char *err, size_t errlen,
                                                        const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t ns_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int start_rtc_timer(struct xen_platform *x, char *err, size_t errlen)
{
	int rc = dm_clock_init_real(&x->clock, x->base.loop, x->base.log);
	uint64_t mono;
	int64_t real;

	if (rc < 0)
		return refuse(err, errlen, "cannot create the RTC timer: %s", strerror(-rc));
	dm_clock_set_expired_cb(&x->clock, clock_expired, x);
	mono = ns_of(CLOCK_MONOTONIC);
	real = (int64_t)ns_of(CLOCK_REALTIME);
	x->host_wallclock_ns = real - (int64_t)(mono - x->clock.mono_base);
	return 0;
}

static void stop_rtc_timer(struct xen_platform *x)
{
	dm_clock_fini(&x->clock);
}

/* The libraries print their own error lines otherwise; rtcdm reports each
 * failure itself, in one line. */
static int quieten_xen_libraries(struct xen_platform *x, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	x->xtl = (xentoollog_logger *)xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);
	return 0;
}

static void drop_library_logger(struct xen_platform *x)
{
	if (x->xtl)
		xtl_logger_destroy(x->xtl);
}

static int open_control_interface(struct xen_platform *x, char *err, size_t errlen)
{
	x->xch = xc_interface_open(x->xtl, x->xtl, 0);
	if (!x->xch)
		return refuse(err, errlen, "cannot open the Xen control interface: %s (not in dom0 "
		                           "with xenfs and privcmd?)",
		              strerror(errno));
	return 0;
}

static void close_control_interface(struct xen_platform *x)
{
	xc_interface_close(x->xch);
}

/* HVM or PVH (the mode follows Xen's vRTC), alive. */
static int check_domain_kind(struct xen_platform *x, char *err, size_t errlen)
{
	if (dm_xen_domain_get(x->xch, x->domid, &x->dom, err, errlen) < 0)
		return -1;
	if (!x->dom.hvm)
		return refuse(err, errlen, "domain %" PRIu32 " is a PV guest: rtcdm serves HVM and "
		                           "PVH domains",
		              x->domid);
	if (x->dom.dying)
		return refuse(err, errlen, "domain %" PRIu32 " is dying", x->domid);
	x->vrtc = x->dom.vrtc;
	return 0;
}

/* 0 when a library handle opened, else -1 and why (errno) in err. */
static int opened(const void *handle, const char *what, char *err, size_t errlen)
{
	return handle ? 0 : refuse(err, errlen, "cannot open %s: %s", what, strerror(errno));
}

static int open_event_channels(struct xen_platform *x, char *err, size_t errlen)
{
	x->xce = xenevtchn_open(x->xtl, 0);
	return opened(x->xce, "the event channel device", err, errlen);
}

static void close_event_channels(struct xen_platform *x)
{
	xenevtchn_close(x->xce);
}

static int open_foreign_memory(struct xen_platform *x, char *err, size_t errlen)
{
	x->fmem = xenforeignmemory_open(x->xtl, 0);
	return opened(x->fmem, "the foreign memory interface", err, errlen);
}

static void close_foreign_memory(struct xen_platform *x)
{
	xenforeignmemory_close(x->fmem);
}

static int open_device_model_ops(struct xen_platform *x, char *err, size_t errlen)
{
	x->dmod = xendevicemodel_open(x->xtl, 0);
	return opened(x->dmod, "the device model interface", err, errlen);
}

static void close_device_model_ops(struct xen_platform *x)
{
	xendevicemodel_close(x->dmod);
}

/* One event channel per vCPU, none bound yet (-1). */
static int count_vcpus(struct xen_platform *x, char *err, size_t errlen)
{
	if (xendevicemodel_nr_vcpus(x->dmod, x->domid, &x->nr_vcpus) < 0 || x->nr_vcpus == 0)
		x->nr_vcpus = x->dom.max_vcpu_id + 1;
	x->vcpu_local = malloc(x->nr_vcpus * sizeof(*x->vcpu_local));
	if (!x->vcpu_local)
		return refuse(err, errlen, "out of memory");
	for (unsigned i = 0; i < x->nr_vcpus; i++)
		x->vcpu_local[i] = -1;
	return 0;
}

static void free_vcpu_table(struct xen_platform *x)
{
	free(x->vcpu_local);
	x->vcpu_local = NULL;
}

/* With a buffered ring: TIMEOFFSET only comes there. */
static int create_ioreq_server(struct xen_platform *x, char *err, size_t errlen)
{
	if (xendevicemodel_create_ioreq_server(x->dmod, x->domid, HVM_IOREQSRV_BUFIOREQ_ATOMIC,
	                                       &x->ioservid) < 0)
		return refuse(err, errlen, "cannot create an ioreq server for domain %" PRIu32 ": %s",
		              x->domid, strerror(errno));
	return 0;
}

static void destroy_ioreq_server(struct xen_platform *x)
{
	if (xendevicemodel_destroy_ioreq_server(x->dmod, x->domid, x->ioservid) < 0 &&
	    errno != ESRCH)
		dm_warn(x->base.log, "cannot destroy ioreq server %u: %m", (unsigned)x->ioservid);
	dm_info(x->base.log, "ioreq server %u of domain %" PRIu32 " destroyed (%" PRIu64
	                     " port reads, %" PRIu64 " writes, %" PRIu64 " clock changes from Xen; %"
	                     PRIu64 " data accesses taken while waiting after an index write, %"
	                     PRIu64 " waits ran out)",
	        (unsigned)x->ioservid, x->domid, x->stats.pio_reads, x->stats.pio_writes,
	        x->stats.timeoffset, x->stats.wait_caught, x->stats.wait_missed);
}

/* Frame 0 the buffered ring, then one synchronous page per 128 vCPUs; and
 * the ring's event channel. */
static int map_ioreq_pages(struct xen_platform *x, char *err, size_t errlen)
{
	x->nr_frames = 1 + (x->nr_vcpus + DM_IOREQ_PER_PAGE - 1) / DM_IOREQ_PER_PAGE;
	x->res = xenforeignmemory_map_resource(x->fmem, x->domid, XENMEM_resource_ioreq_server,
	                                       x->ioservid, XENMEM_resource_ioreq_server_frame_bufioreq,
	                                       x->nr_frames, &x->pages, PROT_READ | PROT_WRITE, 0);
	if (!x->res)
		return refuse(err, errlen, "cannot map the ioreq server's %u pages: %s", x->nr_frames,
		              strerror(errno));
	x->buf_page = x->pages;
	x->sync_pages = (char *)x->pages + 4096;
	if (xendevicemodel_get_ioreq_server_info(x->dmod, x->domid, x->ioservid, NULL, NULL,
	                                         &x->buf_remote) < 0) {
		int e = errno;

		xenforeignmemory_unmap_resource(x->fmem, x->res);
		return refuse(err, errlen, "cannot get the ioreq server's buffered event channel: %s",
		              strerror(e));
	}
	return 0;
}

static void unmap_ioreq_pages(struct xen_platform *x)
{
	xenforeignmemory_unmap_resource(x->fmem, x->res);
}

static int claim_rtc_ports(struct xen_platform *x, char *err, size_t errlen)
{
	if (xendevicemodel_map_io_range_to_ioreq_server(x->dmod, x->domid, x->ioservid, 0,
	                                                RTC_PORT_INDEX, RTC_PORT_DATA) < 0)
		return refuse(err, errlen, "cannot claim ports 0x%x-0x%x: %s", RTC_PORT_INDEX,
		              RTC_PORT_DATA, strerror(errno));
	return 0;
}

static void release_rtc_ports(struct xen_platform *x)
{
	xendevicemodel_unmap_io_range_from_ioreq_server(x->dmod, x->domid, x->ioservid, 0,
	                                                RTC_PORT_INDEX, RTC_PORT_DATA);
}

/* Xen fills each vCPU's vp_eport now. */
static int enable_ioreq_server(struct xen_platform *x, char *err, size_t errlen)
{
	if (xendevicemodel_set_ioreq_server_state(x->dmod, x->domid, x->ioservid, 1) < 0)
		return refuse(err, errlen, "cannot enable the ioreq server: %s", strerror(errno));
	return 0;
}

static void disable_ioreq_server(struct xen_platform *x)
{
	xendevicemodel_set_ioreq_server_state(x->dmod, x->domid, x->ioservid, 0);
}

static void unbind_event_channels(struct xen_platform *x)
{
	if (x->buf_local >= 0)
		xenevtchn_unbind(x->xce, (evtchn_port_t)x->buf_local);
	x->buf_local = -1;
	for (unsigned i = 0; i < x->nr_vcpus; i++) {
		if (x->vcpu_local[i] >= 0)
			xenevtchn_unbind(x->xce, (evtchn_port_t)x->vcpu_local[i]);
		x->vcpu_local[i] = -1;
	}
}

/* Each vCPU's channel, then the buffered ring's. */
static int bind_event_channels(struct xen_platform *x, char *err, size_t errlen)
{
	for (unsigned i = 0; i < x->nr_vcpus; i++) {
		uint32_t remote = dm_ioreq_vp_eport(x->sync_pages, i);

		x->vcpu_local[i] = xenevtchn_bind_interdomain(x->xce, x->domid, remote);
		if (x->vcpu_local[i] < 0) {
			refuse(err, errlen, "cannot bind vCPU %u's event channel %" PRIu32 ": %s", i,
			       remote, strerror(errno));
			unbind_event_channels(x);
			return -1;
		}
	}
	x->buf_local = xenevtchn_bind_interdomain(x->xce, x->domid, x->buf_remote);
	if (x->buf_local < 0) {
		refuse(err, errlen, "cannot bind the buffered event channel %u: %s",
		       (unsigned)x->buf_remote, strerror(errno));
		unbind_event_channels(x);
		return -1;
	}
	return 0;
}

static int watch_event_channels(struct xen_platform *x, char *err, size_t errlen)
{
	int rc;

	x->evtchn_fd = xenevtchn_fd(x->xce);
	rc = dm_loop_add_fd(x->base.loop, x->evtchn_fd, EPOLLIN, evtchn_ready, x);
	if (rc < 0)
		return refuse(err, errlen, "cannot watch the event channel device: %s",
		              strerror(-rc));
	return 0;
}

static void unwatch_event_channels(struct xen_platform *x)
{
	dm_loop_del_fd(x->base.loop, x->evtchn_fd);
}

/* Read here; an input of the offset rule (xen_hypervisor_offset). */
static int read_xen_offset(struct xen_platform *x, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	read_initial_offset(x);
	return 0;
}

/* ---- set-up: the sequence, written once ---------------------------------------------------- */

struct xen_step {
	const char *name;
	int (*set_up)(struct xen_platform *x, char *err, size_t errlen);
	void (*undo)(struct xen_platform *x); /* NULL: nothing to undo */
};

static const struct xen_step xen_steps[] = {
	{ "RTC timer", start_rtc_timer, stop_rtc_timer },
	{ "Xen library logger", quieten_xen_libraries, drop_library_logger },
	{ "control interface (libxenctrl)", open_control_interface, close_control_interface },
	{ "domain kind (HVM or PVH)", check_domain_kind, NULL },
	{ "event channels (libxenevtchn)", open_event_channels, close_event_channels },
	{ "foreign memory (libxenforeignmemory)", open_foreign_memory, close_foreign_memory },
	{ "device model ops (libxendevicemodel)", open_device_model_ops, close_device_model_ops },
	{ "vCPU table", count_vcpus, free_vcpu_table },
	{ "ioreq server with a buffered ring", create_ioreq_server, destroy_ioreq_server },
	{ "ioreq pages", map_ioreq_pages, unmap_ioreq_pages },
	{ "ports 0x70-0x71", claim_rtc_ports, release_rtc_ports },
	{ "ioreq server enabled", enable_ioreq_server, disable_ioreq_server },
	{ "vCPU and buffered event channels bound", bind_event_channels, unbind_event_channels },
	{ "event channel device watched", watch_event_channels, unwatch_event_channels },
	{ "Xen's offset before the guest runs", read_xen_offset, NULL },
};

#define XEN_STEPS (sizeof(xen_steps) / sizeof(xen_steps[0]))

/* Run the steps in order, stopping at the first that fails. */
static int do_steps(struct xen_platform *x, char *err, size_t errlen)
{
	for (; x->steps_done < XEN_STEPS; x->steps_done++) {
		const struct xen_step *s = &xen_steps[x->steps_done];

		if (s->set_up(x, err, errlen) < 0)
			return -1;
		dm_debug_cpu(x->base.log, "set up: %s", s->name);
	}
	return 0;
}

/* Undo the steps that succeeded, last first. */
static void undo_steps(struct xen_platform *x)
{
	while (x->steps_done > 0) {
		const struct xen_step *s = &xen_steps[--x->steps_done];

		if (s->undo)
			s->undo(x);
		dm_debug(x->base.log, "undone: %s", s->name);
	}
}

/* The platform before its first step: nothing set up, no channel bound. */
static struct xen_platform *new_xen_platform(const struct plat_config *cfg, struct dm_loop *loop,
                                             const struct dm_log *log)
{
	struct xen_platform *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->base = (struct dm_platform){ .ops = &xen_ops, .loop = loop, .log = log };
	x->domid = (uint32_t)cfg->domid;
	x->index_wait_ns = (uint64_t)cfg->index_wait_us * 1000u;
	dm_index_wait_init(&x->index_wait);
	x->buf_local = -1;
	x->evtchn_fd = -1;
	x->restoring = cfg->restoring;
	x->restrict_at_start = cfg->domid_restrict;
	return x;
}

int dm_platform_xen_create(const struct plat_config *cfg, struct dm_loop *loop,
                           const struct dm_log *log, struct dm_platform **out, char *err,
                           size_t errlen)
{
	struct xen_platform *x;
	char why[512];

	*out = NULL;
	if (cfg->domid < 1) {
		snprintf(err, errlen, "platform xen needs the guest's domain id "
		                      "(--domid N or -xen-domid N, N >= 1)");
		return 1;
	}
	x = new_xen_platform(cfg, loop, log);
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	if (do_steps(x, err, errlen) < 0) {
		xen_destroy(&x->base);
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "platform 'xen': %s", why);
		return 1;
	}
	dm_info(log, "platform xen: ioreq server %u for domain %" PRIu32 " (%s, %u vCPU%s), "
	             "host wallclock %" PRId64 ".%09" PRId64 " at clock 0",
	        (unsigned)x->ioservid, x->domid, x->vrtc ? "HVM with Xen's vRTC" : "no vRTC",
	        x->nr_vcpus, x->nr_vcpus == 1 ? "" : "s", x->host_wallclock_ns / 1000000000,
	        x->host_wallclock_ns % 1000000000);
	*out = &x->base;
	return 0;
}
