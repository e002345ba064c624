/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * topo_json_int.h - what the two files of the topology parser share:
 * lib/topo_json.c (the text, the top level, nodes, addresses and links)
 * and lib/topo_json_policy.c (a link's "policy"). Not installed; the
 * public API is sl_topo_parse() and sl_topo_load() in include/sluice/topo.h.
 *
 * Every message reads "<source>: <json path>: <problem>; expected <what>";
 * the functions that fail return what sl_err_set() returns, after filling
 * the parser's error.
 */
#ifndef SLUICE_TOPO_JSON_INT_H
#define SLUICE_TOPO_JSON_INT_H

#include <stddef.h>

#include <json-c/json.h>

#include <sluice/err.h>
#include <sluice/topo.h>

#include "topo_util.h"

#define SL_TOPO_PATH_MAX 192 /* the size of a json path buffer */

struct sl_topo_parser {
	const char *src;         /* the source's name in messages */
	struct sl_err *err;
	struct sl_topo *t;       /* the model being built */
	struct sl_name_index ix; /* of t's nodes, once they are all read */
};

/* "<source>: <path>: <message>" into p->err; returns -EINVAL. */
int sl_topo_parser_fail(struct sl_topo_parser *p, const char *path,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "got <the type of o>; expected <expected>". */
int sl_topo_parser_wrong_type(struct sl_topo_parser *p, const char *path,
			      struct json_object *o, const char *expected);
/* Key key of the object at path is missing. */
int sl_topo_parser_missing(struct sl_topo_parser *p, const char *path,
			   const char *key, const char *expected);
int sl_topo_parser_string(struct sl_topo_parser *p, struct json_object *o,
			  const char *path, const char *expected,
			  const char **out);
int sl_topo_parser_check_keys(struct sl_topo_parser *p,
			      struct json_object *obj, const char *path,
			      const char *const *allowed, const char *list);
/* Paths into out, SL_TOPO_PATH_MAX bytes. */
void sl_topo_path_key(char *out, const char *path, const char *key);
void sl_topo_path_elem(char *out, const char *path, size_t i);

/* topo_json_policy.c: link lk's "policy" object pol, at path, into
 * lk->policy[] (the compact text of each direction, NULL: unshaped). */
int sl_topo_parse_policy(struct sl_topo_parser *p, struct sl_link *lk,
			 struct json_object *pol, const char *path);

#endif
