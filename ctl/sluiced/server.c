// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * server.c - the daemon's event loop: the Unix socket of the local API,
 * signals through a signalfd, one request at a time.
 *
 * Requests run to completion in the loop (a bring-up of 1,000 nodes takes
 * about a second and streams progress to its client meanwhile); other
 * clients wait in the socket backlog. A client that sends more than
 * SL_API_LINE_MAX bytes without a newline is told so and dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <sluice/api.h>
#include <sluice/log.h>

#include "sluiced.h"

#define MAX_CLIENTS 64

struct client {
	int fd;
	char *buf;
	size_t len, cap;
};

static struct client clients[MAX_CLIENTS];

static int listen_socket(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(d->socket_path) >= sizeof(sa.sun_path)) {
		pr_err("socket path %s is too long", d->socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, d->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(d->socket_path);
	/* Root only: the API creates namespaces and runs BPF. */
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(d->socket_path, 0600) || listen(fd, 64)) {
		int e = errno;

		pr_err("cannot listen on %s: %s", d->socket_path, strerror(e));
		close(fd);
		return -e;
	}
	umask(022);
	return fd;
}

static void client_close(int ep, struct client *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Reads what is there; runs every complete line. Returns -1 to drop. */
static int client_read(struct daemon *d, struct client *c)
{
	for (;;) {
		ssize_t n;
		char *nl;

		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 131072;
			char *b;

			if (cap > SL_API_LINE_MAX + 65536)
				cap = SL_API_LINE_MAX + 65536;
			if (cap <= c->cap)
				goto too_long;
			b = realloc(c->buf, cap);
			if (!b)
				return -1;
			c->buf = b;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		while ((nl = memchr(c->buf, '\n', c->len))) {
			struct reply r = { .fd = c->fd };
			size_t line = (size_t)(nl - c->buf);
			int fl = fcntl(c->fd, F_GETFL);

			*nl = '\0';
			/* Replies are written blocking, with a timeout, so a
			 * stuck client cannot hold the daemon forever. */
			fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
			api_handle(d, &r, c->buf, line);
			fcntl(c->fd, F_SETFL, fl);
			memmove(c->buf, nl + 1, c->len - line - 1);
			c->len -= line + 1;
			c->buf[c->len] = '\0';
			if (r.failed)
				return -1;
		}
		if (c->len > SL_API_LINE_MAX)
			goto too_long;
	}
too_long: {
		struct reply r = { .fd = c->fd };
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "code", json_object_new_string("invalid"));
		json_object_object_add(o, "error", json_object_new_string(
			"request: line longer than the limit; expected one JSON object per line"));
		reply_send(&r, o);
		json_object_put(o);
		pr_warn("dropped a client that sent an over-long line");
		return -1;
	}
}

int server_run(struct daemon *d, int ready_fd)
{
	struct epoll_event ev, evs[16];
	struct timeval tv = { .tv_sec = 10 };
	sigset_t mask;
	int lfd, sfd, ep, rfd, i, ret = 0;

	for (i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	lfd = listen_socket(d);
	if (lfd < 0 || sfd < 0)
		return lfd < 0 ? lfd : -errno;
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	if (d->agent) {
		ev.data.fd = sl_hostagent_fd(d->agent);
		epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
	/* Relay hops an earlier sluiced started send no SIGCHLD here. */
	rfd = relays_fd();
	if (rfd >= 0) {
		ev.data.fd = rfd;
		epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev);
	}

	pr_info("sluiced %s listening on %s", SLUICE_VERSION, d->socket_path);
	if (ready_fd >= 0) {
		if (write(ready_fd, "1", 1) != 1)
			pr_warn("cannot signal readiness to the parent");
		close(ready_fd);
	}
	while (!d->stop) {
		int n = epoll_wait(ep, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, k;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGCHLD) {
						relays_reap(d);
						continue;
					}
					pr_info("signal %u: stopping (topologies stay up; "
						"a new sluiced re-adopts them)", si.ssi_signo);
					d->stop = true;
				}
			} else if (fd == rfd) {
				relays_reap(d);
			} else if (d->agent && fd == sl_hostagent_fd(d->agent)) {
				json_object *cmd;

				while (sl_hostagent_next(d->agent, &cmd) == 1) {
					agent_command(d, cmd);
					json_object_put(cmd);
				}
			} else if (fd == lfd) {
				int cfd = accept4(lfd, NULL, NULL,
						  SOCK_CLOEXEC | SOCK_NONBLOCK);

				if (cfd < 0)
					continue;
				for (k = 0; k < MAX_CLIENTS && clients[k].fd >= 0; k++)
					;
				if (k == MAX_CLIENTS) {
					pr_warn("too many clients; refusing one");
					close(cfd);
					continue;
				}
				setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
				clients[k].fd = cfd;
				ev.events = EPOLLIN;
				ev.data.fd = cfd;
				epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
			} else {
				for (k = 0; k < MAX_CLIENTS && clients[k].fd != fd; k++)
					;
				if (k < MAX_CLIENTS && client_read(d, &clients[k]) < 0)
					client_close(ep, &clients[k]);
			}
		}
	}
	for (i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(ep, &clients[i]);
	close(ep);
	close(lfd);
	close(sfd);
	unlink(d->socket_path);
	return ret;
}
