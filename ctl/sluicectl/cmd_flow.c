// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_flow.c - `sluicectl flow add|del|list`: the flow table of a topology
 * (include/sluice/flow.h), which picks per packet the mode (max or normal)
 * and a class for the traffic crossing its links.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "sluicectl.h"

static int flow_list(struct ctl *ctl, const char *topo)
{
	static const char *const head[] = { "ID", "RULE", "PACKETS", "BYTES" };
	json_object *res = NULL, *arr, *e;
	struct ctl_table *t;
	char id[24], pk[24], by[24];
	size_t i;
	int ret;

	ret = ctl_query(ctl, "flow_list", topo, &res);
	if (ret)
		return ret;
	if (ctl->json) {
		ctl_print_json(res);
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	t = ctl_table_new(4, head);
	arr = ctl_jarray(res, "flows");
	for (i = 0; t && arr && i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		snprintf(id, sizeof(id), "%lld", (long long)ctl_jint(e, "id", 0));
		snprintf(pk, sizeof(pk), "%lld", (long long)ctl_jint(e, "packets", 0));
		snprintf(by, sizeof(by), "%lld", (long long)ctl_jint(e, "bytes", 0));
		ctl_table_add(t, (const char *const[]){ id, ctl_jstr(e, "rule", "?"),
							pk, by });
	}
	if (t)
		ctl_table_print(t, stdout);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}

static int flow_add(struct ctl *ctl, const struct ctl_cmd *cmd, const char *topo,
		    int argc, char **argv)
{
	json_object *req, *res = NULL;
	size_t len = 1;
	char *spec;
	int i, ret;

	if (argc < 1)
		return ctl_usage_error(cmd, "missing rule: expected e.g. "
				       "'flow add proto tcp dport 5201 mode max'");
	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	spec = calloc(1, len);
	if (!spec)
		return CTL_EXIT_FAIL;
	for (i = 0; i < argc; i++) {
		strcat(spec, argv[i]);
		if (i + 1 < argc)
			strcat(spec, " ");
	}
	req = ctl_new_request("flow_add");
	if (topo)
		json_object_object_add(req, "name", json_object_new_string(topo));
	json_object_object_add(req, "spec", json_object_new_string(spec));
	free(spec);
	ret = ctl_request(ctl, req, &res);
	if (!ret) {
		if (ctl->json)
			ctl_print_json(res);
		else if (!ctl->quiet)
			printf("flow %lld: %s\n", (long long)ctl_jint(res, "id", -1),
			       ctl_jstr(res, "rule", ""));
	}
	json_object_put(res);
	return ret;
}

static int flow_del(struct ctl *ctl, const struct ctl_cmd *cmd, const char *topo,
		    int argc, char **argv)
{
	json_object *req;
	char *end;
	long id;

	if (argc != 1)
		return ctl_usage_error(cmd, "expected 'flow del ID' with one rule id");
	id = strtol(argv[0], &end, 10);
	if (*end || id < 0 || end == argv[0])
		return ctl_usage_error(cmd, "'%s' is not a rule id: expected a "
				       "number from 'sluicectl flow list'", argv[0]);
	req = ctl_new_request("flow_del");
	if (topo)
		json_object_object_add(req, "name", json_object_new_string(topo));
	json_object_object_add(req, "id", json_object_new_int64(id));
	return ctl_request(ctl, req, NULL);
}

int cmd_flow(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *topo = NULL;
	char why[128];
	int o;

	/* "+": stop at the first word, the rule's words are not options. */
	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "+n:", opts)) != -1) {
		switch (o) {
		case 'n':
			topo = optarg;
			break;
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
	if (!strcmp(argv[optind], "list"))
		return optind + 1 == argc ? flow_list(ctl, topo) :
			ctl_usage_error(cmd, "'flow list' takes no arguments");
	if (!strcmp(argv[optind], "add"))
		return flow_add(ctl, cmd, topo, argc - optind - 1, argv + optind + 1);
	if (!strcmp(argv[optind], "del"))
		return flow_del(ctl, cmd, topo, argc - optind - 1, argv + optind + 1);
	return ctl_usage_error(cmd, "unknown subcommand '%s': expected add, del or list",
			       argv[optind]);
}
