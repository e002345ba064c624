// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_capture.c - the capture cell (lib/cells/capture.c): real
 * Ethernet/IPv4/UDP frames through a channel with a capture in front of a
 * small rate-limited queue; the pcap and pcapng files are read back byte
 * by byte (headers, exact timestamps, lengths, data) and opened with
 * tcpdump and tshark, which must list the packets seen, and with pcapng
 * the dropped ones with their comments. Snap length, a file changed at
 * run time, telemetry, errors. tools/deps.sh installs tcpdump and tshark,
 * so a missing one is a failure (a broken setup), not a skip.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <unistd.h>

#include <sluice/cellkit.h>

#include "test_cell_harness.h"

#define N 10

static char dir[] = "/tmp/sluice-capture-XXXXXX";
static uint8_t frames[N][200];

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static uint16_t csum(const uint8_t *b, unsigned n)
{
	uint32_t s = 0;
	unsigned i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 + UDP 10.0.0.1:4000 -> 10.0.0.2:5000 + i-th payload. */
static void make_frame(uint8_t *f, unsigned i, unsigned len)
{
	uint16_t c;

	memset(f, 0, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	f[14] = 0x45;
	f[16] = (uint8_t)((len - 14) >> 8), f[17] = (uint8_t)(len - 14);
	f[22] = 64;
	f[23] = IPPROTO_UDP;
	inet_pton(AF_INET, "10.0.0.1", f + 26);
	inet_pton(AF_INET, "10.0.0.2", f + 30);
	c = csum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8), f[25] = (uint8_t)c;
	f[34] = 4000 >> 8, f[35] = 4000 & 0xff;
	f[36] = 5000 >> 8, f[37] = 5000 & 0xff;
	f[38] = (uint8_t)((len - 34) >> 8), f[39] = (uint8_t)(len - 34);
	f[42] = (uint8_t)i; /* checksum 0: none, for UDP over IPv4 */
}

/* N frames of 100..190 bytes at 1 ms intervals through
 * capture -> rate 80 kbit (1 ms/100 bytes... ) with a 2-packet queue:
 * some are dropped by the queue. Returns how many were dropped. */
static unsigned run(const char *capture_cfg, struct harness *h)
{
	char policy[PATH_MAX + 256];
	struct sl_channel *ch = NULL;
	struct sl_err err = { "" };
	struct sl_pkt *out[N];
	unsigned i, got = 0;

	snprintf(policy, sizeof(policy),
		 "{\"cells\": [%s, {\"type\": \"rate\", \"rate\": \"100kbit\", \"burst\": \"200b\", \"queue\": \"2pkt\"}]}",
		 capture_cfg);
	if (sl_channel_from_policy(policy, 1, &ch, &err))
		print_error("%s\n", err.msg);
	assert_non_null(ch);
	sl_channel_set_env(ch, &h->env);
	for (i = 0; i < N; i++) {
		struct sl_pkt *p = h_pkt(h, 100 + 10 * i);

		make_frame(frames[i], i, p->len);
		p->data = frames[i];
		sl_channel_enqueue(ch, p, (i + 1) * MS);
		got += sl_channel_dequeue(ch, (i + 1) * MS, out, N);
	}
	got += sl_channel_dequeue(ch, SL_NSEC_PER_SEC, out, N);
	assert_int_equal(got + h->n_dropped, N);
	sl_channel_free(ch); /* closes the file */
	return h->n_dropped;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(1 << 16);

	assert_non_null(f);
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

static uint32_t rd32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

static void test_pcap_bytes(void **state)
{
	struct harness *h = h_new(N);
	char path[PATH_MAX], cfg[PATH_MAX + 128];
	unsigned i, drops, k = 0;
	size_t len, off = 24;
	uint8_t *b;

	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	snprintf(cfg, sizeof(cfg), "{\"type\": \"capture\", \"file\": \"%s\", \"clock\": \"raw\", \"snaplen\": 150}", path);
	drops = run(cfg, h);
	assert_true(drops > 0); /* the queue dropped some: not in a pcap */
	b = slurp(path, &len);
	assert_int_equal(rd32(b), 0xa1b23c4d);
	assert_int_equal(rd32(b + 16), 150);
	assert_int_equal(rd32(b + 20), 1);
	for (i = 0; i < N; i++) { /* the capture is first: it saw all */
		uint32_t cap = rd32(b + off + 8), orig = rd32(b + off + 12);

		assert_int_equal(rd32(b + off), 0);
		assert_int_equal(rd32(b + off + 4), (i + 1) * MS);
		assert_int_equal(orig, 100 + 10 * i);
		assert_int_equal(cap, orig > 150 ? 150 : orig);
		assert_memory_equal(b + off + 16, frames[i], cap);
		off += 16 + cap;
		k++;
	}
	assert_int_equal(off, len);
	assert_int_equal(k, N);
	free(b);
	h_free(h);
}

static void test_pcapng_drops(void **state)
{
	struct harness *h = h_new(N);
	char path[PATH_MAX], cfg[PATH_MAX + 128];
	unsigned drops, blocks = 0, epb = 0, comments = 0;
	size_t len, off = 0;
	uint8_t *b;

	snprintf(path, sizeof(path), "%s/b.pcapng", dir);
	snprintf(cfg, sizeof(cfg), "{\"type\": \"capture\", \"name\": \"tap\", \"file\": \"%s\", \"clock\": \"raw\"}", path);
	drops = run(cfg, h);
	b = slurp(path, &len);
	while (off < len) {
		uint32_t type = rd32(b + off), blen = rd32(b + off + 4);

		assert_true(blen % 4 == 0 && off + blen <= len);
		assert_int_equal(rd32(b + off + blen - 4), blen);
		if (type == 6) {
			uint32_t cap = rd32(b + off + 20);
			size_t o = off + 28 + ((cap + 3) & ~3u);

			epb++;
			if (o < off + blen - 4 && (b[o] | b[o + 1] << 8) == 1) {
				/* opt_comment */
				uint16_t cl = (uint16_t)(b[o + 2] | b[o + 3] << 8);

				assert_memory_equal(b + o + 4, "dropped by rate/queue: queue", cl);
				comments++;
			}
		}
		blocks++;
		off += blen;
	}
	assert_int_equal(rd32(b), 0x0a0d0d0a);
	assert_int_equal(epb, N + drops);
	assert_int_equal(comments, drops);
	assert_true(blocks >= 2 + N);
	free(b);
	h_free(h);
}

static bool have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return !system(cmd);
}

/* Runs cmd, returns its first output line as a number. */
static long run_count(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char line[256] = "";
	long n = -1;

	assert_non_null(p);
	if (fgets(line, sizeof(line), p))
		n = strtol(line, NULL, 10);
	pclose(p);
	return n;
}

static void test_tools_read_it(void **state)
{
	struct harness *h = h_new(N), *h2 = h_new(N);
	char a[PATH_MAX], b[PATH_MAX], cfg[PATH_MAX + 128], cmd[3 * PATH_MAX];
	unsigned drops;

	if (!have("tcpdump") || !have("tshark")) {
		h_free(h);
		h_free(h2);
		fail_msg("tcpdump or tshark is not installed; tools/deps.sh installs both "
			 "(apt-get install tcpdump tshark)");
	}
	snprintf(a, sizeof(a), "%s/c.pcap", dir);
	snprintf(cfg, sizeof(cfg), "{\"type\": \"capture\", \"file\": \"%s\"}", a);
	run(cfg, h);
	snprintf(b, sizeof(b), "%s/d.pcapng", dir);
	snprintf(cfg, sizeof(cfg), "{\"type\": \"capture\", \"file\": \"%s\"}", b);
	drops = run(cfg, h2);
	/* tcpdump parses every packet as UDP to port 5000 */
	snprintf(cmd, sizeof(cmd), "tcpdump -nn -r %s 'udp dst port 5000' 2>/dev/null | wc -l", a);
	assert_int_equal(run_count(cmd), N);
	snprintf(cmd, sizeof(cmd), "tcpdump -nn -r %s 2>/dev/null | grep -c '10.0.0.1.4000 > 10.0.0.2.5000: UDP'", b);
	assert_int_equal(run_count(cmd), N + drops);
	/* tshark: the pcapng's drops carry their comment */
	snprintf(cmd, sizeof(cmd), "tshark -r %s -Y 'udp.dstport == 5000' 2>/dev/null | wc -l", a);
	assert_int_equal(run_count(cmd), N);
	snprintf(cmd, sizeof(cmd), "tshark -r %s -Y 'frame.comment contains \"dropped by rate/queue: queue\"' 2>/dev/null | wc -l", b);
	assert_int_equal(run_count(cmd), drops);
	/* realtime clock: the packets are dated today, not in 1970 */
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e frame.time_epoch -c 1 2>/dev/null", a);
	assert_true(run_count(cmd) > 1600000000);
	h_free(h);
	h_free(h2);
}

static void test_control_errors(void **state)
{
	struct harness *h = h_new(4);
	char a[PATH_MAX], b[PATH_MAX + 64], cfg[PATH_MAX + 128];
	struct sl_err err = { "" };
	struct json_object *t;
	struct sl_cell *c;
	struct sl_pkt *out[4];
	size_t len;
	uint8_t *buf;

	snprintf(a, sizeof(a), "%s/e.pcap", dir);
	snprintf(cfg, sizeof(cfg), "{\"type\": \"capture\", \"file\": \"%s\"}", a);
	c = h_cell(h, cfg, 1);
	sl_cell_enqueue(c, h_pkt(h, 60), 5); /* no data: recorded as 0 bytes */
	assert_int_equal(h_collect(c, 5, out, 4), 1);
	assert_int_equal(out[0]->ts_depart, 5);
	snprintf(b, sizeof(b), "{\"file\": \"%s/f.pcapng\"}", dir);
	assert_int_equal(h_control(c, b, 10, &err), 0);
	t = sl_cell_telemetry(c);
	assert_string_equal(json_object_get_string(json_object_object_get(t, "format")), "pcapng");
	assert_true(json_object_get_boolean(json_object_object_get(t, "drops")));
	assert_int_equal(json_object_get_int(json_object_object_get(t, "written")), 1);
	json_object_put(t);
	buf = slurp(a, &len); /* the old file was closed complete */
	assert_int_equal(len, 24 + 16);
	assert_int_equal(rd32(buf + 24 + 12), 60);
	free(buf);
	assert_int_equal(h_control(c, "{\"format\": \"pcap\", \"drops\": true}", 10, &err), -EINVAL);
	assert_string_equal(err.msg, "drops: needs the pcapng format (pcap has no room for a comment)");
	sl_cell_free(c);
	assert_string_equal(h_cell_err("{\"type\": \"capture\"}"),
		"file: missing; expected the path of the pcap or pcapng file to write");
	assert_string_equal(h_cell_err("{\"type\": \"capture\", \"file\": \"/tmp/x.pcap\", \"format\": \"erf\"}"),
		"format: \"erf\" is not one of pcap, pcapng");
	{
		struct json_object *o = h_json("{\"type\": \"capture\", \"file\": \"/nonexistent/x.pcap\"}");
		struct sl_cell *x = NULL;

		assert_int_equal(sl_cell_new(o, 1, &x, &err), -ENOENT);
		assert_string_equal(err.msg, "file: /nonexistent/x.pcap: No such file or directory");
		json_object_put(o);
	}
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcap_bytes),
		cmocka_unit_test(test_pcapng_drops),
		cmocka_unit_test(test_tools_read_it),
		cmocka_unit_test(test_control_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
