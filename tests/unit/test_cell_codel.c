// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_codel.c - CoDel (lib/cells/codel.c) as the queue of a rate
 * cell: under a 2x overload from responsive (Reno-like) senders the
 * median sojourn stays within 2x target; an unresponsive 2x sender keeps
 * the link busy and is mostly dropped by CoDel; no AQM drop under
 * light load; the first drop comes one interval after the delay rose;
 * the drop spacing follows interval / sqrt(count); ECN marks instead of
 * dropping; control(); errors.
 */
#include <math.h>

#include <sluice/cellkit.h>

#include "test_cell_harness.h"

#define SEC SL_NSEC_PER_SEC

/*
 * 10 Mbit/s (1500-byte packets, 1.2 ms each), 4 Reno-like flows over a
 * 100 ms base RTT (CoDel's design point: interval = a worst-case RTT)
 * whose applications offer 20 Mbit/s: the median sojourn
 * over the last 30 s of 60 stays within 2x target, and the link stays
 * busy. With a drop-tail queue of the same limit the median is the
 * queue's length instead (checked too, so the test can fail).
 */
static void test_overload_median(void **state)
{
	static const char *const cfgs[] = {
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"codel\"}}",
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"codel\", \"target\": \"10ms\", \"interval\": \"200ms\"}}",
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": \"1000pkt\"}",
	};
	static const uint64_t target[] = { 5 * MS, 10 * MS, 0 };
	static struct h_tcp tcp;
	unsigned k;

	for (k = 0; k < 3; k++) {
		struct sl_cell *c = h_cell(NULL, cfgs[k], 1);
		struct h_link l;
		uint64_t med;
		double mbit;

		hl_init(&l, 8192);
		ht_run(&tcp, &l, c, 4, 20000000, 100 * MS, 100 * US, 60 * SEC, 30 * SEC);
		med = hl_median(&l);
		mbit = (double)l.n_soj * 1500 * 8 / 30e6;
		print_message("# %s: median sojourn %.2f ms, p90 %.2f ms over %lu packets; losses %lu; %.2f Mbit/s\n",
			      cfgs[k], (double)med / MS,
			      (double)l.soj[l.n_soj * 9 / 10] / MS, l.n_soj,
			      tcp.losses, mbit);
		if (target[k])
			assert_true(med <= 2 * target[k]);
		else
			assert_true(med > 100 * MS);
		assert_true(mbit >= 9.5);
		sl_cell_free(c);
		hl_fini(&l);
	}
}

/*
 * An unresponsive sender at 2x: CoDel's control law needs about
 * (2 interval sqrt(count)) to reach the ~50% drop rate, and its count
 * memory (RFC 8289's "delta") lets the rate fall back after a short
 * episode, so the queue cycles between empty and full: CoDel is no
 * policer. The link stays busy, and most excess is dropped at the head
 * by CoDel, not at the tail.
 */
static void test_unresponsive(void **state)
{
	struct sl_cell *c = h_cell(NULL,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"codel\"}}", 1);
	struct h_link l;

	hl_init(&l, 4096);
	hl_run(&l, c, 0, 600 * US, 1500, 60 * SEC, 30 * SEC, NULL);
	print_message("# unresponsive 2x: median sojourn %.1f ms; aqm drops %lu, tail drops %lu\n",
		      (double)hl_median(&l) / MS, l.drops[SL_DROP_AQM],
		      l.drops[SL_DROP_QUEUE]);
	assert_true(l.n_soj * 1500 * 8 >= 0.99 * 10e6 * 30);
	assert_true(l.drops[SL_DROP_AQM] > 2 * l.drops[SL_DROP_QUEUE]);
	sl_cell_free(c);
	hl_fini(&l);
}

static void test_light_load(void **state)
{
	struct sl_cell *c = h_cell(NULL,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"queue\": {\"type\": \"codel\"}}", 1);
	struct h_link l;

	hl_init(&l, 256);
	hl_run(&l, c, 0, 2400 * US, 1500, 10 * SEC, 0, NULL); /* 50% load */
	assert_int_equal(l.drops[SL_DROP_AQM], 0);
	assert_int_equal(l.out, l.in);
	sl_cell_free(c);
	hl_fini(&l);
}

/*
 * Pull mode by hand, 1 packet of 1500 bytes served every ms while two
 * arrive: the first drop comes when the head's sojourn has been above
 * target for one interval, and drops then come interval / sqrt(count)
 * apart.
 */
static void test_control_law(void **state)
{
	struct harness *h = h_new(4000);
	struct sl_cell *parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"0ms\"}", 1);
	struct json_object *cfg = h_json("{\"type\": \"codel\", \"limit\": \"unlimited\"}");
	struct sl_err err = { "" };
	uint64_t drop_t[64], t, above = 0;
	unsigned n_drops = 0, i, k;
	struct sl_cell *c;

	assert_int_equal(sl_cell_new_child(parent, cfg, "codel", "limit", &c, &err), 0);
	json_object_put(cfg);
	for (t = 0; t < 1000 * MS && n_drops < 64; t += MS) {
		unsigned before = h->n_dropped;
		struct sl_pkt *p;

		sl_cell_child_enqueue(c, h_pkt(h, 1500), t);
		sl_cell_child_enqueue(c, h_pkt(h, 1500), t);
		p = sl_cell_child_peek(c, t);
		assert_non_null(p);
		if (!above && t - p->ts_enqueue >= 5 * MS)
			above = t;
		assert_ptr_equal(sl_cell_child_dequeue(c, t), p);
		for (k = before; k < h->n_dropped && n_drops < 64; k++)
			drop_t[n_drops++] = t;
	}
	assert_true(n_drops >= 10);
	/* sojourn rose above 5 ms at 'above'; first drop one interval later
	 * (to the ms the test serves at) */
	assert_true(drop_t[0] >= above + 100 * MS && drop_t[0] <= above + 101 * MS);
	for (i = 1; i < 8; i++) {
		double want = 100.0 / sqrt(i); /* ms after the previous */
		double got = (double)(drop_t[i] - drop_t[i - 1]) / MS;

		assert_true(got >= want - 1 && got <= want + 1);
	}
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

static uint8_t frames[4000][60];

static struct sl_pkt *ect_pkt(struct harness *h)
{
	struct sl_pkt *p = h_pkt(h, 60);
	uint8_t *f = frames[p->user];

	f[12] = 0x08;
	f[14] = 0x45;
	f[15] = 0x02; /* ECT(0); checksum left 0: marking updates it anyway */
	p->data = f;
	return p;
}

static void test_ecn(void **state)
{
	struct harness *h = h_new(4000);
	struct sl_cell *parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"0ms\"}", 1);
	struct json_object *cfg = h_json("{\"type\": \"codel\", \"limit\": \"unlimited\", \"ecn\": true}");
	struct sl_err err = { "" };
	struct json_object *tl, *v;
	unsigned long marked = 0, out = 0;
	struct sl_cell *c;
	uint64_t t;

	assert_int_equal(sl_cell_new_child(parent, cfg, "codel", "limit", &c, &err), 0);
	json_object_put(cfg);
	for (t = 0; t < 1000 * MS; t += MS) {
		struct sl_pkt *p;

		sl_cell_child_enqueue(c, ect_pkt(h), t);
		sl_cell_child_enqueue(c, ect_pkt(h), t);
		p = sl_cell_child_dequeue(c, t);
		out++;
		marked += !!(p->flags & SL_PKT_ECN_CE);
	}
	assert_int_equal(h->n_dropped, 0); /* nothing dropped, only marked */
	assert_true(marked > 10);
	tl = sl_cell_telemetry(c);
	json_object_object_get_ex(tl, "marks", &v);
	assert_int_equal(json_object_get_int64(v), marked);
	json_object_put(tl);
	assert_int_equal(h_control(c, "{\"target\": \"20ms\", \"ecn\": false}", t, &err), 0);
	tl = sl_cell_telemetry(c);
	json_object_object_get_ex(tl, "target_ns", &v);
	assert_int_equal(json_object_get_int64(v), 20 * MS);
	json_object_put(tl);
	assert_int_equal(h_control(c, "{\"interval\": \"0ms\"}", t, &err), -EINVAL);
	assert_string_equal(err.msg, "interval: expected more than 0");
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"codel\", \"target\": 5}"),
		"target: 5 is not a time; expected a number with a unit such as 10ms, 250us, 1s");
	assert_string_equal(h_cell_err("{\"type\": \"codel\", \"quantum\": 5}"),
		"unknown key \"quantum\"; expected one of target, interval, limit, ecn");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overload_median),
		cmocka_unit_test(test_unresponsive),
		cmocka_unit_test(test_light_load),
		cmocka_unit_test(test_control_law),
		cmocka_unit_test(test_ecn),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
