// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * State-duration histograms: the bucket math of include/tcpfsm.h at every
 * boundary, merging per-CPU copies, interval deltas, quantiles against the
 * exact ones of seeded sample sets (the documented error bound), text and
 * JSON against exact strings, the keyed set (--by, its limit, copies,
 * deltas, print order), and the committed recording tests/data/exchange.tfr
 * replayed into a golden file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pure/histogram.h"
#include "sys/record.h"
#include "support.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define B TCPFSM_HIST_BUCKETS
#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL
#define MICRO "\xc2\xb5" /* µ */

/* 2026-11-27T15:00:00.123456789Z */
#define WALL_NS (1795791600LL * 1000000000LL + 123456789LL)

/* uniform in [0, 1) */
static double xs_unit(uint64_t *s)
{
	return (double)(xs_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* uniform in (0, 1] */
static double xs_unit_nz(uint64_t *s)
{
	return (double)((xs_next(s) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

/* 2^x for 0 <= x < 63, without libm: the integer part as a shift, the
 * fraction by exp's series */
static double exp2_frac(double x)
{
	int k = (int)x;
	double y = (x - k) * 0.69314718055994530942, term = 1, sum = 1;

	for (int i = 1; i < 30; i++) {
		term *= y / i;
		sum += term;
	}
	return sum * (double)(1ULL << k);
}

/* --- helpers --- */

static struct tcpfsm_hist *hist_new(void)
{
	struct tcpfsm_hist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	return h;
}

static void add_all(struct tcpfsm_hist *h, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hist_add(h, v[i]);
}

/* the obvious way */
static unsigned int msb_loop(uint64_t v)
{
	unsigned int r = 0;

	while (v >>= 1)
		r++;
	return r;
}

/* the characters (not bytes) of s up to its first " : " */
static int chars_before_colon(const char *s, size_t n)
{
	int w = 0;

	for (size_t i = 0; i + 2 < n; i++) {
		if (s[i] == ' ' && s[i + 1] == ':' && s[i + 2] == ' ')
			return w;
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	}
	return -1;
}

/* characters of the line at s (up to '\n') */
static int line_chars(const char *s, size_t *bytes)
{
	int w = 0;
	size_t i;

	for (i = 0; s[i] && s[i] != '\n'; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	*bytes = i;
	return w;
}

/* Each line of buf a valid JSON object with its newline. */
static void assert_json_lines(const char *buf)
{
	const char *p = buf;

	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[8192];

		assert_non_null(nl);
		assert_true((size_t)(nl - p + 1) < sizeof(line));
		memcpy(line, p, nl - p + 1);
		line[nl - p + 1] = 0;
		if (!json_line_ok(line))
			fail_msg("not one JSON object: %s", line);
		p = nl + 1;
	}
}

/* hist_set_print's out() into a growing string */
struct capture {
	char *p;
	size_t len, cap;
	int calls;
	int fail_at; /* return -EPIPE on this call (1-based), 0: never */
};

static int capture_out(void *ctx, const char *buf, size_t n)
{
	struct capture *c = ctx;

	c->calls++;
	if (c->fail_at && c->calls == c->fail_at)
		return -EPIPE;
	assert_int_equal(strlen(buf), n); /* NUL-terminated, n bytes */
	if (c->len + n + 1 > c->cap) {
		c->cap = (c->len + n + 1) * 2;
		c->p = realloc(c->p, c->cap);
		assert_non_null(c->p);
	}
	memcpy(c->p + c->len, buf, n);
	c->len += n;
	c->p[c->len] = 0;
	return 0;
}

/* the "state" (and "key") values of every JSON line, as "STATE[=key] ..." */
static void json_labels(const char *s, char *out, size_t len)
{
	size_t pos = 0;

	out[0] = 0;
	for (const char *p = s; (p = strstr(p, "\"state\":\"")); ) {
		const char *k, *nl = strchr(p, '\n');
		int n;

		p += 9;
		n = snprintf(out + pos, len - pos, "%s%.*s", pos ? " " : "",
			     (int)strcspn(p, "\""), p);
		pos += n;
		k = strstr(p, "\"key\":");
		if (k && (!nl || k < nl)) {
			k += 6;
			n = snprintf(out + pos, len - pos, "=%.*s", (int)strcspn(k, ","), k);
			pos += n;
		}
		assert_true(pos < len);
	}
}

/* --- bucket math (include/tcpfsm.h) --- */

static void test_msb(void **unused)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;

	assert_int_equal(tcpfsm_msb(1), 0);
	assert_int_equal(tcpfsm_msb(2), 1);
	assert_int_equal(tcpfsm_msb(3), 1);
	assert_int_equal(tcpfsm_msb(1023), 9);
	assert_int_equal(tcpfsm_msb(1024), 10);
	assert_int_equal(tcpfsm_msb(UINT64_MAX), 63);
	for (int k = 0; k < 64; k++) {
		uint64_t p = 1ULL << k;

		assert_int_equal(tcpfsm_msb(p), k);
		assert_int_equal(tcpfsm_msb(p | (p - 1)), k);
		if (k)
			assert_int_equal(tcpfsm_msb(p - 1), k - 1);
		if (k < 63)
			assert_int_equal(tcpfsm_msb(p + 1), k ? k : 1);
	}
	/* random values of every magnitude */
	for (int i = 0; i < 200000; i++) {
		uint64_t v = xs_next(&s) >> (i % 64);

		if (!v)
			continue;
		if (tcpfsm_msb(v) != msb_loop(v))
			fail_msg("tcpfsm_msb(%llu) = %u, want %u", (unsigned long long)v,
				 tcpfsm_msb(v), msb_loop(v));
	}
}

static void test_bucket_fixed_points(void **unused)
{
	/* README: 154 buckets per state */
	assert_int_equal(B, 154);
	assert_int_equal(tcpfsm_hist_bucket(0), 0);
	assert_int_equal(tcpfsm_hist_bucket(1), 0);
	assert_int_equal(tcpfsm_hist_bucket(1023), 0);
	assert_int_equal(tcpfsm_hist_bucket(1024), 1);
	assert_int_equal(tcpfsm_hist_bucket(1025), 1);
	assert_int_equal(tcpfsm_hist_bucket(1279), 1);
	assert_int_equal(tcpfsm_hist_bucket(1280), 2);
	assert_int_equal(tcpfsm_hist_bucket(1535), 2);
	assert_int_equal(tcpfsm_hist_bucket(1536), 3);
	assert_int_equal(tcpfsm_hist_bucket(1791), 3);
	assert_int_equal(tcpfsm_hist_bucket(1792), 4);
	assert_int_equal(tcpfsm_hist_bucket(2047), 4);
	assert_int_equal(tcpfsm_hist_bucket(2048), 5);
	assert_int_equal(tcpfsm_hist_bucket(2559), 5);
	assert_int_equal(tcpfsm_hist_bucket(2560), 6);
	assert_int_equal(tcpfsm_hist_bucket((1ULL << 48) - 1), 152);
	assert_int_equal(tcpfsm_hist_bucket(1ULL << 48), 153);
	assert_int_equal(tcpfsm_hist_bucket((1ULL << 48) + 1), 153);
	assert_int_equal(tcpfsm_hist_bucket(1ULL << 63), 153);
	assert_int_equal(tcpfsm_hist_bucket(UINT64_MAX - 1), 153);
	assert_int_equal(tcpfsm_hist_bucket(UINT64_MAX), 153);

	assert_int_equal(hist_bucket_lo(0), 0);
	assert_int_equal(hist_bucket_hi(0), 1024);
	assert_int_equal(hist_bucket_lo(1), 1024);
	assert_int_equal(hist_bucket_hi(1), 1280);
	assert_int_equal(hist_bucket_lo(2), 1280);
	assert_int_equal(hist_bucket_lo(3), 1536);
	assert_int_equal(hist_bucket_lo(4), 1792);
	assert_int_equal(hist_bucket_lo(5), 2048);
	assert_int_equal(hist_bucket_lo(6), 2560);
	assert_int_equal(hist_bucket_lo(152), (1ULL << 47) + 3 * (1ULL << 45));
	assert_int_equal(hist_bucket_hi(152), 1ULL << 48);
	assert_int_equal(hist_bucket_lo(153), 1ULL << 48);
	assert_int_equal(hist_bucket_hi(153), UINT64_MAX);
	/* past the end: the last bucket's bounds */
	assert_int_equal(hist_bucket_lo(154), 1ULL << 48);
	assert_int_equal(hist_bucket_hi(154), UINT64_MAX);
}

/* Every power of two from 2^10 to 2^48, each sub-bucket's lower bound, and
 * the values either side of them. */
static void test_bucket_powers_and_subs(void **unused)
{
	for (int k = TCPFSM_HIST_MIN_SHIFT; k <= TCPFSM_HIST_MAX_SHIFT; k++) {
		uint64_t p = 1ULL << k;
		unsigned int first = (k - TCPFSM_HIST_MIN_SHIFT) * TCPFSM_HIST_SUBS + 1;

		if (k == TCPFSM_HIST_MAX_SHIFT) {
			assert_int_equal(tcpfsm_hist_bucket(p - 1), B - 2);
			assert_int_equal(tcpfsm_hist_bucket(p), B - 1);
			assert_int_equal(tcpfsm_hist_bucket(p + 1), B - 1);
			continue;
		}
		/* p - 1 is the top of the previous power's last sub-bucket (or bucket 0) */
		assert_int_equal(tcpfsm_hist_bucket(p - 1), first - 1);
		assert_int_equal(tcpfsm_hist_bucket(p), first);
		assert_int_equal(tcpfsm_hist_bucket(p + 1), first);
		for (unsigned int s = 0; s < TCPFSM_HIST_SUBS; s++) {
			uint64_t lo = p + s * (p >> TCPFSM_HIST_SUB_BITS);

			assert_int_equal(hist_bucket_lo(first + s), lo);
			assert_int_equal(tcpfsm_hist_bucket(lo), first + s);
			assert_int_equal(tcpfsm_hist_bucket(lo + 1), first + s);
			assert_int_equal(tcpfsm_hist_bucket(lo - 1), first + s - 1);
		}
	}
}

static void test_bucket_lo_hi_consistency(void **unused)
{
	uint64_t s = 42;

	for (unsigned int b = 0; b < B; b++) {
		uint64_t lo = hist_bucket_lo(b), hi = hist_bucket_hi(b);

		assert_true(lo < hi);
		assert_int_equal(tcpfsm_hist_bucket(lo), b);
		assert_int_equal(tcpfsm_hist_bucket(hi - 1), b);
		assert_int_equal(tcpfsm_hist_bucket(lo + (hi - lo) / 2), b);
		for (int i = 0; i < 100; i++)
			assert_int_equal(tcpfsm_hist_bucket(lo + xs_next(&s) % (hi - lo)), b);
		if (b < B - 1) {
			assert_int_equal(hi, hist_bucket_lo(b + 1));
			assert_int_equal(tcpfsm_hist_bucket(hi), b + 1);
		}
		if (b > 0)
			assert_int_equal(tcpfsm_hist_bucket(lo - 1), b - 1);
		/* at most 25% as wide as the lower bound (the last is open-ended) */
		if (b >= 1 && b < B - 1)
			assert_true((hi - lo) * 4 <= lo);
	}
	/* the bucket's exact width: a quarter of its power of two */
	assert_int_equal(hist_bucket_hi(1) - hist_bucket_lo(1), 256);
	assert_int_equal(hist_bucket_hi(5) - hist_bucket_lo(5), 512);
	assert_int_equal(hist_bucket_hi(152) - hist_bucket_lo(152), 1ULL << 45);
}

/* --- add, merge, delta --- */

static void test_add(void **unused)
{
	struct tcpfsm_hist *h = hist_new();

	hist_add(h, 5000);
	assert_int_equal(h->count, 1);
	assert_int_equal(h->sum_ns, 5000);
	assert_int_equal(h->min_ns, 5000);
	assert_int_equal(h->max_ns, 5000);
	assert_int_equal(h->buckets[tcpfsm_hist_bucket(5000)], 1);
	/* a zero duration is a sample like any other */
	hist_add(h, 0);
	assert_int_equal(h->min_ns, 0);
	hist_add(h, 7);
	assert_int_equal(h->min_ns, 0);
	hist_add(h, 1ULL << 50);
	assert_int_equal(h->count, 4);
	assert_int_equal(h->sum_ns, 5007 + (1ULL << 50));
	assert_int_equal(h->max_ns, 1ULL << 50);
	assert_int_equal(h->buckets[0], 2);
	assert_int_equal(h->buckets[B - 1], 1);
	assert_int_equal(h->unknown, 0);

	/* first sample 0 on a zeroed histogram */
	memset(h, 0, sizeof(*h));
	hist_add(h, 0);
	hist_add(h, 3);
	assert_int_equal(h->min_ns, 0);
	assert_int_equal(h->max_ns, 3);
	free(h);
}

/* Per-CPU copies (some empty: count 0, min_ns 0) merged == one histogram. */
static void test_merge_percpu(void **unused)
{
	enum { CPUS = 8 };
	struct tcpfsm_hist *cpu = calloc(CPUS, sizeof(*cpu));
	struct tcpfsm_hist *all = hist_new(), *sum = hist_new();
	uint64_t s = 7;

	assert_non_null(cpu);
	for (int i = 0; i < 5000; i++) {
		uint64_t v = 2000 + xs_next(&s) % (10 * SEC);
		/* CPUs 0, 3 and 7 stay empty: the first and last merged too */
		static const int use[] = { 1, 2, 4, 5, 6 };
		int c = use[xs_next(&s) % ARRAY_SIZE(use)];

		hist_add(&cpu[c], v);
		hist_add(all, v);
	}
	cpu[3].unknown = 4;
	cpu[5].unknown = 6;
	all->unknown = 10;
	for (int c = 0; c < CPUS; c++)
		hist_merge(sum, &cpu[c]);
	assert_memory_equal(sum, all, sizeof(*all));
	assert_true(sum->min_ns >= 2000);

	/* the minimum is on a CPU merged after empty ones */
	memset(cpu, 0, CPUS * sizeof(*cpu));
	memset(sum, 0, sizeof(*sum));
	hist_add(&cpu[6], 90000);
	hist_add(&cpu[6], 5000);
	hist_add(&cpu[2], 70000);
	hist_add(&cpu[2], 800000);
	for (int c = 0; c < CPUS; c++)
		hist_merge(sum, &cpu[c]);
	assert_int_equal(sum->count, 4);
	assert_int_equal(sum->sum_ns, 965000);
	assert_int_equal(sum->min_ns, 5000);
	assert_int_equal(sum->max_ns, 800000);

	/* all empty, only untimed: count 0, min/max 0, unknown summed */
	memset(cpu, 0, CPUS * sizeof(*cpu));
	memset(sum, 0, sizeof(*sum));
	cpu[1].unknown = 1;
	cpu[7].unknown = 2;
	for (int c = 0; c < CPUS; c++)
		hist_merge(sum, &cpu[c]);
	assert_int_equal(sum->count, 0);
	assert_int_equal(sum->unknown, 3);
	assert_int_equal(sum->min_ns, 0);
	assert_int_equal(sum->max_ns, 0);

	/* a sample of 0 ns is a real minimum */
	memset(cpu, 0, CPUS * sizeof(*cpu));
	memset(sum, 0, sizeof(*sum));
	hist_add(&cpu[4], 3000);
	hist_add(&cpu[5], 0);
	for (int c = 0; c < CPUS; c++)
		hist_merge(sum, &cpu[c]);
	assert_int_equal(sum->min_ns, 0);
	assert_int_equal(sum->max_ns, 3000);
	free(cpu);
	free(all);
	free(sum);
}

static void test_delta(void **unused)
{
	struct tcpfsm_hist *prev = hist_new(), *cur = hist_new(), *out = hist_new();
	struct tcpfsm_hist *only = hist_new();
	static const uint64_t before[] = { 1500, 40 * US, 3 * MS, 7 * SEC };
	static const uint64_t during[] = { 2100, 2200, 600 * US, 900 * US, 20 * MS };

	add_all(prev, before, ARRAY_SIZE(before));
	prev->unknown = 2;
	*cur = *prev;
	add_all(cur, during, ARRAY_SIZE(during));
	cur->unknown = 5;
	add_all(only, during, ARRAY_SIZE(during));
	hist_delta(out, cur, prev);
	assert_int_equal(out->count, 5);
	assert_int_equal(out->sum_ns, 2100 + 2200 + 600 * US + 900 * US + 20 * MS);
	assert_int_equal(out->unknown, 3);
	assert_memory_equal(out->buckets, only->buckets, sizeof(only->buckets));
	/* the bounds of the first and last non-empty buckets: [2048, 2560) and
	 * [16.8ms, 21.0ms) */
	assert_int_equal(out->min_ns, 2048);
	assert_int_equal(out->max_ns, (1ULL << 24) + (1ULL << 22) - 1);
	assert_int_equal(tcpfsm_hist_bucket(20 * MS), tcpfsm_hist_bucket(out->max_ns));

	/* clamped to the cumulative min and max when those are inside */
	memset(prev, 0, sizeof(*prev));
	memset(cur, 0, sizeof(*cur));
	hist_add(prev, 50 * US);
	*cur = *prev;
	hist_add(cur, 1100);
	hist_add(cur, 1200);
	hist_add(cur, 1250);
	hist_delta(out, cur, prev);
	assert_int_equal(out->count, 3);
	assert_int_equal(out->min_ns, 1100); /* not 1024 */
	assert_int_equal(out->max_ns, 1279);
	memset(prev, 0, sizeof(*prev));
	memset(cur, 0, sizeof(*cur));
	hist_add(cur, 5 * US);
	hist_add(cur, 300);
	hist_add(cur, 77777);
	hist_delta(out, cur, prev);
	assert_int_equal(out->min_ns, 300);  /* bucket 0's bound is 0 */
	assert_int_equal(out->max_ns, 77777); /* not 81919 */
	/* the open-ended last bucket: the cumulative max */
	hist_add(cur, 5ULL << 48);
	*prev = *cur;
	hist_add(cur, 3ULL << 48);
	hist_delta(out, cur, prev);
	assert_int_equal(out->count, 1);
	assert_int_equal(out->min_ns, 1ULL << 48);
	assert_int_equal(out->max_ns, 5ULL << 48);
	/* even for the largest value there is, min <= max */
	memset(prev, 0, sizeof(*prev));
	memset(cur, 0, sizeof(*cur));
	hist_add(cur, UINT64_MAX);
	hist_delta(out, cur, prev);
	assert_int_equal(out->count, 1);
	assert_int_equal(out->min_ns, UINT64_MAX);
	assert_int_equal(out->max_ns, UINT64_MAX);

	/* nothing new: all zero (untimed too) */
	hist_delta(out, cur, cur);
	memset(only, 0, sizeof(*only));
	assert_memory_equal(out, only, sizeof(*only));
	/* only untimed ones new */
	*prev = *cur;
	cur->unknown += 4;
	hist_delta(out, cur, prev);
	assert_int_equal(out->count, 0);
	assert_int_equal(out->unknown, 4);
	assert_int_equal(out->min_ns, 0);
	assert_int_equal(out->max_ns, 0);
	free(prev);
	free(cur);
	free(out);
	free(only);
}

/* --- quantiles --- */

static void test_quantile_edges(void **unused)
{
	struct tcpfsm_hist *h = hist_new();

	assert_int_equal(hist_quantile(h, 0.5), 0);
	assert_int_equal(hist_quantile(h, 0), 0);
	assert_int_equal(hist_quantile(h, 1), 0);
	h->unknown = 3;
	assert_int_equal(hist_quantile(h, 0.99), 0);

	/* one sample: every quantile is it */
	hist_add(h, 5000);
	assert_int_equal(hist_quantile(h, 0.01), 5000);
	assert_int_equal(hist_quantile(h, 0.5), 5000);
	assert_int_equal(hist_quantile(h, 0.99), 5000);
	memset(h, 0, sizeof(*h));
	hist_add(h, 0);
	assert_int_equal(hist_quantile(h, 0.5), 0);
	memset(h, 0, sizeof(*h));
	hist_add(h, 1ULL << 52);
	assert_int_equal(hist_quantile(h, 0.5), 1ULL << 52);

	/* q <= 0: min, q >= 1: max */
	hist_add(h, 3000);
	hist_add(h, 70000);
	assert_int_equal(hist_quantile(h, 0), 3000);
	assert_int_equal(hist_quantile(h, -1), 3000);
	assert_int_equal(hist_quantile(h, 1), 1ULL << 52);
	assert_int_equal(hist_quantile(h, 2), 1ULL << 52);
	free(h);
}

/* Hand-computed: the rank-th of the bucket's n samples at lo + width * r / (n + 1),
 * the bucket's bounds clamped to [min, max + 1). */
static void test_quantile_exact(void **unused)
{
	struct tcpfsm_hist *h = hist_new();
	uint64_t a, b;

	/* one bucket [2048, 2560), clamped to [2100, 2401): width 301 */
	add_all(h, (const uint64_t[]){ 2100, 2200, 2300, 2400 }, 4);
	assert_int_equal(hist_quantile(h, 0.25), 2160); /* rank 1: 2100 + 301/5 */
	assert_int_equal(hist_quantile(h, 0.5), 2220);	/* rank 2: 2100 + 602/5 */
	assert_int_equal(hist_quantile(h, 0.51), 2280); /* rank 3 */
	assert_int_equal(hist_quantile(h, 0.9), 2340);	/* rank 4: 2100 + 1204/5 */
	assert_int_equal(hist_quantile(h, 0.99), 2340);

	/* 1500 | 3000 x3 | 100000 */
	memset(h, 0, sizeof(*h));
	add_all(h, (const uint64_t[]){ 3000, 100000, 1500, 3000, 3000 }, 5);
	/* rank 1 in [1280, 1536) clamped to [1500, 1536): 1500 + 36/2 */
	assert_int_equal(hist_quantile(h, 0.2), 1518);
	/* rank 2 and 3: 1st and 2nd of 3 in [2560, 3072): 2560 + 512 * r / 4 */
	assert_int_equal(hist_quantile(h, 0.4), 2688);
	assert_int_equal(hist_quantile(h, 0.5), 2816);
	assert_int_equal(hist_quantile(h, 0.6), 2816);
	assert_int_equal(hist_quantile(h, 0.61), 2944);
	/* rank 5 in [98304, 114688) clamped to [98304, 100001): 98304 + 1697/2 */
	assert_int_equal(hist_quantile(h, 0.9), 99152);
	assert_int_equal(hist_quantile(h, 0.99), 99152);

	/* bucket 0: [0, 1024) clamped to [0, 1001) */
	memset(h, 0, sizeof(*h));
	add_all(h, (const uint64_t[]){ 0, 100, 1000 }, 3);
	assert_int_equal(hist_quantile(h, 0.5), 500); /* 1001 * 2 / 4 */
	assert_int_equal(hist_quantile(h, 0.1), 250);
	assert_int_equal(hist_quantile(h, 0.9), 750);

	/* the last bucket: [2^48, max + 1) */
	memset(h, 0, sizeof(*h));
	add_all(h, (const uint64_t[]){ 1ULL << 48, 1ULL << 49 }, 2);
	assert_int_equal(hist_quantile(h, 0.5), 375299968947541ULL); /* 2^48 + (2^48 + 1) / 3 */
	assert_int_equal(hist_quantile(h, 0.9), 469124961184427ULL); /* 2^48 + 2 (2^48 + 1) / 3 */

	/* the same at the very top: a max of UINT64_MAX is no different from
	 * UINT64_MAX - 1 (max + 1 must not wrap to 0) */
	memset(h, 0, sizeof(*h));
	add_all(h, (const uint64_t[]){ 1ULL << 48, UINT64_MAX - 1 }, 2);
	a = hist_quantile(h, 0.5);
	memset(h, 0, sizeof(*h));
	add_all(h, (const uint64_t[]){ 1ULL << 48, UINT64_MAX }, 2);
	b = hist_quantile(h, 0.5);
	assert_true(a > 1ULL << 48);
	assert_true(b > 1ULL << 48);
	assert_true(a >= b ? a - b <= 4096 : b - a <= 4096);
	assert_true(hist_quantile(h, 0.9) > b);
	assert_true(hist_quantile(h, 0.9) <= UINT64_MAX);
	assert_int_equal(hist_quantile(h, 1), UINT64_MAX);
	memset(h, 0, sizeof(*h));
	add_all(h, (const uint64_t[]){ UINT64_MAX, UINT64_MAX, UINT64_MAX }, 3);
	assert_int_equal(hist_quantile(h, 0.5), UINT64_MAX);
	assert_int_equal(hist_quantile(h, 0.99), UINT64_MAX);

	/* a rank exactly on a bucket's last sample stays in that bucket: 90 in
	 * [8192, 10240) clamped to [10000, 10240), 10 in [8.39ms, 10.5ms)
	 * clamped to [8388608, 10ms + 1) */
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < 90; i++)
		hist_add(h, 10 * US);
	for (int i = 0; i < 10; i++)
		hist_add(h, 10 * MS);
	assert_int_equal(hist_quantile(h, 0.5), 10131);	 /* 10000 + 240 * 50 / 91 */
	assert_int_equal(hist_quantile(h, 0.9), 10237);	 /* 10000 + 240 * 90 / 91 */
	assert_int_equal(hist_quantile(h, 0.91), 8535098); /* 8388608 + 1611393 / 11 */
	assert_int_equal(hist_quantile(h, 0.99), 9707020);  /* 8388608 + 1611393 * 9 / 11 */
	free(h);
}

enum dist {
	D_UNIFORM,	/* [0, 1 s) */
	D_UNIFORM_SMALL, /* [0, 5 µs): bucket 0 and the first ones */
	D_LOG_UNIFORM,	/* 100 ns .. 10 days, uniform in log */
	D_PARETO1,	/* 10 µs / u: alpha 1 */
	D_PARETO_HALF,	/* 1 µs / u^2: alpha 1/2 */
	D_CONSTANT,
	D_TWO_SPIKES,	/* 85% at 2 µs, 15% at 8.6 s */
	D_MAX,
};

static const char *const dist_names[D_MAX] = {
	"uniform", "uniform-small", "log-uniform", "pareto-1", "pareto-0.5", "constant",
	"two-spikes",
};

/* log2(10 days / 100 ns) */
#define LOG2_RANGE 42.974168451037094

static uint64_t sample(enum dist d, uint64_t *s)
{
	double u, v;

	switch (d) {
	case D_UNIFORM:
		return xs_next(s) % SEC;
	case D_UNIFORM_SMALL:
		return xs_next(s) % (5 * US);
	case D_LOG_UNIFORM:
		v = 100 * exp2_frac(xs_unit(s) * LOG2_RANGE);
		return v > 864000 * SEC ? 864000 * SEC : (uint64_t)v;
	case D_PARETO1:
		return (uint64_t)(10 * US / xs_unit_nz(s));
	case D_PARETO_HALF:
		u = xs_unit_nz(s);
		v = 1 * US / (u * u);
		return v >= 9.2e18 ? 9200000000000000000ULL : (uint64_t)v;
	case D_CONSTANT:
		return 123456789;
	case D_TWO_SPIKES:
		return xs_next(s) % 100 < 85 ? 2 * US : 1ULL << 33;
	default:
		return 0;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* the worst error seen, and where */
struct worst {
	double ratio;
	char what[160];
};

static void note_worst(struct worst *w, double ratio, const char *dist, size_t n, int pct,
		       uint64_t est, uint64_t exact)
{
	if (ratio <= w->ratio)
		return;
	w->ratio = ratio;
	snprintf(w->what, sizeof(w->what), "%s n %zu p%d: %llu vs %llu", dist, n, pct,
		 (unsigned long long)est, (unsigned long long)exact);
}

struct qstats {
	int checks;
	struct worst rel;	/* |est - exact| / exact, exact >= 1024 */
	double of_bound;	/* |est - exact| / max(exact / 4, 1024) */
	struct worst last;	/* in the open-ended last bucket */
};

/* p50, p90, p99 of h against those of the n sorted samples v */
static void check_quantiles(const struct tcpfsm_hist *h, const uint64_t *v, size_t n,
			    const char *dist, struct qstats *st)
{
	static const int pct[] = { 50, 90, 99 };

	for (size_t p = 0; p < ARRAY_SIZE(pct); p++) {
		/* ceil(q * n), in integers */
		size_t rank = (pct[p] * n + 99) / 100;
		uint64_t exact = v[rank - 1];
		uint64_t est = hist_quantile(h, pct[p] / 100.0);
		uint64_t diff = est > exact ? est - exact : exact - est;
		double bound = exact * 0.25 > 1024 ? exact * 0.25 : 1024;
		double ratio = exact ? (double)diff / exact : 0;

		st->checks++;
		assert_true(est >= h->min_ns && est <= h->max_ns);
		if (tcpfsm_hist_bucket(est) != tcpfsm_hist_bucket(exact))
			fail_msg("%s n %zu: p%d %llu, exact %llu: not in the same bucket", dist,
				 n, pct[p], (unsigned long long)est, (unsigned long long)exact);
		if (exact >= 1ULL << TCPFSM_HIST_MAX_SHIFT) {
			note_worst(&st->last, ratio, dist, n, pct[p], est, exact);
			continue;
		}
		if (diff > bound)
			fail_msg("%s n %zu: p%d %llu, exact %llu (error %.1f%%)", dist, n, pct[p],
				 (unsigned long long)est, (unsigned long long)exact, 100 * ratio);
		if (exact >= 1024)
			note_worst(&st->rel, ratio, dist, n, pct[p], est, exact);
		if (diff / bound > st->of_bound)
			st->of_bound = diff / bound;
	}
}

/*
 * p50/p90/p99 of seeded sample sets against the exact quantile of the sorted
 * samples (the smallest sample with at least q of them at or below it): in
 * the same bucket, so within max(25% of it, 1024 ns), the documented bound.
 * The last bucket (>= 2^48 ns, 3.3 days) is open-ended: there the estimate is
 * only in the same bucket, between its samples' min and max, and can be off
 * by more (its worst case is reported, not bounded).
 */
static void test_quantile_property(void **unused)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 10, 99, 100, 1000, 4097, 12345, 100000 };
	static const uint64_t seeds[] = { 1, 0x5eed, 0xdeadbeefcafef00dULL };
	uint64_t *v = malloc(100000 * sizeof(*v));
	struct tcpfsm_hist *h = hist_new();
	struct qstats st = {};

	assert_non_null(v);
	for (int d = 0; d < D_MAX; d++) {
		for (size_t si = 0; si < ARRAY_SIZE(seeds); si++) {
			for (size_t zi = 0; zi < ARRAY_SIZE(sizes); zi++) {
				size_t n = sizes[zi];
				uint64_t s = seeds[si] * 0x9e3779b97f4a7c15ULL + d * 1000003 + n;
				char dist[48];

				snprintf(dist, sizeof(dist), "%s seed %zu", dist_names[d], si);
				memset(h, 0, sizeof(*h));
				for (size_t i = 0; i < n; i++) {
					v[i] = sample(d, &s);
					hist_add(h, v[i]);
				}
				qsort(v, n, sizeof(*v), cmp_u64);
				assert_int_equal(h->min_ns, v[0]);
				assert_int_equal(h->max_ns, v[n - 1]);
				check_quantiles(h, v, n, dist, &st);
			}
		}
	}
	print_message("%d quantiles checked; worst relative error %.2f%% (%s), %.0f%% of the "
		      "bound; in the open-ended last bucket %.2f%% (%s)\n",
		      st.checks, 100 * st.rel.ratio, st.rel.what, 100 * st.of_bound,
		      100 * st.last.ratio, st.last.what);
	free(v);
	free(h);
}

/* --- text --- */

static struct tcpfsm_hist *small_hist(void)
{
	struct tcpfsm_hist *h = hist_new();

	add_all(h, (const uint64_t[]){ 1300, 800, 2100, 1400, 1100 }, 5);
	h->unknown = 2;
	return h;
}

/* the bars: 40 characters between '|' */
#define BAR0 "|                                        |\n"
#define BAR1 "|*                                       |\n"
#define BAR20 "|********************                    |\n"
#define BAR40 "|****************************************|\n"
#define HEAD "  in state                : count     distribution\n"

#define SMALL_TABLE                                                      \
	HEAD                                                             \
	"  [0ns, 1.02" MICRO "s)           : 1         " BAR20              \
	"  [1.02" MICRO "s, 1.28" MICRO "s)        : 1         " BAR20     \
	"  [1.28" MICRO "s, 1.54" MICRO "s)        : 2         " BAR40     \
	"  [1.54" MICRO "s, 1.79" MICRO "s)        : 0         " BAR0      \
	"  [1.79" MICRO "s, 2.05" MICRO "s)        : 0         " BAR0      \
	"  [2.05" MICRO "s, 2.56" MICRO "s)        : 1         " BAR20

#define SMALL_STATS                                                                  \
	": 5 (+2 untimed: entered before tracing)  min 800ns  p50 1.37" MICRO "s  p90 2.07" \
	MICRO "s  p99 2.07" MICRO "s  max 2.10" MICRO "s  mean 1.34" MICRO "s\n"

/* The table's columns line up counting characters, not bytes ("µ" is two). */
static void assert_columns(const char *buf)
{
	const char *line = strchr(buf, '\n') + 1; /* after the summary */
	int rows = 0;

	while (*line) {
		size_t bytes;
		int w = line_chars(line, &bytes);

		assert_int_equal(chars_before_colon(line, bytes), 2 + 23);
		/* the rows (not the header): bar and all */
		if (line[2] == '[') {
			assert_int_equal(w, 2 + 23 + 3 + 9 + 1 + 42);
			rows++;
		}
		line += bytes + 1;
	}
	assert_true(rows > 0);
}

static void test_text_golden(void **unused)
{
	struct tcpfsm_hist *h = small_hist();
	struct hist_row r = { .state = TCPFSM_SYN_SENT, .h = h };
	static const char want[] = "SYN_SENT" SMALL_STATS SMALL_TABLE;
	static const char want_s[] =
		"LISTEN: 4  min 1.00s  p50 1.97s  p90 3.88s  p99 3.88s  max 4.00s  mean 2.25s\n"
		HEAD
		"  [940ms, 1.07s)          : 1         " BAR20
		"  [1.07s, 1.34s)          : 0         " BAR0
		"  [1.34s, 1.61s)          : 0         " BAR0
		"  [1.61s, 1.88s)          : 0         " BAR0
		"  [1.88s, 2.15s)          : 2         " BAR40
		"  [2.15s, 2.68s)          : 0         " BAR0
		"  [2.68s, 3.22s)          : 0         " BAR0
		"  [3.22s, 3.76s)          : 0         " BAR0
		"  [3.76s, 4.29s)          : 1         " BAR20;
	static const char want_d[] =
		"TIME_WAIT: 80  min 2d07h  p50 6d10h  p90 9d00h  p99 9d16h  max 9d18h  mean 9d16h\n"
		HEAD
		"  [2d00h, 2d10h)          : 1         " BAR1
		"  [2d10h, 2d20h)          : 0         " BAR0
		"  [2d20h, 3d06h)          : 0         " BAR0
		"  [3d06h, ...)            : 79        " BAR40;
	char buf[4096];

	assert_int_equal(format_hist_text(buf, sizeof(buf), &r), strlen(want));
	assert_string_equal(buf, want);
	assert_columns(buf);

	/* seconds, all ASCII */
	memset(h, 0, sizeof(*h));
	add_all(h, (const uint64_t[]){ 1 * SEC, 2 * SEC, 2 * SEC, 4 * SEC }, 4);
	r.state = TCPFSM_LISTEN;
	assert_int_equal(format_hist_text(buf, sizeof(buf), &r), strlen(want_s));
	assert_string_equal(buf, want_s);
	assert_columns(buf);

	/* the open-ended last bucket, and bars rounded up (1 of 79 still shows) */
	memset(h, 0, sizeof(*h));
	hist_add(h, 200000 * SEC);
	for (int i = 0; i < 79; i++)
		hist_add(h, 3ULL << 48);
	r.state = TCPFSM_TIME_WAIT;
	assert_int_equal(format_hist_text(buf, sizeof(buf), &r), strlen(want_d));
	assert_string_equal(buf, want_d);
	assert_columns(buf);
	free(h);
}

static void test_text_by_and_untimed(void **unused)
{
	struct tcpfsm_hist *h = small_hist(), *u = hist_new();
	struct hist_row r = { .state = TCPFSM_SYN_SENT, .by = "lport", .key = "443", .h = h };
	static const char want[] = "SYN_SENT lport=443" SMALL_STATS SMALL_TABLE;
	char buf[4096];

	assert_int_equal(format_hist_text(buf, sizeof(buf), &r), strlen(want));
	assert_string_equal(buf, want);

	/* only untimed transitions: the summary line alone */
	u->unknown = 3;
	r = (struct hist_row){ .state = TCPFSM_ESTABLISHED, .h = u };
	assert_int_equal(format_hist_text(buf, sizeof(buf), &r), 52);
	assert_string_equal(buf, "ESTABLISHED: 0 (+3 untimed: entered before tracing)\n");
	r = (struct hist_row){ .state = TCPFSM_CLOSE_WAIT, .by = "comm", .key = "nginx",
			       .key_is_string = true, .h = u };
	format_hist_text(buf, sizeof(buf), &r);
	assert_string_equal(buf, "CLOSE_WAIT comm=nginx: 0 (+3 untimed: entered before tracing)\n");
	/* nothing at all */
	u->unknown = 0;
	r = (struct hist_row){ .state = TCPFSM_FIN_WAIT1, .h = u };
	format_hist_text(buf, sizeof(buf), &r);
	assert_string_equal(buf, "FIN_WAIT1: 0\n");
	/* a state number with no name */
	r.state = 0;
	format_hist_text(buf, sizeof(buf), &r);
	assert_string_equal(buf, "UNKNOWN: 0\n");
	free(h);
	free(u);
}

/* A comm is whatever the process set: on a terminal, printable ASCII only
 * (as trace and history show it). */
static void test_text_comm_sanitized(void **unused)
{
	struct tcpfsm_hist *u = hist_new();
	struct hist_row r = { .state = TCPFSM_ESTABLISHED, .by = "comm",
			      .key = "a\x1b[2J\n\x7f\xc3\xa9z", .key_is_string = true, .h = u };
	char buf[256];

	u->unknown = 1;
	format_hist_text(buf, sizeof(buf), &r);
	assert_string_equal(buf, "ESTABLISHED comm=a?[2J????z: 0"
				 " (+1 untimed: entered before tracing)\n");
	free(u);
}

static void test_text_truncation(void **unused)
{
	struct tcpfsm_hist *h = small_hist();
	struct hist_row r = { .state = TCPFSM_SYN_SENT, .h = h };
	char full[4096], buf[64];
	int n = format_hist_text(full, sizeof(full), &r);

	for (size_t len = 1; len <= sizeof(buf); len += 7) {
		memset(buf, 'x', sizeof(buf));
		assert_int_equal(format_hist_text(buf, len, &r), n);
		assert_int_equal(buf[len - 1], 0);
		assert_int_equal(strlen(buf), len - 1);
		assert_memory_equal(buf, full, len - 1);
	}
	/* cut inside the table */
	{
		char mid[300];

		assert_int_equal(format_hist_text(mid, sizeof(mid), &r), n);
		assert_int_equal(strlen(mid), sizeof(mid) - 1);
		assert_memory_equal(mid, full, sizeof(mid) - 1);
	}
	/* no room at all: nothing written */
	buf[0] = 'x';
	assert_int_equal(format_hist_text(buf, 0, &r), n);
	assert_int_equal(buf[0], 'x');
	free(h);
}

/* --- JSON --- */

#define J_TYPE "{\"type\":\"histogram\","
#define J_TIME "\"time\":\"2026-11-27T15:00:00.123456789Z\","
#define SMALL_JSON_STATS                                                              \
	"\"count\":5,\"unknown\":2,\"sum_ns\":6700,\"min_ns\":800,\"max_ns\":2100,"   \
	"\"p50_ns\":1365,\"p90_ns\":2074,\"p99_ns\":2074,"                            \
	"\"buckets\":[{\"le_ns\":1023,\"count\":1},{\"le_ns\":1279,\"count\":1},"     \
	"{\"le_ns\":1535,\"count\":2},{\"le_ns\":2559,\"count\":1}]}\n"

static void check_json(const struct hist_row *r, int64_t time_ns, uint64_t interval_ns,
		       bool cumulative, const char *want)
{
	char buf[8192];
	int n = format_hist_json(buf, sizeof(buf), r, time_ns, interval_ns, cumulative);

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	if (!json_line_ok(buf))
		fail_msg("not one JSON object: %s", buf);
}

static void test_json_golden(void **unused)
{
	struct tcpfsm_hist *h = small_hist(), *u = hist_new(), *big = hist_new();
	struct hist_row r = { .state = TCPFSM_SYN_SENT, .h = h };

	/* totals (no time) */
	check_json(&r, 0, 0, true, J_TYPE "\"state\":\"SYN_SENT\"," SMALL_JSON_STATS);
	/* an interval */
	check_json(&r, WALL_NS, 2500000000ULL, false,
		   J_TYPE J_TIME "\"interval_ns\":2500000000,\"cumulative\":false,"
		   "\"state\":\"SYN_SENT\"," SMALL_JSON_STATS);
	check_json(&r, WALL_NS, 7 * SEC, true,
		   J_TYPE J_TIME "\"interval_ns\":7000000000,\"cumulative\":true,"
		   "\"state\":\"SYN_SENT\"," SMALL_JSON_STATS);

	/* --by with a number key */
	r.by = "lport";
	snprintf(r.key, sizeof(r.key), "443");
	check_json(&r, 0, 0, true,
		   J_TYPE "\"state\":\"SYN_SENT\",\"by\":\"lport\",\"key\":443," SMALL_JSON_STATS);
	r.by = "cgroup";
	snprintf(r.key, sizeof(r.key), "18446744073709551615");
	check_json(&r, 0, 0, true,
		   J_TYPE "\"state\":\"SYN_SENT\",\"by\":\"cgroup\","
		   "\"key\":18446744073709551615," SMALL_JSON_STATS);
	/* a string key: comm, and "other" */
	r.by = "comm";
	r.key_is_string = true;
	snprintf(r.key, sizeof(r.key), "nginx");
	check_json(&r, 0, 0, true,
		   J_TYPE "\"state\":\"SYN_SENT\",\"by\":\"comm\",\"key\":\"nginx\","
		   SMALL_JSON_STATS);
	snprintf(r.key, sizeof(r.key), "other");
	r.by = "rport";
	check_json(&r, 0, 0, true,
		   J_TYPE "\"state\":\"SYN_SENT\",\"by\":\"rport\",\"key\":\"other\","
		   SMALL_JSON_STATS);
	/* a comm that needs escaping; valid UTF-8 passes, invalid bytes do not */
	r.by = "comm";
	snprintf(r.key, sizeof(r.key), "a\"b\\c\x01\x7f\xc3\xa9\xff");
	check_json(&r, 0, 0, true,
		   J_TYPE "\"state\":\"SYN_SENT\",\"by\":\"comm\","
		   "\"key\":\"a\\\"b\\\\c\\u0001\\u007f\xc3\xa9\\u00ff\"," SMALL_JSON_STATS);
	/* the longest comm (15 characters) */
	snprintf(r.key, sizeof(r.key), "%s", "0123456789abcde");
	check_json(&r, 0, 0, true,
		   J_TYPE "\"state\":\"SYN_SENT\",\"by\":\"comm\","
		   "\"key\":\"0123456789abcde\"," SMALL_JSON_STATS);

	/* count 0: nulls, no buckets */
	u->unknown = 3;
	r = (struct hist_row){ .state = TCPFSM_ESTABLISHED, .h = u };
	check_json(&r, 0, 0, true,
		   J_TYPE "\"state\":\"ESTABLISHED\",\"count\":0,\"unknown\":3,"
		   "\"sum_ns\":0,\"min_ns\":null,\"max_ns\":null,\"p50_ns\":null,\"p90_ns\":null,"
		   "\"p99_ns\":null,\"buckets\":[]}\n");

	/* the last, open-ended bucket: le_ns null */
	add_all(big, (const uint64_t[]){ 1ULL << 40, 1ULL << 48, 1ULL << 50 }, 3);
	r = (struct hist_row){ .state = TCPFSM_TIME_WAIT, .h = big };
	check_json(&r, 0, 0, true,
		   J_TYPE "\"state\":\"TIME_WAIT\",\"count\":3,\"unknown\":0,"
		   "\"sum_ns\":1408474395181056,\"min_ns\":1099511627776,"
		   "\"max_ns\":1125899906842624,\"p50_ns\":562949953421312,"
		   "\"p90_ns\":844424930131968,\"p99_ns\":844424930131968,"
		   "\"buckets\":[{\"le_ns\":1374389534719,\"count\":1},"
		   "{\"le_ns\":null,\"count\":2}]}\n");

	/* the README's example line (samples in the same buckets, the same sum) */
	memset(big, 0, sizeof(*big));
	add_all(big, (const uint64_t[]){ 4719, 6502, 13006, 48512, 97826 }, 5);
	r = (struct hist_row){ .state = TCPFSM_SYN_SENT, .h = big };
	check_json(&r, 1795793497575921660LL, 2308039996ULL, true,
		   J_TYPE "\"time\":\"2026-11-27T15:31:37.575921660Z\","
		   "\"interval_ns\":2308039996,\"cumulative\":true,\"state\":\"SYN_SENT\","
		   "\"count\":5,\"unknown\":0,\"sum_ns\":170565,\"min_ns\":4719,\"max_ns\":97826,"
		   "\"p50_ns\":13312,\"p90_ns\":89873,\"p99_ns\":89873,"
		   "\"buckets\":[{\"le_ns\":5119,\"count\":1},{\"le_ns\":7167,\"count\":1},"
		   "{\"le_ns\":14335,\"count\":1},{\"le_ns\":49151,\"count\":1},"
		   "{\"le_ns\":98303,\"count\":1}]}\n");
	free(h);
	free(u);
	free(big);
}

static void test_json_truncation(void **unused)
{
	struct tcpfsm_hist *h = small_hist();
	struct hist_row r = { .state = TCPFSM_SYN_SENT, .by = "comm", .key = "x\"y",
			      .key_is_string = true, .h = h };
	char full[4096], buf[128];
	int n = format_hist_json(full, sizeof(full), &r, WALL_NS, SEC, false);

	assert_true(json_line_ok(full));
	for (size_t len = 1; len <= sizeof(buf); len += 5) {
		assert_int_equal(format_hist_json(buf, len, &r, WALL_NS, SEC, false), n);
		assert_int_equal(strlen(buf), len - 1);
		assert_memory_equal(buf, full, len - 1);
	}
	free(h);
}

/* --- the set --- */

static struct tcpfsm_event ev(int old, int new, uint64_t dur)
{
	struct tcpfsm_event e = client_event(1, 1000, old, new);

	e.old_duration_ns = dur;
	return e;
}

#define UNK TCPFSM_DURATION_UNKNOWN

static void test_set_account_rules(void **unused)
{
	struct hist_set *s = calloc(1, sizeof(*s));
	struct tcpfsm_event e;

	assert_non_null(s);
	hist_set_init(s, TCPFSM_BY_NONE, 256);
	/* births: in the transitions, not in the histograms */
	e = ev(TCPFSM_CLOSE, TCPFSM_SYN_SENT, UNK);
	assert_int_equal(hist_set_account(s, &e), 0);
	e = ev(TCPFSM_CLOSE, TCPFSM_LISTEN, UNK);
	hist_set_account(s, &e);
	e = ev(TCPFSM_LISTEN, TCPFSM_SYN_RECV, UNK);
	hist_set_account(s, &e);
	e = ev(TCPFSM_LISTEN, TCPFSM_SYN_RECV, 5 * SEC); /* a child: even when timed */
	hist_set_account(s, &e);
	assert_int_equal(s->transitions[TCPFSM_CLOSE][TCPFSM_SYN_SENT], 1);
	assert_int_equal(s->transitions[TCPFSM_CLOSE][TCPFSM_LISTEN], 1);
	assert_int_equal(s->transitions[TCPFSM_LISTEN][TCPFSM_SYN_RECV], 2);
	assert_int_equal(s->state[TCPFSM_CLOSE].count, 0);
	assert_int_equal(s->state[TCPFSM_CLOSE].unknown, 0);
	assert_int_equal(s->state[TCPFSM_LISTEN].count, 0);
	assert_int_equal(s->state[TCPFSM_LISTEN].unknown, 0);

	/* timed: a sample; untimed: .unknown */
	e = ev(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED, 30 * US);
	hist_set_account(s, &e);
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, UNK);
	hist_set_account(s, &e);
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, 2 * SEC);
	hist_set_account(s, &e);
	/* a timed CLOSE (a socket reused after close) and LISTEN -> CLOSE count */
	e = ev(TCPFSM_CLOSE, TCPFSM_SYN_SENT, 3 * MS);
	hist_set_account(s, &e);
	e = ev(TCPFSM_LISTEN, TCPFSM_CLOSE, 9 * SEC);
	hist_set_account(s, &e);
	e = ev(TCPFSM_LISTEN, TCPFSM_CLOSE, UNK);
	hist_set_account(s, &e);
	assert_int_equal(s->state[TCPFSM_SYN_SENT].count, 1);
	assert_int_equal(s->state[TCPFSM_SYN_SENT].sum_ns, 30 * US);
	assert_int_equal(s->state[TCPFSM_ESTABLISHED].count, 1);
	assert_int_equal(s->state[TCPFSM_ESTABLISHED].unknown, 1);
	assert_int_equal(s->state[TCPFSM_ESTABLISHED].max_ns, 2 * SEC);
	assert_int_equal(s->state[TCPFSM_CLOSE].count, 1);
	assert_int_equal(s->state[TCPFSM_CLOSE].min_ns, 3 * MS);
	assert_int_equal(s->state[TCPFSM_LISTEN].count, 1);
	assert_int_equal(s->state[TCPFSM_LISTEN].unknown, 1);

	/* self-transitions (close() after shutdown()): not an exit, not a
	 * transition; counted apart */
	e = ev(TCPFSM_FIN_WAIT2, TCPFSM_FIN_WAIT2, 2 * SEC);
	hist_set_account(s, &e);
	e = ev(TCPFSM_FIN_WAIT1, TCPFSM_FIN_WAIT1, UNK);
	hist_set_account(s, &e);
	assert_int_equal(s->state[TCPFSM_FIN_WAIT2].count, 0);
	assert_int_equal(s->state[TCPFSM_FIN_WAIT1].unknown, 0);
	assert_int_equal(s->transitions[TCPFSM_FIN_WAIT2][TCPFSM_FIN_WAIT2], 0);
	assert_int_equal(s->same_state, 2);
	assert_int_equal(s->transitions[TCPFSM_ESTABLISHED][TCPFSM_FIN_WAIT1], 2);
	assert_int_equal(s->transitions[TCPFSM_CLOSE][TCPFSM_SYN_SENT], 2);

	/* not transitions, or out of range: ignored altogether */
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_ESTABLISHED, 1 * SEC);
	e.kind = TCPFSM_KIND_SNAPSHOT;
	hist_set_account(s, &e);
	e = ev(TCPFSM_STATE_MAX, TCPFSM_CLOSE, 1 * SEC);
	assert_int_equal(hist_set_account(s, &e), 0);
	e = ev(TCPFSM_ESTABLISHED, 200, 1 * SEC);
	hist_set_account(s, &e);
	assert_int_equal(s->transitions[TCPFSM_ESTABLISHED][TCPFSM_ESTABLISHED], 0);
	assert_int_equal(s->state[TCPFSM_ESTABLISHED].count, 1);
	assert_int_equal(s->nkeyed, 0);
	assert_null(s->keyed);
	hist_set_free(s);
	free(s);
}

static void test_set_account_by(void **unused)
{
	static const struct {
		enum tcpfsm_by by;
		uint64_t num;
		const char *comm;
	} cases[] = {
		{ TCPFSM_BY_LPORT, 40000, "" },
		{ TCPFSM_BY_RPORT, 443, "" },
		{ TCPFSM_BY_COMM, 0, "curl" },
		{ TCPFSM_BY_CGROUP, 7, "" },
	};
	struct hist_set *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tcpfsm_hist_key k = { .num = cases[i].num, .state = TCPFSM_ESTABLISHED };
		struct tcpfsm_event e;
		struct tcpfsm_hist *h;

		snprintf(k.comm, sizeof(k.comm), "%s", cases[i].comm);
		hist_set_init(s, cases[i].by, 256);
		e = ev(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, 20 * MS);
		hist_set_account(s, &e);
		e = ev(TCPFSM_ESTABLISHED, TCPFSM_CLOSE_WAIT, UNK);
		hist_set_account(s, &e);
		/* births are not keyed either */
		e = ev(TCPFSM_CLOSE, TCPFSM_SYN_SENT, UNK);
		hist_set_account(s, &e);
		assert_int_equal(s->nkeyed, 1);
		h = hist_set_keyed(s, &k, false);
		assert_non_null(h);
		assert_int_equal(h->count, 1);
		assert_int_equal(h->sum_ns, 20 * MS);
		assert_int_equal(h->unknown, 1);
		assert_int_equal(s->by_other, 0);
		/* and the by-state histogram as well */
		assert_int_equal(s->state[TCPFSM_ESTABLISHED].count, 1);
		assert_int_equal(s->state[TCPFSM_ESTABLISHED].unknown, 1);
		hist_set_free(s);
	}
	free(s);
}

static void test_set_account_limit(void **unused)
{
	struct hist_set *s = calloc(1, sizeof(*s));
	struct tcpfsm_hist_key k = { .state = TCPFSM_SYN_SENT };
	struct tcpfsm_event e;

	assert_non_null(s);
	hist_set_init(s, TCPFSM_BY_RPORT, 2);
	/* (SYN_SENT, 443) and (ESTABLISHED, 443) take the two places */
	e = ev(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED, 10 * US);
	hist_set_account(s, &e);
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, 1 * SEC);
	hist_set_account(s, &e);
	/* (SYN_SENT, 80): other, timed and untimed */
	e = ev(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED, 20 * US);
	e.dport = 80;
	hist_set_account(s, &e);
	e.old_duration_ns = UNK;
	hist_set_account(s, &e);
	/* (ESTABLISHED, 8080): other */
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_CLOSE_WAIT, 2 * SEC);
	e.dport = 8080;
	hist_set_account(s, &e);
	/* known keys still count as theirs */
	e = ev(TCPFSM_SYN_SENT, TCPFSM_CLOSE, 30 * US);
	hist_set_account(s, &e);
	assert_int_equal(s->nkeyed, 2);
	assert_int_equal(s->by_other, 3);
	k.num = 443;
	assert_int_equal(hist_set_keyed(s, &k, false)->count, 2);
	assert_int_equal(hist_set_keyed(s, &k, false)->sum_ns, 40 * US);
	k.num = 80;
	assert_null(hist_set_keyed(s, &k, false));
	assert_null(hist_set_keyed(s, &k, true));
	assert_int_equal(s->other[TCPFSM_SYN_SENT].count, 1);
	assert_int_equal(s->other[TCPFSM_SYN_SENT].sum_ns, 20 * US);
	assert_int_equal(s->other[TCPFSM_SYN_SENT].unknown, 1);
	assert_int_equal(s->other[TCPFSM_ESTABLISHED].count, 1);
	assert_int_equal(s->other[TCPFSM_ESTABLISHED].max_ns, 2 * SEC);
	/* every transition in the by-state histograms */
	assert_int_equal(s->state[TCPFSM_SYN_SENT].count, 3);
	assert_int_equal(s->state[TCPFSM_SYN_SENT].unknown, 1);
	assert_int_equal(s->state[TCPFSM_ESTABLISHED].count, 2);

	/* reset: empty, same by and limit */
	hist_set_reset(s);
	assert_int_equal(s->by, TCPFSM_BY_RPORT);
	assert_int_equal(s->limit, 2);
	assert_int_equal(s->nkeyed, 0);
	assert_null(s->keyed);
	assert_int_equal(s->by_other, 0);
	assert_int_equal(s->state[TCPFSM_SYN_SENT].count, 0);
	assert_int_equal(s->transitions[TCPFSM_SYN_SENT][TCPFSM_ESTABLISHED], 0);
	hist_set_free(s);
	free(s);
}

static void test_set_keyed(void **unused)
{
	struct hist_set *s = calloc(1, sizeof(*s));
	struct tcpfsm_hist_key a = { .num = 1, .state = TCPFSM_ESTABLISHED };
	struct tcpfsm_hist_key b = { .num = 1, .state = TCPFSM_SYN_SENT };
	struct tcpfsm_hist_key c = { .state = TCPFSM_ESTABLISHED, .comm = "x" };
	struct tcpfsm_hist *ha, *hb;

	assert_non_null(s);
	hist_set_init(s, TCPFSM_BY_LPORT, 2);
	assert_null(hist_set_keyed(s, &a, false));
	assert_int_equal(s->nkeyed, 0);
	ha = hist_set_keyed(s, &a, true);
	assert_non_null(ha);
	assert_int_equal(ha->count, 0);
	hist_add(ha, 42);
	/* found again, with or without create */
	assert_ptr_equal(hist_set_keyed(s, &a, true), ha);
	assert_ptr_equal(hist_set_keyed(s, &a, false), ha);
	assert_int_equal(s->nkeyed, 1);
	/* the state is part of the key */
	hb = hist_set_keyed(s, &b, true);
	assert_non_null(hb);
	assert_int_equal(hb->count, 0);
	assert_int_equal(s->nkeyed, 2);
	/* full */
	assert_null(hist_set_keyed(s, &c, true));
	assert_int_equal(s->nkeyed, 2);
	assert_int_equal(hist_set_keyed(s, &a, false)->count, 1);
	assert_int_equal(hist_set_keyed(s, &a, false)->min_ns, 42);
	hist_set_free(s);
	assert_null(s->keyed);
	assert_int_equal(s->nkeyed, 0);

	/* limit 0: nothing keyed */
	hist_set_init(s, TCPFSM_BY_LPORT, 0);
	assert_null(hist_set_keyed(s, &a, true));
	hist_set_free(s);
	free(s);
}

static void fill_set(struct hist_set *s, uint64_t seed, int n)
{
	static const uint16_t ports[] = { 80, 443, 8080 };
	static const int from[] = { TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1 };

	for (int i = 0; i < n; i++) {
		struct tcpfsm_event e = ev(from[xs_next(&seed) % 3], TCPFSM_CLOSE,
					   xs_next(&seed) % 7 ? xs_next(&seed) % SEC : UNK);

		e.sport = ports[xs_next(&seed) % 3];
		assert_int_equal(hist_set_account(s, &e), 0);
	}
}

static void test_set_copy(void **unused)
{
	struct hist_set *src = calloc(1, sizeof(*src)), *dst = calloc(1, sizeof(*dst));
	struct hist_set *snap = calloc(1, sizeof(*snap));
	struct hist_keyed *keyed_before;
	struct tcpfsm_hist_key k;
	struct tcpfsm_hist *h;

	assert_non_null(src);
	assert_non_null(dst);
	assert_non_null(snap);
	hist_set_init(src, TCPFSM_BY_LPORT, 4);
	fill_set(src, 99, 500);
	assert_int_equal(src->nkeyed, 4);
	assert_true(src->by_other > 0);
	*snap = *src; /* shallow, for comparing */
	keyed_before = malloc(4 * sizeof(*src->keyed));
	assert_non_null(keyed_before);
	memcpy(keyed_before, src->keyed, 4 * sizeof(*src->keyed));
	k = src->keyed[0].key;

	hist_set_init(dst, TCPFSM_BY_NONE, 0);
	assert_int_equal(hist_set_copy(dst, src), 0);
	assert_int_equal(dst->by, TCPFSM_BY_LPORT);
	assert_int_equal(dst->limit, 4);
	assert_int_equal(dst->nkeyed, 4);
	assert_true(dst->keyed != src->keyed);
	assert_memory_equal(dst->keyed, src->keyed, 4 * sizeof(*src->keyed));
	assert_memory_equal(dst->state, src->state, sizeof(src->state));
	assert_memory_equal(dst->other, src->other, sizeof(src->other));
	assert_memory_equal(dst->transitions, src->transitions, sizeof(src->transitions));
	assert_int_equal(dst->by_other, src->by_other);

	/* changing the copy leaves the source alone */
	h = hist_set_keyed(dst, &k, false);
	assert_non_null(h);
	hist_add(h, 1);
	assert_int_equal(hist_set_keyed(dst, &k, false)->count,
			 hist_set_keyed(src, &k, false)->count + 1);
	fill_set(dst, 5, 100);
	assert_memory_equal(src, snap, sizeof(*src));
	assert_memory_equal(src->keyed, keyed_before, 4 * sizeof(*src->keyed));
	assert_true(dst->state[TCPFSM_SYN_SENT].count + dst->state[TCPFSM_ESTABLISHED].count +
			    dst->state[TCPFSM_FIN_WAIT1].count >
		    src->state[TCPFSM_SYN_SENT].count + src->state[TCPFSM_ESTABLISHED].count +
			    src->state[TCPFSM_FIN_WAIT1].count);

	/* copying over a set that has keys frees them (ASan would tell); an
	 * empty source gives no keyed array */
	hist_set_init(snap, TCPFSM_BY_LPORT, 4);
	assert_int_equal(hist_set_copy(dst, snap), 0);
	assert_null(dst->keyed);
	assert_int_equal(dst->nkeyed, 0);
	assert_int_equal(hist_set_copy(dst, src), 0);
	assert_int_equal(dst->nkeyed, 4);
	hist_set_free(dst);
	hist_set_free(src);
	free(src);
	free(dst);
	free(snap);
	free(keyed_before);
}

static void test_set_delta(void **unused)
{
	struct hist_set *prev = calloc(1, sizeof(*prev)), *cur = calloc(1, sizeof(*cur));
	struct hist_set *out = calloc(1, sizeof(*out));
	struct tcpfsm_hist_key k80 = { .num = 80, .state = TCPFSM_ESTABLISHED };
	struct tcpfsm_hist_key k443 = { .num = 443, .state = TCPFSM_ESTABLISHED };
	struct tcpfsm_hist_key k22 = { .num = 22, .state = TCPFSM_SYN_SENT };
	struct tcpfsm_event e;
	const struct tcpfsm_hist *h;

	assert_non_null(prev);
	assert_non_null(cur);
	assert_non_null(out);
	hist_set_init(prev, TCPFSM_BY_LPORT, 3);
	hist_set_init(out, TCPFSM_BY_LPORT, 3);
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, 5 * MS);
	e.sport = 80;
	hist_set_account(prev, &e);
	e.old_duration_ns = UNK;
	hist_set_account(prev, &e);
	hist_set_init(cur, TCPFSM_BY_NONE, 0);
	assert_int_equal(hist_set_copy(cur, prev), 0);
	/* new in the interval: more of port 80, and ports 443 and 22 */
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, 7 * MS);
	e.sport = 80;
	hist_set_account(cur, &e);
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_CLOSE_WAIT, 40 * MS);
	e.sport = 443;
	hist_set_account(cur, &e);
	e = ev(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED, 3 * US);
	e.sport = 22;
	hist_set_account(cur, &e);
	/* the limit (3) reached: other */
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_CLOSE_WAIT, 1 * SEC);
	e.sport = 9;
	hist_set_account(cur, &e);
	assert_int_equal(cur->nkeyed, 3);

	assert_int_equal(hist_set_delta(out, cur, prev), 0);
	assert_int_equal(out->by, TCPFSM_BY_LPORT);
	assert_int_equal(out->limit, 3);
	assert_int_equal(out->nkeyed, 3);
	h = hist_set_keyed(out, &k80, false);
	assert_non_null(h);
	assert_int_equal(h->count, 1);
	assert_int_equal(h->sum_ns, 7 * MS);
	assert_int_equal(h->unknown, 0);
	/* [6.29ms, 7.34ms) clamped to the cumulative [5ms, 7ms] */
	assert_int_equal(h->min_ns, 6291456);
	assert_int_equal(h->max_ns, 7 * MS);
	h = hist_set_keyed(out, &k443, false);
	assert_non_null(h);
	assert_int_equal(h->count, 1);
	assert_int_equal(h->min_ns, 40 * MS);
	assert_int_equal(h->max_ns, 40 * MS);
	h = hist_set_keyed(out, &k22, false);
	assert_non_null(h);
	assert_int_equal(h->count, 1);
	assert_int_equal(h->sum_ns, 3 * US);
	assert_int_equal(out->state[TCPFSM_ESTABLISHED].count, 3);
	assert_int_equal(out->state[TCPFSM_ESTABLISHED].unknown, 0);
	assert_int_equal(out->state[TCPFSM_ESTABLISHED].sum_ns, 1047 * MS);
	assert_int_equal(out->other[TCPFSM_ESTABLISHED].count, 1);
	assert_int_equal(out->other[TCPFSM_ESTABLISHED].sum_ns, 1 * SEC);
	assert_int_equal(out->by_other, 1);
	assert_int_equal(out->transitions[TCPFSM_ESTABLISHED][TCPFSM_FIN_WAIT1], 1);
	assert_int_equal(out->transitions[TCPFSM_ESTABLISHED][TCPFSM_CLOSE_WAIT], 2);
	assert_int_equal(out->transitions[TCPFSM_SYN_SENT][TCPFSM_ESTABLISHED], 1);

	/* again into the same out (its keys replaced), and nothing new */
	assert_int_equal(hist_set_delta(out, cur, cur), 0);
	assert_int_equal(out->nkeyed, 3);
	for (uint32_t i = 0; i < out->nkeyed; i++)
		assert_int_equal(out->keyed[i].h.count, 0);
	assert_int_equal(out->by_other, 0);
	assert_int_equal(out->state[TCPFSM_ESTABLISHED].count, 0);
	assert_int_equal(out->transitions[TCPFSM_ESTABLISHED][TCPFSM_CLOSE_WAIT], 0);
	hist_set_free(prev);
	hist_set_free(cur);
	hist_set_free(out);
	free(prev);
	free(cur);
	free(out);
}

static void test_set_print_order(void **unused)
{
	struct hist_set *s = calloc(1, sizeof(*s));
	struct capture c = {};
	char labels[1024];

	assert_non_null(s);
	hist_set_init(s, TCPFSM_BY_NONE, 0);
	/* one sample in every state, added in number order */
	for (int st = 1; st < TCPFSM_STATE_MAX; st++)
		hist_add(&s->state[st], st * US);
	assert_int_equal(hist_set_print(s, true, 0, 0, true, capture_out, &c), 0);
	assert_int_equal(c.calls, 12);
	assert_json_lines(c.p);
	json_labels(c.p, labels, sizeof(labels));
	assert_string_equal(labels, "LISTEN SYN_SENT NEW_SYN_RECV SYN_RECV ESTABLISHED FIN_WAIT1 "
				    "FIN_WAIT2 CLOSING TIME_WAIT CLOSE_WAIT LAST_ACK CLOSE");
	/* text: the same order, one table each */
	free(c.p);
	c = (struct capture){};
	assert_int_equal(hist_set_print(s, false, 0, 0, true, capture_out, &c), 0);
	assert_int_equal(c.calls, 12);
	assert_true(strstr(c.p, "LISTEN: 1 ") == c.p);
	assert_true(strstr(c.p, "SYN_SENT: 1 ") < strstr(c.p, "NEW_SYN_RECV: 1 "));
	assert_true(strstr(c.p, "NEW_SYN_RECV: 1 ") < strstr(c.p, "\nSYN_RECV: 1 "));
	assert_true(strstr(c.p, "LAST_ACK: 1 ") < strstr(c.p, "\nCLOSE: 1 "));
	free(c.p);

	/* empty: nothing printed */
	hist_set_reset(s);
	c = (struct capture){};
	assert_int_equal(hist_set_print(s, true, 0, 0, true, capture_out, &c), 0);
	assert_int_equal(hist_set_print(s, false, 0, 0, true, capture_out, &c), 0);
	assert_int_equal(c.calls, 0);
	hist_set_free(s);
	free(s);
}

static void test_set_print_by(void **unused)
{
	struct hist_set *s = calloc(1, sizeof(*s));
	struct capture c = {};
	struct tcpfsm_event e;
	char labels[1024];

	assert_non_null(s);
	hist_set_init(s, TCPFSM_BY_COMM, 2);
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, 3 * MS);
	hist_set_account(s, &e); /* (ESTABLISHED, curl) */
	strcpy(e.comm, "ng\"x");
	e.oldstate = TCPFSM_SYN_SENT;
	hist_set_account(s, &e); /* (SYN_SENT, ng"x) */
	e.oldstate = TCPFSM_ESTABLISHED;
	hist_set_account(s, &e); /* limit: (ESTABLISHED, other) */
	/* only untimed: JSON shows it, text does not */
	e = ev(TCPFSM_CLOSE_WAIT, TCPFSM_LAST_ACK, UNK);
	hist_set_account(s, &e); /* limit: (CLOSE_WAIT, other) */
	assert_int_equal(s->by_other, 2);

	assert_int_equal(hist_set_print(s, true, WALL_NS, 5 * SEC, false, capture_out, &c), 0);
	assert_json_lines(c.p);
	json_labels(c.p, labels, sizeof(labels));
	assert_string_equal(labels, "SYN_SENT SYN_SENT=\"ng\\\"x\" ESTABLISHED "
				    "ESTABLISHED=\"curl\" ESTABLISHED=\"other\" "
				    "CLOSE_WAIT CLOSE_WAIT=\"other\"");
	assert_non_null(strstr(c.p, "\n" J_TYPE J_TIME "\"interval_ns\":5000000000,"
				    "\"cumulative\":false,\"state\":\"CLOSE_WAIT\",\"by\":\"comm\","
				    "\"key\":\"other\",\"count\":0,\"unknown\":1,"));
	free(c.p);

	c = (struct capture){};
	assert_int_equal(hist_set_print(s, false, 0, 0, true, capture_out, &c), 0);
	assert_int_equal(c.calls, 5);
	assert_true(strstr(c.p, "SYN_SENT: 1 ") == c.p);
	assert_non_null(strstr(c.p, "\nSYN_SENT comm=ng\"x: 1 "));
	assert_non_null(strstr(c.p, "\nESTABLISHED: 2 "));
	assert_non_null(strstr(c.p, "\nESTABLISHED comm=curl: 1 "));
	assert_non_null(strstr(c.p, "\nESTABLISHED comm=other: 1 "));
	assert_null(strstr(c.p, "CLOSE_WAIT"));
	free(c.p);

	/* numbers as JSON numbers, other still a string */
	hist_set_free(s);
	hist_set_init(s, TCPFSM_BY_CGROUP, 1);
	e = ev(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, 3 * MS);
	e.cgroup_id = 18446744073709551615ULL;
	hist_set_account(s, &e);
	e.cgroup_id = 1;
	hist_set_account(s, &e);
	c = (struct capture){};
	assert_int_equal(hist_set_print(s, true, 0, 0, true, capture_out, &c), 0);
	assert_json_lines(c.p);
	json_labels(c.p, labels, sizeof(labels));
	assert_string_equal(labels, "ESTABLISHED ESTABLISHED=18446744073709551615 "
				    "ESTABLISHED=\"other\"");
	assert_non_null(strstr(c.p, "\"by\":\"cgroup\",\"key\":18446744073709551615,"));
	free(c.p);

	/* out() fails: stop there, return its error */
	c = (struct capture){ .fail_at = 2 };
	assert_int_equal(hist_set_print(s, true, 0, 0, true, capture_out, &c), -EPIPE);
	assert_int_equal(c.calls, 2);
	free(c.p);
	hist_set_free(s);
	free(s);
}

static void test_set_print_long_comm(void **unused)
{
	struct hist_set *s = calloc(1, sizeof(*s));
	struct capture c = {};
	struct tcpfsm_event e = ev(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, 3 * MS);

	assert_non_null(s);
	hist_set_init(s, TCPFSM_BY_COMM, 4);
	memcpy(e.comm, "0123456789abcdef", TCPFSM_COMM_LEN); /* no NUL */
	hist_set_account(s, &e);
	assert_int_equal(hist_set_print(s, true, 0, 0, true, capture_out, &c), 0);
	assert_json_lines(c.p);
	assert_non_null(strstr(c.p, "\"by\":\"comm\",\"key\":\"0123456789abcdef\","));
	free(c.p);
	hist_set_free(s);
	free(s);
}

static void test_by_names(void **unused)
{
	assert_string_equal(hist_by_name(TCPFSM_BY_NONE), "none");
	assert_string_equal(hist_by_name(TCPFSM_BY_LPORT), "lport");
	assert_string_equal(hist_by_name(TCPFSM_BY_RPORT), "rport");
	assert_string_equal(hist_by_name(TCPFSM_BY_COMM), "comm");
	assert_string_equal(hist_by_name(TCPFSM_BY_CGROUP), "cgroup");
	assert_string_equal(hist_by_name(TCPFSM_BY_PORT), "port");
	assert_string_equal(hist_by_name((enum tcpfsm_by)6), "?");
	assert_string_equal(hist_by_name((enum tcpfsm_by)-1), "?");
	assert_int_equal(hist_by_parse("lport"), TCPFSM_BY_LPORT);
	assert_int_equal(hist_by_parse("rport"), TCPFSM_BY_RPORT);
	assert_int_equal(hist_by_parse("comm"), TCPFSM_BY_COMM);
	assert_int_equal(hist_by_parse("cgroup"), TCPFSM_BY_CGROUP);
	/* "none" is not something to ask for */
	assert_int_equal(hist_by_parse("none"), -EINVAL);
	assert_int_equal(hist_by_parse(""), -EINVAL);
	assert_int_equal(hist_by_parse("LPORT"), -EINVAL);
	assert_int_equal(hist_by_parse("port"), TCPFSM_BY_PORT);
	assert_int_equal(hist_by_parse("lport "), -EINVAL);
	for (int by = TCPFSM_BY_LPORT; by <= TCPFSM_BY_PORT; by++)
		assert_int_equal(hist_by_parse(hist_by_name(by)), by);
}

/* --- the committed recording --- */

/* `tcpfsm hist -r tests/data/exchange.tfr --json` without time and interval */
static void test_golden_exchange(void **unused)
{
	struct hist_set *s = calloc(1, sizeof(*s));
	struct capture c = {};
	struct record_header h;
	struct tcpfsm_event *ev;
	char *want;
	uint64_t transitions = 0, timed = 0, untimed = 0;
	size_t want_len, n;
	int records = 0;

	assert_non_null(s);
	hist_set_init(s, TCPFSM_BY_NONE, 256);
	ev = data_records("exchange.tfr", &h, &n);
	for (size_t i = 0; i < n; i++) {
		records++;
		assert_int_equal(hist_set_account(s, &ev[i]), 0);
	}
	free(ev);
	assert_int_equal(records, 52);
	for (int i = 0; i < TCPFSM_STATE_MAX; i++) {
		timed += s->state[i].count;
		untimed += s->state[i].unknown;
		for (int j = 0; j < TCPFSM_STATE_MAX; j++)
			transitions += s->transitions[i][j];
	}
	/* "tcpfsm: 49 transitions"; 3 are snapshot records */
	assert_int_equal(transitions, 49);
	assert_int_equal(timed, 35);
	assert_int_equal(untimed, 3);

	assert_int_equal(hist_set_print(s, true, 0, 0, true, capture_out, &c), 0);
	assert_json_lines(c.p);
	want = data_slurp("exchange.hist.json", &want_len);
	assert_same_text("JSON", c.p, c.len, want, want_len);
	free(want);
	free(c.p);
	hist_set_free(s);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msb),
		cmocka_unit_test(test_bucket_fixed_points),
		cmocka_unit_test(test_bucket_powers_and_subs),
		cmocka_unit_test(test_bucket_lo_hi_consistency),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_merge_percpu),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_quantile_edges),
		cmocka_unit_test(test_quantile_exact),
		cmocka_unit_test(test_quantile_property),
		cmocka_unit_test(test_text_golden),
		cmocka_unit_test(test_text_by_and_untimed),
		cmocka_unit_test(test_text_comm_sanitized),
		cmocka_unit_test(test_text_truncation),
		cmocka_unit_test(test_json_golden),
		cmocka_unit_test(test_json_truncation),
		cmocka_unit_test(test_set_account_rules),
		cmocka_unit_test(test_set_account_by),
		cmocka_unit_test(test_set_account_limit),
		cmocka_unit_test(test_set_keyed),
		cmocka_unit_test(test_set_copy),
		cmocka_unit_test(test_set_delta),
		cmocka_unit_test(test_set_print_order),
		cmocka_unit_test(test_set_print_by),
		cmocka_unit_test(test_set_print_long_comm),
		cmocka_unit_test(test_by_names),
		cmocka_unit_test(test_golden_exchange),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
