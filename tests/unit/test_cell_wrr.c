// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_wrr.c - weighted round robin (lib/cells/wrr.c) under a rate
 * cell: with every class saturated the packet shares are within 3% of
 * weight / sum(weights) (1:2:3 and 5:1); the exact service order of one
 * round; an idle class gives its turn away; weights change at run time;
 * errors.
 */
#include <math.h>

#include <sluice/cellkit.h>

#include "test_cell_harness.h"

#define SEC SL_NSEC_PER_SEC

static uint32_t three(unsigned long i)
{
	return (uint32_t)(i % 3);
}

static uint32_t two(unsigned long i)
{
	return (uint32_t)(i % 2);
}

static void shares(struct h_link *l, unsigned n, const double *w)
{
	double sum = 0, total = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		sum += w[i];
		total += (double)l->bytes_class[i];
	}
	for (i = 0; i < n; i++) {
		double got = (double)l->bytes_class[i] / total, want = w[i] / sum;

		print_message("# class %u: share %.4f, weight share %.4f\n", i, got, want);
		assert_true(fabs(got - want) <= 0.03 * want);
	}
}

static void test_shares(void **state)
{
	struct sl_cell *c = h_cell(NULL,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"wrr\", \"classes\": ["
		"{\"class\": 0, \"weight\": 1, \"queue\": \"50pkt\"}, {\"class\": 1, \"weight\": 2, \"queue\": \"50pkt\"},"
		"{\"class\": 2, \"weight\": 3, \"queue\": \"50pkt\"}]}}", 1);
	static const double w[] = { 1, 2, 3 }, w2[] = { 5, 1 };
	struct h_link l;
	struct sl_err err = { "" };

	hl_init(&l, 1024);
	/* 3 x 40 Mbit/s offered into 10 */
	hl_run(&l, c, 0, 100 * US, 1500, 10 * SEC, 2 * SEC, three);
	shares(&l, 3, w);
	sl_cell_free(c);
	hl_fini(&l);

	c = h_cell(NULL, "{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"wrr\", \"classes\": ["
		"{\"class\": 0, \"weight\": 1}, {\"class\": 1, \"weight\": 1}]}}", 1);
	hl_init(&l, 4096);
	hl_run(&l, c, 0, 100 * US, 1500, 2 * SEC, 0, two);
	/* weights change at run time: 5:1 from now on */
	assert_int_equal(h_control(c, "{\"queue\": {\"classes\": [{\"weight\": 5}, {}]}}", 2 * SEC, &err), 0);
	memset(l.bytes_class, 0, sizeof(l.bytes_class));
	hl_run(&l, c, 2 * SEC, 100 * US, 1500, 10 * SEC, 4 * SEC, two);
	shares(&l, 2, w2);
	sl_cell_free(c);
	hl_fini(&l);
}

/* Pull mode: classes 0, 1, 2 with weights 1, 2, 3 and 5, 5, 6 packets:
 * 0 11 222 0 11 222 0 1, then class 0 alone. */
static void test_order(void **state)
{
	static const unsigned want[] = { 0, 1, 1, 2, 2, 2, 0, 1, 1, 2, 2, 2,
					 0, 1, 0, 0 };
	struct harness *h = h_new(32);
	struct sl_cell *parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"0ms\"}", 1);
	struct json_object *cfg = h_json("{\"type\": \"wrr\", \"classes\": [{\"class\": 0, \"weight\": 1},"
					 "{\"class\": 1, \"weight\": 2}, {\"class\": 2, \"weight\": 3}]}");
	struct sl_err err = { "" };
	struct sl_cell *c;
	struct sl_pkt *p;
	unsigned i, k;

	assert_int_equal(sl_cell_new_child(parent, cfg, "queue", "limit", &c, &err), 0);
	json_object_put(cfg);
	for (k = 0; k < 3; k++)
		for (i = 0; i < 5 + (k == 2); i++) {
			p = h_pkt(h, 100);
			p->class = k;
			sl_cell_child_enqueue(c, p, 0);
		}
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		p = sl_cell_child_peek(c, 0);
		assert_ptr_equal(sl_cell_child_peek(c, 0), p); /* repeatable */
		assert_ptr_equal(sl_cell_child_dequeue(c, 0), p);
		assert_int_equal(p->class, want[i]);
	}
	assert_null(sl_cell_child_peek(c, 0));
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

static uint32_t one(unsigned long i)
{
	return 1;
}

/* Only the class of weight 1 has traffic: it gets the whole link. */
static void test_idle_class(void **state)
{
	struct sl_cell *c = h_cell(NULL,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"wrr\", \"classes\": ["
		"{\"class\": 0, \"weight\": 9}, {\"class\": 1, \"weight\": 1}]}}", 1);
	struct h_link l;

	hl_init(&l, 2048);
	hl_run(&l, c, 0, 600 * US, 1500, 10 * SEC, 1 * SEC, one);
	assert_int_equal(l.bytes_class[0], 0);
	/* 9 s at 10 Mbit/s, to one packet */
	assert_true(fabs((double)l.bytes_class[1] - 9 * 10e6 / 8) <= 1500);
	sl_cell_free(c);
	hl_fini(&l);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"wrr\", \"classes\": [{\"weight\": 0}]}"),
		"classes[0]: weight: 0 is out of range; expected 1 to 1000000");
	assert_string_equal(h_cell_err("{\"type\": \"wrr\", \"classes\": [{\"quantum\": 10}]}"),
		"classes[0]: unknown key \"quantum\"; expected one of name, class, match, weight, queue");
	assert_string_equal(h_cell_err("{\"type\": \"wrr\", \"classes\": []}"),
		"classes: expected a list of 1 to 64 classes such as [{\"match\": \"proto udp\"}, {}]");
	assert_string_equal(h_cell_err("{\"type\": \"wrr\", \"classes\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}"),
		"classes[1].name: \"a\" is already the name of classes[0]");
	assert_string_equal(h_cell_err("{\"type\": \"wrr\", \"classes\": [{\"name\": \"a\"}], \"default\": \"b\"}"),
		"default: \"b\" is not the name of a class");
	assert_string_equal(h_cell_err("{\"type\": \"wrr\", \"classes\": [{\"queue\": {\"type\": \"delay\", \"delay\": \"1ms\"}}]}"),
		"classes[0].queue: a delay cell cannot queue for a scheduler; expected a queue cell such as {\"type\": \"queue\", \"limit\": \"100pkt\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_idle_class),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
