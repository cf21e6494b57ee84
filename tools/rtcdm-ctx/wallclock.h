/*
 * wallclock_xen.h — `rtcdm-ctx wallclock --domid N`: a live domain's PV
 * wallclock, its offset from the host wallclock, and Xen's RTC record.
 * Built only with the Xen libraries.
 */
#ifndef RTCDM_SR_WALLCLOCK_XEN_H
#define RTCDM_SR_WALLCLOCK_XEN_H

/* argv[0] is "rtcdm-ctx", argv[1] "wallclock".  Exit status 0, 1 (Xen
 * refused or the domain does not exist), 2 (usage). */
int sr_ctx_wallclock(int argc, char **argv);

#endif
