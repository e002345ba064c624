# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the controller tests: a private PostgreSQL (pg.sh), the
# controller on a free loopback port, simulated hosts. Sourced after
# tests/lib.sh. Everything lives under $CTL_DIR and is stopped by ctl_cleanup.
. "$(dirname "${BASH_SOURCE[0]}")/pg.sh"

CONTROLLER=$B/sluice-controller
PY=/usr/bin/python3
CTL_DIR=$(mktemp -d /tmp/sluice-ctl.XXXXXX)
ART=${SLUICE_ARTIFACTS:-$B/test-artifacts}

ctl_args() {
	CTL_ARGS=(-c /dev/null -d "$PG_CONNINFO" --migrations "$TOP/db/migrations"
		--web-root "${CTL_WEB:-$B/web}")
}

# Database, schema, one host h1 and tokens; sets HOST_TOKEN, API_TOKEN,
# UI_TOKEN, CTL_PORT. With CTL_DB_ROLE set, the controller connects as that
# role, an ordinary one that owns the database (not the superuser the
# tests' psql uses), so that a test can limit its connections.
ctl_setup() {
	[ -x "$CONTROLLER" ] || { echo "build/sluice-controller is not built"; return 1; }
	pg_start || return $?
	if [ -n "${CTL_DB_ROLE:-}" ]; then
		psqlq "CREATE ROLE $CTL_DB_ROLE LOGIN" &&
		psqlq "ALTER DATABASE sluice OWNER TO $CTL_DB_ROLE" || return 1
		PG_CONNINFO="host=$PG_DIR port=$PG_PORT user=$CTL_DB_ROLE dbname=sluice"
	fi
	ctl_args
	"$CONTROLLER" "${CTL_ARGS[@]}" migrate >"$CTL_DIR/migrate.log" 2>&1 || {
		cat "$CTL_DIR/migrate.log"; return 1; }
	HOST_TOKEN=$("$CONTROLLER" "${CTL_ARGS[@]}" add-host h1 2>/dev/null)
	HOST2_TOKEN=$("$CONTROLLER" "${CTL_ARGS[@]}" add-host h2 2>/dev/null)
	API_TOKEN=$("$CONTROLLER" "${CTL_ARGS[@]}" add-token cli api 2>/dev/null)
	UI_TOKEN=$("$CONTROLLER" "${CTL_ARGS[@]}" add-token browser ui 2>/dev/null)
	CTL_PORT=$(pg_free_port)
	[ -n "$HOST_TOKEN" ] && [ -n "$API_TOKEN" ] && [ -n "$UI_TOKEN" ]
}

# Starts the controller; extra arguments are passed on.
ctl_start() {
	"$CONTROLLER" "${CTL_ARGS[@]}" -l 127.0.0.1 -p "$CTL_PORT" "$@" \
		>>"$CTL_DIR/controller.log" 2>&1 &
	CTL_PID=$!
	echo "$CTL_PID" >"$CTL_DIR/ctl.pid"
	local i
	for i in $(seq 100); do
		curl -sf "http://127.0.0.1:$CTL_PORT/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$CTL_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "controller did not start"; tail -20 "$CTL_DIR/controller.log"; return 1
}

# PIDs live in files: tests run in subshells (t_run) and may restart it.
ctl_stop() { # [signal]
	local pid
	pid=$(cat "$CTL_DIR/ctl.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	kill -"${1:-TERM}" "$pid" 2>/dev/null
	# Not always our child (started in a subshell): poll for the exit.
	wait "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
	rm -f "$CTL_DIR/ctl.pid"
}

# sim_start OUT [args...]: a simulated host h1 (token HOST_TOKEN).
sim_start() {
	local out=$1; shift
	sim_start_as h1 "$HOST_TOKEN" "$out" "$@"
}

# sim_start_as HOST TOKEN OUT [args...]: a simulated host of another name
# (at SIM_URL, default this controller); its pid in SIM_PID.
sim_start_as() {
	local host=$1 token=$2 out=$3; shift 3
	"$CONTROLLER" hostsim --url "${SIM_URL:-ws://127.0.0.1:$CTL_PORT/ws}" --host "$host" \
		--token "$token" "$@" >"$out" 2>>"$out.log" &
	SIM_PID=$!
	echo "$SIM_PID" >>"$CTL_DIR/sims"
}

# sim_stop PID: stops one simulated host.
sim_stop() {
	kill -TERM "$1" 2>/dev/null
	kill -CONT "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	while kill -0 "$1" 2>/dev/null; do sleep 0.02; done
}

sim_stop_all() {
	local p
	for p in $(cat "$CTL_DIR/sims" 2>/dev/null); do
		kill -TERM "$p" 2>/dev/null
		kill -CONT "$p" 2>/dev/null # a test may have stopped it
		wait "$p" 2>/dev/null
		while kill -0 "$p" 2>/dev/null; do sleep 0.02; done
	done
	rm -f "$CTL_DIR/sims"
}

# wait_for SECONDS COMMAND...: polls every 50 ms.
wait_for() {
	local end=$((SECONDS + $1)); shift
	while [ $SECONDS -le $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

api() { # METHOD PATH [BODY]
	curl -s -X "$1" -H "Authorization: Bearer $API_TOKEN" \
		${3:+--data-binary "$3"} "http://127.0.0.1:$CTL_PORT$2"
}

ctl_cleanup() {
	sim_stop_all
	ctl_stop
	pg_stop
	mkdir -p "$ART"
	cp "$CTL_DIR"/*.log "$ART/" 2>/dev/null
	rm -rf "$CTL_DIR"
}
