// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_exec.c - running programs inside emulated nodes: exec and ping.
 *
 * The daemon only resolves a node to its namespace and hosts file; entering
 * the node happens here, in sluicectl's own process, so the program is our
 * child's replacement with the user's terminal, environment and exit status,
 * exactly as `ip netns exec` does it:
 *   setns(net) -> unshare(mount) -> make / a recursive slave (our mounts
 *   must not leak back) -> a fresh /sys for the new namespace (its
 *   /sys/class/net must list the node's interfaces) -> the topology's hosts
 *   file bound over /etc/hosts (so `ping h2` resolves) -> execvp.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sluice/sockredir.h>

#include "sluicectl.h"

#define NETNS_RUN_DIR "/run/netns"

struct resolved {
	json_object *res; /* owns the strings below */
	const char *topology, *node, *netns, *hosts, *address, *address6;
	const char *cgroup; /* the topology's cgroup (L4 max mode), or NULL */
};

static void resolved_free(struct resolved *r)
{
	json_object_put(r->res);
	memset(r, 0, sizeof(*r));
}

static int resolve(struct ctl *ctl, struct sl_api_client *c, const char *node,
		   struct resolved *r)
{
	json_object *req = ctl_new_request("resolve");
	int ret;

	memset(r, 0, sizeof(*r));
	json_object_object_add(req, "node", json_object_new_string(node));
	ret = ctl_call(ctl, c, req, NULL, NULL, &r->res);
	json_object_put(req);
	if (ret)
		return ret;
	r->topology = ctl_jstr(r->res, "topology", NULL);
	r->node = ctl_jstr(r->res, "node", node);
	r->netns = ctl_jstr(r->res, "netns", NULL);
	r->hosts = ctl_jstr(r->res, "hosts", NULL);
	r->address = ctl_jstr(r->res, "address", NULL);
	r->address6 = ctl_jstr(r->res, "address6", NULL);
	r->cgroup = ctl_jstr(r->res, "cgroup", NULL);
	if (!r->netns || !*r->netns || strchr(r->netns, '/')) {
		ctl_err("sluiced resolved node '%s' without a usable namespace name",
			node);
		resolved_free(r);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

/*
 * Moves this process into the node. Returns 0 or a negative errno with err
 * filled; a hosts file that cannot be bound is only a warning (programs
 * still run, names just do not resolve).
 */
static int enter_node(const struct resolved *r, struct sl_err *err)
{
	unsigned long sysflags = 0;
	struct statvfs st;
	char path[256];
	int fd, e;

	/* Inside the topology's cgroup, the node's TCP connections to other
	 * nodes are joined in the socket layer (max mode L4). */
	if (r->cgroup && *r->cgroup) {
		struct sl_err ce;

		if (sl_sockredir_cgroup_join(r->cgroup, 0, &ce))
			ctl_warn("cannot join %s (%s); TCP between nodes will cross "
				 "the emulated hops", r->cgroup, ce.msg);
	}
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, r->netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			return sl_err_set(err, e,
					  "node '%s': its network namespace %s does not exist (is the topology still up?)",
					  r->node, path);
		return sl_err_set(err, e, "node '%s': cannot open %s: %s",
				  r->node, path, strerror(e));
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		e = errno;
		close(fd);
		return sl_err_set(err, e,
				  "node '%s': cannot enter namespace %s: %s%s",
				  r->node, r->netns, strerror(e),
				  e == EPERM ? " (sluicectl exec needs root)" :
					       "");
	}
	close(fd);
	if (unshare(CLONE_NEWNS) < 0)
		return sl_err_set(err, errno,
				  "cannot create a mount namespace: %s",
				  strerror(errno));
	if (mount("", "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return sl_err_set(err, errno,
				  "cannot make / a slave mount: %s",
				  strerror(errno));
	/* a read-only /sys (containers) stays read-only */
	if (statvfs("/sys", &st) == 0 && (st.f_flag & ST_RDONLY))
		sysflags = MS_RDONLY;
	/* fails when nothing is mounted there; the fresh one goes on anyway */
	(void)umount2("/sys", MNT_DETACH);
	if (mount(r->netns, "/sys", "sysfs", sysflags, NULL) < 0)
		return sl_err_set(err, errno,
				  "cannot mount /sys for namespace %s: %s",
				  r->netns, strerror(errno));
	if (r->hosts && *r->hosts &&
	    mount(r->hosts, "/etc/hosts", NULL, MS_BIND, NULL) < 0)
		ctl_warn("cannot bind %s over /etc/hosts (%s); node names will not resolve",
			 r->hosts, strerror(errno));
	return 0;
}

/* Never returns: the program replaces us, or we exit like a shell would. */
static int run_in_node(const struct resolved *r, char **argv)
{
	struct sl_err err = { { 0 } };
	char who[128];
	int e;

	if (enter_node(r, &err)) {
		ctl_err("%s", err.msg);
		return CTL_EXIT_FAIL;
	}
	/* let shells and scripts inside know where they are */
	snprintf(who, sizeof(who), "%s:%s", r->topology ? r->topology : "",
		 r->node);
	setenv("SLUICE_NODE", who, 1);
	if (r->topology)
		setenv("SLUICE_TOPOLOGY", r->topology, 1);
	fflush(stdout);
	fflush(stderr);
	execvp(argv[0], argv);
	e = errno;
	if (e == ENOENT)
		ctl_err("%s: command not found (in node %s)", argv[0], who);
	else
		ctl_err("cannot execute %s: %s", argv[0], strerror(e));
	/* a shell's statuses: 127 not found, 126 found but not runnable */
	return e == ENOENT ? 127 : 126;
}

int cmd_exec(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv)
{
	struct sl_api_client *c = NULL;
	struct resolved r = { 0 };
	char *shell_argv[2];
	const char *node;
	char **prog;
	int o, ret;

	/* '+': everything after NODE belongs to the program */
	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "+", NULL)) != -1) {
		if (o == CTL_OPT_HELP) {
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		}
		return CTL_EXIT_USAGE;
	}
	if (optind >= argc)
		return ctl_usage_error(cmd,
				       "missing NODE: expected a node name, 'node' or 'topology:node'");
	node = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind < argc) {
		prog = argv + optind;
	} else {
		shell_argv[0] = getenv("SHELL");
		if (!shell_argv[0] || !*shell_argv[0])
			shell_argv[0] = "/bin/sh";
		shell_argv[1] = NULL;
		prog = shell_argv;
	}

	ret = ctl_connect(ctl, CTL_CONNECT, &c);
	if (ret)
		return ret;
	ret = resolve(ctl, c, node, &r);
	sl_api_close(c);
	if (ret)
		return ret;
	ret = run_in_node(&r, prog);
	resolved_free(&r);
	return ret;
}

/* A count: a positive integer. */
static bool count_ok(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return !errno && end != s && !*end && v > 0;
}

/* An interval in seconds: a positive decimal number. */
static bool interval_ok(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	return !errno && end != s && !*end && v > 0 && v < 1e6;
}

/* "10.0.0.2/32" -> "10.0.0.2" in buf. */
static const char *bare_address(const char *a, char *buf, size_t len)
{
	const char *slash = strchr(a, '/');

	snprintf(buf, len, "%.*s", slash ? (int)(slash - a) : (int)strlen(a),
		 a);
	return buf;
}

int cmd_ping(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
	     char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "ipv6", no_argument, NULL, '6' },
		{ NULL, 0, NULL, 0 },
	};
	const char *count = "3", *interval = "0.2", *addr;
	struct resolved ra = { 0 }, rb = { 0 };
	struct sl_api_client *c = NULL;
	char qualified[128], bare[64], *pargv[8];
	bool v6 = false;
	int o, ret;

	optind = 0;
	while ((o = ctl_getopt(ctl, cmd, argc, argv, "c:i:6", opts)) != -1) {
		switch (o) {
		case 'c':
			count = optarg;
			if (!count_ok(count))
				return ctl_usage_error(cmd,
						       "-c '%s': expected a positive whole number of pings",
						       count);
			break;
		case 'i':
			interval = optarg;
			if (!interval_ok(interval))
				return ctl_usage_error(cmd,
						       "-i '%s': expected a positive number of seconds, e.g. 0.2",
						       interval);
			break;
		case '6':
			v6 = true;
			break;
		case CTL_OPT_HELP:
			ctl_print_help(cmd);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return ctl_usage_error(cmd,
				       argc - optind < 2 ?
					       "missing node: expected two nodes, A (where ping runs) and B (its target)" :
					       "too many arguments: expected two nodes, A and B");

	ret = ctl_connect(ctl, CTL_CONNECT, &c);
	if (ret)
		return ret;
	ret = resolve(ctl, c, argv[optind], &ra);
	if (ret)
		goto out;
	/* "h2" next to "big:h1" means big's h2, not whatever else is up */
	if (!strchr(argv[optind + 1], ':') && ra.topology)
		snprintf(qualified, sizeof(qualified), "%s:%s", ra.topology,
			 argv[optind + 1]);
	else
		snprintf(qualified, sizeof(qualified), "%s", argv[optind + 1]);
	ret = resolve(ctl, c, qualified, &rb);
	if (ret)
		goto out;
	addr = v6 ? rb.address6 : rb.address;
	if (!addr || !*addr) {
		if (v6)
			ctl_err("node '%s' has no IPv6 address (set \"ipv6\": true in the topology for dual-stack)",
				rb.node);
		else
			ctl_err("node '%s' has no IPv4 address", rb.node);
		ret = CTL_EXIT_FAIL;
		goto out;
	}
	sl_api_close(c);
	c = NULL;
	pargv[0] = "ping";
	pargv[1] = "-c";
	pargv[2] = (char *)count;
	pargv[3] = "-i";
	pargv[4] = (char *)interval;
	pargv[5] = (char *)bare_address(addr, bare, sizeof(bare));
	pargv[6] = NULL;
	if (ctl->verbose)
		fprintf(stderr, "sluicectl: in %s: ping -c %s -i %s %s\n",
			ra.node, count, interval, bare);
	ret = run_in_node(&ra, pargv);
out:
	sl_api_close(c);
	resolved_free(&ra);
	resolved_free(&rb);
	return ret;
}
