// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relay_ops.c - TCP relays through the controller: the REST routes that
 * write relay rows (db/migrations/003_relays.sql), and the push of a row
 * to the host that carries its node once the row's NOTIFY arrives, the
 * same path a script's INSERT takes.
 *
 * A row becomes relay_add (enabled) or relay_del (disabled or deleted).
 * A deleted row is gone by the time its NOTIFY is read, so relay_del then
 * goes to every connected host with topology "*"; a host without that
 * relay acknowledges it as a no-op. Hosts treat a relay_add of a version
 * they already run as a no-op, so every row can be sent again after a
 * reconnect (rows_resync_host).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/log.h>

#include "controller.h"

#define RELAY_ROW_SQL \
	"SELECT t.name, r.enabled, json_build_object('id', r.id, 'node', r.node," \
	"  'port', r.port, 'to_node', r.to_node, 'to_port', r.to_port," \
	"  'via', to_json(r.via), 'socks5', r.socks5, 'mode', r.mode," \
	"  'version', r.version)::text, n.host_id" \
	" FROM relays r JOIN topologies t ON t.id = r.topology_id" \
	" LEFT JOIN nodes n ON n.topology_id = t.id AND n.name = r.node"

void push_relay(struct ctl *c, const char *id, bool deleted,
		const char *only_host)
{
	const char *p[1] = { id };
	struct session *s;
	PGresult *r;
	bool on;

	r = deleted ? NULL : db_query(c->db, RELAY_ROW_SQL
		" WHERE r.id = $1 AND t.state IN ('applying', 'up')", 1, p);
	if (!deleted && !r)
		return;
	if (deleted || !PQntuples(r)) {
		/* Gone (or its topology is): whoever has it stops it. */
		PQclear(r);
		for (s = c->sessions; s; s = s->next) {
			json_object *o;

			if (s->role != ROLE_HOST || (only_host && strcmp(only_host, s->name)))
				continue;
			o = sl_proto_new(SL_MSG_RELAY_DEL);
			json_object_object_add(o, "topology", json_object_new_string("*"));
			json_object_object_add(o, "relay", json_object_new_int64(strtoll(id, NULL, 10)));
			host_command(c, s->name, SL_MSG_RELAY_DEL, o, NULL);
		}
		return;
	}
	if (PQgetisnull(r, 0, 3)) {
		char msg[256];
		const char *e[2] = { PQgetvalue(r, 0, 0), msg };

		/* No host will say so: the error is the controller's to record. */
		snprintf(msg, sizeof(msg), "relay %s: its node is not in topology %s or "
			 "not placed on a host; nothing to push", id, PQgetvalue(r, 0, 0));
		pr_warn("%s", msg);
		PQclear(db_query(c->db, "INSERT INTO events (kind, topology, message)"
				 " VALUES ('error', $1, $2)", 2, e));
		PQclear(r);
		return;
	}
	if (only_host && strcmp(only_host, PQgetvalue(r, 0, 3))) {
		PQclear(r);
		return;
	}
	on = !strcmp(PQgetvalue(r, 0, 1), "t");
	{
		json_object *o = sl_proto_new(on ? SL_MSG_RELAY_ADD : SL_MSG_RELAY_DEL);

		json_object_object_add(o, "topology", json_object_new_string(PQgetvalue(r, 0, 0)));
		json_object_object_add(o, "relay", on ? json_tokener_parse(PQgetvalue(r, 0, 2)) :
				       json_object_new_int64(strtoll(id, NULL, 10)));
		if (host_command(c, PQgetvalue(r, 0, 3), on ? SL_MSG_RELAY_ADD : SL_MSG_RELAY_DEL,
				 o, PQgetvalue(r, 0, 0)) < 0)
			pr_info("relay %s: host %s is not connected; it gets the relay when it is",
				id, PQgetvalue(r, 0, 3));
	}
	PQclear(r);
}

void rows_resync_host(struct ctl *c, const char *host)
{
	const char *p[1] = { host };
	PGresult *r;
	int i;

	r = db_query(c->db,
		"SELECT r.id FROM relays r JOIN topologies t ON t.id = r.topology_id"
		" JOIN nodes n ON n.topology_id = t.id AND n.name = r.node"
		" WHERE n.host_id = $1 AND r.enabled AND t.state IN ('applying', 'up')"
		" ORDER BY r.id", 1, p);
	for (i = 0; r && i < PQntuples(r); i++)
		push_relay(c, PQgetvalue(r, i, 0), false, host);
	PQclear(r);
}

/* A string field: NULL when absent or null; *bad when of another type. */
static const char *body_str(json_object *b, const char *k, bool *bad)
{
	json_object *v;

	if (!json_object_object_get_ex(b, k, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string) || !json_object_get_string_len(v) ||
	    json_object_get_string_len(v) >= SL_PROTO_NAME_MAX) {
		*bad = true;
		return NULL;
	}
	return json_object_get_string(v);
}

/* A port field: 0 when absent; -1 when not 1..65535. */
static int body_port(json_object *b, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(b, k, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
	    json_object_get_int64(v) > 65535)
		return -1;
	return (int)json_object_get_int64(v);
}

/*
 * POST /api/relays {topology, node, port, to_node + to_port | socks5: true,
 * via?: [nodes], mode?: "splice"|"sockmap"}: a relay row (the trigger and
 * the push do the rest). 201 {ok, id}.
 */
json_object *relay_create(struct ctl *c, json_object *body, int *status)
{
	bool bad = false, socks5 = false;
	const char *topo = body_str(body, "topology", &bad);
	const char *node = body_str(body, "node", &bad);
	const char *to_node = body_str(body, "to_node", &bad);
	const char *mode = body_str(body, "mode", &bad);
	int port = body_port(body, "port"), to_port = body_port(body, "to_port");
	json_object *v, *via = json_object_new_array(), *o;
	char ps[16], tps[16];
	const char *p[8];
	PGresult *r;
	size_t i;

	if (bad || !topo || !node) {
		json_object_put(via);
		return rest_error(status, 400, "bad_field", "expected \"topology\" and \"node\" "
				 "(strings of 1 to %d bytes)", SL_PROTO_NAME_MAX - 1);
	}
	if (port <= 0 || to_port < 0) {
		json_object_put(via);
		return rest_error(status, 400, "bad_field", "field \"%s\": expected a port "
				 "from 1 to 65535", port <= 0 ? "port" : "to_port");
	}
	if (json_object_object_get_ex(body, "socks5", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			json_object_put(via);
			return rest_error(status, 400, "bad_field", "field \"socks5\": expected true or false");
		}
		socks5 = json_object_get_boolean(v);
	}
	if (socks5 == (to_node != NULL) || (to_node && !to_port)) {
		json_object_put(via);
		return rest_error(status, 400, "bad_field", "expected \"to_node\" and \"to_port\", "
				 "or \"socks5\": true");
	}
	if (mode && strcmp(mode, "splice") && strcmp(mode, "sockmap")) {
		json_object_put(via);
		return rest_error(status, 400, "bad_field", "field \"mode\": \"%s\"; expected "
				 "\"splice\" or \"sockmap\"", mode);
	}
	if (json_object_object_get_ex(body, "via", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_array)) {
			json_object_put(via);
			return rest_error(status, 400, "bad_field", "field \"via\": expected an array of node names");
		}
		for (i = 0; i < json_object_array_length(v); i++) {
			json_object *h = json_object_array_get_idx(v, i);

			if (!json_object_is_type(h, json_type_string) || !json_object_get_string_len(h)) {
				json_object_put(via);
				return rest_error(status, 400, "bad_field", "field \"via[%zu]\": "
						 "expected a node name", i);
			}
			json_object_array_add(via, json_object_get(h));
		}
	}
	if (socks5 && json_object_array_length(via)) {
		json_object_put(via);
		return rest_error(status, 400, "bad_field", "a SOCKS5 relay is one node; expected no \"via\"");
	}
	snprintf(ps, sizeof(ps), "%d", port);
	snprintf(tps, sizeof(tps), "%d", to_port);
	p[0] = topo;
	r = db_query(c->db, "SELECT id FROM topologies WHERE name = $1 AND state <> 'down'", 1, p);
	if (!r) {
		json_object_put(via);
		return rest_error(status, 503, "internal", "database unavailable");
	}
	if (!PQntuples(r)) {
		PQclear(r);
		json_object_put(via);
		return rest_error(status, 404, "notfound", "no topology \"%s\"", topo);
	}
	PQclear(r);
	p[1] = node;
	p[2] = ps;
	p[3] = to_node;
	p[4] = to_node ? tps : NULL;
	p[5] = json_object_to_json_string_ext(via, JSON_C_TO_STRING_PLAIN);
	p[6] = socks5 ? "true" : "false";
	p[7] = mode ? mode : "splice";
	r = db_query(c->db,
		"INSERT INTO relays (topology_id, node, port, to_node, to_port, via, socks5, mode)"
		" SELECT t.id, $2, $3::integer, $4, $5::integer,"
		"  ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), $7::boolean, $8"
		" FROM topologies t WHERE t.name = $1"
		" ON CONFLICT (topology_id, node, port) DO NOTHING RETURNING id", 8, p);
	json_object_put(via);
	if (!r)
		return rest_error(status, 400, "invalid", "cannot record the relay (see the controller's log)");
	if (!PQntuples(r)) {
		PQclear(r);
		return rest_error(status, 409, "exists", "a relay listens on %s:%d in %s already",
				 node, port, topo);
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "id", json_object_new_int64(strtoll(PQgetvalue(r, 0, 0), NULL, 10)));
	PQclear(r);
	*status = 201;
	return o;
}

/* DELETE /api/relays/ID */
json_object *relay_delete(struct ctl *c, const char *id, int *status)
{
	const char *p[1] = { id };
	json_object *o;
	PGresult *r;

	if (!*id || strspn(id, "0123456789") != strlen(id) || strlen(id) > 9)
		return rest_error(status, 400, "bad_field", "relay id \"%s\": expected a number", id);
	r = db_query(c->db, "DELETE FROM relays WHERE id = $1::integer RETURNING id", 1, p);
	if (!r)
		return rest_error(status, 503, "internal", "database unavailable");
	if (!PQntuples(r)) {
		PQclear(r);
		return rest_error(status, 404, "notfound", "no relay %s", id);
	}
	PQclear(r);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "id", json_object_new_int64(strtoll(id, NULL, 10)));
	*status = 200;
	return o;
}
