/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cellkit.h - pieces that several cells share, so that each lives once:
 * delay distributions (lib/cells/dist.c), the delay line that releases
 * packets at per-packet times (lib/cells/dline.c), trace files
 * (lib/cells/tracefile.c), packet headers for classes and ECN
 * (lib/cells/headers.c) and the class sets of the schedulers
 * (lib/cells/sched.c).
 *
 * Only cell implementations include this; the dataplane needs cell.h only.
 */
#ifndef SLUICE_CELLKIT_H
#define SLUICE_CELLKIT_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/cell.h>

/* ---- delay distributions (dist.c) ------------------------------------- */

/*
 * A delay is mu + sigma * Y, with Y drawn from one of these (the netem
 * names; docs/cells.md gives each definition):
 *   uniform       Y uniform on [-1, 1]
 *   normal        Y standard normal
 *   pareto        Y = min(4/3 (U^(-1/3) - 3/2), 32767/8192), U uniform on
 *                 (0, 1]: netem's pareto table (shape 3, shifted to mean
 *                 about 0) computed exactly instead of from 16384 steps
 *   paretonormal  Y = (Q_N(V) + 3 Q_P(V)) / 4 with one V uniform on (0, 1):
 *                 the normal and pareto quantiles at the same level, as
 *                 netem's table sums them
 */
enum sl_dist {
	SL_DIST_UNIFORM = 0,
	SL_DIST_NORMAL,
	SL_DIST_PARETO,
	SL_DIST_PARETONORMAL,
	SL_DIST__MAX,
};

extern const char *const sl_dist_names[]; /* NULL-terminated */

/* One draw of Y. */
double sl_dist_draw(enum sl_dist d, struct sl_rng *r);
/* mu + sigma * Y in ns, clamped at 0 (a sample cannot be negative). */
uint64_t sl_dist_delay(enum sl_dist d, struct sl_rng *r, uint64_t mu,
		       uint64_t sigma);
/* The quantile function of the standard normal, for 0 < p < 1 (exact to
 * ~1e-12: a rational first guess refined by Newton steps on erfc). */
double sl_normal_quantile(double p);

/* ---- pass-through cells (pktq.c) -------------------------------------- */

/*
 * Cells that decide at enqueue (loss, duplicate, corrupt, capture, ...)
 * keep the survivors on a FIFO and release them at the time they came.
 */
struct sl_pkt *sl_pass_dequeue(struct sl_pktq *q, uint64_t *next);
/* Hands every packet on q back to c as FLUSH. */
void sl_pass_flush(struct sl_cell *c, struct sl_pktq *q);

/* ---- delay line (dline.c) --------------------------------------------- */

/*
 * Packets released at per-packet times. A packet pushed in order leaves
 * at max(its time, the latest time given so far), so it never overtakes
 * anything; a packet pushed out of order leaves at exactly its time, ahead
 * of later ones (a binary heap, ties in push order). Both kinds may be
 * mixed: the line always releases the earliest.
 */
struct sl_dline_slot {
	uint64_t t;
	uint64_t seq;
	struct sl_pkt *p;
};

struct sl_dline {
	struct sl_pktq fifo; /* in order: ts_depart non-decreasing */
	struct sl_dline_slot *heap;
	uint32_t n_heap, cap_heap;
	uint64_t heap_bytes;
	uint64_t seq;
	uint64_t last; /* latest departure given so far */
};

void sl_dline_init(struct sl_dline *dl);
/* Hands every packet back to c as FLUSH and frees the heap. */
void sl_dline_fini(struct sl_dline *dl, struct sl_cell *c);
/* Stores p to leave at t; returns the departure it got. */
uint64_t sl_dline_push(struct sl_dline *dl, struct sl_pkt *p, uint64_t t,
		       bool keep_order);
/* The packet due first if it is due at now (ts_depart set), else NULL with
 * *next its time (SL_TIME_NEVER when empty). */
struct sl_pkt *sl_dline_pop(struct sl_dline *dl, uint64_t now,
			    uint64_t *next);
static inline uint32_t sl_dline_len(const struct sl_dline *dl)
{
	return dl->fifo.n + dl->n_heap;
}
/* True when a packet of len bytes would exceed lim (see sl_qlimit_full). */
static inline bool sl_dline_full(const struct sl_dline *dl,
				 const struct sl_qlimit *lim, uint32_t len)
{
	struct sl_pktq all = { .n = dl->fifo.n + dl->n_heap,
			       .bytes = dl->fifo.bytes + dl->heap_bytes };

	return sl_qlimit_full(lim, &all, len);
}

/* ---- trace files (tracefile.c) ---------------------------------------- */

/*
 * Reads a text trace: one record a line, fields separated by blanks or a
 * comma, '#' starts a comment, blank lines are skipped. fn gets each
 * record's fields (at most 8) and its line number and returns 0 or a
 * negative errno with a message; that message comes back prefixed with
 * "FILE:LINE: ". Files larger than 256 MiB are refused.
 */
typedef int (*sl_trace_line_fn)(void *ctx, unsigned lineno, char **fields,
				unsigned n, struct sl_err *err);
int sl_trace_read(const char *path, sl_trace_line_fn fn, void *ctx,
		  struct sl_err *err);
/* A decimal number of milliseconds ("12", "12.5") as ns; -EINVAL. */
int sl_trace_ms(const char *s, uint64_t *ns);

/* ---- packet headers (headers.c) --------------------------------------- */

/* What a cell may need from a frame's headers (Ethernet, optional VLAN
 * tags, IPv4 or IPv6, TCP/UDP ports). */
struct sl_hdr {
	int family;	  /* 0 (not IP, or no data), AF_INET, AF_INET6 */
	uint8_t proto;	  /* IPPROTO_*; 0 when not known */
	uint8_t tos;	  /* IPv4 TOS or IPv6 traffic class (DSCP | ECN) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /* host order; 0 when not TCP/UDP */
	uint32_t l3_off;  /* offset of the IP header in the frame */
};

/* Parses p->data (p->len bytes); false when p has no data or is not IP. */
bool sl_hdr_parse(const struct sl_pkt *p, struct sl_hdr *h);
/* ECN-capable transport (ECT(0), ECT(1)) or already CE. */
bool sl_pkt_ecn_capable(const struct sl_pkt *p);
/* Marks p CE: the flag, and the header itself when p has data (IPv4
 * checksum updated incrementally), so that later cells and captures see
 * the mark. False when p is not ECN-capable (the caller drops instead). */
bool sl_pkt_mark_ce(struct sl_pkt *p);

/* The congestion signal of an AQM: marks p CE when ecn is on and p is
 * ECN-capable (returns false: p stays with the caller, *marks counted),
 * else drops it as SL_DROP_AQM (returns true). */
bool sl_aqm_signal(struct sl_cell *c, struct sl_pkt *p, bool ecn,
		   uint64_t *marks);

/* ---- schedulers over flow classes (sched.c) ---------------------------- */

/*
 * A scheduler is a queue cell with one child queue per class. Its config:
 *   {"classes": [{"name": "voice", "class": 1, "match": "proto udp dport
 *                 5060", "queue": "100pkt", "weight": 3, "quantum": "3kb"},
 *                ...], "default": "bulk"}
 * A packet goes to the first class whose "class" equals p->class (the flow
 * table's class) or whose "match" (a flow spec as in flow.h: proto, src,
 * dst, sport, dport) matches its headers; otherwise to the default class
 * (the last one unless "default" names another). Each policy file gives
 * its pick rule; everything else is shared.
 */
struct sl_sched;

struct sl_sched_policy {
	const char *const *class_keys; /* besides name, class, match, queue */
	/* The class the next dequeue serves (must be repeatable until then),
	 * or -1 when every class is empty. */
	int (*pick)(struct sl_sched *s, uint64_t now);
	/* After class i sent p. */
	void (*served)(struct sl_sched *s, unsigned i, const struct sl_pkt *p);
};

struct sl_sched_class {
	char name[SL_CELL_NAME_MAX];
	struct sl_cell *queue;
	bool has_class, has_match;
	uint32_t class_id;
	struct sl_sched_match {
		uint8_t proto;
		int src_family, dst_family;
		uint8_t src[16], dst[16];
		uint8_t src_len, dst_len;
		uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	} match;
	uint32_t weight;  /* wrr: packets per round (default 1) */
	uint64_t quantum; /* drr: bytes per round (default 1514) */
	int64_t deficit;  /* drr */
	bool visited;	  /* drr: this turn's quantum added */
	uint64_t sent_pkts, sent_bytes;
};

struct sl_sched {
	struct sl_cell cell;
	const struct sl_sched_policy *pol;
	unsigned n;
	struct sl_sched_class *cls;
	unsigned dflt;
	bool any_match;
	unsigned cur;	 /* wrr, drr: the class whose turn it is */
	uint32_t credit; /* wrr: packets left in cur's turn */
};

/* Returns the class's head (sl_cell_child_peek), NULL when empty. */
struct sl_pkt *sl_sched_head(struct sl_sched *s, unsigned i, uint64_t now);
int sl_sched_init(struct sl_cell *c, struct json_object *cfg,
		  const struct sl_sched_policy *pol, struct sl_err *err);
void sl_sched_fini(struct sl_cell *c);
void sl_sched_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now);
struct sl_pkt *sl_sched_dequeue(struct sl_cell *c, uint64_t now,
				uint64_t *next);
struct sl_pkt *sl_sched_peek(struct sl_cell *c, uint64_t now);
int sl_sched_control(struct sl_cell *c, struct json_object *cfg, uint64_t now,
		     struct sl_err *err);
void sl_sched_telemetry(const struct sl_cell *c, struct json_object *obj);
/* The index of the class p belongs to. */
unsigned sl_sched_classify(struct sl_sched *s, const struct sl_pkt *p);

#endif
