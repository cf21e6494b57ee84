/* handover.c — companion mode: rtcdm taking 0x70-0x71 over from QEMU. */
#include "dm/handover.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define CENTURY 0x32

int dm_handover_check_order(int rtcdm_id, char *why, size_t whylen)
{
	if (rtcdm_id < 0)
		return 0; /* no hypervisor servers to order (simulated platform) */
	if (rtcdm_id >= DM_IOREQ_SERVER_IDS) {
		snprintf(why, whylen, "rtcdm's ioreq server has id %d, outside Xen's 0-%d",
		         rtcdm_id, DM_IOREQ_SERVER_IDS - 1);
		return -1;
	}
	if (rtcdm_id == 0) {
		snprintf(why, whylen, "rtcdm's ioreq server got id 0: QEMU holds no server below "
		                      "it, so QEMU's (if any) would answer ports 0x70-0x71; "
		                      "refusing to run the guest");
		return -1;
	}
	return 0;
}

bool dm_handover_qemu_sets(unsigned index)
{
	return index == 0x10 || index == 0x12 || index == 0x14 ||
	       (index >= 0x15 && index <= 0x18) || (index >= 0x19 && index <= 0x2c) ||
	       index == 0x30 || index == 0x31 || index == 0x34 || index == 0x35 ||
	       index == 0x38 || index == 0x39 || index == 0x3d ||
	       (index >= 0x5b && index <= 0x5d) || index == 0x5f;
}

void dm_handover_merge_nvram(uint8_t out[128], const uint8_t qemu[128], const uint8_t *kept)
{
	for (unsigned i = 14; i < 128; i++)
		if (i != CENTURY)
			out[i] = kept && !dm_handover_qemu_sets(i) ? kept[i] : qemu[i];
}

int dm_handover_parse_inb(const char *reply, unsigned port)
{
	char want[32];
	unsigned v;

	snprintf(want, sizeof(want), "portb[0x%04x] = 0x", port);
	if (strncmp(reply, want, strlen(want)) != 0)
		return -1;
	reply += strlen(want);
	if (!isxdigit((unsigned char)reply[0]) || !isxdigit((unsigned char)reply[1]) ||
	    sscanf(reply, "%2x", &v) != 1)
		return -1;
	reply += 2;
	if (strcmp(reply, "\r\n") != 0 && strcmp(reply, "\n") != 0 && reply[0] != '\0')
		return -1;
	return (int)v;
}

int dm_handover_cmos_from_state(const uint8_t *state, size_t len, uint8_t cmos[128], char *why,
                                size_t whylen)
{
	static const uint8_t id[] = "\x0bmc146818rtc";
	const size_t idlen = sizeof(id) - 1;
	const uint8_t *at = NULL;

	if (len < 8 || memcmp(state, "QEVM", 4) != 0) {
		snprintf(why, whylen, "not a QEMU device state");
		return -1;
	}
	/* 0x04, be32 section id, then the id string */
	for (size_t i = 8; i + 5 + idlen <= len && !at; i++)
		if (state[i] == 0x04 && memcmp(state + i + 5, id, idlen) == 0)
			at = state + i + 5 + idlen;
	if (!at) {
		snprintf(why, whylen, "no mc146818rtc section");
		return -1;
	}
	at += 8; /* be32 instance, be32 version */
	if ((size_t)(state + len - at) < 128) {
		snprintf(why, whylen, "the mc146818rtc section is cut short");
		return -1;
	}
	if ((at[0x0a] & 0x70) != 0x20) {
		snprintf(why, whylen, "the mc146818rtc section's register A is 0x%02x, not a running "
		                      "32.768 kHz divider", at[0x0a]);
		return -1;
	}
	memcpy(cmos, at, 128);
	return 0;
}
