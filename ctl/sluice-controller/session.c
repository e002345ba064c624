// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * session.c - what the controller does with each message on a WebSocket,
 * and what it pushes to the web UI (snapshots, link stats); the rows it
 * pushes to hosts are push.c's.
 *
 * Order of checks for every message: it parses and validates against the
 * protocol table (lib/proto.c) for the sender's role; before a successful
 * hello only hello is accepted; a refused hello is answered and the
 * connection closed. Every other failure is answered with an error naming
 * the problem and logged, and the connection stays.
 *
 * Metrics are acknowledged one report at a time, only after the database
 * committed them, so a report the controller could not store stays in the
 * host's buffer and comes again: the metrics table has no gaps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/log.h>

#include "controller.h"

#define PENDING_TIMEOUT_MS 120000

static const char *role_name(enum role r)
{
	switch (r) {
	case ROLE_HOST: return "host";
	case ROLE_UI: return "ui";
	case ROLE_API: return "api";
	default: return "none";
	}
}

static void refuse(struct session *s, enum sl_proto_code code, int64_t ref,
		   const char *msg)
{
	session_send_error(s, code, ref, "%s", msg);
	s->close_after_write = true;
}

static void event_insert(struct ctl *c, const char *host, const char *kind,
			 const char *topology, const char *a, const char *b,
			 const char *message, const char *data)
{
	const char *p[7] = { host, kind, topology, a, b, message, data };
	PGresult *r = db_query(c->db,
		"INSERT INTO events (host_id, kind, topology, a, b, message, data)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)", 7, p);

	PQclear(r);
}

static void send_welcome(struct ctl *c, struct session *s, int64_t last_seq)
{
	json_object *o = sl_proto_new(SL_MSG_WELCOME);

	json_object_object_add(o, "session", json_object_new_string(s->id));
	json_object_object_add(o, "role", json_object_new_string(role_name(s->role)));
	if (s->role == ROLE_HOST) {
		json_object_object_add(o, "host", json_object_new_string(s->name));
		json_object_object_add(o, "last_seq", json_object_new_int64(last_seq));
		json_object_object_add(o, "metrics_interval_ms",
				       json_object_new_int(c->conf.metrics_interval_ms));
		json_object_object_add(o, "heartbeat_ms",
				       json_object_new_int(c->conf.heartbeat_ms));
	}
	session_send(s, o);
	json_object_put(o);
}

static void hello_host(struct ctl *c, struct session *s, struct sl_msg *m)
{
	const char *host = sl_msg_str(m, "host"), *token = sl_msg_str(m, "token");
	const char *p[5];
	char hash[65], boot[24], caps[4096], cap[4096];
	struct session *old;
	PGresult *r;
	int64_t last = 0, max_seq = 0;
	double away_since = 0;
	bool ok;

	token_hash(token, hash);
	p[0] = host;
	r = db_query(c->db, "SELECT token_hash, coalesce(extract(epoch FROM last_seen), 0)"
			    " FROM hosts WHERE id = $1", 1, p);
	if (!r) {
		refuse(s, SL_PROTO_E_INTERNAL, m->id,
		       "the controller's database is unavailable; try again later");
		return;
	}
	ok = PQntuples(r) == 1 && hash_equal(PQgetvalue(r, 0, 0), hash);
	/* Its last contact: flows deleted since then are deleted there too. */
	if (ok)
		away_since = strtod(PQgetvalue(r, 0, 1), NULL);
	PQclear(r);
	if (!ok) {
		pr_warn("session %s: host \"%s\" refused: unknown host or wrong token",
			s->id, host);
		refuse(s, SL_PROTO_E_AUTH, m->id, "host id or token not accepted");
		return;
	}
	old = session_find_host(c, host);
	if (old) {
		pr_info("session %s: host %s connected again; closing its old session %s",
			s->id, host, old->id);
		old->close_now = true;
		old->role = ROLE_NONE; /* its close must not mark the host offline */
		lws_callback_on_writable(old->wsi);
	}
	s->role = ROLE_HOST;
	snprintf(s->name, sizeof(s->name), "%s", host);
	s->boot = sl_msg_int(m, "boot", 0);
	snprintf(boot, sizeof(boot), "%lld", (long long)s->boot);
	snprintf(caps, sizeof(caps), "%s", sl_msg_get(m, "capabilities") ?
		 json_object_to_json_string(sl_msg_get(m, "capabilities")) : "[]");
	snprintf(cap, sizeof(cap), "%s", sl_msg_get(m, "capacity") ?
		 json_object_to_json_string(sl_msg_get(m, "capacity")) : "{}");
	p[1] = sl_msg_str(m, "version");
	p[2] = caps;
	p[3] = cap;
	p[4] = boot;
	PQclear(db_query(c->db,
		"UPDATE hosts SET state = 'online', version = $2, capabilities = $3::jsonb,"
		" capacity = $4::jsonb, boot = $5, connected_at = now(), last_seen = now()"
		" WHERE id = $1", 5, p));
	p[1] = boot;
	/* last_seq is the end of the gapless run 1..N, not max(seq): during a
	 * database outage newer reports may be stored while older ones wait
	 * for their retry, and the host drops whatever the welcome covers. */
	r = db_query(c->db,
		"SELECT CASE WHEN EXISTS (SELECT 1 FROM metrics"
		"   WHERE host_id = $1 AND boot = $2 AND seq = 1)"
		"  THEN (SELECT min(m.seq) FROM metrics m WHERE m.host_id = $1 AND m.boot = $2"
		"   AND NOT EXISTS (SELECT 1 FROM metrics n WHERE n.host_id = $1"
		"    AND n.boot = $2 AND n.seq = m.seq + 1))"
		"  ELSE 0 END,"
		" (SELECT coalesce(max(seq), 0) FROM metrics WHERE host_id = $1 AND boot = $2)",
		2, p);
	if (r && PQntuples(r) == 1) {
		last = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		max_seq = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	}
	PQclear(r);
	pr_info("session %s: host %s online (version %s, boot %s, stored without gaps up to seq %lld, highest %lld)",
		s->id, host, sl_msg_str(m, "version"), boot, (long long)last,
		(long long)max_seq);
	send_welcome(c, s, last);
	event_insert(c, host, "host_up", NULL, NULL, NULL, "connected", NULL);
	resync_host(c, s, sl_msg_get(m, "topologies"), away_since);
	broadcast_snapshot(c);
}

static void hello_client(struct ctl *c, struct session *s, struct sl_msg *m)
{
	const char *role = sl_msg_str(m, "role");
	char hash[65];
	const char *p[1] = { hash };
	PGresult *r;
	bool ok;

	token_hash(sl_msg_str(m, "token"), hash);
	r = db_query(c->db, "SELECT name, role FROM api_tokens WHERE token_hash = $1", 1, p);
	if (!r) {
		refuse(s, SL_PROTO_E_INTERNAL, m->id,
		       "the controller's database is unavailable; try again later");
		return;
	}
	/* An api token may also watch (ui); a ui token may not steer. */
	ok = PQntuples(r) == 1 && (!strcmp(PQgetvalue(r, 0, 1), "api") ||
				   !strcmp(PQgetvalue(r, 0, 1), role));
	if (ok)
		snprintf(s->name, sizeof(s->name), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (!ok) {
		pr_warn("session %s: %s client refused: unknown or wrong token", s->id, role);
		refuse(s, SL_PROTO_E_AUTH, m->id, "token not accepted");
		return;
	}
	s->role = !strcmp(role, "ui") ? ROLE_UI : ROLE_API;
	pr_info("session %s: %s client \"%s\" authenticated", s->id, role, s->name);
	send_welcome(c, s, 0);
	if (s->role == ROLE_UI) {
		json_object *o = snapshot_json(c);

		if (o) {
			session_send(s, o);
			json_object_put(o);
		}
	}
}

/* Latest counters of a link direction: find or add. */
static struct link_stat *link_stat_get(struct ctl *c, const char *topo,
				       const char *a, const char *b,
				       const char *dir)
{
	struct link_stat *l;
	size_t i;

	for (i = 0; i < c->n_links; i++) {
		l = &c->links[i];
		if (!strcmp(l->topology, topo) && !strcmp(l->a, a) &&
		    !strcmp(l->b, b) && !strcmp(l->dir, dir))
			return l;
	}
	if (c->n_links == c->cap_links) {
		size_t cap = c->cap_links ? c->cap_links * 2 : 64;

		l = realloc(c->links, cap * sizeof(*l));
		if (!l)
			return NULL;
		c->links = l;
		c->cap_links = cap;
	}
	l = &c->links[c->n_links++];
	memset(l, 0, sizeof(*l));
	snprintf(l->topology, sizeof(l->topology), "%s", topo);
	snprintf(l->a, sizeof(l->a), "%s", a);
	snprintf(l->b, sizeof(l->b), "%s", b);
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
	return l;
}

static uint64_t row_u64(json_object *row, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(row, k, &v) ?
		(uint64_t)json_object_get_int64(v) : 0;
}

/* Updates the link table and sends the changed rows to the UI. */
static void stats_update(struct ctl *c, struct session *s, json_object *links,
			 double ts)
{
	json_object *out = sl_proto_new(SL_MSG_STATS), *arr = json_object_new_array();
	size_t i, n = json_object_array_length(links);
	struct session *u;

	for (i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(links, i), *v, *o;
		struct link_stat *l;
		const char *k[4];
		uint64_t bytes, pkts;

		k[0] = json_object_get_string(json_object_object_get(row, "topology"));
		k[1] = json_object_get_string(json_object_object_get(row, "a"));
		k[2] = json_object_get_string(json_object_object_get(row, "b"));
		k[3] = json_object_get_string(json_object_object_get(row, "dir"));
		l = link_stat_get(c, k[0], k[1], k[2], k[3]);
		if (!l || ts <= l->ts)
			continue; /* a replayed, older report */
		bytes = row_u64(row, "bytes");
		pkts = row_u64(row, "packets");
		if (l->ts > 0 && ts - l->ts > 1e-3 && bytes >= l->bytes) {
			l->bps = (double)(bytes - l->bytes) * 8 / (ts - l->ts);
			l->pps = (double)(pkts - l->packets) / (ts - l->ts);
		} else {
			l->bps = l->pps = 0;
		}
		l->bytes = bytes;
		l->packets = pkts;
		l->drops = row_u64(row, "drops");
		l->qlen = row_u64(row, "qlen");
		l->sojourn_us = json_object_object_get_ex(row, "sojourn_us", &v) ?
			json_object_get_double(v) : 0;
		l->ts = ts;
		snprintf(l->host, sizeof(l->host), "%s", s->name);
		o = json_object_new_object();
		json_object_object_add(o, "topology", json_object_new_string(l->topology));
		json_object_object_add(o, "a", json_object_new_string(l->a));
		json_object_object_add(o, "b", json_object_new_string(l->b));
		json_object_object_add(o, "dir", json_object_new_string(l->dir));
		json_object_object_add(o, "packets", json_object_new_int64((int64_t)l->packets));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)l->bytes));
		json_object_object_add(o, "drops", json_object_new_int64((int64_t)l->drops));
		json_object_object_add(o, "qlen", json_object_new_int64((int64_t)l->qlen));
		json_object_object_add(o, "bps", json_object_new_double(l->bps));
		json_object_object_add(o, "pps", json_object_new_double(l->pps));
		json_object_object_add(o, "host", json_object_new_string(l->host));
		json_object_array_add(arr, o);
	}
	json_object_object_add(out, "ts", json_object_new_double(ts));
	json_object_object_add(out, "links", arr);
	if (json_object_array_length(arr))
		for (u = c->sessions; u; u = u->next)
			if (u->role == ROLE_UI)
				session_send(u, out);
	json_object_put(out);
}

static void on_metrics(struct ctl *c, struct session *s, struct sl_msg *m)
{
	char boot[24], seq[24], ts[32];
	const char *p[6];
	json_object *raw, *ack, *v;
	PGresult *r;
	int64_t b = sl_msg_int(m, "boot", 0);
	double t;

	if (b != s->boot) {
		pr_warn("session %s (%s): bad_field: metrics of boot %lld; this session's boot is %lld",
			s->id, s->name, (long long)b, (long long)s->boot);
		session_send_error(s, SL_PROTO_E_FIELD, m->id,
				   "field \"boot\": %lld; expected this session's boot %lld",
				   (long long)b, (long long)s->boot);
		return;
	}
	v = sl_msg_get(m, "ts");
	t = json_object_get_double(v);
	snprintf(boot, sizeof(boot), "%lld", (long long)b);
	snprintf(seq, sizeof(seq), "%lld", (long long)sl_msg_int(m, "seq", 0));
	snprintf(ts, sizeof(ts), "%.6f", t);
	raw = json_object_new_object();
	json_object_object_add(raw, "links", json_object_get(sl_msg_get(m, "links")));
	if (sl_msg_get(m, "cells"))
		json_object_object_add(raw, "cells", json_object_get(sl_msg_get(m, "cells")));
	p[0] = s->name;
	p[1] = boot;
	p[2] = seq;
	p[3] = ts;
	p[4] = json_object_get_boolean(sl_msg_get(m, "replay")) ? "true" : "false";
	p[5] = json_object_to_json_string_ext(raw, JSON_C_TO_STRING_PLAIN);
	/* One statement: the report and its link rows, or nothing when the
	 * report is a duplicate (replayed after a lost ack). */
	r = db_query(c->db,
		"WITH m AS (INSERT INTO metrics (host_id, boot, seq, ts, replayed, raw)"
		"  VALUES ($1, $2, $3, to_timestamp($4), $5, $6::jsonb)"
		"  ON CONFLICT DO NOTHING RETURNING 1)"
		" INSERT INTO link_metrics (host_id, boot, seq, ts, topology, a, b, dir,"
		"  packets, bytes, drops, qlen, sojourn_us)"
		" SELECT $1, $2, $3, to_timestamp($4), x.topology, x.a, x.b, x.dir,"
		"  x.packets, x.bytes, coalesce(x.drops, 0), x.qlen, x.sojourn_us"
		" FROM m, jsonb_to_recordset($6::jsonb -> 'links') AS x(topology text,"
		"  a text, b text, dir text, packets bigint, bytes bigint, drops bigint,"
		"  qlen bigint, sojourn_us double precision)"
		" ON CONFLICT DO NOTHING", 6, p);
	json_object_put(raw);
	if (!r) {
		/* No ack: the host keeps the report and sends it again. */
		session_send_error(s, SL_PROTO_E_INTERNAL, m->id,
				   "metrics seq %s not stored (database unavailable); send it again later",
				   seq);
		return;
	}
	PQclear(r);
	ack = sl_proto_new(SL_MSG_METRICS_ACK);
	json_object_object_add(ack, "boot", json_object_new_int64(b));
	json_object_object_add(ack, "seq", json_object_new_int64(sl_msg_int(m, "seq", 0)));
	session_send(s, ack);
	json_object_put(ack);
	stats_update(c, s, sl_msg_get(m, "links"), t);
}

static void on_event(struct ctl *c, struct session *s, struct sl_msg *m)
{
	const char *kind = sl_msg_str(m, "kind");
	json_object *data = sl_msg_get(m, "data");

	event_insert(c, s->name, kind, sl_msg_str(m, "topology"),
		     sl_msg_str(m, "a"), sl_msg_str(m, "b"),
		     sl_msg_str(m, "message"),
		     data ? json_object_to_json_string(data) : NULL);
	if ((!strcmp(kind, "link_up") || !strcmp(kind, "link_down")) &&
	    sl_msg_str(m, "topology") && sl_msg_str(m, "a") && sl_msg_str(m, "b")) {
		const char *p[4] = { sl_msg_str(m, "topology"), sl_msg_str(m, "a"),
				     sl_msg_str(m, "b"), kind + 5 };

		PQclear(db_query(c->db,
			"UPDATE links l SET state = $4 FROM topologies t"
			" WHERE t.id = l.topology_id AND t.name = $1"
			" AND ((l.a = $2 AND l.b = $3) OR (l.a = $3 AND l.b = $2))", 4, p));
		broadcast_snapshot(c);
	}
	if (!strcmp(kind, "error"))
		pr_warn("host %s reports an error: %s", s->name,
			sl_msg_str(m, "message") ? sl_msg_str(m, "message") : "(no message)");
	/* A gap in its metrics that the host cannot fill (docs/protocol.md). */
	if (!strcmp(kind, "metrics_dropped"))
		pr_warn("host %s: %s", s->name,
			sl_msg_str(m, "message") ? sl_msg_str(m, "message") :
			"metrics reports dropped (buffer full)");
}

static void on_ack(struct ctl *c, struct session *s, struct sl_msg *m)
{
	struct pending **pp, *p;
	bool ok = json_object_get_boolean(sl_msg_get(m, "ok"));

	for (pp = &c->pending; (p = *pp); pp = &p->next) {
		if (p->id != m->id || strcmp(p->host, s->name))
			continue;
		*pp = p->next;
		pr_info("host %s: %s #%lld %s in %llu ms%s%s", s->name,
			sl_msg_type_name(p->type), (long long)p->id,
			ok ? "done" : "failed",
			(unsigned long long)(now_ms() - p->sent_ms),
			ok ? "" : ": ", ok ? "" : (sl_msg_str(m, "error") ?
						   sl_msg_str(m, "error") : "?"));
		if (!ok)
			c->push_failures++;
		topo_on_ack(c, p, ok, sl_msg_str(m, "error"));
		free(p);
		return;
	}
	pr_debug("host %s: ack for unknown command #%lld", s->name, (long long)m->id);
}

static void on_heartbeat(struct ctl *c, struct session *s, struct sl_msg *m)
{
	json_object *o = sl_proto_new(SL_MSG_HEARTBEAT);
	json_object *ts = sl_msg_get(m, "ts");

	if (s->role == ROLE_HOST) {
		const char *p[1] = { s->name };

		PQclear(db_query(c->db, "UPDATE hosts SET last_seen = now() WHERE id = $1",
				 1, p));
	}
	json_object_object_add(o, "ts", ts ? json_object_get(ts) :
			       json_object_new_double(now_unix()));
	session_send(s, o);
	json_object_put(o);
}

void session_on_message(struct ctl *c, struct session *s, const char *buf,
			size_t len)
{
	unsigned from = s->role == ROLE_HOST ? SL_PROTO_FROM_HOST :
		s->role == ROLE_NONE ? SL_PROTO_FROM_HOST | SL_PROTO_FROM_CLIENT :
		SL_PROTO_FROM_CLIENT;
	struct sl_err err = { "" };
	enum sl_proto_code code;
	struct sl_msg m;

	if (sl_proto_parse(buf, len, from, &m, &code, &err)) {
		pr_warn("session %s (%s): %s: %s", s->id, *s->name ? s->name : "-",
			sl_proto_code_name(code), err.msg);
		session_send_error(s, code, m.id, "%s", err.msg);
		return;
	}
	c->msgs_rx[m.type]++;
	if (s->role == ROLE_NONE && m.type != SL_MSG_HELLO) {
		pr_warn("session %s: %s before hello", s->id, sl_msg_type_name(m.type));
		session_send_error(s, SL_PROTO_E_STATE, m.id,
				   "\"%s\" before hello; expected a hello with a token first",
				   sl_msg_type_name(m.type));
		goto out;
	}
	switch (m.type) {
	case SL_MSG_HELLO:
		if (s->role != ROLE_NONE) {
			pr_warn("session %s (%s): a second hello", s->id, s->name);
			session_send_error(s, SL_PROTO_E_STATE, m.id,
					   "already authenticated as %s \"%s\"",
					   role_name(s->role), s->name);
		} else if (!strcmp(sl_msg_str(&m, "role"), "host")) {
			hello_host(c, s, &m);
		} else {
			hello_client(c, s, &m);
		}
		break;
	case SL_MSG_HEARTBEAT:
		on_heartbeat(c, s, &m);
		break;
	case SL_MSG_METRICS:
		on_metrics(c, s, &m);
		break;
	case SL_MSG_EVENT:
		on_event(c, s, &m);
		break;
	case SL_MSG_ACK:
		on_ack(c, s, &m);
		break;
	default:
		session_send_error(s, SL_PROTO_E_TYPE, m.id, "unexpected message type \"%s\"",
				   sl_msg_type_name(m.type));
		break;
	}
out:
	sl_msg_release(&m);
}

void session_on_close(struct ctl *c, struct session *s)
{
	const char *p[1] = { s->name };

	if (s->role != ROLE_HOST || session_find_host(c, s->name) != NULL)
		return;
	s->role = ROLE_NONE;
	PQclear(db_query(c->db, "UPDATE hosts SET state = 'offline', last_seen = now()"
				" WHERE id = $1", 1, p));
	event_insert(c, s->name, "host_down", NULL, NULL, NULL, "disconnected", NULL);
	pr_info("host %s offline", s->name);
	if (c->lws)
		broadcast_snapshot(c);
}

json_object *snapshot_json(struct ctl *c)
{
	PGresult *r = db_query(c->db,
		"SELECT json_build_object("
		" 'hosts', coalesce((SELECT json_agg(json_build_object('id', id,"
		"   'state', state, 'version', version, 'capacity', capacity,"
		"   'last_seen', extract(epoch FROM last_seen)) ORDER BY id) FROM hosts), '[]'),"
		" 'topologies', coalesce((SELECT json_agg(json_build_object("
		"   'name', t.name, 'state', t.state, 'error', t.error,"
		"   'nodes', coalesce((SELECT json_agg(json_build_object('name', n.name,"
		"     'kind', n.kind, 'host', n.host_id) ORDER BY n.id)"
		"     FROM nodes n WHERE n.topology_id = t.id), '[]'),"
		"   'links', coalesce((SELECT json_agg(json_build_object('a', l.a, 'b', l.b,"
		"     'state', l.state, 'rate_up', l.rate_up, 'rate_down', l.rate_down,"
		"     'policy', (SELECT json_object_agg(p.dir, p.policy) FROM policies p"
		"       WHERE p.link_id = l.id)) ORDER BY l.idx)"
		"     FROM links l WHERE l.topology_id = t.id), '[]'))"
		"   ORDER BY t.name) FROM topologies t WHERE t.state <> 'down'), '[]'))::text",
		0, NULL);
	json_object *o, *body;

	if (!r)
		return NULL;
	body = PQntuples(r) == 1 ? json_tokener_parse(PQgetvalue(r, 0, 0)) : NULL;
	PQclear(r);
	if (!body)
		return NULL;
	o = sl_proto_new(SL_MSG_SNAPSHOT);
	json_object_object_add(o, "hosts", json_object_get(json_object_object_get(body, "hosts")));
	json_object_object_add(o, "topologies",
			       json_object_get(json_object_object_get(body, "topologies")));
	json_object_put(body);
	return o;
}

void broadcast_snapshot(struct ctl *c)
{
	struct session *s;
	json_object *o = NULL;

	for (s = c->sessions; s; s = s->next) {
		if (s->role != ROLE_UI)
			continue;
		if (!o)
			o = snapshot_json(c);
		if (!o)
			return;
		session_send(s, o);
	}
	json_object_put(o);
}

void ctl_tick(struct ctl *c)
{
	uint64_t now = now_ms();
	struct pending **pp, *p;
	struct session *s;

	for (s = c->sessions; s; s = s->next) {
		if (s->role == ROLE_HOST && c->conf.host_timeout_ms > 0 &&
		    now - s->last_rx_ms > (uint64_t)c->conf.host_timeout_ms &&
		    !s->close_now) {
			pr_warn("host %s: silent for %llu ms; closing its session", s->name,
				(unsigned long long)(now - s->last_rx_ms));
			s->close_now = true;
			lws_callback_on_writable(s->wsi);
		}
	}
	for (pp = &c->pending; (p = *pp);) {
		if (now - p->sent_ms < PENDING_TIMEOUT_MS) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		pr_warn("host %s: no answer to %s #%lld", p->host,
			sl_msg_type_name(p->type), (long long)p->id);
		topo_on_ack(c, p, false, "the host did not answer");
		free(p);
	}
}
