// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pure/duration.h"
#include "pure/format.h"
#include "pure/histogram.h"
#include "pure/sbuf.h"
#include "pure/state.h"

#define B TCPFSM_HIST_BUCKETS

uint64_t hist_bucket_lo(unsigned int b)
{
	unsigned int msb, sub;

	if (b == 0)
		return 0;
	if (b >= B - 1)
		return 1ULL << TCPFSM_HIST_MAX_SHIFT;
	msb = (b - 1) / TCPFSM_HIST_SUBS + TCPFSM_HIST_MIN_SHIFT;
	sub = (b - 1) % TCPFSM_HIST_SUBS;
	return (1ULL << msb) + (uint64_t)sub * (1ULL << (msb - TCPFSM_HIST_SUB_BITS));
}

uint64_t hist_bucket_hi(unsigned int b)
{
	if (b >= B - 1)
		return UINT64_MAX;
	return hist_bucket_lo(b + 1);
}

/* The largest value bucket b holds: the last one holds UINT64_MAX too. */
static uint64_t bucket_top(unsigned int b)
{
	return b >= B - 1 ? UINT64_MAX : hist_bucket_hi(b) - 1;
}

void hist_add(struct tcpfsm_hist *h, uint64_t ns)
{
	h->buckets[tcpfsm_hist_bucket(ns)]++;
	if (!h->count || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->count++;
	h->sum_ns += ns;
}

void hist_merge(struct tcpfsm_hist *dst, const struct tcpfsm_hist *src)
{
	if (src->count) {
		if (!dst->count || src->min_ns < dst->min_ns)
			dst->min_ns = src->min_ns;
		if (src->max_ns > dst->max_ns)
			dst->max_ns = src->max_ns;
	}
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	dst->unknown += src->unknown;
	for (int i = 0; i < B; i++)
		dst->buckets[i] += src->buckets[i];
}

void hist_delta(struct tcpfsm_hist *out, const struct tcpfsm_hist *cur,
		const struct tcpfsm_hist *prev)
{
	int first = -1, last = -1;

	memset(out, 0, sizeof(*out));
	out->count = cur->count - prev->count;
	out->sum_ns = cur->sum_ns - prev->sum_ns;
	out->unknown = cur->unknown - prev->unknown;
	for (int i = 0; i < B; i++) {
		out->buckets[i] = cur->buckets[i] - prev->buckets[i];
		if (out->buckets[i]) {
			if (first < 0)
				first = i;
			last = i;
		}
	}
	if (first >= 0) {
		out->min_ns = hist_bucket_lo(first);
		out->max_ns = bucket_top(last);
		if (out->min_ns < cur->min_ns)
			out->min_ns = cur->min_ns;
		if (out->max_ns > cur->max_ns)
			out->max_ns = cur->max_ns;
	}
}

uint64_t hist_quantile(const struct tcpfsm_hist *h, double q)
{
	uint64_t rank, seen = 0, lo, top, off;
	int i;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min_ns;
	if (q >= 1)
		return h->max_ns;
	/* the smallest value with at least q of the samples at or below it */
	rank = (uint64_t)(q * h->count);
	if ((double)rank < q * h->count)
		rank++;
	if (!rank)
		rank = 1;
	for (i = 0; i < B; i++) {
		if (seen + h->buckets[i] >= rank)
			break;
		seen += h->buckets[i];
	}
	if (i == B)
		return h->max_ns;
	/* inclusive bounds: max_ns + 1 would wrap at UINT64_MAX */
	lo = hist_bucket_lo(i);
	top = bucket_top(i);
	if (lo < h->min_ns)
		lo = h->min_ns;
	if (top > h->max_ns)
		top = h->max_ns;
	if (top <= lo)
		return lo;
	/* the rank-th sample among this bucket's, spread evenly over [lo, top + 1)
	 * (top - lo + 1 does not wrap: lo >= 2^48 in the last bucket) */
	off = (uint64_t)((double)(top - lo + 1) * (double)(rank - seen) /
			 (double)(h->buckets[i] + 1));
	return lo + (off > top - lo ? top - lo : off);
}

static const char *sname(int s)
{
	const char *n = state_name(s);

	return n ? n : "UNKNOWN";
}

static void sb_dur(struct sbuf *b, uint64_t ns)
{
	char d[32];

	duration_format(d, sizeof(d), ns);
	sb_printf(b, "%s", d);
}

static void summary_line(struct sbuf *b, const struct hist_row *r)
{
	const struct tcpfsm_hist *h = r->h;

	sb_printf(b, "%s", sname(r->state));
	if (r->by) {
		/* a comm is any bytes: printable ASCII only, as trace and history
		 * show it on a terminal */
		char key[sizeof(r->key)];

		comm_printable(key, sizeof(key), r->key);
		/* --by port: say what the number is */
		if (!strcmp(r->by, "port") && strcmp(key, "other"))
			sb_printf(b, " port %s (service)", key);
		else
			sb_printf(b, " %s=%s", r->by, key);
	}
	sb_printf(b, ": %llu", (unsigned long long)h->count);
	if (h->unknown)
		sb_printf(b, " (+%llu untimed: entered before tracing)", (unsigned long long)h->unknown);
	if (!h->count) {
		sb_printf(b, "\n");
		return;
	}
	sb_printf(b, "  min ");
	sb_dur(b, h->min_ns);
	sb_printf(b, "  p50 ");
	sb_dur(b, hist_quantile(h, 0.5));
	sb_printf(b, "  p90 ");
	sb_dur(b, hist_quantile(h, 0.9));
	sb_printf(b, "  p99 ");
	sb_dur(b, hist_quantile(h, 0.99));
	sb_printf(b, "  max ");
	sb_dur(b, h->max_ns);
	sb_printf(b, "  mean ");
	sb_dur(b, h->sum_ns / h->count);
	sb_printf(b, "\n");
}

#define BAR_WIDTH 40

static int utf8_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

int format_hist_text(char *buf, size_t len, const struct hist_row *r)
{
	const struct tcpfsm_hist *h = r->h;
	uint64_t peak = 0;
	int first = -1, last = -1;
	struct sbuf b;

	sb_init(&b, buf, len);
	summary_line(&b, r);
	for (int i = 0; i < B; i++) {
		if (!h->buckets[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (h->buckets[i] > peak)
			peak = h->buckets[i];
	}
	if (first < 0)
		return b.pos;
	sb_printf(&b, "  %-23s : %-9s distribution\n", "in state", "count");
	for (int i = first; i <= last; i++) {
		char lo[32], hi[32], range[80];
		int stars = (int)((h->buckets[i] * BAR_WIDTH + peak - 1) / peak);

		duration_format(lo, sizeof(lo), hist_bucket_lo(i));
		if (i == B - 1)
			snprintf(range, sizeof(range), "[%s, ...)", lo);
		else {
			duration_format(hi, sizeof(hi), hist_bucket_hi(i));
			snprintf(range, sizeof(range), "[%s, %s)", lo, hi);
		}
		/* pad by characters, not bytes: "µ" is two bytes */
		sb_printf(&b, "  %s%*s : %-9llu |%.*s%*s|\n", range, 23 - utf8_width(range), "",
			  (unsigned long long)h->buckets[i], stars,
			  "****************************************", BAR_WIDTH - stars, "");
	}
	return b.pos;
}

int format_hist_json(char *buf, size_t len, const struct hist_row *r, int64_t time_ns,
		     uint64_t interval_ns, bool cumulative)
{
	const struct tcpfsm_hist *h = r->h;
	struct sbuf b;
	char t[48], key[6 * TCPFSM_COMM_LEN + 16];
	bool first = true;

	sb_init(&b, buf, len);
	sb_printf(&b, "{\"type\":\"histogram\"");
	if (time_ns) {
		format_rfc3339(t, sizeof(t), time_ns);
		sb_printf(&b, ",\"time\":\"%s\",\"interval_ns\":%llu,\"cumulative\":%s", t,
			  (unsigned long long)interval_ns, cumulative ? "true" : "false");
	}
	sb_printf(&b, ",\"state\":\"%s\"", sname(r->state));
	if (r->by) {
		if (r->key_is_string)
			format_json_string(key, sizeof(key), r->key, sizeof(r->key));
		else
			snprintf(key, sizeof(key), "%s", r->key);
		sb_printf(&b, ",\"by\":\"%s\",\"key\":%s", r->by, key);
	}
	sb_printf(&b, ",\"count\":%llu,\"unknown\":%llu,\"sum_ns\":%llu",
		  (unsigned long long)h->count, (unsigned long long)h->unknown,
		  (unsigned long long)h->sum_ns);
	if (h->count)
		sb_printf(&b,
			  ",\"min_ns\":%llu,\"max_ns\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,"
			  "\"p99_ns\":%llu",
			  (unsigned long long)h->min_ns, (unsigned long long)h->max_ns,
			  (unsigned long long)hist_quantile(h, 0.5),
			  (unsigned long long)hist_quantile(h, 0.9),
			  (unsigned long long)hist_quantile(h, 0.99));
	else
		sb_printf(&b, ",\"min_ns\":null,\"max_ns\":null,\"p50_ns\":null,\"p90_ns\":null,"
			      "\"p99_ns\":null");
	sb_printf(&b, ",\"buckets\":[");
	for (int i = 0; i < B; i++) {
		if (!h->buckets[i])
			continue;
		if (i == B - 1)
			sb_printf(&b, "%s{\"le_ns\":null,\"count\":%llu}", first ? "" : ",",
				  (unsigned long long)h->buckets[i]);
		else
			sb_printf(&b, "%s{\"le_ns\":%llu,\"count\":%llu}", first ? "" : ",",
				  (unsigned long long)(hist_bucket_hi(i) - 1),
				  (unsigned long long)h->buckets[i]);
		first = false;
	}
	sb_printf(&b, "]}\n");
	return b.pos;
}

void hist_set_init(struct hist_set *s, enum tcpfsm_by by, uint32_t limit)
{
	memset(s, 0, sizeof(*s));
	s->by = by;
	s->limit = limit;
}

void hist_set_free(struct hist_set *s)
{
	free(s->keyed);
	s->keyed = NULL;
	s->nkeyed = 0;
}

void hist_set_reset(struct hist_set *s)
{
	enum tcpfsm_by by = s->by;
	uint32_t limit = s->limit;

	hist_set_free(s);
	hist_set_init(s, by, limit);
}

struct tcpfsm_hist *hist_set_keyed(struct hist_set *s, const struct tcpfsm_hist_key *key,
				   bool create)
{
	struct hist_keyed *k;

	for (uint32_t i = 0; i < s->nkeyed; i++)
		if (!memcmp(&s->keyed[i].key, key, sizeof(*key)))
			return &s->keyed[i].h;
	if (!create || s->nkeyed >= s->limit)
		return NULL;
	k = realloc(s->keyed, (s->nkeyed + 1) * sizeof(*k));
	if (!k)
		return NULL;
	s->keyed = k;
	memset(&k[s->nkeyed], 0, sizeof(*k));
	k[s->nkeyed].key = *key;
	return &k[s->nkeyed++].h;
}

static void add_or_unknown(struct tcpfsm_hist *h, const struct tcpfsm_event *e)
{
	if (e->old_duration_ns == TCPFSM_DURATION_UNKNOWN)
		h->unknown++;
	else
		hist_add(h, e->old_duration_ns);
}

int hist_set_account(struct hist_set *s, const struct tcpfsm_event *e)
{
	struct tcpfsm_hist_key key = { .state = e->oldstate };
	struct tcpfsm_hist *h;

	if (e->kind != TCPFSM_KIND_TRANSITION || e->oldstate >= TCPFSM_STATE_MAX ||
	    e->newstate >= TCPFSM_STATE_MAX)
		return 0;
	/* as the kernel does: a self-transition (X -> X, close() after
	 * shutdown()) leaves nothing; the time in X goes on */
	if (e->oldstate == e->newstate) {
		s->same_state++;
		return 0;
	}
	s->transitions[e->oldstate][e->newstate]++;
	/* as the kernel does: births are no time spent in the old state */
	if ((e->oldstate == TCPFSM_LISTEN && e->newstate == TCPFSM_SYN_RECV) ||
	    (e->oldstate == TCPFSM_CLOSE && e->old_duration_ns == TCPFSM_DURATION_UNKNOWN))
		return 0;
	add_or_unknown(&s->state[e->oldstate], e);
	if (s->by == TCPFSM_BY_NONE)
		return 0;
	if (s->by == TCPFSM_BY_LPORT)
		key.num = e->sport;
	else if (s->by == TCPFSM_BY_RPORT)
		key.num = e->dport;
	else if (s->by == TCPFSM_BY_CGROUP)
		key.num = e->cgroup_id;
	else if (s->by == TCPFSM_BY_PORT)
		key.num = tcpfsm_service_port(e);
	else
		memcpy(key.comm, e->comm, sizeof(key.comm));
	h = hist_set_keyed(s, &key, true);
	if (!h) {
		s->by_other++;
		h = &s->other[e->oldstate];
	}
	add_or_unknown(h, e);
	return 0;
}

int hist_set_copy(struct hist_set *dst, const struct hist_set *src)
{
	struct hist_keyed *k = NULL;

	if (src->nkeyed) {
		k = malloc(src->nkeyed * sizeof(*k));
		if (!k)
			return -ENOMEM;
		memcpy(k, src->keyed, src->nkeyed * sizeof(*k));
	}
	hist_set_free(dst);
	*dst = *src;
	dst->keyed = k;
	return 0;
}

int hist_set_delta(struct hist_set *out, const struct hist_set *cur, const struct hist_set *prev)
{
	static const struct tcpfsm_hist zero;

	hist_set_reset(out);
	out->by = cur->by;
	out->limit = cur->limit;
	for (int i = 0; i < TCPFSM_STATE_MAX; i++) {
		hist_delta(&out->state[i], &cur->state[i], &prev->state[i]);
		hist_delta(&out->other[i], &cur->other[i], &prev->other[i]);
		for (int j = 0; j < TCPFSM_STATE_MAX; j++)
			out->transitions[i][j] = cur->transitions[i][j] - prev->transitions[i][j];
	}
	out->by_other = cur->by_other - prev->by_other;
	out->same_state = cur->same_state - prev->same_state;
	for (uint32_t i = 0; i < cur->nkeyed; i++) {
		const struct tcpfsm_hist *p =
			hist_set_keyed((struct hist_set *)prev, &cur->keyed[i].key, false);
		struct tcpfsm_hist *o = hist_set_keyed(out, &cur->keyed[i].key, true);

		if (!o)
			return -ENOMEM;
		hist_delta(o, &cur->keyed[i].h, p ? p : &zero);
	}
	return 0;
}

static const char *const by_names[] = {
	[TCPFSM_BY_NONE] = "none",   [TCPFSM_BY_LPORT] = "lport",   [TCPFSM_BY_RPORT] = "rport",
	[TCPFSM_BY_COMM] = "comm",   [TCPFSM_BY_CGROUP] = "cgroup", [TCPFSM_BY_PORT] = "port",
};

const char *hist_by_name(enum tcpfsm_by by)
{
	return by <= TCPFSM_BY_PORT ? by_names[by] : "?";
}

int hist_by_parse(const char *s)
{
	for (int i = TCPFSM_BY_LPORT; i <= TCPFSM_BY_PORT; i++)
		if (!strcmp(s, by_names[i]))
			return i;
	return -EINVAL;
}

static int print_row(const struct hist_row *r, bool json, int64_t time_ns, uint64_t interval_ns,
		     bool cumulative, int (*out)(void *, const char *, size_t), void *ctx)
{
	/* a full text table: about 80 bytes a bucket */
	static char buf[256 + TCPFSM_HIST_BUCKETS * 96];
	int n;

	/* text shows what has a distribution; JSON also the untimed counts */
	if (!r->h->count && (!json || !r->h->unknown))
		return 0;
	n = json ? format_hist_json(buf, sizeof(buf), r, time_ns, interval_ns, cumulative) :
		   format_hist_text(buf, sizeof(buf), r);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	return out(ctx, buf, n);
}

/* A key of one state, to order the printing by. */
struct key_order {
	uint64_t total;	/* its transitions, timed or not */
	uint32_t i;	/* index into keyed[] */
};

/* most transitions first; equal counts in the order the keys came */
static int cmp_key_order(const void *a, const void *b)
{
	const struct key_order *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* ord[] = the keys of state st, sorted (cmp_key_order); returns how many. */
static uint32_t keys_by_count(const struct hist_set *s, int st, struct key_order *ord)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->nkeyed; i++)
		if (s->keyed[i].key.state == (uint32_t)st)
			ord[n++] = (struct key_order){ s->keyed[i].h.count + s->keyed[i].h.unknown, i };
	qsort(ord, n, sizeof(*ord), cmp_key_order);
	return n;
}

int hist_set_print(const struct hist_set *s, bool json, int64_t time_ns, uint64_t interval_ns,
		   bool cumulative, int (*out)(void *ctx, const char *buf, size_t n), void *ctx)
{
	struct hist_row r = {};
	struct key_order *idx = NULL;
	uint32_t n;
	int err = 0;

	/* in the order a connection lives them */
	static const int order[] = {
		TCPFSM_LISTEN,	  TCPFSM_SYN_SENT,   TCPFSM_NEW_SYN_RECV, TCPFSM_SYN_RECV,
		TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, TCPFSM_FIN_WAIT2,    TCPFSM_CLOSING,
		TCPFSM_TIME_WAIT, TCPFSM_CLOSE_WAIT, TCPFSM_LAST_ACK,    TCPFSM_CLOSE,
	};

	if (s->nkeyed) {
		idx = malloc(s->nkeyed * sizeof(*idx));
		if (!idx)
			return -ENOMEM;
	}
	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]) && !err; o++) {
		int st = order[o];

		r.state = st;
		r.by = NULL;
		r.h = &s->state[st];
		err = print_row(&r, json, time_ns, interval_ns, cumulative, out, ctx);
		if (err || s->by == TCPFSM_BY_NONE)
			continue;
		r.by = hist_by_name(s->by);
		n = idx ? keys_by_count(s, st, idx) : 0;
		for (uint32_t j = 0; j < n && !err; j++) {
			const struct hist_keyed *k = &s->keyed[idx[j].i];

			r.key_is_string = s->by == TCPFSM_BY_COMM;
			if (r.key_is_string)
				snprintf(r.key, sizeof(r.key), "%.*s", TCPFSM_COMM_LEN, k->key.comm);
			else
				snprintf(r.key, sizeof(r.key), "%llu", (unsigned long long)k->key.num);
			r.h = &k->h;
			err = print_row(&r, json, time_ns, interval_ns, cumulative, out, ctx);
		}
		if (err)
			continue;
		r.key_is_string = true;
		snprintf(r.key, sizeof(r.key), "other");
		r.h = &s->other[st];
		err = print_row(&r, json, time_ns, interval_ns, cumulative, out, ctx);
	}
	free(idx);
	return err;
}
