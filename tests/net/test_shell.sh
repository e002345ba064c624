#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sluicectl shell: a command behind one emulated link to the host (mm-link's
# job). Delay and rate measured against the host's side of the uplink, exit
# statuses and signals, mahimahi traces, NAT beyond the host (the default;
# --no-nat-out), queue options with their effect and their stats, bad
# options, and after every run: nothing left (namespaces, the uplink, routes,
# nft rules, ip_forward, processes, the ip_forward mark).
. "$(dirname "$0")/../lib.sh"
S=$$
TRACES=${SLUICE_TRACES:-/work/shared/traces}
CTL() { "$SLUICECTL" "$@"; }

NFT_BEFORE=$(nft list ruleset 2>/dev/null)
FWD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)

# Nothing of any shell is left in the root namespace.
shell_clean() {
	local bad=""
	ip netns list | grep -q '^sluice\.sh[0-9]' && bad="$bad namespaces($(ip netns list | grep '^sluice\.sh' | tr '\n' ' '))"
	ip -br link | grep -q '^slsh' && bad="$bad uplink-interface"
	ip route show table all | grep -q 'slsh' && bad="$bad route"
	[ "$(nft list ruleset 2>/dev/null)" = "$NFT_BEFORE" ] || bad="$bad nft-rules"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$FWD_BEFORE" ] || bad="$bad ip_forward"
	[ -e /run/sluice-shell.ip_forward ] && bad="$bad ip_forward-mark"
	[ -z "$bad" ] || t_fail "left behind:$bad"
}

# iperf_run PORT 'CLIENT ARGS' SHELL-OPTIONS...: an iperf3 server on the
# host's side of the uplink (its address comes out of the shell), the
# client in the shell; prints the receiver's bit/s.
iperf_run() {
	local port=$1 cargs=$2 d=$SLUICE_RUNDIR/ip$1 sp srv i rc
	shift 2
	rm -rf "$d"; mkdir -p "$d"
	"$SLUICECTL" -q shell "$@" -- sh -c "echo \$SLUICE_HOST_ADDR >$d/addr
		i=0; while [ ! -e $d/ready ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done
		iperf3 -c \$SLUICE_HOST_ADDR -p $port $cargs -J >$d/out.json" &
	sp=$!
	for i in $(seq 200); do [ -s "$d/addr" ] && break; sleep 0.05; done
	[ -s "$d/addr" ] || { kill "$sp"; wait "$sp"; echo "no address from the shell" >&2; return 1; }
	iperf3 -s -1 -B "$(cat "$d/addr")" -p "$port" >"$d/server.log" 2>&1 &
	srv=$!
	sleep 0.3
	touch "$d/ready"
	wait "$sp"; rc=$?
	kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null
	[ "$rc" -eq 0 ] || { echo "shell exited $rc" >&2; cat "$d/out.json" >&2; return 1; }
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"])' "$d/out.json"
}

test_delay_rtt() {
	local out min med
	out=$(CTL -q shell --delay 25ms -- sh -c 'ping -c 5 -i 0.2 $SLUICE_HOST_ADDR') || { echo "$out"; return 1; }
	read -r min _ _ _ med < <(echo "$out" | t_ping_summary)
	t_log "delay 25 ms each way: $(echo "$out" | tail -1), median $med ms"
	shell_clean || return 1
	t_in_range "$min" 50 51.5 || t_fail "minimum RTT $min ms, expected 50 to 51.5 ms" || return 1
	t_in_range "$med" 50 51.5 || t_fail "median RTT $med ms, expected 50 to 51.5 ms"
}

test_rate_tcp() {
	local bps
	bps=$(iperf_run $((5700 + S % 100)) "-t 8 -O 2" --rate 10mbit) || return 1
	t_log "rate 10 Mbit/s: TCP goodput shell -> host $bps bit/s"
	shell_clean || return 1
	python3 -c "import sys; b=float('$bps'); sys.exit(0 if 9.0e6 <= b <= 10.1e6 else 1)" ||
		t_fail "goodput $bps, expected 9.0-10.1 Mbit/s"
}

# The T-Mobile trace averages 16.7 Mbit/s down over its 140 s, but its
# first seconds are faster (23.8 Mbit/s over 0-5 s), and the trace starts at
# the link's first packet: a 5 s download is held to what the trace offers
# in its first 5 s, as TCP payload (1448 of every 1500 bytes).
test_trace_download() {
	local bps want
	[ -r "$TRACES/TMobile-LTE-short.down" ] || { t_skip_why "no traces in $TRACES"; return 77; }
	want=$(python3 -c 'import sys
ts=[int(l) for l in open(sys.argv[1]) if l.strip()]
print(sum(1 for t in ts if t < 5000) * 1448 * 8 / 5.0)' "$TRACES/TMobile-LTE-short.down")
	bps=$(iperf_run $((5800 + S % 100)) "-R -t 5" \
		--up-trace "$TRACES/TMobile-LTE-short.up" \
		--down-trace "$TRACES/TMobile-LTE-short.down") || return 1
	t_log "TMobile-LTE-short: 5 s download $bps bit/s; the trace offers $want bit/s of TCP payload in its first 5 s (16.7 Mbit/s of IP over all 140 s)"
	shell_clean || return 1
	python3 -c "import sys; b=float('$bps'); w=float('$want'); sys.exit(0 if 0.80*w <= b <= 1.03*w else 1)" ||
		t_fail "download $bps bit/s, expected 80-103% of $want"
}

test_exit_status() {
	local rc
	CTL -q shell --delay 1ms -- sh -c 'exit 3'; rc=$?
	[ "$rc" -eq 3 ] || t_fail "sh -c 'exit 3' gave $rc" || return 1
	CTL -q shell -- sh -c 'kill -USR1 $$'; rc=$?
	[ "$rc" -eq $((128 + 10)) ] || t_fail "a program killed by SIGUSR1 gave $rc, expected 138" || return 1
	CTL -q shell -- no-such-program-here 2>/dev/null; rc=$?
	[ "$rc" -eq 127 ] || t_fail "a missing program gave $rc, expected 127" || return 1
	CTL -q shell -- sh -c '[ "$SLUICE_SHELL" = 1 ] && [ -n "$SLUICE_HOST_ADDR" ]' ||
		t_fail "SLUICE_SHELL or SLUICE_HOST_ADDR missing inside" || return 1
	shell_clean
}

# TERM reaches the program and everything goes; a program that ignores
# TERM is killed after 5 s; processes left in the shell are ended.
test_signals() {
	local p rc t0 t1
	# not through CTL: $! must be sluicectl itself, not a subshell
	"$SLUICECTL" -q shell -- sleep 100 &
	p=$!
	sleep 2
	kill -TERM "$p"; wait "$p"; rc=$?
	[ "$rc" -eq 143 ] || t_fail "TERM to sluicectl gave $rc, expected 143" || return 1
	shell_clean || return 1
	"$SLUICECTL" -q shell -- sh -c "trap '' TERM; sleep 98765 & sleep 100" &
	p=$!
	sleep 2
	t0=$(date +%s)
	kill -TERM "$p"; wait "$p"; rc=$?
	t1=$(date +%s)
	t_log "a program ignoring TERM: status $rc after $((t1 - t0)) s"
	[ "$rc" -eq 137 ] || t_fail "expected 137 (killed), got $rc" || return 1
	[ $((t1 - t0)) -le 8 ] || t_fail "took $((t1 - t0)) s" || return 1
	pgrep -f 'sleep 98765' >/dev/null && t_fail "a process of the shell is still running" && return 1
	shell_clean
}

# A name in use is refused and the topology that has it is left alone; a
# bring-up that fails half way (nft failing in gw) removes what it made.
test_failed_bringup() {
	local d=$SLUICE_RUNDIR/fakebin rc
	echo '{"name": "shtaken", "nodes": [{"name": "a"}]}' | CTL -q up - || return 1
	CTL -q shell --name shtaken -- true 2>"$SLUICE_RUNDIR/err"; rc=$?
	t_log "name in use: $(cat "$SLUICE_RUNDIR/err")"
	[ "$rc" -eq 1 ] || t_fail "status $rc, expected 1" || return 1
	CTL list | grep -q '^shtaken ' || t_fail "the existing topology was removed" || return 1
	CTL -q down shtaken
	mkdir -p "$d"
	printf '#!/bin/sh\necho "fake nft failing" >&2\nexit 1\n' >"$d/nft"
	chmod +x "$d/nft"
	PATH=$d:$PATH CTL -q shell -- true 2>"$SLUICE_RUNDIR/err"; rc=$?
	t_log "nft failing: $(cat "$SLUICE_RUNDIR/err" | tr '\n' ' ')"
	[ "$rc" -eq 1 ] || t_fail "status $rc, expected 1" || return 1
	[ "$(CTL list | grep -c '^sh')" -eq 0 ] || t_fail "a topology is left: $(CTL list)" || return 1
	shell_clean
}

# Without nft the host routes the topology's pool via the uplink instead,
# and says that nothing beyond the host is reachable; --nat-out insists on
# NAT and fails without nft; --no-nat-out asks for nothing beyond.
test_without_nft() {
	local d=$SLUICE_RUNDIR/nonft out rc
	mkdir -p "$d"
	printf '#!/bin/sh\nexit 127\n' >"$d/nft"
	chmod +x "$d/nft"
	out=$(PATH=$d:$PATH CTL -q shell --delay 5ms -- sh -c 'ping -c 3 -i 0.2 -q $SLUICE_HOST_ADDR' 2>"$d/err") ||
		{ echo "$out"; cat "$d/err"; return 1; }
	t_log "routed instead of masqueraded: $(echo "$out" | tail -1)"
	t_log "warning: $(cat "$d/err")"
	grep -q "^sluicectl: .*nft not found: the shell reaches the host only, nothing beyond it" "$d/err" ||
		t_fail "no warning that NAT beyond the host is off: $(cat "$d/err")" || return 1
	shell_clean || return 1
	PATH=$d:$PATH CTL -q shell --nat-out -- true 2>"$d/err"; rc=$?
	t_log "--nat-out without nft: status $rc, $(cat "$d/err")"
	[ "$rc" -eq 1 ] || t_fail "--nat-out without nft gave status $rc, expected 1" || return 1
	grep -q -- "--nat-out needs nft (Debian package nftables)" "$d/err" ||
		t_fail "message: $(cat "$d/err")" || return 1
	PATH=$d:$PATH CTL -q shell --no-nat-out -- true 2>"$d/err" || t_fail "--no-nat-out without nft failed" || return 1
	[ ! -s "$d/err" ] || t_fail "--no-nat-out warned: $(cat "$d/err")" || return 1
	shell_clean
}

# A network behind the host: a namespace on a veth of the root namespace
# that knows no route back, so only NAT on the host reaches it.
beyond_up() { # ns ifc
	ip netns add "$1" || return 1
	ip link add "$2" type veth peer name eth0 netns "$1" &&
		ip addr add 198.18.77.0/31 dev "$2" && ip link set "$2" up &&
		ip -n "$1" addr add 198.18.77.1/31 dev eth0 && ip -n "$1" link set eth0 up || {
		ip link del "$2" 2>/dev/null; ip netns del "$1"; return 1; }
}
beyond_down() { ip link del "$2" 2>/dev/null; ip netns del "$1" 2>/dev/null; }

# By default (as with mm-link) the shell reaches beyond the host through
# NAT: its nft table and ip_forward exist while the shell runs and are gone
# after. --no-nat-out reaches the host only; --nat-out is the default said
# explicitly.
test_nat_default() {
	local ns=slbeyond$S ifc=slby$S d=$SLUICE_RUNDIR/nat rc rc2 rc3 during p i
	beyond_up $ns $ifc || return 1
	rm -rf "$d"; mkdir -p "$d"
	"$SLUICECTL" -q shell --delay 5ms -- sh -c "touch $d/up; i=0
		while [ ! -e $d/checked ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i+1)); done
		ping -c 3 -i 0.2 -q 198.18.77.1" >"$d/out" &
	p=$!
	for i in $(seq 200); do [ -e "$d/up" ] && break; sleep 0.05; done
	during="$(nft list tables | tr '\n' ' ') ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
	touch "$d/checked"
	wait $p; rc=$?
	t_log "default: $(tail -1 "$d/out"); while up: $during"
	CTL -q shell --no-nat-out --delay 5ms -- sh -c 'ping -c 2 -W 1 -q 198.18.77.1 >/dev/null && exit 9
		ping -c 1 -W 2 -q $SLUICE_HOST_ADDR >/dev/null'; rc2=$?
	CTL -q shell --nat-out --delay 5ms -- ping -c 2 -i 0.2 -W 2 -q 198.18.77.1 >/dev/null; rc3=$?
	beyond_down $ns $ifc
	[ "$rc" -eq 0 ] || t_fail "no answer from beyond the host by default" || return 1
	echo "$during" | grep -q 'table ip sluice_sh' || t_fail "no nft table while up" || return 1
	echo "$during" | grep -q 'ip_forward=1' || t_fail "ip_forward off while up" || return 1
	[ "$rc2" -ne 9 ] || t_fail "--no-nat-out reached beyond the host" || return 1
	[ "$rc2" -eq 0 ] || t_fail "--no-nat-out: the host did not answer (status $rc2)" || return 1
	[ "$rc3" -eq 0 ] || t_fail "--nat-out: no answer from beyond the host (status $rc3)" || return 1
	shell_clean
}

# ip_forward is shared: a shell that ends while another runs leaves it on
# for the other, and the last one out puts it back as it was.
test_nat_two_shells() {
	local ns=slbeyond$S ifc=slby$S d=$SLUICE_RUNDIR/nat2 rc1 rc2 p i fwd_mid
	beyond_up $ns $ifc || return 1
	rm -rf "$d"; mkdir -p "$d"
	"$SLUICECTL" -q shell -- sh -c "touch $d/a-up; i=0
		while [ ! -e $d/b-done ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done
		ping -c 3 -i 0.2 -W 2 -q 198.18.77.1" >"$d/a.out" &
	p=$!
	for i in $(seq 200); do [ -e "$d/a-up" ] && break; sleep 0.05; done
	CTL -q shell -- ping -c 1 -W 2 -q 198.18.77.1 >"$d/b.out"; rc2=$?
	fwd_mid=$(cat /proc/sys/net/ipv4/ip_forward)
	touch "$d/b-done"
	wait $p; rc1=$?
	beyond_down $ns $ifc
	t_log "second shell: status $rc2; after it ended ip_forward=$fwd_mid; first shell then: $(tail -1 "$d/a.out")"
	[ "$rc2" -eq 0 ] || t_fail "the second shell got no answer from beyond the host" || return 1
	[ "$fwd_mid" = 1 ] || t_fail "the second shell's end turned ip_forward off under the first" || return 1
	[ "$rc1" -eq 0 ] || t_fail "the first shell lost its way beyond the host when the second ended" || return 1
	[ ! -e /run/sluice-shell.ip_forward ] || t_fail "the ip_forward mark is left" || return 1
	shell_clean
}

# The queue options take effect: a burst of 40 pings of 1000 bytes into
# 1 Mbit/s (8 ms a packet) with a queue of 5 packets. Drop-tail keeps the
# head of the burst, drop-head (mm-link's drophead) its tail; the link's
# stats show the cells as configured and the drops.
burst_seqs() { # name shell-options... -> the icmp_seqs answered; stats in $SLUICE_RUNDIR/NAME.stats
	local name=$1
	shift
	CTL -q shell --name "$name" "$@" -- sh -c "ping -c 40 -l 40 -s 1000 -W 2 \$SLUICE_HOST_ADDR
		\"$SLUICECTL\" stats shell gw --name $name --json >$SLUICE_RUNDIR/$name.stats" |
		sed -n 's/.*icmp_seq=\([0-9]*\).*/\1/p' | sort -n | tr '\n' ' '
}

test_queue_options() {
	local tail head rc=0
	tail=$(burst_seqs sqt$S --up-rate 1mbit --up-queue droptail --up-queue-args packets=5)
	head=$(burst_seqs sqh$S --up-rate 1mbit --up-queue drophead --up-queue-args packets=5)
	t_log "drop-tail answered icmp_seq $tail"
	t_log "drop-head answered icmp_seq $head"
	python3 - "$tail" "$head" <<'PY' || rc=1
import sys
t = [int(x) for x in sys.argv[1].split()]
h = [int(x) for x in sys.argv[2].split()]
err = []
# drop-tail: the first packets, nothing from the end of the burst
if not (t and set(range(1, 6)) <= set(t) and max(t) <= 12 and 5 <= len(t) <= 10):
    err.append("drop-tail answered %s, expected 1-5 and nothing after 12" % t)
# drop-head: the last packets, nothing from the middle
if not (h and max(h) == 40 and len(set(range(36, 41)) & set(h)) >= 4 and
        not [x for x in h if 8 <= x <= 30] and 5 <= len(h) <= 10):
    err.append("drop-head answered %s, expected most of 36-40 and nothing of 8-30" % h)
print("\n".join(err))
sys.exit(1 if err else 0)
PY
	python3 - "$SLUICE_RUNDIR/sqt$S.stats" "$SLUICE_RUNDIR/sqh$S.stats" "$tail" "$head" <<'PY' || rc=1
import json, sys
err = []
for f, drop, got in ((sys.argv[1], "tail", sys.argv[3]), (sys.argv[2], "head", sys.argv[4])):
    l = json.load(open(f))["links"][0]
    up = l["up"]
    if up["mode"] != "normal":
        err.append("%s: mode %s" % (drop, up["mode"])); continue
    rate = [c for c in up["dataplane"]["cells"] if c["type"] == "rate"]
    if len(rate) != 1:
        err.append("%s: cells %s" % (drop, [c["type"] for c in up["dataplane"]["cells"]])); continue
    r, q = rate[0], rate[0]["queue"]
    if r["rate_bps"] != 1000000:
        err.append("%s: rate %s" % (drop, r["rate_bps"]))
    if (q["type"], q["limit"], q["drop"]) != ("queue", "5pkt", drop):
        err.append("%s: queue %s" % (drop, {k: q[k] for k in ("type", "limit", "drop")}))
    lost = 40 - len(got.split())
    if not (lost <= r["drops"]["queue"] <= lost + 2):
        err.append("%s: %d queue drops for %d pings lost" % (drop, r["drops"]["queue"], lost))
    if [c for c in l["down"].get("dataplane", {}).get("cells", []) if c["type"] == "rate"]:
        err.append("%s: the down direction has a rate cell" % drop)
print("\n".join(err))
sys.exit(1 if err else 0)
PY
	[ "$rc" -eq 0 ] || return 1
	shell_clean
}

# An interactive shell on a terminal: the notice, the prompt tag, the
# variables, and the shell's exit status.
test_interactive() {
	local out rc
	command -v script >/dev/null || { t_skip_why "no script(1)"; return 77; }
	out=$( (sleep 2; echo 'echo "addr=$SLUICE_HOST_ADDR"'; sleep 0.5; echo 'exit 5') |
		SHELL=/bin/bash timeout 30 script -qfec "$SLUICECTL shell --rate 12mbit --delay 20ms" /dev/null 2>&1)
	rc=$?
	t_log "$(echo "$out" | tr -d '\r' | grep -a 'sluicectl:\|shell 12mbit' | head -3 | tr '\n' '|')"
	[ "$rc" -eq 5 ] || t_fail "status $rc, expected 5" || return 1
	echo "$out" | grep -aq 'the host is 100\.' || t_fail "no notice with the host's address" || return 1
	echo "$out" | grep -aq '\[shell 12mbit 20ms\]' || t_fail "no prompt tag" || return 1
	echo "$out" | grep -aq 'addr=100\.' || t_fail "SLUICE_HOST_ADDR not set" || return 1
	shell_clean
}

test_bad_options() {
	local args rc msg
	for args in "--rate fast" "--delay 10" "--loss 200%" "--queue 100pkt" \
		"--rate 1mbit --queue fifo" "--up-trace /no/such/trace" "--jitter 2ms" \
		"--rate 1mbit --aqm codel --queue-args target=soon" "--frobnicate" \
		"--policy [1]" "--name 9lives"; do
		# shellcheck disable=SC2086
		msg=$(CTL shell $args -- true 2>&1); rc=$?
		[ "$rc" -eq 2 ] || t_fail "'$args' gave status $rc, expected 2: $msg" || return 1
		echo "$msg" | head -1 | grep -q '^sluicectl shell: ' || t_fail "'$args': no message: $msg" || return 1
		t_log "$args: $(echo "$msg" | head -1)"
	done
	shell_clean
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
command -v iperf3 >/dev/null || { echo "1..0 # SKIP needs iperf3"; exit 0; }
t_daemon_start || exit 1
trap t_cleanup_all EXIT
t_run "delay 25 ms each way: ping to the host, min and median 50-51.5 ms" test_delay_rtt
t_run "rate 10 Mbit/s: TCP goodput to the host 9.0-10.1 Mbit/s" test_rate_tcp
t_run "mahimahi traces: a download gets what the trace offers" test_trace_download
t_run "exit statuses: the program's own, 128+N when killed, 127 not found" test_exit_status
t_run "TERM reaches the program; ignored TERM is followed by KILL; leftovers end" test_signals
t_run "a name in use is left alone; a failed bring-up removes what it made" test_failed_bringup
t_run "without nft: the pool routed via the uplink, a warning; --nat-out fails" test_without_nft
t_run "NAT beyond the host by default, undone after; --no-nat-out reaches the host only" test_nat_default
t_run "two shells share ip_forward: the first to end leaves it to the other" test_nat_two_shells
t_run "queue options: drop-tail keeps a burst's head, drop-head its tail; stats show it" test_queue_options
t_run "interactive: notice, prompt tag, variables, exit status" test_interactive
t_run "bad options exit 2 with a message" test_bad_options
t_done
