// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "pure/filter.h"
#include "kernel/drops.h"
#include "kernel/loader.h"
#include "sys/log.h"
#include "kernel/loop.h"
#include "sys/clock.h"
#include "sys/privs.h"
#include "sys/record.h"
#include "kernel/snapshot.h"
#include "kernel/source.h"

struct live {
	const struct tcpfsm_config *cfg;
	const struct sink *sink;
	struct source_result *res;
};

int64_t source_boot_to_real(void)
{
	int64_t b1 = clock_boot_ns(), r = clock_ns(CLOCK_REALTIME);
	int64_t b2 = clock_boot_ns();

	return r - (b1 + (b2 - b1) / 2);
}

static int live_record(void *ctx, const struct tcpfsm_event *e)
{
	struct live *l = ctx;

	l->res->records++;
	if (e->kind == TCPFSM_KIND_EVIDENCE)
		l->res->evidence++;
	else if (e->kind == TCPFSM_KIND_DROP)
		l->res->drops++;
	return l->sink->on_record(l->sink->ctx, e);
}

/* seeds pass the same filters the kernel applies to events */
static int live_seed(void *ctx, const struct tcpfsm_event *e)
{
	struct live *l = ctx;

	if (!filter_kernel_side(&l->cfg->kf, e))
		return 0;
	l->res->seeds++;
	return live_record(ctx, e);
}

static int live_extra(void *ctx)
{
	struct live *l = ctx;

	return l->sink->on_extra(l->sink->ctx);
}

static int live_hup(void *ctx)
{
	struct live *l = ctx;

	return l->sink->on_hup(l->sink->ctx);
}

static int live_tick(void *ctx)
{
	struct live *l = ctx;

	return l->sink->on_tick ? l->sink->on_tick(l->sink->ctx, clock_boot_ns()) : 0;
}

/*
 * watch/serve/top still enter namespaces (request sweeps) and read other
 * users' /proc/PID/fd (the fd of a CLOSE_WAIT leak); --alert-exec-user
 * hooks raise CAP_SETUID/CAP_SETGID from the permitted set to switch users.
 * Nothing else stays, not even in the bounding set, so a hook run as root
 * cannot regain more at execve.
 */
static void drop_privileges(const struct tcpfsm_config *cfg)
{
	uint64_t keep = 0, setid = 0, left = 0;
	int err;

	if (cfg->cmd == CMD_WATCH || cfg->cmd == CMD_SERVE || cfg->cmd == CMD_TOP)
		keep = PRIV_BIT(PRIV_SYS_ADMIN) | PRIV_BIT(PRIV_SYS_PTRACE) |
		       PRIV_BIT(PRIV_DAC_READ_SEARCH);
	if (cfg->alert_exec_user.set)
		setid = PRIV_BIT(PRIV_SETUID) | PRIV_BIT(PRIV_SETGID);
	err = privs_drop(keep, setid, &left);
	if (err)
		pr_warn("cannot drop capabilities: %s", strerror(-err));
	else if (left)
		/* no CAP_SETPCAP: hooks still gain nothing (no_new_privs) */
		pr_debug("capability bounding set not reduced (no CAP_SETPCAP): 0x%llx left",
			 (unsigned long long)left);
}

/* Does the kernel filter anything out? */
static bool kernel_filtered(const struct tcpfsm_filter *f)
{
	return f->family || f->n_ports || f->n_lports || f->n_rports || f->n_netns || f->cgroup_id;
}

uint64_t source_lost(const struct tcpfsm_config *cfg, uint64_t ring_lost, uint64_t missed)
{
	/*
	 * A missed transition never reached our program, so no filter saw it:
	 * without filters it was one of ours, lost; with them it may as well
	 * have been another namespace's or port's (a busy host next to a
	 * quiet --netns), so it is reported apart, not counted as lost.
	 */
	return ring_lost + (kernel_filtered(&cfg->kf) ? 0 : missed);
}

static int run_live(const struct tcpfsm_config *cfg, const struct sink *sink,
		    struct source_result *res)
{
	struct live l = { cfg, sink, res };
	const struct loop_ops ops = {
		.on_tick = live_tick,
		.extra_fd = sink->on_extra ? sink->extra_fd : -1,
		.on_extra = sink->on_extra ? live_extra : NULL,
		.on_hup = sink->on_hup ? live_hup : NULL,
	};
	struct source_info info = {};
	uint64_t stats[TCPFSM_STAT_MAX] = {};
	char seeded[96] = "";
	struct loader *ld;
	int err;

	err = loop_block_signals();
	if (err) {
		pr_err("cannot block signals: %s", strerror(-err));
		return err;
	}
	info.boot_to_real_ns = source_boot_to_real();
	info.start_boot_ns = clock_boot_ns();
	ld = loader__new(cfg, live_record, &l);
	if (!ld)
		return -errno;
	info.loader = ld;
	/* (a warning if it cannot load: transitions go on without drops) */
	if (cfg->drops)
		info.drops = drops__new(cfg, ld);
	if (sink->on_start && (err = sink->on_start(sink->ctx, &info))) {
		drops__free(info.drops);
		loader__free(ld);
		return err;
	}
	/*
	 * Seed after attaching: a transition racing with the walk is then both
	 * queued in the ring buffer and maybe reflected in the seed; the
	 * consumer drops queued events older than the seed of their socket.
	 */
	if (sink->want_snapshot) {
		struct snapshot_stats st;
		int fd = loader__iter_fd(ld);

		if (fd < 0) {
			pr_warn("no snapshot of existing sockets (%s): they will show up at "
				"their next transition",
				strerror(-fd));
		} else {
			err = snapshot_run(fd, cfg->kf.netns, cfg->kf.n_netns, live_seed, &l, &st);
			if (err) {
				drops__free(info.drops);
				loader__free(ld);
				return err;
			}
			snprintf(seeded, sizeof(seeded), ", %llu existing socket%s from %u netns",
				 (unsigned long long)res->seeds, res->seeds == 1 ? "" : "s", st.netns);
		}
	}
	/* loaded, attached, seeded: the fds are all the BPF side needs now */
	drop_privileges(cfg);
	pr_info("tracing TCP state transitions (%s%s%s), Ctrl-C to end", loader__mode(ld),
		loader__ctx_tracking(ld) ? "" : ", owners at syscalls only", seeded);
	err = loop_run(ld, cfg->duration_ns, &ops, &l);
	if (!err && sink->on_end)
		err = sink->on_end(sink->ctx, clock_boot_ns());
	loader__stats(ld, stats);
	res->missed = loader__missed(ld);
	res->lazy = loader__lazy(ld);
	res->kernel_events = stats[TCPFSM_STAT_EVENTS];
	if (info.drops) {
		struct drops_stats ds;

		drops__stats(info.drops, &ds);
		res->drops_tracked = true;
		res->drops_lost = ds.lost;
		res->drops_missed = ds.missed;
	}
	drops__free(info.drops);
	loader__free(ld);
	/* with filters, misses are reported apart (source_lost) */
	res->missed_unattributed = kernel_filtered(&cfg->kf);
	res->lost = source_lost(cfg, stats[TCPFSM_STAT_LOST], res->missed);
	res->lost_known = true;
	if (!err && !cfg->aggregate_only && !res->lazy &&
	    res->records - res->seeds - res->evidence - res->drops != stats[TCPFSM_STAT_EVENTS])
		pr_warn("received %llu events but the kernel sent %llu",
			(unsigned long long)(res->records - res->seeds - res->evidence - res->drops),
			(unsigned long long)stats[TCPFSM_STAT_EVENTS]);
	return err;
}

static int run_replay(const struct tcpfsm_config *cfg, const struct sink *sink,
		      struct source_result *res)
{
	struct tcpfsm_event e;
	struct source_info info = {};
	const struct record_header *h;
	struct record_reader *r;
	uint64_t last_ts = 0, end_ns;
	char err[512];
	int n, ret = 0;

	r = record_reader__open(cfg->replay, err, sizeof(err));
	if (!r) {
		pr_err("%s", err);
		return -EINVAL;
	}
	/* a recording needs no privilege at all; hooks get no more than live */
	drop_privileges(cfg);
	h = record_reader__header(r);
	info.boot_to_real_ns = h->boot_to_real_ns;
	info.start_boot_ns = h->start_boot_ns;
	res->lost = h->lost;
	res->lost_known = h->flags & RECORD_F_FINISHED;
	if (sink->on_start && (ret = sink->on_start(sink->ctx, &info))) {
		record_reader__close(r);
		return ret;
	}
	while ((n = record_reader__next(r, &e, err, sizeof(err))) > 0) {
		if (e.ts_ns > last_ts)
			last_ts = e.ts_ns;
		if (!filter_kernel_side(&cfg->kf, &e))
			continue;
		res->records++;
		if (e.kind == TCPFSM_KIND_SNAPSHOT)
			res->seeds++;
		else if (e.kind == TCPFSM_KIND_EVIDENCE)
			res->evidence++;
		else if (e.kind == TCPFSM_KIND_DROP)
			res->drops++;
		ret = sink->on_record(sink->ctx, &e);
		if (ret)
			break;
	}
	res->truncated = n == -ENODATA;
	/*
	 * The recording ends when the recorder stopped, maybe well after its
	 * last record (a socket that sat in CLOSE_WAIT and did nothing else):
	 * the sink's clock goes there, so alerts fire as they did live. Files
	 * from before the end time was kept, and cut ones, end at their last
	 * record.
	 */
	end_ns = last_ts;
	if (n == 0 && res->lost_known && h->end_boot_ns > end_ns)
		end_ns = h->end_boot_ns;
	/* the readable part, even before a bad record: its end, then the error */
	if (!ret && sink->on_tick)
		ret = sink->on_tick(sink->ctx, end_ns);
	if (!ret && sink->on_end)
		ret = sink->on_end(sink->ctx, end_ns);
	if (n < 0) {
		fflush(stdout);
		if (res->truncated && cfg->partial) {
			pr_warn("%s (--partial: replayed what is there)", err);
			n = 0;
		} else {
			pr_err("%s%s", err,
			       res->truncated ? " (--partial replays what is there)" : "");
		}
	}
	record_reader__close(r);
	/* a sink may stop the replay early (> 0) without an error */
	if (ret)
		return ret < 0 ? ret : 0;
	return n < 0 ? n : 0;
}

int source_run(const struct tcpfsm_config *cfg, const struct sink *sink, struct source_result *res)
{
	memset(res, 0, sizeof(*res));
	return cfg->replay ? run_replay(cfg, sink, res) : run_live(cfg, sink, res);
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

void source_report(const struct tcpfsm_config *cfg, const struct source_result *res)
{
	unsigned long long events = res->records - res->seeds - res->evidence - res->drops;
	unsigned long long lost = res->lost, kernel = res->kernel_events, ring;

	if (cfg->replay) {
		if (res->truncated)
			pr_info("%llu event%s replayed from a truncated recording", events,
				plural(events));
		else if (res->lost_known)
			pr_info("%llu event%s replayed (%llu lost while recording)", events,
				plural(events), lost);
		else
			pr_info("%llu event%s replayed (the recording has no final counts: written "
				"to a pipe, or its recorder was killed; losses unknown)",
				events, plural(events));
		return;
	}
	if (cfg->aggregate_only)
		/* nothing is sent: only misses are lost (below) */
		pr_info("%llu event%s, %llu lost (counted in the kernel, none sent to userspace)",
			kernel, plural(kernel), lost);
	else if (res->lazy)
		pr_info("%llu event%s, %llu lost (%llu of them sent to userspace: lazy tracking sends "
			"a socket's transitions once it has stayed in a state a while, as stuck ones "
			"do; the kernel counts them all)",
			kernel, plural(kernel), lost, events);
	else
		pr_info("%llu event%s, %llu lost", events, plural(events), lost);
	if (res->drops_tracked)
		pr_info("%llu TCP drop%s, %llu lost (ring buffer full), %llu missed (the drop program "
			"was busy on that CPU)",
			(unsigned long long)res->drops, plural(res->drops),
			(unsigned long long)res->drops_lost, (unsigned long long)res->drops_missed);
	ring = res->lost - (res->missed_unattributed ? 0 : res->missed);
	if (ring)
		pr_warn("%llu event%s lost (ring buffer full): try a larger --ringbuf-size; "
			"histograms and counts are still exact",
			ring, ring == 1 ? " was" : "s were");
	if (res->missed && res->missed_unattributed)
		pr_warn("%llu transition%s missed on this host (a softirq interrupted tcpfsm's BPF "
			"program on the same CPU, and BPF programs do not nest): the filters never "
			"saw them, so how many were this run's is unknown",
			(unsigned long long)res->missed, res->missed == 1 ? " was" : "s were");
	else if (res->missed)
		pr_warn("%llu transition%s missed (a softirq interrupted tcpfsm's BPF program on "
			"the same CPU, and BPF programs do not nest): not in any histogram or count "
			"either",
			(unsigned long long)res->missed, res->missed == 1 ? " was" : "s were");
}
