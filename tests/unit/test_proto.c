// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_proto.c - the controller protocol's validator and builders
 * (lib/proto.c): every message the two sides build validates, and each
 * kind of malformed input is refused with the right code and a message
 * naming the field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sluice/proto.h>

static int parse(const char *text, unsigned from, enum sl_proto_code *code,
		 struct sl_err *err, struct sl_msg *m)
{
	return sl_proto_parse(text, strlen(text), from, m, code, err);
}

static void expect_fail(const char *text, unsigned from,
			enum sl_proto_code want, const char *msg)
{
	struct sl_err err = { "" };
	enum sl_proto_code code = SL_PROTO_OK;
	struct sl_msg m;
	int ret = parse(text, from, &code, &err, &m);

	assert_int_equal(ret, -EINVAL);
	assert_int_equal(code, want);
	assert_null(m.obj);
	if (msg)
		assert_string_equal(err.msg, msg);
}

static void test_names(void **state)
{
	int t;

	for (t = SL_MSG_UNKNOWN + 1; t < SL_MSG__COUNT; t++)
		assert_int_equal(sl_msg_type_from_name(sl_msg_type_name((enum sl_msg_type)t)), t);
	assert_int_equal(sl_msg_type_from_name("nope"), SL_MSG_UNKNOWN);
	assert_string_equal(sl_msg_type_name(SL_MSG__COUNT), "unknown");
	assert_string_equal(sl_proto_code_name(SL_PROTO_E_TOO_LARGE), "too_large");
	assert_string_equal(sl_proto_code_name(SL_PROTO_E_JSON), "bad_json");
	assert_string_equal(sl_proto_code_name(SL_PROTO_E_FIELD), "bad_field");
	assert_true(sl_msg_type_senders(SL_MSG_METRICS) == SL_PROTO_FROM_HOST);
	assert_true(sl_msg_type_senders(SL_MSG_LINK_POLICY) == SL_PROTO_FROM_CONTROLLER);
}

static void test_hello_host(void **state)
{
	struct sl_err err = { "" };
	enum sl_proto_code code;
	struct sl_msg m;

	assert_int_equal(parse("{\"v\":1,\"type\":\"hello\",\"role\":\"host\",\"token\":\"t\","
			       "\"host\":\"h1\",\"version\":\"0.1\",\"boot\":7,\"id\":3}",
			       SL_PROTO_FROM_HOST, &code, &err, &m), 0);
	assert_int_equal(code, SL_PROTO_OK);
	assert_int_equal(m.type, SL_MSG_HELLO);
	assert_int_equal(m.id, 3);
	assert_string_equal(sl_msg_str(&m, "host"), "h1");
	assert_int_equal(sl_msg_int(&m, "boot", -1), 7);
	assert_int_equal(sl_msg_int(&m, "absent", -1), -1);
	assert_null(sl_msg_str(&m, "absent"));
	sl_msg_release(&m);
	sl_msg_release(NULL);
}

static void test_hello_refused(void **state)
{
	expect_fail("{\"v\":1,\"type\":\"hello\",\"role\":\"host\"}", SL_PROTO_FROM_HOST,
		    SL_PROTO_E_FIELD, "missing field \"token\"; expected a string");
	expect_fail("{\"v\":1,\"type\":\"hello\",\"role\":\"host\",\"token\":\"t\"}",
		    SL_PROTO_FROM_HOST, SL_PROTO_E_FIELD,
		    "missing field \"host\"; expected a string");
	expect_fail("{\"v\":1,\"type\":\"hello\",\"role\":\"boss\",\"token\":\"t\"}",
		    SL_PROTO_FROM_HOST, SL_PROTO_E_FIELD,
		    "field \"role\": \"boss\"; expected \"host\", \"ui\" or \"api\"");
	expect_fail("{\"v\":1,\"type\":\"hello\",\"role\":\"host\",\"token\":\"t\","
		    "\"host\":\"a b\",\"version\":\"1\",\"boot\":1}", SL_PROTO_FROM_HOST,
		    SL_PROTO_E_FIELD,
		    "field \"host\": expected letters, digits, '-', '_' or '.'");
	expect_fail("{\"v\":1,\"type\":\"hello\",\"role\":\"ui\",\"token\":\"\"}",
		    SL_PROTO_FROM_CLIENT, SL_PROTO_E_FIELD,
		    "field \"token\": string of 0 bytes; expected 1 to 512");
}

static void test_envelope(void **state)
{
	expect_fail("{", SL_PROTO_FROM_HOST, SL_PROTO_E_JSON,
		    "message: not JSON (unexpected end of data); expected a JSON object");
	expect_fail("42", SL_PROTO_FROM_HOST, SL_PROTO_E_NOT_OBJECT,
		    "message: got int; expected a JSON object");
	expect_fail("[]", SL_PROTO_FROM_HOST, SL_PROTO_E_NOT_OBJECT, NULL);
	expect_fail("{} {}", SL_PROTO_FROM_HOST, SL_PROTO_E_JSON,
		    "message: data after the JSON value at byte 3; expected one JSON object");
	expect_fail("{\"type\":\"heartbeat\"}", SL_PROTO_FROM_HOST, SL_PROTO_E_VERSION,
		    "missing field \"v\"; expected protocol version 1");
	expect_fail("{\"v\":2,\"type\":\"heartbeat\"}", SL_PROTO_FROM_HOST,
		    SL_PROTO_E_VERSION,
		    "field \"v\": 2 is not a supported version; expected 1");
	expect_fail("{\"v\":1}", SL_PROTO_FROM_HOST, SL_PROTO_E_TYPE,
		    "field \"type\": expected a string naming the message type");
	expect_fail("{\"v\":1,\"type\":\"x\"}", SL_PROTO_FROM_HOST, SL_PROTO_E_TYPE,
		    "unknown message type \"x\"");
	expect_fail("{\"v\":1,\"type\":\"teardown\",\"id\":1}", SL_PROTO_FROM_HOST,
		    SL_PROTO_E_TYPE,
		    "message type \"teardown\" is not accepted from this peer");
	/* Whitespace after the object is fine. */
	{
		struct sl_err err = { "" };
		enum sl_proto_code code;
		struct sl_msg m;

		assert_int_equal(parse("{\"v\":1,\"type\":\"heartbeat\"}\r\n ",
				       SL_PROTO_FROM_HOST, &code, &err, &m), 0);
		sl_msg_release(&m);
	}
}

static void test_nul_and_size(void **state)
{
	static const char nul[] = "{\"v\":1,\0\"type\":\"heartbeat\"}";
	struct sl_err err = { "" };
	enum sl_proto_code code;
	struct sl_msg m;
	char *big;

	assert_int_equal(sl_proto_parse(nul, sizeof(nul) - 1, SL_PROTO_FROM_HOST, &m,
					&code, &err), -EINVAL);
	assert_int_equal(code, SL_PROTO_E_JSON);
	big = malloc(SL_PROTO_FRAME_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', SL_PROTO_FRAME_MAX + 1);
	assert_int_equal(sl_proto_parse(big, SL_PROTO_FRAME_MAX + 1, SL_PROTO_FROM_HOST,
					&m, &code, &err), -EMSGSIZE);
	assert_int_equal(code, SL_PROTO_E_TOO_LARGE);
	assert_string_equal(err.msg, "message of 4194305 bytes; expected at most 4194304");
	free(big);
}

static void test_metrics(void **state)
{
	struct sl_err err = { "" };
	enum sl_proto_code code;
	struct sl_msg m;

	assert_int_equal(parse("{\"v\":1,\"type\":\"metrics\",\"boot\":1,\"seq\":5,\"ts\":1.5,"
			       "\"links\":[{\"topology\":\"t\",\"a\":\"x\",\"b\":\"y\","
			       "\"dir\":\"down\",\"packets\":1,\"bytes\":2,\"qlen\":0}],"
			       "\"cells\":[{\"topology\":\"t\",\"a\":\"x\",\"b\":\"y\","
			       "\"dir\":\"up\",\"cell\":\"rate\",\"counters\":{}}]}",
			       SL_PROTO_FROM_HOST, &code, &err, &m), 0);
	assert_int_equal(m.type, SL_MSG_METRICS);
	sl_msg_release(&m);
	expect_fail("{\"v\":1,\"type\":\"metrics\",\"boot\":1,\"seq\":0,\"ts\":1,\"links\":[]}",
		    SL_PROTO_FROM_HOST, SL_PROTO_E_FIELD,
		    "field \"seq\": expected an integer >= 1");
	expect_fail("{\"v\":1,\"type\":\"metrics\",\"boot\":1,\"seq\":1,\"ts\":\"x\",\"links\":[]}",
		    SL_PROTO_FROM_HOST, SL_PROTO_E_FIELD,
		    "field \"ts\": got string; expected a number");
	expect_fail("{\"v\":1,\"type\":\"metrics\",\"boot\":1,\"seq\":1,\"ts\":1,"
		    "\"links\":[{\"topology\":\"t\",\"a\":\"x\",\"b\":\"y\",\"dir\":\"up\","
		    "\"packets\":1,\"bytes\":-2}]}", SL_PROTO_FROM_HOST, SL_PROTO_E_FIELD,
		    "field \"links[0].bytes\": got int; expected an integer >= 0");
	expect_fail("{\"v\":1,\"type\":\"metrics\",\"boot\":1,\"seq\":1,\"ts\":1,"
		    "\"links\":[{\"topology\":\"t\",\"a\":\"x\",\"b\":\"y\",\"dir\":\"in\","
		    "\"packets\":1,\"bytes\":2}]}", SL_PROTO_FROM_HOST, SL_PROTO_E_FIELD,
		    "field \"links[0].dir\": \"in\"; expected \"up\", \"down\"");
	expect_fail("{\"v\":1,\"type\":\"metrics\",\"boot\":1,\"seq\":1,\"ts\":1,\"links\":[3]}",
		    SL_PROTO_FROM_HOST, SL_PROTO_E_FIELD,
		    "field \"links[0]\": expected an object");
}

static void test_commands(void **state)
{
	struct sl_err err = { "" };
	enum sl_proto_code code;
	struct sl_msg m;

	assert_int_equal(parse("{\"v\":1,\"type\":\"link_policy\",\"id\":9,\"topology\":\"t\","
			       "\"a\":\"x\",\"b\":\"y\",\"dir\":\"both\",\"policy\":null}",
			       SL_PROTO_FROM_CONTROLLER, &code, &err, &m), 0);
	assert_int_equal(m.type, SL_MSG_LINK_POLICY);
	assert_int_equal(m.id, 9);
	sl_msg_release(&m);
	expect_fail("{\"v\":1,\"type\":\"link_policy\",\"topology\":\"t\",\"a\":\"x\","
		    "\"b\":\"y\",\"dir\":\"up\",\"policy\":{}}", SL_PROTO_FROM_CONTROLLER,
		    SL_PROTO_E_FIELD, "missing field \"id\"; expected an integer >= 0");
	expect_fail("{\"v\":1,\"type\":\"link_policy\",\"id\":1,\"topology\":\"t\",\"a\":\"x\","
		    "\"b\":\"y\",\"dir\":\"up\",\"policy\":[]}", SL_PROTO_FROM_CONTROLLER,
		    SL_PROTO_E_FIELD, "field \"policy\": got array; expected an object or null");
	expect_fail("{\"v\":1,\"type\":\"ack\",\"id\":1}", SL_PROTO_FROM_HOST,
		    SL_PROTO_E_FIELD, "missing field \"ok\"; expected true or false");
}

/* What the builders make validates on the other side. */
static void test_builders_roundtrip(void **state)
{
	struct sl_err err = { "" };
	enum sl_proto_code code;
	struct sl_msg m;
	json_object *o = sl_proto_error_new(SL_PROTO_E_AUTH, 12, "token %s", "refused");
	const char *text;
	size_t len;

	text = sl_proto_text(o, &len);
	assert_string_equal(text, "{\"v\":1,\"type\":\"error\",\"code\":\"auth\","
				  "\"error\":\"token refused\",\"ref\":12}");
	assert_int_equal(sl_proto_parse(text, len, SL_PROTO_FROM_CONTROLLER, &m, &code,
					&err), 0);
	assert_int_equal(m.type, SL_MSG_ERROR);
	sl_msg_release(&m);
	json_object_put(o);

	o = sl_proto_new(SL_MSG_METRICS_ACK);
	json_object_object_add(o, "boot", json_object_new_int64(5));
	json_object_object_add(o, "seq", json_object_new_int64(6));
	assert_int_equal(sl_proto_validate(o, SL_PROTO_FROM_CONTROLLER, &m, &code, &err), 0);
	assert_int_equal(m.type, SL_MSG_METRICS_ACK);
	sl_msg_release(&m);
	/* A host may not send it. */
	assert_int_equal(sl_proto_validate(o, SL_PROTO_FROM_HOST, &m, &code, &err), -EINVAL);
	assert_int_equal(code, SL_PROTO_E_TYPE);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_hello_host),
		cmocka_unit_test(test_hello_refused),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_nul_and_size),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_builders_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
