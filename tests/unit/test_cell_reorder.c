// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_reorder.c - netem reordering (lib/cells/reorder.c): packets
 * sent at once leave at their arrival, the others after the delay and in
 * order; after a packet sent at once the next gap - 1 are always delayed;
 * the share of packets sent at once matches the model (1 / (gap - 1 +
 * 1/p)); 100% with gap 1 reorders nothing (every packet at once); errors.
 */
#include <math.h>

#include "test_cell_harness.h"

static void run(const char *cfg, unsigned n, unsigned *at_once,
		unsigned *overtakes, unsigned gap)
{
	struct harness *h = h_new(n);
	struct sl_cell *c = h_cell(h, cfg, 9);
	struct sl_pkt **out = calloc(n, sizeof(*out));
	unsigned i, got = 0, since = 1000000;
	bool *quick = calloc(n, sizeof(*quick));

	for (i = 0; i < n; i++)
		sl_cell_enqueue(c, h_pkt(h, 100), (uint64_t)i * MS);
	got = h_collect(c, (uint64_t)n * MS + SL_NSEC_PER_SEC, out, n);
	assert_int_equal(got, n);
	*at_once = *overtakes = 0;
	for (i = 0; i < n; i++) {
		struct sl_pkt *p = out[i];
		uint64_t arr = p->user * MS;

		assert_true(p->ts_depart == arr || p->ts_depart == arr + 10 * MS);
		quick[p->user] = p->ts_depart == arr;
		if (i && p->user < out[i - 1]->user)
			(*overtakes)++;
	}
	for (i = 0; i < n; i++) {
		if (quick[i]) {
			(*at_once)++;
			assert_true(since >= gap - 1); /* gap - 1 delayed before */
			since = 0;
		} else {
			since++;
		}
	}
	free(quick);
	free(out);
	sl_cell_free(c);
	h_free(h);
}

static void test_model(void **state)
{
	unsigned at_once, overtakes;
	const unsigned n = 100000;
	double want;

	run("{\"type\": \"reorder\", \"delay\": \"10ms\", \"reorder\": \"25%\", \"gap\": 5}", n,
	    &at_once, &overtakes, 5);
	want = 1.0 / (4 + 1 / 0.25); /* 4 forced, then geometric: 1 in 8 */
	print_message("# gap 5, 25%%: %.4f sent at once (model %.4f), %u overtakes\n",
		      (double)at_once / n, want, overtakes);
	assert_true(fabs((double)at_once / n - want) <= 0.03 * want);
	assert_true(overtakes > 0);
	run("{\"type\": \"reorder\", \"delay\": \"10ms\", \"reorder\": \"10%\"}", n,
	    &at_once, &overtakes, 1);
	assert_true(fabs((double)at_once / n - 0.1) <= 0.003);
	run("{\"type\": \"reorder\", \"delay\": \"10ms\", \"reorder\": \"0%\"}", 1000,
	    &at_once, &overtakes, 1);
	assert_int_equal(at_once, 0);
	assert_int_equal(overtakes, 0);
}

static void test_errors(void **state)
{
	struct harness *h = h_new(2);
	struct sl_cell *c = h_cell(h, "{\"type\": \"reorder\", \"delay\": \"1ms\", \"reorder\": \"5%\"}", 1);
	struct sl_err err = { "" };
	struct json_object *t;

	assert_int_equal(h_control(c, "{\"gap\": 3, \"reorder\": 0.5}", 0, &err), 0);
	t = sl_cell_telemetry(c);
	assert_int_equal(json_object_get_int(json_object_object_get(t, "gap")), 3);
	assert_true(json_object_get_double(json_object_object_get(t, "reorder")) == 0.5);
	json_object_put(t);
	assert_int_equal(h_control(c, "{\"gap\": 0}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "gap: expected at least 1");
	sl_cell_free(c);
	h_free(h);
	assert_string_equal(h_cell_err("{\"type\": \"reorder\", \"reorder\": \"5%\"}"),
		"delay: missing; expected a number with a unit such as 10ms, 250us, 1s (reordering needs a delay to overtake)");
	assert_string_equal(h_cell_err("{\"type\": \"reorder\", \"delay\": \"1ms\"}"),
		"reorder: missing; expected the probability that a packet is sent at once, such as 25%");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
