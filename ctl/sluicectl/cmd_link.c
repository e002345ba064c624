// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_link.c - `sluicectl link set A B SETTING...`: changes one link at
 * run time.
 *
 * The settings after the two node names are keywords, some with values,
 * in the style of `ip link set`. Each keyword is one row of link_keywords[]
 * that knows how many words it takes and how it fills the link_set request,
 * so a new setting (rate, delay, loss, ...) is one function and one row;
 * the parser, the error messages and the help list follow from the table.
 */
#include <string.h>

#include "sluicectl.h"

struct link_keyword {
	const char *name;
	int nargs; /* words after the keyword */
	const char *args_help; /* "RATE", "" */
	const char *help;
	/* Adds the setting to req; on a bad value fills why and returns -1. */
	int (*apply)(json_object *req, const struct link_keyword *kw,
		     char **args, char *why, size_t len);
};

static int set_state(json_object *req, const struct link_keyword *kw,
		     char **args, char *why, size_t len)
{
	json_object *old;

	if (json_object_object_get_ex(req, "state", &old) &&
	    strcmp(json_object_get_string(old), kw->name)) {
		snprintf(why, len, "both 'up' and 'down' given: expected one");
		return -1;
	}
	json_object_object_add(req, "state", json_object_new_string(kw->name));
	return 0;
}

/* A policy key: goes into the "set" object of a link_policy request;
 * "none" removes the key. Values are checked by the daemon. */
static int set_policy_key(json_object *req, const struct link_keyword *kw,
			  char **args, char *why, size_t len)
{
	json_object *set;

	if (!json_object_object_get_ex(req, "set", &set)) {
		set = json_object_new_object();
		json_object_object_add(req, "set", set);
	}
	json_object_object_add(set, kw->name, strcmp(args[0], "none") ?
				json_object_new_string(args[0]) : NULL);
	return 0;
}

static int set_dir(json_object *req, const struct link_keyword *kw,
		   char **args, char *why, size_t len)
{
	if (strcmp(args[0], "up") && strcmp(args[0], "down") &&
	    strcmp(args[0], "both")) {
		snprintf(why, len, "dir '%s': expected up (A to B), down (B to A) or both",
			 args[0]);
		return -1;
	}
	json_object_object_add(req, "dir", json_object_new_string(args[0]));
	return 0;
}

static const struct link_keyword link_keywords[] = {
	{ "up", 0, "", "bring the link up (both directions carry traffic)",
	  set_state },
	{ "down", 0, "",
	  "take the link down (both directions drop everything)", set_state },
	{ "dir", 1, "up|down|both",
	  "which direction the policy settings change: up is A to B (default both)",
	  set_dir },
	{ "rate", 1, "RATE", "shape to RATE, e.g. 50mbit ('none' removes it)",
	  set_policy_key },
	{ "queue", 1, "SIZE", "the shaper's queue, e.g. 100pkt or 64kb",
	  set_policy_key },
	{ "policer", 1, "RATE", "drop what exceeds RATE (in the kernel fabric)",
	  set_policy_key },
	{ "burst", 1, "SIZE", "the policer's burst, e.g. 64kb or 10pkt",
	  set_policy_key },
	{ "loss", 1, "PERCENT", "drop packets at random, e.g. 1% or 0.5%",
	  set_policy_key },
	{ "delay", 1, "TIME", "add TIME one-way delay, e.g. 20ms (needs normal mode)",
	  set_policy_key },
	{ "jitter", 1, "TIME", "delay variation, e.g. 2ms (needs normal mode)",
	  set_policy_key },
};

#define N_KEYWORDS (sizeof(link_keywords) / sizeof(link_keywords[0]))

static const struct link_keyword *find_keyword(const char *name)
{
	size_t i;

	for (i = 0; i < N_KEYWORDS; i++)
		if (!strcmp(link_keywords[i].name, name))
			return &link_keywords[i];
	return NULL;
}

void cmd_link_help(FILE *f)
{
	char words[64];
	size_t i;

	fprintf(f, "Settings:\n");
	for (i = 0; i < N_KEYWORDS; i++) {
		snprintf(words, sizeof(words), "%s%s%s", link_keywords[i].name,
			 link_keywords[i].nargs ? " " : "",
			 link_keywords[i].args_help);
		fprintf(f, "  %-16s %s\n", words, link_keywords[i].help);
	}
}

static void keyword_list(char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < N_KEYWORDS && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
				      i ? ", " : "", link_keywords[i].name);
}

/*
 * Fills req from the settings words; prints a usage error and returns
 * CTL_EXIT_USAGE on a bad one.
 */
static int parse_settings(const struct ctl_cmd *cmd, json_object *req,
			  int argc, char **argv)
{
	const struct link_keyword *kw;
	char why[256], list[256];
	int i = 0;

	if (argc == 0) {
		keyword_list(list, sizeof(list));
		return ctl_usage_error(cmd,
				       "nothing to set: expected one of %s after the two nodes",
				       list);
	}
	while (i < argc) {
		kw = find_keyword(argv[i]);
		if (!kw) {
			keyword_list(list, sizeof(list));
			return ctl_usage_error(cmd,
					       "unknown link setting '%s': expected one of %s",
					       argv[i], list);
		}
		if (argc - i - 1 < kw->nargs)
			return ctl_usage_error(cmd,
					       "'%s' needs %s after it",
					       kw->name, kw->args_help);
		if (kw->apply(req, kw, argv + i + 1, why, sizeof(why)))
			return ctl_usage_error(cmd, "%s", why);
		i += 1 + kw->nargs;
	}
	return CTL_EXIT_OK;
}

/*
 * "topo:node" -> topo and node. A topology named by a node must agree with
 * the one already known (--name or the other node). Returns 0 or prints a
 * usage error.
 */
static int split_node(const struct ctl_cmd *cmd, const char *arg,
		      char *topo, size_t tlen, const char **node)
{
	const char *colon = strchr(arg, ':');

	*node = arg;
	if (!colon)
		return 0;
	*node = colon + 1;
	if (!*topo) {
		snprintf(topo, tlen, "%.*s", (int)(colon - arg), arg);
		return 0;
	}
	if (strlen(topo) != (size_t)(colon - arg) ||
	    strncmp(topo, arg, (size_t)(colon - arg)))
		return ctl_usage_error(cmd,
				       "'%s' is not in topology '%s': expected both nodes of a link in one topology",
				       arg, topo);
	return 0;
}

/*
 * The words fill one request; the daemon takes the state (link_set) and
 * the policy keys (link_policy) as two commands: the policy first, so a
 * link brought up comes up with its new policy.
 */
static int send_settings(struct ctl *ctl, json_object *req, json_object **res)
{
	json_object *set, *state, *dir, *p;
	int ret = 0;

	if (json_object_object_get_ex(req, "dir", &dir) &&
	    !json_object_object_get_ex(req, "set", NULL)) {
		json_object_put(req);
		fprintf(stderr, "sluicectl: link set: 'dir' without a policy setting; "
			"expected e.g. 'dir up rate 10mbit'\n");
		return CTL_EXIT_USAGE;
	}
	if (json_object_object_get_ex(req, "set", &set)) {
		p = ctl_new_request("link_policy");
		json_object_object_foreach(req, key, val) {
			if (strcmp(key, "cmd") && strcmp(key, "state") &&
			    strcmp(key, "v"))
				json_object_object_add(p, key, json_object_get(val));
		}
		ret = ctl_request(ctl, p, res);
		if (ret) {
			json_object_put(req);
			return ret;
		}
	}
	if (json_object_object_get_ex(req, "state", &state)) {
		json_object_object_del(req, "set");
		json_object_object_del(req, "dir");
		json_object_put(*res);
		*res = NULL;
		return ctl_request(ctl, req, res);
	}
	json_object_put(req);
	return ret;
}

static int link_set(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		    char **argv, const char *name)
{
	json_object *req, *res = NULL;
	const char *a, *b;
	char topo[64];
	int ret;

	if (argc < 2)
		return ctl_usage_error(cmd,
				       "missing node names: expected 'link set A B SETTING...'");
	snprintf(topo, sizeof(topo), "%s", name ? name : "");
	if (split_node(cmd, argv[0], topo, sizeof(topo), &a) ||
	    split_node(cmd, argv[1], topo, sizeof(topo), &b))
		return CTL_EXIT_USAGE;
	req = ctl_new_request("link_set");
	if (*topo)
		json_object_object_add(req, "name",
				       json_object_new_string(topo));
	json_object_object_add(req, "a", json_object_new_string(a));
	json_object_object_add(req, "b", json_object_new_string(b));
	ret = parse_settings(cmd, req, argc - 2, argv + 2);
	if (ret) {
		json_object_put(req);
		return ret;
	}
	ret = send_settings(ctl, req, &res);
	if (!ret && ctl->json)
		ctl_print_json(res);
	json_object_put(res);
	return ret;
}

int cmd_link(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *topo = NULL;
	char why[128];
	int o;

	/*
	 * Options may stand anywhere, but "down" and "up" are words, not
	 * options, so GNU permutation is safe here.
	 */
	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "n:", opts)) != -1) {
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
		return ctl_usage_error(cmd,
				       "missing subcommand: expected 'set'");
	if (!strcmp(argv[optind], "set"))
		return link_set(ctl, cmd, argc - optind - 1, argv + optind + 1,
				topo);
	return ctl_usage_error(cmd, "unknown subcommand '%s': expected 'set'",
			       argv[optind]);
}
