/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostagent_int.h - struct sl_hostagent and what the host agent's two
 * files share inside libsluice: lib/hostagent.c (what the daemon's thread
 * calls) and lib/hostagent_conn.c (the agent thread). Not a public header;
 * the API is include/sluice/hostagent.h.
 */
#ifndef SLUICE_HOSTAGENT_INT_H
#define SLUICE_HOSTAGENT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include <sluice/hostagent.h>

#define EVENTS_MAX 1000

struct report {
	struct report *next;
	int64_t seq;
	uint64_t sent_ms; /* 0: not sent on this connection */
	size_t len;
	char text[];
};

struct qitem {
	struct qitem *next;
	json_object *o;
};

struct queue {
	struct qitem *head, *tail;
	size_t n;
};

struct sl_hostagent {
	/* Configuration (read-only after start). */
	char *url, *host_id, *token, *version, *ca_file;
	char addr[256], path[256];
	int port;
	bool tls, insecure;
	json_object *capabilities, *capacity;
	unsigned backoff_min, backoff_max;
	size_t buffer_max;
	int64_t boot;

	pthread_t thread;
	int efd;
	struct lws_context *ctx;
	volatile bool stop;

	/* Under lock. */
	pthread_mutex_t lock;
	struct queue cmds;   /* controller -> daemon */
	struct queue out;    /* daemon -> controller: acks, events */
	struct report *reports, *reports_tail;
	size_t report_bytes;
	json_object *topologies;
	struct sl_hostagent_stats st;
	unsigned metrics_ms, heartbeat_ms;
	/* Reports dropped (buffer full) and not yet told to the controller. */
	uint64_t drop_pending;
	int64_t drop_first, drop_last;

	/* Agent thread only. */
	struct lws *wsi;
	bool hello_sent, welcomed;
	unsigned backoff;
	char *rx;
	size_t rx_len, rx_cap;
	bool rx_discard;
	/* Why the last attempt failed (logged once, not on every retry), and
	 * why TLS refused the controller's certificate, if it did. */
	char last_error[640], cert_error[160];
	lws_sorted_usec_list_t sul_connect, sul_heartbeat, sul_collect, sul_retx;
};

/* lib/hostagent.c */
/* Appends o to q (which owns it then; dropped when out of memory). */
void sl_hostagent_queue_push(struct queue *q, json_object *o);
/* Takes the oldest item of q, or NULL. */
json_object *sl_hostagent_queue_pop(struct queue *q);
/* CLOCK_REALTIME in seconds: the "ts" of messages. */
double sl_hostagent_unix_now(void);

/* lib/hostagent_conn.c */
/* The protocols of the lws context, and the agent thread's body. */
extern const struct lws_protocols sl_hostagent_protocols[];
void *sl_hostagent_thread(void *arg);

#endif
