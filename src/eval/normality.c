/* normality.c: univariate Gaussianity tests (moments, Jarque-Bera,
 * D'Agostino K^2, Shapiro-Wilk AS R94, Anderson-Darling), seeded
 * subsampling and Benjamini-Hochberg.  Formulas: see normality.h and
 * shared/research/ecosystem.md section 2.3. */
#include "normality.h"

#include <math.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_sort_double.h>

/* ---- shared helpers -------------------------------------------------------- */

/* Check that all values are finite and not all equal. */
static hc_status check_data(const double *x, size_t n, size_t stride,
                            const char *who)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = x[i * stride];
        if (!isfinite(v))
            return hc_fail(HC_EINVAL, "%s: value %zu is not finite (%g)", who, i, v);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (lo == hi)
        return hc_fail(HC_EINVAL, "%s: data are constant (all %zu values equal %g)",
                       who, n, lo);
    return HC_OK;
}

/* Evaluate c[0] + c[1] u + ... + c[k-1] u^(k-1). */
static double poly(const double *c, int k, double u)
{
    double r = c[k - 1];
    for (int i = k - 2; i >= 0; i--) r = r * u + c[i];
    return r;
}

static double clamp01(double p)
{
    if (p < 0.0) return 0.0;
    if (p > 1.0) return 1.0;
    return p;
}

/* ---- moments, Jarque-Bera, D'Agostino ------------------------------------- */

/* Assumes finite, non-constant data, n >= 2. */
static void moments(const double *x, size_t n, size_t stride, double *g1, double *g2)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i * stride];
    double mean = s / (double)n;
    double c = 0.0;
    for (size_t i = 0; i < n; i++) c += x[i * stride] - mean;
    mean += c / (double)n; /* one step of compensation */
    double m2 = 0.0, m3 = 0.0, m4 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i * stride] - mean;
        double d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    *g1 = m3 / (m2 * sqrt(m2));
    *g2 = m4 / (m2 * m2) - 3.0;
}

hc_status hc_moments_g1g2(const double *x, size_t n, size_t stride,
                          double *g1, double *g2)
{
    HC_ASSERT(x != NULL || n == 0);
    if (stride == 0) return hc_fail(HC_EINVAL, "moments: stride must be positive");
    if (n < 2) return hc_fail(HC_EINVAL, "moments: need n >= 2, got %zu", n);
    HC_TRY(check_data(x, n, stride, "moments"));
    double a, b;
    moments(x, n, stride, &a, &b);
    if (!isfinite(a) || !isfinite(b))
        return hc_fail(HC_EINVAL, "moments: fourth moment overflows (values up to ~1e77 only; rescale)");
    if (g1) *g1 = a;
    if (g2) *g2 = b;
    return HC_OK;
}

hc_status hc_jarque_bera(double g1, double g2, size_t n, double *jb, double *p)
{
    HC_ASSERT(jb != NULL && p != NULL);
    if (n == 0) return hc_fail(HC_EINVAL, "jarque-bera: n must be positive");
    if (!isfinite(g1) || !isfinite(g2))
        return hc_fail(HC_EINVAL, "jarque-bera: g1=%g, g2=%g must be finite", g1, g2);
    *jb = (double)n / 6.0 * (g1 * g1 + 0.25 * g2 * g2);
    *p = gsl_cdf_chisq_Q(*jb, 2.0);
    return HC_OK;
}

/* D'Agostino (1970) transform of population skewness g1 to N(0,1). */
static double skew_z(double g1, double n)
{
    double y = g1 * sqrt((n + 1.0) * (n + 3.0) / (6.0 * (n - 2.0)));
    double beta2 = 3.0 * (n * n + 27.0 * n - 70.0) * (n + 1.0) * (n + 3.0) /
                   ((n - 2.0) * (n + 5.0) * (n + 7.0) * (n + 9.0));
    double w2 = -1.0 + sqrt(2.0 * (beta2 - 1.0));
    double delta = 1.0 / sqrt(0.5 * log(w2));
    double alpha = sqrt(2.0 / (w2 - 1.0));
    return delta * asinh(y / alpha);
}

/* Anscombe-Glynn (1983) transform of b2 = g2 + 3 to N(0,1). */
static double kurt_z(double g2, double n)
{
    double b2 = g2 + 3.0;
    double e = 3.0 * (n - 1.0) / (n + 1.0);
    double var = 24.0 * n * (n - 2.0) * (n - 3.0) /
                 ((n + 1.0) * (n + 1.0) * (n + 3.0) * (n + 5.0));
    double x = (b2 - e) / sqrt(var);
    double sb1 = 6.0 * (n * n - 5.0 * n + 2.0) / ((n + 7.0) * (n + 9.0)) *
                 sqrt(6.0 * (n + 3.0) * (n + 5.0) / (n * (n - 2.0) * (n - 3.0)));
    double a = 6.0 + 8.0 / sb1 * (2.0 / sb1 + sqrt(1.0 + 4.0 / (sb1 * sb1)));
    double t1 = 1.0 - 2.0 / (9.0 * a);
    double denom = 1.0 + x * sqrt(2.0 / (a - 4.0));
    double t2 = cbrt((1.0 - 2.0 / a) / denom);
    return (t1 - t2) / sqrt(2.0 / (9.0 * a));
}

hc_status hc_dagostino(double g1, double g2, size_t n, double *zs, double *zk,
                       double *k2, double *k2_p)
{
    if (n < HC_NORMALITY_MIN_N)
        return hc_fail(HC_EINVAL, "d'agostino: need n >= %d, got %zu",
                       HC_NORMALITY_MIN_N, n);
    if (!isfinite(g1) || !isfinite(g2))
        return hc_fail(HC_EINVAL, "d'agostino: g1=%g, g2=%g must be finite", g1, g2);
    double a = skew_z(g1, (double)n);
    double b = kurt_z(g2, (double)n);
    double k = a * a + b * b;
    if (zs) *zs = a;
    if (zk) *zk = b;
    if (k2) *k2 = k;
    if (k2_p) *k2_p = gsl_cdf_chisq_Q(k, 2.0);
    return HC_OK;
}

/* ---- Shapiro-Wilk, AS R94 --------------------------------------------------- */

/* The n/2 AS R94 weights of a sample of size n (3 <= n <= 5000) into a:
 * a[j] multiplies x_(n-j) - x_(j+1).  They depend on n only. */
static void sw_weights(size_t n, double *a)
{
    static const double c1[6] = {0.0, 0.221157, -0.147981, -2.071190, 4.434685, -2.706056};
    static const double c2[6] = {0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633};
    const size_t nh = n / 2;
    const double dn = (double)n;
    if (n == 3) {
        a[0] = M_SQRT1_2;
    } else {
        double summ2 = 0.0;
        for (size_t j = 0; j < nh; j++) {
            a[j] = -gsl_cdf_ugaussian_Pinv(((double)(j + 1) - 0.375) / (dn + 0.25));
            summ2 += a[j] * a[j];
        }
        summ2 *= 2.0;
        double ssumm2 = sqrt(summ2);
        double rsn = 1.0 / sqrt(dn);
        double a1 = a[0] / ssumm2 + poly(c1, 6, rsn);
        size_t first;
        double fac;
        if (n > 5) {
            double a2 = a[1] / ssumm2 + poly(c2, 6, rsn);
            fac = sqrt((summ2 - 2.0 * a[0] * a[0] - 2.0 * a[1] * a[1]) /
                       (1.0 - 2.0 * a1 * a1 - 2.0 * a2 * a2));
            a[1] = a2;
            first = 2;
        } else {
            fac = sqrt((summ2 - 2.0 * a[0] * a[0]) / (1.0 - 2.0 * a1 * a1));
            first = 1;
        }
        a[0] = a1;
        for (size_t j = first; j < nh; j++) a[j] /= fac;
    }
}

/* W and p for sorted, finite, non-constant xs[0..n-1], 3 <= n <= 5000,
 * with the weights a of sw_weights(n). */
static void sw_sorted(const double *xs, size_t n, const double *a, double *w_out,
                      double *p_out)
{
    const size_t nh = n / 2;
    const double dn = (double)n;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += xs[i];
    double mean = s / dn;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (xs[i] - mean) * (xs[i] - mean);
    double num = 0.0;
    for (size_t j = 0; j < nh; j++) num += a[j] * (xs[n - 1 - j] - xs[j]);
    double w = num * num / ss;
    if (w > 1.0) w = 1.0;
    *w_out = w;

    double p;
    if (w >= 1.0) {
        p = 1.0;
    } else if (n == 3) {
        p = 6.0 / M_PI * (asin(sqrt(w)) - asin(sqrt(0.75)));
    } else if (n <= 11) {
        double gamma = -2.273 + 0.459 * dn;
        double y = log1p(-w);
        if (y >= gamma) {
            p = 0.0; /* beyond the transform's support: W far too small */
        } else {
            double mu = 0.5440 - 0.39978 * dn + 0.025054 * dn * dn - 0.0006714 * dn * dn * dn;
            double sg = exp(1.3822 - 0.77857 * dn + 0.062767 * dn * dn -
                            0.0020322 * dn * dn * dn);
            p = gsl_cdf_ugaussian_Q((-log(gamma - y) - mu) / sg);
        }
    } else {
        double l = log(dn);
        double mu = -1.5861 - 0.31082 * l - 0.083751 * l * l + 0.0038915 * l * l * l;
        double sg = exp(-0.4803 - 0.082676 * l + 0.0030302 * l * l);
        p = gsl_cdf_ugaussian_Q((log1p(-w) - mu) / sg);
    }
    *p_out = clamp01(p);
}

hc_status hc_shapiro_wilk(const double *x, size_t n, size_t stride, double *w,
                          double *p)
{
    HC_ASSERT(w != NULL && p != NULL);
    HC_ASSERT(x != NULL || n == 0);
    if (stride == 0) return hc_fail(HC_EINVAL, "shapiro-wilk: stride must be positive");
    if (n < 3 || n > HC_SW_MAX_N)
        return hc_fail(HC_EINVAL, "shapiro-wilk: need 3 <= n <= %d, got %zu (subsample larger data)",
                       HC_SW_MAX_N, n);
    HC_TRY(check_data(x, n, stride, "shapiro-wilk"));
    double *buf = malloc((n + n / 2) * sizeof *buf);
    if (!buf) return hc_fail(HC_ENOMEM, "shapiro-wilk: cannot allocate %zu doubles", n + n / 2);
    for (size_t i = 0; i < n; i++) buf[i] = x[i * stride];
    gsl_sort(buf, 1, n);
    sw_weights(n, buf + n);
    sw_sorted(buf, n, buf + n, w, p);
    free(buf);
    return HC_OK;
}

/* ---- Anderson-Darling ------------------------------------------------------- */

double hc_anderson_darling_p(double astar)
{
    double a = astar, p;
    if (a < 0.2)
        p = 1.0 - exp(-13.436 + 101.14 * a - 223.73 * a * a);
    else if (a < 0.34)
        p = 1.0 - exp(-8.318 + 42.796 * a - 59.938 * a * a);
    else if (a < 0.6)
        p = exp(0.9177 - 4.279 * a - 1.38 * a * a);
    else if (a < 10.0)
        p = exp(1.2937 - 5.709 * a + 0.0186 * a * a);
    else
        p = 3.7e-24;
    return clamp01(p);
}

/* A^2 for sorted, finite, non-constant xs[0..n-1].  ln Phi(z) and
 * ln(1 - Phi(z)) go through log erfc so that the tails do not round to
 * log(0). */
static double ad_sorted(const double *xs, size_t n)
{
    const double dn = (double)n;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += xs[i];
    double mean = s / dn;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (xs[i] - mean) * (xs[i] - mean);
    double sd = sqrt(ss / (dn - 1.0));
    /* sum_i (2i-1)[ln Phi(z_i) + ln Q(z_{n+1-i})]
     *   = sum_k (2k-1) ln Phi(z_k) + (2n+1-2k) ln Q(z_k),  k = 1..n */
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        double z = (xs[i] - mean) / sd;
        double k = (double)(i + 1);
        double lp = gsl_sf_log_erfc(-z * M_SQRT1_2) - M_LN2;
        double lq = gsl_sf_log_erfc(z * M_SQRT1_2) - M_LN2;
        acc += (2.0 * k - 1.0) * lp + (2.0 * dn + 1.0 - 2.0 * k) * lq;
    }
    return -dn - acc / dn;
}

static void ad_finish(double a2, size_t n, double *a2_out, double *astar_out,
                      double *p_out)
{
    double dn = (double)n;
    double astar = a2 * (1.0 + 0.75 / dn + 2.25 / (dn * dn));
    if (a2_out) *a2_out = a2;
    if (astar_out) *astar_out = astar;
    if (p_out) *p_out = hc_anderson_darling_p(astar);
}

hc_status hc_anderson_darling(const double *x, size_t n, size_t stride,
                              double *a2, double *astar, double *p)
{
    HC_ASSERT(x != NULL || n == 0);
    if (stride == 0) return hc_fail(HC_EINVAL, "anderson-darling: stride must be positive");
    if (n < 8) return hc_fail(HC_EINVAL, "anderson-darling: need n >= 8, got %zu", n);
    HC_TRY(check_data(x, n, stride, "anderson-darling"));
    double *buf = malloc(n * sizeof *buf);
    if (!buf) return hc_fail(HC_ENOMEM, "anderson-darling: cannot allocate %zu doubles", n);
    for (size_t i = 0; i < n; i++) buf[i] = x[i * stride];
    gsl_sort(buf, 1, n);
    ad_finish(ad_sorted(buf, n), n, a2, astar, p);
    free(buf);
    return HC_OK;
}

/* ---- subsampling ------------------------------------------------------------ */

/* Knuth's Algorithm S with generator r (already seeded). */
static void select_k(gsl_rng *r, const double *x, size_t n, size_t stride, size_t k, double *out)
{
    size_t need = k;
    for (size_t i = 0; i < n && need > 0; i++) {
        /* select item i with probability need / (n - i) */
        if ((double)(n - i) * gsl_rng_uniform(r) < (double)need) {
            out[k - need] = x[i * stride];
            need--;
        }
    }
    HC_ASSERT(need == 0);
}

hc_status hc_subsample(const double *x, size_t n, size_t stride, size_t k,
                       unsigned long seed, double *out)
{
    HC_ASSERT(k == 0 || (x != NULL && out != NULL));
    if (stride == 0) return hc_fail(HC_EINVAL, "subsample: stride must be positive");
    if (k > n) return hc_fail(HC_EINVAL, "subsample: cannot draw %zu of %zu values", k, n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) return hc_fail(HC_ENOMEM, "subsample: cannot allocate a random generator");
    gsl_rng_set(r, seed);
    select_k(r, x, n, stride, k, out);
    gsl_rng_free(r);
    return HC_OK;
}

/* ---- all tests at once ------------------------------------------------------ */

struct hc_normality_ws {
    size_t n_max;
    double *sorted;  /* n_max: sorted copy of the sample */
    double *sub;     /* min(n_max, HC_SW_MAX_N): Shapiro-Wilk subsample (n > 5000) */
    double *a;       /* HC_SW_MAX_N / 2: Shapiro-Wilk weights for a_n */
    size_t a_n;      /* sample size the weights are for (0: none yet) */
    gsl_rng *rng;
};

hc_status hc_normality_ws_alloc(size_t n_max, hc_normality_ws **out)
{
    HC_ASSERT(out != NULL);
    *out = NULL;
    if (n_max < HC_NORMALITY_MIN_N)
        return hc_fail(HC_EINVAL, "normality workspace: n_max=%zu is below %d", n_max,
                       HC_NORMALITY_MIN_N);
    size_t sw = n_max < HC_SW_MAX_N ? n_max : HC_SW_MAX_N;
    hc_normality_ws *ws = calloc(1, sizeof *ws);
    if (ws) {
        ws->n_max = n_max;
        ws->sorted = malloc(n_max * sizeof *ws->sorted);
        ws->sub = n_max > HC_SW_MAX_N ? malloc(HC_SW_MAX_N * sizeof *ws->sub) : NULL;
        ws->a = malloc((sw / 2 + 1) * sizeof *ws->a);
        ws->rng = gsl_rng_alloc(gsl_rng_mt19937);
    }
    if (!ws || !ws->sorted || (n_max > HC_SW_MAX_N && !ws->sub) || !ws->a || !ws->rng) {
        hc_normality_ws_free(ws);
        return hc_fail(HC_ENOMEM, "normality workspace: cannot allocate for n=%zu", n_max);
    }
    *out = ws;
    return HC_OK;
}

void hc_normality_ws_free(hc_normality_ws *ws)
{
    if (!ws) return;
    free(ws->sorted);
    free(ws->sub);
    free(ws->a);
    if (ws->rng) gsl_rng_free(ws->rng);
    free(ws);
}

hc_status hc_normality_test_ws(hc_normality_ws *ws, const double *x, size_t n, size_t stride,
                               unsigned long seed, hc_normality_result *out)
{
    HC_ASSERT(ws != NULL && out != NULL);
    HC_ASSERT(x != NULL || n == 0);
    if (stride == 0) return hc_fail(HC_EINVAL, "normality: stride must be positive");
    if (n < HC_NORMALITY_MIN_N)
        return hc_fail(HC_EINVAL, "normality: need n >= %d values, got %zu",
                       HC_NORMALITY_MIN_N, n);
    if (n > ws->n_max)
        return hc_fail(HC_EINVAL, "normality: n=%zu exceeds the workspace size %zu", n, ws->n_max);
    HC_TRY(check_data(x, n, stride, "normality"));

    hc_normality_result r = {0};
    r.n = n;
    moments(x, n, stride, &r.g1, &r.g2);
    if (!isfinite(r.g1) || !isfinite(r.g2))
        return hc_fail(HC_EINVAL, "normality: fourth moment overflows (values up to ~1e77 only; rescale)");
    HC_TRY(hc_jarque_bera(r.g1, r.g2, n, &r.jb, &r.jb_p));
    HC_TRY(hc_dagostino(r.g1, r.g2, n, &r.skew_z, &r.kurt_z, &r.k2, &r.k2_p));

    double *buf = ws->sorted;
    for (size_t i = 0; i < n; i++) buf[i] = x[i * stride];
    gsl_sort(buf, 1, n);
    ad_finish(ad_sorted(buf, n), n, &r.ad_a2, &r.ad_astar, &r.ad_p);

    size_t sw_n = n <= HC_SW_MAX_N ? n : HC_SW_MAX_N;
    const double *sw_x = buf;
    if (n > HC_SW_MAX_N) {
        gsl_rng_set(ws->rng, seed);
        select_k(ws->rng, x, n, stride, sw_n, ws->sub);
        gsl_sort(ws->sub, 1, sw_n);
        if (ws->sub[0] == ws->sub[sw_n - 1])
            return hc_fail(HC_EINVAL, "normality: the Shapiro-Wilk subsample of %zu "
                           "values (seed %lu) is constant", sw_n, seed);
        sw_x = ws->sub;
    }
    if (ws->a_n != sw_n) {
        sw_weights(sw_n, ws->a);
        ws->a_n = sw_n;
    }
    r.sw_n = sw_n;
    sw_sorted(sw_x, sw_n, ws->a, &r.sw_w, &r.sw_p);
    *out = r;
    return HC_OK;
}

hc_status hc_normality_test(const double *x, size_t n, size_t stride,
                            unsigned long seed, hc_normality_result *out)
{
    HC_ASSERT(out != NULL);
    HC_ASSERT(x != NULL || n == 0);
    if (stride == 0) return hc_fail(HC_EINVAL, "normality: stride must be positive");
    if (n < HC_NORMALITY_MIN_N)
        return hc_fail(HC_EINVAL, "normality: need n >= %d values, got %zu",
                       HC_NORMALITY_MIN_N, n);
    hc_normality_ws *ws;
    HC_TRY(hc_normality_ws_alloc(n, &ws));
    hc_status st = hc_normality_test_ws(ws, x, n, stride, seed, out);
    hc_normality_ws_free(ws);
    return st;
}

/* ---- Benjamini-Hochberg ----------------------------------------------------- */

hc_status hc_benjamini_hochberg_ws(const double *p, size_t m, double alpha, size_t *idx,
                                   bool *reject, size_t *n_reject)
{
    HC_ASSERT(n_reject != NULL);
    HC_ASSERT((p != NULL && idx != NULL) || m == 0);
    if (!(alpha > 0.0 && alpha <= 1.0))
        return hc_fail(HC_EINVAL, "benjamini-hochberg: alpha=%g must be in (0, 1]", alpha);
    for (size_t i = 0; i < m; i++)
        if (!(p[i] >= 0.0 && p[i] <= 1.0))
            return hc_fail(HC_EINVAL, "benjamini-hochberg: p-value %zu is %g, not in [0, 1]",
                           i, p[i]);
    *n_reject = 0;
    if (m == 0) return HC_OK;
    gsl_sort_index(idx, p, 1, m);
    size_t k = 0;
    for (size_t r = m; r >= 1; r--) {
        if (p[idx[r - 1]] <= (double)r * alpha / (double)m) {
            k = r;
            break;
        }
    }
    if (reject) {
        for (size_t i = 0; i < m; i++) reject[i] = false;
        for (size_t r = 0; r < k; r++) reject[idx[r]] = true;
    }
    *n_reject = k;
    return HC_OK;
}

hc_status hc_benjamini_hochberg(const double *p, size_t m, double alpha,
                                bool *reject, size_t *n_reject)
{
    HC_ASSERT(n_reject != NULL);
    HC_ASSERT(p != NULL || m == 0);
    size_t *idx = m ? malloc(m * sizeof *idx) : NULL;
    if (m && !idx) return hc_fail(HC_ENOMEM, "benjamini-hochberg: cannot allocate %zu indices", m);
    hc_status st = hc_benjamini_hochberg_ws(p, m, alpha, idx, reject, n_reject);
    free(idx);
    return st;
}

/* ---- JSON ------------------------------------------------------------------- */

hc_status hc_normality_to_json(const hc_normality_result *r, cJSON *obj)
{
    HC_ASSERT(r != NULL);
    if (!cJSON_IsObject(obj))
        return hc_fail(HC_EINVAL, "normality json: target is not a JSON object");
    const struct {
        const char *key;
        double val;
    } f[] = {
        {"n", (double)r->n},     {"g1", r->g1},         {"g2", r->g2},
        {"jb", r->jb},           {"jb_p", r->jb_p},     {"skew_z", r->skew_z},
        {"kurt_z", r->kurt_z},   {"k2", r->k2},         {"k2_p", r->k2_p},
        {"sw_w", r->sw_w},       {"sw_p", r->sw_p},     {"ad_a2", r->ad_a2},
        {"ad_astar", r->ad_astar}, {"ad_p", r->ad_p},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!cJSON_AddNumberToObject(obj, f[i].key, f[i].val))
            return hc_fail(HC_ENOMEM, "normality json: cannot add key %s", f[i].key);
    return HC_OK;
}
