#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sluicectl as a user meets it: starting a daemon on demand, exit statuses,
# usage errors, JSON output, two topologies at once.
. "$(dirname "$0")/../lib.sh"
S=$$
CTL() { "$SLUICECTL" "$@"; }

test_invalid_file_starts_nothing() {
	local out rc
	out=$(CTL up "$TOP/tests/net/bad/missing-node.json" 2>&1); rc=$?
	[ $rc -eq 2 ] || t_fail "exit $rc, expected 2" || return 1
	echo "$out" | grep -q '^sluicectl: .*missing-node.json: links\[0\].endpoints\[1\]' || t_fail "message: $out" || return 1
	[ ! -S "$SLUICE_SOCKET" ] || t_fail "a daemon was started for an invalid file"
}

test_status_without_daemon() {
	local out rc
	out=$(CTL status 2>&1); rc=$?
	[ $rc -eq 1 ] && echo "$out" | grep -q "sluiced is not running"
}

test_up_starts_daemon() {
	local out
	CTL gen linear 3 --name cli$S >"$SLUICE_RUNDIR/l3.json" || return 1
	out=$(CTL up "$SLUICE_RUNDIR/l3.json" 2>&1) || { echo "$out"; return 1; }
	echo "$out" | grep -q "started one in the background" || t_fail "no notice: $out" || return 1
	CTL status >/dev/null || return 1
	# The daemon it started is the one we stop at the end.
	cat "$SLUICE_RUNDIR/sluiced.pid" >"$SLUICE_RUNDIR/test-daemon.pid"
}

test_up_same_name_twice() {
	CTL up "$SLUICE_RUNDIR/l3.json" >/dev/null 2>&1; [ $? -eq 1 ] || return 1
	CTL gen linear 3 --name cli$S | CTL up - --name cli2$S >/dev/null || return 1
	CTL list | grep -q "cli2$S"
}

test_two_topologies_need_qualified_names() {
	CTL exec h1 -- true >/dev/null 2>&1; [ $? -eq 2 ] || t_fail "ambiguous node accepted" || return 1
	CTL exec "cli$S:h1" -- true || return 1
	CTL ping "cli2$S:h1" "cli2$S:h2" -c 1 >/dev/null || return 1
	CTL link set "cli$S:h1" "cli$S:r1" down || return 1
	CTL link set "cli$S:h1" "cli$S:r1" up
}

test_json_output_parses() {
	local c
	for c in list nodes links status; do
		CTL --json $c | python3 -c 'import json,sys; json.load(sys.stdin)' || { echo "--json $c"; return 1; }
	done
	CTL $c --json | python3 -c 'import json,sys; json.load(sys.stdin)'
}

test_usage_errors_exit_2() {
	local args rc
	while read -r args; do
		CTL $args >/dev/null 2>&1; rc=$?
		[ $rc -eq 2 ] || { echo "sluicectl $args: exit $rc, expected 2"; return 1; }
	done <<'EOF2'
frobnicate
list --bogus
link set a b sideways
ping -c 0 a b
gen bogus 3
gen linear 1
EOF2
}

test_exec_unknown_command_127() {
	CTL exec "cli$S:h1" -- /nonexistent/cmd 2>/dev/null; [ $? -eq 127 ]
}

test_node_sees_only_its_interfaces() {
	local ifs
	ifs=$(CTL exec "cli$S:h1" -- ls /sys/class/net | tr '\n' ' ')
	[ "$ifs" = "eth0 lo " ] || t_fail "interfaces in h1: $ifs"
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
mkdir -p "$SLUICE_RUNDIR"
trap t_cleanup_all EXIT
t_run "an invalid file exits 2 and starts no daemon" test_invalid_file_starts_nothing
t_run "status without a daemon exits 1" test_status_without_daemon
t_run "up starts a daemon in the background and says so" test_up_starts_daemon
t_run "up of a name that is up fails; --name and stdin work" test_up_same_name_twice
t_run "two topologies: bare names are ambiguous, topo:node works" test_two_topologies_need_qualified_names
t_run "--json output parses" test_json_output_parses
t_run "usage errors exit 2" test_usage_errors_exit_2
t_run "exec of a missing program exits 127" test_exec_unknown_command_127
t_run "a node sees only its own interfaces" test_node_sees_only_its_interfaces
t_done
