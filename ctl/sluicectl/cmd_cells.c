// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_cells.c - `sluicectl cells [NAME]`: the cells a policy can use, with
 * every parameter, its unit and its default (from the cell engine's own
 * tables, so this list cannot drift from what the engine accepts).
 */
#include <string.h>

#include <sluice/cell.h>

#include "sluicectl.h"

static void print_cell(json_object *c, bool params)
{
	json_object *ps = ctl_jarray(c, "parameters");
	size_t i;

	printf("%-12s %s\n", ctl_jstr(c, "name", "?"), ctl_jstr(c, "description", ""));
	if (!params || !ps)
		return;
	for (i = 0; i < json_object_array_length(ps); i++) {
		json_object *p = json_object_array_get_idx(ps, i), *d;
		const char *def = "(required)";

		if (json_object_object_get_ex(p, "default", &d) && d)
			def = json_object_get_string(d);
		printf("    %-14s %-10s default %-12s %s\n", ctl_jstr(p, "name", "?"),
		       ctl_jstr(p, "unit", "-"), def, ctl_jstr(p, "description", ""));
	}
}

int cmd_cells(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	json_object *cat = sl_cell_catalog();
	const char *only = NULL;
	bool found = false;
	size_t i;
	int o;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "", NULL)) != -1) {
		if (o == CTL_OPT_HELP) {
			ctl_print_help(cmd);
			json_object_put(cat);
			return CTL_EXIT_OK;
		}
		json_object_put(cat);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc)
		only = argv[optind];
	if (optind + 1 < argc) {
		json_object_put(cat);
		return ctl_usage_error(cmd, "expected at most one cell name");
	}
	for (i = 0; cat && i < json_object_array_length(cat); i++) {
		json_object *c = json_object_array_get_idx(cat, i);

		if (only && strcmp(only, ctl_jstr(c, "name", "")))
			continue;
		found = true;
		if (ctl->json) {
			if (only)
				ctl_print_json(c);
			continue;
		}
		print_cell(c, only || ctl->verbose);
	}
	if (ctl->json && !only)
		ctl_print_json(cat);
	json_object_put(cat);
	if (only && !found)
		return ctl_usage_error(cmd, "no cell called '%s': see 'sluicectl cells'", only);
	return CTL_EXIT_OK;
}
