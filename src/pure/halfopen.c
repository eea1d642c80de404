// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "pure/halfopen.h"

static bool addr_eq(int family, const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, family == TCPFSM_AF_INET ? 4 : 16);
}

struct gone {
	uint64_t cookie; /* key */
	uint64_t ns;	 /* the sweep that did not find it */
};

void halfopen_init(struct halfopen_set *s)
{
	otab_init(&s->t, sizeof(struct halfopen));
	otab_init(&s->gone, sizeof(struct gone));
	s->gen = 0;
}

void halfopen_free(struct halfopen_set *s)
{
	otab_free(&s->t);
	otab_free(&s->gone);
}

struct halfopen *halfopen_update(struct halfopen_set *s, const struct tcpfsm_event *e)
{
	struct gone *g = otab_get(&s->gone, e->cookie);
	struct halfopen *h;

	if (g) {
		if (e->ts_ns <= g->ns)
			return NULL;
		otab_del(&s->gone, g); /* seen after all: alive */
	}
	h = otab_put(&s->t, e->cookie);
	if (!h)
		return NULL;
	if (!h->netns && !h->enter_ns) { /* new */
		h->netns = e->netns;
		h->family = e->family;
		memcpy(h->saddr, e->saddr, 16);
		memcpy(h->daddr, e->daddr, 16);
		h->sport = e->sport;
		h->dport = e->dport;
		/* the kernel keeps the time of the first SYN/ACK */
		if (e->old_duration_ns != TCPFSM_DURATION_UNKNOWN && e->old_duration_ns < e->ts_ns) {
			h->enter_ns = e->ts_ns - e->old_duration_ns;
		} else {
			h->enter_ns = e->ts_ns;
			h->at_least = true;
		}
	}
	h->gen = s->gen;
	if (e->syn_retrans > h->syn_retrans)
		h->syn_retrans = e->syn_retrans;
	if (e->flags & TCPFSM_F_OWNER) {
		h->owner = true;
		h->pid = e->pid;
		h->cgroup_id = e->cgroup_id;
		memcpy(h->comm, e->comm, sizeof(h->comm));
	}
	return h;
}

struct halfopen *halfopen_of_child(const struct halfopen_set *s, const struct tcpfsm_event *e)
{
	struct halfopen *h;
	uint32_t pos = 0;

	while ((h = otab_next(&s->t, &pos)))
		if (h->netns == e->netns && h->sport == e->sport && h->dport == e->dport &&
		    addr_eq(h->family, h->saddr, e->saddr) && addr_eq(h->family, h->daddr, e->daddr))
			return h;
	return NULL;
}

const struct halfopen *halfopen_peer_of(const struct halfopen_set *s, int family,
					const uint8_t *saddr, uint16_t sport,
					const uint8_t *daddr, uint16_t dport)
{
	const struct halfopen *h;
	uint32_t pos = 0;

	while ((h = otab_next(&s->t, &pos)))
		if (h->family == family && h->sport == dport && h->dport == sport &&
		    addr_eq(family, h->saddr, daddr) && addr_eq(family, h->daddr, saddr))
			return h;
	return NULL;
}

void halfopen_del(struct halfopen_set *s, struct halfopen *h)
{
	otab_del(&s->t, h);
}

void halfopen_sweep_begin(struct halfopen_set *s)
{
	s->gen++;
}

struct sweep_end {
	struct halfopen_set *s;
	uint64_t now_ns;
	void (*gone)(void *ctx, struct halfopen *h);
	void *ctx;
};

static bool unseen(void *ctx, const void *entry)
{
	const struct sweep_end *x = ctx;

	return ((const struct halfopen *)entry)->gen != x->s->gen;
}

static void end_one(void *ctx, void *entry)
{
	struct sweep_end *x = ctx;
	struct gone *g = otab_put(&x->s->gone, ((struct halfopen *)entry)->cookie);

	/* out of memory: a late record may bring it back until a sweep */
	if (g)
		g->ns = x->now_ns;
	if (x->gone)
		x->gone(x->ctx, entry);
}

static bool forgotten(void *ctx, const void *entry)
{
	const struct sweep_end *x = ctx;

	return ((const struct gone *)entry)->ns + HALFOPEN_GONE_KEEP_NS < x->now_ns;
}

int halfopen_sweep_end(struct halfopen_set *s, uint64_t now_ns,
		       void (*gone)(void *ctx, struct halfopen *h), void *ctx)
{
	struct sweep_end x = { s, now_ns, gone, ctx };

	/* out of memory: kept until the next sweep */
	otab_prune(&s->gone, forgotten, NULL, &x);
	return otab_prune(&s->t, unseen, end_one, &x);
}
