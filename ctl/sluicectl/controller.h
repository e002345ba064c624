/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller.h - what the files of `sluicectl --controller URL` share:
 * cmd_controller.c (the requests, up, down, and cmd_remote(), which
 * dispatches to the others), cmd_controller_list.c (list, hosts, stats),
 * cmd_controller_policy.c (policy set, link set) and cmd_remote_relay.c
 * (relay). The rest of sluicectl sees the cmd_controller.c part of
 * sluicectl.h.
 */
#ifndef SLUICECTL_CONTROLLER_H
#define SLUICECTL_CONTROLLER_H

#include "sluicectl.h"

/* The commands' own options, numbered on from REMOTE_OPTS. */
enum {
	RO_HOST = RO_CACERT + 1,
	RO_TIMEOUT,
	RO_NO_WAIT,
	RO_DIR,
};

/* The commands cmd_remote() runs besides up and down (argv[0] the
 * command name); each returns an exit status. */
int cmd_remote_list(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		    char **argv);
int cmd_remote_hosts(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		     char **argv);
int cmd_remote_stats(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		     char **argv);
int cmd_remote_policy(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		      char **argv);
/* `link set A B SETTING...`: the settings become one PUT /api/policy. */
int cmd_remote_link(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		    char **argv);
/* cmd_remote_relay.c: relay add|del|list as relay rows at the controller. */
int cmd_remote_relay(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
		     char **argv);

#endif
