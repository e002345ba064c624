// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relays.c - TCP relays on nodes (max mode L4, docs/relay.md): sluiced
 * starts one sluice-relay process per hop of a chain inside the nodes'
 * namespaces, keeps track of them, and stops them when asked, when their
 * topology goes down, or (through the journal) after a crash.
 *
 * A chain --from A:P --to D:Q --via B,C is: a relay in A listening on
 * *:P and forwarding to B:P, one in B forwarding to C:P, one in C
 * forwarding to D:Q. An unmodified client in A connects to A:P (or
 * 127.0.0.1:P); the bytes are spliced in the kernel at every hop.
 *
 * Every hop's pid and start time are journaled (so that `down` and crash
 * recovery stop it) and every chain is written to the topology's state
 * file (relays_adopt.c), so that a restarted sluiced takes the chains
 * back instead of leaking their processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include <sluice/addr.h>
#include <sluice/journal.h>
#include <sluice/log.h>

#include "relays.h"

struct relay *relays;
size_t n_relays;
unsigned relay_next_id;

/* Where sluice-relay is: beside sluiced, in tools/ beside it, or on PATH. */
void relay_binary(char *out, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, len, "%.3800s/sluice-relay", self);
			if (access(out, X_OK) == 0)
				return;
			snprintf(out, len, "%.3800s/tools/sluice-relay", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, len, "sluice-relay");
}

/* Start time of a process (field 22 of /proc/PID/stat): with the pid it
 * names the process without the risk of a reused pid. */
unsigned long long relay_proc_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtoull(p + 1, NULL, 10);
	return v;
}

static void stop_pid(pid_t pid)
{
	int i;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A process that is not our child: signalled through its pidfd, which
 * cannot reach a later process that reuses the pid, and waited for by
 * polling it (readable once the process has exited). */
static void stop_pidfd(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd_send_signal(pidfd, SIGTERM, NULL, 0) && errno == ESRCH)
		return;
	if (poll(&p, 1, 1000) == 1)
		return;
	pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
	poll(&p, 1, 1000);
}

void relay_hop_stop(struct relay_hop *h)
{
	if (h->pid > 0) {
		if (h->pidfd >= 0)
			stop_pidfd(h->pidfd);
		else
			stop_pid(h->pid);
	}
	if (h->pidfd >= 0)
		close(h->pidfd); /* leaves the watch set with it */
	h->pidfd = -1;
	h->pid = 0;
}

void relay_hop_argv(const char *bin, const char *ns, const char *mode,
		    const struct relay_hop *h, const char *argv[12])
{
	int i = 0;

	argv[i++] = bin;
	argv[i++] = "--netns";
	argv[i++] = ns;
	argv[i++] = "--listen";
	argv[i++] = h->listen;
	if (h->to[0]) {
		argv[i++] = "--to";
		argv[i++] = h->to;
	} else {
		argv[i++] = "--socks5";
	}
	argv[i++] = "--mode";
	argv[i++] = mode;
	argv[i] = NULL;
}

/* Starts hop h of a chain in topology topo; waits for its "ready" line
 * and fills h->pid and h->start. */
static int spawn_hop(struct daemon *d, const char *topo, const char *mode,
		     struct relay_hop *h, struct sl_err *err)
{
	char bin[4096], ns[128], logp[400], line[256] = "";
	const char *argv[12];
	int out[2], logfd;
	struct pollfd pfd;
	size_t got = 0;
	pid_t pid;

	relay_binary(bin, sizeof(bin));
	sl_netns_node(topo, h->node, ns, sizeof(ns));
	relay_hop_argv(bin, ns, mode, h, argv);
	snprintf(logp, sizeof(logp), "%s/topo/%s/relays.log", d->rundir, topo);
	if (pipe2(out, O_CLOEXEC))
		return sl_err_set(err, errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(out[0]);
		close(out[1]);
		return sl_err_set(err, errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		dup2(out[1], 1);
		logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (logfd >= 0)
			dup2(logfd, 2);
		execvp(bin, (char *const *)argv);
		dprintf(2, "sluiced: cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(out[1]);
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (got < sizeof(line) - 1 && !strchr(line, '\n') &&
	       poll(&pfd, 1, 3000) > 0) {
		ssize_t n = read(out[0], line + got, sizeof(line) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		line[got] = '\0';
	}
	close(out[0]);
	if (strncmp(line, "ready ", 6)) {
		stop_pid(pid);
		return sl_err_set(err, EIO, "relay on %s (listen %s) did not start; "
				  "see %s", h->node, h->listen, logp);
	}
	h->pid = pid;
	h->start = relay_proc_start(pid);
	h->pidfd = -1;
	return 0;
}

static struct sl_journal *topo_journal(struct daemon *d, const char *topo)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/topo/%s/journal", d->rundir, topo);
	return sl_journal_open(path, NULL);
}

/* The address node `name` of net n is reached at (IPv4 node address). */
static int node_addr(struct sl_net *n, const char *name, char *buf, size_t len,
		     struct sl_err *err)
{
	int i = sl_topo_find_node(n->topo, name);

	if (i < 0)
		return sl_err_set(err, ENOENT, "no node \"%s\" in topology \"%s\"",
				  name, n->topo->name);
	sl_prefix_str(&n->topo->nodes[i].lo4, buf, len, false);
	return 0;
}

/* "node:port" -> node and port. */
static int split_endpoint(const char *s, char *node, size_t len, unsigned *port,
			  const char *field, struct sl_err *err)
{
	const char *c = strrchr(s, ':');
	char *end;
	long p;

	if (!c || c == s || (size_t)(c - s) >= len)
		return sl_err_set(err, EINVAL, "request: field \"%s\": \"%s\"; "
				  "expected NODE:PORT such as h1:9000", field, s);
	p = strtol(c + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return sl_err_set(err, EINVAL, "request: field \"%s\": port \"%s\"; "
				  "expected 1 to 65535", field, c + 1);
	snprintf(node, len, "%.*s", (int)(c - s), s);
	*port = (unsigned)p;
	return 0;
}

int relay_add(struct daemon *d, struct sl_net *n, const char *from,
	      const char *to, const char *via, bool socks5, const char *mode,
	      int64_t ctl_id, int64_t ctl_version, json_object **res,
	      struct sl_err *err)
{
	char hops[RELAY_HOPS_MAX + 1][SL_NAME_MAX], addr[64], listen[32],
		*v = NULL, *tok, *save;
	unsigned port, tport = 0, nh = 0, i;
	struct sl_journal *j;
	struct relay r = { 0 };
	int ret = 0;

	if (!mode)
		mode = "splice";
	if (strcmp(mode, "splice") && strcmp(mode, "sockmap"))
		return sl_err_set(err, EINVAL, "request: field \"mode\": \"%s\"; "
				  "expected \"splice\" or \"sockmap\"", mode);
	ret = split_endpoint(from, hops[0], sizeof(hops[0]), &port, "from", err);
	if (ret)
		return ret;
	nh = 1;
	if (via && *via) {
		v = strdup(via);
		for (tok = strtok_r(v, ",", &save); tok && !ret;
		     tok = strtok_r(NULL, ",", &save)) {
			if (nh >= RELAY_HOPS_MAX)
				ret = sl_err_set(err, E2BIG, "request: field \"via\": "
						 "more than %d relays", RELAY_HOPS_MAX - 1);
			else
				snprintf(hops[nh++], sizeof(hops[0]), "%s", tok);
		}
		free(v);
		if (ret)
			return ret;
	}
	if (!socks5) {
		if (!to)
			return sl_err_set(err, EINVAL, "request: expected \"to\" "
					  "(NODE:PORT) or \"socks5\": true");
		ret = split_endpoint(to, hops[nh], sizeof(hops[0]), &tport, "to", err);
		if (ret)
			return ret;
	} else if (nh > 1) {
		return sl_err_set(err, EINVAL, "request: a SOCKS5 front is one relay; "
				  "expected no \"via\"");
	}
	for (i = 0; i < nh + !socks5; i++)
		if ((ret = node_addr(n, hops[i], addr, sizeof(addr), err)))
			return ret;
	j = topo_journal(d, n->topo->name);
	r.id = relay_next_id++;
	r.ctl_id = ctl_id;
	r.ctl_version = ctl_version;
	snprintf(r.topo, sizeof(r.topo), "%s", n->topo->name);
	snprintf(r.mode, sizeof(r.mode), "%s", mode);
	snprintf(listen, sizeof(listen), "*:%u", port);
	/* Last hop first: each relay's target is listening before it. */
	for (i = socks5 ? 1 : nh; i-- > 0;) {
		struct relay_hop *h = &r.hop[r.n];

		snprintf(h->node, sizeof(h->node), "%s", hops[i]);
		snprintf(h->listen, sizeof(h->listen), "%s", listen);
		if (!socks5) {
			node_addr(n, hops[i + 1], addr, sizeof(addr), NULL);
			snprintf(h->to, sizeof(h->to), "%s:%u", addr,
				 i + 1 == nh ? tport : port);
		}
		ret = spawn_hop(d, n->topo->name, mode, h, err);
		if (ret)
			break;
		r.n++;
		if (j) {
			char p[32], st[32];

			snprintf(p, sizeof(p), "%d", (int)h->pid);
			snprintf(st, sizeof(st), "%llu", h->start);
			sl_journal_add(j, "proc", p, st, NULL);
		}
	}
	sl_journal_free(j);
	if (ret) {
		for (i = 0; i < r.n; i++)
			relay_hop_stop(&r.hop[i]);
		return ret;
	}
	if (socks5) {
		snprintf(r.spec, sizeof(r.spec), "socks5 %s:%u", hops[0], port);
	} else {
		size_t len = 0;

		len += (size_t)snprintf(r.spec + len, sizeof(r.spec) - len, "%s:%u",
					hops[0], port);
		for (i = 1; i < nh && len < sizeof(r.spec); i++)
			len += (size_t)snprintf(r.spec + len, sizeof(r.spec) - len,
						" -> %s", hops[i]);
		if (len < sizeof(r.spec))
			snprintf(r.spec + len, sizeof(r.spec) - len, " -> %s:%u",
				 hops[nh], tport);
	}
	if (relay_append(&r)) {
		for (i = 0; i < r.n; i++)
			relay_hop_stop(&r.hop[i]);
		return sl_err_set(err, ENOMEM, "out of memory");
	}
	relays_save(d, r.topo);
	pr_info("%s: relay %u: %s (%s, %u processes)", r.topo, r.id, r.spec, mode, r.n);
	*res = json_object_new_object();
	json_object_object_add(*res, "id", json_object_new_int64(r.id));
	json_object_object_add(*res, "relay", json_object_new_string(r.spec));
	json_object_object_add(*res, "mode", json_object_new_string(mode));
	return 0;
}

int relay_append(const struct relay *r)
{
	struct relay *nr = realloc(relays, (n_relays + 1) * sizeof(*relays));

	if (!nr)
		return -ENOMEM;
	relays = nr;
	relays[n_relays++] = *r;
	return 0;
}

static void remove_at(size_t i)
{
	unsigned k;

	for (k = 0; k < relays[i].n; k++)
		relay_hop_stop(&relays[i].hop[k]);
	memmove(&relays[i], &relays[i + 1], (n_relays - i - 1) * sizeof(*relays));
	n_relays--;
}

int relay_del(struct daemon *d, unsigned id, struct sl_err *err)
{
	char topo[SL_TOPO_NAME_MAX];
	size_t i;

	for (i = 0; i < n_relays; i++) {
		if (relays[i].id == id) {
			pr_info("%s: relay %u stopped", relays[i].topo, id);
			snprintf(topo, sizeof(topo), "%s", relays[i].topo);
			remove_at(i);
			relays_save(d, topo);
			return 0;
		}
	}
	return sl_err_set(err, ENOENT, "no relay %u", id);
}

/* The state file goes with the topology's directory (sl_net_destroy). */
void relays_stop_topology(struct daemon *d, const char *topo)
{
	size_t i = 0;

	while (i < n_relays) {
		if (!topo || !strcmp(relays[i].topo, topo))
			remove_at(i);
		else
			i++;
	}
}

json_object *relay_list(struct daemon *d, const char *topo)
{
	json_object *arr = json_object_new_array();
	size_t i;
	unsigned k;

	for (i = 0; i < n_relays; i++) {
		json_object *o, *nodes;

		if (topo && strcmp(topo, relays[i].topo))
			continue;
		o = json_object_new_object();
		nodes = json_object_new_array();
		json_object_object_add(o, "id", json_object_new_int64(relays[i].id));
		json_object_object_add(o, "topology", json_object_new_string(relays[i].topo));
		json_object_object_add(o, "relay", json_object_new_string(relays[i].spec));
		json_object_object_add(o, "mode", json_object_new_string(relays[i].mode));
		if (relays[i].ctl_id >= 0)
			json_object_object_add(o, "controller_id",
					       json_object_new_int64(relays[i].ctl_id));
		for (k = 0; k < relays[i].n; k++) {
			const struct relay_hop *h = &relays[i].hop[k];
			json_object *p = json_object_new_object();

			json_object_object_add(p, "node", json_object_new_string(h->node));
			json_object_object_add(p, "pid", json_object_new_int(h->pid));
			json_object_object_add(p, "running", json_object_new_boolean(
				h->pid > 0 && kill(h->pid, 0) == 0));
			/* started by an earlier sluiced and taken back */
			json_object_object_add(p, "adopted",
					       json_object_new_boolean(h->pidfd >= 0));
			json_object_array_add(nodes, p);
		}
		json_object_object_add(o, "processes", nodes);
		json_object_array_add(arr, o);
	}
	return arr;
}

int relay_find_ctl(int64_t ctl_id, unsigned *id, int64_t *version)
{
	size_t i;

	for (i = 0; i < n_relays; i++) {
		if (relays[i].ctl_id == ctl_id) {
			*id = relays[i].id;
			*version = relays[i].ctl_version;
			return 0;
		}
	}
	return -ENOENT;
}

/* A hop ended: that breaks its chain, an error the controller hears of.
 * Its pid is forgotten, so that stopping the chain later never signals a
 * reused pid. */
static void hop_ended(struct daemon *d, struct relay *r, unsigned k,
		      const char *how)
{
	json_object *data;
	char msg[512];

	snprintf(msg, sizeof(msg), "relay process %d on %s ended%s", (int)r->hop[k].pid,
		 r->hop[k].node, how);
	r->hop[k].pid = 0;
	if (r->hop[k].pidfd >= 0)
		close(r->hop[k].pidfd);
	r->hop[k].pidfd = -1;
	pr_warn("%s: relay %u (%s): %s", r->topo, r->id, r->spec, msg);
	data = json_object_new_object();
	json_object_object_add(data, "relay", json_object_new_int64(r->id));
	if (r->ctl_id >= 0)
		json_object_object_add(data, "controller_id",
				       json_object_new_int64(r->ctl_id));
	json_object_object_add(data, "node", json_object_new_string(r->hop[k].node));
	agent_event(d, "error", r->topo, NULL, NULL, data,
		    "relay %u (%s): %s", r->id, r->spec, msg);
	relays_save(d, r->topo);
}

/*
 * Reaps relays that ended by themselves: children of this daemon
 * (SIGCHLD), and hops adopted from an earlier daemon (their pidfds are
 * readable; relays_fd()). The exit status of an adopted hop is its
 * parent's to know, not ours.
 */
void relays_reap(struct daemon *d)
{
	size_t i;
	unsigned k;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		char how[64];
		bool found = false;

		snprintf(how, sizeof(how), " (%s %d)",
			 WIFSIGNALED(st) ? "signal" : "status",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		for (i = 0; i < n_relays && !found; i++)
			for (k = 0; k < relays[i].n && !found; k++)
				if (relays[i].hop[k].pid == pid &&
				    relays[i].hop[k].pidfd < 0) {
					hop_ended(d, &relays[i], k, how);
					found = true;
				}
		if (!found)
			pr_warn("relay process %d ended%s", (int)pid, how);
	}
	for (i = 0; i < n_relays; i++)
		for (k = 0; k < relays[i].n; k++) {
			struct pollfd p = { .fd = relays[i].hop[k].pidfd,
					    .events = POLLIN };

			if (p.fd >= 0 && poll(&p, 1, 0) == 1)
				hop_ended(d, &relays[i], k,
					  " (it was started by an earlier sluiced)");
		}
}
