/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_HALFOPEN_H
#define TCPFSM_HALFOPEN_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"
#include "pure/otab.h"

/*
 * Half-open requests: a server's SYN_RECV before the handshake completes
 * lives as a request socket, which the state tracepoint never reports.
 * They are learnt from SYN/ACK retransmit records and iterator sweeps
 * (NEW_SYN_RECV, kind EVIDENCE or SNAPSHOT), end when a child with their
 * 4-tuple is born, and vanish silently otherwise: a sweep that no longer
 * finds one ends it. Pure.
 */
struct halfopen {
	uint64_t cookie; /* key */
	uint64_t enter_ns, cgroup_id;
	uint32_t pid, netns, gen;
	uint16_t sport, dport, syn_retrans;
	uint8_t family;
	uint8_t alert_flags; /* owned by the alert engine */
	bool at_least, owner;
	char comm[TCPFSM_COMM_LEN];
	uint8_t saddr[16], daddr[16];
};

/* How long a request a sweep found gone stays remembered as gone: records
 * reach us at most tens of milliseconds late. */
#define HALFOPEN_GONE_KEEP_NS (10 * 1000000000ULL)

struct halfopen_set {
	struct otab t;
	/* requests sweeps found gone, with the sweep's time: a record about
	 * one of them from before that time is late news, not a new request */
	struct otab gone;
	uint32_t gen; /* of the sweep under way */
};

void halfopen_init(struct halfopen_set *s);
void halfopen_free(struct halfopen_set *s);
static inline uint32_t halfopen_count(const struct halfopen_set *s)
{
	return otab_count(&s->t);
}
/* Take a request record: the request, new or updated, marked as seen by
 * the sweep under way. NULL when out of memory, or when the record is older
 * than a sweep that found its request gone (it was queued meanwhile: a
 * SYN/ACK retransmit just before the client's RST removed the request). */
struct halfopen *halfopen_update(struct halfopen_set *s, const struct tcpfsm_event *e);
/* The request a child (LISTEN -> SYN_RECV) was born from: same namespace
 * and 4-tuple. NULL if none. */
struct halfopen *halfopen_of_child(const struct halfopen_set *s, const struct tcpfsm_event *e);
/* The server side of a connect from (saddr:sport -> daddr:dport) on this
 * host: a request with the reversed 4-tuple in any namespace. */
const struct halfopen *halfopen_peer_of(const struct halfopen_set *s, int family,
					const uint8_t *saddr, uint16_t sport,
					const uint8_t *daddr, uint16_t dport);
/* Remove one (pointers from the set are invalid afterwards). */
void halfopen_del(struct halfopen_set *s, struct halfopen *h);
/* Iteration as otab_next. */
static inline struct halfopen *halfopen_next(const struct halfopen_set *s, uint32_t *pos)
{
	return otab_next(&s->t, pos);
}
/* A sweep of requests begins / ends (at now_ns, on the records' clock):
 * gone() sees each request not seen in between, then it is removed and
 * remembered as gone at now_ns. Returns how many, or -ENOMEM (none). */
void halfopen_sweep_begin(struct halfopen_set *s);
int halfopen_sweep_end(struct halfopen_set *s, uint64_t now_ns,
		       void (*gone)(void *ctx, struct halfopen *h), void *ctx);

#endif
