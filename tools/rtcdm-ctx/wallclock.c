/*
 * wallclock_xen.c — `rtcdm-ctx wallclock --domid N`.
 *
 * Prints, one fact per line (key=value words, for operators and scripts):
 *   domain=N type=hvm|pvh vrtc=0|1 emulation_flags=0x..
 *   pv_wallclock version=V sec=S nsec=NS date=YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ
 *   host_wallclock sec=S nsec=NS date=...      (Xen's wallclock at system time 0)
 *   offset=SECONDS (+HH:MM)                    (pv_wallclock - host_wallclock)
 *   xen_rtc rtc_offset=S (+HH:MM) index=0x.. time=... A=.. B=.. C=.. D=..
 *   or: xen_rtc none (no emulated RTC in Xen for this domain)
 * A guest that never placed its shared_info page in its memory has no PV
 * wallclock to map: that line then says why, and the exit status is 1.  A
 * page Xen never wrote (version 0) is shown as such, without an offset.
 * The page is read in the native x86_64 layout (see platform/xen/domain.h).
 */
#include "tools/rtcdm-ctx/wallclock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform/xen/domain.h"
#include "saverestore/sr.h"
#include "toolstack/dm_ops.h"

static int usage(const char *why)
{
	fprintf(stderr, "rtcdm-ctx: wallclock: %s (usage: rtcdm-ctx wallclock --domid N)\n", why);
	return 2;
}

static void format_date(int64_t sec, uint32_t nsec, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "out-of-range");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRIu32 "Z", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec);
}

int sr_ctx_wallclock(int argc, char **argv)
{
	const char *domid_arg = NULL;
	uint32_t domid;
	struct dm_xen_domain dom;
	struct dm_shinfo_wallclock wc, host;
	struct sr_xen_rtc rec;
	char err[256], date[64], off[32];
	bool have_wc = false, have_host = false;
	int status = 0, rc;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--domid") == 0 && i + 1 < argc && !domid_arg)
			domid_arg = argv[++i];
		else if (strncmp(argv[i], "--domid=", 8) == 0 && !domid_arg)
			domid_arg = argv[i] + 8;
		else
			return usage("unexpected argument");
	}
	if (!domid_arg)
		return usage("missing --domid");
	if (dm_parse_domid(domid_arg, &domid) < 0)
		return usage("--domid takes a domain id, 0..32751");

	/* The libraries' own error lines would double ours: critical only. */
	xentoollog_logger *xtl =
		(xentoollog_logger *)xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);
	xc_interface *xch = xc_interface_open(xtl, xtl, 0);
	if (!xch) {
		fprintf(stderr, "rtcdm-ctx: cannot open the Xen control interface: %s\n",
		        strerror(errno));
		if (xtl)
			xtl_logger_destroy(xtl);
		return 1;
	}
	xenforeignmemory_handle *fmem = xenforeignmemory_open(xtl, 0);
	if (!fmem) {
		fprintf(stderr, "rtcdm-ctx: cannot open the foreign memory interface: %s\n",
		        strerror(errno));
		xc_interface_close(xch);
		if (xtl)
			xtl_logger_destroy(xtl);
		return 1;
	}
	if (dm_xen_domain_get(xch, domid, &dom, err, sizeof(err)) < 0) {
		fprintf(stderr, "rtcdm-ctx: %s\n", err);
		status = 1;
		goto out;
	}
	printf("domain=%" PRIu32 " type=%s vrtc=%d emulation_flags=0x%" PRIx32 "\n", domid,
	       !dom.hvm ? "pv" : (dom.vrtc ? "hvm" : "pvh"), dom.vrtc ? 1 : 0,
	       dom.emulation_flags);

	if (dm_xen_wallclock_read(xch, fmem, domid, &wc, err, sizeof(err)) == 0) {
		have_wc = true;
		format_date(wc.sec, wc.nsec, date, sizeof(date));
		printf("pv_wallclock version=%" PRIu32 " sec=%" PRId64 " nsec=%" PRIu32 " date=%s%s\n",
		       wc.version, wc.sec, wc.nsec, date,
		       wc.version == 0 ? " (never written by Xen: no offset given yet)" : "");
	} else {
		printf("pv_wallclock unavailable (%s)\n", err);
		status = 1;
	}
	if (dm_xen_wallclock_read(xch, fmem, 0, &host, err, sizeof(err)) == 0) {
		have_host = true;
		format_date(host.sec, host.nsec, date, sizeof(date));
		printf("host_wallclock sec=%" PRId64 " nsec=%" PRIu32 " date=%s\n", host.sec,
		       host.nsec, date);
	} else {
		printf("host_wallclock unavailable (%s)\n", err);
		status = 1;
	}
	if (have_wc && have_host && wc.version != 0) {
		sr_format_offset(wc.sec - host.sec, off, sizeof(off));
		printf("offset=%" PRId64 " (%s)\n", wc.sec - host.sec, off);
	}

	rc = dm_xen_rtc_record(xch, domid, &rec, err, sizeof(err));
	if (rc == 0) {
		sr_format_offset(rec.rtc_offset, off, sizeof(off));
		sr_format_cmos_time(rec.cmos, -1, date, sizeof(date));
		printf("xen_rtc rtc_offset=%" PRId64 " (%s) index=0x%02x time=%s A=0x%02x B=0x%02x "
		       "C=0x%02x D=0x%02x\n",
		       rec.rtc_offset, off, rec.index, date, rec.cmos[RTC_REG_A], rec.cmos[RTC_REG_B],
		       rec.cmos[RTC_REG_C], rec.cmos[RTC_REG_D]);
	} else if (rc > 0) {
		printf("xen_rtc none (no emulated RTC in Xen for this domain)\n");
	} else {
		printf("xen_rtc unavailable (%s)\n", err);
		status = 1;
	}
out:
	xenforeignmemory_close(fmem);
	xc_interface_close(xch);
	if (xtl)
		xtl_logger_destroy(xtl);
	return status;
}
