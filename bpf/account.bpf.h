/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The kernel-side histograms and transition counts: included by
 * tcpfsm.bpf.c only (uses its filter, hist_by and stat_inc). */
#ifndef TCPFSM_ACCOUNT_BPF_H
#define TCPFSM_ACCOUNT_BPF_H

/*
 * Time in each state, and every transition old -> new, per CPU and per
 * context level (0: task, 1: softirq). A primary updating them in task
 * context can be interrupted by its backup in softirq on the same CPU (see
 * "Why no transition is ever skipped"): with a slot per level the two never
 * write the same counter, so no update is lost without atomic operations.
 * Userspace adds the levels up.
 */
#define LEVELS 2

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LEVELS * TCPFSM_STATE_MAX);
	__type(key, __u32);
	__type(value, struct tcpfsm_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LEVELS * TCPFSM_STATE_MAX * TCPFSM_STATE_MAX);
	__type(key, __u32);
	__type(value, __u64);
} transitions SEC(".maps");

/* --by: one histogram pair (per level) per (state, key) up to max_entries
 * (set by userspace), the rest in hists_other by level and state */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, struct tcpfsm_hist_key);
	__type(value, struct tcpfsm_hist_levels);
} hists_by SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LEVELS * TCPFSM_STATE_MAX);
	__type(key, __u32);
	__type(value, struct tcpfsm_hist);
} hists_other SEC(".maps");

/* an all-zero histogram pair to insert from (too big for the BPF stack) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpfsm_hist_levels);
} hist_zero SEC(".maps");

static __always_inline void hist_add(struct tcpfsm_hist *h, __u64 d)
{
	__u64 b = tcpfsm_hist_bucket(d);

	/* one register for the check and the index: clang may otherwise
	 * check one copy and index with another, which Linux 6.1's verifier
	 * cannot relate */
	asm volatile("" : "+r"(b));
	if (b >= TCPFSM_HIST_BUCKETS)
		return;
	h->buckets[b]++;
	if (!h->count || d < h->min_ns)
		h->min_ns = d;
	if (d > h->max_ns)
		h->max_ns = d;
	h->count++;
	h->sum_ns += d;
}

/* The histogram of this event's old state under its --by key. */
static __always_inline struct tcpfsm_hist *hist_by_key(const struct tcpfsm_event *e, __u32 st,
						       __u32 level)
{
	struct tcpfsm_hist_key k = { .state = st };
	struct tcpfsm_hist_levels *hl;
	__u32 zero = 0, idx = level * TCPFSM_STATE_MAX + st;
	void *z;

	if (hist_by == TCPFSM_BY_LPORT)
		k.num = e->sport;
	else if (hist_by == TCPFSM_BY_RPORT)
		k.num = e->dport;
	else if (hist_by == TCPFSM_BY_CGROUP)
		k.num = e->cgroup_id;
	else if (hist_by == TCPFSM_BY_PORT)
		k.num = tcpfsm_service_port(e);
	else
		__builtin_memcpy(k.comm, e->comm, sizeof(k.comm));
	/* (the test hook: as if another CPU inserted the key between our
	 * lookup and our insert) */
	hl = test_hooks & TCPFSM_TEST_BY_RACE ? NULL : bpf_map_lookup_elem(&hists_by, &k);
	if (hl)
		return &hl->level[level & 1];
	z = bpf_map_lookup_elem(&hist_zero, &zero);
	if (z)
		bpf_map_update_elem(&hists_by, &k, z, BPF_NOEXIST);
	/* inserted, or another CPU did it first (-EEXIST): either way it is
	 * there now, unless the map is full */
	hl = bpf_map_lookup_elem(&hists_by, &k);
	if (hl)
		return &hl->level[level & 1];
	/* the map is full: the capped key set, the rest counted apart */
	stat_inc(TCPFSM_STAT_BY_OTHER);
	return bpf_map_lookup_elem(&hists_other, &idx);
}

/*
 * Histograms and the transition matrix: every event that passed the
 * filters, in the slots of its context level (0 task, 1 softirq).
 */
static __always_inline void account(const struct tcpfsm_event *e, __u32 level)
{
	__u32 st = e->oldstate, idx;
	struct tcpfsm_hist *h;
	__u64 *n;

	if (st >= TCPFSM_STATE_MAX || e->newstate >= TCPFSM_STATE_MAX || level >= LEVELS)
		return;
	/* a self-transition leaves nothing: no exit, no transition */
	if (st == e->newstate) {
		stat_inc(TCPFSM_STAT_SAME_STATE);
		return;
	}
	idx = (level * TCPFSM_STATE_MAX + st) * TCPFSM_STATE_MAX + e->newstate;
	n = bpf_map_lookup_elem(&transitions, &idx);
	if (n)
		(*n)++;
	/* births are no time spent in the old state: a child is a clone of its
	 * listener, a new socket's time in CLOSE (since socket()) is unknown */
	if ((st == TCPFSM_LISTEN && e->newstate == TCPFSM_SYN_RECV) ||
	    (st == TCPFSM_CLOSE && e->old_duration_ns == TCPFSM_DURATION_UNKNOWN))
		return;
	idx = level * TCPFSM_STATE_MAX + st;
	h = bpf_map_lookup_elem(&hists, &idx);
	if (!h)
		return;
	if (e->old_duration_ns == TCPFSM_DURATION_UNKNOWN) {
		h->unknown++;
	} else {
		hist_add(h, e->old_duration_ns);
	}
	if (hist_by == TCPFSM_BY_NONE)
		return;
	h = hist_by_key(e, st, level);
	if (!h)
		return;
	if (e->old_duration_ns == TCPFSM_DURATION_UNKNOWN)
		h->unknown++;
	else
		hist_add(h, e->old_duration_ns);
}

#endif /* TCPFSM_ACCOUNT_BPF_H */
