// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sk_relay.bpf.c - the sockmap mode of a TCP relay (lib/relay_io.c): an
 * sk_skb stream verdict that sends every skb a relay socket receives out
 * of the socket it is joined to, without waking the relay.
 *
 * Maps, keyed by socket cookie (SO_COOKIE, bpf_get_socket_cookie):
 *   socks   sockhash  cookie -> relay socket (the verdict runs on these)
 *   dirs    hash      cookie of a receiving socket -> struct sl_relay_dir
 * The relay writes both dirs entries of a pair before it enters either
 * socket into socks.
 *
 * Ordering invariant: bytes of one direction leave either all through the
 * redirect or, from some skb on, all through the relay's own copy. An skb
 * whose peer is not (yet, or no longer) in socks is passed to the socket's
 * own queue and marks the direction "passed": every later skb of it is
 * passed too, and the relay copies them only after the peer's write queue
 * has taken every byte redirected before (it compares redirected bytes, the
 * counter here, with what the peer socket has been given). So a join or a
 * teardown racing with traffic never reorders or drops bytes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "sk_relay.h"

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SL_SK_RELAY_DEFAULT_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_SK_RELAY_DEFAULT_SOCKS);
	__type(key, __u64);
	__type(value, struct sl_relay_dir);
} dirs SEC(".maps");

/* cookie -> 1: the relay took this direction over (see lib/relay_io.c) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_SK_RELAY_DEFAULT_SOCKS);
	__type(key, __u64);
	__type(value, __u32);
} halt SEC(".maps");

SEC("sk_skb/stream_verdict")
int sl_relay_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct sl_relay_dir *d;
	struct bpf_sock *peer;
	__u32 len = skb->len;

	d = bpf_map_lookup_elem(&dirs, &cookie);
	if (!d)
		return SK_PASS;
	if (d->passed)
		return SK_PASS;
	if (bpf_map_lookup_elem(&halt, &cookie)) {
		d->passed = 1;
		return SK_PASS;
	}
	peer = bpf_map_lookup_elem(&socks, &d->peer);
	if (!peer) {
		d->passed = 1;
		return SK_PASS;
	}
	bpf_sk_release(peer);
	if (bpf_sk_redirect_hash(skb, &socks, &d->peer, 0) != SK_PASS) {
		d->passed = 1;
		return SK_PASS;
	}
	__sync_fetch_and_add(&d->redirected, len);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
