/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fabric_path.h - path compression in the kernel fabric (max mode).
 *
 * Hop by hop, a packet from host h1 to h2 across a chain of routers enters
 * the fabric once per link and crosses every router's IP stack. With a
 * compressed path the first fabric port does all of it at once: it applies
 * the policy of every link on the route (down flag, policer, loss,
 * counters), lowers the TTL by the routers crossed and redirects the packet
 * straight to h2's interface (bpf/fabric.h: "Path compression"). So 40
 * hops cost about what 2 do, and every link's counters still count it.
 *
 * The paths are computed here, in user space, from the model and the
 * route tables the nodes hold (sl_routes_compute), by walking the routes
 * as the kernel would: local addresses first, then the longest match over
 * connected subnets and static routes. One entry per (ingress port of a
 * host, destination address); router ports get none, so traffic that
 * routers originate, and everything that does not qualify, goes hop by hop.
 *
 * A path ends early (a truncated path: delivered compressed to a router on
 * the way, which forwards it itself) at the first node where the kernel
 * must decide or act:
 *   - the next link carries a shaper in that direction (a tbf qdisc on the
 *     router's interface would be skipped) or is in normal mode;
 *   - the next link's MTU is smaller than the first link's (the router
 *     would fragment or send "packet too big");
 *   - the route there is unreachable or missing, or the next hop was
 *     already on the path (a loop);
 *   - the path would exceed SL_PATH_HOPS_MAX links.
 * Paths of a single link gain nothing and get no entry.
 *
 * ECMP: where a route has several next hops, the path takes one picked by
 * a hash of (ingress port, destination address), a different draw at each
 * hop. The kernel's default multipath hash (fib_multipath_hash_policy 0)
 * is per (source, destination) address pair too, so the granularity is
 * the same, but not the choice: a packet that falls back to hop by hop
 * (TTL too small, say) may take another of the equal paths.
 *
 * Ports and MACs follow bring-up's fixed numbering (include/sluice/net.h:
 * sl_port_ifindex, sl_node_mac), so nothing is asked of the kernel.
 *
 * Scale: entries are (host ports) x (addresses within SL_PATH_HOPS_MAX
 * links), ordered node addresses first, then interface addresses, and cut
 * at the fabric's capacity (SL_FABRIC_PATHS_MAX; the rest go hop by hop,
 * counted in info.capped). A link set down needs no rebuild: the program
 * checks every link's down flag (ld_flags) on every packet. A change of
 * shaper, MTU or mode needs sl_fabric_paths_build() again.
 */
#ifndef SLUICE_FABRIC_PATH_H
#define SLUICE_FABRIC_PATH_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/err.h>
#include <sluice/fabric.h>
#include <sluice/route.h>
#include <sluice/topo.h>

/* One planned entry of the "paths" map. */
struct sl_fabric_path_entry {
	struct sl_fabric_path_key key;
	struct sl_fabric_path path;
};

/* What a plan or build found (all counts of (port, address) pairs). */
struct sl_fabric_paths_info {
	uint64_t entries;   /* planned (and, by build, written) */
	uint64_t full;      /* of entries: reach the destination */
	uint64_t truncated; /* of entries: end early at a router */
	uint64_t single;    /* no entry: one link only, or the first link
			     * cannot be compressed */
	uint64_t capped;    /* no entry: beyond the capacity */
	uint64_t deleted;   /* build: stale entries removed */
	uint32_t max_hops;  /* the longest planned path */
};

/*
 * Plans the paths of topology t (addresses assigned) for each family that
 * has a table (rt4 / rt6: t->n_nodes tables each, or NULL to skip the
 * family), at most max entries (0: SL_FABRIC_PATHS_MAX). *out (malloc'ed,
 * free()) gets *n entries, sorted by key. info may be NULL. A policy that
 * does not parse makes its link direction non-compressible rather than
 * failing; -EINVAL only for a model without addresses, -ENOMEM.
 */
int sl_fabric_paths_plan(const struct sl_topo *t,
			 const struct sl_route_table *rt4,
			 const struct sl_route_table *rt6, uint32_t max,
			 struct sl_fabric_path_entry **out, size_t *n,
			 struct sl_fabric_paths_info *info, struct sl_err *err);

/*
 * Makes the fabric's "paths" map hold exactly the plan of t: new and
 * changed entries are written first, then stale ones removed, so a packet
 * never sees a missing path that has a replacement. Call it after
 * sl_fabric_port_set() of every port (before that, ld_flags says "down"
 * and compressed packets would drop), and again after a runtime change of
 * a link's shaper, MTU or mode (sl_fabric_paths_refresh is the same call).
 */
int sl_fabric_paths_build(struct sl_fabric *f, const struct sl_topo *t,
			  const struct sl_route_table *rt4,
			  const struct sl_route_table *rt6,
			  struct sl_fabric_paths_info *info, struct sl_err *err);
int sl_fabric_paths_refresh(struct sl_fabric *f, const struct sl_topo *t,
			    const struct sl_route_table *rt4,
			    const struct sl_route_table *rt6,
			    struct sl_fabric_paths_info *info,
			    struct sl_err *err);

/* Removes every entry (compression off; traffic goes hop by hop). *n
 * (may be NULL) gets the number removed. */
int sl_fabric_paths_clear(struct sl_fabric *f, uint64_t *n,
			  struct sl_err *err);

/* One entry. set checks the invariants of bpf/fabric.h (-EINVAL naming
 * the field); get and del return -ENOENT for a key without entry. */
int sl_fabric_path_set(struct sl_fabric *f, const struct sl_fabric_path_key *k,
		       const struct sl_fabric_path *p, struct sl_err *err);
int sl_fabric_path_get(struct sl_fabric *f, const struct sl_fabric_path_key *k,
		       struct sl_fabric_path *out, struct sl_err *err);
int sl_fabric_path_del(struct sl_fabric *f, const struct sl_fabric_path_key *k,
		       struct sl_err *err);
/* Number of entries in "paths" (a walk over the keys), or -errno. */
int64_t sl_fabric_paths_count(struct sl_fabric *f, struct sl_err *err);

#endif
