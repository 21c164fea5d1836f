/* test_metrics.c: the forecast metrics (metrics.h) and the image / feature
 * quality metrics (quality.h) against independent references, plus laws.
 *
 * References: tests/data/metric_refs.json, written by
 *     /usr/bin/python3 tools/make_metric_refs.py
 * (numpy 1.24.2, scipy 1.10.1, scikit-image 0.19.3, mpmath 1.2.1; the file
 * records its versions).  Inputs are float32 values from fixed seeds; the
 * references are float64 computations on exactly those values:
 *   metrics      numpy sums / norms, with metrics.h's 0/0 and x/0 conventions;
 *   PSNR         skimage peak_signal_noise_ratio, data_range 2, clamped images;
 *   SSIM         skimage structural_similarity, Gaussian sigma 1.5 (11 taps),
 *                population covariance, data_range 2; skimage crops 5 pixels
 *                per side after filtering, which keeps exactly the 'valid'
 *                windows (the generator cross-checks a direct 'valid' sum);
 *   stats        numpy mean and cov(ddof=1);
 *   Frechet      "fd": scipy.linalg.sqrtm(S1 S2) formula; "fd_mp": 50-digit
 *                mpmath eigenvalues of S1^(1/2) S2 S1^(1/2) (the exact value of
 *                the double inputs); some cases also carry a closed form.
 *
 * Tolerances (both sides accumulate in double from the same float32 inputs,
 * so only summation order and library algorithms differ):
 *   rel_l1, rel_l2, PSNR   rtol 1e-12: sums of <= 1000 non-negative terms in a
 *                          different order (numpy is pairwise) differ by at most
 *                          ~n eps = 1e-13 relative; sqrt and log10 do not
 *                          amplify relative errors (PSNR: 4.34 dMSE/MSE dB).
 *   cosine                 atol 1e-12: the dot product's rounding error is
 *                          <= n eps sum|p y| <= 1.1e-13 |p||y| for n = 1000.
 *   max_abs                exact: a float32 difference is exact in double and
 *                          the maximum does not depend on order.
 *   SSIM                   atol 1e-12: 121-term weighted sums of values in
 *                          [-1, 1] (skimage: separable filter, other order) carry
 *                          ~1e-15 absolute error, divided by a denominator
 *                          >= C2 = 3.6e-3 per window.
 *   mean, cov              1e-12 (|mean| + 1e-3) and 1e-11 sqrt(c_kk c_ll) + 1e-15:
 *                          two-pass sums of <= 40 rows; the mean-100 case loses
 *                          ~1e-14 absolute in the centred values.
 *   FD                     1e-9 (1 + tr S1 + tr S2) when both covariances are
 *                          well conditioned (eigen solvers agree to ~1e-13 of the
 *                          trace); the rank-5 12-d case 1e-6: each of its 7 null
 *                          eigenvalues of S1^(1/2) S2 S1^(1/2) comes out of a double
 *                          eigensolver as +-eps ||M|| ~ 1e-15 and contributes its
 *                          square root ~3e-8 to the trace (scipy's sqrtm is itself
 *                          3.1e-7 off the mpmath value there).
 * Laws are checked with ulp-level tolerances (stated at each). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "metrics.h"
#include "quality.h"
#include "status.h"

#define REFS HC_TEST_DATA "/metric_refs.json"

/* ---- reference file ----------------------------------------------------------- */

static cJSON *refs;

static int load_refs(void **state)
{
    hc_test_setup(state);
    FILE *f = fopen(REFS, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", REFS);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(s);
        return -1;
    }
    fclose(f);
    s[n] = '\0';
    refs = cJSON_Parse(s);
    free(s);
    if (!refs) fprintf(stderr, "%s: not valid JSON\n", REFS);
    return refs ? 0 : -1;
}

static int free_refs(void **state)
{
    (void)state;
    cJSON_Delete(refs);
    return 0;
}

/* The array of cases under key; fails if absent or empty. */
static const cJSON *cases(const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(refs, key);
    assert_true(cJSON_IsArray(a));
    assert_true(cJSON_GetArraySize(a) > 0);
    return a;
}

static const char *case_name(const cJSON *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "name");
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static int get_int(const cJSON *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    assert_true(cJSON_IsNumber(v));
    return v->valueint;
}

/* A number, or the strings "inf" / "-inf" / "nan" the generator writes for them. */
static double num_value(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return v->valuedouble;
    assert_true(cJSON_IsString(v));
    if (strcmp(v->valuestring, "inf") == 0) return INFINITY;
    if (strcmp(v->valuestring, "-inf") == 0) return -INFINITY;
    assert_string_equal(v->valuestring, "nan");
    return NAN;
}

static double get_num(const cJSON *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    assert_non_null(v);
    return num_value(v);
}

/* c[key] as n floats (strtod then a cast: the generator wrote decimals that
 * round back to the float32 it used) or n doubles; caller frees. */
static float *get_f32(const cJSON *c, const char *key, size_t n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, key);
    assert_true(cJSON_IsArray(a));
    assert_int_equal((size_t)cJSON_GetArraySize(a), n);
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    size_t i = 0;
    for (const cJSON *v = a->child; v; v = v->next) x[i++] = (float)num_value(v);
    return x;
}

static double *get_f64(const cJSON *c, const char *key, size_t n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, key);
    assert_true(cJSON_IsArray(a));
    assert_int_equal((size_t)cJSON_GetArraySize(a), n);
    double *x = malloc(n * sizeof *x);
    assert_non_null(x);
    size_t i = 0;
    for (const cJSON *v = a->child; v; v = v->next) x[i++] = num_value(v);
    return x;
}

/* ---- comparison with a record of the worst case ------------------------------ */

/* Largest |got - want| and |got - want| / tol seen per quantity, printed at
 * the end of each test (ctest -V shows them). */
typedef struct worst {
    const char *what;
    double diff, ratio;
} worst;

/* got vs want within atol + rtol |want|; infinities must match exactly. */
static void check_ref(worst *w, double got, double want, double atol, double rtol, const char *set)
{
    if (isinf(want) || isnan(want)) {
        if (!(got == want || (isnan(got) && isnan(want)))) {
            print_error("%s %s: got %.17g, want %.17g\n", set, w->what, got, want);
            fail();
        }
        return;
    }
    check_close(got, want, atol, rtol, set, w->what);
    double d = fabs(got - want), tol = atol + rtol * fabs(want);
    if (d > w->diff) w->diff = d;
    if (tol > 0 && d / tol > w->ratio) w->ratio = d / tol;
}

static void report(const worst *w, int n)
{
    for (int i = 0; i < n; i++)
        print_message("  %-14s max |diff| %.3g  (%.3g of its tolerance)\n", w[i].what, w[i].diff, w[i].ratio);
}

/* ---- forecast metrics --------------------------------------------------------- */

static void test_metrics_refs(void **state)
{
    (void)state;
    worst w[HC_N_METRICS] = {{"rel_l1", 0, 0}, {"rel_l2", 0, 0}, {"cosine", 0, 0}, {"max_abs", 0, 0}};
    const double atol[HC_N_METRICS] = {0, 0, 1e-12, 0}, rtol[HC_N_METRICS] = {1e-12, 1e-12, 0, 0};
    int ncase = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("metrics"))
    {
        size_t n = (size_t)get_int(c, "n");
        float *p = get_f32(c, "p", n), *y = get_f32(c, "y", n);
        double out[HC_N_METRICS];
        hc_metrics_compute(p, y, n, out);
        const cJSON *closed = cJSON_GetObjectItemCaseSensitive(c, "closed");
        for (int m = 0; m < HC_N_METRICS; m++) {
            check_ref(&w[m], out[m], get_num(c, hc_metric_names[m]), atol[m], rtol[m], case_name(c));
            if (closed) /* closed forms: the same tolerances, against the exact value */
                check_ref(&w[m], out[m], get_num(closed, hc_metric_names[m]), atol[m] + 1e-15, rtol[m] + 1e-15,
                          case_name(c));
        }
        free(p);
        free(y);
        ncase++;
    }
    assert_true(ncase >= 9);
    report(w, HC_N_METRICS);
}

/* Laws on a seeded vector (n = 500, y ~ N(0,1) in float32):
 *   p = y: 0, 0, 1, 0 (exact: every difference is 0, <p,y> = ||y||^2);
 *   p = 2y, p = -y, p = 0: rel_l1 = rel_l2 = 1, 2, 1 and cosine = 1, -1, 0
 *     (doubling and negation are exact in float; tolerance a few ulps);
 *   scaling p and y by 2^k changes no value (exact powers of two);
 *   reversing the order of both changes the sums only by rounding (1e-13). */
static void test_metrics_laws(void **state)
{
    (void)state;
    enum { N = 500 };
    float y[N], p[N], q[N], ry[N], rp[N];
    gsl_rng *r = make_rng(11);
    for (int i = 0; i < N; i++) {
        y[i] = (float)(gsl_rng_uniform(r) * 4 - 2);
        p[i] = y[i] + (float)(gsl_rng_uniform(r) - 0.5);
    }
    gsl_rng_free(r);
    double out[HC_N_METRICS], ref[HC_N_METRICS];

    hc_metrics_compute(y, y, N, out);
    assert_true(out[HC_REL_L1] == 0 && out[HC_REL_L2] == 0 && out[HC_MAX_ABS] == 0);
    check_close(out[HC_COSINE], 1, 1e-15, 0, "p = y", "cosine");

    const struct {
        float scale;
        double rel, cos;
    } lin[] = {{2.0f, 1, 1}, {-1.0f, 2, -1}, {0.0f, 1, 0}};
    for (size_t k = 0; k < sizeof lin / sizeof lin[0]; k++) {
        for (int i = 0; i < N; i++) q[i] = lin[k].scale * y[i];
        hc_metrics_compute(q, y, N, out);
        check_close(out[HC_REL_L1], lin[k].rel, 0, 1e-15, "p = c y", "rel_l1");
        check_close(out[HC_REL_L2], lin[k].rel, 0, 1e-15, "p = c y", "rel_l2");
        check_close(out[HC_COSINE], lin[k].cos, 1e-15, 0, "p = c y", "cosine");
    }

    hc_metrics_compute(p, y, N, ref);
    for (int i = 0; i < N; i++) q[i] = 0.125f * p[i], ry[i] = 0.125f * y[i];
    hc_metrics_compute(q, ry, N, out);
    for (int m = 0; m < HC_N_METRICS; m++)
        check_close(out[m], m == HC_MAX_ABS ? 0.125 * ref[m] : ref[m], 0, 0, "scale 2^-3", hc_metric_names[m]);

    for (int i = 0; i < N; i++) rp[i] = p[N - 1 - i], ry[i] = y[N - 1 - i];
    hc_metrics_compute(rp, ry, N, out);
    for (int m = 0; m < HC_N_METRICS; m++) check_close(out[m], ref[m], 0, 1e-13, "reversed", hc_metric_names[m]);
    assert_true(ref[HC_REL_L1] > 0 && ref[HC_REL_L2] > 0 && fabs(ref[HC_COSINE]) <= 1);
}

/* ---- images ------------------------------------------------------------------- */

static void test_images_refs(void **state)
{
    (void)state;
    worst w[2] = {{"psnr", 0, 0}, {"ssim", 0, 0}};
    int ncase = 0, nonsquare = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("images"))
    {
        int H = get_int(c, "H"), W = get_int(c, "W");
        size_t n = (size_t)H * W;
        float *a = get_f32(c, "a", n), *b = get_f32(c, "b", n);
        double psnr = hc_psnr(a, b, n), ssim = hc_ssim(a, b, H, W);
        check_ref(&w[0], psnr, get_num(c, "psnr"), 0, 1e-12, case_name(c));
        check_ref(&w[1], ssim, get_num(c, "ssim"), 1e-12, 0, case_name(c));
        const cJSON *closed = cJSON_GetObjectItemCaseSensitive(c, "closed");
        if (closed) {
            check_ref(&w[0], psnr, get_num(closed, "psnr"), 0, 1e-12, case_name(c));
            check_ref(&w[1], ssim, get_num(closed, "ssim"), 1e-12, 0, case_name(c));
        }
        nonsquare += H != W;
        free(a);
        free(b);
        ncase++;
    }
    assert_true(ncase >= 7 && nonsquare >= 1);
    report(w, 2);
}

/* Laws on the reference file's images (names as in the generator):
 *   PSNR and SSIM are symmetric (the same products, commuted: a few ulps);
 *   identical images: PSNR +inf, SSIM 1 (to 1e-15);
 *   clamping: PSNR and SSIM of the raw clamp_16x16 images equal those of the
 *     images clamped here (exact: the functions clamp first);
 *   SSIM is invariant under transposing both images (the window is symmetric):
 *     nonsquare_20x33 as 33 x 20, to 1e-13 (summation order);
 *   fewer than 11 rows or columns: no window, NaN. */
static void test_images_laws(void **state)
{
    (void)state;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("images"))
    {
        int H = get_int(c, "H"), W = get_int(c, "W");
        size_t n = (size_t)H * W;
        const char *name = case_name(c);
        float *a = get_f32(c, "a", n), *b = get_f32(c, "b", n);
        double p = hc_psnr(a, b, n), s = hc_ssim(a, b, H, W);
        if (isfinite(p)) check_close(hc_psnr(b, a, n), p, 0, 1e-15, name, "psnr symmetric");
        check_close(hc_ssim(b, a, H, W), s, 1e-15, 0, name, "ssim symmetric");
        assert_true(isinf(hc_psnr(a, a, n)) && hc_psnr(a, a, n) > 0);
        check_close(hc_ssim(a, a, H, W), 1.0, 1e-15, 0, name, "ssim(a, a)");
        float *ca = malloc(n * sizeof *ca), *cb = malloc(n * sizeof *cb);
        assert_true(ca && cb);
        for (size_t i = 0; i < n; i++) {
            ca[i] = a[i] < -1 ? -1.0f : a[i] > 1 ? 1.0f : a[i];
            cb[i] = b[i] < -1 ? -1.0f : b[i] > 1 ? 1.0f : b[i];
        }
        assert_true(hc_psnr(ca, cb, n) == p);
        assert_true(hc_ssim(ca, cb, H, W) == s);
        if (strcmp(name, "clamp_16x16") == 0) { /* the raw values do leave [-1, 1] */
            int out = 0;
            for (size_t i = 0; i < n; i++) out += fabsf(a[i]) > 1 || fabsf(b[i]) > 1;
            assert_true(out > 10);
        }
        if (H != W) {
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    ca[(size_t)j * H + i] = a[(size_t)i * W + j];
                    cb[(size_t)j * H + i] = b[(size_t)i * W + j];
                }
            check_close(hc_ssim(ca, cb, W, H), s, 1e-13, 0, name, "ssim transposed");
        }
        assert_true(isnan(hc_ssim(a, b, H, 10 < W ? 10 : W)));
        free(ca);
        free(cb);
        free(a);
        free(b);
    }
}

/* ---- feature statistics ------------------------------------------------------- */

static void test_feature_stats_refs(void **state)
{
    (void)state;
    worst w[2] = {{"mean", 0, 0}, {"cov", 0, 0}};
    int ncase = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("feature_stats"))
    {
        int n = get_int(c, "n"), d = get_int(c, "d");
        const char *name = case_name(c);
        float *x = get_f32(c, "x", (size_t)n * d);
        double *mref = get_f64(c, "mean", (size_t)d), *cref = get_f64(c, "cov", (size_t)d * d);
        double *mean = malloc((size_t)d * sizeof *mean), *cov = malloc((size_t)d * d * sizeof *cov);
        assert_true(mean && cov);
        assert_int_equal(hc_feature_stats(x, n, d, mean, cov), HC_OK);
        for (int k = 0; k < d; k++) check_ref(&w[0], mean[k], mref[k], 1e-15, 1e-12, name);
        for (int k = 0; k < d; k++)
            for (int l = 0; l < d; l++) {
                double scale = sqrt(cref[k * d + k] * cref[l * d + l]);
                check_ref(&w[1], cov[k * d + l], cref[k * d + l], 1e-11 * scale + 1e-15, 0, name);
                assert_true(cov[k * d + l] == cov[l * d + k]); /* symmetric by construction */
            }
        free(x);
        free(mref);
        free(cref);
        free(mean);
        free(cov);
        ncase++;
    }
    assert_true(ncase >= 3);
    report(w, 2);
}

/* Laws: n < 2 is refused; identical rows give their value as the mean and a
 * zero covariance (exact: every centred value is 0); adding 0.5 to values that
 * are multiples of 2^-20 (exact in float) shifts the mean by 0.5 and leaves
 * the covariance unchanged to 1e-13 (the centred values change by rounding of
 * the mean only). */
static void test_feature_stats_laws(void **state)
{
    (void)state;
    enum { N = 25, D = 4 };
    float x[N * D], xs[N * D];
    double mean[D], cov[D * D], mean2[D], cov2[D * D];
    for (int i = 0; i < N * D; i++) x[i] = 0.75f - (float)(i % D);
    assert_int_equal(hc_feature_stats(x, 1, D, mean, cov), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "2 samples"));
    assert_int_equal(hc_feature_stats(x, N, D, mean, cov), HC_OK);
    for (int k = 0; k < D; k++) assert_true(mean[k] == 0.75 - k);
    for (int k = 0; k < D * D; k++) assert_true(cov[k] == 0);

    gsl_rng *r = make_rng(5);
    for (int i = 0; i < N * D; i++) { /* multiples of 2^-20 in [-0.5, 0.5): + 0.5 is exact */
        x[i] = (float)((double)gsl_rng_uniform_int(r, 1u << 20) / (1u << 20) - 0.5);
        xs[i] = x[i] + 0.5f;
        assert_true((double)xs[i] == (double)x[i] + 0.5);
    }
    gsl_rng_free(r);
    assert_int_equal(hc_feature_stats(x, N, D, mean, cov), HC_OK);
    assert_int_equal(hc_feature_stats(xs, N, D, mean2, cov2), HC_OK);
    for (int k = 0; k < D; k++) check_close(mean2[k], mean[k] + 0.5, 1e-15, 0, "shifted", "mean");
    for (int k = 0; k < D * D; k++) check_close(cov2[k], cov[k], 1e-13 * cov[0], 0, "shifted", "cov");
}

/* ---- Frechet distance --------------------------------------------------------- */

static void test_frechet_refs(void **state)
{
    (void)state;
    worst w[3] = {{"fd vs scipy", 0, 0}, {"fd vs mpmath", 0, 0}, {"fd vs closed", 0, 0}};
    int ncase = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases("frechet"))
    {
        int d = get_int(c, "d");
        const char *name = case_name(c);
        double *mu1 = get_f64(c, "mu1", (size_t)d), *mu2 = get_f64(c, "mu2", (size_t)d);
        double *S1 = get_f64(c, "cov1", (size_t)d * d), *S2 = get_f64(c, "cov2", (size_t)d * d);
        double tr = 0, fd = NAN;
        for (int k = 0; k < d; k++) tr += S1[k * d + k] + S2[k * d + k];
        double atol = strcmp(name, "near_singular") == 0 ? 1e-6 : 1e-9 * (1 + tr);
        assert_int_equal(hc_frechet(mu1, S1, mu2, S2, d, &fd), HC_OK);
        check_ref(&w[0], fd, get_num(c, "fd"), atol, 0, name);
        check_ref(&w[1], fd, get_num(c, "fd_mp"), atol, 0, name);
        const cJSON *closed = cJSON_GetObjectItemCaseSensitive(c, "closed");
        if (closed) check_ref(&w[2], fd, num_value(closed), atol, 0, name);
        free(mu1);
        free(mu2);
        free(S1);
        free(S2);
        ncase++;
    }
    assert_true(ncase >= 7);
    report(w, 3);
}

/* Laws on a seeded 10-d Gaussian pair (S = A A^T / 10 + 0.05 I):
 *   FD(N1, N1) ~ 0 and FD(N1, N1 shifted by delta) = ||delta||^2, to 1e-10 (1 + tr);
 *   FD is symmetric (the two orders take different square roots: 1e-10 (1 + tr));
 *   FD >= 0 up to rounding;
 *   FD of covariances scaled by s^2 with means scaled by s is s^2 FD (1e-10 rel). */
static void test_frechet_laws(void **state)
{
    (void)state;
    enum { D = 10 };
    double A[D * D], B[D * D], S1[D * D], S2[D * D], T1[D * D], T2[D * D], mu1[D], mu2[D], mu3[D], m1[D], m2[D];
    gsl_rng *r = make_rng(3);
    for (int i = 0; i < D * D; i++) A[i] = gsl_rng_uniform(r) - 0.5, B[i] = gsl_rng_uniform(r) - 0.5;
    for (int i = 0; i < D; i++) mu1[i] = gsl_rng_uniform(r), mu2[i] = gsl_rng_uniform(r) - 1;
    gsl_rng_free(r);
    double tr = 0, dm = 0, d12 = 0;
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double s1 = i == j ? 0.05 : 0, s2 = s1;
            for (int k = 0; k < D; k++) s1 += A[i * D + k] * A[j * D + k] / 10, s2 += B[i * D + k] * B[j * D + k] / 10;
            S1[i * D + j] = s1;
            S2[i * D + j] = s2;
        }
    for (int i = 0; i < D; i++) {
        tr += S1[i * D + i] + S2[i * D + i];
        mu3[i] = mu1[i] + 0.25 * (i - 4.5);
        dm += (mu3[i] - mu1[i]) * (mu3[i] - mu1[i]);
    }
    double tol = 1e-10 * (1 + tr), fd, fd21;
    assert_int_equal(hc_frechet(mu1, S1, mu1, S1, D, &fd), HC_OK);
    check_close(fd, 0, tol, 0, "identical", "fd");
    assert_int_equal(hc_frechet(mu1, S1, mu3, S1, D, &fd), HC_OK);
    check_close(fd, dm, tol, 0, "shifted means", "fd");
    assert_int_equal(hc_frechet(mu1, S1, mu2, S2, D, &d12), HC_OK);
    assert_int_equal(hc_frechet(mu2, S2, mu1, S1, D, &fd21), HC_OK);
    check_close(fd21, d12, tol, 0, "swapped", "fd");
    assert_true(d12 > -tol);
    for (int i = 0; i < D * D; i++) T1[i] = 9 * S1[i], T2[i] = 9 * S2[i];
    for (int i = 0; i < D; i++) m1[i] = 3 * mu1[i], m2[i] = 3 * mu2[i];
    assert_int_equal(hc_frechet(m1, T1, m2, T2, D, &fd), HC_OK);
    check_close(fd, 9 * d12, 0, 1e-10, "scaled by 3", "fd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_refs),       cmocka_unit_test(test_metrics_laws),
        cmocka_unit_test(test_images_refs),        cmocka_unit_test(test_images_laws),
        cmocka_unit_test(test_feature_stats_refs), cmocka_unit_test(test_feature_stats_laws),
        cmocka_unit_test(test_frechet_refs),       cmocka_unit_test(test_frechet_laws),
    };
    return cmocka_run_group_tests(tests, load_refs, free_refs);
}
