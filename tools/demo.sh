#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo: bring up examples/demo.json (h1 - r1 - h2, the r1-h2 link shaped),
# measure it with ping and iperf3, print what was measured, tear down.
#
# Every step is checked: a bring-up, a ping, an iperf3 run that fails, or a
# goodput far from the shaped rate (under half of it, or over it by more
# than 5%), ends the demo with "demo: FAILED: ..." on stderr and exit
# status 1, after the teardown. Success ends with "== done". The last line
# before it, "== measured: ...", is the one to read (tests/net/test_install.sh
# checks the format).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
CTL=$B/sluicectl
TOPO=${1:-examples/demo.json}
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$TOPO" 2>/dev/null) || {
	echo "demo: FAILED: cannot read the topology's name from $TOPO" >&2
	exit 1
}
# The smallest rate any link's policy shapes to (bit/s), for the check of
# the goodput; empty when no link is shaped.
shaped=$(python3 - "$TOPO" <<'PY' 2>/dev/null
import json, re, sys
units = {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}
rates = []
for l in json.load(open(sys.argv[1])).get("links", []):
    p = l.get("policy") or {}
    for d in ([p.get("up") or {}, p.get("down") or {}] if ("up" in p or "down" in p) else [p]):
        m = re.fullmatch(r"([0-9.]+)([kmg]?bit)", str(d.get("rate", "")))
        if m:
            rates.append(float(m.group(1)) * units[m.group(2)])
print("%d" % min(rates) if rates else "")
PY
)
work=$(mktemp -d /tmp/sluice-demo.XXXXXX)

# A daemon this demo had to start is stopped again at the end.
started_daemon=0
"$CTL" status >/dev/null 2>&1 || started_daemon=1
cleanup() {
	# an iperf3 server whose client never came is still waiting
	[ -s "$work/iperf3.pid" ] && kill "$(cat "$work/iperf3.pid")" 2>/dev/null
	"$CTL" down "$name" >/dev/null 2>&1
	if [ $started_daemon -eq 1 ]; then
		rundir=${SLUICE_RUNDIR:-/run/sluice}
		if [ -f "$rundir/sluiced.pid" ]; then
			pid=$(cat "$rundir/sluiced.pid")
			kill "$pid" 2>/dev/null
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		fi
	fi
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

echo "== sluice demo: $TOPO"
"$CTL" up "$TOPO" || fail "sluicectl up $TOPO"
echo
"$CTL" nodes "$name" || fail "sluicectl nodes $name"
echo
"$CTL" links "$name" || fail "sluicectl links $name"
echo
echo "== ping h1 -> h2 (10 packets)"
out=$("$CTL" ping "$name:h1" h2 -c 10 2>&1) || fail "ping h1 -> h2: $(echo "$out" | tail -3 | tr '\n' ' ')"
echo "$out" | tail -3
rtt=$(echo "$out" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
[ -n "$rtt" ] || fail "ping h1 -> h2 printed no round-trip times: $(echo "$out" | tail -2 | tr '\n' ' ')"
echo
echo "== iperf3 TCP h1 -> h2, 5 s"
"$CTL" exec "$name:h2" -- iperf3 -s -1 -D -I "$work/iperf3.pid" >"$work/server.log" 2>&1 ||
	fail "iperf3 server in h2: $(cat "$work/server.log")"
sleep 0.5
out=$("$CTL" exec "$name:h1" -- iperf3 -c h2 -t 5 -J 2>&1) ||
	fail "iperf3 h1 -> h2: $(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("error", "no result"))' 2>/dev/null || printf '%s' "$out" | tail -2)"
mbit=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e6))' 2>/dev/null)
[ -n "$mbit" ] || fail "iperf3 h1 -> h2 gave no goodput: $(printf '%s' "$out" | tail -2 | tr '\n' ' ')"
if [ -n "$shaped" ]; then
	python3 -c "import sys; m=float('$mbit')*1e6; r=float('$shaped'); sys.exit(0 if 0.5*r <= m <= 1.05*r else 1)" ||
		fail "TCP goodput $mbit Mbit/s over a path shaped to $(awk "BEGIN {print $shaped/1e6}") Mbit/s"
	what="the path shaped to $(awk "BEGIN {print $shaped/1e6}") Mbit/s"
else
	what="no link shaped"
fi
echo "== measured: TCP goodput h1 -> h2 = $mbit Mbit/s ($what), ping RTT avg $rtt ms"
echo "== tearing down"
"$CTL" down "$name" >/dev/null || fail "sluicectl down $name"
echo "== done"
