// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loss_4state.c - the 4-state Markov loss model of netem's "loss state"
 * (Salsano et al., "Definition of a general and intuitive loss model for
 * packet networks"): {"type": "loss_4state", "p13": "1%", "p31": "30%",
 * "p32": "10%", "p23": "20%", "p14": "0.5%"}.
 *
 * States: 1 good reception in a gap, 2 good reception within a burst,
 * 3 loss within a burst, 4 isolated loss in a gap. Each packet first moves
 * the chain, then is lost iff the new state is 3 or 4:
 *   1 -> 3 p13, 1 -> 4 p14, 1 -> 1 otherwise
 *   2 -> 3 p23, 2 -> 2 otherwise
 *   3 -> 1 p31, 3 -> 2 p32, 3 -> 3 otherwise
 *   4 -> 1 always
 * The transition probabilities are exactly the ones given, as the model
 * and tc-netem(8) define them. Defaults as tc: p31 = 1 - p13, p32 = 0,
 * p23 = 1, p14 = 0 (only p13: a Bernoulli-like gap with bursts of one).
 * The chain starts in state 1.
 */
#include <errno.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

struct m4_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	double p13, p31, p32, p23, p14;
	unsigned state; /* 1..4 */
};

static inline struct m4_cell *to_m4(struct sl_cell *c)
{
	return (struct m4_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "p13", "fraction", NULL, "from 1 (gap, received) to 3 (burst, lost): a burst starts" },
	{ "p31", "fraction", "1 - p13", "from 3 (burst, lost) to 1 (gap): the burst ends" },
	{ "p32", "fraction", "0%", "from 3 (burst, lost) to 2 (burst, received)" },
	{ "p23", "fraction", "100%", "from 2 (burst, received) to 3 (burst, lost)" },
	{ "p14", "fraction", "0%", "from 1 (gap) to 4: an isolated loss" },
	{ NULL, NULL, NULL, NULL },
};

static int m4_read(struct json_object *cfg, struct m4_cell *m, bool init,
		   struct sl_err *err)
{
	int ret, has31;

	if ((ret = sl_cfg_prob(cfg, "p13", &m->p13, err)) < 0 ||
	    (has31 = ret = sl_cfg_prob(cfg, "p31", &m->p31, err)) < 0 ||
	    (ret = sl_cfg_prob(cfg, "p32", &m->p32, err)) < 0 ||
	    (ret = sl_cfg_prob(cfg, "p23", &m->p23, err)) < 0 ||
	    (ret = sl_cfg_prob(cfg, "p14", &m->p14, err)) < 0)
		return ret;
	if (init && m->p13 < 0)
		return sl_err_set(err, EINVAL,
				  "p13: missing; expected the probability that a burst starts, such as 1%%");
	if (init && !has31)
		m->p31 = 1 - m->p13;
	if (m->p13 + m->p14 > 1 + 1e-12)
		return sl_err_set(err, EINVAL,
				  "p13 + p14: %g is more than 1; they leave state 1 together",
				  m->p13 + m->p14);
	if (m->p31 + m->p32 > 1 + 1e-12)
		return sl_err_set(err, EINVAL,
				  "p31 + p32: %g is more than 1; they leave state 3 together",
				  m->p31 + m->p32);
	return 0;
}

static int m4_init(struct sl_cell *c, struct json_object *cfg,
		   struct sl_err *err)
{
	struct m4_cell *m = to_m4(c);

	sl_pktq_init(&m->q);
	m->p13 = -1;
	m->p32 = 0;
	m->p23 = 1;
	m->p14 = 0;
	m->state = 1;
	return m4_read(cfg, m, true, err);
}

static void m4_fini(struct sl_cell *c)
{
	sl_pass_flush(c, &to_m4(c)->q);
}

static void m4_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct m4_cell *m = to_m4(c);
	double u = sl_rng_uniform(&c->rng);

	switch (m->state) {
	case 1:
		if (u < m->p13)
			m->state = 3;
		else if (u < m->p13 + m->p14)
			m->state = 4;
		break;
	case 2:
		if (u < m->p23)
			m->state = 3;
		break;
	case 3:
		if (u < m->p31)
			m->state = 1;
		else if (u < m->p31 + m->p32)
			m->state = 2;
		break;
	default:
		m->state = 1;
	}
	if (m->state >= 3)
		sl_cell_drop(c, p, SL_DROP_LOSS);
	else
		sl_pktq_push(&m->q, p);
}

static struct sl_pkt *m4_dequeue(struct sl_cell *c, uint64_t now,
				 uint64_t *next)
{
	return sl_pass_dequeue(&to_m4(c)->q, next);
}

static int m4_control(struct sl_cell *c, struct json_object *cfg,
		      uint64_t now, struct sl_err *err)
{
	struct m4_cell *m = to_m4(c), tmp = *m;
	int ret = m4_read(cfg, &tmp, false, err);

	if (ret)
		return ret;
	m->p13 = tmp.p13;
	m->p31 = tmp.p31;
	m->p32 = tmp.p32;
	m->p23 = tmp.p23;
	m->p14 = tmp.p14;
	return 0;
}

static void m4_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct m4_cell *m = (const struct m4_cell *)c;

	json_object_object_add(obj, "p13", json_object_new_double(m->p13));
	json_object_object_add(obj, "p31", json_object_new_double(m->p31));
	json_object_object_add(obj, "p32", json_object_new_double(m->p32));
	json_object_object_add(obj, "p23", json_object_new_double(m->p23));
	json_object_object_add(obj, "p14", json_object_new_double(m->p14));
	json_object_object_add(obj, "state", json_object_new_int((int)m->state));
}

const struct sl_cell_ops sl_cell_loss_4state_ops = {
	.type = "loss_4state",
	.summary = "4-state Markov loss (netem loss state: p13, p31, p32, p23, p14)",
	.params = params,
	.size = sizeof(struct m4_cell),
	.init = m4_init,
	.fini = m4_fini,
	.enqueue = m4_enqueue,
	.dequeue = m4_dequeue,
	.control = m4_control,
	.telemetry = m4_telemetry,
};
