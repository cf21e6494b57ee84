/*
 * rtcdm — MC146818 RTC/CMOS device model for one Xen domain.
 *
 * Parses the command line (ours and libxl's qemu-xen argv), creates the
 * platform and the RTC device, applies the toolstack offset, loads a saved
 * state when asked, then runs the event loop until a signal (SIGTERM,
 * SIGINT, SIGHUP: exit 0) or the qtest client leaves.
 *
 * Exit status: 0 clean exit, 1 run-time failure, 2 bad command line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dm/cli.h"
#include "dm/device.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/platform.h"

/* Load --restore / -loadvm / -incoming state, if any.  0 or 1 (logged). */
static int load_saved_state(const struct dm_config *cfg, struct dm_device *dev,
                            const struct dm_log *log)
{
	char err[512];
	const char *file = cfg->restore_file ? cfg->restore_file : cfg->loadvm;
	int fd = -1, rc;

	if (file) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			dm_err(log, "cannot open saved state '%s': %m", file);
			return 1;
		}
		rc = dm_device_load_state(dev, fd, file, err, sizeof(err));
		close(fd);
	} else if (cfg->incoming_fd >= 0) {
		char what[32];

		snprintf(what, sizeof(what), "-incoming fd:%d", cfg->incoming_fd);
		rc = dm_device_load_state(dev, cfg->incoming_fd, what, err, sizeof(err));
		close(cfg->incoming_fd);
	} else {
		return 0;
	}
	if (rc < 0) {
		dm_err(log, "%s", err);
		return 1;
	}
	return 0;
}

/* Guest offset from -rtc base=localtime|DATE (not toolstack-set). */
static void apply_rtc_base(const struct dm_config *cfg, struct dm_device *dev,
                           struct dm_platform *plat)
{
	int64_t host_sec = plat->ops->host_wallclock_ns(plat) / 1000000000;

	if (cfg->rtc_base == DM_RTC_BASE_LOCALTIME) {
		time_t t = (time_t)host_sec;
		struct tm tm;

		localtime_r(&t, &tm);
		if (tm.tm_gmtoff)
			dm_device_initial_offset(dev, tm.tm_gmtoff);
	} else if (cfg->rtc_base == DM_RTC_BASE_DATE) {
		dm_device_initial_offset(dev, cfg->rtc_base_date - host_sec);
	}
}

int main(int argc, char **argv)
{
	struct dm_log log;
	struct dm_config cfg;
	struct dm_loop loop;
	struct dm_platform *plat = NULL;
	struct dm_device dev;
	char err[512];
	int rc;

	dm_log_init(&log, STDERR_FILENO);
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

	rc = dm_loop_init(&loop, &log);
	if (rc < 0) {
		dm_err(&log, "cannot create the event loop: %s", strerror(-rc));
		dm_config_free(&cfg);
		return 1;
	}
	rc = dm_platform_create(&cfg, &loop, &log, &plat, err, sizeof(err));
	if (rc) {
		dm_err(&log, "%s", err);
		goto out_loop;
	}
	if (dm_device_init(&dev, plat, &log, cfg.lost_ticks) < 0) {
		rc = 1;
		goto out_plat;
	}
	apply_rtc_base(&cfg, &dev, plat);
	rc = load_saved_state(&cfg, &dev, &log);
	if (rc)
		goto out_dev;
	if (cfg.time_offset_given && dm_device_set_time_offset(&dev, cfg.time_offset) < 0) {
		rc = 1;
		goto out_dev;
	}
	if (dm_device_start(&dev) < 0) {
		rc = 1;
		goto out_dev;
	}
	dm_info(&log, "rtcdm %s running: platform %s%s%s", RTCDM_VERSION, plat->ops->name,
	        cfg.name ? ", domain " : "", cfg.name ? cfg.name : "");
	rc = dm_loop_run(&loop);
out_dev:
	dm_device_fini(&dev);
out_plat:
	plat->ops->destroy(plat);
out_loop:
	dm_loop_fini(&loop);
	dm_config_free(&cfg);
	return rc;
}
