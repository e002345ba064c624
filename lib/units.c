// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * units.c - rates, times, fractions and queue sizes as text (units.h).
 *
 * A number is read as a decimal mantissa and a count of fraction digits, then
 * scaled by the unit in 128-bit integer arithmetic and rounded once, so the
 * result never depends on floating point and "0.1mbit" is exactly 100000.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sluice/units.h>

/* Enough for any uint64 after scaling: 10^20 * 8*10^12 < 2^127. */
#define MANT_DIGITS_MAX 20
#define FRAC_DIGITS_MAX 18

typedef unsigned __int128 u128;

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit rate_units[] = {
	{ "", 1 },
	{ "bit", 1 },
	{ "kbit", 1000ULL },
	{ "mbit", 1000000ULL },
	{ "gbit", 1000000000ULL },
	{ "tbit", 1000000000000ULL },
	{ "bps", 8 },
	{ "kbps", 8000ULL },
	{ "mbps", 8000000ULL },
	{ "gbps", 8000000000ULL },
	{ "tbps", 8000000000000ULL },
	{ NULL, 0 },
};

static const struct unit time_units[] = {
	{ "ns", 1 },
	{ "nsec", 1 },
	{ "us", 1000ULL },
	{ "usec", 1000ULL },
	{ "ms", 1000000ULL },
	{ "msec", 1000000ULL },
	{ "s", 1000000000ULL },
	{ "sec", 1000000000ULL },
	{ "secs", 1000000000ULL },
	{ NULL, 0 },
};

/* mult 0 marks packets. */
static const struct unit queue_units[] = {
	{ "", 0 },
	{ "p", 0 },
	{ "pkt", 0 },
	{ "pkts", 0 },
	{ "packet", 0 },
	{ "packets", 0 },
	{ "b", 1 },
	{ "k", 1024ULL },
	{ "kb", 1024ULL },
	{ "m", 1024ULL * 1024 },
	{ "mb", 1024ULL * 1024 },
	{ "g", 1024ULL * 1024 * 1024 },
	{ "gb", 1024ULL * 1024 * 1024 },
	{ NULL, 0 },
};

struct decimal {
	u128 mant;   /* all digits, the point removed */
	int frac;    /* how many of them were after the point */
	const char *unit; /* the rest of the text */
};

static int parse_decimal(const char *s, struct decimal *d)
{
	int digits = 0, frac = 0;
	bool point = false;

	if (!s)
		return -EINVAL;
	d->mant = 0;
	for (; *s; s++) {
		if (*s == '.' && !point) {
			point = true;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		/* Leading zeros do not count towards the precision. */
		if (d->mant || *s != '0')
			digits++;
		if (point)
			frac++;
		if (digits > MANT_DIGITS_MAX || frac > FRAC_DIGITS_MAX)
			return -EINVAL;
		d->mant = d->mant * 10 + (unsigned)(*s - '0');
	}
	d->frac = frac;
	d->unit = s;
	return 0;
}

/* Checks the shape "<digits>[.<digits>]" strictly before the unit. */
static bool well_formed(const char *s, const char *unit)
{
	const char *dot = memchr(s, '.', (size_t)(unit - s));

	if (unit == s)
		return false;
	if (!dot)
		return true;
	return dot > s && dot + 1 < unit;
}

static const struct unit *find_unit(const struct unit *tab, const char *name)
{
	for (; tab->name; tab++)
		if (!strcasecmp(tab->name, name))
			return tab;
	return NULL;
}

static u128 pow10_u128(int n)
{
	u128 v = 1;

	while (n-- > 0)
		v *= 10;
	return v;
}

/* round(d * mult) into *out, or -EINVAL when it does not fit in 64 bits. */
static int scale(const struct decimal *d, uint64_t mult, uint64_t *out)
{
	u128 div = pow10_u128(d->frac);
	u128 v = (d->mant * mult + div / 2) / div;

	if (v > UINT64_MAX)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

static int parse_with(const char *s, const struct unit *tab,
		      const struct unit **u, struct decimal *d)
{
	if (parse_decimal(s, d) || !well_formed(s, d->unit))
		return -EINVAL;
	*u = find_unit(tab, d->unit);
	return *u ? 0 : -EINVAL;
}

int sl_parse_rate(const char *s, uint64_t *bits_per_sec)
{
	const struct unit *u;
	struct decimal d;
	uint64_t v;

	if (parse_with(s, rate_units, &u, &d) || scale(&d, u->mult, &v) ||
	    !v)
		return -EINVAL;
	*bits_per_sec = v;
	return 0;
}

int sl_parse_time(const char *s, uint64_t *ns)
{
	const struct unit *u;
	struct decimal d;
	uint64_t v;

	if (parse_with(s, time_units, &u, &d) || scale(&d, u->mult, &v))
		return -EINVAL;
	*ns = v;
	return 0;
}

int sl_parse_fraction(const char *s, uint32_t *ppm)
{
	struct decimal d;
	uint64_t v;

	if (parse_decimal(s, &d) || !well_formed(s, d.unit))
		return -EINVAL;
	if (!strcmp(d.unit, "%")) {
		if (scale(&d, 10000, &v))
			return -EINVAL;
	} else if (!*d.unit) {
		if (scale(&d, 1000000, &v))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (v > 1000000)
		return -EINVAL;
	*ppm = (uint32_t)v;
	return 0;
}

int sl_parse_queue(const char *s, uint64_t *n, bool *bytes)
{
	const struct unit *u;
	struct decimal d;
	uint64_t v;

	if (parse_with(s, queue_units, &u, &d))
		return -EINVAL;
	if (!u->mult) {
		/* Packets are whole. */
		if (d.frac || scale(&d, 1, &v))
			return -EINVAL;
	} else if (scale(&d, u->mult, &v)) {
		return -EINVAL;
	}
	if (!v)
		return -EINVAL;
	*n = v;
	*bytes = u->mult != 0;
	return 0;
}

const char *sl_unit_noun(enum sl_unit u)
{
	switch (u) {
	case SL_UNIT_RATE:
		return "a rate";
	case SL_UNIT_TIME:
		return "a time";
	case SL_UNIT_FRACTION:
		return "a fraction";
	case SL_UNIT_QUEUE:
		return "a queue size";
	}
	return "a value";
}

const char *sl_unit_expected(enum sl_unit u)
{
	switch (u) {
	case SL_UNIT_RATE:
		return "a number with a unit such as 10mbit, 1gbit";
	case SL_UNIT_TIME:
		return "a number with a unit such as 10ms, 250us, 1s";
	case SL_UNIT_FRACTION:
		return "a percentage from 0% to 100% such as 1% or 0.5%, "
		       "or a fraction from 0 to 1 such as 0.01";
	case SL_UNIT_QUEUE:
		return "a size such as 100pkt, 1500b or 64kb (k = 1024)";
	}
	return "a value";
}

/*
 * Writes v / mult with as many decimals as needed (none if exact) followed
 * by the unit name.
 */
static int fmt_one(uint64_t v, uint64_t mult, const char *name, char *buf,
		   size_t len)
{
	uint64_t whole = v / mult, rem = v % mult;
	char frac[24];
	int width = 0, n;
	uint64_t m;

	if (!rem)
		return snprintf(buf, len, "%llu%s", (unsigned long long)whole,
				name);
	for (m = mult; m > 1 && width < (int)sizeof(frac) - 1; m /= 10)
		width++;
	/* rem < mult, so it has at most width digits; pad with zeros. */
	for (n = width; n-- > 0; rem /= 10)
		frac[n] = (char)('0' + rem % 10);
	n = width;
	while (n > 0 && frac[n - 1] == '0')
		n--;
	frac[n] = '\0';
	return snprintf(buf, len, "%llu.%s%s", (unsigned long long)whole, frac,
			name);
}

/* tab lists units from the smallest, each mult a power of 10; picks the
 * shortest text; on a tie a whole number ("100ns", not "0.1us"), then the
 * larger unit. */
static const char *fmt_shortest(uint64_t v, const struct unit *tab, size_t n,
				char *buf, size_t len)
{
	char best[48], cur[48];
	int best_len = -1, cur_len;
	size_t i;

	for (i = n; i-- > 0;) {
		cur_len = fmt_one(v, tab[i].mult, tab[i].name, cur,
				  sizeof(cur));
		if (best_len < 0 || cur_len < best_len ||
		    (cur_len == best_len && strchr(best, '.') &&
		     !strchr(cur, '.'))) {
			memcpy(best, cur, sizeof(best));
			best_len = cur_len;
		}
	}
	if (len)
		snprintf(buf, len, "%s", best);
	return buf;
}

const char *sl_fmt_rate(uint64_t bits_per_sec, char *buf, size_t len)
{
	static const struct unit tab[] = {
		{ "bit", 1 },
		{ "kbit", 1000ULL },
		{ "mbit", 1000000ULL },
		{ "gbit", 1000000000ULL },
		{ "tbit", 1000000000000ULL },
	};

	return fmt_shortest(bits_per_sec, tab, sizeof(tab) / sizeof(tab[0]),
			    buf, len);
}

const char *sl_fmt_time(uint64_t ns, char *buf, size_t len)
{
	static const struct unit tab[] = {
		{ "ns", 1 },
		{ "us", 1000ULL },
		{ "ms", 1000000ULL },
		{ "s", 1000000000ULL },
	};

	return fmt_shortest(ns, tab, sizeof(tab) / sizeof(tab[0]), buf, len);
}
