#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Release checks. The deployment files are checked by the tools that consume them:
# systemd-analyze, promtool (config, rules, rule unit tests), a YAML parser
# for the Kubernetes manifests, and the binary itself run with only the
# capabilities the unit grants; and valgrind memcheck on replays.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
TCPFSM=${TCPFSM:-$PWD/build/tcpfsm}
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		echo "$out" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
}

unit=deploy/systemd/tcpfsm.service
# verify wants ExecStart's binary to exist: point it at the one we built
sed "s|/usr/local/sbin/tcpfsm|$TCPFSM|" "$unit" > "$tmp/tcpfsm.service"
check "systemd-analyze verify" sh -c "systemd-analyze verify '$tmp/tcpfsm.service' 2>&1 | { ! grep -q .; }"
check "unit: not root, least privilege" sh -c "
	grep -q '^DynamicUser=yes' $unit &&
	grep -q '^CapabilityBoundingSet=CAP_BPF CAP_PERFMON' $unit &&
	grep -q '^SystemCallFilter=@system-service bpf perf_event_open' $unit &&
	grep -q '^ProtectSystem=strict' $unit &&
	grep -q '^NoNewPrivileges=yes' $unit &&
	! grep -q '^User=root' $unit"
check "promtool check config" promtool check config deploy/prometheus/scrape.yml
check "promtool check rules" promtool check rules deploy/prometheus/tcpfsm.rules.yml
check "promtool test rules" sh -c "cd deploy/prometheus && promtool test rules tcpfsm.rules.test.yml"
check "kubernetes manifests" /usr/bin/python3 -c '
import yaml
ds = yaml.safe_load(open("deploy/kubernetes/daemonset.yaml"))
assert ds["kind"] == "DaemonSet", ds["kind"]
spec = ds["spec"]["template"]["spec"]
assert spec["hostNetwork"] and spec["hostPID"]
c = spec["containers"][0]
sc = c["securityContext"]
assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False
assert sc["capabilities"]["drop"] == ["ALL"]
assert {"BPF", "PERFMON"} <= set(sc["capabilities"]["add"])
assert c["args"][0] == "serve"
assert any(p["containerPort"] == 9867 for p in c["ports"])
sc = yaml.safe_load(open("deploy/kubernetes/prometheus-scrape.yml"))
assert sc["scrape_configs"][0]["job_name"] == "tcpfsm-pods"
'
# valgrind memcheck on replays: no invalid access, no definite leak
# (not on the ASan build: the two do not mix, and ASan checks it anyway)
vg_cmds="history --json|trace --json|hist --by comm|watch --json"
ldd "$TCPFSM" | grep -q libasan && vg_cmds=""
IFS='|'
for c in $vg_cmds; do
	unset IFS
	check "valgrind: $c -r" valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite $TCPFSM $c -r tests/data/exchange.tfr
	IFS='|'
done
unset IFS
if [ "$(id -u)" -eq 0 ]; then
	# a copy nobody can reach, wherever this checkout lives
	chmod 755 "$tmp"
	cp "$TCPFSM" "$tmp/tcpfsm"
	chmod 755 "$tmp/tcpfsm"
	TCPFSM=$tmp/tcpfsm
	# what the unit grants is enough: an unprivileged user with only
	# CAP_BPF and CAP_PERFMON loads, attaches and traces
	check "runs as nobody with CAP_BPF+CAP_PERFMON only" sh -c "
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=+bpf,+perfmon --ambient-caps=+bpf,+perfmon \
			$TCPFSM trace -d 300ms 2>&1 | grep -qE '(^|[^0-9])0 lost'"
	check "refuses cleanly without them" sh -c "
		out=\$(setpriv --reuid=65534 --regid=65534 --clear-groups $TCPFSM trace -d 1 2>&1);
		test \$? -eq 1 && echo \"\$out\" | grep -q 'needs root, or the capabilities CAP_BPF and CAP_PERFMON'"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
