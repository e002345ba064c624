// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rate.c - the token-bucket shaper: {"type": "rate", "rate": "10mbit",
 * "burst": "1514b", "queue": "100pkt"}.
 *
 * Packets wait in a child queue cell ("queue": a size is a drop-tail queue
 * of that limit, an object any cell with peek; default 1000 packets) and
 * leave when the bucket holds their length: the head's departure is
 * max(its arrival, the first nanosecond with enough tokens), computed
 * exactly (lib/cells/tbucket.c), so a backlogged train leaves at
 * t0 + ceil(k * len * 8e9 / rate) minus what the burst covered. The
 * bucket (default one 1514-byte frame) starts full.
 *
 * The limit counts the packets waiting, including the head: the engine
 * releases every departure up to an arrival's time before the arrival is
 * queued. control() changes rate and burst from now on (tokens earned so
 * far are kept) and the queue's settings; waiting packets stay.
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/cell.h>
#include <sluice/units.h>

#define DEFAULT_BURST 1514
#define DEFAULT_QUEUE "1000pkt"

struct rate_cell {
	struct sl_cell cell;
	struct sl_cell *queue;
	struct sl_tbucket tb;
	uint64_t burst;
};

static inline struct rate_cell *to_rate(struct sl_cell *c)
{
	return (struct rate_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "rate", "rate", NULL, "the link rate" },
	{ "burst", "size", "1514b", "bucket depth: bytes that may leave back to back after an idle time" },
	{ "queue", "cell", "1000pkt",
	  "where packets wait: a size (drop-tail queue of that limit) or a queue cell object (queue, red, codel, pie, fcfs, prio, wrr, drr)" },
	{ NULL, NULL, NULL, NULL },
};

static int rate_init(struct sl_cell *c, struct json_object *cfg,
		     struct sl_err *err)
{
	struct rate_cell *rc = to_rate(c);
	uint64_t rate = 0, burst = DEFAULT_BURST;
	struct json_object *qcfg, *dflt = NULL;
	int ret;

	ret = sl_cfg_tbucket(cfg, &rate, &burst, err);
	if (ret)
		return ret;
	if (!rate)
		return sl_err_set(err, EINVAL, "rate: missing; expected %s",
				  sl_unit_expected(SL_UNIT_RATE));
	if (!json_object_object_get_ex(cfg, "queue", &qcfg)) {
		dflt = json_object_new_string(DEFAULT_QUEUE);
		if (!dflt)
			return sl_err_set(err, ENOMEM, "out of memory");
		qcfg = dflt;
	}
	ret = sl_cell_new_child(c, qcfg, "queue", "limit", &rc->queue, err);
	json_object_put(dflt);
	if (ret) {
		sl_err_prefix(err, "queue");
		return ret;
	}
	if (!rc->queue->ops->peek) {
		ret = sl_err_set(err, EINVAL,
				 "queue: a %s cell cannot queue for a shaper; expected a queue cell such as {\"type\": \"queue\", \"limit\": \"100pkt\"}",
				 rc->queue->ops->type);
		sl_cell_free(rc->queue);
		rc->queue = NULL;
		return ret;
	}
	rc->burst = burst;
	sl_tbucket_init(&rc->tb, rate, burst, 0);
	return 0;
}

static void rate_fini(struct sl_cell *c)
{
	sl_cell_free(to_rate(c)->queue);
}

static void rate_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	sl_cell_child_enqueue(to_rate(c)->queue, p, now);
}

static struct sl_pkt *rate_dequeue(struct sl_cell *c, uint64_t now,
				   uint64_t *next)
{
	struct rate_cell *rc = to_rate(c);
	/* the queue decides as of when the link is free: the last departure */
	struct sl_pkt *p = sl_cell_child_peek(rc->queue, rc->tb.t);
	uint64_t dep;

	if (!p) {
		*next = SL_TIME_NEVER;
		return NULL;
	}
	dep = sl_tbucket_ready_at(&rc->tb, p->len);
	if (dep < p->ts_enqueue)
		dep = p->ts_enqueue;
	if (dep > now) {
		*next = dep;
		return NULL;
	}
	p = sl_cell_child_dequeue(rc->queue, dep);
	sl_tbucket_take(&rc->tb, p->len, dep);
	p->ts_depart = dep;
	return p;
}

static int rate_control(struct sl_cell *c, struct json_object *cfg,
			uint64_t now, struct sl_err *err)
{
	struct rate_cell *rc = to_rate(c);
	uint64_t rate = rc->tb.rate, burst = rc->burst;
	struct json_object *qcfg, *obj;
	int ret;

	ret = sl_cfg_tbucket(cfg, &rate, &burst, err);
	if (ret)
		return ret;
	/* the queue's change is the only part that can still fail: do it
	 * first, so that a failure leaves the cell as it was */
	if (json_object_object_get_ex(cfg, "queue", &qcfg)) {
		if (json_object_is_type(qcfg, json_type_object)) {
			ret = sl_cell_control(rc->queue, qcfg, now, err);
		} else {
			obj = json_object_new_object();
			if (!obj)
				return sl_err_set(err, ENOMEM, "out of memory");
			json_object_object_add(obj, "limit", json_object_get(qcfg));
			ret = sl_cell_control(rc->queue, obj, now, err);
			json_object_put(obj);
			if (ret && err && !strncmp(err->msg, "limit: ", 7))
				memmove(err->msg, err->msg + 7,
					strlen(err->msg + 7) + 1);
		}
		if (ret) {
			sl_err_prefix(err, "queue");
			return ret;
		}
	}
	rc->burst = burst;
	sl_tbucket_set(&rc->tb, rate, burst, now);
	return 0;
}

static void rate_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct rate_cell *rc = (const struct rate_cell *)c;

	json_object_object_add(obj, "rate_bps", json_object_new_uint64(rc->tb.rate));
	json_object_object_add(obj, "burst_bytes", json_object_new_uint64(rc->burst));
	json_object_object_add(obj, "tokens_bytes",
			       json_object_new_uint64(sl_tbucket_tokens_bytes(&rc->tb)));
	json_object_object_add(obj, "queue", sl_cell_telemetry(rc->queue));
}

const struct sl_cell_ops sl_cell_rate_ops = {
	.type = "rate",
	.summary = "token-bucket shaper with a queue (any queue cell)",
	.params = params,
	.size = sizeof(struct rate_cell),
	.init = rate_init,
	.fini = rate_fini,
	.enqueue = rate_enqueue,
	.dequeue = rate_dequeue,
	.control = rate_control,
	.telemetry = rate_telemetry,
};
