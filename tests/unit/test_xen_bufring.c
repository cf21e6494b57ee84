/*
 * platform/xen/ioreq.c: the buffered ring against a producer that follows
 * Xen's protocol (hvm_send_buffered_ioreq with HVM_IOREQSRV_BUFIOREQ_ATOMIC),
 * on a plain page laid out byte by byte as xen/include/public/hvm/ioreq.h
 * lays it out: u32 read_pointer @0, u32 write_pointer @4, 511 slots of 8
 * bytes from @8.
 *
 * The producer, per entry: wait while write_pointer - read_pointer leaves
 * no room (>= 511 - extra slot of an 8-byte entry), write the slot(s),
 * barrier, advance write_pointer, then rebase: while read_pointer >= 511,
 * subtract the same multiple of 511 from both pointers with one 64-bit
 * compare-and-exchange.  The test is bounded by a count of entries, not by
 * time: the consumer drains until every produced entry arrived.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

void suite_xen_bufring(void);

#if RTCDM_HAVE_XEN
#include <pthread.h>
#include <sched.h>

#include "platform/xen/ioreq.h"

#define SLOTS 511u
#define ENTRIES 200000u
#define TYPE_PIO 0u
#define TYPE_TIMEOFFSET 7u
#define RTC_PORT 0x70u

static _Alignas(4096) uint8_t ring[4096];

static uint64_t *pair_word(void)
{
	return (uint64_t *)(void *)ring;
}

static uint32_t *pointer(unsigned which)
{
	return (uint32_t *)(void *)(ring + 4 * which);
}

/* Slot word: type bits 0-7, dir bit 9 (0 = write), size code bits 10-11,
 * addr bits 12-31; then the u32 data. */
static void put_slot(uint32_t ptr, uint32_t type, uint32_t code, uint32_t addr, uint32_t data)
{
	uint32_t *s = (uint32_t *)(void *)(ring + 8 + 8 * (ptr % SLOTS));

	__atomic_store_n(&s[0], type | code << 10 | addr << 12, __ATOMIC_RELAXED);
	__atomic_store_n(&s[1], data, __ATOMIC_RELAXED);
}

/* Entry i: every third a 4-byte PIO write of i, the others an 8-byte
 * TIMEOFFSET whose delta uses both halves and both signs. */
static bool entry_is_pio(uint32_t i)
{
	return i % 3 == 2;
}

static int64_t entry_delta(uint32_t i)
{
	int64_t d = (int64_t)i << 20 | i;

	return (i & 1) ? -d : d;
}

/* ---- the producer, as Xen ----------------------------------------------------------- */

struct producer {
	uint32_t produced;
	uint64_t rebases;
	bool stop; /* set by the consumer when it gives up */
};

static void rebase(struct producer *p, unsigned qw)
{
	/* Xen's loop: at most 511 attempts, each one 64-bit exchange. */
	while (qw++ < SLOTS) {
		uint64_t old = __atomic_load_n(pair_word(), __ATOMIC_ACQUIRE);
		uint32_t rp = (uint32_t)old, wp = (uint32_t)(old >> 32);
		uint32_t n = rp / SLOTS;
		uint64_t now;

		if (rp < SLOTS)
			return;
		now = (uint64_t)(wp - n * SLOTS) << 32 | (rp - n * SLOTS);
		if (__atomic_compare_exchange_n(pair_word(), &old, now, false, __ATOMIC_SEQ_CST,
		                                __ATOMIC_SEQ_CST))
			p->rebases++;
	}
}

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (uint32_t i = 0; i < ENTRIES; i++) {
		unsigned qw = entry_is_pio(i) ? 0 : 1;
		uint32_t rp, wp;

		for (;;) {
			uint64_t pair = __atomic_load_n(pair_word(), __ATOMIC_ACQUIRE);

			rp = (uint32_t)pair;
			wp = (uint32_t)(pair >> 32);
			if (wp - rp < SLOTS - qw)
				break;
			if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
				return NULL;
			sched_yield();
		}
		if (qw) {
			uint64_t d = (uint64_t)entry_delta(i);

			put_slot(wp, TYPE_TIMEOFFSET, 3, 0, (uint32_t)d);
			put_slot(wp + 1, TYPE_TIMEOFFSET, 3, 0, (uint32_t)(d >> 32));
		} else {
			put_slot(wp, TYPE_PIO, 2, RTC_PORT, i);
		}
		/* The slots are visible before write_pointer says so; only the
		 * producer writes write_pointer. */
		__atomic_store_n(pointer(1), wp + 1 + qw, __ATOMIC_RELEASE);
		__atomic_store_n(&p->produced, i + 1, __ATOMIC_RELEASE);
		rebase(p, qw);
	}
	return NULL;
}

/* ---- the consumer's device: checks order and count ---------------------------------- */

struct checker {
	uint32_t next;     /* index of the entry expected next */
	uint32_t mismatch; /* entries that were not the expected one */
	uint32_t first_bad;
};

static void check(struct checker *c, bool ok)
{
	if (!ok && c->mismatch++ == 0)
		c->first_bad = c->next;
	c->next++;
}

static void c_write(void *d, uint16_t port, unsigned size, uint32_t val)
{
	struct checker *c = d;

	check(c, entry_is_pio(c->next) && port == RTC_PORT && size == 4 && val == c->next);
}

static void c_delta(void *d, int64_t delta)
{
	struct checker *c = d;

	check(c, !entry_is_pio(c->next) && delta == entry_delta(c->next));
}

static uint32_t c_read(void *d, uint16_t port, unsigned size)
{
	(void)d;
	(void)port;
	(void)size;
	return 0;
}

static void c_timer(void *d)
{
	(void)d;
}

static const struct dm_device_ops checker_ops = {
	.pio_read = c_read,
	.pio_write = c_write,
	.timer_expired = c_timer,
	.time_offset_delta = c_delta,
};

static void test_producer_with_rebase(void)
{
	struct producer p = { 0 };
	struct checker c = { 0 };
	struct dm_ioreq_stats st = { 0 };
	enum dm_bufioreq_end end = DM_BUFIOREQ_EMPTY;
	pthread_t t;

	memset(ring, 0, sizeof(ring));
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, produce, &p), 0);
	/* Poll until every entry arrived, or a drain refuses the ring. */
	while (c.next < ENTRIES && c.mismatch == 0) {
		end = dm_bufioreq_drain(ring, &checker_ops, &c, &st);
		if (end == DM_BUFIOREQ_BAD_POINTERS)
			break;
		if (c.next < __atomic_load_n(&p.produced, __ATOMIC_ACQUIRE))
			continue;
		sched_yield();
	}
	__atomic_store_n(&p.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);

	CU_ASSERT_NOT_EQUAL(end, DM_BUFIOREQ_BAD_POINTERS);
	CU_ASSERT_EQUAL(c.mismatch, 0);
	if (c.mismatch)
		fprintf(stderr, "\n  first entry out of order: %u\n", c.first_bad);
	CU_ASSERT_EQUAL(p.produced, ENTRIES);
	CU_ASSERT_EQUAL(c.next, ENTRIES);
	CU_ASSERT_EQUAL(st.buffered, ENTRIES);
	CU_ASSERT_EQUAL(st.pio_writes, ENTRIES / 3);
	CU_ASSERT_EQUAL(st.timeoffset, ENTRIES - ENTRIES / 3);
	CU_ASSERT_EQUAL(st.refused_ring, 0);
	/* The ring ends empty, and Xen kept both pointers below 2 * 511. */
	CU_ASSERT_EQUAL(*pointer(0), *pointer(1));
	CU_ASSERT_TRUE(*pointer(0) < 2 * SLOTS);
	CU_ASSERT_TRUE(p.rebases > 0);
}

static void set_pointers(uint32_t rp, uint32_t wp)
{
	*pointer(0) = rp;
	*pointer(1) = wp;
}

static void test_half_entry_waits(void)
{
	struct checker c = { 0 };
	struct dm_ioreq_stats st = { 0 };
	int64_t d = entry_delta(0);

	memset(ring, 0, sizeof(ring));
	/* Only the low half of an 8-byte entry is published (at the ring's
	 * last slot, so the high half wraps to slot 0). */
	put_slot(510, TYPE_TIMEOFFSET, 3, 0, (uint32_t)(uint64_t)d);
	set_pointers(510, 511);
	CU_ASSERT_EQUAL(dm_bufioreq_drain(ring, &checker_ops, &c, &st), DM_BUFIOREQ_PARTIAL);
	CU_ASSERT_EQUAL(c.next, 0);
	CU_ASSERT_EQUAL(st.buffered, 0);
	CU_ASSERT_EQUAL(*pointer(0), 510);

	/* The rest arrives: the entry is applied once, whole. */
	put_slot(511, TYPE_TIMEOFFSET, 3, 0, (uint32_t)((uint64_t)d >> 32));
	set_pointers(510, 512);
	CU_ASSERT_EQUAL(dm_bufioreq_drain(ring, &checker_ops, &c, &st), DM_BUFIOREQ_EMPTY);
	CU_ASSERT_EQUAL(c.next, 1);
	CU_ASSERT_EQUAL(c.mismatch, 0);
	CU_ASSERT_EQUAL(st.timeoffset, 1);
	CU_ASSERT_EQUAL(*pointer(0), 512);
}

static void test_pointers_too_far_apart(void)
{
	static const uint32_t pairs[][2] = {
		{ 0, 512 },        /* one slot more than the ring holds */
		{ 1000, 5 },       /* read ahead of write: a torn read after a rebase */
		{ 0, 0x80000000u },
	};

	for (unsigned i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct checker c = { 0 };
		struct dm_ioreq_stats st = { 0 };

		memset(ring, 0, sizeof(ring));
		set_pointers(pairs[i][0], pairs[i][1]);
		CU_ASSERT_EQUAL(dm_bufioreq_drain(ring, &checker_ops, &c, &st),
		                DM_BUFIOREQ_BAD_POINTERS);
		CU_ASSERT_EQUAL(c.next, 0);
		CU_ASSERT_EQUAL(st.buffered, 0);
		CU_ASSERT_EQUAL(st.refused_ring, 1);
		CU_ASSERT_EQUAL(*pointer(0), pairs[i][0]);
		CU_ASSERT_EQUAL(*pointer(1), pairs[i][1]);
	}
}

static void test_full_ring_consumed(void)
{
	struct checker c = { 0 };
	struct dm_ioreq_stats st = { 0 };

	memset(ring, 0, sizeof(ring));
	/* 511 published slots, the most Xen writes: all consumed (entries
	 * 0..510, each a 4-byte PIO write of its index; only counted). */
	for (uint32_t k = 0; k < SLOTS; k++)
		put_slot(700 + k, TYPE_PIO, 2, RTC_PORT, k);
	set_pointers(700, 700 + SLOTS);
	CU_ASSERT_EQUAL(dm_bufioreq_drain(ring, &checker_ops, &c, &st), DM_BUFIOREQ_EMPTY);
	CU_ASSERT_EQUAL(st.buffered, SLOTS);
	CU_ASSERT_EQUAL(st.pio_writes, SLOTS);
	CU_ASSERT_EQUAL(c.next, SLOTS);
	CU_ASSERT_EQUAL(st.refused_ring, 0);
	CU_ASSERT_EQUAL(*pointer(0), 700 + SLOTS);
}

void suite_xen_bufring(void)
{
	CU_pSuite s = CU_add_suite("xen_bufring (buffered ring against Xen's producer)", NULL, NULL);

	CU_add_test(s, "200000 entries with Xen's rebase: each applied once, in order",
	            test_producer_with_rebase);
	CU_add_test(s, "half of an 8-byte entry waits for the rest", test_half_entry_waits);
	CU_add_test(s, "pointers more than 511 apart are refused, nothing consumed",
	            test_pointers_too_far_apart);
	CU_add_test(s, "a full ring (511 slots) is consumed", test_full_ring_consumed);
}
#else
void suite_xen_bufring(void)
{
}
#endif
