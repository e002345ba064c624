// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_controller.c - sluicectl --controller URL: the commands that go to
 * sluice-controller's REST API (docs/controller.md) instead of the local
 * sluiced: up, down, list, link set, and stats, hosts, policy, which only
 * exist there. Here are the requests, up, down and the dispatch; list,
 * hosts and stats are in cmd_controller_list.c, policy set and link set in
 * cmd_controller_policy.c, relay's in cmd_remote_relay.c (controller.h).
 *
 * Every call is one blocking HTTP request through lib/ctl_client.c. The
 * HTTP status becomes the exit status the same way for every command
 * (2xx: 0, 400: 2, anything else or no answer: 1) and the answer's "error"
 * is what the user reads, so the controller's wording reaches the
 * terminal unchanged.
 *
 * `up` is asynchronous at the controller (202 "applying"): the command
 * polls the topology until the host acknowledged the apply ("up") or
 * refused it ("failed"), so that a script may run the next step as soon
 * as sluicectl returns, as it can after a local `up`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/ctl_client.h>
#include <sluice/topo.h>

#include "controller.h"

#define UP_TIMEOUT_DEFAULT 60
#define URL_MAX 512

bool ctl_remote_opt(struct ctl *ctl, int o)
{
	switch (o) {
	case RO_CONTROLLER:
		ctl->controller = optarg;
		ctl->controller_env = false;
		return true;
	case RO_TOKEN:
		ctl->token = optarg;
		return true;
	case RO_INSECURE:
		ctl->insecure = true;
		return true;
	case RO_CACERT:
		ctl->cacert = optarg;
		return true;
	default:
		return false;
	}
}

static bool is_remote_capable(const char *name)
{
	static const char *const names[] = { "up", "down", "list", "link",
					     "stats", "hosts", "policy", "relay" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

bool ctl_remote_wanted(const struct ctl *ctl, const struct ctl_cmd *cmd,
		       int argc, char **argv)
{
	int i;

	if (!is_remote_capable(cmd->name))
		return false;
	if (ctl->controller)
		return true;
	/* `sluicectl up FILE --controller URL`: the option may follow the
	 * command. None of these commands passes words through to another
	 * program, so a scan of the words is safe. */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--controller") ||
		    !strncmp(argv[i], "--controller=", 13))
			return true;
	return false;
}

/* --- requests --------------------------------------------------------- */

/* ws:// and wss:// (what sluiced.conf says) name the same server. */
static const char *rest_url(const char *url, char *buf, size_t len)
{
	if (!strncmp(url, "ws://", 5))
		snprintf(buf, len, "http://%s", url + 5);
	else if (!strncmp(url, "wss://", 6))
		snprintf(buf, len, "https://%s", url + 6);
	else
		snprintf(buf, len, "%s", url);
	return buf;
}

static int exit_of_status(int status)
{
	if (status >= 200 && status < 300)
		return CTL_EXIT_OK;
	return status == 400 ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
}

/*
 * One request without printing anything. Returns 0 with *status and
 * *reply (may be NULL; the caller puts it), or a negative errno with why.
 */
static int rest_quiet(struct ctl *ctl, const char *method, const char *path,
		      json_object *body, int *status, json_object **reply,
		      struct sl_err *err)
{
	char url[URL_MAX];
	struct sl_ctl_call call = {
		.url = rest_url(ctl->controller ? ctl->controller : "", url,
				sizeof(url)),
		.token = ctl->token,
		.method = method,
		.path = path,
		.body = body,
		.ca_file = ctl->cacert,
		.insecure = ctl->insecure,
	};

	if (!ctl->controller) {
		*status = 0;
		*reply = NULL;
		return sl_err_set(err, EINVAL, "no controller: expected --controller URL or $SLUICE_CONTROLLER");
	}
	return sl_ctl_request(&call, status, reply, err);
}

/* Prints the error of a non-2xx answer and returns the exit status. */
static int rest_error(struct ctl *ctl, int status, json_object *reply)
{
	const char *msg = ctl_jstr(reply, "error", NULL);
	const char *code = ctl_jstr(reply, "code", NULL);
	char buf[64];

	if (!msg) {
		snprintf(buf, sizeof(buf), "the controller answered HTTP %d",
			 status);
		msg = buf;
	}
	if (status == 401)
		ctl_err("%s (give an API token with --token or $SLUICE_TOKEN)",
			msg);
	else if (ctl->verbose)
		ctl_err("%s (HTTP %d%s%s)", msg, status, code ? ", " : "",
			code ? code : "");
	else
		ctl_err("%s", msg);
	return exit_of_status(status);
}

/*
 * One request; prints any error. Returns an exit status; on success
 * *reply is the answer (maybe NULL), which the caller puts.
 */
int ctl_rest(struct ctl *ctl, const char *method, const char *path,
	     json_object *body, json_object **reply)
{
	struct sl_err err = { { 0 } };
	int status, ret;

	*reply = NULL;
	if (ctl->verbose > 1)
		fprintf(stderr, "sluicectl: %s %s%s%s\n", method, path,
			body ? " " : "",
			body ? json_object_to_json_string_ext(
				       body, JSON_C_TO_STRING_PLAIN) : "");
	if (rest_quiet(ctl, method, path, body, &status, reply, &err)) {
		ctl_err("%s", err.msg);
		return CTL_EXIT_FAIL;
	}
	ret = exit_of_status(status);
	if (ret) {
		rest_error(ctl, status, *reply);
		json_object_put(*reply);
		*reply = NULL;
	}
	return ret;
}

int ctl_rest_list(struct ctl *ctl, const char *path, const char *key,
		  json_object **res, json_object **arr)
{
	int ret = ctl_rest(ctl, "GET", path, NULL, res);

	*arr = NULL;
	if (ret)
		return ret;
	if (ctl->json) {
		ctl_print_json(*res);
		json_object_put(*res);
		*res = NULL;
		return CTL_EXIT_OK;
	}
	*arr = ctl_jarray(*res, key);
	return CTL_EXIT_OK;
}

int ctl_remote_find_topology(struct ctl *ctl, const char *a, char *out,
			     size_t len)
{
	json_object *snap = NULL, *topos, *e, *nodes;
	size_t i, j, n, found = 0;
	int ret;

	ret = ctl_rest(ctl, "GET", "/api/topologies", NULL, &snap);
	if (ret)
		return ret;
	topos = ctl_jarray(snap, "topologies");
	n = topos ? json_object_array_length(topos) : 0;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(topos, i);
		nodes = ctl_jarray(e, "nodes");
		for (j = 0; nodes && j < json_object_array_length(nodes); j++)
			if (!strcmp(ctl_jstr(json_object_array_get_idx(nodes, j),
					     "name", ""), a))
				break;
		if (nodes && j < json_object_array_length(nodes) && !found++)
			snprintf(out, len, "%s", ctl_jstr(e, "name", ""));
	}
	json_object_put(snap);
	if (found == 1)
		return CTL_EXIT_OK;
	if (!found)
		ctl_err("no topology at the controller has a node '%s'", a);
	else
		ctl_err("%zu topologies have a node '%s': expected --name TOPO or TOPO:%s",
			found, a, a);
	return CTL_EXIT_FAIL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --- up --------------------------------------------------------------- */

static const char *plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Reads a whole file ("-": stdin); NULL after printing why. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t cap = 65536, n = 0;
	char *buf = NULL, *nb;

	if (!f) {
		ctl_err("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (!buf || cap - n < 2) {
			cap = buf ? cap * 2 : cap;
			nb = realloc(buf, cap);
			if (!nb) {
				ctl_err("%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		n += fread(buf + n, 1, cap - n - 1, f);
		if (ferror(f)) {
			ctl_err("cannot read %s: %s",
				strcmp(path, "-") ? path : "standard input",
				strerror(errno));
			goto fail;
		}
		if (feof(f))
			break;
	}
	buf[n] = '\0';
	*len = n;
	if (f != stdin)
		fclose(f);
	return buf;
fail:
	free(buf);
	if (f != stdin)
		fclose(f);
	return NULL;
}

struct up_opts {
	const char *name;
	const char *host;
	double timeout;
	bool wait;
};

/* Shows "demo: applying on h1 (1.2 s)" on a terminal, state changes as
 * lines with -v. */
static void up_progress(struct ctl_progress *p, const char *name,
			const char *state, const char *host, double secs,
			bool changed)
{
	json_object *o;
	char phase[160];

	if (p->lines && !changed)
		return;
	snprintf(phase, sizeof(phase), "%s: %s on %s, %.1f s", name, state,
		 host, secs);
	o = json_object_new_object();
	json_object_object_add(o, "phase", json_object_new_string(phase));
	ctl_progress_cb(o, p);
	json_object_put(o);
}

/*
 * Polls GET /api/topologies/NAME until the host acknowledged the apply.
 * A controller that does not answer for a moment (a restart) is waited
 * for until the timeout. Returns an exit status; *final is the last
 * answer on success.
 */
static int up_wait(struct ctl *ctl, const char *name, const char *host,
		   double t0, double timeout, json_object **final)
{
	struct ctl_progress prog;
	struct sl_err err = { { 0 } };
	char path[128], last[16] = "applying";
	double interval = 0.05;
	int status = 0, ret = CTL_EXIT_FAIL;
	json_object *r = NULL;

	*final = NULL;
	snprintf(path, sizeof(path), "/api/topologies/%s", name);
	ctl_progress_init(&prog, ctl);
	for (;;) {
		const char *state;

		json_object_put(r);
		r = NULL;
		err.msg[0] = '\0';
		if (rest_quiet(ctl, "GET", path, NULL, &status, &r, &err) == 0 &&
		    status == 200) {
			state = ctl_jstr(r, "state", "?");
			if (!strcmp(state, "up")) {
				ret = CTL_EXIT_OK;
				break;
			}
			if (!strcmp(state, "failed")) {
				ctl_progress_end(&prog);
				ctl_err("%s: failed on host %s: %s", name, host,
					ctl_jstr(r, "error", "no reason given"));
				break;
			}
			if (strcmp(state, "applying")) {
				ctl_progress_end(&prog);
				ctl_err("%s: became %s while it was being applied on host %s",
					name, state, host);
				break;
			}
			up_progress(&prog, name, state, host, now_s() - t0,
				    strcmp(last, state));
			snprintf(last, sizeof(last), "%s", state);
		} else if (!err.msg[0] && status != 503) {
			/* 404 (deleted meanwhile), 401 (token revoked) */
			ctl_progress_end(&prog);
			rest_error(ctl, status, r);
			ret = exit_of_status(status);
			break;
		}
		if (now_s() - t0 >= timeout) {
			ctl_progress_end(&prog);
			if (err.msg[0])
				ctl_err("%s: no answer from the controller within %.0f s: %s",
					name, timeout, err.msg);
			else
				ctl_err("%s: still %s on host %s after %.0f s; expected up or failed (see 'sluicectl --controller URL list', the host's sluiced log, or --timeout)",
					name, last, host, timeout);
			break;
		}
		sleep_s(interval);
		/* Fast at first (a small topology is up in milliseconds),
		 * then no more than five requests a second. */
		if (now_s() - t0 > 1)
			interval = 0.2;
	}
	ctl_progress_end(&prog);
	if (ret)
		json_object_put(r);
	else
		*final = r;
	return ret;
}

static int remote_up(struct ctl *ctl, const struct ctl_cmd *cmd,
		     const struct up_opts *uo, const char *file)
{
	const char *source = strcmp(file, "-") ? file : "<stdin>";
	json_object *spec = NULL, *body = NULL, *reply = NULL, *fin = NULL;
	struct sl_err err = { { 0 } };
	struct sl_topo *t = NULL;
	char *text, host[64], name[64];
	const char *s;
	size_t len = 0;
	double t0;
	int ret;

	text = read_file(file, &len);
	if (!text)
		return CTL_EXIT_USAGE;
	spec = json_tokener_parse(text);
	if (spec && json_object_is_type(spec, json_type_object) && uo->name) {
		json_object_object_add(spec, "name",
				       json_object_new_string(uo->name));
		free(text);
		s = json_object_to_json_string_length(spec, JSON_C_TO_STRING_PLAIN,
						      &len);
		text = strdup(s);
		if (!text) {
			ret = CTL_EXIT_FAIL;
			goto out;
		}
	}
	/* The same check as a local up, with the file's name in the message. */
	if (sl_topo_parse(text, len, source, &t, &err)) {
		ctl_err("%s", err.msg);
		ret = CTL_EXIT_USAGE;
		goto out;
	}
	snprintf(name, sizeof(name), "%s", t->name);
	body = json_object_new_object();
	json_object_object_add(body, "topology", json_object_get(spec));
	if (uo->host)
		json_object_object_add(body, "host",
				       json_object_new_string(uo->host));
	t0 = now_s();
	ret = ctl_rest(ctl, "POST", "/api/topologies", body, &reply);
	if (ret)
		goto out;
	snprintf(host, sizeof(host), "%s", ctl_jstr(reply, "host", "?"));
	if (!uo->wait) {
		if (ctl->json)
			ctl_print_json(reply);
		else if (!ctl->quiet)
			printf("%s: applying on host %s\n", name, host);
		goto out;
	}
	ret = up_wait(ctl, name, host, t0, uo->timeout, &fin);
	if (ret)
		goto out;
	if (ctl->json) {
		/* The topology as the controller has it, without the echo of
		 * the file, plus where and how long. */
		json_object_object_del(fin, "spec");
		json_object_object_add(fin, "host", json_object_new_string(host));
		json_object_object_add(fin, "seconds",
				       json_object_new_double(now_s() - t0));
		ctl_print_json(fin);
	} else if (!ctl->quiet) {
		printf("%s: %u %s, %u %s up on host %s in %.2f s\n", name,
		       t->n_nodes, plural(t->n_nodes, "node", "nodes"),
		       t->n_links, plural(t->n_links, "link", "links"), host,
		       now_s() - t0);
	}
out:
	json_object_put(fin);
	json_object_put(reply);
	json_object_put(body);
	json_object_put(spec);
	sl_topo_free(t);
	free(text);
	return ret;
}

static int cmd_remote_up(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
			 char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "host", required_argument, NULL, RO_HOST },
		{ "timeout", required_argument, NULL, RO_TIMEOUT },
		{ "no-wait", no_argument, NULL, RO_NO_WAIT },
		{ "no-start", no_argument, NULL, 'N' },
		REMOTE_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct up_opts uo = { .timeout = UP_TIMEOUT_DEFAULT, .wait = true };
	char why[128], *end;
	int o;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "n:", opts)) != -1) {
		if (ctl_remote_opt(ctl, o))
			continue;
		switch (o) {
		case 'n':
			uo.name = optarg;
			break;
		case 'N':
			/* a controller starts nothing here: accepted, moot */
			break;
		case RO_HOST:
			uo.host = optarg;
			break;
		case RO_TIMEOUT:
			uo.timeout = strtod(optarg, &end);
			if (*end || end == optarg || !(uo.timeout > 0))
				return ctl_usage_error(cmd,
						       "--timeout '%s': expected a number of seconds > 0",
						       optarg);
			break;
		case RO_NO_WAIT:
			uo.wait = false;
			break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return ctl_usage_error(cmd,
				       "missing FILE: expected a topology file, or '-' for standard input");
	if (argc - optind > 1)
		return ctl_usage_error(cmd,
				       "unexpected argument '%s': expected only one FILE",
				       argv[optind + 1]);
	if (uo.name && !ctl_topo_name_ok(uo.name, why, sizeof(why)))
		return ctl_usage_error(cmd, "--name '%s': %s", uo.name, why);
	return remote_up(ctl, cmd, &uo, argv[optind]);
}

/* --- down ------------------------------------------------------------- */

static int down_one(struct ctl *ctl, const char *name, json_object *all)
{
	json_object *reply = NULL, *hosts;
	char path[128], list[256] = "";
	size_t i, n;
	int ret;

	snprintf(path, sizeof(path), "/api/topologies/%s", name);
	ret = ctl_rest(ctl, "DELETE", path, NULL, &reply);
	if (ret)
		return ret;
	if (all) {
		json_object_array_add(all, reply);
		reply = NULL;
	} else if (ctl->json) {
		ctl_print_json(reply);
	}
	if (!ctl->json && !ctl->quiet) {
		hosts = ctl_jarray(all ? json_object_array_get_idx(all,
			json_object_array_length(all) - 1) : reply, "hosts");
		n = hosts ? json_object_array_length(hosts) : 0;
		for (i = 0; i < n; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s%s", i ? ", " : "",
				 json_object_get_string(json_object_array_get_idx(hosts, i)));
		if (n)
			printf("%s: down (teardown sent to %s)\n", name, list);
		else
			printf("%s: down (no connected host carried it)\n", name);
	}
	json_object_put(reply);
	return CTL_EXIT_OK;
}

static int cmd_remote_down(struct ctl *ctl, const struct ctl_cmd *cmd,
			   int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		REMOTE_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	json_object *snap = NULL, *topos, *all, *out;
	bool every = false;
	size_t i, n;
	int o, ret, r;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "a", opts)) != -1) {
		if (ctl_remote_opt(ctl, o))
			continue;
		switch (o) {
		case 'a':
			every = true;
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
	if (optind < argc && every)
		return ctl_usage_error(cmd,
				       "both NAME '%s' and --all given: expected one of them",
				       argv[optind]);
	if (optind < argc) {
		char why[128];

		if (!ctl_topo_name_ok(argv[optind], why, sizeof(why)))
			return ctl_usage_error(cmd, "NAME '%s': %s",
					       argv[optind], why);
		return down_one(ctl, argv[optind], NULL);
	}
	if (!every)
		return ctl_usage_error(cmd,
				       "missing NAME: through a controller, name the topology or give --all");
	ret = ctl_rest(ctl, "GET", "/api/topologies", NULL, &snap);
	if (ret)
		return ret;
	topos = ctl_jarray(snap, "topologies");
	n = topos ? json_object_array_length(topos) : 0;
	all = json_object_new_array();
	for (i = 0; i < n; i++) {
		r = down_one(ctl, ctl_jstr(json_object_array_get_idx(topos, i),
					   "name", "?"), all);
		if (r && !ret)
			ret = r;
	}
	if (ctl->json) {
		out = json_object_new_object();
		json_object_object_add(out, "topologies", json_object_get(all));
		ctl_print_json(out);
		json_object_put(out);
	} else if (!n && !ctl->quiet) {
		printf("the controller has no topology; nothing to remove\n");
	}
	json_object_put(all);
	json_object_put(snap);
	return ret;
}

/* --- dispatch --------------------------------------------------------- */

int cmd_remote(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	       char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct ctl *, const struct ctl_cmd *, int, char **);
	} table[] = {
		{ "up", cmd_remote_up },
		{ "down", cmd_remote_down },
		{ "list", cmd_remote_list },
		{ "link", cmd_remote_link },
		{ "stats", cmd_remote_stats },
		{ "hosts", cmd_remote_hosts },
		{ "policy", cmd_remote_policy },
		{ "relay", cmd_remote_relay },
	};
	size_t i;
	int k;

	/* stats, hosts and policy exist only at a controller: their help
	 * needs none, anything else does. */
	/* Without a controller, stats are the local daemon's. */
	if (!ctl->controller && !ctl_remote_wanted(ctl, cmd, argc, argv) &&
	    !strcmp(cmd->name, "stats"))
		return cmd_stats(ctl, cmd, argc, argv);
	if (!ctl->controller && !ctl_remote_wanted(ctl, cmd, argc, argv)) {
		for (k = 1; k < argc && strcmp(argv[k], "--"); k++)
			if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
				ctl_print_help(cmd);
				return CTL_EXIT_OK;
			}
		return ctl_usage_error(cmd,
				       "'%s' talks to a controller: expected --controller URL or $SLUICE_CONTROLLER",
				       cmd->name);
	}
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, cmd->name))
			return table[i].run(ctl, cmd, argc, argv);
	return ctl_usage_error(cmd,
			       "'%s' does not go through a controller: run it without --controller",
			       cmd->name);
}
