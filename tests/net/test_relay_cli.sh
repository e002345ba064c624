#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Relay chains through sluicectl and sluiced: a chain carries unmodified
# iperf3, a SOCKS5 front carries curl, relays stop with `relay del` and
# with `down`. Across restarts of sluiced (SIGTERM, kill -9) a chain is
# taken back: the same processes show in `relay list`, carry TCP, and
# `relay del` and `down` stop them. A chain that cannot be taken back (a
# hop died meanwhile, a pid that is another process now) is dropped and
# its remaining processes stopped, while a process that is not a relay is
# left alone.
. "$(dirname "$0")/../lib.sh"
S=$$
NAME=rlx$S
CTL() { "$SLUICECTL" "$@"; }

relay_pids() { pgrep -f "sluice-relay --netns sluice.$NAME\\." | tr '\n' ' '; }

# relay_procs ID: "node:pid:running:adopted ..." of relay ID, in list order;
# empty when there is no relay ID.
relay_procs() {
	CTL --json relay list | python3 -c '
import json, sys
for r in json.load(sys.stdin)["relays"]:
    if r["id"] == int(sys.argv[1]):
        print(" ".join("%s:%d:%s:%s" % (p["node"], p["pid"], p["running"], p.get("adopted", False))
                       for p in r["processes"]))' "$1"
}

# The pids of relay_procs' output.
pids_of() { echo "$1" | tr ' ' '\n' | cut -d: -f2 | tr '\n' ' '; }

# all_gone PID...: none of them runs (waits up to 2 s).
all_gone() {
	local p i alive
	for i in $(seq 40); do
		alive=""
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
		[ -z "$alive" ] && return 0
		sleep 0.05
	done
	echo "still running:$alive"
	return 1
}

# iperf_through FRONT_PORT SERVER_PORT: an iperf3 client on h1 connects to
# 127.0.0.1:FRONT_PORT; a one-shot server on h2 listens on SERVER_PORT.
iperf_through() {
	local pidf=$SLUICE_RUNDIR/iperf3-$2.pid bytes
	rm -f "$pidf"
	CTL exec $NAME:h2 -- iperf3 -s -1 -D -p "$2" -I "$pidf" || return 1
	sleep 0.3
	bytes=$(CTL exec $NAME:h1 -- iperf3 -c 127.0.0.1 -p "$1" -t 1 -J |
		python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bytes"]))')
	[ -s "$pidf" ] && grep -q iperf3 "/proc/$(cat "$pidf")/cmdline" 2>/dev/null && kill "$(cat "$pidf")"
	t_log "bytes through the chain: ${bytes:-none}"
	[ -n "$bytes" ] && [ "$bytes" -gt 1000000 ]
}

test_chain_carries_iperf3() {
	CTL gen linear 4 --name $NAME >"$SLUICE_RUNDIR/t.json" && CTL -q up "$SLUICE_RUNDIR/t.json" || return 1
	CTL relay add --from h1:9000 --to h2:5201 --via r1,r2 || return 1
	[ "$(relay_pids | wc -w)" -eq 3 ] || t_fail "expected 3 relay processes: $(relay_pids)" || return 1
	CTL exec $NAME:h2 -- iperf3 -s -1 -D -p 5201 || return 1
	sleep 0.3
	local bps
	bps=$(CTL exec $NAME:h1 -- iperf3 -c 127.0.0.1 -p 9000 -t 2 -J |
		python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))') || return 1
	t_log "iperf3 through 3 spliced relays: $((bps / 1000000)) Mbit/s"
	[ "$bps" -gt 100000000 ]
}

test_socks5_front_with_curl() {
	command -v curl >/dev/null || { t_skip_why "no curl"; return 77; }
	CTL relay add --socks5 h1:1080 || return 1
	mkdir -p "$SLUICE_RUNDIR/www" && echo "hello from h2" >"$SLUICE_RUNDIR/www/index.html"
	CTL exec $NAME:h2 -- python3 -m http.server 8080 --directory "$SLUICE_RUNDIR/www" >/dev/null 2>&1 &
	local i out web=$!
	for i in $(seq 50); do
		out=$(CTL exec $NAME:h1 -- curl -s --max-time 2 --socks5 127.0.0.1:1080 http://h2:8080/ 2>/dev/null) && break
		sleep 0.1
	done
	kill "$web" 2>/dev/null
	# the server itself: sluicectl exec's child, which outlives it
	pkill -f "http.server 8080 --directory $SLUICE_RUNDIR/www\$" 2>/dev/null
	[ "$out" = "hello from h2" ] || t_fail "curl through SOCKS5 got '$out'"
}

test_relay_del_and_list() {
	local before; before=$(relay_pids | wc -w)
	CTL relay list | grep -q "socks5 h1:1080" || t_fail "relay list" || return 1
	CTL relay del 1 || return 1
	[ "$(relay_pids | wc -w)" -eq $((before - 1)) ] || t_fail "relay del left its process"
}

# restart_check HOW: relay 0 (h1:9000 -> r1 -> r2 -> h2:5201) is taken back
# by a new sluiced after the old one was stopped with HOW (stop or kill9):
# the same processes, running, adopted, and the chain carries TCP.
restart_check() {
	local before after mark
	before=$(relay_procs 0)
	mark=$(wc -l <"$SLUICE_RUNDIR/sluiced.log")
	[ "$(echo "$before" | wc -w)" -eq 3 ] || t_fail "relay 0 before the restart: '$before'" || return 1
	if [ "$1" = kill9 ]; then t_daemon_kill9; else t_daemon_stop; fi
	t_daemon_start || return 1
	CTL list | grep -q $NAME || t_fail "topology not re-adopted" || return 1
	CTL relay list
	after=$(relay_procs 0)
	[ "$(pids_of "$after")" = "$(pids_of "$before")" ] ||
		t_fail "relay 0 after the restart: '$after', before: '$before'" || return 1
	[ "$(echo "$after" | tr ' ' '\n' | grep -c ':True:True$')" -eq 3 ] ||
		t_fail "expected 3 running, adopted processes: '$after'" || return 1
	CTL relay list | grep -qF "h1:9000 -> r1 -> r2 -> h2:5201" || t_fail "relay list lacks the chain" || return 1
	tail -n +$((mark + 1)) "$SLUICE_RUNDIR/sluiced.log" |
		grep -q "relay 0 (h1:9000 -> r1 -> r2 -> h2:5201, 3 processes) taken back" ||
		t_fail "no 'taken back' line in sluiced's log" || return 1
	iperf_through 9000 5201
}

test_sigterm_restart_takes_relays_back() { restart_check stop; }
test_kill9_restart_takes_relays_back() { restart_check kill9; }

test_relay_del_after_restart() {
	local procs pids
	procs=$(relay_procs 0)
	pids=$(pids_of "$procs")
	[ "$(echo $pids | wc -w)" -eq 3 ] || t_fail "relay 0: '$procs'" || return 1
	CTL relay del 0 || return 1
	# shellcheck disable=SC2086
	all_gone $pids || return 1
	[ -z "$(relay_procs 0)" ] || t_fail "relay 0 still listed" || return 1
	[ -z "$(relay_pids)" ] || t_fail "relay processes left: $(relay_pids)" || return 1
	# and what is gone stays gone across the next restart
	t_daemon_stop; t_daemon_start || return 1
	[ -z "$(relay_procs 0)" ] || t_fail "relay 0 came back after a restart"
}

# A hop killed while sluiced is down: the chain cannot be taken back; its
# other hop is stopped.
test_chain_with_dead_hop_is_dropped() {
	local id procs pids r1pid
	id=$(CTL --json relay add --from h1:9100 --to h2:5202 --via r1 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || return 1
	procs=$(relay_procs "$id"); pids=$(pids_of "$procs")
	[ "$(echo $pids | wc -w)" -eq 2 ] || t_fail "relay $id: '$procs'" || return 1
	r1pid=$(echo "$procs" | tr ' ' '\n' | grep '^r1:' | cut -d: -f2)
	t_daemon_kill9
	kill -9 "$r1pid"; all_gone "$r1pid" || return 1
	t_daemon_start || return 1
	[ -z "$(relay_procs "$id")" ] || t_fail "a broken chain was taken back: $(relay_procs "$id")" || return 1
	# shellcheck disable=SC2086
	all_gone $pids || return 1
	grep -q "relay $id (h1:9100 -> r1 -> h2:5202) cannot be taken back: its relay on r1 (pid $r1pid) is gone" \
		"$SLUICE_RUNDIR/sluiced.log" || t_fail "no reason in sluiced's log" || return 1
	[ -z "$(relay_pids)" ] || t_fail "relay processes left: $(relay_pids)"
}

# The state names a hop by a pid that is another process now (with that
# process's own start time, so only the command line tells): that process
# is left alone; the chain's real processes are stopped, the one the
# state no longer names through the journal.
test_pid_of_another_process_is_left_alone() {
	local id procs pids r1pid other st
	id=$(CTL --json relay add --from h1:9200 --to h2:5203 --via r1 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || return 1
	procs=$(relay_procs "$id"); pids=$(pids_of "$procs")
	r1pid=$(echo "$procs" | tr ' ' '\n' | grep '^r1:' | cut -d: -f2)
	[ -n "$r1pid" ] || t_fail "relay $id: '$procs'" || return 1
	sleep 600 >/dev/null 2>&1 &
	other=$!
	echo "$other" >"$SLUICE_RUNDIR/other.pid"
	st=$(sed 's/.*) //' "/proc/$other/stat" | cut -d' ' -f20)
	t_daemon_stop
	python3 - "$SLUICE_RUNDIR/topo/$NAME/relays.json" "$id" "$r1pid" "$other" "$st" <<'PY'
import json, sys
path, rid, old, new, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
chains = json.load(open(path))
hop = [h for c in chains if c["id"] == rid for h in c["hops"] if h["pid"] == old][0]
hop["pid"], hop["start"] = new, start
json.dump(chains, open(path, "w"))
PY
	[ $? -eq 0 ] || { t_daemon_start; return 1; }
	t_daemon_start || return 1
	[ -z "$(relay_procs "$id")" ] || t_fail "the chain was taken back: $(relay_procs "$id")" || return 1
	# shellcheck disable=SC2086
	all_gone $pids || return 1
	kill -0 "$other" || t_fail "sluiced stopped pid $other, which is not a relay" || return 1
	grep -q "relay $id (h1:9200 -> r1 -> h2:5203) cannot be taken back: pid $other is not its relay on r1 (it runs \"sleep 600\")" \
		"$SLUICE_RUNDIR/sluiced.log" || t_fail "no reason in sluiced's log" || return 1
	grep -q "relay process $r1pid is in no chain that was taken back; stopping it" "$SLUICE_RUNDIR/sluiced.log" ||
		t_fail "the journal's orphan was not named" || return 1
	kill "$other"
}

test_relays_survive_crash_then_down_removes() {
	local procs
	CTL relay add --from h1:9300 --to h2:5204 --via r1,r2 >/dev/null || return 1
	[ "$(relay_pids | wc -w)" -eq 3 ] || t_fail "expected 3 relay processes: $(relay_pids)" || return 1
	t_daemon_kill9
	t_daemon_start || return 1
	CTL list | grep -q $NAME || t_fail "topology not re-adopted" || return 1
	procs=$(CTL relay list)
	echo "$procs"
	echo "$procs" | grep -qF "h1:9300 -> r1 -> r2 -> h2:5204" || t_fail "chain not taken back" || return 1
	CTL down $NAME || return 1
	sleep 0.3
	[ -z "$(relay_pids)" ] || t_fail "relays left after down: $(relay_pids)" || return 1
	[ -z "$(CTL --json relay list | grep '"id"')" ] || t_fail "relays listed after down"
}

cleanup() {
	local p
	# a test that failed with the daemon stopped: one is needed for down
	kill -0 "$(t_daemon_pid)" 2>/dev/null || t_daemon_start >/dev/null
	t_cleanup_all
	for p in $(relay_pids) $(cat "$SLUICE_RUNDIR/other.pid" 2>/dev/null); do kill "$p" 2>/dev/null; done
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
cd "$TOP" || exit 1
t_daemon_start || exit 1
trap cleanup EXIT
t_run "a relay chain carries unmodified iperf3" test_chain_carries_iperf3
t_run "a SOCKS5 front carries curl" test_socks5_front_with_curl
t_run "relay list and relay del" test_relay_del_and_list
t_run "sluiced stopped (SIGTERM) and started: the chain is taken back and carries TCP" test_sigterm_restart_takes_relays_back
t_run "sluiced killed (-9) and started: the chain is taken back and carries TCP" test_kill9_restart_takes_relays_back
t_run "relay del after a restart stops the adopted processes" test_relay_del_after_restart
t_run "a chain whose hop died while sluiced was down is dropped, its other hop stopped" test_chain_with_dead_hop_is_dropped
t_run "a pid that is another process now is left alone; the chain's processes are stopped" test_pid_of_another_process_is_left_alone
t_run "relays are stopped by down after a daemon crash" test_relays_survive_crash_then_down_removes
t_done
