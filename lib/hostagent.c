// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hostagent.c - the host side of the controller protocol
 * (include/sluice/hostagent.h): a libwebsockets client in its own thread.
 * This file holds what the daemon's thread calls (start and stop, the
 * command queue, replies, events, the metrics buffer); the agent thread
 * (the connection, its timers, what goes over it) is lib/hostagent_conn.c,
 * and what both share is in lib/hostagent_int.h.
 *
 * Threads: the agent thread owns the lws context and the connection; the
 * daemon's thread calls the public functions, which only touch the queues
 * under the lock and wake the agent with lws_cancel_service(). Commands go
 * the other way through a queue and an eventfd. The eventfd is written and
 * drained only under the lock, so "readable" always means "queue not
 * empty" and no wake-up is lost.
 *
 * Metrics reports are kept, in seq order, until the controller's
 * metrics_ack for that seq: after a reconnect the welcome's last_seq drops
 * what the controller already has and the rest is sent again in order; a
 * report sent but not acknowledged within RETX_MS on a live connection
 * (the controller could not store it) is sent again too. last_seq is the
 * end of the controller's gapless run (1..last_seq all stored), not its
 * highest seq, so a report refused during a database outage and not yet
 * stored again survives a controller restart.
 *
 * The buffer is bounded (buffer_max bytes): when it is full the oldest
 * reports go, which leaves a gap the controller cannot fill. Such drops
 * are logged once per episode and reported to the controller as one
 * "metrics_dropped" event with their count and seq range, so a gap in
 * the metrics table always has an explanation next to it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <libwebsockets.h>

#include <sluice/hostagent.h>
#include <sluice/log.h>
#include <sluice/proto.h>

#include "hostagent_int.h"

double sl_hostagent_unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sl_hostagent_queue_push(struct queue *q, json_object *o)
{
	struct qitem *it = malloc(sizeof(*it));

	if (!it) {
		json_object_put(o);
		return;
	}
	it->next = NULL;
	it->o = o;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
}

json_object *sl_hostagent_queue_pop(struct queue *q)
{
	struct qitem *it = q->head;
	json_object *o;

	if (!it)
		return NULL;
	q->head = it->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	o = it->o;
	free(it);
	return o;
}

static void q_clear(struct queue *q)
{
	json_object *o;

	while ((o = sl_hostagent_queue_pop(q)))
		json_object_put(o);
}

static void wake(struct sl_hostagent *a)
{
	if (a->ctx)
		lws_cancel_service(a->ctx);
}

static int parse_url(struct sl_hostagent *a, const char *url,
		     struct sl_err *err)
{
	const char *p, *host, *colon, *slash;
	size_t hl;

	if (!strncmp(url, "ws://", 5)) {
		p = url + 5;
		a->tls = false;
		a->port = 80;
	} else if (!strncmp(url, "wss://", 6)) {
		p = url + 6;
		a->tls = true;
		a->port = 443;
	} else {
		return sl_err_set(err, EINVAL, "controller URL \"%s\": expected ws://HOST[:PORT][/PATH] or wss://...",
				  url);
	}
	host = p;
	slash = strchr(p, '/');
	colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
	hl = colon ? (size_t)(colon - host) : slash ? (size_t)(slash - host) : strlen(host);
	if (!hl || hl >= sizeof(a->addr))
		return sl_err_set(err, EINVAL, "controller URL \"%s\": expected a host name", url);
	memcpy(a->addr, host, hl);
	a->addr[hl] = '\0';
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (port < 1 || port > 65535 || (*end && *end != '/'))
			return sl_err_set(err, EINVAL, "controller URL \"%s\": expected a port 1-65535",
					  url);
		a->port = (int)port;
	}
	snprintf(a->path, sizeof(a->path), "%s", slash ? slash : SL_PROTO_PATH);
	return 0;
}

static void agent_free(struct sl_hostagent *a)
{
	struct report *r, *n;

	if (!a)
		return;
	q_clear(&a->cmds);
	q_clear(&a->out);
	for (r = a->reports; r; r = n) {
		n = r->next;
		free(r);
	}
	json_object_put(a->capabilities);
	json_object_put(a->capacity);
	json_object_put(a->topologies);
	if (a->efd >= 0)
		close(a->efd);
	free(a->url);
	free(a->host_id);
	free(a->token);
	free(a->version);
	free(a->ca_file);
	free(a->rx);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static void lws_log_quiet(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == '\n')
		n--;
	pr_debug("lws: %.*s", (int)n, line);
}

struct sl_hostagent *sl_hostagent_start(const struct sl_hostagent_conf *conf,
					struct sl_err *err)
{
	struct lws_context_creation_info info;
	struct sl_hostagent *a;
	struct timespec ts;

	if (!conf->url || !conf->host_id || !conf->token) {
		sl_err_set(err, EINVAL, "host agent: expected a controller URL, a host id and a token");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		sl_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	a->efd = -1;
	pthread_mutex_init(&a->lock, NULL);
	if (parse_url(a, conf->url, err))
		goto fail;
	a->url = strdup(conf->url);
	a->host_id = strdup(conf->host_id);
	a->token = strdup(conf->token);
	a->version = strdup(conf->version ? conf->version : "unknown");
	a->ca_file = conf->ca_file ? strdup(conf->ca_file) : NULL;
	a->capabilities = conf->capabilities ? json_tokener_parse(
		json_object_to_json_string(conf->capabilities)) : json_object_new_array();
	a->capacity = conf->capacity ? json_tokener_parse(
		json_object_to_json_string(conf->capacity)) : json_object_new_object();
	a->insecure = conf->insecure;
	a->metrics_ms = conf->metrics_interval_ms ? conf->metrics_interval_ms : 1000;
	a->heartbeat_ms = conf->heartbeat_ms ? conf->heartbeat_ms : 5000;
	a->backoff_min = conf->backoff_min_ms ? conf->backoff_min_ms : 100;
	a->backoff_max = conf->backoff_max_ms ? conf->backoff_max_ms : 10000;
	a->backoff = a->backoff_min;
	a->buffer_max = conf->buffer_max_bytes ? conf->buffer_max_bytes : 64u << 20;
	clock_gettime(CLOCK_REALTIME, &ts);
	a->boot = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	a->st.boot = (uint64_t)a->boot;
	a->st.next_seq = 1;
	srand((unsigned)(ts.tv_nsec ^ getpid()));
	if (!a->url || !a->host_id || !a->token || !a->version ||
	    (conf->ca_file && !a->ca_file) || !a->capabilities || !a->capacity) {
		sl_err_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0) {
		sl_err_set(err, errno, "host agent: eventfd: %s", strerror(errno));
		goto fail;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_quiet);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = sl_hostagent_protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = a;
	if (a->tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = a->ca_file;
	}
	a->ctx = lws_create_context(&info);
	if (!a->ctx) {
		sl_err_set(err, EIO, "host agent: cannot create the WebSocket client");
		goto fail;
	}
	if (pthread_create(&a->thread, NULL, sl_hostagent_thread, a)) {
		sl_err_set(err, EAGAIN, "host agent: cannot start its thread");
		lws_context_destroy(a->ctx);
		goto fail;
	}
	return a;
fail:
	agent_free(a);
	return NULL;
}

void sl_hostagent_stop(struct sl_hostagent *a)
{
	if (!a)
		return;
	a->stop = true;
	lws_cancel_service(a->ctx);
	pthread_join(a->thread, NULL);
	agent_free(a);
}

int sl_hostagent_fd(const struct sl_hostagent *a)
{
	return a->efd;
}

int sl_hostagent_next(struct sl_hostagent *a, json_object **cmd)
{
	uint64_t v;

	pthread_mutex_lock(&a->lock);
	*cmd = sl_hostagent_queue_pop(&a->cmds);
	if (!a->cmds.head && read(a->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("host agent: eventfd read: %s", strerror(errno));
	pthread_mutex_unlock(&a->lock);
	return *cmd ? 1 : 0;
}

static void out_push(struct sl_hostagent *a, json_object *o)
{
	pthread_mutex_lock(&a->lock);
	if (a->out.n >= EVENTS_MAX) {
		pthread_mutex_unlock(&a->lock);
		pr_warn("host agent: %d messages wait for the controller; dropping one",
			EVENTS_MAX);
		json_object_put(o);
		return;
	}
	sl_hostagent_queue_push(&a->out, o);
	pthread_mutex_unlock(&a->lock);
	wake(a);
}

void sl_hostagent_reply(struct sl_hostagent *a, int64_t id,
			json_object *result)
{
	json_object *o = sl_proto_new(SL_MSG_ACK);

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	out_push(a, o);
}

void sl_hostagent_reply_error(struct sl_hostagent *a, int64_t id,
			      const char *code, const char *message)
{
	json_object *o = sl_proto_new(SL_MSG_ACK);

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "code", json_object_new_string(code && *code ? code : "internal"));
	json_object_object_add(o, "error", json_object_new_string(
		message && *message ? message : "failed"));
	out_push(a, o);
}

int64_t sl_hostagent_push_metrics(struct sl_hostagent *a, json_object *report)
{
	int64_t first_drop = 0;
	struct report *r;
	const char *t;
	size_t len;
	int64_t seq;

	if (!report || !json_object_is_type(report, json_type_object)) {
		json_object_put(report);
		return -EINVAL;
	}
	if (!json_object_object_get_ex(report, "links", NULL))
		json_object_object_add(report, "links", json_object_new_array());
	json_object_object_add(report, "v", json_object_new_int(SL_PROTO_VERSION));
	json_object_object_add(report, "type", json_object_new_string("metrics"));
	json_object_object_add(report, "boot", json_object_new_int64(a->boot));
	json_object_object_add(report, "ts", json_object_new_double(sl_hostagent_unix_now()));
	pthread_mutex_lock(&a->lock);
	seq = (int64_t)a->st.next_seq++;
	json_object_object_add(report, "seq", json_object_new_int64(seq));
	/* The id names the report in the controller's error, if any. */
	json_object_object_add(report, "id", json_object_new_int64(seq));
	t = sl_proto_text(report, &len);
	r = malloc(sizeof(*r) + len);
	if (!r) {
		pthread_mutex_unlock(&a->lock);
		json_object_put(report);
		return -ENOMEM;
	}
	r->next = NULL;
	r->seq = seq;
	r->sent_ms = 0;
	r->len = len;
	memcpy(r->text, t, len);
	json_object_put(report);
	if (a->reports_tail)
		a->reports_tail->next = r;
	else
		a->reports = r;
	a->reports_tail = r;
	a->report_bytes += len;
	a->st.buffered++;
	/* Full: the oldest reports go (and are counted), never the newest. */
	while (a->report_bytes > a->buffer_max && a->reports != r) {
		struct report *old = a->reports;

		a->reports = old->next;
		a->report_bytes -= old->len;
		a->st.buffered--;
		a->st.dropped++;
		if (!a->drop_pending++) {
			a->drop_first = old->seq;
			first_drop = old->seq;
		}
		a->drop_last = old->seq;
		free(old);
	}
	pthread_mutex_unlock(&a->lock);
	/* Once per episode here; the count goes to the controller (and the
	 * log) as an event when it is connected. */
	if (first_drop)
		pr_warn("host agent: metrics buffer full (%zu bytes): dropping the oldest reports from seq %lld on",
			a->buffer_max, (long long)first_drop);
	wake(a);
	return seq;
}

void sl_hostagent_push_event(struct sl_hostagent *a, json_object *event)
{
	json_object *o;

	if (!event || !json_object_is_type(event, json_type_object)) {
		json_object_put(event);
		return;
	}
	o = event;
	json_object_object_add(o, "v", json_object_new_int(SL_PROTO_VERSION));
	json_object_object_add(o, "type", json_object_new_string("event"));
	if (!json_object_object_get_ex(o, "ts", NULL))
		json_object_object_add(o, "ts", json_object_new_double(sl_hostagent_unix_now()));
	out_push(a, o);
}

void sl_hostagent_set_topologies(struct sl_hostagent *a, json_object *names)
{
	json_object *copy = names ? json_tokener_parse(json_object_to_json_string(names)) : NULL;

	pthread_mutex_lock(&a->lock);
	json_object_put(a->topologies);
	a->topologies = copy;
	pthread_mutex_unlock(&a->lock);
}

void sl_hostagent_get_stats(struct sl_hostagent *a,
			    struct sl_hostagent_stats *st)
{
	pthread_mutex_lock(&a->lock);
	*st = a->st;
	pthread_mutex_unlock(&a->lock);
}
