#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# BPF time per state event (kernel.bpf_stats_enabled), per tcpfsm mode, on an
# open-loop storm at RATE connections/s (not saturating: under saturation a
# softirq that interrupts a program is billed to it). Modes alternated, ROUNDS
# times, medians printed. Used by bench.sh; runs alone too.
set -u
cd "$(dirname "$0")/../.."
TCPFSM=${TCPFSM:-$PWD/build/tcpfsm}
STORM=${STORM:-$PWD/build/storm}
RATE=${RATE:-10000}
SECS=${SECS:-3}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-hist serve history trace}
PORT=7401
tmp=$(mktemp -d)
STATS0=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
trap 'rm -rf "$tmp"; sysctl -qw kernel.bpf_stats_enabled="$STATS0"; kill $(jobs -p) 2>/dev/null' EXIT

# "state_ns n all_ns": run time of the state programs (a primary and its
# backup, which runs on every transition too and handles those the kernel
# skipped the primary for), their transitions (the primary's runs and
# skips), and the run time of every tcpfsm program
prog_times() {
	bpftool prog show -j | /usr/bin/python3 -c '
import json, sys
ps = json.load(sys.stdin)
ids = set(int(x) for x in sys.argv[1:])
ps = [p for p in ps if p["id"] in ids]
st = [p for p in ps if p.get("name", "").startswith("state_")]
pri = [p for p in st if not p["name"].endswith("_bak")]
print(sum(p.get("run_time_ns", 0) for p in st),
      sum(p.get("run_cnt", 0) + p.get("recursion_misses", 0) for p in pri),
      sum(p.get("run_time_ns", 0) for p in ps))' "$@"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.0f\n", (a[NR/2]+a[NR/2+1])/2}'; }

sysctl -qw kernel.bpf_stats_enabled=1
declare -A ST ALL
for r in $(seq "$ROUNDS"); do
	for m in $MODES; do
		before=$(bpftool prog show -j | /usr/bin/python3 -c 'import json,sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)))')
		case $m in
		serve) "$TCPFSM" serve --listen 127.0.0.1:19998 --port $PORT >/dev/null 2>"$tmp/err" & ;;
		trace) "$TCPFSM" trace --json --port $PORT >/dev/null 2>"$tmp/err" & ;;
		*) "$TCPFSM" "$m" --port $PORT ${EXTRA:-} >/dev/null 2>"$tmp/err" & ;;
		esac
		pid=$!
		for _ in $(seq 100); do grep -q "tracing TCP" "$tmp/err" && break; sleep 0.1; done
		sleep 0.3
		ids=$(bpftool prog show -j | /usr/bin/python3 -c '
import json, sys
old = set(sys.argv[1:])
print(" ".join(str(p["id"]) for p in json.load(sys.stdin) if str(p["id"]) not in old))' $before)
		read -r s0 c0 a0 <<<"$(prog_times $ids)"
		"$STORM" -t 4 -r "$RATE" -d "$SECS" -p $PORT >/dev/null
		read -r s1 c1 a1 <<<"$(prog_times $ids)"
		kill -INT $pid; wait $pid
		n=$((c1 - c0))
		st=$(( (s1 - s0) / (n ? n : 1) )); all=$(( (a1 - a0) / (n ? n : 1) ))
		ST[$m]+="$st "; ALL[$m]+="$all "
		echo "round $r $m: $n state events, $st ns each, $all ns per event for all programs" >&2
	done
done
for m in $MODES; do
	echo "$m $(echo ${ST[$m]} | tr ' ' '\n' | median) $(echo ${ALL[$m]} | tr ' ' '\n' | median)"
done
