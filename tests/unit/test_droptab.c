// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Drops by 4-tuple: own and peer side, kinds, bounds, expiry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "pure/droptab.h"
#include "support.h"

#define SEC 1000000000ULL
#define CLIENT_NS 4026532001u
#define SERVER_NS 4026532002u

/* A drop in namespace ns of a segment between local 10.0.0.l:lport and
 * remote 10.0.0.r:rport. */
static struct tcpfsm_event drop(uint64_t ts, uint32_t ns, uint8_t l, uint16_t lport, uint8_t r,
				uint16_t rport, uint32_t reason, uint8_t seg, uint8_t dir)
{
	struct tcpfsm_event e = {
		.ts_ns = ts,
		.old_duration_ns = 0xffffffff81000000ULL + reason,
		.netns = ns,
		.sport = lport,
		.dport = rport,
		.family = TCPFSM_AF_INET,
		.oldstate = dir,
		.evidence = seg,
		.kind = TCPFSM_KIND_DROP,
		.saddr = { 10, 0, 0, l },
		.daddr = { 10, 0, 0, r },
		.ino = reason,
	};

	return e;
}

/* the client 10.0.0.1:40000 -> server 10.0.0.2:443, as the client sees it */
static struct drop_tuple client_tuple(void)
{
	struct drop_tuple t = { .family = TCPFSM_AF_INET, .lport = 40000, .rport = 443 };

	t.laddr[0] = t.raddr[0] = 10;
	t.laddr[3] = 1;
	t.raddr[3] = 2;
	return t;
}

static void add(struct droptab *t, struct tcpfsm_event e)
{
	assert_int_equal(droptab__add(t, &e), 0);
}

static void test_own_and_peer(void **unused)
{
	struct droptab *t = droptab__new(16);
	struct drop_tuple ct = client_tuple();
	struct drop_list l = {};
	struct droptab_stats st;

	/* the server drops 3 SYNs; the client drops 2 SYN/ACKs */
	for (int i = 0; i < 3; i++)
		add(t, drop(10 * SEC + i * SEC, SERVER_NS, 2, 443, 1, 40000, 12, TCPFSM_SEG_SYN,
			    TCPFSM_DROP_IN));
	add(t, drop(11 * SEC, CLIENT_NS, 1, 40000, 2, 443, 12, TCPFSM_SEG_SYNACK, TCPFSM_DROP_IN));
	add(t, drop(13 * SEC, CLIENT_NS, 1, 40000, 2, 443, 12, TCPFSM_SEG_SYNACK, TCPFSM_DROP_IN));
	/* something else entirely */
	add(t, drop(11 * SEC, CLIENT_NS, 1, 40001, 2, 443, 12, TCPFSM_SEG_SYN, TCPFSM_DROP_OUT));

	droptab__collect(t, &ct, CLIENT_NS, false, 0, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.item[0].count, 2);
	assert_int_equal(l.item[0].segment, TCPFSM_SEG_SYNACK);
	assert_int_equal(l.item[0].direction, TCPFSM_DROP_IN);
	assert_int_equal(l.item[0].netns, CLIENT_NS);
	assert_false(l.item[0].peer);
	assert_true(l.item[0].first_ns == 11 * SEC);
	assert_true(l.item[0].last_ns == 13 * SEC);
	assert_true(l.item[0].location == 0xffffffff81000000ULL + 12);
	/* not named yet; without a namer: reason_N and hex */
	assert_string_equal(l.item[0].reason_name, "");
	drop_list_name(&l, NULL, NULL);
	assert_string_equal(l.item[0].reason_name, "reason_12");
	assert_string_equal(l.item[0].where, "0xffffffff8100000c");
	/* the peer's view: the reversed 4-tuple, any namespace */
	droptab__collect(t, &ct, CLIENT_NS, true, 0, &l);
	assert_int_equal(l.n, 2);
	assert_true(l.item[1].peer);
	assert_int_equal(l.item[1].count, 3);
	assert_int_equal(l.item[1].netns, SERVER_NS);
	assert_int_equal(l.item[1].segment, TCPFSM_SEG_SYN);
	assert_int_equal(drop_list_total(&l), 5);
	/* own side in another namespace: none */
	memset(&l, 0, sizeof(l));
	droptab__collect(t, &ct, SERVER_NS, false, 0, &l);
	assert_int_equal(l.n, 0);
	/* since: kinds last seen before it are left out */
	droptab__collect(t, &ct, CLIENT_NS, true, 12 * SEC + 1, &l);
	assert_int_equal(l.n, 0);
	droptab__collect(t, &ct, CLIENT_NS, true, 12 * SEC, &l);
	assert_int_equal(l.n, 1);
	droptab__stats(t, &st);
	assert_int_equal(st.added, 6);
	assert_int_equal(st.unkept, 0);
	assert_int_equal(st.flows, 3);
	droptab__free(t);
}

/* More kinds than a 4-tuple keeps, more items than a list holds. */
static void test_bounds(void **unused)
{
	struct droptab *t = droptab__new(2);
	struct drop_tuple ct = client_tuple();
	struct drop_list l = {};
	struct tcpfsm_event e;
	struct droptab_stats st;

	for (uint32_t r = 1; r <= DROPTAB_KINDS + 2; r++)
		add(t, drop(SEC, CLIENT_NS, 1, 40000, 2, 443, r, TCPFSM_SEG_DATA, TCPFSM_DROP_IN));
	droptab__collect(t, &ct, CLIENT_NS, false, 0, &l);
	assert_int_equal(l.n, DROPTAB_KINDS);
	/* the kinds the table did not keep are counted */
	assert_int_equal(l.more, 2);
	assert_int_equal(drop_list_total(&l), DROPTAB_KINDS + 2);
	/* a list fills up: the rest is counted */
	droptab__collect(t, &ct, CLIENT_NS, false, 0, &l);
	assert_int_equal(l.n, DROP_LIST_MAX);
	assert_int_equal(l.more, 2 + DROPTAB_KINDS + 2);
	/* two 4-tuples fit; a third one, while both are recent, does not */
	add(t, drop(2 * SEC, CLIENT_NS, 1, 40001, 2, 443, 1, TCPFSM_SEG_SYN, TCPFSM_DROP_OUT));
	add(t, drop(3 * SEC, CLIENT_NS, 1, 40002, 2, 443, 1, TCPFSM_SEG_SYN, TCPFSM_DROP_OUT));
	droptab__stats(t, &st);
	assert_int_equal(st.flows, 2);
	assert_int_equal(st.unkept, 1);
	/* a minute later the quiet ones make room */
	add(t, drop(70 * SEC, CLIENT_NS, 1, 40002, 2, 443, 1, TCPFSM_SEG_SYN, TCPFSM_DROP_OUT));
	droptab__stats(t, &st);
	assert_int_equal(st.flows, 1);
	assert_int_equal(st.unkept, 1);
	/* other records are not drops */
	e = client_event(1, SEC, CLOSE, SYN_SENT);
	assert_int_equal(droptab__add(t, &e), 0);
	droptab__stats(t, &st);
	assert_int_equal(st.added, DROPTAB_KINDS + 2 + 3);
	droptab__free(t);
	droptab__free(NULL);
}

static void test_expire(void **unused)
{
	struct droptab *t = droptab__new(16);
	struct drop_tuple ct = client_tuple();
	struct drop_list l = {};
	struct droptab_stats st;

	add(t, drop(SEC, CLIENT_NS, 1, 40000, 2, 443, 12, TCPFSM_SEG_SYN, TCPFSM_DROP_OUT));
	add(t, drop(100 * SEC, CLIENT_NS, 1, 40001, 2, 443, 12, TCPFSM_SEG_SYN, TCPFSM_DROP_OUT));
	droptab__expire(t, SEC + DROPTAB_KEEP_NS - 1);
	droptab__stats(t, &st);
	assert_int_equal(st.flows, 2);
	/* (at most once a second) */
	droptab__expire(t, SEC + DROPTAB_KEEP_NS + 1);
	droptab__stats(t, &st);
	assert_int_equal(st.flows, 2);
	droptab__expire(t, 2 * SEC + DROPTAB_KEEP_NS);
	droptab__stats(t, &st);
	assert_int_equal(st.flows, 1);
	droptab__collect(t, &ct, CLIENT_NS, false, 0, &l);
	assert_int_equal(l.n, 0);
	droptab__free(t);
}

static void test_ipv6(void **unused)
{
	struct droptab *t = droptab__new(16);
	struct tcpfsm_event e = drop(SEC, CLIENT_NS, 1, 40000, 2, 443, 12, TCPFSM_SEG_SYN,
				     TCPFSM_DROP_OUT);
	struct drop_tuple ct = client_tuple();
	struct drop_list l = {};

	e.family = TCPFSM_AF_INET6;
	add(t, e);
	/* the same bytes as IPv4 are another 4-tuple */
	droptab__collect(t, &ct, CLIENT_NS, false, 0, &l);
	assert_int_equal(l.n, 0);
	ct.family = TCPFSM_AF_INET6;
	droptab__collect(t, &ct, CLIENT_NS, false, 0, &l);
	assert_int_equal(l.n, 1);
	/* a family that is none is not kept */
	e.family = 0;
	add(t, e);
	droptab__free(t);
}

static void namer(void *ctx, struct drop_item *it)
{
	int *calls = ctx;

	(*calls)++;
	snprintf(it->reason_name, sizeof(it->reason_name), "R%u", it->reason);
	snprintf(it->where, sizeof(it->where), "fn");
}

static void test_names(void **unused)
{
	struct drop_list l = { .n = 2 };
	int calls = 0;

	l.item[0].reason = 5;
	l.item[0].count = 2;
	l.item[1].reason = 6;
	l.item[1].count = 3;
	l.more = 4;
	drop_list_name(&l, namer, &calls);
	assert_int_equal(calls, 2);
	assert_string_equal(l.item[0].reason_name, "R5");
	assert_string_equal(l.item[1].where, "fn");
	assert_int_equal(drop_list_total(&l), 9);
	/* named items keep their names */
	drop_list_name(&l, NULL, NULL);
	assert_string_equal(l.item[0].reason_name, "R5");
	l.item[1].reason_name[0] = 0;
	drop_list_name(&l, namer, &calls);
	assert_int_equal(calls, 3);
	assert_string_equal(l.item[0].reason_name, "R5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_and_peer),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
