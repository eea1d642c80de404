// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-CPU ring buffers read as one time-ordered stream: see rings.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "kernel/rings.h"

/* One ring and the queue its records wait in. */
struct ring {
	struct ringbuf *rb;
	struct reorder *merge;
	int q;
};

struct rings {
	struct ring *v;
	int n;
	int epfd;
	struct reorder *merge;	/* queue i: the records of ring i */
	bool draining;
	uint64_t (*now_ns)(void);
	reorder_fn fn;
	void *ctx;
};

struct rings *rings__new(int n, uint64_t (*now_ns)(void), reorder_fn fn, void *ctx)
{
	struct rings *rs = calloc(1, sizeof(*rs));
	int err;

	if (!rs)
		return NULL;
	rs->n = n;
	rs->now_ns = now_ns;
	rs->fn = fn;
	rs->ctx = ctx;
	rs->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rs->epfd < 0) {
		err = -errno;
		goto cleanup;
	}
	rs->merge = reorder__new(n);
	if (!rs->merge) {
		err = -errno;
		goto cleanup;
	}
	rs->v = calloc(n, sizeof(*rs->v));
	if (!rs->v) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (int i = 0; i < n; i++) {
		rs->v[i].merge = rs->merge;
		rs->v[i].q = i;
	}
	return rs;

cleanup:
	rings__free(rs);
	errno = -err;
	return NULL;
}

int rings__add(struct rings *rs, int i, int fd, size_t size)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
	struct ringbuf *rb = ringbuf__new(fd, size);

	if (!rb)
		return -errno;
	rings__add_ringbuf(rs, i, rb);
	return epoll_ctl(rs->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

void rings__add_ringbuf(struct rings *rs, int i, struct ringbuf *rb)
{
	ringbuf__free(rs->v[i].rb);
	rs->v[i].rb = rb;
}

int rings__fd(const struct rings *rs)
{
	return rs->epfd;
}

/* A record of a ring into its queue (records are 8-byte aligned). */
static int on_sample(void *ctx, const void *data, size_t size)
{
	const struct ring *r = ctx;

	if (size < sizeof(struct tcpfsm_event))
		return 0;
	return reorder__push(r->merge, r->q, data);
}

int rings__consume(struct rings *rs)
{
	/*
	 * The clock first: a record older than the horizon was then committed
	 * (unless in flight longer than the horizon) before any ring is read,
	 * however long reading them takes. Read after them, a consumer stalled
	 * between two rings (preempted; or a ring that kept filling as it was
	 * drained) released the newer records of the rings read after the
	 * stall before the older ones committed meanwhile to the rings read
	 * before it: under a storm on 2 busy CPUs, blocks of a few hundred
	 * records came out 5-30 ms late.
	 */
	uint64_t now = rs->now_ns(), horizon = UINT64_MAX;
	int n = 0, k, err;

	if (!rs->draining)
		horizon = now > RINGS_REORDER_NS ? now - RINGS_REORDER_NS : 0;

	for (int i = 0; i < rs->n; i++) {
		if (!rs->v[i].rb)
			continue;
		k = ringbuf__consume(rs->v[i].rb, on_sample, &rs->v[i]);
		if (k < 0)
			return k;
		n += k;
	}
	err = reorder__release(rs->merge, horizon, rs->fn, rs->ctx);
	return err ? err : n;
}

void rings__drain(struct rings *rs)
{
	rs->draining = true;
}

void rings__free(struct rings *rs)
{
	if (!rs)
		return;
	for (int i = 0; rs->v && i < rs->n; i++)
		ringbuf__free(rs->v[i].rb);
	free(rs->v);
	reorder__free(rs->merge);
	if (rs->epfd >= 0)
		close(rs->epfd);
	free(rs);
}
