// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * duplicate.c - netem's duplication: {"type": "duplicate",
 * "duplicate": "1%"}.
 *
 * Each packet is copied with the given probability; the copy (a new frame
 * from the dataplane, flagged SL_PKT_CLONE) follows the original at once,
 * through the rest of the channel. When the dataplane has no free frame
 * the copy is skipped and counted (clone_failed).
 */
#include <errno.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

struct dup_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	double p;
	uint64_t copies, failed;
};

static inline struct dup_cell *to_dup(struct sl_cell *c)
{
	return (struct dup_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "duplicate", "fraction", NULL, "probability that a packet is sent twice" },
	{ NULL, NULL, NULL, NULL },
};

static int dup_init(struct sl_cell *c, struct json_object *cfg,
		    struct sl_err *err)
{
	struct dup_cell *d = to_dup(c);
	int ret;

	sl_pktq_init(&d->q);
	ret = sl_cfg_prob(cfg, "duplicate", &d->p, err);
	if (ret < 0)
		return ret;
	if (!ret)
		return sl_err_set(err, EINVAL,
				  "duplicate: missing; expected the probability that a packet is sent twice, such as 1%%");
	return 0;
}

static void dup_fini(struct sl_cell *c)
{
	sl_pass_flush(c, &to_dup(c)->q);
}

static void dup_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct dup_cell *d = to_dup(c);
	struct sl_pkt *q;

	sl_pktq_push(&d->q, p);
	if (!(d->p > 0 && sl_rng_uniform(&c->rng) < d->p))
		return;
	q = sl_cell_clone(c, p);
	if (!q) {
		d->failed++;
		return;
	}
	q->ts_enqueue = now;
	d->copies++;
	sl_pktq_push(&d->q, q);
}

static struct sl_pkt *dup_dequeue(struct sl_cell *c, uint64_t now,
				  uint64_t *next)
{
	return sl_pass_dequeue(&to_dup(c)->q, next);
}

static int dup_control(struct sl_cell *c, struct json_object *cfg,
		       uint64_t now, struct sl_err *err)
{
	double p = to_dup(c)->p;
	int ret = sl_cfg_prob(cfg, "duplicate", &p, err);

	if (ret < 0)
		return ret;
	to_dup(c)->p = p;
	return 0;
}

static void dup_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct dup_cell *d = (const struct dup_cell *)c;

	json_object_object_add(obj, "duplicate", json_object_new_double(d->p));
	json_object_object_add(obj, "copies", json_object_new_uint64(d->copies));
	json_object_object_add(obj, "clone_failed", json_object_new_uint64(d->failed));
}

const struct sl_cell_ops sl_cell_duplicate_ops = {
	.type = "duplicate",
	.summary = "netem duplication: sends some packets twice",
	.params = params,
	.size = sizeof(struct dup_cell),
	.init = dup_init,
	.fini = dup_fini,
	.enqueue = dup_enqueue,
	.dequeue = dup_dequeue,
	.control = dup_control,
	.telemetry = dup_telemetry,
};
