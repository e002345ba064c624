// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fabric_flow.c - the fabric's flow table in the kernel (include/sluice/
 * flow.h): add, delete, list with hit counters.
 *
 * The kernel maps are the only copy of the table, so a restarted sluiced
 * finds its rules with sl_fabric_open(). Every change reads the live half
 * of "flows", builds the new sorted table in the other half and flips
 * "flow_ctl" (bpf/fabric.h explains the double buffer). Rule ids are small
 * (< SL_FLOW_SLOTS) because they index the per-CPU hit counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include <sluice/flow.h>

#include "fabric_int.h"

struct table {
	struct sl_fabric_flow_ctl ctl;
	uint32_t n;
	struct sl_fabric_flow r[SL_FLOW_SLOTS];
};

static int read_table(struct sl_fabric *f, struct table *t,
		      struct sl_err *err)
{
	uint32_t key = 0, i, base;

	memset(t, 0, sizeof(*t));
	if (bpf_map_lookup_elem(f->fd[SL_FO_FLOW_CTL], &key, &t->ctl) < 0)
		return sl_err_set(err, errno, "flow table: read flow_ctl: %s",
				  strerror(errno));
	t->ctl.active &= 1;
	t->n = t->ctl.n[t->ctl.active];
	if (t->n > SL_FLOW_SLOTS)
		return sl_err_set(err, EPROTO,
				  "flow table: flow_ctl says %u rules, more than %u",
				  t->n, SL_FLOW_SLOTS);
	base = t->ctl.active * SL_FLOW_SLOTS;
	for (i = 0; i < t->n; i++) {
		key = base + i;
		if (bpf_map_lookup_elem(f->fd[SL_FO_FLOWS], &key, &t->r[i]) < 0)
			return sl_err_set(err, errno,
					  "flow table: read rule slot %u: %s", key,
					  strerror(errno));
	}
	return 0;
}

/* Writes t->r[0..n) into the idle half, then makes it live. */
static int write_table(struct sl_fabric *f, struct table *t,
		       struct sl_err *err)
{
	uint32_t half = !t->ctl.active, key, i;
	struct sl_fabric_flow_ctl ctl = t->ctl;

	for (i = 0; i < t->n; i++) {
		key = half * SL_FLOW_SLOTS + i;
		if (bpf_map_update_elem(f->fd[SL_FO_FLOWS], &key, &t->r[i],
					BPF_ANY) < 0)
			return sl_err_set(err, errno,
					  "flow table: write rule slot %u: %s",
					  key, strerror(errno));
	}
	ctl.n[half] = t->n;
	ctl.active = half;
	ctl.gen++;
	key = 0;
	if (bpf_map_update_elem(f->fd[SL_FO_FLOW_CTL], &key, &ctl, BPF_ANY) < 0)
		return sl_err_set(err, errno, "flow table: write flow_ctl: %s",
				  strerror(errno));
	t->ctl = ctl;
	return 0;
}

/* Mask words in network byte order for a prefix of len bits. */
static void to_kernel_addr(const struct sl_prefix *p, __u32 addr[4],
			   __u32 mask[4])
{
	int words = p->family == AF_INET ? 1 : 4, i, bits;

	memset(addr, 0, 16);
	memset(mask, 0, 16);
	if (!p->family)
		return;
	for (i = 0; i < words; i++) {
		bits = (int)p->len - 32 * i;
		if (bits <= 0)
			break;
		mask[i] = htonl(bits >= 32 ? 0xffffffffu
					   : ~0u << (32 - bits));
	}
	memcpy(addr, p->addr, (size_t)words * 4);
	for (i = 0; i < 4; i++)
		addr[i] &= mask[i];
}

static void from_kernel_addr(uint8_t family, const __u32 addr[4],
			     const __u32 mask[4], struct sl_prefix *p)
{
	int words = family == SL_FLOW_FAMILY_IPV4 ? 1 : 4, i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 4; i++)
		if (mask[i])
			break;
	if (i == 4)
		return; /* no mask: any */
	p->family = family == SL_FLOW_FAMILY_IPV4 ? AF_INET : AF_INET6;
	memcpy(p->addr, addr, (size_t)words * 4);
	for (i = 0; i < words; i++)
		p->len = (uint8_t)(p->len + __builtin_popcount(ntohl(mask[i])));
}

static void to_kernel(const struct sl_flow_rule *r, uint32_t id,
		      struct sl_fabric_flow *k)
{
	int fam = r->src.family ? r->src.family : r->dst.family;

	memset(k, 0, sizeof(*k));
	k->family = fam == AF_INET ? SL_FLOW_FAMILY_IPV4 :
		    fam == AF_INET6 ? SL_FLOW_FAMILY_IPV6 : SL_FLOW_FAMILY_ANY;
	to_kernel_addr(&r->src, k->src, k->src_mask);
	to_kernel_addr(&r->dst, k->dst, k->dst_mask);
	k->sport_lo = r->sport_lo;
	k->sport_hi = r->sport_hi;
	k->dport_lo = r->dport_lo;
	k->dport_hi = r->dport_hi;
	k->proto = r->proto;
	k->mode = r->mode;
	k->prio = r->priority;
	k->id = id;
	k->class = r->class;
}

static void from_kernel(const struct sl_fabric_flow *k,
			struct sl_flow_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->id = k->id;
	r->priority = k->prio;
	r->proto = k->proto;
	r->mode = k->mode;
	from_kernel_addr(k->family, k->src, k->src_mask, &r->src);
	from_kernel_addr(k->family, k->dst, k->dst_mask, &r->dst);
	/* "dst 0.0.0.0/0" has no mask but still means IPv4 only */
	if (k->family && !r->src.family && !r->dst.family)
		r->dst.family = k->family == SL_FLOW_FAMILY_IPV4 ? AF_INET :
								     AF_INET6;
	r->sport_lo = k->sport_lo;
	r->sport_hi = k->sport_hi;
	r->dport_lo = k->dport_lo;
	r->dport_hi = k->dport_hi;
	r->class = k->class;
}

static int hits_reset(struct sl_fabric *f, uint32_t id, struct sl_err *err)
{
	memset(f->percpu_hits, 0,
	       (size_t)f->ncpus * sizeof(*f->percpu_hits));
	if (bpf_map_update_elem(f->fd[SL_FO_FLOW_HITS], &id, f->percpu_hits,
				BPF_ANY) < 0)
		return sl_err_set(err, errno,
				  "flow table: reset hits of rule %u: %s", id,
				  strerror(errno));
	return 0;
}

int sl_flow_add(struct sl_fabric *f, const struct sl_flow_rule *r,
		uint32_t *id_out, struct sl_err *err)
{
	struct table *t;
	uint64_t used = 0;
	uint32_t i, id, at;
	int ret;

	ret = sl_flow_check(r, err);
	if (ret)
		return ret;
	t = malloc(sizeof(*t));
	if (!t)
		return sl_err_set(err, ENOMEM, "flow table: out of memory");
	ret = read_table(f, t, err);
	if (ret)
		goto out;
	if (t->n >= SL_FLOW_SLOTS) {
		ret = sl_err_set(err, ENOSPC,
				 "flow table: full (%u rules); delete one first",
				 SL_FLOW_SLOTS);
		goto out;
	}
	for (i = 0; i < t->n; i++)
		used |= 1ull << (t->r[i].id % SL_FLOW_SLOTS);
	for (id = 0; id < SL_FLOW_SLOTS && (used >> id & 1); id++)
		;
	/* after every rule of the same or a lower priority number: equal
	 * priorities keep the order they were added in */
	for (at = 0; at < t->n && t->r[at].prio <= r->priority; at++)
		;
	memmove(&t->r[at + 1], &t->r[at], (t->n - at) * sizeof(t->r[0]));
	to_kernel(r, id, &t->r[at]);
	t->n++;
	/* a reused id must not inherit the hits of the rule it had */
	ret = hits_reset(f, id, err);
	if (!ret)
		ret = write_table(f, t, err);
	if (!ret && id_out)
		*id_out = id;
out:
	free(t);
	return ret;
}

int sl_flow_del(struct sl_fabric *f, uint32_t id, struct sl_err *err)
{
	struct table *t;
	uint32_t i;
	int ret;

	t = malloc(sizeof(*t));
	if (!t)
		return sl_err_set(err, ENOMEM, "flow table: out of memory");
	ret = read_table(f, t, err);
	if (ret)
		goto out;
	for (i = 0; i < t->n && t->r[i].id != id; i++)
		;
	if (i == t->n) {
		ret = sl_err_set(err, ENOENT, "flow table: no rule with id %u",
				 id);
		goto out;
	}
	memmove(&t->r[i], &t->r[i + 1], (t->n - i - 1) * sizeof(t->r[0]));
	t->n--;
	ret = write_table(f, t, err);
out:
	free(t);
	return ret;
}

int sl_flow_clear(struct sl_fabric *f, struct sl_err *err)
{
	struct table *t;
	int ret;

	t = malloc(sizeof(*t));
	if (!t)
		return sl_err_set(err, ENOMEM, "flow table: out of memory");
	ret = read_table(f, t, err);
	if (!ret && t->n) {
		t->n = 0;
		ret = write_table(f, t, err);
	}
	free(t);
	return ret;
}

int sl_flow_list(struct sl_fabric *f, struct sl_flow_rule **out, size_t *n,
		 struct sl_err *err)
{
	struct sl_flow_rule *rules = NULL;
	struct table *t;
	uint32_t i, id;
	int c, ret;

	*out = NULL;
	*n = 0;
	t = malloc(sizeof(*t));
	if (!t)
		return sl_err_set(err, ENOMEM, "flow table: out of memory");
	ret = read_table(f, t, err);
	if (ret || !t->n)
		goto out;
	rules = calloc(t->n, sizeof(*rules));
	if (!rules) {
		ret = sl_err_set(err, ENOMEM, "flow table: out of memory");
		goto out;
	}
	for (i = 0; i < t->n; i++) {
		from_kernel(&t->r[i], &rules[i]);
		id = t->r[i].id;
		if (bpf_map_lookup_elem(f->fd[SL_FO_FLOW_HITS], &id,
					f->percpu_hits) < 0) {
			ret = sl_err_set(err, errno,
					 "flow table: read hits of rule %u: %s",
					 id, strerror(errno));
			goto out;
		}
		for (c = 0; c < f->ncpus; c++) {
			rules[i].hit_packets += f->percpu_hits[c].packets;
			rules[i].hit_bytes += f->percpu_hits[c].bytes;
		}
	}
	*out = rules;
	*n = t->n;
	rules = NULL;
out:
	free(rules);
	free(t);
	return ret;
}
