/*
 * rtcdm-demo — `make demo`: one domain's clock through a whole lifecycle,
 * played against the real rtcdm on the simulated platform.
 *
 * This program is both the guest and the toolstack:
 *   - the guest talks to ports 0x70/0x71 over qtest (rtcdm connects to our
 *     socket with -qtest unix:PATH), and time moves only by clock_step, so
 *     every time printed is exact;
 *   - the toolstack talks QMP as libxl does (a fresh connection per command,
 *     add-fd with SCM_RIGHTS, xen-save-devices-state, -incoming fd:N) and
 *     writes xenstore nodes in the directory store (--sim-xenstore);
 *   - the PV wallclock is read from the simulated shared_info page
 *     (--sim-shared-info) with the guest's seqlock protocol.
 * The host wallclock is fixed (--sim-wallclock), so the story is the same
 * on every run.  Everything lives in one temporary directory, removed at
 * the end.  Each step checks what it shows; a mismatch is printed and makes
 * the exit status 1.
 *
 * Usage: rtcdm-demo [--keep]     (RTCDM_BUILD: directory of rtcdm and
 *                                 rtcdm-ctx, default "build")
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rtc/rtc.h"
#include "tests/support/support.h"
#include "toolstack/xenstore/store_dir.h"
#include "toolstack/xenstore/store.h"

/* The host wallclock of every run: 2023-11-14 22:13:20 UTC. */
#define HOST_T 1700000000ll
#define LOCAL_OFFSET 7200     /* the guest keeps local time, UTC+02:00 */
#define TOOL_OFFSET 3600      /* --time-offset */
#define NODE_OFFSET (-18000)  /* xenstore settimeoffset, UTC-05:00 */
#define DOMID "7"
#define UUID "6e0f2b1c-8d7a-4c55-9b3e-0123456789ab"
#define DMP "/local/domain/0/device-model/" DOMID
#define NVRAM_INDEX 0x40
#define NVRAM_VALUE 0x5a

struct demo {
	char dir[64];
	char xs[96], state[96], sock[96], shinfo[96], qmp[96];
	char image[96], old_image[96];
	struct store *tool; /* the toolstack's view of xenstore */
	int mismatches;
};

/* ---- output ----------------------------------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A step's claim: printed as a mismatch when it does not hold. */
static bool expect(struct demo *d, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool expect(struct demo *d, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	d->mismatches++;
	printf("    MISMATCH: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return false;
}

/* "2023-11-14 22:13:20" */
static void fmt_time(int64_t t, char *buf, size_t len)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sod = t - days * 86400, y;
	unsigned m, dd;

	rtc_civil_from_days(days, &y, &m, &dd);
	snprintf(buf, len, "%04" PRId64 "-%02u-%02u %02u:%02u:%02u", y, m, dd,
	         (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
}

/* "+02:00" */
static void fmt_hhmm(int64_t off, char *buf, size_t len)
{
	int64_t a = off < 0 ? -off : off;

	snprintf(buf, len, "%c%02" PRId64 ":%02" PRId64, off < 0 ? '-' : '+', a / 3600,
	         a / 60 % 60);
}

/* The last rtcdm log line containing needle, without its time stamp. */
static const char *log_line(struct support_proc *p, const char *needle, char *buf, size_t len)
{
	const char *log = support_stderr(p), *hit = NULL, *s;

	for (s = strstr(log, needle); s; s = strstr(s + 1, needle))
		hit = s;
	if (!hit) {
		snprintf(buf, len, "<no log line with '%s'>", needle);
		return buf;
	}
	while (hit > log && hit[-1] != '\n')
		hit--;
	s = strstr(hit, ": "); /* after "DATE TIME rtcdm[7] info" */
	if (s && s < hit + 64 && !memchr(hit, '\n', (size_t)(s - hit)))
		hit = s + 2;
	size_t n = strcspn(hit, "\n");
	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), hit);
	return buf;
}

/* ---- files ------------------------------------------------------------------------------ */

static bool demo_init(struct demo *d)
{
	char err[256];

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/rtcdm-demo-XXXXXX");
	if (!mkdtemp(d->dir)) {
		fprintf(stderr, "rtcdm-demo: cannot create a temporary directory: %s\n",
		        strerror(errno));
		return false;
	}
	snprintf(d->xs, sizeof(d->xs), "%s/xenstore", d->dir);
	snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
	snprintf(d->sock, sizeof(d->sock), "%s/qtest.sock", d->dir);
	snprintf(d->shinfo, sizeof(d->shinfo), "%s/shared_info", d->dir);
	snprintf(d->qmp, sizeof(d->qmp), "%s/qmp-libxl-" DOMID, d->dir);
	snprintf(d->image, sizeof(d->image), "%s/qemu-save." DOMID, d->dir);
	snprintf(d->old_image, sizeof(d->old_image), "%s/xen-4.13-rtc.img", d->dir);
	if (mkdir(d->state, 0700) < 0) {
		fprintf(stderr, "rtcdm-demo: %s: %s\n", d->state, strerror(errno));
		return false;
	}
	d->tool = store_dir_open(d->xs, err, sizeof(err));
	if (!d->tool) {
		fprintf(stderr, "rtcdm-demo: xenstore directory: %s\n", err);
		return false;
	}
	return true;
}

static void demo_fini(struct demo *d, bool keep)
{
	store_close(d->tool);
	d->tool = NULL;
	if (keep)
		say("(files kept in %s)", d->dir);
	else if (d->dir[0])
		support_rmtree(d->dir);
}

/* A node's value into buf ("<none>" when missing). */
static const char *node(struct demo *d, const char *path, char *buf, size_t len)
{
	char *v = store_read(d->tool, path);

	snprintf(buf, len, "%s", v ? v : "<none>");
	free(v);
	return buf;
}

/* Wait (bounded) until node == want. */
static bool wait_node(struct demo *d, const char *path, const char *want)
{
	char buf[128];

	for (int i = 0; i < SUPPORT_TIMEOUT_MS / 5; i++) {
		if (strcmp(node(d, path, buf, sizeof(buf)), want) == 0)
			return true;
		usleep(5000);
	}
	return false;
}

/* ---- rtcdm with this program as its qtest guest ----------------------------------------------- */

/*
 * Start rtcdm --platform sim connected to our qtest socket, with the fixed
 * host wallclock `wallclock` (seconds), the simulated shared_info and
 * xenstore, QMP on d->qmp, then `extra`.  keep: descriptors it inherits.
 * On return the event loop runs (a qtest command was answered), so QMP and
 * the xenstore watches are being served.
 */
static bool dm_start(struct demo *d, struct qtest *q, int64_t wallclock,
                     const char *const extra[], const int *keep, size_t n_keep)
{
	char wc[32], chardev[160];
	const char *args[48];
	size_t n = 0;

	qtest_init(q);
	unlink(d->qmp);
	snprintf(wc, sizeof(wc), "%" PRId64, wallclock);
	snprintf(chardev, sizeof(chardev), "socket,id=libxl-cmd,path=%s,server=on,wait=off", d->qmp);
	const char *const base[] = {"--sim-wallclock", wc, "--sim-shared-info", d->shinfo,
	                            "--sim-xenstore", d->xs, "-xen-domid", DOMID, "-name", "demo",
	                            "-chardev", chardev, "-mon", "chardev=libxl-cmd,mode=control",
	                            "--state-dir", d->state};
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		args[n++] = base[i];
	for (size_t i = 0; extra && extra[i] && n < sizeof(args) / sizeof(args[0]) - 1; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	if (qtest_spawn(q, d->sock, args, keep, n_keep) == 0)
		return true;
	printf("    rtcdm did not start: %s\n%s", strerror(errno), support_stderr(&q->proc));
	d->mismatches++;
	qtest_quit(q);
	return false;
}

/* ---- QMP, as libxl speaks it ----------------------------------------------------------------- */

/* One command on an open connection; prints "-> cmd" and "<- reply"
 * (events skipped).  The reply stays in buf. */
static const char *qmp_cmd(int fd, const char *msg, int pass_fd, char *buf, size_t len)
{
	say("      -> %s%s", msg, pass_fd >= 0 ? "   + a descriptor (SCM_RIGHTS)" : "");
	support_qmp_cmd(fd, msg, pass_fd, buf, len);
	buf[strcspn(buf, "\r\n")] = '\0'; /* shown without CRLF */
	say("      <- %s", buf);
	return buf;
}

/* libxl's way: a fresh connection for one command. */
static const char *qmp_once(struct demo *d, const char *msg, char *buf, size_t len)
{
	int fd = support_qmp_open(d->qmp);
	const char *r = qmp_cmd(fd, msg, -1, buf, len);

	if (fd >= 0)
		close(fd);
	return r;
}

/* ---- the guest --------------------------------------------------------------------------------- */

static uint8_t bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

static unsigned unbcd(uint8_t v)
{
	return (unsigned)(v >> 4) * 10 + (v & 15);
}

/* Host time now: the fixed wallclock of this run plus the virtual clock. */
static int64_t host_now(int64_t wallclock, uint64_t clock_ns)
{
	return wallclock + (int64_t)(clock_ns / 1000000000u);
}

/* The guest sets its RTC to local time t (BCD, 24 h, SET held while writing). */
static void guest_set_time(struct qtest *q, int64_t t)
{
	int64_t days = t / 86400, sod = t % 86400, y;
	unsigned m, dd;

	rtc_civil_from_days(days, &y, &m, &dd);
	cmos_write(q, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	cmos_write(q, RTC_SECONDS, bcd((unsigned)(sod % 60)));
	cmos_write(q, RTC_MINUTES, bcd((unsigned)(sod / 60 % 60)));
	cmos_write(q, RTC_HOURS, bcd((unsigned)(sod / 3600)));
	cmos_write(q, RTC_DAY_OF_WEEK, (uint8_t)((days + 4) % 7 + 1)); /* 1970-01-01: Thursday */
	cmos_write(q, RTC_DAY_OF_MONTH, bcd(dd));
	cmos_write(q, RTC_MONTH, bcd(m));
	cmos_write(q, RTC_YEAR, bcd((unsigned)(y % 100)));
	cmos_write(q, RTC_CENTURY, bcd((unsigned)(y / 100)));
	cmos_write(q, RTC_REG_B, RTC_B_24H);
}

/* What the guest reads from its RTC (BCD, 24 h), as seconds since the epoch. */
static int64_t guest_read_time(struct qtest *q)
{
	uint8_t s = cmos_read(q, RTC_SECONDS), mi = cmos_read(q, RTC_MINUTES);
	uint8_t h = cmos_read(q, RTC_HOURS), dd = cmos_read(q, RTC_DAY_OF_MONTH);
	uint8_t mo = cmos_read(q, RTC_MONTH), y = cmos_read(q, RTC_YEAR);
	uint8_t c = cmos_read(q, RTC_CENTURY);
	int64_t days = rtc_days_from_civil(unbcd(c) * 100 + unbcd(y), unbcd(mo), unbcd(dd));

	return days * 86400 + unbcd(h) * 3600 + unbcd(mi) * 60 + unbcd(s);
}

/* The guest reads its clock; the step checks it is host + want_offset. */
static void show_guest_time(struct demo *d, struct qtest *q, int64_t wallclock, uint64_t clock_ns,
                            int64_t want_offset)
{
	char t[32], hm[32];
	int64_t g = guest_read_time(q), off = g - host_now(wallclock, clock_ns);

	fmt_time(g, t, sizeof(t));
	fmt_hhmm(off, hm, sizeof(hm));
	say("    guest reads its RTC:  %s   (host %+" PRId64 " s, %s)", t, off, hm);
	expect(d, !q->broken && off == want_offset, "expected host %+" PRId64 " s", want_offset);
}

static void show_wallclock(struct demo *d, int64_t wallclock, int64_t want_offset)
{
	struct dm_shinfo_wallclock wc;
	char t[32];

	if (!expect(d, shinfo_read(d->shinfo, &wc) == 0, "cannot read %s", d->shinfo))
		return;
	fmt_time(wc.sec, t, sizeof(t));
	say("    PV wallclock (shared_info, read with the version seqlock): %" PRId64 ".%09" PRIu32
	    " = %s",
	    wc.sec, wc.nsec, t);
	expect(d, wc.sec == wallclock + want_offset && wc.nsec == 0 && wc.version % 2 == 0,
	       "expected %" PRId64 ".000000000", wallclock + want_offset);
}

static bool stop_dm(struct demo *d, struct qtest *q, int sig, const char *how)
{
	int st;

	/* A signal: wait for the exit before closing the qtest connection, as
	 * libxl does not close anything of the device model's. */
	if (sig) {
		support_signal(&q->proc, sig);
		support_wait(&q->proc, SUPPORT_TIMEOUT_MS);
	}
	st = qtest_quit(q);
	say("    rtcdm %s: exit status %d", how, st);
	return expect(d, st == 0, "expected exit status 0");
}

/* ---- the acts ---------------------------------------------------------------------------------- */

static bool act_local_time(struct demo *d, struct qtest *q)
{
	char t[32], buf[256], want[32];
	uint64_t clock;

	say("1. A Windows-style guest keeps local time (UTC+02:00) in its CMOS clock");
	fmt_time(HOST_T, t, sizeof(t));
	say("    host wallclock %s UTC (fixed), virtual clock at 0", t);
	if (!dm_start(d, q, HOST_T, NULL, NULL, 0))
		return false;
	expect(d, wait_node(d, DMP "/state", "running"), "xenstore state is not running");
	say("    xenstore %s/state = %s", DMP, node(d, DMP "/state", buf, sizeof(buf)));
	show_guest_time(d, q, HOST_T, 0, 0);
	fmt_time(HOST_T + LOCAL_OFFSET, t, sizeof(t));
	say("    guest sets its RTC to %s (register B SET, BCD, 24 h)", t);
	guest_set_time(q, HOST_T + LOCAL_OFFSET);
	show_guest_time(d, q, HOST_T, 0, LOCAL_OFFSET);
	snprintf(want, sizeof(want), "%d", LOCAL_OFFSET);
	expect(d, wait_node(d, DMP "/rtc/timeoffset", want), "timeoffset not published");
	say("    xenstore %s/rtc/timeoffset = %s", DMP,
	    node(d, DMP "/rtc/timeoffset", buf, sizeof(buf)));
	show_wallclock(d, HOST_T, LOCAL_OFFSET);
	cmos_write(q, NVRAM_INDEX, NVRAM_VALUE);
	say("    guest writes NVRAM byte 0x%02x = 0x%02x", NVRAM_INDEX, NVRAM_VALUE);
	clock = qtest_clock_step(q, 10 * 1000000000ull);
	say("    10 s of guest time pass (qtest clock_step 10000000000: clock %" PRIu64 " ns)",
	    clock);
	show_guest_time(d, q, HOST_T, clock, LOCAL_OFFSET);
	return true;
}

static bool act_save(struct demo *d, struct qtest *q)
{
	char buf[512];
	struct stat st;

	say("2. xl save: the toolstack saves the device state over QMP, then stops rtcdm");
	qmp_once(d, "{\"execute\":\"stop\",\"id\":1}", buf, sizeof(buf));
	expect(d, strcmp(buf, "{\"return\":{},\"id\":1}") == 0, "stop refused");
	int sfd = open(d->image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int c = support_qmp_open(d->qmp);
	qmp_cmd(c, "{\"execute\":\"add-fd\",\"id\":2}", sfd, buf, sizeof(buf));
	expect(d, strstr(buf, "\"fdset-id\":0") != NULL, "add-fd gave no fdset 0");
	qmp_cmd(c,
	        "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"live\":false,"
	        "\"filename\":\"/dev/fdset/0\"},\"id\":3}",
	        -1, buf, sizeof(buf));
	expect(d, strcmp(buf, "{\"return\":{},\"id\":3}") == 0, "save refused");
	if (c >= 0)
		close(c);
	if (sfd >= 0)
		close(sfd);
	stop_dm(d, q, SIGHUP, "stopped with SIGHUP (as libxl does)");
	if (!expect(d, stat(d->image, &st) == 0 && st.st_size > 0, "no image"))
		return false;
	say("    image %s: %lld bytes", strrchr(d->image, '/') + 1, (long long)st.st_size);
	return true;
}

static bool act_restore(struct demo *d, struct qtest *q)
{
	char buf[512], incoming[32];
	int64_t wc = HOST_T + 100;

	say("3. xl restore, 100 s later: a new rtcdm loads the image from -incoming fd:N");
	int fd = open(d->image, O_RDONLY | O_CLOEXEC);
	int in = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 15) : -1;
	if (fd >= 0)
		close(fd);
	snprintf(incoming, sizeof(incoming), "fd:%d", in);
	const char *const extra[] = {"-incoming", incoming, NULL};
	say("    rtcdm ... -incoming %s", incoming);
	bool started = dm_start(d, q, wc, extra, &in, 1);
	if (in >= 0)
		close(in);
	if (!started)
		return false;
	say("    rtcdm log: %s", log_line(&q->proc, "time offset:", buf, sizeof(buf)));
	expect(d, strstr(buf, "[image]") != NULL, "offset not from the image");
	qmp_once(d, "{\"execute\":\"cont\",\"id\":4}", buf, sizeof(buf));
	show_guest_time(d, q, wc, 0, LOCAL_OFFSET);
	uint8_t v = cmos_read(q, NVRAM_INDEX);
	say("    guest reads NVRAM byte 0x%02x = 0x%02x", NVRAM_INDEX, v);
	expect(d, v == NVRAM_VALUE, "expected 0x%02x", NVRAM_VALUE);
	show_wallclock(d, wc, LOCAL_OFFSET);
	stop_dm(d, q, SIGHUP, "stopped with SIGHUP");
	return true;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

/* An image as Xen <= 4.13 wrote it: HEADER, a 16-byte RTC record (no
 * rtc_offset field), END.  64 bytes. */
static bool write_old_image(const char *path)
{
	uint8_t img[64] = {0};
	uint8_t *p = img;

	put_le16(p, 1);            /* HEADER */
	put_le32(p + 4, 24);
	put_le32(p + 8, 0x54381286); /* magic */
	put_le32(p + 12, 1);         /* version */
	memset(p + 16, 0xff, 8);     /* changeset unknown */
	p += 32;
	put_le16(p, 11);           /* RTC */
	put_le32(p + 4, 16);
	p[8 + RTC_REG_A] = RTC_RESET_REG_A;
	p[8 + RTC_REG_B] = RTC_RESET_REG_B;
	p[8 + RTC_REG_D] = RTC_D_VRT;
	p += 24;                   /* END: typecode 0, length 0 */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, img, sizeof(img)) == (ssize_t)sizeof(img);
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool act_old_image(struct demo *d, struct qtest *q)
{
	char buf[512];
	int64_t wc = HOST_T + 200;

	say("4. An image from Xen <= 4.13 (16-byte RTC record, no offset, no rtcdm records)");
	if (!expect(d, write_old_image(d->old_image), "cannot write %s", d->old_image))
		return false;
	say("    %s: 64 bytes (HEADER, RTC length 16, END)", strrchr(d->old_image, '/') + 1);
	const char *const extra[] = {"--restore", d->old_image, NULL};
	if (!dm_start(d, q, wc, extra, NULL, 0))
		return false;
	say("    rtcdm log: %s", log_line(&q->proc, "time offset:", buf, sizeof(buf)));
	expect(d, strstr(buf, "offset 0") != NULL, "expected offset 0 in the log");
	say("    the guest's local-time offset is gone, as Xen loads such a record:");
	show_guest_time(d, q, wc, 0, 0);
	stop_dm(d, q, 0, "stopped (qtest guest left)");
	return true;
}

static bool act_toolstack(struct demo *d, struct qtest *q)
{
	char buf[512], val[32];
	int64_t wc = HOST_T + 300;

	say("5. The toolstack's offset wins over the saved one");
	snprintf(val, sizeof(val), "%d", TOOL_OFFSET);
	const char *const extra[] = {"--restore", d->image, "--time-offset", val, NULL};
	say("    rtcdm ... --restore %s --time-offset %s   (the image says +%d s)",
	    strrchr(d->image, '/') + 1, val, LOCAL_OFFSET);
	if (!dm_start(d, q, wc, extra, NULL, 0))
		return false;
	say("    rtcdm log: %s", log_line(&q->proc, "time offset:", buf, sizeof(buf)));
	expect(d, strstr(buf, "[toolstack]") != NULL, "offset not the toolstack's");
	show_guest_time(d, q, wc, 0, TOOL_OFFSET);
	qmp_once(d, "{\"execute\":\"rtcdm-query-time-offset\",\"id\":5}", buf, sizeof(buf));
	snprintf(val, sizeof(val), "\"seconds\":%d,", TOOL_OFFSET);
	expect(d, strstr(buf, val) && strstr(buf, "\"set\":true"), "expected %d s, set", TOOL_OFFSET);

	snprintf(val, sizeof(val), "%d", NODE_OFFSET);
	say("    toolstack writes xenstore %s/rtc/settimeoffset = %s", DMP, val);
	store_write(d->tool, DMP "/rtc/settimeoffset", val);
	expect(d, wait_node(d, DMP "/rtc/settimeoffset", "<none>"), "settimeoffset not removed");
	expect(d, wait_node(d, DMP "/rtc/timeoffset", val), "timeoffset not published");
	say("    rtcdm removes the node (acknowledged); %s/rtc/timeoffset = %s", DMP,
	    node(d, DMP "/rtc/timeoffset", buf, sizeof(buf)));
	show_guest_time(d, q, wc, 0, NODE_OFFSET);
	show_wallclock(d, wc, NODE_OFFSET);
	stop_dm(d, q, 0, "stopped (qtest guest left)");
	return true;
}

static bool act_battery(struct demo *d, struct qtest *q)
{
	char buf[512], bat[160];
	struct stat st;
	int64_t wc = HOST_T + 3600;
	const char *const extra[] = {"-uuid", UUID, NULL};

	say("6. Battery-backed CMOS: the domain is shut down and started again an hour later");
	snprintf(bat, sizeof(bat), "%s/%s.cmos", d->state, UUID);
	say("    rtcdm ... -uuid %s --state-dir DIR", UUID);
	if (!dm_start(d, q, HOST_T, extra, NULL, 0))
		return false;
	guest_set_time(q, HOST_T + LOCAL_OFFSET);
	cmos_write(q, NVRAM_INDEX, NVRAM_VALUE);
	say("    guest sets local time (UTC+02:00) and NVRAM byte 0x%02x = 0x%02x", NVRAM_INDEX,
	    NVRAM_VALUE);
	show_guest_time(d, q, HOST_T, 0, LOCAL_OFFSET);
	stop_dm(d, q, SIGHUP, "stopped (domain destroyed)");
	expect(d, stat(bat, &st) == 0 && (st.st_mode & 0777) == 0600, "no battery file");
	say("    battery file DIR/%s.cmos: %lld bytes, mode %03o", UUID, (long long)st.st_size,
	    (unsigned)(st.st_mode & 0777));
	if (!dm_start(d, q, wc, extra, NULL, 0))
		return false;
	say("    a new rtcdm, no image: %s", log_line(&q->proc, "time offset:", buf, sizeof(buf)));
	expect(d, strstr(buf, "[battery]") != NULL, "offset not from the battery");
	show_guest_time(d, q, wc, 0, LOCAL_OFFSET);
	uint8_t v = cmos_read(q, NVRAM_INDEX);
	say("    guest reads NVRAM byte 0x%02x = 0x%02x", NVRAM_INDEX, v);
	expect(d, v == NVRAM_VALUE, "expected 0x%02x", NVRAM_VALUE);
	stop_dm(d, q, 0, "stopped (qtest guest left)");
	return true;
}

static void act_dump(struct demo *d)
{
	char out[8192];
	const char *const args[] = {"dump", d->image, NULL};

	say("7. rtcdm-ctx dump %s (the image saved in step 2)", strrchr(d->image, '/') + 1);
	int st = support_capture("rtcdm-ctx", args, false, SUPPORT_TIMEOUT_MS, out, sizeof(out));
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		say("    | %s", line);
	expect(d, st == 0, "rtcdm-ctx exit status %d", st);
}

int main(int argc, char **argv)
{
	struct demo d;
	struct qtest q;
	bool keep = argc > 1 && strcmp(argv[1], "--keep") == 0;

	if (argc > 2 || (argc == 2 && !keep)) {
		fprintf(stderr, "usage: rtcdm-demo [--keep]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < 2; i++) {
		static const char *const progs[] = {"rtcdm", "rtcdm-ctx"};
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", support_build_dir(), progs[i]);
		if (access(path, X_OK) < 0) {
			fprintf(stderr, "rtcdm-demo: %s: %s (set RTCDM_BUILD to the build directory)\n",
			        path, strerror(errno));
			return 2;
		}
	}
	if (!demo_init(&d)) {
		demo_fini(&d, false);
		return 1;
	}
	say("rtcdm demo: one domain's clock through save, restore and reboot");
	say("(rtcdm --platform sim from %s; this program plays the guest over qtest and the",
	    support_build_dir());
	say(" toolstack over QMP and xenstore; time moves only by qtest clock_step)");
	say("(work directory %s, removed at the end)", d.dir);
	say("%s", "");
	/* Each act needs the one before it (the image of step 2, ...): stop at
	 * the first that could not be played. */
	if (act_local_time(&d, &q) && act_save(&d, &q) && act_restore(&d, &q) &&
	    act_old_image(&d, &q) && act_toolstack(&d, &q) && act_battery(&d, &q))
		act_dump(&d);
	else
		say("demo: stopped here");
	demo_fini(&d, keep);
	if (d.mismatches) {
		say("demo: %d step%s did not behave as described", d.mismatches,
		    d.mismatches == 1 ? "" : "s");
		return 1;
	}
	say("demo: every step behaved as described");
	return 0;
}
