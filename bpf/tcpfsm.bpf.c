// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpfsm: trace the kernel's TCP state machine.
 *
 * Two attach paths, sharing one core (finish()):
 *   - tp_btf/inet_sock_set_state (preferred): typed args, per-socket state
 *     in BPF_MAP_TYPE_SK_STORAGE (freed with the socket, no size cap), the
 *     cookie from bpf_get_socket_cookie(); each hook has a primary and a
 *     backup program, so that none is ever skipped (context.bpf.h), in two
 *     flavours by how the execution context is told;
 *   - tracepoint/sock/inet_sock_set_state (fallback): no sk_storage nor
 *     cookie helper there, so per-socket state lives in an LRU hash keyed by
 *     the socket address and the cookie is read from sk->skc_cookie.
 * Userspace loads one path's programs (loader.c: plan_programs).
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
#define SOCK_BINDPORT_LOCK_FLAG 8	/* include/net/sock.h SOCK_BINDPORT_LOCK */

/* Filters: set by userspace before load, so the verifier prunes what is off. */
const volatile struct tcpfsm_filter filter = {};
/* Wake userspace only once this much is waiting; the consumer's poll timeout
 * bounds the latency of a partial batch. */
const volatile __u64 wakeup_bytes = 256 * 1024;
/* Send events to userspace (off for aggregation only: hist, serve). */
const volatile bool emit_events = true;
/* Histograms by state and, with --by, by a second key. */
const volatile __u8 hist_by = TCPFSM_BY_NONE;
/* Tests only (TCPFSM_TEST_*, from $TCPFSM_TEST_HOOKS): 0 in real runs,
 * where the verifier drops what they guard. */
const volatile __u32 test_hooks = 0;

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
#define SKF_PASSIVE 0x2000	/* accepted, or a listener: TCPFSM_F_PASSIVE */

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

/* Fallback cookies: unique per boot, marked so they never collide. */
__u64 synthetic_cookie_seq = 0;

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

#include "context.bpf.h"

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

/* The current task owns the socket (SKF_* bits kept). */
static __always_inline void set_owner(struct sk_info *info)
{
	info->pid = bpf_get_current_pid_tgid() >> 32;
	info->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(info->comm, sizeof(info->comm));
	info->flags = (info->flags & ~(TCPFSM_F_OWNER | TCPFSM_F_OWNER_LISTENER)) | TCPFSM_F_OWNER;
}

/* The filters that need only e's identity: netns, family, ports. */
static __always_inline bool identity_passes(const struct tcpfsm_event *e)
{
	return netns_passes(e->netns) && (!filter.family || e->family == filter.family) &&
	       ports_pass(e);
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
	e->flags |= info->flags & (TCPFSM_F_OWNER | TCPFSM_F_OWNER_LISTENER);
}

/* What the socket's storage tells about it: evidence, SYN retransmits
 * (clamped to the record's 16 bits), inode, owner. */
static __always_inline void copy_socket(struct tcpfsm_event *e, const struct sk_info *info)
{
	e->evidence = info->evidence;
	e->syn_retrans = info->syn_retrans > 0xffff ? 0xffff : info->syn_retrans;
	e->ino = info->ino;
	if (info->flags & SKF_PASSIVE)
		e->flags |= TCPFSM_F_PASSIVE;
	copy_owner(e, info);
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

#include "account.bpf.h"

static __always_inline bool is_birth(const struct tcpfsm_event *e)
{
	return e->oldstate == TCPFSM_LISTEN && e->newstate == TCPFSM_SYN_RECV;
}

/* How this transition's socket relates to what its storage holds. */
enum sk_news {
	SK_KNOWN,	/* a socket we follow */
	SK_NEW,		/* new to us: just created, or only evidence seen so far */
	SK_CHILD,	/* a passive child, cloned from its listener's storage */
	SK_BORN,	/* Linux 6.1: a child's first event with its own cookie */
};

static __always_inline int sk_news(const struct sk_info *info, const struct tcpfsm_event *e)
{
	if (info->flags & SKF_BIRTH)
		return SK_BORN;
	/* (a listener older than us may have storage without a cookie: the
	 * owner the startup snapshot gave it, which its children inherit) */
	if (is_birth(e) || (info->cookie && info->cookie != e->cookie))
		return SK_CHILD;
	if (!info->cookie)
		return SK_NEW;
	return SK_KNOWN;
}

/* A passive child starts with a copy of its listener's storage
 * (BPF_F_CLONE): it keeps the owner, nothing else. */
static __always_inline void child_reset(struct sk_info *info, const struct tcpfsm_event *e)
{
	info->ts_ns = 0;
	info->flags = (info->flags & TCPFSM_F_OWNER) ? TCPFSM_F_OWNER | TCPFSM_F_OWNER_LISTENER : 0;
	info->evidence = 0;
	info->syn_retrans = 0;
	info->ino = 0; /* the listener's, not ours */
	info->flags |= SKF_PASSIVE;
	/* Linux 6.1 (not 6.18) announces a child before it gives it a cookie
	 * of its own: the event has its listener's, so it waits for the
	 * child's next one */
	if (info->cookie == e->cookie)
		info->flags |= SKF_BIRTH;
}

/* The classic path has no storage to clone: a new child takes the owner of
 * its listener (from the listeners map, looked up for births only). */
static __always_inline void inherit_owner(struct sk_info *info, const struct sk_info *listener)
{
	if (!listener || !(listener->flags & TCPFSM_F_OWNER))
		return;
	info->pid = listener->pid;
	info->cgroup_id = listener->cgroup_id;
	__builtin_memcpy(info->comm, listener->comm, sizeof(info->comm));
	info->flags = TCPFSM_F_OWNER | TCPFSM_F_OWNER_LISTENER;
}

/*
 * The time spent in the old state, and the storage after this transition:
 * the socket's state since now (a self-transition, close() after
 * shutdown() in FIN_WAIT2, does not end the time in the state), and in
 * lazy mode whether userspace follows it from now on.
 */
static __always_inline void note_transition(struct sk_info *info, struct tcpfsm_event *e,
					    bool fresh)
{
	if (info->ts_ns)
		e->old_duration_ns = e->ts_ns - info->ts_ns;
	else if (fresh && e->oldstate != TCPFSM_CLOSE && e->oldstate != TCPFSM_LISTEN)
		/* neither a new socket nor a new child: it predates us */
		e->flags |= TCPFSM_F_PREEXISTING;
	info->cookie = e->cookie;
	if (e->oldstate != e->newstate)
		info->ts_ns = e->ts_ns;
	info->state = e->newstate;
	/* a listener, or a child born of one */
	if (e->newstate == TCPFSM_LISTEN || e->oldstate == TCPFSM_LISTEN)
		info->flags |= SKF_PASSIVE;
	/* a socket older than us is tracked from its first transition
	 * (userspace may hold it from the startup snapshot); so is a
	 * listener's close, a new child's birth is not */
	if (lazy && (e->flags & TCPFSM_F_PREEXISTING ||
		     (fresh && e->oldstate == TCPFSM_LISTEN && e->newstate != TCPFSM_SYN_RECV)))
		info->flags |= SKF_TRACKED;
}

/* Whether the socket's owner is the current task: in task context, or
 * one of the transitions that only run inside the owner's own system call
 * (trusted even if the context were misjudged). */
static __always_inline bool owner_runs(const struct tcpfsm_event *e, int ctx)
{
	return ctx == 1 || syscall_transition(e->oldstate, e->newstate);
}

/* The socket's storage as this transition leaves it, and what e takes
 * from it. */
static __always_inline void update_storage(struct sk_info *info, struct tcpfsm_event *e,
					   const struct sk_info *listener, int ctx, __u64 *born)
{
	int news = sk_news(info, e);

	if (news == SK_BORN) {
		/* the child's deferred birth goes out first */
		info->flags &= ~SKF_BIRTH;
		*born = info->ts_ns;
	} else if (news == SK_CHILD) {
		child_reset(info, e);
	}
	inherit_owner(info, listener);
	note_transition(info, e, news == SK_NEW);
	if (owner_runs(e, ctx))
		set_owner(info);
	copy_socket(e, info);
	if (e->newstate == TCPFSM_CLOSE) {
		/* a socket may connect again after CLOSE: start afresh */
		info->evidence = 0;
		info->syn_retrans = 0;
	}
}

/* No storage could be had: the owner only when it runs this. */
static __always_inline void owner_without_storage(struct tcpfsm_event *e, int ctx)
{
	stat_inc(TCPFSM_STAT_NOSTORAGE);
	if (!owner_runs(e, ctx))
		return;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->flags |= TCPFSM_F_OWNER;
}

/* e to userspace, a deferred birth (born: its time) before it. */
static __always_inline void submit(struct tcpfsm_event *e, __u64 born)
{
	if (born) {
		/* the birth, with this event's cookie and ports */
		struct tcpfsm_event saved = *e;

		e->ts_ns = born;
		e->oldstate = TCPFSM_LISTEN;
		e->newstate = TCPFSM_SYN_RECV;
		e->old_duration_ns = TCPFSM_DURATION_UNKNOWN;
		e->flags &= ~(TCPFSM_F_PREEXISTING | TCPFSM_F_SAME_STATE);
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
}

/*
 * The shared end of both state programs: e holds the identity and
 * addresses, info is the socket's storage (NULL if none could be had; a
 * zero cookie when new to us), listener the classic path's entry for a
 * child's listener, ctx the execution context (exec_ctx's task).
 */
static __always_inline int finish(struct tcpfsm_event *e, struct sk_info *info,
				  const struct sk_info *listener, int ctx)
{
	__u64 born = 0;

	if (info)
		update_storage(info, e, listener, ctx, &born);
	else
		owner_without_storage(e, ctx);
	if (ctx == 0)
		e->flags |= TCPFSM_F_SOFTIRQ;
	if (e->oldstate == e->newstate)
		e->flags |= TCPFSM_F_SAME_STATE;
	if (!ports_pass(e) || (filter.cgroup_id && e->cgroup_id != filter.cgroup_id))
		return 0;
	stat_inc(TCPFSM_STAT_EVENTS);
	/* counted before the ring buffer can refuse the event: exact */
	account(e, ctx == 0);
	if (!emit_events || (lazy && !(info && (info->flags & SKF_TRACKED))) ||
	    (is_birth(e) && info && (info->flags & SKF_BIRTH)))
		return 0;
	submit(e, born);
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
	e->oldstate = oldstate;
	e->newstate = newstate;
	fill_identity(e, &sk->__sk_common);
	/* skc_num is already 0 when a connection is unhashed on its way to
	 * CLOSE, inet_sport (what the tracepoint shows) still has the local
	 * port: read only then */
	if (!e->sport)
		e->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	if (filter.family && e->family != filter.family)
		return 0;

	if (lazy && oldstate == TCPFSM_CLOSE && !bpf_map_lookup_elem(&netns_seen, &netns)) {
		__u8 one = 1;

		bpf_map_update_elem(&netns_seen, &netns, &one, BPF_ANY);
	}
	/* one call: storage made here is zeroed, and finish() takes a zero
	 * cookie for a socket new to us */
	info = bpf_sk_storage_get(&sk_infos, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	/* the inode names the socket in /proc/PID/fd: read once it has a file
	 * (an accepted child gets one after its first transitions) */
	if (info && !info->ino && sk->sk_socket)
		info->ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	/* a socket older than us, first seen mid-life: born passively or not,
	 * we cannot know; a port bound explicitly (by the listener it was
	 * cloned from, or by itself) says "server" */
	if (info && !info->cookie && oldstate != TCPFSM_CLOSE && oldstate != TCPFSM_LISTEN &&
	    (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_userlocks) & SOCK_BINDPORT_LOCK_FLAG))
		info->flags |= SKF_PASSIVE;
	return finish(e, info, NULL, x.task);
}

/* Loaded alone, before anything else, by userspace: whether this kernel
 * lets tp_btf programs use socket storage and cookies (Linux 5.11+). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(probe_tp_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	bpf_sk_storage_get(&sk_infos, (void *)sk, 0, 0);
	return bpf_get_socket_cookie((void *)sk) == 0;
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
	if (!info) {
		bpf_map_update_elem(&sk_infos_hash, &key, &zero, BPF_NOEXIST);
		info = bpf_map_lookup_elem(&sk_infos_hash, &key);
	}
	/* one identity for the socket's whole life: the kernel generates its
	 * cookie lazily (the tcp tracepoints do), so keep the first we used */
	if (info && info->cookie)
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
	finish(e, info, listener, x.task);

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
	copy_socket(e, info);
}

static __always_inline void emit_evidence(struct tcpfsm_event *e)
{
	if (!emit_events || !identity_passes(e))
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
	fill_identity(&e, &sk->__sk_common);
	copy_socket(&e, info);
	/* lazy mode: a SYN retransmit is the first sign of a stuck connect
	 * (at 1 s): track the socket now, not at the next sweep */
	if (lazy && info->ts_ns && !(info->flags & SKF_TRACKED) && identity_passes(&e) &&
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

	if (!identity_passes(e))
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
	/* A compiler barrier, no more: the compiler must not read state and
	 * time before the flag is set. It orders nothing against other CPUs;
	 * what keeps a transition of this socket from running meanwhile is
	 * the iterator itself, which holds the socket's lock while it shows
	 * it (lock_sock_fast, Linux 5.15+). */
	asm volatile("" ::: "memory");
	seed = *e;
	make_seed(&seed, info);
	if (!seed.ino && tp->inet_conn.icsk_inet.sk.sk_socket)
		seed.ino = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_socket, file, f_inode, i_ino);
	bpf_seq_write(seq, &seed, sizeof(seed));
}

/*
 * Every TCP socket of the iterator's network namespace, for what iter_what
 * asks: the owner pass (alone), the startup snapshot (one
 * TCPFSM_KIND_SNAPSHOT record each), the half-open requests, the
 * lazy-tracking sweep.
 */
/*
 * Owners of sockets older than tcpfsm, found by userspace in /proc (socket
 * inode -> pid, comm) once everything is attached, emptied after: the
 * iterator's owner pass (TCPFSM_ITER_OWNERS) writes them into the sockets'
 * storage, so that what a listener accepts from now on carries its owner
 * (BPF_F_CLONE), as it would for a listener opened after tcpfsm.
 */
struct owner {
	__u32 pid;
	char comm[TCPFSM_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, struct owner);
} owners SEC(".maps");

static __always_inline void adopt_owner(struct tcp_sock *tp, __u32 ino, __u64 cgroup_id)
{
	struct sk_info *info;
	struct owner *o;

	if (!ino)
		return;
	o = bpf_map_lookup_elem(&owners, &ino);
	if (!o)
		return;
	info = bpf_sk_storage_get(&sk_infos, tp, 0, BPF_SK_STORAGE_GET_F_CREATE);
	/* one the tracepoint saw already knows better */
	if (!info || (info->flags & TCPFSM_F_OWNER))
		return;
	info->pid = o->pid;
	__builtin_memcpy(info->comm, o->comm, sizeof(info->comm));
	info->cgroup_id = cgroup_id;
	info->flags |= TCPFSM_F_OWNER;
}

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
	if (iter_what & TCPFSM_ITER_OWNERS) {
		/* the owner pass alone: nothing to report */
		tp = bpf_skc_to_tcp_sock(skc);
		if (tp && tp->inet_conn.icsk_inet.sk.sk_socket)
			adopt_owner(tp,
				    BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_socket, file, f_inode,
						  i_ino),
				    BPF_CORE_READ(&tp->inet_conn.icsk_inet.sk, sk_cgrp_data.cgroup, kn,
						  id));
		return 0;
	}
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

		if (treq)
			fill_request(&e, &treq->req.req, NULL);
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
