/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sockredir.h - max mode L4 on one host: socket-to-socket redirection of
 * TCP connections between nodes (bpf/sockredir.bpf.c).
 *
 * One struct sl_sockredir per topology: a sockops program attached to the
 * topology's cgroup v2 directory enters the established TCP sockets of the
 * processes in it into a sockhash; an sk_msg program redirects each send
 * into the peer socket when the peer is in the same sockhash. Only
 * processes inside the cgroup (and its descendants) are seen: whatever runs
 * in a node must join it (sl_sockredir_cgroup_join) before it connects or
 * accepts. Sockets that existed before the attach are not redirected.
 *
 * The kernel objects live as long as the struct: sl_sockredir_free()
 * detaches the programs (live redirected connections fall back to the
 * TCP/IP stack for their next sends).
 */
#ifndef SLUICE_SOCKREDIR_H
#define SLUICE_SOCKREDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sluice/err.h>

#include "../../bpf/sockredir.h"

struct sl_sockredir;

struct sl_sockredir_opts {
	const char *cgroup;    /* cgroup v2 directory to attach to */
	/* Folder with the topology fabric's pins "flows" and "flow_ctl"
	 * (/sys/fs/bpf/sluice/<topo>): connections with a normal-mode
	 * direction are left alone. NULL or missing pins: all max mode. */
	const char *flows_pin_dir;
	uint32_t max_socks;    /* sockhash size; 0: 65536 */
};

int sl_sockredir_open(const struct sl_sockredir_opts *o,
		      struct sl_sockredir **out, struct sl_err *err);
void sl_sockredir_free(struct sl_sockredir *s);

/* Counters summed over CPUs. */
int sl_sockredir_stats_read(struct sl_sockredir *s,
			    struct sl_sockredir_stats *out,
			    struct sl_err *err);
/* fd of the sockhash (owned by s), for bpftool-like inspection. */
int sl_sockredir_socks_fd(const struct sl_sockredir *s);

/*
 * The cgroup v2 hierarchy: its mount point (/sys/fs/cgroup/unified on a
 * hybrid host like this one, /sys/fs/cgroup on a unified one), found in
 * /proc/self/mounts. -ENOENT when no cgroup2 is mounted.
 */
int sl_cgroup2_root(char *buf, size_t len, struct sl_err *err);
/* mkdir -p <root>/sluice/<topo>; the path in buf. */
int sl_sockredir_cgroup_create(const char *topo, char *buf, size_t len,
			       struct sl_err *err);
/* Moves pid (0: the caller) into the cgroup directory path. */
int sl_sockredir_cgroup_join(const char *path, pid_t pid, struct sl_err *err);
/* Moves the processes still inside back to the root and removes the
 * directory (and <root>/sluice when it is left empty); a missing one is
 * not an error. */
int sl_sockredir_cgroup_remove(const char *path, struct sl_err *err);

#endif
