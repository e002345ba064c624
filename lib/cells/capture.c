// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * capture.c - writes the packets passing a point of a channel to a pcap
 * or pcapng file: {"type": "capture", "file": "/tmp/x.pcapng",
 * "drops": true}. The packets pass on at once and unchanged.
 *
 * Each packet is written when it passes the cell, stamped with that time
 * (the engine's clock, moved to the wall clock with the offset read when
 * the file was opened, so tcpdump shows real dates; "clock": "raw" keeps
 * the engine's nanoseconds). Both formats have nanosecond timestamps and
 * Ethernet link type. With pcapng and "drops", every packet dropped by any
 * cell of the channel is written too, with a comment naming the cell and
 * the reason ("dropped by rate/queue: queue"), which Wireshark shows as
 * frame.comment, so one file shows what went through and what did not.
 *
 * Writing goes through a stdio buffer flushed at most "flush" after a
 * write (and when the cell is freed or its file changes), so the packet
 * path makes a system call only that often. A failed write is counted
 * (write_errors), never fatal: the packets go on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include <sluice/cellkit.h>

#define LINKTYPE_ETHERNET 1
#define DEFAULT_SNAPLEN 262144

struct capture_cell {
	struct sl_cell cell;
	struct sl_pktq q;
	FILE *f;
	char *path;
	bool ng, drops, raw;
	uint64_t snaplen, flush;
	int64_t offset; /* wall clock - engine clock, ns */
	uint64_t last_flush;
	uint64_t written, drops_written, bytes, write_errors;
};

static inline struct capture_cell *to_capture(struct sl_cell *c)
{
	return (struct capture_cell *)c;
}

static const struct sl_cell_param params[] = {
	{ "file", "file", NULL, "where to write; created or truncated" },
	{ "format", "string", "from the file name", "pcap or pcapng (default pcapng when the name ends in .pcapng)" },
	{ "drops", "boolean", "true with pcapng", "also write the packets any cell of the channel drops, with a comment (pcapng only)" },
	{ "snaplen", "size", "262144b", "bytes of each packet written at most" },
	{ "clock", "string", "realtime", "realtime (engine time moved to the wall clock) or raw (engine nanoseconds)" },
	{ "flush", "time", "100ms", "longest time a written packet waits in the buffer" },
	{ NULL, NULL, NULL, NULL },
};

static const char *const formats[] = { "pcap", "pcapng", NULL };
static const char *const clocks[] = { "realtime", "raw", NULL };

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * SL_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void put(struct capture_cell *cc, const void *b, size_t n)
{
	if (n && fwrite(b, 1, n, cc->f) != n)
		cc->write_errors++;
}

static void put32(struct capture_cell *cc, uint32_t v)
{
	put(cc, &v, 4);
}

static void put16(struct capture_cell *cc, uint16_t v)
{
	put(cc, &v, 2);
}

static void pad4(struct capture_cell *cc, size_t n)
{
	static const uint8_t zero[4];

	put(cc, zero, (4 - n % 4) % 4);
}

static inline size_t pad(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* pcapng option: code, length, value padded to 4. */
static void option(struct capture_cell *cc, uint16_t code, const void *v,
		   uint16_t len)
{
	put16(cc, code);
	put16(cc, len);
	put(cc, v, len);
	pad4(cc, len);
}

static void write_headers(struct capture_cell *cc)
{
	static const char app[] = "sluice";
	uint8_t tsresol = 9;

	if (!cc->ng) {
		put32(cc, 0xa1b23c4d); /* nanosecond pcap */
		put16(cc, 2);
		put16(cc, 4);
		put32(cc, 0);
		put32(cc, 0);
		put32(cc, (uint32_t)cc->snaplen);
		put32(cc, LINKTYPE_ETHERNET);
		return;
	}
	/* section header: 28 bytes + shb_userappl option + end */
	put32(cc, 0x0a0d0d0a);
	put32(cc, (uint32_t)(28 + 4 + pad(sizeof(app) - 1) + 4));
	put32(cc, 0x1a2b3c4d);
	put16(cc, 1);
	put16(cc, 0);
	put32(cc, 0xffffffff); /* section length unknown */
	put32(cc, 0xffffffff);
	option(cc, 4, app, sizeof(app) - 1);
	put32(cc, 0);
	put32(cc, (uint32_t)(28 + 4 + pad(sizeof(app) - 1) + 4));
	/* interface: 20 bytes + if_name + if_tsresol + end */
	{
		size_t nl = strlen(cc->cell.name);
		uint32_t len = (uint32_t)(20 + 4 + pad(nl) + 4 + 4 + 4);

		put32(cc, 1);
		put32(cc, len);
		put16(cc, LINKTYPE_ETHERNET);
		put16(cc, 0);
		put32(cc, (uint32_t)cc->snaplen);
		option(cc, 2, cc->cell.name, (uint16_t)nl);
		option(cc, 9, &tsresol, 1);
		put32(cc, 0);
		put32(cc, len);
	}
}

static void write_pkt(struct capture_cell *cc, const struct sl_pkt *p,
		      uint64_t now, const char *comment)
{
	uint64_t ts = cc->raw ? now : now + (uint64_t)cc->offset;
	uint32_t cap = p->data ? p->len : 0;
	size_t cl = comment ? strlen(comment) : 0;

	if (!cc->f)
		return;
	if (cap > cc->snaplen)
		cap = (uint32_t)cc->snaplen;
	if (!cc->ng) {
		put32(cc, (uint32_t)(ts / SL_NSEC_PER_SEC));
		put32(cc, (uint32_t)(ts % SL_NSEC_PER_SEC));
		put32(cc, cap);
		put32(cc, p->len);
		put(cc, p->data, cap);
	} else {
		uint32_t len = (uint32_t)(32 + pad(cap) + (cl ? 4 + pad(cl) + 4 : 0));

		put32(cc, 6);
		put32(cc, len);
		put32(cc, 0);
		put32(cc, (uint32_t)(ts >> 32));
		put32(cc, (uint32_t)ts);
		put32(cc, cap);
		put32(cc, p->len);
		put(cc, p->data, cap);
		pad4(cc, cap);
		if (cl) {
			option(cc, 1, comment, (uint16_t)cl);
			put32(cc, 0);
		}
		put32(cc, len);
	}
	cc->bytes += p->len;
	if (now - cc->last_flush >= cc->flush) {
		if (fflush(cc->f))
			cc->write_errors++;
		cc->last_flush = now;
	}
}

static int open_file(struct capture_cell *cc, const char *path,
		     struct sl_err *err)
{
	FILE *f = fopen(path, "we");
	char *copy;

	if (!f)
		return sl_err_set(err, errno, "file: %s: %s", path, strerror(errno));
	copy = strdup(path);
	if (!copy) {
		fclose(f);
		return sl_err_set(err, ENOMEM, "out of memory");
	}
	if (cc->f)
		fclose(cc->f);
	free(cc->path);
	cc->f = f;
	cc->path = copy;
	cc->offset = (int64_t)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	write_headers(cc);
	if (fflush(cc->f))
		cc->write_errors++;
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail);
}

/* Reads everything but the file, whose name (path) picks the format. */
static int capture_read(struct json_object *cfg, struct capture_cell *cc,
			const char *path, bool init, struct sl_err *err)
{
	unsigned fmt = cc->ng, clk = cc->raw;
	int ret, has_fmt, has_drops;

	if ((has_fmt = ret = sl_cfg_enum(cfg, "format", formats, &fmt, err)) < 0 ||
	    (has_drops = ret = sl_cfg_bool(cfg, "drops", &cc->drops, err)) < 0 ||
	    (ret = sl_cfg_bytes(cfg, "snaplen", &cc->snaplen, err)) < 0 ||
	    (ret = sl_cfg_enum(cfg, "clock", clocks, &clk, err)) < 0 ||
	    (ret = sl_cfg_time(cfg, "flush", &cc->flush, err)) < 0)
		return ret;
	if (!has_fmt && path && (init || json_object_object_get_ex(cfg, "file", NULL)))
		fmt = ends_with(path, ".pcapng");
	/* drops follow the format unless given */
	if (!has_drops && (init || fmt != cc->ng))
		cc->drops = fmt;
	cc->ng = fmt;
	cc->raw = clk;
	if (cc->drops && !cc->ng) {
		if (has_drops)
			return sl_err_set(err, EINVAL,
					  "drops: needs the pcapng format (pcap has no room for a comment)");
		cc->drops = false;
	}
	if (cc->snaplen > 1u << 30)
		return sl_err_set(err, EINVAL, "snaplen: at most 1gb");
	return 0;
}

static int capture_init(struct sl_cell *c, struct json_object *cfg,
			struct sl_err *err)
{
	struct capture_cell *cc = to_capture(c);
	const char *path = NULL;
	int ret;

	sl_pktq_init(&cc->q);
	cc->snaplen = DEFAULT_SNAPLEN;
	cc->flush = 100 * SL_NSEC_PER_MSEC;
	ret = sl_cfg_string(cfg, "file", &path, err);
	if (ret < 0)
		return ret;
	if (!ret)
		return sl_err_set(err, EINVAL,
				  "file: missing; expected the path of the pcap or pcapng file to write");
	ret = capture_read(cfg, cc, path, true, err);
	if (ret)
		return ret;
	return open_file(cc, path, err);
}

static void capture_fini(struct sl_cell *c)
{
	struct capture_cell *cc = to_capture(c);

	sl_pass_flush(c, &cc->q);
	if (cc->f)
		fclose(cc->f);
	free(cc->path);
}

static void capture_enqueue(struct sl_cell *c, struct sl_pkt *p, uint64_t now)
{
	struct capture_cell *cc = to_capture(c);

	write_pkt(cc, p, now, NULL);
	cc->written++;
	sl_pktq_push(&cc->q, p);
}

static struct sl_pkt *capture_dequeue(struct sl_cell *c, uint64_t now,
				      uint64_t *next)
{
	return sl_pass_dequeue(&to_capture(c)->q, next);
}

static void capture_watch(struct sl_cell *c, const struct sl_cell *from,
			  const struct sl_pkt *p, enum sl_drop_reason why,
			  uint64_t now)
{
	struct capture_cell *cc = to_capture(c);
	const struct sl_cell *chain[8];
	char comment[160];
	unsigned n = 0;
	size_t len;
	int w;

	if (!cc->drops)
		return;
	/* the dropping cell with its parents: "rate/queue" */
	for (; from && n < 8; from = from->parent)
		chain[n++] = from;
	len = (size_t)snprintf(comment, sizeof(comment), "dropped by ");
	while (n--) {
		w = snprintf(comment + len, sizeof(comment) - len, "%s%s",
			     chain[n]->name, n ? "/" : "");
		if (w < 0 || (size_t)w >= sizeof(comment) - len)
			break;
		len += (size_t)w;
	}
	w = snprintf(comment + len, sizeof(comment) - len, ": %s",
		     sl_drop_reason_name(why));
	(void)w;
	write_pkt(cc, p, now, comment);
	cc->drops_written++;
}

static int capture_control(struct sl_cell *c, struct json_object *cfg,
			   uint64_t now, struct sl_err *err)
{
	struct capture_cell *cc = to_capture(c), tmp = *cc;
	const char *path = cc->path;
	int ret = sl_cfg_string(cfg, "file", &path, err);

	if (ret < 0)
		return ret;
	ret = capture_read(cfg, &tmp, path, false, err);
	if (ret)
		return ret;
	if (json_object_object_get_ex(cfg, "file", NULL) || tmp.ng != cc->ng) {
		/* a new file (or format) starts a new file */
		cc->ng = tmp.ng;
		cc->snaplen = tmp.snaplen;
		cc->raw = tmp.raw;
		ret = open_file(cc, path, err);
		if (ret)
			return ret;
	} else if (tmp.snaplen != cc->snaplen && !cc->ng) {
		return sl_err_set(err, EINVAL,
				  "snaplen: a pcap file states it once; give a new file as well");
	}
	cc->snaplen = tmp.snaplen;
	cc->drops = tmp.drops;
	cc->raw = tmp.raw;
	cc->flush = tmp.flush;
	return 0;
}

static void capture_telemetry(const struct sl_cell *c, struct json_object *obj)
{
	const struct capture_cell *cc = (const struct capture_cell *)c;

	json_object_object_add(obj, "file", json_object_new_string(cc->path ? cc->path : ""));
	json_object_object_add(obj, "format", json_object_new_string(formats[cc->ng]));
	json_object_object_add(obj, "drops", json_object_new_boolean(cc->drops));
	json_object_object_add(obj, "written", json_object_new_uint64(cc->written));
	json_object_object_add(obj, "drops_written", json_object_new_uint64(cc->drops_written));
	json_object_object_add(obj, "bytes_written", json_object_new_uint64(cc->bytes));
	json_object_object_add(obj, "write_errors", json_object_new_uint64(cc->write_errors));
}

const struct sl_cell_ops sl_cell_capture_ops = {
	.type = "capture",
	.summary = "writes the packets passing this point to pcap or pcapng (with the channel's drops annotated)",
	.params = params,
	.size = sizeof(struct capture_cell),
	.init = capture_init,
	.fini = capture_fini,
	.enqueue = capture_enqueue,
	.dequeue = capture_dequeue,
	.control = capture_control,
	.telemetry = capture_telemetry,
	.watch_drops = capture_watch,
};
