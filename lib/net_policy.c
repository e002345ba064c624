// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * net_policy.c - where each link of a live topology runs, and changing it.
 *
 * A link runs either in the kernel (max mode: the fabric program's policer
 * and loss, sch_tbf shapers on the sending interfaces) or in the user-space
 * dataplane (normal mode: AF_XDP sockets on both fabric ports and a channel
 * of cells per direction). sl_link_plan() decides from the link's mode and
 * policies; sl_net_link_policy() applies a new policy to a live link, moving
 * it between the two when the new policy asks for it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include <sluice/addr.h>
#include <sluice/dataplane.h>
#include <sluice/fabric.h>
#include <sluice/xsk.h>

#include "net_int.h"

int sl_link_plan(const struct sl_topo *t, uint32_t l, bool have_dp,
		 int dir, const char *override, struct sl_link_plan *out,
		 struct sl_err *err)
{
	const struct sl_link *lk = &t->links[l];
	const char *src = t->source ? t->source : t->name;
	int d, ret = 0;

	memset(out, 0, sizeof(*out));
	if (lk->mode != SL_MODE_NORMAL) {
		for (d = 0; d < 2 && !ret; d++)
			ret = sl_kpolicy_from_policy(d == dir ? override :
						     lk->policy[d], lk->mtu,
						     &out->kp[d], err);
		if (!ret)
			return 0;
		if (ret != -EOPNOTSUPP || lk->mode == SL_MODE_MAX) {
			sl_err_prefix(err, "%s: links[%u] (%s-%s) direction %s%s",
				      src, l, t->nodes[lk->ep[0].node].name,
				      t->nodes[lk->ep[1].node].name,
				      d - 1 ? "down" : "up",
				      lk->mode == SL_MODE_MAX ? " (mode max)" : "");
			return ret;
		}
	}
	/* Normal mode: the cells do everything. */
	memset(out, 0, sizeof(*out));
	out->normal = true;
	if (!have_dp)
		return sl_err_set(err, EOPNOTSUPP,
				  "%s: links[%u] (%s-%s) needs the user-space dataplane "
				  "(normal mode), which is not running", src, l,
				  t->nodes[lk->ep[0].node].name,
				  t->nodes[lk->ep[1].node].name);
	return 0;
}

int sl_net_save_model(const struct sl_net *n, struct sl_err *err)
{
	char path[300], *text = sl_topo_to_json(n->topo, true);
	int ret;

	snprintf(path, sizeof(path), "%s/topology.json", n->dir);
	ret = text ? sl_net_write_file(path, text, err) :
		     sl_err_set(err, ENOMEM, "out of memory");
	free(text);
	return ret;
}

/* The shapers of both directions of a link, as plan p says (none when
 * normal). old says which existed. */
static int set_shapers(struct sl_net *n, uint32_t link,
		       const struct sl_link_plan *p, const struct sl_link_plan *old,
		       struct sl_err *err)
{
	const struct sl_link *lk = &n->topo->links[link];
	int d, ret = 0;

	for (d = 0; d < 2 && !ret; d++) {
		const struct sl_shaper *sh = &p->kp[d].shaper;
		const struct sl_endpoint *ep = &lk->ep[d];
		struct sl_nl *nl;
		int ifi = sl_node_ifindex(ep->ifidx);

		if (!sh->rate_bps && !old->kp[d].shaper.rate_bps)
			continue;
		nl = sl_net_node_nl(n, ep->node, err);
		if (!nl)
			return -EIO;
		/* tbf_change keeps the queued packets. */
		ret = sh->rate_bps ? sl_nl_qdisc_tbf(nl, ifi, sh->rate_bps, sh->burst,
						     sh->limit, err) :
				     sl_nl_qdisc_del_root(nl, ifi, err);
		ret = ret ?: sl_nl_flush(nl, err);
		sl_nl_free(nl);
	}
	return ret;
}

/* Moves a max-mode link to the dataplane. */
static int to_normal(struct sl_net *n, uint32_t link, const char *pol[2],
		     const struct sl_link_plan *old, struct sl_err *err)
{
	const struct sl_link *lk = &n->topo->links[link];
	struct sl_link_plan none = { 0 };
	char ns[128];
	int d, fd, ret;

	ret = set_shapers(n, link, &none, old, err);
	for (d = 0; d < 2 && !ret; d++)
		ret = sl_kpolicy_apply(n->fabric, link, (uint32_t)d, &none.kp[d], err);
	{
		int nfd[2] = { -1, -1 };
		const char *ifn[2] = { lk->ep[0].ifname, lk->ep[1].ifname };

		for (d = 0; d < 2 && !ret; d++) {
			sl_netns_node(n->topo->name,
				      n->topo->nodes[lk->ep[d].node].name, ns,
				      sizeof(ns));
			nfd[d] = sl_netns_open(ns, err);
			if (nfd[d] < 0) {
				ret = nfd[d];
				break;
			}
			ret = sl_xsk_prepare_node_if(nfd[d], lk->ep[d].ifname,
						     SL_XSK_NODE_TXCSUM_OFF, err);
		}
		if (!ret)
			sl_net_steer_link(n->dp, nfd, ifn);
		for (d = 0; d < 2; d++)
			if (nfd[d] >= 0)
				close(nfd[d]);
	}
	if (ret)
		return ret;
	sl_netns_fabric(n->topo->name, ns, sizeof(ns));
	fd = sl_netns_open(ns, err);
	if (fd < 0)
		return fd;
	{
		struct sl_dataplane_link dl = {
			.topo = n->topo->name, .link = link, .fabric_netns_fd = fd,
			.ifindex = { sl_port_ifindex(link, 0), sl_port_ifindex(link, 1) },
			.policy = { pol[0], pol[1] },
			.seed = 0x5eed0000ull + link,
		};

		ret = sl_dataplane_add_link(n->dp, &dl, err);
	}
	close(fd);
	return ret;
}

int sl_net_link_policy(struct sl_net *n, uint32_t link, int dir,
		       const char *policy, struct sl_err *err)
{
	struct sl_link_plan old, now;
	struct sl_link *lk;
	const char *pol[2];
	char *copy = NULL;
	int d, ret;

	if (link >= n->topo->n_links || (dir != 0 && dir != 1))
		return sl_err_set(err, EINVAL, "no link %u direction %d", link, dir);
	lk = &n->topo->links[link];
	if (policy && !strcmp(policy, "{}"))
		policy = NULL;
	ret = sl_link_plan(n->topo, link, n->dp != NULL, -1, NULL, &old, err);
	ret = ret ?: sl_link_plan(n->topo, link, n->dp != NULL, dir, policy,
				  &now, err);
	if (ret)
		return ret;
	if (policy && !(copy = strdup(policy)))
		return sl_err_set(err, ENOMEM, "out of memory");
	pol[dir] = policy;
	pol[!dir] = lk->policy[!dir];
	if (old.normal && now.normal) {
		ret = sl_dataplane_set_policy(n->dp, n->topo->name, link, dir,
					      policy ? policy : "{}", err);
	} else if (!old.normal && !now.normal) {
		ret = sl_kpolicy_apply(n->fabric, link, (uint32_t)dir, &now.kp[dir],
				       err);
		ret = ret ?: set_shapers(n, link, &now, &old, err);
		if (ret) /* put the old fabric part back */
			sl_kpolicy_apply(n->fabric, link, (uint32_t)dir, &old.kp[dir],
					 NULL);
	} else if (now.normal) {
		ret = to_normal(n, link, pol, &old, err);
	} else {
		/* Back to the kernel path: the dataplane lets go of the
		 * ports (their XDP program goes), then the kernel policy. */
		ret = sl_dataplane_remove_link(n->dp, n->topo->name, link, err);
		for (d = 0; d < 2 && !ret; d++)
			ret = sl_kpolicy_apply(n->fabric, link, (uint32_t)d,
					       &now.kp[d], err);
		ret = ret ?: set_shapers(n, link, &now, &old, err);
	}
	if (ret) {
		free(copy);
		return ret;
	}
	free(lk->policy[dir]);
	lk->policy[dir] = copy;
	if (n->normal)
		n->normal[link] = now.normal;
	/* Keep the saved model current, for re-adoption after a restart. */
	return sl_net_save_model(n, err);
}

int sl_net_shaper_stats(const struct sl_net *n, uint32_t link, int dir,
			struct sl_qdisc_stats *out, struct sl_err *err)
{
	const struct sl_endpoint *ep;
	struct sl_kpolicy kp;
	struct sl_nl *nl;
	int ret;

	if (link >= n->topo->n_links || (dir != 0 && dir != 1))
		return sl_err_set(err, EINVAL, "no link %u direction %d", link, dir);
	if ((n->normal && n->normal[link]) ||
	    sl_kpolicy_from_policy(n->topo->links[link].policy[dir],
				   n->topo->links[link].mtu, &kp, NULL) ||
	    !kp.shaper.rate_bps)
		return -ENOENT;
	ep = &n->topo->links[link].ep[dir];
	nl = sl_net_node_nl(n, ep->node, err);
	if (!nl)
		return -EIO;
	ret = sl_nl_qdisc_stats(nl, sl_node_ifindex(ep->ifidx), out, err);
	sl_nl_free(nl);
	return ret;
}

json_object *sl_net_link_stats(const struct sl_net *n, uint32_t link, int dir)
{
	json_object *o = json_object_new_object(), *k, *cells = NULL;
	struct sl_fabric_stats st = { 0 };
	struct sl_qdisc_stats q;
	bool normal = n->normal && n->normal[link];

	json_object_object_add(o, "mode", json_object_new_string(normal ? "normal" : "max"));
	if (n->fabric && !sl_fabric_stats_get(n->fabric, link, (uint32_t)dir, &st, NULL)) {
		k = json_object_new_object();
		json_object_object_add(k, "packets", json_object_new_int64((int64_t)st.packets));
		json_object_object_add(k, "bytes", json_object_new_int64((int64_t)st.bytes));
		json_object_object_add(k, "drop_down", json_object_new_int64((int64_t)st.drop_down));
		json_object_object_add(k, "drop_policer", json_object_new_int64((int64_t)st.drop_policer));
		json_object_object_add(k, "drop_loss", json_object_new_int64((int64_t)st.drop_loss));
		json_object_object_add(o, "fabric", k);
	}
	if (!sl_net_shaper_stats(n, link, dir, &q, NULL)) {
		k = json_object_new_object();
		json_object_object_add(k, "packets", json_object_new_int64((int64_t)q.packets));
		json_object_object_add(k, "bytes", json_object_new_int64((int64_t)q.bytes));
		json_object_object_add(k, "drops", json_object_new_int64(q.drops));
		json_object_object_add(k, "qlen", json_object_new_int64(q.qlen));
		json_object_object_add(k, "backlog", json_object_new_int64(q.backlog));
		json_object_object_add(o, "shaper", k);
	}
	if (normal && n->dp &&
	    !sl_dataplane_stats(n->dp, n->topo->name, link, dir, &cells, NULL))
		json_object_object_add(o, "dataplane", cells);
	return o;
}
