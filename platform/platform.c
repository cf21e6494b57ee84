/* platform.c — choose and create the platform named on the command line. */
#include "platform/platform.h"

#include <stdio.h>

#include "config.h"

int dm_platform_create(const struct plat_config *cfg, struct dm_loop *loop, const struct dm_log *log,
                       struct dm_platform **out, char *err, size_t errlen)
{
	*out = NULL;
	switch (cfg->kind) {
	case PLAT_SIM:
		return dm_platform_sim_create(cfg, loop, log, out, err, errlen);
	case PLAT_XEN:
#if RTCDM_HAVE_XEN
		return dm_platform_xen_create(cfg, loop, log, out, err, errlen);
#else
		snprintf(err, errlen, "platform 'xen': rtcdm was built without Xen support");
		return 1;
#endif
	}
	snprintf(err, errlen, "unknown platform");
	return 1;
}
