// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dataplane.c - the normal-mode dataplane (include/sluice/dataplane.h):
 * links, their threads, and the loop that moves frames from one port's
 * AF_XDP socket through a channel of cells to the other port's socket.
 *
 * One pass of a thread's loop:
 *   1. commands from control threads (add, remove, policy, stats);
 *   2. per busy link: reap TX completions into the free stack, take an RX
 *      batch from each port and enqueue it in the direction's channel at
 *      the time XDP saw each frame, refill the fill rings. A link is busy
 *      when epoll (edge-triggered on its sockets) saw frames arrive, while
 *      its transmissions wait for completion, and when a timer of its
 *      fired; so a pass costs what is active, not how many links exist
 *      (a thread with few links simply looks at all of them);
 *   3. fire the wheel's timers that are due: a direction's timer stands
 *      at its channel's next event; each fired direction dequeues what is
 *      ready and puts it on the other port's TX ring;
 *   4. one sendto() per socket that got frames (copy mode transmits in the
 *      caller's context), from a list of the sockets that have some;
 *   5. no work done for idle_poll_ns: sleep on epoll (the sockets for RX,
 *      an eventfd for commands, a timerfd set spin_ns before the next
 *      deadline) or spin when the deadline is closer than that.
 * Nothing allocates or makes a system call per packet: descriptors are
 * preallocated (one struct sl_pkt per UMEM frame), frames are recycled
 * through the link's free stack, and system calls are per batch.
 *
 * Ownership: a link belongs to one thread, which alone touches its UMEM,
 * rings and channels once it is running. Control threads prepare a link
 * (sockets, XDP, channels) before handing it over, and get it back before
 * tearing it down; anything else they want from a running link runs on its
 * thread as a command (run_cmd), between two passes of the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include <json-c/json.h>

#include <sluice/cell.h>
#include <sluice/dataplane.h>
#include <sluice/log.h>
#include <sluice/netlink.h>
#include <sluice/steer.h>
#include <sluice/xsk.h>

#define BATCH_MAX 256
#define MAX_DRAINING 4
#define TOPO_MAX 64
#define SLEEP_CAP_NS (1 * SL_NSEC_PER_MSEC) /* with TX completions due */
/* A wakeup later than this is a stall (a preempted vCPU), not the timer's
 * usual lateness: it is counted at this, so that it cannot turn the
 * thread into a spinner. Also the cap of the wake-ahead. */
#ifndef WAKE_LATE_MAX_NS
#define WAKE_LATE_MAX_NS (400 * SL_NSEC_PER_USEC)
#endif
#define TX_STALL_NS SL_NSEC_PER_SEC	   /* no completion for this long */

struct dp_thread;
struct dp_link;

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

struct dp_cmd {
	int (*fn)(struct dp_thread *th, void *arg, struct sl_err *err);
	void *arg;
	struct sl_err *err;
	int ret;
	bool done;
	struct dp_cmd *next;
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

void sl_dataplane_opts_default(struct sl_dataplane_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->n_threads = 1;
	o->frames_per_link = 4096;
	o->frame_size = SL_XSK_FRAME_SIZE;
	o->spin_ns = 50000;
	o->idle_poll_ns = 50000;
	o->batch = 256;
	o->tx_coalesce_ns = 20000;
	o->max_slots = 4096;
	o->cpu_first = -1;
}

/* ---- frames: drop and clone callbacks ---------------------------------- */

static void on_drop(struct sl_pkt *p, enum sl_drop_reason why, void *ctx)
{
	struct dp_dir *d = ctx;

	d->drops[why]++;
	sl_xsk_umem_put(d->lk->umem, p->addr);
}

static struct sl_pkt *on_clone(const struct sl_pkt *p, void *ctx)
{
	struct dp_dir *d = ctx;
	struct sl_xsk_umem *u = d->lk->umem;
	uint64_t frame, addr;
	struct sl_pkt *q;

	if (!sl_xsk_umem_get(u, &frame)) {
		d->clone_fail++;
		return NULL;
	}
	addr = frame + (p->addr & (u->frame_size - 1));
	q = &d->lk->pkts[frame >> u->frame_shift];
	*q = *p;
	q->next = NULL;
	q->addr = addr;
	q->data = sl_xsk_umem_data(u, addr);
	memcpy(q->data, p->data, p->len);
	d->clones++;
	return q;
}

/* ---- the loop ---------------------------------------------------------- */

static uint64_t dir_next(const struct dp_dir *d, uint64_t now)
{
	uint64_t t = sl_channel_next_event(d->ch), x;
	unsigned i;

	if (!sl_pktq_empty(&d->backlog))
		return now;
	for (i = 0; i < d->n_draining; i++) {
		x = sl_channel_next_event(d->draining[i]);
		if (x < t)
			t = x;
	}
	return t;
}

static void dir_arm(struct dp_thread *th, struct dp_dir *d, uint64_t now)
{
	uint64_t t = dir_next(d, now);

	if (t == SL_TIME_NEVER)
		sl_wheel_cancel(th->wheel, &d->timer);
	else if (!sl_timer_armed(&d->timer) || d->timer.expires != t)
		sl_wheel_arm(th->wheel, &d->timer, t);
}

static unsigned dir_rx(struct dp_thread *th, struct dp_dir *d, uint64_t now)
{
	struct dp_link *lk = d->lk;
	struct sl_xsk_umem *u = lk->umem;
	const struct sl_dataplane_opts *o = &th->dp->o;
	struct sl_xsk *x = d->in;
	uint32_t idx, n, i;
	uint64_t bytes = 0, t, ts;

	n = xsk_ring_cons__peek(&x->rx, o->batch, &idx);
	if (!n)
		return 0;
	/* Every frame of the batch arrived before the peek, not necessarily
	 * before the pass began: a clock read after the peek is the earliest
	 * "now" no frame of it can precede (with the pass's start, frames that
	 * came during the pass would enter their channel before they arrived
	 * and leave that much early: up to a pass, hundreds of us) */
	now = now_ns();
	for (i = 0; i < n; i++) {
		const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&x->rx,
								     idx + i);
		struct sl_pkt *p = &lk->pkts[desc->addr >> u->frame_shift];

		p->next = NULL;
		p->addr = desc->addr;
		p->len = desc->len;
		p->data = sl_xsk_umem_data(u, desc->addr);
		p->class = 0;
		p->flow_hash = 0;
		p->flags = 0;
		t = now;
		if (!o->no_xdp_timestamp &&
		    (desc->addr & (u->frame_size - 1)) >= sizeof(struct sl_xsk_meta)) {
			struct sl_xsk_meta *m =
				(struct sl_xsk_meta *)p->data - 1;

			ts = m->ts;
			m->ts = 0;
			if (ts && ts <= now && now - ts < SL_NSEC_PER_SEC) {
				t = ts;
				hist_add(&th->late_rx, now - ts);
			}
		}
		if (o->csum_complete && sl_dp_csum_complete(p->data, p->len))
			d->csum_completed++;
		bytes += p->len;
		sl_channel_enqueue(d->ch, p, t);
	}
	xsk_ring_cons__release(&x->rx, n);
	d->rx_pkts += n;
	d->rx_bytes += bytes;
	dir_arm(th, d, now);
	return n;
}

static void link_wake(struct dp_thread *th, struct dp_link *lk)
{
	if (lk->busy || !lk->in_thread)
		return;
	lk->busy = true;
	th->busy[th->n_busy++] = lk;
}

/* Puts up to n packets on the TX ring of d->out; returns how many. */
static unsigned tx_put(struct dp_thread *th, struct dp_dir *d,
		       struct sl_pkt **v, unsigned n)
{
	struct sl_xsk *x = d->out;
	struct dp_link *lk = d->lk;
	int s = (int)(x - lk->xsk);
	uint32_t idx, i;
	uint64_t bytes = 0;

	n = xsk_ring_prod__reserve(&x->tx, n, &idx);
	for (i = 0; i < n; i++) {
		struct xdp_desc *desc = xsk_ring_prod__tx_desc(&x->tx, idx + i);
		struct sl_pkt *p = v[i];

		if (p->flags & SL_PKT_ECN_CE)
			d->ce_marked += (uint64_t)sl_dp_mark_ce(p->data, p->len);
		desc->addr = p->addr;
		desc->len = p->len;
		desc->options = 0;
		bytes += p->len;
	}
	if (n) {
		if (!lk->kick_listed[s]) {
			lk->kick_listed[s] = true;
			th->kick[th->n_kick++] = (struct dp_kick){ lk, s };
		}
		xsk_ring_prod__submit(&x->tx, n);
		x->tx_pending += n;
		x->tx_unkicked += n;
		d->tx_pkts += n;
		d->tx_bytes += bytes;
	}
	return n;
}

static void dir_tx(struct dp_thread *th, struct dp_dir *d, uint64_t now)
{
	const struct sl_dataplane_opts *o = &th->dp->o;
	struct sl_pkt *v[BATCH_MAX], *p;
	unsigned n, k, put, i;
	uint32_t room;

	/* frames dropped at dequeue return to the free stack: the link's
	 * fill rings may want them */
	link_wake(th, d->lk);
	room = xsk_prod_nb_free(&d->out->tx, SL_XSK_RING_SIZE);
	/* the backlog first: it left its channel earlier */
	while (room && (p = sl_pktq_peek(&d->backlog))) {
		if (!tx_put(th, d, &p, 1))
			break;
		sl_pktq_pop(&d->backlog);
		room--;
	}
	/* A full ring leaves packets in their channels: their departure
	 * times are already exact, only the transmission waits. */
	for (k = 0; k <= d->n_draining && room; k++) {
		/* draining channels hold older packets: they go first */
		struct sl_channel *ch = k < d->n_draining ? d->draining[k] :
							    d->ch;

		while (room) {
			n = o->batch < room ? o->batch : room;
			n = sl_channel_dequeue(ch, now, v, n);
			if (!n)
				break;
			put = tx_put(th, d, v, n);
			room -= put;
			for (i = put; i < n; i++)
				sl_pktq_push(&d->backlog, v[i]);
		}
	}
	/* free the draining channels that are empty now */
	for (k = 0; k < d->n_draining;) {
		if (sl_channel_next_event(d->draining[k]) == SL_TIME_NEVER) {
			sl_channel_free(d->draining[k]);
			d->draining[k] = d->draining[--d->n_draining];
		} else {
			k++;
		}
	}
	/* Still due (ring full): try again after this pass's kick, not in
	 * the same round of timers, which would never end. */
	if (dir_next(d, now) <= now)
		sl_wheel_arm(th->wheel, &d->timer, now + SL_NSEC_PER_USEC);
	else
		dir_arm(th, d, now);
}

/*
 * In copy mode every sendto() transmits in our context, so it is the main
 * cost per batch. A packet waiting to be kicked is held back at most
 * tx_coalesce_ns, and only while more are likely to follow: frames arrived
 * in this pass, or departures are due within that time. A lone packet (a
 * ping) goes one pass later, a busy link sends batches.
 */
static void maybe_kick(struct dp_thread *th, struct sl_xsk *x, uint64_t now,
		       uint64_t next, bool rx_active)
{
	const struct sl_dataplane_opts *o = &th->dp->o;

	if (!x->tx_unkicked)
		return;
	if (!x->tx_first)
		x->tx_first = now;
	if (x->tx_unkicked >= o->batch ||
	    (!rx_active && next > now + o->tx_coalesce_ns) ||
	    now - x->tx_first >= o->tx_coalesce_ns) {
		sl_xsk_kick(x);
		x->tx_first = 0;
	}
}

/* The timerfd fired: how late it was against what it was set to. The
 * thread wakes that much earlier than spin_ns before a deadline from now
 * on, so that a machine with slow wakeups (a busy VM host) costs spinning
 * rather than late packets. */
static void wake_late_add(struct dp_thread *th, uint64_t now)
{
	uint64_t late = now > th->tfd_armed ? now - th->tfd_armed : 0;

	if (late > WAKE_LATE_MAX_NS)
		late = WAKE_LATE_MAX_NS;
	if (late >= th->wake_late)
		th->wake_late = late;
	else
		th->wake_late -= (th->wake_late - late) >> 4;
}

/* How long before a deadline the thread stops sleeping and spins. */
static uint64_t wake_ahead(const struct dp_thread *th)
{
	uint64_t a = th->dp->o.spin_ns + th->wake_late;

	return a > WAKE_LATE_MAX_NS ? WAKE_LATE_MAX_NS : a;
}

/* epoll tags of the thread's own descriptors (sockets carry their link) */
static char tag_evfd, tag_tfd;

/* Marks the links of socket events busy, reads the thread's own fds. */
static void handle_events(struct dp_thread *th, const struct epoll_event *ev,
			  int n)
{
	uint64_t junk;
	int i;

	for (i = 0; i < n; i++) {
		void *p = ev[i].data.ptr;

		if (p == &tag_tfd) {
			if (read(th->tfd, &junk, sizeof(junk)) > 0) {
				wake_late_add(th, now_ns());
				th->tfd_armed = SL_TIME_NEVER;
			}
		} else if (p == &tag_evfd) {
			if (read(th->evfd, &junk, sizeof(junk)) < 0)
				continue;
		} else {
			link_wake(th, p);
		}
	}
}

#define EVENTS_MAX 256

/* New frames on sockets that are not busy: epoll (edge-triggered, one
 * event per flush of the kernel's RX batch) without waiting. */
static void poll_events(struct dp_thread *th)
{
	struct epoll_event ev[EVENTS_MAX];
	int n;

	do {
		n = epoll_wait(th->epfd, ev, EVENTS_MAX, 0);
		if (n > 0)
			handle_events(th, ev, n);
	} while (n == EVENTS_MAX);
}

static void thread_sleep(struct dp_thread *th, uint64_t now, uint64_t next,
			 bool tx_pending)
{
	struct epoll_event ev[EVENTS_MAX];
	uint64_t wake = SL_TIME_NEVER;
	int n;

	if (next != SL_TIME_NEVER) {
		uint64_t ahead = wake_ahead(th);

		wake = next > ahead ? next - ahead : 0;
	}
	if (tx_pending && wake > now + SLEEP_CAP_NS)
		wake = now + SLEEP_CAP_NS;
	if (wake != SL_TIME_NEVER && wake <= now) {
		th->spins++;
		return; /* close enough: spin */
	}
	if (wake != th->tfd_armed) {
		struct itimerspec its = { 0 };

		if (wake != SL_TIME_NEVER) {
			its.it_value.tv_sec = (time_t)(wake / SL_NSEC_PER_SEC);
			its.it_value.tv_nsec = (long)(wake % SL_NSEC_PER_SEC);
		}
		timerfd_settime(th->tfd, TFD_TIMER_ABSTIME, &its, NULL);
		th->tfd_armed = wake;
	}
	th->sleeps++;
	n = epoll_wait(th->epfd, ev, EVENTS_MAX, -1);
	if (n > 0)
		handle_events(th, ev, n);
}

static void run_cmds(struct dp_thread *th)
{
	struct dp_cmd *c, *next;

	pthread_mutex_lock(&th->cmd_lock);
	c = th->cmds;
	th->cmds = NULL;
	atomic_store(&th->cmd_pending, false);
	pthread_mutex_unlock(&th->cmd_lock);
	/* oldest first: the list is LIFO */
	{
		struct dp_cmd *rev = NULL;

		for (; c; c = next) {
			next = c->next;
			c->next = rev;
			rev = c;
		}
		c = rev;
	}
	for (; c; c = next) {
		next = c->next;
		c->ret = c->fn(th, c->arg, c->err);
		pthread_mutex_lock(&th->cmd_lock);
		c->done = true;
		pthread_cond_broadcast(&th->cmd_cond);
		pthread_mutex_unlock(&th->cmd_lock);
	}
}

/* Completions, RX and refill of one link; returns the frames received. */
static unsigned link_service(struct dp_thread *th, struct dp_link *lk,
			     uint64_t now)
{
	unsigned rx = 0;
	int s;

	for (s = 0; s < 2; s++) {
		struct sl_xsk *x = &lk->xsk[s];

		if (sl_xsk_complete(x) || !x->tx_pending) {
			if (lk->stalled[s])
				pr_warn("dataplane: link %s:%u port %d: transmissions "
					"complete again", lk->topo, lk->id, lk->ifindex[s]);
			lk->last_comp[s] = now;
			lk->stalled[s] = false;
		} else if (!lk->stalled[s] && now - lk->last_comp[s] > TX_STALL_NS) {
			/* Frames handed to the kernel come back on the
			 * completion ring when it frees them; none for a
			 * second means it stopped transmitting on this
			 * socket (seen on a loaded host, see
			 * docs/dataplane.md): say so, and count it. */
			lk->stalled[s] = true;
			lk->tx_stalls[s]++;
			pr_warn("dataplane: link %s:%u port %d: %u frames sent have "
				"not completed for 1 s; the kernel is not transmitting "
				"on this socket", lk->topo, lk->id, lk->ifindex[s],
				x->tx_pending);
		}
	}
	for (s = 0; s < 2; s++)
		rx += dir_rx(th, &lk->dir[s], now);
	/* both: frames freed by one port's completions or by drops may be
	 * what the other port's RX waits for */
	for (s = 0; s < 2; s++)
		sl_xsk_refill(&lk->xsk[s]);
	return rx;
}

/* A serviced link stays busy while it moves frames or waits for
 * completions; otherwise epoll or a timer brings it back. */
static bool link_still_busy(const struct dp_link *lk, unsigned rx)
{
	return rx || lk->xsk[0].tx_pending || lk->xsk[1].tx_pending;
}

/*
 * With few links a pass looks at all of them (cheaper than a system call);
 * with more, only at the busy ones, found by epoll. A sweep over all links
 * every SWEEP_NS is the safety net for a lost wakeup.
 */
#define SCAN_ALL_LINKS 4
#define SWEEP_NS (10 * SL_NSEC_PER_MSEC)

static void wake_all(struct dp_thread *th)
{
	struct dp_link *lk;

	for (lk = th->links; lk; lk = lk->next)
		link_wake(th, lk);
}

static void *thread_main(void *arg)
{
	struct dp_thread *th = arg;
	struct sl_timer *t;
	char name[16];
	uint64_t now, next, t0, last_work = 0;
	unsigned work, rx, i, k, r;
	bool tx_pending;

	snprintf(name, sizeof(name), "sluice-dp%u", th->idx);
	pthread_setname_np(pthread_self(), name);
	/* timerfd wakeups as exact as the kernel can (PLATFORM.md: 30/79 us
	 * p50/p99 with 1 ns slack against 100/700 with the default) */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	while (!atomic_load_explicit(&th->stop, memory_order_relaxed)) {
		th->passes++;
		if (atomic_load_explicit(&th->cmd_pending, memory_order_acquire))
			run_cmds(th);
		now = t0 = now_ns();
		work = rx = 0;
		if (th->n_local <= SCAN_ALL_LINKS ||
		    now - th->last_sweep >= SWEEP_NS) {
			wake_all(th);
			th->last_sweep = now;
		}
		if (th->n_local > SCAN_ALL_LINKS)
			poll_events(th);
		/* links woken while servicing others join this round */
		for (i = k = 0; i < th->n_busy; i++) {
			struct dp_link *lk = th->busy[i];

			r = link_service(th, lk, now);
			rx += r;
			if (link_still_busy(lk, r))
				th->busy[k++] = lk;
			else
				lk->busy = false;
		}
		th->n_busy = k;
		work = rx;
		now = now_ns();
		while ((t = sl_wheel_expire(th->wheel, now))) {
			hist_add(&th->late_timer,
				 now > t->expires ? now - t->expires : 0);
			dir_tx(th, t->data, now);
			work++;
		}
		next = sl_wheel_next(th->wheel);
		for (i = k = 0; i < th->n_kick; i++) {
			struct dp_kick kk = th->kick[i];
			struct sl_xsk *x = &kk.lk->xsk[kk.s];

			maybe_kick(th, x, now, next, rx > 0);
			if (x->tx_unkicked)
				th->kick[k++] = kk;
			else
				kk.lk->kick_listed[kk.s] = false;
		}
		th->n_kick = k;
		/* busy links are the ones with completions outstanding */
		tx_pending = th->n_busy > 0;
		if (work) {
			last_work = now_ns();
			th->busy_ns += last_work - t0;
			hist_add(&th->pass_len, last_work - t0);
			continue;
		}
		/* Frames come in bursts (one NAPI poll of the sender's veth at
		 * a time): keep polling for a while after the last work rather
		 * than paying a wakeup for every burst. */
		if (now - last_work < th->dp->o.idle_poll_ns)
			continue;
		thread_sleep(th, now, next, tx_pending);
	}
	return NULL;
}

/* Runs fn on th between two passes and waits for it. */
static int run_cmd(struct dp_thread *th,
		   int (*fn)(struct dp_thread *, void *, struct sl_err *),
		   void *arg, struct sl_err *err)
{
	struct dp_cmd c = { .fn = fn, .arg = arg, .err = err };
	uint64_t one = 1;

	if (!th->started)
		return fn(th, arg, err);
	pthread_mutex_lock(&th->cmd_lock);
	c.next = th->cmds;
	th->cmds = &c;
	atomic_store_explicit(&th->cmd_pending, true, memory_order_release);
	pthread_mutex_unlock(&th->cmd_lock);
	if (write(th->evfd, &one, sizeof(one)) < 0)
		(void)0; /* the counter is saturated: a wakeup is pending */
	pthread_mutex_lock(&th->cmd_lock);
	while (!c.done)
		pthread_cond_wait(&th->cmd_cond, &th->cmd_lock);
	pthread_mutex_unlock(&th->cmd_lock);
	return c.ret;
}

/* ---- threads ----------------------------------------------------------- */

static void thread_fini(struct dp_thread *th)
{
	uint64_t one = 1;

	if (th->started) {
		atomic_store(&th->stop, true);
		if (write(th->evfd, &one, sizeof(one)) < 0)
			(void)0;
		pthread_join(th->tid, NULL);
		th->started = false;
	}
	if (th->epfd >= 0)
		close(th->epfd);
	if (th->evfd >= 0)
		close(th->evfd);
	if (th->tfd >= 0)
		close(th->tfd);
	sl_wheel_free(th->wheel);
	free(th->busy);
	free(th->kick);
	pthread_mutex_destroy(&th->cmd_lock);
	pthread_cond_destroy(&th->cmd_cond);
}

/* The CPU thread idx is pinned to: the cpu_first + idx-th of the
 * process's CPUs, counting round. */
static int thread_cpu(const struct sl_dataplane *dp, unsigned idx)
{
	int want = (dp->o.cpu_first + (int)idx) % (dp->ncpus ? dp->ncpus : 1);
	int cpu, k = 0;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &dp->cpus) && k++ == want)
			return cpu;
	return 0;
}

int sl_dataplane_steer_mask(const struct sl_dataplane *dp, char *buf,
			    size_t len)
{
	cpu_set_t set;
	unsigned i;

	if (!dp || dp->o.cpu_first < 0 || dp->o.steer_rps == SL_STEER_OFF)
		return -ENOENT;
	set = dp->cpus;
	for (i = 0; i < dp->n_threads && dp->o.steer_rps == SL_STEER_OTHERS; i++)
		CPU_CLR(thread_cpu(dp, i), &set);
	if (!CPU_COUNT(&set))
		return -ENOENT;
	return sl_steer_mask_format(&set, buf, len);
}

static int thread_init(struct sl_dataplane *dp, struct dp_thread *th,
		       unsigned idx, struct sl_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	th->dp = dp;
	th->idx = idx;
	th->epfd = th->evfd = th->tfd = -1;
	th->tfd_armed = SL_TIME_NEVER;
	pthread_mutex_init(&th->cmd_lock, NULL);
	pthread_cond_init(&th->cmd_cond, NULL);
	th->wheel = sl_wheel_new(now_ns());
	th->epfd = epoll_create1(EPOLL_CLOEXEC);
	th->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	th->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!th->wheel || th->epfd < 0 || th->evfd < 0 || th->tfd < 0)
		return sl_err_set(err, errno ? errno : ENOMEM,
				  "dataplane thread %u: %s", idx,
				  strerror(errno ? errno : ENOMEM));
	ev.data.ptr = &tag_evfd;
	epoll_ctl(th->epfd, EPOLL_CTL_ADD, th->evfd, &ev);
	ev.data.ptr = &tag_tfd;
	epoll_ctl(th->epfd, EPOLL_CTL_ADD, th->tfd, &ev);
	ret = pthread_create(&th->tid, NULL, thread_main, th);
	if (ret)
		return sl_err_set(err, ret, "start dataplane thread %u: %s",
				  idx, strerror(ret));
	th->started = true;
	if (dp->o.cpu_first >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(thread_cpu(dp, idx), &set);
		pthread_setaffinity_np(th->tid, sizeof(set), &set);
	}
	return 0;
}

struct sl_dataplane *sl_dataplane_new_opts(const struct sl_dataplane_opts *o,
					   struct sl_err *err)
{
	struct sl_dataplane *dp = calloc(1, sizeof(*dp));
	struct sl_dataplane_opts def;
	unsigned i;

	if (!dp)
		return sl_err_set(err, ENOMEM, "out of memory"), NULL;
	sl_dataplane_opts_default(&def);
	dp->o = *o;
	if (!dp->o.n_threads)
		dp->o.n_threads = def.n_threads;
	if (!dp->o.frames_per_link)
		dp->o.frames_per_link = def.frames_per_link;
	if (!dp->o.frame_size)
		dp->o.frame_size = def.frame_size;
	if (!dp->o.spin_ns)
		dp->o.spin_ns = def.spin_ns;
	if (!dp->o.idle_poll_ns)
		dp->o.idle_poll_ns = def.idle_poll_ns;
	if (!dp->o.tx_coalesce_ns)
		dp->o.tx_coalesce_ns = def.tx_coalesce_ns;
	if (!dp->o.batch)
		dp->o.batch = def.batch;
	if (dp->o.batch > BATCH_MAX)
		dp->o.batch = BATCH_MAX;
	if (!dp->o.max_slots)
		dp->o.max_slots = def.max_slots;
	if (sched_getaffinity(0, sizeof(dp->cpus), &dp->cpus)) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		int c;

		CPU_ZERO(&dp->cpus);
		for (c = 0; c < n && c < CPU_SETSIZE; c++)
			CPU_SET(c, &dp->cpus);
	}
	dp->ncpus = CPU_COUNT(&dp->cpus);
	pthread_mutex_init(&dp->lock, NULL);
	dp->th = calloc(dp->o.n_threads, sizeof(*dp->th));
	if (!dp->th) {
		free(dp);
		return sl_err_set(err, ENOMEM, "out of memory"), NULL;
	}
	for (i = 0; i < dp->o.n_threads; i++) {
		dp->n_threads = i + 1;
		if (thread_init(dp, &dp->th[i], i, err)) {
			sl_dataplane_free(dp);
			return NULL;
		}
	}
	return dp;
}

struct sl_dataplane *sl_dataplane_new(unsigned n_threads, struct sl_err *err)
{
	struct sl_dataplane_opts o;

	sl_dataplane_opts_default(&o);
	o.n_threads = n_threads;
	return sl_dataplane_new_opts(&o, err);
}

/* ---- links ------------------------------------------------------------- */

static struct dp_link *find_link(struct sl_dataplane *dp, const char *topo,
				 uint32_t id)
{
	struct dp_link *lk;

	for (lk = dp->links; lk; lk = lk->all_next)
		if (lk->id == id && !strcmp(lk->topo, topo))
			return lk;
	return NULL;
}

/* The XDP program of the netns behind fd, loaded on first use. */
static struct dp_ns *ns_get(struct sl_dataplane *dp, int fd,
			    struct sl_err *err)
{
	struct dp_ns *ns;
	struct stat st;

	if (fstat(fd, &st))
		return sl_err_set(err, errno, "fabric netns fd: %s",
				  strerror(errno)), NULL;
	for (ns = dp->nss; ns; ns = ns->next)
		if (ns->ino == st.st_ino && ns->dev == st.st_dev) {
			ns->refs++;
			return ns;
		}
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return sl_err_set(err, ENOMEM, "out of memory"), NULL;
	ns->prog = sl_xsk_prog_new(dp->o.max_slots, err);
	if (!ns->prog) {
		free(ns);
		return NULL;
	}
	ns->ino = st.st_ino;
	ns->dev = st.st_dev;
	ns->refs = 1;
	ns->next = dp->nss;
	dp->nss = ns;
	return ns;
}

static void ns_put(struct sl_dataplane *dp, struct dp_ns *ns)
{
	struct dp_ns **pp;

	if (!ns || --ns->refs)
		return;
	for (pp = &dp->nss; *pp; pp = &(*pp)->next)
		if (*pp == ns) {
			*pp = ns->next;
			break;
		}
	sl_xsk_prog_free(ns->prog);
	free(ns);
}

/* Undoes link_setup; the link is not on a thread. Caller holds dp->lock
 * and is in the fabric netns when setns_done (for the XDP detach). */
static void link_teardown(struct sl_dataplane *dp, struct dp_link *lk)
{
	struct epoll_event ev = { 0 };
	int s;

	for (s = 0; s < 2; s++) {
		if (lk->attached[s])
			sl_xsk_prog_detach(lk->ifindex[s], NULL);
		if (lk->slot[s] >= 0) {
			sl_xsk_prog_port_del(lk->ns->prog, lk->ifindex[s],
					     (uint32_t)lk->slot[s]);
			sl_xsk_prog_slot_put(lk->ns->prog, (uint32_t)lk->slot[s]);
		}
		if (lk->th && lk->xsk[s].fd >= 0)
			epoll_ctl(lk->th->epfd, EPOLL_CTL_DEL, lk->xsk[s].fd, &ev);
	}
	/* channels hand their packets back to the free stack */
	for (s = 0; s < 2; s++) {
		struct dp_dir *d = &lk->dir[s];

		while (d->n_draining)
			sl_channel_free(d->draining[--d->n_draining]);
		sl_channel_free(d->ch);
		d->ch = NULL;
	}
	/* the shared socket first: the owner holds the UMEM registration */
	sl_xsk_close(&lk->xsk[1]);
	sl_xsk_close(&lk->xsk[0]);
	if (sl_xsk_umem_free(lk->umem))
		(void)0; /* cannot happen: both sockets are closed */
	free(lk->pkts);
	ns_put(dp, lk->ns);
	if (lk->netns_fd >= 0)
		close(lk->netns_fd);
	free(lk);
}

static int cmd_attach(struct dp_thread *th, void *arg, struct sl_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.ptr = arg };
	struct dp_link *lk = arg;
	uint64_t now = now_ns();
	int s;

	if (th->n_local + 1 > th->cap) {
		unsigned cap = th->cap ? th->cap * 2 : 64;
		struct dp_link **b = realloc(th->busy, cap * sizeof(*b));
		struct dp_kick *kk;

		if (!b)
			return sl_err_set(err, ENOMEM, "out of memory");
		th->busy = b;
		kk = realloc(th->kick, 2 * cap * sizeof(*kk));
		if (!kk)
			return sl_err_set(err, ENOMEM, "out of memory");
		th->kick = kk;
		th->cap = cap;
	}
	/* Added here, by the thread that waits on epfd: an event it gets is
	 * always for a link it has (see cmd_detach). */
	for (s = 0; s < 2; s++)
		if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, lk->xsk[s].fd, &ev)) {
			int e = errno;

			if (s)
				epoll_ctl(th->epfd, EPOLL_CTL_DEL, lk->xsk[0].fd, &ev);
			return sl_err_set(err, e, "epoll: %s", strerror(e));
		}
	lk->next = th->links;
	th->links = lk;
	th->n_local++;
	lk->in_thread = true;
	lk->last_comp[0] = lk->last_comp[1] = now;
	link_wake(th, lk);
	for (s = 0; s < 2; s++) {
		sl_channel_attach(lk->dir[s].ch, NULL);
		dir_arm(th, &lk->dir[s], now);
	}
	return 0;
}

static int cmd_detach(struct dp_thread *th, void *arg, struct sl_err *err)
{
	struct dp_link *lk = arg, **pp;
	int s;

	struct epoll_event ev = { 0 };
	unsigned i, k;

	for (pp = &th->links; *pp; pp = &(*pp)->next)
		if (*pp == lk) {
			*pp = lk->next;
			break;
		}
	/* off the work lists, and no event for it ever again: the thread
	 * itself deletes the sockets from its epoll set, so no later
	 * epoll_wait() returns a pointer to the link about to be freed */
	for (s = 0; s < 2; s++)
		epoll_ctl(th->epfd, EPOLL_CTL_DEL, lk->xsk[s].fd, &ev);
	for (i = k = 0; i < th->n_busy; i++)
		if (th->busy[i] != lk)
			th->busy[k++] = th->busy[i];
	th->n_busy = k;
	for (i = k = 0; i < th->n_kick; i++)
		if (th->kick[i].lk != lk)
			th->kick[k++] = th->kick[i];
	th->n_kick = k;
	lk->busy = lk->kick_listed[0] = lk->kick_listed[1] = false;
	lk->in_thread = false;
	th->n_local--;
	for (s = 0; s < 2; s++) {
		struct dp_dir *d = &lk->dir[s];
		struct sl_pkt *p;

		sl_wheel_cancel(th->wheel, &d->timer);
		while ((p = sl_pktq_pop(&d->backlog)))
			on_drop(p, SL_DROP_FLUSH, d);
	}
	lk->next = NULL;
	return 0;
}

static struct dp_thread *least_loaded(struct sl_dataplane *dp)
{
	struct dp_thread *best = &dp->th[0];
	unsigned i;

	for (i = 1; i < dp->n_threads; i++)
		if (dp->th[i].n_links < best->n_links)
			best = &dp->th[i];
	return best;
}

static int link_build_channels(struct sl_dataplane *dp, struct dp_link *lk,
			       const struct sl_dataplane_link *l,
			       struct sl_err *err)
{
	int s, ret;

	for (s = 0; s < 2; s++) {
		struct dp_dir *d = &lk->dir[s];
		struct sl_cell_env env = {
			.drop = on_drop, .clone = on_clone, .ctx = d,
		};

		d->lk = lk;
		d->d = s;
		sl_pktq_init(&d->backlog);
		sl_timer_init(&d->timer, d);
		ret = sl_channel_from_policy(l->policy[s],
					     sl_rng_derive(l->seed, (uint64_t)s),
					     &d->ch, err);
		if (ret) {
			sl_err_prefix(err, "link %s:%u direction %s", l->topo,
				      l->link, s ? "down" : "up");
			return ret;
		}
		sl_channel_set_env(d->ch, &env);
	}
	return 0;
}

static int link_open_sockets(struct sl_dataplane *dp, struct dp_link *lk,
			     struct sl_err *err)
{
	struct sl_xsk_config cfg = {
		.fill_target = 0,
		.busy_poll = dp->o.busy_poll,
		.force_copy = dp->o.force_copy,
	};
	uint32_t n = dp->o.frames_per_link;
	int s, ret;

	lk->umem = sl_xsk_umem_new(n, dp->o.frame_size, err);
	if (!lk->umem)
		return -ENOMEM;
	lk->pkts = calloc(n, sizeof(*lk->pkts));
	if (!lk->pkts)
		return sl_err_set(err, ENOMEM, "out of memory");
	/* each port keeps a quarter of the frames posted for RX, so half
	 * are left for packets held in the channels and on TX rings */
	cfg.fill_target = n / 4;
	for (s = 0; s < 2; s++) {
		ret = sl_xsk_open(&lk->xsk[s], lk->umem, lk->ifindex[s], &cfg,
				  err);
		if (ret)
			return ret;
	}
	for (s = 0; s < 2; s++) {
		lk->dir[s].in = &lk->xsk[s];
		lk->dir[s].out = &lk->xsk[!s];
	}
	return 0;
}

int sl_dataplane_add_link(struct sl_dataplane *dp,
			  const struct sl_dataplane_link *l,
			  struct sl_err *err)
{
	struct dp_link *lk;
	int saved = -1, ret, s;
	bool in_ns = false;

	if (!l->topo || strlen(l->topo) >= TOPO_MAX)
		return sl_err_set(err, EINVAL, "topology name: expected 1 to %d characters",
				  TOPO_MAX - 1);
	lk = calloc(1, sizeof(*lk));
	if (!lk)
		return sl_err_set(err, ENOMEM, "out of memory");
	snprintf(lk->topo, sizeof(lk->topo), "%s", l->topo);
	lk->id = l->link;
	lk->dp = dp;
	lk->seed = l->seed;
	lk->netns_fd = fcntl(l->fabric_netns_fd, F_DUPFD_CLOEXEC, 0);
	for (s = 0; s < 2; s++) {
		lk->ifindex[s] = l->ifindex[s];
		lk->slot[s] = -1;
		lk->xsk[s].fd = -1;
	}
	pthread_mutex_lock(&dp->lock);
	if (find_link(dp, l->topo, l->link)) {
		pthread_mutex_unlock(&dp->lock);
		free(lk);
		return sl_err_set(err, EEXIST,
				  "link %s:%u is already in the dataplane",
				  l->topo, l->link);
	}
	/* channels first: a bad policy fails before anything is touched */
	ret = link_build_channels(dp, lk, l, err);
	if (ret)
		goto fail;
	lk->ns = ns_get(dp, l->fabric_netns_fd, err);
	if (!lk->ns) {
		ret = -EIO;
		goto fail;
	}
	ret = sl_netns_enter(l->fabric_netns_fd, &saved, err);
	if (ret)
		goto fail;
	in_ns = true;
	ret = link_open_sockets(dp, lk, err);
	for (s = 0; s < 2 && !ret; s++) {
		ret = sl_xsk_prog_slot_get(lk->ns->prog, err);
		if (ret < 0)
			break;
		lk->slot[s] = ret;
		ret = sl_xsk_prog_port_set(lk->ns->prog, lk->ifindex[s],
					   (uint32_t)lk->slot[s], lk->xsk[s].fd,
					   SL_XSK_MODE_REDIRECT, err);
	}
	/* the map entries exist before the program: no frame is dropped
	 * for want of a socket */
	for (s = 0; s < 2 && !ret; s++) {
		ret = sl_xsk_prog_attach(lk->ns->prog, lk->ifindex[s],
					 &lk->generic[s], err);
		lk->attached[s] = !ret;
	}
	if (ret) {
		sl_err_prefix(err, "link %s:%u", l->topo, l->link);
		goto fail;
	}
	sl_netns_leave(saved);
	in_ns = false;

	lk->th = least_loaded(dp);
	ret = run_cmd(lk->th, cmd_attach, lk, err);
	if (ret) {
		sl_err_prefix(err, "link %s:%u", l->topo, l->link);
		in_ns = !sl_netns_enter(l->fabric_netns_fd, &saved, NULL);
		lk->th = NULL;
		goto fail_entered;
	}
	lk->th->n_links++;
	lk->all_next = dp->links;
	dp->links = lk;
	dp->n_links++;
	pthread_mutex_unlock(&dp->lock);
	return 0;
fail:
	if (!in_ns && (lk->attached[0] || lk->attached[1]))
		in_ns = !sl_netns_enter(l->fabric_netns_fd, &saved, NULL);
fail_entered:
	link_teardown(dp, lk);
	if (in_ns)
		sl_netns_leave(saved);
	pthread_mutex_unlock(&dp->lock);
	return ret < 0 ? ret : -EIO;
}

/* Caller holds dp->lock; lk is in dp->links. */
static void link_remove_locked(struct sl_dataplane *dp, struct dp_link *lk)
{
	struct dp_link **pp;
	int saved = -1;
	bool in_ns = false;

	run_cmd(lk->th, cmd_detach, lk, NULL);
	lk->th->n_links--;
	for (pp = &dp->links; *pp; pp = &(*pp)->all_next)
		if (*pp == lk) {
			*pp = lk->all_next;
			break;
		}
	dp->n_links--;
	if (lk->netns_fd >= 0)
		in_ns = !sl_netns_enter(lk->netns_fd, &saved, NULL);
	link_teardown(dp, lk);
	if (in_ns)
		sl_netns_leave(saved);
}

int sl_dataplane_remove_link(struct sl_dataplane *dp, const char *topo,
			     uint32_t link, struct sl_err *err)
{
	struct dp_link *lk;

	pthread_mutex_lock(&dp->lock);
	lk = find_link(dp, topo, link);
	if (!lk) {
		pthread_mutex_unlock(&dp->lock);
		return sl_err_set(err, ENOENT, "link %s:%u is not in the dataplane",
				  topo, link);
	}
	link_remove_locked(dp, lk);
	pthread_mutex_unlock(&dp->lock);
	return 0;
}

int sl_dataplane_remove_topology(struct sl_dataplane *dp, const char *topo)
{
	struct dp_link *lk, *next;
	int n = 0;

	pthread_mutex_lock(&dp->lock);
	for (lk = dp->links; lk; lk = next) {
		next = lk->all_next;
		if (strcmp(lk->topo, topo))
			continue;
		link_remove_locked(dp, lk);
		n++;
	}
	pthread_mutex_unlock(&dp->lock);
	return n;
}

void sl_dataplane_free(struct sl_dataplane *dp)
{
	struct dp_link *lk;
	unsigned i;

	if (!dp)
		return;
	pthread_mutex_lock(&dp->lock);
	while ((lk = dp->links))
		link_remove_locked(dp, lk);
	pthread_mutex_unlock(&dp->lock);
	for (i = 0; i < dp->n_threads; i++)
		thread_fini(&dp->th[i]);
	free(dp->th);
	pthread_mutex_destroy(&dp->lock);
	free(dp);
}

bool sl_dataplane_has_link(struct sl_dataplane *dp, const char *topo,
			   uint32_t link)
{
	bool ret;

	pthread_mutex_lock(&dp->lock);
	ret = find_link(dp, topo, link) != NULL;
	pthread_mutex_unlock(&dp->lock);
	return ret;
}

unsigned sl_dataplane_n_links(struct sl_dataplane *dp)
{
	unsigned n;

	pthread_mutex_lock(&dp->lock);
	n = dp->n_links;
	pthread_mutex_unlock(&dp->lock);
	return n;
}

/* ---- policy changes ---------------------------------------------------- */

struct policy_cmd {
	struct dp_dir *d;
	struct sl_channel *fresh;   /* built from the new policy */
	struct json_object *policy; /* parsed new policy */
	const char *cell;	    /* sl_dataplane_control: one cell */
	struct json_object *cfg;
	bool in_place;		    /* out: changed in place */
};

/* Where the shorthand's keys go (lib/channel.c builds these cells and
 * names them after their type). */
static const char *shorthand_cell(const char *key)
{
	if (!strcmp(key, "loss"))
		return "loss";
	if (!strcmp(key, "rate") || !strcmp(key, "burst") ||
	    !strcmp(key, "queue"))
		return "rate";
	if (!strcmp(key, "delay") || !strcmp(key, "jitter"))
		return "delay";
	return NULL;
}

static bool same_cells(struct sl_channel *a, struct sl_channel *b)
{
	unsigned i, n = sl_channel_cell_count(a);

	if (n != sl_channel_cell_count(b))
		return false;
	for (i = 0; i < n; i++) {
		struct sl_cell *x = sl_channel_cell(a, i), *y = sl_channel_cell(b, i);

		if (x->ops != y->ops || strcmp(x->name, y->name))
			return false;
	}
	return true;
}

/* The part of policy that configures cell c: its entry of "cells", or its
 * shorthand keys. A new reference. */
static struct json_object *cell_cfg(struct json_object *policy,
				    const struct sl_cell *c, unsigned idx)
{
	struct json_object *cells, *o;
	size_t i, n;

	if (policy && json_object_object_get_ex(policy, "cells", &cells)) {
		n = json_object_array_length(cells);
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(cells, i), *v;
			const char *name = NULL;

			if (json_object_object_get_ex(e, "name", &v))
				name = json_object_get_string(v);
			if (name ? !strcmp(name, c->name) : i == idx) {
				o = json_object_new_object();
				json_object_object_foreach(e, k, val)
				{
					if (strcmp(k, "next") && strcmp(k, "seed"))
						json_object_object_add(o, k,
							json_object_get(val));
				}
				return o;
			}
		}
		return json_object_new_object();
	}
	o = json_object_new_object();
	if (!policy)
		return o;
	json_object_object_foreach(policy, k, val)
	{
		const char *to = shorthand_cell(k);

		if (to && !strcmp(to, c->name))
			json_object_object_add(o, k, json_object_get(val));
	}
	return o;
}

static int cmd_set_policy(struct dp_thread *th, void *arg, struct sl_err *err)
{
	struct policy_cmd *pc = arg;
	struct dp_dir *d = pc->d;
	uint64_t now = now_ns();
	unsigned i, n;
	int ret;

	if (same_cells(d->ch, pc->fresh)) {
		n = sl_channel_cell_count(d->ch);
		/* validate every cell's change on the fresh copy first, so
		 * that the live channel changes all or nothing */
		for (i = 0; i < n; i++) {
			struct sl_cell *c = sl_channel_cell(pc->fresh, i);
			struct json_object *cfg = cell_cfg(pc->policy, c, i);

			ret = sl_channel_control(pc->fresh, c->name, cfg, now, err);
			json_object_put(cfg);
			if (ret)
				return ret;
		}
		for (i = 0; i < n; i++) {
			struct sl_cell *c = sl_channel_cell(d->ch, i);
			struct json_object *cfg = cell_cfg(pc->policy, c, i);

			ret = sl_channel_control(d->ch, c->name, cfg, now, err);
			json_object_put(cfg);
			if (ret)
				return ret;
		}
		pc->in_place = true;
		dir_arm(th, d, now);
		return 0;
	}
	if (d->n_draining == MAX_DRAINING)
		return sl_err_set(err, EBUSY,
				  "%d earlier policy changes are still draining; try again when their packets have left",
				  MAX_DRAINING);
	/* the running channel drains; new arrivals take the fresh one */
	if (sl_channel_next_event(d->ch) == SL_TIME_NEVER)
		sl_channel_free(d->ch);
	else
		d->draining[d->n_draining++] = d->ch;
	d->ch = pc->fresh;
	pc->fresh = NULL;
	dir_arm(th, d, now);
	return 0;
}

static int lookup_dir(struct sl_dataplane *dp, const char *topo,
		      uint32_t link, int dir, struct dp_dir **out,
		      struct sl_err *err)
{
	struct dp_link *lk = find_link(dp, topo, link);

	if (!lk)
		return sl_err_set(err, ENOENT, "link %s:%u is not in the dataplane",
				  topo, link);
	if (dir != 0 && dir != 1)
		return sl_err_set(err, EINVAL,
				  "direction %d: expected 0 (up) or 1 (down)", dir);
	*out = &lk->dir[dir];
	return 0;
}

int sl_dataplane_set_policy(struct sl_dataplane *dp, const char *topo,
			    uint32_t link, int dir, const char *policy_json,
			    struct sl_err *err)
{
	struct policy_cmd pc = { 0 };
	enum json_tokener_error jerr = json_tokener_success;
	struct sl_cell_env env = { .drop = on_drop, .clone = on_clone };
	int ret;

	pthread_mutex_lock(&dp->lock);
	ret = lookup_dir(dp, topo, link, dir, &pc.d, err);
	if (ret) {
		pthread_mutex_unlock(&dp->lock);
		return ret;
	}
	if (policy_json) {
		pc.policy = json_tokener_parse_verbose(policy_json, &jerr);
		if (!pc.policy && jerr != json_tokener_success) {
			ret = sl_err_set(err, EINVAL, "not valid JSON: %s",
					 json_tokener_error_desc(jerr));
			goto out;
		}
	}
	pc.d->lk->generation++;
	ret = sl_channel_new(pc.policy,
			     sl_rng_derive(pc.d->lk->seed,
					   2 * (uint64_t)pc.d->lk->generation +
						   (uint64_t)dir),
			     &pc.fresh, err);
	if (ret)
		goto out;
	env.ctx = pc.d;
	sl_channel_set_env(pc.fresh, &env);
	ret = run_cmd(pc.d->lk->th, cmd_set_policy, &pc, err);
out:
	if (ret)
		sl_err_prefix(err, "link %s:%u direction %s", topo, link,
			      dir ? "down" : "up");
	sl_channel_free(pc.fresh); /* unused when changed in place */
	json_object_put(pc.policy);
	pthread_mutex_unlock(&dp->lock);
	return ret;
}

static int cmd_control(struct dp_thread *th, void *arg, struct sl_err *err)
{
	struct policy_cmd *pc = arg;
	uint64_t now = now_ns();
	int ret;

	ret = sl_channel_control(pc->d->ch, pc->cell, pc->cfg, now, err);
	dir_arm(th, pc->d, now);
	return ret;
}

int sl_dataplane_control(struct sl_dataplane *dp, const char *topo,
			 uint32_t link, int dir, const char *cell,
			 const char *cfg_json, struct sl_err *err)
{
	struct policy_cmd pc = { .cell = cell };
	enum json_tokener_error jerr = json_tokener_success;
	int ret;

	pthread_mutex_lock(&dp->lock);
	ret = lookup_dir(dp, topo, link, dir, &pc.d, err);
	if (ret)
		goto out;
	pc.cfg = json_tokener_parse_verbose(cfg_json ? cfg_json : "", &jerr);
	if (!pc.cfg) {
		ret = sl_err_set(err, EINVAL, "not valid JSON: %s",
				 json_tokener_error_desc(jerr));
		goto out;
	}
	ret = run_cmd(pc.d->lk->th, cmd_control, &pc, err);
out:
	json_object_put(pc.cfg);
	pthread_mutex_unlock(&dp->lock);
	return ret;
}

/* ---- telemetry --------------------------------------------------------- */

struct stats_cmd {
	struct dp_dir *d;
	struct json_object *out;
};

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static struct json_object *socket_json(const struct sl_xsk *x)
{
	struct json_object *o = json_object_new_object();
	struct sl_xsk_kstats ks;

	if (!sl_xsk_kernel_stats(x, &ks)) {
		add_u64(o, "rx_dropped", ks.rx_dropped);
		add_u64(o, "rx_invalid", ks.rx_invalid);
		add_u64(o, "tx_invalid", ks.tx_invalid);
		add_u64(o, "rx_ring_full", ks.rx_ring_full);
		add_u64(o, "rx_fill_empty", ks.rx_fill_empty);
		add_u64(o, "tx_ring_empty", ks.tx_ring_empty);
	}
	add_u64(o, "fill_ring", x->fill->size -
			       xsk_prod_nb_free((struct xsk_ring_prod *)x->fill,
						x->fill->size));
	add_u64(o, "rx_ring", *x->rx.producer - *x->rx.consumer);
	add_u64(o, "kicks", x->kicks);
	add_u64(o, "kick_errors", x->kick_errors);
	add_u64(o, "tx_pending", x->tx_pending);
	return o;
}

/* {"count", "p50_us", "p99_us", "max_us", "buckets": [...]}: percentiles
 * are bucket upper bounds (powers of two), the buckets let a reader take
 * differences between two snapshots. */
static struct json_object *hist_json(const struct dp_hist *h)
{
	struct json_object *o = json_object_new_object();
	struct json_object *b = json_object_new_array();
	uint64_t total = 0, acc = 0, p50 = 0, p99 = 0;
	bool have50 = false, have99 = false;
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		total += h->n[i];
	for (i = 0; i < HIST_BUCKETS; i++) {
		acc += h->n[i];
		json_object_array_add(b, json_object_new_uint64(h->n[i]));
		if (!have50 && total && acc * 2 >= total) {
			p50 = 1ull << i;
			have50 = true;
		}
		if (!have99 && total && acc * 100 >= total * 99) {
			p99 = 1ull << i;
			have99 = true;
		}
	}
	add_u64(o, "count", total);
	add_u64(o, "p50_us", p50);
	add_u64(o, "p99_us", p99);
	add_u64(o, "max_us", h->max_ns / 1000);
	json_object_object_add(o, "buckets", b);
	return o;
}

static int cmd_stats(struct dp_thread *th, void *arg, struct sl_err *err)
{
	struct stats_cmd *sc = arg;
	struct dp_dir *d = sc->d;
	struct dp_link *lk = d->lk;
	struct json_object *o, *dpj, *drops, *xdp;
	struct sl_xsk_stats xs;
	int i;

	o = sl_channel_telemetry(d->ch);
	if (!o)
		return sl_err_set(err, ENOMEM, "out of memory");
	dpj = json_object_new_object();
	add_u64(dpj, "rx_pkts", d->rx_pkts);
	add_u64(dpj, "rx_bytes", d->rx_bytes);
	add_u64(dpj, "tx_pkts", d->tx_pkts);
	add_u64(dpj, "tx_bytes", d->tx_bytes);
	add_u64(dpj, "tx_backlog", d->backlog.n);
	drops = json_object_new_object();
	for (i = 0; i < SL_DROP__MAX; i++)
		add_u64(drops, sl_drop_reason_name((enum sl_drop_reason)i),
			d->drops[i]);
	json_object_object_add(dpj, "drops", drops);
	add_u64(dpj, "csum_completed", d->csum_completed);
	add_u64(dpj, "ce_marked", d->ce_marked);
	add_u64(dpj, "clones", d->clones);
	add_u64(dpj, "clone_fail", d->clone_fail);
	add_u64(dpj, "frames", lk->umem->n_frames);
	add_u64(dpj, "frames_free", lk->umem->n_free);
	add_u64(dpj, "draining", d->n_draining);
	xdp = json_object_new_object();
	if (!sl_xsk_prog_stats(lk->ns->prog, (uint32_t)lk->slot[d->d], &xs,
			       NULL)) {
		add_u64(xdp, "redirected", xs.redirected);
		add_u64(xdp, "passed", xs.passed);
		add_u64(xdp, "no_socket", xs.no_socket);
	}
	json_object_object_add(dpj, "xdp", xdp);
	json_object_object_add(dpj, "xdp_mode",
			       json_object_new_string(lk->generic[d->d] ?
							      "generic" :
							      "native"));
	json_object_object_add(dpj, "zerocopy",
			       json_object_new_boolean(d->in->zerocopy));
	add_u64(dpj, "tx_stalls", lk->tx_stalls[d->out - lk->xsk]);
	json_object_object_add(dpj, "socket_in", socket_json(d->in));
	json_object_object_add(dpj, "socket_out", socket_json(d->out));
	add_u64(dpj, "thread", th->idx);
	add_u64(dpj, "thread_passes", th->passes);
	add_u64(dpj, "thread_sleeps", th->sleeps);
	add_u64(dpj, "thread_spins", th->spins);
	add_u64(dpj, "thread_busy_ns", th->busy_ns);
	add_u64(dpj, "thread_wake_late_ns", th->wake_late);
	add_u64(dpj, "thread_wake_ahead_ns", wake_ahead(th));
	json_object_object_add(dpj, "thread_late_timer",
			       hist_json(&th->late_timer));
	json_object_object_add(dpj, "thread_late_rx", hist_json(&th->late_rx));
	json_object_object_add(dpj, "thread_pass", hist_json(&th->pass_len));
	json_object_object_add(o, "dataplane", dpj);
	sc->out = o;
	return 0;
}

int sl_dataplane_stats(struct sl_dataplane *dp, const char *topo,
		       uint32_t link, int dir, struct json_object **out,
		       struct sl_err *err)
{
	struct stats_cmd sc = { 0 };
	int ret;

	*out = NULL;
	pthread_mutex_lock(&dp->lock);
	ret = lookup_dir(dp, topo, link, dir, &sc.d, err);
	if (!ret)
		ret = run_cmd(sc.d->lk->th, cmd_stats, &sc, err);
	pthread_mutex_unlock(&dp->lock);
	if (!ret)
		*out = sc.out;
	return ret;
}
