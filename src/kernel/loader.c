// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* open -> set read-only data -> load -> attach, with clear errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pure/histogram.h"
#include "kernel/loader.h"
#include "kernel/probe.h"
#include "kernel/rings.h"
#include "kernel/snapshot.h"
#include "kernel/testhook.h"
#include "sys/clock.h"
#include "sys/privs.h"
#include "sys/log.h"
#include "tcpfsm.skel.h"

_Static_assert(sizeof(struct tcpfsm_event) == 104, "event record size is part of the file format");

/*
 * The programs of one attach path, in the order they are attached: softirq
 * tracking first (exit before entry, so that a softirq running while we
 * attach cannot leave its CPU flagged "in softirq" with no exit to clear it),
 * evidence next, the state tracepoint last, so its first transition is
 * attributed right; each primary before its backup or twin (a tracepoint
 * calls its probes in attach order, which the pairs rely on: see the BPF
 * side's "Why no transition is ever skipped").
 */
enum slot {
	SLOT_SIRQ_EXIT,
	SLOT_SIRQ_ENTRY,
	SLOT_RST_RECV,
	SLOT_RST_RECV_TWIN,
	SLOT_RST_SENT,
	SLOT_RST_SENT_TWIN,
	SLOT_RETRANS,
	SLOT_RETRANS_BAK,
	SLOT_SYNACK,
	SLOT_SYNACK_BAK,
	SLOT_STATE,
	SLOT_STATE_BAK,
	SLOT_MAX,
};

/* A backup's or twin's primary, and a stamped pair's index in `backups`. */
static const struct {
	int8_t primary;	/* for a backup or twin, else -1 */
	int8_t pair;	/* TCPFSM_PAIR_*, for a stamped pair's backup, else -1 */
} slot_kind[SLOT_MAX] = {
	[SLOT_SIRQ_EXIT] = { -1, -1 },
	[SLOT_SIRQ_ENTRY] = { -1, -1 },
	[SLOT_RST_RECV] = { -1, -1 },
	[SLOT_RST_RECV_TWIN] = { SLOT_RST_RECV, -1 },
	[SLOT_RST_SENT] = { -1, -1 },
	[SLOT_RST_SENT_TWIN] = { SLOT_RST_SENT, -1 },
	[SLOT_RETRANS] = { -1, -1 },
	[SLOT_RETRANS_BAK] = { SLOT_RETRANS, TCPFSM_PAIR_RETRANS },
	[SLOT_SYNACK] = { -1, -1 },
	[SLOT_SYNACK_BAK] = { SLOT_SYNACK, TCPFSM_PAIR_SYNACK },
	[SLOT_STATE] = { -1, -1 },
	[SLOT_STATE_BAK] = { SLOT_STATE, TCPFSM_PAIR_STATE },
};

struct loader {
	struct tcpfsm_bpf *skel;
	struct rings *rings;	/* [0]: the shared ring, [1 + cpu] */
	uint64_t ring_bytes;	/* size of each per-CPU ring */
	int tmpl_fd;		/* inner map template, until loaded */
	struct bpf_program *progs[SLOT_MAX];	/* what this attach path runs */
	struct bpf_link *links[SLOT_MAX];
	/* what was attached: kept after loader__detach, for loader__missed */
	bool attached[SLOT_MAX];
	struct bpf_link *iter;
	enum attach_mode mode;
	bool ctx_tracking;
	bool preempt_count;	/* context told by the preempt count */
	int ncpus;
};



static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!log_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void set_filters(struct tcpfsm_bpf *skel, const struct tcpfsm_config *cfg)
{
	struct tcpfsm_bpf__rodata *ro = skel->rodata;

	ro->filter = cfg->kf;
	/* a batch is 1/16 of the ring: a wakeup per ~10k events at 16M */
	ro->wakeup_bytes = cfg->ringbuf_bytes / 16;
	ro->percpu_rings = true;
	ro->emit_events = !cfg->aggregate_only;
	/* its sweep enters every namespace: setns needs CAP_SYS_ADMIN */
	ro->lazy = cfg->lazy && !cfg->aggregate_only;
	if (ro->lazy && !privs_permitted(PRIV_BIT(PRIV_SYS_ADMIN))) {
		pr_debug("no CAP_SYS_ADMIN to enter network namespaces: every event goes to "
			 "userspace (no lazy tracking)");
		ro->lazy = false;
	}
	ro->hist_by = cfg->by;
	if (test_hook("by_race"))
		ro->test_hooks |= TCPFSM_TEST_BY_RACE;
}

static void destroy_links(struct loader *ld)
{
	for (size_t i = 0; i < sizeof(ld->links) / sizeof(ld->links[0]); i++) {
		bpf_link__destroy(ld->links[i]);
		ld->links[i] = NULL;
	}
}

static void plan_all(const struct tcpfsm_bpf *skel, enum attach_mode mode, bool preempt_count,
		     struct bpf_program *p[SLOT_MAX]);

/* The programs of attach path mode, by slot (NULL: none there; an evidence
 * tracepoint this kernel lacks has none). */
static void plan_programs(const struct tcpfsm_bpf *skel, enum attach_mode mode,
			  bool preempt_count, struct bpf_program *p[SLOT_MAX])
{
	static const struct {
		int slot[2];
		const char *tp;
	} evidence[] = {
		{ { SLOT_RST_RECV, SLOT_RST_RECV_TWIN }, "tcp_receive_reset" },
		{ { SLOT_RST_SENT, SLOT_RST_SENT_TWIN }, "tcp_send_reset" },
		{ { SLOT_RETRANS, SLOT_RETRANS_BAK }, "tcp_retransmit_skb" },
		{ { SLOT_SYNACK, SLOT_SYNACK_BAK }, "tcp_retransmit_synack" },
	};

	plan_all(skel, mode, preempt_count, p);
	for (size_t i = 0; i < sizeof(evidence) / sizeof(evidence[0]); i++) {
		if (!p[evidence[i].slot[0]] || probe_hook(mode, evidence[i].tp))
			continue;
		pr_debug("no tcp:%s tracepoint here: end reasons will be less precise",
			 evidence[i].tp);
		p[evidence[i].slot[0]] = p[evidence[i].slot[1]] = NULL;
	}
}

/* Every program attach path mode would run, by slot (NULL: none there). */
static void plan_all(const struct tcpfsm_bpf *skel, enum attach_mode mode, bool preempt_count,
		     struct bpf_program *p[SLOT_MAX])
{
	memset(p, 0, SLOT_MAX * sizeof(*p));
	if (mode == ATTACH_TRACEPOINT) {
		/* one global guard for every perf-event program: no pairs here */
		p[SLOT_SIRQ_EXIT] = skel->progs.softirq_exit_tp;
		p[SLOT_SIRQ_ENTRY] = skel->progs.softirq_entry_tp;
		p[SLOT_RST_RECV] = skel->progs.rst_recv_tp;
		p[SLOT_RST_SENT] = skel->progs.rst_sent_tp;
		p[SLOT_RETRANS] = skel->progs.retransmit_tp;
		p[SLOT_STATE] = skel->progs.state_tp;
		return;
	}
	p[SLOT_RST_RECV] = skel->progs.rst_recv_btf;
	p[SLOT_RST_RECV_TWIN] = skel->progs.rst_recv_twin;
	p[SLOT_RST_SENT] = skel->progs.rst_sent_btf;
	p[SLOT_RST_SENT_TWIN] = skel->progs.rst_sent_twin;
	if (preempt_count) {
		/* nothing runs for softirqs */
		p[SLOT_RETRANS] = skel->progs.retrans_pc;
		p[SLOT_RETRANS_BAK] = skel->progs.retrans_pc_bak;
		p[SLOT_SYNACK] = skel->progs.synack_pc;
		p[SLOT_SYNACK_BAK] = skel->progs.synack_pc_bak;
		p[SLOT_STATE] = skel->progs.state_pc;
		p[SLOT_STATE_BAK] = skel->progs.state_pc_bak;
		return;
	}
	p[SLOT_SIRQ_EXIT] = skel->progs.softirq_exit_btf;
	p[SLOT_SIRQ_ENTRY] = skel->progs.softirq_entry_btf;
	p[SLOT_RETRANS] = skel->progs.retrans_sirq;
	p[SLOT_RETRANS_BAK] = skel->progs.retrans_sirq_bak;
	p[SLOT_SYNACK] = skel->progs.synack_sirq;
	p[SLOT_SYNACK_BAK] = skel->progs.synack_sirq_bak;
	p[SLOT_STATE] = skel->progs.state_sirq;
	p[SLOT_STATE_BAK] = skel->progs.state_sirq_bak;
}

/*
 * Wait until every softirq handler run that began before now has ended: an
 * RCU grace period (membarrier's global command is synchronize_rcu()) waits
 * for every BH-disabled section, and a softirq handler runs in one. So none
 * that started before the softirq programs were attached (unseen by them)
 * is still running when the state programs are attached.
 */
static void wait_softirq_runs(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(20 * 1000); /* nohz_full refuses it: a softirq run is far shorter */
}

/* Attach the planned programs in slot order. 0 or -errno (message printed). */
static int attach_programs(struct loader *ld, const char *what)
{
	struct bpf_program **p = ld->progs;
	int err;

	if (ld->preempt_count) {
		ld->ctx_tracking = true;
		pr_debug("softirq told from task context by the preempt count (per-CPU ksyms): "
			 "no softirq programs");
	} else if (p[SLOT_SIRQ_EXIT] &&
		   (ld->links[SLOT_SIRQ_EXIT] = bpf_program__attach(p[SLOT_SIRQ_EXIT])) &&
	    (ld->links[SLOT_SIRQ_ENTRY] = bpf_program__attach(p[SLOT_SIRQ_ENTRY]))) {
		ld->skel->bss->ctx_tracking = true;
		ld->ctx_tracking = true;
		wait_softirq_runs();
		pr_debug("softirq told from task context by the softirq_entry/exit programs (%s)",
			 strcmp(what, "tp_btf") ? "the classic tracepoint's way" :
						  "the preempt count is not readable on this kernel");
	} else if (p[SLOT_SIRQ_EXIT]) {
		pr_warn("softirq tracking could not attach (%s): owners are taken only at "
			"connect/listen/close",
			strerror(errno));
		bpf_link__destroy(ld->links[SLOT_SIRQ_EXIT]);
		ld->links[SLOT_SIRQ_EXIT] = NULL;
	}
	for (int i = SLOT_RST_RECV; i < SLOT_MAX; i++) {
		int primary = slot_kind[i].primary;

		if (!p[i])
			continue;
		/* a stamped backup tells softirq from task context: without
		 * that it would never run; a twin needs its primary */
		if ((slot_kind[i].pair >= 0 && !ld->ctx_tracking) ||
		    (primary >= 0 && !ld->links[primary]))
			continue;
		ld->links[i] = bpf_program__attach(p[i]);
		if (ld->links[i])
			continue;
		err = -errno;
		if (i == SLOT_STATE) {
			pr_err("attaching to sock:inet_sock_set_state (%s) failed: %s", what,
			       strerror(-err));
			return err;
		}
		/* evidence for end reasons and diagnoses: useful, not essential;
		 * a missing backup only means misses are possible again */
		pr_warn("cannot attach %s (%s): %s", bpf_program__name(p[i]), strerror(-err),
			primary >= 0 ? "its primary can miss calls in softirq" :
				       "end reasons will be less precise");
	}
	for (int i = 0; i < SLOT_MAX; i++)
		ld->attached[i] = ld->links[i];
	return 0;
}

/* Open, configure, load and attach for attach path mode. 0 or -errno (message printed). */
static int load_mode(struct loader *ld, const struct tcpfsm_config *cfg, enum attach_mode mode)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = cfg->btf_path);
	const char *what = mode == ATTACH_TP_BTF ? "tp_btf" : "tracepoint";
	struct bpf_program *prog;
	struct tcpfsm_bpf *skel;
	int err, i;

	skel = tcpfsm_bpf__open_opts(&opts);
	if (!skel) {
		err = -errno;
		pr_err("opening the BPF object failed: %s", strerror(-err));
		return err;
	}
	ld->skel = skel;
	set_filters(skel, cfg);
	if (mode == ATTACH_TRACEPOINT) {
		/* before planning: which evidence tracepoints exist is read there */
		err = probe_tracefs();
		if (err)
			return err;
	}

	if (mode == ATTACH_TP_BTF)
		skel->rodata->preempt_count_off = probe_preempt_count(cfg);
	ld->preempt_count = skel->rodata->preempt_count_off != 0;
	plan_programs(skel, mode, ld->preempt_count, ld->progs);
	bpf_object__for_each_program(prog, skel->obj) {
		bool used = prog == skel->progs.snapshot_tcp;

		for (i = 0; i < SLOT_MAX; i++)
			used = used || prog == ld->progs[i];
		bpf_program__set_autoload(prog, used);
	}
	if (mode == ATTACH_TP_BTF) {
		/* the fallback's preallocated hashes are not needed */
		bpf_map__set_autocreate(skel->maps.sk_infos_hash, false);
		bpf_map__set_autocreate(skel->maps.listeners, false);
	} else {
		bpf_map__set_autocreate(skel->maps.sk_infos, false);
		bpf_map__set_autocreate(skel->maps.owners, false);
		/* iter/tcp needs what tp_btf needs: no snapshot on this path */
		bpf_program__set_autoload(skel->progs.snapshot_tcp, false);
		/* nor lazy tracking: its sweep is that iterator */
		skel->rodata->lazy = false;
	}
	if (cfg->by)
		bpf_map__set_max_entries(skel->maps.hists_by, cfg->by_limit);
	else /* a map cannot have 0 entries; 1 costs nothing */
		bpf_map__set_max_entries(skel->maps.hists_by, 1);
	/* per-CPU rings share the size asked for (each at least 256 KiB, a
	 * power of two); the shared one only takes what cannot go to them */
	ld->ring_bytes = cfg->ringbuf_bytes / ld->ncpus;
	while (ld->ring_bytes & (ld->ring_bytes - 1))
		ld->ring_bytes &= ld->ring_bytes - 1;
	if (ld->ring_bytes < 256 * 1024)
		ld->ring_bytes = 256 * 1024;
	skel->rodata->wakeup_bytes = ld->ring_bytes / 16;
	err = bpf_map__set_max_entries(skel->maps.events, 256 * 1024);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.cpu_events, ld->ncpus);
	if (!err) {
		/* the inner map template: a ring of the size we will create */
		int tmpl = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tcpfsm_rb_tmpl", 0, 0,
					  ld->ring_bytes, NULL);

		err = tmpl < 0 ? tmpl : bpf_map__set_inner_map_fd(skel->maps.cpu_events, tmpl);
		ld->tmpl_fd = tmpl;
	}
	if (err) {
		pr_err("bad ring buffer size: %s", strerror(-err));
		return err;
	}

	err = tcpfsm_bpf__load(skel);
	if (ld->tmpl_fd >= 0) {
		close(ld->tmpl_fd);
		ld->tmpl_fd = -1;
	}
	if (err) {
		if (err == -EPERM || err == -EACCES)
			pr_err("loading the BPF programs was refused (%s): needs root or CAP_BPF and "
			       "CAP_PERFMON%s",
			       strerror(-err), log_verbose ? "" : " (-v shows the verifier's log)");
		else
			pr_err("loading the BPF programs (%s) failed: %s%s", what, strerror(-err),
			       log_verbose ? "" : " (-v shows libbpf's log)");
		return err;
	}

	err = attach_programs(ld, what);
	if (err)
		return err;
	ld->mode = mode;
	return 0;
}

static void unload(struct loader *ld)
{
	destroy_links(ld);
	bpf_link__destroy(ld->iter);
	ld->iter = NULL;
	snapshot_owner_map(-1);
	tcpfsm_bpf__destroy(ld->skel);
	ld->skel = NULL;
	memset(ld->progs, 0, sizeof(ld->progs));
	memset(ld->attached, 0, sizeof(ld->attached));
	ld->ctx_tracking = false;
	ld->preempt_count = false;
}

/*
 * Sockets older than us have no owner in their kernel-side storage: the
 * owner pass gives them the one /proc knows, so that the children of a
 * server started before tcpfsm carry its pid and comm (tp_btf only: the
 * iterator). Only a stranded namespace walk is an error.
 */
static int adopt_owners(struct loader *ld, const struct tcpfsm_config *cfg)
{
	struct snapshot_stats st;
	int fd, err;

	if (ld->mode != ATTACH_TP_BTF)
		return 0;
	fd = loader__iter_fd(ld);
	if (fd < 0)
		return 0; /* said why */
	ld->skel->data->iter_what = TCPFSM_ITER_OWNERS;
	err = snapshot_adopt_owners(fd, cfg->kf.netns, cfg->kf.n_netns, &st);
	ld->skel->data->iter_what = TCPFSM_ITER_ALL;
	if (err == -ENOTRECOVERABLE)
		return err;
	if (err)
		pr_warn("the owners of sockets older than tcpfsm are unknown (%s): what they "
			"accept shows no owner",
			strerror(-err));
	return 0;
}

/* The attach path: asked for, or tp_btf where the kernel allows it. */
static enum attach_mode choose_mode(const struct tcpfsm_config *cfg)
{
	const char *why = NULL;

	if (cfg->attach == ATTACH_TRACEPOINT)
		return ATTACH_TRACEPOINT;
	if (probe_tp_btf(cfg, &why))
		return ATTACH_TP_BTF;
	if (cfg->attach == ATTACH_TP_BTF) {
		/* load_mode says why it fails */
		pr_debug("tp_btf is asked for but looks unusable: %s", why);
		return ATTACH_TP_BTF;
	}
	pr_info("tp_btf unavailable (%s), using the classic tracepoint", why);
	return ATTACH_TRACEPOINT;
}

struct loader *loader__new(const struct tcpfsm_config *cfg, loader_event_fn fn, void *ctx)
{
	struct loader *ld;
	int err;

	log_verbose = cfg->verbose;
	libbpf_set_print(libbpf_print);
	err = probe_privileges();
	if (!err)
		err = probe_kernel(cfg);
	if (err) {
		errno = -err;
		return NULL;
	}
	ld = calloc(1, sizeof(*ld));
	if (!ld)
		return NULL;
	ld->tmpl_fd = -1;
	ld->ncpus = libbpf_num_possible_cpus();
	if (ld->ncpus <= 0) {
		err = ld->ncpus ? ld->ncpus : -EINVAL;
		pr_err("cannot count CPUs: %s", strerror(-err));
		goto cleanup;
	}

	err = load_mode(ld, cfg, choose_mode(cfg));
	if (!err)
		err = adopt_owners(ld, cfg);
	if (err)
		goto cleanup;

	/* the BPF clock: bpf_ktime_get_boot_ns */
	ld->rings = rings__new(1 + ld->ncpus, clock_boot_ns, fn, ctx);
	if (!ld->rings) {
		err = -errno;
		goto cleanup;
	}
	err = rings__add(ld->rings, 0, dup(bpf_map__fd(ld->skel->maps.events)),
			 bpf_map__max_entries(ld->skel->maps.events));
	if (err) {
		pr_err("cannot map the ring buffer: %s", strerror(-err));
		goto cleanup;
	}
	for (int cpu = 0; cpu < ld->ncpus; cpu++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tcpfsm_cpu_rb", 0, 0, ld->ring_bytes,
					NULL);

		err = fd < 0 ? fd : rings__add(ld->rings, 1 + cpu, fd, ld->ring_bytes);
		/* fd is the rings' now: closed with them (or on failure) */
		if (!err &&
		    bpf_map_update_elem(bpf_map__fd(ld->skel->maps.cpu_events), &cpu, &fd, 0))
			err = -errno;
		if (err) {
			pr_err("cannot set up the ring buffer of CPU %d: %s", cpu, strerror(-err));
			goto cleanup;
		}
	}
	return ld;

cleanup:
	loader__free(ld);
	errno = -err;
	return NULL;
}

int loader__fd(const struct loader *ld)
{
	return rings__fd(ld->rings);
}

int loader__consume(struct loader *ld)
{
	return rings__consume(ld->rings);
}

void loader__detach(struct loader *ld)
{
	destroy_links(ld);
	/* nothing more can arrive: the next consume releases everything */
	rings__drain(ld->rings);
}

int loader__stats(const struct loader *ld, uint64_t stats[TCPFSM_STAT_MAX])
{
	uint64_t *vals;
	int fd = bpf_map__fd(ld->skel->maps.stats);

	vals = calloc(ld->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < TCPFSM_STAT_MAX; k++) {
		stats[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ld->ncpus; c++)
			stats[k] += vals[c];
	}
	free(vals);
	return 0;
}

/* One element of a per-CPU map: a value per possible CPU into vals. */
static int read_percpu(int fd, const void *key, void *vals)
{
	return bpf_map_lookup_elem(fd, key, vals) ? -errno : 0;
}

/* The kernel's per-level copies (see tcpfsm_hist_levels) of one slot. */
#define LEVELS 2

int loader__read_hists(const struct loader *ld, struct hist_set *out)
{
	size_t hsz = sizeof(struct tcpfsm_hist_levels);
	struct tcpfsm_hist_levels *vals = calloc(ld->ncpus, hsz);
	struct tcpfsm_hist *hv = (struct tcpfsm_hist *)vals;
	uint64_t *cnt = calloc(ld->ncpus, sizeof(uint64_t)), stats[TCPFSM_STAT_MAX];
	struct tcpfsm_hist_key key, next, *prev = NULL;
	int err = -ENOMEM, fd;

	if (!vals || !cnt)
		goto cleanup;
	hist_set_reset(out);
	for (__u32 i = 0; i < LEVELS * TCPFSM_STATE_MAX; i++) {
		__u32 st = i % TCPFSM_STATE_MAX;

		err = read_percpu(bpf_map__fd(ld->skel->maps.hists), &i, hv);
		if (err)
			goto cleanup;
		for (int c = 0; c < ld->ncpus; c++)
			hist_merge(&out->state[st], &hv[c]);
		err = read_percpu(bpf_map__fd(ld->skel->maps.hists_other), &i, hv);
		if (err)
			goto cleanup;
		for (int c = 0; c < ld->ncpus; c++)
			hist_merge(&out->other[st], &hv[c]);
	}
	for (__u32 i = 0; i < LEVELS * TCPFSM_STATE_MAX * TCPFSM_STATE_MAX; i++) {
		__u32 j = i % (TCPFSM_STATE_MAX * TCPFSM_STATE_MAX);

		err = read_percpu(bpf_map__fd(ld->skel->maps.transitions), &i, cnt);
		if (err)
			goto cleanup;
		for (int c = 0; c < ld->ncpus; c++)
			out->transitions[j / TCPFSM_STATE_MAX][j % TCPFSM_STATE_MAX] += cnt[c];
	}
	if (out->by) {
		fd = bpf_map__fd(ld->skel->maps.hists_by);
		while (!bpf_map_get_next_key(fd, prev, &next)) {
			struct tcpfsm_hist *h;

			key = next;
			prev = &key;
			if (bpf_map_lookup_elem(fd, &key, vals))
				continue; /* deleted meanwhile: never happens, keys stay */
			h = hist_set_keyed(out, &key, true);
			if (!h) {
				err = -ENOMEM;
				goto cleanup;
			}
			for (int c = 0; c < ld->ncpus; c++)
				for (int l = 0; l < LEVELS; l++)
					hist_merge(h, &vals[c].level[l]);
		}
	}
	err = loader__stats(ld, stats);
	out->by_other = stats[TCPFSM_STAT_BY_OTHER];
cleanup:
	free(vals);
	free(cnt);
	return err;
}

static uint64_t recursion_misses(const struct bpf_program *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return 0;
	return info.recursion_misses;
}

/*
 * Transitions the kernel skipped with no backup to take them: the state
 * program's recursion misses less the calls its backup handled. Read from
 * what was attached, so it holds after loader__detach (the exit summary).
 * The other programs' misses are no transitions: evidence and softirq
 * tracking (which only the classic tracepoint path can miss) are left out.
 */
uint64_t loader__missed(const struct loader *ld)
{
	uint64_t m, covered = 0, *vals;
	__u32 pair = slot_kind[SLOT_STATE_BAK].pair;
	int fd = bpf_map__fd(ld->skel->maps.backups);

	if (!ld->attached[SLOT_STATE])
		return 0;
	/* a backup is skipped only while it runs in task context, when its
	 * primary is not running: its own skips are all covered */
	if (ld->attached[SLOT_STATE_BAK]) {
		vals = calloc(ld->ncpus, sizeof(*vals));
		if (vals && !bpf_map_lookup_elem(fd, &pair, vals))
			for (int c = 0; c < ld->ncpus; c++)
				covered += vals[c];
		free(vals);
	}
	m = recursion_misses(ld->progs[SLOT_STATE]);
	return m > covered ? m - covered : 0;
}

int loader__map_fd(const struct loader *ld, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(ld->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

const char *loader__mode(const struct loader *ld)
{
	return ld->mode == ATTACH_TRACEPOINT ? "tracepoint" : "tp_btf";
}

int loader__iter_fd(struct loader *ld)
{
	if (ld->mode != ATTACH_TP_BTF)
		return -EOPNOTSUPP;
	if (!ld->iter) {
		ld->iter = bpf_program__attach_iter(ld->skel->progs.snapshot_tcp, NULL);
		if (!ld->iter) {
			int err = -errno;

			pr_err("cannot attach the iter/tcp snapshot program: %s", strerror(-err));
			return err;
		}
		snapshot_owner_map(bpf_map__fd(ld->skel->maps.owners));
	}
	return bpf_link__fd(ld->iter);
}

bool loader__lazy(const struct loader *ld)
{
	return ld->skel->rodata->lazy;
}

void loader__iter_what(struct loader *ld, uint32_t what, uint64_t track_after_ns)
{
	ld->skel->data->iter_what = what;
	/* one cut-off for the whole sweep, on the BPF clock (CLOCK_BOOTTIME) */
	ld->skel->bss->track_entered_by_ns =
		clock_boot_ns() > track_after_ns ? clock_boot_ns() - track_after_ns : 0;
	memset(ld->skel->bss->sweep_states, 0, sizeof(ld->skel->bss->sweep_states));
}

bool loader__netns_prune(struct loader *ld, bool (*known)(uint32_t ino), bool prune)
{
	int fd = bpf_map__fd(ld->skel->maps.netns_seen);
	uint32_t key, next, *prev = NULL;
	bool unknown = false;

	if (!ld->skel->rodata->lazy)
		return false;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (known(key))
			continue;
		unknown = true;
		if (prune) /* cannot be entered: stop asking (until it makes
			    * a socket again) */
			bpf_map_delete_elem(fd, &key);
	}
	return unknown;
}

void loader__sweep_states(const struct loader *ld, uint64_t states[TCPFSM_STATE_MAX])
{
	for (int s = 0; s < TCPFSM_STATE_MAX; s++)
		states[s] = ld->skel->bss->sweep_states[s];
}

bool loader__ctx_tracking(const struct loader *ld)
{
	return ld->ctx_tracking;
}

void loader__free(struct loader *ld)
{
	if (!ld)
		return;
	rings__free(ld->rings);
	unload(ld);
	free(ld);
}
