// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_topo_json.c - the topology file format (lib/topo_json.c): good files
 * give the right model, policies are stored per direction, the model
 * survives a trip through sl_topo_to_json() (plain and resolved), and every
 * file in examples/ loads. Runs from the repository root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sluice/addr.h>
#include <sluice/topo.h>

static struct sl_topo *parse_ok(const char *text)
{
	struct sl_topo *t = NULL;
	struct sl_err err = { { 0 } };
	int ret = sl_topo_parse(text, strlen(text), "t.json", &t, &err);

	if (ret)
		fail_msg("parse failed (%d): %s", ret, err.msg);
	assert_non_null(t);
	return t;
}

static const char *addr_str(const struct sl_prefix *p)
{
	static char buf[4][64];
	static int k;

	k = (k + 1) % 4;
	return sl_prefix_str(p, buf[k], sizeof(buf[k]), true);
}

static void test_demo(void **state)
{
	struct sl_topo *t = NULL;
	struct sl_err err = { { 0 } };
	const struct sl_link *l;

	(void)state;
	assert_int_equal(sl_topo_load("examples/demo.json", &t, &err), 0);
	assert_string_equal(t->name, "demo");
	assert_string_equal(t->source, "examples/demo.json");
	assert_false(t->ipv6);
	assert_int_equal(t->pool4.family, 0);
	assert_int_equal(t->n_nodes, 3);
	assert_string_equal(t->nodes[0].name, "h1");
	assert_int_equal(t->nodes[0].kind, SL_NODE_HOST);
	assert_string_equal(t->nodes[1].name, "r1");
	assert_int_equal(t->nodes[1].kind, SL_NODE_ROUTER);
	assert_string_equal(t->nodes[2].name, "h2");
	assert_int_equal(t->nodes[2].kind, SL_NODE_HOST);
	assert_int_equal(t->n_links, 2);

	l = &t->links[0];
	assert_int_equal(l->ep[0].node, 0);
	assert_int_equal(l->ep[1].node, 1);
	assert_int_equal(l->mtu, 1500);
	assert_int_equal(l->mode, SL_MODE_AUTO);
	assert_null(l->policy[SL_DIR_UP]);
	assert_null(l->policy[SL_DIR_DOWN]);
	/* sl_topo_validate() named the interfaces */
	assert_string_equal(l->ep[0].ifname, "eth0");
	assert_string_equal(l->ep[0].port, "h1-eth0");
	assert_string_equal(l->ep[1].port, "r1-eth0");

	l = &t->links[1];
	assert_int_equal(l->ep[0].node, 1);
	assert_int_equal(l->ep[0].ifidx, 1);
	assert_int_equal(l->ep[1].node, 2);
	assert_string_equal(l->ep[0].port, "r1-eth1");
	assert_string_equal(l->policy[SL_DIR_UP], "{\"rate\":\"20mbit\"}");
	assert_string_equal(l->policy[SL_DIR_DOWN], "{\"rate\":\"20mbit\"}");
	assert_false(l->ep[0].user_addr4);
	assert_int_equal(l->ep[0].addr4.family, 0);
	sl_topo_free(t);
}

static void test_defaults_and_options(void **state)
{
	struct sl_topo *t = parse_ok(
		"{\"name\": \"Lab_1-x\", \"ipv6\": true,"
		" \"pool\": \"10.0.0.0/16\", \"pool6\": \"fd5c:1::/64\","
		" \"nodes\": [{\"name\": \"a\"}, {\"name\": \"b\", \"kind\": \"router\"},"
		"            {\"name\": \"c\", \"kind\": \"host\", \"addresses\": []}],"
		" \"links\": [{\"endpoints\": [\"a\", \"b\"], \"mtu\": 9000, \"mode\": \"max\"},"
		"           {\"endpoints\": [\"c\", \"b\"], \"mtu\": 68, \"mode\": \"normal\"},"
		"           {\"endpoints\": [\"a\", \"c\"], \"mtu\": 65535, \"mode\": \"auto\"}]}");

	(void)state;
	assert_string_equal(t->name, "Lab_1-x");
	assert_string_equal(t->source, "t.json");
	assert_true(t->ipv6);
	assert_string_equal(addr_str(&t->pool4), "10.0.0.0/16");
	assert_string_equal(addr_str(&t->pool6), "fd5c:1::/64");
	assert_int_equal(t->nodes[0].kind, SL_NODE_ROUTER);
	assert_int_equal(t->nodes[1].kind, SL_NODE_ROUTER);
	assert_int_equal(t->nodes[2].kind, SL_NODE_HOST);
	assert_int_equal(t->links[0].mtu, 9000);
	assert_int_equal(t->links[0].mode, SL_MODE_MAX);
	assert_int_equal(t->links[1].mtu, 68);
	assert_int_equal(t->links[1].mode, SL_MODE_NORMAL);
	assert_int_equal(t->links[2].mtu, 65535);
	assert_int_equal(t->links[2].mode, SL_MODE_AUTO);
	/* ifidx in file order per node */
	assert_int_equal(t->links[2].ep[0].ifidx, 1);
	assert_int_equal(t->links[2].ep[1].ifidx, 1);
	assert_int_equal(t->links[1].ep[1].ifidx, 1);
	sl_topo_free(t);

	/* a byte order mark is skipped */
	t = parse_ok("\xef\xbb\xbf{\"name\": \"bom\", \"nodes\": [{\"name\": \"n\"}]}");
	assert_string_equal(t->name, "bom");
	sl_topo_free(t);

	/* no links at all is a valid (if lonely) topology */
	t = parse_ok("{\"name\": \"one\", \"nodes\": [{\"name\": \"n\"}]}");
	assert_int_equal(t->n_nodes, 1);
	assert_int_equal(t->n_links, 0);
	sl_topo_free(t);
}

static void test_addresses(void **state)
{
	struct sl_topo *t = NULL;
	struct sl_err err = { { 0 } };
	const struct sl_link *l;

	(void)state;
	assert_int_equal(sl_topo_load("examples/custom-addresses.json", &t,
				      &err),
			 0);
	assert_string_equal(addr_str(&t->nodes[0].lo4), "192.168.100.1/32");
	assert_string_equal(addr_str(&t->nodes[0].lo6), "fd00:100::1/128");
	assert_true(t->nodes[0].user_lo4);
	assert_true(t->nodes[0].user_lo6);
	assert_string_equal(addr_str(&t->nodes[1].lo4), "192.168.100.254/32");
	assert_true(t->nodes[1].user_lo4);
	assert_false(t->nodes[1].user_lo6);
	assert_int_equal(t->nodes[1].lo6.family, 0);
	assert_false(t->nodes[2].user_lo4);

	l = &t->links[0];
	assert_string_equal(addr_str(&l->ep[0].addr4), "172.16.1.1/24");
	assert_string_equal(addr_str(&l->ep[1].addr4), "172.16.1.254/24");
	assert_string_equal(addr_str(&l->ep[0].addr6), "fd00:1::1/64");
	assert_string_equal(addr_str(&l->ep[1].addr6), "fd00:1::fe/64");
	assert_true(l->ep[0].user_addr4 && l->ep[1].user_addr4);
	assert_true(l->ep[0].user_addr6 && l->ep[1].user_addr6);
	l = &t->links[1];
	assert_int_equal(l->mode, SL_MODE_NORMAL);
	assert_false(l->ep[0].user_addr4);
	assert_int_equal(l->ep[0].addr4.family, 0);
	sl_topo_free(t);

	/* /31 and /127 point-to-point subnets use both addresses */
	t = parse_ok("{\"name\": \"p2p\", \"ipv6\": true, \"nodes\": [{\"name\": \"a\"}, {\"name\": \"b\"}],"
		     " \"links\": [{\"endpoints\": [{\"node\": \"a\", \"address\": \"10.0.0.0/31\", \"address6\": \"fd00::/127\"},"
		     "                             {\"node\": \"b\", \"address\": \"10.0.0.1/31\", \"address6\": \"fd00::1/127\"}]}]}");
	assert_string_equal(addr_str(&t->links[0].ep[0].addr4), "10.0.0.0/31");
	assert_string_equal(addr_str(&t->links[0].ep[1].addr6), "fd00::1/127");
	sl_topo_free(t);
}

static void test_policy_storage(void **state)
{
	struct sl_topo *t = NULL;
	struct sl_err err = { { 0 } };
	const struct sl_link *l;

	(void)state;
	assert_int_equal(sl_topo_load("examples/asymmetric.json", &t, &err), 0);
	l = &t->links[0];
	assert_string_equal(l->policy[SL_DIR_UP],
			    "{\"rate\":\"10mbit\",\"delay\":\"15ms\",\"jitter\":\"2ms\",\"queue\":\"64kb\"}");
	assert_string_equal(l->policy[SL_DIR_DOWN],
			    "{\"rate\":\"100mbit\",\"delay\":\"15ms\",\"loss\":\"0.1%\",\"queue\":\"256kb\"}");
	l = &t->links[1];
	assert_null(l->policy[SL_DIR_UP]);
	assert_string_equal(l->policy[SL_DIR_DOWN], "{\"delay\":\"20ms\"}");
	sl_topo_free(t);

	t = parse_ok(
		"{\"name\": \"p\", \"nodes\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\"}, {\"name\": \"d\"}],"
		" \"links\": ["
		"  {\"endpoints\": [\"a\", \"b\"], \"policy\": {}},"
		"  {\"endpoints\": [\"b\", \"c\"], \"policy\": {\"up\": {}, \"down\": {\"loss\": \"1%\"}}},"
		"  {\"endpoints\": [\"c\", \"d\"], \"policy\": {\"cells\": [{\"type\": \"delay\", \"delay\": \"5ms\"}, {\"type\": \"loss\", \"loss\": \"1%\"}]}},"
		"  {\"endpoints\": [\"d\", \"a\"], \"policy\": {\"up\": {\"rate\": \"1gbit\", \"loss\": \"0.01\", \"delay\": \"1.5ms\", \"queue\": \"100pkt\"}}}"
		"]}");
	assert_null(t->links[0].policy[SL_DIR_UP]);
	assert_null(t->links[0].policy[SL_DIR_DOWN]);
	assert_null(t->links[1].policy[SL_DIR_UP]);
	assert_string_equal(t->links[1].policy[SL_DIR_DOWN],
			    "{\"loss\":\"1%\"}");
	/* other keys of a cell are kept as written, for the cell to check */
	assert_string_equal(t->links[2].policy[SL_DIR_UP],
			    "{\"cells\":[{\"type\":\"delay\",\"delay\":\"5ms\"},{\"type\":\"loss\",\"loss\":\"1%\"}]}");
	assert_string_equal(t->links[2].policy[SL_DIR_UP],
			    t->links[2].policy[SL_DIR_DOWN]);
	assert_ptr_not_equal(t->links[2].policy[SL_DIR_UP],
			     t->links[2].policy[SL_DIR_DOWN]);
	assert_string_equal(t->links[3].policy[SL_DIR_UP],
			    "{\"rate\":\"1gbit\",\"loss\":\"0.01\",\"delay\":\"1.5ms\",\"queue\":\"100pkt\"}");
	assert_null(t->links[3].policy[SL_DIR_DOWN]);
	sl_topo_free(t);
}

/* Same network: names, kinds, links, addresses, pools, policies. */
static void assert_same_topo(const struct sl_topo *a, const struct sl_topo *b,
			     bool addresses_user)
{
	uint32_t i;
	int e, d;

	assert_string_equal(a->name, b->name);
	assert_int_equal(a->ipv6, b->ipv6);
	assert_int_equal(a->n_nodes, b->n_nodes);
	assert_int_equal(a->n_links, b->n_links);
	assert_memory_equal(&a->pool4, &b->pool4, sizeof(a->pool4));
	assert_memory_equal(&a->pool6, &b->pool6, sizeof(a->pool6));
	for (i = 0; i < a->n_nodes; i++) {
		const struct sl_node *x = &a->nodes[i], *y = &b->nodes[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->kind, y->kind);
		assert_memory_equal(&x->lo4, &y->lo4, sizeof(x->lo4));
		assert_memory_equal(&x->lo6, &y->lo6, sizeof(x->lo6));
		if (addresses_user) {
			assert_int_equal(y->user_lo4, !!y->lo4.family);
			assert_int_equal(y->user_lo6, !!y->lo6.family);
		} else {
			assert_int_equal(x->user_lo4, y->user_lo4);
			assert_int_equal(x->user_lo6, y->user_lo6);
		}
	}
	for (i = 0; i < a->n_links; i++) {
		const struct sl_link *x = &a->links[i], *y = &b->links[i];

		assert_int_equal(x->mtu, y->mtu);
		assert_int_equal(x->mode, y->mode);
		for (e = 0; e < 2; e++) {
			assert_int_equal(x->ep[e].node, y->ep[e].node);
			assert_int_equal(x->ep[e].ifidx, y->ep[e].ifidx);
			assert_string_equal(x->ep[e].port, y->ep[e].port);
			assert_memory_equal(&x->ep[e].addr4, &y->ep[e].addr4,
					    sizeof(x->ep[e].addr4));
			assert_memory_equal(&x->ep[e].addr6, &y->ep[e].addr6,
					    sizeof(x->ep[e].addr6));
		}
		for (d = 0; d < 2; d++) {
			if (!x->policy[d])
				assert_null(y->policy[d]);
			else
				assert_string_equal(x->policy[d], y->policy[d]);
		}
	}
}

static struct sl_topo *reparse(const struct sl_topo *t, bool resolved)
{
	char *text = sl_topo_to_json(t, resolved);
	struct sl_topo *u;

	assert_non_null(text);
	u = parse_ok(text);
	free(text);
	return u;
}

static void test_round_trip(void **state)
{
	static const char *const files[] = {
		"examples/demo.json", "examples/dualstack.json",
		"examples/asymmetric.json", "examples/custom-addresses.json"
	};
	struct sl_err err = { { 0 } };
	struct sl_topo *t, *u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		t = NULL;
		if (sl_topo_load(files[i], &t, &err))
			fail_msg("%s", err.msg);
		u = reparse(t, false);
		assert_same_topo(t, u, false);
		sl_topo_free(u);
		/* before any assignment, resolved adds nothing */
		u = reparse(t, true);
		assert_same_topo(t, u, false);
		sl_topo_free(u);
		sl_topo_free(t);
	}
}

static void test_resolved_round_trip(void **state)
{
	static const char *const files[] = { "examples/demo.json",
					      "examples/dualstack.json",
					      "examples/custom-addresses.json" };
	struct sl_err err = { { 0 } };
	struct sl_topo *t, *u;
	char *text;
	uint32_t i;
	size_t f;

	(void)state;
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		t = NULL;
		if (sl_topo_load(files[f], &t, &err))
			fail_msg("%s", err.msg);
		if (sl_addr_assign(t, NULL, 0, &err))
			fail_msg("%s: %s", files[f], err.msg);
		for (i = 0; i < t->n_nodes; i++)
			assert_int_equal(t->nodes[i].lo4.family, AF_INET);
		for (i = 0; i < t->n_links; i++)
			assert_int_equal(t->links[i].ep[1].addr4.family,
					 AF_INET);
		assert_int_equal(t->pool4.family, AF_INET);
		text = sl_topo_to_json(t, true);
		assert_non_null(text);
		assert_non_null(strstr(text, "\"pool\": "));
		u = parse_ok(text);
		free(text);
		assert_same_topo(t, u, true);
		/* the resolved model still validates */
		assert_int_equal(sl_topo_validate(u, &err), 0);
		sl_topo_free(u);
		sl_topo_free(t);
	}
}

static void test_to_json_text(void **state)
{
	struct sl_topo *t = NULL;
	struct sl_err err = { { 0 } };
	char *text;

	(void)state;
	assert_int_equal(sl_topo_load("examples/demo.json", &t, &err), 0);
	text = sl_topo_to_json(t, false);
	assert_string_equal(
		text,
		"{\n"
		"  \"name\": \"demo\",\n"
		"  \"ipv6\": false,\n"
		"  \"nodes\": [\n"
		"    { \"name\": \"h1\", \"kind\": \"host\" },\n"
		"    { \"name\": \"r1\", \"kind\": \"router\" },\n"
		"    { \"name\": \"h2\", \"kind\": \"host\" }\n"
		"  ],\n"
		"  \"links\": [\n"
		"    { \"endpoints\": [ \"h1\", \"r1\" ] },\n"
		"    { \"endpoints\": [ \"r1\", \"h2\" ], \"policy\": { \"rate\": \"20mbit\" } }\n"
		"  ]\n"
		"}\n");
	free(text);

	/* addresses: slashes are not escaped; a one-way policy keeps its key */
	t->links[0].policy[SL_DIR_DOWN] = strdup("{\"delay\":\"5ms\"}");
	sl_prefix_parse("10.9.0.1/32", &t->nodes[0].lo4, false);
	t->nodes[0].user_lo4 = true;
	sl_prefix_parse("10.9.0.2/32", &t->nodes[1].lo4, false);
	text = sl_topo_to_json(t, false);
	assert_non_null(strstr(text,
			       "{ \"name\": \"h1\", \"kind\": \"host\", \"addresses\": [ \"10.9.0.1/32\" ] }"));
	/* not given by the user: only in the resolved form */
	assert_non_null(strstr(text, "{ \"name\": \"r1\", \"kind\": \"router\" }"));
	assert_non_null(strstr(text,
			       "\"policy\": { \"down\": { \"delay\": \"5ms\" } }"));
	free(text);
	text = sl_topo_to_json(t, true);
	assert_non_null(strstr(text,
			       "{ \"name\": \"r1\", \"kind\": \"router\", \"addresses\": [ \"10.9.0.2/32\" ] }"));
	free(text);
	sl_topo_free(t);
}

static void test_examples_load(void **state)
{
	struct sl_err err = { { 0 } };
	struct sl_topo *t;
	glob_t g;
	size_t i;

	(void)state;
	assert_int_equal(glob("examples/*.json", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 4);
	for (i = 0; i < g.gl_pathc; i++) {
		t = NULL;
		if (sl_topo_load(g.gl_pathv[i], &t, &err))
			fail_msg("%s", err.msg);
		assert_non_null(t);
		assert_string_equal(t->source, g.gl_pathv[i]);
		sl_topo_free(t);
	}
	globfree(&g);
}

static void test_load_errors(void **state)
{
	struct sl_err err = { { 0 } };
	struct sl_topo *t = (struct sl_topo *)&err;
	char path[] = "/tmp/sluice-test-topo-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(sl_topo_load("examples/no-such-file.json", &t, &err),
			 -ENOENT);
	assert_null(t);
	assert_string_equal(err.msg,
			    "examples/no-such-file.json: cannot read: No such file or directory");
	assert_int_equal(sl_topo_load("examples", &t, &err), -EISDIR);
	assert_string_equal(err.msg, "examples: cannot read: Is a directory");

	/* a syntax error names the line and the column */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\n  \"name\": \"x\",\n  \"nodes\": [],\n}\n", 34),
			 34);
	close(fd);
	assert_int_equal(sl_topo_load(path, &t, &err), -EINVAL);
	assert_null(t);
	assert_non_null(strstr(err.msg, ":4:1: invalid JSON: unexpected character; expected strict JSON"));
	assert_memory_equal(err.msg, path, strlen(path));
	unlink(path);

	/* the empty file */
	strcpy(path, "/tmp/sluice-test-topo-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sl_topo_load(path, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, ":1:1: invalid JSON: unexpected end of the text; expected a complete JSON object"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_defaults_and_options),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_policy_storage),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_resolved_round_trip),
		cmocka_unit_test(test_to_json_text),
		cmocka_unit_test(test_examples_load),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
