/* test_half.c: float16 -> float32 (half.h) against HDF5's own conversion
 * (H5Tconvert from an IEEE half type to H5T_NATIVE_FLOAT) on all 65,536 bit
 * patterns, for the scalar and the F16C/AVX2 path: bit-identical, NaNs
 * included.  Then the trajectory reader's float16 rows against H5Dread with
 * HDF5's conversion of the same file.  And the forecasts' one-pass linear
 * combinations of 16-bit arrays against converting first. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hdf5.h>

#include "half.h"
#include "testutil.h"
#include "traj.h"

/* IEEE binary16, little-endian, as the trajectory writer and h5py store it */
static hid_t half_type(void)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    H5Tset_precision(t, 16);
    return t;
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* HDF5's conversion of every pattern: ref[h] (float bits) */
static void hdf5_reference(uint32_t *ref)
{
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        memcpy((char *)ref + 2 * i, &h, sizeof h); /* in place: halves first, floats after */
    }
    hid_t t = half_type();
    assert_true(H5Tconvert(t, H5T_NATIVE_FLOAT, 65536, ref, NULL, H5P_DEFAULT) >= 0);
    H5Tclose(t);
}

static void check_all(const char *what, const uint32_t *ref, const float *got)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < 65536; i++)
        if (bits(got[i]) != ref[i] && bad++ == 0) first = i;
    if (bad) {
        print_error("%s: %zu of 65536 patterns differ from HDF5; the first 0x%04zx -> 0x%08x, HDF5 0x%08x\n", what,
                    bad, first, bits(got[first]), ref[first]);
        fail();
    }
}

/* all 65,536 patterns; f16c: the F16C path too (else the scalar and
 * dispatched paths) */
static void all_patterns_with(int f16c)
{
    uint32_t *ref = malloc(65536 * sizeof *ref);
    uint16_t *src = malloc(65536 * sizeof *src);
    float *got = malloc(65536 * sizeof *got);
    assert_non_null(ref);
    assert_non_null(src);
    assert_non_null(got);
    hdf5_reference(ref);
    /* sanity of the reference itself: 1, smallest subnormal, -0, inf, a NaN */
    assert_int_equal(ref[0x3c00], 0x3f800000u);
    assert_int_equal(ref[0x0001], 0x33800000u);
    assert_int_equal(ref[0x8000], 0x80000000u);
    assert_int_equal(ref[0x7c00], 0x7f800000u);
    assert_true(ref[0x7e00] != 0x7f800000u && (ref[0x7e00] & 0x7f800000u) == 0x7f800000u);
    for (uint32_t i = 0; i < 65536; i++) src[i] = (uint16_t)i;

    /* the non-finite flag: the finite halves 0x0000..0x7bff, then all */
    int (*conv)(const uint16_t *, float *, size_t) = f16c ? hc_half_to_float_n_f16c : hc_half_to_float_n_scalar;
    assert_int_equal(conv(src, got, 0x7c00), 0);
    assert_int_equal(conv(src + 0x8000, got, 0x7c00), 0);
    assert_int_equal(conv(src + 0x7c00, got, 1), 1);
    if (f16c) {
        assert_int_equal(hc_half_to_float_n_f16c(src, got, 65536), 1);
        check_all("F16C path", ref, got);
    } else {
        for (size_t i = 0; i < 65536; i++) got[i] = hc_half_to_float(src[i]);
        check_all("hc_half_to_float", ref, got);
        memset(got, 0, 65536 * sizeof *got);
        hc_half_to_float_n_scalar(src, got, 65536);
        check_all("scalar path", ref, got);
        memset(got, 0, 65536 * sizeof *got);
        hc_half_to_float_n(src, got, 65536);
        check_all("dispatched path", ref, got);
    }
    free(ref);
    free(src);
    free(got);
}

static void scalar_all_patterns(void **state)
{
    (void)state;
    all_patterns_with(0);
}

static void f16c_all_patterns(void **state)
{
    (void)state;
    if (!hc_half_have_f16c()) HC_SKIP("this CPU has no F16C/AVX2: only the scalar path is checked");
    all_patterns_with(1);
}

/* Every length 0..40 at every start 0..3: the F16C path's tail handling
 * writes exactly n floats, equal to the scalar path's. */
static void lengths_and_tails(void **state)
{
    (void)state;
    if (!hc_half_have_f16c()) HC_SKIP("this CPU has no F16C/AVX2");
    uint16_t src[48];
    for (int i = 0; i < 48; i++) { /* finite, but a NaN at 5 and an inf at 29 */
        src[i] = (uint16_t)(0x9e37u * (unsigned)(i + 1) ^ 0x7c15u);
        if ((src[i] & 0x7c00) == 0x7c00) src[i] ^= 0x4000;
    }
    src[5] = 0xfe01;
    src[29] = 0x7c00;
    for (size_t off = 0; off < 4; off++)
        for (size_t n = 0; n + off <= 44; n++) {
            float a[48], b[48];
            for (int i = 0; i < 48; i++) a[i] = b[i] = -12345.f;
            int na = hc_half_to_float_n_scalar(src + off, a, n);
            int nb = hc_half_to_float_n_f16c(src + off, b, n);
            assert_memory_equal(a, b, sizeof a);
            int want = 0; /* inf or NaN among the n halves */
            for (size_t i = 0; i < n; i++) want |= (src[off + i] & 0x7c00) == 0x7c00;
            assert_int_equal(na, want);
            assert_int_equal(nb, want);
            for (size_t i = n; i < 48; i++) assert_true(b[i] == -12345.f);
        }
}

/* hc_half_lincomb / hc_bf16_lincomb against converting every array first
 * (the scalar conversions) and combining the floats left to right: the same
 * bits for every non-NaN result, NaN where the reference is NaN.  Orders
 * 0..5, lengths 0..41 from offsets 0..3 (the SIMD body and the scalar
 * tail), all kinds of inputs (subnormals, infs, NaNs) and coefficients of
 * both signs; nothing written past n.  Fails on a wrong order of the
 * additions (the last term added first moves rounding) or a dropped term. */
static void lincomb_matches_convert_then_combine(void **state)
{
    (void)state;
    enum { P = 5, N = 48 };
    uint16_t src[P + 1][N];
    uint32_t r = 12345;
    for (int j = 0; j <= P; j++)
        for (int i = 0; i < N; i++) {
            r = r * 1103515245u + 12345u;
            src[j][i] = (uint16_t)(r >> 16);
            if ((i + j) % 11 != 3) { /* mostly finite, moderate in both formats */
                src[j][i] = (uint16_t)((src[j][i] & 0x83ffu) | 0x3c00u);
            } else { /* specials: NaN/inf/subnormal in one format or both */
                static const uint16_t sp[] = {0xfe01, 0x7c00, 0x7fc0, 0xff80, 0x0003};
                src[j][i] = sp[(i / 11 + (size_t)j) % 5];
            }
        }
    const float k[P + 1] = {1.0f, -0.3333333f, 0.125f, 7.5f, -1e-3f, 3.0e4f};
    long nan_seen = 0, checked = 0;
    for (int bf = 0; bf < 2; bf++)
        for (int p = 0; p <= P; p++)
            for (size_t off = 0; off < 4; off++)
                for (size_t n = 0; n + off <= 44; n++) {
                    const uint16_t *S[P + 1];
                    for (int j = 0; j <= p; j++) S[j] = src[j] + off;
                    float got[N];
                    for (int i = 0; i < N; i++) got[i] = -12345.f;
                    if (bf) hc_bf16_lincomb(got, S, k, p, n);
                    else hc_half_lincomb(got, S, k, p, n);
                    for (size_t i = 0; i < n; i++) {
                        float x[P + 1];
                        for (int j = 0; j <= p; j++)
                            x[j] = bf ? hc_bf16_to_float(S[j][i]) : hc_half_to_float(S[j][i]);
                        float want = k[0] * x[0];
                        for (int j = 1; j <= p; j++) want += k[j] * x[j];
                        if (isnan(want)) {
                            assert_true(isnan(got[i]));
                            nan_seen++;
                        } else {
                            assert_memory_equal(&got[i], &want, sizeof want);
                        }
                        checked++;
                    }
                    for (size_t i = n; i < N; i++) assert_true(got[i] == -12345.f);
                }
    print_message("%ld of %ld results NaN\n", nan_seen, checked);
    assert_true(nan_seen > 0 && nan_seen < checked / 2);
}

/* A float16 trajectory (odd row length, every finite half sign and
 * magnitude class) read through hc_traj_read_row equals H5Dread with HDF5's
 * conversion, bit for bit. */
static void traj_rows_match_hdf5(void **state)
{
    (void)state;
    enum { S = 3, T = 7, D = 37 };
    const char *path = "half_traj.h5";
    remove(path);
    hc_traj_meta m = {0};
    snprintf(m.model, sizeof m.model, "unit");
    snprintf(m.sampler, sizeof m.sampler, "euler");
    m.num_steps = S;
    hc_traj_write_opts o = {HC_F16, 4};
    hc_traj_writer *w;
    assert_int_equal(hc_traj_writer_open(path, &m, &o, NULL, &w), HC_OK);
    int h;
    assert_int_equal(hc_traj_writer_add_feature(w, "double", 0, "img_attn", "img", T, D, &h), HC_OK);
    static float row[T * D];
    uint32_t pat = 1;
    for (int s = 0; s < S; s++) {
        for (int i = 0; i < T * D; i++) { /* finite halves: exponent field != 31 */
            pat = pat * 1103515245u + 12345u;
            uint16_t hb = (uint16_t)(pat >> 16);
            if ((hb & 0x7c00u) == 0x7c00u) hb ^= 0x4000u;
            row[i] = hc_half_to_float(hb);
        }
        assert_int_equal(hc_traj_writer_put_time(w, s, 1.0 - s / (double)S), HC_OK);
        assert_int_equal(hc_traj_writer_put(w, h, s, row), HC_OK);
    }
    assert_int_equal(hc_traj_writer_finish(w), HC_OK);

    static float want[S][T * D], got[T * D];
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "/features/double/0/img_attn", H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, want) >= 0);
    H5Dclose(d);
    H5Fclose(f);

    hc_traj *t;
    assert_int_equal(hc_traj_open(path, &t), HC_OK);
    long idx = hc_traj_find(t, HC_ENTRY_FEATURE, "double/0/img_attn");
    assert_true(idx >= 0);
    assert_int_equal(hc_traj_entry_at(t, (size_t)idx)->dtype, HC_F16);
    for (int s = S - 1; s >= 0; s--) {
        assert_int_equal(hc_traj_read_row(t, (size_t)idx, s, got), HC_OK);
        assert_memory_equal(got, want[s], sizeof got);
    }
    hc_traj_close(t);
    remove(path);
}

/* Non-finite values in float16 rows: refused by default, zeroed and counted
 * under the zero policy (the raw-half path flags them before converting). */
static void traj_nonfinite_halves(void **state)
{
    (void)state;
    enum { S = 2, T = 3, D = 21 };
    const char *path = "half_nonfinite.h5";
    remove(path);
    hc_traj_meta m = {0};
    snprintf(m.model, sizeof m.model, "unit");
    snprintf(m.sampler, sizeof m.sampler, "euler");
    m.num_steps = S;
    hc_traj_write_opts o = {HC_F16, 0};
    hc_traj_writer *w;
    assert_int_equal(hc_traj_writer_open(path, &m, &o, NULL, &w), HC_OK);
    int h;
    assert_int_equal(hc_traj_writer_add_feature(w, "double", 0, "img_attn", "img", T, D, &h), HC_OK);
    float row[T * D];
    for (int s = 0; s < S; s++) {
        for (int i = 0; i < T * D; i++) row[i] = 0.25f * (float)(i - 30);
        if (s == 1) { /* one NaN in the vector body, one inf in the tail */
            row[3] = NAN;
            row[T * D - 2] = -INFINITY;
        }
        assert_int_equal(hc_traj_writer_put_time(w, s, 1.0 - s / (double)S), HC_OK);
        assert_int_equal(hc_traj_writer_put(w, h, s, row), HC_OK);
    }
    assert_int_equal(hc_traj_writer_finish(w), HC_OK);
    hc_traj *t;
    float got[T * D];
    size_t bad = 99;
    assert_int_equal(hc_traj_open(path, &t), HC_OK);
    assert_int_equal(hc_traj_read_row_counted(t, 0, 0, got, &bad), HC_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(hc_traj_read_row(t, 0, 1, got), HC_EFORMAT);
    hc_traj_close(t);
    hc_traj_open_opts oz = {HC_NONFINITE_ZERO};
    assert_int_equal(hc_traj_open_with(path, &oz, &t), HC_OK);
    assert_int_equal(hc_traj_read_row_counted(t, 0, 1, got, &bad), HC_OK);
    assert_int_equal(bad, 2);
    for (int i = 0; i < T * D; i++)
        assert_true(got[i] == (i == 3 || i == T * D - 2 ? 0.0f : 0.25f * (float)(i - 30)));
    hc_traj_close(t);
    remove(path);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scalar_all_patterns),
        cmocka_unit_test(f16c_all_patterns),
        cmocka_unit_test(lengths_and_tails),
        cmocka_unit_test(lincomb_matches_convert_then_combine),
        cmocka_unit_test(traj_rows_match_hdf5),
        cmocka_unit_test(traj_nonfinite_halves),
    };
    return HC_RUN_TESTS(tests, NULL, NULL);
}
