#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make bench: tcpfsm against no tracer and against its peers, side by side in
# one run (runs alternated A B A B ..., medians and per-pair ratios), on a
# loopback connection storm. Writes build/bench/results.md and the table
# between the bench markers in README.md. Needs root. Not part of make test.
set -u
cd "$(dirname "$0")/../.."
TCPFSM=$PWD/build/tcpfsm
STORM=$PWD/build/storm
PAIRS=${PAIRS:-5}
SECS=${SECS:-4}
# 8 client threads saturate both CPUs (2 only fill them to half: the storm
# is then latency-bound and blind to a tracer's CPU cost)
THREADS=${THREADS:-8}
PORT=7400
OUTDIR=build/bench
mkdir -p "$OUTDIR"
RES=$OUTDIR/results.md
LOG=$OUTDIR/bench.log
: > "$LOG"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null' EXIT

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
for t in tcpstates bpftrace; do
	command -v $t >/dev/null || { echo "bench: $t missing (apt-get install libbpf-tools bpftrace)" >&2; exit 1; }
done

log() { echo "$*" | tee -a "$LOG" >&2; }

BPFTRACE_PROG='
tracepoint:sock:inet_sock_set_state /args->protocol == 6/ {
	$sk = args->skaddr;
	if (@start[$sk]) { @dur[args->oldstate] = hist(nsecs - @start[$sk]); }
	@start[$sk] = nsecs;
	if (args->newstate == 7) { delete(@start[$sk]); }
}'

# Start config $1 in the background; sets TPID; stderr in $tmp/err.
start_tracer() {
	local cfg=$1
	: > "$tmp/err"
	TPID=
	case $cfg in
	base) return ;;
	serve) "$TCPFSM" serve --listen 127.0.0.1:19999 --port $PORT >/dev/null 2>"$tmp/err" & ;;
	history) "$TCPFSM" history --port $PORT >/dev/null 2>"$tmp/err" & ;;
	trace) "$TCPFSM" trace --json --port $PORT >/dev/null 2>"$tmp/err" & ;;
	tcpstates)
		# tracefs in a private mount namespace: nothing left behind
		unshare -m sh -c 'mountpoint -q /sys/kernel/tracing ||
			mount -t tracefs nodev /sys/kernel/tracing; exec tcpstates' \
			>/dev/null 2>"$tmp/err" & ;;
	bpftrace) bpftrace -e "$BPFTRACE_PROG" >/dev/null 2>"$tmp/err" & ;;
	esac
	TPID=$!
	# ready: tcpfsm says so; the others get a fixed grace
	for _ in $(seq 100); do
		grep -q "tracing TCP\|Attaching\|TIME " "$tmp/err" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
	# a peer that did not start would make a free-looking run
	if ! kill -0 "$TPID" 2>/dev/null; then
		log "bench: $cfg did not start: $(head -c 300 "$tmp/err")"
		exit 1
	fi
	# CPU spent loading, verifying and seeding is not per-event work
	CPU0=$(cpu_ticks "$TPID")
}

cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat 2>/dev/null || echo 0; }

stop_tracer() {
	[ -n "$TPID" ] || return 0
	CPU_TICKS=$(( $(cpu_ticks "$TPID") - ${CPU0:-0} ))
	kill -INT "$TPID" 2>/dev/null
	wait "$TPID" 2>/dev/null
	TPID=
}

# One storm: sets CONNS RATE.
storm() {
	local out
	out=$("$STORM" -t "$THREADS" -d "$SECS" -p $PORT "$@")
	CONNS=$(echo "$out" | sed -n 's/.*conns=\([0-9]*\).*/\1/p')
	RATE=$(echo "$out" | sed -n 's/.*rate=\([0-9]*\).*/\1/p')
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }

HZ=$(getconf CLK_TCK)
declare -A RATIOS LOSTS CPUS
CONFIGS=${CONFIGS:-serve history trace tcpstates bpftrace}
log "bench: $PAIRS pairs x $SECS s per run, storm on 127.0.0.1:$PORT, $(nproc) CPUs, kernel $(uname -r)"
for pair in $(seq "$PAIRS"); do
	for cfg in $CONFIGS; do
		storm; base=$RATE
		start_tracer "$cfg"
		storm; traced=$RATE; conns=$CONNS
		# the last connections' delayed ACKs (up to 40 ms) still make
		# transitions: let them land before the count
		sleep 0.3
		stop_tracer
		ratio=$(awk -v a="$traced" -v b="$base" 'BEGIN {printf "%.3f", a / b}')
		RATIOS[$cfg]+="$ratio "
		case $cfg in
		serve|history|trace)
			# expected: 10 transitions per connection and the listener's 2
			expected=$((conns * 10 + 2))
			# (serve tracks lazily: the count is the kernel's, after the
			# filters; the tracked sockets' share reached userspace)
			got=$(sed -n 's/^tcpfsm: \([0-9]*\) events, \([0-9]*\) lost.*/\1 \2/p' "$tmp/err")
			recv=${got% *}; lost=${got#* }
			LOSTS[$cfg]+="$expected/$recv/$lost "
			CPUS[$cfg]+="$(awk -v t="$CPU_TICKS" -v hz="$HZ" -v e="$expected" 'BEGIN {printf "%.3f", t / hz / e * 1e6}') "
			;;
		tcpstates)
			lost=$(grep -o 'lost [0-9]* events' "$tmp/err" | awk '{s += $2} END {print s + 0}')
			LOSTS[$cfg]+="?/?/$lost "
			;;
		esac
		log "pair $pair $cfg: base $base/s traced $traced/s ratio $ratio"
	done
done

# BPF time per state event and mode (kernel.bpf_stats_enabled), open loop at
# 10k connections/s: under saturation a softirq interrupting a program is
# billed to it.
declare -A BPFNS
while read -r mode st all; do
	BPFNS[$mode]=$all
done < <(ROUNDS=3 TCPFSM="$TCPFSM" STORM="$STORM" ./tests/bench/bpfcost.sh 2>>"$LOG")
log "bpf: ns per state event, all programs: hist ${BPFNS[hist]}, serve ${BPFNS[serve]}, history ${BPFNS[history]}, trace --json ${BPFNS[trace]}"

# Loss through a 1 s consumer stall at 10k connections/s (open loop).
start_tracer trace
( sleep 1.5; kill -STOP "$TPID"; sleep 1; kill -CONT "$TPID" ) &
storm -r 10000; conns=$CONNS
wait $!
stop_tracer
stall=$(sed -n 's/^tcpfsm: \([0-9]*\) events, \([0-9]*\) lost.*/\1 \2/p' "$tmp/err")
stall_expected=$((conns * 10 + 2))
log "stall: $conns connections at 10000/s, 1 s SIGSTOP: expected $stall_expected, received ${stall% *}, lost ${stall#* }"

# Userspace memory per live connection: history with held connections.
HOLD=${HOLD:-100000}
procs=$(( (HOLD + 8999) / 9000 ))
"$TCPFSM" history >/dev/null 2>"$tmp/err" &
TPID=$!
sleep 2
rss0=$(awk '/VmRSS/ {print $2}' /proc/$TPID/status)
for i in $(seq $procs); do
	"$STORM" -m hold -n $((HOLD / procs)) -d 30 > "$tmp/hold.$i" &
done
for _ in $(seq 300); do
	[ "$(cat "$tmp"/hold.* 2>/dev/null | grep -c holding)" -eq "$procs" ] && break
	sleep 0.2
done
held=$(cat "$tmp"/hold.* | sed -n 's/storm: holding //p' | awk '{s += $1} END {print s}')
sleep 1
rss1=$(awk '/VmRSS/ {print $2}' /proc/$TPID/status)
kill $(jobs -p | grep -v "^$TPID$") 2>/dev/null
stop_tracer
wait 2>/dev/null
per_conn=$(awk -v a="$rss0" -v b="$rss1" -v n="$held" 'BEGIN {printf "%.0f", (b - a) * 1024 / n}')
per_sock=$(awk -v a="$rss0" -v b="$rss1" -v n="$held" 'BEGIN {printf "%.0f", (b - a) * 1024 / (2 * n)}')
log "memory: $held connections ($((2 * held)) sockets) held: RSS $rss0 -> $rss1 KiB: $per_conn bytes per connection, $per_sock per tracked socket"

{
	echo "Measured $(date -u +%Y-%m-%d) on $(nproc) CPUs, kernel $(uname -r), by \`make bench\`"
	echo "($PAIRS pairs of ${SECS} s runs, alternated with a no-tracer baseline; loopback"
	echo "storm of $THREADS client threads, connect/send/recv/close, 10 transitions a connection)."
	echo
	echo "| tracer | throughput vs no tracer (median) | per-pair ratios | events expected/received/lost (per run) | userspace CPU s per 10^6 events (median) |"
	echo "| --- | --- | --- | --- | --- |"
	for cfg in $CONFIGS; do
		name=$cfg
		case $cfg in
		serve) name='`tcpfsm serve`' ;;
		history) name='`tcpfsm history > /dev/null`' ;;
		trace) name='`tcpfsm trace --json > /dev/null`' ;;
		tcpstates) name='`tcpstates > /dev/null` (libbpf-tools)' ;;
		bpftrace) name='`bpftrace` in-kernel histogram' ;;
		esac
		med=$(echo ${RATIOS[$cfg]} | tr ' ' '\n' | median)
		cpu=$( [ -n "${CPUS[$cfg]:-}" ] && echo ${CPUS[$cfg]} | tr ' ' '\n' | median || echo "—")
		echo "| $name | $med | ${RATIOS[$cfg]} | ${LOSTS[$cfg]:-—} | $cpu |"
	done
	echo
	echo "- BPF time per state event, all tcpfsm programs (\`kernel.bpf_stats_enabled\`, which adds its own clock reads; open loop at 10,000 connections/s, median of 3): \`hist\` ${BPFNS[hist]} ns (histograms only), \`serve\` ${BPFNS[serve]} ns (lazy: few records), \`history\` ${BPFNS[history]} ns and \`trace --json\` ${BPFNS[trace]} ns (a ring-buffer record per event)."
	echo "- Userspace CPU excludes loading and the startup snapshot: from the moment it traces to its exit."
	echo "- 1 s consumer stall (SIGSTOP/SIGCONT) at 10,000 connections/s: expected $stall_expected events, received ${stall% *}, lost ${stall#* }."
	echo "- Memory: $held connections held open ($((2 * held)) tracked sockets): \`history\` RSS $rss0 → $rss1 KiB, $per_sock bytes per tracked socket ($per_conn per connection)."
	echo "- serve tracks lazily: its count is the kernel's (after the filters); only sockets that stay a while in one state reach userspace, so its CPU per event is near zero."
} > "$RES"
cat "$RES"

# README: replace the table between the markers
/usr/bin/python3 - "$RES" <<'PY'
import sys
res = open(sys.argv[1]).read()
s = open("README.md").read()
a, b = "<!-- bench:start -->", "<!-- bench:end -->"
if a in s and b in s:
    s = s[:s.index(a) + len(a)] + "\n" + res + s[s.index(b):]
    open("README.md", "w").write(s)
PY
