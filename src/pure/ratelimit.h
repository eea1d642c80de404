/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_RATELIMIT_H
#define TCPFSM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include "pure/alert.h"
#include "pure/otab.h"

/*
 * The alert rate limit: alerts come in groups — a connect's by (state,
 * remote endpoint), a half-open request's or a listener's by (namespace,
 * listening port),
 * any other by (state, owner process) — and each group may report `rate`
 * firing alerts a minute (a token bucket). An alert beyond that is folded
 * into its group's next summary line, and so is its resolution later. Pure.
 */
struct ratelimit {
	struct otab groups;	/* by a hash of the group's identity */
	uint32_t rate;
	uint64_t folded;	/* firing alerts folded into summaries so far */
};

void ratelimit_init(struct ratelimit *rl, uint32_t rate_per_min);
void ratelimit_free(struct ratelimit *rl);
/* May firing alert a be reported at now_ns? If not it is folded (and kept
 * as its group's example for the summary). Out of memory: reported. */
bool ratelimit_firing(struct ratelimit *rl, const struct alert *a, uint64_t now_ns);
/* The resolution of an alert that was folded: folded too. */
void ratelimit_fold_resolved(struct ratelimit *rl, const struct alert *a);
/* fn gets the summaries due (aggregate alerts at now_ns: count, status and
 * the group's identity; no diagnosis yet), then groups idle for 10 minutes
 * with nothing folded are forgotten. */
void ratelimit_flush(struct ratelimit *rl, uint64_t now_ns, void (*fn)(void *ctx, struct alert *a),
		     void *ctx);
/* Groups remembered. */
static inline uint32_t ratelimit_groups(const struct ratelimit *rl)
{
	return otab_count(&rl->groups);
}

#endif
