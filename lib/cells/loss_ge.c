// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loss_ge.c - Gilbert-Elliott loss, with netem's parameters:
 * {"type": "loss_ge", "p": "1%", "r": "25%", "1-h": "100%", "1-k": "0%"}.
 *
 * Two states, Good and Bad. A packet is lost with probability 1-k in Good
 * and 1-h in Bad; then the state moves Good -> Bad with probability p and
 * Bad -> Good with probability r (netem's order: the loss uses the state
 * the packet found). In the long run the chain is in Bad a fraction
 * p / (p + r) of the packets, so the loss rate is
 *   (r (1-k) + p (1-h)) / (p + r),
 * and with 1-h = 1, 1-k = 0 (the simple Gilbert model, tc's defaults) the
 * bursts are the stays in Bad: mean length 1 / r. docs/cells.md gives the
 * mean burst for any h and k. The chain starts in Good. Correlations and
 * draws come from the cell's seeded PRNG.
 */
#include <errno.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

struct ge_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	double p, r, h1, k1; /* p, r, 1-h, 1-k */
	bool bad;
	uint64_t to_bad; /* transitions Good -> Bad, for telemetry */
};

static inline struct ge_cell *to_ge(struct sl_cell *c)
{
	return (struct ge_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "p", "fraction", NULL, "probability of moving from Good to Bad after a packet" },
	{ "r", "fraction", "100%", "probability of moving from Bad to Good after a packet" },
	{ "1-h", "fraction", "100%", "loss probability in Bad" },
	{ "1-k", "fraction", "0%", "loss probability in Good" },
	{ NULL, NULL, NULL, NULL },
};

static int ge_read(struct json_object *cfg, struct ge_cell *g,
		   struct sl_err *err)
{
	int ret;

	if ((ret = sl_cfg_prob(cfg, "p", &g->p, err)) < 0 ||
	    (ret = sl_cfg_prob(cfg, "r", &g->r, err)) < 0 ||
	    (ret = sl_cfg_prob(cfg, "1-h", &g->h1, err)) < 0 ||
	    (ret = sl_cfg_prob(cfg, "1-k", &g->k1, err)) < 0)
		return ret;
	return 0;
}

static int ge_init(struct sl_cell *c, struct json_object *cfg,
		   struct sl_err *err)
{
	struct ge_cell *g = to_ge(c);
	int ret;

	sl_pktq_init(&g->q);
	g->p = -1;
	g->r = 1;
	g->h1 = 1;
	g->k1 = 0;
	ret = ge_read(cfg, g, err);
	if (ret)
		return ret;
	if (g->p < 0)
		return sl_err_set(err, EINVAL,
				  "p: missing; expected the probability of entering the Bad state, such as 1%%");
	return 0;
}

static void ge_fini(struct sl_cell *c)
{
	sl_pass_flush(c, &to_ge(c)->q);
}

static inline bool draw(struct sl_rng *rng, double prob)
{
	return prob >= 1 || (prob > 0 && sl_rng_uniform(rng) < prob);
}

static void ge_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct ge_cell *g = to_ge(c);
	bool lost = draw(&c->rng, g->bad ? g->h1 : g->k1);

	if (g->bad) {
		if (draw(&c->rng, g->r))
			g->bad = false;
	} else if (draw(&c->rng, g->p)) {
		g->bad = true;
		g->to_bad++;
	}
	if (lost)
		sl_cell_drop(c, p, SL_DROP_LOSS);
	else
		sl_pktq_push(&g->q, p);
}

static struct sl_pkt *ge_dequeue(struct sl_cell *c, uint64_t now,
				 uint64_t *next)
{
	return sl_pass_dequeue(&to_ge(c)->q, next);
}

static int ge_control(struct sl_cell *c, struct json_object *cfg,
		      uint64_t now, struct sl_err *err)
{
	struct ge_cell *g = to_ge(c), tmp = *g;
	int ret = ge_read(cfg, &tmp, err);

	if (ret)
		return ret;
	g->p = tmp.p;
	g->r = tmp.r;
	g->h1 = tmp.h1;
	g->k1 = tmp.k1;
	return 0;
}

static void ge_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct ge_cell *g = (const struct ge_cell *)c;

	json_object_object_add(obj, "p", json_object_new_double(g->p));
	json_object_object_add(obj, "r", json_object_new_double(g->r));
	json_object_object_add(obj, "1-h", json_object_new_double(g->h1));
	json_object_object_add(obj, "1-k", json_object_new_double(g->k1));
	json_object_object_add(obj, "state",
			       json_object_new_string(g->bad ? "bad" : "good"));
	json_object_object_add(obj, "bad_periods", json_object_new_uint64(g->to_bad));
}

const struct sl_cell_ops sl_cell_loss_ge_ops = {
	.type = "loss_ge",
	.summary = "Gilbert-Elliott loss (netem gemodel: p, r, 1-h, 1-k)",
	.params = params,
	.size = sizeof(struct ge_cell),
	.init = ge_init,
	.fini = ge_fini,
	.enqueue = ge_enqueue,
	.dequeue = ge_dequeue,
	.control = ge_control,
	.telemetry = ge_telemetry,
};
