// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * prio.c - strict priority over flow classes: {"type": "prio",
 * "classes": [{"name": "voice", "match": "proto udp dport 5060"},
 * {"name": "rest"}]}.
 *
 * The first class in the list that has a packet is always served first;
 * a lower class is served only while every class above it is empty, and
 * then gets the whole link. (lib/cells/sched.c has the rest.)
 */
#include <sluice/cellkit.h>

static int prio_pick(struct sl_sched *s, uint64_t now)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (sl_sched_head(s, i, now))
			return (int)i;
	return -1;
}

static const struct sl_sched_policy prio = { .pick = prio_pick };

static int prio_init(struct sl_cell *c, struct json_object *cfg,
		     struct sl_err *err)
{
	return sl_sched_init(c, cfg, &prio, err);
}

static const struct sl_cell_param params[] = {
	{ "classes", "list", "one class",
	  "the classes, highest priority first, each {\"name\", \"class\", \"match\", \"queue\"}" },
	{ "default", "string", "the last class", "the class of packets no class matches" },
	{ NULL, NULL, NULL, NULL },
};

const struct sl_cell_ops sl_cell_prio_ops = {
	.type = "prio",
	.summary = "strict priority over flow classes (first class first)",
	.params = params,
	.size = sizeof(struct sl_sched),
	.init = prio_init,
	.fini = sl_sched_fini,
	.enqueue = sl_sched_enqueue,
	.dequeue = sl_sched_dequeue,
	.peek = sl_sched_peek,
	.control = sl_sched_control,
	.telemetry = sl_sched_telemetry,
};
