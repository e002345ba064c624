#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The test runner behind `make check`. Every test program or script speaks
# TAP ("ok N - name", "not ok N - name", "ok N - name # SKIP why"); this
# runner runs the suites named on the command line (default: all of them),
# counts the results and ends with one line: "N passed, N failed, N skipped".
# A program that dies without reporting counts as one failure.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit bpf net ctl)
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export SLUICE_BUILD=$PWD/$B
LOGDIR=$B/test-logs
mkdir -p "$LOGDIR"
pass=0 fail=0 skip=0 failed_names=()

run_one() { # name, command...
	local name=$1; shift
	local log=$LOGDIR/$(echo "$name" | tr '/ ' '__').log
	local t0=$SECONDS
	"$@" >"$log" 2>&1 </dev/null
	local rc=$?
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$log" | head -1)
	s=$(grep -cE '^ok [0-9]+.*# *(SKIP|skip)' "$log" | head -1)
	f=$(grep -cE '^not ok [0-9]+' "$log" | head -1)
	p=$((p - s))
	if { [ "$rc" -eq 77 ] || grep -qE '^1\.\.0 *# *(SKIP|skip)' "$log"; } && [ "$f" -eq 0 ] && [ "$p" -eq 0 ]; then
		# The whole program skipped (a tool or kernel feature is missing).
		s=$((s + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc without reporting a failure" >>"$log"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '%-44s %3d passed %3d failed %3d skipped  %4ds\n' "$name" "$p" "$f" "$s" $((SECONDS - t0))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		grep -E '^not ok|^# ' "$log" | head -40 | sed 's/^/    /'
		echo "    (full log: $log)"
	fi
}

for suite in "${suites[@]}"; do
	case $suite in
	unit)
		for t in "$B"/tests/test_*; do
			[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
		done ;;
	bpf)
		for t in "$B"/tests/bpf/test_*; do
			[ -x "$t" ] && run_one "bpf/$(basename "$t")" "$t"
		done ;;
	net|ctl)
		for t in tests/$suite/test_*.sh; do
			[ -f "$t" ] && run_one "$suite/$(basename "$t" .sh)" bash "$t"
		done ;;
	*)
		if [ -f "$suite" ]; then run_one "$suite" bash "$suite"
		else echo "unknown suite: $suite (expected unit, bpf, net, ctl or a script)" >&2; exit 2; fi ;;
	esac
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
