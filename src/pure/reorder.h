/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_REORDER_H
#define TCPFSM_REORDER_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

/*
 * Events of k sources (the ring buffers: one per CPU and a shared one) put
 * back in time order (ts_ns). Each source's events wait in a queue of their
 * own, kept sorted; a binary heap keyed by each queue's oldest event picks the
 * next one to release: O(log k) per event, for hosts with 64-256 CPUs.
 *
 * A queue is sorted on insertion, from its newest end: O(1) for an event
 * newer than all queued (the common case); an older one is placed by binary
 * search and the shorter side of the queue moves over by one (nothing moves
 * for one older than all once the queue's front was released). Rings are mostly but not always in time order: a record's time
 * is taken before it is written to the ring, and another of the programs
 * that interrupts its producer on that CPU (softirq) writes a newer record
 * first; a deferred birth (Linux 6.1: a passive child's LISTEN -> SYN_RECV,
 * sent just before its next event) and the seed of a socket tracked at its
 * SYN retransmit (the time it entered SYN_SENT) carry older times than the
 * records before them; the shared ring takes every CPU's records until the
 * per-CPU rings are in place.
 *
 * Events equal in time leave in the order they were pushed within a queue,
 * and by queue number across queues.
 */
struct reorder;

typedef int (*reorder_fn)(void *ctx, const struct tcpfsm_event *e);

/* nq queues, numbered from 0. Returns NULL with errno set. */
struct reorder *reorder__new(int nq);
/* A copy of e into queue q. Returns 0 or -ENOMEM. */
int reorder__push(struct reorder *r, int q, const struct tcpfsm_event *e);
/*
 * Hand fn, oldest first, every queued event with ts_ns <= horizon_ns (all of
 * them with UINT64_MAX). The event is taken off before fn runs; fn must not
 * push. Returns 0, or what fn returned when that stopped it (non-zero).
 */
int reorder__release(struct reorder *r, uint64_t horizon_ns, reorder_fn fn, void *ctx);
/* Events queued, in all queues. */
size_t reorder__queued(const struct reorder *r);
void reorder__free(struct reorder *r);

#endif
