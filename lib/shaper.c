// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shaper.c - kernel rate shaping from a link policy (include/sluice/shaper.h).
 *
 * Burst: two frames or 2 ms worth of the rate, whichever is larger: small
 * enough that the rate holds over short windows, large enough that the
 * qdisc watchdog (an hrtimer) is not woken per packet at high rates.
 * Queue: "queue" from the policy, else 100 frames (a common router default).
 */
#include <errno.h>
#include <string.h>
#include <json-c/json.h>

#include <sluice/shaper.h>
#include <sluice/units.h>

#define QUEUE_DEFAULT_PKTS 100

int sl_shaper_from_policy(const char *policy, uint32_t mtu,
			  struct sl_shaper *out, struct sl_err *err)
{
	uint64_t frame = (uint64_t)mtu + 14, qn = QUEUE_DEFAULT_PKTS, burst;
	bool qbytes = false;
	json_object *o, *v;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!policy)
		return 0;
	o = json_tokener_parse(policy);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return sl_err_set(err, EINVAL, "policy: expected a JSON object");
	}
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "rate") && strcmp(key, "queue")) {
			ret = sl_err_set(err, EOPNOTSUPP,
				"policy.%s: needs the normal-mode dataplane (cells), "
				"which this build does not have yet; expected only "
				"\"rate\" and \"queue\"", key);
			goto out;
		}
	}
	if (json_object_object_get_ex(o, "queue", &v) &&
	    sl_parse_queue(json_object_get_string(v), &qn, &qbytes)) {
		ret = sl_err_set(err, EINVAL, "policy.queue: \"%s\"; expected a "
				 "size such as 100pkt or 64kb",
				 json_object_get_string(v));
		goto out;
	}
	if (!json_object_object_get_ex(o, "rate", &v))
		goto out; /* a queue alone changes nothing on an unshaped link */
	if (sl_parse_rate(json_object_get_string(v), &out->rate_bps)) {
		ret = sl_err_set(err, EINVAL, "policy.rate: \"%s\"; expected a "
				 "rate such as 10mbit", json_object_get_string(v));
		goto out;
	}
	burst = out->rate_bps / 8 / 500;
	if (burst < 2 * frame)
		burst = 2 * frame;
	if (burst > UINT32_MAX)
		burst = UINT32_MAX;
	out->burst = (uint32_t)burst;
	qn = qbytes ? qn : qn * frame;
	if (qn < frame)
		qn = frame;
	out->limit = qn > UINT32_MAX ? UINT32_MAX : (uint32_t)qn;
out:
	json_object_put(o);
	return ret;
}
