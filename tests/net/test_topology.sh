#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Integration tests of the foundation in real namespaces: bring-up of
# generated topologies, all-pairs reachability, iperf3, link down/up, exec,
# bad input creating nothing, crash recovery of sluiced (kill -9 at five
# points of a bring-up), the rollback of a failed bring-up, and progress
# output while a large topology comes up.
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

# Nothing of topology $1 is left: no namespace (nodes, fabric), no port of
# it in the root namespace, no state under the run directory, no pins; the
# daemon does not list it. Prints what is left.
nothing_left() { # name
	local n=$1 bad="" x
	x=$(ip netns list | grep -cE "^sluice\.$n(\.[^ ]+)?( |$)")
	[ "$x" -eq 0 ] && bad="" || bad="$bad $x-namespaces"
	x=$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -cE '^[hr][0-9]+-eth[0-9]+$')
	[ "$x" -eq 0 ] || bad="$bad $x-ports-in-the-root-namespace"
	[ ! -e "$SLUICE_RUNDIR/topo/$n" ] || bad="$bad state-dir($(find "$SLUICE_RUNDIR/topo/$n" | head -3 | tr '\n' ' '))"
	x=$(find "$SLUICE_RUNDIR" -mindepth 1 \( -path "$SLUICE_RUNDIR/t" -prune \) -o -print |
		grep -vE "/(sluiced\.(sock|log|pid)|test-daemon\.pid|topo|t)$" |
		grep -vE "^$SLUICE_RUNDIR/[^/]+\.(json|txt)$")  # the tests' own inputs
	[ -z "$x" ] || bad="$bad state-files($(echo "$x" | head -3 | tr '\n' ' '))"
	[ ! -e "/sys/fs/bpf/sluice/$n" ] || bad="$bad pins"
	[ -S "$SLUICE_SOCKET" ] && CTL list 2>/dev/null | grep -q "^$n " && bad="$bad listed"
	[ -z "$bad" ] || { echo "left of $n:$bad"; return 1; }
}

# kill -9 of sluiced at several points of one bring-up of linear 600: as
# soon as its journal exists, and in each phase the -v progress names
# (namespaces, links, fabric, addresses); after each, a restarted daemon
# leaves nothing behind.
test_kill9_mid_bringup_then_restart() {
	NAME=crash$S; local f point phase last i pid n_ns t0 rc=0
	mkdir -p "$SLUICE_RUNDIR/t"
	CTL gen linear 600 --name "$NAME" >"$SLUICE_RUNDIR/t/crash.json" || return 1
	f=$SLUICE_RUNDIR/t/crash.json
	for point in journal namespaces links fabric addresses; do
		pid=$(t_daemon_pid)
		rm -f "$SLUICE_RUNDIR/t/progress"
		if [ $point = journal ]; then
			CTL -v up "$f" >/dev/null 2>"$SLUICE_RUNDIR/t/progress" &
			for i in $(seq 500); do
				[ -e "$SLUICE_RUNDIR/topo/$NAME/journal" ] && break
				sleep 0.005
			done
			kill -9 "$pid"
		else
			# the progress line of the phase is the moment to kill
			CTL -v up "$f" 2>&1 >/dev/null | while read -r line; do
				echo "$line" >>"$SLUICE_RUNDIR/t/progress"
				case $line in "[$point] 64/"*) kill -9 "$pid";; esac
			done
		fi
		wait
		t_wait_gone "$pid"
		rm -f "$SLUICE_RUNDIR/test-daemon.pid"
		last=$(grep '^\[' "$SLUICE_RUNDIR/t/progress" | tail -1)
		n_ns=$(t_count_ns "sluice.$NAME")
		phase=$(echo "$last" | sed -n 's/^\[\([a-z]*\)\].*/\1/p')
		t_log "killed at $point: last progress '${last:-none}', $n_ns namespaces, journal of $(wc -l <"$SLUICE_RUNDIR/topo/$NAME/journal" 2>/dev/null || echo 0) lines"
		if [ $point = journal ]; then
			# killed as soon as the journal exists: the first namespace
			# may or may not be there yet, the journal is
			[ -e "$SLUICE_RUNDIR/topo/$NAME/journal" ] || t_fail "$point: the kill left no journal to recover from" || rc=1
		else
			[ "$n_ns" -gt 0 ] || t_fail "$point: the kill left nothing to recover" || rc=1
		fi
		if [ $point != journal ]; then
			[ "$phase" = $point ] || t_fail "$point: the kill landed after the phase ($last)" || rc=1
		fi
		t0=$SECONDS
		t_daemon_start || return 1
		t_log "  restart and recovery: $((SECONDS - t0)) s"
		nothing_left "$NAME" || t_fail "after the kill at $point and a restart" || rc=1
		grep -q "topology $NAME was not fully up when sluiced stopped; rolling it back" "$SLUICE_RUNDIR/sluiced.log" ||
			t_fail "the daemon's log does not say it rolled $NAME back" || rc=1
		[ "$rc" -eq 0 ] || return 1
	done
}

# A bring-up that fails (not crashes) rolls back all it made: a namespace
# name already taken (which the rollback must leave alone, with what is
# in it), and a fault injected into each phase (SLUICE_FAULT_INJECT, see
# lib/net.c) of a topology with a normal-mode link. Then the same topology
# comes up cleanly and works.
test_failed_up_rolls_back() {
	NAME=rb$S; local f point out rc=0
	mkdir -p "$SLUICE_RUNDIR/t"
	CTL gen linear 100 --name "$NAME" | python3 -c 'import json,sys
t = json.load(sys.stdin); t["links"][0]["policy"] = {"delay": "1ms"}; print(json.dumps(t))' >"$SLUICE_RUNDIR/t/rb.json" || return 1
	f=$SLUICE_RUNDIR/t/rb.json
	ip netns add "sluice.$NAME.r40" || return 1
	ip -n "sluice.$NAME.r40" link add keepme type veth peer name keepme-peer || { ip netns del "sluice.$NAME.r40"; return 1; }
	out=$(CTL up "$f" 2>&1); local st=$?
	t_log "name taken: status $st: $out"
	[ "$st" -eq 1 ] || t_fail "status $st, expected 1" || rc=1
	echo "$out" | grep -q "create netns sluice.$NAME.r40: a namespace of that name exists" ||
		t_fail "the message does not name the namespace" || rc=1
	ip -n "sluice.$NAME.r40" link show keepme >/dev/null 2>&1 ||
		t_fail "the rollback removed the namespace that was there before" || rc=1
	ip netns del "sluice.$NAME.r40" 2>/dev/null
	nothing_left "$NAME" || rc=1
	[ "$rc" -eq 0 ] || return 1
	for point in namespaces:50 links:50 fabric:50 addresses:50 commit:1; do
		t_daemon_stop
		SLUICE_FAULT_INJECT=$point t_daemon_start || return 1
		out=$(CTL up "$f" 2>&1); st=$?
		t_log "fault at $point: status $st: $out"
		[ "$st" -eq 1 ] || t_fail "status $st, expected 1" || rc=1
		echo "$out" | grep -q "fault injected at ${point%:*} ${point#*:}" ||
			t_fail "the message does not name the fault" || rc=1
		grep -q "rollback failed" "$SLUICE_RUNDIR/sluiced.log" && t_fail "a rollback failed" && rc=1
		nothing_left "$NAME" || rc=1
		[ "$rc" -eq 0 ] || return 1
	done
	t_daemon_stop
	t_daemon_start || return 1
	CTL -q up "$f" || t_fail "the topology does not come up after the rollbacks" || return 1
	# across the normal-mode link, and 50 hops on (h2 is 99 away: its echo
	# replies would die of the default TTL of 64 on the way back)
	CTL exec "$NAME:h1" -- ping -c 1 -W 2 -q r1 >/dev/null || t_fail "h1 cannot reach r1 after the rollbacks" || rc=1
	CTL exec "$NAME:h1" -- ping -c 1 -W 3 -q r50 >/dev/null || t_fail "h1 cannot reach r50 after the rollbacks" || rc=1
	CTL -q down "$NAME"
	nothing_left "$NAME" || rc=1
	return $rc
}

# Progress while a large topology comes up: with -v, one line per 64
# items of each phase and one at its end, "[PHASE] DONE/TOTAL" on stderr,
# the phases in bring-up order; stdout keeps the summary (or, with --json,
# one JSON document and nothing else); -q and a non-terminal without -v
# show none.
test_progress_large() {
	NAME=prog$S; local f d=$SLUICE_RUNDIR/t rc=0
	mkdir -p "$d"
	CTL gen linear 300 --name "$NAME" >"$d/prog.json" || return 1
	f=$d/prog.json
	CTL -v up "$f" >"$d/p.out" 2>"$d/p.err" || { cat "$d/p.err"; return 1; }
	t_log "stdout: $(cat "$d/p.out")"
	t_log "stderr: $(head -3 "$d/p.err" | tr '\n' ' ')... $(wc -l <"$d/p.err") lines"
	python3 - "$d/p.out" "$d/p.err" "$NAME" <<'PY' || rc=1
import re, sys
out, err, name = open(sys.argv[1]).read(), open(sys.argv[2]).read().splitlines(), sys.argv[3]
bad = []
if not re.fullmatch(r"%s: 300 nodes, 299 links up in [0-9.]+ s\n" % name, out):
    bad.append("stdout is not the one summary line: %r" % out)
order, seen = ["namespaces", "links", "fabric", "addresses"], {}
for l in err:
    m = re.fullmatch(r"\[([a-z]+)\] ([0-9]+)/([0-9]+)", l)
    if not m:
        bad.append("not a progress line: %r" % l); continue
    seen.setdefault(m.group(1), []).append((int(m.group(2)), int(m.group(3))))
if list(seen) != order:
    bad.append("phases %s, expected %s in that order" % (list(seen), order))
for ph, total in (("namespaces", 300), ("links", 299), ("fabric", 299), ("addresses", 300)):
    got = [d for d, t in seen.get(ph, []) if t == total]
    want = list(range(64, total, 64)) + [total]
    if got != want or len(got) != len(seen.get(ph, [])):
        bad.append("%s: %s, expected %s of %d" % (ph, seen.get(ph), want, total))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
	CTL -q down "$NAME"
	CTL --json -v up "$f" >"$d/j.out" 2>"$d/j.err" || return 1
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j["nodes"] == 300 and j["links"] == 299 and j["name"] == sys.argv[2] else 1)' "$d/j.out" "$NAME" ||
		t_fail "--json: stdout is not the JSON result alone: $(head -c 300 "$d/j.out")" || rc=1
	grep -q '^\[' "$d/j.out" && t_fail "--json: progress lines on stdout" && rc=1
	[ "$(grep -c '^\[[a-z]*\] [0-9]*/[0-9]*$' "$d/j.err")" -eq "$(wc -l <"$d/p.err")" ] ||
		t_fail "--json -v: stderr has $(wc -l <"$d/j.err") lines, expected the $(wc -l <"$d/p.err") progress lines" || rc=1
	CTL -q down "$NAME"
	CTL -q -v up "$f" >"$d/q.out" 2>"$d/q.err" || return 1
	[ ! -s "$d/q.out" ] && [ ! -s "$d/q.err" ] || t_fail "-q printed: $(cat "$d/q.out" "$d/q.err" | head -3)" || rc=1
	CTL -q down "$NAME"
	CTL up "$f" >"$d/n.out" 2>"$d/n.err" || return 1
	[ ! -s "$d/n.err" ] || t_fail "without -v and without a terminal: $(head -3 "$d/n.err")" || rc=1
	CTL -q down "$NAME"
	return $rc
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
t_run "kill -9 of sluiced at five points of a bring-up, restart leaves nothing" test_kill9_mid_bringup_then_restart
t_run "a failed up (name taken, a fault in each phase) rolls back everything" test_failed_up_rolls_back
t_run "-v up of linear 300: progress lines per phase, none on --json's stdout" test_progress_large
t_run "restart re-adopts a topology that was up" test_restart_readopts_committed
t_done
