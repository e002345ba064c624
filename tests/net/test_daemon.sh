#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sluiced itself: malformed API requests get clear errors and the daemon
# keeps serving; the daemon under ASan/LSan has no leak after a workload;
# the systemd units verify as installed (Documentation= included); --help
# of sluiced and of every sluicectl command; config errors; one daemon per
# rundir.
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

# The units as `make install` ships them, verified against the man pages as
# it installs them: systemd-analyze verify runs `man sluiced(8)` for each
# man: page in Documentation=, so it needs a MANPATH that has them. The
# only change is ExecStart='s path, pointed into the DESTDIR (verify
# checks that the program exists).
test_systemd_unit_verifies() {
	command -v systemd-analyze >/dev/null || { t_skip_why "no systemd-analyze"; return 77; }
	local d u rc=0
	d=$(mktemp -d)
	make -s -C "$TOP" install DESTDIR="$d" >"$d/make.log" 2>&1 || { cat "$d/make.log"; rm -rf "$d"; return 1; }
	for u in sluiced sluice-controller; do
		grep -q '^Documentation=man:' "$d/etc/systemd/system/$u.service" ||
			t_fail "$u.service: no man: page in Documentation=" || rc=1
		sed "s|^\(ExecStart=\)/usr/local/sbin/|\1$d/usr/local/sbin/|" \
			"$d/etc/systemd/system/$u.service" >"$d/$u.service"
		MANPATH=$d/usr/local/share/man systemd-analyze verify "$d/$u.service" ||
			t_fail "$u.service does not verify" || rc=1
	done
	# and without the pages, verify complains about exactly them: the
	# check above is not vacuous
	MANPATH=$d/nonexistent systemd-analyze verify "$d/sluiced.service" >"$d/noman.log" 2>&1 &&
		t_fail "verify passed without the man pages" && rc=1
	grep -q "man sluiced(8)" "$d/noman.log" || t_fail "without man pages: $(cat "$d/noman.log")" || rc=1
	rm -rf "$d"
	return $rc
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
}

# Every command in `sluicectl --help` (and at least these) has --help: exit
# 0, its usage line first, each of its options named, and every option its
# help names is accepted by the command (given with --help, so nothing runs).
test_help_every_command() {
	python3 - "$SLUICECTL" <<'PY'
import re, subprocess, sys
ctl = sys.argv[1]
def run(*args):
    p = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr
rc, top, _ = run("--help")
cmds = re.findall(r"^  ([a-z]+) {2,}\S", top.split("Commands:")[1].split("Global options")[0], re.M)
# the options each command takes (its getopt table), "=" when it needs a value
expect = {
    "up": ["--name=x", "-n", "--no-start", "--host=h", "--timeout=5"],
    "down": ["--all", "-a"], "list": [], "nodes": [], "links": [], "status": [],
    "exec": [], "ping": ["--count=1", "-c", "--interval=1", "-i", "--ipv6", "-6"],
    "shell": ["--rate=1mbit", "--delay=1ms", "--jitter=1ms", "--loss=1%", "--queue=10pkt",
              "--queue-args=packets=1", "--aqm=codel", "--trace=f", "--trace-once", "--seed=1",
              "--policy={}", "--up-rate=1mbit", "--down-delay=1ms", "--uplink-queue=drophead",
              "--downlink-trace=f", "--name=x", "-n", "--nat-out", "--no-nat-out"],
    "link": ["--name=x", "-n"], "cells": [],
    "relay": ["--from=a:1", "--to=b:2", "--via=c", "--socks5=a:1", "--mode=splice", "--name=x", "-n"],
    "flow": ["--name=x", "-n"], "gen": ["--name=x", "-n"], "stats": ["--name=x", "--cells"],
    "hosts": [], "policy": ["--dir=up", "-d"], "help": [],
}
bad = []
for c in ("shell", "stats", "cells", "flow", "relay"):
    if c not in cmds: bad.append("'sluicectl --help' does not list %s" % c)
for c in sorted(set(cmds) | set(expect)):
    if c not in cmds: bad.append("'sluicectl --help' does not list %s" % c)
    if c not in expect: bad.append("%s: a command this test does not know; add its options" % c); continue
    rc, out, err = run(c, "--help")
    if rc != 0 or not out.startswith("Usage: sluicectl "):
        bad.append("%s --help: status %d, output %r" % (c, rc, (out + err)[:120])); continue
    if c != "help" and not re.match(r"Usage: sluicectl (\[[^]]*\] |--controller URL )*%s\b" % c, out):
        bad.append("%s --help: usage line %r" % (c, out.splitlines()[0]))
    for o in expect[c]:
        name = o.split("=")[0]
        if not re.search(r"(^|[\s\[,(])%s\b" % re.escape(name), out):
            # --up-OPT / --uplink-OPT forms are named once, as patterns
            if not (c == "shell" and re.match(r"--(up|down|uplink|downlink)-", name)):
                bad.append("%s --help does not name %s" % (c, name))
        args = [c, o, "x1" if o == "-n" else "1", "--help"] if o in ("-n", "-c", "-i", "-d") else [c, o, "--help"]
        rc, out2, err2 = run(*args)
        if rc != 0 or "unknown option" in err2 or "needs an argument" in err2:
            bad.append("%s does not accept %s: status %d %s" % (c, o, rc, err2.strip()[:100]))
    # every option line of its help is accepted
    for m in re.finditer(r"^ {2,6}(?:-[a-zA-Z0-9], )?(--[a-z][a-z0-9-]*)(?: ([A-Z][A-Z_:|,.A-Z]*))?", out, re.M):
        name, meta = m.group(1), m.group(2)
        args = [c, name + "=x" if meta else name, "--help"]
        rc, _, err2 = run(*args)
        if "unknown option" in err2 or "needs an argument" in err2 or "doesn't allow" in err2:
            bad.append("%s --help names %s, which it refuses: %s" % (c, name, err2.strip()[:100]))
    print("# %-7s %d options checked" % (c, len(expect[c])))
# the controller's options of up, without one: a message, not "unknown"
rc, _, err = run("up", "--host=h1", "x.json")
if rc != 2 or "--host places a topology through a controller" not in err:
    bad.append("up --host without a controller: status %d %r" % (rc, err[:120]))
rc, _, err = run("frobnicate", "--help")
if rc != 2 or "unknown command 'frobnicate'" not in err:
    bad.append("an unknown command's --help: status %d %r" % (rc, err[:100]))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
cd "$TOP" || exit 1
t_daemon_start || exit 1
trap t_cleanup_all EXIT
t_run "malformed API requests get errors, the daemon serves on" test_malformed_requests
t_run "sluiced under ASan/LSan: no leak or error after a workload" test_leak_free_workload
t_run "the units as installed pass systemd-analyze verify, man pages included" test_systemd_unit_verifies
t_run "one daemon per run directory" test_one_daemon_per_rundir
t_run "--help, bad flags and config errors" test_help_and_bad_flags
t_run "--help of every sluicectl command names and accepts its options" test_help_every_command
t_done
