// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_rate.c - the token-bucket shaper (lib/cells/rate.c) with a fake
 * clock: departure times equal the token bucket's to the nanosecond,
 * whether the clock steps from event to event or polls late; the queue
 * limit in packets and bytes drops exactly the right packets; control()
 * during a backlog keeps every queued packet and applies from the next
 * departure; configuration errors name the key.
 */
#include "test_cell_harness.h"

/* Departures of a backlogged train of k+1 packets of len bytes from a full
 * bucket of burst bytes at rate bit/s: ceil(((k+1) len - burst) 8e9 / rate). */
static uint64_t train_depart(uint64_t k, uint64_t len, uint64_t burst,
			     uint64_t rate)
{
	uint64_t need = (k + 1) * len;

	if (need <= burst)
		return 0;
	return ((need - burst) * 8 * SL_NSEC_PER_SEC + rate - 1) / rate;
}

static void test_train_exact(void **state)
{
	struct harness *h = h_new(64);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"rate\", \"rate\": \"7mbit\", \"queue\": \"unlimited\"}", 1);
	struct sl_pkt *out[64];
	uint64_t now = 0, next;
	unsigned i, n = 0;

	for (i = 0; i < 50; i++)
		sl_cell_enqueue(c, h_pkt(h, 1000), 0);
	/* step the clock from event to event, as the wheel would */
	while (n < 50) {
		struct sl_pkt *p = sl_cell_dequeue(c, now, &next);

		if (!p) {
			assert_true(next > now);
			assert_int_not_equal(next, SL_TIME_NEVER);
			now = next;
			continue;
		}
		assert_int_equal(p->user, n);
		assert_int_equal(p->ts_depart, train_depart(n, 1000, 1514, 7000000));
		assert_int_equal(p->ts_depart, now);
		out[n++] = p;
	}
	assert_null(sl_cell_dequeue(c, SL_TIME_NEVER - 1, &next));
	assert_int_equal(next, SL_TIME_NEVER);
	/* 49 more packets need 49000 - 514 bytes at 7 Mbit/s */
	assert_int_equal(out[49]->ts_depart, 55412572);
	assert_int_equal(h->n_dropped, 0);
	sl_cell_free(c);
	h_free(h);
}

/* Hand-checked: 12 Mbit/s is 1 ms per 1500 bytes, burst two packets. */
static void test_burst_and_refill(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"rate\", \"rate\": \"12mbit\", \"burst\": \"3000b\"}", 1);
	static const uint64_t want[] = { 0, 0, 1 * MS, 2 * MS, 3 * MS,
					 10 * MS, 10 * MS, 11 * MS };
	struct sl_pkt *out[16];
	unsigned i, n;

	for (i = 0; i < 5; i++)
		sl_cell_enqueue(c, h_pkt(h, 1500), 0);
	/* the bucket is full again 2 ms after the last departure */
	for (i = 0; i < 3; i++)
		sl_cell_enqueue(c, h_pkt(h, 1500), 10 * MS);
	n = h_collect(c, 100 * MS, out, 16); /* one late poll for all */
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++) {
		assert_int_equal(out[i]->user, i);
		assert_int_equal(out[i]->ts_depart, want[i]);
	}
	sl_cell_free(c);
	h_free(h);
}

/*
 * Reference: the token bucket written out per packet, independently of
 * lib/cells/tbucket.c (tokens in bit-nanoseconds as 128-bit integers).
 */
static void reference(const uint64_t *arr, const uint32_t *len, unsigned n,
		      uint64_t rate, uint64_t burst, uint64_t *dep)
{
	unsigned __int128 cap = (unsigned __int128)burst * 8 * SL_NSEC_PER_SEC;
	unsigned __int128 tokens = cap, cost, have, depth;
	uint64_t t = 0, d;
	unsigned i;

	for (i = 0; i < n; i++) {
		cost = (unsigned __int128)len[i] * 8 * SL_NSEC_PER_SEC;
		d = arr[i] > t ? arr[i] : t;
		/* tokens at d, the bucket being max(cap, cost) deep */
		depth = cap > cost ? cap : cost;
		have = tokens + (unsigned __int128)(d - t) * rate;
		if (have > depth)
			have = depth;
		if (have < cost) {
			unsigned __int128 wait = (cost - have + rate - 1) / rate;

			/* it conformed within the last nanosecond: what
			 * accrued since is not spilled */
			d += (uint64_t)wait;
			have += wait * rate;
		}
		tokens = have - cost;
		t = d;
		dep[i] = d;
	}
}

static void test_random_arrivals(void **state)
{
	enum { N = 2000 };
	static uint64_t arr[N], dep[N];
	static uint32_t len[N];
	static const char *const cfgs[] = {
		"{\"type\": \"rate\", \"rate\": \"7mbit\", \"queue\": \"unlimited\"}",
		"{\"type\": \"rate\", \"rate\": \"1.5mbit\", \"burst\": \"10kb\", \"queue\": \"unlimited\"}",
		"{\"type\": \"rate\", \"rate\": \"999999bit\", \"burst\": \"100b\", \"queue\": \"unlimited\"}",
	};
	static const uint64_t rates[] = { 7000000, 1500000, 999999 };
	static const uint64_t bursts[] = { 1514, 10240, 100 };
	unsigned k, i, n;

	for (k = 0; k < 3; k++) {
		struct harness *h = h_new(N);
		struct sl_cell *c = h_cell(h, cfgs[k], 1), *c2;
		struct sl_pkt **out = calloc(N, sizeof(*out));
		struct sl_rng r;
		uint64_t t = 5 * MS, next, now;

		sl_rng_seed(&r, k + 10);
		for (i = 0; i < N; i++) {
			t += sl_rng_below(&r, 3 * MS);
			arr[i] = t;
			len[i] = 64 + (uint32_t)sl_rng_below(&r, 1451);
		}
		reference(arr, len, N, rates[k], bursts[k], dep);

		/* one run polled after every arrival ... */
		for (i = 0, n = 0; i < N; i++) {
			sl_cell_enqueue(c, h_pkt(h, len[i]), arr[i]);
			n += h_collect(c, arr[i], out + n, N - n);
		}
		n += h_collect(c, SL_TIME_NEVER - 1, out + n, N - n);
		assert_int_equal(n, N);
		for (i = 0; i < N; i++) {
			assert_int_equal(out[i]->user, i);
			assert_int_equal(out[i]->ts_depart, dep[i]);
		}
		/* ... and one polled now and then, late: same departures */
		c2 = h_cell(h, cfgs[k], 1);
		h->used = 0;
		now = 0;
		for (i = 0, n = 0; i < N; i++) {
			sl_cell_enqueue(c2, h_pkt(h, len[i]), arr[i]);
			/* the clock only moves forward: a poll falls between
			 * this arrival and the next */
			if (i + 1 < N && sl_rng_below(&r, 4) == 0) {
				now = arr[i] + sl_rng_below(&r, arr[i + 1] - arr[i] + 1);
				n += h_collect(c2, now, out + n, N - n);
			}
		}
		for (now = arr[N - 1];; now = next) {
			n += h_collect(c2, now, out + n, N - n);
			if (n == N)
				break;
			assert_null(sl_cell_dequeue(c2, now, &next));
		}
		for (i = 0; i < N; i++)
			assert_int_equal(out[i]->ts_depart, dep[i]);
		assert_int_equal(h->n_dropped, 0);
		sl_cell_free(c);
		sl_cell_free(c2);
		free(out);
		h_free(h);
	}
}

/* 10 Mbit/s: 1.2 ms per 1500 bytes; burst one packet; 3 may wait. */
static void test_queue_limit_packets(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"burst\": \"1500b\", \"queue\": \"3pkt\"}", 1);
	struct sl_pkt *out[16];
	struct sl_cell_stats st;
	unsigned i, n;

	for (i = 0; i < 6; i++)
		sl_cell_enqueue(c, h_pkt(h, 1500), 0);
	/* packet 0 left at 0 before packet 1 came; 1, 2, 3 wait; 4, 5 drop */
	assert_int_equal(h->n_dropped, 2);
	assert_int_equal(h->dropped[0], 4);
	assert_int_equal(h->dropped[1], 5);
	assert_int_equal(h->why[0], SL_DROP_QUEUE);
	/* packet 1 leaves at exactly 1.2 ms: an arrival then finds 2 waiting */
	sl_cell_enqueue(c, h_pkt(h, 1500), 1200 * US); /* 6: accepted */
	sl_cell_enqueue(c, h_pkt(h, 1500), 1200 * US); /* 7: dropped */
	sl_cell_enqueue(c, h_pkt(h, 1500), 1200 * US - 1); /* clock clamps: 8 dropped */
	assert_int_equal(h->n_dropped, 4);
	assert_int_equal(h->dropped[2], 7);
	assert_int_equal(h->dropped[3], 8);
	sl_cell_stats(c, &st);
	assert_int_equal(st.qlen_pkts, 3);
	assert_int_equal(st.drops[SL_DROP_QUEUE], 4);
	assert_int_equal(st.drop_bytes[SL_DROP_QUEUE], 6000);
	n = h_collect(c, SL_TIME_NEVER - 1, out, 16);
	assert_int_equal(n, 5);
	assert_int_equal(out[0]->user, 0);
	assert_int_equal(out[1]->user, 1);
	assert_int_equal(out[4]->user, 6);
	assert_int_equal(out[4]->ts_depart, 4800 * US);
	sl_cell_stats(c, &st);
	assert_int_equal(st.pkts_in, 9);
	assert_int_equal(st.pkts_out, 5);
	assert_int_equal(st.qlen_pkts, 0);
	assert_int_equal(st.qlen_bytes, 0);
	sl_cell_free(c);
	h_free(h);
}

static void test_queue_limit_bytes(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"rate\", \"rate\": \"8mbit\", \"burst\": \"1000b\", \"queue\": {\"type\": \"queue\", \"limit\": \"4000b\"}}", 1);
	struct sl_pkt *out[16];
	unsigned i;

	for (i = 0; i < 6; i++) /* 0 leaves, 1-4 fill 4000 bytes, 5 drops */
		sl_cell_enqueue(c, h_pkt(h, 1000), 0);
	sl_cell_enqueue(c, h_pkt(h, 64), 0); /* 6: still over */
	assert_int_equal(h->n_dropped, 2);
	assert_int_equal(h->dropped[0], 5);
	assert_int_equal(h->dropped[1], 6);
	/* at 1 ms packet 1 has left: room for 1000 bytes, not 1001 */
	sl_cell_enqueue(c, h_pkt(h, 1001), 1 * MS); /* 7: dropped */
	sl_cell_enqueue(c, h_pkt(h, 1000), 1 * MS); /* 8: fits */
	assert_int_equal(h->n_dropped, 3);
	assert_int_equal(h->dropped[2], 7);
	assert_int_equal(h_collect(c, SL_TIME_NEVER - 1, out, 16), 6);
	assert_int_equal(out[5]->user, 8);
	assert_int_equal(out[5]->ts_depart, 5 * MS);
	sl_cell_free(c);
	h_free(h);
}

/*
 * 100 packets at 10 Mbit/s from t=0 (one every 1.2 ms). At 12.5 ms, with
 * packet 11 half-way through its wait, the rate becomes 50 Mbit/s: the 625
 * bytes earned so far are kept and the remaining 875 take 0.14 ms, then
 * one packet per 0.24 ms. Nothing queued is lost.
 */
static void test_control_during_backlog(void **state)
{
	struct harness *h = h_new(128);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"rate\", \"rate\": \"10mbit\", \"burst\": \"1500b\", \"queue\": \"100pkt\"}", 1);
	struct sl_err err = { "" };
	struct sl_pkt *out[128];
	struct sl_cell_stats st;
	unsigned i, n;

	for (i = 0; i < 100; i++)
		sl_cell_enqueue(c, h_pkt(h, 1500), 0);
	assert_int_equal(h_control(c, "{\"rate\": \"50mbit\", \"queue\": \"5pkt\"}",
				   12500 * US, &err), 0);
	sl_cell_stats(c, &st);
	assert_int_equal(st.qlen_pkts, 89); /* 0..10 left by 12 ms */
	/* the smaller limit refuses arrivals, keeps the backlog */
	sl_cell_enqueue(c, h_pkt(h, 1500), 12600 * US);
	assert_int_equal(h->n_dropped, 1);
	assert_int_equal(h->dropped[0], 100);

	n = h_collect(c, SL_TIME_NEVER - 1, out, 128);
	assert_int_equal(n, 100);
	for (i = 0; i < 100; i++) {
		uint64_t want = i <= 10 ? i * 1200 * US :
					  12640 * US + (i - 11) * 240 * US;

		assert_int_equal(out[i]->user, i);
		assert_int_equal(out[i]->ts_depart, want);
	}
	sl_cell_stats(c, &st);
	assert_int_equal(st.pkts_out, 100);
	assert_int_equal(st.drops[SL_DROP_QUEUE], 1);
	assert_int_equal(st.qlen_pkts, 0);
	sl_cell_free(c);
	h_free(h);
}

/* A failed control() changes nothing, not even the parts that were valid. */
static void test_control_errors(void **state)
{
	struct harness *h = h_new(8);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"rate\", \"rate\": \"12mbit\", \"burst\": \"1500b\", \"queue\": \"10pkt\"}", 1);
	struct sl_err err = { "" };
	struct sl_pkt *out[8];
	unsigned i;

	assert_int_equal(h_control(c, "{\"rate\": \"fast\"}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "rate: \"fast\" is not a rate; expected a number with a unit such as 10mbit, 1gbit");
	assert_int_equal(h_control(c, "{\"rate\": \"24mbit\", \"queue\": \"many\"}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "queue: \"many\" is not a queue size; expected a size such as 100pkt, 1500b or 64kb (k = 1024) or \"unlimited\"");
	assert_int_equal(h_control(c, "{\"type\": \"delay\"}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "type: a live rate cell cannot become \"delay\"");
	assert_int_equal(h_control(c, "{\"rat\": 1}", 0, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown key \"rat\"; expected one of rate, burst, queue");
	for (i = 0; i < 3; i++)
		sl_cell_enqueue(c, h_pkt(h, 1500), 0);
	assert_int_equal(h_collect(c, 10 * MS, out, 8), 3);
	assert_int_equal(out[2]->ts_depart, 2 * MS); /* still 12 Mbit/s */
	sl_cell_free(c);
	h_free(h);
}

/* A packet larger than the burst waits until its own length has accrued:
 * the bucket's depth is max(burst, the packet's length). */
static void test_oversized(void **state)
{
	struct harness *h = h_new(8);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"rate\", \"rate\": \"8mbit\", \"burst\": 1000}", 1);
	struct sl_pkt *out[8];

	sl_cell_enqueue(c, h_pkt(h, 3000), 0);     /* needs 2000 more: 2 ms */
	sl_cell_enqueue(c, h_pkt(h, 500), 0);      /* 0.5 ms after */
	sl_cell_enqueue(c, h_pkt(h, 3000), 50 * MS); /* long idle: goes at once */
	assert_int_equal(h_collect(c, SL_TIME_NEVER - 1, out, 8), 3);
	assert_int_equal(out[0]->ts_depart, 2 * MS);
	assert_int_equal(out[1]->ts_depart, 2500 * US);
	assert_int_equal(out[2]->ts_depart, 50 * MS);
	sl_cell_free(c);
	h_free(h);
}

static void test_telemetry(void **state)
{
	struct harness *h = h_new(8);
	struct sl_cell *c = h_cell(h,
		"{\"type\": \"rate\", \"name\": \"bottleneck\", \"rate\": \"12mbit\", \"burst\": \"1500b\", \"queue\": \"2pkt\"}", 1);
	struct sl_pkt *out[8];
	struct json_object *t;
	unsigned i;

	for (i = 0; i < 4; i++)
		sl_cell_enqueue(c, h_pkt(h, 1500), 0);
	assert_int_equal(h_collect(c, 1 * MS, out, 8), 2);
	t = sl_cell_telemetry(c);
	assert_string_equal(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN),
		"{\"name\":\"bottleneck\",\"type\":\"rate\",\"pkts_in\":4,\"bytes_in\":6000,"
		"\"pkts_out\":2,\"bytes_out\":3000,"
		"\"drops\":{\"queue\":1,\"loss\":0,\"police\":0,\"aqm\":0,\"flush\":0},"
		"\"qlen_pkts\":1,\"qlen_bytes\":1500,"
		"\"sojourn_ns\":{\"last\":1000000,\"avg\":500000,\"max\":1000000},"
		"\"rate_bps\":12000000,\"burst_bytes\":1500,\"tokens_bytes\":0,"
		"\"queue\":{\"name\":\"queue\",\"type\":\"queue\",\"pkts_in\":4,\"bytes_in\":6000,"
		"\"pkts_out\":2,\"bytes_out\":3000,"
		"\"drops\":{\"queue\":1,\"loss\":0,\"police\":0,\"aqm\":0,\"flush\":0},"
		"\"qlen_pkts\":1,\"qlen_bytes\":1500,"
		"\"sojourn_ns\":{\"last\":1000000,\"avg\":500000,\"max\":1000000},"
		"\"limit\":\"2pkt\",\"drop\":\"tail\"}}");
	json_object_put(t);
	/* freeing hands the waiting packet back */
	sl_cell_free(c);
	assert_int_equal(h->n_dropped, 2);
	assert_int_equal(h->dropped[1], 2);
	assert_int_equal(h->why[1], SL_DROP_FLUSH);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"rate\", \"rate\": \"fast\"}"),
		"rate: \"fast\" is not a rate; expected a number with a unit such as 10mbit, 1gbit");
	assert_string_equal(h_cell_err("{\"type\": \"rate\"}"),
		"rate: missing; expected a number with a unit such as 10mbit, 1gbit");
	assert_string_equal(h_cell_err("{\"type\": \"rate\", \"rate\": {}}"),
		"rate: expected a number with a unit such as 10mbit, 1gbit, got an object");
	assert_string_equal(h_cell_err("{\"type\": \"rate\", \"rate\": \"1mbit\", \"burst\": \"10pkt\"}"),
		"burst: \"10pkt\" is not a size in bytes; expected a size in bytes such as 1514b, 15kb or 1mb (k = 1024)");
	assert_string_equal(h_cell_err("{\"type\": \"rate\", \"rate\": \"1mbit\", \"burst\": \"2gb\"}"),
		"burst: 2147483648 bytes is more than the largest burst, 1073741824 bytes (1gb)");
	assert_string_equal(h_cell_err("{\"type\": \"rate\", \"rate\": \"1mbit\", \"queue\": \"lots\"}"),
		"queue: \"lots\" is not a queue size; expected a size such as 100pkt, 1500b or 64kb (k = 1024) or \"unlimited\"");
	assert_string_equal(h_cell_err("{\"type\": \"rate\", \"rate\": \"1mbit\", \"queue\": {\"type\": \"delay\", \"delay\": \"1ms\"}}"),
		"queue: a delay cell cannot queue for a shaper; expected a queue cell such as {\"type\": \"queue\", \"limit\": \"100pkt\"}");
	assert_string_equal(h_cell_err("{\"type\": \"rate\", \"rate\": \"1mbit\", \"queue\": {\"limit\": 0}}"),
		"queue: limit: 0 is not a queue size; expected a size such as 100pkt, 1500b or 64kb (k = 1024) or \"unlimited\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_train_exact),
		cmocka_unit_test(test_burst_and_refill),
		cmocka_unit_test(test_random_arrivals),
		cmocka_unit_test(test_queue_limit_packets),
		cmocka_unit_test(test_queue_limit_bytes),
		cmocka_unit_test(test_control_during_backlog),
		cmocka_unit_test(test_control_errors),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_telemetry),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
