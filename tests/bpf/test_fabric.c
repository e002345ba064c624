// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_fabric.c - the kernel fabric against the running kernel: every branch
 * of sl_fabric_ingress under BPF_PROG_TEST_RUN, the pin life cycle, tc
 * attach, an end-to-end packet through bpf_redirect_peer between three
 * private network namespaces, and the cost of attaching many ports.
 *
 * Runs as root. Pins go to /sys/fs/bpf/sluice-test-<pid>; every namespace is
 * anonymous (held by an fd, never named), so nothing outlives the process.
 * SLUICE_FABRIC_ATTACH_PORTS sets how many ports the attach measurement
 * uses (default 2000, the size of a 1000-link topology).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sluice/fabric.h>

static char pin_dir[64];
static int orig_ns = -1;

/* ---- helpers */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		print_message("# command failed (%d): %s\n", rc, cmd);
	return rc;
}

/* A fresh anonymous netns with lo up; returns an fd that keeps it alive.
 * The caller is left inside it. */
static int ns_new(void)
{
	int fd;

	assert_int_equal(setns(orig_ns, CLONE_NEWNET), 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(sh("ip link set lo up"), 0);
	return fd;
}

static void ns_enter(int fd)
{
	assert_int_equal(setns(fd, CLONE_NEWNET), 0);
}

static void ns_back(void)
{
	assert_int_equal(setns(orig_ns, CLONE_NEWNET), 0);
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

/* Program ids are freed after an RCU grace period: wait for it. */
static int prog_gone(uint32_t id)
{
	int i, fd;

	for (i = 0; i < 200; i++) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0 && errno == ENOENT)
			return 1;
		if (fd >= 0)
			close(fd);
		usleep(10000);
	}
	return 0;
}

static int silent(enum libbpf_print_level level, const char *fmt,
		  va_list ap)
{
	return 0;
}

static int exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "",
		 name ? name : "");
	return access(path, F_OK) == 0;
}

static struct sl_fabric *make_fabric(uint32_t max_links)
{
	struct sl_err err = { "" };
	struct sl_fabric *f = sl_fabric_create(pin_dir, max_links, &err);

	if (!f)
		print_message("# sl_fabric_create: %s\n", err.msg);
	assert_non_null(f);
	return f;
}

static void drop_fabric(struct sl_fabric *f)
{
	struct sl_err err = { "" };

	sl_fabric_free(f);
	assert_int_equal(sl_fabric_unpin(pin_dir, &err), 0);
	assert_false(exists(pin_dir, NULL));
}

static struct sl_fabric_port port(uint32_t peer, uint32_t link, uint8_t dir,
				  uint8_t flags)
{
	struct sl_fabric_port p;

	memset(&p, 0, sizeof(p));
	p.peer_ifindex = peer;
	p.link = link;
	p.dir = dir;
	p.flags = flags;
	return p;
}

static void stats(struct sl_fabric *f, uint32_t link, uint32_t dir,
		  struct sl_fabric_stats *out)
{
	struct sl_err err = { "" };

	assert_int_equal(sl_fabric_stats_get(f, link, dir, out, &err), 0);
}

static uint64_t noport(struct sl_fabric *f)
{
	struct sl_fabric_stats g;

	assert_int_equal(sl_fabric_global_get(f, &g, NULL), 0);
	return g.drop_noport;
}

/* ---- BPF_PROG_TEST_RUN */

/* Ethernet + IPv4 + UDP with 32 bytes of payload: 74 bytes. */
struct test_pkt {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	uint8_t payload[32];
} __attribute__((packed));

static void make_pkt(struct test_pkt *pkt)
{
	static const uint8_t src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 1 };
	static const uint8_t dst[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 2 };

	memset(pkt, 0, sizeof(*pkt));
	memcpy(pkt->eth.h_source, src, ETH_ALEN);
	memcpy(pkt->eth.h_dest, dst, ETH_ALEN);
	pkt->eth.h_proto = htons(ETH_P_IP);
	pkt->ip.version = 4;
	pkt->ip.ihl = 5;
	pkt->ip.ttl = 64;
	pkt->ip.protocol = IPPROTO_UDP;
	pkt->ip.tot_len = htons(sizeof(*pkt) - sizeof(pkt->eth));
	pkt->ip.saddr = htonl(0x0a000001);
	pkt->ip.daddr = htonl(0x0a000002);
	pkt->udp.source = htons(4000);
	pkt->udp.dest = htons(5000);
	pkt->udp.len = htons(sizeof(pkt->udp) + sizeof(pkt->payload));
	memset(pkt->payload, 0xab, sizeof(pkt->payload));
}

/* Runs the program once on the test packet as if it entered ifindex;
 * returns the verdict. */
static int run(struct sl_fabric *f, uint32_t ingress_ifindex)
{
	struct __sk_buff ctx;
	struct test_pkt pkt;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &pkt,
		    .data_size_in = sizeof(pkt), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	make_pkt(&pkt);
	memset(&ctx, 0, sizeof(ctx));
	ctx.ingress_ifindex = ingress_ifindex;
	assert_int_equal(bpf_prog_test_run_opts(sl_fabric_prog_fd(f), &opts),
			 0);
	return (int)opts.retval;
}

static void test_run_redirect(void **state)
{
	struct sl_fabric *f = make_fabric(16);
	struct sl_fabric_port p = port(21, 3, 1, SL_PORT_UP);
	struct sl_fabric_stats s, other;

	assert_int_equal(sl_fabric_port_set(f, 20, &p, NULL), 0);
	assert_int_equal(run(f, 20), TC_ACT_REDIRECT);
	stats(f, 3, 1, &s);
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.bytes, sizeof(struct test_pkt));
	assert_int_equal(s.drop_down, 0);
	assert_int_equal(run(f, 20), TC_ACT_REDIRECT);
	stats(f, 3, 1, &s);
	assert_int_equal(s.packets, 2);
	assert_int_equal(s.bytes, 2 * sizeof(struct test_pkt));
	/* the other direction and other links are untouched */
	stats(f, 3, 0, &other);
	assert_int_equal(other.packets + other.bytes + other.drop_down, 0);
	stats(f, 2, 1, &other);
	assert_int_equal(other.packets, 0);
	assert_int_equal(noport(f), 0);
	drop_fabric(f);
}

static void test_run_down(void **state)
{
	struct sl_fabric *f = make_fabric(16);
	struct sl_fabric_port p = port(21, 5, 0, 0);
	struct sl_fabric_stats s;

	assert_int_equal(sl_fabric_port_set(f, 20, &p, NULL), 0);
	assert_int_equal(run(f, 20), TC_ACT_SHOT);
	stats(f, 5, 0, &s);
	assert_int_equal(s.drop_down, 1);
	assert_int_equal(s.packets, 0);
	assert_int_equal(s.bytes, 0);
	assert_int_equal(noport(f), 0);
	drop_fabric(f);
}

static void test_run_noport(void **state)
{
	struct sl_fabric *f = make_fabric(16);
	struct sl_fabric_port p = port(21, 0, 0, SL_PORT_UP);
	struct sl_fabric_stats s;

	assert_int_equal(sl_fabric_port_set(f, 20, &p, NULL), 0);
	assert_int_equal(run(f, 99), TC_ACT_SHOT);
	assert_int_equal(noport(f), 1);
	assert_int_equal(run(f, 0), TC_ACT_SHOT);
	assert_int_equal(noport(f), 2);
	stats(f, 0, 0, &s);
	assert_int_equal(s.packets + s.drop_down, 0);
	drop_fabric(f);
}

static void test_run_runtime_update(void **state)
{
	struct sl_fabric *f = make_fabric(4);
	struct sl_fabric_port p = port(21, 1, 0, SL_PORT_UP), got;
	struct sl_fabric_stats s;

	assert_int_equal(sl_fabric_port_set(f, 20, &p, NULL), 0);
	assert_int_equal(run(f, 20), TC_ACT_REDIRECT);
	p.flags = 0;
	assert_int_equal(sl_fabric_port_set(f, 20, &p, NULL), 0);
	assert_int_equal(sl_fabric_port_get(f, 20, &got, NULL), 0);
	assert_memory_equal(&got, &p, sizeof(p));
	assert_int_equal(run(f, 20), TC_ACT_SHOT);
	p.flags = SL_PORT_UP;
	assert_int_equal(sl_fabric_port_set(f, 20, &p, NULL), 0);
	assert_int_equal(run(f, 20), TC_ACT_REDIRECT);
	stats(f, 1, 0, &s);
	assert_int_equal(s.packets, 2);
	assert_int_equal(s.drop_down, 1);
	assert_int_equal(sl_fabric_port_del(f, 20, NULL), 0);
	assert_int_equal(run(f, 20), TC_ACT_SHOT);
	assert_int_equal(noport(f), 1);
	/* reset before a link index is reused */
	assert_int_equal(sl_fabric_stats_reset(f, 1, NULL), 0);
	stats(f, 1, 0, &s);
	assert_int_equal(s.packets + s.bytes + s.drop_down, 0);
	drop_fabric(f);
}

/* ---- map API */

static void test_port_validation(void **state)
{
	struct sl_fabric *f = make_fabric(4);
	struct sl_fabric_port p = port(21, 4, 0, SL_PORT_UP);
	struct sl_fabric_stats s;
	struct sl_err err = { "" };

	assert_int_equal(sl_fabric_max_links(f), 4);
	assert_int_equal(sl_fabric_port_set(f, 20, &p, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "fabric: port 20: link 4 out of range (max 4 links)");
	p = port(21, 3, 2, SL_PORT_UP);
	assert_int_equal(sl_fabric_port_set(f, 20, &p, &err), -EINVAL);
	assert_string_equal(err.msg, "fabric: port 20: bad dir 2");
	p = port(21, 3, 1, SL_PORT_UP);
	p.reserved[2] = 1;
	assert_int_equal(sl_fabric_port_set(f, 20, &p, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "fabric: port 20: reserved fields must be zero");
	p = port(0, 3, 1, SL_PORT_UP);
	assert_int_equal(sl_fabric_port_set(f, 20, &p, &err), -EINVAL);
	assert_int_equal(sl_fabric_port_get(f, 20, &p, &err), -ENOENT);
	assert_string_equal(err.msg, "fabric: port 20: no such port");
	assert_int_equal(sl_fabric_port_del(f, 20, &err), -ENOENT);
	assert_string_equal(err.msg, "fabric: port 20: delete: no such port");
	assert_int_equal(sl_fabric_stats_get(f, 4, 0, &s, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "fabric: stats: link 4 dir 0 out of range (max 4 links)");
	assert_int_equal(sl_fabric_stats_get(f, 3, 2, &s, &err), -EINVAL);
	drop_fabric(f);
}

/* ---- pins */

static void test_create_unpin_clean(void **state)
{
	struct sl_fabric *f = make_fabric(0);
	struct sl_err err = { "" };
	uint32_t id;

	assert_int_equal(sl_fabric_max_links(f), SL_FABRIC_LINKS_DEFAULT);
	assert_true(exists(pin_dir, SL_FABRIC_PIN_PROG));
	assert_true(exists(pin_dir, SL_FABRIC_PIN_PORTS));
	assert_true(exists(pin_dir, SL_FABRIC_PIN_STATS));
	assert_true(exists(pin_dir, SL_FABRIC_PIN_GLOBAL));
	assert_true(exists(pin_dir, SL_FABRIC_PIN_POLICY));
	assert_true(exists(pin_dir, SL_FABRIC_PIN_BUCKET));
	assert_true(exists(pin_dir, SL_FABRIC_PIN_FLOWS));
	assert_true(exists(pin_dir, SL_FABRIC_PIN_FLOW_CTL));
	assert_true(exists(pin_dir, SL_FABRIC_PIN_FLOW_HITS));
	id = prog_id(sl_fabric_prog_fd(f));
	drop_fabric(f);
	assert_true(prog_gone(id));
	/* idempotent */
	assert_int_equal(sl_fabric_unpin(pin_dir, &err), 0);
}

static void test_create_errors(void **state)
{
	struct sl_fabric *f = make_fabric(8);
	struct sl_err err = { "" };
	char buf[SL_ERR_MAX], tmp[64];

	/* a second create over live pins */
	assert_null(sl_fabric_create(pin_dir, 8, &err));
	assert_int_equal(errno, EEXIST);
	snprintf(buf, sizeof(buf),
		 "fabric: %s/prog_fabric_ingress already exists (open the pinned fabric or unpin it)",
		 pin_dir);
	assert_string_equal(err.msg, buf);
	assert_true(exists(pin_dir, SL_FABRIC_PIN_PROG));
	drop_fabric(f);

	/* not on bpffs: fails before loading, leaves no directory */
	snprintf(tmp, sizeof(tmp), "/tmp/sluice-test-%d", (int)getpid());
	assert_null(sl_fabric_create(tmp, 8, &err));
	assert_int_equal(errno, EINVAL);
	snprintf(buf, sizeof(buf), "%s: not on a bpf filesystem", tmp);
	assert_string_equal(err.msg, buf);
	assert_false(exists(tmp, NULL));

	assert_null(sl_fabric_create(pin_dir, SL_FABRIC_LINKS_MAX + 1, &err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err.msg,
			    "fabric: 1048577 links exceed the limit 1048576");
	assert_false(exists(pin_dir, NULL));
}

static void test_open_reopens(void **state)
{
	struct sl_fabric *f = make_fabric(8), *g;
	struct sl_fabric_port p = port(31, 7, 1, SL_PORT_UP), got;
	struct sl_fabric_stats s;
	struct sl_err err = { "" };
	uint32_t id = prog_id(sl_fabric_prog_fd(f));

	assert_int_equal(sl_fabric_port_set(f, 30, &p, NULL), 0);
	assert_int_equal(run(f, 30), TC_ACT_REDIRECT);
	sl_fabric_free(f); /* a daemon exit: the pins keep everything */

	g = sl_fabric_open(pin_dir, &err);
	if (!g)
		print_message("# sl_fabric_open: %s\n", err.msg);
	assert_non_null(g);
	assert_int_equal(prog_id(sl_fabric_prog_fd(g)), id);
	assert_int_equal(sl_fabric_max_links(g), 8);
	assert_int_equal(sl_fabric_port_get(g, 30, &got, NULL), 0);
	assert_memory_equal(&got, &p, sizeof(p));
	stats(g, 7, 1, &s);
	assert_int_equal(s.packets, 1);
	drop_fabric(g);
	assert_true(prog_gone(id));

	assert_null(sl_fabric_open(pin_dir, &err));
	assert_int_equal(errno, ENOENT);
}

static void test_open_wrong_layout(void **state)
{
	struct sl_fabric *f = make_fabric(8);
	struct sl_err err = { "" };
	char path[128], buf[SL_ERR_MAX];
	int fd;

	sl_fabric_free(f);
	/* an older build's "stats" with another value size */
	snprintf(path, sizeof(path), "%s/stats", pin_dir);
	assert_int_equal(unlink(path), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "stats", 4, 24, 16,
			    NULL);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);
	assert_null(sl_fabric_open(pin_dir, &err));
	assert_int_equal(errno, EPROTO);
	snprintf(buf, sizeof(buf),
		 "fabric: %s: map type 6 key 4 value 24 entries 16, this build expects type 6 key 4 value %zu (pinned by another sluice version? unpin it)",
		 path, sizeof(struct sl_fabric_stats));
	assert_string_equal(err.msg, buf);
	assert_int_equal(sl_fabric_unpin(pin_dir, &err), 0);
	assert_false(exists(pin_dir, NULL));
}

/* ---- tc attach */

static void test_attach_detach(void **state)
{
	struct sl_fabric *f = make_fabric(4);
	struct sl_err err = { "" };
	int ns = ns_new(), ifindex, ret;
	libbpf_print_fn_t old;
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = SL_FABRIC_TC_HANDLE,
		    .priority = SL_FABRIC_TC_PRIO);

	assert_int_equal(sh("ip link add fa type veth peer name fb"), 0);
	ifindex = (int)if_nametoindex("fa");
	assert_true(ifindex > 0);
	hook.ifindex = ifindex;
	assert_int_equal(sl_fabric_attach(f, ifindex, &err), 0);
	assert_int_equal(bpf_tc_query(&hook, &q), 0);
	assert_int_equal(q.prog_id, prog_id(sl_fabric_prog_fd(f)));
	/* again (daemon restart): replaces, no error */
	assert_int_equal(sl_fabric_attach(f, ifindex, &err), 0);
	assert_int_equal(sl_fabric_detach(f, ifindex, &err), 0);
	memset(&q, 0, sizeof(q));
	q.sz = sizeof(q);
	q.handle = SL_FABRIC_TC_HANDLE;
	q.priority = SL_FABRIC_TC_PRIO;
	old = libbpf_set_print(silent); /* the kernel's "no filter chain" */
	ret = bpf_tc_query(&hook, &q);
	libbpf_set_print(old);
	assert_true(ret < 0);
	/* idempotent */
	assert_int_equal(sl_fabric_detach(f, ifindex, &err), 0);
	assert_int_equal(sl_fabric_detach(f, 999999, &err), -ENODEV);
	assert_int_equal(sl_fabric_attach(f, 999999, &err), -ENODEV);
	assert_string_equal(err.msg,
			    "fabric: attach program sl_fabric_ingress to ifindex 999999 "
			    "(no such interface), tc ingress (clsact qdisc): No such device");
	ns_back();
	close(ns);
	drop_fabric(f);
}

/*
 * A <-> B through the fabric: node A's eth0 pairs with fabric port pa, pb
 * pairs with node B's eth0, and the program joins pa and pb. UDP from A
 * reaches B only through bpf_redirect_peer (the fabric ns has no addresses
 * and no forwarding), and stops when the port goes down.
 */
static void test_e2e_redirect_peer(void **state)
{
	struct sl_fabric *f = make_fabric(4);
	struct sl_fabric_port p;
	struct sl_fabric_stats up, down, s;
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(5000) };
	struct timeval tv = { .tv_sec = 1 };
	int na = ns_new(), nb = ns_new(), nf = ns_new();
	int pa, pb, rx, tx;
	char buf[64];
	pid_t pid = getpid();

	/* in the fabric ns */
	assert_int_equal(sh("ip link add pa type veth peer name eth0 "
			    "netns /proc/%d/fd/%d", (int)pid, na), 0);
	assert_int_equal(sh("ip link add pb type veth peer name eth0 "
			    "netns /proc/%d/fd/%d", (int)pid, nb), 0);
	assert_int_equal(sh("ip link set pa up && ip link set pb up"), 0);
	pa = (int)if_nametoindex("pa");
	pb = (int)if_nametoindex("pb");
	assert_true(pa > 0 && pb > 0);
	p = port((uint32_t)pb, 2, 0, SL_PORT_UP);
	assert_int_equal(sl_fabric_port_set(f, (uint32_t)pa, &p, NULL), 0);
	p = port((uint32_t)pa, 2, 1, SL_PORT_UP);
	assert_int_equal(sl_fabric_port_set(f, (uint32_t)pb, &p, NULL), 0);
	assert_int_equal(sl_fabric_attach(f, pa, NULL), 0);
	assert_int_equal(sl_fabric_attach(f, pb, NULL), 0);

	ns_enter(nb);
	assert_int_equal(sh("ip addr add 10.9.0.2/24 dev eth0 && "
			    "ip link set eth0 up"), 0);
	rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(rx >= 0);
	to.sin_addr.s_addr = htonl(INADDR_ANY);
	assert_int_equal(bind(rx, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv,
				    sizeof(tv)), 0);

	ns_enter(na);
	assert_int_equal(sh("ip addr add 10.9.0.1/24 dev eth0 && "
			    "ip link set eth0 up"), 0);
	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(tx >= 0);
	to.sin_addr.s_addr = inet_addr("10.9.0.2");
	/* ARP A -> B and the reply B -> A cross the fabric first */
	assert_int_equal(sendto(tx, "hello", 5, 0, (struct sockaddr *)&to,
				sizeof(to)), 5);
	assert_int_equal(recv(rx, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	stats(f, 2, 0, &up);
	stats(f, 2, 1, &down);
	print_message("# A->B %llu packets %llu bytes, B->A %llu packets\n",
		      (unsigned long long)up.packets,
		      (unsigned long long)up.bytes,
		      (unsigned long long)down.packets);
	assert_true(up.packets >= 2);   /* ARP request + UDP */
	assert_true(down.packets >= 1); /* ARP reply */
	assert_int_equal(up.drop_down + down.drop_down, 0);

	/* port down: the datagram dies in the fabric, counted */
	p = port((uint32_t)pb, 2, 0, 0);
	assert_int_equal(sl_fabric_port_set(f, (uint32_t)pa, &p, NULL), 0);
	assert_int_equal(sendto(tx, "lost!", 5, 0, (struct sockaddr *)&to,
				sizeof(to)), 5);
	errno = 0;
	assert_int_equal(recv(rx, buf, sizeof(buf), 0), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	stats(f, 2, 0, &s);
	assert_true(s.drop_down >= 1);
	assert_int_equal(s.packets, up.packets);

	/* and up again */
	p.flags = SL_PORT_UP;
	assert_int_equal(sl_fabric_port_set(f, (uint32_t)pa, &p, NULL), 0);
	assert_int_equal(sendto(tx, "again", 5, 0, (struct sockaddr *)&to,
				sizeof(to)), 5);
	assert_int_equal(recv(rx, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "again", 5);

	close(tx);
	close(rx);
	ns_back();
	close(na);
	close(nb);
	close(nf);
	drop_fabric(f);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* What bring-up pays per fabric port (tc qdisc + filter over rtnetlink). */
static void test_attach_cost(void **state)
{
	const char *env = getenv("SLUICE_FABRIC_ATTACH_PORTS");
	int n = env ? atoi(env) : 2000, i, ns, *idx;
	struct sl_fabric *f = make_fabric(4);
	char file[64], name[IFNAMSIZ];
	double t0, t1, t2;
	FILE *fp;

	n = (n < 2 ? 2 : n) & ~1;
	idx = calloc((size_t)n, sizeof(*idx));
	assert_non_null(idx);
	ns = ns_new();
	snprintf(file, sizeof(file), "/tmp/sluice-test-%d.ip", (int)getpid());
	fp = fopen(file, "w");
	assert_non_null(fp);
	for (i = 0; i < n; i += 2)
		fprintf(fp, "link add c%d type veth peer name c%d\n", i, i + 1);
	fclose(fp);
	t0 = now_ms();
	assert_int_equal(sh("ip -batch %s", file), 0);
	unlink(file);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		idx[i] = (int)if_nametoindex(name);
		assert_true(idx[i] > 0);
	}
	t1 = now_ms();
	for (i = 0; i < n; i++)
		assert_int_equal(sl_fabric_attach(f, idx[i], NULL), 0);
	t2 = now_ms();
	print_message("# %d veth ends created in %.0f ms; %d attaches in %.1f ms (%.1f us each)\n",
		      n, t1 - t0, n, t2 - t1, (t2 - t1) * 1e3 / n);
	ns_back();
	close(ns);
	free(idx);
	drop_fabric(f);
}

static int group_setup(void **state)
{
	struct sl_err err = { "" };

	if (geteuid() != 0) {
		print_message("# needs root\n");
		return -1;
	}
	if (sl_bpffs_ensure(&err) < 0) {
		print_message("# %s\n", err.msg);
		return -1;
	}
	snprintf(pin_dir, sizeof(pin_dir), SL_BPFFS_ROOT "/sluice-test-%d",
		 (int)getpid());
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return orig_ns < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	sl_fabric_unpin(pin_dir, NULL);
	if (orig_ns >= 0) {
		setns(orig_ns, CLONE_NEWNET);
		close(orig_ns);
	}
	return 0;
}

/* A failed assertion skips the rest of a test: leave no pins for the next. */
static int test_teardown(void **state)
{
	sl_fabric_unpin(pin_dir, NULL);
	if (orig_ns >= 0)
		setns(orig_ns, CLONE_NEWNET);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_run_redirect, test_teardown),
		cmocka_unit_test_teardown(test_run_down, test_teardown),
		cmocka_unit_test_teardown(test_run_noport, test_teardown),
		cmocka_unit_test_teardown(test_run_runtime_update, test_teardown),
		cmocka_unit_test_teardown(test_port_validation, test_teardown),
		cmocka_unit_test_teardown(test_create_unpin_clean, test_teardown),
		cmocka_unit_test_teardown(test_create_errors, test_teardown),
		cmocka_unit_test_teardown(test_open_reopens, test_teardown),
		cmocka_unit_test_teardown(test_open_wrong_layout, test_teardown),
		cmocka_unit_test_teardown(test_attach_detach, test_teardown),
		cmocka_unit_test_teardown(test_e2e_redirect_peer, test_teardown),
		cmocka_unit_test_teardown(test_attach_cost, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
