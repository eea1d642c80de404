// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* open -> set read-only data -> load -> attach, with clear errors. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "pure/histogram.h"
#include "kernel/loader.h"
#include "kernel/rings.h"
#include "kernel/snapshot.h"
#include "kernel/testhook.h"
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

/* CAP_BPF and CAP_PERFMON (Linux 5.8+), or CAP_SYS_ADMIN for both. */
static int check_privileges(void)
{
	uint64_t eff, prm;
	bool admin;

	if (privs_get(&eff, &prm))
		return 0; /* cannot tell: let the kernel decide */
	admin = eff & PRIV_BIT(PRIV_SYS_ADMIN);
	if ((admin || (eff & PRIV_BIT(PRIV_BPF))) && (admin || (eff & PRIV_BIT(PRIV_PERFMON))))
		return 0;
	pr_err("needs root, or the capabilities CAP_BPF and CAP_PERFMON: run it with sudo");
	return -EPERM;
}

static int check_kernel(const struct tcpfsm_config *cfg)
{
	if (cfg->btf_path) {
		if (access(cfg->btf_path, R_OK)) {
			int err = -errno;

			pr_err("cannot read BTF file %s: %s", cfg->btf_path, strerror(-err));
			return err;
		}
	} else if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("this kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing: built without "
		       "CONFIG_DEBUG_INFO_BTF); give the kernel's BTF with --btf FILE");
		return -ENOENT;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) <= 0) {
		pr_err("this kernel has no BPF ring buffer (needs Linux 5.8 or later)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * The classic tracepoint is attached through tracefs. When it is not mounted,
 * mount it in a private mount namespace of our own: nothing is left behind
 * on the host, whatever way we exit.
 */
static int ensure_tracefs(void)
{
	static const char *const probes[] = {
		"/sys/kernel/tracing/events/sock/inet_sock_set_state/id",
		"/sys/kernel/debug/tracing/events/sock/inet_sock_set_state/id",
	};

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (!access(probes[i], R_OK))
			return 0;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		int err = -errno;

		pr_err("tracefs is not mounted and mounting it failed (%s): "
		       "mount -t tracefs nodev /sys/kernel/tracing",
		       strerror(-err));
		return err;
	}
	pr_debug("mounted tracefs in a private mount namespace");
	return 0;
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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

/*
 * Whether this kernel lets the programs read the preempt count and its count
 * of softirq runs (CTX_PREEMPT_COUNT in the BPF code): per-CPU variables
 * read as typed ksyms. Their type is in vmlinux BTF, but the verifier takes
 * their address from kallsyms, which lists per-CPU variables only with
 * CONFIG_KALLSYMS_ALL. A two-instruction program referencing each tells,
 * as libbpf probes features, before the real load.
 */
static bool ksym_loads(const struct btf *vmlinux, const char *name)
{
	int id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_VAR), fd;
	struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_BTF_ID, .imm = id },
		{ 0 }, /* the second half: imm 0 is vmlinux's BTF */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	if (id <= 0)
		return false;
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "tcpfsm_ksym", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), NULL);
	if (fd < 0) {
		pr_debug("the preempt count cannot be read: %s is no usable ksym (%s)", name,
			 strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

static bool preempt_count_readable(const struct tcpfsm_config *cfg)
{
#if defined(__x86_64__)
	struct btf *vmlinux;
	bool ok;

	/* typed ksyms need the running kernel's own BTF */
	if (cfg->btf_path)
		return false;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return false;
	ok = (ksym_loads(vmlinux, "__preempt_count") || ksym_loads(vmlinux, "pcpu_hot")) &&
	     ksym_loads(vmlinux, "kstat");
	btf__free(vmlinux);
	return ok;
#else
	/* only x86's per-CPU layout is written (and tested) so far */
	return false;
#endif
}

static void plan_all(const struct tcpfsm_bpf *skel, enum attach_mode mode, bool preempt_count,
		     struct bpf_program *p[SLOT_MAX]);

/*
 * Whether this kernel allows tp_btf, asked before the real load (a failed
 * load is not retried another way): the tracepoint's BTF, as libbpf finds
 * it, and the helpers the state program calls from a tracing program
 * (socket storage: Linux 5.11), by loading one small program alone.
 */
static bool tp_btf_usable(const struct tcpfsm_config *cfg, const char **why)
{
	struct tcpfsm_bpf *skel;
	struct bpf_program *prog;
	struct bpf_map *map;
	bool ok;

	/* tp_btf is attached through the running kernel's own BTF */
	if (cfg->btf_path) {
		*why = "--btf names another BTF than the kernel's";
		return false;
	}
	if (libbpf_find_vmlinux_btf_id("inet_sock_set_state", BPF_TRACE_RAW_TP) < 0) {
		*why = "the kernel's BTF has no inet_sock_set_state tracepoint";
		return false;
	}
	skel = tcpfsm_bpf__open();
	if (!skel) {
		*why = "cannot open the BPF object";
		return false;
	}
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == skel->progs.probe_tp_btf);
	/* (global data too: libbpf binds .rodata to every program) */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_autocreate(map, map == skel->maps.sk_infos ||
						     bpf_map__is_internal(map));
	ok = !tcpfsm_bpf__load(skel);
	tcpfsm_bpf__destroy(skel);
	if (!ok)
		*why = "tracing programs cannot use socket storage (Linux 5.11+)";
	return ok;
}

/* Whether evidence tracepoint tcp:name exists for this attach path. */
static bool hook_exists(enum attach_mode mode, const char *name)
{
	char path[128];

	if (mode == ATTACH_TP_BTF)
		return libbpf_find_vmlinux_btf_id(name, BPF_TRACE_RAW_TP) >= 0;
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/tcp/%s/id", name);
	if (!access(path, R_OK))
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/tcp/%s/id", name);
	return !access(path, R_OK);
}

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
		if (!p[evidence[i].slot[0]] || hook_exists(mode, evidence[i].tp))
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
		err = ensure_tracefs();
		if (err)
			return err;
	}

	ld->preempt_count = mode == ATTACH_TP_BTF && preempt_count_readable(cfg);
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
	if (tp_btf_usable(cfg, &why))
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
	err = check_privileges();
	if (!err)
		err = check_kernel(cfg);
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
	ld->rings = rings__new(1 + ld->ncpus, boottime_ns, fn, ctx);
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

uint64_t loader__missed(const struct loader *ld)
{
	uint64_t missed = 0, covered[SLOT_MAX] = {}, *vals;
	int fd = bpf_map__fd(ld->skel->maps.backups);

	vals = calloc(ld->ncpus, sizeof(*vals));
	for (int i = 0; i < SLOT_MAX; i++) {
		__u32 pair = slot_kind[i].pair;
		int primary = slot_kind[i].primary;

		if (!ld->links[i] || primary < 0)
			continue;
		if (slot_kind[i].pair < 0) {
			/* a twin: it ran whenever its primary was skipped */
			covered[primary] = UINT64_MAX;
			continue;
		}
		if (vals && !bpf_map_lookup_elem(fd, &pair, vals))
			for (int c = 0; c < ld->ncpus; c++)
				covered[primary] += vals[c];
	}
	free(vals);
	/* a backup or twin is skipped only while it runs in task context,
	 * when its primary is not running: its skips are all covered */
	for (int i = 0; i < SLOT_MAX; i++) {
		uint64_t m;

		if (!ld->links[i] || slot_kind[i].primary >= 0)
			continue;
		m = recursion_misses(ld->progs[i]);
		if (m > covered[i])
			missed += m - covered[i];
	}
	return missed;
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
		boottime_ns() > track_after_ns ? boottime_ns() - track_after_ns : 0;
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
