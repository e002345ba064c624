/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * units.h - the quantities of a link policy written as text: rates, times,
 * loss fractions and queue sizes.
 *
 * The spelling follows tc(8) where tc has one, so that people can paste what
 * they already know. Parsing is exact (decimal arithmetic, no floating
 * point): "1.5mbit" is 1500000 bit/s on every machine. Each parser returns 0
 * or -EINVAL and never writes its output on error; sl_unit_noun() and
 * sl_unit_expected() give the words for an error message:
 *   "<path>: \"fast\" is not <noun>; expected <expected>"
 */
#ifndef SLUICE_UNITS_H
#define SLUICE_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sl_unit {
	SL_UNIT_RATE = 0,
	SL_UNIT_TIME,
	SL_UNIT_FRACTION,
	SL_UNIT_QUEUE,
};

/*
 * "100bit", "10kbit", "10mbit", "1gbit", "1tbit" (bits/s, powers of 1000),
 * "1bps", "10kbps", "10mbps", "1gbps", "1tbps" (bytes/s, powers of 1000);
 * a bare number is bit/s; decimals allowed; case-insensitive. A rate that is
 * 0 (or rounds to 0) is rejected: an unshaped link has no rate at all.
 */
int sl_parse_rate(const char *s, uint64_t *bits_per_sec);

/* "100ns", "250us", "10ms", "1s" (also nsec, usec, msec, sec, secs);
 * decimals allowed; the unit is required; 0 is allowed. */
int sl_parse_time(const char *s, uint64_t *ns);

/* "1%", "0.5%", "0.0001%", or a plain fraction "0.01"; from 0 to 100%.
 * The result is in parts per million, rounded to the nearest. */
int sl_parse_fraction(const char *s, uint32_t *ppm);

/*
 * Queue limit, either in packets ("100pkt", "100p", "100packets", or a bare
 * integer) or in bytes ("1500b", "64k"/"64kb", "1m"/"1mb", "1g"/"1gb"; sizes
 * use k = 1024 as tc does; decimals allowed for bytes). 0 is rejected.
 * *bytes tells which.
 */
int sl_parse_queue(const char *s, uint64_t *n, bool *bytes);

/* "a rate", "a time", ... : what the text failed to be. */
const char *sl_unit_noun(enum sl_unit u);
/* What would have been accepted, to follow "expected ". */
const char *sl_unit_expected(enum sl_unit u);

/*
 * The shortest exact spelling: 10000000 -> "10mbit", 1500000 -> "1.5mbit",
 * 1234567 -> "1234567bit"; 2500000 ns -> "2.5ms". The text parses back to
 * the same value. Returns buf (truncated to len if too small; 32 is enough).
 */
const char *sl_fmt_rate(uint64_t bits_per_sec, char *buf, size_t len);
const char *sl_fmt_time(uint64_t ns, char *buf, size_t len);

#endif
