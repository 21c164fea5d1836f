/* metrics.c: forecast error metrics (metrics.h).
 *
 * Every sum follows the blocked 8-lane order of metrics.h.  The AVX2 path
 * keeps a sum's 8 lanes in two registers (lanes 0-3 and 4-7), so its adds
 * are exactly the scalar reference's, and reduces them as the reference
 * does; the remainder of a block that is not a multiple of 8 continues in
 * the scalar lanes.  A block stays in L1 (HC_METRIC_BLOCK floats per
 * stream), so several forecasts are scored one after another against the
 * same truth block. */
#include "metrics.h"

#include <math.h>
#include <string.h>

const char *const hc_metric_names[HC_N_METRICS] = {"rel_l1", "rel_l2", "cosine", "max_abs"};

/* A block's value from its 8 lane sums (the order of metrics.h). */
static double lanes_value(const double s[8])
{
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/* Forecast p against y over elements [i0, n) of a block, continuing the
 * lane sums s[4][8] and the maximum; lane = element index in the block & 7. */
static void lanes_scalar(const float *p, const float *y, size_t i0, size_t n, double s[4][8], double *mx)
{
    for (size_t i = i0; i < n; i++) {
        const size_t j = i & 7;
        double d = (double)p[i] - y[i], ad = fabs(d);
        s[0][j] += ad;
        s[1][j] += d * d;
        s[2][j] += (double)p[i] * p[i];
        s[3][j] += (double)p[i] * y[i];
        if (ad > *mx) *mx = ad;
    }
}

static void truth_scalar(const float *y, size_t i0, size_t n, double s[2][8])
{
    for (size_t i = i0; i < n; i++) {
        const size_t j = i & 7;
        s[0][j] += fabs(y[i]);
        s[1][j] += (double)y[i] * y[i];
    }
}

static void finish_lanes(double s[][8], int K, double *out)
{
    for (int k = 0; k < K; k++) out[k] = lanes_value(s[k]);
}

static void block_scalar(const float *const *p, int M, const float *y, size_t n, hc_msum *bs, double bt[2])
{
    for (int m = 0; m < M; m++) {
        double s[4][8] = {{0}}, mx = 0;
        lanes_scalar(p[m], y, 0, n, s, &mx);
        finish_lanes(s, 4, bs[m].s);
        bs[m].mx = mx;
    }
    if (bt) {
        double s[2][8] = {{0}};
        truth_scalar(y, 0, n, s);
        finish_lanes(s, 2, bt);
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HC_METRICS_X86 1

/* lanes 0-3 in lo, 4-7 in hi, stored to s[8] */
__attribute__((target("avx2"))) static inline void store_lanes(double s[8], __m256d lo, __m256d hi)
{
    _mm256_storeu_pd(s, lo);
    _mm256_storeu_pd(s + 4, hi);
}

__attribute__((target("avx2"))) static void block_avx2(const float *const *p, int M, const float *y, size_t n,
                                                        hc_msum *bs, double bt[2])
{
    const __m256d absm = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    const size_t n8 = n & ~(size_t)7;
    /* the truth in double, once for all forecasts (a block: 32 KiB) */
    _Alignas(32) double yd[HC_METRIC_BLOCK];
    for (size_t i = 0; i < n8; i += 4) _mm256_store_pd(yd + i, _mm256_cvtps_pd(_mm_loadu_ps(y + i)));
    for (int m = 0; m < M; m++) {
        const float *pm = p[m];
        __m256d a[4][2], mx[2];
        for (int k = 0; k < 4; k++) a[k][0] = a[k][1] = _mm256_setzero_pd();
        mx[0] = mx[1] = _mm256_setzero_pd();
        for (size_t i = 0; i < n8; i += 8)
            for (int h = 0; h < 2; h++) {
                __m256d yv = _mm256_load_pd(yd + i + 4 * h);
                __m256d pv = _mm256_cvtps_pd(_mm_loadu_ps(pm + i + 4 * h));
                __m256d d = _mm256_sub_pd(pv, yv), ad = _mm256_and_pd(d, absm);
                a[0][h] = _mm256_add_pd(a[0][h], ad);
                a[1][h] = _mm256_add_pd(a[1][h], _mm256_mul_pd(d, d));
                a[2][h] = _mm256_add_pd(a[2][h], _mm256_mul_pd(pv, pv));
                a[3][h] = _mm256_add_pd(a[3][h], _mm256_mul_pd(pv, yv));
                /* max(ad, mx) keeps mx where ad is NaN, as `if (ad > mx)` does */
                mx[h] = _mm256_max_pd(ad, mx[h]);
            }
        double s[4][8], m8[8], mxs = 0;
        for (int k = 0; k < 4; k++) store_lanes(s[k], a[k][0], a[k][1]);
        store_lanes(m8, mx[0], mx[1]);
        for (int j = 0; j < 8; j++)
            if (m8[j] > mxs) mxs = m8[j];
        lanes_scalar(pm, y, n8, n, s, &mxs);
        finish_lanes(s, 4, bs[m].s);
        bs[m].mx = mxs;
    }
    if (bt) {
        __m256d a[2][2];
        for (int k = 0; k < 2; k++) a[k][0] = a[k][1] = _mm256_setzero_pd();
        for (size_t i = 0; i < n8; i += 8)
            for (int h = 0; h < 2; h++) {
                __m256d yv = _mm256_load_pd(yd + i + 4 * h);
                a[0][h] = _mm256_add_pd(a[0][h], _mm256_and_pd(yv, absm));
                a[1][h] = _mm256_add_pd(a[1][h], _mm256_mul_pd(yv, yv));
            }
        double s[2][8];
        for (int k = 0; k < 2; k++) store_lanes(s[k], a[k][0], a[k][1]);
        truth_scalar(y, n8, n, s);
        finish_lanes(s, 2, bt);
    }
}

static int have_avx2(void)
{
    __builtin_cpu_init(); /* idempotent and cheap */
    return __builtin_cpu_supports("avx2");
}
#endif

static void block_with(int simd, const float *const *p, int M, const float *y, size_t n, hc_msum *bs, double bt[2])
{
#ifdef HC_METRICS_X86
    if (simd && have_avx2()) {
        block_avx2(p, M, y, n, bs, bt);
        return;
    }
#endif
    (void)simd;
    block_scalar(p, M, y, n, bs, bt);
}

void hc_metrics_block(const float *const *p, int M, const float *y, size_t n, hc_msum *bs, double bt[2])
{
    block_with(1, p, M, y, n, bs, bt);
}

void hc_msum_add(hc_msum *acc, const hc_msum *b)
{
    for (int k = 0; k < 4; k++) acc->s[k] += b->s[k];
    if (b->mx > acc->mx) acc->mx = b->mx;
}

void hc_metrics_finish(const hc_msum *a, const double ts[2], double out[HC_N_METRICS])
{
    double l1 = a->s[0], l2 = a->s[1], p2 = a->s[2], py = a->s[3], y1 = ts[0], y2 = ts[1];
    out[HC_REL_L1] = y1 > 0 ? l1 / y1 : (l1 > 0 ? INFINITY : 0);
    out[HC_REL_L2] = y2 > 0 ? sqrt(l2 / y2) : (l2 > 0 ? INFINITY : 0);
    out[HC_COSINE] = (p2 > 0 && y2 > 0) ? py / sqrt(p2 * y2) : (p2 == y2 ? 1.0 : 0.0);
    out[HC_MAX_ABS] = a->mx;
}

#define HC_MG 8 /* forecasts per pass over the row */

void hc_metrics_multi_with(int simd, const float *const *p, int M, const float *y, size_t n, const double ts_in[2],
                           double (*out)[HC_N_METRICS])
{
    double ts[2] = {0, 0};
    if (ts_in) memcpy(ts, ts_in, sizeof ts);
    for (int m0 = 0; m0 < M; m0 += HC_MG) {
        const int G = M - m0 >= HC_MG ? HC_MG : M - m0, T = m0 == 0 && !ts_in;
        hc_msum acc[HC_MG], bs[HC_MG];
        const float *pb[HC_MG];
        memset(acc, 0, sizeof acc);
        for (size_t b = 0; b < n; b += HC_METRIC_BLOCK) {
            const size_t len = n - b < HC_METRIC_BLOCK ? n - b : HC_METRIC_BLOCK;
            double bt[2];
            for (int g = 0; g < G; g++) pb[g] = p[m0 + g] + b;
            block_with(simd, pb, G, y + b, len, bs, T ? bt : NULL);
            for (int g = 0; g < G; g++) hc_msum_add(&acc[g], &bs[g]);
            if (T) ts[0] += bt[0], ts[1] += bt[1];
        }
        for (int g = 0; g < G; g++) hc_metrics_finish(&acc[g], ts, out[m0 + g]);
    }
}

void hc_metrics_multi(const float *const *p, int M, const float *y, size_t n, const double ts[2],
                      double (*out)[HC_N_METRICS])
{
    hc_metrics_multi_with(1, p, M, y, n, ts, out);
}

void hc_metrics_truth(const float *y, size_t n, double ts[2])
{
    ts[0] = ts[1] = 0;
    for (size_t b = 0; b < n; b += HC_METRIC_BLOCK) {
        double bt[2];
        block_with(1, NULL, 0, y + b, n - b < HC_METRIC_BLOCK ? n - b : HC_METRIC_BLOCK, NULL, bt);
        ts[0] += bt[0];
        ts[1] += bt[1];
    }
}

void hc_metrics_compute(const float *p, const float *y, size_t n, double out[HC_N_METRICS])
{
    hc_metrics_multi_with(1, &p, 1, y, n, NULL, (double(*)[HC_N_METRICS])out);
}
