// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --alert-exec: the hook's environment exactly, command splitting, and real
 * hooks (scripts in a temporary directory) run without a shell: stdin and
 * fields arrive intact, a slow hook is killed at its timeout while ticks stay
 * short, a missing command counts as failed, a flood is queued then dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "pure/alert.h"
#include "sys/alertexec.h"
#include "sys/clock.h"
#include "sys/privs.h"
#include "sys/runas.h"
#include "support.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SEC 1000000000ULL
#define MS 1000000ULL
#define PATH_VAR "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* a CLOSE_WAIT leak of curl/4242 */
static struct alert sample(void)
{
	struct alert a = {
		.status = ALERT_FIRING,
		.state = TCPFSM_CLOSE_WAIT,
		.time_ns = 171 * SEC,
		.age_ns = 61 * SEC,
		.threshold_ns = 60 * SEC,
		.cookie = 42,
		.cgroup_id = 7,
		.pid = 4242,
		.netns = 4026531840u,
		.ino = 5555,
		.fd = 7,
		.owner = true,
		.comm = "curl",
		.family = TCPFSM_AF_INET,
		.saddr = { 10, 0, 0, 1 },
		.daddr = { 10, 0, 0, 2 },
		.sport = 40000,
		.dport = 443,
		.diagnosis = "CLOSE_WAIT for 1m01s: the peer closed 1m01s ago; process 4242 (curl) "
			     "has not called close() (fd 7, socket inode 5555)",
	};

	return a;
}

static void assert_env(char *const *envp, int n, const char *const *want, size_t nwant)
{
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < nwant; i++)
		assert_string_equal(envp[i], want[i]);
	assert_null(envp[n]);
}

/* the bytes an environment of these strings takes */
static size_t env_bytes(const char *const *v, size_t n)
{
	size_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += strlen(v[i]) + 1;
	return sum;
}

static void test_env_firing_with_owner(void **unused)
{
	static const char *const want[] = {
		PATH_VAR,
		"TCPFSM_STATUS=firing",
		"TCPFSM_STATE=CLOSE_WAIT",
		"TCPFSM_HALF_OPEN=0",
		"TCPFSM_AGE_NS=61000000000",
		"TCPFSM_THRESHOLD_NS=60000000000",
		"TCPFSM_COOKIE=42",
		"TCPFSM_PID=4242",
		"TCPFSM_COMM=curl",
		"TCPFSM_FAMILY=ipv4",
		"TCPFSM_SADDR=10.0.0.1",
		"TCPFSM_SPORT=40000",
		"TCPFSM_DADDR=10.0.0.2",
		"TCPFSM_DPORT=443",
		"TCPFSM_NETNS=4026531840",
		"TCPFSM_SYN_RETRANSMITS=0",
		"TCPFSM_DIAGNOSIS=CLOSE_WAIT for 1m01s: the peer closed 1m01s ago; process 4242 "
		"(curl) has not called close() (fd 7, socket inode 5555)",
	};
	struct alert a = sample();
	char buf[4096], *envp[32];
	int n;

	for (size_t i = 0; i < ARRAY_SIZE(envp); i++)
		envp[i] = (char *)"sentinel";
	n = alert_env_build(&a, buf, sizeof(buf), envp, ARRAY_SIZE(envp));
	assert_env(envp, n, want, ARRAY_SIZE(want));
	/* all of it in buf, one after the other */
	for (int i = 0; i < n; i++) {
		assert_true(envp[i] >= buf && envp[i] < buf + sizeof(buf));
		if (i)
			assert_ptr_equal(envp[i], envp[i - 1] + strlen(envp[i - 1]) + 1);
	}
	assert_ptr_equal(envp[0], buf);
	/* untouched beyond the terminating NULL */
	assert_string_equal(envp[n + 1], "sentinel");
}

static void test_env_resolved_without_owner(void **unused)
{
	static const char *const want[] = {
		PATH_VAR,
		"TCPFSM_STATUS=resolved",
		"TCPFSM_STATE=SYN_RECV",
		"TCPFSM_HALF_OPEN=1",
		"TCPFSM_AGE_NS=6000000000",
		"TCPFSM_THRESHOLD_NS=3000000000",
		"TCPFSM_COOKIE=18446744073709551615",
		"TCPFSM_FAMILY=ipv6",
		"TCPFSM_SADDR=2001:db8::2",
		"TCPFSM_SPORT=443",
		"TCPFSM_DADDR=::ffff:10.0.0.1",
		"TCPFSM_DPORT=65535",
		"TCPFSM_NETNS=4294967295",
		"TCPFSM_SYN_RETRANSMITS=65535",
		"TCPFSM_DIAGNOSIS=left half-open after 6.00s for SYN_RECV: the handshake completed",
	};
	struct alert a = sample();
	char buf[4096], *envp[32];
	int n;

	a.status = ALERT_RESOLVED;
	a.state = TCPFSM_SYN_RECV;
	a.half_open = true;
	a.age_ns = 6 * SEC;
	a.threshold_ns = 3 * SEC;
	a.cookie = UINT64_MAX;
	/* no owner: pid and comm stay out even when set */
	a.owner = false;
	a.family = TCPFSM_AF_INET6;
	memset(a.saddr, 0, 16);
	a.saddr[0] = 0x20, a.saddr[1] = 0x01, a.saddr[2] = 0x0d, a.saddr[3] = 0xb8;
	a.saddr[15] = 2;
	memset(a.daddr, 0, 16);
	a.daddr[10] = 0xff, a.daddr[11] = 0xff;
	a.daddr[12] = 10, a.daddr[15] = 1;
	a.sport = 443;
	a.dport = 65535;
	a.netns = UINT32_MAX;
	a.syn_retrans = UINT16_MAX;
	a.to_state = TCPFSM_SYN_RECV;
	a.resolution = "the handshake completed";
	strcpy(a.diagnosis, "left half-open after 6.00s for SYN_RECV: the handshake completed");
	n = alert_env_build(&a, buf, sizeof(buf), envp, ARRAY_SIZE(envp));
	assert_env(envp, n, want, ARRAY_SIZE(want));
}

static void test_env_aggregate(void **unused)
{
	static const char *const want[] = {
		PATH_VAR,
		"TCPFSM_STATUS=firing",
		"TCPFSM_STATE=SYN_SENT",
		"TCPFSM_HALF_OPEN=0",
		"TCPFSM_AGE_NS=3000000000",
		"TCPFSM_THRESHOLD_NS=3000000000",
		"TCPFSM_COOKIE=1000",
		"TCPFSM_PID=4242",
		"TCPFSM_COMM=curl",
		"TCPFSM_FAMILY=ipv4",
		"TCPFSM_SADDR=10.0.0.1",
		"TCPFSM_SPORT=30000",
		"TCPFSM_DADDR=198.18.0.2",
		"TCPFSM_DPORT=80",
		"TCPFSM_NETNS=4026531840",
		"TCPFSM_SYN_RETRANSMITS=2",
		"TCPFSM_COUNT=90",
		"TCPFSM_DIAGNOSIS=90 more SYN_SENT firing alerts toward 198.18.0.2:80 (rate limit: "
		"10 per group per minute)",
	};
	struct alert a = sample();
	char buf[4096], *envp[32];
	int n;

	a.state = TCPFSM_SYN_SENT;
	a.aggregate = true;
	a.count = 90;
	a.age_ns = 3 * SEC;
	a.threshold_ns = 3 * SEC;
	a.cookie = 1000;
	a.daddr[0] = 198, a.daddr[1] = 18, a.daddr[2] = 0, a.daddr[3] = 2;
	a.sport = 30000;
	a.dport = 80;
	a.syn_retrans = 2;
	strcpy(a.diagnosis, "90 more SYN_SENT firing alerts toward 198.18.0.2:80 (rate limit: 10 per "
			    "group per minute)");
	n = alert_env_build(&a, buf, sizeof(buf), envp, ARRAY_SIZE(envp));
	assert_env(envp, n, want, ARRAY_SIZE(want));
}

/* an environment needs no quoting: shell metacharacters go in as they are */
static void test_env_verbatim_and_control_characters(void **unused)
{
	struct alert a = sample();
	char buf[4096], *envp[32];
	int n;

	memcpy(a.comm, "a;$(id)`x`|&'\"\\", 16);
	n = alert_env_build(&a, buf, sizeof(buf), envp, ARRAY_SIZE(envp));
	assert_int_equal(n, 17);
	assert_string_equal(envp[8], "TCPFSM_COMM=a;$(id)`x`|&'\"\\");

	/* a full comm, not NUL-terminated */
	memcpy(a.comm, "0123456789abcdef", 16);
	n = alert_env_build(&a, buf, sizeof(buf), envp, ARRAY_SIZE(envp));
	assert_int_equal(n, 17);
	assert_string_equal(envp[8], "TCPFSM_COMM=0123456789abcdef");

	/* control characters become '?', other bytes stay */
	memset(a.comm, 0, sizeof(a.comm));
	memcpy(a.comm, "a\tb\nc\x7f" "d\x1b[0m\xc3\xa9", 13);
	strcpy(a.diagnosis, "line one\nline two\r\x01 45.6\xc2\xb5s");
	n = alert_env_build(&a, buf, sizeof(buf), envp, ARRAY_SIZE(envp));
	assert_int_equal(n, 17);
	assert_string_equal(envp[8], "TCPFSM_COMM=a?b?c?d?[0m\xc3\xa9");
	assert_string_equal(envp[16], "TCPFSM_DIAGNOSIS=line one?line two?? 45.6\xc2\xb5s");
	for (int i = 0; i < n; i++)
		for (const char *p = envp[i]; *p; p++)
			assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
}

static void test_env_no_space(void **unused)
{
	struct alert a = sample();
	char buf[4096], *envp[32];
	size_t need, len;
	int n;

	/* what it takes exactly */
	n = alert_env_build(&a, buf, sizeof(buf), envp, ARRAY_SIZE(envp));
	assert_int_equal(n, 17);
	need = env_bytes((const char *const *)envp, n);

	for (len = need + 1; len >= need - 1; len--) {
		char *b = malloc(len);

		assert_non_null(b);
		for (size_t i = 0; i < ARRAY_SIZE(envp); i++)
			envp[i] = (char *)"sentinel";
		n = alert_env_build(&a, b, len, envp, ARRAY_SIZE(envp));
		if (len >= need) {
			assert_int_equal(n, 17);
			assert_null(envp[17]);
			assert_ptr_equal(envp[16] + strlen(envp[16]) + 1, b + need);
		} else {
			assert_int_equal(n, -ENOSPC);
		}
		free(b);
	}
	assert_int_equal(alert_env_build(&a, buf, 10, envp, ARRAY_SIZE(envp)), -ENOSPC);
	assert_int_equal(alert_env_build(&a, buf, 1, envp, ARRAY_SIZE(envp)), -ENOSPC);
	assert_int_equal(alert_env_build(&a, buf, 0, envp, ARRAY_SIZE(envp)), -ENOSPC);

	/* pointers: 17 and the NULL */
	n = alert_env_build(&a, buf, sizeof(buf), envp, 18);
	assert_int_equal(n, 17);
	assert_null(envp[17]);
	assert_int_equal(alert_env_build(&a, buf, sizeof(buf), envp, 17), -ENOSPC);
	assert_int_equal(alert_env_build(&a, buf, sizeof(buf), envp, 5), -ENOSPC);
	assert_int_equal(alert_env_build(&a, buf, sizeof(buf), envp, 1), -ENOSPC);
	assert_int_equal(alert_env_build(&a, buf, sizeof(buf), envp, 0), -ENOSPC);
}

/* ---- the command ---- */

static void test_new_rejects(void **unused)
{
	char cmd[512] = "";
	struct alert_exec *x;

	errno = 0;
	assert_null(alert_exec__new("", SEC));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(alert_exec__new(" \t  \t", SEC));
	assert_int_equal(errno, EINVAL);

	/* 32 words are fine, 33 are not */
	for (int i = 0; i < 32; i++)
		strcat(cmd, i ? " w" : "hook");
	x = alert_exec__new(cmd, SEC);
	assert_non_null(x);
	assert_int_equal(alert_exec__stats(x)->started, 0);
	alert_exec__free(x);
	strcat(cmd, "\tw33");
	errno = 0;
	assert_null(alert_exec__new(cmd, SEC));
	assert_int_equal(errno, EINVAL);

	/* white space around words is no word */
	x = alert_exec__new("  /bin/true \t ", SEC);
	assert_non_null(x);
	alert_exec__free(x);
	alert_exec__free(NULL);
}

/* ---- real hooks ---- */

struct tmp {
	char dir[64];
};

static void tmp_init(struct tmp *t)
{
	strcpy(t->dir, "/tmp/tcpfsm-alertexec-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
}

static void tmp_path(const struct tmp *t, const char *name, char *out, size_t len)
{
	assert_true((size_t)snprintf(out, len, "%s/%s", t->dir, name) < len);
}

static void write_file(const struct tmp *t, const char *name, const char *text, mode_t mode)
{
	char path[128];
	FILE *f;

	tmp_path(t, name, path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* the file's content, NULL while it does not exist */
static char *read_file(const struct tmp *t, const char *name, size_t *n)
{
	char path[128], *buf;
	FILE *f;
	size_t got;

	tmp_path(t, name, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return NULL;
	buf = malloc(8192);
	assert_non_null(buf);
	got = fread(buf, 1, 8191, f);
	buf[got] = 0;
	fclose(f);
	if (n)
		*n = got;
	return buf;
}

static void tmp_cleanup(const struct tmp *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

/* tick, timing each call: it never waits for a hook */
static void tick(struct alert_exec *x)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), dt;

	alert_exec__tick(x, clock_boot_ns());
	dt = clock_ns(CLOCK_MONOTONIC) - t0;
	assert_in_range(dt, 0, 100 * MS);
}

/* tick every 5 ms until file exists (at most 5 s) */
static void tick_until_file(struct alert_exec *x, const struct tmp *t, const char *name)
{
	char *s = NULL;

	for (int i = 0; i < 1000 && !(s = read_file(t, name, NULL)); i++) {
		tick(x);
		usleep(5000);
	}
	assert_non_null(s);
	free(s);
}

static void test_hook_gets_alert_without_shell(void **unused)
{
	char cmd[256], json[2048], *s;
	struct alert a = sample();
	struct fmt_opts o = { 0 };
	struct alert_exec *x;
	struct tmp t;
	uint64_t t0;
	size_t n;
	int len;

	tmp_init(&t);
	/* a shell would run $(touch ...) in a field it interpolated */
	memcpy(a.comm, "$(touch pw);`x`", 16);
	strcpy(a.diagnosis, "CLOSE_WAIT for 1m01s: the peer closed 1m01s ago; process 4242 "
			    "($(touch pw);`x`) has not called close() (fd 7, socket inode 5555)");
	len = format_alert_json(json, sizeof(json), &a, &o);
	assert_in_range(len, 1, sizeof(json) - 1);
	assert_true(json_line_ok(json));

	write_file(&t, "hook",
		   "#!/bin/sh\n"
		   "cat > \"$1/stdin\"\n"
		   "printf '%s' \"$TCPFSM_COMM\" > \"$1/comm\"\n"
		   "printf '%s|%s|%s|%s|%s|%s' \"$TCPFSM_STATUS\" \"$TCPFSM_STATE\" \"$TCPFSM_PID\" "
		   "\"$TCPFSM_DPORT\" \"${HOME-unset}\" \"$#\" > \"$1/env\"\n"
		   "printf '%s' \"$TCPFSM_DIAGNOSIS\" > \"$1/diagnosis\"\n"
		   "echo done > \"$1/done\"\n",
		   0755);
	snprintf(cmd, sizeof(cmd), " %s/hook\t%s ", t.dir, t.dir);
	x = alert_exec__new(cmd, 5 * SEC);
	assert_non_null(x);
	/* what we have in our environment the hook does not get */
	setenv("HOME", "/root-of-the-test", 1);

	t0 = clock_ns(CLOCK_MONOTONIC);
	alert_exec__submit(x, &a, json, len, clock_boot_ns());
	assert_in_range(clock_ns(CLOCK_MONOTONIC) - t0, 0, 100 * MS);
	assert_int_equal(alert_exec__stats(x)->started, 1);
	tick_until_file(x, &t, "done");

	s = read_file(&t, "stdin", &n);
	assert_non_null(s);
	assert_int_equal(n, len);
	assert_memory_equal(s, json, len);
	free(s);
	s = read_file(&t, "comm", &n);
	assert_non_null(s);
	assert_string_equal(s, "$(touch pw);`x`");
	free(s);
	s = read_file(&t, "env", NULL);
	assert_non_null(s);
	assert_string_equal(s, "firing|CLOSE_WAIT|4242|443|unset|1");
	free(s);
	s = read_file(&t, "diagnosis", NULL);
	assert_non_null(s);
	assert_string_equal(s, a.diagnosis);
	free(s);
	/* nothing ran the fields */
	s = read_file(&t, "pw", NULL);
	assert_null(s);
	assert_int_equal(access("pw", F_OK), -1);

	/* it exits 0: reaped by a tick, not failed */
	for (int i = 0; i < 20; i++) {
		tick(x);
		usleep(5000);
	}
	assert_int_equal(alert_exec__stats(x)->started, 1);
	assert_int_equal(alert_exec__stats(x)->failed, 0);
	assert_int_equal(alert_exec__stats(x)->timed_out, 0);
	assert_int_equal(alert_exec__stats(x)->dropped, 0);
	t0 = clock_ns(CLOCK_MONOTONIC);
	alert_exec__free(x);
	/* nothing left to wait for */
	assert_in_range(clock_ns(CLOCK_MONOTONIC) - t0, 0, 1 * SEC);
	tmp_cleanup(&t);
}

/* tick until a stats field reaches want (at most 5 s) */
#define TICK_UNTIL(x, field, want)                                                    \
	do {                                                                          \
		for (int _i = 0; _i < 1000 && alert_exec__stats(x)->field < (want); _i++) { \
			tick(x);                                                      \
			usleep(5000);                                                 \
		}                                                                     \
		assert_int_equal(alert_exec__stats(x)->field, want);                  \
	} while (0)

static void test_hook_failures(void **unused)
{
	struct alert a = sample();
	struct alert_exec *x;
	char cmd[256];
	struct tmp t;

	/* no such command: the child cannot exec */
	x = alert_exec__new("/nonexistent/tcpfsm-hook --flag", 5 * SEC);
	assert_non_null(x);
	alert_exec__submit(x, &a, "{}\n", 3, clock_boot_ns());
	assert_int_equal(alert_exec__stats(x)->started, 1);
	TICK_UNTIL(x, failed, 1);
	assert_int_equal(alert_exec__stats(x)->timed_out, 0);
	alert_exec__free(x);

	/* found nowhere on PATH */
	x = alert_exec__new("tcpfsm-no-such-hook-3f9c", 5 * SEC);
	assert_non_null(x);
	alert_exec__submit(x, &a, "{}\n", 3, clock_boot_ns());
	TICK_UNTIL(x, failed, 1);
	alert_exec__free(x);

	/* it runs but exits non-zero, twice */
	tmp_init(&t);
	write_file(&t, "fail", "#!/bin/sh\ncat >/dev/null\nexit 3\n", 0755);
	snprintf(cmd, sizeof(cmd), "%s/fail", t.dir);
	x = alert_exec__new(cmd, 5 * SEC);
	assert_non_null(x);
	alert_exec__submit(x, &a, "{}\n", 3, clock_boot_ns());
	alert_exec__submit(x, &a, "{}\n", 3, clock_boot_ns());
	assert_int_equal(alert_exec__stats(x)->started, 2);
	TICK_UNTIL(x, failed, 2);
	assert_int_equal(alert_exec__stats(x)->timed_out, 0);
	alert_exec__free(x);
	tmp_cleanup(&t);
}

static void test_slow_hook_killed_without_blocking(void **unused)
{
	struct alert a = sample();
	uint64_t t0, killed_at = 0;
	struct alert_exec *x;
	char cmd[256];
	struct tmp t;

	tmp_init(&t);
	write_file(&t, "slow", "#!/bin/sh\necho started > \"$1/started\"\nexec sleep 5\n", 0755);
	snprintf(cmd, sizeof(cmd), "%s/slow %s", t.dir, t.dir);
	x = alert_exec__new(cmd, 200 * MS);
	assert_non_null(x);
	t0 = clock_boot_ns();
	alert_exec__submit(x, &a, "{}\n", 3, t0);
	assert_int_equal(alert_exec__stats(x)->started, 1);
	tick_until_file(x, &t, "started");
	for (int i = 0; i < 600 && !alert_exec__stats(x)->timed_out; i++) {
		tick(x);
		if (alert_exec__stats(x)->timed_out)
			killed_at = clock_boot_ns();
		else
			usleep(5000);
	}
	assert_int_equal(alert_exec__stats(x)->timed_out, 1);
	/* at the timeout, not before, and well before the hook would end */
	assert_true(killed_at - t0 >= 200 * MS);
	assert_true(killed_at - t0 < 3 * SEC);
	assert_int_equal(alert_exec__stats(x)->failed, 0);
	assert_int_equal(alert_exec__stats(x)->started, 1);
	/* killed and reaped: nothing left for free() to wait on */
	t0 = clock_ns(CLOCK_MONOTONIC);
	alert_exec__free(x);
	assert_in_range(clock_ns(CLOCK_MONOTONIC) - t0, 0, 100 * MS);
	tmp_cleanup(&t);
}

/* Running, not gone nor a zombie. */
static bool proc_alive(pid_t pid)
{
	char path[64], st[256], *p;
	FILE *f;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f && fgets(st, sizeof(st), f) && (p = strrchr(st, ')')) && p[1] == ' ')
		alive = p[2] != 'Z' && p[2] != 'X';
	if (f)
		fclose(f);
	return alive;
}

/* A timeout kills what the hook started too, not only the hook. */
static void test_slow_hook_children_killed(void **unused)
{
	struct alert a = sample();
	struct alert_exec *x;
	char cmd[256], path[300], buf[32];
	struct tmp t;
	pid_t child;
	FILE *f;

	tmp_init(&t);
	write_file(&t, "parent",
		   "#!/bin/sh\nsleep 30 &\necho $! > \"$1/child.tmp\"\n"
		   "mv \"$1/child.tmp\" \"$1/child\"\nwait\n",
		   0755);
	snprintf(cmd, sizeof(cmd), "%s/parent %s", t.dir, t.dir);
	x = alert_exec__new(cmd, 200 * MS);
	assert_non_null(x);
	alert_exec__submit(x, &a, "{}\n", 3, clock_boot_ns());
	tick_until_file(x, &t, "child");
	snprintf(path, sizeof(path), "%s/child", t.dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	child = atoi(buf);
	assert_true(child > 0);
	assert_int_equal(kill(child, 0), 0);
	for (int i = 0; i < 600 && !alert_exec__stats(x)->timed_out; i++) {
		tick(x);
		usleep(5000);
	}
	assert_int_equal(alert_exec__stats(x)->timed_out, 1);
	/* the sleep is dead too: gone, or a zombie its new parent has not
	 * reaped yet (give it a moment) */
	for (int i = 0; i < 100 && proc_alive(child); i++)
		usleep(10000);
	assert_false(proc_alive(child));
	alert_exec__free(x);
	tmp_cleanup(&t);
}

/* A hook that writes its ids and privileges to $1/id (then renames it into place). */
#define ID_HOOK                                                                        \
	"#!/bin/sh\n"                                                                  \
	"{ id -u; id -g; grep -E '^(Cap(Inh|Prm|Eff|Amb)|NoNewPrivs):' /proc/self/status; } " \
	"> \"$1/id.tmp\" && mv \"$1/id.tmp\" \"$1/id\"\n"

static void run_id_hook(struct alert_exec *x, struct tmp *t)
{
	struct alert a = sample();

	alert_exec__submit(x, &a, "{}\n", 3, clock_boot_ns());
	assert_int_equal(alert_exec__stats(x)->started, 1);
	tick_until_file(x, t, "id");
	/* it is done or about to be: free() waits for it */
	alert_exec__free(x);
}

/* Whoever runs it, a hook gains no privileges at execve (no root needed). */
static void test_hook_no_new_privs(void **unused)
{
	struct alert_exec *x;
	char cmd[256], want[64], *s;
	struct tmp t;

	tmp_init(&t);
	write_file(&t, "hook", ID_HOOK, 0755);
	snprintf(cmd, sizeof(cmd), "%s/hook %s", t.dir, t.dir);
	x = alert_exec__new(cmd, 5 * SEC);
	assert_non_null(x);
	run_id_hook(x, &t);
	s = read_file(&t, "id", NULL);
	assert_non_null(s);
	snprintf(want, sizeof(want), "%u\n%u\n", getuid(), getgid());
	assert_true(!strncmp(s, want, strlen(want)));
	assert_non_null(strstr(s, "NoNewPrivs:\t1\n"));
	assert_non_null(strstr(s, "CapAmb:\t0000000000000000\n"));
	free(s);
	tmp_cleanup(&t);
}

/* As another user: its ids and no capability at all (root only). */
static void test_hook_as_user(void **unused)
{
	struct alert_exec *x;
	char cmd[256], want[64], *s, e[256];
	struct runas u;
	struct tmp t;

	if (geteuid())
		skip();
	assert_int_equal(runas_parse("nobody", &u, e, sizeof(e)), 0);
	tmp_init(&t);
	assert_int_equal(chmod(t.dir, 0777), 0);
	write_file(&t, "hook", ID_HOOK, 0755);
	snprintf(cmd, sizeof(cmd), "%s/hook %s", t.dir, t.dir);
	x = alert_exec__new(cmd, 5 * SEC);
	assert_non_null(x);
	alert_exec__run_as(x, &u);
	run_id_hook(x, &t);
	s = read_file(&t, "id", NULL);
	assert_non_null(s);
	snprintf(want, sizeof(want), "%u\n%u\n", u.uid, u.gid);
	assert_true(!strncmp(s, want, strlen(want)));
	assert_non_null(strstr(s, "CapInh:\t0000000000000000\n"));
	assert_non_null(strstr(s, "CapPrm:\t0000000000000000\n"));
	assert_non_null(strstr(s, "CapEff:\t0000000000000000\n"));
	assert_non_null(strstr(s, "CapAmb:\t0000000000000000\n"));
	assert_non_null(strstr(s, "NoNewPrivs:\t1\n"));
	free(s);
	tmp_cleanup(&t);
}

/*
 * Without CAP_SETUID the switch fails in the child: the command never runs
 * (as the wrong user) and counts as failed. Root only: a child drops them.
 */
static void test_hook_switch_fails_closed(void **unused)
{
	struct alert a = sample();
	struct alert_exec *x;
	char cmd[256], path[128], e[256];
	struct runas u;
	struct tmp t;
	int status;
	pid_t pid;

	if (geteuid())
		skip();
	assert_int_equal(runas_parse("nobody", &u, e, sizeof(e)), 0);
	tmp_init(&t);
	assert_int_equal(chmod(t.dir, 0777), 0);
	write_file(&t, "hook", ID_HOOK, 0755);
	snprintf(cmd, sizeof(cmd), "%s/hook %s", t.dir, t.dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint64_t left;

		if (privs_drop(0, 0, &left))
			_exit(10);
		x = alert_exec__new(cmd, 5 * SEC);
		if (!x)
			_exit(11);
		alert_exec__run_as(x, &u);
		alert_exec__submit(x, &a, "{}\n", 3, clock_boot_ns());
		for (int i = 0; i < 1000 && !alert_exec__stats(x)->failed; i++) {
			alert_exec__tick(x, clock_boot_ns());
			usleep(5000);
		}
		_exit(alert_exec__stats(x)->failed == 1 ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	tmp_path(&t, "id", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	tmp_cleanup(&t);
}

/* 8 running, 256 queued, the rest dropped */
static void test_flood_queued_then_dropped(void **unused)
{
	struct alert a = sample();
	struct alert_exec *x;
	char cmd[256];
	struct tmp t;
	uint64_t now;

	tmp_init(&t);
	write_file(&t, "slow", "#!/bin/sh\nexec sleep 5\n", 0755);
	snprintf(cmd, sizeof(cmd), "%s/slow", t.dir);
	x = alert_exec__new(cmd, 300 * MS);
	assert_non_null(x);
	/* one "now" for all: no hook reaches its deadline in between */
	now = clock_boot_ns();
	for (int i = 0; i < 8 + 256 + 5; i++) {
		a.cookie = i;
		alert_exec__submit(x, &a, "{}\n", 3, now);
		assert_int_equal(alert_exec__stats(x)->started, i < 8 ? i + 1 : 8);
		assert_int_equal(alert_exec__stats(x)->dropped, i < 8 + 256 ? 0 : i - 8 - 256 + 1);
	}
	tick(x);
	assert_int_equal(alert_exec__stats(x)->started, 8);
	assert_int_equal(alert_exec__stats(x)->dropped, 5);
	assert_int_equal(alert_exec__stats(x)->failed, 0);
	assert_int_equal(alert_exec__stats(x)->timed_out, 0);

	/* when the first 8 are killed at their timeout, 8 queued ones start */
	alert_exec__tick(x, now + 300 * MS);
	assert_int_equal(alert_exec__stats(x)->timed_out, 8);
	assert_int_equal(alert_exec__stats(x)->started, 16);
	assert_int_equal(alert_exec__stats(x)->dropped, 5);
	/* free: waits out the running ones' timeout, drops the queue */
	alert_exec__free(x);
	tmp_cleanup(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_firing_with_owner),
		cmocka_unit_test(test_env_resolved_without_owner),
		cmocka_unit_test(test_env_aggregate),
		cmocka_unit_test(test_env_verbatim_and_control_characters),
		cmocka_unit_test(test_env_no_space),
		cmocka_unit_test(test_new_rejects),
		cmocka_unit_test(test_hook_gets_alert_without_shell),
		cmocka_unit_test(test_hook_failures),
		cmocka_unit_test(test_slow_hook_killed_without_blocking),
		cmocka_unit_test(test_slow_hook_children_killed),
		cmocka_unit_test(test_flood_queued_then_dropped),
		cmocka_unit_test(test_hook_no_new_privs),
		cmocka_unit_test(test_hook_as_user),
		cmocka_unit_test(test_hook_switch_fails_closed),
	};

	/* as the event loop does (loop.c): a hook that exits before reading
	 * its stdin must not kill us with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
