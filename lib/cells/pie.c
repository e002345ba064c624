// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pie.c - PIE, Proportional Integral controller Enhanced (RFC 8033):
 * {"type": "pie", "target": "15ms", "tupdate": "15ms", "max_burst":
 * "150ms", "alpha": 0.125, "beta": 1.25, "limit": "1000pkt",
 * "ecn": false}.
 *
 * Every tupdate PIE measures the queueing delay (the age of the packet at
 * the head; 0 when empty) and moves its drop probability by
 *   alpha (delay - target) + beta (delay - previous delay)   (in seconds),
 * scaled down while the probability is small (RFC 8033 4.2: /2048 below
 * 1e-6 ... /2 below 0.1), by at most 0.02 per update above 0.1, decaying
 * by 2% per update while the queue stays empty. Arrivals are dropped with
 * that probability (or marked CE with ecn while it is at most 10%), except
 * during the burst allowance (max_burst after a quiet period), while the
 * delay is below target / 2 and the probability below 20%, or when at most
 * two packets' worth of bytes are queued. The queue is drop-tail at limit.
 *
 * The updates happen at the exact multiples of tupdate after the first
 * packet, caught up lazily at each enqueue and dequeue (which the engine
 * makes in time order), so a run does not depend on when the dataplane
 * polls. Derandomisation (RFC 8033 5.1) is not implemented.
 */
#include <errno.h>
#include <math.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

struct pie_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	struct sl_qlimit limit;
	uint64_t target, tupdate, max_burst;
	double alpha, beta;
	bool ecn;
	double drop_prob;
	uint64_t qdelay_old;
	uint64_t burst_left; /* burst allowance, ns */
	uint64_t t_update;   /* next update; 0 before the first packet */
	uint32_t maxpacket;
	uint64_t marks, updates;
};

static inline struct pie_cell *to_pie(struct sl_cell *c)
{
	return (struct pie_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "target", "time", "15ms", "queueing delay PIE steers to (QDELAY_REF)" },
	{ "tupdate", "time", "15ms", "update interval of the drop probability (T_UPDATE)" },
	{ "max_burst", "time", "150ms", "burst allowed without drops after a quiet period (MAX_BURST)" },
	{ "alpha", "number", "0.125", "weight of the delay error, per second" },
	{ "beta", "number", "1.25", "weight of the delay trend, per second" },
	{ "limit", "queue", "1000pkt", "hard limit of the queue (drop-tail beyond it)" },
	{ "ecn", "boolean", "false", "mark ECN-capable packets CE instead of dropping while the probability is at most 10%" },
	{ NULL, NULL, NULL, NULL },
};

static int read_num(struct json_object *cfg, const char *key, double *v,
		    struct sl_err *err)
{
	struct json_object *o;
	double x;

	if (!json_object_object_get_ex(cfg, key, &o))
		return 0;
	if (!json_object_is_type(o, json_type_double) &&
	    !json_object_is_type(o, json_type_int))
		return sl_err_set(err, EINVAL, "%s: %s is not a number; expected a number such as 0.125",
				  key, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	x = json_object_get_double(o);
	if (!(x >= 0 && x <= 1000))
		return sl_err_set(err, EINVAL, "%s: %g is out of range; expected 0 to 1000",
				  key, x);
	*v = x;
	return 1;
}

static int pie_read(struct json_object *cfg, struct pie_cell *pc,
		    struct sl_err *err)
{
	int ret;

	if ((ret = sl_cfg_time(cfg, "target", &pc->target, err)) < 0 ||
	    (ret = sl_cfg_time(cfg, "tupdate", &pc->tupdate, err)) < 0 ||
	    (ret = sl_cfg_time(cfg, "max_burst", &pc->max_burst, err)) < 0 ||
	    (ret = read_num(cfg, "alpha", &pc->alpha, err)) < 0 ||
	    (ret = read_num(cfg, "beta", &pc->beta, err)) < 0 ||
	    (ret = sl_cfg_qlimit(cfg, "limit", &pc->limit, err)) < 0 ||
	    (ret = sl_cfg_bool(cfg, "ecn", &pc->ecn, err)) < 0)
		return ret;
	if (pc->tupdate < SL_NSEC_PER_USEC)
		return sl_err_set(err, EINVAL, "tupdate: expected at least 1us");
	return 0;
}

static int pie_init(struct sl_cell *c, struct json_object *cfg,
		    struct sl_err *err)
{
	struct pie_cell *pc = to_pie(c);
	int ret;

	sl_pktq_init(&pc->q);
	pc->limit.n = 1000;
	pc->target = 15 * SL_NSEC_PER_MSEC;
	pc->tupdate = 15 * SL_NSEC_PER_MSEC;
	pc->max_burst = 150 * SL_NSEC_PER_MSEC;
	pc->alpha = 0.125;
	pc->beta = 1.25;
	pc->maxpacket = 1514;
	ret = pie_read(cfg, pc, err);
	if (ret)
		return ret;
	pc->burst_left = pc->max_burst;
	return 0;
}

static void pie_fini(struct sl_cell *c)
{
	sl_pass_flush(c, &to_pie(c)->q);
}

static void update(struct pie_cell *pc, uint64_t t)
{
	const struct sl_pkt *h = sl_pktq_peek(&pc->q);
	uint64_t qdelay = h && t > h->ts_enqueue ? t - h->ts_enqueue : 0;
	double p = pc->alpha * ((double)qdelay - (double)pc->target) / 1e9 +
		   pc->beta * ((double)qdelay - (double)pc->qdelay_old) / 1e9;
	double dp = pc->drop_prob;

	if (dp < 0.000001)
		p /= 2048;
	else if (dp < 0.00001)
		p /= 512;
	else if (dp < 0.0001)
		p /= 128;
	else if (dp < 0.001)
		p /= 32;
	else if (dp < 0.01)
		p /= 8;
	else if (dp < 0.1)
		p /= 2;
	else if (p > 0.02)
		p = 0.02;
	dp += p;
	if (!qdelay && !pc->qdelay_old)
		dp *= 0.98;
	pc->drop_prob = dp < 0 ? 0 : dp > 1 ? 1 : dp;
	pc->burst_left = pc->burst_left > pc->tupdate ? pc->burst_left - pc->tupdate : 0;
	if (pc->drop_prob == 0 && qdelay < pc->target / 2 &&
	    pc->qdelay_old < pc->target / 2)
		pc->burst_left = pc->max_burst;
	pc->qdelay_old = qdelay;
	pc->updates++;
}

/* Runs the updates due up to now. An idle queue converges (probability
 * 0, allowance full) within a few thousand updates; past that the rest
 * are skipped. */
static void catch_up(struct pie_cell *pc, uint64_t now)
{
	unsigned n = 0;

	if (!pc->t_update) {
		pc->t_update = now + pc->tupdate;
		return;
	}
	while (pc->t_update <= now) {
		update(pc, pc->t_update);
		pc->t_update += pc->tupdate;
		if (++n > 4096 && sl_pktq_empty(&pc->q) && pc->drop_prob < 1e-30) {
			pc->drop_prob = 0;
			pc->t_update += (now - pc->t_update) / pc->tupdate * pc->tupdate;
		}
	}
}

static void pie_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct pie_cell *pc = to_pie(c);

	catch_up(pc, now);
	if (sl_qlimit_full(&pc->limit, &pc->q, p->len)) {
		sl_cell_drop(c, p, SL_DROP_QUEUE);
		return;
	}
	if (p->len > pc->maxpacket)
		pc->maxpacket = p->len;
	if (!pc->burst_left &&
	    !(pc->qdelay_old < pc->target / 2 && pc->drop_prob < 0.2) &&
	    pc->q.bytes > 2 * (uint64_t)pc->maxpacket &&
	    sl_rng_uniform(&c->rng) < pc->drop_prob) {
		if (!(pc->ecn && pc->drop_prob <= 0.1 && sl_pkt_mark_ce(p))) {
			sl_cell_drop(c, p, SL_DROP_AQM);
			return;
		}
		pc->marks++;
	}
	sl_pktq_push(&pc->q, p);
}

static struct sl_pkt *pie_dequeue(struct sl_cell *c, uint64_t now,
				  uint64_t *next)
{
	struct pie_cell *pc = to_pie(c);

	catch_up(pc, now);
	return sl_pass_dequeue(&pc->q, next);
}

static struct sl_pkt *pie_peek(struct sl_cell *c, uint64_t now)
{
	return sl_pktq_peek(&to_pie(c)->q);
}

static int pie_control(struct sl_cell *c, struct json_object *cfg,
		       uint64_t now, struct sl_err *err)
{
	struct pie_cell *pc = to_pie(c), tmp = *pc;
	int ret = pie_read(cfg, &tmp, err);

	if (ret)
		return ret;
	pc->target = tmp.target;
	pc->tupdate = tmp.tupdate;
	pc->max_burst = tmp.max_burst;
	pc->alpha = tmp.alpha;
	pc->beta = tmp.beta;
	pc->limit = tmp.limit;
	pc->ecn = tmp.ecn;
	return 0;
}

static void pie_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct pie_cell *pc = (const struct pie_cell *)c;
	char buf[32];

	json_object_object_add(obj, "target_ns", json_object_new_uint64(pc->target));
	json_object_object_add(obj, "tupdate_ns", json_object_new_uint64(pc->tupdate));
	json_object_object_add(obj, "max_burst_ns", json_object_new_uint64(pc->max_burst));
	json_object_object_add(obj, "alpha", json_object_new_double(pc->alpha));
	json_object_object_add(obj, "beta", json_object_new_double(pc->beta));
	json_object_object_add(obj, "limit",
			       json_object_new_string(sl_qlimit_fmt(&pc->limit, buf, sizeof(buf))));
	json_object_object_add(obj, "ecn", json_object_new_boolean(pc->ecn));
	json_object_object_add(obj, "drop_prob", json_object_new_double(pc->drop_prob));
	json_object_object_add(obj, "qdelay_ns", json_object_new_uint64(pc->qdelay_old));
	json_object_object_add(obj, "burst_allowance_ns", json_object_new_uint64(pc->burst_left));
	json_object_object_add(obj, "marks", json_object_new_uint64(pc->marks));
}

const struct sl_cell_ops sl_cell_pie_ops = {
	.type = "pie",
	.summary = "PIE queue (RFC 8033): drops or marks at enqueue with a probability steered to hold the target delay",
	.params = params,
	.size = sizeof(struct pie_cell),
	.init = pie_init,
	.fini = pie_fini,
	.enqueue = pie_enqueue,
	.dequeue = pie_dequeue,
	.peek = pie_peek,
	.control = pie_control,
	.telemetry = pie_telemetry,
};
