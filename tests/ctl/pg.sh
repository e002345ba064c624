# SPDX-License-Identifier: GPL-2.0-or-later
# A private PostgreSQL for the controller tests: initdb in a temporary
# directory as an unprivileged user, listening on a Unix socket in that
# directory and on 127.0.0.1 at a free port. Sourced by tests/ctl/*.sh.
#   pg_start         sets PG_DIR, PG_PORT, PG_CONNINFO, PGHOST, PGPORT...
#   pg_stop / pg_restart_db
#   psqlq "SQL"      runs SQL, prints unaligned tuples only

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_USER=${PG_USER:-nobody}

pg_as() { setpriv --reuid="$PG_USER" --regid="$(id -g "$PG_USER")" --clear-groups -- "$@"; }

pg_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_start() {
	if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
		echo "PostgreSQL server binaries not found (apt-get install postgresql)"
		return 77
	fi
	PG_DIR=$(mktemp -d /tmp/sluice-pg.XXXXXX)
	chmod 755 "$PG_DIR"
	mkdir "$PG_DIR/data"
	chown "$PG_USER" "$PG_DIR" "$PG_DIR/data"
	PG_PORT=$(pg_free_port)
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U sluice --auth=trust \
		-E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log"; return 1; }
	cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
CONF
	pg_db_up || return 1
	export PGHOST=$PG_DIR PGPORT=$PG_PORT PGUSER=sluice PGDATABASE=sluice
	PG_CONNINFO="host=$PG_DIR port=$PG_PORT user=sluice dbname=sluice"
	"$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U sluice sluice || return 1
}

pg_db_up() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
		start >/dev/null || { cat "$PG_DIR/server.log"; return 1; }
}

pg_db_down() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	pg_db_down
	rm -rf "$PG_DIR"
	PG_DIR=""
}

psqlq() { psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
