/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netlink.h - batched rtnetlink on libmnl, and network namespaces.
 *
 * Bring-up talks to the kernel only through here: no ip(8). Requests are
 * appended to a batch and sent with one sendmsg(); every request asks for an
 * ACK, and sl_nl_flush() matches the ACKs to the requests so that an error
 * names the request that failed ("add veth h1-eth0 <-> eth0 in sluice.demo.h1:
 * File exists"). One struct sl_nl is bound to the namespace it was opened in.
 */
#ifndef SLUICE_NETLINK_H
#define SLUICE_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/err.h>
#include <sluice/topo.h>

struct sl_nl;

/* Opens an rtnetlink socket in the namespace netns_fd (-1: the current one). */
struct sl_nl *sl_nl_open(int netns_fd, struct sl_err *err);
void sl_nl_free(struct sl_nl *nl);

/* Requests are queued; the batch is sent when it is full or on flush. */
#define SL_NL_IGNORE_EXIST 0x1  /* EEXIST is success */
#define SL_NL_IGNORE_NOENT 0x2  /* ENOENT/ENODEV/ESRCH is success (deletes) */

struct sl_veth {
	const char *name;   /* in the socket's namespace */
	int ifindex;        /* requested ifindex, 0: any */
	const char *peer;   /* name of the other end */
	int peer_ifindex;
	int peer_netns_fd;  /* where the other end goes, -1: same namespace */
	uint32_t mtu;
	bool up;            /* this end up; the peer needs sl_nl_link_set */
	const uint8_t *mac;      /* 6 bytes, NULL: random */
	const uint8_t *peer_mac;
};

int sl_nl_veth_add(struct sl_nl *nl, const struct sl_veth *v, unsigned flags,
		   struct sl_err *err);
int sl_nl_link_set(struct sl_nl *nl, int ifindex, const char *name, bool up,
		   uint32_t mtu, struct sl_err *err);
int sl_nl_link_del(struct sl_nl *nl, int ifindex, const char *name,
		   unsigned flags, struct sl_err *err);
int sl_nl_addr_add(struct sl_nl *nl, int ifindex, const struct sl_prefix *p,
		   unsigned flags, struct sl_err *err);

struct sl_nexthop {
	const struct sl_prefix *gw; /* may be NULL for on-link */
	int ifindex;
};
/* n_nh == 0 installs an unreachable route. */
int sl_nl_route_add(struct sl_nl *nl, const struct sl_prefix *dst,
		    const struct sl_nexthop *nh, unsigned n_nh,
		    const struct sl_prefix *prefsrc, unsigned flags,
		    struct sl_err *err);
/*
 * Token-bucket shaper (sch_tbf) as the root qdisc of ifindex: rate in bit/s,
 * burst and limit (queue) in bytes. Replaces an existing root qdisc.
 */
int sl_nl_qdisc_tbf(struct sl_nl *nl, int ifindex, uint64_t rate_bps,
		    uint32_t burst, uint32_t limit, struct sl_err *err);
/* Removes the root qdisc of ifindex (back to the default). */
int sl_nl_qdisc_del_root(struct sl_nl *nl, int ifindex, struct sl_err *err);

/* Queue counters of the root qdisc of ifindex (synchronous). -ENOENT when
 * the interface has no root qdisc of its own. */
struct sl_qdisc_stats {
	uint64_t packets, bytes;
	uint32_t drops, qlen, backlog; /* backlog in bytes */
	uint32_t overlimits;
};
int sl_nl_qdisc_stats(struct sl_nl *nl, int ifindex, struct sl_qdisc_stats *out,
		      struct sl_err *err);

/* Sends what is queued and waits for every ACK. */
int sl_nl_flush(struct sl_nl *nl, struct sl_err *err);
/* Number of requests sent so far (for progress and statistics). */
uint64_t sl_nl_requests(const struct sl_nl *nl);

/* Looks up an interface index by name (synchronous). */
int sl_nl_ifindex(struct sl_nl *nl, const char *name, struct sl_err *err);

/*
 * Dumps the addresses and routes of the current namespace, for picking an
 * address pool that does not collide with the host's networks. *out is
 * malloc'ed.
 */
int sl_nl_host_prefixes(struct sl_prefix **out, size_t *n, struct sl_err *err);

/* Namespaces, named as `ip netns` names them (a bind mount in /run/netns). */
int sl_netns_add(const char *name, int *fd_out, struct sl_err *err);
/* Removes the name; the kernel frees the namespace (and every interface in
 * it) when no process is left inside. Missing names are not an error. */
int sl_netns_del(const char *name, struct sl_err *err);
int sl_netns_open(const char *name, struct sl_err *err);
bool sl_netns_exists(const char *name);
/* Runs in namespace fd: enter, return the previous one's fd in *saved. */
int sl_netns_enter(int fd, int *saved, struct sl_err *err);
int sl_netns_leave(int saved);
/* Writes a sysctl of the current namespace ("net/ipv4/ip_forward"). */
int sl_sysctl_set(const char *path, const char *value, struct sl_err *err);

#endif
