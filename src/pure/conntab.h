/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_CONNTAB_H
#define TCPFSM_CONNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "pure/droptab.h"
#include "tcpfsm.h"

/*
 * The table of live connections, keyed by socket cookie. Pure: it is driven
 * by records (transitions and snapshot seeds) and never looks at the clock;
 * "now" is the time of the newest record it was given.
 */

/* States kept inline per connection; a longer path keeps its first
 * CONN_PATH_MAX - 1 states and its latest one, and counts what it skipped. */
#define CONN_PATH_MAX 6

/* How long Linux keeps a timewait socket (TCP_TIMEWAIT_LEN). */
#define CONN_TIMEWAIT_NS (60ULL * 1000000000ULL)

enum conn_flags {
	CONN_COMPLETE = 1 << 0,	  /* seen from its first state on */
	CONN_SEEDED = 1 << 1,	  /* from the startup snapshot */
	CONN_TIMEWAIT = 1 << 2,	  /* handed to a timewait socket: history emitted */
	CONN_GAP = 1 << 3,	  /* a transition did not start where the last ended */
	CONN_FIRST_LOWER = 1 << 4, /* the first state's enter time is a lower bound */
	CONN_OWNER = 1 << 5,	  /* pid/comm known */
};

enum end_reason {
	END_NORMAL = 0,
	END_RESET_RECEIVED,
	END_RESET_SENT,
	END_REFUSED,
	END_TIMEOUT,
	END_ABORTED,
	END_EVICTED,
	END_REASON_MAX,
};

struct conn {
	uint64_t cookie;
	uint64_t cgroup_id;
	uint64_t enter_ns[CONN_PATH_MAX]; /* CLOCK_BOOTTIME; 0 = unknown */
	uint32_t pid, netns;
	uint32_t hnext, lru_prev, lru_next; /* table-internal links */
	uint16_t sport, dport;
	uint16_t syn_retrans;
	uint16_t skipped;		/* states left out of a long path */
	uint8_t family, state, npath, flags;
	uint8_t evidence;
	uint8_t states[CONN_PATH_MAX];
	uint8_t alert;		/* owned by the alert engine: state alerted, 0 none */
	uint8_t alert_flags;	/* owned by the alert engine */
	uint32_t ino;		/* socket inode, 0 unknown */
	char comm[TCPFSM_COMM_LEN];
	uint8_t saddr[16], daddr[16];
};

/* A connection that ended, as handed to the emit callback. */
struct conn_end {
	uint64_t end_ns;	/* time of the last transition */
	enum end_reason reason;
	bool timewait;		/* its path ends in TIME_WAIT (not CLOSE) */
	/* its own segments dropped in its namespace while it lived (drop
	 * records: pure/droptab.h), named reason_N and hex */
	struct drop_list drops;
};

typedef void (*conn_emit_fn)(void *ctx, const struct conn *c, const struct conn_end *end);

struct conntab_stats {
	uint64_t applied;	/* records that changed the table */
	uint64_t duplicates;	/* transitions already reflected by a seed */
	uint64_t same_state;	/* self-transitions (X -> X): no new path entry */
	uint64_t evicted;	/* live connections pushed out by the bound */
	uint64_t timewait_evicted; /* timewait entries dropped early for room */
	uint64_t closed;	/* histories emitted at close */
	uint64_t timewait_expired;
};

struct conntab;

/* max_live: bound on tracked connections (>= 1). NULL + errno on failure. */
struct conntab *conntab__new(uint32_t max_live);
void conntab__free(struct conntab *t);

/*
 * Apply one record. Connections that end (closed, or evicted to make room)
 * are passed to emit before this returns. Returns 0 or -errno (-EINVAL for
 * a record with out-of-range fields).
 */
int conntab__apply(struct conntab *t, const struct tcpfsm_event *e, conn_emit_fn emit, void *ctx);

/* Forget timewait sockets older than TCP_TIMEWAIT_LEN at now_ns. */
void conntab__expire(struct conntab *t, uint64_t now_ns);

const struct conn *conntab__lookup(const struct conntab *t, uint64_t cookie);
/* The same, for the alert engine's fields (alert, alert_flags). */
struct conn *conntab__lookup_mut(struct conntab *t, uint64_t cookie);
/* Call fn for each live (not timewait) connection until it returns false. */
void conntab__foreach(struct conntab *t, bool (*fn)(void *ctx, struct conn *c), void *ctx);
uint32_t conntab__live(const struct conntab *t);
/* Connections now in each state (TIME_WAIT: timewait sockets). */
void conntab__count_states(const struct conntab *t, uint32_t counts[TCPFSM_STATE_MAX]);
/* Bytes held by the table (entries, index, bookkeeping). */
size_t conntab__memory(const struct conntab *t);
const struct conntab_stats *conntab__stats(const struct conntab *t);

/*
 * Drop records (TCPFSM_KIND_DROP) go to the table's droptab, whether or not
 * their connection is tracked (yet): a connection finds its drops there
 * when it ends (struct conn_end) and when it alerts.
 */
/* c's 4-tuple as its namespace sees it. */
void conn_tuple(const struct conn *c, struct drop_tuple *t4);
/* Drops of c's segments (peer false: in its namespace) or of its peer's
 * (peer true: the reversed 4-tuple, any namespace) since since_ns, appended
 * to l. */
void conntab__drops(const struct conntab *t, const struct conn *c, bool peer, uint64_t since_ns,
		    struct drop_list *l);
struct droptab *conntab__droptab(const struct conntab *t);

/* "normal", "reset_received", ... (JSON) and "normal close", ... (text). */
const char *end_reason_name(enum end_reason r);
const char *end_reason_text(enum end_reason r);

/* Why a connection ended, from its last transition and the evidence. */
enum end_reason conn_end_reason(const struct conn *c, const struct tcpfsm_event *last);

#endif
