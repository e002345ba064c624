// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shell_policy.c - the policies of `sluicectl shell` (cmd_shell.c): the link
 * options of each direction, turned into one direction policy in the cell
 * engine's shorthand (docs/cells.md) and checked here the way sluiced will
 * check it, so that a wrong value is a usage error naming the option.
 *
 * mm-link's vocabulary is mapped, not copied: queue types (droptail,
 * drophead, infinite, codel, pie, red) become queue cell objects, and its
 * queue arguments (packets=, bytes=, target= in ms, ...) their keys.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/cell.h>
#include <sluice/kpolicy.h>
#include <sluice/units.h>

#include "shell.h"
#include "sluicectl.h"

#define LINK_MTU 1500

const char *const shell_key_name[SHELL_N_KEYS] = {
	"rate", "delay", "jitter", "loss", "queue", "queue-args", "aqm",
	"trace", "trace-once", "seed", "policy",
};

static const struct shell_optval *dir_val(const struct shell_policy *s,
					  int d, enum shell_key k)
{
	return s->val[1 + d][k].v ? &s->val[1 + d][k] : &s->val[0][k];
}

static int unit_error(const struct shell_optval *o, enum sl_unit u)
{
	return ctl_usage_error(ctl_find_cmd("shell"),
			       "--%s '%s': not %s; expected %s", o->opt, o->v,
			       sl_unit_noun(u), sl_unit_expected(u));
}

/* A queue type as mm-link names it, as the cell engine's queue object. */
static json_object *queue_type(const char *t)
{
	json_object *q;

	if (!strcmp(t, "droptail") || !strcmp(t, "drophead") ||
	    !strcmp(t, "infinite")) {
		q = json_object_new_object();
		json_object_object_add(q, "type", json_object_new_string("queue"));
		if (!strcmp(t, "infinite"))
			json_object_object_add(q, "limit",
					       json_object_new_string("unlimited"));
		else
			json_object_object_add(q, "drop", json_object_new_string(
						t[4] == 'h' ? "head" : "tail"));
		return q;
	}
	if (!strcmp(t, "codel") || !strcmp(t, "pie") || !strcmp(t, "red")) {
		q = json_object_new_object();
		json_object_object_add(q, "type", json_object_new_string(t));
		return q;
	}
	return NULL;
}

#define QUEUE_TYPES "droptail, drophead, infinite, codel, pie or red"

/* mm-link's queue arguments ("packets=100,target=5") into q. Bare numbers
 * of its millisecond parameters get their unit. */
static int queue_args(const struct shell_optval *o, json_object *q)
{
	static const char *const ms_keys[] = { "target", "interval", "tupdate",
					       "max_burst", NULL };
	char *copy = strdup(o->v), *save = NULL, *item, *eq, *end;
	const struct ctl_cmd *cmd = ctl_find_cmd("shell");
	int i, ret = 0;

	if (!copy)
		return CTL_EXIT_FAIL;
	for (item = strtok_r(copy, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char buf[64];
		const char *key, *v;

		while (*item == ' ')
			item++;
		eq = strchr(item, '=');
		if (!eq || eq == item || !eq[1]) {
			ret = ctl_usage_error(cmd,
					      "--%s '%s': '%s' is not KEY=VALUE; expected e.g. packets=100 or target=5,interval=100",
					      o->opt, o->v, item);
			break;
		}
		*eq = '\0';
		key = item;
		v = eq + 1;
		if (!strcmp(key, "packets") || !strcmp(key, "bytes")) {
			strtoul(v, &end, 10);
			if (*end || !isdigit((unsigned char)*v)) {
				ret = ctl_usage_error(cmd,
						      "--%s: %s=%s: expected a whole number",
						      o->opt, key, v);
				break;
			}
			snprintf(buf, sizeof(buf), "%s%s", v,
				 key[0] == 'p' ? "pkt" : "b");
			json_object_object_add(q, "limit",
					       json_object_new_string(buf));
			continue;
		}
		if (!strcmp(key, "qdelay_ref"))
			key = "target";
		for (i = 0; ms_keys[i]; i++)
			if (!strcmp(key, ms_keys[i]))
				break;
		strtod(v, &end);
		if (ms_keys[i] && end != v && !*end) {
			snprintf(buf, sizeof(buf), "%sms", v);
			v = buf;
		}
		if (!strcmp(v, "true") || !strcmp(v, "false"))
			json_object_object_add(q, key,
					       json_object_new_boolean(v[0] == 't'));
		else if ((!strcmp(key, "alpha") || !strcmp(key, "beta")) &&
			 end != v && !*end) /* PIE's weights are numbers */
			json_object_object_add(q, key,
					       json_object_new_double(strtod(v, NULL)));
		else
			json_object_object_add(q, key, json_object_new_string(v));
	}
	free(copy);
	return ret;
}

/* The "queue" key of direction d, or NULL when no queue option is given;
 * *ret an exit status on error. */
static json_object *build_queue(const struct shell_policy *s, int d, int *ret)
{
	const struct shell_optval *qo = dir_val(s, d, SHELL_QUEUE),
			    *ao = dir_val(s, d, SHELL_AQM),
			    *args = dir_val(s, d, SHELL_QUEUE_ARGS);
	const struct ctl_cmd *cmd = ctl_find_cmd("shell");
	json_object *q = NULL, *t;
	const char *limit = NULL;
	uint64_t n;
	bool bytes;

	*ret = 0;
	if (!qo->v && !ao->v && !args->v)
		return NULL;
	if (qo->v) {
		if (!strcmp(qo->v, "unlimited"))
			limit = "unlimited";
		else if (!sl_parse_queue(qo->v, &n, &bytes))
			limit = qo->v;
		else if (!(q = queue_type(qo->v))) {
			*ret = ctl_usage_error(cmd,
					       "--%s '%s': expected a size such as 100pkt or 64kb, or a queue type: %s",
					       qo->opt, qo->v, QUEUE_TYPES);
			return NULL;
		}
	}
	if (ao->v) {
		if (!(t = queue_type(ao->v))) {
			*ret = ctl_usage_error(cmd, "--%s '%s': expected %s",
					       ao->opt, ao->v, QUEUE_TYPES);
			json_object_put(q);
			return NULL;
		}
		if (q) {
			json_object_put(t);
			if (strcmp(ao->v, qo->v)) {
				*ret = ctl_usage_error(cmd,
						       "--%s %s and --%s %s name two queue types; expected one",
						       qo->opt, qo->v, ao->opt, ao->v);
				json_object_put(q);
				return NULL;
			}
		} else {
			q = t;
		}
	}
	/* a size alone is the shorthand (a kernel shaper can take it); the
	 * kernel's shaper has no unlimited queue, a queue cell has */
	if (!q && !args->v && strcmp(limit, "unlimited"))
		return json_object_new_string(limit);
	if (!q)
		q = queue_type("droptail");
	if (limit)
		json_object_object_add(q, "limit", json_object_new_string(limit));
	if (args->v && (*ret = queue_args(args, q))) {
		json_object_put(q);
		return NULL;
	}
	return q;
}

/* Appends " word" to a summary. */
static void sum_add(char *buf, size_t len, const char *word)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? " " : "", word);
}

/*
 * The policy of direction d (0 up, 1 down) as JSON text in s->policy[d]
 * (NULL when the direction is a plain wire), and its summary. Returns an
 * exit status.
 */
int shell_policy_build(struct shell_policy *s, int d)
{
	const struct ctl_cmd *cmd = ctl_find_cmd("shell");
	const struct shell_optval *rate = dir_val(s, d, SHELL_RATE),
			    *trace = dir_val(s, d, SHELL_TRACE), *o, *qo, *ao;
	char *sum = s->summary[d], buf[PATH_MAX + 8], rp[PATH_MAX];
	size_t sl = sizeof(s->summary[d]);
	json_object *p, *q;
	uint64_t v64;
	uint32_t v32;
	int ret = 0;

	/* A direction's own capacity replaces the shared one. */
	if (s->val[1 + d][SHELL_TRACE].v && !s->val[1 + d][SHELL_RATE].v)
		rate = &s->val[1 + d][SHELL_RATE];
	if (s->val[1 + d][SHELL_RATE].v && !s->val[1 + d][SHELL_TRACE].v)
		trace = &s->val[1 + d][SHELL_TRACE];

	o = dir_val(s, d, SHELL_POLICY);
	if (o->v) {
		p = json_tokener_parse(o->v);
		if (!p || !json_object_is_type(p, json_type_object)) {
			json_object_put(p);
			return ctl_usage_error(cmd,
					       "--%s '%s': expected a JSON object, e.g. '{\"delay\": \"10ms\"}'",
					       o->opt, o->v);
		}
		sum_add(sum, sl, "policy");
	} else {
		p = json_object_new_object();
	}

	if (rate->v && trace->v) {
		ret = ctl_usage_error(cmd,
				      "--%s and --%s: a direction's capacity is a rate or a trace, not both",
				      rate->opt, trace->opt);
		goto out;
	}
	if (rate->v) {
		if (sl_parse_rate(rate->v, &v64)) {
			ret = unit_error(rate, SL_UNIT_RATE);
			goto out;
		}
		json_object_object_add(p, "rate", json_object_new_string(rate->v));
		sum_add(sum, sl, rate->v);
	}
	if (trace->v) {
		/* sluiced reads the file, from its own directory */
		if (!realpath(trace->v, rp)) {
			ret = ctl_usage_error(cmd, "--%s '%s': %s", trace->opt,
					      trace->v, strerror(errno));
			goto out;
		}
		json_object_object_add(p, "trace", json_object_new_string(rp));
		snprintf(buf, sizeof(buf), "trace:%s", basename(rp));
		sum_add(sum, sl, buf);
		if (dir_val(s, d, SHELL_TRACE_ONCE)->v)
			json_object_object_add(p, "trace_once",
					       json_object_new_boolean(1));
	} else if (s->val[1 + d][SHELL_TRACE_ONCE].v ||
		   (s->val[0][SHELL_TRACE_ONCE].v && !s->val[0][SHELL_TRACE].v &&
		    !s->val[1][SHELL_TRACE].v && !s->val[2][SHELL_TRACE].v)) {
		/* the shared --trace-once applies where there is a trace: a
		 * direction whose own rate replaced it simply has none */
		ret = ctl_usage_error(cmd, "--%s needs a trace (--trace FILE) in the same direction",
				      dir_val(s, d, SHELL_TRACE_ONCE)->opt);
		goto out;
	}
	o = dir_val(s, d, SHELL_DELAY);
	if (o->v) {
		if (sl_parse_time(o->v, &v64)) {
			ret = unit_error(o, SL_UNIT_TIME);
			goto out;
		}
		json_object_object_add(p, "delay", json_object_new_string(o->v));
		sum_add(sum, sl, o->v);
	}
	o = dir_val(s, d, SHELL_JITTER);
	if (o->v) {
		if (sl_parse_time(o->v, &v64)) {
			ret = unit_error(o, SL_UNIT_TIME);
			goto out;
		}
		if (!json_object_object_get_ex(p, "delay", NULL)) {
			ret = ctl_usage_error(cmd, "--%s needs a delay (--delay TIME) in the same direction",
					      o->opt);
			goto out;
		}
		json_object_object_add(p, "jitter", json_object_new_string(o->v));
		snprintf(buf, sizeof(buf), "+-%s", o->v);
		sum_add(sum, sl, buf);
	}
	o = dir_val(s, d, SHELL_LOSS);
	if (o->v) {
		if (sl_parse_fraction(o->v, &v32)) {
			ret = unit_error(o, SL_UNIT_FRACTION);
			goto out;
		}
		json_object_object_add(p, "loss", json_object_new_string(o->v));
		snprintf(buf, sizeof(buf), "loss %s", o->v);
		sum_add(sum, sl, buf);
	}
	q = build_queue(s, d, &ret);
	if (ret)
		goto out;
	if (q) {
		if (!rate->v && !trace->v &&
		    !json_object_object_get_ex(p, "rate", NULL) &&
		    !json_object_object_get_ex(p, "trace", NULL)) {
			json_object_put(q);
			ret = ctl_usage_error(cmd,
					      "a queue option in the %s direction needs --rate or --trace there as well; a queue only fills behind a rate limit",
					      d ? "down" : "up");
			goto out;
		}
		/* in the words given: "queue drophead", "queue codel 300pkt" */
		qo = dir_val(s, d, SHELL_QUEUE);
		ao = dir_val(s, d, SHELL_AQM);
		snprintf(buf, sizeof(buf), "queue %s%s%s",
			 ao->v ? ao->v : qo->v ? qo->v : "droptail",
			 ao->v && qo->v && strcmp(ao->v, qo->v) ? " " : "",
			 ao->v && qo->v && strcmp(ao->v, qo->v) ? qo->v : "");
		sum_add(sum, sl, buf);
		json_object_object_add(p, "queue", q);
	}
	o = dir_val(s, d, SHELL_SEED);
	if (o->v) {
		char *end;

		errno = 0;
		v64 = strtoull(o->v, &end, 10);
		if (errno || end == o->v || *end || v64 > INT64_MAX) {
			ret = ctl_usage_error(cmd, "--%s '%s': expected a whole number",
					      o->opt, o->v);
			goto out;
		}
		json_object_object_add(p, "seed", json_object_new_int64((int64_t)v64));
	}
	if (json_object_object_length(p)) {
		s->policy[d] = strdup(json_object_to_json_string_ext(
			p, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		if (!s->policy[d])
			ret = CTL_EXIT_FAIL;
	}
	if (!*sum)
		snprintf(sum, sl, "plain");
out:
	json_object_put(p);
	return ret;
}

/*
 * Checks a direction's policy as sluiced will: the kernel path when it
 * can carry it, else a channel of cells (which also reads trace files).
 */
int shell_policy_check(const struct shell_policy *s, int d)
{
	struct sl_err err = { { 0 } };
	struct sl_channel *ch = NULL;
	struct sl_kpolicy kp;
	int ret;

	if (!s->policy[d])
		return 0;
	ret = sl_kpolicy_from_policy(s->policy[d], LINK_MTU, &kp, &err);
	if (ret == -EOPNOTSUPP) {
		sl_err_clear(&err);
		ret = sl_channel_from_policy(s->policy[d], 1, &ch, &err);
		sl_channel_free(ch);
	}
	if (ret)
		return ctl_usage_error(ctl_find_cmd("shell"),
				       "the %s direction (%s): %s",
				       d ? "down" : "up", s->policy[d], err.msg);
	return 0;
}

void shell_policy_free(struct shell_policy *s)
{
	free(s->policy[0]);
	free(s->policy[1]);
	s->policy[0] = s->policy[1] = NULL;
}
