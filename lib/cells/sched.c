// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sched.c - what the schedulers over flow classes share
 * (include/sluice/cellkit.h): the class list and its parsing, the
 * classifier (flow-table class or a match on the headers), the child
 * queue of each class, and the cell operations. fcfs.c, prio.c, wrr.c and
 * drr.c only say which class goes next.
 *
 * A scheduler is a queue cell: it belongs under a shaper (rate, trace),
 * which peeks and dequeues it like any queue. Each class's queue is a
 * child cell with a peek (a size is a drop-tail queue; any queue cell
 * works, so a class may run CoDel), so per-class limits, drops and
 * sojourns show in its telemetry.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>
#include <sluice/flow.h>

#define MAX_CLASSES 64
#define DEFAULT_QUEUE "1000pkt"

static inline struct sl_sched *to_sched(struct sl_cell *c)
{
	return (struct sl_sched *)c;
}

struct sl_pkt *sl_sched_head(struct sl_sched *s, unsigned i, uint64_t now)
{
	return sl_cell_child_peek(s->cls[i].queue, now);
}

/* ---- classification --------------------------------------------------- */

static bool prefix_has(int family, const uint8_t *pfx, uint8_t len,
		       const struct sl_hdr *h, const uint8_t *addr)
{
	unsigned bytes = len / 8, bits = len % 8;

	if (!family)
		return true;
	if (family != h->family)
		return false;
	if (memcmp(pfx, addr, bytes))
		return false;
	return !bits || !((pfx[bytes] ^ addr[bytes]) & (0xff << (8 - bits)));
}

static bool match_hdr(const struct sl_sched_match *m, const struct sl_hdr *h)
{
	bool ports = h->proto == IPPROTO_TCP || h->proto == IPPROTO_UDP;

	if (m->proto) {
		if (m->proto == IPPROTO_ICMP) {
			if (h->proto != IPPROTO_ICMP && h->proto != IPPROTO_ICMPV6)
				return false;
		} else if (h->proto != m->proto) {
			return false;
		}
	}
	if (!prefix_has(m->src_family, m->src, m->src_len, h, h->src) ||
	    !prefix_has(m->dst_family, m->dst, m->dst_len, h, h->dst))
		return false;
	if (m->sport_lo || m->sport_hi != 0xffff) {
		if (!ports || h->sport < m->sport_lo || h->sport > m->sport_hi)
			return false;
	}
	if (m->dport_lo || m->dport_hi != 0xffff) {
		if (!ports || h->dport < m->dport_lo || h->dport > m->dport_hi)
			return false;
	}
	return true;
}

unsigned sl_sched_classify(struct sl_sched *s, const struct sl_pkt *p)
{
	struct sl_hdr h;
	bool ip = false, parsed = false;
	unsigned i;

	for (i = 0; i < s->n; i++) {
		const struct sl_sched_class *k = &s->cls[i];

		if (k->has_class && k->class_id == p->class)
			return i;
		if (k->has_match) {
			if (!parsed) {
				ip = sl_hdr_parse(p, &h);
				parsed = true;
			}
			if (ip && match_hdr(&k->match, &h))
				return i;
		}
	}
	return s->dflt;
}

/* ---- configuration ---------------------------------------------------- */

static int read_match(struct json_object *v, struct sl_sched_match *m,
		      struct sl_err *err)
{
	struct sl_flow_rule r;
	int ret;

	if (json_object_is_type(v, json_type_string))
		ret = sl_flow_parse(json_object_get_string(v), &r, err);
	else if (json_object_is_type(v, json_type_object))
		ret = sl_flow_parse_json(v, &r, err);
	else
		return sl_err_set(err, EINVAL,
				  "match: expected a flow spec such as \"proto udp dport 5000-5010\"");
	if (ret) {
		/* "flow: x" -> "match: x" */
		if (err && !strncmp(err->msg, "flow: ", 6))
			memmove(err->msg, err->msg + 6, strlen(err->msg + 6) + 1);
		sl_err_prefix(err, "match");
		return ret;
	}
	if (r.priority != SL_FLOW_PRIO_DEFAULT || r.mode != SL_FLOW_MODE_MAX ||
	    r.class)
		return sl_err_set(err, EINVAL,
				  "match: prio, mode and class belong to the flow table; a match takes proto, src, dst, sport and dport");
	memset(m, 0, sizeof(*m));
	m->proto = r.proto;
	m->src_family = r.src.family;
	memcpy(m->src, r.src.addr, sizeof(m->src));
	m->src_len = r.src.len;
	m->dst_family = r.dst.family;
	memcpy(m->dst, r.dst.addr, sizeof(m->dst));
	m->dst_len = r.dst.len;
	m->sport_lo = r.sport_lo;
	m->sport_hi = r.sport_hi;
	m->dport_lo = r.dport_lo;
	m->dport_hi = r.dport_hi;
	return 0;
}

static bool key_allowed(const struct sl_sched_policy *pol, const char *k)
{
	const char *const *x;

	if (!strcmp(k, "name") || !strcmp(k, "class") || !strcmp(k, "match") ||
	    !strcmp(k, "queue"))
		return true;
	for (x = pol->class_keys; x && *x; x++)
		if (!strcmp(*x, k))
			return true;
	return false;
}

static int check_class_keys(const struct sl_sched_policy *pol,
			    struct json_object *o, struct sl_err *err)
{
	char list[160];
	const char *const *x;
	size_t n;

	json_object_object_foreach(o, k, v)
	{
		(void)v;
		if (key_allowed(pol, k))
			continue;
		n = (size_t)snprintf(list, sizeof(list), "name, class, match");
		for (x = pol->class_keys; x && *x && n < sizeof(list); x++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, ", %s", *x);
		return sl_err_set(err, EINVAL,
				  "unknown key \"%s\"; expected one of %s, queue",
				  k, list);
	}
	return 0;
}

/* Reads the settings of one class (all but its queue) into k. */
static int read_class(const struct sl_sched_policy *pol, struct json_object *o,
		      struct sl_sched_class *k, bool init, struct sl_err *err)
{
	struct json_object *v;
	uint64_t x;
	int ret;

	if (!json_object_is_type(o, json_type_object))
		return sl_err_set(err, EINVAL,
				  "expected a class object such as {\"match\": \"proto udp\", \"queue\": \"100pkt\"}");
	ret = check_class_keys(pol, o, err);
	if (ret)
		return ret;
	if (json_object_object_get_ex(o, "name", &v)) {
		const char *name = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string) || !*name ||
		    strlen(name) >= SL_CELL_NAME_MAX)
			return sl_err_set(err, EINVAL,
					  "name: expected a string of 1 to %d characters",
					  SL_CELL_NAME_MAX - 1);
		if (!init && strcmp(name, k->name))
			return sl_err_set(err, EINVAL,
					  "name: cannot rename class \"%s\"; give the classes in their order",
					  k->name);
		snprintf(k->name, sizeof(k->name), "%s", name);
	}
	ret = sl_cfg_u64(o, "class", &x, err);
	if (ret < 0)
		return ret;
	if (ret) {
		if (x > UINT32_MAX)
			return sl_err_set(err, EINVAL, "class: %llu is more than 4294967295",
					  (unsigned long long)x);
		k->has_class = true;
		k->class_id = (uint32_t)x;
	}
	if (json_object_object_get_ex(o, "match", &v)) {
		ret = read_match(v, &k->match, err);
		if (ret)
			return ret;
		k->has_match = true;
	}
	ret = sl_cfg_u64(o, "weight", &x, err);
	if (ret < 0)
		return ret;
	if (ret) {
		if (!x || x > 1000000)
			return sl_err_set(err, EINVAL, "weight: %llu is out of range; expected 1 to 1000000",
					  (unsigned long long)x);
		k->weight = (uint32_t)x;
	}
	ret = sl_cfg_bytes(o, "quantum", &x, err);
	if (ret < 0)
		return ret;
	if (ret) {
		if (x > 1u << 20)
			return sl_err_set(err, EINVAL, "quantum: %llu bytes is more than 1mb",
					  (unsigned long long)x);
		k->quantum = x;
	}
	return 0;
}

static int find_class(struct sl_sched *s, struct json_object *cfg,
		      unsigned *out, struct sl_err *err)
{
	struct json_object *v;
	unsigned i;

	if (!json_object_object_get_ex(cfg, "default", &v))
		return 0;
	for (i = 0; i < s->n; i++)
		if (json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), s->cls[i].name)) {
			*out = i;
			return 0;
		}
	return sl_err_set(err, EINVAL, "default: %s is not the name of a class",
			  json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

int sl_sched_init(struct sl_cell *c, struct json_object *cfg,
		  const struct sl_sched_policy *pol, struct sl_err *err)
{
	struct sl_sched *s = to_sched(c);
	struct json_object *list = NULL, *o, *qcfg, *dq;
	unsigned i, k;
	size_t n = 1;
	int ret;

	s->pol = pol;
	if (json_object_object_get_ex(cfg, "classes", &list)) {
		if (!json_object_is_type(list, json_type_array) ||
		    (n = json_object_array_length(list)) < 1 || n > MAX_CLASSES)
			return sl_err_set(err, EINVAL,
					  "classes: expected a list of 1 to %d classes such as [{\"match\": \"proto udp\"}, {}]",
					  MAX_CLASSES);
	}
	s->cls = calloc(n, sizeof(*s->cls));
	if (!s->cls)
		return sl_err_set(err, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		struct sl_sched_class *kl = &s->cls[i];

		snprintf(kl->name, sizeof(kl->name), "%u", i);
		kl->weight = 1;
		kl->quantum = 1514;
		o = list ? json_object_array_get_idx(list, i) : NULL;
		if (o) {
			ret = read_class(pol, o, kl, true, err);
			if (ret) {
				sl_err_prefix(err, "classes[%u]", i);
				return ret;
			}
		}
		for (k = 0; k < i; k++)
			if (!strcmp(s->cls[k].name, kl->name))
				return sl_err_set(err, EINVAL,
						  "classes[%u].name: \"%s\" is already the name of classes[%u]",
						  i, kl->name, k);
		dq = NULL;
		if (!o || !json_object_object_get_ex(o, "queue", &qcfg)) {
			dq = json_object_new_string(DEFAULT_QUEUE);
			if (!dq)
				return sl_err_set(err, ENOMEM, "out of memory");
			qcfg = dq;
		}
		ret = sl_cell_new_child(c, qcfg, "queue", "limit", &kl->queue, err);
		json_object_put(dq);
		if (!ret && !kl->queue->ops->peek)
			ret = sl_err_set(err, EINVAL,
					 "a %s cell cannot queue for a scheduler; expected a queue cell such as {\"type\": \"queue\", \"limit\": \"100pkt\"}",
					 kl->queue->ops->type);
		if (ret) {
			sl_err_prefix(err, "classes[%u].queue", i);
			s->n = i + 1;
			return ret;
		}
		s->any_match |= kl->has_match;
		s->n = i + 1;
	}
	s->dflt = s->n - 1;
	return find_class(s, cfg, &s->dflt, err);
}

void sl_sched_fini(struct sl_cell *c)
{
	struct sl_sched *s = to_sched(c);
	unsigned i;

	for (i = 0; s->cls && i < s->n; i++)
		sl_cell_free(s->cls[i].queue);
	free(s->cls);
	s->cls = NULL;
}

/* ---- operations ------------------------------------------------------- */

void sl_sched_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct sl_sched *s = to_sched(c);

	sl_cell_child_enqueue(s->cls[sl_sched_classify(s, p)].queue, p, now);
}

struct sl_pkt *sl_sched_peek(struct sl_cell *c, uint64_t now)
{
	struct sl_sched *s = to_sched(c);
	int i = s->pol->pick(s, now);

	return i < 0 ? NULL : sl_sched_head(s, (unsigned)i, now);
}

struct sl_pkt *sl_sched_dequeue(struct sl_cell *c, uint64_t now,
				uint64_t *next)
{
	struct sl_sched *s = to_sched(c);
	int i = s->pol->pick(s, now);
	struct sl_pkt *p;

	if (i < 0 || !(p = sl_cell_child_dequeue(s->cls[i].queue, now))) {
		*next = SL_TIME_NEVER;
		return NULL;
	}
	s->cls[i].sent_pkts++;
	s->cls[i].sent_bytes += p->len;
	if (s->pol->served)
		s->pol->served(s, (unsigned)i, p);
	/* in push mode it leaves as it came; a parent restamps */
	p->ts_depart = p->ts_enqueue;
	return p;
}

/*
 * {"classes": [{...}, ...]} with one entry per class, in order, each
 * partial ({} changes nothing); "default" names a class. Everything but
 * the queues is checked first; the queues' changes go last.
 */
int sl_sched_control(struct sl_cell *c, struct json_object *cfg, uint64_t now,
		     struct sl_err *err)
{
	struct sl_sched *s = to_sched(c);
	struct sl_sched_class *tmp = NULL;
	struct json_object *list = NULL, *o, *q, *obj;
	unsigned i, dflt = s->dflt;
	int ret = 0;

	if (json_object_object_get_ex(cfg, "classes", &list) &&
	    (!json_object_is_type(list, json_type_array) ||
	     json_object_array_length(list) != s->n))
		return sl_err_set(err, EINVAL,
				  "classes: expected a list of %u entries, one per class in order ({} leaves a class alone)",
				  s->n);
	ret = find_class(s, cfg, &dflt, err);
	if (ret || !list) {
		if (!ret)
			s->dflt = dflt;
		return ret;
	}
	tmp = malloc(s->n * sizeof(*tmp));
	if (!tmp)
		return sl_err_set(err, ENOMEM, "out of memory");
	memcpy(tmp, s->cls, s->n * sizeof(*tmp));
	for (i = 0; i < s->n; i++) {
		ret = read_class(s->pol, json_object_array_get_idx(list, i),
				 &tmp[i], false, err);
		if (ret) {
			sl_err_prefix(err, "classes[%u]", i);
			goto out;
		}
	}
	for (i = 0; i < s->n; i++) {
		o = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(o, "queue", &q))
			continue;
		if (json_object_is_type(q, json_type_object)) {
			ret = sl_cell_control(s->cls[i].queue, q, now, err);
		} else {
			obj = json_object_new_object();
			if (!obj) {
				ret = sl_err_set(err, ENOMEM, "out of memory");
				goto out;
			}
			json_object_object_add(obj, "limit", json_object_get(q));
			ret = sl_cell_control(s->cls[i].queue, obj, now, err);
			json_object_put(obj);
			if (ret && err && !strncmp(err->msg, "limit: ", 7))
				memmove(err->msg, err->msg + 7, strlen(err->msg + 7) + 1);
		}
		if (ret) {
			sl_err_prefix(err, "classes[%u].queue", i);
			goto out;
		}
	}
	s->any_match = false;
	for (i = 0; i < s->n; i++) {
		tmp[i].queue = s->cls[i].queue;
		s->any_match |= tmp[i].has_match;
	}
	memcpy(s->cls, tmp, s->n * sizeof(*tmp));
	s->dflt = dflt;
out:
	free(tmp);
	return ret;
}

void sl_sched_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct sl_sched *s = (const struct sl_sched *)c;
	struct json_object *list = json_object_new_array(), *o;
	const char *const *x;
	unsigned i;

	for (i = 0; i < s->n; i++) {
		const struct sl_sched_class *k = &s->cls[i];

		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(k->name));
		if (k->has_class)
			json_object_object_add(o, "class", json_object_new_uint64(k->class_id));
		json_object_object_add(o, "match", json_object_new_boolean(k->has_match));
		for (x = s->pol->class_keys; x && *x; x++) {
			if (!strcmp(*x, "weight"))
				json_object_object_add(o, "weight", json_object_new_uint64(k->weight));
			if (!strcmp(*x, "quantum")) {
				json_object_object_add(o, "quantum", json_object_new_uint64(k->quantum));
				json_object_object_add(o, "deficit", json_object_new_int64(k->deficit));
			}
		}
		json_object_object_add(o, "sent_pkts", json_object_new_uint64(k->sent_pkts));
		json_object_object_add(o, "sent_bytes", json_object_new_uint64(k->sent_bytes));
		json_object_object_add(o, "queue", sl_cell_telemetry(k->queue));
		json_object_array_add(list, o);
	}
	json_object_object_add(obj, "classes", list);
	json_object_object_add(obj, "default", json_object_new_string(s->cls[s->dflt].name));
}
