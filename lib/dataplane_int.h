/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dataplane_int.h - what the files of the normal-mode dataplane share
 * inside libsluice: lib/dataplane.c (options, the threads and their loop),
 * lib/dataplane_link.c (adding and removing links, policy changes) and
 * lib/dataplane_stats.c (telemetry). Not a public header.
 *
 * Ownership (see lib/dataplane.c): a link belongs to one thread, which
 * alone touches its UMEM, rings and channels once it is running; control
 * threads reach a running link through dp_run_cmd.
 */
#ifndef SLUICE_DATAPLANE_INT_H
#define SLUICE_DATAPLANE_INT_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include <sluice/cell.h>
#include <sluice/dataplane.h>
#include <sluice/xsk.h>

#define MAX_DRAINING 4
#define TOPO_MAX 64

struct dp_thread;
struct dp_link;
struct dp_cmd; /* a command queued for a thread (lib/dataplane.c) */

#define HIST_BUCKETS 24 /* [0] < 1 us, [i] < 2^i us, [23] the rest */

struct dp_hist {
	uint64_t n[HIST_BUCKETS];
	uint64_t max_ns;
};

static inline void hist_add(struct dp_hist *h, uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned b = us ? 64 - (unsigned)__builtin_clzll(us) : 0;

	h->n[b < HIST_BUCKETS ? b : HIST_BUCKETS - 1]++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

/* One direction of a link: RX on `in`, channel, TX on `out`. */
struct dp_dir {
	struct dp_link *lk;
	int d;
	struct sl_xsk *in, *out;
	struct sl_channel *ch;
	/* channels replaced by a structural policy change, still holding
	 * packets: they drain under their old settings */
	struct sl_channel *draining[MAX_DRAINING];
	unsigned n_draining;
	struct sl_timer timer; /* at the earliest event of the above */
	struct sl_pktq backlog; /* released, but the TX ring was full */
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t drops[SL_DROP__MAX];
	uint64_t csum_completed, ce_marked, clones, clone_fail;
};

struct dp_ns {
	ino_t ino;
	dev_t dev;
	unsigned refs;
	struct sl_xsk_prog *prog;
	struct dp_ns *next;
};

struct dp_link {
	char topo[TOPO_MAX];
	uint32_t id;
	struct sl_dataplane *dp;
	struct dp_thread *th;
	struct dp_ns *ns;
	int netns_fd; /* the fabric netns (a dup), for the XDP detach */
	uint64_t seed;
	uint32_t generation; /* policy replacements, for their seeds */
	int ifindex[2];
	int slot[2];
	bool generic[2];
	bool attached[2];
	struct sl_xsk_umem *umem;
	struct sl_xsk xsk[2];
	struct sl_pkt *pkts; /* one per frame: pkts[addr >> frame_shift] */
	struct dp_dir dir[2];
	struct dp_link *next;	  /* in its thread's list (thread-owned) */
	struct dp_link *all_next; /* in dp->links (under dp->lock) */
	/* thread-owned: */
	bool in_thread;	  /* attached, events for it are honoured */
	bool busy;	  /* on th->busy */
	bool kick_listed[2]; /* xsk[s] is on th->kick */
	/* TX watchdog: the last time xsk[s] completed a frame (or had none
	 * outstanding), and whether it is in a stall being reported */
	uint64_t last_comp[2];
	bool stalled[2];
	uint64_t tx_stalls[2];
};

struct dp_kick {
	struct dp_link *lk;
	int s;
};

struct dp_thread {
	struct sl_dataplane *dp;
	unsigned idx;
	pthread_t tid;
	bool started;
	atomic_bool stop;
	struct sl_wheel *wheel;
	struct dp_link *links;
	unsigned n_links; /* also read by control threads (under dp->lock) */
	/* Work lists, so that a pass costs what is active, not what exists:
	 * links to service (busy: epoll saw frames arrive, transmissions
	 * wait for completion, or a timer released or dropped frames) and
	 * sockets with descriptors not kicked yet. Sized for every link. */
	struct dp_link **busy;
	struct dp_kick *kick;
	unsigned n_busy, n_kick, cap;
	unsigned n_local;	 /* links attached to this thread */
	uint64_t last_sweep;	 /* every link serviced at least this often */
	int epfd, evfd, tfd;
	uint64_t tfd_armed; /* absolute deadline the timerfd is set to */
	uint64_t wake_late; /* how late timerfd wakeups come: rises to each
			     * sample at once, decays by 1/16 per wakeup */
	/* commands */
	pthread_mutex_t cmd_lock;
	pthread_cond_t cmd_cond;
	struct dp_cmd *cmds;
	atomic_bool cmd_pending;
	/* loop counters (for docs and debugging) */
	uint64_t passes, sleeps, spins; /* spins: a sleep skipped, the next
					 * deadline being closer than spin_ns */
	uint64_t busy_ns; /* time in passes that moved packets: packets /
			   * busy time is the cost per packet, whatever the
			   * idle spinning around it */
	/* How late the thread is, in log2 buckets of microseconds: a
	 * direction's timer fired after its deadline (timer), a frame was
	 * taken off the RX ring after XDP stamped it (rx), a pass took
	 * (pass). What an emulated path adds beyond its cells. */
	struct dp_hist late_timer, late_rx, pass_len;
};

struct sl_dataplane {
	struct sl_dataplane_opts o;
	struct dp_thread *th;
	unsigned n_threads;
	pthread_mutex_t lock; /* links, namespaces, link placement */
	struct dp_link *links;
	struct dp_ns *nss;
	unsigned n_links;
	cpu_set_t cpus; /* the process's CPUs when the dataplane started */
	int ncpus;	/* how many */
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SL_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* lib/dataplane.c */

/* The drop and clone callbacks of a direction's cells (ctx: its dp_dir). */
void dp_on_drop(struct sl_pkt *p, enum sl_drop_reason why, void *ctx);
struct sl_pkt *dp_on_clone(const struct sl_pkt *p, void *ctx);
/* Sets d's timer to the earliest event of its channels (or cancels it). */
void dp_dir_arm(struct dp_thread *th, struct dp_dir *d, uint64_t now);
/* Puts lk on th's busy list, if it is attached and not there yet. */
void dp_link_wake(struct dp_thread *th, struct dp_link *lk);
/* How long before a deadline th stops sleeping and spins. */
uint64_t dp_wake_ahead(const struct dp_thread *th);
/* Runs fn on th between two passes and waits for it (directly when the
 * thread has not started). */
int dp_run_cmd(struct dp_thread *th,
	       int (*fn)(struct dp_thread *, void *, struct sl_err *),
	       void *arg, struct sl_err *err);
/* Stops th and frees what it holds (not its links). */
void dp_thread_fini(struct dp_thread *th);

/* lib/dataplane_link.c */

/* Direction dir of link topo:link; caller holds dp->lock. */
int dp_lookup_dir(struct sl_dataplane *dp, const char *topo, uint32_t link,
		  int dir, struct dp_dir **out, struct sl_err *err);

#endif
