// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The alert rate limit on its own: which alerts share a group, the token
 * bucket (rate a minute, exact refills), the summaries of folded firing
 * and resolved alerts with their group's identity, and idle groups
 * forgotten after 10 minutes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pure/ratelimit.h"
#include "support.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

static struct alert connect_to(uint8_t d3, uint16_t dport, uint64_t cookie)
{
	struct alert a = {
		.state = SYN_SENT,
		.cookie = cookie,
		.family = TCPFSM_AF_INET,
		.daddr = { 198, 18, 0, d3 },
		.dport = dport,
		.pid = 4242,
		.owner = true,
		.comm = "curl",
		.fd = -1,
	};

	return a;
}

struct summaries {
	struct alert v[16];
	size_t n;
};

static void got(void *ctx, struct alert *a)
{
	struct summaries *s = ctx;

	assert_true(s->n < 16);
	s->v[s->n++] = *a;
}

static void test_bucket(void **unused)
{
	struct ratelimit rl;
	struct summaries s = {};
	struct alert a;

	ratelimit_init(&rl, 10);
	/* a full bucket: 10 at once, then none */
	for (int i = 0; i < 10; i++) {
		a = connect_to(2, 80, 100 + i);
		assert_true(ratelimit_firing(&rl, &a, 100 * SEC));
	}
	a = connect_to(2, 80, 200);
	assert_false(ratelimit_firing(&rl, &a, 100 * SEC));
	assert_int_equal(rl.folded, 1);
	/* a token every 6 s at 10 a minute, in exact parts: 5.999 s is not one */
	a = connect_to(2, 80, 201);
	assert_false(ratelimit_firing(&rl, &a, 106 * SEC - 1));
	a = connect_to(2, 80, 202);
	assert_true(ratelimit_firing(&rl, &a, 106 * SEC));
	assert_int_equal(rl.folded, 2);
	/* the summary: the last folded alert's identity, at the flush's time */
	ratelimit_flush(&rl, 107 * SEC, got, &s);
	assert_int_equal(s.n, 1);
	assert_true(s.v[0].aggregate);
	assert_int_equal(s.v[0].status, ALERT_FIRING);
	assert_int_equal(s.v[0].count, 2);
	assert_int_equal(s.v[0].cookie, 201);
	assert_int_equal(s.v[0].time_ns, 107 * SEC);
	assert_int_equal(s.v[0].dport, 80);
	assert_string_equal(s.v[0].diagnosis, ""); /* the words are diagnosis.c's */
	/* once */
	s.n = 0;
	ratelimit_flush(&rl, 108 * SEC, got, &s);
	assert_int_equal(s.n, 0);
	/* the folded ones resolve: folded too, summarised as resolved */
	a = connect_to(2, 80, 200);
	ratelimit_fold_resolved(&rl, &a);
	a = connect_to(2, 80, 201);
	ratelimit_fold_resolved(&rl, &a);
	ratelimit_flush(&rl, 109 * SEC, got, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].status, ALERT_RESOLVED);
	assert_int_equal(s.v[0].count, 2);
	ratelimit_free(&rl);
}

static void test_groups(void **unused)
{
	struct ratelimit rl;
	struct alert a, b;

	ratelimit_init(&rl, 1);
	/* connects: by remote endpoint */
	a = connect_to(2, 80, 1);
	assert_true(ratelimit_firing(&rl, &a, SEC));
	a = connect_to(2, 80, 2);
	a.sport = 999;
	a.pid = 7;
	assert_false(ratelimit_firing(&rl, &a, SEC)); /* same group */
	a = connect_to(3, 80, 3);
	assert_true(ratelimit_firing(&rl, &a, SEC));
	a = connect_to(2, 81, 4);
	assert_true(ratelimit_firing(&rl, &a, SEC));
	/* half-open requests: by namespace and listening port */
	b = (struct alert){ .state = SYN_RECV, .half_open = true, .netns = 5, .sport = 443,
			    .dport = 1000, .cookie = 5 };
	assert_true(ratelimit_firing(&rl, &b, SEC));
	b.dport = 1001;
	b.daddr[3] = 9;
	assert_false(ratelimit_firing(&rl, &b, SEC));
	b.netns = 6;
	assert_true(ratelimit_firing(&rl, &b, SEC));
	b.sport = 80;
	assert_true(ratelimit_firing(&rl, &b, SEC));
	/* not half-open: a SYN_RECV full socket is grouped by owner */
	b.half_open = false;
	b.pid = 1;
	assert_true(ratelimit_firing(&rl, &b, SEC));
	/* others: by state and owner process */
	b = (struct alert){ .state = CLOSE_WAIT, .pid = 1, .sport = 1, .cookie = 6 };
	assert_true(ratelimit_firing(&rl, &b, SEC));
	b.sport = 2;
	b.netns = 3;
	assert_false(ratelimit_firing(&rl, &b, SEC));
	b.pid = 2;
	assert_true(ratelimit_firing(&rl, &b, SEC));
	b.state = LAST_ACK;
	assert_true(ratelimit_firing(&rl, &b, SEC));
	assert_int_equal(ratelimit_groups(&rl), 10);
	ratelimit_free(&rl);
}

static void no_summary(void *ctx, struct alert *a)
{
	fail_msg("unexpected summary");
}

/* A bucket refills to rate, never beyond; idle groups go after 10 minutes
 * unless something is pending. */
static void test_refill_and_idle(void **unused)
{
	struct summaries s = {};
	struct ratelimit rl;
	struct alert a;
	int ok = 0;

	ratelimit_init(&rl, 3);
	a = connect_to(2, 80, 1);
	assert_true(ratelimit_firing(&rl, &a, 10 * SEC));
	/* an hour later: 3, not 60 */
	for (int i = 0; i < 10; i++)
		ok += ratelimit_firing(&rl, &a, 3610 * SEC);
	assert_int_equal(ok, 3);
	assert_int_equal(rl.folded, 7);
	ratelimit_flush(&rl, 3610 * SEC, got, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(ratelimit_groups(&rl), 1);
	ratelimit_flush(&rl, 4210 * SEC, no_summary, NULL);
	assert_int_equal(ratelimit_groups(&rl), 1); /* used 600 s ago: kept */
	/* a resolution folded into it keeps it until its summary is out */
	ratelimit_fold_resolved(&rl, &a);
	s.n = 0;
	ratelimit_flush(&rl, 4211 * SEC, got, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].status, ALERT_RESOLVED);
	assert_int_equal(ratelimit_groups(&rl), 0);
	ratelimit_free(&rl);
}

/* --alert-rate 0: every alert goes into the summaries */
static void test_rate_zero(void **unused)
{
	struct ratelimit rl;
	struct alert a = connect_to(2, 80, 1);

	ratelimit_init(&rl, 0);
	assert_false(ratelimit_firing(&rl, &a, SEC));
	assert_false(ratelimit_firing(&rl, &a, 1000 * SEC));
	assert_int_equal(rl.folded, 2);
	ratelimit_free(&rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_refill_and_idle),
		cmocka_unit_test(test_rate_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
