// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fabric.c - loading, pinning, reopening and attaching the kernel fabric
 * (bpf/fabric.bpf.c), and reading and writing its maps.
 *
 * A struct sl_fabric is only fds (lib/fabric_int.h): after
 * sl_fabric_create() pins the program and maps, the skeleton is destroyed
 * and the fds are duplicates, so a created and a reopened fabric behave the
 * same. The pins, not the fds, own the kernel objects; sl_fabric_unpin()
 * releases them. The flow table's functions live in lib/fabric_flow.c,
 * path compression in lib/fabric_path.c. Loading and attaching report
 * failures through lib/bpf_loader.c: the program, the interface and the
 * kernel's reason, with nothing left loaded, pinned or attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sluice/bpf_loader.h>
#include <sluice/fabric.h>

#include "fabric.skel.h"
#include "fabric_int.h"

/* ---- pins */

/* Indexed by enum sl_fabric_obj. */
static const char *const pin_names[SL_FO_N] = {
	[SL_FO_PROG] = SL_FABRIC_PIN_PROG,
	[SL_FO_PORTS] = SL_FABRIC_PIN_PORTS,
	[SL_FO_STATS] = SL_FABRIC_PIN_STATS,
	[SL_FO_GLOBAL] = SL_FABRIC_PIN_GLOBAL,
	[SL_FO_POLICY] = SL_FABRIC_PIN_POLICY,
	[SL_FO_BUCKET] = SL_FABRIC_PIN_BUCKET,
	[SL_FO_FLOWS] = SL_FABRIC_PIN_FLOWS,
	[SL_FO_FLOW_CTL] = SL_FABRIC_PIN_FLOW_CTL,
	[SL_FO_FLOW_HITS] = SL_FABRIC_PIN_FLOW_HITS,
	[SL_FO_LD_FLAGS] = SL_FABRIC_PIN_LD_FLAGS,
	[SL_FO_PATHS] = SL_FABRIC_PIN_PATHS,
};

#define N_PINS SL_FO_N

static int pin_path(char *buf, const char *dir, const char *name,
		    struct sl_err *err)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_MAX)
		return sl_err_set(err, ENAMETOOLONG,
				  "fabric pin path too long: %s/%s", dir,
				  name);
	return 0;
}

int sl_fabric_unpin(const char *pin_dir, struct sl_err *err)
{
	char path[PATH_MAX];
	size_t i;
	int ret;

	for (i = 0; i < N_PINS; i++) {
		ret = pin_path(path, pin_dir, pin_names[i], err);
		if (ret < 0)
			return ret;
		if (unlink(path) < 0 && errno != ENOENT)
			return sl_err_set(err, errno, "unpin %s: %s", path,
					  strerror(errno));
	}
	/* Other parts of sluice may pin into the same topology folder. */
	if (rmdir(pin_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY &&
	    errno != EEXIST)
		return sl_err_set(err, errno, "rmdir %s: %s", pin_dir,
				  strerror(errno));
	return 0;
}

/* ---- struct sl_fabric */

static struct sl_fabric *fabric_alloc(struct sl_err *err)
{
	struct sl_fabric *f;
	int ncpus = libbpf_num_possible_cpus(), i;

	if (ncpus <= 0) {
		sl_err_set(err, ncpus ? ncpus : -EINVAL,
			   "fabric: cannot count possible CPUs: %s",
			   strerror(ncpus ? -ncpus : EINVAL));
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f) {
		f->percpu = calloc((size_t)ncpus, sizeof(*f->percpu));
		f->percpu_hits = calloc((size_t)ncpus,
					sizeof(*f->percpu_hits));
	}
	if (!f || !f->percpu || !f->percpu_hits) {
		if (f) {
			free(f->percpu);
			free(f->percpu_hits);
		}
		free(f);
		sl_err_set(err, ENOMEM, "fabric: out of memory");
		return NULL;
	}
	f->ncpus = ncpus;
	for (i = 0; i < SL_FO_N; i++)
		f->fd[i] = -1;
	return f;
}

void sl_fabric_free(struct sl_fabric *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < SL_FO_N; i++)
		if (f->fd[i] >= 0)
			close(f->fd[i]);
	free(f->percpu);
	free(f->percpu_hits);
	free(f);
}

static int dup_fd(int fd, int *out, struct sl_err *err)
{
	*out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (*out < 0)
		return sl_err_set(err, errno, "fabric: dup: %s",
				  strerror(errno));
	return 0;
}

struct sl_fabric *sl_fabric_create(const char *pin_dir, uint32_t max_links,
				   struct sl_err *err)
{
	char path[PATH_MAX];
	LIBBPF_OPTS(bpf_object_open_opts, open_opts,
		    .btf_custom_path = sl_bpf_btf_path());
	struct fabric_bpf *skel = NULL;
	struct sl_fabric *f = NULL;
	struct sl_bpf_capture cap;
	int fds[N_PINS];
	size_t pinned = 0, i;
	int created = 0, ret;

	if (!pin_dir || !pin_dir[0]) {
		errno = EINVAL;
		sl_err_set(err, EINVAL, "fabric: no pin directory");
		return NULL;
	}
	if (max_links == 0)
		max_links = SL_FABRIC_LINKS_DEFAULT;
	if (max_links > SL_FABRIC_LINKS_MAX) {
		errno = EINVAL;
		sl_err_set(err, EINVAL, "fabric: %u links exceed the limit %u",
			   max_links, SL_FABRIC_LINKS_MAX);
		return NULL;
	}
	ret = sl_bpffs_mkdir(pin_dir, &created, err);
	if (ret < 0)
		goto fail;
	ret = sl_bpffs_check(pin_dir, err);
	if (ret < 0)
		goto fail;
	for (i = 0; i < N_PINS; i++) {
		ret = pin_path(path, pin_dir, pin_names[i], err);
		if (ret < 0)
			goto fail;
		if (access(path, F_OK) == 0) {
			ret = sl_err_set(err, EEXIST,
					 "fabric: %s already exists (open the pinned fabric or unpin it)",
					 path);
			goto fail;
		}
	}

	sl_bpf_capture_begin(&cap);
	skel = fabric_bpf__open_opts(&open_opts);
	if (!skel) {
		ret = sl_bpf_captured_error(err, -errno,
					    "fabric: opening BPF object fabric_bpf");
		sl_bpf_capture_end(&cap);
		goto fail;
	}
	ret = bpf_map__set_max_entries(skel->maps.ports, 2 * max_links);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.stats,
					       2 * max_links);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.policy,
					       2 * max_links);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.bucket,
					       2 * max_links);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.ld_flags,
					       2 * max_links);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.paths,
					       SL_FABRIC_PATHS_MAX);
	if (ret < 0) {
		ret = sl_bpf_captured_error(err, ret, "fabric: sizing maps");
		sl_bpf_capture_end(&cap);
		goto fail;
	}
	sl_bpf_capture_end(&cap);
	ret = sl_bpf_object_load(skel->obj, "fabric", err);
	if (ret < 0)
		goto fail;

	fds[SL_FO_PROG] = bpf_program__fd(skel->progs.sl_fabric_ingress);
	fds[SL_FO_PORTS] = bpf_map__fd(skel->maps.ports);
	fds[SL_FO_STATS] = bpf_map__fd(skel->maps.stats);
	fds[SL_FO_GLOBAL] = bpf_map__fd(skel->maps.global);
	fds[SL_FO_POLICY] = bpf_map__fd(skel->maps.policy);
	fds[SL_FO_BUCKET] = bpf_map__fd(skel->maps.bucket);
	fds[SL_FO_FLOWS] = bpf_map__fd(skel->maps.flows);
	fds[SL_FO_FLOW_CTL] = bpf_map__fd(skel->maps.flow_ctl);
	fds[SL_FO_FLOW_HITS] = bpf_map__fd(skel->maps.flow_hits);
	fds[SL_FO_LD_FLAGS] = bpf_map__fd(skel->maps.ld_flags);
	fds[SL_FO_PATHS] = bpf_map__fd(skel->maps.paths);
	for (pinned = 0; pinned < N_PINS; pinned++) {
		ret = pin_path(path, pin_dir, pin_names[pinned], err);
		if (ret < 0)
			goto fail;
		if (bpf_obj_pin(fds[pinned], path) < 0) {
			ret = sl_err_set(err, errno, "fabric: pin %s: %s",
					 path, strerror(errno));
			goto fail;
		}
	}

	f = fabric_alloc(err);
	if (!f) {
		ret = -ENOMEM;
		goto fail;
	}
	f->max_links = max_links;
	f->max_paths = SL_FABRIC_PATHS_MAX;
	for (i = 0; i < N_PINS; i++)
		if ((ret = dup_fd(fds[i], &f->fd[i], err)) < 0)
			goto fail;
	fabric_bpf__destroy(skel);
	return f;

fail:
	sl_fabric_free(f);
	while (pinned > 0) {
		pinned--;
		if (pin_path(path, pin_dir, pin_names[pinned], NULL) == 0)
			unlink(path);
	}
	fabric_bpf__destroy(skel);
	if (created)
		rmdir(pin_dir);
	errno = ret < 0 ? -ret : EINVAL;
	return NULL;
}

static const char *entry_note(uint32_t max_entries)
{
	static __thread char buf[32];

	if (!max_entries)
		return "";
	snprintf(buf, sizeof(buf), " entries %u", max_entries);
	return buf;
}

/* Opens one pin and checks that it is a map of the layout this build uses. */
static int open_map(const char *pin_dir, const char *name, uint32_t type,
		    uint32_t key_size, uint32_t value_size,
		    uint32_t max_entries, int *fd_out, uint32_t *max_out,
		    struct sl_err *err)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	int fd, ret;

	ret = pin_path(path, pin_dir, name, err);
	if (ret < 0)
		return ret;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return sl_err_set(err, errno, "fabric: open %s: %s", path,
				  strerror(errno));
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		ret = sl_err_set(err, errno, "fabric: %s: map info: %s", path,
				 strerror(errno));
		close(fd);
		return ret;
	}
	if (info.type != type || info.key_size != key_size ||
	    info.value_size != value_size ||
	    (max_entries && info.max_entries != max_entries)) {
		close(fd);
		return sl_err_set(err, EPROTO,
				  "fabric: %s: map type %u key %u value %u entries %u, this build expects type %u key %u value %u%s (pinned by another sluice version? unpin it)",
				  path, info.type, info.key_size,
				  info.value_size, info.max_entries, type,
				  key_size, value_size,
				  entry_note(max_entries));
	}
	*fd_out = fd;
	if (max_out)
		*max_out = info.max_entries;
	return 0;
}

/* The layout this build expects of each pinned map: entries 0 is "sized
 * by the fabric" (checked against the others below). */
#define K4 sizeof(uint32_t)
static const struct {
	enum sl_fabric_obj obj;
	uint32_t type, key_size, value_size, max_entries;
} map_layout[] = {
	{ SL_FO_PORTS, BPF_MAP_TYPE_HASH, K4, sizeof(struct sl_fabric_port),
	  0 },
	{ SL_FO_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, K4,
	  sizeof(struct sl_fabric_stats), 0 },
	{ SL_FO_GLOBAL, BPF_MAP_TYPE_PERCPU_ARRAY, K4,
	  sizeof(struct sl_fabric_stats), 1 },
	{ SL_FO_POLICY, BPF_MAP_TYPE_ARRAY, K4,
	  sizeof(struct sl_fabric_policy_val), 0 },
	{ SL_FO_BUCKET, BPF_MAP_TYPE_ARRAY, K4,
	  sizeof(struct sl_fabric_bucket), 0 },
	{ SL_FO_FLOWS, BPF_MAP_TYPE_ARRAY, K4, sizeof(struct sl_fabric_flow),
	  2 * SL_FLOW_SLOTS },
	{ SL_FO_FLOW_CTL, BPF_MAP_TYPE_ARRAY, K4,
	  sizeof(struct sl_fabric_flow_ctl), 1 },
	{ SL_FO_FLOW_HITS, BPF_MAP_TYPE_PERCPU_ARRAY, K4,
	  sizeof(struct sl_fabric_flow_hits), SL_FLOW_SLOTS },
	{ SL_FO_LD_FLAGS, BPF_MAP_TYPE_ARRAY, K4, sizeof(uint32_t), 0 },
	{ SL_FO_PATHS, BPF_MAP_TYPE_HASH, sizeof(struct sl_fabric_path_key),
	  sizeof(struct sl_fabric_path), 0 },
};
#undef K4

struct sl_fabric *sl_fabric_open(const char *pin_dir, struct sl_err *err)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	struct sl_fabric *f;
	uint32_t entries[SL_FO_N] = { 0 };
	size_t i;
	int ret;

	f = fabric_alloc(err);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	ret = pin_path(path, pin_dir, SL_FABRIC_PIN_PROG, err);
	if (ret < 0)
		goto fail;
	f->fd[SL_FO_PROG] = bpf_obj_get(path);
	if (f->fd[SL_FO_PROG] < 0) {
		ret = sl_err_set(err, errno, "fabric: open %s: %s", path,
				 strerror(errno));
		goto fail;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(f->fd[SL_FO_PROG], &info, &len) < 0 ||
	    info.type != BPF_PROG_TYPE_SCHED_CLS) {
		ret = sl_err_set(err, EPROTO, "fabric: %s is not a tc program",
				 path);
		goto fail;
	}
	for (i = 0; i < sizeof(map_layout) / sizeof(map_layout[0]); i++) {
		enum sl_fabric_obj o = map_layout[i].obj;

		ret = open_map(pin_dir, pin_names[o], map_layout[i].type,
			       map_layout[i].key_size,
			       map_layout[i].value_size,
			       map_layout[i].max_entries, &f->fd[o],
			       &entries[o], err);
		if (ret < 0)
			goto fail;
	}
	if (entries[SL_FO_STATS] < 2 || entries[SL_FO_STATS] % 2 ||
	    entries[SL_FO_PORTS] != entries[SL_FO_STATS] ||
	    entries[SL_FO_POLICY] != entries[SL_FO_STATS] ||
	    entries[SL_FO_BUCKET] != entries[SL_FO_STATS] ||
	    entries[SL_FO_LD_FLAGS] != entries[SL_FO_STATS]) {
		ret = sl_err_set(err, EPROTO,
				 "fabric: %s: ports (%u entries), stats (%u), policy (%u), bucket (%u) and ld_flags (%u) do not match",
				 pin_dir, entries[SL_FO_PORTS],
				 entries[SL_FO_STATS], entries[SL_FO_POLICY],
				 entries[SL_FO_BUCKET],
				 entries[SL_FO_LD_FLAGS]);
		goto fail;
	}
	f->max_links = entries[SL_FO_STATS] / 2;
	f->max_paths = entries[SL_FO_PATHS];
	return f;
fail:
	sl_fabric_free(f);
	errno = -ret;
	return NULL;
}

uint32_t sl_fabric_max_links(const struct sl_fabric *f)
{
	return f->max_links;
}

int sl_fabric_prog_fd(const struct sl_fabric *f)
{
	return f->fd[SL_FO_PROG];
}

/* ---- tc attach */

/*
 * libbpf prints the kernel's extack message as a warning; capturing it keeps
 * the expected "Exclusivity flag on" of an existing clsact qdisc off stderr
 * and puts the kernel's reason into real errors. A clsact qdisc this call
 * made is removed again when the filter cannot be attached, so a failure
 * leaves the interface as it was.
 */
int sl_fabric_attach(struct sl_fabric *f, int ifindex, struct sl_err *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_FABRIC_TC_HANDLE,
		    .priority = SL_FABRIC_TC_PRIO, .prog_fd = f->fd[SL_FO_PROG],
		    .flags = BPF_TC_F_REPLACE);
	struct sl_bpf_capture cap;
	bool created;
	int ret;

	if (ifindex <= 0)
		return sl_err_set(err, EINVAL,
				  "fabric: attach: bad ifindex %d", ifindex);
	sl_bpf_capture_begin(&cap);
	ret = bpf_tc_hook_create(&hook);
	created = ret == 0;
	if (ret < 0 && ret != -EEXIST) {
		ret = sl_bpf_attach_error(err, ret, "fabric", SL_FABRIC_PROG_NAME,
					  ifindex, "tc ingress (clsact qdisc)");
		goto out;
	}
	sl_bpf_capture_reset();
	ret = bpf_tc_attach(&hook, &opts);
	if (ret < 0) {
		ret = sl_bpf_attach_error(err, ret, "fabric", SL_FABRIC_PROG_NAME,
					  ifindex, "tc ingress");
		if (created) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
out:
	sl_bpf_capture_end(&cap);
	return ret < 0 ? ret : 0;
}

int sl_fabric_detach(struct sl_fabric *f, int ifindex, struct sl_err *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_FABRIC_TC_HANDLE,
		    .priority = SL_FABRIC_TC_PRIO);
	struct sl_bpf_capture cap;
	char what[64];
	int ret;

	sl_bpf_capture_begin(&cap);
	ret = bpf_tc_detach(&hook, &opts);
	/* ENOENT: no such filter; EINVAL: the kernel found no filter chain
	 * (no filter at all, or no clsact qdisc). Both mean detached. */
	if (ret == -ENOENT || ret == -EINVAL)
		ret = 0;
	if (ret < 0) {
		snprintf(what, sizeof(what),
			 "fabric: ifindex %d: detach tc ingress filter",
			 ifindex);
		ret = sl_bpf_captured_error(err, ret, what);
	}
	sl_bpf_capture_end(&cap);
	return ret;
}

/* ---- maps */

/* The mirror of a port's flags that compressed paths read per link. */
static int ld_flags_set(struct sl_fabric *f, uint32_t ld, uint32_t flags,
			struct sl_err *err)
{
	if (bpf_map_update_elem(f->fd[SL_FO_LD_FLAGS], &ld, &flags,
				BPF_ANY) < 0)
		return sl_err_set(err, errno,
				  "fabric: ld_flags %u: update: %s", ld,
				  strerror(errno));
	return 0;
}

int sl_fabric_port_set(struct sl_fabric *f, uint32_t ifindex,
		       const struct sl_fabric_port *p, struct sl_err *err)
{
	size_t i;

	if (p->link >= f->max_links)
		return sl_err_set(err, EINVAL,
				  "fabric: port %u: link %u out of range (max %u links)",
				  ifindex, p->link, f->max_links);
	if (p->dir > 1)
		return sl_err_set(err, EINVAL, "fabric: port %u: bad dir %u",
				  ifindex, p->dir);
	if (ifindex == 0 || p->peer_ifindex == 0)
		return sl_err_set(err, EINVAL,
				  "fabric: port %u: ifindex 0 (port or peer)",
				  ifindex);
	for (i = 0; i < sizeof(p->reserved) / sizeof(p->reserved[0]); i++)
		if (p->reserved[i])
			return sl_err_set(err, EINVAL,
					  "fabric: port %u: reserved fields must be zero",
					  ifindex);
	if (p->pad)
		return sl_err_set(err, EINVAL,
				  "fabric: port %u: pad must be zero", ifindex);
	if (bpf_map_update_elem(f->fd[SL_FO_PORTS], &ifindex, p, BPF_ANY) < 0)
		return sl_err_set(err, errno, "fabric: port %u: update: %s",
				  ifindex, strerror(errno));
	return ld_flags_set(f, p->link * 2 + p->dir, p->flags, err);
}

int sl_fabric_port_get(struct sl_fabric *f, uint32_t ifindex,
		       struct sl_fabric_port *out, struct sl_err *err)
{
	if (bpf_map_lookup_elem(f->fd[SL_FO_PORTS], &ifindex, out) < 0)
		return sl_err_set(err, errno, "fabric: port %u: %s", ifindex,
				  errno == ENOENT ? "no such port"
						  : strerror(errno));
	return 0;
}

int sl_fabric_port_del(struct sl_fabric *f, uint32_t ifindex,
		       struct sl_err *err)
{
	struct sl_fabric_port p;
	int have = bpf_map_lookup_elem(f->fd[SL_FO_PORTS], &ifindex, &p) == 0;

	if (bpf_map_delete_elem(f->fd[SL_FO_PORTS], &ifindex) < 0)
		return sl_err_set(err, errno, "fabric: port %u: delete: %s",
				  ifindex,
				  errno == ENOENT ? "no such port"
						  : strerror(errno));
	if (have && p.link < f->max_links && p.dir <= 1)
		return ld_flags_set(f, p.link * 2 + p.dir, 0, err);
	return 0;
}

static int sum_percpu(struct sl_fabric *f, int fd, uint32_t key,
		      struct sl_fabric_stats *out, struct sl_err *err)
{
	int i;

	if (bpf_map_lookup_elem(fd, &key, f->percpu) < 0)
		return sl_err_set(err, errno, "fabric: stats %u: %s", key,
				  strerror(errno));
	memset(out, 0, sizeof(*out));
	for (i = 0; i < f->ncpus; i++) {
		out->packets += f->percpu[i].packets;
		out->bytes += f->percpu[i].bytes;
		out->drop_down += f->percpu[i].drop_down;
		out->drop_noport += f->percpu[i].drop_noport;
		out->drop_policer += f->percpu[i].drop_policer;
		out->drop_loss += f->percpu[i].drop_loss;
		out->normal += f->percpu[i].normal;
		out->compressed += f->percpu[i].compressed;
	}
	return 0;
}

int sl_fabric_stats_get(struct sl_fabric *f, uint32_t link, uint32_t dir,
			struct sl_fabric_stats *out, struct sl_err *err)
{
	if (link >= f->max_links || dir > 1)
		return sl_err_set(err, EINVAL,
				  "fabric: stats: link %u dir %u out of range (max %u links)",
				  link, dir, f->max_links);
	return sum_percpu(f, f->fd[SL_FO_STATS], link * 2 + dir, out, err);
}

int sl_fabric_stats_reset(struct sl_fabric *f, uint32_t link,
			  struct sl_err *err)
{
	struct sl_fabric_bucket b;
	uint32_t key;

	if (link >= f->max_links)
		return sl_err_set(err, EINVAL,
				  "fabric: stats: link %u out of range (max %u links)",
				  link, f->max_links);
	memset(f->percpu, 0, (size_t)f->ncpus * sizeof(*f->percpu));
	memset(&b, 0, sizeof(b));
	for (key = link * 2; key <= link * 2 + 1; key++) {
		if (bpf_map_update_elem(f->fd[SL_FO_STATS], &key, f->percpu,
					BPF_ANY) < 0)
			return sl_err_set(err, errno,
					  "fabric: stats %u: reset: %s", key,
					  strerror(errno));
		if (bpf_map_update_elem(f->fd[SL_FO_BUCKET], &key, &b,
					BPF_F_LOCK) < 0)
			return sl_err_set(err, errno,
					  "fabric: bucket %u: reset: %s", key,
					  strerror(errno));
	}
	return 0;
}

int sl_fabric_global_get(struct sl_fabric *f, struct sl_fabric_stats *out,
			 struct sl_err *err)
{
	return sum_percpu(f, f->fd[SL_FO_GLOBAL], 0, out, err);
}

/* ---- policy */

static int policy_key(struct sl_fabric *f, uint32_t link, uint32_t dir,
		      uint32_t *key, struct sl_err *err)
{
	if (link >= f->max_links || dir > 1)
		return sl_err_set(err, EINVAL,
				  "fabric: policy: link %u dir %u out of range (max %u links)",
				  link, dir, f->max_links);
	*key = link * 2 + dir;
	return 0;
}

int sl_fabric_policy_set(struct sl_fabric *f, uint32_t link, uint32_t dir,
			 const struct sl_fabric_policy *p, struct sl_err *err)
{
	struct sl_fabric_policy_val v;
	uint32_t key;
	int ret;

	ret = policy_key(f, link, dir, &key, err);
	if (ret < 0)
		return ret;
	if (p->policer_bps > SL_POLICER_RATE_MAX)
		return sl_err_set(err, EINVAL,
				  "fabric: policy of link %u dir %u: policer rate %llu bit/s above the limit %llu",
				  link, dir,
				  (unsigned long long)p->policer_bps,
				  (unsigned long long)SL_POLICER_RATE_MAX);
	if (p->policer_bps &&
	    (p->burst == 0 || p->burst > SL_POLICER_BURST_MAX))
		return sl_err_set(err, EINVAL,
				  "fabric: policy of link %u dir %u: burst %u bytes; expected 1 to %u with a policer",
				  link, dir, p->burst, SL_POLICER_BURST_MAX);
	if (!p->policer_bps && p->burst)
		return sl_err_set(err, EINVAL,
				  "fabric: policy of link %u dir %u: burst %u without a policer rate",
				  link, dir, p->burst);
	if (p->loss_ppm > 1000000)
		return sl_err_set(err, EINVAL,
				  "fabric: policy of link %u dir %u: loss %u ppm above 1000000",
				  link, dir, p->loss_ppm);
	memset(&v, 0, sizeof(v));
	v.rate_bps = p->policer_bps;
	v.burst = p->burst;
	v.loss_ppm = p->loss_ppm;
	if (v.rate_bps)
		v.fill_ns = ((uint64_t)v.burst * SL_NBIT_PER_BYTE +
			     v.rate_bps - 1) / v.rate_bps;
	if (bpf_map_update_elem(f->fd[SL_FO_POLICY], &key, &v, BPF_ANY) < 0)
		return sl_err_set(err, errno,
				  "fabric: policy of link %u dir %u: update: %s",
				  link, dir, strerror(errno));
	return 0;
}

int sl_fabric_policy_get(struct sl_fabric *f, uint32_t link, uint32_t dir,
			 struct sl_fabric_policy *out, struct sl_err *err)
{
	struct sl_fabric_policy_val v;
	uint32_t key;
	int ret;

	ret = policy_key(f, link, dir, &key, err);
	if (ret < 0)
		return ret;
	if (bpf_map_lookup_elem(f->fd[SL_FO_POLICY], &key, &v) < 0)
		return sl_err_set(err, errno,
				  "fabric: policy of link %u dir %u: %s", link,
				  dir, strerror(errno));
	memset(out, 0, sizeof(*out));
	out->policer_bps = v.rate_bps;
	out->burst = v.burst;
	out->loss_ppm = v.loss_ppm;
	return 0;
}
