#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/run.sh - runs every benchmark in bench/ in one go (`make bench`).
#
# A benchmark is an executable bench/<name>/run, bench/<name>/run.sh or
# bench/<name>.sh. Each prints what it measured, and its ratios (sluice
# against the kernel or a peer) on lines that begin with "ratio: "; those
# are repeated in a summary at the end. A benchmark exits non-zero when a
# run failed, not when a target is missed.
#
# Usage: bench/run.sh [NAME...]   (default: all; NAME as in bench/NAME)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(mktemp -d /tmp/sluice-benchrun.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

found=()
for f in "$HERE"/*/run "$HERE"/*/run.sh "$HERE"/*.sh; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	[ "$f" = "$HERE/run.sh" ] && continue
	found+=("$f")
done

names=()
for f in "${found[@]}"; do
	n=${f#"$HERE"/}
	n=${n%/run.sh}
	n=${n%/run}
	n=${n%.sh}
	names+=("$n")
done

want=("$@")
selected=()
for i in "${!found[@]}"; do
	if [ ${#want[@]} -eq 0 ]; then
		selected+=("$i")
		continue
	fi
	for w in "${want[@]}"; do
		[ "$w" = "${names[$i]}" ] && selected+=("$i")
	done
done
for w in "${want[@]}"; do
	ok=0
	for i in "${!names[@]}"; do [ "$w" = "${names[$i]}" ] && ok=1; done
	[ "$ok" -eq 1 ] || { echo "bench: no benchmark '$w' (have: ${names[*]:-none})" >&2; exit 2; }
done
if [ ${#selected[@]} -eq 0 ]; then
	echo "bench: no benchmarks found in $HERE" >&2
	exit 2
fi

fails=0
results=()
for i in "${selected[@]}"; do
	n=${names[$i]}
	echo "=== bench/$n"
	start=$EPOCHREALTIME
	"${found[$i]}" 2>&1 | tee "$OUT/$n.log"
	rc=${PIPESTATUS[0]}
	secs=$(awk -v a="$EPOCHREALTIME" -v b="$start" 'BEGIN { printf "%.0f", a - b }')
	if [ "$rc" -eq 0 ]; then
		results+=("$n: ok (${secs} s)")
	else
		results+=("$n: FAILED (exit $rc, ${secs} s)")
		fails=$((fails + 1))
	fi
	echo
done

echo "=== summary"
for i in "${!selected[@]}"; do
	n=${names[${selected[$i]}]}
	echo "${results[$i]}"
	grep '^ratio: ' "$OUT/$n.log" | sed 's/^ratio: /    /'
done
echo "${#selected[@]} benchmarks, $fails failed"
[ "$fails" -eq 0 ]
