// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * gen.c - topology generators: linear, ring, star, tree, dumbbell, fat-tree,
 * torus and random (sl_topo_generate, usage in sl_gen_usage).
 *
 * Every generator is a pure function of its arguments: the same command
 * line gives the same nodes, links and link order (hence the same interface
 * names and addresses) on every machine. The random one uses its own
 * splitmix64 stream and integer thresholds, never rand() or libm, for that
 * reason. Sizes are checked before anything is allocated, so a typo cannot
 * ask for gigabytes; the result goes through sl_topo_validate() like a file.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/topo.h>

#include "topo_util.h"

/* More links than this is a typo, not an experiment. */
#define GEN_LINKS_MAX (1u << 20)

const char *const sl_gen_usage =
	"linear N           chain h1 - r1 - ... - r(N-2) - h2 of N nodes (N >= 2)\n"
	"ring N             routers r1..rN in a cycle (N >= 3)\n"
	"star N             router r1 with hosts h1..hN around it (N >= 1)\n"
	"tree DEPTH FANOUT  DEPTH levels of routers, FANOUT^DEPTH hosts as leaves (both >= 1)\n"
	"dumbbell N         hosts a1..aN - router ra - router rb - hosts b1..bN (N >= 1)\n"
	"fat-tree K         (K/2)^2 cores c*, K pods of K/2 aggregation a* and K/2 edge e* routers, K/2 hosts h* per edge (K even >= 2)\n"
	"torus X Y          X by Y grid of routers r<x>_<y>, wrapping around both ways (X, Y >= 3)\n"
	"random N P SEED    routers r1..rN: a random spanning tree, then every other pair with probability P (N >= 2, 0 <= P <= 1)\n";

struct build {
	struct sl_topo *t;
	const char *gen;
	struct sl_err *err;
	int ret;
};

static uint32_t node(struct build *b, enum sl_node_kind kind, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

static uint32_t node(struct build *b, enum sl_node_kind kind, const char *fmt,
		     ...)
{
	char name[SL_NAME_MAX];
	va_list ap;
	int idx;

	if (b->ret)
		return 0;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	idx = sl_topo_add_node(b->t, name, kind);
	if (idx < 0) {
		b->ret = sl_err_set(b->err, -idx, "%s: cannot add node %s",
				    b->gen, name);
		return 0;
	}
	return (uint32_t)idx;
}

static void add_link(struct build *b, uint32_t x, uint32_t y)
{
	int idx;

	if (b->ret)
		return;
	idx = sl_topo_add_link(b->t, x, y, SL_MTU_DEFAULT);
	if (idx < 0)
		b->ret = sl_err_set(b->err, -idx, "%s: cannot add a link",
				    b->gen);
}

static void set_name(struct build *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The topology name; every generator's fits in SL_TOPO_NAME_MAX given the
 * size limits. */
static void set_name(struct build *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->t->name, sizeof(b->t->name), fmt, ap);
	va_end(ap);
}

/* --- arguments ------------------------------------------------------------ */

/* A decimal integer >= min, digits only; rule ("an integer >= 2") goes in
 * the message. Values beyond 10^15 are rejected as typos here too. */
static int arg_int(struct build *b, const char *name, const char *s,
		   uint64_t min, const char *rule, uint64_t *out)
{
	char q[SL_QUOTE_MAX];
	uint64_t v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9' && p - s < 16; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (p == s || *p || v < min)
		return sl_err_set(b->err, EINVAL, "%s: %s must be %s, got %s",
				  b->gen, name, rule, sl_quote(s, q, sizeof(q)));
	*out = v;
	return 0;
}

static int too_big(struct build *b, uint64_t nodes)
{
	return sl_err_set(b->err, EINVAL,
			  "%s: these arguments give %llu nodes; at most %d are allowed",
			  b->gen, (unsigned long long)nodes, SL_NODES_MAX);
}

/* --- the generators ------------------------------------------------------- */

static int gen_linear(struct build *b, char *const argv[])
{
	uint64_t n, i;
	uint32_t prev;

	if (arg_int(b, "N", argv[0], 2, "an integer >= 2", &n))
		return -EINVAL;
	if (n > SL_NODES_MAX)
		return too_big(b, n);
	set_name(b, "linear%llu", (unsigned long long)n);
	prev = node(b, SL_NODE_HOST, "h1");
	for (i = 1; i + 1 < n; i++) {
		uint32_t r = node(b, SL_NODE_ROUTER, "r%llu",
				  (unsigned long long)i);

		add_link(b, prev, r);
		prev = r;
	}
	add_link(b, prev, node(b, SL_NODE_HOST, "h2"));
	return b->ret;
}

static int gen_ring(struct build *b, char *const argv[])
{
	uint64_t n, i;

	if (arg_int(b, "N", argv[0], 3, "an integer >= 3", &n))
		return -EINVAL;
	if (n > SL_NODES_MAX)
		return too_big(b, n);
	set_name(b, "ring%llu", (unsigned long long)n);
	for (i = 0; i < n; i++)
		node(b, SL_NODE_ROUTER, "r%llu", (unsigned long long)i + 1);
	for (i = 0; i < n; i++)
		add_link(b, (uint32_t)i, (uint32_t)((i + 1) % n));
	return b->ret;
}

static int gen_star(struct build *b, char *const argv[])
{
	uint64_t n, i;
	uint32_t c;

	if (arg_int(b, "N", argv[0], 1, "an integer >= 1", &n))
		return -EINVAL;
	if (n + 1 > SL_NODES_MAX)
		return too_big(b, n + 1);
	set_name(b, "star%llu", (unsigned long long)n);
	c = node(b, SL_NODE_ROUTER, "r1");
	for (i = 1; i <= n; i++)
		add_link(b, c,
		     node(b, SL_NODE_HOST, "h%llu", (unsigned long long)i));
	return b->ret;
}

/*
 * Mininet's TreeTopo shape with breadth-first numbering: level 0 is r1,
 * level DEPTH holds the hosts. Each router's link to its parent comes
 * before the links to its children, so its uplink is eth0 (the root has
 * none: its children start at eth0).
 */
static int gen_tree(struct build *b, char *const argv[])
{
	uint64_t depth, fanout, level_size = 1, routers = 0, hosts, i, k;

	if (arg_int(b, "DEPTH", argv[0], 1, "an integer >= 1", &depth) ||
	    arg_int(b, "FANOUT", argv[1], 1, "an integer >= 1", &fanout))
		return -EINVAL;
	/* routers = 1 + F + ... + F^(D-1), hosts = F^D; stop counting as
	 * soon as the total is too big (F^D overflows quickly). */
	for (i = 0; i < depth; i++) {
		routers += level_size;
		if (fanout >= SL_NODES_MAX ||
		    routers + level_size * fanout > SL_NODES_MAX)
			return sl_err_set(b->err, EINVAL,
					  "%s: these arguments give more than %d nodes; at most %d are allowed",
					  b->gen, SL_NODES_MAX, SL_NODES_MAX);
		level_size *= fanout;
	}
	hosts = level_size;
	set_name(b, "tree%llu-%llu",
		 (unsigned long long)depth, (unsigned long long)fanout);
	for (i = 0; i < routers; i++)
		node(b, SL_NODE_ROUTER, "r%llu", (unsigned long long)i + 1);
	for (i = 0; i < hosts; i++)
		node(b, SL_NODE_HOST, "h%llu", (unsigned long long)i + 1);
	/* In breadth-first order the children of router i are nodes
	 * i*F+1 .. i*F+F, routers first and then the hosts, which is exactly
	 * the order of the node array above. */
	for (i = 0; i < routers; i++)
		for (k = 1; k <= fanout; k++)
			add_link(b, (uint32_t)i, (uint32_t)(i * fanout + k));
	return b->ret;
}

/* The bottleneck ra - rb is links[0]; "up" runs from the a side to the b
 * side on every link. */
static int gen_dumbbell(struct build *b, char *const argv[])
{
	uint64_t n, i;
	uint32_t ra, rb, first_a;

	if (arg_int(b, "N", argv[0], 1, "an integer >= 1", &n))
		return -EINVAL;
	if (2 * n + 2 > SL_NODES_MAX)
		return too_big(b, 2 * n + 2);
	set_name(b, "dumbbell%llu", (unsigned long long)n);
	first_a = b->t->n_nodes;
	for (i = 1; i <= n; i++)
		node(b, SL_NODE_HOST, "a%llu", (unsigned long long)i);
	ra = node(b, SL_NODE_ROUTER, "ra");
	rb = node(b, SL_NODE_ROUTER, "rb");
	add_link(b, ra, rb);
	for (i = 0; i < n; i++)
		add_link(b, first_a + (uint32_t)i, ra);
	for (i = 1; i <= n; i++)
		add_link(b, rb,
		     node(b, SL_NODE_HOST, "b%llu", (unsigned long long)i));
	return b->ret;
}

/*
 * K-ary fat tree (Al-Fares et al.): (K/2)^2 cores c1.., K pods with K/2
 * aggregation (a1.. across pods) and K/2 edge routers (e1..), each edge
 * with K/2 hosts (h1..). Aggregation router j of a pod (from 0) reaches
 * cores j*K/2+1 .. (j+1)*K/2. Links go core-agg, then agg-edge, then
 * edge-host, upper end first.
 */
static int gen_fat_tree(struct build *b, char *const argv[])
{
	char q[SL_QUOTE_MAX];
	uint64_t k, h, nodes;
	uint32_t core0, agg0, edge0, host0, pod, j, e, c, x;

	if (arg_int(b, "K", argv[0], 2, "an even integer >= 2", &k))
		return -EINVAL;
	if (k % 2)
		return sl_err_set(b->err, EINVAL,
				  "%s: K must be an even integer >= 2, got %s",
				  b->gen, sl_quote(argv[0], q, sizeof(q)));
	if (k > 1024)
		return too_big(b, k * k * k);
	h = k / 2;
	nodes = h * h + k * k + k * h * h;
	if (nodes > SL_NODES_MAX)
		return too_big(b, nodes);
	set_name(b, "fattree%llu", (unsigned long long)k);
	core0 = b->t->n_nodes;
	for (x = 0; x < h * h; x++)
		node(b, SL_NODE_ROUTER, "c%u", x + 1);
	agg0 = core0 + (uint32_t)(h * h);
	for (x = 0; x < k * h; x++)
		node(b, SL_NODE_ROUTER, "a%u", x + 1);
	edge0 = agg0 + (uint32_t)(k * h);
	for (x = 0; x < k * h; x++)
		node(b, SL_NODE_ROUTER, "e%u", x + 1);
	host0 = edge0 + (uint32_t)(k * h);
	for (x = 0; x < k * h * h; x++)
		node(b, SL_NODE_HOST, "h%u", x + 1);

	for (pod = 0; pod < k; pod++)
		for (j = 0; j < h; j++)
			for (c = 0; c < h; c++)
				add_link(b, core0 + j * (uint32_t)h + c,
				     agg0 + pod * (uint32_t)h + j);
	for (pod = 0; pod < k; pod++)
		for (j = 0; j < h; j++)
			for (e = 0; e < h; e++)
				add_link(b, agg0 + pod * (uint32_t)h + j,
				     edge0 + pod * (uint32_t)h + e);
	for (e = 0; e < k * h; e++)
		for (x = 0; x < h; x++)
			add_link(b, edge0 + e, host0 + e * (uint32_t)h + x);
	return b->ret;
}

/* r<x>_<y>, x-major; each router links to its +x and +y neighbours
 * (wrapping), so every router has degree 4 and there are 2XY links. */
static int gen_torus(struct build *b, char *const argv[])
{
	uint64_t nx, ny, x, y;

	if (arg_int(b, "X", argv[0], 3, "an integer >= 3", &nx) ||
	    arg_int(b, "Y", argv[1], 3, "an integer >= 3", &ny))
		return -EINVAL;
	if (nx > SL_NODES_MAX || ny > SL_NODES_MAX ||
	    nx * ny > SL_NODES_MAX)
		return too_big(b, nx * ny);
	set_name(b, "torus%llu-%llu",
		 (unsigned long long)nx, (unsigned long long)ny);
	for (x = 0; x < nx; x++)
		for (y = 0; y < ny; y++)
			node(b, SL_NODE_ROUTER, "r%llu_%llu",
			     (unsigned long long)x + 1,
			     (unsigned long long)y + 1);
	for (x = 0; x < nx; x++)
		for (y = 0; y < ny; y++) {
			uint32_t here = (uint32_t)(x * ny + y);

			add_link(b, here, (uint32_t)(((x + 1) % nx) * ny + y));
			add_link(b, here, (uint32_t)(x * ny + (y + 1) % ny));
		}
	return b->ret;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) by the multiply-shift method; the bias is below
 * n / 2^64, and it is the same on every machine. */
static uint32_t below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((unsigned __int128)splitmix64(s) * n) >> 64);
}

static int arg_seed(struct build *b, const char *s, uint64_t *out)
{
	char q[SL_QUOTE_MAX], *end;
	bool neg = *s == '-';
	unsigned long long v;

	errno = 0;
	v = strtoull(s + neg, &end, 10);
	if (!s[neg] || s[neg] < '0' || s[neg] > '9' || *end || errno)
		return sl_err_set(b->err, EINVAL,
				  "%s: SEED must be an integer, got %s", b->gen,
				  sl_quote(s, q, sizeof(q)));
	*out = neg ? (uint64_t)0 - v : v;
	return 0;
}

/*
 * A random recursive tree over a random order of the nodes (so the tree is
 * not biased towards r1), then one draw per pair of nodes, in order, for the
 * extra links. P is compared as an integer threshold against 64 random
 * bits, so no floating point is involved after parsing P.
 */
static int gen_random(struct build *b, char *const argv[])
{
	uint64_t n, seed = 0, state, thresh, i, j;
	double p, expected;
	uint32_t *perm = NULL;
	char q[SL_QUOTE_MAX], *end;

	if (arg_int(b, "N", argv[0], 2, "an integer >= 2", &n))
		return -EINVAL;
	errno = 0;
	p = strtod(argv[1], &end);
	if (!*argv[1] || *end || errno || !(p >= 0.0 && p <= 1.0))
		return sl_err_set(b->err, EINVAL,
				  "%s: P must be a number from 0 to 1, got %s",
				  b->gen, sl_quote(argv[1], q, sizeof(q)));
	if (arg_seed(b, argv[2], &seed))
		return -EINVAL;
	if (n > SL_NODES_MAX)
		return too_big(b, n);
	expected = (double)(n - 1) +
		   p * ((double)n * (double)(n - 1) / 2 - (double)(n - 1));
	if (expected > GEN_LINKS_MAX)
		return sl_err_set(b->err, EINVAL,
				  "%s: these arguments give about %.0f links; at most %u are allowed",
				  b->gen, expected, GEN_LINKS_MAX);
	set_name(b, "random%llu", (unsigned long long)n);
	for (i = 0; i < n; i++)
		node(b, SL_NODE_ROUTER, "r%llu", (unsigned long long)i + 1);
	if (b->ret)
		return b->ret;

	perm = malloc(n * sizeof(*perm));
	if (!perm)
		return sl_err_set(b->err, ENOMEM, "%s: out of memory", b->gen);
	state = seed;
	for (i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (i = n - 1; i > 0; i--) {
		uint32_t k = below(&state, (uint32_t)i + 1), tmp = perm[i];

		perm[i] = perm[k];
		perm[k] = tmp;
	}
	for (i = 1; i < n; i++)
		add_link(b, perm[below(&state, (uint32_t)i)], perm[i]);
	free(perm);

	/* a pair is drawn when r < thresh; P = 1 takes every pair */
	thresh = p >= 1.0 ? UINT64_MAX : (uint64_t)ldexp(p, 64);
	for (i = 0; i < n && thresh && !b->ret; i++)
		for (j = i + 1; j < n; j++) {
			uint64_t r = splitmix64(&state);

			if (r >= thresh && p < 1.0)
				continue;
			if (sl_topo_find_link(b->t, (uint32_t)i,
					      (uint32_t)j) >= 0)
				continue;
			if (b->t->n_links >= GEN_LINKS_MAX)
				return sl_err_set(b->err, EINVAL,
						  "%s: these arguments give more than %u links; at most %u are allowed",
						  b->gen, GEN_LINKS_MAX,
						  GEN_LINKS_MAX);
			add_link(b, (uint32_t)i, (uint32_t)j);
		}
	return b->ret;
}

struct generator {
	const char *kind;
	int argc;
	const char *args; /* for the message about the argument count */
	int (*fn)(struct build *b, char *const argv[]);
};

static const struct generator generators[] = {
	{ "linear", 1, "N", gen_linear },
	{ "ring", 1, "N", gen_ring },
	{ "star", 1, "N", gen_star },
	{ "tree", 2, "DEPTH FANOUT", gen_tree },
	{ "dumbbell", 1, "N", gen_dumbbell },
	{ "fat-tree", 1, "K", gen_fat_tree },
	{ "torus", 2, "X Y", gen_torus },
	{ "random", 3, "N P SEED", gen_random },
};

#define N_GENERATORS (sizeof(generators) / sizeof(generators[0]))

int sl_topo_generate(const char *kind, int argc, char *const argv[],
		     struct sl_topo **out, struct sl_err *err)
{
	const struct generator *g = NULL;
	struct build b = { .err = err };
	char source[128], q[SL_QUOTE_MAX];
	size_t i, o;
	int ret;

	*out = NULL;
	for (i = 0; i < N_GENERATORS; i++)
		if (kind && (!strcmp(kind, generators[i].kind) ||
			     (!strcmp(generators[i].kind, "fat-tree") &&
			      !strcmp(kind, "fattree"))))
			g = &generators[i];
	if (!g)
		return sl_err_set(err, EINVAL,
				  "unknown generator %s; expected one of linear, ring, star, tree, dumbbell, fat-tree, torus, random",
				  sl_quote(kind ? kind : "", q, sizeof(q)));
	if (argc != g->argc)
		return sl_err_set(err, EINVAL,
				  "%s: expected %d argument%s (%s), got %d",
				  g->kind, g->argc, g->argc > 1 ? "s" : "",
				  g->args, argc);
	/* "fat-tree 4" names the topology in messages, like a file name */
	o = (size_t)snprintf(source, sizeof(source), "%s", g->kind);
	for (i = 0; i < (size_t)argc && o < sizeof(source); i++)
		o += (size_t)snprintf(source + o, sizeof(source) - o, " %s",
				      argv[i]);
	b.gen = g->kind;
	b.t = sl_topo_new(g->kind);
	if (!b.t)
		return sl_err_set(err, ENOMEM, "%s: out of memory", g->kind);
	b.t->source = strdup(source);
	if (!b.t->source) {
		ret = sl_err_set(err, ENOMEM, "%s: out of memory", g->kind);
		goto out;
	}
	ret = g->fn(&b, argv);
	if (!ret)
		ret = sl_topo_validate(b.t, err);
out:
	if (ret) {
		sl_topo_free(b.t);
		return ret;
	}
	*out = b.t;
	return 0;
}
