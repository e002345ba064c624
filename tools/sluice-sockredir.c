// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sluice-sockredir - attach max mode L4 socket redirection to a cgroup and
 * hold it until SIGINT/SIGTERM (tests, benchmarks; sluiced uses the library
 * API, include/sluice/sockredir.h).
 *
 *   sluice-sockredir --topo NAME [--flows DIR]    cgroup <cgroup2>/sluice/NAME
 *   sluice-sockredir --cgroup PATH [--flows DIR]
 *
 * Prints "ready <cgroup path>" on stdout once attached, and on exit one
 * JSON line of counters. With --topo the cgroup is created and, on exit,
 * removed again (its processes go back to the root).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/sockredir.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-sockredir (--topo NAME | --cgroup PATH) [--flows PIN_DIR]\n"
		"  --topo NAME     create and use the cgroup <cgroup2>/sluice/NAME\n"
		"  --cgroup PATH   use an existing cgroup v2 directory\n"
		"  --flows DIR     the fabric's pin folder (flows, flow_ctl)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topo", required_argument, NULL, 't' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "flows", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_sockredir_opts o = { 0 };
	struct sl_sockredir_stats st;
	struct sl_sockredir *s = NULL;
	const char *topo = NULL;
	struct sl_err err = { { 0 } };
	char cg[512];
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "t:c:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			topo = optarg;
			break;
		case 'c':
			o.cgroup = optarg;
			break;
		case 'f':
			o.flows_pin_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!!topo == !!o.cgroup || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (topo) {
		if (sl_sockredir_cgroup_create(topo, cg, sizeof(cg), &err))
			goto out;
		o.cgroup = cg;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (sl_sockredir_open(&o, &s, &err))
		goto out;
	printf("ready %s\n", o.cgroup);
	fflush(stdout);
	while (!stop)
		pause();
	if (sl_sockredir_stats_read(s, &st, &err))
		goto out;
	printf("{\"established\": %llu, \"entered\": %llu, \"skip_normal\": %llu, "
	       "\"skip_local\": %llu, \"enter_fail\": %llu, \"msgs_redir\": %llu, "
	       "\"bytes_redir\": %llu, \"msgs_pass\": %llu, \"bytes_pass\": %llu}\n",
	       (unsigned long long)st.established,
	       (unsigned long long)st.entered,
	       (unsigned long long)st.skip_normal,
	       (unsigned long long)st.skip_local,
	       (unsigned long long)st.enter_fail,
	       (unsigned long long)st.msgs_redir,
	       (unsigned long long)st.bytes_redir,
	       (unsigned long long)st.msgs_pass,
	       (unsigned long long)st.bytes_pass);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "sluice-sockredir: %s\n", err.msg);
	sl_sockredir_free(s);
	if (topo && o.cgroup && sl_sockredir_cgroup_remove(cg, &err)) {
		fprintf(stderr, "sluice-sockredir: %s\n", err.msg);
		rc = 1;
	}
	return rc;
}
