// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * http.c - the controller's HTTP side: the REST API used by sluicectl
 * --controller and scripts, the Prometheus endpoint and the web UI's
 * files (docs/controller.md lists the routes).
 *
 * Every /api route and /metrics needs "Authorization: Bearer <token>" of
 * an API or UI token (UI tokens may only read); /metrics may be made
 * public in the configuration for a Prometheus without credentials.
 * Responses are built whole in memory and written in chunks from the
 * WRITEABLE callback; request bodies are capped at SL_PROTO_FRAME_MAX.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/log.h>

#include "controller.h"

#define CHUNK 16384

enum method { M_GET = 1, M_POST, M_PUT, M_DELETE, M_OTHER };

struct http_req {
	enum method method;
	char path[256];
	char *body;
	size_t body_len, body_cap;
	bool body_too_large;
	bool responded; /* one response per request, even if a body follows */
	char *resp;
	size_t resp_len, resp_off;
	enum role role;
};

size_t http_pss_size(void)
{
	return sizeof(struct http_req);
}

static int send_response(struct lws *wsi, struct http_req *r, unsigned status,
			 const char *ctype, char *body, size_t len)
{
	unsigned char buf[LWS_PRE + 1024], *start = &buf[LWS_PRE], *p = start;
	unsigned char *end = &buf[sizeof(buf) - 1];

	free(r->resp);
	r->resp = body;
	r->resp_len = len;
	r->resp_off = 0;
	r->responded = true;
	if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int send_json(struct lws *wsi, struct http_req *r, unsigned status,
		     json_object *o)
{
	size_t len;
	const char *t = sl_proto_text(o, &len);
	char *b = malloc(len + 2);
	int ret;

	if (!b) {
		json_object_put(o);
		return -1;
	}
	memcpy(b, t, len);
	b[len++] = '\n';
	b[len] = '\0';
	json_object_put(o);
	ret = send_response(wsi, r, status, "application/json", b, len);
	return ret;
}

static int send_error(struct lws *wsi, struct http_req *r, unsigned status,
		      const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int send_error(struct lws *wsi, struct http_req *r, unsigned status,
		      const char *code, const char *fmt, ...)
{
	json_object *o;
	va_list ap;

	va_start(ap, fmt);
	o = rest_verror(code, fmt, ap);
	va_end(ap);
	return send_json(wsi, r, status, o);
}

/* Runs a query whose single cell is JSON text; sends it or an error. */
static int send_query_json(struct lws *wsi, struct http_req *r, const char *sql,
			   int n, const char *const *params)
{
	PGresult *res = db_query(g_ctl->db, sql, n, params);
	json_object *o;

	if (!res)
		return send_error(wsi, r, 503, "internal", "database unavailable");
	o = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ?
		json_tokener_parse(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	if (!o)
		return send_error(wsi, r, 404, "notfound", "not found");
	return send_json(wsi, r, 200, o);
}

/* A request body: exactly one JSON object (whitespace around it), or NULL
 * and why in msg. */
static json_object *parse_body(const char *buf, size_t len, char *msg, size_t n)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *o;
	size_t end;

	if (!buf || !len) {
		snprintf(msg, n, "request body: empty; expected a JSON object");
		return NULL;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(msg, n, "request body: a NUL byte; expected a JSON object");
		return NULL;
	}
	tok = json_tokener_new_ex(32);
	if (!tok) {
		snprintf(msg, n, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success) {
		snprintf(msg, n, "request body: not JSON (%s); expected a JSON object",
			 jerr == json_tokener_continue ? "unexpected end" :
			 json_tokener_error_desc(jerr));
		json_object_put(o);
		return NULL;
	}
	while (end < len && (buf[end] == ' ' || buf[end] == '\t' ||
			     buf[end] == '\r' || buf[end] == '\n'))
		end++;
	if (end < len) {
		snprintf(msg, n, "request body: data after the JSON value at byte %zu; expected one JSON object",
			 end);
		json_object_put(o);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(msg, n, "request body: got %s; expected a JSON object",
			 json_type_to_name(json_object_get_type(o)));
		json_object_put(o);
		return NULL;
	}
	return o;
}

static enum role authenticate(struct lws *wsi)
{
	char h[600], hash[65];
	const char *p[1] = { hash };
	enum role role = ROLE_NONE;
	PGresult *res;

	if (lws_hdr_copy(wsi, h, sizeof(h), WSI_TOKEN_HTTP_AUTHORIZATION) <= 7 ||
	    strncasecmp(h, "Bearer ", 7))
		return ROLE_NONE;
	token_hash(h + 7, hash);
	res = db_query(g_ctl->db, "SELECT role FROM api_tokens WHERE token_hash = $1", 1, p);
	if (res && PQntuples(res) == 1)
		role = !strcmp(PQgetvalue(res, 0, 0), "api") ? ROLE_API : ROLE_UI;
	PQclear(res);
	return role;
}

static void prom_label(FILE *f, const char *k, const char *v, bool last)
{
	fprintf(f, "%s=\"", k);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
	fputs(last ? "\"" : "\",", f);
}

static void prom_link(FILE *f, const char *name, const struct link_stat *l)
{
	fprintf(f, "%s{", name);
	prom_label(f, "topology", l->topology, false);
	prom_label(f, "a", l->a, false);
	prom_label(f, "b", l->b, false);
	prom_label(f, "dir", l->dir, false);
	prom_label(f, "host", l->host, true);
	fputs("} ", f);
}

/*
 * The cells of normal-mode links, from each host's newest report
 * (cell_latest, filled by a trigger: db/migrations/004_cell_metrics.sql),
 * of topologies that are up. Labels: those of the link, cell, type.
 */
static void prom_cells(FILE *f, struct ctl *c)
{
	static const struct {
		const char *name, *type, *key, *help;
		double scale; /* 0: the drops object, by reason */
	} cm[] = {
		{ "sluice_cell_packets_in_total", "counter", "pkts_in", "Packets into a cell.", 1 },
		{ "sluice_cell_bytes_in_total", "counter", "bytes_in", "Bytes into a cell.", 1 },
		{ "sluice_cell_packets_out_total", "counter", "pkts_out", "Packets out of a cell.", 1 },
		{ "sluice_cell_bytes_out_total", "counter", "bytes_out", "Bytes out of a cell.", 1 },
		{ "sluice_cell_drops_total", "counter", "drops", "Packets a cell dropped, by reason.", 0 },
		{ "sluice_cell_queue_packets", "gauge", "qlen_pkts", "Packets queued in a cell.", 1 },
		{ "sluice_cell_queue_bytes", "gauge", "qlen_bytes", "Bytes queued in a cell.", 1 },
		{ "sluice_cell_sojourn_avg_seconds", "gauge", "avg", "Mean time packets spent in a cell.", 1e-9 },
		{ "sluice_cell_sojourn_max_seconds", "gauge", "max", "Longest time a packet spent in a cell.", 1e-9 },
	};
	PGresult *res = db_query(c->db,
		"SELECT l.host_id, l.topology, l.a, l.b, l.dir, l.cell, coalesce(l.type, ''),"
		" l.counters::text FROM cell_latest l"
		" WHERE EXISTS (SELECT 1 FROM topologies t WHERE t.name = l.topology"
		"  AND t.state IN ('applying', 'up'))"
		" ORDER BY l.topology, l.a, l.b, l.dir, l.cell, l.host_id", 0, NULL);
	int n = res ? PQntuples(res) : 0, i;
	json_object **cnt = n ? calloc((size_t)n, sizeof(*cnt)) : NULL;
	size_t k;

	for (i = 0; cnt && i < n; i++)
		cnt[i] = json_tokener_parse(PQgetvalue(res, i, 7));
	for (k = 0; k < sizeof(cm) / sizeof(cm[0]); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", cm[k].name, cm[k].help,
			cm[k].name, cm[k].type);
		for (i = 0; cnt && i < n; i++) {
			json_object *src = cnt[i], *v;
			bool sojourn = cm[k].scale < 1 && cm[k].scale > 0;

			if (sojourn && !json_object_object_get_ex(src, "sojourn_ns", &src))
				continue;
			if (!json_object_object_get_ex(src, cm[k].key, &v))
				continue;
			if (!cm[k].scale) {
				/* by reason: one series per key of the object */
				if (!json_object_is_type(v, json_type_object))
					continue;
				json_object_object_foreach(v, reason, rv) {
					if (!json_object_is_type(rv, json_type_int) ||
					    json_object_get_int64(rv) < 0)
						continue;
					fprintf(f, "%s{", cm[k].name);
					prom_label(f, "topology", PQgetvalue(res, i, 1), false);
					prom_label(f, "a", PQgetvalue(res, i, 2), false);
					prom_label(f, "b", PQgetvalue(res, i, 3), false);
					prom_label(f, "dir", PQgetvalue(res, i, 4), false);
					prom_label(f, "host", PQgetvalue(res, i, 0), false);
					prom_label(f, "cell", PQgetvalue(res, i, 5), false);
					prom_label(f, "type", PQgetvalue(res, i, 6), false);
					prom_label(f, "reason", reason, true);
					fprintf(f, "} %llu\n", (unsigned long long)json_object_get_uint64(rv));
				}
				continue;
			}
			if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
				continue;
			fprintf(f, "%s{", cm[k].name);
			prom_label(f, "topology", PQgetvalue(res, i, 1), false);
			prom_label(f, "a", PQgetvalue(res, i, 2), false);
			prom_label(f, "b", PQgetvalue(res, i, 3), false);
			prom_label(f, "dir", PQgetvalue(res, i, 4), false);
			prom_label(f, "host", PQgetvalue(res, i, 0), false);
			prom_label(f, "cell", PQgetvalue(res, i, 5), false);
			prom_label(f, "type", PQgetvalue(res, i, 6), true);
			if (cm[k].scale == 1)
				fprintf(f, "} %llu\n", (unsigned long long)json_object_get_uint64(v));
			else
				fprintf(f, "} %.9f\n", (double)json_object_get_uint64(v) * cm[k].scale);
		}
	}
	for (i = 0; cnt && i < n; i++)
		json_object_put(cnt[i]);
	free(cnt);
	PQclear(res);
}

static int send_prometheus(struct lws *wsi, struct http_req *r)
{
	struct ctl *c = g_ctl;
	static const struct {
		const char *name, *type, *help;
	} lm[] = {
		{ "sluice_link_packets_total", "counter", "Packets forwarded on a link direction." },
		{ "sluice_link_bytes_total", "counter", "Bytes forwarded on a link direction." },
		{ "sluice_link_drops_total", "counter", "Packets dropped on a link direction." },
		{ "sluice_link_queue_packets", "gauge", "Packets queued on a link direction." },
		{ "sluice_link_rate_bytes_per_second", "gauge", "Throughput over the last two samples." },
	};
	struct session *s;
	char *buf = NULL;
	size_t len = 0, i, k;
	unsigned n_role[4] = { 0 };
	PGresult *res;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -1;
	for (k = 0; k < sizeof(lm) / sizeof(lm[0]); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", lm[k].name, lm[k].help,
			lm[k].name, lm[k].type);
		for (i = 0; i < c->n_links; i++) {
			const struct link_stat *l = &c->links[i];

			prom_link(f, lm[k].name, l);
			switch (k) {
			case 0: fprintf(f, "%llu\n", (unsigned long long)l->packets); break;
			case 1: fprintf(f, "%llu\n", (unsigned long long)l->bytes); break;
			case 2: fprintf(f, "%llu\n", (unsigned long long)l->drops); break;
			case 3: fprintf(f, "%llu\n", (unsigned long long)l->qlen); break;
			default: fprintf(f, "%.3f\n", l->bps / 8); break;
			}
		}
	}
	prom_cells(f, c);
	fputs("# HELP sluice_host_up Whether a host is connected to the controller.\n"
	      "# TYPE sluice_host_up gauge\n", f);
	res = db_query(c->db, "SELECT id, state FROM hosts ORDER BY id", 0, NULL);
	for (i = 0; res && i < (size_t)PQntuples(res); i++) {
		fputs("sluice_host_up{", f);
		prom_label(f, "host", PQgetvalue(res, (int)i, 0), true);
		fprintf(f, "} %d\n", !strcmp(PQgetvalue(res, (int)i, 1), "online"));
	}
	PQclear(res);
	/* What hosts said they dropped (buffer full): the gaps in metrics. */
	fputs("# HELP sluice_host_metrics_dropped_total Metrics reports a host dropped because its buffer was full.\n"
	      "# TYPE sluice_host_metrics_dropped_total counter\n", f);
	res = db_query(c->db,
		"SELECT h.id, coalesce(sum((e.data->>'dropped')::bigint), 0) FROM hosts h"
		" LEFT JOIN events e ON e.host_id = h.id AND e.kind = 'metrics_dropped'"
		"  AND jsonb_typeof(e.data->'dropped') = 'number'"
		" GROUP BY h.id ORDER BY h.id", 0, NULL);
	for (i = 0; res && i < (size_t)PQntuples(res); i++) {
		fputs("sluice_host_metrics_dropped_total{", f);
		prom_label(f, "host", PQgetvalue(res, (int)i, 0), true);
		fprintf(f, "} %s\n", PQgetvalue(res, (int)i, 1));
	}
	PQclear(res);
	for (s = c->sessions; s; s = s->next)
		n_role[s->role]++;
	fputs("# HELP sluice_controller_sessions Open WebSocket sessions by role.\n"
	      "# TYPE sluice_controller_sessions gauge\n", f);
	for (k = 0; k < 4; k++)
		fprintf(f, "sluice_controller_sessions{role=\"%s\"} %u\n",
			(const char *[]){ "none", "host", "ui", "api" }[k], n_role[k]);
	fputs("# HELP sluice_controller_messages_total Messages received by type.\n"
	      "# TYPE sluice_controller_messages_total counter\n", f);
	for (k = SL_MSG_UNKNOWN + 1; k < SL_MSG__COUNT; k++)
		if (sl_msg_type_senders((enum sl_msg_type)k) &
		    (SL_PROTO_FROM_HOST | SL_PROTO_FROM_CLIENT))
			fprintf(f, "sluice_controller_messages_total{type=\"%s\"} %llu\n",
				sl_msg_type_name((enum sl_msg_type)k),
				(unsigned long long)c->msgs_rx[k]);
	fputs("# HELP sluice_controller_errors_total Error replies by code.\n"
	      "# TYPE sluice_controller_errors_total counter\n", f);
	for (k = 1; k < SL_PROTO_E__COUNT; k++)
		fprintf(f, "sluice_controller_errors_total{code=\"%s\"} %llu\n",
			sl_proto_code_name((enum sl_proto_code)k),
			(unsigned long long)c->errors[k]);
	fprintf(f, "# HELP sluice_controller_commands_total Commands pushed to hosts.\n"
		   "# TYPE sluice_controller_commands_total counter\n"
		   "sluice_controller_commands_total %llu\n"
		   "# HELP sluice_controller_command_failures_total Commands hosts refused or did not answer.\n"
		   "# TYPE sluice_controller_command_failures_total counter\n"
		   "sluice_controller_command_failures_total %llu\n"
		   "# HELP sluice_controller_database_up Whether the database connection is up.\n"
		   "# TYPE sluice_controller_database_up gauge\n"
		   "sluice_controller_database_up %d\n",
		(unsigned long long)c->pushes, (unsigned long long)c->push_failures,
		db_ready(c->db) ? 1 : 0);
	fclose(f);
	return send_response(wsi, r, 200, "text/plain; version=0.0.4; charset=utf-8",
			     buf, len);
}

static const char *mime_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	if (!strcmp(dot, ".js") || !strcmp(dot, ".mjs"))
		return "application/javascript";
	if (!strcmp(dot, ".css"))
		return "text/css";
	if (!strcmp(dot, ".json") || !strcmp(dot, ".map"))
		return "application/json";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	if (!strcmp(dot, ".png"))
		return "image/png";
	if (!strcmp(dot, ".ico"))
		return "image/x-icon";
	return "application/octet-stream";
}

static int serve_file(struct lws *wsi, struct http_req *r)
{
	const char *p = r->path;
	char file[600];
	int n;

	if (!strcmp(p, "/"))
		p = "/index.html";
	/* Only plain names: no "..", no odd characters. */
	if (strstr(p, "..") || strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") !=
				 strlen(p + 1))
		return send_error(wsi, r, 404, "notfound", "no such page");
	snprintf(file, sizeof(file), "%s%s", g_ctl->conf.web_root, p);
	if (access(file, R_OK))
		return send_error(wsi, r, 404, "notfound", "no such page: %s", p);
	n = lws_serve_http_file(wsi, file, mime_of(file), NULL, 0);
	if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
		return -1;
	return 0;
}

static const char *query_arg(struct lws *wsi, const char *name, char *buf,
			     int len)
{
	const char *v = lws_get_urlarg_by_name(wsi, name, buf, len);

	return v && *v ? v : NULL;
}

static int route_api(struct lws *wsi, struct http_req *r)
{
	struct ctl *c = g_ctl;
	const char *path = r->path + 4; /* after "/api" */
	json_object *reply, *body = NULL;
	int status = 200, ret;

	if (r->role == ROLE_NONE)
		return send_error(wsi, r, 401, "auth",
				  "missing or wrong token; expected \"Authorization: Bearer <token>\"");
	if (r->method != M_GET && r->role != ROLE_API)
		return send_error(wsi, r, 403, "auth", "this token may only read");
	if (r->method == M_POST || r->method == M_PUT) {
		char why[256];

		if (r->body_too_large)
			return send_error(wsi, r, 413, "too_large",
					  "request body over %u bytes", SL_PROTO_FRAME_MAX);
		body = parse_body(r->body, r->body_len, why, sizeof(why));
		if (!body) {
			pr_warn("http: %s %s: %s", r->method == M_POST ? "POST" : "PUT",
				r->path, why);
			return send_error(wsi, r, 400, "bad_json", "%s", why);
		}
	}
	if (r->method == M_GET && !strcmp(path, "/hosts")) {
		ret = send_query_json(wsi, r,
			"SELECT json_build_object('hosts', coalesce(json_agg(json_build_object("
			" 'id', id, 'state', state, 'version', version, 'boot', boot,"
			" 'capabilities', capabilities, 'capacity', capacity,"
			" 'connected_at', extract(epoch FROM connected_at),"
			" 'last_seen', extract(epoch FROM last_seen)) ORDER BY id), '[]'))::text"
			" FROM hosts", 0, NULL);
	} else if (r->method == M_GET && (!strcmp(path, "/topologies") ||
					  !strcmp(path, "/snapshot"))) {
		json_object *o = snapshot_json(c);

		ret = o ? send_json(wsi, r, 200, o) :
			send_error(wsi, r, 503, "internal", "database unavailable");
	} else if (r->method == M_GET && !strncmp(path, "/topologies/", 12)) {
		const char *p[1] = { path + 12 };

		ret = send_query_json(wsi, r,
			"SELECT json_build_object('name', t.name, 'state', t.state,"
			" 'error', t.error, 'spec', t.spec,"
			" 'nodes', (SELECT coalesce(json_agg(json_build_object('name', n.name,"
			"   'kind', n.kind, 'host', n.host_id) ORDER BY n.id), '[]')"
			"   FROM nodes n WHERE n.topology_id = t.id),"
			" 'links', (SELECT coalesce(json_agg(json_build_object('a', l.a, 'b', l.b,"
			"   'state', l.state) ORDER BY l.idx), '[]') FROM links l"
			"   WHERE l.topology_id = t.id))::text"
			" FROM topologies t WHERE t.name = $1", 1, p);
	} else if (r->method == M_POST && !strcmp(path, "/topologies")) {
		reply = topo_create(c, body, &status);
		ret = send_json(wsi, r, (unsigned)status, reply);
	} else if (r->method == M_DELETE && !strncmp(path, "/topologies/", 12)) {
		reply = topo_delete(c, path + 12, &status);
		ret = send_json(wsi, r, (unsigned)status, reply);
	} else if ((r->method == M_PUT || r->method == M_POST) && !strcmp(path, "/policy")) {
		const char *p[5];
		json_object *pol = json_object_object_get(body, "policy");
		PGresult *res;

		p[0] = json_object_get_string(json_object_object_get(body, "topology"));
		p[1] = json_object_get_string(json_object_object_get(body, "a"));
		p[2] = json_object_get_string(json_object_object_get(body, "b"));
		p[3] = json_object_object_get(body, "dir") ?
			json_object_get_string(json_object_object_get(body, "dir")) : "both";
		p[4] = pol ? json_object_to_json_string(pol) : NULL;
		if (!p[0] || !p[1] || !p[2] || (pol && !json_object_is_type(pol, json_type_object))) {
			ret = send_error(wsi, r, 400, "bad_field",
					 "expected {\"topology\", \"a\", \"b\", \"dir\", \"policy\": {...}}");
		} else if (!(res = db_query(c->db,
				"SELECT sluice_set_policy($1, $2, $3, $4, $5::jsonb)", 5, p))) {
			ret = send_error(wsi, r, 400, "invalid",
					 "cannot set the policy of %s-%s in %s (no such link or bad dir)",
					 p[1], p[2], p[0]);
		} else {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "ok", json_object_new_boolean(1));
			json_object_object_add(o, "id", json_object_new_int64(
				strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
			PQclear(res);
			ret = send_json(wsi, r, 200, o);
		}
	} else if (r->method == M_GET && !strcmp(path, "/stats")) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		char topo[SL_PROTO_NAME_MAX];
		const char *want = query_arg(wsi, "topology=", topo, sizeof(topo));
		size_t i;

		for (i = 0; i < c->n_links; i++) {
			const struct link_stat *l = &c->links[i];
			json_object *e;

			if (want && strcmp(want, l->topology))
				continue;
			e = json_object_new_object();
			json_object_object_add(e, "topology", json_object_new_string(l->topology));
			json_object_object_add(e, "a", json_object_new_string(l->a));
			json_object_object_add(e, "b", json_object_new_string(l->b));
			json_object_object_add(e, "dir", json_object_new_string(l->dir));
			json_object_object_add(e, "host", json_object_new_string(l->host));
			json_object_object_add(e, "packets", json_object_new_int64((int64_t)l->packets));
			json_object_object_add(e, "bytes", json_object_new_int64((int64_t)l->bytes));
			json_object_object_add(e, "drops", json_object_new_int64((int64_t)l->drops));
			json_object_object_add(e, "qlen", json_object_new_int64((int64_t)l->qlen));
			json_object_object_add(e, "bps", json_object_new_double(l->bps));
			json_object_object_add(e, "pps", json_object_new_double(l->pps));
			json_object_object_add(e, "ts", json_object_new_double(l->ts));
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "links", arr);
		ret = send_json(wsi, r, 200, o);
	} else if (r->method == M_GET && !strcmp(path, "/series")) {
		char t[SL_PROTO_NAME_MAX], a[SL_PROTO_NAME_MAX], b[SL_PROTO_NAME_MAX];
		char d[8], sec[16];
		const char *p[5];

		p[0] = query_arg(wsi, "topology=", t, sizeof(t));
		p[1] = query_arg(wsi, "a=", a, sizeof(a));
		p[2] = query_arg(wsi, "b=", b, sizeof(b));
		p[3] = query_arg(wsi, "dir=", d, sizeof(d));
		p[4] = query_arg(wsi, "seconds=", sec, sizeof(sec));
		if (!p[0] || !p[1] || !p[2])
			return send_error(wsi, r, 400, "bad_field",
					  "expected ?topology=&a=&b=[&dir=up|down][&seconds=N]");
		if (!p[3])
			p[3] = "up";
		if (!p[4])
			p[4] = "300";
		ret = send_query_json(wsi, r,
			"SELECT json_build_object('points', coalesce(json_agg(json_build_array("
			" extract(epoch FROM ts), packets, bytes, drops) ORDER BY ts), '[]'))::text"
			" FROM link_metrics WHERE topology = $1 AND a = $2 AND b = $3 AND dir = $4"
			" AND ts > now() - make_interval(secs => $5::double precision)", 5, p);
	} else if (r->method == M_GET && !strcmp(path, "/relays")) {
		char topo[SL_PROTO_NAME_MAX];
		const char *p[1] = { query_arg(wsi, "topology=", topo, sizeof(topo)) };

		ret = send_query_json(wsi, r,
			"SELECT json_build_object('relays', coalesce(json_agg(json_build_object("
			" 'id', r.id, 'topology', t.name, 'node', r.node, 'port', r.port,"
			" 'to_node', r.to_node, 'to_port', r.to_port, 'via', to_json(r.via),"
			" 'socks5', r.socks5, 'mode', r.mode, 'enabled', r.enabled,"
			" 'version', r.version, 'host', (SELECT n.host_id FROM nodes n"
			"  WHERE n.topology_id = t.id AND n.name = r.node)) ORDER BY r.id), '[]'))::text"
			" FROM relays r JOIN topologies t ON t.id = r.topology_id"
			" WHERE $1::text IS NULL OR t.name = $1", 1, p);
	} else if (r->method == M_POST && !strcmp(path, "/relays")) {
		reply = relay_create(c, body, &status);
		ret = send_json(wsi, r, (unsigned)status, reply);
	} else if (r->method == M_DELETE && !strncmp(path, "/relays/", 8)) {
		reply = relay_delete(c, path + 8, &status);
		ret = send_json(wsi, r, (unsigned)status, reply);
	} else if (r->method == M_GET && !strcmp(path, "/events")) {
		ret = send_query_json(wsi, r,
			"SELECT json_build_object('events', coalesce(json_agg(json_build_object("
			" 'id', id, 'ts', extract(epoch FROM ts), 'host', host_id, 'kind', kind,"
			" 'topology', topology, 'a', a, 'b', b, 'message', message) ORDER BY id), '[]'))::text"
			" FROM (SELECT * FROM events ORDER BY id DESC LIMIT 200) e", 0, NULL);
	} else {
		ret = send_error(wsi, r, 404, "notfound", "no API route %s", r->path);
	}
	json_object_put(body);
	return ret;
}

static int route(struct lws *wsi, struct http_req *r)
{
	if (r->method == M_OTHER)
		return send_error(wsi, r, 405, "method", "method not supported");
	if (!strcmp(r->path, "/healthz"))
		return send_response(wsi, r, 200, "text/plain", strdup("ok\n"), 3);
	if (!strcmp(r->path, "/metrics")) {
		if (!g_ctl->conf.metrics_public && r->role == ROLE_NONE)
			return send_error(wsi, r, 401, "auth",
					  "missing or wrong token; expected \"Authorization: Bearer <token>\"");
		return send_prometheus(wsi, r);
	}
	if (!strcmp(r->path, "/api") || !strncmp(r->path, "/api/", 5))
		return route_api(wsi, r);
	if (r->method != M_GET)
		return send_error(wsi, r, 405, "method", "method not supported");
	return serve_file(wsi, r);
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason,
		  void *user, void *in, size_t len)
{
	struct http_req *r = user;
	size_t n;
	int flag;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* A WebSocket must name subprotocol "sluice.v1". */
		return 1;
	case LWS_CALLBACK_HTTP:
		free(r->body);
		free(r->resp);
		memset(r, 0, sizeof(*r));
		snprintf(r->path, sizeof(r->path), "%s", (const char *)in);
		if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
			r->method = M_GET;
		else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
			r->method = M_POST;
		else if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI))
			r->method = M_PUT;
		else if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI))
			r->method = M_DELETE;
		else
			r->method = M_OTHER;
		if (!strcmp(r->path, "/metrics") || !strncmp(r->path, "/api", 4))
			r->role = authenticate(wsi);
		if (r->method == M_POST || r->method == M_PUT)
			return 0; /* the body comes first */
		return route(wsi, r) ? -1 : 0;
	case LWS_CALLBACK_HTTP_BODY:
		if (!r)
			return -1;
		/* Answered already (a method that takes no body): drop it. */
		if (r->body_too_large || r->responded)
			return 0;
		if (r->body_len + len > SL_PROTO_FRAME_MAX) {
			r->body_too_large = true;
			return 0;
		}
		if (r->body_len + len + 1 > r->body_cap) {
			size_t cap = r->body_cap ? r->body_cap * 2 : 4096;
			char *b;

			while (cap < r->body_len + len + 1)
				cap *= 2;
			b = realloc(r->body, cap);
			if (!b)
				return -1;
			r->body = b;
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, in, len);
		r->body_len += len;
		r->body[r->body_len] = '\0';
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
		int ret = r->responded ? 0 : route(wsi, r);

		free(r->body);
		r->body = NULL;
		r->body_len = r->body_cap = 0;
		return ret ? -1 : 0;
	}
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!r || !r->resp)
			break;
		n = r->resp_len - r->resp_off;
		if (n > CHUNK)
			n = CHUNK;
		flag = r->resp_off + n == r->resp_len ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP;
		{
			unsigned char *b = malloc(LWS_PRE + n + 1);

			if (!b)
				return -1;
			memcpy(b + LWS_PRE, r->resp + r->resp_off, n);
			if (lws_write(wsi, b + LWS_PRE, n, (enum lws_write_protocol)flag) < (int)n) {
				free(b);
				return -1;
			}
			free(b);
		}
		r->resp_off += n;
		if (flag == LWS_WRITE_HTTP_FINAL) {
			free(r->resp);
			r->resp = NULL;
			if (lws_http_transaction_completed(wsi))
				return -1;
		} else {
			lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (!r)
			break;
		free(r->body);
		free(r->resp);
		r->body = r->resp = NULL;
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}
