/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_DROPTAB_H
#define TCPFSM_DROPTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

/*
 * Dropped segments by connection: drop records (TCPFSM_KIND_DROP) summed up
 * per 4-tuple as the namespace that dropped them sees it (local end first),
 * and per kind of drop (namespace, reason, location, segment, direction),
 * so that a connection finds the drops of its own segments (its own
 * namespace, its 4-tuple: both directions, as records are oriented) and,
 * on this host, those of its peer (the reversed 4-tuple, any namespace).
 * Pure; bounded: DROPTAB_MAX_FLOWS 4-tuples, DROPTAB_KINDS kinds each (more
 * are counted, not itemized); a 4-tuple without drops for DROPTAB_KEEP_NS
 * is forgotten. A connection takes the kinds last seen since it began: a
 * 4-tuple used again within that time (a client port reused) adds the
 * earlier connection's count of a kind that continues.
 */

#define DROPTAB_MAX_FLOWS 16384
#define DROPTAB_KINDS 4
#define DROPTAB_KEEP_NS (600ULL * 1000000000ULL)

/* One kind of drop of a connection's segments, as outputs show it. */
struct drop_item {
	uint64_t location;	/* kernel address that dropped them */
	uint64_t first_ns, last_ns; /* CLOCK_BOOTTIME */
	uint32_t reason;	/* the running kernel's enum skb_drop_reason */
	uint32_t count;
	uint32_t netns;		/* where they were dropped */
	uint8_t segment;	/* TCPFSM_SEG_* */
	uint8_t direction;	/* TCPFSM_DROP_IN / _OUT */
	bool peer;		/* at the other end (on this host), not ours */
	/* the kernel's names (kernel/drops.h), or reason_N and hex */
	char reason_name[40];
	char where[64];
};

#define DROP_LIST_MAX 4

struct drop_list {
	uint32_t n;
	uint64_t more;		/* drops beyond the items (not itemized) */
	struct drop_item item[DROP_LIST_MAX];
};

/* Names for the items of a list not named yet (collected items are not),
 * from whoever knows the kernel's; NULL: reason_N and hex addresses. */
typedef void (*drop_name_fn)(void *ctx, struct drop_item *it);
void drop_list_name(struct drop_list *l, drop_name_fn fn, void *ctx);
/* Total drops in the list, items and more. */
uint64_t drop_list_total(const struct drop_list *l);

/* A connection's 4-tuple as its own namespace sees it. */
struct drop_tuple {
	uint8_t family;
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
};

struct droptab_stats {
	uint64_t added;		/* drop records taken */
	uint64_t unkept;	/* of those, no room for their 4-tuple */
	uint32_t flows;		/* 4-tuples held */
};

struct droptab;

struct droptab *droptab__new(uint32_t max_flows);
void droptab__free(struct droptab *t);
/* A drop record; others are ignored. 0 or -ENOMEM. */
int droptab__add(struct droptab *t, const struct tcpfsm_event *e);
/*
 * Append to l the drops of t's 4-tuple last seen at or after since_ns:
 * peer false: those dropped in namespace netns (the connection's own
 * segments); peer true: those of the reversed 4-tuple in any namespace
 * (its peer's view, on this host).
 */
void droptab__collect(const struct droptab *t, const struct drop_tuple *t4, uint32_t netns,
		      bool peer, uint64_t since_ns, struct drop_list *l);
/* Forget 4-tuples without drops since now_ns - DROPTAB_KEEP_NS. */
void droptab__expire(struct droptab *t, uint64_t now_ns);
void droptab__stats(const struct droptab *t, struct droptab_stats *st);

#endif
