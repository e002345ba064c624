// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * maxmode_paths.c - test and benchmark helper: turns path compression on or
 * off for a topology that sluiced brought up, until bring-up does it
 * itself (lib/net.c). It reads the resolved model the daemon saved
 * (<rundir>/topo/<name>/topology.json), computes the routes the nodes
 * were given, opens the pinned fabric and calls the fabric_path API.
 *
 * Usage: maxmode_paths RUNDIR NAME build|clear|count
 * Built by tests/net/test_maxmode.sh and bench/maxmode/run (not by make).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <sluice/bpffs.h>
#include <sluice/fabric.h>
#include <sluice/fabric_path.h>
#include <sluice/route.h>
#include <sluice/topo.h>

int main(int argc, char **argv)
{
	struct sl_route_table *rt4 = NULL, *rt6 = NULL;
	struct sl_fabric_paths_info info;
	struct sl_err err = { "" };
	struct sl_fabric *f = NULL;
	struct sl_topo *t = NULL;
	char path[512];
	uint64_t n = 0;
	int64_t cnt;
	int ret = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: %s RUNDIR NAME build|clear|count\n",
			argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", SL_BPFFS_DIR, argv[2]);
	f = sl_fabric_open(path, &err);
	if (!f)
		goto out;
	if (!strcmp(argv[3], "clear")) {
		if (sl_fabric_paths_clear(f, &n, &err))
			goto out;
		printf("cleared %llu paths\n", (unsigned long long)n);
		ret = 0;
		goto out;
	}
	if (!strcmp(argv[3], "count")) {
		cnt = sl_fabric_paths_count(f, &err);
		if (cnt < 0)
			goto out;
		printf("%lld\n", (long long)cnt);
		ret = 0;
		goto out;
	}
	if (strcmp(argv[3], "build")) {
		fprintf(stderr, "unknown action %s\n", argv[3]);
		ret = 2;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/topo/%s/topology.json", argv[1],
		 argv[2]);
	if (sl_topo_load(path, &t, &err))
		goto out;
	if (sl_routes_compute(t, AF_INET, &rt4, &err))
		goto out;
	if (t->ipv6 && sl_routes_compute(t, AF_INET6, &rt6, &err))
		goto out;
	if (sl_fabric_paths_build(f, t, rt4, rt6, &info, &err))
		goto out;
	printf("paths: %llu entries (%llu full, %llu truncated), %llu single-link, %llu capped, %llu stale removed, longest %u links\n",
	       (unsigned long long)info.entries,
	       (unsigned long long)info.full,
	       (unsigned long long)info.truncated,
	       (unsigned long long)info.single,
	       (unsigned long long)info.capped,
	       (unsigned long long)info.deleted, info.max_hops);
	ret = 0;
out:
	if (ret == 1)
		fprintf(stderr, "maxmode_paths: %s\n", err.msg);
	if (rt4)
		sl_route_tables_free(rt4, t->n_nodes);
	if (rt6)
		sl_route_tables_free(rt6, t->n_nodes);
	sl_topo_free(t);
	sl_fabric_free(f);
	return ret;
}
