// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tcpflows - one bulk TCP flow on each of many paths, from one process, for
 * bench/normal (the concurrency test). iperf3 needs two processes per path,
 * and each received segment wakes its server: with hundreds of paths the
 * wakeups and context switches of the load generator cost more CPU than the
 * emulator being measured, on the same two cores. Here two threads carry
 * every flow (one writes, one reads), and the readers ask the kernel to wake
 * them only when 64 KiB have arrived (SO_RCVLOWAT).
 *
 *   tcpflows PAIRS --duration S --omit S [--port P] [--cc NAME]
 *            [--rcvlowat BYTES] [--sample-ms MS]
 *
 * PAIRS is a file of lines "CLIENT_NETNS SERVER_NETNS SERVER_ADDR": path i
 * is line i; the server listens in SERVER_NETNS, the client connects from
 * CLIENT_NETNS. All flows start together; bytes received in
 * [omit, duration] give the goodput, and the client's TCP_INFO is sampled
 * every --sample-ms (default 200) in that window: mean of tcpi_rtt (the
 * smoothed RTT, as iperf3's mean_rtt) and the lowest tcpi_min_rtt. Prints
 * "ready" once every flow is connected, then one line per path:
 *   PATH GOODPUT_BPS MEAN_RTT_US MIN_RTT_US RETRANS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define MAX_PATHS 4096
#define WRITE_SIZE (256 * 1024)

struct path {
	int lfd, cfd, sfd; /* listener, client, accepted */
	struct sockaddr_in addr;
	uint64_t rx_bytes;	  /* all received */
	uint64_t rx_at_omit;	  /* received when the window opened */
	uint64_t rx_at_end;
	double rtt_sum;
	unsigned rtt_n;
	uint32_t min_rtt;
	uint32_t retrans_at_omit, retrans_at_end;
};

static struct path paths[MAX_PATHS];
static unsigned n_paths;
static atomic_bool stop_flag;
static int rcvlowat = 65536;
static int rcvbuf = 2 << 20;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int enter_ns(const char *name)
{
	char p[300];
	int fd, ret;

	snprintf(p, sizeof(p), "/run/netns/%s", name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tcpflows: %s: %s\n", p, strerror(errno));
		return -1;
	}
	ret = setns(fd, CLONE_NEWNET);
	if (ret)
		fprintf(stderr, "tcpflows: setns %s: %s\n", name, strerror(errno));
	close(fd);
	return ret;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Readers: accept, then read and count; woken per rcvlowat bytes. */
static void *reader(void *arg)
{
	static char buf[1 << 20];
	struct epoll_event ev[64];
	int ep = *(int *)arg, n, i;

	while (!atomic_load(&stop_flag)) {
		n = epoll_wait(ep, ev, 64, 100);
		for (i = 0; i < n; i++) {
			struct path *p = &paths[ev[i].data.u32 >> 1];
			ssize_t r;

			if (!(ev[i].data.u32 & 1)) { /* listener */
				int fd = accept4(p->lfd, NULL, NULL,
						 SOCK_NONBLOCK | SOCK_CLOEXEC);
				struct epoll_event e = { .events = EPOLLIN };

				if (fd < 0)
					continue;
				setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT,
					   &rcvlowat, sizeof(rcvlowat));
				p->sfd = fd;
				e.data.u32 = ev[i].data.u32 | 1;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				continue;
			}
			while ((r = read(p->sfd, buf, sizeof(buf))) > 0)
				p->rx_bytes += (uint64_t)r;
		}
	}
	return NULL;
}

/* Writers: keep every client's send buffer full. */
static void *writer(void *arg)
{
	static char buf[WRITE_SIZE];
	struct epoll_event ev[64];
	int ep = *(int *)arg, n, i;

	memset(buf, 'x', sizeof(buf));
	while (!atomic_load(&stop_flag)) {
		n = epoll_wait(ep, ev, 64, 100);
		for (i = 0; i < n; i++) {
			struct path *p = &paths[ev[i].data.u32];

			while (write(p->cfd, buf, sizeof(buf)) > 0)
				;
		}
	}
	return NULL;
}

static void sample(int last)
{
	struct tcp_info ti;
	socklen_t len;
	unsigned i;

	for (i = 0; i < n_paths; i++) {
		struct path *p = &paths[i];

		len = sizeof(ti);
		if (getsockopt(p->cfd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			continue;
		p->rtt_sum += ti.tcpi_rtt;
		p->rtt_n++;
		if (!p->min_rtt || (ti.tcpi_min_rtt && ti.tcpi_min_rtt < p->min_rtt))
			p->min_rtt = ti.tcpi_min_rtt;
		if (last)
			p->retrans_at_end = ti.tcpi_total_retrans;
	}
}

static void retrans_now(void)
{
	struct tcp_info ti;
	socklen_t len;
	unsigned i;

	for (i = 0; i < n_paths; i++) {
		len = sizeof(ti);
		if (!getsockopt(paths[i].cfd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			paths[i].retrans_at_omit = ti.tcpi_total_retrans;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: tcpflows PAIRS --duration S --omit S [--port P] [--cc NAME]\n"
			"                [--rcvlowat BYTES] [--sample-ms MS]\n");
}

int main(int argc, char **argv)
{
	double duration = 10, omit = 2, t0, t, next;
	const char *cc = NULL, *pairs;
	char cns[256], sns[256], addr[64];
	int port = 5301, sample_ms = 200, a, home, rep, wep, one = 1;
	pthread_t rt, wt;
	unsigned i, connected;
	FILE *f;

	if (argc < 2) {
		usage();
		return 2;
	}
	pairs = argv[1];
	for (a = 2; a < argc; a++) {
		if (a + 1 >= argc) {
			usage();
			return 2;
		}
		if (!strcmp(argv[a], "--duration"))
			duration = atof(argv[++a]);
		else if (!strcmp(argv[a], "--omit"))
			omit = atof(argv[++a]);
		else if (!strcmp(argv[a], "--port"))
			port = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--cc"))
			cc = argv[++a];
		else if (!strcmp(argv[a], "--rcvlowat"))
			rcvlowat = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--sample-ms"))
			sample_ms = atoi(argv[++a]);
		else {
			usage();
			return 2;
		}
	}
	f = fopen(pairs, "re");
	if (!f) {
		perror(pairs);
		return 1;
	}
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	rep = epoll_create1(EPOLL_CLOEXEC);
	wep = epoll_create1(EPOLL_CLOEXEC);
	while (n_paths < MAX_PATHS &&
	       fscanf(f, "%255s %255s %63s", cns, sns, addr) == 3) {
		struct path *p = &paths[n_paths];
		struct sockaddr_in any = { .sin_family = AF_INET,
					   .sin_port = htons((uint16_t)port) };
		struct epoll_event e = { .events = EPOLLIN,
					 .data.u32 = n_paths << 1 };

		p->addr = any;
		if (inet_pton(AF_INET, addr, &p->addr.sin_addr) != 1) {
			fprintf(stderr, "tcpflows: %s: not an IPv4 address\n", addr);
			return 1;
		}
		if (enter_ns(sns))
			return 1;
		p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* a fixed receive buffer (inherited by the accepted socket):
		 * SO_RCVLOWAT on an autotuned one clamps the window to it */
		setsockopt(p->lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&any, sizeof(any)) ||
		    listen(p->lfd, 4)) {
			fprintf(stderr, "tcpflows: listen in %s: %s\n", sns, strerror(errno));
			return 1;
		}
		epoll_ctl(rep, EPOLL_CTL_ADD, p->lfd, &e);
		if (enter_ns(cns))
			return 1;
		p->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (p->cfd < 0) {
			perror("tcpflows: socket");
			return 1;
		}
		if (cc && setsockopt(p->cfd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc))) {
			fprintf(stderr, "tcpflows: congestion control %s: %s\n", cc, strerror(errno));
			return 1;
		}
		p->sfd = -1;
		n_paths++;
	}
	fclose(f);
	if (setns(home, CLONE_NEWNET)) {
		perror("tcpflows: setns back");
		return 1;
	}
	if (!n_paths) {
		fprintf(stderr, "tcpflows: no paths in %s\n", pairs);
		return 1;
	}
	pthread_create(&rt, NULL, reader, &rep);
	/* connect all (blocking: a SYN each, done in well under a second);
	 * connect() works in the netns the socket was made in */
	for (i = 0; i < n_paths; i++) {
		if (connect(paths[i].cfd, (struct sockaddr *)&paths[i].addr,
			    sizeof(paths[i].addr))) {
			fprintf(stderr, "tcpflows: path %u: connect: %s\n", i,
				strerror(errno));
			atomic_store(&stop_flag, true);
			pthread_join(rt, NULL);
			return 1;
		}
		nonblock(paths[i].cfd);
	}
	for (connected = 0, t = mono(); connected < n_paths && mono() - t < 5;) {
		for (connected = 0, i = 0; i < n_paths; i++)
			connected += paths[i].sfd >= 0;
		usleep(1000);
	}
	if (connected < n_paths) {
		fprintf(stderr, "tcpflows: %u of %u connections accepted\n",
			connected, n_paths);
		atomic_store(&stop_flag, true);
		pthread_join(rt, NULL);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (i = 0; i < n_paths; i++) {
		struct epoll_event e = { .events = EPOLLOUT, .data.u32 = i };

		epoll_ctl(wep, EPOLL_CTL_ADD, paths[i].cfd, &e);
	}
	t0 = mono();
	pthread_create(&wt, NULL, writer, &wep);
	/* the window: counters read from this thread race with the reader
	 * by at most one read's worth, which is noise at these durations */
	while (mono() - t0 < omit)
		usleep(10000);
	for (i = 0; i < n_paths; i++)
		paths[i].rx_at_omit = paths[i].rx_bytes;
	retrans_now();
	t = mono();
	next = t + sample_ms / 1e3;
	while ((t = mono()) - t0 < duration) {
		if (t >= next) {
			sample(0);
			next += sample_ms / 1e3;
		}
		usleep(5000);
	}
	for (i = 0; i < n_paths; i++)
		paths[i].rx_at_end = paths[i].rx_bytes;
	sample(1);
	t = mono() - t0 - omit;
	atomic_store(&stop_flag, true);
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	for (i = 0; i < n_paths; i++) {
		struct path *p = &paths[i];

		printf("%u %.0f %.0f %u %u\n", i,
		       (double)(p->rx_at_end - p->rx_at_omit) * 8 / t,
		       p->rtt_n ? p->rtt_sum / p->rtt_n : 0.0, p->min_rtt,
		       p->retrans_at_end - p->retrans_at_omit);
	}
	return 0;
}
