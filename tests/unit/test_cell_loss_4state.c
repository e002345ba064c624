// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_loss_4state.c - the 4-state Markov loss model
 * (lib/cells/loss_4state.c): over 1M packets the loss rate and the mean
 * burst length within 5% of the closed forms from the stationary
 * distribution; exact behaviour of degenerate chains; tc's defaults;
 * control(); errors.
 */
#include <math.h>

#include "test_cell_harness.h"

static void run(struct sl_cell *c, struct harness *h, unsigned long n,
		unsigned long *lost, unsigned long *bursts)
{
	struct sl_pkt *p = h_pkt(h, 100), *out[2];
	uint64_t t0 = c->t_last;
	bool prev = false, l;
	unsigned long i;

	*lost = *bursts = 0;
	for (i = 0; i < n; i++) {
		h->n_dropped = 0;
		sl_cell_enqueue(c, p, t0 + i);
		l = h->n_dropped;
		if (!l)
			assert_int_equal(h_collect(c, t0 + i, out, 2), 1);
		*lost += l;
		*bursts += l && !prev;
		prev = l;
	}
}

/*
 * Stationary distribution: pi4 = pi1 p14, pi3 p31 = pi1 p13,
 * pi2 p23 = pi3 p32, normalised. Loss = pi3 + pi4. A burst starts when
 * the chain enters {3, 4} from {1, 2}: rate pi1 (p13 + p14) + pi2 p23;
 * mean burst = loss / that rate.
 */
static void model(double p13, double p31, double p32, double p23, double p14,
		  double *loss, double *burst)
{
	double x1 = 1, x3 = p13 / p31, x2 = x3 * p32 / p23, x4 = p14;
	double sum = x1 + x2 + x3 + x4;

	*loss = (x3 + x4) / sum;
	*burst = (x3 + x4) / (x1 * (p13 + p14) + x2 * p23);
}

static void test_closed_forms(void **state)
{
	static const struct {
		const char *cfg;
		double p13, p31, p32, p23, p14;
	} cases[] = {
		{ "{\"type\": \"loss_4state\", \"p13\": \"1%\", \"p31\": \"30%\", \"p32\": \"10%\", \"p23\": \"20%\", \"p14\": \"0.5%\"}",
		  0.01, 0.30, 0.10, 0.20, 0.005 },
		{ "{\"type\": \"loss_4state\", \"p13\": \"0.2%\", \"p31\": \"60%\", \"p32\": \"30%\", \"p23\": \"50%\", \"p14\": \"2%\"}",
		  0.002, 0.60, 0.30, 0.50, 0.02 },
		{ "{\"type\": \"loss_4state\", \"p13\": 0.05, \"p31\": 0.2, \"p32\": 0.05, \"p23\": 0.9, \"p14\": 0}",
		  0.05, 0.2, 0.05, 0.9, 0 },
	};
	const unsigned long n = 1000000;
	unsigned k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct harness *h = h_new(4);
		struct sl_cell *c = h_cell(h, cases[k].cfg, 200 + k);
		unsigned long lost, bursts;
		double loss, burst, gl, gb;

		run(c, h, n, &lost, &bursts);
		model(cases[k].p13, cases[k].p31, cases[k].p32, cases[k].p23,
		      cases[k].p14, &loss, &burst);
		gl = (double)lost / n;
		gb = (double)lost / bursts;
		print_message("# %s: loss %.5f (model %.5f), burst %.4f (model %.4f)\n",
			      cases[k].cfg, gl, loss, gb, burst);
		assert_true(fabs(gl - loss) <= 0.05 * loss);
		assert_true(fabs(gb - burst) <= 0.05 * burst);
		sl_cell_free(c);
		h_free(h);
	}
}

static void test_exact_chains(void **state)
{
	struct harness *h = h_new(4);
	/* 1 -> 4 -> 1 -> 4 ...: every second packet lost, alone */
	struct sl_cell *c = h_cell(h, "{\"type\": \"loss_4state\", \"p13\": 0, \"p14\": 1}", 1);
	struct sl_cell *d = h_cell(h, "{\"type\": \"loss_4state\", \"p13\": 1, \"p31\": 0, \"p32\": 0}", 1);
	struct sl_err err = { "" };
	unsigned long lost, bursts;

	run(c, h, 1000, &lost, &bursts);
	assert_int_equal(lost, 500);
	assert_int_equal(bursts, 500);
	run(d, h, 1000, &lost, &bursts); /* into 3 and stuck there */
	assert_int_equal(lost, 1000);
	assert_int_equal(bursts, 1);
	/* leave 3 for 2 and come back: lose, keep, lose, keep ... */
	assert_int_equal(h_control(d, "{\"p32\": 1, \"p23\": 1}", 5000, &err), 0);
	run(d, h, 1000, &lost, &bursts);
	assert_int_equal(lost, 500);
	sl_cell_free(c);
	sl_cell_free(d);
	h_free(h);
}

static void test_defaults(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *c = h_cell(h, "{\"type\": \"loss_4state\", \"p13\": \"10%\"}", 9);
	struct json_object *t = sl_cell_telemetry(c), *v;

	assert_true(json_object_object_get_ex(t, "p31", &v));
	assert_true(fabs(json_object_get_double(v) - 0.9) < 1e-12);
	assert_true(json_object_object_get_ex(t, "p23", &v));
	assert_true(json_object_get_double(v) == 1.0);
	assert_true(json_object_object_get_ex(t, "state", &v));
	assert_int_equal(json_object_get_int(v), 1);
	json_object_put(t);
	sl_cell_free(c);
	h_free(h);
}

static void test_errors(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *c = h_cell(h, "{\"type\": \"loss_4state\", \"p13\": \"10%\"}", 9);
	struct sl_err err = { "" };

	assert_string_equal(h_cell_err("{\"type\": \"loss_4state\"}"),
		"p13: missing; expected the probability that a burst starts, such as 1%");
	assert_string_equal(h_cell_err("{\"type\": \"loss_4state\", \"p13\": \"60%\", \"p14\": \"50%\"}"),
		"p13 + p14: 1.1 is more than 1; they leave state 1 together");
	assert_string_equal(h_cell_err("{\"type\": \"loss_4state\", \"p13\": \"1%\", \"p31\": \"60%\", \"p32\": \"50%\"}"),
		"p31 + p32: 1.1 is more than 1; they leave state 3 together");
	assert_int_equal(h_control(c, "{\"p32\": \"50%\"}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "p31 + p32: 1.4 is more than 1; they leave state 3 together");
	sl_cell_free(c);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_forms),
		cmocka_unit_test(test_exact_chains),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
