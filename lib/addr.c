// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * addr.c - address assignment (include/sluice/addr.h, docs/addressing.md).
 *
 * A topology's addresses come from one pool per family. Inside the pool the
 * layout is a pure function of the node and link indices (node i at
 * base + 1 + i, link j at link base + 2j), so that the same file always gets
 * the same addresses and a user can guess an address from a name's position.
 * The only thing that shifts an address is an address the user wrote down
 * in the file: auto addresses step over those to the next free slot.
 *
 * All arithmetic is on unsigned __int128 values holding the address as a
 * number (IPv4 in the low 32 bits), so one code path serves both families.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/addr.h>

typedef unsigned __int128 u128;

/* An inclusive range of addresses. */
struct range {
	u128 lo, hi;
};

static int fam_bits(int family)
{
	return family == AF_INET6 ? 128 : 32;
}

static u128 pfx_value(const struct sl_prefix *p)
{
	int n = p->family == AF_INET6 ? 16 : 4, i;
	u128 v = 0;

	for (i = 0; i < n; i++)
		v = (v << 8) | p->addr[i];
	return v;
}

static void value_pfx(int family, u128 v, uint8_t len, struct sl_prefix *p)
{
	int n = family == AF_INET6 ? 16 : 4, i;

	memset(p, 0, sizeof(*p));
	p->family = family;
	p->len = len;
	for (i = n - 1; i >= 0; i--) {
		p->addr[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Number of addresses below a prefix of length len: 2^(bits - len), capped
 * for ::/0, which holds one more than a u128 can count. */
static u128 block_size(int family, unsigned len)
{
	int host = fam_bits(family) - (int)len;

	return host >= 128 ? ~(u128)0 : (u128)1 << host;
}

static struct range pfx_range(const struct sl_prefix *p)
{
	int host = fam_bits(p->family) - p->len;
	u128 mask = host >= 128 ? ~(u128)0 : (((u128)1 << host) - 1);
	struct range r;

	r.lo = pfx_value(p) & ~mask;
	r.hi = r.lo | mask;
	return r;
}

static bool range_overlap(const struct range *a, const struct range *b)
{
	return a->lo <= b->hi && b->lo <= a->hi;
}

static u128 pow2_ceil(u128 v)
{
	u128 p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static unsigned log2_exact(u128 v)
{
	unsigned n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static const char *topo_source(const struct sl_topo *t)
{
	return t->source ? t->source : "<topology>";
}

static const char *fam_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* --- the set of ranges auto addresses and pools must stay clear of */

struct rset {
	struct range *r;
	size_t n, cap;
};

static int rset_add(struct rset *s, struct range r)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct range *p = realloc(s->r, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->r = p;
		s->cap = ncap;
	}
	s->r[s->n++] = r;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* Sorts and merges overlapping or touching ranges, so that a scan for the
 * next free slot can walk them once in address order. */
static void rset_normalize(struct rset *s)
{
	size_t i, o = 0;

	if (!s->n)
		return;
	qsort(s->r, s->n, sizeof(*s->r), range_cmp);
	for (i = 1; i < s->n; i++) {
		struct range *last = &s->r[o];

		if (s->r[i].lo <= last->hi ||
		    (last->hi != ~(u128)0 && s->r[i].lo == last->hi + 1)) {
			if (s->r[i].hi > last->hi)
				last->hi = s->r[i].hi;
		} else {
			s->r[++o] = s->r[i];
		}
	}
	s->n = o + 1;
}

static bool rset_overlaps(const struct rset *s, const struct range *r)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (range_overlap(&s->r[i], r))
			return true;
	return false;
}

/* Every address the file gives for this family, as the ranges of their
 * prefixes: a pool must not overlap a user subnet either, or its routes
 * would fight the user's connected routes. */
static int user_ranges(const struct sl_topo *t, int family, struct rset *s)
{
	uint32_t i;
	int e, ret;

	for (i = 0; i < t->n_nodes; i++) {
		const struct sl_node *n = &t->nodes[i];
		const struct sl_prefix *p = family == AF_INET ? &n->lo4 : &n->lo6;
		bool user = family == AF_INET ? n->user_lo4 : n->user_lo6;

		if (user && p->family == family &&
		    (ret = rset_add(s, pfx_range(p))))
			return ret;
	}
	for (i = 0; i < t->n_links; i++) {
		for (e = 0; e < 2; e++) {
			const struct sl_endpoint *ep = &t->links[i].ep[e];
			const struct sl_prefix *p =
				family == AF_INET ? &ep->addr4 : &ep->addr6;
			bool user = family == AF_INET ? ep->user_addr4 :
							ep->user_addr6;

			if (user && p->family == family &&
			    (ret = rset_add(s, pfx_range(p))))
				return ret;
		}
	}
	return 0;
}

/* The host's addresses and routes that matter: the default route and
 * loopback overlap everything or nothing useful, so they are ignored. */
static int avoid_ranges(const struct sl_prefix *avoid, size_t n_avoid,
			int family, struct rset *s)
{
	struct sl_prefix lo;
	size_t i;
	int ret;

	if (family == AF_INET)
		sl_prefix_parse("127.0.0.0/8", &lo, false);
	else
		sl_prefix_parse("::1/128", &lo, false);
	for (i = 0; i < n_avoid; i++) {
		if (avoid[i].family != family || avoid[i].len == 0)
			continue;
		if (sl_prefix_contains(&lo, &avoid[i]))
			continue;
		if ((ret = rset_add(s, pfx_range(&avoid[i]))))
			return ret;
	}
	return 0;
}

/* --- layout inside a pool */

/*
 * Where the auto addresses of one family go, as offsets from the pool base.
 * node_off[i] / link_off[j] are meaningful only for items that need an auto
 * address. v6_wide selects the IPv6 /64 scheme (nodes in the low 2^32,
 * links from 2^32); otherwise node and link blocks are packed as for IPv4.
 */
struct layout {
	u128 *node_off;
	u128 *link_off;
	u128 node_block; /* size of the node block */
	u128 link_base;  /* offset of the link block */
	u128 link_block; /* size of the link block */
	u128 total;      /* offsets used: [0, total) */
};

static bool node_needs(const struct sl_node *n, int family)
{
	return family == AF_INET ? !n->user_lo4 : !n->user_lo6;
}

static bool ep_user(const struct sl_endpoint *ep, int family)
{
	return family == AF_INET ? ep->user_addr4 : ep->user_addr6;
}

/* A link takes a slot only when neither end was given by the user; with
 * one end given, the other is derived from the user's subnet. */
static bool link_needs(const struct sl_link *l, int family)
{
	return !ep_user(&l->ep[0], family) && !ep_user(&l->ep[1], family);
}

/*
 * First offset >= off, aligned to width, whose [base+off, base+off+width)
 * overlaps no user range. user is normalized; *cursor is the index of the
 * first range that may still matter (offsets only grow within one pass).
 */
static u128 next_free(const struct rset *user, size_t *cursor, u128 base,
		      u128 off, u128 width)
{
	for (;;) {
		struct range r = { base + off, base + off + width - 1 };

		while (*cursor < user->n && user->r[*cursor].hi < r.lo)
			(*cursor)++;
		if (*cursor >= user->n || user->r[*cursor].lo > r.hi)
			return off;
		/* Step past the range, then up to the alignment. */
		off = user->r[*cursor].hi + 1 - base;
		off = (off + width - 1) & ~(width - 1);
	}
}

/*
 * Places every auto address of the family. base is the pool base (0 while
 * only sizing a candidate); user ranges only matter for a user pool, since
 * an automatic pool never overlaps them. Grows the blocks until every item
 * fits; returns 0 or -ENOMEM.
 */
static int layout_compute(const struct sl_topo *t, int family, bool v6_wide,
			  u128 base, const struct rset *user, struct layout *lo)
{
	uint32_t n_nodes = t->n_nodes, n_links = t->n_links, i;
	u128 nb, lb, lbase = 0;

	free(lo->node_off);
	free(lo->link_off);
	memset(lo, 0, sizeof(*lo));
	lo->node_off = calloc(n_nodes ? n_nodes : 1, sizeof(u128));
	lo->link_off = calloc(n_links ? n_links : 1, sizeof(u128));
	if (!lo->node_off || !lo->link_off)
		return -ENOMEM;

	if (v6_wide) {
		nb = (u128)1 << 32;
		lb = (u128)1 << 32;
	} else {
		nb = pow2_ceil((u128)n_nodes + 2);
		lb = n_links ? pow2_ceil((u128)n_links * 2) : 0;
	}
	for (;;) {
		u128 cur = 1;
		size_t uc = 0;
		bool grow = false;

		for (i = 0; i < n_nodes && !grow; i++) {
			u128 off;

			if (!node_needs(&t->nodes[i], family))
				continue;
			off = (u128)1 + i > cur ? (u128)1 + i : cur;
			off = next_free(user, &uc, base, off, 1);
			/* The block's first and last offsets stay unused. */
			if (off > nb - 2)
				grow = true;
			lo->node_off[i] = off;
			cur = off + 1;
		}
		if (grow) {
			nb <<= 1;
			continue;
		}
		lbase = v6_wide ? nb : (nb > lb ? nb : lb);
		cur = 0;
		uc = 0;
		for (i = 0; i < n_links && !grow; i++) {
			u128 off;

			if (!link_needs(&t->links[i], family))
				continue;
			off = (u128)2 * i > cur ? (u128)2 * i : cur;
			off = next_free(user, &uc, base, lbase + off, 2) - lbase;
			if (off + 2 > lb)
				grow = true;
			lo->link_off[i] = lbase + off;
			cur = off + 2;
		}
		if (grow) {
			lb = lb ? lb << 1 : 2;
			continue;
		}
		break;
	}
	lo->node_block = nb;
	lo->link_base = lbase;
	lo->link_block = lb;
	lo->total = n_links ? lbase + lb : nb;
	return 0;
}

static void layout_free(struct layout *lo)
{
	free(lo->node_off);
	free(lo->link_off);
	memset(lo, 0, sizeof(*lo));
}

/* --- choosing a pool */

static bool candidate_free(int family, u128 lo_v, unsigned len,
			   const struct rset *taken)
{
	struct range r;

	r.lo = lo_v;
	r.hi = lo_v + block_size(family, len) - 1;
	return !rset_overlaps(taken, &r);
}

static u128 v4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return ((u128)a << 24) | ((u128)b << 16) | ((u128)c << 8) | d;
}

/* Candidates of IPv4 blocks of 2^bits addresses, in preference order. */
static bool pick_pool4(unsigned bits, const struct rset *taken,
		       struct sl_prefix *pool)
{
	unsigned len = 32 - bits, i;
	u128 step = (u128)1 << bits;

	if (bits <= 16) {
		/* Always a /16: room to grow and easy to read. */
		for (i = 0; i < 256; i++)
			if (candidate_free(AF_INET, v4(10, i, 0, 0), 16, taken))
				goto found16_10;
		for (i = 16; i < 32; i++)
			if (candidate_free(AF_INET, v4(172, i, 0, 0), 16, taken))
				goto found16_172;
		if (candidate_free(AF_INET, v4(192, 168, 0, 0), 16, taken)) {
			value_pfx(AF_INET, v4(192, 168, 0, 0), 16, pool);
			return true;
		}
		return false;
found16_10:
		value_pfx(AF_INET, v4(10, i, 0, 0), 16, pool);
		return true;
found16_172:
		value_pfx(AF_INET, v4(172, i, 0, 0), 16, pool);
		return true;
	}
	if (bits <= 24) {
		u128 v;

		for (v = v4(10, 0, 0, 0); v < v4(11, 0, 0, 0); v += step)
			if (candidate_free(AF_INET, v, len, taken)) {
				value_pfx(AF_INET, v, (uint8_t)len, pool);
				return true;
			}
	}
	if (bits <= 20) {
		u128 v;

		for (v = v4(172, 16, 0, 0); v < v4(172, 32, 0, 0); v += step)
			if (candidate_free(AF_INET, v, len, taken)) {
				value_pfx(AF_INET, v, (uint8_t)len, pool);
				return true;
			}
	}
	return false;
}

/* fd5c:e000:0:<n>::/64 for n = 0..65535. */
static bool pick_pool6(const struct rset *taken, struct sl_prefix *pool)
{
	struct sl_prefix base;
	u128 v;
	unsigned n;

	sl_prefix_parse("fd5c:e000::/64", &base, false);
	v = pfx_value(&base);
	for (n = 0; n < 65536; n++) {
		u128 c = v | ((u128)n << 64);

		if (candidate_free(AF_INET6, c, 64, taken)) {
			value_pfx(AF_INET6, c, 64, pool);
			return true;
		}
	}
	return false;
}

/* --- applying a layout */

/* The peer of a user-given endpoint address: the other address of a /31 or
 * /127, else the first host address of the subnet that is not the user's. */
static void derive_peer(const struct sl_prefix *user, struct sl_prefix *out)
{
	int bits = fam_bits(user->family);
	struct range r = pfx_range(user);
	u128 v = pfx_value(user), p;

	if (user->len == bits) {
		/* No room in the user's subnet: a /32 point-to-point pair
		 * with the user address as the peer's neighbour. */
		p = v ^ 1;
	} else if (user->len == bits - 1) {
		p = v ^ 1;
	} else {
		p = r.lo + 1;
		if (p == v)
			p = r.lo + 2;
	}
	value_pfx(user->family, p, user->len, out);
}

static void apply(struct sl_topo *t, int family, const struct sl_prefix *pool,
		  const struct layout *lo)
{
	u128 base = pfx_range(pool).lo;
	uint8_t host = (uint8_t)fam_bits(family);
	uint32_t i;
	int e;

	for (i = 0; i < t->n_nodes; i++) {
		struct sl_node *n = &t->nodes[i];

		if (!node_needs(n, family))
			continue;
		value_pfx(family, base + lo->node_off[i], host,
			  family == AF_INET ? &n->lo4 : &n->lo6);
	}
	for (i = 0; i < t->n_links; i++) {
		struct sl_link *l = &t->links[i];

		if (link_needs(l, family)) {
			for (e = 0; e < 2; e++)
				value_pfx(family,
					  base + lo->link_off[i] + (unsigned)e,
					  (uint8_t)(host - 1),
					  family == AF_INET ? &l->ep[e].addr4 :
							      &l->ep[e].addr6);
			continue;
		}
		for (e = 0; e < 2; e++) {
			struct sl_endpoint *me = &l->ep[e], *peer = &l->ep[!e];

			if (ep_user(me, family) || !ep_user(peer, family))
				continue;
			derive_peer(family == AF_INET ? &peer->addr4 :
							&peer->addr6,
				    family == AF_INET ? &me->addr4 : &me->addr6);
		}
	}
}

static int assign_family(struct sl_topo *t, int family,
			 const struct sl_prefix *avoid, size_t n_avoid,
			 struct sl_err *err)
{
	struct sl_prefix *pool = family == AF_INET ? &t->pool4 : &t->pool6;
	struct rset user = { 0 }, taken = { 0 }, none_taken = { 0 };
	struct layout lo = { 0 };
	char buf[64];
	int ret;

	ret = user_ranges(t, family, &user);
	if (ret)
		goto nomem;
	rset_normalize(&user);

	if (pool->family == family) {
		struct sl_prefix p = *pool;
		bool wide = family == AF_INET6 && p.len <= 64;
		u128 size;

		sl_prefix_mask(&p);
		ret = layout_compute(t, family, wide, pfx_range(&p).lo, &user,
				     &lo);
		if (ret)
			goto nomem;
		size = block_size(family, p.len);
		if (lo.total > size) {
			ret = sl_err_set(err, EINVAL,
					 "%s: %s: %s holds %llu addresses; expected a pool of at least %llu addresses for %u nodes and %u links",
					 topo_source(t),
					 family == AF_INET ? "pool" : "pool6",
					 sl_prefix_str(pool, buf, sizeof(buf), true),
					 (unsigned long long)size,
					 (unsigned long long)lo.total,
					 t->n_nodes, t->n_links);
			goto out;
		}
		apply(t, family, &p, &lo);
		ret = 0;
		goto out;
	}
	if (pool->family) {
		ret = sl_err_set(err, EINVAL,
				 "%s: %s: expected an %s prefix",
				 topo_source(t),
				 family == AF_INET ? "pool" : "pool6",
				 fam_name(family));
		goto out;
	}

	ret = avoid_ranges(avoid, n_avoid, family, &taken);
	if (!ret)
		ret = user_ranges(t, family, &taken);
	if (ret)
		goto nomem;
	rset_normalize(&taken);

	/* Sizing only: the chosen pool overlaps no user range, so the
	 * layout inside it is the one without any to step over. */
	ret = layout_compute(t, family, family == AF_INET6, 0, &none_taken,
			     &lo);
	if (ret)
		goto nomem;
	if (family == AF_INET) {
		u128 need = pow2_ceil(lo.total);

		if (need > ((u128)1 << 24) ||
		    !pick_pool4(log2_exact(need), &taken, pool))
			goto none;
	} else {
		if (lo.total > ((u128)1 << 64) || !pick_pool6(&taken, pool))
			goto none;
	}
	apply(t, family, pool, &lo);
	ret = 0;
	goto out;
none:
	ret = sl_err_set(err, EADDRNOTAVAIL,
			 "%s: no free %s pool for %u nodes and %u links; set \"%s\" in the topology",
			 topo_source(t), fam_name(family), t->n_nodes,
			 t->n_links, family == AF_INET ? "pool" : "pool6");
	goto out;
nomem:
	ret = sl_err_set(err, ENOMEM, "%s: out of memory assigning addresses",
			 topo_source(t));
out:
	layout_free(&lo);
	free(user.r);
	free(taken.r);
	return ret;
}

int sl_addr_assign(struct sl_topo *t, const struct sl_prefix *avoid,
		   size_t n_avoid, struct sl_err *err)
{
	int ret;

	ret = assign_family(t, AF_INET, avoid, n_avoid, err);
	if (ret || !t->ipv6)
		return ret;
	return assign_family(t, AF_INET6, avoid, n_avoid, err);
}
