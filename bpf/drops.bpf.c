// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpfsm's drop tracker: every packet the kernel drops passes skb:kfree_skb
 * with a drop reason (Linux 5.17+) and the address that dropped it. Only TCP
 * segments (IPv4, IPv6 without extension headers) become records
 * (TCPFSM_KIND_DROP, field mapping in tcpfsm.h), written to the rings of the
 * main object (tcpfsm.bpf.c), whose maps this object shares
 * (bpf_map__reuse_fd): they join its time-ordered stream.
 *
 * Everything else returns after one read of the network header: a host may
 * drop a million UDP packets a second.
 *
 * Two attach paths, as for the state program: tp_btf/kfree_skb (its
 * arguments: skb, location, reason on Linux 6.1; 6.12+ add rx_sk, which
 * this program does not read, so one program loads on both), and the
 * classic tracepoint (its record's fields found by CO-RE).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#define TCPFSM_FILTER_CONST const volatile
#include "tcpfsm.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP_NUM 0x0800
#define ETH_P_IPV6_NUM 0x86DD
#define IPPROTO_TCP_NUM 6
#define NH_UNSET 0xffff /* skb->network_header not set */

/* The filters, as the main object has them (set before load). */
const volatile struct tcpfsm_filter filter = {};

/* Counters read by userspace (atomic adds: TCP drops only, rare). */
__u64 drops_seen = 0;	/* TCP drops that passed the filters */
__u64 drops_lost = 0;	/* of those, not delivered: ring full */

/* The main object's rings (same definitions: the fds are reused). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct ringbuf_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ringbuf_inner);
} cpu_events SEC(".maps");

/* To this CPU's ring (else the shared one), waking userspace once 1/16 of
 * the ring waits, as the main object does. */
static __always_inline void output(struct tcpfsm_event *e)
{
	__u32 cpu = bpf_get_smp_processor_id();
	void *rb = bpf_map_lookup_elem(&cpu_events, &cpu);
	__u64 flags;

	if (!rb)
		rb = &events;
	flags = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) + sizeof(*e) >=
				bpf_ringbuf_query(rb, BPF_RB_RING_SIZE) / 16 ?
			BPF_RB_FORCE_WAKEUP :
			BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(rb, e, sizeof(*e), flags))
		__sync_fetch_and_add(&drops_lost, 1);
}

/* The namespace the segment was dropped in: its device's when it came in,
 * else its socket's (no device yet before routing), else the device's. */
static __always_inline __u32 drop_netns(const struct sk_buff *skb, bool in)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	struct sock *sk;

	if (!in) {
		sk = BPF_CORE_READ(skb, sk);
		if (sk)
			return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	}
	if (dev)
		return BPF_CORE_READ(dev, nd_net.net, ns.inum);
	return 0;
}

/*
 * One dropped packet: head and nh locate its network header, proto is
 * skb->protocol (network order). A TCP segment becomes a record.
 */
static __always_inline int on_drop(const struct sk_buff *skb, unsigned char *head, __u16 nh,
				   __u16 proto, __u64 location, __u32 reason, __u8 flags)
{
	struct tcpfsm_event e = {};
	unsigned char *th_at;
	struct tcphdr th;
	__u32 hlen, payload;
	__u8 tcp_flags;
	__u16 src, dst;
	bool in;

	if (nh == NH_UNSET || !head)
		return 0;
	if (proto == bpf_htons(ETH_P_IP_NUM)) {
		struct iphdr ip;
		__u32 tot;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) || ip.protocol != IPPROTO_TCP_NUM ||
		    ip.version != 4)
			return 0;
		/* a later fragment has no TCP header */
		if (ip.frag_off & bpf_htons(0x1fff))
			return 0;
		hlen = ip.ihl * 4;
		if (hlen < sizeof(ip))
			return 0;
		e.family = TCPFSM_AF_INET;
		__builtin_memcpy(e.saddr, &ip.saddr, 4);
		__builtin_memcpy(e.daddr, &ip.daddr, 4);
		tot = bpf_ntohs(ip.tot_len);
		payload = tot > hlen ? tot - hlen : 0;
	} else if (proto == bpf_htons(ETH_P_IPV6_NUM)) {
		struct ipv6hdr ip6;

		/* extension headers are not walked: not TCP for us */
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) ||
		    ip6.nexthdr != IPPROTO_TCP_NUM || ip6.version != 6)
			return 0;
		hlen = sizeof(ip6);
		e.family = TCPFSM_AF_INET6;
		__builtin_memcpy(e.saddr, &ip6.saddr, 16);
		__builtin_memcpy(e.daddr, &ip6.daddr, 16);
		payload = bpf_ntohs(ip6.payload_len);
	} else {
		return 0;
	}
	if (filter.family && e.family != filter.family)
		return 0;
	/* drops have no owner: none passes an owner's cgroup */
	if (filter.cgroup_id)
		return 0;
	th_at = head + nh + hlen;
	if (bpf_probe_read_kernel(&th, sizeof(th), th_at))
		return 0;
	tcp_flags = ((__u8 *)&th)[13];
	hlen = th.doff * 4;
	/* (a GSO segment's length field may be 0: then its payload is
	 * unknown, and counts as data unless the flags say otherwise) */
	payload = payload > hlen ? payload - hlen : (payload ? 0 : 1);

	/* this namespace's view: a segment that came in is addressed to us */
	in = BPF_CORE_READ(skb, skb_iif) != 0;
	src = bpf_ntohs(th.source);
	dst = bpf_ntohs(th.dest);
	if (in) {
		__u8 tmp[16];

		__builtin_memcpy(tmp, e.saddr, 16);
		__builtin_memcpy(e.saddr, e.daddr, 16);
		__builtin_memcpy(e.daddr, tmp, 16);
		e.sport = dst;
		e.dport = src;
	} else {
		e.sport = src;
		e.dport = dst;
	}
	if (!tcpfsm_ports_pass(&filter, e.sport, e.dport))
		return 0;
	e.netns = drop_netns(skb, in);
	if (!tcpfsm_netns_pass(&filter, e.netns))
		return 0;

	e.kind = TCPFSM_KIND_DROP;
	e.ts_ns = bpf_ktime_get_boot_ns();
	e.old_duration_ns = location;
	e.ino = reason;
	e.oldstate = in ? TCPFSM_DROP_IN : TCPFSM_DROP_OUT;
	e.newstate = tcp_flags;
	e.evidence = tcpfsm_seg_kind(tcp_flags, payload);
	e.syn_retrans = payload > 0xffff ? 0xffff : payload;
	e.flags = flags;
	__sync_fetch_and_add(&drops_seen, 1);
	output(&e);
	return 0;
}

/* SKB_CONSUMED is no drop (Linux 6.3+ passes it to consume_skb's
 * tracepoint instead, but say so where the enum has it). */
static __always_inline bool consumed(__u32 reason)
{
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED))
		return reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED);
	return false;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(drop_btf, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	if (consumed(reason))
		return 0;
	return on_drop(skb, skb->head, skb->network_header, skb->protocol, (__u64)location,
		       reason, 0);
}

SEC("tracepoint/skb/kfree_skb")
int drop_tp(struct trace_event_raw_kfree_skb *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	__u32 reason = 0;

	/* (before Linux 5.17 there is no reason: 0, NOT_DROPPED_YET) */
	if (bpf_core_field_exists(ctx->reason))
		reason = ctx->reason;
	if (consumed(reason))
		return 0;
	return on_drop(skb, BPF_CORE_READ(skb, head), BPF_CORE_READ(skb, network_header),
		       BPF_CORE_READ(skb, protocol), (__u64)ctx->location, reason,
		       TCPFSM_F_TRACEPOINT);
}

/*
 * Listeners and what they dropped: every LISTEN socket of the iterator's
 * network namespace (userspace runs it in each) as a record that never
 * leaves userspace's listener sweep (kernel/drops.c decodes it):
 * kind TCPFSM_KIND_SNAPSHOT, state LISTEN, identity, cookie, ino (its owner
 * is found through /proc), old_duration_ns = sk_drops (tcp_listendrop()
 * counts every SYN or handshake-completing ACK refused for a full accept
 * queue there, as ListenOverflows/ListenDrops count them, whether or not
 * the skb passes kfree_skb), syn_retrans = sk_ack_backlog (clamped),
 * cgroup_id = sk_max_ack_backlog.
 */
SEC("iter/tcp")
int listeners(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcpfsm_event e = {};
	struct tcp_sock *tp;
	struct sock *sk;
	__u32 backlog;

	if (!skc || skc->skc_state != TCPFSM_LISTEN)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	sk = &tp->inet_conn.icsk_inet.sk;
	e.family = skc->skc_family;
	e.netns = skc->skc_net.net->ns.inum;
	e.sport = skc->skc_num;
	if (e.family == TCPFSM_AF_INET)
		__builtin_memcpy(e.saddr, &skc->skc_rcv_saddr, 4);
	else
		BPF_CORE_READ_INTO(&e.saddr, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
	if ((filter.family && e.family != filter.family && e.family != TCPFSM_AF_INET6) ||
	    !tcpfsm_netns_pass(&filter, e.netns) || !tcpfsm_ports_pass(&filter, e.sport, 0))
		return 0;
	if (filter.cgroup_id &&
	    BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id) != filter.cgroup_id)
		return 0;
	e.kind = TCPFSM_KIND_SNAPSHOT;
	e.oldstate = e.newstate = TCPFSM_LISTEN;
	e.ts_ns = bpf_ktime_get_boot_ns();
	e.cookie = bpf_get_socket_cookie(skc);
	e.old_duration_ns = (__u32)BPF_CORE_READ(sk, sk_drops.counter);
	backlog = sk->sk_ack_backlog;
	e.syn_retrans = backlog > 0xffff ? 0xffff : backlog;
	e.cgroup_id = sk->sk_max_ack_backlog;
	if (sk->sk_socket)
		e.ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}
