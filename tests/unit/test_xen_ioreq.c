/*
 * platform/xen/ioreq.c: serving Xen's synchronous ioreq slots and buffered ring,
 * on pages laid out byte by byte as xen/include/public/hvm/ioreq.h lays
 * them out (x86, little-endian), so the layout is checked too.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

void suite_xen_ioreq(void);

#if RTCDM_HAVE_XEN
#include "platform/xen/ioreq.h"

/* ---- a device that records what reaches it ------------------------------------------- */

struct call {
	char kind; /* 'r' read, 'w' write, 't' time offset delta */
	uint16_t port;
	unsigned size;
	uint32_t val;
	int64_t delta;
};

struct fake {
	struct call calls[16];
	unsigned n;
	uint32_t read_value;
};

static uint32_t f_read(void *d, uint16_t port, unsigned size)
{
	struct fake *f = d;

	if (f->n < 16)
		f->calls[f->n] = (struct call){ .kind = 'r', .port = port, .size = size };
	f->n++;
	return f->read_value;
}

static void f_write(void *d, uint16_t port, unsigned size, uint32_t val)
{
	struct fake *f = d;

	if (f->n < 16)
		f->calls[f->n] = (struct call){ .kind = 'w', .port = port, .size = size, .val = val };
	f->n++;
}

static void f_timer(void *d)
{
	(void)d;
}

static void f_delta(void *d, int64_t delta)
{
	struct fake *f = d;

	if (f->n < 16)
		f->calls[f->n] = (struct call){ .kind = 't', .delta = delta };
	f->n++;
}

static const struct dm_device_ops fake_ops = {
	.pio_read = f_read,
	.pio_write = f_write,
	.timer_expired = f_timer,
	.time_offset_delta = f_delta,
};

/* ---- pages, written at the documented byte offsets --------------------------------------- */

static _Alignas(4096) uint8_t page[2 * 4096];

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum { READ = 1, WRITE = 0 };

/* ioreq_t of vCPU v: addr @0, data @8, count @16, size @20, vp_eport @24,
 * byte 30 = state | data_is_ptr << 4 | dir << 5, type @31. */
static uint8_t *put_req(unsigned v, uint8_t type, uint64_t addr, uint64_t data, uint32_t count,
                        uint32_t size, int dir, int ptr, unsigned state)
{
	uint8_t *s = page + 32 * v;

	memset(s, 0, 32);
	put64(s + 0, addr);
	put64(s + 8, data);
	put32(s + 16, count);
	put32(s + 20, size);
	put32(s + 24, 40 + v);
	s[30] = (uint8_t)(state | (ptr ? 0x10 : 0) | (dir ? 0x20 : 0));
	s[31] = type;
	return s;
}

static unsigned state_of(const uint8_t *s)
{
	return s[30] & 0x0f;
}

static void test_write_index_port(void)
{
	struct fake f = { 0 };
	struct dm_ioreq_stats st = { 0 };
	uint8_t *s = put_req(0, 0, 0x70, 0xdeadbe0e, 1, 1, WRITE, 0, 1);

	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_OK);
	CU_ASSERT_EQUAL(state_of(s), 3);
	CU_ASSERT_EQUAL(f.n, 1);
	CU_ASSERT_EQUAL(f.calls[0].kind, 'w');
	CU_ASSERT_EQUAL(f.calls[0].port, 0x70);
	CU_ASSERT_EQUAL(f.calls[0].size, 1);
	CU_ASSERT_EQUAL(f.calls[0].val, 0x0e); /* stale upper bits masked */
	CU_ASSERT_EQUAL(st.pio_writes, 1);
	/* The other flag bits of byte 30 are untouched. */
	CU_ASSERT_EQUAL(s[30] & 0xf0, 0x00);
}

/* Which requests are index writes (the data access follows at once): a
 * ready one-byte PIO write to 0x70, nothing else. */
static void test_index_write_seen(void)
{
	put_req(0, 0, 0x70, 0x0e, 1, 1, WRITE, 0, 1);
	CU_ASSERT_TRUE(dm_ioreq_is_write_to(page, 0, 0x70));
	CU_ASSERT_FALSE(dm_ioreq_is_write_to(page, 0, 0x71));
	put_req(0, 0, 0x70, 0x0e, 1, 1, READ, 0, 1);   /* a read of the index port */
	CU_ASSERT_FALSE(dm_ioreq_is_write_to(page, 0, 0x70));
	put_req(0, 0, 0x70, 0x0e, 1, 2, WRITE, 0, 1);  /* two bytes: 0x70 and 0x71 */
	CU_ASSERT_FALSE(dm_ioreq_is_write_to(page, 0, 0x70));
	put_req(0, 0, 0x70, 0x1000, 1, 1, WRITE, 1, 1); /* through guest memory */
	CU_ASSERT_FALSE(dm_ioreq_is_write_to(page, 0, 0x70));
	put_req(0, 0, 0x70, 0x0e, 1, 1, WRITE, 0, 3);  /* already answered */
	CU_ASSERT_FALSE(dm_ioreq_is_write_to(page, 0, 0x70));
	put_req(0, 1, 0x70, 0x0e, 1, 1, WRITE, 0, 1);  /* MMIO, not PIO */
	CU_ASSERT_FALSE(dm_ioreq_is_write_to(page, 0, 0x70));
}

/* Waiting for the next request: a ready slot at once; an answered or empty
 * one until the deadline, which has passed. */
static void test_wait_ready(void)
{
	put_req(1, 0, 0x71, 0, 1, 1, READ, 0, 1);
	CU_ASSERT_TRUE(dm_ioreq_wait_ready(page, 1, 0));
	put_req(1, 0, 0x71, 0, 1, 1, READ, 0, 3);
	CU_ASSERT_FALSE(dm_ioreq_wait_ready(page, 1, 0));
	put_req(1, 0, 0x71, 0, 1, 1, READ, 0, 0);
	CU_ASSERT_FALSE(dm_ioreq_wait_ready(page, 1, 0));
}

/* How many of the index writes that follow go without waiting. */
static unsigned skipped(struct dm_index_wait *w)
{
	unsigned n = 0;

	while (!dm_index_wait_due(w))
		n++;
	return n;
}

/* When to wait: always while waits catch the access; after one that runs
 * out, 8 index writes without, then 16, 32 ... up to 1024 while they keep
 * running out; one that catches the access brings it back to 8. */
static void test_index_wait_backoff(void)
{
	struct dm_index_wait w;

	dm_index_wait_init(&w);
	CU_ASSERT_TRUE(dm_index_wait_due(&w));
	dm_index_wait_done(&w, true);
	CU_ASSERT_TRUE(dm_index_wait_due(&w));
	dm_index_wait_done(&w, false);
	CU_ASSERT_EQUAL(skipped(&w), 8); /* the ninth waits */
	dm_index_wait_done(&w, false);
	CU_ASSERT_EQUAL(skipped(&w), 16);
	dm_index_wait_done(&w, false);
	CU_ASSERT_EQUAL(skipped(&w), 32);
	for (int i = 0; i < 10; i++) {
		dm_index_wait_done(&w, false);
		(void)skipped(&w);
	}
	dm_index_wait_done(&w, false);
	CU_ASSERT_EQUAL(skipped(&w), 1024); /* the most */
	dm_index_wait_done(&w, true);
	CU_ASSERT_TRUE(dm_index_wait_due(&w));
	dm_index_wait_done(&w, false);
	CU_ASSERT_EQUAL(skipped(&w), 8); /* back to the least */
}

static void test_read_data_port(void)
{
	struct fake f = { .read_value = 0x5a };
	struct dm_ioreq_stats st = { 0 };
	uint8_t *s = put_req(0, 0, 0x71, 0x1122334455667788ull, 1, 1, READ, 0, 1);

	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_OK);
	CU_ASSERT_EQUAL(state_of(s), 3);
	CU_ASSERT_EQUAL(get64(s + 8), 0x5a);
	CU_ASSERT_EQUAL(f.n, 1);
	CU_ASSERT_EQUAL(f.calls[0].kind, 'r');
	CU_ASSERT_EQUAL(f.calls[0].port, 0x71);
	CU_ASSERT_EQUAL(s[30] & 0x20, 0x20); /* still a read */
	CU_ASSERT_EQUAL(st.pio_reads, 1);
}

static void test_read_word_masked(void)
{
	struct fake f = { .read_value = 0xffffabcd };
	struct dm_ioreq_stats st = { 0 };
	uint8_t *s = put_req(0, 0, 0x70, 0, 1, 2, READ, 0, 1);

	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_OK);
	CU_ASSERT_EQUAL(get64(s + 8), 0xabcd);
	CU_ASSERT_EQUAL(f.calls[0].size, 2);
}

/* A server whose process is gone: pending requests complete as an absent
 * device's (reads all ones at their size, writes dropped), others stay. */
static void test_abandon(void)
{
	uint8_t *r = put_req(0, 0, 0x71, 0x12, 1, 1, READ, 0, 1);     /* READY read */
	uint8_t *w = put_req(1, 0, 0x71, 0x5a, 1, 1, WRITE, 0, 2);    /* INPROCESS write */
	uint8_t *q = put_req(2, 0, 0x70, 0, 1, 2, READ, 0, 2);        /* 2-byte read */
	uint8_t *n = put_req(3, 0, 0x71, 0x77, 1, 1, READ, 0, 0);     /* none */
	uint8_t *d = put_req(4, 0, 0x71, 0x99, 1, 1, READ, 0, 3);     /* answered */

	CU_ASSERT_TRUE(dm_ioreq_abandon(page, 0));
	CU_ASSERT_EQUAL(state_of(r), 3);
	CU_ASSERT_EQUAL(get64(r + 8), 0xff);
	CU_ASSERT_TRUE(dm_ioreq_abandon(page, 1));
	CU_ASSERT_EQUAL(state_of(w), 3);
	CU_ASSERT_EQUAL(get64(w + 8), 0x5a);
	CU_ASSERT_EQUAL(w[30] & 0x20, 0x00); /* still a write */
	CU_ASSERT_TRUE(dm_ioreq_abandon(page, 2));
	CU_ASSERT_EQUAL(get64(q + 8), 0xffff);
	CU_ASSERT_FALSE(dm_ioreq_abandon(page, 3));
	CU_ASSERT_EQUAL(state_of(n), 0);
	CU_ASSERT_EQUAL(get64(n + 8), 0x77);
	CU_ASSERT_FALSE(dm_ioreq_abandon(page, 4));
	CU_ASSERT_EQUAL(get64(d + 8), 0x99);
}

static void test_not_ready_untouched(void)
{
	struct fake f = { 0 };
	struct dm_ioreq_stats st = { 0 };

	for (unsigned state = 0; state <= 3; state++) {
		if (state == 1)
			continue;
		uint8_t *s = put_req(0, 0, 0x70, 0x0e, 1, 1, WRITE, 0, state);

		CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_NOT_READY);
		CU_ASSERT_EQUAL(state_of(s), state);
	}
	CU_ASSERT_EQUAL(f.n, 0);
}

static void test_string_io_refused(void)
{
	struct fake f = { 0 };
	struct dm_ioreq_stats st = { 0 };
	uint8_t *s = put_req(0, 0, 0x71, 0x12345000, 4, 1, READ, 1, 1);

	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_REFUSED_PTR);
	CU_ASSERT_EQUAL(state_of(s), 3);
	CU_ASSERT_EQUAL(get64(s + 8), UINT64_MAX);
	CU_ASSERT_EQUAL(f.n, 0);
	CU_ASSERT_EQUAL(st.refused_ptr, 1);

	/* A string write: completed, nothing written, data left as it was. */
	s = put_req(0, 0, 0x71, 0x12345000, 4, 1, WRITE, 1, 1);
	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_REFUSED_PTR);
	CU_ASSERT_EQUAL(get64(s + 8), 0x12345000);
	CU_ASSERT_EQUAL(f.n, 0);
}

static void test_odd_sizes(void)
{
	struct fake f = { 0 };
	struct dm_ioreq_stats st = { 0 };
	uint8_t *s = put_req(0, 0, 0x70, 0, 1, 3, READ, 0, 1);

	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_REFUSED_SIZE);
	CU_ASSERT_EQUAL(get64(s + 8), 0xffffff);
	s = put_req(0, 0, 0x70, 0, 1, 8, READ, 0, 1);
	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_REFUSED_SIZE);
	CU_ASSERT_EQUAL(get64(s + 8), UINT64_MAX);
	s = put_req(0, 0, 0x70, 0x0e, 1, 8, WRITE, 0, 1);
	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_REFUSED_SIZE);
	CU_ASSERT_EQUAL(state_of(s), 3);
	CU_ASSERT_EQUAL(f.n, 0);
	CU_ASSERT_EQUAL(st.refused_size, 3);
}

static void test_repeat_count(void)
{
	struct fake f = { 0 };
	struct dm_ioreq_stats st = { 0 };

	put_req(0, 0, 0x71, 0x77, 3, 1, WRITE, 0, 1);
	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_OK);
	CU_ASSERT_EQUAL(f.n, 3);
	for (unsigned i = 0; i < 3 && i < f.n; i++) {
		CU_ASSERT_EQUAL(f.calls[i].kind, 'w');
		CU_ASSERT_EQUAL(f.calls[i].val, 0x77);
	}
	CU_ASSERT_EQUAL(st.pio_writes, 3);
}

static void test_vcpu_slots(void)
{
	struct fake f = { .read_value = 0x42 };
	struct dm_ioreq_stats st = { 0 };
	uint8_t *s0 = put_req(0, 0, 0x70, 0x0e, 1, 1, WRITE, 0, 0);
	uint8_t *s1 = put_req(1, 0, 0x71, 0, 1, 1, READ, 0, 1);

	CU_ASSERT_EQUAL(dm_ioreq_vp_eport(page, 0), 40);
	CU_ASSERT_EQUAL(dm_ioreq_vp_eport(page, 1), 41);
	CU_ASSERT_EQUAL(dm_ioreq_state(page, 1), 1);
	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 0, &fake_ops, &f, &st), DM_IOREQ_NOT_READY);
	CU_ASSERT_EQUAL(dm_ioreq_serve(page, 1, &fake_ops, &f, &st), DM_IOREQ_OK);
	CU_ASSERT_EQUAL(state_of(s0), 0);
	CU_ASSERT_EQUAL(state_of(s1), 3);
	CU_ASSERT_EQUAL(get64(s1 + 8), 0x42);
	CU_ASSERT_EQUAL(f.n, 1);
}

/* Companion mode: Xen broadcasts INVALIDATE (type 8) synchronously to every
 * enabled server and the vCPU waits for all of them; rtcdm, next to QEMU,
 * has no map cache and completes it at once without touching the device:
 * the slot is IORESP_READY (3), no device call, no counter moved. */
static void test_invalidate_completed(void)
{
	struct dm_ioreq_stats st = { 0 };
	struct fake f = { 0 };
	enum dm_ioreq_note note;
	uint8_t *slot;

	slot = put_req(0, 8, 0, 0, 1, 0, WRITE, 0, 1);
	note = dm_ioreq_serve(page, 0, &fake_ops, &f, &st);
	CU_ASSERT_EQUAL(note, DM_IOREQ_OK);
	CU_ASSERT_TRUE(state_of(slot) == 3 && f.n == 0);
	CU_ASSERT_EQUAL(st.pio_reads + st.pio_writes + st.timeoffset + st.ignored_type, 0);
}

/* Buffered slot i: u32 word = type | dir << 9 | size code << 10 | addr << 12,
 * then u32 data. */
static void put_buf(unsigned i, uint8_t type, unsigned code, uint32_t addr, uint32_t data)
{
	uint8_t *b = page + 8 + 8 * (i % 511);

	put32(b, (uint32_t)type | (0u << 9) | (code << 10) | (addr << 12));
	put32(b + 4, data);
}

static void test_buffered_ring(void)
{
	struct fake f = { 0 };
	struct dm_ioreq_stats st = { 0 };
	int64_t delta = -3600;

	memset(page, 0, 4096);
	/* Start near the end of the ring: the 8-byte entry wraps 510 -> 0. */
	put32(page + 0, 1019); /* read_pointer: slot 508 */
	put_buf(1019, 0, 0, 0x70, 0x40);  /* PIO write 0x70 <- 0x40 */
	put_buf(1020, 0, 0, 0x71, 0x5a);  /* PIO write 0x71 <- 0x5a */
	put_buf(1021, 7, 3, 0, (uint32_t)(uint64_t)delta);         /* TIMEOFFSET low */
	put_buf(1022, 7, 3, 0, (uint32_t)((uint64_t)delta >> 32)); /* high, in slot 0 */
	put32(page + 4, 1023); /* write_pointer */

	CU_ASSERT_EQUAL(dm_bufioreq_drain(page, &fake_ops, &f, &st), DM_BUFIOREQ_EMPTY);
	CU_ASSERT_EQUAL(get32(page + 0), 1023);
	CU_ASSERT_EQUAL(f.n, 3);
	CU_ASSERT_EQUAL(f.calls[0].kind, 'w');
	CU_ASSERT_EQUAL(f.calls[0].port, 0x70);
	CU_ASSERT_EQUAL(f.calls[0].val, 0x40);
	CU_ASSERT_EQUAL(f.calls[1].port, 0x71);
	CU_ASSERT_EQUAL(f.calls[1].val, 0x5a);
	CU_ASSERT_EQUAL(f.calls[2].kind, 't');
	CU_ASSERT_EQUAL(f.calls[2].delta, -3600);
	CU_ASSERT_EQUAL(st.timeoffset, 1);
	CU_ASSERT_EQUAL(st.buffered, 3);

	/* An empty ring: nothing happens. */
	CU_ASSERT_EQUAL(dm_bufioreq_drain(page, &fake_ops, &f, &st), DM_BUFIOREQ_EMPTY);
	CU_ASSERT_EQUAL(f.n, 3);
	CU_ASSERT_EQUAL(st.buffered, 3);
}

static void test_buffered_positive_delta(void)
{
	struct fake f = { 0 };
	struct dm_ioreq_stats st = { 0 };
	int64_t delta = 31622400; /* one leap year */

	memset(page, 0, 4096);
	put_buf(0, 7, 3, 0, (uint32_t)delta);
	put_buf(1, 7, 3, 0, 0);
	put32(page + 4, 2);
	CU_ASSERT_EQUAL(dm_bufioreq_drain(page, &fake_ops, &f, &st), DM_BUFIOREQ_EMPTY);
	CU_ASSERT_EQUAL(st.buffered, 1);
	CU_ASSERT_EQUAL(f.n, 1);
	CU_ASSERT_EQUAL(f.calls[0].delta, 31622400);
	CU_ASSERT_EQUAL(get32(page + 0), 2);
}

void suite_xen_ioreq(void)
{
	CU_pSuite s = CU_add_suite("xen_ioreq (ioreq slots and buffered ring)", NULL, NULL);

	CU_add_test(s, "PIO write of the index port, stale bits masked", test_write_index_port);
	CU_add_test(s, "PIO read of the data port fills data exactly", test_read_data_port);
	CU_add_test(s, "2-byte read masked to its size", test_read_word_masked);
	CU_add_test(s, "slots not READY are left alone", test_not_ready_untouched);
	CU_add_test(s, "an index write is a ready 1-byte PIO write to 0x70", test_index_write_seen);
	CU_add_test(s, "waiting for the next request ends at its deadline", test_wait_ready);
	CU_add_test(s, "after a wait runs out: 8, 16 ... 1024 index writes without", test_index_wait_backoff);
	CU_add_test(s, "abandoned: pending requests answered as an absent device", test_abandon);
	CU_add_test(s, "string I/O through guest memory is refused", test_string_io_refused);
	CU_add_test(s, "sizes other than 1, 2, 4 read ~0, writes dropped", test_odd_sizes);
	CU_add_test(s, "count > 1 repeats the access", test_repeat_count);
	CU_add_test(s, "each vCPU has its own 32-byte slot", test_vcpu_slots);
	CU_add_test(s, "INVALIDATE is completed at once", test_invalidate_completed);
	CU_add_test(s, "buffered ring: writes and a wrapped TIMEOFFSET", test_buffered_ring);
	CU_add_test(s, "buffered ring: positive TIMEOFFSET delta", test_buffered_positive_delta);
}
#else
void suite_xen_ioreq(void)
{
	/* The Xen platform is not built without the Xen libraries. */
}
#endif
