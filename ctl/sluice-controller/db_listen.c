// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * db_listen.c - LISTEN on the change channel in a thread of its own.
 *
 * The thread owns one connection, sleeps in poll() on its socket and hands
 * every NOTIFY payload to a callback (which queues it for the service
 * thread). A NOTIFY sent while nobody listened is gone, so the thread also
 * knows since when it may have missed some: every PROBE_MS it asks the
 * database for its clock, and when the connection is lost it reconnects
 * (asynchronously, with connect_timeout and a capped backoff, never
 * blocking its stop) and reports "resync from the last time the old
 * connection answered, less RESYNC_MARGIN_S": the controller then resends
 * whatever changed from then on. The times are the database's, the clock
 * that stamps the rows; the margin covers a transaction that began before
 * that moment (its rows carry its start time) and committed after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/log.h>

#include "controller.h"

#define PROBE_MS 2000
#define RESYNC_MARGIN_S 10.0

struct db_listener {
	pthread_t thread;
	char *conninfo;
	db_notify_fn *fn;
	db_resync_fn *resync;
	void *arg;
	int stop_pipe[2];
	volatile bool stop;
};

/* The database's clock (Unix seconds), or a negative number. */
static double db_clock(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT extract(epoch FROM clock_timestamp())");
	double t = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		t = strtod(PQgetvalue(r, 0, 0), NULL);
	PQclear(r);
	return t;
}

static PGconn *listen_connect(struct db_listener *l, double *clock)
{
	PGconn *c = db_connect_start(l->conninfo, "sluice-controller-listener");
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	uint64_t start = now_ms(), timeout;
	PGresult *r;

	if (!c)
		return NULL;
	timeout = db_connect_timeout_ms(c);
	while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK) {
		struct pollfd p[2] = {
			{ .fd = PQsocket(c), .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT },
			{ .fd = l->stop_pipe[0], .events = POLLIN },
		};
		uint64_t spent = now_ms() - start;

		if (p[0].fd < 0)
			break;
		if (spent >= timeout) {
			pr_warn("database listener: no answer within %llu ms (connect_timeout)",
				(unsigned long long)timeout);
			PQfinish(c);
			return NULL;
		}
		if (poll(p, 2, (int)(timeout - spent)) < 0 && errno != EINTR)
			break;
		if (p[1].revents || l->stop) {
			PQfinish(c);
			return NULL;
		}
		if (p[0].revents)
			st = PQconnectPoll(c);
		if (st == PGRES_POLLING_FAILED)
			break;
	}
	if (st != PGRES_POLLING_OK) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
		msg[strcspn(msg, "\n")] = '\0';
		pr_debug("database listener: cannot connect: %s", msg);
		PQfinish(c);
		return NULL;
	}
	r = PQexec(c, "LISTEN " NOTIFY_CHANNEL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK || (*clock = db_clock(c)) < 0) {
		pr_warn("database listener: LISTEN failed: %s",
			strtok(PQerrorMessage(c), "\n"));
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	PQclear(r);
	return c;
}

/* Sleeps ms or until stop; returns true to stop. */
static bool nap(struct db_listener *l, int ms)
{
	struct pollfd p = { .fd = l->stop_pipe[0], .events = POLLIN };

	return poll(&p, 1, ms) > 0 || l->stop;
}

static void *listen_thread(void *arg)
{
	struct db_listener *l = arg;
	PGconn *c = NULL;
	int backoff = 100;
	bool lost = false;
	double last_ok = 0, since = 0; /* database clock */
	uint64_t probe_at = 0;

	while (!l->stop) {
		struct pollfd p[2];
		PGnotify *n;
		uint64_t now;
		int wait;

		if (!c) {
			c = listen_connect(l, &last_ok);
			if (!c) {
				if (nap(l, backoff))
					break;
				backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
				continue;
			}
			backoff = 100;
			probe_at = now_ms() + PROBE_MS;
			pr_info("database listener: listening on %s", NOTIFY_CHANNEL);
			if (lost)
				l->resync(since, l->arg);
			lost = false;
		}
		now = now_ms();
		wait = probe_at > now ? (int)(probe_at - now) : 0;
		p[0].fd = PQsocket(c);
		p[0].events = POLLIN;
		p[1].fd = l->stop_pipe[0];
		p[1].events = POLLIN;
		if (poll(p, 2, wait) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK)
			goto lost;
		if (now_ms() >= probe_at) {
			double t = db_clock(c);

			if (t < 0)
				goto lost;
			last_ok = t;
			probe_at = now_ms() + PROBE_MS;
		}
		while ((n = PQnotifies(c))) {
			l->fn(n->extra ? n->extra : "", l->arg);
			PQfreemem(n);
		}
		continue;
lost:
		/* Notifications read before the loss are still delivered. */
		while ((n = PQnotifies(c))) {
			l->fn(n->extra ? n->extra : "", l->arg);
			PQfreemem(n);
		}
		if (!lost)
			since = last_ok - RESYNC_MARGIN_S;
		pr_warn("database listener: connection lost; reconnecting (changes from %.3f on will be resent)",
			since);
		PQfinish(c);
		c = NULL;
		lost = true;
		/* The first try at once; a restarting server gets the backoff. */
	}
	if (c)
		PQfinish(c);
	return NULL;
}

struct db_listener *db_listener_start(const char *conninfo, db_notify_fn *fn,
				      db_resync_fn *resync, void *arg)
{
	struct db_listener *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->conninfo = strdup(conninfo);
	l->fn = fn;
	l->resync = resync;
	l->arg = arg;
	if (!l->conninfo || pipe2(l->stop_pipe, O_CLOEXEC)) {
		free(l->conninfo);
		free(l);
		return NULL;
	}
	if (pthread_create(&l->thread, NULL, listen_thread, l)) {
		close(l->stop_pipe[0]);
		close(l->stop_pipe[1]);
		free(l->conninfo);
		free(l);
		return NULL;
	}
	return l;
}

void db_listener_stop(struct db_listener *l)
{
	if (!l)
		return;
	l->stop = true;
	if (write(l->stop_pipe[1], "x", 1) != 1)
		pr_warn("database listener: cannot wake the thread");
	pthread_join(l->thread, NULL);
	close(l->stop_pipe[0]);
	close(l->stop_pipe[1]);
	free(l->conninfo);
	free(l);
}
