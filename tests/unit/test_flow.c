// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_flow.c - flow rules as text and JSON (lib/flow.c): every field's
 * accepted spellings, the exact error messages, the canonical format and
 * its round trip. Parsing only: no kernel needed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <sluice/flow.h>

static struct sl_flow_rule parse(const char *spec)
{
	struct sl_flow_rule r;
	struct sl_err err = { "" };

	if (sl_flow_parse(spec, &r, &err))
		fail_msg("%s: %s", spec, err.msg);
	return r;
}

/* spec fails with -EINVAL and exactly msg; *out is not written. */
static void bad(const char *spec, const char *msg)
{
	struct sl_flow_rule r;
	struct sl_err err = { "" };

	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(sl_flow_parse(spec, &r, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_int_equal(r.priority, 0x5a5a5a5a);
}

static void bad_json(const char *text, const char *msg)
{
	struct json_object *o = json_tokener_parse(text);
	struct sl_flow_rule r;
	struct sl_err err = { "" };

	assert_non_null(o);
	assert_int_equal(sl_flow_parse_json(o, &r, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	json_object_put(o);
}

static const char *fmt(const struct sl_flow_rule *r)
{
	static char buf[256];

	return sl_flow_format(r, buf, sizeof(buf));
}

static void test_defaults(void **state)
{
	struct sl_flow_rule r = parse(""), init;

	sl_flow_rule_init(&init);
	assert_memory_equal(&r, &init, sizeof(r));
	assert_int_equal(r.priority, SL_FLOW_PRIO_DEFAULT);
	assert_int_equal(r.mode, SL_FLOW_MODE_MAX);
	assert_int_equal(r.proto, 0);
	assert_int_equal(r.src.family, 0);
	assert_int_equal(r.sport_lo, 0);
	assert_int_equal(r.sport_hi, 65535);
	assert_int_equal(r.dport_hi, 65535);
	assert_string_equal(fmt(&r), "");
	r = parse("   ");
	assert_memory_equal(&r, &init, sizeof(r));
}

static void test_full_spec(void **state)
{
	struct sl_flow_rule r =
		parse("proto tcp dst 10.0.0.0/24 dport 5201 prio 10 mode max class 2");
	uint8_t net[4] = { 10, 0, 0, 0 };

	assert_int_equal(r.proto, IPPROTO_TCP);
	assert_int_equal(r.dst.family, AF_INET);
	assert_int_equal(r.dst.len, 24);
	assert_memory_equal(r.dst.addr, net, 4);
	assert_int_equal(r.src.family, 0);
	assert_int_equal(r.dport_lo, 5201);
	assert_int_equal(r.dport_hi, 5201);
	assert_int_equal(r.sport_lo, 0);
	assert_int_equal(r.sport_hi, 65535);
	assert_int_equal(r.priority, 10);
	assert_int_equal(r.mode, SL_FLOW_MODE_MAX);
	assert_int_equal(r.class, 2);
	assert_string_equal(fmt(&r),
			    "proto tcp dst 10.0.0.0/24 dport 5201 prio 10 class 2");
}

static void test_fields(void **state)
{
	struct sl_flow_rule r;

	r = parse("proto udp sport 1000-2000 mode normal priority 0 class 4294967295");
	assert_int_equal(r.proto, IPPROTO_UDP);
	assert_int_equal(r.sport_lo, 1000);
	assert_int_equal(r.sport_hi, 2000);
	assert_int_equal(r.mode, SL_FLOW_MODE_NORMAL);
	assert_int_equal(r.priority, 0);
	assert_int_equal(r.class, 4294967295u);
	assert_int_equal(parse("proto icmp").proto, IPPROTO_ICMP);
	assert_int_equal(parse("proto icmp6").proto, IPPROTO_ICMP);
	assert_int_equal(parse("proto any").proto, 0);
	r = parse("src fd00:1::/32 dst fd00:2::5");
	assert_int_equal(r.src.family, AF_INET6);
	assert_int_equal(r.src.len, 32);
	assert_int_equal(r.dst.len, 128);
	r = parse("src 192.168.1.7");
	assert_int_equal(r.src.len, 32);
	r = parse("dst 0.0.0.0/0 dport 0-65535 sport 0");
	assert_int_equal(r.dst.family, AF_INET);
	assert_int_equal(r.dst.len, 0);
	assert_int_equal(r.sport_hi, 0);
	/* tabs and repeated blanks */
	r = parse("\tproto  tcp\t\tdport 80 ");
	assert_int_equal(r.dport_lo, 80);
}

static void test_errors(void **state)
{
	bad("port 80",
	    "flow: \"port\" is not a field; expected proto, src, dst, sport, dport, prio, mode or class");
	bad("proto sctp",
	    "flow: proto: \"sctp\" is not supported; expected tcp, udp, icmp or any");
	bad("proto",
	    "flow: proto: missing value after \"proto\"");
	bad("dport 80 dport 81",
	    "flow: dport given twice; expected each field at most once");
	bad("prio 1 priority 2",
	    "flow: prio given twice; expected each field at most once");
	bad("dst 10.0.0/8",
	    "flow: dst: \"10.0.0/8\" is not an address; expected an IPv4 or IPv6 address with an optional /prefix such as 10.0.0.0/8 or fd00::/64");
	bad("src 10.0.0.0/33",
	    "flow: src: \"10.0.0.0/33\" is not an address; expected an IPv4 or IPv6 address with an optional /prefix such as 10.0.0.0/8 or fd00::/64");
	bad("dst 10.0.0.1/24",
	    "flow: dst: 10.0.0.1/24 has host bits set; expected 10.0.0.0/24");
	bad("src fd00::1/64",
	    "flow: src: fd00::1/64 has host bits set; expected fd00::/64");
	bad("src 10.0.0.0/8 dst fd00::/8",
	    "flow: src is IPv4 but dst is IPv6; expected addresses of one family");
	bad("dport 65536",
	    "flow: dport: \"65536\" is not a port or port range; expected a port 0-65535 or a range lo-hi such as 1000-2000");
	bad("sport 2000-1000",
	    "flow: sport: \"2000-1000\" is not a port or port range; expected a port 0-65535 or a range lo-hi such as 1000-2000");
	bad("sport 1000-",
	    "flow: sport: \"1000-\" is not a port or port range; expected a port 0-65535 or a range lo-hi such as 1000-2000");
	bad("dport -5",
	    "flow: dport: \"-5\" is not a port or port range; expected a port 0-65535 or a range lo-hi such as 1000-2000");
	bad("dport http",
	    "flow: dport: \"http\" is not a port or port range; expected a port 0-65535 or a range lo-hi such as 1000-2000");
	bad("proto icmp dport 5",
	    "flow: dport: ICMP has no ports; expected ports only with proto tcp, udp or any");
	bad("proto icmp sport 5",
	    "flow: sport: ICMP has no ports; expected ports only with proto tcp, udp or any");
	bad("prio high",
	    "flow: prio: \"high\" is not a priority; expected an integer 0-4294967295 (lower matches first)");
	bad("prio 4294967296",
	    "flow: prio: \"4294967296\" is not a priority; expected an integer 0-4294967295 (lower matches first)");
	bad("class -1",
	    "flow: class: \"-1\" is not a class; expected an integer 0-4294967295");
	bad("class 1x",
	    "flow: class: \"1x\" is not a class; expected an integer 0-4294967295");
	bad("mode fast",
	    "flow: mode: \"fast\" is not a mode; expected max or normal");
}

static void test_json(void **state)
{
	struct json_object *o = json_tokener_parse(
		"{\"proto\":\"tcp\",\"src\":\"10.0.0.0/8\",\"dst\":\"10.1.0.0/16\","
		"\"sport\":\"1000-2000\",\"dport\":5201,\"priority\":10,"
		"\"mode\":\"normal\",\"class\":2}");
	struct sl_flow_rule r, t;
	struct sl_err err = { "" };

	assert_non_null(o);
	assert_int_equal(sl_flow_parse_json(o, &r, &err), 0);
	json_object_put(o);
	t = parse("proto tcp src 10.0.0.0/8 dst 10.1.0.0/16 sport 1000-2000 dport 5201 prio 10 mode normal class 2");
	assert_memory_equal(&r, &t, sizeof(r));
	o = json_tokener_parse("{\"prio\":3,\"dport\":\"80\"}");
	assert_int_equal(sl_flow_parse_json(o, &r, &err), 0);
	assert_int_equal(r.priority, 3);
	assert_int_equal(r.dport_lo, 80);
	json_object_put(o);
	o = json_tokener_parse("{}");
	assert_int_equal(sl_flow_parse_json(o, &r, &err), 0);
	json_object_put(o);

	bad_json("[1]",
		 "flow: expected a JSON object with any of proto, src, dst, sport, dport, prio, mode or class, got an array");
	bad_json("{\"port\":80}",
		 "flow: \"port\" is not a field; expected proto, src, dst, sport, dport, prio, mode or class");
	bad_json("{\"dport\":true}",
		 "flow: dport: got a boolean; expected a port number or a \"lo-hi\" string such as \"1000-2000\"");
	bad_json("{\"dport\":70000}",
		 "flow: dport: \"70000\" is not a port or port range; expected a port 0-65535 or a range lo-hi such as 1000-2000");
	bad_json("{\"priority\":\"10\"}",
		 "flow: prio: got a string; expected an integer 0-4294967295");
	bad_json("{\"class\":-3}",
		 "flow: class: \"-3\" is not a class; expected an integer 0-4294967295");
	bad_json("{\"class\":1.5}",
		 "flow: class: got a fractional number; expected an integer 0-4294967295");
	bad_json("{\"proto\":6}",
		 "flow: proto: got a number; expected a string");
	bad_json("{\"prio\":1,\"priority\":2}",
		 "flow: prio given twice (as \"prio\" and \"priority\"); expected it once");
	bad_json("{\"src\":\"10.0.0.1/8\"}",
		 "flow: src: 10.0.0.1/8 has host bits set; expected 10.0.0.0/8");
	assert_int_equal(sl_flow_parse_json(NULL, &r, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "flow: expected a JSON object with any of proto, src, dst, sport, dport, prio, mode or class, got nothing");
}

static void test_format_round_trip(void **state)
{
	static const char *const specs[] = {
		"proto tcp dst 10.0.0.0/24 dport 5201 prio 10 class 2",
		"proto udp src fd00::/8 dst fd00:1::1/128 sport 1-2 dport 3 mode normal",
		"proto icmp src 0.0.0.0/0",
		"sport 1000-2000 prio 0",
		"class 7",
		"",
	};
	struct sl_flow_rule r, back;
	size_t i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		r = parse(specs[i]);
		assert_string_equal(fmt(&r), specs[i]);
		back = parse(fmt(&r));
		assert_memory_equal(&back, &r, sizeof(r));
	}
	/* a short buffer is cut, never overrun */
	{
		char small[8];

		r = parse(specs[0]);
		sl_flow_format(&r, small, sizeof(small));
		assert_int_equal(strlen(small), 7);
	}
}

static void test_check(void **state)
{
	struct sl_flow_rule r;
	struct sl_err err = { "" };

	sl_flow_rule_init(&r);
	assert_int_equal(sl_flow_check(&r, &err), 0);
	r.dport_lo = 10;
	r.dport_hi = 5;
	assert_int_equal(sl_flow_check(&r, &err), -EINVAL);
	assert_string_equal(err.msg, "flow: dport: range 10-5 is empty; expected lo <= hi");
	sl_flow_rule_init(&r);
	r.mode = 2;
	assert_int_equal(sl_flow_check(&r, &err), -EINVAL);
	assert_string_equal(err.msg, "flow: mode 2; expected max (0) or normal (1)");
	sl_flow_rule_init(&r);
	r.src.family = AF_INET;
	r.src.len = 40;
	assert_int_equal(sl_flow_check(&r, &err), -EINVAL);
	assert_string_equal(err.msg, "flow: src: prefix length 40; expected at most 32");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_spec),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
