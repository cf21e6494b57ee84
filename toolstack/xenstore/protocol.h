/*
 * toolstack.h — the xenstore side of the device-model protocol.
 *
 * Nodes (D = /local/domain/0/device-model/<domid>):
 *   D/state                 written "running" when the process is ready,
 *                           "paused" after a "save" command, "running"
 *                           after "continue".
 *   D/command               watched (the qemu-xen-traditional protocol):
 *                           "save" stops the guest, writes its device state
 *                           to /var/lib/xen/qemu-save.<domid> and sets state
 *                           "paused"; "continue" resumes it and sets state
 *                           "running".  The node is removed once read, for
 *                           every value; an unknown command is logged.  A
 *                           failed save is logged, the guest is resumed and
 *                           state stays "running".
 *   D/rtc/timeoffset        the guest's offset in decimal seconds, published
 *   /vm/<uuid>/rtc/timeoffset  whenever it changes (the second only when the
 *                           UUID is known).
 *   D/rtc/settimeoffset     watched: a decimal integer in
 *                           [DM_OFFSET_MIN, DM_OFFSET_MAX] (int32, as libxc)
 *                           is applied with dm_ops.set_offset and the node
 *                           removed as acknowledgement.  Any other value is
 *                           refused with a one-line log message, changes
 *                           nothing, and the node is removed as well, so a
 *                           bad value neither lingers nor is retried.
 */
#ifndef RTCDM_TOOLSTACK_H
#define RTCDM_TOOLSTACK_H

#include <stdbool.h>
#include <stdint.h>

#include "toolstack/dm_ops.h"
#include "toolstack/xenstore/store.h"

struct toolstack_config {
	unsigned domid;
	const char *uuid;      /* NULL: not known, /vm/<uuid> is not published */
	const char *save_path; /* NULL: /var/lib/xen/qemu-save.<domid> */
	const struct dm_ops *ops;
	void *opaque;
	/* Companion mode: QEMU is the device model libxl knows and writes
	 * D/state; rtcdm keeps only the rtc/ nodes (no D/command watch, no
	 * state written). */
	bool rtc_nodes_only;
};

struct toolstack;

/* Registers the watches on D/command and D/rtc/settimeoffset (the store is
 * borrowed: it must outlive the toolstack).  NULL with a reason in err. */
struct toolstack *toolstack_new(struct store *st, const struct toolstack_config *cfg, char *err,
                                size_t errlen);
/* Removes the watches; NULL is fine. */
void toolstack_free(struct toolstack *ts);

/* The descriptor to poll (POLLIN) and what to call when it is readable:
 * processes pending command / settimeoffset requests.  0, or -1 once the
 * watch events cannot be read (logged once; every later call returns -1
 * at once): the caller stops polling the descriptor. */
int toolstack_fd(const struct toolstack *ts);
int toolstack_handle(struct toolstack *ts);

/* The process is ready (guest state loaded): publish the offset and write
 * state "running" (rtc_nodes_only: publish only).  0 or -1 with err. */
int toolstack_ready(struct toolstack *ts, char *err, size_t errlen);

/* The offset changed (or might have): publish it when it differs from the
 * last value published.  0 or -1 (logged). */
int toolstack_publish_offset(struct toolstack *ts, int64_t seconds);

/* The node paths, for tests and logs. */
const char *toolstack_dm_path(const struct toolstack *ts);

#endif
