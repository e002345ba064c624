// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_core.c - the engine around the cells (lib/cell.c,
 * lib/cells/tbucket.c, lib/rng.c): registry, names and seeds, the
 * configuration readers, drops and clones counted up the parent chain,
 * the token bucket's exact arithmetic at its limits, the PRNG.
 */
#include <math.h>

#include "test_cell_harness.h"

static void test_registry(void **state)
{
	const struct sl_cell_ops *ops;
	char want[1024];
	unsigned i;

	/* the list is every registered type, sorted */
	for (i = 0; (ops = sl_cell_type(i)); i++) {
		assert_ptr_equal(sl_cell_find_type(ops->type), ops);
		assert_non_null(strstr(sl_cell_type_list(), ops->type));
	}
	assert_int_equal(i, 21);
	assert_string_equal(sl_cell_type_list(),
		"capture, codel, corrupt, delay, delay_trace, drr, duplicate, fcfs, loss, loss_4state, "
		"loss_ge, loss_trace, pie, policer, prio, queue, rate, red, reorder, trace, wrr");
	assert_non_null(sl_cell_find_type("rate"));
	assert_null(sl_cell_find_type("Rate"));
	assert_string_equal(sl_drop_reason_name(SL_DROP_POLICE), "police");
	assert_string_equal(sl_drop_reason_name(SL_DROP__MAX), "unknown");
	snprintf(want, sizeof(want), "type: expected a string, one of %s",
		 sl_cell_type_list());
	assert_string_equal(h_cell_err("{\"type\": 5}"), want);
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"delay\": \"1ms\", \"name\": \"\"}"),
		"name: \"\" must have 1 to 31 characters");
	assert_string_equal(h_cell_err("{\"type\": \"delay\", \"delay\": \"1ms\", \"name\": 1}"),
		"name: expected a string, got a number");
}

/* Every type is in the catalog with a summary and every key it takes
 * documented: unit, default (null when required) and description. */
static void test_catalog(void **state)
{
	struct json_object *cat = sl_cell_catalog(), *cell, *params, *p, *v;
	const struct sl_cell_ops *ops;
	size_t i, k;

	assert_non_null(cat);
	for (i = 0; (ops = sl_cell_type((unsigned)i)); i++) {
		cell = json_object_array_get_idx(cat, i);
		assert_string_equal(json_object_get_string(json_object_object_get(cell, "name")),
				    ops->type);
		assert_true(strlen(json_object_get_string(json_object_object_get(cell, "description"))) > 10);
		params = json_object_object_get(cell, "parameters");
		assert_true(json_object_array_length(params) >= 1);
		for (k = 0; k < json_object_array_length(params); k++) {
			p = json_object_array_get_idx(params, k);
			assert_true(json_object_object_get_ex(p, "default", &v));
			assert_int_equal(json_object_get_boolean(json_object_object_get(p, "required")),
					 v == NULL);
			assert_true(strlen(json_object_get_string(json_object_object_get(p, "unit"))) > 2);
			assert_true(strlen(json_object_get_string(json_object_object_get(p, "description"))) > 5);
			assert_string_equal(json_object_get_string(json_object_object_get(p, "name")),
					    ops->params[k].name);
		}
	}
	assert_int_equal(json_object_array_length(cat), i);
	/* one entry in full */
	cell = json_object_array_get_idx(cat, 0);
	p = json_object_array_get_idx(json_object_object_get(cell, "parameters"), 0);
	assert_string_equal(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
		"{\"name\":\"file\",\"unit\":\"file\",\"default\":null,\"required\":true,"
		"\"description\":\"where to write; created or truncated\"}");
	json_object_put(cat);
}

static void test_readers(void **state)
{
	struct json_object *cfg = h_json(
		"{\"r\": 1000, \"t\": \"1.5ms\", \"f\": 0.25, \"b\": \"2kb\","
		" \"n\": 7, \"bad\": true, \"q\": \"3pkt\"}");
	struct sl_err err = { "" };
	struct sl_qlimit lim;
	uint64_t v = 0;
	uint32_t ppm = 0;

	assert_int_equal(sl_cfg_rate(cfg, "r", &v, &err), 1);
	assert_int_equal(v, 1000); /* a bare number is bit/s */
	assert_int_equal(sl_cfg_rate(cfg, "absent", &v, &err), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(sl_cfg_time(cfg, "t", &v, &err), 1);
	assert_int_equal(v, 1500000);
	assert_int_equal(sl_cfg_fraction(cfg, "f", &ppm, &err), 1);
	assert_int_equal(ppm, 250000);
	assert_int_equal(sl_cfg_bytes(cfg, "b", &v, &err), 1);
	assert_int_equal(v, 2048);
	assert_int_equal(sl_cfg_bytes(cfg, "n", &v, &err), 1);
	assert_int_equal(v, 7);
	assert_int_equal(sl_cfg_u64(cfg, "n", &v, &err), 1);
	assert_int_equal(v, 7);
	assert_int_equal(sl_cfg_qlimit(cfg, "q", &lim, &err), 1);
	assert_int_equal(lim.n, 3);
	assert_false(lim.bytes);
	assert_int_equal(sl_cfg_qlimit(cfg, "n", &lim, &err), 1); /* bare: packets */
	assert_false(lim.bytes);
	assert_int_equal(sl_cfg_time(cfg, "bad", &v, &err), -EINVAL);
	assert_string_equal(err.msg, "bad: expected a number with a unit such as 10ms, 250us, 1s, got a boolean");
	assert_int_equal(sl_cfg_u64(cfg, "t", &v, &err), -EINVAL);
	assert_string_equal(err.msg, "t: \"1.5ms\" is not a non-negative integer");
	json_object_put(cfg);
}

static void test_check_keys(void **state)
{
	static const char *const keys[] = { "a", "b", NULL };
	static const char *const none[] = { NULL };
	struct json_object *ok = h_json("{\"type\": 1, \"name\": 1, \"seed\": 1, \"next\": 1, \"a\": 1}");
	struct json_object *bad = h_json("{\"a\": 1, \"c\": 1}");
	struct sl_err err = { "" };

	assert_int_equal(sl_cfg_check_keys(ok, keys, &err), 0);
	assert_int_equal(sl_cfg_check_keys(bad, keys, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown key \"c\"; expected one of a, b");
	assert_int_equal(sl_cfg_check_keys(bad, none, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown key \"a\"; this cell takes none");
	json_object_put(ok);
	json_object_put(bad);
}

/* Drops inside a child count in the parent too, and reach the env that
 * was set on the root after the child was made. */
static void test_drop_up_the_chain(void **state)
{
	struct harness *h = h_new(8);
	struct sl_cell *c = h_cell(NULL,
		"{\"type\": \"rate\", \"rate\": \"1kbit\", \"queue\": \"1pkt\"}", 1);
	struct sl_cell_stats st;

	sl_cell_set_env(c, &h->env);
	sl_cell_enqueue(c, h_pkt(h, 1500), 0); /* leaves at once */
	sl_cell_enqueue(c, h_pkt(h, 1500), 0); /* waits */
	sl_cell_enqueue(c, h_pkt(h, 1500), 0); /* dropped by the queue */
	assert_int_equal(h->n_dropped, 1);
	assert_int_equal(h->dropped[0], 2);
	sl_cell_stats(c, &st);
	assert_int_equal(st.drops[SL_DROP_QUEUE], 1);
	assert_int_equal(st.qlen_pkts, 1);
	assert_int_equal(st.pkts_in, 3);
	assert_int_equal(st.pkts_out, 1);
	sl_cell_free(c);
	assert_int_equal(h->n_dropped, 3); /* the waiting one and the one out */
	h_free(h);
}

static struct sl_pkt clone_store;

static struct sl_pkt *fake_clone(const struct sl_pkt *p, void *ctx)
{
	clone_store = *p;
	clone_store.user = 99;
	return &clone_store;
}

static void test_clone(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *c = h_cell(h, "{\"type\": \"delay\", \"delay\": \"1ms\"}", 1);
	struct sl_pkt *p = h_pkt(h, 100), *q;
	struct sl_cell_stats st;

	assert_null(sl_cell_clone(c, p)); /* no clone callback */
	h->env.clone = fake_clone;
	sl_cell_set_env(c, &h->env);
	q = sl_cell_clone(c, p);
	assert_ptr_equal(q, &clone_store);
	assert_int_equal(q->user, 99);
	assert_true(q->flags & SL_PKT_CLONE);
	sl_cell_stats(c, &st);
	assert_int_equal(st.pkts_in, 1);
	assert_int_equal(st.qlen_pkts, 1);
	sl_cell_drop(c, q, SL_DROP_AQM); /* keeps the books balanced */
	sl_cell_stats(c, &st);
	assert_int_equal(st.qlen_pkts, 0);
	assert_int_equal(h->dropped[0], 99);
	sl_cell_free(c);
	h_free(h);
}

static void test_tbucket_limits(void **state)
{
	struct sl_tbucket tb;

	/* 1 Tbit/s, idle for a day: no overflow, bucket full */
	sl_tbucket_init(&tb, 1000000000000ull, SL_TBUCKET_MAX_BURST, 0);
	sl_tbucket_take(&tb, 1500, 0);
	assert_int_equal(sl_tbucket_tokens_bytes(&tb), SL_TBUCKET_MAX_BURST - 1500);
	assert_true(sl_tbucket_conform(&tb, 65535, 86400 * SL_NSEC_PER_SEC));
	assert_int_equal(sl_tbucket_tokens_bytes(&tb), SL_TBUCKET_MAX_BURST - 65535);
	/* 1 bit/s: 1500 bytes take 12000 s */
	sl_tbucket_init(&tb, 1, 1500, 0);
	sl_tbucket_take(&tb, 1500, 0);
	assert_int_equal(sl_tbucket_ready_at(&tb, 1500), 12000 * SL_NSEC_PER_SEC);
	assert_int_equal(sl_tbucket_ready_at(&tb, 1), 8 * SL_NSEC_PER_SEC);
	/* 3 bit/s: 1 byte needs 8/3 s, rounded up; remainders carry */
	sl_tbucket_init(&tb, 3, 1, 0);
	sl_tbucket_take(&tb, 1, 0);
	assert_int_equal(sl_tbucket_ready_at(&tb, 1), 2666666667ull);
	sl_tbucket_take(&tb, 1, 2666666667ull);
	assert_int_equal(sl_tbucket_ready_at(&tb, 1), 5333333334ull);
	sl_tbucket_take(&tb, 1, 5333333334ull);
	assert_int_equal(sl_tbucket_ready_at(&tb, 1), 8 * SL_NSEC_PER_SEC);
	/* set keeps what was earned, trims to the new burst */
	sl_tbucket_init(&tb, 8000, 1000, 0);
	sl_tbucket_take(&tb, 1000, 0);
	sl_tbucket_set(&tb, 16000, 100, SL_NSEC_PER_SEC / 2); /* 500 earned */
	assert_int_equal(sl_tbucket_tokens_bytes(&tb), 100);
}

static void test_rng(void **state)
{
	struct sl_rng a, b;
	double sum = 0, sq = 0, u;
	unsigned i, counts[10] = { 0 };

	sl_rng_seed(&a, 1);
	sl_rng_seed(&b, 1);
	for (i = 0; i < 100; i++)
		assert_int_equal(sl_rng_next(&a), sl_rng_next(&b));
	sl_rng_seed(&b, 2);
	assert_int_not_equal(sl_rng_next(&a), sl_rng_next(&b));
	assert_int_not_equal(sl_rng_derive(7, 0), sl_rng_derive(7, 1));
	assert_int_equal(sl_rng_derive(7, 1), sl_rng_derive(7, 1));
	for (i = 0; i < 100000; i++) {
		counts[sl_rng_below(&a, 10)]++;
		u = sl_rng_uniform(&a);
		assert_true(u >= 0 && u < 1);
	}
	for (i = 0; i < 10; i++) /* 10000 +- 4 sigma (95) */
		assert_true(counts[i] > 9620 && counts[i] < 10380);
	for (i = 0; i < 100000; i++) {
		double x = sl_rng_normal(&a);

		sum += x;
		sq += x * x;
	}
	assert_true(fabs(sum / 100000) < 0.02);
	assert_true(fabs(sq / 100000 - 1) < 0.03);
	assert_false(sl_rng_ppm(&a, 0));
	assert_true(sl_rng_ppm(&a, 1000000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_readers),
		cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_drop_up_the_chain),
		cmocka_unit_test(test_clone),
		cmocka_unit_test(test_tbucket_limits),
		cmocka_unit_test(test_rng),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
