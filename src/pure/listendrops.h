/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_LISTENDROPS_H
#define TCPFSM_LISTENDROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pure/droptab.h"
#include "tcpfsm.h"

/*
 * SYNs dropped before any socket exists for them, by listener (network
 * namespace and port): the drops a listener counted itself (its sk_drops:
 * accept queue full, SYN queue full; exact, seen by each listener sweep as
 * a difference) and the drop records of SYNs coming in to its port
 * (a firewall). An episode begins with the first such drop and ends after
 * LISTEN_QUIET_NS without one, or when the listener goes: the alert engine
 * fires and resolves a listener alert for it. Pure.
 */

#define LISTEN_QUIET_NS (10ULL * 1000000000ULL)
#define LISTEN_MAX 4096
/* The kernel counts these on the listener (sk_drops): their drop records
 * are not counted again. Also its name of what sk_drops counts. */
#define LISTEN_OVERFLOW_REASON "TCP_LISTEN_OVERFLOW"
/* the kernel function behind sk_drops' count, as "where" */
#define LISTEN_OVERFLOW_WHERE "tcp_listendrop"

/* A listener as a sweep sees it (kernel/drops.c). */
struct listener_info {
	uint64_t cookie;
	uint64_t sk_drops;	/* its drop counter (32 bits in the kernel) */
	uint32_t netns, ino, pid;
	uint32_t backlog, max_backlog; /* accept queue now, its bound */
	uint16_t port;
	uint8_t family;
	bool owner;
	uint8_t addr[16];
	char comm[TCPFSM_COMM_LEN];
};

struct listener {
	uint64_t key;		/* (netns, port), never 0 */
	struct listener_info info;
	bool present;		/* seen by the current sweep */
	uint64_t seen_ns;	/* when a sweep last saw it */
	bool counting;		/* its sk_drops is a baseline (seen before) */
	/* the episode of drops going on (start_ns 0: none) */
	uint64_t start_ns, last_ns;
	struct drop_list drops;	/* named: its kinds of drop */
	uint8_t src_family, src[16];
	bool src_multi;		/* from more than one address */
	uint8_t alert_flags;	/* owned by the alert engine */
};

/* Running totals by reason (metrics), a bounded set: the kernel's reasons. */
#define LISTEN_TOTALS_MAX 64

struct listen_total {
	char reason[40];
	uint64_t count;
};

struct listendrops;

struct listendrops *listendrops__new(void);
void listendrops__free(struct listendrops *t);
/* A listener older than us (the startup snapshot saw it): what its
 * counter holds when a sweep first sees it is from before us. 0 or -ENOMEM. */
int listendrops__existing(struct listendrops *t, uint64_t cookie);
/* A sweep begins: listeners it does not see again are gone at its end. */
void listendrops__begin(struct listendrops *t);
/* One listener of the sweep at now_ns: the drops its counter gained since
 * the last sweep join its episode. 0 or -ENOMEM (-ENOSPC: too many). */
int listendrops__seen(struct listendrops *t, const struct listener_info *li, uint64_t now_ns);
/* The sweep ended: gone() gets each listener not seen (an episode to
 * resolve), then it is forgotten. */
void listendrops__end(struct listendrops *t, void (*gone)(void *ctx, struct listener *l),
		      void *ctx);
/*
 * A drop record of a SYN coming in (it is, named: its reason and where in
 * it): counted for the listener of its namespace and local port, unless the
 * kernel counts it on the listener already (LISTEN_OVERFLOW_REASON,
 * TCP_REQQFULLDROP) or it is a retransmitted SYN of a request the listener
 * holds (NOT_SPECIFIED). A listener no sweep has seen yet (listening for
 * less than a sweep) takes it when the next sweep finds it, within 3 s.
 * Returns whether counted now.
 */
bool listendrops__drop(struct listendrops *t, const struct tcpfsm_event *e,
		       const struct drop_item *it);
/* Each listener, for the alert engine's checks (do not add or remove). */
struct listener *listendrops__next(struct listendrops *t, uint32_t *pos);
/* The listener an incoming SYN to addr:port of this family finds, in any
 * namespace (bound to addr or to any address), with drops going on; NULL if
 * none. */
const struct listener *listendrops__dropping(const struct listendrops *t, uint8_t family,
					     const uint8_t *addr, uint16_t port);
/* End l's episode (its alert resolved). */
void listendrops__quiet(struct listener *l);
uint32_t listendrops__count(const struct listendrops *t);
/* The totals so far, n of them into out (at most LISTEN_TOTALS_MAX). */
size_t listendrops__totals(const struct listendrops *t, const struct listen_total **out);

#endif
