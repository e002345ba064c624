/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net.h - a live emulated network: bring-up, runtime changes, teardown.
 *
 * Data flows one way: model (topo.h) -> addresses and routes (addr.h,
 * route.h) -> kernel objects, created here through netlink (netlink.h) in
 * namespaces, each journaled first (journal.h), so that a failed or
 * interrupted bring-up is rolled back and `down` is idempotent.
 *
 * State of a topology lives in <rundir>/topo/<name>/:
 *   journal        the write-ahead record; its last line "commit" marks a
 *                  finished bring-up
 *   topology.json  the resolved model (addresses, pools), to re-adopt the
 *                  network after a daemon restart
 *   hosts          /etc/hosts for the nodes (node names and interfaces)
 *   links.down     indices of links set down at runtime, one per line
 */
#ifndef SLUICE_NET_H
#define SLUICE_NET_H

#include <stdint.h>
#include <time.h>

#include <sluice/topo.h>

#define SL_IFINDEX_NODE_BASE 100 /* eth<k> has ifindex 100 + k in its node */
#define SL_IFINDEX_PORT_BASE 100 /* port of ep[s] of link l: 100 + 2l + s */

struct sl_fabric;
struct sl_sockredir;
struct sl_dataplane;

struct sl_net {
	struct sl_topo *topo;
	char dir[256];
	time_t created;
	double up_seconds;
	uint64_t n_routes;
	struct sl_fabric *fabric;
	/* L4 max mode: the topology's cgroup, which `sluicectl exec` joins,
	 * and the socket redirection attached to it. Empty / NULL when this
	 * host cannot (no cgroup v2): then note says why. */
	char cgroup[256];
	struct sl_sockredir *sockredir;
	char note[256];
	/* Normal mode: the daemon's dataplane (not owned) and, per link,
	 * whether it carries the link. */
	struct sl_dataplane *dp;
	bool *normal;
};

typedef void sl_progress_fn(const char *phase, uint64_t done, uint64_t total,
			    void *arg);

/*
 * Brings topology t up (t is validated; addresses may be unassigned).
 * dp carries the links that need user-space cells (NULL: such links are
 * an error).
 * On success *out owns t. On failure everything created is removed again,
 * t stays the caller's, and err says what failed.
 */
int sl_net_up(struct sl_topo *t, const char *rundir, struct sl_dataplane *dp,
	      sl_progress_fn *progress, void *arg, struct sl_net **out,
	      struct sl_err *err);
/* Re-adopts a committed topology after a daemon restart (its normal-mode
 * links are handed to dp again). */
int sl_net_adopt(const char *rundir, const char *name, struct sl_dataplane *dp,
		 struct sl_net **out, struct sl_err *err);
/* Removes everything of topology name (its journal); idempotent. */
int sl_net_destroy(const char *rundir, const char *name, unsigned *removed,
		   struct sl_err *err);
void sl_net_free(struct sl_net *n);

int sl_net_link_set(struct sl_net *n, uint32_t link, bool up,
		    struct sl_err *err);

/*
 * Replaces the policy of one direction of a live link (dir 0: ep[0] ->
 * ep[1]); policy is JSON text or NULL for none. Packets queued in a shaper
 * stay queued. On failure the old policy stays in force.
 */
int sl_net_link_policy(struct sl_net *n, uint32_t link, int dir,
		       const char *policy, struct sl_err *err);

/* Counters of the shaper (if any) on the sending side of a link direction:
 * -ENOENT when the direction is not shaped. */
struct sl_qdisc_stats;
int sl_net_shaper_stats(const struct sl_net *n, uint32_t link, int dir,
			struct sl_qdisc_stats *out, struct sl_err *err);

/* Counters of one direction of a link, from wherever it runs: "fabric"
 * (packets, bytes, drops by reason), "shaper" (sch_tbf), "dataplane"
 * (per-cell telemetry of a normal-mode link); and "mode". */
struct json_object;
struct json_object *sl_net_link_stats(const struct sl_net *n, uint32_t link,
				      int dir);

/* Names of the topologies with state under rundir (malloc'ed array of
 * malloc'ed strings). */
int sl_net_list_dirs(const char *rundir, char ***names, size_t *n);

static inline int sl_port_ifindex(uint32_t link, int side)
{
	return SL_IFINDEX_PORT_BASE + 2 * (int)link + side;
}

/*
 * Fixed MAC addresses, so that the fabric can address a node's interface
 * without asking the kernel (locally administered, unicast):
 *   node n's eth<k>:            02:5c:NN:NN:KK:KK
 *   fabric port of ep[s] of l:  06:5c:LL:LL:LL:SS  (l < 2^24)
 */
static inline void sl_node_mac(uint32_t node, uint32_t ifidx, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x5c;
	mac[2] = (uint8_t)(node >> 8);
	mac[3] = (uint8_t)node;
	mac[4] = (uint8_t)(ifidx >> 8);
	mac[5] = (uint8_t)ifidx;
}

static inline void sl_port_mac(uint32_t link, int side, uint8_t mac[6])
{
	mac[0] = 0x06;
	mac[1] = 0x5c;
	mac[2] = (uint8_t)(link >> 16);
	mac[3] = (uint8_t)(link >> 8);
	mac[4] = (uint8_t)link;
	mac[5] = (uint8_t)side;
}

static inline int sl_node_ifindex(uint32_t ifidx)
{
	return SL_IFINDEX_NODE_BASE + (int)ifidx;
}

#endif
