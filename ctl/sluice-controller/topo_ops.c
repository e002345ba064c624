// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * topo_ops.c - topologies through the controller: validate with the same
 * parser sluiced uses, place the nodes on a host, record the model in the
 * database, send the host an "apply", and follow its acknowledgement.
 *
 * Placement today puts a whole topology on one host: the one named in the
 * request, or the connected host with the fewest nodes placed. Spreading
 * one topology over hosts needs links between hosts (VXLAN, a later
 * issue); the tables already record a host per node for that.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/log.h>
#include <sluice/topo.h>
#include <sluice/units.h>

#include "controller.h"

json_object *rest_verror(const char *ecode, const char *fmt, va_list ap)
{
	json_object *o = json_object_new_object();
	char msg[SL_ERR_MAX + 128];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "code", json_object_new_string(ecode));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

json_object *rest_error(int *status, int code, const char *ecode,
			const char *fmt, ...)
{
	json_object *o;
	va_list ap;

	va_start(ap, fmt);
	o = rest_verror(ecode, fmt, ap);
	va_end(ap);
	*status = code;
	return o;
}

/* The rate of a direction's policy text, or NULL (JSON null). */
static json_object *policy_rate(const char *policy)
{
	json_object *p, *r;
	uint64_t bps;

	if (!policy)
		return NULL;
	p = json_tokener_parse(policy);
	if (p && json_object_object_get_ex(p, "rate", &r) &&
	    json_object_is_type(r, json_type_string) &&
	    !sl_parse_rate(json_object_get_string(r), &bps)) {
		json_object_put(p);
		return json_object_new_int64((int64_t)bps);
	}
	json_object_put(p);
	return NULL;
}

static const char *pick_host(struct ctl *c)
{
	PGresult *r = db_query(c->db,
		"SELECT h.id FROM hosts h LEFT JOIN nodes n ON n.host_id = h.id"
		" LEFT JOIN topologies t ON t.id = n.topology_id AND t.state <> 'down'"
		" WHERE h.state = 'online' GROUP BY h.id"
		" ORDER BY count(t.id), h.id", 0, NULL);
	static char host[SL_PROTO_NAME_MAX];
	int i;

	*host = '\0';
	for (i = 0; r && i < PQntuples(r) && !*host; i++)
		if (session_find_host(c, PQgetvalue(r, i, 0)))
			snprintf(host, sizeof(host), "%s", PQgetvalue(r, i, 0));
	PQclear(r);
	return *host ? host : NULL;
}

json_object *topo_create(struct ctl *c, json_object *body, int *status)
{
	json_object *spec = json_object_object_get(body, "topology");
	json_object *hj = json_object_object_get(body, "host");
	json_object *model, *nodes, *links, *o;
	struct sl_err err = { "" };
	struct sl_topo *t = NULL;
	const char *host, *text, *p[4];
	PGresult *r;
	size_t len;
	uint32_t i;
	int64_t id;

	if (!spec || !json_object_is_type(spec, json_type_object))
		return rest_error(status, 400, "bad_field",
				 "expected {\"topology\": {...topology file...}, \"host\": optional}");
	text = sl_proto_text(spec, &len);
	if (sl_topo_parse(text, len, "topology", &t, &err))
		return rest_error(status, 400, "invalid", "%s", err.msg);
	if (hj) {
		host = json_object_get_string(hj);
		if (!session_find_host(c, host)) {
			sl_topo_free(t);
			return rest_error(status, 409, "notfound", "host \"%s\" is not connected", host);
		}
	} else if (!(host = pick_host(c))) {
		sl_topo_free(t);
		return rest_error(status, 503, "nohost", "no host is connected to the controller");
	}
	p[0] = t->name;
	r = db_query(c->db, "SELECT state FROM topologies WHERE name = $1", 1, p);
	if (!r) {
		sl_topo_free(t);
		return rest_error(status, 503, "internal", "database unavailable");
	}
	if (PQntuples(r) && strcmp(PQgetvalue(r, 0, 0), "down") &&
	    strcmp(PQgetvalue(r, 0, 0), "failed")) {
		o = rest_error(status, 409, "exists", "topology \"%s\" is %s; expected a name not in use",
			      t->name, PQgetvalue(r, 0, 0));
		PQclear(r);
		sl_topo_free(t);
		return o;
	}
	PQclear(r);
	PQclear(db_query(c->db, "DELETE FROM topologies WHERE name = $1", 1, p));
	model = json_object_new_object();
	nodes = json_object_new_array();
	links = json_object_new_array();
	for (i = 0; i < t->n_nodes; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(t->nodes[i].name));
		json_object_object_add(o, "kind", json_object_new_string(
			sl_node_kind_name(t->nodes[i].kind)));
		json_object_array_add(nodes, o);
	}
	for (i = 0; i < t->n_links; i++) {
		const struct sl_link *l = &t->links[i];

		o = json_object_new_object();
		json_object_object_add(o, "idx", json_object_new_int64(i));
		json_object_object_add(o, "a", json_object_new_string(t->nodes[l->ep[0].node].name));
		json_object_object_add(o, "b", json_object_new_string(t->nodes[l->ep[1].node].name));
		json_object_object_add(o, "rate_up", policy_rate(l->policy[SL_DIR_UP]));
		json_object_object_add(o, "rate_down", policy_rate(l->policy[SL_DIR_DOWN]));
		json_object_array_add(links, o);
	}
	json_object_object_add(model, "nodes", nodes);
	json_object_object_add(model, "links", links);
	p[1] = text;
	p[2] = json_object_to_json_string_ext(model, JSON_C_TO_STRING_PLAIN);
	p[3] = host;
	r = db_query(c->db,
		"WITH t AS (INSERT INTO topologies (name, spec, state)"
		"  VALUES ($1, $2::jsonb, 'applying') RETURNING id),"
		" n AS (INSERT INTO nodes (topology_id, name, kind, host_id)"
		"  SELECT t.id, x.name, x.kind, $4 FROM t,"
		"  jsonb_to_recordset($3::jsonb -> 'nodes') AS x(name text, kind text)),"
		" l AS (INSERT INTO links (topology_id, idx, a, b, rate_up, rate_down)"
		"  SELECT t.id, x.idx, x.a, x.b, x.rate_up, x.rate_down FROM t,"
		"  jsonb_to_recordset($3::jsonb -> 'links') AS x(idx integer, a text,"
		"  b text, rate_up bigint, rate_down bigint))"
		" SELECT id FROM t", 4, p);
	json_object_put(model);
	if (!r) {
		sl_topo_free(t);
		return rest_error(status, 503, "internal", "cannot record topology (database)");
	}
	PQclear(r);
	o = sl_proto_new(SL_MSG_APPLY);
	json_object_object_add(o, "topology", json_object_get(spec));
	json_object_object_add(o, "source", json_object_new_string("controller"));
	id = host_command(c, host, SL_MSG_APPLY, o, t->name);
	pr_info("topology %s (%u nodes, %u links) placed on host %s; apply #%lld",
		t->name, t->n_nodes, t->n_links, host, (long long)id);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "state", json_object_new_string("applying"));
	json_object_object_add(o, "nodes", json_object_new_int64(t->n_nodes));
	json_object_object_add(o, "links", json_object_new_int64(t->n_links));
	sl_topo_free(t);
	*status = 202;
	broadcast_snapshot(c);
	return o;
}

json_object *topo_delete(struct ctl *c, const char *name, int *status)
{
	const char *p[1] = { name };
	json_object *o, *hosts;
	PGresult *r;
	int i;

	r = db_query(c->db,
		"SELECT DISTINCT n.host_id FROM topologies t JOIN nodes n ON n.topology_id = t.id"
		" WHERE t.name = $1 AND n.host_id IS NOT NULL", 1, p);
	if (!r)
		return rest_error(status, 503, "internal", "database unavailable");
	hosts = json_object_new_array();
	for (i = 0; i < PQntuples(r); i++) {
		o = sl_proto_new(SL_MSG_TEARDOWN);
		json_object_object_add(o, "topology", json_object_new_string(name));
		if (host_command(c, PQgetvalue(r, i, 0), SL_MSG_TEARDOWN, o, name) >= 0)
			json_object_array_add(hosts, json_object_new_string(PQgetvalue(r, i, 0)));
	}
	PQclear(r);
	r = db_query(c->db, "UPDATE topologies SET state = 'down', updated_at = now()"
			    " WHERE name = $1 RETURNING id", 1, p);
	if (!r || !PQntuples(r)) {
		PQclear(r);
		json_object_put(hosts);
		return rest_error(status, 404, "notfound", "no topology \"%s\"", name);
	}
	PQclear(r);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "state", json_object_new_string("down"));
	json_object_object_add(o, "hosts", hosts);
	*status = 200;
	broadcast_snapshot(c);
	return o;
}

void topo_on_ack(struct ctl *c, const struct pending *pd, bool ok,
		 const char *error)
{
	const char *p[2] = { pd->topology, error };

	if (pd->type != SL_MSG_APPLY || !*pd->topology)
		return;
	PQclear(db_query(c->db, ok ?
		"UPDATE topologies SET state = 'up', error = NULL, updated_at = now()"
		" WHERE name = $1 AND state = 'applying'" :
		"UPDATE topologies SET state = 'failed', error = $2, updated_at = now()"
		" WHERE name = $1 AND state = 'applying'", ok ? 1 : 2, p));
	broadcast_snapshot(c);
}
