/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relay.h - TCP relays on nodes, joined in the kernel (max mode L4 for
 * proxied flows; Nextmini's "splice mode").
 *
 * A relay listens on an address inside one node's network namespace,
 * accepts, connects onward (to a fixed next hop, or to the target a SOCKS5
 * client names) and joins the two sockets so that the bytes never reach
 * user space:
 *   SL_RELAY_SPLICE   splice(2) socket -> pipe -> socket, one pipe per
 *                     direction, the default (measured faster here, see
 *                     docs/relay.md);
 *   SL_RELAY_SOCKMAP  both sockets in a sockhash with an sk_skb stream
 *                     verdict program (bpf/sk_relay.bpf.c) that redirects
 *                     every received skb to the other socket's egress.
 * Either way the relay forwards EOF itself (a FIN seen on one side, once
 * every byte before it has been handed to the other side, becomes
 * shutdown(SHUT_WR) there, so half-closed connections keep working), and a
 * reset or error on one side closes both, resetting the other (SO_LINGER 0).
 *
 * One relay is one epoll loop on one thread; several relays may share a
 * listening address with reuseport (one per core). sl_relay_run() enters
 * the relay's namespace for the calling thread and stays there until it
 * returns.
 */
#ifndef SLUICE_RELAY_H
#define SLUICE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <sluice/err.h>

enum sl_relay_mode {
	SL_RELAY_SPLICE = 0,
	SL_RELAY_SOCKMAP = 1,
};

enum sl_relay_front {
	SL_RELAY_FORWARD = 0, /* every connection goes to opts.to */
	SL_RELAY_SOCKS5 = 1,  /* RFC 1928 CONNECT, no authentication */
};

struct sl_relay_opts {
	const char *netns;   /* name in /run/netns; NULL: the caller's */
	struct sockaddr_storage listen;
	socklen_t listen_len;
	struct sockaddr_storage to; /* SL_RELAY_FORWARD only */
	socklen_t to_len;
	enum sl_relay_mode mode;
	enum sl_relay_front front;
	bool reuseport;      /* SO_REUSEPORT on the listening socket */
	size_t pipe_size;    /* splice pipes, bytes; 0: kernel default */
	int backlog;         /* listen(2) backlog; 0: 1024 */
};

struct sl_relay_stats {
	uint64_t accepted;
	uint64_t active;          /* connections open now */
	uint64_t closed;          /* ended cleanly (EOF both ways) */
	uint64_t reset;           /* ended by a reset or an error */
	uint64_t connect_failed;  /* onward connect refused or failed */
	uint64_t socks_refused;   /* SOCKS5 requests refused (bad, not CONNECT) */
	uint64_t bytes_up;        /* accepted side -> onward side */
	uint64_t bytes_down;      /* onward side -> accepted side */
};

struct sl_relay;

/* Checks o, enters o->netns for a moment to create the listening socket
 * (bound and listening on return: a client may connect at once), and for
 * SL_RELAY_SOCKMAP loads the verdict program. */
int sl_relay_new(const struct sl_relay_opts *o, struct sl_relay **out,
		 struct sl_err *err);
/* The event loop, on the calling thread, until sl_relay_stop(). Returns 0,
 * or a negative errno when the loop itself fails (not for failures of
 * single connections, which are counted). */
int sl_relay_run(struct sl_relay *r, struct sl_err *err);
/* Async-signal-safe; the loop returns after closing every connection. */
void sl_relay_stop(struct sl_relay *r);
/* A snapshot, safe from another thread: the counters are read unlocked,
 * each whole, not all at the same instant; bytes include live conns up to
 * their last event. */
void sl_relay_stats_get(const struct sl_relay *r, struct sl_relay_stats *out);
/* The bound listening address (port 0 resolved). */
int sl_relay_local_addr(const struct sl_relay *r, struct sockaddr_storage *ss,
			socklen_t *len);
void sl_relay_free(struct sl_relay *r);

/* "10.0.0.1:80", "[fd00::1]:80", "*:80" (IPv4 any), "[::]:80".
 * Numeric only: relays run inside nodes where names may not resolve. */
int sl_relay_parse_addr(const char *s, struct sockaddr_storage *ss,
			socklen_t *len, struct sl_err *err);
/* The inverse: "10.0.0.1:80" or "[fd00::1]:80". Returns buf. */
const char *sl_relay_format_addr(const struct sockaddr *sa, char *buf,
				 size_t len);
const char *sl_relay_mode_name(enum sl_relay_mode m);
/* "splice" or "sockmap"; -EINVAL otherwise. */
int sl_relay_mode_parse(const char *s, enum sl_relay_mode *m,
			struct sl_err *err);

#endif
