/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fabric.h - the data shared by the fabric tc program (bpf/fabric.bpf.c) and
 * user space (lib/fabric.c, lib/fabric_flow.c): map values and flags.
 *
 * Only fixed-width kernel types, so one definition serves both sides: the BPF
 * side gets __u32 & co. from vmlinux.h, user space from <linux/types.h>.
 * These structs are the pinned maps' ABI: changing a size makes
 * sl_fabric_open() refuse maps pinned by an older build (value_size check).
 *
 * Maps (all keyed by __u32; "ld" is link * 2 + dir):
 *   ports      hash   port ifindex -> struct sl_fabric_port
 *   stats      pcpu   ld -> struct sl_fabric_stats
 *   global     pcpu   0 -> struct sl_fabric_stats (drop_noport only)
 *   policy     array  ld -> struct sl_fabric_policy_val   (user space writes)
 *   bucket     array  ld -> struct sl_fabric_bucket       (the program writes)
 *   flows      array  2 * SL_FLOW_SLOTS -> struct sl_fabric_flow
 *   flow_ctl   array  0 -> struct sl_fabric_flow_ctl
 *   flow_hits  pcpu   rule id -> struct sl_fabric_flow_hits
 *   ld_flags   array  ld -> __u32, the SL_PORT_* flags of the port that
 *                     sends into ld (a mirror kept by sl_fabric_port_set)
 *   paths      hash   struct sl_fabric_path_key -> struct sl_fabric_path
 *                     (path compression, lib/fabric_path.c fills it)
 *
 * Order of the program for a packet entering a port:
 *   no port entry -> drop (drop_noport); port not up -> drop (drop_down);
 *   flow table -> skb->mark = class, hit counters, normal counted;
 *   policer -> drop (drop_policer); random loss -> drop (drop_loss);
 *   compressed path (below) when one matches;
 *   redirect (packets, bytes).
 * So a packet lost on the "wire" has already paid the policer, as it would
 * behind a real ingress policer.
 *
 * Path compression: an IP packet whose (ingress port, destination address)
 * has an entry in "paths" crosses every link of the entry in one program
 * run. For each link in order: down -> drop_down, policer, loss (the same
 * checks, counted on that link), else packets/bytes/compressed += on that
 * link. A drop on link k leaves links 0..k-1 counted, as if the packet had
 * crossed them hop by hop. Then the TTL (hop limit) is lowered by hops - 1
 * (the routers crossed), the Ethernet addresses are rewritten to what the
 * last router would have sent, and the packet goes to the last node's
 * interface with bpf_redirect_peer. Packets that do not qualify (no entry,
 * TTL <= hops - 1, IPv4 options, IPv6 hop-by-hop options or link-local
 * source, an Ethernet destination other than the first node, a flow rule
 * in normal mode) go hop by hop as before, so every router still answers
 * what only it can (ARP/ND, TTL exceeded, unreachable).
 */
#ifndef SLUICE_BPF_FABRIC_H
#define SLUICE_BPF_FABRIC_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock */
#endif

/* struct sl_fabric_port.flags */
#define SL_PORT_UP (1u << 0) /* forward; clear: drop and count drop_down */

/*
 * Value of the "ports" map, keyed by the __u32 ifindex (in the fabric
 * namespace) of the fabric port a packet enters on. A packet entering on
 * this port goes to the ingress of peer_ifindex's veth peer, the node-side
 * end of the other half of the link.
 */
struct sl_fabric_port {
	__u32 peer_ifindex; /* the other fabric port of the link */
	__u32 link;         /* link index, < the fabric's max_links */
	__u8 dir;           /* 0: ep[0] -> ep[1] (SL_DIR_UP), 1: reverse */
	__u8 flags;         /* SL_PORT_* */
	__u16 pad;          /* zero */
	__u32 reserved[5];  /* zero */
};

/*
 * Value of the per-CPU "stats" array (index link * 2 + dir) and of the
 * one-entry per-CPU "global" array (drop_noport lives only there: a packet
 * from an unknown port has no link to charge). Every packet that enters a
 * known port is counted exactly once in packets or in one drop_*; a
 * compressed packet is counted so on every link of its path that it
 * reached.
 */
struct sl_fabric_stats {
	__u64 packets;      /* redirected */
	__u64 bytes;        /* skb->len of redirected packets (L2, GSO whole) */
	__u64 drop_down;    /* dropped: port not SL_PORT_UP */
	__u64 drop_noport;  /* dropped: ingress ifindex not in "ports" */
	__u64 drop_policer; /* dropped: the policer's bucket was short */
	__u64 drop_loss;    /* dropped: random loss */
	__u64 normal;       /* matched a SL_FLOW_MODE_NORMAL rule (any fate) */
	__u64 compressed;   /* of packets: crossed inside a compressed path;
			     * in "global": packets sent down a compressed
			     * path (once each) */
};

/*
 * Value of the "policy" array (index link * 2 + dir): what one link
 * direction does to the packets it carries. Written by user space only
 * (sl_fabric_policy_set); the program only reads it. All zero: no policer,
 * no loss, which is what a new fabric has.
 *
 * Invariants written by sl_fabric_policy_set:
 *   rate_bps == 0  <=> no policer (burst and fill_ns are then 0);
 *   rate_bps > 0   =>  0 < burst <= SL_POLICER_BURST_MAX and
 *                      fill_ns == ceil(burst * SL_NBIT_PER_BYTE / rate_bps),
 *                      the time an empty bucket takes to fill;
 *   loss_ppm <= 1000000 (1000000 drops everything).
 * The program reads the fields without a lock, so a packet racing an
 * update may see half the old and half the new values; the arithmetic
 * stays bounded for any values (it may only misjudge that one packet).
 */
struct sl_fabric_policy_val {
	__u64 rate_bps; /* policer rate, bit/s; 0: no policer */
	__u64 fill_ns;  /* derived from rate_bps and burst, see above */
	__u32 burst;    /* bucket depth, bytes */
	__u32 loss_ppm; /* random loss, parts per million */
	__u64 reserved; /* zero */
};

/* The largest policer burst: keeps burst * SL_NBIT_PER_BYTE below 2^63. */
#define SL_POLICER_BURST_MAX (1u << 30)
/* Token unit: one nanobit (1e-9 bit). A byte is 8e9 of them, and a refill
 * is elapsed_ns * rate_bps of them: no division on the packet path. */
#define SL_NBIT_PER_BYTE 8000000000ull

/*
 * Value of the "bucket" array (index link * 2 + dir): the policer's state,
 * shared by all CPUs under lock. Written by the program only (user space
 * zeroes it when a link index is reused).
 *
 *   tokens  credit in nanobits. At most burst * 8e9 (a full bucket). It
 *           goes negative only by a packet larger than the whole burst,
 *           which passes when the bucket is full and leaves a debt that
 *           the refill pays back, so the average rate holds; otherwise a
 *           GSO packet (up to 64 KB) could never cross a small burst.
 *   last_ns bpf_ktime_get_ns() of the last refill; 0: never, the first
 *           packet finds the bucket full.
 */
struct sl_fabric_bucket {
	struct bpf_spin_lock lock;
	__u32 pad;
	__s64 tokens;
	__u64 last_ns;
};

/* ---- flow table */

/* Rules at most; the "flows" map holds two copies (double buffer). */
#define SL_FLOW_SLOTS 64

/* struct sl_fabric_flow.mode */
#define SL_FLOW_MODE_MAX 0    /* stays in the kernel fabric */
#define SL_FLOW_MODE_NORMAL 1 /* for the user-space dataplane; until it
			       * exists, carried like max and counted */

/* struct sl_fabric_flow.family */
#define SL_FLOW_FAMILY_ANY 0
#define SL_FLOW_FAMILY_IPV4 4
#define SL_FLOW_FAMILY_IPV6 6

/*
 * One rule of the flow table, as the program matches it. A packet matches
 * when every field matches:
 *   family  0 any, 4 IPv4 only, 6 IPv6 only;
 *   proto   0 any IP protocol, else the IP protocol number, where
 *           IPPROTO_ICMP (1) also matches ICMPv6 (58) in IPv6 packets;
 *   src/dst (address & mask) == the rule's address, in network byte order;
 *           IPv4 uses word 0 only (words 1-3 and their masks are zero);
 *   ports   sport_lo <= sport <= sport_hi, same for dport, host order.
 *           A packet without ports (not TCP/UDP, an IPv4 fragment other
 *           than the first, or an IPv6 packet with extension headers)
 *           matches only a rule whose ranges are both 0-65535.
 * Invariants (sl_flow_add): addr == addr & mask; lo <= hi; family is
 * non-zero when a mask is; id < SL_FLOW_SLOTS and unique in the table.
 */
struct sl_fabric_flow {
	__u32 src[4];
	__u32 src_mask[4];
	__u32 dst[4];
	__u32 dst_mask[4];
	__u16 sport_lo, sport_hi;
	__u16 dport_lo, dport_hi;
	__u8 family;
	__u8 proto;
	__u8 mode;   /* SL_FLOW_MODE_* */
	__u8 pad;
	__u32 prio;  /* lower first */
	__u32 id;    /* index into flow_hits */
	__u32 class; /* written to skb->mark */
};

/*
 * The one entry of "flow_ctl". The table in use is half `active` of
 * "flows": slots active * SL_FLOW_SLOTS + [0, n[active]), sorted by
 * (prio, insertion order); the first rule that matches wins. User space
 * writes a change into the other half and then flips `active` with one
 * map update, so the program never sees a half-written table. (A packet
 * still walking the old half when the next change rewrites it could see
 * a mixed table; changes come from one writer, microseconds apart at
 * least, while a walk takes nanoseconds.)
 */
struct sl_fabric_flow_ctl {
	__u32 active; /* 0 or 1 */
	__u32 n[2];   /* rules in each half, <= SL_FLOW_SLOTS */
	__u32 gen;    /* bumped by every change, for readers */
};

/* Per-CPU "flow_hits", index rule id; zeroed when an id is handed out. */
struct sl_fabric_flow_hits {
	__u64 packets;
	__u64 bytes;
};

/* ---- path compression */

/* Links in one compressed path at most; longer routes go hop by hop. */
#define SL_PATH_HOPS_MAX 64

/* Key of "paths". All bytes count (a hash key): zero the unused ones. */
struct sl_fabric_path_key {
	__u32 ifindex; /* the fabric port the packet enters on */
	__u32 family;  /* SL_FLOW_FAMILY_IPV4 or SL_FLOW_FAMILY_IPV6 */
	__u32 addr[4]; /* destination, network order; IPv4: addr[0] only */
};

/*
 * Value of "paths": where a packet to key.addr entering key.ifindex ends,
 * and the links it crosses on the way. Written by lib/fabric_path.c only.
 * Invariants: 2 <= hops <= SL_PATH_HOPS_MAX; ld[0] is the direction the
 * ingress port sends into; ld[i] for i >= hops are zero; no link on the
 * path has a shaper (a qdisc on a router would be skipped), a smaller MTU
 * than ld[0], or normal mode; the path follows the routes the nodes hold.
 */
struct sl_fabric_path {
	__u32 target_ifindex; /* fabric port whose peer is the last node's
			       * interface: the bpf_redirect_peer target */
	__u8 hops;            /* links crossed */
	__u8 flags;           /* zero */
	__u8 first_mac[6];    /* a packet must be sent to this Ethernet
			       * address (the first node's interface) */
	__u8 dmac[6];         /* written as Ethernet destination: the last
			       * node's interface */
	__u8 smac[6];         /* written as Ethernet source: the interface
			       * that sends on the last link */
	__u32 ld[SL_PATH_HOPS_MAX]; /* link * 2 + dir, in path order */
};

#endif
