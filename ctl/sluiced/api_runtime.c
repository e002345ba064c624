// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * api_runtime.c - the commands of the local API (include/sluice/api.h) on
 * a topology while it is up: link_set and link_policy (a link's state and
 * policies), flow_add, flow_del, flow_list (the flow table), relay_add,
 * relay_del, relay_list (TCP relay chains) and stats (the counters of
 * every link). api.c reads the request line and dispatches here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/flow.h>
#include <sluice/log.h>

#include "api_int.h"

/* The link between nodes a and b ("node" or "topo:node"), and whether
 * a -> b is the link's ep[0] -> ep[1] direction. */
static int find_link(struct daemon *d, struct reply *r, const char *name,
		     const char *a, const char *b, struct sl_net **net,
		     uint32_t *link, bool *forward)
{
	struct sl_net *n, *nb;
	uint32_t ua, ub;
	int l;

	if (api_find_node(d, r, name, a, &n, &ua) ||
	    api_find_node(d, r, name, b, &nb, &ub))
		return -ENOENT;
	if (n != nb) {
		reply_err(r, "invalid", "%s and %s are in different topologies; "
			  "expected two nodes of one topology", a, b);
		return -EINVAL;
	}
	l = sl_topo_find_link(n->topo, ua, ub);
	if (l < 0) {
		reply_err(r, "notfound", "no link between %s and %s in topology \"%s\"",
			  a, b, n->topo->name);
		return -ENOENT;
	}
	*net = n;
	*link = (uint32_t)l;
	*forward = n->topo->links[l].ep[0].node == ua;
	return 0;
}

void cmd_link_set(struct daemon *d, struct reply *r, json_object *req)
{
	const char *name, *a, *b, *state;
	struct sl_err err = { "" };
	struct sl_net *n;
	uint32_t l;
	bool fwd;
	int ret;

	if (api_get_str(r, req, "name", false, &name) ||
	    api_get_str(r, req, "a", true, &a) ||
	    api_get_str(r, req, "b", true, &b) ||
	    api_get_str(r, req, "state", true, &state))
		return;
	if (strcmp(state, "up") && strcmp(state, "down")) {
		reply_err(r, "invalid",
			  "request: field \"state\": \"%s\"; expected \"up\" or \"down\"",
			  state);
		return;
	}
	if (find_link(d, r, name, a, b, &n, &l, &fwd))
		return;
	ret = sl_net_link_set(n, l, !strcmp(state, "up"), &err);
	if (ret) {
		reply_err(r, api_errno_code(ret), "link %s-%s: %s", a, b, err.msg);
		return;
	}
	pr_info("%s: link %s-%s %s", n->topo->name, a, b, state);
	{
		const struct sl_link *lk = &n->topo->links[l];

		agent_event(d, !strcmp(state, "up") ? "link_up" : "link_down",
			    n->topo->name, n->topo->nodes[lk->ep[0].node].name,
			    n->topo->nodes[lk->ep[1].node].name, NULL,
			    "link %s-%s set %s on the host", a, b, state);
	}
	reply_ok(r, NULL);
}

/*
 * New policy text of one direction: "policy" replaces it, "set" merges key
 * by key into it (a null value removes the key). NULL: no policy at all.
 */
static int merged_policy(struct reply *r, const char *current,
			 json_object *replace, json_object *set, char **out)
{
	json_object *base;

	*out = NULL;
	if (replace) {
		base = json_object_get(replace);
	} else {
		base = current ? json_tokener_parse(current) : json_object_new_object();
		if (!base)
			base = json_object_new_object();
		if (json_object_object_get_ex(base, "cells", NULL)) {
			json_object_put(base);
			reply_err(r, "invalid", "the link's policy is a list of cells; "
				  "expected \"policy\" (a whole new policy), not \"set\"");
			return -EINVAL;
		}
		json_object_object_foreach(set, key, val) {
			if (json_object_is_type(val, json_type_null))
				json_object_object_del(base, key);
			else
				json_object_object_add(base, key, json_object_get(val));
		}
	}
	if (json_object_object_length(base))
		*out = strdup(json_object_to_json_string_ext(base, JSON_C_TO_STRING_PLAIN));
	json_object_put(base);
	return 0;
}

void cmd_link_policy(struct daemon *d, struct reply *r, json_object *req)
{
	const char *name, *a, *b, *dir;
	json_object *replace = NULL, *set = NULL;
	struct sl_err err = { "" };
	struct sl_net *n;
	uint32_t l;
	bool fwd;
	int k, ret;

	if (api_get_str(r, req, "name", false, &name) ||
	    api_get_str(r, req, "a", true, &a) ||
	    api_get_str(r, req, "b", true, &b) ||
	    api_get_str(r, req, "dir", false, &dir))
		return;
	if (dir && strcmp(dir, "up") && strcmp(dir, "down") && strcmp(dir, "both")) {
		reply_err(r, "invalid", "request: field \"dir\": \"%s\"; expected "
			  "\"up\" (a to b), \"down\" (b to a) or \"both\"", dir);
		return;
	}
	json_object_object_get_ex(req, "policy", &replace);
	json_object_object_get_ex(req, "set", &set);
	if (!replace == !set ||
	    (replace && !json_object_is_type(replace, json_type_object)) ||
	    (set && !json_object_is_type(set, json_type_object))) {
		reply_err(r, "invalid", "request: expected exactly one of \"policy\" "
			  "(an object replacing the policy) or \"set\" (an object of "
			  "keys to change)");
		return;
	}
	if (find_link(d, r, name, a, b, &n, &l, &fwd))
		return;
	for (k = 0; k < 2; k++) {
		/* k = 0: a -> b, k = 1: b -> a; the link's own direction: */
		int ldir = fwd ? k : !k;
		char *text;

		if (dir && strcmp(dir, "both") && strcmp(dir, k ? "down" : "up"))
			continue;
		if (merged_policy(r, n->topo->links[l].policy[ldir], replace, set,
				  &text))
			return;
		ret = sl_net_link_policy(n, l, ldir, text, &err);
		if (ret) {
			reply_err(r, api_errno_code(ret), "link %s-%s: %s", a, b, err.msg);
			free(text);
			return;
		}
		pr_info("%s: %s -> %s policy %s", n->topo->name, k ? b : a,
			k ? a : b, text ? text : "none");
		free(text);
	}
	reply_ok(r, NULL);
}

static json_object *flow_json(const struct sl_flow_rule *fr)
{
	json_object *o = json_object_new_object();
	char buf[256];

	json_object_object_add(o, "id", json_object_new_int64(fr->id));
	json_object_object_add(o, "rule", json_object_new_string(
		sl_flow_format(fr, buf, sizeof(buf))));
	json_object_object_add(o, "priority", json_object_new_int64(fr->priority));
	json_object_object_add(o, "mode", json_object_new_string(
		fr->mode == SL_FLOW_MODE_NORMAL ? "normal" : "max"));
	json_object_object_add(o, "class", json_object_new_int64(fr->class));
	json_object_object_add(o, "packets", json_object_new_int64((int64_t)fr->hit_packets));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)fr->hit_bytes));
	return o;
}

/* flow_add {name?, spec: "proto tcp dport 5201 ..." | rule: {...}} */
void cmd_flow_add(struct daemon *d, struct reply *r, json_object *req)
{
	struct sl_err err = { "" };
	struct sl_flow_rule fr;
	const char *name, *spec;
	json_object *rule = NULL, *res;
	struct sl_net *n;
	uint32_t id;
	int ret;

	if (api_get_str(r, req, "name", false, &name) ||
	    api_get_str(r, req, "spec", false, &spec))
		return;
	json_object_object_get_ex(req, "rule", &rule);
	if (!spec == !rule || (rule && !json_object_is_type(rule, json_type_object))) {
		reply_err(r, "invalid", "request: expected exactly one of \"spec\" "
			  "(the text form of a rule) or \"rule\" (an object)");
		return;
	}
	n = api_pick_net(d, r, name);
	if (!n)
		return;
	ret = spec ? sl_flow_parse(spec, &fr, &err) : sl_flow_parse_json(rule, &fr, &err);
	if (ret) {
		reply_err(r, "invalid", "flow rule: %s", err.msg);
		return;
	}
	ret = sl_flow_add(n->fabric, &fr, &id, &err);
	if (ret) {
		reply_err(r, ret == -ENOSPC ? "busy" : api_errno_code(ret), "%s", err.msg);
		return;
	}
	fr.id = id;
	fr.hit_packets = fr.hit_bytes = 0;
	pr_info("%s: flow %u added", n->topo->name, id);
	res = flow_json(&fr);
	reply_ok(r, res);
}

void cmd_flow_del(struct daemon *d, struct reply *r, json_object *req)
{
	struct sl_err err = { "" };
	const char *name;
	json_object *idj;
	struct sl_net *n;
	int ret;

	if (api_get_str(r, req, "name", false, &name))
		return;
	if (!json_object_object_get_ex(req, "id", &idj) ||
	    !json_object_is_type(idj, json_type_int) || json_object_get_int64(idj) < 0) {
		reply_err(r, "invalid", "request: field \"id\": expected the number of a flow rule");
		return;
	}
	n = api_pick_net(d, r, name);
	if (!n)
		return;
	ret = sl_flow_del(n->fabric, (uint32_t)json_object_get_int64(idj), &err);
	if (ret) {
		reply_err(r, api_errno_code(ret), "%s", err.msg);
		return;
	}
	reply_ok(r, NULL);
}

void cmd_flow_list(struct daemon *d, struct reply *r, json_object *req)
{
	struct sl_flow_rule *rules = NULL;
	struct sl_err err = { "" };
	json_object *arr, *res;
	const char *name;
	struct sl_net *n;
	size_t cnt = 0, i;

	if (api_get_str(r, req, "name", false, &name))
		return;
	n = api_pick_net(d, r, name);
	if (!n)
		return;
	if (sl_flow_list(n->fabric, &rules, &cnt, &err)) {
		reply_err(r, "internal", "%s", err.msg);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < cnt; i++)
		json_object_array_add(arr, flow_json(&rules[i]));
	free(rules);
	res = json_object_new_object();
	json_object_object_add(res, "topology", json_object_new_string(n->topo->name));
	json_object_object_add(res, "flows", arr);
	reply_ok(r, res);
}

/* relay_add {name?, from: "h1:9000", to: "h3:5201" | socks5: true,
 *            via: "r1,r2"?, mode: "splice"|"sockmap"?} */
void cmd_relay_add(struct daemon *d, struct reply *r, json_object *req)
{
	const char *name, *from, *to, *via, *mode;
	struct sl_err err = { "" };
	json_object *res = NULL, *v;
	bool socks5 = false;
	struct sl_net *n;
	int ret;

	if (api_get_str(r, req, "name", false, &name) ||
	    api_get_str(r, req, "from", true, &from) ||
	    api_get_str(r, req, "to", false, &to) ||
	    api_get_str(r, req, "via", false, &via) ||
	    api_get_str(r, req, "mode", false, &mode))
		return;
	if (json_object_object_get_ex(req, "socks5", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			reply_err(r, "invalid", "request: field \"socks5\": expected true or false");
			return;
		}
		socks5 = json_object_get_boolean(v);
	}
	if (socks5 && to) {
		reply_err(r, "invalid", "request: expected either \"to\" or \"socks5\", not both");
		return;
	}
	n = api_pick_net(d, r, name);
	if (!n)
		return;
	ret = relay_add(d, n, from, to, via, socks5, mode, -1, 0, &res, &err);
	if (ret) {
		reply_err(r, api_errno_code(ret), "%s", err.msg);
		return;
	}
	reply_ok(r, res);
}

void cmd_relay_del(struct daemon *d, struct reply *r, json_object *req)
{
	struct sl_err err = { "" };
	json_object *idj;

	if (!json_object_object_get_ex(req, "id", &idj) ||
	    !json_object_is_type(idj, json_type_int) || json_object_get_int64(idj) < 0) {
		reply_err(r, "invalid", "request: field \"id\": expected the number of a relay");
		return;
	}
	if (relay_del(d, (unsigned)json_object_get_int64(idj), &err)) {
		reply_err(r, "notfound", "%s", err.msg);
		return;
	}
	reply_ok(r, NULL);
}

void cmd_relay_list(struct daemon *d, struct reply *r, json_object *req)
{
	json_object *res;
	const char *name;

	if (api_get_str(r, req, "name", false, &name))
		return;
	res = json_object_new_object();
	json_object_object_add(res, "relays", relay_list(d, name));
	reply_ok(r, res);
}

/* stats {name?, a?, b?}: per link and direction, the counters of wherever
 * it runs (fabric, shaper, the dataplane's cells). */
void cmd_stats(struct daemon *d, struct reply *r, json_object *req)
{
	const char *name, *a, *b;
	json_object *arr, *res;
	struct sl_net *only = NULL;
	uint32_t only_link = 0, l;
	bool fwd, one = false;
	size_t i;

	if (api_get_str(r, req, "name", false, &name) ||
	    api_get_str(r, req, "a", false, &a) ||
	    api_get_str(r, req, "b", false, &b))
		return;
	if (!a != !b) {
		reply_err(r, "invalid", "request: expected both \"a\" and \"b\" (a link) or neither");
		return;
	}
	if (a) {
		if (find_link(d, r, name, a, b, &only, &only_link, &fwd))
			return;
		one = true;
	} else if (name && !daemon_find_net(d, name)) {
		reply_err(r, "notfound", "no topology \"%s\" is up", name);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < d->n_nets; i++) {
		struct sl_net *n = d->nets[i];

		if ((one && n != only) || (name && strcmp(name, n->topo->name)))
			continue;
		for (l = 0; l < n->topo->n_links; l++) {
			const struct sl_link *lk = &n->topo->links[l];
			json_object *o;

			if (one && l != only_link)
				continue;
			o = json_object_new_object();
			json_object_object_add(o, "topology", json_object_new_string(n->topo->name));
			json_object_object_add(o, "a", json_object_new_string(n->topo->nodes[lk->ep[0].node].name));
			json_object_object_add(o, "b", json_object_new_string(n->topo->nodes[lk->ep[1].node].name));
			json_object_object_add(o, "up", sl_net_link_stats(n, l, 0));
			json_object_object_add(o, "down", sl_net_link_stats(n, l, 1));
			json_object_array_add(arr, o);
		}
	}
	res = json_object_new_object();
	json_object_object_add(res, "links", arr);
	reply_ok(r, res);
}
