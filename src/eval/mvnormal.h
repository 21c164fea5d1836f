/* mvnormal.h: multivariate normality tests on an n x p sample (Mardia's
 * skewness and kurtosis, Henze-Zirkler).
 *
 * Convention: the sample covariance is the biased one, S = (1/n) sum
 * (x_i - xbar)(x_i - xbar)^T (divisor n, Mardia's 1970 definition and
 * R MVN's `cov = TRUE`).  With the unbiased S_u (divisor n-1), as in R
 * dprep::mardia, every Mahalanobis product scales by n/(n-1), so
 *   b1_u = b1 ((n-1)/n)^3   and   b2_u = b2 ((n-1)/n)^2.
 *
 * With G_ij = (x_i - xbar)^T S^-1 (x_j - xbar) (the n x n Gram matrix of
 * whitened rows) and D_ij = G_ii + G_jj - 2 G_ij:
 *   b1 = (1/n^2) sum_ij G_ij^3,   b2 = (1/n) sum_i G_ii^2;
 *   mardia_skew       = n b1 / 6, chi^2 with p(p+1)(p+2)/6 df under H0;
 *   mardia_skew_small = k n b1 / 6, k = (p+1)(n+1)(n+3) / (n((n+1)(p+1)-6))
 *                       (Mardia 1974 small-sample correction), same df;
 *   mardia_kurt_z     = (b2 - p(p+2)) / sqrt(8 p (p+2) / n), two-sided p;
 *   hz = n [ (1/n^2) sum_ij exp(-beta^2 D_ij / 2)
 *            - 2 (1+beta^2)^(-p/2) (1/n) sum_i exp(-beta^2 G_ii / (2(1+beta^2)))
 *            + (1+2 beta^2)^(-p/2) ],
 *   beta = (1/sqrt 2) (n (2p+1) / 4)^(1/(p+4)) (Henze & Zirkler 1990), and
 *   hz_p is the upper tail of the lognormal with the mean and variance of
 *   HZ under normality given by Henze & Zirkler.
 * All statistics are dimensionless; p-values are in [0, 1]. */
#ifndef HC_STATS_MVNORMAL_H
#define HC_STATS_MVNORMAL_H

#include <stddef.h>

#include "status.h"

/* Covariances with reciprocal condition number below this are treated as
 * singular (HC_ENUM). */
#define HC_MV_MIN_RCOND 1e-12

typedef struct hc_mvnormality_result {
    size_t n;                   /* observations */
    size_t p;                   /* variables */
    double mardia_b1;           /* Mardia's multivariate skewness b_{1,p} */
    double mardia_b2;           /* Mardia's multivariate kurtosis b_{2,p} */
    double mardia_skew;         /* n b1 / 6 */
    double mardia_skew_df;      /* p(p+1)(p+2)/6 */
    double mardia_skew_p;       /* P(chi^2_df > mardia_skew) */
    double mardia_skew_small;   /* small-sample corrected statistic */
    double mardia_skew_small_p; /* P(chi^2_df > mardia_skew_small) */
    double mardia_kurt_z;       /* standardised b2 */
    double mardia_kurt_p;       /* two-sided normal p-value of the z */
    double hz_beta;             /* Henze-Zirkler smoothing parameter */
    double hz;                  /* Henze-Zirkler statistic */
    double hz_p;                /* its lognormal p-value */
} hc_mvnormality_result;

/* Mardia and Henze-Zirkler tests on the n x p row-major matrix whose
 * element (i, j) is x[i*ld + j] (ld >= p; ld == p for a packed matrix).
 *
 * Cost O(n^2 p) time (the Gram matrix, formed in row blocks with BLAS
 * dgemm, plus one exp per pair for HZ) and O(n p + 256 n) memory; callers
 * subsample to n <~ 2000 for interactive use.
 *
 * Returns HC_OK and fills *out; HC_EINVAL if p == 0, ld < p, n <= p,
 * n < 3 or a value is not finite; HC_ENUM if the covariance is not
 * positive definite or its reciprocal condition number is below
 * HC_MV_MIN_RCOND (e.g. a constant or collinear column); HC_ENOMEM. */
hc_status hc_mvnormality_test(const double *x, size_t n, size_t p, size_t ld,
                              hc_mvnormality_result *out);

/* Henze-Zirkler p-value: upper tail at hz of the lognormal whose mean and
 * variance are HZ's under normality for dimension p and smoothing beta. */
double hc_henze_zirkler_p(double hz, size_t p, double beta);

struct cJSON;

/* Add the multivariate result to the cJSON object obj with exactly the keys
 * n, p, mardia_skew, mardia_skew_p, mardia_skew_small, mardia_skew_small_p,
 * mardia_kurt_z, mardia_kurt_p, hz, hz_p (numbers; cJSON prints a
 * non-finite value as null).  Returns HC_EINVAL if obj is not an object,
 * HC_ENOMEM if cJSON fails. */
hc_status hc_mvnormality_to_json(const hc_mvnormality_result *r, struct cJSON *obj);

#endif
