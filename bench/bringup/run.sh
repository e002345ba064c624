#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/bringup/run.sh - bring-up and teardown of sluice next to Mininet.
#
# In one run: linear 200 and fat-tree 8 with sluice and with Mininet 2.3
# (same graphs: mininet_topo.py reads the file sluicectl generated), and
# linear 1000 with sluice alone. Prints seconds, Mininet/sluice ratios,
# memory per node, the phases of sluice's bring-up of linear 1000, and
# whether the targets of docs/PERFORMANCE.md are met. Exits non-zero when a
# run fails, not when a target is missed ("below target").
#
# Usage: bench/bringup/run.sh [-r N] [--mininet-repeat N] [--no-mininet]
#                             [--mn-clean] [--settle S] [--keep]
# Root only. Uses a private sluiced (own rundir and socket under /tmp),
# never the user's, and removes everything it created on exit.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
B=${SLUICE_BUILD:-$TOP/build}
SLUICECTL=$B/sluicectl
SLUICED=$B/sluiced
PY=/usr/bin/python3 # Debian's, which has the mininet module
MNTOPO=$HERE/mininet_topo.py

REPEAT=${BENCH_REPEAT:-3}
MN_REPEAT=${BENCH_MN_REPEAT:-}
MININET=1
MN_CLEAN=0
SETTLE=2
# Namespace teardown in the kernel is asynchronous (a workqueue); "freed"
# is the time until it is done, see ns_dying().
FREED_TIMEOUT=30
KEEP=0

usage() {
	sed -n '/^# Usage:/,/^#  *\[--mn-clean/p' "$0" | sed 's/^# \{0,1\}//'
	cat <<-EOF

	  -r, --repeat N         timed runs per case, median reported (default 3)
	  --mininet-repeat N     runs per Mininet case (default: as --repeat)
	  --no-mininet           sluice only
	  --mn-clean             also run 'mn -c' before and after. Off by
	                         default: it kills every process named ping or
	                         controller on the machine and deletes every
	                         *-ethN link and /tmp/*.log, not only ours.
	  --settle S             seconds between bring-up and the memory reading
	                         (default 2)
	  --keep                 keep the work directory (raw results, logs)
	EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	-r | --repeat) REPEAT=${2:?}; shift ;;
	--mininet-repeat) MN_REPEAT=${2:?}; shift ;;
	--no-mininet) MININET=0 ;;
	--mn-clean) MN_CLEAN=1 ;;
	--settle) SETTLE=${2:?}; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench/bringup: unknown argument '$1'; see --help" >&2; exit 2 ;;
	esac
	shift
done
MN_REPEAT=${MN_REPEAT:-$REPEAT}
case "$REPEAT$MN_REPEAT" in
*[!0-9]*) echo "bench/bringup: --repeat expects a number" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "bench/bringup: run as root (it creates network namespaces)" >&2
	exit 1
fi
for f in "$SLUICECTL" "$SLUICED"; do
	[ -x "$f" ] || { echo "bench/bringup: $f missing; run 'make' first" >&2; exit 1; }
done

W=$(mktemp -d /tmp/sluice-bench.XXXXXX)
export SLUICE_RUNDIR=$W/run
export SLUICE_SOCKET=$W/run/sluiced.sock
DPID=""
FAILED=0
NAMES=(bench-lin200 bench-ft8 bench-lin1000)
PINS=/sys/fs/bpf/sluice # sluiced pins each topology's maps in PINS/<name>

T0=$EPOCHREALTIME
log() { printf '# %6.1f s  %s\n' "$(awk -v a="$EPOCHREALTIME" -v b="$T0" 'BEGIN { print a - b }')" "$*"; }
fail() {
	echo "bench/bringup: FAILED: $*" >&2
	FAILED=1
	exit 1
}

# Our namespaces: sluice.<topology> (the fabric) and sluice.<topology>.<node>.
count_ns() {
	ip netns list 2>/dev/null |
		awk -v t="sluice.$1" '$1 == t || index($1, t ".") == 1' | wc -l
}

# Network namespaces the kernel holds that have no name in /run/netns:
# those of processes (and Mininet's) and those being torn down. Counting
# unnamed ones makes the figure immune to other people's tests creating
# and deleting named namespaces meanwhile. The kernel's count is the
# net_namespace slab's active objects after a shrink (else objects freed
# into per-CPU slabs still count). -1: not measurable here.
ns_dying() {
	local named
	named=$(find /run/netns -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	echo 1 >/sys/kernel/slab/net_namespace/shrink 2>/dev/null
	awk -v named="$named" '$1 == "net_namespace" { print $2 - named; f = 1 }
		END { if (!f) print -1 }' /proc/slabinfo 2>/dev/null
}

# "used kernel slab" in kB, page cache dropped first. used = MemTotal -
# MemAvailable moves with everything else running on the machine; kernel =
# Slab + Percpu + VmallocUsed is where namespaces and interfaces live, and
# moves much less with other people's processes.
mem_read() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 0.5
	awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 }
	     /^Slab:/ { s = $2 } /^Percpu:/ { p = $2 } /^VmallocUsed:/ { v = $2 }
	     END { print t - a, s + p + v, s }' /proc/meminfo
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status"; }
now() { echo "$EPOCHREALTIME"; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a - b }'; }

# Median of the numbers on stdin ("-" when there are none).
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		if (NR % 2) print v[(NR + 1) / 2]
		else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Starts our sluiced in a session of its own, so that a Ctrl-C meant for
# the benchmark does not kill it before cleanup() has taken everything
# down through it.
daemon_start() {
	mkdir -p "$SLUICE_RUNDIR"
	setsid "$SLUICED" --foreground --rundir "$SLUICE_RUNDIR" --log-level info \
		>>"$W/sluiced.log" 2>&1 </dev/null &
	DPID=$!
	for _ in $(seq 100); do
		[ -S "$SLUICE_SOCKET" ] && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	DPID=""
	return 1
}

daemon_alive() { [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; }

cleanup() {
	local rc=$? n left=0
	trap - EXIT INT TERM
	# A daemon that died leaves its journals: a new one on the same run
	# directory adopts or rolls back what they list, and down removes it.
	if [ -n "$DPID" ] && ! daemon_alive; then
		wait "$DPID" 2>/dev/null
		rm -f "$SLUICE_SOCKET"
		daemon_start || echo "bench/bringup: could not restart sluiced to clean up" >&2
	fi
	if daemon_alive; then
		"$SLUICECTL" -q down --all >/dev/null 2>&1
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	# Last resort: the names were free when we began, so these are ours.
	for n in "${NAMES[@]}"; do
		ip netns list 2>/dev/null | awk -v t="sluice.$n" \
			'$1 == t || index($1, t ".") == 1 { print $1 }' |
			while read -r ns; do ip netns del "$ns" 2>/dev/null; done
		[ "$(count_ns "$n")" -eq 0 ] || left=1
		if [ -e "$PINS/$n" ]; then
			rm -rf "${PINS:?}/$n"
			[ -e "$PINS/$n" ] && left=1
		fi
	done
	if [ -f "$MNTOPO" ]; then
		"$PY" "$MNTOPO" --cleanup-only || left=1
	fi
	[ "$MN_CLEAN" -eq 1 ] && mn -c >/dev/null 2>&1
	if [ "$left" -ne 0 ]; then
		echo "bench/bringup: could not remove everything (see ip netns list)" >&2
		rc=1
	fi
	if [ "$rc" -eq 0 ] && [ "$FAILED" -eq 0 ] && [ "$KEEP" -eq 0 ]; then
		rm -rf "$W"
	else
		echo "bench/bringup: logs kept in $W" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'FAILED=1; exit 130' INT TERM

# --- dependencies and a clean start
if [ "$MININET" -eq 1 ]; then
	"$TOP/tools/deps.sh" --bench >"$W/deps.log" 2>&1 ||
		{ cat "$W/deps.log" >&2; fail "tools/deps.sh --bench"; }
	command -v mn >/dev/null && command -v brctl >/dev/null ||
		fail "mininet or bridge-utils missing after tools/deps.sh --bench"
	[ "$MN_CLEAN" -eq 1 ] && mn -c >/dev/null 2>&1
	"$PY" "$MNTOPO" --cleanup-only || fail "leftovers of an earlier Mininet run"
fi
for n in "${NAMES[@]}"; do
	[ "$(count_ns "$n")" -eq 0 ] ||
		fail "namespaces sluice.$n* exist already (another bench running? see ip netns list)"
	[ ! -e "$PINS/$n" ] ||
		fail "$PINS/$n exists already (another bench running?)"
done
[ "$(ns_dying)" -ge 0 ] ||
	log "no net_namespace slab cache: 'freed' times are not measured"

daemon_start || { cat "$W/sluiced.log" >&2; fail "sluiced did not start"; }

"$SLUICECTL" gen linear 200 --name bench-lin200 >"$W/lin200.json" &&
	"$SLUICECTL" gen fat-tree 8 --name bench-ft8 >"$W/ft8.json" &&
	"$SLUICECTL" gen linear 1000 --name bench-lin1000 >"$W/lin1000.json" ||
	fail "sluicectl gen"

RES=$W/results # lines: case side rep key value
rec() { echo "$1 $2 $3 $4 $5" >>"$RES"; }

# Wait until "$@" (count_ns NAME / ns_dying) prints a number <= limit;
# WAITED = the seconds since t0, or "-" on timeout. Runs in this shell,
# not in $(...), so that a Ctrl-C ends it at once.
wait_until() {
	local t0=$1 limit=$2 timeout=$3 cur
	shift 3
	while :; do
		cur=$("$@")
		if [ "$cur" -le "$limit" ]; then
			WAITED=$(sub "$(now)" "$t0")
			return
		fi
		if awk -v a="$(now)" -v b="$t0" -v t="$timeout" 'BEGIN { exit !(a - b > t) }'; then
			WAITED="-"
			return
		fi
		sleep 0.05
	done
}

# sluice_run CASE FILE TOPO NODES REP: one timed up / down.
sluice_run() {
	local c=$1 file=$2 topo=$3 nodes=$4 rep=$5 base t0 t1 m0 m1 s0 s1 k0 k1
	local r0 r1 secs
	read -r m0 k0 s0 < <(mem_read)
	r0=$(rss_kb)
	# The page cache was just dropped: load sluicectl and its libraries
	# again so that the timed run is not a cold start (Mininet's Python
	# has imported everything before its clock starts, too).
	"$SLUICECTL" list >/dev/null || fail "sluicectl list"
	sleep 0.5
	t0=$(now)
	# -v prints the progress phases on stderr; stamp them for the profile
	# with the clock only (a subtraction per line forked an awk while the
	# daemon's threads wanted both cores: +0.1 s on linear 200); the
	# times are made relative after the run.
	{ "$SLUICECTL" --json -v up --no-start "$file" 2>&1 1>"$W/up.json"; } |
		while IFS= read -r l; do
			echo "$EPOCHREALTIME $l"
		done >"$W/progress.raw"
	[ "${PIPESTATUS[0]}" -eq 0 ] ||
		{ cat "$W/progress.raw" "$W/up.json" >&2; fail "sluicectl up $file"; }
	t1=$(now)
	awk -v t0="$t0" '{ $1 = sprintf("%.6f", $1 - t0); print }' "$W/progress.raw" \
		>"$W/progress.$c.$rep"
	echo "$(sub "$t1" "$t0") [done]" >>"$W/progress.$c.$rep"
	rec "$c" sluice "$rep" up "$(sub "$t1" "$t0")"
	secs=$(sed -n 's/.*"seconds": *\([0-9.eE+-]*\).*/\1/p' "$W/up.json")
	rec "$c" sluice "$rep" daemon_up "${secs:--}"
	daemon_alive || fail "sluiced died (see $W/sluiced.log)"
	[ "$(count_ns "$topo")" -eq $((nodes + 1)) ] ||
		fail "$topo: expected $((nodes + 1)) namespaces, found $(count_ns "$topo")"

	sleep "$SETTLE"
	read -r m1 k1 s1 < <(mem_read)
	r1=$(rss_kb)
	rec "$c" sluice "$rep" mem_used_kb $((m1 - m0))
	rec "$c" sluice "$rep" mem_slab_kb $((s1 - s0))
	rec "$c" sluice "$rep" mem_kernel_kb $((k1 - k0))
	rec "$c" sluice "$rep" rss0_kb "$r0"
	rec "$c" sluice "$rep" rss1_kb "$r1"

	daemon_alive || fail "sluiced died (see $W/sluiced.log)"
	base=$(ns_dying)
	t0=$(now)
	"$SLUICECTL" -q down "$topo" || fail "sluicectl down $topo"
	t1=$(now)
	rec "$c" sluice "$rep" down "$(sub "$t1" "$t0")"
	wait_until "$t0" 0 60 count_ns "$topo"
	rec "$c" sluice "$rep" gone "$WAITED"
	if [ "$base" -ge 0 ]; then
		wait_until "$t0" $((base + (nodes + 1) / 20)) "$FREED_TIMEOUT" ns_dying
		rec "$c" sluice "$rep" freed "$WAITED"
	fi
	[ "$(count_ns "$topo")" -eq 0 ] || fail "$topo: namespaces left after down"
}

# mininet_run CASE FILE MODE REP
mininet_run() {
	local c=$1 file=$2 mode=$3 rep=$4 out k
	out=$("$PY" "$MNTOPO" --mem --settle "$SETTLE" --mode "$mode" "$file" \
		2>>"$W/mininet.log") ||
		{ tail -20 "$W/mininet.log" >&2; fail "Mininet ($mode) on $file"; }
	for k in up down freed mem_used_kb mem_kernel_kb mem_slab_kb; do
		rec "$c" mininet "$rep" "$k" "$("$PY" -c '
import json, sys
v = json.loads(sys.argv[1]).get(sys.argv[2])
print("-" if v is None else v)' "$out" "$k")"
	done
}

# Median of KEY for CASE SIDE, formatted with FMT ("-" if none).
med() {
	local v
	v=$(awk -v c="$1" -v s="$2" -v k="$3" \
		'$1 == c && $2 == s && $4 == k && $5 != "-" { print $5 }' "$RES" | median)
	if [ "$v" = "-" ]; then echo "-"; else printf "${4:-%.2f}" "$v"; fi
}

ratio() { # a / b, "-" when either is missing
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 <= 0) print "-"
		else printf "%.1f", a / b }'
}

# --- the runs
START=$(now)
log "bench/bringup: $(nproc) cores, kernel $(uname -r), repeat $REPEAT (Mininet $MN_REPEAT)"
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
: >"$RES"
for rep in $(seq "$REPEAT"); do
	log "sluice linear 200, run $rep"
	sluice_run lin200 "$W/lin200.json" bench-lin200 200 "$rep"
	log "sluice fat-tree 8, run $rep"
	sluice_run ft8 "$W/ft8.json" bench-ft8 208 "$rep"
done
if [ "$MININET" -eq 1 ]; then
	for rep in $(seq "$MN_REPEAT"); do
		log "Mininet linear 200 (hosts), run $rep"
		mininet_run lin200 "$W/lin200.json" hosts "$rep"
		log "Mininet fat-tree 8 (hosts), run $rep"
		mininet_run ft8 "$W/ft8.json" hosts "$rep"
		log "Mininet fat-tree 8 (lxbr switches), run $rep"
		mininet_run ft8-lxbr "$W/ft8.json" lxbr "$rep"
	done
fi
for rep in $(seq "$REPEAT"); do
	log "sluice linear 1000, run $rep"
	sluice_run lin1000 "$W/lin1000.json" bench-lin1000 1000 "$rep"
done
[ "$MN_CLEAN" -eq 1 ] && mn -c >/dev/null 2>&1

# --- results
echo
echo "Bring-up and teardown, seconds (median of $REPEAT sluice / $MN_REPEAT Mininet runs)"
echo "  up: until the command returns; down: idem; gone: until 'ip netns list'"
echo "  no longer shows them; freed: until the kernel has freed the namespaces"
echo "  (- : not within ${FREED_TIMEOUT} s; the kernel frees them in batches after RCU"
echo "  grace periods, on one workqueue shared with everyone's namespaces)"
printf '%-16s %5s %5s | %7s %6s %6s %6s | %7s %6s %6s | %7s %7s %7s\n' \
	case nodes links "sl up" "down" "gone" "freed" "mn up" "down" "freed" \
	"x up" "x down" "x freed"
row() { # label case-sluice case-mininet nodes links
	local su sd sg sf mu md mf
	su=$(med "$2" sluice up); sd=$(med "$2" sluice down)
	sg=$(med "$2" sluice gone); sf=$(med "$2" sluice freed)
	mu=$(med "$3" mininet up); md=$(med "$3" mininet down)
	mf=$(med "$3" mininet freed)
	printf '%-16s %5s %5s | %7s %6s %6s %6s | %7s %6s %6s | %7s %7s %7s\n' \
		"$1" "$4" "$5" "$su" "$sd" "$sg" "$sf" "$mu" "$md" "$mf" \
		"$(ratio "$(med "$3" mininet up %.6f)" "$(med "$2" sluice up %.6f)")" \
		"$(ratio "$(med "$3" mininet down %.6f)" "$(med "$2" sluice down %.6f)")" \
		"$(ratio "$(med "$3" mininet freed %.6f)" "$(med "$2" sluice freed %.6f)")"
}
row "linear 200" lin200 lin200 200 199
row "fat-tree 8" ft8 ft8 208 384
[ "$MININET" -eq 1 ] && row "fat-tree 8 lxbr" ft8 ft8-lxbr 208 384
row "linear 1000" lin1000 none 1000 999
echo "  (x = Mininet/sluice; Mininet 'hosts': every node a Mininet host;"
echo "   'lxbr': routers as LinuxBridge switches with STP, hosts as hosts)"

echo
echo "Memory growth while up (median; page cache dropped before each reading)"
printf '%-24s %5s %9s %10s %9s %9s %14s\n' case nodes "used MiB" "kernel MiB" \
	"slab MiB" "sluiced" "per node kB"
mrow() { # label case side nodes
	local u k s r1=0 rss="-"
	u=$(med "$2" "$3" mem_used_kb %.0f)
	k=$(med "$2" "$3" mem_kernel_kb %.0f)
	s=$(med "$2" "$3" mem_slab_kb %.0f)
	if [ "$3" = sluice ]; then
		r1=$(med "$2" "$3" rss1_kb %.0f)
		rss=$(awk -v b="$r1" 'BEGIN { printf "%.1f MiB", b / 1024 }')
	fi
	printf '%-24s %5s %9s %10s %9s %9s %14s\n' "$1" "$4" \
		"$(awk -v v="$u" 'BEGIN { printf "%.1f", v / 1024 }')" \
		"$(awk -v v="$k" 'BEGIN { printf "%.1f", v / 1024 }')" \
		"$(awk -v v="$s" 'BEGIN { printf "%.1f", v / 1024 }')" "$rss" \
		"$(awk -v k="$k" -v r="$r1" -v u="$u" -v n="$4" \
			'BEGIN { printf "%.0f (%.0f)", (k + r) / n, u / n }')"
}
mrow "sluice linear 200" lin200 sluice 200
mrow "sluice fat-tree 8" ft8 sluice 208
mrow "sluice linear 1000" lin1000 sluice 1000
if [ "$MININET" -eq 1 ]; then
	mrow "Mininet linear 200" lin200 mininet 200
	mrow "Mininet fat-tree 8" ft8 mininet 208
	mrow "Mininet fat-tree 8 lxbr" ft8-lxbr mininet 208
fi
echo "  kernel = Slab + Percpu + VmallocUsed; used = MemTotal - MemAvailable,"
echo "  which other work on the machine moves too. per node = (kernel growth"
echo "  + sluiced's whole RSS) / nodes; in parentheses: used growth / nodes"
echo "  (for Mininet that includes its bash shells)."

# --- profile of sluice's bring-up of linear 1000, from the progress lines
# Each phase reports every 64 items and at its end. Its start is
# extrapolated back from its first report at its own rate, and it lasts
# until the next one starts: the kernel does a batch of netlink requests
# when it is flushed, which for the last batch is after the phase's final
# report. What comes before the first phase is "setup".
echo
echo "sluice linear 1000 bring-up by phase (median of $REPEAT runs, from the progress lines)"
for rep in $(seq "$REPEAT"); do
	awk '
	/\[done\]/ { done = $1; next }
	{ t = $1; ph = $2; gsub(/[][]/, "", ph); split($3, d, "/")
	  if (!(ph in first)) { order[++n] = ph; first[ph] = t; fd[ph] = d[1] }
	  last[ph] = t; tot[ph] = d[2] }
	END {
		for (i = 1; i <= n; i++) {
			p = order[i]
			rate = 0
			if (tot[p] > fd[p])
				rate = (last[p] - first[p]) / (tot[p] - fd[p])
			start[i] = first[p] - fd[p] * rate
		}
		if (n) print "setup", start[1], 1
		for (i = 1; i <= n; i++) {
			p = order[i]
			end = i < n ? start[i + 1] : last[p]
			print p, end - start[i], tot[p]
		}
		if (n && done) print "commit", done - last[order[n]], 1
	}' "$W/progress.lin1000.$rep"
done >"$W/phases"
printf '%-12s %8s %8s %12s\n' phase seconds items "ms per item"
awk '{ print $1 }' "$W/phases" | awk '!seen[$1]++' | while read -r p; do
	s=$(awk -v p="$p" '$1 == p { print $2 }' "$W/phases" | median)
	n=$(awk -v p="$p" '$1 == p { print $3; exit }' "$W/phases")
	printf '%-12s %8.3f %8s %12.3f\n' "$p" "$s" "$n" \
		"$(awk -v s="$s" -v n="$n" 'BEGIN { print 1000 * s / n }')"
done
echo "  setup: sluicectl, parsing, addresses, routes, BPF load, fabric namespace;"
echo "  commit: hosts file, topology.json, journal commit, reply"

# --- targets
echo
L1000=$(med lin1000 sluice up)
echo "Targets:"
tgt() { # text value ok(0/1)
	if [ "$3" -eq 1 ]; then
		printf '  %-52s %-10s met\n' "$1" "$2"
	else
		printf '  %-52s %-10s below target\n' "$1" "$2"
	fi
}
tgt "linear 1000 up in under 5 s" "$L1000 s" \
	"$(awk -v v="$L1000" 'BEGIN { print (v != "-" && v < 5) }')"
if [ "$MININET" -eq 1 ]; then
	for c in lin200 ft8; do
		r=$(ratio "$(med "$c" mininet up %.6f)" "$(med "$c" sluice up %.6f)")
		tgt "at least 10x faster up than Mininet ($c)" "${r}x" \
			"$(awk -v v="$r" 'BEGIN { print (v != "-" && v >= 10) }')"
	done
fi
PER=$(mrow x lin1000 sluice 1000 | awk '{ print $(NF - 1) }')
tgt "under 1 MB (1024 kB) per node at 1000 nodes" "$PER kB" \
	"$(awk -v v="$PER" 'BEGIN { print (v < 1024) }')"

# --- ratios, for bench/run.sh's summary
echo
if [ "$MININET" -eq 1 ]; then
	for c in lin200 ft8 ft8-lxbr; do
		sc=${c%-lxbr}
		echo "ratio: bringup $c up mininet/sluice" \
			"$(ratio "$(med "$c" mininet up %.6f)" "$(med "$sc" sluice up %.6f)")"
		echo "ratio: bringup $c down mininet/sluice" \
			"$(ratio "$(med "$c" mininet down %.6f)" "$(med "$sc" sluice down %.6f)")"
	done
fi
echo "ratio: bringup lin1000 up seconds $L1000 (target < 5)"
echo "ratio: bringup lin1000 kB per node $PER (target < 1024)"
log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$KEEP" -eq 1 ] && log "raw results: $RES"
log "bench/bringup: done in $(awk -v a="$(now)" -v b="$START" 'BEGIN { printf "%.0f", a - b }') s"
