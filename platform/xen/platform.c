/*
 * platform_xen.c — the Xen platform: an ioreq server for ports 0x70-0x71 of
 * one HVM or PVH domain.
 *
 * Set-up is one linear sequence; every step that succeeded is recorded in
 * `stage` and xen_destroy() undoes exactly those steps in reverse order, on
 * a failure half-way as on a normal exit (SIGTERM/SIGINT/SIGHUP stop the
 * event loop, main() then destroys the platform):
 *
 *   1 control interface (libxenctrl)     6 ioreq pages mapped (resource)
 *   2 event channels (libxenevtchn)      7 ports 0x70-0x71 mapped to it
 *   3 foreign memory (libxenforeignmem)  8 server enabled
 *   4 device model ops (libxendevicemod) 9 vCPU + buffered channels bound
 *   5 ioreq server created (buffered)   10 event channel fd watched
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

#define RTC_PORT_FIRST 0x70
#define RTC_PORT_LAST 0x71
#define RTC_ISA_IRQ 8

enum xen_stage {
	ST_NONE = 0,
	ST_XC,
	ST_EVTCHN,
	ST_FMEM,
	ST_DMOD,
	ST_SERVER,
	ST_PAGES,
	ST_RANGE,
	ST_ENABLED,
	ST_BOUND,
	ST_WATCHED,
};

struct xen_platform {
	struct dm_platform base;
	enum xen_stage stage;
	uint32_t domid;
	bool vrtc; /* HVM mode: Xen emulates registers 0-13 */
	bool restoring;
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
	bool clock_ready;
	int64_t host_wallclock_ns;

	/* Read at set-up, applied at start(). */
	bool have_xen_offset;
	int64_t xen_offset;       /* HVM: Xen's RTC record; PVH: from the wallclock */
	bool toolstack_offset;    /* Xen's offset was set before the guest ran */

	const struct dm_device_ops *dev_ops;
	void *dev;
	int irq_level;
	struct dm_ioreq_stats stats;
	bool noted_ptr, noted_size, noted_type, noted_restricted;
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

static void serve_vcpu(struct xen_platform *x, unsigned vcpu)
{
	enum dm_ioreq_note n = dm_ioreq_serve(x->sync_pages, vcpu, x->dev_ops, x->dev, &x->stats);

	if (n == DM_IOREQ_NOT_READY)
		return;
	note_once(x, n, vcpu);
	if (xenevtchn_notify(x->xce, (evtchn_port_t)x->vcpu_local[vcpu]) < 0)
		dm_err(x->base.log, "cannot notify vCPU %u's event channel: %m", vcpu);
}

static void drain_buffered(struct xen_platform *x)
{
	dm_bufioreq_drain(x->buf_page, x->dev_ops, x->dev, &x->stats);
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
	if (!x->dev_ops) {
		/* Before start(): apply_initial_offset() decides with Xen's rules. */
		dm_debug(x->base.log, "offset %" PRId64 " s: Xen is told at start", seconds);
		return 0;
	}
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

/* What Xen's offset is before the guest runs, and whether a toolstack set
 * it.  HVM: Xen's RTC record holds it.  PVH: the domain's PV wallclock minus
 * the host wallclock at Xen system time 0 (dom0's wallclock). */
static void read_initial_offset(struct xen_platform *x)
{
	const struct dm_log *log = x->base.log;
	char err[256];

	if (x->vrtc) {
		struct sr_xen_rtc rec;

		if (dm_xen_rtc_record(x->xch, x->domid, &rec, err, sizeof(err)) != 0) {
			dm_warn(log, "%s: offset left as it is", err);
			return;
		}
		x->have_xen_offset = true;
		x->xen_offset = rec.rtc_offset;
		/* A fresh HVM domain has offset 0 unless the toolstack set one
		 * (rtc_timeoffset, localtime); a restored one has whatever Xen's
		 * own rules chose. */
		x->toolstack_offset = !x->restoring && rec.rtc_offset != 0;
		dm_info(log, "Xen's RTC record: offset %" PRId64 " s%s", rec.rtc_offset,
		        x->restoring ? " (restored domain)"
		                     : (x->toolstack_offset ? " (set by the toolstack)" : ""));
		return;
	}

	struct dm_xen_wallclock host, dom;

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

/*
 * At start(): bring the device and Xen into agreement.  Offset changes made
 * before start (a restored image, the battery-backed CMOS, --time-offset,
 * -rtc base) were not pushed to Xen yet; this decides once, with Xen's
 * rules:
 *   HVM  Xen owns the offset.  A restored domain runs with what Xen's
 *        rtc_load chose (the saved offset, or the toolstack's when libxl set
 *        one); a fresh domain with a non-zero offset got it from the
 *        toolstack.  Both win.  Only a fresh domain at offset 0 takes the
 *        device's offset (battery, option), pushed to Xen.
 *   PVH  rtcdm owns the offset.  One set by rtcdm's own toolstack options
 *        (or carried as such by an image) is pushed; else an offset the
 *        toolstack gave Xen (seen in the PV wallclock) wins; else the
 *        device's offset is pushed.
 */
static void apply_initial_offset(struct xen_platform *x)
{
	struct rtc_offset now = { 0 };
	bool xen_wins;

	if (x->dev_ops->get_offset)
		x->dev_ops->get_offset(x->dev, &now);
	if (x->vrtc)
		xen_wins = x->have_xen_offset && (x->restoring || x->xen_offset != 0);
	else
		xen_wins = x->have_xen_offset && x->toolstack_offset && !now.set;
	if (xen_wins) {
		if (x->dev_ops->time_offset_sync)
			x->dev_ops->time_offset_sync(x->dev, x->xen_offset, x->toolstack_offset);
		return;
	}
	if (!x->dev_ops->get_offset)
		return;
	if (x->have_xen_offset ? now.seconds == x->xen_offset : now.seconds == 0)
		return;
	dm_info(x->base.log, "giving Xen the guest's offset %" PRId64 " s", now.seconds);
	push_offset(x, now.seconds);
}

/* ---- platform ops -------------------------------------------------------------------- */

static void clock_expired(void *opaque)
{
	struct xen_platform *x = opaque;

	if (x->dev_ops)
		x->dev_ops->timer_expired(x->dev);
}

static int xen_start(struct dm_platform *p, const struct dm_device_ops *dev_ops, void *dev)
{
	struct xen_platform *x = xen_of(p);

	x->dev_ops = dev_ops;
	x->dev = dev;
	apply_initial_offset(x);
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
	             deadline_ns == RTC_NO_DEADLINE ? DM_CLOCK_NO_DEADLINE : deadline_ns);
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

static int xen_hypervisor_rtc(struct dm_platform *p, struct sr_xen_rtc *rec)
{
	struct xen_platform *x = xen_of(p);
	struct rtc_offset now;
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
	if (rc > 0)
		return 1;
	if (x->dev_ops && x->dev_ops->get_offset && x->dev_ops->time_offset_sync) {
		x->dev_ops->get_offset(x->dev, &now);
		if (now.seconds != rec->rtc_offset) {
			dm_warn(p->log, "offset %" PRId64 " s differs from Xen's %" PRId64
			                " s: following Xen",
			        now.seconds, rec->rtc_offset);
			x->dev_ops->time_offset_sync(x->dev, rec->rtc_offset, now.set);
		}
	}
	return 0;
}

static void xen_destroy(struct dm_platform *p)
{
	struct xen_platform *x = xen_of(p);
	const struct dm_log *log = p->log;

	switch (x->stage) {
	case ST_WATCHED:
		dm_loop_del_fd(p->loop, x->evtchn_fd);
		/* fall through */
	case ST_BOUND:
		if (x->buf_local >= 0)
			xenevtchn_unbind(x->xce, (evtchn_port_t)x->buf_local);
		for (unsigned i = 0; i < x->nr_vcpus; i++)
			if (x->vcpu_local[i] >= 0)
				xenevtchn_unbind(x->xce, (evtchn_port_t)x->vcpu_local[i]);
		/* fall through */
	case ST_ENABLED:
		xendevicemodel_set_ioreq_server_state(x->dmod, x->domid, x->ioservid, 0);
		/* fall through */
	case ST_RANGE:
		xendevicemodel_unmap_io_range_from_ioreq_server(x->dmod, x->domid, x->ioservid, 0,
		                                                RTC_PORT_FIRST, RTC_PORT_LAST);
		/* fall through */
	case ST_PAGES:
		xenforeignmemory_unmap_resource(x->fmem, x->res);
		/* fall through */
	case ST_SERVER:
		if (xendevicemodel_destroy_ioreq_server(x->dmod, x->domid, x->ioservid) < 0 &&
		    errno != ESRCH)
			dm_warn(log, "cannot destroy ioreq server %u: %m", (unsigned)x->ioservid);
		/* fall through */
	case ST_DMOD:
		xendevicemodel_close(x->dmod);
		/* fall through */
	case ST_FMEM:
		xenforeignmemory_close(x->fmem);
		/* fall through */
	case ST_EVTCHN:
		xenevtchn_close(x->xce);
		/* fall through */
	case ST_XC:
		xc_interface_close(x->xch);
		/* fall through */
	case ST_NONE:
		break;
	}
	if (x->stage >= ST_SERVER)
		dm_info(log, "ioreq server %u of domain %" PRIu32 " destroyed (%" PRIu64
		             " port reads, %" PRIu64 " writes, %" PRIu64 " clock changes from Xen)",
		        (unsigned)x->ioservid, x->domid, x->stats.pio_reads, x->stats.pio_writes,
		        x->stats.timeoffset);
	if (x->clock_ready)
		dm_clock_fini(&x->clock);
	if (x->xtl)
		xtl_logger_destroy(x->xtl);
	free(x->vcpu_local);
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
	.hypervisor_rtc = xen_hypervisor_rtc,
	.destroy = xen_destroy,
};

/* ---- set-up ---------------------------------------------------------------------------- */

static uint64_t ns_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define FAIL(...)                                         \
	do {                                              \
		snprintf(err, errlen, __VA_ARGS__);       \
		goto fail;                                \
	} while (0)

int dm_platform_xen_create(const struct dm_config *cfg, struct dm_loop *loop,
                           const struct dm_log *log, struct dm_platform **out, char *err,
                           size_t errlen)
{
	struct xen_platform *x;
	struct dm_xen_domain dom;
	int rc;

	*out = NULL;
	if (cfg->domid < 1) {
		snprintf(err, errlen, "platform xen needs the guest's domain id "
		                      "(--domid N or -xen-domid N, N >= 1)");
		return 1;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	x->base.ops = &xen_ops;
	x->base.loop = loop;
	x->base.log = log;
	x->domid = (uint32_t)cfg->domid;
	x->buf_local = -1;
	x->evtchn_fd = -1;
	x->restoring = cfg->incoming_fd >= 0 || cfg->loadvm || cfg->restore_file;

	rc = dm_clock_init_real(&x->clock, loop, log);
	if (rc < 0)
		FAIL("cannot create the RTC timer: %s", strerror(-rc));
	x->clock_ready = true;
	dm_clock_set_expired_cb(&x->clock, clock_expired, x);
	{
		uint64_t mono = ns_of(CLOCK_MONOTONIC);
		int64_t real = (int64_t)ns_of(CLOCK_REALTIME);

		x->host_wallclock_ns = real - (int64_t)(mono - x->clock.mono_base);
	}

	/* The libraries print their own error lines otherwise; rtcdm reports
	 * each failure itself, in one line. */
	x->xtl = (xentoollog_logger *)xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);

	/* 1-4: the interfaces. */
	x->xch = xc_interface_open(x->xtl, x->xtl, 0);
	if (!x->xch)
		FAIL("cannot open the Xen control interface: %s (not in dom0 with xenfs and "
		     "privcmd?)", strerror(errno));
	x->stage = ST_XC;
	if (dm_xen_domain_get(x->xch, x->domid, &dom, err, errlen) < 0)
		goto fail;
	if (!dom.hvm)
		FAIL("domain %" PRIu32 " is a PV guest: rtcdm serves HVM and PVH domains", x->domid);
	if (dom.dying)
		FAIL("domain %" PRIu32 " is dying", x->domid);
	x->vrtc = dom.vrtc;
	x->xce = xenevtchn_open(x->xtl, 0);
	if (!x->xce)
		FAIL("cannot open the event channel device: %s", strerror(errno));
	x->stage = ST_EVTCHN;
	x->fmem = xenforeignmemory_open(x->xtl, 0);
	if (!x->fmem)
		FAIL("cannot open the foreign memory interface: %s", strerror(errno));
	x->stage = ST_FMEM;
	x->dmod = xendevicemodel_open(x->xtl, 0);
	if (!x->dmod)
		FAIL("cannot open the device model interface: %s", strerror(errno));
	x->stage = ST_DMOD;

	if (xendevicemodel_nr_vcpus(x->dmod, x->domid, &x->nr_vcpus) < 0 || x->nr_vcpus == 0)
		x->nr_vcpus = dom.max_vcpu_id + 1;
	x->vcpu_local = malloc(x->nr_vcpus * sizeof(*x->vcpu_local));
	if (!x->vcpu_local)
		FAIL("out of memory");
	for (unsigned i = 0; i < x->nr_vcpus; i++)
		x->vcpu_local[i] = -1;

	/* 5: the server, with a buffered ring (TIMEOFFSET only comes there). */
	if (xendevicemodel_create_ioreq_server(x->dmod, x->domid, HVM_IOREQSRV_BUFIOREQ_ATOMIC,
	                                       &x->ioservid) < 0)
		FAIL("cannot create an ioreq server for domain %" PRIu32 ": %s", x->domid,
		     strerror(errno));
	x->stage = ST_SERVER;

	/* 6: its pages: frame 0 the buffered ring, then one synchronous page
	 * per 128 vCPUs. */
	x->nr_frames = 1 + (x->nr_vcpus + DM_IOREQ_PER_PAGE - 1) / DM_IOREQ_PER_PAGE;
	x->res = xenforeignmemory_map_resource(x->fmem, x->domid, XENMEM_resource_ioreq_server,
	                                       x->ioservid, XENMEM_resource_ioreq_server_frame_bufioreq,
	                                       x->nr_frames, &x->pages, PROT_READ | PROT_WRITE, 0);
	if (!x->res)
		FAIL("cannot map the ioreq server's %u pages: %s", x->nr_frames, strerror(errno));
	x->stage = ST_PAGES;
	x->buf_page = x->pages;
	x->sync_pages = (char *)x->pages + 4096;
	if (xendevicemodel_get_ioreq_server_info(x->dmod, x->domid, x->ioservid, NULL, NULL,
	                                         &x->buf_remote) < 0)
		FAIL("cannot get the ioreq server's buffered event channel: %s", strerror(errno));

	/* 7: the RTC ports. */
	if (xendevicemodel_map_io_range_to_ioreq_server(x->dmod, x->domid, x->ioservid, 0,
	                                                RTC_PORT_FIRST, RTC_PORT_LAST) < 0)
		FAIL("cannot claim ports 0x%x-0x%x: %s", RTC_PORT_FIRST, RTC_PORT_LAST,
		     strerror(errno));
	x->stage = ST_RANGE;

	/* 8: enable (Xen fills each vCPU's vp_eport now). */
	if (xendevicemodel_set_ioreq_server_state(x->dmod, x->domid, x->ioservid, 1) < 0)
		FAIL("cannot enable the ioreq server: %s", strerror(errno));
	x->stage = ST_ENABLED;

	/* 9: event channels. */
	x->stage = ST_BOUND;
	for (unsigned i = 0; i < x->nr_vcpus; i++) {
		uint32_t remote = dm_ioreq_vp_eport(x->sync_pages, i);

		x->vcpu_local[i] = xenevtchn_bind_interdomain(x->xce, x->domid, remote);
		if (x->vcpu_local[i] < 0)
			FAIL("cannot bind vCPU %u's event channel %" PRIu32 ": %s", i, remote,
			     strerror(errno));
	}
	x->buf_local = xenevtchn_bind_interdomain(x->xce, x->domid, x->buf_remote);
	if (x->buf_local < 0)
		FAIL("cannot bind the buffered event channel %u: %s", (unsigned)x->buf_remote,
		     strerror(errno));

	/* 10: into the event loop. */
	x->evtchn_fd = xenevtchn_fd(x->xce);
	rc = dm_loop_add_fd(loop, x->evtchn_fd, EPOLLIN, evtchn_ready, x);
	if (rc < 0)
		FAIL("cannot watch the event channel device: %s", strerror(-rc));
	x->stage = ST_WATCHED;

	read_initial_offset(x);

	/* Drop what the device model no longer needs: only device-model
	 * operations on this domain from now on (libxl's dm_restrict). */
	if (cfg->domid_restrict) {
		if (xendevicemodel_restrict(x->dmod, x->domid) < 0)
			FAIL("cannot restrict device-model operations to domain %" PRIu32 ": %s",
			     x->domid, strerror(errno));
		if (xentoolcore_restrict_all(x->domid) < 0)
			FAIL("cannot restrict the Xen handles to domain %" PRIu32 ": %s", x->domid,
			     strerror(errno));
		x->restricted = true;
		dm_info(log, "Xen handles restricted to domain %" PRIu32, x->domid);
	}

	dm_info(log, "platform xen: ioreq server %u for domain %" PRIu32 " (%s, %u vCPU%s), "
	             "host wallclock %" PRId64 ".%09" PRId64 " at clock 0",
	        (unsigned)x->ioservid, x->domid, x->vrtc ? "HVM with Xen's vRTC" : "no vRTC",
	        x->nr_vcpus, x->nr_vcpus == 1 ? "" : "s", x->host_wallclock_ns / 1000000000,
	        x->host_wallclock_ns % 1000000000);
	*out = &x->base;
	return 0;
fail:
	xen_destroy(&x->base);
	{
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "platform 'xen': %s", why);
	}
	return 1;
}
