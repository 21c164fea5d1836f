/* test_traj_integrity.c: files that are damaged in ways the schema checks
 * alone do not see: steps never written, a flipped byte under a Fletcher-32
 * checksum, a filter this HDF5 cannot decode, non-finite values.  Fixtures
 * are made here with the HDF5 C API (independent of hicache's writer) or
 * with hicache's writer and then damaged. */
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
#include <hdf5_hl.h>

#include "traj.h"

enum { S = 5, T = 3, D = 4 };

/* A schema-v1 file with one feature dataset /features/dit/0/attn [S, T, D]
 * chunked [1, T, D], optionally through filter `filter` (0: none), with the
 * steps where written[s] != 0 written (1.0 everywhere). */
static void make_file(const char *path, const int *written, H5Z_filter_t filter)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    long long one = 1, steps = S;
    H5LTset_attribute_string(f, "/", "schema", "hicache-trajectory");
    H5LTset_attribute_long_long(f, "/", "schema_version", &one, 1);
    H5LTset_attribute_string(f, "/", "model", "c-fixture");
    H5LTset_attribute_string(f, "/", "sampler", "euler");
    H5LTset_attribute_long_long(f, "/", "num_steps", &steps, 1);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    double t[S];
    for (int s = 0; s < S; s++) t[s] = 1.0 - s / (double)S;
    hsize_t ns = S;
    hid_t sp = H5Screate_simple(1, &ns, NULL);
    hid_t dt = H5Dcreate2(f, "/steps/t", H5T_IEEE_F64LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(dt, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t) >= 0);
    H5Dclose(dt);
    H5Sclose(sp);
    hsize_t dims[3] = {S, T, D}, chunk[3] = {1, T, D}, start[3] = {0, 0, 0};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 3, chunk);
    if (filter) assert_true(H5Pset_filter(dcpl, filter, H5Z_FLAG_MANDATORY, 0, NULL) >= 0);
    hid_t fs = H5Screate_simple(3, dims, NULL);
    hid_t ms = H5Screate_simple(3, chunk, NULL);
    hid_t d = H5Dcreate2(f, "/features/dit/0/attn", H5T_IEEE_F32LE, fs, lcpl, dcpl, H5P_DEFAULT);
    assert_true(d >= 0);
    float row[T * D];
    for (int i = 0; i < T * D; i++) row[i] = 1.0f;
    for (int s = 0; s < S; s++) {
        if (!written[s]) continue;
        start[0] = (hsize_t)s;
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, chunk, NULL);
        assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, row) >= 0);
    }
    H5Dclose(d);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    assert_true(H5Fclose(f) >= 0);
}

static void expect_open_fails(const char *path, hc_status want, const char *expect)
{
    hc_traj *t = (hc_traj *)0x1;
    hc_errclear();
    hc_status st = hc_traj_open(path, &t);
    if (st != want || !strstr(hc_errmsg(), expect) || !strstr(hc_errmsg(), path))
        fail_msg("%s: got status %d message '%s'; want %d containing '%s'", path, st, hc_errmsg(), want, expect);
    assert_null(t);
    assert_null(strchr(hc_errmsg(), '\n'));
}

/* Chunks written for some steps only: refused at open, naming the steps
 * (HDF5 1.10 answers -1 when asked to count chunks over H5S_ALL, and this
 * file used to pass as complete, its missing steps reading as 0). */
static void partially_written(void **state)
{
    (void)state;
    static const int some[S] = {1, 1, 0, 1, 0}, all[S] = {1, 1, 1, 1, 1}, last[S] = {1, 1, 1, 1, 0};
    make_file("partial.h5", some, 0);
    expect_open_fails("partial.h5", HC_EFORMAT, "/features/dit/0/attn: steps never written: 2, 4 (2 of 5 chunks missing");
    make_file("partial_last.h5", last, 0);
    expect_open_fails("partial_last.h5", HC_EFORMAT, "steps never written: 4 (1 of 5 chunks missing");
    make_file("whole.h5", all, 0);
    hc_traj *t;
    assert_int_equal(hc_traj_open("whole.h5", &t), HC_OK);
    float row[T * D];
    for (int s = 0; s < S; s++) {
        assert_int_equal(hc_traj_read_row(t, 0, s, row), HC_OK);
        assert_true(row[0] == 1.0f && row[T * D - 1] == 1.0f);
    }
    hc_traj_close(t);
    remove("partial.h5");
    remove("partial_last.h5");
    remove("whole.h5");
}

/* A filter passing bytes through, registered only while the file is made. */
#define FAKE_FILTER 32123
static size_t passthrough(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                          size_t *buf_size, void **buf)
{
    (void)flags, (void)cd_nelmts, (void)cd_values, (void)buf_size, (void)buf;
    return nbytes;
}

/* A file that needs a filter this HDF5 lacks (a plugin from another tool):
 * refused at open naming the filter and the dataset, not "truncated or
 * corrupt" at the first read. */
static void unavailable_filter(void **state)
{
    (void)state;
    const H5Z_class2_t cls = {H5Z_CLASS_T_VERS, FAKE_FILTER, 1, 1, "fake-plugin", NULL, NULL, passthrough};
    assert_true(H5Zregister(&cls) >= 0);
    static const int all[S] = {1, 1, 1, 1, 1};
    make_file("needs_filter.h5", all, FAKE_FILTER);
    hc_traj *t;
    assert_int_equal(hc_traj_open("needs_filter.h5", &t), HC_OK); /* readable while it is registered */
    hc_traj_close(t);
    assert_true(H5Zunregister(FAKE_FILTER) >= 0);
    expect_open_fails("needs_filter.h5", HC_EUNSUP, "dataset /features/dit/0/attn needs HDF5 filter 32123 (fake-plugin)");
    remove("needs_filter.h5");
}

/* A small file from hicache's writer: features [S, T, D] with value s + i,
 * times 1 - s/S; bad_row/bad_time (-1: none) hold NaN/Inf. */
static void write_traj(const char *path, int deflate, int bad_row, int bad_time)
{
    hc_traj_meta m = {0};
    snprintf(m.model, sizeof m.model, "unit");
    snprintf(m.sampler, sizeof m.sampler, "euler");
    m.num_steps = S;
    hc_traj_write_opts o = {HC_F32, deflate};
    hc_traj_writer *w;
    assert_int_equal(hc_traj_writer_open(path, &m, &o, NULL, &w), HC_OK);
    int h;
    assert_int_equal(hc_traj_writer_add_feature(w, "dit", 0, "attn", NULL, T, D, &h), HC_OK);
    for (int s = 0; s < S; s++) {
        float row[T * D];
        for (int i = 0; i < T * D; i++) row[i] = (float)(s + i);
        if (s == bad_row) {
            row[1] = NAN;
            row[5] = INFINITY;
            row[7] = -INFINITY;
        }
        assert_int_equal(hc_traj_writer_put(w, h, s, row), HC_OK);
        assert_int_equal(hc_traj_writer_put_time(w, s, s == bad_time ? NAN : 1.0 - s / (double)S), HC_OK);
    }
    assert_int_equal(hc_traj_writer_finish(w), HC_OK);
}

/* The byte offset in the file of the chunk of `row` of dataset `name`. */
static long chunk_offset(const char *path, const char *name, int row, hsize_t *size)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hsize_t off[3] = {(hsize_t)row, 0, 0};
    unsigned mask = 0;
    haddr_t addr = HADDR_UNDEF;
    assert_true(H5Dget_chunk_info_by_coord(d, off, &mask, &addr, size) >= 0);
    assert_true(addr != HADDR_UNDEF);
    H5Dclose(d);
    H5Fclose(f);
    return (long)addr;
}

static void flip_byte(const char *path, long at)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_int_equal(fseek(fp, at, SEEK_SET), 0);
    fputc(c ^ 0x10, fp);
    fclose(fp);
}

/* One flipped bit in a chunk's data: the read of that step fails naming the
 * file, the dataset and the step; the other steps read.  Without the
 * checksum the damaged value would be read as data. */
static void checksum_catches_flipped_byte(void **state)
{
    (void)state;
    for (int deflate = 0; deflate <= 4; deflate += 4) {
        write_traj("flip.h5", deflate, -1, -1);
        hsize_t size = 0;
        long at = chunk_offset("flip.h5", "/features/dit/0/attn", 3, &size);
        flip_byte("flip.h5", at + (long)size / 2);
        hc_traj *t;
        assert_int_equal(hc_traj_open("flip.h5", &t), HC_OK);
        float row[T * D];
        assert_int_equal(hc_traj_read_row(t, 0, 2, row), HC_OK);
        assert_true(row[0] == 2.0f);
        hc_errclear();
        assert_int_equal(hc_traj_read_row(t, 0, 3, row), HC_EFORMAT);
        const char *msg = hc_errmsg();
        if (!strstr(msg, "flip.h5: dataset /features/dit/0/attn, step 3: Fletcher-32 checksum mismatch"))
            fail_msg("deflate %d: message '%s'", deflate, msg);
        assert_null(strchr(msg, '\n'));
        assert_int_equal(hc_traj_read_row(t, 0, 4, row), HC_OK);
        hc_traj_close(t);
    }
    /* the step times are checked at open */
    write_traj("flip.h5", 0, -1, -1);
    hsize_t size = 0;
    long at = chunk_offset("flip.h5", "/steps/t", 0, &size);
    flip_byte("flip.h5", at + 3);
    expect_open_fails("flip.h5", HC_EFORMAT, "dataset /steps/t: Fletcher-32 checksum mismatch");
    remove("flip.h5");
}

/* NaN and Inf: refused by default naming the file, the dataset, the step
 * and the count; under zero and skip set to 0 and counted. */
static void nonfinite_policy(void **state)
{
    (void)state;
    write_traj("nan_row.h5", 0, 3, -1);
    hc_traj *t;
    assert_int_equal(hc_traj_open("nan_row.h5", &t), HC_OK);
    float row[T * D];
    assert_int_equal(hc_traj_read_row(t, 0, 2, row), HC_OK);
    hc_errclear();
    assert_int_equal(hc_traj_read_row(t, 0, 3, row), HC_EFORMAT);
    assert_non_null(strstr(hc_errmsg(), "nan_row.h5: dit/0/attn step 3: 3 of 12 values are not finite"));
    assert_non_null(strstr(hc_errmsg(), "dataset /features/dit/0/attn"));
    hc_traj_close(t);
    for (int p = HC_NONFINITE_ZERO; p <= HC_NONFINITE_SKIP; p++) {
        hc_traj_open_opts o = {(hc_traj_nonfinite)p};
        assert_int_equal(hc_traj_open_with("nan_row.h5", &o, &t), HC_OK);
        size_t bad = 99;
        assert_int_equal(hc_traj_read_row_counted(t, 0, 3, row, &bad), HC_OK);
        assert_int_equal(bad, 3);
        for (int i = 0; i < T * D; i++) assert_true(row[i] == (i == 1 || i == 5 || i == 7 ? 0.0f : (float)(3 + i)));
        assert_int_equal(hc_traj_read_row_counted(t, 0, 2, row, &bad), HC_OK);
        assert_int_equal(bad, 0);
        hc_traj_close(t);
    }
    write_traj("nan_time.h5", 0, -1, 2);
    expect_open_fails("nan_time.h5", HC_EFORMAT, "dataset /steps/t: 1 of 5 step times are not finite (NaN or Inf), the first at step 2");
    hc_traj_open_opts z = {HC_NONFINITE_ZERO};
    assert_int_equal(hc_traj_open_with("nan_time.h5", &z, &t), HC_OK);
    assert_int_equal(hc_traj_get_meta(t)->nonfinite_times, 1);
    assert_true(hc_traj_times(t)[2] == 0.0 && hc_traj_times(t)[1] == 0.8);
    hc_traj_close(t);
    hc_traj_nonfinite p;
    assert_int_equal(hc_traj_nonfinite_parse("skip", &p), HC_OK);
    assert_int_equal(p, HC_NONFINITE_SKIP);
    assert_int_equal(hc_traj_nonfinite_parse("ignore", &p), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "valid: refuse, zero, skip"));
    remove("nan_row.h5");
    remove("nan_time.h5");
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(partially_written),
        cmocka_unit_test(unavailable_filter),
        cmocka_unit_test(checksum_catches_flipped_byte),
        cmocka_unit_test(nonfinite_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
