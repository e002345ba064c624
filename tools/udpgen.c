// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * udpgen - a small-packet UDP generator and counter for packet-rate
 * measurements (iperf3's UDP sender tops out near 0.1-0.16 Mpps here).
 *
 *   udpgen send DST PORT [--size BYTES] [--pps N] [--count N]
 *                        [--duration SEC] [--batch N] [--flows N]
 *   udpgen recv PORT [--duration SEC] [--idle SEC] [--count N]
 *   udpgen xsend IFNAME DST PORT [--dst-mac MAC] [--size BYTES]
 *                        [--duration SEC] [--batch N]
 *
 * send: sendmmsg() batches on a connected socket. --size is the Ethernet
 * frame without FCS (default 60, i.e. a 64-byte frame on the wire); the
 * payload carries a 64-bit sequence number and, from 16 bytes of payload
 * on (the default frame has 18), the CLOCK_REALTIME nanoseconds just
 * before the batch was sent. --pps paces in batches (0:
 * as fast as possible); --flows N spreads packets over N source ports.
 * Stops after --count packets or --duration seconds (default 5).
 * recv: recvmmsg() batches; stops after --duration, after --count packets,
 * or --idle seconds without a packet once one has arrived (default 2).
 * xsend: raw frames from an AF_XDP socket on IFNAME (copy mode on veth),
 * bypassing the sender's UDP/IP stack, so that one core offers more than
 * sendmmsg() can; the frames go to --dst-mac (default broadcast) from
 * IFNAME's own address and IPv4 address.
 * All end with one JSON line: packets, seconds, pps and, for recv, the
 * sequence numbers seen (unique, duplicates, reordered, max) so that loss
 * is 1 - unique / sent, and the one-way delay of stamped packets
 * (owd_min_us, owd_avg_us, owd_max_us: the kernel's receive timestamp
 * minus the send stamp; sender and receiver on one host share the clock).
 * The send stamp precedes each packet's transmission, so the measured
 * delay is never below the path's: a minimum under an emulated delay
 * means a packet left early.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <sluice/xsk.h>

#define BATCH_MAX 256
#define HDRS 42 /* Ethernet 14 + IPv4 20 + UDP 8 */
#define SEEN_BITS (1u << 24)

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The one-way delay of a received packet stamped tx by its sender: the
 * kernel's receive timestamp (SCM_TIMESTAMPNS) minus tx. */
static bool rx_stamp(struct msghdr *mh, uint64_t tx, int64_t *owd)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*owd = (int64_t)((uint64_t)ts.tv_sec * 1000000000ull +
					 (uint64_t)ts.tv_nsec - tx);
			return true;
		}
	}
	return false;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: udpgen send DST PORT [--size B] [--pps N] [--count N] [--duration S]\n"
		"                            [--batch N] [--flows N]\n"
		"       udpgen recv PORT [--duration S] [--idle S] [--count N]\n"
		"       udpgen xsend IFNAME DST PORT [--dst-mac MAC] [--size B] [--duration S]\n"
		"                            [--batch N]\n");
}

static int do_send(const char *dst, int port, unsigned size, double pps,
		   uint64_t count, double duration, unsigned batch,
		   unsigned flows)
{
	static char buf[BATCH_MAX][2048];
	struct mmsghdr msg[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned payload = size > HDRS + 8 ? size - HDRS : 8, i, f;
	uint64_t sent = 0, seq = 0, errors = 0, stamp;
	double t0, t, next;
	int fds[64], n;

	if (payload > sizeof(buf[0]))
		payload = sizeof(buf[0]);
	if (flows < 1)
		flows = 1;
	if (flows > 64)
		flows = 64;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, dst, &sa.sin_addr) != 1) {
		fprintf(stderr, "udpgen: %s is not an IPv4 address\n", dst);
		return 2;
	}
	for (f = 0; f < flows; f++) {
		int sndbuf = 4 << 20;

		fds[f] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fds[f] < 0 ||
		    connect(fds[f], (struct sockaddr *)&sa, sizeof(sa))) {
			perror("udpgen: socket");
			return 1;
		}
		setsockopt(fds[f], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < batch; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = payload;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = next = mono();
	for (f = 0;; f = (f + 1) % flows) {
		unsigned want = batch;

		t = mono();
		if ((count && sent >= count) || (!count && t - t0 >= duration))
			break;
		if (count && count - sent < want)
			want = (unsigned)(count - sent);
		if (pps > 0) {
			while (t < next)
				t = mono();
			next += want / pps;
		}
		stamp = payload >= 16 ? real_ns() : 0;
		for (i = 0; i < want; i++) {
			memcpy(buf[i], &(uint64_t){ seq + i }, 8);
			if (stamp)
				memcpy(buf[i] + 8, &stamp, 8);
		}
		n = sendmmsg(fds[f], msg, want, 0);
		if (n < 0) {
			/* ENOBUFS and the like: the path is full, go on */
			errors++;
			continue;
		}
		seq += (uint64_t)n;
		sent += (uint64_t)n;
	}
	t = mono() - t0;
	printf("{\"mode\": \"send\", \"packets\": %llu, \"seconds\": %.3f, \"pps\": %.0f, \"frame_bytes\": %u, \"errors\": %llu}\n",
	       (unsigned long long)sent, t, sent / t, payload + HDRS,
	       (unsigned long long)errors);
	for (f = 0; f < flows; f++)
		close(fds[f]);
	return 0;
}

static int do_recv(int port, double duration, double idle, uint64_t count)
{
	static char buf[BATCH_MAX][2048];
	struct mmsghdr msg[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static char cbuf[BATCH_MAX][CMSG_SPACE(sizeof(struct timespec))];
	uint64_t got = 0, uniq = 0, dup = 0, reord = 0, maxseq = 0, seq;
	uint64_t n_owd = 0, tx;
	int64_t owd, owd_min = INT64_MAX, owd_max = INT64_MIN;
	double owd_sum = 0;
	uint8_t *seen = calloc(SEEN_BITS / 8, 1);
	double t0, first = 0, last = 0, t;
	int fd, n, i, rcvbuf = 16 << 20;
	bool any = false;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_port = htons((uint16_t)port);
	if (fd < 0 || !seen || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("udpgen: bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < BATCH_MAX; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	printf("{\"mode\": \"recv\", \"listening\": %d}\n", port);
	fflush(stdout);
	t0 = mono();
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		t = mono();
		if (duration > 0 && t - t0 >= duration)
			break;
		if (any && t - last >= idle)
			break;
		if (count && got >= count)
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		for (i = 0; i < BATCH_MAX; i++) {
			msg[i].msg_hdr.msg_control = cbuf[i];
			msg[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
		}
		n = recvmmsg(fd, msg, BATCH_MAX, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		last = mono();
		if (!any) {
			any = true;
			first = last;
		}
		for (i = 0; i < n; i++) {
			if (msg[i].msg_len < 8)
				continue;
			memcpy(&seq, buf[i], 8);
			if (msg[i].msg_len >= 16 &&
			    (memcpy(&tx, buf[i] + 8, 8), tx) &&
			    rx_stamp(&msg[i].msg_hdr, tx, &owd)) {
				n_owd++;
				owd_sum += (double)owd;
				if (owd < owd_min)
					owd_min = owd;
				if (owd > owd_max)
					owd_max = owd;
			}
			if (seq < maxseq)
				reord++;
			if (seq > maxseq)
				maxseq = seq;
			if (seq < SEEN_BITS) {
				if (seen[seq / 8] & (1u << (seq % 8))) {
					dup++;
					continue;
				}
				seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
			}
			uniq++;
		}
		got += (uint64_t)n;
	}
	t = last - first;
	printf("{\"mode\": \"recv\", \"packets\": %llu, \"unique\": %llu, \"duplicates\": %llu, \"reordered\": %llu, \"max_seq\": %llu, \"seconds\": %.3f, \"pps\": %.0f",
	       (unsigned long long)got, (unsigned long long)uniq,
	       (unsigned long long)dup, (unsigned long long)reord,
	       (unsigned long long)maxseq, t, t > 0 ? got / t : 0.0);
	if (n_owd)
		printf(", \"owd_min_us\": %.1f, \"owd_avg_us\": %.1f, \"owd_max_us\": %.1f",
		       (double)owd_min / 1e3, owd_sum / (double)n_owd / 1e3,
		       (double)owd_max / 1e3);
	printf("}\n");
	free(seen);
	close(fd);
	return 0;
}

static uint16_t csum16(const uint8_t *p, unsigned len)
{
	uint32_t acc = 0;
	unsigned i;

	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* An Ethernet/IPv4/UDP frame of size bytes (UDP checksum 0: none). */
static int build_frame(uint8_t *f, unsigned size, const char *ifname,
		       const uint8_t *dmac, const char *dst, int port)
{
	struct ifreq ifr;
	struct in_addr src, d;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned ulen = size - 34;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		perror("udpgen: SIOCGIFHWADDR");
		return -1;
	}
	memcpy(f + 6, ifr.ifr_hwaddr.sa_data, 6);
	ifr.ifr_addr.sa_family = AF_INET;
	if (ioctl(fd, SIOCGIFADDR, &ifr)) {
		perror("udpgen: SIOCGIFADDR");
		close(fd);
		return -1;
	}
	close(fd);
	src = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	if (inet_pton(AF_INET, dst, &d) != 1)
		return -1;
	memset(f + 14, 0, size - 14);
	memcpy(f, dmac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	f[16] = (uint8_t)((size - 14) >> 8);
	f[17] = (uint8_t)(size - 14);
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, &src, 4);
	memcpy(f + 30, &d, 4);
	{
		uint16_t c = csum16(f + 14, 20);

		f[24] = (uint8_t)(c >> 8);
		f[25] = (uint8_t)c;
	}
	f[34] = 0x9c;
	f[35] = 0x40; /* source port 40000 */
	f[36] = (uint8_t)(port >> 8);
	f[37] = (uint8_t)port;
	f[38] = (uint8_t)(ulen >> 8);
	f[39] = (uint8_t)ulen;
	return 0;
}

static int do_xsend(const char *ifname, const char *dst, int port,
		    const uint8_t *dmac, unsigned size, double duration,
		    unsigned batch)
{
	struct sl_xsk_config cfg = { .fill_target = 64 };
	struct sl_xsk_umem *u;
	struct sl_err err;
	struct sl_xsk x;
	uint64_t sent = 0, seq = 0, addr;
	uint8_t frame[2048];
	double t0, t;
	uint32_t idx, i, n;
	int ifindex = (int)if_nametoindex(ifname);

	if (size < 60)
		size = 60;
	if (size > 1514)
		size = 1514;
	if (!ifindex || build_frame(frame, size, ifname, dmac, dst, port)) {
		fprintf(stderr, "udpgen: cannot build frames for %s\n", ifname);
		return 1;
	}
	u = sl_xsk_umem_new(4096, SL_XSK_FRAME_SIZE, &err);
	if (!u || sl_xsk_open(&x, u, ifindex, &cfg, &err)) {
		fprintf(stderr, "udpgen: %s\n", err.msg);
		return 1;
	}
	/* the RX side is unused: give its fill ring nothing more */
	t0 = mono();
	for (;;) {
		t = mono();
		if (t - t0 >= duration)
			break;
		sl_xsk_complete(&x);
		n = xsk_ring_prod__reserve(&x.tx, batch, &idx);
		for (i = 0; i < n; i++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&x.tx, idx + i);

			if (!sl_xsk_umem_get(u, &addr))
				break;
			memcpy(sl_xsk_umem_data(u, addr), frame, 42);
			memcpy((uint8_t *)sl_xsk_umem_data(u, addr) + 42,
			       &(uint64_t){ seq++ }, 8);
			d->addr = addr;
			d->len = size;
			d->options = 0;
		}
		if (i < n)
			x.tx.cached_prod -= n - i; /* give back the unused */
		if (!i) {
			sl_xsk_kick(&x);
			continue;
		}
		xsk_ring_prod__submit(&x.tx, i);
		x.tx_pending += i;
		x.tx_unkicked += i;
		sl_xsk_kick(&x);
		sent += i;
	}
	t = mono() - t0;
	printf("{\"mode\": \"xsend\", \"packets\": %llu, \"seconds\": %.3f, \"pps\": %.0f, \"frame_bytes\": %u}\n",
	       (unsigned long long)sent, t, sent / t, size);
	sl_xsk_close(&x);
	sl_xsk_umem_free(u);
	return 0;
}

int main(int argc, char **argv)
{
	double pps = 0, duration = -1, idle = 2;
	unsigned size = 60, batch = 64, flows = 1;
	uint64_t count = 0;
	uint8_t dmac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	int a, first_opt;

	if (argc < 3) {
		usage();
		return 2;
	}
	first_opt = !strcmp(argv[1], "send") ? 4 : !strcmp(argv[1], "xsend") ? 5 : 3;
	if (argc < first_opt) {
		usage();
		return 2;
	}
	for (a = first_opt; a < argc; a++) {
		if (a + 1 >= argc) {
			usage();
			return 2;
		}
		if (!strcmp(argv[a], "--size"))
			size = (unsigned)atoi(argv[++a]);
		else if (!strcmp(argv[a], "--pps"))
			pps = atof(argv[++a]);
		else if (!strcmp(argv[a], "--count"))
			count = strtoull(argv[++a], NULL, 10);
		else if (!strcmp(argv[a], "--duration"))
			duration = atof(argv[++a]);
		else if (!strcmp(argv[a], "--idle"))
			idle = atof(argv[++a]);
		else if (!strcmp(argv[a], "--batch"))
			batch = (unsigned)atoi(argv[++a]);
		else if (!strcmp(argv[a], "--dst-mac")) {
			if (sscanf(argv[++a], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx",
				   &dmac[0], &dmac[1], &dmac[2], &dmac[3],
				   &dmac[4], &dmac[5]) != 6) {
				usage();
				return 2;
			}
		} else if (!strcmp(argv[a], "--flows"))
			flows = (unsigned)atoi(argv[++a]);
		else {
			usage();
			return 2;
		}
	}
	if (batch < 1 || batch > BATCH_MAX)
		batch = 64;
	if (!strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), size, pps, count,
			       duration < 0 ? 5 : duration, batch, flows);
	if (!strcmp(argv[1], "xsend"))
		return do_xsend(argv[2], argv[3], atoi(argv[4]), dmac, size,
				duration < 0 ? 5 : duration, batch);
	if (!strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), duration, idle, count);
	usage();
	return 2;
}
