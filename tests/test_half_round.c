/* test_half_round.c: float32 -> binary16 and bfloat16, rounding to nearest
 * even (half.h), against references built from the definition:
 *   - every one of the 65,536 halves (and bfloat16s) converts to float and
 *     back to itself (NaNs: to the quiet NaN of the same sign and payload);
 *   - every midpoint between two neighbouring finite values (computed
 *     exactly in float) rounds to the even one of the two, and the floats
 *     just below and above it round down and up; the midpoint above the
 *     largest finite value rounds to infinity;
 *   - known values (numpy.float16 / torch.bfloat16 bit patterns);
 *   - the F16C path equals the scalar path bit for bit on 4 million
 *     patterns (all exponents and signs, mantissas at and around every
 *     rounding boundary, NaNs, subnormals) and at every length and offset. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "half.h"
#include "testutil.h"

static float fbits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

typedef uint16_t (*to16_fn)(float);
typedef float (*from16_fn)(uint16_t);

static uint16_t half_f16c_one(float f)
{
    uint16_t h;
    hc_float_to_half_n_f16c(&f, &h, 1);
    return h;
}

static uint16_t half_dispatch_one(float f)
{
    uint16_t h;
    hc_float_to_half_n(&f, &h, 1);
    return h;
}

static uint16_t bf16_n_one(float f)
{
    uint16_t h;
    hc_float_to_bf16_n(&f, &h, 1);
    return h;
}

/* exp_mask: the all-ones exponent field of the 16-bit format; quiet: its
 * quiet-NaN bit */
static void round_trip(const char *what, to16_fn to, from16_fn from, uint16_t exp_mask, uint16_t quiet)
{
    size_t bad = 0;
    unsigned first = 0;
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        int nan = (h & exp_mask) == exp_mask && (h & (uint16_t)~(exp_mask | 0x8000u));
        uint16_t want = h;
        if (nan) { /* the float of a half NaN has all mantissa bits set (half.h); a bf16 NaN its own */
            float f = from(h);
            assert_true(isnan(f));
            want = to(f);
            assert_true((want & exp_mask) == exp_mask && (want & quiet) && (want & 0x8000u) == (h & 0x8000u));
            continue;
        }
        if (to(from(h)) != want && bad++ == 0) first = i;
    }
    if (bad) {
        print_error("%s: %zu halves do not round-trip; the first 0x%04x -> 0x%04x\n", what, bad, first,
                    to(from((uint16_t)first)));
        fail();
    }
}

/* every midpoint of neighbouring finite values a < b (both signs): ties to
 * even, one float below it rounds to a, one above to b; the step above the
 * largest finite value is to infinity (whose "value" 2^16 or 2^128 is
 * written by `top`) */
static void midpoints(const char *what, to16_fn to, from16_fn from, uint16_t inf, double top)
{
    for (uint32_t i = 0; i < inf; i++) {
        uint16_t a = (uint16_t)i, b = (uint16_t)(i + 1);
        double fa = from(a), fb = b == inf ? top : from(b);
        float mid = (float)((fa + fb) / 2); /* exact: one bit more than the format's */
        assert_true((double)mid == (fa + fb) / 2);
        for (int s = 0; s < 2; s++) {
            uint16_t sg = s ? 0x8000u : 0;
            float m = s ? -mid : mid;
            uint16_t even = (a & 1u) ? b : a;
            uint16_t lo = (uint16_t)(a | sg), hi = (uint16_t)(b | sg), ev = (uint16_t)(even | sg);
            uint16_t got = to(m), below = to(nextafterf(m, 0.0f)), above = to(nextafterf(m, s ? -INFINITY : INFINITY));
            if (got != ev || below != lo || above != hi) {
                print_error("%s: midpoint of 0x%04x and 0x%04x (%.9g): 0x%04x (want 0x%04x), below 0x%04x (want "
                            "0x%04x), above 0x%04x (want 0x%04x)\n", what, lo, hi, (double)m, got, ev, below, lo,
                            above, hi);
                fail();
            }
        }
    }
}

static void half_exhaustive(void **state)
{
    (void)state;
    round_trip("scalar", hc_float_to_half, hc_half_to_float, 0x7c00, 0x0200);
    round_trip("dispatched", half_dispatch_one, hc_half_to_float, 0x7c00, 0x0200);
    midpoints("scalar", hc_float_to_half, hc_half_to_float, 0x7c00, 65536.0);
    midpoints("dispatched", half_dispatch_one, hc_half_to_float, 0x7c00, 65536.0);
    if (hc_half_have_f16c()) {
        round_trip("F16C", half_f16c_one, hc_half_to_float, 0x7c00, 0x0200);
        midpoints("F16C", half_f16c_one, hc_half_to_float, 0x7c00, 65536.0);
    }
}

static void bf16_exhaustive(void **state)
{
    (void)state;
    round_trip("bf16", hc_float_to_bf16, hc_bf16_to_float, 0x7f80, 0x0040);
    round_trip("bf16 n", bf16_n_one, hc_bf16_to_float, 0x7f80, 0x0040);
    midpoints("bf16", hc_float_to_bf16, hc_bf16_to_float, 0x7f80, ldexp(1.0, 128));
    /* the bf16 -> float conversion is the shift, for every pattern */
    uint16_t src[256];
    float dst[256];
    for (uint32_t i = 0; i < 65536; i += 256) {
        for (int j = 0; j < 256; j++) src[j] = (uint16_t)(i + (uint32_t)j);
        hc_bf16_to_float_n(src, dst, 256);
        for (int j = 0; j < 256; j++) assert_int_equal(bits(dst[j]), (uint32_t)src[j] << 16);
    }
}

/* bit patterns from numpy 1.24 (np.float16(np.float32(x)).view(np.uint16))
 * and torch 1.13 (torch.tensor(x).bfloat16().view(torch.int16)), typed in.
 * NaNs are ours: torch makes every NaN one canonical pattern, this code
 * keeps sign and payload (quieted), like F16C does for halves. */
static void known_values(void **state)
{
    (void)state;
    static const struct { float x; uint16_t h, b; } k[] = {
        {1.0f, 0x3c00, 0x3f80},       {-2.0f, 0xc000, 0xc000},     {0.1f, 0x2e66, 0x3dcd},
        {65504.0f, 0x7bff, 0x4780},   {65519.0f, 0x7bff, 0x4780},  {65520.0f, 0x7c00, 0x4780},
        {1e-8f, 0x0000, 0x322c},      {5.9604645e-08f, 0x0001, 0x3380}, {3.0e-08f, 0x0001, 0x3301},
        {6.1035156e-05f, 0x0400, 0x3880}, {3.14159265f, 0x4248, 0x4049}, {1e30f, 0x7c00, 0x714a},
        {-0.0f, 0x8000, 0x8000},      {INFINITY, 0x7c00, 0x7f80},  {-INFINITY, 0xfc00, 0xff80},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (hc_float_to_half(k[i].x) != k[i].h || hc_float_to_bf16(k[i].x) != k[i].b) {
            print_error("%.9g: half 0x%04x (want 0x%04x), bf16 0x%04x (want 0x%04x)\n", (double)k[i].x,
                        hc_float_to_half(k[i].x), k[i].h, hc_float_to_bf16(k[i].x), k[i].b);
            fail();
        }
    }
    /* NaNs stay NaNs, quiet, sign and top payload kept */
    assert_int_equal(hc_float_to_half(fbits(0x7f800001u)), 0x7e00);
    assert_int_equal(hc_float_to_half(fbits(0xffc02000u)), 0xfe01);
    assert_int_equal(hc_float_to_bf16(fbits(0x7f800001u)), 0x7fc0);
    assert_int_equal(hc_float_to_bf16(fbits(0xff810000u)), 0xffc1);
    assert_int_equal(hc_float_to_bf16(fbits(0x7f7fffffu)), 0x7f80); /* FLT_MAX rounds up to inf */
}

/* the patterns of the F16C comparison: every sign and exponent, with
 * mantissas at and around the rounding boundaries of the 13 dropped bits
 * (and of subnormal results) plus pseudo-random ones */
static size_t make_patterns(uint32_t *p)
{
    static const uint32_t low[] = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x0800, 0x17ff};
    size_t n = 0;
    uint32_t r = 12345;
    for (uint32_t hi = 0; hi < (1u << 19); hi++) { /* sign, exponent, top 10 mantissa bits */
        for (size_t j = 0; j < sizeof low / sizeof low[0]; j++) p[n++] = hi << 13 | low[j];
        r = r * 1103515245u + 12345u;
        p[n++] = hi << 13 | (r >> 19);
    }
    return n;
}

static void f16c_equals_scalar(void **state)
{
    (void)state;
    if (!hc_half_have_f16c()) HC_SKIP("this CPU has no F16C/AVX2: only the scalar path is checked");
    uint32_t *pat = malloc((size_t)(1u << 19) * 9 * sizeof *pat);
    assert_non_null(pat);
    size_t n = make_patterns(pat);
    float *f = malloc(n * sizeof *f);
    uint16_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    assert_true(f && a && b);
    for (size_t i = 0; i < n; i++) f[i] = fbits(pat[i]);
    hc_float_to_half_n_scalar(f, a, n);
    hc_float_to_half_n_f16c(f, b, n);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i] && bad++ == 0) first = i;
    if (bad) {
        print_error("%zu of %zu floats differ; the first 0x%08x: scalar 0x%04x, F16C 0x%04x\n", bad, n, pat[first],
                    a[first], b[first]);
        fail();
    }
    /* every length 0..40 at offsets 0..3: exactly n halves written */
    for (size_t off = 0; off < 4; off++)
        for (size_t len = 0; len <= 40; len++) {
            uint16_t x[48], y[48];
            for (int i = 0; i < 48; i++) x[i] = y[i] = 0xabcd;
            hc_float_to_half_n_scalar(f + 1000 + off, x, len);
            hc_float_to_half_n_f16c(f + 1000 + off, y, len);
            assert_memory_equal(x, y, sizeof x);
            for (size_t i = len; i < 48; i++) assert_int_equal(y[i], 0xabcd);
        }
    free(pat);
    free(f);
    free(a);
    free(b);
}

/* the vectorised bfloat16 paths (AVX2 when the CPU has it) equal the scalar
 * conversion on the same 4.7M patterns and at every length and offset */
static void bf16_n_equals_scalar(void **state)
{
    (void)state;
    uint32_t *pat = malloc((size_t)(1u << 19) * 9 * sizeof *pat);
    assert_non_null(pat);
    size_t n = make_patterns(pat);
    float *f = malloc(n * sizeof *f), *g = malloc(n * sizeof *g);
    uint16_t *b = malloc(n * sizeof *b);
    assert_true(f && g && b);
    for (size_t i = 0; i < n; i++) f[i] = fbits(pat[i]);
    hc_float_to_bf16_n(f, b, n);
    hc_bf16_to_float_n(b, g, n);
    for (size_t i = 0; i < n; i++)
        if (b[i] != hc_float_to_bf16(f[i]) || bits(g[i]) != (uint32_t)b[i] << 16)
            fail_msg("0x%08x: bf16 0x%04x (scalar 0x%04x), back 0x%08x", pat[i], b[i], hc_float_to_bf16(f[i]), bits(g[i]));
    for (size_t off = 0; off < 4; off++)
        for (size_t len = 0; len <= 40; len++) {
            uint16_t y[48];
            float z[48];
            for (int i = 0; i < 48; i++) {
                y[i] = 0xabcd;
                z[i] = -7.0f;
            }
            hc_float_to_bf16_n(f + 1000 + off, y, len);
            hc_bf16_to_float_n(b + 1000 + off, z, len);
            for (size_t i = 0; i < 48; i++) {
                assert_int_equal(y[i], i < len ? hc_float_to_bf16(f[1000 + off + i]) : 0xabcd);
                assert_true(i < len ? bits(z[i]) == (uint32_t)b[1000 + off + i] << 16 : z[i] == -7.0f);
            }
        }
    free(pat);
    free(f);
    free(g);
    free(b);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(half_exhaustive),
        cmocka_unit_test(bf16_exhaustive),
        cmocka_unit_test(known_values),
        cmocka_unit_test(f16c_equals_scalar),
        cmocka_unit_test(bf16_n_equals_scalar),
    };
    return HC_RUN_TESTS(tests, NULL, NULL);
}
