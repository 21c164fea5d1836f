/* test_flux_threads.c: the forward's batch split gives the same bits
 * whatever the thread count: the output and every cache point at batch 5
 * with 1, 2 and 3 threads (OpenBLAS thread setting), full compute and with
 * some points forecast (hooks), on the tiny golden model and the trained
 * flux-mini; and the forecast kernel split over pool threads (pool width
 * 2 and 3) gives the bits of the unsplit kernel, every order; and the
 * held-back residuals' one-pass add (hc_nn_gated_add_n) gives the bits of
 * one hc_nn_gated_add per residual in turn; forecasts handed in pieces
 * (hooks forecast_prepare/forecast_range) give the output of whole ones, at
 * 1, 2 and 3 threads; and at batch 32 (where OpenBLAS would split the
 * prologue's GEMMs) 2 threads give the bits of 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <cmocka.h>

#include "flux.h"
#include "nn.h"
#include "pool.h"
#include "predictor.h"
#include "testutil.h"

enum { B = 5 };

/* points p with p % 3 == 1 are forecast as a constant per point */
static int compute(void *ud, int p) { (void)ud; return p % 3 != 1; }
static hc_status forecast(void *ud, int p, float *out, hc_rows_fn fresh, void *fud)
{
    const hc_flux *m = ud;
    (void)fresh, (void)fud;
    size_t n = (size_t)B * hc_flux_point(m, p)->tokens * hc_flux_get_config(m)->D;
    for (size_t i = 0; i < n; i++) out[i] = 0.01f * (float)p;
    return HC_OK;
}

/* v [B image] and every point buffer concatenated into out (n floats) */
static size_t run_fwd(hc_flux *m, int threads, int hooked, float *out)
{
    const hc_flux_config *c = hc_flux_get_config(m);
    size_t img = (size_t)c->image_channels * c->image_size * c->image_size;
    float *x = malloc(B * img * sizeof *x), t[B];
    int lab[B];
    for (size_t i = 0; i < B * img; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    for (int b = 0; b < B; b++) {
        t[b] = 0.2f + 0.15f * (float)b;
        lab[b] = b % (c->num_classes + 1);
    }
    hc_model_hooks h = {.ud = m, .compute = compute, .forecast = forecast};
    int saved = openblas_get_num_threads();
    openblas_set_num_threads(threads);
    assert_int_equal(openblas_get_num_threads(), threads); /* else the split is not exercised */
    hc_status st = hc_flux_forward(m, x, t, lab, B, hooked ? &h : NULL, out);
    openblas_set_num_threads(saved);
    if (st != HC_OK) fail_msg("%s", hc_errmsg());
    assert_int_equal(openblas_get_num_threads(), saved);
    size_t n = B * img;
    for (int p = 0; p < hc_flux_num_points(m); p++) {
        size_t k = (size_t)B * hc_flux_point(m, p)->tokens * c->D;
        if (out) memcpy(out + n, hc_flux_point_buffer(m, p), k * sizeof(float));
        n += k;
    }
    free(x);
    return n;
}

static void check_model(const char *path)
{
    hc_flux *m;
    if (hc_flux_load(path, B, &m) != HC_OK) fail_msg("%s", hc_errmsg());
    size_t n = 0;
    for (int hooked = 0; hooked < 2; hooked++) {
        float *ref = NULL;
        for (int threads = 1; threads <= 3; threads++) {
            const hc_flux_config *c = hc_flux_get_config(m);
            size_t cap = (size_t)B * c->image_channels * c->image_size * c->image_size;
            for (int p = 0; p < hc_flux_num_points(m); p++) cap += (size_t)B * hc_flux_point(m, p)->tokens * c->D;
            float *got = malloc(cap * sizeof *got);
            n = run_fwd(m, threads, hooked, got);
            assert_int_equal(n, cap);
            if (!ref) {
                ref = got;
                continue;
            }
            size_t bad = 0;
            for (size_t i = 0; i < n; i++) bad += memcmp(&got[i], &ref[i], sizeof(float)) != 0;
            if (bad) fail_msg("%s: %zu of %zu floats differ between 1 and %d threads (hooks %d)", path, bad, n, threads, hooked);
            free(got);
        }
        free(ref);
    }
    hc_flux_free(m);
}

static void test_tiny(void **state)
{
    (void)state;
    check_model(HC_TEST_DATA "/golden_flux_tiny.safetensors");
}

static void test_mini(void **state)
{
    (void)state;
    if (access(HC_TEST_DATA "/../../data/models/flux_mini.safetensors", R_OK) != 0)
        HC_MISSING_DEP("data/models/flux_mini.safetensors");
    check_model(HC_TEST_DATA "/../../data/models/flux_mini.safetensors");
}

static void test_forecast_split(void **state)
{
    (void)state;
    size_t n = ((size_t)1 << 17) + 37;
    float *D[HC_MAX_ORDER + 1], *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    gsl_rng *r = make_rng(7);
    for (int k = 0; k <= HC_MAX_ORDER; k++) {
        D[k] = malloc(n * sizeof *D[k]);
        for (size_t i = 0; i < n; i++) D[k][i] = (float)(gsl_rng_uniform(r) - 0.5);
    }
    const double c[HC_MAX_ORDER + 1] = {1.0, -0.7, 0.31, -0.13, 0.057};
    for (int p = 0; p <= HC_MAX_ORDER; p++) {
        hc_pool_set_width(1);
        hc_forecast_apply(ref, (const float *const *)D, c, p, n);
        for (int w = 2; w <= 3; w++) {
            hc_pool_set_width(w);
            memset(got, 0, n * sizeof *got);
            hc_forecast_apply(got, (const float *const *)D, c, p, n);
            if (memcmp(got, ref, n * sizeof *got)) fail_msg("order %d: width %d differs from width 1", p, w);
        }
    }
    hc_pool_set_width(1);
    for (int k = 0; k <= HC_MAX_ORDER; k++) free(D[k]);
    free(ref);
    free(got);
    gsl_rng_free(r);
}

/* a forecast that differs per element: in pieces it must land at the right offsets */
static float fc_value(int p, size_t i) { return 0.01f * (float)p + 1e-4f * (float)(i % 1009); }
static hc_status forecast_el(void *ud, int p, float *out, hc_rows_fn fresh, void *fud)
{
    const hc_flux *m = ud;
    (void)fresh, (void)fud;
    size_t n = (size_t)B * hc_flux_point(m, p)->tokens * hc_flux_get_config(m)->D;
    for (size_t i = 0; i < n; i++) out[i] = fc_value(p, i);
    return HC_OK;
}
static int n_prepared;
static hc_status prepare_el(void *ud, int p, int *ranged)
{
    (void)ud;
    *ranged = p % 2; /* some in pieces, some whole: both paths in one forward */
    n_prepared += *ranged;
    return HC_OK;
}
static void range_el(const void *ud, int p, size_t e0, size_t n, float *out)
{
    (void)ud;
    for (size_t i = 0; i < n; i++) out[i] = fc_value(p, e0 + i);
}

/* the output image of a forward at batch nb, with forecasts whole (ranged 0) or partly in pieces */
static void fwd_out(hc_flux *m, int nb, int threads, int ranged, float *v)
{
    const hc_flux_config *c = hc_flux_get_config(m);
    size_t img = (size_t)c->image_channels * c->image_size * c->image_size;
    float *x = malloc((size_t)nb * img * sizeof *x), *t = malloc((size_t)nb * sizeof *t);
    int *lab = malloc((size_t)nb * sizeof *lab);
    for (size_t i = 0; i < (size_t)nb * img; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    for (int b = 0; b < nb; b++) {
        t[b] = 0.5f;
        lab[b] = b % (c->num_classes + 1);
    }
    hc_model_hooks h = {.ud = m, .compute = compute, .forecast = forecast_el};
    if (ranged) {
        h.forecast_prepare = prepare_el;
        h.forecast_range = range_el;
    }
    int saved = openblas_get_num_threads();
    openblas_set_num_threads(threads);
    hc_status st = hc_flux_forward(m, x, t, lab, nb, ranged >= 0 ? &h : NULL, v);
    openblas_set_num_threads(saved);
    if (st != HC_OK) fail_msg("%s", hc_errmsg());
    free(x);
    free(t);
    free(lab);
}

static void check_ranged(const char *path)
{
    hc_flux *m;
    if (hc_flux_load(path, B, &m) != HC_OK) fail_msg("%s", hc_errmsg());
    const hc_flux_config *c = hc_flux_get_config(m);
    size_t n = (size_t)B * c->image_channels * c->image_size * c->image_size;
    float *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    fwd_out(m, B, 1, 0, ref);
    for (int threads = 1; threads <= 3; threads++) {
        n_prepared = 0;
        fwd_out(m, B, threads, 1, got);
        assert_true(n_prepared > 0);
        if (memcmp(got, ref, n * sizeof *got)) fail_msg("%s: forecasts in pieces differ from whole ones at %d threads", path, threads);
    }
    hc_flux_free(m);
    free(ref);
    free(got);
}

static void test_ranged(void **state)
{
    (void)state;
    check_ranged(HC_TEST_DATA "/golden_flux_tiny.safetensors");
    if (access(HC_TEST_DATA "/../../data/models/flux_mini.safetensors", R_OK) != 0)
        HC_MISSING_DEP("data/models/flux_mini.safetensors");
    check_ranged(HC_TEST_DATA "/../../data/models/flux_mini.safetensors");
}

static void test_batch32(void **state)
{
    (void)state;
    enum { NB = 32 };
    if (access(HC_TEST_DATA "/../../data/models/flux_mini.safetensors", R_OK) != 0)
        HC_MISSING_DEP("data/models/flux_mini.safetensors");
    hc_flux *m;
    if (hc_flux_load(HC_TEST_DATA "/../../data/models/flux_mini.safetensors", NB, &m) != HC_OK) fail_msg("%s", hc_errmsg());
    const hc_flux_config *c = hc_flux_get_config(m);
    size_t n = (size_t)NB * c->image_channels * c->image_size * c->image_size;
    float *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    fwd_out(m, NB, 1, -1, ref);
    fwd_out(m, NB, 2, -1, got);
    if (memcmp(got, ref, n * sizeof *got)) fail_msg("batch %d: 2 threads differ from 1", NB);
    hc_flux_free(m);
    free(ref);
    free(got);
}

static void test_gated_add_n(void **state)
{
    (void)state;
    enum { R = 37, D = 24, N = 5 };
    float x[R * D], ref[R * D], v[N][R * D], g[N][D];
    gsl_rng *r = make_rng(11);
    for (int i = 0; i < R * D; i++) x[i] = ref[i] = (float)(gsl_rng_uniform(r) - 0.5);
    for (int k = 0; k < N; k++) {
        for (int i = 0; i < R * D; i++) v[k][i] = (float)(gsl_rng_uniform(r) - 0.5) * (float)(k + 1);
        for (int i = 0; i < D; i++) g[k][i] = (float)(gsl_rng_uniform(r) * 2.0);
    }
    const float *vp[N], *gp[N];
    for (int k = 0; k < N; k++) {
        hc_nn_gated_add(ref, v[k], g[k], R, D);
        vp[k] = v[k];
        gp[k] = g[k];
    }
    hc_nn_gated_add_n(x, N, vp, gp, R, D);
    if (memcmp(x, ref, sizeof x)) fail_msg("one-pass gated adds differ from %d passes", N);
    x[0] += 1.0f; /* the check can fail */
    assert_true(memcmp(x, ref, sizeof x) != 0);
    gsl_rng_free(r);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_tiny), cmocka_unit_test(test_mini),
                                       cmocka_unit_test(test_forecast_split), cmocka_unit_test(test_gated_add_n),
                                       cmocka_unit_test(test_ranged), cmocka_unit_test(test_batch32)};
    return HC_RUN_TESTS(tests, NULL, NULL);
}
