/*
 * control.h — the device model towards the toolstack: run states, save and
 * load, the offset (struct dm_ops), served over QMP (every -chardev socket
 * with a -mon mode=control) and the xenstore device-model protocol, plus
 * the battery-backed CMOS and the start-up restore.
 *
 * Start-up, in order (dm/main.c; companion mode, dm/companion.c, the same
 * with dm_ctl_restore_image, no QMP listeners of its own and only the
 * rtc/ nodes in xenstore):
 *   dm_ctl_init         store (libxenstore on the xen platform, the
 *                       directory store with --sim-xenstore), domain UUID
 *                       (-uuid, else /local/domain/<domid>/vm), battery;
 *   dm_ctl_restore      image (-incoming fd:N, --restore, -loadvm) or
 *                       battery file, with the toolstack offset, -rtc base
 *                       and the hypervisor's offset: one restore flow
 *                       (dm_device_restore, the offset decided once by
 *                       dm_offset_decide); run state prelaunch / paused /
 *                       running;
 *   dm_ctl_serve        QMP listeners and xenstore watches in the loop;
 *   dm_ctl_ready        state "running" in xenstore once the guest runs
 *                       (at once, or at the first cont with -S).
 */
#ifndef RTCDM_DM_CONTROL_H
#define RTCDM_DM_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "dm/battery.h"
#include "dm/cli.h"
#include "dm/device.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/throttle.h"
#include "platform/platform.h"
#include "toolstack/dm_ops.h"
#include "toolstack/qmp/server.h"
#include "toolstack/xenstore/protocol.h"
#include "toolstack/xenstore/store.h"

#define DM_UUID_STR_LEN 36
#define DM_CTL_PUBLISH_INTERVAL_NS 100000000ull     /* xenstore: latest offset within 100 ms */
#define DM_CTL_RTC_CHANGE_INTERVAL_NS 1000000000ull /* RTC_CHANGE: one a second, as QEMU */

struct dm_ctl {
	const struct dm_config *cfg;
	struct dm_loop *loop;
	struct dm_platform *plat;
	struct dm_device *dev;
	const struct dm_log *log;
	enum dm_run_state state;
	bool announced;          /* xenstore state "running" written once */
	char uuid[DM_UUID_STR_LEN + 1];
	bool have_uuid;
	/* QMP */
	struct qmp_server *qmp;
	struct qmp_chardev_info chardevs[DM_MAX_CHARDEVS];
	char chardev_names[DM_MAX_CHARDEVS][160];
	struct dm_timer qmp_alarm;    /* closes idle QMP connections */
	bool qmp_alarm_ready;
	/* xenstore */
	struct store *store;
	struct toolstack *ts;
	bool store_watched;
	/* battery-backed CMOS */
	struct dm_battery battery;
	/* guest offset changes towards xenstore and QMP */
	struct dm_ratelimit publish_limit;
	struct dm_ratelimit rtc_change_limit;
	bool limits_ready;
};

/* The operations QMP and xenstore carry out (opaque: struct dm_ctl). */
extern const struct dm_ops dm_ctl_ops;

/* 0, or 1 with a one-line reason in err. */
int dm_ctl_init(struct dm_ctl *c, const struct dm_config *cfg, struct dm_loop *loop,
                struct dm_platform *plat, struct dm_device *dev, const struct dm_log *log,
                char *err, size_t errlen);
/* Load the saved state and decide the offset.  0, or 1 with the loader's
 * message in err (a refused image: the process must exit). */
int dm_ctl_restore(struct dm_ctl *c, char *err, size_t errlen);
/* Companion mode: the same with rtcdm's part of the incoming context
 * (image, already validated; NULL: none, the battery file is read).
 * *kept: the NVRAM came from the image or the battery file (QEMU's
 * configuration bytes are merged into it, dm/handover.h). */
int dm_ctl_restore_image(struct dm_ctl *c, const struct sr_image *image, const char *what,
                         bool *kept, char *err, size_t errlen);
/* The guest's offset from -rtc base=localtime|DATE (not toolstack-set). */
int64_t dm_ctl_base_offset(const struct dm_config *cfg, struct dm_platform *plat);
/* Open the QMP sockets and the xenstore watches.  0, or 1 with err. */
int dm_ctl_serve(struct dm_ctl *c, char *err, size_t errlen);
/* The process is set up: announce readiness when running.  0, or 1 with err. */
int dm_ctl_ready(struct dm_ctl *c, char *err, size_t errlen);
/* Flush the battery, send what QMP clients still wait for, close all. */
void dm_ctl_fini(struct dm_ctl *c);

#endif
