// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_prio.c - strict priority (lib/cells/prio.c) under a rate
 * cell: while the high class is idle the low class gets the whole link
 * (nothing is starved), with the high class at 30% the low class gets
 * the other 70%, a saturating high class does take everything, and the
 * low class gets the link back the moment the high class stops; the
 * exact order in pull mode.
 */
#include <math.h>

#include <sluice/cellkit.h>

#include "test_cell_harness.h"

#define SEC SL_NSEC_PER_SEC

static const char cfg[] =
	"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"prio\", \"classes\": ["
	"{\"name\": \"high\", \"class\": 1, \"queue\": \"100pkt\"}, {\"name\": \"low\", \"queue\": \"100pkt\"}]}}";

static uint32_t all_low(unsigned long i)
{
	return 0;
}

static uint32_t all_high(unsigned long i)
{
	return 1;
}

/* Arrivals every 100 us (120 Mbit/s): 3 in 80 are high = 30% of 10. */
static uint32_t high_30(unsigned long i)
{
	return i % 80 < 3 ? 1 : 0;
}

static double mbit(const struct h_link *l, unsigned class, double secs)
{
	return (double)l->bytes_class[class] * 8 / secs / 1e6;
}

static void test_no_starvation(void **state)
{
	struct sl_cell *c = h_cell(NULL, cfg, 1);
	struct h_link l;
	uint64_t t;

	hl_init(&l, 4096);
	/* 1. high idle: low has the link */
	t = hl_run(&l, c, 0, 100 * US, 1500, 5 * SEC, 1 * SEC, all_low);
	print_message("# high idle: low %.3f Mbit/s\n", mbit(&l, 0, 4));
	assert_true(fabs(mbit(&l, 0, 4) - 10) <= 0.01 * 10);
	assert_int_equal(l.bytes_class[1], 0);
	/* 2. high at 30%: it gets all it asks, low the rest */
	memset(l.bytes_class, 0, sizeof(l.bytes_class));
	t = hl_run(&l, c, t, 100 * US, 1500, t + 10 * SEC, t + 2 * SEC, high_30);
	print_message("# high at 30%%: high %.3f, low %.3f Mbit/s\n",
		      mbit(&l, 1, 8), mbit(&l, 0, 8));
	assert_true(fabs(mbit(&l, 1, 8) - 4.5) <= 0.03 * 4.5); /* 3/80 of 120 */
	assert_true(fabs(mbit(&l, 0, 8) - 5.5) <= 0.03 * 5.5);
	/* 3. high saturating: strict, low gets nothing */
	memset(l.bytes_class, 0, sizeof(l.bytes_class));
	t = hl_run(&l, c, t, 100 * US, 1500, t + 5 * SEC, t + 1 * SEC, all_high);
	assert_int_equal(l.bytes_class[0], 0);
	/* 4. high stops: once its backlog (100 packets, 120 ms) is out, the
	 * low class has the whole link again */
	memset(l.bytes_class, 0, sizeof(l.bytes_class));
	memset(l.pkts_class, 0, sizeof(l.pkts_class));
	hl_run(&l, c, t, 100 * US, 1500, t + 5 * SEC, t + 121 * MS, all_low);
	print_message("# high stopped: high backlog %lu packets, then low %.3f Mbit/s\n",
		      (unsigned long)l.pkts_class[1], mbit(&l, 0, 4.879));
	assert_int_equal(l.pkts_class[1], 0);
	assert_true(fabs(mbit(&l, 0, 4.879) - 10) <= 0.01 * 10);
	sl_cell_free(c);
	hl_fini(&l);
}

static void test_order(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"0ms\"}", 1);
	struct json_object *o = h_json("{\"type\": \"prio\", \"classes\": [{\"class\": 2}, {\"class\": 1}, {}]}");
	static const uint32_t in[] = { 0, 1, 2, 0, 2, 1, 7 };
	static const uint32_t out[] = { 2, 2, 1, 1, 0, 0, 7 };
	struct sl_err err = { "" };
	struct sl_cell *c;
	struct sl_pkt *p;
	unsigned i;

	assert_int_equal(sl_cell_new_child(parent, o, "queue", "limit", &c, &err), 0);
	json_object_put(o);
	for (i = 0; i < 7; i++) {
		p = h_pkt(h, 100);
		p->class = in[i];
		sl_cell_child_enqueue(c, p, i);
	}
	for (i = 0; i < 7; i++) {
		p = sl_cell_child_dequeue(c, 10);
		assert_int_equal(p->class, out[i]);
	}
	assert_null(sl_cell_child_dequeue(c, 10));
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_starvation),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
