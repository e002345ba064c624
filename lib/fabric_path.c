// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fabric_path.c - path compression: plans the "paths" map of the kernel
 * fabric from the model and the nodes' route tables, and writes it
 * (include/sluice/fabric_path.h).
 *
 * The plan walks the routes as the nodes' kernels would forward: at each
 * node, a local address ends the walk (delivered); otherwise the longest
 * match among the node's connected subnets (its interfaces' prefixes) and
 * its static routes names the next link. route.c leaves a node's own and
 * connected space as "don't care" in its compressed table, so a static
 * route may cover a connected subnet or a local address with a shorter
 * prefix: local first, then connected winning ties, keeps the kernel's
 * order. Everything a walk cannot decide the way the kernel would ends it
 * (fabric_path.h lists the cases), and the router there takes over.
 *
 * Cost: (host ports) x (addresses) walks of at most SL_PATH_HOPS_MAX
 * hops, each a scan of one node's routes (O(log N) after route.c's
 * compression) and interfaces. Planning stops at the capacity, so the
 * memory is bounded by it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include <sluice/fabric_path.h>
#include <sluice/kpolicy.h>
#include <sluice/net.h>

#include "fabric_int.h"

/* The kernel's own "not supported" (include/linux/errno.h), which batch
 * operations return on map types without them; not in the C library. */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

/* Why a link direction cannot be crossed inside a compressed path. */
#define NC_SHAPER (1u << 0) /* a tbf qdisc on the sending interface */
#define NC_MODE (1u << 1)   /* normal mode: the user-space dataplane */

struct plan {
	const struct sl_topo *t;
	const struct sl_route_table *rt;
	int family;
	int bits;
	uint8_t *nocomp; /* [2 * link + dir]: NC_* */
	struct sl_fabric_path_entry *e;
	size_t n, cap, max;
	struct sl_fabric_paths_info info;
	uint32_t *seen;  /* [node]: walk number that visited it */
	uint32_t walk;
};

static const struct sl_prefix *ep_addr(const struct sl_endpoint *ep,
				       int family)
{
	return family == AF_INET6 ? &ep->addr6 : &ep->addr4;
}

static const struct sl_prefix *lo_addr(const struct sl_node *nd, int family)
{
	return family == AF_INET6 ? &nd->lo6 : &nd->lo4;
}

/* The first len bits of a and b agree. */
static bool bits_match(const uint8_t *a, const uint8_t *b, int len)
{
	int full = len / 8, rest = len % 8;

	if (memcmp(a, b, (size_t)full))
		return false;
	if (!rest)
		return true;
	return !((a[full] ^ b[full]) & (uint8_t)(0xff00u >> rest));
}

static bool same_addr(const struct sl_prefix *p, const uint8_t *x, int bytes)
{
	return p->family && !memcmp(p->addr, x, (size_t)bytes);
}

/* The side of link l that node n is on. */
static int side_of(const struct sl_link *lk, uint32_t n)
{
	return lk->ep[0].node == n ? 0 : 1;
}

/* x is one of node n's addresses (lo or an interface). */
static bool is_local(const struct plan *pl, uint32_t n, const uint8_t *x)
{
	const struct sl_node *nd = &pl->t->nodes[n];
	int bytes = pl->bits / 8;
	uint32_t k;

	if (same_addr(lo_addr(nd, pl->family), x, bytes))
		return true;
	for (k = 0; k < nd->n_links; k++) {
		const struct sl_link *lk = &pl->t->links[nd->links[k]];

		if (same_addr(ep_addr(&lk->ep[side_of(lk, n)], pl->family), x,
			      bytes))
			return true;
	}
	return false;
}

/*
 * Node n's route to x: the link it leaves on (*link), or -1 when the
 * kernel would not forward it to a known neighbour (no route, an
 * unreachable route, a connected subnet where nobody owns x). Of ECMP next
 * hops, seed picks one (fabric_path.h says why that is fair).
 */
static int next_link(const struct plan *pl, uint32_t n, const uint8_t *x,
		     uint32_t seed, uint32_t *link)
{
	const struct sl_node *nd = &pl->t->nodes[n];
	const struct sl_route_table *rt = &pl->rt[n];
	int best = -1, conn = 0, bytes = pl->bits / 8;
	uint32_t k, r, out = 0;

	for (k = 0; k < nd->n_links; k++) {
		const struct sl_link *lk = &pl->t->links[nd->links[k]];
		const struct sl_prefix *p =
			ep_addr(&lk->ep[side_of(lk, n)], pl->family);

		if (p->family && (int)p->len > best &&
		    bits_match(p->addr, x, p->len)) {
			best = p->len;
			conn = 1;
			out = k;
		}
	}
	for (r = 0; r < rt->n; r++) {
		const struct sl_route *ro = &rt->routes[r];

		/* ties go to the connected route (the kernel's, added
		 * first; route.c never emits the same prefix) */
		if (ro->dst.family == pl->family && (int)ro->dst.len > best &&
		    bits_match(ro->dst.addr, x, ro->dst.len)) {
			best = ro->dst.len;
			conn = 0;
			out = ro->n_nh ? ro->nh[seed % ro->n_nh] : UINT32_MAX;
			if (out != UINT32_MAX && out >= nd->n_links)
				out = UINT32_MAX;
		}
	}
	if (best < 0 || out == UINT32_MAX)
		return -1;
	*link = nd->links[out];
	if (conn) {
		/* on-link: delivered only if the neighbour owns x */
		const struct sl_link *lk = &pl->t->links[*link];

		if (!same_addr(ep_addr(&lk->ep[!side_of(lk, n)], pl->family),
			       x, bytes))
			return -1;
	}
	return 0;
}

/* FNV-1a over the ingress port and the destination: the same pair picks
 * the same ECMP next hops on every build. */
static uint32_t pair_hash(uint32_t ifindex, const uint8_t *x, int bytes)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 4; i++)
		h = (h ^ ((ifindex >> (8 * i)) & 0xff)) * 16777619u;
	for (i = 0; i < bytes; i++)
		h = (h ^ x[i]) * 16777619u;
	return h;
}

static int push(struct plan *pl, const struct sl_fabric_path_entry *e,
		struct sl_err *err)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? 2 * pl->cap : 256;
		struct sl_fabric_path_entry *ne;

		if (cap > pl->max)
			cap = pl->max;
		ne = realloc(pl->e, cap * sizeof(*ne));
		if (!ne)
			return sl_err_set(err, ENOMEM,
					  "fabric paths: out of memory (%zu entries)",
					  cap);
		pl->e = ne;
		pl->cap = cap;
	}
	pl->e[pl->n++] = *e;
	return 0;
}

/*
 * The walk of a packet to x entering the fabric from node a's side s of
 * link l0; appends its entry when it crosses two links or more.
 */
static int walk(struct plan *pl, uint32_t a, uint32_t l0, int s,
		const uint8_t *x, struct sl_err *err)
{
	const struct sl_topo *t = pl->t;
	const struct sl_link *lk = &t->links[l0];
	struct sl_fabric_path_entry e;
	uint32_t cur, prev = a, last = l0, mtu0 = lk->mtu, hops = 1, l2;
	int last_side = !s, s2;
	bool truncated = false;
	uint32_t seed;

	if (pl->nocomp[2 * l0 + s] & NC_MODE) {
		pl->info.single++;
		return 0;
	}
	memset(&e, 0, sizeof(e));
	e.key.ifindex = (uint32_t)sl_port_ifindex(l0, s);
	e.key.family = pl->family == AF_INET6 ? SL_FLOW_FAMILY_IPV6 :
						SL_FLOW_FAMILY_IPV4;
	memcpy(e.key.addr, x, (size_t)pl->bits / 8);
	seed = pair_hash(e.key.ifindex, x, pl->bits / 8);
	e.path.ld[0] = 2 * l0 + (uint32_t)s;
	cur = lk->ep[!s].node;
	sl_node_mac(cur, lk->ep[!s].ifidx, e.path.first_mac);
	pl->walk++;
	pl->seen[a] = pl->walk;

	for (;;) {
		pl->seen[cur] = pl->walk;
		if (is_local(pl, cur, x))
			break;
		/* a host does not forward: hop by hop drops it there too */
		if (t->nodes[cur].kind != SL_NODE_ROUTER) {
			pl->info.single++;
			return 0;
		}
		/* a different draw per hop, so that two ECMP stages do not
		 * always take the same index */
		if (next_link(pl, cur, x, seed, &l2) < 0) {
			truncated = true;
			break;
		}
		lk = &t->links[l2];
		s2 = side_of(lk, cur);
		if (hops == SL_PATH_HOPS_MAX ||
		    pl->nocomp[2 * l2 + (uint32_t)s2] || lk->mtu < mtu0 ||
		    pl->seen[lk->ep[!s2].node] == pl->walk) {
			truncated = true;
			break;
		}
		e.path.ld[hops++] = 2 * l2 + (uint32_t)s2;
		seed = seed * 16777619u + hops;
		prev = cur;
		last = l2;
		last_side = !s2;
		cur = lk->ep[!s2].node;
	}
	if (hops < 2) {
		pl->info.single++;
		return 0;
	}
	if (pl->n >= pl->max) {
		pl->info.capped++;
		return 0;
	}
	lk = &t->links[last];
	e.path.hops = (uint8_t)hops;
	e.path.target_ifindex = (uint32_t)sl_port_ifindex(last, last_side);
	sl_node_mac(cur, lk->ep[last_side].ifidx, e.path.dmac);
	sl_node_mac(prev, lk->ep[!last_side].ifidx, e.path.smac);
	if (truncated)
		pl->info.truncated++;
	else
		pl->info.full++;
	if (hops > pl->info.max_hops)
		pl->info.max_hops = hops;
	return push(pl, &e, err);
}

/* Walks from every port of every host to x. */
static int walk_all_from_hosts(struct plan *pl, const struct sl_prefix *x)
{
	const struct sl_topo *t = pl->t;
	uint32_t a, k;
	int ret;

	if (x->family != pl->family)
		return 0;
	for (a = 0; a < t->n_nodes; a++) {
		const struct sl_node *nd = &t->nodes[a];

		if (nd->kind != SL_NODE_HOST || is_local(pl, a, x->addr))
			continue;
		for (k = 0; k < nd->n_links; k++) {
			uint32_t l = nd->links[k];

			ret = walk(pl, a, l, side_of(&t->links[l], a), x->addr,
				   NULL);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* One family: node addresses first (what names resolve to), then
 * interface addresses, so a capped plan keeps the most used ones. */
static int plan_family(struct plan *pl, struct sl_err *err)
{
	const struct sl_topo *t = pl->t;
	uint32_t i, s;
	int ret;

	for (i = 0; i < t->n_nodes; i++) {
		ret = walk_all_from_hosts(pl, lo_addr(&t->nodes[i], pl->family));
		if (ret)
			return sl_err_set(err, -ret,
					  "fabric paths: out of memory");
	}
	for (i = 0; i < t->n_links; i++)
		for (s = 0; s < 2; s++) {
			ret = walk_all_from_hosts(pl,
				ep_addr(&t->links[i].ep[s], pl->family));
			if (ret)
				return sl_err_set(err, -ret,
						  "fabric paths: out of memory");
		}
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sl_fabric_path_key));
}

/* Which link directions a compressed path must not cross. */
static int mark_nocomp(const struct sl_topo *t, uint8_t *nocomp)
{
	uint32_t l;
	int d;

	for (l = 0; l < t->n_links; l++) {
		const struct sl_link *lk = &t->links[l];

		for (d = 0; d < 2; d++) {
			struct sl_kpolicy kp;
			struct sl_err e;

			if (lk->mode == SL_MODE_NORMAL)
				nocomp[2 * l + d] |= NC_MODE;
			/* a policy bring-up would refuse: stay out of it */
			if (sl_kpolicy_from_policy(lk->policy[d], lk->mtu, &kp,
						   &e))
				nocomp[2 * l + d] |= NC_MODE;
			else if (kp.shaper.rate_bps)
				nocomp[2 * l + d] |= NC_SHAPER;
		}
	}
	return 0;
}

int sl_fabric_paths_plan(const struct sl_topo *t,
			 const struct sl_route_table *rt4,
			 const struct sl_route_table *rt6, uint32_t max,
			 struct sl_fabric_path_entry **out, size_t *n,
			 struct sl_fabric_paths_info *info, struct sl_err *err)
{
	struct plan pl = { .t = t, .max = max ? max : SL_FABRIC_PATHS_MAX };
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (info)
		memset(info, 0, sizeof(*info));
	pl.nocomp = calloc(2 * (size_t)t->n_links + 1, 1);
	pl.seen = calloc((size_t)t->n_nodes + 1, sizeof(*pl.seen));
	if (!pl.nocomp || !pl.seen) {
		ret = sl_err_set(err, ENOMEM, "fabric paths: out of memory");
		goto out;
	}
	mark_nocomp(t, pl.nocomp);
	if (rt4) {
		pl.family = AF_INET;
		pl.bits = 32;
		pl.rt = rt4;
		ret = plan_family(&pl, err);
	}
	if (!ret && rt6) {
		pl.family = AF_INET6;
		pl.bits = 128;
		pl.rt = rt6;
		ret = plan_family(&pl, err);
	}
	if (ret)
		goto out;
	if (pl.n)
		qsort(pl.e, pl.n, sizeof(*pl.e), key_cmp);
	pl.info.entries = pl.n;
	*out = pl.e;
	*n = pl.n;
	pl.e = NULL;
	if (info)
		*info = pl.info;
out:
	free(pl.e);
	free(pl.nocomp);
	free(pl.seen);
	return ret;
}

/* ---- the map */

static int check_path(const struct sl_fabric *f,
		      const struct sl_fabric_path_key *k,
		      const struct sl_fabric_path *p, struct sl_err *err)
{
	uint32_t i;

	if (k->family != SL_FLOW_FAMILY_IPV4 && k->family != SL_FLOW_FAMILY_IPV6)
		return sl_err_set(err, EINVAL,
				  "fabric path: key family %u; expected 4 or 6",
				  k->family);
	if (k->family == SL_FLOW_FAMILY_IPV4 &&
	    (k->addr[1] || k->addr[2] || k->addr[3]))
		return sl_err_set(err, EINVAL,
				  "fabric path: IPv4 key with address words 1-3 set");
	if (!k->ifindex || !p->target_ifindex)
		return sl_err_set(err, EINVAL,
				  "fabric path: ifindex 0 (key or target)");
	if (p->hops < 2 || p->hops > SL_PATH_HOPS_MAX)
		return sl_err_set(err, EINVAL,
				  "fabric path: hops %u; expected 2 to %u",
				  p->hops, SL_PATH_HOPS_MAX);
	if (p->flags)
		return sl_err_set(err, EINVAL, "fabric path: flags must be zero");
	for (i = 0; i < SL_PATH_HOPS_MAX; i++) {
		if (i < p->hops && p->ld[i] >= 2 * f->max_links)
			return sl_err_set(err, EINVAL,
					  "fabric path: ld[%u] = %u out of range (max %u links)",
					  i, p->ld[i], f->max_links);
		if (i >= p->hops && p->ld[i])
			return sl_err_set(err, EINVAL,
					  "fabric path: ld[%u] beyond hops must be zero",
					  i);
	}
	return 0;
}

int sl_fabric_path_set(struct sl_fabric *f, const struct sl_fabric_path_key *k,
		       const struct sl_fabric_path *p, struct sl_err *err)
{
	int ret = check_path(f, k, p, err);

	if (ret)
		return ret;
	if (bpf_map_update_elem(f->fd[SL_FO_PATHS], k, p, BPF_ANY) < 0)
		return sl_err_set(err, errno, "fabric path: update: %s",
				  strerror(errno));
	return 0;
}

int sl_fabric_path_get(struct sl_fabric *f, const struct sl_fabric_path_key *k,
		       struct sl_fabric_path *out, struct sl_err *err)
{
	if (bpf_map_lookup_elem(f->fd[SL_FO_PATHS], k, out) < 0)
		return sl_err_set(err, errno, "fabric path: %s",
				  errno == ENOENT ? "no such path"
						  : strerror(errno));
	return 0;
}

int sl_fabric_path_del(struct sl_fabric *f, const struct sl_fabric_path_key *k,
		       struct sl_err *err)
{
	if (bpf_map_delete_elem(f->fd[SL_FO_PATHS], k) < 0)
		return sl_err_set(err, errno, "fabric path: delete: %s",
				  errno == ENOENT ? "no such path"
						  : strerror(errno));
	return 0;
}

/* Every key of the map (malloc'ed, *n of them). */
static int read_keys(struct sl_fabric *f, struct sl_fabric_path_key **out,
		     size_t *n, struct sl_err *err)
{
	struct sl_fabric_path_key k, next, *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	const void *prev = NULL;

	while (bpf_map_get_next_key(f->fd[SL_FO_PATHS], prev, &next) == 0) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return sl_err_set(err, ENOMEM,
						  "fabric paths: out of memory");
			}
			v = nv;
		}
		v[cnt++] = next;
		k = next;
		prev = &k;
	}
	if (errno != ENOENT) {
		free(v);
		return sl_err_set(err, errno, "fabric paths: walk keys: %s",
				  strerror(errno));
	}
	*out = v;
	*n = cnt;
	return 0;
}

int64_t sl_fabric_paths_count(struct sl_fabric *f, struct sl_err *err)
{
	struct sl_fabric_path_key *keys;
	size_t n;
	int ret = read_keys(f, &keys, &n, err);

	if (ret)
		return ret;
	free(keys);
	return (int64_t)n;
}

int sl_fabric_paths_clear(struct sl_fabric *f, uint64_t *n,
			  struct sl_err *err)
{
	struct sl_fabric_path_key *keys;
	size_t cnt, i;
	int ret = read_keys(f, &keys, &cnt, err);

	if (ret)
		return ret;
	for (i = 0; i < cnt; i++)
		if (bpf_map_delete_elem(f->fd[SL_FO_PATHS], &keys[i]) < 0 &&
		    errno != ENOENT) {
			ret = sl_err_set(err, errno,
					 "fabric paths: delete: %s",
					 strerror(errno));
			break;
		}
	free(keys);
	if (n)
		*n = i;
	return ret;
}

/* Writes entries in batches (one syscall per batch where the kernel
 * has batch updates for hash maps, else one per entry). */
static int write_entries(struct sl_fabric *f,
			 const struct sl_fabric_path_entry *e, size_t n,
			 struct sl_err *err)
{
	enum { BATCH = 1024 };
	struct sl_fabric_path_key *keys = NULL;
	struct sl_fabric_path *vals = NULL;
	size_t i = 0, j, m;
	uint32_t cnt;
	int ret = 0, batch = 1;

	keys = malloc(BATCH * sizeof(*keys));
	vals = malloc(BATCH * sizeof(*vals));
	if (!keys || !vals) {
		ret = sl_err_set(err, ENOMEM, "fabric paths: out of memory");
		goto out;
	}
	while (i < n) {
		m = n - i < BATCH ? n - i : BATCH;
		for (j = 0; j < m; j++) {
			keys[j] = e[i + j].key;
			vals[j] = e[i + j].path;
		}
		cnt = (uint32_t)m;
		if (batch && bpf_map_update_batch(f->fd[SL_FO_PATHS], keys,
						  vals, &cnt, NULL) == 0) {
			i += m;
			continue;
		}
		if (batch && (errno == EINVAL || errno == ENOTSUPP ||
			      errno == EOPNOTSUPP) && cnt == 0) {
			batch = 0; /* no batch ops: one at a time */
			continue;
		}
		if (batch) {
			ret = sl_err_set(err, errno,
					 "fabric paths: batch update: %s%s",
					 strerror(errno),
					 errno == E2BIG || errno == ENOMEM ?
						 " (map full)" : "");
			goto out;
		}
		for (j = 0; j < m; j++)
			if (bpf_map_update_elem(f->fd[SL_FO_PATHS], &keys[j],
						&vals[j], BPF_ANY) < 0) {
				ret = sl_err_set(err, errno,
						 "fabric paths: update: %s",
						 strerror(errno));
				goto out;
			}
		i += m;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

int sl_fabric_paths_build(struct sl_fabric *f, const struct sl_topo *t,
			  const struct sl_route_table *rt4,
			  const struct sl_route_table *rt6,
			  struct sl_fabric_paths_info *info, struct sl_err *err)
{
	struct sl_fabric_path_entry *e = NULL;
	struct sl_fabric_path_key *old = NULL;
	struct sl_fabric_paths_info in;
	size_t n = 0, n_old = 0, i;
	int ret;

	ret = sl_fabric_paths_plan(t, rt4, rt6, f->max_paths, &e, &n, &in,
				   err);
	if (ret)
		return ret;
	for (i = 0; i < n && !ret; i++)
		ret = check_path(f, &e[i].key, &e[i].path, err);
	/* keys before the write: what is not in the plan goes after it */
	ret = ret ?: read_keys(f, &old, &n_old, err);
	ret = ret ?: write_entries(f, e, n, err);
	for (i = 0; i < n_old && !ret; i++) {
		if (n && bsearch(&old[i], e, n, sizeof(*e), key_cmp))
			continue;
		if (bpf_map_delete_elem(f->fd[SL_FO_PATHS], &old[i]) < 0 &&
		    errno != ENOENT)
			ret = sl_err_set(err, errno,
					 "fabric paths: delete stale: %s",
					 strerror(errno));
		else
			in.deleted++;
	}
	if (ret)
		sl_err_prefix(err, "topology %s", t->name);
	else if (info)
		*info = in;
	free(e);
	free(old);
	return ret;
}

int sl_fabric_paths_refresh(struct sl_fabric *f, const struct sl_topo *t,
			    const struct sl_route_table *rt4,
			    const struct sl_route_table *rt6,
			    struct sl_fabric_paths_info *info,
			    struct sl_err *err)
{
	return sl_fabric_paths_build(f, t, rt4, rt6, info, err);
}
