// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_sockops.c - socket-to-socket redirection (bpf/sockredir.bpf.c,
 * lib/sockredir.c) against the running kernel: sockets pair by their
 * mirrored 4-tuple, IPv4, IPv6 and IPv4-mapped IPv6 alike; the fabric's
 * flow table keeps a connection with a normal-mode direction out; loopback
 * addresses are never entered. sockops programs have no BPF_PROG_TEST_RUN,
 * so this uses real sockets: the test moves itself into a new network
 * namespace with a veth pair (no dummy module here) (10.99.0.1, fd99::1) and into a cgroup
 * of its own, and connects to itself.
 *
 * Needs root, cgroup v2 and bpffs; skips otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <sluice/fabric.h>
#include <sluice/flow.h>
#include <sluice/sockredir.h>

#define NORMAL_PORT 7010 /* the flow rule makes traffic to it normal mode */
#define XFER (1u << 20)

static struct sl_sockredir *sr;
static struct sl_fabric *fab;
static char pin_dir[128];
static char cg[512];

static int setup(void **state)
{
	struct sl_sockredir_opts o = { 0 };
	struct sl_flow_rule rule;
	struct sl_err err = { { 0 } };
	char topo[64];
	uint32_t id;

	(void)state;
	if (geteuid() != 0) {
		print_message("# needs root\n");
		return -1;
	}
	if (unshare(CLONE_NEWNET) ||
	    system("ip link set lo up && ip link add d0 type veth peer name d1 && "
		   "ip addr add 10.99.0.1/24 dev d0 && "
		   "ip addr add fd99::1/64 dev d0 nodad && ip link set d1 up && ip link set d0 up")) {
		print_message("# cannot make a test namespace\n");
		return -1;
	}
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/sluice-test-sockops-%d",
		 (int)getpid());
	fab = sl_fabric_create(pin_dir, 4, &err);
	if (!fab) {
		print_message("# fabric: %s\n", err.msg);
		return -1;
	}
	if (sl_flow_parse("proto tcp dport 7010 mode normal", &rule, &err) ||
	    sl_flow_add(fab, &rule, &id, &err)) {
		print_message("# flow rule: %s\n", err.msg);
		return -1;
	}
	snprintf(topo, sizeof(topo), "test-sockops-%d", (int)getpid());
	if (sl_sockredir_cgroup_create(topo, cg, sizeof(cg), &err) ||
	    sl_sockredir_cgroup_join(cg, 0, &err)) {
		print_message("# cgroup: %s\n", err.msg);
		return -1;
	}
	o.cgroup = cg;
	o.flows_pin_dir = pin_dir;
	if (sl_sockredir_open(&o, &sr, &err)) {
		print_message("# sockredir: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct sl_err err = { { 0 } };

	(void)state;
	sl_sockredir_free(sr);
	if (cg[0])
		sl_sockredir_cgroup_remove(cg, &err);
	sl_fabric_free(fab);
	if (pin_dir[0])
		sl_fabric_unpin(pin_dir, &err);
	return 0;
}

static void fill_addr(struct sockaddr_storage *ss, socklen_t *len, int family,
		      const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &a->sin_addr), 1);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
		*len = sizeof(*a);
	}
}

/*
 * Listens (lfamily, laddr), connects from cfamily to caddr:port, sends XFER
 * bytes each way and checks them. Returns the counters' change.
 */
static void exchange(int lfamily, const char *laddr, int cfamily,
		     const char *caddr, uint16_t port,
		     struct sl_sockredir_stats *delta)
{
	struct sl_sockredir_stats before, after;
	struct sockaddr_storage ss;
	struct sl_err err = { { 0 } };
	socklen_t len;
	int l, c, a, one = 1, dir;
	uint8_t *out = malloc(XFER), *in = malloc(XFER);
	size_t i, got;
	ssize_t n;

	assert_non_null(out);
	assert_non_null(in);
	for (i = 0; i < XFER; i++)
		out[i] = (uint8_t)(i * 7 + port);
	assert_int_equal(sl_sockredir_stats_read(sr, &before, &err), 0);
	l = socket(lfamily, SOCK_STREAM, 0);
	assert_true(l >= 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	fill_addr(&ss, &len, lfamily, laddr, port);
	assert_int_equal(bind(l, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(l, 4), 0);
	c = socket(cfamily, SOCK_STREAM, 0);
	assert_true(c >= 0);
	fill_addr(&ss, &len, cfamily, caddr, port);
	assert_int_equal(connect(c, (struct sockaddr *)&ss, len), 0);
	a = accept(l, NULL, NULL);
	assert_true(a >= 0);
	/* Both directions; the receive buffers hold XFER, so the sender is
	 * never blocked by a reader that has not started. */
	for (dir = 0; dir < 2; dir++) {
		int s = dir ? a : c, r = dir ? c : a;

		assert_int_equal(send(s, out, XFER, 0), (ssize_t)XFER);
		for (got = 0; got < XFER; got += (size_t)n) {
			n = recv(r, in + got, XFER - got, 0);
			assert_true(n > 0);
		}
		assert_memory_equal(in, out, XFER);
	}
	/* EOF passes as well */
	shutdown(c, SHUT_WR);
	assert_int_equal(recv(a, in, 1, 0), 0);
	close(c);
	close(a);
	close(l);
	free(out);
	free(in);
	assert_int_equal(sl_sockredir_stats_read(sr, &after, &err), 0);
	delta->entered = after.entered - before.entered;
	delta->skip_normal = after.skip_normal - before.skip_normal;
	delta->skip_local = after.skip_local - before.skip_local;
	delta->bytes_redir = after.bytes_redir - before.bytes_redir;
	delta->bytes_pass = after.bytes_pass - before.bytes_pass;
}

static void test_ipv4_pairs_and_redirects(void **state)
{
	struct sl_sockredir_stats d;

	(void)state;
	exchange(AF_INET, "10.99.0.1", AF_INET, "10.99.0.1", 7011, &d);
	assert_int_equal(d.entered, 2);
	assert_int_equal(d.bytes_redir, 2 * XFER);
	assert_int_equal(d.bytes_pass, 0);
}

static void test_ipv6_pairs_and_redirects(void **state)
{
	struct sl_sockredir_stats d;

	(void)state;
	exchange(AF_INET6, "fd99::1", AF_INET6, "fd99::1", 7012, &d);
	assert_int_equal(d.entered, 2);
	assert_int_equal(d.bytes_redir, 2 * XFER);
}

/* An AF_INET6 server on :: (iperf3 does this) and an AF_INET client. */
static void test_v4_mapped_pairs_with_ipv4(void **state)
{
	struct sl_sockredir_stats d;

	(void)state;
	exchange(AF_INET6, "::", AF_INET, "10.99.0.1", 7013, &d);
	assert_int_equal(d.entered, 2);
	assert_int_equal(d.bytes_redir, 2 * XFER);
}

/* dport 7010 is normal mode in the fabric's flow table: both sockets stay
 * out (the rule matches one direction; the connection is kept whole). */
static void test_flow_table_normal_rule_keeps_out(void **state)
{
	struct sl_sockredir_stats d;

	(void)state;
	exchange(AF_INET, "10.99.0.1", AF_INET, "10.99.0.1", NORMAL_PORT, &d);
	assert_int_equal(d.entered, 0);
	assert_int_equal(d.skip_normal, 2);
	assert_int_equal(d.bytes_redir, 0);
}

static void test_loopback_never_entered(void **state)
{
	struct sl_sockredir_stats d;

	(void)state;
	exchange(AF_INET, "127.0.0.1", AF_INET, "127.0.0.1", 7014, &d);
	assert_int_equal(d.entered, 0);
	assert_int_equal(d.skip_local, 2);
	exchange(AF_INET6, "::1", AF_INET6, "::1", 7015, &d);
	assert_int_equal(d.entered, 0);
	assert_int_equal(d.skip_local, 2);
}

static void test_open_errors(void **state)
{
	struct sl_sockredir_opts o = { 0 };
	struct sl_sockredir *s = (void *)1;
	struct sl_err err = { { 0 } };

	(void)state;
	assert_int_equal(sl_sockredir_open(&o, &s, &err), -EINVAL);
	assert_null(s);
	assert_string_equal(err.msg, "sockredir: no cgroup given");
	o.cgroup = "/tmp";
	assert_int_equal(sl_sockredir_open(&o, &s, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "sockredir: /tmp is not in a cgroup v2 hierarchy");
	o.cgroup = "/nonexistent/cgroup";
	assert_int_equal(sl_sockredir_open(&o, &s, &err), -ENOENT);
	assert_string_equal(err.msg,
			    "sockredir: open cgroup /nonexistent/cgroup: No such file or directory");
	sl_sockredir_free(NULL);
}

int main(void)
{
	struct sl_err err = { { 0 } };
	char root[256];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_pairs_and_redirects),
		cmocka_unit_test(test_ipv6_pairs_and_redirects),
		cmocka_unit_test(test_v4_mapped_pairs_with_ipv4),
		cmocka_unit_test(test_flow_table_normal_rule_keeps_out),
		cmocka_unit_test(test_loopback_never_entered),
		cmocka_unit_test(test_open_errors),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	if (sl_cgroup2_root(root, sizeof(root), &err)) {
		printf("1..0 # SKIP %s\n", err.msg);
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
