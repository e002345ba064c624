// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hostagent_conn.c - the agent thread of the host agent (lib/hostagent.c):
 * it owns the lws context and the connection to the controller. It
 * connects and reconnects with backoff, says hello, sends the queued acks
 * and events and the buffered metrics reports, resends a report not
 * acknowledged within RETX_MS, runs the heartbeat and metrics collection
 * timers, and hands the controller's commands to the daemon's queue. The
 * rules for the reports (kept until acknowledged, the welcome's last_seq,
 * drops) are in lib/hostagent.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/x509.h>

#include <sluice/hostagent.h>
#include <sluice/log.h>
#include <sluice/proto.h>

#include "hostagent_int.h"

#define RETX_MS 5000

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Caller holds the lock. */
static void cmd_push_locked(struct sl_hostagent *a, json_object *o)
{
	uint64_t one = 1;

	sl_hostagent_queue_push(&a->cmds, o);
	if (write(a->efd, &one, sizeof(one)) != sizeof(one))
		pr_warn("host agent: cannot signal the daemon");
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
		json_object_object_add(o, "ts", json_object_new_double(sl_hostagent_unix_now()));
		pthread_mutex_lock(&a->lock);
		sl_hostagent_queue_push(&a->out, o);
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
	json_object_object_add(o, "ts", json_object_new_double(sl_hostagent_unix_now()));
	json_object_object_add(o, "message", json_object_new_string(msg));
	data = json_object_new_object();
	json_object_object_add(data, "dropped", json_object_new_int64((int64_t)n));
	json_object_object_add(data, "first_seq", json_object_new_int64(first));
	json_object_object_add(data, "last_seq", json_object_new_int64(last));
	json_object_object_add(data, "dropped_total", json_object_new_int64((int64_t)total));
	json_object_object_add(data, "boot", json_object_new_int64(a->boot));
	json_object_object_add(data, "buffer_bytes", json_object_new_int64((int64_t)a->buffer_max));
	json_object_object_add(o, "data", data);
	sl_hostagent_queue_push(&a->out, o);
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
	o = sl_hostagent_queue_pop(&a->out);
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

const struct lws_protocols sl_hostagent_protocols[] = {
	{ "sluice-agent", agent_callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

void *sl_hostagent_thread(void *arg)
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
