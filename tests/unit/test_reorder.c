// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The time-order merge of the per-CPU rings: exact release order against a
 * model (every queued event with ts_ns <= horizon, sorted by time, then
 * queue, then push order), with empty, interleaved and out-of-order queues.
 *
 * `test_reorder --bench` instead prints the cost per event of the heap merge
 * and of the linear scan it replaced, with 2 and 256 queues (not a test:
 * timings are not asserted).
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
#include <time.h>
#include <cmocka.h>
#include "pure/reorder.h"

/* Events are told apart by cookie: queue * 1e9 + push number. */
#define COOKIE(q, seq) ((uint64_t)(q) * 1000000000ULL + (seq))

struct out {
	uint64_t *cookies;
	uint64_t *ts;
	size_t n, cap;
	size_t stop_at;	/* fail on this event (1-based), 0: never */
};

static int collect(void *ctx, const struct tcpfsm_event *e)
{
	struct out *o = ctx;

	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		o->cookies = realloc(o->cookies, o->cap * sizeof(*o->cookies));
		o->ts = realloc(o->ts, o->cap * sizeof(*o->ts));
		assert_non_null(o->cookies);
		assert_non_null(o->ts);
	}
	o->cookies[o->n] = e->cookie;
	o->ts[o->n] = e->ts_ns;
	o->n++;
	return o->stop_at && o->n == o->stop_at ? -EINTR : 0;
}

static void out_free(struct out *o)
{
	free(o->cookies);
	free(o->ts);
	memset(o, 0, sizeof(*o));
}

static void push(struct reorder *r, int q, uint64_t cookie, uint64_t ts_ns)
{
	struct tcpfsm_event e = { .ts_ns = ts_ns, .cookie = cookie };

	assert_int_equal(reorder__push(r, q, &e), 0);
}

/* Release up to horizon and check the cookies that came out, in order. */
static void expect(struct reorder *r, uint64_t horizon, const uint64_t *cookies, size_t n)
{
	struct out o = {};

	assert_int_equal(reorder__release(r, horizon, collect, &o), 0);
	assert_int_equal(o.n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(o.cookies[i], cookies[i]);
	out_free(&o);
}

static void test_empty(void **state)
{
	struct reorder *r = reorder__new(4);
	struct out o = {};

	assert_non_null(r);
	assert_int_equal(reorder__release(r, UINT64_MAX, collect, &o), 0);
	assert_int_equal(o.n, 0);
	assert_int_equal(reorder__queued(r), 0);
	reorder__free(r);
	reorder__free(NULL);
	errno = 0;
	assert_null(reorder__new(0));
	assert_int_equal(errno, EINVAL);
}

/* Most CPUs have nothing: the few that do still come out merged. */
static void test_empty_cpus(void **state)
{
	struct reorder *r = reorder__new(64);
	const uint64_t want[] = { 1, 2, 3, 4, 5, 6 };

	push(r, 63, 2, 20);
	push(r, 17, 1, 10);
	push(r, 63, 5, 50);
	push(r, 17, 3, 30);
	push(r, 0, 4, 40);
	push(r, 17, 6, 60);
	assert_int_equal(reorder__queued(r), 6);
	expect(r, UINT64_MAX, want, 6);
	assert_int_equal(reorder__queued(r), 0);
	/* emptied queues take events again */
	push(r, 63, 7, 70);
	expect(r, UINT64_MAX, (const uint64_t[]){ 7 }, 1);
	reorder__free(r);
}

/* Four CPUs, each in order, their times interleaved: one time order out,
 * whatever order the queues were filled in. */
static void test_interleaved(void **state)
{
	struct reorder *r = reorder__new(4);
	uint64_t want[40];

	for (int q = 3; q >= 0; q--)
		for (int i = 0; i < 10; i++)
			push(r, q, COOKIE(q, i), 100 * i + 10 * q);
	for (int i = 0; i < 10; i++)
		for (int q = 0; q < 4; q++)
			want[4 * i + q] = COOKIE(q, i);
	expect(r, UINT64_MAX, want, 40);
	reorder__free(r);
}

/* Equal times: push order within a queue, queue order across queues. */
static void test_equal_times(void **state)
{
	struct reorder *r = reorder__new(4);
	const uint64_t want[] = { COOKIE(1, 0), COOKIE(1, 1), COOKIE(1, 2), COOKIE(2, 0),
				  COOKIE(3, 0), COOKIE(3, 1), COOKIE(3, 2) };

	push(r, 3, COOKIE(3, 0), 500);
	push(r, 1, COOKIE(1, 0), 500);
	push(r, 3, COOKIE(3, 1), 500);
	push(r, 2, COOKIE(2, 0), 500);
	push(r, 1, COOKIE(1, 1), 500);
	push(r, 1, COOKIE(1, 2), 500);
	push(r, 3, COOKIE(3, 2), 500);
	expect(r, UINT64_MAX, want, 7);

	/* an older event inserted among equal ones goes before them all,
	 * a later equal one after them */
	push(r, 0, 1, 700);
	push(r, 0, 2, 700);
	push(r, 0, 3, 600);
	push(r, 0, 4, 700);
	expect(r, UINT64_MAX, (const uint64_t[]){ 3, 1, 2, 4 }, 4);
	reorder__free(r);
}

/*
 * A queue that is not in time order (a deferred birth, a seed, softirq
 * evidence written before the record it interrupted): the older record still
 * comes out in time order, also when it is older than its queue's head and
 * than another queue's.
 */
static void test_out_of_order_in_queue(void **state)
{
	struct reorder *r = reorder__new(2);

	push(r, 0, 100, 100);
	push(r, 0, 200, 200);
	push(r, 0, 300, 300);
	push(r, 1, 170, 170);
	push(r, 0, 150, 150); /* after 200 and 300 on its ring */
	expect(r, UINT64_MAX, (const uint64_t[]){ 100, 150, 170, 200, 300 }, 5);

	/* older than its queue's head, and than queue 1's: it becomes the
	 * oldest of all (the heap key of queue 0 goes down) */
	push(r, 0, 400, 400);
	push(r, 0, 500, 500);
	push(r, 1, 60, 60);
	push(r, 0, 50, 50);
	expect(r, UINT64_MAX, (const uint64_t[]){ 50, 60, 400, 500 }, 4);

	/* the same after part of the queue was released (an older record then
	 * takes the released front) */
	for (uint64_t t = 1000; t < 1010; t++)
		push(r, 0, t, t);
	expect(r, 1004, (const uint64_t[]){ 1000, 1001, 1002, 1003, 1004 }, 5);
	push(r, 0, 999, 999);
	push(r, 0, 1007, 1007);
	push(r, 1, 1006, 1006);
	expect(r, UINT64_MAX,
	       (const uint64_t[]){ 999, 1005, 1006, 1006, 1007, 1007, 1008, 1009 }, 8);
	reorder__free(r);
}

/* Only what is at or before the horizon leaves; the rest waits. */
static void test_horizon(void **state)
{
	struct reorder *r = reorder__new(3);

	for (int i = 1; i <= 10; i++)
		push(r, i % 3, i, 10 * i);
	expect(r, 9, NULL, 0);
	expect(r, 50, (const uint64_t[]){ 1, 2, 3, 4, 5 }, 5);
	assert_int_equal(reorder__queued(r), 5);
	expect(r, 50, NULL, 0);
	expect(r, 79, (const uint64_t[]){ 6, 7 }, 2);
	/* a late event older than the horizon already passed leaves next */
	push(r, 2, 11, 15);
	expect(r, 79, (const uint64_t[]){ 11 }, 1);
	/* detached: everything (UINT64_MAX) */
	expect(r, UINT64_MAX, (const uint64_t[]){ 8, 9, 10 }, 3);
	assert_int_equal(reorder__queued(r), 0);
	reorder__free(r);
}

/* The consumer stops the release: the event it failed on is gone, the
 * next release goes on after it. */
static void test_consumer_stops(void **state)
{
	struct reorder *r = reorder__new(2);
	struct out o = { .stop_at = 3 };

	for (int i = 1; i <= 6; i++)
		push(r, i % 2, i, i);
	assert_int_equal(reorder__release(r, UINT64_MAX, collect, &o), -EINTR);
	assert_int_equal(o.n, 3);
	assert_int_equal(reorder__queued(r), 3);
	out_free(&o);
	expect(r, UINT64_MAX, (const uint64_t[]){ 4, 5, 6 }, 3);
	reorder__free(r);
}

/* The model: an event as pushed. */
struct pushed {
	uint64_t ts, cookie;
	int q;
	size_t seq;
	bool out;
};

static int model_cmp(const void *a, const void *b)
{
	const struct pushed *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->q != y->q)
		return x->q < y->q ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Random pushes (mostly in order per queue, some late by up to `late`, a few
 * very old ones) and releases at a horizon trailing the clock; then a drain.
 * Each release must hand over exactly the model's pending events up to the
 * horizon, sorted by (time, queue, push order).
 */
static void random_against_model(int nq, size_t total, uint64_t late, unsigned int seed)
{
	struct reorder *r = reorder__new(nq);
	struct pushed *m = calloc(total, sizeof(*m)), *sorted = calloc(total, sizeof(*m));
	uint64_t clock = 10000000;
	size_t n = 0, released = 0;

	assert_non_null(r);
	srand(seed);
	while (n < total || released < n) {
		size_t burst = 1 + rand() % 300;
		uint64_t horizon;
		struct out o = {};
		size_t k = 0;

		for (size_t i = 0; i < burst && n < total; i++, n++) {
			uint64_t ts = clock;

			clock += rand() % 3; /* equal times happen */
			if (rand() % 8 == 0)
				ts -= rand() % late;
			if (rand() % 200 == 0)
				ts -= rand() % 1000000; /* older than released ones */
			m[n] = (struct pushed){ ts, COOKIE(0, n), rand() % nq, n, false };
			push(r, m[n].q, m[n].cookie, ts);
		}
		horizon = n == total && rand() % 4 == 0 ? UINT64_MAX : clock - late;
		for (size_t i = 0; i < n; i++)
			if (!m[i].out && m[i].ts <= horizon)
				sorted[k++] = m[i];
		qsort(sorted, k, sizeof(*sorted), model_cmp);
		assert_int_equal(reorder__release(r, horizon, collect, &o), 0);
		assert_int_equal(o.n, k);
		for (size_t i = 0; i < k; i++) {
			assert_int_equal(o.cookies[i], sorted[i].cookie);
			m[sorted[i].seq].out = true;
		}
		released += k;
		assert_int_equal(reorder__queued(r), n - released);
		out_free(&o);
	}
	free(m);
	free(sorted);
	reorder__free(r);
}

static void test_random_2(void **state)
{
	random_against_model(2, 20000, 500, 1);
}

static void test_random_256(void **state)
{
	random_against_model(256, 20000, 500, 2);
}

/* Long queues: growth and reuse of the released front. */
static void test_random_one_queue(void **state)
{
	random_against_model(1, 20000, 5000, 3);
}

/* 256 CPUs, each with one event, pushed in reverse time order. */
static void test_256_queues(void **state)
{
	struct reorder *r = reorder__new(256);
	uint64_t want[512];

	for (int q = 0; q < 256; q++) {
		push(r, q, COOKIE(q, 0), 10000 - q);
		push(r, q, COOKIE(q, 1), 20000 + q);
	}
	for (int i = 0; i < 256; i++) {
		want[i] = COOKIE(255 - i, 0);
		want[256 + i] = COOKIE(i, 1);
	}
	expect(r, UINT64_MAX, want, 512);
	reorder__free(r);
}

/*
 * --bench: the linear scan loader.c used before (one pass over all queues per
 * event released), kept here only as the reference the heap is measured
 * against.
 */
struct scan_queue {
	struct tcpfsm_event *v;
	size_t head, n, cap;
};

static void scan_push(struct scan_queue *q, const struct tcpfsm_event *e)
{
	if (q->head == q->n) {
		q->head = q->n = 0;
	} else if (q->n == q->cap && q->head) {
		memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof(*q->v));
		q->n -= q->head;
		q->head = 0;
	}
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 1024;
		q->v = realloc(q->v, q->cap * sizeof(*q->v));
		if (!q->v)
			abort();
	}
	q->v[q->n++] = *e;
}

static int scan_release(struct scan_queue *qs, int nq, uint64_t horizon, reorder_fn fn, void *ctx)
{
	for (;;) {
		struct scan_queue *min = NULL;
		int err;

		for (int i = 0; i < nq; i++) {
			struct scan_queue *q = &qs[i];

			if (q->head < q->n && (!min || q->v[q->head].ts_ns < min->v[min->head].ts_ns))
				min = q;
		}
		if (!min || min->v[min->head].ts_ns > horizon)
			return 0;
		err = fn(ctx, &min->v[min->head++]);
		if (err)
			return err;
	}
}

static int count(void *ctx, const struct tcpfsm_event *e)
{
	uint64_t *sum = ctx;

	*sum += e->cookie;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Events in time order, each on a random queue, in rounds of `batch` (one
 * consume), released at a horizon `lag` events behind: what loader__consume
 * does under a steady load. Returns ns per event.
 */
static double bench_one(int nq, bool heap, size_t events, size_t batch, size_t lag)
{
	struct reorder *r = heap ? reorder__new(nq) : NULL;
	struct scan_queue *qs = heap ? NULL : calloc(nq, sizeof(*qs));
	struct tcpfsm_event e = {};
	uint64_t sum = 0, clock = lag;
	unsigned int rnd = 12345;
	double t0 = now_s();

	for (size_t done = 0; done < events; done += batch) {
		for (size_t i = 0; i < batch; i++) {
			rnd = rnd * 1103515245 + 12345;
			e.ts_ns = clock++;
			e.cookie = i;
			if (heap)
				reorder__push(r, (rnd >> 8) % nq, &e);
			else
				scan_push(&qs[(rnd >> 8) % nq], &e);
		}
		if (heap)
			reorder__release(r, clock - lag, count, &sum);
		else
			scan_release(qs, nq, clock - lag, count, &sum);
	}
	if (heap)
		reorder__release(r, UINT64_MAX, count, &sum);
	else
		scan_release(qs, nq, UINT64_MAX, count, &sum);
	t0 = now_s() - t0;
	reorder__free(r);
	for (int i = 0; qs && i < nq; i++)
		free(qs[i].v);
	free(qs);
	return t0 * 1e9 / events;
}

static int bench(void)
{
	const int nqs[] = { 2, 64, 256 };

	printf("merge cost per event (push + release), ns; batches of 4096 events,\n"
	       "horizon 2048 events behind; best of 5 runs of 2M events\n");
	printf("%8s %12s %12s\n", "queues", "scan(before)", "heap(after)");
	for (size_t i = 0; i < sizeof(nqs) / sizeof(nqs[0]); i++) {
		double best[2] = { 1e9, 1e9 };

		for (int run = 0; run < 5; run++)
			for (int h = 0; h < 2; h++) {
				double ns = bench_one(nqs[i], h, 2000000, 4096, 2048);

				if (ns < best[h])
					best[h] = ns;
			}
		printf("%8d %12.1f %12.1f\n", nqs[i], best[0], best[1]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_empty_cpus),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_equal_times),
		cmocka_unit_test(test_out_of_order_in_queue),
		cmocka_unit_test(test_horizon),
		cmocka_unit_test(test_consumer_stops),
		cmocka_unit_test(test_random_2),
		cmocka_unit_test(test_random_256),
		cmocka_unit_test(test_random_one_queue),
		cmocka_unit_test(test_256_queues),
	};

	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
