#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The controller issue's "done when", as one chain on a real host: a
# private PostgreSQL and sluice-controller, a real sluiced reporting to it;
# sluicectl --controller brings examples/demo.json up there; a psycopg2
# script changes the r1-h2 policy row and the TBF in r1's kernel follows;
# the web UI in headless Chromium shows the topology, the host, the new
# rate and the r1 -> h2 byte counter growing while a real ping runs
# through sluicectl exec. The screenshot is kept in
# build/test-logs/chain-webui.png. Needs root; exits 77 (skip) when
# PostgreSQL, psycopg2, Chromium, node or the built UI is missing.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

T=chain$$
HOST=chain-host
NS_R1=sluice.$T.r1
SHOT=$B/test-logs/chain-webui.png

skip_all() { echo "1..0 # SKIP $*"; [ -n "${CTL_DIR:-}" ] && rm -rf "$CTL_DIR"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (namespaces)"
[ -x "$B/sluice-controller" ] && [ -x "$SLUICED" ] && [ -x "$SLUICECTL" ] ||
	skip_all "build/sluice-controller, sluiced, sluicectl are not built (make)"
[ -f "$B/web/index.html" ] || skip_all "the web UI is not built (make build/web/main.js)"
[ -x /usr/bin/chromium ] || skip_all "chromium is not installed"
[ -d web/node_modules/playwright-core ] || skip_all "playwright-core is not installed (npm ci in web/)"
command -v node >/dev/null || skip_all "node is not installed"
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || skip_all "python3-psycopg2 is not installed"
. "$(dirname "$0")/ctl_lib.sh"
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] ||
	skip_all "PostgreSQL server binaries not found (apt-get install postgresql)"

CTL_WEB=$B/web
SC() { "$SLUICECTL" --controller "http://127.0.0.1:$CTL_PORT" --token "$API_TOKEN" "$@"; }

chain_daemon_start() {
	mkdir -p "$SLUICE_RUNDIR"
	rm -f "$SLUICE_SOCKET"
	cat >"$SLUICE_RUNDIR/sluiced.conf" <<CONF
# written by tests/ctl/test_chain.sh
controller = ws://127.0.0.1:$CTL_PORT/ws
host-id = $HOST
controller-token = $CHAIN_TOKEN
CONF
	"$SLUICED" --foreground -c "$SLUICE_RUNDIR/sluiced.conf" --rundir "$SLUICE_RUNDIR" \
		>>"$SLUICE_RUNDIR/sluiced.log" 2>&1 &
	echo $! >"$SLUICE_RUNDIR/test-daemon.pid"
	wait_for 10 test -S "$SLUICE_SOCKET" || { tail -20 "$SLUICE_RUNDIR/sluiced.log"; return 1; }
}

chain_cleanup() {
	local p ns
	p=$(cat "$CTL_DIR/ping.pid" 2>/dev/null)
	[ -n "$p" ] && kill "$p" 2>/dev/null
	[ -S "$SLUICE_SOCKET" ] && "$SLUICECTL" down --all >/dev/null 2>&1
	t_daemon_stop
	mkdir -p "$ART"
	cp "$SLUICE_RUNDIR/sluiced.log" "$ART/chain-sluiced.log" 2>/dev/null
	cp "$CTL_DIR/controller.log" "$ART/chain-controller.log" 2>/dev/null
	rm -rf "$SLUICE_RUNDIR"
	ctl_cleanup
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -- "^sluice\.$T\(\.\|$\)"); do
		ip netns del "$ns" 2>/dev/null
	done
}

t_host_online() {
	wait_for 10 sh -c "'$SLUICECTL' --controller http://127.0.0.1:$CTL_PORT --token '$API_TOKEN' hosts |
		grep -Eq '^$HOST +online '" || { SC hosts; return 1; }
	SC hosts
}

t_up() {
	local out
	out=$(SC up examples/demo.json --name "$T" --timeout 30) || { echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q "^$T: 3 nodes, 2 links up on host $HOST in " || return 1
	ip netns list | grep -q "^$NS_R1\b" || return 1
	tc -n "$NS_R1" qdisc show | grep -q "rate 20Mbit"
}

t_script_policy() {
	# one change, 20 -> 10 Mbit/s, written and committed by a Python script
	"$PY" tests/ctl/e2e_policy.py "$PG_CONNINFO" "$T" "$NS_R1" 500 10 || return 1
	tc -n "$NS_R1" qdisc show | grep -q "rate 10Mbit"
}

t_browser() {
	local pid before after
	before=$(psqlq "SELECT coalesce(max(packets), 0) FROM link_metrics WHERE host_id = '$HOST'
		AND topology = '$T' AND a = 'r1' AND b = 'h2' AND dir = 'up'")
	# real traffic h1 -> r1 -> h2 for as long as the browser looks
	"$SLUICECTL" exec "$T:h1" ping -q -i 0.05 -w 40 h2 >"$CTL_DIR/ping.out" 2>&1 &
	pid=$!
	echo "$pid" >"$CTL_DIR/ping.pid"
	sleep 1
	rm -f "$SHOT"
	mkdir -p "$(dirname "$SHOT")"
	node tests/ctl/webui.cjs "http://127.0.0.1:$CTL_PORT" "$UI_TOKEN" "$SHOT" "h1,h2,r1" 2 \
		"$T" "$HOST" "r1|h2" "r1|h2|up|10.00 Mbit/s" || { kill "$pid" 2>/dev/null; return 1; }
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$CTL_DIR/ping.pid"
	# the counter the page showed is the host's: it grew in the database too
	after=$(psqlq "SELECT coalesce(max(packets), 0) FROM link_metrics WHERE host_id = '$HOST'
		AND topology = '$T' AND a = 'r1' AND b = 'h2' AND dir = 'up'")
	echo "r1 -> h2 packets stored: $before -> $after"
	[ "$after" -ge $((before + 20)) ] || return 1
	# the screenshot is there and is a PNG of the page
	[ -s "$SHOT" ] || { echo "no screenshot at $SHOT"; return 1; }
	[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
		{ echo "$SHOT is not a PNG"; return 1; }
	[ "$(stat -c %s "$SHOT")" -gt 20000 ] || { echo "$SHOT is suspiciously small"; return 1; }
	echo "screenshot: $SHOT ($(stat -c %s "$SHOT") bytes)"
}

t_down() {
	SC down "$T" || return 1
	wait_for 10 sh -c "! ip netns list | grep -q '^sluice\.$T\.'"
}

trap chain_cleanup EXIT
if ! ctl_setup >"$CTL_DIR/setup.log" 2>&1; then
	sed 's/^/# /' "$CTL_DIR/setup.log"
	echo "not ok 1 - set up PostgreSQL and the controller"; echo "1..1"; exit 1
fi
CHAIN_TOKEN=$("$CONTROLLER" "${CTL_ARGS[@]}" add-host "$HOST" 2>>"$CTL_DIR/setup.log")
if [ -z "$CHAIN_TOKEN" ] || ! ctl_start --metrics-interval 250 >>"$CTL_DIR/setup.log" 2>&1 ||
   ! chain_daemon_start >>"$CTL_DIR/setup.log" 2>&1; then
	sed 's/^/# /' "$CTL_DIR/setup.log"
	echo "not ok 1 - start the controller and sluiced"; echo "1..1"; exit 1
fi

t_run "a real sluiced reports to the controller (hosts: online)" t_host_online
t_run "sluicectl --controller up: the topology comes up on that sluiced" t_up
t_run "a psycopg2 script changes the policy row: the kernel's TBF follows (< 500 ms)" t_script_policy
t_run "headless Chromium: topology, host, new rate, r1->h2 counter growing under ping; screenshot kept" t_browser
t_run "sluicectl --controller down removes it" t_down
t_done
