/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_RINGS_H
#define TCPFSM_RINGS_H

#include <stddef.h>
#include <stdint.h>
#include "pure/reorder.h"
#include "kernel/ringbuf.h"

/*
 * The ring buffers the BPF programs write to (one per CPU and a shared one),
 * read as one stream in time order: each ring's records wait in a queue of
 * the merge (pure/reorder.h) until they are older than RINGS_REORDER_NS,
 * then leave oldest first; all of them once drained.
 */
struct rings;

/* How long a record may still be in flight on another CPU (its time taken,
 * not yet committed): older ones are released in time order. */
#define RINGS_REORDER_NS (10 * 1000000ULL)

/*
 * n rings, numbered from 0, each event to fn (non-zero stops a consume and is
 * returned by it). now_ns: the clock of the records' ts_ns. Returns NULL with
 * errno set.
 */
struct rings *rings__new(int n, uint64_t (*now_ns)(void), reorder_fn fn, void *ctx);
/* Map the ring buffer map fd (taken: closed with the rings, or here on
 * failure) of size bytes as ring i. Returns 0 or -errno. */
int rings__add(struct rings *rs, int i, int fd, size_t size);
/* rb (taken) as ring i: a synthetic ring (tests). */
void rings__add_ringbuf(struct rings *rs, int i, struct ringbuf *rb);
/* An fd that polls readable when a ring has records for us. */
int rings__fd(const struct rings *rs);
/* Read every ring, then hand fn, in time order, what is old enough. Returns
 * the records read or -errno. */
int rings__consume(struct rings *rs);
/* Nothing more will arrive: the next consume releases everything. */
void rings__drain(struct rings *rs);
void rings__free(struct rings *rs);

#endif
