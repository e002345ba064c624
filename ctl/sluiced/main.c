// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sluiced - the sluice host daemon: builds topologies out of namespaces,
 * veth pairs and BPF, serves the local API on a Unix socket, and keeps
 * its state under a run directory so a restart loses nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <sluice/api.h>
#include <sluice/dataplane.h>
#include <sluice/log.h>

#include "sluiced.h"

#define CONFIG_DEFAULT "/etc/sluice/sluiced.conf"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: sluiced [OPTION]...\n"
"The sluice host daemon: brings emulated topologies up and down on this host\n"
"and serves sluicectl over a Unix socket.\n"
"\n"
"  -f, --foreground        stay in the foreground (the default; for systemd)\n"
"  -d, --daemonize         detach; the parent exits 0 once the socket listens\n"
"  -r, --rundir DIR        state directory (default " SL_RUNDIR_DEFAULT ")\n"
"  -s, --socket PATH       API socket (default RUNDIR/" SL_API_SOCKET_NAME ")\n"
"  -l, --log-level LEVEL   error, warn, info (default) or debug\n"
"  -L, --log-file FILE     log there instead of stderr (default with\n"
"                          --daemonize: RUNDIR/sluiced.log)\n"
"  -c, --config FILE       configuration file (default " CONFIG_DEFAULT ",\n"
"                          read if present; lines KEY = VALUE with keys\n"
"                          rundir, socket, log-level, dataplane-threads,\n"
"                          controller, host-id, controller-token)\n"
"  -h, --help              this help\n"
"  -V, --version           version\n"
"\n"
"On start, topologies that were fully up are re-adopted and half-built ones\n"
"(a bring-up that was killed) are rolled back. SIGTERM stops the daemon and\n"
"leaves the topologies up; `sluicectl down --all` removes them.\n"
"See sluiced(8).\n");
}

struct opts {
	char rundir[256];
	char socket[300];
	char log_file[300];
	int level;
	bool daemonize;
	int dp_threads;
	char controller[256];
	char host_id[64];
	char token[512];
};

static int set_opt(struct opts *o, const char *key, const char *val,
		   const char *where)
{
	if (!strcmp(key, "rundir")) {
		snprintf(o->rundir, sizeof(o->rundir), "%s", val);
	} else if (!strcmp(key, "socket")) {
		snprintf(o->socket, sizeof(o->socket), "%s", val);
	} else if (!strcmp(key, "dataplane-threads")) {
		char *end;
		long v = strtol(val, &end, 10);

		if (*end || v < 1 || v > 64) {
			fprintf(stderr, "sluiced: %s: dataplane-threads \"%s\"; expected "
				"a number from 1 to 64\n", where, val);
			return -EINVAL;
		}
		o->dp_threads = (int)v;
	} else if (!strcmp(key, "controller")) {
		snprintf(o->controller, sizeof(o->controller), "%s", val);
	} else if (!strcmp(key, "host-id")) {
		snprintf(o->host_id, sizeof(o->host_id), "%s", val);
	} else if (!strcmp(key, "controller-token")) {
		snprintf(o->token, sizeof(o->token), "%s", val);
	} else if (!strcmp(key, "log-level")) {
		o->level = sl_log_level_parse(val);
		if (o->level < 0) {
			fprintf(stderr, "sluiced: %s: log-level \"%s\"; expected "
				"error, warn, info or debug\n", where, val);
			return -EINVAL;
		}
	} else {
		fprintf(stderr, "sluiced: %s: unknown key \"%s\"; expected rundir, "
			"socket, log-level, dataplane-threads, controller, host-id "
			"or controller-token\n", where, key);
		return -EINVAL;
	}
	return 0;
}

static int read_config(struct opts *o, const char *path, bool must)
{
	char line[512], where[400];
	FILE *f = fopen(path, "re");
	int lineno = 0;

	if (!f) {
		if (!must && errno == ENOENT)
			return 0;
		fprintf(stderr, "sluiced: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k = line, *eq, *v, *end;

		lineno++;
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '#' || *k == '\n' || !*k)
			continue;
		eq = strchr(k, '=');
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (!eq) {
			fprintf(stderr, "sluiced: %s: expected KEY = VALUE\n", where);
			fclose(f);
			return -EINVAL;
		}
		for (end = eq; end > k && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\r\n")] = '\0';
		if (set_opt(o, k, v, where)) {
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	return 0;
}

/* One daemon per run directory. */
static int take_lock(const char *rundir)
{
	char path[300], pid[32];
	int fd;

	snprintf(path, sizeof(path), "%s/sluiced.pid", rundir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "sluiced: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ssize_t n = read(fd, pid, sizeof(pid) - 1);

		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr, "sluiced: another sluiced (pid %s) is running with "
			"run directory %s\n", *pid ? pid : "?", rundir);
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == 0) {
		int n = snprintf(pid, sizeof(pid), "%d\n", getpid());

		if (pwrite(fd, pid, (size_t)n, 0) != n)
			fprintf(stderr, "sluiced: cannot write %s\n", path);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "daemonize", no_argument, NULL, 'd' },
		{ "rundir", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "log-file", required_argument, NULL, 'L' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct opts o = { .rundir = SL_RUNDIR_DEFAULT, .level = SL_LOG_INFO };
	struct daemon d = { 0 };
	const char *config = NULL;
	struct rlimit rl;
	int c, ready[2] = { -1, -1 }, lock, ret, i;

	/* The config file first, so that flags override it. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config"))
			config = i + 1 < argc ? argv[i + 1] : NULL;
		else if (!strncmp(argv[i], "--config=", 9))
			config = argv[i] + 9;
	}
	if (read_config(&o, config ? config : CONFIG_DEFAULT, config != NULL))
		return 2;
	while ((c = getopt_long(argc, argv, "fdr:s:l:L:c:hV", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o.daemonize = false; break;
		case 'd': o.daemonize = true; break;
		case 'r': snprintf(o.rundir, sizeof(o.rundir), "%s", optarg); break;
		case 's': snprintf(o.socket, sizeof(o.socket), "%s", optarg); break;
		case 'L': snprintf(o.log_file, sizeof(o.log_file), "%s", optarg); break;
		case 'c': break;
		case 'l':
			if (set_opt(&o, "log-level", optarg, "--log-level"))
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("sluiced %s\n", SLUICE_VERSION); return 0;
		default:
			fprintf(stderr, "Try 'sluiced --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluiced: unexpected argument \"%s\"\nTry 'sluiced --help'.\n",
			argv[optind]);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "sluiced: must run as root (it creates network "
			"namespaces and loads BPF programs)\n");
		return 1;
	}
	if (mkdir(o.rundir, 0755) && errno != EEXIST) {
		fprintf(stderr, "sluiced: %s: %s\n", o.rundir, strerror(errno));
		return 1;
	}
	snprintf(d.rundir, sizeof(d.rundir), "%s", o.rundir);
	if (*o.socket)
		snprintf(d.socket_path, sizeof(d.socket_path), "%s", o.socket);
	else
		snprintf(d.socket_path, sizeof(d.socket_path), "%s/%s", o.rundir,
			 SL_API_SOCKET_NAME);
	if (o.daemonize && !*o.log_file)
		snprintf(o.log_file, sizeof(o.log_file), "%s/sluiced.log", o.rundir);

	if (o.daemonize) {
		pid_t pid;
		char b;

		if (pipe2(ready, O_CLOEXEC))
			return 1;
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0) {
			close(ready[1]);
			/* Ready byte: listening. EOF: the child failed. */
			return read(ready[0], &b, 1) == 1 ? 0 : 1;
		}
		close(ready[0]);
		setsid();
		i = open("/dev/null", O_RDWR);
		if (i >= 0) {
			dup2(i, 0);
			if (i > 0)
				close(i);
		}
	}
	if (*o.log_file) {
		int fd = open(o.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

		if (fd < 0) {
			fprintf(stderr, "sluiced: %s: %s\n", o.log_file, strerror(errno));
			return 1;
		}
		dup2(fd, 2);
		if (o.daemonize)
			dup2(fd, 1);
		close(fd);
	}
	sl_log_init("sluiced", (enum sl_log_level)o.level);
	lock = take_lock(o.rundir);
	if (lock < 0)
		return 1;
	/* Bring-up holds a namespace fd per node. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	d.started = time(NULL);
	{
		sigset_t mask;

		/* Blocked before any thread starts (the dataplane's, the host
		 * agent's), so that they inherit it and only the main loop's
		 * signalfd sees SIGTERM and friends. */
		sigemptyset(&mask);
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGHUP);
		sigaddset(&mask, SIGCHLD);
		sigprocmask(SIG_BLOCK, &mask, NULL);
	}
	{
		struct sl_err err = { "" };
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		unsigned threads = o.dp_threads ? (unsigned)o.dp_threads :
				   (cpus > 1 ? (unsigned)cpus - 1 : 1);

		/* One core is left to the programs in the nodes. */
		d.dp = sl_dataplane_new(threads, &err);
		if (!d.dp)
			pr_warn("no user-space dataplane (%s): links that need "
				"cells (delay, jitter, ...) cannot come up", err.msg);
		else
			pr_info("dataplane: %u thread%s", threads, threads > 1 ? "s" : "");
	}
	recover_topologies(&d);
	if (*o.controller) {
		struct sl_hostagent_conf ac = {
			.url = o.controller, .token = o.token, .version = SLUICE_VERSION,
			.host_id = *o.host_id ? o.host_id : NULL,
		};
		struct sl_err err = { "" };
		char hn[64];

		if (!ac.host_id && !gethostname(hn, sizeof(hn)))
			ac.host_id = hn;
		d.agent = sl_hostagent_start(&ac, &err);
		if (!d.agent)
			pr_err("controller: %s; running standalone", err.msg);
		agent_sync_topologies(&d);
	}
	ret = server_run(&d, ready[1]);
	sl_hostagent_stop(d.agent);
	for (i = 0; i < (int)d.n_nets; i++)
		sl_net_free(d.nets[i]);
	free(d.nets);
	sl_dataplane_free(d.dp);
	pr_info("stopped");
	close(lock);
	return ret ? 1 : 0;
}
