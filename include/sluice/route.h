/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * route.h - shortest-path static routes for every node.
 *
 * Hop-count shortest paths; hosts never carry transit traffic. Where paths
 * tie, a route gets every tying next hop (ECMP, at most SL_ECMP_MAX).
 * Each node's table is compressed (optimal route table construction over a
 * binary trie, with unused address space as don't-care), so that a linear
 * or tree topology of N nodes needs O(log N) routes per node, not O(N).
 */
#ifndef SLUICE_ROUTE_H
#define SLUICE_ROUTE_H

#include <sluice/topo.h>

#define SL_ECMP_MAX 16

/* n_nh == 0 means "unreachable" (install as RTN_UNREACHABLE): only emitted
 * in a disconnected topology, where an unreachable destination lies inside
 * a prefix routed elsewhere. */
struct sl_route {
	struct sl_prefix dst;
	uint32_t n_nh;
	uint32_t nh[SL_ECMP_MAX]; /* the node's ifidx of each next hop */
};

struct sl_route_table {
	struct sl_route *routes;
	uint32_t n;
	uint32_t cap;
};

/*
 * Computes the tables of all nodes for one family (AF_INET or AF_INET6;
 * addresses must be assigned). tables[] has t->n_nodes entries, filled here;
 * free with sl_route_tables_free(). A node that cannot reach some address
 * (disconnected topology) simply has no route to it.
 */
int sl_routes_compute(const struct sl_topo *t, int family,
		      struct sl_route_table **tables, struct sl_err *err);
void sl_route_tables_free(struct sl_route_table *tables, uint32_t n);

/* The gateway of next hop ifidx of node n: the peer's address on that link. */
const struct sl_prefix *sl_route_gateway(const struct sl_topo *t, uint32_t n,
					 uint32_t ifidx, int family);

/* Sum of the routes of n tables; *max (when not NULL) gets the largest. */
uint64_t sl_route_count_total(const struct sl_route_table *tables, uint32_t n,
			      uint32_t *max);

#endif
