// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sluiced - the sluice host daemon: builds topologies out of namespaces,
 * veth pairs and BPF, serves the local API on a Unix socket, and keeps
 * its state under a run directory so a restart loses nothing.
 */
#include <errno.h>
#include <sched.h>
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
"                          dataplane-cpus, dataplane-steer,\n"
"                          dataplane-idle-poll-us,\n"
"                          controller, host-id, controller-token,\n"
"                          controller-ca, controller-insecure)\n"
"      --controller URL    report to sluice-controller at ws://HOST:PORT/ws\n"
"                          or wss://HOST:PORT/ws\n"
"      --host-id ID        this host's id there (default: the host name)\n"
"      --controller-token T   its token (from sluice-controller add-host)\n"
"      --controller-ca FILE   wss: trust the controller's certificate if\n"
"                          this CA (PEM) signed it (default: the system's CAs)\n"
"      --controller-insecure  wss: accept any certificate (tests only)\n"
"  -h, --help              this help\n"
"  -V, --version           version\n"
"\n"
"On start, topologies that were fully up are re-adopted and half-built ones\n"
"(a bring-up that was killed) are rolled back. SIGTERM stops the daemon and\n"
"leaves the topologies up; `sluicectl down --all` removes them.\n"
"See sluiced(8).\n");
}

enum {
	O_CONTROLLER = 256, O_HOST_ID, O_TOKEN, O_CA, O_INSECURE,
};

struct opts {
	char rundir[256];
	char socket[300];
	char log_file[300];
	int level;
	bool daemonize;
	int dp_threads;
	int dp_cpu_first;   /* -2: auto (the last CPUs), -1: not pinned */
	int dp_steer;       /* RPS of normal-mode node interfaces (SL_STEER_*) */
	uint32_t dp_idle_poll_ns;
	char controller[256];
	char host_id[64];
	char token[512];
	char ca_file[256];
	bool insecure;
};

/* yes/no, true/false, on/off, 1/0 */
static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

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
	} else if (!strcmp(key, "dataplane-cpus")) {
		char *end;
		long v = strtol(val, &end, 10);

		if (!strcmp(val, "auto")) {
			o->dp_cpu_first = -2;
		} else if (!strcmp(val, "none")) {
			o->dp_cpu_first = -1;
		} else if (!*val || *end || v < 0 || v > 4095) {
			fprintf(stderr, "sluiced: %s: dataplane-cpus \"%s\"; expected "
				"auto, none or the index of the first CPU (0 to 4095)\n",
				where, val);
			return -EINVAL;
		} else {
			o->dp_cpu_first = (int)v;
		}
	} else if (!strcmp(key, "dataplane-steer")) {
		if (!strcmp(val, "others")) {
			o->dp_steer = SL_STEER_OTHERS;
		} else if (!strcmp(val, "all")) {
			o->dp_steer = SL_STEER_ALL;
		} else if (!strcmp(val, "no")) {
			o->dp_steer = SL_STEER_OFF;
		} else {
			fprintf(stderr, "sluiced: %s: dataplane-steer \"%s\"; expected "
				"others, all or no\n", where, val);
			return -EINVAL;
		}
	} else if (!strcmp(key, "dataplane-idle-poll-us")) {
		char *end;
		long v = strtol(val, &end, 10);

		if (!*val || *end || v < 0 || v > 100000) {
			fprintf(stderr, "sluiced: %s: dataplane-idle-poll-us \"%s\"; "
				"expected a number of microseconds from 0 to 100000\n",
				where, val);
			return -EINVAL;
		}
		o->dp_idle_poll_ns = v ? (uint32_t)v * 1000u : 1;
	} else if (!strcmp(key, "controller")) {
		snprintf(o->controller, sizeof(o->controller), "%s", val);
	} else if (!strcmp(key, "host-id")) {
		snprintf(o->host_id, sizeof(o->host_id), "%s", val);
	} else if (!strcmp(key, "controller-token")) {
		snprintf(o->token, sizeof(o->token), "%s", val);
	} else if (!strcmp(key, "controller-ca")) {
		if (strlen(val) >= sizeof(o->ca_file)) {
			fprintf(stderr, "sluiced: %s: controller-ca: path longer than %zu "
				"bytes\n", where, sizeof(o->ca_file) - 1);
			return -EINVAL;
		}
		snprintf(o->ca_file, sizeof(o->ca_file), "%s", val);
	} else if (!strcmp(key, "controller-insecure")) {
		if (parse_bool(val, &o->insecure)) {
			fprintf(stderr, "sluiced: %s: controller-insecure \"%s\"; expected "
				"yes or no\n", where, val);
			return -EINVAL;
		}
	} else if (!strcmp(key, "log-level")) {
		o->level = sl_log_level_parse(val);
		if (o->level < 0) {
			fprintf(stderr, "sluiced: %s: log-level \"%s\"; expected "
				"error, warn, info or debug\n", where, val);
			return -EINVAL;
		}
	} else {
		fprintf(stderr, "sluiced: %s: unknown key \"%s\"; expected rundir, "
			"socket, log-level, dataplane-threads, dataplane-cpus, "
			"dataplane-steer, dataplane-idle-poll-us, controller, host-id, "
			"controller-token, controller-ca or controller-insecure\n",
			where, key);
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

/* TLS settings that would be ignored are mistakes worth stopping for. */
static int check_controller_opts(const struct opts *o)
{
	bool wss = !strncmp(o->controller, "wss://", 6);

	if (!*o->controller)
		return 0;
	if (!*o->token) {
		fprintf(stderr, "sluiced: controller %s: no controller-token; expected "
			"the token sluice-controller add-host printed\n", o->controller);
		return -EINVAL;
	}
	if ((*o->ca_file || o->insecure) && !wss) {
		fprintf(stderr, "sluiced: controller-%s is set but controller \"%s\" is "
			"not wss://; expected a wss:// URL (TLS)\n",
			*o->ca_file ? "ca" : "insecure", o->controller);
		return -EINVAL;
	}
	if (*o->ca_file && access(o->ca_file, R_OK)) {
		fprintf(stderr, "sluiced: controller-ca %s: %s; expected a readable "
			"PEM file of the CA that signed the controller's certificate\n",
			o->ca_file, strerror(errno));
		return -EINVAL;
	}
	if (*o->ca_file && o->insecure)
		fprintf(stderr, "sluiced: warning: controller-insecure is set: "
			"controller-ca %s is not checked\n", o->ca_file);
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
		{ "controller", required_argument, NULL, O_CONTROLLER },
		{ "host-id", required_argument, NULL, O_HOST_ID },
		{ "controller-token", required_argument, NULL, O_TOKEN },
		{ "controller-ca", required_argument, NULL, O_CA },
		{ "controller-insecure", no_argument, NULL, O_INSECURE },
		{ 0 },
	};
	struct opts o = { .rundir = SL_RUNDIR_DEFAULT, .level = SL_LOG_INFO,
			  .dp_cpu_first = -2, .dp_steer = SL_STEER_OFF };
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
		case O_CONTROLLER: case O_HOST_ID: case O_TOKEN: case O_CA:
			if (set_opt(&o, c == O_CONTROLLER ? "controller" :
				    c == O_HOST_ID ? "host-id" :
				    c == O_TOKEN ? "controller-token" : "controller-ca",
				    optarg, "command line"))
				return 2;
			break;
		case O_INSECURE: o.insecure = true; break;
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
	if (check_controller_opts(&o))
		return 2;
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

		struct sl_dataplane_opts dpo;

		/* One core is left to the programs in the nodes. With CPUs to
		 * spare, the threads take the last ones and the nodes' stack
		 * work is steered to the others (docs/dataplane.md). */
		sl_dataplane_opts_default(&dpo);
		dpo.n_threads = threads;
		dpo.idle_poll_ns = o.dp_idle_poll_ns;
		dpo.cpu_first = o.dp_cpu_first;
		/* pinned threads need the nodes' stack work steered away
		 * (without it, all of it lands on their CPUs) */
		if (dpo.cpu_first == -2 && o.dp_steer == SL_STEER_OFF)
			dpo.cpu_first = -1;
		if (dpo.cpu_first == -2) {
			cpu_set_t set;
			long usable = cpus;

			if (!sched_getaffinity(0, sizeof(set), &set))
				usable = CPU_COUNT(&set);
			dpo.cpu_first = usable > (long)threads ?
						(int)(usable - (long)threads) : -1;
		}
		dpo.steer_rps = o.dp_steer;
		d.dp = sl_dataplane_new_opts(&dpo, &err);
		d.dp_threads = threads;
		if (!d.dp) {
			pr_warn("no user-space dataplane (%s): links that need "
				"cells (delay, jitter, ...) cannot come up", err.msg);
		} else {
			char mask[128] = "-";

			if (sl_dataplane_steer_mask(d.dp, mask, sizeof(mask)))
				snprintf(mask, sizeof(mask), "off");
			if (dpo.cpu_first >= 0)
				pr_info("dataplane: %u thread%s from CPU %d on; node "
					"interfaces steer to CPUs %s", threads,
					threads > 1 ? "s" : "", dpo.cpu_first, mask);
			else
				pr_info("dataplane: %u thread%s, not pinned", threads,
					threads > 1 ? "s" : "");
		}
	}
	recover_topologies(&d);
	if (*o.controller) {
		struct sl_hostagent_conf ac = {
			.url = o.controller, .token = o.token, .version = SLUICE_VERSION,
			.host_id = *o.host_id ? o.host_id : NULL,
			.ca_file = *o.ca_file ? o.ca_file : NULL,
			.insecure = o.insecure,
			.capabilities = agent_capabilities(&d),
			.capacity = agent_capacity(&d),
		};
		struct sl_err err = { "" };
		char hn[64];

		if (!ac.host_id && !gethostname(hn, sizeof(hn)))
			ac.host_id = hn;
		if (o.insecure)
			pr_warn("controller: controller-insecure: the controller's "
				"certificate is not checked (tests only)");
		d.agent = sl_hostagent_start(&ac, &err);
		json_object_put(ac.capabilities);
		json_object_put(ac.capacity);
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
