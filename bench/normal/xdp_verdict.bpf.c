// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * xdp_verdict.bpf.c - the smallest XDP program: one fixed verdict for every
 * frame. bench/normal builds it twice with clang: VERDICT=2 (XDP_PASS) on
 * the fabric ports of the kernel baseline, so that it pays what attaching
 * any XDP program to a veth costs (the peer's TSO off, NAPI on), and
 * VERDICT=1 (XDP_DROP) as a sink behind the dataplane, so that its packet
 * rate is measured without a receiving stack. No headers: it must build
 * without the kernel's UAPI headers for the BPF target.
 */
#ifndef VERDICT
#define VERDICT 2
#endif

__attribute__((section("xdp"), used)) int verdict(void *ctx)
{
	return VERDICT;
}

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
