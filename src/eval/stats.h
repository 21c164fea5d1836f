/* stats.h: uncertainty of reported numbers and tests between methods.
 *
 *   bootstrap   seeded paired bootstrap, PERCENTILE intervals (not BCa): B
 *               resamples of n units drawn with replacement from a GSL
 *               mt19937 stream (hc_boot_indices); the statistic of a resample
 *               is a ratio of sums sum(s)/sum(w) (w = 1: the mean), and for a
 *               difference to a baseline the two ratios on the SAME resampled
 *               units; the interval is the (1-level)/2 and (1+level)/2
 *               quantiles of the B statistics, linear interpolation between
 *               order statistics (numpy's default, Hyndman-Fan type 7).
 *   Wilcoxon    signed-rank test of paired differences d, scipy.stats.wilcoxon
 *               defaults: zero_method "wilcox" (zero differences dropped),
 *               two-sided, statistic T = min(R+, R-).  Mode: EXACT null
 *               distribution when n <= 50 and d has no zeros and no tied |d|;
 *               else the NORMAL approximation with the tie correction of the
 *               variance, and a continuity correction only when asked
 *               (scipy's default: none).  (scipy 1.10 also takes the exact
 *               path with tied |d| and truncates R+; here ties always use the
 *               normal approximation.)
 *   paired t    t = mean(d) / (sd(d) / sqrt(n)), two-sided p from GSL's
 *               Student t with n - 1 degrees of freedom (scipy.stats.ttest_rel).
 *   Holm        step-down adjustment of m p-values (NaN entries are not
 *               counted and stay NaN).
 *   KID         unbiased MMD^2 of features x [n, d] against y [m, d] with the
 *               polynomial kernel k(a, b) = (a.b / d + 1)^3 (Binkowski et al.
 *               2018); standard error from the first-order (Hoeffding)
 *               variance of the two-sample U-statistic:
 *                 se^2 = 4 var_i(hx_i) / n + 4 var_j(hy_j) / m,
 *                 hx_i = mean_{i'!=i} k(x_i,x_i') - mean_j k(x_i,y_j),
 *                 hy_j = mean_{j'!=j} k(y_j,y_j') - mean_i k(x_i,y_j)
 *               (var with divisor n - 1); a closed form, no subsets drawn.
 *   FD interval percentile bootstrap of the Frechet distance over the
 *               generated images (the real-image statistics held fixed).
 * Reference values: scipy/numpy, tests/test_stats.c (tools/make_stats_refs.py). */
#ifndef HC_STATS_H
#define HC_STATS_H

#include <stddef.h>

#include "status.h"

/* Bootstrap defaults of the harness. */
#define HC_BOOT_B 2000
#define HC_BOOT_SEED 20240617UL
#define HC_BOOT_LEVEL 0.95

/* B x n resample indices, row-major [B][n], each in [0, n): the 32-bit
 * outputs u of mt19937 seeded with `seed` (gsl_rng_set; numpy's legacy
 * RandomState seeding gives the same stream) mapped to (u * n) >> 32. */
void hc_boot_indices(int n, int B, unsigned long seed, int *idx);

/* Quantile p in [0, 1] of sorted x [n] (type 7). */
double hc_quantile_sorted(const double *x, int n, double p);

/* Percentile interval of sum(a)/sum(aw) - [sum(b)/sum(bw)] over the
 * resamples idx [B][n] of n paired units.  aw, bw NULL: weights 1; b NULL:
 * no baseline.  work: B doubles.  *lo, *hi: NaN when a resample has zero
 * weight or a non-finite value. */
void hc_boot_ratio_ci(const double *a, const double *aw, const double *b, const double *bw, int n, const int *idx,
                      int B, double level, double *work, double *lo, double *hi);

typedef enum hc_wilcoxon_mode { HC_WILCOXON_EXACT = 0, HC_WILCOXON_APPROX = 1 } hc_wilcoxon_mode;

typedef struct hc_wilcoxon_result {
    double statistic;       /* T = min(R+, R-) */
    double p;               /* two-sided; NaN when every difference is zero or n = 0 */
    double z;               /* approx mode: (T - mean) / se; exact: NaN */
    int n_used;             /* differences after dropping zeros */
    hc_wilcoxon_mode mode;
} hc_wilcoxon_result;

/* Signed-rank test of d [n] (see the top); correction: continuity correction
 * in the normal approximation.  HC_ENOMEM only. */
hc_status hc_wilcoxon(const double *d, int n, int correction, hc_wilcoxon_result *out);

/* Paired t of d [n]: *t and two-sided *p (NaN for n < 2 or when d is
 * constant zero; t = +-inf and p = 0 when d is a nonzero constant). */
void hc_ttest_paired(const double *d, int n, double *t, double *p);

/* Holm-adjusted p [m] into adj [m] (may alias p). */
void hc_holm(const double *p, int m, double *adj);

/* KID of x [n, d] against y [m, d] (float32 row-major; n, m >= 2). */
hc_status hc_kid(const float *x, int n, const float *y, int m, int d, double *kid, double *se);

/* Percentile interval of the Frechet distance between the generated
 * features f [n, d] resampled by idx [B][n] and the fixed Gaussian
 * (mu_r [d], cov_r [d, d]).  *point: FD of f itself by the same route
 * (for checking against hc_frechet). */
hc_status hc_fd_boot(const float *f, int n, int d, const double *mu_r, const double *cov_r, const int *idx, int B,
                     double level, double *point, double *lo, double *hi);

#endif
