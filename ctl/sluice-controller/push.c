// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * push.c - commands to hosts, and database rows pushed to the hosts that
 * carry them: host_command() sends a command and keeps it pending until
 * the host's ack (session.c) or the timeout (ctl_tick); link policies and
 * flows go out when their NOTIFY arrives (handle_notify, which hands relay
 * rows to relay_ops.c), again after the database listener was away
 * (handle_resync), and again to a host after its hello (resync_host).
 * Resending a row a host has is harmless: hosts treat a version they have
 * as a no-op.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/log.h>

#include "controller.h"

int64_t host_command(struct ctl *c, const char *host, enum sl_msg_type t,
		     json_object *o, const char *topology)
{
	struct session *s = session_find_host(c, host);
	struct pending *p;
	int64_t id;

	if (!s) {
		json_object_put(o);
		return -1;
	}
	id = ++c->next_cmd_id;
	json_object_object_add(o, "id", json_object_new_int64(id));
	session_send(s, o);
	json_object_put(o);
	c->pushes++;
	p = calloc(1, sizeof(*p));
	if (p) {
		p->id = id;
		p->type = t;
		p->sent_ms = now_ms();
		snprintf(p->host, sizeof(p->host), "%s", host);
		snprintf(p->topology, sizeof(p->topology), "%s", topology ? topology : "");
		p->next = c->pending;
		c->pending = p;
	}
	return id;
}

/* Pushes policy row id to the hosts that carry its link (or only_host). */
static void push_policy(struct ctl *c, const char *id, const char *only_host)
{
	const char *p[1] = { id };
	PGresult *r = db_query(c->db,
		"SELECT p.dir, p.policy::text, p.version, t.name, l.a, l.b,"
		" (SELECT string_agg(DISTINCT n.host_id, ',') FROM nodes n"
		"  WHERE n.topology_id = t.id AND n.name IN (l.a, l.b))"
		" FROM policies p JOIN links l ON l.id = p.link_id"
		" JOIN topologies t ON t.id = l.topology_id"
		" WHERE p.id = $1 AND t.state IN ('applying', 'up')", 1, p);
	char hosts[1024], *h, *save = NULL;

	if (!r)
		return;
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 6)) {
		pr_debug("policy %s: no live link on any host", id);
		PQclear(r);
		return;
	}
	snprintf(hosts, sizeof(hosts), "%s", PQgetvalue(r, 0, 6));
	for (h = strtok_r(hosts, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
		json_object *o;

		if (only_host && strcmp(only_host, h))
			continue;
		o = sl_proto_new(SL_MSG_LINK_POLICY);
		json_object_object_add(o, "topology", json_object_new_string(PQgetvalue(r, 0, 3)));
		json_object_object_add(o, "a", json_object_new_string(PQgetvalue(r, 0, 4)));
		json_object_object_add(o, "b", json_object_new_string(PQgetvalue(r, 0, 5)));
		json_object_object_add(o, "dir", json_object_new_string(PQgetvalue(r, 0, 0)));
		json_object_object_add(o, "policy", PQgetisnull(r, 0, 1) ? NULL :
				       json_tokener_parse(PQgetvalue(r, 0, 1)));
		json_object_object_add(o, "version",
				       json_object_new_int64(strtoll(PQgetvalue(r, 0, 2), NULL, 10)));
		if (host_command(c, h, SL_MSG_LINK_POLICY, o, PQgetvalue(r, 0, 3)) < 0)
			pr_info("policy %s: host %s is not connected; it gets the policy when it is",
				id, h);
	}
	PQclear(r);
}

/* Pushes flow row id (deleted: its removal) to the hosts that carry its
 * nodes, or only to only_host. */
static void push_flow(struct ctl *c, const char *id, bool deleted,
		      const char *only_host)
{
	const char *p[1] = { id };
	PGresult *r;
	int i;

	if (deleted) {
		/* The row is gone: tell every connected host of any topology;
		 * a host without the flow acknowledges a no-op. */
		struct session *s;

		for (s = c->sessions; s; s = s->next) {
			json_object *o;

			if (s->role != ROLE_HOST || (only_host && strcmp(only_host, s->name)))
				continue;
			o = sl_proto_new(SL_MSG_FLOW_DEL);
			json_object_object_add(o, "topology", json_object_new_string("*"));
			json_object_object_add(o, "flow", json_object_new_int64(strtoll(id, NULL, 10)));
			host_command(c, s->name, SL_MSG_FLOW_DEL, o, NULL);
		}
		return;
	}
	r = db_query(c->db,
		"SELECT t.name, f.enabled, json_build_object('id', f.id, 'src', f.src,"
		"  'dst', f.dst, 'proto', f.proto, 'sport', f.sport, 'dport', f.dport,"
		"  'mode', f.mode, 'class', f.class, 'version', f.version)::text, n.host_id"
		" FROM flows f JOIN topologies t ON t.id = f.topology_id"
		" JOIN nodes n ON n.topology_id = t.id AND n.name IN (f.src, f.dst)"
		" WHERE f.id = $1 AND n.host_id IS NOT NULL GROUP BY 1, 2, 3, 4", 1, p);
	if (!r)
		return;
	for (i = 0; i < PQntuples(r); i++) {
		bool on = !strcmp(PQgetvalue(r, i, 1), "t");
		json_object *o;

		if (only_host && strcmp(only_host, PQgetvalue(r, i, 3)))
			continue;
		o = sl_proto_new(on ? SL_MSG_FLOW_ADD : SL_MSG_FLOW_DEL);
		json_object_object_add(o, "topology", json_object_new_string(PQgetvalue(r, i, 0)));
		json_object_object_add(o, "flow", on ? json_tokener_parse(PQgetvalue(r, i, 2)) :
				       json_object_new_int64(strtoll(id, NULL, 10)));
		if (host_command(c, PQgetvalue(r, i, 3), on ? SL_MSG_FLOW_ADD : SL_MSG_FLOW_DEL,
				 o, PQgetvalue(r, i, 0)) < 0)
			pr_info("flow %s: host %s is not connected; it gets the flow when it is",
				id, PQgetvalue(r, i, 3));
	}
	PQclear(r);
}

void handle_notify(struct ctl *c, const char *payload)
{
	json_object *o = json_tokener_parse(payload), *t, *op, *id;
	char ids[24];

	if (!o || !json_object_object_get_ex(o, "table", &t) ||
	    !json_object_object_get_ex(o, "op", &op) ||
	    !json_object_object_get_ex(o, "id", &id)) {
		pr_warn("database: unexpected notification \"%.100s\"", payload);
		json_object_put(o);
		return;
	}
	snprintf(ids, sizeof(ids), "%lld", (long long)json_object_get_int64(id));
	pr_debug("database: %s %s %s", json_object_get_string(t),
		 json_object_get_string(op), ids);
	if (!strcmp(json_object_get_string(t), "policies")) {
		push_policy(c, ids, NULL);
		broadcast_snapshot(c);
	} else if (!strcmp(json_object_get_string(t), "flows")) {
		push_flow(c, ids, !strcmp(json_object_get_string(op), "DELETE"), NULL);
	} else if (!strcmp(json_object_get_string(t), "relays")) {
		push_relay(c, ids, !strcmp(json_object_get_string(op), "DELETE"), NULL);
	}
	json_object_put(o);
}

int handle_resync(struct ctl *c, double since)
{
	char t[32];
	const char *p[1] = { t };
	PGresult *pol, *flo, *del;
	int i;

	/* Rows changed (or flows deleted) from `since` on, on the database's
	 * clock: a NOTIFY for them may have been sent while nobody listened.
	 * Resending a change the host has is harmless (same version). */
	snprintf(t, sizeof(t), "%.3f", since);
	pol = db_query(c->db, "SELECT p.id FROM policies p JOIN links l ON l.id = p.link_id"
			      " JOIN topologies tp ON tp.id = l.topology_id"
			      " WHERE p.updated_at >= to_timestamp($1)"
			      " AND tp.state IN ('applying', 'up') ORDER BY p.id", 1, p);
	flo = pol ? db_query(c->db, "SELECT f.id FROM flows f JOIN topologies tp"
				    " ON tp.id = f.topology_id WHERE f.updated_at >= to_timestamp($1)"
				    " AND tp.state IN ('applying', 'up') ORDER BY f.id", 1, p) : NULL;
	del = flo ? db_query(c->db, "SELECT flow_id FROM flow_deletions"
				    " WHERE deleted_at >= to_timestamp($1) ORDER BY flow_id", 1, p) : NULL;
	if (!del) {
		PQclear(pol);
		PQclear(flo);
		pr_warn("database: listener was away; cannot read what changed yet (will retry)");
		return -EIO;
	}
	pr_info("database: listener was away; resending what changed from %s on:"
		" %d policies, %d flows, %d flow deletions", t, PQntuples(pol),
		PQntuples(flo), PQntuples(del));
	for (i = 0; i < PQntuples(pol); i++)
		push_policy(c, PQgetvalue(pol, i, 0), NULL);
	for (i = 0; i < PQntuples(flo); i++)
		push_flow(c, PQgetvalue(flo, i, 0), false, NULL);
	for (i = 0; i < PQntuples(del); i++)
		push_flow(c, PQgetvalue(del, i, 0), true, NULL);
	PQclear(pol);
	PQclear(flo);
	PQclear(del);
	broadcast_snapshot(c);
	return 0;
}

/* After a host (re)connects: topologies it should have and does not get
 * applied again, and every policy of its links and every flow of its
 * topologies is sent again, and the flows deleted since its last contact
 * (away_since, less a margin) are deleted there, so changes made while it
 * was away reach it. */
void resync_host(struct ctl *c, struct session *s, json_object *have,
		 double away_since)
{
	char since[32];
	const char *p[2] = { s->name, since };
	PGresult *r;
	int i;

	if (have) {
		r = db_query(c->db,
			"SELECT DISTINCT t.name, t.spec::text FROM topologies t"
			" JOIN nodes n ON n.topology_id = t.id"
			" WHERE n.host_id = $1 AND t.state IN ('applying', 'up')", 1, p);
		for (i = 0; r && i < PQntuples(r); i++) {
			size_t k, n = json_object_array_length(have);
			bool found = false;
			json_object *o;

			for (k = 0; k < n && !found; k++)
				found = !strcmp(json_object_get_string(
					json_object_array_get_idx(have, k)),
					PQgetvalue(r, i, 0));
			if (found)
				continue;
			pr_info("host %s: topology %s is missing there; applying it again",
				s->name, PQgetvalue(r, i, 0));
			o = sl_proto_new(SL_MSG_APPLY);
			json_object_object_add(o, "topology", json_tokener_parse(PQgetvalue(r, i, 1)));
			json_object_object_add(o, "source", json_object_new_string("controller resync"));
			host_command(c, s->name, SL_MSG_APPLY, o, PQgetvalue(r, i, 0));
		}
		PQclear(r);
	}
	r = db_query(c->db,
		"SELECT DISTINCT p.id FROM policies p JOIN links l ON l.id = p.link_id"
		" JOIN nodes n ON n.topology_id = l.topology_id AND n.name IN (l.a, l.b)"
		" WHERE n.host_id = $1 ORDER BY p.id", 1, p);
	for (i = 0; r && i < PQntuples(r); i++)
		push_policy(c, PQgetvalue(r, i, 0), s->name);
	PQclear(r);
	r = db_query(c->db,
		"SELECT DISTINCT f.id FROM flows f JOIN topologies t ON t.id = f.topology_id"
		" JOIN nodes n ON n.topology_id = t.id AND n.name IN (f.src, f.dst)"
		" WHERE n.host_id = $1 AND t.state IN ('applying', 'up') ORDER BY f.id", 1, p);
	for (i = 0; r && i < PQntuples(r); i++)
		push_flow(c, PQgetvalue(r, i, 0), false, s->name);
	PQclear(r);
	snprintf(since, sizeof(since), "%.3f", away_since > 60 ? away_since - 60 : 0);
	r = db_query(c->db,
		"SELECT DISTINCT d.flow_id FROM flow_deletions d"
		" JOIN nodes n ON n.topology_id = d.topology_id"
		" WHERE n.host_id = $1 AND d.deleted_at >= to_timestamp($2) ORDER BY d.flow_id",
		2, p);
	for (i = 0; r && i < PQntuples(r); i++)
		push_flow(c, PQgetvalue(r, i, 0), true, s->name);
	PQclear(r);
	rows_resync_host(c, s->name);
}
