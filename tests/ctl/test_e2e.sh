#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: a private PostgreSQL, sluice-controller, and a REAL sluiced
# whose host agent connects to it (configured with controller, host-id,
# controller-token). sluicectl --controller brings examples/demo.json up
# on that host; a psycopg2 script steers the live link (COMMIT -> TBF in
# the kernel under 200 ms); metrics reach the database; the controller is
# killed and restarted without a gap in the metrics; down removes it all.
# On the way: the hello's capabilities and capacity, flow rows (psycopg2)
# in sluiced's flow table, relay rows (REST, sluicectl --controller relay)
# as relays carrying TCP, taken back by a restarted sluiced, link
# events and error events in the database, per-cell counters of a
# normal-mode link in cell_metrics and /metrics.
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

# pysql SQL: runs one statement as a user's script does (psycopg2, COMMIT)
# and prints the first column of its first row, if any.
pysql() {
	"$PY" - "$PG_CONNINFO" "$1" <<'PY'
import sys
import psycopg2
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute(sys.argv[2])
row = cur.fetchone() if cur.description else None
conn.commit()
print("" if row is None else row[0])
PY
}

have_psycopg2() {
	"$PY" -c 'import psycopg2' 2>/dev/null && return 0
	t_skip_why "python3-psycopg2 is not installed"; return 1
}

# The IPv4 address of a node on lo (what its name resolves to), and on eth0.
node_lo() { ip -n "sluice.$T.$1" -4 -o addr show dev lo scope global | awk '{print $4}' | cut -d/ -f1; }
node_eth0() { ip -n "sluice.$T.$1" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1; }

flows_local() { "$SLUICECTL" flow --name "$T" list; }

# Packets the local flow table matched for rules with text $1.
flow_hits() { flows_local | grep -F -- "$1" | awk '{s += $(NF-1)} END {print s + 0}'; }

# The events of this host, newest first, as "kind|topology|a|b|message".
events_of() { psqlq "SELECT kind, topology, a, b, message FROM events WHERE host_id = '$HOST' ORDER BY id DESC LIMIT ${1:-20}"; }

metrics_text() { curl -s -H "Authorization: Bearer $API_TOKEN" "http://127.0.0.1:$CTL_PORT/metrics"; }

# --- the steps ------------------------------------------------------------

t_host_connects() {
	wait_for 10 host_online || { SC hosts; tail -5 "$SLUICE_RUNDIR/sluiced.log"; return 1; }
	SC hosts
	# The daemon's own agent says so (not only the controller's table).
	grep "host agent: connected to 127.0.0.1:$CTL_PORT as $HOST " "$SLUICE_RUNDIR/sluiced.log" ||
		{ echo "sluiced's log has no connect line"; return 1; }
}

t_hello_caps() {
	local line cpus mem want_mb threads
	line=$(SC hosts | grep -E "^$HOST +online ") || { SC hosts; return 1; }
	echo "$line"
	# HOST STATE VERSION CONNECTED LAST-SEEN CPUS MEMORY MAX-NODES CAPABILITIES
	cpus=$(echo "$line" | awk '{print $6}')
	[ "$cpus" = "$(nproc)" ] || { echo "CPUS $cpus, expected $(nproc)"; return 1; }
	echo "$line" | awk '{print $7}' | grep -Eq '^[0-9]+\.[0-9]GiB$' || { echo "MEMORY is not N.NGiB"; return 1; }
	[ "$(echo "$line" | awk '{print $8}')" -gt 0 ] || { echo "MAX-NODES is not > 0"; return 1; }
	echo "$line" | awk '{print $9}' | tr ',' '\n' | grep -qx max-mode || return 1
	echo "$line" | awk '{print $9}' | tr ',' '\n' | grep -qx flows || return 1
	# the details behind the table
	mem=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
	threads=$(sed -n 's/.*dataplane: \([0-9]*\) thread.*/\1/p' "$SLUICE_RUNDIR/sluiced.log" | tail -1)
	SC --json hosts | HOST=$HOST MEM=$mem THREADS=${threads:-0} "$PY" -c '
import json, os, sys
h = [h for h in json.load(sys.stdin)["hosts"] if h["id"] == os.environ["HOST"]][0]
caps, cap = h["capabilities"], h["capacity"]
print("capabilities:", " ".join(caps))
print("capacity:", cap)
assert cap["memory_mb"] == int(os.environ["MEM"]), "memory_mb %s, /proc/meminfo %s" % (cap["memory_mb"], os.environ["MEM"])
assert 0 < cap["max_nodes"] <= 65536 and cap["memory_available_mb"] <= cap["memory_mb"]
threads = int(os.environ["THREADS"])
assert cap["dataplane_threads"] == threads, "dataplane_threads %s, log says %d" % (cap["dataplane_threads"], threads)
if threads:
    # a dataplane: normal mode and its cells (the engine has delay, rate, ...)
    for c in ("normal-mode", "cell:delay", "cell:rate", "cell:codel"):
        assert c in caps, c + " missing"
else:
    assert "normal-mode" not in caps and not any(c.startswith("cell:") for c in caps)
assert len(caps) == len(set(caps)), "duplicates"
'
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

# A flow row written by a script: sluiced turns it into rules of its flow
# table, one per address of h1 (lo, eth0) to h2's address; real traffic
# hits them; an UPDATE replaces them, enabled = false and DELETE remove
# them.
t_flow_rows() {
	local id h2 rule n
	have_psycopg2 || return 77
	command -v iperf3 >/dev/null || { t_skip_why "iperf3 missing"; return 77; }
	h2=$(node_lo h2)
	rule="dst $h2/32 dport 5201 class 3"
	id=$(pysql "INSERT INTO flows (topology_id, src, dst, proto, dport, mode, class)
		SELECT id, 'h1', 'h2', 'tcp', 5201, 'max', 3 FROM topologies
		WHERE name = '$T' RETURNING id") || return 1
	echo "flow row $id written"
	wait_for 3 sh -c "[ \$('$SLUICECTL' flow --name $T list | grep -cF -- '$rule') -eq 2 ]" ||
		{ flows_local; return 1; }
	flows_local
	flows_local | grep -qF -- "src $(node_lo h1)/32 $rule" || return 1
	flows_local | grep -qF -- "src $(node_eth0 h1)/32 $rule" || return 1
	grep -q "flow_add #[0-9]* done" "$CTL_DIR/controller.log" || return 1
	# the rules match what h1 sends to h2:5201
	"$SLUICECTL" exec "$T:h2" iperf3 -s -1 -D -p 5201 || return 1
	sleep 0.3
	"$SLUICECTL" exec "$T:h1" iperf3 -c h2 -p 5201 -t 1 >/dev/null || return 1
	n=$(flow_hits "$rule")
	echo "packets matched by the flow's rules: $n"
	[ "$n" -gt 100 ] || return 1
	# a new version replaces the rules
	pysql "UPDATE flows SET class = 4 WHERE id = $id" >/dev/null || return 1
	wait_for 3 sh -c "[ \$('$SLUICECTL' flow --name $T list | grep -cF -- 'dport 5201 class 4') -eq 2 ]" ||
		{ flows_local; return 1; }
	! flows_local | grep -qF -- "class 3" || { flows_local; return 1; }
	# disabled: gone; enabled: back; deleted: gone
	pysql "UPDATE flows SET enabled = false WHERE id = $id" >/dev/null || return 1
	wait_for 3 sh -c "! '$SLUICECTL' flow --name $T list | grep -qF 'dport 5201'" || { flows_local; return 1; }
	pysql "UPDATE flows SET enabled = true WHERE id = $id" >/dev/null || return 1
	wait_for 3 sh -c "[ \$('$SLUICECTL' flow --name $T list | grep -cF -- 'dport 5201 class 4') -eq 2 ]" ||
		{ flows_local; return 1; }
	pysql "DELETE FROM flows WHERE id = $id" >/dev/null || return 1
	wait_for 3 sh -c "! '$SLUICECTL' flow --name $T list | grep -qF 'dport 5201'" || { flows_local; return 1; }
	echo "after DELETE:"; flows_local
}

# Rows sluiced cannot carry out: the ack fails, and the host's error event
# (naming the row and the field) is stored.
t_error_events() {
	local fid rid
	have_psycopg2 || return 77
	fid=$(pysql "INSERT INTO flows (topology_id, src, dst) SELECT id, 'nope', 'h2'
		FROM topologies WHERE name = '$T' RETURNING id") || return 1
	wait_for 3 sh -c "psql -X -t -A -c \"SELECT message FROM events WHERE host_id = '$HOST'
		AND kind = 'error' AND topology = '$T'\" | grep -qF 'flow $fid: field \"src\": no node \"nope\"'" ||
		{ events_of 5; return 1; }
	grep -q "flow_add #[0-9]* failed: flow $fid: field \"src\"" "$CTL_DIR/controller.log" || return 1
	rid=$(pysql "INSERT INTO relays (topology_id, node, port, to_node, to_port)
		SELECT id, 'h1', 9100, 'nope', 80 FROM topologies WHERE name = '$T' RETURNING id") || return 1
	wait_for 3 sh -c "psql -X -t -A -c \"SELECT message FROM events WHERE host_id = '$HOST'
		AND kind = 'error'\" | grep -qF 'relay $rid: no node \"nope\"'" || { events_of 5; return 1; }
	events_of 2
	psqlq "SELECT data FROM events WHERE host_id = '$HOST' AND kind = 'error' ORDER BY id DESC LIMIT 1" |
		grep -q '"command": "relay_add"' || return 1
	pysql "DELETE FROM flows WHERE id = $fid" >/dev/null && pysql "DELETE FROM relays WHERE id = $rid" >/dev/null || return 1
	# a relay on a node no host carries: the controller itself records it
	rid=$(pysql "INSERT INTO relays (topology_id, node, port, to_node, to_port)
		SELECT id, 'nope', 9100, 'h2', 80 FROM topologies WHERE name = '$T' RETURNING id") || return 1
	wait_for 3 sh -c "psql -X -t -A -c \"SELECT message FROM events WHERE host_id IS NULL AND kind = 'error'
		AND topology = '$T'\" | grep -qF 'relay $rid: its node is not in topology $T'" ||
		{ psqlq "SELECT * FROM events ORDER BY id DESC LIMIT 3"; return 1; }
	pysql "DELETE FROM relays WHERE id = $rid" >/dev/null
}

# A relay row (through the REST API) becomes a relay chain h1:9000 -> r1 ->
# h2:5202 that carries an unmodified client's TCP connection; a hop killed
# under it is an error event; disabling and deleting the row stop it.
t_relay_rows() {
	local out id pids pid
	command -v iperf3 >/dev/null || { t_skip_why "iperf3 missing"; return 77; }
	out=$(api POST /api/relays "{\"topology\": \"$T\", \"node\": \"h1\", \"port\": 9000,
		\"to_node\": \"h2\", \"to_port\": 5202, \"via\": [\"r1\"]}")
	echo "$out"
	id=$(echo "$out" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])') || return 1
	# refused: the same listening port, a SOCKS5 relay with hops
	api POST /api/relays "{\"topology\": \"$T\", \"node\": \"h1\", \"port\": 9000, \"socks5\": true}" |
		grep -q '"code":"exists"' || return 1
	api POST /api/relays "{\"topology\": \"$T\", \"node\": \"h1\", \"port\": 9001, \"socks5\": true, \"via\": [\"r1\"]}" |
		grep -q '"code":"bad_field"' || return 1
	wait_for 5 sh -c "'$SLUICECTL' --json relay list | grep -q '\"controller_id\": $id'" ||
		{ "$SLUICECTL" relay list; return 1; }
	"$SLUICECTL" relay list
	"$SLUICECTL" relay list | grep -qF "h1:9000 -> r1 -> h2:5202" || return 1
	api GET "/api/relays?topology=$T" | grep -q "\"id\":$id,.*\"host\":\"$HOST\"" || return 1
	"$SLUICECTL" exec "$T:h2" iperf3 -s -1 -D -p 5202 || return 1
	sleep 0.3
	out=$("$SLUICECTL" exec "$T:h1" iperf3 -c 127.0.0.1 -p 9000 -t 1 -J) || { echo "$out" | tail -3; return 1; }
	echo "$out" | "$PY" -c 'import json,sys; b = json.load(sys.stdin)["end"]["sum_received"]["bytes"]; print("bytes through the relay:", b); sys.exit(b < 100000)' ||
		return 1
	# a hop that dies is an error event of the host
	pid=$("$SLUICECTL" --json relay list | "$PY" -c 'import json,sys
r = [r for r in json.load(sys.stdin)["relays"] if r.get("controller_id") == '"$id"'][0]
print([p["pid"] for p in r["processes"] if p["node"] == "r1"][0])') || return 1
	kill -9 "$pid"
	wait_for 3 sh -c "psql -X -t -A -c \"SELECT message FROM events WHERE host_id = '$HOST' AND kind = 'error'\" |
		grep -q 'relay process $pid on r1 ended (signal 9)'" || { events_of 5; return 1; }
	# disabled: stopped (nothing listens); enabled: a new chain
	psqlq "UPDATE relays SET enabled = false WHERE id = $id" || return 1
	wait_for 3 sh -c "! '$SLUICECTL' --json relay list | grep -q '\"controller_id\": $id'" || return 1
	! "$SLUICECTL" exec "$T:h1" iperf3 -c 127.0.0.1 -p 9000 -t 1 >/dev/null 2>&1 || return 1
	psqlq "UPDATE relays SET enabled = true WHERE id = $id" || return 1
	wait_for 3 sh -c "'$SLUICECTL' --json relay list | grep -q '\"controller_id\": $id'" || return 1
	pids=$("$SLUICECTL" --json relay list | grep -c '"running": true')
	[ "$pids" -eq 2 ] || { "$SLUICECTL" relay list; return 1; }
	# deleted through the API: gone
	api DELETE "/api/relays/$id" | grep -q '"ok":true' || return 1
	wait_for 3 sh -c "! '$SLUICECTL' --json relay list | grep -q '\"controller_id\": $id'" || return 1
	api DELETE "/api/relays/$id" | grep -q '"code":"notfound"'
}

# link set on the host: the link_down / link_up events are stored and the
# controller changes links.state (and the UI's snapshot) with them.
t_link_events() {
	local st
	st() { psqlq "SELECT state FROM links_v WHERE topology = '$T' AND a = 'h1' AND b = 'r1'"; }
	[ "$(st)" = up ] || return 1
	"$SLUICECTL" link set "$T:h1" "$T:r1" down || return 1
	wait_for 3 sh -c "[ \"\$(psql -X -t -A -c \"SELECT state FROM links_v WHERE topology = '$T' AND a = 'h1' AND b = 'r1'\")\" = down ]" ||
		{ echo "links.state is $(st)"; events_of 3; return 1; }
	events_of 1 | grep -q "^link_down|$T|h1|r1|" || { events_of 3; return 1; }
	api GET "/api/topologies/$T" | grep -q '"a":"h1","b":"r1","state":"down"' || return 1
	! "$SLUICECTL" exec "$T:h1" ping -c 1 -W 1 h2 >/dev/null || { echo "h2 reachable over a down link"; return 1; }
	"$SLUICECTL" link set "$T:h1" "$T:r1" up || return 1
	wait_for 3 sh -c "[ \"\$(psql -X -t -A -c \"SELECT state FROM links_v WHERE topology = '$T' AND a = 'h1' AND b = 'r1'\")\" = up ]" ||
		{ echo "links.state is $(st)"; return 1; }
	events_of 2
	events_of 1 | grep -q "^link_up|$T|h1|r1|" || return 1
	"$SLUICECTL" exec "$T:h1" ping -c 1 -W 2 h2 >/dev/null
}

# A delay on h1 -> r1 moves the direction to the user-space dataplane: its
# cell reports counters, stored per report (cell_metrics) and exported
# with cell labels in /metrics; back to unshaped, the cell's series go.
t_cells() {
	local series n0 n1 soj
	grep -q "dataplane: [0-9]* thread" "$SLUICE_RUNDIR/sluiced.log" ||
		{ t_skip_why "sluiced has no user-space dataplane here"; return 77; }
	SC policy set "$T" h1 r1 --dir up '{"delay": "3ms"}' || return 1
	wait_for 3 sh -c "'$SLUICECTL' links | grep -Eq '^$T +h1 +r1 .* normal '" || { "$SLUICECTL" links; return 1; }
	"$SLUICECTL" exec "$T:h1" ping -q -c 20 -i 0.05 h2 || return 1
	wait_for 5 sh -c "[ \"\$(psql -X -t -A -c \"SELECT coalesce(max(pkts_out), 0) FROM cell_metrics WHERE host_id = '$HOST'
		AND topology = '$T' AND a = 'h1' AND b = 'r1' AND dir = 'up' AND cell = 'delay'\")\" -ge 20 ]" ||
		{ psqlq "SELECT * FROM cell_metrics ORDER BY seq DESC LIMIT 3"; return 1; }
	psqlq "SELECT seq, cell, type, pkts_in, pkts_out, drops, qlen_pkts, sojourn_us FROM cell_metrics
		WHERE topology = '$T' AND a = 'h1' AND b = 'r1' AND dir = 'up' ORDER BY seq DESC LIMIT 1"
	[ "$(psqlq "SELECT DISTINCT type FROM cell_metrics WHERE topology = '$T' AND cell = 'delay'")" = delay ] || return 1
	# a 3 ms delay cell holds each packet about 3 ms
	soj=$(psqlq "SELECT round(sojourn_us) FROM cell_metrics WHERE topology = '$T' AND a = 'h1'
		AND dir = 'up' AND cell = 'delay' ORDER BY seq DESC LIMIT 1")
	echo "mean sojourn in the delay cell: $soj us"
	[ "$soj" -ge 2900 ] && [ "$soj" -le 6000 ] || return 1
	series="sluice_cell_packets_out_total{topology=\"$T\",a=\"h1\",b=\"r1\",dir=\"up\",host=\"$HOST\",cell=\"delay\",type=\"delay\"}"
	metrics_text >"$CTL_DIR/metrics-cells.txt"
	grep -F "sluice_cell_" "$CTL_DIR/metrics-cells.txt" | grep -F "topology=\"$T\"" | head -12
	"$PY" tests/ctl/promparse.py <"$CTL_DIR/metrics-cells.txt" || return 1
	n0=$(grep -F "$series " "$CTL_DIR/metrics-cells.txt" | awk '{print $2}')
	[ -n "$n0" ] && [ "$n0" -ge 20 ] || { echo "no $series >= 20"; return 1; }
	grep -qF "sluice_cell_drops_total{topology=\"$T\",a=\"h1\",b=\"r1\",dir=\"up\",host=\"$HOST\",cell=\"delay\",type=\"delay\",reason=\"queue\"} 0" \
		"$CTL_DIR/metrics-cells.txt" || return 1
	# the counter follows the traffic
	"$SLUICECTL" exec "$T:h1" ping -q -c 10 -i 0.05 h2 >/dev/null || return 1
	wait_for 5 sh -c "curl -s -H 'Authorization: Bearer $API_TOKEN' http://127.0.0.1:$CTL_PORT/metrics |
		awk -v s='$series' 'index(\$0, s \" \") == 1 && \$2 >= $n0 + 10 {ok = 1} END {exit !ok}'" || return 1
	n1=$(metrics_text | grep -F "$series " | awk '{print $2}')
	echo "$series: $n0 -> $n1"
	# unshaped again: the cell is gone from the host's reports and /metrics
	SC policy set "$T" h1 r1 --dir up '{}' >/dev/null || return 1
	wait_for 5 sh -c "! curl -s -H 'Authorization: Bearer $API_TOKEN' http://127.0.0.1:$CTL_PORT/metrics |
		grep -qF 'sluice_cell_packets_out_total{topology=\"$T\"'" || return 1
	"$SLUICECTL" links | grep -Eq "^$T +h1 +r1 .* max "
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

# After a controller restart the host is sent its flow and relay rows
# again; it has them at the same version, so nothing changes: the same
# rules (no duplicates) with their hit counters (a replaced rule would
# start from 0), the same relay processes.
t_rows_resync() {
	local fid rid flows0 relays0 mark
	have_psycopg2 || return 77
	fid=$(pysql "INSERT INTO flows (topology_id, src, dst, proto, dport, class)
		SELECT id, 'h2', 'h1', 'udp', 5353, 7 FROM topologies WHERE name = '$T' RETURNING id") || return 1
	rid=$(pysql "INSERT INTO relays (topology_id, node, port, socks5)
		SELECT id, 'h1', 1080, true FROM topologies WHERE name = '$T' RETURNING id") || return 1
	wait_for 5 sh -c "'$SLUICECTL' flow --name $T list | grep -q 'dport 5353 class 7' &&
		'$SLUICECTL' --json relay list | grep -q '\"controller_id\": $rid'" ||
		{ flows_local; "$SLUICECTL" relay list; return 1; }
	# traffic the rules count: UDP from h2 to h1:5353
	"$SLUICECTL" exec "$T:h2" bash -c 'for i in 1 2 3 4 5; do echo x >/dev/udp/h1/5353; done' || return 1
	[ "$(flow_hits 'dport 5353 class 7')" -ge 5 ] || { flows_local; return 1; }
	flows0=$(flows_local)
	relays0=$("$SLUICECTL" --json relay list | grep '"pid"')
	mark=$(wc -l <"$CTL_DIR/controller.log")
	ctl_stop
	ctl_start --metrics-interval 200 --heartbeat-interval 1000 --host-timeout 5000 || return 1
	wait_for 20 host_online || { echo "the host did not come back"; return 1; }
	wait_for 5 sh -c "tail -n +$mark '$CTL_DIR/controller.log' | grep -q 'relay_add #[0-9]* done'" ||
		{ tail -n +$mark "$CTL_DIR/controller.log" | tail; return 1; }
	wait_for 5 sh -c "tail -n +$mark '$CTL_DIR/controller.log' | grep -q 'flow_add #[0-9]* done'" || return 1
	sleep 0.5
	[ "$(flows_local)" = "$flows0" ] ||
		{ echo "flow table changed:"; echo "$flows0"; flows_local; return 1; }
	[ "$("$SLUICECTL" --json relay list | grep '"pid"')" = "$relays0" ] ||
		{ echo "relay processes changed"; "$SLUICECTL" relay list; return 1; }
	echo "after the restart: the same $(flows_local | grep -c 'class 7') rules and relay processes"
	pysql "DELETE FROM flows WHERE id = $fid" >/dev/null && pysql "DELETE FROM relays WHERE id = $rid" >/dev/null
	wait_for 3 sh -c "! '$SLUICECTL' flow --name $T list | grep -q 'class 7' &&
		! '$SLUICECTL' --json relay list | grep -q '\"controller_id\": $rid'"
}

# the pids of the local chain that carries the controller's relay row $1
ctl_relay_pids() {
	"$SLUICECTL" --json relay list | "$PY" -c 'import json, sys
for r in json.load(sys.stdin)["relays"]:
    if r.get("controller_id") == int(sys.argv[1]):
        print(" ".join(str(p["pid"]) for p in r["processes"] if p["running"]))' "$1"
}

has_ctl_relay() { [ "$(ctl_relay_pids "$1" | wc -w)" -gt 0 ]; }
not_ctl_relay() {
	"$SLUICECTL" --json relay list | "$PY" -c 'import json, sys
sys.exit(any(r.get("controller_id") == int(sys.argv[1]) for r in json.load(sys.stdin)["relays"]))' "$1"
}

# iperf3 from h1 to 127.0.0.1:$1, a one-shot server on h2:$2; > 100 kB.
iperf_via() {
	local out
	"$SLUICECTL" exec "$T:h2" iperf3 -s -1 -D -p "$2" || return 1
	sleep 0.3
	out=$("$SLUICECTL" exec "$T:h1" iperf3 -c 127.0.0.1 -p "$1" -t 1 -J) || { echo "$out" | tail -3; return 1; }
	echo "$out" | "$PY" -c 'import json,sys; b = json.load(sys.stdin)["end"]["sum_received"]["bytes"]; print("bytes through the relay:", b); sys.exit(b < 100000)'
}

# sluicectl --controller relay add|list|del: a row the host runs as a chain
# carrying TCP; sluiced killed -9 and started again takes the chain back
# with its tag, so the row's later delete still stops it.
t_relay_cli() {
	local out id pids rc p mark
	command -v iperf3 >/dev/null || { t_skip_why "iperf3 missing"; return 77; }
	out=$(SC relay add --from h1:9010 --to h2:5210 --via r1) || { echo "$out"; return 1; }
	echo "$out"
	id=$(echo "$out" | sed -n 's/^relay \([0-9]*\): h1:9010 -> r1 -> h2:5210 (splice) stored at the controller, which starts it on the host of '"$T"':h1$/\1/p')
	[ -n "$id" ] || return 1
	out=$(SC relay list --name "$T") || return 1
	echo "$out"
	echo "$out" | grep -Eq "^$id +$T +h1:9010 -> r1 -> h2:5210 +splice +yes +$HOST +1\$" || return 1
	SC --json relay list | "$PY" -c 'import json,sys; r = [r for r in json.load(sys.stdin)["relays"] if r["id"] == '"$id"'][0]; sys.exit(r["via"] != ["r1"] or r["to_port"] != 5210)' || return 1
	wait_for 5 has_ctl_relay "$id" || { "$SLUICECTL" relay list; return 1; }
	"$SLUICECTL" relay list | grep -qF "h1:9010 -> r1 -> h2:5210" || return 1
	iperf_via 9010 5210 || return 1
	pids=$(ctl_relay_pids "$id")
	[ "$(echo $pids | wc -w)" -eq 2 ] || { echo "local chain: '$pids'"; return 1; }
	# sluiced killed and started: the chain is taken back with its row id,
	# and the controller's resend finds it (same processes)
	mark=$(wc -l <"$CTL_DIR/controller.log")
	t_daemon_kill9
	e2e_daemon_start || return 1
	wait_for 20 host_online || { echo "the host did not come back"; return 1; }
	grep -q "relay [0-9]* (h1:9010 -> r1 -> h2:5210, 2 processes) taken back (a controller's relay row)" \
		"$SLUICE_RUNDIR/sluiced.log" || { grep relay "$SLUICE_RUNDIR/sluiced.log" | tail -5; return 1; }
	wait_for 5 sh -c "tail -n +$((mark + 1)) '$CTL_DIR/controller.log' | grep -q 'relay_add #[0-9]* done'" ||
		{ tail -n +$((mark + 1)) "$CTL_DIR/controller.log" | tail -5; return 1; }
	[ "$(ctl_relay_pids "$id")" = "$pids" ] || { echo "after the restart: '$(ctl_relay_pids "$id")', before: '$pids'"; return 1; }
	"$SLUICECTL" --json relay list | grep -q '"adopted": true' || return 1
	iperf_via 9010 5210 || return 1
	# deleted through the CLI: the host stops the adopted chain
	out=$(SC relay del "$id") || return 1
	echo "$out"
	[ "$out" = "relay $id: deleted at the controller; its host stops the chain" ] || return 1
	wait_for 5 not_ctl_relay "$id" || { "$SLUICECTL" relay list; return 1; }
	for p in $pids; do wait_for 3 sh -c "! kill -0 $p" || { echo "relay process $p still runs"; return 1; }; done
	! SC relay list | grep -q "^$id " || return 1
	# errors: the controller's 404 (exit 1), a bad port here (exit 2)
	out=$(SC relay del "$id" 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 1 ] && [ "$out" = "sluicectl: no relay $id" ] || return 1
	out=$(SC relay add --name "${T}nope" --from h1:9011 --to h2:1 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 1 ] && [ "$out" = "sluicectl: no topology \"${T}nope\"" ] || return 1
	out=$(SC relay add --from h1:99999 --to h2:1 2>&1); rc=$?
	echo "$out (exit $rc)" | head -1
	[ $rc -eq 2 ] && echo "$out" | grep -qF "sluicectl relay: --from 'h1:99999': port '99999'; expected 1 to 65535"
}

t_down() {
	local out
	out=$(SC down "$T") || { echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q "^$T: down (teardown sent to $HOST)" || return 1
	wait_for 10 sh -c "! ip netns list | grep -q '^sluice\.$T\.'" ||
		{ ip netns list | grep "sluice\.$T"; return 1; }
	! SC list | grep -q "^$T " || return 1
	# no relay process of the topology is left
	! pgrep -f "sluice-relay --netns sluice\.$T\." || return 1
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
disown "$(t_daemon_pid)" 2>/dev/null

t_run "sluiced's host agent connects (hosts: online)" t_host_connects
t_run "hello: real capabilities and capacity in sluicectl --controller hosts" t_hello_caps
t_run "sluicectl --controller up: the topology comes up on sluiced" t_up
t_run "the nodes answer ping (local sluicectl exec)" t_ping_local
t_run "flow row (psycopg2) -> sluiced's flow table: rules hit by traffic, update, disable, delete" t_flow_rows
t_run "rows sluiced cannot carry out: failed ack and a stored error event" t_error_events
t_run "relay row (REST) -> a relay chain carrying TCP; a dead hop is an error event; disable, delete" t_relay_rows
t_run "link down/up on the host: events stored, links.state follows" t_link_events
t_run "per-cell counters: cell_metrics rows and sluice_cell_* in /metrics" t_cells
t_run "sluicectl --controller: errors and exit statuses" t_up_errors
t_run "sluicectl --controller up: refused, timed out, --json (simulated host)" t_up_wait_paths
t_run "psycopg2 policy row: COMMIT -> TBF in the kernel < 200 ms" t_policy_latency
t_run "iperf3 goodput follows the 5 Mbit/s policy" t_goodput
t_run "link metrics reach the database while a ping runs" t_metrics
t_run "sluicectl --controller stats shows the counters" t_stats
t_run "sluicectl --controller policy set / link set change the live link" t_policy_cli
t_run "controller killed -9 and restarted: sluiced reconnects, no metrics gap" t_controller_restart
t_run "controller restarted: flow and relay rows sent again, nothing changes on the host" t_rows_resync
t_run "sluicectl --controller relay add/list/del; the chain carries TCP and is taken back by a restarted sluiced" t_relay_cli
t_run "sluicectl --controller down removes the namespaces" t_down
t_done
