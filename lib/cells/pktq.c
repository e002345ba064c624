// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pktq.c - queue limits in packets or bytes, read once for every cell that
 * bounds a queue (include/sluice/cell.h; the FIFO itself is inline in
 * include/sluice/pkt.h), and the FIFO of the pass-through cells
 * (include/sluice/cellkit.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>
#include <sluice/units.h>

int sl_cfg_qlimit(struct json_object *cfg, const char *key,
		  struct sl_qlimit *lim, struct sl_err *err)
{
	struct json_object *v;
	const char *s = NULL;
	uint64_t n;
	bool bytes;

	if (!json_object_object_get_ex(cfg, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_string) ||
	    json_object_is_type(v, json_type_int))
		s = json_object_get_string(v);
	if (s && !strcmp(s, "unlimited")) {
		lim->n = 0;
		lim->bytes = false;
		return 1;
	}
	if (!s || sl_parse_queue(s, &n, &bytes))
		return sl_err_set(err, EINVAL, "%s: %s is not %s; expected %s or \"unlimited\"",
				  key,
				  json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
				  sl_unit_noun(SL_UNIT_QUEUE),
				  sl_unit_expected(SL_UNIT_QUEUE));
	lim->n = n;
	lim->bytes = bytes;
	return 1;
}

const char *sl_qlimit_fmt(const struct sl_qlimit *lim, char *buf, size_t len)
{
	if (!lim->n)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%llu%s", (unsigned long long)lim->n,
			 lim->bytes ? "b" : "pkt");
	return buf;
}

struct sl_pkt *sl_pass_dequeue(struct sl_pktq *q, uint64_t *next)
{
	struct sl_pkt *p = sl_pktq_pop(q);

	if (!p) {
		*next = SL_TIME_NEVER;
		return NULL;
	}
	p->ts_depart = p->ts_enqueue;
	return p;
}

void sl_pass_flush(struct sl_cell *c, struct sl_pktq *q)
{
	struct sl_pkt *p;

	while ((p = sl_pktq_pop(q)))
		sl_cell_drop(c, p, SL_DROP_FLUSH);
}
