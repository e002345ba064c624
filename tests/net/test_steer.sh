#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Dataplane CPU placement and receive steering (docs/dataplane.md, sluiced(8)
# dataplane-cpus / dataplane-steer): by default the threads are not pinned
# and node interfaces keep the kernel's RPS (none); with dataplane-steer =
# others the threads take the last CPUs and the node-side interfaces of
# normal-mode links steer their receive work to the other CPUs, with all to
# every CPU; max-mode links are left alone; a link moved to normal mode at
# run time is steered too; bad values are refused with the key and what was
# expected.
. "$(dirname "$0")/../lib.sh"
S=$$
CTL() { "$SLUICECTL" "$@"; }
NCPU=$(nproc)

# start_with "KEY = VALUE"...: a private sluiced with those lines.
start_with() {
	local l
	mkdir -p "$SLUICE_RUNDIR"
	: >"$SLUICE_RUNDIR/steer.conf"
	for l in "$@"; do echo "$l" >>"$SLUICE_RUNDIR/steer.conf"; done
	rm -f "$SLUICE_SOCKET"
	"$SLUICED" --foreground -c "$SLUICE_RUNDIR/steer.conf" --rundir "$SLUICE_RUNDIR" \
		--log-level debug >>"$SLUICE_RUNDIR/sluiced.log" 2>&1 &
	echo $! >"$SLUICE_RUNDIR/test-daemon.pid"
	for _ in $(seq 200); do
		[ -S "$SLUICE_SOCKET" ] && return 0
		sleep 0.05
	done
	echo "sluiced did not start"; tail -5 "$SLUICE_RUNDIR/sluiced.log"; return 1
}

# h1 - r1 normal mode (delay), r1 - h2 max mode.
up_path() {
	cat >"$SLUICE_RUNDIR/$1.json" <<JSON
{"name": "$1", "nodes": [{"name": "h1", "kind": "host"}, {"name": "r1", "kind": "router"}, {"name": "h2", "kind": "host"}],
 "links": [{"endpoints": ["h1", "r1"], "policy": {"delay": "1ms"}}, {"endpoints": ["r1", "h2"]}]}
JSON
	CTL -q up "$SLUICE_RUNDIR/$1.json"
}

rps_of() { # topo node ifname
	ip netns exec "sluice.$1.$2" cat "/sys/class/net/$3/queues/rx-0/rps_cpus" | tr -d ',' | sed 's/^0*//; s/^$/0/'
}

dp_affinity() { # the dataplane thread's CPU list
	local pid t
	pid=$(t_daemon_pid)
	for t in /proc/"$pid"/task/*; do
		[ "$(cat "$t/comm")" = sluice-dp0 ] && taskset -c -p "${t##*/}" | sed 's/.*: //'
	done
}

hexmask() { # cpu list "0-3" or "1" -> hex like rps_cpus shows it
	python3 -c '
import sys
m = 0
for part in sys.argv[1].split(","):
    a, _, b = part.partition("-")
    for c in range(int(a), int(b or a) + 1):
        m |= 1 << c
print("%x" % m)' "$1"
}

test_default_unpinned() {
	local n=sd$S rc=0 aff all
	start_with "dataplane-threads = 1" || return 1
	up_path $n || { t_daemon_stop; return 1; }
	aff=$(dp_affinity)
	all=$(taskset -c -p $$ | sed 's/.*: //')
	t_log "dataplane thread on CPUs $aff (process: $all); h1 rps $(rps_of $n h1 eth0)"
	[ "$aff" = "$all" ] || { t_fail "thread pinned to $aff by default"; rc=1; }
	[ "$(rps_of $n h1 eth0)" = 0 ] || { t_fail "h1 rps_cpus set by default"; rc=1; }
	CTL exec $n:h1 -- ping -c 3 -i 0.2 -q h2 >/dev/null || { t_fail "no path h1 -> h2"; rc=1; }
	CTL -q down $n
	t_daemon_stop
	return $rc
}

test_steer_others() {
	local n=so$S rc=0 aff want last
	[ "$NCPU" -ge 2 ] || { t_skip_why "needs 2 CPUs"; return 77; }
	start_with "dataplane-threads = 1" "dataplane-steer = others" || return 1
	up_path $n || { t_daemon_stop; return 1; }
	last=$((NCPU - 1))
	aff=$(dp_affinity)
	want=$(hexmask "0-$((NCPU - 2))")
	t_log "thread on CPU $aff; h1 $(rps_of $n h1 eth0), r1 toward h1 $(rps_of $n r1 eth0), r1 toward h2 $(rps_of $n r1 eth1), h2 $(rps_of $n h2 eth0); want $want"
	[ "$aff" = "$last" ] || { t_fail "thread on CPUs $aff, expected the last CPU $last"; rc=1; }
	[ "$(rps_of $n h1 eth0)" = "$want" ] || { t_fail "h1 eth0 rps_cpus $(rps_of $n h1 eth0), expected $want"; rc=1; }
	[ "$(rps_of $n r1 eth0)" = "$want" ] || { t_fail "r1 eth0 rps_cpus $(rps_of $n r1 eth0), expected $want"; rc=1; }
	# the max-mode link's interfaces are the kernel's business
	[ "$(rps_of $n r1 eth1)" = 0 ] || { t_fail "r1 eth1 (max mode) steered"; rc=1; }
	[ "$(rps_of $n h2 eth0)" = 0 ] || { t_fail "h2 eth0 (max mode) steered"; rc=1; }
	grep -q "node interfaces steer their receive work to CPUs $want" "$SLUICE_RUNDIR/sluiced.log" ||
		{ t_fail "no log line naming the steering"; rc=1; }
	CTL exec $n:h1 -- ping -c 5 -i 0.2 -q h2 >/dev/null || { t_fail "no path h1 -> h2"; rc=1; }
	# r1 - h2 moves to normal mode at run time: steered from then on
	CTL link set r1 h2 delay 2ms --name $n || rc=1
	[ "$(rps_of $n h2 eth0)" = "$want" ] || { t_fail "h2 eth0 not steered after the move to normal mode"; rc=1; }
	CTL exec $n:h1 -- ping -c 3 -i 0.2 -q h2 >/dev/null || { t_fail "no path after the move"; rc=1; }
	CTL -q down $n
	t_daemon_stop
	return $rc
}

test_steer_all() {
	local n=sa$S rc=0 want
	[ "$NCPU" -ge 2 ] || { t_skip_why "needs 2 CPUs"; return 77; }
	start_with "dataplane-threads = 1" "dataplane-steer = all" || return 1
	up_path $n || { t_daemon_stop; return 1; }
	want=$(hexmask "0-$((NCPU - 1))")
	[ "$(rps_of $n h1 eth0)" = "$want" ] || { t_fail "h1 rps_cpus $(rps_of $n h1 eth0), expected $want"; rc=1; }
	[ "$(dp_affinity)" = "$((NCPU - 1))" ] || { t_fail "thread on CPUs $(dp_affinity)"; rc=1; }
	CTL -q down $n
	t_daemon_stop
	return $rc
}

test_explicit_cpu() {
	local n=sc$S rc=0
	[ "$NCPU" -ge 2 ] || { t_skip_why "needs 2 CPUs"; return 77; }
	start_with "dataplane-threads = 1" "dataplane-cpus = 0" "dataplane-steer = others" || return 1
	up_path $n || { t_daemon_stop; return 1; }
	[ "$(dp_affinity)" = 0 ] || { t_fail "thread on CPUs $(dp_affinity), expected 0"; rc=1; }
	[ "$(rps_of $n h1 eth0)" = "$(hexmask "1-$((NCPU - 1))")" ] || { t_fail "h1 rps_cpus $(rps_of $n h1 eth0)"; rc=1; }
	CTL -q down $n
	t_daemon_stop
	return $rc
}

test_bad_values() {
	local rc=0 l out
	mkdir -p "$SLUICE_RUNDIR"
	while IFS='|' read -r l want; do
		echo "$l" >"$SLUICE_RUNDIR/bad.conf"
		out=$("$SLUICED" --foreground -c "$SLUICE_RUNDIR/bad.conf" --rundir "$SLUICE_RUNDIR/bad" 2>&1)
		st=$?
		[ "$st" -eq 2 ] || { t_fail "'$l': exit status $st, expected 2"; rc=1; }
		[ "$out" = "sluiced: $SLUICE_RUNDIR/bad.conf:1: $want" ] ||
			{ t_fail "'$l': said '$out', expected '$want'"; rc=1; }
	done <<-'EOF'
	dataplane-cpus = some|dataplane-cpus "some"; expected auto, none or the index of the first CPU (0 to 4095)
	dataplane-cpus = -1|dataplane-cpus "-1"; expected auto, none or the index of the first CPU (0 to 4095)
	dataplane-steer = yes|dataplane-steer "yes"; expected others, all or no
	dataplane-idle-poll-us = 5ms|dataplane-idle-poll-us "5ms"; expected a number of microseconds from 0 to 100000
	dataplane-idle-poll-us = 100001|dataplane-idle-poll-us "100001"; expected a number of microseconds from 0 to 100000
	EOF
	rm -rf "$SLUICE_RUNDIR/bad" "$SLUICE_RUNDIR/bad.conf"
	return $rc
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
trap t_cleanup_all EXIT
t_run "default: dataplane threads not pinned, node RPS untouched" test_default_unpinned
t_run "dataplane-steer = others: thread on the last CPU, normal-mode node interfaces steer to the rest" test_steer_others
t_run "dataplane-steer = all: node interfaces steer to every CPU" test_steer_all
t_run "dataplane-cpus = 0: the thread where asked, steering to the others" test_explicit_cpu
t_run "bad dataplane-cpus, -steer, -idle-poll-us values: exit 2 naming file, line, key and what is expected" test_bad_values
t_done
