/*
 * guest.c — the test bed's own tiny guest.
 *
 * Freestanding 32-bit code, entered from start.S in protected mode with
 * paging off.  It drives the MC146818 CMOS ports 0x70/0x71 and reports what
 * it sees through the Xen debug port 0xe9 (shown by `xl dmesg` and on the
 * Xen serial console as "(dN) RTCG ...").  Every line starts with "RTCG ";
 * docs/testbed.md lists the line formats.
 *
 * Compile-time variants:
 *   GUEST_PVH=1      built with the PVH entry note (banner says "pvh")
 *   GUEST_SETYEAR=1  sets the RTC forward one year (once: NVRAM byte 0x40
 *                    = 0x5a marks "already set" and is honoured on reboot)
 *   GUEST_BENCH=1    instead of the checks, waits 3 s, times port accesses
 *                    with the TSC (the "bench" lines) and then idles
 *   GUEST_POLL=1     between report lines, reads NVRAM 0x41 without a
 *                    pause, so that an access is always in flight; the
 *                    report lines count the reads (polls=) and those that
 *                    did not give the scratch byte's value (odd=)
 *   GUEST_PHASE=1    HVM: places shared_info like PVH and, after each
 *                    report line, times the next edge of the RTC's seconds
 *                    register against the PV clock (the "phase" line)
 *   GUEST_VARIANT    the variant name printed in the banner
 *
 * Sequence: banner, CMOS dump, register reset values, TSC rate, NVRAM
 * write/read, [set year], update/alarm/periodic flags in register C, then a
 * report line about once a second, forever (on HVM each also as "uart n=N"
 * on COM1).  Every wait is bounded by the
 * TSC, so a guest without a CMOS (PVH) still runs to the report loop.
 * The bench variant: banner, register values, TSC rate, "bench wait", 3 s,
 * "bench start", the bench lines, "bench done", then it spins.
 */
#include <stdbool.h>
#include <stdint.h>

#ifndef GUEST_PVH
#define GUEST_PVH 0
#endif
#ifndef GUEST_SETYEAR
#define GUEST_SETYEAR 0
#endif
#ifndef GUEST_BENCH
#define GUEST_BENCH 0
#endif
#ifndef GUEST_POLL
#define GUEST_POLL 0
#endif
#ifndef GUEST_PHASE
#define GUEST_PHASE 0
#endif
#ifndef GUEST_VARIANT
#define GUEST_VARIANT "unnamed"
#endif

void guest_main(uint32_t start_info);

enum {
	PORT_INDEX = 0x70,
	PORT_DATA = 0x71,
	PORT_DEBUG = 0xe9,

	R_SEC = 0x00, R_SEC_ALARM = 0x01, R_MIN = 0x02, R_MIN_ALARM = 0x03,
	R_HOUR = 0x04, R_HOUR_ALARM = 0x05, R_MDAY = 0x07, R_MON = 0x08,
	R_YEAR = 0x09, R_A = 0x0a, R_B = 0x0b, R_C = 0x0c, R_D = 0x0d,

	A_UIP = 0x80, A_DV_32K = 0x20,
	B_SET = 0x80, B_BINARY = 0x04, B_24H = 0x02,
	C_PF = 0x40, C_AF = 0x20, C_UF = 0x10,
	ALARM_DONT_CARE = 0xc0,

	NV_MARKER = 0x40,     /* 0x5a: the year has already been set */
	NV_MARKER_SET = 0x5a,
	NV_SCRATCH = 0x41,
};

/* ---- hardware access -------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static uint8_t cmos_rd(uint8_t idx)
{
	outb(PORT_INDEX, idx);
	return inb(PORT_DATA);
}

static void cmos_wr(uint8_t idx, uint8_t v)
{
	outb(PORT_INDEX, idx);
	outb(PORT_DATA, v);
}

/* ---- output to port 0xe9 ------------------------------------------------ */

static void put_c(char c)
{
	outb(PORT_DEBUG, (uint8_t)c);
}

static void put_s(const char *s)
{
	while (*s)
		put_c(*s++);
}

static void put_hex8(uint8_t v)
{
	static const char digits[] = "0123456789abcdef";
	put_c(digits[v >> 4]);
	put_c(digits[v & 15]);
}

static void put_hex32(uint32_t v)
{
	for (int shift = 24; shift >= 0; shift -= 8)
		put_hex8((uint8_t)(v >> shift));
}

static void put_dec(uint32_t v)
{
	char tmp[11];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_c(tmp[--n]);
}

static void put_dec2(uint32_t v)
{
	put_c((char)('0' + (v / 10) % 10));
	put_c((char)('0' + v % 10));
}

static void put_kv_hex(const char *key, uint8_t v)
{
	put_c(' ');
	put_s(key);
	put_c('=');
	put_hex8(v);
}

static void put_kv_dec(const char *key, uint32_t v)
{
	put_c(' ');
	put_s(key);
	put_c('=');
	put_dec(v);
}

static void line_start(const char *what)
{
	put_s("RTCG ");
	put_s(what);
}

static void line_end(void)
{
	put_c('\n');
}

/* ---- time --------------------------------------------------------------- */

struct guest {
	uint32_t tsc_hz;  /* TSC ticks per second (estimate) */
	bool cmos;        /* a CMOS answers on 0x70/0x71 */
	uint32_t polls, odd; /* GUEST_POLL: NVRAM reads, and reads not 0x3c */
};

static void delay_ticks(uint32_t ticks)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < ticks)
		__asm__ volatile("pause");
}

/* Divisions stay 32-bit: no libgcc in a freestanding image. */
static void delay_ms(const struct guest *g, uint32_t ms)
{
	uint32_t per_ms = g->tsc_hz / 1000;
	while (ms--)
		delay_ticks(per_ms);
}

struct rtc_time {
	uint8_t raw[10];  /* CMOS bytes 0..9 as read */
	bool valid;       /* every field decoded in range */
	uint32_t sec, min, hour, mday, mon, year; /* year: 2000 + byte */
};

static bool bcd_ok(uint8_t v)
{
	return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

static uint32_t from_bcd(uint8_t v)
{
	return (uint32_t)(v >> 4) * 10 + (v & 0x0f);
}

static uint8_t to_bcd(uint32_t v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static bool field(uint8_t raw, bool binary, uint32_t lo, uint32_t hi, uint32_t *out)
{
	if (!binary && !bcd_ok(raw))
		return false;
	*out = binary ? raw : from_bcd(raw);
	return *out >= lo && *out <= hi;
}

static void decode_time(struct rtc_time *t, uint8_t regb)
{
	bool bin = regb & B_BINARY;
	uint8_t h = t->raw[R_HOUR];
	uint32_t year = 0;
	bool ok = true;

	if (regb & B_24H) {
		ok &= field(h, bin, 0, 23, &t->hour);
	} else {
		ok &= field(h & 0x7f, bin, 1, 12, &t->hour);
		t->hour = (t->hour % 12) + ((h & 0x80) ? 12 : 0);
	}
	ok &= field(t->raw[R_SEC], bin, 0, 59, &t->sec);
	ok &= field(t->raw[R_MIN], bin, 0, 59, &t->min);
	ok &= field(t->raw[R_MDAY], bin, 1, 31, &t->mday);
	ok &= field(t->raw[R_MON], bin, 1, 12, &t->mon);
	ok &= field(t->raw[R_YEAR], bin, 0, 99, &year);
	t->year = 2000 + year;
	t->valid = ok;
}

/* Wait (bounded) until no update is in progress. */
static void wait_no_uip(const struct guest *g)
{
	uint64_t t0 = rdtsc();
	while ((cmos_rd(R_A) & A_UIP) && rdtsc() - t0 < g->tsc_hz / 50)
		;
}

/* A consistent snapshot: two identical reads outside an update cycle. */
static void read_time(const struct guest *g, struct rtc_time *t)
{
	uint8_t again[10];
	for (int tries = 0; tries < 5; tries++) {
		wait_no_uip(g);
		for (uint8_t i = 0; i < 10; i++)
			t->raw[i] = cmos_rd(i);
		bool same = true;
		for (uint8_t i = 0; i < 10; i++) {
			again[i] = cmos_rd(i);
			same &= again[i] == t->raw[i];
		}
		if (same)
			break;
	}
	decode_time(t, cmos_rd(R_B));
}

/* Same, but while SET is on (frozen registers, no update cycle). */
static void read_time_frozen(struct rtc_time *t, uint8_t regb)
{
	for (uint8_t i = 0; i < 10; i++)
		t->raw[i] = cmos_rd(i);
	decode_time(t, regb);
}

static void put_time(const char *key, const struct rtc_time *t)
{
	put_c(' ');
	put_s(key);
	put_c('=');
	if (!t->valid) {
		put_s("invalid");
		return;
	}
	put_dec(t->year);
	put_c('-');
	put_dec2(t->mon);
	put_c('-');
	put_dec2(t->mday);
	put_c('T');
	put_dec2(t->hour);
	put_c(':');
	put_dec2(t->min);
	put_c(':');
	put_dec2(t->sec);
}

/* Wait (bounded by max_ms) for the seconds register to change. */
static bool wait_second_edge(const struct guest *g, uint32_t max_ms)
{
	uint8_t s0 = cmos_rd(R_SEC);
	uint32_t step = g->tsc_hz / 128;
	for (uint32_t waited = 0; waited < max_ms; waited += 8) {
		delay_ticks(step);
		if (cmos_rd(R_SEC) != s0)
			return true;
	}
	return false;
}

/* GUEST_POLL: NVRAM 0x41 read back to back until the RTC's second changes
 * (bounded by the TSC, about 1.5 s), the second looked at every 32 reads. */
static void poll_second(struct guest *g)
{
	uint8_t s0 = cmos_rd(R_SEC);
	uint64_t t0 = rdtsc(), limit = (uint64_t)g->tsc_hz * 3 / 2;

	while (rdtsc() - t0 < limit) {
		for (int i = 0; i < 32; i++) {
			g->polls++;
			if (cmos_rd(NV_SCRATCH) != 0x3c)
				g->odd++;
		}
		if (cmos_rd(R_SEC) != s0)
			return;
	}
}

#if GUEST_BENCH || GUEST_PHASE
/* N / D by shift and subtract (no libgcc for 64-bit division); the
 * remainder in *REM when REM is not null. */
static uint64_t div_u64(uint64_t n, uint32_t d, uint32_t *rem)
{
	uint64_t q = 0, r = 0;
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= (uint64_t)1 << i;
		}
	}
	if (rem)
		*rem = (uint32_t)r;
	return q;
}
#endif

/* ---- steps -------------------------------------------------------------- */

static void dump_cmos(void)
{
	for (uint32_t row = 0; row < 128; row += 16) {
		line_start("cmos ");
		put_hex8((uint8_t)row);
		put_c(':');
		for (uint32_t i = 0; i < 16; i++) {
			put_c(' ');
			put_hex8(cmos_rd((uint8_t)(row + i)));
		}
		line_end();
	}
}

/* TSC rate: Xen's time CPUID leaf (base + 3, subleaf 0, ECX = kHz), else
 * measured over one RTC second, else a 2 GHz guess. */
static void find_tsc_rate(struct guest *g)
{
	uint32_t r[4];
	const char *src = "guess";
	bool found = false;
	g->tsc_hz = 2000000000u;
	for (uint32_t base = 0x40000000u; base < 0x40010000u; base += 0x100) {
		cpuid(base, 0, r);
		if (r[1] == 0x566e6558u && r[2] == 0x65584d4du && r[3] == 0x4d4d566eu &&
		    r[0] >= base + 3) {
			cpuid(base + 3, 0, r);
			if (r[2] >= 1000 && r[2] < 4294967u) {
				g->tsc_hz = r[2] * 1000u;
				src = "cpuid";
				found = true;
			}
			break;
		}
	}
	if (!found && g->cmos) {
		uint64_t t0, t1;
		if (wait_second_edge(g, 3000)) {
			t0 = rdtsc();
			if (wait_second_edge(g, 3000)) {
				t1 = rdtsc();
				if (t1 - t0 < 0xffffffffu) {
					g->tsc_hz = (uint32_t)(t1 - t0);
					src = "rtc";
				}
			}
		}
	}
	line_start("tsc");
	put_kv_dec("khz", g->tsc_hz / 1000);
	put_c(' ');
	put_s("src=");
	put_s(src);
	line_end();
}

static void nvram_check(void)
{
	static const uint8_t pattern[2] = { 0xa5, 0x3c };
	line_start("nvram");
	put_kv_hex("index", NV_SCRATCH);
	for (int i = 0; i < 2; i++) {
		cmos_wr(NV_SCRATCH, pattern[i]);
		put_kv_hex("wrote", pattern[i]);
		put_kv_hex("read", cmos_rd(NV_SCRATCH));
	}
	line_end();
}

/*
 * Move the clock one year forward: BCD mode, SET on, write the year, SET
 * off (the write commits); then re-read in binary mode and write the same
 * year back in binary (a binary-mode write that must not move the clock).
 */
static void set_year(const struct guest *g)
{
	struct rtc_time before, after, check;
	uint8_t b = B_24H;

	if (cmos_rd(NV_MARKER) == NV_MARKER_SET) {
		line_start("set skipped");
		put_kv_hex("marker", NV_MARKER_SET);
		line_end();
		return;
	}

	cmos_wr(R_B, b);                 /* BCD, 24 h */
	cmos_wr(R_B, b | B_SET);
	read_time_frozen(&before, b);
	after = before;
	after.raw[R_YEAR] = to_bcd((from_bcd(before.raw[R_YEAR]) + 1) % 100);
	decode_time(&after, b);
	cmos_wr(R_YEAR, after.raw[R_YEAR]);
	cmos_wr(R_B, b);                 /* commit */
	read_time(g, &check);
	line_start("set mode=bcd");
	put_time("from", &before);
	put_time("to", &after);
	put_time("read", &check);
	put_kv_hex("year", check.raw[R_YEAR]);
	put_s(check.valid && check.year == after.year ? " ok" : " FAIL");
	line_end();

	/* Binary mode: SET must be switched on after DM so the frozen bytes
	 * are encoded in binary. */
	b = B_24H | B_BINARY;
	cmos_wr(R_B, b);
	read_time(g, &check);
	cmos_wr(R_B, b | B_SET);
	read_time_frozen(&before, b);
	cmos_wr(R_YEAR, before.raw[R_YEAR]);
	cmos_wr(R_B, b);
	read_time(g, &after);
	line_start("set mode=binary");
	put_time("read", &check);
	put_kv_hex("year", check.raw[R_YEAR]);
	put_time("after", &after);
	put_s(check.valid && after.valid && check.year == after.year &&
	      check.raw[R_YEAR] == (uint8_t)(check.year - 2000) ? " ok" : " FAIL");
	line_end();

	cmos_wr(R_B, B_24H);             /* back to BCD */
	cmos_wr(NV_MARKER, NV_MARKER_SET);
}

/* Update-ended flag: set once per second whether or not UIE is on. */
static void check_uf(const struct guest *g)
{
	(void)cmos_rd(R_C);
	bool edge = wait_second_edge(g, 2000);
	delay_ms(g, 100);
	uint8_t c = cmos_rd(R_C);
	line_start("uf");
	put_kv_dec("edge", edge);
	put_kv_hex("c", c);
	put_kv_dec("uf", !!(c & C_UF));
	line_end();
}

/* Alarm two seconds ahead (minutes/hours don't care), poll C for AF. */
static void check_alarm(const struct guest *g)
{
	struct rtc_time now, at;
	uint8_t b = cmos_rd(R_B);
	uint8_t c = 0;
	bool fired = false;

	read_time(g, &now);
	uint32_t target = (now.sec + 2) % 60;
	cmos_wr(R_SEC_ALARM, (b & B_BINARY) ? (uint8_t)target : to_bcd(target));
	cmos_wr(R_MIN_ALARM, ALARM_DONT_CARE);
	cmos_wr(R_HOUR_ALARM, ALARM_DONT_CARE);
	(void)cmos_rd(R_C);
	for (uint32_t ms = 0; ms < 5000 && !fired; ms += 8) {
		delay_ms(g, 8);
		c = cmos_rd(R_C);
		fired = c & C_AF;
	}
	read_time(g, &at);
	/* Alarm bytes back to their reset value 0. */
	cmos_wr(R_SEC_ALARM, 0);
	cmos_wr(R_MIN_ALARM, 0);
	cmos_wr(R_HOUR_ALARM, 0);
	line_start("alarm");
	put_kv_dec("from", now.sec);
	put_kv_dec("want", target);
	put_kv_dec("af", fired);
	put_kv_dec("at", at.sec);
	put_kv_hex("c", c);
	line_end();
}

/* Periodic flag with PIE off: rate 15 (500 ms) sets PF within 600 ms;
 * rate 0 never does. */
static void check_periodic(const struct guest *g)
{
	cmos_wr(R_A, A_DV_32K | 0x0f);
	(void)cmos_rd(R_C);
	delay_ms(g, 600);
	uint8_t c15 = cmos_rd(R_C);

	cmos_wr(R_A, A_DV_32K);
	(void)cmos_rd(R_C);
	delay_ms(g, 600);
	uint8_t c0 = cmos_rd(R_C);

	cmos_wr(R_A, A_DV_32K | 0x06);   /* reset value 0x26 */
	line_start("periodic");
	put_kv_dec("pf15", !!(c15 & C_PF));
	put_kv_dec("pf0", !!(c0 & C_PF));
	put_kv_hex("c15", c15);
	put_kv_hex("c0", c0);
	put_kv_hex("a", cmos_rd(R_A));
	line_end();
}

#if GUEST_PVH || GUEST_PHASE
/*
 * PV wallclock (PVH, and the HVM phase variant): place the domain's
 * shared_info page at guest frame SHINFO_GPFN with XENMEM_add_to_physmap
 * (XENMAPSPACE_shared_info), so the guest reads the wallclock Xen keeps for
 * it and dom0 tools find the page (getdomaininfo's shared_info_frame).  The
 * hypercall is one VMMCALL/VMCALL with the 32-bit register convention,
 * without a hypercall page: setting one up from 32-bit code would make Xen
 * switch the page to its 32-bit layout (hvm_latch_shinfo_size), as would
 * HVM_PARAM_CALLBACK_IRQ, which this guest never sets.  Xen therefore keeps
 * the native x86_64 layout: vcpu_info[0].time at 0x20 (struct
 * vcpu_time_info), wc_version at 0xc00, wc_sec 0xc04, wc_nsec 0xc08,
 * wc_sec_hi 0xc0c.
 */
enum {
	HYPERCALL_MEMORY_OP = 12, XENMEM_ADD_TO_PHYSMAP = 7,
	XENMAPSPACE_SHARED_INFO = 0, DOMID_SELF = 0x7ff0,
	SHINFO_GPFN = 0x800, /* 8 MiB: inside the 32 MiB guest, above the image */
	SHINFO_WC_VERSION = 0xc00, SHINFO_WC_SEC = 0xc04, SHINFO_WC_NSEC = 0xc08,
	/* vcpu_info[0].time: version, pad, tsc_timestamp, system_time,
	 * tsc_to_system_mul, tsc_shift */
	SHINFO_T_VERSION = 0x20, SHINFO_T_TSC = 0x28, SHINFO_T_SYSTEM = 0x30,
	SHINFO_T_MUL = 0x38, SHINFO_T_SHIFT = 0x3c,
};

/* The hypercall's result (0, or -errno). */
static int32_t shinfo_place(void)
{
	/* struct xen_add_to_physmap in the 32-bit ABI: 16 bytes. */
	volatile struct {
		uint16_t domid, size;
		uint32_t space, idx, gpfn;
	} xatp;
	uint32_t r[4];

	xatp.domid = DOMID_SELF;
	xatp.size = 0;
	xatp.space = XENMAPSPACE_SHARED_INFO;
	xatp.idx = 0;
	xatp.gpfn = SHINFO_GPFN;
	uint32_t a = HYPERCALL_MEMORY_OP, b = XENMEM_ADD_TO_PHYSMAP;
	uint32_t c = (uint32_t)(uintptr_t)&xatp;

	cpuid(0, 0, r);
	/* Xen may clobber the argument registers. */
	if (r[1] == 0x68747541u) /* "Auth"enticAMD: SVM */
		__asm__ volatile("vmmcall" : "+a"(a), "+b"(b), "+c"(c)
				 : : "edx", "esi", "edi", "memory");
	else
		__asm__ volatile("vmcall" : "+a"(a), "+b"(b), "+c"(c)
				 : : "edx", "esi", "edi", "memory");
	return (int32_t)a;
}

static void put_int(int32_t v)
{
	if (v < 0) {
		put_c('-');
		put_dec((uint32_t)-v);
	} else {
		put_dec((uint32_t)v);
	}
}

static void shinfo_map(void)
{
	int32_t rc = shinfo_place();

	line_start("shinfo");
	put_s(" gpfn=0x");
	put_hex32(SHINFO_GPFN);
	put_s(" rc=");
	put_int(rc);
	line_end();
}
#endif

#if GUEST_PVH
/* "wallclock n=N wcv=V wc=SEC" (seqlock read; the "shinfo" line says
 * whether the page is there: without it this is whatever RAM holds at that
 * frame).  A line of its own: the report line keeps its format. */
static void report_wallclock(uint32_t n)
{
	volatile uint32_t *v = (volatile uint32_t *)(uintptr_t)(SHINFO_GPFN * 4096u +
								SHINFO_WC_VERSION);
	volatile uint32_t *sec = (volatile uint32_t *)(uintptr_t)(SHINFO_GPFN * 4096u +
								  SHINFO_WC_SEC);
	uint32_t v1, v2, s;

	line_start("wallclock");
	put_kv_dec("n", n);
	for (int tries = 0; tries < 100; tries++) {
		v1 = *v;
		__asm__ volatile("" ::: "memory");
		s = *sec;
		__asm__ volatile("" ::: "memory");
		v2 = *v;
		if (!(v1 & 1) && v1 == v2) {
			put_kv_dec("wcv", v1);
			put_kv_dec("wc", s);
			line_end();
			return;
		}
	}
	put_s(" wc=unsettled");
	line_end();
}
#endif

#if GUEST_PHASE
/*
 * The phase of the RTC's second edges against the PV clock.
 *
 * Reference: the wall time Xen gives this domain in its shared_info, as a
 * PV guest reads it: wc_sec + wc_nsec (the host's wallclock base plus the
 * domain's whole-second offset, update_domain_wallclock_time) plus
 * vcpu_info[0].time's system_time plus the TSC ticks since its
 * tsc_timestamp, scaled by tsc_to_system_mul and tsc_shift.  Both records
 * are read under their version counters.
 */
struct pvclock {
	uint32_t wc_sec, wc_nsec, mul;
	uint64_t tsc, system;
	int8_t shift;
};

static bool pvclock_read(struct pvclock *p)
{
	const volatile uint8_t *si = (const volatile uint8_t *)(uintptr_t)(SHINFO_GPFN * 4096u);
#define SI32(off) (*(const volatile uint32_t *)(si + (off)))
	for (int tries = 0; tries < 100; tries++) {
		uint32_t tv = SI32(SHINFO_T_VERSION), wv = SI32(SHINFO_WC_VERSION);
		__asm__ volatile("" ::: "memory");
		p->tsc = (uint64_t)SI32(SHINFO_T_TSC + 4) << 32 | SI32(SHINFO_T_TSC);
		p->system = (uint64_t)SI32(SHINFO_T_SYSTEM + 4) << 32 | SI32(SHINFO_T_SYSTEM);
		p->mul = SI32(SHINFO_T_MUL);
		p->shift = (int8_t)si[SHINFO_T_SHIFT];
		p->wc_sec = SI32(SHINFO_WC_SEC);
		p->wc_nsec = SI32(SHINFO_WC_NSEC);
		__asm__ volatile("" ::: "memory");
		if (tv == SI32(SHINFO_T_VERSION) && wv == SI32(SHINFO_WC_VERSION) &&
		    !(tv & 1) && !(wv & 1))
			return tv != 0 && p->mul != 0 && p->wc_nsec < 1000000000u;
	}
#undef SI32
	return false;
}

/* The PV wall time at TSC value T: *SEC (32 bits: until 2106) and *NSEC. */
static void pvclock_wall(const struct pvclock *p, uint64_t t, uint32_t *sec, uint32_t *nsec)
{
	bool back = t < p->tsc;
	uint64_t d = back ? p->tsc - t : t - p->tsc;

	if (p->shift < 0)
		d >>= -p->shift;
	else
		d <<= p->shift;
	/* (d * mul) >> 32 from two 32 x 32 -> 64 bit products */
	uint64_t ns = (uint64_t)(uint32_t)(d >> 32) * p->mul +
		      (((uint64_t)(uint32_t)d * p->mul) >> 32);
	uint64_t since_base = (back ? p->system - ns : p->system + ns) + p->wc_nsec;
	*sec = p->wc_sec + (uint32_t)div_u64(since_base, 1000000000u, nsec);
}

static void put_dec9(uint32_t v)
{
	for (uint32_t div = 100000000u; div; div /= 10)
		put_c((char)('0' + (v / div) % 10));
}

/*
 * "phase n=N rtc=S wall=SEC.NSEC us=U win=W ms=M shinfo=RC": the next edge
 * of register 0.  The shared_info page is placed again first (RC): after a
 * migration the frame holds a copy in plain RAM until the guest asks again.
 * A coarse wait finds the edge within about 8 ms; about 40 ms before the
 * next one the guest reads port 0x71 (index 0 stays selected) back to back,
 * each read between two RDTSCs, for at most 2.25 s after the coarse edge (a
 * vCPU preempted past the edge catches the one after).  The edge lies between the start of the
 * last read that gave the old second and the end of the first that gave the
 * new one: wall = the PV wall time at that end, U its microseconds after
 * the whole second (M the same in ms), W the window's length in µs, so the
 * edge is at U-W..U µs; S the new second as read (BCD or binary per B).
 * "phase n=N none" when no pvclock, edge or change shows.
 */
static void phase_edge(const struct guest *g, uint32_t n)
{
	struct pvclock p;
	uint64_t coarse, lo, t0, t1 = 0;
	uint32_t sec_lo, ns_lo, sec, ns;
	uint8_t s0, s = 0;
	int32_t rc = shinfo_place();
	bool edge = false;

	line_start("phase");
	put_kv_dec("n", n);
	if (wait_second_edge(g, 1500)) {
		coarse = rdtsc();
		delay_ticks(g->tsc_hz - g->tsc_hz / 25);
		outb(PORT_INDEX, R_SEC);
		lo = rdtsc();
		s0 = inb(PORT_DATA);
		while (rdtsc() - coarse < (uint64_t)g->tsc_hz * 9 / 4) {
			t0 = rdtsc();
			s = inb(PORT_DATA);
			t1 = rdtsc();
			if (s != s0) {
				edge = true;
				break;
			}
			lo = t0;
		}
	}
	if (!edge || !pvclock_read(&p)) {
		put_s(" none");
		put_s(" shinfo=");
		put_int(rc);
		line_end();
		return;
	}
	pvclock_wall(&p, lo, &sec_lo, &ns_lo);
	pvclock_wall(&p, t1, &sec, &ns);
	uint32_t win_us = (sec - sec_lo) * 1000000u + ns / 1000 - ns_lo / 1000;
	put_kv_dec("rtc", (cmos_rd(R_B) & B_BINARY) ? s : from_bcd(s));
	put_s(" wall=");
	put_dec(sec);
	put_c('.');
	put_dec9(ns);
	put_kv_dec("us", ns / 1000);
	put_kv_dec("win", win_us);
	put_kv_dec("ms", ns / 1000000);
	put_s(" shinfo=");
	put_int(rc);
	line_end();
}
#endif

#if GUEST_BENCH
/*
 * Port-access timing.  Each sample is one access (the two port instructions
 * of a CMOS read or write) timed on its own with RDTSC, so a preemption in
 * dom0 spoils one sample, not the figure: the line gives the minimum, the
 * median, the 90th percentile and the maximum in TSC cycles, and the mean
 * over the whole loop (timing included).  Kinds:
 *   nvram-read   outb 0x70 idx; inb 0x71 with idx >= 14: Xen forwards both
 *                to the ioreq server that claims the ports (the device model)
 *   nvram-write  outb 0x70 idx; outb 0x71 v: the same, writing
 *   rtc-read     outb 0x70 0x0d; inb 0x71: register D, answered by Xen's own
 *                vRTC without leaving the hypervisor (the floor of a port
 *                access in this domain)
 * Every read must return the value last written (bad= counts those that do
 * not), so an unanswered port (0xff) cannot pass for a fast one.
 */
enum { BENCH_SAMPLES = 1000, BENCH_WARMUP = 50, BENCH_INDEX = NV_SCRATCH };

static uint32_t bench_sample[BENCH_SAMPLES];

static void sort_u32(uint32_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint32_t x = v[i], j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* One access of KIND; returns whether a read gave what it had to. */
static bool bench_access(int kind, uint8_t v)
{
	switch (kind) {
	case 0:
		outb(PORT_INDEX, BENCH_INDEX);
		return inb(PORT_DATA) == v;
	case 1:
		outb(PORT_INDEX, BENCH_INDEX);
		outb(PORT_DATA, v);
		return true;
	default:
		outb(PORT_INDEX, R_D);
		return inb(PORT_DATA) == v;
	}
}

static void bench_kind(int kind, const char *name)
{
	uint32_t bad = 0;
	uint8_t want = 0x80;      /* register D: VRT */
	uint64_t t0, t1, start;

	if (kind != 2) {
		want = 0x5b;
		cmos_wr(BENCH_INDEX, want);
	}
	for (uint32_t i = 0; i < BENCH_WARMUP; i++)
		(void)bench_access(kind, want);
	start = rdtsc();
	for (uint32_t i = 0; i < BENCH_SAMPLES; i++) {
		t0 = rdtsc();
		bool ok = bench_access(kind, want);
		t1 = rdtsc();
		bad += !ok;
		uint64_t d = t1 - t0;
		bench_sample[i] = d > 0xffffffffu ? 0xffffffffu : (uint32_t)d;
	}
	uint64_t total = rdtsc() - start;
	/* the writes: the last value written must read back */
	if (kind == 1 && cmos_rd(BENCH_INDEX) != want)
		bad++;
	sort_u32(bench_sample, BENCH_SAMPLES);
	line_start("bench kind=");
	put_s(name);
	put_kv_hex("index", kind == 2 ? R_D : BENCH_INDEX);
	put_kv_dec("n", BENCH_SAMPLES);
	put_kv_dec("min", bench_sample[0]);
	put_kv_dec("med", bench_sample[BENCH_SAMPLES / 2]);
	put_kv_dec("p90", bench_sample[BENCH_SAMPLES * 9 / 10]);
	put_kv_dec("max", bench_sample[BENCH_SAMPLES - 1]);
	put_kv_dec("mean", (uint32_t)div_u64(total, BENCH_SAMPLES, 0));
	put_kv_dec("bad", bad);
	line_end();
}

/* The loops wait BENCH_QUIET_MS after the guest starts: xl create returns
 * some time after it unpaused the guest (xl's own tail, its daemon), and
 * loops running meanwhile would compete with that tail for dom0's CPU, so
 * that neither the create time nor the round trips would be measured
 * alone.  The bench script checks that "bench start" came after xl create
 * returned. */
enum { BENCH_QUIET_MS = 3000 };

static void bench(const struct guest *g)
{
	line_start("bench wait");
	put_kv_dec("ms", BENCH_QUIET_MS);
	line_end();
	delay_ms(g, BENCH_QUIET_MS);
	line_start("bench start");
	line_end();
	bench_kind(0, "nvram-read");
	bench_kind(1, "nvram-write");
	bench_kind(2, "rtc-read");
	line_start("bench done");
	put_kv_dec("khz", g->tsc_hz / 1000);
	line_end();
}
#endif

#if !GUEST_PVH
/* COM1 (0x3f8): on HVM QEMU's 16550, with xl.cfg serial="file:..." a file
 * in dom0; a device only QEMU emulates, so a scenario can see QEMU's
 * devices work next to rtcdm.  "uart n=N" per report line, written to the
 * transmit register without waiting (QEMU sends each byte at once). */
static void uart_line(uint32_t n)
{
	char tmp[11];
	int k = 0;
	const char *p = "uart n=";

	while (*p)
		outb(0x3f8, (uint8_t)*p++);
	do {
		tmp[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (k)
		outb(0x3f8, (uint8_t)tmp[--k]);
	outb(0x3f8, '\r');
	outb(0x3f8, '\n');
}
#endif

static void report(const struct guest *g, uint32_t n)
{
	struct rtc_time t;
	read_time(g, &t);
	line_start("n=");
	put_dec(n);
	put_time("time", &t);
	put_kv_hex("a", cmos_rd(R_A) & (uint8_t)~A_UIP);
	put_kv_hex("b", cmos_rd(R_B));
	put_kv_hex("c", cmos_rd(R_C));
	put_kv_hex("d", cmos_rd(R_D));
	put_kv_hex("nv40", cmos_rd(NV_MARKER));
	put_kv_hex("nv41", cmos_rd(NV_SCRATCH));
	if (GUEST_POLL) {
		put_kv_dec("polls", g->polls);
		put_kv_dec("odd", g->odd);
	}
	line_end();
#if GUEST_PVH
	report_wallclock(n);
#else
	uart_line(n);
#endif
}

void guest_main(uint32_t start_info)
{
	struct guest g = { .tsc_hz = 2000000000u, .cmos = false };

	line_start("boot");
	put_s(" variant=" GUEST_VARIANT);
	put_s(GUEST_PVH ? " entry=pvh" : " entry=hvm-firmware");
	put_s(" start_info=0x");
	put_hex32(start_info);
	line_end();
#if GUEST_PVH || GUEST_PHASE
	shinfo_map();
#endif

	if (!GUEST_BENCH)
		dump_cmos();
	uint8_t a = cmos_rd(R_A), b = cmos_rd(R_B), d = cmos_rd(R_D);
	g.cmos = !(a == 0xff && b == 0xff && d == 0xff);
	line_start("regs");
	put_kv_hex("a", a & (uint8_t)~A_UIP);
	put_kv_hex("b", b);
	put_kv_hex("d", d);
	put_kv_dec("cmos", g.cmos);
	line_end();

	find_tsc_rate(&g);
#if GUEST_BENCH
	bench(&g);
	for (;;)
		__asm__ volatile("pause");
#endif
	nvram_check();
	if (g.cmos) {
		if (GUEST_SETYEAR)
			set_year(&g);
		check_uf(&g);
		check_alarm(&g);
		check_periodic(&g);
	}
	line_start("ready");
	line_end();

	for (uint32_t n = 1;; n++) {
		report(&g, n);
#if GUEST_PHASE
		if (g.cmos) {
			phase_edge(&g, n);
			continue;
		}
#endif
		if (GUEST_POLL && g.cmos)
			poll_second(&g);
		else if (g.cmos)
			(void)wait_second_edge(&g, 1500);
		else
			delay_ms(&g, 1000);
	}
}
