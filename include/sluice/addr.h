/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * addr.h - address assignment and interface naming.
 *
 * Every node gets a stable address on lo (its "node address", what its name
 * resolves to) and every link a point-to-point subnet (/31 for IPv4, /127 for
 * IPv6) from the topology's pool. The pool is chosen so that it does not
 * overlap the host's own networks. Addresses given in the file are kept.
 */
#ifndef SLUICE_ADDR_H
#define SLUICE_ADDR_H

#include <sluice/topo.h>

/*
 * Fills every unassigned node and endpoint address. When t->pool4 (or pool6
 * with t->ipv6) is unset, picks the first candidate pool large enough that
 * overlaps nothing in avoid[] (the host's addresses and routes) nor any
 * address given in the file. Deterministic for the same inputs.
 * Returns 0 or a negative errno with err filled.
 */
int sl_addr_assign(struct sl_topo *t, const struct sl_prefix *avoid,
		   size_t n_avoid, struct sl_err *err);

/*
 * Interface names (all within IFNAMSIZ-1 = 15 characters):
 *  - inside a node: "eth<ifidx>";
 *  - fabric port of a node's interface: "<node>-eth<ifidx>" when it fits,
 *    else the node name cut short + "~" + 4 hex digits of a hash of the whole
 *    node name + "-eth<ifidx>", so the name stays unique and predictable.
 * sl_ifnames_assign() fills ep[].ifname and ep[].port for every link and
 * fails (naming both nodes) if two fabric ports would share a name.
 */
void sl_ifname_node(uint32_t ifidx, char out[SL_IFNAME_MAX]);
void sl_ifname_port(const char *node, uint32_t ifidx, char out[SL_IFNAME_MAX]);
int sl_ifnames_assign(struct sl_topo *t, struct sl_err *err);

/* Namespace names: "sluice.<topo>.<node>" and the fabric "sluice.<topo>". */
#define SL_NETNS_PREFIX "sluice."
void sl_netns_node(const char *topo, const char *node, char *out, size_t len);
void sl_netns_fabric(const char *topo, char *out, size_t len);

#endif
