// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dpctl - runs the normal-mode dataplane (lib/dataplane.c) on given fabric
 * ports, outside sluiced: for the namespace tests (tests/net/test_normal.sh)
 * and for measurements before the daemon drives it.
 *
 *   dpctl --netns FABRIC_NS [--topo NAME] [--threads N] [--frames N]
 *         [--csum-complete] [--busy-poll] [--cpu N] [--spin-us N]
 *         [--idle-poll-us N]
 *         [--coalesce-us N] [--batch N] [--no-xdp-timestamp]
 *         [--node-if NS IFNAME]... [--txcsum-off] [--gro]
 *         --ports IFA IFB [--up JSON] [--down JSON]
 *         [--ports IFA IFB [--up JSON] [--down JSON]]...
 *
 * Each --ports group is one link (indices 0, 1, ...) whose policies follow
 * it. --node-if prepares a node-side interface with sl_xsk_prepare_node_if
 * (the flags from --txcsum-off and --gro). When every link forwards, dpctl
 * prints "ready" and then reads commands on stdin, one per line:
 *   stats LINK DIR              the direction's telemetry, one JSON line
 *   policy LINK DIR JSON        sl_dataplane_set_policy
 *   control LINK DIR CELL JSON  sl_dataplane_control
 *   remove LINK                 sl_dataplane_remove_link
 * and answers each with one line ("ok", JSON, or "error: ..."). EOF,
 * SIGINT or SIGTERM remove every link (ports back to the tc fabric) and
 * exit. With --wait stdin is ignored and only a signal ends it.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <sluice/dataplane.h>
#include <sluice/netlink.h>
#include <sluice/xsk.h>

#define MAX_LINKS 64
#define MAX_NODE_IFS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dpctl --netns NS [--topo NAME] [--threads N] [--frames N]\n"
		"             [--csum-complete] [--busy-poll] [--cpu N] [--spin-us N]\n"
		"             [--idle-poll-us N]\n"
		"             [--node-if NS IFNAME]... [--txcsum-off] [--gro] [--wait]\n"
		"             --ports IFA IFB [--up JSON] [--down JSON] ...\n");
}

static int ifindex_in(int nsfd, const char *name)
{
	struct sl_err err;
	int saved, idx;

	if (sl_netns_enter(nsfd, &saved, &err)) {
		fprintf(stderr, "dpctl: %s\n", err.msg);
		return -1;
	}
	idx = (int)if_nametoindex(name);
	sl_netns_leave(saved);
	if (!idx)
		fprintf(stderr, "dpctl: no interface %s in the fabric netns\n",
			name);
	return idx ? idx : -1;
}

static void command(struct sl_dataplane *dp, const char *topo, char *line)
{
	struct json_object *o = NULL;
	struct sl_err err = { { 0 } };
	char *argv[5] = { 0 }, *p = line;
	int argc = 0, ret = -EINVAL, words = 4;

	line[strcspn(line, "\n")] = '\0';
	/* words split on spaces; the last argument (JSON) keeps its own */
	while (*p && argc < 5) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		argv[argc++] = p;
		if (argc == 1)
			words = !strcmp(p, "policy") || !strncmp(p, "policy ", 7) ? 3 :
				!strncmp(p, "control ", 8) ? 4 : 5;
		if (argc == words + 1)
			break;
		p += strcspn(p, " ");
		if (*p)
			*p++ = '\0';
	}
	if (!argc)
		return;
	if (!strcmp(argv[0], "stats") && argc == 3) {
		ret = sl_dataplane_stats(dp, topo, (uint32_t)atoi(argv[1]),
					 atoi(argv[2]), &o, &err);
		if (!ret) {
			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		}
	} else if (!strcmp(argv[0], "policy") && argc == 4) {
		ret = sl_dataplane_set_policy(dp, topo, (uint32_t)atoi(argv[1]),
					      atoi(argv[2]), argv[3], &err);
		if (!ret)
			printf("ok\n");
	} else if (!strcmp(argv[0], "control") && argc == 5) {
		ret = sl_dataplane_control(dp, topo, (uint32_t)atoi(argv[1]),
					   atoi(argv[2]), argv[3], argv[4], &err);
		if (!ret)
			printf("ok\n");
	} else if (!strcmp(argv[0], "remove") && argc == 2) {
		ret = sl_dataplane_remove_link(dp, topo, (uint32_t)atoi(argv[1]),
					       &err);
		if (!ret)
			printf("ok\n");
	} else {
		snprintf(err.msg, sizeof(err.msg), "unknown command or wrong arguments");
	}
	if (ret)
		printf("error: %s\n", err.msg);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sl_dataplane_link links[MAX_LINKS];
	const char *node_ns[MAX_NODE_IFS], *node_if[MAX_NODE_IFS];
	const char *netns = NULL, *topo = "dpctl";
	const char *names[MAX_LINKS][2];
	struct sl_dataplane_opts o;
	struct sl_dataplane *dp;
	struct sl_err err = { { 0 } };
	unsigned n_links = 0, n_node = 0, flags = 0, i;
	char line[4096];
	int nsfd, ret = 1, a;
	bool wait_signal = false;

	sl_dataplane_opts_default(&o);
	memset(links, 0, sizeof(links));
	for (a = 1; a < argc; a++) {
		const char *k = argv[a];
		bool more = a + 1 < argc;

		if (!strcmp(k, "--netns") && more) {
			netns = argv[++a];
		} else if (!strcmp(k, "--topo") && more) {
			topo = argv[++a];
		} else if (!strcmp(k, "--threads") && more) {
			o.n_threads = (unsigned)atoi(argv[++a]);
		} else if (!strcmp(k, "--frames") && more) {
			o.frames_per_link = (uint32_t)atoi(argv[++a]);
		} else if (!strcmp(k, "--cpu") && more) {
			o.cpu_first = atoi(argv[++a]);
		} else if (!strcmp(k, "--spin-us") && more) {
			o.spin_ns = (uint32_t)atoi(argv[++a]) * 1000u;
		} else if (!strcmp(k, "--idle-poll-us") && more) {
			o.idle_poll_ns = (uint32_t)(atof(argv[++a]) * 1000);
			if (!o.idle_poll_ns)
				o.idle_poll_ns = 1;
		} else if (!strcmp(k, "--coalesce-us") && more) {
			o.tx_coalesce_ns = (uint32_t)(atof(argv[++a]) * 1000);
			if (!o.tx_coalesce_ns)
				o.tx_coalesce_ns = 1;
		} else if (!strcmp(k, "--batch") && more) {
			o.batch = (uint32_t)atoi(argv[++a]);
		} else if (!strcmp(k, "--wait")) {
			wait_signal = true;
		} else if (!strcmp(k, "--csum-complete")) {
			o.csum_complete = true;
		} else if (!strcmp(k, "--busy-poll")) {
			o.busy_poll = true;
		} else if (!strcmp(k, "--no-xdp-timestamp")) {
			o.no_xdp_timestamp = true;
		} else if (!strcmp(k, "--txcsum-off")) {
			flags |= SL_XSK_NODE_TXCSUM_OFF;
		} else if (!strcmp(k, "--gro")) {
			flags |= SL_XSK_NODE_GRO_ON;
		} else if (!strcmp(k, "--node-if") && a + 2 < argc &&
			   n_node < MAX_NODE_IFS) {
			node_ns[n_node] = argv[++a];
			node_if[n_node++] = argv[++a];
		} else if (!strcmp(k, "--ports") && a + 2 < argc &&
			   n_links < MAX_LINKS) {
			names[n_links][0] = argv[++a];
			names[n_links][1] = argv[++a];
			links[n_links].link = n_links;
			links[n_links].seed = 1000 + n_links;
			n_links++;
		} else if ((!strcmp(k, "--up") || !strcmp(k, "--down")) &&
			   more && n_links) {
			links[n_links - 1].policy[k[2] == 'd'] = argv[++a];
		} else {
			usage();
			return 2;
		}
	}
	if (!netns || !n_links) {
		usage();
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n_node; i++) {
		int fd = sl_netns_open(node_ns[i], &err);

		if (fd < 0 ||
		    sl_xsk_prepare_node_if(fd, node_if[i], flags, &err)) {
			fprintf(stderr, "dpctl: %s: %s\n", node_ns[i], err.msg);
			if (fd >= 0)
				close(fd);
			return 1;
		}
		close(fd);
	}
	nsfd = sl_netns_open(netns, &err);
	if (nsfd < 0) {
		fprintf(stderr, "dpctl: %s\n", err.msg);
		return 1;
	}
	dp = sl_dataplane_new_opts(&o, &err);
	if (!dp) {
		fprintf(stderr, "dpctl: %s\n", err.msg);
		close(nsfd);
		return 1;
	}
	for (i = 0; i < n_links; i++) {
		links[i].topo = topo;
		links[i].fabric_netns_fd = nsfd;
		links[i].ifindex[0] = ifindex_in(nsfd, names[i][0]);
		links[i].ifindex[1] = ifindex_in(nsfd, names[i][1]);
		if (links[i].ifindex[0] < 0 || links[i].ifindex[1] < 0)
			goto out;
		if (sl_dataplane_add_link(dp, &links[i], &err)) {
			fprintf(stderr, "dpctl: %s\n", err.msg);
			goto out;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop && !wait_signal && fgets(line, sizeof(line), stdin))
		command(dp, topo, line);
	while (!stop && wait_signal)
		pause();
	ret = 0;
out:
	sl_dataplane_free(dp);
	close(nsfd);
	return ret;
}
