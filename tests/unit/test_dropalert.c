// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Drops as evidence: the alert engine takes drop records through the
 * connection table, an alert carries the drops of its segments (its own
 * namespace's and its peer's on this host), its verdict and diagnosis name
 * them; a connection's history carries its own. Exact text throughout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "pure/alert.h"
#include "pure/alertengine.h"
#include "pure/connfmt.h"
#include "pure/conntab.h"
#include "pure/diagnosis.h"
#include "support.h"

#define SEC 1000000000ULL
#define CLIENT_NS 4026531840u /* client_event's */
#define SERVER_NS 4026532000u

/* reasons and locations as a kernel would name them */
enum { R_NOT_SPECIFIED = 2, R_NO_SOCKET = 3, R_NETFILTER = 12, R_OVERFLOW = 30 };
#define AT_NFT 0xffffffffc0001000ULL
#define AT_TCP 0xffffffff81002000ULL

static void namer(void *ctx, struct drop_item *it)
{
	const char *r = it->reason == R_NETFILTER ? "NETFILTER_DROP" :
			it->reason == R_NO_SOCKET ? "NO_SOCKET" :
			it->reason == R_OVERFLOW ? "TCP_LISTEN_OVERFLOW" :
			it->reason == R_NOT_SPECIFIED ? "NOT_SPECIFIED" : "reason_99";

	snprintf(it->reason_name, sizeof(it->reason_name), "%s", r);
	snprintf(it->where, sizeof(it->where), "%s",
		 it->location == AT_NFT ? "nft_do_chain" : "tcp_v4_rcv");
}

struct got {
	struct alert v[16];
	size_t n;
};

static void on_alert(void *ctx, struct alert *a)
{
	struct got *g = ctx;

	assert_true(g->n < 16);
	g->v[g->n++] = *a;
}

struct fx {
	struct alert_cfg cfg;
	struct conntab *tab;
	struct alert_engine *ae;
	struct got got;
	struct conn_end end;	/* the last connection that ended */
	struct conn conn;
	size_t ended;
};

static void on_end(void *ctx, const struct conn *c, const struct conn_end *end)
{
	struct fx *f = ctx;

	f->conn = *c;
	f->end = *end;
	f->ended++;
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	alert_cfg_defaults(&f->cfg);
	f->tab = conntab__new(1024);
	f->ae = alert_engine__new(&f->cfg, on_alert, &f->got);
	assert_non_null(f->tab);
	assert_non_null(f->ae);
	alert_engine__set_drop_namer(f->ae, namer, NULL);
}

static void fx_free(struct fx *f)
{
	alert_engine__free(f->ae);
	conntab__free(f->tab);
}

static void feed(struct fx *f, struct tcpfsm_event e)
{
	assert_int_equal(alert_engine__apply(f->ae, f->tab, &e, on_end, f), 0);
}

/*
 * The client 10.0.0.1:40000 (client_event, its namespace CLIENT_NS) and the
 * server 10.0.0.2:443 (SERVER_NS). A drop there: `server` says on which
 * side, `seg`, `dir` and `reason` what; oriented as that side sees it.
 */
static struct tcpfsm_event drop(uint64_t ts, bool server, uint8_t seg, uint8_t dir,
				uint32_t reason)
{
	struct tcpfsm_event e = {
		.ts_ns = ts,
		.old_duration_ns = reason == R_NETFILTER ? AT_NFT : AT_TCP,
		.netns = server ? SERVER_NS : CLIENT_NS,
		.sport = server ? 443 : 40000,
		.dport = server ? 40000 : 443,
		.family = TCPFSM_AF_INET,
		.oldstate = dir,
		.evidence = seg,
		.kind = TCPFSM_KIND_DROP,
		.saddr = { 10, 0, 0, server ? 2 : 1 },
		.daddr = { 10, 0, 0, server ? 1 : 2 },
		.ino = reason,
	};

	return e;
}

/* A connect at 100 s that has not been answered at 103 s (the default
 * SYN_SENT threshold is 3 s), with these drops at 100.5, 101.5, 102.5 s. */
static const struct alert *stuck_connect(struct fx *f, bool server, uint8_t seg, uint8_t dir,
					 uint32_t reason)
{
	fx_init(f);
	feed(f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));
	for (int i = 0; i < 3; i++)
		feed(f, drop(100 * SEC + SEC / 2 + i * SEC, server, seg, dir, reason));
	alert_engine__sweep(f->ae, f->tab, 103 * SEC);
	assert_int_equal(f->got.n, 1);
	return &f->got.v[0];
}

static void test_syn_dropped_at_peer(void **unused)
{
	struct fx f;
	const struct alert *a = stuck_connect(&f, true, TCPFSM_SEG_SYN, TCPFSM_DROP_IN, R_NETFILTER);

	assert_int_equal(a->verdict, VERDICT_SYN_DROPPED_AT_PEER);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits: our SYNs are dropped at the peer "
			    "(network namespace 4026532000) by netfilter (NETFILTER_DROP in "
			    "nft_do_chain, 3 times)");
	assert_int_equal(a->drops.n, 1);
	assert_true(a->drops.item[0].peer);
	assert_int_equal(a->drops.item[0].count, 3);
	assert_int_equal(a->drops.item[0].netns, SERVER_NS);
	fx_free(&f);
}

static void test_syn_dropped_here(void **unused)
{
	struct fx f;
	const struct alert *a = stuck_connect(&f, false, TCPFSM_SEG_SYN, TCPFSM_DROP_OUT,
					      R_NETFILTER);

	assert_int_equal(a->verdict, VERDICT_SYN_DROPPED_HERE);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits: our SYNs are dropped on this "
			    "host by netfilter (NETFILTER_DROP in nft_do_chain, 3 times)");
	fx_free(&f);
}

/* SYN/ACKs dropped at the client; the server frees our retransmitted SYNs
 * as NOT_SPECIFIED (it answers them with its SYN/ACK again): not a verdict */
static void test_synack_dropped_here(void **unused)
{
	struct fx f;
	const struct alert *a;

	fx_init(&f);
	feed(&f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));
	feed(&f, drop(100 * SEC + 1, false, TCPFSM_SEG_SYNACK, TCPFSM_DROP_IN, R_NETFILTER));
	for (int i = 1; i <= 2; i++) {
		feed(&f, drop(100 * SEC + i * SEC, true, TCPFSM_SEG_SYN, TCPFSM_DROP_IN,
			      R_NOT_SPECIFIED));
		feed(&f, drop(100 * SEC + i * SEC + 1, true, TCPFSM_SEG_SYN, TCPFSM_DROP_IN,
			      R_NOT_SPECIFIED));
	}
	alert_engine__sweep(f.ae, f.tab, 103 * SEC);
	a = &f.got.v[0];
	assert_int_equal(a->verdict, VERDICT_SYNACK_DROPPED_HERE);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits: the SYN/ACKs are dropped on this "
			    "host by netfilter (NETFILTER_DROP in nft_do_chain, once)");
	/* both kinds listed: ours first */
	assert_int_equal(a->drops.n, 2);
	assert_false(a->drops.item[0].peer);
	assert_string_equal(a->drops.item[1].reason_name, "NOT_SPECIFIED");
	assert_int_equal(a->drops.item[1].count, 4);
	fx_free(&f);

	/* NOT_SPECIFIED alone decides nothing */
	a = stuck_connect(&f, true, TCPFSM_SEG_SYN, TCPFSM_DROP_IN, R_NOT_SPECIFIED);
	assert_int_equal(a->verdict, VERDICT_UNKNOWN);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or the SYN/ACK "
			    "is being dropped on the way; 3 syn dropped at the peer (NOT_SPECIFIED at "
			    "tcp_v4_rcv)");
	fx_free(&f);
}

static void test_no_listener(void **unused)
{
	struct fx f;
	const struct alert *a;

	fx_init(&f);
	feed(&f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));
	for (int i = 0; i < 2; i++) {
		feed(&f, drop(100 * SEC + i * SEC, true, TCPFSM_SEG_SYN, TCPFSM_DROP_IN,
			      R_NO_SOCKET));
		feed(&f, drop(100 * SEC + i * SEC + 1, false, TCPFSM_SEG_RST, TCPFSM_DROP_IN,
			      R_NETFILTER));
	}
	alert_engine__sweep(f.ae, f.tab, 103 * SEC);
	a = &f.got.v[0];
	assert_int_equal(a->verdict, VERDICT_NO_LISTENER);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits: nothing listens on "
			    "10.0.0.2:443: the peer's kernel drops our SYNs (NO_SOCKET in "
			    "tcp_v4_rcv, 2 times), and the RSTs it answers with are dropped on this "
			    "host by netfilter (NETFILTER_DROP in nft_do_chain, 2 times)");
	fx_free(&f);
}

static void test_listen_overflow(void **unused)
{
	struct fx f;
	const struct alert *a = stuck_connect(&f, true, TCPFSM_SEG_SYN, TCPFSM_DROP_IN, R_OVERFLOW);

	assert_int_equal(a->verdict, VERDICT_LISTEN_OVERFLOW);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits: the peer's listen queue is "
			    "full, it drops our SYNs (TCP_LISTEN_OVERFLOW in tcp_v4_rcv, 3 times)");
	fx_free(&f);
}

/* The peer's own SYN/ACKs, dropped on their way out of its namespace. */
static void test_synack_dropped_at_peer(void **unused)
{
	struct fx f;
	const struct alert *a = stuck_connect(&f, true, TCPFSM_SEG_SYNACK, TCPFSM_DROP_OUT,
					      R_NETFILTER);

	assert_int_equal(a->verdict, VERDICT_SYNACK_DROPPED_AT_PEER);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits: the peer's SYN/ACKs are dropped "
			    "at the peer (network namespace 4026532000) by netfilter (NETFILTER_DROP "
			    "in nft_do_chain, 3 times)");
	fx_free(&f);
}

/* Drops from before the connect (an earlier connection of the 4-tuple, long
 * gone) are not this one's. */
static void test_older_drops_left_out(void **unused)
{
	struct fx f;
	const struct alert *a;

	fx_init(&f);
	feed(&f, drop(50 * SEC, true, TCPFSM_SEG_SYN, TCPFSM_DROP_IN, R_NETFILTER));
	feed(&f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));
	alert_engine__sweep(f.ae, f.tab, 103 * SEC);
	a = &f.got.v[0];
	assert_int_equal(a->drops.n, 0);
	assert_int_equal(a->verdict, VERDICT_UNKNOWN);
	fx_free(&f);
}

/* A half-open request: its SYN/ACKs dropped at the client, or by its own
 * namespace on the way out. */
static void test_half_open(void **unused)
{
	for (int side = 0; side < 2; side++) {
		struct tcpfsm_event req = {
			.ts_ns = 101 * SEC,
			.cookie = 60,
			.old_duration_ns = SEC,
			.netns = SERVER_NS,
			.sport = 443,
			.dport = 40000,
			.family = TCPFSM_AF_INET,
			.oldstate = NEW_SYN_RECV,
			.newstate = NEW_SYN_RECV,
			.saddr = { 10, 0, 0, 2 },
			.daddr = { 10, 0, 0, 1 },
			.syn_retrans = 1,
			.kind = TCPFSM_KIND_EVIDENCE,
		};
		const struct alert *a;
		struct fx f;

		fx_init(&f);
		feed(&f, req);
		if (side == 0)
			feed(&f, drop(101 * SEC, false, TCPFSM_SEG_SYNACK, TCPFSM_DROP_IN,
				      R_NETFILTER));
		else
			feed(&f, drop(101 * SEC, true, TCPFSM_SEG_SYNACK, TCPFSM_DROP_OUT,
				      R_NETFILTER));
		alert_engine__sweep(f.ae, f.tab, 103 * SEC);
		assert_int_equal(f.got.n, 1);
		a = &f.got.v[0];
		assert_true(a->half_open);
		if (side == 0) {
			assert_int_equal(a->verdict, VERDICT_SYNACK_DROPPED_AT_PEER);
			assert_string_equal(a->diagnosis,
					    "half-open for 3.00s, 1 SYN/ACK retransmit: the SYN/ACKs "
					    "are dropped at the client (network namespace "
					    "4026531840) by netfilter (NETFILTER_DROP in "
					    "nft_do_chain, once)");
		} else {
			assert_int_equal(a->verdict, VERDICT_SYNACK_DROPPED_HERE);
			assert_string_equal(a->diagnosis,
					    "half-open for 3.00s, 1 SYN/ACK retransmit: our SYN/ACKs "
					    "are dropped on this host by netfilter (NETFILTER_DROP in "
					    "nft_do_chain, once)");
		}
		fx_free(&f);
	}
}

/* The states that say what is wrong by themselves, and one that does not. */
static void test_state_verdicts(void **unused)
{
	static const struct {
		int state;
		enum alert_verdict v;
	} cases[] = {
		{ CLOSE_WAIT, VERDICT_APP_NOT_CLOSING }, { FIN_WAIT2, VERDICT_PEER_NOT_CLOSING },
		{ LAST_ACK, VERDICT_UNKNOWN },		 { FIN_WAIT1, VERDICT_UNKNOWN },
		{ SYN_RECV, VERDICT_UNKNOWN },		 { CLOSING, VERDICT_UNKNOWN },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct alert a = { .state = cases[i].state, .fd = -1, .family = TCPFSM_AF_INET };

		alert_diagnose(&a, NULL);
		assert_int_equal(a.verdict, cases[i].v);
		/* resolved alike */
		a.status = ALERT_RESOLVED;
		alert_diagnose(&a, NULL);
		assert_int_equal(a.verdict, cases[i].v);
	}
	{
		struct alert a = { .state = SYN_SENT, .fd = -1, .evidence = TCPFSM_EV_ICMP };

		alert_diagnose(&a, NULL);
		assert_int_equal(a.verdict, VERDICT_ICMP_REJECT);
		a.aggregate = true;
		a.count = 2;
		alert_diagnose_aggregate(&a, 10);
		assert_int_equal(a.verdict, VERDICT_UNKNOWN);
	}
	for (int v = 0; v <= VERDICT_MAX; v++)
		assert_non_null(alert_verdict_name(v));
	assert_string_equal(alert_verdict_name(VERDICT_SYN_DROPPED_AT_PEER), "syn_dropped_at_peer");
	assert_string_equal(alert_verdict_name(VERDICT_SYNACK_DROPPED_HERE), "synack_dropped_here");
	assert_string_equal(alert_verdict_name(VERDICT_LISTEN_OVERFLOW), "listen_overflow");
	assert_string_equal(alert_verdict_name(VERDICT_NO_LISTENER), "no_listener");
	assert_string_equal(alert_verdict_name(VERDICT_MAX), "unknown");
	assert_string_equal(alert_verdict_name(-1), "unknown");
}

/* A LAST_ACK alert with its FINs dropped: listed in the words, undecided. */
static void test_other_drops_in_words(void **unused)
{
	struct alert a = { .state = LAST_ACK, .fd = -1, .age_ns = 31 * SEC };

	a.drops.n = 1;
	a.drops.item[0] = (struct drop_item){ .count = 4, .segment = TCPFSM_SEG_FIN,
					      .reason_name = "NETFILTER_DROP",
					      .where = "nft_do_chain" };
	a.drops.more = 2;
	alert_diagnose(&a, NULL);
	assert_int_equal(a.verdict, VERDICT_UNKNOWN);
	assert_string_equal(a.diagnosis,
			    "LAST_ACK for 31.0s: both sides closed, our FIN is not acknowledged: the "
			    "peer is gone or the path drops packets; 4 fin dropped here "
			    "(NETFILTER_DROP at nft_do_chain), 2 more dropped");
}

static const struct fmt_opts FMT = { .boot_to_real_ns = 1767323045LL * 1000000000LL - 100 * SEC };

/* The alert's JSON line ends with its verdict and drops. */
static void test_alert_json(void **unused)
{
	struct fx f;
	const struct alert *a = stuck_connect(&f, true, TCPFSM_SEG_SYN, TCPFSM_DROP_IN, R_NETFILTER);
	char buf[FORMAT_ALERT_MAX];
	int n;

	setenv("TZ", "UTC", 1);
	tzset();
	n = format_alert_json(buf, sizeof(buf), a, &FMT);
	assert_int_equal(n, strlen(buf));
	assert_true(json_line_ok(buf));
	assert_non_null(strstr(buf, "in nft_do_chain, 3 times)\",\"verdict\":\"syn_dropped_at_peer\","
				    "\"drops\":[{\"reason\":\"NETFILTER_DROP\",\"where\":"
				    "\"nft_do_chain\",\"segment\":\"syn\",\"direction\":\"in\","
				    "\"side\":\"peer\",\"netns\":4026532000,\"count\":3,"
				    "\"first\":\"2026-01-02T03:04:05.500000000Z\","
				    "\"last\":\"2026-01-02T03:04:07.500000000Z\"}]}\n"));
	fx_free(&f);
}

/* A connection's history: the drops of its own segments, in JSON and words. */
static void test_history(void **unused)
{
	char buf[FORMAT_CONN_MAX];
	struct fx f;
	int n;

	setenv("TZ", "UTC", 1);
	tzset();
	fx_init(&f);
	feed(&f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));
	feed(&f, drop(100 * SEC + 1, false, TCPFSM_SEG_SYNACK, TCPFSM_DROP_IN, R_NETFILTER));
	feed(&f, drop(101 * SEC, false, TCPFSM_SEG_SYNACK, TCPFSM_DROP_IN, R_NETFILTER));
	/* the peer's: not in this connection's history */
	feed(&f, drop(101 * SEC, true, TCPFSM_SEG_SYN, TCPFSM_DROP_IN, R_NOT_SPECIFIED));
	feed(&f, client_event(1, 102 * SEC, SYN_SENT, CLOSE));
	assert_int_equal(f.ended, 1);
	assert_int_equal(f.end.drops.n, 1);
	drop_list_name(&f.end.drops, namer, NULL);
	n = format_conn_json(buf, sizeof(buf), &f.conn, &f.end, &FMT);
	assert_int_equal(n, strlen(buf));
	assert_true(json_line_ok(buf));
	assert_non_null(strstr(buf, ",\"cgroup_id\":7,\"drops\":[{\"reason\":\"NETFILTER_DROP\","
				    "\"where\":\"nft_do_chain\",\"segment\":\"synack\","
				    "\"direction\":\"in\",\"side\":\"here\",\"netns\":4026531840,"
				    "\"count\":2,\"first\":\"2026-01-02T03:04:05.000000001Z\","
				    "\"last\":\"2026-01-02T03:04:06.000000000Z\"}]}\n"));
	n = format_conn_text(buf, sizeof(buf), &f.conn, &f.end, &FMT);
	assert_int_equal(n, strlen(buf));
	assert_non_null(strstr(buf, "(aborted, 2 synack dropped here (NETFILTER_DROP at "
				    "nft_do_chain))\n"));
	/* a connection without drops has no "drops" at all */
	feed(&f, client_event(2, 110 * SEC, CLOSE, SYN_SENT));
	feed(&f, client_event(2, 111 * SEC, SYN_SENT, CLOSE));
	assert_int_equal(f.end.drops.n, 0);
	format_conn_json(buf, sizeof(buf), &f.conn, &f.end, &FMT);
	assert_null(strstr(buf, "drops"));
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_dropped_at_peer),
		cmocka_unit_test(test_syn_dropped_here),
		cmocka_unit_test(test_synack_dropped_here),
		cmocka_unit_test(test_no_listener),
		cmocka_unit_test(test_listen_overflow),
		cmocka_unit_test(test_synack_dropped_at_peer),
		cmocka_unit_test(test_older_drops_left_out),
		cmocka_unit_test(test_half_open),
		cmocka_unit_test(test_state_verdicts),
		cmocka_unit_test(test_other_drops_in_words),
		cmocka_unit_test(test_alert_json),
		cmocka_unit_test(test_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
