// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cell_loss_trace.c - replayed loss (lib/cells/loss_trace.c): the
 * pattern of a file (digits over lines, blanks, commas, comments) and an
 * inline pattern are lost exactly, repeating or once; a new pattern at
 * run time starts from its beginning; errors.
 */
#include <limits.h>
#include <unistd.h>

#include "test_cell_harness.h"

static char dir[] = "/tmp/sluice-ltrace-XXXXXX";

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

/* n packets; returns the loss pattern as a string of 0/1. */
static const char *pattern(struct sl_cell *c, struct harness *h, unsigned n)
{
	static char s[256];
	struct sl_pkt *p = h_pkt(h, 100), *out[2];
	uint64_t t0 = c->t_last;
	unsigned i;

	for (i = 0; i < n; i++) {
		h->n_dropped = 0;
		sl_cell_enqueue(c, p, t0 + i);
		s[i] = h->n_dropped ? '1' : '0';
		if (!h->n_dropped)
			assert_int_equal(h_collect(c, t0 + i, out, 2), 1);
	}
	s[n] = '\0';
	return s;
}

static void test_file_and_inline(void **state)
{
	struct harness *h = h_new(8);
	char path[PATH_MAX], cfg[PATH_MAX + 64];
	struct sl_err err = { "" };
	struct sl_cell *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/a", dir);
	f = fopen(path, "w");
	fputs("# losses\n0 0 1\n1,0\n\n001 # tail\n", f);
	fclose(f);
	snprintf(cfg, sizeof(cfg), "{\"type\": \"loss_trace\", \"trace\": \"%s\"}", path);
	c = h_cell(h, cfg, 1);
	assert_string_equal(pattern(c, h, 16), "0011000100110001");
	sl_cell_free(c);
	c = h_cell(h, "{\"type\": \"loss_trace\", \"pattern\": \"101\", \"once\": true}", 1);
	assert_string_equal(pattern(c, h, 8), "10100000");
	assert_int_equal(h_control(c, "{\"pattern\": \"01\", \"once\": false}", 100, &err), 0);
	assert_string_equal(pattern(c, h, 6), "010101");
	sl_cell_free(c);
	h_free(h);
}

static void test_errors(void **state)
{
	assert_string_equal(h_cell_err("{\"type\": \"loss_trace\", \"pattern\": \"0120\"}"),
		"pattern: '2' is not 0 or 1; expected 0 (delivered) or 1 (lost) for each packet");
	assert_string_equal(h_cell_err("{\"type\": \"loss_trace\"}"),
		"trace: missing; expected a file of 0 and 1 (or an inline \"pattern\")");
	assert_string_equal(h_cell_err("{\"type\": \"loss_trace\", \"pattern\": \"1\", \"trace\": \"/x\"}"),
		"trace, pattern: give one of them, not both");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_and_inline),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
