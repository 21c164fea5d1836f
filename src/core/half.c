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
