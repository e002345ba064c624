// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * codel.c - CoDel, Controlled Delay (RFC 8289): {"type": "codel",
 * "target": "5ms", "interval": "100ms", "limit": "1000pkt", "ecn": false}.
 *
 * CoDel watches the sojourn time of the packet at the head when it is
 * dequeued. Once the sojourn has stayed above target for a whole interval
 * (and more than one packet is queued), it enters the dropping state:
 * it drops the head, then drops again at intervals of
 * interval / sqrt(count), count the drops of this episode, until the
 * sojourn falls below target. Re-entering soon after leaving resumes near
 * the previous count, as the RFC's pseudocode does. With ecn, an
 * ECN-capable head is marked CE instead of dropped (and delivered).
 *
 * CoDel drops at dequeue, so it decides in peek and keeps the survivor at
 * the head for the dequeue that follows (include/sluice/cell.h). It
 * decides at max(the time its parent can serve, the head's arrival), never
 * at the dataplane's polling time: decisions depend on the packets' times
 * only. The queue is drop-tail at limit.
 */
#include <errno.h>
#include <math.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>
#include <sluice/units.h>

struct codel_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	struct sl_qlimit limit;
	uint64_t target, interval;
	bool ecn;
	/* RFC 8289 state */
	uint64_t first_above; /* 0: sojourn below target */
	uint64_t drop_next;
	uint32_t count, lastcount;
	bool dropping;
	uint32_t maxpacket;
	struct sl_pkt *decided; /* the head, already judged at t_dec */
	uint64_t t_dec;
	uint64_t ldelay; /* sojourn of the last head judged */
	uint64_t marks;
};

static inline struct codel_cell *to_codel(struct sl_cell *c)
{
	return (struct codel_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "target", "time", "5ms", "acceptable standing queue delay" },
	{ "interval", "time", "100ms", "how long the delay may stay above target before drops start; about a worst-case RTT" },
	{ "limit", "queue", "1000pkt", "hard limit of the queue (drop-tail beyond it)" },
	{ "ecn", "boolean", "false", "mark ECN-capable packets CE instead of dropping them" },
	{ NULL, NULL, NULL, NULL },
};

static int codel_read(struct json_object *cfg, struct codel_cell *cd,
		      struct sl_err *err)
{
	int ret;

	if ((ret = sl_cfg_time(cfg, "target", &cd->target, err)) < 0 ||
	    (ret = sl_cfg_time(cfg, "interval", &cd->interval, err)) < 0 ||
	    (ret = sl_cfg_qlimit(cfg, "limit", &cd->limit, err)) < 0 ||
	    (ret = sl_cfg_bool(cfg, "ecn", &cd->ecn, err)) < 0)
		return ret;
	if (!cd->interval)
		return sl_err_set(err, EINVAL, "interval: expected more than 0");
	return 0;
}

static int codel_init(struct sl_cell *c, struct json_object *cfg,
		      struct sl_err *err)
{
	struct codel_cell *cd = to_codel(c);

	sl_pktq_init(&cd->q);
	cd->target = 5 * SL_NSEC_PER_MSEC;
	cd->interval = 100 * SL_NSEC_PER_MSEC;
	cd->limit.n = 1000;
	cd->maxpacket = 1514;
	return codel_read(cfg, cd, err);
}

static void codel_fini(struct sl_cell *c)
{
	sl_pass_flush(c, &to_codel(c)->q);
}

static void codel_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct codel_cell *cd = to_codel(c);

	if (sl_qlimit_full(&cd->limit, &cd->q, p->len)) {
		sl_cell_drop(c, p, SL_DROP_QUEUE);
		return;
	}
	if (p->len > cd->maxpacket)
		cd->maxpacket = p->len;
	sl_pktq_push(&cd->q, p);
}

static uint64_t control_law(const struct codel_cell *cd, uint64_t t)
{
	return t + (uint64_t)((double)cd->interval / sqrt((double)cd->count));
}

/* RFC 8289's dodequeue without the removal: is the head, served at t,
 * to be dropped? Updates first_above. */
static bool ok_to_drop(struct codel_cell *cd, const struct sl_pkt *p,
		       uint64_t t)
{
	cd->ldelay = t - p->ts_enqueue;
	if (cd->ldelay < cd->target || cd->q.bytes - p->len <= cd->maxpacket) {
		cd->first_above = 0;
		return false;
	}
	if (!cd->first_above) {
		cd->first_above = t + cd->interval;
		return false;
	}
	return t >= cd->first_above;
}

/* Signals congestion on the head p: true when it was dropped (the next
 * head is then current), false when it was marked and stays. */
static bool signal_head(struct sl_cell *c, struct sl_pkt *p)
{
	struct codel_cell *cd = to_codel(c);

	if (cd->ecn && sl_pkt_mark_ce(p)) {
		cd->marks++;
		return false;
	}
	sl_pktq_pop(&cd->q);
	sl_cell_drop(c, p, SL_DROP_AQM);
	return true;
}

/* The head as the next dequeue at or after t will find it, after the
 * drops CoDel makes at that time. */
static struct sl_pkt *decide(struct sl_cell *c, uint64_t t)
{
	struct codel_cell *cd = to_codel(c);
	struct sl_pkt *p = sl_pktq_peek(&cd->q);
	bool ok;

	if (t < cd->t_dec)
		t = cd->t_dec;
	if (!p) {
		cd->first_above = 0;
		cd->dropping = false;
		return NULL;
	}
	if (t < p->ts_enqueue)
		t = p->ts_enqueue;
	ok = ok_to_drop(cd, p, t);
	if (cd->dropping) {
		if (!ok)
			cd->dropping = false;
		while (cd->dropping && t >= cd->drop_next) {
			cd->count++;
			if (!signal_head(c, p)) {
				cd->drop_next = control_law(cd, cd->drop_next);
				break;
			}
			p = sl_pktq_peek(&cd->q);
			if (!p) {
				cd->dropping = false;
				cd->first_above = 0;
				break;
			}
			if (t < p->ts_enqueue)
				t = p->ts_enqueue;
			if (!ok_to_drop(cd, p, t))
				cd->dropping = false;
			else
				cd->drop_next = control_law(cd, cd->drop_next);
		}
	} else if (ok) {
		uint32_t delta = cd->count - cd->lastcount;

		if (signal_head(c, p)) {
			p = sl_pktq_peek(&cd->q);
			if (p) {
				if (t < p->ts_enqueue)
					t = p->ts_enqueue;
				ok_to_drop(cd, p, t);
			}
		}
		cd->dropping = true;
		/* signed: drop_next may lie ahead of t */
		cd->count = delta > 1 && (int64_t)(t - cd->drop_next) <
						 (int64_t)(16 * cd->interval) ?
				    delta : 1;
		cd->drop_next = control_law(cd, t);
		cd->lastcount = cd->count;
	}
	cd->t_dec = t;
	cd->decided = p;
	return p;
}

static struct sl_pkt *codel_peek(struct sl_cell *c, uint64_t now)
{
	struct codel_cell *cd = to_codel(c);

	if (cd->decided && cd->decided == sl_pktq_peek(&cd->q))
		return cd->decided;
	return decide(c, now);
}

static struct sl_pkt *codel_dequeue(struct sl_cell *c, uint64_t now,
				    uint64_t *next)
{
	struct codel_cell *cd = to_codel(c);
	struct sl_pkt *p = codel_peek(c, now);

	cd->decided = NULL;
	if (!p) {
		*next = SL_TIME_NEVER;
		return NULL;
	}
	sl_pktq_pop(&cd->q);
	/* in push mode it leaves as it came; a parent restamps */
	p->ts_depart = p->ts_enqueue;
	return p;
}

static int codel_control(struct sl_cell *c, struct json_object *cfg,
			 uint64_t now, struct sl_err *err)
{
	struct codel_cell *cd = to_codel(c), tmp = *cd;
	int ret = codel_read(cfg, &tmp, err);

	if (ret)
		return ret;
	cd->target = tmp.target;
	cd->interval = tmp.interval;
	cd->limit = tmp.limit;
	cd->ecn = tmp.ecn;
	return 0;
}

static void codel_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct codel_cell *cd = (const struct codel_cell *)c;
	char buf[32];

	json_object_object_add(obj, "target_ns", json_object_new_uint64(cd->target));
	json_object_object_add(obj, "interval_ns", json_object_new_uint64(cd->interval));
	json_object_object_add(obj, "limit",
			       json_object_new_string(sl_qlimit_fmt(&cd->limit, buf, sizeof(buf))));
	json_object_object_add(obj, "ecn", json_object_new_boolean(cd->ecn));
	json_object_object_add(obj, "dropping", json_object_new_boolean(cd->dropping));
	json_object_object_add(obj, "count", json_object_new_uint64(cd->count));
	json_object_object_add(obj, "ldelay_ns", json_object_new_uint64(cd->ldelay));
	json_object_object_add(obj, "marks", json_object_new_uint64(cd->marks));
}

const struct sl_cell_ops sl_cell_codel_ops = {
	.type = "codel",
	.summary = "CoDel queue (RFC 8289): drops or marks at dequeue to keep the standing delay at target",
	.params = params,
	.size = sizeof(struct codel_cell),
	.init = codel_init,
	.fini = codel_fini,
	.enqueue = codel_enqueue,
	.dequeue = codel_dequeue,
	.peek = codel_peek,
	.control = codel_control,
	.telemetry = codel_telemetry,
};
