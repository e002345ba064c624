// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_gen.c - `sluicectl gen KIND ARGS...`: prints a generated topology as
 * a topology file. Purely local (lib/gen.c does the work); the output is
 * meant to be edited or piped into `sluicectl up -`.
 */
#include <string.h>
#include <stdlib.h>

#include <sluice/topo.h>

#include "sluicectl.h"

void cmd_gen_help(FILE *f)
{
	const char *s = sl_gen_usage, *nl;

	fprintf(f, "Generators:\n");
	for (; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s) - 1;
		fprintf(f, "  %.*s\n", (int)(nl - s + (*nl != '\n')), s);
		if (!nl[1])
			break;
	}
}

int cmd_gen(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_err err = { { 0 } };
	struct sl_topo *t = NULL;
	const char *name = NULL;
	char why[128], *text;
	size_t len;
	int o, ret;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "n:", opts)) != -1) {
		switch (o) {
		case 'n':
			name = optarg;
			break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (name && !ctl_topo_name_ok(name, why, sizeof(why)))
		return ctl_usage_error(cmd, "--name '%s': %s", name, why);
	if (optind >= argc) {
		ctl_usage_error(cmd, "missing KIND: expected a generator name");
		cmd_gen_help(stderr);
		return CTL_EXIT_USAGE;
	}
	ret = sl_topo_generate(argv[optind], argc - optind - 1,
			       argv + optind + 1, &t, &err);
	if (ret) {
		ctl_err("%s", err.msg);
		return CTL_EXIT_USAGE;
	}
	if (name)
		snprintf(t->name, sizeof(t->name), "%s", name);
	text = sl_topo_to_json(t, false);
	sl_topo_free(t);
	if (!text) {
		ctl_err("out of memory writing the topology");
		return CTL_EXIT_FAIL;
	}
	len = strlen(text);
	fputs(text, stdout);
	if (!len || text[len - 1] != '\n')
		putchar('\n');
	free(text);
	if (fflush(stdout) || ferror(stdout)) {
		ctl_err("cannot write the topology to standard output");
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}
