/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flow.h - the flow table of a fabric: rules that pick, per packet, the mode
 * (max: stays in the kernel; normal: the user-space dataplane) and a class
 * (written to skb->mark) of the traffic crossing every link of a topology.
 *
 * A rule matches on the IP protocol, source and destination prefixes (IPv4
 * or IPv6) and source and destination port ranges; the rule with the lowest
 * priority number that matches wins, and among equal priorities the one
 * added first. At most SL_FLOW_SLOTS rules. A packet no rule matches is
 * max mode with its mark untouched.
 *
 * Text form (sluicectl, sl_flow_parse, sl_flow_format), pairs of words in
 * any order, each key at most once, all optional:
 *   proto tcp|udp|icmp|any      icmp also matches ICMPv6
 *   src PREFIX  dst PREFIX      10.0.0.0/8, fd00::/64, or an address alone
 *   sport PORTS dport PORTS     5201 or 1000-2000 (TCP/UDP only)
 *   prio N (or priority N)      0..4294967295, default SL_FLOW_PRIO_DEFAULT
 *   mode max|normal             default max
 *   class N                     0..4294967295, default 0
 * e.g. "proto tcp dst 10.0.0.0/24 dport 5201 prio 10 mode max class 2".
 * JSON form: an object with the same keys ("priority" or "prio"); ports as
 * a number or a "lo-hi" string; prio and class as numbers.
 */
#ifndef SLUICE_FLOW_H
#define SLUICE_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/err.h>
#include <sluice/topo.h> /* struct sl_prefix */

/* SL_FLOW_SLOTS, SL_FLOW_MODE_MAX, SL_FLOW_MODE_NORMAL */
#include "../../bpf/fabric.h"

#define SL_FLOW_PRIO_DEFAULT 1000

struct sl_fabric;
struct json_object;

struct sl_flow_rule {
	uint32_t id;       /* set by sl_flow_add and sl_flow_list */
	uint32_t priority; /* lower matches first */
	uint8_t proto;     /* 0 any, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP */
	uint8_t mode;      /* SL_FLOW_MODE_MAX or SL_FLOW_MODE_NORMAL */
	struct sl_prefix src, dst; /* family 0: any; host bits clear */
	uint16_t sport_lo, sport_hi; /* 0-65535: any */
	uint16_t dport_lo, dport_hi;
	uint32_t class;
	uint64_t hit_packets; /* sl_flow_list: packets matched so far */
	uint64_t hit_bytes;
};

/* A rule that matches everything: max mode, class 0, default priority. */
void sl_flow_rule_init(struct sl_flow_rule *r);

/* Parses the text form into *out. -EINVAL with a message that names the
 * field and what was expected. */
int sl_flow_parse(const char *spec, struct sl_flow_rule *out,
		  struct sl_err *err);
/* The same from a JSON object. */
int sl_flow_parse_json(struct json_object *o, struct sl_flow_rule *out,
		       struct sl_err *err);
/* The text form, canonical (only keys that differ from the defaults), which
 * sl_flow_parse reads back to the same rule. Returns buf; 256 bytes are
 * enough. */
const char *sl_flow_format(const struct sl_flow_rule *r, char *buf,
			   size_t len);
/* The checks sl_flow_add makes, for rules not made by the parsers. */
int sl_flow_check(const struct sl_flow_rule *r, struct sl_err *err);

/*
 * Adds a rule to the fabric's table (r->id and the hit counters are
 * ignored) and returns its id: the smallest id free, so ids are reused
 * after sl_flow_del. Takes effect at once for every link. -ENOSPC when the
 * table holds SL_FLOW_SLOTS rules. One writer at a time (sluiced).
 */
int sl_flow_add(struct sl_fabric *f, const struct sl_flow_rule *r,
		uint32_t *id_out, struct sl_err *err);
/* -ENOENT when no rule has that id. */
int sl_flow_del(struct sl_fabric *f, uint32_t id, struct sl_err *err);
/* The rules in match order with their hit counters (summed over CPUs);
 * *out is malloc'ed (free() it; NULL when *n is 0). */
int sl_flow_list(struct sl_fabric *f, struct sl_flow_rule **out, size_t *n,
		 struct sl_err *err);
/* Removes every rule. */
int sl_flow_clear(struct sl_fabric *f, struct sl_err *err);

#endif
