// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_remote_relay.c - `sluicectl --controller URL relay add|del|list`:
 * TCP relay chains as rows at sluice-controller (POST, GET and DELETE
 * /api/relays, docs/controller.md). The controller pushes a row to the
 * host that carries its first node, whose sluiced runs the chain as it
 * runs one of `sluicectl relay add` (cmd_relay.c, docs/relay.md).
 *
 * A row is stored at once and pushed when its NOTIFY reaches the
 * controller, so `add` returns before the host has started the chain; a
 * host that cannot start it records an error event at the controller
 * (GET /api/events). The words are checked here first, with the same
 * messages as the local form, so that a typo never becomes a row.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"

/* "NODE:PORT" of option opt: node into node, port 1..65535 into *port. */
static int split_endpoint(const struct ctl_cmd *cmd, const char *opt,
			  const char *s, char *node, size_t len, int *port)
{
	const char *c = strrchr(s, ':');
	char *end;
	long p;

	if (!c || c == s || (size_t)(c - s) >= len)
		return ctl_usage_error(cmd, "%s '%s': expected NODE:PORT such as h1:9000",
				       opt, s);
	errno = 0;
	p = strtol(c + 1, &end, 10);
	if (errno || end == c + 1 || *end || p < 1 || p > 65535)
		return ctl_usage_error(cmd, "%s '%s': port '%s'; expected 1 to 65535",
				       opt, s, c + 1);
	snprintf(node, len, "%.*s", (int)(c - s), s);
	*port = (int)p;
	return CTL_EXIT_OK;
}

/* "h1:9000 -> r1 -> h2:5202" or "socks5 h1:1080", as `relay list` says. */
static void row_spec(json_object *e, char *buf, size_t len)
{
	json_object *via = ctl_jarray(e, "via");
	size_t i, used;

	if (json_object_get_boolean(json_object_object_get(e, "socks5"))) {
		snprintf(buf, len, "socks5 %s:%lld", ctl_jstr(e, "node", "?"),
			 (long long)ctl_jint(e, "port", 0));
		return;
	}
	used = (size_t)snprintf(buf, len, "%s:%lld", ctl_jstr(e, "node", "?"),
				(long long)ctl_jint(e, "port", 0));
	for (i = 0; via && i < json_object_array_length(via) && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, " -> %s",
					 json_object_get_string(json_object_array_get_idx(via, i)));
	if (used < len)
		snprintf(buf + used, len - used, " -> %s:%lld",
			 ctl_jstr(e, "to_node", "?"),
			 (long long)ctl_jint(e, "to_port", 0));
}

static int remote_list(struct ctl *ctl, const char *topo)
{
	static const char *const head[] = { "ID", "TOPOLOGY", "RELAY", "MODE",
					    "ENABLED", "HOST", "VERSION" };
	json_object *res = NULL, *arr, *e;
	char path[128], id[24], ver[24], spec[512];
	struct ctl_table *t;
	size_t i, n;
	int ret;

	snprintf(path, sizeof(path), "/api/relays%s%s", topo ? "?topology=" : "",
		 topo ? topo : "");
	ret = ctl_rest_list(ctl, path, "relays", &res, &arr);
	if (ret || !res)
		return ret;
	t = ctl_table_new(7, head);
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; t && i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		row_spec(e, spec, sizeof(spec));
		snprintf(id, sizeof(id), "%lld", (long long)ctl_jint(e, "id", 0));
		snprintf(ver, sizeof(ver), "%lld", (long long)ctl_jint(e, "version", 0));
		ctl_table_add(t, (const char *const[]){
			id, ctl_jstr(e, "topology", "?"), spec,
			ctl_jstr(e, "mode", "-"),
			json_object_get_boolean(json_object_object_get(e, "enabled")) ?
				"yes" : "no",
			ctl_jstr(e, "host", "-"), ver });
	}
	if (t)
		ctl_table_print(t, stdout);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}

static int remote_del(struct ctl *ctl, const struct ctl_cmd *cmd,
		      const char *arg)
{
	json_object *reply = NULL;
	char path[64], *end;
	long id;
	int ret;

	errno = 0;
	id = strtol(arg, &end, 10);
	if (errno || *end || end == arg || id < 0 || id > 999999999)
		return ctl_usage_error(cmd, "'%s' is not a relay id: expected a number "
				       "from 'sluicectl --controller URL relay list'",
				       arg);
	snprintf(path, sizeof(path), "/api/relays/%ld", id);
	ret = ctl_rest(ctl, "DELETE", path, NULL, &reply);
	if (ret)
		return ret;
	if (ctl->json)
		ctl_print_json(reply);
	else if (!ctl->quiet)
		printf("relay %ld: deleted at the controller; its host stops the chain\n",
		       id);
	json_object_put(reply);
	return CTL_EXIT_OK;
}

struct add_args {
	const char *topo, *from, *to, *via, *socks, *mode;
};

static int remote_add(struct ctl *ctl, const struct ctl_cmd *cmd,
		      const struct add_args *a)
{
	json_object *body, *via, *reply = NULL;
	char node[64], to_node[64], topo[64], spec[512], *list, *tok, *save;
	int port, to_port = 0, ret;

	ret = split_endpoint(cmd, a->socks ? "--socks5" : "--from",
			     a->socks ? a->socks : a->from, node, sizeof(node), &port);
	if (!ret && !a->socks)
		ret = split_endpoint(cmd, "--to", a->to, to_node, sizeof(to_node),
				     &to_port);
	if (ret)
		return ret;
	if (a->mode && strcmp(a->mode, "splice") && strcmp(a->mode, "sockmap"))
		return ctl_usage_error(cmd, "--mode '%s': expected splice or sockmap",
				       a->mode);
	if (a->topo)
		snprintf(topo, sizeof(topo), "%s", a->topo);
	else if ((ret = ctl_remote_find_topology(ctl, node, topo, sizeof(topo))))
		return ret;
	body = json_object_new_object();
	json_object_object_add(body, "topology", json_object_new_string(topo));
	json_object_object_add(body, "node", json_object_new_string(node));
	json_object_object_add(body, "port", json_object_new_int(port));
	if (a->socks) {
		json_object_object_add(body, "socks5", json_object_new_boolean(1));
	} else {
		json_object_object_add(body, "to_node", json_object_new_string(to_node));
		json_object_object_add(body, "to_port", json_object_new_int(to_port));
	}
	via = json_object_new_array();
	list = a->via ? strdup(a->via) : NULL;
	for (tok = list ? strtok_r(list, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save))
		json_object_array_add(via, json_object_new_string(tok));
	free(list);
	json_object_object_add(body, "via", via);
	if (a->mode)
		json_object_object_add(body, "mode", json_object_new_string(a->mode));
	ret = ctl_rest(ctl, "POST", "/api/relays", body, &reply);
	if (!ret) {
		if (ctl->json) {
			ctl_print_json(reply);
		} else if (!ctl->quiet) {
			row_spec(body, spec, sizeof(spec));
			printf("relay %lld: %s (%s) stored at the controller, which starts "
			       "it on the host of %s:%s\n", (long long)ctl_jint(reply, "id", -1),
			       spec, a->mode ? a->mode : "splice", topo, node);
		}
	}
	json_object_put(reply);
	json_object_put(body);
	return ret;
}

int cmd_remote_relay(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		     char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "via", required_argument, NULL, 'V' },
		{ "socks5", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		REMOTE_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct add_args a = { 0 };
	const char *sub;
	char why[128];
	int o;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "n:", opts)) != -1) {
		if (ctl_remote_opt(ctl, o))
			continue;
		switch (o) {
		case 'n': a.topo = optarg; break;
		case 'f': a.from = optarg; break;
		case 't': a.to = optarg; break;
		case 'V': a.via = optarg; break;
		case 's': a.socks = optarg; break;
		case 'm': a.mode = optarg; break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (a.topo && !ctl_topo_name_ok(a.topo, why, sizeof(why)))
		return ctl_usage_error(cmd, "--name '%s': %s", a.topo, why);
	if (optind >= argc)
		return ctl_usage_error(cmd, "missing subcommand: expected add, del or list");
	sub = argv[optind];
	if (!strcmp(sub, "list")) {
		if (optind + 1 != argc)
			return ctl_usage_error(cmd, "unexpected '%s': 'relay list' takes "
					       "--name TOPO only", argv[optind + 1]);
		return remote_list(ctl, a.topo);
	}
	if (!strcmp(sub, "del")) {
		if (optind + 2 != argc)
			return ctl_usage_error(cmd, "expected 'relay del ID'");
		return remote_del(ctl, cmd, argv[optind + 1]);
	}
	if (strcmp(sub, "add"))
		return ctl_usage_error(cmd, "unknown subcommand '%s': expected add, del or list", sub);
	if (optind + 1 != argc)
		return ctl_usage_error(cmd, "unexpected '%s': 'relay add' takes options only",
				       argv[optind + 1]);
	if (!!a.socks == !!a.from || (a.socks && (a.to || a.via)) || (a.from && !a.to))
		return ctl_usage_error(cmd, "expected '--from NODE:PORT --to NODE:PORT "
				       "[--via A,B]' or '--socks5 NODE:PORT'");
	return remote_add(ctl, cmd, &a);
}
