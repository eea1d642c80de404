/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TCPFSM_HISTOGRAM_H
#define TCPFSM_HISTOGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpfsm.h"

/*
 * State-duration histograms (struct tcpfsm_hist, include/tcpfsm.h): bucket
 * math, merging per-CPU copies, interval deltas, quantiles and formatting.
 * Pure: driven by the kernel's maps or by replayed events alike.
 */

/* Bucket b holds [lo, hi): lo of bucket 0 is 0, hi of the last is UINT64_MAX. */
uint64_t hist_bucket_lo(unsigned int b);
uint64_t hist_bucket_hi(unsigned int b);

void hist_add(struct tcpfsm_hist *h, uint64_t ns);
void hist_merge(struct tcpfsm_hist *dst, const struct tcpfsm_hist *src);
/* cur - prev (prev an earlier read of the same histogram). min/max of the
 * interval are not kept by the kernel: they are its buckets' bounds, clamped
 * to the cumulative min/max. */
void hist_delta(struct tcpfsm_hist *out, const struct tcpfsm_hist *cur,
		const struct tcpfsm_hist *prev);

/*
 * The q-quantile (0 < q <= 1): the bucket holding the rank, interpolated
 * linearly inside it and clamped to [min, max]. The true quantile is in the
 * same bucket, so the error is at most one bucket's width: 25% of the value
 * (1.02 µs below 1.02 µs). 0 for an empty histogram.
 */
uint64_t hist_quantile(const struct tcpfsm_hist *h, double q);

/* One histogram and its label (state, --by key). */
struct hist_row {
	int state;
	const char *by;		/* "lport", ...; NULL without --by */
	char key[TCPFSM_COMM_LEN + 8]; /* "443", "nginx", "other" */
	bool key_is_string;	/* comm and "other": a JSON string */
	const struct tcpfsm_hist *h;
};

/* biolatency-style table with bars, preceded by a summary line. */
int format_hist_text(char *buf, size_t len, const struct hist_row *r);
/*
 * type "histogram" (README): count, sum, min, max, p50/p90/p99 and the
 * non-empty buckets as {le_ns, count} (le_ns inclusive: the bucket holds
 * integer nanoseconds up to it). time_ns/interval_ns: wall time and
 * length of an interval (-i), 0 for totals.
 */
int format_hist_json(char *buf, size_t len, const struct hist_row *r, int64_t time_ns,
		     uint64_t interval_ns, bool cumulative);

/* --- a set of histograms: by state, and by (state, key) with a cap --- */

struct hist_keyed {
	struct tcpfsm_hist_key key;
	struct tcpfsm_hist h;
};

struct hist_set {
	enum tcpfsm_by by;
	uint32_t limit;		/* keyed histograms kept; the rest go to other */
	struct tcpfsm_hist state[TCPFSM_STATE_MAX];
	struct tcpfsm_hist other[TCPFSM_STATE_MAX];
	struct hist_keyed *keyed;
	uint32_t nkeyed;
	uint64_t by_other;	/* transitions counted under other */
	uint64_t same_state;	/* self-transitions (X -> X): in no histogram */
	uint64_t transitions[TCPFSM_STATE_MAX][TCPFSM_STATE_MAX];
};

void hist_set_init(struct hist_set *s, enum tcpfsm_by by, uint32_t limit);
void hist_set_free(struct hist_set *s);
void hist_set_reset(struct hist_set *s); /* zero, keep by/limit */
/* Account one transition as the kernel does (replay). -ENOMEM or 0. */
int hist_set_account(struct hist_set *s, const struct tcpfsm_event *e);
/* The keyed histogram for key (created zeroed if absent and under the
 * limit; NULL if the limit is reached). */
struct tcpfsm_hist *hist_set_keyed(struct hist_set *s, const struct tcpfsm_hist_key *key,
				   bool create);
/* dst = a deep copy of src. -ENOMEM or 0. */
int hist_set_copy(struct hist_set *dst, const struct hist_set *src);
/* out = cur - prev, key by key (keys new in cur count from zero). */
int hist_set_delta(struct hist_set *out, const struct hist_set *cur, const struct hist_set *prev);

/* "lport" etc., and parsing it (-EINVAL). */
const char *hist_by_name(enum tcpfsm_by by);
int hist_by_parse(const char *s);

/*
 * Print every non-empty histogram of the set (text or JSON lines) through
 * out(ctx, buf, n). Returns 0 or the first non-zero out() result.
 */
int hist_set_print(const struct hist_set *s, bool json, int64_t time_ns, uint64_t interval_ns,
		   bool cumulative, int (*out)(void *ctx, const char *buf, size_t n), void *ctx);

#endif
