// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * delay.c - constant delay: {"type": "delay", "delay": "10ms"}, optional
 * "limit" on the packets in flight (default unlimited).
 *
 * A packet arriving at t leaves at exactly t + D. Order is kept: after a
 * control() that shortens D, a packet never overtakes one queued before it
 * (departure = max(t + D, previous departure)), so departures are
 * monotonic and the FIFO head is always the next to leave.
 */
#include <errno.h>

#include <json-c/json.h>

#include <sluice/cell.h>
#include <sluice/units.h>

struct delay_cell {
	struct sl_cell cell;
	struct sl_pktq q; /* ts_depart holds each packet's departure */
	uint64_t delay;
	uint64_t last_depart;
	struct sl_qlimit limit;
};

static inline struct delay_cell *to_delay(struct sl_cell *c)
{
	return (struct delay_cell *)c;
}

static const char *const keys[] = { "delay", "limit", NULL };

static int delay_read(struct json_object *cfg, uint64_t *delay,
		      struct sl_qlimit *limit, struct sl_err *err)
{
	int ret = sl_cfg_check_keys(cfg, keys, err);

	if (ret)
		return ret;
	ret = sl_cfg_time(cfg, "delay", delay, err);
	if (ret < 0)
		return ret;
	ret = sl_cfg_qlimit(cfg, "limit", limit, err);
	return ret < 0 ? ret : 0;
}

static int delay_init(struct sl_cell *c, struct json_object *cfg,
		      struct sl_err *err)
{
	struct delay_cell *dc = to_delay(c);
	int ret;

	sl_pktq_init(&dc->q);
	dc->delay = SL_TIME_NEVER;
	ret = delay_read(cfg, &dc->delay, &dc->limit, err);
	if (ret)
		return ret;
	if (dc->delay == SL_TIME_NEVER)
		return sl_err_set(err, EINVAL, "delay: missing; expected %s",
				  sl_unit_expected(SL_UNIT_TIME));
	return 0;
}

static void delay_fini(struct sl_cell *c)
{
	struct sl_pkt *p;

	while ((p = sl_pktq_pop(&to_delay(c)->q)))
		sl_cell_drop(c, p, SL_DROP_FLUSH);
}

static void delay_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct delay_cell *dc = to_delay(c);
	uint64_t dep = now + dc->delay;

	if (sl_qlimit_full(&dc->limit, &dc->q, p->len)) {
		sl_cell_drop(c, p, SL_DROP_QUEUE);
		return;
	}
	if (dep < dc->last_depart)
		dep = dc->last_depart;
	dc->last_depart = dep;
	p->ts_depart = dep;
	sl_pktq_push(&dc->q, p);
}

static struct sl_pkt *delay_dequeue(struct sl_cell *c, uint64_t now,
				    uint64_t *next)
{
	struct delay_cell *dc = to_delay(c);
	struct sl_pkt *p = sl_pktq_peek(&dc->q);

	if (!p) {
		*next = SL_TIME_NEVER;
		return NULL;
	}
	if (p->ts_depart > now) {
		*next = p->ts_depart;
		return NULL;
	}
	return sl_pktq_pop(&dc->q);
}

/* Queued packets keep the departure they were given. */
static int delay_control(struct sl_cell *c, struct json_object *cfg,
			 uint64_t now, struct sl_err *err)
{
	struct delay_cell *dc = to_delay(c);
	struct sl_qlimit limit = dc->limit;
	uint64_t delay = dc->delay;
	int ret;

	ret = delay_read(cfg, &delay, &limit, err);
	if (ret)
		return ret;
	dc->delay = delay;
	dc->limit = limit;
	return 0;
}

static void delay_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct delay_cell *dc = (const struct delay_cell *)c;
	char buf[32];

	json_object_object_add(obj, "delay_ns", json_object_new_uint64(dc->delay));
	json_object_object_add(obj, "limit",
			       json_object_new_string(sl_qlimit_fmt(&dc->limit, buf,
								    sizeof(buf))));
}

const struct sl_cell_ops sl_cell_delay_ops = {
	.type = "delay",
	.size = sizeof(struct delay_cell),
	.init = delay_init,
	.fini = delay_fini,
	.enqueue = delay_enqueue,
	.dequeue = delay_dequeue,
	.control = delay_control,
	.telemetry = delay_telemetry,
};
