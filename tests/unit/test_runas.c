// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --alert-exec-user: USER[:GROUP] resolved against the user database (root
 * and nobody exist everywhere we run), bad specs and their messages; and, as
 * root only (skipped otherwise), in forked children: privs_drop shrinks the
 * bounding set and keeps CAP_SETUID/CAP_SETGID permitted only, and
 * runas_switch leaves no capability whatever the target user.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "sys/privs.h"
#include "sys/runas.h"

#define KEEP (PRIV_BIT(PRIV_SYS_ADMIN) | PRIV_BIT(PRIV_SYS_PTRACE) | PRIV_BIT(PRIV_DAC_READ_SEARCH))
#define SETID (PRIV_BIT(PRIV_SETUID) | PRIV_BIT(PRIV_SETGID))

static char err[256];

static bool has_group(const struct runas *r, gid_t g)
{
	for (unsigned int i = 0; i < r->ngroups; i++)
		if (r->groups[i] == g)
			return true;
	return false;
}

static void parse_ok(const char *spec, struct runas *r)
{
	err[0] = 0;
	if (runas_parse(spec, r, err, sizeof(err)))
		print_error("'%s': unexpected error: %s\n", spec, err);
	assert_true(r->set);
	assert_string_equal(r->spec, spec);
	assert_string_equal(err, "");
}

static void parse_fails(const char *want, const char *spec)
{
	struct runas r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(runas_parse(spec, &r, err, sizeof(err)), -EINVAL);
	assert_false(r.set);
	assert_null(strchr(err, '\n'));
	if (!strstr(err, want))
		print_error("message '%s' lacks '%s'\n", err, want);
	assert_non_null(strstr(err, want));
}

static void test_user_alone(void **unused)
{
	struct passwd *pw = getpwnam("nobody");
	struct runas r;

	assert_non_null(pw);
	parse_ok("nobody", &r);
	assert_int_equal(r.uid, pw->pw_uid);
	assert_int_equal(r.gid, pw->pw_gid);
	/* initgroups(): the primary group is among the supplementary ones */
	assert_true(r.ngroups >= 1);
	assert_true(has_group(&r, pw->pw_gid));

	parse_ok("root", &r);
	assert_int_equal(r.uid, 0);
	assert_int_equal(r.gid, 0);
	assert_true(has_group(&r, 0));
}

static void test_numeric_ids(void **unused)
{
	struct passwd *pw = getpwnam("nobody");
	uid_t nobody;
	gid_t nogroup;
	char spec[64];
	struct runas r;

	assert_non_null(pw);
	nobody = pw->pw_uid;
	nogroup = pw->pw_gid;
	/* a known uid: its passwd entry's group */
	snprintf(spec, sizeof(spec), "%u", nobody);
	parse_ok(spec, &r);
	assert_int_equal(r.uid, nobody);
	assert_int_equal(r.gid, nogroup);
	assert_true(has_group(&r, nogroup));
	parse_ok("0", &r);
	assert_int_equal(r.uid, 0);
	assert_int_equal(r.gid, 0);
	/* ids nobody has: fine with a group */
	parse_ok("4000000000:4000000001", &r);
	assert_int_equal(r.uid, 4000000000u);
	assert_int_equal(r.gid, 4000000001u);
	assert_int_equal(r.ngroups, 1);
	assert_int_equal(r.groups[0], 4000000001u);
}

static void test_explicit_group(void **unused)
{
	struct runas r;

	/* GROUP replaces the user's groups: that one only */
	parse_ok("nobody:root", &r);
	assert_int_equal(r.uid, getpwnam("nobody")->pw_uid);
	assert_int_equal(r.gid, 0);
	assert_int_equal(r.ngroups, 1);
	assert_int_equal(r.groups[0], 0);
	parse_ok("root:0", &r);
	assert_int_equal(r.uid, 0);
	assert_int_equal(r.gid, 0);
	assert_int_equal(r.ngroups, 1);
	parse_ok("0:65534", &r);
	assert_int_equal(r.uid, 0);
	assert_int_equal(r.gid, 65534);
	assert_int_equal(r.ngroups, 1);
}

static void test_bad_specs(void **unused)
{
	char longname[100];

	parse_fails("no such user 'tcpfsm-no-such-user'", "tcpfsm-no-such-user");
	parse_fails("no such user 'tcpfsm-no-such-user'", "tcpfsm-no-such-user:root");
	parse_fails("no such group 'tcpfsm-no-such-group'", "root:tcpfsm-no-such-group");
	parse_fails("uid 4000000000 has no passwd entry: give its group (4000000000:GROUP)",
		    "4000000000");
	/* (uid_t)-1 means "unchanged" to setresuid: a name, then, and unknown */
	parse_fails("no such user '4294967295'", "4294967295:0");
	parse_fails("bad --alert-exec-user '': expected USER or USER:GROUP", "");
	parse_fails("bad --alert-exec-user ':': expected USER or USER:GROUP", ":");
	parse_fails("bad --alert-exec-user ':root'", ":root");
	parse_fails("bad --alert-exec-user 'root:'", "root:");
	parse_fails("bad --alert-exec-user 'root:root:root'", "root:root:root");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	parse_fails("expected USER or USER:GROUP", longname);
}

/* ---- root only: the real thing, in forked children ---- */

/* CapEff: and the like from /proc/self/status */
static uint64_t status_caps(const char *field)
{
	char line[256];
	uint64_t v = ~0ULL;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

/* Run fn in a child; it returns 0 or the number of the check that failed. */
static void in_child(int (*fn)(void))
{
	int status;
	pid_t pid;

	if (geteuid())
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status))
		print_error("check %d failed\n", WEXITSTATUS(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int drop_child(void)
{
	uint64_t left = 1;

	if (privs_drop(KEEP, SETID, &left) || left)
		return 1;
	if (status_caps("CapBnd") != KEEP)
		return 2;
	if (status_caps("CapEff") != KEEP)
		return 3;
	if (status_caps("CapPrm") != (KEEP | SETID))
		return 4;
	if (status_caps("CapInh") || status_caps("CapAmb"))
		return 5;
	if (!privs_permitted(SETID) || privs_permitted(PRIV_BIT(0)))
		return 6;
	return 0;
}

static void test_drop_shrinks_bounding_set(void **unused)
{
	in_child(drop_child);
}

static int switch_child(const char *spec, uid_t uid, gid_t gid)
{
	const char *what = NULL;
	struct runas r;
	uint64_t left;
	gid_t groups[8];
	char e[256];
	int rc;

	if (runas_parse(spec, &r, e, sizeof(e)))
		return 10;
	if (privs_drop(KEEP, SETID, &left))
		return 11;
	rc = runas_switch(&r, &what);
	if (rc) {
		fprintf(stderr, "runas_switch: %s: %s\n", what, strerror(-rc));
		return 12;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
		return 13;
	if (getgroups(8, groups) != (int)r.ngroups)
		return 14;
	if (status_caps("CapEff") || status_caps("CapPrm") || status_caps("CapInh") ||
	    status_caps("CapAmb"))
		return 15;
	/* and there is no way back */
	if (!setuid(0) && uid)
		return 16;
	return 0;
}

static int to_nobody(void)
{
	struct passwd *pw = getpwnam("nobody");

	return pw ? switch_child("nobody", pw->pw_uid, pw->pw_gid) : 20;
}

/* uid 0 keeps capabilities across setresuid(): they are cleared explicitly */
static int to_root_group_nobody(void)
{
	return switch_child("root:65534", 0, 65534);
}

static void test_switch_to_nobody(void **unused)
{
	in_child(to_nobody);
}

static void test_switch_to_root_has_no_capabilities(void **unused)
{
	in_child(to_root_group_nobody);
}

/* without CAP_SETUID/CAP_SETGID the switch fails, and says where */
static int without_setid(void)
{
	const char *what = NULL;
	struct runas r;
	uint64_t left;
	char e[256];

	if (runas_parse("nobody", &r, e, sizeof(e)))
		return 10;
	if (privs_drop(KEEP, 0, &left))
		return 11;
	if (runas_switch(&r, &what) != -EPERM)
		return 12;
	if (!what || strcmp(what, "setgroups"))
		return 13;
	if (getuid() != 0)
		return 14;
	return 0;
}

static void test_switch_needs_setid(void **unused)
{
	in_child(without_setid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_alone),
		cmocka_unit_test(test_numeric_ids),
		cmocka_unit_test(test_explicit_group),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_drop_shrinks_bounding_set),
		cmocka_unit_test(test_switch_to_nobody),
		cmocka_unit_test(test_switch_to_root_has_no_capabilities),
		cmocka_unit_test(test_switch_needs_setid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
