// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The binary's behaviour at its edges: bad options and their exit codes,
 * missing privileges or BTF, -d, output that is live through a pipe, the
 * capabilities kept after load, and --alert-exec-user's startup errors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

static char out[65536];

/* Run tcpfsm with args (NULL-terminated), return exit status, output in out. */
static int tcpfsm(uid_t uid, ...)
{
	char *argv[32];
	va_list ap;
	int n = 0;

	argv[n++] = (char *)tcpfsm_path();
	va_start(ap, uid);
	while (n < 31 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return run_capture(argv, out, sizeof(out), uid);
}

static void expect_usage_error(const char *needle, int rc)
{
	if (!strstr(out, needle) || rc != 2)
		fprintf(stderr, "exit %d, output was: %s\n", rc, out);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, needle));
	/* argp's own errors quote with a backquote */
	assert_true(strstr(out, "Try 'tcpfsm") || strstr(out, "Try `tcpfsm"));
}

static void test_bad_options(void **state)
{
	expect_usage_error("bad port '0'", tcpfsm(0, "--port", "0", NULL));
	expect_usage_error("bad port '65536'", tcpfsm(0, "trace", "--lport", "65536", NULL));
	expect_usage_error("bad port 'http'", tcpfsm(0, "--rport", "http", NULL));
	expect_usage_error("unknown state 'SYN_WAIT'", tcpfsm(0, "--state", "SYN_WAIT", NULL));
	expect_usage_error("bad duration '-5'", tcpfsm(0, "-d", "-5", NULL));
	expect_usage_error("bad duration '3x'", tcpfsm(0, "-d", "3x", NULL));
	expect_usage_error("bad duration '0'", tcpfsm(0, "-d", "0", NULL));
	expect_usage_error("unknown command 'frobnicate'", tcpfsm(0, "frobnicate", NULL));
	expect_usage_error("unexpected argument 'extra'", tcpfsm(0, "trace", "extra", NULL));
	expect_usage_error("-4 and -6", tcpfsm(0, "-4", "-6", NULL));
	expect_usage_error("netns '/nonexistent'", tcpfsm(0, "--netns", "/nonexistent", NULL));
	expect_usage_error("tcpfsm trace: netns '/etc/passwd': not a network namespace",
			   tcpfsm(0, "trace", "--netns", "/etc/passwd", "-d", "1", NULL));
	expect_usage_error("netns 'tcpfsm-no-such-ns': no /run/netns/tcpfsm-no-such-ns",
			   tcpfsm(0, "--netns", "tcpfsm-no-such-ns", "-d", "1", NULL));
	expect_usage_error("--state TIME_WAIT never matches in trace",
			   tcpfsm(0, "trace", "--state", "TIME_WAIT", "-d", "1", NULL));
	expect_usage_error("tcpfsm hist: bad --by 'pid'", tcpfsm(0, "hist", "--by", "pid", NULL));
	expect_usage_error("bad --attach 'kprobe'", tcpfsm(0, "--attach", "kprobe", NULL));
	expect_usage_error("bad --ringbuf-size '3M'", tcpfsm(0, "--ringbuf-size", "3M", NULL));
	/* argp's own errors exit 2 as well, and say what */
	expect_usage_error("unrecognized option '--bogus'", tcpfsm(0, "--bogus", NULL));
	expect_usage_error("tcpfsm hist: unrecognized option '--bogus'",
			   tcpfsm(0, "hist", "--bogus", NULL));
	expect_usage_error("invalid option -- 'Z'", tcpfsm(0, "watch", "-Z", NULL));
	expect_usage_error("option requires an argument -- 'd'", tcpfsm(0, "trace", "-d", NULL));
	expect_usage_error("option '--alert' requires an argument",
			   tcpfsm(0, "serve", "--alert", NULL));
}

/* Each command refuses an option it does not take: exit 2, and where it
 * applies; nothing is loaded. */
static void test_option_not_for_command(void **state)
{
	static const char *const cases[][4] = {
		{ "trace", "--sweep", "5s", "tcpfsm trace: --sweep applies to watch, serve and top" },
		{ "history", "-i", "1s", "tcpfsm history: -i/--interval applies to hist and top" },
		{ "record", "--pid", "1", "tcpfsm record: --pid applies to trace and history" },
		{ "hist", "--alert", "SYN_SENT=1s",
		  "tcpfsm hist: --alert applies to watch, serve and top" },
		{ "watch", "--by", "lport", "tcpfsm watch: --by applies to hist" },
		{ "serve", "-r", "/dev/null",
		  "tcpfsm serve: -r/--replay applies to trace, history, hist and watch" },
		{ "top", "--listen", "127.0.0.1:1", "tcpfsm top: --listen applies to serve" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_usage_error(cases[i][3], tcpfsm(0, cases[i][0], cases[i][1], cases[i][2],
						       "-d", "1", NULL));
		assert_non_null(strstr(out, "Try 'tcpfsm "));
		assert_null(strstr(out, "tracing TCP"));
	}
	/* the issue's own: a filter hist cannot apply, checked before the file */
	expect_usage_error("tcpfsm hist: --pid applies to trace and history",
			   tcpfsm(0, "hist", "--pid", "999999", "-r", "tests/data/exchange.tfr", NULL));
	expect_usage_error("tcpfsm trace: --sweep applies to watch, serve and top",
			   tcpfsm(0, "trace", "--sweep", "5s", "--max-conns", "5", "-d", "1", NULL));
}

/* Options may come before the command word. */
static void test_options_before_command(void **state)
{
	char nsarg[16];
	uint32_t ns;
	int rc;

	assert_int_equal(netns_enter_new(&ns), 0);
	snprintf(nsarg, sizeof(nsarg), "%u", ns);
	rc = tcpfsm(0, "-d", "300ms", "--netns", nsarg, "trace", NULL);
	if (rc || !strstr(out, "0 events, 0 lost"))
		fprintf(stderr, "exit %d, output was: %s\n", rc, out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "0 events, 0 lost"));
}

static void test_help_and_version(void **state)
{
	/* a command's own option, and one of another command's */
	static const char *const own[][3] = {
		{ "trace", "--state=STATE", "--alert=" },
		{ "history", "--min-duration=", "--by=" },
		{ "record", "--write=FILE", "--json" },
		{ "hist", "--by=", "--alert=" },
		{ "watch", "--alert=", "--listen=" },
		{ "serve", "--listen=", "--batch" },
		{ "top", "--batch", "--log=" },
	};

	assert_int_equal(tcpfsm(0, "--version", NULL), 0);
	assert_non_null(strstr(out, "tcpfsm 0."));
	assert_int_equal(tcpfsm(0, "--help", NULL), 0);
	assert_non_null(strstr(out, "EXAMPLES"));
	assert_non_null(strstr(out, "--netns"));
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		assert_int_equal(tcpfsm(0, own[i][0], "--help", NULL), 0);
		if (!strstr(out, own[i][1]) || strstr(out, own[i][2]))
			fprintf(stderr, "%s --help: %s\n", own[i][0], out);
		assert_non_null(strstr(out, own[i][1]));
		assert_null(strstr(out, own[i][2]));
	}
}

/* --netns NAME: a namespace made by `ip netns add`. The tracer also gets
 * another namespace's inode (the harness's), so only the name can let the
 * named namespace's events through. */
static void test_netns_by_name(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char name[48], path[96], cmd[160];
	const char *extra[] = { "--netns", name, NULL };
	struct tracer t;
	uint32_t other;
	int fd, ok;

	assert_int_equal(netns_enter_new(&other), 0);
	snprintf(name, sizeof(name), "tcpfsm-itest-%d", getpid());
	snprintf(cmd, sizeof(cmd), "ip netns add %s && ip -n %s link set lo up", name, name);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(setns(fd, CLONE_NEWNET), 0);
	close(fd);
	ok = tracer_start(&t, other, extra) == 0;
	if (ok) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		connect(fd, (struct sockaddr *)&a, sizeof(a)); /* refused */
		close(fd);
		tracer_wait_output(&t, "\"SYN_SENT\",\"new\":\"CLOSE\"", 3000);
		ok = tracer_stop(&t) == 0 && find_cookie(&t, "SYN_SENT", "CLOSE");
		if (!ok)
			fprintf(stderr, "stderr: %s\n", t.err_text ? t.err_text : "");
		tracer_free(&t);
	}
	snprintf(cmd, sizeof(cmd), "ip netns del %s", name);
	assert_int_equal(system(cmd), 0);
	assert_true(ok);
}

static void test_not_root(void **state)
{
	char dir[] = "/tmp/tcpfsm-itest-XXXXXX", bin[64], cmd[160];
	char *argv[] = { bin, "trace", "-d", "1", NULL };
	int rc;

	/* a copy that uid 65534 can run, wherever this checkout lives */
	assert_non_null(mkdtemp(dir));
	snprintf(bin, sizeof(bin), "%s/tcpfsm", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s && chmod 755 %s %s", tcpfsm_path(), bin, dir, bin);
	assert_int_equal(system(cmd), 0);
	rc = run_capture(argv, out, sizeof(out), 65534);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "needs root, or the capabilities CAP_BPF and CAP_PERFMON"));
}

static void test_missing_btf_file(void **state)
{
	assert_int_equal(tcpfsm(0, "--btf", "/nonexistent/vmlinux", "-d", "1", NULL), 1);
	assert_non_null(strstr(out, "cannot read BTF file /nonexistent/vmlinux"));
}

static void test_duration_ends_run(void **state)
{
	struct timespec a, b;
	uint32_t ns;
	char nsarg[16];
	int rc;

	assert_int_equal(netns_enter_new(&ns), 0);
	snprintf(nsarg, sizeof(nsarg), "%u", ns);
	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = tcpfsm(0, "trace", "--netns", nsarg, "-d", "300ms", NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "0 events, 0 lost"));
	/* behaviour, not timing: it ended by itself, not after a minute */
	assert_true(b.tv_sec - a.tv_sec < 60);
}

/* `tcpfsm trace | grep` must see lines while tcpfsm is still running. */
static void test_output_is_live(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct pollfd pfd;
	char nsarg[16], buf[4096] = "";
	int p[2], e[2], fd, status;
	size_t got = 0;
	uint32_t ns;
	pid_t pid;

	assert_int_equal(netns_enter_new(&ns), 0);
	snprintf(nsarg, sizeof(nsarg), "%u", ns);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(e), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(e[1], 2);
		execl(tcpfsm_path(), tcpfsm_path(), "trace", "--netns", nsarg, NULL);
		_exit(127);
	}
	close(p[1]);
	close(e[1]);
	/* wait for "tracing" on stderr */
	pfd.fd = e[0];
	pfd.events = POLLIN;
	while (!strstr(buf, "tracing TCP")) {
		ssize_t r;

		assert_true(poll(&pfd, 1, 30000) > 0);
		r = read(e[0], buf + got, sizeof(buf) - 1 - got);
		assert_true(r > 0);
		got += r;
		buf[got] = 0;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), -1);
	close(fd);
	/* the transition line must arrive while tcpfsm still runs */
	got = 0;
	buf[0] = 0;
	pfd.fd = p[0];
	while (!strstr(buf, "SYN_SENT -> CLOSE")) {
		ssize_t r;

		assert_true(poll(&pfd, 1, 2000) > 0);
		r = read(p[0], buf + got, sizeof(buf) - 1 - got);
		assert_true(r > 0);
		got += r;
		buf[got] = 0;
	}
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0); /* still running */
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(p[0]);
	close(e[0]);
}

/* A capability set of pid: "CapEff", "CapBnd", ... */
static uint64_t caps_of(pid_t pid, const char *set)
{
	char path[64], line[256];
	size_t n = strlen(set);
	uint64_t v = ~0ULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, set, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	fclose(f);
	return v;
}

static uint64_t cap_eff(pid_t pid)
{
	return caps_of(pid, "CapEff");
}

/* After load and attach only what is still needed is kept. */
static void test_drops_capabilities(void **state)
{
	struct tracer t;
	uint32_t ns;

	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start(&t, ns, NULL), 0);
	assert_int_equal(cap_eff(t.pid), 0);
	/* nothing it could exec would get any back */
	assert_int_equal(caps_of(t.pid, "CapBnd"), 0);
	assert_int_equal(tracer_stop(&t), 0);
	tracer_free(&t);
	/* watch keeps setns (request sweeps) and reading others' /proc fds */
	assert_int_equal(tracer_start_cmd(&t, "watch", ns, NULL), 0);
	assert_int_equal(cap_eff(t.pid), (1ULL << 21) | (1ULL << 19) | (1ULL << 2));
	assert_int_equal(caps_of(t.pid, "CapPrm"), (1ULL << 21) | (1ULL << 19) | (1ULL << 2));
	assert_int_equal(caps_of(t.pid, "CapBnd"), (1ULL << 21) | (1ULL << 19) | (1ULL << 2));
	assert_int_equal(tracer_stop(&t), 0);
	tracer_free(&t);
}

/* IDs of the BPF programs process pid holds fds of (/proc/PID/fdinfo). */
static int programs_of(pid_t pid, int *ids, int max)
{
	char dir[64], path[128], line[128];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", pid);
	dp = opendir(dir);
	while (dp && (d = readdir(dp))) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%.20s", dir, d->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "prog_id:", 8) && n < max)
				ids[n++] = atoi(line + 8);
		if (f)
			fclose(f);
	}
	if (dp)
		closedir(dp);
	return n;
}

static bool program_exists(int id)
{
	char sid[16];
	char *argv[] = { "/usr/sbin/bpftool", "prog", "show", "id", sid, NULL };

	snprintf(sid, sizeof(sid), "%d", id);
	return run_capture(argv, out, sizeof(out), 0) == 0;
}

/* SIGKILL: the kernel drops programs, links and maps with the last fd;
 * nothing is pinned, no tracefs mount is left on the host. (Other tracers
 * may run on this machine: only our child's programs are looked at.) */
static void test_sigkill_leaves_nothing(void **state)
{
	char *mounts[] = { "/bin/sh", "-c", "grep -c tracefs /proc/self/mounts", NULL };
	const char *fallback[] = { "--attach=tracepoint", NULL };
	int ids[64], n, mounts_before;
	struct tracer t;
	uint32_t ns;

	run_capture(mounts, out, sizeof(out), 0);
	mounts_before = atoi(out);
	assert_int_equal(netns_enter_new(&ns), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tracer_start(&t, ns, i ? fallback : NULL), 0);
		n = programs_of(t.pid, ids, 64);
		assert_true(n >= 3); /* the state tracepoint and softirq tracking at least */
		kill(t.pid, SIGKILL);
		tracer_free(&t); /* reaps it */
		for (int k = 0; k < n; k++) {
			for (int w = 0; w < 100 && program_exists(ids[k]); w++)
				msleep(20);
			assert_false(program_exists(ids[k]));
		}
		run_capture(mounts, out, sizeof(out), 0);
		assert_int_equal(atoi(out), mounts_before);
	}
}

/* Bad --log and a taken port fail before anything is loaded. */
static void test_serve_startup_errors(void **state)
{
	int fd, one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(19876),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint32_t ns;

	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tcpfsm(0, "serve", "--listen", "127.0.0.1:19876", "--log",
				"/nonexistent/dir/t.json", "-d", "1", NULL),
			 1);
	assert_non_null(strstr(out, "cannot open --log /nonexistent/dir/t.json"));
	assert_null(strstr(out, "tracing TCP"));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(tcpfsm(0, "serve", "--listen", "127.0.0.1:19876", "-d", "1", NULL), 1);
	assert_non_null(strstr(out, "--listen: cannot listen"));
	assert_null(strstr(out, "tracing TCP"));
	close(fd);
}

/*
 * --alert-exec-user: an unknown user is a usage error; without CAP_SETUID
 * and CAP_SETGID (not root) a clear error. Either way before any loading.
 */
static void test_alert_exec_user_errors(void **state)
{
	char dir[] = "/tmp/tcpfsm-itest-XXXXXX", bin[64], cmd[160];
	char *argv[] = { bin, "watch", "--alert-exec", "/bin/true", "--alert-exec-user", "daemon",
			 "-d", "1", NULL };
	int rc;

	expect_usage_error("--alert-exec-user: no such user 'tcpfsm-no-such-user'",
			   tcpfsm(0, "watch", "--alert-exec", "/bin/true", "--alert-exec-user",
				  "tcpfsm-no-such-user", "-d", "1", NULL));
	assert_null(strstr(out, "tracing TCP"));
	expect_usage_error("--alert-exec-user: no such group 'tcpfsm-no-such-group'",
			   tcpfsm(0, "serve", "--alert-exec", "/bin/true", "--alert-exec-user",
				  "nobody:tcpfsm-no-such-group", "-d", "1", NULL));
	expect_usage_error("--alert-exec-user goes with --alert-exec CMD",
			   tcpfsm(0, "watch", "--alert-exec-user", "nobody", "-d", "1", NULL));
	expect_usage_error("tcpfsm trace: --alert-exec-user applies to watch, serve and top",
			   tcpfsm(0, "trace", "--alert-exec-user", "nobody", "-d", "1", NULL));

	/* a copy that uid 65534 can run */
	assert_non_null(mkdtemp(dir));
	snprintf(bin, sizeof(bin), "%s/tcpfsm", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s && chmod 755 %s %s", tcpfsm_path(), bin, dir, bin);
	assert_int_equal(system(cmd), 0);
	rc = run_capture(argv, out, sizeof(out), 65534);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	if (!strstr(out, "--alert-exec-user needs CAP_SETUID and CAP_SETGID"))
		fprintf(stderr, "output was: %s\n", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "--alert-exec-user needs CAP_SETUID and CAP_SETGID"));
	/* it said so before trying to load anything */
	assert_null(strstr(out, "needs root, or the capabilities"));
	assert_null(strstr(out, "tracing TCP"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_options),	 cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_option_not_for_command),
		cmocka_unit_test(test_options_before_command),
		cmocka_unit_test(test_netns_by_name),
		cmocka_unit_test(test_not_root),	 cmocka_unit_test(test_missing_btf_file),
		cmocka_unit_test(test_duration_ends_run), cmocka_unit_test(test_output_is_live),
		cmocka_unit_test(test_drops_capabilities),
		cmocka_unit_test(test_sigkill_leaves_nothing),
		cmocka_unit_test(test_serve_startup_errors),
		cmocka_unit_test(test_alert_exec_user_errors),
	};

	return cmocka_run_group_tests_name("itest_cli", tests, NULL, NULL);
}
