// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * db_listen.c - LISTEN on the change channel in a thread of its own.
 *
 * The thread owns one connection, sleeps in poll() on its socket and hands
 * every NOTIFY payload to a callback (which queues it for the service
 * thread). When the connection is lost it reconnects with a capped backoff
 * and reports the gap with an empty payload, so the controller resends what
 * changed meanwhile (a NOTIFY sent while nobody listened is gone).
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

struct db_listener {
	pthread_t thread;
	char *conninfo;
	db_notify_fn *fn;
	void *arg;
	int stop_pipe[2];
	volatile bool stop;
};

static PGconn *listen_connect(struct db_listener *l)
{
	PGconn *c = PQconnectdb(l->conninfo);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	r = PQexec(c, "LISTEN " NOTIFY_CHANNEL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
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

	while (!l->stop) {
		struct pollfd p[2];
		PGnotify *n;

		if (!c) {
			c = listen_connect(l);
			if (!c) {
				if (nap(l, backoff))
					break;
				backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
				continue;
			}
			backoff = 100;
			pr_info("database listener: listening on %s", NOTIFY_CHANNEL);
			if (lost)
				l->fn("", l->arg);
			lost = false;
		}
		p[0].fd = PQsocket(c);
		p[0].events = POLLIN;
		p[1].fd = l->stop_pipe[0];
		p[1].events = POLLIN;
		if (poll(p, 2, 10000) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
			pr_warn("database listener: connection lost; reconnecting");
			PQfinish(c);
			c = NULL;
			lost = true;
			continue;
		}
		while ((n = PQnotifies(c))) {
			l->fn(n->extra ? n->extra : "", l->arg);
			PQfreemem(n);
		}
	}
	if (c)
		PQfinish(c);
	return NULL;
}

struct db_listener *db_listener_start(const char *conninfo, db_notify_fn *fn,
				      void *arg)
{
	struct db_listener *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->conninfo = strdup(conninfo);
	l->fn = fn;
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
