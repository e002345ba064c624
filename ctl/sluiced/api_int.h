/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * api_int.h - what the two files of the local API share: api.c (the reply
 * lines, the request's fields, the commands on whole topologies, the
 * dispatch) and api_runtime.c (the commands on a topology while it is
 * up). The rest of the daemon sees sluiced.h's api_handle() and
 * reply_send(); the protocol is include/sluice/api.h.
 *
 * Every helper that finds a request wrong has sent the error reply when
 * it returns: the command then only returns.
 */
#ifndef SLUICED_API_INT_H
#define SLUICED_API_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sluiced.h"

/* {"ok": true, "result": result} (taken; NULL: an empty object). */
void reply_ok(struct reply *r, json_object *result);
/* {"ok": false, "code": code, "error": the message}. */
void reply_err(struct reply *r, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The reply code of a negative (or positive) errno: "invalid", ... */
const char *api_errno_code(int e);
/* Optional string field; NULL when absent; error when of another type. */
int api_get_str(struct reply *r, json_object *req, const char *key,
		bool required, const char **out);
/* The topology a request means: by name, or the only one that is up. */
struct sl_net *api_pick_net(struct daemon *d, struct reply *r,
			    const char *name);
/* "node" or "topo:node" (topo: the request's topology name, or NULL) ->
 * net and node index. */
int api_find_node(struct daemon *d, struct reply *r, const char *topo,
		  const char *spec, struct sl_net **net, uint32_t *node);

/* api_runtime.c: the commands api_handle() dispatches there. */
void cmd_link_set(struct daemon *d, struct reply *r, json_object *req);
void cmd_link_policy(struct daemon *d, struct reply *r, json_object *req);
void cmd_flow_add(struct daemon *d, struct reply *r, json_object *req);
void cmd_flow_del(struct daemon *d, struct reply *r, json_object *req);
void cmd_flow_list(struct daemon *d, struct reply *r, json_object *req);
void cmd_relay_add(struct daemon *d, struct reply *r, json_object *req);
void cmd_relay_del(struct daemon *d, struct reply *r, json_object *req);
void cmd_relay_list(struct daemon *d, struct reply *r, json_object *req);
void cmd_stats(struct daemon *d, struct reply *r, json_object *req);

#endif
