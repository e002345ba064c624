// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cellbench.c - CPU cost per packet of the cell engine, without a wire.
 *
 *   cellbench [policy-json [packets]]
 *
 * Feeds packets of 1500 bytes, 64 per batch, one every 100 ns of virtual
 * time, through a channel driven by a timing wheel the way a dataplane
 * thread drives it (enqueue a batch, pop due timers, dequeue), and prints
 * the wall-clock nanoseconds per packet. The default policy is a rate and
 * delay chain fast enough to carry the load (nothing queues but the
 * delay line). Descriptors are recycled from a free list, so the loop
 * allocates nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sluice/cell.h>

#define POOL 65536
#define BATCH 64
#define GAP_NS 100

struct pool {
	struct sl_pkt pkts[POOL];
	struct sl_pkt *free;
	unsigned long dropped;
};

static void recycle(struct pool *pl, struct sl_pkt *p)
{
	p->next = pl->free;
	pl->free = p;
}

static void on_drop(struct sl_pkt *p, enum sl_drop_reason why, void *ctx)
{
	struct pool *pl = ctx;

	pl->dropped++;
	recycle(pl, p);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SL_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *policy = argc > 1 ? argv[1] :
		"{\"rate\": \"200gbit\", \"delay\": \"1ms\"}";
	unsigned long total = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000000;
	struct pool *pl = calloc(1, sizeof(*pl));
	struct sl_cell_env env = { .drop = on_drop };
	unsigned long sent = 0, out = 0;
	struct sl_pkt *batch[BATCH];
	struct sl_channel *ch = NULL;
	struct sl_err err = { "" };
	struct sl_wheel *w;
	struct sl_timer *t;
	uint64_t now = 0, t0, t1;
	unsigned i, n;

	if (!pl || sl_channel_from_policy(policy, 1, &ch, &err)) {
		fprintf(stderr, "cellbench: %s\n", pl ? err.msg : "out of memory");
		return 1;
	}
	env.ctx = pl;
	sl_channel_set_env(ch, &env);
	for (i = 0; i < POOL; i++)
		recycle(pl, &pl->pkts[i]);
	w = sl_wheel_new(0);
	sl_channel_attach(ch, w);

	t0 = wall_ns();
	while (sent < total) {
		for (i = 0; i < BATCH && pl->free; i++, sent++) {
			struct sl_pkt *p = pl->free;

			pl->free = p->next;
			p->len = 1500;
			sl_channel_enqueue(ch, p, now);
		}
		now += BATCH * GAP_NS;
		while ((t = sl_wheel_expire(w, now)))
			while ((n = sl_channel_dequeue(t->data, now, batch, BATCH)))
				for (i = 0; i < n; i++, out++)
					recycle(pl, batch[i]);
	}
	t1 = wall_ns();
	printf("%s: %lu packets in, %lu out, %lu dropped, %.1f ns/packet, %.2f Mpps\n",
	       policy, sent, out, pl->dropped, (double)(t1 - t0) / (double)sent,
	       (double)sent * 1e3 / (double)(t1 - t0));
	sl_channel_free(ch);
	sl_wheel_free(w);
	free(pl);
	return 0;
}
