/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sluiced.h - state shared by the files of the host daemon.
 */
#ifndef SLUICED_H
#define SLUICED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <json-c/json.h>

#include <sluice/hostagent.h>
#include <sluice/net.h>

#include <sluice/version.h>

struct sl_dataplane;

struct daemon {
	struct sl_dataplane *dp; /* normal-mode links of every topology */
	char rundir[256];
	char socket_path[300];
	struct sl_net **nets;
	size_t n_nets;
	time_t started;
	bool stop;
	struct sl_hostagent *agent; /* NULL: standalone */
	unsigned dp_threads;        /* of d->dp, for the hello's capacity */
};

/* A reply channel for one request: progress lines go out as they happen. */
struct reply {
	int fd;
	bool failed; /* the client went away */
};

/* api.c: runs one request, writes progress and the final line. */
void api_handle(struct daemon *d, struct reply *r, const char *line,
		size_t len);
/* Writes one JSON object as a line. */
void reply_send(struct reply *r, json_object *o);

/* recovery.c */
void recover_topologies(struct daemon *d);
int daemon_add_net(struct daemon *d, struct sl_net *n);
void daemon_remove_net(struct daemon *d, struct sl_net *n);
struct sl_net *daemon_find_net(struct daemon *d, const char *name);

/* agent.c: the controller's commands (through the host agent). */
void agent_command(struct daemon *d, json_object *cmd);
void agent_sync_topologies(struct daemon *d);
/* Sends an event {kind, topology?, a?, b?, message, data?} to the
 * controller (data is taken; NULL: none); nothing when standalone. */
void agent_event(struct daemon *d, const char *kind, const char *topo,
		 const char *a, const char *b, json_object *data,
		 const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* agent_rows.c: the controller's flow and relay rows on this host. */
int agent_flow_add(struct daemon *d, json_object *cmd, json_object **res,
		   struct sl_err *err);
int agent_flow_del(struct daemon *d, json_object *cmd, json_object **res,
		   struct sl_err *err);
int agent_relay_add(struct daemon *d, json_object *cmd, json_object **res,
		    struct sl_err *err);
int agent_relay_del(struct daemon *d, json_object *cmd, json_object **res,
		    struct sl_err *err);

/* agent_report.c: what the host tells the controller about itself. */
void agent_collect_metrics(struct daemon *d);
/* For the hello: ["max-mode", ..., "cell:rate", ...] and {cpus, ...}. */
json_object *agent_capabilities(struct daemon *d);
json_object *agent_capacity(struct daemon *d);

/* relays.c: TCP relay chains on nodes (sluice-relay processes). */
/* ctl_id, ctl_version: the controller's relay row it carries (kept
 * across restarts of sluiced), or -1, 0 for a relay of the local API. */
int relay_add(struct daemon *d, struct sl_net *n, const char *from,
	      const char *to, const char *via, bool socks5, const char *mode,
	      int64_t ctl_id, int64_t ctl_version, json_object **res,
	      struct sl_err *err);
int relay_del(struct daemon *d, unsigned id, struct sl_err *err);
json_object *relay_list(struct daemon *d, const char *topo);
/* The local relay that carries the controller's relay ctl_id. */
int relay_find_ctl(int64_t ctl_id, unsigned *id, int64_t *version);
/* Where sluice-relay is (beside sluiced, in tools/, else "sluice-relay"
 * on PATH). */
void relay_binary(char *out, size_t len);
void relays_stop_topology(struct daemon *d, const char *topo);
/* Reaps hops that ended: on SIGCHLD, and when relays_fd() is readable. */
void relays_reap(struct daemon *d);
/* relays_adopt.c: after a restart, takes back the chains of re-adopted
 * topology n whose processes are still the ones started for them, and
 * stops every other relay process journaled for n. */
void relays_adopt(struct daemon *d, struct sl_net *n);
/* Readable when a hop started by an earlier sluiced ends (an epoll fd of
 * their pidfds); -1 if it cannot be made. */
int relays_fd(void);

/* server.c */
int server_run(struct daemon *d, int ready_fd);

#endif
