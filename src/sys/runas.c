// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sys/privs.h"
#include "sys/runas.h"

/* All digits, below (id_t)-1 (which the set*id calls take as "unchanged"). */
static int parse_id(const char *s, unsigned int *id)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= UINT32_MAX)
		return -EINVAL;
	*id = v;
	return 0;
}

static int parse_group(const char *s, gid_t *gid, char *err, size_t errlen)
{
	struct group *g;
	unsigned int id;

	if (!parse_id(s, &id)) {
		*gid = id;
		return 0;
	}
	g = getgrnam(s);
	if (!g) {
		snprintf(err, errlen, "--alert-exec-user: no such group '%s'", s);
		return -EINVAL;
	}
	*gid = g->gr_gid;
	return 0;
}

/* The user's primary group and the groups it is a member of. */
static int user_groups(const struct passwd *pw, struct runas *r, char *err, size_t errlen)
{
	int n = RUNAS_MAX_GROUPS;

	r->gid = pw->pw_gid;
	if (getgrouplist(pw->pw_name, pw->pw_gid, r->groups, &n) < 0) {
		snprintf(err, errlen, "--alert-exec-user: user '%s' is in more than %d groups",
			 pw->pw_name, RUNAS_MAX_GROUPS);
		return -EINVAL;
	}
	r->ngroups = n;
	return 0;
}

int runas_parse(const char *spec, struct runas *r, char *err, size_t errlen)
{
	char user[64];
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;
	unsigned int id;

	memset(r, 0, sizeof(*r));
	if (!ulen || ulen >= sizeof(user) || (colon && (!colon[1] || strchr(colon + 1, ':')))) {
		snprintf(err, errlen, "bad --alert-exec-user '%s': expected USER or USER:GROUP", spec);
		return -EINVAL;
	}
	memcpy(user, spec, ulen);
	user[ulen] = 0;
	if (!parse_id(user, &id)) {
		r->uid = id;
		pw = getpwuid(id);
	} else {
		pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "--alert-exec-user: no such user '%s'", user);
			return -EINVAL;
		}
		r->uid = pw->pw_uid;
	}
	if (colon) {
		if (parse_group(colon + 1, &r->gid, err, errlen))
			return -EINVAL;
		r->groups[0] = r->gid;
		r->ngroups = 1;
	} else if (pw) {
		if (user_groups(pw, r, err, errlen))
			return -EINVAL;
	} else {
		snprintf(err, errlen,
			 "--alert-exec-user: uid %s has no passwd entry: give its group (%s:GROUP)",
			 user, user);
		return -EINVAL;
	}
	snprintf(r->spec, sizeof(r->spec), "%s", spec);
	r->set = true;
	return 0;
}

int runas_switch(const struct runas *r, const char **what)
{
	const uint64_t setid = PRIV_BIT(PRIV_SETUID) | PRIV_BIT(PRIV_SETGID);
	uint64_t eff, prm;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int err;

	*what = "capget";
	err = privs_get(&eff, &prm);
	if (err)
		return err;
	/* tcpfsm keeps them permitted only: effective just for the switch */
	*what = "raising CAP_SETUID and CAP_SETGID";
	err = privs_set(eff | (prm & setid), prm);
	if (err)
		return err;
	*what = "setgroups";
	if (setgroups(r->ngroups, r->groups))
		return -errno;
	*what = "setresgid";
	if (setresgid(r->gid, r->gid, r->gid))
		return -errno;
	*what = "setresuid";
	if (setresuid(r->uid, r->uid, r->uid))
		return -errno;
	/* leaving uid 0 cleared them already; not so for another uid, or root */
	*what = "dropping capabilities";
	err = privs_set(0, 0);
	if (err)
		return err;
	/* fail closed: check what the kernel says we are now */
	*what = "checking the result";
	if (privs_get(&eff, &prm) || eff || prm || getresuid(&ru, &eu, &su) ||
	    getresgid(&rg, &eg, &sg) || ru != r->uid || eu != r->uid || su != r->uid ||
	    rg != r->gid || eg != r->gid || sg != r->gid)
		return -EPERM;
	return 0;
}
