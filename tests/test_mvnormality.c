/* test_mvnormality.c: Mardia and Henze-Zirkler tests against reference
 * values (iris, the x1/x2 pair of ecosystem.md), affine invariance, errors,
 * JSON output, size and power on seeded samples, and the CSV reader.
 *
 * Reference sources:
 *   - "notes": shared/research/ecosystem.md section 2.3: numpy values for
 *     iris setosa with both covariance divisors, whose n-1 figures match R
 *     dprep::mardia(iris) class 1 (mard1 = 24.15508, p = 0.2356838;
 *     mard2 = 0.7587116, p = 0.4480251), and HZ on setosa and on (x1, x2).
 *   - "R": produced here with Debian's R 4.2.2 and its built-in `iris`, by
 *     an independent transcription of the formulas in mvnormal.h:
 *       Xc <- scale(X, scale=FALSE); S <- crossprod(Xc)/n
 *       G <- Xc %*% solve(S) %*% t(Xc); b1 <- sum(G^3)/n^2
 *       b2 <- sum(diag(G)^2)/n; ... Dij <- outer(Di, Di, "+") - 2*G ...
 *       hz_p <- plnorm(HZ, pmu, psi, lower.tail=FALSE)
 *     (the script is the HZ of R MVN::hzTest, with the same lognormal mu and
 *     sigma^2), printed with options(digits=15). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "covariance.h"
#include "csvread.h"
#include "mvnormal.h"
#include "status.h"

/* R's iris[, 1:4] (rows 35 and 38 as in R, not the UCI file):
 * rows 0-49 setosa, 50-99 versicolor, 100-149 virginica. */
static const double iris[150][4] = {
    {5.1, 3.5, 1.4, 0.2}, {4.9, 3.0, 1.4, 0.2}, {4.7, 3.2, 1.3, 0.2}, {4.6, 3.1, 1.5, 0.2},
    {5.0, 3.6, 1.4, 0.2}, {5.4, 3.9, 1.7, 0.4}, {4.6, 3.4, 1.4, 0.3}, {5.0, 3.4, 1.5, 0.2},
    {4.4, 2.9, 1.4, 0.2}, {4.9, 3.1, 1.5, 0.1}, {5.4, 3.7, 1.5, 0.2}, {4.8, 3.4, 1.6, 0.2},
    {4.8, 3.0, 1.4, 0.1}, {4.3, 3.0, 1.1, 0.1}, {5.8, 4.0, 1.2, 0.2}, {5.7, 4.4, 1.5, 0.4},
    {5.4, 3.9, 1.3, 0.4}, {5.1, 3.5, 1.4, 0.3}, {5.7, 3.8, 1.7, 0.3}, {5.1, 3.8, 1.5, 0.3},
    {5.4, 3.4, 1.7, 0.2}, {5.1, 3.7, 1.5, 0.4}, {4.6, 3.6, 1.0, 0.2}, {5.1, 3.3, 1.7, 0.5},
    {4.8, 3.4, 1.9, 0.2}, {5.0, 3.0, 1.6, 0.2}, {5.0, 3.4, 1.6, 0.4}, {5.2, 3.5, 1.5, 0.2},
    {5.2, 3.4, 1.4, 0.2}, {4.7, 3.2, 1.6, 0.2}, {4.8, 3.1, 1.6, 0.2}, {5.4, 3.4, 1.5, 0.4},
    {5.2, 4.1, 1.5, 0.1}, {5.5, 4.2, 1.4, 0.2}, {4.9, 3.1, 1.5, 0.2}, {5.0, 3.2, 1.2, 0.2},
    {5.5, 3.5, 1.3, 0.2}, {4.9, 3.6, 1.4, 0.1}, {4.4, 3.0, 1.3, 0.2}, {5.1, 3.4, 1.5, 0.2},
    {5.0, 3.5, 1.3, 0.3}, {4.5, 2.3, 1.3, 0.3}, {4.4, 3.2, 1.3, 0.2}, {5.0, 3.5, 1.6, 0.6},
    {5.1, 3.8, 1.9, 0.4}, {4.8, 3.0, 1.4, 0.3}, {5.1, 3.8, 1.6, 0.2}, {4.6, 3.2, 1.4, 0.2},
    {5.3, 3.7, 1.5, 0.2}, {5.0, 3.3, 1.4, 0.2}, {7.0, 3.2, 4.7, 1.4}, {6.4, 3.2, 4.5, 1.5},
    {6.9, 3.1, 4.9, 1.5}, {5.5, 2.3, 4.0, 1.3}, {6.5, 2.8, 4.6, 1.5}, {5.7, 2.8, 4.5, 1.3},
    {6.3, 3.3, 4.7, 1.6}, {4.9, 2.4, 3.3, 1.0}, {6.6, 2.9, 4.6, 1.3}, {5.2, 2.7, 3.9, 1.4},
    {5.0, 2.0, 3.5, 1.0}, {5.9, 3.0, 4.2, 1.5}, {6.0, 2.2, 4.0, 1.0}, {6.1, 2.9, 4.7, 1.4},
    {5.6, 2.9, 3.6, 1.3}, {6.7, 3.1, 4.4, 1.4}, {5.6, 3.0, 4.5, 1.5}, {5.8, 2.7, 4.1, 1.0},
    {6.2, 2.2, 4.5, 1.5}, {5.6, 2.5, 3.9, 1.1}, {5.9, 3.2, 4.8, 1.8}, {6.1, 2.8, 4.0, 1.3},
    {6.3, 2.5, 4.9, 1.5}, {6.1, 2.8, 4.7, 1.2}, {6.4, 2.9, 4.3, 1.3}, {6.6, 3.0, 4.4, 1.4},
    {6.8, 2.8, 4.8, 1.4}, {6.7, 3.0, 5.0, 1.7}, {6.0, 2.9, 4.5, 1.5}, {5.7, 2.6, 3.5, 1.0},
    {5.5, 2.4, 3.8, 1.1}, {5.5, 2.4, 3.7, 1.0}, {5.8, 2.7, 3.9, 1.2}, {6.0, 2.7, 5.1, 1.6},
    {5.4, 3.0, 4.5, 1.5}, {6.0, 3.4, 4.5, 1.6}, {6.7, 3.1, 4.7, 1.5}, {6.3, 2.3, 4.4, 1.3},
    {5.6, 3.0, 4.1, 1.3}, {5.5, 2.5, 4.0, 1.3}, {5.5, 2.6, 4.4, 1.2}, {6.1, 3.0, 4.6, 1.4},
    {5.8, 2.6, 4.0, 1.2}, {5.0, 2.3, 3.3, 1.0}, {5.6, 2.7, 4.2, 1.3}, {5.7, 3.0, 4.2, 1.2},
    {5.7, 2.9, 4.2, 1.3}, {6.2, 2.9, 4.3, 1.3}, {5.1, 2.5, 3.0, 1.1}, {5.7, 2.8, 4.1, 1.3},
    {6.3, 3.3, 6.0, 2.5}, {5.8, 2.7, 5.1, 1.9}, {7.1, 3.0, 5.9, 2.1}, {6.3, 2.9, 5.6, 1.8},
    {6.5, 3.0, 5.8, 2.2}, {7.6, 3.0, 6.6, 2.1}, {4.9, 2.5, 4.5, 1.7}, {7.3, 2.9, 6.3, 1.8},
    {6.7, 2.5, 5.8, 1.8}, {7.2, 3.6, 6.1, 2.5}, {6.5, 3.2, 5.1, 2.0}, {6.4, 2.7, 5.3, 1.9},
    {6.8, 3.0, 5.5, 2.1}, {5.7, 2.5, 5.0, 2.0}, {5.8, 2.8, 5.1, 2.4}, {6.4, 3.2, 5.3, 2.3},
    {6.5, 3.0, 5.5, 1.8}, {7.7, 3.8, 6.7, 2.2}, {7.7, 2.6, 6.9, 2.3}, {6.0, 2.2, 5.0, 1.5},
    {6.9, 3.2, 5.7, 2.3}, {5.6, 2.8, 4.9, 2.0}, {7.7, 2.8, 6.7, 2.0}, {6.3, 2.7, 4.9, 1.8},
    {6.7, 3.3, 5.7, 2.1}, {7.2, 3.2, 6.0, 1.8}, {6.2, 2.8, 4.8, 1.8}, {6.1, 3.0, 4.9, 1.8},
    {6.4, 2.8, 5.6, 2.1}, {7.2, 3.0, 5.8, 1.6}, {7.4, 2.8, 6.1, 1.9}, {7.9, 3.8, 6.4, 2.0},
    {6.4, 2.8, 5.6, 2.2}, {6.3, 2.8, 5.1, 1.5}, {6.1, 2.6, 5.6, 1.4}, {7.7, 3.0, 6.1, 2.3},
    {6.3, 3.4, 5.6, 2.4}, {6.4, 3.1, 5.5, 1.8}, {6.0, 3.0, 4.8, 1.8}, {6.9, 3.1, 5.4, 2.1},
    {6.7, 3.1, 5.6, 2.4}, {6.9, 3.1, 5.1, 2.3}, {5.8, 2.7, 5.1, 1.9}, {6.8, 3.2, 5.9, 2.3},
    {6.7, 3.3, 5.7, 2.5}, {6.7, 3.0, 5.2, 2.3}, {6.3, 2.5, 5.0, 1.9}, {6.5, 3.0, 5.2, 2.0},
    {6.2, 3.4, 5.4, 2.3}, {5.9, 3.0, 5.1, 1.8}};

static const double x1[20] = {0.11, 7.87, 4.61, 10.14, 7.95, 3.14, 0.46, 4.43, 0.21, 4.75,
                              0.71, 1.52, 3.24, 0.93, 0.42, 4.97, 9.53, 4.55, 0.47, 6.66};
static const double x2[20] = {1.36, 1.14, 2.92, 2.55, 1.46, 1.06, 5.27, -1.11, 3.48, 1.10,
                              0.88, -0.51, 1.46, 0.52, 6.20, 1.69, 0.08, 3.67, 2.81, 3.49};

typedef struct mv_ref {
    const char *name;
    double b1, b2, skew, skew_p, small, small_p, z, z_p, beta, hz, hz_p;
} mv_ref;

/* R, divisor n (see top of file) */
static const mv_ref ref_setosa = {"setosa", 3.0797213423555734, 26.5376561614396991,
    25.6643445196297790, 0.1771858844676516, 27.8597282074535322, 0.1127617045830301,
    1.2949922371160574, 0.1953229074419343, 1.2760834244208237, 0.9488453160016581,
    0.0499535561792257};
static const mv_ref ref_versicolor = {"versicolor", 3.022201384349586, 22.879375375638148,
    25.185011536246552, 0.194444483140267, 27.339392041154394, 0.125982646287604,
    -0.571866358934294, 0.567412516528725, 1.276083424420824, 0.838800890726606,
    0.226199148703638};
static const mv_ref ref_iris = {"iris", 2.69722035112248e+00, 2.37396578614676e+01,
    6.74305087780620e+01, 4.75799820400859e-07, 6.93300865286857e+01, 2.34210766839870e-07,
    -2.30112114481054e-01, 8.18004651477971e-01, 1.46392633772130e+00, 2.33639420031541e+00,
    4.14131162993032e-19};
static const mv_ref ref_x1x2 = {"x1,x2", 0.954186879582195, 6.339552204336857,
    3.180622931940649, 0.528066349965263, 4.042739147703510, 0.400252634900503,
    -0.928218536048117, 0.353294221223660, 1.209135587560978, 0.345121311678833,
    0.598072306803981};

static void check_mv(const hc_mvnormality_result *r, const mv_ref *c, double rt)
{
    check_close(r->mardia_b1, c->b1, 0, rt, c->name, "b1");
    check_close(r->mardia_b2, c->b2, 0, rt, c->name, "b2");
    check_close(r->mardia_skew, c->skew, 0, rt, c->name, "mardia_skew");
    check_close(r->mardia_skew_p, c->skew_p, 0, rt, c->name, "mardia_skew_p");
    check_close(r->mardia_skew_small, c->small, 0, rt, c->name, "mardia_skew_small");
    check_close(r->mardia_skew_small_p, c->small_p, 0, rt, c->name, "mardia_skew_small_p");
    check_close(r->mardia_kurt_z, c->z, 0, rt, c->name, "mardia_kurt_z");
    check_close(r->mardia_kurt_p, c->z_p, 0, rt, c->name, "mardia_kurt_p");
    check_close(r->hz_beta, c->beta, 0, rt, c->name, "hz_beta");
    check_close(r->hz, c->hz, 0, rt, c->name, "hz");
    check_close(r->hz_p, c->hz_p, 0, rt, c->name, "hz_p");
}

static double *pair_x1x2(void)
{
    double *m = malloc(40 * sizeof *m);
    assert_non_null(m);
    for (size_t i = 0; i < 20; i++) {
        m[2 * i] = x1[i];
        m[2 * i + 1] = x2[i];
    }
    return m;
}

/* ---- tests: reference values -------------------------------------------------- */

/* Against the R transcription: 15 printed digits, checked to 1e-10 relative. */
static void test_reference_r(void **state)
{
    (void)state;
    hc_mvnormality_result r;
    assert_int_equal(hc_mvnormality_test(&iris[0][0], 50, 4, 4, &r), HC_OK);
    assert_int_equal(r.n, 50);
    assert_int_equal(r.p, 4);
    check_close(r.mardia_skew_df, 20.0, 0, 0, "setosa", "df");
    check_mv(&r, &ref_setosa, 1e-10);
    assert_int_equal(hc_mvnormality_test(&iris[50][0], 50, 4, 4, &r), HC_OK);
    check_mv(&r, &ref_versicolor, 1e-10);
    assert_int_equal(hc_mvnormality_test(&iris[0][0], 150, 4, 4, &r), HC_OK);
    check_mv(&r, &ref_iris, 1e-10);
    double *m = pair_x1x2();
    assert_int_equal(hc_mvnormality_test(m, 20, 2, 2, &r), HC_OK);
    check_close(r.mardia_skew_df, 4.0, 0, 0, "x1,x2", "df");
    check_mv(&r, &ref_x1x2, 1e-10);
    free(m);
}

/* The values printed in ecosystem.md 2.3 (8 decimals: |diff| <= 6e-9), in
 * both covariance conventions; the n-1 figures are derived from ours via
 * b1_u = b1 ((n-1)/n)^3, b2_u = b2 ((n-1)/n)^2 and also compared with the
 * digits R dprep::mardia printed. */
static void test_reference_notes(void **state)
{
    (void)state;
    const double t = 6e-9;
    hc_mvnormality_result r;
    assert_int_equal(hc_mvnormality_test(&iris[0][0], 50, 4, 4, &r), HC_OK);
    check_close(r.mardia_b1, 3.07972134, t, 0, "notes setosa/n", "b1");
    check_close(r.mardia_b2, 26.53765616, t, 0, "notes setosa/n", "b2");
    check_close(r.mardia_skew, 25.66434452, t, 0, "notes setosa/n", "skew");
    check_close(r.mardia_skew_p, 0.17718588, t, 0, "notes setosa/n", "skew_p");
    check_close(r.mardia_skew_small, 27.85972821, t, 0, "notes setosa/n", "small");
    check_close(r.mardia_skew_small_p, 0.11276170, t, 0, "notes setosa/n", "small_p");
    check_close(r.mardia_kurt_z, 1.29499224, t, 0, "notes setosa/n", "kurt_z");
    check_close(r.mardia_kurt_p, 0.19532291, t, 0, "notes setosa/n", "kurt_p");
    check_close(r.hz_beta, 1.27608342, t, 0, "notes setosa", "beta");
    check_close(r.hz, 0.94884532, t, 0, "notes setosa", "hz");
    check_close(r.hz_p, 0.04995356, t, 0, "notes setosa", "hz_p");

    const double n = 50.0, p = 4.0, f = (n - 1.0) / n;
    double b1u = r.mardia_b1 * f * f * f, b2u = r.mardia_b2 * f * f;
    double sk = n * b1u / 6.0;
    double k = (p + 1.0) * (n + 1.0) * (n + 3.0) / (n * ((n + 1.0) * (p + 1.0) - 6.0));
    double z = (b2u - p * (p + 2.0)) / sqrt(8.0 * p * (p + 2.0) / n);
    check_close(b1u, 2.89860909, t, 0, "notes setosa/n-1", "b1");
    check_close(b2u, 25.48676498, t, 0, "notes setosa/n-1", "b2");
    check_close(sk, 24.15507575, t, 0, "notes setosa/n-1", "skew");
    check_close(gsl_cdf_chisq_Q(sk, 20.0), 0.23568376, t, 0, "notes setosa/n-1", "skew_p");
    check_close(k * sk, 26.22135331, t, 0, "notes setosa/n-1", "small");
    check_close(gsl_cdf_chisq_Q(k * sk, 20.0), 0.15862509, t, 0, "notes setosa/n-1", "small_p");
    check_close(z, 0.75871158, t, 0, "notes setosa/n-1", "kurt_z");
    check_close(2.0 * gsl_cdf_ugaussian_Q(fabs(z)), 0.44802511, t, 0, "notes setosa/n-1", "kurt_p");
    /* R dprep::mardia output (7 significant digits) */
    check_close(sk, 24.15508, 5e-6, 0, "dprep", "mard1");
    check_close(gsl_cdf_chisq_Q(sk, 20.0), 0.2356838, 5e-8, 0, "dprep", "p1");
    check_close(z, 0.7587116, 5e-8, 0, "dprep", "mard2");
    check_close(2.0 * gsl_cdf_ugaussian_Q(fabs(z)), 0.4480251, 5e-8, 0, "dprep", "p2");

    double *m = pair_x1x2();
    assert_int_equal(hc_mvnormality_test(m, 20, 2, 2, &r), HC_OK);
    free(m);
    const double n2 = 20.0, p2 = 2.0, f2 = (n2 - 1.0) / n2;
    b1u = r.mardia_b1 * f2 * f2 * f2;
    b2u = r.mardia_b2 * f2 * f2;
    sk = n2 * b1u / 6.0;
    z = (b2u - p2 * (p2 + 2.0)) / sqrt(8.0 * p2 * (p2 + 2.0) / n2);
    check_close(b1u, 0.81809598, t, 0, "notes x1,x2/n-1", "b1");
    check_close(b2u, 5.72144586, t, 0, "notes x1,x2/n-1", "b2");
    check_close(sk, 2.72698659, t, 0, "notes x1,x2/n-1", "skew");
    check_close(gsl_cdf_chisq_Q(sk, 4.0), 0.60450063, t, 0, "notes x1,x2/n-1", "skew_p");
    check_close(z, -1.27375048, t, 0, "notes x1,x2/n-1", "kurt_z");
    check_close(2.0 * gsl_cdf_ugaussian_Q(fabs(z)), 0.20275186, t, 0, "notes x1,x2/n-1", "kurt_p");
    check_close(r.hz, 0.34512131, t, 0, "notes x1,x2", "hz");
    check_close(r.hz_p, 0.59807231, t, 0, "notes x1,x2", "hz_p");
}

/* A leading dimension > p reads the same numbers; every statistic is
 * invariant under x -> A x + b for invertible A. */
static void test_ld_and_affine_invariance(void **state)
{
    (void)state;
    enum { N = 50, P = 4, LD = 7 };
    static double wide[N * LD], aff[N * P];
    const double a[P][P] = {{2.0, 0.3, -1.0, 0.0},
                            {0.0, -1.5, 0.2, 4.0},
                            {0.7, 0.0, 0.5, -0.2},
                            {1.0, 1.0, 1.0, 1.0}};
    const double b[P] = {1e3, -5.0, 0.25, 42.0};
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < LD; j++) wide[i * LD + j] = j < P ? iris[i][j] : 1e300;
        for (size_t j = 0; j < P; j++) {
            double s = b[j];
            for (size_t k = 0; k < P; k++) s += a[j][k] * iris[i][k];
            aff[i * P + j] = s;
        }
    }
    hc_mvnormality_result r0, r1, r2;
    assert_int_equal(hc_mvnormality_test(&iris[0][0], N, P, P, &r0), HC_OK);
    assert_int_equal(hc_mvnormality_test(wide, N, P, LD, &r1), HC_OK);
    assert_memory_equal(&r0, &r1, sizeof r0);
    assert_int_equal(hc_mvnormality_test(aff, N, P, P, &r2), HC_OK);
    const mv_ref got = {"affine", r2.mardia_b1, r2.mardia_b2, r2.mardia_skew, r2.mardia_skew_p,
                        r2.mardia_skew_small, r2.mardia_skew_small_p, r2.mardia_kurt_z,
                        r2.mardia_kurt_p, r2.hz_beta, r2.hz, r2.hz_p};
    check_mv(&r0, &got, 1e-9);
}

/* ---- tests: errors and JSON --------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    hc_mvnormality_result r;
    assert_int_equal(hc_mvnormality_test(&iris[0][0], 50, 0, 4, &r), HC_EINVAL);
    assert_int_equal(hc_mvnormality_test(&iris[0][0], 50, 4, 3, &r), HC_EINVAL);
    hc_errclear();
    assert_int_equal(hc_mvnormality_test(&iris[0][0], 4, 4, 4, &r), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "n > p"));
    assert_int_equal(hc_mvnormality_test(&iris[0][0], 2, 1, 4, &r), HC_EINVAL);

    static double m[50 * 4];
    memcpy(m, iris, sizeof m);
    m[17 * 4 + 2] = NAN;
    hc_errclear();
    assert_int_equal(hc_mvnormality_test(m, 50, 4, 4, &r), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "(17, 2)"));

    /* collinear column: x3 = 2 x0 - x1 */
    memcpy(m, iris, sizeof m);
    for (size_t i = 0; i < 50; i++) m[i * 4 + 3] = 2.0 * m[i * 4] - m[i * 4 + 1];
    hc_errclear();
    assert_int_equal(hc_mvnormality_test(m, 50, 4, 4, &r), HC_ENUM);
    assert_true(strstr(hc_errmsg(), "singular") || strstr(hc_errmsg(), "positive definite"));
    /* constant column */
    memcpy(m, iris, sizeof m);
    for (size_t i = 0; i < 50; i++) m[i * 4 + 1] = 3.0;
    assert_int_equal(hc_mvnormality_test(m, 50, 4, 4, &r), HC_ENUM);
}

static void test_json(void **state)
{
    (void)state;
    static const char *const keys[] = {"n", "p", "mardia_skew", "mardia_skew_p",
                                       "mardia_skew_small", "mardia_skew_small_p",
                                       "mardia_kurt_z", "mardia_kurt_p", "hz", "hz_p"};
    hc_mvnormality_result r;
    assert_int_equal(hc_mvnormality_test(&iris[0][0], 50, 4, 4, &r), HC_OK);
    cJSON *o = cJSON_CreateObject();
    assert_non_null(o);
    assert_int_equal(hc_mvnormality_to_json(&r, o), HC_OK);
    assert_int_equal(cJSON_GetArraySize(o), sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, keys[i]))) {
            print_error("missing numeric key %s\n", keys[i]);
            fail();
        }
    }
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "p")->valuedouble == 4.0);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "hz")->valuedouble == r.hz);
    char *txt = cJSON_PrintUnformatted(o);
    assert_non_null(txt);
    cJSON *back = cJSON_Parse(txt);
    assert_non_null(back);
    check_close(cJSON_GetObjectItemCaseSensitive(back, "hz_p")->valuedouble, r.hz_p, 0, 1e-14,
                "json", "hz_p round trip");
    cJSON_Delete(back);
    free(txt);
    assert_int_equal(hc_mvnormality_to_json(&r, NULL), HC_EINVAL);
    cJSON_Delete(o);
}

/* ---- tests: size and power ---------------------------------------------------- */

/* Correlated Gaussian rows: x = L g + mu, L lower triangular. */
static void draw_gaussian(gsl_rng *rng, double *x, size_t n)
{
    const double l[4][4] = {{1.0, 0, 0, 0}, {0.8, 0.6, 0, 0}, {-0.5, 0.2, 2.0, 0}, {0.1, 0.1, 0.1, 0.3}};
    for (size_t i = 0; i < n; i++) {
        double g[4];
        for (size_t k = 0; k < 4; k++) g[k] = gsl_ran_gaussian_ziggurat(rng, 1.0);
        for (size_t j = 0; j < 4; j++) {
            double s = 10.0 * (double)j;
            for (size_t k = 0; k <= j; k++) s += l[j][k] * g[k];
            x[i * 4 + j] = s;
        }
    }
}

/* Under H0 (n = 500, p = 4, 400 seeds) the number of rejections at
 * alpha = 0.05 of the corrected Mardia skewness, Mardia kurtosis and HZ
 * lies inside the central 99.9% Binomial(400, 0.05) interval. */
static void test_size_gaussian(void **state)
{
    (void)state;
    enum { SEEDS = 400, N = 500 };
    unsigned lo, hi;
    binom_interval(SEEDS, 0.05, 0.0005, &lo, &hi);
    static double x[N * 4];
    unsigned c_sk = 0, c_sks = 0, c_ku = 0, c_hz = 0;
    for (unsigned s = 1; s <= SEEDS; s++) {
        gsl_rng *rng = make_rng(5000 + s);
        draw_gaussian(rng, x, N);
        gsl_rng_free(rng);
        hc_mvnormality_result r;
        assert_int_equal(hc_mvnormality_test(x, N, 4, 4, &r), HC_OK);
        c_sk += r.mardia_skew_p < 0.05;
        c_sks += r.mardia_skew_small_p < 0.05;
        c_ku += r.mardia_kurt_p < 0.05;
        c_hz += r.hz_p < 0.05;
    }
    print_message("size at alpha=0.05 over %d seeds (99.9%% interval [%u, %u]): mardia_skew %u "
                  "mardia_skew_small %u mardia_kurt %u hz %u\n",
                  SEEDS, lo, hi, c_sk, c_sks, c_ku, c_hz);
    assert_in_range(c_sks, lo, hi);
    assert_in_range(c_ku, lo, hi);
    assert_in_range(c_hz, lo, hi);
    assert_true(c_sk <= hi); /* the uncorrected chi^2 is conservative */
}

typedef enum { ALT_UNIFORM, ALT_LAPLACE, ALT_MIXTURE } alt_kind;

static void draw_alt(gsl_rng *rng, alt_kind k, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double shift = 0.0;
        if (k == ALT_MIXTURE) shift = gsl_rng_uniform(rng) < 0.5 ? -1.5 : 1.5;
        for (size_t j = 0; j < 4; j++) {
            double v;
            if (k == ALT_UNIFORM) v = gsl_rng_uniform(rng);
            else if (k == ALT_LAPLACE) v = gsl_ran_laplace(rng, 1.0);
            else v = shift + gsl_ran_gaussian_ziggurat(rng, 1.0);
            x[i * 4 + j] = v;
        }
    }
}

/* n = 500, p = 4, 20 seeds each, alpha = 0.01: independent uniform and
 * Laplace coordinates are rejected by Mardia kurtosis (in the right
 * direction) and by HZ; the bimodal location mixture 0.5 N(-1.5 1, I) +
 * 0.5 N(1.5 1, I), to which Mardia kurtosis has little power at this n,
 * is rejected by HZ on every seed. */
static void test_power_alternatives(void **state)
{
    (void)state;
    enum { N = 500, SEEDS = 20 };
    static const char *const names[] = {"uniform", "laplace", "mixture"};
    static double x[N * 4];
    for (int k = ALT_UNIFORM; k <= ALT_MIXTURE; k++) {
        double zsum = 0.0;
        for (unsigned s = 1; s <= SEEDS; s++) {
            gsl_rng *rng = make_rng(31 * s + (unsigned)k);
            draw_alt(rng, (alt_kind)k, x, N);
            gsl_rng_free(rng);
            hc_mvnormality_result r;
            assert_int_equal(hc_mvnormality_test(x, N, 4, 4, &r), HC_OK);
            zsum += r.mardia_kurt_z;
            bool ok = r.hz_p < 0.01;
            if (k == ALT_UNIFORM) ok = ok && r.mardia_kurt_p < 0.01 && r.mardia_kurt_z < 0.0;
            if (k == ALT_LAPLACE) ok = ok && r.mardia_kurt_p < 0.01 && r.mardia_kurt_z > 0.0;
            if (!ok) {
                print_error("%s seed %u not rejected: kurt_z %g kurt_p %g hz %g hz_p %g\n",
                            names[k], s, r.mardia_kurt_z, r.mardia_kurt_p, r.hz, r.hz_p);
                fail();
            }
        }
        if (k == ALT_MIXTURE) assert_true(zsum / SEEDS < -1.0); /* platykurtic on average */
    }
}

/* ---- tests: CSV reader -------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void test_csv_header_and_values(void **state)
{
    (void)state;
    const char *path = "test_mvnormality_header.csv";
    write_file(path, "sepal_len, \"sepal_wid\" ,x3\r\n"
                     "5.1,3.5,1.4\r\n"
                     "\r\n"
                     "  -4.9 ,\t3e0, 0x1p-2\r\n"
                     "1e-3,-0,7\r\n");
    double *d = NULL;
    size_t rows = 0, cols = 0;
    char **hdr = NULL;
    assert_int_equal(hc_csv_read_matrix(path, &d, &rows, &cols, &hdr), HC_OK);
    assert_int_equal(rows, 3);
    assert_int_equal(cols, 3);
    assert_non_null(hdr);
    assert_string_equal(hdr[0], "sepal_len");
    assert_string_equal(hdr[1], "sepal_wid");
    assert_string_equal(hdr[2], "x3");
    const double want[9] = {5.1, 3.5, 1.4, -4.9, 3.0, 0.25, 1e-3, 0.0, 7.0};
    for (size_t i = 0; i < 9; i++) assert_true(d[i] == want[i]);
    free(d);
    hc_csv_header_free(hdr, cols);
    hc_csv_header_free(NULL, 5); /* no-op */

    /* header skipped when not wanted */
    assert_int_equal(hc_csv_read_matrix(path, &d, &rows, &cols, NULL), HC_OK);
    assert_int_equal(rows, 3);
    free(d);
    remove(path);
}

/* No header, no final newline; the iris setosa block round-trips through a
 * file and gives the reference statistics. */
static void test_csv_no_header_roundtrip(void **state)
{
    (void)state;
    const char *path = "test_mvnormality_setosa.csv";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < 50; i++)
        fprintf(f, "%.17g,%.17g,%.17g,%.17g%s", iris[i][0], iris[i][1], iris[i][2], iris[i][3],
                i + 1 < 50 ? "\n" : "");
    assert_int_equal(fclose(f), 0);
    double *d = NULL;
    size_t rows = 0, cols = 0;
    char **hdr = (char **)&rows; /* must be overwritten with NULL */
    assert_int_equal(hc_csv_read_matrix(path, &d, &rows, &cols, &hdr), HC_OK);
    assert_null(hdr);
    assert_int_equal(rows, 50);
    assert_int_equal(cols, 4);
    assert_memory_equal(d, &iris[0][0], 200 * sizeof(double));
    hc_mvnormality_result r;
    assert_int_equal(hc_mvnormality_test(d, rows, cols, cols, &r), HC_OK);
    check_mv(&r, &ref_setosa, 1e-10);
    free(d);
    remove(path);
}

static void expect_error(const char *text, hc_status want, const char *const *needles)
{
    const char *path = "test_mvnormality_bad.csv";
    write_file(path, text);
    double *d = (double *)1;
    size_t rows = 7, cols = 7;
    char **hdr = NULL;
    hc_errclear();
    assert_int_equal(hc_csv_read_matrix(path, &d, &rows, &cols, &hdr), want);
    assert_true(d == (double *)1 && rows == 7 && cols == 7 && hdr == NULL); /* untouched */
    for (size_t i = 0; needles[i]; i++) {
        if (!strstr(hc_errmsg(), needles[i])) {
            print_error("message \"%s\" lacks \"%s\"\n", hc_errmsg(), needles[i]);
            fail();
        }
    }
    assert_null(strchr(hc_errmsg(), '\n'));
    remove(path);
}

static void test_csv_errors(void **state)
{
    (void)state;
    double *d;
    size_t rows, cols;
    hc_errclear();
    assert_int_equal(hc_csv_read_matrix("no/such/dir/missing.csv", &d, &rows, &cols, NULL), HC_EIO);
    assert_non_null(strstr(hc_errmsg(), "no/such/dir/missing.csv"));

    expect_error("a,b\n1,2\n3,x7\n", HC_EFORMAT,
                 (const char *const[]){"test_mvnormality_bad.csv", "line 3", "column 2", "x7", NULL});
    expect_error("1,2,3\n4,5,6\n7,8\n", HC_EFORMAT,
                 (const char *const[]){"line 3", "ragged", "2 columns", "expected 3", NULL});
    expect_error("a,b,c\n1,2,3,4\n", HC_EFORMAT,
                 (const char *const[]){"line 2", "header on line 1", NULL});
    expect_error("1,2\n3,\n", HC_EFORMAT, (const char *const[]){"line 2", "column 2", "empty", NULL});
    expect_error("1,2\n\n 4 5,6\n", HC_EFORMAT, (const char *const[]){"line 3", "column 1", NULL});
    expect_error("x,y\n", HC_EFORMAT, (const char *const[]){"no data rows", NULL});
    expect_error("", HC_EFORMAT, (const char *const[]){"no data rows", NULL});
}

/* A UTF-8 byte-order mark before the first line (spreadsheet exports) is
 * skipped: the first row stays data, or the header keeps its first name. */
static void test_csv_bom(void **state)
{
    (void)state;
    const char *path = "test_mvnormality_bom.csv";
    double *d = NULL;
    size_t rows = 0, cols = 0;
    char **hdr = NULL;
    write_file(path, "\xEF\xBB\xBF" "1.5,2\n3,4\n");
    assert_int_equal(hc_csv_read_matrix(path, &d, &rows, &cols, &hdr), HC_OK);
    assert_null(hdr);
    assert_int_equal(rows, 2);
    assert_int_equal(cols, 2);
    assert_true(d[0] == 1.5 && d[1] == 2 && d[2] == 3 && d[3] == 4);
    free(d);
    write_file(path, "\xEF\xBB\xBF" "alpha,beta\r\n1,2\r\n");
    assert_int_equal(hc_csv_read_matrix(path, &d, &rows, &cols, &hdr), HC_OK);
    assert_int_equal(rows, 1);
    assert_non_null(hdr);
    assert_string_equal(hdr[0], "alpha");
    free(d);
    hc_csv_header_free(hdr, cols);
    remove(path);
    /* only at the start of the file: elsewhere it is not a number */
    expect_error("1,2\n\xEF\xBB\xBF" "3,4\n", HC_EFORMAT, (const char *const[]){"line 2", "column 1", NULL});
    expect_error("\xEF\xBB\xBF", HC_EFORMAT, (const char *const[]){"no data rows", NULL});
}

/* covariance.h (OpenBLAS): centring, covariance and projection against
 * naive double loops, with a leading dimension larger than p. */
static void test_covariance_blas(void **state)
{
    (void)state;
    const size_t n = 37, p = 5, ld = 7, q = 3, ldv = 4;
    gsl_rng *r = make_rng(17);
    double x[37 * 7], x0[37 * 7], mean[5], cov[25], v[5 * 4], y[37 * 3];
    for (size_t i = 0; i < n * ld; i++) x[i] = x0[i] = gsl_ran_gaussian(r, 2.0) + (double)(i % ld);
    for (size_t i = 0; i < p * ldv; i++) v[i] = gsl_ran_gaussian(r, 1.0);
    hc_center_columns(x, n, p, ld, mean);
    for (size_t j = 0; j < p; j++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += x0[i * ld + j];
        check_close(mean[j], s / (double)n, 1e-12, 0, "center", "mean");
        for (size_t i = 0; i < n; i++)
            check_close(x[i * ld + j], x0[i * ld + j] - s / (double)n, 1e-12, 0, "center", "value");
    }
    for (size_t i = 0; i < n; i++) /* columns beyond p are untouched */
        for (size_t j = p; j < ld; j++) assert_true(x[i * ld + j] == x0[i * ld + j]);
    hc_covariance_centered(x, n, p, ld, (double)(n - 1), cov);
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < p; b++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++) s += x[i * ld + a] * x[i * ld + b];
            check_close(cov[a * p + b], s / (double)(n - 1), 1e-12, 1e-12, "cov", "entry");
            assert_true(cov[a * p + b] == cov[b * p + a]);
        }
    hc_matmul(x, n, p, ld, v, q, ldv, y);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < q; k++) {
            double s = 0.0;
            for (size_t j = 0; j < p; j++) s += x[i * ld + j] * v[j * ldv + k];
            check_close(y[i * q + k], s, 1e-12, 1e-12, "matmul", "entry");
        }
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_r),
        cmocka_unit_test(test_reference_notes),
        cmocka_unit_test(test_ld_and_affine_invariance),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_size_gaussian),
        cmocka_unit_test(test_power_alternatives),
        cmocka_unit_test(test_csv_header_and_values),
        cmocka_unit_test(test_csv_no_header_roundtrip),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_bom),
        cmocka_unit_test(test_covariance_blas),
    };
    return cmocka_run_group_tests(tests, hc_test_setup, NULL);
}
