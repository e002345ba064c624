// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_controller_list.c - sluicectl --controller URL list, hosts, stats:
 * the controller's topologies, hosts and link counters (GET
 * /api/topologies, /api/hosts, /api/stats) as tables, or the answers
 * themselves with --json. The requests are cmd_controller.c's.
 */
#include <string.h>
#include <time.h>

#include "controller.h"

/* --- formatting ------------------------------------------------------- */

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "812", "12.4k", "3.20M", "1.05G". */
static const char *fmt_count(double v, char *buf, size_t len)
{
	if (v < 10000)
		snprintf(buf, len, "%.0f", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else
		snprintf(buf, len, "%.2fG", v / 1e9);
	return buf;
}

/* Bits per second as "0bit/s", "640kbit/s", "4.98Mbit/s", "1.00Gbit/s". */
static const char *fmt_rate(double bps, char *buf, size_t len)
{
	if (bps < 1e3)
		snprintf(buf, len, "%.0fbit/s", bps);
	else if (bps < 1e6)
		snprintf(buf, len, "%.0fkbit/s", bps / 1e3);
	else if (bps < 1e9)
		snprintf(buf, len, "%.2fMbit/s", bps / 1e6);
	else
		snprintf(buf, len, "%.2fGbit/s", bps / 1e9);
	return buf;
}

/* An age from a Unix time in a reply; "-" when absent. */
static const char *fmt_since(json_object *o, const char *key, char *buf,
			     size_t len)
{
	double t = ctl_jdouble(o, key, 0);

	if (t <= 0)
		return "-";
	ctl_fmt_age((int64_t)(wall_s() - t + 0.5), buf, len);
	return buf;
}

/* The distinct hosts of a topology's nodes, comma-separated. */
static void topo_hosts(json_object *topo, char *buf, size_t len)
{
	json_object *nodes = ctl_jarray(topo, "nodes");
	size_t i, n = nodes ? json_object_array_length(nodes) : 0, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used + 1 < len; i++) {
		const char *h = ctl_jstr(json_object_array_get_idx(nodes, i),
					 "host", NULL);
		const char *p = buf;
		size_t hl;
		bool seen = false;

		if (!h)
			continue;
		hl = strlen(h);
		while (*p && !seen) {
			seen = !strncmp(p, h, hl) && (p[hl] == ',' || !p[hl]);
			p += strcspn(p, ",");
			p += *p == ',';
		}
		if (!seen)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 used ? "," : "", h);
	}
}

static size_t array_len(json_object *o, const char *key)
{
	json_object *a = ctl_jarray(o, key);

	return a ? json_object_array_length(a) : 0;
}

/* --- list, hosts, stats ----------------------------------------------- */

/* Options only (plus at most one NAME when name is not NULL). Returns -1
 * after printing help. */
static int plain_args(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		      char **argv, const char **name)
{
	static const struct option opts[] = {
		REMOTE_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	char why[128];
	int o;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "", opts)) != -1) {
		if (ctl_remote_opt(ctl, o))
			continue;
		if (o == CTL_OPT_HELP) {
			ctl_print_help(cmd);
			return -1;
		}
		return CTL_EXIT_USAGE;
	}
	if (name)
		*name = NULL;
	if (!name && optind < argc)
		return ctl_usage_error(cmd,
				       "unexpected argument '%s': expected no arguments",
				       argv[optind]);
	if (argc - optind > 1)
		return ctl_usage_error(cmd,
				       "unexpected argument '%s': expected at most one topology NAME",
				       argv[optind + 1]);
	if (optind < argc) {
		if (!ctl_topo_name_ok(argv[optind], why, sizeof(why)))
			return ctl_usage_error(cmd, "NAME '%s': %s",
					       argv[optind], why);
		*name = argv[optind];
	}
	return CTL_EXIT_OK;
}

int cmd_remote_list(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		    char **argv)
{
	static const char *const head[] = { "NAME", "STATE", "HOST", "NODES",
					    "LINKS", "ERROR" };
	json_object *res = NULL, *arr, *e;
	struct ctl_table *t;
	char hosts[256], nodes[24], links[24];
	size_t i, n;
	int ret;

	ret = plain_args(ctl, cmd, argc, argv, NULL);
	if (ret)
		return ret < 0 ? CTL_EXIT_OK : ret;
	ret = ctl_rest_list(ctl, "/api/topologies", "topologies", &res, &arr);
	if (ret || !res)
		return ret;
	t = ctl_table_new(6, head);
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; t && i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		topo_hosts(e, hosts, sizeof(hosts));
		snprintf(nodes, sizeof(nodes), "%zu", array_len(e, "nodes"));
		snprintf(links, sizeof(links), "%zu", array_len(e, "links"));
		ctl_table_add(t, (const char *const[]){
			ctl_jstr(e, "name", "?"), ctl_jstr(e, "state", "-"),
			hosts, nodes, links, ctl_jstr(e, "error", "-") });
	}
	if (t)
		ctl_table_print(t, stdout);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}

int cmd_remote_hosts(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		     char **argv)
{
	static const char *const head[] = { "HOST", "STATE", "VERSION",
					    "CONNECTED", "LAST-SEEN", "CPUS",
					    "MEMORY", "MAX-NODES",
					    "CAPABILITIES" };
	json_object *res = NULL, *arr, *e, *caps, *cap;
	struct ctl_table *t;
	char conn[32], seen[32], capbuf[512], cpus[16], mem[24], nodes[24];
	size_t i, j, n, len;
	unsigned cells;
	int ret;

	ret = plain_args(ctl, cmd, argc, argv, NULL);
	if (ret)
		return ret < 0 ? CTL_EXIT_OK : ret;
	ret = ctl_rest_list(ctl, "/api/hosts", "hosts", &res, &arr);
	if (ret || !res)
		return ret;
	t = ctl_table_new(9, head);
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; t && i < n; i++) {
		bool online;

		e = json_object_array_get_idx(arr, i);
		online = !strcmp(ctl_jstr(e, "state", ""), "online");
		/* The cells a host runs ("cell:NAME") are many: counted here,
		 * listed by --json. */
		capbuf[0] = '\0';
		len = 0;
		cells = 0;
		caps = ctl_jarray(e, "capabilities");
		for (j = 0; caps && j < json_object_array_length(caps); j++) {
			const char *c = json_object_get_string(json_object_array_get_idx(caps, j));

			if (!c || !strncmp(c, "cell:", 5)) {
				cells += c != NULL;
				continue;
			}
			if (len < sizeof(capbuf))
				len += (size_t)snprintf(capbuf + len, sizeof(capbuf) - len,
							"%s%s", len ? "," : "", c);
		}
		if (cells && len < sizeof(capbuf))
			snprintf(capbuf + len, sizeof(capbuf) - len, "%s%u cells",
				 len ? "," : "", cells);
		cap = json_object_object_get(e, "capacity");
		snprintf(cpus, sizeof(cpus), "%s", "-");
		snprintf(mem, sizeof(mem), "%s", "-");
		snprintf(nodes, sizeof(nodes), "%s", "-");
		if (json_object_object_get_ex(cap, "cpus", NULL))
			snprintf(cpus, sizeof(cpus), "%lld", (long long)ctl_jint(cap, "cpus", 0));
		if (json_object_object_get_ex(cap, "memory_mb", NULL))
			snprintf(mem, sizeof(mem), "%.1fGiB",
				 (double)ctl_jint(cap, "memory_mb", 0) / 1024);
		if (json_object_object_get_ex(cap, "max_nodes", NULL))
			snprintf(nodes, sizeof(nodes), "%lld", (long long)ctl_jint(cap, "max_nodes", 0));
		ctl_table_add(t, (const char *const[]){
			ctl_jstr(e, "id", "?"), ctl_jstr(e, "state", "-"),
			ctl_jstr(e, "version", "-"),
			online ? fmt_since(e, "connected_at", conn, sizeof(conn)) : "-",
			fmt_since(e, "last_seen", seen, sizeof(seen)),
			cpus, mem, nodes, capbuf });
	}
	if (t)
		ctl_table_print(t, stdout);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}

int cmd_remote_stats(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		     char **argv)
{
	static const char *const head[] = { "TOPOLOGY", "A", "B", "DIR",
					    "HOST", "PACKETS", "BYTES",
					    "DROPS", "QLEN", "RATE", "PPS",
					    "AGE" };
	json_object *res = NULL, *arr, *e;
	struct ctl_table *t;
	char path[128], pk[24], by[24], dr[24], ql[24], rate[32], pps[24];
	char age[32];
	const char *name;
	size_t i, n;
	int ret;

	ret = plain_args(ctl, cmd, argc, argv, &name);
	if (ret)
		return ret < 0 ? CTL_EXIT_OK : ret;
	snprintf(path, sizeof(path), "/api/stats%s%s", name ? "?topology=" : "",
		 name ? name : "");
	ret = ctl_rest_list(ctl, path, "links", &res, &arr);
	if (ret || !res)
		return ret;
	t = ctl_table_new(12, head);
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; t && i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		snprintf(pk, sizeof(pk), "%lld", (long long)ctl_jint(e, "packets", 0));
		snprintf(by, sizeof(by), "%lld", (long long)ctl_jint(e, "bytes", 0));
		snprintf(dr, sizeof(dr), "%lld", (long long)ctl_jint(e, "drops", 0));
		snprintf(ql, sizeof(ql), "%lld", (long long)ctl_jint(e, "qlen", 0));
		ctl_table_add(t, (const char *const[]){
			ctl_jstr(e, "topology", "?"), ctl_jstr(e, "a", "?"),
			ctl_jstr(e, "b", "?"), ctl_jstr(e, "dir", "?"),
			ctl_jstr(e, "host", "-"), pk, by, dr, ql,
			fmt_rate(ctl_jdouble(e, "bps", 0), rate, sizeof(rate)),
			fmt_count(ctl_jdouble(e, "pps", 0), pps, sizeof(pps)),
			fmt_since(e, "ts", age, sizeof(age)) });
	}
	if (t)
		ctl_table_print(t, stdout);
	if (!n && !ctl->quiet)
		fprintf(stderr, "sluicectl: no counters yet%s%s (hosts report every metrics interval)\n",
			name ? " for " : "", name ? name : "");
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}
