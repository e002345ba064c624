// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dataplane_stats.c - telemetry of the normal-mode dataplane
 * (sl_dataplane_stats): a direction's channel telemetry with the
 * dataplane's own counters, its sockets, XDP program and thread, read on
 * the link's thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include <sluice/cell.h>
#include <sluice/dataplane.h>
#include <sluice/xsk.h>

#include "dataplane_int.h"

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
	add_u64(dpj, "thread_wake_ahead_ns", dp_wake_ahead(th));
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
	ret = dp_lookup_dir(dp, topo, link, dir, &sc.d, err);
	if (!ret)
		ret = dp_run_cmd(sc.d->lk->th, cmd_stats, &sc, err);
	pthread_mutex_unlock(&dp->lock);
	if (!ret)
		*out = sc.out;
	return ret;
}
