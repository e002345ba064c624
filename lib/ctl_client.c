// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_client.c - a blocking REST client of the controller
 * (include/sluice/ctl_client.h).
 *
 * Each request gets a private client-only lws context, serviced in the
 * calling thread until the response is complete or the timeout passes:
 * sluicectl makes a handful of calls, so simplicity beats reuse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include <sluice/ctl_client.h>

#define REPLY_MAX (64u << 20)

struct req {
	const struct sl_ctl_call *call;
	const char *body;
	size_t body_len;
	char auth[600];
	int status;
	char *buf;
	size_t len, cap;
	bool done, failed, too_big;
	char why[256];
};

static int client_cb(struct lws *wsi, enum lws_callback_reasons reason,
		     void *user, void *in, size_t len)
{
	struct req *r = lws_context_user(lws_get_context(wsi));
	unsigned char **p, *end;
	char tmp[LWS_PRE + 4096], *px;
	int n;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		p = (unsigned char **)in;
		end = *p + len;
		if (*r->auth && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
				(unsigned char *)r->auth, (int)strlen(r->auth), p, end))
			return -1;
		if (r->body) {
			if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					(unsigned char *)"application/json", 16, p, end) ||
			    lws_add_http_header_content_length(wsi, r->body_len, p, end))
				return -1;
			lws_client_http_body_pending(wsi, 1);
			lws_callback_on_writable(wsi);
		}
		break;
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		if (!r->body)
			break;
		{
			unsigned char *b = malloc(LWS_PRE + r->body_len + 1);

			if (!b)
				return -1;
			memcpy(b + LWS_PRE, r->body, r->body_len);
			n = lws_write(wsi, b + LWS_PRE, r->body_len, LWS_WRITE_HTTP_FINAL);
			free(b);
			if (n < (int)r->body_len)
				return -1;
		}
		lws_client_http_body_pending(wsi, 0);
		r->body = NULL;
		break;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		r->status = (int)lws_http_client_http_response(wsi);
		break;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (r->len + len + 1 > REPLY_MAX) {
			r->too_big = true;
			return -1;
		}
		if (r->len + len + 1 > r->cap) {
			size_t cap = r->cap ? r->cap : 4096;
			char *b;

			while (cap < r->len + len + 1)
				cap *= 2;
			b = realloc(r->buf, cap);
			if (!b)
				return -1;
			r->buf = b;
			r->cap = cap;
		}
		memcpy(r->buf + r->len, in, len);
		r->len += len;
		r->buf[r->len] = '\0';
		break;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
		px = tmp + LWS_PRE;
		n = (int)sizeof(tmp) - LWS_PRE;
		if (lws_http_client_read(wsi, &px, &n) < 0)
			return -1;
		break;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		r->done = true;
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(r->why, sizeof(r->why), "%s",
			 in && len ? (const char *)in : "connection failed");
		r->failed = true;
		break;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (!r->done && !r->failed) {
			r->failed = r->status == 0;
			r->done = r->status != 0;
			if (r->failed)
				snprintf(r->why, sizeof(r->why), "connection closed");
		}
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols client_protocols[] = {
	{ "sluice-rest", client_cb, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void log_drop(int level, const char *line)
{
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int sl_ctl_request(const struct sl_ctl_call *call, int *status,
		   json_object **reply, struct sl_err *err)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	struct lws_context *ctx;
	struct req r;
	char host[256], path[1024];
	const char *h, *end;
	int port, ret = 0, tmo = call->timeout_ms > 0 ? call->timeout_ms : 10000;
	bool tls;
	size_t hl;
	uint64_t deadline;

	*status = 0;
	*reply = NULL;
	memset(&r, 0, sizeof(r));
	r.call = call;
	if (!strncmp(call->url, "http://", 7)) {
		tls = false;
		port = 80;
		h = call->url + 7;
	} else if (!strncmp(call->url, "https://", 8)) {
		tls = true;
		port = 443;
		h = call->url + 8;
	} else {
		return sl_err_set(err, EINVAL, "controller URL \"%s\": expected http://HOST[:PORT] or https://...",
				  call->url);
	}
	end = h + strcspn(h, ":/");
	hl = (size_t)(end - h);
	if (!hl || hl >= sizeof(host))
		return sl_err_set(err, EINVAL, "controller URL \"%s\": expected a host name", call->url);
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (*end == ':') {
		port = atoi(end + 1);
		if (port < 1 || port > 65535)
			return sl_err_set(err, EINVAL, "controller URL \"%s\": expected a port 1-65535",
					  call->url);
	}
	snprintf(path, sizeof(path), "%s", call->path);
	if (call->token)
		snprintf(r.auth, sizeof(r.auth), "Bearer %s", call->token);
	if (call->body)
		r.body = json_object_to_json_string_length(call->body, JSON_C_TO_STRING_PLAIN,
							   &r.body_len);

	/* The library's notices mean nothing to a CLI user; failures come
	 * back in err with their context. */
	lws_set_log_level(LLL_ERR, log_drop);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = client_protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = &r;
	if (tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = call->ca_file;
	}
	ctx = lws_create_context(&info);
	if (!ctx)
		return sl_err_set(err, ENOMEM, "cannot create an HTTP client");
	memset(&ci, 0, sizeof(ci));
	ci.context = ctx;
	ci.address = host;
	ci.port = port;
	ci.path = path;
	ci.host = host;
	ci.origin = host;
	ci.method = call->method;
	ci.protocol = client_protocols[0].name;
	if (tls) {
		ci.ssl_connection = LCCSCF_USE_SSL;
		if (call->insecure)
			ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
					     LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
					     LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
	}
	if (!lws_client_connect_via_info(&ci)) {
		ret = sl_err_set(err, ECONNREFUSED, "%s: cannot connect", call->url);
		goto out;
	}
	deadline = mono_ms() + (uint64_t)tmo;
	while (!r.done && !r.failed && mono_ms() < deadline)
		if (lws_service(ctx, 0) < 0)
			break;
	if (r.failed) {
		ret = sl_err_set(err, ECONNREFUSED, "%s: %s", call->url, r.why);
	} else if (r.too_big) {
		ret = sl_err_set(err, EMSGSIZE, "%s: answer over %u bytes", call->url, REPLY_MAX);
	} else if (!r.done) {
		ret = sl_err_set(err, ETIMEDOUT, "%s: no answer within %d ms", call->url, tmo);
	} else {
		*status = r.status;
		*reply = r.buf ? json_tokener_parse(r.buf) : NULL;
	}
out:
	lws_context_destroy(ctx);
	free(r.buf);
	return ret;
}
