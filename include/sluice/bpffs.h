/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bpffs.h - the BPF filesystem where sluice pins its programs and maps.
 *
 * Everything sluice pins lives under SL_BPFFS_DIR (one folder per topology)
 * so that `bpftool map dump pinned /sys/fs/bpf/sluice/<topo>/...` shows live
 * state and a restarted sluiced finds its maps again. Pins resolve in the
 * caller's mount namespace, not its network namespace: entering a fabric
 * netns with setns(CLONE_NEWNET) does not change them.
 */
#ifndef SLUICE_BPFFS_H
#define SLUICE_BPFFS_H

#include <sluice/err.h>

#define SL_BPFFS_ROOT "/sys/fs/bpf"
#define SL_BPFFS_DIR SL_BPFFS_ROOT "/sluice"

/* Mounts bpffs on SL_BPFFS_ROOT unless a bpffs is already mounted there
 * (systemd does it on most hosts; some machines have only the empty
 * directory), then creates SL_BPFFS_DIR. Idempotent. */
int sl_bpffs_ensure(struct sl_err *err);

/* 0 if path lies on a bpffs, -EINVAL if on another filesystem, or the
 * statfs error. */
int sl_bpffs_check(const char *path, struct sl_err *err);

/* mkdir -p with mode 0700. *created (may be NULL) tells whether the last
 * component was created by this call, so that a failing caller can undo it. */
int sl_bpffs_mkdir(const char *path, int *created, struct sl_err *err);

#endif
