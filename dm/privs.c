/* privs.c — chroot and user switch after set-up (see privs.h). */
#include "dm/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "dm/cli.h"

static int parse_id(const char *s, unsigned long *out)
{
	uint64_t v;

	if (dm_parse_u64(s, &v) < 0 || v >= (uint64_t)(uid_t)-1)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

int dm_runas_lookup(const char *spec, struct dm_runas *out, char *err, size_t errlen)
{
	char user[256];
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned long id;

	if (ulen == 0 || ulen >= sizeof(user) || (colon && !colon[1])) {
		snprintf(err, errlen, "-runas '%s': expected USER[:GROUP]", spec);
		return -1;
	}
	memcpy(user, spec, ulen);
	user[ulen] = '\0';
	struct passwd *pw = getpwnam(user);
	if (pw) {
		out->uid = pw->pw_uid;
		out->gid = pw->pw_gid;
	} else if (parse_id(user, &id) == 0) {
		out->uid = (uid_t)id;
		out->gid = (gid_t)id;
	} else {
		snprintf(err, errlen, "-runas '%s': no such user '%s'", spec, user);
		return -1;
	}
	if (colon) {
		struct group *gr = getgrnam(colon + 1);
		if (gr)
			out->gid = gr->gr_gid;
		else if (parse_id(colon + 1, &id) == 0)
			out->gid = (gid_t)id;
		else {
			snprintf(err, errlen, "-runas '%s': no such group '%s'", spec, colon + 1);
			return -1;
		}
	}
	if (out->uid == 0) {
		snprintf(err, errlen, "-runas '%s': refusing to run as root", spec);
		return -1;
	}
	return 0;
}

int dm_drop_privileges(const char *chroot_dir, const struct dm_runas *who, char *err,
                       size_t errlen)
{
	if (chroot_dir) {
		if (chroot(chroot_dir) < 0) {
			snprintf(err, errlen, "-chroot '%s': %s", chroot_dir, strerror(errno));
			return -1;
		}
		if (chdir("/") < 0) {
			snprintf(err, errlen, "-chroot '%s': chdir: %s", chroot_dir, strerror(errno));
			return -1;
		}
	}
	if (!who)
		return 0;
	if (setgroups(0, NULL) < 0) {
		snprintf(err, errlen, "-runas: cannot drop supplementary groups: %s", strerror(errno));
		return -1;
	}
	if (setresgid(who->gid, who->gid, who->gid) < 0) {
		snprintf(err, errlen, "-runas: setgid(%lu): %s", (unsigned long)who->gid,
		         strerror(errno));
		return -1;
	}
	if (setresuid(who->uid, who->uid, who->uid) < 0) {
		snprintf(err, errlen, "-runas: setuid(%lu): %s", (unsigned long)who->uid,
		         strerror(errno));
		return -1;
	}
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0 || r != who->uid ||
	    e != who->uid || s != who->uid || rg != who->gid || eg != who->gid || sg != who->gid) {
		snprintf(err, errlen, "-runas: the ids did not change as asked");
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "-runas: root could be regained after the switch");
		return -1;
	}
	return 0;
}

int dm_privs_leave_root(const struct dm_config *cfg, const struct dm_log *log)
{
	struct dm_runas who;
	char err[512];

	if (cfg->domid_restrict)
		dm_info(log, "-xen-domid-restrict: hypervisor handles restricted to domain %d",
		        cfg->domid);
	if (!cfg->runas && !cfg->chroot_dir)
		return 0;
	if (cfg->runas && dm_runas_lookup(cfg->runas, &who, err, sizeof(err)) < 0) {
		dm_err(log, "%s", err);
		return 1;
	}
	if (dm_drop_privileges(cfg->chroot_dir, cfg->runas ? &who : NULL, err, sizeof(err)) < 0) {
		dm_err(log, "%s", err);
		return 1;
	}
	dm_info(log, "running%s%s%s%s", cfg->chroot_dir ? " in chroot " : "",
	        cfg->chroot_dir ? cfg->chroot_dir : "", cfg->runas ? " as " : "",
	        cfg->runas ? cfg->runas : "");
	return 0;
}
