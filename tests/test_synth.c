/* test_synth.c: synthetic trajectories are deterministic and have the law
 * they claim (polynomial degree, GP marginal variance, cluster structure). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "synth.h"
#include "traj.h"

static float *module(const hc_synth_opts *o, int m)
{
    float *b = malloc(sizeof(float) * (size_t)o->steps * o->tokens * o->channels);
    assert_int_equal(hc_synth_module(o, m, b), HC_OK);
    return b;
}

static void same_seed_same_data(void **state)
{
    (void)state;
    static const hc_synth_kind kinds[] = {HC_SYNTH_POLY, HC_SYNTH_SIN, HC_SYNTH_GP};
    for (size_t k = 0; k < 3; k++) {
        hc_synth_opts o;
        hc_synth_defaults(&o);
        o.kind = kinds[k];
        o.seed = 42;
        size_t n = (size_t)o.steps * o.tokens * o.channels;
        float *a = module(&o, 1), *b = module(&o, 1), *c = module(&o, 2);
        assert_memory_equal(a, b, n * sizeof *a);
        assert_memory_not_equal(a, c, n * sizeof *a);
        o.seed = 43;
        float *d = module(&o, 1);
        assert_memory_not_equal(a, d, n * sizeof *a);
        free(a); free(b); free(c); free(d);
    }
    /* the written file holds exactly hc_synth_module's data, twice the same */
    hc_synth_opts o;
    hc_synth_defaults(&o);
    o.seed = 9;
    assert_int_equal(hc_synth_write("s1.h5", &o), HC_OK);
    hc_traj *t;
    assert_int_equal(hc_traj_open("s1.h5", &t), HC_OK);
    size_t TD = (size_t)o.tokens * o.channels;
    float *row = malloc(TD * sizeof *row);
    for (int m = 0; m < o.modules; m++) {
        float *ref = module(&o, m);
        int layer;
        const char *mod;
        char name[64];
        hc_synth_module_name(m, &layer, &mod);
        snprintf(name, sizeof name, "dit/%d/%s", layer, mod);
        long idx = hc_traj_find(t, HC_ENTRY_FEATURE, name);
        assert_true(idx >= 0);
        for (int s = 0; s < o.steps; s++) {
            assert_int_equal(hc_traj_read_row(t, (size_t)idx, s, row), HC_OK);
            assert_memory_equal(row, ref + (size_t)s * TD, TD * sizeof *row);
        }
        free(ref);
    }
    free(row);
    hc_traj_close(t);
    remove("s1.h5");
}

/* (k+1)-th forward difference of a degree-k polynomial vanishes; the k-th
 * does not. */
static void poly_has_its_degree(void **state)
{
    (void)state;
    for (int deg = 0; deg <= 4; deg++) {
        hc_synth_opts o;
        hc_synth_defaults(&o);
        o.kind = HC_SYNTH_POLY;
        o.degree = deg;
        o.steps = 8; /* coarse grid: the deg-th difference a_k k! / 7^k stays well above rounding */
        o.clusters = 0;
        float *b = module(&o, 0);
        size_t TD = (size_t)o.tokens * o.channels;
        double worst_next = 0, typical_this = 0;
        for (size_t e = 0; e < TD; e++) {
            double v[8];
            for (int s = 0; s < 8; s++) v[s] = b[s * TD + e];
            for (int order = 1; order <= deg; order++)
                for (int s = 0; s < 8 - order; s++) v[s] = v[s + 1] - v[s];
            /* v now holds the deg-th differences: constant */
            typical_this += fabs(v[0]);
            for (int s = 0; s + 1 < 8 - deg; s++) worst_next = fmax(worst_next, fabs(v[s + 1] - v[s]));
        }
        typical_this /= (double)TD;
        /* float32 rounding of values of size ~1 amplified by 2^(deg+1) */
        assert_true(worst_next < 1e-5 * pow(2, deg + 1));
        assert_true(typical_this > 100 * worst_next + 1e-9);
        free(b);
    }
}

/* GP samples: zero mean, unit marginal variance, neighbours correlated as
 * exp(-dt^2 / 2l^2).  Checked on 512 x 16 independent elements. */
static void gp_has_its_kernel(void **state)
{
    (void)state;
    hc_synth_opts o;
    hc_synth_defaults(&o);
    o.kind = HC_SYNTH_GP;
    o.steps = 20;
    o.tokens = 64;
    o.channels = 128;
    o.clusters = 0;
    o.length_scale = 0.1;
    float *b = module(&o, 0);
    size_t TD = (size_t)o.tokens * o.channels;
    double m = 0, v = 0, c1 = 0;
    for (size_t e = 0; e < TD; e++) {
        m += b[5 * TD + e];
        v += (double)b[5 * TD + e] * b[5 * TD + e];
        c1 += (double)b[5 * TD + e] * b[6 * TD + e];
    }
    m /= (double)TD;
    v /= (double)TD;
    c1 /= (double)TD;
    double dt = 1.0 / o.steps, rho = exp(-dt * dt / (2 * 0.01));
    /* standard errors with n = 8192: mean 0.011, variance 0.016, cov <= 0.016 */
    assert_true(fabs(m) < 0.05);
    assert_true(fabs(v - 1) < 0.07);
    assert_true(fabs(c1 - rho) < 0.07);
    free(b);
}

static void clusters_share_a_base(void **state)
{
    (void)state;
    hc_synth_opts o;
    hc_synth_defaults(&o);
    o.tokens = 12;
    o.clusters = 3;
    o.token_noise = 0.1;
    float *b = module(&o, 0);
    size_t D = (size_t)o.channels;
    /* tokens 0 and 3 share cluster 0; 0 and 1 do not */
    double same = 0, diff = 0;
    for (int s = 0; s < o.steps; s++)
        for (size_t d = 0; d < D; d++) {
            const float *r = b + (size_t)s * o.tokens * D;
            same += fabs(r[0 * D + d] - r[3 * D + d]);
            diff += fabs(r[0 * D + d] - r[1 * D + d]);
        }
    assert_true(same * 3 < diff);
    free(b);
}

static void invalid_options(void **state)
{
    (void)state;
    hc_synth_opts o;
    hc_synth_defaults(&o);
    o.steps = 1;
    assert_int_equal(hc_synth_validate(&o), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "--steps"));
    hc_synth_defaults(&o);
    o.clusters = o.tokens + 1;
    assert_int_equal(hc_synth_validate(&o), HC_EINVAL);
    hc_synth_kind k;
    assert_int_equal(hc_synth_kind_parse("brownian", &k), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "poly, sin, gp"));
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_data),
        cmocka_unit_test(poly_has_its_degree),
        cmocka_unit_test(gp_has_its_kernel),
        cmocka_unit_test(clusters_share_a_base),
        cmocka_unit_test(invalid_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
