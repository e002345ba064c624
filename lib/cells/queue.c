// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * queue.c - the FIFO queue cell: {"type": "queue", "limit": "100pkt",
 * "drop": "tail"}, drop-tail or drop-head, by packets or bytes.
 *
 * A queue holds packets only while someone downstream is not ready for
 * them, so its home is under a shaper (the "queue" of a rate or trace
 * cell, or a class of a scheduler), which pulls through peek/dequeue. At
 * the top of a channel nothing holds packets back and it passes them on
 * at once (its limit never binds there).
 *
 * Drop-head (mahimahi's "drophead", pfifo_head_drop): an arrival that does
 * not fit pushes out the oldest packets until it does, so the queue keeps
 * the freshest data; an arrival larger than a byte limit on its own is
 * dropped itself. The packet a parent has peeked may be pushed out: the
 * parent peeks again at its next dequeue.
 */
#include <json-c/json.h>

#include <sluice/cell.h>

#define DEFAULT_LIMIT 1000 /* packets, like txqueuelen and netem's limit */

struct queue_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	struct sl_qlimit limit;
	bool head; /* drop-head */
};

static inline struct queue_cell *to_queue(struct sl_cell *c)
{
	return (struct queue_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "limit", "queue", "1000pkt", "most packets (or bytes: \"64kb\") waiting; \"unlimited\" for none" },
	{ "drop", "string", "tail", "which packet a full queue drops: tail (the arrival) or head (the oldest)" },
	{ NULL, NULL, NULL, NULL },
};

static const char *const drop_words[] = { "tail", "head", NULL };

static int queue_read(struct json_object *cfg, struct sl_qlimit *lim,
		      bool *head, struct sl_err *err)
{
	unsigned d = *head;
	int ret = sl_cfg_qlimit(cfg, "limit", lim, err);

	if (ret < 0)
		return ret;
	ret = sl_cfg_enum(cfg, "drop", drop_words, &d, err);
	if (ret < 0)
		return ret;
	*head = d;
	return 0;
}

static int queue_init(struct sl_cell *c, struct json_object *cfg,
		      struct sl_err *err)
{
	struct queue_cell *qc = to_queue(c);

	sl_pktq_init(&qc->q);
	qc->limit.n = DEFAULT_LIMIT;
	qc->limit.bytes = false;
	return queue_read(cfg, &qc->limit, &qc->head, err);
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

	if (!sl_qlimit_full(&qc->limit, &qc->q, p->len)) {
		sl_pktq_push(&qc->q, p);
		return;
	}
	if (!qc->head || (qc->limit.bytes && p->len > qc->limit.n)) {
		sl_cell_drop(c, p, SL_DROP_QUEUE);
		return;
	}
	while (!sl_pktq_empty(&qc->q) && sl_qlimit_full(&qc->limit, &qc->q, p->len))
		sl_cell_drop(c, sl_pktq_pop(&qc->q), SL_DROP_QUEUE);
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
 * refused (or push out the oldest) until the queue drains below it. */
static int queue_control(struct sl_cell *c, struct json_object *cfg,
			 uint64_t now, struct sl_err *err)
{
	struct queue_cell *qc = to_queue(c);
	struct sl_qlimit lim = qc->limit;
	bool head = qc->head;
	int ret = queue_read(cfg, &lim, &head, err);

	if (ret)
		return ret;
	qc->limit = lim;
	qc->head = head;
	return 0;
}

static void queue_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct queue_cell *qc = (const struct queue_cell *)c;
	char buf[32];

	json_object_object_add(obj, "limit",
			       json_object_new_string(sl_qlimit_fmt(&qc->limit, buf,
								    sizeof(buf))));
	json_object_object_add(obj, "drop",
			       json_object_new_string(drop_words[qc->head]));
}

const struct sl_cell_ops sl_cell_queue_ops = {
	.type = "queue",
	.summary = "FIFO queue, drop-tail or drop-head, limited in packets or bytes",
	.params = params,
	.size = sizeof(struct queue_cell),
	.init = queue_init,
	.fini = queue_fini,
	.enqueue = queue_enqueue,
	.dequeue = queue_dequeue,
	.peek = queue_peek,
	.control = queue_control,
	.telemetry = queue_telemetry,
};
