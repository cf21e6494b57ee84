/* ioreq.c — serving Xen's synchronous ioreq slots and buffered ring. */
#include "platform/xen/ioreq.h"
#include "base/loop.h"

#include <stddef.h>
#include <string.h>

#include <xenctrl.h>
#include <xen/hvm/ioreq.h>

_Static_assert(sizeof(ioreq_t) == DM_IOREQ_SLOT_SIZE, "ioreq_t is 32 bytes");
_Static_assert(sizeof(buf_ioreq_t) == 8, "buf_ioreq_t is 8 bytes");
_Static_assert(sizeof(buffered_iopage_t) <= 4096, "buffered page fits a page");
_Static_assert(IOREQ_BUFFER_SLOT_NUM == DM_BUFIOREQ_SLOTS, "511 buffered slots");
_Static_assert(offsetof(buffered_iopage_t, read_pointer) == 0 &&
                       offsetof(buffered_iopage_t, write_pointer) == 4,
               "the pointer pair is one aligned 64-bit word, read_pointer low");

static volatile ioreq_t *slot(void *shared, unsigned vcpu)
{
	return &((volatile ioreq_t *)shared)[vcpu];
}

unsigned dm_ioreq_state(const void *shared, unsigned vcpu)
{
	return ((const volatile ioreq_t *)shared)[vcpu].state;
}

uint32_t dm_ioreq_vp_eport(const void *shared, unsigned vcpu)
{
	return ((const volatile ioreq_t *)shared)[vcpu].vp_eport;
}

bool dm_ioreq_is_write_to(const void *shared, unsigned vcpu, uint16_t port)
{
	const volatile ioreq_t *req = &((const volatile ioreq_t *)shared)[vcpu];

	if (req->state != STATE_IOREQ_READY)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return req->type == IOREQ_TYPE_PIO && req->dir == IOREQ_WRITE && !req->data_is_ptr &&
	       req->size == 1 && req->addr == port;
}

bool dm_ioreq_wait_ready(const void *shared, unsigned vcpu, uint64_t deadline_ns)
{
	for (unsigned spin = 1;; spin++) {
		if (dm_ioreq_state(shared, vcpu) == STATE_IOREQ_READY)
			return true;
		__builtin_ia32_pause();
		if (spin % 64 == 0 && dm_monotonic_ns() >= deadline_ns)
			return dm_ioreq_state(shared, vcpu) == STATE_IOREQ_READY;
	}
}

void dm_index_wait_init(struct dm_index_wait *w)
{
	w->skip = 0;
	w->backoff = DM_INDEX_SKIP_MIN;
}

bool dm_index_wait_due(struct dm_index_wait *w)
{
	if (!w->skip)
		return true;
	w->skip--;
	return false;
}

void dm_index_wait_done(struct dm_index_wait *w, bool caught)
{
	if (caught) {
		w->backoff = DM_INDEX_SKIP_MIN;
		return;
	}
	w->skip = w->backoff;
	if (w->backoff < DM_INDEX_SKIP_MAX)
		w->backoff *= 2;
}

static uint64_t size_mask(uint32_t size)
{
	return size >= 8 ? UINT64_MAX : (((uint64_t)1 << (8 * size)) - 1);
}

static enum dm_ioreq_note serve_pio(volatile ioreq_t *req, const struct dm_device_ops *ops,
                                    void *dev, struct dm_ioreq_stats *st)
{
	uint32_t size = req->size, count = req->count;
	bool read = req->dir == IOREQ_READ;
	uint16_t port = (uint16_t)req->addr;

	if (req->data_is_ptr) {
		/* rep ins/outs through guest memory: a CMOS has no use for it. */
		st->refused_ptr++;
		if (read)
			req->data = ~(uint64_t)0;
		return DM_IOREQ_REFUSED_PTR;
	}
	if (size != 1 && size != 2 && size != 4) {
		st->refused_size++;
		if (read)
			req->data = size_mask(size > 8 ? 8 : size);
		return DM_IOREQ_REFUSED_SIZE;
	}
	if (count == 0)
		count = 1;
	if (read) {
		uint32_t v = 0;

		for (uint32_t i = 0; i < count; i++)
			v = ops->pio_read(dev, port, size);
		req->data = v & size_mask(size);
		st->pio_reads += count;
	} else {
		uint32_t v = (uint32_t)(req->data & size_mask(size));

		for (uint32_t i = 0; i < count; i++)
			ops->pio_write(dev, port, size, v);
		st->pio_writes += count;
	}
	return DM_IOREQ_OK;
}

enum dm_ioreq_note dm_ioreq_serve(void *shared, unsigned vcpu, const struct dm_device_ops *ops,
                                  void *dev, struct dm_ioreq_stats *stats)
{
	volatile ioreq_t *req = slot(shared, vcpu);
	enum dm_ioreq_note note;

	if (req->state != STATE_IOREQ_READY)
		return DM_IOREQ_NOT_READY;
	/* Read the request only after seeing READY. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	req->state = STATE_IOREQ_INPROCESS;

	switch (req->type) {
	case IOREQ_TYPE_PIO:
		note = serve_pio(req, ops, dev, stats);
		break;
	case IOREQ_TYPE_TIMEOFFSET:
		/* Only sent through the buffered ring, but harmless here. */
		stats->timeoffset++;
		if (ops->time_offset_delta)
			ops->time_offset_delta(dev, (int64_t)req->data);
		note = DM_IOREQ_OK;
		break;
	case IOREQ_TYPE_INVALIDATE:
		/* No map cache to invalidate. */
		note = DM_IOREQ_OK;
		break;
	default:
		/* MMIO and PCI config are never routed to a port-only server;
		 * reads of anything else complete as ~0 like an empty bus. */
		stats->ignored_type++;
		if (req->dir == IOREQ_READ && !req->data_is_ptr)
			req->data = ~(uint64_t)0;
		note = DM_IOREQ_IGNORED_TYPE;
		break;
	}
	/* The response must be visible before the state says so. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	req->state = STATE_IORESP_READY;
	return note;
}

bool dm_ioreq_abandon(void *shared, unsigned vcpu)
{
	volatile ioreq_t *req = slot(shared, vcpu);
	uint8_t state = req->state;

	if (state != STATE_IOREQ_READY && state != STATE_IOREQ_INPROCESS)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (req->dir == IOREQ_READ && !req->data_is_ptr)
		req->data = size_mask(req->size ? req->size : 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	req->state = STATE_IORESP_READY;
	return true;
}

/* The pointer pair as one 64-bit load: read_pointer is the low half (x86,
 * little-endian).  Xen rebases both together with one 64-bit exchange, so
 * two separate loads could see one before and one after a rebase. */
static void load_pointers(buffered_iopage_t *bp, uint32_t *rp, uint32_t *wp)
{
	uint64_t pair = __atomic_load_n((uint64_t *)(void *)&bp->read_pointer, __ATOMIC_ACQUIRE);

	*rp = (uint32_t)pair;
	*wp = (uint32_t)(pair >> 32);
}

static void apply_buffered(const volatile buf_ioreq_t *b, unsigned size, uint64_t data,
                           const struct dm_device_ops *ops, void *dev,
                           struct dm_ioreq_stats *stats)
{
	switch (b->type) {
	case IOREQ_TYPE_TIMEOFFSET:
		stats->timeoffset++;
		if (ops->time_offset_delta)
			ops->time_offset_delta(dev, (int64_t)data);
		break;
	case IOREQ_TYPE_PIO:
		if (b->dir == IOREQ_WRITE && size <= 4) {
			ops->pio_write(dev, (uint16_t)b->addr, size, (uint32_t)data);
			stats->pio_writes++;
		} else {
			stats->refused_size++;
		}
		break;
	case IOREQ_TYPE_INVALIDATE:
		break;
	default:
		stats->ignored_type++;
		break;
	}
}

enum dm_bufioreq_end dm_bufioreq_drain(void *page, const struct dm_device_ops *ops, void *dev,
                                       struct dm_ioreq_stats *stats)
{
	buffered_iopage_t *bp = page;

	for (;;) {
		uint32_t rp, wp;

		load_pointers(bp, &rp, &wp);
		if (rp == wp)
			return DM_BUFIOREQ_EMPTY;
		if (wp - rp > IOREQ_BUFFER_SLOT_NUM) {
			stats->refused_ring++;
			return DM_BUFIOREQ_BAD_POINTERS;
		}

		volatile buf_ioreq_t *b = &bp->buf_ioreq[rp % IOREQ_BUFFER_SLOT_NUM];
		unsigned size = 1u << b->size;
		uint64_t data = b->data;
		uint32_t used = 1;

		if (size == 8) {
			/* Xen publishes both halves with one write_pointer
			 * update; a ring that shows one is not ours to finish. */
			if (wp - rp < 2)
				return DM_BUFIOREQ_PARTIAL;
			data |= (uint64_t)bp->buf_ioreq[(rp + 1) % IOREQ_BUFFER_SLOT_NUM].data << 32;
			used = 2;
		}
		apply_buffered(b, size, data, ops, dev, stats);
		stats->buffered++;
		/* An add, not a store: Xen may rebase both pointers meanwhile.
		 * Release: the slots are read before Xen may reuse them. */
		__atomic_fetch_add(&bp->read_pointer, used, __ATOMIC_RELEASE);
	}
}
