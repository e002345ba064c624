// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * xsk.c - AF_XDP plumbing (include/sluice/xsk.h): the normal-mode XDP
 * program and its maps, UMEMs, sockets, ring upkeep, and the ethtool
 * settings of node-side interfaces.
 *
 * Everything here runs at setup time or once per batch; the per-packet
 * work is in lib/dataplane.c. libxdp 1.3.1 is used for the UMEM and socket
 * setup and for its inline ring helpers; XDP attach goes through libbpf
 * (bpf_xdp_attach) so that no dispatcher or bpffs is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sluice/bpf_loader.h>
#include <sluice/netlink.h>
#include <sluice/xsk.h>

#include "xsk.skel.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

/* ---- the XDP program -------------------------------------------------- */

struct sl_xsk_prog {
	struct xsk_bpf *skel;
	uint32_t max_slots;
	uint32_t n_used;
	uint8_t *used; /* slot -> in use */
	int ports_fd, xsks_fd, stats_fd, prog_fd;
};

struct sl_xsk_prog *sl_xsk_prog_new(uint32_t max_slots, struct sl_err *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts,
		    .btf_custom_path = sl_bpf_btf_path());
	struct sl_xsk_prog *p = calloc(1, sizeof(*p));
	int ret;

	if (!max_slots)
		max_slots = 1024;
	if (!p)
		goto nomem;
	p->max_slots = max_slots;
	p->used = calloc(max_slots, 1);
	if (!p->used)
		goto nomem;
	p->skel = xsk_bpf__open_opts(&open_opts);
	if (!p->skel) {
		ret = -errno;
		sl_err_set(err, -ret, "open the XDP program: %s", strerror(-ret));
		goto fail;
	}
	ret = bpf_map__set_max_entries(p->skel->maps.xsk_ports, max_slots);
	ret = ret ?: bpf_map__set_max_entries(p->skel->maps.xsks, max_slots);
	ret = ret ?: bpf_map__set_max_entries(p->skel->maps.xsk_stats, max_slots);
	if (ret) {
		sl_err_set(err, -ret, "size the XDP program's maps: %s", strerror(-ret));
		goto fail;
	}
	/* names the program and the verifier's or BTF's reason */
	if (sl_bpf_object_load(p->skel->obj, "normal mode", err))
		goto fail;
	p->ports_fd = bpf_map__fd(p->skel->maps.xsk_ports);
	p->xsks_fd = bpf_map__fd(p->skel->maps.xsks);
	p->stats_fd = bpf_map__fd(p->skel->maps.xsk_stats);
	p->prog_fd = bpf_program__fd(p->skel->progs.sl_xsk_redirect);
	return p;
nomem:
	sl_err_set(err, ENOMEM, "out of memory");
	errno = ENOMEM;
fail:
	sl_xsk_prog_free(p);
	return NULL;
}

void sl_xsk_prog_free(struct sl_xsk_prog *p)
{
	if (!p)
		return;
	xsk_bpf__destroy(p->skel);
	free(p->used);
	free(p);
}

uint32_t sl_xsk_prog_max_slots(const struct sl_xsk_prog *p)
{
	return p->max_slots;
}

int sl_xsk_prog_slot_get(struct sl_xsk_prog *p, struct sl_err *err)
{
	uint32_t i;

	for (i = 0; i < p->max_slots; i++)
		if (!p->used[i]) {
			p->used[i] = 1;
			p->n_used++;
			return (int)i;
		}
	return sl_err_set(err, ENOSPC,
			  "all %u AF_XDP socket slots of this fabric are in use",
			  p->max_slots);
}

void sl_xsk_prog_slot_put(struct sl_xsk_prog *p, uint32_t slot)
{
	if (slot < p->max_slots && p->used[slot]) {
		p->used[slot] = 0;
		p->n_used--;
	}
}

int sl_xsk_prog_port_set(struct sl_xsk_prog *p, int ifindex, uint32_t slot,
			 int sock_fd, uint32_t mode, struct sl_err *err)
{
	struct sl_xsk_port v = { .slot = slot, .mode = mode };
	struct sl_xsk_stats zero[256];
	uint32_t key = (uint32_t)ifindex;
	int ncpu = libbpf_num_possible_cpus();

	if (slot >= p->max_slots)
		return sl_err_set(err, EINVAL, "slot %u out of range", slot);
	/* counters start at zero for the slot's new owner */
	if (ncpu > 0 && ncpu <= 256) {
		memset(zero, 0, sizeof(zero));
		bpf_map_update_elem(p->stats_fd, &slot, zero, 0);
	}
	if (sock_fd >= 0 && bpf_map_update_elem(p->xsks_fd, &slot, &sock_fd, 0))
		return sl_err_set(err, errno, "put socket in XSKMAP slot %u: %s",
				  slot, strerror(errno));
	if (bpf_map_update_elem(p->ports_fd, &key, &v, 0))
		return sl_err_set(err, errno, "add port %d to the XDP map: %s",
				  ifindex, strerror(errno));
	return 0;
}

void sl_xsk_prog_port_del(struct sl_xsk_prog *p, int ifindex, uint32_t slot)
{
	uint32_t key = (uint32_t)ifindex;

	bpf_map_delete_elem(p->ports_fd, &key);
	if (slot < p->max_slots)
		bpf_map_delete_elem(p->xsks_fd, &slot);
}

int sl_xsk_prog_stats(struct sl_xsk_prog *p, uint32_t slot,
		      struct sl_xsk_stats *out, struct sl_err *err)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct sl_xsk_stats *v;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return sl_err_set(err, EINVAL, "cannot count the CPUs");
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return sl_err_set(err, ENOMEM, "out of memory");
	if (bpf_map_lookup_elem(p->stats_fd, &slot, v)) {
		int e = errno;

		free(v);
		return sl_err_set(err, e, "read XDP counters of slot %u: %s",
				  slot, strerror(e));
	}
	for (i = 0; i < ncpu; i++) {
		out->redirected += v[i].redirected;
		out->passed += v[i].passed;
		out->no_socket += v[i].no_socket;
	}
	free(v);
	return 0;
}

/* A failure leaves nothing of ours attached: the native attempt failed, and
 * so did the generic one if it was made. The error names the program, the
 * interface, the mode and the kernel's message (lib/bpf_loader.c). */
int sl_xsk_prog_attach(struct sl_xsk_prog *p, int ifindex, bool *generic,
		       struct sl_err *err)
{
	struct sl_bpf_capture cap;
	const char *mode = "native XDP";
	int ret;

	sl_bpf_capture_begin(&cap);
	/* A program left in the other mode would shadow ours. */
	bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
	sl_bpf_capture_reset();
	ret = bpf_xdp_attach(ifindex, p->prog_fd, XDP_FLAGS_DRV_MODE, NULL);
	if (generic)
		*generic = false;
	if (ret == -EOPNOTSUPP || ret == -EINVAL) {
		sl_bpf_capture_reset();
		mode = "generic XDP";
		ret = bpf_xdp_attach(ifindex, p->prog_fd, XDP_FLAGS_SKB_MODE,
				     NULL);
		if (!ret && generic)
			*generic = true;
	}
	if (ret)
		ret = sl_bpf_attach_error(err, ret, "normal mode", "sl_xsk_redirect",
					  ifindex, mode);
	sl_bpf_capture_end(&cap);
	return ret;
}

int sl_xsk_prog_detach(int ifindex, struct sl_err *err)
{
	int r1 = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	int r2 = bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);

	if (r1 == -ENODEV || r2 == -ENODEV)
		return sl_err_set(err, ENODEV, "detach XDP: no interface %d",
				  ifindex);
	return 0;
}

/* ---- UMEM ------------------------------------------------------------- */

struct sl_xsk_umem *sl_xsk_umem_new(uint32_t n_frames, uint32_t frame_size,
				    struct sl_err *err)
{
	struct xsk_umem_config cfg = {
		.fill_size = SL_XSK_RING_SIZE,
		.comp_size = SL_XSK_RING_SIZE,
		.frame_size = frame_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	struct sl_xsk_umem *u;
	uint32_t i;
	int ret;

	if (frame_size < 2048 || (frame_size & (frame_size - 1)))
		return sl_err_set(err, EINVAL,
				  "frame size %u: expected a power of two >= 2048",
				  frame_size), NULL;
	if (n_frames < 64 || n_frames > (1u << 24))
		return sl_err_set(err, EINVAL,
				  "%u frames: expected 64 to 16777216", n_frames),
		       NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return sl_err_set(err, ENOMEM, "out of memory"), NULL;
	u->frame_size = frame_size;
	u->frame_shift = (uint32_t)__builtin_ctz(frame_size);
	u->n_frames = n_frames;
	u->size = (uint64_t)n_frames * frame_size;
	u->free = malloc(sizeof(*u->free) * n_frames);
	u->area = mmap(NULL, u->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (u->area == MAP_FAILED || !u->free) {
		ret = u->area == MAP_FAILED ? errno : ENOMEM;
		u->area = MAP_FAILED;
		sl_err_set(err, ret, "allocate a UMEM of %llu bytes: %s",
			   (unsigned long long)u->size, strerror(ret));
		goto fail;
	}
	ret = xsk_umem__create(&u->umem, u->area, u->size, &u->fill, &u->comp,
			       &cfg);
	if (ret) {
		u->umem = NULL;
		sl_err_set(err, -ret, "register a UMEM of %u frames: %s",
			   n_frames, strerror(-ret));
		goto fail;
	}
	/* the stack pops low addresses first */
	for (i = 0; i < n_frames; i++)
		u->free[i] = (uint64_t)(n_frames - 1 - i) * frame_size;
	u->n_free = n_frames;
	return u;
fail:
	sl_xsk_umem_free(u);
	return NULL;
}

int sl_xsk_umem_free(struct sl_xsk_umem *u)
{
	if (!u)
		return 0;
	if (u->umem && xsk_umem__delete(u->umem))
		return -EBUSY;
	if (u->area && u->area != MAP_FAILED)
		munmap(u->area, u->size);
	free(u->free);
	free(u);
	return 0;
}

/* ---- sockets ---------------------------------------------------------- */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

int sl_xsk_open(struct sl_xsk *x, struct sl_xsk_umem *umem, int ifindex,
		const struct sl_xsk_config *cfg, struct sl_err *err)
{
	struct xsk_socket_config sc = {
		.rx_size = SL_XSK_RING_SIZE,
		.tx_size = SL_XSK_RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	struct xdp_options opts;
	socklen_t optlen = sizeof(opts);
	char ifname[IF_NAMESIZE];
	bool owner = !umem->owned;
	int ret = 0, tries;

	memset(x, 0, sizeof(*x));
	x->fd = -1;
	x->umem = umem;
	x->ifindex = ifindex;
	if (!if_indextoname((unsigned)ifindex, ifname))
		return sl_err_set(err, ENODEV, "no interface %d in this netns",
				  ifindex);
	if (cfg && cfg->force_copy)
		sc.bind_flags |= XDP_COPY;
	x->fill = owner ? &umem->fill : &x->own_fill;
	x->comp = owner ? &umem->comp : &x->own_comp;
	for (tries = 0; tries < 50; tries++) {
		ret = xsk_socket__create_shared(&x->xsk, ifname, 0, umem->umem,
						&x->rx, &x->tx, x->fill,
						x->comp, &sc);
		/* an old kernel without need_wakeup refuses the flag */
		if (ret == -EINVAL && owner &&
		    (sc.bind_flags & XDP_USE_NEED_WAKEUP)) {
			sc.bind_flags &= (uint16_t)~XDP_USE_NEED_WAKEUP;
			continue;
		}
		if (ret != -EBUSY)
			break;
		sleep_ms(20);
	}
	if (ret) {
		x->xsk = NULL;
		return sl_err_set(err, -ret, "AF_XDP socket on %s: %s", ifname,
				  strerror(-ret));
	}
	if (owner)
		umem->owned = true;
	x->fd = xsk_socket__fd(x->xsk);
	if (!getsockopt(x->fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen))
		x->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	x->need_wakeup = sc.bind_flags & XDP_USE_NEED_WAKEUP;
	x->fill_target = cfg && cfg->fill_target ? cfg->fill_target :
						   umem->n_frames / 4;
	if (x->fill_target > SL_XSK_RING_SIZE)
		x->fill_target = SL_XSK_RING_SIZE;
	if (cfg && cfg->busy_poll) {
		int one = 1, usec = 20, budget = 64;

		x->busy_poll =
			!setsockopt(x->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one,
				    sizeof(one)) &&
			!setsockopt(x->fd, SOL_SOCKET, SO_BUSY_POLL, &usec,
				    sizeof(usec)) &&
			!setsockopt(x->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET,
				    &budget, sizeof(budget));
	}
	sl_xsk_refill(x);
	return 0;
}

void sl_xsk_close(struct sl_xsk *x)
{
	if (!x || !x->xsk)
		return;
	xsk_socket__delete(x->xsk);
	x->xsk = NULL;
	x->fd = -1;
}

void sl_xsk_refill(struct sl_xsk *x)
{
	struct sl_xsk_umem *u = x->umem;
	uint32_t in_ring, want, idx, i;

	/* frames the kernel has not consumed yet: cached_cons runs one ring
	 * size ahead of the real consumer (libxdp's convention) */
	in_ring = x->fill->size - xsk_prod_nb_free(x->fill, x->fill->size);
	if (in_ring >= x->fill_target)
		return;
	want = x->fill_target - in_ring;
	if (want > u->n_free)
		want = u->n_free;
	if (!want)
		return;
	want = xsk_ring_prod__reserve(x->fill, want, &idx);
	for (i = 0; i < want; i++)
		*xsk_ring_prod__fill_addr(x->fill, idx + i) =
			u->free[--u->n_free];
	xsk_ring_prod__submit(x->fill, want);
	if (x->need_wakeup && xsk_ring_prod__needs_wakeup(x->fill))
		recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

uint32_t sl_xsk_complete(struct sl_xsk *x)
{
	struct sl_xsk_umem *u = x->umem;
	uint32_t n, idx, i;

	if (!x->tx_pending)
		return 0;
	n = xsk_ring_cons__peek(x->comp, SL_XSK_RING_SIZE, &idx);
	for (i = 0; i < n; i++)
		sl_xsk_umem_put(u, *xsk_ring_cons__comp_addr(x->comp, idx + i));
	xsk_ring_cons__release(x->comp, n);
	x->tx_pending -= n;
	return n;
}

void sl_xsk_kick(struct sl_xsk *x)
{
	int tries;

	if (!x->tx_unkicked)
		return;
	if (x->need_wakeup && !xsk_ring_prod__needs_wakeup(&x->tx)) {
		x->tx_unkicked = 0;
		return;
	}
	/* copy mode sends a bounded batch per call and says EAGAIN when it
	 * stopped with descriptors left: call again while it makes progress */
	for (tries = 0; tries < 64; tries++) {
		x->kicks++;
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			break;
		if (errno != EAGAIN && errno != EBUSY) {
			/* ENOBUFS: completions full, ENETDOWN: port down;
			 * the descriptors stay and go at the next kick */
			x->kick_errors++;
			break;
		}
		if (*x->tx.consumer == *x->tx.producer)
			break;
	}
	x->tx_unkicked = 0;
}

int sl_xsk_kernel_stats(const struct sl_xsk *x, struct sl_xsk_kstats *out)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &st, &len))
		return -errno;
	out->rx_dropped = st.rx_dropped;
	out->rx_invalid = st.rx_invalid_descs;
	out->tx_invalid = st.tx_invalid_descs;
	if (len >= sizeof(st)) {
		out->rx_ring_full = st.rx_ring_full;
		out->rx_fill_empty = st.rx_fill_ring_empty_descs;
		out->tx_ring_empty = st.tx_ring_empty_descs;
	}
	return 0;
}

/* ---- node-side interfaces --------------------------------------------- */

static int ethtool_set(int sock, const char *ifname, uint32_t cmd,
		       uint32_t value, const char *what, struct sl_err *err)
{
	struct ethtool_value ev = { .cmd = cmd, .data = value };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(sock, SIOCETHTOOL, &ifr))
		return sl_err_set(err, errno, "%s: set %s: %s", ifname, what,
				  strerror(errno));
	return 0;
}

int sl_xsk_prepare_node_if(int netns_fd, const char *ifname, unsigned flags,
			   struct sl_err *err)
{
	int saved = -1, sock, ret = 0;

	if (netns_fd >= 0) {
		ret = sl_netns_enter(netns_fd, &saved, err);
		if (ret)
			return ret;
	}
	/* the socket's netns, not the thread's, decides where ifname is */
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (netns_fd >= 0)
		sl_netns_leave(saved);
	if (sock < 0)
		return sl_err_set(err, errno, "socket: %s", strerror(errno));
	if (flags & SL_XSK_NODE_TXCSUM_OFF)
		ret = ethtool_set(sock, ifname, ETHTOOL_STXCSUM, 0,
				  "tx-checksumming off", err);
	if (!ret && (flags & SL_XSK_NODE_GRO_ON))
		ret = ethtool_set(sock, ifname, ETHTOOL_SGRO, 1, "gro on", err);
	close(sock);
	return ret;
}
