// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hist --by port: one histogram per service port (the local port of sockets
 * opened passively, TCPFSM_F_PASSIVE; the remote port of connecting ones),
 * keys printed most transitions first, the text saying what the key is.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "support.h"
#include "pure/histogram.h"

#define MS 1000000ULL

/* hist_set_print's out() into one string */
struct capture {
	char *p;
	size_t n;
};

static int capture_out(void *ctx, const char *buf, size_t n)
{
	struct capture *c = ctx;
	char *p = realloc(c->p, c->n + n + 1);

	assert_non_null(p);
	memcpy(p + c->n, buf, n);
	c->n += n;
	p[c->n] = 0;
	c->p = p;
	return 0;
}

/* ESTABLISHED -> FIN_WAIT1 after d of a socket sport -> dport */
static struct tcpfsm_event ev_ports(uint16_t sport, uint16_t dport, bool passive, uint64_t d)
{
	struct tcpfsm_event e = client_event(1, 1000, ESTABLISHED, FIN_WAIT1);

	e.sport = sport;
	e.dport = dport;
	e.old_duration_ns = d;
	if (passive)
		e.flags |= TCPFSM_F_PASSIVE;
	return e;
}

/* The service port of an event, on the shared rule. */
static void test_service_port(void **unused)
{
	struct tcpfsm_event e = ev_ports(8080, 40001, true, MS);

	assert_int_equal(tcpfsm_service_port(&e), 8080);
	e = ev_ports(40001, 8080, false, MS);
	assert_int_equal(tcpfsm_service_port(&e), 8080);
}

/*
 * Ten clients of port 8080 and their ten accepted children: one key, 8080,
 * with both sides' twenty exits; then two connections to port 443 (a
 * smaller key, printed after the bigger one).
 */
static void test_by_port_keys_and_text(void **unused)
{
	struct hist_set *s = calloc(1, sizeof(*s));
	struct tcpfsm_event e;
	struct capture c = {};
	const char *p8080, *p443;

	assert_non_null(s);
	hist_set_init(s, TCPFSM_BY_PORT, 16);
	e = ev_ports(40001, 443, false, 3 * MS);
	assert_int_equal(hist_set_account(s, &e), 0);
	e = ev_ports(40002, 443, false, 3 * MS);
	assert_int_equal(hist_set_account(s, &e), 0);
	for (int i = 0; i < 10; i++) {
		e = ev_ports(41000 + i, 8080, false, 2 * MS);
		assert_int_equal(hist_set_account(s, &e), 0);
		e = ev_ports(8080, 41000 + i, true, 2 * MS);
		assert_int_equal(hist_set_account(s, &e), 0);
	}
	assert_int_equal(s->nkeyed, 2);
	assert_int_equal(s->by_other, 0);

	assert_int_equal(hist_set_print(s, false, 0, 0, true, capture_out, &c), 0);
	assert_non_null(c.p);
	assert_true(strstr(c.p, "ESTABLISHED: 22 ") == c.p);
	p8080 = strstr(c.p, "\nESTABLISHED port 8080 (service): 20 ");
	p443 = strstr(c.p, "\nESTABLISHED port 443 (service): 2 ");
	assert_non_null(p8080);
	assert_non_null(p443);
	/* most transitions first */
	assert_true(p8080 < p443);
	/* the overflow row keeps its plain label */
	assert_null(strstr(c.p, "port other"));
	free(c.p);

	c = (struct capture){};
	assert_int_equal(hist_set_print(s, true, 0, 0, true, capture_out, &c), 0);
	p8080 = strstr(c.p, "\"state\":\"ESTABLISHED\",\"by\":\"port\",\"key\":8080,\"count\":20,");
	p443 = strstr(c.p, "\"state\":\"ESTABLISHED\",\"by\":\"port\",\"key\":443,\"count\":2,");
	assert_non_null(p8080);
	assert_non_null(p443);
	assert_true(p8080 < p443);
	free(c.p);
	hist_set_free(s);
	free(s);
}

/* Over the limit: "other", labelled as other --by keys are. */
static void test_by_port_other(void **unused)
{
	struct hist_set *s = calloc(1, sizeof(*s));
	struct tcpfsm_event e;
	struct capture c = {};

	assert_non_null(s);
	hist_set_init(s, TCPFSM_BY_PORT, 1);
	e = ev_ports(40001, 443, false, 3 * MS);
	hist_set_account(s, &e);
	e = ev_ports(40002, 80, false, 3 * MS);
	hist_set_account(s, &e);
	assert_int_equal(s->by_other, 1);
	assert_int_equal(hist_set_print(s, false, 0, 0, true, capture_out, &c), 0);
	assert_non_null(strstr(c.p, "\nESTABLISHED port 443 (service): 1 "));
	assert_non_null(strstr(c.p, "\nESTABLISHED port=other: 1 "));
	free(c.p);
	hist_set_free(s);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_port),
		cmocka_unit_test(test_by_port_keys_and_text),
		cmocka_unit_test(test_by_port_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
