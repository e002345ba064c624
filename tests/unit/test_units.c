// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_units.c - rates, times, fractions and queue sizes (lib/units.c):
 * exact values for the accepted spellings, -EINVAL for the rest, and the
 * formatters' round trip.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/units.h>

static uint64_t rate(const char *s)
{
	uint64_t v = 0xdead;

	assert_int_equal(sl_parse_rate(s, &v), 0);
	return v;
}

static void rate_bad(const char *s)
{
	uint64_t v = 0xdead;

	assert_int_equal(sl_parse_rate(s, &v), -EINVAL);
	assert_int_equal(v, 0xdead); /* untouched on error */
}

static void test_rate(void **state)
{
	(void)state;
	assert_int_equal(rate("100bit"), 100);
	assert_int_equal(rate("10kbit"), 10000);
	assert_int_equal(rate("10mbit"), 10000000);
	assert_int_equal(rate("1gbit"), 1000000000ULL);
	assert_int_equal(rate("1tbit"), 1000000000000ULL);
	assert_int_equal(rate("1bps"), 8);
	assert_int_equal(rate("10kbps"), 80000);
	assert_int_equal(rate("2mbps"), 16000000);
	assert_int_equal(rate("1gbps"), 8000000000ULL);
	assert_int_equal(rate("1.5mbit"), 1500000);
	assert_int_equal(rate("0.1mbit"), 100000);
	assert_int_equal(rate("1.0005kbit"), 1001); /* rounded */
	assert_int_equal(rate("12345"), 12345);
	assert_int_equal(rate("10MBit"), 10000000);
	assert_int_equal(rate("10GBPS"), 80000000000ULL);
	assert_int_equal(rate("007kbit"), 7000);
	assert_int_equal(rate("18446744073709551615"), UINT64_MAX);

	rate_bad("");
	rate_bad("fast");
	rate_bad("0");
	rate_bad("0mbit");
	rate_bad("0.0001bit"); /* rounds to 0 */
	rate_bad("-1mbit");
	rate_bad("+1mbit");
	rate_bad("10 mbit");
	rate_bad("10mbit ");
	rate_bad("1.mbit");
	rate_bad(".5mbit");
	rate_bad("1..5mbit");
	rate_bad("1.5.5mbit");
	rate_bad("10mb"); /* a size, not a rate */
	rate_bad("1e6");
	rate_bad("18446744073709551616");
	rate_bad("20000000tbit");
	rate_bad("mbit");
	rate_bad(NULL);
}

static void test_time(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(sl_parse_time("10ms", &v), 0);
	assert_int_equal(v, 10000000);
	assert_int_equal(sl_parse_time("250us", &v), 0);
	assert_int_equal(v, 250000);
	assert_int_equal(sl_parse_time("1s", &v), 0);
	assert_int_equal(v, 1000000000);
	assert_int_equal(sl_parse_time("100ns", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(sl_parse_time("1.5ms", &v), 0);
	assert_int_equal(v, 1500000);
	assert_int_equal(sl_parse_time("0ms", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sl_parse_time("2MSEC", &v), 0);
	assert_int_equal(v, 2000000);
	assert_int_equal(sl_parse_time("3secs", &v), 0);
	assert_int_equal(v, 3000000000ULL);
	assert_int_equal(sl_parse_time("0.0000000004s", &v), 0);
	assert_int_equal(v, 0);

	v = 7;
	assert_int_equal(sl_parse_time("10", &v), -EINVAL); /* unit required */
	assert_int_equal(sl_parse_time("ms", &v), -EINVAL);
	assert_int_equal(sl_parse_time("10m", &v), -EINVAL);
	assert_int_equal(sl_parse_time("10 ms", &v), -EINVAL);
	assert_int_equal(sl_parse_time("-1ms", &v), -EINVAL);
	assert_int_equal(sl_parse_time("99999999999s", &v), -EINVAL);
	assert_int_equal(sl_parse_time("", &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void test_fraction(void **state)
{
	uint32_t v = 7;

	(void)state;
	assert_int_equal(sl_parse_fraction("1%", &v), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(sl_parse_fraction("0.5%", &v), 0);
	assert_int_equal(v, 5000);
	assert_int_equal(sl_parse_fraction("0.0001%", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sl_parse_fraction("0.00005%", &v), 0);
	assert_int_equal(v, 1); /* 0.5 ppm rounds up */
	assert_int_equal(sl_parse_fraction("0.00004%", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sl_parse_fraction("100%", &v), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(sl_parse_fraction("0%", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sl_parse_fraction("0.01", &v), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(sl_parse_fraction("1", &v), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(sl_parse_fraction("0", &v), 0);
	assert_int_equal(v, 0);

	v = 7;
	assert_int_equal(sl_parse_fraction("101%", &v), -EINVAL);
	assert_int_equal(sl_parse_fraction("100.0001%", &v), -EINVAL);
	assert_int_equal(sl_parse_fraction("1.5", &v), -EINVAL);
	assert_int_equal(sl_parse_fraction("-1%", &v), -EINVAL);
	assert_int_equal(sl_parse_fraction("1 %", &v), -EINVAL);
	assert_int_equal(sl_parse_fraction("1%%", &v), -EINVAL);
	assert_int_equal(sl_parse_fraction("%", &v), -EINVAL);
	assert_int_equal(sl_parse_fraction("lots", &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void test_queue(void **state)
{
	uint64_t n = 7;
	bool bytes = true;

	(void)state;
	assert_int_equal(sl_parse_queue("100pkt", &n, &bytes), 0);
	assert_int_equal(n, 100);
	assert_false(bytes);
	assert_int_equal(sl_parse_queue("100p", &n, &bytes), 0);
	assert_int_equal(n, 100);
	assert_int_equal(sl_parse_queue("100packets", &n, &bytes), 0);
	assert_int_equal(n, 100);
	assert_int_equal(sl_parse_queue("1000", &n, &bytes), 0);
	assert_int_equal(n, 1000);
	assert_false(bytes);

	assert_int_equal(sl_parse_queue("64kb", &n, &bytes), 0);
	assert_int_equal(n, 65536);
	assert_true(bytes);
	assert_int_equal(sl_parse_queue("64K", &n, &bytes), 0);
	assert_int_equal(n, 65536);
	assert_int_equal(sl_parse_queue("1500b", &n, &bytes), 0);
	assert_int_equal(n, 1500);
	assert_int_equal(sl_parse_queue("1mb", &n, &bytes), 0);
	assert_int_equal(n, 1048576);
	assert_int_equal(sl_parse_queue("1.5k", &n, &bytes), 0);
	assert_int_equal(n, 1536);
	assert_int_equal(sl_parse_queue("2g", &n, &bytes), 0);
	assert_int_equal(n, 2147483648ULL);

	n = 7;
	assert_int_equal(sl_parse_queue("0pkt", &n, &bytes), -EINVAL);
	assert_int_equal(sl_parse_queue("0kb", &n, &bytes), -EINVAL);
	assert_int_equal(sl_parse_queue("1.5pkt", &n, &bytes), -EINVAL);
	assert_int_equal(sl_parse_queue("10kbit", &n, &bytes), -EINVAL);
	assert_int_equal(sl_parse_queue("big", &n, &bytes), -EINVAL);
	assert_int_equal(sl_parse_queue("", &n, &bytes), -EINVAL);
	assert_int_equal(n, 7);
}

static void test_fmt(void **state)
{
	static const uint64_t rates[] = { 1,	     100,	  1000,
					  1500,	     10000000,	  1500000,
					  1234567,   1000000000,  2500000000000ULL,
					  UINT64_MAX, 999999999999ULL };
	static const uint64_t times[] = { 0,	     1,	      1000,   1500,
					  10000000, 2500000, 1000000000,
					  123456789, UINT64_MAX };
	char buf[32];
	size_t i;
	uint64_t v;

	(void)state;
	assert_string_equal(sl_fmt_rate(10000000, buf, sizeof(buf)), "10mbit");
	assert_string_equal(sl_fmt_rate(1500000, buf, sizeof(buf)), "1.5mbit");
	assert_string_equal(sl_fmt_rate(1234567, buf, sizeof(buf)),
			    "1234567bit");
	assert_string_equal(sl_fmt_rate(1000, buf, sizeof(buf)), "1kbit");
	assert_string_equal(sl_fmt_rate(100, buf, sizeof(buf)), "100bit");
	assert_string_equal(sl_fmt_rate(1000000000, buf, sizeof(buf)), "1gbit");
	assert_string_equal(sl_fmt_rate(20000000, buf, sizeof(buf)), "20mbit");
	assert_string_equal(sl_fmt_time(10000000, buf, sizeof(buf)), "10ms");
	assert_string_equal(sl_fmt_time(2500000, buf, sizeof(buf)), "2.5ms");
	assert_string_equal(sl_fmt_time(250000, buf, sizeof(buf)), "250us");
	assert_string_equal(sl_fmt_time(1000000000, buf, sizeof(buf)), "1s");
	assert_string_equal(sl_fmt_time(100, buf, sizeof(buf)), "100ns");
	assert_string_equal(sl_fmt_time(0, buf, sizeof(buf)), "0s");

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		sl_fmt_rate(rates[i], buf, sizeof(buf));
		assert_int_equal(sl_parse_rate(buf, &v), 0);
		assert_int_equal(v, rates[i]);
	}
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		sl_fmt_time(times[i], buf, sizeof(buf));
		assert_int_equal(sl_parse_time(buf, &v), 0);
		assert_int_equal(v, times[i]);
	}
	/* A short buffer is truncated, never overrun. */
	assert_string_equal(sl_fmt_rate(10000000, buf, 4), "10m");
}

static void test_words(void **state)
{
	(void)state;
	assert_string_equal(sl_unit_noun(SL_UNIT_RATE), "a rate");
	assert_string_equal(sl_unit_expected(SL_UNIT_RATE),
			    "a number with a unit such as 10mbit, 1gbit");
	assert_non_null(strstr(sl_unit_expected(SL_UNIT_TIME), "10ms"));
	assert_non_null(strstr(sl_unit_expected(SL_UNIT_FRACTION), "1%"));
	assert_non_null(strstr(sl_unit_expected(SL_UNIT_QUEUE), "100pkt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),     cmocka_unit_test(test_time),
		cmocka_unit_test(test_fraction), cmocka_unit_test(test_queue),
		cmocka_unit_test(test_fmt),      cmocka_unit_test(test_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
