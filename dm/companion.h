/*
 * companion.h — companion mode (--companion): rtcdm is the process libxl
 * starts and runs qemu-xen as its child (dm/qemu_child.h), serving libxl's
 * QMP monitors itself and relaying them to QEMU (toolstack/qmp/proxy.h).
 *
 * What exists (docs/design.md, "Companion mode (in progress)"): the child
 * with its argument list, signals and exit status; libxl's control monitors
 * (-mon mode=control on a -chardev socket server, by path or pre-opened
 * fd) served by rtcdm and relayed, with QEMU's copies on sockets in rtcdm's
 * private directory; the hook points for save, restore and readiness.
 * What does not yet: rtcdm's own ioreq server after QEMU's, CMOS seeding
 * from QEMU, anything on real Xen.
 */
#ifndef RTCDM_DM_COMPANION_H
#define RTCDM_DM_COMPANION_H

#include "base/log.h"
#include "base/loop.h"
#include "dm/cli.h"

/* Run companion mode until QEMU ends; returns the process exit status
 * (QEMU's, or 1 with a logged reason when it could not be started). */
int dm_companion_run(struct dm_loop *loop, const struct dm_log *log,
                     const struct dm_config *cfg, int argc, char *const argv[]);

#endif
