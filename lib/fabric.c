// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fabric.c - loading, pinning, reopening and attaching the kernel fabric
 * (bpf/fabric.bpf.c), and reading and writing its maps.
 *
 * A struct sl_fabric is only four fds: after sl_fabric_create() pins the
 * program and maps, the skeleton is destroyed and the fds are duplicates, so
 * a created and a reopened fabric behave the same. The pins, not the fds,
 * own the kernel objects; sl_fabric_unpin() releases them.
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

#include <sluice/fabric.h>

#include "fabric.skel.h"

struct sl_fabric {
	int prog_fd;
	int ports_fd;
	int stats_fd;
	int global_fd;
	uint32_t max_links;
	int ncpus;
	struct sl_fabric_stats *percpu; /* ncpus values: lookup buffer */
};

/* ---- libbpf's log, captured while this thread loads the program.
 * libbpf_set_print() is process-wide: the capture is installed only around
 * the load and the previous printer is restored afterwards. */

#define SL_LOG_LINE 200

static __thread struct {
	int active;
	char first_warn[SL_LOG_LINE]; /* the first warning libbpf printed */
	char verifier[SL_LOG_LINE];   /* the verifier's last line */
} log_cap;

static void copy_line(char *dst, const char *src, size_t n)
{
	size_t i;

	if (strncmp(src, "libbpf: ", 8) == 0)
		src += 8;
	for (i = 0; i + 1 < SL_LOG_LINE && i < n && src[i] != '\n'; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

__attribute__((format(printf, 2, 0)))
static int capture_print(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	const char *end, *line;
	char *s = NULL;
	va_list aq;

	if (getenv("SLUICE_LIBBPF_DEBUG")) {
		va_copy(aq, ap);
		vfprintf(stderr, fmt, aq);
		va_end(aq);
	}
	if (!log_cap.active || level != LIBBPF_WARN)
		return 0;
	if (vasprintf(&s, fmt, ap) < 0)
		return 0;
	if (!log_cap.first_warn[0])
		copy_line(log_cap.first_warn, s, strlen(s));
	end = strstr(s, "-- END PROG LOAD LOG --");
	while (end && end > s) {
		/* the verifier's complaint: the last line before the end
		 * marker that is not one of its statistics lines */
		while (end > s && end[-1] == '\n')
			end--;
		line = end;
		while (line > s && line[-1] != '\n')
			line--;
		if (strncmp(line, "processed ", 10) != 0 &&
		    strncmp(line, "verification time", 17) != 0) {
			copy_line(log_cap.verifier, line,
				  (size_t)(end - line));
			break;
		}
		end = line;
	}
	free(s);
	return 0;
}

static libbpf_print_fn_t capture_start(void)
{
	memset(&log_cap, 0, sizeof(log_cap));
	log_cap.active = 1;
	return libbpf_set_print(capture_print);
}

static void capture_stop(libbpf_print_fn_t old)
{
	libbpf_set_print(old);
	log_cap.active = 0;
}

/* "<what>: <strerror>[; libbpf: <first warning>][; verifier: <last line>]" */
static int captured_error(struct sl_err *err, int ret, const char *what)
{
	if (ret > 0)
		ret = -ret;
	if (ret == 0)
		ret = -EINVAL;
	return sl_err_set(err, ret, "%s: %s%s%s%s%s", what, strerror(-ret),
			  log_cap.first_warn[0] ? "; libbpf: " : "",
			  log_cap.first_warn,
			  log_cap.verifier[0] ? "; verifier: " : "",
			  log_cap.verifier);
}

/* ---- pins */

static const char *const pin_names[] = {
	SL_FABRIC_PIN_PROG,
	SL_FABRIC_PIN_PORTS,
	SL_FABRIC_PIN_STATS,
	SL_FABRIC_PIN_GLOBAL,
};

#define N_PINS (sizeof(pin_names) / sizeof(pin_names[0]))

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
	int ncpus = libbpf_num_possible_cpus();

	if (ncpus <= 0) {
		sl_err_set(err, ncpus ? ncpus : -EINVAL,
			   "fabric: cannot count possible CPUs: %s",
			   strerror(ncpus ? -ncpus : EINVAL));
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f)
		f->percpu = calloc((size_t)ncpus, sizeof(*f->percpu));
	if (!f || !f->percpu) {
		free(f);
		sl_err_set(err, ENOMEM, "fabric: out of memory");
		return NULL;
	}
	f->ncpus = ncpus;
	f->prog_fd = f->ports_fd = f->stats_fd = f->global_fd = -1;
	return f;
}

void sl_fabric_free(struct sl_fabric *f)
{
	if (!f)
		return;
	if (f->prog_fd >= 0)
		close(f->prog_fd);
	if (f->ports_fd >= 0)
		close(f->ports_fd);
	if (f->stats_fd >= 0)
		close(f->stats_fd);
	if (f->global_fd >= 0)
		close(f->global_fd);
	free(f->percpu);
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
	struct fabric_bpf *skel = NULL;
	struct sl_fabric *f = NULL;
	libbpf_print_fn_t old_print;
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

	old_print = capture_start();
	skel = fabric_bpf__open();
	if (!skel) {
		ret = captured_error(err, -errno,
				 "fabric: opening BPF object fabric_bpf");
		capture_stop(old_print);
		goto fail;
	}
	ret = bpf_map__set_max_entries(skel->maps.ports, 2 * max_links);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.stats,
					       2 * max_links);
	if (ret < 0) {
		ret = captured_error(err, ret, "fabric: sizing maps");
		capture_stop(old_print);
		goto fail;
	}
	ret = fabric_bpf__load(skel);
	if (ret < 0) {
		ret = captured_error(err, ret,
				 "fabric: loading program sl_fabric_ingress");
		capture_stop(old_print);
		goto fail;
	}
	capture_stop(old_print);

	fds[0] = bpf_program__fd(skel->progs.sl_fabric_ingress);
	fds[1] = bpf_map__fd(skel->maps.ports);
	fds[2] = bpf_map__fd(skel->maps.stats);
	fds[3] = bpf_map__fd(skel->maps.global);
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
	if ((ret = dup_fd(fds[0], &f->prog_fd, err)) < 0 ||
	    (ret = dup_fd(fds[1], &f->ports_fd, err)) < 0 ||
	    (ret = dup_fd(fds[2], &f->stats_fd, err)) < 0 ||
	    (ret = dup_fd(fds[3], &f->global_fd, err)) < 0)
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

/* Opens one pin and checks that it is a map of the layout this build uses. */
static int open_map(const char *pin_dir, const char *name, uint32_t type,
		    uint32_t value_size, uint32_t max_entries, int *fd_out,
		    uint32_t *max_out, struct sl_err *err)
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
	if (info.type != type || info.key_size != sizeof(uint32_t) ||
	    info.value_size != value_size ||
	    (max_entries && info.max_entries != max_entries)) {
		close(fd);
		return sl_err_set(err, EPROTO,
				  "fabric: %s: map type %u key %u value %u entries %u, this build expects type %u key 4 value %u (pinned by another sluice version? unpin it)",
				  path, info.type, info.key_size,
				  info.value_size, info.max_entries, type,
				  value_size);
	}
	*fd_out = fd;
	if (max_out)
		*max_out = info.max_entries;
	return 0;
}

struct sl_fabric *sl_fabric_open(const char *pin_dir, struct sl_err *err)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	struct sl_fabric *f;
	uint32_t nports = 0, nstats = 0;
	int ret;

	f = fabric_alloc(err);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	ret = pin_path(path, pin_dir, SL_FABRIC_PIN_PROG, err);
	if (ret < 0)
		goto fail;
	f->prog_fd = bpf_obj_get(path);
	if (f->prog_fd < 0) {
		ret = sl_err_set(err, errno, "fabric: open %s: %s", path,
				 strerror(errno));
		goto fail;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(f->prog_fd, &info, &len) < 0 ||
	    info.type != BPF_PROG_TYPE_SCHED_CLS) {
		ret = sl_err_set(err, EPROTO, "fabric: %s is not a tc program",
				 path);
		goto fail;
	}
	if ((ret = open_map(pin_dir, SL_FABRIC_PIN_PORTS, BPF_MAP_TYPE_HASH,
			    sizeof(struct sl_fabric_port), 0, &f->ports_fd,
			    &nports, err)) < 0 ||
	    (ret = open_map(pin_dir, SL_FABRIC_PIN_STATS,
			    BPF_MAP_TYPE_PERCPU_ARRAY,
			    sizeof(struct sl_fabric_stats), 0, &f->stats_fd,
			    &nstats, err)) < 0 ||
	    (ret = open_map(pin_dir, SL_FABRIC_PIN_GLOBAL,
			    BPF_MAP_TYPE_PERCPU_ARRAY,
			    sizeof(struct sl_fabric_stats), 1, &f->global_fd,
			    NULL, err)) < 0)
		goto fail;
	if (nstats < 2 || nstats % 2 || nports != nstats) {
		ret = sl_err_set(err, EPROTO,
				 "fabric: %s: ports (%u entries) and stats (%u) do not match",
				 pin_dir, nports, nstats);
		goto fail;
	}
	f->max_links = nstats / 2;
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
	return f->prog_fd;
}

/* ---- tc attach */

/*
 * libbpf prints the kernel's extack message as a warning; capturing it keeps
 * the expected "Exclusivity flag on" of an existing clsact qdisc off stderr
 * and puts the kernel's reason into real errors.
 */
int sl_fabric_attach(struct sl_fabric *f, int ifindex, struct sl_err *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_FABRIC_TC_HANDLE,
		    .priority = SL_FABRIC_TC_PRIO, .prog_fd = f->prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	libbpf_print_fn_t old_print;
	char what[64];
	int ret;

	if (ifindex <= 0)
		return sl_err_set(err, EINVAL,
				  "fabric: attach: bad ifindex %d", ifindex);
	old_print = capture_start();
	ret = bpf_tc_hook_create(&hook);
	if (ret < 0 && ret != -EEXIST) {
		snprintf(what, sizeof(what),
			 "fabric: ifindex %d: create clsact qdisc", ifindex);
		ret = captured_error(err, ret, what);
		goto out;
	}
	memset(log_cap.first_warn, 0, sizeof(log_cap.first_warn));
	ret = bpf_tc_attach(&hook, &opts);
	if (ret < 0) {
		snprintf(what, sizeof(what),
			 "fabric: ifindex %d: attach tc ingress filter",
			 ifindex);
		ret = captured_error(err, ret, what);
	}
out:
	capture_stop(old_print);
	return ret < 0 ? ret : 0;
}

int sl_fabric_detach(struct sl_fabric *f, int ifindex, struct sl_err *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_FABRIC_TC_HANDLE,
		    .priority = SL_FABRIC_TC_PRIO);
	libbpf_print_fn_t old_print;
	char what[64];
	int ret;

	old_print = capture_start();
	ret = bpf_tc_detach(&hook, &opts);
	/* ENOENT: no such filter; EINVAL: the kernel found no filter chain
	 * (no filter at all, or no clsact qdisc). Both mean detached. */
	if (ret == -ENOENT || ret == -EINVAL)
		ret = 0;
	if (ret < 0) {
		snprintf(what, sizeof(what),
			 "fabric: ifindex %d: detach tc ingress filter",
			 ifindex);
		ret = captured_error(err, ret, what);
	}
	capture_stop(old_print);
	return ret;
}

/* ---- maps */

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
	if (bpf_map_update_elem(f->ports_fd, &ifindex, p, BPF_ANY) < 0)
		return sl_err_set(err, errno, "fabric: port %u: update: %s",
				  ifindex, strerror(errno));
	return 0;
}

int sl_fabric_port_get(struct sl_fabric *f, uint32_t ifindex,
		       struct sl_fabric_port *out, struct sl_err *err)
{
	if (bpf_map_lookup_elem(f->ports_fd, &ifindex, out) < 0)
		return sl_err_set(err, errno, "fabric: port %u: %s", ifindex,
				  errno == ENOENT ? "no such port"
						  : strerror(errno));
	return 0;
}

int sl_fabric_port_del(struct sl_fabric *f, uint32_t ifindex,
		       struct sl_err *err)
{
	if (bpf_map_delete_elem(f->ports_fd, &ifindex) < 0)
		return sl_err_set(err, errno, "fabric: port %u: delete: %s",
				  ifindex,
				  errno == ENOENT ? "no such port"
						  : strerror(errno));
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
	return sum_percpu(f, f->stats_fd, link * 2 + dir, out, err);
}

int sl_fabric_stats_reset(struct sl_fabric *f, uint32_t link,
			  struct sl_err *err)
{
	uint32_t key;

	if (link >= f->max_links)
		return sl_err_set(err, EINVAL,
				  "fabric: stats: link %u out of range (max %u links)",
				  link, f->max_links);
	memset(f->percpu, 0, (size_t)f->ncpus * sizeof(*f->percpu));
	for (key = link * 2; key <= link * 2 + 1; key++)
		if (bpf_map_update_elem(f->stats_fd, &key, f->percpu,
					BPF_ANY) < 0)
			return sl_err_set(err, errno,
					  "fabric: stats %u: reset: %s", key,
					  strerror(errno));
	return 0;
}

int sl_fabric_global_get(struct sl_fabric *f, struct sl_fabric_stats *out,
			 struct sl_err *err)
{
	return sum_percpu(f, f->global_fd, 0, out, err);
}
