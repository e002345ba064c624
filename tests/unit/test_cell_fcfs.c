// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_fcfs.c - first come, first served over classes
 * (lib/cells/fcfs.c) and the classifier all schedulers share
 * (lib/cells/sched.c): arrival order across classes, per-class limits,
 * classes by flow-table class, by IPv4 and IPv6 matches on protocol,
 * prefixes and port ranges, the default class, VLAN tags, fragments,
 * frames that are not IP; errors of the match.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <sluice/cellkit.h>

#include "test_cell_harness.h"

static struct sl_cell *child(struct harness *h, struct sl_cell **parent,
			     const char *cfg)
{
	struct json_object *o = h_json(cfg);
	struct sl_err err = { "" };
	struct sl_cell *c = NULL;

	*parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"0ms\"}", 1);
	if (sl_cell_new_child(*parent, o, "queue", "limit", &c, &err))
		print_error("%s\n", err.msg);
	assert_non_null(c);
	json_object_put(o);
	return c;
}

static void test_arrival_order(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *parent, *c = child(h, &parent,
		"{\"type\": \"fcfs\", \"classes\": [{\"class\": 1, \"queue\": \"2pkt\"}, {\"queue\": \"3pkt\"}]}");
	static const uint32_t cls[] = { 1, 0, 1, 1, 0, 0, 0 };
	struct sl_pkt *p;
	unsigned i;

	for (i = 0; i < 7; i++) {
		p = h_pkt(h, 100);
		p->class = cls[i];
		sl_cell_child_enqueue(c, p, 10 * i);
	}
	/* class 1 holds 2: packet 3 dropped; class 0 holds 3: packet 6 */
	assert_int_equal(h->n_dropped, 2);
	assert_int_equal(h->dropped[0], 3);
	assert_int_equal(h->dropped[1], 6);
	for (i = 0; i < 5; i++) {
		static const unsigned want[] = { 0, 1, 2, 4, 5 };

		p = sl_cell_child_dequeue(c, 100);
		assert_int_equal(p->user, want[i]);
	}
	assert_null(sl_cell_child_dequeue(c, 100));
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

/* Ethernet (optionally one VLAN tag) + IPv4 + UDP/TCP. */
static unsigned frame4(uint8_t *f, bool vlan, const char *src, const char *dst,
		       uint8_t proto, uint16_t sport, uint16_t dport,
		       uint16_t frag)
{
	unsigned o = 12;

	memset(f, 0, 80);
	if (vlan) {
		f[o] = 0x81, f[o + 1] = 0x00, f[o + 3] = 5;
		o += 4;
	}
	f[o] = 0x08, f[o + 1] = 0x00;
	o += 2;
	f[o] = 0x45;
	f[o + 6] = (uint8_t)(frag >> 8), f[o + 7] = (uint8_t)frag;
	f[o + 9] = proto;
	inet_pton(AF_INET, src, f + o + 12);
	inet_pton(AF_INET, dst, f + o + 16);
	o += 20;
	f[o] = (uint8_t)(sport >> 8), f[o + 1] = (uint8_t)sport;
	f[o + 2] = (uint8_t)(dport >> 8), f[o + 3] = (uint8_t)dport;
	return o + 8;
}

static unsigned frame6(uint8_t *f, const char *src, const char *dst,
		       uint8_t proto, uint16_t sport, uint16_t dport)
{
	memset(f, 0, 80);
	f[12] = 0x86, f[13] = 0xdd;
	f[14] = 0x60;
	f[20] = proto;
	inet_pton(AF_INET6, src, f + 22);
	inet_pton(AF_INET6, dst, f + 38);
	f[54] = (uint8_t)(sport >> 8), f[55] = (uint8_t)sport;
	f[56] = (uint8_t)(dport >> 8), f[57] = (uint8_t)dport;
	return 62;
}

static void test_classify(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *parent, *c = child(h, &parent,
		"{\"type\": \"fcfs\", \"classes\": ["
		"{\"name\": \"voip\", \"match\": \"proto udp dport 5060-5070\"},"
		"{\"name\": \"net10\", \"match\": {\"src\": \"10.1.0.0/16\", \"proto\": \"tcp\"}},"
		"{\"name\": \"v6\", \"match\": \"dst fd00:1::/32\"},"
		"{\"name\": \"tagged\", \"class\": 9},"
		"{\"name\": \"icmp\", \"match\": \"proto icmp\"},"
		"{\"name\": \"rest\"}], \"default\": \"rest\"}");
	struct sl_sched *s = (struct sl_sched *)c;
	static uint8_t f[80];
	struct sl_pkt p = { .data = f };

	p.len = frame4(f, false, "1.2.3.4", "5.6.7.8", IPPROTO_UDP, 1000, 5060, 0);
	assert_int_equal(sl_sched_classify(s, &p), 0);
	p.len = frame4(f, true, "1.2.3.4", "5.6.7.8", IPPROTO_UDP, 1000, 5070, 0);
	assert_int_equal(sl_sched_classify(s, &p), 0); /* behind a VLAN tag */
	p.len = frame4(f, false, "1.2.3.4", "5.6.7.8", IPPROTO_UDP, 1000, 5071, 0);
	assert_int_equal(sl_sched_classify(s, &p), 5);
	p.len = frame4(f, false, "1.2.3.4", "5.6.7.8", IPPROTO_UDP, 1000, 5060, 0x0010);
	assert_int_equal(sl_sched_classify(s, &p), 5); /* later fragment: no ports */
	p.len = frame4(f, false, "10.1.200.3", "5.6.7.8", IPPROTO_TCP, 1, 2, 0);
	assert_int_equal(sl_sched_classify(s, &p), 1);
	p.len = frame4(f, false, "10.2.0.1", "5.6.7.8", IPPROTO_TCP, 1, 2, 0);
	assert_int_equal(sl_sched_classify(s, &p), 5);
	p.len = frame6(f, "fd00:2::1", "fd00:1:ffff::5", IPPROTO_TCP, 1, 2);
	assert_int_equal(sl_sched_classify(s, &p), 2);
	p.len = frame6(f, "fd00:2::1", "fd00:2::5", IPPROTO_ICMPV6, 0, 0);
	assert_int_equal(sl_sched_classify(s, &p), 4); /* icmp covers v6 */
	p.len = frame4(f, false, "1.2.3.4", "5.6.7.8", IPPROTO_TCP, 1, 2, 0);
	p.class = 9;
	assert_int_equal(sl_sched_classify(s, &p), 3);
	p.class = 0;
	p.data = NULL; /* no data: only the flow-table class can classify */
	assert_int_equal(sl_sched_classify(s, &p), 5);
	p.data = f;
	p.len = 10; /* truncated */
	assert_int_equal(sl_sched_classify(s, &p), 5);
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"fcfs\", \"classes\": [{\"match\": \"proto sctp\"}]}"),
		"classes[0]: match: proto: \"sctp\" is not supported; expected tcp, udp, icmp or any");
	assert_string_equal(h_cell_err("{\"type\": \"fcfs\", \"classes\": [{\"match\": \"dport 80 mode normal\"}]}"),
		"classes[0]: match: prio, mode and class belong to the flow table; a match takes proto, src, dst, sport and dport");
	assert_string_equal(h_cell_err("{\"type\": \"fcfs\", \"classes\": [{\"match\": 5}]}"),
		"classes[0]: match: expected a flow spec such as \"proto udp dport 5000-5010\"");
	assert_string_equal(h_cell_err("{\"type\": \"fcfs\", \"classes\": [{\"class\": -1}]}"),
		"classes[0]: class: -1 is not a non-negative integer");
	assert_string_equal(h_cell_err("{\"type\": \"fcfs\", \"classes\": [1]}"),
		"classes[0]: expected a class object such as {\"match\": \"proto udp\", \"queue\": \"100pkt\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arrival_order),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
