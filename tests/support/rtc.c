/* support_rtc.c — fake platform for the RTC model tests (see support_rtc.h). */
#include "tests/support/rtc.h"

#include <CUnit/CUnit.h>

static uint64_t fake_clock(void *opaque)
{
	return ((struct rtc_fake *)opaque)->now;
}

static void fake_arm(void *opaque, uint64_t deadline)
{
	struct rtc_fake *f = opaque;
	f->arm_calls++;
	if (deadline == f->deadline)
		f->arm_same++;
	if (deadline != RTC_NO_DEADLINE && deadline <= f->now)
		f->arm_past++;
	f->deadline = deadline;
}

static void fake_irq(void *opaque, int level)
{
	struct rtc_fake *f = opaque;
	if (level == f->irq)
		f->irq_same++;
	else if (level)
		f->irq_raises++;
	else
		f->irq_lowers++;
	f->irq = level;
}

static void fake_offset(void *opaque, int64_t delta_s, const struct rtc_offset *now)
{
	struct rtc_fake *f = opaque;
	f->offset_calls++;
	f->last_delta = delta_s;
	f->sum_delta += delta_s;
	f->last_offset = *now;
}

static const struct rtc_platform_ops fake_ops = {
	.clock_ns = fake_clock,
	.arm_timer = fake_arm,
	.set_irq = fake_irq,
	.offset_changed = fake_offset,
};

void rtc_fake_init(struct rtc_fake *f, int64_t wallclock_ns, enum rtc_lost_tick_policy p)
{
	*f = (struct rtc_fake){.deadline = RTC_NO_DEADLINE};
	struct rtc_config cfg = {
		.ops = &fake_ops,
		.opaque = f,
		.host_wallclock_ns = wallclock_ns,
		.lost_tick_policy = p,
	};
	f->rtc = rtc_new(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->rtc);
}

void rtc_fake_fini(struct rtc_fake *f)
{
	rtc_free(f->rtc);
	f->rtc = NULL;
}

void rtc_fake_run_until(struct rtc_fake *f, uint64_t t)
{
	while (f->deadline != RTC_NO_DEADLINE && f->deadline <= t) {
		f->now = f->deadline;
		rtc_timer_expired(f->rtc);
	}
	f->now = t;
}

void rtc_fake_advance(struct rtc_fake *f, uint64_t ns)
{
	rtc_fake_run_until(f, f->now + ns);
}

uint8_t rtc_fake_rd(struct rtc_fake *f, uint8_t idx)
{
	rtc_ioport_write(f->rtc, 0x70, idx);
	return rtc_ioport_read(f->rtc, 0x71);
}

void rtc_fake_wr(struct rtc_fake *f, uint8_t idx, uint8_t v)
{
	rtc_ioport_write(f->rtc, 0x70, idx);
	rtc_ioport_write(f->rtc, 0x71, v);
}

void rtc_fake_set_fields(struct rtc_fake *f, uint8_t regb, uint8_t century, uint8_t year,
                         uint8_t mon, uint8_t mday, uint8_t hour, uint8_t min, uint8_t sec)
{
	rtc_fake_wr(f, RTC_REG_B, (uint8_t)(regb | RTC_B_SET));
	rtc_fake_wr(f, RTC_CENTURY, century);
	rtc_fake_wr(f, RTC_YEAR, year);
	rtc_fake_wr(f, RTC_MONTH, mon);
	rtc_fake_wr(f, RTC_DAY_OF_MONTH, mday);
	rtc_fake_wr(f, RTC_HOURS, hour);
	rtc_fake_wr(f, RTC_MINUTES, min);
	rtc_fake_wr(f, RTC_SECONDS, sec);
	rtc_fake_wr(f, RTC_REG_B, regb);
}

int64_t rtc_fake_epoch(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
	return rtc_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}
