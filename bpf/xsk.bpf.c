// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * xsk.bpf.c - the XDP program of normal-mode fabric ports: every frame that
 * enters such a port goes to the port's AF_XDP socket, where the user-space
 * dataplane (lib/dataplane.c) runs it through the link's channel of cells.
 *
 * XDP runs before the tc ingress hook, so on a port carrying this program
 * the fabric's tc program (bpf/fabric.bpf.c) sees only what returns
 * XDP_PASS: frames of ports without an entry here, and, later, flows that
 * the flow table keeps in max mode (SL_XSK_MODE_CLASSIFY, the hook below).
 *
 * A port whose slot holds no socket drops (fail closed): a normal-mode link
 * must not carry traffic unshaped behind the emulator's back. Ports without
 * an entry pass, so that attaching the program before its map entry (or to
 * a port of a max-mode link) changes nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "xsk.h"

#define SL_XSK_DEFAULT_SLOTS 1024 /* lib/xsk.c sizes the maps before load */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_XSK_DEFAULT_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_xsk_port);
} xsk_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SL_XSK_DEFAULT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_XSK_DEFAULT_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_xsk_stats);
} xsk_stats SEC(".maps");

/*
 * The hook for the flow table: 1 when the frame belongs to a max-mode flow
 * and should take the kernel path. Until the flow table reaches XDP every
 * frame of a normal-mode port is normal.
 */
static __always_inline int is_max_flow(struct xdp_md *ctx,
				       const struct sl_xsk_port *p)
{
	return 0;
}

/* Writes struct sl_xsk_meta in front of the frame; a driver without
 * metadata support simply goes without (user space then uses its clock). */
static __always_inline void stamp(struct xdp_md *ctx)
{
	struct sl_xsk_meta *m;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return;
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return;
	m->ts = bpf_ktime_get_ns();
}

SEC("xdp")
int sl_xsk_redirect(struct xdp_md *ctx)
{
	struct sl_xsk_port *p;
	struct sl_xsk_stats *st;
	__u32 key = ctx->ingress_ifindex;
	long ret;

	p = bpf_map_lookup_elem(&xsk_ports, &key);
	if (!p)
		return XDP_PASS;
	key = p->slot;
	st = bpf_map_lookup_elem(&xsk_stats, &key);
	if (p->mode == SL_XSK_MODE_PASS ||
	    (p->mode == SL_XSK_MODE_CLASSIFY && is_max_flow(ctx, p))) {
		if (st)
			st->passed++;
		return XDP_PASS;
	}
	stamp(ctx);
	ret = bpf_redirect_map(&xsks, key, XDP_DROP);
	if (st) {
		if (ret == XDP_REDIRECT)
			st->redirected++;
		else
			st->no_socket++;
	}
	return (int)ret;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
