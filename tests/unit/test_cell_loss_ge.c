// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_loss_ge.c - Gilbert-Elliott loss (lib/cells/loss_ge.c): over
 * 1M packets the loss rate and the mean burst length (run of consecutive
 * losses) are within 5% of the closed forms, for the simple Gilbert model
 * and for a general h and k; one seed gives one pattern; defaults;
 * control(); errors.
 */
#include <math.h>

#include "test_cell_harness.h"

struct run {
	unsigned long lost, bursts;
	uint64_t hash;
};

/* Sends n packets through c; counts losses and bursts of losses. */
static void run(struct sl_cell *c, struct harness *h, unsigned long n,
		struct run *r)
{
	uint64_t t0 = c->t_last;
	struct sl_pkt *p = h_pkt(h, 100), *out[2];
	bool prev = false, lost;
	unsigned long i;

	memset(r, 0, sizeof(*r));
	r->hash = 1469598103934665603ull;
	for (i = 0; i < n; i++) {
		h->n_dropped = 0;
		sl_cell_enqueue(c, p, t0 + i);
		lost = h->n_dropped;
		if (!lost)
			assert_int_equal(h_collect(c, t0 + i, out, 2), 1);
		if (lost) {
			r->lost++;
			r->hash = (r->hash ^ i) * 1099511628211ull;
		}
		if (lost && !prev)
			r->bursts++;
		prev = lost;
	}
}

/*
 * The closed forms: stationary pi_B = p / (p + r); loss = pi_G e_G +
 * pi_B e_B with e_G = 1-k, e_B = 1-h; a burst ends where a loss is
 * followed by a delivery: P(L, not L next) = sum_s pi_s e_s
 * sum_s' T(s, s') (1 - e_s'); mean burst = loss / that.
 */
static void model(double p, double r, double eb, double eg, double *loss,
		  double *burst)
{
	double pb = p / (p + r), pg = 1 - pb;
	double end = pg * eg * ((1 - p) * (1 - eg) + p * (1 - eb)) +
		     pb * eb * (r * (1 - eg) + (1 - r) * (1 - eb));

	*loss = pg * eg + pb * eb;
	*burst = *loss / end;
}

static void test_closed_forms(void **state)
{
	static const struct {
		const char *cfg;
		double p, r, h1, k1;
	} cases[] = {
		{ "{\"type\": \"loss_ge\", \"p\": \"1%\", \"r\": \"25%\"}", 0.01, 0.25, 1, 0 },
		{ "{\"type\": \"loss_ge\", \"p\": \"2%\", \"r\": \"30%\", \"1-h\": \"70%\", \"1-k\": \"0.5%\"}",
		  0.02, 0.30, 0.70, 0.005 },
		{ "{\"type\": \"loss_ge\", \"p\": 0.05, \"r\": 0.5, \"1-h\": 0.9, \"1-k\": 0.01}",
		  0.05, 0.5, 0.9, 0.01 },
	};
	const unsigned long n = 1000000;
	unsigned k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct harness *h = h_new(4);
		struct sl_cell *c = h_cell(h, cases[k].cfg, 100 + k);
		double loss, burst, got_loss, got_burst;
		struct sl_cell_stats st;
		struct run r;

		run(c, h, n, &r);
		model(cases[k].p, cases[k].r, cases[k].h1, cases[k].k1, &loss,
		      &burst);
		got_loss = (double)r.lost / n;
		got_burst = (double)r.lost / r.bursts;
		print_message("# %s: loss %.5f (model %.5f), burst %.4f (model %.4f)\n",
			      cases[k].cfg, got_loss, loss, got_burst, burst);
		assert_true(fabs(got_loss - loss) <= 0.05 * loss);
		assert_true(fabs(got_burst - burst) <= 0.05 * burst);
		sl_cell_stats(c, &st);
		assert_int_equal(st.drops[SL_DROP_LOSS], r.lost);
		assert_int_equal(st.pkts_out, n - r.lost);
		sl_cell_free(c);
		h_free(h);
	}
}

static void test_seeded_and_defaults(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *a = h_cell(h, "{\"type\": \"loss_ge\", \"p\": \"3%\"}", 5);
	struct sl_cell *b = h_cell(h, "{\"type\": \"loss_ge\", \"p\": \"3%\"}", 5);
	struct sl_cell *c = h_cell(h, "{\"type\": \"loss_ge\", \"p\": \"3%\"}", 6);
	struct json_object *t, *v;
	struct run ra, rb, rc;

	run(a, h, 100000, &ra);
	run(b, h, 100000, &rb);
	run(c, h, 100000, &rc);
	assert_int_equal(ra.hash, rb.hash);
	assert_int_not_equal(ra.hash, rc.hash);
	/* r = 100%, 1-h = 100%, 1-k = 0: every Bad packet is lost alone */
	assert_int_equal(ra.lost, ra.bursts);
	t = sl_cell_telemetry(a);
	assert_true(json_object_object_get_ex(t, "r", &v));
	assert_true(json_object_get_double(v) == 1.0);
	assert_true(json_object_object_get_ex(t, "1-k", &v));
	assert_true(json_object_get_double(v) == 0.0);
	assert_true(json_object_object_get_ex(t, "state", &v));
	json_object_put(t);
	sl_cell_free(a);
	sl_cell_free(b);
	sl_cell_free(c);
	h_free(h);
}

static void test_control(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *c = h_cell(h, "{\"type\": \"loss_ge\", \"p\": \"0%\"}", 5);
	struct sl_err err = { "" };
	struct run r;

	run(c, h, 10000, &r);
	assert_int_equal(r.lost, 0);
	assert_int_equal(h_control(c, "{\"p\": \"100%\", \"r\": \"0%\"}", 20000, &err), 0);
	run(c, h, 10000, &r); /* the first packet finds Good, then all Bad */
	assert_int_equal(r.lost, 9999);
	assert_int_equal(h_control(c, "{\"1-h\": \"1.5\"}", 40000, &err), -EINVAL);
	assert_string_equal(err.msg, "1-h: \"1.5\" is not a fraction; expected a percentage from 0% to 100% such as 1% or 0.5%, or a fraction from 0 to 1 such as 0.01");
	sl_cell_free(c);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"loss_ge\"}"),
		"p: missing; expected the probability of entering the Bad state, such as 1%");
	assert_string_equal(h_cell_err("{\"type\": \"loss_ge\", \"p\": \"1%\", \"h\": \"1%\"}"),
		"unknown key \"h\"; expected one of p, r, 1-h, 1-k");
	assert_string_equal(h_cell_err("{\"type\": \"loss_ge\", \"p\": \"-1%\"}"),
		"p: \"-1%\" is not a fraction; expected a percentage from 0% to 100% such as 1% or 0.5%, or a fraction from 0 to 1 such as 0.01");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_forms),
		cmocka_unit_test(test_seeded_and_defaults),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
