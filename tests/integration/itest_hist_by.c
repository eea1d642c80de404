// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `hist --by` against real traffic in a fresh network namespace: the
 * kernel's keyed histograms when two CPUs insert the same key at once, and
 * --by port (the service port of each side).
 */
#include <arpa/inet.h>
#include <errno.h>
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

#define N_CONNS 10

/* n connections to one listening port, both ends in this process. */
static uint16_t connections(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd, sfd;
	char buf[4];

	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 64), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
	for (int i = 0; i < n; i++) {
		cfd = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
		sfd = accept(lfd, NULL, NULL);
		assert_true(sfd >= 0);
		close(cfd);
		assert_int_equal(recv(sfd, buf, sizeof(buf), 0), 0);
		close(sfd);
	}
	close(lfd);
	msleep(100);
	return ntohs(a.sin_port);
}

/* The histogram rows of state with a --by key (key NULL: any). */
static size_t keyed_rows(const struct tracer *t, const char *state, const char *key,
			 json_object **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_events; i++) {
		json_object *e = t->events[i];
		const char *st = ev_str(e, "state"), *k = ev_str(e, "key");

		if (!ev_str(e, "by") || !st || strcmp(st, state) || !k || (key && strcmp(k, key)))
			continue;
		if (n < max)
			out[n] = e;
		n++;
	}
	return n;
}

/*
 * The kernel inserts a --by key on its first transition. When two CPUs do it
 * at once, the loser's insert fails with -EEXIST: it must use the winner's
 * histogram, not file its count under "other" (with a false "more than
 * --by-limit" warning). The test hook makes every lookup miss, so each
 * transition takes the loser's path.
 */
static void test_by_key_insert_race(void **state)
{
	const char *args[] = { "--by", "comm", NULL };
	json_object *rows[8];
	struct tracer t;
	uint32_t ns;
	char comm[16] = "";
	FILE *f = fopen("/proc/self/comm", "r");

	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	assert_int_equal(netns_enter_new(&ns), 0);
	setenv("TCPFSM_TEST_HOOKS", "by_race", 1);
	assert_int_equal(tracer_start_cmd(&t, "hist", ns, args), 0);
	unsetenv("TCPFSM_TEST_HOOKS");
	connections(N_CONNS);
	assert_int_equal(tracer_stop(&t), 0);

	assert_int_equal(keyed_rows(&t, "ESTABLISHED", "other", rows, 8), 0);
	assert_null(strstr(t.err_text, "by-limit"));
	assert_int_equal(keyed_rows(&t, "ESTABLISHED", comm, rows, 8), 1);
	/* both ends of each connection left ESTABLISHED */
	assert_int_equal(ev_int(rows[0], "count"), 2 * N_CONNS);
	tracer_free(&t);
}

/*
 * --by port: ten clients of one listening port and the ten children it
 * accepts share one key, that port (the clients' local ports are ephemeral:
 * --by lport would make eleven keys).
 */
static void test_by_port(void **state)
{
	const char *args[] = { "--by", "port", NULL };
	json_object *rows[8];
	char key[8];
	struct tracer t;
	uint16_t port;
	uint32_t ns;

	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&t, "hist", ns, args), 0);
	port = connections(N_CONNS);
	assert_int_equal(tracer_stop(&t), 0);
	snprintf(key, sizeof(key), "%u", port);

	assert_int_equal(keyed_rows(&t, "ESTABLISHED", NULL, rows, 8), 1);
	assert_string_equal(ev_str(rows[0], "key"), key);
	assert_int_equal(ev_int(rows[0], "count"), 2 * N_CONNS);
	/* the listener's own time in LISTEN is its port's too */
	assert_int_equal(keyed_rows(&t, "LISTEN", NULL, rows, 8), 1);
	assert_string_equal(ev_str(rows[0], "key"), key);
	tracer_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_key_insert_race),
		cmocka_unit_test(test_by_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
