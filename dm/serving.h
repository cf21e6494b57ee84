/*
 * serving.h — companion mode's serving part: rtcdm's RTC (its platform, the
 * device and the control layer of the RTC-only mode) in a process of its
 * own, forked by the supervisor (dm/companion.c: the process libxl knows,
 * QEMU's parent and libxl's QMP relay) once QEMU is ready.
 *
 * Why a process of its own: if it ends unexpectedly (a fault, kill -9),
 * the supervisor, QEMU and the guest live on.  The supervisor sees the end
 * through a pidfd and falls back to QEMU: the dead server's waiting vCPUs
 * are answered and the server destroyed (platform.h: dm_rescue), so QEMU's
 * server answers 0x70-0x71 again, and QEMU's CMOS gets the guest's NVRAM as
 * the serving part last reported it.
 *
 * The child (its name "rtcdm-rtc"): closes every descriptor it inherited
 * but stderr and its end of a SOCK_SEQPACKET pair, runs a loop of its own,
 * creates its platform (on Xen: its ioreq server, after QEMU's, checked to
 * win), the device and the control layer, restores rtcdm's part of the
 * incoming context or the battery file — all while the supervisor reads
 * QEMU's CMOS — then, once it has QEMU's CMOS ('C'), merges it in
 * (dm_handover_merge_nvram), leaves root (-chroot, -runas), and reports.
 * It ends when the supervisor closes its end (orderly: the server is torn
 * down); SIGTERM, SIGINT and SIGHUP are the supervisor's to act on.
 *
 * Messages (one packet each, the first byte the kind):
 *   child -> supervisor  'R' + int32 ioreq server id (-1: none)   ready
 *                        'E' + text                               set-up failed
 *                        'S' + image                              its state: once before
 *                                                                 'R', then after each
 *                                                                 battery write
 *   supervisor -> child  'C' + QEMU's CMOS (128 bytes, or none: not read)
 *                        once, first; then:
 *                        'I'  -> 'I' + image (with Xen's RTC record)
 *                        'Q' + {"name":..,"arguments":..} -> 'Q' + reply object
 * The supervisor waits for an answer up to DM_SERVING_WAIT_MS (its loop
 * does not run meanwhile: saves and rtcdm's own commands are rare).
 */
#ifndef RTCDM_DM_SERVING_H
#define RTCDM_DM_SERVING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/log.h"
#include "base/loop.h"
#include "dm/cli.h"
#include "saverestore/sr.h"

#define DM_SERVING_WAIT_MS 2000
#define DM_SERVING_IMAGE_MAX 1024

struct json_object;

/* What the child starts from (copied into it by fork). */
struct dm_serving_start {
	const struct dm_config *cfg;
	const struct sr_image *image; /* rtcdm's part of the incoming context, or NULL */
};

struct dm_serving {
	struct dm_loop *loop;
	const struct dm_log *log;
	pid_t pid;                /* -1: none, or reaped */
	pid_t ended_pid;          /* once reaped: its pid */
	int pidfd, sock;
	bool ready;
	int server_id;            /* its ioreq server, -1: none (simulated platform) */
	bool stopping;            /* the supervisor asked it to end */
	int status;               /* once reaped: exit status, or 128 + signal */
	uint8_t state[DM_SERVING_IMAGE_MAX]; /* its last reported state ('S') */
	size_t state_len;
	/* Called once: ready (error NULL) or set-up failed (error: its line). */
	void (*on_ready)(void *opaque, const char *error);
	/* Called once when it has ended and the supervisor did not ask it to;
	 * how ("signal 9", "status 1"). */
	void (*on_gone)(void *opaque, const char *how);
	void *opaque;
};

/* Fork the child.  0, or -1 with a one-line reason in err. */
int dm_serving_start(struct dm_serving *s, struct dm_loop *loop, const struct dm_log *log,
                     const struct dm_serving_start *st, char *err, size_t errlen);

/* QEMU's CMOS for the child (128 bytes; NULL: it could not be read): the
 * child ends its set-up with it and reports ready.  0, or -1 (errno). */
int dm_serving_give_cmos(struct dm_serving *s, const uint8_t *qemu_cmos);

/* Its image now.  The length, or 0 with err. */
size_t dm_serving_image(struct dm_serving *s, uint8_t *buf, size_t cap, char *err,
                        size_t errlen);

/* Run one of rtcdm's own QMP commands in it: the reply object (the
 * caller's), or NULL with err. */
struct json_object *dm_serving_command(struct dm_serving *s, const char *name,
                                       struct json_object *args, char *err, size_t errlen);

/* End it in order (the supervisor's end closed; SIGKILL after
 * DM_SERVING_WAIT_MS) and reap it.  Its exit status, or -1 if there was
 * none. */
int dm_serving_stop(struct dm_serving *s);

#endif
