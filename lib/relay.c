// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relay.c - the TCP relay engine (include/sluice/relay.h): one epoll loop
 * that accepts, connects onward and joins each pair of sockets in the
 * kernel, with splice(2) through a pipe per direction or with the sockmap
 * verdict of bpf/sk_relay.bpf.c. Here: addresses, the loop, and a conn's
 * life from accept (or the SOCKS5 front) and the onward connect to its
 * close; the bytes move in lib/relay_io.c; struct conn, with the
 * invariants of its two directions, is in lib/relay_int.h.
 *
 * Conns closed while handling a batch of events are only marked dead and
 * freed after the batch: later events of the same batch may point at them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* TCP_NODELAY */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sluice/log.h>
#include <sluice/netlink.h>
#include <sluice/relay.h>
#include <sluice/socks5.h>

#include "../bpf/sk_relay.h"
#include "relay_int.h"
#include "sk_relay.skel.h"

#define RELAY_EVENTS 256

/* ---- addresses */

int sl_relay_parse_addr(const char *s, struct sockaddr_storage *ss,
			socklen_t *len, struct sl_err *err)
{
	char host[128];
	const char *colon, *port_s;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (!s || !s[0])
		return sl_err_set(err, EINVAL, "empty address");
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return sl_err_set(err, EINVAL,
					  "%s: expected [IPv6]:PORT", s);
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		port_s = rb + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return sl_err_set(err, EINVAL,
					  "%s: expected ADDRESS:PORT", s);
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port_s = colon + 1;
	}
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (!port_s[0] || *end || errno || port < 0 || port > 65535)
		return sl_err_set(err, EINVAL, "%s: bad port \"%s\"", s,
				  port_s);
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return sl_err_set(err, EINVAL,
					  "%s: bad IPv6 address \"%s\"", s,
					  host);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (strcmp(host, "*") == 0 || host[0] == '\0')
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return sl_err_set(err, EINVAL,
					  "%s: bad IPv4 address \"%s\"", s,
					  host);
		*len = sizeof(*a);
	}
	return 0;
}

const char *sl_relay_format_addr(const struct sockaddr *sa, char *buf,
				 size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

const char *sl_relay_mode_name(enum sl_relay_mode m)
{
	return m == SL_RELAY_SOCKMAP ? "sockmap" : "splice";
}

int sl_relay_mode_parse(const char *s, enum sl_relay_mode *m,
			struct sl_err *err)
{
	if (strcmp(s, "splice") == 0)
		*m = SL_RELAY_SPLICE;
	else if (strcmp(s, "sockmap") == 0)
		*m = SL_RELAY_SOCKMAP;
	else
		return sl_err_set(err, EINVAL,
				  "relay mode \"%s\": expected splice or sockmap",
				  s);
	return 0;
}

/* ---- small socket helpers */

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void close_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int sock_error(int fd)
{
	int e = 0;
	socklen_t l = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l))
		return errno;
	return e;
}

/* Sends all of buf on a non-blocking socket, waiting for room (a rare
 * path: the SOCKS5 replies and the sockmap mode's copies). */
int sl_relay_send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN)
				return -errno;
			if (poll(&pfd, 1, 5000) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- conns */

static void conn_unlink(struct sl_relay *r, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* Moves the bytes of c not yet in r->st there, so that a stats snapshot
 * from another thread never walks the list of conns. */
void sl_relay_conn_account(struct sl_relay *r, struct conn *c)
{
	r->st.bytes_up += c->bytes[0] - c->counted[0];
	r->st.bytes_down += c->bytes[1] - c->counted[1];
	c->counted[0] = c->bytes[0];
	c->counted[1] = c->bytes[1];
}

static void listen_resume(struct sl_relay *r)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.ptr = &r->listen_marker };

	if (!r->listen_paused)
		return;
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->listen_fd, &ev) == 0)
		r->listen_paused = false;
}

void sl_relay_conn_close(struct sl_relay *r, struct conn *c, bool reset)
{
	int s, d;

	if (c->dead)
		return;
	c->dead = true;
	if (r->o.mode == SL_RELAY_SOCKMAP) {
		struct sl_relay_dir v;

		for (s = 0; s < 2; s++) {
			if (!c->cookie[s])
				continue;
			if (sl_relay_dir_read(r, c->cookie[s], &v) == 0)
				c->bytes[s] = c->pre[s] + v.redirected +
					      c->copied[s];
			bpf_map_delete_elem(r->dirs_fd, &c->cookie[s]);
			bpf_map_delete_elem(r->halt_fd, &c->cookie[s]);
		}
	}
	for (s = 0; s < 2; s++) {
		if (reset)
			close_reset(c->fd[s]);
		else if (c->fd[s] >= 0)
			close(c->fd[s]);
		c->fd[s] = -1;
	}
	for (d = 0; d < 2; d++)
		for (s = 0; s < 2; s++)
			if (c->pipe[d][s] >= 0)
				close(c->pipe[d][s]);
	sl_relay_conn_account(r, c);
	r->st.active--;
	if (reset)
		r->st.reset++;
	else
		r->st.closed++;
	conn_unlink(r, c);
	c->zombie_next = r->zombies;
	r->zombies = c;
	listen_resume(r);
}

static struct conn *conn_new(struct sl_relay *r, int fd0)
{
	struct conn *c = calloc(1, sizeof(*c));
	int d, s;

	if (!c)
		return NULL;
	c->fd[0] = fd0;
	c->fd[1] = -1;
	for (d = 0; d < 2; d++)
		for (s = 0; s < 2; s++)
			c->pipe[d][s] = -1;
	for (s = 0; s < 2; s++) {
		c->end[s].c = c;
		c->end[s].side = s;
	}
	c->next = r->conns;
	if (r->conns)
		r->conns->prev = c;
	r->conns = c;
	r->st.active++;
	return c;
}

static int watch(struct sl_relay *r, struct conn *c, int side)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = &c->end[side],
	};

	return epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd[side], &ev) ? -errno : 0;
}

/* ---- connecting onward */

static void socks_refuse(struct sl_relay *r, struct conn *c,
			 enum sl_socks5_rep rep)
{
	uint8_t out[32];
	size_t n = sl_socks5_reply(rep, NULL, out);

	send(c->fd[0], out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	r->st.socks_refused++;
	sl_relay_conn_close(r, c, false);
}

static void connect_done(struct sl_relay *r, struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int e = sock_error(c->fd[1]), ret;

	if (e == 0 && getpeername(c->fd[1], (struct sockaddr *)&ss, &l))
		e = errno == ENOTCONN ? ECONNREFUSED : errno;
	if (e) {
		r->st.connect_failed++;
		if (r->o.front == SL_RELAY_SOCKS5) {
			uint8_t out[32];
			size_t n = sl_socks5_reply(sl_socks5_rep_from_errno(e),
						   NULL, out);

			send(c->fd[0], out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			sl_relay_conn_close(r, c, false);
		} else {
			/* the client sees what it would see from the server */
			sl_relay_conn_close(r, c, true);
		}
		return;
	}
	if (r->o.front == SL_RELAY_SOCKS5) {
		uint8_t out[32];
		size_t n;

		l = sizeof(ss);
		getsockname(c->fd[1], (struct sockaddr *)&ss, &l);
		n = sl_socks5_reply(SL_SOCKS5_OK, (struct sockaddr *)&ss, out);
		ret = sl_relay_send_all(c->fd[0], out, n);
		/* bytes the client sent right behind its request */
		if (!ret && c->blen)
			ret = sl_relay_send_all(c->fd[1], c->buf, c->blen);
		if (ret) {
			sl_relay_conn_close(r, c, true);
			return;
		}
		c->bytes[0] += c->blen;
		c->blen = 0;
	}
	ret = sl_relay_conn_start(r, c);
	if (ret) {
		pr_debug("relay: start: %s", strerror(-ret));
		sl_relay_conn_close(r, c, true);
	}
}

/* Starts a non-blocking connect; -errno when it failed at once. */
static int connect_onward(struct sl_relay *r, struct conn *c,
			  const struct sockaddr *to, socklen_t to_len)
{
	int fd;

	fd = socket(to->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	c->fd[1] = fd;
	set_nodelay(fd);
	c->state = C_CONNECTING;
	if (connect(fd, to, to_len) && errno != EINPROGRESS)
		return -errno;
	return watch(r, c, 1);
}

/* ---- SOCKS5 front */

static int socks_resolve(struct sl_socks5_request *req)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;

	if (req->atyp != 3)
		return 0;
	if (getaddrinfo(req->host, NULL, &hints, &ai) || !ai)
		return -EHOSTUNREACH;
	memcpy(&req->addr, ai->ai_addr, ai->ai_addrlen);
	req->addr_len = ai->ai_addrlen;
	if (req->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&req->addr)->sin_port = htons(req->port);
	else
		((struct sockaddr_in6 *)&req->addr)->sin6_port =
			htons(req->port);
	freeaddrinfo(ai);
	return 0;
}

static void socks_input(struct sl_relay *r, struct conn *c)
{
	struct sl_socks5_request req;
	enum sl_socks5_rep rep;
	int noauth, n;
	ssize_t got;

	for (;;) {
		if (c->blen == sizeof(c->buf)) {
			sl_relay_conn_close(r, c, true);
			return;
		}
		got = recv(c->fd[0], c->buf + c->blen, sizeof(c->buf) - c->blen,
			   MSG_DONTWAIT);
		if (got == 0 || (got < 0 && errno != EAGAIN)) {
			sl_relay_conn_close(r, c, got < 0);
			return;
		}
		if (got > 0)
			c->blen += (size_t)got;
		if (c->state == C_SOCKS_GREETING) {
			n = sl_socks5_parse_greeting(c->buf, c->blen, &noauth);
			if (n < 0) {
				sl_relay_conn_close(r, c, true);
				return;
			}
			if (n > 0) {
				uint8_t ok[2] = { SL_SOCKS5_VERSION,
						  noauth ? 0 : 0xff };

				if (sl_relay_send_all(c->fd[0], ok, 2) ||
				    !noauth) {
					r->st.socks_refused++;
					sl_relay_conn_close(r, c, false);
					return;
				}
				memmove(c->buf, c->buf + n, c->blen - (size_t)n);
				c->blen -= (size_t)n;
				c->state = C_SOCKS_REQUEST;
			}
		}
		if (c->state == C_SOCKS_REQUEST) {
			n = sl_socks5_parse_request(c->buf, c->blen, &req);
			if (n < 0) {
				socks_refuse(r, c, SL_SOCKS5_ATYP_UNSUPPORTED);
				return;
			}
			if (n > 0) {
				memmove(c->buf, c->buf + n, c->blen - (size_t)n);
				c->blen -= (size_t)n;
				rep = sl_socks5_check(&req);
				if (rep == SL_SOCKS5_OK && socks_resolve(&req))
					rep = SL_SOCKS5_HOST_UNREACH;
				if (rep != SL_SOCKS5_OK) {
					socks_refuse(r, c, rep);
					return;
				}
				n = connect_onward(r, c,
						   (struct sockaddr *)&req.addr,
						   req.addr_len);
				if (n) {
					r->st.connect_failed++;
					socks_refuse(r, c,
						     sl_socks5_rep_from_errno(-n));
				}
				return;
			}
		}
		if (got < 0)
			return; /* EAGAIN: wait for more */
	}
}

/* ---- accepting */

static void accept_all(struct sl_relay *r)
{
	struct conn *c;
	int fd;

	for (;;) {
		fd = accept4(r->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				pr_warn("relay: accept: %s (pausing until a connection ends)",
					strerror(errno));
				if (r->conns && epoll_ctl(r->ep, EPOLL_CTL_DEL,
							  r->listen_fd,
							  NULL) == 0)
					r->listen_paused = true;
			}
			return;
		}
		r->st.accepted++;
		set_nodelay(fd);
		c = conn_new(r, fd);
		if (!c) {
			close_reset(fd);
			continue;
		}
		if (watch(r, c, 0)) {
			sl_relay_conn_close(r, c, true);
			continue;
		}
		if (r->o.front == SL_RELAY_SOCKS5) {
			c->state = C_SOCKS_GREETING;
			socks_input(r, c);
		} else if (connect_onward(r, c, (struct sockaddr *)&r->o.to,
					  r->o.to_len)) {
			r->st.connect_failed++;
			sl_relay_conn_close(r, c, true);
		}
	}
}

static void on_event(struct sl_relay *r, struct end *e, uint32_t events)
{
	struct conn *c = e->c;
	int err;

	if (c->dead)
		return;
	switch (c->state) {
	case C_SOCKS_GREETING:
	case C_SOCKS_REQUEST:
		if (e->side == 0)
			socks_input(r, c);
		return;
	case C_CONNECTING:
		if (e->side == 1 && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			connect_done(r, c);
		else if (e->side == 0 && (events & EPOLLERR))
			sl_relay_conn_close(r, c, true);
		return;
	case C_RELAY:
		if (events & EPOLLERR) {
			err = sock_error(c->fd[e->side]);
			if (err) {
				pr_debug("relay: %s on side %d", strerror(err),
					 e->side);
				sl_relay_conn_close(r, c, true);
				return;
			}
		}
		sl_relay_conn_pump(r, c);
		return;
	}
}

/* ---- the relay */

int sl_relay_new(const struct sl_relay_opts *o, struct sl_relay **out,
		 struct sl_err *err)
{
	struct sl_relay *r;
	int saved = -1, one = 1, ret;

	*out = NULL;
	if (!o->listen_len)
		return sl_err_set(err, EINVAL, "relay: no listen address");
	if (o->front == SL_RELAY_FORWARD && !o->to_len)
		return sl_err_set(err, EINVAL,
				  "relay: a forward relay needs a target (--to)");
	r = calloc(1, sizeof(*r));
	if (!r)
		return sl_err_set(err, ENOMEM, "relay: out of memory");
	r->o = *o;
	r->netns_fd = r->listen_fd = r->ep = r->stop_fd = -1;
	r->socks_fd = r->dirs_fd = r->halt_fd = -1;
	if (o->netns) {
		r->o.netns = NULL; /* the caller's string need not outlive us */
		r->netns_fd = sl_netns_open(o->netns, err);
		if (r->netns_fd < 0) {
			ret = r->netns_fd;
			goto fail;
		}
		ret = sl_netns_enter(r->netns_fd, &saved, err);
		if (ret)
			goto fail;
	}
	r->listen_fd = socket(o->listen.ss_family,
			      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0) {
		ret = sl_err_set(err, errno, "relay: socket: %s",
				 strerror(errno));
		goto fail_leave;
	}
	setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->reuseport)
		setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEPORT, &one,
			   sizeof(one));
	if (bind(r->listen_fd, (const struct sockaddr *)&o->listen,
		 o->listen_len) ||
	    listen(r->listen_fd, o->backlog ? o->backlog : 1024)) {
		char a[80];

		ret = sl_err_set(err, errno, "relay: listen on %s%s%s: %s",
				 sl_relay_format_addr(
					 (const struct sockaddr *)&o->listen, a,
					 sizeof(a)),
				 o->netns ? " in " : "",
				 o->netns ? o->netns : "", strerror(errno));
		goto fail_leave;
	}
	if (saved >= 0) {
		sl_netns_leave(saved);
		saved = -1;
	}
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	r->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->ep < 0 || r->stop_fd < 0) {
		ret = sl_err_set(err, errno, "relay: epoll: %s",
				 strerror(errno));
		goto fail;
	}
	if (o->mode == SL_RELAY_SOCKMAP) {
		r->copybuf = malloc(RELAY_COPY_BUF);
		r->skel = sk_relay_bpf__open_and_load();
		if (!r->copybuf || !r->skel) {
			ret = sl_err_set(err, errno ? errno : ENOMEM,
					 "relay: load the sockmap verdict: %s",
					 strerror(errno ? errno : ENOMEM));
			goto fail;
		}
		r->socks_fd = bpf_map__fd(r->skel->maps.socks);
		r->dirs_fd = bpf_map__fd(r->skel->maps.dirs);
		r->halt_fd = bpf_map__fd(r->skel->maps.halt);
		if (bpf_prog_attach(bpf_program__fd(
					    r->skel->progs.sl_relay_verdict),
				    r->socks_fd, BPF_SK_SKB_STREAM_VERDICT,
				    0)) {
			ret = sl_err_set(err, errno,
					 "relay: attach the stream verdict: %s",
					 strerror(errno));
			goto fail;
		}
	}
	*out = r;
	return 0;
fail_leave:
	if (saved >= 0)
		sl_netns_leave(saved);
fail:
	sl_relay_free(r);
	return ret;
}

static void reap(struct sl_relay *r)
{
	struct conn *z;

	while ((z = r->zombies)) {
		r->zombies = z->zombie_next;
		free(z);
	}
}

int sl_relay_run(struct sl_relay *r, struct sl_err *err)
{
	struct epoll_event ev, evs[RELAY_EVENTS];
	struct conn *c, *next;
	int saved = -1, n, i, ret = 0, timeout;
	bool stopping = false, any_waiting = false;

	if (r->netns_fd >= 0) {
		ret = sl_netns_enter(r->netns_fd, &saved, err);
		if (ret)
			return ret;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &r->listen_marker;
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->listen_fd, &ev)) {
		ret = sl_err_set(err, errno, "relay: epoll: %s",
				 strerror(errno));
		goto out;
	}
	ev.data.ptr = &r->stop_marker;
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->stop_fd, &ev)) {
		ret = sl_err_set(err, errno, "relay: epoll: %s",
				 strerror(errno));
		goto out;
	}
	while (!stopping) {
		timeout = any_waiting ? 1 : -1;
		n = epoll_wait(r->ep, evs, RELAY_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = sl_err_set(err, errno, "relay: epoll_wait: %s",
					 strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &r->listen_marker)
				accept_all(r);
			else if (p == &r->stop_marker)
				stopping = true;
			else
				on_event(r, p, evs[i].events);
		}
		/* sockmap mode: directions waiting for a peer to drain */
		any_waiting = false;
		if (r->o.mode == SL_RELAY_SOCKMAP) {
			for (c = r->conns; c; c = next) {
				next = c->next;
				if (c->state == C_RELAY &&
				    (c->waiting[0] || c->waiting[1]))
					sl_relay_conn_pump(r, c);
			}
			for (c = r->conns; c; c = c->next)
				if (c->waiting[0] || c->waiting[1])
					any_waiting = true;
		}
		reap(r);
	}
out:
	while (r->conns)
		sl_relay_conn_close(r, r->conns, true);
	reap(r);
	epoll_ctl(r->ep, EPOLL_CTL_DEL, r->listen_fd, NULL);
	epoll_ctl(r->ep, EPOLL_CTL_DEL, r->stop_fd, NULL);
	r->listen_paused = false;
	if (saved >= 0)
		sl_netns_leave(saved);
	return ret;
}

void sl_relay_stop(struct sl_relay *r)
{
	uint64_t one = 1;
	ssize_t n = write(r->stop_fd, &one, sizeof(one));

	(void)n;
}

void sl_relay_stats_get(const struct sl_relay *r, struct sl_relay_stats *out)
{
	/* Plain 64-bit loads of counters the loop thread writes: each is
	 * whole (aligned), the set is only roughly simultaneous. */
	*out = r->st;
}

int sl_relay_local_addr(const struct sl_relay *r, struct sockaddr_storage *ss,
			socklen_t *len)
{
	*len = sizeof(*ss);
	return getsockname(r->listen_fd, (struct sockaddr *)ss, len) ? -errno
								     : 0;
}

void sl_relay_free(struct sl_relay *r)
{
	if (!r)
		return;
	while (r->conns)
		sl_relay_conn_close(r, r->conns, true);
	reap(r);
	if (r->skel)
		sk_relay_bpf__destroy(r->skel);
	free(r->copybuf);
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	if (r->ep >= 0)
		close(r->ep);
	if (r->stop_fd >= 0)
		close(r->stop_fd);
	if (r->netns_fd >= 0)
		close(r->netns_fd);
	free(r);
}
