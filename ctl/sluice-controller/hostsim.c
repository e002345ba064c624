// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hostsim.c - `sluice-controller hostsim`: a simulated host. It runs the
 * real host agent (lib/hostagent.c) with a stand-in for sluiced's side:
 * commands are "applied" at once (each printed as a line on stdout with
 * the CLOCK_REALTIME nanoseconds of its arrival, then acknowledged), and
 * every metrics interval it reports counters of the links of the
 * topologies it was given, growing at --rate bytes per second.
 *
 * It exists for the controller's tests (the timing of a policy push, the
 * replay of metrics across a controller restart) and to load a controller
 * with many hosts without building namespaces.
 *
 * Output lines: "<ns> <type> <id> <json>".
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sluice/hostagent.h>
#include <sluice/log.h>
#include <sluice/proto.h>

#include "controller.h"

struct sim_link {
	char topology[SL_PROTO_NAME_MAX], a[SL_PROTO_NAME_MAX], b[SL_PROTO_NAME_MAX];
	uint64_t bytes[2], packets[2];
};

struct sim {
	struct sim_link *links;
	size_t n, cap;
	double rate; /* bytes/s per direction */
	double last;
	bool fail_apply;
	json_object *topologies;
};

static volatile sig_atomic_t sim_stop;

static void sim_signal(int sig)
{
	sim_stop = sig;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sim_add_link(struct sim *s, const char *t, const char *a, const char *b)
{
	struct sim_link *l;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		l = realloc(s->links, cap * sizeof(*l));
		if (!l)
			return;
		s->links = l;
		s->cap = cap;
	}
	l = &s->links[s->n++];
	memset(l, 0, sizeof(*l));
	snprintf(l->topology, sizeof(l->topology), "%s", t);
	snprintf(l->a, sizeof(l->a), "%s", a);
	snprintf(l->b, sizeof(l->b), "%s", b);
}

static void sim_remove_topology(struct sim *s, const char *t)
{
	size_t i = 0;

	while (i < s->n) {
		if (!strcmp(t, "*") || !strcmp(s->links[i].topology, t))
			s->links[i] = s->links[--s->n];
		else
			i++;
	}
}

static const char *endpoint_name(json_object *e)
{
	json_object *n;

	if (json_object_is_type(e, json_type_string))
		return json_object_get_string(e);
	if (json_object_object_get_ex(e, "node", &n))
		return json_object_get_string(n);
	return "?";
}

static int sim_apply(struct sim *s, json_object *topo, struct sl_err *err)
{
	json_object *name, *links;
	size_t i, n;

	if (s->fail_apply)
		return sl_err_set(err, EIO, "hostsim: told to fail (--fail-apply)");
	if (!json_object_object_get_ex(topo, "name", &name))
		return sl_err_set(err, EINVAL, "topology: missing name");
	sim_remove_topology(s, json_object_get_string(name));
	if (json_object_object_get_ex(topo, "links", &links)) {
		n = json_object_array_length(links);
		for (i = 0; i < n; i++) {
			json_object *l = json_object_array_get_idx(links, i), *ep;

			if (!json_object_object_get_ex(l, "endpoints", &ep) ||
			    json_object_array_length(ep) != 2)
				continue;
			sim_add_link(s, json_object_get_string(name),
				     endpoint_name(json_object_array_get_idx(ep, 0)),
				     endpoint_name(json_object_array_get_idx(ep, 1)));
		}
	}
	return 0;
}

static json_object *sim_report(struct sim *s)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	double now = (double)realtime_ns() / 1e9, dt = s->last ? now - s->last : 0;
	size_t i;
	int d;

	s->last = now;
	for (i = 0; i < s->n; i++) {
		struct sim_link *l = &s->links[i];

		for (d = 0; d < 2; d++) {
			json_object *r = json_object_new_object();
			uint64_t add = (uint64_t)(s->rate * dt * (d ? 0.5 : 1.0));

			l->bytes[d] += add;
			l->packets[d] += add / 1000;
			json_object_object_add(r, "topology", json_object_new_string(l->topology));
			json_object_object_add(r, "a", json_object_new_string(l->a));
			json_object_object_add(r, "b", json_object_new_string(l->b));
			json_object_object_add(r, "dir", json_object_new_string(d ? "down" : "up"));
			json_object_object_add(r, "packets", json_object_new_int64((int64_t)l->packets[d]));
			json_object_object_add(r, "bytes", json_object_new_int64((int64_t)l->bytes[d]));
			json_object_object_add(r, "drops", json_object_new_int64(0));
			json_object_object_add(r, "qlen", json_object_new_int64((int64_t)(add / 1500 % 8)));
			json_object_array_add(arr, r);
		}
	}
	json_object_object_add(o, "links", arr);
	return o;
}

static void sim_topologies(struct sim *s, struct sl_hostagent *a)
{
	json_object *names = json_object_new_array();
	size_t i, k;

	for (i = 0; i < s->n; i++) {
		bool seen = false;

		for (k = 0; k < json_object_array_length(names) && !seen; k++)
			seen = !strcmp(json_object_get_string(json_object_array_get_idx(names, k)),
				       s->links[i].topology);
		if (!seen)
			json_object_array_add(names, json_object_new_string(s->links[i].topology));
	}
	sl_hostagent_set_topologies(a, names);
	json_object_put(names);
}

static void sim_command(struct sim *s, struct sl_hostagent *a, json_object *cmd)
{
	const char *type = json_object_get_string(json_object_object_get(cmd, "type"));
	json_object *idj = json_object_object_get(cmd, "id");
	int64_t id = idj ? json_object_get_int64(idj) : -1;
	struct sl_err err = { "" };
	uint64_t ns = realtime_ns();

	if (!strcmp(type, "collect_metrics")) {
		sl_hostagent_push_metrics(a, sim_report(s));
		return;
	}
	printf("%llu %s %lld %s\n", (unsigned long long)ns, type, (long long)id,
	       json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	if (!strcmp(type, "apply")) {
		if (sim_apply(s, json_object_object_get(cmd, "topology"), &err)) {
			sl_hostagent_reply_error(a, id, "internal", err.msg);
			return;
		}
		sim_topologies(s, a);
	} else if (!strcmp(type, "teardown")) {
		json_object *t = json_object_object_get(cmd, "topology");

		sim_remove_topology(s, t ? json_object_get_string(t) : "*");
		sim_topologies(s, a);
	}
	sl_hostagent_reply(a, id, NULL);
}

int hostsim_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "host", required_argument, NULL, 'H' },
		{ "token", required_argument, NULL, 't' },
		{ "metrics-interval", required_argument, NULL, 'm' },
		{ "heartbeat-interval", required_argument, NULL, 'b' },
		{ "backoff-max", required_argument, NULL, 'B' },
		{ "buffer-max", required_argument, NULL, 'M' },
		{ "link", required_argument, NULL, 'k' },
		{ "rate", required_argument, NULL, 'r' },
		{ "insecure", no_argument, NULL, 'i' },
		{ "fail-apply", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sl_hostagent_conf conf = { .version = CONTROLLER_VERSION "-hostsim" };
	struct sim s = { .rate = 125000 };
	struct sl_err err = { "" };
	struct sl_hostagent *a;
	struct sl_hostagent_stats st;
	struct sigaction sa = { .sa_handler = sim_signal };
	int ch, level = SL_LOG_INFO;
	json_object *caps;

	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'u': conf.url = optarg; break;
		case 'H': conf.host_id = optarg; break;
		case 't': conf.token = optarg; break;
		case 'm': conf.metrics_interval_ms = (unsigned)atoi(optarg); break;
		case 'b': conf.heartbeat_ms = (unsigned)atoi(optarg); break;
		case 'B': conf.backoff_max_ms = (unsigned)atoi(optarg); break;
		case 'M': {
			char *end;

			conf.buffer_max_bytes = (size_t)strtoull(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || !conf.buffer_max_bytes) {
				fprintf(stderr, "hostsim: --buffer-max %s; expected a number of bytes >= 1\n",
					optarg);
				return 2;
			}
			break;
		}
		case 'r': s.rate = atof(optarg); break;
		case 'i': conf.insecure = true; break;
		case 'f': s.fail_apply = true; break;
		case 'l':
			level = sl_log_level_parse(optarg);
			if (level < 0)
				return 2;
			break;
		case 'k': {
			char t[SL_PROTO_NAME_MAX], x[SL_PROTO_NAME_MAX], y[SL_PROTO_NAME_MAX];

			if (sscanf(optarg, "%63[^:]:%63[^:]:%63s", t, x, y) != 3) {
				fprintf(stderr, "hostsim: --link %s; expected TOPOLOGY:A:B\n", optarg);
				return 2;
			}
			sim_add_link(&s, t, x, y);
			break;
		}
		case 'h':
			printf("Usage: sluice-controller hostsim --url ws://HOST:PORT/ws --host NAME\n"
			       "         --token TOKEN [--metrics-interval MS] [--heartbeat-interval MS]\n"
			       "         [--backoff-max MS] [--buffer-max BYTES] [--link TOPO:A:B]...\n"
			       "         [--rate BYTES_PER_S]\n"
			       "         [--insecure] [--fail-apply] [--log-level LEVEL]\n"
			       "A simulated host: the real host agent, commands applied at once and\n"
			       "printed as \"<ns> <type> <id> <json>\", synthetic link counters.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!conf.url || !conf.host_id || !conf.token) {
		fprintf(stderr, "hostsim: expected --url, --host and --token\n");
		return 2;
	}
	sl_log_init("hostsim", (enum sl_log_level)level);
	caps = json_tokener_parse("[\"simulated\"]");
	conf.capabilities = caps;
	a = sl_hostagent_start(&conf, &err);
	json_object_put(caps);
	if (!a) {
		fprintf(stderr, "hostsim: %s\n", err.msg);
		return 1;
	}
	if (s.n)
		sim_topologies(&s, a);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!sim_stop) {
		struct pollfd p = { .fd = sl_hostagent_fd(a), .events = POLLIN };
		json_object *cmd;

		if (poll(&p, 1, 500) < 0 && errno != EINTR)
			break;
		while (sl_hostagent_next(a, &cmd) == 1) {
			sim_command(&s, a, cmd);
			json_object_put(cmd);
		}
	}
	sl_hostagent_get_stats(a, &st);
	pr_info("hostsim: stopping; %llu reports acknowledged, %llu buffered, %llu dropped, %llu connects",
		(unsigned long long)st.acked, (unsigned long long)st.buffered,
		(unsigned long long)st.dropped, (unsigned long long)st.connects);
	sl_hostagent_stop(a);
	free(s.links);
	return 0;
}
