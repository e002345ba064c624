// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_delay.c - constant delay (lib/cells/delay.c) with a fake
 * clock: every packet leaves exactly D after it came, in order; the next
 * event is the head's departure; control() keeps queued packets on their
 * schedule and never reorders; the in-flight limit; errors.
 */
#include "test_cell_harness.h"

static void test_exact_d(void **state)
{
	enum { N = 1000 };
	struct harness *h = h_new(N);
	struct sl_cell *c = h_cell(h, "{\"type\": \"delay\", \"delay\": \"10ms\"}", 1);
	struct sl_pkt **out = calloc(N, sizeof(*out));
	static uint64_t arr[N];
	uint64_t t = 0, now, next;
	struct sl_cell_stats st;
	struct sl_rng r;
	unsigned i, n = 0;

	sl_rng_seed(&r, 5);
	for (i = 0; i < N; i++) {
		t += sl_rng_below(&r, 100 * US); /* several share a time */
		arr[i] = t;
		sl_cell_enqueue(c, h_pkt(h, 100 + i), t);
		if (i == 0) {
			assert_null(sl_cell_dequeue(c, t, &next));
			assert_int_equal(next, t + 10 * MS);
		}
	}
	/* walk the clock from event to event */
	for (now = t; n < N; now = next) {
		n += h_collect(c, now, out + n, N - n);
		if (n < N)
			assert_null(sl_cell_dequeue(c, now, &next));
	}
	for (i = 0; i < N; i++) {
		assert_int_equal(out[i]->user, i);
		assert_int_equal(out[i]->ts_depart, arr[i] + 10 * MS);
	}
	sl_cell_stats(c, &st);
	assert_int_equal(st.sojourn_max, 10 * MS);
	assert_int_equal(st.sojourn_sum, N * 10 * MS);
	assert_int_equal(st.qlen_pkts, 0);
	assert_null(sl_cell_dequeue(c, now, &next));
	assert_int_equal(next, SL_TIME_NEVER);
	sl_cell_free(c);
	free(out);
	h_free(h);
}

/* 10 ms -> 1 ms at 5 ms: queued packets keep their time; a new one leaves
 * at max(t + 1 ms, the previous departure). 1 ms -> 20 ms applies to new
 * packets only. */
static void test_control(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = h_cell(h, "{\"type\": \"delay\", \"delay\": \"10ms\"}", 1);
	static const uint64_t want[] = { 10 * MS, 13 * MS, 13 * MS, 13500 * US,
					 34 * MS };
	struct sl_err err = { "" };
	struct sl_pkt *out[16];
	unsigned i;

	sl_cell_enqueue(c, h_pkt(h, 100), 0);
	sl_cell_enqueue(c, h_pkt(h, 100), 3 * MS);
	assert_int_equal(h_control(c, "{\"delay\": \"1ms\"}", 5 * MS, &err), 0);
	sl_cell_enqueue(c, h_pkt(h, 100), 6 * MS);    /* 7 ms < 13 ms */
	sl_cell_enqueue(c, h_pkt(h, 100), 12500 * US); /* 13.5 ms */
	assert_int_equal(h_control(c, "{\"delay\": \"20ms\"}", 13 * MS, &err), 0);
	sl_cell_enqueue(c, h_pkt(h, 100), 14 * MS);
	assert_int_equal(h_collect(c, 100 * MS, out, 16), 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(out[i]->user, i);
		assert_int_equal(out[i]->ts_depart, want[i]);
	}
	assert_int_equal(h_control(c, "{\"delay\": \"soon\"}", 100 * MS, &err), -EINVAL);
	assert_string_equal(err.msg, "delay: \"soon\" is not a time; expected a number with a unit such as 10ms, 250us, 1s");
	sl_cell_free(c);
	h_free(h);
}

static void test_limit_and_flush(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = h_cell(h, "{\"type\": \"delay\", \"delay\": \"1ms\", \"limit\": \"2pkt\"}", 1);
	struct sl_pkt *out[16];

	sl_cell_enqueue(c, h_pkt(h, 100), 0);
	sl_cell_enqueue(c, h_pkt(h, 100), 0);
	sl_cell_enqueue(c, h_pkt(h, 100), 0);     /* 2 in flight: dropped */
	sl_cell_enqueue(c, h_pkt(h, 100), 1 * MS); /* 0 and 1 have left */
	sl_cell_enqueue(c, h_pkt(h, 100), 1 * MS);
	assert_int_equal(h->n_dropped, 1);
	assert_int_equal(h->dropped[0], 2);
	assert_int_equal(h->why[0], SL_DROP_QUEUE);
	assert_int_equal(h_collect(c, 1 * MS, out, 16), 2);
	sl_cell_free(c); /* 3 and 4 come back */
	assert_int_equal(h->n_dropped, 3);
	assert_int_equal(h->dropped[1], 3);
	assert_int_equal(h->dropped[2], 4);
	assert_int_equal(h->why[2], SL_DROP_FLUSH);
	h_free(h);
}

static void test_zero_delay(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *c = h_cell(h, "{\"type\": \"delay\", \"delay\": \"0ms\"}", 1);
	struct sl_pkt *out[4];

	sl_cell_enqueue(c, h_pkt(h, 100), 7);
	assert_int_equal(h_collect(c, 7, out, 4), 1);
	assert_int_equal(out[0]->ts_depart, 7);
	sl_cell_free(c);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"delay\"}"),
		"delay: missing; expected a number with a unit such as 10ms, 250us, 1s");
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"delay\": 10}"),
		"delay: 10 is not a time; expected a number with a unit such as 10ms, 250us, 1s");
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"delay\": \"1ms\", \"jitter\": \"1ms\"}"),
		"unknown key \"jitter\"; expected one of delay, limit");
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"delay\": \"1ms\", \"seed\": -1}"),
		"seed: -1 is not a non-negative integer");
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"name\": \"a b\", \"delay\": \"1ms\"}"),
		"name: \"a b\" may only use letters, digits, '_', '-' and '.'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_d),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_limit_and_flush),
		cmocka_unit_test(test_zero_delay),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
