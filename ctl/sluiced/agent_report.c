// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * agent_report.c - what this host tells the controller about itself: the
 * counters of every link direction and of every cell of the normal-mode
 * ones (the agent's periodic "collect_metrics"), and the capabilities and
 * capacity of its hello.
 *
 * Counters are cumulative since the link came up, read in the daemon's
 * thread where the topologies live; the controller computes the rates.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <sluice/cell.h>
#include <sluice/dataplane.h>
#include <sluice/fabric.h>
#include <sluice/hostagent.h>
#include <sluice/log.h>
#include <sluice/netlink.h>
#include <sluice/sockredir.h>

#include "sluiced.h"

/* Rows {topology, a, b, dir, cell, counters} of one normal-mode direction:
 * counters are the cell's telemetry (docs/cells.md) without its name. */
static void cell_rows(struct sl_net *n, uint32_t l, int s, json_object *rows)
{
	const struct sl_link *lk = &n->topo->links[l];
	json_object *tel = NULL, *cells;
	size_t i;

	if (!n->normal || !n->normal[l] || !n->dp ||
	    sl_dataplane_stats(n->dp, n->topo->name, l, s, &tel, NULL))
		return;
	cells = json_object_object_get(tel, "cells");
	for (i = 0; cells && i < json_object_array_length(cells); i++) {
		json_object *c = json_object_array_get_idx(cells, i), *r, *nm;
		char name[64];

		if (!json_object_is_type(c, json_type_object))
			continue;
		/* Cells are named in their policy; an unnamed one by its place. */
		if (json_object_object_get_ex(c, "name", &nm) &&
		    json_object_get_string_len(nm) > 0)
			snprintf(name, sizeof(name), "%s", json_object_get_string(nm));
		else
			snprintf(name, sizeof(name), "cell%zu", i);
		r = json_object_new_object();
		json_object_object_add(r, "topology", json_object_new_string(n->topo->name));
		json_object_object_add(r, "a", json_object_new_string(n->topo->nodes[lk->ep[0].node].name));
		json_object_object_add(r, "b", json_object_new_string(n->topo->nodes[lk->ep[1].node].name));
		json_object_object_add(r, "dir", json_object_new_string(s ? "down" : "up"));
		json_object_object_add(r, "cell", json_object_new_string(name));
		json_object_object_del(c, "name");
		json_object_object_add(c, "index", json_object_new_int64((int64_t)i));
		json_object_object_add(r, "counters", json_object_get(c));
		json_object_array_add(rows, r);
	}
	json_object_put(tel);
}

void agent_collect_metrics(struct daemon *d)
{
	json_object *rep = json_object_new_object(), *links = json_object_new_array();
	json_object *cells = json_object_new_array();
	size_t i;
	uint32_t l;
	int s;

	for (i = 0; i < d->n_nets; i++) {
		struct sl_net *n = d->nets[i];

		for (l = 0; l < n->topo->n_links; l++) {
			const struct sl_link *lk = &n->topo->links[l];

			for (s = 0; s < 2; s++) {
				struct sl_fabric_stats st = { 0 };
				struct sl_qdisc_stats q = { 0 };
				json_object *r = json_object_new_object();

				if (n->fabric)
					sl_fabric_stats_get(n->fabric, l, (uint32_t)s, &st, NULL);
				json_object_object_add(r, "topology", json_object_new_string(n->topo->name));
				json_object_object_add(r, "a", json_object_new_string(n->topo->nodes[lk->ep[0].node].name));
				json_object_object_add(r, "b", json_object_new_string(n->topo->nodes[lk->ep[1].node].name));
				json_object_object_add(r, "dir", json_object_new_string(s ? "down" : "up"));
				json_object_object_add(r, "packets", json_object_new_int64((int64_t)st.packets));
				json_object_object_add(r, "bytes", json_object_new_int64((int64_t)st.bytes));
				/* The shaper's drops and queue, if the direction has one. */
				sl_net_shaper_stats(n, l, s, &q, NULL);
				json_object_object_add(r, "drops", json_object_new_int64(
					(int64_t)(st.drop_down + st.drop_policer + st.drop_loss + q.drops)));
				json_object_object_add(r, "qlen", json_object_new_int64(q.qlen));
				json_object_object_add(r, "backlog", json_object_new_int64(q.backlog));
				json_object_array_add(links, r);
				cell_rows(n, l, s, cells);
			}
		}
	}
	json_object_object_add(rep, "links", links);
	json_object_object_add(rep, "cells", cells);
	sl_hostagent_push_metrics(d->agent, rep);
}

json_object *agent_capabilities(struct daemon *d)
{
	json_object *caps = json_object_new_array();
	char buf[4096];
	const struct sl_cell_ops *ops;
	unsigned i;

	/* The kernel path is what every topology needs; sluiced does not
	 * start a topology without it. */
	json_object_array_add(caps, json_object_new_string("max-mode"));
	if (!sl_cgroup2_root(buf, sizeof(buf), NULL))
		json_object_array_add(caps, json_object_new_string("max-mode-l4"));
	if (d->dp)
		json_object_array_add(caps, json_object_new_string("normal-mode"));
	json_object_array_add(caps, json_object_new_string("flows"));
	relay_binary(buf, sizeof(buf));
	if (strchr(buf, '/') && access(buf, X_OK) == 0)
		json_object_array_add(caps, json_object_new_string("relays"));
	if (access("/proc/sys/net/ipv6", F_OK) == 0)
		json_object_array_add(caps, json_object_new_string("ipv6"));
	/* Cells run in the user-space dataplane only. */
	for (i = 0; d->dp && (ops = sl_cell_type(i)); i++) {
		snprintf(buf, sizeof(buf), "cell:%s", ops->type);
		json_object_array_add(caps, json_object_new_string(buf));
	}
	return caps;
}

/* kB of a /proc/meminfo line, or 0. */
static long long meminfo_kb(const char *key)
{
	char line[256];
	long long v = 0;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			sscanf(line + kl + 1, "%lld", &v);
			break;
		}
	fclose(f);
	return v;
}

/*
 * max_nodes is an estimate of the largest topology this host takes: a
 * bring-up holds a namespace fd per node (the open-file limit, less a
 * margin for everything else), and a node costs the kernel about 1 MiB
 * (namespace, veth pair, routes, sockets of what runs in it).
 */
json_object *agent_capacity(struct daemon *d)
{
	json_object *cap = json_object_new_object();
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long long total = meminfo_kb("MemTotal"), avail = meminfo_kb("MemAvailable");
	long long nodes = SL_NODES_MAX;
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    (long long)rl.rlim_cur - 64 < nodes)
		nodes = (long long)rl.rlim_cur - 64;
	if (avail && avail / 1024 < nodes)
		nodes = avail / 1024;
	if (nodes < 0)
		nodes = 0;
	json_object_object_add(cap, "cpus", json_object_new_int64(cpus > 0 ? cpus : 1));
	json_object_object_add(cap, "memory_mb", json_object_new_int64(total / 1024));
	json_object_object_add(cap, "memory_available_mb", json_object_new_int64(avail / 1024));
	json_object_object_add(cap, "max_nodes", json_object_new_int64(nodes));
	json_object_object_add(cap, "dataplane_threads",
			       json_object_new_int64(d->dp ? d->dp_threads : 0));
	return cap;
}
