// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The screen of `tcpfsm top` as text: connection tables built from synthetic
 * records and from the committed recording tests/data/exchange.tfr, rendered
 * at a fixed time, width and height, against the exact screen: the header
 * (counts, rate, lost, alerts, pause), the per-state summary, the rows (which
 * states, the sort keys, seeded ages, unknown owners, evidence), filters,
 * truncation to the width in characters, the height limit and the
 * snprintf-style return.
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
#include "pure/conntab.h"
#include "pure/histogram.h"
#include "sys/record.h"
#include "support.h"
#include "pure/topview.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SEC 1000000000ULL
#define MS 1000000ULL
#define US 1000ULL

/* the screen's time: boot time NOW is 2026-11-27T15:00:36Z */
#define NOW (100000 * SEC)
#define BOOT_TO_REAL ((1795791636LL - 100000) * 1000000000LL)

#define MICRO "\xc2\xb5" /* µ */

static int setup_tz(void **unused)
{
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* ---- building tables ---- */

/* One connection: its last record, old -> new, age ago. */
struct cspec {
	uint64_t cookie;
	int old, new;
	uint64_t age;		/* in new at NOW */
	bool seeded;		/* a snapshot record: in new since before tracing */
	uint32_t pid;		/* 0: owner unknown */
	const char *comm;
	uint8_t local[4];
	uint16_t lport;
	uint8_t remote[4];
	uint16_t rport;
};

static struct tcpfsm_event spec_event(const struct cspec *s)
{
	struct tcpfsm_event e = client_event(s->cookie, NOW - s->age, s->old, s->new);

	memcpy(e.saddr, s->local, 4);
	memcpy(e.daddr, s->remote, 4);
	e.sport = s->lport;
	e.dport = s->rport;
	if (s->seeded) {
		e.kind = TCPFSM_KIND_SNAPSHOT;
		e.oldstate = e.newstate;
		e.flags |= TCPFSM_F_PREEXISTING;
		e.ino = 5000 + (uint32_t)s->cookie;
	}
	if (s->pid) {
		e.pid = s->pid;
		memset(e.comm, 0, sizeof(e.comm));
		strncpy(e.comm, s->comm, sizeof(e.comm) - 1);
	} else {
		event_drop_owner(&e);
		e.flags &= ~TCPFSM_F_OWNER;
	}
	return e;
}

static struct conntab *table_of(const struct cspec *s, size_t n)
{
	struct conntab *t = conntab__new(1024);

	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		struct tcpfsm_event e = spec_event(&s[i]);

		assert_int_equal(conntab__apply(t, &e, NULL, NULL), 0);
	}
	return t;
}

#define IP(a, b, c, d) { a, b, c, d }

/*
 * A host with one of each: the stuck states (rows), and LISTEN, ESTABLISHED
 * and TIME_WAIT (counted, never rows). Ages all differ; cookie 4 is seeded
 * and its owner unknown.
 */
static const struct cspec mix[] = {
	{ 1, CLOSE, SYN_SENT, 5 * SEC, false, 4242, "curl", IP(10, 0, 0, 1), 40001,
	  IP(10, 0, 0, 2), 443 },
	{ 2, LISTEN, SYN_RECV, 1500 * MS, false, 100, "nginx", IP(10, 0, 0, 2), 443,
	  IP(10, 0, 0, 7), 50000 },
	{ 3, ESTABLISHED, CLOSE_WAIT, 123 * SEC, false, 100, "nginx", IP(10, 0, 0, 2), 443,
	  IP(10, 0, 0, 9), 51000 },
	{ 4, CLOSE_WAIT, CLOSE_WAIT, 3720 * SEC, true, 0, NULL, IP(10, 0, 0, 2), 8080,
	  IP(10, 0, 0, 3), 52000 },
	{ 5, ESTABLISHED, FIN_WAIT1, 250 * MS, false, 777, "java", IP(10, 0, 0, 2), 8080,
	  IP(10, 0, 0, 4), 53000 },
	{ 6, FIN_WAIT1, FIN_WAIT2, 30 * SEC, false, 4243, "curl", IP(10, 0, 0, 1), 40002,
	  IP(10, 0, 0, 2), 443 },
	{ 7, CLOSE_WAIT, LAST_ACK, 812 * US, false, 100, "nginx", IP(10, 0, 0, 2), 443,
	  IP(10, 0, 0, 5), 54000 },
	{ 8, FIN_WAIT1, CLOSING, 3 * SEC, false, 777, "java", IP(10, 0, 0, 2), 8080,
	  IP(10, 0, 0, 6), 55000 },
	{ 9, SYN_RECV, ESTABLISHED, 10 * SEC, false, 100, "nginx", IP(10, 0, 0, 2), 443,
	  IP(10, 0, 0, 8), 56000 },
	{ 10, CLOSE, LISTEN, 7200 * SEC, false, 100, "nginx", IP(0, 0, 0, 0), 443,
	  IP(0, 0, 0, 0), 0 },
	{ 11, FIN_WAIT2, CLOSE, 20 * SEC, false, 4244, "curl", IP(10, 0, 0, 1), 40003,
	  IP(10, 0, 0, 2), 443 },
	{ 12, ESTABLISHED, ESTABLISHED, 600 * SEC, true, 777, "java", IP(10, 0, 0, 2), 8080,
	  IP(10, 0, 0, 10), 57000 },
};

/*
 * Cookie 1 then retransmitted its SYN twice (news without a transition);
 * cookies 3 and 1 have alerted (as the alert engine marks them).
 */
static struct conntab *mix_table(void)
{
	struct conntab *t = table_of(mix, ARRAY_SIZE(mix));
	struct tcpfsm_event e = spec_event(&mix[0]);
	struct conn *c;

	e.kind = TCPFSM_KIND_EVIDENCE;
	e.oldstate = e.newstate = SYN_SENT;
	e.ts_ns = NOW - 1 * SEC;
	e.syn_retrans = 2;
	assert_int_equal(conntab__apply(t, &e, NULL, NULL), 0);

	c = conntab__lookup_mut(t, 3);
	assert_non_null(c);
	c->alert = CLOSE_WAIT;
	c = conntab__lookup_mut(t, 1);
	assert_non_null(c);
	c->alert = SYN_SENT;
	return t;
}

static struct top_input input(struct conntab *t, int width, int height)
{
	struct top_input in = {
		.now_ns = NOW,
		.boot_to_real_ns = BOOT_TO_REAL,
		.tab = t,
		.width = width,
		.height = height,
	};

	return in;
}

/* ---- checking screens ---- */

/* characters (not bytes) of s up to n bytes */
static size_t chars(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* Every line ends in '\n' and is at most width characters; the count. */
static int check_lines(const char *s, int width)
{
	int lines = 0;

	assert_true(!*s || s[strlen(s) - 1] == '\n');
	while (*s) {
		size_t n = strcspn(s, "\n");

		if (chars(s, n) > (size_t)width)
			fail_msg("line %d is %zu characters, wider than %d: %.*s", lines + 1,
				 chars(s, n), width, (int)n, s);
		s += n + 1;
		lines++;
	}
	return lines;
}

/*
 * Render in, check it against want exactly (and that it keeps to the width
 * and height), report the first difference.
 */
static void assert_screen(const struct top_input *in, const char *want)
{
	static char got[1 << 16];
	size_t i = 0, line = 1, bol = 0;
	int n = top_render(got, sizeof(got), in), lines;

	assert_true(n >= 0 && (size_t)n < sizeof(got));
	assert_int_equal(strlen(got), n);
	lines = check_lines(got, in->width > 0 ? in->width : 80);
	if (in->height && lines > in->height)
		fail_msg("%d lines, more than %d", lines, in->height);
	if (!strcmp(got, want))
		return;
	while (got[i] && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			bol = i + 1;
		}
		i++;
	}
	print_message("the screen:\n%s", got);
	fail_msg("screen differs at line %zu:\n got: %.*s|\nwant: %.*s|", line,
		 (int)strcspn(got + bol, "\n"), got + bol, (int)strcspn(want + bol, "\n"),
		 want + bol);
}

/* ---- the expected screens ---- */

#define TITLE(rest) "tcpfsm top - 15:00:36  " rest "\n"
#define TITLE0 TITLE("0 transitions/s  0 lost  0 alerts firing")
#define EMPTY_COUNTS                                                                              \
	"LISTEN 0  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 0  FIN_WAIT1 0  FIN_WAIT2 0  CLOSING 0  "     \
	"TIME_WAIT 0  CLOSE_WAIT 0  LAST_ACK 0\n"
/* below TOP_FULL_WIDTH: evidence (short) first, the local port only */
#define NARROW_COLUMNS "AGE       STATE       PID     COMM            EVIDENCE    LPORT  REMOTE\n"
#define COLUMNS                                                                                   \
	"AGE       STATE       PID     COMM            LOCAL                 REMOTE                " \
	"EVIDENCE\n"

/* ---- the tests ---- */

static void test_sort_name(void **unused)
{
	assert_string_equal(top_sort_name(TOP_SORT_AGE), "age");
	assert_string_equal(top_sort_name(TOP_SORT_STATE), "state");
	assert_string_equal(top_sort_name(TOP_SORT_PID), "pid");
	assert_string_equal(top_sort_name(TOP_SORT_COMM), "comm");
	assert_string_equal(top_sort_name(TOP_SORT_MAX), "?");
	assert_string_equal(top_sort_name((enum top_sort)99), "?");
}

static void assert_filter(const struct top_filter *f, uint32_t mask, uint16_t port,
			  const char *comm)
{
	assert_int_equal(f->state_mask, mask);
	assert_int_equal(f->port, port);
	assert_string_equal(f->comm, comm);
}

static void test_filter_parse(void **unused)
{
	static const char *const bad[] = {
		"state=BOGUS",
		"state=",
		"state",
		"port=0",
		"port=70000",
		"port=65536",
		"port=",
		"port=44x",
		"port=-1",
		"comm=",
		"comm=0123456789abcdef", /* 16: longer than a comm */
		"foo=1",
		"STATE=CLOSE_WAIT",
		"=443",
	};
	struct top_filter f, before;

	memset(&f, 0x5a, sizeof(f));
	assert_int_equal(top_filter_parse(&f, "state=CLOSE_WAIT"), 0);
	assert_filter(&f, 1u << CLOSE_WAIT, 0, "");
	assert_int_equal(top_filter_parse(&f, "state=close-wait"), 0);
	assert_filter(&f, 1u << CLOSE_WAIT, 0, "");
	assert_int_equal(top_filter_parse(&f, "state=FIN-WAIT-2"), 0);
	assert_filter(&f, 1u << FIN_WAIT2, 0, "");
	assert_int_equal(top_filter_parse(&f, "state=syn_received"), 0);
	assert_filter(&f, 1u << SYN_RECV, 0, "");
	/* one criterion at a time: a new one replaces the last */
	assert_int_equal(top_filter_parse(&f, "port=443"), 0);
	assert_filter(&f, 0, 443, "");
	assert_int_equal(top_filter_parse(&f, "port=1"), 0);
	assert_filter(&f, 0, 1, "");
	assert_int_equal(top_filter_parse(&f, "port=65535"), 0);
	assert_filter(&f, 0, 65535, "");
	assert_int_equal(top_filter_parse(&f, "comm=curl"), 0);
	assert_filter(&f, 0, 0, "curl");
	assert_int_equal(top_filter_parse(&f, "comm=0123456789abcde"), 0); /* 15 */
	assert_filter(&f, 0, 0, "0123456789abcde");

	/* bad ones leave the filter as it was */
	assert_int_equal(top_filter_parse(&f, "port=8080"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		before = f;
		if (top_filter_parse(&f, bad[i]) != -EINVAL)
			fail_msg("'%s' is not a filter", bad[i]);
		assert_memory_equal(&f, &before, sizeof(f));
	}
	assert_filter(&f, 0, 8080, "");

	/* "" clears it */
	assert_int_equal(top_filter_parse(&f, ""), 0);
	assert_filter(&f, 0, 0, "");
	assert_int_equal(top_filter_parse(&f, "state=LAST_ACK"), 0);
	assert_int_equal(top_filter_parse(&f, ""), 0);
	assert_filter(&f, 0, 0, "");
}

static void test_empty(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct top_input in = input(t, 132, 0);

	assert_non_null(t);
	assert_screen(&in, TITLE0 EMPTY_COUNTS "\n" COLUMNS);
	/* the full table from TOP_FULL_WIDTH on, the short one below */
	{
		static char got[1 << 16];

		in.width = TOP_FULL_WIDTH;
		top_render(got, sizeof(got), &in);
		assert_non_null(strstr(got, "\n" COLUMNS));
		in.width = TOP_FULL_WIDTH - 1;
		top_render(got, sizeof(got), &in);
		assert_non_null(strstr(got, "\n" NARROW_COLUMNS));
	}
	/* width 0: 80 */
	in.width = 0;
	assert_screen(&in, TITLE0
			   "LISTEN 0  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 0  FIN_WAIT1 0  FIN_WAIT2 0\n"
			   "CLOSING 0  TIME_WAIT 0  CLOSE_WAIT 0  LAST_ACK 0\n"
			   "\n"
			   NARROW_COLUMNS);
	conntab__free(t);
}

/* the mix at width 132: every row, oldest first */
#define MIX_COUNTS                                                                                \
	"LISTEN 1  SYN_SENT 1  SYN_RECV 1  ESTABLISHED 2  FIN_WAIT1 1  FIN_WAIT2 1  CLOSING 1  "     \
	"TIME_WAIT 1  CLOSE_WAIT 2  LAST_ACK 1\n"
#define MIX_HEAD_NO_COLUMNS TITLE0 MIX_COUNTS "\n"
#define MIX_HEAD MIX_HEAD_NO_COLUMNS COLUMNS

/* the mix's rows by cookie: AGE at 0, STATE 10, PID 22, COMM 30, LOCAL 46, REMOTE 68, EVIDENCE 90 */
#define ROW_4                                                                                     \
	">=1h02m   CLOSE_WAIT  -       -               "                                          \
	"10.0.0.2:8080         10.0.0.3:52000        \n"
#define ROW_3                                                                                     \
	"2m03s     CLOSE_WAIT  100     nginx           "                                          \
	"10.0.0.2:443          10.0.0.9:51000        ALERT\n"
#define ROW_6                                                                                     \
	"30.0s     FIN_WAIT2   4243    curl            "                                          \
	"10.0.0.1:40002        10.0.0.2:443          \n"
#define ROW_1                                                                                     \
	"5.00s     SYN_SENT    4242    curl            "                                          \
	"10.0.0.1:40001        10.0.0.2:443          2 SYN rtx, ALERT\n"
#define ROW_8                                                                                     \
	"3.00s     CLOSING     777     java            "                                          \
	"10.0.0.2:8080         10.0.0.6:55000        \n"
#define ROW_2                                                                                     \
	"1.50s     SYN_RECV    100     nginx           "                                          \
	"10.0.0.2:443          10.0.0.7:50000        \n"
#define ROW_5                                                                                     \
	"250ms     FIN_WAIT1   777     java            "                                          \
	"10.0.0.2:8080         10.0.0.4:53000        \n"
#define ROW_7                                                                                     \
	"812" MICRO "s     LAST_ACK    100     nginx           "                                  \
	"10.0.0.2:443          10.0.0.5:54000        \n"

static void test_header(void **unused)
{
	struct conntab *t = mix_table();
	struct alert_stats st = {};
	struct top_input in = input(t, 132, 0);
	struct conntab *empty = conntab__new(16);

	st.half_open = 3;
	st.firing[SYN_SENT] = 1;
	st.firing[CLOSE_WAIT] = 2;
	st.firing[LAST_ACK] = 4;
	st.fired[FIN_WAIT2] = 9; /* fired once, not firing now */
	in.alerts = &st;
	in.transitions_per_s = 1234.4;
	in.lost = 17;
	in.paused = true;
	assert_screen(&in, TITLE("1234 transitions/s  17 lost  7 alerts firing  [paused]")
			   "LISTEN 1  SYN_SENT 1  SYN_RECV 4  ESTABLISHED 2  FIN_WAIT1 1  FIN_WAIT2 1  "
			   "CLOSING 1  TIME_WAIT 1  CLOSE_WAIT 2  LAST_ACK 1\n"
			   "\n" COLUMNS ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);

	/* one: in the singular */
	st.firing[CLOSE_WAIT] = 0;
	st.firing[LAST_ACK] = 0;
	in.paused = false;
	assert_screen(&in, TITLE("1234 transitions/s  17 lost  1 alert firing")
			   "LISTEN 1  SYN_SENT 1  SYN_RECV 4  ESTABLISHED 2  FIN_WAIT1 1  FIN_WAIT2 1  "
			   "CLOSING 1  TIME_WAIT 1  CLOSE_WAIT 2  LAST_ACK 1\n"
			   "\n" COLUMNS ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);

	/* no alert engine: no half-open requests, nothing firing */
	in.alerts = NULL;
	in.paused = false;
	in.transitions_per_s = 0.4;
	in.lost = 0;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);

	/* the time is the wall clock's, hours minutes seconds */
	assert_non_null(empty);
	in = input(empty, 132, 0);
	in.now_ns = NOW + 32363 * SEC;
	in.transitions_per_s = 99.5;
	in.lost = UINT64_MAX;
	assert_screen(&in, "tcpfsm top - 23:59:59  100 transitions/s  18446744073709551615 lost  0 "
			   "alerts firing\n" EMPTY_COUNTS "\n" COLUMNS);
	conntab__free(empty);
	conntab__free(t);
}

static void test_header_wraps(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct top_input in;

	assert_non_null(t);
	/* 123 characters in all: they fit in 123, not in 122 */
	in = input(t, 123, 0);
	assert_screen(&in, TITLE0 EMPTY_COUNTS "\n" COLUMNS);
	in.width = 122;
	assert_screen(&in, TITLE0
			   "LISTEN 0  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 0  FIN_WAIT1 0  FIN_WAIT2 0  "
			   "CLOSING 0  TIME_WAIT 0  CLOSE_WAIT 0\n"
			   "LAST_ACK 0\n"
			   "\n"
			   "AGE       STATE       PID     COMM            LOCAL                 "
			   "REMOTE                EVIDENCE\n");
	/* the first line holds 73: FIN_WAIT2 moves down at 72 */
	in.width = 73;
	assert_screen(&in, TITLE0
			   "LISTEN 0  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 0  FIN_WAIT1 0  FIN_WAIT2 0\n"
			   "CLOSING 0  TIME_WAIT 0  CLOSE_WAIT 0  LAST_ACK 0\n"
			   "\n"
			   NARROW_COLUMNS);
	in.width = 72;
	assert_screen(&in, TITLE0
			   "LISTEN 0  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 0  FIN_WAIT1 0\n"
			   "FIN_WAIT2 0  CLOSING 0  TIME_WAIT 0  CLOSE_WAIT 0  LAST_ACK 0\n"
			   "\n"
			   NARROW_COLUMNS);
	/* narrower still: four lines of counts, the title cut */
	in.width = 40;
	assert_screen(&in, "tcpfsm top - 15:00:36  0 transitions/s  \n"
			   "LISTEN 0  SYN_SENT 0  SYN_RECV 0\n"
			   "ESTABLISHED 0  FIN_WAIT1 0  FIN_WAIT2 0\n"
			   "CLOSING 0  TIME_WAIT 0  CLOSE_WAIT 0\n"
			   "LAST_ACK 0\n"
			   "\n"
			   "AGE       STATE       PID     COMM      \n");
	conntab__free(t);
}

/*
 * Only the states that get stuck, oldest first; ">=" for the seeded one (its
 * state began before tracing), "-" for its unknown owner; the evidence.
 */
static void test_rows_by_age(void **unused)
{
	struct conntab *t = mix_table();
	struct top_input in = input(t, 132, 0);

	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);

	/* the alerts resolve: the retransmits stay, "ALERT" goes */
	conntab__lookup_mut(t, 1)->alert = 0;
	conntab__lookup_mut(t, 3)->alert = 0;
	conntab__lookup_mut(t, 7)->alert = LAST_ACK;
	assert_screen(&in, MIX_HEAD ROW_4
			   "2m03s     CLOSE_WAIT  100     nginx           "
			   "10.0.0.2:443          10.0.0.9:51000        \n" ROW_6
			   "5.00s     SYN_SENT    4242    curl            "
			   "10.0.0.1:40001        10.0.0.2:443          2 SYN rtx\n" ROW_8 ROW_2 ROW_5
			   "812" MICRO "s     LAST_ACK    100     nginx           "
			   "10.0.0.2:443          10.0.0.5:54000        ALERT\n");
	conntab__free(t);
}

/* An owner's comm is shown printable; pid as it is; IPv6 endpoints. */
static void test_rows_owner(void **unused)
{
	struct conntab *t = conntab__new(16);
	struct top_input in = input(t, 132, 0);
	struct tcpfsm_event e = client_event(40, NOW - 42 * SEC, ESTABLISHED, CLOSE_WAIT);

	assert_non_null(t);
	memcpy(e.comm, "a\tb\xc3\xa9\x7f" "0123456789", sizeof(e.comm)); /* no NUL */
	e.pid = 4294967295u;
	e.family = TCPFSM_AF_INET6;
	memcpy(e.saddr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	memcpy(e.daddr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	e.sport = 8443;
	e.dport = 61000;
	assert_int_equal(conntab__apply(t, &e, NULL, NULL), 0);
	assert_screen(&in, TITLE0
			   "LISTEN 0  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 0  FIN_WAIT1 0  FIN_WAIT2 0  "
			   "CLOSING 0  TIME_WAIT 0  CLOSE_WAIT 1  LAST_ACK 0\n"
			   "\n" COLUMNS
			   "42.0s     CLOSE_WAIT  4294967295 a?b???012345678 "
			   "[2001:db8::1]:8443    [2001:db8::2]:61000   \n");
	conntab__free(t);
}

static void test_rows_sorted(void **unused)
{
	struct conntab *t = mix_table();
	struct top_input in = input(t, 132, 0);

	/* by state name, then the oldest first */
	in.sort = TOP_SORT_STATE;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_8 ROW_5 ROW_6 ROW_7 ROW_2 ROW_1);
	/* by pid (unknown: 0), then the oldest first */
	in.sort = TOP_SORT_PID;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_2 ROW_7 ROW_8 ROW_5 ROW_1 ROW_6);
	/* by comm (unknown: ""), then the oldest first */
	in.sort = TOP_SORT_COMM;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_6 ROW_1 ROW_8 ROW_5 ROW_3 ROW_2 ROW_7);
	in.sort = TOP_SORT_AGE;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);
	conntab__free(t);
}

/* Equal in every key: the cookie decides, whatever the table's order. */
static void test_ties_by_cookie(void **unused)
{
	static const struct cspec same[] = {
		{ 32, ESTABLISHED, CLOSE_WAIT, 90 * SEC, false, 100, "nginx", IP(10, 0, 0, 2), 443,
		  IP(10, 0, 0, 32), 50032 },
		{ 30, ESTABLISHED, CLOSE_WAIT, 90 * SEC, false, 100, "nginx", IP(10, 0, 0, 2), 443,
		  IP(10, 0, 0, 30), 50030 },
		{ 31, ESTABLISHED, CLOSE_WAIT, 90 * SEC, false, 100, "nginx", IP(10, 0, 0, 2), 443,
		  IP(10, 0, 0, 31), 50031 },
		{ 29, ESTABLISHED, CLOSE_WAIT, 91 * SEC, false, 100, "nginx", IP(10, 0, 0, 2), 443,
		  IP(10, 0, 0, 29), 50029 },
	};
	struct conntab *t = table_of(same, ARRAY_SIZE(same));
	struct top_input in = input(t, 132, 0);

	for (int s = 0; s < TOP_SORT_MAX; s++) {
		in.sort = s;
		assert_screen(&in, TITLE0
			"LISTEN 0  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 0  FIN_WAIT1 0  FIN_WAIT2 0  "
			"CLOSING 0  TIME_WAIT 0  CLOSE_WAIT 4  LAST_ACK 0\n"
			"\n" COLUMNS
			"1m31s     CLOSE_WAIT  100     nginx           "
			"10.0.0.2:443          10.0.0.29:50029       \n"
			"1m30s     CLOSE_WAIT  100     nginx           "
			"10.0.0.2:443          10.0.0.30:50030       \n"
			"1m30s     CLOSE_WAIT  100     nginx           "
			"10.0.0.2:443          10.0.0.31:50031       \n"
			"1m30s     CLOSE_WAIT  100     nginx           "
			"10.0.0.2:443          10.0.0.32:50032       \n");
	}
	conntab__free(t);
}

static void test_filter_rows(void **unused)
{
	struct conntab *t = mix_table();
	struct top_filter f = {};
	struct top_input in = input(t, 132, 0);

	in.filter = &f;
	/* an empty filter passes all */
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);
	/* the header counts everything; the rows are the filter's */
	assert_int_equal(top_filter_parse(&f, "state=CLOSE_WAIT"), 0);
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3);
	assert_int_equal(top_filter_parse(&f, "state=close-wait"), 0);
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3);
	assert_int_equal(top_filter_parse(&f, "state=last-ack"), 0);
	assert_screen(&in, MIX_HEAD ROW_7);
	/* never a row, even when asked for */
	assert_int_equal(top_filter_parse(&f, "state=ESTABLISHED"), 0);
	assert_screen(&in, MIX_HEAD);
	/* local or remote port */
	assert_int_equal(top_filter_parse(&f, "port=443"), 0);
	assert_screen(&in, MIX_HEAD ROW_3 ROW_6 ROW_1 ROW_2 ROW_7);
	assert_int_equal(top_filter_parse(&f, "port=8080"), 0);
	assert_screen(&in, MIX_HEAD ROW_4 ROW_8 ROW_5);
	assert_int_equal(top_filter_parse(&f, "port=55000"), 0);
	assert_screen(&in, MIX_HEAD ROW_8);
	assert_int_equal(top_filter_parse(&f, "port=9"), 0);
	assert_screen(&in, MIX_HEAD);
	/* comm: unknown owners never match */
	assert_int_equal(top_filter_parse(&f, "comm=curl"), 0);
	assert_screen(&in, MIX_HEAD ROW_6 ROW_1);
	assert_int_equal(top_filter_parse(&f, "comm=nginx"), 0);
	in.sort = TOP_SORT_STATE;
	assert_screen(&in, MIX_HEAD ROW_3 ROW_7 ROW_2);
	assert_int_equal(top_filter_parse(&f, "comm=cur"), 0);
	assert_screen(&in, MIX_HEAD);
	/* a bad one keeps the last; "" clears */
	assert_int_equal(top_filter_parse(&f, "comm=java"), 0);
	assert_int_equal(top_filter_parse(&f, "state=BOGUS"), -EINVAL);
	in.sort = TOP_SORT_AGE;
	assert_screen(&in, MIX_HEAD ROW_8 ROW_5);
	assert_int_equal(top_filter_parse(&f, ""), 0);
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);
	conntab__free(t);
}

/*
 * Durations: SYN_SENT 60 at the top of the bucket of 1023ns and 40 at the
 * bottom of that of 2^20ns (both quantiles exact); the rest one value each;
 * LISTEN none timed (only unknown ones): not shown.
 */
static void summary_hists(struct hist_set *hs)
{
	hist_set_init(hs, TCPFSM_BY_NONE, 16);
	for (int i = 0; i < 60; i++)
		hist_add(&hs->state[SYN_SENT], 1023);
	for (int i = 0; i < 40; i++)
		hist_add(&hs->state[SYN_SENT], 1ULL << 20);
	for (int i = 0; i < 4; i++)
		hist_add(&hs->state[SYN_RECV], 250 * US);
	for (int i = 0; i < 2; i++)
		hist_add(&hs->state[ESTABLISHED], 90 * SEC);
	hist_add(&hs->state[TIME_WAIT], 60 * SEC);
	for (int i = 0; i < 3; i++)
		hist_add(&hs->state[CLOSE_WAIT], 5 * SEC);
	hs->state[LISTEN].unknown = 3;
}

#define SUM_SYN_SENT "SYN_SENT p50 1.02" MICRO "s p99 1.05ms"
#define SUM_SYN_RECV "SYN_RECV p50 250" MICRO "s p99 250" MICRO "s"
#define SUM_ESTABLISHED "ESTABLISHED p50 1m30s p99 1m30s"
#define SUM_TIME_WAIT "TIME_WAIT p50 1m00s p99 1m00s"
#define SUM_CLOSE_WAIT "CLOSE_WAIT p50 5.00s p99 5.00s"

static void test_summary(void **unused)
{
	struct conntab *t = mix_table();
	struct top_input in = input(t, 132, 0);
	struct hist_set hs, none;

	summary_hists(&hs);
	in.hists = &hs;
	/* in the header's order; 127 characters fit, the next does not */
	assert_screen(&in, MIX_HEAD_NO_COLUMNS
			   SUM_SYN_SENT " | " SUM_SYN_RECV " | " SUM_ESTABLISHED " | " SUM_TIME_WAIT "\n"
			   SUM_CLOSE_WAIT "\n"
			   "\n" COLUMNS ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);
	/* no histograms, or only empty ones: no summary, no blank line */
	in.hists = NULL;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);
	hist_set_init(&none, TCPFSM_BY_NONE, 16);
	none.state[CLOSE_WAIT].unknown = 5;
	in.hists = &none;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);

	/*
	 * 61 wide: both line breaks of the counts and of the summary fall
	 * where the characters (not the bytes: µ is two) run out.
	 */
	in.hists = &hs;
	in.width = 61;
	assert_screen(&in, "tcpfsm top - 15:00:36  0 transitions/s  0 lost  0 alerts firi\n"
			   "LISTEN 1  SYN_SENT 1  SYN_RECV 1  ESTABLISHED 2  FIN_WAIT1 1\n"
			   "FIN_WAIT2 1  CLOSING 1  TIME_WAIT 1  CLOSE_WAIT 2  LAST_ACK 1\n"
			   "\n"
			   SUM_SYN_SENT " | " SUM_SYN_RECV "\n"
			   SUM_ESTABLISHED "\n"
			   SUM_TIME_WAIT "\n"
			   SUM_CLOSE_WAIT "\n"
			   "\n"
			   /* narrow: the short evidence ahead of the endpoints */
			   "AGE       STATE       PID     COMM            EVIDENCE    LPO\n"
			   ">=1h02m   CLOSE_WAIT  -       -                           :80\n"
			   "2m03s     CLOSE_WAIT  100     nginx           ALERT       :44\n"
			   "30.0s     FIN_WAIT2   4243    curl                        :40\n"
			   "5.00s     SYN_SENT    4242    curl            2rtx ALERT  :40\n"
			   "3.00s     CLOSING     777     java                        :80\n"
			   "1.50s     SYN_RECV    100     nginx                       :44\n"
			   "250ms     FIN_WAIT1   777     java                        :80\n"
			   "812" MICRO "s     LAST_ACK    100     nginx                       :44\n");
	hist_set_free(&none);
	hist_set_free(&hs);
	conntab__free(t);
}

/* Lines are cut at the width in characters, never inside a µ. */
static void test_truncation(void **unused)
{
	struct conntab *t = mix_table();
	struct top_filter f = {};
	struct top_input in = input(t, 5, 0);
	struct hist_set hs;
	static char buf[1 << 16];

	assert_int_equal(top_filter_parse(&f, "state=LAST_ACK"), 0);
	in.filter = &f;
	assert_screen(&in, "tcpfs\n"
			   "LISTE\nSYN_S\nSYN_R\nESTAB\nFIN_W\nFIN_W\nCLOSI\nTIME_\nCLOSE\nLAST_\n"
			   "\n"
			   "AGE  \n"
			   "812" MICRO "s\n");
	in.width = 4;
	assert_screen(&in, "tcpf\n"
			   "LIST\nSYN_\nSYN_\nESTA\nFIN_\nFIN_\nCLOS\nTIME\nCLOS\nLAST\n"
			   "\n"
			   "AGE \n"
			   "812" MICRO "\n");
	in.width = 3;
	assert_screen(&in, "tcp\nLIS\nSYN\nSYN\nEST\nFIN\nFIN\nCLO\nTIM\nCLO\nLAS\n\nAGE\n812\n");

	/* every width, every line: at most that many characters */
	summary_hists(&hs);
	in.hists = &hs;
	in.filter = NULL;
	for (int w = 1; w <= 140; w++) {
		int n;

		in.width = w;
		n = top_render(buf, sizeof(buf), &in);
		assert_int_equal(strlen(buf), n);
		check_lines(buf, w);
	}
	hist_set_free(&hs);
	conntab__free(t);
}

static void test_height(void **unused)
{
	struct conntab *t = mix_table();
	struct top_input in = input(t, 132, 12);
	struct hist_set hs;

	/* 4 lines of header and 8 rows: all fit in 12 */
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);
	in.height = 13;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);
	/* one short: the last line says what is left out */
	in.height = 11;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 "... 2 more\n");
	in.height = 6;
	assert_screen(&in, MIX_HEAD ROW_4 "... 7 more\n");
	in.height = 5;
	assert_screen(&in, MIX_HEAD "... 8 more\n");
	/* in the sort's order, after the filter */
	in.height = 7;
	in.sort = TOP_SORT_STATE;
	assert_screen(&in, MIX_HEAD ROW_4 ROW_3 "... 6 more\n");
	/* the summary's lines count */
	summary_hists(&hs);
	in.hists = &hs;
	in.sort = TOP_SORT_AGE;
	in.height = 10;
	assert_screen(&in, MIX_HEAD_NO_COLUMNS
			   SUM_SYN_SENT " | " SUM_SYN_RECV " | " SUM_ESTABLISHED " | " SUM_TIME_WAIT "\n"
			   SUM_CLOSE_WAIT "\n"
			   "\n" COLUMNS ROW_4 ROW_3 "... 6 more\n");
	/* and the wrapped header's */
	in.hists = NULL;
	in.width = 72;
	in.height = 7;
	assert_screen(&in, TITLE0
			   "LISTEN 1  SYN_SENT 1  SYN_RECV 1  ESTABLISHED 2  FIN_WAIT1 1\n"
			   "FIN_WAIT2 1  CLOSING 1  TIME_WAIT 1  CLOSE_WAIT 2  LAST_ACK 1\n"
			   "\n"
			   NARROW_COLUMNS
			   ">=1h02m   CLOSE_WAIT  -       -                           :8080  10.0.0.\n"
			   "... 7 more\n");
	hist_set_free(&hs);
	conntab__free(t);
}

/* snprintf-style: the whole length, whatever fits, NUL-terminated. */
static void test_small_buffer(void **unused)
{
	struct conntab *t = mix_table();
	struct top_input in = input(t, 132, 0);
	static char full[1 << 16];
	char small[64];
	int n;

	n = top_render(full, sizeof(full), &in);
	assert_int_equal(n, strlen(MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7));
	assert_string_equal(full, MIX_HEAD ROW_4 ROW_3 ROW_6 ROW_1 ROW_8 ROW_2 ROW_5 ROW_7);

	memset(small, 'x', sizeof(small));
	assert_int_equal(top_render(small, sizeof(small), &in), n);
	assert_int_equal(small[sizeof(small) - 1], 0);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, full, sizeof(small) - 1);

	memset(small, 'x', sizeof(small));
	assert_int_equal(top_render(small, 1, &in), n);
	assert_int_equal(small[0], 0);
	assert_int_equal(small[1], 'x');

	/* exactly one byte short: all but the last '\n' */
	assert_int_equal(top_render(full, n, &in), n);
	assert_int_equal(strlen(full), n - 1);
	assert_int_equal(full[n - 2], ' ');

	assert_int_equal(top_render(NULL, 0, &in), n);
	conntab__free(t);
}

/* ---- the recording ---- */

struct replay {
	struct record_header h;
	struct tcpfsm_event *ev;
	size_t n;
	struct conntab *t;
	struct hist_set hs;	/* as the kernel would have counted */
	int records;		/* applied so far: ev[records] is the next */
};

static void replay_open(struct replay *p)
{
	p->ev = data_records("exchange.tfr", &p->h, &p->n);
	p->t = conntab__new(1024);
	assert_non_null(p->t);
	hist_set_init(&p->hs, TCPFSM_BY_NONE, 16);
	p->records = 0;
}

/* Apply the records up to and including time until (the whole file: UINT64_MAX). */
static void replay_until(struct replay *p, uint64_t until)
{
	while ((size_t)p->records < p->n && p->ev[p->records].ts_ns <= until) {
		assert_int_equal(conntab__apply(p->t, &p->ev[p->records], NULL, NULL), 0);
		assert_int_equal(hist_set_account(&p->hs, &p->ev[p->records]), 0);
		p->records++;
	}
}

static void replay_close(struct replay *p)
{
	free(p->ev);
	hist_set_free(&p->hs);
	conntab__free(p->t);
}

/*
 * tests/data/exchange.tfr (tests/data/exchange.history.txt): python3 serving
 * and fetching over IPv4 and IPv6 at 15:31:36 UTC, after a connection that
 * was open before tracing (seeded) closes at 15:31:37. Stopped in the middle
 * of closes, at the times of its records, and at the end.
 */
static void test_exchange(void **unused)
{
	struct replay p;
	struct top_input in;
	int64_t b2r;

	replay_open(&p);
	b2r = p.h.boot_to_real_ns;
	assert_int_equal(b2r, 1795791590394603501LL);

	/* the IPv6 pair: the server in LAST_ACK that instant, the client in
	 * FIN_WAIT1 for 11.1µs; two IPv4 clients in TIME_WAIT */
	replay_until(&p, 1906409227878ULL);
	assert_int_equal(p.records, 38);
	in = input(p.t, 132, 0);
	in.now_ns = 1906409227878ULL;
	in.boot_to_real_ns = b2r;
	in.hists = &p.hs;
	assert_screen(&in, "tcpfsm top - 15:31:36  0 transitions/s  0 lost  0 alerts firing\n"
			   "LISTEN 3  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 2  FIN_WAIT1 1  FIN_WAIT2 0  "
			   "CLOSING 0  TIME_WAIT 2  CLOSE_WAIT 0  LAST_ACK 1\n"
			   "\n"
			   "SYN_SENT p50 6.66" MICRO "s p99 89.9" MICRO "s | "
			   "SYN_RECV p50 1.41" MICRO "s p99 4.43" MICRO "s | "
			   "ESTABLISHED p50 23.6" MICRO "s p99 70.7" MICRO "s\n"
			   "FIN_WAIT1 p50 10.1" MICRO "s p99 17.3" MICRO "s | "
			   "FIN_WAIT2 p50 1.01" MICRO "s p99 3.81" MICRO "s | "
			   "CLOSE_WAIT p50 9.22" MICRO "s p99 12.9" MICRO "s\n"
			   "LAST_ACK p50 5.78" MICRO "s p99 14.8" MICRO "s\n"
			   "\n" COLUMNS
			   "11.1" MICRO "s    FIN_WAIT1   7779    python3         [::1]:40958           "
			   "[::1]:8443            \n"
			   "0ns       LAST_ACK    7779    python3         [::1]:8443            "
			   "[::1]:40958           \n");
	/* a terminal that shows ASCII only: us, the columns where they were */
	in.ascii = true;
	assert_screen(&in, "tcpfsm top - 15:31:36  0 transitions/s  0 lost  0 alerts firing\n"
			   "LISTEN 3  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 2  FIN_WAIT1 1  FIN_WAIT2 0  "
			   "CLOSING 0  TIME_WAIT 2  CLOSE_WAIT 0  LAST_ACK 1\n"
			   "\n"
			   "SYN_SENT p50 6.66us p99 89.9us | SYN_RECV p50 1.41us p99 4.43us | "
			   "ESTABLISHED p50 23.6us p99 70.7us\n"
			   "FIN_WAIT1 p50 10.1us p99 17.3us | FIN_WAIT2 p50 1.01us p99 3.81us | "
			   "CLOSE_WAIT p50 9.22us p99 12.9us\n"
			   "LAST_ACK p50 5.78us p99 14.8us\n"
			   "\n" COLUMNS
			   "11.1us    FIN_WAIT1   7779    python3         [::1]:40958           "
			   "[::1]:8443            \n"
			   "0ns       LAST_ACK    7779    python3         [::1]:8443            "
			   "[::1]:40958           \n");
	in.ascii = false;

	/* the seeded pair closing: the server in CLOSE_WAIT (its owner from the
	 * snapshot: this record had none), the client in FIN_WAIT1; their ages
	 * are exact now that they changed state */
	replay_until(&p, 1907181231314ULL);
	assert_int_equal(p.records, 47);
	in.now_ns = 1907181231314ULL + 1 * MS;
	assert_screen(&in, "tcpfsm top - 15:31:37  0 transitions/s  0 lost  0 alerts firing\n"
			   "LISTEN 1  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 0  FIN_WAIT1 1  FIN_WAIT2 0  "
			   "CLOSING 0  TIME_WAIT 3  CLOSE_WAIT 1  LAST_ACK 0\n"
			   "\n"
			   "LISTEN p50 148" MICRO "s p99 2.74ms | "
			   "SYN_SENT p50 13.3" MICRO "s p99 89.9" MICRO "s | "
			   "SYN_RECV p50 1.41" MICRO "s p99 4.43" MICRO "s | "
			   "ESTABLISHED p50 23.6" MICRO "s p99 70.7" MICRO "s\n"
			   "FIN_WAIT1 p50 13.3" MICRO "s p99 17.3" MICRO "s | "
			   "FIN_WAIT2 p50 3.84" MICRO "s p99 7.60" MICRO "s | "
			   "CLOSE_WAIT p50 9.22" MICRO "s p99 12.9" MICRO "s\n"
			   "LAST_ACK p50 14.6" MICRO "s p99 15.0" MICRO "s\n"
			   "\n" COLUMNS
			   "1.04ms    FIN_WAIT1   7735    python3         127.0.0.1:32992       "
			   "127.0.0.1:8181        \n"
			   "1.00ms    CLOSE_WAIT  7735    python3         127.0.0.1:8181        "
			   "127.0.0.1:32992       \n");

	/* the end: TIME_WAIT sockets only; the durations of
	 * tests/data/exchange.hist.json (p50 and p99 to three digits) */
	replay_until(&p, UINT64_MAX);
	assert_int_equal(p.records, 52);
	in.now_ns = 1907181318159ULL;
	in.transitions_per_s = 49 / 2.241903727; /* 49 transitions in its 2.24s */
	assert_screen(&in, "tcpfsm top - 15:31:37  22 transitions/s  0 lost  0 alerts firing\n"
			   "LISTEN 0  SYN_SENT 0  SYN_RECV 0  ESTABLISHED 0  FIN_WAIT1 0  FIN_WAIT2 0  "
			   "CLOSING 0  TIME_WAIT 4  CLOSE_WAIT 0  LAST_ACK 0\n"
			   "\n"
			   "LISTEN p50 148" MICRO "s p99 2.74ms | "
			   "SYN_SENT p50 13.3" MICRO "s p99 89.9" MICRO "s | "
			   "SYN_RECV p50 1.41" MICRO "s p99 4.43" MICRO "s | "
			   "ESTABLISHED p50 23.6" MICRO "s p99 70.7" MICRO "s\n"
			   "FIN_WAIT1 p50 13.3" MICRO "s p99 100" MICRO "s | "
			   "FIN_WAIT2 p50 3.84" MICRO "s p99 7.74" MICRO "s | "
			   "CLOSE_WAIT p50 9.22" MICRO "s p99 49.2" MICRO "s | "
			   "LAST_ACK p50 15.0" MICRO "s p99 29.0" MICRO "s\n"
			   "\n" COLUMNS);
	replay_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_name),
		cmocka_unit_test(test_filter_parse),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_wraps),
		cmocka_unit_test(test_rows_by_age),
		cmocka_unit_test(test_rows_owner),
		cmocka_unit_test(test_rows_sorted),
		cmocka_unit_test(test_ties_by_cookie),
		cmocka_unit_test(test_filter_rows),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_height),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_exchange),
	};

	return cmocka_run_group_tests(tests, setup_tz, NULL);
}
