// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dist.c - the delay distributions of jitter (include/sluice/cellkit.h),
 * under the names netem uses: uniform, normal, pareto, paretonormal.
 *
 * netem draws from 16384- or 4096-entry tables that iproute2 generates
 * offline; we compute the same functions exactly instead, so that the
 * model the tests and docs state is the one that runs:
 *   pareto        Y = min(4/3 (U^(-1/3) - 3/2), 32767/8192): a Pareto of
 *                 shape 3 and scale 1 (mean 3/2, variance 3/4), centred
 *                 and scaled by 4/3, capped where netem's 16-bit table
 *                 saturates: E[Y] = -0.0329, sd(Y) = 0.8209 (closed forms
 *                 in docs/cells.md).
 *   paretonormal  Y = (Q_N(V) + 3 Q_P(V)) / 4, Q_N the standard normal
 *                 quantile and Q_P the pareto quantile above, both at one
 *                 uniform level V: netem's table adds the two quantiles
 *                 entry by entry, so they are comonotone, not independent.
 * Every draw uses the cell's own PRNG, so one seed gives one sequence.
 */
#include <math.h>

#include <sluice/cellkit.h>

const char *const sl_dist_names[] = { "uniform", "normal", "pareto",
				      "paretonormal", NULL };

#define PARETO_CAP (32767.0 / 8192.0)

/* Uniform on (0, 1): never 0 or 1, so quantiles stay finite. */
static double open_uniform(struct sl_rng *r)
{
	return ((double)(sl_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* The pareto part at upper-tail level q = 1 - V in (0, 1]. */
static double pareto_at(double q)
{
	double y = (4.0 / 3.0) * (1.0 / cbrt(q) - 1.5);

	return y > PARETO_CAP ? PARETO_CAP : y;
}

/*
 * A starting point from Abramowitz and Stegun 26.2.23 (error < 4.5e-4),
 * then Halley steps on Phi(x) - p, with Phi written through erfc so that
 * the tails keep their precision; two steps reach double precision (the
 * error falls from 4.5e-4 to ~1e-11 to rounding: Halley is cubic).
 */
double sl_normal_quantile(double p)
{
	double q = p < 0.5 ? p : 1 - p;
	double t = sqrt(-2.0 * log(q));
	double x = t - (2.515517 + t * (0.802853 + t * 0.010328)) /
			       (1 + t * (1.432788 + t * (0.189269 + t * 0.001308)));
	int i;

	x = -x; /* the lower-tail quantile of q */
	for (i = 0; i < 2; i++) {
		double e = 0.5 * erfc(-x / M_SQRT2) - q;
		double u = e * sqrt(2 * M_PI) * exp(x * x / 2);

		x -= u / (1 + x * u / 2);
	}
	return p < 0.5 ? x : -x;
}

double sl_dist_draw(enum sl_dist d, struct sl_rng *r)
{
	double v, y;

	switch (d) {
	case SL_DIST_NORMAL:
		return sl_rng_normal(r);
	case SL_DIST_PARETO:
		return pareto_at(open_uniform(r));
	case SL_DIST_PARETONORMAL:
		v = open_uniform(r);
		y = (sl_normal_quantile(v) + 3 * pareto_at(1 - v)) / 4;
		return y > PARETO_CAP ? PARETO_CAP : y;
	default:
		return 2 * sl_rng_uniform(r) - 1;
	}
}

uint64_t sl_dist_delay(enum sl_dist d, struct sl_rng *r, uint64_t mu,
		       uint64_t sigma)
{
	double x;

	if (!sigma)
		return mu;
	x = (double)mu + (double)sigma * sl_dist_draw(d, r);
	if (x <= 0)
		return 0;
	if (x >= 0x1.0p63)
		return (uint64_t)1 << 63;
	return (uint64_t)llround(x);
}
