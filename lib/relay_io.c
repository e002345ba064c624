// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relay_io.c - how a TCP relay (lib/relay.c) moves the bytes of a conn
 * once both ends are connected: splice(2) through a pipe per direction, or
 * the sockmap verdict of bpf/sk_relay.bpf.c with the relay copying only
 * what the verdict passed; and forwarding each direction's EOF once every
 * byte before it has left (the invariants are in lib/relay_int.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* tcp_info with tcpi_bytes_acked */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include <sluice/log.h>

#include "../bpf/sk_relay.h"
#include "relay_int.h"

#define RELAY_CHUNK (1u << 20)     /* most one splice moves */
/* Sockmap mode: how long a direction may wait for its peer socket to take
 * the redirected bytes without any progress before the conn is reset. */
#define RELAY_DRAIN_STALL_MS 10000

/* ---- helpers of the sockmap mode */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Bytes ever handed to fd's write queue, up to a constant: snd_una moved
 * by bytes_acked, plus what is queued after snd_una. *fin_in tells whether
 * the peer's FIN has arrived (the state says so; a socket in a sockmap does
 * not report EOF through recv(2) reliably). */
/* include/net/tcp_states.h (netinet/tcp.h clashes with linux/tcp.h) */
enum { ST_TIME_WAIT = 6, ST_CLOSE = 7, ST_CLOSE_WAIT = 8, ST_LAST_ACK = 9,
       ST_CLOSING = 11 };

static int tcp_progress(int fd, uint64_t *written, bool *fin_in)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	int outq = 0;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return -errno;
	if (written) {
		if (ioctl(fd, SIOCOUTQ, &outq))
			return -errno;
		*written = ti.tcpi_bytes_acked + (uint64_t)outq;
	}
	if (fin_in)
		*fin_in = ti.tcpi_state == ST_CLOSE_WAIT ||
			  ti.tcpi_state == ST_LAST_ACK ||
			  ti.tcpi_state == ST_CLOSING ||
			  ti.tcpi_state == ST_TIME_WAIT ||
			  ti.tcpi_state == ST_CLOSE;
	return 0;
}

/* ---- splice mode */

/* Moves direction d as far as it goes now. 0, or -errno (reset). */
static int pump_splice(struct sl_relay *r, struct conn *c, int d)
{
	int src = c->fd[d], dst = c->fd[1 - d];
	ssize_t n;

	for (;;) {
		if (c->inpipe[d] == 0 && !c->eof[d]) {
			n = splice(src, NULL, c->pipe[d][1], NULL, RELAY_CHUNK,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n == 0) {
				c->eof[d] = true;
			} else if (n < 0) {
				if (errno != EAGAIN)
					return -errno;
			} else {
				c->inpipe[d] += (size_t)n;
			}
		}
		if (c->inpipe[d] > 0) {
			n = splice(c->pipe[d][0], NULL, dst, NULL,
				   c->inpipe[d],
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0)
				return errno == EAGAIN ? 0 : -errno;
			c->inpipe[d] -= (size_t)n;
			c->bytes[d] += (uint64_t)n;
			continue;
		}
		/* pipe empty: either the source is dry or it ended */
		if (c->eof[d] && !c->shut[d]) {
			if (shutdown(dst, SHUT_WR) && errno != ENOTCONN)
				return -errno;
			c->shut[d] = true;
		}
		return 0;
	}
}

/* ---- sockmap mode */

int sl_relay_dir_read(struct sl_relay *r, uint64_t cookie,
		      struct sl_relay_dir *v)
{
	return bpf_map_lookup_elem(r->dirs_fd, &cookie, v) ? -errno : 0;
}

/*
 * Direction d in sockmap mode. The verdict moves the bytes; the relay only
 * copies what the verdict passed (see bpf/sk_relay.bpf.c), and only once
 * the peer has taken every redirected byte, and forwards the EOF under the
 * same condition.
 */
static int pump_sockmap(struct sl_relay *r, struct conn *c, int d)
{
	int src = c->fd[d], dst = c->fd[1 - d], ret;
	struct sl_relay_dir v;
	bool fin_in, data;
	uint64_t w;
	ssize_t n;
	uint8_t b;

	if (c->shut[d])
		return 0;
	for (;;) {
		/* anything for the relay: passed bytes, or the FIN? */
		n = recv(src, &b, 1, MSG_DONTWAIT | MSG_PEEK);
		data = n > 0;
		if (n < 0 && errno != EAGAIN && errno != EPIPE)
			return -errno;
		ret = tcp_progress(src, NULL, &fin_in);
		if (ret)
			return ret;
		if (!data && !fin_in) {
			c->waiting[d] = false;
			return 0;
		}
		/* only once the peer has taken every redirected byte */
		ret = sl_relay_dir_read(r, c->cookie[d], &v);
		if (!ret)
			ret = tcp_progress(dst, &w, NULL);
		if (ret)
			return ret;
		if (data && !v.passed && !c->halted[d]) {
			/* Bytes the verdict has not seen (they came between
			 * the last read before the join and the join): they
			 * are newer than every redirected byte, so the relay
			 * copies them and everything after them. */
			uint32_t one = 1;

			if (bpf_map_update_elem(r->halt_fd, &c->cookie[d], &one,
						BPF_ANY))
				return -errno;
			c->halted[d] = true;
			pr_debug("relay: direction %d falls back to copying", d);
		}
		w -= c->base[d];
		c->bytes[d] = c->pre[d] + v.redirected + c->copied[d];
		if (w < v.redirected + c->copied[d]) {
			uint64_t t = now_ms();

			if (w != c->last_written[d]) {
				c->last_written[d] = w;
				c->stall_since_ms[d] = t;
			} else if (t - c->stall_since_ms[d] >
				   RELAY_DRAIN_STALL_MS) {
				return -ETIMEDOUT;
			}
			c->waiting[d] = true;
			return 0;
		}
		c->waiting[d] = false;
		if (!data) {
			pr_debug("relay: EOF dir %d after %llu bytes (%llu copied)",
				 d, (unsigned long long)c->bytes[d],
				 (unsigned long long)c->copied[d]);
			c->eof[d] = true;
			if (shutdown(dst, SHUT_WR) && errno != ENOTCONN)
				return -errno;
			c->shut[d] = true;
			return 0;
		}
		n = recv(src, r->copybuf, RELAY_COPY_BUF, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			continue;
		ret = sl_relay_send_all(dst, r->copybuf, (size_t)n);
		if (ret)
			return ret;
		c->copied[d] += (uint64_t)n;
		c->bytes[d] += (uint64_t)n;
	}
}

static int cookie_of(int fd, uint64_t *cookie)
{
	socklen_t l = sizeof(*cookie);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &l) ? -errno : 0;
}

static int join_sockmap(struct sl_relay *r, struct conn *c)
{
	struct sl_relay_dir v;
	uint64_t fdv;
	int d, ret;

	for (d = 0; d < 2; d++) {
		ret = cookie_of(c->fd[d], &c->cookie[d]);
		if (ret)
			return ret;
	}
	/* What came before the join (a request, a banner) is copied here,
	 * so that the verdict sees a socket with nothing queued. */
	for (d = 0; d < 2; d++) {
		ssize_t n;

		while ((n = recv(c->fd[d], r->copybuf, RELAY_COPY_BUF,
				 MSG_DONTWAIT)) > 0) {
			ret = sl_relay_send_all(c->fd[1 - d], r->copybuf,
						(size_t)n);
			if (ret)
				return ret;
			c->pre[d] += (uint64_t)n;
		}
	}
	for (d = 0; d < 2; d++) {
		ret = tcp_progress(c->fd[1 - d], &c->base[d], NULL);
		if (ret)
			return ret;
		c->last_written[d] = 0;
		c->stall_since_ms[d] = now_ms();
		memset(&v, 0, sizeof(v));
		v.peer = c->cookie[1 - d];
		if (bpf_map_update_elem(r->dirs_fd, &c->cookie[d], &v,
					BPF_ANY))
			return -errno;
	}
	/* onward side first: the server usually speaks second */
	for (d = 1; d >= 0; d--) {
		fdv = (uint64_t)c->fd[d];
		if (bpf_map_update_elem(r->socks_fd, &c->cookie[d], &fdv,
					BPF_NOEXIST))
			return -errno;
	}
	c->joined = true;
	return 0;
}

/* ---- relaying */

void sl_relay_conn_pump(struct sl_relay *r, struct conn *c)
{
	int d, ret = 0;

	for (d = 0; d < 2 && !ret; d++)
		ret = r->o.mode == SL_RELAY_SOCKMAP ? pump_sockmap(r, c, d)
						    : pump_splice(r, c, d);
	sl_relay_conn_account(r, c);
	if (ret) {
		pr_debug("relay: connection reset: %s", strerror(-ret));
		sl_relay_conn_close(r, c, true);
	} else if (c->shut[0] && c->shut[1]) {
		sl_relay_conn_close(r, c, false);
	}
}

int sl_relay_conn_start(struct sl_relay *r, struct conn *c)
{
	int d, ret;

	c->state = C_RELAY;
	if (r->o.mode == SL_RELAY_SOCKMAP) {
		ret = join_sockmap(r, c);
		if (ret)
			return ret;
	} else {
		for (d = 0; d < 2; d++) {
			if (pipe2(c->pipe[d], O_NONBLOCK | O_CLOEXEC))
				return -errno;
			if (r->o.pipe_size)
				fcntl(c->pipe[d][1], F_SETPIPE_SZ,
				      (int)r->o.pipe_size);
		}
	}
	sl_relay_conn_pump(r, c);
	return 0;
}
