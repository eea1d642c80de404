#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make soak: `tcpfsm serve` under SOAK_SECONDS (default 600) of connection
# churn; reports RSS after warm-up and at the end, the connection table,
# events lost, and whether the kernel's histogram counts match the storm's
# own count. Needs root; not part of make test.
set -u
cd "$(dirname "$0")/../.."
TCPFSM=$PWD/build/tcpfsm
STORM=$PWD/build/storm
SECS=${SOAK_SECONDS:-600}
PORT=7500
LISTEN=127.0.0.1:19950
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill $(jobs -p) 2>/dev/null' EXIT

"$TCPFSM" serve --listen $LISTEN --port $PORT >/dev/null 2>"$tmp/err" &
TPID=$!
for _ in $(seq 100); do grep -q "tracing TCP" "$tmp/err" && break; sleep 0.1; done
# churn in the background; the server closes first: 10 transitions each
"$STORM" -t 4 -d "$SECS" -p $PORT > "$tmp/storm" &
SPID=$!
rss() { awk '/VmRSS/ {print $2}' /proc/$TPID/status; }
metric() { curl -s "http://$LISTEN/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
sleep $((SECS / 10 > 5 ? SECS / 10 : 5))
warm=$(rss)
echo "soak: ${SECS}s of churn; RSS after warm-up ${warm} KiB"
while kill -0 $SPID 2>/dev/null; do
	sleep $((SECS / 10 > 5 ? SECS / 10 : 5))
	kill -0 $SPID 2>/dev/null || break
	echo "soak: RSS $(rss) KiB, events $(metric tcpfsm_events_total), lost $(metric tcpfsm_events_lost_total), TIME_WAIT tracked $(metric 'tcpfsm_connections{state="TIME_WAIT"}')"
done
wait $SPID
sleep 1
end=$(rss)
conns=$(sed -n 's/.*conns=\([0-9]*\).*/\1/p' "$tmp/storm")
synsent=$(metric 'tcpfsm_state_duration_seconds_count{state="SYN_SENT"}')
lost=$(metric tcpfsm_events_lost_total)
kill -INT $TPID
wait $TPID
echo "soak: $conns connections; RSS ${warm} -> ${end} KiB; SYN_SENT histogram count ${synsent} (storm: ${conns}); lost ${lost}"
[ "$synsent" = "$conns" ] && [ "$lost" = 0 ] && echo "soak: PASS" || { echo "soak: FAIL"; exit 1; }
