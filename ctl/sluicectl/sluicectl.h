/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sluicectl.h - what the files of sluicectl share: the global options, the
 * command table entry, exit statuses, and the helpers of output.c and
 * daemon.c. Each cmd_*.c file implements one group of commands.
 */
#ifndef SLUICECTL_H
#define SLUICECTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include <sluice/api_client.h>
#include <sluice/err.h>

#include <sluice/version.h>

/* Exit statuses (the man page's EXIT STATUS). */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,  /* runtime failure, daemon error */
	CTL_EXIT_USAGE = 2, /* bad usage, invalid input, daemon "invalid" */
};

/* Global options, given before or after the command. */
struct ctl {
	const char *socket; /* --socket; NULL: $SLUICE_SOCKET or the default */
	bool json;
	bool quiet;
	int verbose;
	/* --controller URL or $SLUICE_CONTROLLER: up, down, list, link set,
	 * relay, stats, hosts, policy go to sluice-controller
	 * (cmd_controller*.c, cmd_remote_relay.c) */
	const char *controller;
	bool controller_env; /* from $SLUICE_CONTROLLER, not a flag */
	const char *token;   /* --token or $SLUICE_TOKEN */
	const char *cacert;  /* --cacert: https CA bundle */
	bool insecure;       /* --insecure: https without certificate checks */
};

struct ctl_cmd {
	const char *name;
	int (*run)(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		   char **argv); /* argv[0] is the command name */
	const char *synopsis; /* after "sluicectl ", may span lines */
	const char *summary;  /* one line for the command list */
	const char *help;     /* description, options, examples */
	/* more help generated from data (gen's generators, link's settings) */
	void (*help_extra)(FILE *f);
};

/* main.c */
const struct ctl_cmd *ctl_find_cmd(const char *name);
void ctl_print_commands(FILE *f);

/* The commands (cmd_topo.c, cmd_link.c, cmd_exec.c, cmd_gen.c). */
int cmd_up(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv);
int cmd_down(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv);
int cmd_list(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv);
int cmd_nodes(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	      char **argv);
int cmd_links(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	      char **argv);
int cmd_status(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	       char **argv);
int cmd_link(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv);
int cmd_exec(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv);
int cmd_ping(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv);
int cmd_gen(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv);
int cmd_help(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv);
int cmd_cells(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv);
int cmd_relay(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv);
int cmd_stats(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv);
int cmd_flow(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv);
/* cmd_shell.c */
int cmd_shell(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv);
void cmd_gen_help(FILE *f);

/* cmd_controller.c: the commands through sluice-controller's REST API
 * (the files of that part share controller.h). cmd_remote runs up, down,
 * list, link, relay through the controller, and stats, hosts, policy
 * (which exist only there). */
int cmd_remote(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	       char **argv);
/* Whether cmd (argv[0] its name) goes to a controller: one is configured
 * or --controller is among its words. */
bool ctl_remote_wanted(const struct ctl *ctl, const struct ctl_cmd *cmd,
		       int argc, char **argv);

/* The controller options, accepted by every command that goes there: put
 * REMOTE_OPTS in its getopt table and let ctl_remote_opt() take them. */
enum {
	RO_CONTROLLER = 0x2000,
	RO_TOKEN,
	RO_INSECURE,
	RO_CACERT,
};
#define REMOTE_OPTS                                                       \
	{ "controller", required_argument, NULL, RO_CONTROLLER },         \
	{ "token", required_argument, NULL, RO_TOKEN },                   \
	{ "insecure", no_argument, NULL, RO_INSECURE },                   \
	{ "cacert", required_argument, NULL, RO_CACERT }
/* Applies a controller option; false when o is not one. */
bool ctl_remote_opt(struct ctl *ctl, int o);
/*
 * One request to the controller's REST API; prints any error (the
 * controller's own message). Returns an exit status (2xx: 0, 400: 2, else
 * 1); on success *reply is the answer (maybe NULL), which the caller puts.
 */
int ctl_rest(struct ctl *ctl, const char *method, const char *path,
	     json_object *body, json_object **reply);
/* GET of a listing: with --json prints the answer and leaves *res NULL;
 * else *res is the answer (the caller puts it) and *arr its array `key`
 * (NULL when absent). Returns an exit status as ctl_rest. */
int ctl_rest_list(struct ctl *ctl, const char *path, const char *key,
		  json_object **res, json_object **arr);
/* The topology at the controller that has node a, when exactly one has
 * it; else prints why and returns CTL_EXIT_FAIL. */
int ctl_remote_find_topology(struct ctl *ctl, const char *a, char *out,
			     size_t len);
void cmd_link_help(FILE *f);

/* output.c: messages, usage errors, option parsing, tables, JSON. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "sluicectl: <msg>", the command's usage and the --help hint;
 * returns CTL_EXIT_USAGE. cmd NULL: the global usage. */
int ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ctl_print_usage(FILE *f, const struct ctl_cmd *cmd);
void ctl_print_help(const struct ctl_cmd *cmd);

#define CTL_OPT_HELP 'h'
#define CTL_OPT_ERROR (-2)
/*
 * getopt_long for a command: the global options (--json, -q, -v,
 * --socket) are accepted among the command's own and applied to ctl;
 * --help/-h returns CTL_OPT_HELP; an unknown option or a missing argument
 * prints a usage error and returns CTL_OPT_ERROR. Reset optind = 0 before
 * the first call. A shortopts starting with '+' stops at the first operand.
 */
int ctl_getopt(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	       char **argv, const char *shortopts,
	       const struct option *longopts);

struct ctl_table;
struct ctl_table *ctl_table_new(unsigned int ncols, const char *const *head);
/* Adds a row of ncols strings (copied; NULL prints "-"). */
int ctl_table_add(struct ctl_table *t, const char *const *cells);
void ctl_table_print(const struct ctl_table *t, FILE *f);
void ctl_table_free(struct ctl_table *t);

void ctl_print_json(json_object *o);
/* "42s", "3m05s", "2h07m", "4d03h". */
const char *ctl_fmt_age(int64_t secs, char *buf, size_t len);

/* Accessors that tolerate missing members and wrong types. */
const char *ctl_jstr(json_object *o, const char *key, const char *dflt);
int64_t ctl_jint(json_object *o, const char *key, int64_t dflt);
double ctl_jdouble(json_object *o, const char *key, double dflt);
json_object *ctl_jarray(json_object *o, const char *key);

/* Checks a topology name (topo.h's rule); fills why on failure. */
bool ctl_topo_name_ok(const char *name, char *why, size_t len);

/* daemon.c: talking to sluiced. */
enum ctl_connect_how {
	CTL_CONNECT, /* no daemon is an error */
	CTL_START,   /* no daemon: start one in the background (up) */
	CTL_PROBE,   /* no daemon: return CTL_NO_DAEMON, print nothing */
};
#define CTL_NO_DAEMON (-1)
/*
 * Connects to sluiced. Prints errors itself; returns an exit status
 * (CTL_EXIT_OK with *out set) or CTL_NO_DAEMON (CTL_PROBE only).
 */
int ctl_connect(struct ctl *ctl, enum ctl_connect_how how,
		struct sl_api_client **out);
/* One call; prints a daemon or transport error. Returns an exit status:
 * CTL_EXIT_USAGE for the daemon code "invalid", CTL_EXIT_FAIL for others. */
int ctl_call(struct ctl *ctl, struct sl_api_client *c, json_object *req,
	     sl_api_progress_fn *progress, void *arg, json_object **result);
/* Connect (never starting a daemon), call, close. Takes req. */
int ctl_request(struct ctl *ctl, json_object *req, json_object **result);
/* A request with only an optional topology name ("list", "flow_list"...). */
int ctl_query(struct ctl *ctl, const char *what, const char *name,
	      json_object **res);
/* A request object {"cmd": cmd}. */
json_object *ctl_new_request(const char *cmd);

/* Progress display for long calls (up): an updating line on a terminal,
 * one line per message with -v otherwise, nothing with -q. */
struct ctl_progress {
	bool tty;
	bool lines;
	bool shown; /* a partial line is on the terminal */
	int64_t last_ms;
};
void ctl_progress_init(struct ctl_progress *p, const struct ctl *ctl);
void ctl_progress_cb(json_object *progress, void *arg);
void ctl_progress_end(struct ctl_progress *p);

#endif
