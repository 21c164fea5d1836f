/* test_newpred.c: the law each newer predictor is exact for (adams, foca,
 * spectrum, hicache-analytic, dmd), on hand-made trajectories; the
 * conformance contract (reset, cache_bytes, weights view) is checked for
 * them by test_conformance.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "predictor.h"
#include "testutil.h"
#include "weights.h"

static hc_method parse(const char *spec)
{
    hc_method m;
    if (hc_method_parse(spec, &m) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
    return m;
}

static hc_predictor *make(const hc_method *m, size_t T, size_t D)
{
    hc_predictor *p;
    if (hc_predictor_alloc(m, T, D, 0, &p) != HC_OK) fail_msg("%s: %s", m->spec, hc_errmsg());
    return p;
}

static void observe(hc_predictor *p, int step, const float *f)
{
    hc_step_ctx ctx = {0};
    ctx.step = step;
    p->type->observe(p->state, &ctx, f);
}

static void predict(hc_predictor *p, int step, float *out)
{
    hc_step_ctx ctx = {0};
    ctx.step = step;
    if (p->type->predict(p->state, &ctx, out) != HC_OK) fail_msg("predict at %d: %s", step, hc_errmsg());
}

/* ---- adams ------------------------------------------------------------------------------ */

/* p(t) = 1 + 2t - 0.5t^2 (degree 2 = k-1 for k = 3) and its integral */
static double ab_p(double t) { return 1 + 2 * t - 0.5 * t * t; }
static double ab_P(double t) { return t + t * t - t * t * t / 6; }

/* AB-k integrates a derivative polynomial of degree <= k-1 exactly: build
 * snapshots whose step-unit slopes f_j = (F_j - F_{j+1})/(a_j - a_{j+1}) equal
 * p(a_j) exactly (irregular gaps), forecast = F_0 + int_{a_0}^{a_0+x} p. */
static void adams_law(void **state)
{
    (void)state;
    hc_method m = parse("adams:O=3");
    hc_predictor *p = make(&m, 1, 1);
    const int a[4] = {12, 9, 7, 0}; /* newest first */
    float F[4];
    F[0] = 5.0f;
    for (int j = 0; j < 3; j++) F[j + 1] = (float)(F[j] - (a[j] - a[j + 1]) * ab_p(a[j]));
    for (int j = 3; j >= 0; j--) observe(p, a[j], &F[j]);
    for (int x = 1; x <= 4; x++) {
        float out;
        predict(p, a[0] + x, &out);
        check_close(out, F[0] + ab_P(a[0] + x) - ab_P(a[0]), 1e-4, 1e-5, "adams:O=3", "integrated quadratic slope");
    }
    hc_predictor_free(p);
    /* on features: exact for lines at every order; a quadratic is missed for
     * k = 2 (= TaylorSeer O=2 there): s^2 at 0, 4, 8 forecast at 12 gives
     * 64 + 1.5*48 - 0.5*16 = 128, not 144 */
    for (int k = 1; k <= 4; k++) {
        char spec[32];
        snprintf(spec, sizeof spec, "adams:O=%d", k);
        m = parse(spec);
        p = make(&m, 1, 1);
        for (int s = 0; s <= 20; s += 5) {
            float f = (float)(3 - 0.25 * s);
            observe(p, s, &f);
        }
        for (int s = 21; s < 25; s++) {
            float out;
            predict(p, s, &out);
            check_close(out, 3 - 0.25 * s, 1e-5, 1e-6, spec, "line");
        }
        hc_predictor_free(p);
    }
    m = parse("adams:O=2");
    p = make(&m, 1, 1);
    for (int s = 0; s <= 8; s += 4) {
        float f = (float)(s * s);
        observe(p, s, &f);
    }
    float out;
    predict(p, 12, &out);
    check_close(out, 128, 1e-5, 0, "adams:O=2", "quadratic (hand value 128)");
    hc_predictor_free(p);
    /* AB2's textbook coefficients (3/2, -1/2) at x = h: weights 5/2, -2, 1/2
     * (hc_weights: snapshots oldest first) */
    m = parse("adams:N=4,sched=mod,O=2");
    hc_weights *w;
    if (hc_weights_compute(&m, 20, 8, &w) != HC_OK) fail_msg("%s", hc_errmsg());
    /* x = 2 = h/2: r = 1/2, F = S0 + r(1 + r/2)(S0 - S1) - r^2/2 (S1 - S2) */
    const double r = 0.5, want[3] = {1 + r * (1 + r / 2), -r * (1 + r / 2) - r * r / 2, r * r / 2};
    for (int j = 0; j < 3; j++) check_close(w->w[1 * w->n_snap + w->n_snap - 1 - j], want[j], 1e-6, 0, "adams AB2 weights", "x=2");
    hc_weights_free(w);
}

/* ---- foca -------------------------------------------------------------------------------- */

static void foca_law(void **state)
{
    (void)state;
    hc_method m = parse("foca");
    hc_predictor *p = make(&m, 1, 2);
    const double c[2] = {1.5, -2}, v[2] = {0.25, 0.5};
    for (int s = 2; s <= 9; s += 7) { /* gap 7 */
        float f[2] = {(float)(c[0] + v[0] * s), (float)(c[1] + v[1] * s)};
        observe(p, s, f);
    }
    for (int e = 1; e <= 5; e++) {
        float out[2];
        predict(p, 9 + e, out);
        /* exact for e <= 3; cache-dit's damping beyond: A + 9/4 v, A + 0.225 v */
        double ve = e <= 3 ? e : e == 4 ? 2.25 : 0.225;
        for (int i = 0; i < 2; i++) check_close(out[i], c[i] + v[i] * 9 + ve * v[i], 1e-5, 1e-6, "foca", "line");
    }
    hc_predictor_free(p);
    /* weights: TaylorSeer O=1 up to horizon 3 */
    hc_method t = parse("taylor:N=6,O=1"), f = parse("foca:N=6");
    hc_weights *wt, *wf;
    assert_int_equal(hc_weights_compute(&t, 50, -1, &wt), HC_OK);
    assert_int_equal(hc_weights_compute(&f, 50, -1, &wf), HC_OK);
    for (int i = 0; i < 3 * wt->n_snap; i++) check_close(wf->w[i], wt->w[i], 1e-6, 0, "foca vs taylor:O=1", "weights");
    hc_weights_free(wt);
    hc_weights_free(wf);
}

/* ---- spectrum ---------------------------------------------------------------------------- */

static double cubic(double s) { return 0.5 - 0.3 * s + 0.02 * s * s - 0.001 * s * s * s; }

static void spectrum_law(void **state)
{
    (void)state;
    const char *specs[] = {"spectrum:M=3,lam=0,window=6", "spectrum:M=4,lam=0,window=4", "spectrum:M=3,lam=0,window=4"};
    const int steps[] = {0, 1, 2, 9, 16, 23};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        hc_method m = parse(specs[i]);
        hc_predictor *p = make(&m, 1, 1);
        for (int j = 0; j < 6; j++) {
            float f = (float)cubic(steps[j]);
            observe(p, steps[j], &f);
        }
        for (int s = 24; s < 30; s++) {
            float out;
            predict(p, s, &out);
            check_close(out, cubic(s), 1e-4, 1e-4, specs[i], "cubic");
        }
        hc_predictor_free(p);
    }
    /* shrinkage: |C| non-increasing in lam, and lam = 0 recovers the
     * Chebyshev coefficients of T_0 + 2 T_2 exactly */
    double tau[6], h[6], w[6], C[5], prev = INFINITY;
    for (int j = 0; j < 6; j++) {
        tau[j] = -1 + 0.4 * j;
        h[j] = 1 + 2 * (2 * tau[j] * tau[j] - 1) + 0.1 * sin(7.0 * j);
    }
    const double lams[] = {0, 1e-3, 1e-2, 0.1, 1, 10, 100};
    for (size_t i = 0; i < sizeof lams / sizeof *lams; i++) {
        assert_int_equal(hc_ridge_cheb(tau, 6, 4, lams[i], 1.2, h, w, C), HC_OK);
        double nrm = 0;
        for (int a = 0; a < 5; a++) nrm += C[a] * C[a];
        if (!(nrm <= prev * (1 + 1e-12))) fail_msg("|C|^2 = %g at lam %g > %g at the smaller lam", nrm, lams[i], prev);
        prev = nrm;
    }
    for (int j = 0; j < 6; j++) h[j] = 1 + 2 * (2 * tau[j] * tau[j] - 1);
    assert_int_equal(hc_ridge_cheb(tau, 6, 4, 0, 1.2, h, w, C), HC_OK);
    const double want[5] = {1, 0, 2, 0, 0};
    for (int a = 0; a < 5; a++) check_close(C[a], want[a], 1e-10, 0, "ridge lam=0", "Chebyshev coefficient");
    /* lam = 0, M = 2 over 3 snapshots = Lagrange O=2 (N=6, x=3: 1.875, -1.25, 0.375) */
    hc_method sm = parse("spectrum:N=6,M=2,lam=0,window=3");
    hc_weights *ws;
    assert_int_equal(hc_weights_compute(&sm, 50, -1, &ws), HC_OK);
    const double lw[3] = {1.875, -1.25, 0.375};
    for (int j = 0; j < 3; j++) check_close(ws->w[2 * ws->n_snap + ws->n_snap - 1 - j], lw[j], 1e-6, 0, "spectrum = lagrange", "x=3");
    hc_weights_free(ws);
}

/* ---- hicache-analytic -------------------------------------------------------------------- */

/* a line whose per-token |D_1| is 2 for every token: sigma stays
 * 1.28 / (2 sqrt2 + 1e-6) and the forecasts equal hicache at that sigma */
static void analytic_constant(void **state)
{
    (void)state;
    const double sig = 1.28 / (2 * sqrt(2.0) + 1e-6);
    char spec[96];
    snprintf(spec, sizeof spec, "hicache:O=2,sigma=%.17g", sig);
    hc_method ma = parse("hicache-analytic:O=2"), mh = parse(spec);
    hc_predictor *pa = make(&ma, 2, 2), *ph = make(&mh, 2, 2);
    const float v[4] = {1.2f, 1.6f, 0.0f, -2.0f}; /* token norms 2, 2 */
    unsigned char full[50];
    hc_schedule_mask(&ma.sched, 50, full);
    for (int s = 0; s < 50; s++) {
        if (full[s]) {
            float f[4];
            for (int e = 0; e < 4; e++) f[e] = 0.5f * (float)e + v[e] * (float)s;
            observe(pa, s, f);
            observe(ph, s, f);
            continue;
        }
        float oa[4], oh[4];
        predict(pa, s, oa);
        predict(ph, s, oh);
        for (int e = 0; e < 4; e++) check_close(oa[e], oh[e], 1e-6, 1e-6, "hicache-analytic vs hicache", "forecast");
    }
    hc_predictor_free(pa);
    hc_predictor_free(ph);
}

/* sigma after each full step of a hand-made sequence, read back from an
 * O=1 forecast at x = 1: F_hat - D_0 = 2 sigma^2 D_1 (H_1(sigma) sigma = 2 sigma^2):
 *   before any D_1: sigma = 1.28/(sqrt2 + 1e-6), capped at 1 -> 0.90509668...;
 *   step 2: token |D_1| = 3, 1 -> d = 2, q^2 = 4, sigma = 0.45254817995944696;
 *   step 9: |D_1| = 6, 2 -> d = 4, q^2 = 0.99*4 + 0.01*16 = 4.12,
 *           sigma = 0.44590897380688355;
 *   step 16: |D_1| = 0.5, 0.5 -> d = 0.5, q^2 = 0.99*4.12 + 0.01*0.25,
 *           sigma = 0.44801810030324835. */
static void analytic_sequence(void **state)
{
    (void)state;
    hc_method m = parse("hicache-analytic:O=1");
    hc_predictor *p = make(&m, 2, 1);
    const int steps[] = {0, 1, 2, 9, 16};
    const float F[5][2] = {{0, 0}, {0, 0}, {3, 1}, {3 + 42, 1 - 14}, {45 + 3.5f, -13 - 3.5f}};
    const double d1[5][2] = {{0, 0}, {0, 0}, {3, 1}, {6, -2}, {0.5, -0.5}};
    const double sig[5] = {0, 0, 0.45254817995944696, 0.44590897380688355, 0.44801810030324835};
    for (int j = 0; j < 5; j++) {
        observe(p, steps[j], F[j]);
        if (j < 2) continue;
        float out[2];
        predict(p, steps[j] + 1, out);
        for (int t = 0; t < 2; t++)
            check_close(out[t], F[j][t] + 2 * sig[j] * sig[j] * d1[j][t], 2e-6, 2e-6, "hicache-analytic", "sigma");
    }
    hc_predictor_free(p);
}

/* ---- dmd --------------------------------------------------------------------------------- */

/* x(t) = P R(t) y0: a decaying rotation in a 2-d subspace of T*D elements,
 * one per group with its own rate; P fixed pseudo-random */
static double dmd_traj(int g, size_t e, double t)
{
    const double al = g ? 0.05 : 0.02, om = g ? 0.2 : 0.3;
    double c = exp(-al * t) * cos(om * t), s = exp(-al * t) * sin(om * t);
    double y0 = 1.0, y1 = 0.5; /* y(t) = R(t) y0 */
    double a = c * y0 - s * y1, b = s * y0 + c * y1;
    double p0 = sin(1.3 * (double)e + g), p1 = cos(0.7 * (double)e * (double)e + 2 * g);
    return p0 * a + p1 * b;
}

static void dmd_law(void **state)
{
    (void)state;
    enum { T = 4, Dc = 5, G = 2 };
    hc_method m = parse("dmd:r=2,m=4");
    m.groups = G;
    hc_predictor *p = make(&m, T, Dc);
    const size_t gn = T / G * Dc;
    float f[T * Dc], out[T * Dc];
    /* full steps 0, 1, 2 (warm-up), then every 3: 5, 8, 11, 14 */
    const int full[] = {0, 1, 2, 5, 8, 11, 14};
    for (int j = 0; j < 7; j++) {
        for (int g = 0; g < G; g++)
            for (size_t e = 0; e < gn; e++) f[g * gn + e] = (float)dmd_traj(g, e, full[j]);
        observe(p, full[j], f);
    }
    /* uniform tail 2, 5, 8, 11, 14: DMD on 5..14; k = 1/3, 2/3 (fractional), 1, 4/3 */
    for (int s = 15; s <= 18; s++) {
        predict(p, s, out);
        for (int g = 0; g < G; g++)
            for (size_t e = 0; e < gn; e++)
                check_close(out[g * gn + e], dmd_traj(g, e, s), 2e-5, 1e-4, "dmd rank-2 rotation", "forecast");
    }
    hc_predictor_free(p);
    /* before m uniformly spaced snapshots: TaylorSeer of order O */
    hc_method mt = parse("taylor:O=1");
    p = make(&m, T, Dc);
    hc_predictor *pt = make(&mt, T, Dc);
    float ot[T * Dc];
    for (int j = 0; j < 4; j++) {
        for (size_t e = 0; e < T * Dc; e++) f[e] = (float)(sin(0.3 * full[j] + (double)e) * (1 + 0.1 * full[j]));
        observe(p, full[j], f);
        observe(pt, full[j], f);
    }
    predict(p, 6, out);
    predict(pt, 6, ot);
    assert_memory_equal(out, ot, sizeof out);
    hc_predictor_free(p);
    hc_predictor_free(pt);
    /* rank-1 map x_{j+1} = 0.8 x_j (r = 2 > rank: one mode kept), integer k */
    m = parse("dmd:r=2,m=4");
    p = make(&m, 1, 3);
    const float u[3] = {1, -2, 0.5f};
    for (int j = 0; j < 4; j++) {
        for (int e = 0; e < 3; e++) f[e] = u[e] * (float)pow(0.8, j);
        observe(p, 4 * j, f);
    }
    predict(p, 16, out); /* not a full step here: k = 1 */
    for (int e = 0; e < 3; e++) check_close(out[e], u[e] * pow(0.8, 4), 1e-6, 1e-5, "dmd rank-1", "k=1");
    hc_predictor_free(p);
    /* r > m - 1 is refused at alloc */
    hc_method bad = parse("dmd:r=4,m=4");
    hc_predictor *q = NULL;
    assert_int_equal(hc_predictor_alloc(&bad, 1, 3, 0, &q), HC_EINVAL);
    assert_null(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adams_law),         cmocka_unit_test(foca_law),
        cmocka_unit_test(spectrum_law),      cmocka_unit_test(analytic_constant),
        cmocka_unit_test(analytic_sequence), cmocka_unit_test(dmd_law),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
