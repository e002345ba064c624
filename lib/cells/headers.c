// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * headers.c - reading and marking the headers of a frame for the cells
 * that need them (include/sluice/cellkit.h): class matches of the
 * schedulers, ECN marking of the AQMs.
 *
 * Frames are Ethernet, with up to two VLAN tags, carrying IPv4 or IPv6.
 * Every read is bounded by p->len; a frame too short for what it claims
 * is "not IP" rather than an error, so a malformed frame is simply not
 * classified or marked. Ports are read from the first fragment only.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <sluice/cellkit.h>

#define ETH_HLEN_ 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8

static inline uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void ports(const uint8_t *d, uint32_t len, uint32_t off,
		  struct sl_hdr *h)
{
	if ((h->proto == IPPROTO_TCP || h->proto == IPPROTO_UDP) &&
	    off + 4 <= len) {
		h->sport = rd16(d + off);
		h->dport = rd16(d + off + 2);
	}
}

static bool parse_v4(const uint8_t *d, uint32_t len, uint32_t off,
		     struct sl_hdr *h)
{
	uint32_t ihl;

	if (off + 20 > len || (d[off] >> 4) != 4)
		return false;
	ihl = (uint32_t)(d[off] & 0x0f) * 4;
	if (ihl < 20 || off + ihl > len)
		return false;
	h->family = AF_INET;
	h->tos = d[off + 1];
	h->proto = d[off + 9];
	memcpy(h->src, d + off + 12, 4);
	memcpy(h->dst, d + off + 16, 4);
	if (!(rd16(d + off + 6) & 0x1fff)) /* first fragment */
		ports(d, len, off + ihl, h);
	return true;
}

static bool parse_v6(const uint8_t *d, uint32_t len, uint32_t off,
		     struct sl_hdr *h)
{
	uint8_t nh;
	unsigned hops;

	if (off + 40 > len || (d[off] >> 4) != 6)
		return false;
	h->family = AF_INET6;
	h->tos = (uint8_t)((d[off] & 0x0f) << 4 | d[off + 1] >> 4);
	memcpy(h->src, d + off + 8, 16);
	memcpy(h->dst, d + off + 24, 16);
	nh = d[off + 6];
	off += 40;
	/* hop-by-hop, routing, destination options, fragment */
	for (hops = 0; hops < 8; hops++) {
		if (nh == 0 || nh == 43 || nh == 60) {
			if (off + 8 > len)
				return true;
			nh = d[off];
			off += 8 + (uint32_t)d[off + 1] * 8;
		} else if (nh == 44) {
			if (off + 8 > len)
				return true;
			if (rd16(d + off + 2) & 0xfff8) { /* not the first */
				h->proto = d[off];
				return true;
			}
			nh = d[off];
			off += 8;
		} else {
			break;
		}
	}
	h->proto = nh;
	ports(d, len, off, h);
	return true;
}

bool sl_hdr_parse(const struct sl_pkt *p, struct sl_hdr *h)
{
	const uint8_t *d = p->data;
	uint32_t off = 12;
	uint16_t type;
	int tags;

	memset(h, 0, sizeof(*h));
	if (!d || p->len < ETH_HLEN_)
		return false;
	type = rd16(d + off);
	for (tags = 0; tags < 2 && (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ);
	     tags++) {
		off += 4;
		if (off + 2 > p->len)
			return false;
		type = rd16(d + off);
	}
	off += 2;
	h->l3_off = off;
	if (type == ETHERTYPE_IPV4)
		return parse_v4(d, p->len, off, h);
	if (type == ETHERTYPE_IPV6)
		return parse_v6(d, p->len, off, h);
	return false;
}

bool sl_pkt_ecn_capable(const struct sl_pkt *p)
{
	struct sl_hdr h;

	if (p->flags & SL_PKT_ECN_CE)
		return true;
	return sl_hdr_parse(p, &h) && (h.tos & 3);
}

/* RFC 1624: HC' = ~(~HC + ~m + m') over the 16-bit word that changed. */
static void csum_replace16(uint8_t *csum, uint16_t old, uint16_t new)
{
	uint32_t s = (uint16_t)~rd16(csum);

	s += (uint16_t)~old;
	s += new;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (uint16_t)~s;
	csum[0] = (uint8_t)(s >> 8);
	csum[1] = (uint8_t)s;
}

bool sl_pkt_mark_ce(struct sl_pkt *p)
{
	struct sl_hdr h;
	uint8_t *ip;
	uint16_t old;

	if (p->flags & SL_PKT_ECN_CE)
		return true;
	if (!sl_hdr_parse(p, &h) || !(h.tos & 3))
		return false;
	ip = (uint8_t *)p->data + h.l3_off;
	if (h.family == AF_INET) {
		old = rd16(ip);
		ip[1] |= 3;
		csum_replace16(ip + 10, old, rd16(ip));
	} else {
		ip[1] |= 0x30;
	}
	p->flags |= SL_PKT_ECN_CE;
	return true;
}

bool sl_aqm_signal(struct sl_cell *c, struct sl_pkt *p, bool ecn,
		   uint64_t *marks)
{
	if (ecn && sl_pkt_mark_ce(p)) {
		(*marks)++;
		return false;
	}
	sl_cell_drop(c, p, SL_DROP_AQM);
	return true;
}
