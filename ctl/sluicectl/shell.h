/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shell.h - what the two files of `sluicectl shell` share: cmd_shell.c
 * (options, the policy, the topology, the program and signals) and
 * shell_uplink.c (joining the topology's gw node to the host).
 */
#ifndef SLUICECTL_SHELL_H
#define SLUICECTL_SHELL_H

#include <net/if.h>
#include <stdbool.h>

#include <sluice/err.h>
#include <sluice/topo.h>

#define SHELL_GW_IF "up0" /* gw's end of the uplink */

/* shell_policy.c: the link options of a direction. Each is an option
 * with an "up-" and a "down-" form (and mm-link's "uplink-", "downlink-"). */
enum shell_key {
	SHELL_RATE,
	SHELL_DELAY,
	SHELL_JITTER,
	SHELL_LOSS,
	SHELL_QUEUE,
	SHELL_QUEUE_ARGS,
	SHELL_AQM,
	SHELL_TRACE,
	SHELL_TRACE_ONCE,
	SHELL_SEED,
	SHELL_POLICY,
	SHELL_N_KEYS,
};
extern const char *const shell_key_name[SHELL_N_KEYS]; /* "queue-args" */

struct shell_optval {
	const char *v;   /* NULL: not given */
	const char *opt; /* the option as written, for messages */
};

struct shell_policy {
	struct shell_optval val[3][SHELL_N_KEYS]; /* [0] both, [1] up, [2] down */
	char summary[2][256]; /* per direction ("12mbit 20ms"), never empty
			       * after shell_policy_build() */
	char *policy[2];      /* JSON text, NULL: a plain wire */
};

/* Builds direction d's (0 up, 1 down) policy and summary from the options;
 * a bad option is a usage error. Returns an exit status. */
int shell_policy_build(struct shell_policy *p, int d);
/* Checks direction d's policy as sluiced will build it (kernel path, else
 * cells; trace files are read). Returns an exit status. */
int shell_policy_check(const struct shell_policy *p, int d);
void shell_policy_free(struct shell_policy *p);

/* shell_uplink.c */

struct shell_uplink {
	/* given */
	const char *topo;       /* the topology's name */
	char host_if[IFNAMSIZ]; /* the root namespace's end of the uplink */
	char table[48];         /* the NAT beyond the host: its nft table */
	bool nat_out;           /* NAT beyond the host (the default) */
	bool nat_asked;         /* --nat-out given: no nft is an error */
	bool verbose;
	struct sl_prefix pool;  /* the topology's IPv4 pool */
	struct sl_prefix shell_link, gw_link; /* the emulated link's ends */
	/* made: the uplink's /31, the host's end even */
	struct sl_prefix up_host, up_gw;
	char host_addr[64];     /* up_host without its length */
	/* what exists, for shell_uplink_down() */
	bool veth_made, nat_table;
};

/* Builds the uplink of a topology that is up; on failure what was made is
 * recorded in u for shell_uplink_down(). */
int shell_uplink_up(struct shell_uplink *u, struct sl_err *err);
/* Removes what shell_uplink_up() made; prints what it could not remove
 * and returns -1 then, else 0. */
int shell_uplink_down(struct shell_uplink *u);
/* Ends the processes left inside the shell node of topology topo (TERM,
 * then KILL after a second). */
void shell_end_processes(const char *topo, bool verbose);

#endif
