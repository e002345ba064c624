// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_trace.c - mahimahi trace replay (lib/cells/trace.c): exact
 * departures on small traces (repeated timestamps, partial packets,
 * small packets sharing an opportunity, lost opportunities, wrap-around,
 * once); and the real cellular traces of ../shared/traces replayed with
 * a saturating sender: bytes delivered in every 100 ms window within 2%
 * (or one packet) of the trace's opportunities, over more than one
 * period. Control (a new trace at run time), telemetry, errors.
 */
#include <limits.h>
#include <math.h>
#include <unistd.h>

#include <sluice/cellkit.h>

#include "test_cell_harness.h"

#define SEC SL_NSEC_PER_SEC

static char tmpdir[] = "/tmp/sluice-trace-XXXXXX";

static const char *write_trace(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static struct sl_cell *trace_cell(struct harness *h, const char *path,
				  const char *extra)
{
	char cfg[PATH_MAX + 256];

	snprintf(cfg, sizeof(cfg), "{\"type\": \"trace\", \"trace\": \"%s\"%s}",
		 path, extra);
	return h_cell(h, cfg, 1);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

/* Opportunities at 1, 1, 3, 6 ms (period 6): five full frames queued
 * at 0 leave at 1, 1, 3, 6 and 7 (the next period's first). */
static void test_exact(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = trace_cell(h, write_trace("a", "1\n1\n3\n# comment\n\n6\n"), "");
	static const uint64_t want[] = { 1, 1, 3, 6, 7, 7, 9, 12 };
	struct sl_pkt *out[16];
	unsigned i, n = 0;

	for (i = 0; i < 8; i++)
		sl_cell_enqueue(c, h_pkt(h, 1514), 0);
	n = h_collect(c, 100 * MS, out, 16);
	assert_int_equal(n, 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(out[i]->ts_depart, want[i] * MS);
	sl_cell_free(c);
	h_free(h);
}

/* 500-byte frames (486 counted): three share an opportunity of 1500
 * (1458), the fourth takes its last 42 and 444 of the next; a 3014-byte
 * frame needs two opportunities (3000). An opportunity that finds the
 * queue empty is lost. */
static void test_partial(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = trace_cell(h, write_trace("b", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"), "");
	struct sl_pkt *out[16];
	unsigned i;

	for (i = 0; i < 4; i++)
		sl_cell_enqueue(c, h_pkt(h, 500), 0);
	sl_cell_enqueue(c, h_pkt(h, 3014), 0);
	assert_int_equal(h_collect(c, 50 * MS, out, 16), 5);
	assert_int_equal(out[0]->ts_depart, 1 * MS);
	assert_int_equal(out[1]->ts_depart, 1 * MS);
	assert_int_equal(out[2]->ts_depart, 1 * MS);
	assert_int_equal(out[3]->ts_depart, 2 * MS); /* 42 + 444 */
	/* 1056 left in opportunity 2, then 1500 at 3, 444 at 4 */
	assert_int_equal(out[4]->ts_depart, 4 * MS);
	/* idle: opportunities 5..50 are lost; one at 52.5 ms waits for 53 */
	sl_cell_enqueue(c, h_pkt(h, 1514), 52500 * US);
	assert_int_equal(h_collect(c, 60 * MS, out, 16), 1);
	assert_int_equal(out[0]->ts_depart, 53 * MS);
	sl_cell_free(c);
	h_free(h);
}

static void test_once(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = trace_cell(h, write_trace("c", "1\n2\n"), ", \"once\": true");
	struct sl_pkt *out[16];
	struct json_object *t;
	struct sl_err err = { "" };
	uint64_t next;
	unsigned i;

	for (i = 0; i < 4; i++)
		sl_cell_enqueue(c, h_pkt(h, 1514), 5 * US);
	assert_int_equal(h_collect(c, SEC, out, 16), 2); /* at 1 and 2 ms */
	assert_null(sl_cell_dequeue(c, 2 * SEC, &next));
	assert_int_equal(next, SL_TIME_NEVER);
	t = sl_cell_telemetry(c);
	assert_true(json_object_get_boolean(json_object_object_get(t, "done")));
	json_object_put(t);
	/* wrapping again from 2 s: the two queued leave at the next
	 * opportunities, 1 and 2 ms into the period starting at 2 s + 5 us */
	assert_int_equal(h_control(c, "{\"once\": false}", 2 * SEC, &err), 0);
	assert_int_equal(h_collect(c, 3 * SEC, out, 16), 2);
	assert_int_equal(out[0]->ts_depart, 2 * SEC + 1 * MS + 5 * US);
	assert_int_equal(out[1]->ts_depart, 2 * SEC + 2 * MS + 5 * US);
	sl_cell_free(c);
	h_free(h);
}

/* The repository's ../shared/traces, found from the test binary
 * (build/tests/x -> the repository root). */
static const char *traces_dir(void)
{
	static char dir[PATH_MAX + 32];
	char exe[PATH_MAX];
	ssize_t n;
	char *s;
	int k;

	if (getenv("SLUICE_TRACES"))
		return getenv("SLUICE_TRACES");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (k = 0; k < 3; k++) { /* strip test_x, tests, build */
		s = strrchr(exe, '/');
		if (!s)
			return NULL;
		*s = '\0';
	}
	snprintf(dir, sizeof(dir), "%s/../shared/traces", exe);
	return access(dir, R_OK) ? NULL : dir;
}

/* Opportunities of the trace in each 100 ms window, over total ms. */
static uint64_t *expected_windows(const char *path, uint64_t total_ms,
				  unsigned *n_win)
{
	unsigned long long v, period = 0;
	uint64_t *w, loop;
	uint32_t *ms = NULL;
	size_t n = 0, cap = 0;
	unsigned i;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fscanf(f, "%llu", &v) == 1) {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			ms = realloc(ms, cap * sizeof(*ms));
		}
		ms[n++] = (uint32_t)v;
		period = v;
	}
	fclose(f);
	*n_win = (unsigned)(total_ms / 100);
	w = calloc(*n_win, sizeof(*w));
	for (loop = 0; loop * period < total_ms; loop++)
		for (i = 0; i < n; i++) {
			uint64_t t = loop * period + ms[i];

			if (t / 100 < *n_win)
				w[t / 100]++;
		}
	free(ms);
	return w;
}

static void test_real_traces(void **state)
{
	static const char *const files[] = {
		"ATT-LTE-driving-2016.down", "ATT-LTE-driving-2016.up",
		"Verizon-LTE-short.down",    "Verizon-LTE-short.up",
		"TMobile-LTE-short.down",    "TMobile-LTE-short.up",
	};
	const char *dir = traces_dir();
	unsigned k;

	if (!dir) {
		print_message("# SKIP: ../shared/traces not found next to the repository (set SLUICE_TRACES)\n");
		skip();
	}
	for (k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		char path[PATH_MAX + 64], cfg[PATH_MAX + 192];
		uint64_t *want, *got, total_ms, t, next, t0 = 1 * SEC;
		unsigned n_win, i, worst = 0;
		double worst_err = 0;
		struct sl_cell *c;
		struct h_link l;
		struct sl_pkt *p;

		snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
		snprintf(cfg, sizeof(cfg), "{\"type\": \"trace\", \"trace\": \"%s\"}", path);
		c = h_cell(NULL, cfg, 1);
		t = 0;
		{ /* the period, from telemetry */
			struct json_object *o = sl_cell_telemetry(c);

			total_ms = json_object_get_uint64(json_object_object_get(o, "period_ms")) + 10000;
			json_object_put(o);
		}
		want = expected_windows(path, total_ms, &n_win);
		got = calloc(n_win, sizeof(*got));
		hl_init(&l, 2048);
		sl_cell_set_env(c, &l.env);
		/* a saturating sender: 500 full-size frames at once, then one
		 * every 100 us (120 Mbit/s); trace time 0 is the first */
		for (i = 0; i < 500; i++) {
			p = l.free;
			l.free = p->next;
			memset(p, 0, sizeof(*p));
			p->len = 1514;
			sl_cell_enqueue(c, p, t0);
		}
		for (t = t0; t < t0 + total_ms * MS; t += 100 * US) {
			while ((p = sl_cell_dequeue(c, t, &next))) {
				uint64_t w = (p->ts_depart - t0) / (100 * MS);

				if (w < n_win)
					got[w] += p->len - 14;
				p->next = l.free;
				l.free = p;
			}
			p = l.free;
			l.free = p->next;
			memset(p, 0, sizeof(*p));
			p->len = 1514;
			sl_cell_enqueue(c, p, t);
		}
		for (i = 0; i < n_win; i++) {
			double e = fabs((double)got[i] - (double)want[i] * 1500);
			double tol = fmax(0.02 * (double)want[i] * 1500, 1500);

			if (e > tol)
				print_error("%s window %u: %llu bytes, trace %llu\n", files[k], i,
					    (unsigned long long)got[i],
					    (unsigned long long)want[i] * 1500);
			assert_true(e <= tol);
			if (want[i] && e / ((double)want[i] * 1500) > worst_err) {
				worst_err = e / ((double)want[i] * 1500);
				worst = i;
			}
		}
		print_message("# %s: %u windows of 100 ms over %.1f s, worst error %.2f%% (window %u)\n",
			      files[k], n_win, total_ms / 1e3, 100 * worst_err, worst);
		free(want);
		free(got);
		sl_cell_free(c);
		hl_fini(&l);
	}
}

static void test_control_and_errors(void **state)
{
	struct harness *h = h_new(16);
	const char *a = write_trace("d", "10\n");
	struct sl_cell *c;
	struct sl_err err = { "" };
	struct sl_pkt *out[16];
	char cfg[PATH_MAX + 64], msg[PATH_MAX + 128];
	struct json_object *t;

	c = trace_cell(h, a, ", \"queue\": {\"type\": \"codel\"}");
	sl_cell_enqueue(c, h_pkt(h, 1514), 0);
	assert_int_equal(h_collect(c, 20 * MS, out, 16), 1);
	assert_int_equal(out[0]->ts_depart, 10 * MS);
	/* a new trace applies from now: opportunities every 1 ms */
	snprintf(cfg, sizeof(cfg), "{\"trace\": \"%s\"}", write_trace("e", "1\n"));
	assert_int_equal(h_control(c, cfg, 20 * MS, &err), 0);
	sl_cell_enqueue(c, h_pkt(h, 1514), 20 * MS);
	assert_int_equal(h_collect(c, 30 * MS, out, 16), 1);
	assert_int_equal(out[0]->ts_depart, 21 * MS);
	t = sl_cell_telemetry(c);
	assert_int_equal(json_object_get_int64(json_object_object_get(t, "mean_rate_bps")), 12000000);
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(t, "queue"), "type")), "codel");
	json_object_put(t);
	snprintf(cfg, sizeof(cfg), "{\"trace\": \"%s\"}", write_trace("f", "5\n3\n"));
	assert_int_equal(h_control(c, cfg, 30 * MS, &err), -EINVAL);
	snprintf(msg, sizeof(msg), "trace: %s/f:2: 3 is before the line above (5); timestamps must not decrease", tmpdir);
	assert_string_equal(err.msg, msg);
	sl_cell_free(c);

	snprintf(cfg, sizeof(cfg), "{\"type\": \"trace\", \"trace\": \"%s\"}", write_trace("g", "1\nx\n"));
	snprintf(msg, sizeof(msg), "trace: %s/g:2: \"x\" is not a timestamp; expected whole milliseconds", tmpdir);
	assert_string_equal(h_cell_err(cfg), msg);
	snprintf(cfg, sizeof(cfg), "{\"type\": \"trace\", \"trace\": \"%s\"}", write_trace("h", "0\n0\n"));
	snprintf(msg, sizeof(msg), "trace: %s/h: the last timestamp is 0; the trace must last at least 1 ms", tmpdir);
	assert_string_equal(h_cell_err(cfg), msg);
	{
		struct json_object *o = h_json("{\"type\": \"trace\", \"trace\": \"/nonexistent/x\"}");
		struct sl_cell *x = NULL;

		assert_int_equal(sl_cell_new(o, 1, &x, &err), -ENOENT);
		assert_string_equal(err.msg, "trace: /nonexistent/x: No such file or directory");
		json_object_put(o);
	}
	assert_string_equal(h_cell_err("{\"type\": \"trace\"}"),
		"trace: missing; expected the path of a mahimahi trace file");
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_once),
		cmocka_unit_test(test_real_traces),
		cmocka_unit_test(test_control_and_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
