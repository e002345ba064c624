// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * corrupt.c - netem's corruption: {"type": "corrupt", "corrupt": "0.1%",
 * "skip": 14}.
 *
 * A packet is corrupted with the given probability: one bit, at a uniform
 * position among the bits of the frame after its first "skip" bytes (the
 * Ethernet header by default, so the frame still reaches its receiver),
 * is flipped. Checksums are left as they are, wrong, so the receiver's
 * stack sees a corrupted packet as it would on a real link (netem
 * likewise flips a bit and leaves the checksum). The packet is flagged
 * SL_PKT_CORRUPT; one without data is only flagged.
 */
#include <errno.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

struct corrupt_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	double p;
	uint64_t skip;
	uint64_t corrupted;
};

static inline struct corrupt_cell *to_corrupt(struct sl_cell *c)
{
	return (struct corrupt_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "corrupt", "fraction", NULL, "probability that a packet gets one bit flipped" },
	{ "skip", "integer", "14", "bytes at the start of the frame never flipped (the Ethernet header)" },
	{ NULL, NULL, NULL, NULL },
};

static int corrupt_read(struct json_object *cfg, struct corrupt_cell *k,
			struct sl_err *err)
{
	int ret = sl_cfg_prob(cfg, "corrupt", &k->p, err);

	if (ret < 0)
		return ret;
	ret = sl_cfg_u64(cfg, "skip", &k->skip, err);
	if (ret < 0)
		return ret;
	if (k->skip > 65535)
		return sl_err_set(err, EINVAL, "skip: %llu is more than 65535 bytes",
				  (unsigned long long)k->skip);
	return 0;
}

static int corrupt_init(struct sl_cell *c, struct json_object *cfg,
			struct sl_err *err)
{
	struct corrupt_cell *k = to_corrupt(c);
	int ret;

	sl_pktq_init(&k->q);
	k->p = -1;
	k->skip = 14;
	ret = corrupt_read(cfg, k, err);
	if (ret)
		return ret;
	if (k->p < 0)
		return sl_err_set(err, EINVAL,
				  "corrupt: missing; expected the probability that a packet is corrupted, such as 0.1%%");
	return 0;
}

static void corrupt_fini(struct sl_cell *c)
{
	sl_pass_flush(c, &to_corrupt(c)->q);
}

static void corrupt_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct corrupt_cell *k = to_corrupt(c);

	if (k->p > 0 && sl_rng_uniform(&c->rng) < k->p) {
		if (p->data && p->len > k->skip) {
			uint64_t bit = sl_rng_below(&c->rng, (p->len - k->skip) * 8);

			((uint8_t *)p->data)[k->skip + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		p->flags |= SL_PKT_CORRUPT;
		k->corrupted++;
	}
	sl_pktq_push(&k->q, p);
}

static struct sl_pkt *corrupt_dequeue(struct sl_cell *c, uint64_t now,
				      uint64_t *next)
{
	return sl_pass_dequeue(&to_corrupt(c)->q, next);
}

static int corrupt_control(struct sl_cell *c, struct json_object *cfg,
			   uint64_t now, struct sl_err *err)
{
	struct corrupt_cell *k = to_corrupt(c), tmp = *k;
	int ret = corrupt_read(cfg, &tmp, err);

	if (ret)
		return ret;
	k->p = tmp.p;
	k->skip = tmp.skip;
	return 0;
}

static void corrupt_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct corrupt_cell *k = (const struct corrupt_cell *)c;

	json_object_object_add(obj, "corrupt", json_object_new_double(k->p));
	json_object_object_add(obj, "skip", json_object_new_uint64(k->skip));
	json_object_object_add(obj, "corrupted", json_object_new_uint64(k->corrupted));
}

const struct sl_cell_ops sl_cell_corrupt_ops = {
	.type = "corrupt",
	.summary = "netem corruption: flips one random bit of some packets, checksums left wrong",
	.params = params,
	.size = sizeof(struct corrupt_cell),
	.init = corrupt_init,
	.fini = corrupt_fini,
	.enqueue = corrupt_enqueue,
	.dequeue = corrupt_dequeue,
	.control = corrupt_control,
	.telemetry = corrupt_telemetry,
};
