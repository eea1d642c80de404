// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm hist` against real traffic in a fresh network namespace: counts
 * equal the transitions made, durations bound by what the test slept, --by
 * keys, -i intervals that add up to the totals; through the loader API,
 * histograms that stay exact while the ring buffer overflows; and the loss
 * summary every command prints.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"
#include "pure/histogram.h"
#include "kernel/loader.h"
#include "kernel/source.h"

#define N_CONNS 20
#define SLEEP_MS 50

/* The total (cumulative) row for state [and key], or NULL. */
static json_object *row(const struct tracer *t, const char *state, const char *key, bool total)
{
	for (size_t i = 0; i < t->n_events; i++) {
		json_object *o = t->events[i];
		const char *k = ev_str(o, "key");

		if (strcmp(ev_str(o, "type"), "histogram") || strcmp(ev_str(o, "state"), state))
			continue;
		if (json_object_get_boolean(json_object_object_get(o, "cumulative")) != total)
			continue;
		if ((key && (!k || strcmp(k, key))) || (!key && k))
			continue;
		return o;
	}
	return NULL;
}

static void test_counts_and_durations(void **state)
{
	const char *args[] = { "--by", "lport", NULL };
	struct tracer t;
	uint32_t ns;
	uint16_t port;
	char key[8];
	json_object *est, *ss;

	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&t, "hist", ns, args), 0);
	port = lo_connections(N_CONNS, SLEEP_MS);
	assert_int_equal(tracer_stop(&t), 0);

	ss = row(&t, "SYN_SENT", NULL, true);
	assert_non_null(ss);
	assert_int_equal(ev_int(ss, "count"), N_CONNS);
	assert_int_equal(ev_int(row(&t, "SYN_RECV", NULL, true), "count"), N_CONNS);
	est = row(&t, "ESTABLISHED", NULL, true);
	assert_int_equal(ev_int(est, "count"), 2 * N_CONNS);
	assert_true(ev_int(est, "min_ns") >= SLEEP_MS * 1000000LL);
	assert_true(ev_int(est, "p50_ns") >= SLEEP_MS * 1000000LL);
	assert_true(ev_int(est, "sum_ns") >= 2 * N_CONNS * SLEEP_MS * 1000000LL);
	/* each end leaves ESTABLISHED once: FIN_WAIT1 (client), CLOSE_WAIT (server) */
	assert_int_equal(ev_int(row(&t, "FIN_WAIT1", NULL, true), "count"), N_CONNS);
	assert_int_equal(ev_int(row(&t, "CLOSE_WAIT", NULL, true), "count"), N_CONNS);
	assert_int_equal(ev_int(row(&t, "LISTEN", NULL, true), "count"), 1);
	/* by local port: every child's SYN_RECV under the server's port */
	snprintf(key, sizeof(key), "%u", port);
	assert_int_equal(ev_int(row(&t, "SYN_RECV", key, true), "count"), N_CONNS);
	/* loss in the same words as every command: every transition counted
	 * in the kernel (10 per connection, and the listener's 2) */
	{
		char line[96];

		snprintf(line, sizeof(line), "tcpfsm: %d events, 0 lost (counted in the kernel",
			 10 * N_CONNS + 2);
		if (!strstr(t.err_text, line))
			fprintf(stderr, "no '%s' in: %s\n", line, t.err_text);
		assert_non_null(strstr(t.err_text, line));
		assert_null(strstr(t.err_text, "none lost"));
	}
	tracer_free(&t);
}

/* -i: the intervals' counts add up to the totals. */
static void test_intervals_add_up(void **state)
{
	const char *args[] = { "-i", "100ms", NULL };
	struct tracer t;
	uint32_t ns;
	int64_t sum = 0, intervals = 0;

	assert_int_equal(netns_enter_new(&ns), 0);
	assert_int_equal(tracer_start_cmd(&t, "hist", ns, args), 0);
	lo_connections(N_CONNS, 20);
	assert_int_equal(tracer_stop(&t), 0);
	for (size_t i = 0; i < t.n_events; i++) {
		json_object *o = t.events[i];

		if (!strcmp(ev_str(o, "state"), "ESTABLISHED") &&
		    !json_object_get_boolean(json_object_object_get(o, "cumulative"))) {
			sum += ev_int(o, "count");
			intervals++;
			assert_true(ev_int(o, "interval_ns") > 0);
		}
	}
	assert_true(intervals >= 2);
	assert_int_equal(sum, 2 * N_CONNS);
	assert_int_equal(ev_int(row(&t, "ESTABLISHED", NULL, true), "count"), 2 * N_CONNS);
	tracer_free(&t);
}

static int count_event(void *ctx, const struct tcpfsm_event *e)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

/*
 * A 64 KiB ring buffer (about 600 events) that nobody reads while 300
 * connections make 3000 transitions: events are lost, counted, and the
 * kernel's histograms still count every transition.
 */
static void test_exact_while_losing_events(void **state)
{
	struct tcpfsm_config cfg = { .ringbuf_bytes = 64 << 10, .kf.n_netns = 1, .max_conns = 1 };
	uint64_t stats[TCPFSM_STAT_MAX], received = 0;
	struct hist_set hs;
	struct loader *ld;
	const int n = 300;

	assert_int_equal(netns_enter_new(&cfg.kf.netns[0]), 0);
	ld = loader__new(&cfg, count_event, &received);
	assert_non_null(ld);
	lo_connections(n, 0);
	assert_int_equal(loader__stats(ld, stats), 0);
	assert_true(stats[TCPFSM_STAT_LOST] > 0);
	hist_set_init(&hs, TCPFSM_BY_NONE, 0);
	assert_int_equal(loader__read_hists(ld, &hs), 0);
	assert_int_equal(hs.state[TCPFSM_SYN_SENT].count, n);
	assert_int_equal(hs.state[TCPFSM_SYN_RECV].count, n);
	assert_int_equal(hs.state[TCPFSM_ESTABLISHED].count, 2 * n);
	assert_int_equal(hs.state[TCPFSM_FIN_WAIT1].count, n);
	assert_int_equal(hs.state[TCPFSM_FIN_WAIT2].count, n);
	assert_int_equal(hs.state[TCPFSM_CLOSE_WAIT].count, n);
	assert_int_equal(hs.state[TCPFSM_LAST_ACK].count, n);
	assert_int_equal(hs.transitions[TCPFSM_CLOSE][TCPFSM_SYN_SENT], n);
	assert_int_equal(hs.transitions[TCPFSM_FIN_WAIT2][TCPFSM_CLOSE], n);
	/* what was delivered plus what was lost is what happened */
	assert_int_equal(loader__consume(ld) >= 0, 1);
	assert_int_equal(received + stats[TCPFSM_STAT_LOST], stats[TCPFSM_STAT_EVENTS]);
	assert_int_equal(stats[TCPFSM_STAT_EVENTS], 10 * n + 2);
	hist_set_free(&hs);
	loader__free(ld);
}

/* What source_report prints for cfg and res (its stderr). */
static const char *report(const struct tcpfsm_config *cfg, const struct source_result *res)
{
	static char text[4096];
	char path[] = "/tmp/tcpfsm-itest-report-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	source_report(cfg, res);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	return text;
}

static void expect_report(const struct tcpfsm_config *cfg, const struct source_result *res,
			  const char *want)
{
	const char *got = report(cfg, res);

	if (strcmp(got, want))
		fprintf(stderr, "got:\n%swant:\n%s", got, want);
	assert_string_equal(got, want);
}

/*
 * Loss is reported in the same words by every command, hist included: its
 * kernel-side counts, and transitions the kernel program missed (which no
 * histogram has) are not "none lost".
 */
static void test_loss_wording(void **state)
{
	struct tcpfsm_config hist = { .cmd = CMD_HIST, .aggregate_only = true };
	struct tcpfsm_config trace = { .cmd = CMD_TRACE }, watch = { .cmd = CMD_WATCH };
	struct tcpfsm_config replay = { .cmd = CMD_HISTORY, .replay = "f.tfr" };
	struct source_result res = { .kernel_events = 290082, .lost = 3, .missed = 3,
				     .lost_known = true };

	expect_report(&hist, &res,
		      "tcpfsm: 290082 events, 3 lost (counted in the kernel, none sent to "
		      "userspace)\n"
		      "tcpfsm: warning: 3 transitions were missed (a softirq interrupted tcpfsm's "
		      "BPF program on the same CPU, and BPF programs do not nest): not in any "
		      "histogram or count either\n");
	/* with filters, misses may have been anyone's: not this run's losses */
	res = (struct source_result){ .kernel_events = 202, .missed = 15, .missed_unattributed = true,
				      .lost_known = true };
	expect_report(&hist, &res,
		      "tcpfsm: 202 events, 0 lost (counted in the kernel, none sent to userspace)\n"
		      "tcpfsm: warning: 15 transitions were missed on this host (a softirq "
		      "interrupted tcpfsm's BPF program on the same CPU, and BPF programs do not "
		      "nest): the filters never saw them, so how many were this run's is "
		      "unknown\n");
	res = (struct source_result){ .kernel_events = 1, .lost_known = true };
	expect_report(&hist, &res,
		      "tcpfsm: 1 event, 0 lost (counted in the kernel, none sent to userspace)\n");
	/* events: what reached userspace, without seeds and evidence */
	res = (struct source_result){ .records = 7, .seeds = 3, .evidence = 3, .lost = 2,
				      .missed = 1, .lost_known = true };
	expect_report(&trace, &res,
		      "tcpfsm: 1 event, 2 lost\n"
		      "tcpfsm: warning: 1 event was lost (ring buffer full): try a larger "
		      "--ringbuf-size; histograms and counts are still exact\n"
		      "tcpfsm: warning: 1 transition was missed (a softirq interrupted tcpfsm's "
		      "BPF program on the same CPU, and BPF programs do not nest): not in any "
		      "histogram or count either\n");
	/* lazy: what the count is, and what was sent */
	res = (struct source_result){ .records = 3, .seeds = 3, .kernel_events = 252,
				      .lazy = true, .lost_known = true };
	expect_report(&watch, &res,
		      "tcpfsm: 252 events, 0 lost (0 of them sent to userspace: lazy tracking "
		      "sends a socket's transitions once it has stayed in a state a while, as "
		      "stuck ones do; the kernel counts them all)\n");
	res = (struct source_result){ .records = 1, .lost = 4, .lost_known = true };
	expect_report(&replay, &res, "tcpfsm: 1 event replayed (4 lost while recording)\n");
	res.lost_known = false;
	expect_report(&replay, &res,
		      "tcpfsm: 1 event replayed (the recording has no final counts: written to a "
		      "pipe, or its recorder was killed; losses unknown)\n");
	res.truncated = true;
	expect_report(&replay, &res, "tcpfsm: 1 event replayed from a truncated recording\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_durations),
		cmocka_unit_test(test_intervals_add_up),
		cmocka_unit_test(test_exact_while_losing_events),
		cmocka_unit_test(test_loss_wording),
	};

	return cmocka_run_group_tests_name("itest_hist", tests, NULL, NULL);
}
