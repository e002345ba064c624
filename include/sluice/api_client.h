/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * api_client.h - the client side of the local API (include/sluice/api.h).
 *
 * One connection to sluiced, one request at a time: sl_api_call() writes the
 * request line, hands every progress line to a callback and returns the
 * final response's result (or its error message and code). The framing and
 * the response shapes are api.h's; this file adds nothing to the protocol.
 */
#ifndef SLUICE_API_CLIENT_H
#define SLUICE_API_CLIENT_H

#include <stddef.h>

#include <json-c/json.h>

#include <sluice/api.h>
#include <sluice/err.h>

struct sl_api_client;

/*
 * Called for each progress line of a call, with its "progress" object
 * (e.g. {"phase": "links", "done": 120, "total": 999}); the object belongs
 * to the client and lives only during the callback.
 */
typedef void sl_api_progress_fn(json_object *progress, void *arg);

/* The state directory: $SLUICE_RUNDIR, else SL_RUNDIR_DEFAULT. */
const char *sl_api_rundir(void);

/*
 * The socket to use: path when not NULL, else $SLUICE_SOCKET, else
 * <rundir>/sluiced.sock. Returns 0, or -ENAMETOOLONG (err filled) when the
 * result does not fit buf or a Unix socket address.
 */
int sl_api_socket_path(const char *path, char *buf, size_t len,
		       struct sl_err *err);

/*
 * Connects to sluiced at socket_path (NULL: the default above). Returns the
 * client, or NULL with errno set (ENOENT or ECONNREFUSED when no daemon
 * listens, EACCES when not allowed) and err naming the socket.
 */
struct sl_api_client *sl_api_connect(const char *socket_path,
				     struct sl_err *err);
/* Wraps an already connected stream socket (tests, inherited sockets); the
 * client owns fd from then on. NULL (errno ENOMEM) on failure. */
struct sl_api_client *sl_api_client_from_fd(int fd);
void sl_api_close(struct sl_api_client *c);

/* Longest response line accepted; SL_API_LINE_MAX unless changed. */
void sl_api_set_line_max(struct sl_api_client *c, size_t max);

/*
 * Sends request (a JSON object; "v" is added when missing), then reads
 * responses until the final one, calling progress (may be NULL) for each
 * progress line. On success returns 0 and, when result is not NULL, stores
 * the final "result" object there (the caller puts it; an empty object when
 * the daemon sent none).
 *
 * On failure returns a negative errno and fills err:
 *  - the daemon answered ok=false: err is its "error" message verbatim and
 *    sl_api_error_code() its "code"; the errno follows the code
 *    (invalid -EINVAL, notfound -ENOENT, exists -EEXIST, busy -EBUSY,
 *    internal and anything else -EIO);
 *  - transport or protocol failure (sl_api_error_code() returns NULL):
 *    -ECONNRESET "sluiced closed the connection ...", -EMSGSIZE for a line
 *    longer than the limit, -EPROTO for a line that is not a response.
 * After a transport or protocol failure the connection is unusable.
 */
int sl_api_call(struct sl_api_client *c, json_object *request,
		sl_api_progress_fn *progress, void *arg, json_object **result,
		struct sl_err *err);

/* The "code" of the last call's daemon error, NULL when the last call
 * succeeded or failed before the daemon answered. Valid until the next call. */
const char *sl_api_error_code(const struct sl_api_client *c);

/* The errno that sl_api_call() returns (as a negative) for a daemon code. */
int sl_api_code_errno(const char *code);

#endif
