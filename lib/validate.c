// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * validate.c - semantic checks of a topology model, whatever built it (the
 * file parser, a generator, a later edit): names, duplicate and self links,
 * MTU and mode, endpoint addresses, overlaps between addresses, pools, and
 * finally the interface names (sl_ifnames_assign).
 *
 * Messages name the place in the file format's terms ("links[3].mtu"): the
 * parser appends nodes and links in file order, so model indices are file
 * indices. Every check is O(n log n) or better, since generated topologies
 * reach SL_NODES_MAX nodes and many more links.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/addr.h>
#include <sluice/topo.h>

#include "topo_util.h"

#define OVERLAP_EXPECTED "node addresses and link subnets that do not overlap"

static const char *src(const struct sl_topo *t)
{
	return t->source ? t->source : "<topology>";
}

static const char *fam_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

static int check_names(struct sl_topo *t, struct sl_err *err)
{
	struct sl_name_index ix;
	char problem[SL_ERR_MAX / 2], q[SL_QUOTE_MAX];
	uint32_t i, dup, dup_of;

	if (!sl_name_check(t->name, SL_TOPO_NAME_MAX - 1, problem,
			   sizeof(problem)))
		return sl_err_set(err, EINVAL,
				  "%s: name: %s; expected " SL_NAME_EXPECTED,
				  src(t), problem, SL_TOPO_NAME_MAX - 1);
	if (!t->n_nodes)
		return sl_err_set(err, EINVAL,
				  "%s: nodes: there are no nodes; expected at least one node",
				  src(t));
	for (i = 0; i < t->n_nodes; i++) {
		const struct sl_node *n = &t->nodes[i];

		if (!sl_name_check(n->name, SL_NAME_MAX - 1, problem,
				   sizeof(problem)))
			return sl_err_set(err, EINVAL,
					  "%s: nodes[%u].name: %s; expected " SL_NAME_EXPECTED,
					  src(t), i, problem, SL_NAME_MAX - 1);
		if (n->kind != SL_NODE_HOST && n->kind != SL_NODE_ROUTER)
			return sl_err_set(err, EINVAL,
					  "%s: nodes[%u].kind: %d is not a node kind; expected \"host\" or \"router\"",
					  src(t), i, (int)n->kind);
	}
	if (sl_name_index_build(&ix, t, &dup, &dup_of))
		return sl_err_set(err, ENOMEM, "%s: out of memory", src(t));
	sl_name_index_free(&ix);
	if (dup != UINT32_MAX)
		return sl_err_set(err, EINVAL,
				  "%s: nodes[%u].name: duplicate name %s (also nodes[%u]); expected a name no other node has",
				  src(t), dup,
				  sl_quote(t->nodes[dup].name, q, sizeof(q)),
				  dup_of);
	return 0;
}

/* "network" or "broadcast" when an IPv4 address is one of these in a subnet
 * that has them (len < 31), else NULL. */
static const char *v4_special(const struct sl_prefix *p)
{
	uint32_t a, host;

	if (p->family != AF_INET || p->len >= 31)
		return NULL;
	a = (uint32_t)p->addr[0] << 24 | (uint32_t)p->addr[1] << 16 |
	    (uint32_t)p->addr[2] << 8 | p->addr[3];
	host = a & (0xffffffffu >> p->len);
	if (!host)
		return "network";
	if (host == 0xffffffffu >> p->len)
		return "broadcast";
	return NULL;
}

/* The example host address for a message: network + 1, same length. */
static const char *first_host(const struct sl_prefix *p, char *buf,
			      size_t len)
{
	struct sl_prefix h;

	if (sl_prefix_add(p, 1, &h))
		h = *p;
	return sl_prefix_str(&h, buf, len, true);
}

/* Checks one address slot of a node or endpoint: family, ipv6, and for
 * IPv4 not the network or broadcast address. */
static int check_addr(const struct sl_topo *t, const struct sl_prefix *p,
		      int family, const char *path, struct sl_err *err)
{
	char a[64], h[64];
	const char *special;

	if (!p->family)
		return 0;
	if (p->family != family)
		return sl_err_set(err, EINVAL,
				  "%s: %s: %s is not an %s address; expected an %s address",
				  src(t), path, sl_prefix_str(p, a, sizeof(a), true),
				  fam_name(family), fam_name(family));
	if (family == AF_INET6 && !t->ipv6)
		return sl_err_set(err, EINVAL,
				  "%s: %s: IPv6 address %s but the topology is not dual-stack; expected \"ipv6\": true at the top level, or no IPv6 addresses",
				  src(t), path, sl_prefix_str(p, a, sizeof(a), true));
	special = v4_special(p);
	if (special)
		return sl_err_set(err, EINVAL,
				  "%s: %s: %s is the %s address of its subnet; expected a host address such as %s",
				  src(t), path, sl_prefix_str(p, a, sizeof(a), true),
				  special, first_host(p, h, sizeof(h)));
	return 0;
}

static int check_node_addrs(struct sl_topo *t, struct sl_err *err)
{
	char path[64];
	uint32_t i;
	int ret;

	for (i = 0; i < t->n_nodes; i++) {
		snprintf(path, sizeof(path), "nodes[%u].addresses", i);
		ret = check_addr(t, &t->nodes[i].lo4, AF_INET, path, err);
		if (!ret)
			ret = check_addr(t, &t->nodes[i].lo6, AF_INET6, path,
					 err);
		if (ret)
			return ret;
	}
	return 0;
}

static const char *addr_key(int family)
{
	return family == AF_INET6 ? "address6" : "address";
}

/* Both endpoints of a link carry an address of a family or neither does,
 * both in one subnet, and not the same address. */
static int check_link_addrs(const struct sl_topo *t, uint32_t l, int family,
			    struct sl_err *err)
{
	const struct sl_link *lk = &t->links[l];
	const struct sl_prefix *p[2];
	struct sl_prefix net0, net1;
	char path[96], a[64], b[64];
	int i, ret;

	for (i = 0; i < 2; i++) {
		p[i] = family == AF_INET ? &lk->ep[i].addr4 : &lk->ep[i].addr6;
		snprintf(path, sizeof(path), "links[%u].endpoints[%d].%s", l,
			 i, addr_key(family));
		ret = check_addr(t, p[i], family, path, err);
		if (ret)
			return ret;
	}
	if (!p[0]->family && !p[1]->family)
		return 0;
	for (i = 0; i < 2; i++)
		if (!p[i]->family)
			return sl_err_set(err, EINVAL,
					  "%s: links[%u].endpoints[%d]: no \"%s\" while endpoints[%d] has %s; expected an %s address on both endpoints of a link or on neither",
					  src(t), l, i, addr_key(family),
					  !i, sl_prefix_str(p[!i], a, sizeof(a), true),
					  fam_name(family));
	net0 = *p[0];
	net1 = *p[1];
	sl_prefix_mask(&net0);
	sl_prefix_mask(&net1);
	if (p[0]->len != p[1]->len || memcmp(net0.addr, net1.addr, 16))
		return sl_err_set(err, EINVAL,
				  "%s: links[%u].endpoints[1].%s: %s is not in the subnet %s of endpoints[0]; expected an address in the same subnet as the other endpoint",
				  src(t), l, addr_key(family),
				  sl_prefix_str(p[1], a, sizeof(a), true),
				  sl_prefix_str(&net0, b, sizeof(b), true));
	if (!memcmp(p[0]->addr, p[1]->addr, 16))
		return sl_err_set(err, EINVAL,
				  "%s: links[%u].endpoints[1].%s: %s is also the address of endpoints[0]; expected a different address in the same subnet",
				  src(t), l, addr_key(family),
				  sl_prefix_str(p[1], a, sizeof(a), true));
	return 0;
}

static uint64_t pair_hash(uint32_t a, uint32_t b)
{
	uint64_t x = (uint64_t)a << 32 | b;

	/* splitmix64 finaliser: spreads consecutive pairs over the table */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static void link_pair(const struct sl_link *lk, uint32_t *lo, uint32_t *hi)
{
	uint32_t a = lk->ep[0].node, b = lk->ep[1].node;

	*lo = a < b ? a : b;
	*hi = a < b ? b : a;
}

static int check_links(struct sl_topo *t, struct sl_err *err)
{
	char qa[SL_QUOTE_MAX], qb[SL_QUOTE_MAX];
	uint32_t *slots = NULL, size = 16, mask, l;
	int ret = 0, e;

	while (size < t->n_links * 2u && size < (1u << 31))
		size *= 2;
	slots = calloc(size, sizeof(*slots));
	if (!slots)
		return sl_err_set(err, ENOMEM, "%s: out of memory", src(t));
	mask = size - 1;
	for (l = 0; l < t->n_links; l++) {
		struct sl_link *lk = &t->links[l];
		uint32_t lo, hi, h;

		for (e = 0; e < 2; e++)
			if (lk->ep[e].node >= t->n_nodes) {
				ret = sl_err_set(err, EINVAL,
						 "%s: links[%u].endpoints[%d]: node index %u does not exist; expected the name of a node in \"nodes\"",
						 src(t), l, e, lk->ep[e].node);
				goto out;
			}
		if (lk->ep[0].node == lk->ep[1].node) {
			ret = sl_err_set(err, EINVAL, SL_MSG_SELF_LINK, src(t),
					 l,
					 t->nodes[lk->ep[0].node].name);
			goto out;
		}
		link_pair(lk, &lo, &hi);
		for (h = (uint32_t)pair_hash(lo, hi) & mask; slots[h];
		     h = (h + 1) & mask) {
			uint32_t olo, ohi;

			link_pair(&t->links[slots[h] - 1], &olo, &ohi);
			if (olo == lo && ohi == hi)
				break;
		}
		if (slots[h]) {
			ret = sl_err_set(err, EINVAL,
					 "%s: links[%u].endpoints: duplicate link between %s and %s (also links[%u]); expected at most one link between two nodes",
					 src(t), l,
					 sl_quote(t->nodes[lk->ep[0].node].name,
						  qa, sizeof(qa)),
					 sl_quote(t->nodes[lk->ep[1].node].name,
						  qb, sizeof(qb)),
					 slots[h] - 1);
			goto out;
		}
		slots[h] = l + 1;
		if (lk->mtu < SL_MTU_MIN || lk->mtu > SL_MTU_MAX) {
			ret = sl_err_set(err, EINVAL,
					 "%s: links[%u].mtu: %u is out of range; expected an integer from %d to %d",
					 src(t), l, lk->mtu, SL_MTU_MIN,
					 SL_MTU_MAX);
			goto out;
		}
		if (lk->mode != SL_MODE_AUTO && lk->mode != SL_MODE_MAX &&
		    lk->mode != SL_MODE_NORMAL) {
			ret = sl_err_set(err, EINVAL,
					 "%s: links[%u].mode: %d is not a mode; expected \"auto\", \"max\" or \"normal\"",
					 src(t), l, (int)lk->mode);
			goto out;
		}
		ret = check_link_addrs(t, l, AF_INET, err);
		if (!ret)
			ret = check_link_addrs(t, l, AF_INET6, err);
		if (ret)
			goto out;
	}
out:
	free(slots);
	return ret;
}

static int check_pool(const struct sl_topo *t, const struct sl_prefix *p,
		      int family, struct sl_err *err)
{
	const char *key = family == AF_INET ? "pool" : "pool6";
	const char *example = family == AF_INET ? "10.0.0.0/16" : "fd5c:1::/64";
	int min = family == AF_INET ? 8 : 16, max = family == AF_INET ? 30 : 120;
	struct sl_prefix net;
	char a[64], b[64];

	if (!p->family)
		return 0;
	if (p->family != family)
		return sl_err_set(err, EINVAL,
				  "%s: %s: %s is not an %s network; expected an %s network such as %s",
				  src(t), key, sl_prefix_str(p, a, sizeof(a), true),
				  fam_name(family), fam_name(family), example);
	if (family == AF_INET6 && !t->ipv6)
		return sl_err_set(err, EINVAL,
				  "%s: pool6: an IPv6 pool but the topology is not dual-stack; expected \"ipv6\": true at the top level, or no \"pool6\"",
				  src(t));
	if (p->len < min || p->len > max)
		return sl_err_set(err, EINVAL,
				  "%s: %s: the length /%u of %s is out of range; expected an %s network with a length from %d to %d such as %s",
				  src(t), key, p->len,
				  sl_prefix_str(p, a, sizeof(a), true),
				  fam_name(family), min, max, example);
	net = *p;
	sl_prefix_mask(&net);
	if (memcmp(net.addr, p->addr, 16))
		return sl_err_set(err, EINVAL,
				  "%s: %s: %s is not a network address (host bits set); expected %s",
				  src(t), key, sl_prefix_str(p, a, sizeof(a), true),
				  sl_prefix_str(&net, b, sizeof(b), true));
	return 0;
}

/*
 * One address (node) or subnet (link) for the overlap checks. start and
 * end are the first and last address of the prefix; ord is the position in
 * the file (nodes first, then links) to blame the later of two items.
 */
struct item {
	uint8_t start[16];
	uint8_t end[16];
	struct sl_prefix p; /* as written: the address, not the network */
	uint32_t ord;
	uint32_t idx;
	bool link;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = memcmp(x->start, y->start, 16);

	if (c)
		return c;
	/* The larger prefix (shorter len) first, so it encloses the rest. */
	if (x->p.len != y->p.len)
		return x->p.len < y->p.len ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static void item_fill(struct item *it, const struct sl_prefix *p,
		      uint32_t ord, uint32_t idx, bool link)
{
	struct sl_prefix net = *p;
	int bits = sl_prefix_bits(p), i;

	sl_prefix_mask(&net);
	memcpy(it->start, net.addr, 16);
	memcpy(it->end, net.addr, 16);
	for (i = p->len; i < bits; i++)
		it->end[i / 8] |= (uint8_t)(1u << (7 - i % 8));
	it->p = *p;
	it->ord = ord;
	it->idx = idx;
	it->link = link;
}

/* "nodes[2].addresses" or "links[4].endpoints[0].address6" */
static const char *item_path(const struct item *it, int family, char *buf,
			     size_t len)
{
	if (it->link)
		snprintf(buf, len, "links[%u].endpoints[0].%s", it->idx,
			 addr_key(family));
	else
		snprintf(buf, len, "nodes[%u].addresses", it->idx);
	return buf;
}

/* "address 10.9.0.1/32" or "subnet 10.1.0.0/24" */
static const char *item_desc(const struct item *it, char *buf, size_t len)
{
	char a[64];
	struct sl_prefix net = it->p;

	if (it->link) {
		sl_prefix_mask(&net);
		snprintf(buf, len, "subnet %s",
			 sl_prefix_str(&net, a, sizeof(a), true));
	} else {
		snprintf(buf, len, "address %s",
			 sl_prefix_str(&it->p, a, sizeof(a), true));
	}
	return buf;
}

static int collect(const struct sl_topo *t, int family, struct item **out,
		   size_t *n_out)
{
	struct item *items;
	size_t n = 0;
	uint32_t i;

	items = calloc((size_t)t->n_nodes + t->n_links + 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (i = 0; i < t->n_nodes; i++) {
		const struct sl_prefix *p = family == AF_INET ?
						    &t->nodes[i].lo4 :
						    &t->nodes[i].lo6;

		if (p->family == family)
			item_fill(&items[n++], p, i, i, false);
	}
	for (i = 0; i < t->n_links; i++) {
		const struct sl_endpoint *ep = &t->links[i].ep[0];
		const struct sl_prefix *p = family == AF_INET ? &ep->addr4 :
								&ep->addr6;

		/* check_link_addrs() made sure both ends share this subnet */
		if (p->family == family)
			item_fill(&items[n++], p, t->n_nodes + i, i, true);
	}
	*out = items;
	*n_out = n;
	return 0;
}

/*
 * Prefixes are nested or disjoint. Sorted by first address (larger first on
 * a tie), an item overlaps an earlier one exactly when it starts before the
 * furthest end seen so far, and then it lies inside the item that reached
 * that end. Of all such pairs, the one whose later item comes first in the
 * file is reported.
 */
static int check_overlaps(const struct sl_topo *t, int family,
			  const struct sl_prefix *pool, struct sl_err *err)
{
	const struct item *best_a = NULL, *best_b = NULL, *cur = NULL;
	char pa[96], pb[96], da[96], db[96], pp[64];
	struct item *items = NULL;
	size_t n, i;
	int ret = 0;

	if (collect(t, family, &items, &n))
		return sl_err_set(err, ENOMEM, "%s: out of memory", src(t));
	qsort(items, n, sizeof(*items), item_cmp);
	for (i = 0; i < n; i++) {
		const struct item *it = &items[i];

		if (cur && memcmp(it->start, cur->end, 16) <= 0) {
			const struct item *later = cur->ord > it->ord ? cur : it;
			const struct item *earlier = later == it ? cur : it;

			if (!best_b || later->ord < best_b->ord ||
			    (later->ord == best_b->ord &&
			     earlier->ord < best_a->ord)) {
				best_a = earlier;
				best_b = later;
			}
		}
		if (!cur || memcmp(it->end, cur->end, 16) > 0)
			cur = it;
	}
	if (best_b) {
		snprintf(pa, sizeof(pa), "%s[%u]",
			 best_a->link ? "links" : "nodes", best_a->idx);
		ret = sl_err_set(err, EINVAL,
				 "%s: %s: %s overlaps %s of %s; expected " OVERLAP_EXPECTED,
				 src(t), item_path(best_b, family, pb, sizeof(pb)),
				 item_desc(best_b, db, sizeof(db)),
				 item_desc(best_a, da, sizeof(da)), pa);
		goto out;
	}
	/*
	 * Given addresses may sit inside the pool (the assignment skips them;
	 * a resolved export lists the pool and the addresses taken from it)
	 * or outside it, but one that covers the whole pool would collide
	 * with everything assigned from it.
	 */
	if (pool->family == family) {
		for (i = 0; i < n; i++) {
			const struct item *it = &items[i];

			if (!sl_prefix_overlap(&it->p, pool) ||
			    sl_prefix_contains(pool, &it->p))
				continue;
			if (best_b && best_b->ord < it->ord)
				continue;
			best_b = it;
		}
		if (best_b)
			ret = sl_err_set(err, EINVAL,
					 "%s: %s: %s covers the whole %s %s; expected addresses inside the pool or outside it",
					 src(t),
					 item_path(best_b, family, pb, sizeof(pb)),
					 item_desc(best_b, db, sizeof(db)),
					 family == AF_INET ? "pool" : "pool6",
					 sl_prefix_str(pool, pp, sizeof(pp), true));
	}
out:
	free(items);
	return ret;
}

int sl_topo_validate(struct sl_topo *t, struct sl_err *err)
{
	int ret;

	ret = check_names(t, err);
	if (!ret)
		ret = check_pool(t, &t->pool4, AF_INET, err);
	if (!ret)
		ret = check_pool(t, &t->pool6, AF_INET6, err);
	if (!ret)
		ret = check_node_addrs(t, err);
	if (!ret)
		ret = check_links(t, err);
	if (!ret)
		ret = check_overlaps(t, AF_INET, &t->pool4, err);
	if (!ret)
		ret = check_overlaps(t, AF_INET6, &t->pool6, err);
	if (!ret)
		ret = sl_ifnames_assign(t, err);
	return ret;
}
