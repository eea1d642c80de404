#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make bench: tcpfsm against no tracer, against the floor (a BPF program that
# only counts, on the same tracepoint) and against its peers, side by side in
# one alternated run, on a loopback connection storm; then whether a storm
# made anything go missing, a request/response workload (no transitions at
# all: what tracing costs while nothing happens), BPF time per event, a
# consumer stall and memory per connection. Writes build/bench/results.md
# (and the table between the bench markers in README.md). Needs root. Not
# part of make test: tests check behaviour, never timings.
set -u
cd "$(dirname "$0")/../.."
TCPFSM=$PWD/build/tcpfsm
STORM=$PWD/build/storm
FLOOR=$PWD/build/floor
# rounds: every mode once per round, each run right after its own no-tracer
# run (the ratio of that pair); the order rotates from round to round
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-4}
# 8 client threads saturate both CPUs (2 only fill them to half: the storm
# is then latency-bound and blind to a tracer's CPU cost)
THREADS=${THREADS:-8}
MODES=${MODES:-floor serve history trace hist tcpstates bpftrace}
EXACT_MODES=${EXACT_MODES:-serve history trace hist}
EXACT_SECS=${EXACT_SECS:-3}
RR_PAIRS=${RR_PAIRS:-2}
PORT=7400
RR_PORT=7402
NS=tcpfsm-bench-$$
OUTDIR=build/bench
mkdir -p "$OUTDIR"
RES=$OUTDIR/results.md
LOG=$OUTDIR/bench.log
: > "$LOG"
tmp=$(mktemp -d)
STATS0=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$STATS0" 2>/dev/null
	kill $(jobs -p) 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
T_START=$(date +%s)

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
for t in tcpstates bpftrace bpftool ip ss; do
	command -v $t >/dev/null || { echo "bench: $t missing (apt-get install libbpf-tools bpftrace bpftool iproute2)" >&2; exit 1; }
done

log() { echo "$*" | tee -a "$LOG" >&2; }
median() { sort -n | awk 'NF {a[++n]=$1} END {if (!n) print "—"; else if (n%2) print a[(n+1)/2]; else printf "%.3f\n", (a[n/2]+a[n/2+1])/2}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b ? a / b : 0}'; }

BPFTRACE_PROG='
tracepoint:sock:inet_sock_set_state /args->protocol == 6/ {
	$sk = args->skaddr;
	if (@start[$sk]) { @dur[args->oldstate] = hist(nsecs - @start[$sk]); }
	@start[$sk] = nsecs;
	if (args->newstate == 7) { delete(@start[$sk]); }
}'

WITH_TRACEFS='mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing;'

# Start mode $1 in the background with tcpfsm's filter $2; sets TPID (empty
# for none); stderr in $tmp/err.
start_tracer() {
	local mode=$1 filter=$2
	: > "$tmp/err"
	TPID=
	case $mode in
	none) return ;;
	floor) # counts everything, or one namespace (-n) where one is asked for
		case $filter in
		--netns\ *) "$FLOOR" -n "$(stat -L -c %i "${filter#--netns }")" 2>"$tmp/err" & ;;
		*) "$FLOOR" 2>"$tmp/err" & ;;
		esac ;;
	serve) "$TCPFSM" serve --listen 127.0.0.1:19999 $filter >/dev/null 2>"$tmp/err" & ;;
	history) "$TCPFSM" history $filter >/dev/null 2>"$tmp/err" & ;;
	trace) "$TCPFSM" trace --json $filter >/dev/null 2>"$tmp/err" & ;;
	hist) "$TCPFSM" hist $filter >/dev/null 2>"$tmp/err" & ;;
	# classic tracepoints need tracefs: mounted in a private mount
	# namespace, nothing is left behind
	tcpstates) unshare -m sh -c "$WITH_TRACEFS"' exec tcpstates' >/dev/null 2>"$tmp/err" & ;;
	bpftrace)
		unshare -m sh -c "$WITH_TRACEFS"' exec bpftrace -e "$0"' "$BPFTRACE_PROG" \
			>"$tmp/err" 2>&1 & ;;
	*) log "bench: unknown mode $mode"; exit 1 ;;
	esac
	TPID=$!
	# ready: tcpfsm, the floor and bpftrace say so; tcpstates once it holds
	# its programs
	for _ in $(seq 100); do
		grep -q "tracing TCP\|counting TCP\|Attaching" "$tmp/err" 2>/dev/null && break
		[ "$mode" = tcpstates ] && [ -n "$(prog_ids "$TPID")" ] && break
		sleep 0.1
	done
	sleep 0.5
	# a tracer that did not start would make a free-looking run
	if ! kill -0 "$TPID" 2>/dev/null; then
		log "bench: $mode did not start: $(head -c 300 "$tmp/err")"
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

# The BPF programs process $1 holds (its fds name them), as ids.
prog_ids() { grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un; }

# "name run_cnt run_time_ns recursion_misses" per program id given.
prog_stats() {
	bpftool prog show -j | /usr/bin/python3 -c '
import json, sys
ids = set(int(x) for x in sys.argv[1:])
for p in json.load(sys.stdin):
    if p["id"] in ids:
        print(p.get("name", "?"), p.get("run_cnt", 0), p.get("run_time_ns", 0),
              p.get("recursion_misses", 0))' "$@"
}

# The runs the kernel skipped (recursion misses) over the programs of $1
# that have no one to take over: tcpfsm's primaries (each skipped run falls
# to its backup, and a backup is skipped only while its primary runs), the
# floor's one program.
kernel_misses() {
	prog_stats $(prog_ids "$1") | awk '$1 !~ /_bak$|_twin$/ {s += $4} END {print s + 0}'
}

# tcpfsm's own account, from its stderr: sets EVENTS RING REPORTED_MISSED.
parse_summary() {
	EVENTS=$(sed -n 's/^tcpfsm: \([0-9]*\) events, [0-9]* lost.*/\1/p; s/^tcpfsm: \([0-9]*\) transitions.*/\1/p' "$tmp/err" | head -n 1)
	RING=$(sed -n 's/.*warning: \([0-9]*\) events were lost.*/\1/p' "$tmp/err" | head -n 1)
	REPORTED_MISSED=$(sed -n 's/.*warning: \([0-9]*\) transitions were missed.*/\1/p' "$tmp/err" | head -n 1)
	if [ -z "$EVENTS" ]; then # the floor: "floor: N transitions, M missed"
		EVENTS=$(sed -n 's/^floor: \([0-9]*\) transitions.*/\1/p' "$tmp/err" | head -n 1)
		REPORTED_MISSED=$(sed -n 's/^floor: [0-9]* transitions, \([0-9]*\) missed.*/\1/p' "$tmp/err" | head -n 1)
	fi
	EVENTS=${EVENTS:-0} RING=${RING:-0} REPORTED_MISSED=${REPORTED_MISSED:-0}
}

# One storm (args: extra storm options, before them an optional
# "ip netns exec NS"): sets CONNS RATE FAILED.
storm() {
	local out
	out=$("$@")
	CONNS=$(echo "$out" | sed -n 's/.*conns=\([0-9]*\).*/\1/p')
	RATE=$(echo "$out" | sed -n 's/.* rate=\([0-9]*\).*/\1/p')
	FAILED=$(echo "$out" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
}

# Connections on port $1 not yet in TIME_WAIT (or gone): transitions to come.
unfinished() { ${2:-} ss -Htan exclude time-wait "( sport = :$1 or dport = :$1 )" | wc -l; }
settle() {
	for _ in $(seq 100); do
		[ "$(unfinished "$@")" -eq 0 ] && break
		sleep 0.05
	done
	# the last events still in the rings: tcpfsm releases them after 10 ms
	# and polls every 50
	sleep 0.3
}

name_of() {
	case $1 in
	floor) echo 'floor: `build/floor` (a tp_btf counter)' ;;
	serve) echo '`tcpfsm serve`' ;;
	history) echo '`tcpfsm history > /dev/null`' ;;
	trace) echo '`tcpfsm trace --json > /dev/null`' ;;
	hist) echo '`tcpfsm hist`' ;;
	tcpstates) echo '`tcpstates > /dev/null` (libbpf-tools)' ;;
	bpftrace) echo '`bpftrace` in-kernel histogram' ;;
	*) echo "$1" ;;
	esac
}

is_tcpfsm() { case $1 in serve|history|trace|hist) return 0 ;; esac; return 1; }

HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
HYPERVISOR=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor:[[:space:]]*//p')
MEM_GIB=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
MACHINE="$CPU_MODEL, $NCPU cores${HYPERVISOR:+ ($HYPERVISOR guest)}, $MEM_GIB GiB, kernel $(uname -r)"
log "bench: $MACHINE; load average $LOAD0"

# After a tcpfsm run: its own account (parse_summary) against the storm's
# count, under key $1 ("MODE STORM") of the exactness table, with $2
# connections and $3 kernel recursion misses; sets expected.
exact() {
	local key=$1 conns=$2 misses=$3
	parse_summary
	# 10 transitions per connection and the listener's 2
	expected=$((conns * 10 + 2))
	EX_CONNS[$key]+="$conns "
	EX_MISS[$key]+="$misses "
	EX_RING[$key]+="$RING "
	EX_DIFF[$key]+="$((EVENTS - expected)) "
	EX_MISSED[$key]+="$REPORTED_MISSED "
	EX_SILENT[$key]+="$((expected - EVENTS - REPORTED_MISSED)) "
	[ "$REPORTED_MISSED" -eq 0 ] && [ "$RING" -eq 0 ] && [ "$EVENTS" -eq "$expected" ] &&
		EX_OK[$key]=$(( ${EX_OK[$key]:-0} + 1 ))
}

# 1. Throughput under the storm: every mode against its own no-tracer run
# and, within the round, against the floor.
declare -A RATIOS FRATIOS CPUS EX_MISS EX_RING EX_DIFF EX_CONNS EX_OK EX_SILENT EX_MISSED
read -r -a modes <<<"$MODES"
log "storm: $ROUNDS rounds of ${#modes[@]} modes, $SECS s runs, $THREADS client threads on 127.0.0.1:$PORT"
for round in $(seq "$ROUNDS"); do
	declare -A this=()
	n=${#modes[@]}
	for i in $(seq 0 $((n - 1))); do
		mode=${modes[$(( (i + round - 1) % n ))]}
		storm "$STORM" -t "$THREADS" -d "$SECS" -p $PORT; base=$RATE
		start_tracer "$mode" "--port $PORT"
		storm "$STORM" -t "$THREADS" -d "$SECS" -p $PORT; traced=$RATE; conns=$CONNS
		extra=""
		if is_tcpfsm "$mode"; then
			settle $PORT
			misses=$(kernel_misses "$TPID")
		fi
		stop_tracer
		ratio=$(div "$traced" "$base")
		this[$mode]=$ratio
		RATIOS[$mode]+="$ratio "
		if is_tcpfsm "$mode"; then
			exact "$mode loopback" "$conns" "$misses"
			CPUS[$mode]+="$(awk -v t="$CPU_TICKS" -v hz="$HZ" -v e="$expected" 'BEGIN {printf "%.3f", t / hz / e * 1e6}') "
			extra=" events $EVENTS of $expected, $misses missed, $RING ring-lost"
		fi
		if [ "$mode" = tcpstates ]; then
			lost=$(grep -o 'lost [0-9]* events' "$tmp/err" | awk '{s += $2} END {print s + 0}')
			extra=" (says $lost events lost)"
		fi
		log "round $round $mode: none $base/s, traced $traced/s, ratio $ratio$extra"
	done
	if [ -n "${this[floor]:-}" ]; then
		for mode in "${modes[@]}"; do
			FRATIOS[$mode]+="$(div "${this[$mode]}" "${this[floor]}") "
		done
	fi
	unset this
done

# 2. Nothing missed: the same storm in a namespace whose lo spreads receive
# processing over the CPUs (RPS), as hosts do with a NIC's. A packet then
# reaches its socket in a softirq raised by an IPI on the other CPU, which
# interrupts whatever runs there, a tracer's program in task context
# included; without RPS, loopback receive runs in the sender's own
# local_bh_enable() and hardly ever nests.
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
rps=none
if [ "$NCPU" -le 32 ] && ip netns exec "$NS" sh -c \
	"printf '%x' $(( (1 << NCPU) - 1 )) > /sys/class/net/lo/queues/rx-0/rps_cpus" 2>/dev/null; then
	rps=$(ip netns exec "$NS" cat /sys/class/net/lo/queues/rx-0/rps_cpus)
fi
log "exact: $ROUNDS runs per mode, $EXACT_SECS s storms in netns $NS (lo rps_cpus $rps)"
for run in $(seq "$ROUNDS"); do
	for mode in $EXACT_MODES floor; do
		start_tracer "$mode" "--netns /run/netns/$NS"
		storm ip netns exec "$NS" "$STORM" -t "$THREADS" -d "$EXACT_SECS" -p $PORT
		conns=$CONNS
		settle $PORT "ip netns exec $NS"
		misses=$(kernel_misses "$TPID")
		stop_tracer
		exact "$mode rps" "$conns" "$misses"
		log "exact run $run $mode: $conns connections ($FAILED failed), expected $expected, events $EVENTS, missed $REPORTED_MISSED (primary skips taken by backups: $misses), ring-lost $RING"
	done
done
ip netns del "$NS"

# 3. Request/response on persistent connections: no transition at all, so
# whatever tracing costs here it costs on every host all the time.
log "request/response: $ROUNDS pairs, $SECS s runs, $RR_PAIRS ping-pong pairs on 127.0.0.1:$RR_PORT"
RR_RATIOS=""
for pair in $(seq "$ROUNDS"); do
	storm "$STORM" -m pingpong -t "$RR_PAIRS" -d "$SECS" -p $RR_PORT; base=$RATE
	start_tracer serve "--port $RR_PORT"
	storm "$STORM" -m pingpong -t "$RR_PAIRS" -d "$SECS" -p $RR_PORT; traced=$RATE
	stop_tracer
	ratio=$(div "$traced" "$base")
	RR_RATIOS+="$ratio "
	log "rr pair $pair serve: none $base/s, traced $traced/s, ratio $ratio"
done
# then one run with the kernel's BPF statistics on (they cost two clock
# reads per program run: not during the ratios above)
start_tracer serve "--port $RR_PORT"
ids=$(prog_ids "$TPID")
sysctl -qw kernel.bpf_stats_enabled=1
"$STORM" -m pingpong -t "$RR_PAIRS" -d "$SECS" -p $RR_PORT > "$tmp/rr" &
spid=$!
for _ in $(seq 100); do grep -q ready "$tmp/rr" && break; sleep 0.05; done
prog_stats $ids > "$tmp/st0"
wait $spid
prog_stats $ids > "$tmp/st1"
sysctl -qw kernel.bpf_stats_enabled="$STATS0"
stop_tracer
rr_secs=$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' "$tmp/rr")
RR_PROGS=$(join <(sort "$tmp/st0") <(sort "$tmp/st1") | awk -v s="$rr_secs" -v n="$NCPU" '
	{ runs = $5 - $2; ns = $6 - $3
	  if (runs > 0) printf "| `%s` | %.0f | %.0f | %.2f %% |\n", $1, runs / s, ns / runs, ns / (s * 1e9 * n) * 100 }')
RR_TOTAL=$(join <(sort "$tmp/st0") <(sort "$tmp/st1") | awk -v s="$rr_secs" -v n="$NCPU" '
	{ ns += $6 - $3 } END { printf "%.2f", ns / (s * 1e9 * n) * 100 }')
log "rr bpf_stats over ${rr_secs}s (serve): total $RR_TOTAL % of the machine"
echo "$RR_PROGS" | tee -a "$LOG" >&2

# 4. BPF time per state event and mode (kernel.bpf_stats_enabled), open loop
# at 10k connections/s: under saturation a softirq interrupting a program is
# billed to it.
declare -A BPFNS
while read -r mode st all; do
	BPFNS[$mode]=$all
done < <(ROUNDS=${BPFCOST_ROUNDS:-3} MODES="hist serve history trace" TCPFSM="$TCPFSM" STORM="$STORM" ./tests/bench/bpfcost.sh 2>>"$LOG")
log "bpf: ns per state event, all programs: hist ${BPFNS[hist]:-?}, serve ${BPFNS[serve]:-?}, history ${BPFNS[history]:-?}, trace --json ${BPFNS[trace]:-?}"

# 5. Loss through a 1 s consumer stall at 10k connections/s (open loop).
start_tracer trace "--port $PORT"
( sleep 1.5; kill -STOP "$TPID"; sleep 1; kill -CONT "$TPID" ) &
storm "$STORM" -t "$THREADS" -d "$SECS" -p $PORT -r 10000; conns=$CONNS
wait $!
settle $PORT
stop_tracer
parse_summary
stall_expected=$((conns * 10 + 2))
stall="expected $stall_expected events, received $EVENTS, ring-lost $RING"
log "stall: $conns connections at 10000/s, 1 s SIGSTOP: $stall"

# 7 (run here, reported last). A flood of dropped UDP: what the drop tracker
# costs on a host that drops many non-TCP packets (tests/bench/dropcost.sh).
declare -A DROPC
while read -r _ key rest; do
	DROPC[$key]=$rest
done < <(ROUNDS=$ROUNDS SECS=$SECS TCPFSM="$TCPFSM" UDPFLOOD="$PWD/build/udpflood" \
	./tests/bench/dropcost.sh 2>>"$LOG" | grep '^dropcost: ')
log "drops: UDP flood dropped by nft, serve vs none ${DROPC[ratio_median]:-?} (${DROPC[ratios]:-}), hist vs none ${DROPC[hist_ratio_median]:-?}, serve - hist ${DROPC[serve_minus_hist_ns_median]:-?} ns per drop; drop program ${DROPC[ns_per_drop]:-?}; ${DROPC[trace_records]:-?} TCP records"

# 6. Userspace memory per live connection: history with held connections.
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

MINUTES=$(( ($(date +%s) - T_START + 30) / 60 ))
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "Measured $(date -u +%Y-%m-%d) by \`make bench\` ($MINUTES minutes) on $MACHINE;"
	echo "load average $LOAD0 at the start, $LOAD1 at the end."
	echo
	echo "**Connection storm** ($THREADS client threads on loopback, connect/send/recv/close, 10"
	echo "transitions a connection, saturating the CPUs): $ROUNDS rounds, each running every mode"
	echo "once (in a rotating order) for $SECS s right after its own $SECS s run with no tracer."
	echo "Ratios are throughput (connections/s) with the tracer over without; \"vs floor\" divides"
	echo "a mode's ratio by the floor's in the same round (1.0: as cheap as counting)."
	echo
	echo "| tracer | vs no tracer (median) | vs floor (median) | per-round ratios to no tracer | userspace CPU s per 10^6 events (median) |"
	echo "| --- | --- | --- | --- | --- |"
	for mode in "${modes[@]}"; do
		med=$(echo ${RATIOS[$mode]} | tr ' ' '\n' | median)
		fmed=$(echo ${FRATIOS[$mode]:-} | tr ' ' '\n' | median)
		cpu=$(echo ${CPUS[$mode]:-} | tr ' ' '\n' | median)
		echo "| $(name_of "$mode") | $med | $fmed | ${RATIOS[$mode]}| $cpu |"
	done
	echo
	echo "**Nothing missed**: per run, the transitions tcpfsm missed by its own account (runs the"
	echo "kernel skipped that no backup program took), the runs of its primary programs the kernel"
	echo "skipped (each taken by the backup: the nesting that lost transitions before), ring-buffer"
	echo "losses, and its event count minus the expected 10 per connection + 2 (0: exact)."
	echo "\"loopback\" are the storm runs above (filtered to the port); \"RPS\" are $EXACT_SECS s storms in"
	echo "a namespace whose lo spreads receive processing over the CPUs (rps_cpus $rps), filtered to"
	echo "that namespace: there a softirq on the other CPU interrupts whatever runs, which is what"
	echo "makes programs nest. \"unseen\" = expected − events − missed: calls the kernel made to no"
	echo "BPF program and counted nowhere; the floor (a bare tp_btf counter, its own misses in the"
	echo "missed column) shows the same under RPS, while perf counts every hit."
	echo
	echo "| tracer | storm | exact runs | missed | primary skips (taken by backups) | ring losses | events − expected | unseen | connections |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for mode in $EXACT_MODES floor; do
		for s in loopback rps; do
			key="$mode $s"
			[ -n "${EX_CONNS[$key]:-}" ] || continue
			runs=$(echo ${EX_CONNS[$key]} | wc -w)
			label=$([ $s = rps ] && echo "RPS" || echo "loopback")
			skips=${EX_MISS[$key]}
			[ "$mode" = floor ] && skips="— "
			echo "| \`$mode\` | $label | ${EX_OK[$key]:-0}/$runs | ${EX_MISSED[$key]}| $skips| ${EX_RING[$key]}| ${EX_DIFF[$key]}| ${EX_SILENT[$key]}| ${EX_CONNS[$key]}|"
		done
	done
	echo
	echo "**Request/response** ($RR_PAIRS client/server pairs ping-ponging 1 byte on persistent loopback"
	echo "connections: not one transition): \`tcpfsm serve\` against no tracer, $ROUNDS alternated pairs"
	echo "of $SECS s runs: median $(echo $RR_RATIOS | tr ' ' '\n' | median) (per pair: $RR_RATIOS)."
	echo "Its BPF programs meanwhile (a further run with \`kernel.bpf_stats_enabled\`, which adds"
	echo "two clock reads per run): $RR_TOTAL % of the $NCPU CPUs in all."
	echo
	echo "| program | runs/s | ns per run | CPU (% of $NCPU CPUs) |"
	echo "| --- | --- | --- | --- |"
	echo "$RR_PROGS"
	echo
	echo "- BPF time per state event, all tcpfsm programs (\`kernel.bpf_stats_enabled\`, which adds its own clock reads; open loop at 10,000 connections/s, median of ${BPFCOST_ROUNDS:-3}): \`hist\` ${BPFNS[hist]:-?} ns (histograms only), \`serve\` ${BPFNS[serve]:-?} ns (lazy: few records), \`history\` ${BPFNS[history]:-?} ns and \`trace --json\` ${BPFNS[trace]:-?} ns (a ring-buffer record per event)."
	echo "- Userspace CPU excludes loading and the startup snapshot: from the moment it traces to its exit."
	echo "- 1 s consumer stall (SIGSTOP/SIGCONT) of \`trace --json\` at 10,000 connections/s: $stall."
	echo "- Memory: $held connections held open ($((2 * held)) tracked sockets): \`history\` RSS $rss0 → $rss1 KiB, $per_sock bytes per tracked socket ($per_conn per connection)."
	echo "- serve tracks lazily: its count is the kernel's (after the filters); only sockets that stay a while in one state reach userspace, so its CPU per event is near zero. \`hist\` aggregates in the kernel and sends nothing."
	echo "- **Drops**: a UDP flood (\`build/udpflood\`, one sender) between two namespaces, dropped by an nft input rule (every packet passes \`skb:kfree_skb\`), $ROUNDS rounds of $SECS s: packets dropped per second with \`serve\` (drops tracked) over no tracer, median ${DROPC[ratio_median]:-?} (${DROPC[ratios]:-}; no tracer ${DROPC[base_rates]:-}/s); with \`hist\` (the same state and softirq programs, no drop program) ${DROPC[hist_ratio_median]:-?}: what drop tracking adds per dropped packet, serve − hist, median ${DROPC[serve_minus_hist_ns_median]:-?} ns (${DROPC[serve_minus_hist_ns]:-}). The drop program itself (\`kernel.bpf_stats_enabled\`, its clock reads included): ${DROPC[ns_per_drop]:-?}. \`trace --drops\` during a flood: ${DROPC[trace_records]:-?} records."
	echo "- Per-run figures: \`build/bench/bench.log\`."
} > "$RES"
cat "$RES"
log "bench: done in $MINUTES minutes"

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
