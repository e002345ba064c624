/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fabric.h - the data shared by the fabric tc program (bpf/fabric.bpf.c) and
 * user space (lib/fabric.c): map values and flags.
 *
 * Only fixed-width kernel types, so one definition serves both sides: the BPF
 * side gets __u32 & co. from vmlinux.h, user space from <linux/types.h>.
 * These structs are the pinned maps' ABI: changing a size makes
 * sl_fabric_open() refuse maps pinned by an older build (value_size check).
 */
#ifndef SLUICE_BPF_FABRIC_H
#define SLUICE_BPF_FABRIC_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
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
	/* Zero. Room for max-mode settings (policer, loss) without changing
	 * the value size of pinned maps. */
	__u32 reserved[5];
};

/*
 * Value of the per-CPU "stats" array (index link * 2 + dir) and of the
 * one-entry per-CPU "global" array (drop_noport lives only there: a packet
 * from an unknown port has no link to charge).
 */
struct sl_fabric_stats {
	__u64 packets;     /* redirected */
	__u64 bytes;       /* skb->len of redirected packets (L2, GSO whole) */
	__u64 drop_down;   /* dropped: port not SL_PORT_UP */
	__u64 drop_noport; /* dropped: ingress ifindex not in "ports" */
};

#endif
