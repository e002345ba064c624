// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of what the normal-mode dataplane does to frame bytes
 * (lib/dataplane_frame.c): completing checksums left to offload, ECN CE
 * marks; and of the dataplane API's errors that need no wire.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sluice/dataplane.h>

/* RFC 1071, byte by byte: the reference the fast code is checked against. */
static uint32_t ref_add(uint32_t acc, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)(p[len - 1] << 8);
	return acc;
}

static uint16_t ref_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* An Ethernet + IPv4 frame with an L4 segment of l4len bytes of proto;
 * returns the frame length. The IPv4 header checksum is right. */
static uint32_t make_v4(uint8_t *f, uint8_t proto, uint32_t l4len,
			uint16_t frag)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;
	uint32_t i;

	memset(f, 0, 14 + 20 + l4len);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, (uint8_t[]){ 10, 77, 0, 1, 10, 77, 0, 2 }, 8);
	put16(ip + 10, (uint16_t)~ref_fold(ref_add(0, ip, 20)));
	for (i = 0; i < l4len; i++)
		l4[i] = (uint8_t)(i * 7 + 3);
	if (proto == 17)
		put16(l4 + 4, (uint16_t)l4len);
	return 14 + 20 + l4len;
}

static uint32_t make_v6(uint8_t *f, uint8_t proto, uint32_t l4len)
{
	uint8_t *ip = f + 14, *l4 = ip + 40;
	uint32_t i;

	memset(f, 0, 14 + 40 + l4len);
	put16(f + 12, 0x86dd);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)l4len);
	ip[6] = proto;
	ip[7] = 64;
	for (i = 0; i < 32; i++)
		ip[8 + i] = (uint8_t)(0x20 + i);
	for (i = 0; i < l4len; i++)
		l4[i] = (uint8_t)(i * 13 + 1);
	if (proto == 17)
		put16(l4 + 4, (uint16_t)l4len);
	return 14 + 40 + l4len;
}

/* Pseudo-header sum of the frame's IP packet. */
static uint32_t pseudo(const uint8_t *f, uint8_t proto, uint32_t l4len)
{
	const uint8_t *ip = f + 14;
	bool v6 = get16(f + 12) == 0x86dd;
	uint32_t acc = ref_add(0, v6 ? ip + 8 : ip + 12, v6 ? 32 : 8);

	return acc + proto + l4len;
}

static unsigned field_off(uint8_t proto)
{
	return proto == 6 ? 16 : 6;
}

/* What a sender with offload leaves: the folded pseudo sum. */
static void make_partial(uint8_t *f, uint32_t l3, uint8_t proto,
			 uint32_t l4len)
{
	put16(f + 14 + l3 + field_off(proto),
	      ref_fold(pseudo(f, proto, l4len)));
}

/* The right checksum. */
static uint16_t right(uint8_t *f, uint32_t l3, uint8_t proto, uint32_t l4len)
{
	uint8_t *l4 = f + 14 + l3, save[2];
	uint16_t c;

	memcpy(save, l4 + field_off(proto), 2);
	put16(l4 + field_off(proto), 0);
	c = (uint16_t)~ref_fold(ref_add(pseudo(f, proto, l4len), l4, l4len));
	memcpy(l4 + field_off(proto), save, 2);
	if (proto == 17 && !c)
		c = 0xffff;
	return c;
}

static void test_tcp4_partial_is_completed(void **state)
{
	uint8_t f[2048];
	uint32_t len, l4;

	for (l4 = 20; l4 <= 1480; l4 += 73) { /* odd and even lengths */
		len = make_v4(f, 6, l4, 0x4000 /* DF */);
		make_partial(f, 20, 6, l4);
		assert_int_equal(sl_dp_csum_complete(f, len), 1);
		assert_int_equal(get16(f + 34 + 16), right(f, 20, 6, l4));
		/* now right: a second pass leaves it */
		assert_int_equal(sl_dp_csum_complete(f, len), 0);
		assert_int_equal(get16(f + 34 + 16), right(f, 20, 6, l4));
	}
}

static void test_udp4_and_v6_partial_are_completed(void **state)
{
	uint8_t f[2048];
	uint32_t len;

	len = make_v4(f, 17, 18, 0);
	make_partial(f, 20, 17, 18);
	assert_int_equal(sl_dp_csum_complete(f, len), 1);
	assert_int_equal(get16(f + 34 + 6), right(f, 20, 17, 18));

	len = make_v6(f, 6, 1001);
	make_partial(f, 40, 6, 1001);
	assert_int_equal(sl_dp_csum_complete(f, len), 1);
	assert_int_equal(get16(f + 54 + 16), right(f, 40, 6, 1001));

	len = make_v6(f, 17, 64);
	make_partial(f, 40, 17, 64);
	assert_int_equal(sl_dp_csum_complete(f, len), 1);
	assert_int_equal(get16(f + 54 + 6), right(f, 40, 17, 64));
}

static void test_frames_left_alone(void **state)
{
	uint8_t f[2048], copy[2048];
	uint32_t len;

	/* a right checksum */
	len = make_v4(f, 6, 100, 0);
	put16(f + 34 + 16, right(f, 20, 6, 100));
	memcpy(copy, f, len);
	assert_int_equal(sl_dp_csum_complete(f, len), 0);
	assert_memory_equal(f, copy, len);
	/* a wrong one that is not the pseudo sum: corruption stays */
	put16(f + 34 + 16, 0x1234);
	memcpy(copy, f, len);
	assert_int_equal(sl_dp_csum_complete(f, len), 0);
	assert_memory_equal(f, copy, len);
	/* a fragment, even with the pseudo sum in place */
	len = make_v4(f, 17, 100, 0x2000 /* MF */);
	make_partial(f, 20, 17, 100);
	assert_int_equal(sl_dp_csum_complete(f, len), 0);
	/* ICMP */
	len = make_v4(f, 1, 64, 0);
	assert_int_equal(sl_dp_csum_complete(f, len), 0);
	/* ARP, short, truncated (total length beyond the frame) */
	memset(f, 0, 60);
	put16(f + 12, 0x0806);
	assert_int_equal(sl_dp_csum_complete(f, 60), 0);
	len = make_v4(f, 6, 100, 0);
	make_partial(f, 20, 6, 100);
	assert_int_equal(sl_dp_csum_complete(f, 30), 0);
	assert_int_equal(sl_dp_csum_complete(f, len - 1), 0);
	/* IPv6 with an extension header first */
	len = make_v6(f, 0 /* hop-by-hop */, 64);
	assert_int_equal(sl_dp_csum_complete(f, len), 0);
}

static void test_mark_ce(void **state)
{
	uint8_t f[2048];
	uint32_t len;

	len = make_v4(f, 17, 20, 0);
	assert_int_equal(sl_dp_mark_ce(f, len), 0); /* not ECN-capable */
	assert_int_equal(f[15] & 3, 0);
	f[15] = 0x02; /* ECT(0) */
	put16(f + 24, 0);
	put16(f + 24, (uint16_t)~ref_fold(ref_add(0, f + 14, 20)));
	assert_int_equal(sl_dp_mark_ce(f, len), 1);
	assert_int_equal(f[15], 0x03);
	assert_int_equal(ref_fold(ref_add(0, f + 14, 20)), 0xffff);
	assert_int_equal(sl_dp_mark_ce(f, len), 1); /* already CE */
	assert_int_equal(ref_fold(ref_add(0, f + 14, 20)), 0xffff);

	len = make_v6(f, 17, 20);
	assert_int_equal(sl_dp_mark_ce(f, len), 0);
	f[15] = 0x10; /* ECT(1) in the traffic class */
	assert_int_equal(sl_dp_mark_ce(f, len), 1);
	assert_int_equal(f[15] & 0x30, 0x30);
	assert_int_equal(f[14], 0x60);
}

static void test_api_errors_without_a_wire(void **state)
{
	struct sl_dataplane_link l = {
		.topo = "t", .link = 3, .ifindex = { 100, 101 },
		.policy = { "{\"delay\": \"soon\"}", NULL }, .seed = 1,
	};
	struct sl_dataplane *dp;
	struct json_object *o;
	struct sl_err err;
	int fd = open("/proc/self/ns/net", O_RDONLY);

	assert_true(fd >= 0);
	l.fabric_netns_fd = fd;
	dp = sl_dataplane_new(2, &err);
	assert_non_null(dp);
	assert_int_equal(sl_dataplane_add_link(dp, &l, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "link t:3 direction up: delay: \"soon\" is not a time; expected a number with a unit such as 10ms, 250us, 1s");
	assert_false(sl_dataplane_has_link(dp, "t", 3));
	assert_int_equal(sl_dataplane_n_links(dp), 0);
	assert_int_equal(sl_dataplane_remove_link(dp, "t", 3, &err), -ENOENT);
	assert_string_equal(err.msg, "link t:3 is not in the dataplane");
	assert_int_equal(sl_dataplane_set_policy(dp, "t", 3, 0, "{}", &err),
			 -ENOENT);
	assert_string_equal(err.msg, "link t:3 is not in the dataplane");
	assert_int_equal(sl_dataplane_stats(dp, "t", 3, 1, &o, &err), -ENOENT);
	assert_null(o);
	assert_int_equal(sl_dataplane_remove_topology(dp, "t"), 0);
	sl_dataplane_free(dp);
	sl_dataplane_free(NULL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4_partial_is_completed),
		cmocka_unit_test(test_udp4_and_v6_partial_are_completed),
		cmocka_unit_test(test_frames_left_alone),
		cmocka_unit_test(test_mark_ce),
		cmocka_unit_test(test_api_errors_without_a_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
