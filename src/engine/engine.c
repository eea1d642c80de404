// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/engine.h"
#include "kernel/drops.h"
#include "kernel/loader.h"
#include "kernel/snapshot.h"
#include "pure/dropfmt.h"
#include "pure/schedule.h"
#include "sys/clock.h"
#include "sys/log.h"
#include "sys/procfd.h"

/* TCP drops by (reason, segment kind) for tcpfsm_drops_total: bounded by
 * the kernel's reasons; beyond DROP_COUNTS_MAX pairs, "OTHER". */
#define DROP_COUNTS_MAX ENGINE_DROP_COUNTS_MAX

struct drop_count {
	uint32_t reason;
	uint8_t segment;
	uint64_t count;
	char name[40];
};

struct engine {
	const struct tcpfsm_config *cfg;
	struct engine_ops ops;
	struct conntab *tab;
	struct alert_engine *ae;
	struct loader *ld;	/* live only */
	struct dropnames *names;	/* the kernel's names for drops */
	struct drops *drops;	/* live, when drops are tracked */
	uint64_t next_listen;	/* the next listener sweep */
	struct drop_count dcounts[DROP_COUNTS_MAX];
	size_t ndcounts;
	int err;		/* a front end's, from a callback: stops the run */
	/* the sweeps: when each is due next (CLOCK_BOOTTIME, or the records'
	 * clock in a replay) */
	uint64_t next_sweep, next_req_sweep, next_track;
	/* lazy tracking (kernel/loader.h) */
	bool lazy;
	uint64_t track_after_ns;
	uint64_t last_track_ns;
	uint64_t states[TCPFSM_STATE_MAX];	/* sockets per state, last tracking sweep */
};

static void on_alert(void *ctx, struct alert *a)
{
	struct engine *e = ctx;
	int err = e->ops.alert(e->ops.ctx, a);

	if (err && !e->err)
		e->err = err;
}

static void on_closed(void *ctx, const struct conn *c, const struct conn_end *end)
{
	struct engine *e = ctx;
	struct conn_end named;
	int err;

	if (!e->ops.closed)
		return;
	named = *end;
	drop_list_name(&named.drops, dropnames__name_item, e->names);
	err = e->ops.closed(e->ops.ctx, c, &named);
	if (err && !e->err)
		e->err = err;
}

struct engine *engine__new(const struct tcpfsm_config *cfg, const struct engine_ops *ops)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->cfg = cfg;
	e->ops = *ops;
	e->track_after_ns = sched_track_after_ns(&cfg->alerts);
	e->tab = conntab__new(cfg->max_conns);
	e->ae = alert_engine__new(&cfg->alerts, on_alert, e);
	if (!e->tab || !e->ae) {
		engine__free(e);
		errno = ENOMEM;
		return NULL;
	}
	alert_engine__set_fd_lookup(e->ae, procfd_fd_of);
	/* before the source gives up privileges: kallsyms shows addresses
	 * to its opener; without names, drops show numbers */
	e->names = dropnames__new();
	if (e->names)
		alert_engine__set_drop_namer(e->ae, dropnames__name_item, e->names);
	return e;
}

void engine__free(struct engine *e)
{
	if (!e)
		return;
	alert_engine__free(e->ae);
	conntab__free(e->tab);
	dropnames__free(e->names);
	free(e);
}

static int track_seen(void *ctx, const struct tcpfsm_event *ev)
{
	struct engine *e = ctx;

	return alert_engine__apply(e->ae, e->tab, ev, on_closed, e);
}

/*
 * One iterator pass over every namespace: with track, it takes up the
 * sockets that stayed in one state track_after_ns or longer (lazy tracking)
 * and counts every socket by state; with requests, it reports the half-open
 * requests, so those the engine follows and no longer finds are gone.
 */
static void iter_sweep(struct engine *e, bool track, bool requests)
{
	struct snapshot_stats st;
	int fd = loader__iter_fd(e->ld), err;

	if (fd < 0)
		return;
	loader__iter_what(e->ld,
			  (track ? TCPFSM_ITER_TRACK : 0) | (requests ? TCPFSM_ITER_REQUESTS : 0),
			  e->track_after_ns);
	if (requests)
		alert_engine__requests_begin(e->ae);
	/* sockets made in a namespace new to us: look for namespaces now,
	 * not at the next refresh */
	if (loader__netns_prune(e->ld, snapshot_ns_known, false))
		snapshot_forget();
	err = snapshot_sweep(fd, e->cfg->kf.netns, e->cfg->kf.n_netns, track_seen, e, &st);
	loader__netns_prune(e->ld, snapshot_ns_known, true);
	if (err == -ENOTRECOVERABLE) {
		/* stranded in another network namespace (said why): stop */
		if (!e->err)
			e->err = err;
	} else if (err) {
		pr_warn("socket sweep: %s", strerror(-err));
	} else if (requests) {
		alert_engine__requests_end(e->ae, clock_boot_ns());
	}
	if (track && !err)
		loader__sweep_states(e->ld, e->states);
}

/* Listener sweeps: SYNs refused for a full queue show only in the
 * listener's own counter, read by them; an alert fires at the sweep after. */
#define LISTEN_SWEEP_NS 1000000000ULL

static int listener_seen(void *ctx, const struct listener_info *li)
{
	struct engine *e = ctx;

	/* too many listeners: the rest go unseen, nothing else is lost */
	alert_engine__listener(e->ae, li, clock_ns(CLOCK_BOOTTIME));
	return 0;
}

/* The listeners and what they dropped (kernel/drops.h), for the alert
 * engine's listener alerts. */
static void listener_sweep(struct engine *e)
{
	int err;

	alert_engine__listeners_begin(e->ae);
	err = drops__listeners(e->drops, e->cfg, listener_seen, e);
	if (err == -ENOTRECOVERABLE) {
		if (!e->err)
			e->err = err;
		return;
	}
	if (err == -EOPNOTSUPP) {
		e->drops = NULL; /* no iterator: no more sweeps */
		return;
	}
	if (err)
		pr_warn("listener sweep: %s", strerror(-err));
	else
		alert_engine__listeners_end(e->ae, clock_ns(CLOCK_BOOTTIME));
}

/* The age check: alerts for sockets past their threshold at now. */
static void sweep(struct engine *e, uint64_t now)
{
	alert_engine__sweep(e->ae, e->tab, now);
	conntab__expire(e->tab, now);
}

static int e_start(void *ctx, const struct source_info *info)
{
	struct engine *e = ctx;

	e->ld = info->loader;
	e->drops = info->drops;
	e->lazy = e->ld && loader__lazy(e->ld);

	if (e->cfg->replay)
		dropnames__for_recording(e->names, info->boot_to_real_ns);
	return e->ops.start ? e->ops.start(e->ops.ctx, info) : 0;
}

/* One more drop of its (reason, segment). */
static void count_drop(struct engine *e, const struct tcpfsm_event *ev)
{
	struct drop_count *d;
	char buf[40];
	size_t i;

	for (i = 0; i < e->ndcounts; i++)
		if (e->dcounts[i].reason == ev->ino && e->dcounts[i].segment == ev->evidence)
			break;
	if (i == e->ndcounts) {
		if (e->ndcounts == DROP_COUNTS_MAX)
			i = DROP_COUNTS_MAX - 1; /* the last one: "OTHER" */
		else
			e->ndcounts++;
		d = &e->dcounts[i];
		d->reason = ev->ino;
		d->segment = ev->evidence;
		snprintf(d->name, sizeof(d->name), "%s",
			 i == DROP_COUNTS_MAX - 1 ? "OTHER" :
						    dropnames__reason(e->names, ev->ino, buf, sizeof(buf)));
	}
	e->dcounts[i].count++;
}

static int e_record(void *ctx, const struct tcpfsm_event *ev)
{
	struct engine *e = ctx;
	int err;

	if (ev->kind == TCPFSM_KIND_DROP)
		count_drop(e, ev);

	/* replay: run the sweeps the live run would have run, on its clock */
	if (!e->ld && e->cfg->replay && ev->kind == TCPFSM_KIND_TRANSITION) {
		if (!e->next_sweep)
			e->next_sweep = ev->ts_ns + e->cfg->sweep_ns;
		while (ev->ts_ns >= e->next_sweep) {
			sweep(e, e->next_sweep);
			e->next_sweep += e->cfg->sweep_ns;
		}
	}
	err = alert_engine__apply(e->ae, e->tab, ev, on_closed, e);
	if (err)
		pr_err("connection table: %s", strerror(-err));
	return err ? err : e->err;
}

static int e_tick(void *ctx, uint64_t now)
{
	struct engine *e = ctx;
	bool requests, track;

	/* requests: only to notice tracked ones vanish (none, none) */
	requests = e->ld && now >= e->next_req_sweep && alert_engine__stats(e->ae)->half_open;
	track = e->ld && e->lazy && now >= e->next_track;
	if (requests || track) {
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

		iter_sweep(e, track, requests);
		if (track) {
			e->last_track_ns = now;
			e->next_track = now + sched_track_interval_ns(&e->cfg->alerts, e->cfg->sweep_ns,
								      clock_ns(CLOCK_MONOTONIC) - t0);
		}
	}
	if (requests)
		e->next_req_sweep = now + SCHED_REQUEST_SWEEP_NS;
	if (e->drops && e->ld && now >= e->next_listen) {
		listener_sweep(e);
		e->next_listen = now + LISTEN_SWEEP_NS;
	}
	if (e->ld && now >= e->next_sweep) {
		sweep(e, now);
		e->next_sweep = now + e->cfg->sweep_ns;
	}
	if (!e->err && e->ops.tick)
		e->err = e->ops.tick(e->ops.ctx, now);
	return e->err;
}

static int e_end(void *ctx, uint64_t now)
{
	struct engine *e = ctx;

	/* a replay ends with the sweep that its last records were due */
	if (!e->ld)
		sweep(e, now);
	return e->err;
}

static int e_extra(void *ctx)
{
	struct engine *e = ctx;

	return e->ops.extra(e->ops.ctx);
}

static int e_hup(void *ctx)
{
	struct engine *e = ctx;

	return e->ops.hup(e->ops.ctx);
}

int engine__run(struct engine *e, struct source_result *res)
{
	struct sink sink = {
		.on_start = e_start,
		.on_record = e_record,
		.on_tick = e_tick,
		.on_end = e_end,
		.ctx = e,
		.want_snapshot = true,
		.extra_fd = e->ops.extra ? e->ops.extra_fd : -1,
		.on_extra = e->ops.extra ? e_extra : NULL,
		.on_hup = e->ops.hup ? e_hup : NULL,
	};

	int err = source_run(e->cfg, &sink, res);

	e->ld = NULL; /* freed by the source */
	e->drops = NULL;
	return err;
}

void engine__report(const struct engine *e, const struct source_result *res)
{
	const struct alert_stats *st = alert_engine__stats(e->ae);
	unsigned long long fired = 0;

	for (int i = 0; i < TCPFSM_STATE_MAX; i++)
		fired += st->fired[i];
	source_report(e->cfg, res);
	pr_info("%llu alert%s fired, %llu folded into summaries by the rate limit", fired,
		fired == 1 ? "" : "s", (unsigned long long)st->suppressed);
}

struct conntab *engine__conntab(const struct engine *e)
{
	return e->tab;
}

const struct alert_stats *engine__alert_stats(const struct engine *e)
{
	return alert_engine__stats(e->ae);
}

struct loader *engine__loader(const struct engine *e)
{
	return e->ld;
}

bool engine__lazy(const struct engine *e)
{
	return e->lazy;
}

void engine__states(const struct engine *e, uint32_t counts[TCPFSM_STATE_MAX])
{
	if (e->lazy) {
		for (int s = 0; s < TCPFSM_STATE_MAX; s++)
			counts[s] = e->states[s] > UINT32_MAX ? UINT32_MAX : e->states[s];
		return;
	}
	conntab__count_states(e->tab, counts);
	/* half-open requests are connections in SYN_RECV too */
	counts[TCPFSM_SYN_RECV] += alert_engine__stats(e->ae)->half_open;
}

size_t engine__drop_counts(const struct engine *e, struct prom_count *out, size_t max)
{
	size_t n = e->ndcounts < max ? e->ndcounts : max;

	for (size_t i = 0; i < n; i++) {
		out[i].reason = e->dcounts[i].name;
		out[i].segment = drop_segment_name(e->dcounts[i].segment);
		out[i].count = e->dcounts[i].count;
	}
	return n;
}

size_t engine__listen_drop_counts(const struct engine *e, struct prom_count *out, size_t max)
{
	const struct listen_total *t;
	size_t n = alert_engine__listen_totals(e->ae, &t);

	n = n < max ? n : max;
	for (size_t i = 0; i < n; i++) {
		out[i].reason = t[i].reason;
		out[i].segment = NULL;
		out[i].count = t[i].count;
	}
	return n;
}

uint64_t engine__last_track_ns(const struct engine *e)
{
	return e->last_track_ns;
}
