// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * db.c - the controller's PostgreSQL connection (service thread) and the
 * schema migrations.
 *
 * The connection is made lazily and remade after a failure, at most once a
 * second, so a database restart costs the controller the queries issued
 * while it was down (callers see NULL and answer "internal") and nothing
 * else. Queries run synchronously: on the loopback or a LAN they take well
 * under a millisecond, which is cheaper than an asynchronous state machine.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/log.h>

#include "controller.h"

struct db {
	char *conninfo;
	PGconn *conn;
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

bool db_ready(struct db *db)
{
	uint64_t now = now_ms();

	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return true;
	if (db->conn) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	if (db->last_try_ms && now - db->last_try_ms < 1000)
		return false;
	db->last_try_ms = now;
	db->conn = PQconnectdb(db->conninfo);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		pr_warn("database: cannot connect: %s",
			strtok(PQerrorMessage(db->conn), "\n"));
		PQfinish(db->conn);
		db->conn = NULL;
		return false;
	}
	PQsetNoticeProcessor(db->conn, notice_quiet, NULL);
	if (db->was_up)
		pr_info("database: reconnected");
	db->was_up = true;
	return true;
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

	if (!db_ready(db))
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
