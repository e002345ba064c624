/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bpf_loader.h - loading and attaching sluice's BPF programs so that a
 * failure says which program, which interface and what the kernel said,
 * and leaves nothing loaded behind (the fabric, lib/fabric.c; the
 * normal-mode XDP program, lib/xsk.c).
 *
 * libbpf reports the verifier's log, CO-RE relocation failures and the
 * kernel's netlink error messages only through its print callback. While a
 * thread loads or attaches, the callback is replaced by one that keeps, for
 * that thread, the lines an error message needs; everything else libbpf
 * prints meanwhile is dropped (SLUICE_LIBBPF_DEBUG=1 prints all of it to
 * stderr). The printer is installed once, process-wide, and passes what
 * is printed outside a capture on to the one it replaced.
 *
 * The kernel's BTF (/sys/kernel/btf/vmlinux) is what the programs' CO-RE
 * relocations are resolved against. SLUICE_BTF_PATH=FILE (tests only, see
 * tests/bpf/test_bpf_errors.c) names another BTF file (libbpf's
 * btf_custom_path), to provoke a missing or unusable BTF.
 */
#ifndef SLUICE_BPF_LOADER_H
#define SLUICE_BPF_LOADER_H

#include <sluice/err.h>

struct bpf_object;

#define SL_BPF_BTF_ENV "SLUICE_BTF_PATH"
#define SL_BPF_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* The BTF file to give libbpf as btf_custom_path: $SLUICE_BTF_PATH, or
 * NULL for the kernel's own. */
const char *sl_bpf_btf_path(void);

/* A capture of libbpf's log in the calling thread; begin and end pair
 * up (an inner one ends into the outer, whose lines it replaced). */
struct sl_bpf_capture {
	int was_active;
};

void sl_bpf_capture_begin(struct sl_bpf_capture *c);
void sl_bpf_capture_end(struct sl_bpf_capture *c);
/* Forgets what was captured so far (before a call whose failure is
 * reported on its own). */
void sl_bpf_capture_reset(void);

/*
 * Fills err for a failure ret (negative errno) captured since the last
 * reset: "<what>: <strerror>[; libbpf: <first warning>][; verifier: <its
 * last line>][; kernel: <netlink message>]". Returns ret (or -EINVAL).
 */
int sl_bpf_captured_error(struct sl_err *err, int ret, const char *what);

/*
 * Loads every program of obj with the log captured. On failure err says
 * "<what>: program <name>: <reason>", the reason being the verifier's
 * complaint ("rejected by the verifier (<strerror>): <its last line>"),
 * a missing or unusable kernel BTF (naming the BTF file), or libbpf's
 * first warning; <name> is the program that failed, or every program of
 * obj when the failure was not one program's. libbpf unloads what it had
 * loaded of obj before it returns, so nothing is left loaded.
 */
int sl_bpf_object_load(struct bpf_object *obj, const char *what,
		       struct sl_err *err);

/*
 * Fills err for attaching program prog to interface ifindex (of the
 * calling thread's network namespace) that failed with ret, using the
 * capture: "<what>: attach program <prog> to <ifname> (ifindex <n>)[,
 * <how>]: <strerror>[; kernel: <message>]"; an interface that is gone is
 * "ifindex <n> (no such interface)". Returns ret.
 */
int sl_bpf_attach_error(struct sl_err *err, int ret, const char *what,
			const char *prog, int ifindex, const char *how);

#endif
