/*
 * privs.h — leave root after set-up, as QEMU's -chroot and -runas do.
 *
 * Order: look the user (and group) up while /etc is reachable, chroot into
 * DIR and chdir("/"), drop the supplementary groups, setgid, setuid; then
 * check that root cannot be regained (setuid(0) must fail) and that real,
 * effective and saved ids are the target ones.
 */
#ifndef RTCDM_DM_PRIVS_H
#define RTCDM_DM_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

struct dm_runas {
	uid_t uid;
	gid_t gid;
};

/* Parse USER[:GROUP] (names, or numbers) into ids.  A user without a group
 * takes the user's primary group.  0, or -1 with a reason in err. */
int dm_runas_lookup(const char *spec, struct dm_runas *out, char *err, size_t errlen);

/* chroot (when chroot_dir) and switch to `who` (when not NULL).  0, or -1
 * with a reason in err (the process must not go on). */
int dm_drop_privileges(const char *chroot_dir, const struct dm_runas *who, char *err,
                       size_t errlen);

struct dm_config;
struct dm_log;

/* What the command line asks for (-chroot, -runas; -xen-domid-restrict is
 * logged), after set-up, in either mode.  0, or 1 with the reason logged
 * (the process must not go on). */
int dm_privs_leave_root(const struct dm_config *cfg, const struct dm_log *log);

#endif
