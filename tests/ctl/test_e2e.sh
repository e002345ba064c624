#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: a private PostgreSQL, sluice-controller, and a REAL sluiced
# whose host agent connects to it (configured with controller, host-id,
# controller-token). sluicectl --controller brings examples/demo.json up
# on that host; a psycopg2 script steers the live link (COMMIT -> TBF in
# the kernel under 200 ms); metrics reach the database; the controller is
# killed and restarted without a gap in the metrics; down removes it all.
# The topology gets a name unique to this run, so that a demo another test
# has up is never touched. Needs root; exits 77 (skip) without PostgreSQL.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

T=e2e$$                       # the topology's name
HOST=e2e-host                 # the sluiced's id at the controller
NS_R1=sluice.$T.r1

skip_all() { echo "1..0 # SKIP $*"; [ -n "${CTL_DIR:-}" ] && rm -rf "$CTL_DIR"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (namespaces)"
[ -x "$B/sluice-controller" ] && [ -x "$SLUICED" ] && [ -x "$SLUICECTL" ] ||
	skip_all "build/sluice-controller, sluiced, sluicectl are not built (make)"
. "$(dirname "$0")/ctl_lib.sh"
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] ||
	skip_all "PostgreSQL server binaries not found (apt-get install postgresql)"

SC() { "$SLUICECTL" --controller "http://127.0.0.1:$CTL_PORT" --token "$API_TOKEN" "$@"; }

# sluiced with the controller keys in its configuration file; the pid file
# is lib.sh's, so t_daemon_stop and t_cleanup_all stop it.
e2e_daemon_start() {
	mkdir -p "$SLUICE_RUNDIR"
	rm -f "$SLUICE_SOCKET"
	cat >"$SLUICE_RUNDIR/sluiced.conf" <<CONF
# written by tests/ctl/test_e2e.sh
log-level = info
controller = ws://127.0.0.1:$CTL_PORT/ws
host-id = $HOST
controller-token = $E2E_TOKEN
CONF
	"$SLUICED" --foreground -c "$SLUICE_RUNDIR/sluiced.conf" --rundir "$SLUICE_RUNDIR" \
		>>"$SLUICE_RUNDIR/sluiced.log" 2>&1 &
	echo $! >"$SLUICE_RUNDIR/test-daemon.pid"
	wait_for 10 test -S "$SLUICE_SOCKET" || { tail -20 "$SLUICE_RUNDIR/sluiced.log"; return 1; }
}

e2e_cleanup() {
	# the namespaces first (the local daemon knows them), then the rest
	[ -S "$SLUICE_SOCKET" ] && "$SLUICECTL" down --all >/dev/null 2>&1
	t_daemon_stop
	mkdir -p "$ART"
	cp "$SLUICE_RUNDIR/sluiced.log" "$ART/e2e-sluiced.log" 2>/dev/null
	cp "$CTL_DIR/controller.log" "$ART/e2e-controller.log" 2>/dev/null
	rm -rf "$SLUICE_RUNDIR"
	ctl_cleanup
	# a namespace left by a failed teardown must not outlive the test
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -- "^sluice\.$T\(\.\|$\)"); do
		ip netns del "$ns" 2>/dev/null
	done
}

host_online() { SC hosts | grep -Eq "^$HOST +online "; }

metrics_gapless() { # per boot of the host: seqs 1..max, none missing
	local r
	r=$(psqlq "SELECT count(*) = max(seq) - min(seq) + 1 AND min(seq) = 1
		FROM metrics WHERE host_id = '$HOST' GROUP BY boot")
	[ -n "$r" ] && ! echo "$r" | grep -q f
}

max_seq() { psqlq "SELECT coalesce(max(seq), 0) FROM metrics WHERE host_id = '$HOST'"; }

link_packets() { # A B DIR: the newest packets counter stored for it
	psqlq "SELECT coalesce(max(packets), 0) FROM link_metrics
		WHERE host_id = '$HOST' AND topology = '$T' AND a = '$1' AND b = '$2' AND dir = '$3'"
}

# --- the steps ------------------------------------------------------------

t_host_connects() {
	wait_for 10 host_online || { SC hosts; tail -5 "$SLUICE_RUNDIR/sluiced.log"; return 1; }
	SC hosts
	grep -q "controller" "$SLUICE_RUNDIR/sluiced.log" || true
}

t_up() {
	local out ns
	out=$(SC up examples/demo.json --name "$T" --timeout 30) || { echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q "^$T: 3 nodes, 2 links up on host $HOST in " || return 1
	for ns in "sluice.$T.h1" "sluice.$T.r1" "sluice.$T.h2"; do
		ip netns list | grep -q "^$ns\b" || { echo "namespace $ns missing"; return 1; }
	done
	SC list
	SC list | grep -Eq "^$T +up +$HOST +3 +2 " || return 1
	[ "$(psqlq "SELECT state FROM topologies WHERE name = '$T'")" = up ]
}

t_ping_local() {
	# the local sluiced knows the topology the controller placed there
	"$SLUICECTL" exec "$T:h1" ping -c 3 -i 0.2 -W 2 h2
}

t_up_errors() {
	local out rc
	# the name is in use: the controller's 409 -> exit 1, its message
	out=$(SC up examples/demo.json --name "$T" 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 1 ] && echo "$out" | grep -q "sluicectl: topology \"$T\" is up; expected a name not in use" || return 1
	# an invalid file never leaves sluicectl: exit 2, the file and path
	out=$(echo '{"name":"x","nodes":[{"name":"1a"}]}' | SC up - 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 2 ] && echo "$out" | grep -q "^sluicectl: <stdin>: nodes\[0\]" || return 1
	# a wrong token: 401 -> exit 1 with a hint
	out=$("$SLUICECTL" --controller "http://127.0.0.1:$CTL_PORT" --token nope hosts 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 1 ] && echo "$out" | grep -q -- "--token or \$SLUICE_TOKEN" || return 1
	# the controller's 400 -> exit 2
	out=$(SC policy set "$T" h1 h2 '{"rate":"1mbit"}' 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 2 ] && echo "$out" | grep -q "no such link" || return 1
	# the URL and the token from the environment, a ws:// URL as sluiced.conf has it
	SLUICE_CONTROLLER=ws://127.0.0.1:$CTL_PORT/ws SLUICE_TOKEN=$API_TOKEN \
		"$SLUICECTL" --json list | grep -q "\"name\": \"$T\""
}

# The waiting of `up` against a simulated host (ctl_lib.sh's sim_start, host
# h1): an apply the host refuses, one it does not answer in time, --json.
t_up_wait_paths() {
	local out rc sim=$CTL_DIR/sim-fail.out ok=0
	sim_start "$sim" --fail-apply
	wait_for 5 grep -q "connected to" "$sim.log" || { cat "$sim.log"; sim_stop_all; return 1; }
	out=$(SC up examples/demo.json --name "${T}f" --host h1 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 1 ] && echo "$out" | grep -q "^sluicectl: ${T}f: failed on host h1: " && ok=$((ok + 1))
	sim_stop_all
	sim_start "$sim"
	wait_for 5 sh -c "[ \$(grep -c 'connected to' '$sim.log') -ge 2 ]"
	kill -STOP "$SIM_PID"
	out=$(SC up examples/demo.json --name "${T}t" --host h1 --timeout 1 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 1 ] && echo "$out" | grep -q "still applying on host h1 after 1 s" && ok=$((ok + 1))
	kill -CONT "$SIM_PID"
	out=$(SC --json up examples/demo.json --name "${T}j" --host h1 2>&1); rc=$?
	echo "$out" | tr -d '\n'; echo " (exit $rc)"
	[ $rc -eq 0 ] && echo "$out" | grep -q '"state": "up"' && echo "$out" | grep -q '"host": "h1"' &&
		ok=$((ok + 1))
	SC -q down "${T}t"; SC -q down "${T}j"; SC -q down "${T}f"
	out=$(SC down "${T}never" 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 1 ] && ok=$((ok + 1))
	sim_stop_all
	[ $ok -eq 4 ]
}

t_policy_latency() {
	"$PY" -c 'import psycopg2' 2>/dev/null || { t_skip_why "python3-psycopg2 is not installed"; return 77; }
	tc -n "$NS_R1" qdisc show | grep -q "rate 20Mbit" || { echo "the file's 20mbit TBF is not there"; return 1; }
	"$PY" tests/ctl/e2e_policy.py "$PG_CONNINFO" "$T" "$NS_R1" 200 14 13 12 11 10 9 8 7 6 5 || return 1
	tc -n "$NS_R1" qdisc show | grep -q "rate 5Mbit"
}

t_goodput() {
	local json bps
	command -v iperf3 >/dev/null || { t_skip_why "iperf3 missing"; return 77; }
	"$SLUICECTL" exec "$T:h2" iperf3 -s -1 -D -p 5299 || return 1
	sleep 0.3
	json=$("$SLUICECTL" exec "$T:h1" iperf3 -c h2 -p 5299 -t 3 -J) || { echo "$json" | tail -5; return 1; }
	bps=$(echo "$json" | "$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))')
	echo "h1 -> h2 goodput $((bps / 1000)) kbit/s under rate 5mbit"
	tc -s -n "$NS_R1" qdisc show | grep -A2 "^qdisc tbf"
	[ "$bps" -gt 4000000 ] && [ "$bps" -lt 5300000 ]
}

t_metrics() {
	local before after
	wait_for 5 sh -c "[ \"\$(psql -X -t -A -c \"SELECT count(*) FROM link_metrics WHERE topology='$T'\")\" -gt 0 ]" ||
		{ echo "no link_metrics rows for $T"; return 1; }
	before=$(link_packets r1 h2 up)
	"$SLUICECTL" exec "$T:h1" ping -q -c 20 -i 0.05 h2 || return 1
	wait_for 3 sh -c "[ \$(psql -X -t -A -c \"SELECT coalesce(max(packets),0) FROM link_metrics
		WHERE host_id='$HOST' AND topology='$T' AND a='r1' AND b='h2' AND dir='up'\") -ge $((before + 20)) ]" ||
		{ echo "r1->h2 packets: $before -> $(link_packets r1 h2 up)"; return 1; }
	after=$(link_packets r1 h2 up)
	echo "r1 -> h2 packets in the database: $before -> $after"
	[ "$(link_packets h1 r1 up)" -ge 20 ] && [ "$(link_packets r1 h2 down)" -ge 20 ]
}

t_stats() {
	local out line
	out=$(SC stats "$T") || return 1
	echo "$out"
	line=$(echo "$out" | grep -E "^$T +r1 +h2 +up +$HOST ") || return 1
	[ "$(echo "$line" | awk '{print $6}')" -gt 20 ] || return 1
	SC --json stats | grep -q "\"topology\": \"$T\""
}

t_policy_cli() {
	local out
	out=$(SC policy set "$T" r1 h2 --dir up '{"rate": "3mbit"}') || return 1
	echo "$out"
	wait_for 2 sh -c "tc -n $NS_R1 qdisc show | grep -q 'rate 3Mbit'" || return 1
	# the keyword form, the topology found from the node
	out=$(SC link set r1 h2 dir up rate 5mbit) || return 1
	echo "$out"
	wait_for 2 sh -c "tc -n $NS_R1 qdisc show | grep -q 'rate 5Mbit'" || return 1
	[ "$(psqlq "SELECT p.policy->>'rate' FROM policies p JOIN links_v l ON l.id = p.link_id
		WHERE l.topology = '$T' AND l.a = 'r1' AND l.b = 'h2' AND p.dir = 'up'")" = 5mbit ]
}

t_controller_restart() {
	local before
	wait_for 5 metrics_gapless || { echo "gaps before the restart"; return 1; }
	before=$(max_seq)
	ctl_stop KILL
	echo "controller killed (-9) at seq $before; sluiced keeps its reports meanwhile"
	sleep 2
	ctl_start --metrics-interval 200 --heartbeat-interval 1000 --host-timeout 5000 || return 1
	wait_for 20 host_online || { echo "the host did not come back"; SC hosts; return 1; }
	SC hosts
	wait_for 10 sh -c "[ \$(psql -X -t -A -c \"SELECT coalesce(max(seq),0) FROM metrics WHERE host_id='$HOST'\") -gt $((before + 12)) ]" ||
		{ echo "metrics did not resume: $(max_seq)"; return 1; }
	echo "metrics resumed: seq $before -> $(max_seq)"
	[ "$(psqlq "SELECT count(*) FROM metrics WHERE host_id = '$HOST' AND seq > $before
		AND received_at - ts > interval '1 second'")" -ge 3 ] ||
		{ echo "no replayed reports (received long after they were taken)"; return 1; }
	metrics_gapless || { psqlq "SELECT boot, min(seq), max(seq), count(*) FROM metrics GROUP BY boot"; return 1; }
	# and the live link still listens to the database
	"$PY" tests/ctl/e2e_policy.py "$PG_CONNINFO" "$T" "$NS_R1" 200 4 5
}

t_down() {
	local out
	out=$(SC down "$T") || { echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q "^$T: down (teardown sent to $HOST)" || return 1
	wait_for 10 sh -c "! ip netns list | grep -q '^sluice\.$T\.'" ||
		{ ip netns list | grep "sluice\.$T"; return 1; }
	! SC list | grep -q "^$T " || return 1
	# the local daemon agrees
	! "$SLUICECTL" list | grep -q "^$T "
}

# --- run ------------------------------------------------------------------

trap e2e_cleanup EXIT
if ! ctl_setup >"$CTL_DIR/setup.log" 2>&1; then
	sed 's/^/# /' "$CTL_DIR/setup.log"
	echo "not ok 1 - set up PostgreSQL and the controller"; echo "1..1"; exit 1
fi
E2E_TOKEN=$("$CONTROLLER" "${CTL_ARGS[@]}" add-host "$HOST" 2>>"$CTL_DIR/setup.log")
if [ -z "$E2E_TOKEN" ] ||
   ! ctl_start --metrics-interval 200 --heartbeat-interval 1000 --host-timeout 5000 >>"$CTL_DIR/setup.log" 2>&1 ||
   ! e2e_daemon_start >>"$CTL_DIR/setup.log" 2>&1; then
	sed 's/^/# /' "$CTL_DIR/setup.log"
	echo "not ok 1 - start the controller and sluiced"; echo "1..1"; exit 1
fi
# killed with -9 in a test: no "Killed" notice from this shell
disown "$CTL_PID" 2>/dev/null

t_run "sluiced's host agent connects (hosts: online)" t_host_connects
t_run "sluicectl --controller up: the topology comes up on sluiced" t_up
t_run "the nodes answer ping (local sluicectl exec)" t_ping_local
t_run "sluicectl --controller: errors and exit statuses" t_up_errors
t_run "sluicectl --controller up: refused, timed out, --json (simulated host)" t_up_wait_paths
t_run "psycopg2 policy row: COMMIT -> TBF in the kernel < 200 ms" t_policy_latency
t_run "iperf3 goodput follows the 5 Mbit/s policy" t_goodput
t_run "link metrics reach the database while a ping runs" t_metrics
t_run "sluicectl --controller stats shows the counters" t_stats
t_run "sluicectl --controller policy set / link set change the live link" t_policy_cli
t_run "controller killed -9 and restarted: sluiced reconnects, no metrics gap" t_controller_restart
t_run "sluicectl --controller down removes the namespaces" t_down
t_done
