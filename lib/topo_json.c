// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * topo_json.c - the topology file format (docs/topology.md): JSON text to
 * model (the way back is topo_export.c).
 *
 * The parser checks what only the text shows (syntax, keys, types, unknown
 * node names, the spelling of addresses and policy values), builds the
 * model through sl_topo_new/add_node/add_link in file order, and leaves the
 * rest to sl_topo_validate(), which generators share. Either way a message
 * reads "<source>: <json path>: <problem>; expected <what>".
 *
 * A link's "policy" is checked in topo_json_policy.c, with the helpers
 * here that topo_json_int.h declares.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/flow.h>
#include <sluice/topo.h>

#include "topo_json_int.h"
#include "topo_util.h"

#define LOAD_MAX (64u << 20) /* a topology file is not this big */

int sl_topo_parser_fail(struct sl_topo_parser *p, const char *path,
			const char *fmt, ...)
{
	char msg[SL_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sl_err_set(p->err, EINVAL, "%s: %s: %s", p->src, path, msg);
}

static const char *type_name(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "something else";
}

int sl_topo_parser_wrong_type(struct sl_topo_parser *p, const char *path,
			      struct json_object *o, const char *expected)
{
	return sl_topo_parser_fail(p, path, "got %s; expected %s", type_name(o),
				   expected);
}

/* path + ".key" (or + ".\"odd key\"" when the key is not a plain word). */
void sl_topo_path_key(char *out, const char *path, const char *key)
{
	char q[SL_QUOTE_MAX], problem[SL_QUOTE_MAX * 2];

	if (sl_name_check(key, 48, problem, sizeof(problem)))
		snprintf(out, SL_TOPO_PATH_MAX, "%s%s%s", path,
			 *path ? "." : "",
			 key);
	else
		snprintf(out, SL_TOPO_PATH_MAX, "%s%s%s", path,
			 *path ? "." : "",
			 sl_quote(key, q, sizeof(q)));
}

/* path + "[i]" */
void sl_topo_path_elem(char *out, const char *path, size_t i)
{
	/* Paths are short; a cut one still locates the error. */
	if (snprintf(out, SL_TOPO_PATH_MAX, "%s[%zu]", path, i) >=
	    SL_TOPO_PATH_MAX)
		out[SL_TOPO_PATH_MAX - 1] = '\0';
}

/* Rejects a key outside allowed (NULL-terminated); list is the same keys
 * for the message. */
int sl_topo_parser_check_keys(struct sl_topo_parser *p, struct json_object *obj,
			      const char *path, const char *const *allowed,
			      const char *list)
{
	char kp[SL_TOPO_PATH_MAX];
	size_t i;

	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		for (i = 0; allowed[i]; i++)
			if (!strcmp(key, allowed[i]))
				break;
		if (!allowed[i]) {
			sl_topo_path_key(kp, path, key);
			return sl_topo_parser_fail(p, kp,
						   "unknown key; expected one of %s",
						   list);
		}
	}
	return 0;
}

/*
 * A string value without NUL bytes (a name with "\u0000" would silently be
 * cut short). On a wrong type says what was expected.
 */
int sl_topo_parser_string(struct sl_topo_parser *p, struct json_object *o,
			  const char *path, const char *expected,
			  const char **out)
{
	const char *s;

	if (!json_object_is_type(o, json_type_string))
		return sl_topo_parser_wrong_type(p, path, o, expected);
	s = json_object_get_string(o);
	if (strlen(s) != (size_t)json_object_get_string_len(o))
		return sl_topo_parser_fail(p, path,
					   "the string contains a NUL character; expected %s",
					   expected);
	*out = s;
	return 0;
}

int sl_topo_parser_missing(struct sl_topo_parser *p, const char *path,
			   const char *key, const char *expected)
{
	char kp[SL_TOPO_PATH_MAX];

	sl_topo_path_key(kp, path, key);
	return sl_topo_parser_fail(p, kp, "missing; expected %s", expected);
}

static int check_name(struct sl_topo_parser *p, const char *path,
		      const char *name, size_t max)
{
	char problem[SL_ERR_MAX / 2];

	if (sl_name_check(name, max, problem, sizeof(problem)))
		return 0;
	return sl_topo_parser_fail(p, path, "%s; expected " SL_NAME_EXPECTED,
				   problem, (int)max);
}

/* --- addresses ----------------------------------------------------------- */

#define ANY_ADDR_EXPECTED \
	"an IPv4 or IPv6 address such as 10.9.0.1 or fd00::1, optionally with /len"

static int parse_prefix(struct sl_topo_parser *p, struct json_object *o,
			const char *path, int family, bool allow_bare,
			const char *expected, struct sl_prefix *out)
{
	char q[SL_QUOTE_MAX];
	const char *s;
	int ret;

	ret = sl_topo_parser_string(p, o, path, expected, &s);
	if (ret)
		return ret;
	if (sl_prefix_parse(s, out, true))
		return sl_topo_parser_fail(p, path,
					   "%s is not an address; expected %s",
					   sl_quote(s, q, sizeof(q)), expected);
	if (family && out->family != family)
		return sl_topo_parser_fail(p, path,
					   "%s is an %s address; expected %s",
					   sl_quote(s, q, sizeof(q)),
					   out->family == AF_INET6 ? "IPv6" : "IPv4",
					   expected);
	if (!allow_bare && !strchr(s, '/'))
		return sl_topo_parser_fail(p, path,
					   "%s has no prefix length; expected %s",
					   sl_quote(s, q, sizeof(q)), expected);
	return 0;
}

static int need_ipv6(struct sl_topo_parser *p, const char *path,
		     const char *what)
{
	if (p->t->ipv6)
		return 0;
	return sl_topo_parser_fail(p, path,
				   "%s but the topology is not dual-stack; expected \"ipv6\": true at the top level, or no IPv6 addresses",
				   what);
}

static int parse_node_addresses(struct sl_topo_parser *p, struct sl_node *n,
				struct json_object *arr, const char *path)
{
	char ip[SL_TOPO_PATH_MAX], a[64];
	size_t i, len, first[2] = { 0, 0 };
	struct sl_prefix pfx;
	int ret;

	if (!json_object_is_type(arr, json_type_array))
		return sl_topo_parser_wrong_type(p, path, arr,
						 "an array of at most one IPv4 and one IPv6 address");
	len = json_object_array_length(arr);
	for (i = 0; i < len; i++) {
		bool v6;

		sl_topo_path_elem(ip, path, i);
		ret = parse_prefix(p, json_object_array_get_idx(arr, i), ip, 0,
				   true, ANY_ADDR_EXPECTED, &pfx);
		if (ret)
			return ret;
		v6 = pfx.family == AF_INET6;
		if ((v6 ? n->lo6 : n->lo4).family)
			return sl_topo_parser_fail(p, ip,
						   "a second %s address %s (the first is addresses[%zu]); expected at most one IPv4 and one IPv6 address per node",
						   v6 ? "IPv6" : "IPv4",
						   sl_prefix_str(&pfx, a, sizeof(a), true),
						   first[v6]);
		if (v6) {
			ret = need_ipv6(p, ip, "an IPv6 address");
			if (ret)
				return ret;
			n->lo6 = pfx;
			n->user_lo6 = true;
		} else {
			n->lo4 = pfx;
			n->user_lo4 = true;
		}
		first[v6] = i;
	}
	return 0;
}

/* --- nodes and links ----------------------------------------------------- */

static int parse_node(struct sl_topo_parser *p, struct json_object *o, size_t i)
{
	static const char *const keys[] = { "name", "kind", "addresses", NULL };
	char path[SL_TOPO_PATH_MAX], kp[SL_TOPO_PATH_MAX], q[SL_QUOTE_MAX];
	enum sl_node_kind kind = SL_NODE_ROUTER;
	struct json_object *v;
	const char *name, *s;
	int idx, ret;

	snprintf(path, sizeof(path), "nodes[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return sl_topo_parser_wrong_type(p, path, o,
						 "an object with a \"name\" such as {\"name\": \"h1\"}");
	ret = sl_topo_parser_check_keys(p, o, path, keys,
					"name, kind, addresses");
	if (ret)
		return ret;
	if (!json_object_object_get_ex(o, "name", &v))
		return sl_topo_parser_missing(p, path, "name",
					      "the node name such as \"h1\"");
	sl_topo_path_key(kp, path, "name");
	ret = sl_topo_parser_string(p, v, kp,
				    "the node name as a string such as \"h1\"",
				    &name);
	if (!ret)
		ret = check_name(p, kp, name, SL_NAME_MAX - 1);
	if (ret)
		return ret;
	if (json_object_object_get_ex(o, "kind", &v)) {
		sl_topo_path_key(kp, path, "kind");
		ret = sl_topo_parser_string(p, v, kp, "\"host\" or \"router\"",
					    &s);
		if (ret)
			return ret;
		if (!strcmp(s, "host"))
			kind = SL_NODE_HOST;
		else if (strcmp(s, "router"))
			return sl_topo_parser_fail(p, kp,
						   "%s is not a node kind; expected \"host\" or \"router\"",
						   sl_quote(s, q, sizeof(q)));
	}
	idx = sl_topo_add_node(p->t, name, kind);
	if (idx < 0)
		return sl_err_set(p->err, -idx, "%s: %s: cannot add the node",
				  p->src, path);
	if (json_object_object_get_ex(o, "addresses", &v)) {
		sl_topo_path_key(kp, path, "addresses");
		return parse_node_addresses(p, &p->t->nodes[idx], v, kp);
	}
	return 0;
}

struct ep_spec {
	int node;
	struct sl_prefix addr4;
	struct sl_prefix addr6;
};

static int lookup_node(struct sl_topo_parser *p, const char *path,
		       const char *name, int *out)
{
	char q[SL_QUOTE_MAX];

	*out = sl_name_index_find(&p->ix, p->t, name);
	if (*out < 0)
		return sl_topo_parser_fail(p, path,
					   "unknown node %s; expected the name of a node in \"nodes\"",
					   sl_quote(name, q, sizeof(q)));
	return 0;
}

#define EP_EXPECTED \
	"a node name, or an object {\"node\": ..., \"address\": ..., \"address6\": ...}"
#define ADDR4_EXPECTED \
	"an IPv4 address with its prefix length such as 10.1.0.1/24"
#define ADDR6_EXPECTED \
	"an IPv6 address with its prefix length such as fd00:1::1/64"

static int parse_endpoint(struct sl_topo_parser *p, struct json_object *o,
			  const char *path, struct ep_spec *ep)
{
	static const char *const keys[] = { "node", "address", "address6",
					    NULL };
	char kp[SL_TOPO_PATH_MAX];
	struct json_object *v;
	const char *name;
	int ret;

	memset(ep, 0, sizeof(*ep));
	if (json_object_is_type(o, json_type_string)) {
		ret = sl_topo_parser_string(p, o, path, EP_EXPECTED, &name);
		return ret ? ret : lookup_node(p, path, name, &ep->node);
	}
	if (!json_object_is_type(o, json_type_object))
		return sl_topo_parser_wrong_type(p, path, o, EP_EXPECTED);
	ret = sl_topo_parser_check_keys(p, o, path, keys,
					"node, address, address6");
	if (ret)
		return ret;
	if (!json_object_object_get_ex(o, "node", &v))
		return sl_topo_parser_missing(p, path, "node",
					      "the name of a node in \"nodes\"");
	sl_topo_path_key(kp, path, "node");
	ret = sl_topo_parser_string(p, v, kp, "the name of a node in \"nodes\"",
				    &name);
	if (!ret)
		ret = lookup_node(p, kp, name, &ep->node);
	if (ret)
		return ret;
	if (json_object_object_get_ex(o, "address", &v)) {
		sl_topo_path_key(kp, path, "address");
		ret = parse_prefix(p, v, kp, AF_INET, false, ADDR4_EXPECTED,
				   &ep->addr4);
		if (ret)
			return ret;
	}
	if (json_object_object_get_ex(o, "address6", &v)) {
		sl_topo_path_key(kp, path, "address6");
		ret = parse_prefix(p, v, kp, AF_INET6, false, ADDR6_EXPECTED,
				   &ep->addr6);
		if (!ret)
			ret = need_ipv6(p, kp, "an IPv6 address");
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_link(struct sl_topo_parser *p, struct json_object *o, size_t i)
{
	static const char *const keys[] = { "endpoints", "mtu", "mode",
					    "policy", NULL };
	char path[SL_TOPO_PATH_MAX], kp[SL_TOPO_PATH_MAX], q[SL_QUOTE_MAX];
	enum sl_link_mode mode = SL_MODE_AUTO;
	uint32_t mtu = SL_MTU_DEFAULT;
	struct ep_spec ep[2];
	struct json_object *v;
	struct sl_link *lk;
	const char *s;
	int idx, ret, e;

	snprintf(path, sizeof(path), "links[%zu]", i);
	if (!json_object_is_type(o, json_type_object))
		return sl_topo_parser_wrong_type(p, path, o,
						 "an object with \"endpoints\" such as {\"endpoints\": [\"h1\", \"r1\"]}");
	ret = sl_topo_parser_check_keys(p, o, path, keys,
					"endpoints, mtu, mode, policy");
	if (ret)
		return ret;
	if (!json_object_object_get_ex(o, "endpoints", &v))
		return sl_topo_parser_missing(p, path, "endpoints",
					      "an array of the 2 nodes the link joins, such as [\"h1\", \"r1\"]");
	sl_topo_path_key(kp, path, "endpoints");
	if (!json_object_is_type(v, json_type_array))
		return sl_topo_parser_wrong_type(p, kp, v,
						 "an array of exactly 2 endpoints such as [\"h1\", \"r1\"]");
	if (json_object_array_length(v) != 2)
		return sl_topo_parser_fail(p, kp,
					   "%zu endpoints; expected an array of exactly 2 endpoints such as [\"h1\", \"r1\"]",
					   json_object_array_length(v));
	for (e = 0; e < 2; e++) {
		char ep_path[SL_TOPO_PATH_MAX];

		sl_topo_path_elem(ep_path, kp, (size_t)e);
		ret = parse_endpoint(p, json_object_array_get_idx(v, e),
				     ep_path, &ep[e]);
		if (ret)
			return ret;
	}
	/* sl_topo_add_link() must not see a self-link (the node would get
	 * two interfaces for one link). */
	if (ep[0].node == ep[1].node)
		return sl_err_set(p->err, EINVAL, SL_MSG_SELF_LINK, p->src,
				  (unsigned)i, p->t->nodes[ep[0].node].name);
	if (json_object_object_get_ex(o, "mtu", &v)) {
		int64_t m;

		sl_topo_path_key(kp, path, "mtu");
		if (!json_object_is_type(v, json_type_int))
			return sl_topo_parser_wrong_type(p, kp, v,
							 "an integer from 68 to 65535");
		m = json_object_get_int64(v);
		if (m < SL_MTU_MIN || m > SL_MTU_MAX)
			return sl_topo_parser_fail(p, kp,
						   "%s is out of range; expected an integer from %d to %d",
						   json_object_to_json_string(v),
						   SL_MTU_MIN, SL_MTU_MAX);
		mtu = (uint32_t)m;
	}
	if (json_object_object_get_ex(o, "mode", &v)) {
		sl_topo_path_key(kp, path, "mode");
		ret = sl_topo_parser_string(p, v, kp,
					    "\"auto\", \"max\" or \"normal\"",
					    &s);
		if (ret)
			return ret;
		if (!strcmp(s, "max"))
			mode = SL_MODE_MAX;
		else if (!strcmp(s, "normal"))
			mode = SL_MODE_NORMAL;
		else if (strcmp(s, "auto"))
			return sl_topo_parser_fail(p, kp,
						   "%s is not a mode; expected \"auto\", \"max\" or \"normal\"",
						   sl_quote(s, q, sizeof(q)));
	}
	idx = sl_topo_add_link(p->t, (uint32_t)ep[0].node,
			       (uint32_t)ep[1].node, mtu);
	if (idx < 0)
		return sl_err_set(p->err, -idx, "%s: %s: cannot add the link",
				  p->src, path);
	lk = &p->t->links[idx];
	lk->mode = mode;
	for (e = 0; e < 2; e++) {
		lk->ep[e].addr4 = ep[e].addr4;
		lk->ep[e].addr6 = ep[e].addr6;
		lk->ep[e].user_addr4 = ep[e].addr4.family != 0;
		lk->ep[e].user_addr6 = ep[e].addr6.family != 0;
	}
	if (json_object_object_get_ex(o, "policy", &v)) {
		sl_topo_path_key(kp, path, "policy");
		return sl_topo_parse_policy(p, lk, v, kp);
	}
	return 0;
}

/* --- top level ------------------------------------------------------------ */

static int parse_pool(struct sl_topo_parser *p, struct json_object *top,
		      const char *key, int family, struct sl_prefix *out)
{
	const char *expected = family == AF_INET ?
				       "an IPv4 network such as 10.0.0.0/16" :
				       "an IPv6 network such as fd5c:1::/64";
	struct json_object *v;

	if (!json_object_object_get_ex(top, key, &v))
		return 0;
	return parse_prefix(p, v, key, family, false, expected, out);
}

/* "flows": rules of the flow table, each checked as sluicectl flow add
 * would check it; kept as JSON text for the bring-up. */
static int parse_flows(struct sl_topo_parser *p, struct json_object *top)
{
	struct json_object *flows;
	char fp[SL_TOPO_PATH_MAX];
	size_t i, n;

	if (!json_object_object_get_ex(top, "flows", &flows))
		return 0;
	if (!json_object_is_type(flows, json_type_array))
		return sl_topo_parser_wrong_type(p, "flows", flows,
						 "an array of flow rules such as [{\"proto\": \"tcp\", \"dport\": 5201, \"mode\": \"max\"}]");
	n = json_object_array_length(flows);
	if (n > SL_FLOW_SLOTS)
		return sl_topo_parser_fail(p, "flows",
					   "%zu rules; expected at most %d", n,
					   SL_FLOW_SLOTS);
	for (i = 0; i < n; i++) {
		struct sl_flow_rule r;
		struct sl_err e;

		sl_topo_path_elem(fp, "flows", i);
		if (sl_flow_parse_json(json_object_array_get_idx(flows, i), &r, &e))
			return sl_topo_parser_fail(p, fp, "%s", e.msg);
	}
	if (!n)
		return 0;
	p->t->flows = strdup(json_object_to_json_string_ext(flows, JSON_C_TO_STRING_PLAIN));
	if (!p->t->flows)
		return sl_err_set(p->err, ENOMEM, "%s: out of memory", p->src);
	return 0;
}

static int parse_top(struct sl_topo_parser *p, struct json_object *top)
{
	static const char *const keys[] = { "name",  "ipv6",  "pool", "pool6",
					    "nodes", "links", "flows",
					    "socket_redirect", NULL };
	char name_expected[128];
	struct json_object *v, *nodes, *links;
	const char *name;
	size_t i, n;
	int ret;

	if (!json_object_is_type(top, json_type_object))
		return sl_topo_parser_wrong_type(p, "(top level)", top,
						 "an object with \"name\" and \"nodes\"");
	ret = sl_topo_parser_check_keys(p, top, "", keys,
					"name, ipv6, pool, pool6, nodes, links, flows, socket_redirect");
	if (ret)
		return ret;
	snprintf(name_expected, sizeof(name_expected),
		 "the topology name, " SL_NAME_EXPECTED, SL_TOPO_NAME_MAX - 1);
	if (!json_object_object_get_ex(top, "name", &v))
		return sl_topo_parser_missing(p, "", "name", name_expected);
	ret = sl_topo_parser_string(p, v, "name", name_expected, &name);
	if (!ret)
		ret = check_name(p, "name", name, SL_TOPO_NAME_MAX - 1);
	if (ret)
		return ret;
	p->t = sl_topo_new(name);
	if (!p->t)
		return sl_err_set(p->err, ENOMEM, "%s: out of memory", p->src);
	p->t->source = strdup(p->src);
	if (!p->t->source)
		return sl_err_set(p->err, ENOMEM, "%s: out of memory", p->src);

	if (json_object_object_get_ex(top, "ipv6", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return sl_topo_parser_wrong_type(p, "ipv6", v,
							 "true or false");
		p->t->ipv6 = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(top, "socket_redirect", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return sl_topo_parser_wrong_type(p, "socket_redirect",
							 v, "true or false");
		p->t->socket_redirect = json_object_get_boolean(v);
	}
	ret = parse_pool(p, top, "pool", AF_INET, &p->t->pool4);
	if (!ret)
		ret = parse_pool(p, top, "pool6", AF_INET6, &p->t->pool6);
	if (ret)
		return ret;

	if (!json_object_object_get_ex(top, "nodes", &nodes))
		return sl_topo_parser_missing(p, "", "nodes",
					      "an array of nodes such as [{\"name\": \"h1\"}]");
	if (!json_object_is_type(nodes, json_type_array))
		return sl_topo_parser_wrong_type(p, "nodes", nodes,
						 "an array of nodes such as [{\"name\": \"h1\"}]");
	n = json_object_array_length(nodes);
	if (!n)
		return sl_topo_parser_fail(p, "nodes",
					   "the array is empty; expected at least one node");
	if (n > SL_NODES_MAX)
		return sl_topo_parser_fail(p, "nodes",
					   "%zu nodes; expected at most %d", n,
					   SL_NODES_MAX);
	for (i = 0; i < n; i++) {
		ret = parse_node(p, json_object_array_get_idx(nodes, i), i);
		if (ret)
			return ret;
	}
	/* Duplicate names keep their first node here; sl_topo_validate()
	 * reports them. */
	if (sl_name_index_build(&p->ix, p->t, NULL, NULL))
		return sl_err_set(p->err, ENOMEM, "%s: out of memory", p->src);

	ret = parse_flows(p, top);
	if (ret)
		return ret;
	if (!json_object_object_get_ex(top, "links", &links))
		return 0;
	if (!json_object_is_type(links, json_type_array))
		return sl_topo_parser_wrong_type(p, "links", links,
						 "an array of links such as [{\"endpoints\": [\"h1\", \"r1\"]}]");
	n = json_object_array_length(links);
	for (i = 0; i < n; i++) {
		ret = parse_link(p, json_object_array_get_idx(links, i), i);
		if (ret)
			return ret;
	}
	return 0;
}

/* 1-based line and column of byte off, counting columns in bytes. */
static void line_col(const char *text, size_t off, unsigned *line,
		     unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static struct json_object *tokenize(const char *text, size_t len,
				    const char *src, struct sl_err *err)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;
	unsigned line, col;
	size_t off;

	if (len > INT32_MAX) {
		sl_err_set(err, EFBIG, "%s: the text is too large", src);
		return NULL;
	}
	/* A UTF-8 byte order mark, as some editors write, is not an error;
	 * columns on line 1 then count from after it. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	tok = json_tokener_new();
	if (!tok) {
		sl_err_set(err, ENOMEM, "%s: out of memory", src);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (off > len)
		off = len;
	line_col(text, off, &line, &col);
	if (jerr == json_tokener_continue)
		sl_err_set(err, EINVAL,
			   "%s:%u:%u: invalid JSON: unexpected end of the text; expected a complete JSON object",
			   src, line, col);
	else if (jerr != json_tokener_success)
		sl_err_set(err, EINVAL,
			   "%s:%u:%u: invalid JSON: %s; expected strict JSON (no comments, no trailing commas)",
			   src, line, col, json_tokener_error_desc(jerr));
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int sl_topo_parse(const char *text, size_t len, const char *source,
		  struct sl_topo **out, struct sl_err *err)
{
	struct sl_topo_parser p = { .src = source ? source : "<input>",
				      .err = err };
	struct json_object *top;
	int ret;

	*out = NULL;
	if (!text) {
		text = "";
		len = 0;
	}
	top = tokenize(text, len, p.src, err);
	if (!top)
		return -EINVAL;
	ret = parse_top(&p, top);
	if (!ret)
		ret = sl_topo_validate(p.t, err);
	sl_name_index_free(&p.ix);
	json_object_put(top);
	if (ret) {
		sl_topo_free(p.t);
		return ret;
	}
	*out = p.t;
	return 0;
}

int sl_topo_load(const char *path, struct sl_topo **out, struct sl_err *err)
{
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0, n;
	FILE *f;
	int ret;

	*out = NULL;
	errno = 0;
	f = fopen(path, "r");
	if (!f)
		return sl_err_set(err, errno, "%s: cannot read: %s", path,
				  strerror(errno));
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > LOAD_MAX + 1)
				cap = LOAD_MAX + 1;
			if (len == cap) {
				ret = sl_err_set(err, EFBIG,
						 "%s: cannot read: larger than %u MiB",
						 path, LOAD_MAX >> 20);
				goto out;
			}
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				ret = sl_err_set(err, ENOMEM,
						 "%s: cannot read: out of memory",
						 path);
				goto out;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n)
			continue;
		if (ferror(f)) {
			int e = errno ? errno : EIO;

			ret = sl_err_set(err, e, "%s: cannot read: %s", path,
					 strerror(e));
			goto out;
		}
		break;
	}
	ret = sl_topo_parse(buf ? buf : "", len, path, out, err);
out:
	free(buf);
	fclose(f);
	return ret;
}
