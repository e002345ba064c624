// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_route.c - static routes (lib/route.c).
 *
 * Besides exact tables for small cases, every topology is checked by brute
 * force against an independent oracle: for every node and every address of
 * the topology, longest-prefix match over the emitted table (the node's own
 * address and connected subnets being the kernel's business) must give
 * exactly the next-hop set a plain BFS says.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <sluice/addr.h>
#include <sluice/route.h>

/* --- building topologies */

__attribute__((format(printf, 3, 4)))
static int add(struct sl_topo *t, enum sl_node_kind kind, const char *fmt, ...)
{
	char name[SL_NAME_MAX];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	r = sl_topo_add_node(t, name, kind);
	assert_true(r >= 0);
	return r;
}

static void link2(struct sl_topo *t, int a, int b)
{
	assert_true(sl_topo_add_link(t, (uint32_t)a, (uint32_t)b, 0) >= 0);
}

static void finish(struct sl_topo *t)
{
	struct sl_err err = { { 0 } };

	t->ipv6 = true;
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
}

static struct sl_topo *linear(uint32_t n)
{
	struct sl_topo *t = sl_topo_new("lin");
	uint32_t i;

	for (i = 0; i < n; i++) {
		add(t, SL_NODE_ROUTER, "r%u", i + 1);
		if (i)
			link2(t, (int)i - 1, (int)i);
	}
	finish(t);
	return t;
}

static struct sl_topo *ring(uint32_t n)
{
	struct sl_topo *t = sl_topo_new("ring");
	uint32_t i;

	for (i = 0; i < n; i++)
		add(t, SL_NODE_ROUTER, "r%u", i + 1);
	for (i = 0; i < n; i++)
		link2(t, (int)i, (int)((i + 1) % n));
	finish(t);
	return t;
}

/* hub router s0 and n hosts */
static struct sl_topo *star(uint32_t n)
{
	struct sl_topo *t = sl_topo_new("star");
	uint32_t i;

	add(t, SL_NODE_ROUTER, "s%u", 0);
	for (i = 0; i < n; i++)
		link2(t, 0, add(t, SL_NODE_HOST, "h%u", i + 1));
	finish(t);
	return t;
}

/* k-ary fat tree: (k/2)^2 cores, k pods of k/2 aggregation and k/2 edge
 * switches, k/2 hosts per edge switch. */
static struct sl_topo *fat_tree(uint32_t k)
{
	struct sl_topo *t = sl_topo_new("ft");
	uint32_t h = k / 2, p, i, j, core0;

	core0 = t->n_nodes;
	for (i = 0; i < h * h; i++)
		add(t, SL_NODE_ROUTER, "c%u", i);
	for (p = 0; p < k; p++) {
		uint32_t agg0 = t->n_nodes, edge0;

		for (i = 0; i < h; i++) {
			int a = add(t, SL_NODE_ROUTER, "a%u", p * h + i);

			for (j = 0; j < h; j++)
				link2(t, a, (int)(core0 + i * h + j));
		}
		edge0 = t->n_nodes;
		for (i = 0; i < h; i++) {
			int e = add(t, SL_NODE_ROUTER, "e%u", p * h + i);

			for (j = 0; j < h; j++)
				link2(t, e, (int)(agg0 + j));
		}
		for (i = 0; i < h; i++)
			for (j = 0; j < h; j++)
				link2(t, (int)(edge0 + i),
				      add(t, SL_NODE_HOST, "h%u",
					  (p * h + i) * h + j));
	}
	finish(t);
	return t;
}

static uint32_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) & 0xffffff;
}

/* Random graph: a random tree (usually) plus extra edges, about a third of
 * the nodes hosts; with p_tree < 100 the graph may be disconnected. */
static struct sl_topo *random_graph(uint32_t seed, uint32_t n, uint32_t extra,
				    uint32_t p_tree)
{
	struct sl_topo *t = sl_topo_new("rnd");
	uint32_t i, tries = 0;

	rnd_state = seed;
	for (i = 0; i < n; i++)
		add(t, rnd() % 3 == 0 ? SL_NODE_HOST : SL_NODE_ROUTER, "n%u",
		    i);
	for (i = 1; i < n; i++)
		if (rnd() % 100 < p_tree)
			link2(t, (int)(rnd() % i), (int)i);
	for (i = 0; i < extra && tries < extra * 20; tries++) {
		uint32_t a = rnd() % n, b = rnd() % n;

		if (a == b || sl_topo_find_link(t, a, b) >= 0)
			continue;
		link2(t, (int)a, (int)b);
		i++;
	}
	finish(t);
	return t;
}

static const char *route_str(const struct sl_route *r);

/* --- the oracle */

#define INF UINT32_MAX

/* dist[x * n + y], paths with hosts only at the ends. */
static uint32_t *oracle_dist(const struct sl_topo *t)
{
	uint32_t n = t->n_nodes, *d = malloc(sizeof(*d) * n * n + 1);
	uint32_t *q = malloc(sizeof(*q) * n + 1), s;

	for (s = 0; s < n; s++) {
		uint32_t *row = d + (size_t)s * n, h = 0, tl = 0, i;

		for (i = 0; i < n; i++)
			row[i] = INF;
		row[s] = 0;
		q[tl++] = s;
		while (h < tl) {
			uint32_t u = q[h++];

			if (u != s && t->nodes[u].kind == SL_NODE_HOST)
				continue;
			for (i = 0; i < t->nodes[u].n_links; i++) {
				uint32_t v = sl_link_peer(
					&t->links[t->nodes[u].links[i]], u)->node;

				if (row[v] == INF) {
					row[v] = row[u] + 1;
					q[tl++] = v;
				}
			}
		}
	}
	free(q);
	return d;
}

struct nhset {
	uint32_t n;
	bool nh[64]; /* by ifidx; tests stay below 64 links per node */
};

static void oracle_node(const struct sl_topo *t, const uint32_t *dist,
			uint32_t s, uint32_t d, struct nhset *out)
{
	uint32_t n = t->n_nodes, k, ds = dist[(size_t)s * n + d];

	memset(out, 0, sizeof(*out));
	if (ds == INF)
		return;
	for (k = 0; k < t->nodes[s].n_links; k++) {
		uint32_t v = sl_link_peer(&t->links[t->nodes[s].links[k]], s)->node;

		if (out->n == SL_ECMP_MAX)
			break;
		if (v != d && t->nodes[v].kind == SL_NODE_HOST)
			continue;
		if (dist[(size_t)v * n + d] + 1 == ds) {
			out->nh[k] = true;
			out->n++;
		}
	}
}

/* A link subnet: via its nearer router end (host ends only when no router
 * end is reachable); ties give the union. */
static void oracle_link(const struct sl_topo *t, const uint32_t *dist,
			uint32_t s, uint32_t l, struct nhset *out)
{
	uint32_t ends[2] = { t->links[l].ep[0].node, t->links[l].ep[1].node };
	uint32_t n = t->n_nodes, best = INF, i, k, use[2] = { 0, 0 };
	struct nhset x;
	int pass;

	memset(out, 0, sizeof(*out));
	for (pass = 0; pass < 2 && best == INF; pass++)
		for (i = 0; i < 2; i++) {
			uint32_t dd = dist[(size_t)s * n + ends[i]];
			bool host = t->nodes[ends[i]].kind == SL_NODE_HOST;

			if (host == (pass == 0) || dd == INF)
				continue;
			if (dd < best) {
				best = dd;
				use[0] = use[1] = 0;
			}
			if (dd == best)
				use[i] = 1;
		}
	for (i = 0; i < 2; i++) {
		if (!use[i])
			continue;
		oracle_node(t, dist, s, ends[i], &x);
		for (k = 0; k < 64; k++)
			if (x.nh[k] && !out->nh[k]) {
				out->nh[k] = true;
				out->n++;
			}
	}
	/* keep the lowest SL_ECMP_MAX */
	for (k = 0, i = 0; k < 64; k++)
		if (out->nh[k] && ++i > SL_ECMP_MAX) {
			out->nh[k] = false;
			out->n--;
		}
}

static struct sl_prefix host_of(const struct sl_prefix *p)
{
	struct sl_prefix h = *p;

	h.len = (uint8_t)sl_prefix_bits(p);
	return h;
}

/* Is a local or connected route of node s more specific for a? */
static bool local_to(const struct sl_topo *t, uint32_t s, int family,
		     const struct sl_prefix *a)
{
	const struct sl_node *n = &t->nodes[s];
	struct sl_prefix p;
	uint32_t k;

	p = host_of(family == AF_INET ? &n->lo4 : &n->lo6);
	if (sl_prefix_contains(&p, a))
		return true;
	for (k = 0; k < n->n_links; k++) {
		const struct sl_link *l = &t->links[n->links[k]];
		int e;

		for (e = 0; e < 2; e++) {
			p = family == AF_INET ? l->ep[e].addr4 : l->ep[e].addr6;
			if (sl_prefix_contains(&p, a))
				return true;
		}
	}
	return false;
}

static bool same_as_local(const struct sl_topo *t, uint32_t s, int family,
			  const struct sl_prefix *dst)
{
	const struct sl_node *n = &t->nodes[s];
	struct sl_prefix p;
	uint32_t k;
	int e;

	p = host_of(family == AF_INET ? &n->lo4 : &n->lo6);
	if (!memcmp(&p, dst, sizeof(p)))
		return true;
	for (k = 0; k < n->n_links; k++) {
		const struct sl_link *l = &t->links[n->links[k]];

		for (e = 0; e < 2; e++) {
			p = family == AF_INET ? l->ep[e].addr4 : l->ep[e].addr6;
			sl_prefix_mask(&p);
			if (!memcmp(&p, dst, sizeof(p)))
				return true;
		}
	}
	return false;
}

static const struct sl_route *lpm(const struct sl_route_table *tb,
				  const struct sl_prefix *a)
{
	const struct sl_route *best = NULL;
	uint32_t i;

	for (i = 0; i < tb->n; i++)
		if (sl_prefix_contains(&tb->routes[i].dst, a) &&
		    (!best || tb->routes[i].dst.len > best->dst.len))
			best = &tb->routes[i];
	return best;
}

static void check_one(const struct sl_topo *t, const struct sl_route_table *tb,
		      uint32_t s, int family, const struct sl_prefix *addr,
		      const struct nhset *want)
{
	struct sl_prefix a = host_of(addr);
	const struct sl_route *r;
	char buf[64];
	uint32_t k;

	if (local_to(t, s, family, &a))
		return;
	r = lpm(tb, &a);
	if (!want->n) {
		if (r && r->n_nh)
			fail_msg("node %s: %s is unreachable but routed",
				 t->nodes[s].name,
				 sl_prefix_str(&a, buf, sizeof(buf), false));
		return;
	}
	if (!r || r->n_nh != want->n)
		fail_msg("node %s: %s: %u next hops, expected %u",
			 t->nodes[s].name,
			 sl_prefix_str(&a, buf, sizeof(buf), false),
			 r ? r->n_nh : 0, want->n);
	for (k = 0; k < r->n_nh; k++) {
		if (k && r->nh[k] <= r->nh[k - 1])
			fail_msg("next hops not sorted");
		if (r->nh[k] >= 64 || !want->nh[r->nh[k]])
			fail_msg("node %s: %s: wrong next hop eth%u",
				 t->nodes[s].name,
				 sl_prefix_str(&a, buf, sizeof(buf), false),
				 r->nh[k]);
	}
}

/* Structural checks, then LPM for every address of the topology. */
static void check_tables(const struct sl_topo *t, int family,
			 const struct sl_route_table *tables)
{
	uint32_t *dist = oracle_dist(t), s, d, l, i, j;
	struct nhset want;

	for (s = 0; s < t->n_nodes; s++) {
		const struct sl_route_table *tb = &tables[s];

		for (i = 0; i < tb->n; i++) {
			const struct sl_route *r = &tb->routes[i];
			struct sl_prefix m = r->dst;

			assert_int_equal(r->dst.family, family);
			sl_prefix_mask(&m);
			assert_memory_equal(&m, &r->dst, sizeof(m));
			assert_true(r->n_nh <= SL_ECMP_MAX);
			for (j = 0; j < r->n_nh; j++)
				assert_true(r->nh[j] < t->nodes[s].n_links);
			/* never the very prefix of a local or connected
			 * route: adding it would fail with EEXIST */
			if (same_as_local(t, s, family, &r->dst))
				fail_msg("node %s: route %s is local",
					 t->nodes[s].name, route_str(r));
			for (j = i + 1; j < tb->n; j++)
				assert_false(tb->routes[j].dst.len == r->dst.len &&
					     sl_prefix_contains(&tb->routes[j].dst,
								&r->dst));
		}
		for (d = 0; d < t->n_nodes; d++) {
			const struct sl_node *n = &t->nodes[d];

			oracle_node(t, dist, s, d, &want);
			check_one(t, tb, s, family,
				  family == AF_INET ? &n->lo4 : &n->lo6, &want);
		}
		for (l = 0; l < t->n_links; l++) {
			oracle_link(t, dist, s, l, &want);
			for (i = 0; i < 2; i++) {
				const struct sl_endpoint *ep = &t->links[l].ep[i];

				check_one(t, tb, s, family,
					  family == AF_INET ? &ep->addr4 :
							      &ep->addr6,
					  &want);
			}
		}
	}
	free(dist);
}

static struct sl_route_table *compute(const struct sl_topo *t, int family)
{
	struct sl_route_table *tables = NULL;
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_routes_compute(t, family, &tables, &err), 0);
	assert_non_null(tables);
	return tables;
}

/* Both families, checked; returns the largest table (IPv4). */
static uint32_t check_both(const struct sl_topo *t)
{
	struct sl_route_table *tb;
	uint32_t max4, max6;

	tb = compute(t, AF_INET);
	check_tables(t, AF_INET, tb);
	sl_route_count_total(tb, t->n_nodes, &max4);
	sl_route_tables_free(tb, t->n_nodes);
	tb = compute(t, AF_INET6);
	check_tables(t, AF_INET6, tb);
	sl_route_count_total(tb, t->n_nodes, &max6);
	sl_route_tables_free(tb, t->n_nodes);
	return max4 > max6 ? max4 : max6;
}

static const char *route_str(const struct sl_route *r)
{
	static char buf[256];
	char a[64];
	size_t o;
	uint32_t k;

	o = (size_t)snprintf(buf, sizeof(buf), "%s",
			     sl_prefix_str(&r->dst, a, sizeof(a), true));
	if (!r->n_nh)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, " unreachable");
	for (k = 0; k < r->n_nh; k++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, " eth%u",
				      r->nh[k]);
	return buf;
}

/* The table as one string, routes separated by "; ". */
static const char *table_str(const struct sl_route_table *tb)
{
	static char buf[2048];
	size_t o = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < tb->n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
				      i ? "; " : "", route_str(&tb->routes[i]));
	return buf;
}

/* --- tests */

static void test_linear5(void **state)
{
	struct sl_topo *t = linear(5);
	struct sl_route_table *tb = compute(t, AF_INET);

	/*
	 * Nodes 10.0.0.1-5 (block of 8), links 10.0.0.8/31, .10, .12, .14.
	 * From r3 (.3; eth0 to r2, eth1 to r4), left are .1, .2 and .8/31,
	 * right .4, .5 and .14/31; .10 and .12 are connected, .3 is its own:
	 * don't care, so .4/30 and .12/30 cover the right side.
	 */
	assert_string_equal(table_str(&tb[0]), "0.0.0.0/0 eth0");
	assert_string_equal(table_str(&tb[4]), "0.0.0.0/0 eth0");
	/* both sides weigh 3 destinations: the lower label (eth0) wins */
	assert_string_equal(table_str(&tb[2]),
			    "0.0.0.0/0 eth0; 10.0.0.4/30 eth1; 10.0.0.12/30 eth1");
	assert_string_equal(table_str(&tb[1]),
			    "0.0.0.0/0 eth1; 10.0.0.0/31 eth0");
	assert_string_equal(table_str(&tb[3]),
			    "0.0.0.0/0 eth0; 10.0.0.4/30 eth1");
	sl_route_tables_free(tb, t->n_nodes);
	check_both(t);
	sl_topo_free(t);
}

static void test_ring6_ecmp(void **state)
{
	struct sl_topo *t = ring(6);
	struct sl_route_table *tb = compute(t, AF_INET);
	struct sl_prefix opp = host_of(&t->nodes[3].lo4);
	const struct sl_route *r = lpm(&tb[0], &opp);

	/* r1's eth0 goes to r2, eth1 (the closing link) to r6 */
	assert_non_null(r);
	assert_int_equal(r->n_nh, 2);
	assert_int_equal(r->nh[0], 0);
	assert_int_equal(r->nh[1], 1);
	sl_route_tables_free(tb, t->n_nodes);
	check_both(t);
	sl_topo_free(t);
}

static void test_star(void **state)
{
	struct sl_topo *t = star(20);
	struct sl_route_table *tb = compute(t, AF_INET);
	uint32_t i;

	for (i = 1; i < t->n_nodes; i++)
		assert_string_equal(table_str(&tb[i]), "0.0.0.0/0 eth0");
	sl_route_tables_free(tb, t->n_nodes);
	tb = compute(t, AF_INET6);
	for (i = 1; i < t->n_nodes; i++)
		assert_string_equal(table_str(&tb[i]), "::/0 eth0");
	sl_route_tables_free(tb, t->n_nodes);
	check_both(t);
	sl_topo_free(t);
}

static void test_diamond(void **state)
{
	/* a - b, a - c, b - d, c - d, d - h (host) */
	struct sl_topo *t = sl_topo_new("dia");
	struct sl_route_table *tb;
	struct sl_prefix x;
	const struct sl_route *r;

	add(t, SL_NODE_ROUTER, "a");
	add(t, SL_NODE_ROUTER, "b");
	add(t, SL_NODE_ROUTER, "c");
	add(t, SL_NODE_ROUTER, "d");
	add(t, SL_NODE_HOST, "h");
	link2(t, 0, 1);
	link2(t, 0, 2);
	link2(t, 1, 3);
	link2(t, 2, 3);
	link2(t, 3, 4);
	finish(t);
	tb = compute(t, AF_INET);
	x = host_of(&t->nodes[4].lo4);
	r = lpm(&tb[0], &x);
	assert_non_null(r);
	assert_int_equal(r->n_nh, 2);
	/* the d-h subnet: via d, both ways */
	x = host_of(&t->links[4].ep[1].addr4);
	r = lpm(&tb[0], &x);
	assert_int_equal(r->n_nh, 2);
	/* the b-d subnet from c: via d (eth1 of c) or b? b and d are both
	 * 2 hops... no: d is 1 hop from c, b is 2: only eth1 */
	x = host_of(&t->links[2].ep[0].addr4);
	r = lpm(&tb[2], &x);
	assert_int_equal(r->n_nh, 1);
	assert_int_equal(r->nh[0], 1);
	/* gateways: the peer's address on the link */
	assert_memory_equal(sl_route_gateway(t, 0, 1, AF_INET),
			    &t->links[1].ep[1].addr4, sizeof(struct sl_prefix));
	assert_memory_equal(sl_route_gateway(t, 3, 2, AF_INET6),
			    &t->links[4].ep[1].addr6, sizeof(struct sl_prefix));
	assert_null(sl_route_gateway(t, 0, 2, AF_INET));
	sl_route_tables_free(tb, t->n_nodes);
	check_both(t);
	sl_topo_free(t);
}

static void test_fat_tree(void **state)
{
	struct sl_topo *t = fat_tree(4);
	struct sl_route_table *tb = compute(t, AF_INET);
	int e0 = sl_topo_find_node(t, "e0");
	int h15 = sl_topo_find_node(t, "h15");
	int h0 = sl_topo_find_node(t, "h0");
	struct sl_prefix x = host_of(&t->nodes[h15].lo4);
	const struct sl_route *r = lpm(&tb[e0], &x);

	/* an edge switch reaches another pod over both aggregations */
	assert_non_null(r);
	assert_int_equal(r->n_nh, 2);
	assert_int_equal(r->nh[0], 0);
	assert_int_equal(r->nh[1], 1);
	/* a host has just the default route */
	assert_string_equal(table_str(&tb[h0]), "0.0.0.0/0 eth0");
	sl_route_tables_free(tb, t->n_nodes);
	check_both(t);
	sl_topo_free(t);
}

static void test_host_not_transit(void **state)
{
	/* r1 - h - r2, plus r1 - r3 - r4 - r2: the way round is longer but
	 * the only one */
	struct sl_topo *t = sl_topo_new("hm");
	struct sl_route_table *tb;
	struct sl_prefix x;
	const struct sl_route *r;

	add(t, SL_NODE_ROUTER, "r1");
	add(t, SL_NODE_HOST, "h");
	add(t, SL_NODE_ROUTER, "r2");
	add(t, SL_NODE_ROUTER, "r3");
	add(t, SL_NODE_ROUTER, "r4");
	link2(t, 0, 1);
	link2(t, 1, 2);
	link2(t, 0, 3);
	link2(t, 3, 4);
	link2(t, 4, 2);
	finish(t);
	tb = compute(t, AF_INET);
	x = host_of(&t->nodes[2].lo4);
	r = lpm(&tb[0], &x);
	assert_non_null(r);
	assert_int_equal(r->n_nh, 1);
	assert_int_equal(r->nh[0], 1); /* via r3, not via h */
	/* h itself is reached directly, and h uses both links */
	x = host_of(&t->nodes[1].lo4);
	r = lpm(&tb[0], &x);
	assert_int_equal(r->nh[0], 0);
	sl_route_tables_free(tb, t->n_nodes);
	check_both(t);
	sl_topo_free(t);

	/* without the way round r1 cannot reach r2 at all */
	t = sl_topo_new("hm2");
	add(t, SL_NODE_ROUTER, "r1");
	add(t, SL_NODE_HOST, "h");
	add(t, SL_NODE_ROUTER, "r2");
	link2(t, 0, 1);
	link2(t, 1, 2);
	finish(t);
	tb = compute(t, AF_INET);
	x = host_of(&t->nodes[2].lo4);
	r = lpm(&tb[0], &x);
	assert_true(!r || r->n_nh == 0);
	x = host_of(&t->nodes[1].lo4);
	r = lpm(&tb[0], &x);
	assert_non_null(r);
	assert_int_equal(r->n_nh, 1);
	sl_route_tables_free(tb, t->n_nodes);
	check_both(t);
	sl_topo_free(t);
}

static void test_disconnected(void **state)
{
	struct sl_topo *t = sl_topo_new("dis");
	struct sl_route_table *tb;
	uint32_t i;

	for (i = 0; i < 7; i++)
		add(t, SL_NODE_ROUTER, "r%u", i);
	link2(t, 0, 1);
	link2(t, 1, 2);
	link2(t, 3, 4);
	link2(t, 5, 4);
	/* r6 is alone */
	finish(t);
	tb = compute(t, AF_INET);
	assert_int_equal(tb[6].n, 0);
	sl_route_tables_free(tb, t->n_nodes);
	check_both(t);
	sl_topo_free(t);

	/* interleaved components need unreachable routes: odd and even
	 * nodes in two linears */
	t = sl_topo_new("dis2");
	for (i = 0; i < 12; i++)
		add(t, SL_NODE_ROUTER, "r%u", i);
	for (i = 2; i < 12; i++)
		link2(t, (int)i - 2, (int)i);
	finish(t);
	check_both(t);
	sl_topo_free(t);
}

static void test_random(void **state)
{
	uint32_t seed;

	for (seed = 1; seed <= 40; seed++) {
		uint32_t n = 3 + seed * 3 % 47;
		struct sl_topo *t = random_graph(seed, n, n / 2 + seed % 7,
						 seed % 5 ? 100 : 80);

		check_both(t);
		sl_topo_free(t);
	}
}

static void test_ecmp_cap(void **state)
{
	/* a and b joined through 20 parallel routers: 16 next hops, the
	 * lowest interfaces */
	struct sl_topo *t = sl_topo_new("wide");
	struct sl_route_table *tb;
	struct sl_prefix x;
	const struct sl_route *r;
	uint32_t i;

	add(t, SL_NODE_ROUTER, "a");
	add(t, SL_NODE_ROUTER, "b");
	for (i = 0; i < 20; i++) {
		int m = add(t, SL_NODE_ROUTER, "m%u", i);

		link2(t, 0, m);
		link2(t, m, 1);
	}
	finish(t);
	tb = compute(t, AF_INET);
	x = host_of(&t->nodes[1].lo4);
	r = lpm(&tb[0], &x);
	assert_int_equal(r->n_nh, SL_ECMP_MAX);
	for (i = 0; i < SL_ECMP_MAX; i++)
		assert_int_equal(r->nh[i], i);
	sl_route_tables_free(tb, t->n_nodes);
	check_both(t);
	sl_topo_free(t);
}

static void test_errors(void **state)
{
	struct sl_topo *t = sl_topo_new("e");
	struct sl_route_table *tb = (void *)1;
	struct sl_err err = { { 0 } };

	add(t, SL_NODE_ROUTER, "r1");
	add(t, SL_NODE_ROUTER, "r2");
	link2(t, 0, 1);
	assert_int_equal(sl_routes_compute(t, AF_INET, &tb, &err), -EINVAL);
	assert_null(tb);
	assert_string_equal(err.msg,
			    "<topology>: nodes[0]: no IPv4 address; expected addresses assigned before routing");
	assert_int_equal(sl_routes_compute(t, 99, &tb, &err), -EINVAL);
	/* IPv4 only: asking for IPv6 routes is an error, not empty tables */
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	assert_int_equal(sl_routes_compute(t, AF_INET6, &tb, &err), -EINVAL);
	assert_int_equal(sl_routes_compute(t, AF_INET, &tb, &err), 0);
	/* two routers on one link need no routes but each other's lo */
	assert_string_equal(table_str(&tb[0]), "0.0.0.0/0 eth0");
	sl_route_tables_free(tb, t->n_nodes);
	sl_route_tables_free(NULL, 0);
	sl_topo_free(t);

	/* no nodes at all */
	t = sl_topo_new("empty");
	assert_int_equal(sl_routes_compute(t, AF_INET, &tb, &err), 0);
	sl_route_tables_free(tb, 0);
	sl_topo_free(t);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_linear1000_counts(void **state)
{
	struct sl_topo *t = linear(1000);
	struct sl_route_table *tb;
	uint32_t max;
	uint64_t sum;
	double t0 = now(), dt;

	tb = compute(t, AF_INET);
	dt = now() - t0;
	sum = sl_route_count_total(tb, t->n_nodes, &max);
	/* 2 * log2(3000) + 4 = 27.1 */
	print_message("# linear 1000 IPv4: %.3f s (ASan), %llu routes, max %u per node\n",
		      dt, (unsigned long long)sum, max);
	assert_true(max <= 27);
	check_tables(t, AF_INET, tb);
	sl_route_tables_free(tb, t->n_nodes);

	t0 = now();
	tb = compute(t, AF_INET6);
	dt = now() - t0;
	sum = sl_route_count_total(tb, t->n_nodes, &max);
	print_message("# linear 1000 IPv6: %.3f s (ASan), %llu routes, max %u per node\n",
		      dt, (unsigned long long)sum, max);
	assert_true(max <= 27);
	sl_route_tables_free(tb, t->n_nodes);
	sl_topo_free(t);
}

static void test_fat_tree8(void **state)
{
	struct sl_topo *t = fat_tree(8);
	struct sl_route_table *tb;
	uint32_t max;
	uint64_t sum;
	double t0 = now(), dt;

	tb = compute(t, AF_INET);
	dt = now() - t0;
	sum = sl_route_count_total(tb, t->n_nodes, &max);
	print_message("# fat-tree 8 (%u nodes) IPv4: %.3f s (ASan), %llu routes, max %u per node\n",
		      t->n_nodes, dt, (unsigned long long)sum, max);
	check_tables(t, AF_INET, tb);
	sl_route_tables_free(tb, t->n_nodes);
	sl_topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear5),
		cmocka_unit_test(test_ring6_ecmp),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_diamond),
		cmocka_unit_test(test_fat_tree),
		cmocka_unit_test(test_host_not_transit),
		cmocka_unit_test(test_disconnected),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_ecmp_cap),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_linear1000_counts),
		cmocka_unit_test(test_fat_tree8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
