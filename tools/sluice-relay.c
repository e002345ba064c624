// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sluice-relay - a TCP relay inside a node, joined in the kernel (max mode
 * L4 for proxied flows). sluiced spawns one per relay hop; it also runs by
 * hand:
 *
 *   sluice-relay [--netns NS] --listen ADDR:PORT --to ADDR:PORT
 *                [--mode splice|sockmap] [--threads N] [--pipe-size BYTES]
 *   sluice-relay [--netns NS] --listen ADDR:PORT --socks5 [...]
 *
 * Prints "ready ADDR:PORT MODE" on stdout once listening. SIGUSR1 prints a
 * JSON line of counters, SIGINT/SIGTERM closes every connection, prints
 * the counters and exits 0. Exit 1 on a runtime error, 2 on bad usage.
 * The engine is lib/relay.c and lib/relay_io.c (include/sluice/relay.h).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <sluice/log.h>
#include <sluice/relay.h>

#define MAX_THREADS 64

struct worker {
	struct sl_relay *relay;
	pthread_t tid;
	int rc;
	struct sl_err err;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->rc = sl_relay_run(w->relay, &w->err);
	if (w->rc)
		kill(getpid(), SIGTERM);
	return NULL;
}

static void print_stats(struct worker *w, int n, const char *mode)
{
	struct sl_relay_stats t = { 0 }, s;
	struct rusage ru;
	int i;

	for (i = 0; i < n; i++) {
		sl_relay_stats_get(w[i].relay, &s);
		t.accepted += s.accepted;
		t.active += s.active;
		t.closed += s.closed;
		t.reset += s.reset;
		t.connect_failed += s.connect_failed;
		t.socks_refused += s.socks_refused;
		t.bytes_up += s.bytes_up;
		t.bytes_down += s.bytes_down;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"mode\": \"%s\", \"accepted\": %llu, \"active\": %llu, "
	       "\"closed\": %llu, \"reset\": %llu, \"connect_failed\": %llu, "
	       "\"socks_refused\": %llu, \"bytes_up\": %llu, "
	       "\"bytes_down\": %llu, \"cpu_user_s\": %.3f, "
	       "\"cpu_sys_s\": %.3f}\n",
	       mode, (unsigned long long)t.accepted,
	       (unsigned long long)t.active, (unsigned long long)t.closed,
	       (unsigned long long)t.reset,
	       (unsigned long long)t.connect_failed,
	       (unsigned long long)t.socks_refused,
	       (unsigned long long)t.bytes_up,
	       (unsigned long long)t.bytes_down,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-relay [--netns NS] --listen ADDR:PORT (--to ADDR:PORT | --socks5)\n"
		"                    [--mode splice|sockmap] [--threads N] [--pipe-size BYTES]\n"
		"  --netns NS        run inside network namespace NS (/run/netns/NS)\n"
		"  --listen A:P      listen address: 10.0.0.1:9000, *:9000, [::]:9000\n"
		"  --to A:P          forward every connection to A:P (numeric)\n"
		"  --socks5          SOCKS5 front (RFC 1928 CONNECT, no auth)\n"
		"  --mode M          splice (default) or sockmap\n"
		"  --threads N       N event loops sharing the port (SO_REUSEPORT), default 1\n"
		"  --pipe-size B     splice pipe size per direction (default: the kernel's)\n"
		"  --log-level L     error, warn, info, debug\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "listen", required_argument, NULL, 'l' },
		{ "to", required_argument, NULL, 't' },
		{ "socks5", no_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 'j' },
		{ "pipe-size", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_relay_opts o = { 0 };
	struct worker w[MAX_THREADS];
	struct sl_err err = { { 0 } };
	const char *listen_s = NULL, *to_s = NULL;
	struct sockaddr_storage la;
	socklen_t ll;
	int c, i, n = 1, started = 0, rc = 0, lvl = SL_LOG_WARN, sig;
	sigset_t set;
	char a[80];

	memset(w, 0, sizeof(w));
	while ((c = getopt_long(argc, argv, "n:l:t:sm:j:p:L:h", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'n':
			o.netns = optarg;
			break;
		case 'l':
			listen_s = optarg;
			break;
		case 't':
			to_s = optarg;
			break;
		case 's':
			o.front = SL_RELAY_SOCKS5;
			break;
		case 'm':
			if (sl_relay_mode_parse(optarg, &o.mode, &err)) {
				fprintf(stderr, "sluice-relay: %s\n", err.msg);
				return 2;
			}
			break;
		case 'j':
			n = atoi(optarg);
			if (n < 1 || n > MAX_THREADS) {
				fprintf(stderr, "sluice-relay: --threads: 1..%d\n",
					MAX_THREADS);
				return 2;
			}
			break;
		case 'p':
			o.pipe_size = strtoul(optarg, NULL, 0);
			break;
		case 'L':
			lvl = sl_log_level_parse(optarg);
			if (lvl < 0) {
				fprintf(stderr, "sluice-relay: bad log level %s\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !listen_s ||
	    (o.front == SL_RELAY_SOCKS5) == !!to_s) {
		usage(stderr);
		return 2;
	}
	sl_log_init("sluice-relay", (enum sl_log_level)lvl);
	if (sl_relay_parse_addr(listen_s, &o.listen, &o.listen_len, &err) ||
	    (to_s && sl_relay_parse_addr(to_s, &o.to, &o.to_len, &err))) {
		fprintf(stderr, "sluice-relay: %s\n", err.msg);
		return 2;
	}
	o.reuseport = n > 1;
	/* Signals go to the main thread's sigwait only. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++) {
		if (sl_relay_new(&o, &w[i].relay, &err)) {
			fprintf(stderr, "sluice-relay: %s\n", err.msg);
			rc = 1;
			goto out;
		}
		/* port 0: the other loops share the port the first got */
		if (i == 0) {
			sl_relay_local_addr(w[0].relay, &la, &ll);
			memcpy(&o.listen, &la, ll);
			o.listen_len = ll;
		}
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
			rc = 1;
			goto stop;
		}
		started++;
	}
	printf("ready %s %s\n",
	       sl_relay_format_addr((struct sockaddr *)&la, a, sizeof(a)),
	       sl_relay_mode_name(o.mode));
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGUSR1)
			print_stats(w, n, sl_relay_mode_name(o.mode));
		else if (sig == SIGINT || sig == SIGTERM)
			break;
	}
stop:
	for (i = 0; i < started; i++)
		sl_relay_stop(w[i].relay);
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].rc) {
			fprintf(stderr, "sluice-relay: %s\n", w[i].err.msg);
			rc = 1;
		}
	}
	print_stats(w, n, sl_relay_mode_name(o.mode));
out:
	for (i = 0; i < n; i++)
		sl_relay_free(w[i].relay);
	return rc;
}
