// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_api_client.c - the API client (lib/api_client.c) against a fake
 * sluiced: a thread that reads one request line and answers with a scripted
 * byte stream (progress lines, a final response, garbage, a truncated line,
 * an oversized line), written in one go or byte by byte so that the
 * client's partial-read handling is exercised.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <sluice/api_client.h>

struct fake {
	int fd;		   /* server end */
	int listen_fd;	   /* >= 0: accept the server end from here first */
	const char *reply; /* bytes to send after each request */
	size_t reply_len;  /* 0: strlen(reply) */
	int requests;	   /* how many request lines to answer */
	bool bytewise;	   /* write one byte per send() */
	bool close_after;  /* close after the last reply */
	char request[4096]; /* the last request line received */
	pthread_t thread;
};

static int read_request(struct fake *f)
{
	size_t n = 0;
	char ch;

	for (;;) {
		ssize_t r = read(f->fd, &ch, 1);

		if (r <= 0)
			return -1;
		if (ch == '\n')
			break;
		if (n + 1 < sizeof(f->request))
			f->request[n++] = ch;
	}
	f->request[n] = '\0';
	return 0;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	size_t len, i;
	int k;

	if (f->listen_fd >= 0) {
		f->fd = accept(f->listen_fd, NULL, NULL);
		if (f->fd < 0)
			return NULL;
	}
	len = f->reply_len ? f->reply_len : strlen(f->reply);
	for (k = 0; k < f->requests; k++) {
		if (read_request(f))
			break;
		if (f->bytewise) {
			for (i = 0; i < len; i++)
				if (send(f->fd, f->reply + i, 1,
					 MSG_NOSIGNAL) != 1)
					break;
		} else {
			for (i = 0; i < len;) {
				ssize_t w = send(f->fd, f->reply + i, len - i,
						 MSG_NOSIGNAL);
				if (w <= 0)
					break;
				i += (size_t)w;
			}
		}
	}
	if (f->close_after) {
		close(f->fd);
		f->fd = -1;
	}
	return NULL;
}

/* Starts a fake server on a socketpair; returns the client end. */
static struct sl_api_client *fake_start(struct fake *f, const char *reply)
{
	struct sl_api_client *c;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->fd = sv[1];
	f->listen_fd = -1;
	f->reply = reply;
	if (!f->requests)
		f->requests = 1;
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
	c = sl_api_client_from_fd(sv[0]);
	assert_non_null(c);
	return c;
}

static void fake_stop(struct fake *f, struct sl_api_client *c)
{
	/* closing the client first unblocks a server still reading */
	sl_api_close(c);
	pthread_join(f->thread, NULL);
	if (f->fd >= 0)
		close(f->fd);
}

static json_object *request(const char *cmd)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "cmd", json_object_new_string(cmd));
	return r;
}

struct progress_log {
	int n;
	char phases[8][16];
	int64_t done[8], total[8];
};

static void on_progress(json_object *p, void *arg)
{
	struct progress_log *log = arg;
	json_object *v;

	if (log->n >= 8)
		return;
	if (json_object_object_get_ex(p, "phase", &v))
		snprintf(log->phases[log->n], sizeof(log->phases[0]), "%s",
			 json_object_get_string(v));
	if (json_object_object_get_ex(p, "done", &v))
		log->done[log->n] = json_object_get_int64(v);
	if (json_object_object_get_ex(p, "total", &v))
		log->total[log->n] = json_object_get_int64(v);
	log->n++;
}

#define PROGRESS_AND_OK                                                      \
	"{\"v\":1,\"progress\":{\"phase\":\"nodes\",\"done\":3,\"total\":3}}\n" \
	"{\"v\":1,\"progress\":{\"phase\":\"links\",\"done\":1,\"total\":2}}\n" \
	"{\"v\":1,\"ok\":true,\"result\":{\"name\":\"demo\",\"nodes\":3,"     \
	"\"links\":2,\"seconds\":0.04}}\n"

static void check_progress_and_ok(bool bytewise)
{
	struct fake f = { .bytewise = bytewise };
	struct sl_api_client *c = fake_start(&f, PROGRESS_AND_OK);
	struct progress_log log = { 0 };
	json_object *req = request("up"), *res = NULL, *v;
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_api_call(c, req, on_progress, &log, &res, &err), 0);
	assert_null(sl_api_error_code(c));
	assert_int_equal(log.n, 2);
	assert_string_equal(log.phases[0], "nodes");
	assert_int_equal(log.done[0], 3);
	assert_string_equal(log.phases[1], "links");
	assert_int_equal(log.done[1], 1);
	assert_int_equal(log.total[1], 2);
	assert_non_null(res);
	assert_true(json_object_object_get_ex(res, "name", &v));
	assert_string_equal(json_object_get_string(v), "demo");
	assert_true(json_object_object_get_ex(res, "links", &v));
	assert_int_equal(json_object_get_int(v), 2);
	json_object_put(res);
	json_object_put(req);
	fake_stop(&f, c);
	/* the version is added and the line is plain JSON */
	assert_string_equal(f.request, "{\"cmd\":\"up\",\"v\":1}");
}

static void test_progress_then_ok(void **state)
{
	check_progress_and_ok(false);
}

static void test_partial_reads(void **state)
{
	check_progress_and_ok(true);
}

static void test_ok_without_result(void **state)
{
	struct fake f = { 0 };
	struct sl_api_client *c = fake_start(&f, "{\"v\":1,\"ok\":true}\n");
	json_object *req = request("link_set"), *res = NULL;
	struct sl_err err = { { 0 } };

	/* progress callback may be NULL */
	assert_int_equal(sl_api_call(c, req, NULL, NULL, &res, &err), 0);
	assert_non_null(res);
	assert_true(json_object_is_type(res, json_type_object));
	assert_int_equal(json_object_object_length(res), 0);
	json_object_put(res);
	json_object_put(req);
	fake_stop(&f, c);
}

static void test_daemon_error(void **state)
{
	struct fake f = { 0 };
	struct sl_api_client *c = fake_start(
		&f, "{\"v\":1,\"progress\":{\"phase\":\"parse\"}}\n"
		    "{\"v\":1,\"ok\":false,\"code\":\"invalid\","
		    "\"error\":\"demo.json: links[3].b: expected a node name, got \\\"h9\\\"\"}\n");
	struct progress_log log = { 0 };
	json_object *req = request("up"), *res = (json_object *)&f;
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_api_call(c, req, on_progress, &log, &res, &err),
			 -EINVAL);
	assert_null(res);
	assert_int_equal(log.n, 1);
	assert_string_equal(sl_api_error_code(c), "invalid");
	assert_string_equal(err.msg,
			    "demo.json: links[3].b: expected a node name, got \"h9\"");
	json_object_put(req);
	fake_stop(&f, c);
}

static void test_error_codes_and_reuse(void **state)
{
	/* one connection, two requests: a daemon error keeps it usable */
	struct fake f = { .requests = 2 };
	struct sl_api_client *c = fake_start(
		&f, "{\"v\":1,\"ok\":false,\"code\":\"notfound\",\"error\":\"no node h9\"}\n");
	json_object *req = request("resolve");
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_api_call(c, req, NULL, NULL, NULL, &err), -ENOENT);
	assert_string_equal(sl_api_error_code(c), "notfound");
	assert_string_equal(err.msg, "no node h9");
	assert_int_equal(sl_api_call(c, req, NULL, NULL, NULL, &err), -ENOENT);
	assert_string_equal(err.msg, "no node h9");
	json_object_put(req);
	fake_stop(&f, c);

	assert_int_equal(sl_api_code_errno("invalid"), EINVAL);
	assert_int_equal(sl_api_code_errno("exists"), EEXIST);
	assert_int_equal(sl_api_code_errno("busy"), EBUSY);
	assert_int_equal(sl_api_code_errno("internal"), EIO);
	assert_int_equal(sl_api_code_errno("something-new"), EIO);
	assert_int_equal(sl_api_code_errno(NULL), EIO);
}

static void test_error_without_message(void **state)
{
	struct fake f = { 0 };
	struct sl_api_client *c =
		fake_start(&f, "{\"v\":1,\"ok\":false}\n");
	json_object *req = request("list");
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_api_call(c, req, NULL, NULL, NULL, &err), -EIO);
	assert_string_equal(sl_api_error_code(c), "internal");
	assert_string_equal(err.msg,
			    "sluiced reported an error (internal) without a message");
	json_object_put(req);
	fake_stop(&f, c);
}

static void test_truncated_response(void **state)
{
	struct fake f = { .close_after = true };
	struct sl_api_client *c = fake_start(
		&f, "{\"v\":1,\"progress\":{\"phase\":\"links\"}}\n{\"v\":1,\"ok\":tr");
	struct progress_log log = { 0 };
	json_object *req = request("up"), *res = NULL;
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_api_call(c, req, on_progress, &log, &res, &err),
			 -ECONNRESET);
	assert_null(res);
	assert_int_equal(log.n, 1);
	assert_null(sl_api_error_code(c));
	assert_string_equal(err.msg,
			    "sluiced closed the connection in the middle of a response (14 bytes without a newline)");
	/* the connection is now unusable */
	assert_int_equal(sl_api_call(c, req, NULL, NULL, NULL, &err), -ENOTCONN);
	json_object_put(req);
	fake_stop(&f, c);
}

static void test_eof_before_answer(void **state)
{
	struct fake f = { .close_after = true };
	struct sl_api_client *c = fake_start(&f, "");
	json_object *req = request("status");
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_api_call(c, req, NULL, NULL, NULL, &err),
			 -ECONNRESET);
	assert_string_equal(err.msg,
			    "sluiced closed the connection before answering");
	json_object_put(req);
	fake_stop(&f, c);
}

static void test_oversized_line(void **state)
{
	struct fake f = { .close_after = true };
	char *big = malloc(5001);
	struct sl_api_client *c;
	json_object *req = request("list");
	struct sl_err err = { { 0 } };

	assert_non_null(big);
	memset(big, 'x', 5000);
	big[5000] = '\0';
	c = fake_start(&f, big);
	sl_api_set_line_max(c, 1024);
	assert_int_equal(sl_api_call(c, req, NULL, NULL, NULL, &err),
			 -EMSGSIZE);
	assert_string_equal(err.msg,
			    "sluiced sent a response line longer than the limit of 1024 bytes");
	json_object_put(req);
	fake_stop(&f, c);
	free(big);
}

static void test_line_at_limit(void **state)
{
	/* exactly line_max bytes is allowed; the buffer grows to hold it */
	const char *head = "{\"v\":1,\"ok\":true,\"result\":{\"s\":\"";
	const char *tail = "\"}}";
	size_t max = 3 << 20, fill = max - strlen(head) - strlen(tail);
	char *line = malloc(max + 2);
	struct fake f = { .close_after = true };
	struct sl_api_client *c;
	json_object *req = request("topology"), *res = NULL, *v;
	struct sl_err err = { { 0 } };

	assert_non_null(line);
	strcpy(line, head);
	memset(line + strlen(head), 'a', fill);
	strcpy(line + strlen(head) + fill, tail);
	strcat(line, "\n");
	assert_int_equal(strlen(line), max + 1);
	c = fake_start(&f, line);
	sl_api_set_line_max(c, max);
	assert_int_equal(sl_api_call(c, req, NULL, NULL, &res, &err), 0);
	assert_true(json_object_object_get_ex(res, "s", &v));
	assert_int_equal(json_object_get_string_len(v), (int)fill);
	json_object_put(res);
	json_object_put(req);
	fake_stop(&f, c);
	free(line);
}

static void test_garbage(void **state)
{
	static const char *const replies[] = {
		"hello there\n",
		"[1,2]\n",
		"{\"v\":1}\n",
		"{\"v\":1,\"ok\":\"yes\"}\n",
		"{\"v\":1,\"ok\":true} trailing\n",
	};
	static const char *const msgs[] = {
		"sluiced sent a line that is not JSON (hello there)",
		"sluiced sent a JSON array where a response object was expected",
		"sluiced sent a response with neither \"ok\" nor \"progress\"",
		"sluiced sent \"ok\" as a string, expected true or false",
		"sluiced sent a line that is not JSON ({\"v\":1,\"ok\":true} trailing)",
	};
	size_t i;

	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct fake f = { 0 };
		struct sl_api_client *c = fake_start(&f, replies[i]);
		json_object *req = request("list");
		struct sl_err err = { { 0 } };

		assert_int_equal(sl_api_call(c, req, NULL, NULL, NULL, &err),
				 -EPROTO);
		assert_string_equal(err.msg, msgs[i]);
		assert_null(sl_api_error_code(c));
		json_object_put(req);
		fake_stop(&f, c);
	}
}

static void test_blank_lines_and_crlf(void **state)
{
	struct fake f = { 0 };
	struct sl_api_client *c =
		fake_start(&f, "\n{\"v\":1,\"ok\":true,\"result\":{}}\r\n");
	json_object *req = request("list");
	struct sl_err err = { { 0 } };

	assert_int_equal(sl_api_call(c, req, NULL, NULL, NULL, &err), 0);
	json_object_put(req);
	fake_stop(&f, c);
}

static void test_request_keeps_given_version_and_escapes(void **state)
{
	struct fake f = { 0 };
	struct sl_api_client *c = fake_start(&f, "{\"ok\":true}\n");
	json_object *req = request("up");
	struct sl_err err = { { 0 } };

	json_object_object_add(req, "v", json_object_new_int(7));
	json_object_object_add(req, "topology",
			       json_object_new_string("{\n \"name\": \"a/b\"\n}"));
	assert_int_equal(sl_api_call(c, req, NULL, NULL, NULL, &err), 0);
	json_object_put(req);
	fake_stop(&f, c);
	assert_string_equal(f.request,
			    "{\"cmd\":\"up\",\"v\":7,\"topology\":\"{\\n \\\"name\\\": \\\"a/b\\\"\\n}\"}");
}

static void test_connect_real_socket(void **state)
{
	char dir[] = "/tmp/sluice-test-api.XXXXXX", path[64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct fake f = { .close_after = true };
	struct sl_api_client *c;
	json_object *req = request("status"), *res = NULL;
	struct sl_err err = { { 0 } };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sluiced.sock", dir);

	/* nothing there yet */
	errno = 0;
	assert_null(sl_api_connect(path, &err));
	assert_int_equal(errno, ENOENT);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "sluiced is not running (no socket at %s)", path);
		assert_string_equal(err.msg, want);
	}

	f.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f.listen_fd >= 0);
	assert_int_equal(bind(f.listen_fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f.listen_fd, 1), 0);
	f.fd = -1;
	f.reply = "{\"v\":1,\"ok\":true,\"result\":{\"pid\":42}}\n";
	f.requests = 1;
	assert_int_equal(pthread_create(&f.thread, NULL, fake_main, &f), 0);

	/* through $SLUICE_SOCKET, as sluicectl finds it */
	setenv("SLUICE_SOCKET", path, 1);
	c = sl_api_connect(NULL, &err);
	unsetenv("SLUICE_SOCKET");
	assert_non_null(c);
	assert_int_equal(sl_api_call(c, req, NULL, NULL, &res, &err), 0);
	assert_int_equal(json_object_get_int(json_object_object_get(res, "pid")),
			 42);
	json_object_put(res);
	json_object_put(req);
	sl_api_close(c);
	pthread_join(f.thread, NULL);
	close(f.listen_fd);

	/* a socket nobody listens on any more */
	errno = 0;
	assert_null(sl_api_connect(path, &err));
	assert_int_equal(errno, ECONNREFUSED);
	unlink(path);
	rmdir(dir);
}

static void test_socket_path(void **state)
{
	char buf[128], longp[300];
	struct sl_err err = { { 0 } };

	unsetenv("SLUICE_SOCKET");
	unsetenv("SLUICE_RUNDIR");
	assert_string_equal(sl_api_rundir(), "/run/sluice");
	assert_int_equal(sl_api_socket_path(NULL, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/run/sluice/sluiced.sock");

	setenv("SLUICE_RUNDIR", "/tmp/rd", 1);
	assert_int_equal(sl_api_socket_path(NULL, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/tmp/rd/sluiced.sock");

	setenv("SLUICE_SOCKET", "/tmp/other.sock", 1);
	assert_int_equal(sl_api_socket_path(NULL, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "/tmp/other.sock");

	assert_int_equal(sl_api_socket_path("/x.sock", buf, sizeof(buf), &err),
			 0);
	assert_string_equal(buf, "/x.sock");

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(sl_api_socket_path(longp, buf, sizeof(buf), &err),
			 -ENAMETOOLONG);
	assert_string_equal(err.msg,
			    "socket path is too long (a Unix socket path has at most 107 characters)");
	errno = 0;
	assert_null(sl_api_connect(longp, &err));
	assert_int_equal(errno, ENAMETOOLONG);
	unsetenv("SLUICE_SOCKET");
	unsetenv("SLUICE_RUNDIR");

	/* free functions accept NULL */
	sl_api_close(NULL);
	sl_api_set_line_max(NULL, 10);
	assert_null(sl_api_error_code(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progress_then_ok),
		cmocka_unit_test(test_partial_reads),
		cmocka_unit_test(test_ok_without_result),
		cmocka_unit_test(test_daemon_error),
		cmocka_unit_test(test_error_codes_and_reuse),
		cmocka_unit_test(test_error_without_message),
		cmocka_unit_test(test_truncated_response),
		cmocka_unit_test(test_eof_before_answer),
		cmocka_unit_test(test_oversized_line),
		cmocka_unit_test(test_line_at_limit),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_blank_lines_and_crlf),
		cmocka_unit_test(test_request_keeps_given_version_and_escapes),
		cmocka_unit_test(test_connect_real_socket),
		cmocka_unit_test(test_socket_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
