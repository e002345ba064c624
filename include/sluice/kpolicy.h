/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kpolicy.h - the part of a link direction's policy that the kernel path
 * (max mode) carries out, planned from the policy's JSON text:
 *   "rate", "queue"    a token-bucket shaper with a queue: sch_tbf on the
 *                      sending node's interface (lib/shaper.c computes it);
 *   "policer", "burst" a token-bucket policer in the fabric program: traffic
 *                      above the rate is dropped, bursts up to "burst" pass;
 *   "loss"             random loss in the fabric program, e.g. "10%".
 *   "seed"             accepted and ignored: it seeds the user-space
 *                      dataplane's loss; the kernel's random numbers cannot
 *                      be seeded, so kernel loss is not reproducible.
 * Keys that need the user-space dataplane (delay, jitter, cells) fail with
 * -EOPNOTSUPP naming the key.
 *
 * Bring-up calls sl_kpolicy_from_policy() for both directions of every link
 * before it creates anything (so a bad policy creates nothing), then, once
 * the fabric is loaded, sl_kpolicy_apply() for the fabric part, and puts
 * kp.shaper on the sending interface as before.
 */
#ifndef SLUICE_KPOLICY_H
#define SLUICE_KPOLICY_H

#include <stdint.h>

#include <sluice/err.h>
#include <sluice/fabric.h>
#include <sluice/shaper.h>

struct sl_kpolicy {
	struct sl_shaper shaper;        /* rate_bps 0: no shaper */
	struct sl_fabric_policy fabric; /* all zero: the fabric only forwards */
};

/*
 * Reads one direction's policy (JSON text; NULL for none: all zero). mtu
 * sizes default bursts and packet-counted sizes (a frame is mtu + 14).
 * The policer's burst defaults to 10 ms at its rate, at least two frames.
 * "burst" takes a size in bytes ("64kb", "1500b") or in frames ("10pkt").
 * -EINVAL or -EOPNOTSUPP with a message "policy.<key>: ...".
 */
int sl_kpolicy_from_policy(const char *policy_json, uint32_t mtu,
			   struct sl_kpolicy *out, struct sl_err *err);

/* Writes kp's fabric part (policer and loss) for one link direction; the
 * change is live at once. The shaper is not touched (it is a qdisc on a
 * node interface, not a fabric map). */
int sl_kpolicy_apply(struct sl_fabric *f, uint32_t link, uint32_t dir,
		     const struct sl_kpolicy *kp, struct sl_err *err);

#endif
