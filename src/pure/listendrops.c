// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pure/listendrops.h"
#include "pure/otab.h"

/*
 * SYN drops to a port whose listener no sweep has seen yet (it listens
 * since less than a sweep): kept a while for the sweep that finds it.
 */
#define PENDING_MAX 256
#define PENDING_NS (3ULL * 1000000000ULL)

struct pending {
	uint64_t ts_ns;		/* 0: a free slot */
	uint32_t netns;
	uint16_t port;
	uint8_t family;
	uint8_t src[16];
	struct drop_item it;
};

struct listendrops {
	struct otab t;		/* struct listener by (netns, port) */
	struct pending pending[PENDING_MAX];
	uint32_t next_pending, npending;
	struct listen_total totals[LISTEN_TOTALS_MAX];
	size_t ntotals;
	struct otab existing;	/* cookies of listeners older than us */
};

struct cookie_ent {
	uint64_t key;		/* the listener's cookie */
};

struct listendrops *listendrops__new(void)
{
	struct listendrops *t = calloc(1, sizeof(*t));

	if (t) {
		otab_init(&t->t, sizeof(struct listener));
		otab_init(&t->existing, sizeof(struct cookie_ent));
	}
	return t;
}

int listendrops__existing(struct listendrops *t, uint64_t cookie)
{
	return !cookie || otab_put(&t->existing, cookie) ? 0 : -ENOMEM;
}

void listendrops__free(struct listendrops *t)
{
	if (!t)
		return;
	otab_free(&t->t);
	otab_free(&t->existing);
	free(t);
}

static uint64_t key_of(uint32_t netns, uint16_t port)
{
	uint64_t k = ((uint64_t)netns << 16 | port) * 0x9e3779b97f4a7c15ULL;

	return k ? k : 1;
}

/* The listener of (netns, port), if known (a hash shared by two is the
 * first's). */
static struct listener *find(const struct listendrops *t, uint32_t netns, uint16_t port)
{
	struct listener *l = otab_get(&t->t, key_of(netns, port));

	return l && l->info.netns == netns && l->info.port == port ? l : NULL;
}

/* Count n under reason in the totals; a reason beyond the bound counts
 * under the last one, "OTHER". */
static void total_add(struct listendrops *t, const char *reason, uint64_t n)
{
	size_t i;

	for (i = 0; i < t->ntotals; i++)
		if (!strcmp(t->totals[i].reason, reason))
			break;
	if (i == t->ntotals) {
		if (t->ntotals == LISTEN_TOTALS_MAX)
			i = LISTEN_TOTALS_MAX - 1;
		else
			t->ntotals++;
		if (i == LISTEN_TOTALS_MAX - 1)
			reason = "OTHER";
		snprintf(t->totals[i].reason, sizeof(t->totals[i].reason), "%s", reason);
	}
	t->totals[i].count += n;
}

/* n drops of one kind (named in it) between first and ts join l's episode. */
static void episode_add(struct listener *l, const struct drop_item *it, uint32_t n, uint64_t first,
			uint64_t ts)
{
	struct drop_list *d = &l->drops;
	uint32_t i;

	if (!l->start_ns)
		l->start_ns = first;
	if (ts > l->last_ns)
		l->last_ns = ts;
	for (i = 0; i < d->n; i++)
		if (!strcmp(d->item[i].reason_name, it->reason_name) &&
		    !strcmp(d->item[i].where, it->where))
			break;
	if (i == d->n) {
		if (d->n == DROP_LIST_MAX) {
			d->more += n;
			return;
		}
		d->item[d->n] = *it;
		d->item[d->n].count = 0;
		d->item[d->n].first_ns = first;
		d->n++;
	}
	d->item[i].count += n;
	d->item[i].last_ns = ts;
}

/* A SYN from src dropped at ts: one more of l's (named in it). */
static void count_drop(struct listendrops *t, struct listener *l, const struct drop_item *it,
		       uint64_t ts, uint8_t family, const uint8_t *src)
{
	size_t alen = family == TCPFSM_AF_INET ? 4 : 16;

	episode_add(l, it, 1, ts, ts);
	total_add(t, it->reason_name, 1);
	/* where they come from: one address, or several */
	if (!l->src_family) {
		l->src_family = family;
		memset(l->src, 0, sizeof(l->src));
		memcpy(l->src, src, alen);
	} else if (l->src_family != family || memcmp(l->src, src, alen)) {
		l->src_multi = true;
	}
}

/* A listener seen for the first time takes the drops that waited for it. */
static void take_pending(struct listendrops *t, struct listener *l, uint64_t now_ns)
{
	for (uint32_t i = 0; t->npending && i < PENDING_MAX; i++) {
		struct pending *p = &t->pending[i];

		if (!p->ts_ns || p->netns != l->info.netns || p->port != l->info.port)
			continue;
		if (p->ts_ns + PENDING_NS >= now_ns)
			count_drop(t, l, &p->it, p->ts_ns, p->family, p->src);
		p->ts_ns = 0;
		t->npending--;
	}
}

void listendrops__begin(struct listendrops *t)
{
	struct listener *l;
	uint32_t pos = 0;

	while ((l = otab_next(&t->t, &pos)))
		l->present = false;
}

int listendrops__seen(struct listendrops *t, const struct listener_info *li, uint64_t now_ns)
{
	uint64_t key = key_of(li->netns, li->port);
	struct listener *l = otab_get(&t->t, key);
	uint32_t delta;

	if (l && (l->info.netns != li->netns || l->info.port != li->port))
		return 0; /* the hash's first holder keeps it */
	if (!l) {
		if (otab_count(&t->t) >= LISTEN_MAX)
			return -ENOSPC;
		l = otab_put(&t->t, key);
		if (!l)
			return -ENOMEM;
		l->info.netns = li->netns;
		l->info.port = li->port;
		take_pending(t, l, now_ns);
	}
	/*
	 * A listener we have not seen (or another socket on the port: closed,
	 * listening again): one older than us (the startup snapshot's) has
	 * counted since before us, its counter is a baseline; one made since
	 * counted everything from 0 in our time.
	 */
	if (!l->counting || l->info.cookie != li->cookie) {
		struct cookie_ent *old = otab_get(&t->existing, li->cookie);

		l->counting = !old;
		l->info.sk_drops = 0;
		if (old)
			otab_del(&t->existing, old);
	}
	/* (the counter is 32 bits in the kernel: a difference mod 2^32) */
	delta = (uint32_t)li->sk_drops - (uint32_t)l->info.sk_drops;
	if (l->counting && delta) {
		struct drop_item it = {
			.segment = TCPFSM_SEG_SYN,
			.direction = TCPFSM_DROP_IN,
			.netns = li->netns,
			.reason_name = LISTEN_OVERFLOW_REASON,
			.where = LISTEN_OVERFLOW_WHERE,
		};

		/* they happened since the sweep before */
		episode_add(l, &it, delta, l->seen_ns && l->seen_ns < now_ns ? l->seen_ns : now_ns,
			    now_ns);
		total_add(t, LISTEN_OVERFLOW_REASON, delta);
	}
	l->seen_ns = now_ns;
	/* an owner found once is kept if a later sweep finds none */
	if (!li->owner && l->info.owner) {
		struct listener_info keep = *li;

		keep.owner = true;
		keep.pid = l->info.pid;
		memcpy(keep.comm, l->info.comm, sizeof(keep.comm));
		l->info = keep;
	} else {
		l->info = *li;
	}
	l->present = true;
	l->counting = true;
	return 0;
}

struct gone_ctx {
	void (*gone)(void *ctx, struct listener *l);
	void *ctx;
};

static bool absent(void *ctx, const void *entry)
{
	return !((const struct listener *)entry)->present;
}

static void on_gone(void *ctx, void *entry)
{
	struct gone_ctx *g = ctx;

	if (g->gone)
		g->gone(g->ctx, entry);
}

void listendrops__end(struct listendrops *t, void (*gone)(void *ctx, struct listener *l),
		      void *ctx)
{
	struct gone_ctx g = { gone, ctx };

	/* out of memory: they go at the next sweep's end */
	otab_prune(&t->t, absent, on_gone, &g);
}

static bool counted_on_listener(const char *reason)
{
	return !strcmp(reason, LISTEN_OVERFLOW_REASON) || !strcmp(reason, "TCP_REQQFULLDROP");
}

bool listendrops__drop(struct listendrops *t, const struct tcpfsm_event *e,
		       const struct drop_item *it)
{
	struct pending *p;
	struct listener *l;

	if (e->kind != TCPFSM_KIND_DROP || e->oldstate != TCPFSM_DROP_IN ||
	    e->evidence != TCPFSM_SEG_SYN || counted_on_listener(it->reason_name) ||
	    !strcmp(it->reason_name, "NOT_SPECIFIED"))
		return false;
	l = find(t, e->netns, e->sport);
	if (l) {
		count_drop(t, l, it, e->ts_ns, e->family, e->daddr);
		return true;
	}
	/* maybe a listener the next sweep finds (the oldest waiting one
	 * makes room) */
	p = &t->pending[t->next_pending];
	t->next_pending = (t->next_pending + 1) % PENDING_MAX;
	if (!p->ts_ns)
		t->npending++;
	p->ts_ns = e->ts_ns ? e->ts_ns : 1;
	p->netns = e->netns;
	p->port = e->sport;
	p->family = e->family;
	memcpy(p->src, e->daddr, sizeof(p->src));
	p->it = *it;
	return false;
}

struct listener *listendrops__next(struct listendrops *t, uint32_t *pos)
{
	return otab_next(&t->t, pos);
}

const struct listener *listendrops__dropping(const struct listendrops *t, uint8_t family,
					     const uint8_t *addr, uint16_t port)
{
	static const uint8_t any[16];
	const struct listener *l;
	uint32_t pos = 0;

	while ((l = otab_next(&t->t, &pos))) {
		const struct listener_info *li = &l->info;

		if (!l->start_ns || li->port != port)
			continue;
		/* an IPv6 listener on any address takes IPv4 too */
		if (!memcmp(li->addr, any, 16) && (li->family == family || li->family == TCPFSM_AF_INET6))
			return l;
		if (li->family == family && !memcmp(li->addr, addr, family == TCPFSM_AF_INET ? 4 : 16))
			return l;
	}
	return NULL;
}

void listendrops__quiet(struct listener *l)
{
	l->start_ns = l->last_ns = 0;
	memset(&l->drops, 0, sizeof(l->drops));
	l->src_family = 0;
	l->src_multi = false;
	l->alert_flags = 0;
}

uint32_t listendrops__count(const struct listendrops *t)
{
	return otab_count(&t->t);
}

size_t listendrops__totals(const struct listendrops *t, const struct listen_total **out)
{
	*out = t->totals;
	return t->ntotals;
}
