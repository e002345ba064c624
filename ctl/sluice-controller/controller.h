/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller.h - state shared by the files of sluice-controller.
 *
 * Threads: everything runs in the libwebsockets service thread except the
 * database listener (db_listen.c), which only receives NOTIFY payloads and
 * hands them over through a locked queue plus lws_cancel_service(). So the
 * sessions, the link table and the main database connection need no locks.
 */
#ifndef SLUICE_CONTROLLER_H
#define SLUICE_CONTROLLER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <libwebsockets.h>
#include <libpq-fe.h>
#include <json-c/json.h>

#include <sluice/err.h>
#include <sluice/proto.h>

#define CONTROLLER_VERSION "0.1.0"
#define CONTROLLER_PORT_DEFAULT 7700
#define CONTROLLER_CONFIG_DEFAULT "/etc/sluice/controller.conf"
/* make sets SL_DATADIR to $(PREFIX)/share/sluice, where install puts them. */
#ifndef SL_DATADIR
#define SL_DATADIR "/usr/local/share/sluice"
#endif
#define CONTROLLER_MIGRATIONS_DEFAULT SL_DATADIR "/migrations"
#define CONTROLLER_WEB_DEFAULT SL_DATADIR "/web"
#define NOTIFY_CHANNEL "sluice_changes"

struct ctl_conf {
	char listen[128];
	int port;
	char cert[256];
	char key[256];
	char db[1024];
	char migrations[256];
	char web_root[256];
	int metrics_interval_ms; /* told to hosts in the welcome */
	int heartbeat_ms;
	int host_timeout_ms;     /* a host silent this long is dropped */
	int rate_limit;          /* messages per second per connection */
	bool metrics_public;     /* /metrics without a token */
	int log_level;
	char log_file[256];
};

/* db.c: the service thread's connection; reconnects by itself. */
struct db;
struct db *db_new(const char *conninfo);
void db_free(struct db *db);
/* Connected? Never blocks: a connection is started at most once a second
 * and advanced a step per call (asynchronous connect, connect_timeout). */
bool db_ready(struct db *db);
/* The same, letting a connect in progress take up to wait_ms more (the
 * service thread's tick: a nearby server's handshake is done in one). */
bool db_ready_within(struct db *db, int wait_ms);
/* Waits up to timeout_ms, tries included (start-up, CLI subcommands). */
bool db_wait(struct db *db, int timeout_ms);
/* A non-blocking connection with the controller's defaults
 * (application_name app, tcp_user_timeout) under those of conninfo. */
PGconn *db_connect_start(const char *conninfo, const char *app);
/* connect_timeout of a connection (ms), or the default of 10 s. */
uint64_t db_connect_timeout_ms(PGconn *conn);
/* Runs a parameterised statement. NULL on failure (logged; a lost
 * connection is dropped and retried later); else the caller PQclear()s. */
PGresult *db_query(struct db *db, const char *sql, int n,
		   const char *const *params);
/* Runs db/migrations/NNN_*.sql not yet applied, in order, each in one
 * transaction, under an advisory lock. */
int db_migrate(struct db *db, const char *dir, struct sl_err *err);

/* db_listen.c: LISTEN in a thread of its own. */
struct db_listener;
typedef void db_notify_fn(const char *payload, void *arg);
/* After the listener reconnected: changes from since (Unix seconds, the
 * database's clock) on may have been missed. */
typedef void db_resync_fn(double since, void *arg);
/* Both run in the listener thread. */
struct db_listener *db_listener_start(const char *conninfo, db_notify_fn *fn,
				      db_resync_fn *resync, void *arg);
void db_listener_stop(struct db_listener *l);

/* auth.c */
/* Hex SHA-256 of a token (65 bytes with the NUL). */
void token_hash(const char *token, char out[65]);
/* A fresh random token, 43 characters of base64url (+ NUL). */
int token_new(char out[48]);
/* Constant-time comparison of two hex digests. */
bool hash_equal(const char *a, const char *b);

/* Roles of a connection. */
enum role { ROLE_NONE = 0, ROLE_HOST, ROLE_UI, ROLE_API };

struct outmsg {
	struct outmsg *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then the text */
};

/* One WebSocket connection (lws per-session data). */
struct session {
	struct session *next; /* in ctl.sessions */
	struct lws *wsi;
	enum role role;
	char name[SL_PROTO_NAME_MAX]; /* host id, or the token's name */
	char id[24];
	int64_t boot;
	/* Reassembly of a message across frames. */
	char *rx;
	size_t rx_len, rx_cap;
	bool rx_discard, rx_binary;
	size_t rx_total;
	/* UTF-8 check of a text message as it streams in (server.c):
	 * continuation bytes still due, and the range of the next one. */
	unsigned char u8_need, u8_lo, u8_hi;
	/* Outgoing queue. */
	struct outmsg *out_head, *out_tail;
	size_t out_bytes;
	bool close_after_write;
	bool close_now;
	/* Rate limit: a token bucket of messages. */
	double tokens;
	uint64_t tokens_at_ms;
	bool rate_warned;
	uint64_t last_rx_ms;
	uint64_t n_rx, n_err;
};

/* A link direction's latest counters, for rates, the UI and /metrics. */
struct link_stat {
	char topology[SL_PROTO_NAME_MAX];
	char a[SL_PROTO_NAME_MAX], b[SL_PROTO_NAME_MAX];
	char dir[8];
	char host[SL_PROTO_NAME_MAX];
	uint64_t packets, bytes, drops, qlen;
	double sojourn_us;
	double ts;       /* host's sample time */
	double bps, pps; /* rates over the last two samples */
};

/* A command sent to a host and not acknowledged yet. */
struct pending {
	struct pending *next;
	int64_t id;
	enum sl_msg_type type;
	char host[SL_PROTO_NAME_MAX];
	char topology[SL_PROTO_NAME_MAX];
	uint64_t sent_ms;
};

struct notify_item {
	struct notify_item *next;
	char payload[];
};

struct ctl {
	struct ctl_conf conf;
	struct lws_context *lws;
	struct db *db;
	struct db_listener *listener;
	struct session *sessions;
	struct link_stat *links;
	size_t n_links, cap_links;
	struct pending *pending;
	int64_t next_cmd_id;
	uint64_t n_sessions_total;
	/* NOTIFY hand-over from the listener thread. */
	pthread_mutex_t nlock;
	struct notify_item *nhead, *ntail;
	/* Database time from which changes may have been missed by the
	 * listener (resend them), or 0. */
	double resync_since;
	/* Counters for /metrics. */
	uint64_t msgs_rx[SL_MSG__COUNT];
	uint64_t errors[SL_PROTO_E__COUNT];
	uint64_t pushes, push_failures;
	bool stop;
	lws_sorted_usec_list_t tick;
};

extern struct ctl *g_ctl;

uint64_t now_ms(void);
double now_unix(void);

/* server.c */
int server_run(struct ctl *c);
/* Queues a message to a session (takes no ownership of o). */
void session_send(struct session *s, json_object *o);
void session_send_error(struct session *s, enum sl_proto_code code,
			int64_t ref, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct session *session_find_host(struct ctl *c, const char *host);

/* session.c: what arrives on a WebSocket, and pushes to the web UI. */
void session_on_message(struct ctl *c, struct session *s, const char *buf,
			size_t len);
void session_on_close(struct ctl *c, struct session *s);
void broadcast_snapshot(struct ctl *c);
json_object *snapshot_json(struct ctl *c);
void ctl_tick(struct ctl *c);

/* push.c: commands and database rows pushed to hosts. */
/* Sends a command (the caller built type-specific fields; id is added) to
 * a host; returns the command id or -1 when the host is not connected. */
int64_t host_command(struct ctl *c, const char *host, enum sl_msg_type t,
		     json_object *o, const char *topology);
/* A NOTIFY payload from the listener. */
void handle_notify(struct ctl *c, const char *payload);
/* Resends policies and flows changed (and flows deleted) since `since`;
 * -EIO when the database is not available (try again later). */
int handle_resync(struct ctl *c, double since);
/* After a host's hello: what it should have and does not (have: the
 * topologies it reports), and every row of its links and topologies. */
void resync_host(struct ctl *c, struct session *s, json_object *have,
		 double away_since);

/* http.c: the REST API, /metrics and the web UI's files. */
int http_callback(struct lws *wsi, enum lws_callback_reasons reason,
		  void *user, void *in, size_t len);
size_t http_pss_size(void);

/* topo_ops.c: topologies through the controller. */
/* Places and applies a topology; fills *status (HTTP) and returns a reply
 * object. */
/* A REST error answer {"ok": false, "code": ecode, "error": text}; sets
 * *status to the HTTP status code. Shared by the routes and their ops. */
json_object *rest_error(int *status, int code, const char *ecode,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
json_object *rest_verror(const char *ecode, const char *fmt, va_list ap);

json_object *topo_create(struct ctl *c, json_object *body, int *status);
json_object *topo_delete(struct ctl *c, const char *name, int *status);
void topo_on_ack(struct ctl *c, const struct pending *p, bool ok,
		 const char *error);

/* relay_ops.c: relay rows through the controller. */
/* Pushes relay row id (relay_add, or relay_del when disabled or deleted)
 * to the host carrying its node (only only_host when not NULL). */
void push_relay(struct ctl *c, const char *id, bool deleted,
		const char *only_host);
/* Every enabled relay of host's live topologies, again (after a hello). */
void rows_resync_host(struct ctl *c, const char *host);
/* POST /api/relays and DELETE /api/relays/ID: reply objects, *status. */
json_object *relay_create(struct ctl *c, json_object *body, int *status);
json_object *relay_delete(struct ctl *c, const char *id, int *status);

/* hostsim.c: a simulated host for tests and load (sluice-controller hostsim). */
int hostsim_main(int argc, char **argv);
/* call.c: one REST request through lib/ctl_client.c. */
int call_main(int argc, char **argv);

#endif
