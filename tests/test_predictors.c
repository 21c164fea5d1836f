/* test_predictors.c: schedules, the official cache recursion, basis
 * coefficients against hicache.md's tables, polynomial exactness, method
 * equivalences, ClusCa with gamma = 0, and the weights view. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>

#include "predictor.h"
#include "weights.h"

static hc_method parse(const char *spec)
{
    hc_method m;
    if (hc_method_parse(spec, &m) != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
    return m;
}

/* ---- schedules -------------------------------------------------------------- */

static void schedule_tables(void **state)
{
    (void)state;
    unsigned char full[50];
    /* hicache.md §3.1 / baselines.md §1.1: S=50, W=3, N=3..10 */
    static const int flux[] = {18, 14, 12, 10, 9, 8, 8, 7};
    for (int N = 3; N <= 10; N++) {
        hc_schedule sc = {HC_SCHED_FLUX, N, 3};
        assert_int_equal(hc_schedule_mask(&sc, 50, full), flux[N - 3]);
    }
    hc_schedule sc7 = {HC_SCHED_FLUX, 7, 3};
    hc_schedule_mask(&sc7, 50, full);
    static const int idx7[] = {0, 1, 2, 9, 16, 23, 30, 37, 44};
    int j = 0;
    for (int s = 0; s < 50; s++)
        if (full[s]) assert_int_equal(s, idx7[j++]);
    assert_int_equal(j, 9);
    /* DiT count-down, W=2: N=3..7 -> 18, 14, 11, 10, 8 */
    static const int dit[] = {18, 14, 11, 10, 8};
    for (int N = 3; N <= 7; N++) {
        hc_schedule sc = {HC_SCHED_DIT, N, 2};
        assert_int_equal(hc_schedule_mask(&sc, 50, full), dit[N - 3]);
    }
    /* FORA s mod N; FE=1 N=7 also gives 8 (0, 7, ..., 49) */
    hc_schedule m7 = {HC_SCHED_MOD, 7, 1}, f1 = {HC_SCHED_FLUX, 7, 1};
    assert_int_equal(hc_schedule_mask(&m7, 50, full), 8);
    assert_true(full[0] && full[7] && full[49] && !full[48]);
    assert_int_equal(hc_schedule_mask(&f1, 50, full), 8);
    hc_schedule n1 = {HC_SCHED_FLUX, 1, 3};
    assert_int_equal(hc_schedule_mask(&n1, 50, full), 50);
}

/* ---- spec parsing --------------------------------------------------------------- */

static void spec_parsing(void **state)
{
    (void)state;
    hc_method m = parse("hicache:N=5,W=2,O=3,sigma=0.4");
    assert_string_equal(m.type->name, "hicache");
    assert_true(m.sched.N == 5 && m.sched.W == 2 && m.order == 3 && m.sigma == 0.4);
    char buf[256];
    hc_method_describe(&m, buf, sizeof buf);
    assert_string_equal(buf, "hicache:N=5,W=2,sched=flux,O=3,sigma=0.4");
    hc_method_label(&m, buf, sizeof buf);
    assert_string_equal(buf, "HiCache (N=5, O=3, σ=0.4)");
    m = parse("taylor");
    assert_true(m.sched.N == 7 && m.sched.W == 3 && m.order == 2);
    hc_method_label(&m, buf, sizeof buf);
    assert_string_equal(buf, "TaylorSeer (N=7, O=2)");
    m = parse("clusca:base=hicache,K=8,O=1");
    assert_string_equal(m.base->name, "hicache");
    assert_true(m.K == 8 && m.order == 1 && m.sigma == 0.5 && m.gamma == 0.005);
    hc_method_label(&m, buf, sizeof buf);
    assert_string_equal(buf, "Hi-ClusCa (N=7, O=1, σ=0.5, K=8)");
    m = parse("full");
    assert_int_equal(m.sched.N, 1);
    hc_method_describe(&m, buf, sizeof buf);
    assert_string_equal(buf, "full:N=1,W=3,sched=flux");
    m = parse("full:N=1");
    assert_int_equal(m.sched.N, 1);
    hc_method_describe(&m, buf, sizeof buf);
    assert_string_equal(buf, "full:N=1,W=3,sched=flux");
    m = parse("taylor:sched=dit");
    assert_int_equal(m.sched.W, 2);
    m = parse("reuse:N=4");
    assert_int_equal(m.order, 0);
    hc_method_label(&m, buf, sizeof buf);
    assert_string_equal(buf, "FORA (N=4)");

    static const struct { const char *spec, *msg; } bad[] = {
        {"tayler:N=5", "unknown method 'tayler' (valid: full, reuse, taylor, hermite, hicache"},
        {"taylor:sigma=0.5", "unknown key 'sigma' for taylor (valid: N,W,sched,O)"},
        {"hicache:N=0", "N=0 out of range"},
        {"hicache:sigma=abc", "sigma=abc is not a number"},
        {"hicache:O=9", "O=9 out of range"},
        {"hicache:N", "'N' is not key=value"},
        {"taylor:sched=backwards", "sched=backwards (valid: flux, dit, mod)"},
        {"clusca:base=lagrange", "base=lagrange (valid: a predictor with an order-0 cache"},
        {"clusca:base=clusca", "base=clusca"},
        {"clusca:gamma=2", "gamma=2 out of range"},
        {"reuse:O=2", "unknown key 'O' for reuse"},
        {"", "empty method spec"},
        /* the shape of the key list (issue 13) */
        {"taylor:N=7,N=8", "method 'taylor:N=7,N=8': key 'N' given twice"},
        {"taylor:O=2,O=2", "method 'taylor:O=2,O=2': key 'O' given twice"},
        {"hicache:sigma=0.5,N=7,sigma=0.5", "key 'sigma' given twice"},
        {"taylor:sched=flux,sched=dit", "key 'sched' given twice"},
        {"clusca:base=taylor,base=hicache", "key 'base' given twice"},
        {"taylor:N=7,,O=2", "method 'taylor:N=7,,O=2': empty key=value pair (a doubled comma)"},
        {"taylor:N=7,", "method 'taylor:N=7,': empty key=value pair (a trailing comma)"},
        {"taylor:,N=7", "method 'taylor:,N=7': empty key=value pair (a leading comma)"},
        {"taylor:,", "empty key=value pair (a leading comma)"},
        {"taylor:", "method 'taylor:': no key=value pairs after ':' (write 'taylor' for the defaults)"},
        {"full:N=5", "method 'full:N=5': full computes every step: N=5 cannot apply (only N=1 is accepted)"},
        {"full:N=2,N=1", "key 'N' given twice"},
        {"full:O=2", "method 'full:O=2': full computes every step and takes no 'O' (only N=1, and W and sched, which have no effect)"},
        {"full:N=1,K=4", "full computes every step and takes no 'K'"},
        {"full:", "method 'full:': no key=value pairs after ':'"},
        {"taylor:N=7 ", "method 'taylor:N=7 ': no spaces allowed"},
        {"taylor: N=7", "no spaces allowed"},
        {"taylor:N=7,\tO=2", "no spaces allowed"},
        {"taylor:N=7\n", "method 'taylor:N=7\\x0a': control character 0x0a at offset 10"},
        {"taylor:\x7f\rN=7", "method 'taylor:\\x7f\\x0dN=7': control character 0x7f at offset 7"},
        {"taylor:=7", "'=7' is not key=value"},
        {"taylor:N=", "'N=' is not key=value"},
        {"taylor:N=99999999999999999999", "N=99999999999999999999 is not an integer"},
        {"taylor:N=7.0", "N=7.0 is not an integer"},
        {"hicache:sigma=nan", "sigma=nan is not a number"},
        {"hicache:sigma=1e999", "sigma=1e999 is not a number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hc_method x;
        assert_int_equal(hc_method_parse(bad[i].spec, &x), HC_EINVAL);
        if (!strstr(hc_errmsg(), bad[i].msg))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].spec, hc_errmsg(), bad[i].msg);
    }
}

/* Every spec written in experiments/, README.md and docs/ (found
 * with grep; placeholders such as N=N and deliberate errors left out)
 * parses. */
static void documented_specs(void **state)
{
    (void)state;
    static const char *const specs[] = {
        "full", "reuse", "taylor", "hermite", "hicache", "hermite-arg", "hermite-coef", "hitaylor", "lagrange", "clusca",
        "clusca:base=hicache,N=7,K=16", "clusca:base=hicache,N=7,W=3,O=2,sigma=0.5,K=16,gamma=0.005",
        "clusca:base=hicache,W=3,O=2,sigma=0.5,K=16,gamma=0.005", "clusca:base=hicache", "clusca:base=taylor",
        "clusca:base=taylor,K=16,gamma=0.005", "clusca:base=taylor,K=16,gamma=0.005,seed=0,fresh=mlp,iters=10",
        "clusca:base=taylor,N=7,W=3,O=2,K=16,gamma=0.005", "clusca:base=taylor,W=3,O=2,K=16,gamma=0.005",
        "hermite:O=2", "hicache:N=7,O=2,sigma=0.5", "hicache:N=7,O=2", "hicache:N=7,W=3,O=2",
        "hicache:N=7,W=3,O=2,sigma=0.5", "hicache:N=7,W=3,sigma=0.5", "hicache:O=2", "hicache:O=2,sigma=0.5",
        "hicache:W=3,O=2,sigma=0.5", "hitaylor:N=7,W=3,O=2,sigma=0.5", "hitaylor:O=2,sigma=0.5", "lagrange:N=6,O=2",
        "lagrange:N=6,W=3,sched=flux,O=2", "lagrange:N=7,W=3", "lagrange:N=7,W=3,O=2", "lagrange:O=2", "reuse:N=2,W=1",
        "reuse:N=7,W=3", "reuse:W=3", "taylor:N=3,O=1", "taylor:N=3,O=2", "taylor:N=3,W=1,O=1",
        "taylor:N=3,W=1,sched=flux,O=1", "taylor:N=5,O=2", "taylor:N=6,O=2", "taylor:N=6,W=3,sched=flux,O=2", "taylor:N=7",
        "taylor:N=7,O=2", "taylor:N=7,W=3", "taylor:N=7,W=3,O=2", "taylor:O=2", "taylor:W=3", "taylor:W=3,O=2",
        "taylor:N=5,W=3,O=2", "hicache:N=5,W=2,O=3,sigma=0.4", "taylor:sched=dit", "clusca:base=hicache,K=8,O=1",
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        hc_method m = parse(specs[i]);
        /* the canonical description of a caching method parses back to itself */
        char d1[256], d2[256];
        hc_method_describe(&m, d1, sizeof d1);
        if (hc_method_caps(&m) & HC_PRED_NO_CACHE) continue; /* full takes only N=1, not W and sched */
        hc_method r = parse(d1);
        hc_method_describe(&r, d2, sizeof d2);
        assert_string_equal(d1, d2);
    }
}

/* ---- coefficients (hicache.md §1.4 exact values; ecosystem.md §2.1) ---------------- */

static void hicache_coefficients(void **state)
{
    (void)state;
    static const struct { double sigma; int k; double v[6]; } table[] = {
        {0.5, 1, {0.5, 1.0, 1.5, 2.0, 2.5, 3.0}},
        {0.5, 2, {-0.125, 0.25, 0.875, 1.75, 2.875, 4.25}},
        {0.5, 3, {-5.0 / 48, -1.0 / 12, 0.1875, 5.0 / 6, 95.0 / 48, 3.75}},
        {0.4, 1, {0.32, 0.64, 0.96, 1.28, 1.60, 1.92}},
        {0.4, 2, {-0.1088, 0.0448, 0.3008, 0.6592, 1.120, 1.6832}},
        {0.7, 2, {-0.0098, 1.4308, 3.8318, 7.1932, 11.515, 16.797}},
        {1.0, 2, {1, 7, 17, 31, 49, 71}},
    };
    const hc_pred_type *hc = hc_pred_type_find("hicache");
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        hc_method m = parse("hicache:O=3");
        m.sigma = table[i].sigma;
        for (int x = 1; x <= 6; x++) {
            double c[HC_MAX_ORDER + 1];
            hc->coef(&m, x, 3, c);
            assert_float_equal(c[0], 1.0, 1e-15);
            /* the table prints 4-5 significant digits */
            assert_float_equal(c[table[i].k], table[i].v[x - 1], 5e-4 * fmax(1, fabs(table[i].v[x - 1])));
        }
    }
    /* ecosystem.md: sigma=0.5, x=3 -> {1, 1.5, 0.875, 0.1875, -0.0390625} (exact) */
    hc_method m = parse("hicache:O=4,sigma=0.5");
    double c[HC_MAX_ORDER + 1];
    hc->coef(&m, 3, 4, c);
    static const double want[] = {1, 1.5, 0.875, 0.1875, -0.0390625};
    for (int k = 0; k <= 4; k++) assert_float_equal(c[k], want[k], 1e-12);
    /* Hi-Taylor sigma=0.5: x/4 and x^2/32 */
    hc_method ht = parse("hitaylor:O=2,sigma=0.5");
    ht.type->coef(&ht, 3, 2, c);
    assert_float_equal(c[1], 0.75, 1e-12);
    assert_float_equal(c[2], 9.0 / 32, 1e-12);
    /* ablations: sigma on one side only */
    hc_method ha = parse("hermite-arg:O=2,sigma=0.5"), hk = parse("hermite-coef:O=2,sigma=0.5");
    ha.type->coef(&ha, 2, 2, c);
    assert_float_equal(c[1], 2.0, 1e-12);              /* H_1(1) = 2 */
    assert_float_equal(c[2], (4.0 - 2) / 2, 1e-12);    /* H_2(1)/2 = 1 */
    hk.type->coef(&hk, 2, 2, c);
    assert_float_equal(c[1], 0.5 * 4, 1e-12);          /* 0.5 H_1(2) */
    assert_float_equal(c[2], 0.25 * 14 / 2, 1e-12);    /* 0.25 H_2(2)/2 */
}

/* ---- the official recursion and warm-up mixing (hicache.md §1.8) ------------------ */

static void warmup_gap_mixing(void **state)
{
    (void)state;
    hc_method m = parse("taylor:N=7,W=3,O=2");
    hc_predictor *p;
    assert_int_equal(hc_predictor_alloc(&m, 1, 1, 0, &p), HC_OK);
    const hc_dcache *c = p->state; /* taylor's state is the divided-difference cache */
    float F[50];
    for (int s = 0; s < 50; s++) F[s] = (float)(0.5 * s * s + 3 * s + 1) / 64;
    unsigned char full[50];
    hc_schedule_mask(&m.sched, 50, full);
    hc_step_ctx ctx = {0};
    for (int s = 0; s <= 16; s++) {
        if (!full[s]) continue;
        ctx.step = s;
        p->type->observe(p->state, &ctx, &F[s]);
        switch (s) {
        case 0: assert_int_equal(hc_dcache_valid(c), 1); break;
        case 1: assert_int_equal(hc_dcache_valid(c), 1); break; /* step > W-2 fails: orders dropped */
        case 2:
            assert_int_equal(hc_dcache_valid(c), 2);
            assert_float_equal(hc_dcache_order(c, 1)[0], F[2] - F[1], 1e-6);
            break;
        case 9: {
            float d1 = (F[9] - F[2]) / 7, d2 = (d1 - (F[2] - F[1])) / 7; /* mixes gaps 1 and 7 */
            assert_int_equal(hc_dcache_valid(c), 3);
            assert_float_equal(hc_dcache_order(c, 0)[0], F[9], 0);
            assert_float_equal(hc_dcache_order(c, 1)[0], d1, 1e-6);
            assert_float_equal(hc_dcache_order(c, 2)[0], d2, 1e-6);
            break;
        }
        case 16: { /* uniform from here: D2 = F'' = 1/64 for this quadratic */
            assert_float_equal(hc_dcache_order(c, 2)[0], 1.0 / 64, 1e-5);
            break;
        }
        }
    }
    /* cached steps 3..8 used order 1 only: horizon 1 from anchor 2 */
    hc_predictor_free(p);
}

/* ---- exactness on polynomials ----------------------------------------------------- */

/* Run `spec` on F(s) = poly of degree deg in s (per element) and return the
 * worst relative error over cached steps after step `from`. */
static double poly_error(const char *spec, int deg, int from)
{
    hc_method m = parse(spec);
    enum { S = 50, n = 8 };
    double a[n][6];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    for (int e = 0; e < n; e++)
        for (int j = 0; j <= deg; j++) a[e][j] = gsl_ran_gaussian(r, 1.0);
    gsl_rng_free(r);
    hc_predictor *p;
    assert_int_equal(hc_predictor_alloc(&m, 1, n, 0, &p), HC_OK);
    unsigned char full[S];
    hc_schedule_mask(&m.sched, S, full);
    float F[n], out[n];
    double worst = 0;
    hc_step_ctx ctx = {0};
    for (int s = 0; s < S; s++) {
        double u = s / 49.0; /* keep values O(1) */
        for (int e = 0; e < n; e++) {
            double v = 0;
            for (int j = deg; j >= 0; j--) v = v * u + a[e][j];
            F[e] = (float)v;
        }
        ctx.step = s;
        if (full[s]) {
            p->type->observe(p->state, &ctx, F);
        } else if (s > from) {
            assert_int_equal(p->type->predict(p->state, &ctx, out), HC_OK);
            for (int e = 0; e < n; e++) worst = fmax(worst, fabs(out[e] - F[e]) / fmax(1, fabs(F[e])));
        }
    }
    hc_predictor_free(p);
    return worst;
}

static void exact_on_polynomials(void **state)
{
    (void)state;
    char spec[96];
    for (int k = 0; k <= 4; k++) {
        /* float32 differences divided by N^k: error grows with k */
        double tol = 2e-5 * pow(8, k);
        /* Lagrange through the last k+1 snapshots: exact on degree k, uniform
         * spacing from the start (s mod N) or the official warm-up schedule */
        snprintf(spec, sizeof spec, "lagrange:N=5,sched=mod,O=%d", k);
        double el = poly_error(spec, k, 5 * k);
        snprintf(spec, sizeof spec, "lagrange:N=6,W=3,O=%d", k);
        double elf = poly_error(spec, k, 2 + 6 * k);
        if (el > tol || elf > tol) fail_msg("lagrange order %d: %.3g / %.3g > %.3g", k, el, elf, tol);
        /* TaylorSeer's backward divided differences: order k is exact on
         * polynomials of degree <= 1 only (D_1 is the slope at a - N/2, so a
         * quadratic leaves an error -F'' N x / 2: baselines.md §2.6) */
        snprintf(spec, sizeof spec, "taylor:N=5,sched=mod,O=%d", k);
        double et1 = poly_error(spec, k < 1 ? k : 1, 5 * k);
        snprintf(spec, sizeof spec, "taylor:N=6,W=3,O=%d", k);
        double ef1 = poly_error(spec, k < 1 ? k : 1, 2 + 6 * k);
        if (et1 > tol || ef1 > tol) fail_msg("taylor order %d on a line: %.3g / %.3g", k, et1, ef1);
        if (k >= 2) {
            snprintf(spec, sizeof spec, "taylor:N=5,sched=mod,O=%d", k);
            assert_true(poly_error(spec, k, 5 * k) > 1e-3);
        }
        /* one order less than the degree is never exact */
        if (k >= 1) {
            snprintf(spec, sizeof spec, "lagrange:N=5,sched=mod,O=%d", k - 1);
            assert_true(poly_error(spec, k, 5 * k) > 1e-3);
        }
    }
    /* HiCache with sigma=1/sqrt(2), O=1 is TaylorSeer O=1 */
    for (int deg = 1; deg <= 3; deg++) {
        hc_method a = parse("taylor:N=6,O=1"), b = parse("hicache:N=6,O=1");
        b.sigma = 1 / sqrt(2.0);
        double ca[3], cb[3];
        for (int x = 1; x < 6; x++) {
            a.type->coef(&a, x, 1, ca);
            b.type->coef(&b, x, 1, cb);
            assert_float_equal(ca[1], cb[1], 1e-12);
        }
    }
}

/* Full predictor runs of two methods on the same random trajectory agree. */
static double max_diff(const char *s1, double sigma1, const char *s2, int T, int D)
{
    hc_method m1 = parse(s1), m2 = parse(s2);
    if (sigma1 > 0) m1.sigma = sigma1;
    hc_predictor *p1, *p2;
    assert_int_equal(hc_predictor_alloc(&m1, (size_t)T, (size_t)D, 3, &p1), HC_OK);
    assert_int_equal(hc_predictor_alloc(&m2, (size_t)T, (size_t)D, 3, &p2), HC_OK);
    size_t n = (size_t)T * D;
    float *F = malloc(n * sizeof *F), *o1 = malloc(n * sizeof *F), *o2 = malloc(n * sizeof *F);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    unsigned char full[40];
    hc_schedule_mask(&m1.sched, 40, full);
    double worst = 0;
    hc_step_ctx ctx = {0};
    for (int s = 0; s < 40; s++) {
        for (size_t e = 0; e < n; e++) F[e] = (float)gsl_ran_gaussian(r, 1.0);
        ctx.step = s;
        if (full[s]) {
            p1->type->observe(p1->state, &ctx, F);
            p2->type->observe(p2->state, &ctx, F);
        } else {
            p1->type->predict(p1->state, &ctx, o1);
            p2->type->predict(p2->state, &ctx, o2);
            for (size_t e = 0; e < n; e++) worst = fmax(worst, fabs(o1[e] - o2[e]));
        }
    }
    gsl_rng_free(r);
    free(F); free(o1); free(o2);
    hc_predictor_free(p1);
    hc_predictor_free(p2);
    return worst;
}

static void method_equivalences(void **state)
{
    (void)state;
    assert_true(max_diff("hicache:N=5,O=1", 1 / sqrt(2.0), "taylor:N=5,O=1", 4, 8) < 1e-5);
    assert_true(max_diff("hicache:N=5,O=0", 0, "reuse:N=5", 4, 8) == 0);
    assert_true(max_diff("taylor:N=5,O=0", 0, "reuse:N=5", 4, 8) == 0);
    assert_true(max_diff("hitaylor:N=5,O=2", 1.0, "taylor:N=5,O=2", 4, 8) == 0);
    assert_true(max_diff("hermite-arg:N=5,O=2", 1.0, "hermite:N=5,O=2", 4, 8) == 0);
    /* and the variants do differ */
    assert_true(max_diff("hicache:N=5,O=2", 0, "taylor:N=5,O=2", 4, 8) > 1e-3);
}

/* ---- ClusCa ------------------------------------------------------------------------ */

typedef struct fresh_src { const float *truth; size_t D; int calls; unsigned char *ever; } fresh_src;

static hc_status fresh_copy(void *ud, const int *tok, int n, float *rows)
{
    fresh_src *f = ud;
    for (int i = 0; i < n; i++) memcpy(rows + (size_t)i * f->D, f->truth + (size_t)tok[i] * f->D, f->D * sizeof *rows);
    f->calls++;
    if (f->ever)
        for (int i = 0; i < n; i++) f->ever[tok[i]] = 1;
    return HC_OK;
}

static void clusca_gamma0_equals_base(void **state)
{
    (void)state;
    enum { T = 32, D = 4, S = 30 };
    hc_method mc = parse("clusca:base=hicache,K=4,gamma=0,N=5,O=2"), mb = parse("hicache:N=5,O=2");
    hc_method mg = parse("clusca:base=hicache,K=4,gamma=0.5,N=5,O=2");
    hc_predictor *pc, *pb, *pg;
    assert_int_equal(hc_predictor_alloc(&mc, T, D, 1, &pc), HC_OK);
    assert_int_equal(hc_predictor_alloc(&mb, T, D, 1, &pb), HC_OK);
    assert_int_equal(hc_predictor_alloc(&mg, T, D, 1, &pg), HC_OK);
    int labels[T];
    for (int t = 0; t < T; t++) labels[t] = t % 4;
    float F[T * D], oc[T * D], ob[T * D], og[T * D];
    unsigned char full[S], ever[T] = {0};
    hc_schedule_mask(&mb.sched, S, full);
    fresh_src src = {F, D, 0, ever};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    int blended_differs = 0;
    for (int s = 0; s < S; s++) {
        for (int e = 0; e < T * D; e++) F[e] = (float)(sin(0.2 * s + e) + gsl_ran_gaussian(r, 0.1));
        hc_step_ctx ctx = {.step = s, .labels = labels, .n_clusters = 4, .fresh = fresh_copy,
                           .fresh_ud = &src, .fresh_ok = 1};
        if (full[s]) {
            pc->type->observe(pc->state, &ctx, F);
            pb->type->observe(pb->state, &ctx, F);
            pg->type->observe(pg->state, &ctx, F);
            continue;
        }
        pc->type->predict(pc->state, &ctx, oc);
        pb->type->predict(pb->state, &ctx, ob);
        pg->type->predict(pg->state, &ctx, og);
        /* gamma = 0: a token never refreshed is the base forecast bit for bit
         * (refreshed ones keep differing: the edit of D_0 enters the next
         * full step's D_1, as in the official code) */
        int n_diff = 0;
        for (int t = 0; t < T; t++) {
            int differs = memcmp(oc + t * D, ob + t * D, D * sizeof *oc) != 0;
            n_diff += differs;
            if (differs && !ever[t]) fail_msg("step %d: token %d differs but was never refreshed", s, t);
        }
        assert_true(n_diff >= 1);
        for (int t = 0; t < T; t++)
            if (memcmp(og + t * D, ob + t * D, D * sizeof *og) != 0) blended_differs++;
    }
    assert_true(src.calls > 0);
    assert_true(blended_differs > T); /* gamma > 0 moves every member */
    /* no fresh source: ClusCa is exactly its base */
    hc_predictor_free(pc);
    assert_int_equal(hc_predictor_alloc(&mc, T, D, 1, &pc), HC_OK);
    pb->type->reset(pb->state);
    for (int s = 0; s < S; s++) {
        for (int e = 0; e < T * D; e++) F[e] = (float)cos(0.3 * s * e);
        hc_step_ctx ctx = {.step = s};
        if (full[s]) {
            pc->type->observe(pc->state, &ctx, F);
            pb->type->observe(pb->state, &ctx, F);
        } else {
            pc->type->predict(pc->state, &ctx, oc);
            pb->type->predict(pb->state, &ctx, ob);
            assert_memory_equal(oc, ob, sizeof oc);
        }
    }
    gsl_rng_free(r);
    hc_predictor_free(pc);
    hc_predictor_free(pb);
    hc_predictor_free(pg);
}

/* ---- the weights view ------------------------------------------------------------------- */

static void weights_reproduce_predictions(void **state)
{
    (void)state;
    static const char *const specs[] = {"taylor:N=6,O=2", "hicache:N=7,O=2", "hicache:N=7,O=3,sigma=0.4",
                                        "lagrange:N=6,O=2", "reuse:N=5", "hermite:N=4,O=1",
                                        "hitaylor:N=7,O=2", "taylor:N=6,O=2,sched=dit"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        hc_method m = parse(specs[i]);
        hc_weights *w;
        assert_int_equal(hc_weights_compute(&m, 50, -1, &w), HC_OK);
        /* random snapshots through the predictor itself */
        enum { n = 16 };
        hc_predictor *p;
        assert_int_equal(hc_predictor_alloc(&m, 1, n, 0, &p), HC_OK);
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        float *snaps = malloc((size_t)w->n_snap * n * sizeof *snaps), out[n];
        hc_step_ctx ctx = {0};
        for (int j = 0; j < w->n_snap; j++) {
            for (int e = 0; e < n; e++) snaps[j * n + e] = (float)gsl_ran_gaussian(r, 1.0);
            ctx.step = w->snap_step[j];
            p->type->observe(p->state, &ctx, snaps + j * n);
        }
        for (int x = 1; x <= w->n_h; x++) {
            ctx.step = w->anchor + x;
            p->type->predict(p->state, &ctx, out);
            double wsum = 0;
            for (int j = 0; j < w->n_snap; j++) wsum += w->w[(x - 1) * w->n_snap + j];
            assert_float_equal(wsum, 1.0, 1e-5); /* constants are preserved */
            for (int e = 0; e < n; e++) {
                double v = 0;
                for (int j = 0; j < w->n_snap; j++) v += w->w[(x - 1) * w->n_snap + j] * snaps[j * n + e];
                assert_float_equal(v, out[e], 1e-4 * fmax(1, fabs(out[e])));
            }
        }
        free(snaps);
        gsl_rng_free(r);
        hc_predictor_free(p);
        hc_weights_free(w);
    }
    /* baselines.md §2.6: TaylorSeer O=2 at N=6, x=3 uses (1.625, -0.75, 0.125);
     * Lagrange (1.875, -1.25, 0.375) */
    static const struct { const char *spec; double w[3]; } ref[] = {
        {"taylor:N=6,O=2", {1.625, -0.75, 0.125}},
        {"lagrange:N=6,O=2", {1.875, -1.25, 0.375}},
    };
    for (int i = 0; i < 2; i++) {
        hc_method m = parse(ref[i].spec);
        hc_weights *w;
        assert_int_equal(hc_weights_compute(&m, 50, -1, &w), HC_OK);
        const double *row = w->w + 2 * w->n_snap; /* x = 3 */
        int J = w->n_snap;
        for (int k = 0; k < 3; k++) assert_float_equal(row[J - 1 - k], ref[i].w[k], 1e-6);
        for (int k = 3; k < J; k++) assert_float_equal(row[J - 1 - k], 0, 1e-7);
        hc_weights_free(w);
    }
    hc_method cm = parse("clusca:base=taylor");
    hc_weights *w;
    assert_int_equal(hc_weights_compute(&cm, 50, -1, &w), HC_EINVAL);
}

static void forecast_kernel(void **state)
{
    (void)state;
    enum { n = 1003 };
    float *D[HC_MAX_ORDER + 1], out[n];
    double c[HC_MAX_ORDER + 1];
    for (int k = 0; k <= HC_MAX_ORDER; k++) {
        D[k] = malloc(n * sizeof(float));
        for (int e = 0; e < n; e++) D[k][e] = (float)sin(e * 0.1 + k);
        c[k] = 1.0 / (k + 1);
    }
    for (int p = 0; p <= HC_MAX_ORDER; p++) {
        hc_forecast_apply(out, (const float *const *)D, c, p, n);
        for (int e = 0; e < n; e++) {
            double want = 0;
            for (int k = 0; k <= p; k++) want += c[k] * D[k][e];
            assert_float_equal(out[e], want, 1e-5);
        }
    }
    for (int k = 0; k <= HC_MAX_ORDER; k++) free(D[k]);
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule_tables),
        cmocka_unit_test(spec_parsing),
        cmocka_unit_test(documented_specs),
        cmocka_unit_test(hicache_coefficients),
        cmocka_unit_test(warmup_gap_mixing),
        cmocka_unit_test(exact_on_polynomials),
        cmocka_unit_test(method_equivalences),
        cmocka_unit_test(clusca_gamma0_equals_base),
        cmocka_unit_test(weights_reproduce_predictions),
        cmocka_unit_test(forecast_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
