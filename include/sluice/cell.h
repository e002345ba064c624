/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cell.h - the policy engine of the normal-mode dataplane: cells, the
 * channels they form, and the timing wheel that drives many channels.
 *
 * A cell is a small state machine with four entry points: enqueue(pkt, now),
 * dequeue(now) -> a packet or the time of its next event, control(config)
 * and telemetry. A channel is a DAG of cells for one link direction. Time is
 * injected (uint64_t ns) and randomness comes from a per-cell seeded PRNG,
 * so every cell is deterministic and unit-tested without a wire.
 *
 * Packets are caller-owned descriptors (pkt.h). A cell that drops a packet
 * hands it back through the drop callback, with a reason, so the frame is
 * recycled; nothing in this file allocates per packet. docs/cells.md says
 * how to write a new cell.
 *
 * Sections: drop reasons and callbacks, PRNG, cells, helpers for writing
 * cells (configuration readers, token bucket, queue limits), timing wheel,
 * channel.
 */
#ifndef SLUICE_CELL_H
#define SLUICE_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/err.h>
#include <sluice/pkt.h>

struct json_object;

/* ---- drop reasons and the callbacks that take packets back ---------- */

enum sl_drop_reason {
	SL_DROP_QUEUE = 0, /* queue limit (tail or head drop) */
	SL_DROP_LOSS,	   /* random or replayed loss */
	SL_DROP_POLICE,	   /* out of profile at a policer */
	SL_DROP_AQM,	   /* an active queue manager chose it (RED, CoDel, PIE) */
	SL_DROP_FLUSH,	   /* still held when its cell or channel was freed */
	SL_DROP__MAX,
};

/* "queue", "loss", "police", "aqm", "flush": also the telemetry keys. */
const char *sl_drop_reason_name(enum sl_drop_reason why);

/* Receives every packet the engine drops; the packet is the caller's again. */
typedef void (*sl_drop_fn)(struct sl_pkt *p, enum sl_drop_reason why,
			   void *ctx);
/* Makes a copy of p (a new descriptor with the same bytes and metadata) for
 * cells that duplicate; NULL when no frame is free (the copy is skipped). */
typedef struct sl_pkt *(*sl_clone_fn)(const struct sl_pkt *p, void *ctx);

struct sl_cell;

/* Sees every drop (but flushes) before the packet goes back, with the cell
 * that dropped it and the time: set by a channel whose cells watch drops
 * (a capture cell writing them to pcapng). */
typedef void (*sl_drop_tap_fn)(const struct sl_cell *from,
			       const struct sl_pkt *p, enum sl_drop_reason why,
			       uint64_t now, void *tap_ctx);

struct sl_cell_env {
	sl_drop_fn drop;   /* NULL: dropped packets are only counted */
	sl_clone_fn clone; /* NULL: cells cannot duplicate */
	void *ctx;
	sl_drop_tap_fn tap; /* the channel's; callers leave it NULL */
	void *tap_ctx;
};

/* ---- seeded PRNG (lib/rng.c): xoshiro256**, seeded by splitmix64 ---- */

struct sl_rng {
	uint64_t s[4];
};

void sl_rng_seed(struct sl_rng *r, uint64_t seed);
uint64_t sl_rng_next(struct sl_rng *r);
/* Uniform in [0, n), unbiased; n > 0. */
uint64_t sl_rng_below(struct sl_rng *r, uint64_t n);
/* True with probability ppm / 1e6, exactly. */
bool sl_rng_ppm(struct sl_rng *r, uint32_t ppm);
/* Uniform double in [0, 1) with 53 random bits. */
double sl_rng_uniform(struct sl_rng *r);
/* Standard normal (mean 0, deviation 1). */
double sl_rng_normal(struct sl_rng *r);
/* Derives the seed of sub-stream i from seed, so that the cells of one
 * channel get independent streams from one channel seed. */
uint64_t sl_rng_derive(uint64_t seed, uint64_t i);

/* ---- cells ------------------------------------------------------------ */

#define SL_CELL_NAME_MAX 32

/*
 * Counters kept by the engine around every cell, so that a cell's own code
 * never does this bookkeeping. qlen_* is what the cell holds now; the
 * sojourn of a packet is its departure time minus its enqueue time.
 */
struct sl_cell_stats {
	uint64_t pkts_in;
	uint64_t bytes_in;
	uint64_t pkts_out;
	uint64_t bytes_out;
	uint64_t drops[SL_DROP__MAX];
	uint64_t drop_bytes[SL_DROP__MAX];
	uint64_t qlen_pkts;
	uint64_t qlen_bytes;
	uint64_t sojourn_last; /* ns */
	uint64_t sojourn_max;
	uint64_t sojourn_sum; /* over pkts_out packets: avg = sum / pkts_out */
};

/*
 * One configuration key of a cell type, for the key check, the catalog
 * (sl_cell_catalog) and the docs: unit is how the value is written
 * ("time", "rate", "fraction", "size", "queue", "integer", "boolean",
 * "string", "file", "list", "cell"); dflt is the default as the user would
 * write it, or NULL when the key is required (or has no default).
 */
struct sl_cell_param {
	const char *name;
	const char *unit;
	const char *dflt;
	const char *desc;
};

/*
 * What a cell type implements. Every function gets the cell and may use
 * container_of to reach its private struct, whose first member is the
 * struct sl_cell (ops->size is the size of that private struct).
 *
 * init: read cfg (a json-c object; "type", "name", "seed" and "next" belong
 *   to the engine), fill the private state. Errors name the key and what
 *   was expected (see sl_cfg_*). May create child cells.
 * fini: hand back every held packet with sl_cell_drop(c, p, SL_DROP_FLUSH)
 *   and free child cells. Optional when the cell holds nothing.
 * enqueue: take p at time now. Either keep it, or drop it (sl_cell_drop).
 * dequeue: return a packet whose departure time is <= now, with
 *   p->ts_depart set to that exact time (never earlier than its enqueue);
 *   or NULL with *next = the earliest time a packet may be ready
 *   (SL_TIME_NEVER when only a new enqueue can produce one). It must not
 *   return NULL while a packet is ready at now.
 * peek: optional, for cells that can serve as the queue of a shaper (a
 *   parent that pulls, like rate): the packet the next dequeue(t >= now)
 *   will return, without removing it. A cell that drops at dequeue time
 *   (CoDel) decides in peek and stashes the survivor.
 * control: apply a partial configuration at time now: only the keys
 *   present change. Validate everything first, then apply (all or
 *   nothing); never drop a held packet; the change applies from the next
 *   departure on.
 * telemetry: optional, add cell-specific fields to obj (current rate,
 *   tokens, a child's counters).
 * watch_drops: optional, sees every drop of the channel the cell is in
 *   (see sl_drop_tap_fn); p is still valid but belongs to the dropper.
 *
 * params (NULL-terminated by name) lists every key the cell takes: the
 * engine refuses any other key before init and control, so a cell never
 * checks keys itself.
 */
struct sl_cell_ops {
	const char *type;
	const char *summary; /* one line for `sluicectl cells` */
	const struct sl_cell_param *params;
	size_t size;
	int (*init)(struct sl_cell *c, struct json_object *cfg,
		    struct sl_err *err);
	void (*fini)(struct sl_cell *c);
	void (*enqueue)(struct sl_cell *c, struct sl_pkt *p, uint64_t now);
	struct sl_pkt *(*dequeue)(struct sl_cell *c, uint64_t now,
				  uint64_t *next);
	struct sl_pkt *(*peek)(struct sl_cell *c, uint64_t now);
	int (*control)(struct sl_cell *c, struct json_object *cfg, uint64_t now,
		       struct sl_err *err);
	void (*telemetry)(const struct sl_cell *c, struct json_object *obj);
	void (*watch_drops)(struct sl_cell *c, const struct sl_cell *from,
			    const struct sl_pkt *p, enum sl_drop_reason why,
			    uint64_t now);
};

/*
 * The engine's part of every cell. A cell is either top level in a channel
 * ("push mode": the channel calls sl_cell_enqueue/dequeue, packets leave as
 * soon as they are ready) or the child of another cell ("pull mode": the
 * parent calls sl_cell_child_*, e.g. the queue under a rate shaper).
 */
struct sl_cell {
	const struct sl_cell_ops *ops;
	struct sl_cell *parent;	   /* NULL at top level */
	struct sl_cell_env *env;   /* the root's own_env, shared by children */
	struct sl_cell_env own_env;
	/* Push mode: packets that left the cell while it was brought up to
	 * date at an enqueue, waiting to be collected (in departure order). */
	struct sl_pktq out;
	/* Push mode: no dequeue can yield a packet before this time; 0 or
	 * anything <= now means "ask". */
	uint64_t next_t;
	uint64_t t_last; /* latest time seen: a cell's clock never goes back */
	struct sl_rng rng;
	struct sl_cell_stats st;
	char name[SL_CELL_NAME_MAX];
};

/* The registered cell types (lib/cell.c), NULL when unknown. */
const struct sl_cell_ops *sl_cell_find_type(const char *type);
/* "capture, codel, ...": every type, sorted, for error messages. */
const char *sl_cell_type_list(void);
/* The registered types in registry order; NULL past the end. */
const struct sl_cell_ops *sl_cell_type(unsigned i);
/*
 * Every cell type with its parameters, for `sluicectl cells`:
 *   [{"name": "delay", "description": "...",
 *     "parameters": [{"name": "delay", "unit": "time", "default": null,
 *                     "required": true, "description": "..."}, ...]}, ...]
 * A new reference (NULL on ENOMEM).
 */
struct json_object *sl_cell_catalog(void);

/*
 * Creates a cell from cfg ({"type": "rate", ...}). Its PRNG is seeded with
 * cfg's "seed" when present, else with seed. Packets it drops go to the env
 * set with sl_cell_set_env (counted only until then).
 */
int sl_cell_new(struct json_object *cfg, uint64_t seed, struct sl_cell **out,
		struct sl_err *err);
/* Frees c, handing every packet it holds to the drop callback (FLUSH). */
void sl_cell_free(struct sl_cell *c);
void sl_cell_set_env(struct sl_cell *c, const struct sl_cell_env *env);

/*
 * Push mode. enqueue first brings the cell up to date at now (packets
 * whose departure is <= now leave into c->out), so limits and token state
 * never depend on how often the caller polls. dequeue returns a packet
 * ready at now (p->ts_depart is its exact departure) or NULL with *next.
 */
void sl_cell_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now);
struct sl_pkt *sl_cell_dequeue(struct sl_cell *c, uint64_t now,
			       uint64_t *next);
/* Applies a partial configuration at time now (see ops->control). */
int sl_cell_control(struct sl_cell *c, struct json_object *cfg, uint64_t now,
		    struct sl_err *err);
void sl_cell_stats(const struct sl_cell *c, struct sl_cell_stats *st);
/* {"name", "type", "pkts_in", ..., "drops": {...}, "sojourn_ns": {...},
 * plus the cell's own fields}. Returns a new reference, NULL on ENOMEM. */
struct json_object *sl_cell_telemetry(const struct sl_cell *c);

/* ---- helpers for writing cells --------------------------------------- */

/*
 * Creates a child of parent (pull mode) from cfg. A JSON string is
 * shorthand for {"type": default_type, default_key: <the string>}, so that
 * "queue": "100pkt" means a drop-tail queue of 100 packets.
 */
int sl_cell_new_child(struct sl_cell *parent, struct json_object *cfg,
		      const char *default_type, const char *default_key,
		      struct sl_cell **out, struct sl_err *err);
/*
 * Pull mode: the parent drives its child. dequeue stamps ts_depart = now.
 * peek's now is the time the parent could start serving (its last
 * departure, or later): a cell that drops at dequeue time (CoDel) decides
 * at max(now, the head's arrival), so that its decisions depend on the
 * packets' times only and never on when the dataplane polls.
 */
void sl_cell_child_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now);
struct sl_pkt *sl_cell_child_peek(struct sl_cell *c, uint64_t now);
struct sl_pkt *sl_cell_child_dequeue(struct sl_cell *c, uint64_t now);

/* Hands p back to the caller with a reason, counting it in c and in every
 * ancestor of c. */
void sl_cell_drop(struct sl_cell *c, struct sl_pkt *p,
		  enum sl_drop_reason why);
/* A copy of p that c now holds (counted as arriving at c), or NULL. */
struct sl_pkt *sl_cell_clone(struct sl_cell *c, const struct sl_pkt *p);

/*
 * Configuration readers. Each returns 1 when key is present and valid (the
 * value stored), 0 when absent (nothing stored), or -EINVAL with a message
 * such as: rate: "fast" is not a rate; expected a number with a unit such
 * as 10mbit, 1gbit. Strings and JSON numbers are both accepted.
 */
int sl_cfg_rate(struct json_object *cfg, const char *key, uint64_t *bps,
		struct sl_err *err);
int sl_cfg_time(struct json_object *cfg, const char *key, uint64_t *ns,
		struct sl_err *err);
int sl_cfg_fraction(struct json_object *cfg, const char *key, uint32_t *ppm,
		    struct sl_err *err);
/* A byte size ("15kb", "1514b", or a bare number of bytes). */
int sl_cfg_bytes(struct json_object *cfg, const char *key, uint64_t *bytes,
		 struct sl_err *err);
int sl_cfg_u64(struct json_object *cfg, const char *key, uint64_t *v,
	       struct sl_err *err);
/* true/false (JSON booleans, or the strings "true"/"false"/"on"/"off"). */
int sl_cfg_bool(struct json_object *cfg, const char *key, bool *v,
		struct sl_err *err);
/* A non-empty string; *s points into cfg (copy it to keep it). */
int sl_cfg_string(struct json_object *cfg, const char *key, const char **s,
		  struct sl_err *err);
/* One of words (NULL-terminated): *idx its index. Errors list them. */
int sl_cfg_enum(struct json_object *cfg, const char *key,
		const char *const *words, unsigned *idx, struct sl_err *err);
/* A probability: a fraction such as "1%" or 0.01, as a double in [0, 1]
 * (finer than ppm: "0.00001%" is 1e-7). */
int sl_cfg_prob(struct json_object *cfg, const char *key, double *p,
		struct sl_err *err);
/* Fails on a key outside keys (NULL-terminated) and the engine's keys:
 * unknown key "rat"; expected one of rate, burst, queue */
int sl_cfg_check_keys(struct json_object *cfg, const char *const *keys,
		      struct sl_err *err);
/* The same against a parameter table (what the engine does for a cell). */
int sl_cfg_check_params(struct json_object *cfg,
			const struct sl_cell_param *params, struct sl_err *err);

/*
 * Token bucket in "nanobits" (1e-9 bit): a rate of R bit/s adds exactly R
 * per nanosecond and a byte costs 8e9, so integer arithmetic gives exact
 * departure times with no drift. Shared by the shaper and the policer.
 * Invariant: tokens <= max(cap, cost of the largest packet waited for),
 * plus less than one nanosecond's worth (see sl_tbucket_take).
 */
struct sl_tbucket {
	uint64_t rate;	 /* bit/s */
	uint64_t cap;	 /* burst in nanobits */
	uint64_t tokens; /* at time t */
	uint64_t t;
};

#define SL_TBUCKET_MAX_BURST (1ull << 30) /* bytes: keeps nanobits in u64 */

/* Starts full at time now. rate > 0, 0 < burst <= SL_TBUCKET_MAX_BURST. */
void sl_tbucket_init(struct sl_tbucket *tb, uint64_t rate, uint64_t burst,
		     uint64_t now);
/* Changes rate and burst from now on; tokens earned until now are kept. */
void sl_tbucket_set(struct sl_tbucket *tb, uint64_t rate, uint64_t burst,
		    uint64_t now);
/* Earliest time >= tb->t at which len bytes conform. A packet larger than
 * the burst conforms once len bytes' worth have accumulated. */
uint64_t sl_tbucket_ready_at(const struct sl_tbucket *tb, uint32_t len);
/* Takes len bytes at time at (at >= sl_tbucket_ready_at(tb, len)). */
void sl_tbucket_take(struct sl_tbucket *tb, uint32_t len, uint64_t at);
/* Policer: takes len bytes at now if they conform; false otherwise. */
bool sl_tbucket_conform(struct sl_tbucket *tb, uint32_t len, uint64_t now);
uint64_t sl_tbucket_tokens_bytes(const struct sl_tbucket *tb);
/* Reads "rate" and "burst" from cfg into *rate and *burst (left alone when
 * absent); checks the burst against SL_TBUCKET_MAX_BURST. 0 or -EINVAL. */
int sl_cfg_tbucket(struct json_object *cfg, uint64_t *rate, uint64_t *burst,
		   struct sl_err *err);

/* A queue limit in packets or bytes (lib/cells/pktq.c). */
struct sl_qlimit {
	uint64_t n; /* 0 = unlimited */
	bool bytes;
};

/* Reads key as a queue size (sl_parse_queue); same returns as sl_cfg_*. */
int sl_cfg_qlimit(struct json_object *cfg, const char *key,
		  struct sl_qlimit *lim, struct sl_err *err);
/* True when q cannot take one more packet of len bytes. */
static inline bool sl_qlimit_full(const struct sl_qlimit *lim,
				  const struct sl_pktq *q, uint32_t len)
{
	if (!lim->n)
		return false;
	if (lim->bytes)
		return q->bytes + len > lim->n;
	return q->n >= lim->n;
}
/* "100pkt", "1500b", "unlimited": for telemetry. */
const char *sl_qlimit_fmt(const struct sl_qlimit *lim, char *buf, size_t len);

/* ---- timing wheel (lib/wheel.c) --------------------------------------- */

/*
 * A hierarchical timing wheel with 1 us ticks: O(1) arm and cancel, timers
 * fire in the tick their deadline falls in or later, never early. One wheel
 * per dataplane thread serves all its channels. Deadlines further than
 * 2^32 us (~71 min) ahead fire at that horizon; their owner re-arms.
 */
struct sl_timer {
	struct sl_timer *next;
	struct sl_timer **pprev; /* NULL when not armed */
	uint64_t expires;	 /* ns, as armed */
	uint64_t tick;		 /* us slot it waits for (internal) */
	void *data;		 /* the owner's */
};

struct sl_wheel;

/* A wheel whose clock starts at now (ns). */
struct sl_wheel *sl_wheel_new(uint64_t now);
/* Timers still armed are simply forgotten (they belong to their owners):
 * detach or free the channels on w first. */
void sl_wheel_free(struct sl_wheel *w);
static inline void sl_timer_init(struct sl_timer *t, void *data)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = SL_TIME_NEVER;
	t->tick = 0;
	t->data = data;
}
static inline bool sl_timer_armed(const struct sl_timer *t)
{
	return t->pprev != NULL;
}
/* Arms t for expires (ns), moving it if already armed. A deadline already
 * passed fires at the next sl_wheel_expire. */
void sl_wheel_arm(struct sl_wheel *w, struct sl_timer *t, uint64_t expires);
void sl_wheel_cancel(struct sl_wheel *w, struct sl_timer *t);
/* Earliest time a timer fires (its deadline rounded up to the us), <= the
 * last now given when some are due, SL_TIME_NEVER when none is armed. */
uint64_t sl_wheel_next(struct sl_wheel *w);
/* One timer due at now, disarmed; NULL when none. Call until NULL. */
struct sl_timer *sl_wheel_expire(struct sl_wheel *w, uint64_t now);
unsigned sl_wheel_count(const struct sl_wheel *w);

/* ---- channels (lib/channel.c) ----------------------------------------- */

/*
 * A channel, its cells and its wheel belong to one dataplane thread: none
 * of these calls lock. Another thread that wants control() or telemetry
 * hands the request to that thread.
 */
struct sl_channel;

/*
 * Builds the channel of one link direction from its policy (JSON text):
 *   shorthand  {"rate": "100mbit", "burst": "15kb", "queue": "100pkt",
 *               "delay": "10ms", "loss": "1%", "seed": 7}
 *              -> loss -> rate (with its queue) -> delay; absent parts are
 *              left out, {} is a plain wire;
 *   explicit   {"cells": [{"type": ...}, ...]}: a chain in list order, or
 *              a DAG when cells have a "name" and "next" (a name, a list of
 *              names, or "out" for the channel's output); cells[0] is the
 *              entry.
 * Cells are seeded from seed (sl_rng_derive(seed, index)) unless a cell or
 * the shorthand gives its own "seed".
 */
int sl_channel_from_policy(const char *policy_json, uint64_t seed,
			   struct sl_channel **out, struct sl_err *err);
/* Same from a parsed object. */
int sl_channel_new(struct json_object *policy, uint64_t seed,
		   struct sl_channel **out, struct sl_err *err);
/* Frees ch, handing every packet inside to the drop callback (FLUSH). */
void sl_channel_free(struct sl_channel *ch);
void sl_channel_set_env(struct sl_channel *ch, const struct sl_cell_env *env);
/* From now on ch keeps its own timer armed on w at its next event, with
 * timer->data = ch; NULL detaches. */
void sl_channel_attach(struct sl_channel *ch, struct sl_wheel *w);

/* Takes p at now. p->ts_arrival = now. */
void sl_channel_enqueue(struct sl_channel *ch, struct sl_pkt *p, uint64_t now);
/* The earliest time sl_channel_dequeue may return a packet (<= now when
 * one is ready), SL_TIME_NEVER when the channel is empty. */
uint64_t sl_channel_next_event(const struct sl_channel *ch);
/* Up to max packets ready at now, in departure order; p->ts_depart is the
 * exact time each left the channel. */
unsigned sl_channel_dequeue(struct sl_channel *ch, uint64_t now,
			    struct sl_pkt **out, unsigned max);

unsigned sl_channel_cell_count(const struct sl_channel *ch);
/* Cells in topological order (0 = entry); NULL past the end. */
struct sl_cell *sl_channel_cell(const struct sl_channel *ch, unsigned i);
struct sl_cell *sl_channel_cell_by_name(const struct sl_channel *ch,
					const char *name);
/* Changes the named cell at now: {"rate": "50mbit"} and the like. */
int sl_channel_control(struct sl_channel *ch, const char *cell,
		       struct json_object *cfg, uint64_t now,
		       struct sl_err *err);
/* {"pkts_in", "pkts_out", "bytes_in", "bytes_out", "cells": [...]} */
struct json_object *sl_channel_telemetry(const struct sl_channel *ch);

#endif
