/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto.h - the controller protocol (docs/protocol.md): JSON messages over
 * a WebSocket between sluice-controller and the hosts (sluiced's host
 * agent), the web UI and API clients.
 *
 * Every message is one JSON object in one WebSocket text message:
 *   {"v": 1, "type": "<type>", "id": <optional integer>, ...fields}
 * The controller answers anything it cannot use with
 *   {"v": 1, "type": "error", "code": "<code>", "error": "<text>", "ref": id}
 * and keeps the connection, except after a refused hello.
 *
 * Both ends use the same tables here, so what one side builds the other
 * side's validator accepts: sl_proto_parse() checks the version, the type,
 * the direction and every field's presence and JSON type (and the rows of
 * a metrics message), and names the first thing that is wrong.
 */
#ifndef SLUICE_PROTO_H
#define SLUICE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include <sluice/err.h>

#define SL_PROTO_VERSION 1
#define SL_PROTO_SUBPROTOCOL "sluice.v1"
#define SL_PROTO_PATH "/ws"
/* Largest message either side accepts: a topology of ~20k links. */
#define SL_PROTO_FRAME_MAX (4u << 20)
/* Longest host id, API token name, topology name in messages (with NUL). */
#define SL_PROTO_NAME_MAX 64

enum sl_msg_type {
	SL_MSG_UNKNOWN = 0,
	/* host -> controller */
	SL_MSG_HELLO,     /* also from the UI and API clients */
	SL_MSG_HEARTBEAT, /* also from the UI and API clients */
	SL_MSG_METRICS,
	SL_MSG_EVENT,
	SL_MSG_ACK,
	/* controller -> host */
	SL_MSG_WELCOME, /* also to clients */
	SL_MSG_ERROR,   /* also to clients */
	SL_MSG_METRICS_ACK,
	SL_MSG_APPLY,
	SL_MSG_LINK_POLICY,
	SL_MSG_FLOW_ADD,
	SL_MSG_FLOW_DEL,
	SL_MSG_RELAY_ADD,
	SL_MSG_RELAY_DEL,
	SL_MSG_TEARDOWN,
	/* controller -> UI and API clients */
	SL_MSG_SNAPSHOT,
	SL_MSG_STATS,
	SL_MSG__COUNT,
};

/* Who may send a type (bit mask). */
#define SL_PROTO_FROM_HOST 1u
#define SL_PROTO_FROM_CONTROLLER 2u
#define SL_PROTO_FROM_CLIENT 4u

/* The "code" of an error message. */
enum sl_proto_code {
	SL_PROTO_OK = 0,
	SL_PROTO_E_TOO_LARGE, /* "too_large": message over SL_PROTO_FRAME_MAX */
	SL_PROTO_E_BINARY,    /* "binary": a binary frame */
	SL_PROTO_E_JSON,      /* "bad_json": not JSON */
	SL_PROTO_E_NOT_OBJECT, /* "not_object": JSON but not an object */
	SL_PROTO_E_VERSION,   /* "bad_version": "v" missing or unsupported */
	SL_PROTO_E_TYPE,      /* "bad_type": unknown or unexpected type */
	SL_PROTO_E_FIELD,     /* "bad_field": missing field or wrong JSON type */
	SL_PROTO_E_AUTH,      /* "auth": token missing or wrong */
	SL_PROTO_E_STATE,     /* "state": not allowed now (e.g. before hello) */
	SL_PROTO_E_RATE,      /* "rate": too many messages */
	SL_PROTO_E_NOTFOUND,  /* "notfound": names a thing that does not exist */
	SL_PROTO_E_INTERNAL,  /* "internal": the controller failed (database) */
	SL_PROTO_E__COUNT,
};

/* A parsed, validated message. */
struct sl_msg {
	enum sl_msg_type type;
	int64_t id;       /* "id", or -1 when absent */
	json_object *obj; /* the whole message; owned (sl_msg_release) */
};

const char *sl_msg_type_name(enum sl_msg_type t);
/* SL_MSG_UNKNOWN for a name that is not a type. */
enum sl_msg_type sl_msg_type_from_name(const char *name);
/* SL_PROTO_FROM_* bits of who may send t. */
unsigned sl_msg_type_senders(enum sl_msg_type t);
const char *sl_proto_code_name(enum sl_proto_code c);

/*
 * Parses and validates one message of len bytes (need not be terminated)
 * from a peer whose role is one of the SL_PROTO_FROM_* bits in from.
 * Returns 0 and fills msg, or -EMSGSIZE / -EINVAL with *code set, err
 * naming the field and what was expected, and msg->id set when the message
 * carried a readable "id" (for the error's "ref").
 */
int sl_proto_parse(const char *buf, size_t len, unsigned from,
		   struct sl_msg *msg, enum sl_proto_code *code,
		   struct sl_err *err);
/* Validates an already built object the same way (used on the sending
 * side in debug builds and by the tests). */
int sl_proto_validate(json_object *o, unsigned from, struct sl_msg *msg,
		      enum sl_proto_code *code, struct sl_err *err);
void sl_msg_release(struct sl_msg *msg);

/* {"v": 1, "type": name}; the caller adds fields and json_object_put()s. */
json_object *sl_proto_new(enum sl_msg_type t);
/* {"v": 1, "type": "error", "code", "error", "ref" (when ref >= 0)}. */
json_object *sl_proto_error_new(enum sl_proto_code c, int64_t ref,
				const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Plain JSON text of o (pointer into o, valid while o lives). */
const char *sl_proto_text(json_object *o, size_t *len);

/* Field helpers for handlers after validation (the validator guarantees
 * the type, so these only cover absence). */
const char *sl_msg_str(const struct sl_msg *m, const char *key);
int64_t sl_msg_int(const struct sl_msg *m, const char *key, int64_t dflt);
json_object *sl_msg_get(const struct sl_msg *m, const char *key);

#endif
