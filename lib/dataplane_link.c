// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dataplane_link.c - links of the normal-mode dataplane: adding one
 * (channels, sockets, XDP program of its fabric netns, a thread), removing
 * it, and changing a direction's policy while it runs, in place when the
 * cells stay the same or on a fresh channel while the old one drains.
 * The threads and their loop are in lib/dataplane.c; what the files share
 * is in lib/dataplane_int.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include <sluice/cell.h>
#include <sluice/dataplane.h>
#include <sluice/netlink.h>
#include <sluice/xsk.h>

#include "dataplane_int.h"

/* ---- links ------------------------------------------------------------- */

static struct dp_link *find_link(struct sl_dataplane *dp, const char *topo,
				 uint32_t id)
{
	struct dp_link *lk;

	for (lk = dp->links; lk; lk = lk->all_next)
		if (lk->id == id && !strcmp(lk->topo, topo))
			return lk;
	return NULL;
}

/* The XDP program of the netns behind fd, loaded on first use. */
static struct dp_ns *ns_get(struct sl_dataplane *dp, int fd,
			    struct sl_err *err)
{
	struct dp_ns *ns;
	struct stat st;

	if (fstat(fd, &st))
		return sl_err_set(err, errno, "fabric netns fd: %s",
				  strerror(errno)), NULL;
	for (ns = dp->nss; ns; ns = ns->next)
		if (ns->ino == st.st_ino && ns->dev == st.st_dev) {
			ns->refs++;
			return ns;
		}
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return sl_err_set(err, ENOMEM, "out of memory"), NULL;
	ns->prog = sl_xsk_prog_new(dp->o.max_slots, err);
	if (!ns->prog) {
		free(ns);
		return NULL;
	}
	ns->ino = st.st_ino;
	ns->dev = st.st_dev;
	ns->refs = 1;
	ns->next = dp->nss;
	dp->nss = ns;
	return ns;
}

static void ns_put(struct sl_dataplane *dp, struct dp_ns *ns)
{
	struct dp_ns **pp;

	if (!ns || --ns->refs)
		return;
	for (pp = &dp->nss; *pp; pp = &(*pp)->next)
		if (*pp == ns) {
			*pp = ns->next;
			break;
		}
	sl_xsk_prog_free(ns->prog);
	free(ns);
}

/* Undoes what sl_dataplane_add_link built (channels, sockets, XDP); the
 * link is not on a thread. Caller holds dp->lock and is in the fabric
 * netns when setns_done (for the XDP detach). */
static void link_teardown(struct sl_dataplane *dp, struct dp_link *lk)
{
	struct epoll_event ev = { 0 };
	int s;

	for (s = 0; s < 2; s++) {
		if (lk->attached[s])
			sl_xsk_prog_detach(lk->ifindex[s], NULL);
		if (lk->slot[s] >= 0) {
			sl_xsk_prog_port_del(lk->ns->prog, lk->ifindex[s],
					     (uint32_t)lk->slot[s]);
			sl_xsk_prog_slot_put(lk->ns->prog, (uint32_t)lk->slot[s]);
		}
		if (lk->th && lk->xsk[s].fd >= 0)
			epoll_ctl(lk->th->epfd, EPOLL_CTL_DEL, lk->xsk[s].fd, &ev);
	}
	/* channels hand their packets back to the free stack */
	for (s = 0; s < 2; s++) {
		struct dp_dir *d = &lk->dir[s];

		while (d->n_draining)
			sl_channel_free(d->draining[--d->n_draining]);
		sl_channel_free(d->ch);
		d->ch = NULL;
	}
	/* the shared socket first: the owner holds the UMEM registration */
	sl_xsk_close(&lk->xsk[1]);
	sl_xsk_close(&lk->xsk[0]);
	if (sl_xsk_umem_free(lk->umem))
		(void)0; /* cannot happen: both sockets are closed */
	free(lk->pkts);
	ns_put(dp, lk->ns);
	if (lk->netns_fd >= 0)
		close(lk->netns_fd);
	free(lk);
}

static int cmd_attach(struct dp_thread *th, void *arg, struct sl_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.ptr = arg };
	struct dp_link *lk = arg;
	uint64_t now = now_ns();
	int s;

	if (th->n_local + 1 > th->cap) {
		unsigned cap = th->cap ? th->cap * 2 : 64;
		struct dp_link **b = realloc(th->busy, cap * sizeof(*b));
		struct dp_kick *kk;

		if (!b)
			return sl_err_set(err, ENOMEM, "out of memory");
		th->busy = b;
		kk = realloc(th->kick, 2 * cap * sizeof(*kk));
		if (!kk)
			return sl_err_set(err, ENOMEM, "out of memory");
		th->kick = kk;
		th->cap = cap;
	}
	/* Added here, by the thread that waits on epfd: an event it gets is
	 * always for a link it has (see cmd_detach). */
	for (s = 0; s < 2; s++)
		if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, lk->xsk[s].fd, &ev)) {
			int e = errno;

			if (s)
				epoll_ctl(th->epfd, EPOLL_CTL_DEL, lk->xsk[0].fd, &ev);
			return sl_err_set(err, e, "epoll: %s", strerror(e));
		}
	lk->next = th->links;
	th->links = lk;
	th->n_local++;
	lk->in_thread = true;
	lk->last_comp[0] = lk->last_comp[1] = now;
	dp_link_wake(th, lk);
	for (s = 0; s < 2; s++) {
		sl_channel_attach(lk->dir[s].ch, NULL);
		dp_dir_arm(th, &lk->dir[s], now);
	}
	return 0;
}

static int cmd_detach(struct dp_thread *th, void *arg, struct sl_err *err)
{
	struct dp_link *lk = arg, **pp;
	int s;

	struct epoll_event ev = { 0 };
	unsigned i, k;

	for (pp = &th->links; *pp; pp = &(*pp)->next)
		if (*pp == lk) {
			*pp = lk->next;
			break;
		}
	/* off the work lists, and no event for it ever again: the thread
	 * itself deletes the sockets from its epoll set, so no later
	 * epoll_wait() returns a pointer to the link about to be freed */
	for (s = 0; s < 2; s++)
		epoll_ctl(th->epfd, EPOLL_CTL_DEL, lk->xsk[s].fd, &ev);
	for (i = k = 0; i < th->n_busy; i++)
		if (th->busy[i] != lk)
			th->busy[k++] = th->busy[i];
	th->n_busy = k;
	for (i = k = 0; i < th->n_kick; i++)
		if (th->kick[i].lk != lk)
			th->kick[k++] = th->kick[i];
	th->n_kick = k;
	lk->busy = lk->kick_listed[0] = lk->kick_listed[1] = false;
	lk->in_thread = false;
	th->n_local--;
	for (s = 0; s < 2; s++) {
		struct dp_dir *d = &lk->dir[s];
		struct sl_pkt *p;

		sl_wheel_cancel(th->wheel, &d->timer);
		while ((p = sl_pktq_pop(&d->backlog)))
			dp_on_drop(p, SL_DROP_FLUSH, d);
	}
	lk->next = NULL;
	return 0;
}

static struct dp_thread *least_loaded(struct sl_dataplane *dp)
{
	struct dp_thread *best = &dp->th[0];
	unsigned i;

	for (i = 1; i < dp->n_threads; i++)
		if (dp->th[i].n_links < best->n_links)
			best = &dp->th[i];
	return best;
}

static int link_build_channels(struct sl_dataplane *dp, struct dp_link *lk,
			       const struct sl_dataplane_link *l,
			       struct sl_err *err)
{
	int s, ret;

	for (s = 0; s < 2; s++) {
		struct dp_dir *d = &lk->dir[s];
		struct sl_cell_env env = {
			.drop = dp_on_drop, .clone = dp_on_clone, .ctx = d,
		};

		d->lk = lk;
		d->d = s;
		sl_pktq_init(&d->backlog);
		sl_timer_init(&d->timer, d);
		ret = sl_channel_from_policy(l->policy[s],
					     sl_rng_derive(l->seed, (uint64_t)s),
					     &d->ch, err);
		if (ret) {
			sl_err_prefix(err, "link %s:%u direction %s", l->topo,
				      l->link, s ? "down" : "up");
			return ret;
		}
		sl_channel_set_env(d->ch, &env);
	}
	return 0;
}

static int link_open_sockets(struct sl_dataplane *dp, struct dp_link *lk,
			     struct sl_err *err)
{
	struct sl_xsk_config cfg = {
		.fill_target = 0,
		.busy_poll = dp->o.busy_poll,
		.force_copy = dp->o.force_copy,
	};
	uint32_t n = dp->o.frames_per_link;
	int s, ret;

	lk->umem = sl_xsk_umem_new(n, dp->o.frame_size, err);
	if (!lk->umem)
		return -ENOMEM;
	lk->pkts = calloc(n, sizeof(*lk->pkts));
	if (!lk->pkts)
		return sl_err_set(err, ENOMEM, "out of memory");
	/* each port keeps a quarter of the frames posted for RX, so half
	 * are left for packets held in the channels and on TX rings */
	cfg.fill_target = n / 4;
	for (s = 0; s < 2; s++) {
		ret = sl_xsk_open(&lk->xsk[s], lk->umem, lk->ifindex[s], &cfg,
				  err);
		if (ret)
			return ret;
	}
	for (s = 0; s < 2; s++) {
		lk->dir[s].in = &lk->xsk[s];
		lk->dir[s].out = &lk->xsk[!s];
	}
	return 0;
}

int sl_dataplane_add_link(struct sl_dataplane *dp,
			  const struct sl_dataplane_link *l,
			  struct sl_err *err)
{
	struct dp_link *lk;
	int saved = -1, ret, s;
	bool in_ns = false;

	if (!l->topo || strlen(l->topo) >= TOPO_MAX)
		return sl_err_set(err, EINVAL, "topology name: expected 1 to %d characters",
				  TOPO_MAX - 1);
	lk = calloc(1, sizeof(*lk));
	if (!lk)
		return sl_err_set(err, ENOMEM, "out of memory");
	snprintf(lk->topo, sizeof(lk->topo), "%s", l->topo);
	lk->id = l->link;
	lk->dp = dp;
	lk->seed = l->seed;
	lk->netns_fd = fcntl(l->fabric_netns_fd, F_DUPFD_CLOEXEC, 0);
	for (s = 0; s < 2; s++) {
		lk->ifindex[s] = l->ifindex[s];
		lk->slot[s] = -1;
		lk->xsk[s].fd = -1;
	}
	pthread_mutex_lock(&dp->lock);
	if (find_link(dp, l->topo, l->link)) {
		pthread_mutex_unlock(&dp->lock);
		free(lk);
		return sl_err_set(err, EEXIST,
				  "link %s:%u is already in the dataplane",
				  l->topo, l->link);
	}
	/* channels first: a bad policy fails before anything is touched */
	ret = link_build_channels(dp, lk, l, err);
	if (ret)
		goto fail;
	lk->ns = ns_get(dp, l->fabric_netns_fd, err);
	if (!lk->ns) {
		ret = -EIO;
		goto fail;
	}
	ret = sl_netns_enter(l->fabric_netns_fd, &saved, err);
	if (ret)
		goto fail;
	in_ns = true;
	ret = link_open_sockets(dp, lk, err);
	for (s = 0; s < 2 && !ret; s++) {
		ret = sl_xsk_prog_slot_get(lk->ns->prog, err);
		if (ret < 0)
			break;
		lk->slot[s] = ret;
		ret = sl_xsk_prog_port_set(lk->ns->prog, lk->ifindex[s],
					   (uint32_t)lk->slot[s], lk->xsk[s].fd,
					   SL_XSK_MODE_REDIRECT, err);
	}
	/* the map entries exist before the program: no frame is dropped
	 * for want of a socket */
	for (s = 0; s < 2 && !ret; s++) {
		ret = sl_xsk_prog_attach(lk->ns->prog, lk->ifindex[s],
					 &lk->generic[s], err);
		lk->attached[s] = !ret;
	}
	if (ret) {
		sl_err_prefix(err, "link %s:%u", l->topo, l->link);
		goto fail;
	}
	sl_netns_leave(saved);
	in_ns = false;

	lk->th = least_loaded(dp);
	ret = dp_run_cmd(lk->th, cmd_attach, lk, err);
	if (ret) {
		sl_err_prefix(err, "link %s:%u", l->topo, l->link);
		in_ns = !sl_netns_enter(l->fabric_netns_fd, &saved, NULL);
		lk->th = NULL;
		goto fail_entered;
	}
	lk->th->n_links++;
	lk->all_next = dp->links;
	dp->links = lk;
	dp->n_links++;
	pthread_mutex_unlock(&dp->lock);
	return 0;
fail:
	if (!in_ns && (lk->attached[0] || lk->attached[1]))
		in_ns = !sl_netns_enter(l->fabric_netns_fd, &saved, NULL);
fail_entered:
	link_teardown(dp, lk);
	if (in_ns)
		sl_netns_leave(saved);
	pthread_mutex_unlock(&dp->lock);
	return ret < 0 ? ret : -EIO;
}

/* Caller holds dp->lock; lk is in dp->links. */
static void link_remove_locked(struct sl_dataplane *dp, struct dp_link *lk)
{
	struct dp_link **pp;
	int saved = -1;
	bool in_ns = false;

	dp_run_cmd(lk->th, cmd_detach, lk, NULL);
	lk->th->n_links--;
	for (pp = &dp->links; *pp; pp = &(*pp)->all_next)
		if (*pp == lk) {
			*pp = lk->all_next;
			break;
		}
	dp->n_links--;
	if (lk->netns_fd >= 0)
		in_ns = !sl_netns_enter(lk->netns_fd, &saved, NULL);
	link_teardown(dp, lk);
	if (in_ns)
		sl_netns_leave(saved);
}

int sl_dataplane_remove_link(struct sl_dataplane *dp, const char *topo,
			     uint32_t link, struct sl_err *err)
{
	struct dp_link *lk;

	pthread_mutex_lock(&dp->lock);
	lk = find_link(dp, topo, link);
	if (!lk) {
		pthread_mutex_unlock(&dp->lock);
		return sl_err_set(err, ENOENT, "link %s:%u is not in the dataplane",
				  topo, link);
	}
	link_remove_locked(dp, lk);
	pthread_mutex_unlock(&dp->lock);
	return 0;
}

int sl_dataplane_remove_topology(struct sl_dataplane *dp, const char *topo)
{
	struct dp_link *lk, *next;
	int n = 0;

	pthread_mutex_lock(&dp->lock);
	for (lk = dp->links; lk; lk = next) {
		next = lk->all_next;
		if (strcmp(lk->topo, topo))
			continue;
		link_remove_locked(dp, lk);
		n++;
	}
	pthread_mutex_unlock(&dp->lock);
	return n;
}

void sl_dataplane_free(struct sl_dataplane *dp)
{
	struct dp_link *lk;
	unsigned i;

	if (!dp)
		return;
	pthread_mutex_lock(&dp->lock);
	while ((lk = dp->links))
		link_remove_locked(dp, lk);
	pthread_mutex_unlock(&dp->lock);
	for (i = 0; i < dp->n_threads; i++)
		dp_thread_fini(&dp->th[i]);
	free(dp->th);
	pthread_mutex_destroy(&dp->lock);
	free(dp);
}

bool sl_dataplane_has_link(struct sl_dataplane *dp, const char *topo,
			   uint32_t link)
{
	bool ret;

	pthread_mutex_lock(&dp->lock);
	ret = find_link(dp, topo, link) != NULL;
	pthread_mutex_unlock(&dp->lock);
	return ret;
}

unsigned sl_dataplane_n_links(struct sl_dataplane *dp)
{
	unsigned n;

	pthread_mutex_lock(&dp->lock);
	n = dp->n_links;
	pthread_mutex_unlock(&dp->lock);
	return n;
}

/* ---- policy changes ---------------------------------------------------- */

struct policy_cmd {
	struct dp_dir *d;
	struct sl_channel *fresh;   /* built from the new policy */
	struct json_object *policy; /* parsed new policy */
	const char *cell;	    /* sl_dataplane_control: one cell */
	struct json_object *cfg;
	bool in_place;		    /* out: changed in place */
};

/* Where the shorthand's keys go (lib/channel.c builds these cells and
 * names them after their type). */
static const char *shorthand_cell(const char *key)
{
	if (!strcmp(key, "loss"))
		return "loss";
	if (!strcmp(key, "rate") || !strcmp(key, "burst") ||
	    !strcmp(key, "queue"))
		return "rate";
	if (!strcmp(key, "delay") || !strcmp(key, "jitter"))
		return "delay";
	return NULL;
}

static bool same_cells(struct sl_channel *a, struct sl_channel *b)
{
	unsigned i, n = sl_channel_cell_count(a);

	if (n != sl_channel_cell_count(b))
		return false;
	for (i = 0; i < n; i++) {
		struct sl_cell *x = sl_channel_cell(a, i), *y = sl_channel_cell(b, i);

		if (x->ops != y->ops || strcmp(x->name, y->name))
			return false;
	}
	return true;
}

/* The part of policy that configures cell c: its entry of "cells", or its
 * shorthand keys. A new reference. */
static struct json_object *cell_cfg(struct json_object *policy,
				    const struct sl_cell *c, unsigned idx)
{
	struct json_object *cells, *o;
	size_t i, n;

	if (policy && json_object_object_get_ex(policy, "cells", &cells)) {
		n = json_object_array_length(cells);
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(cells, i), *v;
			const char *name = NULL;

			if (json_object_object_get_ex(e, "name", &v))
				name = json_object_get_string(v);
			if (name ? !strcmp(name, c->name) : i == idx) {
				o = json_object_new_object();
				json_object_object_foreach(e, k, val)
				{
					if (strcmp(k, "next") && strcmp(k, "seed"))
						json_object_object_add(o, k,
							json_object_get(val));
				}
				return o;
			}
		}
		return json_object_new_object();
	}
	o = json_object_new_object();
	if (!policy)
		return o;
	json_object_object_foreach(policy, k, val)
	{
		const char *to = shorthand_cell(k);

		if (to && !strcmp(to, c->name))
			json_object_object_add(o, k, json_object_get(val));
	}
	return o;
}

static int cmd_set_policy(struct dp_thread *th, void *arg, struct sl_err *err)
{
	struct policy_cmd *pc = arg;
	struct dp_dir *d = pc->d;
	uint64_t now = now_ns();
	unsigned i, n;
	int ret;

	if (same_cells(d->ch, pc->fresh)) {
		n = sl_channel_cell_count(d->ch);
		/* validate every cell's change on the fresh copy first, so
		 * that the live channel changes all or nothing */
		for (i = 0; i < n; i++) {
			struct sl_cell *c = sl_channel_cell(pc->fresh, i);
			struct json_object *cfg = cell_cfg(pc->policy, c, i);

			ret = sl_channel_control(pc->fresh, c->name, cfg, now, err);
			json_object_put(cfg);
			if (ret)
				return ret;
		}
		for (i = 0; i < n; i++) {
			struct sl_cell *c = sl_channel_cell(d->ch, i);
			struct json_object *cfg = cell_cfg(pc->policy, c, i);

			ret = sl_channel_control(d->ch, c->name, cfg, now, err);
			json_object_put(cfg);
			if (ret)
				return ret;
		}
		pc->in_place = true;
		dp_dir_arm(th, d, now);
		return 0;
	}
	if (d->n_draining == MAX_DRAINING)
		return sl_err_set(err, EBUSY,
				  "%d earlier policy changes are still draining; try again when their packets have left",
				  MAX_DRAINING);
	/* the running channel drains; new arrivals take the fresh one */
	if (sl_channel_next_event(d->ch) == SL_TIME_NEVER)
		sl_channel_free(d->ch);
	else
		d->draining[d->n_draining++] = d->ch;
	d->ch = pc->fresh;
	pc->fresh = NULL;
	dp_dir_arm(th, d, now);
	return 0;
}

int dp_lookup_dir(struct sl_dataplane *dp, const char *topo, uint32_t link,
		  int dir, struct dp_dir **out, struct sl_err *err)
{
	struct dp_link *lk = find_link(dp, topo, link);

	if (!lk)
		return sl_err_set(err, ENOENT, "link %s:%u is not in the dataplane",
				  topo, link);
	if (dir != 0 && dir != 1)
		return sl_err_set(err, EINVAL,
				  "direction %d: expected 0 (up) or 1 (down)", dir);
	*out = &lk->dir[dir];
	return 0;
}

int sl_dataplane_set_policy(struct sl_dataplane *dp, const char *topo,
			    uint32_t link, int dir, const char *policy_json,
			    struct sl_err *err)
{
	struct policy_cmd pc = { 0 };
	enum json_tokener_error jerr = json_tokener_success;
	struct sl_cell_env env = { .drop = dp_on_drop, .clone = dp_on_clone };
	int ret;

	pthread_mutex_lock(&dp->lock);
	ret = dp_lookup_dir(dp, topo, link, dir, &pc.d, err);
	if (ret) {
		pthread_mutex_unlock(&dp->lock);
		return ret;
	}
	if (policy_json) {
		pc.policy = json_tokener_parse_verbose(policy_json, &jerr);
		if (!pc.policy && jerr != json_tokener_success) {
			ret = sl_err_set(err, EINVAL, "not valid JSON: %s",
					 json_tokener_error_desc(jerr));
			goto out;
		}
	}
	pc.d->lk->generation++;
	ret = sl_channel_new(pc.policy,
			     sl_rng_derive(pc.d->lk->seed,
					   2 * (uint64_t)pc.d->lk->generation +
						   (uint64_t)dir),
			     &pc.fresh, err);
	if (ret)
		goto out;
	env.ctx = pc.d;
	sl_channel_set_env(pc.fresh, &env);
	ret = dp_run_cmd(pc.d->lk->th, cmd_set_policy, &pc, err);
out:
	if (ret)
		sl_err_prefix(err, "link %s:%u direction %s", topo, link,
			      dir ? "down" : "up");
	sl_channel_free(pc.fresh); /* unused when changed in place */
	json_object_put(pc.policy);
	pthread_mutex_unlock(&dp->lock);
	return ret;
}

static int cmd_control(struct dp_thread *th, void *arg, struct sl_err *err)
{
	struct policy_cmd *pc = arg;
	uint64_t now = now_ns();
	int ret;

	ret = sl_channel_control(pc->d->ch, pc->cell, pc->cfg, now, err);
	dp_dir_arm(th, pc->d, now);
	return ret;
}

int sl_dataplane_control(struct sl_dataplane *dp, const char *topo,
			 uint32_t link, int dir, const char *cell,
			 const char *cfg_json, struct sl_err *err)
{
	struct policy_cmd pc = { .cell = cell };
	enum json_tokener_error jerr = json_tokener_success;
	int ret;

	pthread_mutex_lock(&dp->lock);
	ret = dp_lookup_dir(dp, topo, link, dir, &pc.d, err);
	if (ret)
		goto out;
	pc.cfg = json_tokener_parse_verbose(cfg_json ? cfg_json : "", &jerr);
	if (!pc.cfg) {
		ret = sl_err_set(err, EINVAL, "not valid JSON: %s",
				 json_tokener_error_desc(jerr));
		goto out;
	}
	ret = dp_run_cmd(pc.d->lk->th, cmd_control, &pc, err);
out:
	json_object_put(pc.cfg);
	pthread_mutex_unlock(&dp->lock);
	return ret;
}
