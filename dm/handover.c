/* handover.c — companion mode: rtcdm taking 0x70-0x71 over from QEMU. */
#include "dm/handover.h"

#include <stdio.h>

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
