// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "pure/alertengine.h"
#include "pure/diagnosis.h"
#include "pure/halfopen.h"
#include "pure/ratelimit.h"

enum { AF_REPORTED = 1, AF_SUPPRESSED = 2 };

struct alert_engine {
	struct alert_cfg cfg;
	alert_fn fn;
	void *ctx;
	fd_lookup_fn fd_lookup;
	drop_name_fn drop_namer;
	void *drop_namer_ctx;
	struct halfopen_set half;
	struct listendrops *listeners;
	struct ratelimit rl;
	uint64_t now_ns;
	struct alert_stats st;
	struct conntab *tab; /* during apply/sweep: where peers are looked for */
};

struct alert_engine *alert_engine__new(const struct alert_cfg *cfg, alert_fn fn, void *ctx)
{
	struct alert_engine *ae = calloc(1, sizeof(*ae));

	if (!ae)
		return NULL;
	ae->cfg = *cfg;
	ae->fn = fn;
	ae->ctx = ctx;
	halfopen_init(&ae->half);
	ratelimit_init(&ae->rl, cfg->rate);
	ae->listeners = listendrops__new();
	if (!ae->listeners) {
		alert_engine__free(ae);
		return NULL;
	}
	return ae;
}

void alert_engine__free(struct alert_engine *ae)
{
	if (!ae)
		return;
	halfopen_free(&ae->half);
	ratelimit_free(&ae->rl);
	listendrops__free(ae->listeners);
	free(ae);
}

void alert_engine__set_fd_lookup(struct alert_engine *ae, fd_lookup_fn fn)
{
	ae->fd_lookup = fn;
}

void alert_engine__set_drop_namer(struct alert_engine *ae, drop_name_fn fn, void *ctx)
{
	ae->drop_namer = fn;
	ae->drop_namer_ctx = ctx;
}

const struct alert_stats *alert_engine__stats(const struct alert_engine *ae)
{
	return &ae->st;
}

static void sync_stats(struct alert_engine *ae)
{
	ae->st.half_open = halfopen_count(&ae->half);
	ae->st.groups = ratelimit_groups(&ae->rl);
	ae->st.suppressed = ae->rl.folded;
}

static void advance(struct alert_engine *ae, uint64_t now_ns)
{
	if (now_ns > ae->now_ns)
		ae->now_ns = now_ns;
}

/* --- the other end, when it is on this host --- */

static bool addr_eq(int family, const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, family == TCPFSM_AF_INET ? 4 : 16);
}

static bool addr_any(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return addr_eq(family, a, zero);
}

struct peer_search {
	const struct alert *a;
	const struct conn *found;
	int want;
};

static bool find_peer_conn(void *ctx, struct conn *c)
{
	struct peer_search *p = ctx;

	if (c->state != p->want || c->family != p->a->family)
		return true;
	if (p->want == TCPFSM_LISTEN) {
		if (c->sport == p->a->dport &&
		    (addr_any(c->family, c->saddr) || addr_eq(c->family, c->saddr, p->a->daddr))) {
			p->found = c;
			return false;
		}
	} else if (c->sport == p->a->dport && c->dport == p->a->sport &&
		   addr_eq(c->family, c->saddr, p->a->daddr) &&
		   addr_eq(c->family, c->daddr, p->a->saddr)) {
		p->found = c;
		return false;
	}
	return true;
}

/* What the other end of a stuck handshake shows (matched by address and
 * port in any namespace). */
static void find_peer(struct alert_engine *ae, const struct alert *a, struct alert_peer *peer)
{
	struct peer_search p = { a, NULL, 0 };

	memset(peer, 0, sizeof(*peer));
	if (a->state == TCPFSM_SYN_SENT) {
		if (halfopen_peer_of(&ae->half, a->family, a->saddr, a->sport, a->daddr, a->dport)) {
			peer->kind = PEER_HALF_OPEN;
			return;
		}
		p.want = TCPFSM_LISTEN;
		conntab__foreach(ae->tab, find_peer_conn, &p);
		if (p.found)
			peer->kind = PEER_LISTEN_ONLY;
	} else if (a->half_open) {
		p.want = TCPFSM_SYN_SENT;
		conntab__foreach(ae->tab, find_peer_conn, &p);
		if (p.found) {
			peer->kind = PEER_CLIENT_SYN_SENT;
			peer->owner = p.found->flags & CONN_OWNER;
			peer->pid = p.found->pid;
			memcpy(peer->comm, p.found->comm, sizeof(peer->comm));
		}
	}
}

/* --- reporting --- */

/*
 * A connect whose server on this host counts SYNs refused for a full queue
 * (the SYNs are consumed, not dropped: no record of ours): the listener's
 * count, as the peer's drops. They are the listener's, not only ours.
 */
static void peer_listener_drops(struct alert_engine *ae, struct alert *a)
{
	const struct listener *l = listendrops__dropping(ae->listeners, a->family, a->daddr,
							 a->dport);

	if (!l || a->drops.n >= DROP_LIST_MAX)
		return;
	for (uint32_t i = 0; i < l->drops.n; i++) {
		const struct drop_item *it = &l->drops.item[i];

		if (strcmp(it->where, LISTEN_OVERFLOW_WHERE) || a->drops.n >= DROP_LIST_MAX)
			continue;
		a->drops.item[a->drops.n] = *it;
		a->drops.item[a->drops.n++].peer = true;
	}
}

/* The drops of a's segments since it entered its state: its own (in its
 * namespace), then its peer's (on this host), named. */
static void collect_drops(struct alert_engine *ae, struct alert *a)
{
	uint64_t since = a->age_at_least || a->age_ns > a->time_ns ? 0 : a->time_ns - a->age_ns;
	struct droptab *dt = conntab__droptab(ae->tab);
	struct drop_tuple t4 = { .family = a->family, .lport = a->sport, .rport = a->dport };

	memset(&a->drops, 0, sizeof(a->drops));
	memcpy(t4.laddr, a->saddr, 16);
	memcpy(t4.raddr, a->daddr, 16);
	droptab__collect(dt, &t4, a->netns, false, since, &a->drops);
	droptab__collect(dt, &t4, a->netns, true, since, &a->drops);
	drop_list_name(&a->drops, ae->drop_namer, ae->drop_namer_ctx);
	if (a->state == TCPFSM_SYN_SENT)
		peer_listener_drops(ae, a);
}

/* Report a firing or resolved alert, or fold it into its group's summary. */
static bool report(struct alert_engine *ae, struct alert *a, bool was_reported)
{
	char words[160] = "";

	if (a->status == ALERT_RESOLVED) {
		/* resolutions follow their firing: reported or folded alike */
		if (!was_reported) {
			ratelimit_fold_resolved(&ae->rl, a);
			return false;
		}
	} else {
		struct alert_peer peer;

		if (!ratelimit_firing(&ae->rl, a, ae->now_ns))
			return false;
		if (ae->fd_lookup && a->owner && a->ino && a->state == TCPFSM_CLOSE_WAIT)
			a->fd = ae->fd_lookup(a->pid, a->ino);
		find_peer(ae, a, &peer);
		alert_peer_words(words, sizeof(words), &peer);
	}
	/* (a listener's come with it) */
	if (ae->tab && a->state != TCPFSM_LISTEN)
		collect_drops(ae, a);
	alert_diagnose(a, words);
	ae->fn(ae->ctx, a);
	return true;
}

static void report_summary(void *ctx, struct alert *a)
{
	struct alert_engine *ae = ctx;

	alert_diagnose_aggregate(a, ae->cfg.rate);
	ae->fn(ae->ctx, a);
}

/*
 * What an alert takes alike from a connection and from a half-open request:
 * the identity and the SYN (half-open: SYN/ACK) retransmits. A macro, as the
 * two are different structs with these members in common.
 */
#define ALERT_FROM(a, r, now)                                            \
	do {                                                             \
		memset((a), 0, sizeof(*(a)));                            \
		(a)->time_ns = (now);                                    \
		(a)->fd = -1;                                            \
		(a)->cookie = (r)->cookie;                               \
		(a)->cgroup_id = (r)->cgroup_id;                         \
		(a)->pid = (r)->pid;                                     \
		(a)->netns = (r)->netns;                                 \
		memcpy((a)->comm, (r)->comm, sizeof((a)->comm));         \
		(a)->family = (r)->family;                               \
		memcpy((a)->saddr, (r)->saddr, sizeof((a)->saddr));      \
		memcpy((a)->daddr, (r)->daddr, sizeof((a)->daddr));      \
		(a)->sport = (r)->sport;                                 \
		(a)->dport = (r)->dport;                                 \
		(a)->syn_retrans = (r)->syn_retrans;                     \
	} while (0)

static void from_conn(struct alert *a, const struct conn *c, int state, uint64_t now)
{
	uint64_t enter = c->enter_ns[c->npath ? c->npath - 1 : 0];

	ALERT_FROM(a, c, now);
	a->state = state;
	a->age_ns = enter && now > enter ? now - enter : 0;
	a->age_at_least = (c->flags & CONN_FIRST_LOWER) && c->npath == 1;
	a->ino = c->ino;
	a->owner = c->flags & CONN_OWNER;
	a->evidence = c->evidence;
}

static void from_half(struct alert *a, const struct halfopen *h, uint64_t now)
{
	ALERT_FROM(a, h, now);
	a->state = TCPFSM_SYN_RECV;
	a->half_open = true;
	a->age_ns = now > h->enter_ns ? now - h->enter_ns : 0;
	a->age_at_least = h->at_least;
	a->owner = h->owner;
}

static void fire(struct alert_engine *ae, struct alert *a, uint8_t *flags)
{
	a->status = ALERT_FIRING;
	a->threshold_ns = ae->cfg.threshold_ns[a->state];
	ae->st.fired[a->state]++;
	ae->st.firing[a->state]++;
	*flags = report(ae, a, false) ? AF_REPORTED : AF_SUPPRESSED;
}

static void resolve(struct alert_engine *ae, struct alert *a, uint8_t flags)
{
	a->status = ALERT_RESOLVED;
	a->threshold_ns = ae->cfg.threshold_ns[a->state];
	if (ae->st.firing[a->state])
		ae->st.firing[a->state]--;
	report(ae, a, flags & AF_REPORTED);
}

/* --- listeners --- */

static void from_listener(struct alert *a, const struct listener *l, uint64_t now)
{
	const struct listener_info *li = &l->info;

	memset(a, 0, sizeof(*a));
	a->state = TCPFSM_LISTEN;
	a->time_ns = now;
	a->age_ns = now > l->start_ns ? now - l->start_ns : 0;
	a->cookie = li->cookie;
	a->pid = li->pid;
	a->netns = li->netns;
	a->ino = li->ino;
	a->fd = -1;
	a->owner = li->owner;
	memcpy(a->comm, li->comm, sizeof(a->comm));
	a->family = li->family;
	memcpy(a->saddr, li->addr, 16);
	a->sport = li->port;
	a->drops = l->drops;
	a->backlog = li->backlog;
	a->max_backlog = li->max_backlog;
	a->src_family = l->src_family;
	a->src_multi = l->src_multi;
	memcpy(a->src, l->src, 16);
	/* the remote end, when it is one address of the listener's family */
	if (l->src_family == li->family && !l->src_multi)
		memcpy(a->daddr, l->src, 16);
}

/* An incoming SYN dropped: its listener's, if it has one. */
static void listener_drop(struct alert_engine *ae, const struct tcpfsm_event *e)
{
	struct drop_list one = { .n = 1 };
	struct drop_item *it = &one.item[0];

	/* (a listener not swept yet takes it at the sweep that finds it) */
	if (e->oldstate != TCPFSM_DROP_IN || e->evidence != TCPFSM_SEG_SYN)
		return;
	it->location = e->old_duration_ns;
	it->reason = e->ino;
	it->netns = e->netns;
	it->segment = e->evidence;
	it->direction = e->oldstate;
	drop_list_name(&one, ae->drop_namer, ae->drop_namer_ctx);
	listendrops__drop(ae->listeners, e, it);
}

static void listener_resolve(struct alert_engine *ae, struct listener *l, uint64_t now,
			     const char *why)
{
	struct alert a;

	if (l->alert_flags) {
		from_listener(&a, l, now);
		a.resolution = why;
		resolve(ae, &a, l->alert_flags);
	}
	listendrops__quiet(l);
}

static void listener_gone(void *ctx, struct listener *l)
{
	struct alert_engine *ae = ctx;

	listener_resolve(ae, l, ae->now_ns, "the listener closed");
}

void alert_engine__listeners_begin(struct alert_engine *ae)
{
	listendrops__begin(ae->listeners);
}

int alert_engine__listener(struct alert_engine *ae, const struct listener_info *li,
			   uint64_t now_ns)
{
	advance(ae, now_ns);
	return listendrops__seen(ae->listeners, li, now_ns);
}

void alert_engine__listeners_end(struct alert_engine *ae, uint64_t now_ns)
{
	advance(ae, now_ns);
	listendrops__end(ae->listeners, listener_gone, ae);
	sync_stats(ae);
}

size_t alert_engine__listen_totals(const struct alert_engine *ae, const struct listen_total **out)
{
	return listendrops__totals(ae->listeners, out);
}

/* Fire for an episode of drops, resolve one that has gone quiet. */
static void sweep_listeners(struct alert_engine *ae, uint64_t now)
{
	struct listener *l;
	uint32_t pos = 0;

	while ((l = listendrops__next(ae->listeners, &pos))) {
		struct alert a;

		if (!l->start_ns)
			continue;
		if (!l->alert_flags) {
			from_listener(&a, l, now);
			fire(ae, &a, &l->alert_flags);
		} else if (now >= l->last_ns + LISTEN_QUIET_NS) {
			listener_resolve(ae, l, now, "no SYN dropped for 10s");
		}
	}
}

/* --- half-open requests --- */

/* A request ends (handshake completed, or gone): its alert resolves. */
static void half_resolve(struct alert_engine *ae, const struct halfopen *h, int to,
			 const char *why)
{
	struct alert a;

	if (!h->alert_flags)
		return;
	from_half(&a, h, ae->now_ns);
	a.to_state = to;
	a.resolution = why;
	resolve(ae, &a, h->alert_flags);
}

static void half_gone(void *ctx, struct halfopen *h)
{
	half_resolve(ctx, h, 0, "the request is gone (expired or reset)");
}

void alert_engine__requests_begin(struct alert_engine *ae)
{
	halfopen_sweep_begin(&ae->half);
}

void alert_engine__requests_end(struct alert_engine *ae, uint64_t now_ns)
{
	advance(ae, now_ns);
	/* out of memory: the requests stay, the next sweep tries again */
	halfopen_sweep_end(&ae->half, ae->now_ns, half_gone, ae);
	sync_stats(ae);
}

/* --- records --- */

/* Closed or evicted connections pass through here on their way to the
 * caller: an evicted one with a firing alert is resolved, or it would stay
 * "firing" forever. */
struct emit_through {
	struct alert_engine *ae;
	uint64_t skip_cookie; /* the record's own connection: resolved apart */
	conn_emit_fn fn;
	void *ctx;
};

static void emit_through(void *ctx, const struct conn *c, const struct conn_end *end)
{
	struct emit_through *t = ctx;

	if (end->reason == END_EVICTED && c->alert && c->cookie != t->skip_cookie) {
		struct alert a;

		from_conn(&a, c, c->alert, end->end_ns);
		a.resolution = "no longer tracked: evicted from a full table (--max-conns)";
		resolve(t->ae, &a, c->alert_flags);
	}
	if (t->fn)
		t->fn(t->ctx, c, end);
}

/*
 * A transition to the state the socket is in already: close() after
 * shutdown() gives FIN_WAIT1 -> FIN_WAIT1, FIN_WAIT2 -> FIN_WAIT2 or
 * CLOSING -> CLOSING. The time in the state goes on and nothing resolves.
 * Recordings made before TCPFSM_F_SAME_STATE lack the flag: the states
 * decide. The table gets it as what it is to us, whatever conntab makes of
 * self-transitions: news of a socket it holds (owner, evidence), or a
 * socket found in that state since ts - old_duration (older than us, or
 * tracked from here on), as a sweep would have found it.
 */
static int apply_self_transition(struct conntab *tab, const struct tcpfsm_event *e,
				 conn_emit_fn emit, void *ctx)
{
	struct tcpfsm_event news = *e;

	if (conntab__lookup(tab, e->cookie)) {
		news.kind = TCPFSM_KIND_EVIDENCE;
	} else {
		news.kind = TCPFSM_KIND_SNAPSHOT;
		if (e->old_duration_ns != TCPFSM_DURATION_UNKNOWN && e->old_duration_ns < e->ts_ns)
			news.ts_ns = e->ts_ns - e->old_duration_ns;
		else
			news.flags |= TCPFSM_F_PREEXISTING;
	}
	return conntab__apply(tab, &news, emit, ctx);
}

static int apply(struct alert_engine *ae, struct conntab *tab, const struct tcpfsm_event *e,
		 conn_emit_fn conn_emit, void *conn_ctx)
{
	struct emit_through through = { ae, e->cookie, conn_emit, conn_ctx };
	struct conn before, *c;
	bool alerted = false;
	struct alert a;
	int err;

	ae->tab = tab;
	advance(ae, e->ts_ns);
	/* a listener older than us: its drop counter holds older drops */
	if (e->kind == TCPFSM_KIND_SNAPSHOT && e->newstate == TCPFSM_LISTEN &&
	    (e->flags & TCPFSM_F_PREEXISTING))
		listendrops__existing(ae->listeners, e->cookie);
	/* the table keeps them by 4-tuple (they reuse the state fields) */
	if (e->kind == TCPFSM_KIND_DROP) {
		listener_drop(ae, e);
		return conntab__apply(tab, e, emit_through, &through);
	}
	if (e->newstate == TCPFSM_NEW_SYN_RECV && e->kind != TCPFSM_KIND_TRANSITION) {
		/* out of memory: it is found again by the next record or sweep */
		halfopen_update(&ae->half, e);
		return 0;
	}
	if (e->kind == TCPFSM_KIND_TRANSITION && e->oldstate == e->newstate)
		return apply_self_transition(tab, e, emit_through, &through);
	if (e->kind == TCPFSM_KIND_TRANSITION && e->oldstate == TCPFSM_LISTEN &&
	    e->newstate == TCPFSM_SYN_RECV && halfopen_count(&ae->half)) {
		/* a child was born: the request with its 4-tuple completed */
		struct halfopen *h = halfopen_of_child(&ae->half, e);

		if (h) {
			half_resolve(ae, h, TCPFSM_SYN_RECV, "the handshake completed");
			halfopen_del(&ae->half, h);
		}
	}
	if (e->kind == TCPFSM_KIND_TRANSITION) {
		c = conntab__lookup_mut(tab, e->cookie);
		if (c && c->alert) {
			before = *c;
			alerted = true;
		}
	}
	err = conntab__apply(tab, e, emit_through, &through);
	if (err || !alerted || e->newstate == before.alert)
		return err;
	from_conn(&a, &before, before.alert, e->ts_ns);
	c = conntab__lookup_mut(tab, e->cookie);
	a.to_state = e->newstate;
	if (e->newstate == TCPFSM_CLOSE && c && (c->flags & CONN_TIMEWAIT))
		a.to_state = TCPFSM_TIME_WAIT;
	if (e->newstate == TCPFSM_CLOSE)
		a.resolution = end_reason_text(conn_end_reason(&before, e));
	a.syn_retrans = e->syn_retrans;
	a.evidence = e->evidence;
	resolve(ae, &a, before.alert_flags);
	/* a timewait entry too: its socket may connect again (a new life
	 * under the same cookie) and must not resolve twice */
	if (c) {
		c->alert = 0;
		c->alert_flags = 0;
	}
	return 0;
}

int alert_engine__apply(struct alert_engine *ae, struct conntab *tab, const struct tcpfsm_event *e,
			conn_emit_fn conn_emit, void *conn_ctx)
{
	int err = apply(ae, tab, e, conn_emit, conn_ctx);

	sync_stats(ae);
	return err;
}

/* --- sweeps --- */

struct sweep_ctx {
	struct alert_engine *ae;
	uint64_t now;
};

static bool sweep_conn(void *ctx, struct conn *c)
{
	struct sweep_ctx *s = ctx;
	uint64_t thr = s->ae->cfg.threshold_ns[c->state], enter;
	struct alert a;

	if (!thr || c->alert || !c->npath)
		return true;
	enter = c->enter_ns[c->npath - 1];
	if (!enter || s->now < enter || s->now - enter < thr)
		return true;
	from_conn(&a, c, c->state, s->now);
	c->alert = c->state;
	fire(s->ae, &a, &c->alert_flags);
	return true;
}

void alert_engine__sweep(struct alert_engine *ae, struct conntab *tab, uint64_t now_ns)
{
	struct sweep_ctx s = { ae, now_ns };
	uint64_t thr = ae->cfg.threshold_ns[TCPFSM_SYN_RECV];
	struct halfopen *h;
	uint32_t pos = 0;

	ae->tab = tab;
	advance(ae, now_ns);
	conntab__foreach(tab, sweep_conn, &s);
	while (thr && (h = halfopen_next(&ae->half, &pos))) {
		struct alert a;

		if (h->alert_flags || now_ns < h->enter_ns || now_ns - h->enter_ns < thr)
			continue;
		from_half(&a, h, now_ns);
		fire(ae, &a, &h->alert_flags);
	}
	sweep_listeners(ae, now_ns);
	ratelimit_flush(&ae->rl, ae->now_ns, report_summary, ae);
	sync_stats(ae);
}
