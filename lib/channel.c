// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * channel.c - one link direction's DAG of cells (include/sluice/cell.h):
 * building it from a link policy, driving it, and keeping its timer on the
 * dataplane thread's wheel.
 *
 * Driving. sl_channel_enqueue() gives a packet to the entry cell and marks
 * the channel due; sl_channel_dequeue(now) pumps: it visits the cells in
 * topological order and moves every packet ready at now to its successor,
 * enqueueing it there at the exact time it left (p->ts_depart), not at
 * now. Because each cell's predecessors are pumped before it, a cell has
 * seen every arrival up to now before it is asked for departures, and a
 * late poll shifts nothing: the output times are those of an ideal clock.
 * (Where two branches merge, arrivals from the second branch that are
 * older than the first branch's newest are taken at the newer time: a cell
 * never sees time go backwards.)
 *
 * The standard chain of the shorthand policy is loss -> rate -> delay
 * (with the other shorthand cells around them: loss, loss_trace,
 * duplicate, corrupt, policer, rate or trace, delay or reorder,
 * delay_trace, capture):
 *  - loss first, as netem drops at enqueue: a lost packet takes neither
 *    queue space nor tokens, so the rate and queue settings describe the
 *    packets that are delivered;
 *  - the shaper and its queue model the bottleneck link, where packets
 *    wait;
 *  - the delay last is the propagation delay after the bottleneck: one-way
 *    delay = queueing + serialization + D, and a constant D keeps order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/cell.h>

#define MAX_CELLS 64
#define MAX_NEXT 8
#define OUT 0xffff /* successor index meaning the channel's output */

struct node {
	struct sl_cell *cell;
	uint16_t n_next;
	uint16_t next[MAX_NEXT]; /* node indices (topological order) or OUT */
};

struct sl_channel {
	unsigned n;
	struct node *nodes; /* topological order, nodes[0] is the entry */
	struct sl_pktq out; /* left the last cell, not yet collected */
	uint64_t cells_next; /* min over the cells' next events */
	uint64_t next_t;     /* what sl_channel_next_event() says */
	struct sl_cell_env env; /* the caller's, plus our drop tap */
	struct sl_cell **watch;	/* cells that watch drops (capture) */
	unsigned n_watch;
	struct sl_wheel *wheel;
	struct sl_timer timer;
	uint64_t pkts_in, bytes_in, pkts_out, bytes_out;
};

/* ---- construction ----------------------------------------------------- */

static struct sl_channel *channel_alloc(unsigned n)
{
	struct sl_channel *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->nodes = calloc(n ? n : 1, sizeof(*ch->nodes));
	if (!ch->nodes) {
		free(ch);
		return NULL;
	}
	sl_pktq_init(&ch->out);
	ch->cells_next = SL_TIME_NEVER;
	ch->next_t = SL_TIME_NEVER;
	sl_timer_init(&ch->timer, ch);
	return ch;
}

void sl_channel_free(struct sl_channel *ch)
{
	struct sl_pkt *p;
	unsigned i;

	if (!ch)
		return;
	if (ch->wheel)
		sl_wheel_cancel(ch->wheel, &ch->timer);
	/* watchers go first: nobody may report to a freed one */
	ch->n_watch = 0;
	for (i = 0; i < ch->n; i++)
		sl_cell_free(ch->nodes[i].cell);
	free(ch->watch);
	while ((p = sl_pktq_pop(&ch->out)))
		if (ch->env.drop)
			ch->env.drop(p, SL_DROP_FLUSH, ch->env.ctx);
	free(ch->nodes);
	free(ch);
}

/* Every drop (flushes aside) goes to the cells that watch drops, in
 * channel order, before it goes back to the caller. */
static void channel_tap(const struct sl_cell *from, const struct sl_pkt *p,
			enum sl_drop_reason why, uint64_t now, void *ctx)
{
	struct sl_channel *ch = ctx;
	unsigned i;

	for (i = 0; i < ch->n_watch; i++)
		ch->watch[i]->ops->watch_drops(ch->watch[i], from, p, why, now);
}

static void apply_env(struct sl_channel *ch)
{
	unsigned i;

	ch->env.tap = ch->n_watch ? channel_tap : NULL;
	ch->env.tap_ctx = ch;
	for (i = 0; i < ch->n; i++)
		sl_cell_set_env(ch->nodes[i].cell, &ch->env);
}

/* The cells as listed, before sorting. */
struct draft {
	unsigned n;
	struct sl_cell *cell[MAX_CELLS];
	bool named[MAX_CELLS]; /* the name came from the policy */
	uint16_t n_next[MAX_CELLS];
	uint16_t next[MAX_CELLS][MAX_NEXT];
	uint8_t mark[MAX_CELLS]; /* DFS: 0 new, 1 on the path, 2 done */
	uint16_t order[MAX_CELLS];
	unsigned n_order;
};

static int find_name(const struct draft *d, const char *name)
{
	unsigned i;

	for (i = 0; i < d->n; i++)
		if (d->cell[i] && !strcmp(d->cell[i]->name, name))
			return (int)i;
	return -1;
}

static void list_names(const struct draft *d, char *buf, size_t len)
{
	size_t n = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < d->n && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      d->cell[i]->name);
}

static int resolve_one(struct draft *d, unsigned i, struct json_object *v,
		       uint16_t *to, struct sl_err *err)
{
	char names[256];
	const char *s;
	int j;

	if (!json_object_is_type(v, json_type_string))
		return sl_err_set(err, EINVAL,
				  "cells[%u].next: expected a cell name, a list of names or \"out\"",
				  i);
	s = json_object_get_string(v);
	if (!strcmp(s, "out")) {
		*to = OUT;
		return 0;
	}
	j = find_name(d, s);
	if (j < 0) {
		list_names(d, names, sizeof(names));
		return sl_err_set(err, EINVAL,
				  "cells[%u].next: no cell named \"%s\"; the cells are %s",
				  i, s, names);
	}
	*to = (uint16_t)j;
	return 0;
}

static int resolve_next(struct draft *d, unsigned i, struct json_object *cfg,
			struct sl_err *err)
{
	struct json_object *v;
	size_t k, n;
	int ret;

	if (!json_object_object_get_ex(cfg, "next", &v)) {
		d->n_next[i] = 1;
		d->next[i][0] = i + 1 < d->n ? (uint16_t)(i + 1) : OUT;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array)) {
		d->n_next[i] = 1;
		return resolve_one(d, i, v, &d->next[i][0], err);
	}
	n = json_object_array_length(v);
	if (n < 1 || n > MAX_NEXT)
		return sl_err_set(err, EINVAL,
				  "cells[%u].next: expected 1 to %d names, got %zu",
				  i, MAX_NEXT, n);
	for (k = 0; k < n; k++) {
		ret = resolve_one(d, i, json_object_array_get_idx(v, k),
				  &d->next[i][k], err);
		if (ret)
			return ret;
	}
	d->n_next[i] = (uint16_t)n;
	return 0;
}

/* Depth first from i; order[] gets the reverse postorder, which is a
 * topological order starting at the entry. */
static int visit(struct draft *d, unsigned i, struct sl_err *err)
{
	unsigned k;
	int ret;

	d->mark[i] = 1;
	for (k = 0; k < d->n_next[i]; k++) {
		uint16_t j = d->next[i][k];

		if (j == OUT || d->mark[j] == 2)
			continue;
		if (d->mark[j] == 1)
			return sl_err_set(err, EINVAL,
					  "cells[%u].next: \"%s\" makes a cycle",
					  i, d->cell[j]->name);
		ret = visit(d, j, err);
		if (ret)
			return ret;
	}
	d->mark[i] = 2;
	d->order[d->n_order++] = (uint16_t)i;
	return 0;
}

/* Is name used by a cell other than i that keeps its name: an explicit
 * one, or a defaulted one before i? */
static bool name_taken(const struct draft *d, unsigned i, const char *name)
{
	unsigned k;

	for (k = 0; k < d->n; k++)
		if (k != i && (d->named[k] || k < i) &&
		    !strcmp(d->cell[k]->name, name))
			return true;
	return false;
}

/* Unique default names: "delay", then "delay-2", "delay-3", ... */
static void default_name(struct draft *d, unsigned i)
{
	struct sl_cell *c = d->cell[i];
	unsigned k;

	for (k = 2; name_taken(d, i, c->name); k++)
		snprintf(c->name, sizeof(c->name), "%s-%u", c->ops->type, k);
}

static int build(struct json_object *cells, uint64_t seed,
		 struct sl_channel **out, struct sl_err *err)
{
	struct draft *d = calloc(1, sizeof(*d));
	struct sl_channel *ch = NULL;
	unsigned i, k, pos[MAX_CELLS];
	struct json_object *cfg;
	size_t n = json_object_array_length(cells);
	int ret = 0, j;

	if (!d)
		return sl_err_set(err, ENOMEM, "out of memory");
	if (n > MAX_CELLS) {
		ret = sl_err_set(err, EINVAL, "cells: %zu cells, at most %d",
				 n, MAX_CELLS);
		goto out;
	}
	for (i = 0; i < n; i++) {
		cfg = json_object_array_get_idx(cells, i);
		ret = sl_cell_new(cfg, sl_rng_derive(seed, i), &d->cell[i], err);
		if (ret) {
			sl_err_prefix(err, "cells[%u]", i);
			goto out;
		}
		d->n = i + 1;
		d->named[i] = json_object_object_get_ex(cfg, "name", NULL);
		if (d->named[i] && !strcmp(d->cell[i]->name, "out")) {
			ret = sl_err_set(err, EINVAL,
					 "cells[%u].name: \"out\" is reserved for the channel's output",
					 i);
			goto out;
		}
	}
	/* explicit names first, so that defaults step around them */
	for (i = 0; i < d->n; i++) {
		for (k = 0; k < i && d->named[i]; k++) {
			if (!d->named[k] ||
			    strcmp(d->cell[k]->name, d->cell[i]->name))
				continue;
			ret = sl_err_set(err, EINVAL,
					 "cells[%u].name: \"%s\" is already the name of cells[%u]",
					 i, d->cell[i]->name, k);
			goto out;
		}
	}
	for (i = 0; i < d->n; i++)
		if (!d->named[i])
			default_name(d, i);
	for (i = 0; i < d->n; i++) {
		ret = resolve_next(d, i, json_object_array_get_idx(cells, i), err);
		if (ret)
			goto out;
	}
	if (d->n) {
		ret = visit(d, 0, err);
		if (ret)
			goto out;
	}
	for (i = 0; i < d->n; i++)
		if (d->mark[i] != 2) {
			ret = sl_err_set(err, EINVAL,
					 "cells[%u] (\"%s\") cannot be reached from cells[0]; check the \"next\" of the cells before it",
					 i, d->cell[i]->name);
			goto out;
		}
	ch = channel_alloc(d->n);
	if (!ch) {
		ret = sl_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	ch->n = d->n;
	for (k = 0; k < d->n; k++)
		pos[d->order[d->n - 1 - k]] = k;
	for (k = 0; k < d->n; k++) {
		struct node *nd = &ch->nodes[k];

		i = d->order[d->n - 1 - k];
		nd->cell = d->cell[i];
		d->cell[i] = NULL;
		if (nd->cell->ops->watch_drops)
			ch->n_watch++;
		nd->n_next = d->n_next[i];
		for (j = 0; j < nd->n_next; j++)
			nd->next[j] = d->next[i][j] == OUT ? OUT :
							     (uint16_t)pos[d->next[i][j]];
	}
	if (ch->n_watch) {
		ch->watch = calloc(ch->n_watch, sizeof(*ch->watch));
		if (!ch->watch) {
			sl_channel_free(ch);
			ret = sl_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
		ch->n_watch = 0;
		for (k = 0; k < d->n; k++)
			if (ch->nodes[k].cell->ops->watch_drops)
				ch->watch[ch->n_watch++] = ch->nodes[k].cell;
	}
	apply_env(ch);
	*out = ch;
out:
	for (i = 0; i < d->n; i++)
		sl_cell_free(d->cell[i]);
	free(d);
	return ret;
}

/*
 * The shorthand: each key goes to one cell of the standard chain (its
 * slot), under the cell's own key; a cell exists when one of its keys is
 * given. New shorthand keys are a line here.
 */
static const struct {
	const char *key;
	const char *slot;
	const char *cell_key;
} shorthand[] = {
	{ "loss", "loss", "loss" },
	{ "loss_trace", "loss_trace", "trace" },
	{ "duplicate", "duplicate", "duplicate" },
	{ "corrupt", "corrupt", "corrupt" },
	{ "policer", "policer", "rate" },
	{ "rate", "rate", "rate" },
	{ "burst", NULL, "burst" }, /* the policer's if any, else the rate's */
	{ "queue", "rate", "queue" },
	{ "trace", "rate", "trace" },
	{ "trace_once", "rate", "once" },
	{ "delay", "delay", "delay" },
	{ "jitter", "delay", "jitter" },
	{ "distribution", "delay", "distribution" },
	{ "reorder", "delay", "reorder" },
	{ "gap", "delay", "gap" },
	{ "delay_trace", "delay_trace", "trace" },
	{ "capture", "capture", "file" },
};
#define N_SHORTHAND (sizeof(shorthand) / sizeof(shorthand[0]))
static const char *const chain[] = { "loss",	"loss_trace", "duplicate",
				     "corrupt", "policer",    "rate",
				     "delay",	"delay_trace", "capture" };
#define N_CHAIN (sizeof(chain) / sizeof(chain[0]))

/* Keys that only make sense with another: "key: needs X as well". */
static const struct {
	const char *key;
	const char *needs[2];
	const char *why;
} needs[] = {
	{ "burst", { "rate", "policer" }, "" },
	{ "queue", { "rate", "trace" }, "; a queue only fills behind a rate limit" },
	{ "trace_once", { "trace", NULL }, "" },
	{ "jitter", { "delay", NULL }, "" },
	{ "distribution", { "delay", NULL }, "" },
	{ "reorder", { "delay", NULL }, "; reordered packets overtake delayed ones" },
	{ "gap", { "reorder", NULL }, "" },
};

static bool has(struct json_object *o, const char *k)
{
	return k && json_object_object_get_ex(o, k, NULL);
}

static int check_shorthand(struct json_object *policy, struct sl_err *err)
{
	char keys[512];
	size_t i, k, n = 0;

	json_object_object_foreach(policy, key, val)
	{
		(void)val;
		if (!strcmp(key, "seed"))
			continue;
		for (i = 0; i < N_SHORTHAND; i++)
			if (!strcmp(shorthand[i].key, key))
				break;
		if (i == N_SHORTHAND) {
			for (k = 0; k < N_SHORTHAND && n < sizeof(keys); k++)
				n += (size_t)snprintf(keys + n, sizeof(keys) - n,
						      "%s, ", shorthand[k].key);
			return sl_err_set(err, EINVAL,
					  "unknown key \"%s\"; expected one of %sseed or cells",
					  key, keys);
		}
	}
	for (i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
		if (has(policy, needs[i].key) && !has(policy, needs[i].needs[0]) &&
		    !has(policy, needs[i].needs[1])) {
			if (needs[i].needs[1])
				return sl_err_set(err, EINVAL,
						  "%s: needs \"%s\" or \"%s\" as well%s",
						  needs[i].key, needs[i].needs[0],
						  needs[i].needs[1], needs[i].why);
			return sl_err_set(err, EINVAL, "%s: needs \"%s\" as well%s",
					  needs[i].key, needs[i].needs[0],
					  needs[i].why);
		}
	if (has(policy, "rate") && has(policy, "trace"))
		return sl_err_set(err, EINVAL,
				  "trace: cannot be combined with \"rate\"; the trace is the link's rate");
	return 0;
}

/* The cell type of a slot: a trace stands in for rate, reorder turns
 * the delay into netem's reordering delay. */
static const char *slot_type(struct json_object *policy, const char *slot)
{
	if (!strcmp(slot, "rate") && has(policy, "trace"))
		return "trace";
	if (!strcmp(slot, "delay") && has(policy, "reorder"))
		return "reorder";
	return slot;
}

static int from_shorthand(struct json_object *policy, uint64_t seed,
			  struct json_object **cells, struct sl_err *err)
{
	struct json_object *list, *cell, *v;
	const char *slot;
	size_t i, k;
	int ret;

	ret = check_shorthand(policy, err);
	if (ret)
		return ret;
	list = json_object_new_array();
	if (!list)
		return sl_err_set(err, ENOMEM, "out of memory");
	for (k = 0; k < N_CHAIN; k++) {
		cell = NULL;
		/* "loss": {...} is a whole loss cell (any loss model) */
		if (!strcmp(chain[k], "loss") &&
		    json_object_object_get_ex(policy, "loss", &v) &&
		    json_object_is_type(v, json_type_object)) {
			cell = json_object_new_object();
			json_object_object_foreach(v, ck, cv)
				json_object_object_add(cell, ck, json_object_get(cv));
			if (!json_object_object_get_ex(cell, "type", NULL))
				json_object_object_add(cell, "type",
						       json_object_new_string("loss"));
			json_object_array_add(list, cell);
			continue;
		}
		for (i = 0; i < N_SHORTHAND; i++) {
			slot = shorthand[i].slot;
			if (!slot) /* burst */
				slot = has(policy, "policer") ? "policer" : "rate";
			if (strcmp(slot, chain[k]) ||
			    !json_object_object_get_ex(policy, shorthand[i].key, &v))
				continue;
			if (!cell) {
				cell = json_object_new_object();
				json_object_object_add(cell, "type",
						       json_object_new_string(slot_type(policy, slot)));
			}
			json_object_object_add(cell, shorthand[i].cell_key,
					       json_object_get(v));
		}
		if (cell)
			json_object_array_add(list, cell);
	}
	*cells = list;
	return 0;
}

int sl_channel_new(struct json_object *policy, uint64_t seed,
		   struct sl_channel **out, struct sl_err *err)
{
	struct json_object *cells = NULL;
	int ret;

	*out = NULL;
	if (!policy) { /* NULL or JSON null: a plain wire */
		*out = channel_alloc(0);
		return *out ? 0 : sl_err_set(err, ENOMEM, "out of memory");
	}
	if (!json_object_is_type(policy, json_type_object))
		return sl_err_set(err, EINVAL,
				  "expected a policy object such as {\"rate\": \"10mbit\", \"delay\": \"10ms\"} or {\"cells\": [...]}");
	ret = sl_cfg_u64(policy, "seed", &seed, err);
	if (ret < 0)
		return ret;
	if (json_object_object_get_ex(policy, "cells", &cells)) {
		json_object_object_foreach(policy, key, val)
		{
			(void)val;
			if (strcmp(key, "cells") && strcmp(key, "seed"))
				return sl_err_set(err, EINVAL,
						  "%s: cannot be combined with \"cells\"; put it in a cell",
						  key);
		}
		if (!json_object_is_type(cells, json_type_array))
			return sl_err_set(err, EINVAL,
					  "cells: expected a list of cells such as [{\"type\": \"delay\", \"delay\": \"10ms\"}]");
		return build(cells, seed, out, err);
	}
	ret = from_shorthand(policy, seed, &cells, err);
	if (ret)
		return ret;
	ret = build(cells, seed, out, err);
	/* errors already name the user's key; "cells[1]: " would mislead */
	if (ret && err && !strncmp(err->msg, "cells[", 6)) {
		char *p = strstr(err->msg, "]: ");

		if (p)
			memmove(err->msg, p + 3, strlen(p + 3) + 1);
	}
	json_object_put(cells);
	return ret;
}

int sl_channel_from_policy(const char *policy_json, uint64_t seed,
			   struct sl_channel **out, struct sl_err *err)
{
	enum json_tokener_error jerr;
	struct json_object *policy;
	int ret;

	*out = NULL;
	if (!policy_json) /* unshaped */
		return sl_channel_new(NULL, seed, out, err);
	policy = json_tokener_parse_verbose(policy_json, &jerr);
	if (!policy && jerr != json_tokener_success)
		return sl_err_set(err, EINVAL, "not valid JSON: %s",
				  json_tokener_error_desc(jerr));
	ret = sl_channel_new(policy, seed, out, err);
	json_object_put(policy);
	return ret;
}

void sl_channel_set_env(struct sl_channel *ch, const struct sl_cell_env *env)
{
	ch->env = *env;
	apply_env(ch);
}

/* ---- driving ---------------------------------------------------------- */

static void rearm(struct sl_channel *ch)
{
	if (!ch->wheel)
		return;
	if (ch->next_t == SL_TIME_NEVER)
		sl_wheel_cancel(ch->wheel, &ch->timer);
	else if (!sl_timer_armed(&ch->timer) || ch->timer.expires != ch->next_t)
		sl_wheel_arm(ch->wheel, &ch->timer, ch->next_t);
}

void sl_channel_attach(struct sl_channel *ch, struct sl_wheel *w)
{
	if (ch->wheel)
		sl_wheel_cancel(ch->wheel, &ch->timer);
	ch->wheel = w;
	rearm(ch);
}

static void set_next(struct sl_channel *ch)
{
	ch->next_t = sl_pktq_empty(&ch->out) ? ch->cells_next :
					       ch->out.head->ts_depart;
}

void sl_channel_enqueue(struct sl_channel *ch, struct sl_pkt *p, uint64_t now)
{
	p->ts_arrival = now;
	p->port = 0;
	ch->pkts_in++;
	ch->bytes_in += p->len;
	if (!ch->n) {
		p->ts_depart = now;
		sl_pktq_push(&ch->out, p);
	} else {
		sl_cell_enqueue(ch->nodes[0].cell, p, now);
		if (now < ch->cells_next)
			ch->cells_next = now;
	}
	if (now < ch->next_t) {
		ch->next_t = now;
		rearm(ch);
	}
}

static inline void route(struct sl_channel *ch, const struct node *nd,
			 struct sl_pkt *p)
{
	uint16_t to = nd->next[p->port < nd->n_next ? p->port : 0];

	p->port = 0;
	if (to == OUT)
		sl_pktq_push(&ch->out, p);
	else
		sl_cell_enqueue(ch->nodes[to].cell, p, p->ts_depart);
}

/* Moves everything ready at now as far as it goes. */
static void pump(struct sl_channel *ch, uint64_t now)
{
	uint64_t best = SL_TIME_NEVER, next;
	struct sl_pkt *p;
	unsigned i;

	for (i = 0; i < ch->n; i++) {
		struct node *nd = &ch->nodes[i];
		struct sl_cell *c = nd->cell;

		if (sl_pktq_empty(&c->out) && c->next_t > now) {
			next = c->next_t;
		} else {
			while ((p = sl_cell_dequeue(c, now, &next)))
				route(ch, nd, p);
		}
		if (next < best)
			best = next;
	}
	ch->cells_next = best;
}

uint64_t sl_channel_next_event(const struct sl_channel *ch)
{
	return ch->next_t;
}

unsigned sl_channel_dequeue(struct sl_channel *ch, uint64_t now,
			    struct sl_pkt **out, unsigned max)
{
	struct sl_pkt *p;
	unsigned n = 0;

	if (ch->cells_next <= now)
		pump(ch, now);
	while (n < max && (p = sl_pktq_pop(&ch->out))) {
		ch->pkts_out++;
		ch->bytes_out += p->len;
		out[n++] = p;
	}
	set_next(ch);
	rearm(ch);
	return n;
}

/* ---- inspection and control ------------------------------------------- */

unsigned sl_channel_cell_count(const struct sl_channel *ch)
{
	return ch->n;
}

struct sl_cell *sl_channel_cell(const struct sl_channel *ch, unsigned i)
{
	return i < ch->n ? ch->nodes[i].cell : NULL;
}

struct sl_cell *sl_channel_cell_by_name(const struct sl_channel *ch,
					const char *name)
{
	unsigned i;

	for (i = 0; i < ch->n; i++)
		if (!strcmp(ch->nodes[i].cell->name, name))
			return ch->nodes[i].cell;
	return NULL;
}

int sl_channel_control(struct sl_channel *ch, const char *cell,
		       struct json_object *cfg, uint64_t now,
		       struct sl_err *err)
{
	struct sl_cell *c = sl_channel_cell_by_name(ch, cell);
	char names[256];
	size_t n = 0;
	unsigned i;
	int ret;

	if (!c) {
		names[0] = '\0';
		for (i = 0; i < ch->n && n < sizeof(names); i++)
			n += (size_t)snprintf(names + n, sizeof(names) - n,
					      "%s%s", i ? ", " : "",
					      ch->nodes[i].cell->name);
		return sl_err_set(err, ENOENT,
				  "no cell named \"%s\"; the cells are %s", cell,
				  ch->n ? names : "none");
	}
	/* every packet that reached c by now must be in it before the
	 * change, so that it is served under the settings of its time */
	if (ch->cells_next <= now)
		pump(ch, now);
	ret = sl_cell_control(c, cfg, now, err);
	if (ret)
		sl_err_prefix(err, "cell \"%s\"", cell);
	if (now < ch->cells_next)
		ch->cells_next = now;
	set_next(ch);
	rearm(ch);
	return ret;
}

struct json_object *sl_channel_telemetry(const struct sl_channel *ch)
{
	struct json_object *o = json_object_new_object(), *cells;
	unsigned i;

	if (!o)
		return NULL;
	json_object_object_add(o, "pkts_in", json_object_new_uint64(ch->pkts_in));
	json_object_object_add(o, "bytes_in", json_object_new_uint64(ch->bytes_in));
	json_object_object_add(o, "pkts_out", json_object_new_uint64(ch->pkts_out));
	json_object_object_add(o, "bytes_out", json_object_new_uint64(ch->bytes_out));
	cells = json_object_new_array();
	for (i = 0; i < ch->n; i++)
		json_object_array_add(cells, sl_cell_telemetry(ch->nodes[i].cell));
	json_object_object_add(o, "cells", cells);
	return o;
}
