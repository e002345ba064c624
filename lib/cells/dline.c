// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dline.c - the delay line shared by the delay, reorder and delay-trace
 * cells (include/sluice/cellkit.h): packets leave at per-packet times,
 * either kept in arrival order or sorted by their own time.
 *
 * In-order packets sit in a FIFO whose departures never decrease (each
 * gets max(its time, the latest so far)), which is O(1) and is what a
 * delay without reordering needs. Out-of-order packets go to a binary
 * min-heap on (time, push sequence), so equal times leave in push order
 * and a run is reproducible (at equal times the heap goes first: its
 * packet was pushed out of order before the in-order one caught up with
 * it). The heap array grows by doubling and is
 * never shrunk: after warm-up nothing allocates per packet. If it cannot
 * grow, the packet goes in order instead of being lost.
 */
#include <stdlib.h>

#include <sluice/cellkit.h>

void sl_dline_init(struct sl_dline *dl)
{
	sl_pktq_init(&dl->fifo);
	dl->heap = NULL;
	dl->n_heap = dl->cap_heap = 0;
	dl->heap_bytes = 0;
	dl->seq = 0;
	dl->last = 0;
}

void sl_dline_fini(struct sl_dline *dl, struct sl_cell *c)
{
	struct sl_pkt *p;
	uint32_t i;

	while ((p = sl_pktq_pop(&dl->fifo)))
		sl_cell_drop(c, p, SL_DROP_FLUSH);
	for (i = 0; i < dl->n_heap; i++)
		sl_cell_drop(c, dl->heap[i].p, SL_DROP_FLUSH);
	free(dl->heap);
	dl->heap = NULL;
	dl->n_heap = dl->cap_heap = 0;
	dl->heap_bytes = 0;
}

static inline bool before(const struct sl_dline_slot *a,
			  const struct sl_dline_slot *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static bool heap_push(struct sl_dline *dl, struct sl_pkt *p, uint64_t t)
{
	struct sl_dline_slot s = { t, dl->seq++, p }, *h;
	uint32_t i, up;

	if (dl->n_heap == dl->cap_heap) {
		uint32_t cap = dl->cap_heap ? dl->cap_heap * 2 : 64;

		if (cap < dl->cap_heap)
			return false;
		h = realloc(dl->heap, cap * sizeof(*h));
		if (!h)
			return false;
		dl->heap = h;
		dl->cap_heap = cap;
	}
	p->next = NULL;
	dl->heap_bytes += p->len;
	h = dl->heap;
	for (i = dl->n_heap++; i; i = up) {
		up = (i - 1) / 2;
		if (!before(&s, &h[up]))
			break;
		h[i] = h[up];
	}
	h[i] = s;
	return true;
}

static struct sl_pkt *heap_pop(struct sl_dline *dl)
{
	struct sl_dline_slot *h = dl->heap, last;
	struct sl_pkt *p = h[0].p;
	uint32_t i = 0, k, n = --dl->n_heap;

	last = h[n];
	for (;;) {
		k = 2 * i + 1;
		if (k >= n)
			break;
		if (k + 1 < n && before(&h[k + 1], &h[k]))
			k++;
		if (!before(&h[k], &last))
			break;
		h[i] = h[k];
		i = k;
	}
	h[i] = last;
	dl->heap_bytes -= p->len;
	return p;
}

uint64_t sl_dline_push(struct sl_dline *dl, struct sl_pkt *p, uint64_t t,
		       bool keep_order)
{
	if (!keep_order && heap_push(dl, p, t)) {
		if (t > dl->last)
			dl->last = t;
		return t;
	}
	if (t < dl->last)
		t = dl->last;
	dl->last = t;
	p->ts_depart = t;
	sl_pktq_push(&dl->fifo, p);
	return t;
}

struct sl_pkt *sl_dline_pop(struct sl_dline *dl, uint64_t now, uint64_t *next)
{
	struct sl_pkt *f = sl_pktq_peek(&dl->fifo), *p;
	uint64_t t;

	if (dl->n_heap && (!f || dl->heap[0].t <= f->ts_depart)) {
		t = dl->heap[0].t;
		if (t > now) {
			*next = t;
			return NULL;
		}
		p = heap_pop(dl);
		p->ts_depart = t;
		return p;
	}
	if (!f) {
		*next = SL_TIME_NEVER;
		return NULL;
	}
	if (f->ts_depart > now) {
		*next = f->ts_depart;
		return NULL;
	}
	return sl_pktq_pop(&dl->fifo);
}
