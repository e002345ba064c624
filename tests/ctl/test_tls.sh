#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A real sluiced reporting to a controller over wss://: openssl makes a
# test CA, a server certificate it signs (for localhost and 127.0.0.1), one
# it signs for another name, and an unrelated CA. sluiced with
# controller-ca = the test CA is accepted; with the unrelated CA, with the
# system's CAs, or facing a certificate for another name it is refused (the
# host stays offline and the log names the reason); controller-insecure
# accepts anything (tests only); settings that would be ignored stop
# sluiced with exit status 2. Needs root; exits 77 without PostgreSQL or
# openssl.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

skip_all() { echo "1..0 # SKIP $*"; [ -n "${CTL_DIR:-}" ] && rm -rf "$CTL_DIR"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (sluiced)"
[ -x "$B/sluice-controller" ] && [ -x "$SLUICED" ] || skip_all "build/sluice-controller and sluiced are not built (make)"
command -v openssl >/dev/null || skip_all "openssl is not installed"
. "$(dirname "$0")/ctl_lib.sh"
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] ||
	skip_all "PostgreSQL server binaries not found (apt-get install postgresql)"

HOST=tls-host
PKI=$CTL_DIR/pki
LOG=$SLUICE_RUNDIR/sluiced.log

# The CA, a certificate it signs for localhost/127.0.0.1, one it signs for
# other.example only, and a CA that signed neither.
make_pki() {
	mkdir -p "$PKI" && cd "$PKI" || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sluice-test-ca \
		-keyout ca.key -out ca.pem 2>/dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=unrelated-ca \
		-keyout other-ca.key -out other-ca.pem 2>/dev/null || return 1
	local name san
	for name in server wrongname; do
		san="DNS:localhost,IP:127.0.0.1"
		[ "$name" = wrongname ] && san="DNS:other.example"
		printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" >"$name.ext"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=${san#DNS:}" -keyout "$name.key" \
			-out "$name.csr" 2>/dev/null &&
		openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile "$name.ext" -out "$name.pem" 2>/dev/null || return 1
	done
	openssl verify -CAfile ca.pem server.pem >/dev/null && ! openssl verify -CAfile other-ca.pem server.pem >/dev/null 2>&1
}

# A second controller on the same database, serving the wrong-name certificate.
ctl2_start() {
	CTL2_PORT=$(pg_free_port)
	"$CONTROLLER" "${CTL_ARGS[@]}" -l 127.0.0.1 -p "$CTL2_PORT" --tls-cert "$PKI/wrongname.pem" \
		--tls-key "$PKI/wrongname.key" >>"$CTL_DIR/controller2.log" 2>&1 &
	echo $! >"$CTL_DIR/ctl2.pid"
	wait_for 5 sh -c "curl -sk https://127.0.0.1:$CTL2_PORT/healthz | grep -q ok"
}

# sluiced_run ARGS...: a sluiced with these controller flags (and no
# configuration file); its log starts empty.
sluiced_run() {
	mkdir -p "$SLUICE_RUNDIR"
	rm -f "$SLUICE_SOCKET" "$LOG"
	"$SLUICED" --foreground -c /dev/null --rundir "$SLUICE_RUNDIR" --host-id "$HOST" \
		--controller-token "$TOKEN" "$@" >>"$LOG" 2>&1 &
	echo $! >"$SLUICE_RUNDIR/test-daemon.pid"
	wait_for 10 test -S "$SLUICE_SOCKET" || { cat "$LOG"; return 1; }
}

host_state() { psqlq "SELECT state FROM hosts WHERE id = '$HOST'"; }
host_ups() { psqlq "SELECT count(*) FROM events WHERE host_id = '$HOST' AND kind = 'host_up'"; }

# accepted URL ARGS...: sluiced connects, the controller has the host online.
accepted() {
	local url=$1 ups; shift
	ups=$(host_ups)
	sluiced_run --controller "$url" "$@" || return 1
	wait_for 10 sh -c "grep -q 'host agent: connected to' '$LOG'" || { cat "$LOG"; return 1; }
	wait_for 5 sh -c "[ \"\$(psql -X -t -A -c \"SELECT state FROM hosts WHERE id = '$HOST'\")\" = online ]" || return 1
	[ "$(host_ups)" -gt "$ups" ] || return 1
	grep 'host agent' "$LOG"
	t_daemon_stop
	wait_for 5 sh -c "[ \"\$(psql -X -t -A -c \"SELECT state FROM hosts WHERE id = '$HOST'\")\" = offline ]"
}

# refused URL REASON ARGS...: sluiced keeps trying (3 s here), the host stays
# offline, and the log says why once, at warning level.
refused() {
	local url=$1 reason=$2 ups; shift 2
	ups=$(host_ups)
	sluiced_run --controller "$url" "$@" || return 1
	wait_for 5 sh -c "grep -q 'warning.*host agent: cannot connect to $url (TLS: the controller.s certificate was refused' '$LOG'" ||
		{ cat "$LOG"; t_daemon_stop; return 1; }
	sleep 3
	grep 'host agent' "$LOG"
	grep -q "refused ($reason)" "$LOG" || { echo "expected the reason \"$reason\""; t_daemon_stop; return 1; }
	# once, not on every retry
	[ "$(grep -c 'warning.*cannot connect to' "$LOG")" -eq 1 ] || { t_daemon_stop; return 1; }
	! grep -q 'host agent: connected to' "$LOG" || { t_daemon_stop; return 1; }
	t_daemon_stop
	[ "$(host_state)" = offline ] && [ "$(host_ups)" -eq "$ups" ]
}

# config_error EXPECTED ARGS...: sluiced stops at once with exit status 2
# and a message containing EXPECTED.
config_error() {
	local want=$1 out rc; shift
	out=$("$SLUICED" --foreground -c /dev/null --rundir "$SLUICE_RUNDIR" "$@" 2>&1); rc=$?
	echo "$out (exit $rc)"
	[ $rc -eq 2 ] && echo "$out" | grep -qF -- "$want"
}

t_good_ca() {
	accepted "wss://127.0.0.1:$CTL_PORT/ws" --controller-ca "$PKI/ca.pem" &&
	# the host name of the certificate works as well as its address
	accepted "wss://localhost:$CTL_PORT/ws" --controller-ca "$PKI/ca.pem"
}

t_good_ca_config() {
	local ups
	ups=$(host_ups)
	cat >"$CTL_DIR/sluiced.conf" <<CONF
controller = wss://127.0.0.1:$CTL_PORT/ws
host-id = $HOST
controller-token = $TOKEN
controller-ca = $PKI/ca.pem
CONF
	mkdir -p "$SLUICE_RUNDIR"
	rm -f "$SLUICE_SOCKET" "$LOG"
	"$SLUICED" --foreground -c "$CTL_DIR/sluiced.conf" --rundir "$SLUICE_RUNDIR" >>"$LOG" 2>&1 &
	echo $! >"$SLUICE_RUNDIR/test-daemon.pid"
	wait_for 10 sh -c "grep -q 'host agent: connected to' '$LOG'" || { cat "$LOG"; t_daemon_stop; return 1; }
	t_daemon_stop
	[ "$(host_ups)" -gt "$ups" ]
}

t_wrong_ca() {
	refused "wss://127.0.0.1:$CTL_PORT/ws" "unable to get local issuer certificate" \
		--controller-ca "$PKI/other-ca.pem" &&
	grep -q "signed by $PKI/other-ca.pem" "$LOG"
}

t_system_cas() {
	# no controller-ca: the system's CAs, which do not know the test CA
	refused "wss://127.0.0.1:$CTL_PORT/ws" "unable to get local issuer certificate" &&
	grep -q "signed by a CA of the system" "$LOG"
}

t_wrong_name() {
	refused "wss://127.0.0.1:$CTL2_PORT/ws" "IP address mismatch" --controller-ca "$PKI/ca.pem"
}

t_insecure() {
	accepted "wss://127.0.0.1:$CTL2_PORT/ws" --controller-ca "$PKI/other-ca.pem" --controller-insecure || return 1
	grep -q "warning.*controller-insecure" "$LOG" || return 1
	# and plain ws:// to a TLS-only controller is not silently accepted either
	sluiced_run --controller "ws://127.0.0.1:$CTL_PORT/ws" || return 1
	sleep 2
	t_daemon_stop
	grep 'host agent' "$LOG"
	! grep -q 'host agent: connected to' "$LOG" && grep -q 'warning.*cannot connect to ws://' "$LOG"
}

t_config_errors() {
	config_error "controller-ca is set but controller \"ws://127.0.0.1:1/ws\" is not wss://" \
		--controller ws://127.0.0.1:1/ws --controller-token x --controller-ca "$PKI/ca.pem" &&
	config_error "controller-insecure is set but controller" \
		--controller ws://127.0.0.1:1/ws --controller-token x --controller-insecure &&
	config_error "controller-ca $PKI/missing.pem: No such file or directory" \
		--controller wss://127.0.0.1:1/ws --controller-token x --controller-ca "$PKI/missing.pem" &&
	config_error "no controller-token" --controller wss://127.0.0.1:1/ws &&
	printf 'controller-insecure = maybe\n' >"$CTL_DIR/bad.conf" &&
	{ out=$("$SLUICED" --foreground -c "$CTL_DIR/bad.conf" 2>&1); rc=$?; echo "$out (exit $rc)"; } &&
	[ $rc -eq 2 ] && echo "$out" | grep -qF "bad.conf:1: controller-insecure \"maybe\"; expected yes or no"
}

tls_cleanup() {
	t_daemon_stop
	local p
	p=$(cat "$CTL_DIR/ctl2.pid" 2>/dev/null)
	if [ -n "$p" ]; then
		kill "$p" 2>/dev/null
		t_wait_gone "$p"
	fi
	mkdir -p "$ART"
	cp "$LOG" "$ART/tls-sluiced.log" 2>/dev/null
	rm -rf "$SLUICE_RUNDIR"
	ctl_cleanup
}

trap tls_cleanup EXIT
if ! (make_pki) >"$CTL_DIR/pki.log" 2>&1 || ! ctl_setup >"$CTL_DIR/setup.log" 2>&1; then
	sed 's/^/# /' "$CTL_DIR/pki.log" "$CTL_DIR/setup.log" 2>/dev/null
	echo "not ok 1 - make the test PKI, set up PostgreSQL"; echo "1..1"; exit 1
fi
TOKEN=$("$CONTROLLER" "${CTL_ARGS[@]}" add-host "$HOST" 2>>"$CTL_DIR/setup.log")
# Not ctl_start: it polls http://, and a TLS controller serves https only.
"$CONTROLLER" "${CTL_ARGS[@]}" -l 127.0.0.1 -p "$CTL_PORT" --tls-cert "$PKI/server.pem" \
	--tls-key "$PKI/server.key" >>"$CTL_DIR/controller.log" 2>&1 &
echo $! >"$CTL_DIR/ctl.pid"
if [ -z "$TOKEN" ] ||
   ! wait_for 5 sh -c "curl -s --cacert '$PKI/ca.pem' https://127.0.0.1:$CTL_PORT/healthz | grep -q ok" ||
   ! ctl2_start; then
	sed 's/^/# /' "$CTL_DIR/setup.log" "$CTL_DIR"/controller*.log
	echo "not ok 1 - start the controllers with TLS"; echo "1..1"; exit 1
fi

t_run "controller-ca = the CA that signed the controller's certificate: accepted (address and name)" t_good_ca
t_run "controller-ca in sluiced.conf: accepted" t_good_ca_config
t_run "controller-ca = an unrelated CA: refused, host offline, the reason logged once" t_wrong_ca
t_run "no controller-ca (the system's CAs): refused" t_system_cas
t_run "a certificate of the right CA for another name: refused" t_wrong_name
t_run "controller-insecure accepts any certificate (with a warning); ws:// to TLS fails" t_insecure
t_run "controller-ca/-insecure that would be ignored, a missing CA file, a bad value: exit 2" t_config_errors
t_done
