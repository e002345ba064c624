// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hostagent.c - the host side of the controller protocol
 * (include/sluice/hostagent.h): a libwebsockets client in its own thread.
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
#include <openssl/x509.h>

#include <sluice/hostagent.h>
#include <sluice/log.h>
#include <sluice/proto.h>

#define RETX_MS 5000
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

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void q_push(struct queue *q, json_object *o)
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

static json_object *q_pop(struct queue *q)
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

	while ((o = q_pop(q)))
		json_object_put(o);
}

/* Caller holds the lock. */
static void cmd_push_locked(struct sl_hostagent *a, json_object *o)
{
	uint64_t one = 1;

	q_push(&a->cmds, o);
	if (write(a->efd, &one, sizeof(one)) != sizeof(one))
		pr_warn("host agent: cannot signal the daemon");
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

static void connect_cb(lws_sorted_usec_list_t *sul);

static void schedule_reconnect(struct sl_hostagent *a)
{
	unsigned d = a->backoff;

	if (a->stop)
		return;
	/* Up to a quarter of jitter, so that many hosts do not reconnect to
	 * a restarted controller in the same millisecond. */
	d += (unsigned)(rand() % (int)(d / 4 + 1));
	pr_debug("host agent: reconnecting in %u ms", d);
	lws_sul_schedule(a->ctx, 0, &a->sul_connect, connect_cb, (lws_usec_t)d * 1000);
	a->backoff = a->backoff * 2 > a->backoff_max ? a->backoff_max : a->backoff * 2;
}

static void connect_cb(lws_sorted_usec_list_t *sul)
{
	struct sl_hostagent *a = lws_container_of(sul, struct sl_hostagent, sul_connect);
	struct lws_client_connect_info i;

	if (a->stop || a->wsi)
		return;
	memset(&i, 0, sizeof(i));
	i.context = a->ctx;
	i.address = a->addr;
	i.port = a->port;
	i.path = a->path;
	i.host = a->addr;
	i.origin = a->addr;
	i.protocol = SL_PROTO_SUBPROTOCOL;
	i.local_protocol_name = "sluice-agent";
	if (a->tls) {
		i.ssl_connection = LCCSCF_USE_SSL;
		if (a->insecure)
			i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
					    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
					    LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
	}
	i.pwsi = &a->wsi;
	a->hello_sent = false;
	a->welcomed = false;
	if (!lws_client_connect_via_info(&i)) {
		a->wsi = NULL;
		schedule_reconnect(a);
	}
}

static void heartbeat_cb(lws_sorted_usec_list_t *sul)
{
	struct sl_hostagent *a = lws_container_of(sul, struct sl_hostagent, sul_heartbeat);
	json_object *o;
	unsigned ms;

	if (a->welcomed) {
		o = sl_proto_new(SL_MSG_HEARTBEAT);
		json_object_object_add(o, "ts", json_object_new_double(unix_now()));
		pthread_mutex_lock(&a->lock);
		q_push(&a->out, o);
		pthread_mutex_unlock(&a->lock);
		lws_callback_on_writable(a->wsi);
	}
	pthread_mutex_lock(&a->lock);
	ms = a->heartbeat_ms;
	pthread_mutex_unlock(&a->lock);
	lws_sul_schedule(a->ctx, 0, &a->sul_heartbeat, heartbeat_cb, (lws_usec_t)ms * 1000);
}

static void collect_cb(lws_sorted_usec_list_t *sul)
{
	struct sl_hostagent *a = lws_container_of(sul, struct sl_hostagent, sul_collect);
	json_object *o = json_object_new_object();
	unsigned ms;

	json_object_object_add(o, "type", json_object_new_string("collect_metrics"));
	pthread_mutex_lock(&a->lock);
	/* One pending collection is enough when the daemon is busy. */
	if (!a->cmds.tail || strcmp(json_object_get_string(
			json_object_object_get(a->cmds.tail->o, "type")), "collect_metrics"))
		cmd_push_locked(a, o);
	else
		json_object_put(o);
	ms = a->metrics_ms;
	pthread_mutex_unlock(&a->lock);
	lws_sul_schedule(a->ctx, 0, &a->sul_collect, collect_cb, (lws_usec_t)ms * 1000);
}

/* Tells the controller (one event, ahead of any report) and the log how
 * many reports were dropped since the last time. Agent thread. */
static bool report_drops(struct sl_hostagent *a)
{
	json_object *o, *data;
	uint64_t n, total;
	int64_t first, last;
	char msg[256];

	pthread_mutex_lock(&a->lock);
	n = a->drop_pending;
	first = a->drop_first;
	last = a->drop_last;
	total = a->st.dropped;
	if (!n || a->out.n >= EVENTS_MAX) {
		pthread_mutex_unlock(&a->lock);
		return false;
	}
	a->drop_pending = 0;
	snprintf(msg, sizeof(msg),
		 "%llu metrics reports (seq %lld to %lld) dropped: the buffer of %zu bytes was full",
		 (unsigned long long)n, (long long)first, (long long)last, a->buffer_max);
	o = sl_proto_new(SL_MSG_EVENT);
	json_object_object_add(o, "kind", json_object_new_string("metrics_dropped"));
	json_object_object_add(o, "ts", json_object_new_double(unix_now()));
	json_object_object_add(o, "message", json_object_new_string(msg));
	data = json_object_new_object();
	json_object_object_add(data, "dropped", json_object_new_int64((int64_t)n));
	json_object_object_add(data, "first_seq", json_object_new_int64(first));
	json_object_object_add(data, "last_seq", json_object_new_int64(last));
	json_object_object_add(data, "dropped_total", json_object_new_int64((int64_t)total));
	json_object_object_add(data, "boot", json_object_new_int64(a->boot));
	json_object_object_add(data, "buffer_bytes", json_object_new_int64((int64_t)a->buffer_max));
	json_object_object_add(o, "data", data);
	q_push(&a->out, o);
	pthread_mutex_unlock(&a->lock);
	pr_warn("host agent: %s", msg);
	return true;
}

static void retx_cb(lws_sorted_usec_list_t *sul)
{
	struct sl_hostagent *a = lws_container_of(sul, struct sl_hostagent, sul_retx);
	uint64_t now = mono_ms();
	struct report *r;
	bool any = false;

	pthread_mutex_lock(&a->lock);
	for (r = a->reports; r; r = r->next) {
		if (r->sent_ms && now - r->sent_ms > RETX_MS) {
			r->sent_ms = 0;
			any = true;
		}
	}
	pthread_mutex_unlock(&a->lock);
	if (a->welcomed && (report_drops(a) || any))
		lws_callback_on_writable(a->wsi);
	lws_sul_schedule(a->ctx, 0, &a->sul_retx, retx_cb, 1000 * 1000);
}

static json_object *hello_new(struct sl_hostagent *a)
{
	json_object *o = sl_proto_new(SL_MSG_HELLO);

	json_object_object_add(o, "role", json_object_new_string("host"));
	json_object_object_add(o, "token", json_object_new_string(a->token));
	json_object_object_add(o, "host", json_object_new_string(a->host_id));
	json_object_object_add(o, "version", json_object_new_string(a->version));
	json_object_object_add(o, "boot", json_object_new_int64(a->boot));
	json_object_object_add(o, "capabilities", json_object_get(a->capabilities));
	json_object_object_add(o, "capacity", json_object_get(a->capacity));
	pthread_mutex_lock(&a->lock);
	if (a->topologies)
		json_object_object_add(o, "topologies", json_object_get(a->topologies));
	pthread_mutex_unlock(&a->lock);
	return o;
}

static int write_text(struct lws *wsi, const char *text, size_t len)
{
	unsigned char *b = malloc(LWS_PRE + len);
	int n;

	if (!b)
		return -1;
	memcpy(b + LWS_PRE, text, len);
	n = lws_write(wsi, b + LWS_PRE, len, LWS_WRITE_TEXT);
	free(b);
	return n < (int)len ? -1 : 0;
}

static int on_writeable(struct sl_hostagent *a, struct lws *wsi)
{
	json_object *o = NULL;
	struct report *r;
	const char *t;
	size_t len;
	int ret;
	bool more;

	if (!a->hello_sent) {
		o = hello_new(a);
		t = sl_proto_text(o, &len);
		ret = write_text(wsi, t, len);
		json_object_put(o);
		a->hello_sent = true;
		return ret;
	}
	if (!a->welcomed)
		return 0;
	pthread_mutex_lock(&a->lock);
	o = q_pop(&a->out);
	if (!o) {
		for (r = a->reports; r && r->sent_ms; r = r->next)
			;
		if (r) {
			char *copy = malloc(r->len);

			r->sent_ms = mono_ms();
			if (copy)
				memcpy(copy, r->text, r->len);
			len = r->len;
			pthread_mutex_unlock(&a->lock);
			if (!copy)
				return -1;
			ret = write_text(wsi, copy, len);
			free(copy);
			lws_callback_on_writable(wsi);
			return ret;
		}
	}
	more = a->out.head != NULL;
	pthread_mutex_unlock(&a->lock);
	if (!o)
		return 0;
	t = sl_proto_text(o, &len);
	ret = write_text(wsi, t, len);
	json_object_put(o);
	if (more || a->reports)
		lws_callback_on_writable(wsi);
	return ret;
}

static void on_welcome(struct sl_hostagent *a, struct sl_msg *m)
{
	int64_t last = sl_msg_int(m, "last_seq", 0);
	int64_t mi = sl_msg_int(m, "metrics_interval_ms", 0);
	int64_t hb = sl_msg_int(m, "heartbeat_ms", 0);
	struct report *r;
	size_t dropped = 0;

	pthread_mutex_lock(&a->lock);
	while ((r = a->reports) && r->seq <= last) {
		a->reports = r->next;
		a->report_bytes -= r->len;
		a->st.acked++;
		free(r);
		dropped++;
	}
	if (!a->reports)
		a->reports_tail = NULL;
	for (r = a->reports; r; r = r->next)
		r->sent_ms = 0;
	if (mi >= 10)
		a->metrics_ms = (unsigned)mi;
	if (hb >= 100)
		a->heartbeat_ms = (unsigned)hb;
	a->st.connected = true;
	a->st.connects++;
	a->st.buffered -= dropped;
	pthread_mutex_unlock(&a->lock);
	a->welcomed = true;
	a->backoff = a->backoff_min;
	a->last_error[0] = '\0';
	pr_info("host agent: connected to %s:%d as %s (controller has reports up to %lld; %llu to send)",
		a->addr, a->port, a->host_id, (long long)last,
		(unsigned long long)a->st.buffered);
	report_drops(a);
	lws_callback_on_writable(a->wsi);
}

static void on_metrics_ack(struct sl_hostagent *a, struct sl_msg *m)
{
	int64_t seq = sl_msg_int(m, "seq", -1);
	struct report **pp, *r, *prev = NULL;

	if (sl_msg_int(m, "boot", -1) != a->boot)
		return;
	pthread_mutex_lock(&a->lock);
	for (pp = &a->reports; (r = *pp); prev = r, pp = &r->next) {
		if (r->seq != seq)
			continue;
		*pp = r->next;
		if (a->reports_tail == r)
			a->reports_tail = prev;
		a->report_bytes -= r->len;
		a->st.acked++;
		a->st.buffered--;
		free(r);
		break;
	}
	pthread_mutex_unlock(&a->lock);
}

/* A report the controller could not store (its "id" is its seq): send it
 * again in a second rather than after the full RETX_MS. */
static void on_report_error(struct sl_hostagent *a, int64_t seq)
{
	struct report *r;

	if (seq < 0)
		return;
	pthread_mutex_lock(&a->lock);
	for (r = a->reports; r; r = r->next) {
		if (r->seq == seq && r->sent_ms) {
			r->sent_ms = mono_ms() - RETX_MS + 1000;
			break;
		}
	}
	pthread_mutex_unlock(&a->lock);
}

static void on_message(struct sl_hostagent *a, const char *buf, size_t len)
{
	struct sl_err err = { "" };
	enum sl_proto_code code;
	struct sl_msg m;

	if (sl_proto_parse(buf, len, SL_PROTO_FROM_CONTROLLER, &m, &code, &err)) {
		pr_warn("host agent: bad message from the controller (%s): %s",
			sl_proto_code_name(code), err.msg);
		return;
	}
	switch (m.type) {
	case SL_MSG_WELCOME:
		on_welcome(a, &m);
		break;
	case SL_MSG_METRICS_ACK:
		on_metrics_ack(a, &m);
		break;
	case SL_MSG_HEARTBEAT:
		break;
	case SL_MSG_ERROR:
		pr_warn("host agent: controller says %s: %s", sl_msg_str(&m, "code"),
			sl_msg_str(&m, "error"));
		on_report_error(a, sl_msg_int(&m, "ref", -1));
		break;
	case SL_MSG_APPLY:
	case SL_MSG_LINK_POLICY:
	case SL_MSG_FLOW_ADD:
	case SL_MSG_FLOW_DEL:
	case SL_MSG_RELAY_ADD:
	case SL_MSG_RELAY_DEL:
	case SL_MSG_TEARDOWN:
		pthread_mutex_lock(&a->lock);
		a->st.commands++;
		cmd_push_locked(a, json_object_get(m.obj));
		pthread_mutex_unlock(&a->lock);
		break;
	default:
		pr_debug("host agent: ignoring %s", sl_msg_type_name(m.type));
		break;
	}
	sl_msg_release(&m);
}

static void on_disconnect(struct sl_hostagent *a, const char *why)
{
	bool was = a->welcomed;

	a->wsi = NULL;
	a->welcomed = false;
	a->hello_sent = false;
	pthread_mutex_lock(&a->lock);
	a->st.connected = false;
	pthread_mutex_unlock(&a->lock);
	if (was) {
		pr_warn("host agent: lost the controller (%s); reconnecting", why);
	} else if (strcmp(why, a->last_error)) {
		/* A new reason is worth a warning; its retries are not. */
		pr_warn("host agent: cannot connect to %s (%s); retrying with backoff",
			a->url, why);
		snprintf(a->last_error, sizeof(a->last_error), "%s", why);
	} else {
		pr_debug("host agent: cannot reach the controller (%s)", why);
	}
	schedule_reconnect(a);
}

static int agent_callback(struct lws *wsi, enum lws_callback_reasons reason,
			  void *user, void *in, size_t len)
{
	struct sl_hostagent *a = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		a->rx_len = 0;
		a->rx_discard = false;
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!a->rx_discard) {
			if (a->rx_len + len > SL_PROTO_FRAME_MAX) {
				a->rx_discard = true;
			} else {
				if (a->rx_len + len + 1 > a->rx_cap) {
					size_t cap = a->rx_cap ? a->rx_cap : 4096;
					char *b;

					while (cap < a->rx_len + len + 1)
						cap *= 2;
					b = realloc(a->rx, cap);
					if (!b)
						return -1;
					a->rx = b;
					a->rx_cap = cap;
				}
				memcpy(a->rx + a->rx_len, in, len);
				a->rx_len += len;
			}
		}
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			if (a->rx_discard)
				pr_warn("host agent: oversized message from the controller dropped");
			else
				on_message(a, a->rx ? a->rx : "", a->rx_len);
			a->rx_len = 0;
			a->rx_discard = false;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (a->stop)
			return -1;
		return on_writeable(a, wsi);
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* Only to name the reason; OpenSSL's verdict stands. */
		if (!len && user) {
			int e = X509_STORE_CTX_get_error((X509_STORE_CTX *)user);

			snprintf(a->cert_error, sizeof(a->cert_error), "%s",
				 X509_verify_cert_error_string(e));
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (*a->cert_error) {
			char why[600];

			snprintf(why, sizeof(why), "TLS: the controller's certificate was "
				 "refused (%s); expected one for %.100s signed by %.200s",
				 a->cert_error, a->addr,
				 a->ca_file ? a->ca_file : "a CA of the system");
			a->cert_error[0] = '\0';
			on_disconnect(a, why);
			break;
		}
		on_disconnect(a, in && len ? (const char *)in : "connection failed");
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		on_disconnect(a, "closed");
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (a && a->wsi && a->welcomed)
			lws_callback_on_writable(a->wsi);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols agent_protocols[] = {
	{ "sluice-agent", agent_callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void *agent_thread(void *arg)
{
	struct sl_hostagent *a = arg;

	lws_sul_schedule(a->ctx, 0, &a->sul_connect, connect_cb, 1);
	lws_sul_schedule(a->ctx, 0, &a->sul_heartbeat, heartbeat_cb,
			 (lws_usec_t)a->heartbeat_ms * 1000);
	lws_sul_schedule(a->ctx, 0, &a->sul_collect, collect_cb,
			 (lws_usec_t)a->metrics_ms * 1000);
	lws_sul_schedule(a->ctx, 0, &a->sul_retx, retx_cb, 1000 * 1000);
	while (!a->stop)
		if (lws_service(a->ctx, 0) < 0)
			break;
	lws_sul_cancel(&a->sul_connect);
	lws_sul_cancel(&a->sul_heartbeat);
	lws_sul_cancel(&a->sul_collect);
	lws_sul_cancel(&a->sul_retx);
	lws_context_destroy(a->ctx);
	a->ctx = NULL;
	return NULL;
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
	info.protocols = agent_protocols;
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
	if (pthread_create(&a->thread, NULL, agent_thread, a)) {
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
	*cmd = q_pop(&a->cmds);
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
	q_push(&a->out, o);
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
	json_object_object_add(report, "ts", json_object_new_double(unix_now()));
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
		json_object_object_add(o, "ts", json_object_new_double(unix_now()));
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
