/* device.c — the RTC core on a platform. */
#include "dm/device.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- what the RTC core calls ---------------------------------------------------- */

static uint64_t rtc_clock_ns(void *opaque)
{
	struct dm_device *dev = opaque;

	return dev->plat->ops->clock_ns(dev->plat);
}

static void rtc_arm_timer(void *opaque, uint64_t deadline_ns)
{
	struct dm_device *dev = opaque;

	dev->plat->ops->arm_timer(dev->plat, deadline_ns);
}

static void rtc_set_irq(void *opaque, int level)
{
	struct dm_device *dev = opaque;

	dev->plat->ops->set_irq(dev->plat, level);
}

static void notify(struct dm_device *dev, enum dm_offset_source src, const struct rtc_offset *now)
{
	for (size_t i = 0; i < dev->n_listeners; i++)
		dev->listeners[i].cb(dev->listeners[i].opaque, src, now);
}

/* The log line of a guest clock change: the first of a burst as it
 * happens, then one line a second for the rest (a guest can change its
 * clock as fast as it can write the port). */
static void log_clock_change(void *opaque, uint64_t held)
{
	struct dm_device *dev = opaque;
	struct rtc_offset now;

	rtc_get_offset(dev->rtc, &now);
	if (held)
		dm_info(dev->log, "guest changed its clock %" PRIu64 " more times: offset %" PRId64
		                  " s + %" PRIu32 " ns",
		        held, now.seconds, now.phase_ns);
	else if (dev->change_from_hypervisor)
		dm_info(dev->log, "hypervisor reports a guest clock change of %+" PRId64
		                  " s: offset %" PRId64 " s",
		        dev->change_delta_s, now.seconds);
	else
		dm_info(dev->log, "guest changed its clock by %+" PRId64 " s: offset %" PRId64
		                  " s + %" PRIu32 " ns",
		        dev->change_delta_s, now.seconds, now.phase_ns);
}

static void note_clock_change(struct dm_device *dev, int64_t delta_s, bool from_hypervisor)
{
	dev->change_delta_s = delta_s;
	dev->change_from_hypervisor = from_hypervisor;
	dm_ratelimit_offer(&dev->change_log);
}

static void rtc_offset_changed(void *opaque, int64_t delta_s, const struct rtc_offset *now)
{
	struct dm_device *dev = opaque;

	note_clock_change(dev, delta_s, false);
	dev->plat->ops->offset_changed(dev->plat, delta_s, now);
	notify(dev, DM_OFFSET_GUEST, now);
}

static const struct rtc_platform_ops rtc_ops = {
	.clock_ns = rtc_clock_ns,
	.arm_timer = rtc_arm_timer,
	.set_irq = rtc_set_irq,
	.offset_changed = rtc_offset_changed,
};

/* ---- what the platform calls ----------------------------------------------------- */

static uint32_t plat_pio_read(void *opaque, uint16_t port, unsigned size)
{
	return dm_device_pio_read(opaque, port, size);
}

static void plat_pio_write(void *opaque, uint16_t port, unsigned size, uint32_t val)
{
	dm_device_pio_write(opaque, port, size, val);
}

static void plat_timer_expired(void *opaque)
{
	struct dm_device *dev = opaque;

	rtc_timer_expired(dev->rtc);
}

static void plat_time_offset_delta(void *opaque, int64_t delta_s)
{
	struct dm_device *dev = opaque;
	struct rtc_offset now;

	rtc_adjust_offset(dev->rtc, delta_s);
	rtc_get_offset(dev->rtc, &now);
	note_clock_change(dev, delta_s, true);
	notify(dev, DM_OFFSET_HYPERVISOR, &now);
}

static const struct dm_device_ops device_ops = {
	.pio_read = plat_pio_read,
	.pio_write = plat_pio_write,
	.timer_expired = plat_timer_expired,
	.time_offset_delta = plat_time_offset_delta,
};

/* ---- API ------------------------------------------------------------------------- */

int dm_device_init(struct dm_device *dev, struct dm_platform *plat, const struct dm_log *log,
                   enum rtc_lost_tick_policy lost_ticks)
{
	struct rtc_config cfg;

	memset(dev, 0, sizeof(*dev));
	dev->plat = plat;
	dev->log = log;
	cfg.ops = &rtc_ops;
	cfg.opaque = dev;
	cfg.host_wallclock_ns = plat->ops->host_wallclock_ns(plat);
	cfg.lost_tick_policy = lost_ticks;
	dev->rtc = rtc_new(&cfg);
	if (dev->rtc && dm_ratelimit_init(&dev->change_log, dm_platform_clock(plat),
	                                  DM_CHANGE_LOG_INTERVAL_NS, log_clock_change, dev) < 0)
		dm_warn(log, "no timer for the clock-change log: every change is logged");
	if (!dev->rtc) {
		dm_err(log, "cannot allocate the RTC");
		return -1;
	}
	return 0;
}

void dm_device_fini(struct dm_device *dev)
{
	if (dev->rtc) {
		dm_ratelimit_fini(&dev->change_log);
		rtc_free(dev->rtc);
	}
	dev->rtc = NULL;
}

int dm_device_start(struct dm_device *dev)
{
	return dev->plat->ops->start(dev->plat, &device_ops, dev);
}

static bool is_rtc_port(uint32_t port)
{
	return port == RTC_PORT_INDEX || port == RTC_PORT_DATA;
}

uint32_t dm_device_pio_read(struct dm_device *dev, uint16_t port, unsigned size)
{
	uint32_t val = 0;

	if (size != 1 && size != 2 && size != 4)
		size = 1;
	for (unsigned i = 0; i < size; i++) {
		uint32_t p = (uint32_t)port + i;
		uint8_t b = is_rtc_port(p) ? rtc_ioport_read(dev->rtc, (uint16_t)p) : 0xff;

		val |= (uint32_t)b << (8 * i);
	}
	return val;
}

void dm_device_pio_write(struct dm_device *dev, uint16_t port, unsigned size, uint32_t val)
{
	if (size != 1 && size != 2 && size != 4)
		size = 1;
	for (unsigned i = 0; i < size; i++) {
		uint32_t p = (uint32_t)port + i;

		uint8_t b = (uint8_t)(val >> (8 * i));

		if (!is_rtc_port(p))
			continue;
		rtc_ioport_write(dev->rtc, (uint16_t)p, b);
		if (p == RTC_PORT_INDEX)
			dev->index = b & 0x7f;
		else if (dev->cmos_cb && (dev->index == RTC_REG_A || dev->index == RTC_REG_B ||
		                          dev->index >= RTC_NVRAM_FIRST))
			dev->cmos_cb(dev->cmos_opaque, dev->index);
	}
}

int dm_device_set_time_offset(struct dm_device *dev, int64_t seconds)
{
	struct rtc_offset now;

	rtc_set_offset(dev->rtc, seconds);
	rtc_get_offset(dev->rtc, &now);
	dm_info(dev->log, "toolstack set the time offset to %" PRId64 " s", seconds);
	if (dev->plat->ops->set_time_offset(dev->plat, seconds) < 0)
		return -1;
	notify(dev, DM_OFFSET_TOOLSTACK, &now);
	return 0;
}

int dm_device_add_offset_listener(struct dm_device *dev, dm_offset_listener cb, void *opaque)
{
	if (dev->n_listeners == DM_MAX_OFFSET_LISTENERS)
		return -1;
	dev->listeners[dev->n_listeners].cb = cb;
	dev->listeners[dev->n_listeners].opaque = opaque;
	dev->n_listeners++;
	return 0;
}

void dm_device_set_cmos_listener(struct dm_device *dev, dm_cmos_listener cb, void *opaque)
{
	dev->cmos_cb = cb;
	dev->cmos_opaque = opaque;
}

/* Run with the decided offset: RTC, listeners, and the hypervisor when the
 * decision says it must be told. */
static void apply_decision(struct dm_device *dev, const struct dm_offset_decision *d,
                           const struct rtc_offset *before)
{
	enum dm_offset_source src = d->origin == DM_ORIGIN_TOOLSTACK    ? DM_OFFSET_TOOLSTACK
	                            : d->origin == DM_ORIGIN_HYPERVISOR ? DM_OFFSET_HYPERVISOR
	                                                                : DM_OFFSET_GUEST;

	if (d->tell_hypervisor) {
		if (d->offset.set)
			dev->plat->ops->set_time_offset(dev->plat, d->offset.seconds);
		else
			dev->plat->ops->offset_changed(dev->plat, d->offset.seconds - before->seconds,
			                               &d->offset);
	}
	if (d->changed)
		notify(dev, src, &d->offset);
}

void dm_device_restore(struct dm_device *dev, struct dm_offset_inputs *in,
                       struct dm_offset_decision *d)
{
	const struct sr_image *img = in->image ? in->image : in->battery;
	struct rtc_offset before;

	rtc_get_offset(dev->rtc, &before);
	in->running = before;
	dm_offset_decide(in, d);
	if (img) {
		sr_apply(dev->rtc, img, &d->offset);
		dev->index = (sr_has(img, SR_REC_PORT) ? img->port.index : img->rtc.index) & 0x7f;
	} else if (d->changed) {
		rtc_load_offset(dev->rtc, &d->offset);
	}
	apply_decision(dev, d, &before);
	dm_info(dev->log, "time offset: %s [%s]", d->why, dm_offset_origin_name(d->origin));
}

size_t dm_device_save_state(struct dm_device *dev, uint8_t *buf, size_t cap)
{
	struct sr_xen_rtc xen_rtc;
	const struct sr_xen_rtc *rec = NULL;

	/* Xen HVM: the hypervisor's own RTC record goes into the image verbatim,
	 * and the offset follows it where the rule says so. */
	if (dev->plat->ops->read_hypervisor_rtc &&
	    dev->plat->ops->read_hypervisor_rtc(dev->plat, &xen_rtc) == 0) {
		struct dm_offset_inputs in = {.moment = DM_DECIDE_BEFORE_SAVE};
		struct dm_offset_decision d;

		rec = &xen_rtc;
		rtc_get_offset(dev->rtc, &in.running);
		dm_device_hypervisor_offset(dev, &in.hv);
		in.hv.known = true;
		in.hv.seconds = xen_rtc.rtc_offset;
		dm_offset_decide(&in, &d);
		if (d.changed) {
			dm_warn(dev->log, "time offset: %s [%s]", d.why, dm_offset_origin_name(d.origin));
			rtc_load_offset(dev->rtc, &d.offset);
			apply_decision(dev, &d, &in.running);
		}
	}
	return sr_save_rtc(dev->rtc, rec, buf, cap);
}

void dm_device_hypervisor_offset(struct dm_device *dev, struct plat_hv_offset *out)
{
	*out = (struct plat_hv_offset){.kind = PLAT_HV_NONE};
	if (dev->plat->ops->hypervisor_offset)
		dev->plat->ops->hypervisor_offset(dev->plat, out);
}
