// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dataplane.c - the normal-mode dataplane (include/sluice/dataplane.h):
 * its options, its threads, and the loop that moves frames from one port's
 * AF_XDP socket through a channel of cells to the other port's socket.
 * Adding and removing links and changing their policies is in
 * lib/dataplane_link.c, telemetry in lib/dataplane_stats.c, what they
 * share in lib/dataplane_int.h.
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
 * thread as a command (dp_run_cmd), between two passes of the loop.
 */
#include <errno.h>
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
#include <sys/timerfd.h>

#include <sluice/cell.h>
#include <sluice/dataplane.h>
#include <sluice/log.h>
#include <sluice/steer.h>
#include <sluice/xsk.h>

#include "dataplane_int.h"

#define BATCH_MAX 256
#define SLEEP_CAP_NS (1 * SL_NSEC_PER_MSEC) /* with TX completions due */
/* A wakeup later than this is a stall (a preempted vCPU), not the timer's
 * usual lateness: it is counted at this, so that it cannot turn the
 * thread into a spinner. Also the cap of the wake-ahead. */
#ifndef WAKE_LATE_MAX_NS
#define WAKE_LATE_MAX_NS (400 * SL_NSEC_PER_USEC)
#endif
#define TX_STALL_NS SL_NSEC_PER_SEC	   /* no completion for this long */

struct dp_cmd {
	int (*fn)(struct dp_thread *th, void *arg, struct sl_err *err);
	void *arg;
	struct sl_err *err;
	int ret;
	bool done;
	struct dp_cmd *next;
};

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

void dp_on_drop(struct sl_pkt *p, enum sl_drop_reason why, void *ctx)
{
	struct dp_dir *d = ctx;

	d->drops[why]++;
	sl_xsk_umem_put(d->lk->umem, p->addr);
}

struct sl_pkt *dp_on_clone(const struct sl_pkt *p, void *ctx)
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

void dp_dir_arm(struct dp_thread *th, struct dp_dir *d, uint64_t now)
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
	dp_dir_arm(th, d, now);
	return n;
}

void dp_link_wake(struct dp_thread *th, struct dp_link *lk)
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
	dp_link_wake(th, d->lk);
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
		dp_dir_arm(th, d, now);
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
uint64_t dp_wake_ahead(const struct dp_thread *th)
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
			dp_link_wake(th, p);
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
		uint64_t ahead = dp_wake_ahead(th);

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
	/* poll_events() may have read the eventfd of a command (or of stop)
	 * that came after this pass checked for one: sleeping now would wait
	 * for a wakeup already taken. Both flags are set before the write. */
	if (atomic_load_explicit(&th->cmd_pending, memory_order_acquire) ||
	    atomic_load_explicit(&th->stop, memory_order_relaxed))
		return;
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
		dp_link_wake(th, lk);
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
int dp_run_cmd(struct dp_thread *th,
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

void dp_thread_fini(struct dp_thread *th)
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
