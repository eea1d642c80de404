// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpfsm: trace the kernel's TCP state machine.
 *
 * One program per attach type, sharing one inline core:
 *   - tp_btf/inet_sock_set_state (preferred): typed args, per-socket state
 *     in BPF_MAP_TYPE_SK_STORAGE (freed with the socket, no size cap), the
 *     cookie from bpf_get_socket_cookie();
 *   - tracepoint/sock/inet_sock_set_state (fallback): no sk_storage nor
 *     cookie helper there, so per-socket state lives in an LRU hash keyed by
 *     the socket address and the cookie is read from sk->skc_cookie.
 * Userspace enables exactly one of them before load.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
/* the filters live in read-only data: volatile, so the verifier sees the
 * values userspace set before load */
#define TCPFSM_FILTER_CONST const volatile
#include "tcpfsm.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define IPPROTO_TCP_NUM 6

/* Filters: set by userspace before load, so the verifier prunes what is off. */
const volatile struct tcpfsm_filter filter = {};
/* Wake userspace only once this much is waiting; the consumer's poll timeout
 * bounds the latency of a partial batch. */
const volatile __u64 wakeup_bytes = 256 * 1024;
/* Send events to userspace (off for aggregation only: hist, serve). */
const volatile bool emit_events = true;
/* Histograms by state and, with --by, by a second key. */
const volatile __u8 hist_by = TCPFSM_BY_NONE;

/* What the kernel remembers of each socket between two transitions. */
struct sk_info {
	__u64 cookie;	/* whose info this is: differs after a listener clone,
			 * 0 when only evidence was recorded so far */
	__u64 ts_ns;	/* time of the last transition, 0 = unknown */
	__u64 cgroup_id;
	__u32 pid;
	__u16 flags;	/* TCPFSM_F_OWNER | TCPFSM_F_OWNER_LISTENER | SKF_* */
	__u8 evidence;	/* TCPFSM_EV_* */
	__u8 state;	/* since ts_ns */
	__u32 syn_retrans;
	__u32 ino;	/* socket inode, once it has a file */
	char comm[TCPFSM_COMM_LEN];
};

/* sk_info.flags beyond the event's owner flags */
#define SKF_TRACKED 0x8000	/* lazy mode: userspace follows this socket */
#define SKF_BIRTH 0x4000	/* born with its listener's cookie: event deferred */

/*
 * Lazy tracking (watch, serve): a socket's transitions go to userspace only
 * once it is tracked, that is once a sweep (iter_track, every --sweep) has
 * found it in one state for track_after_ns, or when it predates us.
 * Connections that come and go between two sweeps, nearly all of them, cost
 * the in-kernel histograms and nothing else.
 */
const volatile bool lazy = false;
/* set by userspace before each sweep: track sockets that entered their
 * state at or before this time (CLOCK_BOOTTIME) */
__u64 track_entered_by_ns = 0;

/* lazy mode: the network namespaces sockets are made in, so that a sweep
 * enters a new one at once (userspace deletes what it cannot enter) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} netns_seen SEC(".maps");

/* BPF_F_CLONE: a passively opened child inherits its listener's owner. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct sk_info);
} sk_infos SEC(".maps");

/* Fallback only: per-socket info keyed by socket address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, struct sk_info);
} sk_infos_hash SEC(".maps");

/* Fallback only: owner of each listening port, for passive children. */
struct listen_key {
	__u32 netns;
	__u16 port;
	__u16 family;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct listen_key);
	__type(value, struct sk_info);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024); /* userspace may resize */
} events SEC(".maps");

/*
 * One ring buffer per CPU (userspace creates them): a single ring's lock and
 * cache lines are shared by all CPUs, and under a connection storm that
 * contention cost more than the rest of the program. Userspace merges the
 * rings back into time order. `events` stays the fallback.
 */
struct ringbuf_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024); /* userspace sets the size */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* userspace: the number of CPUs */
	__type(key, __u32);
	__array(values, struct ringbuf_inner);
} cpu_events SEC(".maps");

const volatile bool percpu_rings = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPFSM_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

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

/* Fallback cookies: unique per boot, marked so they never collide. */
__u64 synthetic_cookie_seq = 0;

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/*
 * Execution context. A transition that runs in softirq must not be blamed on
 * whatever task the softirq interrupted (ksoftirqd, swapper, or on loopback
 * the *peer* process), so each program asks which context it runs in. Two
 * ways to tell (userspace picks one, probing the kernel):
 *   - CTX_SOFTIRQ_PROGS: the softirq_entry/exit tracepoints keep a per-CPU
 *     flag and count the softirq handler runs. Works everywhere; costs two
 *     tiny runs per softirq handler run (not per packet: NET_RX handles a
 *     batch per run), whatever the host is doing;
 *   - CTX_PREEMPT_COUNT: the preempt count itself, and the kernel's own count
 *     of softirq handler runs (kstat), read as per-CPU typed ksyms: nothing
 *     runs while nothing transitions. Needs CONFIG_KALLSYMS_ALL (the verifier
 *     finds a ksym's address through kallsyms) and, for now, x86.
 *
 * Why no transition is ever skipped. The kernel does not run a BPF program
 * that is already running on the same CPU (prog->active): it counts a
 * recursion miss instead. inet_sock_set_state runs in two contexts only:
 * task (a system call, or the socket backlog that release_sock() processes)
 * and softirq (NET_RX for packets, TIMER and HRTIMER for TCP's timers). Never
 * in hardirq or NMI: TCP input runs from NAPI or the backlog in NET_RX, its
 * timers are timer_list or softirq-mode hrtimers, and the one network path
 * that runs in hardirq, netpoll, sends UDP only. A softirq can interrupt task
 * context (on the irq_exit of a hardirq that came while a program ran with
 * BHs enabled); nothing interrupts a softirq but a hardirq, which makes no
 * transition and runs no softirq on its way out (in_interrupt()). So a
 * program can be re-entered one level deep only: a transition in softirq
 * while it runs in task context on that CPU.
 *
 * Hence each hook that must not miss has two programs, a primary and a
 * backup, attached in that order (a tracepoint calls its probes in the order
 * they were attached). At task level at most one of the two is running at
 * any instant, and within one softirq handler run the task level is frozen:
 * the primary is skipped for every call of the run or for none. The primary
 * handles every call it gets, and in softirq stamps the run's number; the
 * backup handles a softirq call only when the primary did not stamp this
 * run. If the primary is skipped, it is the one running at task level: the
 * backup is not, runs, and finds no stamp. If the backup is skipped, the
 * primary ran. Exactly one of them handles each transition. (A stale stamp
 * could match only after 2^64 softirq handler runs, or on the preempt-count
 * path after 2^32 runs of every vector without one transition on this CPU.)
 * The classic tracepoint cannot have this: perf-event programs share one
 * per-CPU guard (bpf_prog_active), so there a nested call skips both.
 */
#define CTX_SOFTIRQ_PROGS 0
#define CTX_PREEMPT_COUNT 1

/* Which program of a pair (or none). */
#define ROLE_SOLO 0
#define ROLE_PRIMARY 1
#define ROLE_BACKUP 2

#define PAIR_STATE TCPFSM_PAIR_STATE
#define PAIR_RETRANS TCPFSM_PAIR_RETRANS
#define PAIR_SYNACK TCPFSM_PAIR_SYNACK
#define PAIR_MAX TCPFSM_PAIR_MAX

struct cpu_ctx {
	__u64 runs;		/* CTX_SOFTIRQ_PROGS: softirq handler runs on this CPU */
	__u32 in_softirq;	/* CTX_SOFTIRQ_PROGS: in one now */
	__u32 _pad;
	__u64 stamp[PAIR_MAX];	/* the last softirq run each primary handled a call in */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_ctx);
} cpu_ctxs SEC(".maps");

/* Calls each backup handled (its primary was skipped), per CPU: userspace
 * takes them off the primaries' recursion misses. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PAIR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} backups SEC(".maps");

/* CTX_SOFTIRQ_PROGS: set by userspace once the softirq programs are attached */
bool ctx_tracking = false;

static __always_inline struct cpu_ctx *this_cpu_ctx(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_ctxs, &zero);
}

static __always_inline int softirq_entry(void)
{
	struct cpu_ctx *c = this_cpu_ctx();

	if (c) {
		c->runs++;
		c->in_softirq = 1;
	}
	return 0;
}

static __always_inline int softirq_exit(void)
{
	struct cpu_ctx *c = this_cpu_ctx();

	if (c)
		c->in_softirq = 0;
	return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(softirq_entry_btf, unsigned int vec)
{
	return softirq_entry();
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(softirq_exit_btf, unsigned int vec)
{
	return softirq_exit();
}

SEC("tracepoint/irq/softirq_entry")
int softirq_entry_tp(void *ctx)
{
	return softirq_entry();
}

SEC("tracepoint/irq/softirq_exit")
int softirq_exit_tp(void *ctx)
{
	return softirq_exit();
}

/*
 * CTX_PREEMPT_COUNT. The preempt count is a per-CPU variable on x86:
 * __preempt_count (before 6.2 and since 6.15) or pcpu_hot.preempt_count
 * (6.2 to 6.14); weak, so whichever this kernel lacks resolves to 0.
 * kstat.softirqs[] counts each softirq handler run before it starts.
 * Userspace loads these programs only after checking that the verifier
 * can resolve the ksyms (it needs their address from kallsyms).
 */
extern int __preempt_count __ksym __weak;
struct pcpu_hot___tcpfsm {
	int preempt_count;
} __attribute__((preserve_access_index));
extern struct pcpu_hot___tcpfsm pcpu_hot __ksym __weak;
extern struct kernel_stat kstat __ksym __weak;

#define PC_SOFTIRQ_OFFSET 0x100	/* serving a softirq (bit 8) */
#define PC_HARDIRQ_MASK 0xf0000
#define PC_NMI_MASK 0xf00000

/* Whether the verifier sees a weak ksym resolved (libbpf 1.2's
 * bpf_ksym_exists(), which this libbpf lacks). */
#define ksym_exists(sym) (!!&(sym))

/* The preempt count in *pc, or false when it cannot be read. (x86 keeps
 * PREEMPT_NEED_RESCHED inverted in bit 31: the value is often negative.) */
static __always_inline bool preempt_count_now(__u32 *pc)
{
#if defined(__TARGET_ARCH_x86)
	if (ksym_exists(__preempt_count)) {
		*pc = *(__u32 *)bpf_this_cpu_ptr(&__preempt_count);
		return true;
	}
	if (ksym_exists(pcpu_hot)) {
		*pc = ((struct pcpu_hot___tcpfsm *)bpf_this_cpu_ptr(&pcpu_hot))->preempt_count;
		return true;
	}
#endif
	return false;
}

/* The number of softirq handler runs on this CPU so far. */
static __always_inline __u64 softirq_runs(void)
{
	struct kernel_stat *ks;
	__u32 n = bpf_core_field_size(struct kernel_stat, softirqs) / sizeof(unsigned int);
	__u64 sum = 0;

	if (!ksym_exists(kstat))
		return 0;
	ks = bpf_this_cpu_ptr(&kstat);
	for (__u32 i = 0; i < 16; i++) {
		if (i >= n)
			break;
		sum += ks->softirqs[i];
	}
	return sum;
}

struct exec_ctx {
	struct cpu_ctx *c;
	__u64 run;	/* in softirq: the number of this softirq handler run */
	int task;	/* 1 in task context, 0 in softirq, -1 cannot tell */
};

static __always_inline void exec_ctx(struct exec_ctx *x, const int method)
{
	__u32 pc;

	x->c = this_cpu_ctx();
	x->run = 0;
	x->task = -1;
	if (method == CTX_PREEMPT_COUNT) {
		if (!preempt_count_now(&pc))
			return;
		/* hardirq and NMI never carry a transition: told apart from
		 * task context all the same */
		x->task = !(pc & (PC_SOFTIRQ_OFFSET | PC_HARDIRQ_MASK | PC_NMI_MASK));
		if (!x->task)
			x->run = softirq_runs();
		return;
	}
	if (!ctx_tracking || !x->c)
		return;
	x->task = !x->c->in_softirq;
	x->run = x->c->runs;
}

/*
 * Whether this program of a pair handles this call (see above). The primary
 * stamps before anything else it does, so the backup's choice never depends
 * on how far the primary went.
 */
static __always_inline bool pair_turn(struct exec_ctx *x, const int pair, const int role)
{
	__u32 k = pair;
	__u64 *n;

	if (role == ROLE_SOLO)
		return true;
	if (pair < 0 || pair >= PAIR_MAX || !x->c)
		return role == ROLE_PRIMARY;
	if (role == ROLE_PRIMARY) {
		if (x->task == 0)
			x->c->stamp[pair] = x->run;
		return true;
	}
	if (x->task != 0 || x->c->stamp[pair] == x->run)
		return false;
	n = bpf_map_lookup_elem(&backups, &k);
	if (n)
		(*n)++;
	return true;
}

/* Transitions that only ever run inside the owner's own system call. */
static __always_inline bool syscall_transition(int old, int new)
{
	return (old == TCPFSM_CLOSE && (new == TCPFSM_SYN_SENT || new == TCPFSM_LISTEN)) ||
	       (old == TCPFSM_ESTABLISHED && new == TCPFSM_FIN_WAIT1) ||
	       (old == TCPFSM_CLOSE_WAIT && new == TCPFSM_LAST_ACK);
}

static __always_inline bool netns_passes(__u32 netns)
{
	return tcpfsm_netns_pass(&filter, netns);
}

static __always_inline bool ports_pass(const struct tcpfsm_event *e)
{
	return tcpfsm_ports_pass(&filter, e->sport, e->dport);
}

static __always_inline bool v4_mapped(const __u8 *a)
{
	__u64 lo;
	__u32 mid;

	__builtin_memcpy(&lo, a, 8);
	__builtin_memcpy(&mid, a + 8, 4);
	return lo == 0 && mid == bpf_htonl(0x0000ffff);
}

/* IPv6 sockets talking to IPv4 peers are shown as IPv4. */
static __always_inline void unmap_v4(struct tcpfsm_event *e)
{
	if (e->family != TCPFSM_AF_INET6 || !v4_mapped(e->daddr) || !v4_mapped(e->saddr))
		return;
	e->family = TCPFSM_AF_INET;
	__builtin_memcpy(e->saddr, e->saddr + 12, 4);
	__builtin_memcpy(e->daddr, e->daddr + 12, 4);
	__builtin_memset(e->saddr + 4, 0, 12);
	__builtin_memset(e->daddr + 4, 0, 12);
}

static __always_inline void set_owner(struct sk_info *info, __u32 flags)
{
	info->pid = bpf_get_current_pid_tgid() >> 32;
	info->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(info->comm, sizeof(info->comm));
	info->flags = flags | (info->flags & SKF_TRACKED);
}

/* To this CPU's ring (else the shared one), waking userspace per batch. */
static __always_inline long output(struct tcpfsm_event *e)
{
	__u32 cpu = bpf_get_smp_processor_id();
	void *rb = percpu_rings ? bpf_map_lookup_elem(&cpu_events, &cpu) : NULL;

	if (!rb)
		rb = &events;
	return bpf_ringbuf_output(rb, e, sizeof(*e),
				  bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) + sizeof(*e) >= wakeup_bytes ?
					  BPF_RB_FORCE_WAKEUP :
					  BPF_RB_NO_WAKEUP);
}

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
	else
		__builtin_memcpy(k.comm, e->comm, sizeof(k.comm));
	hl = bpf_map_lookup_elem(&hists_by, &k);
	if (hl)
		return &hl->level[level & 1];
	z = bpf_map_lookup_elem(&hist_zero, &zero);
	if (z && !bpf_map_update_elem(&hists_by, &k, z, BPF_NOEXIST)) {
		hl = bpf_map_lookup_elem(&hists_by, &k);
		if (hl)
			return &hl->level[level & 1];
	}
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

/*
 * The shared core: e already holds the identity and addresses; info is the
 * socket's storage (fresh: just created, all zero). Updates info, applies
 * the remaining filters and submits e.
 */
static __always_inline int finish(struct tcpfsm_event *e, struct sk_info *info, bool fresh,
				  const struct sk_info *listener, int ctx)
{
	__u64 now = e->ts_ns, born = 0;
	bool owner_here, birth = e->oldstate == TCPFSM_LISTEN && e->newstate == TCPFSM_SYN_RECV;

	if (info) {
		if (!info->cookie) {
			/* only evidence so far: a socket new to us */
			fresh = true;
		} else if (info->flags & SKF_BIRTH) {
			/* the first event with the child's own cookie: its
			 * birth, deferred, goes out first */
			info->flags &= ~SKF_BIRTH;
			born = info->ts_ns;
		} else if (info->cookie != e->cookie || birth) {
			/* cloned from the listener: a new passive child */
			info->ts_ns = 0;
			info->flags = (info->flags & TCPFSM_F_OWNER) ?
					      TCPFSM_F_OWNER | TCPFSM_F_OWNER_LISTENER : 0;
			info->evidence = 0;
			info->syn_retrans = 0;
			info->ino = 0; /* the listener's, not ours */
			/* Linux 6.1 (not 6.18) announces a child before it gives
			 * it a cookie of its own: the event has its listener's,
			 * so it waits for the child's next one */
			if (info->cookie == e->cookie)
				info->flags |= SKF_BIRTH;
		}
		if (fresh && listener && (listener->flags & TCPFSM_F_OWNER)) {
			info->pid = listener->pid;
			info->cgroup_id = listener->cgroup_id;
			__builtin_memcpy(info->comm, listener->comm, sizeof(info->comm));
			info->flags = TCPFSM_F_OWNER | TCPFSM_F_OWNER_LISTENER;
		}
		if (info->ts_ns)
			e->old_duration_ns = now - info->ts_ns;
		else if (fresh && e->oldstate != TCPFSM_CLOSE && e->oldstate != TCPFSM_LISTEN)
			/* neither a new socket nor a new child: it predates us */
			e->flags |= TCPFSM_F_PREEXISTING;
		info->cookie = e->cookie;
		/* a self-transition (close() after shutdown(): FIN_WAIT2 ->
		 * FIN_WAIT2) does not end the time in the state */
		if (e->oldstate != e->newstate)
			info->ts_ns = now;
		info->state = e->newstate;
		/* a socket older than us is tracked from its first transition
		 * (userspace may hold it from the startup snapshot); so is a
		 * listener's close, a new child's birth is not */
		if (lazy && (e->flags & TCPFSM_F_PREEXISTING ||
			     (fresh && e->oldstate == TCPFSM_LISTEN && e->newstate != TCPFSM_SYN_RECV)))
			info->flags |= SKF_TRACKED;

		/* these transitions never run in softirq: trust them even if
		 * the context flag were wrong */
		owner_here = ctx == 1 || syscall_transition(e->oldstate, e->newstate);
		if (owner_here)
			set_owner(info, TCPFSM_F_OWNER);
		e->evidence = info->evidence;
		e->syn_retrans = info->syn_retrans > 0xffff ? 0xffff : info->syn_retrans;
		e->ino = info->ino;
		if (info->flags & TCPFSM_F_OWNER) {
			e->pid = info->pid;
			e->cgroup_id = info->cgroup_id;
			__builtin_memcpy(e->comm, info->comm, sizeof(e->comm));
			e->flags |= info->flags & (TCPFSM_F_OWNER | TCPFSM_F_OWNER_LISTENER);
		}
	} else {
		stat_inc(TCPFSM_STAT_NOSTORAGE);
		if (ctx == 1 || syscall_transition(e->oldstate, e->newstate)) {
			e->pid = bpf_get_current_pid_tgid() >> 32;
			e->cgroup_id = bpf_get_current_cgroup_id();
			bpf_get_current_comm(e->comm, sizeof(e->comm));
			e->flags |= TCPFSM_F_OWNER;
		}
	}
	if (ctx == 0)
		e->flags |= TCPFSM_F_SOFTIRQ;
	if (e->oldstate == e->newstate)
		e->flags |= TCPFSM_F_SAME_STATE;
	if (info && e->newstate == TCPFSM_CLOSE) {
		/* a socket may connect again after CLOSE: start afresh */
		info->evidence = 0;
		info->syn_retrans = 0;
	}

	if (!ports_pass(e) || (filter.cgroup_id && e->cgroup_id != filter.cgroup_id))
		return 0;
	stat_inc(TCPFSM_STAT_EVENTS);
	/* counted before the ring buffer can refuse the event: exact */
	account(e, ctx == 0);
	if (!emit_events || (lazy && !(info && (info->flags & SKF_TRACKED))) ||
	    (birth && info && (info->flags & SKF_BIRTH)))
		return 0;
	if (born) {
		/* the deferred birth, with this event's cookie and ports */
		struct tcpfsm_event saved = *e;

		e->ts_ns = born;
		e->oldstate = TCPFSM_LISTEN;
		e->newstate = TCPFSM_SYN_RECV;
		e->old_duration_ns = TCPFSM_DURATION_UNKNOWN;
		e->flags &= ~TCPFSM_F_PREEXISTING;
		if (output(e))
			stat_inc(TCPFSM_STAT_LOST);
		*e = saved;
	}
	/*
	 * Built on the stack and copied (bpf_ringbuf_output), not reserved
	 * first: the socket's storage and the histograms must be updated even
	 * when the ring buffer is full.
	 */
	if (output(e))
		stat_inc(TCPFSM_STAT_LOST);
	return 0;
}


static __always_inline bool family_passes(__u16 family)
{
	return !filter.family || family == filter.family ||
	       /* an IPv6 socket may turn out v4-mapped: decided after unmapping */
	       family == TCPFSM_AF_INET6;
}

static __always_inline int on_set_state(const struct sock *sk, const int oldstate,
					const int newstate, const int role, const int method)
{
	struct tcpfsm_event ev = {}, *e = &ev;
	struct exec_ctx x;
	struct sk_info *info;
	__u16 family;
	__u32 netns;
	bool fresh;

	exec_ctx(&x, method);
	if (!pair_turn(&x, PAIR_STATE, role))
		return 0;
	if (sk->sk_protocol != IPPROTO_TCP_NUM)
		return 0;
	family = sk->__sk_common.skc_family;
	if (!family_passes(family))
		return 0;
	netns = sk->__sk_common.skc_net.net->ns.inum;
	if (!netns_passes(netns))
		return 0;

	e->old_duration_ns = TCPFSM_DURATION_UNKNOWN;
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cookie = bpf_get_socket_cookie((void *)sk);
	e->netns = netns;
	e->family = family;
	e->oldstate = oldstate;
	e->newstate = newstate;
	/* the local port; skc_num is already 0 when a connection is unhashed
	 * on its way to CLOSE, inet_sport (what the tracepoint shows) still
	 * has it: read only then */
	e->sport = sk->__sk_common.skc_num;
	if (!e->sport)
		e->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	e->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (family == TCPFSM_AF_INET) {
		__builtin_memcpy(e->saddr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(e->daddr, &sk->__sk_common.skc_daddr, 4);
	} else {
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		unmap_v4(e);
	}
	if (filter.family && e->family != filter.family)
		return 0;

	if (lazy && oldstate == TCPFSM_CLOSE && !bpf_map_lookup_elem(&netns_seen, &netns)) {
		__u8 one = 1;

		bpf_map_update_elem(&netns_seen, &netns, &one, BPF_ANY);
	}
	/* one call: storage made here is zeroed, and finish() takes a zero
	 * cookie for a socket new to us */
	info = bpf_sk_storage_get(&sk_infos, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	fresh = !info;
	/* the inode names the socket in /proc/PID/fd: read once it has a file
	 * (an accepted child gets one after its first transitions) */
	if (info && !info->ino && sk->sk_socket)
		info->ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	return finish(e, info, fresh, NULL, x.task);
}

#define STATE_PROG(name, role, method)                                                       \
	SEC("tp_btf/inet_sock_set_state")                                                    \
	int BPF_PROG(name, const struct sock *sk, const int oldstate, const int newstate)    \
	{                                                                                    \
		return on_set_state(sk, oldstate, newstate, role, method);                   \
	}

STATE_PROG(state_sirq, ROLE_PRIMARY, CTX_SOFTIRQ_PROGS)
STATE_PROG(state_sirq_bak, ROLE_BACKUP, CTX_SOFTIRQ_PROGS)
STATE_PROG(state_pc, ROLE_PRIMARY, CTX_PREEMPT_COUNT)
STATE_PROG(state_pc_bak, ROLE_BACKUP, CTX_PREEMPT_COUNT)

SEC("tracepoint/sock/inet_sock_set_state")
int state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	struct exec_ctx x;
	const struct sk_info *listener = NULL;
	struct sk_info zero = {}, *info;
	struct listen_key lk = {};
	struct tcpfsm_event ev = {}, *e = &ev;
	__u64 key = (__u64)sk;
	__u16 family;
	__u32 netns;
	bool fresh;

	if (ctx->protocol != IPPROTO_TCP_NUM)
		return 0;
	family = ctx->family;
	if (!family_passes(family))
		return 0;
	netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (!netns_passes(netns))
		return 0;

	e->old_duration_ns = TCPFSM_DURATION_UNKNOWN;
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->netns = netns;
	e->family = family;
	e->oldstate = ctx->oldstate;
	e->newstate = ctx->newstate;
	e->flags = TCPFSM_F_TRACEPOINT;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	if (family == TCPFSM_AF_INET) {
		__builtin_memcpy(e->saddr, ctx->saddr, 4);
		__builtin_memcpy(e->daddr, ctx->daddr, 4);
	} else {
		/* ctx may only be read at fixed offsets: copy the arrays */
		bpf_probe_read_kernel(e->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
		unmap_v4(e);
	}
	/* the tracepoint's sport is inet_sport; a bound-but-unconnected
	 * socket has only skc_num */
	if (!e->sport)
		e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (filter.family && e->family != filter.family)
		return 0;

	info = bpf_map_lookup_elem(&sk_infos_hash, &key);
	fresh = !info;
	if (!info) {
		bpf_map_update_elem(&sk_infos_hash, &key, &zero, BPF_NOEXIST);
		info = bpf_map_lookup_elem(&sk_infos_hash, &key);
	}
	/* one identity for the socket's whole life: the kernel generates its
	 * cookie lazily (the tcp tracepoints do), so keep the first we used */
	if (info && !fresh && info->cookie)
		e->cookie = info->cookie;
	else
		e->cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (!e->cookie)
		e->cookie = TCPFSM_COOKIE_SYNTHETIC | __sync_fetch_and_add(&synthetic_cookie_seq, 1);

	lk.netns = netns;
	lk.port = e->sport;
	lk.family = family;
	if (e->oldstate == TCPFSM_LISTEN && e->newstate == TCPFSM_SYN_RECV)
		listener = bpf_map_lookup_elem(&listeners, &lk);

	exec_ctx(&x, CTX_SOFTIRQ_PROGS);
	finish(e, info, fresh, listener, x.task);

	if (info && ctx->newstate == TCPFSM_LISTEN)
		bpf_map_update_elem(&listeners, &lk, info, BPF_ANY);
	else if (ctx->oldstate == TCPFSM_LISTEN && ctx->newstate == TCPFSM_CLOSE)
		bpf_map_delete_elem(&listeners, &lk);
	if (ctx->newstate == TCPFSM_CLOSE)
		bpf_map_delete_elem(&sk_infos_hash, &key);
	return 0;
}

/*
 * Evidence: what the kernel did to a socket, kept in its storage and carried
 * by its next transitions (history's end_reason, watch's diagnosis).
 */
static __always_inline struct sk_info *evidence_info(const struct sock *sk)
{
	if (!sk)
		return NULL;
	return bpf_sk_storage_get(&sk_infos, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
}

static __always_inline struct sk_info *evidence_info_tp(const void *skaddr)
{
	__u64 key = (__u64)skaddr;

	return skaddr ? bpf_map_lookup_elem(&sk_infos_hash, &key) : NULL;
}

static __always_inline int add_evidence(const struct sock *sk, __u8 bit)
{
	struct sk_info *info = evidence_info(sk);

	if (info)
		info->evidence |= bit;
	return 0;
}

/*
 * Resets can be seen in task context too (the socket backlog, an abortive
 * close), so these have a twin each like the pairs above; setting a bit is
 * idempotent, so both twins simply always do it: whichever is skipped, the
 * other one ran.
 */
SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(rst_recv_btf, struct sock *sk)
{
	return add_evidence(sk, TCPFSM_EV_RST_RECV);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(rst_recv_twin, struct sock *sk)
{
	return add_evidence(sk, TCPFSM_EV_RST_RECV);
}

/* sk is NULL for resets answering no socket, or a request/timewait sock
 * (no storage there: the helper refuses non-full sockets) */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(rst_sent_btf, const struct sock *sk)
{
	return add_evidence(sk, TCPFSM_EV_RST_SENT);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(rst_sent_twin, const struct sock *sk)
{
	return add_evidence(sk, TCPFSM_EV_RST_SENT);
}

/* Fill e's identity from a socket (full, request or timewait). */
static __always_inline void fill_identity(struct tcpfsm_event *e, const struct sock_common *skc)
{
	e->family = skc->skc_family;
	e->netns = skc->skc_net.net->ns.inum;
	e->sport = skc->skc_num;
	e->dport = bpf_ntohs(skc->skc_dport);
	if (e->family == TCPFSM_AF_INET) {
		__builtin_memcpy(e->saddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(e->daddr, &skc->skc_daddr, 4);
	} else {
		BPF_CORE_READ_INTO(&e->saddr, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, skc, skc_v6_daddr.in6_u.u6_addr8);
		unmap_v4(e);
	}
}

static __always_inline void copy_owner(struct tcpfsm_event *e, const struct sk_info *info)
{
	if (!info || !(info->flags & TCPFSM_F_OWNER))
		return;
	e->pid = info->pid;
	e->cgroup_id = info->cgroup_id;
	__builtin_memcpy(e->comm, info->comm, sizeof(e->comm));
	e->flags |= TCPFSM_F_OWNER;
}

/*
 * e (identity filled) as the record that starts userspace tracking a socket
 * (lazy mode): its state, the exact time it entered it, owner, evidence.
 */
static __always_inline void make_seed(struct tcpfsm_event *e, const struct sk_info *info)
{
	e->kind = TCPFSM_KIND_SNAPSHOT;
	e->flags = 0; /* not "at least": we know when it entered its state */
	e->ts_ns = info->ts_ns;
	e->cookie = info->cookie;
	e->old_duration_ns = TCPFSM_DURATION_UNKNOWN;
	e->oldstate = e->newstate = info->state;
	e->evidence = info->evidence;
	e->syn_retrans = info->syn_retrans > 0xffff ? 0xffff : info->syn_retrans;
	e->ino = info->ino;
	copy_owner(e, info);
}

static __always_inline void emit_evidence(struct tcpfsm_event *e)
{
	if (!emit_events || !netns_passes(e->netns) ||
	    (filter.family && e->family != filter.family) || !ports_pass(e))
		return;
	if (output(e))
		stat_inc(TCPFSM_STAT_LOST);
}

static __always_inline int on_retransmit(const struct sock *sk, const int role, const int method)
{
	struct tcpfsm_event e = {};
	struct exec_ctx x;
	struct sk_info *info;

	exec_ctx(&x, method);
	if (!pair_turn(&x, PAIR_RETRANS, role))
		return 0;
	if (!sk || sk->__sk_common.skc_state != TCPFSM_SYN_SENT)
		return 0;
	info = evidence_info(sk);
	if (!info)
		return 0;
	info->syn_retrans++;
	/* an ICMP error (unreachable, ...) is kept as a soft error meanwhile */
	if (sk->sk_err_soft)
		info->evidence |= TCPFSM_EV_ICMP;
	/* a stuck SYN_SENT makes no more transitions: tell userspace now */
	e.kind = TCPFSM_KIND_EVIDENCE;
	e.ts_ns = bpf_ktime_get_boot_ns();
	e.cookie = bpf_get_socket_cookie((void *)sk);
	e.old_duration_ns = info->ts_ns ? e.ts_ns - info->ts_ns : TCPFSM_DURATION_UNKNOWN;
	e.oldstate = e.newstate = TCPFSM_SYN_SENT;
	e.syn_retrans = info->syn_retrans > 0xffff ? 0xffff : info->syn_retrans;
	e.evidence = info->evidence;
	e.ino = info->ino;
	fill_identity(&e, &sk->__sk_common);
	copy_owner(&e, info);
	/* lazy mode: a SYN retransmit is the first sign of a stuck connect
	 * (at 1 s): track the socket now, not at the next sweep */
	if (lazy && info->ts_ns && !(info->flags & SKF_TRACKED) && netns_passes(e.netns) &&
	    (!filter.family || e.family == filter.family) && ports_pass(&e) &&
	    (!filter.cgroup_id || ((info->flags & TCPFSM_F_OWNER) && info->cgroup_id == filter.cgroup_id))) {
		struct tcpfsm_event seed = e;

		info->flags |= SKF_TRACKED;
		make_seed(&seed, info);
		if (output(&seed))
			stat_inc(TCPFSM_STAT_LOST);
	}
	emit_evidence(&e);
	return 0;
}

#define RETRANSMIT_PROG(name, role, method)                   \
	SEC("tp_btf/tcp_retransmit_skb")                      \
	int BPF_PROG(name, const struct sock *sk)             \
	{                                                     \
		return on_retransmit(sk, role, method);       \
	}

RETRANSMIT_PROG(retrans_sirq, ROLE_PRIMARY, CTX_SOFTIRQ_PROGS)
RETRANSMIT_PROG(retrans_sirq_bak, ROLE_BACKUP, CTX_SOFTIRQ_PROGS)
RETRANSMIT_PROG(retrans_pc, ROLE_PRIMARY, CTX_PREEMPT_COUNT)
RETRANSMIT_PROG(retrans_pc_bak, ROLE_BACKUP, CTX_PREEMPT_COUNT)

/* The request's age: tcp_rsk(req)->snt_synack is the first SYN/ACK's time
 * on the TCP clock (CLOCK_MONOTONIC, µs). */
static __always_inline __u64 request_age(const struct request_sock *req)
{
	__u64 first_us = BPF_CORE_READ((struct tcp_request_sock *)req, snt_synack);
	__u64 now = bpf_ktime_get_ns();

	if (!first_us || first_us * 1000 > now)
		return TCPFSM_DURATION_UNKNOWN;
	return now - first_us * 1000;
}

/* A half-open request (NEW_SYN_RECV) as an event; its owner is its
 * listener's (when we have a trusted pointer to it: not from the iterator,
 * where userspace finds the listener by port). */
static __always_inline void fill_request(struct tcpfsm_event *e, const struct request_sock *req,
					 const struct sock *listener)
{
	e->cookie = bpf_get_socket_cookie((void *)&req->__req_common);
	e->oldstate = e->newstate = TCPFSM_NEW_SYN_RECV;
	e->syn_retrans = req->num_retrans;
	e->old_duration_ns = request_age(req);
	fill_identity(e, &req->__req_common);
	if (listener)
		copy_owner(e, bpf_sk_storage_get(&sk_infos, (void *)listener, 0, 0));
}

static __always_inline int on_retransmit_synack(const struct sock *sk,
						const struct request_sock *req, const int role,
						const int method)
{
	struct tcpfsm_event e = {};
	struct exec_ctx x;

	exec_ctx(&x, method);
	if (!pair_turn(&x, PAIR_SYNACK, role) || !req)
		return 0;
	e.kind = TCPFSM_KIND_EVIDENCE;
	e.ts_ns = bpf_ktime_get_boot_ns();
	fill_request(&e, req, sk);
	emit_evidence(&e);
	return 0;
}

#define SYNACK_PROG(name, role, method)                                                      \
	SEC("tp_btf/tcp_retransmit_synack")                                                  \
	int BPF_PROG(name, const struct sock *sk, const struct request_sock *req)            \
	{                                                                                    \
		return on_retransmit_synack(sk, req, role, method);                          \
	}

SYNACK_PROG(synack_sirq, ROLE_PRIMARY, CTX_SOFTIRQ_PROGS)
SYNACK_PROG(synack_sirq_bak, ROLE_BACKUP, CTX_SOFTIRQ_PROGS)
SYNACK_PROG(synack_pc, ROLE_PRIMARY, CTX_PREEMPT_COUNT)
SYNACK_PROG(synack_pc_bak, ROLE_BACKUP, CTX_PREEMPT_COUNT)

SEC("tracepoint/tcp/tcp_receive_reset")
int rst_recv_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	struct sk_info *info = evidence_info_tp(ctx->skaddr);

	if (info)
		info->evidence |= TCPFSM_EV_RST_RECV;
	return 0;
}

/*
 * tcp_send_reset and tcp_retransmit_skb records begin alike on every kernel
 * we know (they were both of the tcp_event_sk_skb class until 6.x gave them
 * their own): read by this fixed layout, not by CO-RE against types an
 * older kernel does not have.
 */
struct tcp_sk_skb_record {
	__u64 common;
	const void *skbaddr;
	const void *skaddr;
	int state;
};

SEC("tracepoint/tcp/tcp_send_reset")
int rst_sent_tp(struct tcp_sk_skb_record *ctx)
{
	struct sk_info *info = evidence_info_tp(ctx->skaddr);

	if (info)
		info->evidence |= TCPFSM_EV_RST_SENT;
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int retransmit_tp(struct tcp_sk_skb_record *ctx)
{
	struct sk_info *info;

	if (ctx->state != TCPFSM_SYN_SENT)
		return 0;
	info = evidence_info_tp(ctx->skaddr);
	if (info)
		info->syn_retrans++;
	return 0;
}

/* What the next iterator run is for: set by userspace before each run. */
__u32 iter_what = TCPFSM_ITER_ALL;
/* TCPFSM_ITER_TRACK: sockets per state (filters applied), by the last run */
__u64 sweep_states[TCPFSM_STATE_MAX] = {};

static __always_inline void sweep_count(__u8 state)
{
	if (state < TCPFSM_STATE_MAX)
		sweep_states[state]++;
}

/*
 * The lazy-tracking sweep, for one socket (identity in e): count it by
 * state, and make it tracked if it has been in one state (not CLOSE) for
 * track_after_ns: one TCPFSM_KIND_SNAPSHOT record with that state, the
 * exact time it entered it (ts_ns), owner and evidence; its transitions
 * follow as events.
 */
static __always_inline void track_one(struct seq_file *seq, struct sock_common *skc, __u8 state,
				      const struct tcpfsm_event *e)
{
	struct tcpfsm_event seed;
	struct tcp_timewait_sock *tw;
	struct sk_info *info;
	struct tcp_sock *tp;
	__u64 cgroup;

	if (!netns_passes(e->netns) || (filter.family && e->family != filter.family) ||
	    !ports_pass(e))
		return;
	if (state == TCPFSM_TIME_WAIT || state == TCPFSM_NEW_SYN_RECV) {
		/* no owner there: counted unless a cgroup is asked for */
		if (filter.cgroup_id)
			return;
		if (state == TCPFSM_NEW_SYN_RECV) {
			state = TCPFSM_SYN_RECV;
		} else {
			tw = bpf_skc_to_tcp_timewait_sock(skc);
			if (tw && tw->tw_sk.tw_substate == TCPFSM_FIN_WAIT2)
				state = TCPFSM_FIN_WAIT2;
		}
		sweep_count(state);
		return;
	}
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return;
	info = bpf_sk_storage_get(&sk_infos, tp, 0, 0);
	if (filter.cgroup_id) {
		cgroup = info && (info->flags & TCPFSM_F_OWNER) ?
				 info->cgroup_id :
				 BPF_CORE_READ(&tp->inet_conn.icsk_inet.sk, sk_cgrp_data.cgroup, kn, id);
		if (cgroup != filter.cgroup_id)
			return;
	}
	sweep_count(state);
	if (!info || !info->cookie || !info->ts_ns || (info->flags & SKF_TRACKED) ||
	    state == TCPFSM_CLOSE || info->ts_ns > track_entered_by_ns)
		return;
	info->flags |= SKF_TRACKED;
	/* a transition racing with us that did not see the flag yet updated
	 * the storage first: read state and time only now */
	asm volatile("" ::: "memory");
	seed = *e;
	make_seed(&seed, info);
	if (!seed.ino && tp->inet_conn.icsk_inet.sk.sk_socket)
		seed.ino = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_socket, file, f_inode, i_ino);
	bpf_seq_write(seq, &seed, sizeof(seed));
}

/*
 * Every TCP socket of the iterator's network namespace, for what iter_what
 * asks: the startup snapshot (one TCPFSM_KIND_SNAPSHOT record each), the
 * half-open requests, the lazy-tracking sweep.
 */
SEC("iter/tcp")
int snapshot_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct tcpfsm_event e = {};
	struct tcp_timewait_sock *tw;
	struct tcp_sock *tp;
	__u8 state;

	if (!skc)
		return 0;
	state = skc->skc_state;
	if (!(iter_what & TCPFSM_ITER_ALL) &&
	    !((iter_what & TCPFSM_ITER_REQUESTS) && state == TCPFSM_NEW_SYN_RECV) &&
	    !(iter_what & TCPFSM_ITER_TRACK))
		return 0;
	fill_identity(&e, skc);
	if (iter_what & TCPFSM_ITER_TRACK)
		track_one(seq, skc, state, &e);
	if (!(iter_what & TCPFSM_ITER_ALL) &&
	    !((iter_what & TCPFSM_ITER_REQUESTS) && state == TCPFSM_NEW_SYN_RECV))
		return 0;
	e.kind = TCPFSM_KIND_SNAPSHOT;
	e.ts_ns = bpf_ktime_get_boot_ns();
	e.cookie = bpf_get_socket_cookie(skc);
	e.old_duration_ns = TCPFSM_DURATION_UNKNOWN;
	e.flags = TCPFSM_F_PREEXISTING;
	if (state == TCPFSM_NEW_SYN_RECV) {
		struct tcp_request_sock *treq = bpf_skc_to_tcp_request_sock(skc);

		if (treq) {
			fill_request(&e, &treq->req.req, NULL);
			e.flags |= TCPFSM_F_PREEXISTING;
		}
	} else if (state == TCPFSM_TIME_WAIT) {
		e.flags |= TCPFSM_F_TIMEWAIT;
		tw = bpf_skc_to_tcp_timewait_sock(skc);
		/* a timewait socket still waiting for the peer's FIN */
		if (tw && tw->tw_sk.tw_substate == TCPFSM_FIN_WAIT2)
			state = TCPFSM_FIN_WAIT2;
	} else {
		tp = bpf_skc_to_tcp_sock(skc);
		if (tp) {
			struct socket *sock = tp->inet_conn.icsk_inet.sk.sk_socket;

			if (sock)
				e.ino = BPF_CORE_READ(sock, file, f_inode, i_ino);
			e.cgroup_id = BPF_CORE_READ(&tp->inet_conn.icsk_inet.sk,
						    sk_cgrp_data.cgroup, kn, id);
		}
	}
	e.oldstate = e.newstate = state;
	bpf_seq_write(seq, &e, sizeof(e));
	return 0;
}
