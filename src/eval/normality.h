/* normality.h: univariate Gaussianity tests and Benjamini-Hochberg.
 *
 * Every statistic here is computed in double precision from double input
 * read with a stride (element i is x[i*stride]), so a caller can test one
 * channel of a row-major (N, C) array in place.  Definitions follow the
 * references in shared/research/ecosystem.md section 2.3:
 *
 *   g1, g2   population (biased) skewness m3/m2^1.5 and excess kurtosis
 *            m4/m2^2 - 3, where mk = (1/n) sum (x - mean)^k.  These equal
 *            scipy.stats.skew/kurtosis(bias=True); they are NOT GSL's
 *            gsl_stats_skew/kurtosis, which divide by the (n-1) sd.
 *   jb       Jarque-Bera n/6 (g1^2 + g2^2/4), p from chi^2 with 2 df.
 *   skew_z   D'Agostino (1970) skewness z, as scipy.stats.skewtest.
 *   kurt_z   Anscombe-Glynn (1983) kurtosis z, as scipy.stats.kurtosistest.
 *   k2       D'Agostino-Pearson omnibus skew_z^2 + kurt_z^2, chi^2 2 df.
 *   sw_w     Shapiro-Wilk W by Royston's algorithm AS R94 (3 <= n <= 5000)
 *            and its p-value from Royston's normalising transform.
 *   ad_a2    Anderson-Darling A^2 against a normal with the sample mean and
 *            the (n-1) standard deviation; ad_astar = A^2 (1 + 0.75/n +
 *            2.25/n^2); ad_p from the D'Agostino-Stephens (1986) piecewise
 *            formula in ad_astar, as R nortest::ad.test (3.7e-24 above 10).
 *
 * All p-values are upper-tail probabilities in [0, 1]; small means "not
 * normal".  All statistics are dimensionless. */
#ifndef HC_STATS_NORMALITY_H
#define HC_STATS_NORMALITY_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

/* Largest sample Shapiro-Wilk (AS R94) is defined for; larger samples are
 * tested on a seeded subsample of this size (hc_subsample). */
#define HC_SW_MAX_N 5000

/* Smallest sample hc_normality_test accepts: D'Agostino's skewness
 * transform is undefined for n <= 7 (its beta2 reaches 3). */
#define HC_NORMALITY_MIN_N 8

typedef struct hc_normality_result {
    size_t n;        /* sample size used for moments, JB, K^2 and AD */
    size_t sw_n;     /* sample size used for Shapiro-Wilk: min(n, 5000) */
    double g1;       /* population skewness */
    double g2;       /* population excess kurtosis */
    double jb;       /* Jarque-Bera statistic */
    double jb_p;     /* its chi^2_2 p-value */
    double skew_z;   /* D'Agostino skewness z (standard normal under H0) */
    double kurt_z;   /* Anscombe-Glynn kurtosis z (standard normal under H0) */
    double k2;       /* D'Agostino-Pearson K^2 */
    double k2_p;     /* its chi^2_2 p-value */
    double sw_w;     /* Shapiro-Wilk W in (0, 1] */
    double sw_p;     /* its p-value */
    double ad_a2;    /* Anderson-Darling A^2 (raw) */
    double ad_astar; /* A^2 (1 + 0.75/n + 2.25/n^2) */
    double ad_p;     /* its p-value */
} hc_normality_result;

/* Run every univariate test on x[0], x[stride], ..., x[(n-1)*stride].
 *
 * Moments, JB, K^2 and AD use all n values.  Shapiro-Wilk uses all of them
 * when n <= HC_SW_MAX_N and otherwise a subsample of HC_SW_MAX_N values
 * drawn without replacement by hc_subsample(..., seed, ...), so the result
 * is a deterministic function of (x, seed); seed is unused when
 * n <= HC_SW_MAX_N.  Allocates O(n) scratch, freed before returning.
 *
 * Returns HC_OK and fills *out; HC_EINVAL if n < HC_NORMALITY_MIN_N,
 * stride == 0, a value is NaN or infinite, the data are constant, or the
 * fourth moment overflows (|x| above ~1e77) (*out is then untouched);
 * HC_ENOMEM if scratch cannot be allocated. */
hc_status hc_normality_test(const double *x, size_t n, size_t stride,
                            unsigned long seed, hc_normality_result *out);

/* ---- workspace form: many samples, no allocation per test ------------------ */

typedef struct hc_normality_ws hc_normality_ws;

/* Scratch for hc_normality_test_ws on samples of up to n_max values: a
 * sorted copy, the Shapiro-Wilk subsample and weights (the weights of the
 * last sample size are kept, so testing many samples of one size computes
 * them once) and a generator.  HC_EINVAL if n_max < HC_NORMALITY_MIN_N;
 * HC_ENOMEM. */
hc_status hc_normality_ws_alloc(size_t n_max, hc_normality_ws **out);

/* Free; NULL is a no-op. */
void hc_normality_ws_free(hc_normality_ws *ws);

/* hc_normality_test using ws: the same results bit for bit, no allocation.
 * Not thread-safe on one ws.  Additionally HC_EINVAL if n exceeds the
 * workspace's n_max. */
hc_status hc_normality_test_ws(hc_normality_ws *ws, const double *x, size_t n, size_t stride,
                               unsigned long seed, hc_normality_result *out);

/* Population skewness g1 and excess kurtosis g2 (see top of file) from a
 * two-pass double accumulation.  Either output may be NULL.
 * Returns HC_EINVAL if n < 2, stride == 0, a value is not finite, the
 * data are constant, or the fourth moment overflows (|x| above ~1e77). */
hc_status hc_moments_g1g2(const double *x, size_t n, size_t stride,
                          double *g1, double *g2);

/* Jarque-Bera from population g1, excess g2 and n: *jb = n/6 (g1^2 +
 * g2^2/4), *p = P(chi^2_2 > jb).  Returns HC_EINVAL if n == 0 or an input
 * is not finite. */
hc_status hc_jarque_bera(double g1, double g2, size_t n, double *jb, double *p);

/* D'Agostino skewness z, Anscombe-Glynn kurtosis z and K^2 = zs^2 + zk^2
 * with p = P(chi^2_2 > K^2), from population g1, excess g2 and n.  Any
 * output pointer may be NULL.  Unlike scipy.stats.skewtest, g1 == 0 gives
 * skew_z == 0 exactly.  Returns HC_EINVAL if n < HC_NORMALITY_MIN_N or
 * g1 or g2 is not finite. */
hc_status hc_dagostino(double g1, double g2, size_t n, double *skew_z,
                       double *kurt_z, double *k2, double *k2_p);

/* Shapiro-Wilk W and p-value by AS R94, for 3 <= n <= HC_SW_MAX_N.
 * For n == 3 the p-value is exact, (6/pi)(asin sqrt W - asin sqrt 0.75).
 * Allocates O(n) scratch.  Returns HC_EINVAL if n is out of range, stride
 * == 0, a value is not finite or the data are constant; HC_ENOMEM. */
hc_status hc_shapiro_wilk(const double *x, size_t n, size_t stride,
                          double *w, double *p);

/* Anderson-Darling test for normality with mean and variance estimated
 * (see top of file).  Any output may be NULL.  Needs n >= 8 (as nortest).
 * Allocates O(n) scratch.  Returns HC_EINVAL if n < 8, stride == 0, a value
 * is not finite or the data are constant; HC_ENOMEM. */
hc_status hc_anderson_darling(const double *x, size_t n, size_t stride,
                              double *a2, double *astar, double *p);

/* D'Agostino-Stephens p-value for the modified statistic A* (>= 0). */
double hc_anderson_darling_p(double astar);

/* Draw k of the n values x[i*stride] uniformly without replacement into
 * out[0..k-1], keeping their original order (selection sampling, Knuth's
 * Algorithm S, driven by a GSL MT19937 generator seeded with `seed`; the
 * same (n, k, seed) always selects the same indices).  O(n) time, no
 * allocation besides the generator.  Returns HC_EINVAL if k > n or stride
 * == 0; HC_ENOMEM if the generator cannot be allocated. */
hc_status hc_subsample(const double *x, size_t n, size_t stride, size_t k,
                       unsigned long seed, double *out);

/* Benjamini-Hochberg step-up procedure controlling the false discovery rate
 * at level alpha over m p-values: with p_(1) <= ... <= p_(m), find the
 * largest k with p_(k) <= k alpha / m and reject the k hypotheses with the
 * smallest p-values (ties at p_(k) are all rejected).  *n_reject gets k;
 * if reject is not NULL, reject[i] is set to whether hypothesis i is
 * rejected.  m == 0 gives k = 0.  Allocates O(m) scratch.
 * Returns HC_EINVAL if alpha is not in (0, 1] or a p-value is NaN or
 * outside [0, 1]; HC_ENOMEM. */
hc_status hc_benjamini_hochberg(const double *p, size_t m, double alpha,
                                bool *reject, size_t *n_reject);

/* hc_benjamini_hochberg with caller scratch idx[m] (no allocation). */
hc_status hc_benjamini_hochberg_ws(const double *p, size_t m, double alpha, size_t *idx,
                                   bool *reject, size_t *n_reject);

struct cJSON;

/* Add the univariate result to the cJSON object obj with exactly the keys
 * n, g1, g2, jb, jb_p, skew_z, kurt_z, k2, k2_p, sw_w, sw_p, ad_a2,
 * ad_astar, ad_p (numbers; cJSON prints a non-finite value as null).
 * Returns HC_EINVAL if obj is not an object, HC_ENOMEM if cJSON fails. */
hc_status hc_normality_to_json(const hc_normality_result *r, struct cJSON *obj);

#endif
