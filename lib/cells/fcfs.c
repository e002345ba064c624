// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fcfs.c - first come, first served over flow classes: {"type": "fcfs",
 * "classes": [{"match": "proto udp", "queue": "50pkt"}, {}]}.
 *
 * Packets leave in the order they arrived, whatever their class; the
 * classes only give each its own queue limit (and counters), so that one
 * class filling its queue does not take the room of another. Packets that
 * arrived in the same nanosecond leave in class order. Without "classes"
 * it is one drop-tail queue. (lib/cells/sched.c has the rest.)
 */
#include <sluice/cellkit.h>

static int fcfs_pick(struct sl_sched *s, uint64_t now)
{
	struct sl_pkt *p, *best = NULL;
	int i, pick = -1;

	for (i = 0; i < (int)s->n; i++) {
		p = sl_sched_head(s, (unsigned)i, now);
		if (p && (!best || p->ts_enqueue < best->ts_enqueue)) {
			best = p;
			pick = i;
		}
	}
	return pick;
}

static const struct sl_sched_policy fcfs = { .pick = fcfs_pick };

static int fcfs_init(struct sl_cell *c, struct json_object *cfg,
		     struct sl_err *err)
{
	return sl_sched_init(c, cfg, &fcfs, err);
}

static const struct sl_cell_param params[] = {
	{ "classes", "list", "one class",
	  "the classes, each {\"name\", \"class\" (flow-table class), \"match\" (flow spec: proto, src, dst, sport, dport), \"queue\" (default 1000pkt)}" },
	{ "default", "string", "the last class", "the class of packets no class matches" },
	{ NULL, NULL, NULL, NULL },
};

const struct sl_cell_ops sl_cell_fcfs_ops = {
	.type = "fcfs",
	.summary = "first come, first served over flow classes, each class with its own queue limit",
	.params = params,
	.size = sizeof(struct sl_sched),
	.init = fcfs_init,
	.fini = sl_sched_fini,
	.enqueue = sl_sched_enqueue,
	.dequeue = sl_sched_dequeue,
	.peek = sl_sched_peek,
	.control = sl_sched_control,
	.telemetry = sl_sched_telemetry,
};
