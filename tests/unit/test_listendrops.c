// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Listeners' drops (pure/listendrops) and the listener alerts the alert
 * engine makes of them: baselines, what counts, episodes, exact text.
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
#include "pure/conntab.h"
#include "pure/diagnosis.h"
#include "pure/listendrops.h"
#include "support.h"

#define SEC 1000000000ULL
#define NS 4026532000u

/* java (pid 1234) listens on 10.0.0.2:8080 with backlog 128 */
static struct listener_info java(uint64_t sk_drops)
{
	struct listener_info li = {
		.cookie = 77,
		.sk_drops = sk_drops,
		.netns = NS,
		.ino = 5555,
		.pid = 1234,
		.backlog = 129,
		.max_backlog = 128,
		.port = 8080,
		.family = TCPFSM_AF_INET,
		.owner = true,
		.addr = { 10, 0, 0, 2 },
		.comm = "java",
	};

	return li;
}

/* a SYN from 10.0.0.src to port, dropped in NS */
static struct tcpfsm_event syn_drop(uint64_t ts, uint16_t port, uint8_t src)
{
	struct tcpfsm_event e = {
		.ts_ns = ts,
		.old_duration_ns = 0xffffffffc0001000ULL,
		.netns = NS,
		.sport = port,
		.dport = 50000,
		.family = TCPFSM_AF_INET,
		.oldstate = TCPFSM_DROP_IN,
		.evidence = TCPFSM_SEG_SYN,
		.kind = TCPFSM_KIND_DROP,
		.saddr = { 10, 0, 0, 2 },
		.daddr = { 10, 0, 0, src },
		.ino = 12,
	};

	return e;
}

static struct drop_item named(const char *reason)
{
	struct drop_item it = { .segment = TCPFSM_SEG_SYN, .direction = TCPFSM_DROP_IN };

	snprintf(it.reason_name, sizeof(it.reason_name), "%s", reason);
	snprintf(it.where, sizeof(it.where), "nft_do_chain");
	return it;
}

static void sweep_one(struct listendrops *t, struct listener_info li, uint64_t now)
{
	listendrops__begin(t);
	assert_int_equal(listendrops__seen(t, &li, now), 0);
	listendrops__end(t, NULL, NULL);
}

static struct listener *only(struct listendrops *t)
{
	uint32_t pos = 0;
	struct listener *l = listendrops__next(t, &pos);

	assert_non_null(l);
	assert_null(listendrops__next(t, &pos));
	return l;
}

static void test_baselines(void **unused)
{
	struct listendrops *t = listendrops__new();
	const struct listen_total *tot;
	struct listener_info li;
	struct listener *l;

	/* older than us (the startup snapshot saw it): what the counter holds
	 * at the first sweep is from before us */
	assert_int_equal(listendrops__existing(t, 77), 0);
	sweep_one(t, java(500), 1 * SEC);
	l = only(t);
	assert_int_equal(l->start_ns, 0);
	assert_int_equal(listendrops__totals(t, &tot), 0);
	/* then its difference, attributed to the time since the last sweep */
	sweep_one(t, java(523), 2 * SEC);
	l = only(t);
	assert_true(l->start_ns == 1 * SEC);
	assert_true(l->last_ns == 2 * SEC);
	assert_int_equal(l->drops.n, 1);
	assert_int_equal(l->drops.item[0].count, 23);
	assert_string_equal(l->drops.item[0].reason_name, "TCP_LISTEN_OVERFLOW");
	assert_string_equal(l->drops.item[0].where, "tcp_listendrop");
	assert_int_equal(listendrops__totals(t, &tot), 1);
	assert_int_equal(tot[0].count, 23);
	/* 32 bits wrap */
	li = java(0xfffffff0u);
	sweep_one(t, li, 3 * SEC);
	li.sk_drops = 0x10;
	sweep_one(t, li, 4 * SEC);
	assert_int_equal(only(t)->drops.item[0].count, 23 + (0xfffffff0u - 523) + 0x20);
	/* another socket on the port, after the first sweep: counted from 0 */
	li = java(7);
	li.cookie = 78;
	sweep_one(t, li, 5 * SEC);
	assert_int_equal(only(t)->drops.item[0].count, 23 + (0xfffffff0u - 523) + 0x20 + 7);
	listendrops__free(t);
}

/* A listener the startup snapshot did not see was made since: counted
 * from 0 in our time, first sweep or not. */
static void test_new_listener(void **unused)
{
	struct listendrops *t = listendrops__new();
	struct listener_info other = java(0);

	other.port = 9090;
	other.cookie = 99;
	sweep_one(t, other, 1 * SEC);
	listendrops__begin(t);
	listendrops__seen(t, &other, 2 * SEC);
	{
		struct listener_info li = java(48);

		listendrops__seen(t, &li, 2 * SEC);
	}
	listendrops__end(t, NULL, NULL);
	assert_int_equal(listendrops__count(t), 2);
	{
		uint32_t pos = 0;
		struct listener *l;
		bool found = false;

		while ((l = listendrops__next(t, &pos)))
			if (l->info.port == 8080) {
				assert_int_equal(l->drops.item[0].count, 48);
				found = true;
			}
		assert_true(found);
	}
	listendrops__free(t);
}

static int gone_calls;

static void on_gone(void *ctx, struct listener *l)
{
	gone_calls++;
	assert_int_equal(l->info.port, 8080);
}

static void test_drop_records_and_gone(void **unused)
{
	struct listendrops *t = listendrops__new();
	struct drop_item it = named("NETFILTER_DROP");
	struct tcpfsm_event e;
	const struct listen_total *tot;
	struct listener *l;

	/* a drop for a port no sweep has seen a listener on waits for one:
	 * taken by the sweep that finds it within 3 s, else not */
	e = syn_drop(SEC / 2, 8080, 1);
	assert_false(listendrops__drop(t, &e, &it));
	e = syn_drop(SEC / 2, 9999, 1);
	assert_false(listendrops__drop(t, &e, &it));
	sweep_one(t, java(0), SEC);
	l = only(t);
	assert_int_equal(l->drops.item[0].count, 1);
	assert_true(l->drops.item[0].first_ns == SEC / 2);
	e = syn_drop(2 * SEC, 8080, 1);
	assert_true(listendrops__drop(t, &e, &it));
	l = only(t);
	assert_int_equal(l->drops.item[0].count, 2);
	assert_int_equal(l->src_family, TCPFSM_AF_INET);
	assert_false(l->src_multi);
	assert_int_equal(l->src[3], 1);
	/* counted on the listener already, or a retransmitted SYN of a request */
	it = named("TCP_LISTEN_OVERFLOW");
	assert_false(listendrops__drop(t, &e, &it));
	it = named("TCP_REQQFULLDROP");
	assert_false(listendrops__drop(t, &e, &it));
	it = named("NOT_SPECIFIED");
	assert_false(listendrops__drop(t, &e, &it));
	/* not a SYN coming in */
	it = named("NETFILTER_DROP");
	e.evidence = TCPFSM_SEG_ACK;
	assert_false(listendrops__drop(t, &e, &it));
	e = syn_drop(3 * SEC, 8080, 1);
	e.oldstate = TCPFSM_DROP_OUT;
	assert_false(listendrops__drop(t, &e, &it));
	/* another port, another namespace */
	e = syn_drop(3 * SEC, 8081, 1);
	assert_false(listendrops__drop(t, &e, &it));
	e = syn_drop(3 * SEC, 8080, 1);
	e.netns = NS + 1;
	assert_false(listendrops__drop(t, &e, &it));
	/* another source */
	e = syn_drop(3 * SEC, 8080, 9);
	assert_true(listendrops__drop(t, &e, &it));
	assert_true(only(t)->src_multi);
	assert_int_equal(listendrops__totals(t, &tot), 1);
	assert_string_equal(tot[0].reason, "NETFILTER_DROP");
	assert_int_equal(tot[0].count, 3);
	/* a listener the next sweep does not see is gone */
	listendrops__begin(t);
	listendrops__end(t, on_gone, NULL);
	assert_int_equal(gone_calls, 1);
	assert_int_equal(listendrops__count(t), 0);
	/* port 9999 gets a listener 4 s after its drop: too late */
	{
		struct listener_info li = java(0);

		li.port = 9999;
		sweep_one(t, li, SEC / 2 + 4 * SEC);
		assert_int_equal(only(t)->drops.n, 0);
		assert_int_equal(listendrops__totals(t, &tot), 1);
	}
	listendrops__free(t);
	listendrops__free(NULL);
}

/* The totals are a bounded label set: beyond it, "OTHER". */
static void test_totals_bound(void **unused)
{
	struct listendrops *t = listendrops__new();
	const struct listen_total *tot;
	struct drop_item it;
	char name[32];

	sweep_one(t, java(0), SEC);
	for (int i = 0; i < LISTEN_TOTALS_MAX + 5; i++) {
		struct tcpfsm_event e = syn_drop(2 * SEC, 8080, 1);

		snprintf(name, sizeof(name), "R%d", i);
		it = named(name);
		assert_true(listendrops__drop(t, &e, &it));
	}
	assert_int_equal(listendrops__totals(t, &tot), LISTEN_TOTALS_MAX);
	assert_string_equal(tot[0].reason, "R0");
	assert_string_equal(tot[LISTEN_TOTALS_MAX - 1].reason, "OTHER");
	assert_int_equal(tot[LISTEN_TOTALS_MAX - 1].count, 6);
	/* the episode itemizes DROP_LIST_MAX kinds, counts the rest */
	assert_int_equal(only(t)->drops.n, DROP_LIST_MAX);
	assert_int_equal(only(t)->drops.more, LISTEN_TOTALS_MAX + 5 - DROP_LIST_MAX);
	listendrops__free(t);
}

/* ---- the alert engine's listener alerts ---- */

struct got {
	struct alert v[32];
	size_t n;
};

static void on_alert(void *ctx, struct alert *a)
{
	struct got *g = ctx;

	assert_true(g->n < 32);
	g->v[g->n++] = *a;
}

static void namer(void *ctx, struct drop_item *it)
{
	snprintf(it->reason_name, sizeof(it->reason_name), "%s",
		 it->reason == 12 ? "NETFILTER_DROP" : "NOT_SPECIFIED");
	snprintf(it->where, sizeof(it->where), "nft_do_chain");
}

struct fx {
	struct alert_cfg cfg;
	struct conntab *tab;
	struct alert_engine *ae;
	struct got got;
};

static void fx_init(struct fx *f, uint32_t rate)
{
	memset(f, 0, sizeof(*f));
	alert_cfg_defaults(&f->cfg);
	if (rate)
		f->cfg.rate = rate;
	f->tab = conntab__new(64);
	f->ae = alert_engine__new(&f->cfg, on_alert, &f->got);
	assert_non_null(f->ae);
	alert_engine__set_drop_namer(f->ae, namer, NULL);
}

static void fx_free(struct fx *f)
{
	alert_engine__free(f->ae);
	conntab__free(f->tab);
}

/* The startup snapshot's record of a listener older than us (with flags:
 * a lazy-tracking seed has none, and is no such thing). */
static void seed_listener(struct fx *f, uint64_t cookie, uint8_t flags)
{
	struct tcpfsm_event e = client_event(cookie, 99 * SEC, LISTEN, LISTEN);

	e.kind = TCPFSM_KIND_SNAPSHOT;
	e.flags = flags;
	assert_int_equal(alert_engine__apply(f->ae, f->tab, &e, NULL, NULL), 0);
}

static void listeners(struct fx *f, struct listener_info li, uint64_t now, bool present)
{
	alert_engine__listeners_begin(f->ae);
	if (present)
		assert_int_equal(alert_engine__listener(f->ae, &li, now), 0);
	alert_engine__listeners_end(f->ae, now);
}

static const struct fmt_opts FMT = { .boot_to_real_ns = 1767323045LL * 1000000000LL - 100 * SEC };

static void test_overflow_alert(void **unused)
{
	char buf[FORMAT_ALERT_MAX];
	const struct alert *a;
	struct fx f;
	int n;

	setenv("TZ", "UTC", 1);
	tzset();
	fx_init(&f, 0);
	seed_listener(&f, 77, TCPFSM_F_PREEXISTING | TCPFSM_F_OWNER);
	listeners(&f, java(500), 100 * SEC, true);
	alert_engine__sweep(f.ae, f.tab, 100 * SEC);
	assert_int_equal(f.got.n, 0);
	listeners(&f, java(1023), 102 * SEC, true);
	alert_engine__sweep(f.ae, f.tab, 102 * SEC);
	assert_int_equal(f.got.n, 1);
	a = &f.got.v[0];
	assert_int_equal(a->state, LISTEN);
	assert_int_equal(a->status, ALERT_FIRING);
	assert_int_equal(a->verdict, VERDICT_LISTEN_OVERFLOW);
	assert_string_equal(a->diagnosis,
			    "SYNs to 10.0.0.2:8080 are dropped here: accept queue full "
			    "(TCP_LISTEN_OVERFLOW, 523 in 2.00s, backlog 128): process 1234 (java) "
			    "does not accept() fast enough");
	n = format_alert_text(buf, sizeof(buf), a, &FMT);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "03:04:07 FIRING   LISTEN      pid 1234 java 10.0.0.2:8080: SYNs to "
				 "10.0.0.2:8080 are dropped here: accept queue full "
				 "(TCP_LISTEN_OVERFLOW, 523 in 2.00s, backlog 128): process 1234 "
				 "(java) does not accept() fast enough\n");
	n = format_alert_json(buf, sizeof(buf), a, &FMT);
	assert_int_equal(n, strlen(buf));
	assert_true(json_line_ok(buf));
	assert_non_null(strstr(buf, "\"verdict\":\"listen_overflow\",\"drops\":[{\"reason\":"
				    "\"TCP_LISTEN_OVERFLOW\",\"where\":\"tcp_listendrop\","
				    "\"segment\":\"syn\",\"direction\":\"in\",\"side\":\"here\","
				    "\"netns\":4026532000,\"count\":523,"));
	assert_non_null(strstr(buf, "\"backlog\":129,\"max_backlog\":128}\n"));
	assert_int_equal(alert_engine__stats(f.ae)->fired[LISTEN], 1);
	/* more drops: one alert; quiet for 10 s: resolved */
	listeners(&f, java(1100), 103 * SEC, true);
	alert_engine__sweep(f.ae, f.tab, 103 * SEC);
	listeners(&f, java(1100), 112 * SEC, true);
	alert_engine__sweep(f.ae, f.tab, 112 * SEC);
	assert_int_equal(f.got.n, 1);
	listeners(&f, java(1100), 113 * SEC, true);
	alert_engine__sweep(f.ae, f.tab, 113 * SEC);
	assert_int_equal(f.got.n, 2);
	a = &f.got.v[1];
	assert_int_equal(a->status, ALERT_RESOLVED);
	assert_int_equal(a->verdict, VERDICT_LISTEN_OVERFLOW);
	assert_string_equal(a->diagnosis, "SYNs to 10.0.0.2:8080: 600 dropped in 13.0s; no SYN "
					  "dropped for 10s");
	/* a new episode, ended by the listener closing */
	listeners(&f, java(1101), 114 * SEC, true);
	alert_engine__sweep(f.ae, f.tab, 114 * SEC);
	assert_int_equal(f.got.n, 3);
	listeners(&f, java(0), 115 * SEC, false);
	assert_int_equal(f.got.n, 4);
	assert_string_equal(f.got.v[3].diagnosis, "SYNs to 10.0.0.2:8080: 1 dropped in 2.00s; the "
						  "listener closed");
	fx_free(&f);
}

static void test_firewall_alert(void **unused)
{
	struct listener_info li = java(0);
	const struct alert *a;
	struct fx f;

	fx_init(&f, 1);
	memset(li.addr, 0, sizeof(li.addr));
	li.owner = false;
	listeners(&f, li, 100 * SEC, true);
	for (int i = 0; i < 3; i++) {
		struct tcpfsm_event e = syn_drop(100 * SEC + i * SEC / 2, 8080, 1);

		assert_int_equal(alert_engine__apply(f.ae, f.tab, &e, NULL, NULL), 0);
	}
	alert_engine__sweep(f.ae, f.tab, 102 * SEC);
	assert_int_equal(f.got.n, 1);
	a = &f.got.v[0];
	assert_int_equal(a->verdict, VERDICT_SYN_DROPPED_HERE);
	assert_string_equal(a->diagnosis, "SYNs to :8080 are dropped here by netfilter "
					  "(NETFILTER_DROP in nft_do_chain): 3 from 10.0.0.1 in 2.00s");
	/* the remote end is its one source */
	assert_int_equal(a->daddr[3], 1);
	/* the drops stay in the connection table too, by 4-tuple */
	{
		struct droptab_stats st;

		droptab__stats(conntab__droptab(f.tab), &st);
		assert_int_equal(st.added, 3);
	}
	fx_free(&f);
}

/* Rate-limited per namespace and port; the summary names the port. */
static void test_listener_rate_limit(void **unused)
{
	struct fx f;

	fx_init(&f, 1);
	for (int i = 0; i < 2; i++) {
		struct listener_info li = java(0);

		li.cookie = 77 + i;
		listeners(&f, li, 100 * SEC, true);
		li.sk_drops = 5;
		listeners(&f, li, 101 * SEC, true);
		alert_engine__sweep(f.ae, f.tab, 101 * SEC);
		/* resolve: quiet */
		listeners(&f, li, 112 * SEC, true);
		alert_engine__sweep(f.ae, f.tab, 112 * SEC);
	}
	/* the second episode folded */
	assert_true(alert_engine__stats(f.ae)->suppressed >= 1);
	alert_engine__sweep(f.ae, f.tab, 200 * SEC);
	{
		bool summary = false;

		for (size_t i = 0; i < f.got.n; i++)
			if (f.got.v[i].aggregate && strstr(f.got.v[i].diagnosis, "LISTEN") &&
			    strstr(f.got.v[i].diagnosis, " on port 8080 "))
				summary = true;
		assert_true(summary);
	}
	fx_free(&f);
}

/* A client whose server on this host refuses SYNs for a full queue. */
static void test_client_of_overflowing_listener(void **unused)
{
	struct tcpfsm_event c = client_event(1, 100 * SEC, CLOSE, SYN_SENT);
	struct listener_info li = java(0);
	const struct alert *a = NULL;
	struct fx f;

	fx_init(&f, 0);
	memcpy(li.addr, c.daddr, 16);
	li.port = c.dport;
	listeners(&f, li, 100 * SEC, true);
	assert_int_equal(alert_engine__apply(f.ae, f.tab, &c, NULL, NULL), 0);
	li.sk_drops = 40;
	listeners(&f, li, 101 * SEC, true);
	alert_engine__sweep(f.ae, f.tab, 103 * SEC);
	for (size_t i = 0; i < f.got.n; i++)
		if (f.got.v[i].state == SYN_SENT)
			a = &f.got.v[i];
	assert_non_null(a);
	assert_int_equal(a->verdict, VERDICT_LISTEN_OVERFLOW);
	assert_string_equal(a->diagnosis, "SYN_SENT for 3.00s, 0 SYN retransmits: the peer's listen "
					  "queue is full, it refuses SYNs (TCP_LISTEN_OVERFLOW in "
					  "tcp_listendrop, 40 times)");
	fx_free(&f);
}

/* Only the startup snapshot's listeners are older than us. */
static void test_seeds_and_baselines(void **unused)
{
	struct listener_info li = java(300);
	struct fx f;

	fx_init(&f, 0);
	/* a lazy-tracking seed: a socket tracked from now, not an old one */
	seed_listener(&f, 77, TCPFSM_F_OWNER);
	listeners(&f, li, 100 * SEC, true);
	alert_engine__sweep(f.ae, f.tab, 100 * SEC);
	assert_int_equal(f.got.n, 1);
	assert_int_equal(f.got.v[0].drops.item[0].count, 300);
	fx_free(&f);

	fx_init(&f, 0);
	seed_listener(&f, 77, TCPFSM_F_PREEXISTING);
	listeners(&f, li, 100 * SEC, true);
	alert_engine__sweep(f.ae, f.tab, 100 * SEC);
	assert_int_equal(f.got.n, 0);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baselines),
		cmocka_unit_test(test_seeds_and_baselines),
		cmocka_unit_test(test_new_listener),
		cmocka_unit_test(test_drop_records_and_gone),
		cmocka_unit_test(test_totals_bound),
		cmocka_unit_test(test_overflow_alert),
		cmocka_unit_test(test_firewall_alert),
		cmocka_unit_test(test_listener_rate_limit),
		cmocka_unit_test(test_client_of_overflowing_listener),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
