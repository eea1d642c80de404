/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared between the BPF programs and userspace: the event record that
 * crosses the ring buffer, TCP state numbers, flags and filter limits.
 * No libc includes here: the BPF side has vmlinux.h, userspace <linux/types.h>.
 */
#ifndef TCPFSM_H
#define TCPFSM_H

#define TCPFSM_VERSION "0.1.0"

/* Linux's TCP state numbers (include/net/tcp_states.h). */
enum tcpfsm_state {
	TCPFSM_ESTABLISHED = 1,
	TCPFSM_SYN_SENT = 2,
	TCPFSM_SYN_RECV = 3,
	TCPFSM_FIN_WAIT1 = 4,
	TCPFSM_FIN_WAIT2 = 5,
	TCPFSM_TIME_WAIT = 6,
	TCPFSM_CLOSE = 7,
	TCPFSM_CLOSE_WAIT = 8,
	TCPFSM_LAST_ACK = 9,
	TCPFSM_LISTEN = 10,
	TCPFSM_CLOSING = 11,
	TCPFSM_NEW_SYN_RECV = 12,
	TCPFSM_STATE_MAX = 13,
};

#define TCPFSM_AF_INET 2
#define TCPFSM_AF_INET6 10

/* old_duration_ns when the time spent in the old state is not known. */
#define TCPFSM_DURATION_UNKNOWN (~0ULL)

/* Cookies made up by the classic-tracepoint fallback (no cookie helper
 * there) when the kernel never generated one for the socket. Kernel cookies
 * count up from 1 and stay far below this; 2^52 keeps them exact in JSON
 * readers that use doubles. */
#define TCPFSM_COOKIE_SYNTHETIC (1ULL << 52)

/* event flags */
enum {
	/* pid/comm/cgroup name the owner (else unknown: pid 0) */
	TCPFSM_F_OWNER = 1 << 0,
	/* owner inherited from the listening socket (passive open) */
	TCPFSM_F_OWNER_LISTENER = 1 << 1,
	/* the transition ran in softirq/irq context, not in the owner's */
	TCPFSM_F_SOFTIRQ = 1 << 2,
	/* first event seen of a socket that existed before tracing began */
	TCPFSM_F_PREEXISTING = 1 << 3,
	/* the kernel attached through the classic tracepoint */
	TCPFSM_F_TRACEPOINT = 1 << 4,
	/* snapshot of a timewait socket (state TIME_WAIT or its FIN_WAIT2) */
	TCPFSM_F_TIMEWAIT = 1 << 5,
	/*
	 * a self-transition (oldstate == newstate): the kernel "entered" the
	 * state the socket was already in, e.g. close() after shutdown() in
	 * FIN_WAIT1, FIN_WAIT2, CLOSING or LAST_ACK. Not an exit: the socket's
	 * entry time is kept, old_duration_ns is the time in the state so
	 * far, no histogram or transition count takes it
	 * (TCPFSM_STAT_SAME_STATE counts them).
	 */
	TCPFSM_F_SAME_STATE = 1 << 6,
	/* the socket was opened passively (accepted) or is a listener: its
	 * local port is the service port (else the remote one is) */
	TCPFSM_F_PASSIVE = 1 << 7,
	TCPFSM_F_ALL = (1 << 8) - 1,
};

#define TCPFSM_COMM_LEN 16

/*
 * One state transition. Fixed size (104 bytes, checked at build time), natural alignment, no
 * implicit padding: it is also the on-disk record of `tcpfsm record`.
 */
struct tcpfsm_event {
	__u64 ts_ns;		/* CLOCK_BOOTTIME of the transition */
	__u64 cookie;		/* socket cookie: the connection's identity */
	__u64 old_duration_ns;	/* time in old state, or TCPFSM_DURATION_UNKNOWN */
	__u64 cgroup_id;	/* owner's cgroup v2 id, 0 when unknown */
	__u32 pid;		/* owner tgid, 0 when unknown */
	__u32 netns;		/* network namespace inode */
	__u16 sport;		/* local port, host order */
	__u16 dport;		/* remote port, host order */
	__u8 family;		/* TCPFSM_AF_INET or TCPFSM_AF_INET6 */
	__u8 oldstate;
	__u8 newstate;
	__u8 flags;		/* TCPFSM_F_* */
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	char comm[TCPFSM_COMM_LEN];	/* owner's comm, "" when unknown */
	__u16 syn_retrans;	/* SYN retransmits seen in SYN_SENT, so far */
	__u8 evidence;		/* TCPFSM_EV_*: what the kernel did to it, so far */
	__u8 kind;		/* TCPFSM_KIND_* */
	__u32 ino;		/* socket inode, 0 when it has no file (yet) */
};

/* record kinds */
enum {
	TCPFSM_KIND_TRANSITION = 0,	/* a state change: oldstate -> newstate */
	/* a socket seen by the startup snapshot (iter/tcp), in newstate
	 * (== oldstate) at ts_ns; NEW_SYN_RECV is a half-open request */
	TCPFSM_KIND_SNAPSHOT = 1,
	/* news about a socket that does not change its state: a SYN
	 * retransmit in SYN_SENT (syn_retrans, evidence), or a half-open
	 * request (NEW_SYN_RECV) retransmitting its SYN/ACK (syn_retrans =
	 * SYN/ACK retransmits, old_duration_ns = age since the first SYN/ACK,
	 * owner = the listener's) */
	TCPFSM_KIND_EVIDENCE = 2,
	/* a TCP segment the kernel dropped (skb:kfree_skb), see below */
	TCPFSM_KIND_DROP = 3,
	TCPFSM_KIND_MAX = 4,
};

/*
 * A drop record (TCPFSM_KIND_DROP) reuses the event's fields:
 *   ts_ns            when it was dropped
 *   netns            the network namespace it was dropped in
 *   family, saddr, sport, daddr, dport
 *                    this namespace's view, as a socket's: saddr:sport is
 *                    the local end, the segment's destination when it came
 *                    in (TCPFSM_DROP_IN), its source when it was going out
 *                    (TCPFSM_DROP_OUT)
 *   old_duration_ns  the kernel address that dropped it (kfree_skb's
 *                    location), 0 when unknown
 *   ino              the drop reason: the running kernel's enum
 *                    skb_drop_reason value (its numbers differ between
 *                    kernels: name them from that kernel's BTF)
 *   oldstate         TCPFSM_DROP_IN or TCPFSM_DROP_OUT
 *   newstate         the segment's TCP flags byte (FIN 0x01 ... CWR 0x80)
 *   evidence         the segment kind, TCPFSM_SEG_*
 *   syn_retrans      the segment's payload bytes (clamped to 65535; 1 when
 *                    the IP header's length is 0, a GSO packet's: unknown)
 *   cookie, pid, cgroup_id, comm: 0 (a drop has no owner); flags: 0, or
 *   TCPFSM_F_TRACEPOINT from the classic tracepoint
 */
enum {
	TCPFSM_DROP_IN = 1,	/* arrived on an interface of the namespace */
	TCPFSM_DROP_OUT = 2,	/* made in the namespace, on its way out */
};

enum tcpfsm_seg {
	TCPFSM_SEG_SYN = 1,
	TCPFSM_SEG_SYNACK = 2,
	TCPFSM_SEG_ACK = 3,	/* no payload, none of the others */
	TCPFSM_SEG_FIN = 4,
	TCPFSM_SEG_RST = 5,
	TCPFSM_SEG_DATA = 6,	/* payload, no SYN/FIN/RST */
	TCPFSM_SEG_MAX = 7,
};

#define TCPFSM_TCP_FIN 0x01
#define TCPFSM_TCP_SYN 0x02
#define TCPFSM_TCP_RST 0x04
#define TCPFSM_TCP_ACK 0x10

/* The segment kind of a TCP flags byte and payload length: both sides. */
static inline __u8 tcpfsm_seg_kind(__u8 flags, __u32 payload)
{
	if (flags & TCPFSM_TCP_RST)
		return TCPFSM_SEG_RST;
	if (flags & TCPFSM_TCP_SYN)
		return flags & TCPFSM_TCP_ACK ? TCPFSM_SEG_SYNACK : TCPFSM_SEG_SYN;
	if (flags & TCPFSM_TCP_FIN)
		return TCPFSM_SEG_FIN;
	return payload ? TCPFSM_SEG_DATA : TCPFSM_SEG_ACK;
}

/* evidence bits */
enum {
	TCPFSM_EV_RST_RECV = 1 << 0,	/* tcp_receive_reset */
	TCPFSM_EV_RST_SENT = 1 << 1,	/* tcp_send_reset */
	TCPFSM_EV_ICMP = 1 << 2,	/* a soft error (ICMP) while connecting */
	TCPFSM_EV_ALL = (1 << 3) - 1,
};

/* Limits of the in-kernel filters (read-only data, set before load). */
#define TCPFSM_MAX_PORTS 16
#define TCPFSM_MAX_NETNS 8

/*
 * The filters the kernel applies (family, netns, ports, cgroup), one
 * definition for both sides: the BPF program reads them from read-only data
 * set before load (volatile there, so the verifier sees the loaded values),
 * userspace applies the same rule to replayed records and snapshot seeds.
 */
#ifndef TCPFSM_FILTER_CONST
#define TCPFSM_FILTER_CONST const
#endif

struct tcpfsm_filter {
	__u64 cgroup_id;	/* owner's cgroup v2 id, 0: any */
	__u32 netns[TCPFSM_MAX_NETNS];
	__u32 n_netns;
	__u32 n_lports, n_rports, n_ports;
	__u16 lports[TCPFSM_MAX_PORTS];	/* local port */
	__u16 rports[TCPFSM_MAX_PORTS];	/* remote port */
	__u16 ports[TCPFSM_MAX_PORTS];	/* either */
	__u8 family;		/* 0: any, else TCPFSM_AF_* (v4-mapped counts as IPv4) */
	__u8 _pad[7];
};

static inline int tcpfsm_port_in(__u16 port, TCPFSM_FILTER_CONST __u16 *list, __u32 n)
{
	for (int i = 0; i < TCPFSM_MAX_PORTS; i++) {
		if (i >= (int)n)
			break;
		if (list[i] == port)
			return 1;
	}
	return 0;
}

static inline int tcpfsm_netns_pass(TCPFSM_FILTER_CONST struct tcpfsm_filter *f, __u32 netns)
{
	if (!f->n_netns)
		return 1;
	for (int i = 0; i < TCPFSM_MAX_NETNS; i++) {
		if (i >= (int)f->n_netns)
			break;
		if (f->netns[i] == netns)
			return 1;
	}
	return 0;
}

static inline int tcpfsm_ports_pass(TCPFSM_FILTER_CONST struct tcpfsm_filter *f, __u16 sport,
				    __u16 dport)
{
	if (f->n_lports && !tcpfsm_port_in(sport, f->lports, f->n_lports))
		return 0;
	if (f->n_rports && !tcpfsm_port_in(dport, f->rports, f->n_rports))
		return 0;
	if (f->n_ports && !tcpfsm_port_in(sport, f->ports, f->n_ports) &&
	    !tcpfsm_port_in(dport, f->ports, f->n_ports))
		return 0;
	return 1;
}

/* The whole rule on a record (the BPF program applies it piece by piece,
 * each as soon as it has what the piece needs). */
static inline int tcpfsm_filter_pass(TCPFSM_FILTER_CONST struct tcpfsm_filter *f,
				     const struct tcpfsm_event *e)
{
	return (!f->family || e->family == f->family) && tcpfsm_netns_pass(f, e->netns) &&
	       tcpfsm_ports_pass(f, e->sport, e->dport) &&
	       (!f->cgroup_id || e->cgroup_id == f->cgroup_id);
}

/* Per-CPU counters, index into the `stats` map. */
enum tcpfsm_stat {
	TCPFSM_STAT_EVENTS = 0,	/* TCP transitions that passed the filters */
	TCPFSM_STAT_LOST = 1,	/* of those, not delivered: ring buffer full */
	TCPFSM_STAT_NOSTORAGE = 2, /* per-socket storage could not be had */
	TCPFSM_STAT_BY_OTHER = 3, /* --by: transitions counted under "other" */
	/* of TCPFSM_STAT_EVENTS, self-transitions (TCPFSM_F_SAME_STATE) */
	TCPFSM_STAT_SAME_STATE = 4,
	TCPFSM_STAT_MAX = 5,
};

/*
 * The hooks whose programs come in pairs, a primary and a backup that runs
 * when the kernel skipped the primary (it was running on that CPU when a
 * softirq interrupted it): index into the BPF `backups` map.
 */
enum tcpfsm_pair {
	TCPFSM_PAIR_STATE = 0,		/* sock:inet_sock_set_state */
	TCPFSM_PAIR_RETRANS = 1,	/* tcp:tcp_retransmit_skb */
	TCPFSM_PAIR_SYNACK = 2,		/* tcp:tcp_retransmit_synack */
	TCPFSM_PAIR_MAX = 3,
};

/*
 * Histograms of the time spent in a state, kept in the kernel so they stay
 * exact when events are lost. Log-linear buckets: each power of two of
 * nanoseconds from 2^10 (~1 µs) to 2^48 (~3.3 days) split in 4, so a
 * bucket is at most 25% as wide as its lower bound. Bucket 0 holds < 1024 ns,
 * the last one >= 2^48 ns.
 */
#define TCPFSM_HIST_SUB_BITS 2
#define TCPFSM_HIST_SUBS (1 << TCPFSM_HIST_SUB_BITS)
#define TCPFSM_HIST_MIN_SHIFT 10
#define TCPFSM_HIST_MAX_SHIFT 48
#define TCPFSM_HIST_BUCKETS \
	((TCPFSM_HIST_MAX_SHIFT - TCPFSM_HIST_MIN_SHIFT) * TCPFSM_HIST_SUBS + 2)

struct tcpfsm_hist {
	__u64 count;	/* transitions out of the state with a known duration */
	__u64 sum_ns;
	__u64 min_ns;	/* valid when count > 0 */
	__u64 max_ns;
	__u64 unknown;	/* transitions out of it whose entry time is unknown */
	__u64 buckets[TCPFSM_HIST_BUCKETS];
};

/* The kernel keeps its histograms per context level (task, softirq) so
 * that two programs nesting on one CPU never update the same one. */
struct tcpfsm_hist_levels {
	struct tcpfsm_hist level[2];
};

/* Index of the highest set bit of v (v != 0), without a clz instruction. */
static inline __u32 tcpfsm_msb(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static inline __u32 tcpfsm_hist_bucket(__u64 ns)
{
	__u32 msb;

	if (ns < (1ULL << TCPFSM_HIST_MIN_SHIFT))
		return 0;
	if (ns >= (1ULL << TCPFSM_HIST_MAX_SHIFT))
		return TCPFSM_HIST_BUCKETS - 1;
	msb = tcpfsm_msb(ns);
	return (msb - TCPFSM_HIST_MIN_SHIFT) * TCPFSM_HIST_SUBS +
	       ((ns >> (msb - TCPFSM_HIST_SUB_BITS)) & (TCPFSM_HIST_SUBS - 1)) + 1;
}

/* What the iter/tcp program reports (bss iter_what, a mask) */
enum {
	TCPFSM_ITER_ALL = 1 << 0,	/* startup snapshot: every socket */
	TCPFSM_ITER_REQUESTS = 1 << 1,	/* half-open requests (NEW_SYN_RECV) */
	TCPFSM_ITER_TRACK = 1 << 2,	/* lazy tracking sweep */
	/* alone: give sockets older than tcpfsm the owners userspace found */
	TCPFSM_ITER_OWNERS = 1 << 3,
};

/*
 * Fault injection for tests, named in $TCPFSM_TEST_HOOKS (comma-separated):
 * never set in real runs.
 */
enum {
	/* "by_race": every --by lookup misses, as if another CPU inserted the
	 * key between our lookup and our insert */
	TCPFSM_TEST_BY_RACE = 1 << 0,
};

/* --by: what a histogram is keyed by besides the state */
enum tcpfsm_by {
	TCPFSM_BY_NONE = 0,
	TCPFSM_BY_LPORT,
	TCPFSM_BY_RPORT,
	TCPFSM_BY_COMM,
	TCPFSM_BY_CGROUP,
	/* the service port: the local port of sockets opened passively
	 * (TCPFSM_F_PASSIVE), the remote port of connecting ones */
	TCPFSM_BY_PORT,
};

/* The --by port key of an event. */
static inline __u16 tcpfsm_service_port(const struct tcpfsm_event *e)
{
	return e->flags & TCPFSM_F_PASSIVE ? e->sport : e->dport;
}

struct tcpfsm_hist_key {
	__u64 num;	/* port or cgroup id */
	char comm[TCPFSM_COMM_LEN];
	__u32 state;
	__u32 _pad;
};

#endif /* TCPFSM_H */
