// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_corrupt.c - corruption (lib/cells/corrupt.c): a corrupted
 * packet differs from its original in exactly one bit, never in the
 * skipped header, checksums untouched (so wrong); every bit position is
 * reachable; the share of corrupted packets is the probability; packets
 * without data are only flagged; errors.
 */
#include <math.h>

#include "test_cell_harness.h"

static void test_one_bit(void **state)
{
	const unsigned n = 100000, len = 64;
	struct harness *h = h_new(1);
	struct sl_cell *c = h_cell(h, "{\"type\": \"corrupt\", \"corrupt\": \"20%\"}", 4);
	struct sl_pkt *p = h_pkt(h, len), *out[2];
	static uint8_t data[64], orig[64];
	static unsigned hits[64 * 8];
	unsigned i, b, flips, bad = 0;
	double sigma = sqrt(n * 0.2 * 0.8);

	for (i = 0; i < len; i++)
		orig[i] = (uint8_t)(i * 37);
	p->data = data;
	for (i = 0; i < n; i++) {
		memcpy(data, orig, len);
		p->flags = 0;
		sl_cell_enqueue(c, p, i);
		assert_int_equal(h_collect(c, i, out, 2), 1);
		flips = 0;
		for (b = 0; b < len * 8; b++)
			if ((data[b / 8] ^ orig[b / 8]) & (1u << (b % 8))) {
				flips++;
				hits[b]++;
			}
		assert_int_equal(flips, !!(p->flags & SL_PKT_CORRUPT));
		bad += flips;
	}
	assert_true(fabs(bad - n * 0.2) <= 4 * sigma);
	for (b = 0; b < 14 * 8; b++)
		assert_int_equal(hits[b], 0); /* the Ethernet header is kept */
	for (; b < len * 8; b++)
		assert_true(hits[b] > 0);
	sl_cell_free(c);
	h_free(h);
}

static void test_no_data_and_errors(void **state)
{
	struct harness *h = h_new(2);
	struct sl_cell *c = h_cell(h, "{\"type\": \"corrupt\", \"corrupt\": 1, \"skip\": 0}", 4);
	struct sl_pkt *out[2];
	struct sl_err err = { "" };

	sl_cell_enqueue(c, h_pkt(h, 100), 0);
	assert_int_equal(h_collect(c, 0, out, 2), 1);
	assert_true(out[0]->flags & SL_PKT_CORRUPT);
	assert_int_equal(h_control(c, "{\"skip\": 70000}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "skip: 70000 is more than 65535 bytes");
	sl_cell_free(c);
	h_free(h);
	assert_string_equal(h_cell_err("{\"type\": \"corrupt\"}"),
		"corrupt: missing; expected the probability that a packet is corrupted, such as 0.1%");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_bit),
		cmocka_unit_test(test_no_data_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
