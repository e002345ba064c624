// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shell_uplink.c - the uplink of `sluicectl shell` (cmd_shell.c): what joins
 * the shell topology's gw node to the host, and takes it away again.
 *
 *  - a veth pair from the root namespace (host_if) into gw (up0), on a /31
 *    out of 100.64.0.0/10 that overlaps none of the host's networks (the
 *    even address on the host's side); in gw a default route to the host
 *    and a route back to the shell; permanent neighbour entries on both
 *    ends of the emulated link, so no ARP crosses it;
 *  - masquerading on gw's up0 (nftables inside gw's namespace, gone with
 *    it), so the host answers without a route of its own; without nft a
 *    route to the topology's pool via the uplink in the root namespace
 *    instead (gone with the veth);
 *  - NAT beyond the host, as mahimahi does (unless --no-nat-out): a table
 *    in the root namespace's nftables and ip_forward, both undone by
 *    shell_uplink_down(). ip_forward is the host's, shared by every shell:
 *    the shell that turns it on leaves a mark (FORWARD_MARK), and whichever
 *    shell goes last (no other shell's table left) turns it off again,
 *    both under a lock (FORWARD_LOCK), so one shell ending never cuts off
 *    another that still runs.
 *
 * Two requests have no call in sl_nl (a route that replaces one, a
 * neighbour entry), so they are made here with libmnl.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <sluice/addr.h>
#include <sluice/net.h>
#include <sluice/netlink.h>

#include "shell.h"
#include "sluicectl.h"

#define UPLINK_MTU 1500
#define FORWARD_LOCK "/run/sluice-shell.lock"
#define FORWARD_MARK "/run/sluice-shell.ip_forward" /* a shell turned it on */
#define TABLE_PREFIX "sluice_" /* every shell's NAT table in the root namespace */
/* Shared address space (RFC 6598), as mahimahi's links use: never a host's
 * own LAN, never routed on the Internet. */
#define UPLINK_SPACE "100.64.0.0/10"

static int run_nft(int netns_fd, const char *rules, bool quiet)
{
	char *argv[] = { "nft", (char *)rules, NULL };
	int status, fd;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &(sigset_t){ 0 }, NULL);
		if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
			_exit(126);
		if (quiet && (fd = open("/dev/null", O_WRONLY)) >= 0)
			dup2(fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status);
}

/* A /31 in UPLINK_SPACE that overlaps no host network and not the
 * topology's pool, starting at a place that depends on our pid so that
 * shells started together look in different places. */
static int pick_uplink(struct shell_uplink *u, struct sl_err *err)
{
	struct sl_prefix space, cand, *host = NULL;
	uint64_t slots, start, i;
	size_t n = 0, j;
	int ret;

	ret = sl_nl_host_prefixes(&host, &n, err);
	if (ret)
		return ret;
	sl_prefix_parse(UPLINK_SPACE, &space, false);
	slots = 1ull << (31 - space.len);
	start = ((uint64_t)getpid() * 2654435761u) % slots;
	for (i = 0; i < slots; i++) {
		ret = sl_prefix_add(&space, 2 * ((start + i) % slots), &cand);
		if (ret)
			break;
		cand.len = 31;
		if (sl_prefix_overlap(&cand, &u->pool))
			continue;
		for (j = 0; j < n; j++)
			if (host[j].family == AF_INET &&
			    sl_prefix_overlap(&cand, &host[j]))
				break;
		if (j == n) {
			u->up_host = cand;
			sl_prefix_add(&cand, 1, &u->up_gw);
			u->up_gw.len = 31;
			free(host);
			return 0;
		}
	}
	free(host);
	return sl_err_set(err, EADDRNOTAVAIL,
			  "no free /31 in %s for the uplink to the host",
			  UPLINK_SPACE);
}

/*
 * Sends one request (nlh, built in a buffer of MNL_SOCKET_BUFFER_SIZE) in
 * namespace netns_fd and waits for its ACK. For the two requests that
 * sl_nl has no call for: a route that replaces one, a neighbour entry.
 */
static int nl_one(int netns_fd, struct nlmsghdr *nlh, const char *what,
		  struct sl_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *sock;
	int saved = -1, ret;
	ssize_t n;

	ret = sl_netns_enter(netns_fd, &saved, err);
	if (ret)
		return ret;
	sock = mnl_socket_open(NETLINK_ROUTE);
	ret = sock ? 0 : -errno;
	sl_netns_leave(saved);
	if (ret)
		return sl_err_set(err, -ret, "netlink socket: %s", strerror(-ret));
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
	} else {
		n = mnl_socket_recvfrom(sock, buf, sizeof(buf));
		if (n < 0 || mnl_cb_run(buf, (size_t)n, 1,
					mnl_socket_get_portid(sock), NULL,
					NULL) < 0)
			ret = -errno;
	}
	mnl_socket_close(sock);
	if (ret)
		return sl_err_set(err, -ret, "%s: %s", what, strerror(-ret));
	return 0;
}

/*
 * Replaces gw's default route (the topology routes it towards the shell,
 * its only neighbour) with one via the host.
 */
static int default_via(int netns_fd, const struct sl_prefix *gw, int ifindex,
		       struct sl_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, 4, gw->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_one(netns_fd, nlh, "replace the default route of gw", err);
}

/*
 * A permanent neighbour entry: the emulated link carries no ARP, so the
 * first packet each way costs one trip, not three (ARP across the link,
 * as mm-link's point-to-point TUN devices never need it either). The MACs
 * are the fixed ones of net.h.
 */
static int neigh_add(int netns_fd, int ifindex, const struct sl_prefix *ip,
		     uint32_t node, struct sl_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;
	uint8_t mac[6];

	sl_node_mac(node, 0, mac);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, 4, ip->addr);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return nl_one(netns_fd, nlh, "add a neighbour entry", err);
}

/* The lock around ip_forward and the shells' tables; -1 when it cannot be
 * had (then each shell acts alone, as without it). */
static int forward_lock(void)
{
	int fd = open(FORWARD_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void forward_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* True when another shell's NAT table (not `mine`) is in the root
 * namespace's nftables. */
static bool other_nat_tables(const char *mine)
{
	char line[256], name[128];
	bool found = false;
	FILE *f;

	fflush(stdout);
	fflush(stderr);
	f = popen("nft list tables ip 2>/dev/null", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "table ip %127s", name) == 1 &&
		    !strncmp(name, TABLE_PREFIX, strlen(TABLE_PREFIX)) &&
		    strcmp(name, mine))
			found = true;
	pclose(f);
	return found;
}

/* ip_forward on for the NAT (under the lock); the mark says we did it. */
static int forward_on(struct sl_err *err)
{
	char v[8] = "";
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY), ret, mark;

	if (fd >= 0) {
		if (read(fd, v, sizeof(v) - 1) < 0)
			v[0] = '\0';
		close(fd);
	}
	if (v[0] == '1')
		return 0;
	ret = sl_sysctl_set("net/ipv4/ip_forward", "1", err);
	if (ret)
		return ret;
	mark = open(FORWARD_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (mark >= 0)
		close(mark);
	return 0;
}

int shell_uplink_up(struct shell_uplink *u, struct sl_err *err)
{
	char ns[128], a[64], rules[1024];
	struct sl_nl *root = NULL, *gw = NULL;
	struct sl_nexthop nh;
	int gwfd = -1, shfd, hi, gi, ei, ret, lock;

	sl_netns_node(u->topo, "gw", ns, sizeof(ns));
	gwfd = sl_netns_open(ns, err);
	if (gwfd < 0)
		return gwfd;
	ret = pick_uplink(u, err);
	if (ret)
		goto out;
	root = sl_nl_open(-1, err);
	gw = root ? sl_nl_open(gwfd, err) : NULL;
	if (!gw) {
		ret = -EIO;
		goto out;
	}
	{
		struct sl_veth v = {
			.name = u->host_if, .peer = SHELL_GW_IF,
			.peer_netns_fd = gwfd, .mtu = UPLINK_MTU, .up = true,
		};

		ret = sl_nl_veth_add(root, &v, 0, err);
		ret = ret ?: sl_nl_flush(root, err);
	}
	if (ret)
		goto out;
	u->veth_made = true;
	hi = sl_nl_ifindex(root, u->host_if, err);
	gi = hi < 0 ? hi : sl_nl_ifindex(gw, SHELL_GW_IF, err);
	ei = gi < 0 ? gi : sl_nl_ifindex(gw, "eth0", err);
	if (ei < 0) {
		ret = ei;
		goto out;
	}
	ret = sl_nl_addr_add(root, hi, &u->up_host, 0, err);
	ret = ret ?: sl_nl_flush(root, err);
	ret = ret ?: sl_nl_link_set(gw, gi, NULL, true, 0, err);
	ret = ret ?: sl_nl_addr_add(gw, gi, &u->up_gw, 0, err);
	/* back to the shell: the whole pool (only the shell is in it) */
	nh.gw = &u->shell_link;
	nh.ifindex = ei;
	ret = ret ?: sl_nl_route_add(gw, &u->pool, &nh, 1, NULL, 0, err);
	ret = ret ?: sl_nl_flush(gw, err);
	ret = ret ?: default_via(gwfd, &u->up_host, gi, err);
	ret = ret ?: neigh_add(gwfd, ei, &u->shell_link, 0, err);
	if (ret)
		goto out;
	sl_netns_node(u->topo, "shell", ns, sizeof(ns));
	shfd = sl_netns_open(ns, err);
	if (shfd < 0) {
		ret = shfd;
		goto out;
	}
	ret = neigh_add(shfd, sl_node_ifindex(0), &u->gw_link, 1, err);
	close(shfd);
	if (ret)
		goto out;
	sl_prefix_str(&u->up_host, u->host_addr, sizeof(u->host_addr), false);

	/* The host answers the address it sees: gw's own, once masqueraded. */
	snprintf(rules, sizeof(rules),
		 "add table ip sluice; "
		 "add chain ip sluice sl_post { type nat hook postrouting priority 100; }; "
		 "add rule ip sluice sl_post oifname \"%s\" masquerade",
		 SHELL_GW_IF);
	ret = run_nft(gwfd, rules, false);
	if (ret == 127) {
		/* no nft: a route in the root namespace, gone with the veth */
		if (u->verbose)
			ctl_warn("nft not found; routing %s via the uplink instead of masquerading",
				 sl_prefix_str(&u->pool, a, sizeof(a), true));
		nh.gw = &u->up_gw;
		nh.ifindex = hi;
		ret = sl_nl_route_add(root, &u->pool, &nh, 1, NULL, 0, err);
		ret = ret ?: sl_nl_flush(root, err);
		if (!ret && u->nat_out) {
			/* NAT beyond the host needs nft too */
			if (u->nat_asked) {
				ret = sl_err_set(err, ENOENT,
						 "--nat-out needs nft (Debian package nftables)");
				goto out;
			}
			ctl_warn("nft not found: the shell reaches the host only, nothing beyond it "
				 "(install the Debian package nftables, or say --no-nat-out)");
			goto out;
		}
	} else if (ret) {
		ret = sl_err_set(err, EIO, "nft in gw failed (status %d): masquerading on the uplink",
				 ret);
	}
	if (ret || !u->nat_out)
		goto out;

	/* Beyond the host: the root namespace forwards and masquerades. */
	snprintf(rules, sizeof(rules),
		 "add table ip %s; "
		 "add chain ip %s sl_post { type nat hook postrouting priority 100; }; "
		 "add rule ip %s sl_post ip saddr %s oifname != \"%s\" masquerade; "
		 "add chain ip %s sl_fwd { type filter hook forward priority 0; }; "
		 "add rule ip %s sl_fwd iifname \"%s\" accept; "
		 "add rule ip %s sl_fwd oifname \"%s\" ct state established,related accept",
		 u->table, u->table, u->table,
		 sl_prefix_str(&u->up_gw, a, sizeof(a), false), u->host_if,
		 u->table, u->table, u->host_if, u->table, u->host_if);
	lock = forward_lock();
	ret = run_nft(-1, rules, false);
	if (ret) {
		forward_unlock(lock);
		ret = sl_err_set(err, ret == 127 ? ENOENT : EIO,
				 ret == 127 ? "NAT beyond the host needs nft (Debian package nftables); --no-nat-out goes without" :
					      "nft failed (status %d): the NAT table in the root namespace",
				 ret);
		goto out;
	}
	u->nat_table = true;
	ret = forward_on(err);
	forward_unlock(lock);
out:
	sl_nl_free(gw);
	sl_nl_free(root);
	if (gwfd >= 0)
		close(gwfd);
	return ret;
}

/*
 * Ends the processes still inside the shell's namespace (daemons started
 * from the shell, children of a killed program): the namespace is about to
 * lose every interface, and they would keep it alive, cut off. TERM first,
 * KILL after a second.
 */
void shell_end_processes(const char *topo, bool verbose)
{
	char ns[128], path[300];
	struct stat want, st;
	struct dirent *de;
	int round, found;
	DIR *d;

	sl_netns_node(topo, "shell", ns, sizeof(ns));
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (stat(path, &want) < 0)
		return;
	for (round = 0; round < 12; round++) {
		found = 0;
		d = opendir("/proc");
		if (!d)
			return;
		while ((de = readdir(d))) {
			char *end;
			long pid = strtol(de->d_name, &end, 10);

			if (*end || pid <= 1 || pid == getpid())
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
			if (stat(path, &st) < 0 || st.st_ino != want.st_ino ||
			    st.st_dev != want.st_dev)
				continue;
			found++;
			if (round == 0 || round == 10)
				kill((pid_t)pid, round ? SIGKILL : SIGTERM);
		}
		closedir(d);
		if (!found)
			return;
		if (round == 0 && verbose)
			fprintf(stderr, "sluicectl: ending %d process%s left in the shell\n",
				found, found == 1 ? "" : "es");
		usleep(100 * 1000);
	}
}

/* Removes what shell_uplink_up() made (also after it failed half way);
 * quiet about what is already gone. Returns 0 when everything went. */
int shell_uplink_down(struct shell_uplink *u)
{
	struct sl_err err = { { 0 } };
	char rules[96];
	int ret = 0;

	if (u->nat_table) {
		int lock = forward_lock();

		snprintf(rules, sizeof(rules), "delete table ip %s", u->table);
		if (run_nft(-1, rules, false)) {
			ctl_err("cannot remove nft table ip %s; 'nft delete table ip %s' does",
				u->table, u->table);
			ret = -1;
		} else if (!access(FORWARD_MARK, F_OK) && !other_nat_tables(u->table)) {
			/* the last shell with NAT: ip_forward as it was */
			if (sl_sysctl_set("net/ipv4/ip_forward", "0", &err)) {
				ctl_err("cannot turn ip_forward off again: %s", err.msg);
				ret = -1;
			} else {
				unlink(FORWARD_MARK);
			}
		}
		forward_unlock(lock);
		u->nat_table = false;
	}
	if (u->veth_made) {
		struct sl_nl *nl = sl_nl_open(-1, &err);

		if (!nl || sl_nl_link_del(nl, 0, u->host_if, SL_NL_IGNORE_NOENT,
					  &err) ||
		    sl_nl_flush(nl, &err)) {
			ctl_err("cannot remove the uplink %s: %s", u->host_if,
				err.msg);
			ret = -1;
		}
		sl_nl_free(nl);
		u->veth_made = false;
	}
	return ret;
}
