// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * db.c - the controller's PostgreSQL connection (service thread) and the
 * schema migrations.
 *
 * The connection is made lazily and remade after a failure, at most once a
 * second, so a database restart costs the controller the queries issued
 * while it was down (callers see NULL and answer "internal") and nothing
 * else. Connecting is asynchronous (PQconnectStartParams/PQconnectPoll,
 * advanced a step by every db_ready() without waiting), because it runs in
 * the libwebsockets service thread: a database that does not answer (a
 * blackholed address, a server that accepts and says nothing) must not
 * stall every session for the length of a TCP timeout; it gets
 * connect_timeout (from the connection string, else 10 s) and then a new
 * try. Queries run synchronously: on the loopback or a LAN they take well
 * under a millisecond, which is cheaper than an asynchronous state machine;
 * tcp_user_timeout bounds the stall of one whose server vanished.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/log.h>

#include "controller.h"

#define CONNECT_TIMEOUT_MS 10000

struct db {
	char *conninfo;
	PGconn *conn;
	bool connecting;                  /* conn is not ready yet */
	PostgresPollingStatusType poll;   /* what PQconnectPoll waits for */
	uint64_t connect_start_ms, connect_timeout_ms;
	uint64_t last_try_ms;
	bool was_up;
};

struct db *db_new(const char *conninfo)
{
	struct db *db = calloc(1, sizeof(*db));

	if (!db)
		return NULL;
	db->conninfo = strdup(conninfo);
	if (!db->conninfo) {
		free(db);
		return NULL;
	}
	return db;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

static void notice_quiet(void *arg, const char *msg)
{
	pr_debug("database: %s", msg);
}

PGconn *db_connect_start(const char *conninfo, const char *app)
{
	/* Defaults first: the connection string (dbname, expanded) comes
	 * last and overrides any of them. */
	static const char *const keys[] = { "application_name", "tcp_user_timeout",
					    "dbname", NULL };
	const char *vals[] = { app, "10000", conninfo, NULL };

	return PQconnectStartParams(keys, vals, 1);
}

uint64_t db_connect_timeout_ms(PGconn *conn)
{
	PQconninfoOption *o = PQconninfo(conn), *i;
	uint64_t ms = CONNECT_TIMEOUT_MS;

	for (i = o; i && i->keyword; i++) {
		if (!strcmp(i->keyword, "connect_timeout") && i->val && atoi(i->val) > 0)
			ms = (uint64_t)atoi(i->val) * 1000;
	}
	PQconninfoFree(o);
	return ms;
}

static void connect_failed(struct db *db, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", why && *why ? why : "connection failed");
	msg[strcspn(msg, "\n")] = '\0';
	pr_warn("database: cannot connect: %s", msg);
	PQfinish(db->conn);
	db->conn = NULL;
	db->connecting = false;
}

/* Advances the connection; waits up to wait_ms for the socket (0: never
 * blocks). True once connected. */
static bool connect_step(struct db *db, int wait_ms)
{
	uint64_t end = now_ms() + (uint64_t)(wait_ms > 0 ? wait_ms : 0);

	while (db->connecting) {
		struct pollfd p = { .fd = PQsocket(db->conn) };
		uint64_t now = now_ms();
		int n, left = now < end ? (int)(end - now) : 0;

		if (now - db->connect_start_ms > db->connect_timeout_ms) {
			char msg[64];

			snprintf(msg, sizeof(msg), "no answer within %llu ms (connect_timeout)",
				 (unsigned long long)db->connect_timeout_ms);
			connect_failed(db, msg);
			return false;
		}
		if (p.fd < 0) {
			connect_failed(db, PQerrorMessage(db->conn));
			return false;
		}
		p.events = db->poll == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		n = poll(&p, 1, left > 100 ? 100 : left);
		if (n < 0 && errno != EINTR) {
			connect_failed(db, strerror(errno));
			return false;
		}
		if (n <= 0) {
			if (now_ms() >= end)
				return false;
			continue;
		}
		db->poll = PQconnectPoll(db->conn);
		if (db->poll == PGRES_POLLING_FAILED) {
			connect_failed(db, PQerrorMessage(db->conn));
			return false;
		}
		if (db->poll == PGRES_POLLING_OK) {
			db->connecting = false;
			PQsetNoticeProcessor(db->conn, notice_quiet, NULL);
			if (db->was_up)
				pr_info("database: reconnected");
			db->was_up = true;
		}
	}
	return db->conn != NULL;
}

bool db_ready_within(struct db *db, int wait_ms)
{
	uint64_t now = now_ms();

	if (db->conn && !db->connecting && PQstatus(db->conn) == CONNECTION_OK)
		return true;
	if (db->conn && !db->connecting) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	if (!db->conn) {
		if (db->last_try_ms && now - db->last_try_ms < 1000)
			return false;
		db->last_try_ms = now;
		db->conn = db_connect_start(db->conninfo, "sluice-controller");
		if (!db->conn) {
			pr_warn("database: cannot connect: out of memory");
			return false;
		}
		db->connecting = true;
		db->poll = PGRES_POLLING_WRITING;
		db->connect_start_ms = now;
		db->connect_timeout_ms = db_connect_timeout_ms(db->conn);
		if (PQstatus(db->conn) == CONNECTION_BAD) {
			connect_failed(db, PQerrorMessage(db->conn));
			return false;
		}
	}
	return connect_step(db, wait_ms);
}

bool db_ready(struct db *db)
{
	return db_ready_within(db, 0);
}

bool db_wait(struct db *db, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t now = now_ms();

		if (db_ready_within(db, now < end ? (int)(end - now) : 0))
			return true;
		if (now_ms() >= end)
			return false;
		if (!db->conn) {
			/* Refused at once: the next try in a second. */
			struct pollfd none = { .fd = -1 };

			poll(&none, 0, 100);
		}
	}
}

PGresult *db_query(struct db *db, const char *sql, int n,
		   const char *const *params)
{
	PGresult *r;
	ExecStatusType st;

	if (!db_ready(db))
		return NULL;
	r = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	pr_warn("database: %s", strtok(PQerrorMessage(db->conn), "\n"));
	PQclear(r);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		pr_warn("database: connection lost; reconnecting");
		PQfinish(db->conn);
		db->conn = NULL;
		db->last_try_ms = 0;
	}
	return NULL;
}

static bool exec_ok(struct db *db, const char *sql, struct sl_err *err,
		    const char *what)
{
	PGresult *r = PQexec(db->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		sl_err_set(err, EIO, "%s: %s", what,
			   strtok(PQerrorMessage(db->conn), "\n"));
	PQclear(r);
	return ok;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

int db_migrate(struct db *db, const char *dir, struct sl_err *err)
{
	char **names = NULL, path[600], ver[16];
	size_t n = 0, cap = 0, i;
	struct dirent *e;
	int ret = 0, applied = 0;
	DIR *d;

	if (!db_wait(db, 15000))
		return sl_err_set(err, EIO, "database: cannot connect");
	d = opendir(dir);
	if (!d)
		return sl_err_set(err, errno, "migrations %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l < 8 || strcmp(e->d_name + l - 4, ".sql") ||
		    e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!v) {
				ret = sl_err_set(err, ENOMEM, "out of memory");
				goto out;
			}
			names = v;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			ret = sl_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (!n) {
		ret = sl_err_set(err, ENOENT, "migrations %s: no NNN_name.sql files", dir);
		goto out;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	/* The version is the number; two files of one number would make the
	 * second look applied. */
	for (i = 1; i < n; i++) {
		if (strtol(names[i - 1], NULL, 10) == strtol(names[i], NULL, 10)) {
			ret = sl_err_set(err, EINVAL, "migrations %s: %s and %s have the same version %ld; expected one file per number",
					 dir, names[i - 1], names[i], strtol(names[i], NULL, 10));
			goto out;
		}
	}
	/* One controller migrates at a time; the others wait here. */
	if (!exec_ok(db, "SELECT pg_advisory_lock(7700)", err, "migration lock") ||
	    !exec_ok(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 " version integer PRIMARY KEY, name text NOT NULL,"
			 " applied_at timestamptz NOT NULL DEFAULT now())",
		     err, "schema_migrations")) {
		ret = -EIO;
		goto unlock;
	}
	for (i = 0; i < n; i++) {
		const char *p[2];
		PGresult *r;
		char *sql;
		bool have;

		snprintf(ver, sizeof(ver), "%ld", strtol(names[i], NULL, 10));
		p[0] = ver;
		p[1] = names[i];
		r = PQexecParams(db->conn, "SELECT 1 FROM schema_migrations WHERE version = $1",
				 1, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			ret = sl_err_set(err, EIO, "schema_migrations: %s",
					 strtok(PQerrorMessage(db->conn), "\n"));
			PQclear(r);
			goto unlock;
		}
		have = PQntuples(r) > 0;
		PQclear(r);
		if (have)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		sql = read_file(path);
		if (!sql) {
			ret = sl_err_set(err, EIO, "%s: %s", path, strerror(errno));
			goto unlock;
		}
		if (!exec_ok(db, "BEGIN", err, names[i]) ||
		    !exec_ok(db, sql, err, names[i])) {
			free(sql);
			exec_ok(db, "ROLLBACK", NULL, "rollback");
			ret = -EIO;
			goto unlock;
		}
		free(sql);
		r = PQexecParams(db->conn, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
				 2, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			ret = sl_err_set(err, EIO, "%s: %s", names[i],
					 strtok(PQerrorMessage(db->conn), "\n"));
			PQclear(r);
			exec_ok(db, "ROLLBACK", NULL, "rollback");
			goto unlock;
		}
		PQclear(r);
		if (!exec_ok(db, "COMMIT", err, names[i])) {
			ret = -EIO;
			goto unlock;
		}
		pr_info("database: applied migration %s", names[i]);
		applied++;
	}
	if (!applied)
		pr_info("database: schema is current (%zu migrations)", n);
unlock:
	exec_ok(db, "SELECT pg_advisory_unlock(7700)", NULL, "unlock");
out:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}
