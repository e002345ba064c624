// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon.c - sluicectl's side of the conversation with sluiced: connecting
 * (and, for `up`, starting a daemon when none runs), making a call, and
 * turning the daemon's error codes into exit statuses.
 *
 * Starting a daemon: sluiced --daemonize returns once its socket listens,
 * so waiting for that child is the main synchronisation; polling the socket
 * afterwards (bounded by START_TIMEOUT_MS in total) covers a daemon whose
 * parent returns early.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sluicectl.h"

#define START_TIMEOUT_MS 5000
#define RACE_GRACE_MS 500

json_object *ctl_new_request(const char *cmd)
{
	json_object *r = json_object_new_object();

	if (r)
		json_object_object_add(r, "cmd", json_object_new_string(cmd));
	return r;
}

/* The sluiced next to this sluicectl (a build tree or an install), else
 * NULL to search PATH. */
static const char *sibling_sluiced(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	snprintf(buf, len, "%s/sluiced", dirname(self));
	return access(buf, X_OK) == 0 ? buf : NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Runs `sluiced --daemonize --rundir RUNDIR [--socket PATH]` and waits until
 * the socket accepts a connection. Returns the connected client or NULL
 * after printing why.
 */
static struct sl_api_client *start_daemon(struct ctl *ctl, const char *sock)
{
	const char *rundir = sl_api_rundir();
	char binbuf[PATH_MAX], *argv[8];
	const char *bin = sibling_sluiced(binbuf, sizeof(binbuf));
	struct sl_api_client *c = NULL;
	struct sl_err err = { { 0 } };
	bool reaped = false;
	int waited = 0, limit = START_TIMEOUT_MS, status = 0, argc = 0, fd;
	pid_t pid;

	argv[argc++] = (char *)(bin ? bin : "sluiced");
	argv[argc++] = "--daemonize";
	argv[argc++] = "--rundir";
	argv[argc++] = (char *)rundir;
	/* a socket named by --socket or $SLUICE_SOCKET is where we will look */
	if (ctl->socket || getenv("SLUICE_SOCKET")) {
		argv[argc++] = "--socket";
		argv[argc++] = (char *)sock;
	}
	argv[argc] = NULL;

	if (ctl->verbose)
		fprintf(stderr, "sluicectl: starting %s --daemonize --rundir %s\n",
			argv[0], rundir);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ctl_err("cannot start sluiced: fork: %s", strerror(errno));
		return NULL;
	}
	if (pid == 0) {
		/* the daemon must not hold our stdout: a caller reading it
		 * through a pipe would wait for the daemon to exit */
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		if (bin)
			execv(bin, argv);
		else
			execvp("sluiced", argv);
		/* "not found in PATH" is told by the parent, in full */
		if (bin || errno != ENOENT)
			fprintf(stderr, "sluicectl: cannot run %s: %s\n",
				argv[0], strerror(errno));
		_exit(127);
	}

	for (;;) {
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 127 &&
			    !bin) {
				ctl_err("no sluiced was running and none could be started: sluiced is neither next to sluicectl nor in PATH");
				return NULL;
			}
			/*
			 * A failed start may have lost the race to another
			 * sluicectl's daemon (one daemon per run directory):
			 * give that one a moment to listen before giving up.
			 */
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				limit = waited + RACE_GRACE_MS;
		}
		/* a daemon whose parent lingers is fine once it listens */
		c = sl_api_connect(sock, &err);
		if (c)
			break;
		if (waited >= limit)
			break;
		sleep_ms(20);
		waited += 20;
	}
	if (!c && reaped && WIFEXITED(status) && WEXITSTATUS(status)) {
		ctl_err("no sluiced was running and starting one failed (exit status %d); see the messages above or %s/sluiced.log",
			WEXITSTATUS(status), rundir);
		return NULL;
	}
	if (!c && reaped && !WIFEXITED(status)) {
		ctl_err("no sluiced was running and starting one failed (killed by signal %d); see %s/sluiced.log",
			WTERMSIG(status), rundir);
		return NULL;
	}
	if (!c) {
		ctl_err("started sluiced, but it did not accept connections on %s within %d s; see %s/sluiced.log",
			sock, START_TIMEOUT_MS / 1000, rundir);
		return NULL;
	}
	/* when ours lost the race, the daemon that answers is not ours */
	if (!ctl->quiet && !(reaped && (!WIFEXITED(status) ||
					WEXITSTATUS(status))))
		fprintf(stderr,
			"sluicectl: no sluiced was running; started one in the background (log: %s/sluiced.log)\n",
			rundir);
	return c;
}

int ctl_connect(struct ctl *ctl, enum ctl_connect_how how,
		struct sl_api_client **out)
{
	struct sl_err err = { { 0 } };
	char sock[128];
	int e;

	*out = NULL;
	if (sl_api_socket_path(ctl->socket, sock, sizeof(sock), &err)) {
		ctl_err("%s", err.msg);
		return CTL_EXIT_USAGE;
	}
	*out = sl_api_connect(sock, &err);
	if (*out)
		return CTL_EXIT_OK;
	e = errno;
	if (how == CTL_START && (e == ENOENT || e == ECONNREFUSED)) {
		*out = start_daemon(ctl, sock);
		return *out ? CTL_EXIT_OK : CTL_EXIT_FAIL;
	}
	if (how == CTL_PROBE && (e == ENOENT || e == ECONNREFUSED))
		return CTL_NO_DAEMON;
	if (e == ENOENT || e == ECONNREFUSED)
		ctl_err("%s; 'sluicectl up FILE' starts one", err.msg);
	else
		ctl_err("%s", err.msg);
	return CTL_EXIT_FAIL;
}

int ctl_call(struct ctl *ctl, struct sl_api_client *c, json_object *req,
	     sl_api_progress_fn *progress, void *arg, json_object **result)
{
	struct sl_err err = { { 0 } };
	const char *code;

	if (sl_api_call(c, req, progress, arg, result, &err) == 0)
		return CTL_EXIT_OK;
	code = sl_api_error_code(c);
	if (ctl->verbose && code)
		ctl_err("%s (%s)", err.msg, code);
	else
		ctl_err("%s", err.msg);
	return code && !strcmp(code, "invalid") ? CTL_EXIT_USAGE :
						  CTL_EXIT_FAIL;
}

int ctl_request(struct ctl *ctl, json_object *req, json_object **result)
{
	struct sl_api_client *c;
	int ret;

	if (result)
		*result = NULL;
	ret = ctl_connect(ctl, CTL_CONNECT, &c);
	if (!ret)
		ret = ctl_call(ctl, c, req, NULL, NULL, result);
	sl_api_close(c);
	json_object_put(req);
	return ret;
}

int ctl_query(struct ctl *ctl, const char *what, const char *name,
	      json_object **res)
{
	json_object *req = ctl_new_request(what);

	if (name)
		json_object_object_add(req, "name", json_object_new_string(name));
	return ctl_request(ctl, req, res);
}
