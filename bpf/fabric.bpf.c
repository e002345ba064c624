// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fabric.bpf.c - the kernel fabric: the tc ingress program on every fabric
 * port of a topology's fabric namespace.
 *
 * An emulated link A <-> B is two veth pairs, A:eth0 <-> pA and pB <-> B:eth0,
 * with pA and pB in the fabric namespace. A packet that A sends enters pA;
 * this program looks pA up in "ports" and hands the packet straight to the
 * ingress of pB's peer, B:eth0, with bpf_redirect_peer(): one netns switch,
 * no second trip through a backlog queue, and GSO packets stay whole (XDP on
 * a veth would turn the sender's TSO off).
 *
 * The port is found by skb->ingress_ifindex (skb_iif). At tc ingress it
 * equals skb->ifindex: __netif_receive_skb_core() sets skb_iif from skb->dev
 * right before the ingress hook. It is chosen because BPF_PROG_TEST_RUN
 * copies ctx->ingress_ifindex into the skb as given, whereas ctx->ifindex
 * must name a device that exists, so every branch is testable without
 * interfaces.
 *
 * Counters are per-CPU and updated without atomics; user space sums them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "fabric.h"

#define TC_ACT_SHOT 2

/* Default sizes; lib/fabric.c sets them from the topology before load. */
#define SL_FABRIC_DEFAULT_LINKS 32768

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * SL_FABRIC_DEFAULT_LINKS);
	__type(key, __u32);
	__type(value, struct sl_fabric_port);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * SL_FABRIC_DEFAULT_LINKS);
	__type(key, __u32);
	__type(value, struct sl_fabric_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_fabric_stats);
} global SEC(".maps");

SEC("tc")
int sl_fabric_ingress(struct __sk_buff *skb)
{
	struct sl_fabric_stats *st;
	struct sl_fabric_port *p;
	__u32 key = skb->ingress_ifindex;

	p = bpf_map_lookup_elem(&ports, &key);
	if (!p) {
		key = 0;
		st = bpf_map_lookup_elem(&global, &key);
		if (st)
			st->drop_noport++;
		return TC_ACT_SHOT;
	}

	/* A link outside the stats array (user space prevents it) still
	 * forwards; it only goes uncounted. */
	key = p->link * 2 + (p->dir & 1);
	st = bpf_map_lookup_elem(&stats, &key);

	if (!(p->flags & SL_PORT_UP)) {
		if (st)
			st->drop_down++;
		return TC_ACT_SHOT;
	}
	if (st) {
		st->packets++;
		st->bytes += skb->len;
	}
	return bpf_redirect_peer(p->peer_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
