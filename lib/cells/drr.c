// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * drr.c - deficit round robin over flow classes (Shreedhar and Varghese,
 * 1995): {"type": "drr", "classes": [{"quantum": "3028b"},
 * {"quantum": "1514b"}]}.
 *
 * Classes take turns in list order. A class's turn adds its quantum
 * (bytes, default 1514) to its deficit; it sends head packets while the
 * deficit covers them, and keeps the rest of the deficit for its next
 * turn. An empty class loses its deficit. Under saturation each class
 * gets quantum / sum(quanta) of the bytes, whatever its packet sizes.
 * (lib/cells/sched.c has the rest.)
 */
#include <sluice/cellkit.h>

static int drr_pick(struct sl_sched *s, uint64_t now)
{
	/* a packet of up to 64 KiB needs at most 65536 turns of a 1-byte
	 * quantum: the loop always ends */
	unsigned long rounds, empties = 0, limit = (unsigned long)s->n * 65536;
	struct sl_sched_class *k;
	struct sl_pkt *h;

	for (rounds = 0; rounds < limit; rounds++) {
		k = &s->cls[s->cur];
		h = sl_sched_head(s, s->cur, now);
		if (!h) {
			k->deficit = 0;
			k->visited = false;
			s->cur = (s->cur + 1) % s->n;
			if (++empties >= s->n)
				return -1;
			continue;
		}
		empties = 0;
		if (!k->visited) {
			k->deficit += (int64_t)k->quantum;
			k->visited = true;
		}
		if (k->deficit >= (int64_t)h->len)
			return (int)s->cur;
		k->visited = false;
		s->cur = (s->cur + 1) % s->n;
	}
	return -1;
}

static void drr_served(struct sl_sched *s, unsigned i, const struct sl_pkt *p)
{
	struct sl_sched_class *k = &s->cls[i];

	k->deficit -= p->len;
	if (!k->queue->st.qlen_pkts) {
		k->deficit = 0;
		k->visited = false;
		s->cur = (i + 1) % s->n;
	}
}

static const char *const drr_keys[] = { "quantum", NULL };
static const struct sl_sched_policy drr = {
	.class_keys = drr_keys,
	.pick = drr_pick,
	.served = drr_served,
};

static int drr_init(struct sl_cell *c, struct json_object *cfg,
		    struct sl_err *err)
{
	return sl_sched_init(c, cfg, &drr, err);
}

static const struct sl_cell_param params[] = {
	{ "classes", "list", "one class",
	  "the classes in round order, each {\"name\", \"class\", \"match\", \"queue\", \"quantum\" (bytes per turn, default 1514b)}" },
	{ "default", "string", "the last class", "the class of packets no class matches" },
	{ NULL, NULL, NULL, NULL },
};

const struct sl_cell_ops sl_cell_drr_ops = {
	.type = "drr",
	.summary = "deficit round robin over flow classes (quanta in bytes)",
	.params = params,
	.size = sizeof(struct sl_sched),
	.init = drr_init,
	.fini = sl_sched_fini,
	.enqueue = sl_sched_enqueue,
	.dequeue = sl_sched_dequeue,
	.peek = sl_sched_peek,
	.control = sl_sched_control,
	.telemetry = sl_sched_telemetry,
};
