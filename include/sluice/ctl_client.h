/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_client.h - a blocking client of the controller's REST API
 * (docs/controller.md), for sluicectl --controller and tools.
 *
 * One call is one HTTP/1.1 request with "Authorization: Bearer <token>"
 * and an optional JSON body, over http:// or https:// (libwebsockets).
 */
#ifndef SLUICE_CTL_CLIENT_H
#define SLUICE_CTL_CLIENT_H

#include <stdbool.h>
#include <json-c/json.h>

#include <sluice/err.h>

struct sl_ctl_call {
	const char *url;     /* controller base: http[s]://HOST[:PORT] (a path is ignored) */
	const char *token;   /* API token; NULL: none */
	const char *method;  /* "GET", "POST", "PUT", "DELETE" */
	const char *path;    /* "/api/hosts" */
	json_object *body;   /* sent as JSON when not NULL (not taken) */
	const char *ca_file; /* https: CA bundle; NULL: the system's */
	bool insecure;       /* https: accept any certificate */
	int timeout_ms;      /* 0: 10000 */
};

/*
 * Makes the request. Returns 0 with *status (HTTP) and *reply (the parsed
 * JSON answer, or NULL when it was not JSON; the caller puts it), or a
 * negative errno with err saying why no answer came (cannot connect,
 * timeout, bad URL).
 */
int sl_ctl_request(const struct sl_ctl_call *call, int *status,
		   json_object **reply, struct sl_err *err);

#endif
