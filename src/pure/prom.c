// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pure/duration.h"
#include "pure/prom.h"
#include "pure/sbuf.h"
#include "pure/state.h"

/* states that have gauges: all but the kernel-internal NEW_SYN_RECV */
static const int states[] = {
	TCPFSM_LISTEN,	    TCPFSM_SYN_SENT,   TCPFSM_SYN_RECV,	 TCPFSM_ESTABLISHED,
	TCPFSM_FIN_WAIT1,   TCPFSM_FIN_WAIT2,  TCPFSM_CLOSING,	 TCPFSM_TIME_WAIT,
	TCPFSM_CLOSE_WAIT, TCPFSM_LAST_ACK,   TCPFSM_CLOSE,
};
#define NSTATES (sizeof(states) / sizeof(states[0]))

int prom_seconds(char *buf, size_t len, uint64_t ns)
{
	char frac[16];
	int n;

	snprintf(frac, sizeof(frac), "%09llu", (unsigned long long)(ns % 1000000000ULL));
	for (n = 8; n >= 0 && frac[n] == '0'; n--)
		frac[n] = 0;
	if (!frac[0])
		return snprintf(buf, len, "%llu", (unsigned long long)(ns / 1000000000ULL));
	return snprintf(buf, len, "%llu.%s", (unsigned long long)(ns / 1000000000ULL), frac);
}

static void sb_escape(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_printf(b, "\\\\");
		else if (*s == '"')
			sb_printf(b, "\\\"");
		else if (*s == '\n')
			sb_printf(b, "\\n");
		else
			sb_putc(b, *s);
	}
}

int prom_escape(char *buf, size_t len, const char *s)
{
	struct sbuf b;

	sb_init(&b, buf, len);
	sb_escape(&b, s);
	return b.pos;
}

uint64_t hist_boundary_at_least(uint64_t ns)
{
	unsigned int b;

	if (ns <= hist_bucket_lo(1))
		return hist_bucket_lo(1);
	if (ns >= hist_bucket_lo(TCPFSM_HIST_BUCKETS - 1))
		return hist_bucket_lo(TCPFSM_HIST_BUCKETS - 1);
	b = tcpfsm_hist_bucket(ns);
	return hist_bucket_lo(b) == ns ? ns : hist_bucket_lo(b + 1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int prom_parse_buckets(const char *spec, uint64_t *out, size_t max, char *err, size_t errlen)
{
	char *copy = strdup(spec), *save = NULL, *w;
	size_t n = 0, k = 0;

	if (!copy)
		return -ENOMEM;
	for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		uint64_t ns;

		if (duration_parse(w, &ns) || !ns) {
			snprintf(err, errlen, "bad --buckets '%s': '%s' is not a positive duration",
				 spec, w);
			free(copy);
			return -EINVAL;
		}
		if (n == max) {
			snprintf(err, errlen, "bad --buckets '%s': at most %zu", spec, max);
			free(copy);
			return -EINVAL;
		}
		out[n++] = hist_boundary_at_least(ns);
	}
	free(copy);
	if (!n) {
		snprintf(err, errlen, "bad --buckets '%s': no durations", spec);
		return -EINVAL;
	}
	qsort(out, n, sizeof(*out), cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (!k || out[i] != out[k - 1])
			out[k++] = out[i];
	return k;
}

size_t prom_default_buckets(uint64_t *out, size_t max)
{
	size_t n = 0;

	/* 1.25 * 2^13 ns = 10.24 µs, then x4 for 15 bounds (to 45.8 min), and
	 * the kernel's first boundary above 1 h (1.75 * 2^41 ns = 64.1 min) */
	for (uint64_t b = 10240; n < 15 && n < max; b *= 4)
		out[n++] = b;
	if (n < max)
		out[n++] = hist_boundary_at_least(3600ULL * 1000000000ULL);
	return n;
}

static void labels_state(struct sbuf *b, const char *metric, int st)
{
	sb_printf(b, "%s{state=\"%s\"}", metric, state_name(st));
}

int prom_format(char *buf, size_t len, const struct prom_input *in)
{
	char v[64];
	struct sbuf b;
	size_t i;

	sb_init(&b, buf, len);

	sb_printf(&b, "# HELP tcpfsm_state_duration_seconds Time connections spent in a state "
		      "before leaving it.\n# TYPE tcpfsm_state_duration_seconds histogram\n");
	for (i = 0; i < NSTATES; i++) {
		const struct tcpfsm_hist *h = &in->hists->state[states[i]];
		const char *sn = state_name(states[i]);
		uint64_t cum = 0;
		unsigned int fine = 0;

		if (!h->count)
			continue;
		for (size_t k = 0; k < in->nbuckets; k++) {
			unsigned int upto = tcpfsm_hist_bucket(in->buckets_ns[k]);

			/* every fine bucket below the boundary: values < le */
			for (; fine < upto; fine++)
				cum += h->buckets[fine];
			prom_seconds(v, sizeof(v), in->buckets_ns[k]);
			sb_printf(&b, "tcpfsm_state_duration_seconds_bucket{state=\"%s\",le=\"%s\"} %llu\n",
				  sn, v, (unsigned long long)cum);
		}
		sb_printf(&b, "tcpfsm_state_duration_seconds_bucket{state=\"%s\",le=\"+Inf\"} %llu\n", sn,
			  (unsigned long long)h->count);
		prom_seconds(v, sizeof(v), h->sum_ns);
		sb_printf(&b, "tcpfsm_state_duration_seconds_sum{state=\"%s\"} %s\n", sn, v);
		sb_printf(&b, "tcpfsm_state_duration_seconds_count{state=\"%s\"} %llu\n", sn,
			  (unsigned long long)h->count);
	}

	sb_printf(&b, "# HELP tcpfsm_transitions_total TCP state transitions seen.\n"
		      "# TYPE tcpfsm_transitions_total counter\n");
	for (int f = 1; f < TCPFSM_STATE_MAX; f++)
		for (int t = 1; t < TCPFSM_STATE_MAX; t++)
			if (in->hists->transitions[f][t])
				sb_printf(&b, "tcpfsm_transitions_total{from=\"%s\",to=\"%s\"} %llu\n",
					  state_name(f), state_name(t),
					  (unsigned long long)in->hists->transitions[f][t]);

	sb_printf(&b, "# HELP tcpfsm_connections Sockets by state as of tcpfsm's last count "
		      "(TIME_WAIT: timewait sockets).\n# TYPE tcpfsm_connections gauge\n");
	for (i = 0; i < NSTATES; i++) {
		labels_state(&b, "tcpfsm_connections", states[i]);
		sb_printf(&b, " %u\n", in->connections[states[i]]);
	}
	sb_printf(&b, "# HELP tcpfsm_stuck_connections Connections with a firing alert, by state "
		      "(SYN_RECV includes half-open requests).\n"
		      "# TYPE tcpfsm_stuck_connections gauge\n");
	for (i = 0; i < NSTATES; i++) {
		labels_state(&b, "tcpfsm_stuck_connections", states[i]);
		sb_printf(&b, " %u\n", in->stuck[states[i]]);
	}
	sb_printf(&b, "# HELP tcpfsm_alerts_total Alerts fired, by state.\n"
		      "# TYPE tcpfsm_alerts_total counter\n");
	for (i = 0; i < NSTATES; i++) {
		labels_state(&b, "tcpfsm_alerts_total", states[i]);
		sb_printf(&b, " %llu\n", (unsigned long long)in->alerts_total[states[i]]);
	}
	sb_printf(&b, "# HELP tcpfsm_events_total State transitions the kernel reported.\n"
		      "# TYPE tcpfsm_events_total counter\ntcpfsm_events_total %llu\n",
		  (unsigned long long)in->events_total);
	sb_printf(&b, "# HELP tcpfsm_events_lost_total Transitions not delivered: the ring "
		      "buffer was full (histograms and transition counts still include them), or, "
		      "with no filter set, the kernel skipped tcpfsm's program.\n"
		      "# TYPE tcpfsm_events_lost_total counter\ntcpfsm_events_lost_total %llu\n",
		  (unsigned long long)in->events_lost);
	sb_printf(&b, "# HELP tcpfsm_drops_total TCP segments the kernel dropped, by drop reason "
		      "(its enum skb_drop_reason) and segment kind.\n"
		      "# TYPE tcpfsm_drops_total counter\n");
	for (i = 0; i < in->ndrops; i++) {
		sb_printf(&b, "tcpfsm_drops_total{reason=\"");
		sb_escape(&b, in->drops[i].reason);
		sb_printf(&b, "\",segment=\"");
		sb_escape(&b, in->drops[i].segment ? in->drops[i].segment : "");
		sb_printf(&b, "\"} %llu\n", (unsigned long long)in->drops[i].count);
	}
	sb_printf(&b, "# HELP tcpfsm_listen_drops_total SYNs dropped before any socket existed for "
		      "them, by reason (TCP_LISTEN_OVERFLOW: counted by the listeners themselves).\n"
		      "# TYPE tcpfsm_listen_drops_total counter\n");
	for (i = 0; i < in->nlisten_drops; i++) {
		sb_printf(&b, "tcpfsm_listen_drops_total{reason=\"");
		sb_escape(&b, in->listen_drops[i].reason);
		sb_printf(&b, "\"} %llu\n", (unsigned long long)in->listen_drops[i].count);
	}
	/* escaped straight into the output: a scratch buffer would cut a long
	 * value, possibly inside an escape (a dangling \ eats the quote) */
	sb_printf(&b, "# HELP tcpfsm_build_info tcpfsm's version and how it attached.\n"
		      "# TYPE tcpfsm_build_info gauge\n"
		      "tcpfsm_build_info{version=\"");
	sb_escape(&b, in->version ? in->version : "");
	sb_printf(&b, "\",attach=\"");
	sb_escape(&b, in->mode ? in->mode : "");
	sb_printf(&b, "\"} 1\n");
	return b.pos;
}
