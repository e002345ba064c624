// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * server.c - the libwebsockets side of the controller: one vhost that
 * serves HTTP (the REST API, /metrics and the web UI's files, http.c) and
 * WebSocket connections of subprotocol "sluice.v1" (hosts, the UI and API
 * clients, session.c), TLS when a certificate and key are configured.
 *
 * A WebSocket message may arrive in many frames and fragments; it is
 * reassembled here up to SL_PROTO_FRAME_MAX and anything larger is
 * discarded as it streams in and answered with one "too_large" error, so
 * a hostile peer can neither make the controller buffer without bound nor
 * lose its connection over one oversized message. Replies go through a
 * per-session queue written one message per WRITEABLE callback; a peer
 * that does not read its replies (queue over OUTQ_MAX bytes) is dropped.
 *
 * Text messages are checked for UTF-8 here as they stream in, across
 * frames (not with LWS_SERVER_OPTION_VALIDATE_UTF8), so that the failure
 * RFC 6455 requires (close 1007) comes with a log line naming the session.
 * libwebsockets 4.1 does not enforce that clients mask their frames (RFC
 * 6455 5.1) and offers no way to see the mask bit: an unmasked frame is
 * read like a masked one (docs/protocol.md).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/log.h>

#include "controller.h"

#define OUTQ_MAX (32u << 20)
#define TICK_US (200 * 1000)

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double now_unix(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void outq_free(struct session *s)
{
	struct outmsg *m = s->out_head, *n;

	for (; m; m = n) {
		n = m->next;
		free(m);
	}
	s->out_head = s->out_tail = NULL;
	s->out_bytes = 0;
}

static void session_send_text(struct session *s, const char *text, size_t len)
{
	struct outmsg *m;

	if (s->close_now)
		return;
	if (s->out_bytes + len > OUTQ_MAX) {
		pr_warn("session %s (%s): peer does not read its replies (%zu bytes queued); closing",
			s->id, *s->name ? s->name : "-", s->out_bytes);
		s->close_now = true;
		lws_callback_on_writable(s->wsi);
		return;
	}
	m = malloc(sizeof(*m) + LWS_PRE + len);
	if (!m)
		return;
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	if (s->out_tail)
		s->out_tail->next = m;
	else
		s->out_head = m;
	s->out_tail = m;
	s->out_bytes += len;
	lws_callback_on_writable(s->wsi);
}

void session_send(struct session *s, json_object *o)
{
	size_t len;
	const char *t = sl_proto_text(o, &len);

	session_send_text(s, t, len);
}

void session_send_error(struct session *s, enum sl_proto_code code,
			int64_t ref, const char *fmt, ...)
{
	json_object *o;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((int)code > 0 && code < SL_PROTO_E__COUNT)
		g_ctl->errors[code]++;
	s->n_err++;
	o = sl_proto_error_new(code, ref, "%s", msg);
	session_send(s, o);
	json_object_put(o);
}

struct session *session_find_host(struct ctl *c, const char *host)
{
	struct session *s;

	for (s = c->sessions; s; s = s->next)
		if (s->role == ROLE_HOST && !s->close_now &&
		    !s->close_after_write && !strcmp(s->name, host))
			return s;
	return NULL;
}

/* Token bucket; false when the message is to be dropped. */
static bool rate_ok(struct ctl *c, struct session *s)
{
	uint64_t now = now_ms();
	double rate = c->conf.rate_limit > 0 ? c->conf.rate_limit : 1e9;
	double burst = rate * 2 > 100 ? rate * 2 : 100;

	s->tokens += (double)(now - s->tokens_at_ms) * rate / 1000.0;
	if (s->tokens > burst)
		s->tokens = burst;
	if (now - s->tokens_at_ms >= 1000)
		s->rate_warned = false;
	s->tokens_at_ms = now;
	if (s->tokens >= 1) {
		s->tokens -= 1;
		return true;
	}
	/* One error a second, not one per dropped message: a flood must not
	 * turn into a flood of replies. */
	if (!s->rate_warned) {
		s->rate_warned = true;
		pr_warn("session %s (%s): over %d messages/s; dropping",
			s->id, *s->name ? s->name : "-", c->conf.rate_limit);
		session_send_error(s, SL_PROTO_E_RATE, -1,
				   "more than %d messages per second; messages are dropped",
				   c->conf.rate_limit);
	} else {
		c->errors[SL_PROTO_E_RATE]++;
	}
	return false;
}

static void message_done(struct ctl *c, struct session *s)
{
	s->last_rx_ms = now_ms();
	s->n_rx++;
	if (!rate_ok(c, s))
		goto reset;
	if (s->rx_binary) {
		pr_warn("session %s: binary message of %zu bytes", s->id, s->rx_total);
		session_send_error(s, SL_PROTO_E_BINARY, -1,
				   "binary message; expected a text message with a JSON object");
	} else if (s->rx_discard) {
		pr_warn("session %s (%s): message of %zu bytes over the limit",
			s->id, *s->name ? s->name : "-", s->rx_total);
		session_send_error(s, SL_PROTO_E_TOO_LARGE, -1,
				   "message of %zu bytes; expected at most %u",
				   s->rx_total, SL_PROTO_FRAME_MAX);
	} else {
		session_on_message(c, s, s->rx ? s->rx : "", s->rx_len);
	}
reset:
	s->rx_len = 0;
	s->rx_total = 0;
	s->rx_discard = false;
	s->rx_binary = false;
	s->u8_need = 0;
	/* Keep a small buffer; give a big one back. */
	if (s->rx_cap > 262144) {
		free(s->rx);
		s->rx = NULL;
		s->rx_cap = 0;
	}
}

/* Feeds bytes of a text message to the UTF-8 check (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF); returns the index of the
 * first bad byte, or n. A sequence may continue in the next frame. */
static size_t utf8_feed(struct session *s, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (s->u8_need) {
			if (c < s->u8_lo || c > s->u8_hi)
				return i;
			s->u8_lo = 0x80;
			s->u8_hi = 0xbf;
			s->u8_need--;
			continue;
		}
		if (c < 0x80)
			continue;
		s->u8_lo = 0x80;
		s->u8_hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			s->u8_need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			s->u8_need = 2;
			if (c == 0xe0)
				s->u8_lo = 0xa0; /* overlong */
			else if (c == 0xed)
				s->u8_hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			s->u8_need = 3;
			if (c == 0xf0)
				s->u8_lo = 0x90; /* overlong */
			else if (c == 0xf4)
				s->u8_hi = 0x8f; /* above U+10FFFF */
		} else {
			return i;
		}
	}
	return n;
}

static int rx_append(struct session *s, const void *in, size_t len)
{
	if (s->rx_discard || s->rx_binary)
		return 0;
	if (s->rx_len + len > SL_PROTO_FRAME_MAX) {
		s->rx_discard = true;
		free(s->rx);
		s->rx = NULL;
		s->rx_cap = 0;
		s->rx_len = 0;
		return 0;
	}
	if (s->rx_len + len + 1 > s->rx_cap) {
		size_t cap = s->rx_cap ? s->rx_cap : 4096;
		char *b;

		while (cap < s->rx_len + len + 1)
			cap *= 2;
		b = realloc(s->rx, cap);
		if (!b)
			return -1;
		s->rx = b;
		s->rx_cap = cap;
	}
	memcpy(s->rx + s->rx_len, in, len);
	s->rx_len += len;
	s->rx[s->rx_len] = '\0';
	return 0;
}

static void drain_notifies(struct ctl *c)
{
	struct notify_item *list, *n;
	double since;

	pthread_mutex_lock(&c->nlock);
	list = c->nhead;
	c->nhead = c->ntail = NULL;
	since = c->resync_since;
	c->resync_since = 0;
	pthread_mutex_unlock(&c->nlock);
	if (since > 0 && handle_resync(c, since)) {
		/* The database is away too: keep the window for the next tick. */
		pthread_mutex_lock(&c->nlock);
		if (!c->resync_since || since < c->resync_since)
			c->resync_since = since;
		pthread_mutex_unlock(&c->nlock);
	}
	for (; list; list = n) {
		n = list->next;
		handle_notify(c, list->payload);
		free(list);
	}
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		       void *user, void *in, size_t len)
{
	struct ctl *c = g_ctl;
	struct session *s = user, **pp;
	struct outmsg *m;
	char peer[64];
	size_t bad;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(s, 0, sizeof(*s));
		s->wsi = wsi;
		snprintf(s->id, sizeof(s->id), "s%llu",
			 (unsigned long long)++c->n_sessions_total);
		s->tokens = c->conf.rate_limit > 0 ? c->conf.rate_limit * 2 : 1e9;
		if (s->tokens < 100)
			s->tokens = 100;
		s->tokens_at_ms = s->last_rx_ms = now_ms();
		s->next = c->sessions;
		c->sessions = s;
		lws_get_peer_simple(wsi, peer, sizeof(peer));
		pr_info("session %s: connected from %s", s->id, peer);
		break;
	case LWS_CALLBACK_RECEIVE:
		if (!s->rx_len && !s->rx_total && lws_frame_is_binary(wsi))
			s->rx_binary = true;
		if (!s->rx_binary && ((bad = utf8_feed(s, in, len)) < len ||
				      (lws_is_final_fragment(wsi) &&
				       !lws_remaining_packet_payload(wsi) && s->u8_need))) {
			pr_warn("session %s (%s): invalid UTF-8 in a text message (%s at byte %zu); closing the connection (1007) as RFC 6455 requires",
				s->id, *s->name ? s->name : "-",
				bad < len ? "a bad byte" : "a sequence cut short",
				s->rx_total + bad);
			lws_close_reason(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
					 (unsigned char *)"invalid UTF-8", 13);
			return -1;
		}
		s->rx_total += len;
		if (rx_append(s, in, len))
			return -1;
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
			message_done(c, s);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (s->close_now) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
					 (unsigned char *)"closed", 6);
			return -1;
		}
		m = s->out_head;
		if (m) {
			s->out_head = m->next;
			if (!s->out_head)
				s->out_tail = NULL;
			s->out_bytes -= m->len;
			if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) <
			    (int)m->len) {
				free(m);
				return -1;
			}
			free(m);
		}
		if (s->out_head) {
			lws_callback_on_writable(wsi);
		} else if (s->close_after_write) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
					 (unsigned char *)"refused", 7);
			return -1;
		}
		break;
	case LWS_CALLBACK_CLOSED:
		for (pp = &c->sessions; *pp; pp = &(*pp)->next) {
			if (*pp == s) {
				*pp = s->next;
				break;
			}
		}
		pr_info("session %s (%s): closed", s->id, *s->name ? s->name : "-");
		session_on_close(c, s);
		outq_free(s);
		free(s->rx);
		s->rx = NULL;
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		drain_notifies(c);
		break;
	default:
		break;
	}
	return 0;
}

static void on_notify(const char *payload, void *arg)
{
	struct ctl *c = arg;
	size_t n = strlen(payload);
	struct notify_item *it;

	pthread_mutex_lock(&c->nlock);
	if ((it = malloc(sizeof(*it) + n + 1))) {
		it->next = NULL;
		memcpy(it->payload, payload, n + 1);
		if (c->ntail)
			c->ntail->next = it;
		else
			c->nhead = it;
		c->ntail = it;
	}
	pthread_mutex_unlock(&c->nlock);
	lws_cancel_service(c->lws);
}

/* The listener reconnected: changes from `since` on may have been missed. */
static void on_resync(double since, void *arg)
{
	struct ctl *c = arg;

	pthread_mutex_lock(&c->nlock);
	if (!c->resync_since || since < c->resync_since)
		c->resync_since = since;
	pthread_mutex_unlock(&c->nlock);
	lws_cancel_service(c->lws);
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	struct ctl *c = lws_container_of(sul, struct ctl, tick);
	bool resync;

	/* Keeps an (asynchronous) database connect moving without traffic;
	 * a few ms here, never in a message's path. */
	db_ready_within(c->db, 5);
	pthread_mutex_lock(&c->nlock);
	resync = c->resync_since > 0;
	pthread_mutex_unlock(&c->nlock);
	if (resync)
		drain_notifies(c);
	ctl_tick(c);
	lws_sul_schedule(c->lws, 0, &c->tick, tick_cb, TICK_US);
}

static void lws_log_emit(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == '\n')
		n--;
	if (level & LLL_ERR)
		pr_warn("lws: %.*s", (int)n, line);
	else
		pr_debug("lws: %.*s", (int)n, line);
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
	if (g_ctl && g_ctl->lws)
		lws_cancel_service(g_ctl->lws);
}

int server_run(struct ctl *c)
{
	struct lws_protocols protocols[3];
	struct lws_context_creation_info info;
	struct sigaction sa = { .sa_handler = on_signal };

	memset(protocols, 0, sizeof(protocols));
	protocols[0].name = "http";
	protocols[0].callback = http_callback;
	protocols[0].per_session_data_size = http_pss_size();
	protocols[1].name = SL_PROTO_SUBPROTOCOL;
	protocols[1].callback = ws_callback;
	protocols[1].per_session_data_size = sizeof(struct session);
	protocols[1].rx_buffer_size = 65536;

	lws_set_log_level(LLL_ERR | (c->conf.log_level >= SL_LOG_DEBUG ?
				     LLL_WARN | LLL_NOTICE : 0), lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.port = c->conf.port;
	info.iface = *c->conf.listen && strcmp(c->conf.listen, "*") ?
		c->conf.listen : NULL;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	if (*c->conf.cert) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = c->conf.cert;
		info.ssl_private_key_filepath = c->conf.key;
	}
	pthread_mutex_init(&c->nlock, NULL);
	c->lws = lws_create_context(&info);
	if (!c->lws) {
		pr_err("cannot listen on %s:%d%s", info.iface ? info.iface : "*",
		       c->conf.port, *c->conf.cert ? " (check the TLS certificate and key)" : "");
		return -EADDRINUSE;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	c->listener = db_listener_start(c->conf.db, on_notify, on_resync, c);
	lws_sul_schedule(c->lws, 0, &c->tick, tick_cb, TICK_US);
	pr_info("sluice-controller %s listening on %s://%s:%d (WebSocket %s, subprotocol %s)",
		CONTROLLER_VERSION, *c->conf.cert ? "https" : "http",
		info.iface ? info.iface : "*", c->conf.port, SL_PROTO_PATH,
		SL_PROTO_SUBPROTOCOL);
	while (!stop_signal && !c->stop)
		if (lws_service(c->lws, 0) < 0)
			break;
	pr_info("stopping (signal %d)", (int)stop_signal);
	db_listener_stop(c->listener);
	c->listener = NULL;
	lws_sul_cancel(&c->tick);
	lws_context_destroy(c->lws);
	c->lws = NULL;
	while (c->nhead) {
		struct notify_item *n = c->nhead->next;

		free(c->nhead);
		c->nhead = n;
	}
	pthread_mutex_destroy(&c->nlock);
	return 0;
}
