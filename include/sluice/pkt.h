/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkt.h - the packet descriptor that the cell engine moves, and the
 * intrusive FIFO that every cell queues it on.
 *
 * The dataplane owns the descriptors (one per UMEM frame); the engine only
 * links them through sl_pkt.next and stamps times on them, so the hot path
 * never allocates. A descriptor is in at most one queue at a time, and every
 * descriptor handed to the engine comes back exactly once: out of
 * sl_channel_dequeue() or through the drop callback.
 *
 * Times are uint64_t nanoseconds on the caller's clock (CLOCK_MONOTONIC in
 * the dataplane, a plain counter in tests).
 */
#ifndef SLUICE_PKT_H
#define SLUICE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "No event pending": later than any time a clock will show. */
#define SL_TIME_NEVER UINT64_MAX

#define SL_NSEC_PER_USEC 1000ull
#define SL_NSEC_PER_MSEC 1000000ull
#define SL_NSEC_PER_SEC 1000000000ull

enum sl_pkt_flag {
	SL_PKT_ECN_CE = 1u << 0, /* an AQM marked it CE; when the packet has
				  * data the IP header says so too */
	SL_PKT_CLONE = 1u << 1,  /* made by a cell (duplicate), not received */
	SL_PKT_CORRUPT = 1u << 2, /* a cell flipped bits in data */
};

struct sl_pkt {
	struct sl_pkt *next;  /* link of the queue holding it, NULL otherwise */
	void *data;	      /* frame bytes, for cells that read or rewrite
			       * headers (NULL is fine for every core cell) */
	uint64_t addr;	      /* UMEM address: opaque to the engine */
	uint32_t len;	      /* bytes on the wire: what rates and limits count */
	uint32_t class;	      /* flow class from the classifier, 0 = default */
	uint32_t flow_hash;   /* for per-flow queues and hashing schedulers */
	uint16_t flags;	      /* enum sl_pkt_flag */
	uint16_t port;	      /* output a cell chose for it in a DAG fan-out
			       * (0 = first "next"); reset on every hop */
	uint64_t ts_arrival;  /* entered the channel */
	uint64_t ts_enqueue;  /* entered the cell that holds it (sojourn) */
	uint64_t ts_depart;   /* exact time the last cell released it; inside
			       * a cell, scratch for its scheduled departure */
	uint64_t user;	      /* the caller's; the engine never touches it */
};

/*
 * Intrusive FIFO. Invariants: head == NULL iff n == 0; tail is the last
 * element when n > 0; bytes is the sum of len over the queue.
 */
struct sl_pktq {
	struct sl_pkt *head;
	struct sl_pkt *tail;
	uint32_t n;
	uint64_t bytes;
};

static inline void sl_pktq_init(struct sl_pktq *q)
{
	q->head = q->tail = NULL;
	q->n = 0;
	q->bytes = 0;
}

static inline bool sl_pktq_empty(const struct sl_pktq *q)
{
	return q->head == NULL;
}

static inline struct sl_pkt *sl_pktq_peek(const struct sl_pktq *q)
{
	return q->head;
}

static inline void sl_pktq_push(struct sl_pktq *q, struct sl_pkt *p)
{
	p->next = NULL;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->n++;
	q->bytes += p->len;
}

/* Puts p back in front (a cell that took the head and must return it). */
static inline void sl_pktq_push_head(struct sl_pktq *q, struct sl_pkt *p)
{
	p->next = q->head;
	q->head = p;
	if (!q->tail)
		q->tail = p;
	q->n++;
	q->bytes += p->len;
}

static inline struct sl_pkt *sl_pktq_pop(struct sl_pktq *q)
{
	struct sl_pkt *p = q->head;

	if (!p)
		return NULL;
	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	p->next = NULL;
	q->n--;
	q->bytes -= p->len;
	return p;
}

#endif
