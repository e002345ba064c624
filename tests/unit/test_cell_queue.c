// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_queue.c - the FIFO queue (lib/cells/queue.c): at the top of a
 * channel it passes packets at once; under a parent that pulls it holds
 * them, drops the tail (or, with "drop": "head", the oldest packets) at its
 * limit in packets or bytes, keeps its backlog when the limit shrinks, and
 * hands everything back when freed.
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

/* A queue cell as a parent's child, from JSON text that must be valid. */
static struct sl_cell *h_child(struct sl_cell *parent, const char *text)
{
	struct json_object *cfg = h_json(text);
	struct sl_err err = { "" };
	struct sl_cell *q = NULL;
	int ret = sl_cell_new_child(parent, cfg, "queue", "limit", &q, &err);

	if (ret)
		print_error("%s: %s\n", text, err.msg);
	assert_int_equal(ret, 0);
	json_object_put(cfg);
	return q;
}

/* Drop-head by packets: each arrival at a full queue pushes out the oldest,
 * the queue ends with the newest; the counters say so, in the queue and in
 * its parent. */
static void test_drop_head_packets(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"1ms\"}", 1);
	struct sl_cell *q = h_child(parent, "{\"type\": \"queue\", \"limit\": \"3pkt\", \"drop\": \"head\"}");
	struct sl_cell_stats st;
	struct sl_pkt *p;
	unsigned i;

	for (i = 0; i < 6; i++)
		sl_cell_child_enqueue(q, h_pkt(h, 100 + i), 0);
	/* 3, 4 and 5 pushed out 0, 1 and 2, in that order */
	assert_int_equal(h->n_dropped, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(h->dropped[i], i);
		assert_int_equal(h->why[i], SL_DROP_QUEUE);
	}
	sl_cell_stats(q, &st);
	assert_int_equal(st.pkts_in, 6);
	assert_int_equal(st.bytes_in, 6 * 100 + 15);
	assert_int_equal(st.drops[SL_DROP_QUEUE], 3);
	assert_int_equal(st.drop_bytes[SL_DROP_QUEUE], 100 + 101 + 102);
	assert_int_equal(st.drops[SL_DROP_AQM] + st.drops[SL_DROP_LOSS] +
				 st.drops[SL_DROP_POLICE] + st.drops[SL_DROP_FLUSH], 0);
	assert_int_equal(st.qlen_pkts, 3);
	assert_int_equal(st.qlen_bytes, 103 + 104 + 105);
	sl_cell_stats(parent, &st); /* a child's drops count in its parent */
	assert_int_equal(st.drops[SL_DROP_QUEUE], 3);
	assert_int_equal(st.drop_bytes[SL_DROP_QUEUE], 303);

	/* the peeked head may be pushed out: the next peek sees the new head */
	p = sl_cell_child_peek(q, 0);
	assert_int_equal(p->user, 3);
	sl_cell_child_enqueue(q, h_pkt(h, 100), 1 * MS); /* 6 pushes out 3 */
	assert_int_equal(h->n_dropped, 4);
	assert_int_equal(h->dropped[3], 3);
	assert_int_equal(sl_cell_child_peek(q, 1 * MS)->user, 4);

	/* what is left leaves oldest first */
	assert_int_equal(sl_cell_child_dequeue(q, 2 * MS)->user, 4);
	assert_int_equal(sl_cell_child_dequeue(q, 2 * MS)->user, 5);
	p = sl_cell_child_dequeue(q, 2 * MS);
	assert_int_equal(p->user, 6);
	assert_int_equal(p->ts_depart, 2 * MS);
	assert_null(sl_cell_child_dequeue(q, 2 * MS));
	sl_cell_stats(q, &st);
	assert_int_equal(st.pkts_out, 3);
	assert_int_equal(st.bytes_out, 104 + 105 + 100);
	assert_int_equal(st.qlen_pkts, 0);
	assert_int_equal(st.qlen_bytes, 0);
	assert_int_equal(st.drops[SL_DROP_QUEUE], 4);
	assert_int_equal(st.sojourn_max, 2 * MS); /* 4 and 5 waited from 0 */
	assert_int_equal(st.sojourn_last, 1 * MS); /* 6 from 1 ms */

	/* below the limit nothing is dropped */
	sl_cell_child_enqueue(q, h_pkt(h, 100), 3 * MS);
	sl_cell_child_enqueue(q, h_pkt(h, 100), 3 * MS);
	assert_int_equal(h->n_dropped, 4);
	sl_cell_free(q); /* 7 and 8 come back flushed, not queue drops */
	assert_int_equal(h->n_dropped, 6);
	assert_int_equal(h->why[4], SL_DROP_FLUSH);
	assert_int_equal(h->by_reason[SL_DROP_QUEUE], 4);
	sl_cell_free(parent);
	h_free(h);
}

/* Drop-head by bytes: the oldest packets go until the arrival fits; an
 * arrival larger than the whole limit is dropped itself and leaves the
 * queue as it was. */
static void test_drop_head_bytes(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"1ms\"}", 1);
	struct sl_cell *q = h_child(parent, "{\"type\": \"queue\", \"limit\": \"250b\", \"drop\": \"head\"}");
	struct sl_cell_stats st;

	sl_cell_child_enqueue(q, h_pkt(h, 100), 0); /* 0 */
	sl_cell_child_enqueue(q, h_pkt(h, 100), 0); /* 1: 200 */
	sl_cell_child_enqueue(q, h_pkt(h, 100), 0); /* 2: 300 > 250, 0 goes */
	assert_int_equal(h->n_dropped, 1);
	assert_int_equal(h->dropped[0], 0);
	sl_cell_child_enqueue(q, h_pkt(h, 50), 0); /* 3: 250 fits exactly */
	assert_int_equal(h->n_dropped, 1);
	sl_cell_child_enqueue(q, h_pkt(h, 150), 0); /* 4: 1 and 2 go, 3 stays */
	assert_int_equal(h->n_dropped, 3);
	assert_int_equal(h->dropped[1], 1);
	assert_int_equal(h->dropped[2], 2);
	sl_cell_stats(q, &st);
	assert_int_equal(st.qlen_pkts, 2);
	assert_int_equal(st.qlen_bytes, 200);

	sl_cell_child_enqueue(q, h_pkt(h, 300), 0); /* 5: alone over 250 */
	assert_int_equal(h->n_dropped, 4);
	assert_int_equal(h->dropped[3], 5);
	assert_int_equal(h->why[3], SL_DROP_QUEUE);
	sl_cell_stats(q, &st);
	assert_int_equal(st.qlen_pkts, 2); /* 3 and 4 untouched */
	assert_int_equal(st.qlen_bytes, 200);

	sl_cell_child_enqueue(q, h_pkt(h, 250), 0); /* 6: the whole limit */
	assert_int_equal(h->n_dropped, 6);
	assert_int_equal(h->dropped[4], 3);
	assert_int_equal(h->dropped[5], 4);
	sl_cell_stats(q, &st);
	assert_int_equal(st.pkts_in, 7);
	assert_int_equal(st.drops[SL_DROP_QUEUE], 6);
	assert_int_equal(st.drop_bytes[SL_DROP_QUEUE], 100 + 100 + 100 + 300 + 50 + 150);
	assert_int_equal(st.qlen_pkts, 1);
	assert_int_equal(st.qlen_bytes, 250);
	assert_int_equal(sl_cell_child_dequeue(q, MS)->user, 6);
	assert_null(sl_cell_child_dequeue(q, MS));
	sl_cell_free(q);
	assert_int_equal(h->n_dropped, 6);
	sl_cell_free(parent);
	h_free(h);
}

/* Under a shaper (mahimahi's drophead behind a link): a burst into a rate
 * cell delivers the first packet (the bucket starts full) and the newest
 * ones; the middle of the burst is dropped. Switching to drop-tail at run
 * time keeps the backlog and then refuses the arrivals instead. */
static void test_drop_head_under_rate(void **state)
{
	/* 12 kbit/s: one 1500-byte packet per second */
	struct harness *h = h_new(16);
	struct sl_cell *c = h_cell(h, "{\"type\": \"rate\", \"rate\": \"12kbit\", \"burst\": \"1500b\", "
				      "\"queue\": {\"type\": \"queue\", \"limit\": \"2pkt\", \"drop\": \"head\"}}", 1);
	struct sl_err err = { "" };
	struct sl_cell_stats st;
	struct sl_pkt *out[16];
	struct json_object *t, *qt;
	unsigned i;

	for (i = 0; i < 6; i++)
		sl_cell_enqueue(c, h_pkt(h, 1500), 0);
	assert_int_equal(h->n_dropped, 3); /* 1, 2, 3 */
	for (i = 0; i < 3; i++)
		assert_int_equal(h->dropped[i], i + 1);
	assert_int_equal(h_collect(c, 10 * SL_NSEC_PER_SEC, out, 16), 3);
	assert_int_equal(out[0]->user, 0);
	assert_int_equal(out[0]->ts_depart, 0);
	assert_int_equal(out[1]->user, 4);
	assert_int_equal(out[1]->ts_depart, SL_NSEC_PER_SEC);
	assert_int_equal(out[2]->user, 5);
	assert_int_equal(out[2]->ts_depart, 2 * SL_NSEC_PER_SEC);
	sl_cell_stats(c, &st);
	assert_int_equal(st.drops[SL_DROP_QUEUE], 3);
	assert_int_equal(st.pkts_out, 3);

	t = sl_cell_telemetry(c);
	qt = json_object_object_get(t, "queue");
	assert_string_equal(json_object_get_string(json_object_object_get(qt, "drop")), "head");
	assert_string_equal(json_object_get_string(json_object_object_get(qt, "limit")), "2pkt");
	json_object_put(t);

	/* a backlog of two (6 leaves at once: the bucket refilled) ... */
	for (i = 0; i < 3; i++)
		sl_cell_enqueue(c, h_pkt(h, 1500), 20 * SL_NSEC_PER_SEC);
	assert_int_equal(h->n_dropped, 3);
	/* ... then drop-tail: the arrival is refused, the backlog stays */
	assert_int_equal(h_control(c, "{\"queue\": {\"drop\": \"tail\"}}",
				   20 * SL_NSEC_PER_SEC, &err), 0);
	sl_cell_enqueue(c, h_pkt(h, 1500), 20 * SL_NSEC_PER_SEC); /* 9 */
	assert_int_equal(h->n_dropped, 4);
	assert_int_equal(h->dropped[3], 9);
	assert_int_equal(h_collect(c, 30 * SL_NSEC_PER_SEC, out, 16), 3);
	assert_int_equal(out[0]->user, 6);
	assert_int_equal(out[1]->user, 7);
	assert_int_equal(out[2]->user, 8);
	sl_cell_free(c);
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
	assert_string_equal(h_cell_err("{\"type\": \"queue\", \"drop\": \"middle\"}"),
		"drop: \"middle\" is not one of tail, head");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_mode_passes),
		cmocka_unit_test(test_pull_mode),
		cmocka_unit_test(test_drop_head_packets),
		cmocka_unit_test(test_drop_head_bytes),
		cmocka_unit_test(test_drop_head_under_rate),
		cmocka_unit_test(test_default_and_unlimited),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
