#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Integration tests of the foundation in real namespaces: bring-up of
# generated topologies, all-pairs reachability, iperf3, link down/up, exec,
# bad input creating nothing, and crash recovery of sluiced.
. "$(dirname "$0")/../lib.sh"

S=$$                     # suffix: topology names unique to this run
CTL() { "$SLUICECTL" "$@"; }

gen() { # kind args... -> file with name $NAME
	local f=$SLUICE_RUNDIR/$NAME.json
	CTL gen "$@" --name "$NAME" >"$f" || return 1
	echo "$f"
}

# Every node pings every other node by name (one exec per source node).
all_pairs_ping() { # topo
	local topo=$1 nodes n fails=0
	nodes=$(CTL --json nodes "$topo" | python3 -c 'import json,sys; print(" ".join(n["name"] for n in json.load(sys.stdin)["nodes"]))')
	[ -n "$nodes" ] || { echo "no nodes listed"; return 1; }
	for n in $nodes; do
		CTL exec "$topo:$n" -- sh -c "
			for h in $nodes; do
				[ \$h = $n ] && continue
				ping -c 1 -W 2 -q \$h >/dev/null 2>&1 || { echo \"$n cannot reach \$h\"; exit 1; }
			done" || fails=$((fails + 1))
	done
	[ $fails -eq 0 ]
}

test_linear4_all_pairs() {
	NAME=lin4x$S; local f; f=$(gen linear 4) || return 1
	CTL up "$f" || return 1
	all_pairs_ping "$NAME" || return 1
	[ "$(t_count_ns "sluice.$NAME")" -eq 5 ] || t_fail "expected 4 nodes + fabric"
}

test_tree_2_3_all_pairs() {
	NAME=tree23x$S; local f; f=$(gen tree 2 3) || return 1
	CTL up "$f" || return 1
	all_pairs_ping "$NAME"
}

test_fattree4_all_pairs() {
	NAME=ft4x$S; local f; f=$(gen fat-tree 4) || return 1
	CTL up "$f" || return 1
	[ "$(CTL --json nodes "$NAME" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["nodes"]))')" = 36 ] || t_fail "expected 36 nodes"
	all_pairs_ping "$NAME"
}

test_iperf3_between_hosts() {
	NAME=lin4x$S
	CTL exec "$NAME:h2" -- iperf3 -s -1 -D -p 5301 || return 1
	sleep 0.3
	local bps
	bps=$(CTL exec "$NAME:h1" -- iperf3 -c h2 -p 5301 -t 2 -J | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))') || return 1
	t_log "iperf3 h1 -> h2 over 3 links: $((bps / 1000000)) Mbit/s"
	[ "$bps" -gt 100000000 ] || t_fail "expected more than 100 Mbit/s, got $bps bit/s"
}

test_link_down_up() {
	NAME=lin4x$S
	CTL ping h1 h2 --name "$NAME" -c 1 >/dev/null 2>&1 || CTL exec "$NAME:h1" -- ping -c 1 -W 1 h2 >/dev/null || t_fail "ping before down" || return 1
	CTL link set r1 r2 down --name "$NAME" || return 1
	if CTL exec "$NAME:h1" -- ping -c 2 -i 0.2 -W 1 h2 >/dev/null 2>&1; then
		t_fail "ping passed across a link that is down"; return 1
	fi
	CTL --json links "$NAME" | grep -q '"state": *"down"' || t_fail "links does not show the link down" || return 1
	CTL link set r1 r2 up --name "$NAME" || return 1
	CTL exec "$NAME:h1" -- ping -c 1 -W 2 h2 >/dev/null || t_fail "ping failed after link up"
}

test_exec_status_and_stdio() {
	NAME=lin4x$S
	CTL exec "$NAME:h1" -- sh -c 'exit 7'
	[ $? -eq 7 ] || t_fail "exit status not preserved" || return 1
	local out
	out=$(echo "hello sluice" | CTL exec "$NAME:h1" -- cat)
	[ "$out" = "hello sluice" ] || t_fail "stdin/stdout not passed: '$out'" || return 1
	out=$(CTL exec "$NAME:h1" -- cat /etc/hosts)
	echo "$out" | grep -qw h2 || t_fail "hosts file of the topology not visible in the node"
}

test_bad_files_create_nothing() {
	local before after f rc=0
	before=$(ip netns list | wc -l)
	for f in "$TOP"/tests/net/bad/*.json; do
		CTL up "$f" >/dev/null 2>"$SLUICE_RUNDIR/err.txt"
		local st=$?
		if [ $st -ne 2 ]; then echo "$(basename "$f"): exit status $st, expected 2"; rc=1; fi
		grep -q "$(basename "$f")" "$SLUICE_RUNDIR/err.txt" || { echo "$(basename "$f"): message does not name the file: $(cat "$SLUICE_RUNDIR/err.txt")"; rc=1; }
	done
	after=$(ip netns list | wc -l)
	[ "$before" -eq "$after" ] || { echo "namespaces changed: $before -> $after"; rc=1; }
	return $rc
}

test_dualstack_ping6() {
	NAME=ds$S
	cat >"$SLUICE_RUNDIR/ds.json" <<JSON
{"name": "$NAME", "ipv6": true,
 "nodes": [{"name": "a", "kind": "host"}, {"name": "r", "kind": "router"}, {"name": "b", "kind": "host"}],
 "links": [{"endpoints": ["a", "r"]}, {"endpoints": ["r", "b"]}]}
JSON
	CTL up "$SLUICE_RUNDIR/ds.json" || return 1
	# -w: keep trying for 3 s (the first packet may wait for neighbour
	# discovery on a busy machine).
	CTL exec "$NAME:a" -- ping -6 -c 1 -w 3 b || return 1
	CTL ping a b -6 -c 1 >/dev/null || t_fail "sluicectl ping -6" || return 1
	CTL exec "$NAME:a" -- ping -4 -c 1 -w 3 b >/dev/null || return 1
	CTL down "$NAME"
}

test_down_idempotent() {
	NAME=lin4x$S
	CTL down "$NAME" || return 1
	CTL down "$NAME" || t_fail "second down failed" || return 1
	[ "$(t_count_ns "sluice.$NAME")" -eq 0 ] || t_fail "namespaces left after down"
	[ ! -e "/sys/fs/bpf/sluice/$NAME" ] || t_fail "pins left after down"
	CTL down tree23x$S; CTL down ft4x$S
	[ "$(t_count_ns "x$S")" -eq 0 ]
}

test_kill9_mid_bringup_then_restart() {
	NAME=crash$S; local f i pid
	f=$(gen linear 400) || return 1
	CTL up "$f" >/dev/null 2>&1 &
	# Wait until part of it exists, then kill the daemon hard.
	for i in $(seq 200); do
		[ "$(t_count_ns "sluice.$NAME.")" -gt 50 ] && break
		sleep 0.01
	done
	t_daemon_kill9; wait
	local mid; mid=$(t_count_ns "sluice.$NAME")
	t_log "namespaces when killed: $mid"
	[ "$mid" -gt 0 ] || t_fail "the kill came too late to test anything" || return 1
	t_daemon_start || return 1
	[ "$(t_count_ns "sluice.$NAME")" -eq 0 ] || t_fail "namespaces left after restart" || return 1
	[ ! -e "$SLUICE_RUNDIR/topo/$NAME" ] || t_fail "state files left" || return 1
	[ ! -e "/sys/fs/bpf/sluice/$NAME" ] || t_fail "pins left"
}

test_restart_readopts_committed() {
	NAME=keep$S; local f
	f=$(gen linear 3) || return 1
	CTL up "$f" >/dev/null || return 1
	t_daemon_stop
	[ "$(t_count_ns "sluice.$NAME")" -eq 4 ] || t_fail "topology did not survive sluiced stopping" || return 1
	t_daemon_start || return 1
	CTL list | grep -q "$NAME" || t_fail "not re-adopted" || return 1
	CTL link set h1 r1 down --name "$NAME" || return 1
	CTL link set h1 r1 up --name "$NAME" || return 1
	CTL exec "$NAME:h1" -- ping -c 1 -W 2 h2 >/dev/null || return 1
	CTL down "$NAME"
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
t_daemon_start || exit 1
trap t_cleanup_all EXIT
t_run "linear 4 comes up, all pairs ping" test_linear4_all_pairs
t_run "tree 2 3 comes up, all pairs ping" test_tree_2_3_all_pairs
t_run "fat-tree 4 comes up, all pairs ping" test_fattree4_all_pairs
t_run "iperf3 between two hosts" test_iperf3_between_hosts
t_run "link set down stops ping, up restores it" test_link_down_up
t_run "exec keeps exit status, stdin, stdout; names resolve" test_exec_status_and_stdio
t_run "bad topology files exit 2 and create nothing" test_bad_files_create_nothing
t_run "dual-stack topology pings over IPv6 and IPv4" test_dualstack_ping6
t_run "down removes everything and is idempotent" test_down_idempotent
t_run "kill -9 of sluiced mid-bring-up, restart leaves nothing" test_kill9_mid_bringup_then_restart
t_run "restart re-adopts a topology that was up" test_restart_readopts_committed
t_done
