/* test_dit_golden.c: the C DiT against PyTorch golden outputs of a tiny
 * random official-layout DiT (tools/make_dit_golden.py; docs/golden-format.md):
 * the forward output and every pre-gate cache point, CFG as DiT's
 * forward_with_cfg (guided on cfg_channels, the rest from the cond half),
 * the respaced grid and DDIM over 5 steps at guidance 1 and 4.  Tolerance:
 * relL2 <= 1e-5 and max-abs <= 1e-4 max(1, max |ref|) per dataset (the
 * random model's DDIM states reach |x| ~ 600, where a float32 ulp is 6e-5).  The trained model's golden
 * file is checked too when it exists. */
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

#include "model.h"
#include "predictor.h"
#include "sampler.h"
#include "testutil.h"

static float *read_f(hid_t f, const char *path, const char *name, size_t *n_out)
{
    int rank;
    hsize_t dims[8];
    H5T_class_t cls;
    size_t sz;
    if (H5LTget_dataset_ndims(f, name, &rank) < 0 || H5LTget_dataset_info(f, name, dims, &cls, &sz) < 0)
        fail_msg("%s: dataset %s missing", path, name);
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *b = malloc(n * sizeof *b);
    assert_true(H5LTread_dataset_float(f, name, b) >= 0);
    if (n_out) *n_out = n;
    return b;
}

/* relL2 and max-abs of got vs ref over n floats, printed, with the tolerances */
static void close_enough(const char *what, const float *got, const float *ref, size_t n)
{
    double d2 = 0, r2 = 0, mx = 0, scale = 1;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - ref[i];
        d2 += d * d;
        r2 += (double)ref[i] * ref[i];
        mx = fmax(mx, fabs(d));
        scale = fmax(scale, fabs(ref[i]));
    }
    double rel = sqrt(d2 / fmax(r2, 1e-30));
    printf("  %-22s relL2 %.3g  max-abs %.3g (max |ref| %.3g)\n", what, rel, mx, scale);
    if (!(rel <= 1e-5 && mx <= 1e-4 * scale))
        fail_msg("%s: relL2 %.3g max-abs %.3g (tolerance 1e-5 / 1e-4 x max(1, max |ref|) = %.3g)", what, rel, mx,
                 1e-4 * scale);
}

typedef struct capture {
    hid_t f;
    const char *path;
    const hc_model *m;
    int cache_batch, checked;
} capture;

static hc_status observe(void *ud, int p, const float *val)
{
    capture *c = ud;
    const hc_cache_point *q = hc_model_point(c->m, p);
    char name[96];
    snprintf(name, sizeof name, "/cache/%s", q->name);
    size_t n;
    float *ref = read_f(c->f, c->path, name, &n);
    assert_int_equal(n, (size_t)c->cache_batch * q->tokens * q->channels);
    close_enough(q->name, val, ref, n);
    free(ref);
    c->checked++;
    return HC_OK;
}

static void forward(hid_t f, const char *h5, hc_model *m, hc_model_info *info)
{
    int labels[2], cb = 0;
    assert_true(H5LTget_attribute_int(f, "/", "cache_batch", &cb) >= 0);
    assert_true(H5LTread_dataset_int(f, "/inputs/labels", labels) >= 0);
    size_t nx, no;
    float *x = read_f(f, h5, "/inputs/x", &nx), *t = read_f(f, h5, "/inputs/t", NULL);
    float *ref = read_f(f, h5, "/output/out", &no);
    assert_int_equal(no, nx / info->image_channels * info->out_channels);
    float *v = malloc(no * sizeof *v);
    capture cap = {f, h5, m, cb, 0};
    hc_model_hooks hooks = {.ud = &cap, .observe = observe};
    assert_int_equal(hc_model_forward(m, x, t, labels, 2, &hooks, v), HC_OK);
    assert_int_equal(cap.checked, hc_model_num_points(m));
    close_enough("output", v, ref, no);
    free(x);
    free(t);
    free(ref);
    free(v);
}

/* forward_with_cfg on [x; x], labels [y; null]: the sampler's guide gives the
 * eps DDIM uses, the first C channels of the cond half of cfg/out. */
static void cfg(hid_t f, const char *h5, hc_model *m, const hc_model_info *info)
{
    size_t nx;
    float *x1 = read_f(f, h5, "/cfg/x", &nx), *t1 = read_f(f, h5, "/cfg/t", NULL);
    float *scale = read_f(f, h5, "/cfg/scale", NULL), *ref = read_f(f, h5, "/cfg/out", NULL);
    int labels[2];
    assert_true(H5LTread_dataset_int(f, "/cfg/labels", labels) >= 0);
    float *x = malloc(2 * nx * sizeof *x), t[2] = {t1[0], t1[0]};
    memcpy(x, x1, nx * sizeof *x);
    memcpy(x + nx, x1, nx * sizeof *x);
    size_t no = nx / info->image_channels * info->out_channels;
    float *v = malloc(2 * no * sizeof *v), *eps = malloc(nx * sizeof *eps);
    assert_int_equal(hc_model_forward(m, x, t, labels, 2, NULL, v), HC_OK);
    hc_ddim_guide(v, 1, 1, scale[0], info, eps);
    close_enough("cfg eps (cond half)", eps, ref, nx); /* element 0's first C channels */
    free(x1);
    free(t1);
    free(scale);
    free(ref);
    free(x);
    free(v);
    free(eps);
}

static void ddim(hid_t f, const char *h5, hc_model *m, const hc_model_info *info)
{
    int steps[64], labels[2];
    hsize_t dims[1];
    H5T_class_t cls;
    size_t sz;
    assert_true(H5LTget_dataset_info(f, "/ddim/steps", dims, &cls, &sz) >= 0 && dims[0] <= 64);
    const int S = (int)dims[0];
    assert_true(H5LTread_dataset_int(f, "/ddim/steps", steps) >= 0);
    assert_true(H5LTread_dataset_int(f, "/ddim/labels", labels) >= 0);
    double ab_ref[64], tau[64], ab[64], abp[64];
    assert_true(H5LTread_dataset_double(f, "/ddim/alphas_cumprod", ab_ref) >= 0);
    assert_int_equal(hc_ddim_grid(info, S, tau, ab, abp), HC_OK);
    for (int s = 0; s < S; s++) {
        assert_true(tau[s] == steps[s]);
        check_close(ab[s], ab_ref[s], 0, 1e-12, "alphas_cumprod", "respaced");
    }
    size_t nn;
    float *noise = read_f(f, h5, "/ddim/noise", &nn), *g = read_f(f, h5, "/ddim/guidance", NULL);
    float *x = malloc(nn * sizeof *x);
    hc_sampler *smp;
    assert_int_equal(hc_sampler_alloc(m, 2, &smp), HC_OK);
    hc_method full;
    hc_method_parse("full", &full);
    for (int j = 0; j < 2; j++) {
        char name[64];
        snprintf(name, sizeof name, "/ddim/g%d/x", j);
        float *ref = read_f(f, h5, name, NULL);
        memcpy(x, noise, nn * sizeof *x);
        hc_sample_opts o = {S, g[j], 0};
        assert_int_equal(hc_sampler_run(smp, &full, &o, labels, 2, x, NULL), HC_OK);
        snprintf(name, sizeof name, "ddim-%d guidance %g", S, g[j]);
        close_enough(name, x, ref + (size_t)(S - 1) * nn, nn); /* the state after the last step */
        free(ref);
    }
    hc_sampler_free(smp);
    free(noise);
    free(g);
    free(x);
}

static void check_file(const char *h5, const char *model)
{
    hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) fail_msg("%s: cannot open", h5);
    hc_model *m;
    if (hc_model_open(model, 4, &m) != HC_OK) fail_msg("%s", hc_errmsg());
    hc_model_info info;
    hc_model_get_info(m, &info);
    assert_string_equal(info.arch, "dit");
    printf("%s (%s)\n", h5, model);
    forward(f, h5, m, &info);
    cfg(f, h5, m, &info);
    ddim(f, h5, m, &info);
    hc_model_close(m);
    H5Fclose(f);
}

static void tiny(void **state)
{
    (void)state;
    check_file(HC_TEST_DATA "/golden_dit_tiny.h5", HC_TEST_DATA "/golden_dit_tiny.safetensors");
}

static void trained(void **state)
{
    (void)state;
    /* both files are committed: a missing one is a failure, not a skip */
    if (access(HC_TEST_DATA "/golden_dit_fmnist.h5", R_OK) != 0) HC_MISSING_DEP("tests/data/golden_dit_fmnist.h5");
    if (access(HC_TEST_DATA "/../../data/models/dit_fmnist.safetensors", R_OK) != 0)
        HC_MISSING_DEP("data/models/dit_fmnist.safetensors");
    check_file(HC_TEST_DATA "/golden_dit_fmnist.h5", HC_TEST_DATA "/../../data/models/dit_fmnist.safetensors");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiny),
        cmocka_unit_test(trained),
    };
    return HC_RUN_TESTS(tests, hc_test_setup, NULL);
}
