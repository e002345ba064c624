// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * proto.c - the controller protocol's message table, validator and
 * builders (include/sluice/proto.h, docs/protocol.md).
 *
 * The protocol is described once, as data: a row per message type with who
 * may send it and its fields (name, JSON kind, required). The validator
 * walks that table, so adding a message is one row and the controller, the
 * host agent and the tests agree by construction. Fields the table does not
 * name are ignored, so a newer peer may add fields within one version.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/proto.h>

enum fkind {
	F_STR = 1, /* string of 1..max bytes */
	F_INT,     /* integer >= 0 */
	F_NUM,     /* integer or double */
	F_BOOL,
	F_OBJ,
	F_ARR,
	F_OBJ_NULL, /* object or null */
};

struct field {
	const char *name;
	enum fkind kind;
	bool required;
	unsigned max; /* F_STR: longest accepted, 0 = STR_MAX_DEFAULT */
};

#define STR_MAX_DEFAULT 1024u
#define TEXT_MAX 65536u
#define FIELDS_MAX 10

struct msg_def {
	const char *name;
	unsigned from;
	struct field fields[FIELDS_MAX];
	/* Checks beyond presence and kind; NULL when none. */
	int (*check)(json_object *o, struct sl_err *err);
};

static int check_hello(json_object *o, struct sl_err *err);
static int check_metrics(json_object *o, struct sl_err *err);
static int check_stats(json_object *o, struct sl_err *err);
static int check_link_policy(json_object *o, struct sl_err *err);

#define H SL_PROTO_FROM_HOST
#define C SL_PROTO_FROM_CONTROLLER
#define U SL_PROTO_FROM_CLIENT
#define ID { "id", F_INT, true, 0 }

static const struct msg_def defs[SL_MSG__COUNT] = {
	[SL_MSG_HELLO] = { "hello", H | U, {
		{ "role", F_STR, true, 16 },
		{ "token", F_STR, true, 512 },
		{ "host", F_STR, false, SL_PROTO_NAME_MAX - 1 },
		{ "version", F_STR, false, 64 },
		{ "boot", F_INT, false, 0 },
		{ "capabilities", F_ARR, false, 0 },
		{ "capacity", F_OBJ, false, 0 },
		{ "topologies", F_ARR, false, 0 },
	}, check_hello },
	[SL_MSG_HEARTBEAT] = { "heartbeat", H | C | U, {
		{ "ts", F_NUM, false, 0 },
		{ "load", F_OBJ, false, 0 },
	}, NULL },
	[SL_MSG_METRICS] = { "metrics", H, {
		{ "boot", F_INT, true, 0 },
		{ "seq", F_INT, true, 0 },
		{ "ts", F_NUM, true, 0 },
		{ "links", F_ARR, true, 0 },
		{ "cells", F_ARR, false, 0 },
	}, check_metrics },
	[SL_MSG_EVENT] = { "event", H, {
		{ "kind", F_STR, true, 64 },
		{ "ts", F_NUM, false, 0 },
		{ "topology", F_STR, false, SL_PROTO_NAME_MAX - 1 },
		{ "a", F_STR, false, SL_PROTO_NAME_MAX - 1 },
		{ "b", F_STR, false, SL_PROTO_NAME_MAX - 1 },
		{ "message", F_STR, false, TEXT_MAX },
		{ "data", F_OBJ, false, 0 },
	}, NULL },
	[SL_MSG_ACK] = { "ack", H, {
		ID,
		{ "ok", F_BOOL, true, 0 },
		{ "result", F_OBJ, false, 0 },
		{ "error", F_STR, false, TEXT_MAX },
		{ "code", F_STR, false, 64 },
	}, NULL },
	[SL_MSG_WELCOME] = { "welcome", C, {
		{ "session", F_STR, true, 64 },
		{ "role", F_STR, true, 16 },
		{ "host", F_STR, false, SL_PROTO_NAME_MAX - 1 },
		{ "last_seq", F_INT, false, 0 },
		{ "metrics_interval_ms", F_INT, false, 0 },
		{ "heartbeat_ms", F_INT, false, 0 },
	}, NULL },
	[SL_MSG_ERROR] = { "error", C, {
		{ "code", F_STR, true, 64 },
		{ "error", F_STR, true, TEXT_MAX },
		{ "ref", F_INT, false, 0 },
	}, NULL },
	[SL_MSG_METRICS_ACK] = { "metrics_ack", C, {
		{ "boot", F_INT, true, 0 },
		{ "seq", F_INT, true, 0 },
	}, NULL },
	[SL_MSG_APPLY] = { "apply", C, {
		ID,
		{ "topology", F_OBJ, true, 0 },
		{ "source", F_STR, false, 256 },
	}, NULL },
	[SL_MSG_LINK_POLICY] = { "link_policy", C, {
		ID,
		{ "topology", F_STR, true, SL_PROTO_NAME_MAX - 1 },
		{ "a", F_STR, true, SL_PROTO_NAME_MAX - 1 },
		{ "b", F_STR, true, SL_PROTO_NAME_MAX - 1 },
		{ "dir", F_STR, true, 8 },
		{ "policy", F_OBJ_NULL, true, 0 },
		{ "version", F_INT, false, 0 },
	}, check_link_policy },
	[SL_MSG_FLOW_ADD] = { "flow_add", C, {
		ID,
		{ "topology", F_STR, true, SL_PROTO_NAME_MAX - 1 },
		{ "flow", F_OBJ, true, 0 },
	}, NULL },
	[SL_MSG_FLOW_DEL] = { "flow_del", C, {
		ID,
		{ "topology", F_STR, true, SL_PROTO_NAME_MAX - 1 },
		{ "flow", F_INT, true, 0 },
	}, NULL },
	[SL_MSG_RELAY_ADD] = { "relay_add", C, {
		ID,
		{ "topology", F_STR, true, SL_PROTO_NAME_MAX - 1 },
		{ "relay", F_OBJ, true, 0 },
	}, NULL },
	[SL_MSG_RELAY_DEL] = { "relay_del", C, {
		ID,
		{ "topology", F_STR, true, SL_PROTO_NAME_MAX - 1 },
		{ "relay", F_INT, true, 0 },
	}, NULL },
	[SL_MSG_TEARDOWN] = { "teardown", C, {
		ID,
		{ "topology", F_STR, false, SL_PROTO_NAME_MAX - 1 },
	}, NULL },
	[SL_MSG_SNAPSHOT] = { "snapshot", C, {
		{ "hosts", F_ARR, true, 0 },
		{ "topologies", F_ARR, true, 0 },
	}, NULL },
	[SL_MSG_STATS] = { "stats", C, {
		{ "ts", F_NUM, true, 0 },
		{ "links", F_ARR, true, 0 },
	}, check_stats },
};

#undef H
#undef C
#undef U
#undef ID

static const char *const code_names[SL_PROTO_E__COUNT] = {
	[SL_PROTO_OK] = "ok",
	[SL_PROTO_E_TOO_LARGE] = "too_large",
	[SL_PROTO_E_BINARY] = "binary",
	[SL_PROTO_E_JSON] = "bad_json",
	[SL_PROTO_E_NOT_OBJECT] = "not_object",
	[SL_PROTO_E_VERSION] = "bad_version",
	[SL_PROTO_E_TYPE] = "bad_type",
	[SL_PROTO_E_FIELD] = "bad_field",
	[SL_PROTO_E_AUTH] = "auth",
	[SL_PROTO_E_STATE] = "state",
	[SL_PROTO_E_RATE] = "rate",
	[SL_PROTO_E_NOTFOUND] = "notfound",
	[SL_PROTO_E_INTERNAL] = "internal",
};

const char *sl_msg_type_name(enum sl_msg_type t)
{
	if (t <= SL_MSG_UNKNOWN || t >= SL_MSG__COUNT)
		return "unknown";
	return defs[t].name;
}

enum sl_msg_type sl_msg_type_from_name(const char *name)
{
	int t;

	for (t = SL_MSG_UNKNOWN + 1; t < SL_MSG__COUNT; t++)
		if (!strcmp(defs[t].name, name))
			return (enum sl_msg_type)t;
	return SL_MSG_UNKNOWN;
}

unsigned sl_msg_type_senders(enum sl_msg_type t)
{
	if (t <= SL_MSG_UNKNOWN || t >= SL_MSG__COUNT)
		return 0;
	return defs[t].from;
}

const char *sl_proto_code_name(enum sl_proto_code c)
{
	if ((int)c < 0 || c >= SL_PROTO_E__COUNT)
		return "internal";
	return code_names[c];
}

static const char *kind_name(enum fkind k)
{
	switch (k) {
	case F_STR: return "a string";
	case F_INT: return "an integer >= 0";
	case F_NUM: return "a number";
	case F_BOOL: return "true or false";
	case F_OBJ: return "an object";
	case F_ARR: return "an array";
	case F_OBJ_NULL: return "an object or null";
	}
	return "?";
}

/* Checks one value against a field; where is "links[3]." or "". */
static int check_field(json_object *o, const struct field *f,
		       const char *where, struct sl_err *err)
{
	json_object *v;
	enum json_type t;
	bool ok;

	if (!json_object_object_get_ex(o, f->name, &v)) {
		if (!f->required)
			return 0;
		return sl_err_set(err, EINVAL, "missing field \"%s%s\"; expected %s",
				  where, f->name, kind_name(f->kind));
	}
	t = json_object_get_type(v);
	switch (f->kind) {
	case F_STR:
		ok = t == json_type_string;
		if (ok) {
			size_t n = (size_t)json_object_get_string_len(v);
			unsigned max = f->max ? f->max : STR_MAX_DEFAULT;

			if (!n || n > max)
				return sl_err_set(err, EINVAL,
						  "field \"%s%s\": string of %zu bytes; expected 1 to %u",
						  where, f->name, n, max);
		}
		break;
	case F_INT:
		ok = t == json_type_int && json_object_get_int64(v) >= 0;
		break;
	case F_NUM:
		ok = t == json_type_int || t == json_type_double;
		break;
	case F_BOOL:
		ok = t == json_type_boolean;
		break;
	case F_OBJ:
		ok = t == json_type_object;
		break;
	case F_ARR:
		ok = t == json_type_array;
		break;
	case F_OBJ_NULL:
		ok = t == json_type_object || t == json_type_null;
		break;
	default:
		ok = false;
	}
	if (!ok)
		return sl_err_set(err, EINVAL, "field \"%s%s\": got %s; expected %s",
				  where, f->name, json_type_to_name(t),
				  kind_name(f->kind));
	return 0;
}

static int check_fields(json_object *o, const struct field *fs, size_t n,
			const char *where, struct sl_err *err)
{
	size_t i;
	int ret;

	for (i = 0; i < n && fs[i].name; i++) {
		ret = check_field(o, &fs[i], where, err);
		if (ret)
			return ret;
	}
	return 0;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool name_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

static int check_dir(json_object *o, const char *where, bool both_ok,
		     struct sl_err *err)
{
	const char *d = str_of(o, "dir");

	if (!strcmp(d, "up") || !strcmp(d, "down") ||
	    (both_ok && !strcmp(d, "both")))
		return 0;
	return sl_err_set(err, EINVAL, "field \"%sdir\": \"%.32s\"; expected \"up\", \"down\"%s",
			  where, d, both_ok ? " or \"both\"" : "");
}

static int check_hello(json_object *o, struct sl_err *err)
{
	const char *role = str_of(o, "role");
	static const struct field host_fields[] = {
		{ "host", F_STR, true, SL_PROTO_NAME_MAX - 1 },
		{ "version", F_STR, true, 64 },
		{ "boot", F_INT, true, 0 },
	};
	int ret;

	if (strcmp(role, "host") && strcmp(role, "ui") && strcmp(role, "api"))
		return sl_err_set(err, EINVAL,
				  "field \"role\": \"%.32s\"; expected \"host\", \"ui\" or \"api\"",
				  role);
	if (strcmp(role, "host"))
		return 0;
	ret = check_fields(o, host_fields, 3, "", err);
	if (ret)
		return ret;
	if (!name_ok(str_of(o, "host")))
		return sl_err_set(err, EINVAL,
				  "field \"host\": expected letters, digits, '-', '_' or '.'");
	return 0;
}

static const struct field link_row[] = {
	{ "topology", F_STR, true, SL_PROTO_NAME_MAX - 1 },
	{ "a", F_STR, true, SL_PROTO_NAME_MAX - 1 },
	{ "b", F_STR, true, SL_PROTO_NAME_MAX - 1 },
	{ "dir", F_STR, true, 8 },
	{ "packets", F_INT, true, 0 },
	{ "bytes", F_INT, true, 0 },
	{ "drops", F_INT, false, 0 },
	{ "qlen", F_INT, false, 0 },
	{ "backlog", F_INT, false, 0 },
	{ "sojourn_us", F_NUM, false, 0 },
};

static const struct field cell_row[] = {
	{ "topology", F_STR, true, SL_PROTO_NAME_MAX - 1 },
	{ "a", F_STR, true, SL_PROTO_NAME_MAX - 1 },
	{ "b", F_STR, true, SL_PROTO_NAME_MAX - 1 },
	{ "dir", F_STR, true, 8 },
	{ "cell", F_STR, true, 64 },
	{ "counters", F_OBJ, true, 0 },
};

#define ROWS_MAX 100000

static int check_rows(json_object *o, const char *key, const struct field *fs,
		      size_t nf, struct sl_err *err)
{
	json_object *arr;
	size_t i, n;
	char where[48];
	int ret;

	if (!json_object_object_get_ex(o, key, &arr))
		return 0;
	n = json_object_array_length(arr);
	if (n > ROWS_MAX)
		return sl_err_set(err, EINVAL, "field \"%s\": %zu rows; expected at most %u",
				  key, n, ROWS_MAX);
	for (i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(arr, i);

		snprintf(where, sizeof(where), "%s[%zu].", key, i);
		if (!json_object_is_type(row, json_type_object))
			return sl_err_set(err, EINVAL, "field \"%s[%zu]\": expected an object",
					  key, i);
		ret = check_fields(row, fs, nf, where, err);
		if (!ret)
			ret = check_dir(row, where, false, err);
		if (ret)
			return ret;
	}
	return 0;
}

static int check_metrics(json_object *o, struct sl_err *err)
{
	json_object *v;
	int ret;

	json_object_object_get_ex(o, "seq", &v);
	if (json_object_get_int64(v) < 1)
		return sl_err_set(err, EINVAL, "field \"seq\": expected an integer >= 1");
	ret = check_rows(o, "links", link_row,
			 sizeof(link_row) / sizeof(link_row[0]), err);
	if (!ret)
		ret = check_rows(o, "cells", cell_row,
				 sizeof(cell_row) / sizeof(cell_row[0]), err);
	return ret;
}

static int check_stats(json_object *o, struct sl_err *err)
{
	return check_rows(o, "links", link_row,
			  sizeof(link_row) / sizeof(link_row[0]), err);
}

static int check_link_policy(json_object *o, struct sl_err *err)
{
	return check_dir(o, "", true, err);
}

void sl_msg_release(struct sl_msg *msg)
{
	if (!msg)
		return;
	json_object_put(msg->obj);
	msg->obj = NULL;
	msg->type = SL_MSG_UNKNOWN;
}

static int fail(enum sl_proto_code *code, enum sl_proto_code c, int ret)
{
	if (code)
		*code = c;
	return ret;
}

int sl_proto_validate(json_object *o, unsigned from, struct sl_msg *msg,
		      enum sl_proto_code *code, struct sl_err *err)
{
	const struct msg_def *d;
	enum sl_msg_type t;
	json_object *v;
	const char *name;
	int ret;

	msg->type = SL_MSG_UNKNOWN;
	msg->id = -1;
	msg->obj = NULL;
	if (!json_object_is_type(o, json_type_object))
		return fail(code, SL_PROTO_E_NOT_OBJECT,
			    sl_err_set(err, EINVAL, "message: got %s; expected a JSON object",
				       json_type_to_name(json_object_get_type(o))));
	if (json_object_object_get_ex(o, "id", &v) &&
	    json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
		msg->id = json_object_get_int64(v);
	if (!json_object_object_get_ex(o, "v", &v))
		return fail(code, SL_PROTO_E_VERSION,
			    sl_err_set(err, EINVAL, "missing field \"v\"; expected protocol version %d",
				       SL_PROTO_VERSION));
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != SL_PROTO_VERSION)
		return fail(code, SL_PROTO_E_VERSION,
			    sl_err_set(err, EINVAL, "field \"v\": %.32s is not a supported version; expected %d",
				       json_object_to_json_string(v), SL_PROTO_VERSION));
	if (!json_object_object_get_ex(o, "type", &v) ||
	    !json_object_is_type(v, json_type_string))
		return fail(code, SL_PROTO_E_TYPE,
			    sl_err_set(err, EINVAL, "field \"type\": expected a string naming the message type"));
	name = json_object_get_string(v);
	t = sl_msg_type_from_name(name);
	if (t == SL_MSG_UNKNOWN)
		return fail(code, SL_PROTO_E_TYPE,
			    sl_err_set(err, EINVAL, "unknown message type \"%.64s\"", name));
	d = &defs[t];
	if (!(d->from & from))
		return fail(code, SL_PROTO_E_TYPE,
			    sl_err_set(err, EINVAL, "message type \"%s\" is not accepted from this peer",
				       name));
	ret = check_fields(o, d->fields, FIELDS_MAX, "", err);
	if (!ret && d->check)
		ret = d->check(o, err);
	if (ret)
		return fail(code, SL_PROTO_E_FIELD, ret);
	msg->type = t;
	msg->obj = json_object_get(o);
	return fail(code, SL_PROTO_OK, 0);
}

int sl_proto_parse(const char *buf, size_t len, unsigned from,
		   struct sl_msg *msg, enum sl_proto_code *code,
		   struct sl_err *err)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *o;
	size_t end;
	int ret;

	msg->type = SL_MSG_UNKNOWN;
	msg->id = -1;
	msg->obj = NULL;
	if (len > SL_PROTO_FRAME_MAX)
		return fail(code, SL_PROTO_E_TOO_LARGE,
			    sl_err_set(err, EMSGSIZE, "message of %zu bytes; expected at most %u",
				       len, SL_PROTO_FRAME_MAX));
	if (memchr(buf, '\0', len))
		return fail(code, SL_PROTO_E_JSON,
			    sl_err_set(err, EINVAL, "message: not JSON (a NUL byte); expected a JSON object"));
	tok = json_tokener_new_ex(32);
	if (!tok)
		return fail(code, SL_PROTO_E_INTERNAL,
			    sl_err_set(err, ENOMEM, "out of memory"));
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!o && jerr == json_tokener_continue) {
		/* A bare number ends only at the end of input: say so. */
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		if (jerr == json_tokener_continue)
			return fail(code, SL_PROTO_E_JSON,
				    sl_err_set(err, EINVAL, "message: not JSON (unexpected end); expected a JSON object"));
		return fail(code, SL_PROTO_E_JSON,
			    sl_err_set(err, EINVAL, "message: not JSON (%s); expected a JSON object",
				       o ? "null" : json_tokener_error_desc(jerr)));
	}
	while (end < len && (buf[end] == ' ' || buf[end] == '\t' ||
			     buf[end] == '\r' || buf[end] == '\n'))
		end++;
	if (end < len) {
		json_object_put(o);
		return fail(code, SL_PROTO_E_JSON,
			    sl_err_set(err, EINVAL, "message: data after the JSON value at byte %zu; expected one JSON object",
				       end));
	}
	ret = sl_proto_validate(o, from, msg, code, err);
	json_object_put(o);
	return ret;
}

json_object *sl_proto_new(enum sl_msg_type t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "v", json_object_new_int(SL_PROTO_VERSION));
	json_object_object_add(o, "type", json_object_new_string(sl_msg_type_name(t)));
	return o;
}

json_object *sl_proto_error_new(enum sl_proto_code c, int64_t ref,
				const char *fmt, ...)
{
	json_object *o = sl_proto_new(SL_MSG_ERROR);
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "code", json_object_new_string(sl_proto_code_name(c)));
	json_object_object_add(o, "error", json_object_new_string(*msg ? msg : "error"));
	if (ref >= 0)
		json_object_object_add(o, "ref", json_object_new_int64(ref));
	return o;
}

const char *sl_proto_text(json_object *o, size_t *len)
{
	const char *s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);

	return s;
}

json_object *sl_msg_get(const struct sl_msg *m, const char *key)
{
	json_object *v;

	if (!m->obj || !json_object_object_get_ex(m->obj, key, &v))
		return NULL;
	return v;
}

const char *sl_msg_str(const struct sl_msg *m, const char *key)
{
	json_object *v = sl_msg_get(m, key);

	return v && json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : NULL;
}

int64_t sl_msg_int(const struct sl_msg *m, const char *key, int64_t dflt)
{
	json_object *v = sl_msg_get(m, key);

	return v && (json_object_is_type(v, json_type_int) ||
		     json_object_is_type(v, json_type_double)) ?
		json_object_get_int64(v) : dflt;
}
