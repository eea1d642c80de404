// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pure/alert.h"
#include "pure/duration.h"
#include "pure/sbuf.h"
#include "pure/state.h"

#define SEC 1000000000ULL

/* ---- a small open-addressing table: entries start with a u64 key != 0 ---- */

struct otab {
	uint8_t *slots;
	size_t esize;
	uint32_t cap, n;
};

static inline uint64_t *slot(const struct otab *t, uint32_t i)
{
	return (uint64_t *)(t->slots + (size_t)i * t->esize);
}

static inline uint32_t home(const struct otab *t, uint64_t key)
{
	return (key * 0x9e3779b97f4a7c15ULL) >> 32 & (t->cap - 1);
}

static int otab_grow(struct otab *t)
{
	struct otab n = { NULL, t->esize, t->cap ? t->cap * 2 : 64, 0 };

	n.slots = calloc(n.cap, n.esize);
	if (!n.slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap; i++) {
		uint64_t *e = slot(t, i);
		uint32_t j;

		if (!*e)
			continue;
		for (j = home(&n, *e); *slot(&n, j); j = (j + 1) & (n.cap - 1))
			;
		memcpy(slot(&n, j), e, n.esize);
		n.n++;
	}
	free(t->slots);
	*t = n;
	return 0;
}

/* The entry for key; created zeroed (but for the key) if create. */
static void *otab_get(struct otab *t, uint64_t key, bool create)
{
	uint32_t i;

	if (t->cap) {
		for (i = home(t, key); *slot(t, i); i = (i + 1) & (t->cap - 1))
			if (*slot(t, i) == key)
				return slot(t, i);
	}
	if (!create)
		return NULL;
	if ((t->n + 1) * 2 > t->cap && otab_grow(t))
		return NULL;
	for (i = home(t, key); *slot(t, i); i = (i + 1) & (t->cap - 1))
		;
	memset(slot(t, i), 0, t->esize);
	*slot(t, i) = key;
	t->n++;
	return slot(t, i);
}

/* Remove an entry, shifting later ones of its run back (no tombstones). */
static void otab_del(struct otab *t, void *entry)
{
	uint32_t i = ((uint8_t *)entry - t->slots) / t->esize, j = i;

	for (;;) {
		j = (j + 1) & (t->cap - 1);
		if (!*slot(t, j))
			break;
		uint32_t h = home(t, *slot(t, j));

		/* can the entry at j move to i? (i is cyclically in [h, j)) */
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			memcpy(slot(t, i), slot(t, j), t->esize);
			i = j;
		}
	}
	*slot(t, i) = 0;
	t->n--;
}

#define OTAB_FOREACH(t, e)                                                   \
	for (uint32_t _i = 0; _i < (t)->cap; _i++)                           \
		if (*(slot((t), _i)) && ((e) = (void *)slot((t), _i), 1))

/* ---- engine ---- */

enum { AF_REPORTED = 1, AF_SUPPRESSED = 2 };

struct halfopen {
	uint64_t cookie; /* key */
	uint64_t enter_ns, cgroup_id;
	uint32_t pid, netns, gen;
	uint16_t sport, dport, syn_retrans;
	uint8_t family, alert_flags;
	bool at_least, owner;
	char comm[TCPFSM_COMM_LEN];
	uint8_t saddr[16], daddr[16];
};

struct group {
	uint64_t key;
	uint64_t refill_ns;
	uint64_t tokens; /* in TOKEN parts */
	uint32_t suppressed_firing, suppressed_resolved;
	struct alert example; /* identity of the group for its aggregate line */
};

struct alert_engine {
	struct alert_cfg cfg;
	alert_fn fn;
	void *ctx;
	fd_lookup_fn fd_lookup;
	struct otab half; /* struct halfopen by cookie */
	struct otab groups; /* struct group by group hash */
	uint32_t gen;
	uint64_t now_ns;
	struct alert_stats st;
	struct conntab *tab; /* during apply/sweep */
};

uint64_t alert_track_interval(const struct alert_cfg *cfg, uint64_t sweep_ns, uint64_t dur_ns)
{
	uint64_t want = dur_ns > UINT64_MAX / 50 ? UINT64_MAX : dur_ns * 50, cap = UINT64_MAX;

	for (int s = 0; s < TCPFSM_STATE_MAX; s++) {
		uint64_t t = cfg->threshold_ns[s];

		if (!t || s == TCPFSM_SYN_RECV || (s == TCPFSM_SYN_SENT && t >= 2000000000ULL))
			continue;
		if (t / 2 < cap)
			cap = t / 2;
	}
	if (want > cap)
		want = cap;
	return want > sweep_ns ? want : sweep_ns;
}

void alert_cfg_defaults(struct alert_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->threshold_ns[TCPFSM_SYN_SENT] = 3 * SEC;
	cfg->threshold_ns[TCPFSM_SYN_RECV] = 3 * SEC;
	cfg->threshold_ns[TCPFSM_CLOSE_WAIT] = 60 * SEC;
	cfg->threshold_ns[TCPFSM_LAST_ACK] = 30 * SEC;
	cfg->threshold_ns[TCPFSM_FIN_WAIT1] = 30 * SEC;
	cfg->threshold_ns[TCPFSM_FIN_WAIT2] = 60 * SEC;
	cfg->threshold_ns[TCPFSM_CLOSING] = 30 * SEC;
	cfg->rate = 10;
}

int alert_cfg_parse(struct alert_cfg *cfg, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	char name[32];
	uint64_t ns;
	int st;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(name)) {
		snprintf(err, errlen, "bad --alert '%s': expected STATE=DURATION (SYN_SENT=3s)", spec);
		return -EINVAL;
	}
	memcpy(name, spec, eq - spec);
	name[eq - spec] = 0;
	st = state_parse(name);
	if (st < 0) {
		snprintf(err, errlen, "bad --alert '%s': unknown state '%s'", spec, name);
		return -EINVAL;
	}
	if (st == TCPFSM_CLOSE || st == TCPFSM_NEW_SYN_RECV || st == TCPFSM_TIME_WAIT) {
		snprintf(err, errlen,
			 "bad --alert '%s': %s cannot be alerted (half-open requests are SYN_RECV)",
			 spec, state_name(st));
		return -EINVAL;
	}
	if (duration_parse(eq + 1, &ns) || !ns) {
		snprintf(err, errlen, "bad --alert '%s': '%s' is not a positive duration", spec,
			 eq + 1);
		return -EINVAL;
	}
	cfg->threshold_ns[st] = ns;
	return 0;
}

struct alert_engine *alert_engine__new(const struct alert_cfg *cfg, alert_fn fn, void *ctx)
{
	struct alert_engine *ae = calloc(1, sizeof(*ae));

	if (!ae)
		return NULL;
	ae->cfg = *cfg;
	ae->fn = fn;
	ae->ctx = ctx;
	ae->half.esize = sizeof(struct halfopen);
	ae->groups.esize = sizeof(struct group);
	return ae;
}

void alert_engine__free(struct alert_engine *ae)
{
	if (!ae)
		return;
	free(ae->half.slots);
	free(ae->groups.slots);
	free(ae);
}

void alert_engine__set_fd_lookup(struct alert_engine *ae, fd_lookup_fn fn)
{
	ae->fd_lookup = fn;
}

const struct alert_stats *alert_engine__stats(const struct alert_engine *ae)
{
	return &ae->st;
}

static const char *sname(int s)
{
	const char *n = state_name(s);

	return n ? n : "UNKNOWN";
}

static bool addr_eq(int family, const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, family == TCPFSM_AF_INET ? 4 : 16);
}

static bool addr_any(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return addr_eq(family, a, zero);
}

/* A comm as the text line shows it: printable ASCII, others '?'. Processes
 * name themselves: no newline or terminal escape gets into a diagnosis. */
static const char *safe_comm(char out[TCPFSM_COMM_LEN], const char *comm)
{
	size_t i;

	for (i = 0; i < TCPFSM_COMM_LEN - 1 && comm[i]; i++)
		out[i] = (comm[i] >= 0x20 && comm[i] < 0x7f) ? comm[i] : '?';
	out[i] = 0;
	return out;
}

/* --- peers on this host --- */

struct peer_search {
	const struct alert *a;
	const struct conn *found;
	int want;
};

static bool find_listener(void *ctx, struct conn *c)
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

static const struct halfopen *find_request(struct alert_engine *ae, const struct alert *a)
{
	struct halfopen *h;

	OTAB_FOREACH(&ae->half, h)
	{
		if (h->family == a->family && h->sport == a->dport && h->dport == a->sport &&
		    addr_eq(h->family, h->saddr, a->daddr) && addr_eq(h->family, h->daddr, a->saddr))
			return h;
	}
	return NULL;
}

/* What the other end, when it is on this host, says about the problem. */
static void peer_words(struct alert_engine *ae, const struct alert *a, char *buf, size_t len)
{
	struct peer_search p = { a, NULL, 0 };
	char comm[TCPFSM_COMM_LEN];

	buf[0] = 0;
	if (a->state == TCPFSM_SYN_SENT) {
		if (find_request(ae, a)) {
			snprintf(buf, len, "the peer is half-open: the SYN/ACK does not reach this client");
			return;
		}
		p.want = TCPFSM_LISTEN;
		conntab__foreach(ae->tab, find_listener, &p);
		if (p.found)
			snprintf(buf, len, "the peer only LISTENs: the SYN never arrived");
	} else if (a->half_open) {
		p.want = TCPFSM_SYN_SENT;
		conntab__foreach(ae->tab, find_listener, &p);
		if (p.found && (p.found->flags & CONN_OWNER))
			snprintf(buf, len,
				 "the client (process %u, %s) is in SYN_SENT: the SYN/ACK does not reach it",
				 p.found->pid, safe_comm(comm, p.found->comm));
		else if (p.found)
			snprintf(buf, len, "the client is in SYN_SENT: the SYN/ACK does not reach it");
	}
}

void alert_diagnose(struct alert *a, const char *peer)
{
	char age[32], owner[64] = "the owner", comm[TCPFSM_COMM_LEN];
	struct sbuf b;

	sb_init(&b, a->diagnosis, sizeof(a->diagnosis));
	duration_format(age, sizeof(age), a->age_ns);
	if (a->owner)
		snprintf(owner, sizeof(owner), "process %u (%s)", a->pid, safe_comm(comm, a->comm));
	if (a->status == ALERT_RESOLVED) {
		sb_printf(&b, "left %s after %s%s", a->half_open ? "half-open" : sname(a->state),
			  a->age_at_least ? "at least " : "", age);
		if (a->to_state)
			sb_printf(&b, " for %s", sname(a->to_state));
		if (a->resolution)
			sb_printf(&b, ": %s", a->resolution);
		return;
	}
	if (a->half_open) {
		sb_printf(&b, "half-open for %s%s, %u SYN/ACK retransmit%s: ",
			  a->age_at_least ? "at least " : "", age, a->syn_retrans,
			  a->syn_retrans == 1 ? "" : "s");
		sb_printf(&b, "%s", peer && *peer ? peer : "the SYN/ACK is not answered by the client");
		return;
	}
	sb_printf(&b, "%s for %s%s", sname(a->state), a->age_at_least ? "at least " : "", age);
	switch (a->state) {
	case TCPFSM_SYN_SENT:
		sb_printf(&b, ", %u SYN retransmit%s", a->syn_retrans, a->syn_retrans == 1 ? "" : "s");
		if (a->evidence & TCPFSM_EV_ICMP)
			sb_printf(&b, ", ICMP errors: a router or the peer rejects the SYN");
		else
			sb_printf(&b, ", no answer: the SYN or the SYN/ACK is being dropped on the way");
		if (peer && *peer)
			sb_printf(&b, "; %s", peer);
		break;
	case TCPFSM_SYN_RECV:
		sb_printf(&b, ": the handshake's last ACK does not arrive");
		break;
	case TCPFSM_CLOSE_WAIT:
		sb_printf(&b, ": the peer closed %s%s ago; %s has not called close()",
			  a->age_at_least ? "at least " : "", age, owner);
		if (a->fd >= 0)
			sb_printf(&b, " (fd %d, socket inode %u)", a->fd, a->ino);
		else if (a->ino)
			sb_printf(&b, " (socket inode %u)", a->ino);
		break;
	case TCPFSM_LAST_ACK:
		sb_printf(&b, ": both sides closed, our FIN is not acknowledged: the peer is gone or "
			      "the path drops packets");
		break;
	case TCPFSM_FIN_WAIT1:
		sb_printf(&b, ": our FIN is not acknowledged: the peer is unreachable, or it does not "
			      "read and its window is closed");
		break;
	case TCPFSM_FIN_WAIT2:
		sb_printf(&b, ": the peer acknowledged our FIN but has not closed its side: the peer "
			      "application has not called close()");
		break;
	case TCPFSM_CLOSING:
		sb_printf(&b, ": both sides closed at once and the last ACK is missing");
		break;
	case TCPFSM_ESTABLISHED:
		sb_printf(&b, ": open longer than the threshold");
		break;
	default:
		break;
	}
}

/* --- rate limiting: per (state, remote endpoint) for connects, else (state, owner) --- */

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
	} else if (a->half_open) {
		memcpy(buf + n, &a->netns, 4);
		n += 4;
		memcpy(buf + n, &a->sport, 2);
		n += 2;
	} else {
		memcpy(buf + n, &a->pid, 4);
		n += 4;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ buf[i]) * 1099511628211ULL;
	return h | 1;
}

/*
 * Tokens are counted in parts of 1/TOKEN: at rate tokens a minute a bucket
 * gains rate parts a nanosecond, in integers, so that refills at any sweep
 * period add up exactly (in floating point six sixths of a token at 10 a
 * minute fall short of one). RATE_MAX (--alert-rate's bound) keeps a full
 * bucket within 64 bits.
 */
#define TOKEN (60 * SEC)
#define RATE_MAX 1000000ULL

/* May this group report one more alert now? */
static bool take_token(struct alert_engine *ae, struct group *g)
{
	uint64_t rate = ae->cfg.rate < RATE_MAX ? ae->cfg.rate : RATE_MAX;
	uint64_t full = rate * TOKEN, dt;

	if (!g->refill_ns) {
		g->tokens = full;
	} else if (ae->now_ns > g->refill_ns) {
		dt = ae->now_ns - g->refill_ns;
		/* a minute fills any bucket; below that dt * rate fits */
		g->tokens = dt >= TOKEN ? full : g->tokens + dt * rate;
		if (g->tokens > full)
			g->tokens = full;
	}
	g->refill_ns = ae->now_ns;
	if (g->tokens < TOKEN)
		return false;
	g->tokens -= TOKEN;
	return true;
}

/* Report a firing or resolved alert, or fold it into its group's aggregate. */
static bool report(struct alert_engine *ae, struct alert *a, bool was_reported)
{
	struct group *g = otab_get(&ae->groups, group_key(a), true);
	char peer[160] = "";

	if (a->status == ALERT_RESOLVED) {
		/* resolutions follow their firing: reported or folded alike */
		if (!was_reported) {
			if (g)
				g->suppressed_resolved++;
			return false;
		}
	} else if (g && !take_token(ae, g)) {
		g->suppressed_firing++;
		g->example = *a;
		ae->st.suppressed++;
		return false;
	}
	if (a->status == ALERT_FIRING) {
		if (ae->fd_lookup && a->owner && a->ino && a->state == TCPFSM_CLOSE_WAIT)
			a->fd = ae->fd_lookup(a->pid, a->ino);
		peer_words(ae, a, peer, sizeof(peer));
	}
	alert_diagnose(a, peer);
	ae->fn(ae->ctx, a);
	return true;
}

static void from_conn(struct alert *a, const struct conn *c, int state, uint64_t now)
{
	uint64_t enter = c->enter_ns[c->npath ? c->npath - 1 : 0];

	memset(a, 0, sizeof(*a));
	a->state = state;
	a->time_ns = now;
	a->age_ns = enter && now > enter ? now - enter : 0;
	a->age_at_least = (c->flags & CONN_FIRST_LOWER) && c->npath == 1;
	a->cookie = c->cookie;
	a->cgroup_id = c->cgroup_id;
	a->pid = c->pid;
	a->netns = c->netns;
	a->ino = c->ino;
	a->fd = -1;
	a->owner = c->flags & CONN_OWNER;
	memcpy(a->comm, c->comm, sizeof(a->comm));
	a->family = c->family;
	memcpy(a->saddr, c->saddr, 16);
	memcpy(a->daddr, c->daddr, 16);
	a->sport = c->sport;
	a->dport = c->dport;
	a->syn_retrans = c->syn_retrans;
	a->evidence = c->evidence;
}

static void from_half(struct alert *a, const struct halfopen *h, uint64_t now)
{
	memset(a, 0, sizeof(*a));
	a->state = TCPFSM_SYN_RECV;
	a->half_open = true;
	a->time_ns = now;
	a->age_ns = now > h->enter_ns ? now - h->enter_ns : 0;
	a->age_at_least = h->at_least;
	a->cookie = h->cookie;
	a->cgroup_id = h->cgroup_id;
	a->pid = h->pid;
	a->netns = h->netns;
	a->fd = -1;
	a->owner = h->owner;
	memcpy(a->comm, h->comm, sizeof(a->comm));
	a->family = h->family;
	memcpy(a->saddr, h->saddr, 16);
	memcpy(a->daddr, h->daddr, 16);
	a->sport = h->sport;
	a->dport = h->dport;
	a->syn_retrans = h->syn_retrans;
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

/* --- half-open requests --- */

static void half_update(struct alert_engine *ae, const struct tcpfsm_event *e)
{
	struct halfopen *h = otab_get(&ae->half, e->cookie, true);
	bool fresh;

	if (!h)
		return;
	fresh = !h->netns && !h->enter_ns;
	h->gen = ae->gen;
	if (fresh) {
		h->netns = e->netns;
		h->family = e->family;
		memcpy(h->saddr, e->saddr, 16);
		memcpy(h->daddr, e->daddr, 16);
		h->sport = e->sport;
		h->dport = e->dport;
		if (e->old_duration_ns != TCPFSM_DURATION_UNKNOWN && e->old_duration_ns < e->ts_ns) {
			h->enter_ns = e->ts_ns - e->old_duration_ns;
		} else {
			h->enter_ns = e->ts_ns;
			h->at_least = true;
		}
	}
	if (e->syn_retrans > h->syn_retrans)
		h->syn_retrans = e->syn_retrans;
	if (e->flags & TCPFSM_F_OWNER) {
		h->owner = true;
		h->pid = e->pid;
		h->cgroup_id = e->cgroup_id;
		memcpy(h->comm, e->comm, sizeof(h->comm));
	}
	ae->st.half_open = ae->half.n;
}

static void half_end(struct alert_engine *ae, struct halfopen *h, int to, const char *why)
{
	struct alert a;

	if (h->alert_flags) {
		from_half(&a, h, ae->now_ns);
		a.to_state = to;
		a.resolution = why;
		resolve(ae, &a, h->alert_flags);
	}
	otab_del(&ae->half, h);
	ae->st.half_open = ae->half.n;
}

/* A child was born: the request with its 4-tuple completed its handshake. */
static void half_completed(struct alert_engine *ae, const struct tcpfsm_event *e)
{
	struct halfopen *h;

	OTAB_FOREACH(&ae->half, h)
	{
		if (h->netns == e->netns && h->sport == e->sport && h->dport == e->dport &&
		    addr_eq(h->family, h->saddr, e->saddr) && addr_eq(h->family, h->daddr, e->daddr)) {
			half_end(ae, h, TCPFSM_SYN_RECV, "the handshake completed");
			return;
		}
	}
}

void alert_engine__requests_begin(struct alert_engine *ae)
{
	ae->gen++;
}

void alert_engine__requests_end(struct alert_engine *ae, uint64_t now_ns)
{
	struct halfopen *h;
	uint64_t *gone;
	size_t n = 0;

	if (now_ns > ae->now_ns)
		ae->now_ns = now_ns;
	if (!ae->half.n)
		return;
	/* deleting shifts entries: collect first, then delete one by one */
	gone = malloc(ae->half.n * sizeof(*gone));
	if (!gone)
		return;
	OTAB_FOREACH(&ae->half, h)
	{
		if (h->gen != ae->gen)
			gone[n++] = h->cookie;
	}
	for (size_t i = 0; i < n; i++) {
		h = otab_get(&ae->half, gone[i], false);
		if (h)
			half_end(ae, h, 0, "the request is gone (expired or reset)");
	}
	free(gone);
}

/* --- records and sweeps --- */

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

int alert_engine__apply(struct alert_engine *ae, struct conntab *tab, const struct tcpfsm_event *e,
			conn_emit_fn conn_emit, void *conn_ctx)
{
	struct emit_through through = { ae, e->cookie, conn_emit, conn_ctx };
	struct conn before, *c;
	bool alerted = false;
	int err;

	ae->tab = tab;
	if (e->ts_ns > ae->now_ns)
		ae->now_ns = e->ts_ns;
	if (e->newstate == TCPFSM_NEW_SYN_RECV && e->kind != TCPFSM_KIND_TRANSITION) {
		half_update(ae, e);
		return 0;
	}
	if (e->kind == TCPFSM_KIND_TRANSITION && e->oldstate == TCPFSM_LISTEN &&
	    e->newstate == TCPFSM_SYN_RECV && ae->half.n)
		half_completed(ae, e);
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
	{
		struct alert a;

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
		/* a timewait entry too: its socket may connect again (a new
		 * life under the same cookie) and must not resolve twice */
		if (c) {
			c->alert = 0;
			c->alert_flags = 0;
		}
	}
	return 0;
}

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

/* Groups idle this long with nothing pending are forgotten: a group per
 * remote endpoint or owner that ever alerted would otherwise accumulate. */
#define GROUP_IDLE_NS (600 * SEC)

static void forget_idle_groups(struct alert_engine *ae)
{
	struct group *g;
	uint64_t *idle;
	size_t n = 0;

	if (!ae->groups.n)
		return;
	idle = malloc(ae->groups.n * sizeof(*idle));
	if (!idle)
		return;
	OTAB_FOREACH(&ae->groups, g)
	{
		if (!g->suppressed_firing && !g->suppressed_resolved &&
		    ae->now_ns > g->refill_ns + GROUP_IDLE_NS)
			idle[n++] = g->key;
	}
	for (size_t i = 0; i < n; i++) {
		g = otab_get(&ae->groups, idle[i], false);
		if (g)
			otab_del(&ae->groups, g);
	}
	free(idle);
}

static void flush_aggregates(struct alert_engine *ae)
{
	struct group *g;

	OTAB_FOREACH(&ae->groups, g)
	{
		for (int k = 0; k < 2; k++) {
			uint32_t *n = k ? &g->suppressed_resolved : &g->suppressed_firing;
			char ep[64], comm[TCPFSM_COMM_LEN];
			struct alert a;
			struct sbuf b;

			if (!*n)
				continue;
			a = g->example;
			a.aggregate = true;
			a.count = *n;
			a.status = k ? ALERT_RESOLVED : ALERT_FIRING;
			a.time_ns = ae->now_ns;
			sb_init(&b, a.diagnosis, sizeof(a.diagnosis));
			sb_printf(&b, "%u more %s %s alert%s", *n, a.half_open ? "half-open" : sname(a.state),
				  k ? "resolved" : "firing", *n == 1 ? "" : "s");
			if (a.state == TCPFSM_SYN_SENT) {
				format_endpoint(ep, sizeof(ep), a.family, a.daddr, a.dport);
				sb_printf(&b, " toward %s", ep);
			} else if (a.half_open) {
				sb_printf(&b, " on port %u", a.sport);
			} else if (a.owner) {
				sb_printf(&b, " of process %u (%s)", a.pid, safe_comm(comm, a.comm));
			}
			sb_printf(&b, " (rate limit: %u per group per minute)", ae->cfg.rate);
			ae->fn(ae->ctx, &a);
			*n = 0;
		}
	}
}

void alert_engine__sweep(struct alert_engine *ae, struct conntab *tab, uint64_t now_ns)
{
	struct sweep_ctx s = { ae, now_ns };
	uint64_t thr = ae->cfg.threshold_ns[TCPFSM_SYN_RECV];
	struct halfopen *h;

	ae->tab = tab;
	if (now_ns > ae->now_ns)
		ae->now_ns = now_ns;
	conntab__foreach(tab, sweep_conn, &s);
	if (thr) {
		OTAB_FOREACH(&ae->half, h)
		{
			struct alert a;

			if (h->alert_flags || now_ns < h->enter_ns || now_ns - h->enter_ns < thr)
				continue;
			from_half(&a, h, now_ns);
			fire(ae, &a, &h->alert_flags);
		}
	}
	flush_aggregates(ae);
	forget_idle_groups(ae);
	ae->st.groups = ae->groups.n;
}

/* --- formatting --- */

int format_alert_text(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o)
{
	int64_t ns = fmt_realtime(a->time_ns, o->boot_to_real_ns);
	time_t sec = ns / 1000000000LL;
	char l[64], r[64], comm[TCPFSM_COMM_LEN];
	struct sbuf b;
	struct tm tm;
	size_t i;

	sb_init(&b, buf, len);
	localtime_r(&sec, &tm);
	sb_printf(&b, "%02d:%02d:%02d %-8s %-11s ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		  a->status == ALERT_FIRING ? "FIRING" : "RESOLVED",
		  a->half_open ? "HALF-OPEN" : sname(a->state));
	if (a->aggregate) {
		sb_printf(&b, "%s\n", a->diagnosis);
		return b.pos;
	}
	for (i = 0; i < TCPFSM_COMM_LEN - 1 && a->comm[i]; i++)
		comm[i] = (a->comm[i] >= 0x20 && a->comm[i] < 0x7f) ? a->comm[i] : '?';
	comm[i] = 0;
	format_endpoint(l, sizeof(l), a->family, a->saddr, a->sport);
	format_endpoint(r, sizeof(r), a->family, a->daddr, a->dport);
	if (a->owner)
		sb_printf(&b, "pid %u %s ", a->pid, comm);
	else
		sb_printf(&b, "pid - ");
	sb_printf(&b, "%s -> %s: %s\n", l, r, a->diagnosis);
	return b.pos;
}

int format_alert_json(char *buf, size_t len, const struct alert *a, const struct fmt_opts *o)
{
	char t[48], s[6 * TCPFSM_COMM_LEN + 3], addr[64], diag[6 * sizeof(a->diagnosis) + 3];
	struct sbuf b;

	sb_init(&b, buf, len);
	format_rfc3339(t, sizeof(t), fmt_realtime(a->time_ns, o->boot_to_real_ns));
	sb_printf(&b, "{\"type\":\"alert\",\"time\":\"%s\",\"status\":\"%s\",\"state\":\"%s\",", t,
		  a->status == ALERT_FIRING ? "firing" : "resolved", sname(a->state));
	sb_printf(&b, "\"half_open\":%s,", a->half_open ? "true" : "false");
	if (a->aggregate)
		sb_printf(&b, "\"aggregate\":true,\"count\":%u,", a->count);
	sb_printf(&b, "\"age_ns\":%llu,\"age_at_least\":%s,\"threshold_ns\":%llu,",
		  (unsigned long long)a->age_ns, a->age_at_least ? "true" : "false",
		  (unsigned long long)a->threshold_ns);
	sb_printf(&b, "\"cookie\":%llu,", (unsigned long long)a->cookie);
	if (a->owner) {
		format_json_string(s, sizeof(s), a->comm, TCPFSM_COMM_LEN);
		sb_printf(&b, "\"pid\":%u,\"comm\":%s,", a->pid, s);
	} else {
		sb_printf(&b, "\"pid\":null,\"comm\":null,");
	}
	sb_printf(&b, "\"family\":\"%s\",", a->family == TCPFSM_AF_INET ? "ipv4" : "ipv6");
	format_addr(addr, sizeof(addr), a->family, a->saddr);
	sb_printf(&b, "\"saddr\":\"%s\",\"sport\":%u,", addr, a->sport);
	format_addr(addr, sizeof(addr), a->family, a->daddr);
	sb_printf(&b, "\"daddr\":\"%s\",\"dport\":%u,\"netns\":%u,", addr, a->dport, a->netns);
	if (a->fd >= 0)
		sb_printf(&b, "\"fd\":%d,", a->fd);
	else
		sb_printf(&b, "\"fd\":null,");
	sb_printf(&b, "\"ino\":%u,\"syn_retransmits\":%u,\"rst_received\":%s,\"icmp_error\":%s,",
		  a->ino, a->syn_retrans, (a->evidence & TCPFSM_EV_RST_RECV) ? "true" : "false",
		  (a->evidence & TCPFSM_EV_ICMP) ? "true" : "false");
	if (a->status == ALERT_RESOLVED && !a->aggregate)
		sb_printf(&b, "\"to\":%s%s%s,", a->to_state ? "\"" : "",
			  a->to_state ? sname(a->to_state) : "null", a->to_state ? "\"" : "");
	format_json_string(diag, sizeof(diag), a->diagnosis, sizeof(a->diagnosis));
	sb_printf(&b, "\"diagnosis\":%s}\n", diag);
	return b.pos;
}
