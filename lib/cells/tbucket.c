// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tbucket.c - the token bucket shared by the rate shaper and the policer
 * (include/sluice/cell.h).
 *
 * Tokens are counted in nanobits (1e-9 bit): at R bit/s the bucket gains
 * exactly R per nanosecond and a byte costs 8e9, so every departure time
 * is an exact integer computation and the remainder of each wait carries
 * over to the next packet: a train of packets never drifts from the ideal
 * schedule, however the rate divides.
 *
 * Limits: burst <= 2^30 bytes keeps the bucket below 2^63 nanobits; a
 * packet costs at most 65535 * 8e9 < 2^50, and waits are computed as
 * (deficit - 1) / rate + 1, which cannot overflow.
 */
#include <errno.h>

#include <sluice/cell.h>

#define NANOBITS_PER_BYTE (8ull * SL_NSEC_PER_SEC)

static inline uint64_t cost_of(uint32_t len)
{
	return (uint64_t)len * NANOBITS_PER_BYTE;
}

/* Tokens at time at >= tb->t, growing at rate until they reach cap. */
static uint64_t tokens_at(const struct sl_tbucket *tb, uint64_t at,
			  uint64_t cap)
{
	uint64_t dt = at - tb->t, room;

	if (tb->tokens >= cap)
		return tb->tokens;
	room = cap - tb->tokens;
	if (dt > (room - 1) / tb->rate)
		return cap;
	return tb->tokens + dt * tb->rate;
}

static void advance(struct sl_tbucket *tb, uint64_t now, uint64_t cap)
{
	if (now <= tb->t)
		return;
	tb->tokens = tokens_at(tb, now, cap);
	tb->t = now;
}

void sl_tbucket_init(struct sl_tbucket *tb, uint64_t rate, uint64_t burst,
		     uint64_t now)
{
	tb->rate = rate;
	tb->cap = burst * NANOBITS_PER_BYTE;
	tb->tokens = tb->cap;
	tb->t = now;
}

void sl_tbucket_set(struct sl_tbucket *tb, uint64_t rate, uint64_t burst,
		    uint64_t now)
{
	advance(tb, now, tb->cap);
	tb->rate = rate;
	tb->cap = burst * NANOBITS_PER_BYTE;
	if (tb->tokens > tb->cap)
		tb->tokens = tb->cap;
}

/*
 * While the bucket is short of cost it grows linearly (the cap is at least
 * cost: a packet above the burst raises it for itself), so the first
 * nanosecond with enough tokens is t + ceil(deficit / rate).
 */
uint64_t sl_tbucket_ready_at(const struct sl_tbucket *tb, uint32_t len)
{
	uint64_t cost = cost_of(len), deficit;

	if (tb->tokens >= cost)
		return tb->t;
	deficit = cost - tb->tokens;
	return tb->t + (deficit - 1) / tb->rate + 1;
}

/*
 * A packet that leaves at the first nanosecond it conforms really
 * conformed somewhere inside the nanosecond before: what accrued since
 * then (less than one nanosecond's worth) is kept even where a full bucket
 * would spill it, so that waits rounded up to the nanosecond never add up
 * to a drift, even when the burst is exactly one packet.
 */
void sl_tbucket_take(struct sl_tbucket *tb, uint32_t len, uint64_t at)
{
	uint64_t cost = cost_of(len);

	if (tb->tokens < cost && at == sl_tbucket_ready_at(tb, len)) {
		tb->tokens += (at - tb->t) * tb->rate - cost;
		tb->t = at;
		return;
	}
	advance(tb, at, cost > tb->cap ? cost : tb->cap);
	tb->tokens = tb->tokens >= cost ? tb->tokens - cost : 0;
}

bool sl_tbucket_conform(struct sl_tbucket *tb, uint32_t len, uint64_t now)
{
	uint64_t cost = cost_of(len);

	advance(tb, now, tb->cap);
	if (tb->tokens < cost)
		return false;
	tb->tokens -= cost;
	return true;
}

uint64_t sl_tbucket_tokens_bytes(const struct sl_tbucket *tb)
{
	return tb->tokens / NANOBITS_PER_BYTE;
}

int sl_cfg_tbucket(struct json_object *cfg, uint64_t *rate, uint64_t *burst,
		   struct sl_err *err)
{
	int ret = sl_cfg_rate(cfg, "rate", rate, err);

	if (ret < 0)
		return ret;
	ret = sl_cfg_bytes(cfg, "burst", burst, err);
	if (ret < 0)
		return ret;
	if (ret && *burst > SL_TBUCKET_MAX_BURST)
		return sl_err_set(err, EINVAL,
				  "burst: %llu bytes is more than the largest burst, %llu bytes (1gb)",
				  (unsigned long long)*burst,
				  (unsigned long long)SL_TBUCKET_MAX_BURST);
	return 0;
}
