// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * recovery.c - what sluiced finds under its rundir when it starts, and the
 * list of live topologies.
 *
 * A topology whose journal ends with "commit" was fully up when the previous
 * daemon stopped: it is re-adopted, so a daemon restart never disturbs a
 * running experiment; so are its relay chains (relays_adopt.c). Anything
 * else (a bring-up killed half way) is rolled back from its journal, so no
 * namespace, interface, pin or relay process leaks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/journal.h>
#include <sluice/log.h>

#include "sluiced.h"

int daemon_add_net(struct daemon *d, struct sl_net *n)
{
	struct sl_net **v = realloc(d->nets, (d->n_nets + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	d->nets = v;
	d->nets[d->n_nets++] = n;
	return 0;
}

void daemon_remove_net(struct daemon *d, struct sl_net *n)
{
	size_t i;

	for (i = 0; i < d->n_nets; i++) {
		if (d->nets[i] == n) {
			memmove(&d->nets[i], &d->nets[i + 1],
				(d->n_nets - i - 1) * sizeof(*d->nets));
			d->n_nets--;
			return;
		}
	}
}

struct sl_net *daemon_find_net(struct daemon *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_nets; i++)
		if (!strcmp(d->nets[i]->topo->name, name))
			return d->nets[i];
	return NULL;
}

void recover_topologies(struct daemon *d)
{
	char **names = NULL;
	size_t n = 0, i;

	if (sl_net_list_dirs(d->rundir, &names, &n))
		return;
	for (i = 0; i < n; i++) {
		char journal[600];
		struct sl_net *net = NULL;
		struct sl_err err = { "" };
		unsigned removed = 0;

		snprintf(journal, sizeof(journal), "%s/topo/%s/journal",
			 d->rundir, names[i]);
		if (sl_journal_committed(journal)) {
			if (!sl_net_adopt(d->rundir, names[i], d->dp, &net, &err) &&
			    !daemon_add_net(d, net)) {
				pr_info("re-adopted topology %s (%u nodes, %u links)",
					names[i], net->topo->n_nodes,
					net->topo->n_links);
				relays_adopt(d, net);
				continue;
			}
			sl_net_free(net);
			pr_warn("cannot re-adopt topology %s: %s; removing it",
				names[i], err.msg);
		} else {
			pr_warn("topology %s was not fully up when sluiced "
				"stopped; rolling it back", names[i]);
		}
		if (sl_net_destroy(d->rundir, names[i], &removed, &err))
			pr_err("rollback of %s: %s", names[i], err.msg);
		else
			pr_info("removed %u objects of topology %s", removed,
				names[i]);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
