// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loss_trace.c - replays a recorded loss pattern, packet by packet:
 * {"type": "loss_trace", "trace": "/path/losses.txt", "once": false}, or
 * the pattern inline: {"type": "loss_trace", "pattern": "0001001"}.
 *
 * The pattern is a sequence of 0 (delivered) and 1 (lost), one entry per
 * packet in arrival order; in a file the digits may be spread over lines
 * and separated by blanks or commas, with '#' comments. At its end the
 * pattern starts again, or with "once" nothing more is lost. A recorded
 * loss trace (from a packet capture or a measurement) thus replays
 * exactly, whatever the seed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

struct ltrace_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	uint8_t *bits; /* one byte per packet: 1 lost */
	uint64_t n, pos, loops;
	char *path;    /* NULL for an inline pattern */
	bool once;
};

static inline struct ltrace_cell *to_ltrace(struct sl_cell *c)
{
	return (struct ltrace_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "trace", "file", NULL, "file of 0 (delivered) and 1 (lost), one per packet (or give pattern)" },
	{ "pattern", "string", NULL, "the same inline, such as \"0001\" (instead of trace)" },
	{ "once", "boolean", "false", "play the pattern once, then lose nothing; otherwise it repeats" },
	{ NULL, NULL, NULL, NULL },
};

struct lloader {
	uint8_t *b;
	uint64_t n, cap;
};

static int add_digits(struct lloader *ld, const char *s, struct sl_err *err)
{
	for (; *s; s++) {
		if (*s != '0' && *s != '1')
			return sl_err_set(err, EINVAL,
					  "'%c' is not 0 or 1; expected 0 (delivered) or 1 (lost) for each packet",
					  *s);
		if (ld->n == ld->cap) {
			uint64_t cap = ld->cap ? 2 * ld->cap : 4096;
			uint8_t *b = realloc(ld->b, cap);

			if (!b)
				return sl_err_set(err, ENOMEM, "out of memory");
			ld->b = b;
			ld->cap = cap;
		}
		ld->b[ld->n++] = (uint8_t)(*s - '0');
	}
	return 0;
}

static int lload_line(void *ctx, unsigned lineno, char **f, unsigned n,
		      struct sl_err *err)
{
	unsigned i;
	int ret;

	for (i = 0; i < n; i++)
		if ((ret = add_digits(ctx, f[i], err)))
			return ret;
	return 0;
}

static int load(struct json_object *cfg, struct ltrace_cell *lc, bool init,
		struct sl_err *err)
{
	const char *path = NULL, *pattern = NULL;
	struct lloader ld = { 0 };
	char *copy = NULL;
	int ret;

	if ((ret = sl_cfg_string(cfg, "trace", &path, err)) < 0 ||
	    (ret = sl_cfg_string(cfg, "pattern", &pattern, err)) < 0)
		return ret;
	if (path && pattern)
		return sl_err_set(err, EINVAL, "trace, pattern: give one of them, not both");
	if (!path && !pattern) {
		if (!init)
			return 0;
		return sl_err_set(err, EINVAL,
				  "trace: missing; expected a file of 0 and 1 (or an inline \"pattern\")");
	}
	if (path) {
		ret = sl_trace_read(path, lload_line, &ld, err);
		if (ret)
			sl_err_prefix(err, "trace");
		else if (!(copy = strdup(path)))
			ret = sl_err_set(err, ENOMEM, "out of memory");
	} else {
		ret = add_digits(&ld, pattern, err);
		if (ret)
			sl_err_prefix(err, "pattern");
	}
	if (!ret && !ld.n)
		ret = sl_err_set(err, EINVAL, "%s: empty; expected at least one 0 or 1",
				 path ? "trace" : "pattern");
	if (ret) {
		free(ld.b);
		free(copy);
		return ret;
	}
	free(lc->bits);
	free(lc->path);
	lc->bits = ld.b;
	lc->n = ld.n;
	lc->path = copy;
	lc->pos = lc->loops = 0;
	return 0;
}

static int ltrace_init(struct sl_cell *c, struct json_object *cfg,
		       struct sl_err *err)
{
	struct ltrace_cell *lc = to_ltrace(c);
	int ret;

	sl_pktq_init(&lc->q);
	ret = sl_cfg_bool(cfg, "once", &lc->once, err);
	if (ret < 0)
		return ret;
	return load(cfg, lc, true, err);
}

static void ltrace_fini(struct sl_cell *c)
{
	struct ltrace_cell *lc = to_ltrace(c);

	sl_pass_flush(c, &lc->q);
	free(lc->bits);
	free(lc->path);
}

static void ltrace_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct ltrace_cell *lc = to_ltrace(c);
	bool lost = false;

	if (!lc->once || !lc->loops) {
		lost = lc->bits[lc->pos];
		if (++lc->pos == lc->n) {
			lc->pos = 0;
			lc->loops++;
		}
	}
	if (lost)
		sl_cell_drop(c, p, SL_DROP_LOSS);
	else
		sl_pktq_push(&lc->q, p);
}

static struct sl_pkt *ltrace_dequeue(struct sl_cell *c, uint64_t now,
				     uint64_t *next)
{
	return sl_pass_dequeue(&to_ltrace(c)->q, next);
}

/* A new trace or pattern starts from its first entry. */
static int ltrace_control(struct sl_cell *c, struct json_object *cfg,
			  uint64_t now, struct sl_err *err)
{
	struct ltrace_cell *lc = to_ltrace(c);
	bool once = lc->once;
	int ret = sl_cfg_bool(cfg, "once", &once, err);

	if (ret < 0)
		return ret;
	ret = load(cfg, lc, false, err);
	if (ret)
		return ret;
	lc->once = once;
	return 0;
}

static void ltrace_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct ltrace_cell *lc = (const struct ltrace_cell *)c;

	json_object_object_add(obj, "trace",
			       lc->path ? json_object_new_string(lc->path) : NULL);
	json_object_object_add(obj, "length", json_object_new_uint64(lc->n));
	json_object_object_add(obj, "position", json_object_new_uint64(lc->pos));
	json_object_object_add(obj, "loops", json_object_new_uint64(lc->loops));
	json_object_object_add(obj, "once", json_object_new_boolean(lc->once));
}

const struct sl_cell_ops sl_cell_loss_trace_ops = {
	.type = "loss_trace",
	.summary = "replays a per-packet loss pattern (0 delivered, 1 lost) from a file or inline",
	.params = params,
	.size = sizeof(struct ltrace_cell),
	.init = ltrace_init,
	.fini = ltrace_fini,
	.enqueue = ltrace_enqueue,
	.dequeue = ltrace_dequeue,
	.control = ltrace_control,
	.telemetry = ltrace_telemetry,
};
