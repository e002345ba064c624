# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for namespace tests (tests/net, tests/ctl). A test script defines
# functions and calls `t_run NAME FUNCTION` for each; t_run prints TAP. A
# function returns 0 (pass), 1 (fail) or 77 (skip: a kernel feature or a
# tool is missing; say which with t_skip_why).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${SLUICE_BUILD:-$TOP/build}
SLUICECTL=$B/sluicectl
SLUICED=$B/sluiced
T_N=0
T_FAILS=0
T_SKIP_WHY=""
# Every test run uses its own daemon socket and state directory so that it
# never touches a user's running sluiced.
export SLUICE_RUNDIR=${SLUICE_RUNDIR:-/run/sluice-test.$$}
export SLUICE_SOCKET=$SLUICE_RUNDIR/sluiced.sock

t_log() { echo "# $*"; }
# Tests run in a subshell: the reason travels through a file.
T_SKIP_FILE=$(mktemp -u /tmp/sluice-skip.XXXXXX)
t_skip_why() { echo "$*" >"$T_SKIP_FILE"; }
t_fail() { echo "# FAIL: $*"; return 1; }

t_run() { # name function
	local name=$1 fn=$2 rc
	T_N=$((T_N + 1))
	rm -f "$T_SKIP_FILE"
	( set -u; "$fn" ) 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	T_SKIP_WHY=$(cat "$T_SKIP_FILE" 2>/dev/null)
	rm -f "$T_SKIP_FILE"
	if [ "$rc" -eq 0 ]; then
		echo "ok $T_N - $name"
	elif [ "$rc" -eq 77 ]; then
		echo "ok $T_N - $name # SKIP ${T_SKIP_WHY:-see log}"
	else
		echo "not ok $T_N - $name"
		T_FAILS=$((T_FAILS + 1))
	fi
}

# t_steal [CPU]: the time (USER_HZ ticks, 1/100 s) the hypervisor has taken
# from CPU (default: all CPUs together), from /proc/stat. A timing test
# logs it: a stolen CPU delivers late whatever sluice does.
t_steal() { awk -v c="cpu${1:-}" '$1 == c { print $9 }' /proc/stat; }

# t_in_range VALUE LO HI: true when LO <= VALUE <= HI (decimals; a value
# that is not a number is out of range)
t_in_range() {
	python3 -c "import sys; v, lo, hi = map(float, sys.argv[1:]); sys.exit(0 if lo <= v <= hi else 1)" "$@" 2>/dev/null
}

# t_ping_summary: reads ping's output (per-ping lines, not -q) and prints
# "min avg max loss% median" (ms; the median of the replies' times). The
# minimum and the median are what a delay test holds: the average also
# carries the host's stalls (one 39 ms vCPU stall put a ping at 79 ms).
t_ping_summary() {
	awk -F'[/ =%]+' '
		/ time=/ { for (i = 1; i < NF; i++) if ($i == "time") t[n++] = $(i + 1) }
		/packet loss/ { for (i = 1; i <= NF; i++) if ($i == "packet") loss = $(i - 1) }
		/^rtt/ { min = $6; avg = $7; max = $8 }
		END {
			for (i = 1; i < n; i++) # insertion sort: a few hundred at most
				for (j = i; j > 0 && t[j - 1] + 0 > t[j] + 0; j--) {
					x = t[j]; t[j] = t[j - 1]; t[j - 1] = x
				}
			print min, avg, max, loss, (n ? t[int(n / 2)] : "none")
		}'
}

t_done() { echo "1..$T_N"; [ "$T_FAILS" -eq 0 ]; }

# Start a private sluiced for this script; stopped by t_daemon_stop.
# The pid lives in a file, not a variable: tests run in subshells and may
# kill and restart the daemon.
t_daemon_pid() { cat "$SLUICE_RUNDIR/test-daemon.pid" 2>/dev/null; }

t_daemon_start() {
	mkdir -p "$SLUICE_RUNDIR"
	# A socket left by a killed daemon must not pass for the new one.
	rm -f "$SLUICE_SOCKET"
	"$SLUICED" --foreground --rundir "$SLUICE_RUNDIR" --log-level info \
		>>"$SLUICE_RUNDIR/sluiced.log" 2>&1 &
	echo $! >"$SLUICE_RUNDIR/test-daemon.pid"
	local i
	for i in $(seq 200); do
		[ -S "$SLUICE_SOCKET" ] && return 0
		sleep 0.05
	done
	echo "sluiced did not start"; cat "$SLUICE_RUNDIR/sluiced.log"; return 1
}

# Waits until process $1 is gone (it may not be our child).
t_wait_gone() {
	local i
	for i in $(seq 200); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

t_daemon_stop() {
	local pid; pid=$(t_daemon_pid)
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	t_wait_gone "$pid"
	rm -f "$SLUICE_RUNDIR/test-daemon.pid"
}

t_daemon_kill9() {
	local pid; pid=$(t_daemon_pid)
	[ -n "$pid" ] || return 1
	kill -9 "$pid" 2>/dev/null
	t_wait_gone "$pid"
	rm -f "$SLUICE_RUNDIR/test-daemon.pid"
}

# Number of namespaces whose name contains $1.
t_count_ns() { ip netns list 2>/dev/null | grep -c -- "$1"; }

t_cleanup_all() {
	[ -S "$SLUICE_SOCKET" ] && "$SLUICECTL" down --all >/dev/null 2>&1
	t_daemon_stop
	rm -rf "$SLUICE_RUNDIR"
}
