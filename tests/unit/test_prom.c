// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus text exposition (src/prom.c): exact decimal seconds, label
 * escaping, export bounds rounded to the kernel's bucket boundaries, the
 * --buckets parser, the whole output against an exact string, structural
 * properties of a big seeded input (families, series, cumulative buckets
 * against the exact counts) and cli_parse_listen for serve --listen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "cmd/cli.h"
#include "pure/histogram.h"
#include "pure/prom.h"
#include "pure/state.h"
#include "support.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define B TCPFSM_HIST_BUCKETS
#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL
#define TOP (1ULL << TCPFSM_HIST_MAX_SHIFT) /* lo of the last kernel bucket */

/* the states with gauges, in the order prom_format prints them */
static const int gauge_states[] = {
	TCPFSM_LISTEN,	   TCPFSM_SYN_SENT,  TCPFSM_SYN_RECV, TCPFSM_ESTABLISHED,
	TCPFSM_FIN_WAIT1,  TCPFSM_FIN_WAIT2, TCPFSM_CLOSING,  TCPFSM_TIME_WAIT,
	TCPFSM_CLOSE_WAIT, TCPFSM_LAST_ACK,  TCPFSM_CLOSE,
};

/* uniform in [0, n) (n > 0; the bias is irrelevant here) */
static uint64_t xs_below(uint64_t *s, uint64_t n)
{
	return xs_next(s) % n;
}

/*
 * Exact decimal seconds as prom_seconds writes them ("0", "1.5",
 * "0.00001024") back to nanoseconds. Strict: digits, at most 9 fractional
 * digits without a trailing zero, no sign, no exponent, no leading zero.
 */
static bool parse_seconds(const char *s, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0;
	const char *p = s;
	int nfrac = 0;

	if (*p < '0' || *p > '9')
		return false;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - (*p - '0')) / 10)
			return false;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++) {
			if (nfrac == 9)
				return false;
			frac = frac * 10 + (*p - '0');
		}
		if (!nfrac || p[-1] == '0')
			return false;
		for (int i = nfrac; i < 9; i++)
			frac *= 10;
	}
	if (*p)
		return false;
	if (whole > (UINT64_MAX - frac) / SEC)
		return false;
	*ns = whole * SEC + frac;
	return true;
}

/* --- prom_seconds --- */

static void check_seconds(uint64_t ns, const char *want)
{
	char buf[64];
	uint64_t back;
	int n;

	memset(buf, 'X', sizeof(buf));
	n = prom_seconds(buf, sizeof(buf), ns);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	assert_true(parse_seconds(buf, &back));
	assert_true(back == ns);
}

static void test_seconds_exact(void **state)
{
	check_seconds(0, "0");
	check_seconds(1, "0.000000001");
	check_seconds(10, "0.00000001");
	check_seconds(1024, "0.000001024");
	check_seconds(10240, "0.00001024");
	check_seconds(100000000, "0.1");
	check_seconds(999999999, "0.999999999");
	check_seconds(1000000000, "1");
	check_seconds(1000000001, "1.000000001");
	check_seconds(1500000000, "1.5");
	check_seconds(60 * SEC, "60");
	check_seconds(3848290697216ULL, "3848.290697216");
	check_seconds(TOP, "281474.976710656");
	check_seconds(UINT64_MAX, "18446744073.709551615");
}

/* every value, small or huge, round-trips exactly and never uses %g's
 * exponent or a trailing zero */
static void test_seconds_property(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char buf[64];

	for (int i = 0; i < 200000; i++) {
		uint64_t r = xs_next(&seed), back;
		uint64_t ns = r >> xs_below(&seed, 64); /* all magnitudes */
		int n = prom_seconds(buf, sizeof(buf), ns);

		assert_int_equal(n, strlen(buf));
		assert_null(strchr(buf, 'e'));
		assert_null(strchr(buf, 'E'));
		assert_true(parse_seconds(buf, &back));
		assert_true(back == ns);
	}
}

static void test_seconds_truncation(void **state)
{
	char buf[8];

	/* snprintf-style: the full length, a NUL-terminated prefix */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(prom_seconds(buf, 5, 3848290697216ULL), 14);
	assert_string_equal(buf, "3848");
	assert_int_equal(prom_seconds(buf, 1, 1500000000), 3);
	assert_string_equal(buf, "");
	assert_int_equal(prom_seconds(NULL, 0, UINT64_MAX), 21);
	assert_int_equal(prom_seconds(buf, sizeof(buf), 1500000000), 3);
	assert_string_equal(buf, "1.5");
}

/* --- prom_escape --- */

static void check_escape(const char *in, const char *want)
{
	char buf[128];
	int n;

	memset(buf, 'X', sizeof(buf));
	n = prom_escape(buf, sizeof(buf), in);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_escape(void **state)
{
	check_escape("", "");
	check_escape("tp_btf", "tp_btf");
	check_escape("0.1.0", "0.1.0");
	check_escape("a\\b", "a\\\\b");
	check_escape("\\", "\\\\");
	check_escape("say \"hi\"", "say \\\"hi\\\"");
	check_escape("l1\nl2\n", "l1\\nl2\\n");
	check_escape("\\\"\n", "\\\\\\\"\\n");
	/* only those three: tab, CR, UTF-8 and braces pass through */
	check_escape("a\tb\rc{}=,\xc2\xb5s", "a\tb\rc{}=,\xc2\xb5s");
}

static void test_escape_truncation(void **state)
{
	char buf[16];

	/* the full length, always NUL-terminated, a prefix of the full text */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(prom_escape(buf, 4, "a\"b"), 4); /* a\"b */
	assert_string_equal(buf, "a\\\"");
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(prom_escape(buf, 3, "a\"b"), 4);
	assert_string_equal(buf, "a\\");
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(prom_escape(buf, 2, "\n\n"), 4);
	assert_string_equal(buf, "\\");
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(prom_escape(buf, 1, "plain"), 5);
	assert_string_equal(buf, "");
	assert_int_equal(buf[1], 'X');
	assert_int_equal(prom_escape(NULL, 0, "x\\y\"z\n"), 9);
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(prom_escape(buf, 6, "plain"), 5);
	assert_string_equal(buf, "plain");
}

/* --- hist_boundary_at_least --- */

/* v is a kernel bucket boundary: the lower bound of the bucket holding it
 * (and not 0, bucket 0's lower bound, which bounds nothing below it) */
static bool is_boundary(uint64_t v)
{
	return v && hist_bucket_lo(tcpfsm_hist_bucket(v)) == v;
}

/* v is the smallest boundary >= ns (ns <= 2^48, so one exists) */
static void check_at_least(uint64_t ns)
{
	uint64_t v = hist_boundary_at_least(ns);

	assert_true(is_boundary(v));
	assert_true(v >= ns);
	if (v > ns && ns > 0) {
		/* no boundary in [ns, v): all of it in one bucket, whose lower
		 * bound is below ns */
		assert_int_equal(tcpfsm_hist_bucket(ns), tcpfsm_hist_bucket(v - 1));
		assert_true(hist_bucket_lo(tcpfsm_hist_bucket(ns)) < ns);
	}
}

static void test_boundary_every_bucket(void **state)
{
	for (unsigned int b = 1; b < B; b++) {
		uint64_t lo = hist_bucket_lo(b);

		/* at a boundary: itself */
		assert_true(hist_boundary_at_least(lo) == lo);
		check_at_least(lo);
		/* just below: this boundary */
		assert_true(hist_boundary_at_least(lo - 1) == lo);
		check_at_least(lo - 1);
		/* just above: the next one */
		if (b + 1 < B) {
			assert_true(hist_boundary_at_least(lo + 1) == hist_bucket_lo(b + 1));
			check_at_least(lo + 1);
			/* the middle of the bucket and its last value */
			assert_true(hist_boundary_at_least(lo + (hist_bucket_hi(b) - lo) / 2) ==
				    hist_bucket_hi(b));
			assert_true(hist_boundary_at_least(hist_bucket_hi(b) - 1) ==
				    hist_bucket_hi(b));
		}
	}
	/* a few by hand: 1.25 * 2^13, 1.75 * 2^41, 2^20, 2^30 */
	assert_true(hist_boundary_at_least(10 * US) == 10240);
	assert_true(hist_boundary_at_least(1 * MS) == 1048576);
	assert_true(hist_boundary_at_least(1 * SEC) == 1073741824);
	assert_true(hist_boundary_at_least(3600 * SEC) == 3848290697216ULL);
}

static void test_boundary_edges(void **state)
{
	uint64_t seed = 0x2545f4914f6cdd1dULL;

	/* below 1024 ns everything is in bucket 0: the first boundary is 1024.
	 * 0 too: bucket 0's lower bound is no boundary between buckets. */
	assert_true(hist_boundary_at_least(0) == 1024);
	for (uint64_t ns = 1; ns <= 1024; ns++) {
		assert_true(hist_boundary_at_least(ns) == 1024);
		check_at_least(ns);
	}
	/* 2^48, the last boundary, then clamped to it (the header's "2^48 ns
	 * at most": the last bucket has no upper boundary) */
	assert_true(hist_boundary_at_least(TOP) == TOP);
	assert_true(hist_boundary_at_least(TOP - 1) == TOP);
	assert_true(hist_boundary_at_least(TOP + 1) == TOP);
	assert_true(hist_boundary_at_least(TOP * 2) == TOP);
	assert_true(hist_boundary_at_least(UINT64_MAX) == TOP);
	/* and at random magnitudes in between */
	for (int i = 0; i < 200000; i++) {
		uint64_t ns = (xs_next(&seed) >> xs_below(&seed, 64)) & (TOP * 2 - 1);

		if (ns > TOP)
			ns >>= 1;
		check_at_least(ns);
	}
}

/* --- prom_parse_buckets / prom_default_buckets --- */

static void test_parse_buckets(void **state)
{
	uint64_t out[PROM_MAX_BUCKETS];
	char err[256] = "";

	/* rounded up to kernel boundaries: 1.25 * 2^13, 2^20, 2^30 */
	assert_int_equal(prom_parse_buckets("10us,1ms,1s", out, ARRAY_SIZE(out), err, sizeof(err)),
			 3);
	assert_true(out[0] == 10240);
	assert_true(out[1] == 1048576);
	assert_true(out[2] == 1073741824);
	assert_string_equal(err, "");

	/* unsorted: sorted */
	assert_int_equal(prom_parse_buckets("1s,10us,1ms", out, ARRAY_SIZE(out), err, sizeof(err)),
			 3);
	assert_true(out[0] == 10240);
	assert_true(out[1] == 1048576);
	assert_true(out[2] == 1073741824);

	/* duplicates after rounding: 9us, 10us, 10.1us and 10240ns are all
	 * 10240; 1ms and 1000us 2^20 */
	assert_int_equal(prom_parse_buckets("10us,1ms,10.1us,1000us,10240ns,9us", out,
					    ARRAY_SIZE(out), err, sizeof(err)),
			 2);
	assert_true(out[0] == 10240);
	assert_true(out[1] == 1048576);

	/* already a boundary: kept; below 1024 ns: 1024; beyond 2^48: 2^48 */
	assert_int_equal(prom_parse_buckets("3848290697216ns,1ns,100d", out, ARRAY_SIZE(out), err,
					    sizeof(err)),
			 3);
	assert_true(out[0] == 1024);
	assert_true(out[1] == 3848290697216ULL);
	assert_true(out[2] == TOP);

	/* exactly max */
	assert_int_equal(prom_parse_buckets("1s,2s,3s", out, 3, err, sizeof(err)), 3);
	assert_true(out[0] == 1073741824);
	assert_true(out[1] == 2147483648ULL);
	assert_true(out[2] == 3221225472ULL);
	assert_string_equal(err, "");
}

static void check_parse_err(const char *spec, size_t max, const char *want)
{
	uint64_t out[PROM_MAX_BUCKETS + 8];
	char err[1024] = "";

	assert_true(max <= ARRAY_SIZE(out));
	assert_int_equal(prom_parse_buckets(spec, out, max, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
}

static void test_parse_buckets_errors(void **state)
{
	char spec[512], want[600];
	uint64_t out[PROM_MAX_BUCKETS];
	char err[256];
	size_t n = 0;

	check_parse_err("", PROM_MAX_BUCKETS, "bad --buckets '': no durations");
	check_parse_err(",", PROM_MAX_BUCKETS, "bad --buckets ',': no durations");
	check_parse_err("1x", PROM_MAX_BUCKETS,
			"bad --buckets '1x': '1x' is not a positive duration");
	check_parse_err("0", PROM_MAX_BUCKETS, "bad --buckets '0': '0' is not a positive duration");
	check_parse_err("10us,0ms", PROM_MAX_BUCKETS,
			"bad --buckets '10us,0ms': '0ms' is not a positive duration");
	check_parse_err("10us,-1ms", PROM_MAX_BUCKETS,
			"bad --buckets '10us,-1ms': '-1ms' is not a positive duration");
	check_parse_err("1s,2s,3s,4s", 3, "bad --buckets '1s,2s,3s,4s': at most 3");

	/* PROM_MAX_BUCKETS distinct bounds fit, one more does not */
	for (int i = 1; i <= PROM_MAX_BUCKETS; i++)
		n += snprintf(spec + n, sizeof(spec) - n, "%s%lluus", i > 1 ? "," : "",
			      1ULL << (i - 1)); /* 1us .. 2^31us: 2x apart */
	assert_int_equal(prom_parse_buckets(spec, out, PROM_MAX_BUCKETS, err, sizeof(err)),
			 PROM_MAX_BUCKETS);
	for (int i = 1; i < PROM_MAX_BUCKETS; i++)
		assert_true(out[i] > out[i - 1]);
	snprintf(spec + n, sizeof(spec) - n, ",9999s");
	snprintf(want, sizeof(want), "bad --buckets '%s': at most %d", spec, PROM_MAX_BUCKETS);
	check_parse_err(spec, PROM_MAX_BUCKETS, want);
}

static void test_default_buckets(void **state)
{
	uint64_t out[PROM_MAX_BUCKETS], few[4];
	uint64_t b = 10240;

	assert_int_equal(prom_default_buckets(out, ARRAY_SIZE(out)), 16);
	assert_true(out[0] == 10240);
	for (int i = 0; i < 16; i++) {
		assert_true(is_boundary(out[i]));
		if (i)
			assert_true(out[i] > out[i - 1]);
	}
	/* one every 4x from 10.24 µs, then the first boundary above 1 h */
	for (int i = 0; i < 15; i++, b *= 4)
		assert_true(out[i] == b);
	assert_true(out[14] == 2748779069440ULL); /* 45.8 min */
	assert_true(out[15] == 3848290697216ULL); /* 64.1 min */
	assert_true(out[15] >= 3600 * SEC);
	/* a smaller array: only what fits */
	assert_int_equal(prom_default_buckets(few, ARRAY_SIZE(few)), 4);
	assert_true(few[0] == 10240);
	assert_true(few[3] == 10240ULL * 64);
}

/* --- prom_format: exact output --- */

struct fixture {
	struct hist_set hs;
	uint32_t conns[TCPFSM_STATE_MAX], stuck[TCPFSM_STATE_MAX];
	uint64_t alerts[TCPFSM_STATE_MAX];
	uint64_t bounds[PROM_MAX_BUCKETS];
	struct prom_input in;
};

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	static const struct prom_count drops[] = {
		{ "NETFILTER_DROP", "syn", 3 },
		{ "NO_SOCKET", "syn", 2 },
	};
	static const struct prom_count listen[] = { { "TCP_LISTEN_OVERFLOW", NULL, 144 } };

	assert_non_null(f);
	hist_set_init(&f->hs, TCPFSM_BY_NONE, 0);
	f->in.hists = &f->hs;
	/* drops tracked: the two families have samples */
	f->in.drops = drops;
	f->in.ndrops = 2;
	f->in.listen_drops = listen;
	f->in.nlisten_drops = 1;
	f->in.connections = f->conns;
	f->in.stuck = f->stuck;
	f->in.alerts_total = f->alerts;
	f->in.buckets_ns = f->bounds;
	f->in.version = "0.1.0";
	f->in.mode = "tp_btf";
	return f;
}

static void fixture_free(struct fixture *f)
{
	hist_set_free(&f->hs);
	free(f);
}

/* prom_format into a fresh buffer of exactly the size it asks for */
static char *format_all(const struct prom_input *in)
{
	int n = prom_format(NULL, 0, in);
	char *buf;

	assert_true(n > 0);
	buf = malloc(n + 1);
	assert_non_null(buf);
	memset(buf, 'X', n + 1);
	assert_int_equal(prom_format(buf, n + 1, in), n);
	assert_int_equal(strlen(buf), n);
	return buf;
}

static const char golden[] =
	"# HELP tcpfsm_state_duration_seconds Time connections spent in a state before leaving "
	"it.\n"
	"# TYPE tcpfsm_state_duration_seconds histogram\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"SYN_SENT\",le=\"0.00001024\"} 1\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"SYN_SENT\",le=\"0.001048576\"} 1\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"SYN_SENT\",le=\"1.073741824\"} 2\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"SYN_SENT\",le=\"+Inf\"} 2\n"
	"tcpfsm_state_duration_seconds_sum{state=\"SYN_SENT\"} 0.001048876\n"
	"tcpfsm_state_duration_seconds_count{state=\"SYN_SENT\"} 2\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"ESTABLISHED\",le=\"0.00001024\"} 2\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"ESTABLISHED\",le=\"0.001048576\"} 3\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"ESTABLISHED\",le=\"1.073741824\"} 4\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"ESTABLISHED\",le=\"+Inf\"} 5\n"
	"tcpfsm_state_duration_seconds_sum{state=\"ESTABLISHED\"} 5.002025479\n"
	"tcpfsm_state_duration_seconds_count{state=\"ESTABLISHED\"} 5\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"TIME_WAIT\",le=\"0.00001024\"} 0\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"TIME_WAIT\",le=\"0.001048576\"} 0\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"TIME_WAIT\",le=\"1.073741824\"} 1\n"
	"tcpfsm_state_duration_seconds_bucket{state=\"TIME_WAIT\",le=\"+Inf\"} 2\n"
	"tcpfsm_state_duration_seconds_sum{state=\"TIME_WAIT\"} 61.073741823\n"
	"tcpfsm_state_duration_seconds_count{state=\"TIME_WAIT\"} 2\n"
	"# HELP tcpfsm_transitions_total TCP state transitions seen.\n"
	"# TYPE tcpfsm_transitions_total counter\n"
	"tcpfsm_transitions_total{from=\"ESTABLISHED\",to=\"FIN_WAIT1\"} 2\n"
	"tcpfsm_transitions_total{from=\"ESTABLISHED\",to=\"CLOSE_WAIT\"} 1\n"
	"tcpfsm_transitions_total{from=\"SYN_SENT\",to=\"ESTABLISHED\"} 3\n"
	"tcpfsm_transitions_total{from=\"CLOSE\",to=\"SYN_SENT\"} 4\n"
	"# HELP tcpfsm_connections Sockets by state as of tcpfsm's last count (TIME_WAIT: "
	"timewait sockets).\n"
	"# TYPE tcpfsm_connections gauge\n"
	"tcpfsm_connections{state=\"LISTEN\"} 2\n"
	"tcpfsm_connections{state=\"SYN_SENT\"} 0\n"
	"tcpfsm_connections{state=\"SYN_RECV\"} 1\n"
	"tcpfsm_connections{state=\"ESTABLISHED\"} 7\n"
	"tcpfsm_connections{state=\"FIN_WAIT1\"} 0\n"
	"tcpfsm_connections{state=\"FIN_WAIT2\"} 0\n"
	"tcpfsm_connections{state=\"CLOSING\"} 0\n"
	"tcpfsm_connections{state=\"TIME_WAIT\"} 40\n"
	"tcpfsm_connections{state=\"CLOSE_WAIT\"} 4294967295\n"
	"tcpfsm_connections{state=\"LAST_ACK\"} 0\n"
	"tcpfsm_connections{state=\"CLOSE\"} 0\n"
	"# HELP tcpfsm_stuck_connections Connections with a firing alert, by state (SYN_RECV "
	"includes half-open requests).\n"
	"# TYPE tcpfsm_stuck_connections gauge\n"
	"tcpfsm_stuck_connections{state=\"LISTEN\"} 0\n"
	"tcpfsm_stuck_connections{state=\"SYN_SENT\"} 2\n"
	"tcpfsm_stuck_connections{state=\"SYN_RECV\"} 0\n"
	"tcpfsm_stuck_connections{state=\"ESTABLISHED\"} 0\n"
	"tcpfsm_stuck_connections{state=\"FIN_WAIT1\"} 0\n"
	"tcpfsm_stuck_connections{state=\"FIN_WAIT2\"} 0\n"
	"tcpfsm_stuck_connections{state=\"CLOSING\"} 0\n"
	"tcpfsm_stuck_connections{state=\"TIME_WAIT\"} 0\n"
	"tcpfsm_stuck_connections{state=\"CLOSE_WAIT\"} 1\n"
	"tcpfsm_stuck_connections{state=\"LAST_ACK\"} 0\n"
	"tcpfsm_stuck_connections{state=\"CLOSE\"} 0\n"
	"# HELP tcpfsm_alerts_total Alerts fired, by state.\n"
	"# TYPE tcpfsm_alerts_total counter\n"
	"tcpfsm_alerts_total{state=\"LISTEN\"} 0\n"
	"tcpfsm_alerts_total{state=\"SYN_SENT\"} 5\n"
	"tcpfsm_alerts_total{state=\"SYN_RECV\"} 12345678901234\n"
	"tcpfsm_alerts_total{state=\"ESTABLISHED\"} 0\n"
	"tcpfsm_alerts_total{state=\"FIN_WAIT1\"} 0\n"
	"tcpfsm_alerts_total{state=\"FIN_WAIT2\"} 0\n"
	"tcpfsm_alerts_total{state=\"CLOSING\"} 0\n"
	"tcpfsm_alerts_total{state=\"TIME_WAIT\"} 0\n"
	"tcpfsm_alerts_total{state=\"CLOSE_WAIT\"} 3\n"
	"tcpfsm_alerts_total{state=\"LAST_ACK\"} 0\n"
	"tcpfsm_alerts_total{state=\"CLOSE\"} 18446744073709551615\n"
	"# HELP tcpfsm_events_total State transitions the kernel reported.\n"
	"# TYPE tcpfsm_events_total counter\n"
	"tcpfsm_events_total 1234\n"
	"# HELP tcpfsm_events_lost_total Transitions not delivered: the ring buffer was full "
	"(histograms and transition counts still include them), or, with no filter set, the "
	"kernel skipped tcpfsm's program.\n"
	"# TYPE tcpfsm_events_lost_total counter\n"
	"tcpfsm_events_lost_total 5\n"
	"# HELP tcpfsm_drops_total TCP segments the kernel dropped, by drop reason (its enum "
	"skb_drop_reason) and segment kind.\n"
	"# TYPE tcpfsm_drops_total counter\n"
	"tcpfsm_drops_total{reason=\"NETFILTER_DROP\",segment=\"syn\"} 3\n"
	"tcpfsm_drops_total{reason=\"NO_SOCKET\",segment=\"syn\"} 2\n"
	"# HELP tcpfsm_listen_drops_total SYNs dropped before any socket existed for them, by "
	"reason (TCP_LISTEN_OVERFLOW: counted by the listeners themselves).\n"
	"# TYPE tcpfsm_listen_drops_total counter\n"
	"tcpfsm_listen_drops_total{reason=\"TCP_LISTEN_OVERFLOW\"} 144\n"
	"# HELP tcpfsm_build_info tcpfsm's version and how it attached.\n"
	"# TYPE tcpfsm_build_info gauge\n"
	"tcpfsm_build_info{version=\"0.1.0\",attach=\"tp_btf\"} 1\n";

static struct fixture *golden_fixture(void)
{
	struct fixture *f = fixture_new();
	struct hist_set *hs = &f->hs;
	char err[128];

	f->in.nbuckets =
		prom_parse_buckets("1s,10us,1ms", f->bounds, PROM_MAX_BUCKETS, err, sizeof(err));
	assert_int_equal(f->in.nbuckets, 3); /* 10240, 1048576, 1073741824 ns */

	/*
	 * Kernel buckets are [lo, hi) and an exported bucket counts the values
	 * < le, so a value exactly equal to a bound is NOT in that bound's
	 * bucket: it counts from the next one on. Every bound is a kernel
	 * boundary, so the cumulative counts are exact, not estimates.
	 */
	hist_add(&hs->state[TCPFSM_ESTABLISHED], 5000);		/* < 10240 */
	hist_add(&hs->state[TCPFSM_ESTABLISHED], 10239);	/* < 10240, top of its bucket */
	hist_add(&hs->state[TCPFSM_ESTABLISHED], 10240);	/* == bound: le=0.001048576 on */
	hist_add(&hs->state[TCPFSM_ESTABLISHED], 2 * MS);	/* < 1.073741824 s */
	hist_add(&hs->state[TCPFSM_ESTABLISHED], 5 * SEC);	/* only +Inf */
	hist_add(&hs->state[TCPFSM_SYN_SENT], 300);		/* bucket 0: < 1024 ns */
	hist_add(&hs->state[TCPFSM_SYN_SENT], 1048576);		/* == bound: next bucket */
	hist_add(&hs->state[TCPFSM_TIME_WAIT], 1073741823);	/* just below the last bound */
	hist_add(&hs->state[TCPFSM_TIME_WAIT], 60 * SEC);
	/* only transitions of unknown duration out of LISTEN: no samples,
	 * no histogram */
	hs->state[TCPFSM_LISTEN].unknown = 3;

	hs->transitions[TCPFSM_CLOSE][TCPFSM_SYN_SENT] = 4;
	hs->transitions[TCPFSM_SYN_SENT][TCPFSM_ESTABLISHED] = 3;
	hs->transitions[TCPFSM_ESTABLISHED][TCPFSM_FIN_WAIT1] = 2;
	hs->transitions[TCPFSM_ESTABLISHED][TCPFSM_CLOSE_WAIT] = 1;

	f->conns[TCPFSM_LISTEN] = 2;
	f->conns[TCPFSM_SYN_RECV] = 1;
	f->conns[TCPFSM_ESTABLISHED] = 7;
	f->conns[TCPFSM_TIME_WAIT] = 40;
	f->conns[TCPFSM_CLOSE_WAIT] = UINT32_MAX;
	f->conns[TCPFSM_NEW_SYN_RECV] = 99; /* no gauge of its own */
	f->stuck[TCPFSM_SYN_SENT] = 2;
	f->stuck[TCPFSM_CLOSE_WAIT] = 1;
	f->stuck[TCPFSM_NEW_SYN_RECV] = 98;
	f->alerts[TCPFSM_SYN_SENT] = 5;
	f->alerts[TCPFSM_SYN_RECV] = 12345678901234ULL;
	f->alerts[TCPFSM_CLOSE_WAIT] = 3;
	f->alerts[TCPFSM_CLOSE] = UINT64_MAX;
	f->alerts[TCPFSM_NEW_SYN_RECV] = 97;
	f->in.events_total = 1234;
	f->in.events_lost = 5;
	return f;
}

static void test_format_golden(void **state)
{
	struct fixture *f = golden_fixture();
	char *out = format_all(&f->in);

	assert_string_equal(out, golden);
	free(out);
	fixture_free(f);
}

/* snprintf-style: any buffer gets a NUL-terminated prefix, the return is
 * the full length */
static void test_format_truncation(void **state)
{
	struct fixture *f = golden_fixture();
	size_t full = strlen(golden);
	char *buf = malloc(full + 16);

	assert_non_null(buf);
	for (size_t len = 1; len <= full + 1; len++) {
		memset(buf, 'X', full + 16);
		assert_int_equal(prom_format(buf, len, &f->in), full);
		assert_int_equal(strlen(buf), len - 1 < full ? len - 1 : full);
		assert_memory_equal(buf, golden, strlen(buf));
		assert_int_equal(buf[len], 'X');
	}
	free(buf);
	fixture_free(f);
}

static size_t count_prefix(const char *text, const char *prefix)
{
	size_t n = 0, pl = strlen(prefix);

	for (const char *p = text; *p; p = strchr(p, '\n') + 1)
		if (!strncmp(p, prefix, pl))
			n++;
	return n;
}

/* nothing seen yet: the histogram and transition families are empty (their
 * HELP and TYPE only), every gauge is there at 0 */
static void test_format_empty(void **state)
{
	struct fixture *f = fixture_new();
	char *out;

	f->in.nbuckets = prom_default_buckets(f->bounds, PROM_MAX_BUCKETS);
	/* unknown-duration transitions alone make no samples */
	for (int s = 1; s < TCPFSM_STATE_MAX; s++)
		f->hs.state[s].unknown = s;
	out = format_all(&f->in);
	assert_int_equal(count_prefix(out, "tcpfsm_state_duration_seconds"), 0);
	assert_int_equal(count_prefix(out, "# HELP tcpfsm_state_duration_seconds "), 1);
	assert_int_equal(count_prefix(out, "# TYPE tcpfsm_state_duration_seconds histogram\n"), 1);
	assert_int_equal(count_prefix(out, "tcpfsm_transitions_total"), 0);
	assert_int_equal(count_prefix(out, "# TYPE tcpfsm_transitions_total counter\n"), 1);
	assert_int_equal(count_prefix(out, "tcpfsm_connections{"), 11);
	assert_int_equal(count_prefix(out, "tcpfsm_stuck_connections{"), 11);
	assert_int_equal(count_prefix(out, "tcpfsm_alerts_total{"), 11);
	for (size_t i = 0; i < ARRAY_SIZE(gauge_states); i++) {
		char line[128];

		snprintf(line, sizeof(line), "tcpfsm_connections{state=\"%s\"} 0\n",
			 state_name(gauge_states[i]));
		assert_non_null(strstr(out, line));
		snprintf(line, sizeof(line), "tcpfsm_stuck_connections{state=\"%s\"} 0\n",
			 state_name(gauge_states[i]));
		assert_non_null(strstr(out, line));
		snprintf(line, sizeof(line), "tcpfsm_alerts_total{state=\"%s\"} 0\n",
			 state_name(gauge_states[i]));
		assert_non_null(strstr(out, line));
	}
	assert_null(strstr(out, "NEW_SYN_RECV"));
	assert_non_null(strstr(out, "\ntcpfsm_events_total 0\n"));
	assert_non_null(strstr(out, "\ntcpfsm_events_lost_total 0\n"));
	free(out);

	/* one sample in one state: that state's histogram only */
	hist_add(&f->hs.state[TCPFSM_CLOSE_WAIT], 42 * SEC);
	f->hs.transitions[TCPFSM_ESTABLISHED][TCPFSM_CLOSE_WAIT] = 0;
	f->hs.transitions[TCPFSM_CLOSE_WAIT][TCPFSM_LAST_ACK] = 1;
	out = format_all(&f->in);
	assert_int_equal(count_prefix(out, "tcpfsm_state_duration_seconds_bucket{"), 17);
	assert_int_equal(count_prefix(out, "tcpfsm_state_duration_seconds_bucket{"
					   "state=\"CLOSE_WAIT\","),
			 17);
	assert_non_null(strstr(out, "\ntcpfsm_state_duration_seconds_bucket{state=\"CLOSE_WAIT\","
				    "le=\"10.73741824\"} 0\n"));
	/* 42 s < 42.94967296 s = 10.24 us * 4^11 */
	assert_non_null(strstr(out, "\ntcpfsm_state_duration_seconds_bucket{state=\"CLOSE_WAIT\","
				    "le=\"42.94967296\"} 1\n"));
	assert_non_null(
		strstr(out, "\ntcpfsm_state_duration_seconds_sum{state=\"CLOSE_WAIT\"} 42\n"));
	assert_int_equal(count_prefix(out, "tcpfsm_transitions_total{"), 1);
	assert_non_null(
		strstr(out, "\ntcpfsm_transitions_total{from=\"CLOSE_WAIT\",to=\"LAST_ACK\"} 1\n"));
	free(out);
	fixture_free(f);
}

/* label values are escaped, whatever their length: one valid sample line */
static void test_format_build_info_escaped(void **state)
{
	struct fixture *f = fixture_new();
	char version[256], want[600];
	const char *line;
	char *out;
	size_t n;

	f->in.nbuckets = 0;
	/* long enough to overflow any small scratch buffer, a backslash and a
	 * quote right where one would cut */
	memset(version, 'v', sizeof(version));
	version[60] = '\\';
	version[61] = '"';
	version[62] = '\\';
	version[63] = '\n';
	version[200] = 0;
	f->in.version = version;
	f->in.mode = "trace\"point";
	out = format_all(&f->in);
	n = snprintf(want, sizeof(want), "tcpfsm_build_info{version=\"");
	n += prom_escape(want + n, sizeof(want) - n, version);
	snprintf(want + n, sizeof(want) - n, "\",attach=\"trace\\\"point\"} 1\n");
	/* 27 + 196 plain + 4 escaped x 2 + 27 */
	assert_int_equal(strlen(want), 258);
	line = strstr(out, "\ntcpfsm_build_info{");
	assert_non_null(line);
	assert_string_equal(line + 1, want);
	free(out);

	/* no version or mode: empty strings */
	f->in.version = NULL;
	f->in.mode = NULL;
	out = format_all(&f->in);
	line = strstr(out, "\ntcpfsm_build_info{");
	assert_non_null(line);
	assert_string_equal(line + 1, "tcpfsm_build_info{version=\"\",attach=\"\"} 1\n");
	free(out);
	fixture_free(f);
}

/* --- prom_format: properties of a big seeded input --- */

/* The transitions Linux's TCP makes (as inet_sock_set_state reports them). */
static const int legal[][2] = {
	{ TCPFSM_CLOSE, TCPFSM_SYN_SENT },	   { TCPFSM_CLOSE, TCPFSM_LISTEN },
	{ TCPFSM_LISTEN, TCPFSM_CLOSE },	   { TCPFSM_LISTEN, TCPFSM_SYN_RECV },
	{ TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED },  { TCPFSM_SYN_SENT, TCPFSM_CLOSE },
	{ TCPFSM_SYN_RECV, TCPFSM_ESTABLISHED },  { TCPFSM_SYN_RECV, TCPFSM_FIN_WAIT1 },
	{ TCPFSM_SYN_RECV, TCPFSM_CLOSE },	   { TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1 },
	{ TCPFSM_ESTABLISHED, TCPFSM_CLOSE_WAIT }, { TCPFSM_ESTABLISHED, TCPFSM_CLOSE },
	{ TCPFSM_FIN_WAIT1, TCPFSM_FIN_WAIT2 },	   { TCPFSM_FIN_WAIT1, TCPFSM_CLOSING },
	{ TCPFSM_FIN_WAIT1, TCPFSM_CLOSE },	   { TCPFSM_FIN_WAIT2, TCPFSM_TIME_WAIT },
	{ TCPFSM_FIN_WAIT2, TCPFSM_CLOSE },	   { TCPFSM_CLOSING, TCPFSM_TIME_WAIT },
	{ TCPFSM_CLOSING, TCPFSM_CLOSE },	   { TCPFSM_TIME_WAIT, TCPFSM_CLOSE },
	{ TCPFSM_CLOSE_WAIT, TCPFSM_LAST_ACK },	   { TCPFSM_CLOSE_WAIT, TCPFSM_CLOSE },
	{ TCPFSM_LAST_ACK, TCPFSM_CLOSE },	   { TCPFSM_SYN_RECV, TCPFSM_CLOSE_WAIT },
};

#define MAX_SAMPLES 3000
#define MAX_SERIES 1024
#define MAX_FAMILIES 16
#define MAX_LABELS 4

struct samples {
	uint64_t v[MAX_SAMPLES];
	size_t n;
	uint64_t sum;
};

struct family {
	char name[64];
	char type[16];
	int help, typed;
	bool seen_samples, closed;
};

/* what the parse saw of one state's histogram */
struct seen_hist {
	int nbuckets;		/* finite le buckets */
	uint64_t last_le, last_cum;
	bool inf, sum, count;
	uint64_t inf_count, sum_ns, count_v;
};

struct parsed {
	struct family fam[MAX_FAMILIES];
	int nfam, cur;		/* cur: the family whose lines come now */
	char *series[MAX_SERIES];
	int nseries;
	struct seen_hist h[TCPFSM_STATE_MAX];
	int nconn, nstuck, nalerts;
};

static bool metric_name_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
		      (i && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

static bool label_name_ok(const char *s, size_t n)
{
	if (!n || (n >= 2 && s[0] == '_' && s[1] == '_'))
		return false; /* __ is reserved */
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		      (i && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* an unsigned integer with no sign, exponent or leading zero */
static bool parse_uint(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s || (*s == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - (*s - '0')) / 10)
			return false;
		x = x * 10 + (*s - '0');
	}
	*v = x;
	return true;
}

static struct family *family_get(struct parsed *p, const char *name, size_t n)
{
	for (int i = 0; i < p->nfam; i++)
		if (strlen(p->fam[i].name) == n && !strncmp(p->fam[i].name, name, n))
			return &p->fam[i];
	return NULL;
}

/* a HELP or TYPE line for a family: it starts (or continues) that family */
static struct family *family_meta(struct parsed *p, const char *name, size_t n)
{
	struct family *f = family_get(p, name, n);

	if (!f) {
		assert_true(p->nfam < MAX_FAMILIES);
		f = &p->fam[p->nfam++];
		assert_true(n < sizeof(f->name));
		memcpy(f->name, name, n);
		f->name[n] = 0;
	}
	/* metadata before the family's samples, lines of a family together */
	assert_false(f->seen_samples);
	assert_false(f->closed);
	if (p->cur >= 0 && &p->fam[p->cur] != f)
		p->fam[p->cur].closed = true;
	p->cur = f - p->fam;
	return f;
}

static void parse_comment(struct parsed *p, const char *line)
{
	const char *name, *sp;
	struct family *f;

	if (!strncmp(line, "# HELP ", 7)) {
		name = line + 7;
		sp = strchr(name, ' ');
		assert_non_null(sp);
		assert_true(metric_name_ok(name, sp - name));
		assert_true(sp[1] != 0); /* some text */
		/* HELP text: only \\ and \n escapes, no raw backslash otherwise */
		for (const char *c = sp + 1; *c; c++) {
			if (*c == '\\') {
				assert_true(c[1] == '\\' || c[1] == 'n');
				c++;
			}
		}
		f = family_meta(p, name, sp - name);
		f->help++;
		assert_int_equal(f->help, 1);
	} else if (!strncmp(line, "# TYPE ", 7)) {
		name = line + 7;
		sp = strchr(name, ' ');
		assert_non_null(sp);
		assert_true(metric_name_ok(name, sp - name));
		assert_true(!strcmp(sp + 1, "counter") || !strcmp(sp + 1, "gauge") ||
			    !strcmp(sp + 1, "histogram") || !strcmp(sp + 1, "summary") ||
			    !strcmp(sp + 1, "untyped"));
		f = family_meta(p, name, sp - name);
		f->typed++;
		assert_int_equal(f->typed, 1);
		snprintf(f->type, sizeof(f->type), "%s", sp + 1);
	} else {
		fail_msg("unexpected comment line: %s", line);
	}
}

struct label {
	char name[32], value[256];
};

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->name, ((const struct label *)b)->name);
}

static const char *label_value(const struct label *l, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(l[i].name, name))
			return l[i].value;
	return NULL;
}

/* the state a state="..." label names, one of the 11 with gauges */
static int label_state(const struct label *l, int n)
{
	const char *v = label_value(l, n, "state");

	assert_non_null(v);
	for (size_t i = 0; i < ARRAY_SIZE(gauge_states); i++)
		if (!strcmp(v, state_name(gauge_states[i])))
			return gauge_states[i];
	fail_msg("unknown state label %s", v);
	return -1;
}

/* hist samples per state, to check the exported counts against */
static const struct samples *hist_truth;

static void check_hist_sample(struct parsed *p, const char *suffix, const struct label *l,
			      int nl, const char *value)
{
	int st = label_state(l, nl);
	struct seen_hist *h = &p->h[st];
	const struct samples *truth = &hist_truth[st];
	uint64_t v;

	if (!strcmp(suffix, "_bucket")) {
		const char *le = label_value(l, nl, "le");

		assert_int_equal(nl, 2);
		assert_non_null(le);
		assert_true(parse_uint(value, &v));
		assert_false(h->inf); /* +Inf is the last bucket */
		assert_false(h->sum);
		assert_false(h->count);
		/* cumulative: never decreasing */
		assert_true(v >= h->last_cum);
		h->last_cum = v;
		if (!strcmp(le, "+Inf")) {
			h->inf = true;
			h->inf_count = v;
		} else {
			uint64_t le_ns, exact = 0;

			assert_true(parse_seconds(le, &le_ns));
			/* strictly increasing le */
			if (h->nbuckets)
				assert_true(le_ns > h->last_le);
			h->last_le = le_ns;
			h->nbuckets++;
			/* and exact: the samples < le */
			for (size_t i = 0; i < truth->n; i++)
				exact += truth->v[i] < le_ns;
			assert_true(v == exact);
		}
	} else if (!strcmp(suffix, "_sum")) {
		assert_int_equal(nl, 1);
		assert_true(h->inf);
		assert_false(h->sum);
		assert_true(parse_seconds(value, &h->sum_ns));
		h->sum = true;
	} else if (!strcmp(suffix, "_count")) {
		assert_int_equal(nl, 1);
		assert_true(h->sum);
		assert_false(h->count);
		assert_true(parse_uint(value, &h->count_v));
		h->count = true;
	} else {
		fail_msg("histogram sample %s", suffix);
	}
}

static void parse_sample(struct parsed *p, const char *line)
{
	struct label l[MAX_LABELS];
	const char *s = line, *name_end, *value;
	char key[1024], name[64];
	struct family *f = NULL;
	const char *suffix = "";
	int nl = 0;
	size_t n;

	while (*s && *s != '{' && *s != ' ')
		s++;
	name_end = s;
	assert_true(metric_name_ok(line, name_end - line));
	assert_true((size_t)(name_end - line) < sizeof(name));
	memcpy(name, line, name_end - line);
	name[name_end - line] = 0;
	if (*s == '{') {
		s++;
		while (*s != '}') {
			const char *ln = s;
			size_t vn = 0;

			assert_true(nl < MAX_LABELS);
			while (*s && *s != '=')
				s++;
			assert_true(label_name_ok(ln, s - ln));
			assert_true((size_t)(s - ln) < sizeof(l[nl].name));
			memcpy(l[nl].name, ln, s - ln);
			l[nl].name[s - ln] = 0;
			assert_int_equal(s[1], '"');
			for (s += 2; *s != '"'; s++) {
				assert_true(*s != 0 && *s != '\n');
				if (*s == '\\') {
					s++;
					assert_true(*s == '\\' || *s == '"' || *s == 'n');
				}
				assert_true(vn + 1 < sizeof(l[nl].value));
				l[nl].value[vn++] = *s;
			}
			l[nl].value[vn] = 0;
			s++;
			/* never a connection's identity */
			assert_null(strstr(l[nl].name, "addr"));
			assert_null(strstr(l[nl].name, "port"));
			assert_null(strstr(l[nl].name, "cookie"));
			for (int i = 0; i < nl; i++)
				assert_string_not_equal(l[i].name, l[nl].name);
			nl++;
			if (*s == ',')
				s++;
			else
				assert_int_equal(*s, '}');
		}
		assert_true(nl > 0);
		s++;
	}
	assert_int_equal(*s, ' ');
	value = s + 1;
	assert_null(strchr(value, ' ')); /* no timestamp */

	/* the family: the name itself, or a histogram's with its suffix */
	f = family_get(p, name, strlen(name));
	if (!f) {
		static const char *const sfx[] = { "_bucket", "_sum", "_count" };

		for (size_t i = 0; i < ARRAY_SIZE(sfx) && !f; i++) {
			size_t nn = strlen(name), sl = strlen(sfx[i]);

			if (nn > sl && !strcmp(name + nn - sl, sfx[i])) {
				f = family_get(p, name, nn - sl);
				suffix = sfx[i];
			}
		}
		assert_non_null(f);
		assert_string_equal(f->type, "histogram");
	} else {
		assert_string_not_equal(f->type, "histogram");
	}
	assert_int_equal(f->help, 1);
	assert_int_equal(f->typed, 1);
	assert_false(f->closed);
	assert_true(&p->fam[p->cur] == f);
	f->seen_samples = true;

	/* the same name and label set only once */
	qsort(l, nl, sizeof(l[0]), cmp_label);
	n = snprintf(key, sizeof(key), "%s{", name);
	for (int i = 0; i < nl; i++)
		n += snprintf(key + n, sizeof(key) - n, "%s=\"%s\",", l[i].name, l[i].value);
	assert_true(n < sizeof(key));
	for (int i = 0; i < p->nseries; i++)
		assert_string_not_equal(p->series[i], key);
	assert_true(p->nseries < MAX_SERIES);
	p->series[p->nseries] = strdup(key);
	assert_non_null(p->series[p->nseries]);
	p->nseries++;

	if (!strcmp(f->type, "histogram")) {
		check_hist_sample(p, suffix, l, nl, value);
	} else {
		bool by_state = !strcmp(name, "tcpfsm_connections") ||
				!strcmp(name, "tcpfsm_stuck_connections") ||
				!strcmp(name, "tcpfsm_alerts_total");
		uint64_t v;

		assert_true(parse_uint(value, &v));
		if (by_state) {
			assert_int_equal(nl, 1);
			label_state(l, nl);
		}
		p->nconn += !strcmp(name, "tcpfsm_connections");
		p->nstuck += !strcmp(name, "tcpfsm_stuck_connections");
		p->nalerts += !strcmp(name, "tcpfsm_alerts_total");
	}
}

static void parse_exposition(struct parsed *p, char *text)
{
	char *line = text, *nl;

	memset(p, 0, sizeof(*p));
	p->cur = -1;
	assert_true(*text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = 0;
		assert_true(*line); /* no empty lines */
		if (*line == '#')
			parse_comment(p, line);
		else
			parse_sample(p, line);
		*nl = '\n';
	}
}

static void parsed_free(struct parsed *p)
{
	for (int i = 0; i < p->nseries; i++)
		free(p->series[i]);
}

/* a value of any magnitude, some beyond 2^48, some exactly at a bound */
static uint64_t random_duration(uint64_t *seed, const uint64_t *bounds, size_t nb)
{
	switch (xs_below(seed, 8)) {
	case 0:
		return bounds[xs_below(seed, nb)];
	case 1:
		return bounds[xs_below(seed, nb)] - 1;
	case 2:
		return xs_below(seed, 2048);
	default:
		return xs_next(seed) >> (13 + xs_below(seed, 51)); /* < 2^51, all magnitudes */
	}
}

static void test_format_property(void **state)
{
	static struct samples truth[TCPFSM_STATE_MAX];
	struct fixture *f = fixture_new();
	uint64_t seed = 0xdeadbeefcafef00dULL;
	struct parsed *p = calloc(1, sizeof(*p));
	char *out;

	assert_non_null(p);
	memset(truth, 0, sizeof(truth));
	hist_truth = truth;
	f->in.nbuckets = prom_default_buckets(f->bounds, PROM_MAX_BUCKETS);
	f->in.version = TCPFSM_VERSION;
	f->in.mode = "tracepoint";
	/* every state with samples */
	for (size_t i = 0; i < ARRAY_SIZE(gauge_states); i++) {
		int st = gauge_states[i];
		struct samples *t = &truth[st];

		t->n = 1 + xs_below(&seed, MAX_SAMPLES);
		for (size_t k = 0; k < t->n; k++) {
			t->v[k] = random_duration(&seed, f->bounds, f->in.nbuckets);
			t->sum += t->v[k];
			hist_add(&f->hs.state[st], t->v[k]);
		}
		f->hs.state[st].unknown = xs_below(&seed, 5);
		f->conns[st] = xs_next(&seed);
		f->stuck[st] = xs_below(&seed, 100);
		f->alerts[st] = xs_next(&seed) >> xs_below(&seed, 64);
	}
	for (size_t i = 0; i < ARRAY_SIZE(legal); i++)
		f->hs.transitions[legal[i][0]][legal[i][1]] = 1 + (xs_next(&seed) >> 1);
	f->in.events_total = xs_next(&seed);
	f->in.events_lost = xs_next(&seed) >> 20;

	out = format_all(&f->in);
	parse_exposition(p, out);

	/* all families, each with its HELP and TYPE */
	assert_int_equal(p->nfam, 10);
	for (int i = 0; i < p->nfam; i++) {
		assert_int_equal(p->fam[i].help, 1);
		assert_int_equal(p->fam[i].typed, 1);
		assert_true(p->fam[i].seen_samples);
	}
	/* every state's histogram complete and consistent */
	for (size_t i = 0; i < ARRAY_SIZE(gauge_states); i++) {
		int st = gauge_states[i];
		const struct seen_hist *h = &p->h[st];

		assert_int_equal(h->nbuckets, f->in.nbuckets);
		assert_true(h->last_le == f->bounds[f->in.nbuckets - 1]);
		assert_true(h->inf && h->sum && h->count);
		assert_true(h->inf_count == h->count_v);
		assert_true(h->count_v == truth[st].n);
		assert_true(h->sum_ns == truth[st].sum);
	}
	assert_int_equal(p->nconn, 11);
	assert_int_equal(p->nstuck, 11);
	assert_int_equal(p->nalerts, 11);
	/* 11 x (16 + 3) + 24 + 3 x 11 + 3 + the fixture's 3 drop samples */
	assert_int_equal(p->nseries, 209 + ARRAY_SIZE(legal) + 33 + 3 + 3);
	assert_true(p->nseries < 300);
	parsed_free(p);
	free(p);
	free(out);
	fixture_free(f);
	hist_truth = NULL;
}

/* the golden output passes the same structural checks */
static void test_format_golden_structure(void **state)
{
	static struct samples truth[TCPFSM_STATE_MAX];
	struct fixture *f = golden_fixture();
	struct parsed *p = calloc(1, sizeof(*p));
	char *out = format_all(&f->in);

	assert_non_null(p);
	memset(truth, 0, sizeof(truth));
	truth[TCPFSM_ESTABLISHED] = (struct samples){ { 5000, 10239, 10240, 2 * MS, 5 * SEC }, 5 };
	truth[TCPFSM_SYN_SENT] = (struct samples){ { 300, 1048576 }, 2 };
	truth[TCPFSM_TIME_WAIT] = (struct samples){ { 1073741823, 60 * SEC }, 2 };
	hist_truth = truth;
	parse_exposition(p, out);
	assert_int_equal(p->nfam, 10);
	assert_int_equal(p->nseries, 3 * 6 + 4 + 33 + 3 + 3);
	parsed_free(p);
	free(p);
	free(out);
	fixture_free(f);
	hist_truth = NULL;
}

/* --- cli_parse_listen --- */

static void check_listen_ok(const char *s, int family, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	char err[256] = "", txt[INET6_ADDRSTRLEN];

	memset(&ss, 0xa5, sizeof(ss));
	assert_int_equal(cli_parse_listen(s, &ss, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ss.ss_family, family);
	if (family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		assert_int_equal(ntohs(in->sin_port), port);
		assert_non_null(inet_ntop(AF_INET, &in->sin_addr, txt, sizeof(txt)));
		assert_int_equal(in->sin_zero[0], 0);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

		assert_int_equal(ntohs(in6->sin6_port), port);
		assert_non_null(inet_ntop(AF_INET6, &in6->sin6_addr, txt, sizeof(txt)));
		assert_int_equal(in6->sin6_flowinfo, 0);
		assert_int_equal(in6->sin6_scope_id, 0);
	}
	assert_string_equal(txt, addr);
}

static void check_listen_bad(const char *s)
{
	struct sockaddr_storage ss;
	char err[256] = "", want[256];

	snprintf(want, sizeof(want),
		 "bad --listen '%s': expected ADDR:PORT with a numeric address (127.0.0.1:9867, "
		 "[::1]:9867, 0.0.0.0:9867)",
		 s);
	assert_int_equal(cli_parse_listen(s, &ss, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
}

static void test_listen(void **state)
{
	check_listen_ok("127.0.0.1:9867", AF_INET, "127.0.0.1", 9867);
	check_listen_ok(TCPFSM_DEFAULT_LISTEN, AF_INET, "127.0.0.1", 9867);
	check_listen_ok("[::1]:9867", AF_INET6, "::1", 9867);
	check_listen_ok("0.0.0.0:1", AF_INET, "0.0.0.0", 1);
	check_listen_ok("[::]:65535", AF_INET6, "::", 65535);
	check_listen_ok("10.1.2.3:443", AF_INET, "10.1.2.3", 443);
	check_listen_ok("[fe80::1:2]:8080", AF_INET6, "fe80::1:2", 8080);

	check_listen_bad("");
	check_listen_bad("9867");
	check_listen_bad(":9867");
	check_listen_bad("localhost:9867");
	check_listen_bad("127.0.0.1:");
	check_listen_bad("127.0.0.1:0");
	check_listen_bad("127.0.0.1:65536");
	check_listen_bad("[::1]9867");
	check_listen_bad("1.2.3.4:80x");
	check_listen_bad("[::1]:");
	check_listen_bad("[]:9867");
	check_listen_bad("[::1:9867");
	check_listen_bad("127.0.0.1:99999999999999999999999");
	check_listen_bad("256.0.0.1:80");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds_exact),
		cmocka_unit_test(test_seconds_property),
		cmocka_unit_test(test_seconds_truncation),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_truncation),
		cmocka_unit_test(test_boundary_every_bucket),
		cmocka_unit_test(test_boundary_edges),
		cmocka_unit_test(test_parse_buckets),
		cmocka_unit_test(test_parse_buckets_errors),
		cmocka_unit_test(test_default_buckets),
		cmocka_unit_test(test_format_golden),
		cmocka_unit_test(test_format_truncation),
		cmocka_unit_test(test_format_empty),
		cmocka_unit_test(test_format_build_info_escaped),
		cmocka_unit_test(test_format_property),
		cmocka_unit_test(test_format_golden_structure),
		cmocka_unit_test(test_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
