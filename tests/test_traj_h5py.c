/* test_traj_h5py.c: files written by h5py (tools/make_h5py_fixtures.py)
 * read back with the documented closed-form values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "traj.h"

enum { S = 5, T = 3, D = 4 };

static void reads_h5py_file(void **state)
{
    (void)state;
    hc_traj *t;
    assert_int_equal(hc_traj_open(HC_TEST_DATA "/h5py_traj.h5", &t), HC_OK);
    const hc_traj_meta *m = hc_traj_get_meta(t);
    assert_string_equal(m->model, "h5py-fixture");
    assert_string_equal(m->sampler, "euler");
    assert_string_equal(m->label, "a fixture written by h5py"); /* from `prompt` */
    assert_int_equal(m->num_steps, S);
    assert_true(m->has_seed && m->seed == 7);
    assert_true(m->has_guidance && m->guidance == 3.5);
    assert_int_equal(m->complete, -1); /* h5py writers need not set it */
    for (int s = 0; s < S; s++) assert_float_equal(hc_traj_times(t)[s], 1.0 - 0.2 * s, 1e-12);
    /* module k of the fixture: 1000k + 100s + t + d/8 (float16 one divided by 64) */
    static const struct { const char *name; int k; int f16; const char *stream; } mods[] = {
        {"double/0/img_attn", 0, 0, "img"},
        {"double/0/txt_mlp", 1, 0, "txt"},
        {"single/2/total", 2, 1, "joint"},
    };
    assert_int_equal(hc_traj_num_features(t), 3);
    float row[T * D];
    for (size_t i = 0; i < 3; i++) {
        long idx = hc_traj_find(t, HC_ENTRY_FEATURE, mods[i].name);
        assert_true(idx >= 0);
        const hc_traj_entry *e = hc_traj_entry_at(t, (size_t)idx);
        assert_int_equal(e->dtype, mods[i].f16 ? HC_F16 : HC_F32);
        assert_string_equal(e->stream, mods[i].stream);
        for (int s = 0; s < S; s++) {
            assert_int_equal(hc_traj_read_row(t, (size_t)idx, s, row), HC_OK);
            for (int j = 0; j < T * D; j++) {
                double want = 1000.0 * mods[i].k + 100.0 * s + j / D + (j % D) / 8.0;
                if (mods[i].f16) want /= 64.0;
                assert_float_equal(row[j], want, mods[i].f16 ? fabs(want) / 1024 : 0.0);
            }
        }
    }
    long h = hc_traj_find(t, HC_ENTRY_HIDDEN, "double/1");
    assert_true(h >= 0);
    assert_int_equal(hc_traj_read_row(t, (size_t)h, 4, row), HC_OK);
    assert_float_equal(row[5], -(400.0 + 1 + 1 / 8.0), 0);
    long x = hc_traj_find(t, HC_ENTRY_LATENT, "x"), o = hc_traj_find(t, HC_ENTRY_LATENT, "out");
    assert_true(x >= 0 && o >= 0);
    assert_int_equal(hc_traj_entry_at(t, (size_t)x)->dims[0], S + 1);
    assert_int_equal(hc_traj_entry_at(t, (size_t)x)->row_elems, 4);
    float lat[4];
    assert_int_equal(hc_traj_read_row(t, (size_t)x, S, lat), HC_OK);
    assert_float_equal(lat[3], S, 0);
    assert_int_equal(hc_traj_read_row(t, (size_t)o, 2, lat), HC_OK);
    assert_float_equal(lat[0], -2, 0);
    hc_traj_close(t);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(reads_h5py_file)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
