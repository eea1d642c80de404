// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Drop records: segment kinds, trace's text and JSON, what record_check takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "pure/dropfmt.h"
#include "sys/record.h"
#include "support.h"

/* boot time 5 s, wall clock then 2026-11-27T15:00:36.123456789Z */
#define TS_NS 5000000000ULL
#define REAL_NS 1795791636123456789LL

static const struct fmt_opts opts = { .boot_to_real_ns = REAL_NS - (int64_t)TS_NS };
static const struct drop_names names = { "NETFILTER_DROP", "nft_do_chain" };

static int setup(void **unused)
{
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* The server 198.18.0.2:8080 drops the SYN of 198.18.0.1:40000. */
static struct tcpfsm_event syn_drop(void)
{
	struct tcpfsm_event e = {
		.ts_ns = TS_NS,
		.old_duration_ns = 0xffffffffc0a1b2d4ULL,
		.netns = 4026532000u,
		.sport = 8080,
		.dport = 40000,
		.family = TCPFSM_AF_INET,
		.oldstate = TCPFSM_DROP_IN,
		.newstate = TCPFSM_TCP_SYN,
		.evidence = TCPFSM_SEG_SYN,
		.kind = TCPFSM_KIND_DROP,
		.saddr = { 198, 18, 0, 2 },
		.daddr = { 198, 18, 0, 1 },
		.ino = 12,
	};

	return e;
}

static void test_segment_kinds(void **unused)
{
	assert_int_equal(tcpfsm_seg_kind(TCPFSM_TCP_SYN, 0), TCPFSM_SEG_SYN);
	assert_int_equal(tcpfsm_seg_kind(TCPFSM_TCP_SYN | TCPFSM_TCP_ACK, 0), TCPFSM_SEG_SYNACK);
	assert_int_equal(tcpfsm_seg_kind(TCPFSM_TCP_ACK, 0), TCPFSM_SEG_ACK);
	assert_int_equal(tcpfsm_seg_kind(TCPFSM_TCP_ACK, 100), TCPFSM_SEG_DATA);
	assert_int_equal(tcpfsm_seg_kind(TCPFSM_TCP_FIN | TCPFSM_TCP_ACK, 100), TCPFSM_SEG_FIN);
	assert_int_equal(tcpfsm_seg_kind(TCPFSM_TCP_RST | TCPFSM_TCP_ACK, 0), TCPFSM_SEG_RST);
	/* RST wins over everything (RST with SYN is malformed, still an RST) */
	assert_int_equal(tcpfsm_seg_kind(TCPFSM_TCP_RST | TCPFSM_TCP_SYN, 0), TCPFSM_SEG_RST);
	/* SYN with data (TCP Fast Open) is a SYN */
	assert_int_equal(tcpfsm_seg_kind(TCPFSM_TCP_SYN, 10), TCPFSM_SEG_SYN);

	assert_string_equal(drop_segment_name(TCPFSM_SEG_SYN), "syn");
	assert_string_equal(drop_segment_name(TCPFSM_SEG_SYNACK), "synack");
	assert_string_equal(drop_segment_name(TCPFSM_SEG_ACK), "ack");
	assert_string_equal(drop_segment_name(TCPFSM_SEG_FIN), "fin");
	assert_string_equal(drop_segment_name(TCPFSM_SEG_RST), "rst");
	assert_string_equal(drop_segment_name(TCPFSM_SEG_DATA), "data");
	assert_string_equal(drop_segment_name(0), "?");
	assert_string_equal(drop_segment_name(TCPFSM_SEG_MAX), "?");
	for (unsigned int s = 1; s < TCPFSM_SEG_MAX; s++)
		assert_int_equal(drop_segment_parse(drop_segment_name(s)), s);
	assert_int_equal(drop_segment_parse("SYN"), 0);
	assert_int_equal(drop_segment_parse("?"), 0);
	assert_string_equal(drop_direction_name(TCPFSM_DROP_IN), "in");
	assert_string_equal(drop_direction_name(TCPFSM_DROP_OUT), "out");
	assert_string_equal(drop_direction_name(0), "?");
}

static void test_text(void **unused)
{
	struct tcpfsm_event e = syn_drop();
	char buf[FORMAT_EVENT_MAX];
	int n;

	n = format_drop_text(buf, sizeof(buf), &e, &opts, &names);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "15:00:36.123456 -       -               198.18.0.2:8080            "
				 "198.18.0.1:40000           dropped incoming syn         "
				 "NETFILTER_DROP at nft_do_chain\n");
	e.oldstate = TCPFSM_DROP_OUT;
	e.evidence = TCPFSM_SEG_SYNACK;
	e.family = TCPFSM_AF_INET6;
	memset(e.saddr, 0, 16);
	memset(e.daddr, 0, 16);
	e.saddr[0] = 0x20, e.saddr[1] = 0x01, e.saddr[2] = 0x0d, e.saddr[3] = 0xb8, e.saddr[15] = 2;
	e.daddr[0] = 0x20, e.daddr[1] = 0x01, e.daddr[2] = 0x0d, e.daddr[3] = 0xb8, e.daddr[15] = 1;
	format_drop_text(buf, sizeof(buf), &e, &opts, &names);
	assert_string_equal(buf, "15:00:36.123456 -       -               [2001:db8::2]:8080         "
				 "[2001:db8::1]:40000        dropped outgoing synack      "
				 "NETFILTER_DROP at nft_do_chain\n");
	/* truncated like snprintf */
	n = format_drop_text(buf, 10, &e, &opts, &names);
	assert_true(n > 10);
	assert_int_equal(strlen(buf), 9);
}

static void test_json(void **unused)
{
	struct tcpfsm_event e = syn_drop();
	struct drop_names odd = { "reason_77", "we\"ird" };
	char buf[FORMAT_EVENT_MAX];
	int n;

	n = format_drop_json(buf, sizeof(buf), &e, &opts, &names);
	assert_int_equal(n, strlen(buf));
	assert_true(json_line_ok(buf));
	assert_string_equal(buf, "{\"type\":\"drop\",\"time\":\"2026-11-27T15:00:36.123456789Z\","
				 "\"family\":\"ipv4\",\"saddr\":\"198.18.0.2\",\"sport\":8080,"
				 "\"daddr\":\"198.18.0.1\",\"dport\":40000,\"netns\":4026532000,"
				 "\"direction\":\"in\",\"segment\":\"syn\","
				 "\"reason\":\"NETFILTER_DROP\",\"where\":\"nft_do_chain\","
				 "\"tcp_flags\":2,\"payload\":0}\n");
	e.evidence = 0; /* garbage from a damaged file: still valid JSON */
	e.oldstate = 9;
	format_drop_json(buf, sizeof(buf), &e, &opts, &odd);
	assert_true(json_line_ok(buf));
	assert_non_null(strstr(buf, "\"direction\":\"?\",\"segment\":\"?\",\"reason\":\"reason_77\","
				    "\"where\":\"we\\\"ird\""));
}

/* What record_check takes of a drop record, and each thing it refuses. */
static void test_record_check(void **unused)
{
	static const char *const why[] = {
		"drop record with an unknown direction",
		"drop record with an unknown direction",
		"drop record with an unknown segment kind",
		"drop record with an unknown segment kind",
		"unknown address family",
		"drop record with socket flags",
		"drop record with an owner",
		"drop record with an owner",
		"drop record with an owner",
	};
	struct tcpfsm_event e = syn_drop();

	assert_null(record_check(&e));
	/* what a transition may not have: no cookie, any location */
	e.old_duration_ns = TCPFSM_DURATION_UNKNOWN;
	e.flags = TCPFSM_F_TRACEPOINT;
	e.oldstate = TCPFSM_DROP_OUT;
	e.newstate = 0xff;
	e.evidence = TCPFSM_SEG_DATA;
	assert_null(record_check(&e));
	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		e = syn_drop();
		switch (i) {
		case 0: e.oldstate = 0; break;
		case 1: e.oldstate = 3; break;
		case 2: e.evidence = 0; break;
		case 3: e.evidence = TCPFSM_SEG_MAX; break;
		case 4: e.family = 1; break;
		case 5: e.flags = TCPFSM_F_OWNER; break;
		case 6: e.cookie = 5; break;
		case 7: e.pid = 5; break;
		case 8: strcpy(e.comm, "x"); break;
		}
		if (!record_check(&e))
			fail_msg("case %zu (%s): accepted", i, why[i]);
		assert_string_equal(record_check(&e), why[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segment_kinds),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_record_check),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
