#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo: bring up examples/demo.json (h1 - r1 - h2, the r1-h2 link shaped),
# measure it with ping and iperf3, print what was measured, tear down.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
CTL=$B/sluicectl
TOPO=${1:-examples/demo.json}
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$TOPO" 2>/dev/null || echo demo)

# A daemon this demo had to start is stopped again at the end.
started_daemon=0
"$CTL" status >/dev/null 2>&1 || started_daemon=1
cleanup() {
	"$CTL" down "$name" >/dev/null 2>&1
	if [ $started_daemon -eq 1 ]; then
		rundir=${SLUICE_RUNDIR:-/run/sluice}
		[ -f "$rundir/sluiced.pid" ] && kill "$(cat "$rundir/sluiced.pid")" 2>/dev/null
	fi
}
trap cleanup EXIT

echo "== sluice demo: $TOPO"
"$CTL" up "$TOPO" || exit 1
echo
"$CTL" nodes "$name"
echo
"$CTL" links "$name"
echo
echo "== ping h1 -> h2 (10 packets)"
"$CTL" ping h1 h2 -c 10 | tail -3
echo
echo "== iperf3 TCP h1 -> h2, 5 s"
"$CTL" exec "$name:h2" -- iperf3 -s -1 -D >/dev/null 2>&1
sleep 0.5
out=$("$CTL" exec "$name:h1" -- iperf3 -c h2 -t 5 -J 2>&1)
mbit=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e6))' 2>/dev/null)
rtt=$("$CTL" ping h1 h2 -c 10 2>/dev/null | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
echo "== measured: TCP goodput h1 -> h2 = ${mbit:-?} Mbit/s (link shaped to the policy in $TOPO), ping RTT avg ${rtt:-?} ms"
echo "== tearing down"
