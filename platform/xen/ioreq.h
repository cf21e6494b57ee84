/*
 * ioreq.h — serving Xen's ioreq pages: the synchronous per-vCPU slots
 * and the buffered ring, on memory the caller has mapped.
 *
 * Nothing here makes a hypercall: the platform maps the pages and signals
 * event channels; these functions only read and complete requests, so they
 * run unchanged on plain memory laid out as Xen lays the pages out
 * (xen/include/public/hvm/ioreq.h).
 *
 * Synchronous slot (ioreq_t, 32 bytes, one per vCPU, 128 per page):
 *   u64 addr @0, u64 data @8, u32 count @16, u32 size @20, u32 vp_eport @24,
 *   byte @30: state bits 0-3, data_is_ptr bit 4, dir bit 5 (1 = read),
 *   df bit 6; u8 type @31.
 * Buffered page: u32 read_pointer @0, u32 write_pointer @4, then 511 slots
 *   of 8 bytes: little-endian u32 word @0 = type (bits 0-7), dir (bit 9),
 *   size code (bits 10-11: 1 << code bytes), addr (bits 12-31); u32 data @4.
 *   An 8-byte request takes two slots, the high half in the second.
 */
#ifndef RTCDM_DM_IOREQ_XEN_H
#define RTCDM_DM_IOREQ_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/platform.h"

#define DM_IOREQ_SLOT_SIZE 32u
#define DM_IOREQ_PER_PAGE 128u
#define DM_BUFIOREQ_SLOTS 511u

/* Counters of what was served, and what was refused (for one log line
 * each instead of a line per request). */
struct dm_ioreq_stats {
	uint64_t pio_reads, pio_writes;
	uint64_t buffered;        /* buffered-ring entries consumed */
	uint64_t timeoffset;      /* TIMEOFFSET notifications */
	uint64_t refused_ptr;     /* rep ins/outs through guest memory */
	uint64_t refused_size;    /* PIO of a size other than 1, 2, 4 */
	uint64_t ignored_type;    /* request types a port device does not serve */
	uint64_t refused_ring;    /* drains refused: pointers more than 511 apart */
	uint64_t wait_caught;     /* data accesses taken while waiting after an index write */
	uint64_t wait_missed;     /* waits that ran out */
};

/* What a served request asks the caller to report (first occurrence). */
enum dm_ioreq_note {
	DM_IOREQ_OK = 0,
	DM_IOREQ_NOT_READY,   /* the slot holds no request */
	DM_IOREQ_REFUSED_PTR, /* data_is_ptr: completed, reads give ~0 in data */
	DM_IOREQ_REFUSED_SIZE,
	DM_IOREQ_IGNORED_TYPE,
};

/*
 * Serve the synchronous request of vCPU `vcpu` in the shared page(s)
 * `shared` (contiguous, DM_IOREQ_PER_PAGE slots per 4 KiB): READY ->
 * INPROCESS (after a read barrier) -> device -> write barrier ->
 * IORESP_READY.  The caller then notifies the vCPU's event channel unless
 * DM_IOREQ_NOT_READY is returned.
 *
 * Port reads and writes go to dev_ops (size 1, 2 or 4; the device splits
 * byte lanes).  count > 1 without data_is_ptr repeats the access (the last
 * read stays in data).  data_is_ptr requests (rep ins/outs through guest
 * memory) are completed without touching memory; a read puts ~0 in data.
 * Other sizes read ~0 (masked to the size, up to 8 bytes) and drop writes.
 */
enum dm_ioreq_note dm_ioreq_serve(void *shared, unsigned vcpu, const struct dm_device_ops *ops,
                                  void *dev, struct dm_ioreq_stats *stats);

/*
 * The server of these pages lost the process that served it (companion
 * mode's serving part was killed): complete vCPU `vcpu`'s request, if one
 * is pending (READY or INPROCESS), as an absent device does: a read gets
 * all ones (masked to its size; through guest memory: nothing written), a
 * write is dropped; IORESP_READY after a write barrier.  true when the
 * caller must notify the vCPU.
 */
bool dm_ioreq_abandon(void *shared, unsigned vcpu);

/* Whether vCPU `vcpu`'s slot holds a ready port write of one byte to
 * `port` (read before serving it). */
bool dm_ioreq_is_write_to(const void *shared, unsigned vcpu, uint16_t port);

/* Spin (a pause each time) until vCPU `vcpu`'s slot holds a ready request,
 * at most until CLOCK_MONOTONIC reaches deadline_ns: true when it does. */
bool dm_ioreq_wait_ready(const void *shared, unsigned vcpu, uint64_t deadline_ns);

/*
 * When to wait after an index write.  A wait that runs out makes the next
 * DM_INDEX_SKIP_MIN index writes go without, twice as many after each
 * further wait that runs out (up to DM_INDEX_SKIP_MAX), and one that
 * catches the access brings that back to the least: a guest that is slow
 * now and then loses little, one that writes the index alone costs one
 * wait in about a thousand of its writes.
 */
#define DM_INDEX_SKIP_MIN 8u
#define DM_INDEX_SKIP_MAX 1024u
struct dm_index_wait {
	unsigned skip;    /* index writes still to go without a wait */
	unsigned backoff; /* the next skip, should a wait run out */
};
void dm_index_wait_init(struct dm_index_wait *w);
/* At an index write: whether to wait for the access after it. */
bool dm_index_wait_due(struct dm_index_wait *w);
/* The wait's outcome: it caught the access, or ran out. */
void dm_index_wait_done(struct dm_index_wait *w, bool caught);

/* The state nibble of vCPU `vcpu`'s slot (0 none, 1 ready, 2 in process,
 * 3 response ready). */
unsigned dm_ioreq_state(const void *shared, unsigned vcpu);
/* The event channel Xen notifies for vCPU `vcpu` (valid once the server
 * is enabled). */
uint32_t dm_ioreq_vp_eport(const void *shared, unsigned vcpu);

/* How a drain of the buffered ring ended. */
enum dm_bufioreq_end {
	DM_BUFIOREQ_EMPTY = 0,    /* every published entry consumed */
	DM_BUFIOREQ_PARTIAL,      /* only the first half of an 8-byte entry is
	                           * published: left for the next drain */
	DM_BUFIOREQ_BAD_POINTERS, /* write_pointer - read_pointer > 511: refused,
	                           * nothing consumed (counted in refused_ring) */
};

/*
 * Consume the entries of the buffered ring `page`, one at a time: read the
 * pointer pair with one 64-bit atomic load (as HVM_IOREQSRV_BUFIOREQ_ATOMIC
 * requires: Xen rebases both pointers together by a multiple of 511), stop
 * when they are equal, refuse a pair more than 511 slots apart, consume an
 * entry (slot = pointer % 511; an 8-byte entry only once both of its slots
 * are published) and advance read_pointer with an atomic add.  PIO writes go
 * to ops->pio_write; TIMEOFFSET (type 7, 8 bytes: signed delta seconds) to
 * ops->time_offset_delta.  Entries are counted in stats->buffered.  Runs on
 * plain memory laid out as the page.
 */
enum dm_bufioreq_end dm_bufioreq_drain(void *page, const struct dm_device_ops *ops, void *dev,
                                       struct dm_ioreq_stats *stats);

#endif
