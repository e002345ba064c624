/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sockredir.h - the data shared by bpf/sockredir.bpf.c (sockops + sk_msg
 * socket-to-socket redirection, max mode L4) and lib/sockredir.c.
 *
 * Only fixed-width kernel types, so one definition serves both sides.
 *
 * Maps:
 *   socks      sockhash  struct sl_sockredir_key -> established socket
 *   passed     LRU hash  struct sl_sockredir_key -> 1: this socket sent
 *                        through the TCP/IP stack once, never redirect it
 *   stats      pcpu      0 -> struct sl_sockredir_stats
 *   flows, flow_ctl      the fabric's flow table (bpf/fabric.h), shared with
 *                        the topology's fabric when its pins exist
 */
#ifndef SLUICE_BPF_SOCKREDIR_H
#define SLUICE_BPF_SOCKREDIR_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * A socket, named by its connection as that socket sees it. Addresses in
 * network byte order; an IPv4 address (also an IPv4-mapped IPv6 one) uses
 * word 0 and family 4, so that an AF_INET6 socket talking to IPv4 pairs
 * with an AF_INET peer. Ports in host byte order.
 *
 * The peer of the socket (family, L, R, lp, rp) is the one stored under
 * (family, R, L, rp, lp): the 4-tuple is the same from both ends when no
 * NAT sits between them, whatever namespace each end lives in. It is unique
 * within one topology (node addresses are), so each topology has its own
 * sockhash; loopback connections are never entered (two namespaces can
 * hold the same 127.0.0.1 tuple).
 */
struct sl_sockredir_key {
	__u32 local[4];
	__u32 remote[4];
	__u16 local_port;
	__u16 remote_port;
	__u32 family; /* 4 or 6 */
};

struct sl_sockredir_stats {
	__u64 established; /* sockops ESTABLISHED callbacks seen (TCP) */
	__u64 entered;     /* sockets put into "socks" */
	__u64 skip_normal; /* connection has a normal-mode direction */
	__u64 skip_local;  /* loopback or unsupported family */
	__u64 enter_fail;  /* bpf_sock_hash_update failed */
	__u64 msgs_redir;  /* sendmsg calls redirected into the peer */
	__u64 bytes_redir;
	__u64 msgs_pass;   /* sendmsg calls left to the TCP/IP stack */
	__u64 bytes_pass;
};

#endif
