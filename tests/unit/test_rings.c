// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The per-CPU rings read as one stream: synthetic rings (synth_ring.h) of
 * struct tcpfsm_event records, a clock of the test's, and what comes out in
 * which order.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kernel/rings.h"
#include "synth_ring.h"

#define MS 1000000ULL
#define NRINGS 3

static struct synth rings_mem[NRINGS];
static uint64_t now;
/* run once by the next reading of the clock */
static void (*on_clock)(void);

static uint64_t test_clock(void)
{
	if (on_clock) {
		void (*f)(void) = on_clock;

		on_clock = NULL;
		f();
	}
	return now;
}

struct got {
	uint64_t cookies[64];
	unsigned int n;
	int fail_with;
};

static int collect(void *ctx, const struct tcpfsm_event *e)
{
	struct got *g = ctx;

	assert_true(g->n < 64);
	g->cookies[g->n++] = e->cookie;
	return g->fail_with;
}

/* NRINGS synthetic rings of 64 KiB read by one struct rings. */
static struct rings *setup(struct got *g)
{
	struct rings *rs = rings__new(NRINGS, test_clock, collect, g);

	assert_non_null(rs);
	assert_true(rings__fd(rs) >= 0);
	for (int i = 0; i < NRINGS; i++) {
		synth_init(&rings_mem[i], 64 * 1024, 0);
		rings__add_ringbuf(rs, i, synth_reader(&rings_mem[i]));
	}
	now = 0;
	on_clock = NULL;
	memset(g, 0, sizeof(*g));
	return rs;
}

static void teardown(struct rings *rs)
{
	rings__free(rs);
	for (int i = 0; i < NRINGS; i++)
		synth_fini(&rings_mem[i]);
}

/* An event at ts_ns, told by its cookie, written to ring i. */
static void emit(int i, uint64_t cookie, uint64_t ts_ns)
{
	struct tcpfsm_event e = { .ts_ns = ts_ns, .cookie = cookie };

	synth_output(&rings_mem[i], &e, sizeof(e));
}

static void expect(const struct got *g, const uint64_t *cookies, unsigned int n)
{
	assert_int_equal(g->n, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(g->cookies[i], cookies[i]);
}

/* Records of three rings interleaved in time come out in time order, once
 * they are older than the horizon. */
static void test_time_order(void **state)
{
	struct got g;
	struct rings *rs = setup(&g);

	emit(1, 2, 20 * MS);
	emit(1, 5, 50 * MS);
	emit(2, 1, 10 * MS);
	emit(2, 4, 40 * MS);
	emit(0, 3, 30 * MS);
	emit(0, 6, 55 * MS);
	now = 60 * MS;
	/* records read, not released */
	assert_int_equal(rings__consume(rs), 6);
	expect(&g, (const uint64_t[]){ 1, 2, 3, 4, 5 }, 5);
	/* the 55 ms one waits for the horizon to pass it */
	assert_int_equal(rings__consume(rs), 0);
	assert_int_equal(g.n, 5);
	now = 65 * MS;
	assert_int_equal(rings__consume(rs), 0);
	expect(&g, (const uint64_t[]){ 1, 2, 3, 4, 5, 6 }, 6);
	teardown(rs);
}

/* Drained (the programs detached): everything leaves at once. */
static void test_drain(void **state)
{
	struct got g;
	struct rings *rs = setup(&g);

	now = 100 * MS;
	emit(0, 2, 99 * MS);
	emit(2, 1, 98 * MS);
	assert_int_equal(rings__consume(rs), 2);
	assert_int_equal(g.n, 0);
	rings__drain(rs);
	assert_int_equal(rings__consume(rs), 0);
	expect(&g, (const uint64_t[]){ 1, 2 }, 2);
	teardown(rs);
}

/* What the consumer is stalled through: ring 0, read before the stall,
 * gets a record meanwhile; the clock has moved on 50 ms. */
static void stall(void)
{
	emit(0, 1, 1020 * MS);
	now = 1050 * MS;
}

/*
 * The clock is read before the rings. Read after them, the horizon of a
 * consumer stalled between two rings (preempted, or draining a busy ring)
 * passes records committed meanwhile to the rings it had already read: the
 * newer records of the rings it read after the stall left first, the older
 * one at the next call. Read first, the horizon only passes records that
 * were committed before any ring was read (those more than the reorder
 * horizon in flight aside).
 */
static void test_clock_before_rings(void **state)
{
	struct got g;
	struct rings *rs = setup(&g);

	now = 1000 * MS;
	emit(1, 2, 1030 * MS);
	on_clock = stall;
	rings__consume(rs);
	now = 1060 * MS;
	rings__consume(rs);
	expect(&g, (const uint64_t[]){ 1, 2 }, 2);
	teardown(rs);
}

/* Records shorter than an event are read and dropped; a consumer's error
 * stops the release and is returned, the rest follows at the next call. */
static void test_short_records_and_errors(void **state)
{
	struct got g;
	struct rings *rs = setup(&g);
	uint64_t junk = 7;

	now = 100 * MS;
	synth_output(&rings_mem[1], &junk, sizeof(junk));
	emit(1, 1, 10 * MS);
	emit(2, 2, 20 * MS);
	emit(2, 3, 30 * MS);
	g.fail_with = -EPIPE;
	assert_int_equal(rings__consume(rs), -EPIPE);
	expect(&g, (const uint64_t[]){ 1 }, 1);
	g.fail_with = 0;
	assert_int_equal(rings__consume(rs), 0);
	expect(&g, (const uint64_t[]){ 1, 2, 3 }, 3);
	teardown(rs);
}

static void test_bad_fd(void **state)
{
	struct got g;
	struct rings *rs = rings__new(2, test_clock, collect, &g);

	assert_non_null(rs);
	assert_int_equal(rings__add(rs, 1, -1, 4096), -EBADF);
	/* a ring never added is skipped */
	assert_int_equal(rings__consume(rs), 0);
	rings__free(rs);
	rings__free(NULL);
	errno = 0;
	assert_null(rings__new(0, test_clock, collect, &g));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_order),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_clock_before_rings),
		cmocka_unit_test(test_short_records_and_errors),
		cmocka_unit_test(test_bad_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
