// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_duplicate.c - duplication (lib/cells/duplicate.c): copies
 * follow their original at once, flagged, with the same bytes; their
 * share is the probability (binomial, 4 sigma); no clone callback or no
 * free frame skips the copy and counts it; errors.
 */
#include <math.h>

#include "test_cell_harness.h"

static struct sl_pkt clones[20000];
static unsigned n_clones, clone_limit;

static struct sl_pkt *fake_clone(const struct sl_pkt *p, void *ctx)
{
	if (n_clones >= clone_limit)
		return NULL;
	clones[n_clones] = *p;
	clones[n_clones].user = 1000000 + n_clones;
	return &clones[n_clones++];
}

static void test_share_and_order(void **state)
{
	const unsigned n = 100000;
	struct harness *h = h_new(1);
	struct sl_cell *c = h_cell(h, "{\"type\": \"duplicate\", \"duplicate\": \"10%\"}", 3);
	struct sl_pkt *p = h_pkt(h, 100), *out[4];
	unsigned i, k, dups = 0;
	static uint8_t data[4] = { 1, 2, 3, 4 };
	double sigma = sqrt(n * 0.1 * 0.9);
	struct json_object *t;

	n_clones = 0;
	clone_limit = 20000;
	h->env.clone = fake_clone;
	sl_cell_set_env(c, &h->env);
	p->data = data;
	for (i = 0; i < n; i++) {
		p->flags = 0;
		sl_cell_enqueue(c, p, i);
		k = h_collect(c, i, out, 4);
		assert_ptr_equal(out[0], p);
		if (k == 2) {
			dups++;
			assert_true(out[1]->flags & SL_PKT_CLONE);
			assert_ptr_equal(out[1]->data, data);
			assert_int_equal(out[1]->ts_depart, i);
		} else {
			assert_int_equal(k, 1);
		}
	}
	assert_true(fabs(dups - n * 0.1) <= 4 * sigma);
	t = sl_cell_telemetry(c);
	assert_int_equal(json_object_get_int(json_object_object_get(t, "copies")), dups);
	assert_int_equal(json_object_get_int(json_object_object_get(t, "pkts_out")), n + dups);
	json_object_put(t);
	/* out of frames: skipped and counted */
	clone_limit = n_clones;
	for (i = 0; i < 100; i++) {
		sl_cell_enqueue(c, p, n + i);
		assert_int_equal(h_collect(c, n + i, out, 4), 1);
	}
	t = sl_cell_telemetry(c);
	assert_true(json_object_get_int(json_object_object_get(t, "clone_failed")) > 0);
	json_object_put(t);
	sl_cell_free(c);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"duplicate\"}"),
		"duplicate: missing; expected the probability that a packet is sent twice, such as 1%");
	assert_string_equal(h_cell_err("{\"type\": \"duplicate\", \"duplicate\": \"200%\"}"),
		"duplicate: \"200%\" is not a fraction; expected a percentage from 0% to 100% such as 1% or 0.5%, or a fraction from 0 to 1 such as 0.01");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share_and_order),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
