#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sluiced itself: malformed API requests get clear errors and the daemon
# keeps serving; the daemon under ASan/LSan has no leak after a workload;
# the systemd unit verifies; --help and config errors; one daemon per rundir.
. "$(dirname "$0")/../lib.sh"
S=$$

test_malformed_requests() {
	python3 - "$SLUICE_SOCKET" <<'PY'
import sys, json
sys.path.insert(0, sys.argv[0] and __import__('os').path.dirname(__import__('os').path.abspath('tests/net/api_client.py')))
from api_client import exchange
sock = sys.argv[1]
cases = [
    (b'not json\n', 'invalid', 'not JSON'),
    (b'[1,2]\n', 'invalid', 'expected a JSON object'),
    (b'{}\n', 'invalid', 'missing field "cmd"'),
    (b'{"cmd": 5}\n', 'invalid', 'field "cmd": expected a string'),
    (b'{"cmd": "fly"}\n', 'invalid', 'unknown command "fly"'),
    (b'{"v": 99, "cmd": "list"}\n', 'invalid', 'unsupported version'),
    (b'{"cmd": "up"}\n', 'invalid', 'missing field "topology"'),
    (b'{"cmd": "up", "topology": 7}\n', 'invalid', 'field "topology": expected a string'),
    (b'{"cmd": "up", "topology": "{\\"name\\": 1}", "source": "x.json"}\n', 'invalid', 'x.json'),
    (b'{"cmd": "down", "name": ["a"]}\n', 'invalid', 'field "name": expected a string'),
    (b'{"cmd": "link_set", "a": "x", "b": "y", "state": "sideways"}\n', 'invalid', 'expected "up" or "down"'),
    (b'{"cmd": "link_set", "a": "x", "b": "y", "state": "up", "name": "nope"}\n', 'notfound', 'no topology "nope"'),
    (b'{"cmd": "resolve", "node": "ghost"}\n', 'notfound', 'no node "ghost"'),
    (b'{"cmd": "nodes", "name": "nope"}\n', 'notfound', 'no topology "nope"'),
]
bad = 0
for payload, code, text in cases:
    r = exchange(sock, payload)
    last = r[-1] if r else {}
    if last.get('ok') is not False or last.get('code') != code or text not in last.get('error', ''):
        print('request %r: got %r, expected code %s with %r' % (payload[:60], last, code, text))
        bad += 1
# An over-long line is refused and the connection closed; the daemon lives.
big = b'{"cmd": "list", "pad": "' + b'x' * (65 << 20) + b'"}\n'
try:
    r = exchange(sock, big, timeout=60)
    if not r or r[-1].get('ok') is not False:
        print('over-long line: expected an error, got %r' % r[-1:]); bad += 1
except (BrokenPipeError, ConnectionResetError):
    pass
# Many clients at once, half of them sending garbage.
import socket
socks = []
for i in range(40):
    s = socket.socket(socket.AF_UNIX); s.connect(sock); socks.append(s)
    if i % 2:
        s.sendall(b'{{{{\n')
for s in socks:
    s.close()
r = exchange(sock, b'{"cmd": "status"}\n')
if not r or r[-1].get('ok') is not True:
    print('daemon does not answer status after the abuse: %r' % r); bad += 1
sys.exit(1 if bad else 0)
PY
}

test_leak_free_workload() {
	# A second daemon, under ASan/LSan, on its own rundir.
	local rd=$SLUICE_RUNDIR/asan sock pid
	mkdir -p "$rd"; sock=$rd/sluiced.sock
	ASAN_OPTIONS=detect_leaks=1:exitcode=66 "$B/asan/sluiced" --rundir "$rd" --log-level debug \
		>"$rd/log" 2>&1 &
	pid=$!
	for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	"$SLUICECTL" gen star 4 --name asan$S >"$rd/t.json"
	"$SLUICECTL" --socket "$sock" up "$rd/t.json" >/dev/null || { cat "$rd/log"; return 1; }
	"$SLUICECTL" --socket "$sock" nodes >/dev/null && "$SLUICECTL" --socket "$sock" --json links >/dev/null &&
	"$SLUICECTL" --socket "$sock" link set r1 h1 down >/dev/null &&
	"$SLUICECTL" --socket "$sock" link set r1 h1 up >/dev/null &&
	"$SLUICECTL" --socket "$sock" list >/dev/null || return 1
	"$SLUICECTL" --socket "$sock" up "$TOP/tests/net/bad/bad-rate.json" >/dev/null 2>&1
	python3 "$TOP/tests/net/api_client.py" "$sock" 'garbage' >/dev/null
	"$SLUICECTL" --socket "$sock" down asan$S >/dev/null || return 1
	kill -TERM $pid; wait $pid; local rc=$?
	if [ $rc -ne 0 ] || grep -q 'ERROR: \(Leak\|Address\)Sanitizer\|runtime error' "$rd/log"; then
		echo "sanitized daemon exited $rc:"; grep -A20 'Sanitizer\|runtime error' "$rd/log" | head -40; return 1
	fi
}

test_systemd_unit_verifies() {
	command -v systemd-analyze >/dev/null || { t_skip_why "no systemd-analyze"; return 77; }
	local d; d=$(mktemp -d)
	# The man pages are not installed here: verify everything but them.
	sed -e "s|@SBINDIR@|$B|g" -e '/^Documentation=/d' "$TOP/systemd/sluiced.service" >"$d/sluiced.service"
	systemd-analyze verify "$d/sluiced.service"
	local rc=$?
	rm -rf "$d"
	[ "$rc" -eq 0 ]
}

test_one_daemon_per_rundir() {
	local out
	out=$("$SLUICED" --foreground --rundir "$SLUICE_RUNDIR" 2>&1)
	[ $? -ne 0 ] || return 1
	echo "$out" | grep -q "another sluiced (pid" || t_fail "message: $out"
}

test_help_and_bad_flags() {
	"$SLUICED" --help | grep -q -- "--rundir" || return 1
	"$SLUICED" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || t_fail "bad flag should exit 2" || return 1
	local c; c=$(mktemp)
	echo "colour = blue" >"$c"
	"$SLUICED" --config "$c" --rundir /nonexistent 2>&1 | grep -q "$c:1: unknown key \"colour\"" || t_fail "config error message" || { rm -f "$c"; return 1; }
	rm -f "$c"
	"$SLUICECTL" --help >/dev/null || return 1
	for cmd in up down list nodes links status exec ping link gen; do
		"$SLUICECTL" "$cmd" --help >/dev/null 2>&1 || { echo "sluicectl $cmd --help failed"; return 1; }
	done
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
cd "$TOP" || exit 1
t_daemon_start || exit 1
trap t_cleanup_all EXIT
t_run "malformed API requests get errors, the daemon serves on" test_malformed_requests
t_run "sluiced under ASan/LSan: no leak or error after a workload" test_leak_free_workload
t_run "sluiced.service passes systemd-analyze verify" test_systemd_unit_verifies
t_run "one daemon per run directory" test_one_daemon_per_rundir
t_run "--help, bad flags and config errors" test_help_and_bad_flags
t_done
