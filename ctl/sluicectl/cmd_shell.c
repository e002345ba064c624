// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_shell.c - `sluicectl shell`: one program behind one emulated link, as
 * mahimahi's mm-link and mm-delay or Rattan's `rattan link` do it.
 *
 * What is built, in this order, and removed in the reverse order on every
 * way out (the program's end, a signal, a failed step):
 *
 *   1. a topology "sh<pid>" of two nodes, "shell" (host) and "gw" (router),
 *      and one link shell-gw carrying the policy ("up" is shell -> gw; the
 *      policies come from shell_policy.c), brought up by sluiced like
 *      `sluicectl up` (the daemon picks the kernel path or the user-space
 *      dataplane for the link);
 *   2. the uplink from the host into gw, with masquerading there, and
 *      beyond the host (NAT in the root namespace, as mahimahi does; not
 *      with --no-nat-out) (shell_uplink.c);
 *   3. the program, run through `sluicectl exec <topo>:shell` as our child
 *      with the terminal, and waited for; what it leaves running in the
 *      shell is ended before the topology goes.
 *
 * Signals (INT, TERM, HUP, QUIT) stay blocked in this process and are taken
 * with sigtimedwait(), so a daemon call is never interrupted half way: a
 * signal during bring-up stops it after the current step; while the program
 * runs, TERM and HUP (and INT, QUIT sent by kill rather than the terminal,
 * which already sent them to the program) are passed on to it, and if it is
 * still there KILL_AFTER_S seconds later it is killed.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sluice/topo.h>

#include "shell.h"
#include "sluicectl.h"

#define KILL_AFTER_S 5

/* Option prefixes; PX_BOTH applies to both directions. */
enum { PX_BOTH, PX_UP, PX_DOWN, PX_UPLINK, PX_DOWNLINK, N_PREFIXES };
static const char *const prefix_name[N_PREFIXES] = {
	"", "up-", "down-", "uplink-", "downlink-",
};

enum {
	OPT_NAT_OUT = 0x100,
	OPT_NO_NAT_OUT,
	OPT_NAME,
	OPT_G_JSON,
	OPT_G_SOCKET,
	OPT_KEY_BASE = 0x200, /* + prefix * SHELL_N_KEYS + key */
};

struct shell {
	struct ctl *ctl;
	struct shell_policy pol;
	bool nat_out;   /* NAT beyond the host (the default) */
	bool nat_asked; /* --nat-out given */
	bool interactive; /* the default shell, not a given command */
	char name[32];

	bool topo_up; /* for the teardown */
	struct shell_uplink up;

	sigset_t sigs, oldmask;
	int signal; /* first signal taken during bring-up or teardown */
};

/*
 * Options: every prefix with every key, the command's own and the global
 * ones (ctl_getopt() merges into a table too small for this many).
 */
static struct option *make_options(void)
{
	static char names[N_PREFIXES * SHELL_N_KEYS][32];
	static struct option opts[N_PREFIXES * SHELL_N_KEYS + 10];
	int p, k, i = 0;

	if (opts[0].name)
		return opts;
	for (p = 0; p < N_PREFIXES; p++)
		for (k = 0; k < SHELL_N_KEYS; k++, i++) {
			snprintf(names[i], sizeof(names[i]), "%s%s",
				 prefix_name[p], shell_key_name[k]);
			opts[i].name = names[i];
			opts[i].has_arg = k == SHELL_TRACE_ONCE ? no_argument :
							      required_argument;
			opts[i].val = OPT_KEY_BASE + i;
		}
	opts[i++] = (struct option){ "nat-out", no_argument, NULL, OPT_NAT_OUT };
	opts[i++] = (struct option){ "no-nat-out", no_argument, NULL, OPT_NO_NAT_OUT };
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
	if (s->pol.policy[0] || s->pol.policy[1]) {
		pol = json_object_new_object();
		for (d = 0; d < 2; d++)
			json_object_object_add(pol, d ? "down" : "up",
					       s->pol.policy[d] ?
						       json_tokener_parse(s->pol.policy[d]) :
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
	if (sl_prefix_parse(pool, &s->up.pool, false) ||
	    sl_prefix_parse(a0, &s->up.shell_link, false) ||
	    sl_prefix_parse(a1, &s->up.gw_link, false)) {
		ctl_err("sluiced described topology %s without its addresses (pool '%s', link '%s' '%s')",
			s->name, pool, a0, a1);
		ret = CTL_EXIT_FAIL;
	}
	json_object_put(res);
	return ret;
}

/* Removes the uplink, the processes left in the shell and the topology;
 * quiet about what is already gone. Returns 0 when everything went. */
static int teardown(struct shell *s)
{
	struct sl_api_client *c = NULL;
	int ret = 0;

	if (shell_uplink_down(&s->up))
		ret = -1;
	if (s->topo_up) {
		json_object *req = ctl_new_request("down");

		shell_end_processes(s->name, s->ctl->verbose);
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

	if (!strcmp(s->pol.summary[0], s->pol.summary[1]))
		snprintf(prompt, sizeof(prompt), "[shell %s] ", s->pol.summary[0]);
	else
		snprintf(prompt, sizeof(prompt), "[shell up %s, down %s] ",
			 s->pol.summary[0], s->pol.summary[1]);
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
	char self[PATH_MAX], node[64], **argv;
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
	for (i = 0; prog[i]; i++)
		;
	argv = calloc((size_t)i + 8, sizeof(*argv));
	if (!argv) {
		ctl_err("out of memory");
		return -1;
	}
	argv[argc++] = "sluicectl";
	if (s->ctl->socket) {
		argv[argc++] = "--socket";
		argv[argc++] = (char *)s->ctl->socket;
	}
	argv[argc++] = "exec";
	argv[argc++] = node;
	argv[argc++] = "--";
	for (i = 0; prog[i]; i++)
		argv[argc++] = prog[i];
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		ctl_err("fork: %s", strerror(errno));
	if (pid != 0) {
		free(argv);
		return pid;
	}
	setenv("SLUICE_SHELL", "1", 1);
	setenv("SLUICE_HOST_ADDR", s->up.host_addr, 1);
	if (interactive)
		set_prompt(s);
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
	struct shell s = { .ctl = ctl, .nat_out = true };
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
		    o < OPT_KEY_BASE + N_PREFIXES * SHELL_N_KEYS) {
			static const int dir_of[N_PREFIXES] = { 0, 1, 2, 1, 2 };

			idx = o - OPT_KEY_BASE;
			d = dir_of[idx / SHELL_N_KEYS];
			s.pol.val[d][idx % SHELL_N_KEYS].v = optarg ? optarg : "1";
			s.pol.val[d][idx % SHELL_N_KEYS].opt = make_options()[idx].name;
			continue;
		}
		switch (o) {
		case OPT_NAT_OUT:
			s.nat_out = s.nat_asked = true;
			break;
		case OPT_NO_NAT_OUT:
			s.nat_out = s.nat_asked = false;
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
	snprintf(s.up.host_if, sizeof(s.up.host_if), "slsh%d", (int)getpid());
	s.up.topo = s.name;
	s.up.nat_out = s.nat_out;
	s.up.nat_asked = s.nat_asked;
	s.up.verbose = ctl->verbose > 0;
	snprintf(s.up.table, sizeof(s.up.table), "sluice_%s", s.name);

	for (d = 0; d < 2; d++) {
		ret = shell_policy_build(&s.pol, d);
		ret = ret ?: shell_policy_check(&s.pol, d);
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
	if (shell_uplink_up(&s.up, &err)) {
		ctl_err("%s: %s", s.name, err.msg);
		ret = CTL_EXIT_FAIL;
		goto out;
	}
	if (pending_signal(&s))
		goto out;

	if (ctl->verbose)
		fprintf(stderr,
			"sluicectl: topology %s, uplink %s (%s) <-> gw %s, nat-out %s\n",
			s.name, s.up.host_if, s.up.host_addr, SHELL_GW_IF,
			s.up.nat_table ? "on" : "off");
	if (interactive && !ctl->quiet) {
		if (!strcmp(s.pol.summary[0], s.pol.summary[1]))
			fprintf(stderr, "sluicectl: shell %s, both directions %s\n",
				s.name, s.pol.summary[0]);
		else
			fprintf(stderr, "sluicectl: shell %s, up %s, down %s\n",
				s.name, s.pol.summary[0], s.pol.summary[1]);
		fprintf(stderr,
			"sluicectl: the host is %s ($SLUICE_HOST_ADDR)%s; leave the shell to remove it all\n",
			s.up.host_addr,
			s.up.nat_table ? ", NAT beyond it" : ", nothing beyond it");
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
	shell_policy_free(&s.pol);
	return ret;
}
