// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * red.c - Random Early Detection (Floyd and Jacobson, 1993), optionally
 * marking ECN instead of dropping: {"type": "red", "limit": "1000pkt",
 * "min": "20pkt", "max": "60pkt", "probability": "2%", "weight": 0.002,
 * "ecn": true}.
 *
 * At each arrival the average queue avg (in packets, or bytes when min and
 * max are sizes in bytes) moves by the weight w toward the current queue;
 * after an idle time it first decays as if m small packets had left,
 * avg *= (1 - w)^m with m = idle / (avpkt at bandwidth), as tc's red does.
 * Then, with pb = probability * (avg - min) / (max - min):
 *   avg < min             the packet is queued;
 *   min <= avg < max      it is dropped (or marked) with probability
 *                         pb / (1 - c pb), c the packets queued since the
 *                         last drop, so drops are spread evenly: the gap
 *                         between two drops is uniform on 1..1/pb and the
 *                         drop rate is 2 pb / (1 + pb);
 *   avg >= max            dropped (or marked); with gentle, the
 *                         probability instead rises from probability to 1
 *                         as avg goes from max to 2 max.
 * The queue itself is drop-tail at limit. ECN marks packets whose IP
 * header says ECT (the header is rewritten to CE, checksum updated); other
 * packets are dropped. It is a queue cell (peek): its home is under a
 * shaper such as rate or trace.
 */
#include <errno.h>
#include <math.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

struct red_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	struct sl_qlimit limit, min, max;
	double maxp, w;
	uint64_t bandwidth, avpkt;
	bool ecn, gentle;
	double avg;
	uint64_t c;	    /* packets queued since the last drop or mark */
	uint64_t idle_from; /* the queue emptied at; SL_TIME_NEVER: busy */
	uint64_t marks, early, forced;
};

static inline struct red_cell *to_red(struct sl_cell *c)
{
	return (struct red_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "limit", "queue", "1000pkt", "hard limit of the queue (drop-tail beyond it)" },
	{ "min", "queue", "max / 3", "average queue where early drops start (packets, or bytes: \"30kb\")" },
	{ "max", "queue", "limit / 4", "average queue where the drop probability reaches probability" },
	{ "probability", "fraction", "2%", "drop probability at max (max_p)" },
	{ "weight", "fraction", "0.002", "weight w of the current queue in the average" },
	{ "ecn", "boolean", "false", "mark ECN-capable packets CE instead of dropping them" },
	{ "gentle", "boolean", "false", "above max, raise the probability to 1 at 2 max instead of dropping all" },
	{ "bandwidth", "rate", "10mbit", "link rate for the average's decay while idle" },
	{ "avpkt", "size", "1000b", "typical packet size for the average's decay while idle" },
	{ NULL, NULL, NULL, NULL },
};

static int red_read(struct json_object *cfg, struct red_cell *r, bool init,
		    struct sl_err *err)
{
	int ret, has_min, has_max;

	if ((ret = sl_cfg_qlimit(cfg, "limit", &r->limit, err)) < 0 ||
	    (has_min = ret = sl_cfg_qlimit(cfg, "min", &r->min, err)) < 0 ||
	    (has_max = ret = sl_cfg_qlimit(cfg, "max", &r->max, err)) < 0 ||
	    (ret = sl_cfg_prob(cfg, "probability", &r->maxp, err)) < 0 ||
	    (ret = sl_cfg_prob(cfg, "weight", &r->w, err)) < 0 ||
	    (ret = sl_cfg_bool(cfg, "ecn", &r->ecn, err)) < 0 ||
	    (ret = sl_cfg_bool(cfg, "gentle", &r->gentle, err)) < 0 ||
	    (ret = sl_cfg_rate(cfg, "bandwidth", &r->bandwidth, err)) < 0 ||
	    (ret = sl_cfg_bytes(cfg, "avpkt", &r->avpkt, err)) < 0)
		return ret;
	if (init && !has_max) {
		if (!r->limit.n)
			return sl_err_set(err, EINVAL,
					  "max: missing; expected a queue size (it defaults to limit / 4, and the limit is unlimited)");
		r->max.n = r->limit.n / 4 ? r->limit.n / 4 : 1;
		r->max.bytes = r->limit.bytes;
	}
	if (init && !has_min) {
		r->min.n = r->max.n / 3;
		r->min.bytes = r->max.bytes;
	}
	if (!r->max.n || r->min.bytes != r->max.bytes)
		return sl_err_set(err, EINVAL,
				  "min, max: expected two sizes of one kind (both packets or both bytes)");
	if (r->min.n >= r->max.n)
		return sl_err_set(err, EINVAL,
				  "min: %llu is not below max (%llu)",
				  (unsigned long long)r->min.n,
				  (unsigned long long)r->max.n);
	if (r->w <= 0)
		return sl_err_set(err, EINVAL, "weight: expected more than 0");
	return 0;
}

static int red_init(struct sl_cell *c, struct json_object *cfg,
		    struct sl_err *err)
{
	struct red_cell *r = to_red(c);

	sl_pktq_init(&r->q);
	r->limit.n = 1000;
	r->maxp = 0.02;
	r->w = 0.002;
	r->bandwidth = 10000000;
	r->avpkt = 1000;
	r->idle_from = 0;
	return red_read(cfg, r, true, err);
}

static void red_fini(struct sl_cell *c)
{
	sl_pass_flush(c, &to_red(c)->q);
}

static double current(const struct red_cell *r)
{
	return r->min.bytes ? (double)r->q.bytes : (double)r->q.n;
}

static void red_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct red_cell *r = to_red(c);
	double min = (double)r->min.n, max = (double)r->max.n, pb, pa;
	bool signal = false;

	if (sl_pktq_empty(&r->q)) {
		/* idle since idle_from: m small packets could have left */
		double m = (double)(now - r->idle_from) * (double)r->bandwidth /
			   ((double)r->avpkt * 8e9);

		r->avg *= pow(1 - r->w, m);
	} else {
		r->avg += r->w * (current(r) - r->avg);
	}
	if (r->avg < min) {
		r->c = 0;
	} else if (r->avg < max) {
		pb = r->maxp * (r->avg - min) / (max - min);
		pa = (double)r->c * pb >= 1 ? 1 : pb / (1 - (double)r->c * pb);
		signal = sl_rng_uniform(&c->rng) < pa;
		r->early += signal;
	} else if (r->gentle && r->avg < 2 * max) {
		pb = r->maxp + (1 - r->maxp) * (r->avg - max) / max;
		signal = sl_rng_uniform(&c->rng) < pb;
		r->early += signal;
	} else {
		signal = true;
		r->forced++;
	}
	if (signal) {
		r->c = 0;
		if (sl_aqm_signal(c, p, r->ecn, &r->marks))
			return;
	} else if (r->avg >= min) {
		r->c++;
	}
	if (sl_qlimit_full(&r->limit, &r->q, p->len)) {
		sl_cell_drop(c, p, SL_DROP_QUEUE);
		return;
	}
	sl_pktq_push(&r->q, p);
}

static struct sl_pkt *red_dequeue(struct sl_cell *c, uint64_t now,
				  uint64_t *next)
{
	struct red_cell *r = to_red(c);
	struct sl_pkt *p = sl_pass_dequeue(&r->q, next);

	if (p && sl_pktq_empty(&r->q))
		r->idle_from = now > p->ts_enqueue ? now : p->ts_enqueue;
	return p;
}

static struct sl_pkt *red_peek(struct sl_cell *c, uint64_t now)
{
	return sl_pktq_peek(&to_red(c)->q);
}

static int red_control(struct sl_cell *c, struct json_object *cfg,
		       uint64_t now, struct sl_err *err)
{
	struct red_cell *r = to_red(c), tmp = *r;
	int ret = red_read(cfg, &tmp, false, err);

	if (ret)
		return ret;
	r->limit = tmp.limit;
	r->min = tmp.min;
	r->max = tmp.max;
	r->maxp = tmp.maxp;
	r->w = tmp.w;
	r->ecn = tmp.ecn;
	r->gentle = tmp.gentle;
	r->bandwidth = tmp.bandwidth;
	r->avpkt = tmp.avpkt;
	return 0;
}

static void red_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct red_cell *r = (const struct red_cell *)c;
	char buf[32];

	json_object_object_add(obj, "limit",
			       json_object_new_string(sl_qlimit_fmt(&r->limit, buf, sizeof(buf))));
	json_object_object_add(obj, "min",
			       json_object_new_string(sl_qlimit_fmt(&r->min, buf, sizeof(buf))));
	json_object_object_add(obj, "max",
			       json_object_new_string(sl_qlimit_fmt(&r->max, buf, sizeof(buf))));
	json_object_object_add(obj, "probability", json_object_new_double(r->maxp));
	json_object_object_add(obj, "weight", json_object_new_double(r->w));
	json_object_object_add(obj, "ecn", json_object_new_boolean(r->ecn));
	json_object_object_add(obj, "gentle", json_object_new_boolean(r->gentle));
	json_object_object_add(obj, "avg", json_object_new_double(r->avg));
	json_object_object_add(obj, "early", json_object_new_uint64(r->early));
	json_object_object_add(obj, "forced", json_object_new_uint64(r->forced));
	json_object_object_add(obj, "marks", json_object_new_uint64(r->marks));
}

const struct sl_cell_ops sl_cell_red_ops = {
	.type = "red",
	.summary = "Random Early Detection queue, dropping or ECN-marking early",
	.params = params,
	.size = sizeof(struct red_cell),
	.init = red_init,
	.fini = red_fini,
	.enqueue = red_enqueue,
	.dequeue = red_dequeue,
	.peek = red_peek,
	.control = red_control,
	.telemetry = red_telemetry,
};
