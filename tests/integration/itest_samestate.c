// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Self-transitions. A client that calls shutdown(SHUT_WR), waits for the
 * peer's ACK (FIN_WAIT2) and then close()s makes the kernel report
 * FIN_WAIT2 -> FIN_WAIT2 before FIN_WAIT2 -> CLOSE. That is no exit from
 * FIN_WAIT2: the record carries TCPFSM_F_SAME_STATE and the time in the
 * state so far, the entry time is kept (the real exit measures from the
 * entry), and neither the kernel's histograms nor its transition counts
 * take it. Checked on the raw records (`record`), on `hist` and on serve's
 * tcpfsm_transitions_total.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/types.h>
#include "harness.h"
#include "tcpfsm.h"

#define N_CONNS 5
#define WAIT_MS 30
#define RECORD_HEADER 64
#define LISTEN "127.0.0.1:19941"	/* serve's */
#define PORT 19942			/* ours; the tracers count only it */

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti.tcpi_state;
}

/* n connections: the client half-closes, sits WAIT_MS in FIN_WAIT2 (the
 * server read our FIN and keeps its side open), then closes. */
static void half_close_then_close(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(PORT) };
	int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd, sfd;
	char buf[4];

	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	for (int i = 0; i < n; i++) {
		cfd = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
		sfd = accept(lfd, NULL, NULL);
		assert_true(sfd >= 0);
		assert_int_equal(shutdown(cfd, SHUT_WR), 0);
		assert_int_equal(recv(sfd, buf, sizeof(buf), 0), 0); /* our FIN */
		for (int t = 0; tcp_state(cfd) != TCP_FIN_WAIT2 && t < 200; t++)
			msleep(5);
		assert_int_equal(tcp_state(cfd), TCP_FIN_WAIT2);
		msleep(WAIT_MS);
		close(cfd); /* FIN_WAIT2 -> FIN_WAIT2, then -> CLOSE */
		msleep(5);
		close(sfd);
	}
	close(lfd);
	msleep(200);
}

/* The records of a `tcpfsm record` file. */
static struct tcpfsm_event *read_records(const char *path, size_t *n)
{
	struct tcpfsm_event *v;
	long size;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= RECORD_HEADER);
	*n = (size - RECORD_HEADER) / sizeof(*v);
	v = calloc(*n + 1, sizeof(*v));
	assert_non_null(v);
	assert_int_equal(fseek(f, RECORD_HEADER, SEEK_SET), 0);
	assert_int_equal(fread(v, sizeof(*v), *n, f), *n);
	fclose(f);
	return v;
}

static json_object *hist_row(const struct tracer *t, const char *state)
{
	for (size_t i = 0; i < t->n_events; i++) {
		const char *type = ev_str(t->events[i], "type"), *st = ev_str(t->events[i], "state");

		if (type && !strcmp(type, "histogram") && st && !strcmp(st, state))
			return t->events[i];
	}
	return NULL;
}

/* serve's /metrics body, fetched with curl. */
static char *metrics(void)
{
	static char body[1 << 20];
	char *argv[] = { "/usr/bin/curl", "-s", "http://" LISTEN "/metrics", NULL };

	assert_int_equal(run_capture(argv, body, sizeof(body), 0), 0);
	return body;
}

static void test_close_after_shutdown(void **state)
{
	char path[] = "/tmp/tcpfsm-samestate-XXXXXX";
	const char *rec_args[] = { "-w", path, "--port", "19942", NULL };
	const char *hist_args[] = { "--port", "19942", NULL };
	const char *srv_args[] = { "--listen", LISTEN, "--port", "19942", NULL };
	struct tracer rec, hist, srv;
	struct tcpfsm_event *v;
	size_t n, same = 0;
	uint32_t ns;
	char *m, want[128];
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&rec, "record", ns, rec_args), 0);
	assert_int_equal(tracer_start_cmd(&hist, "hist", ns, hist_args), 0);
	assert_int_equal(tracer_start_cmd(&srv, "serve", ns, srv_args), 0);

	half_close_then_close(N_CONNS);

	/* serve counts from the kernel's matrix: no FIN_WAIT2 -> FIN_WAIT2 */
	m = metrics();
	assert_null(strstr(m, "tcpfsm_transitions_total{from=\"FIN_WAIT2\",to=\"FIN_WAIT2\"}"));
	snprintf(want, sizeof(want),
		 "tcpfsm_transitions_total{from=\"FIN_WAIT2\",to=\"CLOSE\"} %d\n", N_CONNS);
	assert_non_null(strstr(m, want));
	assert_int_equal(tracer_stop(&srv), 0);
	assert_int_equal(tracer_stop(&rec), 0);
	assert_int_equal(tracer_stop(&hist), 0);

	/* the raw records: one flagged self-transition per connection, its
	 * duration the time in FIN_WAIT2 so far; the real exit that follows
	 * measures from the same entry */
	v = read_records(path, &n);
	for (size_t i = 0; i < n; i++) {
		if (v[i].kind != TCPFSM_KIND_TRANSITION || v[i].oldstate != v[i].newstate)
			continue;
		assert_int_equal(v[i].oldstate, TCPFSM_FIN_WAIT2);
		assert_true(v[i].flags & TCPFSM_F_SAME_STATE);
		assert_true(v[i].old_duration_ns >= WAIT_MS * 1000000ULL);
		same++;
		for (size_t j = i + 1; j < n; j++) {
			if (v[j].cookie != v[i].cookie || v[j].kind != TCPFSM_KIND_TRANSITION)
				continue;
			assert_int_equal(v[j].oldstate, TCPFSM_FIN_WAIT2);
			assert_int_equal(v[j].newstate, TCPFSM_CLOSE);
			assert_false(v[j].flags & TCPFSM_F_SAME_STATE);
			assert_true(v[j].old_duration_ns >= v[i].old_duration_ns);
			break;
		}
	}
	assert_int_equal(same, N_CONNS);
	free(v);
	unlink(path);

	/* hist: as many exits from FIN_WAIT2 as entries into it */
	assert_non_null(hist_row(&hist, "FIN_WAIT1"));
	assert_non_null(hist_row(&hist, "FIN_WAIT2"));
	assert_int_equal(ev_int(hist_row(&hist, "FIN_WAIT1"), "count"), N_CONNS);
	assert_int_equal(ev_int(hist_row(&hist, "FIN_WAIT2"), "count"), N_CONNS);
	assert_true(ev_int(hist_row(&hist, "FIN_WAIT2"), "min_ns") >= WAIT_MS * 1000000LL);
	tracer_free(&rec);
	tracer_free(&hist);
	tracer_free(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_after_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
