/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * topo_util.h - internal helpers shared by the topology parser
 * (topo_json.c, topo_json_policy.c), the validator (validate.c) and the
 * generators (gen.c): name rules, a name -> node index table, and quoting
 * of user text in error messages. Not installed; the public API is include/sluice/topo.h.
 */
#ifndef SLUICE_TOPO_UTIL_H
#define SLUICE_TOPO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/topo.h>

/* What follows "expected " for a name; %d is the maximum length. */
#define SL_NAME_EXPECTED "1 to %d letters, digits, '_' or '-', starting with a letter"

/* The same self-link message from the parser (which must not hand a
 * self-link to sl_topo_add_link) and from the validator. */
#define SL_MSG_SELF_LINK \
	"%s: links[%u].endpoints: both endpoints are node \"%s\"; expected two different nodes"

/*
 * Checks s against the name rule with at most max characters. On failure
 * returns false and writes the problem (with s quoted) into problem, e.g.
 * "\"1h\" does not start with a letter".
 */
bool sl_name_check(const char *s, size_t max, char *problem, size_t len);

/*
 * s as a double-quoted string for a message: '"', '\\' and bytes outside
 * printable ASCII escaped, cut at 48 characters with "...". Returns buf.
 */
const char *sl_quote(const char *s, char *buf, size_t len);
#define SL_QUOTE_MAX 256 /* a buf this size always holds the result */

/* Open-addressing table from node name to node index. */
struct sl_name_index {
	uint32_t *slots; /* node index + 1, 0 = empty */
	uint32_t mask;
};

/*
 * Indexes every node of t. When two nodes share a name, the first one is
 * kept; *dup (if not NULL) gets the first node, in file order, whose name
 * was seen before, and *dup_of that earlier node; both stay UINT32_MAX when
 * names are unique. Returns 0 or -ENOMEM.
 */
int sl_name_index_build(struct sl_name_index *ix, const struct sl_topo *t,
			uint32_t *dup, uint32_t *dup_of);
/* The node called name, or -1. */
int sl_name_index_find(const struct sl_name_index *ix,
		       const struct sl_topo *t, const char *name);
void sl_name_index_free(struct sl_name_index *ix);

#endif
