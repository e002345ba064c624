// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_queue.c - the drop-tail queue (lib/cells/queue.c): at the top
 * of a channel it passes packets at once; under a parent that pulls it
 * holds them, drops the tail at its limit (packets or bytes), keeps its
 * backlog when the limit shrinks, and hands everything back when freed.
 */
#include "test_cell_harness.h"

static void test_push_mode_passes(void **state)
{
	struct harness *h = h_new(8);
	struct sl_cell *c = h_cell(h, "{\"type\": \"queue\", \"limit\": \"2pkt\"}", 1);
	struct sl_pkt *out[8];
	unsigned i;

	for (i = 0; i < 5; i++)
		sl_cell_enqueue(c, h_pkt(h, 100), 10 * i);
	assert_int_equal(h->n_dropped, 0); /* nothing waits at the top */
	assert_int_equal(h_collect(c, 1000, out, 8), 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(out[i]->ts_depart, 10 * i);
	sl_cell_free(c);
	h_free(h);
}

/* Pull mode, driven by hand as a shaper would. */
static void test_pull_mode(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"1ms\"}", 1);
	struct json_object *cfg = h_json("\"3pkt\"");
	struct sl_err err = { "" };
	struct sl_cell_stats st;
	struct sl_cell *q;
	struct sl_pkt *p;
	unsigned i;

	assert_int_equal(sl_cell_new_child(parent, cfg, "queue", "limit", &q, &err), 0);
	json_object_put(cfg);
	assert_ptr_equal(q->env, parent->env);
	for (i = 0; i < 5; i++)
		sl_cell_child_enqueue(q, h_pkt(h, 100), 0);
	assert_int_equal(h->n_dropped, 2);
	assert_int_equal(h->dropped[0], 3);
	assert_int_equal(h->dropped[1], 4);
	p = sl_cell_child_peek(q, 0);
	assert_int_equal(p->user, 0);
	assert_ptr_equal(sl_cell_child_dequeue(q, 5 * MS), p);
	assert_int_equal(p->ts_depart, 5 * MS);
	sl_cell_stats(q, &st);
	assert_int_equal(st.sojourn_last, 5 * MS);
	assert_int_equal(st.qlen_pkts, 2);

	/* shrink below the backlog: both stay, arrivals are refused */
	assert_int_equal(h_control(q, "{\"limit\": \"1pkt\"}", 5 * MS, &err), 0);
	sl_cell_child_enqueue(q, h_pkt(h, 100), 5 * MS);
	assert_int_equal(h->n_dropped, 3);
	assert_int_equal(sl_cell_child_dequeue(q, 6 * MS)->user, 1);
	assert_int_equal(sl_cell_child_dequeue(q, 6 * MS)->user, 2);
	assert_null(sl_cell_child_dequeue(q, 6 * MS));
	assert_null(sl_cell_child_peek(q, 6 * MS));

	/* bytes */
	assert_int_equal(h_control(q, "{\"limit\": \"250b\"}", 6 * MS, &err), 0);
	sl_cell_child_enqueue(q, h_pkt(h, 100), 6 * MS); /* 6 */
	sl_cell_child_enqueue(q, h_pkt(h, 100), 6 * MS); /* 7 */
	sl_cell_child_enqueue(q, h_pkt(h, 100), 6 * MS); /* 8: 300 > 250 */
	sl_cell_child_enqueue(q, h_pkt(h, 50), 6 * MS);  /* 9: fits exactly */
	assert_int_equal(h->n_dropped, 4);
	assert_int_equal(h->dropped[3], 8);
	sl_cell_free(q); /* 6, 7, 9 come back */
	assert_int_equal(h->n_dropped, 7);
	assert_int_equal(h->why[6], SL_DROP_FLUSH);
	assert_int_equal(h->dropped[6], 9);
	sl_cell_free(parent);
	h_free(h);
}

static void test_default_and_unlimited(void **state)
{
	struct harness *h = h_new(1100);
	struct sl_cell *c = h_cell(h, "{\"type\": \"rate\", \"rate\": \"1kbit\"}", 1);
	struct sl_cell *u = h_cell(h, "{\"type\": \"rate\", \"rate\": \"1kbit\", \"queue\": \"unlimited\"}", 1);
	struct json_object *t;
	unsigned i;

	for (i = 0; i < 1002; i++) /* one leaves, 1000 wait, one drops */
		sl_cell_enqueue(c, h_pkt(h, 1500), 0);
	assert_int_equal(h->n_dropped, 1);
	assert_int_equal(h->dropped[0], 1001);
	for (i = 0; i < 50; i++)
		sl_cell_enqueue(u, h_pkt(h, 100), 0);
	assert_int_equal(h->n_dropped, 1);
	t = sl_cell_telemetry(u);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_object_get(t, "queue"), "limit")),
			    "unlimited");
	json_object_put(t);
	sl_cell_free(c);
	sl_cell_free(u);
	/* everything comes back, also what left but was never collected */
	assert_int_equal(h->n_dropped, 1 + 1001 + 50);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"queue\", \"limit\": \"0pkt\"}"),
		"limit: \"0pkt\" is not a queue size; expected a size such as 100pkt, 1500b or 64kb (k = 1024) or \"unlimited\"");
	assert_string_equal(h_cell_err("{\"type\": \"queue\", \"size\": 1}"),
		"unknown key \"size\"; expected one of limit, drop");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_mode_passes),
		cmocka_unit_test(test_pull_mode),
		cmocka_unit_test(test_default_and_unlimited),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
