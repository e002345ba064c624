// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_loss.c - Bernoulli loss (lib/cells/loss.c): the count over
 * 100k packets lies within 4 sigma of the binomial mean for several
 * seeds; one seed always loses the same packets; 0% and 100%; survivors
 * pass at once in order; control() changes the probability.
 */
#include <math.h>

#include "test_cell_harness.h"

/* Sends n packets through c one by one; returns how many were lost and
 * folds the pattern of losses into *hash. */
static unsigned run(struct harness *h, struct sl_cell *c, unsigned n,
		    uint64_t t0, uint64_t *hash)
{
	struct sl_pkt *p = h_pkt(h, 100), *out[2];
	unsigned i, lost = 0, before;

	*hash = 1469598103934665603ull;
	for (i = 0; i < n; i++) {
		before = h->n_dropped;
		h->n_dropped = 0; /* reuse the record slot */
		sl_cell_enqueue(c, p, t0 + i);
		if (h->n_dropped) {
			lost++;
			*hash = (*hash ^ i) * 1099511628211ull;
		} else {
			assert_int_equal(h_collect(c, t0 + i, out, 2), 1);
			assert_ptr_equal(out[0], p);
			assert_int_equal(p->ts_depart, t0 + i);
		}
		h->n_dropped = before;
	}
	return lost;
}

static void test_binomial_bounds(void **state)
{
	static const struct {
		const char *cfg;
		double p;
	} cases[] = {
		{ "{\"type\": \"loss\", \"loss\": \"1%\", \"seed\": 1}", 0.01 },
		{ "{\"type\": \"loss\", \"loss\": \"1%\", \"seed\": 2}", 0.01 },
		{ "{\"type\": \"loss\", \"loss\": \"0.1%\", \"seed\": 3}", 0.001 },
		{ "{\"type\": \"loss\", \"loss\": \"25%\", \"seed\": 4}", 0.25 },
		{ "{\"type\": \"loss\", \"loss\": 0.5, \"seed\": 5}", 0.5 },
	};
	const unsigned n = 100000;
	unsigned k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct harness *h = h_new(4);
		struct sl_cell *c = h_cell(h, cases[k].cfg, 999);
		double mean = n * cases[k].p;
		double sigma = sqrt(n * cases[k].p * (1 - cases[k].p));
		struct sl_cell_stats st;
		uint64_t hash;
		unsigned lost = run(h, c, n, 0, &hash);

		if (fabs(lost - mean) > 4 * sigma)
			print_error("%s: %u lost, mean %.0f sigma %.1f\n",
				    cases[k].cfg, lost, mean, sigma);
		assert_true(fabs(lost - mean) <= 4 * sigma);
		sl_cell_stats(c, &st);
		assert_int_equal(st.drops[SL_DROP_LOSS], lost);
		assert_int_equal(st.pkts_out, n - lost);
		assert_int_equal(st.qlen_pkts, 0);
		sl_cell_free(c);
		h_free(h);
	}
}

static void test_seeded(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *a = h_cell(h, "{\"type\": \"loss\", \"loss\": \"5%\"}", 42);
	struct sl_cell *b = h_cell(h, "{\"type\": \"loss\", \"loss\": \"5%\"}", 42);
	struct sl_cell *c = h_cell(h, "{\"type\": \"loss\", \"loss\": \"5%\", \"seed\": 43}", 42);
	uint64_t ha, hb, hc;
	unsigned la, lb, lc;

	la = run(h, a, 20000, 0, &ha);
	h->used = 0;
	lb = run(h, b, 20000, 5 * MS, &hb); /* times do not matter */
	h->used = 0;
	lc = run(h, c, 20000, 0, &hc);
	assert_int_equal(la, lb);
	assert_int_equal(ha, hb);
	assert_int_not_equal(ha, hc);
	(void)lc;
	sl_cell_free(a);
	sl_cell_free(b);
	sl_cell_free(c);
	h_free(h);
}

static void test_extremes_and_control(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *c = h_cell(h, "{\"type\": \"loss\", \"loss\": \"0%\"}", 1);
	struct sl_err err = { "" };
	uint64_t hash;

	assert_int_equal(run(h, c, 10000, 0, &hash), 0);
	assert_int_equal(h_control(c, "{\"loss\": \"100%\"}", 10000, &err), 0);
	h->used = 0;
	assert_int_equal(run(h, c, 10000, 10000, &hash), 10000);
	assert_int_equal(h_control(c, "{\"loss\": \"101%\"}", 20000, &err), -EINVAL);
	assert_string_equal(err.msg, "loss: \"101%\" is not a fraction; expected a percentage from 0% to 100% such as 1% or 0.5%, or a fraction from 0 to 1 such as 0.01");
	h->used = 0;
	assert_int_equal(run(h, c, 100, 20000, &hash), 100); /* unchanged */
	sl_cell_free(c);
	h_free(h);
}

static void test_order_kept(void **state)
{
	struct harness *h = h_new(64);
	struct sl_cell *c = h_cell(h, "{\"type\": \"loss\", \"loss\": \"30%\", \"seed\": 9}", 1);
	struct sl_pkt *out[64];
	unsigned i, n;

	for (i = 0; i < 64; i++)
		sl_cell_enqueue(c, h_pkt(h, 100), i * US);
	n = h_collect(c, 1 * MS, out, 64);
	assert_int_equal(n + h->n_dropped, 64);
	for (i = 1; i < n; i++)
		assert_true(out[i]->user > out[i - 1]->user);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i]->ts_depart, out[i]->user * US);
	sl_cell_free(c);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"loss\"}"),
		"loss: missing; expected a percentage from 0% to 100% such as 1% or 0.5%, or a fraction from 0 to 1 such as 0.01");
	assert_string_equal(h_cell_err("{\"type\": \"loss\", \"loss\": [1]}"),
		"loss: expected a percentage from 0% to 100% such as 1% or 0.5%, or a fraction from 0 to 1 such as 0.01, got a list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binomial_bounds),
		cmocka_unit_test(test_seeded),
		cmocka_unit_test(test_extremes_and_control),
		cmocka_unit_test(test_order_kept),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
