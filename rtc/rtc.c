/*
 * rtc.c — MC146818 state, register file, ports, lazy flags, timer, offset.
 *
 * State is deliberately small: the 128 CMOS bytes, the index and NMI bit,
 * the guest offset, the clock instant up to which flags have been evaluated,
 * the IRQ line, the lost-tick count (and when the next one is due) and the
 * deadline last handed to the platform.  Everything else is derived on
 * demand from guest time = host wallclock + clock + offset:
 *   - while time runs (see below) the time registers are encoded from guest
 *     time at every read (the encoding of the current guest second is kept,
 *     so reads within one second decode the calendar once); the CMOS copies
 *     of them are only meaningful while the clock is frozen;
 *   - UIP is computed at each REG_A read;
 *   - PF, UF and AF are set by sync(), which replays what happened between
 *     the last evaluation point and now (periodic ticks, second boundaries,
 *     alarm matches) with integer arithmetic; sync() runs at every access
 *     to a clock-derived register, at timer expiry and before every change
 *     of state (NVRAM, the alarm bytes and REG_D are plain storage: their
 *     accesses read no clock and evaluate nothing);
 *   - IRQF and the line follow the datasheet: IRQF = (PF & PIE) | (AF & AIE)
 *     | (UF & UIE), the line is raised exactly while IRQF is set.
 *
 * Frozen clock.  The "frozen" state is not stored, it is derived from the
 * registers: the time registers hold their value while REG_B SET is set or
 * while the divider does not run ((REG_A & 0x70) > 0x20, e.g. the divider
 * reset 110/111).  Entering the frozen state stores the current time into
 * the time registers; while frozen the guest may write any of them
 * (including day of week and century) and reads return what is stored.
 *   - Clearing SET (divider running) commits the stored fields: the seconds
 *     part of the offset changes so that the guest second equals the entered
 *     time; the sub-second phase is kept.  Clearing SET while the divider
 *     is stopped commits nothing: the fields stay held until it restarts.
 *   - Starting the divider (frozen DV -> running DV) sets guest time to the
 *     stored fields + 0.5 s, so the first update comes 500 ms later, as the
 *     datasheet says.  Both the seconds and the phase of the offset change.
 *   - A write with SET clears UIE (datasheet and QEMU; Xen keeps it).  SET
 *     stops updates (no UF, no AF, no UIP) but the divider keeps running,
 *     so periodic interrupts continue.
 * Whenever the guest changes the offset, offset_changed() is called with
 * the change in whole seconds (also when only the phase changed).
 *
 * Writes to time registers while running follow Xen: take the current guest
 * time, replace that one field (decoded with the rule in calendar.c), fold
 * the result into seconds and change the offset by the difference (phase
 * kept).  The day of week is derived from the date while running, so a
 * write to it is not kept.  A write to the century byte (0x32) changes the
 * year by whole centuries, so a guest can set 19xx.
 *
 * Timer.  After every change the model computes the first clock instant at
 * which an enabled interrupt would set its flag and raise the line: the next
 * periodic tick (PIE, divider running, rate != 0), the next second boundary
 * (UIE) or the next alarm match (AIE), the last two only while running and
 * not SET.  While the line is raised no timer is needed: the guest has to
 * read REG_C first, and flags are evaluated lazily at that read.  With no
 * interrupt enabled no timer is ever armed.  arm_timer() is called only
 * when the deadline changes.
 *
 * Quiet window.  Along with the deadline the model computes the first clock
 * instant at which sync() would change anything at all (the next tick
 * unless PF is already set and no tick is counted, the next second while
 * UF is clear, the next alarm match while only AF is clear, the next slew
 * delivery).  Before it, sync() only moves the evaluation point, and a read
 * that changes no state (time registers, REG_A, REG_B, REG_C with no flag
 * pending) skips flag evaluation and the deadline computation altogether:
 * neither could change.
 *
 * Lost ticks.  DISCARD (default): a periodic tick that finds PF still set
 * simply coalesces with it.  SLEW: such ticks (only while PIE is set) are
 * counted, up to RTC_MAX_LOST_TICKS.  When the guest reads REG_C while the
 * count is non-zero, one missed tick is delivered P/4 later (4x the nominal
 * rate): PF is set and the line raised, the count drops by one, and the
 * next one follows P/4 after the next REG_C read, until none are left.  A
 * real tick that arrives first wins; the pending delivery then waits for
 * the next REG_C read.  Clearing PIE, stopping the periodic rate or
 * switching to DISCARD forgets the count.
 */
#include <stdlib.h>
#include <string.h>

#include "rtc/rtc_internal.h"

struct rtc {
	const struct rtc_platform_ops *ops;
	void *opaque;
	int64_t host_sec;  /* host wallclock at clock 0, seconds ... */
	uint32_t host_ns;  /* ... and ns */
	enum rtc_lost_tick_policy policy;

	uint8_t cmos[RTC_CMOS_SIZE]; /* REG_C holds PF/AF/UF only; IRQF is derived */
	uint8_t index;
	bool nmi_masked;
	struct rtc_offset offset;
	uint64_t last_eval; /* clock ns up to which flags are evaluated */
	bool irq_level;
	uint32_t lost_ticks;
	uint64_t slew_at;   /* clock ns of the next lost-tick delivery, or none */
	uint64_t deadline;  /* as last handed to arm_timer() */
	uint64_t quiet_until; /* clock ns of the first instant at which a flag can
	                       * change (tick, second, alarm, slew delivery); before
	                       * it sync() has nothing to apply.  0: unknown */
	/* The time registers encoded for guest second cal_sec in mode cal_regb
	 * (cal_valid): a read within the same second is a lookup. */
	int64_t cal_sec;
	uint8_t cal_regb;
	bool cal_valid;
	uint8_t cal[RTC_YEAR + 1]; /* 0x00..0x09 (alarm bytes unused) */
	uint8_t cal_century;
	bool line_stale;    /* restored line level differs from B & C: the next
	                     * flag evaluation drives it (see rtc_restore) */
};

#define FLAG_MASK (RTC_C_PF | RTC_C_AF | RTC_C_UF)

size_t rtc_size(void)
{
	return sizeof(struct rtc);
}

bool rtc_offset_valid(int64_t seconds)
{
	return seconds >= -RTC_OFFSET_MAX_S && seconds <= RTC_OFFSET_MAX_S;
}

/* ---- time ------------------------------------------------------------------ */

static uint64_t clock_now(const struct rtc *rtc)
{
	uint64_t now = rtc->ops->clock_ns(rtc->opaque);
	/* The clock never goes backwards; be safe if it does. */
	return now < rtc->last_eval ? rtc->last_eval : now;
}

static struct rtc_time guest_at(const struct rtc *rtc, uint64_t clk)
{
	uint64_t ns = (uint64_t)rtc->host_ns + clk % RTC_NS_PER_SEC + rtc->offset.phase_ns;
	struct rtc_time t;
	t.sec = rtc->host_sec + (int64_t)(clk / RTC_NS_PER_SEC) + rtc->offset.seconds +
	        (int64_t)(ns / RTC_NS_PER_SEC);
	t.ns = (uint32_t)(ns % RTC_NS_PER_SEC);
	return t;
}

static bool is_running(const struct rtc *rtc)
{
	return rtc_divider_running(rtc->cmos[RTC_REG_A]);
}

static bool is_frozen(const struct rtc *rtc)
{
	return !is_running(rtc) || (rtc->cmos[RTC_REG_B] & RTC_B_SET);
}

static bool is_time_reg(uint8_t idx)
{
	switch (idx) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return true;
	default:
		return false;
	}
}

/*
 * The guest changed its time: replace the offset and report the change.
 * Guest-entered times alone always give a valid offset, but after the
 * toolstack has put the offset near the limit a guest write could carry
 * it past RTC_OFFSET_MAX_S; such a change is ignored (the time stays).
 */
static void change_offset(struct rtc *rtc, int64_t seconds, uint32_t phase_ns)
{
	if (!rtc_offset_valid(seconds))
		return;
	int64_t delta = seconds - rtc->offset.seconds;
	bool changed = delta != 0 || phase_ns != rtc->offset.phase_ns;
	rtc->offset.seconds = seconds;
	rtc->offset.phase_ns = phase_ns;
	if (changed && rtc->ops->offset_changed)
		rtc->ops->offset_changed(rtc->opaque, delta, &rtc->offset);
}

/* Make guest time at clock `now` equal `target`. */
static void set_guest_time(struct rtc *rtc, uint64_t now, struct rtc_time target)
{
	int64_t ns = (int64_t)target.ns - (int64_t)rtc->host_ns - (int64_t)(now % RTC_NS_PER_SEC);
	int64_t sec = target.sec - rtc->host_sec - (int64_t)(now / RTC_NS_PER_SEC);
	sec += rtc_floor_div(ns, RTC_NS_PER_SEC);
	ns = rtc_floor_mod(ns, RTC_NS_PER_SEC);
	change_offset(rtc, sec, (uint32_t)ns);
}

/* ---- flags, line, timer ------------------------------------------------------ */

static void update_irq(struct rtc *rtc)
{
	bool level = (rtc->cmos[RTC_REG_B] & rtc->cmos[RTC_REG_C] & FLAG_MASK) != 0;
	rtc->line_stale = false;
	if (level != rtc->irq_level) {
		rtc->irq_level = level;
		rtc->ops->set_irq(rtc->opaque, level ? 1 : 0);
	}
}

static void forget_lost_ticks(struct rtc *rtc)
{
	rtc->lost_ticks = 0;
	rtc->slew_at = RTC_NO_DEADLINE;
}

static void add_ticks(struct rtc *rtc, int64_t n)
{
	if (rtc->policy == RTC_LOST_TICKS_SLEW && (rtc->cmos[RTC_REG_B] & RTC_B_PIE)) {
		int64_t lost = (rtc->cmos[RTC_REG_C] & RTC_C_PF) ? n : n - 1;
		int64_t total = (int64_t)rtc->lost_ticks + lost;
		rtc->lost_ticks = total > (int64_t)RTC_MAX_LOST_TICKS ? RTC_MAX_LOST_TICKS
		                                                      : (uint32_t)total;
	}
	rtc->cmos[RTC_REG_C] |= RTC_C_PF;
}

/* Apply everything that happened between the last evaluation point and now. */
static void sync(struct rtc *rtc, uint64_t now)
{
	if (now < rtc->quiet_until) {
		/* Nothing can have happened since the last evaluation. */
		rtc->last_eval = now;
		return;
	}
	if (now > rtc->last_eval && is_running(rtc)) {
		struct rtc_time a = guest_at(rtc, rtc->last_eval);
		struct rtc_time b = guest_at(rtc, now);
		uint32_t period = rtc_period_cycles(rtc->cmos[RTC_REG_A]);
		if (period) {
			int64_t n = rtc_ticks_between(a, b, period);
			if (n > 0)
				add_ticks(rtc, n);
		}
		if (!(rtc->cmos[RTC_REG_B] & RTC_B_SET) && b.sec > a.sec) {
			rtc->cmos[RTC_REG_C] |= RTC_C_UF;
			if (!(rtc->cmos[RTC_REG_C] & RTC_C_AF)) {
				struct rtc_alarm al;
				int64_t next;
				rtc_alarm_parse(rtc->cmos, &al);
				if (rtc_alarm_next(&al, a.sec, &next) && next <= b.sec)
					rtc->cmos[RTC_REG_C] |= RTC_C_AF;
			}
		}
	}
	if (now > rtc->last_eval)
		rtc->last_eval = now;
	/* Slew: deliver one missed tick when it is due and PF is free. */
	if (rtc->slew_at != RTC_NO_DEADLINE && now >= rtc->slew_at) {
		rtc->slew_at = RTC_NO_DEADLINE;
		if (rtc->lost_ticks && !(rtc->cmos[RTC_REG_C] & RTC_C_PF)) {
			rtc->cmos[RTC_REG_C] |= RTC_C_PF;
			rtc->lost_ticks--;
		}
	}
	update_irq(rtc);
}

/* Clock instant at which guest time reaches `t` (t after guest time g at now). */
static uint64_t clock_of(uint64_t now, struct rtc_time g, struct rtc_time t)
{
	int64_t d = rtc_time_diff_ns(g, t);
	if (d <= 0)
		d = 1;
	if ((uint64_t)d >= RTC_NO_DEADLINE - now)
		return RTC_NO_DEADLINE;
	return now + (uint64_t)d;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * After every evaluation at `now` (last_eval == now): the deadline, the first
 * instant at which an enabled interrupt would raise the line, and
 * quiet_until, the first instant at which sync() would change anything.
 * Between two evaluations nothing else moves either: state changes always
 * evaluate first and plan again afterwards.
 */
static void plan(struct rtc *rtc, uint64_t now)
{
	uint64_t d = rtc->slew_at;
	uint64_t q = d; /* both start at the next slew delivery */
	if (is_running(rtc)) {
		uint8_t b = rtc->cmos[RTC_REG_B], c = rtc->cmos[RTC_REG_C];
		struct rtc_time g = guest_at(rtc, now);
		uint32_t period = rtc_period_cycles(rtc->cmos[RTC_REG_A]);
		if (period) {
			bool pie = b & RTC_B_PIE;
			/* A tick changes state unless PF is already set (and, under
			 * slew with PIE, every tick is counted). */
			bool counts = !(c & RTC_C_PF) || (pie && rtc->policy == RTC_LOST_TICKS_SLEW);
			if (pie || counts) {
				uint64_t t = clock_of(now, g, rtc_next_tick(g, period));
				if (pie)
					d = min_u64(d, t);
				if (counts)
					q = min_u64(q, t);
			}
		}
		if (!(b & RTC_B_SET)) {
			bool uie = b & RTC_B_UIE, aie = b & RTC_B_AIE;
			bool uf = c & RTC_C_UF, af = c & RTC_C_AF;
			if (uie || !uf) {
				struct rtc_time next = {g.sec + 1, 0};
				uint64_t t = clock_of(now, g, next);
				if (uie)
					d = min_u64(d, t);
				if (!uf)
					q = min_u64(q, t);
			}
			/* With UF clear the next second comes first anyway. */
			bool alarm_counts = uf && !af;
			if (aie || alarm_counts) {
				struct rtc_alarm al;
				int64_t s;
				rtc_alarm_parse(rtc->cmos, &al);
				if (rtc_alarm_next(&al, g.sec, &s)) {
					struct rtc_time next = {s, 0};
					uint64_t t = clock_of(now, g, next);
					if (aie)
						d = min_u64(d, t);
					if (alarm_counts)
						q = min_u64(q, t);
				}
			}
		}
	}
	/* While the line is raised no timer is needed: flags are evaluated when
	 * REG_C is read.  A line restored against the flags waits for sync(). */
	if (rtc->irq_level)
		d = RTC_NO_DEADLINE;
	rtc->quiet_until = rtc->line_stale ? 0 : q;
	if (d != rtc->deadline) {
		rtc->deadline = d;
		rtc->ops->arm_timer(rtc->opaque, d);
	}
}

/* ---- life cycle ------------------------------------------------------------------ */

void rtc_init(struct rtc *rtc, const struct rtc_config *cfg)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->ops = cfg->ops;
	rtc->opaque = cfg->opaque;
	rtc->host_sec = rtc_floor_div(cfg->host_wallclock_ns, RTC_NS_PER_SEC);
	rtc->host_ns = (uint32_t)rtc_floor_mod(cfg->host_wallclock_ns, RTC_NS_PER_SEC);
	rtc->policy = cfg->lost_tick_policy == RTC_LOST_TICKS_SLEW ? RTC_LOST_TICKS_SLEW
	                                                           : RTC_LOST_TICKS_DISCARD;
	rtc->cmos[RTC_REG_A] = RTC_RESET_REG_A;
	rtc->cmos[RTC_REG_B] = RTC_RESET_REG_B;
	rtc->cmos[RTC_REG_D] = RTC_D_VRT;
	rtc->slew_at = RTC_NO_DEADLINE;
	rtc->deadline = RTC_NO_DEADLINE;
	rtc->last_eval = rtc->ops->clock_ns(rtc->opaque);
}

struct rtc *rtc_new(const struct rtc_config *cfg)
{
	struct rtc *rtc = malloc(sizeof(*rtc));
	if (rtc)
		rtc_init(rtc, cfg);
	return rtc;
}

void rtc_free(struct rtc *rtc)
{
	free(rtc);
}

/* ---- registers ---------------------------------------------------------------------- */

/* A time register (or the century byte) while time runs. */
static uint8_t read_running_time(struct rtc *rtc, uint8_t idx, uint64_t now)
{
	int64_t sec = guest_at(rtc, now).sec;
	uint8_t b = rtc->cmos[RTC_REG_B];
	if (!rtc->cal_valid || sec != rtc->cal_sec || b != rtc->cal_regb) {
		uint8_t tmp[RTC_CMOS_SIZE];
		rtc_encode_time(sec, b, tmp);
		memcpy(rtc->cal, tmp, sizeof(rtc->cal));
		rtc->cal_century = tmp[RTC_CENTURY];
		rtc->cal_sec = sec;
		rtc->cal_regb = b;
		rtc->cal_valid = true;
	}
	return idx == RTC_CENTURY ? rtc->cal_century : rtc->cal[idx];
}

static uint8_t read_reg(struct rtc *rtc, uint8_t idx, uint64_t now)
{
	if (is_time_reg(idx)) {
		if (is_frozen(rtc))
			return rtc->cmos[idx];
		return read_running_time(rtc, idx, now);
	}
	switch (idx) {
	case RTC_REG_A: {
		uint8_t a = rtc->cmos[RTC_REG_A];
		/* UIP: the last 8 cycles (244 140.625 ns) before each update. */
		if (!is_frozen(rtc)) {
			struct rtc_time g = guest_at(rtc, now);
			int64_t cyc = rtc_cycles_at(g) - g.sec * (int64_t)RTC_CYCLES_PER_SEC;
			if (cyc >= (int64_t)(RTC_CYCLES_PER_SEC - RTC_UIP_CYCLES))
				a |= RTC_A_UIP;
		}
		return a;
	}
	case RTC_REG_C: {
		uint8_t c = rtc->cmos[RTC_REG_C] & FLAG_MASK;
		if (c & rtc->cmos[RTC_REG_B])
			c |= RTC_C_IRQF;
		rtc->cmos[RTC_REG_C] = 0;
		update_irq(rtc);
		uint32_t period = rtc_period_cycles(rtc->cmos[RTC_REG_A]);
		if (rtc->lost_ticks && period && rtc->slew_at == RTC_NO_DEADLINE)
			rtc->slew_at = now + rtc_period_ns(period) / 4;
		return c;
	}
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return rtc->cmos[idx];
	}
}

/* A time register written while the clock runs: change the offset (Xen). */
static void write_running_time(struct rtc *rtc, uint8_t idx, uint8_t val, uint64_t now)
{
	uint8_t b = rtc->cmos[RTC_REG_B];
	struct rtc_time g = guest_at(rtc, now);
	struct rtc_tm tm;
	rtc_tm_from_seconds(g.sec, &tm);
	switch (idx) {
	case RTC_SECONDS:
		tm.sec = rtc_decode(val, b);
		break;
	case RTC_MINUTES:
		tm.min = rtc_decode(val, b);
		break;
	case RTC_HOURS:
		tm.hour = rtc_decode_hour(val, b);
		break;
	case RTC_DAY_OF_MONTH:
		tm.mday = rtc_decode(val, b);
		break;
	case RTC_MONTH:
		tm.mon = rtc_decode(val, b);
		break;
	case RTC_YEAR:
		tm.year = rtc_floor_div(tm.year, 100) * 100 + rtc_decode(val, b);
		break;
	case RTC_CENTURY:
		tm.year = (int64_t)rtc_decode(val, b) * 100 + rtc_floor_mod(tm.year, 100);
		break;
	default: /* day of week: derived from the date, not kept */
		return;
	}
	int64_t secs = rtc_tm_to_seconds(&tm);
	change_offset(rtc, rtc->offset.seconds + (secs - g.sec), rtc->offset.phase_ns);
}

static void write_reg_a(struct rtc *rtc, uint8_t val, uint64_t now)
{
	uint8_t old = rtc->cmos[RTC_REG_A];
	uint8_t nval = val & (uint8_t)~RTC_A_UIP; /* UIP is read-only */
	bool was_running = rtc_divider_running(old);
	bool running = rtc_divider_running(nval);
	bool set = rtc->cmos[RTC_REG_B] & RTC_B_SET;

	if (was_running && !running && !set)
		rtc_encode_time(guest_at(rtc, now).sec, rtc->cmos[RTC_REG_B], rtc->cmos);
	rtc->cmos[RTC_REG_A] = nval;
	if (!was_running && running) {
		/* Leaving divider reset: the first update comes 500 ms later. */
		struct rtc_time t = {rtc_decode_time(rtc->cmos, rtc->cmos[RTC_REG_B]),
		                     (uint32_t)(RTC_NS_PER_SEC / 2)};
		set_guest_time(rtc, now, t);
	}
	if (rtc_period_cycles(nval) == 0)
		forget_lost_ticks(rtc);
}

static void write_reg_b(struct rtc *rtc, uint8_t val, uint64_t now)
{
	uint8_t old = rtc->cmos[RTC_REG_B];
	uint8_t nval = val;
	bool running = is_running(rtc);

	if (nval & RTC_B_SET)
		nval &= (uint8_t)~RTC_B_UIE;
	if (running && !(old & RTC_B_SET) && (nval & RTC_B_SET)) {
		/* Freeze the fields at the current time, in the new mode. */
		rtc_encode_time(guest_at(rtc, now).sec, nval, rtc->cmos);
	} else if (running && (old & RTC_B_SET) && !(nval & RTC_B_SET)) {
		/* Commit the fields, decoded in the mode they were entered in. */
		struct rtc_time g = guest_at(rtc, now);
		int64_t secs = rtc_decode_time(rtc->cmos, old);
		change_offset(rtc, rtc->offset.seconds + (secs - g.sec), rtc->offset.phase_ns);
	}
	rtc->cmos[RTC_REG_B] = nval;
	if (!(nval & RTC_B_PIE))
		forget_lost_ticks(rtc);
}

static void write_reg(struct rtc *rtc, uint8_t idx, uint8_t val, uint64_t now)
{
	if (is_time_reg(idx)) {
		if (is_frozen(rtc))
			rtc->cmos[idx] = val;
		else
			write_running_time(rtc, idx, val, now);
		return;
	}
	switch (idx) {
	case RTC_REG_A:
		write_reg_a(rtc, val, now);
		break;
	case RTC_REG_B:
		write_reg_b(rtc, val, now);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		rtc->cmos[idx] = val; /* alarm bytes and NVRAM */
		break;
	}
}

/*
 * NVRAM bytes (and, for reads, the alarm bytes and REG_D) are plain storage:
 * accessing them cannot set a flag, move a deadline or change the line, so
 * they are served without reading the clock or evaluating anything.  The
 * flags that became due meanwhile are applied, unchanged, at the next
 * access that evaluates them (sync() is exact over any interval).
 */
static bool is_nvram(uint8_t idx)
{
	return idx >= RTC_NVRAM_FIRST && idx != RTC_CENTURY;
}

static bool is_plain_read(uint8_t idx)
{
	return is_nvram(idx) || idx == RTC_SECONDS_ALARM || idx == RTC_MINUTES_ALARM ||
	       idx == RTC_HOURS_ALARM || idx == RTC_REG_D;
}

uint8_t rtc_cmos_read(struct rtc *rtc, uint8_t index)
{
	uint8_t idx = index & 0x7f;
	if (is_plain_read(idx) && !rtc->line_stale)
		return idx == RTC_REG_D ? RTC_D_VRT : rtc->cmos[idx];
	uint64_t now = clock_now(rtc);
	if (now < rtc->quiet_until) {
		/* No flag can have changed since the last evaluation, so neither
		 * can the line or the deadline: a read that changes no state
		 * needs neither sync() nor plan(). */
		if (idx != RTC_REG_C) {
			rtc->last_eval = now;
			return read_reg(rtc, idx, now);
		}
		if (rtc->cmos[RTC_REG_C] == 0 && rtc->lost_ticks == 0) {
			rtc->last_eval = now;
			return 0;
		}
	}
	sync(rtc, now);
	uint8_t v = read_reg(rtc, idx, now);
	plan(rtc, now);
	return v;
}

void rtc_cmos_write(struct rtc *rtc, uint8_t index, uint8_t val)
{
	uint8_t idx = index & 0x7f;
	if (is_nvram(idx) && !rtc->line_stale) {
		rtc->cmos[idx] = val;
		return;
	}
	uint64_t now = clock_now(rtc);
	sync(rtc, now);
	write_reg(rtc, idx, val, now);
	update_irq(rtc);
	plan(rtc, now);
}

uint8_t rtc_ioport_read(struct rtc *rtc, uint16_t port)
{
	if (port == RTC_PORT_DATA)
		return rtc_cmos_read(rtc, rtc->index);
	return 0xff;
}

void rtc_ioport_write(struct rtc *rtc, uint16_t port, uint8_t val)
{
	if (port == RTC_PORT_INDEX) {
		rtc->index = val & 0x7f;
		rtc->nmi_masked = (val & 0x80) != 0;
	} else if (port == RTC_PORT_DATA) {
		rtc_cmos_write(rtc, rtc->index, val);
	}
}

void rtc_timer_expired(struct rtc *rtc)
{
	uint64_t now = clock_now(rtc);
	sync(rtc, now);
	/* A deadline that has passed always differs from the next one (which
	 * lies in the future or is none), so the spent timer is re-armed or
	 * disarmed here; an early call leaves a pending deadline alone. */
	plan(rtc, now);
}

uint64_t rtc_next_deadline(const struct rtc *rtc)
{
	return rtc->deadline;
}

/* ---- offset --------------------------------------------------------------------------- */

void rtc_get_offset(const struct rtc *rtc, struct rtc_offset *out)
{
	*out = rtc->offset;
}

void rtc_set_offset(struct rtc *rtc, int64_t seconds)
{
	if (!rtc_offset_valid(seconds))
		return;
	uint64_t now = clock_now(rtc);
	sync(rtc, now);
	rtc->offset.seconds = seconds;
	rtc->offset.set = true;
	plan(rtc, now);
}

void rtc_load_offset(struct rtc *rtc, const struct rtc_offset *off)
{
	if (!rtc_offset_valid(off->seconds) || off->phase_ns >= RTC_NS_PER_SEC)
		return;
	uint64_t now = clock_now(rtc);
	sync(rtc, now);
	rtc->offset = *off;
	plan(rtc, now);
}

void rtc_adjust_offset(struct rtc *rtc, int64_t delta_s)
{
	if (!rtc_offset_valid(delta_s) || !rtc_offset_valid(rtc->offset.seconds + delta_s))
		return;
	uint64_t now = clock_now(rtc);
	sync(rtc, now);
	rtc->offset.seconds += delta_s;
	plan(rtc, now);
}

void rtc_guest_time(const struct rtc *rtc, int64_t *sec, uint32_t *nsec)
{
	struct rtc_time g = guest_at(rtc, clock_now(rtc));
	if (sec)
		*sec = g.sec;
	if (nsec)
		*nsec = g.ns;
}

void rtc_set_lost_tick_policy(struct rtc *rtc, enum rtc_lost_tick_policy p)
{
	uint64_t now = clock_now(rtc);
	sync(rtc, now);
	rtc->policy = p == RTC_LOST_TICKS_SLEW ? RTC_LOST_TICKS_SLEW : RTC_LOST_TICKS_DISCARD;
	if (rtc->policy == RTC_LOST_TICKS_DISCARD)
		forget_lost_ticks(rtc);
	plan(rtc, now);
}

/* ---- save / restore ---------------------------------------------------------------------- */

void rtc_snapshot(struct rtc *rtc, struct rtc_snapshot *out)
{
	uint64_t now = clock_now(rtc);
	sync(rtc, now);
	memset(out, 0, sizeof(*out));
	memcpy(out->cmos, rtc->cmos, sizeof(out->cmos));
	struct rtc_time g = guest_at(rtc, now);
	if (!is_frozen(rtc))
		rtc_encode_time(g.sec, rtc->cmos[RTC_REG_B], out->cmos);
	out->cmos[RTC_REG_A] &= (uint8_t)~RTC_A_UIP;
	uint8_t c = rtc->cmos[RTC_REG_C] & FLAG_MASK;
	out->cmos[RTC_REG_C] = (uint8_t)(c | ((c & rtc->cmos[RTC_REG_B]) ? RTC_C_IRQF : 0));
	out->cmos[RTC_REG_D] = RTC_D_VRT;
	out->index = rtc->index;
	out->nmi_masked = rtc->nmi_masked;
	out->offset = rtc->offset;
	out->irq_level = rtc->irq_level;
	out->lost_ticks = rtc->lost_ticks;
	uint32_t period = rtc_period_cycles(rtc->cmos[RTC_REG_A]);
	if (period) {
		int64_t k = rtc_floor_div(rtc_cycles_at(g), period) * (int64_t)period;
		out->period_elapsed_ns = (uint32_t)rtc_time_diff_ns(rtc_cycle_start(k), g);
	}
	plan(rtc, now);
}

void rtc_restore(struct rtc *rtc, const struct rtc_snapshot *in)
{
	uint64_t now = clock_now(rtc);
	memcpy(rtc->cmos, in->cmos, sizeof(rtc->cmos));
	rtc->cmos[RTC_REG_A] &= (uint8_t)~RTC_A_UIP;
	rtc->cmos[RTC_REG_C] &= FLAG_MASK;
	rtc->cmos[RTC_REG_D] = RTC_D_VRT;
	rtc->index = in->index & 0x7f;
	rtc->nmi_masked = in->nmi_masked;
	rtc->offset = in->offset;
	rtc->last_eval = now;
	rtc->lost_ticks = rtc->policy == RTC_LOST_TICKS_SLEW ? in->lost_ticks : 0;
	if (rtc->lost_ticks > RTC_MAX_LOST_TICKS)
		rtc->lost_ticks = RTC_MAX_LOST_TICKS;
	rtc->slew_at = RTC_NO_DEADLINE;
	uint32_t period = rtc_period_cycles(rtc->cmos[RTC_REG_A]);
	if (!period || !(rtc->cmos[RTC_REG_B] & RTC_B_PIE))
		rtc->lost_ticks = 0;
	else if (rtc->lost_ticks && !in->irq_level)
		rtc->slew_at = now + rtc_period_ns(period) / 4;
	/* Time registers: derived from the offset at every read unless frozen. */
	if (in->irq_level != rtc->irq_level) {
		rtc->irq_level = in->irq_level;
		rtc->ops->set_irq(rtc->opaque, rtc->irq_level ? 1 : 0);
	}
	/* A line level that disagrees with the flags stays as restored until
	 * the next access evaluates flags, NVRAM accesses included. */
	rtc->line_stale =
		rtc->irq_level != ((rtc->cmos[RTC_REG_B] & rtc->cmos[RTC_REG_C] & FLAG_MASK) != 0);
	plan(rtc, now);
}
