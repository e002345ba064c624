// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * trace.c - a link whose capacity replays a mahimahi trace:
 * {"type": "trace", "trace": "/path/ATT-LTE-driving.down", "once": false,
 * "queue": "1000pkt"}.
 *
 * The trace (mahimahi's format: one integer a line, a time in ms from the
 * start, non-decreasing) lists delivery opportunities; each lets
 * "opportunity" bytes (1500) leave, and a time repeated k times is k
 * opportunities in that millisecond. A frame counts its length minus
 * "overhead" (14: the Ethernet header, which a mahimahi link does not
 * carry), so one full-size frame uses one opportunity. A packet larger
 * than what is left of an opportunity takes the rest and continues in
 * the next ones, leaving at the opportunity where its last byte goes; an
 * opportunity finding the queue empty is lost, as in mahimahi. Time 0 of
 * the trace is the arrival of the first packet; at its end the trace
 * starts again, shifted by its last timestamp (mahimahi's wrap-around),
 * or with "once" the link delivers nothing more.
 *
 * Packets wait in a child queue cell exactly as under rate (any queue
 * cell: drop-tail, drop-head, RED, CoDel, PIE, a scheduler), which is
 * asked for its head at the current opportunity.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

#define DEFAULT_QUEUE "1000pkt"

struct trace_cell {
	struct sl_cell cell;
	struct sl_cell *queue;
	char *path;
	uint32_t *ms; /* opportunity times within one period */
	uint64_t n;
	uint64_t period; /* ms: the last timestamp */
	bool once;
	uint64_t opp_bytes, overhead;
	bool started;
	uint64_t base; /* ns: time 0 of the trace */
	uint64_t k;    /* current opportunity, counted over all periods */
	uint64_t budget;	 /* bytes left in opportunity k */
	const struct sl_pkt *head; /* the packet head_left belongs to */
	uint64_t head_left;
};

static inline struct trace_cell *to_trace(struct sl_cell *c)
{
	return (struct trace_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "trace", "file", NULL, "mahimahi trace: one ms timestamp per delivery opportunity a line" },
	{ "once", "boolean", "false", "play the trace once, then deliver nothing; otherwise it wraps around" },
	{ "queue", "cell", "1000pkt", "where packets wait: a size or a queue cell object, as for rate" },
	{ "opportunity", "size", "1500b", "bytes one opportunity delivers" },
	{ "overhead", "size", "14b", "bytes of each frame the trace does not count (the Ethernet header)" },
	{ NULL, NULL, NULL, NULL },
};

struct loader {
	uint32_t *ms;
	uint64_t n, cap, last;
};

static int load_line(void *ctx, unsigned lineno, char **f, unsigned n,
		     struct sl_err *err)
{
	struct loader *ld = ctx;
	unsigned long long v;
	char *end;

	if (n != 1)
		return sl_err_set(err, EINVAL,
				  "expected one timestamp in ms a line, got %u fields", n);
	errno = 0;
	v = strtoull(f[0], &end, 10);
	if (*end || errno || f[0][0] == '-' || v > UINT32_MAX)
		return sl_err_set(err, EINVAL,
				  "\"%s\" is not a timestamp; expected whole milliseconds", f[0]);
	if (v < ld->last)
		return sl_err_set(err, EINVAL,
				  "%llu is before the line above (%llu); timestamps must not decrease",
				  v, (unsigned long long)ld->last);
	if (ld->n == ld->cap) {
		uint64_t cap = ld->cap ? 2 * ld->cap : 4096;
		uint32_t *ms = realloc(ld->ms, cap * sizeof(*ms));

		if (!ms)
			return sl_err_set(err, ENOMEM, "out of memory");
		ld->ms = ms;
		ld->cap = cap;
	}
	ld->ms[ld->n++] = (uint32_t)v;
	ld->last = v;
	return 0;
}

static int load(const char *path, struct loader *ld, struct sl_err *err)
{
	int ret;

	memset(ld, 0, sizeof(*ld));
	ret = sl_trace_read(path, load_line, ld, err);
	if (!ret && !ld->n)
		ret = sl_err_set(err, EINVAL, "%s: no timestamps", path);
	else if (!ret && !ld->last)
		ret = sl_err_set(err, EINVAL,
				 "%s: the last timestamp is 0; the trace must last at least 1 ms",
				 path);
	if (ret) {
		free(ld->ms);
		ld->ms = NULL;
	}
	return ret;
}

static void set_trace(struct trace_cell *tc, struct loader *ld, char *path)
{
	free(tc->ms);
	free(tc->path);
	tc->ms = ld->ms;
	tc->n = ld->n;
	tc->period = ld->last;
	tc->path = path;
	tc->started = false;
	tc->k = 0;
	tc->budget = tc->opp_bytes;
	tc->head = NULL;
}

static int trace_read(struct json_object *cfg, struct trace_cell *tc,
		      struct sl_err *err)
{
	int ret;

	if ((ret = sl_cfg_bool(cfg, "once", &tc->once, err)) < 0 ||
	    (ret = sl_cfg_bytes(cfg, "opportunity", &tc->opp_bytes, err)) < 0)
		return ret;
	/* overhead may be 0, which sl_cfg_bytes refuses */
	if (json_object_object_get_ex(cfg, "overhead", NULL)) {
		struct json_object *v = json_object_object_get(cfg, "overhead");

		if (json_object_is_type(v, json_type_int) && !json_object_get_int64(v))
			tc->overhead = 0;
		else if ((ret = sl_cfg_bytes(cfg, "overhead", &tc->overhead, err)) < 0)
			return ret;
	}
	if (tc->opp_bytes > 1u << 20)
		return sl_err_set(err, EINVAL, "opportunity: %llu bytes is more than 1mb",
				  (unsigned long long)tc->opp_bytes);
	return 0;
}

static int trace_init(struct sl_cell *c, struct json_object *cfg,
		      struct sl_err *err)
{
	struct trace_cell *tc = to_trace(c);
	struct json_object *qcfg, *dflt = NULL;
	const char *path = NULL;
	struct loader ld;
	char *copy;
	int ret;

	tc->opp_bytes = 1500;
	tc->overhead = 14;
	ret = trace_read(cfg, tc, err);
	if (ret)
		return ret;
	ret = sl_cfg_string(cfg, "trace", &path, err);
	if (ret < 0)
		return ret;
	if (!ret)
		return sl_err_set(err, EINVAL,
				  "trace: missing; expected the path of a mahimahi trace file");
	ret = load(path, &ld, err);
	if (ret) {
		sl_err_prefix(err, "trace");
		return ret;
	}
	copy = strdup(path);
	if (!copy) {
		free(ld.ms);
		return sl_err_set(err, ENOMEM, "out of memory");
	}
	set_trace(tc, &ld, copy);
	if (!json_object_object_get_ex(cfg, "queue", &qcfg)) {
		dflt = json_object_new_string(DEFAULT_QUEUE);
		if (!dflt)
			return sl_err_set(err, ENOMEM, "out of memory");
		qcfg = dflt;
	}
	ret = sl_cell_new_child(c, qcfg, "queue", "limit", &tc->queue, err);
	json_object_put(dflt);
	if (!ret && !tc->queue->ops->peek)
		ret = sl_err_set(err, EINVAL,
				 "a %s cell cannot queue for a link; expected a queue cell such as {\"type\": \"queue\", \"limit\": \"100pkt\"}",
				 tc->queue->ops->type);
	if (ret)
		sl_err_prefix(err, "queue");
	return ret;
}

static void trace_fini(struct sl_cell *c)
{
	struct trace_cell *tc = to_trace(c);

	sl_cell_free(tc->queue);
	free(tc->ms);
	free(tc->path);
}

static void trace_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct trace_cell *tc = to_trace(c);

	if (!tc->started) {
		tc->started = true;
		tc->base = now;
	}
	sl_cell_child_enqueue(tc->queue, p, now);
}

/* Time of opportunity k (ns); SL_TIME_NEVER past the end with once. */
static uint64_t opp_time(const struct trace_cell *tc, uint64_t k)
{
	uint64_t loop = k / tc->n;

	if (tc->once && loop)
		return SL_TIME_NEVER;
	return tc->base + (loop * tc->period + tc->ms[k % tc->n]) * SL_NSEC_PER_MSEC;
}

/* Moves k to the first opportunity at or after t (never back). */
static void skip_to(struct trace_cell *tc, uint64_t t)
{
	uint64_t rel, ms, loop, r, lo, hi, k;

	if (opp_time(tc, tc->k) >= t)
		return;
	rel = t - tc->base;
	ms = (rel + SL_NSEC_PER_MSEC - 1) / SL_NSEC_PER_MSEC;
	loop = ms / tc->period;
	r = ms - loop * tc->period;
	for (lo = 0, hi = tc->n; lo < hi;) { /* first ms[i] >= r */
		uint64_t mid = (lo + hi) / 2;

		if (tc->ms[mid] < r)
			lo = mid + 1;
		else
			hi = mid;
	}
	k = loop * tc->n + lo;
	if (k > tc->k) {
		tc->k = k;
		tc->budget = tc->opp_bytes;
	}
}

static inline uint64_t cost(const struct trace_cell *tc, const struct sl_pkt *p)
{
	return p->len > tc->overhead ? p->len - tc->overhead : 0;
}

static struct sl_pkt *trace_dequeue(struct sl_cell *c, uint64_t now,
				    uint64_t *next)
{
	struct trace_cell *tc = to_trace(c);
	struct sl_pkt *p;
	uint64_t t;

	for (;;) {
		t = opp_time(tc, tc->k);
		p = t == SL_TIME_NEVER ? NULL : sl_cell_child_peek(tc->queue, t);
		if (!p) {
			*next = SL_TIME_NEVER;
			return NULL;
		}
		if (p != tc->head) {
			tc->head = p;
			tc->head_left = cost(tc, p);
			/* an opportunity before it came is not its own */
			skip_to(tc, p->ts_enqueue);
		}
		t = opp_time(tc, tc->k);
		if (t > now) {
			*next = t;
			return NULL;
		}
		if (tc->head_left <= tc->budget) {
			tc->budget -= tc->head_left;
			p = sl_cell_child_dequeue(tc->queue, t);
			tc->head = NULL;
			if (!tc->budget) {
				tc->k++;
				tc->budget = tc->opp_bytes;
			}
			p->ts_depart = t;
			return p;
		}
		tc->head_left -= tc->budget;
		tc->k++;
		tc->budget = tc->opp_bytes;
	}
}

static int trace_control(struct sl_cell *c, struct json_object *cfg,
			 uint64_t now, struct sl_err *err)
{
	struct trace_cell *tc = to_trace(c), tmp = *tc;
	struct json_object *qcfg, *obj;
	struct loader ld = { 0 };
	const char *path = NULL;
	char *copy = NULL;
	int ret = trace_read(cfg, &tmp, err);

	if (ret)
		return ret;
	ret = sl_cfg_string(cfg, "trace", &path, err);
	if (ret < 0)
		return ret;
	if (ret) {
		ret = load(path, &ld, err);
		if (ret) {
			sl_err_prefix(err, "trace");
			return ret;
		}
		copy = strdup(path);
		if (!copy) {
			free(ld.ms);
			return sl_err_set(err, ENOMEM, "out of memory");
		}
	}
	if (json_object_object_get_ex(cfg, "queue", &qcfg)) {
		if (json_object_is_type(qcfg, json_type_object)) {
			ret = sl_cell_control(tc->queue, qcfg, now, err);
		} else {
			obj = json_object_new_object();
			if (!obj) {
				ret = sl_err_set(err, ENOMEM, "out of memory");
				goto out;
			}
			json_object_object_add(obj, "limit", json_object_get(qcfg));
			ret = sl_cell_control(tc->queue, obj, now, err);
			json_object_put(obj);
			if (ret && err && !strncmp(err->msg, "limit: ", 7))
				memmove(err->msg, err->msg + 7, strlen(err->msg + 7) + 1);
		}
		if (ret) {
			sl_err_prefix(err, "queue");
			goto out;
		}
	}
	tc->once = tmp.once;
	tc->opp_bytes = tmp.opp_bytes;
	tc->overhead = tmp.overhead;
	if (tc->budget > tc->opp_bytes)
		tc->budget = tc->opp_bytes;
	if (copy) { /* a new trace starts now */
		set_trace(tc, &ld, copy);
		tc->started = true;
		tc->base = now;
		copy = NULL;
		ld.ms = NULL;
	} else if (tc->started) {
		/* opportunities before the change are gone (once -> wrap) */
		skip_to(tc, now);
	}
out:
	free(copy);
	free(ld.ms);
	return ret;
}

static void trace_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct trace_cell *tc = (const struct trace_cell *)c;

	json_object_object_add(obj, "trace", json_object_new_string(tc->path));
	json_object_object_add(obj, "opportunities", json_object_new_uint64(tc->n));
	json_object_object_add(obj, "period_ms", json_object_new_uint64(tc->period));
	json_object_object_add(obj, "mean_rate_bps",
			       json_object_new_uint64(tc->n * tc->opp_bytes * 8 * 1000 / tc->period));
	json_object_object_add(obj, "once", json_object_new_boolean(tc->once));
	json_object_object_add(obj, "loops", json_object_new_uint64(tc->k / tc->n));
	json_object_object_add(obj, "position", json_object_new_uint64(tc->k % tc->n));
	json_object_object_add(obj, "done",
			       json_object_new_boolean(tc->once && tc->k >= tc->n));
	json_object_object_add(obj, "opportunity_bytes", json_object_new_uint64(tc->opp_bytes));
	json_object_object_add(obj, "overhead_bytes", json_object_new_uint64(tc->overhead));
	json_object_object_add(obj, "queue", sl_cell_telemetry(tc->queue));
}

const struct sl_cell_ops sl_cell_trace_ops = {
	.type = "trace",
	.summary = "link whose capacity replays a mahimahi trace (one 1500-byte opportunity per line), with a queue",
	.params = params,
	.size = sizeof(struct trace_cell),
	.init = trace_init,
	.fini = trace_fini,
	.enqueue = trace_enqueue,
	.dequeue = trace_dequeue,
	.control = trace_control,
	.telemetry = trace_telemetry,
};
