/* testutil.h: helpers shared by the tests (header-only; include after
 * <cmocka.h>). */
#ifndef HC_TESTUTIL_H
#define HC_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- skips ------------------------------------------------------------------
 * cmocka's run functions return only the number of failed tests, so skips
 * are counted here.  Skip only through HC_SKIP / HC_MISSING_DEP (never a bare
 * skip()), and end main with `return HC_RUN_TESTS(tests, setup, teardown);`:
 * it returns 77, CTest's SKIP_RETURN_CODE (tests/CMakeLists.txt), when a test
 * skipped and none failed, so a skip shows as a CTest skip, not a pass.
 * test_skip_selftest checks all of this. */
static inline int *hc_skip_count(void)
{
    static int n;
    return &n;
}

/* Skip the current test, saying why on one line. */
#define HC_SKIP(...)                  \
    do {                              \
        printf("SKIP: " __VA_ARGS__); \
        printf("\n");                 \
        ++*hc_skip_count();           \
        skip();                       \
    } while (0)

/* Developers on machines without the declared dependencies set
 * HC_ALLOW_MISSING_DEPS=1; CI never does. */
static inline int hc_allow_missing_deps(void)
{
    const char *e = getenv("HC_ALLOW_MISSING_DEPS");
    return e && strcmp(e, "1") == 0;
}

/* A declared dependency (a package of tools/debian-packages.txt or a file
 * in the repository), named by the string `what`, is missing: a failure
 * with a one-line message naming it, or a visible skip where
 * HC_ALLOW_MISSING_DEPS=1. */
#define HC_MISSING_DEP(what)                                                                           \
    do {                                                                                               \
        if (hc_allow_missing_deps()) HC_SKIP("missing %s (HC_ALLOW_MISSING_DEPS=1)", (what));          \
        fail_msg("missing declared dependency: %s (HC_ALLOW_MISSING_DEPS=1 makes it a skip)", (what)); \
    } while (0)

/* The exit status of a test program: 1 if any test failed (never 77,
 * whatever the count), else 77 if any skipped, else 0. */
static inline int hc_run_status(int failed) { return failed ? 1 : *hc_skip_count() ? 77 : 0; }
#define HC_RUN_TESTS(tests, setup, teardown) hc_run_status(cmocka_run_group_tests(tests, setup, teardown))

#endif
