// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loss.c - Bernoulli loss: {"type": "loss", "loss": "1%", "seed": 1}.
 *
 * Each packet is lost independently with probability ppm / 1e6, drawn from
 * the cell's own seeded PRNG: the same seed loses the same packets. The
 * survivors pass at once, in order.
 */
#include <errno.h>

#include <json-c/json.h>

#include <sluice/cell.h>
#include <sluice/units.h>

struct loss_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	uint32_t ppm;
};

static inline struct loss_cell *to_loss(struct sl_cell *c)
{
	return (struct loss_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "loss", "fraction", NULL, "probability that a packet is lost, independently of the others" },
	{ NULL, NULL, NULL, NULL },
};

static int loss_init(struct sl_cell *c, struct json_object *cfg,
		     struct sl_err *err)
{
	struct loss_cell *lc = to_loss(c);
	int ret;

	sl_pktq_init(&lc->q);
	ret = sl_cfg_fraction(cfg, "loss", &lc->ppm, err);
	if (ret < 0)
		return ret;
	if (!ret)
		return sl_err_set(err, EINVAL, "loss: missing; expected %s",
				  sl_unit_expected(SL_UNIT_FRACTION));
	return 0;
}

static void loss_fini(struct sl_cell *c)
{
	struct sl_pkt *p;

	while ((p = sl_pktq_pop(&to_loss(c)->q)))
		sl_cell_drop(c, p, SL_DROP_FLUSH);
}

static void loss_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct loss_cell *lc = to_loss(c);

	if (sl_rng_ppm(&c->rng, lc->ppm)) {
		sl_cell_drop(c, p, SL_DROP_LOSS);
		return;
	}
	sl_pktq_push(&lc->q, p);
}

static struct sl_pkt *loss_dequeue(struct sl_cell *c, uint64_t now,
				   uint64_t *next)
{
	struct sl_pkt *p = sl_pktq_pop(&to_loss(c)->q);

	if (!p) {
		*next = SL_TIME_NEVER;
		return NULL;
	}
	p->ts_depart = p->ts_enqueue;
	return p;
}

static int loss_control(struct sl_cell *c, struct json_object *cfg,
			uint64_t now, struct sl_err *err)
{
	uint32_t ppm = to_loss(c)->ppm;
	int ret;

	ret = sl_cfg_fraction(cfg, "loss", &ppm, err);
	if (ret < 0)
		return ret;
	to_loss(c)->ppm = ppm;
	return 0;
}

static void loss_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	json_object_object_add(obj, "loss_ppm",
			       json_object_new_uint64(((const struct loss_cell *)c)->ppm));
}

const struct sl_cell_ops sl_cell_loss_ops = {
	.type = "loss",
	.summary = "Bernoulli loss: each packet lost with one probability",
	.params = params,
	.size = sizeof(struct loss_cell),
	.init = loss_init,
	.fini = loss_fini,
	.enqueue = loss_enqueue,
	.dequeue = loss_dequeue,
	.control = loss_control,
	.telemetry = loss_telemetry,
};
