// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * net.c - bring-up and teardown of a topology (include/sluice/net.h).
 * What follows a bring-up (re-adoption after a restart, links set down at
 * runtime) is in lib/net_live.c, where each link runs and policy changes
 * in lib/net_policy.c.
 *
 * Order of bring-up, each object journaled before it is made:
 *   1. addresses and routes are computed (nothing touches the kernel yet);
 *   2. the fabric: pinned BPF program and maps, the fabric namespace;
 *   3. one namespace per node, with its sysctls;
 *   4. per link, two veth pairs made from the fabric side, the node ends
 *      placed straight into their nodes (IFLA_NET_NS_FD), all ends up, with
 *      fixed ifindexes so that no lookups are needed afterwards;
 *   5. the fabric ports' map entries, then the tc program on every port;
 *   6. per node, one netlink batch: lo up, addresses, routes;
 *   7. the hosts file, the resolved model, "commit".
 * Every failure undoes the journal, so nothing stays behind. A namespace
 * whose name is taken already is refused before it is journaled: the undo
 * removes what the journal names, and that one is not ours.
 *
 * Fault injection, for the rollback tests (tests/net/test_topology.sh):
 * with SLUICE_FAULT_INJECT=PHASE:N in sluiced's environment, a bring-up
 * fails after the N-th item of PHASE (namespaces, links, fabric or
 * addresses, the phases of the progress reports) or, with "commit:1",
 * just before the commit line, as if the kernel had refused the next
 * request. Unset, it costs one getenv() per progress step.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include <sluice/addr.h>
#include <sluice/dataplane.h>
#include <sluice/fabric.h>
#include <sluice/journal.h>
#include <sluice/net.h>
#include <sluice/netlink.h>
#include <sluice/route.h>
#include <sluice/sockredir.h>
#include <sluice/log.h>
#include <sluice/steer.h>
#include <sluice/xsk.h>

#include "net_int.h"
#include <sluice/flow.h>
#include <sluice/kpolicy.h>

#define PROGRESS_STEP 64

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sl_net_topo_dir(const char *rundir, const char *name, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/topo/%s", rundir, name);
}

static int mkdir_p(const char *path)
{
	char tmp[512], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int sl_net_write_file(const char *path, const char *text, struct sl_err *err)
{
	char tmp[600];
	size_t len = strlen(text);
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return sl_err_set(err, errno, "write %s: %s", path,
				  strerror(errno));
	if (write(fd, text, len) != (ssize_t)len) {
		int e = errno ? errno : EIO;

		close(fd);
		unlink(tmp);
		return sl_err_set(err, e, "write %s: %s", path, strerror(e));
	}
	close(fd);
	if (rename(tmp, path))
		return sl_err_set(err, errno, "rename %s: %s", path,
				  strerror(errno));
	return 0;
}

/* /etc/hosts of the topology: node names on their node addresses, and
 * "<node>-eth<k>" on interface addresses. */
static char *hosts_text(const struct sl_topo *t)
{
	size_t cap = 256 + (size_t)(t->n_nodes + 2 * t->n_links) * 2 * 96;
	char *buf = malloc(cap), a[64];
	size_t n = 0;
	uint32_t i, s;

	if (!buf)
		return NULL;
	n += (size_t)snprintf(buf + n, cap - n,
			      "# sluice topology %s\n127.0.0.1\tlocalhost\n"
			      "::1\tlocalhost ip6-localhost ip6-loopback\n",
			      t->name);
	for (i = 0; i < t->n_nodes; i++) {
		const struct sl_node *nd = &t->nodes[i];

		if (nd->lo4.family)
			n += (size_t)snprintf(buf + n, cap - n, "%s\t%s\n",
				sl_prefix_str(&nd->lo4, a, sizeof(a), false),
				nd->name);
		if (nd->lo6.family)
			n += (size_t)snprintf(buf + n, cap - n, "%s\t%s\n",
				sl_prefix_str(&nd->lo6, a, sizeof(a), false),
				nd->name);
	}
	for (i = 0; i < t->n_links; i++) {
		for (s = 0; s < 2; s++) {
			const struct sl_endpoint *ep = &t->links[i].ep[s];
			const char *node = t->nodes[ep->node].name;

			if (ep->addr4.family)
				n += (size_t)snprintf(buf + n, cap - n,
					"%s\t%s-%s\n",
					sl_prefix_str(&ep->addr4, a, sizeof(a),
						      false), node, ep->ifname);
			if (ep->addr6.family)
				n += (size_t)snprintf(buf + n, cap - n,
					"%s\t%s-%s\n",
					sl_prefix_str(&ep->addr6, a, sizeof(a),
						      false), node, ep->ifname);
		}
	}
	return buf;
}

struct fabric_loader {
	pthread_t thread;
	bool started;
	char pins[256];
	uint32_t max_links;
	struct sl_fabric *fabric;
	struct sl_err err;
};

struct upctx {
	struct fabric_loader loader;
	char cgroup[256];
	struct sl_sockredir *sockredir;
	char note[256];
	struct sl_topo *t;
	struct sl_journal *j;
	struct sl_fabric *fabric;
	int fabric_fd;
	int *node_fd;
	struct sl_nl *fnl;
	struct sl_route_table *rt4, *rt6;
	struct sl_link_plan *lp; /* per link */
	struct sl_dataplane *dp;
	sl_progress_fn *progress;
	void *arg;
	uint64_t n_routes;
};

/* SLUICE_FAULT_INJECT=PHASE:N names this point: the bring-up fails here. */
static int fault_injected(const char *phase, uint64_t done, struct sl_err *err)
{
	const char *f = getenv("SLUICE_FAULT_INJECT"), *colon;
	size_t n = strlen(phase);

	if (!f || !(colon = strchr(f, ':')) || (size_t)(colon - f) != n ||
	    strncmp(f, phase, n) || strtoull(colon + 1, NULL, 10) != done)
		return 0;
	return sl_err_set(err, EIO, "fault injected at %s %llu (SLUICE_FAULT_INJECT=%s)",
			  phase, (unsigned long long)done, f);
}

/* Reports item done of total of a phase (every PROGRESS_STEP items and
 * the last); nonzero only when a fault is injected here. */
static int progress(struct upctx *c, const char *phase, uint64_t done,
		    uint64_t total, struct sl_err *err)
{
	if (c->progress && (done % PROGRESS_STEP == 0 || done == total))
		c->progress(phase, done, total, c->arg);
	return fault_injected(phase, done, err);
}

/* Journals namespace ns before it is made; a name in use is refused first,
 * so that the rollback leaves that namespace alone. */
static int ns_claim(struct upctx *c, const char *ns, struct sl_err *err)
{
	if (sl_netns_exists(ns))
		return sl_err_set(err, EEXIST,
				  "create netns %s: a namespace of that name exists and is not "
				  "this topology's; expected a free name ('ip netns del %s' removes it)",
				  ns, ns);
	return sl_journal_add(c->j, "ns", ns, NULL, err);
}

/* Makes namespace ns, journaled first. */
static int ns_create(struct upctx *c, const char *ns, int *fd,
		     struct sl_err *err)
{
	return ns_claim(c, ns, err) ?: sl_netns_add(ns, fd, err);
}

/*
 * A new namespace starts with the kernel's defaults: no forwarding, IPv6
 * on. Only what differs is written (each /proc/sys write costs; at 1,000
 * nodes they add up): forwarding on routers, IPv6 off unless asked for.
 */
static int sysctls_node(const struct sl_topo *t, const struct sl_node *nd,
			bool v6, struct sl_err *err)
{
	bool fwd = nd->kind == SL_NODE_ROUTER;
	int ret = 0;

	if (fwd)
		ret = sl_sysctl_set("net/ipv4/ip_forward", "1", err);
	if (ret || !v6)
		return ret;
	if (!t->ipv6) {
		/* No IPv6 asked for: none on the node's interfaces (made
		 * after this), which saves their IPv6 state and router
		 * solicitations; lo keeps ::1. */
		return sl_sysctl_set("net/ipv6/conf/default/disable_ipv6", "1", err);
	}
	if (fwd)
		ret = sl_sysctl_set("net/ipv6/conf/all/forwarding", "1", err);
	ret = ret ?: sl_sysctl_set("net/ipv6/conf/default/accept_dad", "0", err);
	ret = ret ?: sl_sysctl_set("net/ipv6/conf/default/accept_ra", "0", err);
	return ret;
}

static void *fabric_loader(void *arg)
{
	struct fabric_loader *l = arg;

	l->fabric = sl_fabric_create(l->pins, l->max_links, &l->err);
	return NULL;
}

/* Waits for the fabric program; the first user calls this. */
static int fabric_ready(struct upctx *c, struct sl_err *err)
{
	if (c->loader.started) {
		pthread_join(c->loader.thread, NULL);
		c->loader.started = false;
		c->fabric = c->loader.fabric;
		if (!c->fabric && err)
			*err = c->loader.err;
	}
	return c->fabric ? 0 : -EIO;
}

static int up_fabric(struct upctx *c, const char *rundir, struct sl_err *err)
{
	char ns[128], pins[256];
	int saved, ret;

	ret = sl_bpffs_ensure(err);
	if (ret)
		return ret;
	snprintf(pins, sizeof(pins), "%s/%s", SL_BPFFS_DIR, c->t->name);
	ret = sl_journal_add(c->j, "pin", pins, NULL, err);
	if (ret)
		return ret;
	/* The verifier takes a while over the fabric program: it runs on the
	 * other core while this one makes namespaces and links. */
	snprintf(c->loader.pins, sizeof(c->loader.pins), "%s", pins);
	c->loader.max_links = c->t->n_links ? c->t->n_links : 1;
	if (pthread_create(&c->loader.thread, NULL, fabric_loader, &c->loader))
		return sl_err_set(err, errno ? errno : EAGAIN,
				  "cannot start the fabric loader thread");
	c->loader.started = true;

	sl_netns_fabric(c->t->name, ns, sizeof(ns));
	ret = ns_create(c, ns, &c->fabric_fd, err);
	if (ret)
		return ret;
	ret = sl_netns_enter(c->fabric_fd, &saved, err);
	if (ret)
		return ret;
	/* The fabric is a wire: it must not speak IPv6 on its ports. */
	if (access("/proc/sys/net/ipv6", F_OK) == 0) {
		ret = sl_sysctl_set("net/ipv6/conf/default/disable_ipv6", "1",
				    err);
		ret = ret ?: sl_sysctl_set("net/ipv6/conf/all/disable_ipv6",
					   "1", err);
	}
	sl_netns_leave(saved);
	if (ret)
		return ret;
	c->fnl = sl_nl_open(c->fabric_fd, err);
	return c->fnl ? 0 : -EIO;
}

/*
 * Namespaces are made by a few threads at once: most of setup_net() and of
 * the sysctl writes run without the RTNL lock, so they scale with the
 * cores (veth creation, which needs it, comes after). Every name is checked
 * and journaled first, in order, by this thread; the workers only create.
 * This thread reports progress (and so meets an injected fault at exactly
 * the item it names) and stops the workers at the first error.
 */
#define NS_WORKERS_MAX 4

struct ns_work {
	struct upctx *c;
	bool v6;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t next;	/* next node to take */
	uint32_t done;	/* nodes finished */
	unsigned running;
	bool stop;
	int ret;	/* first failure */
	struct sl_err err;
};

/* Namespace of node i with its sysctls; runs in any thread (unshare and
 * setns act on the calling thread). */
static int node_ns(struct upctx *c, uint32_t i, bool v6, struct sl_err *err)
{
	const struct sl_topo *t = c->t;
	char ns[128];
	int saved, ret;

	sl_netns_node(t->name, t->nodes[i].name, ns, sizeof(ns));
	ret = sl_netns_add(ns, &c->node_fd[i], err);
	ret = ret ?: sl_netns_enter(c->node_fd[i], &saved, err);
	if (ret)
		return ret;
	ret = sysctls_node(t, &t->nodes[i], v6, err);
	sl_netns_leave(saved);
	if (ret)
		sl_err_prefix(err, "node %s", t->nodes[i].name);
	return ret;
}

static void *ns_worker(void *arg)
{
	struct ns_work *w = arg;
	struct sl_err err = { "" };
	uint32_t i;
	int ret;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		if (w->stop || w->next >= w->c->t->n_nodes) {
			w->running--;
			pthread_cond_broadcast(&w->cond);
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		i = w->next++;
		pthread_mutex_unlock(&w->lock);
		ret = node_ns(w->c, i, w->v6, &err);
		pthread_mutex_lock(&w->lock);
		if (ret && !w->ret) {
			w->ret = ret;
			w->err = err;
		}
		if (ret)
			w->stop = true;
		else
			w->done++;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
}

static int up_nodes(struct upctx *c, struct sl_err *err)
{
	struct sl_topo *t = c->t;
	struct ns_work w = { .c = c, .v6 = access("/proc/sys/net/ipv6", F_OK) == 0 };
	pthread_t tid[NS_WORKERS_MAX];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n_workers, k, started = 0;
	uint32_t i, reported = 0;
	int ret = 0;

	for (i = 0; i < t->n_nodes; i++) {
		char ns[128];

		sl_netns_node(t->name, t->nodes[i].name, ns, sizeof(ns));
		ret = ns_claim(c, ns, err);
		if (ret)
			return ret;
	}
	n_workers = ncpu > 1 ? (unsigned)(ncpu < NS_WORKERS_MAX ? ncpu : NS_WORKERS_MAX) : 1;
	if (n_workers > t->n_nodes)
		n_workers = t->n_nodes ? t->n_nodes : 1;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	pthread_mutex_lock(&w.lock);
	for (k = 0; k < n_workers; k++) {
		w.running++;
		if (pthread_create(&tid[k], NULL, ns_worker, &w)) {
			w.running--;
			break;
		}
		started++;
	}
	if (!started) {
		pthread_mutex_unlock(&w.lock);
		ret = sl_err_set(err, EAGAIN, "cannot start a namespace thread");
		goto out;
	}
	/* report every item as it completes; stop at a failure or a fault */
	for (;;) {
		while (reported < w.done && !ret && !w.ret) {
			reported++;
			pthread_mutex_unlock(&w.lock);
			ret = progress(c, "namespaces", reported, t->n_nodes, err);
			pthread_mutex_lock(&w.lock);
			if (ret)
				w.stop = true;
		}
		if (!w.running)
			break;
		pthread_cond_wait(&w.cond, &w.lock);
	}
	pthread_mutex_unlock(&w.lock);
	for (k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
	if (!ret && w.ret) {
		*err = w.err;
		ret = w.ret;
	}
out:
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	return ret;
}

static int up_links(struct upctx *c, struct sl_err *err)
{
	struct sl_topo *t = c->t;
	char fabric_ns[128];
	uint32_t l;
	int s, ret;

	sl_netns_fabric(t->name, fabric_ns, sizeof(fabric_ns));
	for (l = 0; l < t->n_links; l++) {
		struct sl_link *lk = &t->links[l];

		for (s = 0; s < 2; s++) {
			struct sl_endpoint *ep = &lk->ep[s];
			uint8_t pmac[6], nmac[6];
			struct sl_veth v = {
				.mac = pmac,
				.peer_mac = nmac,
				.name = ep->port,
				.ifindex = sl_port_ifindex(l, s),
				.peer = ep->ifname,
				.peer_ifindex = sl_node_ifindex(ep->ifidx),
				.peer_netns_fd = c->node_fd[ep->node],
				.mtu = lk->mtu,
				.up = true,
			};

			sl_port_mac(l, s, pmac);
			sl_node_mac(ep->node, ep->ifidx, nmac);
			ret = sl_journal_add(c->j, "veth", fabric_ns, ep->port,
					     err);
			ret = ret ?: sl_nl_veth_add(c->fnl, &v, 0, err);
			if (ret)
				return ret;
		}
		ret = progress(c, "links", l + 1, t->n_links, err);
		if (ret)
			return ret;
	}
	return sl_nl_flush(c->fnl, err);
}

static int up_ports(struct upctx *c, struct sl_err *err)
{
	struct sl_topo *t = c->t;
	int saved, ret = 0, s;
	uint32_t l;

	for (l = 0; l < t->n_links && !ret; l++) {
		for (s = 0; s < 2 && !ret; s++) {
			struct sl_fabric_port p = {
				.peer_ifindex = (uint32_t)sl_port_ifindex(l, !s),
				.link = l,
				.dir = (uint8_t)s,
				.flags = SL_PORT_UP,
			};

			ret = sl_fabric_port_set(c->fabric,
						 (uint32_t)sl_port_ifindex(l, s),
						 &p, err);
		}
	}
	if (ret)
		return ret;
	ret = sl_netns_enter(c->fabric_fd, &saved, err);
	if (ret)
		return ret;
	for (l = 0; l < t->n_links && !ret; l++) {
		for (s = 0; s < 2 && !ret; s++)
			ret = sl_fabric_attach(c->fabric, sl_port_ifindex(l, s),
					       err);
		ret = ret ?: progress(c, "fabric", l + 1, t->n_links, err);
	}
	sl_netns_leave(saved);
	return ret;
}

static int node_routes(struct upctx *c, struct sl_nl *nl, uint32_t i,
		       const struct sl_route_table *rt, int family,
		       struct sl_err *err)
{
	const struct sl_node *nd = &c->t->nodes[i];
	const struct sl_prefix *src = family == AF_INET6 ? &nd->lo6 : &nd->lo4;
	uint32_t r, k;
	int ret;

	for (r = 0; r < rt->n; r++) {
		const struct sl_route *ro = &rt->routes[r];
		struct sl_nexthop nh[SL_ECMP_MAX];

		for (k = 0; k < ro->n_nh; k++) {
			nh[k].gw = sl_route_gateway(c->t, i, ro->nh[k], family);
			nh[k].ifindex = sl_node_ifindex(ro->nh[k]);
		}
		ret = sl_nl_route_add(nl, &ro->dst, nh, ro->n_nh,
				      src->family ? src : NULL, 0, err);
		if (ret)
			return ret;
	}
	c->n_routes += rt->n;
	return 0;
}

/* The sending side of a direction carries its shaper. */
static int apply_shaper(struct sl_nl *nl, const struct sl_kpolicy *kp,
			int ifindex, struct sl_err *err)
{
	const struct sl_shaper *sh = &kp->shaper;

	if (!sh->rate_bps)
		return 0;
	return sl_nl_qdisc_tbf(nl, ifindex, sh->rate_bps, sh->burst, sh->limit,
			       err);
}

/* The flow rules the file declares, in file order (ids 0, 1, ...). */
static int up_flows(struct upctx *c, struct sl_err *err)
{
	struct json_object *arr;
	size_t i, n;
	int ret = 0;

	if (!c->t->flows)
		return 0;
	arr = json_tokener_parse(c->t->flows);
	if (!arr)
		return sl_err_set(err, EINVAL, "flows: not JSON");
	n = json_object_array_length(arr);
	for (i = 0; i < n && !ret; i++) {
		struct sl_flow_rule r;
		uint32_t id;

		ret = sl_flow_parse_json(json_object_array_get_idx(arr, i), &r, err);
		ret = ret ?: sl_flow_add(c->fabric, &r, &id, err);
		if (ret)
			sl_err_prefix(err, "flows[%zu]", i);
	}
	json_object_put(arr);
	return ret;
}

/*
 * L4 max mode: a cgroup for the topology's processes, with the sockops and
 * sk_msg programs that join the two ends of a same-host TCP connection.
 * Not having it (no cgroup v2 here) does not stop the bring-up: the note
 * says why, and TCP simply crosses the emulated hops.
 */
static int up_sockredir(struct upctx *c, struct sl_err *err)
{
	struct sl_sockredir_opts o = { 0 };
	char root[256], pins[256];
	struct sl_err e;
	int ret;

	if (!c->t->socket_redirect)
		return 0;
	if (sl_cgroup2_root(root, sizeof(root), &e)) {
		snprintf(c->note, sizeof(c->note), "no socket redirection: %.200s", e.msg);
		return 0;
	}
	snprintf(c->cgroup, sizeof(c->cgroup), "%.200s/sluice/%.31s", root, c->t->name);
	ret = sl_journal_add(c->j, "cgroup", c->cgroup, NULL, err);
	if (ret)
		return ret;
	if (sl_sockredir_cgroup_create(c->t->name, c->cgroup, sizeof(c->cgroup), &e)) {
		snprintf(c->note, sizeof(c->note), "no socket redirection: %.200s", e.msg);
		c->cgroup[0] = '\0';
		return 0;
	}
	snprintf(pins, sizeof(pins), "%s/%s", SL_BPFFS_DIR, c->t->name);
	o.cgroup = c->cgroup;
	o.flows_pin_dir = pins;
	if (sl_sockredir_open(&o, &c->sockredir, &e))
		snprintf(c->note, sizeof(c->note), "no socket redirection: %.200s", e.msg);
	return 0;
}

static int up_policies(struct upctx *c, struct sl_err *err)
{
	uint32_t l;
	int d, ret;

	for (l = 0; l < c->t->n_links; l++)
		for (d = 0; d < 2 && !c->lp[l].normal; d++)
			if ((ret = sl_kpolicy_apply(c->fabric, l, (uint32_t)d,
						    &c->lp[l].kp[d], err)))
				return ret;
	return 0;
}

/* Normal-mode links go to the user-space dataplane (XDP on both ports,
 * AF_XDP sockets, a channel of cells per direction). */
static int up_dataplane(struct upctx *c, struct sl_err *err)
{
	uint32_t l;
	int ret;

	for (l = 0; l < c->t->n_links; l++) {
		const struct sl_link *lk = &c->t->links[l];
		struct sl_dataplane_link dl = {
			.topo = c->t->name,
			.link = l,
			.fabric_netns_fd = c->fabric_fd,
			.ifindex = { sl_port_ifindex(l, 0), sl_port_ifindex(l, 1) },
			.policy = { lk->policy[0], lk->policy[1] },
			.seed = 0x5eed0000ull + l,
		};

		if (!c->lp[l].normal)
			continue;
		ret = sl_dataplane_add_link(c->dp, &dl, err);
		if (ret) {
			sl_err_prefix(err, "links[%u] (%s-%s), normal mode", l,
				      c->t->nodes[lk->ep[0].node].name,
				      c->t->nodes[lk->ep[1].node].name);
			return ret;
		}
	}
	return 0;
}

/*
 * Node interfaces of normal-mode links steer their receive work (the
 * node's forwarding and TCP, run inside the dataplane's sendto() without
 * it) to the CPUs the dataplane threads are not pinned to. A performance
 * setting: when it cannot be made the links work as before, with a
 * warning.
 */
static void steer_node_ifs(struct sl_dataplane *dp, const struct sl_steer_if *ifs,
			   size_t n)
{
	struct sl_err err = { "" };
	char mask[128];

	if (!n || sl_dataplane_steer_mask(dp, mask, sizeof(mask)))
		return;
	if (sl_steer_rps(ifs, n, mask, &err))
		pr_warn("receive steering of normal-mode node interfaces off the "
			"dataplane's CPUs: %s (links work, with more timing error "
			"under load)", err.msg);
	else
		pr_debug("%zu node interfaces steer their receive work to CPUs %s",
			 n, mask);
}

void sl_net_steer_link(struct sl_dataplane *dp, const int node_fd[2],
		       const char *ifname[2])
{
	struct sl_steer_if ifs[2] = { { node_fd[0], ifname[0] },
				      { node_fd[1], ifname[1] } };

	steer_node_ifs(dp, ifs, 2);
}

static int up_addresses(struct upctx *c, struct sl_err *err)
{
	struct sl_topo *t = c->t;
	struct sl_steer_if *steer = NULL;
	size_t n_steer = 0;
	char mask[128];
	uint32_t i, k;
	int ret;

	if (c->dp && !sl_dataplane_steer_mask(c->dp, mask, sizeof(mask)) &&
	    !(steer = calloc((size_t)t->n_links * 2 + 1, sizeof(*steer))))
		return sl_err_set(err, ENOMEM, "out of memory");

	for (i = 0; i < t->n_nodes; i++) {
		const struct sl_node *nd = &t->nodes[i];
		struct sl_nl *nl = sl_nl_open(c->node_fd[i], err);

		if (!nl)
			return -EIO;
		ret = sl_nl_link_set(nl, 1, "lo", true, 0, err);
		if (!ret && nd->lo4.family)
			ret = sl_nl_addr_add(nl, 1, &nd->lo4, 0, err);
		if (!ret && nd->lo6.family)
			ret = sl_nl_addr_add(nl, 1, &nd->lo6, 0, err);
		for (k = 0; k < nd->n_links && !ret; k++) {
			const struct sl_link *lk = &t->links[nd->links[k]];
			const struct sl_endpoint *ep =
				lk->ep[0].node == i ? &lk->ep[0] : &lk->ep[1];

			ret = sl_nl_link_set(nl, sl_node_ifindex(k), ep->ifname,
					     true, 0, err);
			if (!ret && ep->addr4.family)
				ret = sl_nl_addr_add(nl, sl_node_ifindex(k),
						     &ep->addr4, 0, err);
			if (!ret && ep->addr6.family)
				ret = sl_nl_addr_add(nl, sl_node_ifindex(k),
						     &ep->addr6, 0, err);
			/* A normal-mode link's frames reach user space by
			 * XDP: no checksum may be left to offload. */
			if (!ret && c->lp[nd->links[k]].normal) {
				ret = sl_xsk_prepare_node_if(c->node_fd[i], ep->ifname,
							     SL_XSK_NODE_TXCSUM_OFF, err);
				if (steer)
					steer[n_steer++] = (struct sl_steer_if){
						c->node_fd[i], ep->ifname };
			} else if (!ret)
				ret = apply_shaper(nl, &c->lp[nd->links[k]].kp[
					ep == &lk->ep[0] ? SL_DIR_UP : SL_DIR_DOWN],
					sl_node_ifindex(k), err);
		}
		if (!ret && c->rt4)
			ret = node_routes(c, nl, i, &c->rt4[i], AF_INET, err);
		if (!ret && c->rt6)
			ret = node_routes(c, nl, i, &c->rt6[i], AF_INET6, err);
		ret = ret ?: sl_nl_flush(nl, err);
		sl_nl_free(nl);
		if (ret) {
			sl_err_prefix(err, "node %s", nd->name);
			free(steer);
			return ret;
		}
		ret = progress(c, "addresses", i + 1, t->n_nodes, err);
		if (ret) {
			free(steer);
			return ret;
		}
	}
	steer_node_ifs(c->dp, steer, n_steer);
	free(steer);
	return 0;
}

static int plan(struct upctx *c, struct sl_err *err)
{
	struct sl_prefix *avoid = NULL;
	size_t n_avoid = 0;
	uint32_t l;
	int ret;

	/* Policies are checked, and each link's mode chosen, before
	 * anything is created. */
	c->lp = calloc((size_t)c->t->n_links + 1, sizeof(*c->lp));
	if (!c->lp)
		return sl_err_set(err, ENOMEM, "out of memory");
	for (l = 0; l < c->t->n_links; l++)
		if ((ret = sl_link_plan(c->t, l, c->dp != NULL, -1, NULL,
					&c->lp[l], err)))
			return ret;
	ret = sl_nl_host_prefixes(&avoid, &n_avoid, err);
	if (ret)
		return ret;
	ret = sl_addr_assign(c->t, avoid, n_avoid, err);
	free(avoid);
	if (ret)
		return ret;
	ret = sl_routes_compute(c->t, AF_INET, &c->rt4, err);
	if (!ret && c->t->ipv6)
		ret = sl_routes_compute(c->t, AF_INET6, &c->rt6, err);
	return ret;
}

int sl_net_up(struct sl_topo *t, const char *rundir, struct sl_dataplane *dp,
	      sl_progress_fn *progress_fn, void *arg, struct sl_net **out,
	      struct sl_err *err)
{
	struct upctx c = {
		.t = t, .fabric_fd = -1, .progress = progress_fn, .arg = arg,
		.dp = dp,
	};
	char dir[256], path[300], *text = NULL;
	struct sl_net *n = NULL;
	double t0 = mono();
	uint32_t i;
	int ret;

	sl_net_topo_dir(rundir, t->name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/journal", dir);
	if (access(path, F_OK) == 0)
		return sl_err_set(err, EEXIST,
				  "topology \"%s\" is already up; expected a "
				  "name that is not in use (see sluicectl list)",
				  t->name);
	ret = plan(&c, err);
	if (ret)
		goto out;
	c.node_fd = malloc(sizeof(int) * (t->n_nodes ? t->n_nodes : 1));
	if (!c.node_fd) {
		ret = sl_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < t->n_nodes; i++)
		c.node_fd[i] = -1;
	ret = mkdir_p(dir);
	if (ret) {
		ret = sl_err_set(err, -ret, "create %s: %s", dir,
				 strerror(-ret));
		goto out;
	}
	c.j = sl_journal_open(path, err);
	if (!c.j) {
		ret = -EIO;
		rmdir(dir);
		goto out;
	}
	ret = sl_journal_add(c.j, "dir", dir, NULL, err);
	ret = ret ?: up_fabric(&c, rundir, err);
	ret = ret ?: up_nodes(&c, err);
	ret = ret ?: up_links(&c, err);
	ret = ret ?: fabric_ready(&c, err);
	ret = ret ?: up_policies(&c, err);
	ret = ret ?: up_flows(&c, err);
	ret = ret ?: up_sockredir(&c, err);
	ret = ret ?: up_ports(&c, err);
	ret = ret ?: up_addresses(&c, err);
	ret = ret ?: up_dataplane(&c, err);
	if (ret)
		goto rollback;

	text = hosts_text(t);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	ret = text ? sl_net_write_file(path, text, err) :
		     sl_err_set(err, ENOMEM, "out of memory");
	free(text);
	text = sl_topo_to_json(t, true);
	snprintf(path, sizeof(path), "%s/topology.json", dir);
	if (!ret)
		ret = text ? sl_net_write_file(path, text, err) :
			     sl_err_set(err, ENOMEM, "out of memory");
	if (ret)
		goto rollback;
	n = calloc(1, sizeof(*n));
	if (!n) {
		ret = sl_err_set(err, ENOMEM, "out of memory");
		goto rollback;
	}
	ret = fault_injected("commit", 1, err);
	ret = ret ?: sl_journal_commit(c.j, err);
	if (ret)
		goto rollback;
	n->topo = t;
	snprintf(n->dir, sizeof(n->dir), "%s", dir);
	n->created = time(NULL);
	n->fabric = c.fabric;
	c.fabric = NULL;
	snprintf(n->cgroup, sizeof(n->cgroup), "%s", c.cgroup);
	snprintf(n->note, sizeof(n->note), "%s", c.note);
	n->sockredir = c.sockredir;
	c.sockredir = NULL;
	n->dp = dp;
	n->normal = calloc((size_t)t->n_links + 1, sizeof(*n->normal));
	if (!n->normal) {
		ret = sl_err_set(err, ENOMEM, "out of memory");
		goto rollback;
	}
	for (i = 0; i < t->n_links; i++)
		n->normal[i] = c.lp[i].normal;
	n->up_seconds = mono() - t0;
	n->n_routes = c.n_routes;
	*out = n;
	n = NULL;
	goto out;

rollback:
	/* A loader still running must finish before its pins go. */
	fabric_ready(&c, NULL);
	if (n) {
		free(n->normal);
		sl_sockredir_free(n->sockredir);
		n->sockredir = NULL;
	}
	free(n);
	n = NULL;
	/* The dataplane's sockets hold the fabric namespace. */
	if (dp)
		sl_dataplane_remove_topology(dp, t->name);
	/* Close everything that pins a namespace before undoing. */
	sl_sockredir_free(c.sockredir);
	c.sockredir = NULL;
	sl_nl_free(c.fnl);
	c.fnl = NULL;
	sl_fabric_free(c.fabric);
	c.fabric = NULL;
	sl_journal_free(c.j);
	c.j = NULL;
	{
		struct sl_err e2;

		snprintf(path, sizeof(path), "%s/journal", dir);
		if (sl_journal_undo(path, NULL, &e2))
			sl_err_prefix(err, "(and rollback failed: %s)", e2.msg);
		rmdir(dir);
	}
out:
	free(text);
	sl_sockredir_free(c.sockredir);
	sl_nl_free(c.fnl);
	sl_fabric_free(c.fabric);
	sl_journal_free(c.j);
	if (c.fabric_fd >= 0)
		close(c.fabric_fd);
	if (c.node_fd)
		for (i = 0; i < t->n_nodes; i++)
			if (c.node_fd[i] >= 0)
				close(c.node_fd[i]);
	free(c.node_fd);
	free(c.lp);
	if (c.rt4)
		sl_route_tables_free(c.rt4, t->n_nodes);
	if (c.rt6)
		sl_route_tables_free(c.rt6, t->n_nodes);
	return ret;
}

int sl_net_destroy(const char *rundir, const char *name, unsigned *removed,
		   struct sl_err *err)
{
	char dir[256], path[300];
	int ret;

	sl_net_topo_dir(rundir, name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/journal", dir);
	ret = sl_journal_undo(path, removed, err);
	if (ret)
		return ret;
	/* Files the journal does not list (links.down) go with the dir. */
	snprintf(path, sizeof(path), "%s/links.down", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/topology.json", dir);
	unlink(path);
	if (rmdir(dir) && errno != ENOENT)
		return sl_err_set(err, errno, "remove %s: %s", dir,
				  strerror(errno));
	return 0;
}
