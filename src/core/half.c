/* half.c: float16 -> float32, scalar and F16C/AVX2 (half.h). */
#include "half.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define HC_HALF_X86 1
#endif

float hc_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
    if (exp == 31) {
        u = sign | (man ? 0x7fffffffu : 0x7f800000u); /* NaN as HDF5 writes it, or inf */
    } else if (exp != 0) {
        u = sign | (exp + 112) << 23 | man << 13; /* normal: rebias 15 -> 127 */
    } else if (man == 0) {
        u = sign; /* +-0 */
    } else {
        /* subnormal man * 2^-24: normalise (the leading 1 of man to bit 10) */
        int e = 113; /* biased exponent of 2^-14 */
        while (!(man & 0x400u)) {
            man <<= 1;
            e--;
        }
        u = sign | (uint32_t)e << 23 | (man & 0x3ffu) << 13;
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int hc_half_to_float_n_scalar(const uint16_t *src, float *dst, size_t n)
{
    int nonfinite = 0;
    for (size_t i = 0; i < n; i++) {
        nonfinite |= (src[i] & 0x7c00u) == 0x7c00u;
        dst[i] = hc_half_to_float(src[i]);
    }
    return nonfinite;
}

#ifdef HC_HALF_X86
/* 8 halves to 8 floats; NaNs to sign | 0x7fffffff like the scalar path. */
__attribute__((target("f16c,avx2"))) static inline __m256 cvt8(__m128i h, __m256 nanbits)
{
    __m256 x = _mm256_cvtph_ps(h);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    return _mm256_or_ps(x, _mm256_and_ps(nan, nanbits));
}

__attribute__((target("f16c,avx2"))) int hc_half_to_float_n_f16c(const uint16_t *src, float *dst, size_t n)
{
    const __m256 nanbits = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i expo = _mm256_set1_epi16(0x7c00);
    __m256i any = _mm256_setzero_si256(); /* lanes whose exponent is all ones: inf or NaN */
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)(src + i));
        any = _mm256_or_si256(any, _mm256_cmpeq_epi16(_mm256_and_si256(h, expo), expo));
        _mm256_storeu_ps(dst + i, cvt8(_mm256_castsi256_si128(h), nanbits));
        _mm256_storeu_ps(dst + i + 8, cvt8(_mm256_extracti128_si256(h, 1), nanbits));
    }
    int nonfinite = !_mm256_testz_si256(any, any);
    if (i < n) { /* tail of 1..15 through a padded copy (zeros are finite) */
        uint16_t h[16] = {0};
        float f[16];
        memcpy(h, src + i, (n - i) * sizeof *h);
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)h);
        __m256i m = _mm256_cmpeq_epi16(_mm256_and_si256(v, expo), expo);
        nonfinite |= !_mm256_testz_si256(m, m);
        _mm256_storeu_ps(f, cvt8(_mm256_castsi256_si128(v), nanbits));
        _mm256_storeu_ps(f + 8, cvt8(_mm256_extracti128_si256(v, 1), nanbits));
        memcpy(dst + i, f, (n - i) * sizeof *f);
    }
    return nonfinite;
}

int hc_half_have_f16c(void)
{
    /* F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports
     * does not know "f16c"; AVX2 (which implies OS support for the YMM
     * state) from the builtin both compilers know */
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 29))) return 0;
    __builtin_cpu_init(); /* idempotent and cheap: no cached state to race on */
    return __builtin_cpu_supports("avx2");
}
#else
int hc_half_to_float_n_f16c(const uint16_t *src, float *dst, size_t n) { return hc_half_to_float_n_scalar(src, dst, n); }
int hc_half_have_f16c(void) { return 0; }
#endif

int hc_half_to_float_n(const uint16_t *src, float *dst, size_t n)
{
    return hc_half_have_f16c() ? hc_half_to_float_n_f16c(src, dst, n) : hc_half_to_float_n_scalar(src, dst, n);
}

/* ---- float32 -> binary16 and bfloat16 (half.h) ---- */

uint16_t hc_float_to_half(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* quiet NaN */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);                        /* >= 65520: inf */
    if (a >= 0x38800000u) { /* normal half: rebias 127 -> 15, round off 13 bits */
        uint32_t m = a - 0x38000000u;
        return (uint16_t)(sign | ((m + 0xfffu + ((m >> 13) & 1u)) >> 13));
    }
    if (a <= 0x33000000u) return sign; /* <= 2^-25: rounds to 0 (the tie too) */
    /* subnormal half: units of 2^-24; value = mant * 2^(e-150) */
    uint32_t mant = (a & 0x7fffffu) | 0x800000u, shift = 126u - (a >> 23);
    uint32_t r = mant >> shift, rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) r++;
    return (uint16_t)(sign | r);
}

void hc_float_to_half_n_scalar(const float *src, uint16_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = hc_float_to_half(src[i]);
}

#ifdef HC_HALF_X86
__attribute__((target("f16c,avx2"))) void hc_float_to_half_n_f16c(const float *src, uint16_t *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    if (i < n) {
        float f[8] = {0};
        uint16_t h[8];
        memcpy(f, src + i, (n - i) * sizeof *f);
        _mm_storeu_si128((__m128i *)(void *)h, _mm256_cvtps_ph(_mm256_loadu_ps(f), _MM_FROUND_TO_NEAREST_INT));
        memcpy(dst + i, h, (n - i) * sizeof *h);
    }
}
#else
void hc_float_to_half_n_f16c(const float *src, uint16_t *dst, size_t n) { hc_float_to_half_n_scalar(src, dst, n); }
#endif

/* the CPU check once (CPUID can trap to a hypervisor: too slow per call) */
int hc_half_have_f16c_cached(void)
{
    static _Atomic int have = -1;
    int h = have;
    if (h < 0) have = h = hc_half_have_f16c();
    return h;
}

void hc_float_to_half_n(const float *src, uint16_t *dst, size_t n)
{
    if (hc_half_have_f16c_cached()) hc_float_to_half_n_f16c(src, dst, n);
    else hc_float_to_half_n_scalar(src, dst, n);
}

uint16_t hc_float_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float hc_bf16_to_float(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#ifdef HC_HALF_X86
/* 16 floats at a time: the scalar rounding on 32-bit lanes, NaN lanes
 * quieted, then packed to 16 bits (packus interleaves 128-bit lanes:
 * permute back) */
__attribute__((target("avx2"))) static size_t bf16_store_avx2(const float *src, uint16_t *dst, size_t n)
{
    const __m256i absm = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1), quiet = _mm256_set1_epi32(0x40);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i r[2];
        for (int h = 0; h < 2; h++) {
            __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(src + i + 8 * h));
            __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, absm), inf);
            __m256i up = _mm256_add_epi32(u, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(u, 16), one)));
            __m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), quiet);
            r[h] = _mm256_blendv_epi8(_mm256_srli_epi32(up, 16), q, nan);
        }
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xd8);
        _mm256_storeu_si256((__m256i *)(void *)(dst + i), p);
    }
    return i;
}

__attribute__((target("avx2"))) static size_t bf16_load_avx2(const uint16_t *src, float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(src + i)));
        _mm256_storeu_si256((__m256i *)(void *)(dst + i), _mm256_slli_epi32(w, 16));
    }
    return i;
}
#endif

void hc_float_to_bf16_n(const float *src, uint16_t *dst, size_t n)
{
    size_t i = 0;
#ifdef HC_HALF_X86
    if (hc_half_have_f16c_cached()) i = bf16_store_avx2(src, dst, n);
#endif
    for (; i < n; i++) dst[i] = hc_float_to_bf16(src[i]);
}

void hc_bf16_to_float_n(const uint16_t *src, float *dst, size_t n)
{
    size_t i = 0;
#ifdef HC_HALF_X86
    if (hc_half_have_f16c_cached()) i = bf16_load_avx2(src, dst, n);
#endif
    for (; i < n; i++) dst[i] = hc_bf16_to_float(src[i]);
}

/* ---- linear combinations of 16-bit arrays (half.h) ---- */

#ifdef HC_HALF_X86
__attribute__((target("f16c,avx2"))) static size_t half_lincomb_f16c(float *out, const uint16_t *const *src,
                                                                     const float *k, int p, size_t n)
{
    const __m256 nanbits = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 acc = _mm256_mul_ps(_mm256_set1_ps(k[0]),
                                   cvt8(_mm_loadu_si128((const __m128i *)(const void *)(src[0] + i)), nanbits));
        for (int j = 1; j <= p; j++) {
            __m256 x = cvt8(_mm_loadu_si128((const __m128i *)(const void *)(src[j] + i)), nanbits);
            acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(k[j]), x));
        }
        _mm256_storeu_ps(out + i, acc);
    }
    return i;
}

__attribute__((target("avx2"))) static size_t bf16_lincomb_avx2(float *out, const uint16_t *const *src, const float *k,
                                                                int p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int j = 0; j <= p; j++) {
            __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(src[j] + i)));
            __m256 t = _mm256_mul_ps(_mm256_set1_ps(k[j]), _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
            acc = j ? _mm256_add_ps(acc, t) : t;
        }
        _mm256_storeu_ps(out + i, acc);
    }
    return i;
}
#endif

/* elements [i, n) in scalar code, entries converted by cvt */
static void lincomb_tail(float *out, const uint16_t *const *src, const float *k, int p, size_t i, size_t n,
                         float (*cvt)(uint16_t))
{
    for (; i < n; i++) {
        float acc = k[0] * cvt(src[0][i]);
        for (int j = 1; j <= p; j++) acc += k[j] * cvt(src[j][i]);
        out[i] = acc;
    }
}

void hc_half_lincomb(float *out, const uint16_t *const *src, const float *k, int p, size_t n)
{
    size_t i = 0;
#ifdef HC_HALF_X86
    if (hc_half_have_f16c_cached()) i = half_lincomb_f16c(out, src, k, p, n);
#endif
    lincomb_tail(out, src, k, p, i, n, hc_half_to_float);
}

void hc_bf16_lincomb(float *out, const uint16_t *const *src, const float *k, int p, size_t n)
{
    size_t i = 0;
#ifdef HC_HALF_X86
    if (hc_half_have_f16c_cached()) i = bf16_lincomb_avx2(out, src, k, p, n);
#endif
    lincomb_tail(out, src, k, p, i, n, hc_bf16_to_float);
}
