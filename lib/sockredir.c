// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sockredir.c - loading and attaching the socket-to-socket redirection of
 * max mode L4 (bpf/sockredir.bpf.c), and the per-topology cgroup v2 that
 * scopes it.
 *
 * Why a cgroup: a sockops program is attached to a cgroup v2 directory and
 * sees the sockets of the processes in it, whatever network namespace they
 * live in. So the cgroup, not the namespace, says which sockets belong to a
 * topology; processes run in nodes join <cgroup2>/sluice/<topo>. On this
 * (hybrid) host cgroup v2 is mounted at /sys/fs/cgroup/unified and every
 * process starts in its root, so joining costs one write to cgroup.procs and
 * changes nothing else (no v2 controllers are enabled there).
 *
 * The sockops program is attached with a BPF link (detached when the link
 * fd closes) and the sk_msg program to the sockhash (released with the
 * map), so sl_sockredir_free() leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sluice/bpf_loader.h>
#include <sluice/fabric.h>
#include <sluice/sockredir.h>

#include "sockredir.skel.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

struct sl_sockredir {
	struct sockredir_bpf *skel;
	struct bpf_link *sockops_link;
	int cgroup_fd;
	int msg_attached;
};

/* Makes the skeleton's flows/flow_ctl the fabric's pinned maps, if any. */
static int reuse_flow_maps(struct sockredir_bpf *skel, const char *dir,
			   struct sl_err *err)
{
	static const char *const names[2] = { SL_FABRIC_PIN_FLOWS,
					      SL_FABRIC_PIN_FLOW_CTL };
	struct bpf_map *maps[2] = { skel->maps.flows, skel->maps.flow_ctl };
	char path[512];
	int i, fd, ret;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (access(path, F_OK) != 0)
			return 0; /* no fabric flow table: all max mode */
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			return sl_err_set(err, errno, "sockredir: open %s: %s",
					  path, strerror(errno));
		ret = bpf_map__reuse_fd(maps[i], fd);
		close(fd);
		if (ret)
			return sl_err_set(err, -ret,
					  "sockredir: use %s: %s (a fabric of another build?)",
					  path, strerror(-ret));
	}
	return 0;
}

int sl_sockredir_open(const struct sl_sockredir_opts *o,
		      struct sl_sockredir **out, struct sl_err *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts,
		    .btf_custom_path = sl_bpf_btf_path());
	struct sl_sockredir *s;
	int ret;

	*out = NULL;
	if (!o || !o->cgroup || !o->cgroup[0])
		return sl_err_set(err, EINVAL, "sockredir: no cgroup given");
	s = calloc(1, sizeof(*s));
	if (!s)
		return sl_err_set(err, ENOMEM, "sockredir: out of memory");
	s->cgroup_fd = open(o->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->cgroup_fd < 0) {
		ret = sl_err_set(err, errno, "sockredir: open cgroup %s: %s",
				 o->cgroup, strerror(errno));
		goto fail;
	}
	{
		struct statfs sf;

		if (fstatfs(s->cgroup_fd, &sf) == 0 &&
		    sf.f_type != CGROUP2_SUPER_MAGIC) {
			ret = sl_err_set(err, EINVAL,
					 "sockredir: %s is not in a cgroup v2 hierarchy",
					 o->cgroup);
			goto fail;
		}
	}
	s->skel = sockredir_bpf__open_opts(&open_opts);
	if (!s->skel) {
		ret = sl_err_set(err, errno, "sockredir: open BPF object: %s",
				 strerror(errno));
		goto fail;
	}
	if (o->max_socks) {
		bpf_map__set_max_entries(s->skel->maps.socks, o->max_socks);
		bpf_map__set_max_entries(s->skel->maps.passed, o->max_socks);
	}
	if (o->flows_pin_dir) {
		ret = reuse_flow_maps(s->skel, o->flows_pin_dir, err);
		if (ret)
			goto fail;
	}
	/* names the program and the verifier's or BTF's reason */
	ret = sl_bpf_object_load(s->skel->obj, "sockredir", err);
	if (ret)
		goto fail;
	if (bpf_prog_attach(bpf_program__fd(s->skel->progs.sl_sk_msg),
			    bpf_map__fd(s->skel->maps.socks),
			    BPF_SK_MSG_VERDICT, 0)) {
		ret = sl_err_set(err, errno,
				 "sockredir: attach sk_msg to sockhash: %s",
				 strerror(errno));
		goto fail;
	}
	s->msg_attached = 1;
	s->sockops_link = bpf_program__attach_cgroup(s->skel->progs.sl_sockops,
						     s->cgroup_fd);
	if (!s->sockops_link) {
		ret = sl_err_set(err, errno,
				 "sockredir: attach sockops to cgroup %s: %s",
				 o->cgroup, strerror(errno));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	sl_sockredir_free(s);
	return ret;
}

void sl_sockredir_free(struct sl_sockredir *s)
{
	if (!s)
		return;
	/* Stop entering sockets first, then let the map go (which drops
	 * the sk_msg program from every socket still in it). */
	bpf_link__destroy(s->sockops_link);
	if (s->msg_attached)
		bpf_prog_detach2(bpf_program__fd(s->skel->progs.sl_sk_msg),
				 bpf_map__fd(s->skel->maps.socks),
				 BPF_SK_MSG_VERDICT);
	sockredir_bpf__destroy(s->skel);
	if (s->cgroup_fd >= 0)
		close(s->cgroup_fd);
	free(s);
}

int sl_sockredir_socks_fd(const struct sl_sockredir *s)
{
	return bpf_map__fd(s->skel->maps.socks);
}

int sl_sockredir_stats_read(struct sl_sockredir *s,
			    struct sl_sockredir_stats *out,
			    struct sl_err *err)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct sl_sockredir_stats *v;
	__u32 zero = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return sl_err_set(err, -ncpu, "sockredir: number of CPUs");
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return sl_err_set(err, ENOMEM, "sockredir: out of memory");
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.stats), &zero, v)) {
		int e = errno;

		free(v);
		return sl_err_set(err, e, "sockredir: read stats: %s",
				  strerror(e));
	}
	for (i = 0; i < ncpu; i++) {
		out->established += v[i].established;
		out->entered += v[i].entered;
		out->skip_normal += v[i].skip_normal;
		out->skip_local += v[i].skip_local;
		out->enter_fail += v[i].enter_fail;
		out->msgs_redir += v[i].msgs_redir;
		out->bytes_redir += v[i].bytes_redir;
		out->msgs_pass += v[i].msgs_pass;
		out->bytes_pass += v[i].bytes_pass;
	}
	free(v);
	return 0;
}

/* ---- the cgroup */

int sl_cgroup2_root(char *buf, size_t len, struct sl_err *err)
{
	char dev[256], dir[512], type[64];
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return sl_err_set(err, errno, "open /proc/self/mounts: %s",
				  strerror(errno));
	while (fscanf(f, "%255s %511s %63s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2") == 0) {
			found = 1;
			break;
		}
	}
	fclose(f);
	if (!found)
		return sl_err_set(err, ENOENT,
				  "no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)");
	if ((size_t)snprintf(buf, len, "%s", dir) >= len)
		return sl_err_set(err, ENAMETOOLONG, "cgroup2 path too long");
	return 0;
}

int sl_sockredir_cgroup_create(const char *topo, char *buf, size_t len,
			       struct sl_err *err)
{
	char root[512];
	int ret;

	ret = sl_cgroup2_root(root, sizeof(root), err);
	if (ret)
		return ret;
	if ((size_t)snprintf(buf, len, "%s/sluice", root) >= len)
		return sl_err_set(err, ENAMETOOLONG, "cgroup path too long");
	if (mkdir(buf, 0755) && errno != EEXIST)
		return sl_err_set(err, errno, "mkdir %s: %s", buf,
				  strerror(errno));
	if ((size_t)snprintf(buf, len, "%s/sluice/%s", root, topo) >= len)
		return sl_err_set(err, ENAMETOOLONG, "cgroup path too long");
	if (mkdir(buf, 0755) && errno != EEXIST)
		return sl_err_set(err, errno, "mkdir %s: %s", buf,
				  strerror(errno));
	return 0;
}

static int write_pid(const char *dir, pid_t pid, struct sl_err *err)
{
	char path[600], num[32];
	int fd, n;
	ssize_t w;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_err_set(err, errno, "open %s: %s", path,
				  strerror(errno));
	n = snprintf(num, sizeof(num), "%d\n", (int)(pid ? pid : getpid()));
	w = write(fd, num, (size_t)n);
	if (w != n) {
		int e = w < 0 ? errno : EIO;

		close(fd);
		/* ESRCH: the process is gone, which is not our problem */
		if (e == ESRCH)
			return 0;
		return sl_err_set(err, e, "move %d into %s: %s", (int)pid, dir,
				  strerror(e));
	}
	close(fd);
	return 0;
}

int sl_sockredir_cgroup_join(const char *path, pid_t pid, struct sl_err *err)
{
	return write_pid(path, pid, err);
}

int sl_sockredir_cgroup_remove(const char *path, struct sl_err *err)
{
	char procs[600], root[512];
	int ret, pid;
	FILE *f;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	f = fopen(procs, "re");
	if (!f)
		return errno == ENOENT ? 0 :
		       sl_err_set(err, errno, "open %s: %s", procs,
				  strerror(errno));
	ret = sl_cgroup2_root(root, sizeof(root), err);
	while (!ret && fscanf(f, "%d", &pid) == 1)
		ret = write_pid(root, pid, err);
	fclose(f);
	if (ret)
		return ret;
	if (rmdir(path) && errno != ENOENT)
		return sl_err_set(err, errno, "rmdir %s: %s", path,
				  strerror(errno));
	/* The shared parent <root>/sluice goes with its last topology. */
	snprintf(procs, sizeof(procs), "%s/sluice", root);
	rmdir(procs);
	return 0;
}
