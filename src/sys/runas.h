/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_RUNAS_H
#define TCPFSM_RUNAS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * --alert-exec-user USER[:GROUP]: who --alert-exec hooks run as. Resolved
 * once at startup (the user database is not read again in the forked hook,
 * and an unknown name fails before anything is loaded).
 */

#define RUNAS_MAX_GROUPS 64

struct runas {
	bool set;		/* false: hooks run as tcpfsm's own user */
	uid_t uid;
	gid_t gid;
	gid_t groups[RUNAS_MAX_GROUPS]; /* supplementary, for setgroups() */
	unsigned int ngroups;
	char spec[64];		/* as given, for messages */
};

/*
 * "USER" or "USER:GROUP", each a name or a numeric id. USER alone: its
 * primary group and the groups the group database lists it in (what
 * initgroups() would set); with GROUP: that group only. A numeric uid with
 * no passwd entry needs GROUP. Returns 0, or -EINVAL with a one-line
 * message in err.
 */
int runas_parse(const char *spec, struct runas *r, char *err, size_t errlen);

/*
 * In a forked child, before execve: set the groups, gid and uid of r
 * (raising CAP_SETGID and CAP_SETUID from the permitted set only for that),
 * then clear every capability and check that none is left. Only system
 * calls: safe after fork(). Returns 0 or -errno, *what naming the step that
 * failed.
 */
int runas_switch(const struct runas *r, const char **what);

#endif
