// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_gen.c - topology generators (lib/gen.c): node and link counts, kinds
 * and degrees per generator, exact wiring where it is specified, random
 * determinism and connectivity, argument errors, and that every result
 * validates and survives the file format.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/topo.h>

static struct sl_topo *gen(const char *kind, const char *a0, const char *a1,
			   const char *a2)
{
	char *argv[3] = { (char *)a0, (char *)a1, (char *)a2 };
	int argc = a2 ? 3 : a1 ? 2 : a0 ? 1 : 0;
	struct sl_err err = { { 0 } };
	struct sl_topo *t = NULL;
	char *text;
	struct sl_topo *u = NULL;

	if (sl_topo_generate(kind, argc, argv, &t, &err))
		fail_msg("%s: %s", kind, err.msg);
	assert_non_null(t);
	/* generators validate; doing it again must hold too */
	assert_int_equal(sl_topo_validate(t, &err), 0);
	/* and the result is a topology file like any other */
	text = sl_topo_to_json(t, false);
	assert_non_null(text);
	if (sl_topo_parse(text, strlen(text), "gen.json", &u, &err))
		fail_msg("%s: reparse: %s", kind, err.msg);
	assert_int_equal(u->n_nodes, t->n_nodes);
	assert_int_equal(u->n_links, t->n_links);
	free(text);
	sl_topo_free(u);
	return t;
}

static void gen_fails(const char *kind, int argc, const char *a0,
		      const char *a1, const char *a2, const char *msg)
{
	char *argv[3] = { (char *)a0, (char *)a1, (char *)a2 };
	struct sl_err err = { { 0 } };
	struct sl_topo *t = (struct sl_topo *)&err;

	assert_int_equal(sl_topo_generate(kind, argc, argv, &t, &err),
			 -EINVAL);
	assert_null(t);
	assert_string_equal(err.msg, msg);
}

static int node(const struct sl_topo *t, const char *name)
{
	int i = sl_topo_find_node(t, name);

	if (i < 0)
		fail_msg("no node %s", name);
	return i;
}

static uint32_t degree(const struct sl_topo *t, const char *name)
{
	return t->nodes[node(t, name)].n_links;
}

static bool linked(const struct sl_topo *t, const char *a, const char *b)
{
	return sl_topo_find_link(t, (uint32_t)node(t, a),
				 (uint32_t)node(t, b)) >= 0;
}

static uint32_t count_kind(const struct sl_topo *t, enum sl_node_kind k)
{
	uint32_t i, n = 0;

	for (i = 0; i < t->n_nodes; i++)
		n += t->nodes[i].kind == k;
	return n;
}

/* Hops from node 0 to every node (UINT32_MAX: unreachable). */
static uint32_t *bfs(const struct sl_topo *t)
{
	uint32_t *dist = malloc(t->n_nodes * sizeof(*dist));
	uint32_t *queue = malloc(t->n_nodes * sizeof(*queue));
	uint32_t head = 0, tail = 0, i;

	assert_non_null(dist);
	assert_non_null(queue);
	for (i = 0; i < t->n_nodes; i++)
		dist[i] = UINT32_MAX;
	dist[0] = 0;
	queue[tail++] = 0;
	while (head < tail) {
		uint32_t n = queue[head++];

		for (i = 0; i < t->nodes[n].n_links; i++) {
			const struct sl_link *l = &t->links[t->nodes[n].links[i]];
			uint32_t m = sl_link_peer(l, n)->node;

			if (dist[m] == UINT32_MAX) {
				dist[m] = dist[n] + 1;
				queue[tail++] = m;
			}
		}
	}
	free(queue);
	return dist;
}

static bool connected(const struct sl_topo *t)
{
	uint32_t *d = bfs(t), i;
	bool ok = true;

	for (i = 0; i < t->n_nodes; i++)
		ok = ok && d[i] != UINT32_MAX;
	free(d);
	return ok;
}

static void test_linear(void **state)
{
	struct sl_topo *t = gen("linear", "41", NULL, NULL);
	uint32_t *d, i;

	(void)state;
	assert_string_equal(t->name, "linear41");
	assert_string_equal(t->source, "linear 41");
	assert_int_equal(t->n_nodes, 41);
	assert_int_equal(t->n_links, 40);
	assert_int_equal(count_kind(t, SL_NODE_HOST), 2);
	assert_int_equal(t->nodes[node(t, "h1")].kind, SL_NODE_HOST);
	assert_int_equal(t->nodes[node(t, "h2")].kind, SL_NODE_HOST);
	assert_int_equal(degree(t, "h1"), 1);
	assert_int_equal(degree(t, "h2"), 1);
	for (i = 1; i <= 39; i++) {
		char name[16];

		snprintf(name, sizeof(name), "r%u", i);
		assert_int_equal(degree(t, name), 2);
		assert_int_equal(t->nodes[node(t, name)].kind, SL_NODE_ROUTER);
	}
	assert_true(linked(t, "h1", "r1"));
	assert_true(linked(t, "r1", "r2"));
	assert_true(linked(t, "r39", "h2"));
	/* 40 links between h1 and h2 */
	d = bfs(t);
	assert_int_equal(node(t, "h1"), 0);
	assert_int_equal(d[node(t, "h2")], 40);
	free(d);
	/* towards h1 is eth0, towards h2 eth1 */
	assert_string_equal(t->links[1].ep[0].port, "r1-eth1");
	sl_topo_free(t);

	t = gen("linear", "2", NULL, NULL);
	assert_int_equal(t->n_nodes, 2);
	assert_int_equal(t->n_links, 1);
	assert_true(linked(t, "h1", "h2"));
	sl_topo_free(t);
}

static void test_ring(void **state)
{
	struct sl_topo *t = gen("ring", "5", NULL, NULL);
	uint32_t i;

	(void)state;
	assert_string_equal(t->name, "ring5");
	assert_int_equal(t->n_nodes, 5);
	assert_int_equal(t->n_links, 5);
	assert_int_equal(count_kind(t, SL_NODE_ROUTER), 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(t->nodes[i].n_links, 2);
	assert_true(linked(t, "r1", "r2"));
	assert_true(linked(t, "r5", "r1"));
	assert_false(linked(t, "r1", "r3"));
	sl_topo_free(t);

	t = gen("ring", "3", NULL, NULL);
	assert_int_equal(t->n_links, 3);
	sl_topo_free(t);
}

static void test_star(void **state)
{
	struct sl_topo *t = gen("star", "4", NULL, NULL);
	uint32_t i;

	(void)state;
	assert_string_equal(t->name, "star4");
	assert_int_equal(t->n_nodes, 5);
	assert_int_equal(t->n_links, 4);
	assert_int_equal(t->nodes[0].kind, SL_NODE_ROUTER);
	assert_int_equal(degree(t, "r1"), 4);
	assert_int_equal(count_kind(t, SL_NODE_HOST), 4);
	for (i = 1; i <= 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "h%u", i);
		assert_int_equal(degree(t, name), 1);
		assert_true(linked(t, "r1", name));
	}
	sl_topo_free(t);

	t = gen("star", "1", NULL, NULL);
	assert_int_equal(t->n_nodes, 2);
	sl_topo_free(t);
}

static void test_tree(void **state)
{
	struct sl_topo *t = gen("tree", "2", "3", NULL);
	uint32_t i;

	(void)state;
	assert_string_equal(t->name, "tree2-3");
	assert_int_equal(t->n_nodes, 13);
	assert_int_equal(t->n_links, 12);
	assert_int_equal(count_kind(t, SL_NODE_ROUTER), 4);
	assert_int_equal(count_kind(t, SL_NODE_HOST), 9);
	assert_int_equal(degree(t, "r1"), 3);
	for (i = 2; i <= 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "r%u", i);
		assert_int_equal(degree(t, name), 4);
		assert_true(linked(t, "r1", name));
	}
	/* breadth-first: r2 has h1..h3, r4 has h7..h9 */
	assert_true(linked(t, "r2", "h1"));
	assert_true(linked(t, "r2", "h3"));
	assert_true(linked(t, "r3", "h4"));
	assert_true(linked(t, "r4", "h9"));
	for (i = 1; i <= 9; i++) {
		char name[16];

		snprintf(name, sizeof(name), "h%u", i);
		assert_int_equal(degree(t, name), 1);
	}
	/* a router's uplink is eth0 */
	assert_string_equal(t->links[t->nodes[node(t, "r3")].links[0]].ep[0].port,
			    "r1-eth1");
	assert_int_equal(t->links[t->nodes[node(t, "r3")].links[0]].ep[1].node,
			 (uint32_t)node(t, "r3"));
	sl_topo_free(t);

	t = gen("tree", "3", "2", NULL);
	assert_int_equal(t->n_nodes, 15);
	assert_int_equal(count_kind(t, SL_NODE_HOST), 8);
	assert_true(connected(t));
	sl_topo_free(t);

	t = gen("tree", "1", "1", NULL);
	assert_int_equal(t->n_nodes, 2);
	assert_true(linked(t, "r1", "h1"));
	sl_topo_free(t);
}

static void test_dumbbell(void **state)
{
	struct sl_topo *t = gen("dumbbell", "3", NULL, NULL);

	(void)state;
	assert_string_equal(t->name, "dumbbell3");
	assert_int_equal(t->n_nodes, 8);
	assert_int_equal(t->n_links, 7);
	assert_int_equal(count_kind(t, SL_NODE_HOST), 6);
	/* the bottleneck is links[0], a side first */
	assert_int_equal(t->links[0].ep[0].node, (uint32_t)node(t, "ra"));
	assert_int_equal(t->links[0].ep[1].node, (uint32_t)node(t, "rb"));
	assert_int_equal(degree(t, "ra"), 4);
	assert_int_equal(degree(t, "rb"), 4);
	assert_true(linked(t, "a1", "ra"));
	assert_true(linked(t, "a3", "ra"));
	assert_true(linked(t, "rb", "b2"));
	assert_false(linked(t, "a1", "rb"));
	assert_int_equal(degree(t, "b3"), 1);
	sl_topo_free(t);
}

static void check_fat_tree(uint32_t k, uint32_t nodes, uint32_t links)
{
	char arg[8], name[16];
	struct sl_topo *t;
	uint32_t h = k / 2, i;

	snprintf(arg, sizeof(arg), "%u", k);
	t = gen("fat-tree", arg, NULL, NULL);
	snprintf(name, sizeof(name), "fattree%u", k);
	assert_string_equal(t->name, name);
	assert_int_equal(t->n_nodes, nodes);
	assert_int_equal(t->n_links, links);
	assert_int_equal(count_kind(t, SL_NODE_HOST), k * k * k / 4);
	for (i = 1; i <= h * h; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		assert_int_equal(degree(t, name), k);
	}
	for (i = 1; i <= k * h; i++) {
		snprintf(name, sizeof(name), "a%u", i);
		assert_int_equal(degree(t, name), k);
		snprintf(name, sizeof(name), "e%u", i);
		assert_int_equal(degree(t, name), k);
	}
	for (i = 1; i <= k * h * h; i++) {
		snprintf(name, sizeof(name), "h%u", i);
		assert_int_equal(degree(t, name), 1);
	}
	assert_true(connected(t));
	sl_topo_free(t);
}

static void test_fat_tree(void **state)
{
	struct sl_topo *t;

	(void)state;
	check_fat_tree(4, 36, 48);
	check_fat_tree(8, 208, 384);
	check_fat_tree(2, 7, 6);

	/* agg j of each pod reaches cores j*K/2+1 .. (j+1)*K/2 */
	t = gen("fattree", "4", NULL, NULL);
	assert_true(linked(t, "a1", "c1"));
	assert_true(linked(t, "a1", "c2"));
	assert_false(linked(t, "a1", "c3"));
	assert_true(linked(t, "a2", "c3"));
	assert_true(linked(t, "a2", "c4"));
	assert_true(linked(t, "a3", "c1")); /* pod 2, j = 0 */
	assert_true(linked(t, "a8", "c4"));
	/* full bipartite agg-edge inside a pod, nothing across pods */
	assert_true(linked(t, "a1", "e1"));
	assert_true(linked(t, "a1", "e2"));
	assert_true(linked(t, "a2", "e1"));
	assert_false(linked(t, "a1", "e3"));
	/* K/2 hosts per edge */
	assert_true(linked(t, "e1", "h1"));
	assert_true(linked(t, "e1", "h2"));
	assert_true(linked(t, "e2", "h3"));
	assert_true(linked(t, "e8", "h16"));
	sl_topo_free(t);
}

static void test_torus(void **state)
{
	struct sl_topo *t = gen("torus", "3", "4", NULL);
	uint32_t i;

	(void)state;
	assert_string_equal(t->name, "torus3-4");
	assert_int_equal(t->n_nodes, 12);
	assert_int_equal(t->n_links, 24);
	for (i = 0; i < 12; i++)
		assert_int_equal(t->nodes[i].n_links, 4);
	assert_string_equal(t->nodes[0].name, "r1_1");
	assert_string_equal(t->nodes[11].name, "r3_4");
	assert_true(linked(t, "r1_1", "r2_1"));
	assert_true(linked(t, "r1_1", "r3_1"));
	assert_true(linked(t, "r1_1", "r1_2"));
	assert_true(linked(t, "r1_1", "r1_4"));
	assert_false(linked(t, "r1_1", "r2_2"));
	assert_true(linked(t, "r3_4", "r1_4"));
	sl_topo_free(t);
}

static bool same_links(const struct sl_topo *a, const struct sl_topo *b)
{
	uint32_t i;

	if (a->n_links != b->n_links)
		return false;
	for (i = 0; i < a->n_links; i++)
		if (a->links[i].ep[0].node != b->links[i].ep[0].node ||
		    a->links[i].ep[1].node != b->links[i].ep[1].node)
			return false;
	return true;
}

static void test_random(void **state)
{
	struct sl_topo *a, *b, *c;
	uint64_t seed;
	char s[24];

	(void)state;
	a = gen("random", "30", "0.2", "42");
	b = gen("random", "30", "0.2", "42");
	c = gen("random", "30", "0.2", "43");
	assert_string_equal(a->name, "random30");
	assert_int_equal(a->n_nodes, 30);
	assert_true(same_links(a, b));
	assert_false(same_links(a, c));
	assert_true(connected(a));
	assert_true(connected(c));
	/* a tree plus about 0.2 * (435 - 29) extra links */
	assert_true(a->n_links > 29 + 40 && a->n_links < 29 + 130);
	sl_topo_free(a);
	sl_topo_free(b);
	sl_topo_free(c);

	/* P = 0 is just the spanning tree, P = 1 the complete graph */
	for (seed = 0; seed < 20; seed++) {
		snprintf(s, sizeof(s), "%llu", (unsigned long long)seed);
		a = gen("random", "25", "0", s);
		assert_int_equal(a->n_links, 24);
		assert_true(connected(a));
		sl_topo_free(a);
	}
	a = gen("random", "12", "1", "7");
	assert_int_equal(a->n_links, 66);
	sl_topo_free(a);
	a = gen("random", "2", "0.5", "-5");
	assert_int_equal(a->n_links, 1);
	sl_topo_free(a);

	/* pinned: the stream is splitmix64, so this never changes */
	a = gen("random", "5", "0", "1");
	b = gen("random", "5", "0", "1");
	assert_true(same_links(a, b));
	sl_topo_free(a);
	sl_topo_free(b);
}

static void test_errors(void **state)
{
	(void)state;
	gen_fails("mesh", 1, "4", NULL, NULL,
		  "unknown generator \"mesh\"; expected one of linear, ring, star, tree, dumbbell, fat-tree, torus, random");
	gen_fails("linear", 0, NULL, NULL, NULL,
		  "linear: expected 1 argument (N), got 0");
	gen_fails("tree", 1, "2", NULL, NULL,
		  "tree: expected 2 arguments (DEPTH FANOUT), got 1");
	gen_fails("random", 2, "5", "0.1", NULL,
		  "random: expected 3 arguments (N P SEED), got 2");
	gen_fails("fat-tree", 1, "3", NULL, NULL,
		  "fat-tree: K must be an even integer >= 2, got \"3\"");
	gen_fails("fat-tree", 1, "0", NULL, NULL,
		  "fat-tree: K must be an even integer >= 2, got \"0\"");
	gen_fails("fat-tree", 1, "64", NULL, NULL,
		  "fat-tree: these arguments give 70656 nodes; at most 65536 are allowed");
	gen_fails("linear", 1, "1", NULL, NULL,
		  "linear: N must be an integer >= 2, got \"1\"");
	gen_fails("linear", 1, "ten", NULL, NULL,
		  "linear: N must be an integer >= 2, got \"ten\"");
	gen_fails("linear", 1, "-4", NULL, NULL,
		  "linear: N must be an integer >= 2, got \"-4\"");
	gen_fails("linear", 1, "4x", NULL, NULL,
		  "linear: N must be an integer >= 2, got \"4x\"");
	gen_fails("linear", 1, "", NULL, NULL,
		  "linear: N must be an integer >= 2, got \"\"");
	gen_fails("linear", 1, "100000", NULL, NULL,
		  "linear: these arguments give 100000 nodes; at most 65536 are allowed");
	gen_fails("linear", 1, "99999999999999999999999", NULL, NULL,
		  "linear: N must be an integer >= 2, got \"99999999999999999999999\"");
	gen_fails("ring", 1, "2", NULL, NULL,
		  "ring: N must be an integer >= 3, got \"2\"");
	gen_fails("star", 1, "0", NULL, NULL,
		  "star: N must be an integer >= 1, got \"0\"");
	gen_fails("star", 1, "65536", NULL, NULL,
		  "star: these arguments give 65537 nodes; at most 65536 are allowed");
	gen_fails("tree", 2, "0", "2", NULL,
		  "tree: DEPTH must be an integer >= 1, got \"0\"");
	gen_fails("tree", 2, "20", "20", NULL,
		  "tree: these arguments give more than 65536 nodes; at most 65536 are allowed");
	gen_fails("dumbbell", 1, "40000", NULL, NULL,
		  "dumbbell: these arguments give 80002 nodes; at most 65536 are allowed");
	gen_fails("torus", 2, "2", "5", NULL,
		  "torus: X must be an integer >= 3, got \"2\"");
	gen_fails("torus", 2, "300", "300", NULL,
		  "torus: these arguments give 90000 nodes; at most 65536 are allowed");
	gen_fails("random", 3, "10", "1.5", "1",
		  "random: P must be a number from 0 to 1, got \"1.5\"");
	gen_fails("random", 3, "10", "nan", "1",
		  "random: P must be a number from 0 to 1, got \"nan\"");
	gen_fails("random", 3, "10", "0.5", "abc",
		  "random: SEED must be an integer, got \"abc\"");
	gen_fails("random", 3, "60000", "0.5", "1",
		  "random: these arguments give about 900015000 links; at most 1048576 are allowed");
	/* the per-node interface limit of ifname.c shows through validate */
	gen_fails("star", 1, "10000", NULL, NULL,
		  "star 10000: nodes[0]: node \"r1\" has 10000 links; expected at most 9999");
}

static void test_usage(void **state)
{
	static const char *const kinds[] = { "linear ", "ring ", "star ",
					     "tree ",	"dumbbell ", "fat-tree ",
					     "torus ",	"random " };
	const char *line = sl_gen_usage;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_memory_equal(line, kinds[i], strlen(kinds[i]));
		line = strchr(line, '\n');
		assert_non_null(line);
		line++;
	}
	assert_string_equal(line, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear),	 cmocka_unit_test(test_ring),
		cmocka_unit_test(test_star),	 cmocka_unit_test(test_tree),
		cmocka_unit_test(test_dumbbell), cmocka_unit_test(test_fat_tree),
		cmocka_unit_test(test_torus),	 cmocka_unit_test(test_random),
		cmocka_unit_test(test_errors),	 cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
