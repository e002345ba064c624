// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * api_client.c - the client side of sluiced's local API (api.h, api_client.h).
 *
 * The protocol is newline-delimited JSON over a Unix stream socket. The
 * reader keeps one growing buffer per connection: bytes after a newline
 * (the next progress line, usually) stay in it for the next read_line(), and
 * a line is refused as soon as it passes the limit instead of after it has
 * been read whole, so a runaway peer cannot make us allocate without bound.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sluice/api_client.h>

#define READ_CHUNK 65536

struct sl_api_client {
	int fd;
	bool broken; /* a transport/protocol error left the stream mid-line */
	size_t line_max;
	/*
	 * buf[off..len) holds unconsumed bytes; buf[off..scan) is known to
	 * contain no newline, so each byte is searched once.
	 */
	char *buf;
	size_t off, scan, len, cap;
	char code[32];
	bool has_code;
};

const char *sl_api_rundir(void)
{
	const char *d = getenv("SLUICE_RUNDIR");

	return d && *d ? d : SL_RUNDIR_DEFAULT;
}

int sl_api_socket_path(const char *path, char *buf, size_t len,
		       struct sl_err *err)
{
	struct sockaddr_un sun;
	const char *env = getenv("SLUICE_SOCKET");
	int n;

	if (path && *path)
		n = snprintf(buf, len, "%s", path);
	else if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else
		n = snprintf(buf, len, "%s/%s", sl_api_rundir(),
			     SL_API_SOCKET_NAME);
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sun.sun_path))
		return sl_err_set(err, ENAMETOOLONG,
				  "socket path is too long (a Unix socket path has at most %zu characters)",
				  sizeof(sun.sun_path) - 1);
	return 0;
}

struct sl_api_client *sl_api_client_from_fd(int fd)
{
	struct sl_api_client *c = calloc(1, sizeof(*c));

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	c->line_max = SL_API_LINE_MAX;
	return c;
}

struct sl_api_client *sl_api_connect(const char *socket_path,
				     struct sl_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sl_api_client *c;
	int fd, e;

	e = -sl_api_socket_path(socket_path, sun.sun_path,
				sizeof(sun.sun_path), err);
	if (e)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		sl_err_set(err, e, "cannot create a Unix socket: %s",
			   strerror(e));
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		if (e == ENOENT)
			sl_err_set(err, e, "sluiced is not running (no socket at %s)",
				   sun.sun_path);
		else if (e == ECONNREFUSED)
			sl_err_set(err, e, "sluiced is not running (nothing listens on %s)",
				   sun.sun_path);
		else if (e == EACCES || e == EPERM)
			sl_err_set(err, e, "cannot connect to %s: permission denied (sluiced accepts root only)",
				   sun.sun_path);
		else
			sl_err_set(err, e, "cannot connect to %s: %s",
				   sun.sun_path, strerror(e));
		close(fd);
		goto fail;
	}
	c = sl_api_client_from_fd(fd);
	if (!c) {
		close(fd);
		e = ENOMEM;
		sl_err_set(err, e, "out of memory");
		goto fail;
	}
	return c;
fail:
	errno = e;
	return NULL;
}

void sl_api_close(struct sl_api_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

void sl_api_set_line_max(struct sl_api_client *c, size_t max)
{
	if (c && max)
		c->line_max = max;
}

const char *sl_api_error_code(const struct sl_api_client *c)
{
	return c && c->has_code ? c->code : NULL;
}

int sl_api_code_errno(const char *code)
{
	if (!code)
		return EIO;
	if (!strcmp(code, "invalid"))
		return EINVAL;
	if (!strcmp(code, "notfound"))
		return ENOENT;
	if (!strcmp(code, "exists"))
		return EEXIST;
	if (!strcmp(code, "busy"))
		return EBUSY;
	return EIO;
}

static int send_all(struct sl_api_client *c, const char *p, size_t n,
		    struct sl_err *err)
{
	ssize_t w;

	while (n) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			c->broken = true;
			if (e == EPIPE || e == ECONNRESET)
				return sl_err_set(err, ECONNRESET,
						  "sluiced closed the connection before the request was sent");
			return sl_err_set(err, e, "cannot send to sluiced: %s",
					  strerror(e));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Makes room for at least one more read, keeping buf[off..len). */
static int make_room(struct sl_api_client *c, struct sl_err *err)
{
	size_t ncap;
	char *nb;

	if (c->off) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->scan -= c->off;
		c->off = 0;
	}
	if (c->cap - c->len >= READ_CHUNK / 4 && c->cap)
		return 0;
	ncap = c->cap ? c->cap * 2 : READ_CHUNK;
	/* never more than one full line, its newline and a NUL */
	if (ncap > c->line_max + 2)
		ncap = c->line_max + 2;
	if (ncap <= c->len)
		return 0; /* the caller's limit check fires first */
	nb = realloc(c->buf, ncap);
	if (!nb)
		return sl_err_set(err, ENOMEM,
				  "out of memory reading a response of %zu bytes",
				  c->len);
	c->buf = nb;
	c->cap = ncap;
	return 0;
}

/*
 * Returns the next line (NUL-terminated, without its newline, valid until
 * the next call) in *line, or a negative errno. A clean EOF between lines
 * and one in the middle of a line are told apart in the message.
 */
static int read_line(struct sl_api_client *c, char **line, size_t *llen,
		     struct sl_err *err)
{
	char *nl;
	ssize_t r;
	int ret;

	for (;;) {
		nl = c->len > c->scan ?
			     memchr(c->buf + c->scan, '\n', c->len - c->scan) :
			     NULL;
		if (nl) {
			*nl = '\0';
			*line = c->buf + c->off;
			*llen = (size_t)(nl - *line);
			c->off = c->scan = (size_t)(nl - c->buf) + 1;
			if (*llen > c->line_max)
				goto too_long;
			return 0;
		}
		c->scan = c->len;
		if (c->len - c->off > c->line_max)
			goto too_long;
		ret = make_room(c, err);
		if (ret)
			return ret;
		/* keep one byte spare so a full line can still be NUL-ended */
		r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sl_err_set(err, errno,
					  "cannot read from sluiced: %s",
					  strerror(errno));
		if (r == 0) {
			if (c->len > c->off)
				return sl_err_set(err, ECONNRESET,
						  "sluiced closed the connection in the middle of a response (%zu bytes without a newline)",
						  c->len - c->off);
			return sl_err_set(err, ECONNRESET,
					  "sluiced closed the connection before answering");
		}
		c->len += (size_t)r;
	}
too_long:
	return sl_err_set(err, EMSGSIZE,
			  "sluiced sent a response line longer than the limit of %zu bytes",
			  c->line_max);
}

static const char *type_name(json_object *o)
{
	return o ? json_type_to_name(json_object_get_type(o)) : "null";
}

/*
 * Interprets one response line. Returns 1 for a progress line, 0 for a
 * final ok (result stored), or a negative errno (daemon error or garbage).
 */
static int handle_line(struct sl_api_client *c, const char *line, size_t len,
		       sl_api_progress_fn *progress, void *arg,
		       json_object **result, struct sl_err *err)
{
	struct json_tokener *tok;
	json_object *o, *v;
	size_t end = 0;
	int ret;

	if (len > INT32_MAX)
		return sl_err_set(err, EMSGSIZE,
				  "sluiced sent a line of %zu bytes, too long to parse",
				  len);
	tok = json_tokener_new();
	if (!tok)
		return sl_err_set(err, ENOMEM, "out of memory");
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o && json_tokener_get_error(tok) == json_tokener_success)
		end = json_tokener_get_parse_end(tok);
	while (end < len && (line[end] == ' ' || line[end] == '\t' ||
			     line[end] == '\r'))
		end++;
	if (!o || end != len) {
		ret = sl_err_set(err, EPROTO,
				 "sluiced sent a line that is not JSON (%.40s%s)",
				 line, len > 40 ? "..." : "");
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		ret = sl_err_set(err, EPROTO,
				 "sluiced sent a JSON %s where a response object was expected",
				 type_name(o));
		goto out;
	}
	if (!json_object_object_get_ex(o, "ok", &v)) {
		if (!json_object_object_get_ex(o, "progress", &v)) {
			ret = sl_err_set(err, EPROTO,
					 "sluiced sent a response with neither \"ok\" nor \"progress\"");
			goto out;
		}
		if (progress)
			progress(v, arg);
		ret = 1;
		goto out;
	}
	if (!json_object_is_type(v, json_type_boolean)) {
		ret = sl_err_set(err, EPROTO,
				 "sluiced sent \"ok\" as a %s, expected true or false",
				 type_name(v));
		goto out;
	}
	if (json_object_get_boolean(v)) {
		ret = 0;
		if (!result)
			goto out;
		if (json_object_object_get_ex(o, "result", &v) && v &&
		    json_object_is_type(v, json_type_object))
			*result = json_object_get(v);
		else
			*result = json_object_new_object();
		goto out;
	}
	/* a daemon error: its message is the user's message, verbatim */
	if (json_object_object_get_ex(o, "code", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(c->code, sizeof(c->code), "%s",
			 json_object_get_string(v));
	else
		snprintf(c->code, sizeof(c->code), "internal");
	c->has_code = true;
	if (json_object_object_get_ex(o, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		ret = sl_err_set(err, sl_api_code_errno(c->code), "%s",
				 json_object_get_string(v));
	else
		ret = sl_err_set(err, sl_api_code_errno(c->code),
				 "sluiced reported an error (%s) without a message",
				 c->code);
out:
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

int sl_api_call(struct sl_api_client *c, json_object *request,
		sl_api_progress_fn *progress, void *arg, json_object **result,
		struct sl_err *err)
{
	const char *text;
	char *line = NULL;
	size_t len;
	int ret;

	if (result)
		*result = NULL;
	if (!c || !request || !json_object_is_type(request, json_type_object))
		return sl_err_set(err, EINVAL,
				  "internal error: a request must be a JSON object");
	c->has_code = false;
	if (c->broken)
		return sl_err_set(err, ENOTCONN,
				  "the connection to sluiced is no longer usable after an earlier error");
	if (!json_object_object_get_ex(request, "v", NULL))
		json_object_object_add(request, "v",
				       json_object_new_int(SL_API_VERSION));
	/* PLAIN escapes control characters, so the line has no raw newline */
	text = json_object_to_json_string_length(
		request, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	if (!text)
		return sl_err_set(err, ENOMEM, "out of memory");
	if (len > SL_API_LINE_MAX)
		return sl_err_set(err, EMSGSIZE,
				  "the request is %zu bytes, more than the API's limit of %u bytes",
				  len, SL_API_LINE_MAX);
	ret = send_all(c, text, len, err);
	if (!ret)
		ret = send_all(c, "\n", 1, err);
	if (ret)
		return ret;
	for (;;) {
		ret = read_line(c, &line, &len, err);
		if (ret) {
			c->broken = true;
			return ret;
		}
		if (len == 0)
			continue; /* tolerate blank lines between responses */
		ret = handle_line(c, line, len, progress, arg, result, err);
		if (ret == 1)
			continue;
		if (ret < 0 && !c->has_code)
			c->broken = true; /* garbage: the stream is out of step */
		return ret;
	}
}
