/* test_flux_golden.c: the C forward pass and sampler against PyTorch golden
 * outputs (tools/train_flux.py golden; docs/golden-format.md): every cache
 * point, the output, intermediates and a 4-step Euler CFG run, within
 * relL2 <= 1e-5 and max-abs <= 1e-4 per dataset.  The trained model's golden
 * file is checked when it exists. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include "flux.h"
#include "sampler.h"
#include "testutil.h"

typedef struct golden {
    hid_t f;
    char path[512];
} golden;

static float *read_f(golden *g, const char *name, size_t *n_out)
{
    int rank;
    hsize_t dims[8];
    H5T_class_t cls;
    size_t sz;
    if (H5LTget_dataset_ndims(g->f, name, &rank) < 0 || H5LTget_dataset_info(g->f, name, dims, &cls, &sz) < 0)
        fail_msg("%s: dataset %s missing", g->path, name);
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *b = malloc(n * sizeof *b);
    assert_true(H5LTread_dataset_float(g->f, name, b) >= 0);
    if (n_out) *n_out = n;
    return b;
}

/* relL2 and max-abs of got vs ref over n floats, with the golden tolerances */
static void close_enough(const char *what, const float *got, const float *ref, size_t n, double *worst)
{
    double d2 = 0, r2 = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - ref[i];
        d2 += d * d;
        r2 += (double)ref[i] * ref[i];
        mx = fmax(mx, fabs(d));
    }
    double rel = sqrt(d2 / fmax(r2, 1e-30));
    if (worst) *worst = fmax(*worst, rel);
    if (!(rel <= 1e-5 && mx <= 1e-4)) fail_msg("%s: relL2 %.3g max-abs %.3g (tolerance 1e-5 / 1e-4)", what, rel, mx);
}

typedef struct capture { float **bufs; const hc_flux *m; int B; } capture;

static hc_status observe(void *ud, int p, const float *val)
{
    capture *c = ud;
    const hc_cache_point *q = hc_flux_point(c->m, p);
    size_t n = (size_t)c->B * q->tokens * hc_flux_get_config(c->m)->D;
    memcpy(c->bufs[p], val, n * sizeof *val);
    return HC_OK;
}

static void check_file(const char *h5, const char *model_path, int full_cache)
{
    golden g;
    snprintf(g.path, sizeof g.path, "%s", h5);
    g.f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(g.f >= 0);
    hc_flux *m;
    if (hc_flux_load(model_path, 4, &m) != HC_OK) fail_msg("%s", hc_errmsg());
    const hc_flux_config *c = hc_flux_get_config(m);
    int B = 2, labels[2];
    assert_true(H5LTread_dataset_int(g.f, "/inputs/labels", labels) >= 0);
    float *x = read_f(&g, "/inputs/x", NULL), *t = read_f(&g, "/inputs/t", NULL);
    size_t nv;
    float *vref = read_f(&g, "/output/v", &nv), *v = malloc(nv * sizeof *v);
    capture cap = {calloc((size_t)hc_flux_num_points(m), sizeof(float *)), m, B};
    for (int p = 0; p < hc_flux_num_points(m); p++)
        cap.bufs[p] = malloc((size_t)B * hc_flux_point(m, p)->tokens * c->D * sizeof(float));
    hc_model_hooks hooks = {.ud = &cap, .observe = observe};
    assert_int_equal(hc_flux_forward(m, x, t, labels, B, &hooks, v), HC_OK);
    double worst = 0;
    close_enough("output/v", v, vref, nv, &worst);
    int cache_batch = full_cache ? 2 : 1;
    for (int p = 0; p < hc_flux_num_points(m); p++) {
        char name[96];
        snprintf(name, sizeof name, "/cache/%s", hc_flux_point(m, p)->name);
        size_t n;
        float *ref = read_f(&g, name, &n);
        assert_int_equal(n, (size_t)cache_batch * hc_flux_point(m, p)->tokens * c->D);
        close_enough(name, cap.bufs[p], ref, n, &worst);
        free(ref);
    }
    static const char *const inter[] = {"vec", "temb", "img_packed", "rope_cos", "rope_sin"};
    for (size_t i = 0; i < sizeof inter / sizeof inter[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "/intermediate/%s", inter[i]);
        if (H5LTpath_valid(g.f, name, 1) <= 0) continue;
        size_t n;
        float *ref = read_f(&g, name, &n);
        close_enough(name, hc_flux_intermediate(m, inter[i]), ref, n, &worst);
        free(ref);
    }
    /* 4-step Euler with CFG, closed loop from the stored noise */
    int steps = 0;
    double cfg = 0;
    assert_true(H5LTget_attribute_int(g.f, "/euler", "steps", &steps) >= 0);
    assert_true(H5LTget_attribute_double(g.f, "/euler", "cfg_scale", &cfg) >= 0);
    double *tref = malloc((size_t)(steps + 1) * sizeof *tref), *tgot = malloc((size_t)(steps + 1) * sizeof *tgot);
    assert_true(H5LTread_dataset_double(g.f, "/euler/t", tref) >= 0);
    /* the sampler through the model registry, as the engines use it */
    hc_model *gm;
    if (hc_model_open(model_path, 4, &gm) != HC_OK) fail_msg("%s", hc_errmsg());
    hc_model_info info;
    hc_model_get_info(gm, &info);
    hc_rf_schedule(&info, steps, 1, tgot);
    for (int i = 0; i <= steps; i++) assert_float_equal(tgot[i], tref[i], 1e-12);
    int el[2];
    assert_true(H5LTread_dataset_int(g.f, "/euler/labels", el) >= 0);
    size_t nx;
    float *xs = read_f(&g, "/euler/x", &nx);
    size_t per = nx / (size_t)(steps + 1); /* one state [B, C, H, W] */
    float *state = malloc(per * sizeof *state);
    memcpy(state, xs, per * sizeof *state);
    hc_sampler *smp;
    assert_int_equal(hc_sampler_alloc(gm, 2, &smp), HC_OK);
    hc_sample_opts so = {.steps = steps, .cfg = cfg, .shift = 1};
    hc_method full;
    assert_int_equal(hc_method_parse("full", &full), HC_OK);
    assert_int_equal(hc_sampler_run(smp, &full, &so, el, 2, state, NULL), HC_OK);
    close_enough("euler/x[final]", state, xs + (size_t)steps * per, per, &worst);
    hc_sampler_free(smp);
    hc_model_close(gm);
    printf("%s: worst relL2 over all datasets %.3g\n", h5, worst);
    free(state);
    free(xs);
    free(tref);
    free(tgot);
    for (int p = 0; p < hc_flux_num_points(m); p++) free(cap.bufs[p]);
    free(cap.bufs);
    free(x);
    free(t);
    free(v);
    free(vref);
    hc_flux_free(m);
    H5Fclose(g.f);
}

static void golden_tiny(void **state)
{
    (void)state;
    check_file(HC_TEST_DATA "/golden_flux_tiny.h5", HC_TEST_DATA "/golden_flux_tiny.safetensors", 1);
}

static void golden_mini(void **state)
{
    (void)state;
    if (access(HC_TEST_DATA "/golden_flux_mini.h5", R_OK) != 0) HC_MISSING_DEP("tests/data/golden_flux_mini.h5");
    if (access(HC_TEST_DATA "/../../data/models/flux_mini.safetensors", R_OK) != 0)
        HC_MISSING_DEP("data/models/flux_mini.safetensors");
    check_file(HC_TEST_DATA "/golden_flux_mini.h5", HC_TEST_DATA "/../../data/models/flux_mini.safetensors", 0);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_tiny),
        cmocka_unit_test(golden_mini),
    };
    return HC_RUN_TESTS(tests, NULL, NULL);
}
