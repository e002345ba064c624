// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sockredir.bpf.c - max mode L4, same host: socket-to-socket redirection.
 *
 * sl_sockops (cgroup v2 sockops, attached to the topology's cgroup that every
 * process run in its nodes joins) sees each TCP socket of those processes
 * become established, on the connecting and on the accepting side, and
 * enters it into "socks" under its 4-tuple (bpf/sockredir.h explains the
 * key). sl_sk_msg (the sockhash's sk_msg verdict) runs on every sendmsg of
 * an entered socket and redirects the data straight into the receive queue
 * of the peer socket (BPF_F_INGRESS), when the peer is in "socks" too: both
 * ends are on this host, in any namespaces of this topology. The data then
 * skips the sender's and receiver's TCP/IP stacks and every emulated hop in
 * between; handshake, FIN and RST still travel the emulated path.
 *
 * A connection is entered only when the flow table (the fabric's, bpf/
 * fabric.h) puts both of its directions in max mode; a normal-mode rule on
 * either direction keeps the whole connection on the emulated path. The
 * decision is taken once, at establishment: a later rule change does not
 * move live connections.
 *
 * Ordering: data that a socket once sent through the stack may still be in
 * flight; if a later send were redirected it could overtake it (the
 * receiver reads the redirected queue first). So a socket that passes once
 * (peer not entered yet, e.g. the accepting side's ACK still on its way)
 * is remembered in "passed" and never redirected afterwards.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fabric.h"
#include "sockredir.h"

#define AF_INET 2
#define AF_INET6 10
#define SK_PASS_RET 1
#define SL_SOCKREDIR_DEFAULT_SOCKS 65536

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SL_SOCKREDIR_DEFAULT_SOCKS);
	__type(key, struct sl_sockredir_key);
	__type(value, __u64);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_SOCKREDIR_DEFAULT_SOCKS);
	__type(key, struct sl_sockredir_key);
	__type(value, __u8);
} passed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_sockredir_stats);
} stats SEC(".maps");

/* The fabric's flow table layout; lib/sockredir.c reuses the pinned maps
 * of the topology's fabric when they exist (else these stay empty: every
 * connection is max mode). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SL_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_fabric_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_fabric_flow_ctl);
} flow_ctl SEC(".maps");

static __always_inline struct sl_sockredir_stats *stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

/*
 * Fills the address half of a key from a context's fields (IPv4 or IPv6).
 * Returns 0, or -1 for loopback and families other than IPv4/IPv6.
 * An IPv4-mapped IPv6 address becomes plain IPv4.
 */
static __always_inline int fill_addrs(struct sl_sockredir_key *k, __u32 family,
				      __u32 l4, __u32 r4, const __u32 *l6,
				      const __u32 *r6)
{
	if (family == AF_INET) {
		k->family = SL_FLOW_FAMILY_IPV4;
		k->local[0] = l4;
		k->remote[0] = r4;
	} else if (family == AF_INET6) {
		if (l6[0] == 0 && l6[1] == 0 && l6[2] == bpf_htonl(0xffff) &&
		    r6[0] == 0 && r6[1] == 0 && r6[2] == bpf_htonl(0xffff)) {
			k->family = SL_FLOW_FAMILY_IPV4;
			k->local[0] = l6[3];
			k->remote[0] = r6[3];
		} else {
			k->family = SL_FLOW_FAMILY_IPV6;
			k->local[0] = l6[0];
			k->local[1] = l6[1];
			k->local[2] = l6[2];
			k->local[3] = l6[3];
			k->remote[0] = r6[0];
			k->remote[1] = r6[1];
			k->remote[2] = r6[2];
			k->remote[3] = r6[3];
			/* ::1 */
			if (!(l6[0] | l6[1] | l6[2]) &&
			    l6[3] == bpf_htonl(1))
				return -1;
			return 0;
		}
	} else {
		return -1;
	}
	/* 127.0.0.0/8 */
	if ((bpf_ntohl(k->local[0]) >> 24) == 127)
		return -1;
	return 0;
}

static __always_inline int addr_match(const __u32 *a, const __u32 *want,
				      const __u32 *mask)
{
	return ((a[0] & mask[0]) == want[0]) & ((a[1] & mask[1]) == want[1]) &
	       ((a[2] & mask[2]) == want[2]) & ((a[3] & mask[3]) == want[3]);
}

/* The mode of TCP traffic from (src, sport) to (dst, dport): the first
 * matching rule of the active half of the flow table, as the fabric
 * program decides it for a packet. */
static __always_inline int flow_mode(__u8 family, const __u32 *src,
				     const __u32 *dst, __u16 sport, __u16 dport)
{
	const struct sl_fabric_flow_ctl *ctl;
	const struct sl_fabric_flow *r;
	__u32 key = 0, base, n, i;

	ctl = bpf_map_lookup_elem(&flow_ctl, &key);
	if (!ctl)
		return SL_FLOW_MODE_MAX;
	base = (ctl->active & 1) * SL_FLOW_SLOTS;
	n = ctl->n[ctl->active & 1];
	for (i = 0; i < SL_FLOW_SLOTS; i++) {
		if (i >= n)
			break;
		key = base + i;
		r = bpf_map_lookup_elem(&flows, &key);
		if (!r)
			break;
		if (r->family && r->family != family)
			continue;
		if (r->proto && r->proto != 6 /* IPPROTO_TCP */)
			continue;
		if (!addr_match(src, r->src, r->src_mask) ||
		    !addr_match(dst, r->dst, r->dst_mask))
			continue;
		if (sport < r->sport_lo || sport > r->sport_hi ||
		    dport < r->dport_lo || dport > r->dport_hi)
			continue;
		return r->mode;
	}
	return SL_FLOW_MODE_MAX;
}

SEC("sockops")
int sl_sockops(struct bpf_sock_ops *ops)
{
	struct sl_sockredir_stats *st = stats_get();
	struct sl_sockredir_key k = {};
	__u32 l6[4], r6[4];

	if (ops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    ops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return SK_PASS_RET;
	if (st)
		st->established++;
	l6[0] = ops->local_ip6[0];
	l6[1] = ops->local_ip6[1];
	l6[2] = ops->local_ip6[2];
	l6[3] = ops->local_ip6[3];
	r6[0] = ops->remote_ip6[0];
	r6[1] = ops->remote_ip6[1];
	r6[2] = ops->remote_ip6[2];
	r6[3] = ops->remote_ip6[3];
	if (fill_addrs(&k, ops->family, ops->local_ip4, ops->remote_ip4, l6,
		       r6) < 0) {
		if (st)
			st->skip_local++;
		return SK_PASS_RET;
	}
	/* local_port: host order; remote_port: network order in the low
	 * 16 bits as the kernel exposes the 32-bit field (the same in
	 * sk_msg_md, see sl_sk_msg). */
	k.local_port = (__u16)ops->local_port;
	k.remote_port = bpf_ntohl(ops->remote_port) & 0xffff;
	if (flow_mode(k.family, k.local, k.remote, k.local_port,
		      k.remote_port) != SL_FLOW_MODE_MAX ||
	    flow_mode(k.family, k.remote, k.local, k.remote_port,
		      k.local_port) != SL_FLOW_MODE_MAX) {
		if (st)
			st->skip_normal++;
		return SK_PASS_RET;
	}
	/* A reused 4-tuple starts fresh. */
	bpf_map_delete_elem(&passed, &k);
	if (bpf_sock_hash_update(ops, &socks, &k, BPF_ANY) == 0) {
		if (st)
			st->entered++;
	} else if (st) {
		st->enter_fail++;
	}
	return SK_PASS_RET;
}

SEC("sk_msg")
int sl_sk_msg(struct sk_msg_md *msg)
{
	struct sl_sockredir_stats *st = stats_get();
	struct sl_sockredir_key self = {}, peer = {};
	__u32 l6[4], r6[4];
	__u32 size = msg->size;
	__u8 one = 1;

	l6[0] = msg->local_ip6[0];
	l6[1] = msg->local_ip6[1];
	l6[2] = msg->local_ip6[2];
	l6[3] = msg->local_ip6[3];
	r6[0] = msg->remote_ip6[0];
	r6[1] = msg->remote_ip6[1];
	r6[2] = msg->remote_ip6[2];
	r6[3] = msg->remote_ip6[3];
	if (fill_addrs(&self, msg->family, msg->local_ip4, msg->remote_ip4,
		       l6, r6) < 0)
		goto pass;
	self.local_port = (__u16)msg->local_port;
	self.remote_port = bpf_ntohl(msg->remote_port) & 0xffff;
	if (bpf_map_lookup_elem(&passed, &self))
		goto pass;
	peer.family = self.family;
	__builtin_memcpy(peer.local, self.remote, sizeof(peer.local));
	__builtin_memcpy(peer.remote, self.local, sizeof(peer.remote));
	peer.local_port = self.remote_port;
	peer.remote_port = self.local_port;
	if (bpf_msg_redirect_hash(msg, &socks, &peer, BPF_F_INGRESS) ==
	    SK_PASS_RET) {
		if (st) {
			st->msgs_redir++;
			st->bytes_redir += size;
		}
		return SK_PASS_RET;
	}
	bpf_map_update_elem(&passed, &self, &one, BPF_ANY);
pass:
	if (st) {
		st->msgs_pass++;
		st->bytes_pass += size;
	}
	return SK_PASS_RET;
}

char LICENSE[] SEC("license") = "GPL";
