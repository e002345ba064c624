// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * api.c - the commands of the local API (include/sluice/api.h): the reply
 * lines, the request's fields and what they name, the commands on whole
 * topologies (up, down, list, nodes, links, resolve, topology, status) and
 * the dispatch. The commands on a topology while it is up (link_set,
 * link_policy, flow_*, relay_*, stats) are in api_runtime.c (api_int.h).
 *
 * Every request is checked before it is acted on: a malformed line, an
 * unknown command or a field of the wrong type gets {"ok": false, "code":
 * "invalid"} with a message naming the field and what was expected.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <sluice/addr.h>
#include <sluice/api.h>
#include <sluice/fabric.h>
#include <sluice/hostagent.h>
#include <sluice/log.h>

#include "api_int.h"

void reply_send(struct reply *r, json_object *o)
{
	const char *s;
	size_t len, off = 0;

	json_object_object_add(o, "v", json_object_new_int(SL_API_VERSION));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	while (!r->failed && off <= len) {
		ssize_t n;

		if (off == len) {
			n = send(r->fd, "\n", 1, MSG_NOSIGNAL);
			if (n == 1)
				break;
		} else {
			n = send(r->fd, s + off, len - off, MSG_NOSIGNAL);
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		r->failed = true;
	}
}

void reply_ok(struct reply *r, json_object *result)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result",
			       result ? result : json_object_new_object());
	reply_send(r, o);
	json_object_put(o);
}

void reply_err(struct reply *r, const char *code, const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "error", json_object_new_string(msg));
	reply_send(r, o);
	json_object_put(o);
	pr_debug("request failed (%s): %s", code, msg);
}

const char *api_errno_code(int e)
{
	switch (e < 0 ? -e : e) {
	case EINVAL: return "invalid";
	case ENOENT: return "notfound";
	case EEXIST: return "exists";
	case EBUSY: return "busy";
	default: return "internal";
	}
}

/* Optional string field; NULL when absent; error when of another type. */
int api_get_str(struct reply *r, json_object *req, const char *key,
		bool required, const char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(req, key, &v) || json_object_is_type(v, json_type_null)) {
		if (!required)
			return 0;
		reply_err(r, "invalid", "request: missing field \"%s\"; expected a string",
			  key);
		return -EINVAL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		reply_err(r, "invalid", "request: field \"%s\": expected a string, got %s",
			  key, json_type_to_name(json_object_get_type(v)));
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	return 0;
}

/* The topology a request means: by name, or the only one that is up. */
struct sl_net *api_pick_net(struct daemon *d, struct reply *r,
			    const char *name)
{
	struct sl_net *n;

	if (name) {
		n = daemon_find_net(d, name);
		if (!n)
			reply_err(r, "notfound", "no topology \"%s\" is up", name);
		return n;
	}
	if (d->n_nets == 1)
		return d->nets[0];
	if (!d->n_nets)
		reply_err(r, "notfound", "no topology is up");
	else
		reply_err(r, "invalid",
			  "%zu topologies are up; expected a topology name", d->n_nets);
	return NULL;
}

/* "node" or "topo:node" -> net and node index. */
int api_find_node(struct daemon *d, struct reply *r, const char *topo,
		  const char *spec, struct sl_net **net, uint32_t *node)
{
	char tname[SL_TOPO_NAME_MAX] = "";
	const char *colon = strchr(spec, ':');
	const char *nname = spec;
	struct sl_net *found = NULL;
	uint32_t idx = 0;
	size_t i;
	int hits = 0;

	if (colon) {
		snprintf(tname, sizeof(tname), "%.*s", (int)(colon - spec), spec);
		topo = tname;
		nname = colon + 1;
	}
	for (i = 0; i < d->n_nets; i++) {
		struct sl_net *n = d->nets[i];
		int k;

		if (topo && strcmp(n->topo->name, topo))
			continue;
		k = sl_topo_find_node(n->topo, nname);
		if (k < 0)
			continue;
		if (!hits++) {
			found = n;
			idx = (uint32_t)k;
		}
	}
	if (!hits) {
		if (topo && !daemon_find_net(d, topo))
			reply_err(r, "notfound", "no topology \"%s\" is up", topo);
		else
			reply_err(r, "notfound", "no node \"%s\"%s%s%s", nname,
				  topo ? " in topology \"" : " in any topology",
				  topo ? topo : "", topo ? "\"" : "");
		return -ENOENT;
	}
	if (hits > 1) {
		reply_err(r, "invalid",
			  "node \"%s\" exists in %d topologies; expected TOPOLOGY:NODE",
			  nname, hits);
		return -EINVAL;
	}
	*net = found;
	*node = idx;
	return 0;
}

static json_object *prefix_json(const struct sl_prefix *p)
{
	char buf[64];

	return json_object_new_string(sl_prefix_str(p, buf, sizeof(buf), true));
}

static json_object *policy_json(const char *text)
{
	return text ? json_tokener_parse(text) : NULL;
}

static void progress_cb(const char *phase, uint64_t done, uint64_t total,
			void *arg)
{
	struct reply *r = arg;
	json_object *o = json_object_new_object(), *p = json_object_new_object();

	json_object_object_add(p, "phase", json_object_new_string(phase));
	json_object_object_add(p, "done", json_object_new_int64((int64_t)done));
	json_object_object_add(p, "total", json_object_new_int64((int64_t)total));
	json_object_object_add(o, "progress", p);
	reply_send(r, o);
	json_object_put(o);
}

static void cmd_up(struct daemon *d, struct reply *r, json_object *req)
{
	const char *text, *source;
	struct sl_topo *t = NULL;
	struct sl_net *n = NULL;
	struct sl_err err = { "" };
	json_object *res;
	int ret;

	if (api_get_str(r, req, "topology", true, &text) ||
	    api_get_str(r, req, "source", false, &source))
		return;
	ret = sl_topo_parse(text, strlen(text), source ? source : "<request>",
			    &t, &err);
	if (ret) {
		reply_err(r, "invalid", "%s", err.msg);
		return;
	}
	if (daemon_find_net(d, t->name)) {
		reply_err(r, "exists",
			  "topology \"%s\" is already up; expected a name that is "
			  "not in use (see sluicectl list)", t->name);
		sl_topo_free(t);
		return;
	}
	pr_info("bringing up %s: %u nodes, %u links", t->name, t->n_nodes,
		t->n_links);
	ret = sl_net_up(t, d->rundir, d->dp, progress_cb, r, &n, &err);
	if (ret) {
		pr_err("bring-up of %s failed: %s", t->name, err.msg);
		agent_event(d, "error", t->name, NULL, NULL, NULL,
			    "bring-up of %s on the host failed: %s", t->name, err.msg);
		reply_err(r, api_errno_code(ret), "bring-up of %s failed: %s",
			  t->name, err.msg);
		sl_topo_free(t);
		return;
	}
	if (daemon_add_net(d, n)) {
		sl_net_destroy(d->rundir, n->topo->name, NULL, &err);
		sl_net_free(n);
		reply_err(r, "internal", "out of memory");
		return;
	}
	agent_sync_topologies(d);
	if (*n->note)
		pr_warn("topology %s: %s", n->topo->name, n->note);
	pr_info("topology %s up in %.3f s (%lu routes)", n->topo->name,
		n->up_seconds, (unsigned long)n->n_routes);
	res = json_object_new_object();
	json_object_object_add(res, "name", json_object_new_string(n->topo->name));
	json_object_object_add(res, "nodes", json_object_new_int64(n->topo->n_nodes));
	json_object_object_add(res, "links", json_object_new_int64(n->topo->n_links));
	json_object_object_add(res, "routes", json_object_new_int64((int64_t)n->n_routes));
	json_object_object_add(res, "seconds", json_object_new_double(n->up_seconds));
	reply_ok(r, res);
}

static int down_one(struct daemon *d, const char *name_in,
		    json_object *removed, struct sl_err *err)
{
	char name[SL_TOPO_NAME_MAX];
	struct sl_net *n;
	unsigned cnt = 0;
	int ret;

	/* name_in may point into the net freed below. */
	snprintf(name, sizeof(name), "%s", name_in);
	n = daemon_find_net(d, name);
	relays_stop_topology(d, name);
	if (n) {
		/* Close the pinned-map fds first; then undo the journal. */
		daemon_remove_net(d, n);
		sl_net_free(n);
	}
	ret = sl_net_destroy(d->rundir, name, &cnt, err);
	if (!ret && (n || cnt)) {
		json_object_array_add(removed, json_object_new_string(name));
		pr_info("topology %s down (%u objects removed)", name, cnt);
	}
	return ret;
}

static void cmd_down(struct daemon *d, struct reply *r, json_object *req)
{
	json_object *removed = json_object_new_array(), *all, *res;
	struct sl_err err = { "" };
	const char *name;
	int ret = 0;

	if (api_get_str(r, req, "name", false, &name))
		goto fail;
	if (json_object_object_get_ex(req, "all", &all) &&
	    json_object_get_boolean(all)) {
		char **names = NULL;
		size_t n = 0, i;

		while (d->n_nets && !ret)
			ret = down_one(d, d->nets[0]->topo->name, removed, &err);
		/* State dirs of topologies that are not adopted. */
		sl_net_list_dirs(d->rundir, &names, &n);
		for (i = 0; i < n; i++) {
			if (!ret)
				ret = down_one(d, names[i], removed, &err);
			free(names[i]);
		}
		free(names);
	} else if (name) {
		ret = down_one(d, name, removed, &err);
	} else if (d->n_nets == 1) {
		ret = down_one(d, d->nets[0]->topo->name, removed, &err);
	} else if (d->n_nets > 1) {
		reply_err(r, "invalid",
			  "%zu topologies are up; expected a topology name or --all",
			  d->n_nets);
		goto fail;
	}
	if (ret) {
		reply_err(r, api_errno_code(ret), "%s", err.msg);
		goto fail;
	}
	agent_sync_topologies(d);
	res = json_object_new_object();
	json_object_object_add(res, "removed", removed);
	reply_ok(r, res);
	return;
fail:
	json_object_put(removed);
}

static void cmd_list(struct daemon *d, struct reply *r)
{
	json_object *arr = json_object_new_array(), *res;
	size_t i;

	for (i = 0; i < d->n_nets; i++) {
		struct sl_net *n = d->nets[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(n->topo->name));
		json_object_object_add(o, "nodes", json_object_new_int64(n->topo->n_nodes));
		json_object_object_add(o, "links", json_object_new_int64(n->topo->n_links));
		json_object_object_add(o, "state", json_object_new_string("up"));
		json_object_object_add(o, "created", json_object_new_int64(n->created));
		json_object_array_add(arr, o);
	}
	res = json_object_new_object();
	json_object_object_add(res, "topologies", arr);
	reply_ok(r, res);
}

static json_object *node_json(const struct sl_net *n, uint32_t i)
{
	const struct sl_topo *t = n->topo;
	const struct sl_node *nd = &t->nodes[i];
	json_object *o = json_object_new_object();
	json_object *addrs = json_object_new_array();
	json_object *ifs = json_object_new_array();
	char ns[128];
	uint32_t k;

	sl_netns_node(t->name, nd->name, ns, sizeof(ns));
	json_object_object_add(o, "topology", json_object_new_string(t->name));
	json_object_object_add(o, "name", json_object_new_string(nd->name));
	json_object_object_add(o, "kind", json_object_new_string(sl_node_kind_name(nd->kind)));
	json_object_object_add(o, "netns", json_object_new_string(ns));
	if (nd->lo4.family)
		json_object_array_add(addrs, prefix_json(&nd->lo4));
	if (nd->lo6.family)
		json_object_array_add(addrs, prefix_json(&nd->lo6));
	json_object_object_add(o, "addresses", addrs);
	for (k = 0; k < nd->n_links; k++) {
		const struct sl_link *l = &t->links[nd->links[k]];
		const struct sl_endpoint *ep = l->ep[0].node == i ? &l->ep[0] : &l->ep[1];
		const struct sl_endpoint *peer = sl_link_peer(l, i);
		json_object *io = json_object_new_object();
		json_object *ia = json_object_new_array();

		json_object_object_add(io, "name", json_object_new_string(ep->ifname));
		json_object_object_add(io, "peer", json_object_new_string(t->nodes[peer->node].name));
		if (ep->addr4.family)
			json_object_array_add(ia, prefix_json(&ep->addr4));
		if (ep->addr6.family)
			json_object_array_add(ia, prefix_json(&ep->addr6));
		json_object_object_add(io, "addresses", ia);
		json_object_object_add(io, "port", json_object_new_string(ep->port));
		json_object_object_add(io, "mtu", json_object_new_int64(l->mtu));
		json_object_object_add(io, "state", json_object_new_string(l->down ? "down" : "up"));
		json_object_array_add(ifs, io);
	}
	json_object_object_add(o, "interfaces", ifs);
	return o;
}

static json_object *link_json(const struct sl_net *n, uint32_t l)
{
	const struct sl_topo *t = n->topo;
	const struct sl_link *lk = &t->links[l];
	json_object *o = json_object_new_object(), *pol = json_object_new_object();
	json_object *p;
	struct sl_fabric_stats st[2];
	int s;

	json_object_object_add(o, "topology", json_object_new_string(t->name));
	json_object_object_add(o, "index", json_object_new_int64(l));
	json_object_object_add(o, "a", json_object_new_string(t->nodes[lk->ep[0].node].name));
	json_object_object_add(o, "b", json_object_new_string(t->nodes[lk->ep[1].node].name));
	json_object_object_add(o, "a_if", json_object_new_string(lk->ep[0].ifname));
	json_object_object_add(o, "b_if", json_object_new_string(lk->ep[1].ifname));
	json_object_object_add(o, "mtu", json_object_new_int64(lk->mtu));
	json_object_object_add(o, "state", json_object_new_string(lk->down ? "down" : "up"));
	json_object_object_add(o, "mode", json_object_new_string(
		n->normal && n->normal[l] ? "normal" : "max"));
	if ((p = policy_json(lk->policy[SL_DIR_UP])))
		json_object_object_add(pol, "up", p);
	if ((p = policy_json(lk->policy[SL_DIR_DOWN])))
		json_object_object_add(pol, "down", p);
	json_object_object_add(o, "policy", pol);
	for (s = 0; s < 2; s++) {
		json_object *c = json_object_new_object();

		memset(&st[s], 0, sizeof(st[s]));
		if (n->fabric)
			sl_fabric_stats_get(n->fabric, l, (uint32_t)s, &st[s], NULL);
		json_object_object_add(c, "packets", json_object_new_int64((int64_t)st[s].packets));
		json_object_object_add(c, "bytes", json_object_new_int64((int64_t)st[s].bytes));
		json_object_object_add(c, "drop_down", json_object_new_int64((int64_t)st[s].drop_down));
		json_object_object_add(c, "drop_policer", json_object_new_int64((int64_t)st[s].drop_policer));
		json_object_object_add(c, "drop_loss", json_object_new_int64((int64_t)st[s].drop_loss));
		json_object_object_add(o, s ? "counters_down" : "counters_up", c);
	}
	return o;
}

/*
 * nodes and links share their shape: an optional topology name, then one
 * array of per-item objects over the selected topologies.
 */
typedef json_object *item_fn(const struct sl_net *n, uint32_t i);

static void list_items(struct daemon *d, struct reply *r, json_object *req,
		       const char *key, item_fn *fn, bool nodes)
{
	json_object *arr, *res;
	const char *name;
	size_t i;
	uint32_t k, cnt;

	if (api_get_str(r, req, "name", false, &name))
		return;
	if (name && !daemon_find_net(d, name)) {
		reply_err(r, "notfound", "no topology \"%s\" is up", name);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < d->n_nets; i++) {
		const struct sl_topo *t = d->nets[i]->topo;

		if (name && strcmp(name, t->name))
			continue;
		cnt = nodes ? t->n_nodes : t->n_links;
		for (k = 0; k < cnt; k++)
			json_object_array_add(arr, fn(d->nets[i], k));
	}
	res = json_object_new_object();
	json_object_object_add(res, key, arr);
	reply_ok(r, res);
}

static void cmd_resolve(struct daemon *d, struct reply *r, json_object *req)
{
	const char *spec, *topo;
	struct sl_net *n;
	const struct sl_node *nd;
	json_object *res;
	char ns[128], hosts[400], a[64];
	uint32_t i;

	if (api_get_str(r, req, "node", true, &spec) ||
	    api_get_str(r, req, "name", false, &topo))
		return;
	if (api_find_node(d, r, topo, spec, &n, &i))
		return;
	nd = &n->topo->nodes[i];
	sl_netns_node(n->topo->name, nd->name, ns, sizeof(ns));
	snprintf(hosts, sizeof(hosts), "%s/hosts", n->dir);
	res = json_object_new_object();
	json_object_object_add(res, "topology", json_object_new_string(n->topo->name));
	json_object_object_add(res, "node", json_object_new_string(nd->name));
	json_object_object_add(res, "netns", json_object_new_string(ns));
	json_object_object_add(res, "hosts", json_object_new_string(hosts));
	if (*n->cgroup)
		json_object_object_add(res, "cgroup", json_object_new_string(n->cgroup));
	if (nd->lo4.family)
		json_object_object_add(res, "address", json_object_new_string(
			sl_prefix_str(&nd->lo4, a, sizeof(a), false)));
	if (nd->lo6.family)
		json_object_object_add(res, "address6", json_object_new_string(
			sl_prefix_str(&nd->lo6, a, sizeof(a), false)));
	reply_ok(r, res);
}

static void cmd_topology(struct daemon *d, struct reply *r, json_object *req)
{
	const char *name;
	struct sl_net *n;
	json_object *res, *t;
	char *text;

	if (api_get_str(r, req, "name", false, &name))
		return;
	n = api_pick_net(d, r, name);
	if (!n)
		return;
	text = sl_topo_to_json(n->topo, true);
	t = text ? json_tokener_parse(text) : NULL;
	free(text);
	if (!t) {
		reply_err(r, "internal", "cannot serialise topology %s", n->topo->name);
		return;
	}
	res = json_object_new_object();
	json_object_object_add(res, "topology", t);
	reply_ok(r, res);
}

static void cmd_status(struct daemon *d, struct reply *r)
{
	json_object *res = json_object_new_object();

	json_object_object_add(res, "version", json_object_new_string(SLUICE_VERSION));
	json_object_object_add(res, "pid", json_object_new_int(getpid()));
	json_object_object_add(res, "uptime",
			       json_object_new_int64(time(NULL) - d->started));
	json_object_object_add(res, "rundir", json_object_new_string(d->rundir));
	json_object_object_add(res, "topologies", json_object_new_int64((int64_t)d->n_nets));
	reply_ok(r, res);
}

void api_handle(struct daemon *d, struct reply *r, const char *line,
		size_t len)
{
	enum json_tokener_error jerr;
	json_object *req, *v;
	const char *cmd;

	req = json_tokener_parse_verbose(line, &jerr);
	if (!req) {
		reply_err(r, "invalid", "request: not JSON (%s); expected one JSON object per line",
			  json_tokener_error_desc(jerr));
		return;
	}
	if (!json_object_is_type(req, json_type_object)) {
		reply_err(r, "invalid", "request: expected a JSON object");
		goto out;
	}
	if (json_object_object_get_ex(req, "v", &v) &&
	    (!json_object_is_type(v, json_type_int) ||
	     json_object_get_int(v) != SL_API_VERSION)) {
		reply_err(r, "invalid", "request: field \"v\": unsupported version; expected %d",
			  SL_API_VERSION);
		goto out;
	}
	if (api_get_str(r, req, "cmd", true, &cmd))
		goto out;
	pr_debug("request %s (%zu bytes)", cmd, len);
	if (!strcmp(cmd, "up"))
		cmd_up(d, r, req);
	else if (!strcmp(cmd, "down"))
		cmd_down(d, r, req);
	else if (!strcmp(cmd, "list"))
		cmd_list(d, r);
	else if (!strcmp(cmd, "nodes"))
		list_items(d, r, req, "nodes", node_json, true);
	else if (!strcmp(cmd, "links"))
		list_items(d, r, req, "links", link_json, false);
	else if (!strcmp(cmd, "link_set"))
		cmd_link_set(d, r, req);
	else if (!strcmp(cmd, "link_policy"))
		cmd_link_policy(d, r, req);
	else if (!strcmp(cmd, "flow_add"))
		cmd_flow_add(d, r, req);
	else if (!strcmp(cmd, "flow_del"))
		cmd_flow_del(d, r, req);
	else if (!strcmp(cmd, "flow_list"))
		cmd_flow_list(d, r, req);
	else if (!strcmp(cmd, "stats"))
		cmd_stats(d, r, req);
	else if (!strcmp(cmd, "relay_add"))
		cmd_relay_add(d, r, req);
	else if (!strcmp(cmd, "relay_del"))
		cmd_relay_del(d, r, req);
	else if (!strcmp(cmd, "relay_list"))
		cmd_relay_list(d, r, req);
	else if (!strcmp(cmd, "resolve"))
		cmd_resolve(d, r, req);
	else if (!strcmp(cmd, "topology"))
		cmd_topology(d, r, req);
	else if (!strcmp(cmd, "status"))
		cmd_status(d, r);
	else
		reply_err(r, "invalid",
			  "request: unknown command \"%s\"; expected one of up, down, "
			  "list, nodes, links, link_set, link_policy, flow_add, flow_del, "
			  "flow_list, relay_add, relay_del, relay_list, stats, resolve, topology, status",
			  cmd);
out:
	json_object_put(req);
}
