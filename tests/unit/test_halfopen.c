// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Half-open requests on their own: learnt from request records (age from
 * the kernel's first SYN/ACK, or "at least" when unknown; retransmits and
 * owner kept), matched to the child that completes them and to the client
 * of a stuck connect, and ended by a sweep that no longer finds them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "pure/halfopen.h"
#include "support.h"

#define SEC 1000000000ULL
#define NS1 4026532000u

/* a request on 10.0.0.2:443 from 10.0.0.1:cport */
static struct tcpfsm_event req(uint64_t cookie, uint64_t ts, uint64_t age, uint16_t retrans,
			       uint16_t cport)
{
	struct tcpfsm_event e = {
		.ts_ns = ts, .cookie = cookie, .old_duration_ns = age, .netns = NS1,
		.sport = 443, .dport = cport, .family = TCPFSM_AF_INET,
		.oldstate = NEW_SYN_RECV, .newstate = NEW_SYN_RECV,
		.saddr = { 10, 0, 0, 2 }, .daddr = { 10, 0, 0, 1 },
		.syn_retrans = retrans, .kind = TCPFSM_KIND_EVIDENCE,
	};

	return e;
}

static struct halfopen *upd(struct halfopen_set *s, uint64_t cookie, uint64_t ts, uint64_t age,
			    uint16_t retrans, uint16_t cport)
{
	struct tcpfsm_event e = req(cookie, ts, age, retrans, cport);

	return halfopen_update(s, &e);
}

static void test_update(void **unused)
{
	struct halfopen_set s;
	struct tcpfsm_event e;
	struct halfopen *h;

	halfopen_init(&s);
	h = upd(&s, 1, 100 * SEC, 1 * SEC, 1, 40000);
	assert_non_null(h);
	assert_int_equal(h->enter_ns, 99 * SEC);
	assert_false(h->at_least);
	assert_false(h->owner);
	assert_int_equal(h->syn_retrans, 1);
	/* later records: retransmits only grow, the start stays */
	h = upd(&s, 1, 103 * SEC, 4 * SEC, 3, 40000);
	assert_int_equal(h->enter_ns, 99 * SEC);
	assert_int_equal(h->syn_retrans, 3);
	h = upd(&s, 1, 104 * SEC, 5 * SEC, 2, 40000);
	assert_int_equal(h->syn_retrans, 3);
	/* the owner, when a record has it */
	e = req(1, 105 * SEC, 6 * SEC, 3, 40000);
	e.flags = TCPFSM_F_OWNER;
	e.pid = 99;
	e.cgroup_id = 9;
	memcpy(e.comm, "nginx", 6);
	h = halfopen_update(&s, &e);
	assert_true(h->owner);
	assert_int_equal(h->pid, 99);
	assert_string_equal(h->comm, "nginx");
	/* no age from the kernel: from now, at least */
	h = upd(&s, 2, 100 * SEC, UNKNOWN, 0, 40001);
	assert_int_equal(h->enter_ns, 100 * SEC);
	assert_true(h->at_least);
	/* an age beyond the clock is not believed */
	h = upd(&s, 3, 5 * SEC, 6 * SEC, 0, 40002);
	assert_int_equal(h->enter_ns, 5 * SEC);
	assert_true(h->at_least);
	assert_int_equal(halfopen_count(&s), 3);
	halfopen_free(&s);
}

static void test_child_and_peer(void **unused)
{
	struct halfopen_set s;
	struct tcpfsm_event child;
	uint8_t client[16] = { 10, 0, 0, 1 }, server[16] = { 10, 0, 0, 2 };

	halfopen_init(&s);
	upd(&s, 1, 100 * SEC, 0, 0, 40000);
	upd(&s, 2, 100 * SEC, 0, 0, 40001);
	child = req(50, 101 * SEC, UNKNOWN, 0, 40001);
	child.kind = TCPFSM_KIND_TRANSITION;
	child.oldstate = LISTEN;
	child.newstate = SYN_RECV;
	assert_int_equal(halfopen_of_child(&s, &child)->cookie, 2);
	child.netns = NS1 + 1; /* another namespace: another request */
	assert_null(halfopen_of_child(&s, &child));
	child.netns = NS1;
	child.dport = 40002;
	assert_null(halfopen_of_child(&s, &child));
	/* the server side of the connect 10.0.0.1:40000 -> 10.0.0.2:443,
	 * in any namespace */
	assert_int_equal(halfopen_peer_of(&s, TCPFSM_AF_INET, client, 40000, server, 443)->cookie, 1);
	assert_null(halfopen_peer_of(&s, TCPFSM_AF_INET, client, 40009, server, 443));
	assert_null(halfopen_peer_of(&s, TCPFSM_AF_INET, server, 443, client, 40000));
	assert_null(halfopen_peer_of(&s, TCPFSM_AF_INET6, client, 40000, server, 443));
	halfopen_del(&s, halfopen_of_child(&s, &(struct tcpfsm_event){ .netns = NS1, .sport = 443,
			   .dport = 40000, .saddr = { 10, 0, 0, 2 }, .daddr = { 10, 0, 0, 1 } }));
	assert_int_equal(halfopen_count(&s), 1);
	halfopen_free(&s);
}

struct gone {
	uint64_t cookies[8];
	size_t n;
};

static void on_gone(void *ctx, struct halfopen *h)
{
	struct gone *g = ctx;

	g->cookies[g->n++] = h->cookie;
}

/* A sweep ends the requests it did not see. */
static void test_sweep(void **unused)
{
	struct halfopen_set s;
	struct gone g = {};

	halfopen_init(&s);
	for (uint64_t c = 1; c <= 4; c++)
		upd(&s, c, 100 * SEC, 0, 0, 40000 + c);
	halfopen_sweep_begin(&s);
	upd(&s, 2, 102 * SEC, 2 * SEC, 0, 40002);
	upd(&s, 4, 102 * SEC, 2 * SEC, 0, 40004);
	assert_int_equal(halfopen_sweep_end(&s, 0, on_gone, &g), 2);
	assert_int_equal(g.n, 2);
	assert_true((g.cookies[0] == 1 && g.cookies[1] == 3) ||
		    (g.cookies[0] == 3 && g.cookies[1] == 1));
	assert_int_equal(halfopen_count(&s), 2);
	/* one seen by the sweep after this one began stays */
	halfopen_sweep_begin(&s);
	upd(&s, 5, 103 * SEC, 0, 0, 40005);
	g.n = 0;
	assert_int_equal(halfopen_sweep_end(&s, 104 * SEC, on_gone, &g), 2);
	assert_int_equal(halfopen_count(&s), 1);
	halfopen_free(&s);
}

/*
 * A SYN/ACK retransmit, then the client's RST removes the request; the
 * sweep at 103 s finds it gone, and only then does the retransmit's record
 * (queued at 102.9 s) arrive: late news, not a request again. A record
 * from after the sweep means it lives after all; after HALFOPEN_GONE_KEEP_NS
 * the cookie is forgotten.
 */
static void test_late_record_after_gone(void **unused)
{
	struct halfopen_set s;
	struct gone g = {};

	halfopen_init(&s);
	upd(&s, 1, 100 * SEC, 0, 1, 40001);
	upd(&s, 2, 100 * SEC, 0, 1, 40002);
	halfopen_sweep_begin(&s);
	assert_int_equal(halfopen_sweep_end(&s, 103 * SEC, on_gone, &g), 2);
	assert_int_equal(halfopen_count(&s), 0);
	assert_null(upd(&s, 1, 103 * SEC - SEC / 10, 3 * SEC, 4, 40001));
	assert_null(upd(&s, 1, 103 * SEC, 3 * SEC, 4, 40001));
	assert_int_equal(halfopen_count(&s), 0);
	assert_non_null(upd(&s, 2, 103 * SEC + 1, 3 * SEC, 4, 40002));
	assert_int_equal(halfopen_count(&s), 1);
	/* remembered for HALFOPEN_GONE_KEEP_NS, no longer */
	halfopen_sweep_begin(&s);
	upd(&s, 2, 104 * SEC, 4 * SEC, 4, 40002);
	halfopen_sweep_end(&s, 103 * SEC + HALFOPEN_GONE_KEEP_NS + 1, on_gone, &g);
	assert_non_null(upd(&s, 1, 103 * SEC, 3 * SEC, 4, 40001));
	halfopen_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_child_and_peer),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_late_record_after_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
