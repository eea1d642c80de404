// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owners of servers that were running before tcpfsm. A listener opened
 * before tcpfsm has no owner in its kernel-side storage unless the startup
 * owner pass gives it the one /proc knows; every child it accepts inherits
 * that storage. So the server-side events of each connection, the handshake
 * (in softirq, on the client's stack) included, must carry the server's pid
 * and comm in trace and history, and `trace --pid SERVER` must see them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
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

#define N_CONNS 3
#define PORT 19951
#define SERVER_COMM "itest-oldsrv"

/* A server in its own process, listening before tcpfsm starts: accepts
 * n connections, reads each to EOF, closes it. */
static pid_t start_server(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(PORT) };
	int p[2], one = 1;
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int lfd = socket(AF_INET, SOCK_STREAM, 0), sfd;
		char buf[16];

		prctl(PR_SET_NAME, SERVER_COMM);
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 16) ||
		    write(p[1], "x", 1) != 1)
			_exit(1);
		for (int i = 0; i < n; i++) {
			sfd = accept(lfd, NULL, NULL);
			if (sfd < 0)
				_exit(1);
			while (recv(sfd, buf, sizeof(buf), 0) > 0)
				;
			close(sfd);
		}
		close(lfd);
		_exit(0);
	}
	harness_track(pid, true);
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void clients(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(PORT) };

	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(send(fd, "ping", 4, 0), 4);
		close(fd);
	}
}

/* Server-side events (local port PORT) old -> new, and how many of them
 * name the server as owner. */
static size_t server_events(const struct tracer *t, const char *old, const char *new,
			    pid_t server, size_t *owned)
{
	size_t n = 0;

	*owned = 0;
	for (size_t i = 0; i < t->n_events; i++) {
		json_object *e = t->events[i];
		const char *o = ev_str(e, "old"), *w = ev_str(e, "new"), *comm = ev_str(e, "comm");

		if (ev_int(e, "sport") != PORT || ev_int(e, "dport") == 0 || !o || !w ||
		    strcmp(o, old) || strcmp(w, new))
			continue;
		n++;
		if (ev_int(e, "pid") == server && comm && !strcmp(comm, SERVER_COMM))
			(*owned)++;
	}
	return n;
}

static void test_server_older_than_tcpfsm(void **state)
{
	char spid[16];
	const char *pid_args[] = { "--pid", spid, NULL };
	struct tracer all, bypid, hist;
	size_t n, owned, conns = 0;
	pid_t server;
	uint32_t ns;
	int status;

	assert_int_equal(netns_enter_new(&ns), 0);
	server = start_server(N_CONNS);
	snprintf(spid, sizeof(spid), "%d", server);
	assert_int_equal(tracer_start(&all, ns, NULL), 0);
	assert_int_equal(tracer_start(&bypid, ns, pid_args), 0);
	assert_int_equal(tracer_start_cmd(&hist, "history", ns, NULL), 0);

	clients(N_CONNS);
	assert_int_equal(waitpid(server, &status, 0), server);
	harness_track(server, false);
	assert_int_equal(status, 0);
	msleep(300);
	assert_int_equal(tracer_stop(&all), 0);
	assert_int_equal(tracer_stop(&bypid), 0);
	assert_int_equal(tracer_stop(&hist), 0);

	/* the handshake runs in softirq: its owner can only come from the
	 * listener's storage */
	n = server_events(&all, "LISTEN", "SYN_RECV", server, &owned);
	assert_int_equal(n, N_CONNS);
	assert_int_equal(owned, N_CONNS);
	n = server_events(&all, "SYN_RECV", "ESTABLISHED", server, &owned);
	assert_int_equal(n, N_CONNS);
	assert_int_equal(owned, N_CONNS);
	n = server_events(&all, "ESTABLISHED", "CLOSE_WAIT", server, &owned);
	assert_int_equal(n, N_CONNS);
	assert_int_equal(owned, N_CONNS);

	/* --pid SERVER sees the handshakes */
	assert_int_equal(server_events(&bypid, "LISTEN", "SYN_RECV", server, &owned), N_CONNS);
	assert_int_equal(server_events(&bypid, "SYN_RECV", "ESTABLISHED", server, &owned),
			 N_CONNS);

	/* history: each server-side connection names the server */
	for (size_t i = 0; i < hist.n_events; i++) {
		json_object *e = hist.events[i];
		const char *type = ev_str(e, "type"), *comm = ev_str(e, "comm");

		if (!type || strcmp(type, "connection") || ev_int(e, "sport") != PORT ||
		    ev_int(e, "dport") == 0)
			continue;
		conns++;
		assert_int_equal(ev_int(e, "pid"), server);
		assert_non_null(comm);
		assert_string_equal(comm, SERVER_COMM);
	}
	assert_int_equal(conns, N_CONNS);
	tracer_free(&all);
	tracer_free(&bypid);
	tracer_free(&hist);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_older_than_tcpfsm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
