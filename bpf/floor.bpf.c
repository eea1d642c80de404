// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The physical floor of a TCP state tracer, for `make bench`: a tp_btf
 * program on the same tracepoint as tcpfsm that only counts, per CPU. What a
 * storm loses with it attached is the price of the tracepoint itself (the
 * call into BPF, the program's entry and exit), which no tracer on this
 * tracepoint can go below. Not part of tcpfsm.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Diagnostics only (tests/bench/floor -n): count one network namespace.
 * 0 (the floor) leaves the check out: the verifier drops the dead branch. */
const volatile __u32 only_netns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} count SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_count, const struct sock *sk, const int oldstate, const int newstate)
{
	__u32 zero = 0;
	__u64 *n;

	if (only_netns && sk->__sk_common.skc_net.net->ns.inum != only_netns)
		return 0;
	n = bpf_map_lookup_elem(&count, &zero);
	if (n)
		(*n)++; /* per CPU, and BPF does not nest on a CPU: no atomics */
	return 0;
}
