// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_delay.c - constant delay (lib/cells/delay.c) with a fake
 * clock: every packet leaves exactly D after it came, in order; the next
 * event is the head's departure; control() keeps queued packets on their
 * schedule and never reorders; the in-flight limit; errors. Jitter: the
 * sample mean and standard deviation of each distribution over 100k
 * packets within 2% of the model's (docs/cells.md), exact departures
 * against a replay of the cell's PRNG with and without reordering.
 */
#include <math.h>

#include <sluice/cellkit.h>

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
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"delay\": \"1ms\", \"jiter\": \"1ms\"}"),
		"unknown key \"jiter\"; expected one of delay, jitter, distribution, reorder, limit");
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"delay\": \"1ms\", \"distribution\": \"gauss\"}"),
		"distribution: \"gauss\" is not one of uniform, normal, pareto, paretonormal");
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"delay\": \"1ms\", \"reorder\": 1}"),
		"reorder: 1 is not a boolean; expected true or false");
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"delay\": \"1ms\", \"seed\": -1}"),
		"seed: -1 is not a non-negative integer");
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"name\": \"a b\", \"delay\": \"1ms\"}"),
		"name: \"a b\" may only use letters, digits, '_', '-' and '.'");
}

/* The model: moments of Y for each distribution (docs/cells.md). */
static double pareto_y(double q) /* upper-tail level q in (0, 1] */
{
	double y = 4.0 / 3.0 * (1 / cbrt(q) - 1.5);

	return y > 32767.0 / 8192 ? 32767.0 / 8192 : y;
}

static void model_moments(enum sl_dist d, double *mean, double *sd)
{
	/* pareto: X = U^(-1/3) capped at c, E[min(X,c)] = 3/2 - c^-2/2,
	 * E[min(X,c)^2] = 3 - 2/c; Y = 4/3 (X - 3/2) */
	double c = 1.5 + 0.75 * 32767.0 / 8192, m1, m2, v, y;
	unsigned i, n = 2000000;

	switch (d) {
	case SL_DIST_UNIFORM:
		*mean = 0;
		*sd = 1 / sqrt(3);
		return;
	case SL_DIST_NORMAL:
		*mean = 0;
		*sd = 1;
		return;
	case SL_DIST_PARETO:
		m1 = 1.5 - 0.5 / (c * c);
		m2 = 3 - 2 / c;
		*mean = 4.0 / 3 * (m1 - 1.5);
		*sd = 4.0 / 3 * sqrt(m2 - m1 * m1);
		return;
	default: /* midpoint rule over the quantile function */
		m1 = m2 = 0;
		for (i = 0; i < n; i++) {
			v = (i + 0.5) / n;
			y = (sl_normal_quantile(v) + 3 * pareto_y(1 - v)) / 4;
			m1 += y;
			m2 += y * y;
		}
		m1 /= n;
		m2 /= n;
		*mean = m1;
		*sd = sqrt(m2 - m1 * m1);
	}
}

static void test_normal_quantile(void **state)
{
	static const double ps[] = { 1e-12, 1e-6, 0.001, 0.025, 0.3, 0.5,
				     0.7, 0.975, 0.999, 1 - 1e-9 };
	unsigned i;

	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		double x = sl_normal_quantile(ps[i]);
		double p = 0.5 * erfc(-x / M_SQRT2);

		assert_true(fabs(p - ps[i]) <= 1e-9 * ps[i] + 1e-15);
	}
	assert_true(fabs(sl_normal_quantile(0.975) - 1.959963984540054) < 1e-9);
}

/* 100k packets 1 s apart (no two in flight), D = 100 ms, J = 10 ms: the
 * sample mean and deviation of the delay, against D + J E[Y] and J sd(Y). */
static void test_jitter_moments(void **state)
{
	static const char *const cfgs[] = {
		"{\"type\": \"delay\", \"delay\": \"100ms\", \"jitter\": \"10ms\"}",
		"{\"type\": \"delay\", \"delay\": \"100ms\", \"jitter\": \"10ms\", \"distribution\": \"normal\"}",
		"{\"type\": \"delay\", \"delay\": \"100ms\", \"jitter\": \"10ms\", \"distribution\": \"pareto\"}",
		"{\"type\": \"delay\", \"delay\": \"100ms\", \"jitter\": \"10ms\", \"distribution\": \"paretonormal\"}",
	};
	enum { N = 100000 };
	unsigned d, i;

	for (d = 0; d < SL_DIST__MAX; d++) {
		struct harness *h = h_new(1);
		struct sl_cell *c = h_cell(h, cfgs[d], 11 + d);
		struct sl_pkt *p = h_pkt(h, 1000), *out[2];
		double sum = 0, sq = 0, mean, sd, want_mean, want_sd, x;
		uint64_t t = 0, lo = UINT64_MAX, hi = 0;

		for (i = 0; i < N; i++, t += SL_NSEC_PER_SEC) {
			sl_cell_enqueue(c, p, t);
			assert_int_equal(h_collect(c, t + SL_NSEC_PER_SEC / 2, out, 2), 1);
			x = (double)(p->ts_depart - t);
			lo = p->ts_depart - t < lo ? p->ts_depart - t : lo;
			hi = p->ts_depart - t > hi ? p->ts_depart - t : hi;
			sum += x;
			sq += x * x;
		}
		mean = sum / N;
		sd = sqrt(sq / N - mean * mean);
		model_moments(d, &want_mean, &want_sd);
		want_mean = 100 * MS + 10 * MS * want_mean;
		want_sd *= 10 * MS;
		print_message("# %-12s mean %.4f ms (model %.4f), sd %.4f ms (model %.4f), range %.3f..%.3f ms\n",
			      sl_dist_names[d], mean / MS, want_mean / MS, sd / MS,
			      want_sd / MS, (double)lo / MS, (double)hi / MS);
		/* 2% of the jitter scale for the mean, 2% of sd for sd */
		assert_true(fabs(mean - want_mean) <= 0.02 * 10 * MS);
		assert_true(fabs(sd - want_sd) <= 0.02 * want_sd);
		if (d == SL_DIST_UNIFORM) {
			assert_true(lo >= 90 * MS && hi <= 110 * MS);
		}
		if (d == SL_DIST_PARETO) {
			assert_true(lo >= 100 * MS - 10 * MS * 2 / 3);
			assert_true(hi <= 100 * MS + 40 * MS);
		}
		sl_cell_free(c);
		h_free(h);
	}
}

/* Packets 1 ms apart with a 5 ms uniform jitter: without reorder each
 * leaves at max(t + s, the previous departure), with s replayed from the
 * cell's seed; with reorder at exactly t + s, sorted. */
static void test_jitter_order(void **state)
{
	enum { N = 2000 };
	static uint64_t want[N], samples[N];
	unsigned k, i, n, overtakes;

	for (k = 0; k < 2; k++) {
		struct harness *h = h_new(N);
		struct sl_cell *c = h_cell(h, k ?
			"{\"type\": \"delay\", \"delay\": \"10ms\", \"jitter\": \"5ms\", \"reorder\": true}" :
			"{\"type\": \"delay\", \"delay\": \"10ms\", \"jitter\": \"5ms\"}", 77);
		struct sl_pkt **out = calloc(N, sizeof(*out));
		uint64_t last = 0, now;
		struct sl_rng r;

		sl_rng_seed(&r, 77);
		for (i = 0; i < N; i++) {
			samples[i] = sl_dist_delay(SL_DIST_UNIFORM, &r, 10 * MS, 5 * MS);
			want[i] = i * MS + samples[i];
			if (!k && want[i] < last)
				want[i] = last;
			last = want[i];
			sl_cell_enqueue(c, h_pkt(h, 100), i * MS);
		}
		n = 0;
		for (now = N * MS; n < N; now += 100 * US)
			n += h_collect(c, now, out + n, N - n);
		overtakes = 0;
		for (i = 0; i < N; i++) {
			assert_int_equal(out[i]->ts_depart, want[out[i]->user]);
			if (i)
				assert_true(out[i]->ts_depart >= out[i - 1]->ts_depart);
			if (!k)
				assert_int_equal(out[i]->user, i);
			else if (i && out[i]->user < out[i - 1]->user)
				overtakes++;
		}
		if (k) /* gaps of 1 ms, samples spread over 10 ms: often */
			assert_true(overtakes > N / 4);
		sl_cell_free(c);
		free(out);
		h_free(h);
	}
}

/* Turning reorder off keeps packets already in flight on their times; a
 * new packet never overtakes them. Telemetry shows the settings. */
static void test_jitter_control(void **state)
{
	struct harness *h = h_new(8);
	struct sl_cell *c = h_cell(h, "{\"type\": \"delay\", \"delay\": \"10ms\", \"jitter\": \"5ms\", \"reorder\": true, \"distribution\": \"normal\"}", 3);
	struct sl_err err = { "" };
	struct json_object *t, *v;
	struct sl_pkt *out[8];
	uint64_t first;

	sl_cell_enqueue(c, h_pkt(h, 100), 0);
	assert_int_equal(h_control(c, "{\"jitter\": \"0ms\", \"delay\": \"1ms\", \"reorder\": false}", 0, &err), 0);
	sl_cell_enqueue(c, h_pkt(h, 100), 0);
	assert_int_equal(h_collect(c, SL_NSEC_PER_SEC, out, 8), 2);
	first = out[0]->ts_depart;
	assert_int_equal(out[0]->user, 0);
	assert_int_equal(out[1]->ts_depart, first); /* held behind the first */
	t = sl_cell_telemetry(c);
	assert_true(json_object_object_get_ex(t, "jitter_ns", &v));
	assert_int_equal(json_object_get_int64(v), 0);
	assert_true(json_object_object_get_ex(t, "distribution", &v));
	assert_string_equal(json_object_get_string(v), "normal");
	assert_true(json_object_object_get_ex(t, "reorder", &v));
	assert_false(json_object_get_boolean(v));
	json_object_put(t);
	assert_int_equal(h_control(c, "{\"distribution\": \"zipf\"}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "distribution: \"zipf\" is not one of uniform, normal, pareto, paretonormal");
	sl_cell_free(c);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_quantile),
		cmocka_unit_test(test_jitter_moments),
		cmocka_unit_test(test_jitter_order),
		cmocka_unit_test(test_jitter_control),
		cmocka_unit_test(test_exact_d),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_limit_and_flush),
		cmocka_unit_test(test_zero_delay),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
