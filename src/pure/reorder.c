// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* k sorted queues merged through a binary heap of their heads: see reorder.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "pure/reorder.h"

/* The events of one source, oldest first: v[head..n) (v[0..head) released). */
struct queue {
	struct tcpfsm_event *v;
	size_t head, n, cap;
};

/* A heap entry: queue q, whose oldest event is at ts_ns. */
struct top {
	uint64_t ts_ns;
	uint32_t q;
};

struct reorder {
	struct queue *qs;
	/* the non-empty queues, the oldest head at [0]; at[q]: where queue q
	 * is in it, or -1 */
	struct top *heap;
	int *at;
	int nq, nheap;
	size_t queued;
};

struct reorder *reorder__new(int nq)
{
	struct reorder *r;

	if (nq <= 0) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->nq = nq;
	r->qs = calloc(nq, sizeof(*r->qs));
	r->heap = calloc(nq, sizeof(*r->heap));
	r->at = malloc(nq * sizeof(*r->at));
	if (!r->qs || !r->heap || !r->at) {
		reorder__free(r);
		errno = ENOMEM;
		return NULL;
	}
	for (int q = 0; q < nq; q++)
		r->at[q] = -1;
	return r;
}

/* Equal times go by queue number: the order does not depend on the heap's history. */
static bool before(const struct top *a, const struct top *b)
{
	return a->ts_ns < b->ts_ns || (a->ts_ns == b->ts_ns && a->q < b->q);
}

static void heap_set(struct reorder *r, int i, struct top t)
{
	r->heap[i] = t;
	r->at[t.q] = i;
}

static void sift_up(struct reorder *r, int i)
{
	struct top t = r->heap[i];

	while (i > 0 && before(&t, &r->heap[(i - 1) / 2])) {
		heap_set(r, i, r->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(r, i, t);
}

static void sift_down(struct reorder *r, int i)
{
	struct top t = r->heap[i];

	for (;;) {
		int c = 2 * i + 1;

		if (c >= r->nheap)
			break;
		if (c + 1 < r->nheap && before(&r->heap[c + 1], &r->heap[c]))
			c++;
		if (!before(&r->heap[c], &t))
			break;
		heap_set(r, i, r->heap[c]);
		i = c;
	}
	heap_set(r, i, t);
}

/* Room for one more at the end: reuse the released front once it is half
 * the array, else grow. */
static int queue_room(struct queue *q)
{
	struct tcpfsm_event *v;
	size_t cap;

	if (q->n < q->cap)
		return 0;
	if (q->head && q->head >= q->cap / 2) {
		memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof(*q->v));
		q->n -= q->head;
		q->head = 0;
		return 0;
	}
	cap = q->cap ? q->cap * 2 : 1024;
	v = realloc(q->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	q->v = v;
	q->cap = cap;
	return 0;
}

/* The first queued event newer than ts_ns (after those equal to it). */
static size_t queue_after(const struct queue *q, uint64_t ts_ns)
{
	size_t lo = q->head, hi = q->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (q->v[mid].ts_ns <= ts_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* e into its place in time order, moving the shorter side of the queue.
 * Returns 1 if it is the oldest now, else 0, or -ENOMEM. */
static int queue_insert(struct queue *q, const struct tcpfsm_event *e)
{
	bool empty = q->head == q->n;
	size_t pos;
	int err;

	if (empty)
		q->head = q->n = 0;
	if (empty || q->v[q->n - 1].ts_ns <= e->ts_ns) {
		err = queue_room(q);
		if (err)
			return err;
		q->v[q->n++] = *e;
		return empty;
	}
	pos = queue_after(q, e->ts_ns);
	if (q->head && pos - q->head <= q->n - pos) {
		/* into the released front: an event older than all queued
		 * costs nothing to move */
		memmove(&q->v[q->head - 1], &q->v[q->head], (pos - q->head) * sizeof(*q->v));
		q->head--;
		q->v[pos - 1] = *e;
		return pos - 1 == q->head;
	}
	if (q->n == q->cap) {
		size_t head = q->head;

		err = queue_room(q);
		if (err)
			return err;
		pos -= head - q->head; /* compacted: everything moved down */
	}
	memmove(&q->v[pos + 1], &q->v[pos], (q->n - pos) * sizeof(*q->v));
	q->v[pos] = *e;
	q->n++;
	return pos == q->head;
}

int reorder__push(struct reorder *r, int qi, const struct tcpfsm_event *e)
{
	int oldest = queue_insert(&r->qs[qi], e);

	if (oldest < 0)
		return oldest;
	r->queued++;
	if (!oldest)
		return 0;
	if (r->at[qi] < 0) {
		/* was empty: in the heap from now on */
		heap_set(r, r->nheap, (struct top){ e->ts_ns, qi });
		sift_up(r, r->nheap++);
	} else {
		/* older than its oldest was: the queue's key only went down */
		r->heap[r->at[qi]].ts_ns = e->ts_ns;
		sift_up(r, r->at[qi]);
	}
	return 0;
}

int reorder__release(struct reorder *r, uint64_t horizon_ns, reorder_fn fn, void *ctx)
{
	while (r->nheap && r->heap[0].ts_ns <= horizon_ns) {
		uint32_t qi = r->heap[0].q;
		struct queue *q = &r->qs[qi];
		const struct tcpfsm_event *e = &q->v[q->head++];
		int err;

		r->queued--;
		if (q->head < q->n) {
			/* the queue's key only went up */
			r->heap[0].ts_ns = q->v[q->head].ts_ns;
		} else {
			r->at[qi] = -1;
			if (--r->nheap)
				heap_set(r, 0, r->heap[r->nheap]);
		}
		if (r->nheap)
			sift_down(r, 0);
		/* the records stay where they are until the next push */
		err = fn(ctx, e);
		if (err)
			return err;
	}
	return 0;
}

size_t reorder__queued(const struct reorder *r)
{
	return r->queued;
}

void reorder__free(struct reorder *r)
{
	if (!r)
		return;
	for (int q = 0; r->qs && q < r->nq; q++)
		free(r->qs[q].v);
	free(r->qs);
	free(r->heap);
	free(r->at);
	free(r);
}
