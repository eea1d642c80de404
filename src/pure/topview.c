// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pure/duration.h"
#include "pure/format.h"
#include "pure/sbuf.h"
#include "pure/state.h"
#include "pure/topview.h"

/* The states that get stuck, in the order of the header. */
static const int header_states[] = {
	TCPFSM_LISTEN,	   TCPFSM_SYN_SENT,  TCPFSM_SYN_RECV,   TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1,
	TCPFSM_FIN_WAIT2, TCPFSM_CLOSING,   TCPFSM_TIME_WAIT, TCPFSM_CLOSE_WAIT,  TCPFSM_LAST_ACK,
};

static bool stuck_state(int s)
{
	return s == TCPFSM_SYN_SENT || s == TCPFSM_SYN_RECV || s == TCPFSM_CLOSE_WAIT ||
	       s == TCPFSM_LAST_ACK || s == TCPFSM_FIN_WAIT1 || s == TCPFSM_FIN_WAIT2 ||
	       s == TCPFSM_CLOSING;
}

static const char *short_name(int s)
{
	const char *n = state_name(s);

	return n ? n : "?";
}

const char *top_sort_name(enum top_sort s)
{
	static const char *const n[] = { "age", "state", "pid", "comm" };

	return s < TOP_SORT_MAX ? n[s] : "?";
}

int top_filter_parse(struct top_filter *f, const char *s)
{
	struct top_filter n = {};
	unsigned long v;
	char *end;
	int st;

	if (!*s) {
		*f = n;
		return 0;
	}
	if (!strncmp(s, "state=", 6)) {
		st = state_parse(s + 6);
		if (st < 0)
			return -EINVAL;
		n.state_mask = 1u << st;
	} else if (!strncmp(s, "port=", 5)) {
		v = strtoul(s + 5, &end, 10);
		if (!s[5] || *end || !v || v > 65535)
			return -EINVAL;
		n.port = v;
	} else if (!strncmp(s, "comm=", 5)) {
		if (!s[5] || strlen(s + 5) >= TCPFSM_COMM_LEN)
			return -EINVAL;
		strcpy(n.comm, s + 5);
	} else {
		return -EINVAL;
	}
	*f = n;
	return 0;
}

struct row {
	const struct conn *c;
	uint64_t age;
};

struct collect {
	const struct top_input *in;
	struct row *rows;
	size_t n, cap;
};

static bool passes(const struct top_filter *f, const struct conn *c)
{
	if (!f)
		return true;
	if (f->state_mask && !(f->state_mask & (1u << c->state)))
		return false;
	if (f->port && c->sport != f->port && c->dport != f->port)
		return false;
	if (f->comm[0] && (!(c->flags & CONN_OWNER) ||
			   strncmp(c->comm, f->comm, TCPFSM_COMM_LEN)))
		return false;
	return true;
}

static bool collect(void *ctx, struct conn *c)
{
	struct collect *k = ctx;
	uint64_t enter = c->npath ? c->enter_ns[c->npath - 1] : 0;

	if (!stuck_state(c->state) || !passes(k->in->filter, c))
		return true;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		struct row *r = realloc(k->rows, cap * sizeof(*r));

		if (!r)
			return false;
		k->rows = r;
		k->cap = cap;
	}
	k->rows[k->n].c = c;
	k->rows[k->n++].age = enter && k->in->now_ns > enter ? k->in->now_ns - enter : 0;
	return true;
}

static enum top_sort sort_key;

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int d = 0;

	switch (sort_key) {
	case TOP_SORT_STATE:
		d = strcmp(short_name(x->c->state), short_name(y->c->state));
		break;
	case TOP_SORT_PID:
		d = (x->c->pid > y->c->pid) - (x->c->pid < y->c->pid);
		break;
	case TOP_SORT_COMM:
		d = strncmp(x->c->comm, y->c->comm, TCPFSM_COMM_LEN);
		break;
	default:
		break;
	}
	if (d)
		return d;
	/* then the oldest first; then by cookie for a stable order */
	if (x->age != y->age)
		return x->age < y->age ? 1 : -1;
	return (x->c->cookie > y->c->cookie) - (x->c->cookie < y->c->cookie);
}

/* Characters in s: UTF-8 continuation bytes do not count (µ is two bytes). */
static int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

struct screen {
	struct sbuf b;
	int width;
	bool ascii;
};

/* Append s cut to the screen width (counted in characters); on an ASCII
 * screen µ (U+00B5, two bytes) becomes u. */
static void line(struct screen *sc, const char *s)
{
	int w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && *p != '\n'; p++) {
		if ((*p & 0xc0) != 0x80 && ++w > sc->width)
			break;
		if (sc->ascii && p[0] == 0xc2 && p[1] == 0xb5) {
			sb_putc(&sc->b, 'u');
			p++;
			continue;
		}
		sb_putc(&sc->b, *p);
	}
	sb_putc(&sc->b, '\n');
}

int top_render(char *buf, size_t len, const struct top_input *in)
{
	uint32_t counts[TCPFSM_STATE_MAX];
	struct collect k = { in };
	char l[512], d[32], tm[16], ep1[64], ep2[64], comm[TCPFSM_COMM_LEN];
	int64_t real = (int64_t)in->now_ns + in->boot_to_real_ns;
	time_t sec = real / 1000000000LL;
	int lines = 0, width = in->width > 0 ? in->width : 80;
	struct screen sc = { .width = width, .ascii = in->ascii };
	uint32_t firing = 0;
	bool narrow;
	struct tm t;
	size_t i, pos;

	sb_init(&sc.b, buf, len);
	conntab__count_states(in->tab, counts);
	if (in->alerts)
		counts[TCPFSM_SYN_RECV] += in->alerts->half_open;
	for (i = 0; in->alerts && i < TCPFSM_STATE_MAX; i++)
		firing += in->alerts->firing[i];
	localtime_r(&sec, &t);
	strftime(tm, sizeof(tm), "%H:%M:%S", &t);
	snprintf(l, sizeof(l), "tcpfsm top - %s  %.0f transitions/s  %llu lost  %u alert%s firing%s",
		 tm, in->transitions_per_s, (unsigned long long)in->lost, firing, firing == 1 ? "" : "s",
		 in->paused ? "  [paused]" : "");
	line(&sc, l);
	lines++;
	pos = 0;
	l[0] = 0;
	for (i = 0; i < sizeof(header_states) / sizeof(header_states[0]); i++) {
		char item[40];
		int n = snprintf(item, sizeof(item), "%s %u", short_name(header_states[i]),
				 counts[header_states[i]]);

		if (pos && pos + 2 + n > (size_t)width) {
			line(&sc, l);
			lines++;
			pos = 0;
			l[0] = 0;
		}
		pos += snprintf(l + pos, sizeof(l) - pos, "%s%s", pos ? "  " : "", item);
	}
	line(&sc, l);
	lines++;
	line(&sc, "");
	lines++;

	/* the per-state summary: p50/p99 of the time spent in each state */
	if (in->hists) {
		int cols = 0; /* of l, in characters */

		pos = 0;
		l[0] = 0;
		for (i = 0; i < sizeof(header_states) / sizeof(header_states[0]); i++) {
			const struct tcpfsm_hist *h = &in->hists->state[header_states[i]];
			char item[96], p50[32], p99[32];
			int n;

			if (!h->count)
				continue;
			duration_format(p50, sizeof(p50), hist_quantile(h, 0.5));
			duration_format(p99, sizeof(p99), hist_quantile(h, 0.99));
			snprintf(item, sizeof(item), "%s p50 %s p99 %s",
				 short_name(header_states[i]), p50, p99);
			n = text_width(item);
			if (pos && cols + 3 + n > width) {
				line(&sc, l);
				lines++;
				pos = 0;
				cols = 0;
				l[0] = 0;
			}
			cols += (pos ? 3 : 0) + n;
			pos += snprintf(l + pos, sizeof(l) - pos, "%s%s", pos ? " | " : "", item);
		}
		if (pos) {
			line(&sc, l);
			line(&sc, "");
			lines += 2;
		}
	}

	/*
	 * Full width: ... LOCAL REMOTE EVIDENCE (110 columns for IPv4). Below
	 * that the evidence, which says why a row is there, moves ahead of the
	 * endpoints in a short form, and the local side shows only its port.
	 */
	narrow = width < TOP_FULL_WIDTH;
	if (narrow)
		snprintf(l, sizeof(l), "%-9s %-11s %-7s %-15s %-11s %-6s %s", "AGE", "STATE",
			 "PID", "COMM", "EVIDENCE", "LPORT", "REMOTE");
	else
		snprintf(l, sizeof(l), "%-9s %-11s %-7s %-15s %-21s %-21s %s", "AGE", "STATE",
			 "PID", "COMM", "LOCAL", "REMOTE", "EVIDENCE");
	line(&sc, l);
	lines++;
	conntab__foreach(in->tab, collect, &k);
	sort_key = in->sort;
	if (k.n) /* no rows: k.rows is NULL, which qsort must not get */
		qsort(k.rows, k.n, sizeof(*k.rows), cmp_rows);
	for (i = 0; i < k.n; i++, lines++) {
		const struct conn *c = k.rows[i].c;
		bool at_least = (c->flags & CONN_FIRST_LOWER) && c->npath == 1;
		char pid[16], ev[48] = "";
		int pad;

		/* keep the last line for "... N more", unless this row is the last */
		if (in->height && lines >= in->height - (i + 1 < k.n))
			break;
		duration_format(d, sizeof(d), k.rows[i].age);
		format_endpoint(ep1, sizeof(ep1), c->family, c->saddr, c->sport);
		format_endpoint(ep2, sizeof(ep2), c->family, c->daddr, c->dport);
		if (c->flags & CONN_OWNER) {
			snprintf(pid, sizeof(pid), "%u", c->pid);
			comm_printable(comm, sizeof(comm), c->comm);
		} else {
			strcpy(pid, "-");
			strcpy(comm, "-");
		}
		if (c->syn_retrans)
			snprintf(ev, sizeof(ev), narrow ? "%urtx" : "%u SYN rtx", c->syn_retrans);
		if (c->alert)
			snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev), "%sALERT",
				 !ev[0] ? "" : narrow ? " " : ", ");
		/* the age padded to 9 characters, not bytes: µ is two */
		pad = (at_least ? 7 : 9) - text_width(d);
		if (narrow)
			snprintf(l, sizeof(l), "%s%s%*s %-11s %-7s %-15s %-11s :%-5u %s",
				 at_least ? ">=" : "", d, pad > 0 ? pad : 0, "",
				 short_name(c->state), pid, comm, ev, c->sport, ep2);
		else
			snprintf(l, sizeof(l), "%s%s%*s %-11s %-7s %-15s %-21s %-21s %s",
				 at_least ? ">=" : "", d, pad > 0 ? pad : 0, "",
				 short_name(c->state), pid, comm, ep1, ep2, ev);
		line(&sc, l);
	}
	if (i < k.n) {
		snprintf(l, sizeof(l), "... %zu more", k.n - i);
		line(&sc, l);
	}
	free(k.rows);
	return sc.b.pos;
}
