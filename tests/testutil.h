/* testutil.h: helpers shared by the statistics tests (header-only; include
 * after <cmocka.h>). */
#ifndef HC_TESTUTIL_H
#define HC_TESTUTIL_H

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "status.h"

/* |got - want| <= atol + rtol |want|, else fail naming the set and value */
static inline void check_close(double got, double want, double atol, double rtol, const char *set, const char *what)
{
    double err = fabs(got - want);
    double tol = atol + rtol * fabs(want);
    if (!(err <= tol)) {
        print_error("%s %s: got %.17g, want %.17g (|diff| %.3g > tol %.3g)\n", set, what, got, want, err, tol);
        fail();
    }
}

static inline gsl_rng *make_rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(r);
    gsl_rng_set(r, seed);
    return r;
}

/* Central interval [lo, hi] holding Binomial(m, q) with probability >= 1 - 2*tail. */
static inline void binom_interval(unsigned m, double q, double tail, unsigned *lo, unsigned *hi)
{
    unsigned k = 0;
    while (k < m && gsl_cdf_binomial_P(k, q, m) < tail) k++;
    *lo = k;
    while (k < m && gsl_cdf_binomial_P(k, q, m) < 1.0 - tail) k++;
    *hi = k;
}

/* cmocka group set-up: library initialisation (error handlers off). */
static inline int hc_test_setup(void **state)
{
    (void)state;
    hc_init();
    return 0;
}

#endif
