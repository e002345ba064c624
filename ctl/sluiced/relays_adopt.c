// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relays_adopt.c - relay chains across a restart of sluiced.
 *
 * The sluice-relay processes outlive the daemon: SIGTERM leaves the
 * topologies up, and kill -9 leaves everything. So the chains of each
 * topology are kept in <rundir>/topo/<topo>/relays.json, rewritten (write,
 * then rename) whenever one changes, and they go with that directory when
 * the topology goes down.
 *
 * When a restarted sluiced re-adopts a topology it takes the chains back
 * whose every hop is still the process started for it: the pid's start
 * time is the one recorded (a reused pid has another) and its command
 * line is the one that hop was started with (relay_hop_argv). The check
 * holds a pidfd of the process first, so that what is checked is what is
 * later signalled. A chain that fails it is broken (a hop ended) or no
 * longer ours: its hops that pass are stopped, the others left alone, and
 * the log says why. Last, every relay process the topology's journal
 * lists that still runs, is a sluice-relay of that topology and belongs
 * to no adopted chain (sluiced died between starting it and saving the
 * state) is stopped: a restart leaks no process.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>

#include <sluice/addr.h>
#include <sluice/journal.h>
#include <sluice/log.h>

#include "relays.h"

/* The pidfds of adopted hops; level-triggered, a pidfd leaves it when it
 * is closed (relay_hop_stop, relays_reap). */
static int watch_ep = -1;

int relays_fd(void)
{
	if (watch_ep < 0)
		watch_ep = epoll_create1(EPOLL_CLOEXEC);
	return watch_ep;
}

void relay_watch(struct relay_hop *h)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.fd = h->pidfd;
	if (h->pidfd < 0 || relays_fd() < 0 ||
	    epoll_ctl(watch_ep, EPOLL_CTL_ADD, h->pidfd, &ev))
		pr_warn("relay process %d on %s: cannot watch it (%s); its end "
			"goes unnoticed until the chain is listed",
			(int)h->pid, h->node, strerror(errno));
}

static void state_path(struct daemon *d, const char *topo, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%s/topo/%s/" RELAY_STATE_NAME, d->rundir, topo);
}

/* ---- saving ---------------------------------------------------------- */

static json_object *relay_json(const struct relay *r)
{
	json_object *o = json_object_new_object(), *hops = json_object_new_array();
	unsigned k;

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "spec", json_object_new_string(r->spec));
	json_object_object_add(o, "mode", json_object_new_string(r->mode));
	json_object_object_add(o, "controller_id", json_object_new_int64(r->ctl_id));
	json_object_object_add(o, "controller_version",
			       json_object_new_int64(r->ctl_version));
	for (k = 0; k < r->n; k++) {
		const struct relay_hop *h = &r->hop[k];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "node", json_object_new_string(h->node));
		json_object_object_add(j, "pid", json_object_new_int64(h->pid));
		json_object_object_add(j, "start", json_object_new_uint64(h->start));
		json_object_object_add(j, "listen", json_object_new_string(h->listen));
		json_object_object_add(j, "to", json_object_new_string(h->to));
		json_object_array_add(hops, j);
	}
	json_object_object_add(o, "hops", hops);
	return o;
}

void relays_save(struct daemon *d, const char *topo)
{
	char path[400], tmp[420];
	json_object *arr;
	const char *text;
	size_t i, len;
	int fd, e = 0;

	state_path(d, topo, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	arr = json_object_new_array();
	for (i = 0; i < n_relays; i++)
		if (!strcmp(relays[i].topo, topo))
			json_object_array_add(arr, relay_json(&relays[i]));
	text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		/* the topology's directory is gone: so are its chains */
		if (errno != ENOENT)
			e = errno;
	} else {
		if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
			e = errno ? errno : EIO;
		close(fd);
		if (!e && rename(tmp, path))
			e = errno;
		if (e)
			unlink(tmp);
	}
	if (e)
		pr_warn("%s: cannot save the relay chains to %s: %s; a restarted "
			"sluiced stops them instead of taking them back", topo,
			path, strerror(e));
	json_object_put(arr);
}

/* ---- checking a process ---------------------------------------------- */

/* /proc/PID/cmdline as one string with spaces for the NULs (for logs). */
static void cmdline_text(const char *buf, size_t n, char *out, size_t len)
{
	size_t i;

	for (i = 0; i < n && i + 1 < len; i++)
		out[i] = buf[i] ? buf[i] : ' ';
	while (i > 0 && out[i - 1] == ' ')
		i--;
	out[i] = '\0';
}

/* Reads the command line of pid into buf (NUL-separated words); returns
 * its length, or -1. */
static ssize_t read_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Whether the words of cmdline are argv, argv[0] compared by its base
 * name only (the daemon may have found sluice-relay elsewhere). */
static bool cmdline_is(const char *buf, size_t n, const char *const *argv)
{
	const char *w = buf, *end = buf + n, *base = strrchr(argv[0], '/');
	const char *b0 = strrchr(w, '/');
	int i;

	if (strcmp(b0 ? b0 + 1 : w, base ? base + 1 : argv[0]))
		return false;
	for (i = 1, w += strlen(w) + 1; argv[i]; i++, w += strlen(w) + 1)
		if (w >= end || strcmp(w, argv[i]))
			return false;
	return w >= end;
}

/*
 * Whether hop h of a chain of topology topo is still the process that was
 * started for it. On success h->pidfd holds it; else why says what is
 * wrong.
 */
static int hop_check(const char *topo, const char *mode, struct relay_hop *h,
		     char *why, size_t len)
{
	char ns[128], buf[4096], text[300];
	const char *argv[12];
	unsigned long long st;
	ssize_t n;
	int fd;

	if (h->pid <= 0) {
		snprintf(why, len, "its relay on %s had ended", h->node);
		return -ESRCH;
	}
	fd = pidfd_open(h->pid, 0);
	if (fd < 0) {
		snprintf(why, len, "its relay on %s (pid %d) is gone", h->node,
			 (int)h->pid);
		return -ESRCH;
	}
	st = relay_proc_start(h->pid);
	if (!st || st != h->start) {
		snprintf(why, len, "pid %d of its relay on %s is %s", (int)h->pid,
			 h->node, st ? "another process now (another start time)" :
			 "gone");
		close(fd);
		return -ESRCH;
	}
	sl_netns_node(topo, h->node, ns, sizeof(ns));
	relay_hop_argv("sluice-relay", ns, mode, h, argv);
	n = read_cmdline(h->pid, buf, sizeof(buf));
	if (n < 0 || !cmdline_is(buf, (size_t)n, argv)) {
		cmdline_text(buf, n < 0 ? 0 : (size_t)n, text, sizeof(text));
		snprintf(why, len, "pid %d is not its relay on %s (it runs \"%s\")",
			 (int)h->pid, h->node, text);
		close(fd);
		return -ESRCH;
	}
	h->pidfd = fd;
	return 0;
}

/* ---- loading --------------------------------------------------------- */

static int j_str(json_object *o, const char *key, char *out, size_t len,
		 bool empty_ok)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= len ||
	    (!empty_ok && !json_object_get_string_len(v)))
		return -EINVAL;
	snprintf(out, len, "%s", json_object_get_string(v));
	return 0;
}

static int j_int(json_object *o, const char *key, int64_t lo, int64_t hi,
		 int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < lo || json_object_get_int64(v) > hi)
		return -EINVAL;
	*out = json_object_get_int64(v);
	return 0;
}

/* One entry of the state file into r; field names what was wrong. */
static int relay_parse(json_object *o, struct relay *r, const char **field)
{
	json_object *hops;
	int64_t v;
	size_t k;

	memset(r, 0, sizeof(*r));
	if (!json_object_is_type(o, json_type_object))
		return *field = "(entry)", -EINVAL;
	if (j_int(o, "id", 0, UINT32_MAX, &v))
		return *field = "id", -EINVAL;
	r->id = (unsigned)v;
	if (j_str(o, "spec", r->spec, sizeof(r->spec), false))
		return *field = "spec", -EINVAL;
	if (j_str(o, "mode", r->mode, sizeof(r->mode), false))
		return *field = "mode", -EINVAL;
	if (j_int(o, "controller_id", -1, INT64_MAX, &r->ctl_id))
		return *field = "controller_id", -EINVAL;
	if (j_int(o, "controller_version", 0, INT64_MAX, &r->ctl_version))
		return *field = "controller_version", -EINVAL;
	if (!json_object_object_get_ex(o, "hops", &hops) ||
	    !json_object_is_type(hops, json_type_array) ||
	    !json_object_array_length(hops) ||
	    json_object_array_length(hops) > RELAY_HOPS_MAX)
		return *field = "hops", -EINVAL;
	for (k = 0; k < json_object_array_length(hops); k++) {
		json_object *h = json_object_array_get_idx(hops, k);
		struct relay_hop *rh = &r->hop[k];

		rh->pidfd = -1;
		if (j_str(h, "node", rh->node, sizeof(rh->node), false) ||
		    j_str(h, "listen", rh->listen, sizeof(rh->listen), false) ||
		    j_str(h, "to", rh->to, sizeof(rh->to), true) ||
		    j_int(h, "pid", 0, INT32_MAX, &v))
			return *field = "hops[].node, listen, to or pid", -EINVAL;
		rh->pid = (pid_t)v;
		if (j_int(h, "start", 0, INT64_MAX, &v))
			return *field = "hops[].start", -EINVAL;
		rh->start = (unsigned long long)v;
		r->n++;
	}
	return 0;
}

static bool id_taken(unsigned id)
{
	size_t i;

	for (i = 0; i < n_relays; i++)
		if (relays[i].id == id)
			return true;
	return false;
}

/* Takes chain r back when all its hops pass; else stops those that do. */
static void adopt_one(struct daemon *d, struct relay *r)
{
	char why[512] = "";
	unsigned k, bad = 0;

	for (k = 0; k < r->n; k++) {
		char w[400];

		if (hop_check(r->topo, r->mode, &r->hop[k], w, sizeof(w))) {
			if (!bad++)
				snprintf(why, sizeof(why), "%s", w);
		}
	}
	if (bad) {
		pr_warn("%s: relay %u (%s) cannot be taken back: %s; its other "
			"processes are stopped", r->topo, r->id, r->spec, why);
		for (k = 0; k < r->n; k++)
			if (r->hop[k].pidfd >= 0)
				relay_hop_stop(&r->hop[k]);
		return;
	}
	if (id_taken(r->id))
		r->id = relay_next_id;
	if (r->id >= relay_next_id)
		relay_next_id = r->id + 1;
	if (relay_append(r)) {
		pr_warn("%s: relay %u (%s): out of memory; its processes are "
			"stopped", r->topo, r->id, r->spec);
		for (k = 0; k < r->n; k++)
			relay_hop_stop(&r->hop[k]);
		return;
	}
	for (k = 0; k < r->n; k++)
		relay_watch(&relays[n_relays - 1].hop[k]);
	pr_info("%s: relay %u (%s, %u processes) taken back%s", r->topo, r->id,
		r->spec, r->n, r->ctl_id >= 0 ? " (a controller's relay row)" : "");
}

/* ---- the journal's relay processes ------------------------------------ */

struct sweep {
	const char *topo;
	unsigned stopped;
};

static bool pid_adopted(pid_t pid)
{
	size_t i;
	unsigned k;

	for (i = 0; i < n_relays; i++)
		for (k = 0; k < relays[i].n; k++)
			if (relays[i].hop[k].pid == pid)
				return true;
	return false;
}

/* Whether a command line (NUL-separated words) is a sluice-relay in a
 * node of topology topo: "sluice-relay --netns sluice.<topo>.<node> ...". */
static bool cmdline_of_topo(const char *buf, size_t n, const char *topo)
{
	const char *w[3], *base;
	char prefix[128];
	size_t off = 0;
	int i;

	for (i = 0; i < 3; i++) {
		if (off >= n)
			return false;
		w[i] = buf + off;
		off += strlen(w[i]) + 1;
	}
	base = strrchr(w[0], '/');
	snprintf(prefix, sizeof(prefix), "sluice.%s.", topo);
	return !strcmp(base ? base + 1 : w[0], "sluice-relay") &&
	       !strcmp(w[1], "--netns") && !strncmp(w[2], prefix, strlen(prefix));
}

/* "proc <pid> <start>": stopped if it is still a relay of the topology
 * and no adopted chain has it. */
static int sweep_one(const char *arg, void *ctx)
{
	struct sweep *s = ctx;
	struct relay_hop h = { .pidfd = -1 };
	unsigned long long start;
	char buf[4096];
	ssize_t n;
	int pid;

	if (sscanf(arg, "%d %llu", &pid, &start) != 2 || pid <= 1 ||
	    pid_adopted(pid) || relay_proc_start(pid) != start)
		return 0;
	h.pidfd = pidfd_open(pid, 0);
	if (h.pidfd < 0)
		return 0;
	h.pid = pid;
	/* Checked again once the pidfd holds the process. */
	n = read_cmdline(pid, buf, sizeof(buf));
	if (relay_proc_start(pid) != start || n <= 0 ||
	    !cmdline_of_topo(buf, (size_t)n, s->topo)) {
		close(h.pidfd);
		return 0;
	}
	pr_warn("%s: relay process %d is in no chain that was taken back; "
		"stopping it", s->topo, pid);
	relay_hop_stop(&h);
	s->stopped++;
	return 0;
}

void relays_adopt(struct daemon *d, struct sl_net *n)
{
	const char *topo = n->topo->name, *field = NULL;
	char path[400], journal[400];
	struct sweep sw = { .topo = topo };
	json_object *arr;
	size_t i;

	state_path(d, topo, path, sizeof(path));
	arr = json_object_from_file(path);
	if (!arr && access(path, F_OK) == 0)
		pr_warn("%s: %s is not JSON (%s); its relay processes are "
			"stopped", topo, path, json_util_get_last_err());
	else if (arr && !json_object_is_type(arr, json_type_array))
		pr_warn("%s: %s: expected an array of relay chains; its relay "
			"processes are stopped", topo, path);
	for (i = 0; arr && json_object_is_type(arr, json_type_array) &&
		    i < json_object_array_length(arr); i++) {
		struct relay r;

		if (relay_parse(json_object_array_get_idx(arr, i), &r, &field)) {
			pr_warn("%s: %s: chain [%zu]: field \"%s\" missing or "
				"invalid; its processes are stopped", topo, path,
				i, field);
			continue;
		}
		snprintf(r.topo, sizeof(r.topo), "%s", topo);
		adopt_one(d, &r);
	}
	json_object_put(arr);
	snprintf(journal, sizeof(journal), "%s/topo/%s/journal", d->rundir, topo);
	sl_journal_each(journal, "proc", sweep_one, &sw);
	if (sw.stopped)
		pr_info("%s: stopped %u relay process%s no chain could take back",
			topo, sw.stopped, sw.stopped == 1 ? "" : "es");
	relays_save(d, topo);
}
