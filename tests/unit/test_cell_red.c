// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_red.c - RED (lib/cells/red.c), driven in pull mode as a
 * shaper drives it: with weight 1 and the queue held at a fixed length
 * the drop rate matches 2 pb / (1 + pb) within 3% and the gaps between
 * drops are uniform on 1..1/pb; nothing is dropped below min, all above
 * max; gentle; ECN marks ECT packets (header CE, checksum still valid)
 * and drops the others; the average decays while idle; defaults,
 * control() and errors.
 */
#include <math.h>
#include <netinet/in.h>

#include <sluice/cellkit.h>

#include "test_cell_harness.h"

/* A parent for pull mode; the RED cell under test is its child. */
static struct sl_cell *child(struct harness *h, struct sl_cell **parent,
			     const char *cfg)
{
	struct json_object *o = h_json(cfg);
	struct sl_err err = { "" };
	struct sl_cell *c = NULL;

	*parent = h_cell(h, "{\"type\": \"delay\", \"delay\": \"0ms\"}", 1);
	if (sl_cell_new_child(*parent, o, "red", "limit", &c, &err))
		print_error("%s\n", err.msg);
	assert_non_null(c);
	json_object_put(o);
	return c;
}

/* Holds the queue at len packets: each arrival finds len queued (one
 * leaves first unless the arrival before was dropped). Returns drops;
 * gaps[] gets the histogram of distances between drops. */
static unsigned long hold(struct harness *h, struct sl_cell *c,
			  unsigned len, unsigned long n, unsigned *gaps,
			  unsigned max_gap)
{
	struct sl_pkt *pool = calloc(len + 2, sizeof(*pool)), *p;
	unsigned long i, drops = 0, last = 0;
	unsigned k, before;

	/* fill to len: early drops on the way are sent again */
	for (k = 0; k < len; k++) {
		pool[k].len = 1000;
		do {
			before = h->n_dropped;
			sl_cell_child_enqueue(c, &pool[k], 0);
		} while (h->n_dropped != before && (h->n_dropped = before, 1));
	}
	p = &pool[len];
	p->len = 1000;
	for (i = 1; i <= n; i++) {
		before = h->n_dropped;
		h->n_dropped = 0;
		sl_cell_child_enqueue(c, p, i);
		if (h->n_dropped) {
			drops++;
			if (gaps && last && i - last <= max_gap)
				gaps[i - last]++;
			last = i;
		} else {
			p = sl_cell_child_dequeue(c, i);
			assert_non_null(p);
		}
		h->n_dropped = before;
	}
	while ((p = sl_cell_child_dequeue(c, n + 1)))
		;
	free(pool);
	return drops;
}

static void test_drop_rate(void **state)
{
	/* min 10, max 30, max_p 10%, queue held at 20: pb = 0.05 */
	struct harness *h = h_new(4);
	struct sl_cell *parent, *c = child(h, &parent,
		"{\"type\": \"red\", \"min\": \"10pkt\", \"max\": \"30pkt\", \"probability\": \"10%\", \"weight\": 1}");
	unsigned gaps[41] = { 0 }, k;
	const unsigned long n = 200000;
	unsigned long drops = hold(h, c, 20, n, gaps, 40);
	double rate = (double)drops / n, want = 2 * 0.05 / 1.05;

	print_message("# drop rate %.5f, model %.5f\n", rate, want);
	assert_true(fabs(rate - want) <= 0.03 * want);
	/* gaps uniform on 1..20, none longer */
	for (k = 1; k <= 20; k++)
		assert_true(fabs(gaps[k] / (double)drops - 0.05) < 0.005);
	for (k = 21; k <= 40; k++)
		assert_int_equal(gaps[k], 0);
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

static void test_regions(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *parent, *c = child(h, &parent,
		"{\"type\": \"red\", \"min\": \"10pkt\", \"max\": \"30pkt\", \"weight\": 1}");
	struct sl_cell *gp, *g = child(h, &gp,
		"{\"type\": \"red\", \"min\": \"10pkt\", \"max\": \"20pkt\", \"weight\": 1, \"gentle\": true, \"probability\": \"10%\"}");
	unsigned long d;

	assert_int_equal(hold(h, c, 9, 10000, NULL, 0), 0);	 /* below min */
	assert_int_equal(hold(h, c, 30, 1000, NULL, 0), 1000); /* at max */
	/* gentle at 30 = 1.5 max: p = 0.1 + 0.9 * 0.5 = 0.55 */
	d = hold(h, g, 30, 100000, NULL, 0);
	assert_true(fabs(d / 100000.0 - 0.55) < 0.01);
	assert_int_equal(hold(h, g, 40, 1000, NULL, 0), 1000);
	sl_cell_free(c);
	sl_cell_free(g);
	sl_cell_free(parent);
	sl_cell_free(gp);
	h_free(h);
}

static uint16_t csum(const uint8_t *b, unsigned n)
{
	uint32_t s = 0;
	unsigned i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An Ethernet + IPv4 + UDP frame with the given TOS and a valid checksum. */
static void frame4(uint8_t *f, uint8_t tos)
{
	uint16_t c;

	memset(f, 0, 60);
	f[12] = 0x08;
	f[14] = 0x45;
	f[15] = tos;
	f[17] = 46;
	f[22] = 64;
	f[23] = IPPROTO_UDP;
	f[26] = 10, f[29] = 1;
	f[30] = 10, f[33] = 2;
	c = csum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
}

static void test_ecn(void **state)
{
	struct harness *h = h_new(64);
	struct sl_cell *parent, *c = child(h, &parent,
		"{\"type\": \"red\", \"min\": \"1pkt\", \"max\": \"2pkt\", \"weight\": 1, \"ecn\": true}");
	static uint8_t frames[4][60];
	static const uint8_t tos[4] = { 0x00, 0x02, 0x01, 0xb8 }; /* not-ECT, ECT(0), ECT(1), DSCP EF not-ECT */
	struct json_object *t, *v;
	struct sl_pkt *p;
	unsigned i;

	for (i = 0; i < 2; i++) /* fill to max: every arrival is signalled */
		sl_cell_child_enqueue(c, h_pkt(h, 60), 0);
	for (i = 0; i < 4; i++) {
		frame4(frames[i], tos[i]);
		p = h_pkt(h, 60);
		p->data = frames[i];
		sl_cell_child_enqueue(c, p, 1);
	}
	assert_int_equal(h->n_dropped, 2);
	assert_int_equal(h->dropped[0], 2);
	assert_int_equal(h->dropped[1], 5);
	assert_int_equal(h->why[0], SL_DROP_AQM);
	for (i = 1; i < 3; i++) {
		assert_true(h->pkts[2 + i].flags & SL_PKT_ECN_CE);
		assert_int_equal(frames[i][15] & 3, 3);
		assert_int_equal(csum(frames[i] + 14, 20), 0); /* still valid */
		assert_true(sl_pkt_ecn_capable(&h->pkts[2 + i]));
	}
	assert_false(sl_pkt_ecn_capable(&h->pkts[2]));
	t = sl_cell_telemetry(c);
	assert_true(json_object_object_get_ex(t, "marks", &v));
	assert_int_equal(json_object_get_int(v), 2);
	assert_true(json_object_object_get_ex(t, "forced", &v));
	assert_int_equal(json_object_get_int(v), 4);
	json_object_put(t);
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

/* IPv6: the traffic class's ECN bits become CE. */
static void test_ecn_v6(void **state)
{
	uint8_t f[80] = { 0 };
	struct sl_pkt p = { .data = f, .len = sizeof(f) };
	struct sl_hdr hd;

	f[12] = 0x86, f[13] = 0xdd;
	f[14] = 0x60 | 0x0b; /* traffic class 0xb9: DSCP 46, ECT(1) */
	f[15] = 0x90;
	f[20] = IPPROTO_TCP;
	f[54] = 0x13, f[55] = 0x88; /* sport 5000 */
	f[56] = 0x00, f[57] = 0x50; /* dport 80 */
	assert_true(sl_hdr_parse(&p, &hd));
	assert_int_equal(hd.tos, 0xb9);
	assert_int_equal(hd.sport, 5000);
	assert_int_equal(hd.dport, 80);
	assert_true(sl_pkt_mark_ce(&p));
	assert_true(sl_hdr_parse(&p, &hd));
	assert_int_equal(hd.tos, 0xbb);
	assert_int_equal(f[14], 0x6b);
}

/* After an idle second at 10 Mbit/s with 1000-byte packets (1250 could
 * have left), the average has decayed by (1 - w)^1250. */
static void test_idle_decay(void **state)
{
	struct harness *h = h_new(64);
	struct sl_cell *parent, *c = child(h, &parent,
		"{\"type\": \"red\", \"min\": \"30pkt\", \"max\": \"60pkt\", \"weight\": 0.5}");
	struct json_object *t, *v;
	double before;
	unsigned i;

	for (i = 0; i < 20; i++)
		sl_cell_child_enqueue(c, h_pkt(h, 1000), 0);
	t = sl_cell_telemetry(c);
	json_object_object_get_ex(t, "avg", &v);
	before = json_object_get_double(v);
	json_object_put(t);
	for (i = 0; i < 20; i++)
		sl_cell_child_dequeue(c, 0);
	sl_cell_child_enqueue(c, h_pkt(h, 1000), SL_NSEC_PER_SEC);
	t = sl_cell_telemetry(c);
	json_object_object_get_ex(t, "avg", &v);
	assert_true(fabs(json_object_get_double(v) - before * pow(0.5, 1250)) < 1e-12);
	json_object_put(t);
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

static void test_defaults_control_errors(void **state)
{
	struct harness *h = h_new(4);
	struct sl_cell *parent, *c = child(h, &parent, "{\"type\": \"red\"}");
	struct sl_err err = { "" };
	struct json_object *t, *v;

	t = sl_cell_telemetry(c);
	json_object_object_get_ex(t, "max", &v);
	assert_string_equal(json_object_get_string(v), "250pkt");
	json_object_object_get_ex(t, "min", &v);
	assert_string_equal(json_object_get_string(v), "83pkt");
	json_object_put(t);
	assert_int_equal(h_control(c, "{\"min\": \"300pkt\"}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "min: 300 is not below max (250)");
	assert_int_equal(h_control(c, "{\"min\": \"3kb\"}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "min, max: expected two sizes of one kind (both packets or both bytes)");
	assert_int_equal(h_control(c, "{\"min\": \"3kb\", \"max\": \"30kb\", \"ecn\": true}", 0, &err), 0);
	t = sl_cell_telemetry(c);
	json_object_object_get_ex(t, "max", &v);
	assert_string_equal(json_object_get_string(v), "30720b");
	json_object_object_get_ex(t, "ecn", &v);
	assert_true(json_object_get_boolean(v));
	json_object_put(t);
	assert_string_equal(h_cell_err("{\"type\": \"red\", \"limit\": \"unlimited\"}"),
		"max: missing; expected a queue size (it defaults to limit / 4, and the limit is unlimited)");
	assert_string_equal(h_cell_err("{\"type\": \"red\", \"weight\": 0}"),
		"weight: expected more than 0");
	sl_cell_free(c);
	sl_cell_free(parent);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_rate),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_ecn),
		cmocka_unit_test(test_ecn_v6),
		cmocka_unit_test(test_idle_decay),
		cmocka_unit_test(test_defaults_control_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
