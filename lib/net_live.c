// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * net_live.c - a topology after its bring-up (lib/net.c): adopting it
 * again when sluiced restarts (topology.json, links.down, the pinned
 * fabric, socket redirection and the normal-mode links), setting links
 * down and up at runtime, a node's rtnetlink socket, the topologies with
 * state under the run dir, and sl_net_free().
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sluice/addr.h>
#include <sluice/bpffs.h>
#include <sluice/dataplane.h>
#include <sluice/fabric.h>
#include <sluice/net.h>
#include <sluice/netlink.h>
#include <sluice/sockredir.h>

#include "net_int.h"

static int read_text(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	long sz;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	*out = malloc((size_t)sz + 1);
	if (!*out) {
		fclose(f);
		return -ENOMEM;
	}
	*len = fread(*out, 1, (size_t)sz, f);
	(*out)[*len] = '\0';
	fclose(f);
	return 0;
}

/* Hands the normal-mode links of an adopted net to the dataplane again. */
static int adopt_dataplane(struct sl_net *n, struct sl_err *err)
{
	const struct sl_topo *t = n->topo;
	char ns[128];
	uint32_t l;
	int fd, ret = 0;

	n->normal = calloc((size_t)t->n_links + 1, sizeof(*n->normal));
	if (!n->normal)
		return sl_err_set(err, ENOMEM, "out of memory");
	for (l = 0; l < t->n_links && !ret; l++) {
		struct sl_link_plan lp;

		ret = sl_link_plan(t, l, n->dp != NULL, -1, NULL, &lp, err);
		n->normal[l] = !ret && lp.normal;
	}
	if (ret || !n->dp)
		return ret;
	sl_netns_fabric(t->name, ns, sizeof(ns));
	fd = sl_netns_open(ns, err);
	if (fd < 0)
		return fd;
	for (l = 0; l < t->n_links && !ret; l++) {
		struct sl_dataplane_link dl = {
			.topo = t->name, .link = l, .fabric_netns_fd = fd,
			.ifindex = { sl_port_ifindex(l, 0), sl_port_ifindex(l, 1) },
			.policy = { t->links[l].policy[0], t->links[l].policy[1] },
			.seed = 0x5eed0000ull + l,
		};

		if (n->normal[l])
			ret = sl_dataplane_add_link(n->dp, &dl, err);
	}
	close(fd);
	return ret;
}

int sl_net_adopt(const char *rundir, const char *name, struct sl_dataplane *dp,
		 struct sl_net **out, struct sl_err *err)
{
	char dir[256], path[300], pins[256], *text = NULL, *p;
	struct sl_topo *t = NULL;
	struct sl_net *n;
	struct stat st;
	size_t len = 0;
	int ret;

	sl_net_topo_dir(rundir, name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/topology.json", dir);
	ret = read_text(path, &text, &len);
	if (ret)
		return sl_err_set(err, -ret, "read %s: %s", path,
				  strerror(-ret));
	ret = sl_topo_parse(text, len, path, &t, err);
	free(text);
	if (ret)
		return ret;
	n = calloc(1, sizeof(*n));
	if (!n) {
		sl_topo_free(t);
		return sl_err_set(err, ENOMEM, "out of memory");
	}
	n->topo = t;
	n->dp = dp;
	snprintf(n->dir, sizeof(n->dir), "%s", dir);
	n->created = stat(path, &st) ? time(NULL) : st.st_mtime;
	snprintf(pins, sizeof(pins), "%s/%s", SL_BPFFS_DIR, name);
	n->fabric = sl_fabric_open(pins, err);
	if (!n->fabric) {
		sl_net_free(n);
		return -EIO;
	}
	/* Socket redirection is not pinned: attach it again. */
	{
		struct sl_sockredir_opts o = { 0 };
		char root[256], cg[256];
		struct sl_err e;

		if (t->socket_redirect && !sl_cgroup2_root(root, sizeof(root), &e)) {
			snprintf(cg, sizeof(cg), "%.200s/sluice/%.31s", root, name);
			if (access(cg, F_OK) == 0) {
				snprintf(n->cgroup, sizeof(n->cgroup), "%s", cg);
				o.cgroup = n->cgroup;
				o.flows_pin_dir = pins;
				if (sl_sockredir_open(&o, &n->sockredir, &e))
					snprintf(n->note, sizeof(n->note),
						 "no socket redirection: %.200s", e.msg);
			}
		}
	}
	/* Runtime link state survives in links.down. */
	snprintf(path, sizeof(path), "%s/links.down", dir);
	if (!read_text(path, &text, &len)) {
		for (p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) {
			unsigned long l = strtoul(p, NULL, 10);

			if (l < t->n_links)
				t->links[l].down = true;
		}
		free(text);
	}
	ret = adopt_dataplane(n, err);
	if (ret) {
		sl_net_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

void sl_net_free(struct sl_net *n)
{
	if (!n)
		return;
	/* Its normal-mode links stop with it (XDP detached: the ports fall
	 * back to the fabric program until the net is adopted again). */
	if (n->dp && n->topo)
		sl_dataplane_remove_topology(n->dp, n->topo->name);
	free(n->normal);
	sl_sockredir_free(n->sockredir);
	sl_fabric_free(n->fabric);
	sl_topo_free(n->topo);
	free(n);
}

static int save_link_state(struct sl_net *n, struct sl_err *err)
{
	size_t cap = 16 + (size_t)n->topo->n_links * 12, len = 0;
	char path[300], *buf = malloc(cap);
	uint32_t l;
	int ret;

	if (!buf)
		return sl_err_set(err, ENOMEM, "out of memory");
	buf[0] = '\0';
	for (l = 0; l < n->topo->n_links; l++)
		if (n->topo->links[l].down)
			len += (size_t)snprintf(buf + len, cap - len, "%u\n", l);
	snprintf(path, sizeof(path), "%s/links.down", n->dir);
	ret = sl_net_write_file(path, buf, err);
	free(buf);
	return ret;
}

int sl_net_link_set(struct sl_net *n, uint32_t link, bool up,
		    struct sl_err *err)
{
	struct sl_link *lk;
	struct sl_nl *nl;
	char ns[128];
	int fd, s, ret = 0;

	if (link >= n->topo->n_links)
		return sl_err_set(err, ENOENT, "no link %u", link);
	lk = &n->topo->links[link];
	/* The map flag stops traffic at once; taking the fabric ports down
	 * also drops the carrier seen inside the nodes, as a pulled cable. */
	for (s = 0; s < 2 && !ret; s++) {
		struct sl_fabric_port p;
		uint32_t ifi = (uint32_t)sl_port_ifindex(link, s);

		ret = sl_fabric_port_get(n->fabric, ifi, &p, err);
		if (ret)
			break;
		p.flags = up ? (p.flags | SL_PORT_UP) :
			       (uint8_t)(p.flags & ~SL_PORT_UP);
		ret = sl_fabric_port_set(n->fabric, ifi, &p, err);
	}
	if (ret)
		return ret;
	sl_netns_fabric(n->topo->name, ns, sizeof(ns));
	fd = sl_netns_open(ns, err);
	if (fd < 0)
		return fd;
	nl = sl_nl_open(fd, err);
	close(fd);
	if (!nl)
		return -EIO;
	for (s = 0; s < 2 && !ret; s++)
		ret = sl_nl_link_set(nl, sl_port_ifindex(link, s),
				     lk->ep[s].port, up, 0, err);
	ret = ret ?: sl_nl_flush(nl, err);
	sl_nl_free(nl);
	if (ret)
		return ret;
	lk->down = !up;
	return save_link_state(n, err);
}

/* Opens an rtnetlink socket inside a node of a live topology. */
struct sl_nl *sl_net_node_nl(const struct sl_net *n, uint32_t node,
			     struct sl_err *err)
{
	struct sl_nl *nl;
	char ns[128];
	int fd;

	sl_netns_node(n->topo->name, n->topo->nodes[node].name, ns, sizeof(ns));
	fd = sl_netns_open(ns, err);
	if (fd < 0)
		return NULL;
	nl = sl_nl_open(fd, err);
	close(fd);
	return nl;
}

int sl_net_list_dirs(const char *rundir, char ***names, size_t *n)
{
	char path[300];
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0;
	DIR *d;

	*names = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/topo", rundir);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char **nv;

		if (e->d_name[0] == '.')
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[cnt] = strdup(e->d_name);
		if (v[cnt])
			cnt++;
	}
	closedir(d);
	*names = v;
	*n = cnt;
	return 0;
}
