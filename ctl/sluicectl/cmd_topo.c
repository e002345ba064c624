// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_topo.c - the commands about whole topologies and the daemon: up,
 * down, list, nodes, links, status.
 *
 * `up` validates the file here, before any daemon is contacted or started:
 * a typo in a topology file should cost nothing and say exactly where it
 * is. The daemon validates again (it trusts no client), so the local check
 * is for the user's sake only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sluice/topo.h>

#include "sluicectl.h"

/* Reads a whole file ("-": stdin) into a NUL-terminated buffer. */
static char *read_all(const char *path, size_t *len, struct sl_err *err)
{
	size_t cap = 65536, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int fd;

	if (!strcmp(path, "-"))
		fd = STDIN_FILENO;
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sl_err_set(err, errno, "cannot open %s: %s", path,
			   strerror(errno));
		return NULL;
	}
	for (;;) {
		if (!buf || cap - n < 2) {
			cap = buf ? cap * 2 : cap;
			nb = realloc(buf, cap);
			if (!nb) {
				sl_err_set(err, ENOMEM, "%s: out of memory",
					   path);
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sl_err_set(err, errno, "cannot read %s: %s",
				   strcmp(path, "-") ? path : "standard input",
				   strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	if (fd != STDIN_FILENO)
		close(fd);
	return buf;
fail:
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	return NULL;
}

/*
 * The file text with its "name" replaced. Text that is not a JSON object
 * comes back unchanged: the parser then reports what is wrong with it in
 * its own words.
 */
static char *rename_topology(char *text, size_t *len, const char *name)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o = NULL;
	const char *s;
	char *out = text;
	size_t slen;

	if (!tok)
		return text;
	o = json_tokener_parse_ex(tok, text, (int)*len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		goto out;
	json_object_object_add(o, "name", json_object_new_string(name));
	s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE,
		&slen);
	if (!s)
		goto out;
	out = strdup(s);
	if (!out) {
		out = text;
		goto out;
	}
	free(text);
	*len = slen;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return out;
}

static const char *plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int cmd_up(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "no-start", no_argument, NULL, 'N' },
		/* the controller's (cmd_controller.c): named here so that
		 * without a controller they get a message, not "unknown" */
		{ "host", required_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *file, *source, *ctl_only = NULL;
	struct sl_api_client *c = NULL;
	json_object *req = NULL, *res = NULL;
	struct sl_err err = { { 0 } };
	struct ctl_progress prog;
	struct sl_topo *t = NULL;
	bool start = true;
	char why[128], *text = NULL;
	size_t len = 0;
	int o, ret;
	int64_t nodes, links;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "n:", opts)) != -1) {
		switch (o) {
		case 'n':
			name = optarg;
			break;
		case 'N':
			start = false;
			break;
		case 'H':
			ctl_only = "--host";
			break;
		case 'T':
			ctl_only = "--timeout";
			break;
		case 'W':
			ctl_only = "--no-wait";
			break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (ctl_only)
		return ctl_usage_error(cmd,
				       "%s places a topology through a controller; expected --controller URL (or $SLUICE_CONTROLLER) with it",
				       ctl_only);
	if (optind >= argc)
		return ctl_usage_error(cmd,
				       "missing FILE: expected a topology file, or '-' for standard input");
	if (argc - optind > 1)
		return ctl_usage_error(cmd,
				       "unexpected argument '%s': expected only one FILE",
				       argv[optind + 1]);
	file = argv[optind];
	source = strcmp(file, "-") ? file : "<stdin>";
	if (name && !ctl_topo_name_ok(name, why, sizeof(why)))
		return ctl_usage_error(cmd, "--name '%s': %s", name, why);

	text = read_all(file, &len, &err);
	if (!text) {
		ctl_err("%s", err.msg);
		return CTL_EXIT_USAGE;
	}
	if (name)
		text = rename_topology(text, &len, name);
	ret = sl_topo_parse(text, len, source, &t, &err);
	if (ret) {
		ctl_err("%s", err.msg);
		ret = CTL_EXIT_USAGE;
		goto out;
	}

	ret = ctl_connect(ctl, start ? CTL_START : CTL_CONNECT, &c);
	if (ret)
		goto out;
	req = ctl_new_request("up");
	json_object_object_add(req, "topology",
			       json_object_new_string_len(text, (int)len));
	json_object_object_add(req, "source", json_object_new_string(source));
	ctl_progress_init(&prog, ctl);
	ret = ctl_call(ctl, c, req, ctl_progress_cb, &prog, &res);
	ctl_progress_end(&prog);
	if (ret)
		goto out;
	if (ctl->json) {
		ctl_print_json(res);
	} else if (!ctl->quiet) {
		nodes = ctl_jint(res, "nodes", t->n_nodes);
		links = ctl_jint(res, "links", t->n_links);
		printf("%s: %lld %s, %lld %s up in %.2f s\n",
		       ctl_jstr(res, "name", t->name), (long long)nodes,
		       plural(nodes, "node", "nodes"), (long long)links,
		       plural(links, "link", "links"),
		       ctl_jdouble(res, "seconds", 0));
	}
out:
	json_object_put(res);
	json_object_put(req);
	sl_api_close(c);
	sl_topo_free(t);
	free(text);
	return ret;
}

int cmd_down(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_api_client *c = NULL;
	json_object *req = NULL, *res = NULL, *removed;
	const char *name = NULL;
	bool all = false;
	size_t i, n;
	int o, ret;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "a", opts)) != -1) {
		switch (o) {
		case 'a':
			all = true;
			break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return ctl_usage_error(cmd,
				       "unexpected argument '%s': expected at most one topology NAME",
				       argv[optind + 1]);
	if (optind < argc)
		name = argv[optind];
	if (name && all)
		return ctl_usage_error(cmd,
				       "both NAME '%s' and --all given: expected one of them",
				       name);

	ret = ctl_connect(ctl, CTL_PROBE, &c);
	if (ret == CTL_NO_DAEMON) {
		/* nothing runs, so nothing is up: down has nothing to do */
		if (ctl->json)
			puts("{ \"removed\": [ ] }");
		else if (!ctl->quiet)
			printf("sluiced is not running; nothing to remove\n");
		return CTL_EXIT_OK;
	}
	if (ret)
		return ret;
	req = ctl_new_request("down");
	if (name)
		json_object_object_add(req, "name",
				       json_object_new_string(name));
	if (all)
		json_object_object_add(req, "all",
				       json_object_new_boolean(true));
	ret = ctl_call(ctl, c, req, NULL, NULL, &res);
	if (ret)
		goto out;
	if (ctl->json) {
		ctl_print_json(res);
		goto out;
	}
	removed = ctl_jarray(res, "removed");
	n = removed ? json_object_array_length(removed) : 0;
	if (ctl->quiet)
		goto out;
	for (i = 0; i < n; i++)
		printf("%s: removed\n",
		       json_object_get_string(
			       json_object_array_get_idx(removed, i)));
	if (n == 0 && name)
		printf("%s is not up; nothing to remove\n", name);
	else if (n == 0)
		printf("no topology is up; nothing to remove\n");
out:
	json_object_put(res);
	json_object_put(req);
	sl_api_close(c);
	return ret;
}

/* Parses the common "[NAME]" argument of list, nodes, links. */
static int name_arg(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		    char **argv, bool takes_name, const char **name)
{
	int o;

	*name = NULL;
	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "", NULL)) != -1) {
		if (o == CTL_OPT_HELP) {
			ctl_print_help(cmd);
			return -1;
		}
		return CTL_EXIT_USAGE;
	}
	if (!takes_name && optind < argc)
		return ctl_usage_error(cmd,
				       "unexpected argument '%s': expected no arguments",
				       argv[optind]);
	if (argc - optind > 1)
		return ctl_usage_error(cmd,
				       "unexpected argument '%s': expected at most one topology NAME",
				       argv[optind + 1]);
	if (optind < argc)
		*name = argv[optind];
	return CTL_EXIT_OK;
}

int cmd_list(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv)
{
	static const char *const head[] = { "NAME", "NODES", "LINKS", "STATE",
					    "AGE" };
	json_object *res = NULL, *arr, *e;
	struct ctl_table *t = NULL;
	const char *name;
	char nodes[24], links[24], age[32];
	time_t now = time(NULL);
	size_t i;
	int ret;

	ret = name_arg(ctl, cmd, argc, argv, false, &name);
	if (ret)
		return ret < 0 ? CTL_EXIT_OK : ret;
	ret = ctl_query(ctl, "list", NULL, &res);
	if (ret)
		return ret;
	if (ctl->json) {
		ctl_print_json(res);
		goto out;
	}
	t = ctl_table_new(5, head);
	arr = ctl_jarray(res, "topologies");
	for (i = 0; t && arr && i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		snprintf(nodes, sizeof(nodes), "%lld",
			 (long long)ctl_jint(e, "nodes", 0));
		snprintf(links, sizeof(links), "%lld",
			 (long long)ctl_jint(e, "links", 0));
		if (ctl_jint(e, "created", 0) > 0)
			ctl_fmt_age(now - ctl_jint(e, "created", 0), age,
				    sizeof(age));
		else
			snprintf(age, sizeof(age), "-");
		ctl_table_add(t, (const char *const[]){
					 ctl_jstr(e, "name", "?"), nodes,
					 links, ctl_jstr(e, "state", "-"),
					 age });
	}
	if (t)
		ctl_table_print(t, stdout);
out:
	ctl_table_free(t);
	json_object_put(res);
	return ret;
}

/* Appends s to buf (NUL-terminated, size len) after sep when buf is not
 * empty; a result that does not fit ends in "...". */
static void append(char *buf, size_t len, const char *sep, const char *s)
{
	size_t n = strlen(buf);

	if (n + 4 >= len)
		return;
	snprintf(buf + n, len - n, "%s%s", n ? sep : "", s);
	if (strlen(buf) == len - 1)
		memcpy(buf + len - 4, "...", 4);
}

int cmd_nodes(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	      char **argv)
{
	static const char *const head[] = { "TOPOLOGY", "NODE", "KIND",
					    "ADDRESS", "INTERFACES" };
	json_object *res = NULL, *arr, *e, *a, *ifs, *f;
	struct ctl_table *t = NULL;
	char addr[256], ifaces[1024], one[128];
	const char *name;
	size_t i, j;
	int ret;

	ret = name_arg(ctl, cmd, argc, argv, true, &name);
	if (ret)
		return ret < 0 ? CTL_EXIT_OK : ret;
	ret = ctl_query(ctl, "nodes", name, &res);
	if (ret)
		return ret;
	if (ctl->json) {
		ctl_print_json(res);
		goto out;
	}
	t = ctl_table_new(5, head);
	arr = ctl_jarray(res, "nodes");
	for (i = 0; t && arr && i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		addr[0] = ifaces[0] = '\0';
		a = ctl_jarray(e, "addresses");
		for (j = 0; a && j < json_object_array_length(a); j++)
			append(addr, sizeof(addr), ",",
			       json_object_get_string(
				       json_object_array_get_idx(a, j)));
		ifs = ctl_jarray(e, "interfaces");
		for (j = 0; ifs && j < json_object_array_length(ifs); j++) {
			f = json_object_array_get_idx(ifs, j);
			snprintf(one, sizeof(one), "%s->%s",
				 ctl_jstr(f, "name", "?"),
				 ctl_jstr(f, "peer", "?"));
			append(ifaces, sizeof(ifaces), ",", one);
		}
		ctl_table_add(t, (const char *const[]){
					 ctl_jstr(e, "topology", "-"),
					 ctl_jstr(e, "name", "?"),
					 ctl_jstr(e, "kind", "-"), addr,
					 ifaces });
	}
	if (t)
		ctl_table_print(t, stdout);
out:
	ctl_table_free(t);
	json_object_put(res);
	return ret;
}

/* One direction's policy: {"rate": "50mbit", "delay": "20ms"} reads
 * "rate=50mbit delay=20ms"; nested values stay compact JSON. */
static void fmt_direction(json_object *d, char *buf, size_t len)
{
	char one[256];

	buf[0] = '\0';
	if (!json_object_is_type(d, json_type_object)) {
		snprintf(buf, len, "%s",
			 json_object_to_json_string_ext(
				 d, JSON_C_TO_STRING_PLAIN));
		return;
	}
	json_object_object_foreach(d, key, val)
	{
		if (json_object_is_type(val, json_type_object) ||
		    json_object_is_type(val, json_type_array))
			snprintf(one, sizeof(one), "%s=%s", key,
				 json_object_to_json_string_ext(
					 val, JSON_C_TO_STRING_PLAIN));
		else
			snprintf(one, sizeof(one), "%s=%s", key,
				 json_object_get_string(val));
		append(buf, len, " ", one);
	}
}

static void fmt_policy(json_object *pol, char *buf, size_t len)
{
	json_object *up = NULL, *down = NULL;
	char a[480], b[480]; /* both fit the 1024 of the caller */

	buf[0] = '\0';
	if (!pol || json_object_is_type(pol, json_type_null))
		return;
	if (!json_object_is_type(pol, json_type_object)) {
		snprintf(buf, len, "%s", json_object_get_string(pol));
		return;
	}
	json_object_object_get_ex(pol, "up", &up);
	json_object_object_get_ex(pol, "down", &down);
	if (up && json_object_is_type(up, json_type_null))
		up = NULL;
	if (down && json_object_is_type(down, json_type_null))
		down = NULL;
	if (up)
		fmt_direction(up, a, sizeof(a));
	if (down)
		fmt_direction(down, b, sizeof(b));
	if (up && down && !strcmp(a, b))
		snprintf(buf, len, "%s", a);
	else if (up && down)
		snprintf(buf, len, "up(%s) down(%s)", a, b);
	else if (up)
		snprintf(buf, len, "up(%s)", a);
	else if (down)
		snprintf(buf, len, "down(%s)", b);
}

int cmd_links(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	      char **argv)
{
	static const char *const head[] = { "TOPOLOGY", "A",     "B",
					    "A-IF",     "B-IF",  "MTU",
					    "STATE",    "MODE",  "POLICY" };
	json_object *res = NULL, *arr, *e, *pol;
	struct ctl_table *t = NULL;
	char mtu[24], policy[1024];
	const char *name;
	size_t i;
	int ret;

	ret = name_arg(ctl, cmd, argc, argv, true, &name);
	if (ret)
		return ret < 0 ? CTL_EXIT_OK : ret;
	ret = ctl_query(ctl, "links", name, &res);
	if (ret)
		return ret;
	if (ctl->json) {
		ctl_print_json(res);
		goto out;
	}
	t = ctl_table_new(9, head);
	arr = ctl_jarray(res, "links");
	for (i = 0; t && arr && i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		snprintf(mtu, sizeof(mtu), "%lld",
			 (long long)ctl_jint(e, "mtu", 0));
		pol = NULL;
		json_object_object_get_ex(e, "policy", &pol);
		fmt_policy(pol, policy, sizeof(policy));
		ctl_table_add(t, (const char *const[]){
					 ctl_jstr(e, "topology", "-"),
					 ctl_jstr(e, "a", "?"),
					 ctl_jstr(e, "b", "?"),
					 ctl_jstr(e, "a_if", "-"),
					 ctl_jstr(e, "b_if", "-"), mtu,
					 ctl_jstr(e, "state", "-"),
					 ctl_jstr(e, "mode", "-"), policy });
	}
	if (t)
		ctl_table_print(t, stdout);
out:
	ctl_table_free(t);
	json_object_put(res);
	return ret;
}

int cmd_status(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	       char **argv)
{
	struct sl_api_client *c = NULL;
	json_object *req = NULL, *res = NULL, *topos;
	char sock[128], age[32], names[512] = "";
	struct sl_err err = { { 0 } };
	const char *name;
	size_t i, n;
	int ret;

	ret = name_arg(ctl, cmd, argc, argv, false, &name);
	if (ret)
		return ret < 0 ? CTL_EXIT_OK : ret;
	if (sl_api_socket_path(ctl->socket, sock, sizeof(sock), &err)) {
		ctl_err("%s", err.msg);
		return CTL_EXIT_USAGE;
	}
	ret = ctl_connect(ctl, CTL_PROBE, &c);
	if (ret == CTL_NO_DAEMON) {
		if (ctl->json) {
			res = json_object_new_object();
			json_object_object_add(res, "running",
					       json_object_new_boolean(false));
			json_object_object_add(res, "socket",
					       json_object_new_string(sock));
			ctl_print_json(res);
			json_object_put(res);
		} else {
			printf("sluiced is not running (no socket at %s)\n",
			       sock);
		}
		return CTL_EXIT_FAIL;
	}
	if (ret)
		return ret;
	req = ctl_new_request("status");
	ret = ctl_call(ctl, c, req, NULL, NULL, &res);
	if (ret)
		goto out;
	if (ctl->json) {
		ctl_print_json(res);
		goto out;
	}
	printf("sluiced:    running\n");
	printf("version:    %s\n", ctl_jstr(res, "version", "?"));
	printf("pid:        %lld\n", (long long)ctl_jint(res, "pid", 0));
	printf("uptime:     %s\n",
	       ctl_fmt_age(ctl_jint(res, "uptime", 0), age, sizeof(age)));
	printf("socket:     %s\n", sock);
	printf("rundir:     %s\n", ctl_jstr(res, "rundir", "?"));
	topos = ctl_jarray(res, "topologies");
	if (topos) {
		n = json_object_array_length(topos);
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(topos, i);

			append(names, sizeof(names), ", ",
			       json_object_is_type(e, json_type_object) ?
				       ctl_jstr(e, "name", "?") :
				       json_object_get_string(e));
		}
		printf("topologies: %zu%s%s%s\n", n, n ? " (" : "", names,
		       n ? ")" : "");
	} else {
		printf("topologies: %lld\n",
		       (long long)ctl_jint(res, "topologies", 0));
	}
out:
	json_object_put(res);
	json_object_put(req);
	sl_api_close(c);
	return ret;
}
