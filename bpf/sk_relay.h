/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sk_relay.h - the data shared by bpf/sk_relay.bpf.c (sockmap mode of the
 * TCP relay) and lib/relay.c, lib/relay_io.c.
 */
#ifndef SLUICE_BPF_SK_RELAY_H
#define SLUICE_BPF_SK_RELAY_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SL_SK_RELAY_DEFAULT_SOCKS 65536

/* Value of "dirs", keyed by the cookie of the socket that receives. */
struct sl_relay_dir {
	__u64 peer;       /* cookie of the socket the bytes go out of */
	__u64 redirected; /* bytes the verdict redirected to peer */
	__u32 passed;     /* 1: from now on left to the relay (sticky) */
	__u32 pad;
};

#endif
