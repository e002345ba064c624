// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cell.c - the engine around every cell (include/sluice/cell.h): the
 * registry of cell types, creation from json-c, the push- and pull-mode
 * wrappers that keep the counters, drops and clones, configuration readers
 * and telemetry.
 *
 * The wrappers are where the engine's guarantees live, so that a cell's own
 * code is only its queueing rule: every packet in is counted, every packet
 * out gets its sojourn measured, every drop goes back to the caller with a
 * reason, and a push-mode cell is brought up to date (its departures up to
 * now released) before it takes a new packet, so that queue limits and
 * token state never depend on how often the dataplane polls.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/cell.h>
#include <sluice/units.h>

/*
 * The registry: one line per cell type. A new cell is its file under
 * lib/cells/ defining `const struct sl_cell_ops sl_cell_<name>_ops` and a
 * line here.
 */
#define SL_CELL_TYPES(X) \
	X(capture)       \
	X(codel)         \
	X(corrupt)       \
	X(delay)         \
	X(delay_trace)   \
	X(drr)           \
	X(duplicate)     \
	X(fcfs)          \
	X(loss)          \
	X(loss_ge)       \
	X(loss_4state)   \
	X(loss_trace)    \
	X(pie)           \
	X(policer)       \
	X(prio)          \
	X(queue)         \
	X(red)           \
	X(reorder)       \
	X(wrr)           \
	X(rate)          \
	X(trace)

#define DECLARE_OPS(name) extern const struct sl_cell_ops sl_cell_##name##_ops;
SL_CELL_TYPES(DECLARE_OPS)
#define OPS_ENTRY(name) &sl_cell_##name##_ops,
static const struct sl_cell_ops *const cell_types[] = { SL_CELL_TYPES(OPS_ENTRY) };
#define N_TYPES (sizeof(cell_types) / sizeof(cell_types[0]))

static const char *const drop_names[SL_DROP__MAX] = {
	[SL_DROP_QUEUE] = "queue",   [SL_DROP_LOSS] = "loss",
	[SL_DROP_POLICE] = "police", [SL_DROP_AQM] = "aqm",
	[SL_DROP_FLUSH] = "flush",
};

const char *sl_drop_reason_name(enum sl_drop_reason why)
{
	if ((unsigned)why >= SL_DROP__MAX)
		return "unknown";
	return drop_names[why];
}

const struct sl_cell_ops *sl_cell_find_type(const char *type)
{
	size_t i;

	for (i = 0; i < N_TYPES; i++)
		if (!strcmp(cell_types[i]->type, type))
			return cell_types[i];
	return NULL;
}

const struct sl_cell_ops *sl_cell_type(unsigned i)
{
	return i < N_TYPES ? cell_types[i] : NULL;
}

static char type_list[512];
static pthread_once_t type_list_once = PTHREAD_ONCE_INIT;

static int cmp_type(const void *a, const void *b)
{
	return strcmp((*(const struct sl_cell_ops *const *)a)->type,
		      (*(const struct sl_cell_ops *const *)b)->type);
}

static void build_type_list(void)
{
	const struct sl_cell_ops *sorted[N_TYPES];
	size_t i, n = 0;

	memcpy(sorted, cell_types, sizeof(sorted));
	qsort(sorted, N_TYPES, sizeof(sorted[0]), cmp_type);
	for (i = 0; i < N_TYPES && n < sizeof(type_list); i++)
		n += (size_t)snprintf(type_list + n, sizeof(type_list) - n,
				      "%s%s", i ? ", " : "", sorted[i]->type);
}

const char *sl_cell_type_list(void)
{
	pthread_once(&type_list_once, build_type_list);
	return type_list;
}

struct json_object *sl_cell_catalog(void)
{
	struct json_object *list = json_object_new_array(), *cell, *params, *o;
	const struct sl_cell_param *pp;
	size_t i;

	if (!list)
		return NULL;
	for (i = 0; i < N_TYPES; i++) {
		cell = json_object_new_object();
		params = json_object_new_array();
		if (!cell || !params) {
			json_object_put(cell);
			json_object_put(params);
			json_object_put(list);
			return NULL;
		}
		json_object_object_add(cell, "name",
				       json_object_new_string(cell_types[i]->type));
		json_object_object_add(cell, "description",
				       json_object_new_string(cell_types[i]->summary ?
								      cell_types[i]->summary : ""));
		for (pp = cell_types[i]->params; pp && pp->name; pp++) {
			o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(pp->name));
			json_object_object_add(o, "unit", json_object_new_string(pp->unit));
			json_object_object_add(o, "default",
					       pp->dflt ? json_object_new_string(pp->dflt) : NULL);
			json_object_object_add(o, "required",
					       json_object_new_boolean(!pp->dflt));
			json_object_object_add(o, "description",
					       json_object_new_string(pp->desc));
			json_object_array_add(params, o);
		}
		json_object_object_add(cell, "parameters", params);
		json_object_array_add(list, cell);
	}
	return list;
}

/* ---- configuration readers ------------------------------------------ */

static const char *json_kind(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "a list";
	case json_type_string:
		return "a string";
	default:
		return "a number";
	}
}

/*
 * The text of a scalar value for a units parser: strings as they are,
 * numbers as JSON writes them. NULL (with the message) for anything else.
 */
static const char *scalar_text(struct json_object *v, const char *key,
			       enum sl_unit u, struct sl_err *err)
{
	enum json_type t = json_object_get_type(v);

	if (t == json_type_string || t == json_type_int || t == json_type_double)
		return json_object_get_string(v);
	sl_err_set(err, EINVAL, "%s: expected %s, got %s", key,
		   sl_unit_expected(u), json_kind(v));
	return NULL;
}

static int bad_value(struct json_object *v, const char *key, enum sl_unit u,
		     struct sl_err *err)
{
	return sl_err_set(err, EINVAL, "%s: %s is not %s; expected %s", key,
			  json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			  sl_unit_noun(u), sl_unit_expected(u));
}

int sl_cfg_rate(struct json_object *cfg, const char *key, uint64_t *bps,
		struct sl_err *err)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	s = scalar_text(v, key, SL_UNIT_RATE, err);
	if (!s)
		return -EINVAL;
	if (sl_parse_rate(s, bps))
		return bad_value(v, key, SL_UNIT_RATE, err);
	return 1;
}

int sl_cfg_time(struct json_object *cfg, const char *key, uint64_t *ns,
		struct sl_err *err)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	s = scalar_text(v, key, SL_UNIT_TIME, err);
	if (!s)
		return -EINVAL;
	if (sl_parse_time(s, ns))
		return bad_value(v, key, SL_UNIT_TIME, err);
	return 1;
}

int sl_cfg_fraction(struct json_object *cfg, const char *key, uint32_t *ppm,
		    struct sl_err *err)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	s = scalar_text(v, key, SL_UNIT_FRACTION, err);
	if (!s)
		return -EINVAL;
	if (sl_parse_fraction(s, ppm))
		return bad_value(v, key, SL_UNIT_FRACTION, err);
	return 1;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int sl_cfg_bytes(struct json_object *cfg, const char *key, uint64_t *bytes,
		 struct sl_err *err)
{
	static const char expected[] =
		"a size in bytes such as 1514b, 15kb or 1mb (k = 1024)";
	struct json_object *v;
	const char *s;
	uint64_t n;
	bool is_bytes;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	s = scalar_text(v, key, SL_UNIT_QUEUE, err);
	if (!s)
		return -EINVAL;
	/* a bare number is bytes here, not packets as in a queue limit */
	if (all_digits(s)) {
		n = strtoull(s, NULL, 10);
		if (n) {
			*bytes = n;
			return 1;
		}
	} else if (!sl_parse_queue(s, &n, &is_bytes) && is_bytes) {
		*bytes = n;
		return 1;
	}
	return sl_err_set(err, EINVAL, "%s: %s is not a size in bytes; expected %s",
			  key,
			  json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			  expected);
}

int sl_cfg_u64(struct json_object *cfg, const char *key, uint64_t *out,
	       struct sl_err *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	if (json_object_get_type(v) != json_type_int ||
	    json_object_get_int64(v) < 0)
		return sl_err_set(err, EINVAL,
				  "%s: %s is not a non-negative integer", key,
				  json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	*out = json_object_get_uint64(v);
	return 1;
}

int sl_cfg_bool(struct json_object *cfg, const char *key, bool *out,
		struct sl_err *err)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return 1;
	}
	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (!strcmp(s, "true") || !strcmp(s, "on")) {
			*out = true;
			return 1;
		}
		if (!strcmp(s, "false") || !strcmp(s, "off")) {
			*out = false;
			return 1;
		}
	}
	return sl_err_set(err, EINVAL, "%s: %s is not a boolean; expected true or false",
			  key, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

int sl_cfg_string(struct json_object *cfg, const char *key, const char **out,
		  struct sl_err *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    !*json_object_get_string(v))
		return sl_err_set(err, EINVAL, "%s: expected a non-empty string, got %s",
				  key,
				  json_object_is_type(v, json_type_string) ?
					  "\"\"" : json_kind(v));
	*out = json_object_get_string(v);
	return 1;
}

int sl_cfg_enum(struct json_object *cfg, const char *key,
		const char *const *words, unsigned *idx, struct sl_err *err)
{
	struct json_object *v;
	char list[256];
	size_t n = 0;
	unsigned i;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
		for (i = 0; words[i]; i++)
			if (!strcmp(words[i], json_object_get_string(v))) {
				*idx = i;
				return 1;
			}
	list[0] = '\0';
	for (i = 0; words[i] && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      i ? ", " : "", words[i]);
	return sl_err_set(err, EINVAL, "%s: %s is not one of %s", key,
			  json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			  list);
}

int sl_cfg_prob(struct json_object *cfg, const char *key, double *p,
		struct sl_err *err)
{
	struct json_object *v;
	const char *s;
	char *end;
	double x;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	s = scalar_text(v, key, SL_UNIT_FRACTION, err);
	if (!s)
		return -EINVAL;
	errno = 0;
	x = strtod(s, &end);
	if (end != s && *end == '%' && !end[1])
		x /= 100;
	else if (end == s || *end)
		x = NAN;
	if (errno || !(x >= 0 && x <= 1))
		return bad_value(v, key, SL_UNIT_FRACTION, err);
	*p = x;
	return 1;
}

static bool engine_key(const char *k)
{
	return !strcmp(k, "type") || !strcmp(k, "name") || !strcmp(k, "seed") ||
	       !strcmp(k, "next");
}

int sl_cfg_check_keys(struct json_object *cfg, const char *const *keys,
		      struct sl_err *err)
{
	char list[256];
	size_t n = 0;
	int i;

	json_object_object_foreach(cfg, k, v)
	{
		(void)v;
		if (engine_key(k))
			continue;
		for (i = 0; keys[i]; i++)
			if (!strcmp(keys[i], k))
				break;
		if (keys[i])
			continue;
		list[0] = '\0';
		for (i = 0; keys[i] && n < sizeof(list); i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
					      i ? ", " : "", keys[i]);
		if (!i)
			return sl_err_set(err, EINVAL,
					  "unknown key \"%s\"; this cell takes none",
					  k);
		return sl_err_set(err, EINVAL,
				  "unknown key \"%s\"; expected one of %s", k,
				  list);
	}
	return 0;
}

int sl_cfg_check_params(struct json_object *cfg,
			const struct sl_cell_param *params, struct sl_err *err)
{
	const char *keys[64];
	unsigned n = 0;

	for (; params && params->name && n < 63; params++)
		keys[n++] = params->name;
	keys[n] = NULL;
	return sl_cfg_check_keys(cfg, keys, err);
}

/* ---- creation --------------------------------------------------------- */

static int check_name(const char *name, struct sl_err *err)
{
	const char *s;

	if (!*name || strlen(name) >= SL_CELL_NAME_MAX)
		return sl_err_set(err, EINVAL,
				  "name: \"%s\" must have 1 to %d characters",
				  name, SL_CELL_NAME_MAX - 1);
	for (s = name; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		      *s == '.'))
			return sl_err_set(err, EINVAL,
					  "name: \"%s\" may only use letters, digits, '_', '-' and '.'",
					  name);
	return 0;
}

static int cell_create(struct sl_cell *parent, struct json_object *cfg,
		       const char *default_type, uint64_t seed,
		       struct sl_cell **out, struct sl_err *err)
{
	const struct sl_cell_ops *ops;
	struct json_object *v;
	struct sl_cell *c;
	const char *type = default_type, *name;
	int ret;

	*out = NULL;
	if (!json_object_is_type(cfg, json_type_object))
		return sl_err_set(err, EINVAL, "expected a cell object such as {\"type\": \"delay\", \"delay\": \"10ms\"}, got %s",
				  json_kind(cfg));
	if (json_object_object_get_ex(cfg, "type", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return sl_err_set(err, EINVAL,
					  "type: expected a string, one of %s",
					  sl_cell_type_list());
		type = json_object_get_string(v);
	}
	if (!type)
		return sl_err_set(err, EINVAL, "type: missing; expected one of %s",
				  sl_cell_type_list());
	ops = sl_cell_find_type(type);
	if (!ops)
		return sl_err_set(err, EINVAL,
				  "type: \"%s\" is not a cell type; expected one of %s",
				  type, sl_cell_type_list());
	name = ops->type;
	if (json_object_object_get_ex(cfg, "name", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return sl_err_set(err, EINVAL, "name: expected a string, got %s",
					  json_kind(v));
		name = json_object_get_string(v);
		ret = check_name(name, err);
		if (ret)
			return ret;
	}
	ret = sl_cfg_u64(cfg, "seed", &seed, err);
	if (ret < 0)
		return ret;
	ret = sl_cfg_check_params(cfg, ops->params, err);
	if (ret)
		return ret;

	c = calloc(1, ops->size > sizeof(*c) ? ops->size : sizeof(*c));
	if (!c)
		return sl_err_set(err, ENOMEM, "out of memory");
	c->ops = ops;
	c->parent = parent;
	c->env = parent ? parent->env : &c->own_env;
	sl_pktq_init(&c->out);
	c->next_t = SL_TIME_NEVER;
	sl_rng_seed(&c->rng, seed);
	snprintf(c->name, sizeof(c->name), "%s", name);
	ret = ops->init(c, cfg, err);
	if (ret) {
		if (ops->fini)
			ops->fini(c);
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int sl_cell_new(struct json_object *cfg, uint64_t seed, struct sl_cell **out,
		struct sl_err *err)
{
	return cell_create(NULL, cfg, NULL, seed, out, err);
}

int sl_cell_new_child(struct sl_cell *parent, struct json_object *cfg,
		      const char *default_type, const char *default_key,
		      struct sl_cell **out, struct sl_err *err)
{
	uint64_t seed = sl_rng_next(&parent->rng);
	struct json_object *obj;
	size_t klen;
	int ret;

	if (json_object_is_type(cfg, json_type_object))
		return cell_create(parent, cfg, default_type, seed, out, err);
	/* "queue": "100pkt" is {"type": "queue", "limit": "100pkt"} */
	obj = json_object_new_object();
	if (!obj)
		return sl_err_set(err, ENOMEM, "out of memory");
	json_object_object_add(obj, default_key, json_object_get(cfg));
	ret = cell_create(parent, obj, default_type, seed, out, err);
	json_object_put(obj);
	/* the user wrote the value, not the key it stands for */
	klen = strlen(default_key);
	if (ret && err && !strncmp(err->msg, default_key, klen) &&
	    !strncmp(err->msg + klen, ": ", 2))
		memmove(err->msg, err->msg + klen + 2,
			strlen(err->msg + klen + 2) + 1);
	return ret;
}

void sl_cell_free(struct sl_cell *c)
{
	struct sl_pkt *p;

	if (!c)
		return;
	if (c->ops->fini)
		c->ops->fini(c);
	/* already counted as out: hand back without touching the counters */
	while ((p = sl_pktq_pop(&c->out)))
		if (c->env->drop)
			c->env->drop(p, SL_DROP_FLUSH, c->env->ctx);
	free(c);
}

void sl_cell_set_env(struct sl_cell *c, const struct sl_cell_env *env)
{
	/* children point at the root's own_env, so they follow */
	c->own_env = *env;
}

/* ---- the wrappers ----------------------------------------------------- */

static inline void account_in(struct sl_cell *c, struct sl_pkt *p,
			      uint64_t now)
{
	p->ts_enqueue = now;
	c->st.pkts_in++;
	c->st.bytes_in += p->len;
	c->st.qlen_pkts++;
	c->st.qlen_bytes += p->len;
}

static inline void account_out(struct sl_cell *c, struct sl_pkt *p)
{
	uint64_t soj = p->ts_depart > p->ts_enqueue ?
			       p->ts_depart - p->ts_enqueue : 0;

	c->st.pkts_out++;
	c->st.bytes_out += p->len;
	c->st.qlen_pkts--;
	c->st.qlen_bytes -= p->len;
	c->st.sojourn_last = soj;
	c->st.sojourn_sum += soj;
	if (soj > c->st.sojourn_max)
		c->st.sojourn_max = soj;
}

/* Releases every departure up to now into c->out. */
static void bring_up_to_date(struct sl_cell *c, uint64_t now)
{
	uint64_t next = SL_TIME_NEVER;
	struct sl_pkt *p;

	while ((p = c->ops->dequeue(c, now, &next))) {
		account_out(c, p);
		sl_pktq_push(&c->out, p);
	}
	c->next_t = next;
}

static inline uint64_t cell_clock(struct sl_cell *c, uint64_t now)
{
	if (now < c->t_last)
		return c->t_last;
	c->t_last = now;
	return now;
}

void sl_cell_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	now = cell_clock(c, now);
	if (c->next_t <= now)
		bring_up_to_date(c, now);
	account_in(c, p, now);
	c->ops->enqueue(c, p, now);
	/* the packet may be ready at once: ask at the next dequeue */
	if (now < c->next_t)
		c->next_t = now;
}

struct sl_pkt *sl_cell_dequeue(struct sl_cell *c, uint64_t now, uint64_t *next)
{
	struct sl_pkt *p = sl_pktq_pop(&c->out);
	uint64_t n = SL_TIME_NEVER;

	if (p)
		return p;
	now = cell_clock(c, now);
	if (c->next_t > now) {
		*next = c->next_t;
		return NULL;
	}
	p = c->ops->dequeue(c, now, &n);
	if (p) {
		account_out(c, p);
		return p;
	}
	c->next_t = n;
	*next = n;
	return NULL;
}

void sl_cell_child_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	account_in(c, p, now);
	c->ops->enqueue(c, p, now);
}

struct sl_pkt *sl_cell_child_peek(struct sl_cell *c, uint64_t now)
{
	return c->ops->peek ? c->ops->peek(c, now) : NULL;
}

struct sl_pkt *sl_cell_child_dequeue(struct sl_cell *c, uint64_t now)
{
	uint64_t next;
	struct sl_pkt *p = c->ops->dequeue(c, now, &next);

	if (p) {
		p->ts_depart = now;
		account_out(c, p);
	}
	return p;
}

void sl_cell_drop(struct sl_cell *c, struct sl_pkt *p, enum sl_drop_reason why)
{
	struct sl_cell *x, *root = c;

	if (c->env->tap && why != SL_DROP_FLUSH) {
		while (root->parent)
			root = root->parent;
		c->env->tap(c, p, why, root->t_last, c->env->tap_ctx);
	}
	for (x = c; x; x = x->parent) {
		x->st.drops[why]++;
		x->st.drop_bytes[why] += p->len;
		x->st.qlen_pkts--;
		x->st.qlen_bytes -= p->len;
	}
	p->next = NULL;
	if (c->env->drop)
		c->env->drop(p, why, c->env->ctx);
}

struct sl_pkt *sl_cell_clone(struct sl_cell *c, const struct sl_pkt *p)
{
	struct sl_pkt *q;
	struct sl_cell *x;

	if (!c->env->clone)
		return NULL;
	q = c->env->clone(p, c->env->ctx);
	if (!q)
		return NULL;
	q->next = NULL;
	q->flags |= SL_PKT_CLONE;
	for (x = c; x; x = x->parent) {
		x->st.pkts_in++;
		x->st.bytes_in += q->len;
		x->st.qlen_pkts++;
		x->st.qlen_bytes += q->len;
	}
	return q;
}

int sl_cell_control(struct sl_cell *c, struct json_object *cfg, uint64_t now,
		    struct sl_err *err)
{
	struct json_object *v;
	int ret;

	if (!json_object_is_type(cfg, json_type_object))
		return sl_err_set(err, EINVAL, "expected an object of settings, got %s",
				  json_kind(cfg));
	if (json_object_object_get_ex(cfg, "type", &v) &&
	    strcmp(json_object_get_string(v), c->ops->type))
		return sl_err_set(err, EINVAL,
				  "type: a live %s cell cannot become \"%s\"",
				  c->ops->type, json_object_get_string(v));
	if (json_object_object_get_ex(cfg, "name", &v) &&
	    strcmp(json_object_get_string(v), c->name))
		return sl_err_set(err, EINVAL, "name: cannot rename a live cell");
	if (!c->ops->control)
		return sl_err_set(err, EOPNOTSUPP,
				  "a %s cell cannot be changed at run time",
				  c->ops->type);
	ret = sl_cfg_check_params(cfg, c->ops->params, err);
	if (ret)
		return ret;
	if (!c->parent) {
		now = cell_clock(c, now);
		/* departures before now happen under the old settings */
		if (c->next_t <= now)
			bring_up_to_date(c, now);
	}
	ret = c->ops->control(c, cfg, now, err);
	if (!c->parent && now < c->next_t)
		c->next_t = now;
	return ret;
}

void sl_cell_stats(const struct sl_cell *c, struct sl_cell_stats *st)
{
	*st = c->st;
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

struct json_object *sl_cell_telemetry(const struct sl_cell *c)
{
	struct json_object *o = json_object_new_object(), *d, *s;
	int i;

	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "type", json_object_new_string(c->ops->type));
	add_u64(o, "pkts_in", c->st.pkts_in);
	add_u64(o, "bytes_in", c->st.bytes_in);
	add_u64(o, "pkts_out", c->st.pkts_out);
	add_u64(o, "bytes_out", c->st.bytes_out);
	d = json_object_new_object();
	for (i = 0; i < SL_DROP__MAX; i++)
		add_u64(d, drop_names[i], c->st.drops[i]);
	json_object_object_add(o, "drops", d);
	add_u64(o, "qlen_pkts", c->st.qlen_pkts);
	add_u64(o, "qlen_bytes", c->st.qlen_bytes);
	s = json_object_new_object();
	add_u64(s, "last", c->st.sojourn_last);
	add_u64(s, "avg", c->st.pkts_out ? c->st.sojourn_sum / c->st.pkts_out : 0);
	add_u64(s, "max", c->st.sojourn_max);
	json_object_object_add(o, "sojourn_ns", s);
	if (c->ops->telemetry)
		c->ops->telemetry(c, o);
	return o;
}
