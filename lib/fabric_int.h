/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fabric_int.h - struct sl_fabric, private to the files that touch the
 * fabric's maps: lib/fabric.c (load, pins, ports, stats, policy),
 * lib/fabric_flow.c (the flow table) and lib/fabric_path.c (path
 * compression).
 */
#ifndef SLUICE_FABRIC_INT_H
#define SLUICE_FABRIC_INT_H

#include <stdint.h>

#include <sluice/fabric.h>

/* The pinned objects, in pin order (lib/fabric.c: pin_names). */
enum sl_fabric_obj {
	SL_FO_PROG = 0,
	SL_FO_PORTS,
	SL_FO_STATS,
	SL_FO_GLOBAL,
	SL_FO_POLICY,
	SL_FO_BUCKET,
	SL_FO_FLOWS,
	SL_FO_FLOW_CTL,
	SL_FO_FLOW_HITS,
	SL_FO_LD_FLAGS,
	SL_FO_PATHS,
	SL_FO_N,
};

struct sl_fabric {
	int fd[SL_FO_N]; /* -1 when not open */
	uint32_t max_links;
	uint32_t max_paths; /* max_entries of "paths" */
	int ncpus;
	/* ncpus values each: per-CPU lookup buffers */
	struct sl_fabric_stats *percpu;
	struct sl_fabric_flow_hits *percpu_hits;
};

#endif
