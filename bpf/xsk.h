/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xsk.h - the data shared by the normal-mode XDP program (bpf/xsk.bpf.c)
 * and user space (lib/xsk.c): map values and modes.
 *
 * One program instance is loaded per fabric network namespace, because its
 * maps are keyed by ifindex and ifindexes are per namespace. Maps:
 *   xsk_ports  hash      port ifindex -> struct sl_xsk_port
 *   xsks       xskmap    slot -> AF_XDP socket
 *   xsk_stats  pcpu arr  slot -> struct sl_xsk_stats
 * A slot is a small index that user space hands out per socket; it is not
 * the queue id, so many ports share one XSKMAP.
 */
#ifndef SLUICE_BPF_XSK_H
#define SLUICE_BPF_XSK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* struct sl_xsk_port.mode */
#define SL_XSK_MODE_REDIRECT 0 /* every frame to the port's socket */
#define SL_XSK_MODE_PASS 1     /* every frame on to the tc fabric (max mode) */
#define SL_XSK_MODE_CLASSIFY 2 /* reserved: the flow table decides per flow */

struct sl_xsk_port {
	__u32 slot; /* key in xsks and xsk_stats */
	__u32 mode; /* SL_XSK_MODE_* */
};

/* Every frame entering a port with an entry is counted once. */
struct sl_xsk_stats {
	__u64 redirected; /* handed to the socket */
	__u64 passed;	  /* left to the tc fabric */
	__u64 no_socket;  /* dropped: the slot holds no socket */
	__u64 reserved;
};

/*
 * Metadata in front of every redirected frame (XDP data_meta, which the
 * kernel copies into the UMEM in copy mode too): the CLOCK_MONOTONIC time
 * at which XDP saw the frame, so that the dataplane enqueues it at its
 * true arrival however late it polls. User space zeroes it after reading,
 * so a frame without metadata never shows a stale time.
 */
struct sl_xsk_meta {
	__u64 ts; /* ns, bpf_ktime_get_ns() */
};

#endif
