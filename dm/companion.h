/*
 * companion.h — companion mode (docs/design.md, "Companion mode"): rtcdm is
 * the process libxl starts for an HVM domain, the supervisor.  It runs
 * qemu-xen as its child (dm/qemu_child.h), serves libxl's QMP monitors and
 * relays them to QEMU (toolstack/qmp/proxy.h), reads QEMU's CMOS, and runs
 * rtcdm's RTC in a process of its own (dm/serving.h), whose ioreq server
 * takes ports 0x70-0x71 over from QEMU's.  At a save it brings QEMU's CMOS
 * up to date and appends rtcdm's image to QEMU's stream; should the serving
 * part end, it gives the ports back to QEMU (platform.h: dm_rescue).
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
