// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The alert engine of `watch`: synthetic record sequences and sweeps in,
 * exactly the alerts its callback receives out (identity, ages, evidence,
 * diagnosis, resolution), its counters, the rate limiter's individual and
 * aggregate lines, half-open requests, and the text and JSON lines.
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
#include <time.h>
#include <cmocka.h>
#include "pure/alert.h"
#include "pure/alertengine.h"
#include "pure/diagnosis.h"
#include "pure/schedule.h"
#include "pure/conntab.h"
#include "support.h"

#define SEC 1000000000ULL
#define MS 1000000ULL
#define CLIENT_NETNS 4026531840u
#define SERVER_NETNS 4026532000u

static const char GONE[] = "the request is gone (expired or reset)";

/* ---- what the callback received ---- */

struct got {
	struct alert *v;
	size_t n, cap;
};

static void on_alert(void *ctx, struct alert *a)
{
	struct got *g = ctx;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		assert_non_null(g->v);
	}
	g->v[g->n++] = *a;
}

/* closed connections as conntab hands them on */
struct ends {
	uint64_t cookie[64];
	enum end_reason reason[64];
	size_t n;
};

static void on_end(void *ctx, const struct conn *c, const struct conn_end *end)
{
	struct ends *s = ctx;

	if (s->n < 64) {
		s->cookie[s->n] = c->cookie;
		s->reason[s->n] = end->reason;
	}
	s->n++;
}

struct fx {
	struct alert_cfg cfg;
	struct conntab *tab;
	struct alert_engine *ae;
	struct got got;
	struct ends ends;
};

/* defaults, unless the caller filled f->cfg and says so */
static void fx_init(struct fx *f, bool own_cfg)
{
	if (!own_cfg) {
		memset(f, 0, sizeof(*f));
		alert_cfg_defaults(&f->cfg);
	} else {
		struct alert_cfg cfg = f->cfg;

		memset(f, 0, sizeof(*f));
		f->cfg = cfg;
	}
	f->tab = conntab__new(65536);
	assert_non_null(f->tab);
	f->ae = alert_engine__new(&f->cfg, on_alert, &f->got);
	assert_non_null(f->ae);
}

static void fx_free(struct fx *f)
{
	alert_engine__free(f->ae);
	conntab__free(f->tab);
	free(f->got.v);
}

static void feed(struct fx *f, struct tcpfsm_event e)
{
	assert_int_equal(alert_engine__apply(f->ae, f->tab, &e, on_end, &f->ends), 0);
}

static void sweep(struct fx *f, uint64_t now)
{
	alert_engine__sweep(f->ae, f->tab, now);
}

static const struct alert_stats *stats(struct fx *f)
{
	return alert_engine__stats(f->ae);
}

/* the alert for cookie among got[from..], exactly one */
static const struct alert *find(struct fx *f, size_t from, uint64_t cookie, bool aggregate)
{
	const struct alert *r = NULL;

	for (size_t i = from; i < f->got.n; i++) {
		if (f->got.v[i].cookie == cookie && f->got.v[i].aggregate == aggregate) {
			assert_null(r);
			r = &f->got.v[i];
		}
	}
	assert_non_null(r);
	return r;
}

/* ---- records ---- */

/* client_event toward d:dport from local port sport */
static struct tcpfsm_event to(uint64_t cookie, uint64_t ts, int old, int new, uint8_t d3,
			      uint16_t dport, uint16_t sport)
{
	struct tcpfsm_event e = client_event(cookie, ts, old, new);

	e.daddr[0] = 198;
	e.daddr[1] = 18;
	e.daddr[2] = 0;
	e.daddr[3] = d3;
	e.dport = dport;
	e.sport = sport;
	return e;
}

/* client_event in softirq: no owner */
static struct tcpfsm_event irq(uint64_t cookie, uint64_t ts, int old, int new)
{
	struct tcpfsm_event e = client_event(cookie, ts, old, new);

	e.flags = SOFTIRQ;
	event_drop_owner(&e);
	return e;
}

/* a socket the startup snapshot saw in state at ts */
/* a socket the startup snapshot found: older than us, age "at least" */
static struct tcpfsm_event seed(uint64_t cookie, uint64_t ts, int state)
{
	struct tcpfsm_event e = client_event(cookie, ts, state, state);

	e.kind = TCPFSM_KIND_SNAPSHOT;
	e.flags |= TCPFSM_F_PREEXISTING;
	return e;
}

/* a socket the lazy-tracking sweep took up: ts is when it entered state */
static struct tcpfsm_event tracked(uint64_t cookie, uint64_t ts, int state)
{
	struct tcpfsm_event e = seed(cookie, ts, state);

	e.flags &= ~TCPFSM_F_PREEXISTING;
	return e;
}

/* news of a connecting socket: SYN retransmits, evidence, its port */
static struct tcpfsm_event evidence(uint64_t cookie, uint64_t ts, uint16_t retrans, uint8_t ev)
{
	struct tcpfsm_event e = client_event(cookie, ts, SYN_SENT, SYN_SENT);

	e.kind = TCPFSM_KIND_EVIDENCE;
	e.syn_retrans = retrans;
	e.evidence = ev;
	e.flags = SOFTIRQ;
	event_drop_owner(&e);
	return e;
}

/*
 * A half-open request on the server 10.0.0.2:443 (nginx/99, its own network
 * namespace) from the client 10.0.0.1:cport, age old in it, retrans SYN/ACK
 * retransmits; kind EVIDENCE (tcp_retransmit_synack) or SNAPSHOT (iterator).
 */
static struct tcpfsm_event request(uint64_t cookie, uint64_t ts, uint64_t age, uint16_t retrans,
				   uint16_t cport, int kind)
{
	struct tcpfsm_event e = {
		.ts_ns = ts,
		.cookie = cookie,
		.old_duration_ns = age,
		.cgroup_id = 9,
		.pid = 99,
		.netns = SERVER_NETNS,
		.sport = 443,
		.dport = cport,
		.family = TCPFSM_AF_INET,
		.oldstate = NEW_SYN_RECV,
		.newstate = NEW_SYN_RECV,
		.flags = TCPFSM_F_OWNER | TCPFSM_F_OWNER_LISTENER,
		.saddr = { 10, 0, 0, 2 },
		.daddr = { 10, 0, 0, 1 },
		.comm = "nginx",
		.syn_retrans = retrans,
		.kind = kind,
	};

	return e;
}

/* the child socket that completes that request's handshake */
static struct tcpfsm_event child(uint64_t cookie, uint64_t ts, uint16_t cport)
{
	struct tcpfsm_event e = request(cookie, ts, UNKNOWN, 0, cport, TCPFSM_KIND_TRANSITION);

	e.oldstate = LISTEN;
	e.newstate = SYN_RECV;
	e.flags |= SOFTIRQ;
	return e;
}

/* the identity client_event gives */
static void assert_client(const struct alert *a, uint64_t cookie)
{
	assert_int_equal(a->cookie, cookie);
	assert_true(a->owner);
	assert_int_equal(a->pid, 4242);
	assert_string_equal(a->comm, "curl");
	assert_int_equal(a->cgroup_id, 7);
	assert_int_equal(a->netns, CLIENT_NETNS);
	assert_int_equal(a->family, TCPFSM_AF_INET);
	assert_memory_equal(a->saddr, ((uint8_t[16]){ 10, 0, 0, 1 }), 16);
}

/* the identity request() gives */
static void assert_request(const struct alert *a, uint64_t cookie, uint16_t cport)
{
	assert_int_equal(a->cookie, cookie);
	assert_int_equal(a->state, SYN_RECV);
	assert_true(a->half_open);
	assert_true(a->owner);
	assert_int_equal(a->pid, 99);
	assert_string_equal(a->comm, "nginx");
	assert_int_equal(a->cgroup_id, 9);
	assert_int_equal(a->netns, SERVER_NETNS);
	assert_int_equal(a->family, TCPFSM_AF_INET);
	assert_memory_equal(a->saddr, ((uint8_t[16]){ 10, 0, 0, 2 }), 16);
	assert_memory_equal(a->daddr, ((uint8_t[16]){ 10, 0, 0, 1 }), 16);
	assert_int_equal(a->sport, 443);
	assert_int_equal(a->dport, cport);
	assert_int_equal(a->ino, 0);
	assert_int_equal(a->fd, -1);
	assert_false(a->aggregate);
}

/* ---- one connect that times out ---- */

static void test_syn_sent_fires_once_and_times_out(void **unused)
{
	struct tcpfsm_event e;
	const struct alert *a;
	const struct conn *c;
	struct fx f;

	fx_init(&f, false);
	/* the port is not picked yet at CLOSE -> SYN_SENT */
	e = client_event(1, 100 * SEC, CLOSE, SYN_SENT);
	e.sport = 0;
	feed(&f, e);
	sweep(&f, 101 * SEC);
	sweep(&f, 103 * SEC - 1);
	assert_int_equal(f.got.n, 0);
	assert_int_equal(stats(&f)->fired[SYN_SENT], 0);
	assert_int_equal(stats(&f)->firing[SYN_SENT], 0);

	sweep(&f, 103 * SEC);
	assert_int_equal(f.got.n, 1);
	a = &f.got.v[0];
	assert_int_equal(a->status, ALERT_FIRING);
	assert_int_equal(a->state, SYN_SENT);
	assert_false(a->half_open);
	assert_false(a->aggregate);
	assert_int_equal(a->count, 0);
	assert_int_equal(a->time_ns, 103 * SEC);
	assert_int_equal(a->age_ns, 3 * SEC);
	assert_false(a->age_at_least);
	assert_int_equal(a->threshold_ns, 3 * SEC);
	assert_client(a, 1);
	assert_int_equal(a->ino, 0);
	assert_int_equal(a->fd, -1);
	assert_memory_equal(a->daddr, ((uint8_t[16]){ 10, 0, 0, 2 }), 16);
	assert_int_equal(a->sport, 0);
	assert_int_equal(a->dport, 443);
	assert_int_equal(a->syn_retrans, 0);
	assert_int_equal(a->evidence, 0);
	assert_int_equal(a->to_state, 0);
	assert_null(a->resolution);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or the "
			    "SYN/ACK is being dropped on the way");
	assert_int_equal(stats(&f)->fired[SYN_SENT], 1);
	assert_int_equal(stats(&f)->firing[SYN_SENT], 1);
	assert_int_equal(stats(&f)->suppressed, 0);

	/* once: later sweeps say nothing more */
	sweep(&f, 103 * SEC);
	sweep(&f, 104 * SEC);
	sweep(&f, 106 * SEC);
	assert_int_equal(f.got.n, 1);

	/* the SYN retransmit timer's news: retransmits and the port */
	feed(&f, evidence(1, 104 * SEC, 2, 0));
	c = conntab__lookup(f.tab, 1);
	assert_non_null(c);
	assert_int_equal(c->syn_retrans, 2);
	assert_int_equal(c->sport, 40000);
	assert_int_equal(c->state, SYN_SENT);
	assert_true(c->flags & CONN_OWNER);
	assert_int_equal(f.got.n, 1);

	/* the timer gives up in softirq */
	e = irq(1, 107 * SEC, SYN_SENT, CLOSE);
	e.syn_retrans = 2;
	feed(&f, e);
	assert_int_equal(f.got.n, 2);
	a = &f.got.v[1];
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->state, SYN_SENT);
	assert_false(a->half_open);
	assert_false(a->aggregate);
	assert_int_equal(a->time_ns, 107 * SEC);
	assert_int_equal(a->age_ns, 7 * SEC);
	assert_false(a->age_at_least);
	assert_int_equal(a->threshold_ns, 3 * SEC);
	assert_client(a, 1);
	assert_int_equal(a->sport, 40000);
	assert_int_equal(a->dport, 443);
	assert_int_equal(a->syn_retrans, 2);
	assert_int_equal(a->to_state, CLOSE);
	assert_string_equal(a->resolution, "connect timed out");
	assert_string_equal(a->diagnosis, "left SYN_SENT after 7.00s for CLOSE: connect timed out");
	assert_int_equal(stats(&f)->fired[SYN_SENT], 1);
	assert_int_equal(stats(&f)->firing[SYN_SENT], 0);
	/* conntab's emit went through */
	assert_int_equal(f.ends.n, 1);
	assert_int_equal(f.ends.cookie[0], 1);
	assert_int_equal(f.ends.reason[0], END_TIMEOUT);
	assert_null(conntab__lookup(f.tab, 1));

	sweep(&f, 200 * SEC);
	assert_int_equal(f.got.n, 2);
	for (int s = 0; s < TCPFSM_STATE_MAX; s++) {
		assert_int_equal(stats(&f)->firing[s], 0);
		assert_int_equal(stats(&f)->fired[s], s == SYN_SENT ? 1 : 0);
	}
	fx_free(&f);
}

/* ---- diagnoses (more in test_diagnosis) ---- */

/* the other end on this host: a listener, or a half-open request */
static void test_diagnose_syn_sent_peers(void **unused)
{
	struct tcpfsm_event e;
	const struct alert *a;
	struct fx f;

	fx_init(&f, false);
	/* listeners in another namespace: 0.0.0.0:443, 198.18.0.7:80, 0.0.0.0:8080 */
	e = seed(50, 90 * SEC, LISTEN);
	e.netns = SERVER_NETNS;
	memset(e.saddr, 0, 16);
	memset(e.daddr, 0, 16);
	e.sport = 443;
	e.dport = 0;
	feed(&f, e);
	e.cookie = 51;
	e.saddr[0] = 198, e.saddr[1] = 18, e.saddr[2] = 0, e.saddr[3] = 7;
	e.sport = 80;
	feed(&f, e);
	e.cookie = 52;
	memset(e.saddr, 0, 16);
	e.sport = 8080;
	feed(&f, e);

	feed(&f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));	/* 10.0.0.2:443 */
	feed(&f, to(2, 100 * SEC, CLOSE, SYN_SENT, 7, 80, 40002));	/* 198.18.0.7:80 */
	feed(&f, to(3, 100 * SEC, CLOSE, SYN_SENT, 8, 80, 40003));	/* nobody */
	feed(&f, to(4, 100 * SEC, CLOSE, SYN_SENT, 7, 8081, 40004));	/* nobody */
	feed(&f, to(5, 100 * SEC, CLOSE, SYN_SENT, 9, 8080, 40005));	/* 0.0.0.0:8080 */
	e = evidence(3, 102 * SEC, 1, TCPFSM_EV_ICMP);
	e.daddr[0] = 198, e.daddr[1] = 18, e.daddr[2] = 0, e.daddr[3] = 8;
	e.dport = 80;
	e.sport = 40003;
	feed(&f, e);
	e = evidence(4, 102 * SEC, 3, 0);
	e.daddr[0] = 198, e.daddr[1] = 18, e.daddr[2] = 0, e.daddr[3] = 7;
	e.dport = 8081;
	e.sport = 40004;
	feed(&f, e);
	sweep(&f, 103 * SEC);
	assert_int_equal(f.got.n, 5);
	a = find(&f, 0, 1, false);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or the "
			    "SYN/ACK is being dropped on the way; the peer only LISTENs: the SYN "
			    "never arrived");
	a = find(&f, 0, 2, false);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or the "
			    "SYN/ACK is being dropped on the way; the peer only LISTENs: the SYN "
			    "never arrived");
	a = find(&f, 0, 3, false);
	assert_int_equal(a->syn_retrans, 1);
	assert_int_equal(a->evidence, TCPFSM_EV_ICMP);
	assert_string_equal(a->diagnosis, "SYN_SENT for 3.00s, 1 SYN retransmit, ICMP errors: a "
					  "router or the peer rejects the SYN");
	a = find(&f, 0, 4, false);
	assert_string_equal(a->diagnosis, "SYN_SENT for 3.00s, 3 SYN retransmits, no answer: the "
					  "SYN or the SYN/ACK is being dropped on the way");
	a = find(&f, 0, 5, false);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or the "
			    "SYN/ACK is being dropped on the way; the peer only LISTENs: the SYN "
			    "never arrived");

	/* the server answers with a SYN/ACK that does not come back: half-open */
	e = client_event(6, 200 * SEC, CLOSE, SYN_SENT);
	e.sport = 40006;
	feed(&f, e);
	feed(&f, request(60, 200 * SEC + 500 * MS, 0, 1, 40006, TCPFSM_KIND_EVIDENCE));
	sweep(&f, 203 * SEC);
	assert_int_equal(f.got.n, 6);
	a = &f.got.v[5];
	assert_client(a, 6);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or the "
			    "SYN/ACK is being dropped on the way; the peer is half-open: the SYN/ACK "
			    "does not reach this client");
	fx_free(&f);
}

static uint32_t lookup_pid, lookup_ino;
static int lookup_calls, lookup_ret;

static int fake_fd_lookup(uint32_t pid, uint32_t ino)
{
	lookup_pid = pid;
	lookup_ino = ino;
	lookup_calls++;
	return lookup_ret;
}

static void test_diagnose_close_wait(void **unused)
{
	struct tcpfsm_event e;
	const struct alert *a;
	struct fx f;

	fx_init(&f, false);
	alert_engine__set_fd_lookup(f.ae, fake_fd_lookup);
	lookup_calls = 0;
	lookup_ret = 7;
	feed(&f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));
	e = client_event(1, 100 * SEC + 200 * MS, SYN_SENT, ESTABLISHED);
	e.ino = 5555;
	feed(&f, e);
	/* the peer's FIN arrives in softirq */
	feed(&f, irq(1, 110 * SEC, ESTABLISHED, CLOSE_WAIT));
	sweep(&f, 170 * SEC - 1);
	assert_int_equal(f.got.n, 0);
	assert_int_equal(lookup_calls, 0);
	sweep(&f, 171 * SEC);
	assert_int_equal(f.got.n, 1);
	a = &f.got.v[0];
	assert_int_equal(a->status, ALERT_FIRING);
	assert_int_equal(a->state, CLOSE_WAIT);
	assert_client(a, 1);
	assert_int_equal(a->time_ns, 171 * SEC);
	assert_int_equal(a->age_ns, 61 * SEC);
	assert_false(a->age_at_least);
	assert_int_equal(a->threshold_ns, 60 * SEC);
	assert_int_equal(a->ino, 5555);
	assert_int_equal(a->fd, 7);
	assert_string_equal(a->diagnosis, "CLOSE_WAIT for 1m01s: the peer closed 1m01s ago; "
					  "process 4242 (curl) has not called close() (fd 7, socket "
					  "inode 5555)");
	assert_int_equal(lookup_calls, 1);
	assert_int_equal(lookup_pid, 4242);
	assert_int_equal(lookup_ino, 5555);

	/* an fd that cannot be found: the inode alone */
	lookup_ret = -1;
	feed(&f, client_event(4, 100 * SEC, CLOSE, SYN_SENT));
	e = client_event(4, 101 * SEC, SYN_SENT, ESTABLISHED);
	e.ino = 7777;
	feed(&f, e);
	feed(&f, irq(4, 120 * SEC, ESTABLISHED, CLOSE_WAIT));
	sweep(&f, 180 * SEC);
	assert_int_equal(f.got.n, 2);
	a = &f.got.v[1];
	assert_client(a, 4);
	assert_int_equal(a->fd, -1);
	assert_int_equal(a->ino, 7777);
	assert_string_equal(a->diagnosis, "CLOSE_WAIT for 1m00s: the peer closed 1m00s ago; "
					  "process 4242 (curl) has not called close() (socket inode "
					  "7777)");
	assert_int_equal(lookup_calls, 2);
	assert_int_equal(lookup_pid, 4242);
	assert_int_equal(lookup_ino, 7777);

	/* seeded: one without owner or inode, one with an owner but no inode */
	lookup_ret = 7;
	e = seed(5, 150 * SEC, CLOSE_WAIT);
	e.flags = TCPFSM_F_PREEXISTING;
	event_drop_owner(&e);
	feed(&f, e);
	feed(&f, seed(6, 150 * SEC, CLOSE_WAIT));
	sweep(&f, 210 * SEC - 1);
	assert_int_equal(f.got.n, 2);
	sweep(&f, 211 * SEC);
	assert_int_equal(f.got.n, 4);
	a = find(&f, 2, 5, false);
	assert_false(a->owner);
	assert_int_equal(a->pid, 0);
	assert_true(a->age_at_least);
	assert_int_equal(a->age_ns, 61 * SEC);
	assert_int_equal(a->fd, -1);
	assert_string_equal(a->diagnosis, "CLOSE_WAIT for at least 1m01s: the peer closed at least "
					  "1m01s ago; the owner has not called close()");
	a = find(&f, 2, 6, false);
	assert_client(a, 6);
	assert_true(a->age_at_least);
	assert_int_equal(a->fd, -1);
	assert_string_equal(a->diagnosis, "CLOSE_WAIT for at least 1m01s: the peer closed at least "
					  "1m01s ago; process 4242 (curl) has not called close()");
	/* nothing to look up without an owner and an inode */
	assert_int_equal(lookup_calls, 2);

	/* the owner closes: CLOSE_WAIT -> LAST_ACK in its system call */
	feed(&f, client_event(1, 185 * SEC, CLOSE_WAIT, LAST_ACK));
	assert_int_equal(f.got.n, 5);
	a = &f.got.v[4];
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->state, CLOSE_WAIT);
	assert_client(a, 1);
	assert_int_equal(a->time_ns, 185 * SEC);
	assert_int_equal(a->age_ns, 75 * SEC);
	assert_int_equal(a->to_state, LAST_ACK);
	assert_null(a->resolution);
	assert_int_equal(a->ino, 5555);
	assert_string_equal(a->diagnosis, "left CLOSE_WAIT after 1m15s for LAST_ACK");
	/* the seeded one leaves too: still "at least" */
	feed(&f, irq(5, 220 * SEC, CLOSE_WAIT, LAST_ACK));
	assert_int_equal(f.got.n, 6);
	a = &f.got.v[5];
	assert_int_equal(a->cookie, 5);
	assert_true(a->age_at_least);
	assert_int_equal(a->age_ns, 70 * SEC);
	assert_string_equal(a->diagnosis, "left CLOSE_WAIT after at least 1m10s for LAST_ACK");
	assert_int_equal(lookup_calls, 2);
	assert_int_equal(stats(&f)->fired[CLOSE_WAIT], 4);
	assert_int_equal(stats(&f)->firing[CLOSE_WAIT], 2);
	fx_free(&f);
}

/* lazy tracking: a socket taken up by a sweep has an exact age, and its
 * later transitions resolve its alert like any other's */
static void test_lazily_tracked_socket(void **unused)
{
	const struct alert *a;
	struct fx f;

	fx_init(&f, false);
	feed(&f, tracked(31, 100 * SEC, CLOSE_WAIT));
	sweep(&f, 160 * SEC - 1);
	assert_int_equal(f.got.n, 0);
	sweep(&f, 160 * SEC);
	assert_int_equal(f.got.n, 1);
	a = find(&f, 0, 31, false);
	assert_int_equal(a->state, CLOSE_WAIT);
	assert_false(a->age_at_least);
	assert_int_equal(a->age_ns, 60 * SEC);
	feed(&f, client_event(31, 170 * SEC, CLOSE_WAIT, LAST_ACK));
	assert_int_equal(f.got.n, 2);
	a = find(&f, 1, 31, false);
	assert_int_equal(a->status, ALERT_RESOLVED);
	fx_free(&f);
}

/* the closing states, seeded before tracing began, and where they go */
static void test_diagnose_closing_states(void **unused)
{
	const struct alert *a;
	struct fx f;
	size_t n;

	fx_init(&f, false);
	feed(&f, seed(21, 1000 * SEC, LAST_ACK));
	feed(&f, seed(22, 1000 * SEC, FIN_WAIT1));
	feed(&f, seed(23, 1000 * SEC, FIN_WAIT2));
	feed(&f, seed(24, 1000 * SEC, CLOSING));
	sweep(&f, 1030 * SEC - 1);
	assert_int_equal(f.got.n, 0);
	sweep(&f, 1030 * SEC);
	assert_int_equal(f.got.n, 3);
	a = find(&f, 0, 21, false);
	assert_int_equal(a->state, LAST_ACK);
	assert_true(a->age_at_least);
	assert_int_equal(a->threshold_ns, 30 * SEC);
	assert_string_equal(a->diagnosis,
			    "LAST_ACK for at least 30.0s: both sides closed, our FIN is not "
			    "acknowledged: the peer is gone or the path drops packets");
	a = find(&f, 0, 22, false);
	assert_int_equal(a->state, FIN_WAIT1);
	assert_string_equal(a->diagnosis,
			    "FIN_WAIT1 for at least 30.0s: our FIN is not acknowledged: the peer is "
			    "unreachable, or it does not read and its window is closed");
	a = find(&f, 0, 24, false);
	assert_int_equal(a->state, CLOSING);
	assert_string_equal(a->diagnosis, "CLOSING for at least 30.0s: both sides closed at once "
					  "and the last ACK is missing");
	sweep(&f, 1060 * SEC);
	assert_int_equal(f.got.n, 4);
	a = &f.got.v[3];
	assert_client(a, 23);
	assert_int_equal(a->state, FIN_WAIT2);
	assert_int_equal(a->threshold_ns, 60 * SEC);
	assert_string_equal(a->diagnosis,
			    "FIN_WAIT2 for at least 1m00s: the peer acknowledged our FIN but has not "
			    "closed its side: the peer application has not called close()");
	assert_int_equal(stats(&f)->firing[LAST_ACK], 1);
	assert_int_equal(stats(&f)->firing[FIN_WAIT1], 1);
	assert_int_equal(stats(&f)->firing[FIN_WAIT2], 1);
	assert_int_equal(stats(&f)->firing[CLOSING], 1);

	/* they end: in softirq, normally */
	n = f.got.n;
	feed(&f, irq(21, 1070 * SEC, LAST_ACK, CLOSE));
	feed(&f, irq(22, 1070 * SEC, FIN_WAIT1, FIN_WAIT2));
	feed(&f, irq(23, 1070 * SEC, FIN_WAIT2, CLOSE));
	feed(&f, irq(24, 1070 * SEC, CLOSING, CLOSE));
	assert_int_equal(f.got.n, n + 4);
	a = &f.got.v[n];
	assert_client(a, 21);
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->to_state, CLOSE);
	assert_string_equal(a->resolution, "normal close");
	assert_true(a->age_at_least);
	assert_int_equal(a->age_ns, 70 * SEC);
	assert_string_equal(a->diagnosis,
			    "left LAST_ACK after at least 1m10s for CLOSE: normal close");
	a = &f.got.v[n + 1];
	assert_int_equal(a->cookie, 22);
	assert_int_equal(a->to_state, FIN_WAIT2);
	assert_null(a->resolution);
	assert_string_equal(a->diagnosis, "left FIN_WAIT1 after at least 1m10s for FIN_WAIT2");
	a = &f.got.v[n + 2];
	assert_int_equal(a->cookie, 23);
	assert_int_equal(a->to_state, TIME_WAIT);
	assert_string_equal(a->diagnosis,
			    "left FIN_WAIT2 after at least 1m10s for TIME_WAIT: normal close");
	a = &f.got.v[n + 3];
	assert_int_equal(a->cookie, 24);
	assert_int_equal(a->to_state, TIME_WAIT);
	assert_string_equal(a->diagnosis,
			    "left CLOSING after at least 1m10s for TIME_WAIT: normal close");
	assert_int_equal(stats(&f)->firing[LAST_ACK], 0);
	assert_int_equal(stats(&f)->firing[FIN_WAIT1], 0);
	assert_int_equal(stats(&f)->firing[FIN_WAIT2], 0);
	assert_int_equal(stats(&f)->firing[CLOSING], 0);

	/* 22's new state was seen from its start: no "at least" there */
	sweep(&f, 1129 * SEC);
	assert_int_equal(f.got.n, n + 4);
	sweep(&f, 1130 * SEC);
	assert_int_equal(f.got.n, n + 5);
	a = &f.got.v[n + 4];
	assert_int_equal(a->cookie, 22);
	assert_int_equal(a->state, FIN_WAIT2);
	assert_false(a->age_at_least);
	assert_int_equal(a->age_ns, 60 * SEC);
	assert_string_equal(a->diagnosis,
			    "FIN_WAIT2 for 1m00s: the peer acknowledged our FIN but has not closed "
			    "its side: the peer application has not called close()");
	assert_int_equal(stats(&f)->fired[FIN_WAIT2], 2);
	assert_int_equal(stats(&f)->firing[FIN_WAIT2], 1);
	fx_free(&f);
}

/* ---- self-transitions ---- */

/* a transition to the state the socket is in already: close() after
 * shutdown() (FIN_WAIT2 -> FIN_WAIT2); old recordings carry no flag */
static struct tcpfsm_event self_transition(uint64_t cookie, uint64_t ts, int state, uint64_t in_ns)
{
	struct tcpfsm_event e = client_event(cookie, ts, state, state);

	e.old_duration_ns = in_ns;
	return e;
}

/* An alerted socket's self-transition resolves nothing and its age goes on
 * from the time it entered the state. */
static void test_self_transition_keeps_alert(void **unused)
{
	const struct alert *a;
	const struct conn *c;
	struct tcpfsm_event e;
	struct fx f;

	fx_init(&f, false);
	feed(&f, client_event(41, 99 * SEC, ESTABLISHED, FIN_WAIT1));
	feed(&f, client_event(41, 100 * SEC, FIN_WAIT1, FIN_WAIT2));
	sweep(&f, 160 * SEC);
	assert_int_equal(f.got.n, 1);
	a = &f.got.v[0];
	assert_int_equal(a->status, ALERT_FIRING);
	assert_int_equal(a->state, FIN_WAIT2);
	assert_int_equal(a->age_ns, 60 * SEC);

	/* close() after shutdown(): no resolution, still firing */
	feed(&f, self_transition(41, 170 * SEC, FIN_WAIT2, 70 * SEC));
	assert_int_equal(f.got.n, 1);
	assert_int_equal(stats(&f)->firing[FIN_WAIT2], 1);
	c = conntab__lookup(f.tab, 41);
	assert_non_null(c);
	assert_int_equal(c->state, FIN_WAIT2);
	assert_int_equal(c->alert, FIN_WAIT2);
	assert_int_equal(c->enter_ns[c->npath - 1], 100 * SEC);
	sweep(&f, 175 * SEC);
	assert_int_equal(f.got.n, 1);

	/* 13.5 us later the socket hands over to a timewait socket: the
	 * alert resolves after all the time in FIN_WAIT2, not 13.5 us */
	e = client_event(41, 170 * SEC + 13500, FIN_WAIT2, CLOSE);
	feed(&f, e);
	assert_int_equal(f.got.n, 2);
	a = &f.got.v[1];
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->state, FIN_WAIT2);
	assert_int_equal(a->age_ns, 70 * SEC + 13500);
	assert_int_equal(a->to_state, TIME_WAIT);
	assert_string_equal(a->diagnosis, "left FIN_WAIT2 after 1m10s for TIME_WAIT: normal close");
	assert_int_equal(stats(&f)->firing[FIN_WAIT2], 0);
	assert_int_equal(stats(&f)->fired[FIN_WAIT2], 1);
	fx_free(&f);
}

/* Not alerted yet: the time in the state is not restarted either. */
static void test_self_transition_keeps_age(void **unused)
{
	static const int states[] = { FIN_WAIT1, FIN_WAIT2, CLOSING };

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		const struct alert *a;
		struct fx f;
		int s = states[i];
		uint64_t thr;

		fx_init(&f, false);
		thr = f.cfg.threshold_ns[s];
		/* in s from 100 s on */
		if (s == FIN_WAIT1) {
			feed(&f, client_event(42, 100 * SEC, ESTABLISHED, FIN_WAIT1));
		} else {
			feed(&f, client_event(42, 99 * SEC, ESTABLISHED, FIN_WAIT1));
			feed(&f, client_event(42, 100 * SEC, FIN_WAIT1, s));
		}
		/* the self-transition comes before the threshold */
		feed(&f, self_transition(42, 100 * SEC + thr / 2, s, thr / 2));
		sweep(&f, 100 * SEC + thr - 1);
		assert_int_equal(f.got.n, 0);
		sweep(&f, 100 * SEC + thr);
		assert_int_equal(f.got.n, 1);
		a = &f.got.v[0];
		assert_int_equal(a->state, s);
		assert_int_equal(a->age_ns, thr);
		assert_false(a->age_at_least);
		fx_free(&f);
	}
}

/* A socket first met at its self-transition (older than tcpfsm, or tracked
 * lazily from here on): in that state since ts - old_duration, or, when
 * the kernel could not time it, since at least ts. */
static void test_self_transition_first_seen(void **unused)
{
	const struct alert *a;
	const struct conn *c;
	struct fx f;

	fx_init(&f, false);
	feed(&f, self_transition(43, 100 * SEC, FIN_WAIT2, 5 * SEC));
	c = conntab__lookup(f.tab, 43);
	assert_non_null(c);
	assert_int_equal(c->state, FIN_WAIT2);
	assert_int_equal(c->npath, 1);
	assert_int_equal(c->enter_ns[0], 95 * SEC);
	sweep(&f, 155 * SEC - 1);
	assert_int_equal(f.got.n, 0);
	sweep(&f, 155 * SEC);
	assert_int_equal(f.got.n, 1);
	a = &f.got.v[0];
	assert_int_equal(a->cookie, 43);
	assert_int_equal(a->age_ns, 60 * SEC);
	assert_false(a->age_at_least);
	fx_free(&f);
	/* CLOSING, 30 s from at least 100 s */
	fx_init(&f, false);
	feed(&f, self_transition(44, 100 * SEC, CLOSING, UNKNOWN));
	sweep(&f, 130 * SEC);
	assert_int_equal(f.got.n, 1);
	a = &f.got.v[0];
	assert_int_equal(a->cookie, 44);
	assert_true(a->age_at_least);
	assert_int_equal(a->age_ns, 30 * SEC);
	assert_string_equal(a->diagnosis, "CLOSING for at least 30.0s: both sides closed at once "
					  "and the last ACK is missing");
	fx_free(&f);
}

/* ---- half-open requests ---- */

static void test_half_open_fires_and_completes(void **unused)
{
	const struct alert *a;
	const struct conn *c;
	struct fx f;

	fx_init(&f, false);
	/* first SYN/ACK retransmit, a second after the first SYN/ACK */
	feed(&f, request(60, 200 * SEC, 1 * SEC, 1, 40000, TCPFSM_KIND_EVIDENCE));
	assert_int_equal(stats(&f)->half_open, 1);
	/* requests are not connections */
	assert_int_equal(conntab__live(f.tab), 0);
	assert_null(conntab__lookup(f.tab, 60));
	sweep(&f, 202 * SEC - 1);
	assert_int_equal(f.got.n, 0);
	sweep(&f, 202 * SEC);
	assert_int_equal(f.got.n, 1);
	a = &f.got.v[0];
	assert_request(a, 60, 40000);
	assert_int_equal(a->status, ALERT_FIRING);
	assert_int_equal(a->time_ns, 202 * SEC);
	assert_int_equal(a->age_ns, 3 * SEC);
	assert_false(a->age_at_least);
	assert_int_equal(a->threshold_ns, 3 * SEC);
	assert_int_equal(a->syn_retrans, 1);
	assert_string_equal(a->diagnosis, "half-open for 3.00s, 1 SYN/ACK retransmit: the SYN/ACK "
					  "is not answered by the client");
	assert_int_equal(stats(&f)->fired[SYN_RECV], 1);
	assert_int_equal(stats(&f)->firing[SYN_RECV], 1);

	/* more retransmits: counted, the age stays */
	feed(&f, request(60, 203 * SEC, 4 * SEC, 2, 40000, TCPFSM_KIND_EVIDENCE));
	assert_int_equal(stats(&f)->half_open, 1);
	sweep(&f, 204 * SEC);
	assert_int_equal(f.got.n, 1);

	/* the child of another request does not end this one */
	feed(&f, child(71, 204 * SEC, 40001));
	assert_int_equal(f.got.n, 1);
	assert_int_equal(stats(&f)->half_open, 1);
	/* the handshake completes: the child LISTEN -> SYN_RECV */
	feed(&f, child(61, 205 * SEC, 40000));
	assert_int_equal(f.got.n, 2);
	a = &f.got.v[1];
	assert_request(a, 60, 40000);
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->time_ns, 205 * SEC);
	assert_int_equal(a->age_ns, 6 * SEC);
	assert_int_equal(a->threshold_ns, 3 * SEC);
	assert_int_equal(a->syn_retrans, 2);
	assert_int_equal(a->to_state, SYN_RECV);
	assert_string_equal(a->resolution, "the handshake completed");
	assert_string_equal(a->diagnosis,
			    "left half-open after 6.00s for SYN_RECV: the handshake completed");
	assert_int_equal(stats(&f)->half_open, 0);
	assert_int_equal(stats(&f)->fired[SYN_RECV], 1);
	assert_int_equal(stats(&f)->firing[SYN_RECV], 0);
	/* the child is a connection */
	c = conntab__lookup(f.tab, 61);
	assert_non_null(c);
	assert_int_equal(c->state, SYN_RECV);

	/* a request the iterator saw, its age unknown: "at least" */
	feed(&f, request(80, 300 * SEC, UNKNOWN, 0, 41000, TCPFSM_KIND_SNAPSHOT));
	/* an age longer than the clock: unknown as well */
	feed(&f, request(81, 300 * SEC, 400 * SEC, 0, 41001, TCPFSM_KIND_SNAPSHOT));
	assert_int_equal(stats(&f)->half_open, 2);
	feed(&f, irq(61, 300 * SEC, SYN_RECV, ESTABLISHED));
	feed(&f, irq(71, 300 * SEC, SYN_RECV, ESTABLISHED));
	sweep(&f, 303 * SEC);
	assert_int_equal(f.got.n, 4);
	a = find(&f, 2, 80, false);
	assert_request(a, 80, 41000);
	assert_true(a->age_at_least);
	assert_int_equal(a->age_ns, 3 * SEC);
	assert_string_equal(a->diagnosis, "half-open for at least 3.00s, 0 SYN/ACK retransmits: "
					  "the SYN/ACK is not answered by the client");
	a = find(&f, 2, 81, false);
	assert_true(a->age_at_least);
	assert_int_equal(a->age_ns, 3 * SEC);
	fx_free(&f);
}

/* the client of a half-open request is on this host */
static void test_half_open_names_client(void **unused)
{
	struct tcpfsm_event e;
	const struct alert *a;
	struct fx f;

	fx_init(&f, false);
	feed(&f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));
	feed(&f, request(60, 100 * SEC + 1 * MS, 0, 0, 40000, TCPFSM_KIND_EVIDENCE));
	/* one whose client has no known owner */
	e = irq(2, 100 * SEC, CLOSE, SYN_SENT);
	e.sport = 40002;
	feed(&f, e);
	feed(&f, request(62, 100 * SEC + 1 * MS, 0, 0, 40002, TCPFSM_KIND_EVIDENCE));
	sweep(&f, 103 * SEC + 1 * MS);
	assert_int_equal(f.got.n, 4);
	a = find(&f, 0, 60, false);
	assert_request(a, 60, 40000);
	assert_string_equal(a->diagnosis,
			    "half-open for 3.00s, 0 SYN/ACK retransmits: the client (process 4242, "
			    "curl) is in SYN_SENT: the SYN/ACK does not reach it");
	a = find(&f, 0, 62, false);
	assert_string_equal(a->diagnosis, "half-open for 3.00s, 0 SYN/ACK retransmits: the client "
					  "is in SYN_SENT: the SYN/ACK does not reach it");
	a = find(&f, 0, 1, false);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or the "
			    "SYN/ACK is being dropped on the way; the peer is half-open: the SYN/ACK "
			    "does not reach this client");
	a = find(&f, 0, 2, false);
	assert_false(a->owner);
	assert_string_equal(a->diagnosis,
			    "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or the "
			    "SYN/ACK is being dropped on the way; the peer is half-open: the SYN/ACK "
			    "does not reach this client");

	/* a client that named itself with a newline and an escape */
	e = client_event(3, 200 * SEC, CLOSE, SYN_SENT);
	e.sport = 40003;
	memcpy(e.comm, "x\ny\x1b[1m", 7);
	feed(&f, e);
	feed(&f, request(63, 200 * SEC, 0, 0, 40003, TCPFSM_KIND_EVIDENCE));
	sweep(&f, 203 * SEC);
	assert_int_equal(f.got.n, 6);
	a = find(&f, 4, 63, false);
	assert_string_equal(a->diagnosis,
			    "half-open for 3.00s, 0 SYN/ACK retransmits: the client (process 4242, "
			    "x?y?[1m) is in SYN_SENT: the SYN/ACK does not reach it");
	fx_free(&f);
}

/* requests that a sweep of requests no longer finds are gone */
static void test_half_open_gone(void **unused)
{
	const struct alert *a;
	struct fx f;

	fx_init(&f, false);
	feed(&f, request(80, 100 * SEC, 0, 0, 41000, TCPFSM_KIND_EVIDENCE));
	feed(&f, request(82, 100 * SEC, 0, 0, 41002, TCPFSM_KIND_EVIDENCE));
	feed(&f, request(81, 102 * SEC, 0, 0, 41001, TCPFSM_KIND_EVIDENCE));
	sweep(&f, 103 * SEC);
	assert_int_equal(f.got.n, 2);
	assert_int_equal(stats(&f)->half_open, 3);
	assert_int_equal(stats(&f)->firing[SYN_RECV], 2);

	/* the iterator sees 82 only */
	alert_engine__requests_begin(f.ae);
	feed(&f, request(82, 103 * SEC + 500 * MS, 3500 * MS, 1, 41002, TCPFSM_KIND_SNAPSHOT));
	alert_engine__requests_end(f.ae, 104 * SEC);
	assert_int_equal(f.got.n, 3);
	a = &f.got.v[2];
	assert_request(a, 80, 41000);
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->time_ns, 104 * SEC);
	assert_int_equal(a->age_ns, 4 * SEC);
	assert_int_equal(a->to_state, 0);
	assert_string_equal(a->resolution, GONE);
	assert_string_equal(a->diagnosis,
			    "left half-open after 4.00s: the request is gone (expired or reset)");
	/* 81 had not fired: it goes without a word */
	assert_int_equal(stats(&f)->half_open, 1);
	assert_int_equal(stats(&f)->firing[SYN_RECV], 1);
	assert_int_equal(stats(&f)->fired[SYN_RECV], 2);

	/* an empty sweep of requests: 82 is gone too */
	alert_engine__requests_begin(f.ae);
	alert_engine__requests_end(f.ae, 105 * SEC);
	assert_int_equal(f.got.n, 4);
	a = &f.got.v[3];
	assert_request(a, 82, 41002);
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->syn_retrans, 1);
	assert_int_equal(a->age_ns, 5 * SEC);
	assert_string_equal(a->resolution, GONE);
	assert_int_equal(stats(&f)->half_open, 0);
	assert_int_equal(stats(&f)->firing[SYN_RECV], 0);

	/* nothing left: more sweeps, nothing more */
	alert_engine__requests_begin(f.ae);
	alert_engine__requests_end(f.ae, 106 * SEC);
	sweep(&f, 200 * SEC);
	assert_int_equal(f.got.n, 4);
	fx_free(&f);
}

/* thousands of requests in and out of the engine's open-addressing table */
static void test_half_open_many(void **unused)
{
	enum { N = 5000 };
	uint32_t reported[N / 2], nrep = 0, firing_seen = 0;
	const struct alert *a;
	struct fx f;
	size_t n;

	fx_init(&f, false);
	for (uint32_t i = 0; i < N; i++)
		feed(&f, request(10000 + i, 100 * SEC, 0, 0, 20000 + i, TCPFSM_KIND_EVIDENCE));
	assert_int_equal(stats(&f)->half_open, N);

	/* the iterator finds the odd ones only */
	alert_engine__requests_begin(f.ae);
	for (uint32_t i = 1; i < N; i += 2)
		feed(&f, request(10000 + i, 101 * SEC, 1 * SEC, 0, 20000 + i, TCPFSM_KIND_SNAPSHOT));
	alert_engine__requests_end(f.ae, 101 * SEC);
	assert_int_equal(f.got.n, 0);
	assert_int_equal(stats(&f)->half_open, N / 2);
	/* every one left is found again, none made twice */
	for (uint32_t i = 1; i < N; i += 2)
		feed(&f, request(10000 + i, 102 * SEC, 2 * SEC, 1, 20000 + i, TCPFSM_KIND_EVIDENCE));
	assert_int_equal(stats(&f)->half_open, N / 2);

	/* one group (the listener's port): 10 alerts and a summary */
	sweep(&f, 103 * SEC);
	assert_int_equal(f.got.n, 11);
	for (size_t k = 0; k < 10; k++) {
		a = &f.got.v[k];
		assert_false(a->aggregate);
		assert_int_equal(a->cookie % 2, 1);
		assert_request(a, a->cookie, 20000 + (a->cookie - 10000));
		assert_int_equal(a->age_ns, 3 * SEC);
		assert_int_equal(a->syn_retrans, 1);
		reported[nrep++] = a->cookie;
	}
	a = &f.got.v[10];
	assert_true(a->aggregate);
	assert_int_equal(a->status, ALERT_FIRING);
	assert_true(a->half_open);
	assert_int_equal(a->state, SYN_RECV);
	assert_int_equal(a->count, N / 2 - 10);
	assert_string_equal(a->diagnosis, "2490 more half-open firing alerts on port 443 (rate "
					  "limit: 10 per group per minute)");
	assert_int_equal(stats(&f)->fired[SYN_RECV], N / 2);
	assert_int_equal(stats(&f)->firing[SYN_RECV], N / 2);
	assert_int_equal(stats(&f)->suppressed, N / 2 - 10);

	/* handshakes complete for i % 4 == 1, in a scrambled order */
	n = f.got.n;
	for (uint32_t k = 0, left = N / 2; k < N; k++) {
		uint32_t i = (k * 7919) % N;

		if (i % 4 != 1)
			continue;
		feed(&f, child(100000 + i, 103 * SEC + 500 * MS, 20000 + i));
		left--;
		assert_int_equal(stats(&f)->half_open, left);
		/* and the child is established at once */
		feed(&f, irq(100000 + i, 103 * SEC + 500 * MS, SYN_RECV, ESTABLISHED));
	}
	assert_int_equal(stats(&f)->half_open, N / 4);
	for (size_t k = n; k < f.got.n; k++) {
		a = &f.got.v[k];
		assert_int_equal(a->status, ALERT_RESOLVED);
		assert_false(a->aggregate);
		assert_int_equal(a->cookie % 4, 1);
		assert_string_equal(a->resolution, "the handshake completed");
		firing_seen++;
	}
	/* the rest go in one empty sweep of requests */
	n = f.got.n;
	alert_engine__requests_begin(f.ae);
	alert_engine__requests_end(f.ae, 104 * SEC);
	assert_int_equal(stats(&f)->half_open, 0);
	for (size_t k = n; k < f.got.n; k++) {
		a = &f.got.v[k];
		assert_int_equal(a->status, ALERT_RESOLVED);
		assert_int_equal(a->cookie % 4, 3);
		assert_string_equal(a->resolution, GONE);
		firing_seen++;
	}
	/* each reported alert resolved once, individually */
	assert_int_equal(firing_seen, 10);
	for (uint32_t k = 0; k < nrep; k++)
		assert_int_equal(find(&f, 11, reported[k], false)->status, ALERT_RESOLVED);
	assert_int_equal(stats(&f)->firing[SYN_RECV], 0);
	/* the others in one summary at the next sweep */
	n = f.got.n;
	sweep(&f, 104 * SEC + 500 * MS);
	assert_int_equal(f.got.n, n + 1);
	a = &f.got.v[n];
	assert_true(a->aggregate);
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->count, N / 2 - 10);
	assert_string_equal(a->diagnosis, "2490 more half-open resolved alerts on port 443 (rate "
					  "limit: 10 per group per minute)");

	/* the emptied table takes a second round, removed in another order */
	for (uint32_t i = 0; i < N; i++)
		feed(&f, request(50000 + i, 200 * SEC, 0, 0, 20000 + i, TCPFSM_KIND_EVIDENCE));
	assert_int_equal(stats(&f)->half_open, N);
	for (uint32_t k = 0, left = N; k < N; k++) {
		uint32_t i = N - 1 - (k * 4999) % N;

		feed(&f, child(200000 + i, 200 * SEC + 1 * MS, 20000 + i));
		assert_int_equal(stats(&f)->half_open, --left);
	}
	assert_int_equal(f.got.n, n + 1);
	fx_free(&f);
}

/* ---- rate limiting ---- */

static void test_rate_limit(void **unused)
{
	uint64_t reported[10];
	size_t nrep = 0, n;
	struct tcpfsm_event e;
	const struct alert *a;
	int group_b = 0, group_c = 0;
	struct fx f;

	fx_init(&f, false);
	for (int i = 0; i < 100; i++)
		feed(&f, to(1000 + i, 100 * SEC, CLOSE, SYN_SENT, 2, 80, 30000 + i));
	/* other groups: another address, another port */
	for (int i = 0; i < 3; i++)
		feed(&f, to(2000 + i, 100 * SEC, CLOSE, SYN_SENT, 3, 80, 31000 + i));
	for (int i = 0; i < 2; i++)
		feed(&f, to(3000 + i, 100 * SEC, CLOSE, SYN_SENT, 2, 81, 32000 + i));
	sweep(&f, 103 * SEC);
	assert_int_equal(f.got.n, 10 + 3 + 2 + 1);
	for (size_t k = 0; k < 15; k++) {
		a = &f.got.v[k];
		assert_false(a->aggregate);
		assert_int_equal(a->status, ALERT_FIRING);
		assert_int_equal(a->state, SYN_SENT);
		assert_int_equal(a->age_ns, 3 * SEC);
		if (a->cookie >= 3000) {
			assert_int_equal(a->dport, 81);
			group_c++;
		} else if (a->cookie >= 2000) {
			assert_int_equal(a->daddr[3], 3);
			group_b++;
		} else {
			assert_in_range(a->cookie, 1000, 1099);
			assert_int_equal(a->daddr[3], 2);
			assert_int_equal(a->dport, 80);
			assert_int_equal(a->sport, 30000 + (a->cookie - 1000));
			assert_string_equal(a->diagnosis,
					    "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the "
					    "SYN or the SYN/ACK is being dropped on the way");
			reported[nrep++] = a->cookie;
		}
	}
	assert_int_equal(nrep, 10);
	assert_int_equal(group_b, 3);
	assert_int_equal(group_c, 2);
	/* the summary comes after the sweep's alerts */
	a = &f.got.v[15];
	assert_true(a->aggregate);
	assert_int_equal(a->status, ALERT_FIRING);
	assert_int_equal(a->state, SYN_SENT);
	assert_false(a->half_open);
	assert_int_equal(a->count, 90);
	assert_int_equal(a->time_ns, 103 * SEC);
	assert_int_equal(a->family, TCPFSM_AF_INET);
	assert_memory_equal(a->daddr, ((uint8_t[16]){ 198, 18, 0, 2 }), 16);
	assert_int_equal(a->dport, 80);
	assert_string_equal(a->diagnosis, "90 more SYN_SENT firing alerts toward 198.18.0.2:80 "
					  "(rate limit: 10 per group per minute)");
	assert_int_equal(stats(&f)->fired[SYN_SENT], 105);
	assert_int_equal(stats(&f)->firing[SYN_SENT], 105);
	assert_int_equal(stats(&f)->suppressed, 90);

	/* once per socket, summaries too */
	sweep(&f, 104 * SEC);
	assert_int_equal(f.got.n, 16);

	/* all of the first group refused at once */
	n = f.got.n;
	for (int i = 0; i < 100; i++) {
		e = to(1000 + i, 105 * SEC, SYN_SENT, CLOSE, 2, 80, 30000 + i);
		e.flags |= SOFTIRQ;
		e.evidence = TCPFSM_EV_RST_RECV;
		feed(&f, e);
	}
	/* the reported ones resolve one by one, the others wait for the sweep */
	assert_int_equal(f.got.n, n + 10);
	for (size_t k = 0; k < 10; k++) {
		a = find(&f, n, reported[k], false);
		assert_int_equal(a->status, ALERT_RESOLVED);
		assert_int_equal(a->to_state, CLOSE);
		assert_int_equal(a->age_ns, 5 * SEC);
		assert_int_equal(a->evidence, TCPFSM_EV_RST_RECV);
		assert_string_equal(a->resolution, "connect refused");
		assert_string_equal(a->diagnosis, "left SYN_SENT after 5.00s for CLOSE: connect "
						  "refused");
	}
	assert_int_equal(stats(&f)->firing[SYN_SENT], 5);
	assert_int_equal(stats(&f)->fired[SYN_SENT], 105);
	sweep(&f, 106 * SEC);
	assert_int_equal(f.got.n, n + 11);
	a = &f.got.v[n + 10];
	assert_true(a->aggregate);
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->count, 90);
	assert_int_equal(a->time_ns, 106 * SEC);
	assert_string_equal(a->diagnosis, "90 more SYN_SENT resolved alerts toward 198.18.0.2:80 "
					  "(rate limit: 10 per group per minute)");
	sweep(&f, 107 * SEC);
	assert_int_equal(f.got.n, n + 11);

	/* 6 s after the group spent its tokens (at 103 s), at 10 a minute: one more */
	n = f.got.n;
	feed(&f, to(4000, 106 * SEC, CLOSE, SYN_SENT, 2, 80, 33000));
	feed(&f, to(4001, 106 * SEC, CLOSE, SYN_SENT, 2, 80, 33001));
	sweep(&f, 109 * SEC - 1);
	assert_int_equal(f.got.n, n);
	sweep(&f, 109 * SEC);
	assert_int_equal(f.got.n, n + 2);
	a = &f.got.v[n];
	assert_false(a->aggregate);
	assert_in_range(a->cookie, 4000, 4001);
	a = &f.got.v[n + 1];
	assert_true(a->aggregate);
	assert_int_equal(a->count, 1);
	assert_string_equal(a->diagnosis, "1 more SYN_SENT firing alert toward 198.18.0.2:80 "
					  "(rate limit: 10 per group per minute)");
	assert_int_equal(stats(&f)->suppressed, 91);
	fx_free(&f);
}

/* tokens refill a sixth each second at 10 a minute: sweeps every second add up */
static void test_rate_limit_refill_per_sweep(void **unused)
{
	const struct alert *a;
	struct fx f;
	size_t n;

	fx_init(&f, false);
	for (int i = 0; i < 10; i++)
		feed(&f, to(1000 + i, 100 * SEC, CLOSE, SYN_SENT, 2, 80, 30000 + i));
	sweep(&f, 103 * SEC);
	assert_int_equal(f.got.n, 10);
	/* one more stuck socket each second */
	for (int k = 1; k <= 6; k++) {
		n = f.got.n;
		feed(&f, to(2000 + k, (100 + k) * SEC, CLOSE, SYN_SENT, 2, 80, 31000 + k));
		sweep(&f, (103 + k) * SEC);
		assert_int_equal(f.got.n, n + 1);
		a = &f.got.v[n];
		if (k < 6) {
			assert_true(a->aggregate);
			assert_int_equal(a->count, 1);
		} else {
			/* 6 s: a whole token */
			assert_false(a->aggregate);
			assert_int_equal(a->cookie, 2006);
		}
	}
	/* a bucket refills to 10, not beyond */
	n = f.got.n;
	for (int i = 0; i < 15; i++)
		feed(&f, to(3000 + i, 500 * SEC, CLOSE, SYN_SENT, 2, 80, 32000 + i));
	sweep(&f, 503 * SEC);
	assert_int_equal(f.got.n, n + 11);
	for (size_t k = n; k < n + 10; k++)
		assert_false(f.got.v[k].aggregate);
	assert_true(f.got.v[n + 10].aggregate);
	assert_int_equal(f.got.v[n + 10].count, 5);

	/* another rate */
	fx_free(&f);
	alert_cfg_defaults(&f.cfg);
	f.cfg.rate = 7;
	fx_init(&f, true);
	for (int i = 0; i < 7; i++)
		feed(&f, to(1000 + i, 100 * SEC, CLOSE, SYN_SENT, 2, 80, 30000 + i));
	sweep(&f, 103 * SEC);
	assert_int_equal(f.got.n, 7);
	/* sweeps every 100 ms: a token after 60/7 s = 8.571428... s */
	for (uint64_t t = 103 * SEC + 100 * MS, k = 0; t <= 112 * SEC; t += 100 * MS, k++) {
		n = f.got.n;
		feed(&f, to(2000 + k, t - 3 * SEC, CLOSE, SYN_SENT, 2, 80, 31000 + k));
		sweep(&f, t);
		assert_int_equal(f.got.n, n + 1);
		assert_int_equal(f.got.v[n].aggregate, t != 103 * SEC + 8600 * MS);
	}
	fx_free(&f);
}

/* ---- once per socket and state ---- */

static void test_no_alert_before_threshold(void **unused)
{
	struct fx f;

	fx_init(&f, false);
	feed(&f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));
	sweep(&f, 101 * SEC);
	sweep(&f, 102 * SEC);
	feed(&f, client_event(1, 103 * SEC - 1, SYN_SENT, ESTABLISHED));
	sweep(&f, 103 * SEC);
	sweep(&f, 200 * SEC);
	feed(&f, client_event(1, 200 * SEC, ESTABLISHED, FIN_WAIT1));
	sweep(&f, 229 * SEC);
	feed(&f, irq(1, 229 * SEC + 900 * MS, FIN_WAIT1, FIN_WAIT2));
	sweep(&f, 289 * SEC);
	feed(&f, irq(1, 289 * SEC + 800 * MS, FIN_WAIT2, CLOSE));
	sweep(&f, 400 * SEC);
	/* a listener never alerts (no threshold) */
	feed(&f, client_event(2, 100 * SEC, CLOSE, LISTEN));
	sweep(&f, 100000 * SEC);
	assert_int_equal(f.got.n, 0);
	for (int s = 0; s < TCPFSM_STATE_MAX; s++) {
		assert_int_equal(stats(&f)->fired[s], 0);
		assert_int_equal(stats(&f)->firing[s], 0);
	}
	fx_free(&f);
}

static void test_each_state_once(void **unused)
{
	const struct alert *a;
	struct fx f;

	fx_init(&f, false);
	feed(&f, client_event(1, 100 * SEC, CLOSE, SYN_SENT));
	for (uint64_t t = 101; t <= 104; t++)
		sweep(&f, t * SEC);
	assert_int_equal(f.got.n, 1);
	assert_int_equal(f.got.v[0].state, SYN_SENT);
	assert_int_equal(f.got.v[0].time_ns, 103 * SEC);
	feed(&f, client_event(1, 104 * SEC + 500 * MS, SYN_SENT, ESTABLISHED));
	assert_int_equal(f.got.n, 2);
	a = &f.got.v[1];
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->state, SYN_SENT);
	assert_int_equal(a->to_state, ESTABLISHED);
	assert_null(a->resolution);
	assert_string_equal(a->diagnosis, "left SYN_SENT after 4.50s for ESTABLISHED");
	feed(&f, irq(1, 110 * SEC, ESTABLISHED, CLOSE_WAIT));
	for (uint64_t t = 111; t <= 175; t += 2)
		sweep(&f, t * SEC);
	assert_int_equal(f.got.n, 3);
	a = &f.got.v[2];
	assert_int_equal(a->status, ALERT_FIRING);
	assert_int_equal(a->state, CLOSE_WAIT);
	assert_int_equal(a->time_ns, 171 * SEC);
	assert_int_equal(a->age_ns, 61 * SEC);
	assert_false(a->age_at_least);
	assert_int_equal(stats(&f)->firing[CLOSE_WAIT], 1);
	feed(&f, client_event(1, 180 * SEC, CLOSE_WAIT, LAST_ACK));
	assert_int_equal(f.got.n, 4);
	a = &f.got.v[3];
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->state, CLOSE_WAIT);
	assert_int_equal(a->to_state, LAST_ACK);
	assert_int_equal(a->age_ns, 70 * SEC);
	assert_string_equal(a->diagnosis, "left CLOSE_WAIT after 1m10s for LAST_ACK");
	feed(&f, irq(1, 180 * SEC + 1 * MS, LAST_ACK, CLOSE));
	sweep(&f, 300 * SEC);
	assert_int_equal(f.got.n, 4);
	assert_int_equal(stats(&f)->fired[SYN_SENT], 1);
	assert_int_equal(stats(&f)->fired[CLOSE_WAIT], 1);
	assert_int_equal(stats(&f)->fired[LAST_ACK], 0);
	for (int s = 0; s < TCPFSM_STATE_MAX; s++)
		assert_int_equal(stats(&f)->firing[s], 0);
	fx_free(&f);
}

/* a socket alerted in FIN_WAIT2 that became a timewait socket, connected again */
static void test_timewait_socket_reused(void **unused)
{
	const struct alert *a;
	struct fx f;

	fx_init(&f, false);
	feed(&f, seed(9, 1000 * SEC, FIN_WAIT2));
	feed(&f, seed(10, 1000 * SEC, FIN_WAIT2));
	sweep(&f, 1060 * SEC);
	assert_int_equal(f.got.n, 2);
	assert_int_equal(stats(&f)->firing[FIN_WAIT2], 2);
	feed(&f, irq(9, 1061 * SEC, FIN_WAIT2, CLOSE));
	assert_int_equal(f.got.n, 3);
	a = &f.got.v[2];
	assert_int_equal(a->cookie, 9);
	assert_int_equal(a->to_state, TIME_WAIT);
	assert_int_equal(stats(&f)->firing[FIN_WAIT2], 1);
	/* the same socket connects again: a new life, nothing to resolve */
	feed(&f, client_event(9, 1062 * SEC, CLOSE, SYN_SENT));
	feed(&f, client_event(9, 1062 * SEC + 1 * MS, SYN_SENT, ESTABLISHED));
	assert_int_equal(f.got.n, 3);
	assert_int_equal(stats(&f)->firing[FIN_WAIT2], 1);
	assert_int_equal(stats(&f)->fired[FIN_WAIT2], 2);
	fx_free(&f);
}

/* ---- text and JSON ---- */

/* 2026-01-02T03:04:05.123456789Z at 103 s of boot time */
static const struct fmt_opts FMT = { 1767323045LL * 1000000000LL + 123456789LL -
				     103LL * 1000000000LL };

static void assert_lines(const struct alert *a, const char *text, const char *json)
{
	char buf[2048];
	int n;

	n = format_alert_text(buf, sizeof(buf), a, &FMT);
	assert_string_equal(buf, text);
	assert_int_equal(n, strlen(text));
	n = format_alert_json(buf, sizeof(buf), a, &FMT);
	assert_string_equal(buf, json);
	assert_int_equal(n, strlen(json));
	assert_true(json_line_ok(buf));
}

static void test_format(void **unused)
{
	struct tcpfsm_event e;
	struct fx f;
	char buf[2048];
	int n;

	setenv("TZ", "UTC", 1);
	tzset();
	alert_cfg_defaults(&f.cfg);
	f.cfg.rate = 1;
	fx_init(&f, true);
	/* the most recent first: 1 takes the token, 3 and 2 are summed up */
	feed(&f, to(2, 100 * SEC, CLOSE, SYN_SENT, 2, 443, 40002));
	feed(&f, to(3, 100 * SEC, CLOSE, SYN_SENT, 2, 443, 40003));
	feed(&f, to(1, 100 * SEC, CLOSE, SYN_SENT, 2, 443, 40000));
	feed(&f, request(60, 100 * SEC, 0, 0, 50000, TCPFSM_KIND_EVIDENCE));
	sweep(&f, 103 * SEC);
	assert_int_equal(f.got.n, 3);
	e = to(1, 105 * SEC, SYN_SENT, CLOSE, 2, 443, 40000);
	e.flags |= SOFTIRQ;
	e.evidence = TCPFSM_EV_RST_RECV;
	feed(&f, e);
	assert_int_equal(f.got.n, 4);

	assert_int_equal(f.got.v[0].cookie, 1);
	assert_lines(&f.got.v[0],
		     "03:04:05 FIRING   SYN_SENT    pid 4242 curl 10.0.0.1:40000 -> 198.18.0.2:443: "
		     "SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or the SYN/ACK is "
		     "being dropped on the way\n",
		     "{\"type\":\"alert\",\"time\":\"2026-01-02T03:04:05.123456789Z\","
		     "\"status\":\"firing\",\"state\":\"SYN_SENT\",\"half_open\":false,"
		     "\"age_ns\":3000000000,\"age_at_least\":false,\"threshold_ns\":3000000000,"
		     "\"cookie\":1,\"pid\":4242,\"comm\":\"curl\",\"family\":\"ipv4\","
		     "\"saddr\":\"10.0.0.1\",\"sport\":40000,\"daddr\":\"198.18.0.2\","
		     "\"dport\":443,\"netns\":4026531840,\"fd\":null,\"ino\":0,"
		     "\"syn_retransmits\":0,\"rst_received\":false,\"icmp_error\":false,"
		     "\"diagnosis\":\"SYN_SENT for 3.00s, 0 SYN retransmits, no answer: the SYN or "
		     "the SYN/ACK is being dropped on the way\",\"verdict\":\"unknown\"}\n");
	assert_int_equal(f.got.v[1].cookie, 60);
	assert_lines(&f.got.v[1],
		     "03:04:05 FIRING   HALF-OPEN   pid 99 nginx 10.0.0.2:443 -> 10.0.0.1:50000: "
		     "half-open for 3.00s, 0 SYN/ACK retransmits: the SYN/ACK is not answered by "
		     "the client\n",
		     "{\"type\":\"alert\",\"time\":\"2026-01-02T03:04:05.123456789Z\","
		     "\"status\":\"firing\",\"state\":\"SYN_RECV\",\"half_open\":true,"
		     "\"age_ns\":3000000000,\"age_at_least\":false,\"threshold_ns\":3000000000,"
		     "\"cookie\":60,\"pid\":99,\"comm\":\"nginx\",\"family\":\"ipv4\","
		     "\"saddr\":\"10.0.0.2\",\"sport\":443,\"daddr\":\"10.0.0.1\","
		     "\"dport\":50000,\"netns\":4026532000,\"fd\":null,\"ino\":0,"
		     "\"syn_retransmits\":0,\"rst_received\":false,\"icmp_error\":false,"
		     "\"diagnosis\":\"half-open for 3.00s, 0 SYN/ACK retransmits: the SYN/ACK is "
		     "not answered by the client\",\"verdict\":\"unknown\"}\n");
	/* the summary names an example of its group */
	assert_true(f.got.v[2].aggregate);
	assert_int_equal(f.got.v[2].cookie, 2);
	assert_lines(&f.got.v[2],
		     "03:04:05 FIRING   SYN_SENT    2 more SYN_SENT firing alerts toward "
		     "198.18.0.2:443 (rate limit: 1 per group per minute)\n",
		     "{\"type\":\"alert\",\"time\":\"2026-01-02T03:04:05.123456789Z\","
		     "\"status\":\"firing\",\"state\":\"SYN_SENT\",\"half_open\":false,"
		     "\"aggregate\":true,\"count\":2,"
		     "\"age_ns\":3000000000,\"age_at_least\":false,\"threshold_ns\":3000000000,"
		     "\"cookie\":2,\"pid\":4242,\"comm\":\"curl\",\"family\":\"ipv4\","
		     "\"saddr\":\"10.0.0.1\",\"sport\":40002,\"daddr\":\"198.18.0.2\","
		     "\"dport\":443,\"netns\":4026531840,\"fd\":null,\"ino\":0,"
		     "\"syn_retransmits\":0,\"rst_received\":false,\"icmp_error\":false,"
		     "\"diagnosis\":\"2 more SYN_SENT firing alerts toward 198.18.0.2:443 (rate "
		     "limit: 1 per group per minute)\",\"verdict\":\"unknown\"}\n");
	assert_lines(&f.got.v[3],
		     "03:04:07 RESOLVED SYN_SENT    pid 4242 curl 10.0.0.1:40000 -> 198.18.0.2:443: "
		     "left SYN_SENT after 5.00s for CLOSE: connect refused\n",
		     "{\"type\":\"alert\",\"time\":\"2026-01-02T03:04:07.123456789Z\","
		     "\"status\":\"resolved\",\"state\":\"SYN_SENT\",\"half_open\":false,"
		     "\"age_ns\":5000000000,\"age_at_least\":false,\"threshold_ns\":3000000000,"
		     "\"cookie\":1,\"pid\":4242,\"comm\":\"curl\",\"family\":\"ipv4\","
		     "\"saddr\":\"10.0.0.1\",\"sport\":40000,\"daddr\":\"198.18.0.2\","
		     "\"dport\":443,\"netns\":4026531840,\"fd\":null,\"ino\":0,"
		     "\"syn_retransmits\":0,\"rst_received\":true,\"icmp_error\":false,"
		     "\"to\":\"CLOSE\",\"diagnosis\":\"left SYN_SENT after 5.00s for CLOSE: "
		     "connect refused\",\"verdict\":\"unknown\"}\n");

	/* the summed up ones resolve in a summary: no "to" */
	e = to(2, 106 * SEC, SYN_SENT, CLOSE, 2, 443, 40002);
	feed(&f, e);
	e = to(3, 106 * SEC, SYN_SENT, CLOSE, 2, 443, 40003);
	feed(&f, e);
	/* the request's handshake completes */
	feed(&f, child(61, 106 * SEC, 50000));
	assert_int_equal(f.got.n, 5);
	assert_lines(&f.got.v[4],
		     "03:04:08 RESOLVED HALF-OPEN   pid 99 nginx 10.0.0.2:443 -> 10.0.0.1:50000: "
		     "left half-open after 6.00s for SYN_RECV: the handshake completed\n",
		     "{\"type\":\"alert\",\"time\":\"2026-01-02T03:04:08.123456789Z\","
		     "\"status\":\"resolved\",\"state\":\"SYN_RECV\",\"half_open\":true,"
		     "\"age_ns\":6000000000,\"age_at_least\":false,\"threshold_ns\":3000000000,"
		     "\"cookie\":60,\"pid\":99,\"comm\":\"nginx\",\"family\":\"ipv4\","
		     "\"saddr\":\"10.0.0.2\",\"sport\":443,\"daddr\":\"10.0.0.1\","
		     "\"dport\":50000,\"netns\":4026532000,\"fd\":null,\"ino\":0,"
		     "\"syn_retransmits\":0,\"rst_received\":false,\"icmp_error\":false,"
		     "\"to\":\"SYN_RECV\",\"diagnosis\":\"left half-open after 6.00s for SYN_RECV: "
		     "the handshake completed\",\"verdict\":\"unknown\"}\n");
	sweep(&f, 107 * SEC);
	assert_int_equal(f.got.n, 6);
	assert_true(f.got.v[5].aggregate);
	n = format_alert_text(buf, sizeof(buf), &f.got.v[5], &FMT);
	assert_string_equal(buf, "03:04:09 RESOLVED SYN_SENT    2 more SYN_SENT resolved alerts "
				 "toward 198.18.0.2:443 (rate limit: 1 per group per minute)\n");
	assert_int_equal(n, strlen(buf));
	n = format_alert_json(buf, sizeof(buf), &f.got.v[5], &FMT);
	assert_int_equal(n, strlen(buf));
	assert_true(json_line_ok(buf));
	assert_non_null(strstr(buf, "\"status\":\"resolved\",\"state\":\"SYN_SENT\","
				    "\"half_open\":false,\"aggregate\":true,\"count\":2,"));
	assert_null(strstr(buf, "\"to\""));
	assert_non_null(strstr(buf, ",\"diagnosis\":\"2 more SYN_SENT resolved alerts toward "
				    "198.18.0.2:443 (rate limit: 1 per group per minute)\","
				    "\"verdict\":\"unknown\"}\n"));
	fx_free(&f);
}

/* IPv6, no owner, a truncating buffer */
static void test_format_ipv6_no_owner(void **unused)
{
	struct alert a = alert_of_java(CLOSE_WAIT, ALERT_FIRING, 61 * SEC);
	char buf[2048], small[16];
	int n;

	setenv("TZ", "UTC", 1);
	tzset();
	a.owner = false;
	a.pid = 0;
	memset(a.comm, 0, sizeof(a.comm));
	a.family = TCPFSM_AF_INET6;
	a.saddr[0] = 0x20, a.saddr[1] = 0x01, a.saddr[2] = 0x0d, a.saddr[3] = 0xb8;
	a.saddr[15] = 1;
	a.daddr[0] = 0x20, a.daddr[1] = 0x01, a.daddr[2] = 0x0d, a.daddr[3] = 0xb8;
	a.daddr[15] = 2;
	a.sport = 8080;
	a.dport = 51000;
	a.time_ns = 103 * SEC;
	a.threshold_ns = 60 * SEC;
	a.age_at_least = true;
	a.cookie = 77;
	a.netns = 1;
	a.ino = 4444;
	a.fd = 12;
	alert_diagnose(&a, NULL);
	assert_lines(&a,
		     "03:04:05 FIRING   CLOSE_WAIT  pid - [2001:db8::1]:8080 -> [2001:db8::2]:51000: "
		     "CLOSE_WAIT for at least 1m01s: the peer closed at least 1m01s ago; the owner "
		     "has not called close() (fd 12, socket inode 4444)\n",
		     "{\"type\":\"alert\",\"time\":\"2026-01-02T03:04:05.123456789Z\","
		     "\"status\":\"firing\",\"state\":\"CLOSE_WAIT\",\"half_open\":false,"
		     "\"age_ns\":61000000000,\"age_at_least\":true,\"threshold_ns\":60000000000,"
		     "\"cookie\":77,\"pid\":null,\"comm\":null,\"family\":\"ipv6\","
		     "\"saddr\":\"2001:db8::1\",\"sport\":8080,\"daddr\":\"2001:db8::2\","
		     "\"dport\":51000,\"netns\":1,\"fd\":12,\"ino\":4444,"
		     "\"syn_retransmits\":0,\"rst_received\":false,\"icmp_error\":false,"
		     "\"diagnosis\":\"CLOSE_WAIT for at least 1m01s: the peer closed at least 1m01s "
		     "ago; the owner has not called close() (fd 12, socket inode 4444)\","
		     "\"verdict\":\"app_not_closing\"}\n");
	/* snprintf-style: the length it needs, a terminated prefix */
	n = format_alert_text(buf, sizeof(buf), &a, &FMT);
	assert_int_equal(format_alert_text(small, sizeof(small), &a, &FMT), n);
	assert_string_equal(small, "03:04:05 FIRING");
	n = format_alert_json(buf, sizeof(buf), &a, &FMT);
	assert_int_equal(format_alert_json(small, sizeof(small), &a, &FMT), n);
	assert_string_equal(small, "{\"type\":\"alert\"");
}

/* a process names itself: quotes, backslashes, control characters */
static void test_format_hostile_comm(void **unused)
{
	static const char comm[TCPFSM_COMM_LEN] = "a\"b\\c\x01" "d\ne\x1b[2J";
	struct tcpfsm_event e;
	const struct alert *a;
	char buf[2048];
	struct fx f;
	int n;

	setenv("TZ", "UTC", 1);
	tzset();
	alert_cfg_defaults(&f.cfg);
	f.cfg.rate = 1;
	fx_init(&f, true);
	/* two of its sockets: 1 (the most recent) alerts, 2 is summed up */
	for (uint64_t cookie = 2; cookie >= 1; cookie--) {
		e = client_event(cookie, 40 * SEC, CLOSE, SYN_SENT);
		memcpy(e.comm, comm, sizeof(comm));
		feed(&f, e);
		e.oldstate = SYN_SENT;
		e.newstate = ESTABLISHED;
		feed(&f, e);
		e = irq(cookie, 42 * SEC, ESTABLISHED, CLOSE_WAIT);
		e.ino = 30 + cookie;
		feed(&f, e);
	}
	sweep(&f, 103 * SEC);
	assert_int_equal(f.got.n, 2);
	a = &f.got.v[0];
	assert_int_equal(a->cookie, 1);
	assert_memory_equal(a->comm, comm, sizeof(comm));
	/* the text line: one line, printable but for its newline */
	n = format_alert_text(buf, sizeof(buf), a, &FMT);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "03:04:05 FIRING   CLOSE_WAIT  pid 4242 a\"b\\c?d?e?[2J "
				 "10.0.0.1:40000 -> 10.0.0.2:443: CLOSE_WAIT for 1m01s: the peer "
				 "closed 1m01s ago; process 4242 (a\"b\\c?d?e?[2J) has not called "
				 "close() (socket inode 31)\n");
	/* JSON: comm exact, escaped; valid */
	n = format_alert_json(buf, sizeof(buf), a, &FMT);
	assert_int_equal(n, strlen(buf));
	assert_true(json_line_ok(buf));
	assert_non_null(strstr(buf, ",\"pid\":4242,\"comm\":\"a\\\"b\\\\c\\u0001d\\ne\\u001b[2J\","));
	assert_non_null(strstr(buf, ",\"diagnosis\":\"CLOSE_WAIT for 1m01s: the peer closed 1m01s "
				    "ago; process 4242 (a\\\"b\\\\c?d?e?[2J) has not called close() "
				    "(socket inode 31)\",\"verdict\":\"app_not_closing\"}\n"));
	/* the summary names the process the same way */
	a = &f.got.v[1];
	assert_true(a->aggregate);
	assert_int_equal(a->count, 1);
	n = format_alert_text(buf, sizeof(buf), a, &FMT);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "03:04:05 FIRING   CLOSE_WAIT  1 more CLOSE_WAIT firing alert of "
				 "process 4242 (a\"b\\c?d?e?[2J) (rate limit: 1 per group per "
				 "minute)\n");
	n = format_alert_json(buf, sizeof(buf), a, &FMT);
	assert_int_equal(n, strlen(buf));
	assert_true(json_line_ok(buf));
	assert_non_null(strstr(buf, ",\"pid\":4242,\"comm\":\"a\\\"b\\\\c\\u0001d\\ne\\u001b[2J\","));
	fx_free(&f);
}


/* An alerted socket pushed out of a full table resolves; it does not stay
 * "firing" for ever. */
static void test_evicted_alert_resolves(void **unused)
{
	struct fx f;
	const struct alert *a;

	fx_init(&f, false);
	conntab__free(f.tab);
	f.tab = conntab__new(2);
	feed(&f, to(1, 1 * SEC, TCPFSM_CLOSE, TCPFSM_SYN_SENT, 2, 80, 0));
	sweep(&f, 5 * SEC);
	assert_int_equal(f.got.n, 1);
	assert_int_equal(stats(&f)->firing[TCPFSM_SYN_SENT], 1);
	feed(&f, to(2, 6 * SEC, TCPFSM_CLOSE, TCPFSM_SYN_SENT, 3, 80, 0));
	feed(&f, to(3, 7 * SEC, TCPFSM_CLOSE, TCPFSM_SYN_SENT, 4, 80, 0));
	assert_int_equal(f.got.n, 2);
	a = &f.got.v[1];
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->cookie, 1);
	assert_non_null(strstr(a->diagnosis, "evicted from a full table"));
	assert_int_equal(stats(&f)->firing[TCPFSM_SYN_SENT], 0);
	fx_free(&f);
}

/* Rate-limit groups idle for 10 minutes are forgotten. */
static void test_idle_groups_forgotten(void **unused)
{
	struct fx f;

	fx_init(&f, false);
	feed(&f, to(1, 1 * SEC, TCPFSM_CLOSE, TCPFSM_SYN_SENT, 2, 80, 0));
	sweep(&f, 5 * SEC);
	assert_int_equal(stats(&f)->groups, 1);
	feed(&f, to(1, 6 * SEC, TCPFSM_SYN_SENT, TCPFSM_CLOSE, 2, 80, 1000));
	sweep(&f, 7 * SEC);
	assert_int_equal(stats(&f)->groups, 1); /* recently used */
	sweep(&f, 5 * SEC + 601 * SEC);
	assert_int_equal(stats(&f)->groups, 0);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_sent_fires_once_and_times_out),
		cmocka_unit_test(test_diagnose_syn_sent_peers),
		cmocka_unit_test(test_diagnose_close_wait),
		cmocka_unit_test(test_diagnose_closing_states),
		cmocka_unit_test(test_lazily_tracked_socket),
		cmocka_unit_test(test_self_transition_keeps_alert),
		cmocka_unit_test(test_self_transition_keeps_age),
		cmocka_unit_test(test_self_transition_first_seen),
		cmocka_unit_test(test_half_open_fires_and_completes),
		cmocka_unit_test(test_half_open_names_client),
		cmocka_unit_test(test_half_open_gone),
		cmocka_unit_test(test_half_open_many),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_rate_limit_refill_per_sweep),
		cmocka_unit_test(test_no_alert_before_threshold),
		cmocka_unit_test(test_each_state_once),
		cmocka_unit_test(test_timewait_socket_reused),
		cmocka_unit_test(test_evicted_alert_resolves),
		cmocka_unit_test(test_idle_groups_forgotten),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_ipv6_no_owner),
		cmocka_unit_test(test_format_hostile_comm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
