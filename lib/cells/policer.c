// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * policer.c - a token bucket that drops what does not conform:
 * {"type": "policer", "rate": "5mbit", "burst": "15kb"} (burst default
 * 1514 bytes, one Ethernet frame).
 *
 * Unlike the shaper it never delays: a packet either finds its length in
 * tokens at arrival and passes at once, or is dropped (reason "police").
 * A packet larger than the burst never conforms, as with tc's police.
 */
#include <errno.h>

#include <json-c/json.h>

#include <sluice/cell.h>

#define DEFAULT_BURST 1514

struct policer_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	struct sl_tbucket tb;
	uint64_t burst;
};

static inline struct policer_cell *to_policer(struct sl_cell *c)
{
	return (struct policer_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "rate", "rate", NULL, "token rate: the long-run rate that passes" },
	{ "burst", "size", "1514b", "bucket depth: the largest burst that passes at once" },
	{ NULL, NULL, NULL, NULL },
};

static int policer_init(struct sl_cell *c, struct json_object *cfg,
			struct sl_err *err)
{
	struct policer_cell *pc = to_policer(c);
	uint64_t rate = 0, burst = DEFAULT_BURST;
	int ret;

	sl_pktq_init(&pc->q);
	ret = sl_cfg_tbucket(cfg, &rate, &burst, err);
	if (ret)
		return ret;
	if (!rate)
		return sl_err_set(err, EINVAL,
				  "rate: missing; expected a number with a unit such as 10mbit, 1gbit");
	pc->burst = burst;
	sl_tbucket_init(&pc->tb, rate, burst, 0);
	return 0;
}

static void policer_fini(struct sl_cell *c)
{
	struct sl_pkt *p;

	while ((p = sl_pktq_pop(&to_policer(c)->q)))
		sl_cell_drop(c, p, SL_DROP_FLUSH);
}

static void policer_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct policer_cell *pc = to_policer(c);

	if (!sl_tbucket_conform(&pc->tb, p->len, now)) {
		sl_cell_drop(c, p, SL_DROP_POLICE);
		return;
	}
	sl_pktq_push(&pc->q, p);
}

static struct sl_pkt *policer_dequeue(struct sl_cell *c, uint64_t now,
				      uint64_t *next)
{
	struct sl_pkt *p = sl_pktq_pop(&to_policer(c)->q);

	if (!p) {
		*next = SL_TIME_NEVER;
		return NULL;
	}
	p->ts_depart = p->ts_enqueue;
	return p;
}

static int policer_control(struct sl_cell *c, struct json_object *cfg,
			   uint64_t now, struct sl_err *err)
{
	struct policer_cell *pc = to_policer(c);
	uint64_t rate = pc->tb.rate, burst = pc->burst;
	int ret;

	ret = sl_cfg_tbucket(cfg, &rate, &burst, err);
	if (ret)
		return ret;
	pc->burst = burst;
	sl_tbucket_set(&pc->tb, rate, burst, now);
	return 0;
}

static void policer_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct policer_cell *pc = (const struct policer_cell *)c;

	json_object_object_add(obj, "rate_bps", json_object_new_uint64(pc->tb.rate));
	json_object_object_add(obj, "burst_bytes", json_object_new_uint64(pc->burst));
	json_object_object_add(obj, "tokens_bytes",
			       json_object_new_uint64(sl_tbucket_tokens_bytes(&pc->tb)));
}

const struct sl_cell_ops sl_cell_policer_ops = {
	.type = "policer",
	.summary = "token bucket that drops what does not conform (never delays)",
	.params = params,
	.size = sizeof(struct policer_cell),
	.init = policer_init,
	.fini = policer_fini,
	.enqueue = policer_enqueue,
	.dequeue = policer_dequeue,
	.control = policer_control,
	.telemetry = policer_telemetry,
};
