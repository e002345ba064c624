/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relays.h - the relay chains of sluiced, shared by relays.c (start, stop,
 * list, reap) and relays_adopt.c (the state file, and re-adoption after a
 * restart of sluiced). The rest of the daemon sees sluiced.h's functions.
 *
 * Invariants: ids are unique among all chains of the daemon, and above
 * every id re-adopted; a hop with pid 0 has ended (and its pid is never
 * signalled again); a hop with pidfd >= 0 is not a child of this daemon
 * (it was started by an earlier one), so it is stopped and watched
 * through its pidfd instead of waitpid().
 */
#ifndef SLUICED_RELAYS_H
#define SLUICED_RELAYS_H

#include <stdint.h>
#include <sys/types.h>

#include <sluice/topo.h>

#include "sluiced.h"

#define RELAY_HOPS_MAX 16
#define RELAY_STATE_NAME "relays.json"

struct relay_hop {
	pid_t pid;                /* 0: ended (reaped) */
	unsigned long long start; /* its start time, /proc/PID/stat field 22 */
	int pidfd;                /* -1 for a child of this daemon */
	char node[SL_NAME_MAX];
	char listen[32];          /* "*:9000" */
	char to[96];              /* "10.0.0.3:9000"; "" for a SOCKS5 front */
};

struct relay {
	unsigned id;
	char topo[SL_TOPO_NAME_MAX];
	char spec[256]; /* for list: "h1:9000 -> r1 -> r2 -> h3:5201" */
	char mode[16];
	unsigned n;
	/* In the order they were started: the last hop of the chain first. */
	struct relay_hop hop[RELAY_HOPS_MAX];
	/* The controller's relay row this one carries (agent_rows.c), and
	 * its version; ctl_id -1 for relays made through the local API. */
	int64_t ctl_id, ctl_version;
};

extern struct relay *relays;
extern size_t n_relays;
extern unsigned relay_next_id;

/* relays.c */
/* The arguments a hop runs with, argv[0] being bin; NULL-terminated.
 * Starting a hop and recognising it later use this one list. */
void relay_hop_argv(const char *bin, const char *ns, const char *mode,
		    const struct relay_hop *h, const char *argv[12]);
/* Start time of a process (0: no such process). */
unsigned long long relay_proc_start(pid_t pid);
/* Stops a hop (SIGTERM, then SIGKILL after a second) and forgets it. */
void relay_hop_stop(struct relay_hop *h);
/* Appends r to the list; -ENOMEM. */
int relay_append(const struct relay *r);

/* relays_adopt.c */
/* Writes the chains of topology topo to its state file (logs failures). */
void relays_save(struct daemon *d, const char *topo);
/* Watches an adopted hop's pidfd (relays_fd() becomes readable when it
 * ends). */
void relay_watch(struct relay_hop *h);

#endif
