/* test_dit_threads.c: the DiT forward's batch split (dit_fwd.c) gives the
 * same bits whatever the thread count: the output, every computed point
 * (observe), the signals and the clustering input with 1, 2 and 3 threads
 * (OpenBLAS thread setting), with full compute, with points forecast whole
 * (some MLP points with ClusCa fresh rows), and with forecasts handed in
 * pieces (forecast_prepare/forecast_range), which must also give the output
 * of whole ones; on the tiny golden model at batch 16, a synthetic config
 * (36 tokens, batch 9) and the trained DiT (batch 10): batches whose GEMM
 * rows are cut across threads, so the row alignment is exercised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <cmocka.h>

#include "model.h"
#include "testutil.h"

enum { NONE, FRESH, WHOLE, RANGED, MODES };

/* everything the forward hands out, appended in order */
typedef struct rec {
    const hc_model *m;
    int B, mode;
    float *buf;
    size_t n, cap;
} rec;

static void put(rec *r, const float *v, size_t n)
{
    if (n == 0) return; /* v may be NULL then (memcpy's arguments must not be) */
    if (r->n + n > r->cap) {
        r->cap = 2 * (r->n + n);
        r->buf = realloc(r->buf, r->cap * sizeof *r->buf);
        assert_non_null(r->buf);
    }
    memcpy(r->buf + r->n, v, n * sizeof *v);
    r->n += n;
}

static size_t point_floats(const rec *r, int p)
{
    return (size_t)r->B * hc_model_point(r->m, p)->tokens * hc_model_point(r->m, p)->channels;
}

/* points p with p % 3 == 1 are forecast */
static int compute(void *ud, int p) { return ((rec *)ud)->mode == NONE || p % 3 != 1; }
static float fc_value(int p, size_t i) { return 0.01f * (float)p + 1e-4f * (float)(i % 1009); }

static hc_status observe(void *ud, int p, const float *val)
{
    rec *r = ud;
    put(r, val, point_floats(r, p));
    return HC_OK;
}

/* the value, and in mode FRESH the true rows 3, 17, ... of a fresh-capable point */
static hc_status forecast(void *ud, int p, float *out, hc_rows_fn fresh, void *fud)
{
    rec *r = ud;
    const size_t n = point_floats(r, p);
    const int D = hc_model_point(r->m, p)->channels, rows = (int)(n / (size_t)D);
    for (size_t i = 0; i < n; i++) out[i] = fc_value(p, i);
    if (r->mode == FRESH && fresh) {
        int idx[8] = {0}, k = 0;
        for (int q = 3; q < rows && k < 8; q += rows / 7 + 1) idx[k++] = q;
        float *tmp = malloc((size_t)k * D * sizeof *tmp);
        HC_TRY(fresh(fud, idx, k, tmp));
        for (int j = 0; j < k; j++) memcpy(out + (size_t)idx[j] * D, tmp + (size_t)j * D, (size_t)D * sizeof *tmp);
        put(r, tmp, (size_t)k * D);
        free(tmp);
    }
    return HC_OK;
}

static hc_status prepare(void *ud, int p, int *ranged)
{
    *ranged = ((rec *)ud)->mode == RANGED && p % 2 == 0;
    return HC_OK;
}

static void range(const void *ud, int p, size_t e0, size_t n, float *out)
{
    (void)ud;
    for (size_t i = 0; i < n; i++) out[i] = fc_value(p, e0 + i);
}

static hc_status cluster(void *ud, int j, const float *x)
{
    rec *r = ud;
    (void)j;
    put(r, x, point_floats(r, 0));
    return HC_OK;
}

static hc_status on_signal(void *ud, int kind, const float *x, int rows, int channels)
{
    (void)kind;
    put(ud, x, (size_t)rows * channels);
    return HC_OK;
}

/* one forward at `threads` OpenBLAS threads; its output then what the hooks saw, in r */
static void run_fwd(hc_model *m, int B, int threads, int mode, rec *r)
{
    hc_model_info info;
    hc_model_get_info(m, &info);
    const size_t img = (size_t)info.image_channels * info.image_size * info.image_size;
    const size_t out_n = (size_t)B * info.out_channels * info.image_size * info.image_size;
    float *x = malloc((size_t)B * img * sizeof *x), *t = malloc((size_t)B * sizeof *t);
    float *v = malloc(out_n * sizeof *v);
    int *lab = malloc((size_t)B * sizeof *lab);
    for (size_t i = 0; i < (size_t)B * img; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    for (int b = 0; b < B; b++) {
        t[b] = (float)(100 + 37 * b);
        lab[b] = b % (info.num_classes + 1);
    }
    *r = (rec){.m = m, .B = B, .mode = mode};
    hc_model_hooks h = {.ud = r, .compute = compute, .observe = observe, .forecast = forecast,
                        .forecast_prepare = prepare, .forecast_range = range, .cluster_input = cluster,
                        .signals = (1u << HC_MSIG_MOD_IN) | (1u << HC_MSIG_HEAD_RESID) | (1u << HC_MSIG_RESID),
                        .signal = on_signal};
    int saved = openblas_get_num_threads();
    openblas_set_num_threads(threads);
    assert_int_equal(openblas_get_num_threads(), threads); /* else the split is not exercised */
    hc_status st = hc_model_forward(m, x, t, lab, B, mode == NONE ? NULL : &h, v);
    openblas_set_num_threads(saved);
    if (st != HC_OK) fail_msg("%s", hc_errmsg());
    assert_int_equal(openblas_get_num_threads(), saved);
    /* the output first: rec.buf[0, out_n) */
    rec hooks_seen = *r;
    *r = (rec){.m = m, .B = B, .mode = mode};
    put(r, v, out_n);
    put(r, hooks_seen.buf, hooks_seen.n);
    free(hooks_seen.buf);
    free(x);
    free(t);
    free(v);
    free(lab);
}

static void check(hc_model *m, const char *what, int B)
{
    hc_model_info info;
    hc_model_get_info(m, &info);
    const size_t out_n = (size_t)B * info.out_channels * info.image_size * info.image_size;
    float *whole = NULL;
    for (int mode = 0; mode < MODES; mode++) {
        rec ref;
        run_fwd(m, B, 1, mode, &ref);
        for (int threads = 2; threads <= 3; threads++) {
            rec got;
            run_fwd(m, B, threads, mode, &got);
            assert_int_equal(got.n, ref.n);
            size_t bad = 0;
            for (size_t i = 0; i < got.n; i++) bad += memcmp(&got.buf[i], &ref.buf[i], sizeof(float)) != 0;
            if (bad) fail_msg("%s: %zu of %zu floats differ between 1 and %d threads (mode %d)", what, bad, got.n, threads, mode);
            free(got.buf);
        }
        if (mode == WHOLE) whole = malloc(out_n * sizeof *whole), memcpy(whole, ref.buf, out_n * sizeof *whole);
        if (mode == RANGED && memcmp(whole, ref.buf, out_n * sizeof *whole))
            fail_msg("%s: forecasts in pieces give another output than whole ones", what);
        if (mode == FRESH) assert_true(ref.n > out_n);
        free(ref.buf);
    }
    free(whole);
}

static void test_tiny(void **state)
{
    (void)state;
    enum { NB = 16 }; /* 16 tokens: 256 GEMM rows */
    hc_model *m;
    if (hc_model_open(HC_TEST_DATA "/golden_dit_tiny.safetensors", NB, &m) != HC_OK) fail_msg("%s", hc_errmsg());
    check(m, "golden tiny", NB);
    check(m, "golden tiny, batch 3", 3);
    hc_model_close(m);
}

static void test_synthetic(void **state)
{
    (void)state;
    enum { NB = 9 }; /* 36 tokens: 324 GEMM rows, elements across row slices */
    cJSON *c = cJSON_Parse(
        "{\"arch\": \"dit\", \"input_size\": 12, \"in_channels\": 3, \"patch_size\": 2, \"hidden_size\": 96,"
        " \"depth\": 3, \"num_heads\": 4, \"mlp_ratio\": 4.0, \"num_classes\": 5, \"learn_sigma\": true,"
        " \"class_dropout_prob\": 0.1, \"freq_dim\": 64, \"ln_eps\": 1e-06, \"prediction\": \"epsilon\","
        " \"diffusion\": {\"num_train_timesteps\": 1000, \"beta_schedule\": \"linear\", \"beta_start\": 0.0001,"
        " \"beta_end\": 0.02}, \"cfg_channels\": 3, \"default_guidance\": 1.5}");
    assert_non_null(c);
    hc_model *m;
    if (hc_model_open_synthetic("synthetic", c, NB, 3, &m) != HC_OK) fail_msg("%s", hc_errmsg());
    cJSON_Delete(c);
    check(m, "synthetic", NB);
    hc_model_close(m);
}

static void test_fmnist(void **state)
{
    (void)state;
    enum { NB = 10 }; /* 49 tokens: 490 GEMM rows */
    const char *path = HC_TEST_DATA "/../../data/models/dit_fmnist.safetensors";
    if (access(path, R_OK) != 0) HC_MISSING_DEP("data/models/dit_fmnist.safetensors");
    hc_model *m;
    if (hc_model_open(path, NB, &m) != HC_OK) fail_msg("%s", hc_errmsg());
    check(m, "dit_fmnist", NB);
    hc_model_close(m);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_tiny), cmocka_unit_test(test_synthetic),
                                       cmocka_unit_test(test_fmnist)};
    return HC_RUN_TESTS(tests, NULL, NULL);
}
