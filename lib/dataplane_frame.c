// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dataplane_frame.c - what the normal-mode dataplane does to the bytes of a
 * frame (include/sluice/dataplane.h): completing checksums that the sender
 * left to offload, and ECN CE marks.
 *
 * Why checksums need completing: a veth sender with tx checksum offload on
 * hands the kernel CHECKSUM_PARTIAL packets whose TCP/UDP checksum field
 * holds only the folded pseudo-header sum; the receiving stack normally
 * trusts the flag, but an XDP redirect turns the packet into bare bytes and
 * the flag is lost, so the receiver sees a bad checksum. Such a packet is
 * recognised by its field equalling the pseudo-header sum; one pass over
 * the L4 bytes then both tells a packet whose full checksum happens to
 * match (left alone) and gives the completed value.
 *
 * Sums are one's complement over 16-bit words taken in memory order: the
 * one's complement sum commutes with byte swapping, so native loads and
 * stores give network-order results (RFC 1071).
 */
#include <stdint.h>
#include <string.h>

#include <sluice/dataplane.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define PROTO_TCP 6
#define PROTO_UDP 17

static inline uint16_t load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline void store16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* network-order 16-bit value as it would be loaded from memory */
static inline uint16_t wire16(uint16_t host)
{
	uint8_t b[2] = { (uint8_t)(host >> 8), (uint8_t)host };

	return load16(b);
}

static uint64_t sum_bytes(const uint8_t *p, uint32_t len, uint64_t acc)
{
	uint32_t v32;

	while (len >= 32) {
		uint64_t a, b, c, d;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		/* 32-bit halves cannot overflow a 64-bit accumulator in
		 * any realistic frame */
		acc += (a & 0xffffffff) + (a >> 32) + (b & 0xffffffff) +
		       (b >> 32) + (c & 0xffffffff) + (c >> 32) +
		       (d & 0xffffffff) + (d >> 32);
		p += 32;
		len -= 32;
	}
	while (len >= 4) {
		memcpy(&v32, p, 4);
		acc += v32;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		acc += load16(p);
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t b[2] = { p[0], 0 };

		acc += load16(b);
	}
	return acc;
}

static inline uint16_t fold(uint64_t acc)
{
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* l4 points at the TCP/UDP header, pseudo is the pseudo-header sum. */
static int complete(uint8_t *l4, uint32_t l4len, uint8_t proto,
		    uint64_t pseudo)
{
	uint32_t off = proto == PROTO_TCP ? 16 : 6;
	uint16_t field, p, s;

	if (l4len < off + 2 || (proto == PROTO_TCP && l4len < 20) ||
	    (proto == PROTO_UDP && l4len < 8))
		return 0;
	field = load16(l4 + off);
	p = fold(pseudo);
	if (field != p || !field)
		return 0;
	s = fold(sum_bytes(l4, l4len, 0));
	/* already a valid full checksum that happens to equal the pseudo
	 * sum: sum over pseudo header and segment is all ones */
	if (fold((uint64_t)s + p) == 0xffff)
		return 0;
	/* the field held the pseudo sum, so s covers it as well */
	s = (uint16_t)~s;
	if (proto == PROTO_UDP && !s)
		s = 0xffff;
	store16(l4 + off, s);
	return 1;
}

int sl_dp_csum_complete(void *frame, uint32_t len)
{
	uint8_t *f = frame, *ip = f + ETH_HLEN, proto;
	uint32_t ihl, tot, l4len;
	uint64_t pseudo;

	if (len < ETH_HLEN + 20)
		return 0;
	switch (be16(f + 12)) {
	case ETH_P_IP:
		if ((ip[0] >> 4) != 4)
			return 0;
		ihl = (uint32_t)(ip[0] & 0xf) * 4;
		tot = be16(ip + 2);
		proto = ip[9];
		if (ihl < 20 || tot < ihl || tot > len - ETH_HLEN)
			return 0;
		if (be16(ip + 6) & 0x3fff) /* MF or an offset: a fragment */
			return 0;
		if (proto != PROTO_TCP && proto != PROTO_UDP)
			return 0;
		l4len = tot - ihl;
		pseudo = sum_bytes(ip + 12, 8, 0) + wire16(proto) +
			 wire16((uint16_t)l4len);
		return complete(ip + ihl, l4len, proto, pseudo);
	case ETH_P_IPV6:
		if (len < ETH_HLEN + 40 || (ip[0] >> 4) != 6)
			return 0;
		proto = ip[6];
		l4len = be16(ip + 4);
		if (proto != PROTO_TCP && proto != PROTO_UDP)
			return 0;
		if (l4len > len - ETH_HLEN - 40)
			return 0;
		pseudo = sum_bytes(ip + 8, 32, 0) + wire16(proto) +
			 wire16((uint16_t)l4len);
		return complete(ip + 40, l4len, proto, pseudo);
	default:
		return 0;
	}
}

int sl_dp_mark_ce(void *frame, uint32_t len)
{
	uint8_t *f = frame, *ip = f + ETH_HLEN;
	uint16_t old, new, c;
	uint32_t sum;

	if (len < ETH_HLEN + 20)
		return 0;
	switch (be16(f + 12)) {
	case ETH_P_IP:
		if ((ip[0] >> 4) != 4 || !(ip[1] & 3))
			return 0;
		if ((ip[1] & 3) == 3)
			return 1;
		/* RFC 1624 incremental update of the header checksum over
		 * the word holding version/ihl and tos */
		old = be16(ip);
		ip[1] |= 3;
		new = be16(ip);
		c = be16(ip + 10);
		sum = (uint16_t)~c + (uint32_t)(uint16_t)~old + new;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		c = (uint16_t)~sum;
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		return 1;
	case ETH_P_IPV6:
		if (len < ETH_HLEN + 40 || (ip[0] >> 4) != 6)
			return 0;
		/* traffic class: low nibble of byte 0, high nibble of byte 1;
		 * its two ECN bits are bits 4-5 of byte 1 */
		if (!(ip[1] & 0x30))
			return 0;
		ip[1] |= 0x30;
		return 1;
	default:
		return 0;
	}
}
