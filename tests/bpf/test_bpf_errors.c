// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_bpf_errors.c - what sluice says when the kernel refuses its BPF
 * programs, and that a refusal leaves nothing behind (issue 3: "a missing
 * BTF, verifier rejection or attach failure is reported with the program,
 * the interface and the kernel's message, and leaves nothing attached"):
 *
 * - a verifier rejection: the fixture tests/bpf/fixtures/reject.bpf.c
 *   through sl_bpf_object_load (the path the fabric and the XDP program
 *   load through), and the real fabric program relocated against a BTF
 *   that lacks its types;
 * - a missing BTF: $SLUICE_BTF_PATH naming no file (the fabric, the
 *   normal-mode XDP program, socket redirection), and /sys/kernel/btf
 *   hidden by an empty tmpfs in a private mount namespace;
 * - attach failures: a tc filter of another kind where the fabric's goes,
 *   an interface that is gone, a program the kernel refuses after the
 *   clsact qdisc was made (the qdisc is removed again), an XDP link that
 *   holds the interface (the normal-mode program), a gone interface.
 *
 * Each checks the message, names and reason included, and that nothing is
 * loaded, pinned or attached afterwards. Runs as root; pins go to
 * /sys/fs/bpf/sluice-err-<pid>, namespaces are anonymous.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sluice/bpf_loader.h>
#include <sluice/bpffs.h>
#include <sluice/fabric.h>
#include <sluice/sockredir.h>
#include <sluice/xsk.h>

#include "fabric_int.h"

#define REJECT_OBJ SL_TEST_FIXTURES "/reject.bpf.o"

static char pin_dir[64];
static int orig_ns = -1;

/* ---- helpers */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A fresh anonymous netns with a veth pair fa <-> fb; returns the fd that
 * keeps it and leaves the caller inside, with *ifindex the index of fa. */
static int ns_with_veth(int *ifindex)
{
	int fd;

	assert_int_equal(setns(orig_ns, CLONE_NEWNET), 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(sh("ip link set lo up && ip link add fa type veth peer name fb "
			    "&& ip link set fa up && ip link set fb up"), 0);
	*ifindex = (int)if_nametoindex("fa");
	assert_true(*ifindex > 0);
	return fd;
}

static void ns_back(int fd)
{
	assert_int_equal(setns(orig_ns, CLONE_NEWNET), 0);
	close(fd);
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Whether a program of that name is loaded (waiting out the RCU grace
 * period after which a freed program's id disappears). */
static int prog_loaded(const char *name)
{
	int tries, found = 0;

	for (tries = 0; tries < 100; tries++) {
		uint32_t id = 0;

		found = 0;
		while (!found && !bpf_prog_get_next_id(id, &id)) {
			struct bpf_prog_info info;
			uint32_t len = sizeof(info);
			int fd = bpf_prog_get_fd_by_id(id);

			if (fd < 0)
				continue;
			memset(&info, 0, sizeof(info));
			if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
			    !strcmp(info.name, name))
				found = 1;
			close(fd);
		}
		if (!found)
			return 0;
		usleep(10000);
	}
	return found;
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

/* The fixture, opened with its map pins going to pin_dir; only sl_t_ok
 * when ok_only. */
static struct bpf_object *open_fixture(bool ok_only)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = pin_dir);
	struct bpf_object *obj;

	assert_int_equal(sl_bpffs_mkdir(pin_dir, NULL, NULL), 0);
	obj = bpf_object__open_file(REJECT_OBJ, &o);
	assert_non_null(obj);
	if (ok_only)
		assert_int_equal(bpf_program__set_autoload(
			bpf_object__find_program_by_name(obj, "sl_t_unchecked"), false), 0);
	return obj;
}

static void expect_prefix(const char *msg, const char *prefix)
{
	if (strncmp(msg, prefix, strlen(prefix)))
		print_message("# got:      %s\n# expected: %s...\n", msg, prefix);
	assert_int_equal(strncmp(msg, prefix, strlen(prefix)), 0);
}

static void expect_msg(const char *msg, const char *want)
{
	if (strcmp(msg, want))
		print_message("# got:      %s\n# expected: %s\n", msg, want);
	assert_string_equal(msg, want);
}

/* ---- verifier */

static void test_verifier_rejects_fixture(void **state)
{
	struct sl_err err = { "" };
	struct bpf_object *obj = open_fixture(false);
	char pin[PATH_MAX];
	int ret;

	ret = sl_bpf_object_load(obj, "test", &err);
	print_message("# %s\n", err.msg);
	assert_int_equal(ret, -EACCES);
	/* the program that failed, not its valid neighbour; the kernel's
	 * reason in its own words */
	expect_prefix(err.msg, "test: loading program sl_t_unchecked (object reject): "
		      "rejected by the verifier (Permission denied): ");
	/* "R1 offset is outside of the packet" here; older kernels end
	 * with "invalid access to packet, off=0 size=1, ..." */
	assert_true(strstr(err.msg, "outside of the packet") ||
		    strstr(err.msg, "invalid access to packet"));
	/* nothing of the object stays: the map pinned while loading is
	 * unpinned, and neither program is loaded */
	snprintf(pin, sizeof(pin), "%s/sl_t_counts", pin_dir);
	assert_false(exists(pin));
	assert_false(prog_loaded("sl_t_unchecked"));
	assert_false(prog_loaded("sl_t_ok"));
	bpf_object__close(obj);
	/* the same object without the bad program loads */
	obj = open_fixture(true);
	assert_int_equal(sl_bpf_object_load(obj, "test", &err), 0);
	assert_true(exists(pin));
	assert_true(prog_loaded("sl_t_ok"));
	bpf_object__unpin_maps(obj, NULL);
	bpf_object__close(obj);
	assert_false(prog_loaded("sl_t_ok"));
}

/* The fabric's own program, relocated against a BTF without its types:
 * libbpf poisons the unresolved accesses and the verifier refuses them. */
static void test_verifier_rejects_fabric_on_foreign_btf(void **state)
{
	struct sl_err err = { "" };
	struct sl_fabric *f;

	setenv(SL_BPF_BTF_ENV, REJECT_OBJ, 1);
	errno = 0;
	f = sl_fabric_create(pin_dir, 4, &err);
	unsetenv(SL_BPF_BTF_ENV);
	print_message("# %s\n", err.msg);
	assert_null(f);
	expect_prefix(err.msg, "fabric: loading program sl_fabric_ingress (object fabric_bpf): "
		      "rejected by the verifier (");
	assert_non_null(strstr(err.msg, "CO-RE relocation"));
	assert_false(exists(pin_dir));
}

/* ---- BTF */

static void test_missing_btf_file(void **state)
{
	struct sl_err err = { "" };
	struct sl_xsk_prog *p;
	struct sl_fabric *f;
	int ret;

	setenv(SL_BPF_BTF_ENV, "/nonexistent/vmlinux", 1);
	errno = 0;
	f = sl_fabric_create(pin_dir, 4, &err);
	assert_null(f);
	assert_int_equal(errno, ENOENT);
	expect_msg(err.msg, "fabric: loading program sl_fabric_ingress (object fabric_bpf): "
		   "no kernel BTF for its CO-RE relocations: /nonexistent/vmlinux: No such "
		   "file or directory; expected the kernel's BTF (a kernel built with "
		   "CONFIG_DEBUG_INFO_BTF)");
	assert_false(exists(pin_dir));
	/* the normal-mode XDP program loads the same way */
	memset(&err, 0, sizeof(err));
	p = sl_xsk_prog_new(16, &err);
	unsetenv(SL_BPF_BTF_ENV);
	assert_null(p);
	expect_msg(err.msg, "normal mode: loading program sl_xsk_redirect (object xsk_bpf): "
		   "no kernel BTF for its CO-RE relocations: /nonexistent/vmlinux: No such "
		   "file or directory; expected the kernel's BTF (a kernel built with "
		   "CONFIG_DEBUG_INFO_BTF)");
	/* so does socket redirection (into a cgroup of this test's own, in
	 * case it did load) */
	{
		char root[PATH_MAX], cgroup[PATH_MAX + 32];
		struct sl_sockredir_opts o = { .cgroup = cgroup };
		struct sl_sockredir *r = NULL;

		if (sl_cgroup2_root(root, sizeof(root), &err) == 0) {
			snprintf(cgroup, sizeof(cgroup), "%s/sluice-err-%d", root,
				 (int)getpid());
			assert_int_equal(mkdir(cgroup, 0755), 0);
			setenv(SL_BPF_BTF_ENV, "/nonexistent/vmlinux", 1);
			ret = sl_sockredir_open(&o, &r, &err);
			unsetenv(SL_BPF_BTF_ENV);
			sl_sockredir_free(r);
			rmdir(cgroup);
			print_message("# %s\n", err.msg);
			assert_int_equal(ret, -ENOENT);
			/* not one program's failure: every program named */
			expect_msg(err.msg, "sockredir: loading programs sl_sockops, sl_sk_msg "
				   "(object sockredir_bpf): no kernel BTF for its CO-RE "
				   "relocations: /nonexistent/vmlinux: No such file or "
				   "directory; expected the kernel's BTF (a kernel built "
				   "with CONFIG_DEBUG_INFO_BTF)");
		}
	}
	/* and with the kernel's BTF again, both load */
	f = sl_fabric_create(pin_dir, 4, &err);
	assert_non_null(f);
	sl_fabric_free(f);
	assert_int_equal(sl_fabric_unpin(pin_dir, &err), 0);
	p = sl_xsk_prog_new(16, &err);
	assert_non_null(p);
	sl_xsk_prog_free(p);
}

/*
 * The real thing: no /sys/kernel/btf/vmlinux (an empty tmpfs over
 * /sys/kernel/btf in a child's private mount namespace). Skipped when
 * libbpf would find a vmlinux image elsewhere. The child sends the message
 * back through a pipe; the pins (bpffs is the same in every mount
 * namespace) are checked here.
 */
static void test_no_kernel_btf(void **state)
{
	char msg[SL_ERR_MAX + 1] = "", others[7][PATH_MAX];
	struct utsname u;
	int fds[2], st;
	ssize_t n;
	size_t i;
	pid_t pid;

	/* where else libbpf 1.1 looks for the kernel's BTF */
	assert_int_equal(uname(&u), 0);
	snprintf(others[0], PATH_MAX, "/boot/vmlinux-%s", u.release);
	snprintf(others[1], PATH_MAX, "/lib/modules/%s/vmlinux-%s", u.release, u.release);
	snprintf(others[2], PATH_MAX, "/lib/modules/%s/build/vmlinux", u.release);
	snprintf(others[3], PATH_MAX, "/usr/lib/modules/%s/kernel/vmlinux", u.release);
	snprintf(others[4], PATH_MAX, "/usr/lib/debug/boot/vmlinux-%s", u.release);
	snprintf(others[5], PATH_MAX, "/usr/lib/debug/boot/vmlinux-%s.debug", u.release);
	snprintf(others[6], PATH_MAX, "/usr/lib/debug/lib/modules/%s/vmlinux", u.release);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (exists(others[i])) {
			print_message("# %s exists: libbpf would use it\n", others[i]);
			skip();
		}
	}
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sl_err err = { "" };
		struct sl_fabric *f;

		close(fds[0]);
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", "/sys/kernel/btf", "tmpfs", 0, "size=64k")) {
			dprintf(fds[1], "setup: %s", strerror(errno));
			_exit(2);
		}
		f = sl_fabric_create(pin_dir, 4, &err);
		dprintf(fds[1], "%s", f ? "loaded without BTF" : err.msg);
		_exit(f ? 1 : 0);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof(msg) - 1);
	close(fds[0]);
	msg[n > 0 ? n : 0] = '\0';
	assert_int_equal(waitpid(pid, &st, 0), pid);
	print_message("# %s\n", msg);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	expect_msg(msg, "fabric: loading program sl_fabric_ingress (object fabric_bpf): "
		   "no kernel BTF for its CO-RE relocations: /sys/kernel/btf/vmlinux: No "
		   "such file or directory; expected the kernel's BTF (a kernel built with "
		   "CONFIG_DEBUG_INFO_BTF)");
	assert_false(exists(pin_dir));
}

/* ---- tc attach of the fabric */

static struct sl_fabric *make_fabric(void)
{
	struct sl_err err = { "" };
	struct sl_fabric *f = sl_fabric_create(pin_dir, 4, &err);

	if (!f)
		print_message("# sl_fabric_create: %s\n", err.msg);
	assert_non_null(f);
	return f;
}

static void drop_fabric(struct sl_fabric *f)
{
	sl_fabric_free(f);
	assert_int_equal(sl_fabric_unpin(pin_dir, NULL), 0);
}

/* Someone else's filter (u32, which this kernel has without modules)
 * holds the fabric's priority. */
static void test_fabric_attach_conflict(void **state)
{
	struct sl_fabric *f = make_fabric();
	struct sl_err err = { "" };
	char want[SL_ERR_MAX];
	int ifindex, ns = ns_with_veth(&ifindex);

	assert_int_equal(sh("tc qdisc add dev fa clsact && tc filter add dev fa ingress "
			    "pref %d protocol all u32 match u32 0 0", SL_FABRIC_TC_PRIO), 0);
	assert_int_equal(sl_fabric_attach(f, ifindex, &err), -EINVAL);
	snprintf(want, sizeof(want), "fabric: attach program sl_fabric_ingress to fa "
		 "(ifindex %d), tc ingress: Invalid argument; kernel: Specified filter "
		 "kind does not match existing one", ifindex);
	expect_msg(err.msg, want);
	/* the other filter is still there, and nothing of ours */
	assert_int_equal(sh("tc filter show dev fa ingress | grep -q u32"), 0);
	assert_int_not_equal(sh("tc filter show dev fa ingress | grep -q sl_fabric"), 0);
	ns_back(ns);
	drop_fabric(f);
}

static void test_fabric_attach_gone_interface(void **state)
{
	struct sl_fabric *f = make_fabric();
	struct sl_err err = { "" };
	char want[SL_ERR_MAX];
	int ifindex, ns = ns_with_veth(&ifindex);

	assert_int_equal(sh("ip link del fa"), 0);
	assert_int_equal(sl_fabric_attach(f, ifindex, &err), -ENODEV);
	snprintf(want, sizeof(want), "fabric: attach program sl_fabric_ingress to "
		 "ifindex %d (no such interface), tc ingress (clsact qdisc): No such "
		 "device", ifindex);
	expect_msg(err.msg, want);
	ns_back(ns);
	drop_fabric(f);
}

/* The kernel refuses the filter after sluice made the clsact qdisc: the
 * qdisc goes again. (An XDP program stands in for a program of the wrong
 * type, which no real fabric has.) */
static void test_fabric_attach_failure_removes_qdisc(void **state)
{
	struct sl_fabric *f = make_fabric();
	struct bpf_object *obj = open_fixture(true);
	struct sl_err err = { "" };
	int ifindex, ns, good, ret;

	assert_int_equal(sl_bpf_object_load(obj, "test", &err), 0);
	ns = ns_with_veth(&ifindex);
	assert_int_not_equal(sh("tc qdisc show dev fa | grep -q clsact"), 0);
	good = f->fd[SL_FO_PROG];
	f->fd[SL_FO_PROG] = bpf_program__fd(bpf_object__find_program_by_name(obj, "sl_t_ok"));
	ret = sl_fabric_attach(f, ifindex, &err);
	f->fd[SL_FO_PROG] = good;
	print_message("# %s\n", err.msg);
	assert_true(ret < 0);
	expect_prefix(err.msg, "fabric: attach program sl_fabric_ingress to fa (ifindex ");
	assert_non_null(strstr(err.msg, "), tc ingress: Invalid argument"));
	assert_int_not_equal(sh("tc qdisc show dev fa | grep -q clsact"), 0);
	/* and the real program attaches there, qdisc and all */
	assert_int_equal(sl_fabric_attach(f, ifindex, &err), 0);
	assert_int_equal(sh("tc qdisc show dev fa | grep -q clsact"), 0);
	ns_back(ns);
	bpf_object__unpin_maps(obj, NULL);
	bpf_object__close(obj);
	drop_fabric(f);
}

/* ---- XDP attach of the normal-mode program */

/* An XDP link holds the interface (another program, attached the modern
 * way): the netlink attach cannot replace it. */
static void test_xsk_attach_conflict(void **state)
{
	struct bpf_object *obj = open_fixture(true);
	struct sl_err err = { "" };
	struct sl_xsk_prog *p;
	char want[SL_ERR_MAX];
	uint32_t drv = 0, skb = 0, other;
	int ifindex, ns, link;
	bool generic = true;

	assert_int_equal(sl_bpf_object_load(obj, "test", &err), 0);
	p = sl_xsk_prog_new(16, &err);
	assert_non_null(p);
	ns = ns_with_veth(&ifindex);
	link = bpf_link_create(bpf_program__fd(bpf_object__find_program_by_name(obj, "sl_t_ok")),
			       ifindex, BPF_XDP, NULL);
	assert_true(link >= 0);
	other = prog_id_of(bpf_program__fd(bpf_object__find_program_by_name(obj, "sl_t_ok")));
	assert_int_equal(sl_xsk_prog_attach(p, ifindex, &generic, &err), -EBUSY);
	snprintf(want, sizeof(want), "normal mode: attach program sl_xsk_redirect to fa "
		 "(ifindex %d), native XDP: Device or resource busy; kernel: Can't "
		 "replace active BPF XDP link", ifindex);
	expect_msg(err.msg, want);
	/* the other program stays, ours is in neither mode */
	assert_int_equal(bpf_xdp_query_id(ifindex, XDP_FLAGS_DRV_MODE, &drv), 0);
	assert_int_equal(drv, other);
	assert_int_equal(bpf_xdp_query_id(ifindex, XDP_FLAGS_SKB_MODE, &skb), 0);
	assert_int_equal(skb, 0);
	close(link);
	assert_int_equal(bpf_xdp_query_id(ifindex, XDP_FLAGS_DRV_MODE, &drv), 0);
	assert_int_equal(drv, 0);
	/* free, it attaches */
	assert_int_equal(sl_xsk_prog_attach(p, ifindex, &generic, &err), 0);
	assert_int_equal(sl_xsk_prog_detach(ifindex, &err), 0);
	ns_back(ns);
	sl_xsk_prog_free(p);
	bpf_object__unpin_maps(obj, NULL);
	bpf_object__close(obj);
}

static void test_xsk_attach_gone_interface(void **state)
{
	struct sl_err err = { "" };
	struct sl_xsk_prog *p = sl_xsk_prog_new(16, &err);
	char want[SL_ERR_MAX];
	int ifindex, ns;

	assert_non_null(p);
	ns = ns_with_veth(&ifindex);
	assert_int_equal(sh("ip link del fa"), 0);
	assert_int_equal(sl_xsk_prog_attach(p, ifindex, NULL, &err), -ENODEV);
	snprintf(want, sizeof(want), "normal mode: attach program sl_xsk_redirect to "
		 "ifindex %d (no such interface), native XDP: No such device", ifindex);
	expect_msg(err.msg, want);
	ns_back(ns);
	sl_xsk_prog_free(p);
}

/* ---- set up */

static int group_setup(void **state)
{
	struct sl_err err = { "" };

	if (geteuid() != 0) {
		print_message("# needs root\n");
		return -1;
	}
	if (access(REJECT_OBJ, R_OK)) {
		print_message("# %s: %s (make build/tests/bpf/test_bpf_errors)\n",
			      REJECT_OBJ, strerror(errno));
		return -1;
	}
	if (sl_bpffs_ensure(&err) < 0) {
		print_message("# %s\n", err.msg);
		return -1;
	}
	snprintf(pin_dir, sizeof(pin_dir), SL_BPFFS_ROOT "/sluice-err-%d", (int)getpid());
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return orig_ns < 0 ? -1 : 0;
}

/* Pins of a failed test must not outlive it: the fixture's map, the
 * fabric's. */
static int test_teardown(void **state)
{
	char path[PATH_MAX];

	unsetenv(SL_BPF_BTF_ENV);
	snprintf(path, sizeof(path), "%s/sl_t_counts", pin_dir);
	unlink(path);
	sl_fabric_unpin(pin_dir, NULL);
	rmdir(pin_dir);
	if (orig_ns >= 0)
		setns(orig_ns, CLONE_NEWNET);
	return 0;
}

static int group_teardown(void **state)
{
	test_teardown(state);
	if (orig_ns >= 0)
		close(orig_ns);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_verifier_rejects_fixture, test_teardown),
		cmocka_unit_test_teardown(test_verifier_rejects_fabric_on_foreign_btf, test_teardown),
		cmocka_unit_test_teardown(test_missing_btf_file, test_teardown),
		cmocka_unit_test_teardown(test_no_kernel_btf, test_teardown),
		cmocka_unit_test_teardown(test_fabric_attach_conflict, test_teardown),
		cmocka_unit_test_teardown(test_fabric_attach_gone_interface, test_teardown),
		cmocka_unit_test_teardown(test_fabric_attach_failure_removes_qdisc, test_teardown),
		cmocka_unit_test_teardown(test_xsk_attach_conflict, test_teardown),
		cmocka_unit_test_teardown(test_xsk_attach_gone_interface, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
