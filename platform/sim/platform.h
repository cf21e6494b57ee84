/* platform_sim.h — accessors specific to the simulated platform. */
#ifndef RTCDM_DM_PLATFORM_SIM_H
#define RTCDM_DM_PLATFORM_SIM_H

#include "platform/platform.h"
#include "platform/sim/hv.h"

/* The simulated hypervisor behind a sim platform; NULL for other platforms. */
struct dm_sim_hv *dm_platform_sim_hv(struct dm_platform *p);
/* IRQ 8 as last driven (0/1); -1 for other platforms. */
int dm_platform_sim_irq_level(struct dm_platform *p);

#endif
