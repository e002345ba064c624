// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_stats.c - `sluicectl stats [A B]`: counters of every link direction
 * from wherever it runs (the kernel fabric and shaper, or the user-space
 * dataplane's cells), with the cells' queues and sojourn times.
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "sluicectl.h"

static int64_t drops_sum(json_object *o)
{
	int64_t s = 0;

	if (!o)
		return 0;
	json_object_object_foreach(o, k, v) {
		(void)k;
		s += json_object_get_int64(v);
	}
	return s;
}

/* One direction: packets, bytes, drops and queue from where it runs. */
static void dir_row(struct ctl_table *t, json_object *e, const char *from,
		    const char *to, json_object *d)
{
	json_object *f = NULL, *sh = NULL, *dp = NULL, *dps = NULL;
	char pk[32], by[32], dr[32], q[32], dir[96];
	int64_t packets = 0, bytes = 0, drops = 0, qlen = 0;

	json_object_object_get_ex(d, "fabric", &f);
	json_object_object_get_ex(d, "shaper", &sh);
	json_object_object_get_ex(d, "dataplane", &dp);
	if (dp) {
		packets = ctl_jint(dp, "pkts_out", 0);
		bytes = ctl_jint(dp, "bytes_out", 0);
		if (json_object_object_get_ex(dp, "dataplane", &dps))
			drops = drops_sum(json_object_object_get(dps, "drops"));
		{
			json_object *cells = ctl_jarray(dp, "cells");
			size_t i;

			for (i = 0; cells && i < json_object_array_length(cells); i++)
				qlen += ctl_jint(json_object_array_get_idx(cells, i), "qlen_pkts", 0);
		}
	} else if (f) {
		packets = ctl_jint(f, "packets", 0);
		bytes = ctl_jint(f, "bytes", 0);
		drops = ctl_jint(f, "drop_down", 0) + ctl_jint(f, "drop_policer", 0) +
			ctl_jint(f, "drop_loss", 0);
	}
	if (sh) {
		drops += ctl_jint(sh, "drops", 0);
		qlen += ctl_jint(sh, "qlen", 0);
	}
	snprintf(dir, sizeof(dir), "%s->%s", from, to);
	snprintf(pk, sizeof(pk), "%" PRId64, packets);
	snprintf(by, sizeof(by), "%" PRId64, bytes);
	snprintf(dr, sizeof(dr), "%" PRId64, drops);
	snprintf(q, sizeof(q), "%" PRId64, qlen);
	ctl_table_add(t, (const char *const[]){ ctl_jstr(e, "topology", "?"), dir,
		ctl_jstr(d, "mode", "?"), pk, by, dr, q });
}

/* The cells of a normal-mode direction, one line each. */
static void print_cells(const char *from, const char *to, json_object *d)
{
	json_object *dp = NULL, *cells;
	size_t i;

	if (!json_object_object_get_ex(d, "dataplane", &dp))
		return;
	cells = ctl_jarray(dp, "cells");
	for (i = 0; cells && i < json_object_array_length(cells); i++) {
		json_object *c = json_object_array_get_idx(cells, i), *soj = NULL;

		json_object_object_get_ex(c, "sojourn_ns", &soj);
		printf("  %s->%s cell %-10s in %-8" PRId64 " out %-8" PRId64
		       " drops %-6" PRId64 " queue %" PRId64 " pkt %" PRId64
		       " B  sojourn avg %.3f ms max %.3f ms\n",
		       from, to, ctl_jstr(c, "name", "?"), ctl_jint(c, "pkts_in", 0),
		       ctl_jint(c, "pkts_out", 0), drops_sum(json_object_object_get(c, "drops")),
		       ctl_jint(c, "qlen_pkts", 0), ctl_jint(c, "qlen_bytes", 0),
		       soj ? (double)ctl_jint(soj, "avg", 0) / 1e6 : 0.0,
		       soj ? (double)ctl_jint(soj, "max", 0) / 1e6 : 0.0);
	}
}

int cmd_stats(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "cells", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const head[] = { "TOPOLOGY", "DIRECTION", "MODE",
					    "PACKETS", "BYTES", "DROPS", "QUEUE" };
	json_object *req, *res = NULL, *arr;
	const char *topo = NULL;
	bool cells = false;
	struct ctl_table *t;
	size_t i;
	int o, ret;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "n:c", opts)) != -1) {
		switch (o) {
		case 'n': topo = optarg; break;
		case 'c': cells = true; break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 0 && argc - optind != 2)
		return ctl_usage_error(cmd, "expected no link or two nodes A B");
	req = ctl_new_request("stats");
	if (topo)
		json_object_object_add(req, "name", json_object_new_string(topo));
	if (argc - optind == 2) {
		json_object_object_add(req, "a", json_object_new_string(argv[optind]));
		json_object_object_add(req, "b", json_object_new_string(argv[optind + 1]));
		cells = true;
	}
	ret = ctl_request(ctl, req, &res);
	if (ret)
		return ret;
	if (ctl->json) {
		ctl_print_json(res);
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	t = ctl_table_new(7, head);
	arr = ctl_jarray(res, "links");
	for (i = 0; t && arr && i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *a = ctl_jstr(e, "a", "?"), *b = ctl_jstr(e, "b", "?");

		dir_row(t, e, a, b, json_object_object_get(e, "up"));
		dir_row(t, e, b, a, json_object_object_get(e, "down"));
	}
	if (t)
		ctl_table_print(t, stdout);
	ctl_table_free(t);
	for (i = 0; cells && arr && i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *a = ctl_jstr(e, "a", "?"), *b = ctl_jstr(e, "b", "?");

		print_cells(a, b, json_object_object_get(e, "up"));
		print_cells(b, a, json_object_object_get(e, "down"));
	}
	json_object_put(res);
	return CTL_EXIT_OK;
}
