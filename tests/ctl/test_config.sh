#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sluice-controller's configuration file (read_config: every other test
# passes -c /dev/null), its errors, TLS from systemd credentials, and the
# systemd unit. A private PostgreSQL (tests/ctl/pg.sh) for the controller
# that serves from a configuration file alone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
cd "$TOP" || exit 1

CONF=$CTL_DIR/controller.conf

# A controller started from $CONF only (plus extra flags); pid in CFG_PID.
cfg_start() { # PORT [flags...]
	local port=$1; shift
	"$CONTROLLER" -c "$CONF" "$@" serve >"$CTL_DIR/cfg.stderr" 2>&1 &
	CFG_PID=$!
	wait_for 10 curl -sf "http://127.0.0.1:$port/healthz" ||
		{ echo "not serving on $port"; cat "$CTL_DIR/cfg.stderr"; kill "$CFG_PID"; return 1; }
}
cfg_stop() { kill -TERM "$CFG_PID" 2>/dev/null; t_wait_gone "$CFG_PID"; }

t_config_file() {
	local port port2 ok=1 log=$CTL_DIR/from-config.log
	port=$(pg_free_port)
	port2=$(pg_free_port)
	# Comments, blank lines, blanks around keys and values, a CRLF line.
	cat >"$CONF" <<EOF
# a controller configured by file alone

  listen = 127.0.0.1
port=$port
database	=	$PG_CONNINFO
migrations = $TOP/db/migrations
web-root = $B/web
metrics-interval = 300
heartbeat-interval = 700
host-timeout = 4000
rate-limit = 50
metrics-public = yes
log-level = debug
log-file = $log
EOF
	printf 'host-timeout = 4500\r\n' >>"$CONF"
	cfg_start "$port" || return 1
	# metrics-public: /metrics without a token.
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" = 200 ] ||
		{ echo "metrics-public = yes not in effect"; ok=0; }
	# web-root: the UI's files are served from it.
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/index.html")" = 200 ] ||
		{ echo "web-root = $B/web not in effect"; ok=0; }
	# The intervals reach hosts in the welcome; rate-limit 50/s (bursts of 100).
	PYTHONPATH=tests/ctl PORT=$port TOKEN=$HOST_TOKEN "$PY" -c "
import os
from wsclient import WS, hello
ws = WS('127.0.0.1', int(os.environ['PORT']))
w = hello(ws, 'host', os.environ['TOKEN'], host='h1')
assert w['metrics_interval_ms'] == 300 and w['heartbeat_ms'] == 700, w
print('welcome: metrics_interval_ms', w['metrics_interval_ms'], 'heartbeat_ms', w['heartbeat_ms'])
for i in range(300):
    ws.send_json({'v': 1, 'type': 'heartbeat', 'ts': i})
codes = set()
for i in range(300):
    try:
        m = ws.recv_json(2)
    except Exception:
        break
    codes.add(m.get('code'))
assert 'rate' in codes, codes
print('rate-limit 50: rate error after the burst')
ws.close()" || ok=0
	# log-file and log-level: the log is in the file, with debug lines.
	grep -q "sluice-controller\[info\]: sluice-controller .* listening on http://127.0.0.1:$port" "$log" ||
		{ echo "no listening line in $log"; ok=0; }
	grep -q "sluice-controller\[debug\]: " "$log" || { echo "log-level = debug not in effect"; ok=0; }
	[ ! -s "$CTL_DIR/cfg.stderr" ] || { echo "stderr not empty with log-file:"; cat "$CTL_DIR/cfg.stderr"; ok=0; }
	cfg_stop
	# A flag overrides the file.
	cfg_start "$port2" -p "$port2" || return 1
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && { echo "still on the file's port"; ok=0; }
	echo "-p $port2 overrides port = $port"
	cfg_stop
	[ $ok = 1 ]
}

# bad_config "LINES" "EXPECTED MESSAGE" (FILE stands for the file's path)
bad_config() {
	local out rc want
	printf '%b' "$1" >"$CONF"
	out=$("$CONTROLLER" -c "$CONF" migrate 2>&1)
	rc=$?
	want=${2//FILE/$CONF}
	if [ "$rc" != 2 ] || [ "$out" != "$want" ]; then
		echo "config:"; sed 's/^/    /' "$CONF"
		echo "exit $rc, said: $out"
		echo "expected exit 2 and: $want"
		return 1
	fi
	echo "$out"
}

t_config_errors() {
	local long
	long=$(head -c 1100 /dev/zero | tr '\0' 'x')
	bad_config 'port = 7700\ncolour = blue\n' \
		'sluice-controller: FILE:2: unknown key "colour"; see sluice-controller --help' || return 1
	bad_config 'port = seventy\n' \
		'sluice-controller: FILE:1: port "seventy"; expected an integer from 1 to 65535' || return 1
	bad_config '# ok\nport = 70000\n' \
		'sluice-controller: FILE:2: port "70000"; expected an integer from 1 to 65535' || return 1
	bad_config 'metrics-interval = 5\n' \
		'sluice-controller: FILE:1: metrics-interval "5"; expected an integer from 10 to 3600000' || return 1
	bad_config 'heartbeat-interval =\n' \
		'sluice-controller: FILE:1: heartbeat-interval ""; expected an integer from 100 to 3600000' || return 1
	bad_config 'listen = 127.0.0.1\n\nlisten 127.0.0.1\n' \
		'sluice-controller: FILE:3: "listen 127.0.0.1"; expected KEY = VALUE' || return 1
	bad_config ' = 5\n' \
		'sluice-controller: FILE:1: no key before "="; expected KEY = VALUE' || return 1
	bad_config 'metrics-public = maybe\n' \
		'sluice-controller: FILE:1: metrics-public "maybe"; expected yes or no' || return 1
	bad_config 'log-level = loud\n' \
		'sluice-controller: FILE:1: log-level "loud"; expected error, warn, info or debug' || return 1
	bad_config "database = $long\n" \
		'sluice-controller: FILE:1: database: a value of 1100 bytes; expected at most 1023' || return 1
	bad_config "listen = 1\n# $(head -c 2100 /dev/zero | tr '\0' 'y')\n" \
		'sluice-controller: FILE:2: line longer than 2046 bytes' || return 1
	bad_config 'tls-cert = /etc/ssl/certs/x.pem\n' \
		'sluice-controller: TLS needs both tls-cert and tls-key (tls-key is missing)' || return 1
	# A file named with -c must exist; the default one may be absent.
	out=$("$CONTROLLER" -c "$CTL_DIR/nope.conf" migrate 2>&1)
	[ $? = 2 ] && [ "$out" = "sluice-controller: $CTL_DIR/nope.conf: No such file or directory" ] ||
		{ echo "missing file: $out"; return 1; }
	echo "$out"
	# Flags are checked the same way and named as flags.
	out=$("$CONTROLLER" -c /dev/null --port 0 migrate 2>&1)
	[ $? = 2 ] && [ "$out" = 'sluice-controller: --port: port "0"; expected an integer from 1 to 65535' ] ||
		{ echo "flag: $out"; return 1; }
	echo "$out"
}

t_tls_credentials() {
	local port creds=$CTL_DIR/creds ok=1
	command -v openssl >/dev/null || { echo "openssl missing (tools/deps.sh installs it)"; return 1; }
	mkdir -p "$creds"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
		-keyout "$creds/tls-key" -out "$creds/tls-cert" >/dev/null 2>&1 || return 1
	chmod 0400 "$creds/tls-key"
	port=$(pg_free_port)
	printf 'listen = 127.0.0.1\nport = %s\ndatabase = %s\nmigrations = %s\n' \
		"$port" "$PG_CONNINFO" "$TOP/db/migrations" >"$CONF"
	# What systemd's LoadCredential= does: files in $CREDENTIALS_DIRECTORY.
	CREDENTIALS_DIRECTORY=$creds "$CONTROLLER" -c "$CONF" serve >"$CTL_DIR/creds.log" 2>&1 &
	CFG_PID=$!
	wait_for 10 curl -skf "https://127.0.0.1:$port/healthz" || { echo "no https"; ok=0; }
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && { echo "plain http served"; ok=0; }
	grep -q "TLS: certificate and key from systemd credentials ($creds)" "$CTL_DIR/creds.log" ||
		{ echo "no log line about the credentials"; ok=0; }
	cfg_stop
	[ $ok = 1 ] || { tail -5 "$CTL_DIR/creds.log"; return 1; }
}

t_unit_verifies() {
	local d out rc
	command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (tools/deps.sh installs systemd)"; return 1; }
	d=$(mktemp -d)
	# As make install writes it; the man page is not installed here.
	sed -e "s|@SBINDIR@|$B|g" -e '/^Documentation=/d' systemd/sluice-controller.service \
		>"$d/sluice-controller.service"
	out=$(systemd-analyze verify "$d/sluice-controller.service" 2>&1)
	rc=$?
	rm -rf "$d"
	# Unknown keys are only warnings: any output is a failure too.
	[ "$rc" = 0 ] && [ -z "$out" ] || { echo "rc $rc: $out"; return 1; }
	# The dynamic user on a read-only system can write its log directory,
	# and that is where the example configuration puts the log file.
	grep -qx 'DynamicUser=yes' systemd/sluice-controller.service &&
	grep -qx 'ProtectSystem=strict' systemd/sluice-controller.service &&
	grep -qx 'LogsDirectory=sluice-controller' systemd/sluice-controller.service ||
		{ echo "the unit lacks DynamicUser, ProtectSystem=strict or LogsDirectory"; return 1; }
	grep -q '^# log-file = /var/log/sluice-controller/' etc/controller.conf ||
		{ echo "etc/controller.conf's log-file is outside LogsDirectory"; return 1; }
	grep -q 'LoadCredential=tls-key:' systemd/sluice-controller.service ||
		{ echo "the unit does not say how a root-only key gets in"; return 1; }
	echo "systemd-analyze verify: clean"
}

# --- run -------------------------------------------------------------------

if [ ! -x "$CONTROLLER" ]; then
	echo "ok 1 - config tests # SKIP build/sluice-controller is not built"; echo "1..1"; exit 0
fi
t_run "bad configuration lines: errors name file, line, key and what was expected" t_config_errors
t_run "systemd unit passes systemd-analyze verify (log directory, credentials)" t_unit_verifies
if ! ctl_setup >"$CTL_DIR/setup.log" 2>&1; then
	sed 's/^/# /' "$CTL_DIR/setup.log"
	echo "not ok $((T_N + 1)) - set up PostgreSQL"; T_N=$((T_N + 1)); T_FAILS=$((T_FAILS + 1))
	ctl_cleanup; t_done; exit 1
fi
trap ctl_cleanup EXIT
t_run "a configuration file alone: every key in effect, a flag overrides it" t_config_file
t_run "TLS certificate and key from systemd credentials (LoadCredential=)" t_tls_credentials
t_done
