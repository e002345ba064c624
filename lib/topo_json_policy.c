// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * topo_json_policy.c - the "policy" of a link in the topology file format
 * (docs/topology.md), for the parser in topo_json.c: one direction object
 * for both ways, or "up" and/or "down". The simple keys are checked here
 * with messages that name the key's path; then each direction is built
 * with the cell engine, which knows every cell and its parameters. The
 * model keeps a direction's compact JSON text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/cell.h>
#include <sluice/topo.h>
#include <sluice/units.h>

#include "topo_json_int.h"
#include "topo_util.h"

#define POLICY_KEYS \
	"rate, delay, jitter, loss, queue, policer, burst, seed, cells"
#define POLICY_EXPECTED \
	"an object with any of " POLICY_KEYS ", or with \"up\" and/or \"down\""

static int check_unit(struct sl_topo_parser *p, struct json_object *o,
		      const char *path, enum sl_unit u)
{
	char q[SL_QUOTE_MAX], expected[160];
	const char *s;
	uint64_t v64;
	uint32_t v32;
	bool bytes;
	int ret;

	snprintf(expected, sizeof(expected), "a string: %s",
		 sl_unit_expected(u));
	ret = sl_topo_parser_string(p, o, path, expected, &s);
	if (ret)
		return ret;
	switch (u) {
	case SL_UNIT_RATE:
		ret = sl_parse_rate(s, &v64);
		break;
	case SL_UNIT_TIME:
		ret = sl_parse_time(s, &v64);
		break;
	case SL_UNIT_FRACTION:
		ret = sl_parse_fraction(s, &v32);
		break;
	case SL_UNIT_QUEUE:
		ret = sl_parse_queue(s, &v64, &bytes);
		break;
	}
	if (ret)
		return sl_topo_parser_fail(p, path, "%s is not %s; expected %s",
					   sl_quote(s, q, sizeof(q)),
					   sl_unit_noun(u), sl_unit_expected(u));
	return 0;
}

static int check_cells(struct sl_topo_parser *p, struct json_object *arr,
		       const char *path)
{
	char cp[SL_TOPO_PATH_MAX], tp[SL_TOPO_PATH_MAX];
	struct json_object *type;
	const char *s;
	size_t i, len;
	int ret;

	if (!json_object_is_type(arr, json_type_array))
		return sl_topo_parser_wrong_type(p, path, arr,
						 "an array of cells, each an object with a \"type\"");
	len = json_object_array_length(arr);
	for (i = 0; i < len; i++) {
		struct json_object *c = json_object_array_get_idx(arr, i);

		sl_topo_path_elem(cp, path, i);
		if (!json_object_is_type(c, json_type_object))
			return sl_topo_parser_wrong_type(p, cp, c,
							 "an object with a \"type\" such as \"delay\"");
		if (!json_object_object_get_ex(c, "type", &type))
			return sl_topo_parser_missing(p, cp, "type",
						      "the cell type as a string such as \"delay\"");
		sl_topo_path_key(tp, cp, "type");
		ret = sl_topo_parser_string(p, type, tp,
					    "the cell type as a string such as \"delay\"",
					    &s);
		if (ret)
			return ret;
		if (!*s)
			return sl_topo_parser_fail(p, tp,
						   "the type is empty; expected the cell type as a string such as \"delay\"");
	}
	return 0;
}

/* A direction is checked by building it: the cell engine knows every
 * cell's keys and names the one that is wrong. */
static int check_channel(struct sl_topo_parser *p, struct json_object *dir,
			 const char *path)
{
	struct sl_channel *ch = NULL;
	struct sl_err e;
	int ret;

	ret = sl_channel_new(dir, 0, &ch, &e);
	sl_channel_free(ch);
	if (ret)
		return sl_topo_parser_fail(p, path, "%s", e.msg);
	return 0;
}

/* Checks one direction object; *out gets its compact text, or NULL when
 * it is empty (an unshaped direction). The simple keys are checked here,
 * with messages that name the key's path; then the whole direction is
 * built with the cell engine, which knows every cell and its parameters. */
static int parse_direction(struct sl_topo_parser *p, struct json_object *dir,
			   const char *path, char **out)
{
	static const char *const keys[] = { "rate",  "delay", "jitter",
					    "loss",  "queue", "policer",
					    "burst" };
	static const enum sl_unit units[] = { SL_UNIT_RATE,  SL_UNIT_TIME,
					      SL_UNIT_TIME,  SL_UNIT_FRACTION,
					      SL_UNIT_QUEUE, SL_UNIT_RATE,
					      SL_UNIT_QUEUE };
	char kp[SL_TOPO_PATH_MAX];
	struct json_object *v;
	int i, ret;

	*out = NULL;
	if (!json_object_is_type(dir, json_type_object))
		return sl_topo_parser_wrong_type(p, path, dir,
						 "an object with any of " POLICY_KEYS);
	for (i = 0; i < 7; i++) {
		if (!json_object_object_get_ex(dir, keys[i], &v))
			continue;
		/* loss and queue may also be cells of their own (objects) */
		if (json_object_is_type(v, json_type_object) &&
		    (!strcmp(keys[i], "loss") || !strcmp(keys[i], "queue")))
			continue;
		sl_topo_path_key(kp, path, keys[i]);
		ret = check_unit(p, v, kp, units[i]);
		if (ret)
			return ret;
	}
	if (json_object_object_get_ex(dir, "seed", &v) &&
	    (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)) {
		sl_topo_path_key(kp, path, "seed");
		return sl_topo_parser_wrong_type(p, kp, v,
						 "a non-negative integer");
	}
	if (json_object_object_get_ex(dir, "cells", &v)) {
		sl_topo_path_key(kp, path, "cells");
		ret = check_cells(p, v, kp);
		if (ret)
			return ret;
	}
	if (!json_object_object_length(dir))
		return 0;
	ret = check_channel(p, dir, path);
	if (ret)
		return ret;
	*out = strdup(json_object_to_json_string_ext(dir,
						      JSON_C_TO_STRING_PLAIN));
	if (!*out)
		return sl_err_set(p->err, ENOMEM, "%s: out of memory", p->src);
	return 0;
}

int sl_topo_parse_policy(struct sl_topo_parser *p, struct sl_link *lk,
			 struct json_object *pol, const char *path)
{
	static const char *const dir_keys[] = { "up", "down", NULL };
	static const char *const dir_names[2] = { "up", "down" };
	char dp[SL_TOPO_PATH_MAX];
	struct json_object *v;
	int d, ret;

	if (!json_object_is_type(pol, json_type_object))
		return sl_topo_parser_wrong_type(p, path, pol, POLICY_EXPECTED);
	if (!json_object_object_get_ex(pol, "up", NULL) &&
	    !json_object_object_get_ex(pol, "down", NULL)) {
		/* shorthand: the same policy both ways */
		ret = parse_direction(p, pol, path, &lk->policy[SL_DIR_UP]);
		if (ret || !lk->policy[SL_DIR_UP])
			return ret;
		lk->policy[SL_DIR_DOWN] = strdup(lk->policy[SL_DIR_UP]);
		if (!lk->policy[SL_DIR_DOWN])
			return sl_err_set(p->err, ENOMEM, "%s: out of memory",
					  p->src);
		return 0;
	}
	ret = sl_topo_parser_check_keys(p, pol, path, dir_keys,
					"up, down (a policy with \"up\" or \"down\" has nothing else)");
	if (ret)
		return ret;
	for (d = 0; d < 2; d++) {
		if (!json_object_object_get_ex(pol, dir_names[d], &v))
			continue;
		sl_topo_path_key(dp, path, dir_names[d]);
		ret = parse_direction(p, v, dp, &lk->policy[d]);
		if (ret)
			return ret;
	}
	return 0;
}
