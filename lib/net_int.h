/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net_int.h - what lib/net.c (bring-up, teardown), lib/net_live.c
 * (re-adoption, runtime link state) and lib/net_policy.c (where each link
 * runs, policy changes, statistics) share inside libsluice. Not a public
 * header.
 */
#ifndef SLUICE_NET_INT_H
#define SLUICE_NET_INT_H

#include <sluice/kpolicy.h>
#include <sluice/net.h>
#include <sluice/netlink.h>

/*
 * Where a link runs and what the kernel does for it. A link is carried by
 * the user-space dataplane (normal) when its mode says so, or in auto mode
 * when the kernel path cannot do its policy; otherwise by the fabric
 * program and the shapers (max), whose settings kp[] holds.
 */
struct sl_link_plan {
	bool normal;
	struct sl_kpolicy kp[2]; /* per direction; zero when normal */
};

/* Plans link l with policy[dir] replaced by override when dir is 0 or 1
 * (-1: the model's policies). have_dp: a dataplane can take normal links. */
int sl_link_plan(const struct sl_topo *t, uint32_t l, bool have_dp,
		 int dir, const char *override, struct sl_link_plan *out,
		 struct sl_err *err);

/* Steers the receive work of a normal-mode link's two node interfaces off
 * the dataplane's CPUs (warns when it cannot; see include/sluice/steer.h). */
struct sl_dataplane;
void sl_net_steer_link(struct sl_dataplane *dp, const int node_fd[2],
		       const char *ifname[2]);

/* The state dir of topology name: <rundir>/topo/<name>. */
void sl_net_topo_dir(const char *rundir, const char *name, char *buf,
		     size_t len);
int sl_net_write_file(const char *path, const char *text, struct sl_err *err);
struct sl_nl *sl_net_node_nl(const struct sl_net *n, uint32_t node,
			     struct sl_err *err);
/* Rewrites <dir>/topology.json from the model. */
int sl_net_save_model(const struct sl_net *n, struct sl_err *err);

#endif
