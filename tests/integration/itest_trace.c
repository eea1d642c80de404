// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm trace` against real traffic: each test moves into a fresh network
 * namespace, runs the real binary filtered to it, drives connections with
 * plain sockets and checks the exact transition sequence of every socket.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

#define MAX_EV 64

struct exchange {
	uint16_t server_port, client_port;
	pid_t server_pid; /* 0: the server ran in this process */
};

static char my_comm[16];

/* One connection, both ends in this process: open, send, close. */
static void exchange_local(int family, bool client_closes_first, struct exchange *x)
{
	int lfd = lo_listen(family, &x->server_port), cfd, sfd;
	char buf[8];

	x->server_pid = 0;
	cfd = lo_connect(family, x->server_port);
	x->client_port = local_port(cfd);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	assert_int_equal(send(cfd, "ping", 4, 0), 4);
	assert_int_equal(recv(sfd, buf, sizeof(buf), 0), 4);
	if (client_closes_first) {
		close(cfd);
		assert_int_equal(recv(sfd, buf, sizeof(buf), 0), 0);
		close(sfd);
	} else {
		close(sfd);
		assert_int_equal(recv(cfd, buf, sizeof(buf), 0), 0);
		close(cfd);
	}
	close(lfd);
	msleep(200); /* let the last ACKs land */
}

static void check_socket(json_object **evs, size_t n, const char *want_path, pid_t pid,
			 const char *comm, const char *family, const char *addr, int sport, int dport)
{
	char path[256];

	path_of(evs, n, path, sizeof(path));
	assert_string_equal(path, want_path);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ev_int(evs[i], "pid"), pid);
		assert_string_equal(ev_str(evs[i], "comm"), comm);
		assert_string_equal(ev_str(evs[i], "family"), family);
		assert_string_equal(ev_str(evs[i], "saddr"), addr);
		assert_string_equal(ev_str(evs[i], "type"), "transition");
		if (dport >= 0)
			assert_int_equal(ev_int(evs[i], "dport"), dport);
		/* the local port is not chosen yet at CLOSE->SYN_SENT */
		if (i > 0 || strcmp(ev_str(evs[i], "new"), "SYN_SENT")) {
			if (sport >= 0)
				assert_int_equal(ev_int(evs[i], "sport"), sport);
			else /* ephemeral, unknown to the test */
				assert_true(ev_int(evs[i], "sport") > 0);
		}
		if (i == 0)
			assert_true(ev_is_null(evs[i], "old_duration_ns"));
		else
			assert_true(ev_int(evs[i], "old_duration_ns") > 0);
	}
}

static void check_exchange(const struct tracer *t, int family, bool client_first,
			   const struct exchange *x, pid_t client_pid, const char *client_comm,
			   pid_t server_pid, const char *server_comm)
{
	json_object *evs[MAX_EV];
	const char *fam = family == AF_INET ? "ipv4" : "ipv6";
	const char *lo = family == AF_INET ? "127.0.0.1" : "::1";
	uint64_t lis = find_cookie(t, "CLOSE", "LISTEN");
	uint64_t cli = find_cookie(t, "CLOSE", "SYN_SENT");
	uint64_t child = find_cookie(t, "LISTEN", "SYN_RECV");
	size_t n;

	assert_true(lis && cli && child);
	assert_true(lis != cli && cli != child && lis != child);
	assert_int_equal(distinct_cookies(t), 3);

	n = events_of(t, cli, evs, MAX_EV);
	check_socket(evs, n,
		     client_first ? "CLOSE>SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE" :
				    "CLOSE>SYN_SENT>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE",
		     client_pid, client_comm, fam, lo, x->client_port, x->server_port);
	n = events_of(t, child, evs, MAX_EV);
	check_socket(evs, n,
		     client_first ? "LISTEN>SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE" :
				    "LISTEN>SYN_RECV>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE",
		     server_pid, server_comm, fam, lo, x->server_port, x->client_port);
	n = events_of(t, lis, evs, MAX_EV);
	check_socket(evs, n, "CLOSE>LISTEN>CLOSE", server_pid, server_comm, fam,
		     family == AF_INET ? "127.0.0.1" : "::1", x->server_port, -1);
}

static void run_local(int family, bool client_first, const char *const *extra)
{
	struct tracer t;
	struct exchange x;
	uint32_t ns;

	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start(&t, ns, extra), 0);
	exchange_local(family, client_first, &x);
	assert_int_equal(tracer_stop(&t), 0);
	if (!t.n_events)
		fprintf(stderr, "tcpfsm stderr: %s\n", t.err_text);
	check_exchange(&t, family, client_first, &x, getpid(), my_comm, getpid(), my_comm);
	assert_non_null(strstr(t.err_text, " 0 lost"));
	tracer_free(&t);
}

static void test_ipv4_client_closes_first(void **state)
{
	run_local(AF_INET, true, NULL);
}

static void test_ipv4_server_closes_first(void **state)
{
	run_local(AF_INET, false, NULL);
}

static void test_ipv6_client_closes_first(void **state)
{
	run_local(AF_INET6, true, NULL);
}

static void test_ipv6_server_closes_first(void **state)
{
	run_local(AF_INET6, false, NULL);
}

static const char *const tracepoint_args[] = { "--attach=tracepoint", NULL };

static void test_tracepoint_client_closes_first(void **state)
{
	run_local(AF_INET, true, tracepoint_args);
}

static void test_tracepoint_server_closes_first(void **state)
{
	run_local(AF_INET, false, tracepoint_args);
}

static void test_tracepoint_ipv6(void **state)
{
	run_local(AF_INET6, true, tracepoint_args);
}

static void refused(const char *const *extra)
{
	struct sockaddr_storage ss;
	json_object *evs[MAX_EV];
	struct tracer t;
	uint32_t ns;
	socklen_t len = lo_addr(AF_INET, 9, &ss);
	int fd;
	size_t n;

	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start(&t, ns, extra), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(fd);
	msleep(100);
	assert_int_equal(tracer_stop(&t), 0);
	assert_int_equal(distinct_cookies(&t), 1);
	n = events_of(&t, find_cookie(&t, "CLOSE", "SYN_SENT"), evs, MAX_EV);
	check_socket(evs, n, "CLOSE>SYN_SENT>CLOSE", getpid(), my_comm, "ipv4", "127.0.0.1", -1, 9);
	tracer_free(&t);
}

static void test_refused_connect(void **state)
{
	refused(NULL);
}

static void test_tracepoint_refused_connect(void **state)
{
	refused(tracepoint_args);
}

/* Whether process pid holds a BPF program whose name starts with prefix
 * (its fds' prog_id in /proc/PID/fdinfo, named by bpftool). */
static bool holds_program(pid_t pid, const char *prefix)
{
	char dir[64], path[300], line[128], sid[16], out[4096], want[64];
	char *argv[] = { "/usr/sbin/bpftool", "prog", "show", "id", sid, NULL };
	struct dirent *d;
	bool found = false;
	DIR *dp;

	snprintf(want, sizeof(want), " name %s", prefix);
	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", pid);
	dp = opendir(dir);
	assert_non_null(dp);
	while (!found && (d = readdir(dp))) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%.200s", dir, d->d_name);
		f = fopen(path, "r");
		while (f && !found && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "prog_id:", 8))
				continue;
			snprintf(sid, sizeof(sid), "%d", atoi(line + 8));
			found = !run_capture(argv, out, sizeof(out), 0) && strstr(out, want);
		}
		if (f)
			fclose(f);
	}
	closedir(dp);
	return found;
}

/*
 * Client and server in different processes. On loopback the server's
 * SYN_RECV->ESTABLISHED runs in softirq on the *client's* stack: a tracer that
 * reads the current task (tcpstates) blames the client. tcpfsm must name the
 * server, and mark those events softirq (told by the softirq_entry/exit
 * programs, on both attach paths).
 */
static void cross_process(const char *const *extra)
{
	struct tracer t;
	struct exchange x;
	int p[2], cfd, status, err;
	uint32_t ns;
	pid_t srv;
	char buf[8];
	json_object *evs[MAX_EV];
	size_t n, softirq = 0;

	assert_int_equal(netns_enter_new(&ns), 0);
	err = tracer_start(&t, ns, extra);
	assert_int_equal(err, 0);
	/* the softirq programs do the telling */
	assert_int_equal(holds_program(t.pid, "softirq_entry"), 1);
	assert_int_equal(holds_program(t.pid, "softirq_exit"), 1);
	assert_int_equal(pipe(p), 0);
	srv = fork();
	assert_true(srv >= 0);
	if (srv == 0) {
		int lfd, sfd;
		uint16_t port;

		prctl(PR_SET_NAME, "itest-server");
		lfd = lo_listen(AF_INET, &port);
		if (write(p[1], &port, sizeof(port)) != sizeof(port))
			_exit(1);
		sfd = accept(lfd, NULL, NULL);
		while (recv(sfd, buf, sizeof(buf), 0) > 0)
			;
		close(sfd);
		close(lfd);
		_exit(0);
	}
	assert_int_equal(read(p[0], &x.server_port, sizeof(x.server_port)), sizeof(x.server_port));
	cfd = lo_connect(AF_INET, x.server_port);
	x.client_port = local_port(cfd);
	assert_int_equal(send(cfd, "ping", 4, 0), 4);
	close(cfd);
	assert_int_equal(waitpid(srv, &status, 0), srv);
	assert_int_equal(status, 0);
	msleep(200);
	assert_int_equal(tracer_stop(&t), 0);
	check_exchange(&t, AF_INET, true, &x, getpid(), my_comm, srv, "itest-server");
	n = events_of(&t, find_cookie(&t, "LISTEN", "SYN_RECV"), evs, MAX_EV);
	for (size_t i = 0; i < n; i++)
		softirq += json_object_get_boolean(json_object_object_get(evs[i], "softirq"));
	assert_true(softirq > 0);
	tracer_free(&t);
}

static void test_owner_across_processes(void **state)
{
	cross_process(NULL);
}

static void test_tracepoint_owner_across_processes(void **state)
{
	cross_process(tracepoint_args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_client_closes_first),
		cmocka_unit_test(test_ipv4_server_closes_first),
		cmocka_unit_test(test_ipv6_client_closes_first),
		cmocka_unit_test(test_ipv6_server_closes_first),
		cmocka_unit_test(test_refused_connect),
		cmocka_unit_test(test_owner_across_processes),
		cmocka_unit_test(test_tracepoint_client_closes_first),
		cmocka_unit_test(test_tracepoint_server_closes_first),
		cmocka_unit_test(test_tracepoint_ipv6),
		cmocka_unit_test(test_tracepoint_refused_connect),
		cmocka_unit_test(test_tracepoint_owner_across_processes),
	};
	FILE *f = fopen("/proc/self/comm", "r");

	if (!f || !fgets(my_comm, sizeof(my_comm), f))
		return 1;
	fclose(f);
	my_comm[strcspn(my_comm, "\n")] = 0;
	return cmocka_run_group_tests_name("itest_trace", tests, NULL, NULL);
}
