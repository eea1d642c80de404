/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_PROM_H
#define TCPFSM_PROM_H

#include <stddef.h>
#include <stdint.h>
#include "pure/histogram.h"

/*
 * Prometheus text exposition (format 0.0.4). Pure: everything it prints is
 * in struct prom_input. No address, port or cookie ever becomes a label.
 */

#define PROM_MAX_BUCKETS 32

/* A counter sample by reason (and segment kind, for drops). */
struct prom_count {
	const char *reason;
	const char *segment;	/* NULL: no segment label */
	uint64_t count;
};

struct prom_input {
	const struct hist_set *hists;		/* kernel totals: histograms, transitions */
	const uint32_t *connections;		/* [TCPFSM_STATE_MAX] sockets, last count */
	const uint32_t *stuck;			/* [TCPFSM_STATE_MAX] alerts firing now */
	const uint64_t *alerts_total;		/* [TCPFSM_STATE_MAX] */
	uint64_t events_total, events_lost;
	const uint64_t *buckets_ns;		/* exported le bounds, increasing */
	size_t nbuckets;
	const char *version, *mode;
	/* tcpfsm_drops_total{reason,segment}: TCP drops seen (bounded: the
	 * kernel's reasons by six kinds of segment); NULL: none tracked */
	const struct prom_count *drops;
	size_t ndrops;
	/* tcpfsm_listen_drops_total{reason}: SYNs dropped before any socket */
	const struct prom_count *listen_drops;
	size_t nlisten_drops;
};

/* snprintf-style. */
int prom_format(char *buf, size_t len, const struct prom_input *in);

/* ns as exact decimal seconds, no exponent: 10240 -> "0.00001024". */
int prom_seconds(char *buf, size_t len, uint64_t ns);
/* A label value escaped per the text format (\\, \", \n). */
int prom_escape(char *buf, size_t len, const char *s);

/*
 * Export boundaries: a comma-separated list of durations ("10us,1ms,1s"),
 * each rounded up to the nearest boundary of the kernel's buckets so the
 * exported counts are exact; sorted, duplicates removed. Returns the count
 * or -EINVAL with a message.
 */
int prom_parse_buckets(const char *spec, uint64_t *out, size_t max, char *err, size_t errlen);
/* The default: 16 bounds, one every 4x, from 10.24µs to about an hour. */
size_t prom_default_buckets(uint64_t *out, size_t max);
/* Smallest kernel bucket boundary >= ns (2^48 ns at most). */
uint64_t hist_boundary_at_least(uint64_t ns);

#endif
