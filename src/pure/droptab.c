// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pure/droptab.h"
#include "pure/otab.h"

struct dkind {
	uint64_t location, first_ns, last_ns;
	uint32_t reason, count, netns;
	uint8_t segment, direction;
};

struct dflow {
	uint64_t key;		/* otab: the 4-tuple's hash, never 0 */
	struct drop_tuple t4;
	uint64_t last_ns;
	uint64_t more;		/* drops of kinds beyond DROPTAB_KINDS */
	uint32_t n;
	struct dkind k[DROPTAB_KINDS];
};

struct droptab {
	struct otab flows;
	uint32_t max_flows;
	uint64_t now_ns, expired_ns;
	struct droptab_stats st;
};

struct droptab *droptab__new(uint32_t max_flows)
{
	struct droptab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	otab_init(&t->flows, sizeof(struct dflow));
	t->max_flows = max_flows ? max_flows : 1;
	return t;
}

void droptab__free(struct droptab *t)
{
	if (!t)
		return;
	otab_free(&t->flows);
	free(t);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

/* The 4-tuple's key: a hash (0 never: otab's empty slot). Two 4-tuples
 * with one hash share nothing: the second is not kept (t4 compared). */
static uint64_t key_of(const struct drop_tuple *t4)
{
	uint64_t h = mix(t4->family, (uint64_t)t4->lport << 16 | t4->rport), w;

	for (int i = 0; i < 16; i += 8) {
		memcpy(&w, t4->laddr + i, 8);
		h = mix(h, w);
		memcpy(&w, t4->raddr + i, 8);
		h = mix(h, w);
	}
	return h ? h : 1;
}

static bool same_tuple(const struct drop_tuple *a, const struct drop_tuple *b)
{
	return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
	       !memcmp(a->laddr, b->laddr, 16) && !memcmp(a->raddr, b->raddr, 16);
}

static void tuple_of(struct drop_tuple *t4, const struct tcpfsm_event *e)
{
	memset(t4, 0, sizeof(*t4));
	t4->family = e->family;
	t4->lport = e->sport;
	t4->rport = e->dport;
	memcpy(t4->laddr, e->saddr, e->family == TCPFSM_AF_INET ? 4 : 16);
	memcpy(t4->raddr, e->daddr, e->family == TCPFSM_AF_INET ? 4 : 16);
}

static struct dflow *find(const struct droptab *t, const struct drop_tuple *t4)
{
	struct dflow *f = otab_get(&t->flows, key_of(t4));

	return f && same_tuple(&f->t4, t4) ? f : NULL;
}

static bool idle(void *ctx, const void *entry)
{
	const struct dflow *f = entry;
	uint64_t cutoff = *(const uint64_t *)ctx;

	return f->last_ns < cutoff;
}

void droptab__expire(struct droptab *t, uint64_t now_ns)
{
	uint64_t cutoff;

	if (now_ns > t->now_ns)
		t->now_ns = now_ns;
	/* a walk over every 4-tuple: once a second is plenty */
	if (!otab_count(&t->flows) || t->now_ns < t->expired_ns + 1000000000ULL)
		return;
	t->expired_ns = t->now_ns;
	cutoff = t->now_ns > DROPTAB_KEEP_NS ? t->now_ns - DROPTAB_KEEP_NS : 0;
	/* out of memory: expired next time */
	otab_prune(&t->flows, idle, NULL, &cutoff);
}

int droptab__add(struct droptab *t, const struct tcpfsm_event *e)
{
	struct drop_tuple t4;
	struct dflow *f;
	uint64_t key;

	if (e->kind != TCPFSM_KIND_DROP ||
	    (e->family != TCPFSM_AF_INET && e->family != TCPFSM_AF_INET6))
		return 0;
	if (e->ts_ns > t->now_ns)
		t->now_ns = e->ts_ns;
	t->st.added++;
	tuple_of(&t4, e);
	key = key_of(&t4);
	f = otab_get(&t->flows, key);
	if (f && !same_tuple(&f->t4, &t4)) {
		t->st.unkept++;
		return 0;
	}
	if (!f) {
		if (otab_count(&t->flows) >= t->max_flows) {
			/* room: forget those quiet for a minute (a flood of
			 * new 4-tuples), else this one is not kept */
			uint64_t cutoff = t->now_ns > 60000000000ULL ? t->now_ns - 60000000000ULL : 0;

			otab_prune(&t->flows, idle, NULL, &cutoff);
			if (otab_count(&t->flows) >= t->max_flows) {
				t->st.unkept++;
				return 0;
			}
		}
		f = otab_put(&t->flows, key);
		if (!f)
			return -ENOMEM;
		f->t4 = t4;
	}
	if (e->ts_ns > f->last_ns)
		f->last_ns = e->ts_ns;
	for (uint32_t i = 0; i < f->n; i++) {
		struct dkind *k = &f->k[i];

		if (k->netns == e->netns && k->reason == e->ino &&
		    k->location == e->old_duration_ns && k->segment == e->evidence &&
		    k->direction == e->oldstate) {
			k->count++;
			if (e->ts_ns > k->last_ns)
				k->last_ns = e->ts_ns;
			if (e->ts_ns < k->first_ns)
				k->first_ns = e->ts_ns;
			return 0;
		}
	}
	if (f->n == DROPTAB_KINDS) {
		f->more++;
		return 0;
	}
	f->k[f->n++] = (struct dkind){
		.location = e->old_duration_ns,
		.first_ns = e->ts_ns,
		.last_ns = e->ts_ns,
		.reason = e->ino,
		.count = 1,
		.netns = e->netns,
		.segment = e->evidence,
		.direction = e->oldstate,
	};
	return 0;
}

static void reversed(struct drop_tuple *r, const struct drop_tuple *t4)
{
	r->family = t4->family;
	r->lport = t4->rport;
	r->rport = t4->lport;
	memcpy(r->laddr, t4->raddr, 16);
	memcpy(r->raddr, t4->laddr, 16);
}

void droptab__collect(const struct droptab *t, const struct drop_tuple *t4, uint32_t netns,
		      bool peer, uint64_t since_ns, struct drop_list *l)
{
	struct drop_tuple r;
	const struct dflow *f;

	if (peer)
		reversed(&r, t4);
	f = find(t, peer ? &r : t4);
	if (!f)
		return;
	/* kinds beyond those kept: counted with the connection's own */
	if (!peer)
		l->more += f->more;
	for (uint32_t i = 0; i < f->n; i++) {
		const struct dkind *k = &f->k[i];
		struct drop_item *it;

		if ((!peer && k->netns != netns) || k->last_ns < since_ns)
			continue;
		if (l->n == DROP_LIST_MAX) {
			l->more += k->count;
			continue;
		}
		it = &l->item[l->n++];
		memset(it, 0, sizeof(*it));
		it->location = k->location;
		it->first_ns = k->first_ns;
		it->last_ns = k->last_ns;
		it->reason = k->reason;
		it->count = k->count;
		it->netns = k->netns;
		it->segment = k->segment;
		it->direction = k->direction;
		it->peer = peer;
	}
}

void droptab__stats(const struct droptab *t, struct droptab_stats *st)
{
	*st = t->st;
	st->flows = otab_count(&t->flows);
}

static void default_names(struct drop_item *it)
{
	snprintf(it->reason_name, sizeof(it->reason_name), "reason_%u", it->reason);
	snprintf(it->where, sizeof(it->where), "0x%llx", (unsigned long long)it->location);
}

void drop_list_name(struct drop_list *l, drop_name_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < l->n && i < DROP_LIST_MAX; i++) {
		struct drop_item *it = &l->item[i];

		if (it->reason_name[0])
			continue; /* named already */
		if (fn)
			fn(ctx, it);
		else
			default_names(it);
	}
}

uint64_t drop_list_total(const struct drop_list *l)
{
	uint64_t n = l->more;

	for (uint32_t i = 0; i < l->n; i++)
		n += l->item[i].count;
	return n;
}
