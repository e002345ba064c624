#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Relay chains through sluicectl and sluiced: a chain carries unmodified
# iperf3, a SOCKS5 front carries curl, relays stop with `relay del`, with
# `down`, and (through the journal) after the daemon was killed.
. "$(dirname "$0")/../lib.sh"
S=$$
NAME=rlx$S
CTL() { "$SLUICECTL" "$@"; }

relay_pids() { pgrep -f "sluice-relay --netns sluice.$NAME\\." | tr '\n' ' '; }

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
	local i out
	for i in $(seq 50); do
		out=$(CTL exec $NAME:h1 -- curl -s --max-time 2 --socks5 127.0.0.1:1080 http://h2:8080/ 2>/dev/null) && break
		sleep 0.1
	done
	pkill -f "http.server 8080 --directory $SLUICE_RUNDIR/www"
	[ "$out" = "hello from h2" ] || t_fail "curl through SOCKS5 got '$out'"
}

test_relay_del_and_list() {
	local before; before=$(relay_pids | wc -w)
	CTL relay list | grep -q "socks5 h1:1080" || t_fail "relay list" || return 1
	CTL relay del 1 || return 1
	[ "$(relay_pids | wc -w)" -eq $((before - 1)) ] || t_fail "relay del left its process"
}

test_relays_survive_crash_then_down_removes() {
	[ "$(relay_pids | wc -w)" -gt 0 ] || return 1
	t_daemon_kill9
	t_daemon_start || return 1
	CTL list | grep -q $NAME || t_fail "topology not re-adopted" || return 1
	CTL down $NAME || return 1
	sleep 0.3
	[ -z "$(relay_pids)" ] || t_fail "relays left after down: $(relay_pids)"
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
cd "$TOP" || exit 1
t_daemon_start || exit 1
trap 't_cleanup_all; pkill -f "sluice-relay --netns sluice.$NAME\\." 2>/dev/null' EXIT
t_run "a relay chain carries unmodified iperf3" test_chain_carries_iperf3
t_run "a SOCKS5 front carries curl" test_socks5_front_with_curl
t_run "relay list and relay del" test_relay_del_and_list
t_run "relays are stopped by down after a daemon crash" test_relays_survive_crash_then_down_removes
t_done
