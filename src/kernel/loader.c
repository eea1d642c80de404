// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* open -> set read-only data -> load -> attach, with clear errors. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pure/histogram.h"
#include "kernel/loader.h"
#include "kernel/rings.h"
#include "sys/privs.h"
#include "sys/log.h"
#include "tcpfsm.skel.h"

_Static_assert(sizeof(struct tcpfsm_event) == 104, "event record size is part of the file format");

struct loader {
	struct tcpfsm_bpf *skel;
	struct rings *rings;	/* [0]: the shared ring, [1 + cpu] */
	uint64_t ring_bytes;	/* size of each per-CPU ring */
	int tmpl_fd;		/* inner map template, until loaded */
	/* 0: the state tracepoint, 1-2: softirq tracking, 3-6: evidence */
	struct bpf_link *links[7];
	struct bpf_link *iter;
	enum attach_mode mode;
	bool ctx_tracking;
	int ncpus;
};



static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!log_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

static uint64_t effective_caps(void)
{
	char line[256];
	uint64_t caps = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return ~0ULL; /* cannot tell: let the kernel decide */
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			caps = strtoull(line + 7, NULL, 16);
	fclose(f);
	return caps;
}

static int check_privileges(void)
{
	uint64_t caps = effective_caps();
	bool admin = caps & (1ULL << CAP_SYS_ADMIN_BIT);

	if ((admin || (caps & (1ULL << CAP_BPF_BIT))) &&
	    (admin || (caps & (1ULL << CAP_PERFMON_BIT))))
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
}

static void destroy_links(struct loader *ld)
{
	for (size_t i = 0; i < sizeof(ld->links) / sizeof(ld->links[0]); i++) {
		bpf_link__destroy(ld->links[i]);
		ld->links[i] = NULL;
	}
}

/* One attempt in one mode. Returns 0 or -errno (message printed if final). */
static int try_mode(struct loader *ld, const struct tcpfsm_config *cfg, enum attach_mode mode,
		    bool last)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = cfg->btf_path);
	const char *what = mode == ATTACH_TP_BTF ? "tp_btf" : "tracepoint";
	struct bpf_program *main_prog, *sirq_in, *sirq_out, *evidence[4];
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

	{
		/* each program exists in both flavours: load one set */
		/* the SYN/ACK retransmits of half-open requests: tp_btf only */
		struct bpf_program *btf[] = {
			skel->progs.handle_set_state_btf, skel->progs.softirq_entry_btf,
			skel->progs.softirq_exit_btf,	  skel->progs.rst_recv_btf,
			skel->progs.rst_sent_btf,	  skel->progs.retransmit_btf,
			skel->progs.retransmit_synack_btf,
		};
		struct bpf_program *tp[] = {
			skel->progs.handle_set_state_tp, skel->progs.softirq_entry_tp,
			skel->progs.softirq_exit_tp,	 skel->progs.rst_recv_tp,
			skel->progs.rst_sent_tp,	 skel->progs.retransmit_tp,
			NULL,
		};
		struct bpf_program **use = mode == ATTACH_TP_BTF ? btf : tp;
		struct bpf_program **skip = mode == ATTACH_TP_BTF ? tp : btf;

		for (i = 0; i < 7; i++)
			if (skip[i])
				bpf_program__set_autoload(skip[i], false);
		main_prog = use[0];
		sirq_in = use[1];
		sirq_out = use[2];
		for (i = 0; i < 4; i++)
			evidence[i] = use[3 + i];
	}
	if (mode == ATTACH_TP_BTF) {
		/* the fallback's preallocated hashes are not needed */
		bpf_map__set_autocreate(skel->maps.sk_infos_hash, false);
		bpf_map__set_autocreate(skel->maps.listeners, false);
	} else {
		bpf_map__set_autocreate(skel->maps.sk_infos, false);
		/* iter/tcp needs what tp_btf needs: no snapshot on this path */
		bpf_program__set_autoload(skel->progs.snapshot_tcp, false);
		/* nor lazy tracking: its sweep is that iterator */
		skel->rodata->lazy = false;
		err = ensure_tracefs();
		if (err)
			return err;
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
		else if (last)
			pr_err("loading the BPF programs (%s) failed: %s%s", what, strerror(-err),
			       log_verbose ? "" : " (-v shows libbpf's log)");
		else
			pr_debug("loading %s failed: %s", what, strerror(-err));
		return err;
	}

	/*
	 * Softirq tracking before the state tracepoint, so the first transition
	 * is attributed right; exit before entry, so a softirq running while we
	 * attach cannot leave its CPU flagged "in softirq" with no exit to clear
	 * it.
	 */
	if ((ld->links[2] = bpf_program__attach(sirq_out)) &&
	    (ld->links[1] = bpf_program__attach(sirq_in))) {
		skel->bss->ctx_tracking = true;
		ld->ctx_tracking = true;
	} else {
		pr_warn("softirq tracking could not attach (%s): owners are taken only at "
			"connect/listen/close",
			strerror(errno));
		bpf_link__destroy(ld->links[2]);
		ld->links[2] = NULL;
	}
	/* evidence for end reasons and diagnoses: useful, not essential */
	for (i = 0; i < 4 && evidence[i]; i++) {
		ld->links[3 + i] = bpf_program__attach(evidence[i]);
		if (!ld->links[3 + i])
			pr_warn("cannot attach %s (%s): end reasons will be less precise",
				bpf_program__name(evidence[i]), strerror(errno));
	}
	ld->links[0] = bpf_program__attach(main_prog);
	if (!ld->links[0]) {
		err = -errno;
		if (last)
			pr_err("attaching to sock:inet_sock_set_state (%s) failed: %s", what,
			       strerror(-err));
		else
			pr_debug("attaching %s failed: %s", what, strerror(-err));
		return err;
	}
	ld->mode = mode;
	return 0;
}

static void unload(struct loader *ld)
{
	destroy_links(ld);
	bpf_link__destroy(ld->iter);
	ld->iter = NULL;
	tcpfsm_bpf__destroy(ld->skel);
	ld->skel = NULL;
	ld->ctx_tracking = false;
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

	if (cfg->attach != ATTACH_TRACEPOINT) {
		err = try_mode(ld, cfg, ATTACH_TP_BTF, cfg->attach == ATTACH_TP_BTF);
		if (err && cfg->attach == ATTACH_AUTO) {
			unload(ld);
			pr_info("tp_btf unavailable (%s), using the classic tracepoint",
				strerror(-err));
		}
	}
	if (cfg->attach == ATTACH_TRACEPOINT || (err && cfg->attach == ATTACH_AUTO))
		err = try_mode(ld, cfg, ATTACH_TRACEPOINT, true);
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

int loader__read_hists(const struct loader *ld, struct hist_set *out)
{
	size_t hsz = sizeof(struct tcpfsm_hist);
	struct tcpfsm_hist *vals = calloc(ld->ncpus, hsz);
	uint64_t *cnt = calloc(ld->ncpus, sizeof(uint64_t)), stats[TCPFSM_STAT_MAX];
	struct tcpfsm_hist_key key, next, *prev = NULL;
	int err = -ENOMEM, fd;

	if (!vals || !cnt)
		goto cleanup;
	hist_set_reset(out);
	for (__u32 st = 0; st < TCPFSM_STATE_MAX; st++) {
		err = read_percpu(bpf_map__fd(ld->skel->maps.hists), &st, vals);
		if (err)
			goto cleanup;
		for (int c = 0; c < ld->ncpus; c++)
			hist_merge(&out->state[st], &vals[c]);
		err = read_percpu(bpf_map__fd(ld->skel->maps.hists_other), &st, vals);
		if (err)
			goto cleanup;
		for (int c = 0; c < ld->ncpus; c++)
			hist_merge(&out->other[st], &vals[c]);
	}
	for (__u32 i = 0; i < TCPFSM_STATE_MAX * TCPFSM_STATE_MAX; i++) {
		err = read_percpu(bpf_map__fd(ld->skel->maps.transitions), &i, cnt);
		if (err)
			goto cleanup;
		for (int c = 0; c < ld->ncpus; c++)
			out->transitions[i / TCPFSM_STATE_MAX][i % TCPFSM_STATE_MAX] += cnt[c];
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
				hist_merge(h, &vals[c]);
		}
	}
	err = loader__stats(ld, stats);
	out->by_other = stats[TCPFSM_STAT_BY_OTHER];
cleanup:
	free(vals);
	free(cnt);
	return err;
}

uint64_t loader__missed(const struct loader *ld)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	const struct bpf_program *p = ld->mode == ATTACH_TRACEPOINT ?
					      ld->skel->progs.handle_set_state_tp :
					      ld->skel->progs.handle_set_state_btf;

	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return 0;
	return info.recursion_misses;
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
