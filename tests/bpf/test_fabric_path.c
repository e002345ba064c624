// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_fabric_path.c - path compression (include/sluice/fabric_path.h):
 *   - the program under BPF_PROG_TEST_RUN on a 5-link path: TTL / hop
 *     limit lowered by hops - 1 with a valid IPv4 checksum, Ethernet
 *     addresses rewritten, every link counted once, a down link, a policer
 *     and random loss on the path dropping at their link (earlier links
 *     counted), and every case that must go hop by hop instead (TTL too
 *     small, non-IP, another Ethernet destination, IPv4 options, IPv6
 *     hop-by-hop header or link-local source, a normal-mode flow rule);
 *   - the planner against generated topologies: exact paths, truncation
 *     before a shaper, a smaller MTU or a normal-mode link, the hop cap,
 *     the capacity, ECMP choices that follow the routes;
 *   - sl_fabric_paths_build: stale entries removed, input checks;
 *   - end to end between namespaces: a datagram delivered straight to the
 *     last node with its TTL lowered, and stopped by a link set down.
 *
 * Runs as root. Pins go to /sys/fs/bpf/sluice-test-path-<pid>; namespaces
 * are anonymous (held by fds), so nothing outlives the process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sluice/addr.h>
#include <sluice/fabric.h>
#include <sluice/fabric_path.h>
#include <sluice/flow.h>
#include <sluice/net.h>
#include <sluice/route.h>
#include <sluice/topo.h>

static char pin_dir[64];
static int orig_ns = -1;

/* The test path: links 0..4 in direction 0, entering port 100 (link 0,
 * side 0) and leaving through port 109 (link 4, side 1), as bring-up
 * numbers them (sl_port_ifindex). */
#define HOPS 5
#define IN_PORT 100
#define OUT_PORT 109
#define DST4 "10.0.0.41"
#define DST6 "fd00::41"

static const uint8_t first_mac[6] = { 0x02, 0x5c, 0, 1, 0, 0 };
static const uint8_t dmac[6] = { 0x02, 0x5c, 0, 5, 0, 0 };
static const uint8_t smac[6] = { 0x02, 0x5c, 0, 4, 0, 1 };
static const uint8_t host_mac[6] = { 0x02, 0x5c, 0, 0, 0, 0 };

/* ---- fabric */

static struct sl_fabric *make_fabric(uint32_t max_links)
{
	struct sl_err err = { "" };
	struct sl_fabric *f = sl_fabric_create(pin_dir, max_links, &err);

	if (!f)
		print_message("# sl_fabric_create: %s\n", err.msg);
	assert_non_null(f);
	return f;
}

static void drop_fabric(struct sl_fabric *f)
{
	sl_fabric_free(f);
	assert_int_equal(sl_fabric_unpin(pin_dir, NULL), 0);
}

static void set_port(struct sl_fabric *f, uint32_t link, int side,
		     uint8_t flags)
{
	struct sl_fabric_port p;
	struct sl_err err = { "" };

	memset(&p, 0, sizeof(p));
	p.peer_ifindex = (uint32_t)sl_port_ifindex(link, !side);
	p.link = link;
	p.dir = (uint8_t)side;
	p.flags = flags;
	assert_int_equal(sl_fabric_port_set(f, (uint32_t)sl_port_ifindex(link, side),
					    &p, &err), 0);
}

static struct sl_fabric_path_key key4(uint32_t ifindex, const char *dst)
{
	struct sl_fabric_path_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = ifindex;
	k.family = SL_FLOW_FAMILY_IPV4;
	assert_int_equal(inet_pton(AF_INET, dst, k.addr), 1);
	return k;
}

static struct sl_fabric_path_key key6(uint32_t ifindex, const char *dst)
{
	struct sl_fabric_path_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = ifindex;
	k.family = SL_FLOW_FAMILY_IPV6;
	assert_int_equal(inet_pton(AF_INET6, dst, k.addr), 1);
	return k;
}

static struct sl_fabric_path test_path(void)
{
	struct sl_fabric_path p;
	uint32_t i;

	memset(&p, 0, sizeof(p));
	p.target_ifindex = OUT_PORT;
	p.hops = HOPS;
	memcpy(p.first_mac, first_mac, 6);
	memcpy(p.dmac, dmac, 6);
	memcpy(p.smac, smac, 6);
	for (i = 0; i < HOPS; i++)
		p.ld[i] = 2 * i; /* link i, dir 0 */
	return p;
}

/* A fabric with the ports of links 0..4 up and the test path to DST4
 * and DST6 from IN_PORT. */
static struct sl_fabric *path_fabric(void)
{
	struct sl_fabric *f = make_fabric(8);
	struct sl_fabric_path p = test_path();
	struct sl_fabric_path_key k;
	struct sl_err err = { "" };
	uint32_t l;

	for (l = 0; l < HOPS; l++) {
		set_port(f, l, 0, SL_PORT_UP);
		set_port(f, l, 1, SL_PORT_UP);
	}
	k = key4(IN_PORT, DST4);
	if (sl_fabric_path_set(f, &k, &p, &err))
		print_message("# %s\n", err.msg);
	assert_int_equal(sl_fabric_path_set(f, &k, &p, &err), 0);
	k = key6(IN_PORT, DST6);
	assert_int_equal(sl_fabric_path_set(f, &k, &p, &err), 0);
	return f;
}

/* ---- packets */

struct pkt {
	uint16_t align; /* the IP header 4-aligned after 14 bytes */
	uint8_t data[256];
	uint32_t len;
};

static void eth(struct pkt *p, const uint8_t *dst, uint16_t proto)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->data, dst, 6);
	memcpy(p->data + 6, host_mac, 6);
	p->data[12] = (uint8_t)(proto >> 8);
	p->data[13] = (uint8_t)proto;
	p->len = ETH_HLEN;
}

static uint16_t ip_csum(const void *hdr, size_t len)
{
	const uint8_t *b = hdr;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* UDP over IPv4 to dst with ttl, 32 bytes of payload; ihl 6 adds a NOP
 * option word. */
static void pkt4(struct pkt *p, const char *dst, uint8_t ttl, int ihl)
{
	struct iphdr *ip;
	struct udphdr *u;
	uint32_t hl = (uint32_t)ihl * 4;

	eth(p, first_mac, ETH_P_IP);
	ip = (struct iphdr *)(p->data + ETH_HLEN);
	ip->version = 4;
	ip->ihl = (unsigned)ihl & 0xf;
	ip->ttl = ttl;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)(hl + sizeof(*u) + 32));
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", &ip->saddr), 1);
	assert_int_equal(inet_pton(AF_INET, dst, &ip->daddr), 1);
	if (ihl > 5)
		memset(p->data + ETH_HLEN + 20, 1, hl - 20); /* NOPs */
	ip->check = htons(ip_csum(ip, hl));
	u = (struct udphdr *)(p->data + ETH_HLEN + hl);
	u->source = htons(4000);
	u->dest = htons(5000);
	u->len = htons(sizeof(*u) + 32);
	memset((uint8_t *)(u + 1), 0xab, 32);
	p->len = ETH_HLEN + hl + sizeof(*u) + 32;
}

static void pkt6(struct pkt *p, const char *src, const char *dst,
		 uint8_t hlim, uint8_t nexthdr)
{
	struct ipv6hdr *ip;
	struct udphdr *u;

	eth(p, first_mac, ETH_P_IPV6);
	ip = (struct ipv6hdr *)(p->data + ETH_HLEN);
	ip->version = 6;
	ip->hop_limit = hlim;
	ip->nexthdr = nexthdr;
	ip->payload_len = htons(sizeof(*u) + 32);
	assert_int_equal(inet_pton(AF_INET6, src, &ip->saddr), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, &ip->daddr), 1);
	u = (struct udphdr *)(ip + 1);
	u->source = htons(4000);
	u->dest = htons(5000);
	u->len = htons(sizeof(*u) + 32);
	p->len = ETH_HLEN + sizeof(*ip) + sizeof(*u) + 32;
}

struct out {
	int verdict;
	uint32_t mark;
	uint8_t data[256];
	uint32_t len;
};

/* Runs the program once on p as if it entered IN_PORT. */
static struct out run(struct sl_fabric *f, const struct pkt *p)
{
	struct __sk_buff ctx;
	struct out o;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->data,
		    .data_size_in = p->len, .data_out = o.data,
		    .data_size_out = sizeof(o.data), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
		    .ctx_size_out = sizeof(ctx), .repeat = 1);

	memset(&o, 0, sizeof(o));
	memset(&ctx, 0, sizeof(ctx));
	ctx.ingress_ifindex = IN_PORT;
	assert_int_equal(bpf_prog_test_run_opts(sl_fabric_prog_fd(f), &opts),
			 0);
	o.verdict = (int)opts.retval;
	o.mark = ctx.mark;
	o.len = opts.data_size_out;
	return o;
}

static struct sl_fabric_stats st(struct sl_fabric *f, uint32_t link,
				 uint32_t dir)
{
	struct sl_fabric_stats s;

	assert_int_equal(sl_fabric_stats_get(f, link, dir, &s, NULL), 0);
	return s;
}

static uint64_t global_compressed(struct sl_fabric *f)
{
	struct sl_fabric_stats g;

	assert_int_equal(sl_fabric_global_get(f, &g, NULL), 0);
	return g.compressed;
}

/* Links 0..n-1 (dir 0) carried `packets` packets, compressed of them. */
static void expect_links(struct sl_fabric *f, uint32_t from, uint32_t to,
			 uint64_t packets, uint64_t compressed)
{
	uint32_t l;

	for (l = from; l < to; l++) {
		struct sl_fabric_stats s = st(f, l, 0);

		if (s.packets != packets || s.compressed != compressed)
			print_message("# link %u: packets %llu compressed %llu\n",
				      l, (unsigned long long)s.packets,
				      (unsigned long long)s.compressed);
		assert_int_equal(s.packets, packets);
		assert_int_equal(s.compressed, compressed);
		assert_int_equal(st(f, l, 1).packets, 0);
	}
}

/* The packet came out as the hop-by-hop path leaves it: untouched. */
static void expect_hop_by_hop(struct sl_fabric *f, const struct pkt *p)
{
	struct out o = run(f, p);

	assert_int_equal(o.verdict, TC_ACT_REDIRECT);
	assert_int_equal(o.len, p->len);
	assert_memory_equal(o.data, p->data, p->len);
	expect_links(f, 0, 1, 1, 0);
	expect_links(f, 1, HOPS, 0, 0);
	assert_int_equal(global_compressed(f), 0);
}

/* ---- the program */

static void test_compressed_ipv4(void **state)
{
	struct sl_fabric *f = path_fabric();
	struct iphdr *ip;
	struct pkt p;
	struct out o;
	int i;

	pkt4(&p, DST4, 64, 5);
	for (i = 1; i <= 2; i++) {
		o = run(f, &p);
		assert_int_equal(o.verdict, TC_ACT_REDIRECT);
		assert_int_equal(o.len, p.len);
		assert_memory_equal(o.data, dmac, 6);
		assert_memory_equal(o.data + 6, smac, 6);
		ip = (struct iphdr *)(o.data + ETH_HLEN);
		assert_int_equal(ip->ttl, 64 - (HOPS - 1));
		assert_int_equal(ip_csum(ip, 20), 0); /* valid checksum */
		/* nothing else changed: TTL, checksum and MACs only */
		assert_memory_equal(o.data + 12, p.data + 12, 10);
		assert_memory_equal(o.data + ETH_HLEN + 12,
				    p.data + ETH_HLEN + 12, p.len - ETH_HLEN - 12);
		expect_links(f, 0, HOPS, (uint64_t)i, (uint64_t)i);
		assert_int_equal(st(f, 4, 0).bytes, (uint64_t)i * p.len);
		assert_int_equal(global_compressed(f), (uint64_t)i);
	}
	drop_fabric(f);
}

static void test_compressed_ipv6(void **state)
{
	struct sl_fabric *f = path_fabric();
	struct ipv6hdr *ip;
	struct pkt p;
	struct out o;

	pkt6(&p, "fd00::1", DST6, 64, IPPROTO_UDP);
	o = run(f, &p);
	assert_int_equal(o.verdict, TC_ACT_REDIRECT);
	assert_memory_equal(o.data, dmac, 6);
	assert_memory_equal(o.data + 6, smac, 6);
	ip = (struct ipv6hdr *)(o.data + ETH_HLEN);
	assert_int_equal(ip->hop_limit, 64 - (HOPS - 1));
	assert_memory_equal(o.data + ETH_HLEN + 8, p.data + ETH_HLEN + 8,
			    p.len - ETH_HLEN - 8);
	expect_links(f, 0, HOPS, 1, 1);
	drop_fabric(f);
}

/* The smallest TTL that crosses HOPS - 1 routers is HOPS; one less goes
 * hop by hop, so that the router where it expires answers. */
static void test_ttl_boundary(void **state)
{
	struct sl_fabric *f = path_fabric();
	struct pkt p;
	struct out o;

	pkt4(&p, DST4, HOPS - 1, 5);
	expect_hop_by_hop(f, &p);
	pkt4(&p, DST4, HOPS, 5);
	o = run(f, &p);
	assert_int_equal(o.verdict, TC_ACT_REDIRECT);
	assert_int_equal(((struct iphdr *)(o.data + ETH_HLEN))->ttl, 1);
	pkt6(&p, "fd00::1", DST6, HOPS - 1, IPPROTO_UDP);
	o = run(f, &p);
	assert_memory_equal(o.data, p.data, p.len);
	drop_fabric(f);
}

static void test_down_link_drops(void **state)
{
	struct sl_fabric *f = path_fabric();
	struct pkt p;

	pkt4(&p, DST4, 64, 5);
	set_port(f, 2, 0, 0); /* link 2, direction 0 down */
	assert_int_equal(run(f, &p).verdict, TC_ACT_SHOT);
	expect_links(f, 0, 2, 1, 1);
	assert_int_equal(st(f, 2, 0).drop_down, 1);
	expect_links(f, 2, HOPS, 0, 0);
	assert_int_equal(global_compressed(f), 0);
	/* the other direction going down does not matter */
	set_port(f, 2, 0, SL_PORT_UP);
	set_port(f, 3, 1, 0);
	assert_int_equal(run(f, &p).verdict, TC_ACT_REDIRECT);
	expect_links(f, 0, 2, 2, 2);
	expect_links(f, 2, HOPS, 1, 1);
	/* a deleted port is a down one */
	assert_int_equal(sl_fabric_port_del(f, (uint32_t)sl_port_ifindex(4, 0),
					    NULL), 0);
	assert_int_equal(run(f, &p).verdict, TC_ACT_SHOT);
	assert_int_equal(st(f, 4, 0).drop_down, 1);
	drop_fabric(f);
}

static void test_policer_and_loss_on_path(void **state)
{
	struct sl_fabric *f = path_fabric();
	struct sl_fabric_policy pol = { .policer_bps = 1000, .burst = 100 };
	struct sl_fabric_policy loss = { .loss_ppm = 1000000 };
	struct pkt p;

	pkt4(&p, DST4, 64, 5);
	/* a packet larger than the burst passes a full bucket once */
	assert_int_equal(sl_fabric_policy_set(f, 3, 0, &pol, NULL), 0);
	assert_int_equal(run(f, &p).verdict, TC_ACT_REDIRECT);
	assert_int_equal(run(f, &p).verdict, TC_ACT_SHOT);
	expect_links(f, 0, 3, 2, 2);
	assert_int_equal(st(f, 3, 0).packets, 1);
	assert_int_equal(st(f, 3, 0).drop_policer, 1);
	assert_int_equal(st(f, 4, 0).packets, 1);
	assert_int_equal(global_compressed(f), 1);
	/* loss on the first link of the path */
	memset(&pol, 0, sizeof(pol));
	assert_int_equal(sl_fabric_policy_set(f, 3, 0, &pol, NULL), 0);
	assert_int_equal(sl_fabric_policy_set(f, 0, 0, &loss, NULL), 0);
	assert_int_equal(run(f, &p).verdict, TC_ACT_SHOT);
	assert_int_equal(st(f, 0, 0).drop_loss, 1);
	assert_int_equal(st(f, 1, 0).packets, 2);
	drop_fabric(f);
}

static void test_non_ip_and_odd_packets_go_hop_by_hop(void **state)
{
	static const uint8_t other[6] = { 0x02, 0x5c, 0, 9, 0, 0 };
	struct sl_fabric *f;
	struct pkt p;
	int i;

	for (i = 0; i < 7; i++) {
		f = path_fabric();
		switch (i) {
		case 0: /* ARP */
			eth(&p, first_mac, ETH_P_ARP);
			memset(p.data + ETH_HLEN, 0, 28);
			p.len += 28;
			break;
		case 1: /* another Ethernet destination */
			pkt4(&p, DST4, 64, 5);
			memcpy(p.data, other, 6);
			break;
		case 2: /* IPv4 options */
			pkt4(&p, DST4, 64, 6);
			break;
		case 3: /* IPv6 link-local source */
			pkt6(&p, "fe80::1", DST6, 64, IPPROTO_UDP);
			break;
		case 4: /* IPv6 hop-by-hop options */
			pkt6(&p, "fd00::1", DST6, 64, 0);
			break;
		case 5: /* no path to this address */
			pkt4(&p, "10.0.0.42", 64, 5);
			break;
		case 6: /* broadcast Ethernet destination */
			pkt4(&p, DST4, 64, 5);
			memset(p.data, 0xff, 6);
			break;
		}
		expect_hop_by_hop(f, &p);
		drop_fabric(f);
	}
}

static void test_flow_rules(void **state)
{
	struct sl_fabric *f = path_fabric();
	struct sl_flow_rule r, *list = NULL;
	struct sl_err err = { "" };
	uint32_t id;
	size_t n;
	struct pkt p;
	struct out o;

	/* a max-mode rule: compressed, marked, hit once per link */
	sl_flow_rule_init(&r);
	r.proto = IPPROTO_UDP;
	r.class = 7;
	assert_int_equal(sl_flow_add(f, &r, &id, &err), 0);
	pkt4(&p, DST4, 64, 5);
	o = run(f, &p);
	assert_int_equal(o.verdict, TC_ACT_REDIRECT);
	assert_int_equal(o.mark, 7);
	expect_links(f, 0, HOPS, 1, 1);
	assert_int_equal(sl_flow_list(f, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].hit_packets, HOPS);
	assert_int_equal(list[0].hit_bytes, (uint64_t)HOPS * p.len);
	free(list);
	drop_fabric(f);

	/* a normal-mode rule: hop by hop (the dataplane takes it there) */
	f = path_fabric();
	r.mode = SL_FLOW_MODE_NORMAL;
	assert_int_equal(sl_flow_add(f, &r, &id, &err), 0);
	o = run(f, &p);
	assert_int_equal(o.verdict, TC_ACT_REDIRECT);
	assert_memory_equal(o.data, p.data, p.len);
	assert_int_equal(st(f, 0, 0).normal, 1);
	expect_links(f, 0, 1, 1, 0);
	expect_links(f, 1, HOPS, 0, 0);
	drop_fabric(f);
}

static void test_path_set_checks(void **state)
{
	struct sl_fabric *f = make_fabric(8);
	struct sl_fabric_path p = test_path(), got;
	struct sl_fabric_path_key k = key4(IN_PORT, DST4);
	struct sl_err err = { "" };

	p.hops = 1;
	assert_int_equal(sl_fabric_path_set(f, &k, &p, &err), -EINVAL);
	assert_string_equal(err.msg, "fabric path: hops 1; expected 2 to 64");
	p = test_path();
	p.ld[HOPS] = 3;
	assert_int_equal(sl_fabric_path_set(f, &k, &p, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "fabric path: ld[5] beyond hops must be zero");
	p = test_path();
	p.ld[2] = 16;
	assert_int_equal(sl_fabric_path_set(f, &k, &p, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "fabric path: ld[2] = 16 out of range (max 8 links)");
	p = test_path();
	k.family = 5;
	assert_int_equal(sl_fabric_path_set(f, &k, &p, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "fabric path: key family 5; expected 4 or 6");
	k = key4(IN_PORT, DST4);
	k.addr[3] = 1;
	assert_int_equal(sl_fabric_path_set(f, &k, &p, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "fabric path: IPv4 key with address words 1-3 set");
	k = key4(IN_PORT, DST4);
	assert_int_equal(sl_fabric_path_get(f, &k, &got, &err), -ENOENT);
	assert_string_equal(err.msg, "fabric path: no such path");
	assert_int_equal(sl_fabric_path_set(f, &k, &p, &err), 0);
	assert_int_equal(sl_fabric_path_get(f, &k, &got, &err), 0);
	assert_memory_equal(&got, &p, sizeof(p));
	assert_int_equal(sl_fabric_paths_count(f, &err), 1);
	assert_int_equal(sl_fabric_path_del(f, &k, &err), 0);
	assert_int_equal(sl_fabric_path_del(f, &k, &err), -ENOENT);
	assert_int_equal(sl_fabric_paths_count(f, &err), 0);
	drop_fabric(f);
}

/* What the program costs per packet under test run: hop by hop (one
 * link) and compressed over 2, 40 and 64 links (printed, not asserted:
 * the machine may be busy). A compressed run rewrites the packet it is
 * given, so each run gets a fresh copy (repeat 1, the kernel's own
 * timing of the program, averaged here). */
static void test_cost(void **state)
{
	static const uint32_t hops[] = { 2, 40, 64 };
	const uint32_t n = 20000;
	struct sl_fabric *f = make_fabric(64);
	struct sl_fabric_path p = test_path();
	struct sl_fabric_path_key k;
	char dst[32];
	struct pkt pk;
	uint64_t total;
	uint32_t l, i, h, r;
	int j;

	for (l = 0; l < 64; l++) {
		set_port(f, l, 0, SL_PORT_UP);
		set_port(f, l, 1, SL_PORT_UP);
	}
	for (j = -1; j < 3; j++) {
		snprintf(dst, sizeof(dst), "10.0.1.%d", j + 2);
		if (j >= 0) {
			h = hops[j];
			memset(p.ld, 0, sizeof(p.ld));
			for (i = 0; i < h; i++)
				p.ld[i] = 2 * i;
			p.hops = (uint8_t)h;
			k = key4(IN_PORT, dst);
			assert_int_equal(sl_fabric_path_set(f, &k, &p, NULL), 0);
		}
		pkt4(&pk, dst, 64, 5);
		total = 0;
		for (r = 0; r < n; r++) {
			struct __sk_buff ctx;
			uint8_t out[256];
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pk.data,
				    .data_size_in = pk.len, .data_out = out,
				    .data_size_out = sizeof(out), .ctx_in = &ctx,
				    .ctx_size_in = sizeof(ctx), .repeat = 1);

			memset(&ctx, 0, sizeof(ctx));
			ctx.ingress_ifindex = IN_PORT;
			assert_int_equal(bpf_prog_test_run_opts(sl_fabric_prog_fd(f),
								&opts), 0);
			assert_int_equal(opts.retval, TC_ACT_REDIRECT);
			total += opts.duration;
		}
		if (j >= 0) /* compressed over every link, each run */
			assert_int_equal(st(f, hops[j] - 1, 0).compressed, n);
		print_message("# %s: %llu ns per packet\n",
			      j < 0 ? "hop by hop (no path)" :
			      j == 0 ? "compressed, 2 links" :
			      j == 1 ? "compressed, 40 links" :
				       "compressed, 64 links",
			      (unsigned long long)(total / n));
	}
	drop_fabric(f);
}

/* ---- the planner */

struct model {
	struct sl_topo *t;
	struct sl_route_table *rt4, *rt6;
};

/* Generates kind args, lets edit() change it, assigns addresses (10/8
 * and fd00::/8 pools, IPv6 when v6) and computes the routes. */
static struct model model(const char *kind, int argc, char *const argv[],
			  bool v6, void (*edit)(struct sl_topo *))
{
	struct sl_err err = { "" };
	struct model m = { 0 };

	if (sl_topo_generate(kind, argc, argv, &m.t, &err))
		print_message("# %s\n", err.msg);
	assert_non_null(m.t);
	m.t->ipv6 = v6;
	assert_int_equal(sl_prefix_parse("10.0.0.0/8", &m.t->pool4, false), 0);
	if (v6)
		assert_int_equal(sl_prefix_parse("fd00::/48", &m.t->pool6,
						 false), 0);
	if (edit)
		edit(m.t);
	if (sl_addr_assign(m.t, NULL, 0, &err))
		print_message("# %s\n", err.msg);
	assert_int_equal(sl_routes_compute(m.t, AF_INET, &m.rt4, &err), 0);
	if (v6)
		assert_int_equal(sl_routes_compute(m.t, AF_INET6, &m.rt6, &err),
				 0);
	return m;
}

static void model_free(struct model *m)
{
	if (m->rt4)
		sl_route_tables_free(m->rt4, m->t->n_nodes);
	if (m->rt6)
		sl_route_tables_free(m->rt6, m->t->n_nodes);
	sl_topo_free(m->t);
}

static void plan(struct model *m, uint32_t max,
		 struct sl_fabric_paths_info *info, size_t *n,
		 struct sl_fabric_path_entry **e)
{
	struct sl_err err = { "" };

	assert_int_equal(sl_fabric_paths_plan(m->t, m->rt4, m->rt6, max, e, n,
					      info, &err), 0);
}

/* The entry for (port, address), or NULL. */
static const struct sl_fabric_path_entry *
find(const struct sl_fabric_path_entry *e, size_t n, uint32_t port,
     const struct sl_prefix *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (e[i].key.ifindex == port &&
		    e[i].key.family == (addr->family == AF_INET6 ? 6u : 4u) &&
		    !memcmp(e[i].key.addr, addr->addr,
			    addr->family == AF_INET6 ? 16 : 4))
			return &e[i];
	return NULL;
}

static int node(const struct sl_topo *t, const char *name)
{
	int i = sl_topo_find_node(t, name);

	assert_true(i >= 0);
	return i;
}

static void expect_mac(const uint8_t *got, uint32_t n, uint32_t ifidx)
{
	uint8_t want[6];

	sl_node_mac(n, ifidx, want);
	assert_memory_equal(got, want, 6);
}

static void test_plan_linear(void **state)
{
	char *argv[] = { "5" };
	struct model m = model("linear", 1, argv, true, NULL);
	struct sl_fabric_paths_info info;
	struct sl_fabric_path_entry *e = NULL;
	const struct sl_fabric_path_entry *x;
	uint32_t h1 = (uint32_t)node(m.t, "h1"), h2 = (uint32_t)node(m.t, "h2");
	uint32_t r3 = (uint32_t)node(m.t, "r3"), r1 = (uint32_t)node(m.t, "r1");
	size_t n, i;

	plan(&m, 0, &info, &n, &e);
	/* per family and host: 3 node addresses (r2, r3, the other host)
	 * and 5 interface addresses (r2 x2, r3 x2, the other host) */
	assert_int_equal(n, 2 * 2 * 8);
	assert_int_equal(info.entries, n);
	assert_int_equal(info.full, n);
	assert_int_equal(info.truncated, 0);
	assert_int_equal(info.max_hops, 4);
	for (i = 1; i < n; i++) /* sorted, unique */
		assert_true(memcmp(&e[i - 1].key, &e[i].key,
				   sizeof(e[i].key)) < 0);

	x = find(e, n, (uint32_t)sl_port_ifindex(0, 0), &m.t->nodes[h2].lo4);
	assert_non_null(x);
	assert_int_equal(x->path.hops, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(x->path.ld[i], 2 * i);
	assert_int_equal(x->path.ld[4], 0);
	assert_int_equal(x->path.target_ifindex, sl_port_ifindex(3, 1));
	expect_mac(x->path.first_mac, r1, 0);
	expect_mac(x->path.dmac, h2, 0);
	expect_mac(x->path.smac, r3, 1);
	/* and back, over IPv6 */
	x = find(e, n, (uint32_t)sl_port_ifindex(3, 1), &m.t->nodes[h1].lo6);
	assert_non_null(x);
	assert_int_equal(x->path.hops, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(x->path.ld[i], 2 * (3 - i) + 1);
	assert_int_equal(x->path.target_ifindex, sl_port_ifindex(0, 0));
	/* a neighbour's addresses are one link away: no entry */
	assert_null(find(e, n, (uint32_t)sl_port_ifindex(0, 0),
			 &m.t->nodes[r1].lo4));
	free(e);
	model_free(&m);
}

static void shape_link2(struct sl_topo *t)
{
	t->links[2].policy[0] = strdup("{\"rate\": \"10mbit\"}");
	/* a policer and loss are carried inside the path */
	t->links[1].policy[0] = strdup("{\"policer\": \"10mbit\", \"loss\": \"1%\"}");
}

static void small_mtu_link2(struct sl_topo *t)
{
	t->links[2].mtu = 1400;
}

static void normal_link2(struct sl_topo *t)
{
	t->links[2].mode = SL_MODE_NORMAL;
}

static void test_plan_truncated(void **state)
{
	void (*edits[])(struct sl_topo *) = { shape_link2, small_mtu_link2,
					      normal_link2 };
	char *argv[] = { "5" };
	size_t k;

	for (k = 0; k < 3; k++) {
		struct model m = model("linear", 1, argv, false, edits[k]);
		struct sl_fabric_paths_info info;
		struct sl_fabric_path_entry *e = NULL;
		const struct sl_fabric_path_entry *x;
		uint32_t h1 = (uint32_t)node(m.t, "h1");
		uint32_t h2 = (uint32_t)node(m.t, "h2");
		uint32_t r2 = (uint32_t)node(m.t, "r2");
		uint32_t r1 = (uint32_t)node(m.t, "r1");
		size_t n;

		plan(&m, 0, &info, &n, &e);
		/* h1 -> h2 ends at r2, which forwards it over link 2 */
		x = find(e, n, (uint32_t)sl_port_ifindex(0, 0),
			 &m.t->nodes[h2].lo4);
		assert_non_null(x);
		assert_int_equal(x->path.hops, 2);
		assert_int_equal(x->path.ld[0], 0);
		assert_int_equal(x->path.ld[1], 2);
		assert_int_equal(x->path.target_ifindex, sl_port_ifindex(1, 1));
		expect_mac(x->path.dmac, r2, 0);
		expect_mac(x->path.smac, r1, 1);
		assert_true(info.truncated > 0);
		/* h2 -> h1: a shaper on link 2 "up" leaves link 2 "down"
		 * alone; a small MTU or normal mode stops it at r3, one
		 * link from h2: no entry */
		x = find(e, n, (uint32_t)sl_port_ifindex(3, 1),
			 &m.t->nodes[h1].lo4);
		if (k == 0) {
			assert_non_null(x);
			assert_int_equal(x->path.hops, 4);
		} else {
			assert_null(x);
		}
		free(e);
		model_free(&m);
	}
}

static void test_plan_hop_cap_and_capacity(void **state)
{
	char *argv[] = { "70" };
	struct model m = model("linear", 1, argv, false, NULL);
	struct sl_fabric_paths_info info;
	struct sl_fabric_path_entry *e = NULL;
	const struct sl_fabric_path_entry *x;
	uint32_t h2 = (uint32_t)node(m.t, "h2");
	size_t n;

	plan(&m, 0, &info, &n, &e);
	assert_int_equal(info.max_hops, SL_PATH_HOPS_MAX);
	x = find(e, n, (uint32_t)sl_port_ifindex(0, 0), &m.t->nodes[h2].lo4);
	assert_non_null(x);
	assert_int_equal(x->path.hops, SL_PATH_HOPS_MAX);
	/* it ends at r64, the 64th node after h1 */
	assert_int_equal(x->path.target_ifindex,
			 sl_port_ifindex(SL_PATH_HOPS_MAX - 1, 1));
	assert_true(info.truncated > 0);
	free(e);

	plan(&m, 5, &info, &n, &e);
	assert_int_equal(n, 5);
	assert_int_equal(info.entries, 5);
	assert_true(info.capped > 0);
	free(e);
	model_free(&m);
}

/* Every hop of every path leaves its node by a next hop of that node's
 * route to the destination (or its connected subnet), links chain up, and
 * the plan is the same twice. */
static void test_plan_ecmp_fat_tree(void **state)
{
	char *argv[] = { "4" };
	struct model m = model("fat-tree", 1, argv, false, NULL);
	struct sl_fabric_paths_info info, info2;
	struct sl_fabric_path_entry *e = NULL, *e2 = NULL;
	size_t n, n2, i, six = 0;
	uint32_t h;

	plan(&m, 0, &info, &n, &e);
	plan(&m, 0, &info2, &n2, &e2);
	assert_int_equal(n, n2);
	assert_memory_equal(e, e2, n * sizeof(*e));
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		const struct sl_fabric_path *p = &e[i].path;
		uint32_t l = p->ld[0] / 2, s = p->ld[0] % 2, cur;

		assert_int_equal(e[i].key.ifindex, sl_port_ifindex(l, (int)s));
		cur = m.t->links[l].ep[!s].node;
		for (h = 1; h < p->hops; h++) {
			uint32_t l2 = p->ld[h] / 2, s2 = p->ld[h] % 2;
			const struct sl_route_table *rt = &m.rt4[cur];
			uint32_t k, r, ok = 0;

			assert_int_equal(m.t->links[l2].ep[s2].node, cur);
			/* the ifidx of l2 at cur is a next hop of a route
			 * that covers the destination */
			for (k = 0; k < m.t->nodes[cur].n_links; k++)
				if (m.t->nodes[cur].links[k] == l2)
					break;
			/* or the destination is on l2's connected subnet */
			{
				struct sl_prefix x = m.t->links[l2].ep[s2].addr4;

				memcpy(x.addr, e[i].key.addr, 4);
				x.len = 32;
				ok = sl_prefix_contains(&m.t->links[l2].ep[s2].addr4,
							&x);
			}
			for (r = 0; r < rt->n && !ok; r++) {
				const struct sl_route *ro = &rt->routes[r];
				struct sl_prefix x = ro->dst;
				uint32_t j;

				memcpy(x.addr, e[i].key.addr, 4);
				x.len = 32;
				if (!sl_prefix_contains(&ro->dst, &x))
					continue;
				for (j = 0; j < ro->n_nh; j++)
					ok |= ro->nh[j] == k;
			}
			assert_true(ok);
			cur = m.t->links[l2].ep[!s2].node;
		}
		assert_int_equal(p->target_ifindex,
				 sl_port_ifindex(p->ld[p->hops - 1] / 2,
						 !(p->ld[p->hops - 1] % 2)));
		six += p->hops == 6;
	}
	/* host to host across pods: h - e - a - c - a - e - h */
	assert_true(six > 0);
	assert_int_equal(info.max_hops, 6);
	free(e);
	free(e2);
	model_free(&m);
}

/* build writes the plan and removes what is no longer in it. */
static void test_build_replaces(void **state)
{
	char *argv[] = { "5" };
	struct model m = model("linear", 1, argv, false, NULL);
	struct sl_fabric *f = make_fabric(8);
	struct sl_fabric_path_key stale = key4(IN_PORT, "10.200.0.1");
	struct sl_fabric_path p = test_path();
	struct sl_fabric_paths_info info;
	struct sl_err err = { "" };
	uint64_t cleared;

	assert_int_equal(sl_fabric_path_set(f, &stale, &p, &err), 0);
	assert_int_equal(sl_fabric_paths_build(f, m.t, m.rt4, NULL, &info,
					       &err), 0);
	assert_int_equal(info.entries, 16);
	assert_int_equal(info.deleted, 1);
	assert_int_equal(sl_fabric_paths_count(f, &err), 16);
	assert_int_equal(sl_fabric_paths_refresh(f, m.t, m.rt4, NULL, &info,
						 &err), 0);
	assert_int_equal(info.deleted, 0);
	assert_int_equal(sl_fabric_paths_count(f, &err), 16);
	assert_int_equal(sl_fabric_paths_clear(f, &cleared, &err), 0);
	assert_int_equal(cleared, 16);
	assert_int_equal(sl_fabric_paths_count(f, &err), 0);
	drop_fabric(f);
	/* a fabric too small for the topology's links */
	f = make_fabric(2);
	assert_int_equal(sl_fabric_paths_build(f, m.t, m.rt4, NULL, &info,
					       &err), -EINVAL);
	assert_string_equal(err.msg,
			    "topology linear5: fabric path: ld[2] = 4 out of range (max 2 links)");
	drop_fabric(f);
	model_free(&m);
}

/* ---- end to end */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		print_message("# command failed (%d): %s\n", rc, cmd);
	return rc;
}

static int ns_new(void)
{
	int fd;

	assert_int_equal(setns(orig_ns, CLONE_NEWNET), 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(sh("ip link set lo up"), 0);
	return fd;
}

/* Receives one datagram; its TTL in *ttl. -1 on timeout. */
static int recv_ttl(int fd, char *buf, size_t len, int *ttl)
{
	char cbuf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(fd, &mh, 0);

	if (n < 0)
		return -1;
	*ttl = -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
			memcpy(ttl, CMSG_DATA(c), sizeof(int));
	return (int)n;
}

/*
 * Node A's eth0 pairs with fabric port pa (link 0, side 0); fabric port pc
 * (link 2, side 1) pairs with node C's eth0. Link 1 and the router nodes
 * between exist only as map entries: a datagram from A to C can arrive only
 * through the compressed path, with the TTL three routers took off.
 */
static void test_e2e_compressed(void **state)
{
	struct sl_fabric *f = make_fabric(4);
	struct sl_fabric_port port;
	struct sl_fabric_path p;
	struct sl_fabric_path_key k;
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(5000) };
	struct timeval tv = { .tv_sec = 1 };
	int na, nc, nf, pa, pc, rx, tx, one = 1, ttl = 0, l;
	pid_t pid = getpid();
	char buf[64];

	/* no IPv6 chatter (router solicitations) to count on link 0 */
	na = ns_new();
	assert_int_equal(sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
			    "net.ipv6.conf.default.disable_ipv6=1"), 0);
	nc = ns_new();
	assert_int_equal(sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
			    "net.ipv6.conf.default.disable_ipv6=1"), 0);
	nf = ns_new();
	assert_int_equal(sh("ip link add pa type veth peer name eth0 "
			    "netns /proc/%d/fd/%d", (int)pid, na), 0);
	assert_int_equal(sh("ip link add pc type veth peer name eth0 "
			    "netns /proc/%d/fd/%d", (int)pid, nc), 0);
	assert_int_equal(sh("ip link set pa up && ip link set pc up"), 0);
	pa = (int)if_nametoindex("pa");
	pc = (int)if_nametoindex("pc");
	assert_true(pa > 0 && pc > 0);
	/* ports: pa and pc real, the rest placeholders */
	for (l = 0; l < 3; l++) {
		int s;

		for (s = 0; s < 2; s++) {
			uint32_t ifi = l == 0 && s == 0 ? (uint32_t)pa :
				       l == 2 && s == 1 ? (uint32_t)pc :
				       (uint32_t)(9000 + 2 * l + s);

			memset(&port, 0, sizeof(port));
			port.peer_ifindex = 1;
			port.link = (uint32_t)l;
			port.dir = (uint8_t)s;
			port.flags = SL_PORT_UP;
			assert_int_equal(sl_fabric_port_set(f, ifi, &port, NULL),
					 0);
		}
	}
	memset(&p, 0, sizeof(p));
	p.hops = 3;
	p.ld[0] = 0;
	p.ld[1] = 2;
	p.ld[2] = 4;
	p.target_ifindex = (uint32_t)pc;
	memcpy(p.first_mac, first_mac, 6);
	memcpy(p.dmac, dmac, 6);
	memcpy(p.smac, smac, 6);
	k = key4((uint32_t)pa, "10.9.3.3");
	assert_int_equal(sl_fabric_path_set(f, &k, &p, NULL), 0);
	assert_int_equal(sl_fabric_attach(f, pa, NULL), 0);
	assert_int_equal(sl_fabric_attach(f, pc, NULL), 0);

	assert_int_equal(setns(nc, CLONE_NEWNET), 0);
	assert_int_equal(sh("ip link set eth0 address 02:5c:00:05:00:00 && "
			    "ip addr add 10.9.3.3/24 dev eth0 && "
			    "ip link set eth0 up && "
			    "ip route add default dev eth0"), 0);
	rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(rx >= 0);
	to.sin_addr.s_addr = htonl(INADDR_ANY);
	assert_int_equal(bind(rx, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv,
				    sizeof(tv)), 0);
	assert_int_equal(setsockopt(rx, IPPROTO_IP, IP_RECVTTL, &one,
				    sizeof(one)), 0);

	assert_int_equal(setns(na, CLONE_NEWNET), 0);
	/* A reaches C through a gateway 10.9.1.254 that answers no ARP: its
	 * MAC is the path's first_mac, given as a permanent neighbour */
	assert_int_equal(sh("ip addr add 10.9.1.1/24 dev eth0 && "
			    "ip link set eth0 up && "
			    "ip neigh add 10.9.1.254 lladdr 02:5c:00:01:00:00 "
			    "dev eth0 nud permanent && "
			    "ip route add 10.9.3.0/24 via 10.9.1.254"), 0);
	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(tx >= 0);
	to.sin_addr.s_addr = inet_addr("10.9.3.3");
	assert_int_equal(sendto(tx, "hello", 5, 0, (struct sockaddr *)&to,
				sizeof(to)), 5);
	assert_int_equal(recv_ttl(rx, buf, sizeof(buf), &ttl), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(ttl, 64 - 2);
	expect_links(f, 0, 3, 1, 1);

	/* the middle link goes down: the datagram dies there, counted */
	memset(&port, 0, sizeof(port));
	port.peer_ifindex = 1;
	port.link = 1;
	port.dir = 0;
	assert_int_equal(sl_fabric_port_set(f, 9002, &port, NULL), 0);
	assert_int_equal(sendto(tx, "lost!", 5, 0, (struct sockaddr *)&to,
				sizeof(to)), 5);
	assert_int_equal(recv_ttl(rx, buf, sizeof(buf), &ttl), -1);
	assert_int_equal(st(f, 1, 0).drop_down, 1);
	assert_int_equal(st(f, 0, 0).compressed, 2);
	assert_int_equal(st(f, 1, 0).compressed, 1);
	assert_int_equal(st(f, 2, 0).packets, 1);

	close(tx);
	close(rx);
	assert_int_equal(setns(orig_ns, CLONE_NEWNET), 0);
	close(na);
	close(nc);
	close(nf);
	drop_fabric(f);
}

static int group_setup(void **state)
{
	struct sl_err err = { "" };

	if (geteuid() != 0) {
		print_message("# needs root\n");
		return -1;
	}
	if (sl_bpffs_ensure(&err) < 0) {
		print_message("# %s\n", err.msg);
		return -1;
	}
	snprintf(pin_dir, sizeof(pin_dir), SL_BPFFS_ROOT "/sluice-test-path-%d",
		 (int)getpid());
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return orig_ns < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	sl_fabric_unpin(pin_dir, NULL);
	if (orig_ns >= 0) {
		setns(orig_ns, CLONE_NEWNET);
		close(orig_ns);
	}
	return 0;
}

/* A failed assertion skips the rest of a test: leave no pins for the next. */
static int test_teardown(void **state)
{
	sl_fabric_unpin(pin_dir, NULL);
	if (orig_ns >= 0)
		setns(orig_ns, CLONE_NEWNET);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_compressed_ipv4, test_teardown),
		cmocka_unit_test_teardown(test_compressed_ipv6, test_teardown),
		cmocka_unit_test_teardown(test_ttl_boundary, test_teardown),
		cmocka_unit_test_teardown(test_down_link_drops, test_teardown),
		cmocka_unit_test_teardown(test_policer_and_loss_on_path, test_teardown),
		cmocka_unit_test_teardown(test_non_ip_and_odd_packets_go_hop_by_hop, test_teardown),
		cmocka_unit_test_teardown(test_flow_rules, test_teardown),
		cmocka_unit_test_teardown(test_path_set_checks, test_teardown),
		cmocka_unit_test_teardown(test_cost, test_teardown),
		cmocka_unit_test_teardown(test_plan_linear, test_teardown),
		cmocka_unit_test_teardown(test_plan_truncated, test_teardown),
		cmocka_unit_test_teardown(test_plan_hop_cap_and_capacity, test_teardown),
		cmocka_unit_test_teardown(test_plan_ecmp_fat_tree, test_teardown),
		cmocka_unit_test_teardown(test_build_replaces, test_teardown),
		cmocka_unit_test_teardown(test_e2e_compressed, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
