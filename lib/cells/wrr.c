// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * wrr.c - weighted round robin over flow classes: {"type": "wrr",
 * "classes": [{"weight": 3, "match": "proto tcp"}, {"weight": 1}]}.
 *
 * Classes take turns in list order; in its turn a class sends up to
 * "weight" packets (default 1), and an empty class loses its turn. Under
 * saturation each class gets weight / sum(weights) of the packets, so
 * with packets of one size the same share of the bytes (use drr for
 * shares of bytes with mixed sizes). (lib/cells/sched.c has the rest.)
 */
#include <sluice/cellkit.h>

static int wrr_pick(struct sl_sched *s, uint64_t now)
{
	unsigned k, i;

	if (s->credit && sl_sched_head(s, s->cur, now))
		return (int)s->cur;
	for (k = 1; k <= s->n; k++) {
		i = (s->cur + k) % s->n;
		if (sl_sched_head(s, i, now)) {
			s->cur = i;
			s->credit = s->cls[i].weight;
			return (int)i;
		}
	}
	return -1;
}

static void wrr_served(struct sl_sched *s, unsigned i, const struct sl_pkt *p)
{
	if (s->credit)
		s->credit--;
}

static const char *const wrr_keys[] = { "weight", NULL };
static const struct sl_sched_policy wrr = {
	.class_keys = wrr_keys,
	.pick = wrr_pick,
	.served = wrr_served,
};

static int wrr_init(struct sl_cell *c, struct json_object *cfg,
		    struct sl_err *err)
{
	int ret = sl_sched_init(c, cfg, &wrr, err);
	struct sl_sched *s = (struct sl_sched *)c;

	/* the first pick starts the round at class 0 */
	if (!ret)
		s->cur = s->n - 1;
	return ret;
}

static const struct sl_cell_param params[] = {
	{ "classes", "list", "one class",
	  "the classes in round order, each {\"name\", \"class\", \"match\", \"queue\", \"weight\" (packets per turn, default 1)}" },
	{ "default", "string", "the last class", "the class of packets no class matches" },
	{ NULL, NULL, NULL, NULL },
};

const struct sl_cell_ops sl_cell_wrr_ops = {
	.type = "wrr",
	.summary = "weighted round robin over flow classes (weights in packets)",
	.params = params,
	.size = sizeof(struct sl_sched),
	.init = wrr_init,
	.fini = sl_sched_fini,
	.enqueue = sl_sched_enqueue,
	.dequeue = sl_sched_dequeue,
	.peek = sl_sched_peek,
	.control = sl_sched_control,
	.telemetry = sl_sched_telemetry,
};
