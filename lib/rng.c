// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rng.c - the seeded PRNG behind every random decision of the cell engine
 * (include/sluice/cell.h).
 *
 * xoshiro256** (Blackman and Vigna) is fast, passes the usual statistical
 * batteries and has a 2^256 period; splitmix64 spreads a 64-bit seed over
 * its 256-bit state, as its authors recommend. The same seed gives the same
 * decisions on every machine, which is what makes emulation runs and unit
 * tests repeatable.
 */
#include <math.h>

#include <sluice/cell.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sl_rng_seed(struct sl_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t sl_rng_derive(uint64_t seed, uint64_t i)
{
	uint64_t x = seed ^ (i * 0xd1b54a32d192ed03ull);

	return splitmix64(&x);
}

uint64_t sl_rng_next(struct sl_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/*
 * Lemire's multiply-and-reject: the high half of x * n is uniform in
 * [0, n) once the few low halves that would bias it are rejected.
 */
uint64_t sl_rng_below(struct sl_rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)sl_rng_next(r) * n;
	uint64_t low = (uint64_t)m;

	if (low < n) {
		uint64_t threshold = -n % n;

		while (low < threshold) {
			m = (unsigned __int128)sl_rng_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

bool sl_rng_ppm(struct sl_rng *r, uint32_t ppm)
{
	if (!ppm)
		return false;
	if (ppm >= 1000000)
		return true;
	return sl_rng_below(r, 1000000) < ppm;
}

double sl_rng_uniform(struct sl_rng *r)
{
	return (double)(sl_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Marsaglia's polar method; the second deviate is dropped to keep the state
 * a plain xoshiro state (a cell's draw count stays easy to reason about). */
double sl_rng_normal(struct sl_rng *r)
{
	double u, v, s;

	do {
		u = 2.0 * sl_rng_uniform(r) - 1.0;
		v = 2.0 * sl_rng_uniform(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	return u * sqrt(-2.0 * log(s) / s);
}
