// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_relay.c - `sluicectl relay add|del|list`: TCP relay chains on nodes
 * (max mode L4, docs/relay.md), run by sluiced as sluice-relay processes.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "sluicectl.h"

static int relay_list(struct ctl *ctl, const char *topo)
{
	static const char *const head[] = { "ID", "TOPOLOGY", "RELAY", "MODE",
					    "PROCESSES" };
	json_object *res = NULL, *arr, *e;
	struct ctl_table *t;
	char id[24], procs[256];
	size_t i, k;
	int ret;

	ret = ctl_query(ctl, "relay_list", topo, &res);
	if (ret)
		return ret;
	if (ctl->json) {
		ctl_print_json(res);
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	t = ctl_table_new(5, head);
	arr = ctl_jarray(res, "relays");
	for (i = 0; t && arr && i < json_object_array_length(arr); i++) {
		json_object *ps;
		size_t len = 0;

		e = json_object_array_get_idx(arr, i);
		ps = ctl_jarray(e, "processes");
		procs[0] = '\0';
		for (k = 0; ps && k < json_object_array_length(ps) && len < sizeof(procs); k++) {
			json_object *p = json_object_array_get_idx(ps, k);

			len += (size_t)snprintf(procs + len, sizeof(procs) - len, "%s%s:%lld%s",
				k ? "," : "", ctl_jstr(p, "node", "?"),
				(long long)ctl_jint(p, "pid", 0),
				json_object_get_boolean(json_object_object_get(p, "running")) ?
					"" : "(ended)");
		}
		snprintf(id, sizeof(id), "%lld", (long long)ctl_jint(e, "id", 0));
		ctl_table_add(t, (const char *const[]){ id, ctl_jstr(e, "topology", "?"),
			ctl_jstr(e, "relay", "?"), ctl_jstr(e, "mode", "?"), procs });
	}
	if (t)
		ctl_table_print(t, stdout);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}

int cmd_relay(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "via", required_argument, NULL, 'V' },
		{ "socks5", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *topo = NULL, *from = NULL, *to = NULL, *via = NULL,
		   *socks = NULL, *mode = NULL, *sub;
	json_object *req, *res = NULL;
	char why[128], *end;
	int o, ret;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "n:", opts)) != -1) {
		switch (o) {
		case 'n': topo = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'V': via = optarg; break;
		case 's': socks = optarg; break;
		case 'm': mode = optarg; break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (topo && !ctl_topo_name_ok(topo, why, sizeof(why)))
		return ctl_usage_error(cmd, "--name '%s': %s", topo, why);
	if (optind >= argc)
		return ctl_usage_error(cmd, "missing subcommand: expected add, del or list");
	sub = argv[optind];
	if (!strcmp(sub, "list"))
		return relay_list(ctl, topo);
	if (!strcmp(sub, "del")) {
		long id;

		if (optind + 2 != argc)
			return ctl_usage_error(cmd, "expected 'relay del ID'");
		id = strtol(argv[optind + 1], &end, 10);
		if (*end || id < 0 || end == argv[optind + 1])
			return ctl_usage_error(cmd, "'%s' is not a relay id: expected a "
					       "number from 'sluicectl relay list'",
					       argv[optind + 1]);
		req = ctl_new_request("relay_del");
		json_object_object_add(req, "id", json_object_new_int64(id));
		return ctl_request(ctl, req, NULL);
	}
	if (strcmp(sub, "add"))
		return ctl_usage_error(cmd, "unknown subcommand '%s': expected add, del or list", sub);
	if (optind + 1 != argc)
		return ctl_usage_error(cmd, "unexpected '%s': 'relay add' takes options only",
				       argv[optind + 1]);
	if (!!socks == !!from || (socks && (to || via)) || (from && !to))
		return ctl_usage_error(cmd, "expected '--from NODE:PORT --to NODE:PORT "
				       "[--via A,B]' or '--socks5 NODE:PORT'");
	req = ctl_new_request("relay_add");
	if (topo)
		json_object_object_add(req, "name", json_object_new_string(topo));
	json_object_object_add(req, "from", json_object_new_string(socks ? socks : from));
	if (socks)
		json_object_object_add(req, "socks5", json_object_new_boolean(1));
	else
		json_object_object_add(req, "to", json_object_new_string(to));
	if (via)
		json_object_object_add(req, "via", json_object_new_string(via));
	if (mode)
		json_object_object_add(req, "mode", json_object_new_string(mode));
	ret = ctl_request(ctl, req, &res);
	if (!ret) {
		if (ctl->json)
			ctl_print_json(res);
		else if (!ctl->quiet)
			printf("relay %lld: %s (%s)\n", (long long)ctl_jint(res, "id", -1),
			       ctl_jstr(res, "relay", ""), ctl_jstr(res, "mode", ""));
	}
	json_object_put(res);
	return ret;
}
