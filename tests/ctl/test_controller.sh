#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sluice-controller against a real PostgreSQL started here (initdb in a
# temporary directory, as user nobody), real WebSocket connections (a
# stdlib Python client and the real host agent in `hostsim`), real
# psycopg2 scripts. See docs/controller.md.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
cd "$TOP" || exit 1

URL() { echo "http://127.0.0.1:$CTL_PORT$1"; }
SIM_OUT=""

# A Python snippet with the WebSocket client and the tokens at hand.
pyws() {
	PYTHONPATH=$TOP/tests/ctl PORT=$CTL_PORT HOST_TOKEN=$HOST_TOKEN \
	HOST2_TOKEN=$HOST2_TOKEN API_TOKEN=$API_TOKEN UI_TOKEN=$UI_TOKEN \
		"$PY" -c "import os, sys, time, json
from wsclient import WS, Closed, hello
P = int(os.environ['PORT'])
$1"
}

# --- schema and authentication ------------------------------------------

t_migrations() {
	local out n want
	# Every file in db/migrations, applied once, by its number.
	n=$(ls db/migrations/[0-9]*_*.sql | wc -l)
	want=$(ls db/migrations/[0-9]*_*.sql | sed 's|.*/0*\([0-9]*\)_.*|\1|' | sort -n | paste -sd,)
	out=$("$CONTROLLER" "${CTL_ARGS[@]}" migrate 2>&1) || { echo "$out"; return 1; }
	echo "$out" | grep -q "schema is current ($n migrations)" || { echo "$out"; return 1; }
	[ "$(psqlq "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")" = "$want" ] ||
		{ echo "applied: $(psqlq "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations"), files: $want"; return 1; }
	[ "$(psqlq "SELECT count(*) FROM information_schema.tables WHERE table_name IN
		('hosts','topologies','nodes','links','policies','flows','metrics','events')")" = 8 ]
}

t_tokens_hashed() {
	local sha t dump
	sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
	# Each stored hash is the SHA-256 of its token, for hosts and for API
	# and UI tokens alike...
	[ "$(psqlq "SELECT token_hash FROM hosts WHERE id = 'h1'")" = "$(sha "$HOST_TOKEN")" ] ||
		{ echo "hosts.token_hash of h1 is not sha256(token)"; return 1; }
	[ "$(psqlq "SELECT token_hash FROM hosts WHERE id = 'h2'")" = "$(sha "$HOST2_TOKEN")" ] || return 1
	[ "$(psqlq "SELECT token_hash FROM api_tokens WHERE name = 'cli' AND role = 'api'")" = "$(sha "$API_TOKEN")" ] ||
		{ echo "api_tokens.token_hash of cli is not sha256(token)"; return 1; }
	[ "$(psqlq "SELECT token_hash FROM api_tokens WHERE name = 'browser' AND role = 'ui'")" = "$(sha "$UI_TOKEN")" ] ||
		{ echo "api_tokens.token_hash of browser is not sha256(token)"; return 1; }
	# ...and no token itself is anywhere in the database.
	dump=$CTL_DIR/dump.sql
	"$PG_BIN/pg_dump" -h "$PG_DIR" -p "$PG_PORT" -U sluice sluice >"$dump" || return 1
	for t in "$HOST_TOKEN" "$HOST2_TOKEN" "$API_TOKEN" "$UI_TOKEN"; do
		! grep -qF -- "$t" "$dump" || { echo "a token is stored in clear"; return 1; }
	done
	echo "4 tokens: stored as their SHA-256 only ($(wc -l <"$dump") lines of dump checked)"
}

t_hello_good() {
	pyws "
ws = WS('127.0.0.1', P)
w = hello(ws, 'host', os.environ['HOST2_TOKEN'], host='h2')
assert w['type'] == 'welcome' and w['host'] == 'h2' and w['role'] == 'host', w
assert w['metrics_interval_ms'] == 200 and w['last_seq'] == 0, w
ws.close()" && [ "$(psqlq "SELECT state FROM hosts WHERE id='h2'")" != "" ]
}

t_hello_bad_token() {
	pyws "
ws = WS('127.0.0.1', P)
e = hello(ws, 'host', 'not-the-token', host='h2')
assert e['type'] == 'error' and e['code'] == 'auth', e
try:
    ws.send_json({'v': 1, 'type': 'heartbeat'})
    m = ws.recv_json(3)
    raise SystemExit('still talking after a refused hello: %r' % m)
except (Closed, ConnectionError, OSError):
    pass"
}

t_hello_missing_token() {
	pyws "
ws = WS('127.0.0.1', P)
ws.send_json({'v': 1, 'type': 'hello', 'role': 'host', 'host': 'h2', 'version': 'x', 'boot': 1})
e = ws.recv_json()
assert e['type'] == 'error' and e['code'] == 'bad_field' and 'token' in e['error'], e
ws.send_json({'v': 1, 'type': 'metrics', 'boot': 1, 'seq': 1, 'ts': 1, 'links': []})
e = ws.recv_json()
assert e['type'] == 'error' and e['code'] == 'state', e
ws.close()"
}

t_hello_unknown_host() {
	pyws "
ws = WS('127.0.0.1', P)
e = hello(ws, 'host', os.environ['HOST2_TOKEN'], host='intruder')
assert e['type'] == 'error' and e['code'] == 'auth', e"
}

t_hello_clients() {
	pyws "
def try_(role, tok):
    ws = WS('127.0.0.1', P)
    m = hello(ws, role, tok)
    ws.close()
    return m
m = try_('ui', os.environ['UI_TOKEN'])
assert m['type'] == 'welcome' and m['role'] == 'ui', m
m = try_('api', os.environ['API_TOKEN'])
assert m['type'] == 'welcome' and m['role'] == 'api', m
m = try_('ui', os.environ['API_TOKEN'])   # an api token may watch
assert m['type'] == 'welcome', m
m = try_('api', os.environ['UI_TOKEN'])   # a ui token may not steer
assert m['type'] == 'error' and m['code'] == 'auth', m
m = try_('ui', os.environ['HOST_TOKEN'])  # a host token is no client token
assert m['type'] == 'error' and m['code'] == 'auth', m"
}

t_rest_auth() {
	local c
	c=$(curl -s -o /dev/null -w '%{http_code}' "$(URL /api/hosts)")
	[ "$c" = 401 ] || { echo "no token: $c"; return 1; }
	c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope" "$(URL /api/hosts)")
	[ "$c" = 401 ] || { echo "wrong token: $c"; return 1; }
	c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $HOST_TOKEN" "$(URL /metrics)")
	[ "$c" = 401 ] || { echo "host token on /metrics: $c"; return 1; }
	c=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $UI_TOKEN" \
		--data '{}' "$(URL /api/policy)")
	[ "$c" = 403 ] || { echo "ui token writing: $c"; return 1; }
	api GET /api/hosts | grep -q '"id":"h1"'
}

# Hostile REST requests: each gets its status and a JSON error naming the
# problem, and the server serves the next request.
t_rest_hostile() {
	local c body f=$CTL_DIR/rest.out big=$CTL_DIR/big.json
	rest() { # EXPECTED_STATUS EXPECTED_CODE METHOD PATH [curl args...]
		local want=$1 code=$2 m=$3 p=$4; shift 4
		c=$(curl -s -o "$f" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $API_TOKEN" \
			"$@" "$(URL "$p")")
		body=$(cat "$f")
		[ "$c" = "$want" ] || { echo "$m $p: status $c, expected $want: $body"; return 1; }
		echo "$body" | grep -q "\"ok\":false,\"code\":\"$code\"" ||
			{ echo "$m $p: body $body; expected code $code"; return 1; }
		curl -sf "$(URL /healthz)" >/dev/null || { echo "not serving after $m $p"; return 1; }
		echo "$m $p -> $c $code"
	}
	rest 400 bad_json PUT /api/policy --data-binary '{"topology": "demo", ' || return 1
	rest 400 bad_json PUT /api/policy --data-binary 'not json at all' || return 1
	rest 400 bad_json PUT /api/policy --data-binary '[1, 2]' || return 1
	rest 400 bad_json POST /api/topologies --data-binary '' || return 1
	rest 400 bad_json POST /api/topologies --data-binary '{"a": 1} trailing' || return 1
	rest 400 bad_field PUT /api/policy --data-binary '{"topology": "demo"}' || return 1
	rest 400 bad_field PUT /api/policy --data-binary '{"topology": "demo", "a": "h1", "b": "r1", "policy": 5}' || return 1
	rest 400 invalid PUT /api/policy --data-binary '{"topology": "demo", "a": "h1", "b": "nope", "policy": {}}' || return 1
	rest 404 notfound GET /api/nothing || return 1
	rest 405 method PATCH /api/policy --data-binary '{}' || return 1
	rest 400 bad_field GET '/api/series?topology=demo' || return 1
	# A body over 4 MiB: 413, and the server is not holding it.
	head -c $((5 << 20)) /dev/zero | tr '\0' 'x' | sed 's/^/{"x":"/; s/$/"}/' >"$big"
	rest 413 too_large PUT /api/policy -H 'Content-Type: application/json' --data-binary "@$big" || return 1
	rest 413 too_large POST /api/topologies --data-binary "@$big" || return 1
}

# --- hostile messages: one test per case (tests/ctl/hostile.py) ----------

# The case passed, and the controller logged its own warning about the
# session the case attacked (hostile.out: status, name, session, text).
t_hostile_case() {
	local status sid text
	IFS=$'\t' read -r status _ sid text < <(awk -F'\t' -v n="$HCASE" '$2 == n' "$CTL_DIR/hostile.out")
	[ -n "$status" ] || { echo "case did not run"; return 1; }
	[ "$status" = ok ] || { echo "$text"; return 1; }
	[ -n "$sid" ] && [ "$sid" != "?" ] || { echo "no session id recorded"; return 1; }
	if [ "$text" = "-" ]; then
		# Served normally: no warning about that session.
		! grep -E "sluice-controller\[warning\]: session $sid[ :]" "$CTL_DIR/controller.log" ||
			{ echo "a warning about session $sid, which was served normally"; return 1; }
		echo "session $sid: served, no warning"
		return 0
	fi
	grep -E "sluice-controller\[warning\]: session $sid[ :]" "$CTL_DIR/controller.log" |
		grep -F -m1 -- "$text" ||
		{ echo "no warning about session $sid containing \"$text\""; return 1; }
}

t_hostile_count() {
	local n
	n=$(wc -l <"$CTL_DIR/hostile.out")
	echo "$n hostile cases"
	[ "$n" -ge 30 ]
}

# --- topologies, policies, flows -----------------------------------------

t_apply() {
	local r
	r=$(api POST /api/topologies "{\"topology\": $(cat examples/demo.json), \"host\": \"h1\"}")
	echo "$r"
	echo "$r" | grep -q '"state":"applying"' || return 1
	wait_for 5 grep -q ' apply ' "$SIM_OUT" || { echo "the host got no apply"; return 1; }
	wait_for 5 sh -c "psql -X -t -A -c \"SELECT state FROM topologies WHERE name='demo'\" | grep -qx up" ||
		{ psqlq "SELECT state, error FROM topologies"; return 1; }
	[ "$(psqlq "SELECT count(*) FROM links l JOIN topologies t ON t.id=l.topology_id WHERE t.name='demo'")" = 2 ] &&
	[ "$(psqlq "SELECT rate_up FROM links WHERE a='r1' AND b='h2'")" = 20000000 ] &&
	[ "$(psqlq "SELECT count(*) FROM nodes WHERE host_id='h1'")" = 3 ]
}

# tools/deps.sh installs python3-psycopg2: its absence is a failure.
need_psycopg2() {
	"$PY" -c 'import psycopg2' 2>/dev/null && return 0
	echo "python3-psycopg2 is not installed (tools/deps.sh installs it)"
	return 1
}

t_policy_latency() {
	need_psycopg2 || return $?
	"$PY" tests/ctl/policy_latency.py "$PG_CONNINFO" "$SIM_OUT" 30 200
}

t_policy_rest() {
	api PUT /api/policy '{"topology":"demo","a":"h2","b":"r1","dir":"down","policy":{"rate":"7mbit"}}' |
		grep -q '"ok":true' || return 1
	# h2 -> r1 "down" is r1 -> h2 "up" of the link as written in the file.
	wait_for 3 grep -q '"a":"r1","b":"h2","dir":"up","policy":{"rate":"7mbit"}' "$SIM_OUT"
}

t_flow() {
	psqlq "INSERT INTO flows (topology_id, src, dst, proto, dport, mode)
		SELECT id, 'h1', 'h2', 'tcp', 5201, 'max' FROM topologies WHERE name='demo'" || return 1
	wait_for 3 grep -q ' flow_add .*"dport":5201,"mode":"max"' "$SIM_OUT" || return 1
	psqlq "UPDATE flows SET enabled = false WHERE dport = 5201" &&
	wait_for 3 grep -q ' flow_del ' "$SIM_OUT"
}

t_example_rate_steps() {
	local before after
	need_psycopg2 || return $?
	before=$(grep -c ' link_policy ' "$SIM_OUT")
	"$PY" examples/scripts/rate_steps.py --dsn "$PG_CONNINFO" --topology demo --a r1 --b h2 \
		--rates 3mbit,4mbit,5mbit --interval 0.5 --seconds 2 || return 1
	sleep 0.3
	after=$(grep -c ' link_policy ' "$SIM_OUT")
	echo "$((after - before)) policy pushes"
	[ $((after - before)) -ge 4 ] && grep -q '"rate":"5mbit"' "$SIM_OUT"
}

t_example_closed_loop() {
	local out
	need_psycopg2 || return $?
	# The simulated host carries 1 Mbit/s on h1 -> r1: above 0.8 of 1.1 Mbit/s,
	# so the governor raises the rate.
	out=$("$PY" examples/scripts/closed_loop.py --dsn "$PG_CONNINFO" --topology demo \
		--a h1 --b r1 --start 1100000 --step 500000 --interval 0.5 --seconds 3) || return 1
	echo "$out"
	echo "$out" | grep -q "measured" || return 1
	! echo "$out" | grep -qx "0 changes" || return 1
	grep -q '"a":"h1","b":"r1","dir":"up","policy":{"rate":"1600000bit"}' "$SIM_OUT"
}

t_rest_client() {
	# lib/ctl_client.c, as sluicectl --controller uses it.
	local out
	out=$("$CONTROLLER" call --token "$API_TOKEN" "http://127.0.0.1:$CTL_PORT" GET /api/hosts) ||
		{ echo "$out"; return 1; }
	echo "$out" | grep -q '^200 {"hosts":\[{"id":"h1"' || { echo "$out"; return 1; }
	out=$("$CONTROLLER" call --token "$API_TOKEN" "http://127.0.0.1:$CTL_PORT" PUT /api/policy \
		'{"topology":"demo","a":"r1","b":"h2","dir":"up","policy":{"rate":"9mbit"}}') ||
		{ echo "$out"; return 1; }
	echo "$out" | grep -q '^200 {"ok":true' || return 1
	wait_for 3 grep -q '"policy":{"rate":"9mbit"}' "$SIM_OUT" || return 1
	out=$("$CONTROLLER" call --token "$API_TOKEN" "http://127.0.0.1:$CTL_PORT" POST /api/topologies \
		'{"topology":{"name":"bad","nodes":[{"name":"1x"}]}}')
	echo "$out"
	echo "$out" | grep -q '^400 {"ok":false,"code":"invalid"' || return 1
	out=$("$CONTROLLER" call --token wrong "http://127.0.0.1:$CTL_PORT" GET /api/hosts)
	echo "$out" | grep -q '^401 ' || return 1
	# Nothing listening: a clear error, exit status 1, no library noise.
	out=$("$CONTROLLER" call "http://127.0.0.1:1" GET /api/hosts 2>&1) && return 1
	echo "$out"
	[ "$out" = "sluice-controller call: http://127.0.0.1:1: Unable to connect" ]
}

# --- telemetry -----------------------------------------------------------

# No gap: per (host, boot) the reports stored are exactly min..max.
metrics_gapless() {
	local r
	r=$(psqlq "SELECT count(*) = max(seq) - min(seq) + 1 AND min(seq) = 1
		FROM metrics WHERE host_id = 'h1' GROUP BY boot")
	[ -n "$r" ] && ! echo "$r" | grep -q f
}

max_seq() { psqlq "SELECT coalesce(max(seq), 0) FROM metrics WHERE host_id = 'h1'"; }

t_prometheus() {
	local f=$CTL_DIR/metrics.txt
	curl -sf -H "Authorization: Bearer $API_TOKEN" "$(URL /metrics)" >"$f" || return 1
	grep -q '^sluice_link_bytes_total{topology="demo",a="h1",b="r1",dir="up",host="h1"} [0-9]' "$f" ||
		{ head -20 "$f"; return 1; }
	grep -q '^sluice_host_up{host="h1"} 1$' "$f" || return 1
	# Debian's prometheus package has promtool (tools/deps.sh installs it).
	command -v promtool >/dev/null || { echo "promtool missing (apt-get install prometheus)"; return 1; }
	promtool check metrics <"$f" || return 1
	echo "promtool check metrics: clean"
	"$PY" tests/ctl/promparse.py <"$f"
}

t_promparse_strict() {
	# The strict parser itself, on inputs made to break it.
	"$PY" tests/ctl/promparse_cases.py
}

t_controller_restart() {
	local before after
	wait_for 5 metrics_gapless || { echo "gaps before the restart"; return 1; }
	before=$(max_seq)
	ctl_stop KILL
	echo "controller killed at seq $before; the host buffers meanwhile"
	sleep 2
	ctl_start --metrics-interval 200 --heartbeat-interval 1000 --host-timeout 5000 || return 1
	wait_for 10 sh -c "[ \$(psql -X -t -A -c \"SELECT coalesce(max(seq),0) FROM metrics WHERE host_id='h1'\") -gt $((before + 12)) ]" ||
		{ echo "metrics did not resume: $(max_seq)"; return 1; }
	after=$(max_seq)
	echo "resumed: seq $before -> $after"
	[ "$(psqlq "SELECT state FROM hosts WHERE id='h1'")" = online ] || return 1
	[ "$(psqlq "SELECT count(*) FROM metrics WHERE host_id='h1' AND seq > $before
		AND received_at - ts > interval '1 second'")" -ge 3 ] ||
		{ echo "no replayed reports (received long after they were taken)"; return 1; }
	grep -q "connected to 127.0.0.1:$CTL_PORT as h1 (controller has reports up to" "$SIM_OUT.log" &&
	metrics_gapless
}

t_database_restart() {
	local before
	before=$(max_seq)
	pg_db_down
	echo "database stopped at seq $before"
	sleep 2
	pg_db_up || return 1
	wait_for 15 sh -c "[ \$(psql -X -t -A -c \"SELECT coalesce(max(seq),0) FROM metrics WHERE host_id='h1'\") -gt $((before + 12)) ]" ||
		{ echo "metrics did not resume: $(max_seq)"; tail -5 "$CTL_DIR/controller.log"; return 1; }
	grep -q "database: reconnected" "$CTL_DIR/controller.log" || return 1
	# Reports refused while the database was down come again within a
	# second or two, after newer ones: the gap closes, nothing is lost.
	wait_for 10 metrics_gapless || { echo "gap after the database restart"; return 1; }
	# The listener is back: a policy row still reaches the host.
	need_psycopg2 || return 1
	"$PY" tests/ctl/policy_latency.py "$PG_CONNINFO" "$SIM_OUT" 3 200
}

t_tls() {
	local port dir=$CTL_DIR/tls pid out=$CTL_DIR/tls-sim.out spid ok=1
	command -v openssl >/dev/null || { t_skip_why "openssl missing"; return 77; }
	mkdir -p "$dir"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || return 1
	port=$(pg_free_port)
	"$CONTROLLER" "${CTL_ARGS[@]}" -l 127.0.0.1 -p "$port" --tls-cert "$dir/cert.pem" \
		--tls-key "$dir/key.pem" >"$dir/controller.log" 2>&1 &
	pid=$!
	wait_for 5 curl -skf "https://127.0.0.1:$port/healthz" || ok=0
	if [ $ok = 1 ]; then
		"$CONTROLLER" hostsim --url "wss://127.0.0.1:$port/ws" --host h2 --token "$HOST2_TOKEN" \
			--insecure >"$out" 2>"$out.log" &
		spid=$!
		wait_for 5 grep -q "connected to 127.0.0.1:$port as h2" "$out.log" || ok=0
		kill "$spid"; wait "$spid" 2>/dev/null
		"$CONTROLLER" call --insecure --token "$API_TOKEN" "https://127.0.0.1:$port" GET /api/hosts |
			grep -q '^200 ' || { echo "REST over https failed"; ok=0; }
		# Plain HTTP on the TLS port is refused.
		curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && ok=0
	fi
	kill "$pid"; wait "$pid" 2>/dev/null
	[ $ok = 1 ] || { cat "$dir/controller.log" "$out.log" 2>/dev/null | tail -20; return 1; }
}

# --- run -----------------------------------------------------------------

if [ ! -x "$CONTROLLER" ]; then
	echo "ok 1 - controller tests # SKIP build/sluice-controller is not built"
	echo "1..1"
	exit 0
fi
if ! ctl_setup >"$CTL_DIR/setup.log" 2>&1; then
	sed 's/^/# /' "$CTL_DIR/setup.log"
	if [ -z "$PG_BIN" ]; then
		echo "ok 1 - controller tests # SKIP PostgreSQL is not installed"
		echo "1..1"; ctl_cleanup; exit 0
	fi
	echo "not ok 1 - set up PostgreSQL and the controller"; echo "1..1"
	ctl_cleanup; exit 1
fi
trap ctl_cleanup EXIT
ctl_start --metrics-interval 200 --heartbeat-interval 1000 --host-timeout 5000 ||
	{ echo "not ok 1 - controller start"; echo "1..1"; exit 1; }

t_run "migrations: versioned, idempotent, all tables" t_migrations
t_run "tokens are stored hashed" t_tokens_hashed
t_run "hello: a host with its token is welcomed" t_hello_good
t_run "hello: a wrong token is refused and the connection closed" t_hello_bad_token
t_run "hello: a missing token is refused" t_hello_missing_token
t_run "hello: an unknown host is refused" t_hello_unknown_host
t_run "hello: ui and api tokens by role" t_hello_clients
t_run "REST: 401 without or with a wrong token, 403 for a ui token writing" t_rest_auth
t_run "REST: bad JSON bodies, missing fields, oversize bodies (413), bad routes" t_rest_hostile

PYTHONPATH=tests/ctl "$PY" tests/ctl/hostile.py "$CTL_PORT" h2 "$HOST2_TOKEN" \
	"$CTL_DIR/hostile.out" 2>&1 | sed 's/^/# /'
while IFS=$'\t' read -r status name; do
	HCASE=$name
	t_run "hostile: $name -> defined outcome, its log line, server serving" t_hostile_case
done < <(cut -f1,2 "$CTL_DIR/hostile.out")
t_run "hostile: at least 30 cases ran" t_hostile_count

SIM_OUT=$CTL_DIR/sim.out
sim_start "$SIM_OUT" --metrics-interval 200 --heartbeat-interval 1000 --rate 125000
wait_for 5 grep -q "connected to" "$SIM_OUT.log"
t_run "apply a topology through the REST API" t_apply
t_run "policy row from a Python script: COMMIT -> host < 200 ms" t_policy_latency
t_run "policy through the REST API reaches the host" t_policy_rest
t_run "flow rows reach the host (add, disable)" t_flow
t_run "REST client library (sluicectl --controller): GET, PUT, errors" t_rest_client
t_run "examples/scripts/rate_steps.py changes the live link" t_example_rate_steps
t_run "examples/scripts/closed_loop.py reads metrics and reacts" t_example_closed_loop
t_run "strict Prometheus parser refuses bad inputs (values, repeats, order)" t_promparse_strict
t_run "Prometheus /metrics passes promtool and the strict parser" t_prometheus
t_run "controller killed and restarted: host reconnects, no metrics gap" t_controller_restart
t_run "database restarted: controller reconnects, no metrics gap" t_database_restart
t_run "TLS: wss and https with a certificate" t_tls
t_done
