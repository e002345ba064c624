// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netlink.c - batched rtnetlink requests on libmnl (include/sluice/netlink.h).
 *
 * A large topology needs tens of thousands of requests; one round trip per
 * request would dominate bring-up. Requests are therefore packed into one
 * buffer and sent with one sendmsg(); the kernel processes them in order and
 * answers each with an ACK (NLM_F_ACK), which sl_nl_flush() matches by
 * sequence number to a description of the request kept in ops[].
 * The kernel goes on after a failed request, so a flush reports the first
 * failure and the caller rolls back from its journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/gen_stats.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <sluice/netlink.h>

#define BATCH_SIZE (128 * 1024)
#define MSG_MAX 4096 /* no single request of ours is larger */

struct nl_op {
	uint32_t seq;
	unsigned flags;
	char what[120];
};

struct sl_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char *buf;
	size_t len;
	struct nl_op *ops;
	size_t n_ops;
	size_t cap_ops;
	uint64_t requests;
};

struct sl_nl *sl_nl_open(int netns_fd, struct sl_err *err)
{
	struct sl_nl *nl = calloc(1, sizeof(*nl));
	int saved = -1, one = 1, rcvbuf = 8 << 20;

	if (!nl) {
		sl_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	nl->buf = malloc(BATCH_SIZE);
	if (!nl->buf)
		goto fail_mem;
	if (netns_fd >= 0 && sl_netns_enter(netns_fd, &saved, err))
		goto fail;
	nl->sock = mnl_socket_open(NETLINK_ROUTE);
	if (saved >= 0)
		sl_netns_leave(saved);
	if (!nl->sock) {
		sl_err_set(err, errno, "cannot open a netlink socket: %s",
			   strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		sl_err_set(err, errno, "cannot bind a netlink socket: %s",
			   strerror(errno));
		goto fail;
	}
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	/* ACKs of a full batch must fit; FORCE needs CAP_NET_ADMIN. */
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)))
		setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUF,
			   &rcvbuf, sizeof(rcvbuf));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = 1;
	return nl;
fail_mem:
	sl_err_set(err, ENOMEM, "out of memory");
fail:
	sl_nl_free(nl);
	return NULL;
}

void sl_nl_free(struct sl_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl->ops);
	free(nl);
}

uint64_t sl_nl_requests(const struct sl_nl *nl)
{
	return nl->requests;
}

/* Starts a request in the batch (flushing first if it might not fit). */
static struct nlmsghdr *nl_begin(struct sl_nl *nl, uint16_t type,
				 uint16_t flags, unsigned opflags,
				 struct sl_err *err, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static struct nlmsghdr *nl_begin(struct sl_nl *nl, uint16_t type,
				 uint16_t flags, unsigned opflags,
				 struct sl_err *err, const char *fmt, ...)
{
	struct nlmsghdr *nlh;
	struct nl_op *op;
	va_list ap;

	if (nl->len + MSG_MAX > BATCH_SIZE && sl_nl_flush(nl, err))
		return NULL;
	if (nl->n_ops == nl->cap_ops) {
		size_t cap = nl->cap_ops ? nl->cap_ops * 2 : 256;
		struct nl_op *ops = realloc(nl->ops, cap * sizeof(*ops));

		if (!ops) {
			sl_err_set(err, ENOMEM, "out of memory");
			return NULL;
		}
		nl->ops = ops;
		nl->cap_ops = cap;
	}
	op = &nl->ops[nl->n_ops++];
	op->seq = nl->seq;
	op->flags = opflags;
	va_start(ap, fmt);
	vsnprintf(op->what, sizeof(op->what), fmt, ap);
	va_end(ap);

	nlh = mnl_nlmsg_put_header(nl->buf + nl->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = nl->seq++;
	return nlh;
}

static void nl_end(struct sl_nl *nl, struct nlmsghdr *nlh)
{
	nl->len += MNL_ALIGN(nlh->nlmsg_len);
	nl->requests++;
}

static const char *nl_errmsg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += mnl_nlmsg_get_payload_len(&e->msg) + sizeof(e->msg);
	mnl_attr_for_each(attr, nlh, off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

int sl_nl_flush(struct sl_nl *nl, struct sl_err *err)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE * 4];
	size_t acked = 0;
	int first_err = 0;
	uint32_t seq0;

	if (!nl->n_ops)
		return 0;
	seq0 = nl->ops[0].seq;
	if (mnl_socket_sendto(nl->sock, nl->buf, nl->len) < 0) {
		first_err = sl_err_set(err, errno, "%s: netlink send: %s",
				       nl->ops[0].what, strerror(errno));
		goto out;
	}
	while (acked < nl->n_ops) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, rbuf, sizeof(rbuf));
		const struct nlmsghdr *nlh;
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (!first_err)
				first_err = sl_err_set(err, errno,
					"netlink receive: %s", strerror(errno));
			goto out;
		}
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e;
			const struct nl_op *op;
			const char *ext;
			uint32_t i;
			int code;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			i = nlh->nlmsg_seq - seq0;
			if (i >= nl->n_ops)
				continue;
			acked++;
			e = mnl_nlmsg_get_payload(nlh);
			code = -e->error;
			if (!code)
				continue;
			op = &nl->ops[i];
			if ((op->flags & SL_NL_IGNORE_EXIST) && code == EEXIST)
				continue;
			if ((op->flags & SL_NL_IGNORE_NOENT) &&
			    (code == ENOENT || code == ENODEV || code == ESRCH ||
			     code == EADDRNOTAVAIL))
				continue;
			if (first_err)
				continue;
			ext = nl_errmsg(nlh);
			first_err = sl_err_set(err, code, "%s: %s%s%s", op->what,
					       strerror(code), ext ? " (" : "",
					       ext ? ext : "");
			if (ext)
				strncat(err->msg, ")",
					sizeof(err->msg) - strlen(err->msg) - 1);
		}
	}
out:
	nl->len = 0;
	nl->n_ops = 0;
	return first_err;
}

/* --- links */

static void put_ifinfo(struct nlmsghdr *nlh, int ifindex, bool up)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
}

int sl_nl_veth_add(struct sl_nl *nl, const struct sl_veth *v, unsigned flags,
		   struct sl_err *err)
{
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg *pifi;
	struct nlmsghdr *nlh;

	nlh = nl_begin(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, flags, err,
		       "add veth %s <-> %s", v->name, v->peer);
	if (!nlh)
		return -EIO;
	put_ifinfo(nlh, v->ifindex, v->up);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->name);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	if (v->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->mac);
	/* One queue each way: veth otherwise makes one per possible CPU,
	 * each with its sysfs entries (a quarter of the time per pair here),
	 * and an emulated link uses one (AF_XDP binds queue 0). */
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer attribute starts with its own ifinfomsg. */
	pifi = (struct ifinfomsg *)((char *)nlh + MNL_ALIGN(nlh->nlmsg_len));
	memset(pifi, 0, MNL_ALIGN(sizeof(*pifi)));
	pifi->ifi_family = AF_UNSPEC;
	pifi->ifi_index = v->peer_ifindex;
	/* The peer cannot be set up here: it is configured before its own
	 * peer pointer exists, and veth_open() then fails with ENOTCONN. */
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->peer);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	if (v->peer_mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->peer_mac);
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
	if (v->peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	nl_end(nl, nlh);
	return 0;
}

int sl_nl_link_set(struct sl_nl *nl, int ifindex, const char *name, bool up,
		   uint32_t mtu, struct sl_err *err)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	nlh = nl_begin(nl, RTM_NEWLINK, 0, 0, err, "set %s %s",
		       name ? name : "interface", up ? "up" : "down");
	if (!nlh)
		return -EIO;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = up ? IFF_UP : 0;
	ifi->ifi_change = IFF_UP;
	if (!ifindex && name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	nl_end(nl, nlh);
	return 0;
}

int sl_nl_link_del(struct sl_nl *nl, int ifindex, const char *name,
		   unsigned flags, struct sl_err *err)
{
	struct nlmsghdr *nlh;

	nlh = nl_begin(nl, RTM_DELLINK, 0, flags, err, "delete %s",
		       name ? name : "interface");
	if (!nlh)
		return -EIO;
	put_ifinfo(nlh, ifindex, false);
	if (!ifindex && name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	nl_end(nl, nlh);
	return 0;
}

/* --- addresses and routes */

static size_t addr_len(const struct sl_prefix *p)
{
	return p->family == AF_INET6 ? 16 : 4;
}

int sl_nl_addr_add(struct sl_nl *nl, int ifindex, const struct sl_prefix *p,
		   unsigned flags, struct sl_err *err)
{
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	char a[64];

	nlh = nl_begin(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, flags, err,
		       "add address %s",
		       sl_prefix_str(p, a, sizeof(a), true));
	if (!nlh)
		return -EIO;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)p->family;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(p), p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(p), p->addr);
	if (p->family == AF_INET6) {
		/* Usable at once: no duplicate address detection delay. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	nl_end(nl, nlh);
	return 0;
}

int sl_nl_route_add(struct sl_nl *nl, const struct sl_prefix *dst,
		    const struct sl_nexthop *nh, unsigned n_nh,
		    const struct sl_prefix *prefsrc, unsigned flags,
		    struct sl_err *err)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	char a[64];
	unsigned i;

	nlh = nl_begin(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, flags, err,
		       "add route %s", sl_prefix_str(dst, a, sizeof(a), true));
	if (!nlh)
		return -EIO;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)dst->family;
	rtm->rtm_dst_len = dst->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	/* No next hop: a hole inside a prefix routed elsewhere. */
	rtm->rtm_type = n_nh ? RTN_UNICAST : RTN_UNREACHABLE;
	if (dst->len)
		mnl_attr_put(nlh, RTA_DST, addr_len(dst), dst->addr);
	if (n_nh && prefsrc && prefsrc->family == dst->family)
		mnl_attr_put(nlh, RTA_PREFSRC, addr_len(prefsrc), prefsrc->addr);
	if (n_nh == 1) {
		if (nh[0].gw)
			mnl_attr_put(nlh, RTA_GATEWAY, addr_len(nh[0].gw),
				     nh[0].gw->addr);
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)nh[0].ifindex);
	} else if (n_nh > 1) {
		struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);

		for (i = 0; i < n_nh; i++) {
			struct rtnexthop *rtnh;
			size_t start = nlh->nlmsg_len;

			rtnh = (struct rtnexthop *)((char *)nlh +
						    MNL_ALIGN(nlh->nlmsg_len));
			memset(rtnh, 0, sizeof(*rtnh));
			rtnh->rtnh_ifindex = nh[i].ifindex;
			nlh->nlmsg_len = MNL_ALIGN(nlh->nlmsg_len) +
					 RTNH_ALIGN(sizeof(*rtnh));
			if (nh[i].gw)
				mnl_attr_put(nlh, RTA_GATEWAY,
					     addr_len(nh[i].gw), nh[i].gw->addr);
			rtnh->rtnh_len = (unsigned short)(nlh->nlmsg_len - start);
		}
		mnl_attr_nest_end(nlh, mp);
	}
	nl_end(nl, nlh);
	return 0;
}

/* --- qdiscs */

int sl_nl_qdisc_tbf(struct sl_nl *nl, int ifindex, uint64_t rate_bps,
		    uint32_t burst, uint32_t limit, struct sl_err *err)
{
	struct tc_tbf_qopt q = { 0 };
	uint64_t bytes = rate_bps / 8;
	struct nlattr *opts;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	nlh = nl_begin(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, 0, err,
		       "add tbf qdisc (rate %llu bit/s) on ifindex %d",
		       (unsigned long long)rate_bps, ifindex);
	if (!nlh)
		return -EIO;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = TC_H_ROOT;
	tcm->tcm_handle = 0x10000; /* 1: */
	mnl_attr_put_strz(nlh, TCA_KIND, "tbf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	/* An Ethernet link layer needs no rate table; the burst is given in
	 * bytes (TCA_TBF_BURST), so the tick-based fields stay 0. */
	q.rate.linklayer = TC_LINKLAYER_ETHERNET;
	q.rate.rate = bytes >= UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
	q.limit = limit;
	mnl_attr_put(nlh, TCA_TBF_PARMS, sizeof(q), &q);
	if (bytes >= UINT32_MAX)
		mnl_attr_put_u64(nlh, TCA_TBF_RATE64, bytes);
	mnl_attr_put_u32(nlh, TCA_TBF_BURST, burst);
	mnl_attr_nest_end(nlh, opts);
	nl_end(nl, nlh);
	return 0;
}

int sl_nl_qdisc_del_root(struct sl_nl *nl, int ifindex, struct sl_err *err)
{
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	nlh = nl_begin(nl, RTM_DELQDISC, 0, SL_NL_IGNORE_NOENT, err,
		       "delete root qdisc on ifindex %d", ifindex);
	if (!nlh)
		return -EIO;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = TC_H_ROOT;
	nl_end(nl, nlh);
	return 0;
}

/* --- synchronous queries */

struct qstats_req {
	int ifindex;
	bool found;
	struct sl_qdisc_stats *out;
};

static int qstats_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct qstats_req *q = data;
	const struct nlattr *a, *b;

	if (nlh->nlmsg_type != RTM_NEWQDISC || tcm->tcm_ifindex != q->ifindex ||
	    tcm->tcm_parent != TC_H_ROOT)
		return MNL_CB_OK;
	q->found = true;
	mnl_attr_for_each(a, nlh, sizeof(*tcm)) {
		if (mnl_attr_get_type(a) != TCA_STATS2)
			continue;
		mnl_attr_for_each_nested(b, a) {
			if (mnl_attr_get_type(b) == TCA_STATS_BASIC &&
			    mnl_attr_get_payload_len(b) >= sizeof(struct gnet_stats_basic)) {
				struct gnet_stats_basic bs;

				memcpy(&bs, mnl_attr_get_payload(b), sizeof(bs));
				q->out->bytes = bs.bytes;
				q->out->packets = bs.packets;
			} else if (mnl_attr_get_type(b) == TCA_STATS_QUEUE &&
				   mnl_attr_get_payload_len(b) >= sizeof(struct gnet_stats_queue)) {
				struct gnet_stats_queue qs;

				memcpy(&qs, mnl_attr_get_payload(b), sizeof(qs));
				q->out->drops = qs.drops;
				q->out->qlen = qs.qlen;
				q->out->backlog = qs.backlog;
				q->out->overlimits = qs.overlimits;
			}
		}
	}
	return MNL_CB_OK;
}

int sl_nl_qdisc_stats(struct sl_nl *nl, int ifindex, struct sl_qdisc_stats *out,
		      struct sl_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct qstats_req q = { .ifindex = ifindex, .out = out };
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	uint32_t seq;
	ssize_t n;
	int ret;

	memset(out, 0, sizeof(*out));
	if (sl_nl_flush(nl, err))
		return -EIO;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq = nl->seq++;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return sl_err_set(err, errno, "qdisc stats: %s", strerror(errno));
	do {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return sl_err_set(err, errno, "qdisc stats: %s", strerror(errno));
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, qstats_cb, &q);
	} while (ret > 0);
	if (ret < 0)
		return sl_err_set(err, errno, "qdisc stats: %s", strerror(errno));
	return q.found ? 0 : -ENOENT;
}

struct ifindex_req {
	int ifindex;
};

static int ifindex_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	((struct ifindex_req *)data)->ifindex = ifi->ifi_index;
	return MNL_CB_OK;
}

int sl_nl_ifindex(struct sl_nl *nl, const char *name, struct sl_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifindex_req req = { 0 };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	uint32_t seq;
	ssize_t n;
	int ret;

	if (sl_nl_flush(nl, err))
		return -EIO;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq = nl->seq++;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return sl_err_set(err, errno, "look up %s: %s", name,
				  strerror(errno));
	n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
	if (n < 0)
		return sl_err_set(err, errno, "look up %s: %s", name,
				  strerror(errno));
	ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, ifindex_cb, &req);
	if (ret < 0)
		return sl_err_set(err, errno, "look up %s: %s", name,
				  strerror(errno));
	return req.ifindex ? req.ifindex : sl_err_set(err, ENODEV,
						      "no interface %s", name);
}

struct prefix_list {
	struct sl_prefix *v;
	size_t n, cap;
	int kind; /* RTM_NEWADDR or RTM_NEWROUTE */
};

static void prefix_push(struct prefix_list *l, int family, const void *addr,
			uint8_t len)
{
	struct sl_prefix *p;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		p = realloc(l->v, cap * sizeof(*p));
		if (!p)
			return;
		l->v = p;
		l->cap = cap;
	}
	p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(p->addr, addr, family == AF_INET6 ? 16 : 4);
	p->len = len;
	sl_prefix_mask(p);
}

static int host_prefix_cb(const struct nlmsghdr *nlh, void *data)
{
	struct prefix_list *l = data;
	const struct nlattr *attr;

	if (nlh->nlmsg_type == RTM_NEWADDR) {
		const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

		mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
			if (mnl_attr_get_type(attr) == IFA_ADDRESS &&
			    mnl_attr_get_payload_len(attr) >=
				    (ifa->ifa_family == AF_INET6 ? 16u : 4u))
				prefix_push(l, ifa->ifa_family,
					    mnl_attr_get_payload(attr),
					    ifa->ifa_prefixlen);
		}
	} else if (nlh->nlmsg_type == RTM_NEWROUTE) {
		const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

		if (rtm->rtm_type != RTN_UNICAST || !rtm->rtm_dst_len)
			return MNL_CB_OK;
		mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
			if (mnl_attr_get_type(attr) == RTA_DST &&
			    mnl_attr_get_payload_len(attr) >=
				    (rtm->rtm_family == AF_INET6 ? 16u : 4u))
				prefix_push(l, rtm->rtm_family,
					    mnl_attr_get_payload(attr),
					    rtm->rtm_dst_len);
		}
	}
	return MNL_CB_OK;
}

static int dump(struct mnl_socket *sock, uint16_t type, uint32_t seq,
		struct prefix_list *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;
	uint32_t portid = mnl_socket_get_portid(sock);
	ssize_t n;
	int ret;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	/* The header each dump expects: ifaddrmsg or rtmsg, zeroed. */
	g = mnl_nlmsg_put_extra_header(nlh, type == RTM_GETADDR ?
					    sizeof(struct ifaddrmsg) :
					    sizeof(struct rtmsg));
	g->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(sock, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, host_prefix_cb, l);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

int sl_nl_host_prefixes(struct sl_prefix **out, size_t *n, struct sl_err *err)
{
	struct prefix_list l = { 0 };
	struct mnl_socket *sock;
	int ret;

	sock = mnl_socket_open(NETLINK_ROUTE);
	if (!sock)
		return sl_err_set(err, errno, "netlink socket: %s",
				  strerror(errno));
	ret = mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID);
	if (!ret)
		ret = dump(sock, RTM_GETADDR, 1, &l);
	if (!ret)
		ret = dump(sock, RTM_GETROUTE, 2, &l);
	mnl_socket_close(sock);
	if (ret) {
		free(l.v);
		return sl_err_set(err, -ret, "reading the host's networks: %s",
				  strerror(-ret));
	}
	*out = l.v;
	*n = l.n;
	return 0;
}
