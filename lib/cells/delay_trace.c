// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * delay_trace.c - a delay that changes over time as a file says:
 * {"type": "delay_trace", "trace": "/path/rtt.trace", "once": false}.
 *
 * The file lists steps, one a line: "DURATION_MS DELAY_MS" (decimals
 * allowed), e.g.
 *     1000 20      # 20 ms for the first second
 *     500  80.5    # then 80.5 ms for half a second
 * The trace starts with the first packet and repeats when it ends (with
 * "once", the last delay stays). A packet arriving at t leaves at
 * max(t + delay(t), the previous departure): order is kept, so a falling
 * delay makes packets bunch up rather than overtake, as on a path whose
 * delay changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

struct step {
	uint64_t end; /* ns from the start of the trace where it ends */
	uint64_t delay;
};

struct dtrace_cell {
	struct sl_cell cell;
	struct sl_dline line;
	struct step *steps;
	uint64_t n, period;
	char *path;
	bool once, started;
	uint64_t base, cur; /* cur: the delay in force at the last arrival */
	struct sl_qlimit limit;
};

static inline struct dtrace_cell *to_dtrace(struct sl_cell *c)
{
	return (struct dtrace_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "trace", "file", NULL, "steps of the delay, one a line: DURATION_MS DELAY_MS" },
	{ "once", "boolean", "false", "play the trace once and keep its last delay; otherwise it repeats" },
	{ "limit", "queue", "unlimited", "packets (or bytes) in flight; more are dropped (queue)" },
	{ NULL, NULL, NULL, NULL },
};

struct dloader {
	struct step *s;
	uint64_t n, cap, t;
};

static int dload_line(void *ctx, unsigned lineno, char **f, unsigned n,
		      struct sl_err *err)
{
	struct dloader *ld = ctx;
	uint64_t dur, delay;

	if (n != 2)
		return sl_err_set(err, EINVAL,
				  "expected two numbers, DURATION_MS DELAY_MS, got %u fields", n);
	if (sl_trace_ms(f[0], &dur) || !dur)
		return sl_err_set(err, EINVAL,
				  "\"%s\" is not a duration; expected milliseconds above 0 such as 1000 or 2.5",
				  f[0]);
	if (sl_trace_ms(f[1], &delay))
		return sl_err_set(err, EINVAL,
				  "\"%s\" is not a delay; expected milliseconds such as 20 or 0.5", f[1]);
	if (ld->n == ld->cap) {
		uint64_t cap = ld->cap ? 2 * ld->cap : 256;
		struct step *s = realloc(ld->s, cap * sizeof(*s));

		if (!s)
			return sl_err_set(err, ENOMEM, "out of memory");
		ld->s = s;
		ld->cap = cap;
	}
	ld->t += dur;
	ld->s[ld->n].end = ld->t;
	ld->s[ld->n++].delay = delay;
	return 0;
}

static int dload(const char *path, struct dloader *ld, struct sl_err *err)
{
	int ret;

	memset(ld, 0, sizeof(*ld));
	ret = sl_trace_read(path, dload_line, ld, err);
	if (!ret && !ld->n)
		ret = sl_err_set(err, EINVAL, "%s: no steps", path);
	if (ret) {
		free(ld->s);
		ld->s = NULL;
		sl_err_prefix(err, "trace");
	}
	return ret;
}

/* Replaces the trace; it starts again at the next packet. */
static int set_file(struct dtrace_cell *dc, const char *path, struct sl_err *err)
{
	struct dloader ld;
	char *copy;
	int ret = dload(path, &ld, err);

	if (ret)
		return ret;
	copy = strdup(path);
	if (!copy) {
		free(ld.s);
		return sl_err_set(err, ENOMEM, "out of memory");
	}
	free(dc->steps);
	free(dc->path);
	dc->steps = ld.s;
	dc->n = ld.n;
	dc->period = ld.t;
	dc->path = copy;
	dc->started = false;
	dc->cur = ld.s[0].delay;
	return 0;
}

static int dtrace_init(struct sl_cell *c, struct json_object *cfg,
		       struct sl_err *err)
{
	struct dtrace_cell *dc = to_dtrace(c);
	const char *path = NULL;
	int ret;

	sl_dline_init(&dc->line);
	if ((ret = sl_cfg_bool(cfg, "once", &dc->once, err)) < 0 ||
	    (ret = sl_cfg_qlimit(cfg, "limit", &dc->limit, err)) < 0 ||
	    (ret = sl_cfg_string(cfg, "trace", &path, err)) < 0)
		return ret;
	if (!ret)
		return sl_err_set(err, EINVAL,
				  "trace: missing; expected the path of a delay trace (DURATION_MS DELAY_MS a line)");
	return set_file(dc, path, err);
}

static void dtrace_fini(struct sl_cell *c)
{
	struct dtrace_cell *dc = to_dtrace(c);

	sl_dline_fini(&dc->line, c);
	free(dc->steps);
	free(dc->path);
}

static uint64_t delay_at(const struct dtrace_cell *dc, uint64_t t)
{
	uint64_t rel = t - dc->base, lo = 0, hi = dc->n;

	if (rel >= dc->period) {
		if (dc->once)
			return dc->steps[dc->n - 1].delay;
		rel %= dc->period;
	}
	while (lo < hi) { /* first step ending after rel */
		uint64_t mid = (lo + hi) / 2;

		if (dc->steps[mid].end <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return dc->steps[lo].delay;
}

static void dtrace_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct dtrace_cell *dc = to_dtrace(c);

	if (!dc->started) {
		dc->started = true;
		dc->base = now;
	}
	if (sl_dline_full(&dc->line, &dc->limit, p->len)) {
		sl_cell_drop(c, p, SL_DROP_QUEUE);
		return;
	}
	dc->cur = delay_at(dc, now);
	sl_dline_push(&dc->line, p, now + dc->cur, true);
}

static struct sl_pkt *dtrace_dequeue(struct sl_cell *c, uint64_t now,
				     uint64_t *next)
{
	return sl_dline_pop(&to_dtrace(c)->line, now, next);
}

static int dtrace_control(struct sl_cell *c, struct json_object *cfg,
			  uint64_t now, struct sl_err *err)
{
	struct dtrace_cell *dc = to_dtrace(c);
	struct sl_qlimit limit = dc->limit;
	const char *path = NULL;
	bool once = dc->once;
	int ret;

	if ((ret = sl_cfg_bool(cfg, "once", &once, err)) < 0 ||
	    (ret = sl_cfg_qlimit(cfg, "limit", &limit, err)) < 0 ||
	    (ret = sl_cfg_string(cfg, "trace", &path, err)) < 0)
		return ret;
	if (path) {
		ret = set_file(dc, path, err);
		if (ret)
			return ret;
	}
	dc->once = once;
	dc->limit = limit;
	return 0;
}

static void dtrace_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct dtrace_cell *dc = (const struct dtrace_cell *)c;
	char buf[32];

	json_object_object_add(obj, "trace", json_object_new_string(dc->path));
	json_object_object_add(obj, "steps", json_object_new_uint64(dc->n));
	json_object_object_add(obj, "period_ns", json_object_new_uint64(dc->period));
	json_object_object_add(obj, "once", json_object_new_boolean(dc->once));
	json_object_object_add(obj, "delay_ns", json_object_new_uint64(dc->cur));
	json_object_object_add(obj, "limit",
			       json_object_new_string(sl_qlimit_fmt(&dc->limit, buf, sizeof(buf))));
}

const struct sl_cell_ops sl_cell_delay_trace_ops = {
	.type = "delay_trace",
	.summary = "delay that follows a trace file of (duration, delay) steps, order kept",
	.params = params,
	.size = sizeof(struct dtrace_cell),
	.init = dtrace_init,
	.fini = dtrace_fini,
	.enqueue = dtrace_enqueue,
	.dequeue = dtrace_dequeue,
	.control = dtrace_control,
	.telemetry = dtrace_telemetry,
};
