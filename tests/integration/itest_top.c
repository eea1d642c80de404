// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm top`: --batch screens with a CLOSE_WAIT leak and a SYN_SENT toward
 * a port whose SYNs nft drops, in a namespace this test makes; and the
 * interactive screen driven through tmux (filter, quit, terminal restored).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

static char my_comm[16];

/* The screens of a --batch run: each begins with "tcpfsm top - ". */
static int split_screens(char *out, char **screens, int max)
{
	int n = 0;
	char *p = out;

	while (n < max && (p = strstr(p, "tcpfsm top - "))) {
		if (n)
			p[-1] = 0; /* end the previous one */
		screens[n++] = p;
		p++;
	}
	return n;
}

/* The table row of screen s holding needle: its age in seconds, or -1. */
static double row_age(const char *s, const char *needle, char *row, size_t len)
{
	const char *hit = strstr(s, needle), *bol, *eol;
	double v;

	if (!hit)
		return -1;
	for (bol = hit; bol > s && bol[-1] != '\n'; bol--)
		;
	eol = strchr(hit, '\n');
	snprintf(row, len, "%.*s", eol ? (int)(eol - bol) : (int)strlen(bol), bol);
	if (!strncmp(bol, ">=", 2))
		bol += 2;
	{
		char *unit;

		v = strtod(bol, &unit);
		if (!strncmp(unit, "ms", 2))
			v /= 1e3;
		else if (!strncmp(unit, "\xc2\xb5s", 3))
			v /= 1e6;
		else if (!strncmp(unit, "ns", 2))
			v /= 1e9;
		else if (unit[0] == 'm') /* 1m05s */
			v = v * 60 + atof(unit + 1);
	}
	return v;
}

static void test_batch_shows_stuck_connections(void **state)
{
	const char *args[] = { "--batch", "-i", "500ms", NULL };
	char *nft[] = { "/usr/sbin/nft", "-f", "/tmp/tcpfsm-itest-top.nft", NULL };
	struct sockaddr_storage dead;
	socklen_t dead_len = lo_addr(AF_INET, 7777, &dead);
	char buf[1024], *screens[64], row[512], pid[32];
	struct tracer t;
	int lfd, sfd, sfd2, n;
	uint32_t ns;
	double first_cw, last_cw, first_ss, last_ss;
	FILE *f;

	assert_int_equal(netns_enter_new(&ns), 0);
	f = fopen("/tmp/tcpfsm-itest-top.nft", "w");
	assert_non_null(f);
	fputs("table inet tcpfsm_itest {\n  chain input {\n    type filter hook input priority 0;\n"
	      "    tcp dport 7777 tcp flags & (syn|ack) == syn drop\n  }\n}\n",
	      f);
	fclose(f);
	assert_int_equal(run_capture(nft, buf, sizeof(buf), 0), 0);
	unlink("/tmp/tcpfsm-itest-top.nft");
	assert_int_equal(tracer_start_cmd(&t, "top", ns, args), 0);
	/* a CLOSE_WAIT leak */
	sfd = lo_close_wait(&lfd, NULL);
	/* a connect whose SYNs are dropped */
	sfd2 = socket(AF_INET, SOCK_STREAM, 0);
	fcntl(sfd2, F_SETFL, O_NONBLOCK);
	assert_int_equal(connect(sfd2, (struct sockaddr *)&dead, dead_len), -1);
	msleep(3000);
	assert_int_equal(tracer_stop(&t), 0);
	n = split_screens(t.out_text, screens, 64);
	assert_true(n >= 4);
	snprintf(pid, sizeof(pid), " %d ", getpid());
	/* both, with their owner, in the table of the first and the last screen */
	first_cw = row_age(screens[1], "CLOSE_WAIT  ", row, sizeof(row));
	assert_true(first_cw >= 0);
	assert_non_null(strstr(row, pid));
	assert_non_null(strstr(row, my_comm));
	first_ss = row_age(screens[1], "SYN_SENT    ", row, sizeof(row));
	assert_true(first_ss >= 0);
	assert_non_null(strstr(row, ":7777"));
	last_cw = row_age(screens[n - 1], "CLOSE_WAIT  ", row, sizeof(row));
	last_ss = row_age(screens[n - 1], "SYN_SENT    ", row, sizeof(row));
	/* ages grow from screen to screen */
	assert_true(last_cw > first_cw);
	assert_true(last_ss > first_ss);
	/* by age: the leak (older) comes first */
	assert_true(strstr(screens[n - 1], "CLOSE_WAIT  ") < strstr(screens[n - 1], "SYN_SENT    "));
	assert_non_null(strstr(row, "SYN rtx")); /* >= 1 SYN retransmit by now */
	tracer_free(&t);
	close(sfd2);
	close(sfd);
	close(lfd);
}

/* A tmux server of our own (-L): sessions of parallel runs never meet,
 * and its shells start in this process's network namespace. UTF-8 (-u). */
static char tmux_sock[48];

static int tmux(const char *fmt, ...)
{
	char cmd[512];
	int n;
	va_list ap;

	if (!tmux_sock[0])
		snprintf(tmux_sock, sizeof(tmux_sock), "tcpfsm-itest-top-%d", getpid());
	n = snprintf(cmd, sizeof(cmd), "tmux -u -L %s ", tmux_sock);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	return system(cmd);
}

static char *pane(void)
{
	static char buf[16384];
	char *argv[] = { "/usr/bin/tmux", "-u", "-L", tmux_sock, "capture-pane", "-t", "tcpfsmtop",
			 "-p", NULL };

	run_capture(argv, buf, sizeof(buf), 0);
	return buf;
}

/* Start `tcpfsm top ARGS` in a 100x30 tmux pane with env (LC_ALL=...) and
 * wait for its first screen. */
static void top_in_tmux(const char *env, const char *args)
{
	int i;

	tmux("kill-server 2>/dev/null");
	assert_int_equal(tmux("new-session -d -s tcpfsmtop -x 100 -y 30 'bash --norc'"), 0);
	msleep(300);
	assert_int_equal(tmux("send-keys -t tcpfsmtop '%s %s top %s; echo EXITED=$?' Enter", env,
			      tcpfsm_path(), args),
			 0);
	for (i = 0; i < 100 && !strstr(pane(), "tcpfsm top - "); i++)
		msleep(100);
	assert_non_null(strstr(pane(), "AGE       STATE"));
}

/* q, and the pane after tcpfsm has exited */
static char *quit_top(void)
{
	char *p;
	int i;

	assert_int_equal(tmux("send-keys -t tcpfsmtop q"), 0);
	for (i = 0; i < 300 && !strstr(pane(), "EXITED=0"); i++)
		msleep(100);
	p = pane();
	if (!strstr(p, "EXITED=0"))
		fprintf(stderr, "pane:\n%s\n", p);
	assert_non_null(strstr(p, "EXITED=0"));
	return p;
}

/* The interactive screen: f filter, q quit, the terminal given back with
 * the same summary lines as the other commands. */
static void test_interactive_filter_and_quit(void **state)
{
	char *p;
	int i;

	top_in_tmux("", "-i 300ms");
	assert_int_equal(tmux("send-keys -t tcpfsmtop f 'state=CLOSE-WAIT' Enter"), 0);
	for (i = 0; i < 50 && !strstr(pane(), "filter: state=CLOSE-WAIT"); i++)
		msleep(100);
	assert_non_null(strstr(pane(), "filter: state=CLOSE-WAIT"));
	p = quit_top();
	/* the screen was given back: no top header left on it */
	assert_null(strstr(p, "tcpfsm top - "));
	/* and what the run saw */
	if ((!strstr(p, " events, ") && !strstr(p, " event, ")) || !strstr(p, " lost") ||
	    !strstr(p, "alerts fired, 0 folded into summaries"))
		fail_msg("no summary after q:\n%s", p);
	tmux("kill-server");
}

/* Short connections in this namespace: durations in microseconds. */
static void short_connections(int n)
{
	uint16_t port;
	int lfd = lo_listen(AF_INET, &port);

	for (int i = 0; i < n; i++) {
		int cfd = lo_connect(AF_INET, port);

		close(accept(lfd, NULL, NULL));
		close(cfd);
	}
	close(lfd);
}

/* The summary line's p50s once there are some, or NULL. */
static const char *summary_line(char *p)
{
	char *s = strstr(p, " p50 ");

	if (!s)
		return NULL;
	while (s > p && s[-1] != '\n')
		s--;
	return s;
}

/*
 * The per-state summary on a UTF-8 terminal shows µs (a blank before:
 * "p50 38.9  s"), and on an ASCII one us.
 */
static void test_micro_sign(void **state)
{
	static const struct {
		const char *env, *unit;
	} terms[] = {
		{ "LC_ALL=C.UTF-8", "\xc2\xb5s" },
		{ "LC_ALL=C", "us" },
	};
	char args[64], *p = NULL;
	uint32_t ns;

	assert_int_equal(netns_enter_new(&ns), 0);
	snprintf(args, sizeof(args), "--netns %u -i 200ms", ns);
	for (size_t k = 0; k < sizeof(terms) / sizeof(terms[0]); k++) {
		const char *line = NULL;
		char want[16];
		int i;

		top_in_tmux(terms[k].env, args);
		short_connections(20);
		for (i = 0; i < 50 && !(line = summary_line(pane())); i++)
			msleep(100);
		p = pane();
		line = summary_line(p);
		if (!line)
			fail_msg("no summary line (%s):\n%s", terms[k].env, p);
		/* "SYN_SENT p50 88.6µs p99 ..." on loopback */
		snprintf(want, sizeof(want), "%s p99 ", terms[k].unit);
		if (!strstr(line, want))
			fail_msg("%s: no '%s' in:\n%s", terms[k].env, want, p);
		quit_top();
	}
	tmux("kill-server");
}

/* Without a terminal and without --batch: a clear error. */
static void test_needs_terminal(void **state)
{
	char out[1024];
	char *argv[] = { (char *)tcpfsm_path(), "top", NULL };

	assert_int_equal(run_capture(argv, out, sizeof(out), 0), 2);
	assert_non_null(strstr(out, "top needs a terminal: use --batch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_shows_stuck_connections),
		cmocka_unit_test(test_interactive_filter_and_quit),
		cmocka_unit_test(test_micro_sign),
		cmocka_unit_test(test_needs_terminal),
	};
	FILE *f = fopen("/proc/self/comm", "r");

	if (!f || !fgets(my_comm, sizeof(my_comm), f))
		return 1;
	fclose(f);
	my_comm[strcspn(my_comm, "\n")] = 0;
	return cmocka_run_group_tests_name("itest_top", tests, NULL, NULL);
}
