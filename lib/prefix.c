// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * prefix.c - IPv4/IPv6 addresses with a prefix length, as plain bytes, so
 * that one trie and one set of helpers serve both families.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/topo.h>

int sl_prefix_bits(const struct sl_prefix *p)
{
	return p->family == AF_INET6 ? 128 : 32;
}

bool sl_prefix_bit(const struct sl_prefix *p, int i)
{
	return (p->addr[i / 8] >> (7 - i % 8)) & 1;
}

int sl_prefix_parse(const char *s, struct sl_prefix *p, bool allow_bare)
{
	char buf[64], *slash, *end;
	long len;

	memset(p, 0, sizeof(*p));
	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->family = AF_INET6;
	else
		return -EINVAL;
	if (!slash) {
		if (!allow_bare)
			return -EINVAL;
		p->len = (uint8_t)sl_prefix_bits(p);
		return 0;
	}
	if (!slash[1])
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || len < 0 || len > sl_prefix_bits(p))
		return -EINVAL;
	p->len = (uint8_t)len;
	return 0;
}

const char *sl_prefix_str(const struct sl_prefix *p, char *buf, size_t len,
			  bool with_len)
{
	char a[INET6_ADDRSTRLEN];

	if (!p->family) {
		snprintf(buf, len, "-");
		return buf;
	}
	inet_ntop(p->family, p->addr, a, sizeof(a));
	if (with_len)
		snprintf(buf, len, "%s/%u", a, p->len);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

/* True when the first n bits of a and b are equal. */
static bool same_bits(const uint8_t *a, const uint8_t *b, int n)
{
	int full = n / 8, rest = n % 8;

	if (memcmp(a, b, full))
		return false;
	if (!rest)
		return true;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool sl_prefix_overlap(const struct sl_prefix *a, const struct sl_prefix *b)
{
	if (a->family != b->family || !a->family)
		return false;
	return same_bits(a->addr, b->addr, a->len < b->len ? a->len : b->len);
}

bool sl_prefix_contains(const struct sl_prefix *outer,
			const struct sl_prefix *inner)
{
	if (outer->family != inner->family || !outer->family)
		return false;
	return outer->len <= inner->len &&
	       same_bits(outer->addr, inner->addr, outer->len);
}

void sl_prefix_mask(struct sl_prefix *p)
{
	int bits = sl_prefix_bits(p), i;

	for (i = p->len; i < bits; i++)
		p->addr[i / 8] &= (uint8_t) ~(1u << (7 - i % 8));
}

int sl_prefix_add(const struct sl_prefix *base, uint64_t n,
		  struct sl_prefix *out)
{
	int bits = sl_prefix_bits(base), host = bits - base->len, i;
	unsigned carry;

	if (host < 64 && n >> host)
		return -ERANGE;
	*out = *base;
	sl_prefix_mask(out);
	carry = 0;
	for (i = bits / 8 - 1; i >= 0; i--) {
		unsigned v = out->addr[i] + (unsigned)(n & 0xff) + carry;

		out->addr[i] = (uint8_t)v;
		carry = v >> 8;
		n >>= 8;
	}
	return carry ? -ERANGE : 0;
}
