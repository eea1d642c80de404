// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Connection histories against exact text and JSON: hand-built connections,
 * then the committed recording tests/data/exchange.tfr replayed through the
 * record reader and the connection table, against golden files.
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
#include "pure/conntab.h"
#include "pure/connfmt.h"
#include "sys/record.h"
#include "support.h"

#define SEC 1000000000ULL
#define MS 1000000ULL
#define US 1000ULL

/* boot time 0 is 2026-11-27T15:00:00Z */
static const struct fmt_opts opts = { .boot_to_real_ns = 1795791600LL * 1000000000LL };

#define ARROW " \xe2\x86\x92 " /* → */
#define MICRO "\xc2\xb5"	/* µ */

static int setup_tz(void **unused)
{
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void set_path(struct conn *c, const uint8_t *states, size_t n, const uint64_t *enter)
{
	c->npath = n;
	for (size_t i = 0; i < n; i++) {
		c->states[i] = states[i];
		c->enter_ns[i] = enter[i];
	}
	c->state = states[n - 1];
}

/* set_path(&c, STATES(...), AT(...)): the path and the time each state began */
#define STATES(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })
#define AT(...) ((const uint64_t[]){ __VA_ARGS__ })

/* client_event's curl/4242 at 10.0.0.1:40000 talking to 10.0.0.2:443, no path yet */
static struct conn client(uint64_t cookie)
{
	struct tcpfsm_event e = client_event(cookie, 0, TCPFSM_CLOSE, TCPFSM_SYN_SENT);
	struct conn c = {
		.cookie = e.cookie,
		.cgroup_id = e.cgroup_id,
		.pid = e.pid,
		.netns = e.netns,
		.sport = e.sport,
		.dport = e.dport,
		.family = e.family,
		.flags = CONN_COMPLETE | CONN_OWNER,
	};

	memcpy(c.comm, e.comm, sizeof(c.comm));
	memcpy(c.saddr, e.saddr, sizeof(c.saddr));
	memcpy(c.daddr, e.daddr, sizeof(c.daddr));
	return c;
}

/* The active closer's whole life, from 10 s to 12.5301 s: ends in TIME_WAIT. */
static void timewait_path(struct conn *c)
{
	set_path(c,
		 STATES(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, TCPFSM_FIN_WAIT2,
			TCPFSM_TIME_WAIT),
		 AT(10 * SEC, 10 * SEC + 250 * US, 12 * SEC + 500 * MS, 12 * SEC + 500100 * US,
		    12 * SEC + 530100 * US));
}

static void expect(const struct conn *c, const struct conn_end *end, const char *text,
		   const char *json)
{
	char buf[FORMAT_CONN_MAX];
	int n;

	n = format_conn_text(buf, sizeof(buf), c, end, &opts);
	assert_string_equal(buf, text);
	assert_int_equal(n, strlen(text));
	n = format_conn_json(buf, sizeof(buf), c, end, &opts);
	assert_string_equal(buf, json);
	assert_int_equal(n, strlen(json));
	assert_true(json_line_ok(buf));
}

/* The active closer, seen from its first state: ends in TIME_WAIT. */
static void test_complete_client_timewait(void **unused)
{
	struct conn c = client(42);
	struct conn_end end = { 12 * SEC + 530100000, END_NORMAL, true };

	timewait_path(&c);
	expect(&c, &end,
	       "15:00:10.000000 4242    curl            10.0.0.1:40000 -> 10.0.0.2:443  2.53s "
	       "SYN_SENT 250" MICRO "s" ARROW "ESTABLISHED 2.50s" ARROW "FIN_WAIT1 100" MICRO
	       "s" ARROW "FIN_WAIT2 30.0ms" ARROW "TIME_WAIT  (normal close)\n",
	       "{\"type\":\"connection\",\"cookie\":42,\"pid\":4242,\"comm\":\"curl\","
	       "\"family\":\"ipv4\",\"saddr\":\"10.0.0.1\",\"sport\":40000,"
	       "\"daddr\":\"10.0.0.2\",\"dport\":443,\"netns\":4026531840,"
	       "\"start\":\"2026-11-27T15:00:10.000000000Z\","
	       "\"end\":\"2026-11-27T15:00:12.530100000Z\",\"duration_ns\":2530100000,"
	       "\"complete\":true,\"path\":["
	       "{\"state\":\"SYN_SENT\",\"enter\":\"2026-11-27T15:00:10.000000000Z\","
	       "\"duration_ns\":250000},"
	       "{\"state\":\"ESTABLISHED\",\"enter\":\"2026-11-27T15:00:10.000250000Z\","
	       "\"duration_ns\":2499750000},"
	       "{\"state\":\"FIN_WAIT1\",\"enter\":\"2026-11-27T15:00:12.500000000Z\","
	       "\"duration_ns\":100000},"
	       "{\"state\":\"FIN_WAIT2\",\"enter\":\"2026-11-27T15:00:12.500100000Z\","
	       "\"duration_ns\":30000000},"
	       "{\"state\":\"TIME_WAIT\",\"enter\":\"2026-11-27T15:00:12.530100000Z\","
	       "\"duration_ns\":null}],"
	       "\"end_reason\":\"normal\",\"syn_retransmits\":0,\"cgroup_id\":7}\n");
}

/* Seeded by the snapshot: the first state's time is a lower bound. */
static void test_seeded_incomplete(void **unused)
{
	struct conn c = client(43);
	struct conn_end end = { 160 * SEC + 600 * US, END_NORMAL, false };

	c.pid = 77;
	strcpy(c.comm, "nginx");
	c.cgroup_id = 0;
	c.sport = 443;
	c.dport = 40000;
	c.saddr[3] = 2;
	c.daddr[3] = 1;
	c.flags = CONN_SEEDED | CONN_FIRST_LOWER | CONN_OWNER;
	set_path(&c, STATES(TCPFSM_ESTABLISHED, TCPFSM_CLOSE_WAIT, TCPFSM_LAST_ACK, TCPFSM_CLOSE),
		 AT(100 * SEC, 160 * SEC, 160 * SEC + 500 * US, 160 * SEC + 600 * US));
	expect(&c, &end,
	       "15:01:40.000000 77      nginx           10.0.0.2:443 -> 10.0.0.1:40000  >=1m00s "
	       "ESTABLISHED >=1m00s" ARROW "CLOSE_WAIT 500" MICRO "s" ARROW "LAST_ACK 100" MICRO
	       "s" ARROW "CLOSE  (normal close, began before tracing)\n",
	       "{\"type\":\"connection\",\"cookie\":43,\"pid\":77,\"comm\":\"nginx\","
	       "\"family\":\"ipv4\",\"saddr\":\"10.0.0.2\",\"sport\":443,"
	       "\"daddr\":\"10.0.0.1\",\"dport\":40000,\"netns\":4026531840,"
	       "\"start\":\"2026-11-27T15:01:40.000000000Z\","
	       "\"end\":\"2026-11-27T15:02:40.000600000Z\",\"duration_ns\":60000600000,"
	       "\"complete\":false,\"path\":["
	       "{\"state\":\"ESTABLISHED\",\"enter\":\"2026-11-27T15:01:40.000000000Z\","
	       "\"duration_ns\":60000000000,\"at_least\":true},"
	       "{\"state\":\"CLOSE_WAIT\",\"enter\":\"2026-11-27T15:02:40.000000000Z\","
	       "\"duration_ns\":500000},"
	       "{\"state\":\"LAST_ACK\",\"enter\":\"2026-11-27T15:02:40.000500000Z\","
	       "\"duration_ns\":100000},"
	       "{\"state\":\"CLOSE\",\"enter\":\"2026-11-27T15:02:40.000600000Z\","
	       "\"duration_ns\":null}],"
	       "\"end_reason\":\"normal\",\"syn_retransmits\":0,\"cgroup_id\":0}\n");
}

/* First seen mid-life, the old state untimed, owner unknown. */
static void test_mid_life_unknown_owner(void **unused)
{
	struct conn c = client(44);
	struct conn_end end = { 7 * SEC, END_NORMAL, true };

	c.flags = 0;
	c.pid = 0;
	c.cgroup_id = 0;
	memset(c.comm, 0, sizeof(c.comm));
	c.sport = 5000;
	c.dport = 22;
	memcpy(c.saddr, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	memcpy(c.daddr, (uint8_t[]){ 198, 51, 100, 7 }, 4);
	set_path(&c,
		 STATES(TCPFSM_ESTABLISHED, TCPFSM_FIN_WAIT1, TCPFSM_FIN_WAIT2, TCPFSM_TIME_WAIT),
		 AT(0, 5 * SEC, 5 * SEC + 2 * US, 7 * SEC));
	expect(&c, &end,
	       "15:00:05.000000 -       -               192.0.2.1:5000 -> 198.51.100.7:22  "
	       ">=2.00s ESTABLISHED ?" ARROW "FIN_WAIT1 2.00" MICRO "s" ARROW
	       "FIN_WAIT2 2.00s" ARROW "TIME_WAIT  (normal close, began before tracing)\n",
	       "{\"type\":\"connection\",\"cookie\":44,\"pid\":null,\"comm\":null,"
	       "\"family\":\"ipv4\",\"saddr\":\"192.0.2.1\",\"sport\":5000,"
	       "\"daddr\":\"198.51.100.7\",\"dport\":22,\"netns\":4026531840,"
	       "\"start\":\"2026-11-27T15:00:05.000000000Z\","
	       "\"end\":\"2026-11-27T15:00:07.000000000Z\",\"duration_ns\":2000000000,"
	       "\"complete\":false,\"path\":["
	       "{\"state\":\"ESTABLISHED\",\"enter\":null,\"duration_ns\":null},"
	       "{\"state\":\"FIN_WAIT1\",\"enter\":\"2026-11-27T15:00:05.000000000Z\","
	       "\"duration_ns\":2000},"
	       "{\"state\":\"FIN_WAIT2\",\"enter\":\"2026-11-27T15:00:05.000002000Z\","
	       "\"duration_ns\":1999998000},"
	       "{\"state\":\"TIME_WAIT\",\"enter\":\"2026-11-27T15:00:07.000000000Z\","
	       "\"duration_ns\":null}],"
	       "\"end_reason\":\"normal\",\"syn_retransmits\":0,\"cgroup_id\":0}\n");

	/* timed by the kernel: the old state's time is exact, the lifetime is not */
	c.enter_ns[0] = 4 * SEC;
	expect(&c, &end,
	       "15:00:04.000000 -       -               192.0.2.1:5000 -> 198.51.100.7:22  "
	       ">=3.00s ESTABLISHED 1.00s" ARROW "FIN_WAIT1 2.00" MICRO "s" ARROW
	       "FIN_WAIT2 2.00s" ARROW "TIME_WAIT  (normal close, began before tracing)\n",
	       "{\"type\":\"connection\",\"cookie\":44,\"pid\":null,\"comm\":null,"
	       "\"family\":\"ipv4\",\"saddr\":\"192.0.2.1\",\"sport\":5000,"
	       "\"daddr\":\"198.51.100.7\",\"dport\":22,\"netns\":4026531840,"
	       "\"start\":\"2026-11-27T15:00:04.000000000Z\","
	       "\"end\":\"2026-11-27T15:00:07.000000000Z\",\"duration_ns\":3000000000,"
	       "\"complete\":false,\"path\":["
	       "{\"state\":\"ESTABLISHED\",\"enter\":\"2026-11-27T15:00:04.000000000Z\","
	       "\"duration_ns\":1000000000},"
	       "{\"state\":\"FIN_WAIT1\",\"enter\":\"2026-11-27T15:00:05.000000000Z\","
	       "\"duration_ns\":2000},"
	       "{\"state\":\"FIN_WAIT2\",\"enter\":\"2026-11-27T15:00:05.000002000Z\","
	       "\"duration_ns\":1999998000},"
	       "{\"state\":\"TIME_WAIT\",\"enter\":\"2026-11-27T15:00:07.000000000Z\","
	       "\"duration_ns\":null}],"
	       "\"end_reason\":\"normal\",\"syn_retransmits\":0,\"cgroup_id\":0}\n");
}

/* Evicted while alive: the last state's duration runs to the eviction, a lower bound. */
static void test_evicted(void **unused)
{
	struct conn c = client(45);
	struct conn_end end = { 31 * SEC + 1 * MS, END_EVICTED, false };

	set_path(&c, STATES(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED), AT(1 * SEC, 1 * SEC + 1 * MS));
	expect(&c, &end,
	       "15:00:01.000000 4242    curl            10.0.0.1:40000 -> 10.0.0.2:443  >=30.0s "
	       "SYN_SENT 1.00ms" ARROW "ESTABLISHED >=30.0s  (evicted (table full))\n",
	       "{\"type\":\"connection\",\"cookie\":45,\"pid\":4242,\"comm\":\"curl\","
	       "\"family\":\"ipv4\",\"saddr\":\"10.0.0.1\",\"sport\":40000,"
	       "\"daddr\":\"10.0.0.2\",\"dport\":443,\"netns\":4026531840,"
	       "\"start\":\"2026-11-27T15:00:01.000000000Z\","
	       "\"end\":\"2026-11-27T15:00:31.001000000Z\",\"duration_ns\":30001000000,"
	       "\"complete\":true,\"path\":["
	       "{\"state\":\"SYN_SENT\",\"enter\":\"2026-11-27T15:00:01.000000000Z\","
	       "\"duration_ns\":1000000},"
	       "{\"state\":\"ESTABLISHED\",\"enter\":\"2026-11-27T15:00:01.001000000Z\","
	       "\"duration_ns\":30000000000,\"at_least\":true}],"
	       "\"end_reason\":\"evicted\",\"syn_retransmits\":0,\"cgroup_id\":7}\n");

	/* a seeded listener evicted: one state, both bounds */
	c = client(46);
	c.flags = CONN_SEEDED | CONN_FIRST_LOWER | CONN_OWNER;
	c.sport = 443;
	c.dport = 0;
	memset(c.saddr, 0, sizeof(c.saddr));
	memset(c.daddr, 0, sizeof(c.daddr));
	set_path(&c, STATES(TCPFSM_LISTEN), AT(100 * SEC));
	end.end_ns = 400 * SEC;
	expect(&c, &end,
	       "15:01:40.000000 4242    curl            0.0.0.0:443 -> 0.0.0.0:0  >=5m00s "
	       "LISTEN >=5m00s  (evicted (table full), began before tracing)\n",
	       "{\"type\":\"connection\",\"cookie\":46,\"pid\":4242,\"comm\":\"curl\","
	       "\"family\":\"ipv4\",\"saddr\":\"0.0.0.0\",\"sport\":443,"
	       "\"daddr\":\"0.0.0.0\",\"dport\":0,\"netns\":4026531840,"
	       "\"start\":\"2026-11-27T15:01:40.000000000Z\","
	       "\"end\":\"2026-11-27T15:06:40.000000000Z\",\"duration_ns\":300000000000,"
	       "\"complete\":false,\"path\":["
	       "{\"state\":\"LISTEN\",\"enter\":\"2026-11-27T15:01:40.000000000Z\","
	       "\"duration_ns\":300000000000,\"at_least\":true}],"
	       "\"end_reason\":\"evicted\",\"syn_retransmits\":0,\"cgroup_id\":7}\n");
}

/* A long path: the state before the skipped ones has no known duration. */
static void test_skipped_states(void **unused)
{
	struct conn c = client(47);
	struct conn_end end = { 8 * SEC, END_NORMAL, true };

	set_path(&c,
		 STATES(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED, TCPFSM_CLOSE_WAIT, TCPFSM_LAST_ACK,
			TCPFSM_ESTABLISHED, TCPFSM_TIME_WAIT),
		 AT(1 * SEC, 2 * SEC, 3 * SEC, 4 * SEC, 5 * SEC, 8 * SEC));
	c.skipped = 2;
	expect(&c, &end,
	       "15:00:01.000000 4242    curl            10.0.0.1:40000 -> 10.0.0.2:443  7.00s "
	       "SYN_SENT 1.00s" ARROW "ESTABLISHED 1.00s" ARROW "CLOSE_WAIT 1.00s" ARROW
	       "LAST_ACK 1.00s" ARROW "ESTABLISHED ?" ARROW "(2 more)" ARROW
	       "TIME_WAIT  (normal close)\n",
	       "{\"type\":\"connection\",\"cookie\":47,\"pid\":4242,\"comm\":\"curl\","
	       "\"family\":\"ipv4\",\"saddr\":\"10.0.0.1\",\"sport\":40000,"
	       "\"daddr\":\"10.0.0.2\",\"dport\":443,\"netns\":4026531840,"
	       "\"start\":\"2026-11-27T15:00:01.000000000Z\","
	       "\"end\":\"2026-11-27T15:00:08.000000000Z\",\"duration_ns\":7000000000,"
	       "\"complete\":true,\"path\":["
	       "{\"state\":\"SYN_SENT\",\"enter\":\"2026-11-27T15:00:01.000000000Z\","
	       "\"duration_ns\":1000000000},"
	       "{\"state\":\"ESTABLISHED\",\"enter\":\"2026-11-27T15:00:02.000000000Z\","
	       "\"duration_ns\":1000000000},"
	       "{\"state\":\"CLOSE_WAIT\",\"enter\":\"2026-11-27T15:00:03.000000000Z\","
	       "\"duration_ns\":1000000000},"
	       "{\"state\":\"LAST_ACK\",\"enter\":\"2026-11-27T15:00:04.000000000Z\","
	       "\"duration_ns\":1000000000},"
	       "{\"state\":\"ESTABLISHED\",\"enter\":\"2026-11-27T15:00:05.000000000Z\","
	       "\"duration_ns\":null},"
	       "{\"state\":\"TIME_WAIT\",\"enter\":\"2026-11-27T15:00:08.000000000Z\","
	       "\"duration_ns\":null}],"
	       "\"end_reason\":\"normal\",\"syn_retransmits\":0,\"skipped_states\":2,"
	       "\"cgroup_id\":7}\n");
}

/* IPv6, a comm that needs escaping, a connect that timed out. */
static void test_ipv6_escaping_timeout(void **unused)
{
	struct conn c = client(48);
	struct conn_end end = { 64 * SEC, END_TIMEOUT, false };
	static const uint8_t a1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t a2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

	c.family = TCPFSM_AF_INET6;
	memcpy(c.saddr, a1, 16);
	memcpy(c.daddr, a2, 16);
	c.sport = 50000;
	c.dport = 80;
	c.pid = 1;
	strcpy(c.comm, "a\"b\\c\td");
	c.syn_retrans = 6;
	set_path(&c, STATES(TCPFSM_SYN_SENT, TCPFSM_CLOSE), AT(1 * SEC, 64 * SEC));
	expect(&c, &end,
	       "15:00:01.000000 1       a\"b\\c?d         [2001:db8::1]:50000 -> [2001:db8::2]:80  "
	       "1m03s SYN_SENT 1m03s" ARROW "CLOSE  (connect timed out, 6 SYN retransmits)\n",
	       "{\"type\":\"connection\",\"cookie\":48,\"pid\":1,\"comm\":\"a\\\"b\\\\c\\td\","
	       "\"family\":\"ipv6\",\"saddr\":\"2001:db8::1\",\"sport\":50000,"
	       "\"daddr\":\"2001:db8::2\",\"dport\":80,\"netns\":4026531840,"
	       "\"start\":\"2026-11-27T15:00:01.000000000Z\","
	       "\"end\":\"2026-11-27T15:01:04.000000000Z\",\"duration_ns\":63000000000,"
	       "\"complete\":true,\"path\":["
	       "{\"state\":\"SYN_SENT\",\"enter\":\"2026-11-27T15:00:01.000000000Z\","
	       "\"duration_ns\":63000000000},"
	       "{\"state\":\"CLOSE\",\"enter\":\"2026-11-27T15:01:04.000000000Z\","
	       "\"duration_ns\":null}],"
	       "\"end_reason\":\"timeout\",\"syn_retransmits\":6,\"cgroup_id\":7}\n");
}

/*
 * The worst comm: 15 bytes that each need a 6-byte escape. The JSON string
 * must be complete (closing quote), not cut short.
 */
static void test_comm_worst_case_escaping(void **unused)
{
	struct conn c = client(49);
	struct conn_end end = { 2 * SEC, END_REFUSED, false };
	char buf[FORMAT_CONN_MAX], want[256];
	int n;

	memset(c.comm, 0x01, TCPFSM_COMM_LEN - 1);
	c.comm[TCPFSM_COMM_LEN - 1] = 0;
	set_path(&c, STATES(TCPFSM_SYN_SENT, TCPFSM_CLOSE), AT(1 * SEC, 2 * SEC));
	n = format_conn_json(buf, sizeof(buf), &c, &end, &opts);
	assert_int_equal(n, strlen(buf));
	assert_true(json_line_ok(buf));
	strcpy(want, "\"comm\":\"");
	for (int i = 0; i < TCPFSM_COMM_LEN - 1; i++)
		strcat(want, "\\u0001");
	strcat(want, "\",\"family\"");
	assert_non_null(strstr(buf, want));

	/* bytes that are not UTF-8 */
	memset(c.comm, 0xff, TCPFSM_COMM_LEN - 1);
	n = format_conn_json(buf, sizeof(buf), &c, &end, &opts);
	assert_int_equal(n, strlen(buf));
	assert_true(json_line_ok(buf));
	strcpy(want, "\"comm\":\"");
	for (int i = 0; i < TCPFSM_COMM_LEN - 1; i++)
		strcat(want, "\\u00ff");
	strcat(want, "\",\"family\"");
	assert_non_null(strstr(buf, want));

	/* and in text, '?' for each */
	n = format_conn_text(buf, sizeof(buf), &c, &end, &opts);
	assert_string_equal(buf, "15:00:01.000000 4242    ??????????????? 10.0.0.1:40000 -> "
				 "10.0.0.2:443  1.00s SYN_SENT 1.00s" ARROW
				 "CLOSE  (connect refused)\n");
	/* a comm filling all 16 bytes without NUL stops at 15 in text, 16 in JSON */
	memset(c.comm, 'x', TCPFSM_COMM_LEN);
	format_conn_text(buf, sizeof(buf), &c, &end, &opts);
	assert_non_null(strstr(buf, " 4242    xxxxxxxxxxxxxxx 10.0.0.1"));
	format_conn_json(buf, sizeof(buf), &c, &end, &opts);
	assert_non_null(strstr(buf, "\"comm\":\"xxxxxxxxxxxxxxxx\","));
	assert_true(json_line_ok(buf));
}

/* Every end reason's words, and the other reasons' lines. */
static void test_end_reason_lines(void **unused)
{
	static const char *const want[END_REASON_MAX] = {
		"(normal close)",   "(reset received)",  "(reset sent)",
		"(connect refused)", "(connect timed out)", "(aborted)",
		"(evicted (table full))",
	};
	static const char *const names[END_REASON_MAX] = {
		"\"end_reason\":\"normal\"",	"\"end_reason\":\"reset_received\"",
		"\"end_reason\":\"reset_sent\"", "\"end_reason\":\"refused\"",
		"\"end_reason\":\"timeout\"",	"\"end_reason\":\"aborted\"",
		"\"end_reason\":\"evicted\"",
	};
	struct conn c = client(50);
	char buf[FORMAT_CONN_MAX];

	set_path(&c, STATES(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED, TCPFSM_CLOSE),
		 AT(SEC, 2 * SEC, 3 * SEC));
	for (int r = 0; r < END_REASON_MAX; r++) {
		struct conn_end end = { 3 * SEC, r, false };

		format_conn_text(buf, sizeof(buf), &c, &end, &opts);
		assert_non_null(strstr(buf, want[r]));
		format_conn_json(buf, sizeof(buf), &c, &end, &opts);
		assert_non_null(strstr(buf, names[r]));
		assert_true(json_line_ok(buf));
	}
}

/* An end before the start (corrupt input) gives no lifetime, not a huge one. */
static void test_end_before_start(void **unused)
{
	struct conn c = client(51);
	struct conn_end end = { 1 * SEC, END_ABORTED, false };
	char buf[FORMAT_CONN_MAX];

	set_path(&c, STATES(TCPFSM_SYN_SENT, TCPFSM_CLOSE), AT(5 * SEC, 1 * SEC));
	format_conn_text(buf, sizeof(buf), &c, &end, &opts);
	assert_string_equal(buf, "15:00:05.000000 4242    curl            10.0.0.1:40000 -> "
				 "10.0.0.2:443  ? SYN_SENT ?" ARROW "CLOSE  (aborted)\n");
	format_conn_json(buf, sizeof(buf), &c, &end, &opts);
	assert_non_null(strstr(buf, ",\"duration_ns\":null,\"complete\":true,"));
	assert_non_null(strstr(buf, "{\"state\":\"SYN_SENT\",\"enter\":\"2026-11-27T15:00:05."
				    "000000000Z\",\"duration_ns\":null}"));
	assert_true(json_line_ok(buf));
}

/* snprintf-style: a tiny buffer gets a NUL-terminated prefix and the full length. */
static void test_truncation(void **unused)
{
	struct conn c = client(52);
	struct conn_end end = { 12 * SEC + 530100000, END_NORMAL, true };
	char full[FORMAT_CONN_MAX], tiny[8];
	int n, m;

	timewait_path(&c);
	for (int json = 0; json < 2; json++) {
		int (*fmt)(char *, size_t, const struct conn *, const struct conn_end *,
			   const struct fmt_opts *) = json ? format_conn_json : format_conn_text;

		n = fmt(full, sizeof(full), &c, &end, &opts);
		assert_int_equal(n, strlen(full));
		memset(tiny, 'Z', sizeof(tiny));
		m = fmt(tiny, sizeof(tiny), &c, &end, &opts);
		assert_int_equal(m, n);
		assert_int_equal(tiny[7], 0);
		assert_memory_equal(tiny, full, 7);
		/* one byte: just the NUL */
		memset(tiny, 'Z', sizeof(tiny));
		assert_int_equal(fmt(tiny, 1, &c, &end, &opts), n);
		assert_int_equal(tiny[0], 0);
		assert_int_equal(tiny[1], 'Z');
		/* nothing at all */
		assert_int_equal(fmt(NULL, 0, &c, &end, &opts), n);
		/* cut in the middle of a multi-byte character and at every length */
		for (size_t len = 1; len <= (size_t)n + 1; len++) {
			char *b = malloc(len);

			assert_non_null(b);
			assert_int_equal(fmt(b, len, &c, &end, &opts), n);
			assert_int_equal(strlen(b), len - 1 < (size_t)n ? len - 1 : (size_t)n);
			assert_memory_equal(b, full, strlen(b));
			free(b);
		}
	}
}

static void test_conn_start_ns(void **unused)
{
	struct conn c = client(53);
	bool exact = true;

	/* nothing kept */
	c.npath = 0;
	assert_int_equal(conn_start_ns(&c, &exact), 0);
	assert_false(exact);
	/* complete: its first state's time, exact */
	set_path(&c, STATES(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED), AT(3 * SEC, 4 * SEC));
	assert_int_equal(conn_start_ns(&c, &exact), 3 * SEC);
	assert_true(exact);
	/* seeded or first seen mid-life: a time, not exact */
	c.flags = CONN_SEEDED | CONN_FIRST_LOWER;
	assert_int_equal(conn_start_ns(&c, &exact), 3 * SEC);
	assert_false(exact);
	c.flags = 0;
	assert_int_equal(conn_start_ns(&c, &exact), 3 * SEC);
	assert_false(exact);
	/* the first state's time unknown: the second one's */
	c.enter_ns[0] = 0;
	assert_int_equal(conn_start_ns(&c, &exact), 4 * SEC);
	assert_false(exact);
	c.flags = CONN_COMPLETE;
	assert_int_equal(conn_start_ns(&c, &exact), 4 * SEC);
	assert_false(exact);
	/* one state, time unknown: none */
	c.npath = 1;
	assert_int_equal(conn_start_ns(&c, &exact), 0);
	assert_false(exact);
}

static void test_conn_path_has(void **unused)
{
	struct conn c = client(54);

	set_path(&c,
		 STATES(TCPFSM_SYN_SENT, TCPFSM_ESTABLISHED, TCPFSM_CLOSE_WAIT, TCPFSM_LAST_ACK,
			TCPFSM_ESTABLISHED, TCPFSM_TIME_WAIT),
		 AT(1, 2, 3, 4, 5, 8));
	c.skipped = 2;
	assert_true(conn_path_has(&c, TCPFSM_SYN_SENT));
	assert_true(conn_path_has(&c, TCPFSM_ESTABLISHED));
	assert_true(conn_path_has(&c, TCPFSM_CLOSE_WAIT));
	assert_true(conn_path_has(&c, TCPFSM_LAST_ACK));
	assert_true(conn_path_has(&c, TCPFSM_TIME_WAIT));
	/* skipped ones are not kept */
	assert_false(conn_path_has(&c, TCPFSM_FIN_WAIT1));
	assert_false(conn_path_has(&c, TCPFSM_CLOSE));
	assert_false(conn_path_has(&c, TCPFSM_LISTEN));
	assert_false(conn_path_has(&c, 0));
	assert_false(conn_path_has(&c, 99));
	/* only the first npath entries count */
	c.npath = 2;
	assert_false(conn_path_has(&c, TCPFSM_CLOSE_WAIT));
	assert_false(conn_path_has(&c, TCPFSM_TIME_WAIT));
	assert_true(conn_path_has(&c, TCPFSM_ESTABLISHED));
	c.npath = 0;
	assert_false(conn_path_has(&c, TCPFSM_SYN_SENT));
}

/* ---- golden: the committed recording, replayed ---- */

struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = 0;
}

struct golden {
	struct fmt_opts fmt;
	struct text json, text;
	unsigned int conns;
};

static void golden_emit(void *ctx, const struct conn *c, const struct conn_end *end)
{
	struct golden *g = ctx;
	char buf[FORMAT_CONN_MAX];
	int n;

	n = format_conn_json(buf, sizeof(buf), c, end, &g->fmt);
	assert_true(n < (int)sizeof(buf));
	assert_true(json_line_ok(buf));
	text_add(&g->json, buf, n);
	n = format_conn_text(buf, sizeof(buf), c, end, &g->fmt);
	assert_true(n < (int)sizeof(buf));
	text_add(&g->text, buf, n);
	g->conns++;
}

static void test_golden_exchange(void **unused)
{
	struct golden g = {};
	struct record_header h;
	struct tcpfsm_event *ev;
	struct conntab *t;
	char *want;
	uint32_t counts[TCPFSM_STATE_MAX];
	uint64_t last_ts = 0;
	size_t want_len, n;
	int records = 0;

	ev = data_records("exchange.tfr", &h, &n);
	g.fmt.boot_to_real_ns = h.boot_to_real_ns;
	t = conntab__new(262144); /* the default --max-conns */
	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		records++;
		if (ev[i].ts_ns > last_ts)
			last_ts = ev[i].ts_ns;
		assert_int_equal(conntab__apply(t, &ev[i], golden_emit, &g), 0);
	}
	free(ev);
	conntab__expire(t, last_ts);

	assert_int_equal(records, 52);
	assert_int_equal(g.conns, 14);
	assert_int_equal(conntab__stats(t)->closed, 14);
	assert_int_equal(conntab__stats(t)->duplicates, 0);
	assert_int_equal(conntab__stats(t)->evicted, 0);
	/* the four active closers' timewait sockets remain */
	conntab__count_states(t, counts);
	assert_int_equal(counts[TCPFSM_TIME_WAIT], 4);
	assert_int_equal(conntab__live(t), 4);
	conntab__free(t);

	want = data_slurp("exchange.history.json", &want_len);
	assert_same_text("JSON", g.json.p, g.json.len, want, want_len);
	free(want);
	want = data_slurp("exchange.history.txt", &want_len);
	assert_same_text("text", g.text.p, g.text.len, want, want_len);
	free(want);
	free(g.json.p);
	free(g.text.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_client_timewait),
		cmocka_unit_test(test_seeded_incomplete),
		cmocka_unit_test(test_mid_life_unknown_owner),
		cmocka_unit_test(test_evicted),
		cmocka_unit_test(test_skipped_states),
		cmocka_unit_test(test_ipv6_escaping_timeout),
		cmocka_unit_test(test_comm_worst_case_escaping),
		cmocka_unit_test(test_end_reason_lines),
		cmocka_unit_test(test_end_before_start),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_conn_start_ns),
		cmocka_unit_test(test_conn_path_has),
		cmocka_unit_test(test_golden_exchange),
	};

	return cmocka_run_group_tests(tests, setup_tz, NULL);
}
