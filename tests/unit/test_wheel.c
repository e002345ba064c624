// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_wheel.c - the timing wheel (lib/wheel.c): timers fire in deadline
 * order, never early and within the microsecond of their deadline, across
 * every level and cascade, with cancel and re-arm; next() is exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/cell.h>

static uint64_t us_up(uint64_t ns)
{
	return (ns + 999) / 1000 * 1000;
}

static void test_basic(void **state)
{
	struct sl_wheel *w = sl_wheel_new(0);
	struct sl_timer a, b, c;

	sl_timer_init(&a, (void *)1);
	sl_timer_init(&b, (void *)2);
	sl_timer_init(&c, (void *)3);
	assert_int_equal(sl_wheel_next(w), SL_TIME_NEVER);
	assert_null(sl_wheel_expire(w, 0));

	sl_wheel_arm(w, &a, 5500);   /* fires at 6 us */
	sl_wheel_arm(w, &b, 3000);   /* exactly 3 us */
	sl_wheel_arm(w, &c, 300000); /* level 1 */
	assert_int_equal(sl_wheel_count(w), 3);
	assert_true(sl_timer_armed(&a));
	assert_int_equal(sl_wheel_next(w), 3000);
	assert_null(sl_wheel_expire(w, 2999));
	assert_ptr_equal(sl_wheel_expire(w, 3000), &b);
	assert_false(sl_timer_armed(&b));
	assert_null(sl_wheel_expire(w, 3000));
	assert_int_equal(sl_wheel_next(w), 6000);
	assert_null(sl_wheel_expire(w, 5999)); /* 5.5 us passed, tick not yet */
	assert_ptr_equal(sl_wheel_expire(w, 6000), &a);
	assert_int_equal(sl_wheel_next(w), 300000);

	/* re-arm moves; cancel removes */
	sl_wheel_arm(w, &c, 10000);
	assert_int_equal(sl_wheel_next(w), 10000);
	sl_wheel_cancel(w, &c);
	assert_false(sl_timer_armed(&c));
	assert_int_equal(sl_wheel_count(w), 0);
	assert_int_equal(sl_wheel_next(w), SL_TIME_NEVER);
	sl_wheel_cancel(w, &c); /* harmless */

	/* a deadline already passed fires at once */
	assert_null(sl_wheel_expire(w, 50000));
	sl_wheel_arm(w, &a, 1000);
	assert_true(sl_wheel_next(w) <= 50000);
	assert_ptr_equal(sl_wheel_expire(w, 50000), &a);
	assert_ptr_equal(a.data, (void *)1);
	sl_wheel_free(w);
}

static void test_horizon(void **state)
{
	struct sl_wheel *w = sl_wheel_new(0);
	struct sl_timer t;
	uint64_t far = 10000ull * SL_NSEC_PER_SEC; /* beyond 2^32 us */
	uint64_t horizon = ((1ull << 32) - 1) * 1000;

	sl_timer_init(&t, NULL);
	sl_wheel_arm(w, &t, far);
	assert_int_equal(sl_wheel_next(w), horizon);
	assert_null(sl_wheel_expire(w, horizon - 1));
	assert_ptr_equal(sl_wheel_expire(w, horizon), &t);
	assert_int_equal(t.expires, far); /* the owner sees it is early */
	/* the owner re-arms at each horizon until the deadline is near */
	sl_wheel_arm(w, &t, far);
	assert_int_equal(sl_wheel_next(w), horizon + (horizon + 1000));
	assert_ptr_equal(sl_wheel_expire(w, 2 * horizon + 1000), &t);
	sl_wheel_arm(w, &t, far);
	assert_int_equal(sl_wheel_next(w), far);
	assert_null(sl_wheel_expire(w, far - 1));
	assert_ptr_equal(sl_wheel_expire(w, far), &t);
	sl_wheel_free(w);
}

#define N 3000

struct model {
	struct sl_timer t[N];
	uint64_t want[N]; /* expires, SL_TIME_NEVER when not armed */
};

static uint64_t model_min(const struct model *m)
{
	uint64_t best = SL_TIME_NEVER;
	int i;

	for (i = 0; i < N; i++)
		if (m->want[i] != SL_TIME_NEVER && us_up(m->want[i]) < best)
			best = us_up(m->want[i]);
	return best;
}

/* Random deadlines from 0 to ~20 minutes ahead, random cancels and
 * re-arms, a clock that jumps by random amounts: every timer fires in its
 * own microsecond, and next() always equals the model's minimum. */
static void run_random(uint64_t seed, uint64_t start)
{
	struct model *m = calloc(1, sizeof(*m));
	struct sl_wheel *w = sl_wheel_new(start);
	struct sl_rng r;
	uint64_t now = start, fired = 0;
	int i, step;

	assert_non_null(m);
	sl_rng_seed(&r, seed);
	for (i = 0; i < N; i++) {
		sl_timer_init(&m->t[i], &m->want[i]);
		m->want[i] = SL_TIME_NEVER;
	}
	for (step = 0; step < 20000; step++) {
		uint64_t op = sl_rng_below(&r, 100), span, next;
		struct sl_timer *t;

		i = (int)sl_rng_below(&r, N);
		if (op < 50) {
			/* spread over all levels */
			span = 1ull << sl_rng_below(&r, 41);
			m->want[i] = now + sl_rng_below(&r, span);
			sl_wheel_arm(w, &m->t[i], m->want[i]);
		} else if (op < 60) {
			sl_wheel_cancel(w, &m->t[i]);
			m->want[i] = SL_TIME_NEVER;
		} else {
			next = model_min(m);
			assert_int_equal(sl_wheel_next(w), next);
			if (op < 80 && next != SL_TIME_NEVER)
				now = next > now ? next : now;
			else
				now += sl_rng_below(&r, 1ull << sl_rng_below(&r, 35));
			while ((t = sl_wheel_expire(w, now))) {
				uint64_t *want = t->data;

				assert_int_not_equal(*want, SL_TIME_NEVER);
				assert_true(us_up(*want) <= now); /* not early */
				*want = SL_TIME_NEVER;
				fired++;
			}
			/* nothing due is left behind */
			assert_true(model_min(m) > now);
		}
	}
	assert_true(fired > 1000);
	sl_wheel_free(w);
	free(m);
}

/* Firing order: a clock stepping 1 us at a time sees each timer in exactly
 * the microsecond of its deadline. */
static void test_exact_tick(void **state)
{
	struct sl_wheel *w = sl_wheel_new(123456789);
	static struct sl_timer t[500];
	static uint64_t want[500];
	struct sl_rng r;
	uint64_t now, end = 0;
	struct sl_timer *x;
	int i, n = 0;

	sl_rng_seed(&r, 99);
	for (i = 0; i < 500; i++) {
		want[i] = 123456789 + sl_rng_below(&r, 40000000); /* 40 ms */
		sl_timer_init(&t[i], &want[i]);
		sl_wheel_arm(w, &t[i], want[i]);
		if (want[i] > end)
			end = want[i];
	}
	for (now = 123456000; now <= end + 1000; now += 1000) {
		while ((x = sl_wheel_expire(w, now))) {
			uint64_t *wt = x->data;

			assert_int_equal(us_up(*wt), now);
			n++;
		}
	}
	assert_int_equal(n, 500);
	assert_int_equal(sl_wheel_count(w), 0);
	sl_wheel_free(w);
}

static void test_random(void **state)
{
	run_random(1, 0);
	run_random(2, 5000000000123ull);
	/* start just before level-4 and level-1 block boundaries */
	run_random(3, ((1ull << 32) - 3) * 1000);
	run_random(4, 255999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_horizon),
		cmocka_unit_test(test_exact_tick),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
