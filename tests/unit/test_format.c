// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Formatters against exact text: JSON lines, text lines, addresses, times, escaping. */
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
#include "pure/format.h"
#include "pure/state.h"
#include "support.h"

/* boot time 5 s, wall clock then 2026-11-27T15:00:36.123456789Z */
#define TS_NS 5000000000ULL
#define REAL_NS 1795791636123456789LL

static const struct fmt_opts opts = { .boot_to_real_ns = REAL_NS - (int64_t)TS_NS };

#define EM_DASH "\xe2\x80\x94"

static void test_json_checker_itself(void **unused)
{
	assert_true(json_line_ok("{\"a\":[1,-2.5,true,false,null,{}],\"b\":\"\\u00e9\\n\"}\n"));
	assert_true(json_string_ok("\"caf\xc3\xa9\""));
	assert_false(json_line_ok("{\"a\":1}"));
	assert_false(json_line_ok("{\"a\":1,}\n"));
	assert_false(json_line_ok("{\"a\":01}\n"));
	assert_false(json_string_ok("\"\\x41\""));
	assert_false(json_string_ok("\"\t\""));
	assert_false(json_string_ok("\"\xff\""));
	assert_false(json_string_ok("\"\xc3\""));
	assert_false(json_string_ok("\"\\u00e\""));
	assert_false(json_string_ok("\"abc"));
}

static int setup(void **unused)
{
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void ipv4(uint8_t *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	memset(a, 0, 16);
	a[0] = b0;
	a[1] = b1;
	a[2] = b2;
	a[3] = b3;
}

/* 2001:db8::N */
static void ipv6_doc(uint8_t *a, uint8_t n)
{
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[15] = n;
}

/* curl (pid 4242) on 198.18.0.1:40000 -> 198.18.0.2:443 gets its SYN/ACK */
static void event_v4(struct tcpfsm_event *e)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = TS_NS;
	e->cookie = 4097;
	e->old_duration_ns = 1234567;
	e->cgroup_id = 7777;
	e->pid = 4242;
	e->netns = 4026531840U;
	e->sport = 40000;
	e->dport = 443;
	e->family = TCPFSM_AF_INET;
	e->oldstate = TCPFSM_SYN_SENT;
	e->newstate = TCPFSM_ESTABLISHED;
	e->flags = TCPFSM_F_OWNER;
	ipv4(e->saddr, 198, 18, 0, 1);
	ipv4(e->daddr, 198, 18, 0, 2);
	strcpy(e->comm, "curl");
}

/* a passive open on [2001:db8::1]:8080 from [2001:db8::2]:55555, in softirq, owner unknown */
static void event_v6(struct tcpfsm_event *e)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = TS_NS;
	e->cookie = 1ULL << 52;
	e->old_duration_ns = TCPFSM_DURATION_UNKNOWN;
	e->netns = 4026532000U;
	e->sport = 8080;
	e->dport = 55555;
	e->family = TCPFSM_AF_INET6;
	e->oldstate = TCPFSM_LISTEN;
	e->newstate = TCPFSM_SYN_RECV;
	e->flags = TCPFSM_F_SOFTIRQ;
	ipv6_doc(e->saddr, 1);
	ipv6_doc(e->daddr, 2);
}

static const char *json(const struct tcpfsm_event *e)
{
	static char buf[FORMAT_EVENT_MAX];
	int n;

	memset(buf, 'X', sizeof(buf));
	n = format_event_json(buf, sizeof(buf), e, &opts);
	assert_int_equal(n, strlen(buf));
	if (!json_line_ok(buf))
		print_error("not valid JSON: %s", buf);
	assert_true(json_line_ok(buf));
	return buf;
}

static const char *text(const struct tcpfsm_event *e)
{
	static char buf[FORMAT_EVENT_MAX];
	int n;

	memset(buf, 'X', sizeof(buf));
	n = format_event_text(buf, sizeof(buf), e, &opts);
	assert_int_equal(n, strlen(buf));
	return buf;
}

/* comm into the event: up to the NUL or the 16 bytes of the field */
static void set_comm(struct tcpfsm_event *e, const char *comm)
{
	memset(e->comm, 0, TCPFSM_COMM_LEN);
	memcpy(e->comm, comm, strnlen(comm, TCPFSM_COMM_LEN));
}

static const char *json_comm(const char *comm)
{
	static char buf[FORMAT_EVENT_MAX];
	struct tcpfsm_event e;
	const char *s, *start, *end;

	event_v4(&e);
	set_comm(&e, comm);
	s = json(&e);
	start = strstr(s, ",\"comm\":");
	end = strstr(s, ",\"family\":");
	assert_non_null(start);
	assert_non_null(end);
	start += strlen(",\"comm\":");
	assert_true(end > start);
	memcpy(buf, start, end - start);
	buf[end - start] = 0;
	return buf;
}

static const char *text_comm(const char *comm)
{
	static char buf[TCPFSM_COMM_LEN + 1];
	struct tcpfsm_event e;
	const char *s;
	size_t n;

	event_v4(&e);
	set_comm(&e, comm);
	s = text(&e);
	/* "HH:MM:SS.uuuuuu PID---- COMM..........." */
	assert_true(strlen(s) > 16 + 8 + 15);
	assert_memory_equal(s + 16, "4242    ", 8);
	s += 16 + 8;
	n = strcspn(s, " ");
	assert_true(n <= 15);
	memcpy(buf, s, n);
	buf[n] = 0;
	return buf;
}

static void test_event_size(void **unused)
{
	assert_int_equal(sizeof(struct tcpfsm_event), 104);
}

static void test_json_ipv4(void **unused)
{
	struct tcpfsm_event e;

	event_v4(&e);
	assert_string_equal(json(&e),
			    "{\"type\":\"transition\",\"time\":\"2026-11-27T15:00:36.123456789Z\","
			    "\"cookie\":4097,\"pid\":4242,\"comm\":\"curl\",\"family\":\"ipv4\","
			    "\"saddr\":\"198.18.0.1\",\"sport\":40000,\"daddr\":\"198.18.0.2\","
			    "\"dport\":443,\"netns\":4026531840,\"old\":\"SYN_SENT\","
			    "\"new\":\"ESTABLISHED\",\"old_duration_ns\":1234567,"
			    "\"cgroup_id\":7777,\"softirq\":false,\"same_state\":false}\n");
}

static void test_json_ipv6_no_owner_unknown_duration(void **unused)
{
	struct tcpfsm_event e;

	event_v6(&e);
	/* pid and comm are null without TCPFSM_F_OWNER, whatever the fields hold */
	e.pid = 99;
	strcpy(e.comm, "stale");
	assert_string_equal(json(&e),
			    "{\"type\":\"transition\",\"time\":\"2026-11-27T15:00:36.123456789Z\","
			    "\"cookie\":4503599627370496,\"pid\":null,\"comm\":null,"
			    "\"family\":\"ipv6\",\"saddr\":\"2001:db8::1\",\"sport\":8080,"
			    "\"daddr\":\"2001:db8::2\",\"dport\":55555,\"netns\":4026532000,"
			    "\"old\":\"LISTEN\",\"new\":\"SYN_RECV\",\"old_duration_ns\":null,"
			    "\"cgroup_id\":0,\"softirq\":true,\"same_state\":false}\n");
}

static void test_json_extremes(void **unused)
{
	struct tcpfsm_event e;

	event_v4(&e);
	e.flags = TCPFSM_F_OWNER | TCPFSM_F_SOFTIRQ | TCPFSM_F_OWNER_LISTENER |
		  TCPFSM_F_PREEXISTING | TCPFSM_F_TRACEPOINT;
	e.old_duration_ns = 0;
	e.pid = UINT32_MAX;
	e.cookie = UINT64_MAX;
	e.cgroup_id = UINT64_MAX;
	e.sport = 65535;
	e.dport = 0;
	e.netns = UINT32_MAX;
	e.oldstate = 0;
	e.newstate = 200;
	ipv4(e.saddr, 255, 255, 255, 255);
	ipv4(e.daddr, 0, 0, 0, 0);
	memset(e.comm, 0, sizeof(e.comm));
	assert_string_equal(json(&e),
			    "{\"type\":\"transition\",\"time\":\"2026-11-27T15:00:36.123456789Z\","
			    "\"cookie\":18446744073709551615,\"pid\":4294967295,\"comm\":\"\","
			    "\"family\":\"ipv4\",\"saddr\":\"255.255.255.255\",\"sport\":65535,"
			    "\"daddr\":\"0.0.0.0\",\"dport\":0,\"netns\":4294967295,"
			    "\"old\":\"UNKNOWN\",\"new\":\"UNKNOWN\",\"old_duration_ns\":0,"
			    "\"cgroup_id\":18446744073709551615,\"softirq\":true,\"same_state\":false}\n");
	/* a duration one short of "unknown" is a number */
	e.old_duration_ns = TCPFSM_DURATION_UNKNOWN - 1;
	assert_non_null(strstr(json(&e), ",\"old_duration_ns\":18446744073709551614,"));
}

static void test_json_comm_escaping(void **unused)
{
	/* quote, backslash, newline, tab, \x01, DEL */
	assert_string_equal(json_comm("q\"b\\s\n\t\x01\x7f"),
			    "\"q\\\"b\\\\s\\n\\t\\u0001\\u007f\"");
	assert_string_equal(json_comm("\r\b\f\x1f/ok"), "\"\\r\\b\\f\\u001f/ok\"");
	/* valid two-, three- and four-byte UTF-8 pass through */
	assert_string_equal(json_comm("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
	assert_string_equal(json_comm("\xe2\x82\xac" "5"), "\"\xe2\x82\xac" "5\"");
	assert_string_equal(json_comm("\xf0\x9f\x98\x80!"), "\"\xf0\x9f\x98\x80!\"");
	/* bytes that are not UTF-8 */
	assert_string_equal(json_comm("a\xff" "b"), "\"a\\u00ffb\"");
	assert_string_equal(json_comm("\xc0\xaf"), "\"\\u00c0\\u00af\""); /* overlong '/' */
	assert_string_equal(json_comm("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\""); /* surrogate */
	assert_string_equal(json_comm("\xf4\x90\x80\x80"),
			    "\"\\u00f4\\u0090\\u0080\\u0080\""); /* > U+10FFFF */
	assert_string_equal(json_comm("\xc3(x"), "\"\\u00c3(x\"");
	/* a sequence cut short by the NUL */
	assert_string_equal(json_comm("ab\xc3"), "\"ab\\u00c3\"");
	assert_string_equal(json_comm("ab\xe2\x82"), "\"ab\\u00e2\\u0082\"");
}

static void test_json_comm_full_field(void **unused)
{
	char comm[TCPFSM_COMM_LEN];

	/* 16 bytes, no NUL: all of them, nothing beyond */
	memcpy(comm, "abcdefghijklmnop", TCPFSM_COMM_LEN);
	assert_string_equal(json_comm(comm), "\"abcdefghijklmnop\"");
	/* a three-byte sequence cut short by the end of the field */
	memcpy(comm, "aaaaaaaaaaaaaa\xe2\x82", TCPFSM_COMM_LEN);
	assert_string_equal(json_comm(comm), "\"aaaaaaaaaaaaaa\\u00e2\\u0082\"");
	memcpy(comm, "aaaaaaaaaaaaaaa\xc3", TCPFSM_COMM_LEN);
	assert_string_equal(json_comm(comm), "\"aaaaaaaaaaaaaaa\\u00c3\"");
	/* a sequence that just fits */
	memcpy(comm, "aaaaaaaaaaaaaa\xc3\xa9", TCPFSM_COMM_LEN);
	assert_string_equal(json_comm(comm), "\"aaaaaaaaaaaaaa\xc3\xa9\"");
	/* every byte needs escaping: the longest comm */
	memset(comm, 0x01, TCPFSM_COMM_LEN);
	assert_string_equal(json_comm(comm), "\"\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001"
					     "\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001"
					     "\\u0001\\u0001\\u0001\"");
}

static void test_json_every_byte_is_valid(void **unused)
{
	char comm[TCPFSM_COMM_LEN];
	unsigned int b, c;

	/* every pair of bytes, at the start and at the end of the field */
	for (b = 1; b < 256; b++) {
		for (c = 0; c < 256; c += 3) {
			memset(comm, 'x', sizeof(comm));
			comm[0] = b;
			comm[1] = c;
			comm[14] = b;
			comm[15] = c;
			json_comm(comm);
		}
	}
}

static void test_json_string_direct(void **unused)
{
	char buf[64];

	assert_int_equal(format_json_string(buf, sizeof(buf), "", 0), 2);
	assert_string_equal(buf, "\"\"");
	assert_int_equal(format_json_string(buf, sizeof(buf), "abc", 0), 2);
	assert_string_equal(buf, "\"\"");
	/* n limits */
	assert_int_equal(format_json_string(buf, sizeof(buf), "abcdef", 3), 5);
	assert_string_equal(buf, "\"abc\"");
	/* an embedded NUL stops the string */
	assert_int_equal(format_json_string(buf, sizeof(buf), "a\0b", 3), 3);
	assert_string_equal(buf, "\"a\"");
	assert_int_equal(format_json_string(buf, sizeof(buf), "\0abc", 4), 2);
	assert_string_equal(buf, "\"\"");
	/* n cuts a UTF-8 sequence: the lone lead byte is escaped */
	format_json_string(buf, sizeof(buf), "\xc3\xa9", 1);
	assert_string_equal(buf, "\"\\u00c3\"");
	format_json_string(buf, sizeof(buf), "\xc3\xa9", 2);
	assert_string_equal(buf, "\"\xc3\xa9\"");
	/* a NUL inside a sequence ends it too, and nothing after is read */
	format_json_string(buf, sizeof(buf), "\xe2\0\xac", 3);
	assert_string_equal(buf, "\"\\u00e2\"");
	format_json_string(buf, sizeof(buf), "\xe2\x82\0", 3);
	assert_string_equal(buf, "\"\\u00e2\\u0082\"");
	/* lone continuation bytes, invalid leads */
	format_json_string(buf, sizeof(buf), "\x80\xbf\xc1\xf5\xfe", 5);
	assert_string_equal(buf, "\"\\u0080\\u00bf\\u00c1\\u00f5\\u00fe\"");
	/* three-byte overlong */
	format_json_string(buf, sizeof(buf), "\xe0\x80\xaf", 3);
	assert_string_equal(buf, "\"\\u00e0\\u0080\\u00af\"");
	/* largest code point, U+10FFFF */
	format_json_string(buf, sizeof(buf), "\xf4\x8f\xbf\xbf", 4);
	assert_string_equal(buf, "\"\xf4\x8f\xbf\xbf\"");
	assert_true(json_string_ok(buf));
	/* escapes */
	format_json_string(buf, sizeof(buf), "\"\\/\b\f\n\r\t\x1b", 9);
	assert_string_equal(buf, "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u001b\"");
	assert_true(json_string_ok(buf));
}

static void test_json_string_truncates(void **unused)
{
	char buf[16];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(format_json_string(buf, 4, "abcdef", 6), 8);
	assert_string_equal(buf, "\"ab");
	assert_int_equal(buf[4], 'X');
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(format_json_string(buf, 3, "\n\n", 2), 6);
	assert_string_equal(buf, "\"\\");
	assert_int_equal(buf[3], 'X');
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(format_json_string(buf, 1, "abc", 3), 5);
	assert_string_equal(buf, "");
	assert_int_equal(buf[1], 'X');
	assert_int_equal(format_json_string(NULL, 0, "a\"", 2), 5);
}

static void test_json_truncates(void **unused)
{
	struct tcpfsm_event e;
	char big[FORMAT_EVENT_MAX], small[FORMAT_EVENT_MAX];
	int full, n;

	event_v4(&e);
	full = format_event_json(big, sizeof(big), &e, &opts);
	assert_int_equal(full, strlen(big));

	memset(small, 'X', sizeof(small));
	n = format_event_json(small, 10, &e, &opts);
	assert_int_equal(n, full);
	assert_string_equal(small, "{\"type\":\"");
	assert_int_equal(small[10], 'X');

	/* a cut inside the escaped comm */
	strcpy(e.comm, "\n\n\n\n\n\n\n");
	full = format_event_json(big, sizeof(big), &e, &opts);
	n = strstr(big, "\\n") - big + 1;
	memset(small, 'X', sizeof(small));
	assert_true(n < (int)sizeof(small));
	assert_int_equal(format_event_json(small, n + 1, &e, &opts), full);
	assert_int_equal(strlen(small), n);
	assert_memory_equal(small, big, n);
	assert_int_equal(small[n + 1], 'X');

	assert_int_equal(format_event_json(NULL, 0, &e, &opts), full);
	memset(small, 'X', sizeof(small));
	assert_int_equal(format_event_json(small, 1, &e, &opts), full);
	assert_int_equal(small[0], 0);
	assert_int_equal(small[1], 'X');
}

static void test_text_header(void **unused)
{
	char buf[256];
	int n;

	n = format_text_header(buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "TIME            "
				 "PID     "
				 "COMM            "
				 "LOCAL                      "
				 "REMOTE                     "
				 "TRANSITION                   "
				 "IN OLD STATE\n");
}

static void test_text_ipv4(void **unused)
{
	struct tcpfsm_event e;

	event_v4(&e);
	assert_string_equal(text(&e), "15:00:36.123456 "
				      "4242    "
				      "curl            "
				      "198.18.0.1:40000           "
				      "198.18.0.2:443             "
				      "SYN_SENT -> ESTABLISHED      "
				      "1.23ms\n");
}

/* A self-transition (close() after shutdown()): marked, with the time so far. */
static void test_same_state(void **unused)
{
	struct tcpfsm_event e;
	const char *j;

	event_v4(&e);
	e.oldstate = e.newstate = TCPFSM_FIN_WAIT1;
	e.flags |= TCPFSM_F_SAME_STATE;
	e.old_duration_ns = 2000000000;
	assert_string_equal(text(&e), "15:00:36.123456 "
				      "4242    "
				      "curl            "
				      "198.18.0.1:40000           "
				      "198.18.0.2:443             "
				      "FIN_WAIT1 -> FIN_WAIT1 again "
				      "2.00s so far\n");
	j = json(&e);
	assert_non_null(strstr(j, "\"old\":\"FIN_WAIT1\",\"new\":\"FIN_WAIT1\","
				  "\"old_duration_ns\":2000000000,"));
	assert_non_null(strstr(j, ",\"same_state\":true}\n"));
	/* told by the states alone: recordings made before the flag */
	e.flags &= ~TCPFSM_F_SAME_STATE;
	assert_non_null(strstr(json(&e), ",\"same_state\":true}\n"));
	/* snapshot seeds carry old == new too, and are no transition */
	e.kind = TCPFSM_KIND_SNAPSHOT;
	assert_false(event_same_state(&e));
}

static void test_text_ipv6_no_owner_unknown_duration(void **unused)
{
	struct tcpfsm_event e;

	event_v6(&e);
	e.pid = 99;
	strcpy(e.comm, "stale");
	assert_string_equal(text(&e), "15:00:36.123456 "
				      "-       "
				      "-               "
				      "[2001:db8::1]:8080         "
				      "[2001:db8::2]:55555        "
				      "LISTEN -> SYN_RECV           "
				      EM_DASH "\n");
}

static void test_text_long_fields(void **unused)
{
	struct tcpfsm_event e;
	int i;

	/* fields wider than their columns push the rest right, never cut */
	event_v6(&e);
	e.flags |= TCPFSM_F_OWNER;
	e.pid = 4294967295U;
	strcpy(e.comm, "abcdefghijklmno");
	for (i = 0; i < 16; i++) {
		e.saddr[i] = i % 2 ? 0xee : 0xfd;
		e.daddr[i] = i % 2 ? 0xff : 0xfe;
	}
	e.oldstate = TCPFSM_NEW_SYN_RECV;
	e.newstate = TCPFSM_ESTABLISHED;
	e.old_duration_ns = 86400ULL * 1000000000ULL;
	assert_string_equal(text(&e), "15:00:36.123456 "
				      "4294967295 "
				      "abcdefghijklmno "
				      "[fdee:fdee:fdee:fdee:fdee:fdee:fdee:fdee]:8080 "
				      "[feff:feff:feff:feff:feff:feff:feff:feff]:55555 "
				      "NEW_SYN_RECV -> ESTABLISHED  "
				      "1d00h\n");
	e.oldstate = 99;
	e.newstate = 0;
	assert_non_null(strstr(text(&e), " UNKNOWN -> UNKNOWN           1d00h\n"));
}

static void test_text_comm(void **unused)
{
	char comm[TCPFSM_COMM_LEN];

	assert_string_equal(text_comm("nginx"), "nginx");
	/* control characters, quotes, backslashes, UTF-8: '?' for anything not printable ASCII */
	assert_string_equal(text_comm("a\tb\nc\x1b[31m"), "a?b?c?[31m");
	assert_string_equal(text_comm("q\"b\\s\x01\x7f"), "q\"b\\s??");
	assert_string_equal(text_comm("caf\xc3\xa9"), "caf??");
	assert_string_equal(text_comm("\xff\x80"), "??");
	/* 16 bytes without NUL: at most 15 shown */
	memcpy(comm, "abcdefghijklmnop", TCPFSM_COMM_LEN);
	assert_string_equal(text_comm(comm), "abcdefghijklmno");
}

/* the one sanitizer behind every text line's comm (trace, history, alerts,
 * diagnoses, top) and hist's --by keys */
static void test_comm_printable(void **unused)
{
	char out[TCPFSM_COMM_LEN], key[TCPFSM_COMM_LEN + 8], two[2] = "x";
	const char *comm = "a\tb\nc\x1b[31m\x7f\xc3\xa9z";

	assert_ptr_equal(comm_printable(out, sizeof(out), comm), out);
	assert_string_equal(out, "a?b?c?[31m???z");
	/* at most len - 1 bytes, whatever follows */
	assert_string_equal(comm_printable(out, sizeof(out), "abcdefghijklmnopqrst"),
			    "abcdefghijklmno");
	assert_string_equal(comm_printable(key, sizeof(key), "abcdefghijklmnopqrstuvwxyz"),
			    "abcdefghijklmnopqrstuvw");
	/* up to the NUL, none of what comes after it */
	memcpy(out, "junkjunkjunkjun", sizeof(out));
	assert_string_equal(comm_printable(out, sizeof(out), "ab\0cd"), "ab");
	/* room for the NUL only; no room at all leaves out alone */
	assert_string_equal(comm_printable(two, 1, "abc"), "");
	two[0] = 'x';
	comm_printable(two, 0, "abc");
	assert_int_equal(two[0], 'x');
}

static void test_text_local_time(void **unused)
{
	struct tcpfsm_event e;
	struct fmt_opts o = opts;
	char buf[FORMAT_EVENT_MAX];

	event_v4(&e);
	/* 999999999 ns into a second: microseconds truncate, never round up */
	o.boot_to_real_ns += 876543210;
	format_event_text(buf, sizeof(buf), &e, &o);
	assert_memory_equal(buf, "15:00:36.999999 ", 16);

	/* a zone one hour east of UTC */
	setenv("TZ", "XST-1", 1);
	tzset();
	format_event_text(buf, sizeof(buf), &e, &opts);
	setenv("TZ", "UTC", 1);
	tzset();
	assert_memory_equal(buf, "16:00:36.123456 ", 16);
}

/* fuzz_record found it: a damaged recording's time plus the clock offset
 * overflowed a signed addition (UBSan); it wraps now, as garbage in does */
static void test_time_wraps_not_overflows(void **unused)
{
	struct tcpfsm_event e;
	struct fmt_opts o = { .boot_to_real_ns = 1700000000000000000LL };
	char buf[FORMAT_EVENT_MAX];

	event_v4(&e);
	e.ts_ns = 8392862525883940864ULL;
	assert_true(format_event_text(buf, sizeof(buf), &e, &o) > 0);
	assert_true(format_event_json(buf, sizeof(buf), &e, &o) > 0);
	assert_int_equal(fmt_realtime(e.ts_ns, o.boot_to_real_ns),
			 (int64_t)(8392862525883940864ULL + 1700000000000000000ULL));
}

static void test_text_truncates(void **unused)
{
	struct tcpfsm_event e;
	char big[FORMAT_EVENT_MAX], small[16];
	int full;

	event_v4(&e);
	full = format_event_text(big, sizeof(big), &e, &opts);
	memset(small, 'X', sizeof(small));
	assert_int_equal(format_event_text(small, 10, &e, &opts), full);
	assert_string_equal(small, "15:00:36.");
	assert_int_equal(small[10], 'X');
}

static void test_addr_endpoint(void **unused)
{
	uint8_t a[16];
	char buf[64];

	ipv4(a, 127, 0, 0, 1);
	assert_int_equal(format_addr(buf, sizeof(buf), TCPFSM_AF_INET, a), 9);
	assert_string_equal(buf, "127.0.0.1");
	assert_int_equal(format_endpoint(buf, sizeof(buf), TCPFSM_AF_INET, a, 80), 12);
	assert_string_equal(buf, "127.0.0.1:80");

	ipv6_doc(a, 1);
	assert_int_equal(format_addr(buf, sizeof(buf), TCPFSM_AF_INET6, a), 11);
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(format_endpoint(buf, sizeof(buf), TCPFSM_AF_INET6, a, 443), 17);
	assert_string_equal(buf, "[2001:db8::1]:443");

	memset(a, 0, sizeof(a));
	format_endpoint(buf, sizeof(buf), TCPFSM_AF_INET6, a, 0);
	assert_string_equal(buf, "[::]:0");
	a[15] = 1;
	format_endpoint(buf, sizeof(buf), TCPFSM_AF_INET6, a, 65535);
	assert_string_equal(buf, "[::1]:65535");

	/* v4-mapped, as an IPv6 socket reports it */
	memset(a, 0, sizeof(a));
	a[10] = a[11] = 0xff;
	a[12] = 198;
	a[13] = 18;
	a[14] = 0;
	a[15] = 1;
	format_endpoint(buf, sizeof(buf), TCPFSM_AF_INET6, a, 80);
	assert_string_equal(buf, "[::ffff:198.18.0.1]:80");

	/* the longest IPv6 endpoint fits the text column's buffers */
	memset(a, 0xff, sizeof(a));
	assert_int_equal(format_endpoint(buf, sizeof(buf), TCPFSM_AF_INET6, a, 65535), 47);
	assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");

	/* truncation */
	ipv4(a, 10, 0, 0, 1);
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(format_endpoint(buf, 5, TCPFSM_AF_INET, a, 8080), 13);
	assert_string_equal(buf, "10.0");
}

static void test_rfc3339(void **unused)
{
	char buf[64];

	assert_int_equal(format_rfc3339(buf, sizeof(buf), REAL_NS), 30);
	assert_string_equal(buf, "2026-11-27T15:00:36.123456789Z");
	format_rfc3339(buf, sizeof(buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
	format_rfc3339(buf, sizeof(buf), 1);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000001Z");
	format_rfc3339(buf, sizeof(buf), -1);
	assert_string_equal(buf, "1969-12-31T23:59:59.999999999Z");
	format_rfc3339(buf, sizeof(buf), -1000000000LL);
	assert_string_equal(buf, "1969-12-31T23:59:59.000000000Z");
	format_rfc3339(buf, sizeof(buf), 1709251199999999999LL);
	assert_string_equal(buf, "2024-02-29T23:59:59.999999999Z");
	format_rfc3339(buf, sizeof(buf), 1709251200000000000LL);
	assert_string_equal(buf, "2024-03-01T00:00:00.000000000Z");
	format_rfc3339(buf, sizeof(buf), INT64_MAX);
	assert_string_equal(buf, "2262-04-11T23:47:16.854775807Z");
	/* independent of TZ */
	setenv("TZ", "XST-1", 1);
	tzset();
	format_rfc3339(buf, sizeof(buf), 0);
	setenv("TZ", "UTC", 1);
	tzset();
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_checker_itself),
		cmocka_unit_test(test_event_size),
		cmocka_unit_test(test_json_ipv4),
		cmocka_unit_test(test_json_ipv6_no_owner_unknown_duration),
		cmocka_unit_test(test_json_extremes),
		cmocka_unit_test(test_json_comm_escaping),
		cmocka_unit_test(test_json_comm_full_field),
		cmocka_unit_test(test_json_every_byte_is_valid),
		cmocka_unit_test(test_json_string_direct),
		cmocka_unit_test(test_json_string_truncates),
		cmocka_unit_test(test_json_truncates),
		cmocka_unit_test(test_text_header),
		cmocka_unit_test(test_text_ipv4),
		cmocka_unit_test(test_same_state),
		cmocka_unit_test(test_text_ipv6_no_owner_unknown_duration),
		cmocka_unit_test(test_text_long_fields),
		cmocka_unit_test(test_text_comm),
		cmocka_unit_test(test_comm_printable),
		cmocka_unit_test(test_text_local_time),
		cmocka_unit_test(test_time_wraps_not_overflows),
		cmocka_unit_test(test_text_truncates),
		cmocka_unit_test(test_addr_endpoint),
		cmocka_unit_test(test_rfc3339),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
