/*
 * Crash safety: 200 saves (QMP xen-save-devices-state to a path) with
 * guest NVRAM and clock changes between them that rewrite the battery
 * file, while rtcdm is killed with SIGKILL at random points: during a save,
 * around the moment the battery timer fires, or between requests.  After
 * every kill, and after every completed save, each file on disk must be a
 * complete image that rtcdm was asked to write: it decodes with sr_load()
 * and its NVRAM and offset are exactly those of a state the guest had when
 * the file could have been written (a save: the generation being saved or
 * the one saved before; the battery file: any state since the file was
 * last looked at, as its timer may fire between two guest writes).
 * A killed writer may leave at most one stale temporary per target, and
 * the next write of that target takes it over.  rtcdm is restarted from
 * the last save image after each kill and must give the guest back that
 * generation's NVRAM and offset.
 *
 * Kill points come from a fixed-seed PRNG (the schedule is the same on
 * every run; where in rtcdm's code a kill lands depends on timing).
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/support/rel_util.h"

void suite_rel_crash(void);

#define W 1700000000ll
#define T2030 1893456000ll /* 2030-01-01 00:00:00 UTC */
#define UUID "5d2e8c1a-7b34-4f0e-9a61-3c5d7e9f1b20"
#define SAVES 200
#define MAX_GEN 400
#define BATTERY_KILLS 10
#define TAG_LO 0x40 /* NVRAM bytes holding the generation number */
#define TAG_HI 0x41
#define MAX_CAND 4096

struct gen {
	uint8_t nvram[SR_NVRAM_LEN];
	int64_t offset;
};

struct crash {
	char dir[64], state[96], savedir[96], save[128], bat[160], qmp[96], qmp_arg[160];
	char qtest_sock[96];
	struct qtest q;
	bool running;
	int qmp_fd;
	uint64_t prng;
	struct gen *gens;   /* [MAX_GEN + 1] */
	struct gen cur;     /* the guest's state now */
	unsigned gen;       /* last generation created */
	int saved;          /* generation the save file holds, -1: none yet */
	struct gen *cand;   /* [MAX_CAND]: states the battery file may hold */
	size_t n_cand;
	unsigned kills, stale_seen, id;
	int64_t save_ns;    /* running estimate of a save's round trip */
	bool failed;
};

static uint64_t prng_next(struct crash *c)
{
	/* xorshift64* */
	c->prng ^= c->prng >> 12;
	c->prng ^= c->prng << 25;
	c->prng ^= c->prng >> 27;
	return c->prng * 0x2545f4914f6cdd1dull;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

#define CHECK(c, cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "\n  generation %u: ", (c)->gen);                          \
			fprintf(stderr, __VA_ARGS__);                                              \
			(c)->failed = true;                                                        \
		}                                                                                  \
	} while (0)

static unsigned image_tag(const struct sr_image *img)
{
	return img->nvram[TAG_LO - RTC_NVRAM_FIRST] | (unsigned)img->nvram[TAG_HI - RTC_NVRAM_FIRST] << 8;
}

/* The image at path is complete and is exactly a generation that allowed[]
 * marks.  Returns that generation, -1 when missing, -2 when wrong. */
static int check_image(struct crash *c, const char *path, const char *what, const bool *allowed)
{
	struct sr_image img;
	char err[SR_ERR_MAX + 128];
	struct stat st;

	if (lstat(path, &st) < 0 && errno == ENOENT)
		return -1; /* never written: rename() never leaves the name missing */
	if (rel_load_image(path, &img, err, sizeof(err)) < 0) {
		CHECK(c, false, "%s is not a complete image: %s", what, err);
		return -2;
	}
	unsigned t = image_tag(&img);
	if (t > c->gen || !allowed[t]) {
		CHECK(c, false, "%s holds generation %u, not one that may be there", what, t);
		return -2;
	}
	CHECK(c, memcmp(img.nvram, c->gens[t].nvram, SR_NVRAM_LEN) == 0,
	      "%s: NVRAM is not generation %u's", what, t);
	CHECK(c, img.offset.seconds == c->gens[t].offset,
	      "%s: offset %" PRId64 ", generation %u had %" PRId64, what, img.offset.seconds, t,
	      c->gens[t].offset);
	return (int)t;
}

/* Only `name` and at most max_temps temporaries of it ('.name.*') in dir. */
static void check_dir(struct crash *c, const char *dir, const char *name, unsigned max_temps)
{
	char prefix[128];
	unsigned temps = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	snprintf(prefix, sizeof(prefix), ".%s.", name);
	CHECK(c, d != NULL, "cannot list %s", dir);
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, name))
			continue;
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			temps++;
			continue;
		}
		CHECK(c, false, "unexpected file %s/%s", dir, e->d_name);
	}
	if (d)
		closedir(d);
	CHECK(c, temps <= max_temps, "%u temporaries of %s pile up in %s", temps, name, dir);
	c->stale_seen += temps;
}

static void cand_add(struct crash *c)
{
	CHECK(c, c->n_cand < MAX_CAND, "too many battery states to track");
	if (c->n_cand < MAX_CAND)
		c->cand[c->n_cand++] = c->cur;
}

static bool same_state(const struct gen *a, const struct sr_image *img)
{
	return memcmp(a->nvram, img->nvram, SR_NVRAM_LEN) == 0 && a->offset == img->offset.seconds;
}

/* The battery file is complete and holds one of the states the guest had
 * since it was last looked at; from now on it may hold that one or a
 * later one.  1 when it holds the current state, 0 when not, -1 missing. */
static int check_battery(struct crash *c)
{
	struct sr_image img;
	struct stat st;
	char err[SR_ERR_MAX + 128];

	if (lstat(c->bat, &st) < 0 && errno == ENOENT)
		return -1;
	if (rel_load_image(c->bat, &img, err, sizeof(err)) < 0) {
		CHECK(c, false, "the battery file is not a complete image: %s", err);
		return 0;
	}
	CHECK(c, !sr_has(&img, SR_REC_TIMER), "the battery file holds a timer record");
	for (size_t i = c->n_cand; i-- > 0;) {
		if (same_state(&c->cand[i], &img)) {
			c->cand[0] = c->cand[i];
			c->n_cand = 1;
			cand_add(c);
			return same_state(&c->cur, &img);
		}
	}
	CHECK(c, false, "the battery file holds a state the guest never had (tag %u, offset %" PRId64 ")",
	      image_tag(&img), img.offset.seconds);
	return 0;
}

static const bool *only(bool *set, int a, int b)
{
	memset(set, 0, (MAX_GEN + 1) * sizeof(bool));
	if (a >= 0)
		set[a] = true;
	if (b >= 0)
		set[b] = true;
	return set;
}

/* ---- the process ---------------------------------------------------------------------- */

static bool query_offset(struct crash *c, int64_t *secs)
{
	char buf[512];
	struct json_object *o, *r, *v;
	bool ok = false;

	o = json_tokener_parse(support_qmp_cmd(
		c->qmp_fd, "{\"execute\":\"rtcdm-query-time-offset\",\"id\":1}", -1, buf, sizeof(buf)));
	if (o && json_object_object_get_ex(o, "return", &r) &&
	    json_object_object_get_ex(r, "seconds", &v)) {
		*secs = json_object_get_int64(v);
		ok = true;
	}
	json_object_put(o);
	return ok;
}

/* All of the NVRAM through the ports, in one batch of requests. */
static bool read_nvram(struct crash *c, uint8_t nv[SR_NVRAM_LEN])
{
	char buf[SR_NVRAM_LEN * 32];
	size_t n = 0;

	for (unsigned i = RTC_NVRAM_FIRST; i < RTC_CMOS_SIZE; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "outb 0x70 0x%x\ninb 0x71\n", i);
	if (qtest_send_raw(&c->q, buf, n) < 0)
		return false;
	for (unsigned i = 0; i < SR_NVRAM_LEN; i++) {
		const char *r = qtest_read_reply(&c->q);
		if (!r || strcmp(r, "OK") != 0)
			return false;
		r = qtest_read_reply(&c->q);
		if (!r || strncmp(r, "OK ", 3) != 0)
			return false;
		nv[i] = (uint8_t)strtoul(r + 3, NULL, 0);
	}
	return true;
}

/* As qtest_start(), with every file in the test's directory (on tmpfs when
 * there is one) and no shared_info file. */
static bool spawn(struct crash *c, const char *const extra[])
{
	int rc = rel_dm_start(&c->q, c->qtest_sock, extra);

	c->running = c->q.proc.pid > 0;
	CHECK(c, rc == 0, "rtcdm did not start: %s", support_stderr(&c->q.proc));
	return rc == 0;
}

static bool start(struct crash *c)
{
	const char *args[16] = {"-uuid", UUID, "--state-dir", c->state, "-chardev", c->qmp_arg,
	                        "-mon", "chardev=qmp,mode=control"};
	size_t n = 8;

	if (c->saved >= 0) {
		args[n++] = "--restore";
		args[n++] = c->save;
	}
	args[n] = NULL;
	if (!spawn(c, args))
		return false;
	c->qmp_fd = support_qmp_open(c->qmp);
	if (c->qmp_fd < 0)
		return false;
	uint8_t nv[SR_NVRAM_LEN];
	if (!read_nvram(c, nv))
		return false;
	if (c->saved < 0) {
		/* Power-on NVRAM: whatever rtcdm gives, the model starts from it. */
		memcpy(c->cur.nvram, nv, sizeof(nv));
		c->cur.offset = 0;
		c->gens[0] = c->cur;
		cand_add(c);
		return true;
	}
	/* Restarted from the save image: the guest has that generation back. */
	const struct gen *g = &c->gens[c->saved];
	int64_t secs = INT64_MIN;

	CHECK(c, memcmp(nv, g->nvram, sizeof(nv)) == 0, "restart from generation %d: NVRAM differs",
	      c->saved);
	CHECK(c, query_offset(c, &secs) && secs == g->offset,
	      "restart from generation %d: offset %" PRId64 ", expected %" PRId64, c->saved, secs,
	      g->offset);
	c->cur = *g;
	cand_add(c); /* the battery file may be rewritten from the restored state */
	return !c->q.broken;
}

static void kill_now(struct crash *c)
{
	support_signal(&c->q.proc, SIGKILL);
	int st = support_wait(&c->q.proc, SUPPORT_TIMEOUT_MS);
	CHECK(c, st == 128 + SIGKILL, "rtcdm ended with status %d before the kill:\n%s", st,
	      support_stderr(&c->q.proc));
	if (c->qmp_fd >= 0)
		close(c->qmp_fd);
	c->qmp_fd = -1;
	qtest_quit(&c->q);
	c->running = false;
	c->kills++;
}

/* ---- the guest -------------------------------------------------------------------------- */

struct batch {
	char text[2048];
	size_t len;
	unsigned writes;
};

/* Queue a CMOS write; for NVRAM bytes the guest's state changes with it. */
static void queue_write(struct crash *c, struct batch *b, uint8_t idx, uint8_t v)
{
	b->len += (size_t)snprintf(b->text + b->len, sizeof(b->text) - b->len,
	                           "outb 0x70 0x%x\noutb 0x71 0x%x\n", idx, v);
	b->writes++;
	if (idx >= RTC_NVRAM_FIRST) {
		c->cur.nvram[idx - RTC_NVRAM_FIRST] = v;
		cand_add(c);
	}
}

static void send_batch(struct crash *c, struct batch *b)
{
	bool ok = qtest_send_raw(&c->q, b->text, b->len) == 0;

	for (unsigned i = 0; ok && i < 2 * b->writes; i++) {
		const char *r = qtest_read_reply(&c->q);
		ok = r && strcmp(r, "OK") == 0;
	}
	CHECK(c, ok, "guest writes not acknowledged");
}

static uint8_t bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

/* A new generation: its number in NVRAM, one more byte, and every third
 * generation a new time of day (2030-01-01 hh:mm:00). */
static void new_generation(struct crash *c)
{
	unsigned g = ++c->gen;
	struct batch b = {.len = 0};

	queue_write(c, &b, TAG_LO, (uint8_t)g);
	queue_write(c, &b, TAG_HI, (uint8_t)(g >> 8));
	queue_write(c, &b, (uint8_t)(0x42 + g % 60), (uint8_t)(g * 7 + 1));
	if (g % 3 == 0) {
		unsigned hh = (g / 60) % 24, mm = g % 60;
		static const uint8_t idx[7] = {0, 2, 4, 6, 7, 8, 9};
		const uint8_t val[7] = {0x00, bcd(mm), bcd(hh), 0x03, 0x01, 0x01, 0x30};

		queue_write(c, &b, 0x0b, 0x82);
		for (int i = 0; i < 7; i++)
			queue_write(c, &b, idx[i], val[i]);
		queue_write(c, &b, 0x0b, 0x02); /* the new time counts from here */
		c->cur.offset = T2030 + hh * 3600 + mm * 60 - W;
		cand_add(c);
	}
	send_batch(c, &b);
	c->gens[g] = c->cur;
}

/* ---- the test ------------------------------------------------------------------------------ */

static void save_msg(struct crash *c, char *msg, size_t len)
{
	snprintf(msg, len,
	         "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"%s\","
	         "\"live\":false},\"id\":%u}",
	         c->save, ++c->id);
}

/* After a kill: the files are complete old or new images; restart. */
static bool after_kill(struct crash *c, int inflight)
{
	bool set[MAX_GEN + 1];
	int t = check_image(c, c->save, "save file", only(set, c->saved, inflight));

	CHECK(c, t != -1 || c->saved < 0, "the save file is gone");
	if (t >= 0)
		c->saved = t;
	check_battery(c);
	check_dir(c, c->savedir, "qemu-save", 1);
	check_dir(c, c->state, UUID ".cmos", 1);
	return start(c);
}

/* One save, either completed or killed after `delay_ns`. */
static bool one_save(struct crash *c, bool kill, int64_t delay_ns)
{
	char msg[512], buf[1024];
	bool set[MAX_GEN + 1];

	save_msg(c, msg, sizeof(msg));
	int64_t t0 = now_ns();
	if (kill) {
		CHECK(c, support_send_fd(c->qmp_fd, msg, -1) == 0, "cannot send the save command");
		sleep_until(t0 + delay_ns);
		kill_now(c);
		return after_kill(c, (int)c->gen);
	}
	char want[64];
	snprintf(want, sizeof(want), "{\"return\":{},\"id\":%u}\r\n", c->id);
	support_qmp_cmd(c->qmp_fd, msg, -1, buf, sizeof(buf));
	CHECK(c, strcmp(buf, want) == 0, "save reply %s", buf);
	c->save_ns = (c->save_ns * 7 + (now_ns() - t0)) / 8;
	/* Completed: exactly the new image, nothing left over. */
	int t = check_image(c, c->save, "save file", only(set, (int)c->gen, -1));
	if (t >= 0)
		c->saved = t;
	check_dir(c, c->savedir, "qemu-save", 0); /* a stale one was taken over */
	check_battery(c);
	support_stderr(&c->q.proc); /* keep the pipe drained */
	return true;
}

/* Kill around the moment the battery timer fires for a fresh change. */
static bool battery_kill(struct crash *c)
{
	int64_t end;

	/* A change, then wait until the file holds it: the timer is idle. */
	new_generation(c);
	end = now_ns() + (int64_t)SUPPORT_TIMEOUT_MS * 1000000;
	while (now_ns() < end && !c->failed && check_battery(c) != 1)
		usleep(2000);
	CHECK(c, now_ns() < end, "the battery file was not updated within %d ms",
	      SUPPORT_TIMEOUT_MS);
	int64_t t0 = now_ns();
	new_generation(c);
	int64_t jitter = (int64_t)(prng_next(c) % 4000000); /* 0..4 ms after the deadline */
	sleep_until(t0 + 100 * 1000000ll + jitter);
	kill_now(c);
	return after_kill(c, -1);
}

static void test_kill_during_saves(void)
{
	struct crash c;
	unsigned battery_kills = 0;

	memset(&c, 0, sizeof(c));
	c.prng = 0x9e3779b97f4a7c15ull;
	c.saved = -1;
	c.qmp_fd = -1;
	c.save_ns = 2000000;
	c.gens = calloc(MAX_GEN + 1, sizeof(*c.gens));
	c.cand = calloc(MAX_CAND, sizeof(*c.cand));
	CU_ASSERT_FATAL(c.gens && c.cand);
	/* On tmpfs when there is one: 400 fsyncs of a disk would only add time. */
	snprintf(c.dir, sizeof(c.dir), "/dev/shm/rtcdm-test-XXXXXX");
	if (!mkdtemp(c.dir))
		CU_ASSERT_EQUAL_FATAL(support_tmpdir(c.dir, sizeof(c.dir)), 0);
	snprintf(c.state, sizeof(c.state), "%s/state", c.dir);
	snprintf(c.savedir, sizeof(c.savedir), "%s/save", c.dir);
	snprintf(c.save, sizeof(c.save), "%s/qemu-save", c.savedir);
	snprintf(c.bat, sizeof(c.bat), "%s/" UUID ".cmos", c.state);
	snprintf(c.qmp, sizeof(c.qmp), "%s/qmp", c.dir);
	snprintf(c.qmp_arg, sizeof(c.qmp_arg), "socket,id=qmp,path=%s,server=on,wait=off", c.qmp);
	snprintf(c.qtest_sock, sizeof(c.qtest_sock), "%s/qtest", c.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(c.state, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(mkdir(c.savedir, 0700), 0);

	bool ok = start(&c);
	CU_ASSERT_TRUE(ok);
	for (unsigned s = 0; ok && s < SAVES && !c.failed && c.gen < MAX_GEN - 1;) {
		uint64_t r = prng_next(&c) % 100;

		if (r < 8 && battery_kills < BATTERY_KILLS) {
			battery_kills++;
			ok = battery_kill(&c);
			continue;
		}
		new_generation(&c);
		if (r < 22) {
			/* Somewhere between receiving the request and well after the reply. */
			int64_t delay = (int64_t)(prng_next(&c) % (uint64_t)(c.save_ns * 3 / 2 + 1));
			ok = one_save(&c, true, delay);
		} else {
			ok = one_save(&c, false, 0);
		}
		s++;
		if (c.q.broken)
			ok = false;
	}
	CU_ASSERT_TRUE(ok);
	CU_ASSERT_FALSE(c.failed);
	CU_ASSERT_TRUE(c.kills >= 40);
	if (getenv("RTCDM_TEST_VERBOSE"))
		fprintf(stderr, "\n  %u generations, %u kills, %u stale temporaries seen, save %lld us\n",
		        c.gen, c.kills, c.stale_seen, (long long)(c.save_ns / 1000));
	if (c.running) {
		if (c.qmp_fd >= 0)
			close(c.qmp_fd);
		support_signal(&c.q.proc, SIGTERM);
		CU_ASSERT_EQUAL(support_wait(&c.q.proc, SUPPORT_TIMEOUT_MS), 0);
		qtest_quit(&c.q);
		/* The clean exit writes the battery file once more: the last state. */
		CU_ASSERT_EQUAL(check_battery(&c), 1);
	}
	support_rmtree(c.dir);
	free(c.gens);
	free(c.cand);
}

void suite_rel_crash(void)
{
	CU_pSuite s = CU_add_suite("rel_crash (SIGKILL during saves and battery updates)", NULL, NULL);
	CU_add_test(s, "200 saves with random SIGKILLs: files are always old or new, complete",
	            test_kill_during_saves);
}
