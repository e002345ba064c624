// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * queue.c - the drop-tail FIFO cell: {"type": "queue", "limit": "100pkt"}.
 *
 * A queue holds packets only while someone downstream is not ready for
 * them, so its home is under a shaper (the "queue" of a rate cell), which
 * pulls through peek/dequeue. At the top of a channel nothing holds packets
 * back and it passes them on at once (its limit never binds there).
 */
#include <json-c/json.h>

#include <sluice/cell.h>

#define DEFAULT_LIMIT 1000 /* packets, like txqueuelen and netem's limit */

struct queue_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	struct sl_qlimit limit;
};

static inline struct queue_cell *to_queue(struct sl_cell *c)
{
	return (struct queue_cell *)c;
}

static const char *const keys[] = { "limit", NULL };

static int queue_init(struct sl_cell *c, struct json_object *cfg,
		      struct sl_err *err)
{
	struct queue_cell *qc = to_queue(c);
	int ret;

	sl_pktq_init(&qc->q);
	qc->limit.n = DEFAULT_LIMIT;
	qc->limit.bytes = false;
	ret = sl_cfg_check_keys(cfg, keys, err);
	if (ret)
		return ret;
	ret = sl_cfg_qlimit(cfg, "limit", &qc->limit, err);
	return ret < 0 ? ret : 0;
}

static void queue_fini(struct sl_cell *c)
{
	struct queue_cell *qc = to_queue(c);
	struct sl_pkt *p;

	while ((p = sl_pktq_pop(&qc->q)))
		sl_cell_drop(c, p, SL_DROP_FLUSH);
}

static void queue_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct queue_cell *qc = to_queue(c);

	if (sl_qlimit_full(&qc->limit, &qc->q, p->len)) {
		sl_cell_drop(c, p, SL_DROP_QUEUE);
		return;
	}
	sl_pktq_push(&qc->q, p);
}

static struct sl_pkt *queue_dequeue(struct sl_cell *c, uint64_t now,
				    uint64_t *next)
{
	struct sl_pkt *p = sl_pktq_pop(&to_queue(c)->q);

	if (!p) {
		*next = SL_TIME_NEVER;
		return NULL;
	}
	/* in push mode it left as it came; a parent restamps in pull mode */
	p->ts_depart = p->ts_enqueue;
	return p;
}

static struct sl_pkt *queue_peek(struct sl_cell *c, uint64_t now)
{
	return sl_pktq_peek(&to_queue(c)->q);
}

/* A smaller limit than the backlog keeps the backlog: only arrivals are
 * refused until the queue drains below it. */
static int queue_control(struct sl_cell *c, struct json_object *cfg,
			 uint64_t now, struct sl_err *err)
{
	struct queue_cell *qc = to_queue(c);
	struct sl_qlimit lim = qc->limit;
	int ret;

	ret = sl_cfg_check_keys(cfg, keys, err);
	if (ret)
		return ret;
	ret = sl_cfg_qlimit(cfg, "limit", &lim, err);
	if (ret < 0)
		return ret;
	qc->limit = lim;
	return 0;
}

static void queue_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct queue_cell *qc = (const struct queue_cell *)c;
	char buf[32];

	json_object_object_add(obj, "limit",
			       json_object_new_string(sl_qlimit_fmt(&qc->limit, buf,
								    sizeof(buf))));
}

const struct sl_cell_ops sl_cell_queue_ops = {
	.type = "queue",
	.size = sizeof(struct queue_cell),
	.init = queue_init,
	.fini = queue_fini,
	.enqueue = queue_enqueue,
	.dequeue = queue_dequeue,
	.peek = queue_peek,
	.control = queue_control,
	.telemetry = queue_telemetry,
};
