// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `tcpfsm hist`: per-state duration histograms. Live, the kernel aggregates
 * (exact even when events would be lost; no events are sent at all) and we
 * read its maps every interval; on -r FILE the recorded transitions are
 * aggregated here by the same rules.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "pure/duration.h"
#include "pure/histogram.h"
#include "cmd/hist.h"
#include "kernel/loader.h"
#include "sys/log.h"
#include "sys/output.h"
#include "kernel/source.h"

struct hcmd {
	const struct tcpfsm_config *cfg;
	struct output out;
	struct loader *ld;	/* live */
	int64_t boot_to_real_ns;
	uint64_t start_ns, last_print_ns, next_print_ns;
	struct hist_set cur, prev, delta;
};

static int out_fn(void *ctx, const char *buf, size_t n)
{
	return output_write(&((struct hcmd *)ctx)->out, buf, n);
}

static int header(struct hcmd *h, const char *what, uint64_t now, uint64_t len_ns)
{
	char line[160], d[32], t[48];
	int64_t real = (int64_t)now + h->boot_to_real_ns;
	time_t sec = real / 1000000000LL;
	struct tm tm;

	if (h->cfg->json)
		return 0;
	localtime_r(&sec, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	duration_format(d, sizeof(d), len_ns);
	snprintf(line, sizeof(line), "%s--- %s %s (%s) ---\n", h->last_print_ns ? "\n" : "", t,
		 what, d);
	return output_write(&h->out, line, strlen(line));
}

/* One interval ends at now: print its deltas (or the totals so far). */
static int print_interval(struct hcmd *h, uint64_t now)
{
	uint64_t len = now - (h->last_print_ns ? h->last_print_ns : h->start_ns);
	const struct hist_set *show = &h->cur;
	int err;

	if (!h->cfg->cumulative) {
		err = hist_set_delta(&h->delta, &h->cur, &h->prev);
		if (err)
			return err;
		show = &h->delta;
	}
	err = header(h, h->cfg->cumulative ? "totals so far" : "interval", now, len);
	if (!err)
		err = hist_set_print(show, h->cfg->json, (int64_t)now + h->boot_to_real_ns, len,
				     h->cfg->cumulative, out_fn, h);
	if (!err)
		err = hist_set_copy(&h->prev, &h->cur);
	h->last_print_ns = now;
	return err;
}

static int hc_start(void *ctx, const struct source_info *info)
{
	struct hcmd *h = ctx;

	h->ld = info->loader;
	h->boot_to_real_ns = info->boot_to_real_ns;
	h->start_ns = info->start_boot_ns;
	h->next_print_ns = h->start_ns + h->cfg->interval_ns;
	return 0;
}

/* replay: aggregate here, and close the intervals that the records pass */
static int hc_record(void *ctx, const struct tcpfsm_event *e)
{
	struct hcmd *h = ctx;
	int err;

	if (e->kind != TCPFSM_KIND_TRANSITION)
		return 0;
	if (!h->start_ns || e->ts_ns < h->start_ns) {
		/* a recording's clock starts at its first transition */
		h->start_ns = e->ts_ns;
		h->next_print_ns = e->ts_ns + h->cfg->interval_ns;
	}
	while (h->cfg->interval_ns && e->ts_ns >= h->next_print_ns) {
		err = print_interval(h, h->next_print_ns);
		if (err)
			return err;
		h->next_print_ns += h->cfg->interval_ns;
	}
	return hist_set_account(&h->cur, e);
}

static int hc_tick(void *ctx, uint64_t now)
{
	struct hcmd *h = ctx;
	int err = 0;

	if (h->ld && h->cfg->interval_ns && now >= h->next_print_ns) {
		err = loader__read_hists(h->ld, &h->cur);
		if (!err)
			err = print_interval(h, now);
		h->next_print_ns = now + h->cfg->interval_ns;
	}
	return err ? err : output_flush(&h->out);
}

static int hc_end(void *ctx, uint64_t now)
{
	struct hcmd *h = ctx;
	int err = 0;

	if (h->ld)
		err = loader__read_hists(h->ld, &h->cur);
	if (err) {
		pr_err("reading the histograms: %s", strerror(-err));
		return err;
	}
	if (!h->start_ns)
		h->start_ns = now;
	/* replay: the intervals between the last record and the recording's
	 * end, as live would have printed them */
	while (!h->ld && h->cfg->interval_ns && h->next_print_ns <= now && !err) {
		err = print_interval(h, h->next_print_ns);
		h->next_print_ns += h->cfg->interval_ns;
	}
	/* the last partial interval, then the totals */
	if (!err && h->cfg->interval_ns && now > h->last_print_ns && !h->cfg->cumulative)
		err = print_interval(h, now);
	if (!err) {
		err = header(h, "totals", now, now - h->start_ns);
	}
	if (!err)
		err = hist_set_print(&h->cur, h->cfg->json, (int64_t)now + h->boot_to_real_ns,
				     now - h->start_ns, true, out_fn, h);
	if (!err)
		err = output_flush(&h->out);
	return err;
}

int cmd_hist(const struct tcpfsm_config *cfg_in)
{
	struct tcpfsm_config cfg = *cfg_in;
	struct hcmd h = { .cfg = &cfg };
	struct sink sink = { hc_start, hc_record, hc_tick, hc_end, &h, false };
	struct source_result res;
	int err;

	/* the kernel aggregates: no events to send */
	cfg.aggregate_only = true;
	hist_set_init(&h.cur, cfg.by, cfg.by_limit);
	hist_set_init(&h.prev, cfg.by, cfg.by_limit);
	hist_set_init(&h.delta, cfg.by, cfg.by_limit);
	output_init(&h.out);
	err = source_run(&cfg, &sink, &res);
	output_flush(&h.out);
	if (!err) {
		source_report(&cfg, &res);
		if (h.cur.by_other)
			pr_info("%llu transitions counted under \"other\": more (state, %s) pairs than "
				"--by-limit %u",
				(unsigned long long)h.cur.by_other, hist_by_name(cfg.by), cfg.by_limit);
	}
	hist_set_free(&h.cur);
	hist_set_free(&h.prev);
	hist_set_free(&h.delta);
	if (err == -EPIPE)
		return 0;
	return err ? 1 : 0;
}
