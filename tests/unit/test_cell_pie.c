// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_pie.c - PIE (lib/cells/pie.c) as the queue of a rate cell:
 * it holds its target delay (median sojourn within 25% of target once
 * converged) under a 2x unresponsive overload and under responsive
 * senders, for two targets; the burst allowance lets a short burst pass
 * untouched; the probability decays when the load goes; telemetry,
 * control() and errors.
 */
#include <math.h>

#include <sluice/cellkit.h>

#include "test_cell_harness.h"

#define SEC SL_NSEC_PER_SEC

static double telem_double(struct sl_cell *c, const char *key)
{
	struct json_object *t = sl_cell_telemetry(c), *q, *v;
	double x;

	assert_true(json_object_object_get_ex(t, "queue", &q));
	assert_true(json_object_object_get_ex(q, key, &v));
	x = json_object_get_double(v);
	json_object_put(t);
	return x;
}

static void test_holds_target_unresponsive(void **state)
{
	static const char *const cfgs[] = {
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"pie\"}}",
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"pie\", \"target\": \"30ms\"}}",
	};
	static const uint64_t target[] = { 15 * MS, 30 * MS };
	unsigned k;

	for (k = 0; k < 2; k++) {
		struct sl_cell *c = h_cell(NULL, cfgs[k], 1);
		struct h_link l;
		uint64_t med;

		hl_init(&l, 4096);
		hl_run(&l, c, 0, 600 * US, 1500, 60 * SEC, 30 * SEC, NULL);
		med = hl_median(&l);
		print_message("# unresponsive 2x, target %.0f ms: median sojourn %.2f ms, p10 %.2f, p90 %.2f; drop_prob %.3f; aqm %lu tail %lu\n",
			      (double)target[k] / MS, (double)med / MS,
			      (double)l.soj[l.n_soj / 10] / MS,
			      (double)l.soj[l.n_soj * 9 / 10] / MS,
			      telem_double(c, "drop_prob"), l.drops[SL_DROP_AQM],
			      l.drops[SL_DROP_QUEUE]);
		assert_true(fabs((double)med - (double)target[k]) <= 0.25 * target[k]);
		assert_true(l.n_soj * 1500 * 8 >= 0.99 * 10e6 * 30);
		assert_true(fabs(telem_double(c, "drop_prob") - 0.5) < 0.1);
		sl_cell_free(c);
		hl_fini(&l);
	}
}

static void test_holds_target_responsive(void **state)
{
	struct sl_cell *c = h_cell(NULL,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"pie\"}}", 1);
	static struct h_tcp tcp;
	struct h_link l;
	uint64_t med;
	double mbit;

	hl_init(&l, 8192);
	ht_run(&tcp, &l, c, 4, 20000000, 100 * MS, 100 * US, 60 * SEC, 30 * SEC);
	med = hl_median(&l);
	mbit = (double)l.n_soj * 1500 * 8 / 30e6;
	print_message("# 4 Reno-like flows, 100 ms RTT: median sojourn %.2f ms, p90 %.2f ms; %.2f Mbit/s\n",
		      (double)med / MS, (double)l.soj[l.n_soj * 9 / 10] / MS, mbit);
	assert_true(med <= 15 * MS * 5 / 4);
	assert_true(mbit >= 9.5);
	sl_cell_free(c);
	hl_fini(&l);
}

/* 100 packets at once into an idle PIE: the burst allowance passes all. */
static void test_burst_allowance(void **state)
{
	struct sl_cell *c = h_cell(NULL,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"pie\"}}", 1);
	struct h_link l;

	hl_init(&l, 512);
	hl_run(&l, c, 0, 10 * US, 1500, 1000 * US, 0, NULL);	/* 100 at once */
	hl_run(&l, c, 1000 * US, 10 * MS, 1500, 2 * SEC, 0, NULL); /* then light */
	assert_int_equal(l.drops[SL_DROP_AQM], 0);
	assert_int_equal(l.out, l.in);
	sl_cell_free(c);
	hl_fini(&l);
}

/* Overload, then a light load: the probability decays to 0. */
static void test_decay(void **state)
{
	struct sl_cell *c = h_cell(NULL,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"pie\"}}", 1);
	struct h_link l;
	uint64_t t;

	hl_init(&l, 4096);
	t = hl_run(&l, c, 0, 600 * US, 1500, 20 * SEC, 0, NULL);
	assert_true(telem_double(c, "drop_prob") > 0.3);
	hl_run(&l, c, t, 5 * MS, 1500, t + 60 * SEC, 0, NULL);
	assert_true(telem_double(c, "drop_prob") < 1e-6);
	/* a long idle time is caught up without a loop per update */
	hl_run(&l, c, t + 3600 * SEC, 5 * MS, 1500, t + 3601 * SEC, 0, NULL);
	assert_true(telem_double(c, "drop_prob") == 0);
	sl_cell_free(c);
	hl_fini(&l);
}

static void test_control_errors(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *c = h_cell(h, "{\"type\": \"pie\"}", 1);
	struct sl_err err = { "" };
	struct json_object *t, *v;

	assert_int_equal(h_control(c, "{\"target\": \"20ms\", \"alpha\": 0.25, \"ecn\": true}", 0, &err), 0);
	t = sl_cell_telemetry(c);
	json_object_object_get_ex(t, "target_ns", &v);
	assert_int_equal(json_object_get_int64(v), 20 * MS);
	json_object_object_get_ex(t, "alpha", &v);
	assert_true(json_object_get_double(v) == 0.25);
	json_object_put(t);
	assert_int_equal(h_control(c, "{\"beta\": \"x\"}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "beta: \"x\" is not a number; expected a number such as 0.125");
	assert_string_equal(h_cell_err("{\"type\": \"pie\", \"tupdate\": \"0ms\"}"),
		"tupdate: expected at least 1us");
	assert_string_equal(h_cell_err("{\"type\": \"pie\", \"alpha\": -1}"),
		"alpha: -1 is out of range; expected 0 to 1000");
	sl_cell_free(c);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holds_target_unresponsive),
		cmocka_unit_test(test_holds_target_responsive),
		cmocka_unit_test(test_burst_allowance),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_control_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
