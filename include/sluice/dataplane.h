/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dataplane.h - the normal-mode dataplane of sluiced: AF_XDP sockets on the
 * fabric ports of a link, the link's two channels of cells, and the
 * threads that move frames between them.
 *
 * A normal-mode link A <-> B has fabric ports pA and pB (ifindexes in the
 * fabric netns). The XDP program (bpf/xsk.bpf.c) on pA hands every frame
 * that A sends to pA's AF_XDP socket; the dataplane enqueues it in the
 * channel of direction A -> B ("up", SL_DIR_UP, dir 0) at its arrival time,
 * and transmits it on pB's socket when the channel releases it, from where
 * it reaches B. Direction 1 ("down") is the mirror image.
 *
 * Threads: each owns a set of links and a timing wheel; a link lives on
 * one thread (its UMEM, sockets and channels are touched by that thread
 * only), and new links go to the thread with the fewest. Every call below
 * is made from control threads (the daemon's), never from a dataplane
 * thread; changes to a running link are carried out by its thread between
 * two batches, and the call waits for them. Calls may come from several
 * control threads.
 *
 * Links are named by (topology, link index), so that one dataplane serves
 * every topology of the host.
 */
#ifndef SLUICE_DATAPLANE_H
#define SLUICE_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/err.h>

struct json_object;
struct sl_pkt;

struct sl_dataplane_opts {
	unsigned n_threads;	  /* 0: 1 */
	uint32_t frames_per_link; /* UMEM frames of one link, both
				   * directions (0: 4096) */
	uint32_t frame_size;	  /* 0: 2048 (frames up to 1792 bytes,
				   * MTU 1778); 4096 for larger MTUs */
	uint32_t spin_ns;	  /* sleep until this long before the next
				   * deadline, then spin (0: 50 us) */
	uint32_t idle_poll_ns;	  /* keep polling this long after the last
				   * work before sleeping (0: 50 us; 1:
				   * sleep at once) */
	uint32_t batch;		  /* frames per RX/TX batch (0: 256) */
	uint32_t tx_coalesce_ns;  /* hold TX back at most this long to send
				   * batches while departures keep coming
				   * (0: 20 us; 1: kick every pass) */
	uint32_t max_slots;	  /* sockets per fabric netns (0: 4096) */
	int cpu_first;		  /* pin thread i to CPU cpu_first + i;
				   * -1: no pinning */
	int steer_rps;		  /* with pinned threads, where node
				   * interfaces of normal-mode links steer
				   * their receive work (RPS): SL_STEER_OFF,
				   * _OTHERS (the CPUs the threads are not
				   * on) or _ALL (see sl_dataplane_steer_mask) */
	bool csum_complete;	  /* complete partial TCP/UDP checksums
				   * (when node interfaces keep tx
				   * checksum offload on) */
	bool busy_poll;		  /* SO_PREFER_BUSY_POLL on the sockets */
	bool force_copy;	  /* never zero-copy */
	bool no_xdp_timestamp;	  /* enqueue at poll time, not at the time
				   * XDP saw the frame */
};

enum { SL_STEER_OFF, SL_STEER_OTHERS, SL_STEER_ALL };

void sl_dataplane_opts_default(struct sl_dataplane_opts *o);

struct sl_dataplane;

/* Starts n_threads dataplane threads (0: 1) with default options. */
struct sl_dataplane *sl_dataplane_new(unsigned n_threads, struct sl_err *err);
struct sl_dataplane *sl_dataplane_new_opts(const struct sl_dataplane_opts *o,
					   struct sl_err *err);
/* Removes every link (detaching XDP from its ports), stops the threads. */
void sl_dataplane_free(struct sl_dataplane *dp);

/*
 * The CPUs the node-side interfaces of normal-mode links should steer their
 * receive work to (RPS, include/sluice/steer.h), in sysfs form: the
 * process's CPUs, less those the threads are pinned to with
 * SL_STEER_OTHERS. -ENOENT when the threads are not pinned, steer_rps is
 * off, or no CPU is left.
 */
int sl_dataplane_steer_mask(const struct sl_dataplane *dp, char *buf,
			    size_t len);

struct sl_dataplane_link {
	const char *topo;     /* topology name */
	uint32_t link;	      /* link index in the topology */
	int fabric_netns_fd;  /* where the ports are */
	int ifindex[2];	      /* fabric ports of ep[0] and ep[1] */
	const char *policy[2]; /* channel policies (JSON text) of direction
				* 0 (ep[0] -> ep[1]) and 1; NULL: a plain
				* wire (see sl_channel_from_policy) */
	uint64_t seed;	      /* channel seeds derive from it */
};

/*
 * Makes link l normal-mode: builds its two channels (so a bad policy fails
 * before anything is touched), enters the fabric netns in the calling
 * thread to create the UMEM and the two sockets and to attach the XDP
 * program to both ports, and starts forwarding. Packets from then on go
 * through the channels; the tc fabric no longer sees the ports' frames.
 * -EEXIST when the link is already in the dataplane.
 */
int sl_dataplane_add_link(struct sl_dataplane *dp,
			  const struct sl_dataplane_link *l,
			  struct sl_err *err);

/* Detaches XDP (the tc fabric carries the link again), closes the
 * sockets; packets still held in the channels are dropped. -ENOENT. */
int sl_dataplane_remove_link(struct sl_dataplane *dp, const char *topo,
			     uint32_t link, struct sl_err *err);
/* Removes every link of a topology (before its teardown); returns how
 * many were removed. */
int sl_dataplane_remove_topology(struct sl_dataplane *dp, const char *topo);

/*
 * Replaces the policy of one direction at run time without losing a
 * queued packet. When the new policy has the same cells (names and types,
 * in order) as the running channel, each cell is changed in place with
 * its part of the policy through its control(): packets keep their
 * places, the change applies from the next departure on, and keys the new
 * policy leaves out keep their current values. Otherwise a new channel is
 * built for new arrivals while the old one drains under its old settings
 * (both transmit on the same port; the old one is freed once empty).
 */
int sl_dataplane_set_policy(struct sl_dataplane *dp, const char *topo,
			    uint32_t link, int dir, const char *policy_json,
			    struct sl_err *err);
/* Changes one named cell: cfg_json such as {"rate": "50mbit"}. */
int sl_dataplane_control(struct sl_dataplane *dp, const char *topo,
			 uint32_t link, int dir, const char *cell,
			 const char *cfg_json, struct sl_err *err);

/*
 * Telemetry of one direction: the channel's (sl_channel_telemetry: per
 * cell counters, queue lengths, sojourn times) plus the dataplane's own:
 *   {"pkts_in", ..., "cells": [...], "dataplane": {"rx_pkts", "tx_pkts",
 *    "tx_backlog", "drops": {...}, "csum_completed", "frames_free",
 *    "xdp": {"redirected", "no_socket"}, "socket_in": {kernel counters},
 *    "socket_out": {...}, "zerocopy", "xdp_mode": "native"|"generic",
 *    "draining": n}}
 * *out is a new reference.
 */
int sl_dataplane_stats(struct sl_dataplane *dp, const char *topo,
		       uint32_t link, int dir, struct json_object **out,
		       struct sl_err *err);

bool sl_dataplane_has_link(struct sl_dataplane *dp, const char *topo,
			   uint32_t link);
unsigned sl_dataplane_n_links(struct sl_dataplane *dp);

/* ---- helpers on frames (exported for the unit tests) ------------------ */

/*
 * Completes the TCP or UDP checksum of an Ethernet frame whose sender left
 * it to offload (CHECKSUM_PARTIAL: the field holds the folded pseudo-header
 * sum): 1 when it was completed, 0 when the frame is not such a packet
 * (not IP, a fragment, IPv6 extension headers, or a checksum that is
 * already right). A frame whose checksum is wrong in any other way is left
 * alone.
 */
int sl_dp_csum_complete(void *frame, uint32_t len);
/* Sets ECN CE on an ECN-capable IPv4/IPv6 packet (IPv4 header checksum
 * updated): 1 when marked, 0 when not ECN-capable or not IP. */
int sl_dp_mark_ce(void *frame, uint32_t len);

#endif
