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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Xen 4.17's MAX_NR_IOREQ_SERVERS: ids are 0..7. */
#define DM_IOREQ_SERVER_IDS 8

/*
 * rtcdm's ioreq server, created after QEMU was ready, got id `rtcdm_id`
 * (-1: the platform has no ioreq server, e.g. the simulated one).  0 when
 * it wins the overlap on 0x70-0x71 over QEMU's, or when there is no server
 * to compare; -1 with a one-line reason in why otherwise.
 */
int dm_handover_check_order(int rtcdm_id, char *why, size_t whylen);

/*
 * CMOS contents.  QEMU 7.2 writes configuration bytes into its CMOS for
 * each boot (hw/i386/pc.c pc_cmos_init, pc_cmos_init_floppy,
 * pc_cmos_init_late; hw/i386/x86.c x86_rtc_set_cpus_count): floppy types
 * 0x10, hard disk types 0x12, equipment 0x14, base and extended memory
 * 0x15-0x18 and 0x30-0x31, extended disk types 0x19-0x1a, disk geometry
 * 0x1b-0x2c, boot order 0x38 and 0x3d, disk translation 0x39, memory above
 * 16 MiB 0x34-0x35 and above 4 GiB 0x5b-0x5d, CPU count 0x5f.  The century
 * byte 0x32 (mc146818rtc) is part of the clock: rtcdm's model keeps its own
 * consistent with the guest's year, so it is neither taken from QEMU nor
 * merged.
 */

/* Whether QEMU sets CMOS byte `index` for the boot (the list above). */
bool dm_handover_qemu_sets(unsigned index);

/*
 * The NVRAM rtcdm runs with, bytes 14..127 of out except 0x32 (out's other
 * bytes untouched): QEMU's byte where QEMU set it for this boot (a domain
 * created with more memory sees the new size), else the kept byte (rtcdm's
 * image or the battery-backed CMOS: the guest's writes come back), else
 * QEMU's.  kept may be NULL (nothing kept).
 */
void dm_handover_merge_nvram(uint8_t out[128], const uint8_t qemu[128], const uint8_t *kept);

/*
 * QEMU's reply to the HMP command "i /b PORT" (human-monitor-command):
 * "portb[0x0071] = 0x5a" and a line end.  The byte, or -1 when the reply is
 * anything else (another port, another width, an error text).
 */
int dm_handover_parse_inb(const char *reply, unsigned port);

/*
 * QEMU's CMOS in its device state, as xen-save-devices-state writes it
 * (migration/savevm.c qemu_save_device_state: "QEVM", be32 3, then one
 * section per device: type byte 0x04 (QEMU_VM_SECTION_FULL), be32 section
 * id, the id string as a length byte and "mc146818rtc", be32 instance, be32
 * version, then the vmstate fields, of which hw/rtc/mc146818rtc.c's first
 * is cmos_data).  Sections carry no length, so the RTC's is found by its
 * header.  The bytes are taken only if register A holds the 32.768 kHz
 * divider QEMU resets it to (0x26: bits 4-6 = 010).  0 with the 128 bytes
 * in cmos, or -1 with a one-line reason in why.
 */
int dm_handover_cmos_from_state(const uint8_t *state, size_t len, uint8_t cmos[128], char *why,
                                size_t whylen);

#endif
