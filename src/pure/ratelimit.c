// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "pure/ratelimit.h"

#define SEC 1000000000ULL

struct group {
	uint64_t key;
	uint64_t refill_ns;
	uint64_t tokens; /* in TOKEN parts */
	uint32_t folded_firing, folded_resolved;
	struct alert example; /* identity of the group for its summary */
};

/*
 * Tokens are counted in parts of 1/TOKEN: at rate tokens a minute a bucket
 * gains rate parts a nanosecond, in integers, so that refills at any sweep
 * period add up exactly (in floating point six sixths of a token at 10 a
 * minute fall short of one). RATE_MAX (--alert-rate's bound) keeps a full
 * bucket within 64 bits.
 */
#define TOKEN (60 * SEC)
#define RATE_MAX 1000000ULL

/* Groups idle this long with nothing pending are forgotten: a group per
 * remote endpoint or owner that ever alerted would otherwise accumulate. */
#define GROUP_IDLE_NS (600 * SEC)

void ratelimit_init(struct ratelimit *rl, uint32_t rate_per_min)
{
	otab_init(&rl->groups, sizeof(struct group));
	rl->rate = rate_per_min;
	rl->folded = 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	otab_free(&rl->groups);
}

static uint64_t group_key(const struct alert *a)
{
	uint64_t h = 1469598103934665603ULL;
	uint8_t buf[32];
	size_t n = 0;

	buf[n++] = a->state;
	buf[n++] = a->half_open;
	if (a->state == TCPFSM_SYN_SENT) {
		memcpy(buf + n, a->daddr, 16);
		n += 16;
		memcpy(buf + n, &a->dport, 2);
		n += 2;
	} else if (a->half_open || a->state == TCPFSM_LISTEN) {
		memcpy(buf + n, &a->netns, 4);
		n += 4;
		memcpy(buf + n, &a->sport, 2);
		n += 2;
	} else {
		memcpy(buf + n, &a->pid, 4);
		n += 4;
	}
	/* FNV-1a; never 0, the table's empty key */
	for (size_t i = 0; i < n; i++)
		h = (h ^ buf[i]) * 1099511628211ULL;
	return h | 1;
}

/* May this group report one more alert at now? */
static bool take_token(const struct ratelimit *rl, struct group *g, uint64_t now)
{
	uint64_t rate = rl->rate < RATE_MAX ? rl->rate : RATE_MAX;
	uint64_t full = rate * TOKEN, dt;

	if (!g->refill_ns) {
		g->tokens = full;
	} else if (now > g->refill_ns) {
		dt = now - g->refill_ns;
		/* a minute fills any bucket; below that dt * rate fits */
		g->tokens = dt >= TOKEN ? full : g->tokens + dt * rate;
		if (g->tokens > full)
			g->tokens = full;
	}
	g->refill_ns = now;
	if (g->tokens < TOKEN)
		return false;
	g->tokens -= TOKEN;
	return true;
}

bool ratelimit_firing(struct ratelimit *rl, const struct alert *a, uint64_t now_ns)
{
	struct group *g = otab_put(&rl->groups, group_key(a));

	if (!g || take_token(rl, g, now_ns))
		return true;
	g->folded_firing++;
	g->example = *a;
	rl->folded++;
	return false;
}

void ratelimit_fold_resolved(struct ratelimit *rl, const struct alert *a)
{
	struct group *g = otab_put(&rl->groups, group_key(a));

	if (g)
		g->folded_resolved++;
}

struct idle {
	uint64_t now;
};

static bool idle_group(void *ctx, const void *entry)
{
	const struct group *g = entry;
	const struct idle *i = ctx;

	return !g->folded_firing && !g->folded_resolved && i->now > g->refill_ns + GROUP_IDLE_NS;
}

void ratelimit_flush(struct ratelimit *rl, uint64_t now_ns, void (*fn)(void *ctx, struct alert *a),
		     void *ctx)
{
	struct idle idle = { now_ns };
	struct group *g;
	uint32_t pos = 0;

	while ((g = otab_next(&rl->groups, &pos))) {
		for (int k = 0; k < 2; k++) {
			uint32_t *n = k ? &g->folded_resolved : &g->folded_firing;
			struct alert a;

			if (!*n)
				continue;
			a = g->example;
			a.aggregate = true;
			a.count = *n;
			a.status = k ? ALERT_RESOLVED : ALERT_FIRING;
			a.time_ns = now_ns;
			*n = 0;
			fn(ctx, &a);
		}
	}
	/* out of memory: they are forgotten at a later flush */
	otab_prune(&rl->groups, idle_group, NULL, &idle);
}
