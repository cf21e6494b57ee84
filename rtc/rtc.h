/*
 * rtc.h — MC146818 real-time clock and 128-byte CMOS, as a pure model.
 *
 * No I/O, no syscalls, no Xen: the platform hands in a monotonic clock, the
 * host wallclock at clock 0, a one-shot timer and the IRQ line as callbacks,
 * so tests drive time to the nanosecond.
 *
 * Time model
 *   guest time = host wallclock at clock 0 + clock_ns() + offset
 *   offset     = seconds (whole, signed) + phase_ns (0 .. 999 999 999)
 * Everything the guest sees (time registers, UIP, PF/AF/UF) is derived from
 * guest time on demand; state is the register file, the offset and the
 * point up to which interrupt flags have been evaluated.  The divider chain
 * is in phase with guest time: second boundaries of guest time are update
 * points, and periodic ticks fall on multiples of the period counted in
 * 32768 Hz cycles from the start of each guest second.
 *
 * Timers: the platform arms one absolute deadline; the model asks for one
 * only when an enabled interrupt can become due and the line is not already
 * raised.  When the deadline passes the platform calls rtc_timer_expired().
 */
#ifndef RTCDM_RTC_H
#define RTCDM_RTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CMOS register indices. */
enum {
	RTC_SECONDS = 0x00,
	RTC_SECONDS_ALARM = 0x01,
	RTC_MINUTES = 0x02,
	RTC_MINUTES_ALARM = 0x03,
	RTC_HOURS = 0x04,
	RTC_HOURS_ALARM = 0x05,
	RTC_DAY_OF_WEEK = 0x06,
	RTC_DAY_OF_MONTH = 0x07,
	RTC_MONTH = 0x08,
	RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a,
	RTC_REG_B = 0x0b,
	RTC_REG_C = 0x0c,
	RTC_REG_D = 0x0d,
	RTC_NVRAM_FIRST = 0x0e, /* 0x0e..0x7f: battery-backed NVRAM */
	RTC_CENTURY = 0x32,     /* NVRAM byte kept consistent with the year */
	RTC_CMOS_SIZE = 128,
	RTC_XEN_CMOS_SIZE = 14, /* registers Xen's vRTC owns on HVM */
};

/* Register bits. */
enum {
	RTC_A_UIP = 0x80,
	RTC_A_DV_MASK = 0x70,
	RTC_A_DV_32KHZ = 0x20,
	RTC_A_RS_MASK = 0x0f,

	RTC_B_SET = 0x80,
	RTC_B_PIE = 0x40,
	RTC_B_AIE = 0x20,
	RTC_B_UIE = 0x10,
	RTC_B_SQWE = 0x08,
	RTC_B_DM_BINARY = 0x04,
	RTC_B_24H = 0x02,
	RTC_B_DSE = 0x01,

	RTC_C_IRQF = 0x80,
	RTC_C_PF = 0x40,
	RTC_C_AF = 0x20,
	RTC_C_UF = 0x10,

	RTC_D_VRT = 0x80,

	RTC_HOUR_PM = 0x80,
	RTC_ALARM_DONT_CARE = 0xc0, /* alarm byte with both top bits set */
};

/* Power-on register values (as Xen's vRTC: 32 kHz divider, 1024 Hz rate, 24 h, BCD). */
#define RTC_RESET_REG_A 0x26
#define RTC_RESET_REG_B 0x02

/* UIP is set for 8 cycles of 32768 Hz before each update: 244 140.625 ns. */
#define RTC_CYCLES_PER_SEC 32768u
#define RTC_UIP_CYCLES 8u

#define RTC_NS_PER_SEC 1000000000LL
/* The one "no timer armed" value, for the RTC, the clocks and qtest. */
#define RTC_NO_DEADLINE UINT64_MAX

/* The PC's RTC ports: index (bit 7 masks NMI) and data. */
#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA 0x71

/* Lost-tick policy for periodic interrupts the guest has not acknowledged. */
enum rtc_lost_tick_policy {
	RTC_LOST_TICKS_DISCARD = 0, /* flags coalesce; missed ticks are gone (default) */
	RTC_LOST_TICKS_SLEW = 1,    /* count missed ticks, deliver them later, faster */
};

/* Upper bound of the missed-tick count kept under the slew policy. */
#define RTC_MAX_LOST_TICKS 65536u

/* The guest's time offset relative to the host wallclock. */
struct rtc_offset {
	int64_t seconds;   /* whole seconds, as in Xen's time_offset.seconds */
	uint32_t phase_ns; /* sub-second part, 0 .. 999 999 999 */
	bool set;          /* set by the toolstack: wins over a saved offset */
};

/* What the platform provides.  All callbacks get `opaque`. */
struct rtc_platform_ops {
	/* Monotonic clock in ns; never goes backwards. */
	uint64_t (*clock_ns)(void *opaque);
	/* Arm the single timer for an absolute clock_ns() deadline, or disarm
	 * it with RTC_NO_DEADLINE.  Replaces any earlier deadline. */
	void (*arm_timer)(void *opaque, uint64_t deadline_ns);
	/* Drive IRQ 8 (level: 1 raised, 0 lowered).  Called only on change. */
	void (*set_irq)(void *opaque, int level);
	/* The guest changed its time (by writing time registers or by leaving
	 * SET / divider reset).  `delta_s` = new seconds - old seconds; `now`
	 * is the new offset.  May be NULL. */
	void (*offset_changed)(void *opaque, int64_t delta_s, const struct rtc_offset *now);
};

struct rtc_config {
	const struct rtc_platform_ops *ops;
	void *opaque;
	int64_t host_wallclock_ns; /* UTC ns since the epoch at clock_ns() == 0 */
	enum rtc_lost_tick_policy lost_tick_policy;
};

/*
 * Everything needed to resume a guest's RTC exactly; what the save format
 * stores.  Produced by rtc_snapshot(), consumed by rtc_restore().
 */
struct rtc_snapshot {
	uint8_t cmos[RTC_CMOS_SIZE]; /* as the guest would read them now: time
	                              * registers refreshed (or as entered while
	                              * frozen), REG_A with UIP clear, REG_C with
	                              * the pending flags, century consistent */
	uint8_t index;               /* 0..127 */
	bool nmi_masked;             /* bit 7 of the last index write */
	struct rtc_offset offset;
	bool irq_level;              /* IRQ 8 line as driven now */
	uint32_t lost_ticks;         /* slew policy: ticks still to deliver */
	uint32_t period_elapsed_ns;  /* ns since the last periodic tick (informational:
	                              * it follows from offset.phase_ns and the rate) */
};

/* Opaque model state; embed with rtc_size()/rtc_init() or allocate with rtc_new(). */
struct rtc;

size_t rtc_size(void);
/* Power-on state: A=0x26, B=0x02, C=0, D=VRT, NVRAM zero, offset 0 (not set). */
void rtc_init(struct rtc *rtc, const struct rtc_config *cfg);
struct rtc *rtc_new(const struct rtc_config *cfg);
void rtc_free(struct rtc *rtc);

/* Port I/O.  port is 0x70 (index; bit 7 = NMI mask) or 0x71 (data).
 * Reads of 0x70 return 0xff.  Other ports: reads 0xff, writes ignored. */
uint8_t rtc_ioport_read(struct rtc *rtc, uint16_t port);
void rtc_ioport_write(struct rtc *rtc, uint16_t port, uint8_t val);

/* Direct CMOS access by index (same semantics as selecting the index and
 * using port 0x71, but the index register is left unchanged). */
uint8_t rtc_cmos_read(struct rtc *rtc, uint8_t index);
void rtc_cmos_write(struct rtc *rtc, uint8_t index, uint8_t val);

/* The platform's timer deadline passed: evaluate flags, raise the line, re-arm. */
void rtc_timer_expired(struct rtc *rtc);

/* The deadline the model currently wants (RTC_NO_DEADLINE when none). */
uint64_t rtc_next_deadline(const struct rtc *rtc);

/* Offset API. */
/*
 * Offsets the model accepts: |seconds| <= RTC_OFFSET_MAX_S (2^40 s, about
 * 34 800 years), which covers every time a guest can enter (years -1 ..
 * 25 599) from any host wallclock.  rtc_set_offset(), rtc_load_offset() and
 * rtc_adjust_offset() ignore a value outside it (or a phase >= 1 s) and
 * change nothing; callers check with rtc_offset_valid() and report.
 */
#define RTC_OFFSET_MAX_S ((int64_t)1 << 40)
bool rtc_offset_valid(int64_t seconds);
void rtc_get_offset(const struct rtc *rtc, struct rtc_offset *out);
/* The toolstack sets the offset (settimeoffset): seconds replaced, phase
 * kept, `set` becomes true.  Does not call offset_changed. */
void rtc_set_offset(struct rtc *rtc, int64_t seconds);
/* Replace the whole offset (used when loading a saved state). */
void rtc_load_offset(struct rtc *rtc, const struct rtc_offset *off);
/* Follow a change made elsewhere (Xen's TIMEOFFSET delta): seconds += delta,
 * `set` unchanged.  Does not call offset_changed. */
void rtc_adjust_offset(struct rtc *rtc, int64_t delta_s);

/* The guest's current time (seconds since the epoch, ns within the second). */
void rtc_guest_time(const struct rtc *rtc, int64_t *sec, uint32_t *nsec);

/* Save/restore.  rtc_restore() validates nothing: the save-format loader
 * has already refused anything out of range.  It recomputes time registers
 * from the offset unless the snapshot is frozen (SET or divider reset). */
void rtc_snapshot(struct rtc *rtc, struct rtc_snapshot *out);
void rtc_restore(struct rtc *rtc, const struct rtc_snapshot *in);

/* Lost-tick policy (may change at run time). */
void rtc_set_lost_tick_policy(struct rtc *rtc, enum rtc_lost_tick_policy p);

/* Calendar helpers shared with the save-format tools (UTC, proleptic Gregorian). */
int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d);
void rtc_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
