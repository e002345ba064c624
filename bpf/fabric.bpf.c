// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fabric.bpf.c - the kernel fabric: the tc ingress program on every fabric
 * port of a topology's fabric namespace ("max mode", L3).
 *
 * An emulated link A <-> B is two veth pairs, A:eth0 <-> pA and pB <-> B:eth0,
 * with pA and pB in the fabric namespace. A packet that A sends enters pA;
 * this program looks pA up in "ports" and hands the packet straight to the
 * ingress of pB's peer, B:eth0, with bpf_redirect_peer(): one netns switch,
 * no second trip through a backlog queue, and GSO packets stay whole (XDP on
 * a veth would turn the sender's TSO off).
 *
 * On the way it applies the link direction's policy (bpf/fabric.h has the
 * order and the invariants): the flow table marks the packet with its class,
 * a token-bucket policer shared by all CPUs drops the excess, and random
 * loss drops a fraction.
 *
 * Path compression: when user space planned a path for the packet's
 * (ingress port, destination) in "paths" (lib/fabric_path.c), the program
 * applies the policy of every link on it in one bounded loop, lowers the
 * TTL by the routers it skips and redirects to the last node at once, so
 * 40 hops cost about what 2 do (~4 ns per extra link under test run).
 * Anything that does not qualify goes hop by hop, so the routers still
 * see, and answer, all the odd traffic (bpf/fabric.h lists the rules).
 *
 * The port is found by skb->ingress_ifindex (skb_iif). At tc ingress it
 * equals skb->ifindex: __netif_receive_skb_core() sets skb_iif from skb->dev
 * right before the ingress hook. It is chosen because BPF_PROG_TEST_RUN
 * copies ctx->ingress_ifindex into the skb as given, whereas ctx->ifindex
 * must name a device that exists, so every branch is testable without
 * interfaces.
 *
 * Counters are per-CPU and updated without atomics; user space sums them.
 * Headers are read with bpf_skb_load_bytes(), which works whatever part of
 * a GSO packet is linear and fails cleanly on a short packet.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fabric.h"

#define TC_ACT_SHOT 2
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58

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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SL_FABRIC_DEFAULT_LINKS);
	__type(key, __u32);
	__type(value, struct sl_fabric_policy_val);
} policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SL_FABRIC_DEFAULT_LINKS);
	__type(key, __u32);
	__type(value, struct sl_fabric_bucket);
} bucket SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_fabric_flow_hits);
} flow_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SL_FABRIC_DEFAULT_LINKS);
	__type(key, __u32);
	__type(value, __u32);
} ld_flags SEC(".maps");

/* Not preallocated: max_entries is a ceiling, memory follows the entries. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct sl_fabric_path_key);
	__type(value, struct sl_fabric_path);
} paths SEC(".maps");

/* What the flow table and path compression look at in a packet. */
struct pkt_key {
	__u32 src[4];
	__u32 dst[4];
	__u16 sport, dport;
	__u8 family;
	__u8 proto;     /* ICMPv6 folded into IPPROTO_ICMP */
	__u8 has_ports;
	__u8 ttl;       /* TTL or hop limit */
	__u8 plain;     /* a router forwards it by its address alone: no
			 * IPv4 options, no IPv6 hop-by-hop header or
			 * link-local source */
	__u8 ttl_proto[2]; /* IPv4 bytes 8-9 as they are (checksum update) */
	__u32 l4;       /* offset of the L4 header; 0: none (a fragment) */
};

/* 0 and *k filled (ports not yet) when the packet is IPv4 or IPv6 with a
 * whole IP header; -1 otherwise (ARP, short or malformed: such packets go
 * unclassified and uncompressed). */
static __always_inline int parse(struct __sk_buff *skb, struct pkt_key *k)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
			return -1;
		if (ip.version != 4 || ip.ihl < 5)
			return -1;
		k->family = SL_FLOW_FAMILY_IPV4;
		k->proto = ip.protocol;
		k->src[0] = ip.saddr;
		k->dst[0] = ip.daddr;
		k->ttl = ip.ttl;
		k->ttl_proto[0] = ip.ttl;
		k->ttl_proto[1] = ip.protocol;
		k->plain = ip.ihl == 5;
		/* only the first fragment carries the L4 header */
		if (!(ip.frag_off & bpf_htons(0x1fff)))
			k->l4 = ETH_HLEN + ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) < 0)
			return -1;
		if (ip6.version != 6)
			return -1;
		k->family = SL_FLOW_FAMILY_IPV6;
		k->proto = ip6.nexthdr;
		__builtin_memcpy(k->src, &ip6.saddr, 16);
		__builtin_memcpy(k->dst, &ip6.daddr, 16);
		k->ttl = ip6.hop_limit;
		/* fe80::/10 sources are never forwarded; nexthdr 0 is the
		 * hop-by-hop options header every router reads */
		k->plain = k->proto != 0 &&
			   (k->src[0] & bpf_htonl(0xffc00000)) !=
				   bpf_htonl(0xfe800000);
		if (k->proto == IPPROTO_ICMPV6)
			k->proto = IPPROTO_ICMP;
		k->l4 = ETH_HLEN + sizeof(ip6);
	} else {
		return -1;
	}
	return 0;
}

/* The L4 ports, read only when a flow table needs them. */
static __always_inline void parse_ports(struct __sk_buff *skb,
					struct pkt_key *k)
{
	__u16 ports[2];

	if (k->l4 && (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) &&
	    bpf_skb_load_bytes(skb, k->l4, ports, sizeof(ports)) == 0) {
		k->sport = bpf_ntohs(ports[0]);
		k->dport = bpf_ntohs(ports[1]);
		k->has_ports = 1;
	}
}

static __always_inline int addr_match(const __u32 *a, const __u32 *want,
				      const __u32 *mask)
{
	return ((a[0] & mask[0]) == want[0]) & ((a[1] & mask[1]) == want[1]) &
	       ((a[2] & mask[2]) == want[2]) & ((a[3] & mask[3]) == want[3]);
}

static __always_inline int rule_match(const struct sl_fabric_flow *r,
				      const struct pkt_key *k)
{
	if (r->family && r->family != k->family)
		return 0;
	if (r->proto && r->proto != k->proto)
		return 0;
	if (!addr_match(k->src, r->src, r->src_mask) ||
	    !addr_match(k->dst, r->dst, r->dst_mask))
		return 0;
	if (!k->has_ports)
		return r->sport_lo == 0 && r->sport_hi == 0xffff &&
		       r->dport_lo == 0 && r->dport_hi == 0xffff;
	return k->sport >= r->sport_lo && k->sport <= r->sport_hi &&
	       k->dport >= r->dport_lo && k->dport <= r->dport_hi;
}

struct match_ctx {
	const struct pkt_key *k;
	__u32 base, n;
	const struct sl_fabric_flow *hit;
};

/* Rule i of the active table against the packet (a bpf_loop callback). */
static long match_rule(__u64 i, void *arg)
{
	struct match_ctx *c = arg;
	const struct sl_fabric_flow *r;
	__u32 key;

	if (i >= c->n || i >= SL_FLOW_SLOTS)
		return 1;
	key = c->base + (__u32)i;
	r = bpf_map_lookup_elem(&flows, &key);
	if (!r)
		return 1;
	if (rule_match(r, c->k)) {
		c->hit = r;
		return 1;
	}
	return 0;
}

/* The first matching rule of the active table, or NULL. k is the parsed
 * IP packet. bpf_loop keeps the verifier to one rule's worth of states. */
static __always_inline const struct sl_fabric_flow *
classify(struct __sk_buff *skb, struct pkt_key *k)
{
	const struct sl_fabric_flow_ctl *ctl;
	struct match_ctx mc;
	__u32 key = 0, n;

	ctl = bpf_map_lookup_elem(&flow_ctl, &key);
	if (!ctl)
		return NULL;
	n = ctl->n[ctl->active & 1];
	/* An empty table costs nothing more: no L4 header is read. */
	if (!n)
		return NULL;
	parse_ports(skb, k);
	mc.k = k;
	mc.base = (ctl->active & 1) * SL_FLOW_SLOTS;
	mc.n = n;
	mc.hit = NULL;
	bpf_loop(n < SL_FLOW_SLOTS ? n : SL_FLOW_SLOTS, match_rule, &mc, 0);
	return mc.hit;
}

/*
 * The policer. 1: the packet fits (tokens taken), 0: drop. Token
 * arithmetic is in nanobits (bpf/fabric.h); the bucket is refilled from the
 * clock before the packet is charged.
 */
static __always_inline int police(__u32 ld,
				  const struct sl_fabric_policy_val *pol,
				  __u32 len)
{
	struct sl_fabric_bucket *b;
	__u64 rate = pol->rate_bps, fill_ns = pol->fill_ns, now, elapsed, add;
	__u32 burst = pol->burst;
	__s64 cap, cost, need;
	int pass = 0;

	b = bpf_map_lookup_elem(&bucket, &ld);
	if (!b)
		return 1;
	/* Bounded operands: |tokens|, cap and cost stay below 2^63. */
	if (burst > SL_POLICER_BURST_MAX)
		burst = SL_POLICER_BURST_MAX;
	if (len > SL_POLICER_BURST_MAX)
		len = SL_POLICER_BURST_MAX;
	cap = (__s64)burst * (__s64)SL_NBIT_PER_BYTE;
	cost = (__s64)len * (__s64)SL_NBIT_PER_BYTE;
	need = cost < cap ? cost : cap;
	now = bpf_ktime_get_ns(); /* no helper calls under the lock */

	bpf_spin_lock(&b->lock);
	elapsed = now > b->last_ns ? now - b->last_ns : 0;
	/* With elapsed < fill_ns, elapsed * rate < cap + rate: no wrap. The
	 * room is compared unsigned: cap - tokens lies in [0, 2 cap]. */
	add = elapsed * rate;
	if (!b->last_ns || elapsed >= fill_ns || b->tokens >= cap ||
	    add >= (__u64)cap - (__u64)b->tokens)
		b->tokens = cap;
	else
		b->tokens += (__s64)add;
	/* CPUs read the clock before they queue for the lock, so a later
	 * holder may bring an earlier time: the refill time never goes
	 * back, or the next refill would credit the same interval twice. */
	if (now > b->last_ns)
		b->last_ns = now;
	if (b->tokens >= need) {
		b->tokens -= cost;
		pass = 1;
	}
	bpf_spin_unlock(&b->lock);
	return pass;
}

/* 1 with probability ppm / 1e6: a uniform 32-bit draw scaled to [0, 1e6). */
static __always_inline int lose(__u32 ppm)
{
	return (((__u64)bpf_get_prandom_u32() * 1000000) >> 32) < ppm;
}

/*
 * Policy of one link direction ld for a packet of len bytes: 0 passes,
 * else the drop, counted on ld. Shared by the hop-by-hop path and every
 * hop of a compressed one, so both judge a packet alike.
 */
static __always_inline int link_policy(__u32 ld, struct sl_fabric_stats *st,
				       __u32 len)
{
	const struct sl_fabric_policy_val *pol;

	pol = bpf_map_lookup_elem(&policy, &ld);
	if (!pol)
		return 0;
	if (pol->rate_bps && !police(ld, pol, len)) {
		if (st)
			st->drop_policer++;
		return TC_ACT_SHOT;
	}
	if (pol->loss_ppm && lose(pol->loss_ppm)) {
		if (st)
			st->drop_loss++;
		return TC_ACT_SHOT;
	}
	return 0;
}

struct hop_ctx {
	const struct sl_fabric_path *path;
	struct sl_fabric_flow_hits *h; /* the matched rule's counters */
	__u32 len;
	int verdict; /* TC_ACT_SHOT once a link drops */
};

/* One link of a compressed path (a bpf_loop callback): its state, the
 * rule's counters past the first link, its policy and its counters. */
static long path_hop(__u64 i, void *arg)
{
	struct hop_ctx *c = arg;
	struct sl_fabric_stats *st;
	__u32 ld, *fl;

	if (i >= SL_PATH_HOPS_MAX)
		return 1;
	ld = c->path->ld[i];
	st = bpf_map_lookup_elem(&stats, &ld);
	fl = bpf_map_lookup_elem(&ld_flags, &ld);
	if (!fl || !(*fl & SL_PORT_UP)) {
		if (st)
			st->drop_down++;
		c->verdict = TC_ACT_SHOT;
		return 1;
	}
	if (c->h && i) {
		c->h->packets++;
		c->h->bytes += c->len;
	}
	if (link_policy(ld, st, c->len)) {
		c->verdict = TC_ACT_SHOT;
		return 1;
	}
	if (st) {
		st->packets++;
		st->bytes += c->len;
		st->compressed++;
	}
	return 0;
}

/*
 * The compressed path of an IP packet entering port `in`, if it has one:
 * returns the verdict, or -1 to go hop by hop. bpf/fabric.h says what
 * qualifies and how the links are charged. hit: the flow rule the packet
 * matched (already counted for the first link), or NULL.
 */
static __always_inline int compressed(struct __sk_buff *skb, __u32 in,
				      struct pkt_key *k,
				      const struct sl_fabric_flow *hit)
{
	struct sl_fabric_path_key pk = {};
	const struct sl_fabric_path *path;
	struct sl_fabric_flow_hits *h = NULL;
	struct sl_fabric_stats *st;
	struct hop_ctx hc;
	__u8 eth[12], routers, ttl;
	__u32 len = skb->len, key, hops;

	if (!k->plain)
		return -1;
	pk.ifindex = in;
	pk.family = k->family;
	__builtin_memcpy(pk.addr, k->dst, sizeof(pk.addr));
	path = bpf_map_lookup_elem(&paths, &pk);
	if (!path)
		return -1;
	hops = path->hops;
	if (hops < 2 || hops > SL_PATH_HOPS_MAX)
		return -1;
	/* every router on the way needs TTL > 1 before it forwards */
	routers = (__u8)(hops - 1);
	if (k->ttl <= routers)
		return -1;
	if (bpf_skb_load_bytes(skb, 0, eth, 6) < 0 ||
	    ((eth[0] ^ path->first_mac[0]) | (eth[1] ^ path->first_mac[1]) |
	     (eth[2] ^ path->first_mac[2]) | (eth[3] ^ path->first_mac[3]) |
	     (eth[4] ^ path->first_mac[4]) | (eth[5] ^ path->first_mac[5])))
		return -1;
	if (hit) {
		key = hit->id;
		h = bpf_map_lookup_elem(&flow_hits, &key);
	}

	hc.path = path;
	hc.h = h;
	hc.len = len;
	hc.verdict = 0;
	/* bpf_loop: the verifier checks one hop, not SL_PATH_HOPS_MAX of them
	 * (an unrolled loop made it walk ~280k instructions, half a second
	 * of every bring-up) */
	bpf_loop(hops, path_hop, &hc, 0);
	if (hc.verdict)
		return hc.verdict;
	key = 0;
	st = bpf_map_lookup_elem(&global, &key);
	if (st)
		st->compressed++;

	ttl = k->ttl - routers;
	if (k->family == SL_FLOW_FAMILY_IPV4) {
		__u8 old[2] = { k->ttl_proto[0], k->ttl_proto[1] };
		__u8 new[2] = { ttl, k->ttl_proto[1] };
		__u16 o, n;

		__builtin_memcpy(&o, old, 2);
		__builtin_memcpy(&n, new, 2);
		if (bpf_l3_csum_replace(skb, ETH_HLEN + 10, o, n, 2) < 0 ||
		    bpf_skb_store_bytes(skb, ETH_HLEN + 8, &ttl, 1, 0) < 0)
			return TC_ACT_SHOT;
	} else if (bpf_skb_store_bytes(skb, ETH_HLEN + 7, &ttl, 1,
				       BPF_F_RECOMPUTE_CSUM) < 0) {
		return TC_ACT_SHOT;
	}
	__builtin_memcpy(eth, path->dmac, 6);
	__builtin_memcpy(eth + 6, path->smac, 6);
	if (bpf_skb_store_bytes(skb, 0, eth, 12, 0) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect_peer(path->target_ifindex, 0);
}

SEC("tc")
int sl_fabric_ingress(struct __sk_buff *skb)
{
	const struct sl_fabric_flow *r = NULL;
	struct sl_fabric_flow_hits *h;
	struct sl_fabric_stats *st;
	struct sl_fabric_port *p;
	struct pkt_key k = {};
	__u32 key = skb->ingress_ifindex, in = key, ld, id;
	int ip, ret;

	p = bpf_map_lookup_elem(&ports, &key);
	if (!p) {
		key = 0;
		st = bpf_map_lookup_elem(&global, &key);
		if (st)
			st->drop_noport++;
		return TC_ACT_SHOT;
	}

	/* A link outside the stats array (user space prevents it) still
	 * forwards; it only goes uncounted and unpoliced. */
	ld = p->link * 2 + (p->dir & 1);
	st = bpf_map_lookup_elem(&stats, &ld);

	if (!(p->flags & SL_PORT_UP)) {
		if (st)
			st->drop_down++;
		return TC_ACT_SHOT;
	}

	ip = parse(skb, &k) == 0;
	if (ip)
		r = classify(skb, &k);
	if (r) {
		skb->mark = r->class;
		id = r->id;
		h = bpf_map_lookup_elem(&flow_hits, &id);
		if (h) {
			h->packets++;
			h->bytes += skb->len;
		}
		if (r->mode == SL_FLOW_MODE_NORMAL && st)
			st->normal++;
	}

	if (ip && !(r && r->mode == SL_FLOW_MODE_NORMAL)) {
		ret = compressed(skb, in, &k, r);
		if (ret >= 0)
			return ret;
	}

	if (link_policy(ld, st, skb->len))
		return TC_ACT_SHOT;
	if (st) {
		st->packets++;
		st->bytes += skb->len;
	}
	return bpf_redirect_peer(p->peer_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
