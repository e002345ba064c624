// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_policer.c - the policer (lib/cells/policer.c): conforming
 * packets pass at once, the rest are dropped with reason "police", to the
 * nanosecond of the token bucket; oversized packets never conform;
 * control() changes the rate from now on.
 */
#include "test_cell_harness.h"

/* 12 Mbit/s: 1500 bytes per ms; burst two packets. */
static void test_conformance(void **state)
{
	struct harness *h = h_new(32);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"policer\", \"rate\": \"12mbit\", \"burst\": \"3000b\"}", 1);
	struct sl_pkt *out[32];
	struct sl_cell_stats st;
	unsigned n;

	sl_cell_enqueue(c, h_pkt(h, 1500), 0);	/* 0 pass */
	sl_cell_enqueue(c, h_pkt(h, 1500), 0);	/* 1 pass */
	sl_cell_enqueue(c, h_pkt(h, 1500), 0);	/* 2 drop */
	sl_cell_enqueue(c, h_pkt(h, 1500), MS - 1); /* 3 drop: 1499.9985 bytes */
	sl_cell_enqueue(c, h_pkt(h, 1500), MS);	/* 4 pass: exactly 1500 */
	sl_cell_enqueue(c, h_pkt(h, 750), 1500 * US); /* 5 pass */
	sl_cell_enqueue(c, h_pkt(h, 1), 1500 * US);   /* 6 drop */
	sl_cell_enqueue(c, h_pkt(h, 1500), 100 * MS); /* 7 pass: full again */
	sl_cell_enqueue(c, h_pkt(h, 1500), 100 * MS); /* 8 pass */
	sl_cell_enqueue(c, h_pkt(h, 1500), 100 * MS); /* 9 drop: capped at 3000 */
	assert_int_equal(h->n_dropped, 4);
	assert_int_equal(h->dropped[0], 2);
	assert_int_equal(h->dropped[1], 3);
	assert_int_equal(h->dropped[2], 6);
	assert_int_equal(h->dropped[3], 9);
	assert_int_equal(h->by_reason[SL_DROP_POLICE], 4);
	n = h_collect(c, 100 * MS, out, 32);
	assert_int_equal(n, 6);
	assert_int_equal(out[2]->user, 4);
	assert_int_equal(out[2]->ts_depart, MS); /* never delayed */
	sl_cell_stats(c, &st);
	assert_int_equal(st.drops[SL_DROP_POLICE], 4);
	assert_int_equal(st.sojourn_max, 0);
	sl_cell_free(c);
	h_free(h);
}

static void test_oversized_and_default_burst(void **state)
{
	struct harness *h = h_new(8);
	struct sl_cell *c = h_cell(h, "{\"type\": \"policer\", \"rate\": \"1gbit\"}", 1);

	sl_cell_enqueue(c, h_pkt(h, 1514), 0);
	sl_cell_enqueue(c, h_pkt(h, 1515), SL_NSEC_PER_SEC); /* > burst 1514 */
	assert_int_equal(h->n_dropped, 1);
	assert_int_equal(h->dropped[0], 1);
	sl_cell_free(c);
	h_free(h);
}

static void test_control(void **state)
{
	struct harness *h = h_new(8);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"policer\", \"rate\": \"8mbit\", \"burst\": \"1000b\"}", 1);
	struct sl_err err = { "" };

	sl_cell_enqueue(c, h_pkt(h, 1000), 0); /* empties the bucket */
	/* 0.5 ms at 8 Mbit/s = 500 bytes kept, then 16 Mbit/s */
	assert_int_equal(h_control(c, "{\"rate\": \"16mbit\"}", 500 * US, &err), 0);
	sl_cell_enqueue(c, h_pkt(h, 1000), 750 * US - 1); /* 999.998: drop */
	sl_cell_enqueue(c, h_pkt(h, 1000), 750 * US);     /* pass */
	assert_int_equal(h->n_dropped, 1);
	assert_int_equal(h->dropped[0], 1);
	assert_int_equal(h_control(c, "{\"burst\": \"lots\"}", MS, &err), -EINVAL);
	assert_string_equal(err.msg, "burst: \"lots\" is not a size in bytes; expected a size in bytes such as 1514b, 15kb or 1mb (k = 1024)");
	sl_cell_free(c);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"policer\", \"burst\": \"15kb\"}"),
		"rate: missing; expected a number with a unit such as 10mbit, 1gbit");
	assert_string_equal(h_cell_err("{\"type\": \"policer\", \"rate\": \"0mbit\"}"),
		"rate: \"0mbit\" is not a rate; expected a number with a unit such as 10mbit, 1gbit");
	assert_string_equal(h_cell_err("{\"type\": \"policer\", \"rate\": \"5mbit\", \"queue\": 5}"),
		"unknown key \"queue\"; expected one of rate, burst");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conformance),
		cmocka_unit_test(test_oversized_and_default_burst),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
