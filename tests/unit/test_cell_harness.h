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

#endif
