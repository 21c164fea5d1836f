/* test_halfcache.c: half-size predictor caches (key cache=f32|f16|bf16).
 *   - bytes: every type with HC_PRED_HALF reports exactly half the bytes
 *     with cache=f16 and cache=bf16; the others refuse 16 bits in one line;
 *     a bad value is one line naming the key and the valid values;
 *   - labels and descriptions show a 16-bit cache and stay as they were
 *     for f32; a description parses back to itself;
 *   - the divided-difference cache holds, after every full step, exactly
 *     the entries of an independent scalar simulation of the recursion
 *     (float32 math on the converted entries, results rounded with the
 *     scalar conversions of half.h), and its forecast is sum_k c_k D_k of
 *     those entries to float32 accuracy;
 *   - snapshot predictors (and reuse) with a 16-bit cache give bit for bit
 *     what the float32 cache gives on the rounded features;
 *   - taylor and hicache forecasts with a 16-bit cache are within a bound
 *     derived from the unit roundoff u (2^-11 binary16, 2^-8 bfloat16) of
 *     the float32 ones, and differ from them (the cache really is 16 bits).
 *     Bound, |F| <= M, d and d' the last two full-step spacings: stored
 *     D_0 errs by <= uM, D_1 by <= uM/d + u|D_1| <= 3uM/d, and D_2 =
 *     (D_1cur - D_1prev)/d by <= (uM/d + 3uM/d')/d + u|D_2| <= (3/d + 5/d')uM/d
 *     (|D_1| <= 2M/d, |D_2| <= (2M/d + 2M/d')/d); the forecast by
 *     sum_k |c_k| err_k, plus 2^-20 (M + 1) for float32 rounding and
 *     subnormal halves. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "half.h"
#include "predictor.h"
#include "testutil.h"

static hc_method parse(const char *spec)
{
    hc_method m;
    hc_status st = hc_method_parse(spec, &m);
    if (st != HC_OK) fail_msg("%s: %s", spec, hc_errmsg());
    return m;
}

static size_t bytes_of(const char *spec, size_t T, size_t D)
{
    hc_method m = parse(spec);
    hc_predictor *p;
    assert_int_equal(hc_predictor_alloc(&m, T, D, 0, &p), HC_OK);
    size_t b = p->type->cache_bytes(p->state);
    hc_predictor_free(p);
    return b;
}

static void bytes_halved(void **state)
{
    (void)state;
    int n_half = 0;
    for (const hc_pred_type *const *t = hc_pred_types; *t; t++) {
        char s32[64], s16[64], sb16[64], sf32[64];
        snprintf(s32, sizeof s32, "%s", (*t)->name);
        snprintf(s16, sizeof s16, "%s:cache=f16", (*t)->name);
        snprintf(sb16, sizeof sb16, "%s:cache=bf16", (*t)->name);
        snprintf(sf32, sizeof sf32, "%s:cache=f32", (*t)->name);
        if ((*t)->caps & HC_PRED_NO_CACHE) continue;
        assert_int_equal(bytes_of(sf32, 7, 37), bytes_of(s32, 7, 37));
        if ((*t)->caps & HC_PRED_HALF) {
            size_t b32 = bytes_of(s32, 7, 37), b16 = bytes_of(s16, 7, 37), bb = bytes_of(sb16, 7, 37);
            /* ClusCa: its base's cache halves; its K fresh rows (K = min(16, T)) stay float32 */
            size_t rows = (*t)->caps & HC_PRED_WRAPS_BASE ? 7 * 37 * sizeof(float) : 0;
            if (b32 == 0 || b16 * 2 != b32 + rows || bb * 2 != b32 + rows)
                fail_msg("%s: %zu bytes f32, %zu f16, %zu bf16 (want exactly half)", (*t)->name, b32, b16, bb);
            n_half++;
        } else {
            hc_method m;
            assert_int_equal(hc_method_parse(s16, &m), HC_EINVAL);
            assert_non_null(strstr(hc_errmsg(), "keeps no 16-bit cache"));
            assert_null(strchr(hc_errmsg(), '\n'));
        }
    }
    assert_true(n_half >= 14); /* every type with a cache */
}

static void bad_value(void **state)
{
    (void)state;
    hc_method m;
    assert_int_equal(hc_method_parse("taylor:N=5,cache=f64", &m), HC_EINVAL);
    assert_string_equal(hc_errmsg(), "method 'taylor:N=5,cache=f64': cache=f64 (valid: f32, f16, bf16)");
    assert_int_equal(hc_method_parse("taylor:cache=f16,cache=f16", &m), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "given twice"));
    assert_int_equal(hc_method_parse("full:cache=f16", &m), HC_EINVAL);
}

static void labels_and_descriptions(void **state)
{
    (void)state;
    static const struct { const char *spec, *label, *desc; } k[] = {
        {"taylor:N=7,W=3,O=2", "TaylorSeer (N=7, O=2)", "taylor:N=7,W=3,sched=flux,O=2"},
        {"taylor:N=7,W=3,O=2,cache=f32", "TaylorSeer (N=7, O=2)", "taylor:N=7,W=3,sched=flux,O=2"},
        {"taylor:N=7,W=3,O=2,cache=f16", "TaylorSeer (N=7, O=2, f16 cache)", "taylor:N=7,W=3,sched=flux,O=2,cache=f16"},
        {"hicache:cache=bf16", "HiCache (N=7, O=2, σ=0.5, bf16 cache)", "hicache:N=7,W=3,sched=flux,O=2,sigma=0.5,cache=bf16"},
        {"reuse:cache=f16", "FORA (N=7, f16 cache)", "reuse:N=7,W=3,sched=flux,cache=f16"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        hc_method m = parse(k[i].spec), m2;
        char label[256], desc[256], desc2[256];
        hc_method_label(&m, label, sizeof label);
        hc_method_describe(&m, desc, sizeof desc);
        assert_string_equal(label, k[i].label);
        assert_string_equal(desc, k[i].desc);
        m2 = parse(desc);
        hc_method_describe(&m2, desc2, sizeof desc2);
        assert_string_equal(desc2, desc);
        assert_int_equal(m2.cache, m.cache);
    }
}

/* features: n elements, smooth in the step, |F| <= 1.6 */
static void features(int s, size_t n, float *F)
{
    for (size_t e = 0; e < n; e++) {
        double a = 0.3 + 0.7 * (double)((e * 37) % 101) / 101.0, w = 0.5 + (double)((e * 13) % 17) / 8.0;
        F[e] = (float)(a * sin(w * s / 10.0 + (double)e) + 0.6 * cos((double)e * 0.7));
    }
}

static float round16(hc_cache_dtype t, float x)
{
    return t == HC_CACHE_F16 ? hc_half_to_float(hc_float_to_half(x)) : hc_bf16_to_float(hc_float_to_bf16(x));
}

/* the dcache against a scalar simulation of the rounded recursion */
static void dcache_matches_simulation(void **state)
{
    (void)state;
    enum { S = 50, n = 1000, O = 2 }; /* n: not a multiple of the conversion chunk */
    static float F[n], ref[O + 1][n], got[n], out[n];
    for (hc_cache_dtype t = HC_CACHE_F16; t <= HC_CACHE_BF16; t++) {
        hc_method m = parse(t == HC_CACHE_F16 ? "taylor:N=6,W=3,O=2,cache=f16" : "taylor:N=6,W=3,O=2,cache=bf16");
        hc_dcache *c;
        assert_int_equal(hc_dcache_alloc(&m, n, m.type->coef, &c), HC_OK);
        hc_dcache_reset(c);
        unsigned char full[S];
        hc_schedule_mask(&m.sched, S, full);
        int valid = 0, n_full = 0, last = -1, prev = -1;
        hc_step_ctx ctx = {0};
        for (int s = 0; s < S; s++) {
            ctx.step = s;
            features(s, n, F);
            if (!full[s]) {
                assert_int_equal(hc_dcache_predict(c, &ctx, out), HC_OK);
                int p = valid - 1;
                double cf[HC_MAX_ORDER + 1] = {1.0};
                if (p >= 1) m.type->coef(&m, (double)(s - last), p, cf);
                for (size_t e = 0; e < n; e++) {
                    double want = 0, mag = 0;
                    for (int k = 0; k <= p; k++) {
                        want += cf[k] * ref[k][e];
                        mag += fabs(cf[k] * ref[k][e]);
                    }
                    /* float32 kernel: (p+1) roundings and float coefficients */
                    check_close(out[e], want, 1e-30 + 4.0 * (p + 1) * ldexp(mag, -24), 0, hc_cache_dtype_name(t),
                                "forecast from the simulated cache");
                }
                continue;
            }
            hc_dcache_observe(c, &ctx, F);
            prev = last;
            last = s;
            n_full++;
            int k = n_full < 2 ? 0 : hc_schedule_updates_derivatives(&m.sched, s) ? (O < valid ? O : valid) : 0;
            const float d = (float)(last - prev);
            for (size_t e = 0; e < n; e++) {
                float cur = F[e];
                for (int i = 0; i < k; i++) {
                    float next = (cur - ref[i][e]) / d;
                    ref[i][e] = round16(t, cur);
                    cur = next;
                }
                ref[k][e] = round16(t, cur);
            }
            valid = k + 1;
            assert_int_equal(hc_dcache_valid(c), valid);
            for (int i = 0; i < valid; i++) {
                hc_dcache_load(c, i, 0, n, got);
                if (memcmp(got, ref[i], sizeof got) != 0) fail_msg("%s: D_%d after full step %d differs from the simulation", hc_cache_dtype_name(t), i, s);
            }
        }
        hc_dcache_free(c);
    }
}

static hc_predictor *alloc_spec(const char *spec, hc_method *m, size_t T, size_t D)
{
    *m = parse(spec);
    hc_predictor *p;
    assert_int_equal(hc_predictor_alloc(m, T, D, 0, &p), HC_OK);
    return p;
}

/* snapshot caches: 16 bits on F == float32 on the rounded F, bit for bit */
static void snapshots_exact(void **state)
{
    (void)state;
    enum { S = 40, T = 4, D = 250, n = T * D };
    /* dmd:O=0 (its fallback before the fit is reuse) with m=3 and with groups */
    static const char *const specs[] = {"reuse", "taylor:O=0", "lagrange", "adams", "foca", "spectrum", "dmd:O=0",
                                        "dmd:O=0,r=2,m=3"};
    static float F[n], R[n], o16[n], o32[n];
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        for (hc_cache_dtype t = HC_CACHE_F16; t <= HC_CACHE_BF16; t++) {
            char spec16[64];
            snprintf(spec16, sizeof spec16, "%s%scache=%s", specs[i], strchr(specs[i], ':') ? "," : ":",
                     hc_cache_dtype_name(t));
            hc_method m16, m32;
            hc_predictor *p16 = alloc_spec(spec16, &m16, T, D), *p32 = alloc_spec(specs[i], &m32, T, D);
            unsigned char full[S];
            hc_schedule_mask(&m32.sched, S, full);
            hc_step_ctx ctx = {0};
            int cached = 0;
            for (int s = 0; s < S; s++) {
                ctx.step = s;
                features(s, n, F);
                for (size_t e = 0; e < n; e++) R[e] = round16(t, F[e]);
                if (full[s]) {
                    p16->type->observe(p16->state, &ctx, F);
                    p32->type->observe(p32->state, &ctx, R);
                    continue;
                }
                assert_int_equal(p16->type->predict(p16->state, &ctx, o16), HC_OK);
                assert_int_equal(p32->type->predict(p32->state, &ctx, o32), HC_OK);
                if (memcmp(o16, o32, sizeof o16) != 0) fail_msg("%s: step %d differs from f32 on rounded features", spec16, s);
                cached++;
            }
            assert_true(cached > 20);
            hc_predictor_free(p16);
            hc_predictor_free(p32);
        }
}

/* taylor and hicache, 16 bits vs float32: within the bound of the header */
static void close_to_f32(void **state)
{
    (void)state;
    enum { S = 50, T = 4, D = 250, n = T * D };
    static const char *const specs[] = {"taylor:N=7,W=3,O=2", "hicache:N=7,W=3,O=2,sigma=0.5", "taylor:N=4,W=3,O=2"};
    static float F[n], o16[n], o32[n];
    double M = 0;
    for (int s = 0; s < S; s++) {
        features(s, n, F);
        for (size_t e = 0; e < n; e++) M = fmax(M, fabs(F[e]));
    }
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        for (hc_cache_dtype t = HC_CACHE_F16; t <= HC_CACHE_BF16; t++) {
            const double u = t == HC_CACHE_F16 ? ldexp(1, -11) : ldexp(1, -8);
            char spec16[80];
            snprintf(spec16, sizeof spec16, "%s,cache=%s", specs[i], hc_cache_dtype_name(t));
            hc_method m16, m32;
            hc_predictor *p16 = alloc_spec(spec16, &m16, T, D), *p32 = alloc_spec(specs[i], &m32, T, D);
            unsigned char full[S];
            hc_schedule_mask(&m32.sched, S, full);
            hc_step_ctx ctx = {0};
            int last = -1, prev = -1, prev2 = -1;
            double worst = 0, maxerr = 0;
            for (int s = 0; s < S; s++) {
                ctx.step = s;
                features(s, n, F);
                if (full[s]) {
                    p16->type->observe(p16->state, &ctx, F);
                    p32->type->observe(p32->state, &ctx, F);
                    prev2 = prev;
                    prev = last;
                    last = s;
                    continue;
                }
                assert_int_equal(p16->type->predict(p16->state, &ctx, o16), HC_OK);
                assert_int_equal(p32->type->predict(p32->state, &ctx, o32), HC_OK);
                double c[3] = {1, 0, 0};
                m32.type->coef(&m32, (double)(s - last), 2, c);
                double d = prev >= 0 ? last - prev : 1, d2 = prev2 >= 0 ? prev - prev2 : d;
                double csum = fabs(c[0]) + fabs(c[1]) + fabs(c[2]);
                double tol = fabs(c[0]) * u * M + fabs(c[1]) * 3 * u * M / d + fabs(c[2]) * (3 / d + 5 / d2) * u * M / d +
                             ldexp(M + 1, -20) * (1 + csum);
                for (size_t e = 0; e < n; e++) {
                    double err = fabs((double)o16[e] - o32[e]);
                    maxerr = fmax(maxerr, err);
                    worst = fmax(worst, err / tol);
                }
            }
            printf("%s: max |f16 - f32| %.3g, at most %.3f of the bound\n", spec16, maxerr, worst);
            if (!(worst <= 1.0)) fail_msg("%s: error %.3f times the rounding bound", spec16, worst);
            assert_true(maxerr > 0); /* the cache is really 16 bits */
            hc_predictor_free(p16);
            hc_predictor_free(p32);
        }
}

/* ClusCa's fresh-token callback: rows of the current features, rounded
 * to the 16-bit type when `round` (the f32 side of an exact comparison) */
typedef struct fresh_ud {
    const float *F;
    size_t D;
    int round;
    hc_cache_dtype t;
} fresh_ud;

static hc_status fresh_rows(void *ud, const int *tok, int n, float *rows)
{
    const fresh_ud *f = ud;
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < f->D; j++) {
            float v = f->F[(size_t)tok[i] * f->D + j];
            rows[(size_t)i * f->D + j] = f->round ? round16(f->t, v) : v;
        }
    return HC_OK;
}

/* ClusCa over reuse, 16 bits on F vs float32 on the rounded F (and rounded
 * fresh rows): gamma = 0 only copies rows, so bit for bit; gamma = 0.5 rounds
 * each blend, which persists until the next full step: within N u M. */
static void clusca_half(void **state)
{
    (void)state;
    enum { S = 40, T = 8, D = 250, n = T * D, N = 7 };
    static float F[n], R[n], o16[n], o32[n];
    int lab[T];
    for (int t = 0; t < T; t++) lab[t] = t % 4;
    static const char *const specs[] = {"clusca:base=reuse,K=4,gamma=0", "clusca:base=reuse,K=4,gamma=0.5"};
    for (size_t i = 0; i < 2; i++)
        for (hc_cache_dtype t = HC_CACHE_F16; t <= HC_CACHE_BF16; t++) {
            const double u = t == HC_CACHE_F16 ? ldexp(1, -11) : ldexp(1, -8);
            char spec16[80];
            snprintf(spec16, sizeof spec16, "%s,cache=%s", specs[i], hc_cache_dtype_name(t));
            hc_method m16, m32;
            hc_predictor *p16 = alloc_spec(spec16, &m16, T, D), *p32 = alloc_spec(specs[i], &m32, T, D);
            unsigned char full[S];
            hc_schedule_mask(&m32.sched, S, full);
            fresh_ud u16 = {F, D, 0, t}, u32 = {F, D, 1, t};
            hc_step_ctx c16 = {.labels = lab, .n_clusters = 4, .fresh = fresh_rows, .fresh_ud = &u16, .fresh_ok = 1};
            hc_step_ctx c32 = c16;
            c32.fresh_ud = &u32;
            double worst = 0, M = 0;
            for (int s = 0; s < S; s++) {
                c16.step = c32.step = s;
                features(s, n, F);
                for (size_t e = 0; e < n; e++) {
                    R[e] = round16(t, F[e]);
                    M = fmax(M, fabs(F[e]));
                }
                if (full[s]) {
                    p16->type->observe(p16->state, &c16, F);
                    p32->type->observe(p32->state, &c32, R);
                    continue;
                }
                assert_int_equal(p16->type->predict(p16->state, &c16, o16), HC_OK);
                assert_int_equal(p32->type->predict(p32->state, &c32, o32), HC_OK);
                for (size_t e = 0; e < n; e++) worst = fmax(worst, fabs((double)o16[e] - o32[e]));
            }
            if (i == 0 && worst != 0) fail_msg("%s: differs from f32 on rounded features (%.3g)", spec16, worst);
            if (i == 1 && !(worst <= N * u * M && worst > 0)) fail_msg("%s: max diff %.3g (bound %.3g)", spec16, worst, N * u * M);
            hc_predictor_free(p16);
            hc_predictor_free(p32);
        }
}

int main(void)
{
    hc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_halved),
        cmocka_unit_test(bad_value),
        cmocka_unit_test(labels_and_descriptions),
        cmocka_unit_test(dcache_matches_simulation),
        cmocka_unit_test(snapshots_exact),
        cmocka_unit_test(close_to_f32),
        cmocka_unit_test(clusca_half),
    };
    return HC_RUN_TESTS(tests, NULL, NULL);
}
