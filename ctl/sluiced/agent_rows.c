// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * agent_rows.c - the controller's flow and relay rows on this host
 * (docs/protocol.md: flow_add, flow_del, relay_add, relay_del).
 *
 * A flow row names nodes ("src": "h1", "dst": "h2"); the fabric's flow
 * table (include/sluice/flow.h) matches addresses. So one row becomes one
 * rule per address the source node may send from (its loopback address
 * and the address of each of its interfaces) to the address the
 * destination's name resolves to (its loopback address), in each family
 * the topology has. The rules get the table's own ids; the map from the
 * controller's id to them is kept in the topology's state directory
 * (controller-flows), so that it survives a restart of sluiced and goes
 * away with the topology.
 *
 * A relay row is one relay chain of relays.c, tagged with the row's id
 * and version; the tag is saved with the chain (relays_adopt.c), so that
 * after a restart of sluiced the row still finds its chain.
 *
 * Both are idempotent: a row the host already has at the same version is
 * acknowledged without touching anything (the controller sends every row
 * again after a reconnect); another version replaces the rules or the
 * chain; removing a row the host does not have is not an error.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <sluice/fabric.h>
#include <sluice/flow.h>
#include <sluice/log.h>

#include "sluiced.h"

/* Rules of one row: a node with many interfaces makes many. */
#define FLOW_RULES_MAX 32
#define FLOW_MAP_NAME "controller-flows"

struct ctl_flow {
	int64_t id, version;
	unsigned n;
	uint32_t local[FLOW_RULES_MAX];
};

struct flow_map {
	struct ctl_flow *v;
	size_t n;
};

static void map_path(struct daemon *d, const char *topo, char *buf, size_t len)
{
	snprintf(buf, len, "%s/topo/%s/" FLOW_MAP_NAME, d->rundir, topo);
}

/* Lines "ID VERSION LOCAL[,LOCAL...]"; a missing file is an empty map. */
static int map_load(struct daemon *d, const char *topo, struct flow_map *m)
{
	char path[400], line[512];
	FILE *f;

	m->v = NULL;
	m->n = 0;
	map_path(d, topo, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct ctl_flow e = { 0 }, *v;
		long long id, ver;
		char ids[400], *tok, *save;

		if (sscanf(line, "%lld %lld %399s", &id, &ver, ids) != 3)
			continue;
		e.id = id;
		e.version = ver;
		for (tok = strtok_r(ids, ",", &save); tok && e.n < FLOW_RULES_MAX;
		     tok = strtok_r(NULL, ",", &save))
			e.local[e.n++] = (uint32_t)strtoul(tok, NULL, 10);
		v = realloc(m->v, (m->n + 1) * sizeof(*v));
		if (!v) {
			fclose(f);
			return -ENOMEM;
		}
		m->v = v;
		m->v[m->n++] = e;
	}
	fclose(f);
	return 0;
}

static int map_save(struct daemon *d, const char *topo,
		    const struct flow_map *m, struct sl_err *err)
{
	char path[400], tmp[420];
	size_t i;
	unsigned k;
	FILE *f;

	map_path(d, topo, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return sl_err_set(err, errno, "%s: %s", tmp, strerror(errno));
	for (i = 0; i < m->n; i++) {
		fprintf(f, "%lld %lld ", (long long)m->v[i].id,
			(long long)m->v[i].version);
		for (k = 0; k < m->v[i].n; k++)
			fprintf(f, "%s%u", k ? "," : "", m->v[i].local[k]);
		fputc('\n', f);
	}
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return sl_err_set(err, EIO, "cannot write %s", path);
	}
	return 0;
}

static struct ctl_flow *map_find(struct flow_map *m, int64_t id)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i].id == id)
			return &m->v[i];
	return NULL;
}

static void map_remove(struct flow_map *m, struct ctl_flow *e)
{
	size_t i = (size_t)(e - m->v);

	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
}

/* Removes the local rules of e; ids the table no longer has are fine. */
static void flow_rules_del(struct sl_net *n, const struct ctl_flow *e)
{
	struct sl_err err = { "" };
	unsigned k;

	for (k = 0; k < e->n; k++)
		if (sl_flow_del(n->fabric, e->local[k], &err) && *err.msg)
			pr_debug("%s: flow rule %u: %s", n->topo->name, e->local[k], err.msg);
}

/* A field of a row object: NULL when absent or null; an error for
 * another type. */
static int row_str(json_object *row, const char *what, int64_t id,
		   const char *key, bool required, const char **out,
		   struct sl_err *err)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(row, key, &v) || json_object_is_type(v, json_type_null)) {
		if (!required)
			return 0;
		return sl_err_set(err, EINVAL, "%s %lld: missing field \"%s\"; expected a string",
				  what, (long long)id, key);
	}
	if (!json_object_is_type(v, json_type_string) || !json_object_get_string_len(v))
		return sl_err_set(err, EINVAL, "%s %lld: field \"%s\": expected a non-empty string, got %s",
				  what, (long long)id, key, json_type_to_name(json_object_get_type(v)));
	*out = json_object_get_string(v);
	return 0;
}

static int row_int(json_object *row, const char *what, int64_t id,
		   const char *key, int64_t lo, int64_t hi, int64_t def,
		   int64_t *out, struct sl_err *err)
{
	json_object *v;

	*out = def;
	if (!json_object_object_get_ex(row, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < lo ||
	    json_object_get_int64(v) > hi)
		return sl_err_set(err, EINVAL, "%s %lld: field \"%s\": expected an integer "
				  "from %lld to %lld", what, (long long)id, key,
				  (long long)lo, (long long)hi);
	*out = json_object_get_int64(v);
	return 0;
}

/* The row object of a command and its "id". */
static int cmd_row(json_object *cmd, const char *key, json_object **row,
		   int64_t *id, struct sl_err *err)
{
	json_object *v;

	if (!json_object_object_get_ex(cmd, key, row) ||
	    !json_object_is_type(*row, json_type_object))
		return sl_err_set(err, EINVAL, "field \"%s\": expected an object", key);
	if (!json_object_object_get_ex(*row, "id", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return sl_err_set(err, EINVAL, "field \"%s.id\": expected an integer >= 0", key);
	*id = json_object_get_int64(v);
	return 0;
}

static struct sl_net *cmd_net(struct daemon *d, json_object *cmd,
			      struct sl_err *err)
{
	json_object *v;
	const char *name = json_object_object_get_ex(cmd, "topology", &v) ?
		json_object_get_string(v) : NULL;
	struct sl_net *n = name ? daemon_find_net(d, name) : NULL;

	if (!n)
		sl_err_set(err, ENOENT, "no topology \"%s\" is up on this host",
			   name ? name : "");
	return n;
}

static void full_len(struct sl_prefix *p)
{
	p->len = p->family == AF_INET ? 32 : 128;
}

/* The rule every address pair of row id shares: proto, ports, mode,
 * class, priority. */
static int flow_template(json_object *f, int64_t id, struct sl_flow_rule *r,
			 struct sl_err *err)
{
	const char *proto, *mode;
	int64_t sport, dport, class, prio;
	int ret;

	sl_flow_rule_init(r);
	ret = row_str(f, "flow", id, "proto", false, &proto, err);
	ret = ret ?: row_str(f, "flow", id, "mode", false, &mode, err);
	ret = ret ?: row_int(f, "flow", id, "sport", 0, 65535, 0, &sport, err);
	ret = ret ?: row_int(f, "flow", id, "dport", 0, 65535, 0, &dport, err);
	ret = ret ?: row_int(f, "flow", id, "class", 0, UINT32_MAX, 0, &class, err);
	ret = ret ?: row_int(f, "flow", id, "priority", 0, UINT32_MAX,
			     SL_FLOW_PRIO_DEFAULT, &prio, err);
	if (ret)
		return ret;
	if (!proto || !strcmp(proto, "any"))
		r->proto = 0;
	else if (!strcmp(proto, "tcp"))
		r->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		r->proto = IPPROTO_UDP;
	else if (!strcmp(proto, "icmp"))
		r->proto = IPPROTO_ICMP;
	else
		return sl_err_set(err, EINVAL, "flow %lld: field \"proto\": \"%s\"; "
				  "expected \"tcp\", \"udp\", \"icmp\" or \"any\"",
				  (long long)id, proto);
	/* "auto": no preference, which the table spells as its default. */
	if (!mode || !strcmp(mode, "auto") || !strcmp(mode, "max"))
		r->mode = SL_FLOW_MODE_MAX;
	else if (!strcmp(mode, "normal"))
		r->mode = SL_FLOW_MODE_NORMAL;
	else
		return sl_err_set(err, EINVAL, "flow %lld: field \"mode\": \"%s\"; "
				  "expected \"auto\", \"max\" or \"normal\"",
				  (long long)id, mode);
	if (sport)
		r->sport_lo = r->sport_hi = (uint16_t)sport;
	if (dport)
		r->dport_lo = r->dport_hi = (uint16_t)dport;
	r->class = (uint32_t)class;
	r->priority = (uint32_t)prio;
	return 0;
}

/* Installs the rules of row id for nodes s -> t; fills e. */
static int flow_rules_add(struct sl_net *n, int64_t id, const struct sl_flow_rule *tmpl,
			  uint32_t s, uint32_t t, struct ctl_flow *e,
			  struct sl_err *err)
{
	const struct sl_topo *topo = n->topo;
	const struct sl_node *sn = &topo->nodes[s], *tn = &topo->nodes[t];
	struct sl_flow_rule r;
	int fam, ret = 0;
	uint32_t k;

	e->n = 0;
	for (fam = 0; fam < 2 && !ret; fam++) {
		struct sl_prefix dst = fam ? tn->lo6 : tn->lo4;

		if (!dst.family)
			continue;
		full_len(&dst);
		/* k == n_links: the node's own (loopback) address. */
		for (k = 0; k <= sn->n_links && !ret; k++) {
			const struct sl_link *l;
			const struct sl_endpoint *ep;
			struct sl_prefix src;
			uint32_t lid;

			if (k == sn->n_links) {
				src = fam ? sn->lo6 : sn->lo4;
			} else {
				l = &topo->links[sn->links[k]];
				ep = l->ep[0].node == s ? &l->ep[0] : &l->ep[1];
				src = fam ? ep->addr6 : ep->addr4;
			}
			if (!src.family)
				continue;
			if (e->n == FLOW_RULES_MAX) {
				ret = sl_err_set(err, E2BIG, "flow %lld: node %s has more "
						 "than %d addresses; expected fewer "
						 "interfaces", (long long)id, sn->name,
						 FLOW_RULES_MAX);
				break;
			}
			full_len(&src);
			r = *tmpl;
			r.src = src;
			r.dst = dst;
			ret = sl_flow_add(n->fabric, &r, &lid, err);
			if (ret) {
				sl_err_prefix(err, "flow %lld (%s -> %s)", (long long)id,
					      sn->name, tn->name);
				break;
			}
			e->local[e->n++] = lid;
		}
	}
	if (ret) {
		flow_rules_del(n, e);
		e->n = 0;
		return ret;
	}
	if (!e->n)
		return sl_err_set(err, EINVAL, "flow %lld: nodes %s and %s have no "
				  "addresses of one family", (long long)id,
				  sn->name, tn->name);
	return 0;
}

static json_object *flow_result(const struct ctl_flow *e, bool unchanged)
{
	json_object *res = json_object_new_object(), *ids = json_object_new_array();
	unsigned k;

	for (k = 0; k < e->n; k++)
		json_object_array_add(ids, json_object_new_int64(e->local[k]));
	json_object_object_add(res, "flow", json_object_new_int64(e->id));
	json_object_object_add(res, "version", json_object_new_int64(e->version));
	json_object_object_add(res, "rules", ids);
	json_object_object_add(res, "unchanged", json_object_new_boolean(unchanged));
	return res;
}

int agent_flow_add(struct daemon *d, json_object *cmd, json_object **res,
		   struct sl_err *err)
{
	struct sl_net *n = cmd_net(d, cmd, err);
	struct flow_map m = { 0 };
	struct ctl_flow e = { 0 }, *old, *v;
	struct sl_flow_rule tmpl;
	const char *src, *dst;
	json_object *f;
	int64_t id, version;
	int s, t, ret;

	if (!n)
		return -ENOENT;
	ret = cmd_row(cmd, "flow", &f, &id, err);
	ret = ret ?: row_str(f, "flow", id, "src", true, &src, err);
	ret = ret ?: row_str(f, "flow", id, "dst", true, &dst, err);
	ret = ret ?: row_int(f, "flow", id, "version", 0, INT64_MAX, 1, &version, err);
	ret = ret ?: flow_template(f, id, &tmpl, err);
	if (ret)
		return ret;
	s = sl_topo_find_node(n->topo, src);
	t = sl_topo_find_node(n->topo, dst);
	if (s < 0 || t < 0)
		return sl_err_set(err, ENOENT, "flow %lld: field \"%s\": no node \"%s\" "
				  "in topology \"%s\"", (long long)id, s < 0 ? "src" : "dst",
				  s < 0 ? src : dst, n->topo->name);
	if (s == t)
		return sl_err_set(err, EINVAL, "flow %lld: src and dst are both \"%s\"; "
				  "expected two different nodes", (long long)id, src);
	if (!n->fabric)
		return sl_err_set(err, EOPNOTSUPP, "topology \"%s\" has no fabric "
				  "(no flow table)", n->topo->name);
	ret = map_load(d, n->topo->name, &m);
	if (ret)
		return sl_err_set(err, ret, "cannot read the flow map of %s: %s",
				  n->topo->name, strerror(-ret));
	old = map_find(&m, id);
	if (old && old->version == version) {
		*res = flow_result(old, true);
		goto out;
	}
	if (old) {
		flow_rules_del(n, old);
		map_remove(&m, old);
	}
	e.id = id;
	e.version = version;
	ret = flow_rules_add(n, id, &tmpl, (uint32_t)s, (uint32_t)t, &e, err);
	if (!ret) {
		v = realloc(m.v, (m.n + 1) * sizeof(*v));
		if (!v) {
			flow_rules_del(n, &e);
			ret = sl_err_set(err, ENOMEM, "out of memory");
		} else {
			m.v = v;
			m.v[m.n++] = e;
		}
	}
	/* Saved on failure too: the old rules may be gone. */
	if (map_save(d, n->topo->name, &m, ret ? NULL : err) && !ret) {
		flow_rules_del(n, &e);
		ret = -EIO;
	}
	if (!ret) {
		pr_info("controller: %s: flow %lld (%s -> %s, version %lld): %u rules",
			n->topo->name, (long long)id, src, dst, (long long)version, e.n);
		*res = flow_result(&e, false);
	}
out:
	free(m.v);
	return ret;
}

static int flow_del_in(struct daemon *d, struct sl_net *n, int64_t id,
		       unsigned *removed, struct sl_err *err)
{
	struct flow_map m = { 0 };
	struct ctl_flow *e;
	int ret;

	ret = map_load(d, n->topo->name, &m);
	if (ret)
		return sl_err_set(err, ret, "cannot read the flow map of %s: %s",
				  n->topo->name, strerror(-ret));
	e = map_find(&m, id);
	if (e) {
		flow_rules_del(n, e);
		*removed += e->n;
		map_remove(&m, e);
		ret = map_save(d, n->topo->name, &m, err);
		pr_info("controller: %s: flow %lld removed", n->topo->name, (long long)id);
	}
	free(m.v);
	return ret;
}

int agent_flow_del(struct daemon *d, json_object *cmd, json_object **res,
		   struct sl_err *err)
{
	json_object *v;
	const char *topo = json_object_object_get_ex(cmd, "topology", &v) ?
		json_object_get_string(v) : "*";
	unsigned removed = 0;
	int64_t id;
	size_t i;
	int ret = 0;

	if (!json_object_object_get_ex(cmd, "flow", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return sl_err_set(err, EINVAL, "field \"flow\": expected the id of a flow row");
	id = json_object_get_int64(v);
	for (i = 0; i < d->n_nets && !ret; i++)
		if (!strcmp(topo, "*") || !strcmp(topo, d->nets[i]->topo->name))
			ret = flow_del_in(d, d->nets[i], id, &removed, err);
	if (ret)
		return ret;
	*res = json_object_new_object();
	json_object_object_add(*res, "flow", json_object_new_int64(id));
	json_object_object_add(*res, "removed", json_object_new_int64(removed));
	return 0;
}

int agent_relay_add(struct daemon *d, json_object *cmd, json_object **res,
		    struct sl_err *err)
{
	struct sl_net *n = cmd_net(d, cmd, err);
	const char *node, *to_node, *mode;
	int64_t id, version, port, to_port, have_version;
	char from[64], to[64], via[1024] = "";
	json_object *r, *v;
	unsigned local;
	bool socks5 = false;
	int ret;

	if (!n)
		return -ENOENT;
	ret = cmd_row(cmd, "relay", &r, &id, err);
	ret = ret ?: row_str(r, "relay", id, "node", true, &node, err);
	ret = ret ?: row_int(r, "relay", id, "port", 1, 65535, 0, &port, err);
	ret = ret ?: row_str(r, "relay", id, "to_node", false, &to_node, err);
	ret = ret ?: row_int(r, "relay", id, "to_port", 1, 65535, 0, &to_port, err);
	ret = ret ?: row_str(r, "relay", id, "mode", false, &mode, err);
	ret = ret ?: row_int(r, "relay", id, "version", 0, INT64_MAX, 1, &version, err);
	if (ret)
		return ret;
	if (!port)
		return sl_err_set(err, EINVAL, "relay %lld: missing field \"port\"; "
				  "expected the port it listens on", (long long)id);
	if (json_object_object_get_ex(r, "socks5", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_boolean))
			return sl_err_set(err, EINVAL, "relay %lld: field \"socks5\": "
					  "expected true or false", (long long)id);
		socks5 = json_object_get_boolean(v);
	}
	if (socks5 == (to_node != NULL) || (to_node && !to_port))
		return sl_err_set(err, EINVAL, "relay %lld: expected \"to_node\" and "
				  "\"to_port\", or \"socks5\": true", (long long)id);
	if (json_object_object_get_ex(r, "via", &v) && !json_object_is_type(v, json_type_null)) {
		size_t i, len = 0;

		if (!json_object_is_type(v, json_type_array))
			return sl_err_set(err, EINVAL, "relay %lld: field \"via\": expected "
					  "an array of node names", (long long)id);
		for (i = 0; i < json_object_array_length(v); i++) {
			json_object *h = json_object_array_get_idx(v, i);

			if (!json_object_is_type(h, json_type_string) ||
			    strchr(json_object_get_string(h), ','))
				return sl_err_set(err, EINVAL, "relay %lld: field \"via[%zu]\": "
						  "expected a node name", (long long)id, i);
			len += (size_t)snprintf(via + len, sizeof(via) - len, "%s%s",
						i ? "," : "", json_object_get_string(h));
			if (len >= sizeof(via))
				return sl_err_set(err, E2BIG, "relay %lld: field \"via\": "
						  "too many nodes", (long long)id);
		}
	}
	if (!relay_find_ctl(id, &local, &have_version)) {
		if (have_version == version) {
			*res = json_object_new_object();
			json_object_object_add(*res, "relay", json_object_new_int64(id));
			json_object_object_add(*res, "id", json_object_new_int64(local));
			json_object_object_add(*res, "unchanged", json_object_new_boolean(1));
			return 0;
		}
		relay_del(d, local, NULL);
	}
	snprintf(from, sizeof(from), "%.40s:%u", node, (unsigned)port);
	if (to_node)
		snprintf(to, sizeof(to), "%.40s:%u", to_node, (unsigned)to_port);
	ret = relay_add(d, n, from, to_node ? to : NULL, *via ? via : NULL, socks5,
			mode, id, version, res, err);
	if (ret) {
		sl_err_prefix(err, "relay %lld", (long long)id);
		return ret;
	}
	local = (unsigned)json_object_get_int64(json_object_object_get(*res, "id"));
	json_object_object_add(*res, "relay", json_object_new_int64(id));
	json_object_object_add(*res, "unchanged", json_object_new_boolean(0));
	pr_info("controller: %s: relay %lld (version %lld) is local relay %u",
		n->topo->name, (long long)id, (long long)version, local);
	return 0;
}

int agent_relay_del(struct daemon *d, json_object *cmd, json_object **res,
		    struct sl_err *err)
{
	json_object *v;
	int64_t id, version;
	unsigned local;
	bool found;

	if (!json_object_object_get_ex(cmd, "relay", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return sl_err_set(err, EINVAL, "field \"relay\": expected the id of a relay row");
	id = json_object_get_int64(v);
	found = !relay_find_ctl(id, &local, &version);
	if (found && relay_del(d, local, err))
		return -ENOENT;
	*res = json_object_new_object();
	json_object_object_add(*res, "relay", json_object_new_int64(id));
	json_object_object_add(*res, "removed", json_object_new_boolean(found));
	return 0;
}
