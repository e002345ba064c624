/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relay_int.h - what the TCP relay's files share inside libsluice:
 * lib/relay.c (addresses, the loop, accepting, connecting onward, the
 * SOCKS5 front, closing) and lib/relay_io.c (moving the bytes: splice and
 * sockmap modes). Not a public header; the API is include/sluice/relay.h.
 */
#ifndef SLUICE_RELAY_INT_H
#define SLUICE_RELAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/relay.h>
#include <sluice/socks5.h>

#define RELAY_COPY_BUF 65536       /* sockmap mode: user-space copy */

enum conn_state {
	C_SOCKS_GREETING,
	C_SOCKS_REQUEST,
	C_CONNECTING,
	C_RELAY,
};

struct conn;

struct end {
	struct conn *c;
	int side;
};

/*
 * A connection ("conn") has two ends: fd[0] accepted, fd[1] onward.
 * Direction d carries the bytes read from fd[d] to fd[1 - d]; d = 0 is
 * "up" (client to server). Each fd is registered once, edge-triggered, for
 * in, out and read-hangup; any event on either fd pumps both directions, so
 * no wakeup is ever lost to a missed edge (pumps run until EAGAIN).
 *
 * Invariants per direction d:
 *   eof[d]   fd[d] returned EOF: nothing more will be read from it;
 *   shut[d]  shutdown(fd[1 - d], SHUT_WR) was done, which happens exactly
 *            once, after eof[d] and after every byte read before the EOF
 *            left the relay (pipe empty; in sockmap mode the peer socket
 *            has taken every byte the verdict redirected);
 * a conn closes cleanly when shut[0] && shut[1], and is reset (both fds
 * closed with SO_LINGER 0, so each peer sees RST) on any error.
 */
struct conn {
	struct end end[2];
	int fd[2];
	int pipe[2][2];   /* splice: pipe[d] carries direction d */
	size_t inpipe[2]; /* bytes of direction d in pipe[d] */
	bool eof[2];
	bool shut[2];
	bool dead;
	bool joined;      /* sockmap: both fds in socks */
	enum conn_state state;
	uint8_t buf[2 * SL_SOCKS5_MAX_REQUEST]; /* SOCKS5 bytes read */
	size_t blen;
	uint64_t bytes[2];
	uint64_t counted[2];  /* part of bytes[] already in r->st */
	/* sockmap mode */
	uint64_t cookie[2];
	uint64_t base[2];     /* written_total(fd[1 - d]) at the join */
	uint64_t copied[2];   /* bytes of d the relay copied itself */
	uint64_t pre[2];      /* bytes of d copied before the join */
	uint64_t last_written[2];
	uint64_t stall_since_ms[2];
	bool waiting[2];      /* d needs the drain timer */
	bool halted[2];       /* d set in "halt": copied by the relay */
	struct conn *prev, *next; /* all live conns */
	struct conn *zombie_next;
};

struct sk_relay_bpf; /* sk_relay.skel.h, lib/relay.c only */

struct sl_relay {
	struct sl_relay_opts o;
	int netns_fd;
	int listen_fd;
	int ep;
	int stop_fd;
	bool listen_paused;
	struct conn *conns;
	struct conn *zombies;
	struct sl_relay_stats st;
	struct sk_relay_bpf *skel;
	int socks_fd, dirs_fd, halt_fd;
	uint8_t *copybuf;
	char listen_marker, stop_marker;
};

struct sl_relay_dir;  /* bpf/sk_relay.h */

/* lib/relay.c */
/* Closes both fds of c (reset: with RST) and leaves c to be freed after
 * the batch of events. */
void sl_relay_conn_close(struct sl_relay *r, struct conn *c, bool reset);
/* Moves the bytes of c not yet in r->st there. */
void sl_relay_conn_account(struct sl_relay *r, struct conn *c);
/* Sends all of buf on a non-blocking socket; 0 or -errno. */
int sl_relay_send_all(int fd, const void *buf, size_t len);

/* lib/relay_io.c */
/* Sockmap mode: the verdict's counters ("dirs") of the direction read from
 * the socket with this cookie; 0 or -errno. */
int sl_relay_dir_read(struct sl_relay *r, uint64_t cookie,
		      struct sl_relay_dir *v);
/* Pumps both directions of c; closes c when they are done or on error. */
void sl_relay_conn_pump(struct sl_relay *r, struct conn *c);
/* Both ends are connected: joins them (pipes or sockmap) and pumps. */
int sl_relay_conn_start(struct sl_relay *r, struct conn *c);

#endif
