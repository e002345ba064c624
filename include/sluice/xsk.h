/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xsk.h - AF_XDP plumbing of the normal-mode dataplane: the XDP program
 * that steers a fabric port's frames into a socket, UMEMs, sockets and
 * their rings, and the preparation of the node-side interfaces.
 *
 * The shape, chosen for veth (docs/dataplane.md has the measurements):
 *  - one UMEM per emulated link, shared by the link's two sockets (port A
 *    and port B): a frame received on A is transmitted on B from the same
 *    memory, without a copy in user space. The first socket owns the UMEM
 *    (libxdp registers it on that socket), so both live and die with the
 *    link; a UMEM shared by many links would outlive its owner's link;
 *  - copy mode on veth (zero-copy is used when the driver has it: the
 *    bind asks for neither, so the kernel picks), need_wakeup when the
 *    kernel has it, one queue (veth has one active RX queue);
 *  - sockets are created with XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD: our own
 *    program (bpf/xsk.bpf.c) is attached instead of libxdp's default, and
 *    sockets go into its XSKMAP under a slot we hand out, not under the
 *    queue id as xsk_socket__update_xskmap() would put them (all our
 *    sockets are on queue 0 of different ports).
 *
 * Namespaces: sl_xsk_open(), sl_xsk_prog_attach() and _detach() resolve
 * interfaces in the calling thread's current netns: call them after
 * setns() into the fabric netns (sl_netns_enter). Map updates do not
 * depend on the netns. A socket, once bound, is used from any thread.
 *
 * Ownership of frames (the invariant the dataplane keeps): every frame of
 * a UMEM is in exactly one place: the free stack, a fill ring, an RX ring,
 * the dataplane (a channel or a TX backlog), a TX ring, or a completion
 * ring. free + fill + rx + held + tx + comp == n_frames.
 */
#ifndef SLUICE_XSK_H
#define SLUICE_XSK_H

#include <stdbool.h>
#include <stdint.h>

#include <xdp/xsk.h>

#include <sluice/err.h>

#include "../../bpf/xsk.h"

/* ---- the XDP program, one instance per fabric netns ------------------- */

struct sl_xsk_prog;

/* Loads the program with room for max_slots sockets (0: 1024). */
struct sl_xsk_prog *sl_xsk_prog_new(uint32_t max_slots, struct sl_err *err);
/* Unloads (the kernel keeps it while still attached somewhere). */
void sl_xsk_prog_free(struct sl_xsk_prog *p);
uint32_t sl_xsk_prog_max_slots(const struct sl_xsk_prog *p);
/* A free slot, or -ENOSPC. sl_xsk_prog_slot_put gives it back. */
int sl_xsk_prog_slot_get(struct sl_xsk_prog *p, struct sl_err *err);
void sl_xsk_prog_slot_put(struct sl_xsk_prog *p, uint32_t slot);
/* Puts socket fd in slot and makes port ifindex use it with mode. */
int sl_xsk_prog_port_set(struct sl_xsk_prog *p, int ifindex, uint32_t slot,
			 int sock_fd, uint32_t mode, struct sl_err *err);
/* Removes the port's entry and empties its slot; missing ones are fine. */
void sl_xsk_prog_port_del(struct sl_xsk_prog *p, int ifindex, uint32_t slot);
/* Counters of one slot summed over CPUs. */
int sl_xsk_prog_stats(struct sl_xsk_prog *p, uint32_t slot,
		      struct sl_xsk_stats *out, struct sl_err *err);
/* Attaches in native (driver) mode, falling back to generic (skb) mode;
 * replaces whatever XDP program the interface had. Current netns. */
int sl_xsk_prog_attach(struct sl_xsk_prog *p, int ifindex, bool *generic,
		       struct sl_err *err);
/* Removes any XDP program from ifindex (both modes). Current netns. */
int sl_xsk_prog_detach(int ifindex, struct sl_err *err);

/* ---- UMEM ------------------------------------------------------------- */

#define SL_XSK_FRAME_SIZE 2048u
#define SL_XSK_RING_SIZE 2048u

struct sl_xsk_umem {
	struct xsk_umem *umem;
	void *area;
	uint64_t size;
	uint32_t frame_size;
	uint32_t frame_shift;
	uint32_t n_frames;
	/* The owner socket's fill and completion rings (libxdp keeps a
	 * pointer to them: this struct never moves). */
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	bool owned; /* a socket has taken the rings above */
	/* Free frames (base addresses), a stack: the most recently freed
	 * frame is reused first, still warm in the cache. */
	uint64_t *free;
	uint32_t n_free;
};

/* n_frames frames of frame_size bytes (a power of two >= 2048). */
struct sl_xsk_umem *sl_xsk_umem_new(uint32_t n_frames, uint32_t frame_size,
				    struct sl_err *err);
/* -EBUSY while a socket still uses it (nothing freed then). */
int sl_xsk_umem_free(struct sl_xsk_umem *u);

static inline void *sl_xsk_umem_data(const struct sl_xsk_umem *u,
				     uint64_t addr)
{
	return (char *)u->area + addr;
}

static inline uint64_t sl_xsk_umem_frame(const struct sl_xsk_umem *u,
					 uint64_t addr)
{
	return addr & ~(uint64_t)(u->frame_size - 1);
}

static inline void sl_xsk_umem_put(struct sl_xsk_umem *u, uint64_t addr)
{
	u->free[u->n_free++] = sl_xsk_umem_frame(u, addr);
}

static inline bool sl_xsk_umem_get(struct sl_xsk_umem *u, uint64_t *addr)
{
	if (!u->n_free)
		return false;
	*addr = u->free[--u->n_free];
	return true;
}

/* ---- sockets ---------------------------------------------------------- */

struct sl_xsk {
	struct xsk_socket *xsk;
	struct sl_xsk_umem *umem;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod *fill; /* the umem's for its owner, else own */
	struct xsk_ring_cons *comp;
	struct xsk_ring_prod own_fill;
	struct xsk_ring_cons own_comp;
	int fd;
	int ifindex;
	uint32_t fill_target; /* frames kept in the fill ring */
	uint32_t tx_pending;  /* on the TX ring, not yet completed */
	uint32_t tx_unkicked; /* submitted since the last sendto() */
	uint64_t tx_first;    /* when the oldest unkicked one was seen (the
			       * dataplane's bookkeeping; 0: none) */
	bool zerocopy;
	bool need_wakeup;
	bool busy_poll;
	uint64_t kicks, kick_errors;
};

struct sl_xsk_config {
	uint32_t fill_target; /* 0: a quarter of the UMEM, at most the ring */
	bool busy_poll;	      /* SO_PREFER_BUSY_POLL + SO_BUSY_POLL */
	bool force_copy;      /* never zero-copy */
};

/*
 * Creates a socket on queue 0 of ifindex (current netns), sharing umem.
 * The first socket of a umem owns it. x is the caller's (it must not move
 * while open). Retries EBUSY for a moment: a queue freed by a socket just
 * closed can still look taken.
 */
int sl_xsk_open(struct sl_xsk *x, struct sl_xsk_umem *umem, int ifindex,
		const struct sl_xsk_config *cfg, struct sl_err *err);
/* Closes the socket; frames still in its rings are simply forgotten (the
 * UMEM is about to go too, or the caller recounts). NULL-safe. */
void sl_xsk_close(struct sl_xsk *x);

/* Tops the fill ring up from the free stack to fill_target. */
void sl_xsk_refill(struct sl_xsk *x);
/* Moves completed TX frames to the free stack; returns how many. */
uint32_t sl_xsk_complete(struct sl_xsk *x);
/* Makes the kernel transmit what was submitted (sendto when the ring asks
 * for a wakeup, or always in copy mode). */
void sl_xsk_kick(struct sl_xsk *x);
/* Kernel counters of the socket (XDP_STATISTICS), as json-ready fields. */
struct sl_xsk_kstats {
	uint64_t rx_dropped, rx_invalid, tx_invalid, rx_ring_full,
		rx_fill_empty, tx_ring_empty;
};
int sl_xsk_kernel_stats(const struct sl_xsk *x, struct sl_xsk_kstats *out);

/* ---- node-side interfaces --------------------------------------------- */

#define SL_XSK_NODE_TXCSUM_OFF (1u << 0) /* tx checksum offload off */
#define SL_XSK_NODE_GRO_ON (1u << 1)	 /* GRO on: NAPI on the veth */

/*
 * Prepares a node-side interface that feeds or receives a normal-mode
 * link, inside netns_fd (-1: current): with SL_XSK_NODE_TXCSUM_OFF its
 * packets leave with complete checksums (an XDP redirect loses the
 * CHECKSUM_PARTIAL state), with SL_XSK_NODE_GRO_ON its veth gets NAPI.
 * Uses the ethtool ioctl (SIOCETHTOOL) on a socket made inside the netns.
 */
int sl_xsk_prepare_node_if(int netns_fd, const char *ifname, unsigned flags,
			   struct sl_err *err);

#endif
