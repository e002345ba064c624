#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Cells on a real namespace path: two nodes joined by one normal-mode link
# whose fabric ports run the AF_XDP dataplane (tools/dpctl), a saturating
# UDP sender, and the receiver's kernel timestamps.
#  - trace replay: a mahimahi trace of ../shared/traces as the link's rate;
#    the packets leaving the cell in every 100 ms window match the trace's
#    delivery opportunities within 2% or one packet, and so do those at
#    the receiver but for packets the host delivered late into the next
#    window (at most a tenth of the windows, each made up by a neighbour;
#    not held when the hypervisor stole over 2% of the dataplane's CPU);
#  - capture: a capture cell's pcap/pcapng files open in tcpdump and tshark
#    and hold the packets that went through (and, in pcapng, the dropped
#    ones with their comment).
. "$(dirname "$0")/../lib.sh"

S=$$
DPCTL=$B/tools/dpctl
UDPGEN=$B/tools/udpgen
PFX=scl$S
TRACES=${SLUICE_TRACES:-$TOP/../shared/traces}

need() {
	[ "$(id -u)" -eq 0 ] || { t_skip_why "needs root"; return 77; }
	[ -x "$DPCTL" ] && [ -x "$UDPGEN" ] || { t_skip_why "build/tools/dpctl and udpgen not built"; return 77; }
	command -v python3 >/dev/null || { t_skip_why "python3 missing"; return 77; }
	return 0
}

# link_up NAME: nodes NAME-n0 (e1, 10.78.0.1) and NAME-n1 (e0, 10.78.0.2)
# joined through fabric ports a0 and b0 in NAME-f.
link_up() {
	local name=$1 i
	ip netns add "$name-f" || return 1
	for i in 0 1; do
		ip netns add "$name-n$i" || return 1
		ip -n "$name-n$i" link set lo up
		ip netns exec "$name-n$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	done
	ip -n "$name-f" link add a0 type veth peer name e1 netns "$name-n0" || return 1
	ip -n "$name-f" link add b0 type veth peer name e0 netns "$name-n1" || return 1
	ip -n "$name-f" link set a0 up
	ip -n "$name-f" link set b0 up
	ip -n "$name-n0" addr add 10.78.0.1/24 dev e1
	ip -n "$name-n0" link set e1 up
	ip -n "$name-n1" addr add 10.78.0.2/24 dev e0
	ip -n "$name-n1" link set e0 up
	# static neighbours: no ARP crosses the link, so that the first
	# frame a cell sees is the test's first packet
	ip -n "$name-n0" neigh replace 10.78.0.2 dev e1 lladdr \
		"$(ip -n "$name-n1" -o link show e0 | sed 's/.*link\/ether \([^ ]*\).*/\1/')" nud permanent
	ip -n "$name-n1" neigh replace 10.78.0.1 dev e0 lladdr \
		"$(ip -n "$name-n0" -o link show e1 | sed 's/.*link\/ether \([^ ]*\).*/\1/')" nud permanent
}

link_down() {
	local name=$1 ns
	for ns in $(ip netns list | awk '{print $1}' | grep -- "^$name-"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns"
	done
}

# dp_start NAME UP_POLICY: dpctl on the link, up = n0 -> n1.
dp_start() {
	local name=$1 k
	# shellcheck disable=SC2086
	"$DPCTL" --netns "$name-f" --topo "$name" --wait ${DP_ARGS:-} \
		--node-if "$name-n0" e1 --node-if "$name-n1" e0 --txcsum-off \
		--ports a0 b0 --up "$2" --down '{}' \
		>"$T_DIR/$name.out" 2>"$T_DIR/$name.err" </dev/null &
	echo $! >"$T_DIR/$name.pid"
	for k in $(seq 100); do
		grep -q ready "$T_DIR/$name.out" 2>/dev/null && return 0
		kill -0 "$(cat "$T_DIR/$name.pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "dpctl did not start:"; cat "$T_DIR/$name.err"; return 1
}

dp_stop() { # lets dpctl free the channels (closing capture files)
	local name=$1 pid
	pid=$(cat "$T_DIR/$name.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	t_wait_gone "$pid" || { kill -KILL "$pid"; t_wait_gone "$pid"; }
	rm -f "$T_DIR/$name.pid"
}

run_link() { # NAME FN: set up, run FN, always tear down
	local name=$1 fn=$2 rc
	link_up "$name" || { link_down "$name"; return 1; }
	"$fn" "$name"
	rc=$?
	dp_stop "$name"
	link_down "$name"
	return $rc
}

T_DIR=$(mktemp -d /tmp/sluice-cells.XXXXXX)
trap 'for p in "$T_DIR"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; for ns in $(ip netns list | awk "{print \$1}" | grep -- "^$PFX"); do ip netns del "$ns"; done; rm -rf "$T_DIR"' EXIT

# Receives UDP on PORT for SECS seconds (or until 2 s idle), writing the
# kernel receive time (ns) of each datagram, one a line.
cat >"$T_DIR/rx.py" <<'PY'
import socket, struct, sys, time
port, secs, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # asm-generic value
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# FORCE: past net.core.rmem_max (we are root), so that a stalled receiver
# loses nothing
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.bind(("0.0.0.0", port))
s.settimeout(2.0)
ts = []
end = time.time() + secs
with open(out + ".ready", "w"):
    pass
while time.time() < end:
    try:
        _, anc, _, _ = s.recvmsg(2048, 64)
    except socket.timeout:
        if ts:
            break
        continue
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", data[:16])
            ts.append(sec * 10**9 + nsec)
with open(out, "w") as f:
    f.write("\n".join(map(str, ts)) + "\n")
PY

wait_file() { local i; for i in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }

# ---- trace replay -----------------------------------------------------

TRACE_FILE=ATT-LTE-driving-2016.down
TRACE_SECS=20

trace_replay() {
	local name=$1 rpid dpcpu=0 appcpu=0 steal0 steal t0
	# The dataplane thread gets a CPU of its own, the sender and the
	# receiver the other: what reaches the receiver is then held to the
	# same 2% as what leaves the cell (sharing a CPU with the generator,
	# the thread was seen descheduled for 4 ms at a time).
	if [ "$(nproc)" -ge 2 ]; then
		dpcpu=$(($(nproc) - 1))
		appcpu=0
	fi
	# the capture right after the trace records when each packet left it
	DP_ARGS="--cpu $dpcpu" dp_start "$name" "{\"cells\": [{\"type\": \"trace\", \"trace\": \"$TRACES/$TRACE_FILE\", \"queue\": \"1000pkt\"},
		{\"type\": \"capture\", \"file\": \"$T_DIR/trace.pcap\", \"clock\": \"raw\"}]}" || return 1
	# what the hypervisor takes from the dataplane's CPU meanwhile (steal,
	# /proc/stat): a stolen CPU delivers late, whatever the dataplane does
	steal0=$(t_steal "$dpcpu") t0=$(date +%s.%N)
	ip netns exec "$name-n1" taskset -c "$appcpu" python3 "$T_DIR/rx.py" 5401 $((TRACE_SECS + 30)) "$T_DIR/rx.ts" &
	rpid=$!
	wait_file "$T_DIR/rx.ts.ready" || return 1
	# The receiver stops 2 s after the last packet: the queue of 1000
	# left when the sender stops drains at the trace's rate, which near
	# the end is as low as 150 packets/s (with a fixed 25 s the receiver
	# sometimes stopped before the last of them left the cell)
	# 1514-byte frames (1500 IP bytes: one opportunity each) at 3000/s,
	# 36 Mbit/s, eight times the trace's mean: the queue stays full
	ip netns exec "$name-n0" taskset -c "$appcpu" "$UDPGEN" send 10.78.0.2 5401 --size 1514 --pps 3000 \
		--duration "$TRACE_SECS" --batch 1 >/dev/null
	wait $rpid
	steal=$(python3 -c 'import sys; s0, s1, t0, t1 = map(float, sys.argv[1:]); print("%.4f" % ((s1 - s0) / 100 / (t1 - t0)))' \
		"$steal0" "$(t_steal "$dpcpu")" "$t0" "$(date +%s.%N)")
	dp_stop "$name"
	python3 - "$TRACES/$TRACE_FILE" "$T_DIR/rx.ts" "$TRACE_SECS" "$T_DIR/trace.pcap" "$steal" "$dpcpu" <<'PY'
import struct, sys
trace = [int(l) for l in open(sys.argv[1]) if l.strip()]
rx = [int(l) for l in open(sys.argv[2]) if l.strip()]
secs = int(sys.argv[3])
steal, dpcpu = float(sys.argv[5]), sys.argv[6]
period = trace[-1]
nwin = secs * 10

# departures from the trace cell, as the capture after it saw them
# (nanosecond pcap, engine clock); our UDP packets only
pcap = open(sys.argv[4], "rb").read()
assert struct.unpack("<I", pcap[:4])[0] == 0xa1b23c4d
dep, off = [], 24
while off + 16 <= len(pcap):
    sec, nsec, cap, orig = struct.unpack("<IIII", pcap[off:off + 16])
    frame = pcap[off + 16:off + 16 + cap]
    if cap >= 38 and frame[23] == 17 and struct.unpack(">H", frame[36:38])[0] == 5401:
        dep.append(sec * 10**9 + nsec)
    off += 16 + cap

want = [0] * nwin
loop = 0
while loop * period < secs * 1000:
    for ms in trace:
        w = (loop * period + ms) // 100
        if w < nwin:
            want[w] += 1
    loop += 1

def windows(times, origin):
    got = [0] * nwin
    for t in times:
        w = (t - origin) // (100 * 10**6)
        if 0 <= w < nwin:
            got[w] += 1
    return got

def compare(what, got, show):
    bad, worst = 0, 0.0
    # the first second fills the queue, the last one drains the sender
    for w in range(10, nwin - 10):
        err = abs(got[w] - want[w])
        if want[w]:
            worst = max(worst, err / want[w])
        if err > max(0.02 * want[w], 1):
            bad += 1
            if show:
                print("%s window %d: %d packets (%d bytes), trace %d opportunities"
                      % (what, w, got[w], got[w] * 1500, want[w]))
    print("%s: %d windows of 100 ms compared, %d outside 2%% or one packet, worst %.2f%%"
          % (what, nwin - 20, bad, 100 * worst))
    return bad

# The cell: trace time 0 is the first packet's arrival, which left at the
# first opportunity; edges half a millisecond early, between two
# opportunities' milliseconds.
cell_bad = compare("leaving the trace cell", windows(dep, dep[0] - trace[0] * 10**6 - 500000), True)

# The receiver, on the far side of the dataplane's transmit path: packet
# i used opportunity i + skip (the first few opportunities found the queue
# empty); the skip that makes the latency most uniform aligns the clocks.
opp, loop = [], 0
while len(opp) < len(rx) + 100:
    opp += [(loop * period + ms) * 10**6 for ms in trace]
    loop += 1
def lat_of(skip):
    return sorted(r - o for r, o in zip(rx, opp[skip:]))
skip = min(range(100), key=lambda k: (lambda l: l[len(l) * 99 // 100] - l[len(l) // 100])(lat_of(k)))
lat = lat_of(skip)
med = lat[len(lat) // 2]
jitter = (lat[len(lat) * 999 // 1000] - lat[len(lat) // 1000]) / 1e6
print("receiver: %d packets (%d left the cell); latency spread p0.1-p99.9 %.3f ms, max %.3f ms above the median"
      % (len(rx), len(dep), jitter, (lat[-1] - med) / 1e6))
compare("at the receiver", windows(rx, med - 500000), True)
if cell_bad:
    sys.exit(1)
# after the cell only the dataplane's transmit path and the receiving
# socket are left: on a loaded host they may lose the odd packet
if len(rx) < len(dep) * 0.999 or len(rx) > len(dep):
    print("the receiver got %d of the %d packets that left the cell" % (len(rx), len(dep)))
    sys.exit(1)
# A packet the host delivered late (a vCPU stall of the dataplane thread
# or of the receiver: this VM shows up to ~10 ms) moves from its window to
# the next one: the pair's sum is still the trace's. A window off that no
# neighbour makes up for, or many of them, is a wrong replay.
got = windows(rx, med - 500000)
def tol(n):
    return max(0.02 * n, 1)
moved, lost = 0, 0
for w in range(10, nwin - 10):
    if abs(got[w] - want[w]) <= tol(want[w]):
        continue
    if any(abs(got[w] + got[v] - want[w] - want[v]) <= tol(want[w] + want[v])
           for v in (w - 1, w + 1)):
        moved += 1
    else:
        lost += 1
        print("at the receiver window %d: %d packets, trace %d, and no neighbour makes up for it"
              % (w, got[w], want[w]))
print("at the receiver: %d windows off by packets moved to a neighbour (delivered up to %.1f ms late), %d off otherwise"
      % (moved, (lat[-1] - med) / 1e6, lost))
print("the hypervisor stole %.1f%% of CPU %s (the dataplane thread's) during the run" % (100 * steal, dpcpu))
if lost or moved > (nwin - 20) // 10:
    if steal > 0.02:
        # the cell's departures above are exact; what the host did to
        # the transmit path is its own (see docs/PERFORMANCE.md)
        print("the receiver's windows are off the trace, not held against it: the host stole more than 2% of the dataplane's CPU")
    else:
        print("the receiver's windows are off the trace")
        sys.exit(1)
PY
}
test_trace_replay() {
	need || return
	[ -r "$TRACES/$TRACE_FILE" ] || { t_skip_why "$TRACES/$TRACE_FILE missing (set SLUICE_TRACES)"; return 77; }
	run_link "$PFX-t" trace_replay
}

# ---- capture ----------------------------------------------------------

capture() {
	local name=$1 rpid n_rx n_pcap n_ng n_drop
	command -v tcpdump >/dev/null && command -v tshark >/dev/null ||
		{ t_skip_why "tcpdump or tshark missing (apt-get install tcpdump tshark)"; return 77; }
	# before the loss: every packet sent; after it (pcapng): the ones
	# delivered, and the lost ones with their comment
	dp_start "$name" "{\"cells\": [{\"type\": \"capture\", \"name\": \"in\", \"file\": \"$T_DIR/in.pcap\"},
		{\"type\": \"loss\", \"loss\": \"20%\"},
		{\"type\": \"capture\", \"name\": \"after\", \"file\": \"$T_DIR/out.pcapng\"}]}" || return 1
	ip netns exec "$name-n1" python3 "$T_DIR/rx.py" 5402 10 "$T_DIR/cap.ts" &
	rpid=$!
	wait_file "$T_DIR/cap.ts.ready" || return 1
	ip netns exec "$name-n0" "$UDPGEN" send 10.78.0.2 5402 --size 200 --count 1000 --pps 5000 >/dev/null
	wait $rpid
	dp_stop "$name"
	n_rx=$(grep -c . "$T_DIR/cap.ts")
	n_pcap=$(tcpdump -nn -r "$T_DIR/in.pcap" 'udp dst port 5402' 2>/dev/null | wc -l)
	n_ng=$(tshark -r "$T_DIR/out.pcapng" -Y 'udp.dstport == 5402 && !frame.comment' 2>/dev/null | wc -l)
	n_drop=$(tshark -r "$T_DIR/out.pcapng" -Y 'udp.dstport == 5402 && frame.comment contains "dropped by loss: loss"' 2>/dev/null | wc -l)
	t_log "1000 sent: in.pcap $n_pcap (tcpdump), out.pcapng $n_ng delivered + $n_drop dropped (tshark), receiver $n_rx"
	[ "$n_pcap" -eq 1000 ] || t_fail "in.pcap holds $n_pcap of the 1000 UDP packets" || return 1
	[ "$n_ng" -eq "$n_rx" ] || t_fail "out.pcapng holds $n_ng delivered packets, the receiver got $n_rx" || return 1
	[ $((n_ng + n_drop)) -eq 1000 ] || t_fail "out.pcapng: $n_ng + $n_drop dropped is not 1000" || return 1
	in_range_int "$n_drop" 150 250 || t_fail "$n_drop of 1000 lost at 20%"
}
in_range_int() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
test_capture() { need || return; run_link "$PFX-c" capture; }

test_nothing_left_behind() {
	local left
	left=$(ip netns list | awk '{print $1}' | grep -c -- "^$PFX")
	[ "$left" -eq 0 ] || t_fail "$left namespaces left"
}

t_run "trace replay: delivered per 100 ms = the trace's opportunities (2% or one packet)" test_trace_replay
t_run "capture: pcap and pcapng open in tcpdump/tshark with the packets seen and dropped" test_capture
t_run "no namespace or process left behind" test_nothing_left_behind
t_done
