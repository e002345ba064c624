/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shaper.h - the part of a link policy the kernel can apply by itself: a
 * token-bucket rate with a byte-limited queue (sch_tbf on the sending node's
 * interface, so the sender's TCP feels the backpressure as on a real link).
 */
#ifndef SLUICE_SHAPER_H
#define SLUICE_SHAPER_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/err.h>

struct sl_shaper {
	uint64_t rate_bps; /* 0: unshaped */
	uint32_t burst;    /* bytes */
	uint32_t limit;    /* queue, bytes */
};

/*
 * Reads the policy of one direction (JSON text, NULL for none). Fails with
 * -EOPNOTSUPP, naming the key, when the policy asks for what the kernel
 * path cannot do. mtu sizes the default burst and packet-counted queues.
 */
int sl_shaper_from_policy(const char *policy, uint32_t mtu,
			  struct sl_shaper *out, struct sl_err *err);

#endif
