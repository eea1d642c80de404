/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Execution context and the program pairs: included by tcpfsm.bpf.c only. */
#ifndef TCPFSM_CONTEXT_BPF_H
#define TCPFSM_CONTEXT_BPF_H

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
 * CTX_PREEMPT_COUNT (x86). The preempt count is a per-CPU variable whose
 * name changed: __preempt_count (before 6.2 and since 6.15), then
 * pcpu_hot.preempt_count (6.2 to 6.14). A ksym the running kernel lacks
 * would make libbpf search module BTFs, which needs CAP_SYS_ADMIN and so
 * fails the whole load for a user with CAP_BPF and CAP_PERFMON only; so the
 * programs name only per-CPU variables every x86 kernel has: this_cpu_off
 * (this CPU's per-CPU base) and kstat (kstat.softirqs[] counts each
 * softirq handler run before it starts). Userspace finds where the preempt
 * count lives (its per-CPU offset, from kallsyms and BTF) and loads these
 * programs only after checking that the verifier can resolve the ksyms
 * (their address comes from kallsyms: CONFIG_KALLSYMS_ALL).
 */
const volatile __u64 preempt_count_off = 0;

#if defined(__TARGET_ARCH_x86)
extern unsigned long this_cpu_off __ksym __weak;
extern struct kernel_stat kstat __ksym __weak;
#endif

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
	unsigned long base;

	if (!preempt_count_off || !ksym_exists(this_cpu_off))
		return false;
	base = *(unsigned long *)bpf_this_cpu_ptr(&this_cpu_off);
	return !bpf_probe_read_kernel(pc, sizeof(*pc), (void *)(base + preempt_count_off));
#else
	return false;
#endif
}

/* The number of softirq handler runs on this CPU so far. */
static __always_inline __u64 softirq_runs(void)
{
	__u64 sum = 0;
#if defined(__TARGET_ARCH_x86)
	struct kernel_stat *ks;
	__u32 n = bpf_core_field_size(struct kernel_stat, softirqs) / sizeof(unsigned int);

	if (!ksym_exists(kstat))
		return 0;
	ks = bpf_this_cpu_ptr(&kstat);
	for (__u32 i = 0; i < 16; i++) {
		if (i >= n)
			break;
		sum += ks->softirqs[i];
	}
#endif
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

#endif /* TCPFSM_CONTEXT_BPF_H */
