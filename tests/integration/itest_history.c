// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm history` and `record`/`-r` against real traffic, each test in a
 * fresh network namespace: connections that predate the tracer, TIME_WAIT
 * on the active closer, resets, refused and timed-out connects, and a
 * recording that replays to the very records of the live run.
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

static char my_comm[16];

/* The connection record with this local and remote port. */
static json_object *conn_by_ports(const struct tracer *t, int sport, int dport)
{
	for (size_t i = 0; i < t->n_events; i++) {
		json_object *o = t->events[i];

		if (strcmp(ev_str(o, "type"), "connection"))
			continue;
		if (ev_int(o, "sport") == sport && ev_int(o, "dport") == dport)
			return o;
	}
	return NULL;
}

static void path_str(json_object *c, char *buf, size_t len)
{
	json_object *path = json_object_object_get(c, "path");
	size_t pos = 0;

	buf[0] = 0;
	for (size_t i = 0; path && i < json_object_array_length(path) && pos < len; i++)
		pos += snprintf(buf + pos, len - pos, "%s%s", i ? ">" : "",
				ev_str(json_object_array_get_idx(path, i), "state"));
}

static void expect_conn(json_object *c, const char *path, const char *reason, bool complete)
{
	char p[256];

	assert_non_null(c);
	path_str(c, p, sizeof(p));
	assert_string_equal(p, path);
	assert_string_equal(ev_str(c, "end_reason"), reason);
	assert_int_equal(json_object_get_boolean(json_object_object_get(c, "complete")), complete);
	assert_int_equal(ev_int(c, "pid"), getpid());
	assert_string_equal(ev_str(c, "comm"), my_comm);
}

static void start(struct tracer *t, const char *cmd, uint32_t *ns, const char *const *extra)
{
	assert_int_equal(netns_enter_new(ns), 0);
	assert_int_equal(tracer_start_cmd(t, cmd, *ns, extra), 0);
}

/* Opened before tcpfsm starts, closed after: seeded by the snapshot. */
static void test_preexisting_connection(void **state)
{
	struct tracer t;
	uint16_t port, cport;
	uint32_t ns;
	int lfd, cfd, sfd;
	char buf[4];
	json_object *cli, *srv, *lis, *first;

	assert_int_equal(netns_enter_new(&ns), 0);
	lfd = lo_listen(AF_INET, &port);
	cfd = lo_connect(AF_INET, port);
	cport = local_port(cfd);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	msleep(50);

	assert_int_equal(tracer_start_cmd(&t, "history", ns, NULL), 0);
	close(cfd); /* active close: this side gets TIME_WAIT */
	assert_int_equal(recv(sfd, buf, sizeof(buf), 0), 0);
	close(sfd);
	close(lfd);
	msleep(200);
	assert_int_equal(tracer_stop(&t), 0);

	cli = conn_by_ports(&t, cport, port);
	expect_conn(cli, "ESTABLISHED>FIN_WAIT1>FIN_WAIT2>TIME_WAIT", "normal", false);
	/* the first state's time is only known to be at least since start */
	first = json_object_array_get_idx(json_object_object_get(cli, "path"), 0);
	assert_true(json_object_get_boolean(json_object_object_get(first, "at_least")));
	assert_true(ev_int(first, "duration_ns") > 0);
	srv = conn_by_ports(&t, port, cport);
	expect_conn(srv, "ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE", "normal", false);
	lis = conn_by_ports(&t, port, 0);
	assert_non_null(lis);
	expect_conn(lis, "LISTEN>CLOSE", "normal", false);
	assert_non_null(strstr(t.err_text, "3 existing sockets"));
	tracer_free(&t);
}

/* New connection; the server closes first and gets the TIME_WAIT. */
static void test_active_closer_gets_time_wait(void **state)
{
	struct tracer t;
	uint16_t port, cport;
	uint32_t ns;
	int lfd, cfd, sfd;
	char buf[4];

	start(&t, "history", &ns, NULL);
	lfd = lo_listen(AF_INET, &port);
	cfd = lo_connect(AF_INET, port);
	cport = local_port(cfd);
	sfd = accept(lfd, NULL, NULL);
	close(sfd);
	assert_int_equal(recv(cfd, buf, sizeof(buf), 0), 0);
	close(cfd);
	close(lfd);
	msleep(200);
	assert_int_equal(tracer_stop(&t), 0);
	expect_conn(conn_by_ports(&t, port, cport),
		    "SYN_RECV>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>TIME_WAIT", "normal", true);
	expect_conn(conn_by_ports(&t, cport, port),
		    "SYN_SENT>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE", "normal", true);
	expect_conn(conn_by_ports(&t, port, 0), "LISTEN>CLOSE", "normal", true);
	assert_non_null(strstr(t.err_text, "(1 in TIME_WAIT)"));
	tracer_free(&t);
}

/* The server aborts with SO_LINGER 0: RST sent by it, received by the client. */
static void test_reset(void **state)
{
	struct linger lg = { 1, 0 };
	struct tracer t;
	uint16_t port, cport;
	uint32_t ns;
	int lfd, cfd, sfd;
	char buf[4];

	start(&t, "history", &ns, NULL);
	lfd = lo_listen(AF_INET, &port);
	cfd = lo_connect(AF_INET, port);
	cport = local_port(cfd);
	sfd = accept(lfd, NULL, NULL);
	assert_int_equal(setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(sfd);
	assert_int_equal(recv(cfd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, ECONNRESET);
	close(cfd);
	close(lfd);
	msleep(100);
	assert_int_equal(tracer_stop(&t), 0);
	expect_conn(conn_by_ports(&t, cport, port), "SYN_SENT>ESTABLISHED>CLOSE", "reset_received",
		    true);
	expect_conn(conn_by_ports(&t, port, cport), "SYN_RECV>ESTABLISHED>CLOSE", "reset_sent",
		    true);
	tracer_free(&t);
}

static void test_refused(void **state)
{
	struct sockaddr_storage a;
	socklen_t len = lo_addr(AF_INET, 9, &a);
	struct tracer t;
	uint32_t ns;
	int fd;

	start(&t, "history", &ns, NULL);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, len), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(fd);
	msleep(100);
	assert_int_equal(tracer_stop(&t), 0);
	assert_int_equal(t.n_events, 1);
	expect_conn(t.events[0], "SYN_SENT>CLOSE", "refused", true);
	assert_int_equal(ev_int(t.events[0], "dport"), 9);
	tracer_free(&t);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* SYNs dropped by nft: the connect times out after SYN retransmits. */
static void test_connect_timeout(void **state)
{
	char *nft[] = { "/usr/sbin/nft", "-f", "/tmp/tcpfsm-itest.nft", NULL };
	struct sockaddr_storage a;
	socklen_t len = lo_addr(AF_INET, 7777, &a);
	char out[1024];
	struct tracer t;
	uint32_t ns;
	FILE *f;
	int fd;

	assert_int_equal(netns_enter_new(&ns), 0);
	/* one retransmit: the connect gives up after about 3 s */
	assert_int_equal(write_file("/proc/sys/net/ipv4/tcp_syn_retries", "1"), 0);
	f = fopen("/tmp/tcpfsm-itest.nft", "w");
	assert_non_null(f);
	fputs("table inet tcpfsm_itest {\n"
	      "  chain input {\n"
	      "    type filter hook input priority 0;\n"
	      "    tcp dport 7777 tcp flags & (syn|ack) == syn drop\n"
	      "  }\n"
	      "}\n",
	      f);
	fclose(f);
	assert_int_equal(run_capture(nft, out, sizeof(out), 0), 0);
	unlink("/tmp/tcpfsm-itest.nft");
	assert_int_equal(tracer_start_cmd(&t, "history", ns, NULL), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, len), -1);
	assert_int_equal(errno, ETIMEDOUT);
	close(fd);
	/* the record, once tcpfsm has it (a loaded machine may take a while) */
	tracer_wait_output(&t, "\"type\":\"connection\"", 5000);
	assert_int_equal(tracer_stop(&t), 0);
	if (t.n_events != 1)
		fprintf(stderr, "tcpfsm stderr: %s\n", t.err_text);
	assert_int_equal(t.n_events, 1);
	expect_conn(t.events[0], "SYN_SENT>CLOSE", "timeout", true);
	/* how many the kernel sends in its time budget depends on its version */
	assert_true(ev_int(t.events[0], "syn_retransmits") >= 1);
	tracer_free(&t);
}

static bool close_ns(int64_t a, int64_t b)
{
	return (a < 0) == (b < 0) && llabs(a - b) < 1000000;
}

/* RFC 3339 times a and b within 1 ms of each other. */
static bool close_times(const char *a, const char *b)
{
	/* same up to the seconds; compare the fractions */
	if (strlen(a) != 30 || strlen(b) != 30 || strncmp(a, b, 20))
		return !strcmp(a, b);
	return labs(atol(a + 20) - atol(b + 20)) < 1000000;
}

static bool same_but_times(json_object *got, json_object *want)
{
	json_object_object_foreach(want, key, wv)
	{
		json_object *gv = json_object_object_get(got, key);

		if (!strcmp(key, "duration_ns")) {
			if (!close_ns(ev_int(got, key), ev_int(want, key)))
				return false;
		} else if (!strcmp(key, "start") || !strcmp(key, "end")) {
			if (!close_times(json_object_get_string(gv), json_object_get_string(wv)))
				return false;
		} else if (!strcmp(key, "path")) {
			size_t n = json_object_array_length(wv);

			if (json_object_array_length(gv) != n)
				return false;
			for (size_t k = 0; k < n; k++) {
				json_object *g = json_object_array_get_idx(gv, k);
				json_object *w = json_object_array_get_idx(wv, k);

				if (strcmp(ev_str(g, "state"), ev_str(w, "state")) ||
				    !close_ns(ev_int(g, "duration_ns"), ev_int(w, "duration_ns")) ||
				    !close_times(ev_str(g, "enter"), ev_str(w, "enter")))
					return false;
			}
		} else if (strcmp(json_object_to_json_string(gv), json_object_to_json_string(wv))) {
			fprintf(stderr, "field %s: %s != %s\n", key, json_object_to_json_string(gv),
				json_object_to_json_string(wv));
			return false;
		}
	}
	return json_object_object_length(got) == json_object_object_length(want);
}

/* `record` beside a live `history`; `history -r` must print the same. */
static void test_record_replays_to_same_history(void **state)
{
	const char *rec_args[] = { "-w", "/tmp/tcpfsm-itest.tfr", NULL };
	static char replay[65536];
	char *argv[] = { (char *)tcpfsm_path(), "history", "--json", "-r", "/tmp/tcpfsm-itest.tfr",
			 NULL };
	struct tracer live, rec;
	uint16_t port;
	uint32_t ns;
	int lfd, cfd, sfd;
	char buf[4];
	size_t pos = 0;

	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&live, "history", ns, NULL), 0);
	assert_int_equal(tracer_start_cmd(&rec, "record", ns, rec_args), 0);
	lfd = lo_listen(AF_INET, &port);
	for (int i = 0; i < 3; i++) {
		cfd = lo_connect(AF_INET, port);
		sfd = accept(lfd, NULL, NULL);
		assert_int_equal(send(cfd, "hi", 2, 0), 2);
		assert_int_equal(recv(sfd, buf, sizeof(buf), 0), 2);
		close(i % 2 ? sfd : cfd);
		close(i % 2 ? cfd : sfd);
	}
	close(lfd);
	msleep(200);
	assert_int_equal(tracer_stop(&rec), 0);
	assert_int_equal(tracer_stop(&live), 0);
	assert_int_equal(live.n_events, 7); /* 3 clients, 3 children, 1 listener */

	/*
	 * Same records, field for field. The live history and the recording are
	 * two tracers, each timing the transitions itself, so times and
	 * durations agree to within a millisecond, not to the nanosecond.
	 * run_capture mixes in stderr: skip "tcpfsm:" lines.
	 */
	assert_int_equal(run_capture(argv, replay, sizeof(replay), 0), 0);
	for (size_t i = 0; i < live.n_events; i++) {
		char *nl = strchr(replay + pos, '\n');
		json_object *got, *want = live.events[i];

		while (nl && !strncmp(replay + pos, "tcpfsm:", 7)) {
			pos = nl + 1 - replay;
			nl = strchr(replay + pos, '\n');
		}
		assert_non_null(nl);
		*nl = 0;
		got = json_tokener_parse(replay + pos);
		assert_non_null(got);
		assert_true(same_but_times(got, want));
		json_object_put(got);
		pos = nl + 1 - replay;
	}
	unlink("/tmp/tcpfsm-itest.tfr");
	tracer_free(&rec);
	tracer_free(&live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preexisting_connection),
		cmocka_unit_test(test_active_closer_gets_time_wait),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_record_replays_to_same_history),
	};
	FILE *f = fopen("/proc/self/comm", "r");

	if (!f || !fgets(my_comm, sizeof(my_comm), f))
		return 1;
	fclose(f);
	my_comm[strcspn(my_comm, "\n")] = 0;
	return cmocka_run_group_tests_name("itest_history", tests, NULL, NULL);
}
