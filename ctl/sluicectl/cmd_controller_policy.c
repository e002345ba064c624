// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_controller_policy.c - sluicectl --controller URL policy set and
 * link set: a direction policy stored at the controller (PUT /api/policy),
 * which pushes it to the host of the link. The requests are
 * cmd_controller.c's.
 *
 * Policies are checked here with the topology parser before they are
 * stored: the controller takes any JSON object into its table and the
 * host would refuse a bad one only later, out of the user's sight.
 */
#include <string.h>

#include <sluice/topo.h>

#include "controller.h"

/* --- checks ----------------------------------------------------------- */

/*
 * Checks a direction policy (an object of rate, delay, ... keys) with the
 * topology parser: a two-node topology whose one link carries it. On
 * error prints the parser's message, adjusted to name the policy.
 */
static bool policy_ok(json_object *policy)
{
	json_object *topo, *nodes, *links, *link, *ep, *n;
	struct sl_err err = { { 0 } };
	struct sl_topo *t = NULL;
	const char *text, *msg;
	size_t len;
	int i, ret;

	if (json_object_object_get_ex(policy, "up", NULL) ||
	    json_object_object_get_ex(policy, "down", NULL)) {
		ctl_err("policy: \"up\"/\"down\" keys: expected one direction's keys (rate, delay, ...); choose the direction with --dir");
		return false;
	}
	topo = json_object_new_object();
	nodes = json_object_new_array();
	links = json_object_new_array();
	link = json_object_new_object();
	ep = json_object_new_array();
	json_object_object_add(topo, "name", json_object_new_string("check"));
	for (i = 0; i < 2; i++) {
		n = json_object_new_object();
		json_object_object_add(n, "name",
				       json_object_new_string(i ? "b" : "a"));
		json_object_array_add(nodes, n);
		json_object_array_add(ep, json_object_new_string(i ? "b" : "a"));
	}
	json_object_object_add(link, "endpoints", ep);
	json_object_object_add(link, "policy", json_object_get(policy));
	json_object_array_add(links, link);
	json_object_object_add(topo, "nodes", nodes);
	json_object_object_add(topo, "links", links);
	text = json_object_to_json_string_length(topo, JSON_C_TO_STRING_PLAIN,
						 &len);
	ret = sl_topo_parse(text, len, "policy", &t, &err);
	json_object_put(topo);
	sl_topo_free(t);
	if (!ret)
		return true;
	/* "policy: links[0].policy.rate: ..." -> "policy.rate: ..." */
	msg = strstr(err.msg, "links[0].policy");
	if (msg)
		ctl_err("policy%s", msg + strlen("links[0].policy"));
	else
		ctl_err("%s", err.msg);
	return false;
}

static bool dir_ok(const struct ctl_cmd *cmd, const char *dir)
{
	if (!strcmp(dir, "up") || !strcmp(dir, "down") || !strcmp(dir, "both"))
		return true;
	ctl_usage_error(cmd, "dir '%s': expected up (A to B), down (B to A) or both",
			dir);
	return false;
}

/* --- policy set, link set --------------------------------------------- */

/* PUT /api/policy and the summary line. Takes policy (NULL: unshaped). */
static int put_policy(struct ctl *ctl, const char *topo, const char *a,
		      const char *b, const char *dir, json_object *policy)
{
	json_object *body = json_object_new_object(), *reply = NULL;
	int ret;

	json_object_object_add(body, "topology", json_object_new_string(topo));
	json_object_object_add(body, "a", json_object_new_string(a));
	json_object_object_add(body, "b", json_object_new_string(b));
	json_object_object_add(body, "dir", json_object_new_string(dir));
	json_object_object_add(body, "policy", policy);
	ret = ctl_rest(ctl, "PUT", "/api/policy", body, &reply);
	if (!ret) {
		if (ctl->json)
			ctl_print_json(reply);
		else if (!ctl->quiet)
			printf("%s: %s-%s (%s): policy %s stored and pushed to the host of the link\n",
			       topo, a, b, dir,
			       policy ? json_object_to_json_string_ext(
					policy, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE) :
					"none (unshaped)");
	}
	json_object_put(reply);
	json_object_put(body);
	return ret;
}

int cmd_remote_policy(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		      char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, RO_DIR },
		REMOTE_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "both", *text;
	json_object *policy = NULL;
	enum json_tokener_error jerr;
	char why[128];
	int o;

	/* "policy set ..." then operands; options anywhere */
	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "d:", opts)) != -1) {
		if (ctl_remote_opt(ctl, o))
			continue;
		switch (o) {
		case 'd':
		case RO_DIR:
			dir = optarg;
			if (!dir_ok(cmd, dir))
				return CTL_EXIT_USAGE;
			break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return ctl_usage_error(cmd, "missing subcommand: expected 'set'");
	if (strcmp(argv[optind], "set"))
		return ctl_usage_error(cmd, "unknown subcommand '%s': expected 'set'",
				       argv[optind]);
	optind++;
	if (argc - optind != 4)
		return ctl_usage_error(cmd,
				       "expected 'policy set TOPOLOGY A B POLICY_JSON', got %d argument%s after 'set'",
				       argc - optind, argc - optind == 1 ? "" : "s");
	if (!ctl_topo_name_ok(argv[optind], why, sizeof(why)))
		return ctl_usage_error(cmd, "TOPOLOGY '%s': %s", argv[optind], why);
	text = argv[optind + 3];
	if (strcmp(text, "none") && strcmp(text, "null")) {
		policy = json_tokener_parse_verbose(text, &jerr);
		if (!policy || !json_object_is_type(policy, json_type_object)) {
			json_object_put(policy);
			return ctl_usage_error(cmd,
					       "POLICY_JSON '%s': expected a JSON object such as '{\"rate\": \"5mbit\"}', or none",
					       text);
		}
		if (!policy_ok(policy)) {
			json_object_put(policy);
			return CTL_EXIT_USAGE;
		}
		if (!json_object_object_length(policy)) {
			json_object_put(policy);
			policy = NULL;
		}
	}
	return put_policy(ctl, argv[optind], argv[optind + 1],
			  argv[optind + 2], dir, policy);
}

/* "topo:node": fills topo (or checks it agrees) and points node past it. */
static int split_node(const struct ctl_cmd *cmd, const char *arg, char *topo,
		      size_t len, const char **node)
{
	const char *colon = strchr(arg, ':');

	*node = colon ? colon + 1 : arg;
	if (!colon)
		return CTL_EXIT_OK;
	if (!*topo)
		snprintf(topo, len, "%.*s", (int)(colon - arg), arg);
	else if (strlen(topo) != (size_t)(colon - arg) ||
		 strncmp(topo, arg, (size_t)(colon - arg)))
		return ctl_usage_error(cmd,
				       "'%s' is not in topology '%s': expected both nodes of a link in one topology",
				       arg, topo);
	return CTL_EXIT_OK;
}

/*
 * `link set A B SETTING...` through the controller: the policy keywords
 * become one PUT /api/policy. The controller stores a whole direction
 * policy, so the settings replace the direction's policy rather than
 * amend it.
 */
int cmd_remote_link(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		    char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		REMOTE_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "rate", "queue", "policer", "burst",
					    "loss", "delay", "jitter" };
	json_object *policy;
	const char *dir = "both", *a, *b;
	char topo[64] = "", why[128];
	int o, i, ret;
	size_t k;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "n:", opts)) != -1) {
		if (ctl_remote_opt(ctl, o))
			continue;
		switch (o) {
		case 'n':
			if (!ctl_topo_name_ok(optarg, why, sizeof(why)))
				return ctl_usage_error(cmd, "--name '%s': %s",
						       optarg, why);
			snprintf(topo, sizeof(topo), "%s", optarg);
			break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "set"))
		return ctl_usage_error(cmd, "%s: expected 'set'",
				       optind >= argc ? "missing subcommand" :
				       "unknown subcommand");
	optind++;
	if (argc - optind < 2)
		return ctl_usage_error(cmd,
				       "missing node names: expected 'link set A B SETTING...'");
	if (split_node(cmd, argv[optind], topo, sizeof(topo), &a) ||
	    split_node(cmd, argv[optind + 1], topo, sizeof(topo), &b))
		return CTL_EXIT_USAGE;
	if (argc - optind == 2)
		return ctl_usage_error(cmd,
				       "nothing to set: expected dir, rate, queue, policer, burst, loss, delay or jitter after the two nodes");
	policy = json_object_new_object();
	for (i = optind + 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "up") || !strcmp(argv[i], "down")) {
			json_object_put(policy);
			return ctl_usage_error(cmd,
					       "'%s': a link's state cannot be changed through the controller; expected policy settings (rate, loss, ...), or run 'link set' on the host without --controller",
					       argv[i]);
		}
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strcmp(argv[i], keys[k]))
				break;
		if (strcmp(argv[i], "dir") && k == sizeof(keys) / sizeof(keys[0])) {
			json_object_put(policy);
			return ctl_usage_error(cmd,
					       "unknown link setting '%s': expected one of dir, rate, queue, policer, burst, loss, delay, jitter",
					       argv[i]);
		}
		if (i + 1 >= argc) {
			json_object_put(policy);
			return ctl_usage_error(cmd, "'%s' needs a value after it",
					       argv[i]);
		}
		if (!strcmp(argv[i], "dir")) {
			dir = argv[i + 1];
			if (!dir_ok(cmd, dir)) {
				json_object_put(policy);
				return CTL_EXIT_USAGE;
			}
		} else if (strcmp(argv[i + 1], "none")) {
			json_object_object_add(policy, argv[i],
					       json_object_new_string(argv[i + 1]));
		}
	}
	if (!policy_ok(policy)) {
		json_object_put(policy);
		return CTL_EXIT_USAGE;
	}
	if (!*topo) {
		ret = ctl_remote_find_topology(ctl, a, topo, sizeof(topo));
		if (ret) {
			json_object_put(policy);
			return ret;
		}
	}
	if (!json_object_object_length(policy)) {
		json_object_put(policy);
		policy = NULL;
	}
	return put_policy(ctl, topo, a, b, dir, policy);
}
