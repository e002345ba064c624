// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_addr.c - address assignment (lib/addr.c): pool choice around the
 * host's networks, the exact layout, user-given addresses, IPv6.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/addr.h>

static struct sl_topo *linear(uint32_t n)
{
	struct sl_topo *t = sl_topo_new("lin");
	char name[16];
	uint32_t i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "r%u", i + 1);
		assert_int_equal(sl_topo_add_node(t, name, SL_NODE_ROUTER), i);
		if (i)
			assert_int_equal(sl_topo_add_link(t, i - 1, i, 0), i - 1);
	}
	return t;
}

/* The prefix as text, from a small ring of buffers so one assert can
 * compare two. */
static const char *str(const struct sl_prefix *p)
{
	static char bufs[4][64];
	static int k;

	k = (k + 1) % 4;
	return sl_prefix_str(p, bufs[k], sizeof(bufs[k]), true);
}

static struct sl_prefix pfx(const char *s)
{
	struct sl_prefix p;

	assert_int_equal(sl_prefix_parse(s, &p, true), 0);
	return p;
}

static void test_linear3_layout(void **state)
{
	struct sl_topo *t = linear(3);
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	assert_string_equal(str(&t->pool4), "10.0.0.0/16");
	assert_string_equal(str(&t->nodes[0].lo4), "10.0.0.1/32");
	assert_string_equal(str(&t->nodes[1].lo4), "10.0.0.2/32");
	assert_string_equal(str(&t->nodes[2].lo4), "10.0.0.3/32");
	/* node block 2^ceil(log2(5)) = 8, link block 4 right after */
	assert_string_equal(str(&t->links[0].ep[0].addr4), "10.0.0.8/31");
	assert_string_equal(str(&t->links[0].ep[1].addr4), "10.0.0.9/31");
	assert_string_equal(str(&t->links[1].ep[0].addr4), "10.0.0.10/31");
	assert_string_equal(str(&t->links[1].ep[1].addr4), "10.0.0.11/31");
	/* no IPv6 unless asked */
	assert_int_equal(t->nodes[0].lo6.family, 0);
	assert_int_equal(t->pool6.family, 0);
	sl_topo_free(t);
}

static void test_link_block_alignment(void **state)
{
	/* 6 nodes: node block 8; 5 links: link block 16, aligned at 16 */
	struct sl_topo *t = linear(6);
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	assert_string_equal(str(&t->nodes[5].lo4), "10.0.0.6/32");
	assert_string_equal(str(&t->links[0].ep[0].addr4), "10.0.0.16/31");
	assert_string_equal(str(&t->links[4].ep[1].addr4), "10.0.0.25/31");
	sl_topo_free(t);
}

static void test_pool_avoids_host(void **state)
{
	struct sl_err err = { { 0 } };
	struct sl_prefix avoid[4];
	struct sl_topo *t;

	/* default routes and loopback are ignored */
	avoid[0] = pfx("0.0.0.0/0");
	avoid[1] = pfx("127.0.0.1/8");
	avoid[2] = pfx("::/0");
	avoid[3] = pfx("10.0.0.7/16");
	t = linear(3);
	assert_int_equal(sl_addr_assign(t, avoid, 3, &err), 0);
	assert_string_equal(str(&t->pool4), "10.0.0.0/16");
	sl_topo_free(t);

	t = linear(3);
	assert_int_equal(sl_addr_assign(t, avoid, 4, &err), 0);
	assert_string_equal(str(&t->pool4), "10.1.0.0/16");
	assert_string_equal(str(&t->nodes[0].lo4), "10.1.0.1/32");
	sl_topo_free(t);

	t = linear(3);
	avoid[0] = pfx("10.0.0.0/8");
	assert_int_equal(sl_addr_assign(t, avoid, 1, &err), 0);
	assert_string_equal(str(&t->pool4), "172.16.0.0/16");
	sl_topo_free(t);

	/* a host address inside a candidate rules it out too */
	t = linear(3);
	avoid[0] = pfx("10.0.3.4/32");
	assert_int_equal(sl_addr_assign(t, avoid, 1, &err), 0);
	assert_string_equal(str(&t->pool4), "10.1.0.0/16");
	sl_topo_free(t);

	t = linear(3);
	avoid[0] = pfx("10.0.0.0/8");
	avoid[1] = pfx("172.16.0.0/12");
	assert_int_equal(sl_addr_assign(t, avoid, 2, &err), 0);
	assert_string_equal(str(&t->pool4), "192.168.0.0/16");
	sl_topo_free(t);

	t = linear(3);
	avoid[2] = pfx("192.168.1.0/24");
	assert_int_equal(sl_addr_assign(t, avoid, 3, &err), -EADDRNOTAVAIL);
	assert_string_equal(err.msg,
			    "<topology>: no free IPv4 pool for 3 nodes and 2 links; set \"pool\" in the topology");
	sl_topo_free(t);
}

static void test_large_pool(void **state)
{
	/* 40000 nodes: node block 65536, 39999 links: link block 131072 at
	 * 131072, so 262144 addresses: a /14. */
	struct sl_topo *t = linear(40000);
	struct sl_err err = { { 0 } };
	struct sl_prefix avoid = pfx("10.1.2.0/24");

	assert_int_equal(sl_addr_assign(t, &avoid, 1, &err), 0);
	assert_string_equal(str(&t->pool4), "10.4.0.0/14");
	assert_string_equal(str(&t->nodes[0].lo4), "10.4.0.1/32");
	assert_string_equal(str(&t->nodes[39999].lo4), "10.4.156.64/32");
	assert_string_equal(str(&t->links[0].ep[0].addr4), "10.6.0.0/31");
	assert_string_equal(str(&t->links[39998].ep[1].addr4),
			    "10.7.56.125/31");
	sl_topo_free(t);

	/* 10/8 taken entirely: aligned blocks of 172.16/12 */
	t = linear(40000);
	avoid = pfx("10.0.0.0/8");
	assert_int_equal(sl_addr_assign(t, &avoid, 1, &err), 0);
	assert_string_equal(str(&t->pool4), "172.16.0.0/14");
	sl_topo_free(t);
}

static void test_user_addresses_kept(void **state)
{
	struct sl_topo *t = linear(3);
	struct sl_err err = { { 0 } };

	/* a user address in 10.0.0.0/16 moves the automatic pool away */
	t->nodes[1].lo4 = pfx("10.0.0.2/32");
	t->nodes[1].user_lo4 = true;
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	assert_string_equal(str(&t->pool4), "10.1.0.0/16");
	assert_string_equal(str(&t->nodes[0].lo4), "10.1.0.1/32");
	assert_string_equal(str(&t->nodes[1].lo4), "10.0.0.2/32");
	assert_string_equal(str(&t->nodes[2].lo4), "10.1.0.3/32");
	sl_topo_free(t);
}

static void test_user_pool_skips(void **state)
{
	struct sl_topo *t = linear(3);
	struct sl_err err = { { 0 } };

	t->pool4 = pfx("10.9.0.0/24");
	t->nodes[0].lo4 = pfx("10.9.0.2/32");
	t->nodes[0].user_lo4 = true;
	/* link 0 given; its other end follows from the user's /31 */
	t->links[0].ep[0].addr4 = pfx("10.9.0.10/31");
	t->links[0].ep[0].user_addr4 = true;
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	assert_string_equal(str(&t->pool4), "10.9.0.0/24");
	assert_string_equal(str(&t->nodes[0].lo4), "10.9.0.2/32");
	/* node 1 would be .2: taken, next free is .3; node 2 follows */
	assert_string_equal(str(&t->nodes[1].lo4), "10.9.0.3/32");
	assert_string_equal(str(&t->nodes[2].lo4), "10.9.0.4/32");
	assert_string_equal(str(&t->links[0].ep[0].addr4), "10.9.0.10/31");
	assert_string_equal(str(&t->links[0].ep[1].addr4), "10.9.0.11/31");
	/* link 1 would be .10: taken, so .12, which outgrows the link block
	 * of 4: it doubles to 8 at offset 8 */
	assert_string_equal(str(&t->links[1].ep[0].addr4), "10.9.0.12/31");
	assert_string_equal(str(&t->links[1].ep[1].addr4), "10.9.0.13/31");
	sl_topo_free(t);

	/* a /24 on a link: the peer takes the first free host address */
	t = linear(2);
	t->links[0].ep[1].addr4 = pfx("192.168.7.1/24");
	t->links[0].ep[1].user_addr4 = true;
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	assert_string_equal(str(&t->links[0].ep[0].addr4), "192.168.7.2/24");
	assert_string_equal(str(&t->pool4), "10.0.0.0/16");
	sl_topo_free(t);
}

static void test_user_pool_too_small(void **state)
{
	struct sl_topo *t = linear(3);
	struct sl_err err = { { 0 } };

	t->source = strdup("lin.json");
	t->pool4 = pfx("10.9.0.0/29");
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "lin.json: pool: 10.9.0.0/29 holds 8 addresses; expected a pool of at least 12 addresses for 3 nodes and 2 links");
	sl_topo_free(t);

	t = linear(3);
	t->pool4 = pfx("10.9.0.0/28");
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	assert_string_equal(str(&t->links[1].ep[1].addr4), "10.9.0.11/31");
	sl_topo_free(t);
}

static void test_ipv6(void **state)
{
	struct sl_topo *t = linear(3);
	struct sl_err err = { { 0 } };
	struct sl_prefix avoid[3];

	t->ipv6 = true;
	avoid[0] = pfx("::1/128");
	avoid[1] = pfx("::/0");
	avoid[2] = pfx("fd5c:e000::/64");
	assert_int_equal(sl_addr_assign(t, avoid, 2, &err), 0);
	assert_string_equal(str(&t->pool6), "fd5c:e000::/64");
	assert_string_equal(str(&t->nodes[0].lo6), "fd5c:e000::1/128");
	assert_string_equal(str(&t->nodes[2].lo6), "fd5c:e000::3/128");
	assert_string_equal(str(&t->links[0].ep[0].addr6),
			    "fd5c:e000::1:0:0/127");
	assert_string_equal(str(&t->links[0].ep[1].addr6),
			    "fd5c:e000::1:0:1/127");
	assert_string_equal(str(&t->links[1].ep[0].addr6),
			    "fd5c:e000::1:0:2/127");
	assert_string_equal(str(&t->nodes[0].lo4), "10.0.0.1/32");
	sl_topo_free(t);

	t = linear(3);
	t->ipv6 = true;
	assert_int_equal(sl_addr_assign(t, avoid, 3, &err), 0);
	assert_string_equal(str(&t->pool6), "fd5c:e000:0:1::/64");
	assert_string_equal(str(&t->nodes[1].lo6), "fd5c:e000:0:1::2/128");
	sl_topo_free(t);

	/* a user IPv6 address in the first candidate */
	t = linear(3);
	t->ipv6 = true;
	t->nodes[2].lo6 = pfx("fd5c:e000::77/128");
	t->nodes[2].user_lo6 = true;
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	assert_string_equal(str(&t->pool6), "fd5c:e000:0:1::/64");
	assert_string_equal(str(&t->nodes[2].lo6), "fd5c:e000::77/128");
	sl_topo_free(t);

	/* a user pool longer than /64 gets the packed IPv4-like layout */
	t = linear(3);
	t->ipv6 = true;
	t->pool6 = pfx("fd00:1::/120");
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	assert_string_equal(str(&t->nodes[0].lo6), "fd00:1::1/128");
	assert_string_equal(str(&t->links[1].ep[1].addr6), "fd00:1::b/127");
	sl_topo_free(t);
}

static void test_deterministic(void **state)
{
	struct sl_topo *a = linear(50), *b = linear(50);
	struct sl_err err = { { 0 } };
	uint32_t i;

	a->ipv6 = b->ipv6 = true;
	assert_int_equal(sl_addr_assign(a, NULL, 0, &err), 0);
	assert_int_equal(sl_addr_assign(b, NULL, 0, &err), 0);
	for (i = 0; i < a->n_nodes; i++) {
		assert_memory_equal(&a->nodes[i].lo4, &b->nodes[i].lo4,
				    sizeof(struct sl_prefix));
		assert_memory_equal(&a->nodes[i].lo6, &b->nodes[i].lo6,
				    sizeof(struct sl_prefix));
	}
	for (i = 0; i < a->n_links; i++)
		assert_memory_equal(&a->links[i].ep, &b->links[i].ep,
				    sizeof(a->links[i].ep));
	/* a second run over an assigned model changes nothing */
	assert_int_equal(sl_addr_assign(a, NULL, 0, &err), 0);
	for (i = 0; i < a->n_links; i++)
		assert_memory_equal(&a->links[i].ep, &b->links[i].ep,
				    sizeof(a->links[i].ep));
	sl_topo_free(a);
	sl_topo_free(b);
}

static void test_no_overlap(void **state)
{
	/* every auto address is distinct and none overlaps a user one */
	struct sl_topo *t = linear(300);
	struct sl_err err = { { 0 } };
	struct sl_prefix *all;
	size_t n = 0, i, j;

	t->pool4 = pfx("10.20.0.0/16");
	for (i = 0; i < 300; i += 7) {
		char s[32];

		snprintf(s, sizeof(s), "10.20.%zu.%zu/32", i / 256, i % 256 + 1);
		t->nodes[(i * 13) % 300].lo4 = pfx(s);
		t->nodes[(i * 13) % 300].user_lo4 = true;
	}
	t->links[5].ep[1].addr4 = pfx("10.20.2.64/31");
	t->links[5].ep[1].user_addr4 = true;
	assert_int_equal(sl_addr_assign(t, NULL, 0, &err), 0);
	all = calloc(t->n_nodes + 2 * t->n_links, sizeof(*all));
	for (i = 0; i < t->n_nodes; i++)
		all[n++] = t->nodes[i].lo4;
	for (i = 0; i < t->n_links; i++) {
		all[n++] = t->links[i].ep[0].addr4;
		all[n++] = t->links[i].ep[1].addr4;
	}
	for (i = 0; i < n; i++) {
		struct sl_prefix a = all[i];

		assert_true(sl_prefix_contains(&t->pool4, &a));
		a.len = 32;
		for (j = i + 1; j < n; j++) {
			struct sl_prefix b = all[j];

			b.len = 32;
			if (sl_prefix_overlap(&a, &b))
				fail_msg("%s and %s", str(&all[i]), str(&all[j]));
		}
	}
	assert_string_equal(str(&t->links[5].ep[0].addr4), "10.20.2.65/31");
	free(all);
	sl_topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear3_layout),
		cmocka_unit_test(test_link_block_alignment),
		cmocka_unit_test(test_pool_avoids_host),
		cmocka_unit_test(test_large_pool),
		cmocka_unit_test(test_user_addresses_kept),
		cmocka_unit_test(test_user_pool_skips),
		cmocka_unit_test(test_user_pool_too_small),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_no_overlap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
