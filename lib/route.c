// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * route.c - shortest-path static routes, compressed (include/sluice/route.h).
 *
 * Three steps per address family:
 *
 *  1. Distances. One BFS per node over the link graph gives a row of hop
 *     counts; paths may start or end at a host but never pass through one,
 *     which keeps the relation symmetric (only interior nodes are
 *     constrained), so row x is both "from x" and "to x". Rows are uint16_t
 *     in one N*N array: 2 MB for 1000 nodes.
 *
 *  2. Next hops. For source s and destination node d, interface k of s is a
 *     next hop when its peer n may forward (a router, or d itself) and
 *     dist(n, d) == dist(s, d) - 1. Every distinct next-hop set of s is
 *     interned as a small integer "label"; the empty set is the label of
 *     unreachable destinations.
 *
 *  3. Compression, per source, with ORTC (Draves et al., "Constructing
 *     optimal IP routing tables", 1999) over one binary trie that holds every
 *     destination prefix of the topology. The trie's shape is the same for
 *     all sources; only the labels differ, so it is built once. Address space
 *     no destination covers, the source's own address and its connected
 *     subnets are "don't care": the kernel's local and connected routes are
 *     more specific, and nothing else is ever sent there.
 *       - bottom-up, each trie node gets a candidate set of labels: the
 *         intersection of its children's sets when not empty, else the
 *         union; a don't-care child takes no part;
 *       - top-down, a node keeps the label chosen above it when that label
 *         is in its set, else picks one from its set and emits a route.
 *     At the root the unreachable label is free (no route at all); else the
 *     most frequent label becomes the default route.
 *
 * Emitted routes with n_nh == 0 mean "unreachable": they only appear when
 * the topology is disconnected and an unreachable destination sits inside
 * a prefix that is routed elsewhere.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/route.h>

#define DIST_NONE UINT16_MAX
#define NO_DEST UINT32_MAX
#define LBL_DC UINT32_MAX /* don't care */
/* Distances are uint16_t and the matrix is N*N: bound both. */
#define ROUTE_NODES_MAX 32768u

struct tnode {
	uint32_t child[2]; /* 0: none (the root is never a child) */
	uint32_t dest;     /* index into dests[], or NO_DEST */
};

/* A destination prefix and who owns it. */
struct dest {
	struct sl_prefix p;
	bool is_link;
	uint32_t owner; /* node or link index */
};

struct label {
	uint32_t n;
	uint32_t nh[SL_ECMP_MAX];
	uint32_t hash;
	uint32_t freq; /* destinations carrying it */
};

/* Everything one family needs; per-source parts are reused. */
struct ctx {
	const struct sl_topo *t;
	int family;
	int bits;
	/* graph, CSR in ifidx order */
	uint32_t *adj_off;
	uint32_t *adj;
	uint16_t *dist;
	/* destinations and their trie */
	struct dest *dests;
	uint32_t n_dests;
	struct tnode *trie;
	uint32_t n_trie, cap_trie;
	/* per source */
	uint32_t *node_label; /* per node */
	uint32_t *dest_label; /* per destination */
	struct label *labels;
	uint32_t n_labels, cap_labels;
	uint32_t *htab; /* label index + 1, 0 empty */
	uint32_t hcap;
	uint32_t *own;     /* per trie node: label the region carries */
	uint32_t *set_off; /* per trie node: candidate set in arena */
	uint32_t *set_n;   /* 0: don't care */
	uint32_t *arena;
	size_t n_arena, cap_arena;
	uint32_t *tmp;
	size_t cap_tmp;
	uint8_t path[16];
	struct sl_route_table *out;
	int err;
};

static const char *topo_source(const struct sl_topo *t)
{
	return t->source ? t->source : "<topology>";
}

static const struct sl_prefix *node_addr(const struct sl_node *n, int family)
{
	return family == AF_INET ? &n->lo4 : &n->lo6;
}

static const struct sl_prefix *ep_addr(const struct sl_endpoint *ep,
				       int family)
{
	return family == AF_INET ? &ep->addr4 : &ep->addr6;
}

/* --- step 1: distances */

static int build_graph(struct ctx *c)
{
	const struct sl_topo *t = c->t;
	uint32_t i, k;

	c->adj_off = calloc((size_t)t->n_nodes + 1, sizeof(uint32_t));
	c->adj = calloc((size_t)t->n_links * 2 + 1, sizeof(uint32_t));
	if (!c->adj_off || !c->adj)
		return -ENOMEM;
	for (i = 0; i < t->n_nodes; i++)
		c->adj_off[i + 1] = c->adj_off[i] + t->nodes[i].n_links;
	for (i = 0; i < t->n_nodes; i++) {
		const struct sl_node *n = &t->nodes[i];

		for (k = 0; k < n->n_links; k++)
			c->adj[c->adj_off[i] + k] =
				sl_link_peer(&t->links[n->links[k]], i)->node;
	}
	return 0;
}

static void bfs(const struct ctx *c, uint32_t src, uint16_t *row,
		uint32_t *queue)
{
	const struct sl_topo *t = c->t;
	uint32_t head = 0, tail = 0, i;

	for (i = 0; i < t->n_nodes; i++)
		row[i] = DIST_NONE;
	row[src] = 0;
	queue[tail++] = src;
	while (head < tail) {
		uint32_t u = queue[head++];

		/* A host ends paths; only the source may leave one. */
		if (u != src && t->nodes[u].kind == SL_NODE_HOST)
			continue;
		for (i = c->adj_off[u]; i < c->adj_off[u + 1]; i++) {
			uint32_t v = c->adj[i];

			if (row[v] != DIST_NONE)
				continue;
			row[v] = (uint16_t)(row[u] + 1);
			queue[tail++] = v;
		}
	}
}

static int build_dist(struct ctx *c)
{
	uint32_t n = c->t->n_nodes, i, *queue;

	c->dist = malloc((size_t)n * n * sizeof(uint16_t) + 1);
	queue = malloc((size_t)n * sizeof(uint32_t) + 1);
	if (!c->dist || !queue) {
		free(queue);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		bfs(c, i, c->dist + (size_t)i * n, queue);
	free(queue);
	return 0;
}

/* --- destinations and the trie */

static int add_dest(struct ctx *c, const struct sl_prefix *p, bool is_link,
		    uint32_t owner)
{
	struct dest *d = &c->dests[c->n_dests++];

	d->p = *p;
	sl_prefix_mask(&d->p);
	d->is_link = is_link;
	d->owner = owner;
	return 0;
}

static int trie_new_node(struct ctx *c, uint32_t *idx)
{
	if (c->n_trie == c->cap_trie) {
		uint32_t ncap = c->cap_trie ? c->cap_trie * 2 : 1024;
		struct tnode *p = realloc(c->trie, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->trie = p;
		c->cap_trie = ncap;
	}
	c->trie[c->n_trie].child[0] = 0;
	c->trie[c->n_trie].child[1] = 0;
	c->trie[c->n_trie].dest = NO_DEST;
	*idx = c->n_trie++;
	return 0;
}

static int trie_insert(struct ctx *c, uint32_t di)
{
	const struct sl_prefix *p = &c->dests[di].p;
	uint32_t cur = 0, nx;
	int i, ret;

	for (i = 0; i < p->len; i++) {
		int b = sl_prefix_bit(p, i);

		if (!c->trie[cur].child[b]) {
			if ((ret = trie_new_node(c, &nx)))
				return ret;
			c->trie[cur].child[b] = nx;
		}
		cur = c->trie[cur].child[b];
	}
	/* A duplicate prefix (invalid input) keeps the first owner. */
	if (c->trie[cur].dest == NO_DEST)
		c->trie[cur].dest = di;
	return 0;
}

static int build_dests(struct ctx *c, struct sl_err *err)
{
	const struct sl_topo *t = c->t;
	const char *fam = c->family == AF_INET ? "IPv4" : "IPv6";
	uint32_t i, root;
	int e, ret;

	c->dests = calloc((size_t)t->n_nodes + (size_t)t->n_links * 2 + 1,
			  sizeof(*c->dests));
	if (!c->dests)
		return -ENOMEM;
	for (i = 0; i < t->n_nodes; i++) {
		struct sl_prefix p = *node_addr(&t->nodes[i], c->family);

		if (p.family != c->family)
			return sl_err_set(err, EINVAL,
					  "%s: nodes[%u]: no %s address; expected addresses assigned before routing",
					  topo_source(t), i, fam);
		/* The node address is a host route whatever lo's length. */
		p.len = (uint8_t)c->bits;
		add_dest(c, &p, false, i);
	}
	for (i = 0; i < t->n_links; i++) {
		struct sl_prefix s[2];

		for (e = 0; e < 2; e++) {
			s[e] = *ep_addr(&t->links[i].ep[e], c->family);
			if (s[e].family != c->family)
				return sl_err_set(err, EINVAL,
						  "%s: links[%u].endpoints[%d]: no %s address; expected addresses assigned before routing",
						  topo_source(t), i, e, fam);
			sl_prefix_mask(&s[e]);
		}
		add_dest(c, &s[0], true, i);
		if (memcmp(&s[0], &s[1], sizeof(s[0])))
			add_dest(c, &s[1], true, i);
	}
	if ((ret = trie_new_node(c, &root)))
		return ret;
	for (i = 0; i < c->n_dests; i++)
		if ((ret = trie_insert(c, i)))
			return ret;
	return 0;
}

/* --- step 2: labels */

static uint32_t set_hash(const uint32_t *nh, uint32_t n)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < n; i++) {
		h ^= nh[i];
		h *= 16777619u;
	}
	return h ^ n;
}

static int htab_grow(struct ctx *c)
{
	uint32_t ncap = c->hcap ? c->hcap * 2 : 64, i;
	uint32_t *h = calloc(ncap, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (i = 0; i < c->n_labels; i++) {
		uint32_t j = c->labels[i].hash & (ncap - 1);

		while (h[j])
			j = (j + 1) & (ncap - 1);
		h[j] = i + 1;
	}
	free(c->htab);
	c->htab = h;
	c->hcap = ncap;
	return 0;
}

/* The label of a next-hop set (sorted ifidx); LBL_DC on allocation failure
 * with c->err set. */
static uint32_t intern(struct ctx *c, const uint32_t *nh, uint32_t n)
{
	uint32_t h = set_hash(nh, n), j;
	struct label *l;

	if ((c->n_labels + 1) * 2 > c->hcap && htab_grow(c))
		goto nomem;
	for (j = h & (c->hcap - 1); c->htab[j]; j = (j + 1) & (c->hcap - 1)) {
		l = &c->labels[c->htab[j] - 1];
		if (l->hash == h && l->n == n &&
		    !memcmp(l->nh, nh, n * sizeof(*nh)))
			return c->htab[j] - 1;
	}
	if (c->n_labels == c->cap_labels) {
		uint32_t ncap = c->cap_labels ? c->cap_labels * 2 : 64;
		struct label *p = realloc(c->labels, ncap * sizeof(*p));

		if (!p)
			goto nomem;
		c->labels = p;
		c->cap_labels = ncap;
	}
	l = &c->labels[c->n_labels];
	memset(l, 0, sizeof(*l));
	l->n = n;
	memcpy(l->nh, nh, n * sizeof(*nh));
	l->hash = h;
	c->htab[j] = ++c->n_labels;
	return c->n_labels - 1;
nomem:
	c->err = -ENOMEM;
	return LBL_DC;
}

static bool may_forward(const struct sl_topo *t, uint32_t n, uint32_t d)
{
	return n == d || t->nodes[n].kind != SL_NODE_HOST;
}

static uint32_t node_label(struct ctx *c, uint32_t s, uint32_t d)
{
	uint32_t n_nodes = c->t->n_nodes, nh[SL_ECMP_MAX], n = 0, k;
	const uint16_t *row_s = c->dist + (size_t)s * n_nodes;
	uint16_t ds = row_s[d];

	if (s == d)
		return LBL_DC;
	if (ds != DIST_NONE) {
		for (k = c->adj_off[s]; k < c->adj_off[s + 1] && n < SL_ECMP_MAX;
		     k++) {
			uint32_t v = c->adj[k];

			if (may_forward(c->t, v, d) &&
			    c->dist[(size_t)v * n_nodes + d] == ds - 1)
				nh[n++] = k - c->adj_off[s];
		}
	}
	return intern(c, nh, n);
}

/* Sorted union of two sorted sets, truncated to SL_ECMP_MAX (the lowest
 * interfaces stay). */
static uint32_t merge_sorted(const uint32_t *a, uint32_t na, const uint32_t *b,
			     uint32_t nb, uint32_t *out)
{
	uint32_t i = 0, j = 0, m = 0;

	while ((i < na || j < nb) && m < SL_ECMP_MAX) {
		if (j >= nb || (i < na && a[i] < b[j]))
			out[m++] = a[i++];
		else if (i >= na || b[j] < a[i])
			out[m++] = b[j++];
		else {
			out[m++] = a[i++];
			j++;
		}
	}
	return m;
}

/*
 * A link subnet is reached through its nearer end. A router end is
 * preferred over a host end: a host does not forward, so it could not pass
 * packets on to its peer's address on the same subnet.
 */
static uint32_t link_label(struct ctx *c, uint32_t s, uint32_t li)
{
	const struct sl_link *l = &c->t->links[li];
	uint32_t a = l->ep[0].node, b = l->ep[1].node, n_nodes = c->t->n_nodes;
	const uint16_t *row_s = c->dist + (size_t)s * n_nodes;
	uint32_t cand[2], n_cand = 0, pass, i, best = DIST_NONE;
	uint32_t nh[SL_ECMP_MAX], n = 0;

	if (s == a || s == b)
		return LBL_DC;
	for (pass = 0; pass < 2 && !n_cand; pass++) {
		uint32_t ends[2] = { a, b };

		for (i = 0; i < 2; i++) {
			bool host = c->t->nodes[ends[i]].kind == SL_NODE_HOST;

			if (host == (pass == 1) &&
			    row_s[ends[i]] != DIST_NONE)
				cand[n_cand++] = ends[i];
		}
	}
	for (i = 0; i < n_cand; i++)
		if (row_s[cand[i]] < best)
			best = row_s[cand[i]];
	for (i = 0; i < n_cand; i++) {
		const struct label *x;
		uint32_t merged[2 * SL_ECMP_MAX];

		if (row_s[cand[i]] != best)
			continue;
		x = &c->labels[c->node_label[cand[i]]];
		n = merge_sorted(nh, n, x->nh, x->n, merged);
		memcpy(nh, merged, n * sizeof(*nh));
	}
	return intern(c, nh, n);
}

/* --- step 3: ORTC */

static int arena_reserve(struct ctx *c, size_t more)
{
	if (c->n_arena + more > c->cap_arena) {
		size_t ncap = c->cap_arena ? c->cap_arena : 4096;
		uint32_t *p;

		while (ncap < c->n_arena + more)
			ncap *= 2;
		p = realloc(c->arena, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->arena = p;
		c->cap_arena = ncap;
	}
	return 0;
}

static int tmp_reserve(struct ctx *c, size_t need)
{
	if (need > c->cap_tmp) {
		size_t ncap = c->cap_tmp ? c->cap_tmp : 256;
		uint32_t *p;

		while (ncap < need)
			ncap *= 2;
		p = realloc(c->tmp, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->tmp = p;
		c->cap_tmp = ncap;
	}
	return 0;
}

/* Candidate set of a missing child: the region carries label own. */
static void virtual_set(uint32_t own, const uint32_t **set, uint32_t *n,
			uint32_t *one)
{
	*one = own;
	*set = one;
	*n = own == LBL_DC ? 0 : 1;
}

/* Bottom-up: candidate sets. inh is the label of the nearest destination
 * above (LBL_DC when none). Returns 0 or -ENOMEM. */
static int ortc_up(struct ctx *c, uint32_t v, uint32_t inh)
{
	const struct tnode *tn = &c->trie[v];
	uint32_t own = tn->dest != NO_DEST ? c->dest_label[tn->dest] : inh;
	const uint32_t *s[2];
	uint32_t ns[2], one[2], i, j, m;
	int b, ret;

	c->own[v] = own;
	if (!tn->child[0] && !tn->child[1]) {
		if (own == LBL_DC) {
			c->set_n[v] = 0;
			return 0;
		}
		if ((ret = arena_reserve(c, 1)))
			return ret;
		c->set_off[v] = (uint32_t)c->n_arena;
		c->set_n[v] = 1;
		c->arena[c->n_arena++] = own;
		return 0;
	}
	for (b = 0; b < 2; b++)
		if (tn->child[b] && (ret = ortc_up(c, tn->child[b], own)))
			return ret;
	for (b = 0; b < 2; b++) {
		uint32_t ch = tn->child[b];

		if (ch) {
			s[b] = c->arena + c->set_off[ch];
			ns[b] = c->set_n[ch];
		} else {
			virtual_set(own, &s[b], &ns[b], &one[b]);
		}
	}
	if (!ns[0] || !ns[1]) {
		/* one side is don't care: the other decides */
		b = ns[0] ? 0 : 1;
		if (!ns[b]) {
			c->set_n[v] = 0;
			return 0;
		}
		if (tn->child[b]) {
			c->set_off[v] = c->set_off[tn->child[b]];
			c->set_n[v] = ns[b];
			return 0;
		}
		if ((ret = arena_reserve(c, 1)))
			return ret;
		c->set_off[v] = (uint32_t)c->n_arena;
		c->set_n[v] = 1;
		c->arena[c->n_arena++] = one[b];
		return 0;
	}
	if ((ret = tmp_reserve(c, (size_t)ns[0] + ns[1])))
		return ret;
	/* s[] may point into the arena: build in tmp, then append. */
	for (i = j = m = 0; i < ns[0] && j < ns[1];) {
		if (s[0][i] == s[1][j]) {
			c->tmp[m++] = s[0][i];
			i++;
			j++;
		} else if (s[0][i] < s[1][j]) {
			i++;
		} else {
			j++;
		}
	}
	if (!m) {
		for (i = j = 0; i < ns[0] || j < ns[1];) {
			if (j >= ns[1] || (i < ns[0] && s[0][i] < s[1][j]))
				c->tmp[m++] = s[0][i++];
			else if (i >= ns[0] || s[1][j] < s[0][i])
				c->tmp[m++] = s[1][j++];
			else {
				c->tmp[m++] = s[0][i++];
				j++;
			}
		}
	}
	if ((ret = arena_reserve(c, m)))
		return ret;
	memcpy(c->arena + c->n_arena, c->tmp, m * sizeof(uint32_t));
	c->set_off[v] = (uint32_t)c->n_arena;
	c->set_n[v] = m;
	c->n_arena += m;
	return 0;
}

static bool set_has(const uint32_t *s, uint32_t n, uint32_t x)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s[mid] == x)
			return true;
		if (s[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The most frequent label of a set, the lowest on ties. */
static uint32_t set_pick(const struct ctx *c, const uint32_t *s, uint32_t n)
{
	uint32_t best = s[0], i;

	for (i = 1; i < n; i++)
		if (c->labels[s[i]].freq > c->labels[best].freq)
			best = s[i];
	return best;
}

static int emit(struct ctx *c, int depth, uint32_t label)
{
	struct sl_route_table *tb = c->out;
	const struct label *l = &c->labels[label];
	struct sl_route *r;

	if (tb->n == tb->cap) {
		uint32_t ncap = tb->cap ? tb->cap * 2 : 8;
		struct sl_route *p = realloc(tb->routes, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		tb->routes = p;
		tb->cap = ncap;
	}
	r = &tb->routes[tb->n++];
	memset(r, 0, sizeof(*r));
	r->dst.family = c->family;
	r->dst.len = (uint8_t)depth;
	memcpy(r->dst.addr, c->path, sizeof(c->path));
	sl_prefix_mask(&r->dst);
	r->n_nh = l->n;
	memcpy(r->nh, l->nh, l->n * sizeof(l->nh[0]));
	return 0;
}

static void path_set(struct ctx *c, int depth, int b)
{
	uint8_t bit = (uint8_t)(1u << (7 - depth % 8));

	if (b)
		c->path[depth / 8] |= bit;
	else
		c->path[depth / 8] &= (uint8_t)~bit;
}

/* Top-down: chosen is the label in force above v (v's set is not don't
 * care). */
static int ortc_down(struct ctx *c, uint32_t v, int depth, uint32_t chosen)
{
	const struct tnode *tn = &c->trie[v];
	const uint32_t *s = c->arena + c->set_off[v];
	int b, ret;

	if (!set_has(s, c->set_n[v], chosen)) {
		chosen = set_pick(c, s, c->set_n[v]);
		if ((ret = emit(c, depth, chosen)))
			return ret;
	}
	/* A leaf's set is its own label: nothing below it to split. */
	if (!tn->child[0] && !tn->child[1])
		return 0;
	for (b = 0; b < 2; b++) {
		uint32_t ch = tn->child[b];

		path_set(c, depth, b);
		if (ch) {
			if (c->set_n[ch] &&
			    (ret = ortc_down(c, ch, depth + 1, chosen)))
				return ret;
		} else if (c->own[v] != LBL_DC && c->own[v] != chosen) {
			if ((ret = emit(c, depth + 1, c->own[v])))
				return ret;
		}
	}
	path_set(c, depth, 0);
	return 0;
}

static int compute_source(struct ctx *c, uint32_t s,
			  struct sl_route_table *out)
{
	const struct sl_topo *t = c->t;
	uint32_t i, none, empty[1] = { 0 };
	int ret;

	c->n_labels = 0;
	memset(c->htab, 0, c->hcap * sizeof(*c->htab));
	c->n_arena = 0;
	c->err = 0;
	none = intern(c, empty, 0);
	for (i = 0; i < t->n_nodes; i++)
		c->node_label[i] = node_label(c, s, i);
	for (i = 0; i < c->n_dests && !c->err; i++) {
		const struct dest *d = &c->dests[i];
		uint32_t lb = d->is_link ? link_label(c, s, d->owner) :
					   c->node_label[d->owner];

		c->dest_label[i] = lb;
		if (lb != LBL_DC)
			c->labels[lb].freq++;
	}
	if (c->err)
		return c->err;
	if ((ret = ortc_up(c, 0, LBL_DC)))
		return ret;
	if (!c->set_n[0])
		return 0;
	c->out = out;
	memset(c->path, 0, sizeof(c->path));
	{
		const uint32_t *rs = c->arena + c->set_off[0];
		uint32_t chosen;

		/* No route at all is free: prefer it at the root. */
		if (set_has(rs, c->set_n[0], none)) {
			chosen = none;
		} else {
			chosen = set_pick(c, rs, c->set_n[0]);
			if ((ret = emit(c, 0, chosen)))
				return ret;
		}
		/* ortc_down(root) would re-check membership: chosen is in. */
		return ortc_down(c, 0, 0, chosen);
	}
}

static void ctx_free(struct ctx *c)
{
	free(c->adj_off);
	free(c->adj);
	free(c->dist);
	free(c->dests);
	free(c->trie);
	free(c->node_label);
	free(c->dest_label);
	free(c->labels);
	free(c->htab);
	free(c->own);
	free(c->set_off);
	free(c->set_n);
	free(c->arena);
	free(c->tmp);
}

int sl_routes_compute(const struct sl_topo *t, int family,
		      struct sl_route_table **tables, struct sl_err *err)
{
	struct sl_route_table *tb = NULL;
	struct ctx c = { 0 };
	uint32_t s;
	int ret;

	*tables = NULL;
	if (family != AF_INET && family != AF_INET6)
		return sl_err_set(err, EINVAL,
				  "routes: family %d: expected AF_INET or AF_INET6",
				  family);
	if (t->n_nodes > ROUTE_NODES_MAX)
		return sl_err_set(err, E2BIG,
				  "%s: %u nodes: expected at most %u nodes for static routing",
				  topo_source(t), t->n_nodes, ROUTE_NODES_MAX);
	c.t = t;
	c.family = family;
	c.bits = family == AF_INET ? 32 : 128;
	tb = calloc((size_t)t->n_nodes + 1, sizeof(*tb));
	if (!tb)
		goto nomem;
	ret = build_dests(&c, err);
	if (ret == -ENOMEM)
		goto nomem;
	if (ret)
		goto out;
	if (build_graph(&c) || build_dist(&c))
		goto nomem;
	c.node_label = calloc((size_t)t->n_nodes + 1, sizeof(uint32_t));
	c.dest_label = calloc((size_t)c.n_dests + 1, sizeof(uint32_t));
	c.own = calloc(c.n_trie, sizeof(uint32_t));
	c.set_off = calloc(c.n_trie, sizeof(uint32_t));
	c.set_n = calloc(c.n_trie, sizeof(uint32_t));
	if (!c.node_label || !c.dest_label || !c.own || !c.set_off ||
	    !c.set_n || htab_grow(&c))
		goto nomem;
	for (s = 0; s < t->n_nodes; s++) {
		ret = compute_source(&c, s, &tb[s]);
		if (ret)
			goto nomem;
	}
	*tables = tb;
	tb = NULL;
	ret = 0;
	goto out;
nomem:
	ret = sl_err_set(err, ENOMEM, "%s: out of memory computing routes",
			 topo_source(t));
out:
	sl_route_tables_free(tb, t->n_nodes);
	ctx_free(&c);
	return ret;
}

void sl_route_tables_free(struct sl_route_table *tables, uint32_t n)
{
	uint32_t i;

	if (!tables)
		return;
	for (i = 0; i < n; i++)
		free(tables[i].routes);
	free(tables);
}

uint64_t sl_route_count_total(const struct sl_route_table *tables, uint32_t n,
			      uint32_t *max)
{
	uint64_t sum = 0;
	uint32_t i, m = 0;

	for (i = 0; i < n; i++) {
		sum += tables[i].n;
		if (tables[i].n > m)
			m = tables[i].n;
	}
	if (max)
		*max = m;
	return sum;
}

const struct sl_prefix *sl_route_gateway(const struct sl_topo *t, uint32_t n,
					 uint32_t ifidx, int family)
{
	const struct sl_endpoint *peer;

	if (n >= t->n_nodes || ifidx >= t->nodes[n].n_links)
		return NULL;
	peer = sl_link_peer(&t->links[t->nodes[n].links[ifidx]], n);
	return family == AF_INET6 ? &peer->addr6 : &peer->addr4;
}
