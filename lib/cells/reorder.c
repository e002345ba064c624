// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * reorder.c - netem's reordering: {"type": "reorder", "delay": "10ms",
 * "reorder": "25%", "gap": 5}.
 *
 * Packets are delayed by "delay", except that some are sent at once and
 * so overtake the delayed ones, as netem's "delay D reorder P gap G"
 * does: after a packet sent at once, the next G - 1 packets are always
 * delayed; from then on each packet is sent at once with probability P
 * (and the count starts again), else delayed. With gap 1 (the default)
 * every packet is sent at once with probability P. Delayed packets keep
 * their order among themselves. Correlation of the draws is not
 * implemented.
 */
#include <errno.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>
#include <sluice/units.h>

struct reorder_cell {
	struct sl_cell cell;
	struct sl_dline line;
	uint64_t delay;
	double p;
	uint64_t gap, counter;
	struct sl_qlimit limit;
	uint64_t reordered;
};

static inline struct reorder_cell *to_reorder(struct sl_cell *c)
{
	return (struct reorder_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "delay", "time", NULL, "delay of the packets that are not sent at once" },
	{ "reorder", "fraction", NULL, "probability that an eligible packet is sent at once" },
	{ "gap", "integer", "1", "after a packet sent at once, the next gap - 1 are always delayed" },
	{ "limit", "queue", "unlimited", "packets (or bytes) in flight; more are dropped (queue)" },
	{ NULL, NULL, NULL, NULL },
};

static int reorder_read(struct json_object *cfg, struct reorder_cell *r,
			struct sl_err *err)
{
	int ret;

	if ((ret = sl_cfg_time(cfg, "delay", &r->delay, err)) < 0 ||
	    (ret = sl_cfg_prob(cfg, "reorder", &r->p, err)) < 0 ||
	    (ret = sl_cfg_u64(cfg, "gap", &r->gap, err)) < 0 ||
	    (ret = sl_cfg_qlimit(cfg, "limit", &r->limit, err)) < 0)
		return ret;
	if (!r->gap)
		return sl_err_set(err, EINVAL, "gap: expected at least 1");
	return 0;
}

static int reorder_init(struct sl_cell *c, struct json_object *cfg,
			struct sl_err *err)
{
	struct reorder_cell *r = to_reorder(c);
	int ret;

	sl_dline_init(&r->line);
	r->delay = SL_TIME_NEVER;
	r->p = -1;
	r->gap = 1;
	ret = reorder_read(cfg, r, err);
	if (ret)
		return ret;
	if (r->delay == SL_TIME_NEVER)
		return sl_err_set(err, EINVAL,
				  "delay: missing; expected %s (reordering needs a delay to overtake)",
				  sl_unit_expected(SL_UNIT_TIME));
	if (r->p < 0)
		return sl_err_set(err, EINVAL,
				  "reorder: missing; expected the probability that a packet is sent at once, such as 25%%");
	return 0;
}

static void reorder_fini(struct sl_cell *c)
{
	sl_dline_fini(&to_reorder(c)->line, c);
}

static void reorder_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct reorder_cell *r = to_reorder(c);

	if (sl_dline_full(&r->line, &r->limit, p->len)) {
		sl_cell_drop(c, p, SL_DROP_QUEUE);
		return;
	}
	if (r->counter < r->gap - 1 || !(sl_rng_uniform(&c->rng) < r->p)) {
		r->counter++;
		sl_dline_push(&r->line, p, now + r->delay, true);
		return;
	}
	r->counter = 0;
	r->reordered++;
	sl_dline_push(&r->line, p, now, false);
}

static struct sl_pkt *reorder_dequeue(struct sl_cell *c, uint64_t now,
				      uint64_t *next)
{
	return sl_dline_pop(&to_reorder(c)->line, now, next);
}

static int reorder_control(struct sl_cell *c, struct json_object *cfg,
			   uint64_t now, struct sl_err *err)
{
	struct reorder_cell *r = to_reorder(c), tmp = *r;
	int ret = reorder_read(cfg, &tmp, err);

	if (ret)
		return ret;
	r->delay = tmp.delay;
	r->p = tmp.p;
	r->gap = tmp.gap;
	r->limit = tmp.limit;
	return 0;
}

static void reorder_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct reorder_cell *r = (const struct reorder_cell *)c;
	char buf[32];

	json_object_object_add(obj, "delay_ns", json_object_new_uint64(r->delay));
	json_object_object_add(obj, "reorder", json_object_new_double(r->p));
	json_object_object_add(obj, "gap", json_object_new_uint64(r->gap));
	json_object_object_add(obj, "limit",
			       json_object_new_string(sl_qlimit_fmt(&r->limit, buf, sizeof(buf))));
	json_object_object_add(obj, "reordered", json_object_new_uint64(r->reordered));
}

const struct sl_cell_ops sl_cell_reorder_ops = {
	.type = "reorder",
	.summary = "netem reordering: a delay that some packets skip (probability, gap)",
	.params = params,
	.size = sizeof(struct reorder_cell),
	.init = reorder_init,
	.fini = reorder_fini,
	.enqueue = reorder_enqueue,
	.dequeue = reorder_dequeue,
	.control = reorder_control,
	.telemetry = reorder_telemetry,
};
