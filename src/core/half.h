/* half.h: IEEE binary16 (float16) to float32, bit for bit what HDF5 1.10's
 * own conversion gives (H5Tconvert from an IEEE half type to
 * H5T_NATIVE_FLOAT; tests/test_half.c checks all 65,536 bit patterns):
 * every finite half and +-inf converts exactly (subnormals included); a NaN
 * keeps its sign and gets all exponent and mantissa bits set (0x7fffffff or
 * 0xffffffff), as HDF5 does, whatever its payload.
 *
 * hc_half_to_float_n picks at run time the F16C/AVX2 path when the CPU has
 * it, else the scalar one; both give identical bits. */
#ifndef HC_HALF_H
#define HC_HALF_H

#include <stddef.h>
#include <stdint.h>

/* One half (its 16 bits, host order) to float. */
float hc_half_to_float(uint16_t h);

/* dst[i] = hc_half_to_float(src[i]) for i < n.  src: n halves (host order),
 * dst: n float32; they must not overlap.  Returns 1 when some src[i] is inf
 * or NaN (its float is then not finite), else 0: a caller checking rows for
 * non-finite values need not scan dst when it is 0. */
int hc_half_to_float_n(const uint16_t *src, float *dst, size_t n);

/* The two paths of hc_half_to_float_n, for tests and benchmarks.
 * hc_half_to_float_n_f16c may be called only when hc_half_have_f16c(). */
int hc_half_to_float_n_scalar(const uint16_t *src, float *dst, size_t n);
int hc_half_to_float_n_f16c(const uint16_t *src, float *dst, size_t n);
/* 1 when this CPU runs F16C and AVX2 instructions. */
int hc_half_have_f16c(void);
/* The same, checked once per process (CPUID may trap to a hypervisor). */
int hc_half_have_f16c_cached(void);

/* ---- float32 -> 16 bits (the predictors' half-size caches) ----------------
 * float -> binary16 rounds to nearest, ties to even (what F16C's VCVTPS2PH
 * does with imm8 = 0): |x| >= 65520 gives +-inf, tiny values give
 * subnormals or +-0; a NaN keeps its sign and the top 9 bits of its payload
 * and becomes quiet (sign | 0x7e00 | payload >> 13).  The scalar and F16C
 * paths give identical bits (tests/test_half.c). */
uint16_t hc_float_to_half(float f);
void hc_float_to_half_n(const float *src, uint16_t *dst, size_t n);
void hc_float_to_half_n_scalar(const float *src, uint16_t *dst, size_t n);
void hc_float_to_half_n_f16c(const float *src, uint16_t *dst, size_t n); /* only if hc_half_have_f16c() */

/* bfloat16: the top 16 bits of a float32.  float -> bf16 rounds to nearest,
 * ties to even (overflow gives +-inf); a NaN keeps its sign and top payload
 * bits and becomes quiet (bit 6 set), so it stays a NaN.  bf16 -> float is
 * exact (a shift). */
uint16_t hc_float_to_bf16(float f);
float hc_bf16_to_float(uint16_t b);
void hc_float_to_bf16_n(const float *src, uint16_t *dst, size_t n);
void hc_bf16_to_float_n(const uint16_t *src, float *dst, size_t n);

/* ---- forecasts straight from 16-bit caches ----------------------------------
 * out[i] = k[0] x_0[i] + k[1] x_1[i] + ... + k[p] x_p[i] for i < n, where
 * x_j[i] is the float of src[j][i] (hc_half_to_float / hc_bf16_to_float):
 * products and sums in float32, left to right, no FMA -- the bits of
 * converting every src[j] first and combining the floats in that order
 * (NaN payloads aside).  One pass, no buffers; F16C/AVX2 (binary16) or AVX2
 * (bfloat16) when the CPU has it.  src: p+1 arrays of n entries, out: n
 * floats, not overlapping them; 0 <= p. */
void hc_half_lincomb(float *out, const uint16_t *const *src, const float *k, int p, size_t n);
void hc_bf16_lincomb(float *out, const uint16_t *const *src, const float *k, int p, size_t n);

#endif
