/* test_traj.c: writer -> reader round trips (float32 and float16, with and
 * without compression), atomic completion, abandoned writers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "traj.h"

enum { S = 6, T = 5, D = 7 };

static float value(int k, int s, int t, int d) { return (float)(k * 0.5 + sin(0.3 * s + 0.7 * t) + 0.01 * d); }

static void write_file(const char *path, hc_dtype dt, int deflate, int checksum)
{
    remove(path); /* a previous failed run may have left it */
    hc_traj_meta m = {0};
    snprintf(m.model, sizeof m.model, "unit");
    snprintf(m.sampler, sizeof m.sampler, "euler");
    snprintf(m.label, sizeof m.label, "round trip");
    m.num_steps = S;
    m.has_seed = 1;
    m.seed = 1234567890123LL;
    m.has_guidance = 1;
    m.guidance = 2.5;
    hc_traj_write_opts o = {dt, deflate};
    hc_traj_writer *w;
    assert_int_equal(hc_traj_writer_open(path, &m, &o, "{\"x\":1}", &w), HC_OK);
    if (!checksum) assert_int_equal(hc_traj_writer_set_checksum(w, 0), HC_OK);
    int h[3];
    assert_int_equal(hc_traj_writer_add_feature(w, "double", 10, "img_attn", "img", T, D, &h[0]), HC_OK);
    assert_int_equal(hc_traj_writer_add_feature(w, "double", 2, "txt_mlp", "txt", T, D, &h[1]), HC_OK);
    assert_int_equal(hc_traj_writer_add_hidden(w, "double", 2, "img", T, D, &h[2]), HC_OK);
    assert_int_equal(hc_traj_writer_set_checksum(w, 1), HC_EINVAL); /* too late */
    int64_t ldims[2] = {2, 3};
    int lx;
    assert_int_equal(hc_traj_writer_add_latent(w, "x", S + 1, 2, ldims, &lx), HC_OK);
    /* a duplicate declaration is refused */
    int dup;
    assert_int_equal(hc_traj_writer_add_feature(w, "double", 2, "txt_mlp", "txt", T, D, &dup), HC_EINVAL);
    float row[T * D];
    for (int s = S - 1; s >= 0; s--) { /* rows may come in any order */
        assert_int_equal(hc_traj_writer_put_time(w, s, 1.0 - s / (double)S), HC_OK);
        for (int k = 0; k < 3; k++) {
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) row[t * D + d] = value(k, s, t, d);
            assert_int_equal(hc_traj_writer_put(w, h[k], s, row), HC_OK);
        }
    }
    for (int s = 0; s <= S; s++) {
        float lat[6];
        for (int i = 0; i < 6; i++) lat[i] = (float)(s * 10 + i);
        assert_int_equal(hc_traj_writer_put(w, lx, s, lat), HC_OK);
    }
    /* not visible under its final name before finish */
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(hc_traj_writer_finish(w), HC_OK);
    assert_int_equal(access(path, F_OK), 0);
}

static void check_file(const char *path, hc_dtype dt, float tol)
{
    hc_traj *t;
    assert_int_equal(hc_traj_open(path, &t), HC_OK);
    const hc_traj_meta *m = hc_traj_get_meta(t);
    assert_string_equal(m->model, "unit");
    assert_string_equal(m->sampler, "euler");
    assert_string_equal(m->label, "round trip");
    assert_int_equal(m->num_steps, S);
    assert_true(m->has_seed && m->seed == 1234567890123LL);
    assert_true(m->has_guidance && m->guidance == 2.5);
    assert_int_equal(m->complete, 1);
    for (int s = 0; s < S; s++) assert_true(hc_traj_times(t)[s] == 1.0 - s / (double)S);
    assert_int_equal(hc_traj_num_entries(t), 4);
    assert_int_equal(hc_traj_num_features(t), 2);
    /* canonical order: numeric layer order, features first */
    assert_string_equal(hc_traj_entry_at(t, 0)->name, "double/2/txt_mlp");
    assert_string_equal(hc_traj_entry_at(t, 1)->name, "double/10/img_attn");
    assert_string_equal(hc_traj_entry_at(t, 2)->name, "double/2");
    assert_string_equal(hc_traj_entry_at(t, 3)->name, "x");
    const hc_traj_entry *e = hc_traj_entry_at(t, 1);
    assert_int_equal(e->kind, HC_ENTRY_FEATURE);
    assert_string_equal(e->block_kind, "double");
    assert_int_equal(e->layer, 10);
    assert_string_equal(e->module, "img_attn");
    assert_string_equal(e->stream, "img");
    assert_int_equal(e->rank, 3);
    assert_true(e->dims[0] == S && e->dims[1] == T && e->dims[2] == D);
    assert_int_equal(e->dtype, dt);
    assert_true(e->chunk[0] == 1 && e->chunk[1] == T && e->chunk[2] == D);
    assert_string_equal(hc_traj_entry_at(t, 0)->stream, "txt");
    static const char *const names[3] = {"double/10/img_attn", "double/2/txt_mlp", "double/2"};
    static const hc_entry_kind kinds[3] = {HC_ENTRY_FEATURE, HC_ENTRY_FEATURE, HC_ENTRY_HIDDEN};
    float row[T * D];
    for (int k = 0; k < 3; k++) {
        long idx = hc_traj_find(t, kinds[k], names[k]);
        assert_true(idx >= 0);
        for (int s = 0; s < S; s++) {
            assert_int_equal(hc_traj_read_row(t, (size_t)idx, s, row), HC_OK);
            for (int i = 0; i < T * D; i++) {
                float want = value(k, s, i / D, i % D);
                assert_float_equal(row[i], want, tol * fmaxf(1.0f, fabsf(want)));
            }
        }
    }
    long lx = hc_traj_find(t, HC_ENTRY_LATENT, "x");
    assert_true(lx >= 0);
    float lat[6];
    assert_int_equal(hc_traj_read_row(t, (size_t)lx, S, lat), HC_OK);
    for (int i = 0; i < 6; i++) assert_float_equal(lat[i], S * 10 + i, tol * 100);
    assert_int_equal(hc_traj_read_row(t, 0, S, row), HC_EINVAL); /* out of range */
    assert_int_equal(hc_traj_find(t, HC_ENTRY_FEATURE, "nope"), -1);
    hc_traj_close(t);
}

static void expect_filters(const char *path, const char *want)
{
    hc_traj *t;
    assert_int_equal(hc_traj_open(path, &t), HC_OK);
    for (size_t i = 0; i < hc_traj_num_entries(t); i++) assert_string_equal(hc_traj_entry_at(t, i)->filters, want);
    hc_traj_close(t);
}

static void roundtrip_f32(void **state)
{
    (void)state;
    write_file("rt_f32.h5", HC_F32, 0, 1);
    check_file("rt_f32.h5", HC_F32, 0.0f); /* float32 is stored exactly */
    expect_filters("rt_f32.h5", "fletcher32"); /* checksums by default */
    remove("rt_f32.h5");
}

static void roundtrip_f16_deflate(void **state)
{
    (void)state;
    write_file("rt_f16.h5", HC_F16, 4, 1);
    /* binary16 keeps 11 significant bits: relative error <= 2^-11 */
    check_file("rt_f16.h5", HC_F16, 1.0f / 2048);
    expect_filters("rt_f16.h5", "shuffle+deflate(4)+fletcher32");
    remove("rt_f16.h5");
}

static void roundtrip_no_checksum(void **state)
{
    (void)state;
    write_file("rt_nock.h5", HC_F16, 4, 0);
    check_file("rt_nock.h5", HC_F16, 1.0f / 2048);
    expect_filters("rt_nock.h5", "shuffle+deflate(4)");
    remove("rt_nock.h5");
}

static void unfinished_writer_leaves_nothing(void **state)
{
    (void)state;
    hc_traj_meta m = {0};
    snprintf(m.model, sizeof m.model, "unit");
    snprintf(m.sampler, sizeof m.sampler, "euler");
    m.num_steps = 3;
    hc_traj_writer *w;
    assert_int_equal(hc_traj_writer_open("abandoned.h5", &m, NULL, NULL, &w), HC_OK);
    int h;
    assert_int_equal(hc_traj_writer_add_feature(w, "dit", 0, "attn", NULL, 2, 2, &h), HC_OK);
    float row[4] = {1, 2, 3, 4};
    assert_int_equal(hc_traj_writer_put(w, h, 0, row), HC_OK);
    assert_int_equal(access("abandoned.h5.partial", F_OK), 0);
    hc_traj_writer_free(w);
    assert_int_not_equal(access("abandoned.h5.partial", F_OK), 0);
    assert_int_not_equal(access("abandoned.h5", F_OK), 0);

    /* finishing with missing rows fails, names the gap, and leaves nothing */
    assert_int_equal(hc_traj_writer_open("gappy.h5", &m, NULL, NULL, &w), HC_OK);
    assert_int_equal(hc_traj_writer_add_feature(w, "dit", 0, "attn", NULL, 2, 2, &h), HC_OK);
    for (int s = 0; s < 3; s++) assert_int_equal(hc_traj_writer_put_time(w, s, s), HC_OK);
    assert_int_equal(hc_traj_writer_put(w, h, 0, row), HC_OK);
    assert_int_equal(hc_traj_writer_put(w, h, 2, row), HC_OK);
    assert_int_equal(hc_traj_writer_finish(w), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "row 1 of /features/dit/0/attn"));
    assert_int_not_equal(access("gappy.h5", F_OK), 0);
    assert_int_not_equal(access("gappy.h5.partial", F_OK), 0);
    hc_traj_writer_free(NULL); /* no-op */
    hc_traj_close(NULL);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_f32),
        cmocka_unit_test(roundtrip_f16_deflate),
        cmocka_unit_test(roundtrip_no_checksum),
        cmocka_unit_test(unfinished_writer_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
