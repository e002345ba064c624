// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * topo_export.c - the model back to the file format (sl_topo_to_json), the
 * inverse of topo_json.c.
 *
 * The plain form writes what the file gave (and defaults spelled out); the
 * resolved form adds every address and pool the model holds, whoever chose
 * them, so that parsing it rebuilds the same network. Either form parses
 * with sl_topo_parse().
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/topo.h>

static struct json_object *prefix_json(const struct sl_prefix *p)
{
	char a[64];

	return json_object_new_string(sl_prefix_str(p, a, sizeof(a), true));
}

static struct json_object *endpoint_json(const struct sl_topo *t,
					 const struct sl_endpoint *ep,
					 bool resolved)
{
	bool a4 = ep->addr4.family && (resolved || ep->user_addr4);
	bool a6 = ep->addr6.family && (resolved || ep->user_addr6);
	const char *name = t->nodes[ep->node].name;
	struct json_object *o;

	if (!a4 && !a6)
		return json_object_new_string(name);
	o = json_object_new_object();
	json_object_object_add(o, "node", json_object_new_string(name));
	if (a4)
		json_object_object_add(o, "address", prefix_json(&ep->addr4));
	if (a6)
		json_object_object_add(o, "address6", prefix_json(&ep->addr6));
	return o;
}

static struct json_object *policy_json(const char *text)
{
	return text ? json_tokener_parse(text) : NULL;
}

static struct json_object *link_json(const struct sl_topo *t,
				     const struct sl_link *lk, bool resolved)
{
	static const char *const modes[] = { "auto", "max", "normal" };
	struct json_object *o = json_object_new_object(), *eps, *pol;
	const char *up = lk->policy[SL_DIR_UP], *down = lk->policy[SL_DIR_DOWN];
	int e;

	eps = json_object_new_array();
	for (e = 0; e < 2; e++)
		json_object_array_add(eps,
				      endpoint_json(t, &lk->ep[e], resolved));
	json_object_object_add(o, "endpoints", eps);
	if (lk->mtu != SL_MTU_DEFAULT)
		json_object_object_add(o, "mtu",
				       json_object_new_int((int)lk->mtu));
	if (lk->mode != SL_MODE_AUTO && (unsigned)lk->mode < 3)
		json_object_object_add(o, "mode",
				       json_object_new_string(modes[lk->mode]));
	if (up && down && !strcmp(up, down)) {
		pol = policy_json(up);
	} else if (up || down) {
		pol = json_object_new_object();
		if (up)
			json_object_object_add(pol, "up", policy_json(up));
		if (down)
			json_object_object_add(pol, "down", policy_json(down));
	} else {
		pol = NULL;
	}
	if (pol)
		json_object_object_add(o, "policy", pol);
	return o;
}

static struct json_object *node_json(const struct sl_node *n, bool resolved)
{
	struct json_object *o = json_object_new_object(), *addrs;
	bool a4 = n->lo4.family && (resolved || n->user_lo4);
	bool a6 = n->lo6.family && (resolved || n->user_lo6);

	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "kind",
			       json_object_new_string(
				       sl_node_kind_name(n->kind)));
	if (a4 || a6) {
		addrs = json_object_new_array();
		if (a4)
			json_object_array_add(addrs, prefix_json(&n->lo4));
		if (a6)
			json_object_array_add(addrs, prefix_json(&n->lo6));
		json_object_object_add(o, "addresses", addrs);
	}
	return o;
}

struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct strbuf *b, const char *s)
{
	size_t n = strlen(s);
	char *ns;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;

		while (cap < b->len + n + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* Appends o as one line; takes the reference. */
static void sb_add_json(struct strbuf *b, struct json_object *o)
{
	if (!o) {
		b->oom = true;
		return;
	}
	sb_add(b, json_object_to_json_string_ext(
			  o, JSON_C_TO_STRING_SPACED |
				     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/*
 * One node or link per line, the top-level keys each on their own line: a
 * layout that diffs well and that a person can read even for a large
 * generated topology.
 */
char *sl_topo_to_json(const struct sl_topo *t, bool resolved)
{
	struct strbuf b = { 0 };
	uint32_t i;

	sb_add(&b, "{\n  \"name\": ");
	sb_add_json(&b, json_object_new_string(t->name));
	sb_add(&b, t->ipv6 ? ",\n  \"ipv6\": true" : ",\n  \"ipv6\": false");
	if (t->socket_redirect)
		sb_add(&b, ",\n  \"socket_redirect\": true");
	if (t->pool4.family) {
		sb_add(&b, ",\n  \"pool\": ");
		sb_add_json(&b, prefix_json(&t->pool4));
	}
	if (t->pool6.family) {
		sb_add(&b, ",\n  \"pool6\": ");
		sb_add_json(&b, prefix_json(&t->pool6));
	}
	sb_add(&b, ",\n  \"nodes\": [");
	for (i = 0; i < t->n_nodes; i++) {
		sb_add(&b, i ? ",\n    " : "\n    ");
		sb_add_json(&b, node_json(&t->nodes[i], resolved));
	}
	sb_add(&b, "\n  ],\n  \"links\": [");
	for (i = 0; i < t->n_links; i++) {
		sb_add(&b, i ? ",\n    " : "\n    ");
		sb_add_json(&b, link_json(t, &t->links[i], resolved));
	}
	sb_add(&b, t->n_links ? "\n  ]" : "]");
	if (t->flows) {
		sb_add(&b, ",\n  \"flows\": ");
		sb_add(&b, t->flows);
	}
	sb_add(&b, "\n}\n");
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
