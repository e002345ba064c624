// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpolicy.c - what the kernel path does for one link direction, planned
 * from its policy (include/sluice/kpolicy.h).
 *
 * The shaper keys go to sl_shaper_from_policy() unchanged, as a policy of
 * their own, so lib/shaper.c stays the one place that sizes sch_tbf. The
 * policer's default burst is larger than the shaper's (10 ms instead of
 * 2 ms): a policer has no queue to absorb a sender's bursts, and bursts it
 * cuts cost retransmissions instead of delay.
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include <sluice/kpolicy.h>
#include <sluice/units.h>

#define KPOLICY_KEYS "rate, queue, policer, burst and loss"
#define POLICER_BURST_MS 10

static int string_of(json_object *v, const char *key, const char *example,
		     const char **out, struct sl_err *err)
{
	if (!json_object_is_type(v, json_type_string))
		return sl_err_set(err, EINVAL,
				  "policy.%s: expected a string such as \"%s\"",
				  key, example);
	*out = json_object_get_string(v);
	return 0;
}

int sl_kpolicy_from_policy(const char *policy_json, uint32_t mtu,
			   struct sl_kpolicy *out, struct sl_err *err)
{
	uint64_t frame = (uint64_t)mtu + 14, burst = 0, rate = 0, n;
	json_object *o, *shaper = NULL;
	bool have_burst = false, bytes;
	const char *s = NULL;
	uint32_t ppm;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!policy_json)
		return 0;
	o = json_tokener_parse(policy_json);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return sl_err_set(err, EINVAL, "policy: expected a JSON object");
	}
	shaper = json_object_new_object();
	if (!shaper) {
		ret = sl_err_set(err, ENOMEM, "policy: out of memory");
		goto out;
	}
	json_object_object_foreach(o, key, v) {
		/* An object where the kernel takes a string is a cell of its
		 * own (a loss model, an AQM): user-space work. */
		if ((!strcmp(key, "queue") || !strcmp(key, "loss")) &&
		    json_object_is_type(v, json_type_object)) {
			ret = sl_err_set(err, EOPNOTSUPP,
					 "policy.%s: an object (a %s cell) needs the normal-mode "
					 "dataplane; the kernel path does " KPOLICY_KEYS,
					 key, !strcmp(key, "loss") ? "loss model" : "queue");
			goto out;
		}
		if (!strcmp(key, "rate") || !strcmp(key, "queue")) {
			json_object_object_add(shaper, key, json_object_get(v));
		} else if (!strcmp(key, "policer")) {
			ret = string_of(v, key, "50mbit", &s, err);
			if (ret)
				goto out;
			if (sl_parse_rate(s, &rate)) {
				ret = sl_err_set(err, EINVAL,
						 "policy.policer: \"%s\" is not %s; expected %s",
						 s, sl_unit_noun(SL_UNIT_RATE),
						 sl_unit_expected(SL_UNIT_RATE));
				goto out;
			}
		} else if (!strcmp(key, "burst")) {
			ret = string_of(v, key, "64kb", &s, err);
			if (ret)
				goto out;
			if (sl_parse_queue(s, &n, &bytes)) {
				ret = sl_err_set(err, EINVAL,
						 "policy.burst: \"%s\" is not a size; expected bytes such as 64kb or 1500b, or frames such as 10pkt",
						 s);
				goto out;
			}
			burst = bytes ? n : n * frame;
			have_burst = true;
		} else if (!strcmp(key, "loss")) {
			ret = string_of(v, key, "1%", &s, err);
			if (ret)
				goto out;
			if (sl_parse_fraction(s, &ppm)) {
				ret = sl_err_set(err, EINVAL,
						 "policy.loss: \"%s\" is not %s; expected %s",
						 s, sl_unit_noun(SL_UNIT_FRACTION),
						 sl_unit_expected(SL_UNIT_FRACTION));
				goto out;
			}
			out->fabric.loss_ppm = ppm;
		} else if (!strcmp(key, "seed")) {
			/* The seed of the dataplane's loss generators; the
			 * kernel's (bpf_get_prandom_u32) cannot be seeded,
			 * so kernel loss is random but not reproducible. */
		} else {
			/* Every other key (delay, jitter, cells, trace, ...) is a
			 * cell of the user-space dataplane; the topology parser has
			 * checked that it exists. */
			ret = sl_err_set(err, EOPNOTSUPP,
					 "policy.%s: needs the normal-mode dataplane (cells); the kernel path does " KPOLICY_KEYS,
					 key);
			goto out;
		}
	}
	if (have_burst && !rate) {
		ret = sl_err_set(err, EINVAL,
				 "policy.burst: a burst without a policer; expected \"policer\" with it, such as \"policer\": \"50mbit\"");
		goto out;
	}
	if (rate) {
		if (!have_burst) {
			burst = rate / 8 * POLICER_BURST_MS / 1000;
			if (burst < 2 * frame)
				burst = 2 * frame;
			if (burst > SL_POLICER_BURST_MAX)
				burst = SL_POLICER_BURST_MAX;
		}
		if (burst > SL_POLICER_BURST_MAX) {
			ret = sl_err_set(err, EINVAL,
					 "policy.burst: %llu bytes is too large; expected at most 1gb",
					 (unsigned long long)burst);
			goto out;
		}
		out->fabric.policer_bps = rate;
		out->fabric.burst = (uint32_t)burst;
	}
	if (json_object_object_length(shaper))
		ret = sl_shaper_from_policy(
			json_object_to_json_string_ext(shaper,
						       JSON_C_TO_STRING_PLAIN),
			mtu, &out->shaper, err);
out:
	json_object_put(shaper);
	json_object_put(o);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

int sl_kpolicy_apply(struct sl_fabric *f, uint32_t link, uint32_t dir,
		     const struct sl_kpolicy *kp, struct sl_err *err)
{
	return sl_fabric_policy_set(f, link, dir, &kp->fabric, err);
}
