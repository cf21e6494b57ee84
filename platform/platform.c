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

int dm_rescue_open(const struct plat_config *cfg, const struct dm_log *log,
                   struct dm_rescue **out, char *err, size_t errlen)
{
	*out = NULL;
#if RTCDM_HAVE_XEN
	if (cfg->kind == PLAT_XEN)
		return dm_rescue_xen_open(cfg, log, out, err, errlen);
#else
	(void)log;
	(void)err;
	(void)errlen;
#endif
	(void)cfg;
	return 0;
}

int dm_rescue_server(struct dm_rescue *r, int server_id, unsigned *answered, char *err,
                     size_t errlen)
{
	*answered = 0;
#if RTCDM_HAVE_XEN
	if (r)
		return dm_rescue_xen_server(r, server_id, answered, err, errlen);
#else
	(void)r;
	(void)err;
	(void)errlen;
#endif
	(void)server_id;
	return 0;
}

void dm_rescue_close(struct dm_rescue *r)
{
#if RTCDM_HAVE_XEN
	if (r)
		dm_rescue_xen_close(r);
#else
	(void)r;
#endif
}
