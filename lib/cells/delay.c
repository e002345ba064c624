// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * delay.c - delay with optional jitter: {"type": "delay", "delay": "10ms",
 * "jitter": "2ms", "distribution": "normal", "reorder": false,
 * "limit": "1000pkt"}.
 *
 * A packet arriving at t is given the sample s = D + J * Y (Y from the
 * distribution, include/sluice/cellkit.h; s >= 0) and leaves:
 *  - without reorder (the default): at max(t + s, the previous departure),
 *    so order is kept and a short sample waits behind a long one, as on a
 *    real path whose delay varies;
 *  - with reorder: at exactly t + s, overtaking earlier packets whose
 *    samples were longer (netem's behaviour when jitter exceeds the gap).
 * With no jitter, departures are exactly t + D. control() changes the
 * settings for packets that arrive from then on; queued packets keep the
 * departures they were given, and a packet queued in order never
 * overtakes one queued before it. Correlation (netem's "delay ... 25%")
 * is not implemented.
 */
#include <errno.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>
#include <sluice/units.h>

struct delay_cell {
	struct sl_cell cell;
	struct sl_dline line;
	uint64_t delay;
	uint64_t jitter;
	unsigned dist;
	bool reorder;
	struct sl_qlimit limit;
};

static inline struct delay_cell *to_delay(struct sl_cell *c)
{
	return (struct delay_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "delay", "time", NULL, "mean one-way delay D" },
	{ "jitter", "time", "0ms",
	  "spread J of the delay: the half-width (uniform) or the standard deviation scale of the distribution" },
	{ "distribution", "string", "uniform",
	  "uniform, normal, pareto or paretonormal (netem's, computed exactly; see Jitter distributions)" },
	{ "reorder", "boolean", "false",
	  "let a packet with a short sample overtake earlier ones; otherwise order is kept" },
	{ "limit", "queue", "unlimited", "packets (or bytes) in flight; more are dropped (queue)" },
	{ NULL, NULL, NULL, NULL },
};

struct delay_cfg {
	uint64_t delay, jitter;
	unsigned dist;
	bool reorder;
	struct sl_qlimit limit;
};

static int delay_read(struct json_object *cfg, struct delay_cfg *d,
		      struct sl_err *err)
{
	int ret;

	if ((ret = sl_cfg_time(cfg, "delay", &d->delay, err)) < 0 ||
	    (ret = sl_cfg_time(cfg, "jitter", &d->jitter, err)) < 0 ||
	    (ret = sl_cfg_enum(cfg, "distribution", sl_dist_names, &d->dist,
			       err)) < 0 ||
	    (ret = sl_cfg_bool(cfg, "reorder", &d->reorder, err)) < 0 ||
	    (ret = sl_cfg_qlimit(cfg, "limit", &d->limit, err)) < 0)
		return ret;
	return 0;
}

static void delay_apply(struct delay_cell *dc, const struct delay_cfg *d)
{
	dc->delay = d->delay;
	dc->jitter = d->jitter;
	dc->dist = d->dist;
	dc->reorder = d->reorder;
	dc->limit = d->limit;
}

static int delay_init(struct sl_cell *c, struct json_object *cfg,
		      struct sl_err *err)
{
	struct delay_cell *dc = to_delay(c);
	struct delay_cfg d = { .delay = SL_TIME_NEVER };
	int ret;

	sl_dline_init(&dc->line);
	ret = delay_read(cfg, &d, err);
	if (ret)
		return ret;
	if (d.delay == SL_TIME_NEVER)
		return sl_err_set(err, EINVAL, "delay: missing; expected %s",
				  sl_unit_expected(SL_UNIT_TIME));
	delay_apply(dc, &d);
	return 0;
}

static void delay_fini(struct sl_cell *c)
{
	sl_dline_fini(&to_delay(c)->line, c);
}

static void delay_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct delay_cell *dc = to_delay(c);
	uint64_t s;

	if (sl_dline_full(&dc->line, &dc->limit, p->len)) {
		sl_cell_drop(c, p, SL_DROP_QUEUE);
		return;
	}
	s = sl_dist_delay(dc->dist, &c->rng, dc->delay, dc->jitter);
	sl_dline_push(&dc->line, p, now + s, !dc->reorder || !dc->jitter);
}

static struct sl_pkt *delay_dequeue(struct sl_cell *c, uint64_t now,
				    uint64_t *next)
{
	return sl_dline_pop(&to_delay(c)->line, now, next);
}

static int delay_control(struct sl_cell *c, struct json_object *cfg,
			 uint64_t now, struct sl_err *err)
{
	struct delay_cell *dc = to_delay(c);
	struct delay_cfg d = { dc->delay, dc->jitter, dc->dist, dc->reorder,
			       dc->limit };
	int ret = delay_read(cfg, &d, err);

	if (ret)
		return ret;
	delay_apply(dc, &d);
	return 0;
}

static void delay_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct delay_cell *dc = (const struct delay_cell *)c;
	char buf[32];

	json_object_object_add(obj, "delay_ns", json_object_new_uint64(dc->delay));
	json_object_object_add(obj, "jitter_ns", json_object_new_uint64(dc->jitter));
	json_object_object_add(obj, "distribution",
			       json_object_new_string(sl_dist_names[dc->dist]));
	json_object_object_add(obj, "reorder", json_object_new_boolean(dc->reorder));
	json_object_object_add(obj, "limit",
			       json_object_new_string(sl_qlimit_fmt(&dc->limit, buf,
								    sizeof(buf))));
}

const struct sl_cell_ops sl_cell_delay_ops = {
	.type = "delay",
	.summary = "constant delay with optional jitter (uniform, normal, pareto, paretonormal), order kept unless reorder",
	.params = params,
	.size = sizeof(struct delay_cell),
	.init = delay_init,
	.fini = delay_fini,
	.enqueue = delay_enqueue,
	.dequeue = delay_dequeue,
	.control = delay_control,
	.telemetry = delay_telemetry,
};
