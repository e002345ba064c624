// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * agent.c - sluiced's side of the controller (include/sluice/hostagent.h):
 * runs the commands the host agent hands over in the daemon's loop (apply,
 * link_policy and teardown here; flows and relays in agent_rows.c), and
 * answers the agent's periodic "collect_metrics" (agent_report.c).
 *
 * A command that fails is answered with a failed ack and also reported as
 * an "error" event, so that it is in the controller's events table even
 * when nobody waits for the ack (a push after a script's COMMIT).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sluice/fabric.h>
#include <sluice/hostagent.h>
#include <sluice/log.h>
#include <sluice/netlink.h>

#include "sluiced.h"

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

/* The names of the topologies up here, for the agent's next hello. */
void agent_sync_topologies(struct daemon *d)
{
	json_object *names;
	size_t i;

	if (!d->agent)
		return;
	names = json_object_new_array();
	for (i = 0; i < d->n_nets; i++)
		json_object_array_add(names, json_object_new_string(d->nets[i]->topo->name));
	sl_hostagent_set_topologies(d->agent, names);
	json_object_put(names);
}

/*
 * Whether a topology that is up has the shape the controller asks for:
 * the same nodes and links. Policies may differ (they change at run time).
 */
static bool same_shape(const struct sl_topo *a, const struct sl_topo *b)
{
	uint32_t i;

	if (a->n_nodes != b->n_nodes || a->n_links != b->n_links || a->ipv6 != b->ipv6)
		return false;
	for (i = 0; i < a->n_nodes; i++)
		if (strcmp(a->nodes[i].name, b->nodes[i].name) ||
		    a->nodes[i].kind != b->nodes[i].kind)
			return false;
	for (i = 0; i < a->n_links; i++)
		if (a->links[i].ep[0].node != b->links[i].ep[0].node ||
		    a->links[i].ep[1].node != b->links[i].ep[1].node ||
		    a->links[i].mtu != b->links[i].mtu)
			return false;
	return true;
}

static int do_apply(struct daemon *d, json_object *cmd, json_object **res,
		    struct sl_err *err)
{
	struct sl_net *up;
	const char *text = json_object_to_json_string_ext(
		json_object_object_get(cmd, "topology"), JSON_C_TO_STRING_PLAIN);
	struct sl_topo *t = NULL;
	struct sl_net *n = NULL;
	int ret;

	ret = sl_topo_parse(text, strlen(text), "controller", &t, err);
	if (ret)
		return ret;
	if ((up = daemon_find_net(d, t->name))) {
		if (!same_shape(up->topo, t)) {
			ret = sl_err_set(err, EEXIST, "a different topology named \"%s\" "
					 "is up on this host; expected it to be taken "
					 "down first", t->name);
			sl_topo_free(t);
			return ret;
		}
		/* Applied already (a resync): nothing to do. */
		*res = json_object_new_object();
		json_object_object_add(*res, "name", json_object_new_string(t->name));
		sl_topo_free(t);
		return 0;
	}
	ret = sl_net_up(t, d->rundir, d->dp, NULL, NULL, &n, err);
	if (ret) {
		sl_topo_free(t);
		return ret;
	}
	if (daemon_add_net(d, n)) {
		sl_net_destroy(d->rundir, n->topo->name, NULL, NULL);
		sl_net_free(n);
		return sl_err_set(err, ENOMEM, "out of memory");
	}
	pr_info("controller: topology %s up (%u nodes, %u links)", n->topo->name,
		n->topo->n_nodes, n->topo->n_links);
	*res = json_object_new_object();
	json_object_object_add(*res, "name", json_object_new_string(n->topo->name));
	json_object_object_add(*res, "nodes", json_object_new_int64(n->topo->n_nodes));
	json_object_object_add(*res, "links", json_object_new_int64(n->topo->n_links));
	json_object_object_add(*res, "seconds", json_object_new_double(n->up_seconds));
	return 0;
}

static int do_teardown(struct daemon *d, json_object *cmd, struct sl_err *err)
{
	const char *name = str(cmd, "topology");
	int ret = 0;

	while (!ret && d->n_nets) {
		struct sl_net *n = name ? daemon_find_net(d, name) : d->nets[0];
		char nm[SL_TOPO_NAME_MAX];

		if (!n)
			break;
		snprintf(nm, sizeof(nm), "%s", n->topo->name);
		relays_stop_topology(d, nm);
		daemon_remove_net(d, n);
		sl_net_free(n);
		ret = sl_net_destroy(d->rundir, nm, NULL, err);
		if (name)
			break;
	}
	return ret;
}

/* "policy" replaces the policy of the direction(s) named by "dir" (up is a
 * to b as the controller names them; the link may be stored as b-a). */
static int do_link_policy(struct daemon *d, json_object *cmd, struct sl_err *err)
{
	const char *topo = str(cmd, "topology"), *a = str(cmd, "a"), *b = str(cmd, "b");
	const char *dir = str(cmd, "dir");
	json_object *pol = json_object_object_get(cmd, "policy");
	struct sl_net *n = topo ? daemon_find_net(d, topo) : NULL;
	const char *text = NULL;
	int ia, ib, l, k, ret;
	bool fwd;

	if (!n)
		return sl_err_set(err, ENOENT, "no topology \"%s\" is up", topo ? topo : "");
	ia = a ? sl_topo_find_node(n->topo, a) : -1;
	ib = b ? sl_topo_find_node(n->topo, b) : -1;
	l = ia < 0 || ib < 0 ? -1 : sl_topo_find_link(n->topo, (uint32_t)ia, (uint32_t)ib);
	if (l < 0)
		return sl_err_set(err, ENOENT, "no link %s-%s in topology %s",
				  a ? a : "?", b ? b : "?", topo);
	if (pol && !json_object_is_type(pol, json_type_null)) {
		if (!json_object_is_type(pol, json_type_object))
			return sl_err_set(err, EINVAL, "policy: expected an object or null");
		if (json_object_object_length(pol))
			text = json_object_to_json_string_ext(pol, JSON_C_TO_STRING_PLAIN);
	}
	fwd = n->topo->links[l].ep[0].node == (uint32_t)ia;
	for (k = 0; k < 2; k++) {
		if (dir && strcmp(dir, "both") && strcmp(dir, k ? "down" : "up"))
			continue;
		ret = sl_net_link_policy(n, (uint32_t)l, fwd ? k : !k, text, err);
		if (ret)
			return ret;
	}
	pr_info("controller: %s link %s-%s (%s) policy %s", topo, a, b,
		dir ? dir : "both", text ? text : "none");
	return 0;
}

void agent_event(struct daemon *d, const char *kind, const char *topo,
		 const char *a, const char *b, json_object *data,
		 const char *fmt, ...)
{
	json_object *ev;
	char msg[1024];
	va_list ap;

	if (!d->agent) {
		json_object_put(data);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev = json_object_new_object();
	json_object_object_add(ev, "kind", json_object_new_string(kind));
	if (topo && *topo)
		json_object_object_add(ev, "topology", json_object_new_string(topo));
	if (a && b) {
		json_object_object_add(ev, "a", json_object_new_string(a));
		json_object_object_add(ev, "b", json_object_new_string(b));
	}
	if (*msg)
		json_object_object_add(ev, "message", json_object_new_string(msg));
	if (data)
		json_object_object_add(ev, "data", data);
	sl_hostagent_push_event(d->agent, ev);
}

static const char *ack_code(int ret)
{
	switch (-ret) {
	case ENOENT: return "notfound";
	case EINVAL: case EOPNOTSUPP: case E2BIG: return "invalid";
	case EEXIST: return "exists";
	case ENOSPC: return "busy";
	default: return "internal";
	}
}

void agent_command(struct daemon *d, json_object *cmd)
{
	const char *type = str(cmd, "type");
	json_object *idj = json_object_object_get(cmd, "id"), *res = NULL;
	int64_t id = idj ? json_object_get_int64(idj) : -1;
	struct sl_err err = { "" };
	int ret;

	if (!strcmp(type, "collect_metrics")) {
		agent_collect_metrics(d);
		return;
	}
	if (!strcmp(type, "apply"))
		ret = do_apply(d, cmd, &res, &err);
	else if (!strcmp(type, "teardown"))
		ret = do_teardown(d, cmd, &err);
	else if (!strcmp(type, "link_policy"))
		ret = do_link_policy(d, cmd, &err);
	else if (!strcmp(type, "flow_add"))
		ret = agent_flow_add(d, cmd, &res, &err);
	else if (!strcmp(type, "flow_del"))
		ret = agent_flow_del(d, cmd, &res, &err);
	else if (!strcmp(type, "relay_add"))
		ret = agent_relay_add(d, cmd, &res, &err);
	else if (!strcmp(type, "relay_del"))
		ret = agent_relay_del(d, cmd, &res, &err);
	else
		ret = sl_err_set(&err, EOPNOTSUPP, "%s is not supported by this sluiced", type);
	if (ret) {
		json_object *t = json_object_object_get(cmd, "topology");
		json_object *data = json_object_new_object();
		/* apply carries the topology file, the others its name. */
		const char *topo = json_object_is_type(t, json_type_string) ?
			json_object_get_string(t) : str(t, "name");

		pr_warn("controller: %s #%lld failed: %s", type, (long long)id, err.msg);
		json_object_object_add(data, "command", json_object_new_string(type));
		json_object_object_add(data, "id", json_object_new_int64(id));
		json_object_object_add(data, "code", json_object_new_string(ack_code(ret)));
		agent_event(d, "error", topo, str(cmd, "a"), str(cmd, "b"), data,
			    "%s #%lld failed: %s", type, (long long)id, err.msg);
		json_object_put(res);
		sl_hostagent_reply_error(d->agent, id, ack_code(ret), err.msg);
	} else {
		sl_hostagent_reply(d->agent, id, res);
	}
	agent_sync_topologies(d);
}
