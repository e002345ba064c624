// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_shell.c - `sluicectl shell`: one program behind one emulated link, as
 * mahimahi's mm-link and mm-delay or Rattan's `rattan link` do it.
 *
 * What is built, in this order, and removed in the reverse order on every
 * way out (the program's end, a signal, a failed step):
 *
 *   1. a topology "sh<pid>" of two nodes, "shell" (host) and "gw" (router),
 *      and one link shell-gw carrying the policy ("up" is shell -> gw),
 *      brought up by sluiced like `sluicectl up` (the daemon picks the
 *      kernel path or the user-space dataplane for the link);
 *   2. the uplink: a veth pair from the root namespace ("slsh<pid>") into gw
 *      ("up0"), a /31 out of 100.64.0.0/10 that overlaps none of the host's
 *      networks (the even address on the host's side); in gw a default route
 *      towards the host and a route back to the shell;
 *   3. masquerading on gw's up0 (nftables, inside gw's namespace), so the
 *      host answers the shell without any route of its own; the rules go
 *      with the namespace. Without nft a route to the topology's pool via
 *      the uplink is added in the root namespace instead (it goes with the
 *      veth);
 *   4. with --nat-out only: a table "sluice_sh<pid>" in the root namespace
 *      masquerading the uplink beyond the host, and ip_forward turned on
 *      (and back off at the end if it was off);
 *   5. the program, run through `sluicectl exec <topo>:shell` as our child
 *      with the terminal, and waited for.
 *
 * Signals (INT, TERM, HUP, QUIT) stay blocked in this process and are taken
 * with sigtimedwait(), so a daemon call is never interrupted half way: a
 * signal during bring-up stops it after the current step; while the program
 * runs, TERM and HUP (and INT, QUIT sent by kill rather than the terminal,
 * which already sent them to the program) are passed on to it, and if it is
 * still there KILL_AFTER_S seconds later it is killed.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <sluice/addr.h>
#include <sluice/cell.h>
#include <sluice/kpolicy.h>
#include <sluice/net.h>
#include <sluice/netlink.h>
#include <sluice/topo.h>
#include <sluice/units.h>

#include "sluicectl.h"

#define KILL_AFTER_S 5
#define UPLINK_GW_IF "up0"
#define UPLINK_MTU 1500
/* The uplink's /31 comes from the shared address space (RFC 6598), as
 * mahimahi's do: never a host's own LAN, never routed on the Internet. */
#define UPLINK_SPACE "100.64.0.0/10"

/* Per-direction settings, each an option with an "up-" and "down-" form
 * (and mm-link's "uplink-", "downlink-"). */
enum key {
	K_RATE,
	K_DELAY,
	K_JITTER,
	K_LOSS,
	K_QUEUE,
	K_QUEUE_ARGS,
	K_AQM,
	K_TRACE,
	K_TRACE_ONCE,
	K_SEED,
	K_POLICY,
	N_KEYS,
};

static const char *const key_name[N_KEYS] = {
	"rate", "delay", "jitter", "loss", "queue", "queue-args", "aqm",
	"trace", "trace-once", "seed", "policy",
};

/* Option prefixes; PX_BOTH applies to both directions. */
enum { PX_BOTH, PX_UP, PX_DOWN, PX_UPLINK, PX_DOWNLINK, N_PREFIXES };
static const char *const prefix_name[N_PREFIXES] = {
	"", "up-", "down-", "uplink-", "downlink-",
};

enum {
	OPT_NAT_OUT = 0x100,
	OPT_NAME,
	OPT_G_JSON,
	OPT_G_SOCKET,
	OPT_KEY_BASE = 0x200, /* + prefix * N_KEYS + key */
};

struct optval {
	const char *v;   /* NULL: not given */
	const char *opt; /* the option as written, for messages */
};

struct shell {
	struct ctl *ctl;
	/* [0] both, [1] up, [2] down */
	struct optval val[3][N_KEYS];
	bool nat_out;
	bool interactive; /* the default shell, not a given command */
	char name[32];
	char summary[2][256]; /* per direction, for the notice and prompt */
	char *policy[2];      /* JSON text, NULL: none */

	/* what exists, for the teardown */
	bool topo_up;
	bool veth_made;
	bool nat_table;
	bool forward_set; /* we turned ip_forward on */
	char host_if[IFNAMSIZ];
	char table[48];

	/* addresses */
	struct sl_prefix pool;   /* the topology's IPv4 pool */
	struct sl_prefix shell_link, gw_link;
	struct sl_prefix up_host, up_gw; /* the uplink's two ends, /31 */
	char host_addr[64];

	sigset_t sigs, oldmask;
	int signal; /* first signal taken during bring-up or teardown */
};

static const struct optval *dir_val(const struct shell *s, int d, enum key k)
{
	return s->val[1 + d][k].v ? &s->val[1 + d][k] : &s->val[0][k];
}

/*
 * Options: every prefix with every key, the command's own and the global
 * ones (ctl_getopt() merges into a table too small for this many).
 */
static struct option *make_options(void)
{
	static char names[N_PREFIXES * N_KEYS][32];
	static struct option opts[N_PREFIXES * N_KEYS + 8];
	int p, k, i = 0;

	if (opts[0].name)
		return opts;
	for (p = 0; p < N_PREFIXES; p++)
		for (k = 0; k < N_KEYS; k++, i++) {
			snprintf(names[i], sizeof(names[i]), "%s%s",
				 prefix_name[p], key_name[k]);
			opts[i].name = names[i];
			opts[i].has_arg = k == K_TRACE_ONCE ? no_argument :
							      required_argument;
			opts[i].val = OPT_KEY_BASE + i;
		}
	opts[i++] = (struct option){ "nat-out", no_argument, NULL, OPT_NAT_OUT };
	opts[i++] = (struct option){ "name", required_argument, NULL, OPT_NAME };
	opts[i++] = (struct option){ "help", no_argument, NULL, CTL_OPT_HELP };
	opts[i++] = (struct option){ "json", no_argument, NULL, OPT_G_JSON };
	opts[i++] = (struct option){ "quiet", no_argument, NULL, 'q' };
	opts[i++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	opts[i++] = (struct option){ "socket", required_argument, NULL, OPT_G_SOCKET };
	opts[i] = (struct option){ NULL, 0, NULL, 0 };
	return opts;
}

/* ctl_getopt() for our table: the global options applied to ctl, a usage
 * error printed for a bad option (CTL_OPT_ERROR). */
static int shell_getopt(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
			char **argv)
{
	const char *bad;
	int o;

	opterr = 0;
	for (;;) {
		o = getopt_long(argc, argv, "+:hqvn:", make_options(), NULL);
		switch (o) {
		case 'q':
			ctl->quiet = true;
			continue;
		case 'v':
			ctl->verbose++;
			continue;
		case 'n':
			return OPT_NAME;
		case OPT_G_JSON:
			ctl->json = true;
			continue;
		case OPT_G_SOCKET:
			ctl->socket = optarg;
			continue;
		case '?':
			bad = argv[optind - 1];
			if (!strncmp(bad, "--", 2) || !optopt)
				ctl_usage_error(cmd, "unknown option '%s'", bad);
			else
				ctl_usage_error(cmd, "unknown option '-%c'",
						optopt);
			return CTL_OPT_ERROR;
		case ':':
			ctl_usage_error(cmd, "option '%s' needs an argument",
					argv[optind - 1]);
			return CTL_OPT_ERROR;
		default:
			return o;
		}
	}
}

/* ---- the policy of one direction, from the options ---- */

static int unit_error(const struct optval *o, enum sl_unit u)
{
	return ctl_usage_error(ctl_find_cmd("shell"),
			       "--%s '%s': not %s; expected %s", o->opt, o->v,
			       sl_unit_noun(u), sl_unit_expected(u));
}

/* A queue type as mm-link names it, as the cell engine's queue object. */
static json_object *queue_type(const char *t)
{
	json_object *q;

	if (!strcmp(t, "droptail") || !strcmp(t, "drophead") ||
	    !strcmp(t, "infinite")) {
		q = json_object_new_object();
		json_object_object_add(q, "type", json_object_new_string("queue"));
		if (!strcmp(t, "infinite"))
			json_object_object_add(q, "limit",
					       json_object_new_string("unlimited"));
		else
			json_object_object_add(q, "drop", json_object_new_string(
						t[4] == 'h' ? "head" : "tail"));
		return q;
	}
	if (!strcmp(t, "codel") || !strcmp(t, "pie") || !strcmp(t, "red")) {
		q = json_object_new_object();
		json_object_object_add(q, "type", json_object_new_string(t));
		return q;
	}
	return NULL;
}

#define QUEUE_TYPES "droptail, drophead, infinite, codel, pie or red"

/* mm-link's queue arguments ("packets=100,target=5") into q. Bare numbers
 * of its millisecond parameters get their unit. */
static int queue_args(const struct optval *o, json_object *q)
{
	static const char *const ms_keys[] = { "target", "interval", "tupdate",
					       "max_burst", NULL };
	char *copy = strdup(o->v), *save = NULL, *item, *eq, *end;
	const struct ctl_cmd *cmd = ctl_find_cmd("shell");
	int i, ret = 0;

	if (!copy)
		return CTL_EXIT_FAIL;
	for (item = strtok_r(copy, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char buf[64];
		const char *key, *v;

		while (*item == ' ')
			item++;
		eq = strchr(item, '=');
		if (!eq || eq == item || !eq[1]) {
			ret = ctl_usage_error(cmd,
					      "--%s '%s': '%s' is not KEY=VALUE; expected e.g. packets=100 or target=5,interval=100",
					      o->opt, o->v, item);
			break;
		}
		*eq = '\0';
		key = item;
		v = eq + 1;
		if (!strcmp(key, "packets") || !strcmp(key, "bytes")) {
			strtoul(v, &end, 10);
			if (*end || !isdigit((unsigned char)*v)) {
				ret = ctl_usage_error(cmd,
						      "--%s: %s=%s: expected a whole number",
						      o->opt, key, v);
				break;
			}
			snprintf(buf, sizeof(buf), "%s%s", v,
				 key[0] == 'p' ? "pkt" : "b");
			json_object_object_add(q, "limit",
					       json_object_new_string(buf));
			continue;
		}
		if (!strcmp(key, "qdelay_ref"))
			key = "target";
		for (i = 0; ms_keys[i]; i++)
			if (!strcmp(key, ms_keys[i]))
				break;
		strtod(v, &end);
		if (ms_keys[i] && end != v && !*end) {
			snprintf(buf, sizeof(buf), "%sms", v);
			v = buf;
		}
		if (!strcmp(v, "true") || !strcmp(v, "false"))
			json_object_object_add(q, key,
					       json_object_new_boolean(v[0] == 't'));
		else if ((!strcmp(key, "alpha") || !strcmp(key, "beta")) &&
			 end != v && !*end) /* PIE's weights are numbers */
			json_object_object_add(q, key,
					       json_object_new_double(strtod(v, NULL)));
		else
			json_object_object_add(q, key, json_object_new_string(v));
	}
	free(copy);
	return ret;
}

/* The "queue" key of direction d, or NULL when no queue option is given;
 * *ret an exit status on error. */
static json_object *build_queue(const struct shell *s, int d, int *ret)
{
	const struct optval *qo = dir_val(s, d, K_QUEUE),
			    *ao = dir_val(s, d, K_AQM),
			    *args = dir_val(s, d, K_QUEUE_ARGS);
	const struct ctl_cmd *cmd = ctl_find_cmd("shell");
	json_object *q = NULL, *t;
	const char *limit = NULL;
	uint64_t n;
	bool bytes;

	*ret = 0;
	if (!qo->v && !ao->v && !args->v)
		return NULL;
	if (qo->v) {
		if (!strcmp(qo->v, "unlimited"))
			limit = "unlimited";
		else if (!sl_parse_queue(qo->v, &n, &bytes))
			limit = qo->v;
		else if (!(q = queue_type(qo->v))) {
			*ret = ctl_usage_error(cmd,
					       "--%s '%s': expected a size such as 100pkt or 64kb, or a queue type: %s",
					       qo->opt, qo->v, QUEUE_TYPES);
			return NULL;
		}
	}
	if (ao->v) {
		if (!(t = queue_type(ao->v))) {
			*ret = ctl_usage_error(cmd, "--%s '%s': expected %s",
					       ao->opt, ao->v, QUEUE_TYPES);
			json_object_put(q);
			return NULL;
		}
		if (q) {
			json_object_put(t);
			if (strcmp(ao->v, qo->v)) {
				*ret = ctl_usage_error(cmd,
						       "--%s %s and --%s %s name two queue types; expected one",
						       qo->opt, qo->v, ao->opt, ao->v);
				json_object_put(q);
				return NULL;
			}
		} else {
			q = t;
		}
	}
	if (!q && !args->v)
		return json_object_new_string(limit);
	if (!q)
		q = queue_type("droptail");
	if (limit)
		json_object_object_add(q, "limit", json_object_new_string(limit));
	if (args->v && (*ret = queue_args(args, q))) {
		json_object_put(q);
		return NULL;
	}
	return q;
}

/* Appends " word" to a summary. */
static void sum_add(char *buf, size_t len, const char *word)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? " " : "", word);
}

/*
 * The policy of direction d (0 up, 1 down) as JSON text in s->policy[d]
 * (NULL when the direction is a plain wire), and its summary. Returns an
 * exit status.
 */
static int build_policy(struct shell *s, int d)
{
	const struct ctl_cmd *cmd = ctl_find_cmd("shell");
	const struct optval *rate = dir_val(s, d, K_RATE),
			    *trace = dir_val(s, d, K_TRACE), *o;
	char *sum = s->summary[d], buf[PATH_MAX + 8], rp[PATH_MAX];
	size_t sl = sizeof(s->summary[d]);
	json_object *p, *q;
	uint64_t v64;
	uint32_t v32;
	int ret = 0;

	/* A direction's own capacity replaces the shared one. */
	if (s->val[1 + d][K_TRACE].v && !s->val[1 + d][K_RATE].v)
		rate = &s->val[1 + d][K_RATE];
	if (s->val[1 + d][K_RATE].v && !s->val[1 + d][K_TRACE].v)
		trace = &s->val[1 + d][K_TRACE];

	o = dir_val(s, d, K_POLICY);
	if (o->v) {
		p = json_tokener_parse(o->v);
		if (!p || !json_object_is_type(p, json_type_object)) {
			json_object_put(p);
			return ctl_usage_error(cmd,
					       "--%s '%s': expected a JSON object, e.g. '{\"delay\": \"10ms\"}'",
					       o->opt, o->v);
		}
		sum_add(sum, sl, "policy");
	} else {
		p = json_object_new_object();
	}

	if (rate->v && trace->v) {
		ret = ctl_usage_error(cmd,
				      "--%s and --%s: a direction's capacity is a rate or a trace, not both",
				      rate->opt, trace->opt);
		goto out;
	}
	if (rate->v) {
		if (sl_parse_rate(rate->v, &v64)) {
			ret = unit_error(rate, SL_UNIT_RATE);
			goto out;
		}
		json_object_object_add(p, "rate", json_object_new_string(rate->v));
		sum_add(sum, sl, rate->v);
	}
	if (trace->v) {
		/* sluiced reads the file, from its own directory */
		if (!realpath(trace->v, rp)) {
			ret = ctl_usage_error(cmd, "--%s '%s': %s", trace->opt,
					      trace->v, strerror(errno));
			goto out;
		}
		json_object_object_add(p, "trace", json_object_new_string(rp));
		snprintf(buf, sizeof(buf), "trace:%s", basename(rp));
		sum_add(sum, sl, buf);
		if (dir_val(s, d, K_TRACE_ONCE)->v)
			json_object_object_add(p, "trace_once",
					       json_object_new_boolean(1));
	} else if (dir_val(s, d, K_TRACE_ONCE)->v) {
		ret = ctl_usage_error(cmd, "--%s needs a trace (--trace FILE) in the same direction",
				      dir_val(s, d, K_TRACE_ONCE)->opt);
		goto out;
	}
	o = dir_val(s, d, K_DELAY);
	if (o->v) {
		if (sl_parse_time(o->v, &v64)) {
			ret = unit_error(o, SL_UNIT_TIME);
			goto out;
		}
		json_object_object_add(p, "delay", json_object_new_string(o->v));
		sum_add(sum, sl, o->v);
	}
	o = dir_val(s, d, K_JITTER);
	if (o->v) {
		if (sl_parse_time(o->v, &v64)) {
			ret = unit_error(o, SL_UNIT_TIME);
			goto out;
		}
		if (!json_object_object_get_ex(p, "delay", NULL)) {
			ret = ctl_usage_error(cmd, "--%s needs a delay (--delay TIME) in the same direction",
					      o->opt);
			goto out;
		}
		json_object_object_add(p, "jitter", json_object_new_string(o->v));
		snprintf(buf, sizeof(buf), "+-%s", o->v);
		sum_add(sum, sl, buf);
	}
	o = dir_val(s, d, K_LOSS);
	if (o->v) {
		if (sl_parse_fraction(o->v, &v32)) {
			ret = unit_error(o, SL_UNIT_FRACTION);
			goto out;
		}
		json_object_object_add(p, "loss", json_object_new_string(o->v));
		snprintf(buf, sizeof(buf), "loss %s", o->v);
		sum_add(sum, sl, buf);
	}
	q = build_queue(s, d, &ret);
	if (ret)
		goto out;
	if (q) {
		if (!rate->v && !trace->v &&
		    !json_object_object_get_ex(p, "rate", NULL) &&
		    !json_object_object_get_ex(p, "trace", NULL)) {
			json_object_put(q);
			ret = ctl_usage_error(cmd,
					      "a queue option in the %s direction needs --rate or --trace there as well; a queue only fills behind a rate limit",
					      d ? "down" : "up");
			goto out;
		}
		snprintf(buf, sizeof(buf), "queue %s",
			 json_object_is_type(q, json_type_string) ?
				 json_object_get_string(q) :
				 json_object_get_string(
					 json_object_object_get(q, "type")));
		sum_add(sum, sl, buf);
		json_object_object_add(p, "queue", q);
	}
	o = dir_val(s, d, K_SEED);
	if (o->v) {
		char *end;

		errno = 0;
		v64 = strtoull(o->v, &end, 10);
		if (errno || end == o->v || *end || v64 > INT64_MAX) {
			ret = ctl_usage_error(cmd, "--%s '%s': expected a whole number",
					      o->opt, o->v);
			goto out;
		}
		json_object_object_add(p, "seed", json_object_new_int64((int64_t)v64));
	}
	if (json_object_object_length(p)) {
		s->policy[d] = strdup(json_object_to_json_string_ext(
			p, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		if (!s->policy[d])
			ret = CTL_EXIT_FAIL;
	}
	if (!*sum)
		snprintf(sum, sl, "plain");
out:
	json_object_put(p);
	return ret;
}

/*
 * Checks a direction's policy as sluiced will: the kernel path when it
 * can carry it, else a channel of cells (which also reads trace files).
 */
static int check_policy(const struct shell *s, int d)
{
	struct sl_err err = { { 0 } };
	struct sl_channel *ch = NULL;
	struct sl_kpolicy kp;
	int ret;

	if (!s->policy[d])
		return 0;
	ret = sl_kpolicy_from_policy(s->policy[d], UPLINK_MTU, &kp, &err);
	if (ret == -EOPNOTSUPP) {
		sl_err_clear(&err);
		ret = sl_channel_from_policy(s->policy[d], 1, &ch, &err);
		sl_channel_free(ch);
	}
	if (ret)
		return ctl_usage_error(ctl_find_cmd("shell"),
				       "the %s direction (%s): %s",
				       d ? "down" : "up", s->policy[d], err.msg);
	return 0;
}

static char *topology_text(const struct shell *s)
{
	json_object *t = json_object_new_object(), *nodes, *n, *links, *l,
		    *eps, *pol;
	char *text;
	int d;

	json_object_object_add(t, "name", json_object_new_string(s->name));
	nodes = json_object_new_array();
	n = json_object_new_object();
	json_object_object_add(n, "name", json_object_new_string("shell"));
	json_object_object_add(n, "kind", json_object_new_string("host"));
	json_object_array_add(nodes, n);
	n = json_object_new_object();
	json_object_object_add(n, "name", json_object_new_string("gw"));
	json_object_object_add(n, "kind", json_object_new_string("router"));
	json_object_array_add(nodes, n);
	json_object_object_add(t, "nodes", nodes);
	links = json_object_new_array();
	l = json_object_new_object();
	eps = json_object_new_array();
	json_object_array_add(eps, json_object_new_string("shell"));
	json_object_array_add(eps, json_object_new_string("gw"));
	json_object_object_add(l, "endpoints", eps);
	if (s->policy[0] || s->policy[1]) {
		pol = json_object_new_object();
		for (d = 0; d < 2; d++)
			json_object_object_add(pol, d ? "down" : "up",
					       s->policy[d] ?
						       json_tokener_parse(s->policy[d]) :
						       json_object_new_object());
		json_object_object_add(l, "policy", pol);
	}
	json_object_array_add(links, l);
	json_object_object_add(t, "links", links);
	text = strdup(json_object_to_json_string_ext(
		t, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(t);
	return text;
}

/* ---- signals ---- */

/* The first pending INT/TERM/HUP/QUIT, without waiting; 0 when none. */
static int pending_signal(struct shell *s)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	int sig;

	while ((sig = sigtimedwait(&s->sigs, &si, &zero)) > 0) {
		if (sig != SIGCHLD && !s->signal)
			s->signal = sig;
	}
	return s->signal;
}

/* ---- the uplink ---- */

static int run_nft(int netns_fd, const char *rules, bool quiet)
{
	char *argv[] = { "nft", (char *)rules, NULL };
	int status, fd;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &(sigset_t){ 0 }, NULL);
		if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
			_exit(126);
		if (quiet && (fd = open("/dev/null", O_WRONLY)) >= 0)
			dup2(fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status);
}

/* A /31 in UPLINK_SPACE that overlaps no host network and not the
 * topology's pool, starting at a place that depends on our pid so that
 * shells started together look in different places. */
static int pick_uplink(struct shell *s, struct sl_err *err)
{
	struct sl_prefix space, cand, *host = NULL;
	uint64_t slots, start, i;
	size_t n = 0, j;
	int ret;

	ret = sl_nl_host_prefixes(&host, &n, err);
	if (ret)
		return ret;
	sl_prefix_parse(UPLINK_SPACE, &space, false);
	slots = 1ull << (31 - space.len);
	start = ((uint64_t)getpid() * 2654435761u) % slots;
	for (i = 0; i < slots; i++) {
		ret = sl_prefix_add(&space, 2 * ((start + i) % slots), &cand);
		if (ret)
			break;
		cand.len = 31;
		if (sl_prefix_overlap(&cand, &s->pool))
			continue;
		for (j = 0; j < n; j++)
			if (host[j].family == AF_INET &&
			    sl_prefix_overlap(&cand, &host[j]))
				break;
		if (j == n) {
			s->up_host = cand;
			sl_prefix_add(&cand, 1, &s->up_gw);
			s->up_gw.len = 31;
			free(host);
			return 0;
		}
	}
	free(host);
	return sl_err_set(err, EADDRNOTAVAIL,
			  "no free /31 in %s for the uplink to the host",
			  UPLINK_SPACE);
}

/*
 * Sends one request (nlh, built in a buffer of MNL_SOCKET_BUFFER_SIZE) in
 * namespace netns_fd and waits for its ACK. For the two requests that
 * sl_nl has no call for: a route that replaces one, a neighbour entry.
 */
static int nl_one(int netns_fd, struct nlmsghdr *nlh, const char *what,
		  struct sl_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *sock;
	int saved = -1, ret;
	ssize_t n;

	ret = sl_netns_enter(netns_fd, &saved, err);
	if (ret)
		return ret;
	sock = mnl_socket_open(NETLINK_ROUTE);
	ret = sock ? 0 : -errno;
	sl_netns_leave(saved);
	if (ret)
		return sl_err_set(err, -ret, "netlink socket: %s", strerror(-ret));
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
	} else {
		n = mnl_socket_recvfrom(sock, buf, sizeof(buf));
		if (n < 0 || mnl_cb_run(buf, (size_t)n, 1,
					mnl_socket_get_portid(sock), NULL,
					NULL) < 0)
			ret = -errno;
	}
	mnl_socket_close(sock);
	if (ret)
		return sl_err_set(err, -ret, "%s: %s", what, strerror(-ret));
	return 0;
}

/*
 * Replaces gw's default route (the topology routes it towards the shell,
 * its only neighbour) with one via the host.
 */
static int default_via(int netns_fd, const struct sl_prefix *gw, int ifindex,
		       struct sl_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, 4, gw->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_one(netns_fd, nlh, "replace the default route of gw", err);
}

/*
 * A permanent neighbour entry: the emulated link carries no ARP, so the
 * first packet each way costs one trip, not three (ARP across the link,
 * as mm-link's point-to-point TUN devices never need it either). The MACs
 * are the fixed ones of net.h.
 */
static int neigh_add(int netns_fd, int ifindex, const struct sl_prefix *ip,
		     uint32_t node, struct sl_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;
	uint8_t mac[6];

	sl_node_mac(node, 0, mac);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, 4, ip->addr);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return nl_one(netns_fd, nlh, "add a neighbour entry", err);
}

/* Reads the pool and the link's addresses of the topology that is up. */
static int read_addresses(struct shell *s, struct sl_api_client *c)
{
	json_object *req = ctl_new_request("topology"), *res = NULL, *t, *eps;
	const char *pool, *a0, *a1;
	int ret;

	json_object_object_add(req, "name", json_object_new_string(s->name));
	ret = ctl_call(s->ctl, c, req, NULL, NULL, &res);
	json_object_put(req);
	if (ret)
		return ret;
	t = json_object_object_get(res, "topology");
	eps = json_object_object_get(
		json_object_array_get_idx(ctl_jarray(t, "links"), 0),
		"endpoints");
	pool = ctl_jstr(t, "pool", "");
	a0 = ctl_jstr(json_object_array_get_idx(eps, 0), "address", "");
	a1 = ctl_jstr(json_object_array_get_idx(eps, 1), "address", "");
	if (sl_prefix_parse(pool, &s->pool, false) ||
	    sl_prefix_parse(a0, &s->shell_link, false) ||
	    sl_prefix_parse(a1, &s->gw_link, false)) {
		ctl_err("sluiced described topology %s without its addresses (pool '%s', link '%s' '%s')",
			s->name, pool, a0, a1);
		ret = CTL_EXIT_FAIL;
	}
	json_object_put(res);
	return ret;
}

static int uplink_up(struct shell *s, struct sl_err *err)
{
	char ns[128], a[64], rules[1024];
	struct sl_nl *root = NULL, *gw = NULL;
	struct sl_nexthop nh;
	int gwfd = -1, shfd, hi, gi, ei, ret;

	sl_netns_node(s->name, "gw", ns, sizeof(ns));
	gwfd = sl_netns_open(ns, err);
	if (gwfd < 0)
		return gwfd;
	ret = pick_uplink(s, err);
	if (ret)
		goto out;
	root = sl_nl_open(-1, err);
	gw = root ? sl_nl_open(gwfd, err) : NULL;
	if (!gw) {
		ret = -EIO;
		goto out;
	}
	{
		struct sl_veth v = {
			.name = s->host_if, .peer = UPLINK_GW_IF,
			.peer_netns_fd = gwfd, .mtu = UPLINK_MTU, .up = true,
		};

		ret = sl_nl_veth_add(root, &v, 0, err);
		ret = ret ?: sl_nl_flush(root, err);
	}
	if (ret)
		goto out;
	s->veth_made = true;
	hi = sl_nl_ifindex(root, s->host_if, err);
	gi = hi < 0 ? hi : sl_nl_ifindex(gw, UPLINK_GW_IF, err);
	ei = gi < 0 ? gi : sl_nl_ifindex(gw, "eth0", err);
	if (ei < 0) {
		ret = ei;
		goto out;
	}
	ret = sl_nl_addr_add(root, hi, &s->up_host, 0, err);
	ret = ret ?: sl_nl_flush(root, err);
	ret = ret ?: sl_nl_link_set(gw, gi, NULL, true, 0, err);
	ret = ret ?: sl_nl_addr_add(gw, gi, &s->up_gw, 0, err);
	/* back to the shell: the whole pool (only the shell is in it) */
	nh.gw = &s->shell_link;
	nh.ifindex = ei;
	ret = ret ?: sl_nl_route_add(gw, &s->pool, &nh, 1, NULL, 0, err);
	ret = ret ?: sl_nl_flush(gw, err);
	ret = ret ?: default_via(gwfd, &s->up_host, gi, err);
	ret = ret ?: neigh_add(gwfd, ei, &s->shell_link, 0, err);
	if (ret)
		goto out;
	sl_netns_node(s->name, "shell", ns, sizeof(ns));
	shfd = sl_netns_open(ns, err);
	if (shfd < 0) {
		ret = shfd;
		goto out;
	}
	ret = neigh_add(shfd, sl_node_ifindex(0), &s->gw_link, 1, err);
	close(shfd);
	if (ret)
		goto out;
	sl_prefix_str(&s->up_host, s->host_addr, sizeof(s->host_addr), false);

	/* The host answers the address it sees: gw's own, once masqueraded. */
	snprintf(rules, sizeof(rules),
		 "add table ip sluice; "
		 "add chain ip sluice sl_post { type nat hook postrouting priority 100; }; "
		 "add rule ip sluice sl_post oifname \"%s\" masquerade",
		 UPLINK_GW_IF);
	ret = run_nft(gwfd, rules, false);
	if (ret == 127) {
		/* no nft: a route in the root namespace, gone with the veth */
		if (s->ctl->verbose)
			ctl_warn("nft not found; routing %s via the uplink instead of masquerading",
				 sl_prefix_str(&s->pool, a, sizeof(a), true));
		nh.gw = &s->up_gw;
		nh.ifindex = hi;
		ret = sl_nl_route_add(root, &s->pool, &nh, 1, NULL, 0, err);
		ret = ret ?: sl_nl_flush(root, err);
	} else if (ret) {
		ret = sl_err_set(err, EIO, "nft in gw failed (status %d): masquerading on the uplink",
				 ret);
	}
	if (ret || !s->nat_out)
		goto out;

	/* Beyond the host: the root namespace forwards and masquerades. */
	snprintf(rules, sizeof(rules),
		 "add table ip %s; "
		 "add chain ip %s sl_post { type nat hook postrouting priority 100; }; "
		 "add rule ip %s sl_post ip saddr %s oifname != \"%s\" masquerade; "
		 "add chain ip %s sl_fwd { type filter hook forward priority 0; }; "
		 "add rule ip %s sl_fwd iifname \"%s\" accept; "
		 "add rule ip %s sl_fwd oifname \"%s\" ct state established,related accept",
		 s->table, s->table, s->table,
		 sl_prefix_str(&s->up_gw, a, sizeof(a), false), s->host_if,
		 s->table, s->table, s->host_if, s->table, s->host_if);
	ret = run_nft(-1, rules, false);
	if (ret) {
		ret = sl_err_set(err, ret == 127 ? ENOENT : EIO,
				 ret == 127 ? "--nat-out needs nft (Debian package nftables)" :
					      "nft failed (status %d): --nat-out's table in the root namespace",
				 ret);
		goto out;
	}
	s->nat_table = true;
	{
		char v[8] = "";
		int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY);

		if (fd >= 0) {
			if (read(fd, v, sizeof(v) - 1) < 0)
				v[0] = '\0';
			close(fd);
		}
		if (v[0] != '1') {
			ret = sl_sysctl_set("net/ipv4/ip_forward", "1", err);
			s->forward_set = !ret;
		}
	}
out:
	sl_nl_free(gw);
	sl_nl_free(root);
	if (gwfd >= 0)
		close(gwfd);
	return ret;
}

/*
 * Ends the processes still inside the shell's namespace (daemons started
 * from the shell, children of a killed program): the namespace is about to
 * lose every interface, and they would keep it alive, cut off. TERM first,
 * KILL after a second.
 */
static void kill_leftovers(const struct shell *s)
{
	char ns[128], path[300];
	struct stat want, st;
	struct dirent *de;
	int round, found;
	DIR *d;

	sl_netns_node(s->name, "shell", ns, sizeof(ns));
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (stat(path, &want) < 0)
		return;
	for (round = 0; round < 12; round++) {
		found = 0;
		d = opendir("/proc");
		if (!d)
			return;
		while ((de = readdir(d))) {
			char *end;
			long pid = strtol(de->d_name, &end, 10);

			if (*end || pid <= 1 || pid == getpid())
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
			if (stat(path, &st) < 0 || st.st_ino != want.st_ino ||
			    st.st_dev != want.st_dev)
				continue;
			found++;
			if (round == 0 || round == 10)
				kill((pid_t)pid, round ? SIGKILL : SIGTERM);
		}
		closedir(d);
		if (!found)
			return;
		if (round == 0 && s->ctl->verbose)
			fprintf(stderr, "sluicectl: ending %d process%s left in the shell\n",
				found, found == 1 ? "" : "es");
		usleep(100 * 1000);
	}
}

/* Removes what uplink_up() and the bring-up made; quiet about what is
 * already gone. Returns 0 when everything went. */
static int teardown(struct shell *s)
{
	struct sl_err err = { { 0 } };
	struct sl_api_client *c = NULL;
	char rules[96];
	int ret = 0;

	if (s->nat_table) {
		snprintf(rules, sizeof(rules), "delete table ip %s", s->table);
		if (run_nft(-1, rules, false)) {
			ctl_err("cannot remove nft table ip %s; 'nft delete table ip %s' does",
				s->table, s->table);
			ret = -1;
		}
		s->nat_table = false;
	}
	if (s->forward_set) {
		if (sl_sysctl_set("net/ipv4/ip_forward", "0", &err)) {
			ctl_err("cannot turn ip_forward off again: %s", err.msg);
			ret = -1;
		}
		s->forward_set = false;
	}
	if (s->veth_made) {
		struct sl_nl *nl = sl_nl_open(-1, &err);

		if (!nl || sl_nl_link_del(nl, 0, s->host_if, SL_NL_IGNORE_NOENT,
					  &err) ||
		    sl_nl_flush(nl, &err)) {
			ctl_err("cannot remove the uplink %s: %s", s->host_if,
				err.msg);
			ret = -1;
		}
		sl_nl_free(nl);
		s->veth_made = false;
	}
	if (s->topo_up) {
		json_object *req = ctl_new_request("down");

		kill_leftovers(s);

		json_object_object_add(req, "name",
				       json_object_new_string(s->name));
		if (ctl_connect(s->ctl, CTL_CONNECT, &c) ||
		    ctl_call(s->ctl, c, req, NULL, NULL, NULL)) {
			ctl_err("topology %s may still be up; 'sluicectl down %s' removes it",
				s->name, s->name);
			ret = -1;
		}
		json_object_put(req);
		sl_api_close(c);
		s->topo_up = false;
	}
	return ret;
}

/* ---- the program ---- */

static void set_prompt(const struct shell *s)
{
	char prompt[600], *pc = NULL;
	const char *old = getenv("PROMPT_COMMAND");
	size_t i;

	if (!strcmp(s->summary[0], s->summary[1]))
		snprintf(prompt, sizeof(prompt), "[shell %s] ", s->summary[0]);
	else
		snprintf(prompt, sizeof(prompt), "[shell up %s, down %s] ",
			 s->summary[0], s->summary[1]);
	/* bash expands $, ` and \ in prompts: keep plain characters */
	for (i = 0; prompt[i]; i++)
		if (strchr("$`\\!\"'", prompt[i]))
			prompt[i] = '?';
	setenv("SLUICE_PROMPT", prompt, 1);
	/* sh reads PS1 from the environment; bash's rc files usually set
	 * their own, so PROMPT_COMMAND puts the tag in front of it once */
	snprintf(prompt + strlen(prompt), sizeof(prompt) - strlen(prompt),
		 "$ ");
	setenv("PS1", prompt, 1);
	if (asprintf(&pc, "case \"$PS1\" in *\"$SLUICE_PROMPT\"*) ;; *) PS1=\"$SLUICE_PROMPT$PS1\";; esac%s%s",
		     old && *old ? "; " : "", old && *old ? old : "") > 0)
		setenv("PROMPT_COMMAND", pc, 1);
	free(pc);
}

/* Forks `sluicectl exec <topo>:shell -- PROG...`; returns its pid. */
static pid_t start_program(struct shell *s, char **prog, bool interactive)
{
	char self[PATH_MAX], node[64], *argv[16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int argc = 0, i;
	pid_t pid;

	if (n <= 0) {
		ctl_err("cannot find sluicectl itself (/proc/self/exe): %s",
			strerror(errno));
		return -1;
	}
	self[n] = '\0';
	snprintf(node, sizeof(node), "%s:shell", s->name);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ctl_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;

	setenv("SLUICE_SHELL", "1", 1);
	setenv("SLUICE_HOST_ADDR", s->host_addr, 1);
	if (interactive)
		set_prompt(s);
	argv[argc++] = "sluicectl";
	if (s->ctl->socket) {
		argv[argc++] = "--socket";
		argv[argc++] = (char *)s->ctl->socket;
	}
	argv[argc++] = "exec";
	argv[argc++] = node;
	argv[argc++] = "--";
	for (i = 0; prog[i] && argc < 15; i++)
		argv[argc++] = prog[i];
	argv[argc] = NULL;
	if (prog[i]) {
		/* long command lines do not fit argv[16]: build a larger one */
		size_t total = (size_t)argc;
		char **big;

		while (prog[i + (int)(total - (size_t)argc)])
			total++;
		big = calloc(total + 1, sizeof(*big));
		if (!big)
			_exit(126);
		memcpy(big, argv, (size_t)argc * sizeof(*big));
		for (; argc < (int)total; argc++, i++)
			big[argc] = prog[i];
		sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
		execv(self, big);
		_exit(126);
	}
	sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
	execv(self, argv);
	fprintf(stderr, "sluicectl: cannot run %s: %s\n", self, strerror(errno));
	_exit(126);
}

/* Waits for the program, passing signals on; returns its exit status in
 * the shell's way (128 + signal when killed). */
static int wait_program(struct shell *s, pid_t pid)
{
	struct timespec tick = { 0, 200 * 1000 * 1000 }, now, deadline = { 0 };
	siginfo_t si;
	int status, sig;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			ctl_err("waitpid: %s", strerror(errno));
			return CTL_EXIT_FAIL;
		}
		sig = sigtimedwait(&s->sigs, &si, &tick);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (sig > 0 && sig != SIGCHLD) {
			/* the terminal sent INT and QUIT to the program too */
			if (sig == SIGTERM || sig == SIGHUP || si.si_code <= 0)
				kill(pid, sig);
			/* an interactive shell ignores TERM; HUP ends it */
			if (sig == SIGTERM && s->interactive)
				kill(pid, SIGHUP);
			if (!deadline.tv_sec && sig != SIGINT && sig != SIGQUIT)
				deadline.tv_sec = now.tv_sec + KILL_AFTER_S;
		}
		if (deadline.tv_sec && now.tv_sec >= deadline.tv_sec) {
			kill(pid, SIGKILL);
			deadline.tv_sec = now.tv_sec + 3600;
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ---- the command ---- */

int cmd_shell(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	      char **argv)
{
	struct shell s = { .ctl = ctl };
	struct sl_api_client *c = NULL;
	struct sl_err err = { { 0 } };
	struct sl_topo *t = NULL;
	json_object *req, *res = NULL;
	char *text = NULL, *shell_argv[2], **prog, why[128];
	bool interactive, masked = false;
	int o, d, ret, idx;
	pid_t pid;

	optind = 0;
	while ((o = shell_getopt(ctl, cmd, argc, argv)) != -1) {
		if (o >= OPT_KEY_BASE &&
		    o < OPT_KEY_BASE + N_PREFIXES * N_KEYS) {
			static const int dir_of[N_PREFIXES] = { 0, 1, 2, 1, 2 };

			idx = o - OPT_KEY_BASE;
			d = dir_of[idx / N_KEYS];
			s.val[d][idx % N_KEYS].v = optarg ? optarg : "1";
			s.val[d][idx % N_KEYS].opt = make_options()[idx].name;
			continue;
		}
		switch (o) {
		case OPT_NAT_OUT:
			s.nat_out = true;
			break;
		case OPT_NAME:
			if (!ctl_topo_name_ok(optarg, why, sizeof(why)))
				return ctl_usage_error(cmd, "--name '%s': %s",
						       optarg, why);
			snprintf(s.name, sizeof(s.name), "%s", optarg);
			break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	interactive = s.interactive = optind >= argc;
	if (!interactive) {
		prog = argv + optind;
	} else {
		shell_argv[0] = getenv("SHELL");
		if (!shell_argv[0] || !*shell_argv[0])
			shell_argv[0] = "/bin/sh";
		shell_argv[1] = NULL;
		prog = shell_argv;
	}
	if (!*s.name)
		snprintf(s.name, sizeof(s.name), "sh%d", (int)getpid());
	snprintf(s.host_if, sizeof(s.host_if), "slsh%d", (int)getpid());
	snprintf(s.table, sizeof(s.table), "sluice_%s", s.name);

	for (d = 0; d < 2; d++) {
		ret = build_policy(&s, d);
		ret = ret ?: check_policy(&s, d);
		if (ret)
			goto out;
	}
	text = topology_text(&s);
	if (!text) {
		ret = CTL_EXIT_FAIL;
		goto out;
	}
	if (sl_topo_parse(text, strlen(text), "sluicectl shell", &t, &err)) {
		ctl_err("%s", err.msg);
		ret = CTL_EXIT_USAGE;
		goto out;
	}
	if (geteuid() != 0) {
		ctl_err("sluicectl shell needs root: it creates network namespaces and interfaces");
		ret = CTL_EXIT_FAIL;
		goto out;
	}

	/* Connected (a daemon we start must not inherit a blocked mask),
	 * from here on every signal waits for us between steps. */
	ret = ctl_connect(ctl, CTL_START, &c);
	if (ret)
		goto out;
	sigemptyset(&s.sigs);
	sigaddset(&s.sigs, SIGINT);
	sigaddset(&s.sigs, SIGTERM);
	sigaddset(&s.sigs, SIGHUP);
	sigaddset(&s.sigs, SIGQUIT);
	sigaddset(&s.sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s.sigs, &s.oldmask);
	masked = true;

	req = ctl_new_request("up");
	json_object_object_add(req, "topology", json_object_new_string(text));
	json_object_object_add(req, "source",
			       json_object_new_string("sluicectl shell"));
	ret = ctl_call(ctl, c, req, NULL, NULL, &res);
	json_object_put(req);
	json_object_put(res);
	if (ret)
		goto out;
	s.topo_up = true;
	if (pending_signal(&s))
		goto out;
	ret = read_addresses(&s, c);
	sl_api_close(c);
	c = NULL;
	if (ret)
		goto out;
	if (uplink_up(&s, &err)) {
		ctl_err("%s: %s", s.name, err.msg);
		ret = CTL_EXIT_FAIL;
		goto out;
	}
	if (pending_signal(&s))
		goto out;

	if (ctl->verbose)
		fprintf(stderr,
			"sluicectl: topology %s, uplink %s (%s) <-> gw %s, nat-out %s\n",
			s.name, s.host_if, s.host_addr, UPLINK_GW_IF,
			s.nat_out ? "on" : "off");
	if (interactive && !ctl->quiet) {
		if (!strcmp(s.summary[0], s.summary[1]))
			fprintf(stderr, "sluicectl: shell %s, both directions %s\n",
				s.name, s.summary[0]);
		else
			fprintf(stderr, "sluicectl: shell %s, up %s, down %s\n",
				s.name, s.summary[0], s.summary[1]);
		fprintf(stderr,
			"sluicectl: the host is %s ($SLUICE_HOST_ADDR); leave the shell to remove it all\n",
			s.host_addr);
	}
	pid = start_program(&s, prog, interactive);
	if (pid < 0) {
		ret = CTL_EXIT_FAIL;
		goto out;
	}
	ret = wait_program(&s, pid);
out:
	sl_api_close(c);
	if (teardown(&s) && !ret)
		ret = CTL_EXIT_FAIL;
	if (masked) {
		/* a signal that stopped the bring-up (or came during the
		 * teardown) is our exit status, as a shell reports it */
		if (pending_signal(&s) && !ret)
			ret = 128 + s.signal;
		sigprocmask(SIG_SETMASK, &s.oldmask, NULL);
	}
	sl_topo_free(t);
	free(text);
	free(s.policy[0]);
	free(s.policy[1]);
	return ret;
}
