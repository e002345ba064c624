/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostagent.h - the host side of the controller protocol: a WebSocket
 * client in a thread of its own inside sluiced (or any program).
 *
 * The agent connects to the controller, says hello with the host's id and
 * token, reconnects with exponential backoff whenever the connection or
 * the controller goes away, sends heartbeats, and carries metrics reports
 * with sequence numbers. A report stays in the agent's buffer until the
 * controller acknowledges that it stored it, so reports made while the
 * controller is unreachable are replayed, in order, after reconnecting.
 *
 * The daemon sees the agent as one file descriptor (an eventfd) in its
 * event loop. When it is readable, sl_hostagent_next() hands out the
 * controller's commands one by one as JSON objects, exactly as received
 * (docs/protocol.md): "apply", "link_policy", "flow_add", "flow_del",
 * "relay_add", "relay_del", "teardown". Each carries an "id" that the
 * daemon answers with sl_hostagent_reply() or sl_hostagent_reply_error().
 * Every metrics interval the agent also queues {"type": "collect_metrics"}
 * (no id, no answer) for the daemon to answer with
 * sl_hostagent_push_metrics(), so the counters are read in the daemon's
 * thread, where the topology lives.
 *
 * All functions except _start and _stop may be called from any thread.
 */
#ifndef SLUICE_HOSTAGENT_H
#define SLUICE_HOSTAGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include <sluice/err.h>

struct sl_hostagent;

struct sl_hostagent_conf {
	const char *url;      /* ws://HOST:PORT/ws or wss://HOST:PORT/ws */
	const char *host_id;  /* this host's name at the controller */
	const char *token;    /* its token */
	const char *version;  /* sent in hello */
	const char *ca_file;  /* wss: CA bundle; NULL: the system's */
	bool insecure;        /* wss: accept any certificate (tests only) */
	json_object *capabilities; /* array, copied; NULL: [] */
	json_object *capacity;     /* object, copied; NULL: {} */
	unsigned metrics_interval_ms; /* 0: 1000 (the welcome may change it) */
	unsigned heartbeat_ms;        /* 0: 5000 (idem) */
	unsigned backoff_min_ms;      /* 0: 100 */
	unsigned backoff_max_ms;      /* 0: 10000 */
	/* Unacknowledged reports; 0: 64 MiB. When full the oldest go: they
	 * are counted (stats.dropped), logged and told to the controller as a
	 * "metrics_dropped" event {dropped, first_seq, last_seq}. */
	size_t buffer_max_bytes;
};

struct sl_hostagent_stats {
	bool connected;     /* welcomed by the controller */
	uint64_t connects;  /* successful hellos so far */
	uint64_t boot;      /* this agent's boot id (metrics key) */
	uint64_t next_seq;  /* seq of the next report */
	uint64_t buffered;  /* reports not acknowledged yet */
	uint64_t acked;     /* reports the controller stored */
	uint64_t dropped;   /* reports dropped because the buffer was full */
	uint64_t commands;  /* commands received */
};

/* Starts the agent thread; it connects in the background. */
struct sl_hostagent *sl_hostagent_start(const struct sl_hostagent_conf *conf,
					struct sl_err *err);
/* Stops the thread, closes the connection, frees; NULL is fine. */
void sl_hostagent_stop(struct sl_hostagent *a);
/* Readable (EPOLLIN) while commands are waiting. */
int sl_hostagent_fd(const struct sl_hostagent *a);
/* 1 and *cmd (the caller json_object_put()s it), or 0 when none is left. */
int sl_hostagent_next(struct sl_hostagent *a, json_object **cmd);
/* Acknowledges command id: done, with an optional result (taken). */
void sl_hostagent_reply(struct sl_hostagent *a, int64_t id,
			json_object *result);
/* Acknowledges command id: failed, with an error code and message. */
void sl_hostagent_reply_error(struct sl_hostagent *a, int64_t id,
			      const char *code, const char *message);
/* Queues a metrics report {"links": [...], "cells": [...]} (taken); the
 * agent adds "boot", "seq" and "ts" (now). Returns the seq, or -errno. */
int64_t sl_hostagent_push_metrics(struct sl_hostagent *a, json_object *report);
/* Sends an event {"kind", "topology"?, "a"?, "b"?, "message"?, "data"?}
 * (taken); kept (up to 1000) while disconnected. */
void sl_hostagent_push_event(struct sl_hostagent *a, json_object *event);
/* The names of the topologies up on this host (array, copied), sent in
 * the next hello so the controller can re-apply what is missing. */
void sl_hostagent_set_topologies(struct sl_hostagent *a, json_object *names);
void sl_hostagent_get_stats(struct sl_hostagent *a,
			    struct sl_hostagent_stats *st);

#endif
