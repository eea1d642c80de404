// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cli_parse / cli_parse_ports: defaults, every option, bad values and messages. */
#include <argp.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pwd.h>
#include <unistd.h>
#include <cmocka.h>
#include "cmd/cli.h"

#define SEC 1000000000ULL
#define MAX_ARGS 64

static struct tcpfsm_config cfg;
static char err[512];
static unsigned int argp_flags = ARGP_NO_EXIT | ARGP_NO_ERRS;
/* writable copies: argp may permute argv */
static char *argv_copy[MAX_ARGS + 1];
static int argc_copy;

static void free_args(void)
{
	for (int i = 0; i < argc_copy; i++)
		free(argv_copy[i]);
	argc_copy = 0;
}

/* cli_parse on "tcpfsm" followed by the NULL-terminated arguments */
static int parse_v(const char *first, va_list ap)
{
	const char *a;

	free_args();
	argv_copy[argc_copy++] = strdup("tcpfsm");
	for (a = first; a; a = va_arg(ap, const char *)) {
		assert_true(argc_copy < MAX_ARGS);
		argv_copy[argc_copy++] = strdup(a);
	}
	argv_copy[argc_copy] = NULL;
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = 0;
	/* cli_parse must reset whatever was there */
	memset(&cfg, 0xa5, sizeof(cfg));
	return cli_parse(argc_copy, argv_copy, &cfg, argp_flags, err, sizeof(err));
}

static int parse_args(const char *first, ...)
{
	va_list ap;
	int r;

	va_start(ap, first);
	r = parse_v(first, ap);
	va_end(ap);
	return r;
}

/* expect success with no message */
#define parse_ok(...) parse_ok_(parse_args(__VA_ARGS__))
static void parse_ok_(int r)
{
	if (r)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(r, 0);
	assert_string_equal(err, "");
}

/* expect -EINVAL with a message containing want */
#define parse_fails(want, ...) parse_fails_(want, parse_args(__VA_ARGS__))
static void parse_fails_(const char *want, int r)
{
	assert_int_equal(r, -EINVAL);
	assert_true(strlen(err) > 0);
	assert_null(strchr(err, '\n'));
	if (!strstr(err, want))
		print_error("message '%s' lacks '%s'\n", err, want);
	assert_non_null(strstr(err, want));
}

static int teardown(void **unused)
{
	free_args();
	return 0;
}

static void assert_defaults(void)
{
	unsigned int i;

	assert_int_equal(cfg.cmd, CMD_TRACE);
	assert_false(cfg.json);
	assert_int_equal(cfg.verbose, 0);
	assert_int_equal(cfg.duration_ns, 0);
	assert_int_equal(cfg.kf.family, 0);
	assert_int_equal(cfg.kf.n_ports, 0);
	assert_int_equal(cfg.kf.n_lports, 0);
	assert_int_equal(cfg.kf.n_rports, 0);
	assert_int_equal(cfg.kf.n_netns, 0);
	assert_int_equal(cfg.kf.cgroup_id, 0);
	assert_int_equal(cfg.uf.n_pids, 0);
	assert_int_equal(cfg.uf.n_comms, 0);
	assert_int_equal(cfg.uf.state_mask, 0);
	assert_int_equal(cfg.attach, ATTACH_AUTO);
	assert_null(cfg.btf_path);
	assert_int_equal(cfg.ringbuf_bytes, 16 << 20);
	assert_null(cfg.alert_exec);
	assert_false(cfg.alert_exec_user.set);
	for (i = 0; i < TCPFSM_MAX_PORTS; i++)
		assert_int_equal(cfg.kf.ports[i], 0);
}

static void test_defaults(void **unused)
{
	parse_ok(NULL);
	assert_defaults();
	parse_ok("trace", NULL);
	assert_defaults();
}

static void test_json_verbose(void **unused)
{
	parse_ok("-j", NULL);
	assert_true(cfg.json);
	parse_ok("trace", "--json", NULL);
	assert_true(cfg.json);
	assert_int_equal(cfg.cmd, CMD_TRACE);
	parse_ok("-v", "-v", "--verbose", NULL);
	assert_int_equal(cfg.verbose, 3);
	assert_false(cfg.json);
}

static void test_duration(void **unused)
{
	parse_ok("-d", "250ms", NULL);
	assert_int_equal(cfg.duration_ns, 250000000ULL);
	parse_ok("-d", "10", NULL);
	assert_int_equal(cfg.duration_ns, 10 * SEC);
	parse_ok("trace", "-d", "5m", NULL);
	assert_int_equal(cfg.duration_ns, 300 * SEC);
	parse_ok("--duration=1h", NULL);
	assert_int_equal(cfg.duration_ns, 3600 * SEC);
	parse_ok("-d1.5s", NULL);
	assert_int_equal(cfg.duration_ns, 1500000000ULL);

	parse_fails("bad duration '-5'", "-d", "-5", NULL);
	parse_fails("bad duration '0'", "-d", "0", NULL);
	parse_fails("bad duration '0ms'", "-d", "0ms", NULL);
	parse_fails("bad duration 'abc'", "-d", "abc", NULL);
	parse_fails("bad duration ''", "-d", "", NULL);
	parse_fails("duration '300000d' is too long", "-d", "300000d", NULL);
	/* missing argument */
	parse_fails("", "-d", NULL);
}

static void test_family(void **unused)
{
	parse_ok("-4", NULL);
	assert_int_equal(cfg.kf.family, TCPFSM_AF_INET);
	parse_ok("--ipv6", NULL);
	assert_int_equal(cfg.kf.family, TCPFSM_AF_INET6);
	parse_fails("-4 and -6 exclude each other", "-4", "-6", NULL);
	parse_fails("-4 and -6 exclude each other", "-6", "-4", NULL);
	parse_fails("-4 and -6 exclude each other", "-46", NULL);
	parse_fails("-4 and -6 exclude each other", "-4", "-4", NULL);
}

static void test_ports(void **unused)
{
	parse_ok("trace", "--port", "80", NULL);
	assert_int_equal(cfg.kf.n_ports, 1);
	assert_int_equal(cfg.kf.ports[0], 80);

	parse_ok("--port", "80,443", NULL);
	assert_int_equal(cfg.kf.n_ports, 2);
	assert_int_equal(cfg.kf.ports[0], 80);
	assert_int_equal(cfg.kf.ports[1], 443);

	/* repeated options append */
	parse_ok("--port", "80,443", "--port=8080", "--port", "1,65535", NULL);
	assert_int_equal(cfg.kf.n_ports, 5);
	assert_int_equal(cfg.kf.ports[0], 80);
	assert_int_equal(cfg.kf.ports[1], 443);
	assert_int_equal(cfg.kf.ports[2], 8080);
	assert_int_equal(cfg.kf.ports[3], 1);
	assert_int_equal(cfg.kf.ports[4], 65535);
	assert_int_equal(cfg.kf.n_lports, 0);
	assert_int_equal(cfg.kf.n_rports, 0);

	parse_ok("--lport", "22", "--rport", "443,8443", "--lport", "2222", NULL);
	assert_int_equal(cfg.kf.n_ports, 0);
	assert_int_equal(cfg.kf.n_lports, 2);
	assert_int_equal(cfg.kf.lports[0], 22);
	assert_int_equal(cfg.kf.lports[1], 2222);
	assert_int_equal(cfg.kf.n_rports, 2);
	assert_int_equal(cfg.kf.rports[0], 443);
	assert_int_equal(cfg.kf.rports[1], 8443);
}

static void test_bad_ports(void **unused)
{
	parse_fails("bad port '0'", "--port", "0", NULL);
	parse_fails("bad port '65536'", "--port", "65536", NULL);
	parse_fails("bad port 'abc'", "--port", "abc", NULL);
	parse_fails("bad port '80,'", "--port", "80,", NULL);
	parse_fails("bad port ',80'", "--port", ",80", NULL);
	parse_fails("bad port '-1'", "--port", "-1", NULL);
	parse_fails("bad port '80,,443'", "--lport", "80,,443", NULL);
	parse_fails("bad port '80 '", "--rport", "80 ", NULL);
	parse_fails("bad port '+80'", "--rport", "+80", NULL);
	parse_fails("bad port '99999999999999999999'", "--port", "99999999999999999999", NULL);
	parse_fails("empty port list", "--port", "", NULL);
	parse_fails("too many ports (at most 16 per option)", "--port",
		    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", NULL);
	/* the limit holds across repeated options too */
	parse_fails("too many ports", "--port", "1,2,3,4,5,6,7,8", "--port",
		    "9,10,11,12,13,14,15,16", "--port", "17", NULL);
	parse_ok("--port", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", NULL);
	assert_int_equal(cfg.kf.n_ports, 16);
	assert_int_equal(cfg.kf.ports[15], 16);
}

static void test_parse_ports_direct(void **unused)
{
	uint16_t list[TCPFSM_MAX_PORTS];
	unsigned int n = 0, i;
	char e[128];

	memset(list, 0, sizeof(list));
	e[0] = 0;
	assert_int_equal(cli_parse_ports("443", list, &n, e, sizeof(e)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0], 443);
	assert_int_equal(cli_parse_ports("80,8080", list, &n, e, sizeof(e)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[1], 80);
	assert_int_equal(list[2], 8080);
	assert_int_equal(cli_parse_ports("0080", list, &n, e, sizeof(e)), 0);
	assert_int_equal(n, 4);
	assert_int_equal(list[3], 80);
	assert_string_equal(e, "");

	assert_int_equal(cli_parse_ports("", list, &n, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "empty port list");
	assert_int_equal(cli_parse_ports("0", list, &n, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "bad port '0': expected a number 1-65535");
	assert_int_equal(cli_parse_ports("65536", list, &n, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "bad port '65536': expected a number 1-65535");
	assert_int_equal(cli_parse_ports("x", list, &n, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "bad port 'x': expected a number 1-65535");
	assert_int_equal(cli_parse_ports(",", list, &n, e, sizeof(e)), -EINVAL);
	assert_int_equal(cli_parse_ports("1;2", list, &n, e, sizeof(e)), -EINVAL);
	assert_int_equal(cli_parse_ports("18446744073709551617", list, &n, e, sizeof(e)),
			 -EINVAL);
	/* a failed list adds nothing */
	assert_int_equal(n, 4);
	assert_int_equal(cli_parse_ports("22,0", list, &n, e, sizeof(e)), -EINVAL);
	assert_int_equal(n, 4);

	/* fill up, then one more */
	for (i = 4; i < TCPFSM_MAX_PORTS; i++)
		assert_int_equal(cli_parse_ports("1", list, &n, e, sizeof(e)), 0);
	assert_int_equal(n, TCPFSM_MAX_PORTS);
	assert_int_equal(cli_parse_ports("2", list, &n, e, sizeof(e)), -E2BIG);
	assert_string_equal(e, "too many ports (at most 16 per option)");
	assert_int_equal(n, TCPFSM_MAX_PORTS);

	/* a tiny message buffer is still NUL-terminated */
	n = 0;
	memset(e, 'X', sizeof(e));
	assert_int_equal(cli_parse_ports("abc", list, &n, e, 5), -EINVAL);
	assert_string_equal(e, "bad ");
}

static void test_pid(void **unused)
{
	parse_ok("--pid", "1", "--pid=4242", "--pid", "2147483647", NULL);
	assert_int_equal(cfg.uf.n_pids, 3);
	assert_int_equal(cfg.uf.pids[0], 1);
	assert_int_equal(cfg.uf.pids[1], 4242);
	assert_int_equal(cfg.uf.pids[2], 2147483647);

	parse_fails("bad pid '0'", "--pid", "0", NULL);
	parse_fails("bad pid '-1'", "--pid", "-1", NULL);
	parse_fails("bad pid 'abc'", "--pid", "abc", NULL);
	parse_fails("bad pid '12abc'", "--pid", "12abc", NULL);
	parse_fails("bad pid ''", "--pid", "", NULL);
	parse_fails("bad pid '2147483648'", "--pid", "2147483648", NULL);
	parse_fails("bad pid '99999999999999999999'", "--pid", "99999999999999999999", NULL);
	parse_fails("too many --pid (at most 16)", "--pid", "1", "--pid", "2", "--pid", "3",
		    "--pid", "4", "--pid", "5", "--pid", "6", "--pid", "7", "--pid", "8", "--pid",
		    "9", "--pid", "10", "--pid", "11", "--pid", "12", "--pid", "13", "--pid", "14",
		    "--pid", "15", "--pid", "16", "--pid", "17", NULL);
}

static void test_comm(void **unused)
{
	parse_ok("--comm", "nginx", "--comm", "123456789012345", NULL);
	assert_int_equal(cfg.uf.n_comms, 2);
	assert_string_equal(cfg.uf.comms[0], "nginx");
	assert_string_equal(cfg.uf.comms[1], "123456789012345");

	parse_fails("bad comm '1234567890123456'", "--comm", "1234567890123456", NULL);
	parse_fails("bad comm 'a-much-longer-command-name'", "--comm",
		    "a-much-longer-command-name", NULL);
	parse_fails("bad comm ''", "--comm", "", NULL);
	parse_fails("too many --comm (at most 8)", "--comm", "a", "--comm", "b", "--comm", "c",
		    "--comm", "d", "--comm", "e", "--comm", "f", "--comm", "g", "--comm", "h",
		    "--comm", "i", NULL);
}

static void test_netns(void **unused)
{
	struct stat st;

	parse_ok("--netns", "4026531840", NULL);
	assert_int_equal(cfg.kf.n_netns, 1);
	assert_int_equal(cfg.kf.netns[0], 4026531840U);

	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	parse_ok("--netns", "/proc/self/ns/net", "--netns=4026532000", NULL);
	assert_int_equal(cfg.kf.n_netns, 2);
	assert_int_equal(cfg.kf.netns[0], st.st_ino);
	assert_int_equal(cfg.kf.netns[1], 4026532000U);

	parse_fails("netns '/nonexistent': No such file or directory", "--netns", "/nonexistent",
		    NULL);
	/* a file that is not a namespace, a namespace of another kind */
	parse_fails("netns '/etc/passwd': not a network namespace", "--netns", "/etc/passwd", NULL);
	parse_fails("netns '/proc/self': not a network namespace", "--netns", "/proc/self", NULL);
	parse_fails("netns '/proc/self/ns/uts': not a network namespace", "--netns",
		    "/proc/self/ns/uts", NULL);
	/* a word without '/' is an `ip netns` name */
	parse_fails("netns 'tcpfsm-no-such-netns': no /run/netns/tcpfsm-no-such-netns "
		    "(`ip netns list` shows the names)",
		    "--netns", "tcpfsm-no-such-netns", NULL);
	parse_fails("bad netns '..'", "--netns", "..", NULL);
	parse_fails("bad netns '0'", "--netns", "0", NULL);
	parse_fails("bad netns '4294967296'", "--netns", "4294967296", NULL);
	parse_fails("netns ''", "--netns", "", NULL);
	parse_fails("too many --netns (at most 8)", "--netns", "1", "--netns", "2", "--netns",
		    "3", "--netns", "4", "--netns", "5", "--netns", "6", "--netns", "7", "--netns",
		    "8", "--netns", "9", NULL);
}

static void test_cgroup(void **unused)
{
	struct stat st;

	parse_ok("--cgroup", "12345", NULL);
	assert_int_equal(cfg.kf.cgroup_id, 12345);
	parse_fails("bad cgroup '0'", "--cgroup", "0", NULL);
	parse_fails("only one --cgroup", "--cgroup", "1", "--cgroup", "2", NULL);
	parse_fails("cgroup '/no/such/cgroup/here'", "--cgroup", "/no/such/cgroup/here", NULL);
	/* an absolute path is taken under /sys/fs/cgroup */
	parse_fails("cgroup '/proc/self': No such file or directory", "--cgroup", "/proc/self",
		    NULL);

	/* the cgroup v2 root, named relative to /sys/fs/cgroup and in full */
	if (stat("/sys/fs/cgroup", &st) || !S_ISDIR(st.st_mode))
		return;
	parse_ok("--cgroup", "/", NULL);
	assert_int_equal(cfg.kf.cgroup_id, st.st_ino);
	parse_ok("--cgroup", "/sys/fs/cgroup", NULL);
	assert_int_equal(cfg.kf.cgroup_id, st.st_ino);
	/* a file, not a cgroup directory */
	parse_fails("cgroup '/sys/fs/cgroup/../../../proc/self/status': Not a directory",
		    "--cgroup", "/sys/fs/cgroup/../../../proc/self/status", NULL);
}

static void test_state(void **unused)
{
	parse_ok("--state", "SYN-RECEIVED", NULL);
	assert_int_equal(cfg.uf.state_mask, 1u << TCPFSM_SYN_RECV);
	parse_ok("history", "--state", "close_wait", "--state=TIME-WAIT", NULL);
	assert_int_equal(cfg.uf.state_mask, (1u << TCPFSM_CLOSE_WAIT) | (1u << TCPFSM_TIME_WAIT));

	parse_fails("unknown state 'bogus'", "--state", "bogus", NULL);
	parse_fails("unknown state ''", "--state", "", NULL);
}

/* States a command never sees cannot select anything: an error, not an
 * empty run that exits 0. */
static void test_state_never_matches(void **unused)
{
	parse_fails("--state TIME_WAIT never matches in trace: the kernel reports no transition "
		    "into TIME_WAIT",
		    "trace", "--state", "TIME_WAIT", NULL);
	/* it says what does work */
	assert_non_null(strstr(err, "history --state TIME_WAIT"));
	parse_fails("never matches in trace", "--state", "time-wait", NULL);
	parse_fails("never matches in trace", "trace", "--state", "CLOSE_WAIT", "--state",
		    "TIME_WAIT", NULL);
	parse_fails("--state NEW_SYN_RECV never matches in trace", "trace", "--state",
		    "NEW_SYN_RECV", NULL);
	parse_fails("--state NEW_SYN_RECV never matches in history", "history", "--state",
		    "NEW_SYN_RECV", NULL);
	assert_non_null(strstr(err, "--state SYN_RECV"));
	/* history sees TIME_WAIT at the end of a path */
	parse_ok("history", "--state", "TIME_WAIT", NULL);
	assert_int_equal(cfg.uf.state_mask, 1u << TCPFSM_TIME_WAIT);
	parse_ok("trace", "--state", "SYN_RECV", NULL);
	assert_int_equal(cfg.uf.state_mask, 1u << TCPFSM_SYN_RECV);
}

static void test_attach(void **unused)
{
	parse_ok("--attach", "tracepoint", NULL);
	assert_int_equal(cfg.attach, ATTACH_TRACEPOINT);
	parse_ok("--attach", "tp_btf", NULL);
	assert_int_equal(cfg.attach, ATTACH_TP_BTF);
	parse_ok("--attach=auto", NULL);
	assert_int_equal(cfg.attach, ATTACH_AUTO);
	parse_fails("bad --attach 'bogus'", "--attach", "bogus", NULL);
	parse_fails("bad --attach 'TP_BTF'", "--attach", "TP_BTF", NULL);
}

static void test_btf(void **unused)
{
	parse_ok("--btf", "/tmp/vmlinux.btf", NULL);
	assert_string_equal(cfg.btf_path, "/tmp/vmlinux.btf");
	parse_fails("empty --btf path", "--btf", "", NULL);
}

static void test_ringbuf_size(void **unused)
{
	parse_ok("--ringbuf-size", "64K", NULL);
	assert_int_equal(cfg.ringbuf_bytes, 64 << 10);
	parse_ok("--ringbuf-size", "1M", NULL);
	assert_int_equal(cfg.ringbuf_bytes, 1 << 20);
	parse_ok("--ringbuf-size", "1g", NULL);
	assert_int_equal(cfg.ringbuf_bytes, 1 << 30);
	parse_ok("--ringbuf-size", "131072", NULL);
	assert_int_equal(cfg.ringbuf_bytes, 131072);
	parse_ok("--ringbuf-size=512k", NULL);
	assert_int_equal(cfg.ringbuf_bytes, 512 << 10);

	parse_fails("bad --ringbuf-size '3M'", "--ringbuf-size", "3M", NULL);
	parse_fails("bad --ringbuf-size '1K'", "--ringbuf-size", "1K", NULL);
	parse_fails("bad --ringbuf-size '2G'", "--ringbuf-size", "2G", NULL);
	parse_fails("bad --ringbuf-size '0'", "--ringbuf-size", "0", NULL);
	parse_fails("bad --ringbuf-size ''", "--ringbuf-size", "", NULL);
	parse_fails("bad --ringbuf-size '64KB'", "--ringbuf-size", "64KB", NULL);
	parse_fails("bad --ringbuf-size '-64K'", "--ringbuf-size", "-64K", NULL);
	parse_fails("bad --ringbuf-size '1T'", "--ringbuf-size", "1T", NULL);
	/* values whose shifted size wraps around 2^64 to a valid power of two */
	parse_fails("bad --ringbuf-size '17179869185G'", "--ringbuf-size", "17179869185G", NULL);
	parse_fails("bad --ringbuf-size '17592186044417M'", "--ringbuf-size", "17592186044417M",
		    NULL);
	parse_fails("bad --ringbuf-size '18014398509482048K'", "--ringbuf-size",
		    "18014398509482048K", NULL);
	parse_fails("bad --ringbuf-size '99999999999999999999'", "--ringbuf-size",
		    "99999999999999999999", NULL);
}

static void test_alert_exec_user(void **unused)
{
	static const char *const cmds[] = { "watch", "serve", "top" };
	struct passwd *pw = getpwnam("nobody");

	assert_non_null(pw);
	parse_ok("watch", "--alert-exec", "/bin/true", NULL);
	assert_string_equal(cfg.alert_exec, "/bin/true");
	assert_false(cfg.alert_exec_user.set);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		parse_ok(cmds[i], "--alert-exec", "/bin/true", "--alert-exec-user", "nobody", NULL);
		assert_true(cfg.alert_exec_user.set);
		assert_int_equal(cfg.alert_exec_user.uid, pw->pw_uid);
		assert_int_equal(cfg.alert_exec_user.gid, pw->pw_gid);
		assert_string_equal(cfg.alert_exec_user.spec, "nobody");
	}
	/* numeric ids, a group, the = form, either order */
	parse_ok("watch", "--alert-exec-user=0:65534", "--alert-exec", "/bin/true", NULL);
	assert_true(cfg.alert_exec_user.set);
	assert_int_equal(cfg.alert_exec_user.uid, 0);
	assert_int_equal(cfg.alert_exec_user.gid, 65534);
	assert_int_equal(cfg.alert_exec_user.ngroups, 1);
	parse_ok("serve", "--alert-exec-user", "nobody:root", "--alert-exec", "/bin/true", NULL);
	assert_int_equal(cfg.alert_exec_user.uid, pw->pw_uid);
	assert_int_equal(cfg.alert_exec_user.gid, 0);

	parse_fails("--alert-exec-user: no such user 'tcpfsm-no-such-user'", "watch",
		    "--alert-exec", "/bin/true", "--alert-exec-user", "tcpfsm-no-such-user", NULL);
	parse_fails("--alert-exec-user: no such group 'tcpfsm-no-such-group'", "watch",
		    "--alert-exec", "/bin/true", "--alert-exec-user", "nobody:tcpfsm-no-such-group",
		    NULL);
	parse_fails("bad --alert-exec-user 'nobody:'", "watch", "--alert-exec", "/bin/true",
		    "--alert-exec-user", "nobody:", NULL);
	parse_fails("bad --alert-exec-user ''", "watch", "--alert-exec", "/bin/true",
		    "--alert-exec-user", "", NULL);
	parse_fails("uid 4000000000 has no passwd entry", "watch", "--alert-exec", "/bin/true",
		    "--alert-exec-user", "4000000000", NULL);
	/* only with a hook, only where there are alerts */
	parse_fails("--alert-exec-user goes with --alert-exec CMD", "watch", "--alert-exec-user",
		    "nobody", NULL);
	parse_fails("--alert-exec-user applies to watch, serve and top", "trace",
		    "--alert-exec-user", "nobody", NULL);
	parse_fails("--alert-exec applies to watch, serve and top", "history", "--alert-exec",
		    "/bin/true", "--alert-exec-user", "nobody", NULL);
	/* missing argument */
	parse_fails("", "watch", "--alert-exec", "/bin/true", "--alert-exec-user", NULL);
	/* a later parse forgets it */
	parse_ok(NULL);
	assert_defaults();
}

static void test_commands_and_arguments(void **unused)
{
	parse_fails("unknown command 'frobnicate'", "frobnicate", NULL);
	parse_fails("unknown command 'frobnicate'", "frobnicate", "-j", NULL);
	parse_fails("unexpected argument 'extra'", "trace", "extra", NULL);
	parse_fails("unexpected argument 'extra'", "trace", "-j", "extra", NULL);
	parse_fails("unexpected argument 'history'", "trace", "history", NULL);
	/* the first word that is not an option is the command */
	parse_fails("unknown command 'extra'", "-j", "extra", NULL);
	parse_fails("unknown command '5'", "-j", "5", NULL);
	/* an unknown option: argp's own error, a generic message here */
	parse_fails("bad command line", "--no-such-option", NULL);
	parse_fails("bad command line", "-Z", NULL);
	parse_fails("bad command line", "trace", "--bogus", NULL);
}

static void test_everything_together(void **unused)
{
	parse_ok("trace", "-j", "-4", "-d", "30s", "--rport", "443", "--lport", "40000",
		 "--pid", "7", "--comm", "curl", "--state", "SYN_SENT", "--state", "ESTAB",
		 "--netns", "4026531840", "--cgroup", "99", "--attach", "tp_btf",
		 "--ringbuf-size", "4M", NULL);
	assert_int_equal(cfg.cmd, CMD_TRACE);
	assert_true(cfg.json);
	assert_int_equal(cfg.kf.family, TCPFSM_AF_INET);
	assert_int_equal(cfg.duration_ns, 30 * SEC);
	assert_int_equal(cfg.kf.n_rports, 1);
	assert_int_equal(cfg.kf.rports[0], 443);
	assert_int_equal(cfg.kf.n_lports, 1);
	assert_int_equal(cfg.kf.lports[0], 40000);
	assert_int_equal(cfg.kf.n_ports, 0);
	assert_int_equal(cfg.uf.n_pids, 1);
	assert_int_equal(cfg.uf.pids[0], 7);
	assert_int_equal(cfg.uf.n_comms, 1);
	assert_string_equal(cfg.uf.comms[0], "curl");
	assert_int_equal(cfg.uf.state_mask, (1u << TCPFSM_SYN_SENT) | (1u << TCPFSM_ESTABLISHED));
	assert_int_equal(cfg.kf.n_netns, 1);
	assert_int_equal(cfg.kf.netns[0], 4026531840U);
	assert_int_equal(cfg.kf.cgroup_id, 99);
	assert_int_equal(cfg.attach, ATTACH_TP_BTF);
	assert_int_equal(cfg.ringbuf_bytes, 4 << 20);

	/* a later parse starts over from the defaults */
	parse_ok(NULL);
	assert_defaults();
}

/*
 * Every command rejects one option it does not take, saying where it
 * applies; the default command (trace) says that it is the default.
 */
static void test_options_per_command(void **unused)
{
	parse_fails("--sweep applies to watch, serve and top", "trace", "--sweep", "5s", NULL);
	parse_fails("--max-conns applies to history, watch, serve and top", "trace", "--max-conns",
		    "5", NULL);
	parse_fails("-w/--write applies to record", "trace", "-w", "/tmp/x", NULL);
	parse_fails("-i/--interval applies to hist and top", "history", "-i", "1s", NULL);
	parse_fails("--log applies to serve", "history", "--log", "/tmp/x", NULL);
	parse_fails("--pid applies to trace and history", "record", "-w", "/tmp/x", "--pid", "1",
		    NULL);
	parse_fails("-j/--json applies to trace, history, hist, watch and serve", "record", "-w",
		    "/tmp/x", "-j", NULL);
	parse_fails("-r/--replay applies to trace, history, hist and watch", "record", "-r",
		    "/tmp/x", NULL);
	parse_fails("--alert applies to watch, serve and top", "hist", "--alert", "SYN_SENT=1s",
		    NULL);
	parse_fails("--pid applies to trace and history", "hist", "--pid", "999999", "-r",
		    "/tmp/x", NULL);
	parse_fails("--state applies to trace and history", "hist", "--state", "SYN_SENT", NULL);
	parse_fails("--by applies to hist", "watch", "--by", "lport", NULL);
	parse_fails("--comm applies to trace and history", "watch", "--comm", "nginx", NULL);
	parse_fails("--batch applies to top", "serve", "--batch", NULL);
	parse_fails("-r/--replay applies to trace, history, hist and watch", "serve", "-r",
		    "/tmp/x", NULL);
	parse_fails("--listen applies to serve", "top", "--listen", "127.0.0.1:1", NULL);
	parse_fails("-j/--json applies to trace, history, hist, watch and serve", "top", "-j",
		    NULL);
	parse_fails("--min-duration applies to history", "top", "--min-duration", "1s", NULL);
	/* the default command */
	parse_fails("--alert applies to watch, serve and top, not to trace (the default command)",
		    "--alert", "SYN_SENT=1s", NULL);
	parse_fails("-i/--interval applies to hist and top, not to trace", "-i", "1s", NULL);
	/* in the = form, abbreviated, before the command */
	parse_fails("--alert applies to watch, serve and top", "hist", "--alert=SYN_SENT=1s",
		    NULL);
	parse_fails("--cumulative applies to hist", "--cumul", "top", NULL);

	/* and each takes its own */
	parse_ok("trace", "--pid", "1", "--comm", "x", "--state", "SYN_SENT", "-j", "-r", "f",
		 NULL);
	parse_ok("history", "--min-duration", "1s", "--max-conns", "9", "--state", "LISTEN",
		 "-r", "f", "--partial", NULL);
	parse_ok("record", "-w", "f", "-d", "1", "--port", "80", "--ringbuf-size", "1M", NULL);
	parse_ok("hist", "-i", "1s", "--cumulative", "--by", "lport", "--by-limit", "9", "-j",
		 NULL);
	assert_int_equal(cfg.cmd, CMD_HIST);
	assert_int_equal(cfg.interval_ns, SEC);
	parse_ok("watch", "--alert", "CLOSE_WAIT=2s", "--sweep", "100ms", "-r", "f", "-j", NULL);
	assert_true(cfg.lazy);
	parse_ok("serve", "--listen", "127.0.0.1:1", "--log", "/tmp/x", "--buckets", "1s",
		 "--max-conns", "9", NULL);
	assert_false(cfg.lazy);
	parse_ok("top", "--batch", "-i", "2s", "--alert", "SYN_SENT=1s", NULL);
	assert_int_equal(cfg.interval_ns, 2 * SEC);
	assert_true(cfg.batch);
}

/* The command word may follow options, which may take the next word. */
static void test_options_before_command(void **unused)
{
	parse_ok("-d", "1", "trace", NULL);
	assert_int_equal(cfg.cmd, CMD_TRACE);
	assert_int_equal(cfg.duration_ns, SEC);
	assert_string_equal(cfg.prog, "tcpfsm trace");
	parse_ok("-d", "2", "hist", "-i", "1s", NULL);
	assert_int_equal(cfg.cmd, CMD_HIST);
	assert_int_equal(cfg.duration_ns, 2 * SEC);
	parse_ok("--duration", "3", "history", NULL);
	assert_int_equal(cfg.cmd, CMD_HISTORY);
	assert_int_equal(cfg.duration_ns, 3 * SEC);
	parse_ok("--dur", "4", "watch", NULL);
	assert_int_equal(cfg.cmd, CMD_WATCH);
	assert_int_equal(cfg.duration_ns, 4 * SEC);
	parse_ok("-jd", "5", "serve", NULL);
	assert_int_equal(cfg.cmd, CMD_SERVE);
	assert_int_equal(cfg.duration_ns, 5 * SEC);
	assert_true(cfg.json);
	parse_ok("-d6", "top", NULL);
	assert_int_equal(cfg.cmd, CMD_TOP);
	assert_int_equal(cfg.duration_ns, 6 * SEC);
	parse_ok("--duration=7", "-v", "record", "-w", "f", NULL);
	assert_int_equal(cfg.cmd, CMD_RECORD);
	assert_int_equal(cfg.duration_ns, 7 * SEC);
	/* an option's argument that reads like a command is not one */
	parse_ok("--comm", "trace", "history", NULL);
	assert_int_equal(cfg.cmd, CMD_HISTORY);
	assert_string_equal(cfg.uf.comms[0], "trace");
	parse_ok("--comm", "history", NULL);
	assert_int_equal(cfg.cmd, CMD_TRACE);
	assert_string_equal(cfg.uf.comms[0], "history");
	assert_string_equal(cfg.prog, "tcpfsm");
	parse_ok("-4", "--port", "80", "hist", "--by", "lport", NULL);
	assert_int_equal(cfg.cmd, CMD_HIST);
	assert_int_equal(cfg.kf.ports[0], 80);
	/* after --, words are arguments */
	parse_fails("unexpected argument 'trace'", "--", "trace", NULL);
	/* options of the command named later are checked against it */
	parse_fails("--by applies to hist", "--by", "lport", "trace", NULL);
	parse_ok("--by", "lport", "hist", NULL);
	assert_int_equal(cfg.cmd, CMD_HIST);
}

/* What goes together and what does not. */
static void test_combinations(void **unused)
{
	parse_fails("-d/--duration does not go with -r FILE", "trace", "-r", "f", "-d", "1",
		    NULL);
	parse_fails("--ringbuf-size does not go with -r FILE", "history", "-r", "f",
		    "--ringbuf-size", "1M", NULL);
	parse_fails("--attach does not go with -r FILE", "watch", "--attach", "tp_btf", "-r", "f",
		    NULL);
	parse_fails("--btf does not go with -r FILE", "hist", "-r", "f", "--btf", "/b", NULL);
	parse_fails("--partial goes with -r FILE", "trace", "--partial", NULL);
	parse_ok("trace", "-r", "f", "--partial", NULL);
	assert_true(cfg.partial);
	assert_string_equal(cfg.replay, "f");
	parse_fails("record needs -w FILE", "record", NULL);
	parse_fails("--cumulative goes with -i INTERVAL", "hist", "--cumulative", NULL);
	parse_fails("--by-limit goes with --by", "hist", "--by-limit", "5", NULL);
	parse_fails("--alert-exec-timeout goes with --alert-exec CMD", "watch",
		    "--alert-exec-timeout", "5s", NULL);
}

/* Run cli_parse on "tcpfsm [CMD] --help" and return what it printed. */
static char help_text[32768];

static const char *help_of(const char *cmd)
{
	char path[] = "/tmp/tcpfsm-test-help-XXXXXX";
	int fd = mkstemp(path), saved;
	ssize_t n;

	assert_true(fd >= 0);
	unlink(path);
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0);
	dup2(fd, 1);
	/* argp prints help only when it may print errors too; without
	 * exiting it goes on to check the rest (record's -w) */
	argp_flags = ARGP_NO_EXIT;
	if (cmd)
		parse_args(cmd, "--help", NULL);
	else
		parse_args("--help", NULL);
	argp_flags = ARGP_NO_EXIT | ARGP_NO_ERRS;
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, help_text, sizeof(help_text) - 1, 0);
	close(fd);
	assert_true(n > 0);
	help_text[n] = 0;
	return help_text;
}

static void help_has(const char *cmd, const char *const *yes, const char *const *no)
{
	const char *h = help_of(cmd);

	for (; *yes; yes++) {
		if (!strstr(h, *yes))
			print_error("%s --help lacks '%s'\n", cmd ? cmd : "", *yes);
		assert_non_null(strstr(h, *yes));
	}
	for (; *no; no++) {
		if (strstr(h, *no))
			print_error("%s --help shows '%s'\n", cmd ? cmd : "", *no);
		assert_null(strstr(h, *no));
	}
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Each command's --help lists its own options and no other's. */
static void test_help_per_command(void **unused)
{
	help_has(NULL, L("COMMAND is one of", "EXAMPLES", "--netns", "--pid", "--state", "-r,"),
		 /* (the examples show other commands' options) */
		 L("--alert=", "--by=", "--listen=", "--batch", "--write=", "--max-conns="));
	help_has("trace", L("Usage: tcpfsm trace", "--json", "--pid", "--comm", "--state",
			    "Transitions into or out of STATE", "--replay", "--partial", "--netns",
			    "--ringbuf-size", "Exit status"),
		 L("--alert", "--by", "--listen", "--batch", "--write", "--max-conns",
		   "--min-duration", "--interval", "COMMAND is one of"));
	help_has("history", L("Usage: tcpfsm history", "--min-duration", "--max-conns",
			      "Connections whose path went through STATE", "--pid", "--replay"),
		 L("--alert", "--by", "--listen", "--batch", "--write", "--interval",
		   "Transitions into or out of"));
	help_has("record", L("Usage: tcpfsm record", "--write", "--port", "--netns", "--duration"),
		 L("--json", "--pid", "--state", "--replay", "--alert", "--by", "--listen",
		   "--max-conns"));
	help_has("hist", L("Usage: tcpfsm hist", "--interval", "--cumulative", "--by", "--by-limit",
			   "--replay", "--json"),
		 L("--alert", "--pid", "--comm", "--state", "--listen", "--batch", "--write",
		   "--max-conns", "Refresh"));
	help_has("watch", L("Usage: tcpfsm watch", "--alert", "--sweep", "--alert-exec-user",
			    "--max-conns", "--replay", "--json"),
		 L("--pid", "--state", "--by", "--listen", "--batch", "--write", "--interval"));
	help_has("serve", L("Usage: tcpfsm serve", "--listen", "--log", "--buckets", "--alert",
			    "--json"),
		 L("--pid", "--state", "--by", "--batch", "--write", "--replay", "--interval"));
	help_has("top", L("Usage: tcpfsm top", "--batch", "Refresh every DURATION", "--alert"),
		 L("--json", "--pid", "--state", "--by", "--listen", "--write", "--replay",
		   "--cumulative"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_json_verbose),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_bad_ports),
		cmocka_unit_test(test_parse_ports_direct),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_netns),
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_state_never_matches),
		cmocka_unit_test(test_options_per_command),
		cmocka_unit_test(test_options_before_command),
		cmocka_unit_test(test_combinations),
		cmocka_unit_test(test_help_per_command),
		cmocka_unit_test(test_attach),
		cmocka_unit_test(test_btf),
		cmocka_unit_test(test_ringbuf_size),
		cmocka_unit_test(test_alert_exec_user),
		cmocka_unit_test(test_commands_and_arguments),
		cmocka_unit_test(test_everything_together),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
