// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_delay_trace.c - time-varying delay from a file
 * (lib/cells/delay_trace.c): exact departures across steps, order kept
 * when the delay falls, wrap-around and once, a new file at run time,
 * telemetry, errors with file and line.
 */
#include <limits.h>
#include <unistd.h>

#include "test_cell_harness.h"

static char dir[] = "/tmp/sluice-dtrace-XXXXXX";

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

static const char *file(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static struct sl_cell *cell(struct harness *h, const char *path, const char *extra)
{
	char cfg[PATH_MAX + 128];

	snprintf(cfg, sizeof(cfg), "{\"type\": \"delay_trace\", \"trace\": \"%s\"%s}", path, extra);
	return h_cell(h, cfg, 1);
}

/* 0-10 ms: 20 ms; 10-15 ms: 2.5 ms; then again (period 15 ms). */
static void test_steps(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = cell(h, file("a", "# ms delay\n10 20\n5, 2.5\n"), "");
	static const uint64_t arr[] = { 0, 9 * MS, 10 * MS, 14 * MS, 15 * MS, 27 * MS, 40 * MS };
	static const uint64_t dep[] = { 20 * MS, 29 * MS, 29 * MS, 29 * MS, 35 * MS, 35 * MS, 42500 * US };
	struct sl_pkt *out[16];
	struct json_object *t;
	unsigned i;

	/* 10 ms: 2.5 -> 12.5 but 9 ms left at 29: held behind (order kept) */
	for (i = 0; i < 7; i++)
		sl_cell_enqueue(c, h_pkt(h, 100), arr[i]);
	assert_int_equal(h_collect(c, SL_NSEC_PER_SEC, out, 16), 7);
	for (i = 0; i < 7; i++) {
		assert_int_equal(out[i]->user, i);
		assert_int_equal(out[i]->ts_depart, dep[i]);
	}
	t = sl_cell_telemetry(c);
	assert_int_equal(json_object_get_int64(json_object_object_get(t, "period_ns")), 15 * MS);
	assert_int_equal(json_object_get_int64(json_object_object_get(t, "delay_ns")), 2500 * US);
	json_object_put(t);
	sl_cell_free(c);
	h_free(h);
}

static void test_once_and_control(void **state)
{
	struct harness *h = h_new(16);
	struct sl_cell *c = cell(h, file("b", "10 20\n5 2.5\n"), ", \"once\": true");
	struct sl_err err = { "" };
	struct sl_pkt *out[16];
	char cfg[PATH_MAX + 64];

	sl_cell_enqueue(c, h_pkt(h, 100), 0);
	sl_cell_enqueue(c, h_pkt(h, 100), 100 * MS); /* past the end: 2.5 */
	assert_int_equal(h_collect(c, SL_NSEC_PER_SEC, out, 16), 2);
	assert_int_equal(out[1]->ts_depart, 102500 * US);
	snprintf(cfg, sizeof(cfg), "{\"trace\": \"%s\"}", file("c", "1000 7\n"));
	assert_int_equal(h_control(c, cfg, SL_NSEC_PER_SEC, &err), 0);
	sl_cell_enqueue(c, h_pkt(h, 100), 2 * SL_NSEC_PER_SEC);
	assert_int_equal(h_collect(c, 3 * SL_NSEC_PER_SEC, out, 16), 1);
	assert_int_equal(out[0]->ts_depart, 2 * SL_NSEC_PER_SEC + 7 * MS);
	snprintf(cfg, sizeof(cfg), "{\"trace\": \"%s\"}", file("d", "10 20\n0 5\n"));
	assert_int_equal(h_control(c, cfg, 3 * SL_NSEC_PER_SEC, &err), -EINVAL);
	{
		char want[PATH_MAX + 128];

		snprintf(want, sizeof(want), "trace: %s/d:2: \"0\" is not a duration; expected milliseconds above 0 such as 1000 or 2.5", dir);
		assert_string_equal(err.msg, want);
	}
	sl_cell_free(c);
	h_free(h);
}

static void test_errors(void **state)
{
	char cfg[PATH_MAX + 64], want[PATH_MAX + 128];

	snprintf(cfg, sizeof(cfg), "{\"type\": \"delay_trace\", \"trace\": \"%s\"}", file("e", "10\n"));
	snprintf(want, sizeof(want), "trace: %s/e:1: expected two numbers, DURATION_MS DELAY_MS, got 1 fields", dir);
	assert_string_equal(h_cell_err(cfg), want);
	snprintf(cfg, sizeof(cfg), "{\"type\": \"delay_trace\", \"trace\": \"%s\"}", file("f", "# nothing\n"));
	snprintf(want, sizeof(want), "trace: %s/f: no steps", dir);
	assert_string_equal(h_cell_err(cfg), want);
	assert_string_equal(h_cell_err("{\"type\": \"delay_trace\"}"),
		"trace: missing; expected the path of a delay trace (DURATION_MS DELAY_MS a line)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_once_and_control),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
