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

#endif
