/*
 * rtcdm — MC146818 RTC/CMOS device model for one Xen domain.
 *
 * Parses the command line (ours and libxl's qemu-xen argv), creates the
 * platform and the RTC device, restores a saved state or the battery-backed
 * CMOS and decides the offset (dm/control.h), serves QMP and the xenstore
 * protocol, leaves root when asked (-chroot, -runas), then runs the event
 * loop until a signal (SIGTERM, SIGINT, SIGHUP: exit 0), QMP quit or the
 * qtest client leaves.  In companion mode (the default when libxl starts
 * it for an HVM domain, or --companion; dm/cli.c decides) it runs qemu-xen
 * as its child instead (dm/companion.h) and exits with QEMU's status.
 *
 * Exit status: 0 clean exit, 1 run-time failure, 2 bad command line.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dm/cli.h"
#include "dm/companion.h"
#include "dm/control.h"
#include "dm/device.h"
#include "base/log.h"
#include "base/loop.h"
#include "platform/platform.h"
#include "dm/privs.h"

int main(int argc, char **argv)
{
	struct dm_log log;
	struct dm_config cfg;
	struct dm_loop loop;
	struct dm_platform *plat = NULL;
	struct plat_config pcfg;
	struct dm_device dev;
	struct dm_ctl ctl;
	char err[PATH_MAX + 512];
	struct dm_process_use at_main;
	int rc;

	dm_process_use(&at_main);
	dm_log_init(&log, STDERR_FILENO);
	/* A full file system or RLIMIT_FSIZE must fail a save, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	dm_config_init(&cfg);
	rc = dm_cli_parse(&cfg, argc, argv, &log, err, sizeof(err));
	if (rc) {
		dm_err(&log, "%s", err);
		dm_config_free(&cfg);
		return rc;
	}
	if (cfg.help || cfg.version) {
		fputs(cfg.help ? dm_cli_usage() : "rtcdm " RTCDM_VERSION "\n", stdout);
		dm_config_free(&cfg);
		return 0;
	}
	dm_log_set_verbosity(&log, cfg.verbosity);
	log.domid = cfg.domid;
	dm_debug_cpu(&log, "%.1f ms of CPU and %ld page faults before main (the fork and exec "
	                   "that started rtcdm, the dynamic loader); command line read",
	             at_main.cpu_ms, at_main.faults);

	rc = dm_loop_init(&loop, &log);
	if (rc < 0) {
		dm_err(&log, "cannot create the event loop: %s", strerror(-rc));
		dm_config_free(&cfg);
		return 1;
	}
	if (cfg.companion) {
		rc = dm_companion_run(&loop, &log, &cfg, argc, argv);
		goto out_loop;
	}
	dm_config_platform(&cfg, &pcfg);
	rc = dm_platform_create(&pcfg, &loop, &log, &plat, err, sizeof(err));
	if (rc) {
		dm_err(&log, "%s", err);
		goto out_loop;
	}
	if (dm_device_init(&dev, plat, &log, cfg.lost_ticks) < 0) {
		rc = 1;
		goto out_plat;
	}
	rc = dm_ctl_init(&ctl, &cfg, &loop, plat, &dev, &log, err, sizeof(err));
	if (!rc)
		rc = dm_ctl_restore(&ctl, err, sizeof(err));
	if (!rc && dm_device_start(&dev) < 0) {
		rc = 1;
		snprintf(err, sizeof(err), "cannot start the device");
	}
	if (!rc)
		rc = dm_ctl_serve(&ctl, err, sizeof(err));
	if (rc) {
		dm_err(&log, "%s", err);
		goto out_ctl;
	}
	rc = dm_privs_leave_root(&cfg, &log);
	if (rc)
		goto out_ctl;
	rc = dm_ctl_ready(&ctl, err, sizeof(err));
	if (rc) {
		dm_err(&log, "%s", err);
		goto out_ctl;
	}
	dm_info(&log, "rtcdm %s running: platform %s%s%s", RTCDM_VERSION, plat->ops->name,
	        cfg.name ? ", domain " : "", cfg.name ? cfg.name : "");
	rc = dm_loop_run(&loop);
out_ctl:
	dm_ctl_fini(&ctl);
	dm_device_fini(&dev);
out_plat:
	plat->ops->destroy(plat);
out_loop:
	dm_loop_fini(&loop);
	dm_config_free(&cfg);
	return rc;
}
