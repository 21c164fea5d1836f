/* metrics.c: forecast error metrics (metrics.h). */
#include "metrics.h"

#include <math.h>
#include <string.h>

const char *const hc_metric_names[HC_N_METRICS] = {"rel_l1", "rel_l2", "cosine", "max_abs"};

void hc_metrics_compute(const float *p, const float *y, size_t n, double out[HC_N_METRICS])
{
    double l1 = 0, y1 = 0, l2 = 0, y2 = 0, p2 = 0, py = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)p[i] - y[i], ad = fabs(d);
        l1 += ad;
        y1 += fabs(y[i]);
        l2 += d * d;
        y2 += (double)y[i] * y[i];
        p2 += (double)p[i] * p[i];
        py += (double)p[i] * y[i];
        if (ad > mx) mx = ad;
    }
    out[HC_REL_L1] = y1 > 0 ? l1 / y1 : (l1 > 0 ? INFINITY : 0);
    out[HC_REL_L2] = y2 > 0 ? sqrt(l2 / y2) : (l2 > 0 ? INFINITY : 0);
    out[HC_COSINE] = (p2 > 0 && y2 > 0) ? py / sqrt(p2 * y2) : (p2 == y2 ? 1.0 : 0.0);
    out[HC_MAX_ABS] = mx;
}

/* ---- several forecasts against one truth, bit for bit as above ----------------------
 * Every sum is accumulated in element order, as hc_metrics_compute does, so
 * the results are the same bits.  The speed comes from running the sums side
 * by side: one AVX2 register holds a forecast's four sums (l1, l2, p2, py)
 * in its lanes, each lane its own sequential sum, and the elementwise terms
 * (differences, absolute values and products in double) are computed 4
 * elements at a time and transposed to one element per register.  Up to 4
 * forecasts (and the truth's two sums) share a pass over the truth; the
 * maximum is order independent. */

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HC_METRICS_X86 1
#endif

#define HC_MG 4 /* forecasts per pass */

static void finish(const double a[5], const double ts[2], double out[HC_N_METRICS])
{
    double l1 = a[0], l2 = a[1], p2 = a[2], py = a[3], y1 = ts[0], y2 = ts[1];
    out[HC_REL_L1] = y1 > 0 ? l1 / y1 : (l1 > 0 ? INFINITY : 0);
    out[HC_REL_L2] = y2 > 0 ? sqrt(l2 / y2) : (l2 > 0 ? INFINITY : 0);
    out[HC_COSINE] = (p2 > 0 && y2 > 0) ? py / sqrt(p2 * y2) : (p2 == y2 ? 1.0 : 0.0);
    out[HC_MAX_ABS] = a[4];
}

/* Sums of G forecasts from element i on, continuing acc[g] = {l1, l2, p2,
 * py, max} (and ts = {sum|y|, sum y^2} when T): the scalar reference order. */
static void tail_sums(const float *const *p, int G, int T, const float *y, size_t i, size_t n, double acc[][5],
                      double ts[2])
{
    for (; i < n; i++) {
        for (int g = 0; g < G; g++) {
            double d = (double)p[g][i] - y[i], ad = fabs(d);
            acc[g][0] += ad;
            acc[g][1] += d * d;
            acc[g][2] += (double)p[g][i] * p[g][i];
            acc[g][3] += (double)p[g][i] * y[i];
            if (ad > acc[g][4]) acc[g][4] = ad;
        }
        if (T) {
            ts[0] += fabs(y[i]);
            ts[1] += (double)y[i] * y[i];
        }
    }
}

#ifdef HC_METRICS_X86
/* G forecasts (1..HC_MG, a constant after inlining), and the truth's sums
 * when T, over elements [0, n - n % 4); the rest by tail_sums. */
__attribute__((target("avx2"), always_inline)) static inline void sums_avx2(const float *const *p, const int G,
                                                                             const int T, const float *y, size_t n,
                                                                             double acc[][5], double ts[2])
{
    const __m256d absm = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    __m256d a[HC_MG], mx[HC_MG];
    __m128d yt = _mm_setzero_pd(); /* {sum|y|, sum y^2} */
    for (int g = 0; g < G; g++) a[g] = mx[g] = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d yv = _mm256_cvtps_pd(_mm_loadu_ps(y + i));
        if (T) { /* [|y_i|, y_i^2] for i = 0..3 from two 4-lane vectors */
            __m256d ay = _mm256_and_pd(yv, absm), y2 = _mm256_mul_pd(yv, yv);
            __m256d lo = _mm256_unpacklo_pd(ay, y2), hi = _mm256_unpackhi_pd(ay, y2); /* e0 e2 | e1 e3 */
            yt = _mm_add_pd(yt, _mm256_castpd256_pd128(lo));
            yt = _mm_add_pd(yt, _mm256_castpd256_pd128(hi));
            yt = _mm_add_pd(yt, _mm256_extractf128_pd(lo, 1));
            yt = _mm_add_pd(yt, _mm256_extractf128_pd(hi, 1));
        }
        for (int g = 0; g < G; g++) {
            __m256d pv = _mm256_cvtps_pd(_mm_loadu_ps(p[g] + i));
            __m256d d = _mm256_sub_pd(pv, yv), ad = _mm256_and_pd(d, absm);
            __m256d d2 = _mm256_mul_pd(d, d), p2 = _mm256_mul_pd(pv, pv), py = _mm256_mul_pd(pv, yv);
            mx[g] = _mm256_blendv_pd(mx[g], ad, _mm256_cmp_pd(ad, mx[g], _CMP_GT_OQ));
            /* transpose: element e's {ad, d2, p2, py} in one register */
            __m256d t0 = _mm256_unpacklo_pd(ad, d2), t1 = _mm256_unpackhi_pd(ad, d2); /* {ad0 d20 ad2 d22}, {1, 3} */
            __m256d t2 = _mm256_unpacklo_pd(p2, py), t3 = _mm256_unpackhi_pd(p2, py);
            a[g] = _mm256_add_pd(a[g], _mm256_permute2f128_pd(t0, t2, 0x20));
            a[g] = _mm256_add_pd(a[g], _mm256_permute2f128_pd(t1, t3, 0x20));
            a[g] = _mm256_add_pd(a[g], _mm256_permute2f128_pd(t0, t2, 0x31));
            a[g] = _mm256_add_pd(a[g], _mm256_permute2f128_pd(t1, t3, 0x31));
        }
    }
    for (int g = 0; g < G; g++) {
        _Alignas(32) double m4[4];
        _mm256_store_pd(m4, mx[g]);
        _mm256_storeu_pd(acc[g], a[g]);
        acc[g][4] = 0;
        for (int k = 0; k < 4; k++)
            if (m4[k] > acc[g][4]) acc[g][4] = m4[k];
    }
    if (T) _mm_storeu_pd(ts, yt);
    tail_sums(p, G, T, y, i, n, acc, ts);
}

#define HC_SUMS(G, T)                                                                                                 \
    __attribute__((target("avx2"))) static void sums##G##T(const float *const *p, const float *y, size_t n,            \
                                                         double acc[][5], double ts[2])                              \
    {                                                                                                                 \
        sums_avx2(p, G, T, y, n, acc, ts);                                                                            \
    }
HC_SUMS(0, 1) HC_SUMS(1, 0) HC_SUMS(2, 0) HC_SUMS(3, 0) HC_SUMS(4, 0) HC_SUMS(1, 1) HC_SUMS(2, 1) HC_SUMS(3, 1) HC_SUMS(4, 1)
typedef void (*sums_fn)(const float *const *, const float *, size_t, double[][5], double[2]);
static const sums_fn sums_table[2][HC_MG] = {{sums10, sums20, sums30, sums40}, {sums11, sums21, sums31, sums41}};

static int have_avx2(void)
{
    __builtin_cpu_init(); /* idempotent and cheap */
    return __builtin_cpu_supports("avx2");
}
#endif

void hc_metrics_truth(const float *y, size_t n, double ts[2])
{
    ts[0] = ts[1] = 0;
#ifdef HC_METRICS_X86
    if (have_avx2()) {
        sums01(NULL, y, n, NULL, ts);
        return;
    }
#endif
    tail_sums(NULL, 0, 1, y, 0, n, NULL, ts);
}

void hc_metrics_multi_with(int simd, const float *const *p, int M, const float *y, size_t n, const double ts_in[2],
                           double (*out)[HC_N_METRICS])
{
    double ts[2] = {0, 0};
    if (ts_in) {
        ts[0] = ts_in[0];
        ts[1] = ts_in[1];
    }
#ifdef HC_METRICS_X86
    simd = simd && have_avx2();
#else
    simd = 0;
#endif
    for (int m = 0; m < M; m += HC_MG) {
        const int G = M - m >= HC_MG ? HC_MG : M - m, T = m == 0 && !ts_in;
        double acc[HC_MG][5] = {{0}};
#ifdef HC_METRICS_X86
        if (simd) sums_table[T][G - 1](p + m, y, n, acc, ts);
        else
#endif
            tail_sums(p + m, G, T, y, 0, n, acc, ts);
        for (int g = 0; g < G; g++) finish(acc[g], ts, out[m + g]);
    }
}

void hc_metrics_multi(const float *const *p, int M, const float *y, size_t n, const double ts[2],
                      double (*out)[HC_N_METRICS])
{
    hc_metrics_multi_with(1, p, M, y, n, ts, out);
}
