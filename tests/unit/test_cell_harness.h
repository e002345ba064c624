/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_cell_harness.h - what the cell and channel tests share: a pool of
 * packet descriptors, a drop callback that records what came back, and
 * helpers to build a cell from JSON text and collect what it releases.
 * Included by one test file at a time (static functions only).
 */
#ifndef TEST_CELL_HARNESS_H
#define TEST_CELL_HARNESS_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <sluice/cell.h>

#define MS SL_NSEC_PER_MSEC
#define US SL_NSEC_PER_USEC

struct harness {
	unsigned n;	     /* descriptors in the pool */
	unsigned used;	     /* handed out so far */
	struct sl_pkt *pkts; /* pkts[i].user == i */
	unsigned n_dropped;
	uint64_t *dropped; /* user of each dropped packet, in order */
	enum sl_drop_reason *why;
	unsigned by_reason[SL_DROP__MAX];
	struct sl_cell_env env;
};

static __attribute__((unused)) void h_drop(struct sl_pkt *p, enum sl_drop_reason why, void *ctx)
{
	struct harness *h = ctx;

	assert_null(p->next);
	assert_true(h->n_dropped < h->n);
	h->dropped[h->n_dropped] = p->user;
	h->why[h->n_dropped] = why;
	h->n_dropped++;
	h->by_reason[why]++;
}

static __attribute__((unused)) struct harness *h_new(unsigned n)
{
	struct harness *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->n = n;
	h->pkts = calloc(n, sizeof(*h->pkts));
	h->dropped = calloc(n, sizeof(*h->dropped));
	h->why = calloc(n, sizeof(*h->why));
	assert_non_null(h->pkts);
	assert_non_null(h->dropped);
	assert_non_null(h->why);
	h->env.drop = h_drop;
	h->env.ctx = h;
	return h;
}

static __attribute__((unused)) void h_free(struct harness *h)
{
	free(h->pkts);
	free(h->dropped);
	free(h->why);
	free(h);
}

static __attribute__((unused)) struct sl_pkt *h_pkt(struct harness *h, uint32_t len)
{
	struct sl_pkt *p;

	assert_true(h->used < h->n);
	p = &h->pkts[h->used];
	memset(p, 0, sizeof(*p));
	p->len = len;
	p->user = h->used++;
	return p;
}

static __attribute__((unused)) struct json_object *h_json(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

/* A cell from JSON text that must be valid, dropping into h. */
static __attribute__((unused)) struct sl_cell *h_cell(struct harness *h, const char *text,
			      uint64_t seed)
{
	struct json_object *cfg = h_json(text);
	struct sl_err err = { "" };
	struct sl_cell *c = NULL;
	int ret = sl_cell_new(cfg, seed, &c, &err);

	if (ret)
		print_error("%s: %s\n", text, err.msg);
	assert_int_equal(ret, 0);
	json_object_put(cfg);
	if (h)
		sl_cell_set_env(c, &h->env);
	return c;
}

/* The message of a cell configuration that must fail with EINVAL. */
static __attribute__((unused)) const char *h_cell_err(const char *text)
{
	static struct sl_err err;
	struct json_object *cfg = h_json(text);
	struct sl_cell *c = NULL;

	err.msg[0] = '\0';
	assert_int_equal(sl_cell_new(cfg, 1, &c, &err), -EINVAL);
	assert_null(c);
	json_object_put(cfg);
	return err.msg;
}

static __attribute__((unused)) int h_control(struct sl_cell *c, const char *text, uint64_t now,
		     struct sl_err *err)
{
	struct json_object *cfg = h_json(text);
	int ret = sl_cell_control(c, cfg, now, err);

	json_object_put(cfg);
	return ret;
}

/* Everything c releases at now, in order; returns how many. */
static __attribute__((unused)) unsigned h_collect(struct sl_cell *c, uint64_t now,
			  struct sl_pkt **out, unsigned max)
{
	struct sl_pkt *p;
	uint64_t next;
	unsigned n = 0;

	while ((p = sl_cell_dequeue(c, now, &next))) {
		assert_true(n < max);
		assert_true(p->ts_depart <= now);
		assert_true(p->ts_depart >= p->ts_enqueue);
		out[n++] = p;
	}
	assert_true(next > now);
	return n;
}

/*
 * A saturated link for AQM and scheduler tests: packets from a recycling
 * pool arrive every gap ns (class set by a callback) until t_end; the cell
 * is brought up to date at each arrival and everything it releases is
 * collected. Sojourns (release - arrival at the cell) of packets released
 * at or after t_measure are kept, and bytes out per class.
 */
struct h_link {
	struct sl_pkt *pool, *free;
	unsigned long in, out, drops[SL_DROP__MAX];
	uint64_t *soj;
	unsigned long n_soj, cap_soj;
	uint64_t bytes_class[8];
	uint64_t pkts_class[8];
	struct sl_cell_env env;
	uint32_t (*len_of)(uint32_t class); /* NULL: every packet len bytes */
};

static __attribute__((unused)) void hl_drop(struct sl_pkt *p, enum sl_drop_reason why, void *ctx)
{
	struct h_link *l = ctx;

	l->drops[why]++;
	p->next = l->free;
	l->free = p;
}

static __attribute__((unused)) void hl_init(struct h_link *l, unsigned pool)
{
	unsigned i;

	memset(l, 0, sizeof(*l));
	l->pool = calloc(pool, sizeof(*l->pool));
	assert_non_null(l->pool);
	for (i = 0; i < pool; i++) {
		l->pool[i].next = l->free;
		l->free = &l->pool[i];
	}
	l->env.drop = hl_drop;
	l->env.ctx = l;
}

static __attribute__((unused)) void hl_fini(struct h_link *l)
{
	free(l->pool);
	free(l->soj);
}

static __attribute__((unused)) void hl_collect(struct h_link *l, struct sl_cell *c, uint64_t now,
		       uint64_t t_measure)
{
	struct sl_pkt *p;
	uint64_t next;

	while ((p = sl_cell_dequeue(c, now, &next))) {
		assert_true(p->ts_depart <= now);
		l->out++;
		if (p->ts_depart >= t_measure) {
			if (l->n_soj == l->cap_soj) {
				l->cap_soj = l->cap_soj ? 2 * l->cap_soj : 4096;
				l->soj = realloc(l->soj, l->cap_soj * sizeof(*l->soj));
				assert_non_null(l->soj);
			}
			l->soj[l->n_soj++] = p->ts_depart - p->ts_arrival;
			l->bytes_class[p->class & 7] += p->len;
			l->pkts_class[p->class & 7]++;
		}
		p->next = l->free;
		l->free = p;
	}
}

/* Arrivals every gap ns from t0 to t_end, len bytes, class from
 * class_of(i) (NULL: 0); returns the time it stopped. */
static __attribute__((unused)) uint64_t hl_run(struct h_link *l, struct sl_cell *c, uint64_t t0,
		       uint64_t gap, uint32_t len, uint64_t t_end,
		       uint64_t t_measure, uint32_t (*class_of)(unsigned long i))
{
	uint64_t t;
	struct sl_pkt *p;

	sl_cell_set_env(c, &l->env);
	for (t = t0; t < t_end; t += gap) {
		hl_collect(l, c, t, t_measure);
		p = l->free;
		assert_non_null(p);
		l->free = p->next;
		memset(p, 0, sizeof(*p));
		p->len = len;
		p->ts_arrival = t;
		p->class = class_of ? class_of(l->in) : 0;
		if (l->len_of)
			p->len = l->len_of(p->class);
		l->in++;
		sl_cell_enqueue(c, p, t);
	}
	hl_collect(l, c, t, t_measure);
	return t;
}

static int h_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static __attribute__((unused)) uint64_t hl_median(struct h_link *l)
{
	assert_true(l->n_soj > 0);
	qsort(l->soj, l->n_soj, sizeof(*l->soj), h_cmp_u64);
	return l->soj[l->n_soj / 2];
}

/*
 * Responsive senders for the AQM tests: n Reno-like flows (slow start,
 * then +1 packet per window, halving once per RTT on a loss or an ECN
 * mark) whose applications offer `offered` bit/s in total, over a base
 * RTT; ACKs come back rtt after a packet leaves the cell, loss signals
 * rtt after the drop. Time moves in steps of `tick`. Sojourns and
 * bytes are kept in l as hl_run does.
 */
#define H_TCP_MAX 16
#define H_RING (1u << 16)

struct h_tcp {
	struct h_link *l;
	unsigned n;
	double cwnd[H_TCP_MAX], ssthresh[H_TCP_MAX];
	unsigned inflight[H_TCP_MAX];
	uint64_t next_send[H_TCP_MAX], last_cut[H_TCP_MAX];
	uint64_t rtt, now;
	/* ACKs (and marks) and losses, each in time order */
	uint64_t ack_t[H_RING], loss_t[H_RING];
	uint8_t ack_f[H_RING], ack_ce[H_RING], loss_f[H_RING];
	unsigned ack_h, ack_n, loss_h, loss_n;
	unsigned long losses, marks;
};

static __attribute__((unused)) void ht_drop(struct sl_pkt *p, enum sl_drop_reason why, void *ctx)
{
	struct h_tcp *t = ctx;
	unsigned i = (t->loss_h + t->loss_n++) % H_RING;

	assert_true(t->loss_n < H_RING);
	t->loss_t[i] = t->now + t->rtt;
	t->loss_f[i] = (uint8_t)p->class;
	hl_drop(p, why, t->l);
}

static __attribute__((unused)) void ht_cut(struct h_tcp *t, unsigned f)
{
	if (t->now - t->last_cut[f] < t->rtt)
		return; /* once per window */
	t->last_cut[f] = t->now;
	t->ssthresh[f] = t->cwnd[f] / 2 > 2 ? t->cwnd[f] / 2 : 2;
	t->cwnd[f] = t->ssthresh[f];
}

static __attribute__((unused)) void ht_run(struct h_tcp *t, struct h_link *l, struct sl_cell *c,
		   unsigned n, uint64_t offered, uint64_t rtt, uint64_t tick,
		   uint64_t t_end, uint64_t t_measure)
{
	uint64_t gap = (uint64_t)1500 * 8 * SL_NSEC_PER_SEC * n / offered, next;
	struct sl_cell_env env = { .drop = ht_drop, .ctx = t };
	struct sl_pkt *p;
	unsigned f, i;

	memset(t, 0, sizeof(*t));
	t->l = l;
	t->n = n;
	t->rtt = rtt;
	for (f = 0; f < n; f++) {
		t->cwnd[f] = 2;
		t->ssthresh[f] = 1e9;
		t->next_send[f] = f * gap / n;
	}
	sl_cell_set_env(c, &env);
	for (t->now = 0; t->now < t_end; t->now += tick) {
		/* departures: ACKs a base RTT later */
		while ((p = sl_cell_dequeue(c, t->now, &next))) {
			i = (t->ack_h + t->ack_n++) % H_RING;
			assert_true(t->ack_n < H_RING);
			t->ack_t[i] = p->ts_depart + rtt;
			t->ack_f[i] = (uint8_t)p->class;
			t->ack_ce[i] = !!(p->flags & SL_PKT_ECN_CE);
			l->out++;
			if (p->ts_depart >= t_measure) {
				if (l->n_soj == l->cap_soj) {
					l->cap_soj = l->cap_soj ? 2 * l->cap_soj : 4096;
					l->soj = realloc(l->soj, l->cap_soj * sizeof(*l->soj));
					assert_non_null(l->soj);
				}
				l->soj[l->n_soj++] = p->ts_depart - p->ts_arrival;
				l->bytes_class[p->class & 7] += p->len;
				l->pkts_class[p->class & 7]++;
			}
			p->next = l->free;
			l->free = p;
		}
		while (t->ack_n && t->ack_t[t->ack_h] <= t->now) {
			f = t->ack_f[t->ack_h];
			t->inflight[f]--;
			if (t->ack_ce[t->ack_h]) {
				t->marks++;
				ht_cut(t, f);
			} else if (t->cwnd[f] < t->ssthresh[f]) {
				t->cwnd[f] += 1;
			} else {
				t->cwnd[f] += 1 / t->cwnd[f];
			}
			t->ack_h = (t->ack_h + 1) % H_RING;
			t->ack_n--;
		}
		while (t->loss_n && t->loss_t[t->loss_h] <= t->now) {
			f = t->loss_f[t->loss_h];
			t->inflight[f]--;
			t->losses++;
			ht_cut(t, f);
			t->loss_h = (t->loss_h + 1) % H_RING;
			t->loss_n--;
		}
		for (f = 0; f < n; f++) {
			while (t->inflight[f] < (unsigned)t->cwnd[f] &&
			       t->next_send[f] <= t->now) {
				p = l->free;
				assert_non_null(p);
				l->free = p->next;
				memset(p, 0, sizeof(*p));
				p->len = 1500;
				p->class = f;
				p->ts_arrival = t->now;
				t->inflight[f]++;
				l->in++;
				sl_cell_enqueue(c, p, t->now);
				t->next_send[f] += gap;
			}
			if (t->next_send[f] < t->now) /* window-limited: no credit */
				t->next_send[f] = t->now;
		}
	}
}

#endif
