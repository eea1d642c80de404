// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `tcpfsm history`: one record per connection when it closes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pure/conntab.h"
#include "pure/connfmt.h"
#include "cmd/history.h"
#include "sys/log.h"
#include "sys/output.h"
#include "kernel/drops.h"
#include "kernel/source.h"

struct hist_ctx {
	const struct tcpfsm_config *cfg;
	struct fmt_opts fmt;
	struct output out;
	struct conntab *tab;
	int err;
	uint64_t shown;
	struct dropnames *names;
};

/* Connection-level filters: owner, lifetime, states on the path. */
static bool conn_selected(const struct tcpfsm_config *cfg, const struct conn *c,
			  const struct conn_end *end)
{
	bool exact, ok;
	uint64_t start = conn_start_ns(c, &exact);
	unsigned int i;

	if (cfg->min_duration_ns && (!start || end->end_ns < start ||
				     end->end_ns - start < cfg->min_duration_ns))
		return false;
	if (cfg->uf.state_mask) {
		for (ok = false, i = 0; i < TCPFSM_STATE_MAX && !ok; i++)
			ok = (cfg->uf.state_mask & (1u << i)) && conn_path_has(c, i);
		if (!ok)
			return false;
	}
	if (cfg->uf.n_pids) {
		for (ok = false, i = 0; i < cfg->uf.n_pids && !ok; i++)
			ok = (c->flags & CONN_OWNER) && c->pid == cfg->uf.pids[i];
		if (!ok)
			return false;
	}
	if (cfg->uf.n_comms) {
		for (ok = false, i = 0; i < cfg->uf.n_comms && !ok; i++)
			ok = (c->flags & CONN_OWNER) &&
			     !strncmp(c->comm, cfg->uf.comms[i], TCPFSM_COMM_LEN);
		if (!ok)
			return false;
	}
	return true;
}

static void emit(void *ctx, const struct conn *c, const struct conn_end *end)
{
	struct hist_ctx *h = ctx;
	char buf[FORMAT_CONN_MAX];
	struct conn_end named;
	int n;

	if (h->err || !conn_selected(h->cfg, c, end))
		return;
	named = *end;
	drop_list_name(&named.drops, dropnames__name_item, h->names);
	if (h->cfg->json)
		n = format_conn_json(buf, sizeof(buf), c, &named, &h->fmt);
	else
		n = format_conn_text(buf, sizeof(buf), c, &named, &h->fmt);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	h->err = output_write(&h->out, buf, n);
	h->shown++;
}

static int hist_start(void *ctx, const struct source_info *info)
{
	struct hist_ctx *h = ctx;

	h->fmt.boot_to_real_ns = info->boot_to_real_ns;
	if (h->cfg->replay)
		dropnames__for_recording(h->names, info->boot_to_real_ns);
	return 0;
}

static int hist_record(void *ctx, const struct tcpfsm_event *e)
{
	struct hist_ctx *h = ctx;
	int err = conntab__apply(h->tab, e, emit, h);

	if (err) {
		pr_err("connection table: %s", strerror(-err));
		return err;
	}
	return h->err;
}

static int hist_tick(void *ctx, uint64_t now)
{
	struct hist_ctx *h = ctx;

	conntab__expire(h->tab, now);
	return output_flush(&h->out);
}

int cmd_history(const struct tcpfsm_config *cfg)
{
	struct hist_ctx h = { .cfg = cfg };
	struct sink sink = { hist_start, hist_record, hist_tick, NULL, &h, true };
	uint32_t counts[TCPFSM_STATE_MAX];
	const struct conntab_stats *st;
	struct source_result res;
	int err;

	h.tab = conntab__new(cfg->max_conns);
	if (!h.tab) {
		pr_err("cannot allocate the connection table: %s", strerror(errno));
		return 1;
	}
	output_init(&h.out);
	/* (while privileged: kallsyms shows addresses to its opener) */
	h.names = dropnames__new();
	err = source_run(cfg, &sink, &res);
	output_flush(&h.out);
	dropnames__free(h.names);
	if (err == -EPIPE) {
		conntab__free(h.tab);
		return 0;
	}
	if (err) {
		conntab__free(h.tab);
		return 1;
	}
	source_report(cfg, &res);
	st = conntab__stats(h.tab);
	conntab__count_states(h.tab, counts);
	pr_info("%llu connection%s closed, %u still open (%u in TIME_WAIT), %llu evicted%s",
		(unsigned long long)st->closed, st->closed == 1 ? "" : "s",
		conntab__live(h.tab) - counts[TCPFSM_TIME_WAIT],
		counts[TCPFSM_TIME_WAIT], (unsigned long long)st->evicted,
		st->evicted ? " (raise --max-conns)" : "");
	if (st->timewait_evicted)
		pr_info("%llu TIME_WAIT entries dropped early to make room: the TIME_WAIT count is low",
			(unsigned long long)st->timewait_evicted);
	conntab__free(h.tab);
	return 0;
}
