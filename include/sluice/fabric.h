/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fabric.h - the kernel fabric of a topology: the tc program that carries
 * every emulated link between two fabric ports, its maps and their pins.
 *
 * One struct sl_fabric per topology. The program and its maps are pinned
 * under pin_dir (normally SL_BPFFS_DIR "/<topo>") as
 *   prog_fabric_ingress  the tc program (attached to every fabric port)
 *   ports                hash: fabric port ifindex -> struct sl_fabric_port
 *   stats                per-CPU array: link * 2 + dir -> struct sl_fabric_stats
 *   global               per-CPU array, one entry: drop_noport
 *   policy               array: link * 2 + dir -> struct sl_fabric_policy_val
 *   bucket               array: link * 2 + dir -> struct sl_fabric_bucket
 *   flows                array: the flow table, two halves (double buffer)
 *   flow_ctl             array, one entry: which half is live, rule counts
 *   flow_hits            per-CPU array: rule id -> struct sl_fabric_flow_hits
 *   ld_flags             array: link * 2 + dir -> __u32 port flags (mirror)
 *   paths                hash: struct sl_fabric_path_key -> struct sl_fabric_path
 *                        (path compression, include/sluice/fabric_path.h)
 * (bpf/fabric.h documents every value and its invariants), so the fabric
 * outlives sluiced: the attached filters keep forwarding while the daemon
 * restarts, and sl_fabric_open() picks the maps up again.
 *
 * Namespaces: ifindexes in the ports map and in sl_fabric_attach() are those
 * of the fabric network namespace. sl_fabric_attach() and _detach() talk
 * rtnetlink in the calling thread's current netns, so call them after
 * setns() into the fabric netns. Map updates and pins do not depend on the
 * netns (pins resolve in the mount namespace).
 *
 * Ordering for a link: create the veth pairs, move the node ends into the
 * nodes and bring all four ends up, sl_fabric_port_set() both ports, then
 * sl_fabric_attach() both (a port attached before its map entry drops
 * everything it receives, counted as drop_noport). bpf_redirect_peer()
 * drops packets whose target peer is down or lives in the fabric netns
 * itself, so both node ends must be up and outside it.
 */
#ifndef SLUICE_FABRIC_H
#define SLUICE_FABRIC_H

#include <stdint.h>

#include <sluice/bpffs.h>
#include <sluice/err.h>

/* The structs shared with the BPF program (one definition for both sides). */
#include "../../bpf/fabric.h"

#define SL_FABRIC_LINKS_DEFAULT 32768u /* max_links == 0 */
#define SL_FABRIC_LINKS_MAX (1u << 20)

#define SL_FABRIC_PIN_PROG "prog_fabric_ingress"
#define SL_FABRIC_PIN_PORTS "ports"
#define SL_FABRIC_PIN_STATS "stats"
#define SL_FABRIC_PIN_GLOBAL "global"
#define SL_FABRIC_PIN_POLICY "policy"
#define SL_FABRIC_PIN_BUCKET "bucket"
#define SL_FABRIC_PIN_FLOWS "flows"
#define SL_FABRIC_PIN_FLOW_CTL "flow_ctl"
#define SL_FABRIC_PIN_FLOW_HITS "flow_hits"
#define SL_FABRIC_PIN_LD_FLAGS "ld_flags"
#define SL_FABRIC_PIN_PATHS "paths"

/* Compressed paths at most (max_entries of "paths"; not preallocated). */
#define SL_FABRIC_PATHS_MAX 32768u

/* The tc filter every fabric port carries (ingress of its clsact qdisc). */
#define SL_FABRIC_TC_HANDLE 1
#define SL_FABRIC_TC_PRIO 1
/* Its program, as errors name it. */
#define SL_FABRIC_PROG_NAME "sl_fabric_ingress"

struct sl_fabric;

/*
 * Loads the fabric program with room for max_links links (0: the default;
 * ports hold 2 * max_links entries), creates pin_dir (mkdir -p) and pins the
 * program and maps there. Fails with -EEXIST if pin_dir already holds a
 * fabric (use sl_fabric_open). On failure it returns NULL with errno set,
 * nothing stays loaded or pinned, and err names the step, the program and
 * the reason (sl_bpf_object_load: the verifier's complaint, a missing
 * kernel BTF, libbpf's first warning).
 */
struct sl_fabric *sl_fabric_create(const char *pin_dir, uint32_t max_links,
				   struct sl_err *err);
/* Reopens a fabric pinned by sl_fabric_create (e.g. after a restart);
 * checks that the pinned maps have the layout this build expects (-EPROTO
 * otherwise). NULL with errno set on failure. */
struct sl_fabric *sl_fabric_open(const char *pin_dir, struct sl_err *err);
/* Closes the fds; the pins, and so the program and maps, stay. */
void sl_fabric_free(struct sl_fabric *f);
/* Removes the pins sl_fabric_create made and pin_dir if it is then empty.
 * Missing pins are fine. Filters still attached keep the program alive
 * until their interfaces go away. */
int sl_fabric_unpin(const char *pin_dir, struct sl_err *err);

/* Attaches the program to the tc ingress of ifindex in the caller's current
 * netns (creating its clsact qdisc if needed). Replaces a previous fabric
 * filter, so it is idempotent across daemon restarts. On failure err names
 * the program, the interface and the kernel's message, and a clsact qdisc
 * this call created is removed again. */
int sl_fabric_attach(struct sl_fabric *f, int ifindex, struct sl_err *err);
/* Removes the fabric filter from ifindex; 0 if none was attached (the
 * clsact qdisc stays), -ENODEV if there is no such interface. */
int sl_fabric_detach(struct sl_fabric *f, int ifindex, struct sl_err *err);

/* Creates or replaces the entry of a fabric port. -EINVAL when p->link is
 * not below max_links, p->dir is not 0 or 1, or reserved fields are set.
 * Also mirrors p->flags into ld_flags[link * 2 + dir], which compressed
 * paths read (so a port set down stops them too); deleting the port
 * clears it. */
int sl_fabric_port_set(struct sl_fabric *f, uint32_t ifindex,
		       const struct sl_fabric_port *p, struct sl_err *err);
/* -ENOENT when the port has no entry. */
int sl_fabric_port_get(struct sl_fabric *f, uint32_t ifindex,
		       struct sl_fabric_port *out, struct sl_err *err);
int sl_fabric_port_del(struct sl_fabric *f, uint32_t ifindex,
		       struct sl_err *err);

/*
 * The in-kernel policy of one link direction (max mode). All zero: none.
 * The policer passes policer_bps on average with bursts up to burst bytes
 * and drops the excess; loss drops loss_ppm packets per million at random,
 * after the policer.
 */
struct sl_fabric_policy {
	uint64_t policer_bps; /* 0: no policer; at most SL_POLICER_RATE_MAX */
	uint32_t burst;       /* bytes, 1..SL_POLICER_BURST_MAX with a policer,
			       * else 0 */
	uint32_t loss_ppm;    /* 0..1000000 */
};

#define SL_POLICER_RATE_MAX (1ull << 62)

/*
 * Writes the policy of a link direction; packets see it at once. The
 * policer's bucket keeps its fill across changes (cut to a smaller burst),
 * so a rate change neither loses nor gives away credit. -EINVAL (naming the
 * field) for values outside the ranges above.
 */
int sl_fabric_policy_set(struct sl_fabric *f, uint32_t link, uint32_t dir,
			 const struct sl_fabric_policy *p, struct sl_err *err);
int sl_fabric_policy_get(struct sl_fabric *f, uint32_t link, uint32_t dir,
			 struct sl_fabric_policy *out, struct sl_err *err);

/* Counters of one link direction, summed over CPUs (drop_noport is 0). */
int sl_fabric_stats_get(struct sl_fabric *f, uint32_t link, uint32_t dir,
			struct sl_fabric_stats *out, struct sl_err *err);
/* Zeroes the counters and the policer buckets of both directions of a
 * link (before a link index is reused; the policy itself is kept). */
int sl_fabric_stats_reset(struct sl_fabric *f, uint32_t link,
			  struct sl_err *err);
/* Fabric-wide counters, summed over CPUs: drop_noport. */
int sl_fabric_global_get(struct sl_fabric *f, struct sl_fabric_stats *out,
			 struct sl_err *err);

uint32_t sl_fabric_max_links(const struct sl_fabric *f);
/* The program fd, e.g. for another attach path; owned by f. */
int sl_fabric_prog_fd(const struct sl_fabric *f);

#endif
