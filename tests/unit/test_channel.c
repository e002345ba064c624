// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_channel.c - channels (lib/channel.c): the shorthand chain and its
 * order, explicit lists and DAGs with their errors, exact end-to-end
 * times however late the poll, several channels driven by one timing
 * wheel, control() during a backlog, accounting of every packet (out,
 * dropped or flushed), telemetry.
 */
#include <unistd.h>

#include "test_cell_harness.h"

static struct sl_channel *chan(struct harness *h, const char *policy,
			       uint64_t seed)
{
	struct sl_err err = { "" };
	struct sl_channel *ch = NULL;
	int ret = sl_channel_from_policy(policy, seed, &ch, &err);

	if (ret)
		print_error("%s: %s\n", policy, err.msg);
	assert_int_equal(ret, 0);
	if (h)
		sl_channel_set_env(ch, &h->env);
	return ch;
}

static const char *chan_err(const char *policy)
{
	static struct sl_err err;
	struct sl_channel *ch = NULL;

	err.msg[0] = '\0';
	assert_true(sl_channel_from_policy(policy, 1, &ch, &err) < 0);
	assert_null(ch);
	return err.msg;
}

static void assert_names(struct sl_channel *ch, const char *const *names,
			 unsigned n)
{
	unsigned i;

	assert_int_equal(sl_channel_cell_count(ch), n);
	for (i = 0; i < n; i++)
		assert_string_equal(sl_channel_cell(ch, i)->name, names[i]);
	assert_null(sl_channel_cell(ch, n));
}

/* Everything the channel releases up to `until`, stepping from event to
 * event; returns the count. */
static unsigned drain(struct sl_channel *ch, uint64_t from, uint64_t until,
		      struct sl_pkt **out, unsigned max)
{
	uint64_t now = from;
	unsigned n = 0, k;

	for (;;) {
		k = sl_channel_dequeue(ch, now, out + n, max - n);
		for (; k; k--, n++)
			assert_true(out[n]->ts_depart <= now);
		if (sl_channel_next_event(ch) > until)
			return n;
		assert_true(sl_channel_next_event(ch) >= now ||
			    n == max);
		if (sl_channel_next_event(ch) > now)
			now = sl_channel_next_event(ch);
	}
}

static void test_shorthand(void **state)
{
	static const char *const all[] = { "loss", "rate", "delay" };
	static const char *const two[] = { "rate", "delay" };
	struct sl_channel *ch;
	struct json_object *t;

	/* key order in the policy does not matter */
	ch = chan(NULL, "{\"delay\": \"10ms\", \"queue\": \"100pkt\", \"rate\": \"100mbit\", \"loss\": \"1%\"}", 1);
	assert_names(ch, all, 3);
	t = sl_cell_telemetry(sl_channel_cell(ch, 1));
	assert_int_equal(json_object_get_uint64(json_object_object_get(t, "rate_bps")), 100000000);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_object_get(t, "queue"), "limit")),
			    "100pkt");
	json_object_put(t);
	sl_channel_free(ch);
	ch = chan(NULL, "{\"rate\": \"1gbit\", \"delay\": \"1ms\"}", 1);
	assert_names(ch, two, 2);
	sl_channel_free(ch);
}

static const char *cell_str(struct sl_channel *ch, unsigned i, const char *k)
{
	static char buf[256];
	struct json_object *t = sl_cell_telemetry(sl_channel_cell(ch, i));

	snprintf(buf, sizeof(buf), "%s", json_object_get_string(json_object_object_get(t, k)));
	json_object_put(t);
	return buf;
}

/* Every shorthand key, in its slot of the chain. */
static void test_shorthand_all(void **state)
{
	static const char *const all[] = { "loss_ge", "duplicate", "corrupt", "policer",
					   "rate", "reorder", "capture" };
	static const char *const tr[] = { "loss", "loss_trace", "trace", "delay", "delay_trace" };
	struct sl_channel *ch;
	char policy[1024];
	FILE *f;

	ch = chan(NULL, "{\"loss\": {\"type\": \"loss_ge\", \"p\": \"1%\"}, \"duplicate\": \"1%\","
		  " \"corrupt\": \"0.1%\", \"policer\": \"20mbit\", \"burst\": \"30kb\", \"rate\": \"10mbit\","
		  " \"queue\": {\"type\": \"codel\"}, \"delay\": \"10ms\", \"reorder\": \"5%\", \"gap\": 3,"
		  " \"capture\": \"/dev/null\"}", 1);
	assert_names(ch, all, 7);
	assert_string_equal(cell_str(ch, 3, "burst_bytes"), "30720"); /* the policer's */
	assert_string_equal(cell_str(ch, 4, "burst_bytes"), "1514");
	assert_string_equal(cell_str(ch, 5, "gap"), "3");
	sl_channel_free(ch);

	f = fopen("/tmp/sluice-test-channel.trace", "w");
	fputs("1\n2\n", f);
	fclose(f);
	f = fopen("/tmp/sluice-test-channel.dtrace", "w");
	fputs("100 5\n", f);
	fclose(f);
	f = fopen("/tmp/sluice-test-channel.ltrace", "w");
	fputs("0001\n", f);
	fclose(f);
	snprintf(policy, sizeof(policy),
		 "{\"loss\": \"1%%\", \"loss_trace\": \"/tmp/sluice-test-channel.ltrace\","
		 " \"trace\": \"/tmp/sluice-test-channel.trace\", \"trace_once\": true, \"queue\": \"50pkt\","
		 " \"delay\": \"1ms\", \"jitter\": \"1ms\", \"distribution\": \"normal\","
		 " \"delay_trace\": \"/tmp/sluice-test-channel.dtrace\"}");
	ch = chan(NULL, policy, 1);
	assert_names(ch, tr, 5);
	assert_string_equal(cell_str(ch, 2, "once"), "true");
	assert_string_equal(cell_str(ch, 3, "distribution"), "normal");
	sl_channel_free(ch);
	unlink("/tmp/sluice-test-channel.trace");
	unlink("/tmp/sluice-test-channel.dtrace");
	unlink("/tmp/sluice-test-channel.ltrace");
}

static void test_plain_wire(void **state)
{
	static const char *const policies[] = { "{}", "null", NULL };
	struct harness *h = h_new(8);
	struct sl_pkt *out[4];
	unsigned i;

	for (i = 0; i < 3; i++) {
		struct sl_channel *ch = chan(h, policies[i], 1);

		assert_int_equal(sl_channel_cell_count(ch), 0);
		assert_int_equal(sl_channel_next_event(ch), SL_TIME_NEVER);
		sl_channel_enqueue(ch, h_pkt(h, 100), 5000);
		assert_int_equal(sl_channel_next_event(ch), 5000);
		assert_int_equal(sl_channel_dequeue(ch, 5000, out, 4), 1);
		assert_int_equal(out[0]->ts_depart, 5000);
		assert_int_equal(out[0]->ts_arrival, 5000);
		assert_int_equal(sl_channel_next_event(ch), SL_TIME_NEVER);
		sl_channel_free(ch);
	}
	h_free(h);
}

/* 12 Mbit/s (1 ms per 1500 bytes) then 10 ms: the k-th of a train leaves
 * at 10 + k ms, whether polled at every event or once, late. */
static void test_end_to_end_exact(void **state)
{
	const char *policy = "{\"rate\": \"12mbit\", \"burst\": \"1500b\", \"delay\": \"10ms\"}";
	struct harness *h = h_new(64);
	struct sl_channel *a = chan(h, policy, 1), *b = chan(h, policy, 1);
	struct sl_pkt *out[64];
	unsigned i, n;

	for (i = 0; i < 20; i++)
		sl_channel_enqueue(a, h_pkt(h, 1500), 0);
	assert_int_equal(sl_channel_next_event(a), 0);
	assert_int_equal(sl_channel_dequeue(a, 0, out, 64), 0);
	/* the next event may be inside: packet 1 moving on to the delay */
	assert_int_equal(sl_channel_next_event(a), 1 * MS);
	assert_int_equal(sl_channel_dequeue(a, 1 * MS, out, 64), 0);
	assert_int_equal(sl_channel_next_event(a), 2 * MS);
	n = drain(a, 0, SL_TIME_NEVER - 1, out, 64);
	assert_int_equal(n, 20);
	for (i = 0; i < 20; i++) {
		assert_int_equal(out[i]->user, i);
		assert_int_equal(out[i]->ts_depart, 10 * MS + i * MS);
		assert_int_equal(out[i]->ts_arrival, 0);
	}
	/* b: arrivals spread out, one poll at 1 s for everything */
	for (i = 0; i < 20; i++)
		sl_channel_enqueue(b, h_pkt(h, 1500), i * 500 * US);
	assert_int_equal(sl_channel_dequeue(b, SL_NSEC_PER_SEC, out, 64), 20);
	for (i = 0; i < 20; i++) /* the link stays busy from the first */
		assert_int_equal(out[i]->ts_depart, 10 * MS + i * MS);
	/* max bounds the batch; the rest stays ready */
	for (i = 0; i < 5; i++)
		sl_channel_enqueue(b, h_pkt(h, 1500), 2 * SL_NSEC_PER_SEC);
	assert_int_equal(sl_channel_dequeue(b, 3 * SL_NSEC_PER_SEC, out, 2), 2);
	assert_int_equal(sl_channel_next_event(b), 2 * SL_NSEC_PER_SEC + 12 * MS);
	assert_int_equal(sl_channel_dequeue(b, 3 * SL_NSEC_PER_SEC, out, 64), 3);
	assert_int_equal(sl_channel_next_event(b), SL_TIME_NEVER);
	sl_channel_free(a);
	sl_channel_free(b);
	h_free(h);
}

/* In a chain, loss comes before the shaper: lost packets cost no tokens. */
static void test_loss_before_rate(void **state)
{
	struct harness *h = h_new(2000);
	struct sl_channel *ch = chan(h, "{\"loss\": \"50%\", \"rate\": \"12mbit\", \"burst\": \"1500b\", \"queue\": \"unlimited\"}", 7);
	struct sl_pkt *out[2000];
	unsigned i, n;

	for (i = 0; i < 2000; i++)
		sl_channel_enqueue(ch, h_pkt(h, 1500), 0);
	n = drain(ch, 0, SL_TIME_NEVER - 1, out, 2000);
	assert_int_equal(n + h->n_dropped, 2000);
	assert_int_equal(h->by_reason[SL_DROP_LOSS], h->n_dropped);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i]->ts_depart, i * MS);
	sl_channel_free(ch);
	h_free(h);
}

static void test_explicit_and_dag(void **state)
{
	static const char *const chain[] = { "delay", "delay-2", "d3", "queue" };
	static const char *const dag[] = { "in", "c", "b", "join" };
	struct harness *h = h_new(16);
	struct sl_channel *ch;
	struct sl_pkt *out[16];
	unsigned i;

	ch = chan(h, "{\"cells\": [{\"type\": \"delay\", \"delay\": \"1ms\"},"
		     " {\"type\": \"delay\", \"delay\": \"2ms\"},"
		     " {\"type\": \"delay\", \"name\": \"d3\", \"delay\": \"3ms\"},"
		     " {\"type\": \"queue\"}]}", 1);
	assert_names(ch, chain, 4);
	sl_channel_enqueue(ch, h_pkt(h, 100), 0);
	assert_int_equal(drain(ch, 0, SL_TIME_NEVER - 1, out, 16), 1);
	assert_int_equal(out[0]->ts_depart, 6 * MS);
	sl_channel_free(ch);

	/* in -> {b, c} -> join -> out; listed out of order; without a cell
	 * choosing a port, packets take the first "next" */
	ch = chan(h, "{\"cells\": ["
		     "{\"name\": \"in\", \"type\": \"loss\", \"loss\": \"0%\", \"next\": [\"b\", \"c\"]},"
		     "{\"name\": \"join\", \"type\": \"delay\", \"delay\": \"1ms\", \"next\": \"out\"},"
		     "{\"name\": \"b\", \"type\": \"delay\", \"delay\": \"5ms\", \"next\": \"join\"},"
		     "{\"name\": \"c\", \"type\": \"delay\", \"delay\": \"7ms\", \"next\": [\"join\"]}]}", 1);
	assert_names(ch, dag, 4);
	for (i = 0; i < 3; i++)
		sl_channel_enqueue(ch, h_pkt(h, 100), i * MS);
	assert_int_equal(drain(ch, 0, SL_TIME_NEVER - 1, out, 16), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(out[i]->ts_depart, i * MS + 6 * MS);
	sl_channel_free(ch);
	h_free(h);
}

static void test_errors(void **state)
{
	char want[1024];

	assert_string_equal(chan_err("{\"rate\": \"fast\"}"),
		"rate: \"fast\" is not a rate; expected a number with a unit such as 10mbit, 1gbit");
	assert_string_equal(chan_err("{\"rate\": \"1mbit\", \"queue\": \"0\"}"),
		"queue: \"0\" is not a queue size; expected a size such as 100pkt, 1500b or 64kb (k = 1024) or \"unlimited\"");
	assert_string_equal(chan_err("{\"delay\": \"1ms\", \"rat\": \"1mbit\"}"),
		"unknown key \"rat\"; expected one of loss, loss_trace, duplicate, corrupt, policer, rate, burst, queue, trace, trace_once, delay, jitter, distribution, reorder, gap, delay_trace, capture, seed or cells");
	assert_string_equal(chan_err("{\"queue\": \"100pkt\"}"),
		"queue: needs \"rate\" or \"trace\" as well; a queue only fills behind a rate limit");
	assert_string_equal(chan_err("{\"burst\": \"10kb\"}"),
		"burst: needs \"rate\" or \"policer\" as well");
	assert_string_equal(chan_err("{\"jitter\": \"1ms\"}"),
		"jitter: needs \"delay\" as well");
	assert_string_equal(chan_err("{\"delay\": \"1ms\", \"gap\": 5}"),
		"gap: needs \"reorder\" as well");
	assert_string_equal(chan_err("{\"rate\": \"1mbit\", \"trace\": \"/x\"}"),
		"trace: cannot be combined with \"rate\"; the trace is the link's rate");
	assert_string_equal(chan_err("{\"delay\": \"1ms\", \"reorder\": \"5%\", \"jitter\": \"1ms\"}"),
		"unknown key \"jitter\"; expected one of delay, reorder, gap, limit");
	assert_string_equal(chan_err("{\"loss\": {\"type\": \"loss_ge\"}}"),
		"p: missing; expected the probability of entering the Bad state, such as 1%");
	assert_string_equal(chan_err("{\"delay\": \"1ms\", \"jitter\": \"soon\"}"),
		"jitter: \"soon\" is not a time; expected a number with a unit such as 10ms, 250us, 1s");
	assert_string_equal(chan_err("{\"rate\": \"1mbit\""),
		"not valid JSON: unexpected end of data");
	assert_string_equal(chan_err("[1]"),
		"expected a policy object such as {\"rate\": \"10mbit\", \"delay\": \"10ms\"} or {\"cells\": [...]}");
	assert_string_equal(chan_err("{\"seed\": \"x\"}"),
		"seed: \"x\" is not a non-negative integer");
	assert_string_equal(chan_err("{\"cells\": [], \"rate\": \"1mbit\"}"),
		"rate: cannot be combined with \"cells\"; put it in a cell");
	assert_string_equal(chan_err("{\"cells\": {}}"),
		"cells: expected a list of cells such as [{\"type\": \"delay\", \"delay\": \"10ms\"}]");
	snprintf(want, sizeof(want), "cells[1]: type: \"wormhole\" is not a cell type; expected one of %s",
		 sl_cell_type_list());
	assert_string_equal(chan_err("{\"cells\": [{\"type\": \"delay\", \"delay\": \"1ms\"}, {\"type\": \"wormhole\"}]}"),
		want);
	snprintf(want, sizeof(want), "cells[0]: type: missing; expected one of %s",
		 sl_cell_type_list());
	assert_string_equal(chan_err("{\"cells\": [{\"delay\": \"1ms\"}]}"), want);
	assert_string_equal(chan_err("{\"cells\": [1]}"),
		"cells[0]: expected a cell object such as {\"type\": \"delay\", \"delay\": \"10ms\"}, got a number");
	assert_string_equal(chan_err("{\"cells\": [{\"type\": \"queue\", \"name\": \"a\", \"next\": \"b\"}, {\"type\": \"queue\", \"name\": \"b\", \"next\": \"a\"}]}"),
		"cells[1].next: \"a\" makes a cycle");
	assert_string_equal(chan_err("{\"cells\": [{\"type\": \"queue\", \"name\": \"a\", \"next\": \"x\"}, {\"type\": \"queue\", \"name\": \"b\"}]}"),
		"cells[0].next: no cell named \"x\"; the cells are a, b");
	assert_string_equal(chan_err("{\"cells\": [{\"type\": \"queue\", \"next\": \"out\"}, {\"type\": \"loss\", \"loss\": \"1%\"}]}"),
		"cells[1] (\"loss\") cannot be reached from cells[0]; check the \"next\" of the cells before it");
	assert_string_equal(chan_err("{\"cells\": [{\"type\": \"queue\", \"name\": \"a\"}, {\"type\": \"queue\", \"name\": \"a\"}]}"),
		"cells[1].name: \"a\" is already the name of cells[0]");
	assert_string_equal(chan_err("{\"cells\": [{\"type\": \"queue\", \"name\": \"out\"}]}"),
		"cells[0].name: \"out\" is reserved for the channel's output");
	assert_string_equal(chan_err("{\"cells\": [{\"type\": \"queue\", \"next\": 3}]}"),
		"cells[0].next: expected a cell name, a list of names or \"out\"");
}

/* A default name steps around explicit ones, wherever they are. */
static void test_default_names(void **state)
{
	static const char *const names[] = { "queue-2", "queue", "queue-3" };
	struct sl_channel *ch = chan(NULL,
		"{\"cells\": [{\"type\": \"queue\"}, {\"type\": \"queue\", \"name\": \"queue\"}, {\"type\": \"queue\"}]}", 1);

	assert_names(ch, names, 3);
	sl_channel_free(ch);
}

/*
 * 10 Mbit/s then 5 ms, 50 packets at 0; at 12.5 ms the rate becomes
 * 50 Mbit/s: packets 0..10 on the old schedule, 11 at 12.64 ms, then one
 * every 0.24 ms, all 5 ms later at the output. Nothing is lost.
 */
static void test_control_backlog(void **state)
{
	struct harness *h = h_new(64);
	struct sl_channel *ch = chan(h, "{\"rate\": \"10mbit\", \"burst\": \"1500b\", \"delay\": \"5ms\"}", 1);
	struct json_object *cfg = h_json("{\"rate\": \"50mbit\"}");
	struct json_object *bad = h_json("{\"rate\": \"fast\"}");
	struct sl_err err = { "" };
	struct sl_pkt *out[64];
	unsigned i, n;

	for (i = 0; i < 50; i++)
		sl_channel_enqueue(ch, h_pkt(h, 1500), 0);
	n = drain(ch, 0, 12500 * US, out, 64); /* out by 12.5 ms: 0..6 */
	assert_int_equal(n, 7);
	assert_int_equal(sl_channel_control(ch, "rate", cfg, 12500 * US, &err), 0);
	assert_int_equal(sl_channel_control(ch, "rate", bad, 12500 * US, &err), -EINVAL);
	assert_string_equal(err.msg, "cell \"rate\": rate: \"fast\" is not a rate; expected a number with a unit such as 10mbit, 1gbit");
	assert_int_equal(sl_channel_control(ch, "shaper", cfg, 12500 * US, &err), -ENOENT);
	assert_string_equal(err.msg, "no cell named \"shaper\"; the cells are rate, delay");
	n += drain(ch, 12500 * US, SL_TIME_NEVER - 1, out + n, 64 - n);
	assert_int_equal(n, 50);
	for (i = 0; i < 50; i++) {
		uint64_t want = i <= 10 ? i * 1200 * US :
					  12640 * US + (i - 11) * 240 * US;

		assert_int_equal(out[i]->user, i);
		assert_int_equal(out[i]->ts_depart, want + 5 * MS);
	}
	assert_int_equal(h->n_dropped, 0);
	json_object_put(cfg);
	json_object_put(bad);
	sl_channel_free(ch);
	h_free(h);
}

/* A change reaches packets still upstream of the changed cell only for
 * the time after the change. */
static void test_control_pumps_first(void **state)
{
	struct harness *h = h_new(8);
	struct sl_channel *ch = chan(h, "{\"loss\": \"0%\", \"delay\": \"10ms\"}", 1);
	struct json_object *cfg = h_json("{\"delay\": \"1ms\"}");
	struct sl_err err = { "" };
	struct sl_pkt *out[8];

	sl_channel_enqueue(ch, h_pkt(h, 100), 0);       /* never polled */
	assert_int_equal(sl_channel_control(ch, "delay", cfg, 5 * MS, &err), 0);
	sl_channel_enqueue(ch, h_pkt(h, 100), 6 * MS);
	assert_int_equal(drain(ch, 6 * MS, SL_TIME_NEVER - 1, out, 8), 2);
	assert_int_equal(out[0]->ts_depart, 10 * MS);
	assert_int_equal(out[1]->ts_depart, 10 * MS); /* 7 ms, kept in order */
	json_object_put(cfg);
	sl_channel_free(ch);
	h_free(h);
}

/*
 * Several channels on one wheel, the clock moving only to the next
 * arrival or the wheel's next timer, as a dataplane thread would. Each
 * channel must release exactly what the same channel releases when
 * drained on its own, and the wheel must wake it within the microsecond
 * of each departure.
 */
static void test_wheel_driven(void **state)
{
	enum { N = 4000, NCH = 4 };
	static const char *const policies[NCH] = {
		"{\"rate\": \"10mbit\", \"delay\": \"3ms\", \"queue\": \"20pkt\"}",
		"{\"loss\": \"5%\", \"delay\": \"1ms\"}",
		"{\"rate\": \"1mbit\", \"burst\": \"3000b\"}",
		"{\"cells\": [{\"type\": \"policer\", \"rate\": \"2mbit\", \"burst\": \"5kb\"}, {\"type\": \"delay\", \"delay\": \"250us\"}]}",
	};
	struct harness *h = h_new(N), *hr = h_new(N);
	struct sl_channel *ch[NCH], *ref[NCH];
	static uint64_t arr[N], want[N], got[N], woke[N];
	static uint32_t len[N];
	static unsigned which[N];
	struct sl_pkt *out[64];
	struct sl_wheel *w = sl_wheel_new(0);
	struct sl_timer *t;
	struct sl_rng r;
	uint64_t now = 0, tt = 0, next;
	unsigned i, k, n, done = 0;

	sl_rng_seed(&r, 3);
	for (i = 0; i < N; i++) {
		tt += sl_rng_below(&r, 200 * US);
		arr[i] = tt;
		which[i] = (unsigned)sl_rng_below(&r, NCH);
		len[i] = 64 + (uint32_t)sl_rng_below(&r, 1451);
		want[i] = got[i] = SL_TIME_NEVER;
	}
	/* reference: each channel alone, one late poll */
	for (k = 0; k < NCH; k++) {
		ref[k] = chan(hr, policies[k], 100 + k);
		for (i = 0; i < N; i++)
			if (which[i] == k)
				sl_channel_enqueue(ref[k], h_pkt(hr, len[i]), arr[i]);
			else
				h_pkt(hr, 1); /* keep user == i */
		hr->used = 0;
		while ((n = sl_channel_dequeue(ref[k], SL_TIME_NEVER - 1, out, 64)))
			for (i = 0; i < n; i++)
				want[out[i]->user] = out[i]->ts_depart;
	}
	for (k = 0; k < NCH; k++) {
		ch[k] = chan(h, policies[k], 100 + k);
		sl_channel_attach(ch[k], w);
	}
	for (i = 0; i < N; i++)
		h_pkt(h, len[i]);
	i = 0;
	for (;;) {
		next = sl_wheel_next(w);
		if (i < N && arr[i] < next)
			next = arr[i];
		if (next == SL_TIME_NEVER)
			break;
		if (next > now)
			now = next;
		while (i < N && arr[i] <= now) {
			sl_channel_enqueue(ch[which[i]], &h->pkts[i], arr[i]);
			i++;
		}
		while ((t = sl_wheel_expire(w, now))) {
			struct sl_channel *c = t->data;

			while ((n = sl_channel_dequeue(c, now, out, 64)))
				for (k = 0; k < n; k++) {
					got[out[k]->user] = out[k]->ts_depart;
					woke[out[k]->user] = now;
					done++;
				}
		}
	}
	assert_int_equal(done + h->n_dropped, N);
	assert_int_equal(h->n_dropped, hr->n_dropped);
	for (i = 0; i < N; i++) {
		assert_int_equal(got[i], want[i]);
		if (got[i] != SL_TIME_NEVER) {
			assert_true(woke[i] >= got[i]);
			assert_true(woke[i] - got[i] < US);
		}
	}
	assert_int_equal(sl_wheel_count(w), 0);
	for (k = 0; k < NCH; k++) {
		sl_channel_free(ch[k]);
		sl_channel_free(ref[k]);
	}
	sl_wheel_free(w);
	h_free(h);
	h_free(hr);
}

/* Every packet comes back: out, dropped with a reason, or flushed. */
static void test_free_flushes(void **state)
{
	struct harness *h = h_new(300);
	struct sl_channel *ch = chan(h, "{\"loss\": \"10%\", \"rate\": \"1mbit\", \"queue\": \"50pkt\", \"delay\": \"100ms\"}", 5);
	struct sl_wheel *w = sl_wheel_new(0);
	struct sl_pkt *out[300];
	struct json_object *t;
	unsigned i, n;

	sl_channel_attach(ch, w);
	for (i = 0; i < 300; i++)
		sl_channel_enqueue(ch, h_pkt(h, 1000), i * 100 * US);
	n = sl_channel_dequeue(ch, 150 * MS, out, 300);
	assert_true(n > 0);
	assert_true(h->by_reason[SL_DROP_LOSS] > 0);
	assert_true(h->by_reason[SL_DROP_QUEUE] > 0);
	t = sl_channel_telemetry(ch);
	assert_int_equal(json_object_get_uint64(json_object_object_get(t, "pkts_in")), 300);
	assert_int_equal(json_object_get_uint64(json_object_object_get(t, "pkts_out")), n);
	assert_int_equal(json_object_array_length(json_object_object_get(t, "cells")), 3);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(json_object_object_get(t, "cells"), 2),
				    "name")),
			    "delay");
	json_object_put(t);
	assert_int_equal(sl_wheel_count(w), 1);
	sl_channel_free(ch);
	assert_int_equal(sl_wheel_count(w), 0);
	assert_int_equal(n + h->n_dropped, 300);
	assert_true(h->by_reason[SL_DROP_FLUSH] > 0);
	sl_wheel_free(w);
	h_free(h);
}

/* The channel seed gives each cell its stream; "seed" overrides. */
static void test_seeds(void **state)
{
	const char *p1 = "{\"loss\": \"20%\"}", *p2 = "{\"loss\": \"20%\", \"seed\": 11}";
	struct harness *h = h_new(1000);
	uint64_t pattern[4] = { 0 };
	struct sl_pkt *out[1];
	unsigned k, i;

	for (k = 0; k < 4; k++) {
		struct sl_channel *ch = chan(h, k < 2 ? p1 : p2, k == 1 ? 10 : 11);

		h->used = 0;
		for (i = 0; i < 1000; i++) {
			unsigned before = h->n_dropped;

			sl_channel_enqueue(ch, h_pkt(h, 100), i);
			if (h->n_dropped > before)
				pattern[k] = pattern[k] * 31 + i;
			sl_channel_dequeue(ch, i, out, 1);
		}
		sl_channel_free(ch);
	}
	assert_int_not_equal(pattern[0], pattern[1]); /* seeds 11 and 10 */
	assert_int_equal(pattern[0], pattern[2]);     /* 11 either way */
	assert_int_equal(pattern[2], pattern[3]);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shorthand),
		cmocka_unit_test(test_shorthand_all),
		cmocka_unit_test(test_plain_wire),
		cmocka_unit_test(test_end_to_end_exact),
		cmocka_unit_test(test_loss_before_rate),
		cmocka_unit_test(test_explicit_and_dag),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_default_names),
		cmocka_unit_test(test_control_backlog),
		cmocka_unit_test(test_control_pumps_first),
		cmocka_unit_test(test_wheel_driven),
		cmocka_unit_test(test_free_flushes),
		cmocka_unit_test(test_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
