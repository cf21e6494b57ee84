/*
 * handover.h — companion mode: the rules for rtcdm taking ports 0x70-0x71
 * over from QEMU, as pure functions (docs/design.md, "Companion mode").
 *
 * Which server answers.  Xen (xen/common/ioreq.c, 4.17) gives a new ioreq
 * server the lowest free id (ioreq_server_create walks 0 up to
 * MAX_NR_IOREQ_SERVERS) and picks the server for an access from the highest
 * id down (FOR_EACH_IOREQ_SERVER, "more recently created ioreq servers are
 * favoured"), skipping disabled ones.  Xen offers no call that lists a
 * domain's servers, so the check reasons from rtcdm's own id: QEMU creates
 * its server while it builds the machine, before its monitor answers a
 * command, and rtcdm creates its own only after QEMU answered query-status.
 * Then ids below rtcdm's are all taken, by QEMU (the domain's only other
 * device model); an id of 0 means no server existed below it, so QEMU's is
 * missing or above rtcdm's and would answer (or nobody would).
 */
#ifndef RTCDM_DM_HANDOVER_H
#define RTCDM_DM_HANDOVER_H

#include <stddef.h>

/* Xen 4.17's MAX_NR_IOREQ_SERVERS: ids are 0..7. */
#define DM_IOREQ_SERVER_IDS 8

/*
 * rtcdm's ioreq server, created after QEMU was ready, got id `rtcdm_id`
 * (-1: the platform has no ioreq server, e.g. the simulated one).  0 when
 * it wins the overlap on 0x70-0x71 over QEMU's, or when there is no server
 * to compare; -1 with a one-line reason in why otherwise.
 */
int dm_handover_check_order(int rtcdm_id, char *why, size_t whylen);

#endif
