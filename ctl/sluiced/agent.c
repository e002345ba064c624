// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * agent.c - sluiced's side of the controller (include/sluice/hostagent.h):
 * runs the commands the host agent hands over in the daemon's loop, and
 * answers the agent's periodic "collect_metrics" with the links' counters.
 */
#include <errno.h>
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

static void collect_metrics(struct daemon *d)
{
	json_object *rep = json_object_new_object(), *links = json_object_new_array();
	size_t i;
	uint32_t l;
	int s;

	for (i = 0; i < d->n_nets; i++) {
		struct sl_net *n = d->nets[i];

		for (l = 0; l < n->topo->n_links; l++) {
			const struct sl_link *lk = &n->topo->links[l];

			for (s = 0; s < 2; s++) {
				struct sl_fabric_stats st = { 0 };
				json_object *r = json_object_new_object();

				if (n->fabric)
					sl_fabric_stats_get(n->fabric, l, (uint32_t)s, &st, NULL);
				json_object_object_add(r, "topology", json_object_new_string(n->topo->name));
				json_object_object_add(r, "a", json_object_new_string(n->topo->nodes[lk->ep[0].node].name));
				json_object_object_add(r, "b", json_object_new_string(n->topo->nodes[lk->ep[1].node].name));
				json_object_object_add(r, "dir", json_object_new_string(s ? "down" : "up"));
				json_object_object_add(r, "packets", json_object_new_int64((int64_t)st.packets));
				json_object_object_add(r, "bytes", json_object_new_int64((int64_t)st.bytes));
				struct sl_qdisc_stats q = { 0 };

				/* The shaper's drops and queue, if the direction has one. */
				sl_net_shaper_stats(n, l, s, &q, NULL);
				json_object_object_add(r, "drops", json_object_new_int64(
					(int64_t)(st.drop_down + st.drop_policer + st.drop_loss + q.drops)));
				json_object_object_add(r, "qlen", json_object_new_int64(q.qlen));
				json_object_object_add(r, "backlog", json_object_new_int64(q.backlog));
				json_object_array_add(links, r);
			}
		}
	}
	json_object_object_add(rep, "links", links);
	sl_hostagent_push_metrics(d->agent, rep);
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

void agent_command(struct daemon *d, json_object *cmd)
{
	const char *type = str(cmd, "type");
	json_object *idj = json_object_object_get(cmd, "id"), *res = NULL;
	int64_t id = idj ? json_object_get_int64(idj) : -1;
	struct sl_err err = { "" };
	int ret;

	if (!strcmp(type, "collect_metrics")) {
		collect_metrics(d);
		return;
	}
	if (!strcmp(type, "apply"))
		ret = do_apply(d, cmd, &res, &err);
	else if (!strcmp(type, "teardown"))
		ret = do_teardown(d, cmd, &err);
	else if (!strcmp(type, "link_policy"))
		ret = do_link_policy(d, cmd, &err);
	else
		ret = sl_err_set(&err, EOPNOTSUPP, "%s is not supported by this sluiced", type);
	if (ret) {
		pr_warn("controller: %s failed: %s", type, err.msg);
		sl_hostagent_reply_error(d->agent, id,
					 ret == -ENOENT ? "notfound" :
					 ret == -EINVAL || ret == -EOPNOTSUPP ? "invalid" :
					 ret == -EEXIST ? "exists" : "internal",
					 err.msg);
	} else {
		sl_hostagent_reply(d->agent, id, res);
	}
	agent_sync_topologies(d);
}
