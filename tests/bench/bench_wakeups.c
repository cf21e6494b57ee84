/*
 * bench_wakeups — how often rtcdm wakes up, and how exact its periodic
 * interrupt is.
 *
 *   bench_wakeups idle RTCDM SECONDS
 *       Start "RTCDM --platform sim" (real clock, no qtest peer, no
 *       interrupt enabled) and count its context switches (voluntary +
 *       involuntary, /proc/PID/status) over SECONDS of real time.
 *
 *   bench_wakeups realtime RATE SECONDS [discard|slew]
 *       In-process, on real time: the device model's own event loop, the
 *       simulated platform with its real clock (timerfd) and the RTC device,
 *       exactly as rtcdm runs them.  The periodic interrupt is programmed at
 *       RATE Hz (REG_A rate select, REG_B PIE) and a guest is emulated
 *       between loop iterations: whenever IRQ 8 is raised it acknowledges by
 *       reading REG_C, as an interrupt handler does.  Over SECONDS it
 *       counts this process's context switches, the loop's wakeups and the
 *       ticks seen (PF in REG_C), and compares the ticks with the number of
 *       tick boundaries that passed on the clock (the tick count error).
 *
 *       With "slew" the RTC keeps count of missed ticks and delivers them
 *       late; the ticks still owed at the end count as delivered.
 *
 *   bench_wakeups virtual RTCDM RATE SECONDS
 *       rtcdm under qtest, virtual time: the same guest behaviour over
 *       SECONDS of virtual time driven by "clock_step" (to the next
 *       deadline).  The tick count must be exactly RATE * SECONDS.
 *
 * Output: "KEY VALUE" lines for tests/bench/run.
 */
#include <inttypes.h>

#include "dm/cli.h"
#include "dm/device.h"
#include "base/log.h"
#include "base/loop.h"
#include "platform/platform.h"
#include "platform/sim/platform.h"
#include "tests/bench/bench_util.h"

#define PROG "bench_wakeups"
#define WALLCLOCK_S 1700000000LL /* whole second: guest phase 0 at clock 0 */

/* Rate select for RATE Hz (2..8192, a power of two): RATE = 65536 >> RS. */
static unsigned rate_select(unsigned long rate)
{
	for (unsigned rs = 3; rs <= 15; rs++)
		if ((65536ul >> rs) == rate)
			return rs;
	fprintf(stderr, PROG ": rate %lu Hz is not one the RTC offers (8192, 4096, ..., 2)\n",
	        rate);
	exit(2);
}

/* Ticks of RATE Hz in (0, t_ns]: tick k falls at k / RATE s of guest time. */
static uint64_t ticks_until(uint64_t t_ns, unsigned long rate)
{
	return (uint64_t)(((unsigned __int128)t_ns * rate) / 1000000000u);
}

static long self_switches(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

/* ---- idle rtcdm process ----------------------------------------------------------- */

static int run_idle(const char *rtcdm, unsigned long seconds)
{
	char *argv[] = {(char *)rtcdm, "--platform", "sim", NULL};
	char log[8192];
	size_t len = 0;
	int pipefd[2];
	uint64_t end;
	long before, after;
	struct rusage ru;
	pid_t pid;
	int st;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		return 1;
	}
	pid = bench_spawn(argv, pipefd[1]);
	close(pipefd[1]);
	if (pid < 0) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return 1;
	}
	/* Up when it has logged "running". */
	end = bench_now_ns() + (uint64_t)BENCH_TIMEOUT_MS * 1000000u;
	log[0] = '\0';
	while (!strstr(log, "running")) {
		struct pollfd pfd = {pipefd[0], POLLIN, 0};
		ssize_t r;

		if (bench_now_ns() > end || poll(&pfd, 1, 100) < 0 || len == sizeof(log) - 1)
			break;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		r = read(pipefd[0], log + len, sizeof(log) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		log[len] = '\0';
	}
	if (!strstr(log, "running")) {
		fprintf(stderr, PROG ": %s did not start:\n%s", rtcdm, log);
		bench_reap(pid, 0, &ru);
		return 1;
	}
	bench_sleep_ms(200); /* let it settle in epoll_wait after logging */
	before = bench_ctxt_switches(pid);
	bench_sleep_ms((unsigned)(seconds * 1000));
	after = bench_ctxt_switches(pid);
	kill(pid, SIGTERM);
	st = bench_reap(pid, 5000, &ru);
	close(pipefd[0]);
	if (before < 0 || after < 0 || st != 0) {
		fprintf(stderr, PROG ": could not observe the idle rtcdm (status %d)\n", st);
		return 1;
	}
	printf("idle.seconds %lu\nidle.switches %ld\nidle.wakeups_per_s %.2f\n", seconds,
	       after - before, (double)(after - before) / (double)seconds);
	return 0;
}

/* ---- periodic interrupt on real time, in-process ---------------------------------- */

struct rt {
	struct dm_platform *plat;
	struct dm_device dev;
	unsigned long rate;
};

static uint64_t rt_clock(struct rt *r)
{
	return dm_platform_clock_ns(r->plat);
}

/*
 * The guest's interrupt handler: read REG_C.  Returns the flags, and in
 * *tick the index of the last tick boundary the read covered, or -1 when
 * the read straddled a boundary (then the caller tries again later).
 */
static uint8_t guest_ack(struct rt *r, int64_t *tick)
{
	uint64_t t0 = rt_clock(r), t1;
	uint8_t c;

	dm_device_pio_write(&r->dev, RTC_PORT_INDEX, 1, RTC_REG_C);
	c = (uint8_t)dm_device_pio_read(&r->dev, RTC_PORT_DATA, 1);
	t1 = rt_clock(r);
	*tick = ticks_until(t0, r->rate) == ticks_until(t1, r->rate)
	                ? (int64_t)ticks_until(t1, r->rate)
	                : -1;
	return c;
}

/* Run the loop until IRQ 8 is raised (or ~1 s passes). */
static int wait_irq(struct rt *r)
{
	uint64_t end = bench_now_ns() + 1000000000u;

	while (dm_platform_sim_irq_level(r->plat) != 1) {
		if (bench_now_ns() > end || dm_loop_once(r->plat->loop, 1000) < 0)
			return -1;
	}
	return 0;
}

static int run_realtime(unsigned long rate, unsigned long seconds,
                        enum rtc_lost_tick_policy policy)
{
	const char *pname = policy == RTC_LOST_TICKS_SLEW ? "slew" : "discard";
	struct rtc_snapshot snap;
	struct dm_log log;
	struct plat_config cfg;
	struct dm_loop loop;
	struct rt r;
	char err[256];
	int64_t k0 = -1, k1 = -1;
	uint64_t ticks = 0, t_start, t_end, loop_w0;
	uint32_t owed0;
	long sw0, sw1;
	unsigned rs = rate_select(rate);
	int rc = 1;

	memset(&r, 0, sizeof(r));
	r.rate = rate;
	dm_log_init(&log, STDERR_FILENO);
	dm_log_set_verbosity(&log, -2); /* errors only */
	cfg = (struct plat_config){.kind = PLAT_SIM, .wallclock_given = true,
	                           .wallclock_ns = WALLCLOCK_S * 1000000000LL};
	if (dm_loop_init(&loop, &log) < 0) {
		fprintf(stderr, PROG ": cannot create the event loop\n");
		return 1;
	}
	if (dm_platform_sim_create(&cfg, &loop, &log, &r.plat, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out_loop;
	}
	if (dm_device_init(&r.dev, r.plat, &log, policy) < 0)
		goto out_plat;
	if (dm_device_start(&r.dev) < 0)
		goto out_dev;

	dm_device_pio_write(&r.dev, RTC_PORT_INDEX, 1, RTC_REG_A);
	dm_device_pio_write(&r.dev, RTC_PORT_DATA, 1, RTC_A_DV_32KHZ | rs);
	dm_device_pio_write(&r.dev, RTC_PORT_INDEX, 1, RTC_REG_B);
	dm_device_pio_write(&r.dev, RTC_PORT_DATA, 1, RTC_RESET_REG_B | RTC_B_PIE);

	/* Start right after a tick, acknowledged with an unambiguous read. */
	while (k0 < 0) {
		if (wait_irq(&r) < 0) {
			fprintf(stderr, PROG ": no periodic interrupt at %lu Hz\n", rate);
			goto out_dev;
		}
		guest_ack(&r, &k0);
	}
	/* Ticks already owed (slew) before the window are not part of it. */
	rtc_snapshot(r.dev.rtc, &snap);
	owed0 = snap.lost_ticks;
	t_start = rt_clock(&r);
	sw0 = self_switches();
	loop_w0 = loop.wakeups;

	while (rt_clock(&r) < t_start + (uint64_t)seconds * 1000000000u) {
		int64_t k;

		if (dm_loop_once(&loop, 100) < 0) {
			fprintf(stderr, PROG ": event loop failed\n");
			goto out_dev;
		}
		if (dm_platform_sim_irq_level(r.plat) == 1 && (guest_ack(&r, &k) & RTC_C_PF))
			ticks++;
	}
	t_end = rt_clock(&r);
	sw1 = self_switches();
	/* Close the window with an unambiguous read: ticks since the last ack. */
	while (k1 < 0) {
		if (guest_ack(&r, &k1) & RTC_C_PF)
			ticks++;
		if (k1 < 0)
			bench_sleep_ms(0);
	}
	/* Slew policy: ticks missed but still owed to the guest. */
	rtc_snapshot(r.dev.rtc, &snap);
	{
		double secs = (double)(t_end - t_start) / 1e9;
		int64_t expected = k1 - k0;

		printf("rt.%s.%lu.seconds %.3f\n", pname, rate, secs);
		printf("rt.%s.%lu.switches_per_s %.1f\n", pname, rate, (double)(sw1 - sw0) / secs);
		printf("rt.%s.%lu.loop_wakeups_per_s %.1f\n", pname, rate,
		       (double)(loop.wakeups - loop_w0) / secs);
		printf("rt.%s.%lu.ticks %" PRIu64 "\n", pname, rate, ticks);
		/* Owed now, minus what was owed before the window started. */
		int64_t owed = (int64_t)snap.lost_ticks - (int64_t)owed0;

		printf("rt.%s.%lu.owed %" PRId64 "\n", pname, rate, owed);
		printf("rt.%s.%lu.expected %" PRId64 "\n", pname, rate, expected);
		printf("rt.%s.%lu.error %" PRId64 "\n", pname, rate,
		       (int64_t)ticks + owed - expected);
	}
	rc = 0;
out_dev:
	dm_device_fini(&r.dev);
out_plat:
	r.plat->ops->destroy(r.plat);
out_loop:
	dm_loop_fini(&loop);
	return rc;
}

/* ---- periodic interrupt on virtual time, rtcdm under qtest -------------------------- */

struct vt {
	struct bench_qt qt;
	unsigned long irq_raises;
};

/* The next reply line (IRQ lines counted and skipped); NULL on failure. */
static const char *vt_reply(struct vt *v)
{
	while (bench_qt_readline(&v->qt)) {
		if (strcmp(v->qt.line, "IRQ raise 8") == 0)
			v->irq_raises++;
		else if (strncmp(v->qt.line, "IRQ ", 4) != 0)
			return v->qt.line;
	}
	return NULL;
}

static bool vt_cmd_ok(struct vt *v, const char *cmd)
{
	const char *r;

	if (bench_qt_send(&v->qt, cmd, strlen(cmd)) < 0 || !(r = vt_reply(v)) ||
	    strcmp(r, "OK") != 0) {
		fprintf(stderr, PROG ": '%.*s' was not answered OK\n", (int)strcspn(cmd, "\n"), cmd);
		return false;
	}
	return true;
}

static int run_virtual(const char *rtcdm, unsigned long rate, unsigned long seconds)
{
	static const char batch[] = "clock_step\noutb 0x70 0x0c\ninb 0x71\n";
	char qarg[160], wall[32], cmd[64];
	char *argv[] = {(char *)rtcdm, "--platform", "sim", "-qtest", qarg, "--sim-wallclock",
	                wall, NULL};
	struct timeval tv = {10, 0};
	const uint64_t window = (uint64_t)seconds * 1000000000u;
	uint64_t now = 0, ticks = 0, t0;
	unsigned rs = rate_select(rate);
	struct rusage ru;
	struct vt v;
	pid_t pid;
	int rc = 1;

	memset(&v, 0, sizeof(v));
	if (bench_qt_listen(&v.qt, PROG) < 0)
		return 1;
	snprintf(qarg, sizeof(qarg), "unix:%s", v.qt.sock_path);
	snprintf(wall, sizeof(wall), "%lld", WALLCLOCK_S);
	pid = bench_spawn(argv, -1);
	if (pid < 0 || bench_qt_accept(&v.qt, BENCH_TIMEOUT_MS) < 0) {
		fprintf(stderr, PROG ": %s did not connect\n", rtcdm);
		goto out;
	}
	setsockopt(v.qt.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(cmd, sizeof(cmd), "outb 0x71 0x%02x\n", RTC_A_DV_32KHZ | rs);
	if (!vt_cmd_ok(&v, "irq_intercept_in ioapic\n") || !vt_cmd_ok(&v, "outb 0x70 0x0a\n") ||
	    !vt_cmd_ok(&v, cmd) || !vt_cmd_ok(&v, "outb 0x70 0x0b\n"))
		goto out;
	snprintf(cmd, sizeof(cmd), "outb 0x71 0x%02x\n", RTC_RESET_REG_B | RTC_B_PIE);
	if (!vt_cmd_ok(&v, cmd))
		goto out;

	t0 = bench_now_ns();
	while (now < window) {
		const char *r1, *r2, *r3;
		unsigned long long ns, c;

		if (bench_qt_send(&v.qt, batch, sizeof(batch) - 1) < 0 || !(r1 = vt_reply(&v)) ||
		    sscanf(r1, "OK %llu", &ns) != 1) {
			fprintf(stderr, PROG ": clock_step failed at %" PRIu64 " ns\n", now);
			goto out;
		}
		if (!(r2 = vt_reply(&v)) || strcmp(r2, "OK") != 0 || !(r3 = vt_reply(&v)) ||
		    sscanf(r3, "OK %llx", &c) != 1) {
			fprintf(stderr, PROG ": reading REG_C failed at %llu ns\n", ns);
			goto out;
		}
		now = ns;
		if (now <= window && (c & RTC_C_PF))
			ticks++;
	}
	printf("vt.%lu.ticks %" PRIu64 "\n", rate, ticks);
	printf("vt.%lu.expected %" PRIu64 "\n", rate, ticks_until(window, rate));
	printf("vt.%lu.irq_raises %lu\n", rate, v.irq_raises);
	printf("vt.%lu.error %" PRId64 "\n", rate, (int64_t)ticks - (int64_t)ticks_until(window, rate));
	printf("vt.%lu.real_ms %.0f\n", rate, (double)(bench_now_ns() - t0) / 1e6);
	rc = 0;
out:
	bench_qt_close(&v.qt);
	if (pid > 0 && bench_reap(pid, 2000, &ru) != 0 && rc == 0) {
		fprintf(stderr, PROG ": rtcdm did not exit cleanly\n");
		rc = 1;
	}
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " idle RTCDM SECONDS\n"
	                "       " PROG " realtime RATE SECONDS [discard|slew]\n"
	                "       " PROG " virtual RTCDM RATE SECONDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "idle") == 0)
		return run_idle(argv[2], bench_count(PROG, "seconds", argv[3], 1, 3600));
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "realtime") == 0) {
		enum rtc_lost_tick_policy p = RTC_LOST_TICKS_DISCARD;

		if (argc == 5 && strcmp(argv[4], "slew") == 0)
			p = RTC_LOST_TICKS_SLEW;
		else if (argc == 5 && strcmp(argv[4], "discard") != 0)
			usage();
		return run_realtime(bench_count(PROG, "rate", argv[2], 2, 8192),
		                    bench_count(PROG, "seconds", argv[3], 1, 3600), p);
	}
	if (argc == 5 && strcmp(argv[1], "virtual") == 0)
		return run_virtual(argv[2], bench_count(PROG, "rate", argv[3], 2, 8192),
		                   bench_count(PROG, "seconds", argv[4], 1, 3600));
	usage();
	return 2;
}
