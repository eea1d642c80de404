#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The drop tracker's cost on a host that drops a flood of non-TCP packets:
# build/udpflood sends UDP as fast as one thread can from one namespace to
# another, whose nft input rule drops it (each packet passes skb:kfree_skb,
# so tcpfsm's drop program runs for each and returns at its IP header).
# ROUNDS rounds of SECS s floods, without a tracer, with `tcpfsm serve`
# (drops tracked, filtered to the receiving namespace) and with `tcpfsm
# hist` (the same state and softirq programs, no drop program): the ratios
# of packets dropped per second, and what serve adds per packet over hist;
# then one traced flood with
# kernel.bpf_stats_enabled for the drop program's ns per run; then one with
# `trace --drops --json` on the receiving namespace, which must print no
# record. Used by bench.sh (it reads the lines that start with "dropcost:");
# runs alone too: sudo tests/bench/dropcost.sh
set -u
cd "$(dirname "$0")/../.."
TCPFSM=${TCPFSM:-$PWD/build/tcpfsm}
UDPFLOOD=${UDPFLOOD:-$PWD/build/udpflood}
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-4}
A=tcpfsm-flood-a-$$
B=tcpfsm-flood-b-$$
tmp=$(mktemp -d)
STATS0=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$STATS0" 2>/dev/null
	kill $(jobs -p) 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "dropcost: needs root" >&2; exit 1; }
[ -x "$UDPFLOOD" ] || { echo "dropcost: $UDPFLOOD missing (make build/udpflood)" >&2; exit 1; }

ip netns add "$A" && ip netns add "$B" || exit 1
ip link add fa$$ netns "$A" type veth peer name fb$$ netns "$B"
ip -n "$A" addr add 198.18.3.1/24 dev fa$$ && ip -n "$A" link set fa$$ up
ip -n "$B" addr add 198.18.3.2/24 dev fb$$ && ip -n "$B" link set fb$$ up
ip netns exec "$B" nft -f - <<'EOF' || exit 1
table inet t {
	chain input {
		type filter hook input priority 0;
		udp dport 9 counter drop
	}
}
EOF
NS_B=$(stat -L -c %i /run/netns/"$B")

dropped() { ip netns exec "$B" nft list chain inet t input | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
# One flood: sets RATE (packets dropped per second).
flood() {
	local d0 d1 out
	d0=$(dropped)
	out=$(ip netns exec "$A" "$UDPFLOOD" -d "$SECS" 198.18.3.2 9)
	d1=$(dropped)
	RATE=$(awk -v n=$((d1 - d0)) -v s="$(echo "$out" | sed -n 's/.*secs=\([0-9.]*\).*/\1/p')" \
		'BEGIN {printf "%.0f", n / s}')
}
start() {
	: > "$tmp/err"
	"$TCPFSM" "$@" --netns "$NS_B" >"$tmp/out" 2>"$tmp/err" &
	TPID=$!
	for _ in $(seq 100); do grep -q "tracing TCP" "$tmp/err" && break; sleep 0.1; done
	sleep 0.5
	kill -0 "$TPID" 2>/dev/null || { echo "dropcost: tcpfsm did not start: $(cat "$tmp/err")" >&2; exit 1; }
}
stop() { kill -INT "$TPID"; wait "$TPID" 2>/dev/null; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b ? a / b : 0}'; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# hist: the same state programs as serve (and the softirq ones, which run
# per softirq, floods included), no drop program: the difference is the
# drop tracker's
RATIOS="" HRATIOS="" BASES="" TRACED="" HIST="" PERDROP=""
for r in $(seq "$ROUNDS"); do
	flood; base=$RATE
	start serve --listen 127.0.0.1:19996
	flood; traced=$RATE
	stop
	start hist
	flood; hist=$RATE
	stop
	RATIOS+="$(div "$traced" "$base") " HRATIOS+="$(div "$hist" "$base") "
	BASES+="$base " TRACED+="$traced " HIST+="$hist "
	# ns per packet that serve adds over hist (one CPU sends and drops)
	PERDROP+="$(awk -v s="$traced" -v h="$hist" 'BEGIN {printf "%.0f", 1e9 / s - 1e9 / h}') "
	echo "dropcost: round $r: none $base/s, serve $traced/s, hist $hist/s" >&2
done

# the drop program's own time per run (the stats add two clock reads)
start serve --listen 127.0.0.1:19996
id=$(grep -h '^prog_id:' /proc/"$TPID"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un |
	while read -r i; do bpftool prog show id "$i" 2>/dev/null | grep -q ' name drop_' && echo "$i"; done | head -n 1)
runs() { bpftool prog show id "$id" -j | /usr/bin/python3 -c 'import json,sys; p=json.load(sys.stdin); print(p.get("run_cnt",0), p.get("run_time_ns",0))'; }
sysctl -qw kernel.bpf_stats_enabled=1
read -r c0 t0 < <(runs)
flood; statrate=$RATE
read -r c1 t1 < <(runs)
sysctl -qw kernel.bpf_stats_enabled="$STATS0"
stop
NS_PER=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN {printf "%.0f", c ? t / c : 0}')

# nothing of it is TCP: trace --drops prints nothing
start trace --drops --json
flood
stop
records=$(grep -c . "$tmp/out")
summary=$(grep 'TCP drop' "$tmp/err")

echo "dropcost: ratio_median $(echo $RATIOS | tr ' ' '\n' | median)"
echo "dropcost: ratios $RATIOS"
echo "dropcost: hist_ratio_median $(echo $HRATIOS | tr ' ' '\n' | median)"
echo "dropcost: hist_ratios $HRATIOS"
echo "dropcost: base_rates $BASES"
echo "dropcost: traced_rates $TRACED"
echo "dropcost: hist_rates $HIST"
echo "dropcost: serve_minus_hist_ns_median $(echo $PERDROP | tr ' ' '\n' | median)"
echo "dropcost: serve_minus_hist_ns $PERDROP"
echo "dropcost: ns_per_drop $NS_PER runs $((c1 - c0)) at $statrate/s"
echo "dropcost: trace_records $records ($summary)"
