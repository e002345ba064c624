#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a new user runs first: `make demo` (its output lines, and its
# failures: a failed ping or iperf3 is an exit status of 1 with a message,
# never a "?" in the results), and `make install DESTDIR=...` (the programs,
# the man pages, the systemd units and the default configuration under the
# right paths and modes, working together; an edited configuration kept on
# reinstall; PREFIX honoured; uninstall); the vagrant/ files.
. "$(dirname "$0")/../lib.sh"
S=$$
CTL() { "$SLUICECTL" "$@"; }
TMPS=()
trap 'rm -rf "${TMPS[@]}"; t_cleanup_all' EXIT

# No namespace, daemon or iperf3 of topology $1 is left, and no daemon on
# this test's run directory.
DEMO_DIRS_BEFORE=($(ls -d /tmp/sluice-demo.* 2>/dev/null))
demo_clean() { # name
	local bad=""
	[ "$(ip netns list | grep -cE "^sluice\.$1(\.| |$)")" -eq 0 ] || bad="$bad namespaces"
	pgrep -f "sluiced.*--rundir $SLUICE_RUNDIR( |$)" >/dev/null && bad="$bad daemon"
	pgrep -f "iperf3 -s -1 -D -I /tmp/sluice-demo" >/dev/null && bad="$bad iperf3-server"
	# work directories of this test's demos only (one of a killed earlier
	# run may be there already)
	comm -13 <(printf '%s\n' "${DEMO_DIRS_BEFORE[@]}" | sort) \
		<(ls -d /tmp/sluice-demo.* 2>/dev/null | sort) | grep -q . && bad="$bad work-dir"
	[ -z "$bad" ] || { echo "left behind by the demo:$bad"; return 1; }
}

test_make_demo() {
	local out=$SLUICE_RUNDIR/demo.out err=$SLUICE_RUNDIR/demo.err rc
	[ "$(ip netns list | grep -cE '^sluice\.demo(\.| |$)')" -eq 0 ] ||
		{ t_skip_why "a topology called demo is up on this machine"; return 77; }
	mkdir -p "$SLUICE_RUNDIR"
	make -s -C "$TOP" demo >"$out" 2>"$err"; rc=$?
	sed 's/^/#   /' "$out"
	[ "$rc" -eq 0 ] || { t_fail "make demo exited $rc: $(cat "$err")"; return 1; }
	python3 - "$out" <<'PY' || return 1
import re, sys
lines = open(sys.argv[1]).read().splitlines()
want = [
    r"== sluice demo: examples/demo\.json",
    r"demo: 3 nodes, 2 links up in [0-9.]+ s",
    r"TOPOLOGY +NODE +KIND +ADDRESS +INTERFACES",
    r"demo +h1 +host +[0-9.]+/32 +eth0->r1",
    r"demo +r1 +router +[0-9.]+/32 +eth0->h1,eth1->h2",
    r"demo +h2 +host +[0-9.]+/32 +eth0->r1",
    r"TOPOLOGY +A +B +A-IF +B-IF +MTU +STATE +MODE +POLICY",
    r"demo +h1 +r1 .* up +max +-",
    r"demo +r1 +h2 .* up +max +rate=20mbit",
    r"== ping h1 -> h2 \(10 packets\)",
    r"10 packets transmitted, 10 received, 0% packet loss.*",
    r"rtt min/avg/max/mdev = [0-9./]+ ms",
    r"== iperf3 TCP h1 -> h2, 5 s",
    r"== measured: TCP goodput h1 -> h2 = ([0-9.]+) Mbit/s \(the path shaped to 20 Mbit/s\), ping RTT avg ([0-9.]+) ms",
    r"== tearing down",
    r"== done",
]
i, bad = 0, []
for w in want:
    while i < len(lines) and not re.fullmatch(w, lines[i]):
        i += 1
    if i == len(lines):
        bad.append("no line %r (in order)" % w); break
    m = re.fullmatch(w, lines[i])
    if "measured" in w:
        mbit, rtt = float(m.group(1)), float(m.group(2))
        if not 17.0 <= mbit <= 20.0: bad.append("goodput %.2f Mbit/s over 20 Mbit/s" % mbit)
        if not 0 < rtt < 5: bad.append("RTT %.3f ms on an unshaped-delay path" % rtt)
    i += 1
if "?" in " ".join(lines): bad.append("a '?' in the output")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
	grep -q "started one in the background" "$err" || t_fail "the demo did not say it started sluiced: $(cat "$err")" || return 1
	demo_clean demo
}

# A failed measurement fails the demo: exit status 1, "demo: FAILED: ..."
# on stderr, no "measured" line, and everything torn down.
test_demo_fails_loudly() {
	local d=$SLUICE_RUNDIR/dfail rc name=dmf$S
	mkdir -p "$d/bin"
	python3 -c 'import json,sys
t = json.load(open(sys.argv[1])); t["name"] = sys.argv[2]
t["links"][0]["policy"] = {"loss": "100%"}; json.dump(t, open(sys.argv[3], "w"))' \
		"$TOP/examples/demo.json" "$name" "$d/lossy.json" || return 1
	"$TOP/tools/demo.sh" "$d/lossy.json" >"$d/out" 2>"$d/err"; rc=$?
	t_log "all packets lost: status $rc, $(cat "$d/err" | grep FAILED)"
	[ "$rc" -eq 1 ] || t_fail "status $rc, expected 1" || return 1
	grep -q "^demo: FAILED: ping h1 -> h2: " "$d/err" || t_fail "stderr: $(cat "$d/err")" || return 1
	grep -q "== measured" "$d/out" && t_fail "a measured line after a failed ping" && return 1
	demo_clean "$name" || return 1

	# iperf3's client fails (its server is the real one)
	python3 -c 'import json,sys
t = json.load(open(sys.argv[1])); t["name"] = sys.argv[2]; json.dump(t, open(sys.argv[3], "w"))' \
		"$TOP/examples/demo.json" "$name" "$d/plain.json" || return 1
	cat >"$d/bin/iperf3" <<EOF
#!/bin/sh
case " \$* " in *" -s "*) exec $(command -v iperf3) "\$@";; esac
echo '{"error": "unable to connect to server: Connection refused (fake)"}'
exit 1
EOF
	chmod +x "$d/bin/iperf3"
	PATH=$d/bin:$PATH "$TOP/tools/demo.sh" "$d/plain.json" >"$d/out" 2>"$d/err"; rc=$?
	t_log "iperf3 failing: status $rc, $(cat "$d/err" | grep FAILED)"
	[ "$rc" -eq 1 ] || t_fail "status $rc, expected 1" || return 1
	grep -q "^demo: FAILED: iperf3 h1 -> h2: unable to connect to server: Connection refused (fake)" "$d/err" ||
		t_fail "stderr: $(cat "$d/err")" || return 1
	grep -q "== measured" "$d/out" && t_fail "a measured line after a failed iperf3" && return 1
	demo_clean "$name"
}

# mode PATH: its permission bits, e.g. 755
mode() { stat -c %a "$1"; }

test_make_install() {
	local d v rc=0 f
	d=$(mktemp -d); TMPS+=("$d")
	make -s -C "$TOP" install DESTDIR="$d" >"$d/make.log" 2>&1 || { cat "$d/make.log"; return 1; }
	for f in sluiced sluicectl sluice-controller sluice-relay; do
		[ -x "$d/usr/local/sbin/$f" ] && [ "$(mode "$d/usr/local/sbin/$f")" = 755 ] ||
			t_fail "/usr/local/sbin/$f missing or not mode 755" || rc=1
		cmp -s "$d/usr/local/sbin/$f" "$B/${f/sluice-relay/tools/sluice-relay}" ||
			t_fail "/usr/local/sbin/$f is not the built program" || rc=1
	done
	v=$("$d/usr/local/sbin/sluicectl" --version) && [ "$v" = "$("$SLUICECTL" --version)" ] ||
		t_fail "installed sluicectl --version: '$v'" || rc=1
	for f in sluiced sluicectl sluice-controller; do
		[ "$(mode "$d/usr/local/share/man/man8/$f.8" 2>/dev/null)" = 644 ] ||
			t_fail "/usr/local/share/man/man8/$f.8 missing or not mode 644" || rc=1
		MANPATH=$d/usr/local/share/man man -P cat "$f" 2>/dev/null | grep -A1 '^NAME' | grep -q "$f" ||
			t_fail "man $f does not find the installed page" || rc=1
	done
	for f in sluiced sluice-controller; do
		[ "$(mode "$d/etc/systemd/system/$f.service" 2>/dev/null)" = 644 ] ||
			t_fail "/etc/systemd/system/$f.service missing or not mode 644" || rc=1
		grep -q "^ExecStart=/usr/local/sbin/$f " "$d/etc/systemd/system/$f.service" ||
			t_fail "$f.service: ExecStart is not /usr/local/sbin/$f" || rc=1
		grep -q "@SBINDIR@" "$d/etc/systemd/system/$f.service" && t_fail "$f.service: @SBINDIR@ left" && rc=1
	done
	cmp -s "$d/etc/sluice/sluiced.conf" "$TOP/systemd/sluiced.conf" || t_fail "/etc/sluice/sluiced.conf is not the default" || rc=1
	cmp -s "$d/etc/sluice/controller.conf" "$TOP/etc/controller.conf" || t_fail "/etc/sluice/controller.conf is not the default" || rc=1
	[ "$(mode "$d/etc/sluice/sluiced.conf")" = 644 ] || t_fail "sluiced.conf mode $(mode "$d/etc/sluice/sluiced.conf")" || rc=1
	[ -s "$d/usr/local/share/sluice/web/index.html" ] && ls "$d"/usr/local/share/sluice/migrations/*.sql >/dev/null 2>&1 ||
		t_fail "the controller's web UI or migrations are missing under /usr/local/share/sluice" || rc=1
	[ "$rc" -eq 0 ] || return 1

	# the installed daemon, with the installed configuration, serves the
	# installed sluicectl
	local rd=$d/run pid
	"$d/usr/local/sbin/sluiced" --config "$d/etc/sluice/sluiced.conf" --rundir "$rd" >"$d/sluiced.log" 2>&1 &
	pid=$!
	for f in $(seq 100); do [ -S "$rd/sluiced.sock" ] && break; sleep 0.05; done
	"$d/usr/local/sbin/sluicectl" --socket "$rd/sluiced.sock" status >"$d/status" 2>&1 || rc=1
	kill -TERM $pid; wait $pid
	[ "$rc" -eq 0 ] || { t_fail "the installed programs do not work together: $(cat "$d/status" "$d/sluiced.log")"; return 1; }

	# an edited configuration survives a reinstall
	echo "log-level = debug" >>"$d/etc/sluice/sluiced.conf"
	make -s -C "$TOP" install DESTDIR="$d" >"$d/make.log" 2>&1 || return 1
	tail -1 "$d/etc/sluice/sluiced.conf" | grep -q "^log-level = debug$" || t_fail "reinstall replaced an edited sluiced.conf" || return 1

	# uninstall takes what install put there, and keeps the configuration
	make -s -C "$TOP" uninstall DESTDIR="$d" >"$d/make.log" 2>&1 || return 1
	v=$(find "$d/usr" "$d/etc/systemd" -type f 2>/dev/null)
	[ -z "$v" ] || t_fail "left by uninstall: $v" || return 1
	[ -e "$d/etc/sluice/sluiced.conf" ] || t_fail "uninstall removed the configuration" || return 1

	# PREFIX moves the programs, and the units point there
	v=$(mktemp -d); TMPS+=("$v")
	make -s -C "$TOP" install DESTDIR="$v" PREFIX=/usr >"$v/make.log" 2>&1 || return 1
	[ -x "$v/usr/sbin/sluiced" ] && [ -e "$v/usr/share/man/man8/sluiced.8" ] &&
		grep -q '^ExecStart=/usr/sbin/sluiced ' "$v/etc/systemd/system/sluiced.service" ||
		t_fail "PREFIX=/usr: $(find "$v" -name 'sluiced*' | tr '\n' ' ')" || return 1
}

# vagrant/: provision.sh parses and does the README's steps; the
# Vagrantfile parses (ruby -c, when ruby is installed) and has the box,
# the CPUs and the multi-VM network docs/controller.md promises.
test_vagrant_files() {
	local v=$TOP/vagrant rc=0
	[ -f "$v/Vagrantfile" ] && [ -x "$v/provision.sh" ] || { t_fail "vagrant/Vagrantfile or an executable vagrant/provision.sh missing"; return 1; }
	bash -n "$v/provision.sh" || t_fail "provision.sh does not parse" || rc=1
	grep -q '^\./tools/deps\.sh$' "$v/provision.sh" && grep -q '^make -j' "$v/provision.sh" &&
		grep -q '^make install$' "$v/provision.sh" || t_fail "provision.sh does not run tools/deps.sh, make and make install" || rc=1
	grep -q 'ENV.fetch("SLUICE_BOX", "debian/bookworm64")' "$v/Vagrantfile" &&
		grep -q 'ENV.fetch("SLUICE_CPUS", "2")' "$v/Vagrantfile" &&
		grep -q 'ENV.fetch("SLUICE_VMS", "1")' "$v/Vagrantfile" &&
		grep -q 'private_network", ip: vm_ip(k)' "$v/Vagrantfile" &&
		grep -q 'path: "provision.sh"' "$v/Vagrantfile" || t_fail "the Vagrantfile lacks the box, CPUs, VM count, network or provisioning" || rc=1
	if command -v ruby >/dev/null; then
		ruby -c "$v/Vagrantfile" >/dev/null || t_fail "ruby -c Vagrantfile" || rc=1
	else
		t_log "no ruby: the Vagrantfile's syntax is not checked"
	fi
	return $rc
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
command -v iperf3 >/dev/null || { echo "1..0 # SKIP needs iperf3"; exit 0; }
# No daemon of our own: the demo must start (and stop) one itself.
t_run "make demo: bring-up, tables, ping, iperf3, the measured line, teardown" test_make_demo
t_run "the demo fails loudly on a failed ping or iperf3, and still tears down" test_demo_fails_loudly
t_run "make install DESTDIR: programs, man pages, units, config; reinstall, uninstall, PREFIX" test_make_install
t_run "vagrant/: provision.sh and the Vagrantfile" test_vagrant_files
t_done
