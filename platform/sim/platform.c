/*
 * platform_sim.c — the simulated platform: a simulated hypervisor (host
 * wallclock, domain time offset, shared_info page) and, with -qtest, guest
 * port I/O and a virtual clock driven by a qtest client.  Without -qtest the
 * clock is CLOCK_MONOTONIC since start and no guest I/O arrives.
 *
 * Guest offset changes are pushed to the simulated hypervisor the way a
 * device model that owns the RTC pushes them to Xen (settimeoffset), so the
 * PV wallclock follows the guest and the domain's `set` flag becomes true.
 */
#include "platform/sim/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "platform/sim/qtest.h"

struct sim_platform {
	struct dm_platform base;
	struct dm_sim_hv hv;
	struct dm_clock clock;
	bool clock_ready;
	struct dm_qtest qtest;
	bool has_qtest;
	const struct dm_device_ops *dev_ops;
	void *dev;
	int irq_level;
};

static struct sim_platform *sim_of(struct dm_platform *p)
{
	return (struct sim_platform *)(void *)((char *)p - offsetof(struct sim_platform, base));
}

/* ---- qtest target ------------------------------------------------------------------ */

static uint32_t qt_pio_read(void *t, uint16_t port, unsigned size)
{
	struct sim_platform *s = t;

	return s->dev_ops->pio_read(s->dev, port, size);
}

static void qt_pio_write(void *t, uint16_t port, unsigned size, uint32_t val)
{
	struct sim_platform *s = t;

	s->dev_ops->pio_write(s->dev, port, size, val);
}

static uint64_t qt_clock_now(void *t)
{
	struct sim_platform *s = t;

	return dm_clock_now(&s->clock);
}

static uint64_t qt_next_deadline(void *t)
{
	struct sim_platform *s = t;
	uint64_t dl = dm_clock_deadline(&s->clock);

	return dl;
}

static int qt_clock_warp(void *t, uint64_t target)
{
	struct sim_platform *s = t;

	return dm_clock_warp(&s->clock, target);
}

static int qt_irq_level(void *t, unsigned irq)
{
	struct sim_platform *s = t;

	return irq == 8 ? s->irq_level : 0;
}

static const struct dm_qtest_target_ops qtest_target = {
	.pio_read = qt_pio_read,
	.pio_write = qt_pio_write,
	.clock_now = qt_clock_now,
	.next_deadline = qt_next_deadline,
	.clock_warp = qt_clock_warp,
	.irq_level = qt_irq_level,
};

static void qtest_gone(void *opaque)
{
	struct sim_platform *s = opaque;

	dm_info(s->base.log, "qtest client gone, exiting");
	dm_loop_stop(s->base.loop, 0);
}

/* ---- platform ops ------------------------------------------------------------------- */

static void clock_expired(void *opaque)
{
	struct sim_platform *s = opaque;

	if (s->dev_ops)
		s->dev_ops->timer_expired(s->dev);
}

static int sim_start(struct dm_platform *p, const struct dm_device_ops *dev_ops, void *dev)
{
	struct sim_platform *s = sim_of(p);
	int err;

	s->dev_ops = dev_ops;
	s->dev = dev;
	if (s->has_qtest) {
		err = dm_qtest_attach(&s->qtest, p->loop);
		if (err < 0) {
			dm_err(p->log, "qtest: cannot watch the connection: %s", strerror(-err));
			return -1;
		}
	}
	return 0;
}

static uint64_t sim_clock_ns(struct dm_platform *p)
{
	return dm_clock_now(&sim_of(p)->clock);
}

static struct dm_clock *sim_clock(struct dm_platform *p)
{
	return &sim_of(p)->clock;
}

static int64_t sim_host_wallclock_ns(struct dm_platform *p)
{
	return sim_of(p)->hv.host_wallclock_ns;
}

static void sim_arm_timer(struct dm_platform *p, uint64_t deadline_ns)
{
	struct sim_platform *s = sim_of(p);

	dm_clock_arm(&s->clock, deadline_ns);
}

static void sim_set_irq(struct dm_platform *p, int level)
{
	struct sim_platform *s = sim_of(p);

	level = level ? 1 : 0;
	if (level == s->irq_level)
		return;
	s->irq_level = level;
	dm_debug(p->log, "IRQ 8 %s at %" PRIu64 " ns", level ? "raised" : "lowered",
	         dm_clock_now(&s->clock));
	if (s->has_qtest)
		dm_qtest_irq(&s->qtest, 8, level);
}

static int sim_offset_changed(struct dm_platform *p, int64_t delta_s, const struct rtc_offset *now)
{
	struct sim_platform *s = sim_of(p);

	(void)delta_s;
	dm_sim_hv_settimeoffset(&s->hv, now->seconds);
	return 0;
}

static int sim_set_time_offset(struct dm_platform *p, int64_t seconds)
{
	dm_sim_hv_settimeoffset(&sim_of(p)->hv, seconds);
	return 0;
}

static void sim_destroy(struct dm_platform *p)
{
	struct sim_platform *s = sim_of(p);

	if (s->has_qtest)
		dm_qtest_close(&s->qtest);
	if (s->clock_ready)
		dm_clock_fini(&s->clock);
	dm_sim_hv_fini(&s->hv);
	free(s);
}

static const struct dm_platform_ops sim_ops = {
	.name = "sim",
	.start = sim_start,
	.clock_ns = sim_clock_ns,
	.clock = sim_clock,
	.host_wallclock_ns = sim_host_wallclock_ns,
	.arm_timer = sim_arm_timer,
	.set_irq = sim_set_irq,
	.offset_changed = sim_offset_changed,
	.set_time_offset = sim_set_time_offset,
	.destroy = sim_destroy,
};

int dm_platform_sim_create(const struct plat_config *cfg, struct dm_loop *loop,
                           const struct dm_log *log, struct dm_platform **out, char *err,
                           size_t errlen)
{
	struct sim_platform *s = calloc(1, sizeof(*s));
	int64_t wallclock;
	int rc;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	s->base.ops = &sim_ops;
	s->base.loop = loop;
	s->base.log = log;
	s->hv.fd = -1;

	if (cfg->qtest_path) {
		/* The client owns time: virtual clock at 0. */
		dm_clock_init_virtual(&s->clock, log);
	} else {
		rc = dm_clock_init_real(&s->clock, loop, log);
		if (rc < 0) {
			snprintf(err, errlen, "cannot create the RTC timer: %s", strerror(-rc));
			goto fail;
		}
	}
	s->clock_ready = true;
	dm_clock_set_expired_cb(&s->clock, clock_expired, s);

	if (cfg->wallclock_given) {
		wallclock = cfg->wallclock_ns;
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		wallclock = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	if (dm_sim_hv_init(&s->hv, wallclock, cfg->shared_info, err, errlen) < 0)
		goto fail;

	if (cfg->qtest_path) {
		dm_qtest_init(&s->qtest, &qtest_target, s, log);
		s->qtest.on_disconnect = qtest_gone;
		s->qtest.disconnect_opaque = s;
		if (dm_qtest_connect(&s->qtest, cfg->qtest_path, cfg->qtest_log, err, errlen) < 0)
			goto fail;
		s->has_qtest = true;
	}
	dm_info(log, "platform sim: host wallclock %" PRId64 ".%09" PRId64 " at clock 0, %s clock%s%s",
	        wallclock / 1000000000, wallclock % 1000000000, cfg->qtest_path ? "virtual" : "real",
	        cfg->shared_info ? ", shared_info in " : "",
	        cfg->shared_info ? cfg->shared_info : "");
	*out = &s->base;
	return 0;
fail:
	sim_destroy(&s->base);
	return 1;
}

struct dm_sim_hv *dm_platform_sim_hv(struct dm_platform *p)
{
	return p->ops == &sim_ops ? &sim_of(p)->hv : NULL;
}

int dm_platform_sim_irq_level(struct dm_platform *p)
{
	return p->ops == &sim_ops ? sim_of(p)->irq_level : -1;
}
