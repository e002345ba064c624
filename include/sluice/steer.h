/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * steer.h - keeping the nodes' network stack work off the dataplane's CPUs.
 *
 * In copy mode a dataplane thread's sendto() delivers each frame to the
 * receiving node inside the call: that node's IP forwarding, TCP receive
 * and the acknowledgements it sends run on the dataplane's CPU, in the
 * dataplane's time, and make its timers late. Receive packet steering (RPS)
 * on the node-side interfaces of normal-mode links queues those frames to
 * other CPUs instead, so that a dataplane thread pinned to a CPU of its own
 * does dataplane work only. docs/dataplane.md has the measurements.
 */
#ifndef SLUICE_STEER_H
#define SLUICE_STEER_H

#include <sched.h>
#include <stddef.h>

#include <sluice/err.h>

/* The sysfs form of a CPU set ("3", "ff", "1,00000000"); -ENOSPC when
 * len is too small, -EINVAL for an empty set. */
int sl_steer_mask_format(const cpu_set_t *set, char *buf, size_t len);

struct sl_steer_if {
	int netns_fd;	    /* the interface's network namespace */
	const char *ifname; /* its name there */
};

/*
 * Writes mask to queues/rx-N/rps_cpus (every N) of each interface. sysfs shows the
 * devices of the network namespace that mounted it, so this runs in a
 * short-lived thread of its own mount namespace that mounts a sysfs per
 * namespace; the caller's mounts and namespaces are untouched. Stops at
 * the first failure, naming the interface and the file.
 */
int sl_steer_rps(const struct sl_steer_if *ifs, size_t n, const char *mask,
		 struct sl_err *err);

#endif
