/* nn.c: transformer primitives (see nn.h). */
#include "nn.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HC_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define HC_VECTOR_CLONES
#endif

/* max and sum of n floats with 8 independent lanes (vectorises; the lane
 * order is fixed, so results do not depend on the machine) */
static inline float max8(const float *x, int n)
{
    float m[8];
    for (int k = 0; k < 8; k++) m[k] = x[0];
    int j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++) m[k] = x[j + k] > m[k] ? x[j + k] : m[k];
    for (; j < n; j++) m[0] = x[j] > m[0] ? x[j] : m[0];
    float r = m[0];
    for (int k = 1; k < 8; k++) r = m[k] > r ? m[k] : r;
    return r;
}

static inline float sum8(const float *x, const float *y, int n) /* sum x*y, or sum x if y is NULL */
{
    float a[8] = {0};
    int j = 0;
    if (y)
        for (; j + 8 <= n; j += 8)
            for (int k = 0; k < 8; k++) a[k] += x[j + k] * y[j + k];
    else
        for (; j + 8 <= n; j += 8)
            for (int k = 0; k < 8; k++) a[k] += x[j + k];
    for (; j < n; j++) a[0] += y ? x[j] * y[j] : x[j];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* e^x: Cody-Waite range reduction and Cephes' degree-6 polynomial (within
 * 2 ulp of expf over [-87, 88]); branch-free so array loops vectorise. */
static inline float fexp(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    float t = x * 1.44269504088896341f;
    int n = (int)(t + 128.5f) - 128; /* round to nearest: t + 128.5 > 0 after the clamp */
    float fn = (float)n;
    float r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int i; float f; } sc = {.i = (n + 127) << 23};
    return p * sc.f;
}

/* ---- AVX2 kernels: the same IEEE operations in the same order per element
 * as the portable C above (no FMA, the same 8-lane sums), so results are
 * bit-identical to it; picked at run time where the CPU has AVX2. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HC_AVX2 1
#define AVX2_FN __attribute__((target("avx2")))
static int has_avx2(void) { return __builtin_cpu_supports("avx2"); }

#define V8(c) _mm256_set1_ps(c)
/* rows ahead whose q, k columns the attention gather prefetches */
#define HC_QK_AHEAD 4
/* fexp on 8 lanes; max/min return their second operand for NaN, as the
 * clamp's comparisons do */
AVX2_FN static inline __m256 fexp8(__m256 x)
{
    x = _mm256_min_ps(V8(88.0f), _mm256_max_ps(V8(-87.0f), x));
    __m256 t = _mm256_mul_ps(x, V8(1.44269504088896341f));
    __m256i n = _mm256_sub_epi32(_mm256_cvttps_epi32(_mm256_add_ps(t, V8(128.5f))), _mm256_set1_epi32(128));
    __m256 fn = _mm256_cvtepi32_ps(n);
    __m256 r = _mm256_add_ps(_mm256_sub_ps(x, _mm256_mul_ps(fn, V8(0.693359375f))), _mm256_mul_ps(fn, V8(2.12194440e-4f)));
    __m256 p = V8(1.9875691500e-4f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(1.3981999507e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(8.3334519073e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(4.1665795894e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(1.6666665459e-1f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r), V8(1.0f));
    __m256 sc = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(p, sc);
}

/* fexp8 on four vectors in lockstep, each step on all four before the next
 * (the same operations per lane: the exponential's long dependency chain
 * overlaps four ways without relying on the out-of-order window) */
#define X4(OP) do { for (int q = 0; q < 4; q++) { OP; } } while (0)
AVX2_FN static inline void fexp8x4(__m256 *x)
{
    __m256 fn[4], r[4], p[4];
    __m256i n[4];
    X4(x[q] = _mm256_min_ps(V8(88.0f), _mm256_max_ps(V8(-87.0f), x[q])));
    X4(n[q] = _mm256_sub_epi32(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(x[q], V8(1.44269504088896341f)), V8(128.5f))),
                               _mm256_set1_epi32(128)));
    X4(fn[q] = _mm256_cvtepi32_ps(n[q]));
    X4(r[q] = _mm256_add_ps(_mm256_sub_ps(x[q], _mm256_mul_ps(fn[q], V8(0.693359375f))), _mm256_mul_ps(fn[q], V8(2.12194440e-4f))));
    X4(p[q] = _mm256_add_ps(_mm256_mul_ps(V8(1.9875691500e-4f), r[q]), V8(1.3981999507e-3f)));
    X4(p[q] = _mm256_add_ps(_mm256_mul_ps(p[q], r[q]), V8(8.3334519073e-3f)));
    X4(p[q] = _mm256_add_ps(_mm256_mul_ps(p[q], r[q]), V8(4.1665795894e-2f)));
    X4(p[q] = _mm256_add_ps(_mm256_mul_ps(p[q], r[q]), V8(1.6666665459e-1f)));
    X4(p[q] = _mm256_add_ps(_mm256_mul_ps(p[q], r[q]), V8(5.0000001201e-1f)));
    X4(p[q] = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p[q], r[q]), r[q]), r[q]), V8(1.0f)));
    X4(x[q] = _mm256_mul_ps(p[q], _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n[q], _mm256_set1_epi32(127)), 23))));
}

/* sum8's ending: the nt tail values added to lane 0 in order, then its lane
 * tree ((0+1)+(2+3))+((4+5)+(6+7)) (as two horizontal adds when no tail) */
AVX2_FN static inline float hsum8(__m256 a, const float *tail, int nt)
{
    if (nt == 0) {
        __m256 h = _mm256_hadd_ps(a, a);
        h = _mm256_hadd_ps(h, h);
        return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    }
    float l[8];
    _mm256_storeu_ps(l, a);
    for (int j = 0; j < nt; j++) l[0] += tail[j];
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

AVX2_FN static inline __m256 gelu8(__m256 z)
{
    const float k2 = 2.0f * 0.7978845608028654f;
    __m256 c = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(V8(0.044715f), z), z), z);
    __m256 g = fexp8(_mm256_mul_ps(V8(-k2), _mm256_add_ps(z, c)));
    return _mm256_div_ps(z, _mm256_add_ps(V8(1.0f), g));
}

/* four independent vectors per iteration: the exp's dependency chain is long */
AVX2_FN static void gelu_avx2(float *dst, size_t ldd, const float *src, size_t lds, size_t rows, size_t n)
{
    const float k2 = 2.0f * 0.7978845608028654f;
    for (size_t r = 0; r < rows; r++) {
        const float *x = src + r * lds;
        float *y = dst + r * ldd;
        size_t e = 0;
        if (r + 2 < rows) /* a row ahead (a hint: no effect on values) */
            for (size_t o = 0; o < n; o += 16) __builtin_prefetch(x + 2 * lds + o);
        for (; e + 32 <= n; e += 32) { /* gelu8 on four vectors, the exponentials in lockstep */
            __m256 z[4], g[4];
            X4(z[q] = _mm256_loadu_ps(x + e + 8 * q));
            X4(g[q] = _mm256_mul_ps(V8(-k2), _mm256_add_ps(z[q], _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(V8(0.044715f), z[q]), z[q]), z[q]))));
            fexp8x4(g);
            X4(_mm256_storeu_ps(y + e + 8 * q, _mm256_div_ps(z[q], _mm256_add_ps(V8(1.0f), g[q]))));
        }
        for (; e + 8 <= n; e += 8) _mm256_storeu_ps(y + e, gelu8(_mm256_loadu_ps(x + e)));
        for (; e < n; e++) {
            float z = x[e];
            y[e] = z / (1.0f + fexp(-k2 * (z + 0.044715f * z * z * z)));
        }
    }
}

/* s[j] = exp(s[j] - max) / sum, the sum over the exponentials as sum8 adds them */
AVX2_FN static void softmax_avx2(float *s, int L, float mx)
{
    __m256 a = _mm256_setzero_ps(), m = V8(mx);
    int j = 0;
    for (; j + 32 <= L; j += 32) { /* four exponentials in lockstep, added in lane order */
        __m256 e[4];
        X4(e[q] = _mm256_sub_ps(_mm256_loadu_ps(s + j + 8 * q), m));
        fexp8x4(e);
        X4(_mm256_storeu_ps(s + j + 8 * q, e[q]));
        a = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a, e[0]), e[1]), e[2]), e[3]);
    }
    for (; j + 8 <= L; j += 8) {
        __m256 e = fexp8(_mm256_sub_ps(_mm256_loadu_ps(s + j), m));
        _mm256_storeu_ps(s + j, e);
        a = _mm256_add_ps(a, e);
    }
    for (int k = j; k < L; k++) s[k] = fexp(s[k] - mx);
    __m256 inv = V8(1.0f / hsum8(a, s + j, L - j));
    for (j = 0; j + 8 <= L; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
    for (; j < L; j++) s[j] *= _mm256_cvtss_f32(inv);
}

/* qk_prep (below) of the H heads of one row u (heads d floats apart, d a
 * multiple of 8) into dst + h hs; RoPE pairs (x0, x1) -> (c x0 - s x1,
 * s x0 + c x1) as addsub(c X, s swap(X)) */
AVX2_FN static void qk_row_avx2(int H, int d, float rms_eps, const float *cs, const float *sn, const float *u,
                                const float *scale, float *dst, size_t hs)
{
    for (int hd = 0; hd < H; hd++, u += d, dst += hs) {
        float inv = 1.0f;
        if (scale) {
            __m256 a = _mm256_setzero_ps();
            for (int e = 0; e < d; e += 8) {
                __m256 x = _mm256_loadu_ps(u + e);
                a = _mm256_add_ps(a, _mm256_mul_ps(x, x));
            }
            inv = 1.0f / sqrtf(hsum8(a, NULL, 0) / (float)d + rms_eps);
        }
        __m256 vi = V8(inv);
        for (int e = 0; e < d; e += 8) {
            __m256 x = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(u + e), vi), scale ? _mm256_loadu_ps(scale + e) : V8(1.0f));
            if (cs) {
                __m128 c4 = _mm_loadu_ps(cs + e / 2), s4 = _mm_loadu_ps(sn + e / 2);
                __m256 c = _mm256_set_m128(_mm_unpackhi_ps(c4, c4), _mm_unpacklo_ps(c4, c4));
                __m256 sv = _mm256_set_m128(_mm_unpackhi_ps(s4, s4), _mm_unpacklo_ps(s4, s4));
                x = _mm256_addsub_ps(_mm256_mul_ps(c, x), _mm256_mul_ps(sv, _mm256_permute_ps(x, 0xB1)));
            }
            _mm256_storeu_ps(dst + e, x);
        }
    }
}
#endif

void hc_nn_linear(const hc_linear *l, const float *X, int ldx, int M, float *Y, int ldy)
{
    if (M <= 0) return;
    for (int r = 0; r < M; r++) memcpy(Y + (size_t)r * ldy, l->b, (size_t)l->out * sizeof *Y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, l->out, l->in, 1.0f, X, ldx, l->W, l->in, 1.0f, Y, ldy);
}

void hc_nn_split(int n, int t, int nt, int *a, int *b)
{
    *a = (int)((long)n * t / nt);
    *b = (int)((long)n * (t + 1) / nt);
}

void hc_nn_split_rows(int M, int unit, int t, int nt, int *r0, int *r1)
{
    long units = (M + unit - 1) / unit;
    long u0 = units * t / nt, u1 = units * (t + 1) / nt;
    *r0 = (int)(u0 * unit < M ? u0 * unit : M);
    *r1 = (int)(u1 * unit < M ? u1 * unit : M);
}

void hc_nn_linear_part(const hc_linear *l, const float *X, int ldx, int M, float *Y, int ldy, int t, int nt)
{
    int r0, r1;
    hc_nn_split_rows(M, HC_NN_ROW_ALIGN, t, nt, &r0, &r1);
    if (r1 > r0) hc_nn_linear(l, X + (size_t)r0 * ldx, ldx, r1 - r0, Y + (size_t)r0 * ldy, ldy);
}

HC_VECTOR_CLONES
void hc_nn_modulate(const float *z, int rows, int D, const float *shift, const float *scale, float eps, float *out)
{
    for (int r = 0; r < rows; r++) { /* two-pass mean and biased variance */
        const float *x = z + (size_t)r * D;
        float *y = out + (size_t)r * D;
        float mu = sum8(x, NULL, D) / (float)D;
        for (int i = 0; i < D; i++) y[i] = x[i] - mu;
        float inv = 1.0f / sqrtf(sum8(y, y, D) / (float)D + eps);
        for (int i = 0; i < D; i++) y[i] = y[i] * inv * (1.0f + scale[i]) + shift[i];
    }
}

HC_VECTOR_CLONES
void hc_nn_gated_add(float *x, const float *v, const float *gate, int rows, int D)
{
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < D; i++) x[(size_t)r * D + i] += gate[i] * v[(size_t)r * D + i];
}

HC_VECTOR_CLONES
void hc_nn_gated_add_n(float *x, int n, const float *const *v, const float *const *gate, int rows, int D)
{
    for (int r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * D;
        for (int k = 0; k < n; k++) {
            const float *vr = v[k] + (size_t)r * D, *g = gate[k];
            for (int i = 0; i < D; i++) xr[i] += g[i] * vr[i];
        }
    }
}

/* 0.5 z (1 + tanh(a)) = z sigmoid(2a), a = sqrt(2/pi) (z + 0.044715 z^3) */
HC_VECTOR_CLONES
void hc_nn_gelu(float *dst, size_t ldd, const float *src, size_t lds, size_t rows, size_t n)
{
#ifdef HC_AVX2
    if (has_avx2()) {
        gelu_avx2(dst, ldd, src, lds, rows, n);
        return;
    }
#endif
    const float k2 = 2.0f * 0.7978845608028654f;
    for (size_t r = 0; r < rows; r++)
        for (size_t e = 0; e < n; e++) {
            float z = src[r * lds + e];
            dst[r * ldd + e] = z / (1.0f + fexp(-k2 * (z + 0.044715f * z * z * z)));
        }
}

void hc_nn_mlp(const hc_linear *fc1, const hc_linear *fc2, const float *X, int M, float *hidden, float *Y)
{
    const int F = fc1->out;
    for (int r0 = 0; r0 < M; r0 += HC_NN_MLP_TILE) {
        int rows = M - r0 < HC_NN_MLP_TILE ? M - r0 : HC_NN_MLP_TILE;
        hc_nn_linear(fc1, X + (size_t)r0 * fc1->in, fc1->in, rows, hidden, F);
        hc_nn_gelu(hidden, (size_t)F, hidden, (size_t)F, (size_t)rows, (size_t)F);
        hc_nn_linear(fc2, hidden, F, rows, Y + (size_t)r0 * fc2->out, fc2->out);
    }
}

void hc_nn_silu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + fexp(-x[i]));
}

size_t hc_attn_scratch(int L, int H, int d) { return 2 * (size_t)H * L * d + (size_t)L * L; }

void hc_attn_bind(hc_attn *a, float *scratch)
{
    a->Q = scratch;
    a->K = a->Q + (size_t)a->H * a->L * a->d;
    a->S = a->K + (size_t)a->H * a->L * a->d;
}

/* q or k of one head: optional RMS-norm with scale, optional RoPE at pos */
static inline void qk_prep(const hc_attn *a, const float *u, const float *scale, int pos, float *dst)
{
    const int d = a->d, h2 = d / 2;
    float inv = scale ? 1.0f / sqrtf(sum8(u, u, d) / (float)d + a->rms_eps) : 1.0f;
    if (!a->rope_cos) {
        for (int e = 0; e < d; e++) dst[e] = u[e] * inv * (scale ? scale[e] : 1.0f);
        return;
    }
    const float *cs = a->rope_cos + (size_t)pos * h2, *sn = a->rope_sin + (size_t)pos * h2;
    for (int k = 0; k < h2; k++) {
        float s0 = scale ? scale[2 * k] : 1.0f, s1 = scale ? scale[2 * k + 1] : 1.0f;
        float x0 = u[2 * k] * inv * s0, x1 = u[2 * k + 1] * inv * s1;
        dst[2 * k] = cs[k] * x0 - sn[k] * x1;
        dst[2 * k + 1] = sn[k] * x0 + cs[k] * x1;
    }
}

HC_VECTOR_CLONES
void hc_nn_attention(const hc_attn *a, int b, int n_parts, const hc_attn_part *parts)
{
    const int d = a->d, D = a->D;
    int L = 0;
    for (int p = 0; p < n_parts; p++) L += parts[p].rows;
    const size_t hs = (size_t)L * d; /* Q, K: [H, L, d] */
#ifdef HC_AVX2
    const int avx2 = has_avx2();
#endif
    int pos = 0;
    for (int p = 0; p < n_parts; p++) /* gather Q, K of every head (normalised, rotated), row by row */
        for (int r = 0; r < parts[p].rows; r++, pos++) {
            const hc_attn_part *P = &parts[p];
            const float *row = P->qkv + ((size_t)b * P->per_b + P->off + (size_t)r) * P->ld;
#ifdef HC_AVX2
            if (avx2 && d % 8 == 0) {
                if (r + HC_QK_AHEAD < P->rows) /* the q and k columns of a row ahead (a hint: no effect on values) */
                    for (int o = 0; o < 2 * D; o += 16) __builtin_prefetch(row + HC_QK_AHEAD * P->ld + o);
                const float *cs = a->rope_cos ? a->rope_cos + (size_t)pos * (d / 2) : NULL;
                const float *sn = a->rope_sin ? a->rope_sin + (size_t)pos * (d / 2) : NULL;
                qk_row_avx2(a->H, d, a->rms_eps, cs, sn, row, P->q_scale, a->Q + (size_t)pos * d, hs);
                qk_row_avx2(a->H, d, a->rms_eps, cs, sn, row + D, P->k_scale, a->K + (size_t)pos * d, hs);
                continue;
            }
#endif
            for (int hd = 0; hd < a->H; hd++) {
                qk_prep(a, row + (size_t)hd * d, P->q_scale, pos, a->Q + hd * hs + (size_t)pos * d);
                qk_prep(a, row + D + (size_t)hd * d, P->k_scale, pos, a->K + hd * hs + (size_t)pos * d);
            }
        }
    for (int hd = 0; hd < a->H; hd++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, d, (float)(1.0 / sqrt((double)d)), a->Q + hd * hs,
                    d, a->K + hd * hs, d, 0.0f, a->S, L);
        for (int i = 0; i < L; i++) {
            float *s = a->S + (size_t)i * L, mx = max8(s, L);
#ifdef HC_AVX2
            if (avx2) {
                softmax_avx2(s, L, mx);
                continue;
            }
#endif
            for (int j = 0; j < L; j++) s[j] = fexp(s[j] - mx);
            float inv = 1.0f / sum8(s, NULL, L);
            for (int j = 0; j < L; j++) s[j] *= inv;
        }
        /* O = S V, read from and written to the parts in place:
         * out rows of part q = sum over parts p of S[q rows, p cols] V_p */
        int q0 = 0;
        for (int q = 0; q < n_parts; q++) {
            const hc_attn_part *Q = &parts[q];
            float *o = Q->out + ((size_t)b * Q->out_per_b + Q->out_off) * Q->out_ld + (size_t)hd * d;
            int p0 = 0;
            for (int p = 0; p < n_parts; p++) {
                const hc_attn_part *P = &parts[p];
                const float *v = P->qkv + ((size_t)b * P->per_b + P->off) * P->ld + 2 * (size_t)D + (size_t)hd * d;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Q->rows, d, P->rows, 1.0f,
                            a->S + (size_t)q0 * L + p0, L, v, (int)P->ld, p ? 1.0f : 0.0f, o, (int)Q->out_ld);
                p0 += P->rows;
            }
            q0 += Q->rows;
        }
    }
}
