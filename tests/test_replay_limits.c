/* test_replay_limits.c: replay's guards on what a file declares and holds:
 * the memory a file needs is checked against a limit before anything is
 * allocated, and NaN/Inf in the data follow an explicit policy (refuse,
 * zero, skip) that every output reports. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include "replay.h"

/* A file small on disk that declares a large feature: [10, 20000, 5000]
 * float32 (400 MB a step), all zeros, chunks of 1000 tokens deflated, made
 * with the HDF5 C API (the chunks are allocated and filled at creation). */
static void make_big(const char *path)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    long long one = 1, steps = 10;
    H5LTset_attribute_string(f, "/", "schema", "hicache-trajectory");
    H5LTset_attribute_long_long(f, "/", "schema_version", &one, 1);
    H5LTset_attribute_string(f, "/", "model", "big");
    H5LTset_attribute_string(f, "/", "sampler", "euler");
    H5LTset_attribute_long_long(f, "/", "num_steps", &steps, 1);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    double t[10];
    for (int s = 0; s < 10; s++) t[s] = 1 - s / 10.0;
    hsize_t ns = 10;
    hid_t sp = H5Screate_simple(1, &ns, NULL);
    hid_t dt = H5Dcreate2(f, "/steps/t", H5T_IEEE_F64LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(dt, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t) >= 0);
    H5Dclose(dt);
    H5Sclose(sp);
    hsize_t dims[3] = {10, 20000, 5000}, chunk[3] = {1, 1000, 5000};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 3, chunk);
    H5Pset_deflate(dcpl, 9);
    float zero = 0;
    H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &zero);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
    hid_t fs = H5Screate_simple(3, dims, NULL);
    hid_t d = H5Dcreate2(f, "/features/dit/0/attn", H5T_IEEE_F32LE, fs, lcpl, dcpl, H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dclose(d);
    H5Sclose(fs);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    assert_true(H5Fclose(f) >= 0);
}

static hc_status run_replay(const char *file, const char *spec, hc_traj_nonfinite nf, size_t max_memory,
                            const char *dir, cJSON **sum)
{
    static hc_method m[2];
    assert_int_equal(hc_method_parse(spec, &m[0]), HC_OK);
    const char *files[] = {file};
    hc_replay_opts o = {.files = files, .n_files = 1, .methods = m, .n_methods = 1, .out_dir = dir, .quiet = 1,
                        .nonfinite = nf, .max_memory = max_memory};
    return hc_replay_run(&o, sum);
}

/* The [10, 20000, 5000] file (a few MB on disk) is refused in moments,
 * before 1.6 GB of step buffers and caches are allocated, with one line
 * naming the file, the module, its shape and what was too big. */
static void big_declared_shape_refused(void **state)
{
    (void)state;
    make_big("big.h5");
    FILE *fp = fopen("big.h5", "rb");
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fclose(fp);
    assert_true(size < 8L << 20); /* small on disk */
    clock_t c0 = clock();
    hc_errclear();
    assert_int_equal(run_replay("big.h5", "taylor:O=2", HC_NONFINITE_REFUSE, (size_t)1 << 30, "big_out", NULL), HC_ENOMEM);
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    const char *msg = hc_errmsg();
    if (!strstr(msg, "big.h5: module dit/0/attn [10, 20000, 5000] needs about") ||
        !strstr(msg, "step buffers 1.1 GiB") || !strstr(msg, "over the memory limit of 1.0 GiB (--max-memory)"))
        fail_msg("message: %s", msg);
    assert_null(strchr(msg, '\n'));
    assert_true(secs < 5.0); /* nothing was read or allocated */
    /* the estimate: three step buffers of 400 MB (the read queue's two rows,
     * one method's forecast), and a 2nd-order cache (3
     * orders of 400 MB; the estimate allows one more) */
    hc_method m;
    assert_int_equal(hc_method_parse("taylor:O=2", &m), HC_OK);
    const char *files[] = {"big.h5"};
    hc_replay_opts o = {.files = files, .n_files = 1, .methods = &m, .n_methods = 1};
    hc_traj *t;
    assert_int_equal(hc_traj_open("big.h5", &t), HC_OK);
    hc_replay_need need;
    hc_replay_estimate(&o, t, 0, &need);
    hc_traj_close(t);
    assert_true(need.step_buffers == 3 * (size_t)20000 * 5000 * 4);
    assert_true(need.caches >= 3 * (size_t)20000 * 5000 * 4);
    assert_true(need.total >= (size_t)1600 * 1000 * 1000);
    remove("big.h5");
}

/* The estimate errs high: for every registered predictor, at least the
 * cache it reports once allocated. */
static void estimate_covers_every_predictor(void **state)
{
    (void)state;
    const size_t T = 50, D = 24;
    for (const hc_pred_type *const *ty = hc_pred_types; *ty; ty++) {
        for (int O = 0; O <= 4; O++) {
            char spec[128];
            if ((*ty)->caps & HC_PRED_WRAPS_BASE) snprintf(spec, sizeof spec, "%s:base=taylor,K=8,O=%d", (*ty)->name, O);
            else if (strstr((*ty)->keys ? (*ty)->keys : "", "O")) snprintf(spec, sizeof spec, "%s:O=%d", (*ty)->name, O);
            else snprintf(spec, sizeof spec, "%s", (*ty)->name);
            hc_method m;
            if (hc_method_parse(spec, &m) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
            hc_predictor *p = NULL;
            assert_int_equal(hc_predictor_alloc(&m, T, D, 0, &p), HC_OK);
            size_t have = p->type->cache_bytes(p->state), est = hc_replay_method_bytes(&m, T, D);
            if (!((*ty)->caps & HC_PRED_NO_CACHE) && est < have)
                fail_msg("%s: estimate %zu < cache %zu", spec, est, have);
            hc_predictor_free(p);
        }
    }
}

/* A small file from hicache's writer: 12 steps of one module [4, 3] with
 * values that a line fits exactly (s + i), NaN/Inf in rows bad_rows[]. */
static void write_nan_file(const char *path, const int *bad_rows, int n_bad)
{
    enum { S = 12, T = 4, D = 3 };
    hc_traj_meta meta = {0};
    snprintf(meta.model, sizeof meta.model, "unit");
    snprintf(meta.sampler, sizeof meta.sampler, "euler");
    meta.num_steps = S;
    hc_traj_writer *w;
    assert_int_equal(hc_traj_writer_open(path, &meta, NULL, NULL, &w), HC_OK);
    int h;
    assert_int_equal(hc_traj_writer_add_feature(w, "dit", 0, "attn", NULL, T, D, &h), HC_OK);
    for (int s = 0; s < S; s++) {
        float row[T * D];
        for (int i = 0; i < T * D; i++) row[i] = (float)(s + 1 + i);
        for (int b = 0; b < n_bad; b++)
            if (bad_rows[b] == s) row[2] = b % 2 ? INFINITY : NAN;
        assert_int_equal(hc_traj_writer_put(w, h, s, row), HC_OK);
        assert_int_equal(hc_traj_writer_put_time(w, s, 1.0 - s / (double)S), HC_OK);
    }
    assert_int_equal(hc_traj_writer_finish(w), HC_OK);
}

static double num_at(const cJSON *o, const char *k, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, k), i)->valuedouble;
}

/* reuse:N=3,W=1: full steps 0, 3, 6, 9 (sched mod); rows 4 (cached) and 6
 * (full) carry NaN/Inf. */
static void nonfinite_policies(void **state)
{
    (void)state;
    static const int bad[2] = {4, 6};
    write_nan_file("nan.h5", bad, 2);
    const char *spec = "reuse:N=3,sched=mod";
    /* refuse: one line naming the file, dataset, step and count */
    hc_errclear();
    assert_int_equal(run_replay("nan.h5", spec, HC_NONFINITE_REFUSE, 0, "nan_out", NULL), HC_EFORMAT);
    if (!strstr(hc_errmsg(), "nan.h5: dit/0/attn step 4: 1 of 12 values are not finite (NaN or Inf) in dataset /features/dit/0/attn"))
        fail_msg("message: %s", hc_errmsg());
    /* zero: every row scored, the two counted; summary and table say so */
    cJSON *sum = NULL;
    assert_int_equal(run_replay("nan.h5", spec, HC_NONFINITE_ZERO, 0, "nan_zero", &sum), HC_OK);
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sum, "methods"), 0);
    const cJSON *nf = cJSON_GetObjectItemCaseSensitive(m, "nonfinite");
    assert_non_null(nf);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(nf, "policy")), "zero");
    assert_true(num_at(nf, "zeroed_rows", 0) == 2 && num_at(nf, "skipped_rows", 0) == 0);
    size_t n_zero = (size_t)cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "metrics"), "rel_l2"), "n")
                        ->valuedouble;
    assert_int_equal(n_zero, 8); /* cached steps 1, 2, 4, 5, 7, 8, 10, 11 */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    hc_replay_print_table(sum, mem);
    fclose(mem);
    assert_non_null(strstr(buf, "non-finite values (--nonfinite zero): 2 rows set to 0, 0 rows left out of the scores"));
    free(buf);
    cJSON_Delete(sum);
    /* skip: the cached row 4 leaves the scores, the full row 6 is observed as zeros */
    assert_int_equal(run_replay("nan.h5", spec, HC_NONFINITE_SKIP, 0, "nan_skip", &sum), HC_OK);
    m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sum, "methods"), 0);
    nf = cJSON_GetObjectItemCaseSensitive(m, "nonfinite");
    assert_true(num_at(nf, "zeroed_rows", 0) == 1 && num_at(nf, "skipped_rows", 0) == 1);
    assert_true(cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "metrics"), "rel_l2"), "n")
                    ->valuedouble == 7);
    cJSON_Delete(sum);
    /* a clean file under zero: the same numbers as under refuse, and the
     * default document carries no non-finite keys */
    write_nan_file("clean.h5", NULL, 0);
    cJSON *a = NULL, *b = NULL;
    assert_int_equal(run_replay("clean.h5", "taylor:N=3,O=1", HC_NONFINITE_REFUSE, 0, "clean_a", &a), HC_OK);
    assert_int_equal(run_replay("clean.h5", "taylor:N=3,O=1", HC_NONFINITE_ZERO, 0, "clean_b", &b), HC_OK);
    const cJSON *ma = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "methods"), 0);
    const cJSON *mb = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "methods"), 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(ma, "nonfinite"));
    assert_null(cJSON_GetObjectItemCaseSensitive(a, "nonfinite_step_times"));
    assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(ma, "metrics"), cJSON_GetObjectItemCaseSensitive(mb, "metrics"), 1));
    cJSON_Delete(a);
    cJSON_Delete(b);
    remove("nan.h5");
    remove("clean.h5");
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(big_declared_shape_refused),
        cmocka_unit_test(estimate_covers_every_predictor),
        cmocka_unit_test(nonfinite_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
