// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Connection table: synthetic record sequences in, exactly what the emit
 * callback receives out (path, enter times, flags, end reason, timewait), the
 * entries left behind and the table's counters.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pure/conntab.h"
#include "support.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SEC 1000000000ULL

/* What the emit callback was handed, copied. */
struct emitted {
	struct conn c;
	struct conn_end end;
};

struct sink {
	struct emitted *v;
	size_t n, cap;
};

static void emit(void *ctx, const struct conn *c, const struct conn_end *end)
{
	struct sink *s = ctx;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	s->v[s->n].c = *c;
	s->v[s->n].end = *end;
	s->n++;
}

/* client_event's transition, this long in old, with these flags (no owner without OWNER). */
static struct tcpfsm_event tr(uint64_t cookie, uint64_t ts_ns, int old, int new, uint64_t dur,
			      uint8_t flags)
{
	struct tcpfsm_event e = client_event(cookie, ts_ns, old, new);

	e.old_duration_ns = dur;
	e.flags = flags;
	if (!(flags & OWNER))
		event_drop_owner(&e);
	return e;
}

static struct tcpfsm_event seed(uint64_t cookie, uint64_t ts_ns, int state, uint8_t flags)
{
	struct tcpfsm_event e = tr(cookie, ts_ns, state, state, UNKNOWN, flags);

	e.kind = TCPFSM_KIND_SNAPSHOT;
	e.ino = 1000 + (uint32_t)cookie;
	return e;
}

static void apply_ok(struct conntab *t, struct tcpfsm_event e, struct sink *s)
{
	assert_int_equal(conntab__apply(t, &e, emit, s), 0);
}

#define PATH(c, ...)                                                                      \
	do {                                                                              \
		const uint8_t _s[] = { __VA_ARGS__ };                                     \
		assert_int_equal((c)->npath, ARRAY_SIZE(_s));                             \
		for (size_t _i = 0; _i < ARRAY_SIZE(_s); _i++)                            \
			assert_int_equal((c)->states[_i], _s[_i]);                        \
	} while (0)

#define ENTER(c, ...)                                                                     \
	do {                                                                              \
		const uint64_t _e[] = { __VA_ARGS__ };                                    \
		assert_int_equal((c)->npath, ARRAY_SIZE(_e));                             \
		for (size_t _i = 0; _i < ARRAY_SIZE(_e); _i++)                            \
			assert_int_equal((c)->enter_ns[_i], _e[_i]);                      \
	} while (0)

static void assert_counts(const struct conntab *t, const uint32_t want[TCPFSM_STATE_MAX])
{
	uint32_t got[TCPFSM_STATE_MAX];

	conntab__count_states(t, got);
	for (int i = 0; i < TCPFSM_STATE_MAX; i++)
		assert_int_equal(got[i], want[i]);
}

static void assert_stats(const struct conntab *t, uint64_t applied, uint64_t duplicates,
			 uint64_t evicted, uint64_t closed, uint64_t expired)
{
	const struct conntab_stats *st = conntab__stats(t);

	assert_int_equal(st->applied, applied);
	assert_int_equal(st->duplicates, duplicates);
	assert_int_equal(st->evicted, evicted);
	assert_int_equal(st->closed, closed);
	assert_int_equal(st->timewait_expired, expired);
}

static void test_new_rejects_bad_bounds(void **unused)
{
	struct conntab *t;

	errno = 0;
	assert_null(conntab__new(0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(conntab__new(UINT32_MAX));
	assert_int_equal(errno, EINVAL);
	t = conntab__new(1);
	assert_non_null(t);
	assert_int_equal(conntab__live(t), 0);
	assert_null(conntab__lookup(t, 1));
	assert_stats(t, 0, 0, 0, 0, 0);
	conntab__free(t);
	conntab__free(NULL);
}

/*
 * The active closer: CLOSE -> SYN_SENT (port not picked yet) -> ESTABLISHED
 * -> FIN_WAIT1 -> FIN_WAIT2 -> CLOSE. The history ends in TIME_WAIT and the
 * entry stays as a timewait socket for TCP_TIMEWAIT_LEN of record time.
 */
static void test_client_path_ends_in_timewait(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct sink s = {};
	struct tcpfsm_event e;
	const struct conn *c;
	uint32_t counts[TCPFSM_STATE_MAX] = {};

	e = tr(42, 10 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER);
	e.sport = 0;
	apply_ok(t, e, &s);
	c = conntab__lookup(t, 42);
	assert_non_null(c);
	assert_int_equal(c->state, SYN_SENT);
	assert_int_equal(c->sport, 0);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER);
	apply_ok(t, tr(42, 10 * SEC + 250000, SYN_SENT, ESTABLISHED, 250000, OWNER), &s);
	apply_ok(t, tr(42, 12 * SEC + 500000000, ESTABLISHED, FIN_WAIT1, 2499750000, OWNER), &s);
	apply_ok(t, tr(42, 12 * SEC + 500100000, FIN_WAIT1, FIN_WAIT2, 100000, OWNER | SOFTIRQ),
		 &s);
	assert_int_equal(s.n, 0);
	counts[FIN_WAIT2] = 1;
	assert_counts(t, counts);

	apply_ok(t, tr(42, 12 * SEC + 530100000, FIN_WAIT2, CLOSE, 30000000, OWNER | SOFTIRQ), &s);
	assert_int_equal(s.n, 1);
	c = &s.v[0].c;
	assert_int_equal(c->cookie, 42);
	PATH(c, SYN_SENT, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, TIME_WAIT);
	ENTER(c, 10 * SEC, 10 * SEC + 250000, 12 * SEC + 500000000, 12 * SEC + 500100000,
	      12 * SEC + 530100000);
	assert_int_equal(c->state, TIME_WAIT);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER);
	assert_int_equal(c->skipped, 0);
	assert_int_equal(c->pid, 4242);
	assert_string_equal(c->comm, "curl");
	assert_int_equal(c->cgroup_id, 7);
	assert_int_equal(c->netns, 4026531840u);
	assert_int_equal(c->family, TCPFSM_AF_INET);
	/* the port learnt at SYN_SENT -> ESTABLISHED */
	assert_int_equal(c->sport, 40000);
	assert_int_equal(c->dport, 443);
	assert_memory_equal(c->saddr, ((uint8_t[16]){ 10, 0, 0, 1 }), 16);
	assert_memory_equal(c->daddr, ((uint8_t[16]){ 10, 0, 0, 2 }), 16);
	assert_int_equal(s.v[0].end.end_ns, 12 * SEC + 530100000);
	assert_int_equal(s.v[0].end.reason, END_NORMAL);
	assert_true(s.v[0].end.timewait);

	/* the timewait socket keeps the cookie */
	c = conntab__lookup(t, 42);
	assert_non_null(c);
	assert_int_equal(c->state, TIME_WAIT);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER | CONN_TIMEWAIT);
	assert_int_equal(conntab__live(t), 1);
	counts[FIN_WAIT2] = 0;
	counts[TIME_WAIT] = 1;
	assert_counts(t, counts);
	assert_stats(t, 5, 0, 0, 1, 0);

	/* 60 s after it entered TIME_WAIT, not a nanosecond before */
	conntab__expire(t, 12 * SEC + 530100000 + CONN_TIMEWAIT_NS - 1);
	assert_non_null(conntab__lookup(t, 42));
	assert_stats(t, 5, 0, 0, 1, 0);
	conntab__expire(t, 12 * SEC + 530100000 + CONN_TIMEWAIT_NS);
	assert_null(conntab__lookup(t, 42));
	assert_int_equal(conntab__live(t), 0);
	counts[TIME_WAIT] = 0;
	assert_counts(t, counts);
	assert_stats(t, 5, 0, 0, 1, 1);
	assert_int_equal(s.n, 1); /* expiry emits nothing */
	free(s.v);
	conntab__free(t);
}

/*
 * close() after shutdown(): the kernel reports FIN_WAIT1 -> FIN_WAIT1 and
 * FIN_WAIT2 -> FIN_WAIT2 (old_duration_ns: the time in the state so far).
 * Neither is a new path entry nor a gap; the 2 s wait in FIN_WAIT2 stays one
 * state entered once. A socket first seen at such a record enters the path
 * at the time the record implies; a closed socket closed again is ignored.
 */
static void test_same_state(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct sink s = {};
	const struct conn *c;

	apply_ok(t, tr(42, 10 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(42, 10 * SEC + 1000, SYN_SENT, ESTABLISHED, 1000, OWNER), &s);
	apply_ok(t, tr(42, 11 * SEC, ESTABLISHED, FIN_WAIT1, SEC - 1000, OWNER), &s);
	apply_ok(t, tr(42, 11 * SEC + 10, FIN_WAIT1, FIN_WAIT1, 10, OWNER), &s);
	apply_ok(t, tr(42, 11 * SEC + 100, FIN_WAIT1, FIN_WAIT2, 100, SOFTIRQ), &s);
	apply_ok(t, tr(42, 13 * SEC, FIN_WAIT2, FIN_WAIT2, 2 * SEC - 100, OWNER), &s);
	c = conntab__lookup(t, 42);
	assert_non_null(c);
	assert_int_equal(c->state, FIN_WAIT2);
	PATH(c, SYN_SENT, ESTABLISHED, FIN_WAIT1, FIN_WAIT2);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER);
	apply_ok(t, tr(42, 13 * SEC + 500, FIN_WAIT2, CLOSE, 2 * SEC + 400, SOFTIRQ), &s);
	assert_int_equal(s.n, 1);
	c = &s.v[0].c;
	PATH(c, SYN_SENT, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, TIME_WAIT);
	ENTER(c, 10 * SEC, 10 * SEC + 1000, 11 * SEC, 11 * SEC + 100, 13 * SEC + 500);
	assert_true(s.v[0].end.timewait);
	assert_int_equal(conntab__stats(t)->same_state, 2);

	/* first seen at a self-transition: in CLOSING since 5 s - 3 s */
	apply_ok(t, tr(43, 5 * SEC, CLOSING, CLOSING, 3 * SEC, OWNER), &s);
	c = conntab__lookup(t, 43);
	assert_non_null(c);
	assert_int_equal(c->state, CLOSING);
	PATH(c, CLOSING);
	ENTER(c, 2 * SEC);
	assert_false(c->flags & CONN_COMPLETE);
	/* in another state than we thought: a gap, and the state it is in */
	apply_ok(t, tr(43, 6 * SEC, LAST_ACK, LAST_ACK, SEC / 2, OWNER), &s);
	c = conntab__lookup(t, 43);
	PATH(c, CLOSING, LAST_ACK);
	ENTER(c, 2 * SEC, 5 * SEC + SEC / 2);
	assert_true(c->flags & CONN_GAP);

	/* CLOSE -> CLOSE of a socket we do not hold, or of a timewait one */
	apply_ok(t, tr(44, 7 * SEC, CLOSE, CLOSE, UNKNOWN, OWNER), &s);
	assert_null(conntab__lookup(t, 44));
	apply_ok(t, tr(42, 14 * SEC, CLOSE, CLOSE, UNKNOWN, OWNER), &s);
	c = conntab__lookup(t, 42);
	assert_non_null(c);
	assert_int_equal(c->state, TIME_WAIT);
	assert_int_equal(s.n, 1);
	free(s.v);
	conntab__free(t);
}

/* "now" is record time: expire() with an older clock still uses the newest record */
static void test_expire_uses_record_time(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct sink s = {};

	apply_ok(t, tr(1, 1 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(1, 2 * SEC, SYN_SENT, ESTABLISHED, SEC, OWNER), &s);
	apply_ok(t, tr(1, 3 * SEC, ESTABLISHED, FIN_WAIT1, SEC, OWNER), &s);
	apply_ok(t, tr(1, 4 * SEC, FIN_WAIT1, CLOSING, SEC, OWNER | SOFTIRQ), &s);
	apply_ok(t, tr(1, 5 * SEC, CLOSING, CLOSE, SEC, OWNER | SOFTIRQ), &s);
	assert_int_equal(s.n, 1);
	assert_true(s.v[0].end.timewait); /* CLOSING hands over to timewait too */
	PATH(&s.v[0].c, SYN_SENT, ESTABLISHED, FIN_WAIT1, CLOSING, TIME_WAIT);

	/* a second timewait socket, later */
	apply_ok(t, tr(2, 30 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(2, 31 * SEC, SYN_SENT, ESTABLISHED, SEC, OWNER), &s);
	apply_ok(t, tr(2, 32 * SEC, ESTABLISHED, FIN_WAIT1, SEC, OWNER), &s);
	apply_ok(t, tr(2, 33 * SEC, FIN_WAIT1, FIN_WAIT2, SEC, OWNER | SOFTIRQ), &s);
	apply_ok(t, tr(2, 34 * SEC, FIN_WAIT2, CLOSE, SEC, OWNER | SOFTIRQ), &s);
	assert_int_equal(s.n, 2);

	conntab__expire(t, 0);
	assert_int_equal(conntab__live(t), 2);
	/* an unrelated record 60 s after the first handoff moves "now" */
	apply_ok(t, tr(3, 65 * SEC, CLOSE, LISTEN, UNKNOWN, OWNER), &s);
	conntab__expire(t, 0);
	assert_null(conntab__lookup(t, 1));
	assert_non_null(conntab__lookup(t, 2));
	assert_non_null(conntab__lookup(t, 3));
	assert_int_equal(conntab__live(t), 2);
	assert_int_equal(conntab__stats(t)->timewait_expired, 1);
	conntab__expire(t, 94 * SEC);
	assert_null(conntab__lookup(t, 2));
	assert_non_null(conntab__lookup(t, 3)); /* live connections never expire */
	assert_int_equal(conntab__stats(t)->timewait_expired, 2);
	free(s.v);
	conntab__free(t);
}

/* A passively opened child: LISTEN -> SYN_RECV ... LAST_ACK -> CLOSE. */
static void test_server_child_normal_close(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct sink s = {};
	const struct conn *c;

	apply_ok(t,
		 tr(7, 1 * SEC, LISTEN, SYN_RECV, UNKNOWN,
		    OWNER | TCPFSM_F_OWNER_LISTENER | SOFTIRQ),
		 &s);
	apply_ok(t, tr(7, 1 * SEC + 5000, SYN_RECV, ESTABLISHED, 5000, OWNER | SOFTIRQ), &s);
	apply_ok(t, tr(7, 3 * SEC, ESTABLISHED, CLOSE_WAIT, 2 * SEC - 5000, OWNER | SOFTIRQ), &s);
	apply_ok(t, tr(7, 3 * SEC + 700, CLOSE_WAIT, LAST_ACK, 700, OWNER), &s);
	assert_int_equal(s.n, 0);
	c = conntab__lookup(t, 7);
	assert_non_null(c);
	assert_int_equal(c->state, LAST_ACK);
	apply_ok(t, tr(7, 3 * SEC + 900, LAST_ACK, CLOSE, 200, OWNER), &s);
	assert_int_equal(s.n, 1);
	c = &s.v[0].c;
	PATH(c, SYN_RECV, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSE);
	ENTER(c, 1 * SEC, 1 * SEC + 5000, 3 * SEC, 3 * SEC + 700, 3 * SEC + 900);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER);
	assert_int_equal(c->state, CLOSE);
	assert_int_equal(s.v[0].end.reason, END_NORMAL);
	assert_false(s.v[0].end.timewait);
	assert_int_equal(s.v[0].end.end_ns, 3 * SEC + 900);
	/* gone: no timewait socket on the passive closer */
	assert_null(conntab__lookup(t, 7));
	assert_int_equal(conntab__live(t), 0);
	assert_stats(t, 5, 0, 0, 1, 0);

	/* and the listener itself */
	apply_ok(t, tr(8, 1 * SEC, CLOSE, LISTEN, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(8, 9 * SEC, LISTEN, CLOSE, 8 * SEC, OWNER), &s);
	assert_int_equal(s.n, 2);
	PATH(&s.v[1].c, LISTEN, CLOSE);
	ENTER(&s.v[1].c, 1 * SEC, 9 * SEC);
	assert_int_equal(s.v[1].c.flags, CONN_COMPLETE | CONN_OWNER);
	assert_int_equal(s.v[1].end.reason, END_NORMAL);
	assert_false(s.v[1].end.timewait);
	free(s.v);
	conntab__free(t);
}

/* First seen mid-life: the old state's start is known only if the kernel timed it. */
static void test_first_seen_mid_life(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct sink s = {};
	const struct conn *c;
	struct tcpfsm_event e;

	/* timed: entered ESTABLISHED 3 s before */
	apply_ok(t, tr(1, 10 * SEC, ESTABLISHED, FIN_WAIT1, 3 * SEC, OWNER | TCPFSM_F_PREEXISTING),
		 &s);
	c = conntab__lookup(t, 1);
	assert_non_null(c);
	PATH(c, ESTABLISHED, FIN_WAIT1);
	ENTER(c, 7 * SEC, 10 * SEC);
	assert_int_equal(c->flags, CONN_OWNER);
	assert_int_equal(c->state, FIN_WAIT1);

	/* not timed: unknown (0), never a fake time */
	apply_ok(t,
		 tr(2, 10 * SEC, ESTABLISHED, CLOSE_WAIT, UNKNOWN, SOFTIRQ | TCPFSM_F_PREEXISTING),
		 &s);
	c = conntab__lookup(t, 2);
	assert_non_null(c);
	PATH(c, ESTABLISHED, CLOSE_WAIT);
	ENTER(c, 0, 10 * SEC);
	assert_int_equal(c->flags, 0); /* owner unknown too */
	assert_int_equal(c->pid, 0);
	assert_string_equal(c->comm, "");

	/* a duration longer than the time since boot cannot be right */
	apply_ok(t, tr(3, 10 * SEC, ESTABLISHED, FIN_WAIT1, 11 * SEC, OWNER), &s);
	ENTER(conntab__lookup(t, 3), 0, 10 * SEC);

	/* the owner shows up later and is kept */
	apply_ok(t, tr(2, 11 * SEC, CLOSE_WAIT, LAST_ACK, SEC, OWNER), &s);
	apply_ok(t, tr(2, 11 * SEC + 100, LAST_ACK, CLOSE, 100, SOFTIRQ), &s);
	assert_int_equal(s.n, 1);
	c = &s.v[0].c;
	PATH(c, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSE);
	ENTER(c, 0, 10 * SEC, 11 * SEC, 11 * SEC + 100);
	assert_int_equal(c->flags, CONN_OWNER); /* not complete */
	assert_int_equal(c->pid, 4242);
	assert_string_equal(c->comm, "curl");
	assert_int_equal(s.v[0].end.reason, END_NORMAL);

	/* first seen at its close: a one-transition history */
	e = tr(4, 20 * SEC, ESTABLISHED, CLOSE, 5 * SEC, OWNER | SOFTIRQ);
	e.evidence = TCPFSM_EV_RST_RECV;
	apply_ok(t, e, &s);
	assert_int_equal(s.n, 2);
	c = &s.v[1].c;
	PATH(c, ESTABLISHED, CLOSE);
	ENTER(c, 15 * SEC, 20 * SEC);
	assert_int_equal(c->flags, CONN_OWNER);
	assert_int_equal(c->evidence, TCPFSM_EV_RST_RECV);
	assert_int_equal(s.v[1].end.reason, END_RESET_RECEIVED);
	assert_null(conntab__lookup(t, 4));

	/* a socket that existed in CLOSE before tracing is a new life all the same */
	apply_ok(t, tr(5, 21 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER | TCPFSM_F_PREEXISTING), &s);
	assert_int_equal(conntab__lookup(t, 5)->flags, CONN_COMPLETE | CONN_OWNER);
	PATH(conntab__lookup(t, 5), SYN_SENT);
	free(s.v);
	conntab__free(t);
}

/* A transition that does not start where the last one ended marks a gap. */
static void test_gap(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct sink s = {};
	const struct conn *c;

	apply_ok(t, tr(9, 1 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	/* SYN_SENT -> ESTABLISHED lost */
	apply_ok(t, tr(9, 3 * SEC, ESTABLISHED, FIN_WAIT1, SEC, OWNER), &s);
	c = conntab__lookup(t, 9);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER | CONN_GAP);
	PATH(c, SYN_SENT, FIN_WAIT1);
	ENTER(c, 1 * SEC, 3 * SEC);
	assert_int_equal(c->state, FIN_WAIT1);
	/* the gap stays marked after in-order transitions */
	apply_ok(t, tr(9, 4 * SEC, FIN_WAIT1, FIN_WAIT2, SEC, OWNER | SOFTIRQ), &s);
	apply_ok(t, tr(9, 5 * SEC, FIN_WAIT2, CLOSE, SEC, OWNER | SOFTIRQ), &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].c.flags, CONN_COMPLETE | CONN_OWNER | CONN_GAP);
	PATH(&s.v[0].c, SYN_SENT, FIN_WAIT1, FIN_WAIT2, TIME_WAIT);
	assert_int_equal(s.v[0].end.reason, END_NORMAL);
	assert_true(s.v[0].end.timewait);
	free(s.v);
	conntab__free(t);
}

/*
 * Startup snapshot: seeds (one of them a timewait socket); the queued
 * transitions older than a seed are already reflected in it and dropped,
 * newer ones apply.
 */
static void test_seeds_and_duplicates(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct sink s = {};
	const struct conn *c;
	uint32_t counts[TCPFSM_STATE_MAX] = {};
	struct tcpfsm_event e;

	apply_ok(t, seed(1, 100 * SEC, ESTABLISHED, OWNER | TCPFSM_F_PREEXISTING), &s);
	apply_ok(t, seed(2, 100 * SEC, TIME_WAIT, TCPFSM_F_TIMEWAIT | TCPFSM_F_PREEXISTING), &s);
	/* a timewait socket still in its FIN_WAIT2 substate counts as TIME_WAIT */
	e = seed(3, 100 * SEC, FIN_WAIT2, TCPFSM_F_TIMEWAIT | TCPFSM_F_PREEXISTING);
	e.cgroup_id = 99; /* known without an owner */
	apply_ok(t, e, &s);
	/* taken up by the lazy-tracking sweep: in LISTEN since exactly then */
	apply_ok(t, seed(4, 100 * SEC, LISTEN, OWNER), &s);
	/* half-open requests are the alert engine's, not the table's */
	apply_ok(t, seed(5, 100 * SEC, NEW_SYN_RECV, 0), &s);
	assert_null(conntab__lookup(t, 5));
	assert_int_equal(s.n, 0);
	assert_int_equal(conntab__live(t), 4);
	assert_stats(t, 4, 0, 0, 0, 0);

	c = conntab__lookup(t, 1);
	assert_int_equal(c->state, ESTABLISHED);
	assert_int_equal(c->flags, CONN_SEEDED | CONN_FIRST_LOWER | CONN_OWNER);
	PATH(c, ESTABLISHED);
	ENTER(c, 100 * SEC);
	c = conntab__lookup(t, 2);
	assert_int_equal(c->state, TIME_WAIT);
	assert_int_equal(c->flags, CONN_SEEDED | CONN_FIRST_LOWER | CONN_TIMEWAIT);
	PATH(c, TIME_WAIT);
	ENTER(c, 100 * SEC);
	c = conntab__lookup(t, 3);
	assert_int_equal(c->state, TIME_WAIT);
	assert_int_equal(c->flags, CONN_SEEDED | CONN_FIRST_LOWER | CONN_TIMEWAIT);
	assert_int_equal(c->cgroup_id, 99);
	assert_int_equal(c->pid, 0);
	PATH(c, TIME_WAIT);
	c = conntab__lookup(t, 4);
	assert_int_equal(c->flags, CONN_SEEDED | CONN_OWNER); /* an exact age */
	ENTER(c, 100 * SEC);
	counts[ESTABLISHED] = 1;
	counts[TIME_WAIT] = 2;
	counts[LISTEN] = 1;
	assert_counts(t, counts);

	/* the same socket reached twice (two namespaces): ignored */
	apply_ok(t, seed(1, 101 * SEC, CLOSE_WAIT, OWNER), &s);
	assert_int_equal(conntab__lookup(t, 1)->state, ESTABLISHED);
	assert_stats(t, 4, 0, 0, 0, 0);

	/* queued before the snapshot saw them: duplicates */
	apply_ok(t, tr(1, 99 * SEC, SYN_SENT, ESTABLISHED, SEC, OWNER), &s);
	apply_ok(t, tr(1, 100 * SEC, SYN_SENT, ESTABLISHED, SEC, OWNER), &s); /* same time */
	apply_ok(t, tr(2, 99 * SEC, FIN_WAIT2, CLOSE, SEC, OWNER | SOFTIRQ), &s);
	assert_int_equal(s.n, 0);
	assert_stats(t, 4, 3, 0, 0, 0);
	c = conntab__lookup(t, 1);
	assert_int_equal(c->state, ESTABLISHED);
	PATH(c, ESTABLISHED);
	c = conntab__lookup(t, 2);
	assert_non_null(c);
	assert_int_equal(c->state, TIME_WAIT);
	assert_int_equal(c->flags, CONN_SEEDED | CONN_FIRST_LOWER | CONN_TIMEWAIT);
	assert_counts(t, counts);

	/* newer: applies, and the history starts at the seed */
	apply_ok(t, tr(1, 160 * SEC, ESTABLISHED, CLOSE_WAIT, UNKNOWN, SOFTIRQ), &s);
	apply_ok(t, tr(1, 160 * SEC + 500000, CLOSE_WAIT, LAST_ACK, 500000, OWNER), &s);
	/* later than a seed that already has a newer state: applies as usual */
	apply_ok(t, tr(1, 160 * SEC + 600000, LAST_ACK, CLOSE, 100000, OWNER), &s);
	assert_int_equal(s.n, 1);
	c = &s.v[0].c;
	PATH(c, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSE);
	ENTER(c, 100 * SEC, 160 * SEC, 160 * SEC + 500000, 160 * SEC + 600000);
	assert_int_equal(c->flags, CONN_SEEDED | CONN_FIRST_LOWER | CONN_OWNER);
	assert_int_equal(s.v[0].end.reason, END_NORMAL);
	assert_false(s.v[0].end.timewait);
	assert_stats(t, 7, 3, 0, 1, 0);

	/* the seeded timewait socket expires 60 s after the snapshot at the latest */
	conntab__expire(t, 160 * SEC);
	assert_null(conntab__lookup(t, 2));
	assert_null(conntab__lookup(t, 3));
	assert_stats(t, 7, 3, 0, 1, 2);
	assert_int_equal(conntab__live(t), 1);
	free(s.v);
	conntab__free(t);
}

/* A cookie seen again after its timewait entry: a new life of the same socket. */
static void test_cookie_reused_after_timewait(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct sink s = {};
	const struct conn *c;
	struct tcpfsm_event e;
	uint32_t counts[TCPFSM_STATE_MAX] = {};

	apply_ok(t, tr(5, 1 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(5, 2 * SEC, SYN_SENT, ESTABLISHED, SEC, OWNER), &s);
	apply_ok(t, tr(5, 3 * SEC, ESTABLISHED, FIN_WAIT1, SEC, OWNER), &s);
	apply_ok(t, tr(5, 4 * SEC, FIN_WAIT1, FIN_WAIT2, SEC, OWNER | SOFTIRQ), &s);
	apply_ok(t, tr(5, 5 * SEC, FIN_WAIT2, CLOSE, SEC, OWNER | SOFTIRQ), &s);
	assert_int_equal(s.n, 1);
	assert_true(s.v[0].end.timewait);

	/* connect() again on the same socket */
	e = tr(5, 6 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER);
	e.dport = 9;
	apply_ok(t, e, &s);
	c = conntab__lookup(t, 5);
	assert_non_null(c);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER);
	PATH(c, SYN_SENT);
	ENTER(c, 6 * SEC);
	assert_int_equal(c->dport, 9);
	assert_int_equal(conntab__live(t), 1);
	counts[SYN_SENT] = 1;
	assert_counts(t, counts);

	e = tr(5, 6 * SEC + 1000, SYN_SENT, CLOSE, 1000, OWNER);
	e.dport = 9;
	e.evidence = TCPFSM_EV_RST_RECV;
	apply_ok(t, e, &s);
	assert_int_equal(s.n, 2);
	c = &s.v[1].c;
	PATH(c, SYN_SENT, CLOSE);
	ENTER(c, 6 * SEC, 6 * SEC + 1000);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER); /* no gap from the old life */
	assert_int_equal(s.v[1].end.reason, END_REFUSED);
	assert_false(s.v[1].end.timewait);
	assert_null(conntab__lookup(t, 5));
	assert_int_equal(conntab__live(t), 0);
	assert_stats(t, 7, 0, 0, 2, 0);

	/* same after a seeded timewait socket, with a newer record */
	apply_ok(t, seed(6, 10 * SEC, TIME_WAIT, TCPFSM_F_TIMEWAIT), &s);
	apply_ok(t, tr(6, 11 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	c = conntab__lookup(t, 6);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER);
	assert_int_equal(c->state, SYN_SENT);
	PATH(c, SYN_SENT);
	assert_int_equal(conntab__stats(t)->duplicates, 0);
	free(s.v);
	conntab__free(t);
}

/*
 * At the bound the least recently active connection makes room: emitted as
 * evicted and counted. Timewait entries (already reported) go first, silently.
 */
static void test_eviction_at_bound(void **unused)
{
	struct conntab *t = conntab__new(3);
	struct sink s = {};
	uint32_t counts[TCPFSM_STATE_MAX] = {};

	apply_ok(t, tr(1, 1 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(2, 2 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(3, 3 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(1, 4 * SEC, SYN_SENT, ESTABLISHED, 3 * SEC, OWNER), &s);
	assert_int_equal(conntab__live(t), 3);
	assert_int_equal(s.n, 0);

	/* 2 is the least recently active */
	apply_ok(t, tr(4, 5 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].c.cookie, 2);
	PATH(&s.v[0].c, SYN_SENT); /* nothing appended */
	ENTER(&s.v[0].c, 2 * SEC);
	assert_int_equal(s.v[0].c.state, SYN_SENT);
	assert_int_equal(s.v[0].end.reason, END_EVICTED);
	assert_int_equal(s.v[0].end.end_ns, 5 * SEC);
	assert_false(s.v[0].end.timewait);
	assert_null(conntab__lookup(t, 2));
	assert_non_null(conntab__lookup(t, 1));
	assert_non_null(conntab__lookup(t, 3));
	assert_non_null(conntab__lookup(t, 4));
	assert_int_equal(conntab__live(t), 3);
	assert_stats(t, 5, 0, 1, 0, 0);

	/* 3 closes actively and becomes a timewait entry */
	apply_ok(t, tr(3, 6 * SEC, SYN_SENT, ESTABLISHED, 3 * SEC, OWNER), &s);
	apply_ok(t, tr(3, 7 * SEC, ESTABLISHED, FIN_WAIT1, SEC, OWNER), &s);
	apply_ok(t, tr(3, 8 * SEC, FIN_WAIT1, FIN_WAIT2, SEC, OWNER | SOFTIRQ), &s);
	apply_ok(t, tr(3, 9 * SEC, FIN_WAIT2, CLOSE, SEC, OWNER | SOFTIRQ), &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[1].end.reason, END_NORMAL);
	counts[ESTABLISHED] = 1;
	counts[SYN_SENT] = 1;
	counts[TIME_WAIT] = 1;
	assert_counts(t, counts);

	/* the timewait entry goes first, although 1 is less recently active */
	apply_ok(t, tr(5, 10 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	assert_int_equal(s.n, 2);
	assert_null(conntab__lookup(t, 3));
	assert_non_null(conntab__lookup(t, 1));
	/* counted apart: no history was lost, only the TIME_WAIT count */
	assert_stats(t, 10, 0, 1, 1, 0);
	assert_int_equal(conntab__stats(t)->timewait_evicted, 1);

	/* then the least recently active: 1 (4 s), before 4 (5 s) and 5 (10 s) */
	apply_ok(t, tr(6, 11 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[2].c.cookie, 1);
	PATH(&s.v[2].c, SYN_SENT, ESTABLISHED);
	ENTER(&s.v[2].c, 1 * SEC, 4 * SEC);
	assert_int_equal(s.v[2].end.reason, END_EVICTED);
	assert_int_equal(s.v[2].end.end_ns, 11 * SEC);
	assert_stats(t, 11, 0, 2, 1, 0);

	/* a transition makes a connection the most recently active */
	apply_ok(t, tr(4, 12 * SEC, SYN_SENT, ESTABLISHED, 7 * SEC, OWNER), &s);
	apply_ok(t, tr(7, 13 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.v[3].c.cookie, 5);
	assert_non_null(conntab__lookup(t, 4));
	assert_non_null(conntab__lookup(t, 6));
	assert_non_null(conntab__lookup(t, 7));
	assert_int_equal(conntab__live(t), 3);

	/* evictions of seeds work the same */
	apply_ok(t, seed(8, 14 * SEC, ESTABLISHED, OWNER), &s);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.v[4].c.cookie, 6);
	assert_stats(t, 14, 0, 4, 1, 0);
	assert_int_equal(conntab__stats(t)->timewait_evicted, 1);

	/* a table of one */
	conntab__free(t);
	t = conntab__new(1);
	apply_ok(t, tr(1, 1 * SEC, CLOSE, LISTEN, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(2, 2 * SEC, CLOSE, LISTEN, UNKNOWN, OWNER), &s);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.v[5].c.cookie, 1);
	assert_int_equal(s.v[5].end.reason, END_EVICTED);
	assert_int_equal(conntab__live(t), 1);
	assert_non_null(conntab__lookup(t, 2));
	free(s.v);
	conntab__free(t);
}

/* Emitting is optional: a NULL callback still keeps the table straight. */
static void test_null_emit(void **unused)
{
	struct conntab *t = conntab__new(2);
	struct tcpfsm_event e;

	for (uint64_t k = 1; k <= 5; k++) {
		e = tr(k, k * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER);
		assert_int_equal(conntab__apply(t, &e, NULL, NULL), 0);
	}
	e = tr(5, 6 * SEC, SYN_SENT, CLOSE, SEC, OWNER);
	assert_int_equal(conntab__apply(t, &e, NULL, NULL), 0);
	assert_int_equal(conntab__live(t), 1);
	assert_non_null(conntab__lookup(t, 4));
	assert_stats(t, 6, 0, 3, 1, 0);
	conntab__free(t);
}

/*
 * Longer than CONN_PATH_MAX: the first CONN_PATH_MAX - 1 states and the latest
 * are kept, the ones between counted.
 */
static void test_long_path(void **unused)
{
	static const uint8_t seq[] = { CLOSE,	  SYN_SENT,  ESTABLISHED, CLOSE_WAIT, LAST_ACK,
				       ESTABLISHED, FIN_WAIT1, FIN_WAIT2,   CLOSE };
	struct conntab *t = conntab__new(16);
	struct sink s = {};
	const struct conn *c;

	for (size_t i = 1; i < ARRAY_SIZE(seq); i++) {
		apply_ok(t, tr(3, i * SEC, seq[i - 1], seq[i], i == 1 ? UNKNOWN : SEC,
			       OWNER | (seq[i] == CLOSE ? SOFTIRQ : 0)),
			 &s);
		c = conntab__lookup(t, 3);
		if (i == 6) {
			/* full, not skipping yet */
			assert_int_equal(c->skipped, 0);
			PATH(c, SYN_SENT, ESTABLISHED, CLOSE_WAIT, LAST_ACK, ESTABLISHED,
			     FIN_WAIT1);
		}
		if (i == 7) {
			assert_int_equal(c->skipped, 1);
			assert_int_equal(c->state, FIN_WAIT2);
			PATH(c, SYN_SENT, ESTABLISHED, CLOSE_WAIT, LAST_ACK, ESTABLISHED,
			     FIN_WAIT2);
			ENTER(c, 1 * SEC, 2 * SEC, 3 * SEC, 4 * SEC, 5 * SEC, 7 * SEC);
		}
	}
	assert_int_equal(s.n, 1);
	c = &s.v[0].c;
	PATH(c, SYN_SENT, ESTABLISHED, CLOSE_WAIT, LAST_ACK, ESTABLISHED, TIME_WAIT);
	ENTER(c, 1 * SEC, 2 * SEC, 3 * SEC, 4 * SEC, 5 * SEC, 8 * SEC);
	assert_int_equal(c->skipped, 2);
	assert_int_equal(c->flags, CONN_COMPLETE | CONN_OWNER);
	assert_int_equal(s.v[0].end.reason, END_NORMAL);
	assert_true(s.v[0].end.timewait);

	/* the timewait entry expires from the latest state's time */
	conntab__expire(t, 8 * SEC + CONN_TIMEWAIT_NS - 1);
	assert_non_null(conntab__lookup(t, 3));
	conntab__expire(t, 8 * SEC + CONN_TIMEWAIT_NS);
	assert_null(conntab__lookup(t, 3));
	free(s.v);
	conntab__free(t);
}

/* Out-of-range fields: -EINVAL, and the table is left as it was. */
static void test_invalid_records(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct sink s = {};
	struct tcpfsm_event good = tr(1, 5 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), e;
	static const char *const cases[] = {
		"old state 0",	 "new state 0",	   "old state 13", "new state 13",
		"new state 255", "family 0",	   "family 1",	   "zero cookie",
		"kind 2",	 "kind 2, one state", "seed state 0", "seed family 0",
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		e = good;
		switch (i) {
		case 0: e.oldstate = 0; break;
		case 1: e.newstate = 0; break;
		case 2: e.oldstate = TCPFSM_STATE_MAX; break;
		case 3: e.newstate = TCPFSM_STATE_MAX; break;
		case 4: e.newstate = 255; break;
		case 5: e.family = 0; break;
		case 6: e.family = 1; break;
		case 7: e.cookie = 0; break;
		case 8: e.kind = TCPFSM_KIND_MAX; break;
		case 9: e.kind = TCPFSM_KIND_MAX; e.oldstate = e.newstate; break;
		case 10: e.kind = TCPFSM_KIND_SNAPSHOT; e.oldstate = e.newstate = 0; break;
		case 11:
			e.kind = TCPFSM_KIND_SNAPSHOT;
			e.oldstate = e.newstate;
			e.family = 0;
			break;
		}
		if (conntab__apply(t, &e, emit, &s) != -EINVAL)
			fail_msg("%s: accepted", cases[i]);
	}
	assert_int_equal(s.n, 0);
	assert_int_equal(conntab__live(t), 0);
	assert_stats(t, 0, 0, 0, 0, 0);
	/* and the valid record goes in */
	apply_ok(t, good, &s);
	assert_int_equal(conntab__live(t), 1);
	/* an invalid record does not move "now" either */
	apply_ok(t, tr(2, 1 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	apply_ok(t, tr(2, 2 * SEC, SYN_SENT, ESTABLISHED, SEC, OWNER), &s);
	apply_ok(t, tr(2, 3 * SEC, ESTABLISHED, FIN_WAIT1, SEC, OWNER), &s);
	apply_ok(t, tr(2, 4 * SEC, FIN_WAIT1, FIN_WAIT2, SEC, OWNER | SOFTIRQ), &s);
	apply_ok(t, tr(2, 5 * SEC, FIN_WAIT2, CLOSE, SEC, OWNER | SOFTIRQ), &s);
	e = tr(3, 100 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER);
	e.family = 0;
	assert_int_equal(conntab__apply(t, &e, emit, &s), -EINVAL);
	conntab__expire(t, 0);
	assert_non_null(conntab__lookup(t, 2));
	free(s.v);
	conntab__free(t);
}

static struct tcpfsm_event closing(int old, uint8_t flags, uint8_t evidence, uint16_t syn_retrans)
{
	struct tcpfsm_event e = tr(1, 10 * SEC, old, CLOSE, SEC, flags);

	e.evidence = evidence;
	e.syn_retrans = syn_retrans;
	return e;
}

/* Every end reason, from the last transition and the kernel's evidence. */
static void test_end_reasons(void **unused)
{
	const uint8_t RR = TCPFSM_EV_RST_RECV, RS = TCPFSM_EV_RST_SENT;
	struct {
		int old;
		uint8_t flags, evidence;
		uint16_t syn_retrans;
		enum end_reason want;
		bool timewait;
	} cases[] = {
		/* connect: refused, timed out, otherwise aborted */
		{ SYN_SENT, SOFTIRQ, RR, 0, END_REFUSED, false },
		{ SYN_SENT, 0, RR, 0, END_REFUSED, false },
		{ SYN_SENT, SOFTIRQ, RR, 3, END_REFUSED, false },
		{ SYN_SENT, SOFTIRQ, 0, 6, END_TIMEOUT, false },
		{ SYN_SENT, SOFTIRQ, 0, 1, END_TIMEOUT, false },
		{ SYN_SENT, 0, 0, 6, END_ABORTED, false }, /* close() while retrying */
		{ SYN_SENT, SOFTIRQ, 0, 0, END_ABORTED, false },
		{ SYN_SENT, 0, 0, 0, END_ABORTED, false },
		{ SYN_SENT, 0, RS, 0, END_ABORTED, false },
		/* resets by evidence, received first */
		{ ESTABLISHED, SOFTIRQ, RR, 0, END_RESET_RECEIVED, false },
		{ ESTABLISHED, 0, RR, 0, END_RESET_RECEIVED, false },
		{ ESTABLISHED, SOFTIRQ, RR | RS, 0, END_RESET_RECEIVED, false },
		{ FIN_WAIT2, SOFTIRQ, RR, 0, END_RESET_RECEIVED, false },
		{ LAST_ACK, SOFTIRQ, RR, 0, END_RESET_RECEIVED, false },
		{ SYN_RECV, SOFTIRQ, RR, 0, END_RESET_RECEIVED, false },
		{ ESTABLISHED, SOFTIRQ, RS, 0, END_RESET_SENT, false },
		{ CLOSING, SOFTIRQ, RS, 0, END_RESET_SENT, false },
		/* abortive close() in the owner's context: the RST follows */
		{ ESTABLISHED, 0, 0, 0, END_RESET_SENT, false },
		{ CLOSE_WAIT, 0, 0, 0, END_RESET_SENT, false },
		{ FIN_WAIT1, 0, 0, 0, END_RESET_SENT, false },
		{ SYN_RECV, 0, 0, 0, END_RESET_SENT, false },
		/* the same in softirq: a timer gave up */
		{ ESTABLISHED, SOFTIRQ, 0, 0, END_ABORTED, false },
		{ CLOSE_WAIT, SOFTIRQ, 0, 0, END_ABORTED, false },
		{ FIN_WAIT1, SOFTIRQ, 0, 0, END_ABORTED, false },
		{ SYN_RECV, SOFTIRQ, 0, 0, END_ABORTED, false },
		/* normal ends; the active closer keeps a timewait socket */
		{ LAST_ACK, 0, 0, 0, END_NORMAL, false },
		{ LAST_ACK, SOFTIRQ, 0, 0, END_NORMAL, false },
		{ FIN_WAIT2, SOFTIRQ, 0, 0, END_NORMAL, true },
		{ CLOSING, SOFTIRQ, 0, 0, END_NORMAL, true },
		{ CLOSING, 0, 0, 0, END_NORMAL, true },
		{ LISTEN, 0, 0, 0, END_NORMAL, false },
		{ LISTEN, SOFTIRQ, 0, 0, END_NORMAL, false },
	};
	struct conn zero = {};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tcpfsm_event e = closing(cases[i].old, cases[i].flags | OWNER,
						cases[i].evidence, cases[i].syn_retrans);
		struct conntab *t = conntab__new(4);
		struct sink s = {};
		enum end_reason got = conn_end_reason(&zero, &e);

		if (got != cases[i].want)
			fail_msg("case %zu (%d -> CLOSE, flags %#x, evidence %#x, %u retrans): %s, "
				 "expected %s",
				 i, cases[i].old, cases[i].flags, cases[i].evidence,
				 cases[i].syn_retrans, end_reason_name(got),
				 end_reason_name(cases[i].want));
		/* and through the table, first seen at its close */
		apply_ok(t, e, &s);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.v[0].end.reason, cases[i].want);
		assert_int_equal(s.v[0].end.timewait, cases[i].timewait);
		assert_int_equal(s.v[0].c.state, cases[i].timewait ? TIME_WAIT : CLOSE);
		assert_int_equal(s.v[0].c.syn_retrans, cases[i].syn_retrans);
		assert_int_equal(s.v[0].c.evidence, cases[i].evidence);
		assert_int_equal(conntab__live(t), cases[i].timewait ? 1 : 0);
		free(s.v);
		conntab__free(t);
	}
}

static void test_end_reason_names(void **unused)
{
	static const char *const names[] = {
		"normal", "reset_received", "reset_sent", "refused",
		"timeout", "aborted", "evicted",
	};
	static const char *const texts[] = {
		"normal close", "reset received", "reset sent", "connect refused",
		"connect timed out", "aborted", "evicted (table full)",
	};

	assert_int_equal(ARRAY_SIZE(names), END_REASON_MAX);
	for (int r = 0; r < END_REASON_MAX; r++) {
		assert_string_equal(end_reason_name(r), names[r]);
		assert_string_equal(end_reason_text(r), texts[r]);
	}
	assert_string_equal(end_reason_name(END_REASON_MAX), "unknown");
	assert_string_equal(end_reason_text(END_REASON_MAX), "unknown");
	assert_string_equal(end_reason_name((enum end_reason)-1), "unknown");
}

/* The evidence and retransmits seen at SYN_SENT travel with the connection. */
static void test_timeout_through_table(void **unused)
{
	struct conntab *t = conntab__new(4);
	struct sink s = {};
	struct tcpfsm_event e;

	apply_ok(t, tr(1, 1 * SEC, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	e = tr(1, 128 * SEC, SYN_SENT, CLOSE, 127 * SEC, SOFTIRQ);
	e.syn_retrans = 6;
	apply_ok(t, e, &s);
	assert_int_equal(s.n, 1);
	PATH(&s.v[0].c, SYN_SENT, CLOSE);
	ENTER(&s.v[0].c, 1 * SEC, 128 * SEC);
	assert_int_equal(s.v[0].c.syn_retrans, 6);
	assert_int_equal(s.v[0].c.flags, CONN_COMPLETE | CONN_OWNER); /* owner from before */
	assert_int_equal(s.v[0].c.pid, 4242);
	assert_int_equal(s.v[0].end.reason, END_TIMEOUT);
	assert_int_equal(s.v[0].end.end_ns, 128 * SEC);
	free(s.v);
	conntab__free(t);
}

/* 100000 live connections, then all closed; memory per live connection. */
static void test_growth_and_memory(void **unused)
{
	const uint32_t n = 100000;
	struct conntab *t = conntab__new(262144);
	struct sink s = {};
	size_t empty = conntab__memory(t), mem;
	uint32_t counts[TCPFSM_STATE_MAX] = {};
	double per;

	for (uint32_t i = 0; i < n; i++)
		apply_ok(t, tr(1000 + i, SEC + i, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	for (uint32_t i = 0; i < n; i += 2)
		apply_ok(t, tr(1000 + i, 2 * SEC + i, SYN_SENT, ESTABLISHED, SEC, OWNER), &s);
	assert_int_equal(conntab__live(t), n);
	assert_int_equal(s.n, 0);
	counts[SYN_SENT] = n / 2;
	counts[ESTABLISHED] = n / 2;
	assert_counts(t, counts);
	for (uint32_t i = 0; i < n; i++) {
		const struct conn *c = conntab__lookup(t, 1000 + i);

		assert_non_null(c);
		assert_int_equal(c->cookie, 1000 + i);
		assert_int_equal(c->enter_ns[0], SEC + i);
	}
	mem = conntab__memory(t);
	per = (double)mem / n;
	print_message("conntab: %zu bytes empty, %zu bytes at %u live: %.1f bytes per connection "
		      "(struct conn %zu)\n",
		      empty, mem, n, per, sizeof(struct conn));
	assert_true(mem > empty);
	assert_true(mem <= 200ull * n);

	for (uint32_t i = 0; i < n; i++)
		apply_ok(t, tr(1000 + i, 3 * SEC + i, i % 2 ? SYN_SENT : ESTABLISHED, CLOSE, SEC,
			       OWNER),
			 &s);
	assert_int_equal(s.n, n);
	assert_int_equal(conntab__live(t), 0);
	memset(counts, 0, sizeof(counts));
	assert_counts(t, counts);
	assert_stats(t, n + n / 2 + n, 0, 0, n, 0);
	for (uint32_t i = 0; i < n; i++)
		assert_null(conntab__lookup(t, 1000 + i));
	/* reported in the order they closed, with their own histories */
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(s.v[i].c.cookie, 1000 + i);
		assert_int_equal(s.v[i].c.npath, i % 2 ? 2 : 3);
		assert_int_equal(s.v[i].end.reason, i % 2 ? END_ABORTED : END_RESET_SENT);
	}
	/* the freed entries are reused: no growth for a second round */
	for (uint32_t i = 0; i < n; i++)
		apply_ok(t, tr(500000 + i, 4 * SEC + i, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
	assert_int_equal(conntab__memory(t), mem);
	assert_int_equal(conntab__live(t), n);
	free(s.v);
	conntab__free(t);
}

/* A tiny deterministic PRNG (xorshift64*). */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Many inserts and removals in random order with random cookies, across the
 * rehashes: every cookie in the model is found, with its own entry, and every
 * removed one is not.
 */
static void test_hash_integrity(void **unused)
{
	enum { N = 20000 };
	uint64_t *cookies = calloc(N, sizeof(*cookies)), x = 0x1234567;
	uint64_t *sorted = calloc(N, sizeof(*sorted));
	bool *in = calloc(N, sizeof(*in));
	struct conntab *t = conntab__new(N);
	struct sink s = {};
	uint64_t ts = SEC;
	uint32_t live = 0, closed = 0;

	assert_non_null(cookies);
	assert_non_null(sorted);
	assert_non_null(in);
	for (int i = 0; i < N; i++) {
		/* unique, non-zero; some close together, some far apart */
		cookies[i] = i % 3 ? (rnd(&x) >> 12) | 1ULL << 60 : 1 + (uint64_t)i * 1024;
	}
	memcpy(sorted, cookies, N * sizeof(*cookies));
	qsort(sorted, N, sizeof(*sorted), cmp_u64);
	for (int i = 1; i < N; i++)
		assert_true(sorted[i] != sorted[i - 1]);
	free(sorted);
	for (int round = 0; round < 8; round++) {
		for (int k = 0; k < N; k++) {
			int i = rnd(&x) % N;

			ts += 1000;
			if (!in[i]) {
				apply_ok(t, tr(cookies[i], ts, CLOSE, SYN_SENT, UNKNOWN, OWNER),
					 &s);
				in[i] = true;
				live++;
			} else if (rnd(&x) % 3) {
				apply_ok(t, tr(cookies[i], ts, SYN_SENT, CLOSE, 1000, OWNER), &s);
				in[i] = false;
				live--;
				closed++;
			}
		}
		assert_int_equal(conntab__live(t), live);
		assert_int_equal(s.n, closed);
		for (int i = 0; i < N; i++) {
			const struct conn *c = conntab__lookup(t, cookies[i]);

			if (in[i]) {
				assert_non_null(c);
				assert_int_equal(c->cookie, cookies[i]);
				assert_int_equal(c->state, SYN_SENT);
			} else {
				assert_null(c);
			}
		}
		/* close most of them, so the next round refills */
		if (round % 2) {
			for (int i = 0; i < N; i++)
				if (in[i] && i % 5) {
					ts += 1000;
					apply_ok(t,
						 tr(cookies[i], ts, SYN_SENT, CLOSE, 1000, OWNER),
						 &s);
					in[i] = false;
					live--;
					closed++;
				}
			assert_int_equal(conntab__live(t), live);
		}
	}
	assert_int_equal(conntab__stats(t)->closed, closed);
	assert_int_equal(conntab__stats(t)->evicted, 0);
	assert_int_equal(conntab__stats(t)->duplicates, 0);
	/* every emitted history is the one of its cookie */
	for (size_t k = 0; k < s.n; k++) {
		PATH(&s.v[k].c, SYN_SENT, CLOSE);
		assert_int_equal(s.v[k].c.enter_ns[1] - s.v[k].c.enter_ns[0] >= 1000, true);
	}
	free(s.v);
	free(cookies);
	free(in);
	conntab__free(t);
}

/* Rehash with timewait entries in the table: they stay findable. */
static void test_rehash_keeps_timewait(void **unused)
{
	enum { N = 5000 };
	struct conntab *t = conntab__new(N + 1);
	struct sink s = {};
	uint32_t counts[TCPFSM_STATE_MAX] = {};

	for (uint64_t i = 1; i <= 600; i++) {
		apply_ok(t, tr(i, i * 10, CLOSE, SYN_SENT, UNKNOWN, OWNER), &s);
		apply_ok(t, tr(i, i * 10 + 1, SYN_SENT, ESTABLISHED, 1, OWNER), &s);
		apply_ok(t, tr(i, i * 10 + 2, ESTABLISHED, FIN_WAIT1, 1, OWNER), &s);
		apply_ok(t, tr(i, i * 10 + 3, FIN_WAIT1, FIN_WAIT2, 1, OWNER | SOFTIRQ), &s);
		apply_ok(t, tr(i, i * 10 + 4, FIN_WAIT2, CLOSE, 1, OWNER | SOFTIRQ), &s);
	}
	/* grows past 1024, 2048 and 4096 entries: three rehashes */
	for (uint64_t i = 601; i <= N; i++)
		apply_ok(t, tr(i, 10000 + i, CLOSE, LISTEN, UNKNOWN, OWNER), &s);
	assert_int_equal(conntab__live(t), N);
	for (uint64_t i = 1; i <= N; i++) {
		const struct conn *c = conntab__lookup(t, i);

		assert_non_null(c);
		assert_int_equal(c->state, i <= 600 ? TIME_WAIT : LISTEN);
	}
	counts[TIME_WAIT] = 600;
	counts[LISTEN] = N - 600;
	assert_counts(t, counts);
	/* oldest first: expiring at the 300th handoff + 60 s drops exactly 300 */
	conntab__expire(t, 300 * 10 + 4 + CONN_TIMEWAIT_NS);
	assert_int_equal(conntab__stats(t)->timewait_expired, 300);
	assert_null(conntab__lookup(t, 300));
	assert_non_null(conntab__lookup(t, 301));
	assert_int_equal(conntab__live(t), N - 300);
	free(s.v);
	conntab__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_rejects_bad_bounds),
		cmocka_unit_test(test_client_path_ends_in_timewait),
		cmocka_unit_test(test_expire_uses_record_time),
		cmocka_unit_test(test_server_child_normal_close),
		cmocka_unit_test(test_first_seen_mid_life),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_seeds_and_duplicates),
		cmocka_unit_test(test_cookie_reused_after_timewait),
		cmocka_unit_test(test_eviction_at_bound),
		cmocka_unit_test(test_null_emit),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_invalid_records),
		cmocka_unit_test(test_end_reasons),
		cmocka_unit_test(test_end_reason_names),
		cmocka_unit_test(test_timeout_through_table),
		cmocka_unit_test(test_growth_and_memory),
		cmocka_unit_test(test_hash_integrity),
		cmocka_unit_test(test_rehash_keeps_timewait),
		cmocka_unit_test(test_same_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
