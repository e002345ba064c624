// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_ifname.c - interface and namespace names (lib/ifname.c): the plain
 * form, shortening with the name hash, and collision reporting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/addr.h>

static void test_node_side(void **state)
{
	char buf[SL_IFNAME_MAX];

	sl_ifname_node(0, buf);
	assert_string_equal(buf, "eth0");
	sl_ifname_node(9999, buf);
	assert_string_equal(buf, "eth9999");
	sl_ifname_node(UINT32_MAX, buf);
	assert_string_equal(buf, "eth4294967295");
}

static void test_port_short(void **state)
{
	char buf[SL_IFNAME_MAX];

	sl_ifname_port("h1", 0, buf);
	assert_string_equal(buf, "h1-eth0");
	/* exactly 15 characters still fits */
	sl_ifname_port("abcdefghij", 0, buf);
	assert_string_equal(buf, "abcdefghij-eth0");
	sl_ifname_port("abcdefghi", 12, buf);
	assert_string_equal(buf, "abcdefghi-eth12");
}

static void test_port_long(void **state)
{
	char buf[SL_IFNAME_MAX];

	/* FNV-1a 32 of "averyveryverylongname" folded to 16 bits = c243 */
	sl_ifname_port("averyveryverylongname", 0, buf);
	assert_string_equal(buf, "avery~c243-eth0");
	assert_int_equal(strlen(buf), 15);
	sl_ifname_port("averyveryverylongname", 123, buf);
	assert_string_equal(buf, "ave~c243-eth123");
	sl_ifname_port("averyveryverylongname", 9999, buf);
	assert_string_equal(buf, "av~c243-eth9999");
	/* one character too long for eth10 only */
	sl_ifname_port("abcdefghij", 10, buf);
	assert_int_equal(strlen(buf), 15);
	assert_memory_equal(buf, "abcd~", 5);
	assert_string_equal(buf + 9, "-eth10");
	sl_ifname_port("spine-router-0001", 3, buf);
	assert_string_equal(buf, "spine~d474-eth3");
	/* huge ifidx: still NUL-terminated within IFNAMSIZ */
	sl_ifname_port("averyveryverylongname", 4000000000u, buf);
	assert_int_equal(strlen(buf), 15);
}

static void test_netns(void **state)
{
	char buf[64];

	sl_netns_node("demo", "h1", buf, sizeof(buf));
	assert_string_equal(buf, "sluice.demo.h1");
	sl_netns_fabric("demo", buf, sizeof(buf));
	assert_string_equal(buf, "sluice.demo");
}

static void test_assign(void **state)
{
	struct sl_topo *t = sl_topo_new("demo");
	struct sl_err err = { { 0 } };
	int a, b, c;

	a = sl_topo_add_node(t, "h1", SL_NODE_HOST);
	b = sl_topo_add_node(t, "averyveryverylongname", SL_NODE_ROUTER);
	c = sl_topo_add_node(t, "h2", SL_NODE_HOST);
	assert_int_equal(sl_topo_add_link(t, a, b, 0), 0);
	assert_int_equal(sl_topo_add_link(t, b, c, 0), 1);
	assert_int_equal(sl_ifnames_assign(t, &err), 0);
	assert_string_equal(t->links[0].ep[0].ifname, "eth0");
	assert_string_equal(t->links[0].ep[0].port, "h1-eth0");
	assert_string_equal(t->links[0].ep[1].ifname, "eth0");
	assert_string_equal(t->links[0].ep[1].port, "avery~c243-eth0");
	assert_string_equal(t->links[1].ep[0].ifname, "eth1");
	assert_string_equal(t->links[1].ep[0].port, "avery~c243-eth1");
	assert_string_equal(t->links[1].ep[1].port, "h2-eth0");
	sl_topo_free(t);
}

static void test_collision(void **state)
{
	struct sl_topo *t = sl_topo_new("demo");
	struct sl_err err = { { 0 } };
	int r, a, b, c;

	t->source = strdup("x.json");
	/* "router000050" and "router000210" share the folded hash 6770 and
	 * the five characters kept. */
	r = sl_topo_add_node(t, "r0", SL_NODE_ROUTER);
	a = sl_topo_add_node(t, "router000050", SL_NODE_ROUTER);
	b = sl_topo_add_node(t, "r1", SL_NODE_ROUTER);
	c = sl_topo_add_node(t, "router000210", SL_NODE_ROUTER);
	assert_int_equal(sl_topo_add_link(t, r, a, 0), 0);
	assert_int_equal(sl_topo_add_link(t, b, c, 0), 1);
	assert_int_equal(sl_ifnames_assign(t, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "x.json: links[1].endpoints[1]: interface name \"route~6770-eth0\" also used by links[0].endpoints[1]; expected distinct node names that do not collide after shortening");
	sl_topo_free(t);
}

static void test_too_many_links(void **state)
{
	struct sl_topo *t = sl_topo_new("big");
	struct sl_err err = { { 0 } };
	char name[16];
	uint32_t i;
	int hub;

	hub = sl_topo_add_node(t, "hub", SL_NODE_ROUTER);
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		assert_true(sl_topo_add_node(t, name, SL_NODE_HOST) >= 0);
		assert_true(sl_topo_add_link(t, hub, i + 1, 0) >= 0);
	}
	assert_int_equal(sl_ifnames_assign(t, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "<topology>: nodes[0]: node \"hub\" has 10000 links; expected at most 9999");
	sl_topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_side),
		cmocka_unit_test(test_port_short),
		cmocka_unit_test(test_port_long),
		cmocka_unit_test(test_netns),
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_collision),
		cmocka_unit_test(test_too_many_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
