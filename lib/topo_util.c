// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * topo_util.c - name rules, a name index and message quoting shared by the
 * topology parser, validator and generators (see topo_util.h).
 *
 * The name index exists because topologies go up to SL_NODES_MAX nodes:
 * a linear sl_topo_find_node() per link endpoint would make parsing a large
 * generated file quadratic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_util.h"

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(char c)
{
	return is_letter(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool sl_name_check(const char *s, size_t max, char *problem, size_t len)
{
	char q[SL_QUOTE_MAX];
	size_t n = strlen(s), i;

	if (!n) {
		snprintf(problem, len, "the name is empty");
		return false;
	}
	if (n > max) {
		snprintf(problem, len, "%s is too long (%zu characters)",
			 sl_quote(s, q, sizeof(q)), n);
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_name_char(s[i]))
			continue;
		if (c == ' ')
			snprintf(problem, len, "%s has a space at position %zu",
				 sl_quote(s, q, sizeof(q)), i + 1);
		else if (c > ' ' && c < 0x7f && c != '\'')
			snprintf(problem, len,
				 "%s has a bad character '%c' at position %zu",
				 sl_quote(s, q, sizeof(q)), c, i + 1);
		else
			snprintf(problem, len,
				 "%s has a bad character (byte 0x%02x) at position %zu",
				 sl_quote(s, q, sizeof(q)), c, i + 1);
		return false;
	}
	if (!is_letter(s[0])) {
		snprintf(problem, len, "%s does not start with a letter",
			 sl_quote(s, q, sizeof(q)));
		return false;
	}
	return true;
}

const char *sl_quote(const char *s, char *buf, size_t len)
{
	static const size_t shown_max = 48;
	size_t o = 0, shown = 0;

	/* Worst case per character is 4 bytes ("\xHH"); keep room for the
	 * closing quote, "..." and the NUL. */
	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (shown == shown_max || o + 4 + 5 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < ' ' || c >= 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
		shown++;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

int sl_name_index_build(struct sl_name_index *ix, const struct sl_topo *t,
			uint32_t *dup, uint32_t *dup_of)
{
	uint32_t size = 16, i;

	if (dup)
		*dup = UINT32_MAX;
	if (dup_of)
		*dup_of = UINT32_MAX;
	while (size < t->n_nodes * 2u)
		size *= 2;
	ix->slots = calloc(size, sizeof(*ix->slots));
	if (!ix->slots)
		return -ENOMEM;
	ix->mask = size - 1;
	for (i = 0; i < t->n_nodes; i++) {
		const char *name = t->nodes[i].name;
		uint32_t h = name_hash(name) & ix->mask;

		while (ix->slots[h]) {
			uint32_t other = ix->slots[h] - 1;

			if (!strcmp(t->nodes[other].name, name))
				break;
			h = (h + 1) & ix->mask;
		}
		if (!ix->slots[h]) {
			ix->slots[h] = i + 1;
		} else if (dup && *dup == UINT32_MAX) {
			*dup = i;
			if (dup_of)
				*dup_of = ix->slots[h] - 1;
		}
	}
	return 0;
}

int sl_name_index_find(const struct sl_name_index *ix,
		       const struct sl_topo *t, const char *name)
{
	uint32_t h = name_hash(name) & ix->mask;

	while (ix->slots[h]) {
		uint32_t i = ix->slots[h] - 1;

		if (!strcmp(t->nodes[i].name, name))
			return (int)i;
		h = (h + 1) & ix->mask;
	}
	return -1;
}

void sl_name_index_free(struct sl_name_index *ix)
{
	if (!ix)
		return;
	free(ix->slots);
	ix->slots = NULL;
	ix->mask = 0;
}
